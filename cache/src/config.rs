//! One serde type that picks the policy and its numbers.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::policy::{
    AnyPolicy, Expiry, Hybrid, LruBound, PolicyError, S3Fifo, Sieve, SlidingTtl, Timed, TinyLfu,
};
use crate::sweeper::{SweepIntervalError, check_interval};

/// Which built-in policy a [`CacheConfig`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// [`SlidingTtl`]: needs `time_to_idle`, `time_to_live` or both.
    SlidingTtl,
    /// [`LruBound`]: needs `max_capacity`.
    #[serde(alias = "lru-bound")]
    Lru,
    /// [`Hybrid`]: needs `max_capacity`, and `time_to_idle`, `time_to_live` or both.
    Hybrid,
    /// [`S3Fifo`]: needs `max_capacity`; `time_to_idle` and `time_to_live` optional.
    #[serde(rename = "s3fifo")]
    S3Fifo,
    /// [`Sieve`]: needs `max_capacity`; `time_to_idle` and `time_to_live` optional.
    Sieve,
    /// [`TinyLfu`]: needs `capacity`; `ttl` and `max_lifetime` optional.
    #[serde(rename = "tinylfu")]
    TinyLfu,
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyKind::SlidingTtl => "sliding-ttl",
            PolicyKind::Lru => "lru",
            PolicyKind::Hybrid => "hybrid",
            PolicyKind::S3Fifo => "s3fifo",
            PolicyKind::Sieve => "sieve",
            PolicyKind::TinyLfu => "tinylfu",
        })
    }
}

/// A cache's configuration, as read from TOML, JSON or any serde format.
///
/// The fields carry the builder's names
/// ([`max_capacity`](crate::CacheBuilder::max_capacity),
/// [`time_to_idle`](crate::CacheBuilder::time_to_idle),
/// [`time_to_live`](crate::CacheBuilder::time_to_live)); the older names `capacity`,
/// `ttl` and `max_lifetime` are read as aliases, and serializing writes the new
/// names. Durations are [`humantime`] strings (`"1h"`, `"90s"`, `"1h 30m"`) or
/// whole seconds. Unknown fields are rejected. [`CacheConfig::to_policy`]
/// checks the numbers and says which field is wrong.
///
/// TOML:
/// ```
/// # use tenure::{CacheConfig, PolicyKind};
/// let config: CacheConfig = toml::from_str(r#"
///     policy = "hybrid"
///     max_capacity = 10000
///     time_to_idle = "1h"
///     time_to_live = "24h"
///     sweep_interval = "5m"
/// "#)?;
/// assert_eq!(config.policy, PolicyKind::Hybrid);
/// config.to_policy()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// JSON:
/// ```
/// # use tenure::CacheConfig;
/// let config: CacheConfig = serde_json::from_str(r#"{"policy": "lru", "max_capacity": 5000}"#)?;
/// let cache = tenure::Cache::<String, u64>::from_config(&config)?;
/// assert_eq!(cache.len(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A bad value names its field:
/// ```
/// # use tenure::CacheConfig;
/// let config: CacheConfig = toml::from_str("policy = \"hybrid\"\ntime_to_idle = \"1h\"\nmax_capacity = 0")?;
/// assert_eq!(config.to_policy().unwrap_err().to_string(), "`max_capacity` must be at least 1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// The policy: `"sliding-ttl"`, `"lru"`, `"hybrid"`, `"tinylfu"`, `"s3fifo"` or `"sieve"`.
    #[serde(deserialize_with = "named::policy")]
    pub policy: PolicyKind,
    /// Most entries held (lru, hybrid, tinylfu, s3fifo, sieve). Alias: `capacity`.
    #[serde(
        default,
        alias = "capacity",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "named::max_capacity"
    )]
    pub max_capacity: Option<u64>,
    /// Sliding time-to-live: an entry not read for this long expires
    /// (sliding-ttl, hybrid; optional for tinylfu, s3fifo, sieve). Alias: `ttl`.
    #[serde(
        default,
        alias = "ttl",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "named::time_to_idle",
        serialize_with = "humantime_serde::serialize"
    )]
    pub time_to_idle: Option<Duration>,
    /// Absolute lifetime, however often an entry is read (sliding-ttl,
    /// hybrid; optional for tinylfu, s3fifo, sieve). Alias: `max_lifetime`.
    #[serde(
        default,
        alias = "max_lifetime",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "named::time_to_live",
        serialize_with = "humantime_serde::serialize"
    )]
    pub time_to_live: Option<Duration>,
    /// How often a background sweeper reclaims expired entries (at least 1ms);
    /// none if absent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "named::sweep_interval",
        serialize_with = "humantime_serde::serialize"
    )]
    pub sweep_interval: Option<Duration>,
}

/// Field deserializers that put the field's name in front of any error, since
/// formats such as JSON report only a line and column for a bad value. A field
/// read under its old name (an alias) is named by its new one.
mod named {
    use std::time::Duration;

    use serde::de::{Deserialize, Deserializer, Error};

    use super::PolicyKind;

    fn named<'de, D: Deserializer<'de>, T>(
        field: &str,
        d: D,
        read: impl FnOnce(D) -> Result<T, D::Error>,
    ) -> Result<T, D::Error> {
        read(d).map_err(|e| D::Error::custom(format_args!("`{field}`: {e}")))
    }

