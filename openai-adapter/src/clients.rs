//! `OpenAiClients`: a bounded cache of async-openai clients over one HTTP pool.

use std::convert::Infallible;
use std::fmt;
use std::hash::RandomState;
use std::sync::Arc;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use tenure::policy::{AnyPolicy, Timestamp};
use tenure::{Cache, CacheBuilder, CacheStats, Clock, RemovalCause, Sweeper};

use crate::identity::{Endpoint, IdentityView, KeyOnEndpoint};
use crate::redact::redact_userinfo;
use crate::{ClientIdentity, Error, KeyFingerprint, OpenAiConfig};

/// An async-openai client for the OpenAI API (or a compatible one).
pub type OpenAiClient = Client<OpenAIConfig>;

/// A cache of OpenAI clients keyed by [`ClientIdentity`], as a value: for
/// dependency injection and tests. [`get_or_create_openai_client`](crate::get_or_create_openai_client)
/// is one of these, process-wide.
///
/// - Clients are made on first use of an identity, one creation however many
///   tasks ask at once, and dropped by the configured policy (by default: unused
///   for an hour, or least recently used beyond 10,000).
/// - Every client is built with `Client::build` over **one** shared
///   `reqwest::Client` (with the configured timeouts), so a new client costs
///   about a microsecond and all of them share one connection pool.
/// - A sweeper on a std thread reclaims idle clients (if the config has a
///   `sweep_interval`); it stops when the last handle is dropped and never keeps
///   the process alive.
/// - Identities are compared on all four parts, the key in full, and hashed on
///   all four with std's [`RandomState`] (SipHash-1-3, randomly keyed) rather
///   than tenure's faster default: identities come from callers, and a keyed
///   hasher keeps them from choosing ones that collide. Its cost per hit is
///   lost in the noise beside the client clone a hit returns (measured in
///   `docs/benchmarks.md`).
///
/// `OpenAiClients` is a cheap handle: clones share one cache.
///
/// ```
/// use async_openai::config::Config as _; // for `api_base()`
/// use tenure_openai::{ClientIdentity, OpenAiClients, OpenAiConfig};
///
/// let clients = OpenAiClients::new(&OpenAiConfig::default())?;
/// let a = clients.get("sk-tenant-a")?;
/// let again = clients.get("sk-tenant-a")?; // cached
/// let eu = clients.get_with_identity(
///     &ClientIdentity::new("sk-tenant-a")?.with_base_url("https://eu.example.com/v1")?,
/// );
/// assert_eq!(clients.stats().creations, 2);
/// assert_eq!(eu.config().api_base(), "https://eu.example.com/v1");
/// # drop((a, again));
/// # Ok::<(), tenure_openai::Error>(())
/// ```
#[derive(Clone)]
pub struct OpenAiClients {
    shared: Arc<Shared>,
}

struct Shared {
    /// Values are shared so a hit copies a pointer, not the client, out of the
    /// table; the caller's own clone is made after the table lock is released.
    cache: Cache<ClientIdentity, Arc<OpenAiClient>, AnyPolicy, RandomState>,
    http: reqwest::Client,
    /// Where clients made from a key alone point.
    endpoint: Endpoint,
    _sweeper: Option<Sweeper>,
}

/// What an eviction listener set with [`OpenAiClientsBuilder::eviction_listener`] is told.
/// It carries no key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientRemoval {
    /// Stands in for the removed client's key.
    pub fingerprint: KeyFingerprint,
    /// The removed client's base URL, with any credentials in it (`user:password@`)
    /// shown as `***@`.
    pub base_url: String,
    /// Why it left the cache.
    pub cause: RemovalCause,
}

type RemovalHook = Arc<dyn Fn(&ClientRemoval) + Send + Sync>;

/// Sets up an [`OpenAiClients`]: a clock for tests, an HTTP client of your own,
/// an eviction listener.
///
/// ```
/// use std::time::Duration;
/// use tenure::ManualClock;
/// use tenure_openai::{OpenAiClients, OpenAiConfig};
///
/// let clock = ManualClock::new();
/// let clients = OpenAiClients::builder(OpenAiConfig::default())
///     .clock(clock.clone())
///     .eviction_listener(|removal| println!("{} left: {:?}", removal.fingerprint, removal.cause))
///     .build()?;
/// let first = clients.get("sk-1")?;
/// clock.advance(Duration::from_secs(3600)); // an idle hour: the TTL
/// let second = clients.get("sk-1")?;
/// assert_eq!(clients.stats().creations, 2);
/// # drop((first, second));
/// # Ok::<(), tenure_openai::Error>(())
/// ```
#[must_use]
pub struct OpenAiClientsBuilder {
    config: OpenAiConfig,
    clock: Option<Arc<dyn Clock>>,
    http: Option<reqwest::Client>,
    eviction_listener: Option<RemovalHook>,
    #[cfg(feature = "metrics")]
    metrics_name: Option<String>,
}

