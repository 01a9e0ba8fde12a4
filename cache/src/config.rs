//! One serde type that picks the policy and its numbers.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sweeper::{SweepIntervalError, check_interval};
use crate::{AnyPolicy, HumanDuration, Hybrid, LruBound, PolicyError, SlidingTtl};
use tenure_policies::{Expiry, S3Fifo, Sieve, Timed, TinyLfu};

/// Which built-in policy a [`CacheConfig`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// [`SlidingTtl`]: needs `ttl`; `max_lifetime` optional.
    SlidingTtl,
    /// [`LruBound`]: needs `capacity`.
    #[serde(alias = "lru-bound")]
    Lru,
    /// [`Hybrid`]: needs `ttl` and `capacity`; `max_lifetime` optional.
    Hybrid,
    /// [`S3Fifo`]: needs `capacity`; `ttl` and `max_lifetime` optional.
    #[serde(rename = "s3fifo")]
    S3Fifo,
    /// [`Sieve`]: needs `capacity`; `ttl` and `max_lifetime` optional.
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
/// Durations are human strings (`"1h"`, `"90s"`, `"1h30m"`) or whole seconds.
/// Unknown fields are rejected. [`CacheConfig::to_policy`] checks the numbers and
/// says which field is wrong.
///
/// TOML:
/// ```
/// # use tenure::{CacheConfig, PolicyKind};
/// let config: CacheConfig = toml::from_str(r#"
///     policy = "hybrid"
///     ttl = "1h"
///     capacity = 10000
///     max_lifetime = "24h"
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
/// let config: CacheConfig = serde_json::from_str(r#"{"policy": "lru", "capacity": 5000}"#)?;
/// let cache = tenure::Cache::<String, u64>::from_config(&config)?;
/// assert_eq!(cache.len(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A bad value names its field:
/// ```
/// # use tenure::CacheConfig;
/// let config: CacheConfig = toml::from_str("policy = \"hybrid\"\nttl = \"1h\"\ncapacity = 0")?;
/// assert_eq!(config.to_policy().unwrap_err().to_string(), "`capacity` must be at least 1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// The policy: `"sliding-ttl"`, `"lru"`, `"hybrid"`, `"tinylfu"`, `"s3fifo"` or `"sieve"`.
    #[serde(deserialize_with = "named::policy")]
    pub policy: PolicyKind,
    /// Sliding time-to-live (sliding-ttl, hybrid; optional for tinylfu, s3fifo, sieve).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "named::ttl"
    )]
    pub ttl: Option<HumanDuration>,
    /// Most entries held (lru, hybrid, tinylfu, s3fifo, sieve).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "named::capacity"
    )]
    pub capacity: Option<usize>,
    /// Absolute lifetime, however often an entry is read (sliding-ttl, hybrid;
    /// optional for tinylfu, s3fifo, sieve).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "named::max_lifetime"
    )]
    pub max_lifetime: Option<HumanDuration>,
    /// How often a background sweeper reclaims expired entries (at least 1ms);
    /// none if absent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "named::sweep_interval"
    )]
    pub sweep_interval: Option<HumanDuration>,
}

/// Field deserializers that put the field's name in front of any error, since
/// formats such as JSON report only a line and column for a bad value.
mod named {
    use serde::de::{Deserialize, Deserializer, Error};

    use super::PolicyKind;
    use crate::HumanDuration;

    fn named<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        field: &str,
        d: D,
    ) -> Result<T, D::Error> {
        T::deserialize(d).map_err(|e| D::Error::custom(format_args!("`{field}`: {e}")))
    }

    pub(super) fn policy<'de, D: Deserializer<'de>>(d: D) -> Result<PolicyKind, D::Error> {
        named("policy", d)
    }

    pub(super) fn ttl<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HumanDuration>, D::Error> {
        named("ttl", d).map(Some)
    }

    pub(super) fn capacity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        named("capacity", d).map(Some)
    }

    pub(super) fn max_lifetime<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<HumanDuration>, D::Error> {
        named("max_lifetime", d).map(Some)
    }

    pub(super) fn sweep_interval<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<HumanDuration>, D::Error> {
        named("sweep_interval", d).map(Some)
    }
}

/// A [`CacheConfig`] that cannot make a cache. The message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
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
    /// Hybrid: 1 h sliding TTL, 10,000 entries, a sweep every 5 minutes.
    fn default() -> Self {
        CacheConfig {
            policy: PolicyKind::Hybrid,
            ttl: Some(HumanDuration(Duration::from_secs(3600))),
            capacity: Some(10_000),
            max_lifetime: None,
            sweep_interval: Some(HumanDuration(Duration::from_secs(300))),
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
        let missing = |field| ConfigError::Missing { field, policy };
        let unused = |field, present: bool| match present {
            true => Err(ConfigError::NotApplicable { field, policy }),
            false => Ok(()),
        };
        if let Some(interval) = self.sweep_interval {
            check_interval(interval.0)?;
        }
        let ttl = self.ttl.map(Duration::from);
        let max_lifetime = self.max_lifetime.map(Duration::from);
        Ok(match policy {
            PolicyKind::SlidingTtl => {
                unused("capacity", self.capacity.is_some())?;
                let p = SlidingTtl::new(ttl.ok_or(missing("ttl"))?)?;
                match max_lifetime {
                    Some(max) => p.with_max_lifetime(max)?,
                    None => p,
                }
                .into()
            }
            PolicyKind::Lru => {
                unused("ttl", ttl.is_some())?;
                unused("max_lifetime", max_lifetime.is_some())?;
                LruBound::new(self.capacity.ok_or(missing("capacity"))?)?.into()
            }
            PolicyKind::Hybrid => {
                let p = Hybrid::new(
                    ttl.ok_or(missing("ttl"))?,
                    self.capacity.ok_or(missing("capacity"))?,
                )?;
                match max_lifetime {
                    Some(max) => p.with_max_lifetime(max)?,
                    None => p,
                }
                .into()
            }
            PolicyKind::S3Fifo => {
                let p = S3Fifo::new(self.capacity.ok_or(missing("capacity"))?)?;
                Timed::new(p, Expiry { ttl, max_lifetime })?.into()
            }
            PolicyKind::Sieve => {
                let p = Sieve::new(self.capacity.ok_or(missing("capacity"))?)?;
                Timed::new(p, Expiry { ttl, max_lifetime })?.into()
            }
            PolicyKind::TinyLfu => {
                let p = TinyLfu::new(self.capacity.ok_or(missing("capacity"))?)?;
                Timed::new(p, Expiry { ttl, max_lifetime })?.into()
            }
        })
    }

    /// The sweeper interval, if any.
    pub fn sweep_interval(&self) -> Option<Duration> {
        self.sweep_interval.map(Duration::from)
    }
}
