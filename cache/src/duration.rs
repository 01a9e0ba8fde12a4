//! Human-readable durations for configuration: `"1h"`, `"90s"`, `"1h30m"`, `"250ms"`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer, ser};

/// A [`Duration`] written as a number and a unit, several parts allowed:
/// `ns`, `us`, `ms`, `s`, `m`, `h`, `d` (for example `"1h30m"`). Deserializes
/// from such a string, or from a plain integer number of seconds `n`, read as
/// the string `"{n}s"`. Either form holds at most `u64::MAX` nanoseconds (about
/// 584 years); anything longer is rejected, so every accepted value serializes
/// back to a string that reads back as the same value.
///
/// ```
/// use std::time::Duration;
/// use tenure::HumanDuration;
///
/// let d: HumanDuration = "1h30m".parse()?;
/// assert_eq!(Duration::from(d), Duration::from_secs(5400));
/// assert_eq!(d.to_string(), "1h30m");
/// assert!("90 parsecs".parse::<HumanDuration>().is_err());
/// # Ok::<(), tenure::DurationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

/// Why a duration string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected e.g. \"90s\", \"5m\", \"1h30m\")")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

/// The longest duration either form accepts: the nanoseconds must fit a `u64`.
const MAX: Duration = Duration::from_nanos(u64::MAX);

const TOO_LONG: &str = "too long (at most about 584 years)";

const UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

impl std::str::FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, DurationError> {
        let fail = |reason| DurationError {
            input: input.chars().take(64).collect(),
            reason,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(fail("it is empty"));
        }
        let mut rest = text;
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(fail("each part must start with a number"));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| fail("number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = rest[..unit_len].trim();
            rest = &rest[unit_len..];
            let scale = UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|&(_, scale)| scale)
                .ok_or_else(|| fail("unknown or missing unit (use ns, us, ms, s, m, h or d)"))?;
            total = number
                .checked_mul(scale)
                .and_then(|n| total.checked_add(n))
                .ok_or_else(|| fail(TOO_LONG))?;
        }
        Ok(HumanDuration(Duration::from_nanos(total)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Exact even beyond `MAX`: such a text is then refused when read back,
        // rather than read as a shorter duration.
        let mut nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        for &(name, scale) in UNITS.iter().rev() {
            let scale = u128::from(scale);
            if nanos >= scale {
                write!(f, "{}{name}", nanos / scale)?;
                nanos %= scale;
            }
        }
        Ok(())
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Duration {
        d.0
    }
}

impl From<Duration> for HumanDuration {
    fn from(d: Duration) -> HumanDuration {
        HumanDuration(d)
    }
}

impl Serialize for HumanDuration {
    /// # Errors
    /// A duration longer than the string form accepts (only reachable by
    /// building one in code) is an error, not written as text that would not read back.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 > MAX {
            return Err(ser::Error::custom(format_args!(
                "duration {self} is {TOO_LONG}"
            )));
        }
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct HumanVisitor;

        impl Visitor<'_> for HumanVisitor {
            type Value = HumanDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"90s\", \"5m\" or \"1h\", or a number of seconds")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                v.parse().map_err(E::custom)
            }

            /// Whole seconds go through the string parser, so both forms have
            /// one range and one error beyond it.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                self.visit_str(&format!("{v}s"))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                let v = u64::try_from(v).map_err(|_| E::custom("a duration cannot be negative"))?;
                self.visit_u64(v)
            }
        }

        d.deserialize_any(HumanVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let cases = [
            ("90s", 90_000_000_000u64),
            ("1h", 3_600_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("250ms", 250_000_000),
            ("2d", 172_800_000_000_000),
            ("1 h", 3_600_000_000_000),
            ("7ns", 7),
        ];
        for (text, nanos) in cases {
            let d: HumanDuration = text.parse().unwrap();
            assert_eq!(d.0, Duration::from_nanos(nanos), "{text}");
            assert_eq!(d.to_string().parse::<HumanDuration>().unwrap(), d);
        }
        assert_eq!(
            HumanDuration(Duration::from_secs(5400)).to_string(),
            "1h30m"
        );
    }

    #[test]
    fn prints_exactly_up_to_the_limit_and_beyond_it() {
        let max = HumanDuration(MAX);
        assert_eq!(max.to_string().parse(), Ok(max));
        let beyond = HumanDuration(MAX + Duration::from_nanos(1));
        let error = beyond.to_string().parse::<HumanDuration>().unwrap_err();
        assert_eq!(error.reason, TOO_LONG);
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "",
            "h",
            "10",
            "10x",
            "1h30",
            "-5s",
            "99999999999999999999s",
            "300000d",
        ] {
            assert!(bad.parse::<HumanDuration>().is_err(), "{bad:?} parsed");
        }
    }
}
