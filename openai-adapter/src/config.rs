//! The adapter's serde config: the cache policy plus the HTTP settings.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tenure::CacheConfig;

use crate::Error;
use crate::identity::{Endpoint, OPENAI_BASE_URL};
use crate::redact::redact_userinfo;

/// How the adapter caches clients and talks HTTP. Reads from TOML, JSON or any
/// serde format; every field has a default, unknown fields are rejected.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `base_url` | `https://api.openai.com/v1` | where clients made by key alone send requests (a trailing `/` is dropped) |
/// | `organization`, `project` | none | headers sent by clients made by key alone |
/// | `connect_timeout` | `10s` | TCP + TLS connect timeout of the shared HTTP client ([humantime](https://docs.rs/humantime) text) |
/// | `request_timeout` | `10m` | whole-request timeout (including a streamed body) |
/// | `[cache]` | hybrid, `max_capacity = 10000`, `time_to_idle = "1h"`, `sweep_interval = "5m"` | a [`tenure::CacheConfig`] (old names `capacity`, `ttl`, `max_lifetime` are read too) |
///
/// Nothing here is read from `OPENAI_*` environment variables; to honour
/// `OPENAI_BASE_URL`, read it yourself and set `base_url`. `Debug` shows
/// credentials in `base_url` (`https://user:password@host`) as `***@`.
///
/// ```
/// use tenure_openai::OpenAiConfig;
///
/// let config: OpenAiConfig = toml::from_str(r#"
///     base_url = "https://gateway.internal/v1/"
///     request_timeout = "2m"
///
///     [cache]
///     policy = "hybrid"
///     max_capacity = 5000
///     time_to_idle = "1h"
///     time_to_live = "12h"
///     sweep_interval = "5m"
/// "#)?;
/// config.validate()?;
/// assert_eq!(config.cache.max_capacity, Some(5000));
///
/// let json: OpenAiConfig = serde_json::from_str(r#"{"connect_timeout": "3s"}"#)?;
/// assert_eq!(json.cache, tenure::CacheConfig::default());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// Base URL of clients made from a key alone.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Organisation of clients made from a key alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Project of clients made from a key alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Connect timeout of the shared HTTP client.
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Whole-request timeout of the shared HTTP client.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// The cache policy and sweeper interval.
    #[serde(default)]
    pub cache: CacheConfig,
}

fn default_base_url() -> String {
    OPENAI_BASE_URL.to_string()
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}

// Long completions from reasoning models take minutes; ten matches OpenAI's own SDKs.
fn default_request_timeout() -> Duration {
    Duration::from_secs(600)
}

impl Default for OpenAiConfig {
    /// The defaults in the table above: the original fix's 1 h sliding TTL, bounded
    /// at 10,000 clients, swept every 5 minutes.
    fn default() -> Self {
        OpenAiConfig {
            base_url: default_base_url(),
            organization: None,
            project: None,
            connect_timeout: default_connect_timeout(),
            request_timeout: default_request_timeout(),
            cache: CacheConfig::default(),
        }
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &redact_userinfo(&self.base_url))
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("cache", &self.cache)
            .finish()
    }
}

impl OpenAiConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// The first invalid field, by name.
    pub fn validate(&self) -> Result<(), Error> {
        self.endpoint()?;
        self.timeouts()?;
        self.cache.to_policy()?;
        Ok(())
    }

    pub(crate) fn endpoint(&self) -> Result<Endpoint, Error> {
        Endpoint::new(
            &self.base_url,
            self.organization.as_deref(),
            self.project.as_deref(),
        )
    }

    /// `(connect, request)` timeouts, both non-zero.
    pub(crate) fn timeouts(&self) -> Result<(Duration, Duration), Error> {
        let nonzero = |field, d: Duration| match d.is_zero() {
            true => Err(Error::ZeroTimeout { field }),
            false => Ok(d),
        };
        Ok((
            nonzero("connect_timeout", self.connect_timeout)?,
            nonzero("request_timeout", self.request_timeout)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_fields_are_named() {
        let err = |toml_src: &str| {
            let config: OpenAiConfig = toml::from_str(toml_src).unwrap();
            config.validate().unwrap_err().to_string()
        };
        assert_eq!(
            err("connect_timeout = \"0s\""),
            "`connect_timeout` must be greater than zero"
        );
        assert!(err("base_url = \"ftp://x\"").starts_with("`base_url`"));
        assert!(err("organization = \"a\\nb\"").starts_with("`organization`"));
        assert_eq!(
            err("[cache]\npolicy = \"hybrid\"\ntime_to_idle = \"1h\"\nmax_capacity = 0"),
            "`cache`: `max_capacity` must be at least 1"
        );
        let zero_sweep: OpenAiConfig =
            toml::from_str("[cache]\npolicy = \"lru\"\nmax_capacity = 5\nsweep_interval = \"0s\"")
                .unwrap();
        let built = crate::OpenAiClients::new(&zero_sweep).unwrap_err();
        assert_eq!(
            built.to_string(),
            "`cache`: `sweep_interval` must be at least 1ms"
        );
        let unknown = toml::from_str::<OpenAiConfig>("api_key = \"sk\"").unwrap_err();
        assert!(unknown.to_string().contains("api_key"), "{unknown}");
    }

    #[test]
    fn default_round_trips_through_toml_and_json() {
        let config = OpenAiConfig::default();
        config.validate().unwrap();
        let toml_text = toml::to_string(&config).unwrap();
        assert_eq!(toml::from_str::<OpenAiConfig>(&toml_text).unwrap(), config);
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<OpenAiConfig>(&json).unwrap(), config);
    }
}