    pub(super) fn policy<'de, D: Deserializer<'de>>(d: D) -> Result<PolicyKind, D::Error> {
        named("policy", d, PolicyKind::deserialize)
    }

    pub(super) fn max_capacity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        named("max_capacity", d, u64::deserialize).map(Some)
    }

    pub(super) fn time_to_idle<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        named("time_to_idle", d, crate::duration::deserialize).map(Some)
    }

    pub(super) fn time_to_live<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        named("time_to_live", d, crate::duration::deserialize).map(Some)
    }

    pub(super) fn sweep_interval<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        named("sweep_interval", d, crate::duration::deserialize).map(Some)
    }
}

/// A [`CacheConfig`] that cannot make a cache. The message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A policy that expires entries was given neither `time_to_idle` nor
    /// `time_to_live`.
    #[error("policy `{policy}` needs `time_to_idle` or `time_to_live` (or both)")]
    NoExpiry {
        /// The policy that needs a time rule.
        policy: PolicyKind,
    },
    /// A builder was given no bound and no expiry: the cache would grow
    /// without limit, the leak tenure exists to fix.
    #[error(
        "the cache has no bound and no expiry: set `max_capacity`, `time_to_idle` or \
         `time_to_live` (a cache with none of them grows without limit)"
    )]
    Unbounded,
    /// A builder knob that does not combine with a policy given by
    /// [`CacheBuilder::policy`](crate::CacheBuilder::policy): the policy
    /// carries its own bound and time rules.
    #[error("`{field}` does not apply to a custom policy, which carries its own rules")]
    CustomPolicy {
        /// The knob that was set.
        field: &'static str,
    },
    /// A field the policy needs is absent.
    #[error("`{field}` is required for policy `{policy}`")]
    Missing {
        /// The absent field.
        field: &'static str,
        /// The policy that needs it.
        policy: PolicyKind,
    },
    /// A field was given that the policy does not use (likely a mistake).
    #[error("`{field}` does not apply to policy `{policy}`")]
    NotApplicable {
        /// The field given.
        field: &'static str,
        /// The policy that ignores it.
        policy: PolicyKind,
    },
    /// `sweep_interval` is shorter than [`Sweeper::MIN_INTERVAL`](crate::Sweeper::MIN_INTERVAL).
    #[error(transparent)]
    SweepInterval(#[from] SweepIntervalError),
    /// A number the policy rejected.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl Default for CacheConfig {
    /// Hybrid: 10,000 entries, 1 h `time_to_idle`, a sweep every 5 minutes.
    fn default() -> Self {
        CacheConfig {
            policy: PolicyKind::Hybrid,
            max_capacity: Some(10_000),
            time_to_idle: Some(Duration::from_secs(3600)),
            time_to_live: None,
            sweep_interval: Some(Duration::from_secs(300)),
        }
    }
}

impl CacheConfig {
    /// Checks the config and builds its policy.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first field that is missing, out of range or
    /// not used by the chosen policy.
    pub fn to_policy(&self) -> Result<AnyPolicy, ConfigError> {
        let policy = self.policy;
        let unused = |field, present: bool| match present {
            true => Err(ConfigError::NotApplicable { field, policy }),
            false => Ok(()),
        };
        if let Some(interval) = self.sweep_interval {
            check_interval(interval)?;
        }
        let capacity = || {
            self.max_capacity
                .map(|c| usize::try_from(c).unwrap_or(usize::MAX))
                .ok_or(ConfigError::Missing {
                    field: "max_capacity",
                    policy,
                })
        };
        let no_expiry = ConfigError::NoExpiry { policy };
        let rules = Expiry {
            ttl: self.time_to_idle,
            max_lifetime: self.time_to_live,
        };
        Ok(match policy {
            PolicyKind::SlidingTtl => {
                unused("max_capacity", self.max_capacity.is_some())?;
                match (self.time_to_idle, self.time_to_live) {
                    (Some(idle), None) => SlidingTtl::new(idle)?,
                    (Some(idle), Some(live)) => SlidingTtl::new(idle)?.with_max_lifetime(live)?,
                    (None, Some(live)) => SlidingTtl::lifetime_only(live)?,
                    (None, None) => return Err(no_expiry),
                }
                .into()
            }
            PolicyKind::Lru => {
                unused("time_to_idle", self.time_to_idle.is_some())?;
                unused("time_to_live", self.time_to_live.is_some())?;
                LruBound::new(capacity()?)?.into()
            }
            PolicyKind::Hybrid => {
                let capacity = capacity()?;
                match (self.time_to_idle, self.time_to_live) {
                    (Some(idle), None) => Hybrid::new(idle, capacity)?,
                    (Some(idle), Some(live)) => {
                        Hybrid::new(idle, capacity)?.with_max_lifetime(live)?
                    }
                    (None, Some(live)) => Hybrid::lifetime_only(capacity, live)?,
                    (None, None) => return Err(no_expiry),
                }
                .into()
            }
            PolicyKind::S3Fifo => Timed::new(S3Fifo::new(capacity()?)?, rules)?.into(),
            PolicyKind::Sieve => Timed::new(Sieve::new(capacity()?)?, rules)?.into(),
            PolicyKind::TinyLfu => Timed::new(TinyLfu::new(capacity()?)?, rules)?.into(),
        })
    }
}
