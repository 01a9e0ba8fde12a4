//! Memory estimates for cached OpenAI clients, from the project's measurements.
//!
//! Measured for the adapter (see the design brief, "The OpenAI adapter"):
//! `async_openai::Client::with_config` builds a private `reqwest::Client` per
//! client (its own CA bundle and connection pool), about 104 KB each; built with
//! `Client::build` over one shared `reqwest::Client`, a client is about 66 B and
//! all of them share one HTTP stack.

/// Heap bytes of one client with a private HTTP stack (~104 KB, measured).
pub const PRIVATE_CLIENT_BYTES: u64 = 104_000;
/// Heap bytes of one client over a shared HTTP client (~66 B, measured).
pub const SHARED_CLIENT_BYTES: u64 = 66;
/// The one shared HTTP stack, counted once (taken as one private stack's size).
pub const SHARED_HTTP_STACK_BYTES: u64 = PRIVATE_CLIENT_BYTES;

/// Estimated bytes for `clients` clients with a private HTTP stack each.
///
/// ```
/// assert_eq!(tenure_sim::private_stack_bytes(10), 1_040_000);
/// ```
pub fn private_stack_bytes(clients: usize) -> u64 {
    clients as u64 * PRIVATE_CLIENT_BYTES
}

/// Estimated bytes for `clients` clients sharing one HTTP client.
///
/// ```
/// assert_eq!(tenure_sim::shared_stack_bytes(1_000), 104_000 + 66_000);
/// ```
pub fn shared_stack_bytes(clients: usize) -> u64 {
    SHARED_HTTP_STACK_BYTES + clients as u64 * SHARED_CLIENT_BYTES
}
