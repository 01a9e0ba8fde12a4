//! The one error type of the adapter. No variant ever holds key material.

use tenure::ConfigError;

/// Why a client, a config or the process-wide cache could not be set up.
///
/// Messages name the offending field and never contain the API key (nor the
/// base URL, which may carry credentials of its own).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API key cannot be sent as an HTTP header value; async-openai would
    /// panic on it at request time.
    #[error(
        "the API key is not a valid HTTP header value: byte {position} is a control \
         character (only tab and bytes 0x20..=0x7E or 0x80..=0xFF are allowed; the key is not shown)"
    )]
    InvalidApiKey {
        /// Zero-based index of the first byte that is not allowed.
        position: usize,
    },
    /// `organization` or `project` cannot be sent as an HTTP header value.
    #[error("`{field}` is not a valid HTTP header value: byte {position} is a control character")]
    InvalidHeader {
        /// `organization` or `project`.
        field: &'static str,
        /// Zero-based index of the first byte that is not allowed.
        position: usize,
    },
    /// `base_url` is not an absolute `http` or `https` URL without query or fragment.
    #[error("`base_url` {reason}")]
    InvalidBaseUrl {
        /// What is wrong with it (the URL itself is not shown).
        reason: String,
    },
    /// A timeout was zero.
    #[error("`{field}` must be greater than zero")]
    ZeroTimeout {
        /// `connect_timeout` or `request_timeout`.
        field: &'static str,
    },
    /// The `[cache]` section is invalid.
    #[error("`cache`: {0}")]
    Cache(#[from] ConfigError),
    /// The shared HTTP client (or its TLS setup) could not be built.
    #[error("the shared HTTP client could not be built: {reason}")]
    HttpClient {
        /// The HTTP or TLS library's reason.
        reason: String,
    },
    /// [`configure`](crate::configure) was called a second time.
    #[error(
        "the process-wide OpenAI client cache is already configured; `configure` may be called once"
    )]
    AlreadyConfigured,
    /// [`configure`](crate::configure) was called after the process-wide cache was
    /// first used, so it already runs with the default config.
    #[error(
        "the process-wide OpenAI client cache is already in use with the default config; \
         call `configure` before the first `get_or_create_openai_client`"
    )]
    AlreadyInUse,
}