impl fmt::Debug for OpenAiClientsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClientsBuilder")
            .field("config", &self.config)
            .field("custom_clock", &self.clock.is_some())
            .field("custom_http_client", &self.http.is_some())
            .finish_non_exhaustive()
    }
}

impl OpenAiClientsBuilder {
    /// Reads time from `clock` (e.g. a [`tenure::ManualClock`] in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Shares `http` instead of building an HTTP client from the config's timeouts
    /// (which are then not applied).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Calls `listener` whenever a client leaves the cache (for any
    /// [`RemovalCause`]), with no lock held. It is told the client's
    /// fingerprint, never its key.
    pub fn eviction_listener(
        mut self,
        listener: impl Fn(&ClientRemoval) + Send + Sync + 'static,
    ) -> Self {
        self.eviction_listener = Some(Arc::new(listener));
        self
    }

    /// Publishes the cache's stats under `name` instead of
    /// [`OpenAiClients::METRICS_NAME`]: for a program with more than one
    /// [`OpenAiClients`]. See [`tenure::CacheBuilder::metrics_name`] for the
    /// metrics and when they are published (each sweep, each
    /// [`run_maintenance`](OpenAiClients::run_maintenance)).
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics_name(mut self, name: impl Into<String>) -> Self {
        self.metrics_name = Some(name.into());
        self
    }

    /// Checks the config, builds the shared HTTP client and the cache, and starts
    /// the sweeper if the config has a `sweep_interval`.
    ///
    /// # Errors
    /// The first invalid config field, or an HTTP client that could not be built.
    pub fn build(self) -> Result<OpenAiClients, Error> {
        let config = self.config;
        let endpoint = config.endpoint()?;
        let (connect_timeout, request_timeout) = config.timeouts()?;
        config.cache.to_policy()?; // before `sweep_interval` is taken out: it checks that too
        // The sweeper is started below on a std thread whatever tenure's features
        // are, so the builder must not start one of its own.
        let mut cache_config = config.cache.clone();
        let sweep_interval = cache_config.sweep_interval.take();
        let hook = self.eviction_listener;
        let listener = move |identity: ClientIdentity, _client, cause| {
            let removal = ClientRemoval {
                fingerprint: identity.fingerprint(),
                base_url: redact_userinfo(identity.base_url()).into_owned(),
                cause,
            };
            tracing::debug!(key = %removal.fingerprint, base_url = %removal.base_url, ?cause, "OpenAI client left the cache");
            if let Some(hook) = &hook {
                hook(&removal);
            }
            // `identity` drops here: its key buffer is zeroised. The client's
            // own copy (a `secrecy::SecretString`) zeroises as the last clone drops.
        };
        let mut builder = CacheBuilder::from_config(&cache_config)?
            // Identities come from callers: a keyed hasher, so none can pick keys that collide.
            .hasher(RandomState::new())
            .eviction_listener(listener);
        #[cfg(feature = "metrics")]
        {
            let name = self.metrics_name;
            builder = builder.metrics_name(name.as_deref().unwrap_or(OpenAiClients::METRICS_NAME));
        }
        if let Some(clock) = self.clock {
            builder = builder.clock(SharedClock(clock));
        }
        let cache = builder.build()?;
        let http = match self.http {
            Some(http) => http,
            None => crate::http::shared_http_client(connect_timeout, request_timeout)?,
        };
        // `to_policy` above checked the interval, and a thread needs no runtime.
        let sweeper = sweep_interval
            .map(|interval| cache.start_sweeper(interval))
            .transpose()
            .expect("a checked interval starts a thread sweeper");
        Ok(OpenAiClients {
            shared: Arc::new(Shared {
                cache,
                http,
                endpoint,
                _sweeper: sweeper,
            }),
        })
    }
}

impl OpenAiClients {
    /// The name the cache's stats are published under with the `metrics`
    /// feature, unless [`OpenAiClientsBuilder::metrics_name`] gives another.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub const METRICS_NAME: &str = "openai_clients";

    /// A cache as `config` describes it.
    ///
    /// # Errors
    /// The first invalid config field, or an HTTP client that could not be built.
    pub fn new(config: &OpenAiConfig) -> Result<Self, Error> {
        Self::builder(config.clone()).build()
    }

