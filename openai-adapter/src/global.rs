//! The process-wide cache behind `get_or_create_openai_client`.

use std::sync::{Mutex, OnceLock, PoisonError};

use crate::{Error, OpenAiClient, OpenAiClients, OpenAiConfig};

static PROCESS_CLIENTS: OnceLock<OpenAiClients> = OnceLock::new();
/// Serialises `configure` calls and remembers whether one succeeded.
static CONFIGURED: Mutex<bool> = Mutex::new(false);

/// The drop-in replacement for the leaking `getOrCreateOpenAIClient(apiKey)`:
/// the client for `api_key`, made on first use and cached process-wide.
///
/// The cache is [`OpenAiClients`] with [`OpenAiConfig::default`] (unless
/// [`configure`]d first): hybrid policy, a client unused for **1 hour** is dropped
/// (sliding TTL), at most **10,000** clients (least recently used go first), idle
/// clients swept every 5 minutes by a std thread started on first use, which never
/// keeps the process alive. All clients share one HTTP connection pool. Clients
/// point at `https://api.openai.com/v1` with no organisation or project: no
/// `OPENAI_*` environment variable is read.
///
/// # Panics
/// At once, never later, if `api_key` contains a byte that cannot go in an HTTP
/// header (a control character such as `\n`; async-openai would otherwise panic
/// on every request), or if the shared HTTP client cannot be built. The message
/// does not contain the key. Use [`try_get_or_create_openai_client`] to get an
/// [`Error`] instead.
///
/// ```no_run
/// use async_openai::types::chat::CreateChatCompletionRequestArgs;
/// use tenure_openai::get_or_create_openai_client;
///
/// # async fn handle(tenant_key: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let client = get_or_create_openai_client(tenant_key);
/// let request = CreateChatCompletionRequestArgs::default()
///     .model("gpt-4o-mini")
///     .messages([async_openai::types::chat::ChatCompletionRequestUserMessage::from("hi").into()])
///     .build()?;
/// let response = client.chat().create(request).await?;
/// # drop(response);
/// # Ok(())
/// # }
/// ```
pub fn get_or_create_openai_client(api_key: &str) -> OpenAiClient {
    match try_get_or_create_openai_client(api_key) {
        Ok(client) => client,
        Err(error) => panic!("tenure-openai: {error}"),
    }
}

/// [`get_or_create_openai_client`] that returns an [`Error`] instead of panicking.
///
/// ```
/// let err = tenure_openai::try_get_or_create_openai_client("sk-bad\nkey").unwrap_err();
/// assert_eq!(err, tenure_openai::Error::InvalidApiKey { position: 6 });
/// ```
///
/// # Errors
/// [`Error::InvalidApiKey`] for a key that cannot be an HTTP header value;
/// [`Error::HttpClient`] if, on first use, the shared HTTP client cannot be built.
pub fn try_get_or_create_openai_client(api_key: &str) -> Result<OpenAiClient, Error> {
    process_clients()?.get(api_key)
}

/// Sets the process-wide cache's config. Call it once, at start-up, before the
/// first [`get_or_create_openai_client`].
///
/// ```
/// let config: tenure_openai::OpenAiConfig = toml::from_str(r#"
///     [cache]
///     policy = "hybrid"
///     time_to_idle = "30m"
///     max_capacity = 2000
///     time_to_live = "24h"  # rotate even constantly used clients daily
///     sweep_interval = "1m"
/// "#)?;
/// tenure_openai::configure(&config)?;
/// assert_eq!(tenure_openai::configure(&config), Err(tenure_openai::Error::AlreadyConfigured));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// An invalid config field; [`Error::AlreadyConfigured`] on a second call;
/// [`Error::AlreadyInUse`] once the cache was used with the default config. A
/// config is never silently ignored.
pub fn configure(config: &OpenAiConfig) -> Result<(), Error> {
    let mut configured = CONFIGURED.lock().unwrap_or_else(PoisonError::into_inner);
    if *configured {
        return Err(Error::AlreadyConfigured);
    }
    if PROCESS_CLIENTS.get().is_some() {
        return Err(Error::AlreadyInUse);
    }
    let clients = OpenAiClients::new(config)?;
    // A first use may have raced past the check above.
    PROCESS_CLIENTS
        .set(clients)
        .map_err(|_| Error::AlreadyInUse)?;
    *configured = true;
    Ok(())
}

/// The process-wide cache, for its [`stats`](OpenAiClients::stats) or to
/// [`remove_key`](OpenAiClients::remove_key). Counts as first use: a later
/// [`configure`] fails.
///
/// # Errors
/// [`Error::HttpClient`] if, on first use, the shared HTTP client cannot be built.
pub fn process_clients() -> Result<&'static OpenAiClients, Error> {
    if let Some(clients) = PROCESS_CLIENTS.get() {
        return Ok(clients);
    }
    let built = OpenAiClients::new(&OpenAiConfig::default())?;
    // If another thread won the race, `built` (and its sweeper) is dropped.
    Ok(PROCESS_CLIENTS.get_or_init(|| built))
}
