//! Durations in configuration: a [`humantime`] string (`"1h"`, `"90s"`,
//! `"1h 30m"`, `"250ms"`) or a whole number of seconds. Written back with
//! `humantime_serde`, so every value reads back as itself.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// Reads a duration: a humantime string, or a non-negative integer of seconds.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct Human;

    impl Visitor<'_> for Human {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"90s\", \"5m\" or \"1h 30m\", or a number of seconds")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            humantime::parse_duration(v).map_err(|e| {
                let shown: String = v.chars().take(64).collect();
                E::custom(format_args!(
                    "invalid duration {shown:?}: {e} (expected e.g. \"90s\", \"5m\", \"1h 30m\")"
                ))
            })
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            let v = u64::try_from(v).map_err(|_| E::custom("a duration cannot be negative"))?;
            self.visit_u64(v)
        }
    }

    d.deserialize_any(Human)
}