    /// An [`OpenAiClientsBuilder`] starting from `config`.
    pub fn builder(config: OpenAiConfig) -> OpenAiClientsBuilder {
        OpenAiClientsBuilder {
            config,
            clock: None,
            http: None,
            eviction_listener: None,
            #[cfg(feature = "metrics")]
            metrics_name: None,
        }
    }

    /// The client for `api_key` on the configured base URL, organisation and
    /// project, made if there is none.
    ///
    /// A hit allocates nothing but the returned client's clone.
    ///
    /// # Errors
    /// [`Error::InvalidApiKey`] if the key cannot be sent as an HTTP header value.
    pub fn get(&self, api_key: &str) -> Result<OpenAiClient, Error> {
        let shared = &*self.shared;
        let lookup = KeyOnEndpoint {
            api_key,
            endpoint: &shared.endpoint,
        };
        // The owned identity (and the key check) is made only on a miss.
        let client = shared.cache.try_get_or_create_ref(
            &lookup as &dyn IdentityView,
            |_| ClientIdentity::with_endpoint(api_key.to_string(), shared.endpoint.clone()),
            |identity| Ok(Arc::new(shared.make_client(identity))),
        )?;
        Ok(OpenAiClient::clone(&client))
    }

    /// The client for a whole identity, made if there is none. Nothing of the
    /// configured base URL, organisation or project applies: the identity says it all.
    pub fn get_with_identity(&self, identity: &ClientIdentity) -> OpenAiClient {
        let shared = &*self.shared;
        let client = shared.cache.try_get_or_create_ref(
            identity,
            |identity| Ok::<_, Infallible>(identity.clone()),
            |identity| Ok(Arc::new(shared.make_client(identity))),
        );
        match client {
            Ok(client) => OpenAiClient::clone(&client),
            Err(never) => match never {},
        }
    }

    /// Removes every client using `api_key` (on any endpoint), e.g. after the key
    /// was revoked; returns how many. The next use makes a fresh client.
    pub fn remove_key(&self, api_key: &str) -> usize {
        self.shared
            .cache
            .invalidate_if(|identity, _| identity.api_key() == api_key)
    }

    /// Live clients held (expired ones count until reclaimed; they are never returned).
    pub fn len(&self) -> usize {
        self.shared.cache.len()
    }

    /// Whether [`len`](Self::len) is zero.
    pub fn is_empty(&self) -> bool {
        self.shared.cache.is_empty()
    }

    /// The cache's counters: `creations` is how many clients were made. Contains
    /// no key material.
    pub fn stats(&self) -> CacheStats {
        self.shared.cache.stats()
    }

    /// Reclaims idle clients now (the sweeper does this on its interval).
    pub fn run_maintenance(&self) {
        self.shared.cache.run_maintenance();
    }

    /// Drops every cached client.
    pub fn clear(&self) {
        self.shared.cache.clear();
    }

    /// The HTTP client every cached client shares.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.shared.http
    }
}

impl Shared {
    fn make_client(&self, identity: &ClientIdentity) -> OpenAiClient {
        let endpoint = identity.endpoint();
        // `OpenAIConfig::new()` reads the `OPENAI_*` variables; all four parts are
        // overwritten here, so none of them can leak into this identity.
        let config = OpenAIConfig::new()
            .with_api_key(identity.api_key())
            .with_api_base(&endpoint.base_url)
            .with_org_id(&endpoint.organization)
            .with_project_id(&endpoint.project);
        tracing::debug!(key = %identity.fingerprint(), base_url = %redact_userinfo(&endpoint.base_url), "creating OpenAI client");
        Client::build(self.http.clone(), config)
    }
}

/// Lets the builder keep a clock before it knows the cache's type.
struct SharedClock(Arc<dyn Clock>);

impl Clock for SharedClock {
    fn now(&self) -> Timestamp {
        self.0.now()
    }
}

impl fmt::Debug for OpenAiClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClients")
            .field("len", &self.len())
            .field("base_url", &redact_userinfo(&self.shared.endpoint.base_url))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::hash::RandomState;

    use tenure::policy::AnyPolicy;

    use super::*;

    /// Identities come from callers, so the table must not let them choose
    /// colliding keys: the type is spelled out here so that a change of hasher
    /// fails to compile. The process-wide cache is an `OpenAiClients` too.
    #[test]
    fn clients_are_hashed_with_a_keyed_hasher() {
        let clients = OpenAiClients::new(&OpenAiConfig::default()).unwrap();
        let _: &Cache<ClientIdentity, Arc<OpenAiClient>, AnyPolicy, RandomState> =
            &clients.shared.cache;
        let _: fn() -> Result<&'static OpenAiClients, Error> = crate::process_clients;
    }
}
