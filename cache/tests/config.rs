//! Acceptance item 7: the canonical TOML and JSON configuration examples parse
//! and build the policy they describe; every invalid configuration is an error
//! that names its field (and, for TOML parse errors, its line); no input panics.
//!
//! The examples here are the canonical ones for the docs. The examples in
//! `CacheConfig`'s own documentation are doctests, run by the same `cargo test`.

use std::time::Duration;

use proptest::prelude::*;
use tenure::policy::{AnyPolicy, Expiry, Policy};
use tenure::{Cache, CacheBuilder, CacheConfig, PolicyKind};

const HOUR: Duration = Duration::from_secs(3600);

/// The full form: the OpenAI adapter's shape of cache.
const TOML_HYBRID: &str = r#"
# Clients idle for an hour are dropped; at most 10,000 are kept; every client is
# rebuilt after a day however busy it is; expired ones are swept every 5 minutes.
policy = "hybrid"
max_capacity = 10000
time_to_idle = "1h"
time_to_live = "24h"
sweep_interval = "5m"
"#;

const TOML_SLIDING: &str = r#"
policy = "sliding-ttl"
time_to_idle = "90s"
time_to_live = "1h 30m"
"#;

const TOML_LRU: &str = r#"
policy = "lru"
max_capacity = 5000
"#;

/// The cache's table inside an application's own config file.
const TOML_EMBEDDED: &str = r#"
[server]
port = 8080

[cache]
policy = "hybrid"
time_to_idle = "30m"
max_capacity = 2000
"#;

const JSON_HYBRID: &str = r#"{
  "policy": "hybrid",
  "max_capacity": 10000,
  "time_to_idle": "1h",
  "time_to_live": "24h",
  "sweep_interval": "5m"
}"#;

/// Durations may also be whole seconds; `lru-bound` is an alias of `lru`.
const JSON_SECONDS: &str = r#"{"policy": "sliding-ttl", "time_to_idle": 90, "sweep_interval": 30}"#;
const JSON_LRU: &str = r#"{"policy": "lru-bound", "max_capacity": 5000}"#;

/// `time_to_live` alone: a lifetime, no sliding TTL.
const TOML_LIFETIME: &str = r#"
policy = "sliding-ttl"
time_to_live = "12h"
"#;

fn toml_config(text: &str) -> CacheConfig {
    toml::from_str(text).unwrap_or_else(|e| panic!("{text}\nfailed: {e}"))
}

fn json_config(text: &str) -> CacheConfig {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}\nfailed: {e}"))
}

fn assert_hybrid(config: &CacheConfig, ttl: Duration, capacity: usize, max: Option<Duration>) {
    match config.to_policy().unwrap() {
        AnyPolicy::Hybrid(p) => {
            assert_eq!(
                (p.ttl(), p.capacity(), p.max_lifetime()),
                (ttl, capacity, max)
            );
        }
        other => panic!("expected a hybrid policy, got {other:?}"),
    }
}

#[test]
fn the_canonical_toml_examples_parse_and_build_their_policies() {
    let hybrid = toml_config(TOML_HYBRID);
    assert_eq!(hybrid.policy, PolicyKind::Hybrid);
    assert_hybrid(&hybrid, HOUR, 10_000, Some(24 * HOUR));
    assert_eq!(hybrid.sweep_interval, Some(Duration::from_secs(300)));

    let sliding = toml_config(TOML_SLIDING);
    match sliding.to_policy().unwrap() {
        AnyPolicy::SlidingTtl(p) => {
            assert_eq!(p.ttl(), Duration::from_secs(90));
            assert_eq!(p.max_lifetime(), Some(Duration::from_secs(5400)));
        }
        other => panic!("expected sliding TTL, got {other:?}"),
    }
    assert_eq!(sliding.sweep_interval, None);

    match toml_config(TOML_LIFETIME).to_policy().unwrap() {
        AnyPolicy::SlidingTtl(p) => {
            assert_eq!(p.expiry().ttl, None, "no sliding TTL");
            assert_eq!(p.max_lifetime(), Some(12 * HOUR));
        }
        other => panic!("expected sliding TTL, got {other:?}"),
    }

    match toml_config(TOML_LRU).to_policy().unwrap() {
        AnyPolicy::LruBound(p) => assert_eq!(p.capacity(), 5000),
        other => panic!("expected an LRU bound, got {other:?}"),
    }

    #[derive(serde::Deserialize)]
    struct AppConfig {
        cache: CacheConfig,
    }
    let app: AppConfig = toml::from_str(TOML_EMBEDDED).unwrap();
    assert_hybrid(&app.cache, HOUR / 2, 2000, None);
}

#[test]
fn the_canonical_json_examples_parse_and_build_their_policies() {
    let hybrid = json_config(JSON_HYBRID);
    assert_eq!(
        hybrid,
        toml_config(TOML_HYBRID),
        "JSON and TOML say the same"
    );
    assert_hybrid(&hybrid, HOUR, 10_000, Some(24 * HOUR));

    let seconds = json_config(JSON_SECONDS);
    assert_eq!(seconds.time_to_idle, Some(Duration::from_secs(90)));
    assert_eq!(seconds.sweep_interval, Some(Duration::from_secs(30)));
    assert!(matches!(
        seconds.to_policy().unwrap(),
        AnyPolicy::SlidingTtl(_)
    ));

    let lru = json_config(JSON_LRU);
    assert_eq!(lru.policy, PolicyKind::Lru);
    assert!(matches!(lru.to_policy().unwrap(), AnyPolicy::LruBound(p) if p.capacity() == 5000));
}

#[test]
fn configs_round_trip_and_make_caches() {
    for config in [
        toml_config(TOML_HYBRID),
        toml_config(TOML_SLIDING),
        toml_config(TOML_LRU),
        toml_config(TOML_LIFETIME),
        json_config(JSON_SECONDS),
        CacheConfig::default(),
    ] {
        let as_toml = toml::to_string(&config).unwrap();
        assert_eq!(toml_config(&as_toml), config, "{as_toml}");
        let as_json = serde_json::to_string(&config).unwrap();
        assert_eq!(json_config(&as_json), config, "{as_json}");
        // Without the sweeper, so the test starts no thread.
        let quiet = CacheConfig {
            sweep_interval: None,
            ..config.clone()
        };
        let cache = Cache::<String, u32>::from_config(&quiet).unwrap();
        cache.insert("k".into(), 1);
        assert_eq!(cache.get("k"), Some(1));
        let built: Cache<u32, u32> = CacheBuilder::from_config(&quiet)
            .unwrap()
            .build()
            .expect("a valid cache");
        assert!(built.is_empty());
    }
    assert_hybrid(&CacheConfig::default(), HOUR, 10_000, None);
}

#[test]
fn fifo_policies_need_a_capacity_and_take_optional_time_rules() {
    let s3fifo = toml_config("policy = \"s3fifo\"\nmax_capacity = 1000");
    assert_eq!(s3fifo.policy, PolicyKind::S3Fifo);
    assert_eq!(s3fifo.policy.to_string(), "s3fifo");
    match s3fifo.to_policy().unwrap() {
        AnyPolicy::S3Fifo(p) => {
            assert_eq!(p.policy().capacity(), 1000);
            assert_eq!(p.expiry(), Expiry::NEVER);
        }
        other => panic!("expected S3-FIFO, got {other:?}"),
    }

    let sieve = json_config(
        r#"{"policy": "sieve", "max_capacity": 64, "time_to_idle": "90s", "time_to_live": "1h"}"#,
    );
    assert_eq!(sieve.policy.to_string(), "sieve");
    match sieve.to_policy().unwrap() {
        AnyPolicy::Sieve(p) => {
            assert_eq!(p.policy().capacity(), 64);
            let rules = Expiry {
                ttl: Some(Duration::from_secs(90)),
                max_lifetime: Some(HOUR),
            };
            assert_eq!(p.expiry(), rules);
        }
        other => panic!("expected SIEVE, got {other:?}"),
    }

    for config in [s3fifo, sieve] {
        let as_toml = toml::to_string(&config).unwrap();
        assert_eq!(toml_config(&as_toml), config, "{as_toml}");
        let cache = Cache::<u32, u32>::from_config(&config).unwrap();
        for key in 0..2000 {
            cache.insert(key, key);
        }
        let bound = config.max_capacity.unwrap() as usize;
        assert!(cache.len() <= bound, "{} entries over {bound}", cache.len());
        assert!(!cache.is_empty());
    }
}

#[test]
fn tinylfu_needs_only_a_capacity_and_takes_optional_time_rules() {
    let plain = toml_config("policy = \"tinylfu\"\ncapacity = 5000");
    assert_eq!(plain.policy, PolicyKind::TinyLfu);
    assert_eq!(plain.policy.to_string(), "tinylfu");
    match plain.to_policy().unwrap() {
        AnyPolicy::TinyLfu(p) => {
            assert_eq!(p.policy().capacity(), 5000);
            assert!(!p.expiry().uses_time());
        }
        other => panic!("expected tinylfu, got {other:?}"),
    }
    let as_json = serde_json::to_string(&plain).unwrap();
    assert!(as_json.contains(r#""policy":"tinylfu""#), "{as_json}");

    let timed =
        json_config(r#"{"policy": "tinylfu", "capacity": 300, "ttl": "1h", "max_lifetime": "1d"}"#);
    match timed.to_policy().unwrap() {
        AnyPolicy::TinyLfu(p) => {
            assert_eq!(p.policy().capacity(), 300);
            assert_eq!(p.expiry().ttl, Some(HOUR));
            assert_eq!(p.expiry().max_lifetime, Some(24 * HOUR));
        }
        other => panic!("expected tinylfu, got {other:?}"),
    }
    let cache = Cache::<u32, u32>::from_config(&timed).unwrap();
    cache.insert(1, 1);
    assert_eq!(cache.get(&1), Some(1));
}

// ---------------------------------------------------------------- invalid configs

/// An invalid config: its TOML form, and the field its error must name.
struct Invalid {
    what: &'static str,
    toml: &'static str,
    field: &'static str,
}

const fn invalid(what: &'static str, toml: &'static str, field: &'static str) -> Invalid {
    Invalid { what, toml, field }
}

/// Errors raised after parsing, by `to_policy`. A field given under its old
/// name (`capacity`, `ttl`, `max_lifetime`) is reported under its new one.
const INVALID_VALUES: &[Invalid] = &[
    invalid(
        "zero capacity",
        "policy = \"lru\"\nmax_capacity = 0",
        "`max_capacity`",
    ),
    invalid(
        "zero capacity, old name",
        "policy = \"lru\"\ncapacity = 0",
        "`max_capacity`",
    ),
    invalid(
        "zero hybrid capacity",
        "policy = \"hybrid\"\ntime_to_idle = \"1h\"\nmax_capacity = 0",
        "`max_capacity`",
    ),
    invalid(
        "zero time_to_idle",
        "policy = \"sliding-ttl\"\ntime_to_idle = \"0s\"",
        "`time_to_idle`",
    ),
    invalid(
        "zero ttl, old name",
        "policy = \"sliding-ttl\"\nttl = \"0s\"",
        "`time_to_idle`",
    ),
    invalid(
        "zero hybrid time_to_idle",
        "policy = \"hybrid\"\ntime_to_idle = 0\nmax_capacity = 5",
        "`time_to_idle`",
    ),
    invalid(
        "zero time_to_live",
        "policy = \"sliding-ttl\"\ntime_to_live = \"0s\"",
        "`time_to_live`",
    ),
    invalid(
        "zero hybrid time_to_live",
        "policy = \"hybrid\"\nmax_capacity = 5\ntime_to_live = 0",
        "`time_to_live`",
    ),
    invalid(
        "time_to_live < time_to_idle",
        "policy = \"sliding-ttl\"\ntime_to_idle = \"1h\"\ntime_to_live = \"59m\"",
        "`time_to_live`",
    ),
    invalid(
        "max_lifetime < ttl, old names",
        "policy = \"sliding-ttl\"\nttl = \"1h\"\nmax_lifetime = \"59m\"",
        "`time_to_live`",
    ),
    invalid(
        "hybrid time_to_live < time_to_idle",
        "policy = \"hybrid\"\ntime_to_idle = \"1h\"\nmax_capacity = 5\ntime_to_live = \"1s\"",
        "`time_to_idle`",
    ),
    invalid(
        "sliding-ttl without a time",
        "policy = \"sliding-ttl\"",
        "`time_to_idle` or `time_to_live`",
    ),
    invalid(
        "hybrid without a time",
        "policy = \"hybrid\"\nmax_capacity = 10",
        "`time_to_idle` or `time_to_live`",
    ),
    invalid("lru without capacity", "policy = \"lru\"", "`max_capacity`"),
    invalid(
        "tinylfu without capacity",
        "policy = \"tinylfu\"\nttl = \"1h\"",
        "`max_capacity`",
    ),
    invalid(
        "zero tinylfu capacity",
        "policy = \"tinylfu\"\ncapacity = 0",
        "`max_capacity`",
    ),
    invalid(
        "tinylfu max_lifetime < ttl",
        "policy = \"tinylfu\"\ncapacity = 5\nttl = \"1h\"\nmax_lifetime = \"1m\"",
        "`time_to_live`",
    ),
    invalid(
        "hybrid without capacity",
        "policy = \"hybrid\"\ntime_to_idle = \"1h\"",
        "`max_capacity`",
    ),
    invalid(
        "capacity for sliding-ttl",
        "policy = \"sliding-ttl\"\ntime_to_idle = \"1h\"\nmax_capacity = 10",
        "`max_capacity`",
    ),
    invalid(
        "time_to_idle for lru",
        "policy = \"lru\"\nmax_capacity = 10\ntime_to_idle = \"1h\"",
        "`time_to_idle`",
    ),
    invalid(
        "time_to_live for lru",
        "policy = \"lru\"\nmax_capacity = 10\ntime_to_live = \"1h\"",
        "`time_to_live`",
    ),
    invalid(
        "zero sweep_interval",
        "policy = \"lru\"\nmax_capacity = 10\nsweep_interval = \"0s\"",
        "`sweep_interval`",
    ),
    invalid(
        "capacity too large",
        "policy = \"lru\"\nmax_capacity = 18446744073709551615",
        "`max_capacity`",
    ),
    invalid(
        "s3fifo without capacity",
        "policy = \"s3fifo\"",
        "`max_capacity`",
    ),
    invalid(
        "sieve without capacity",
        "policy = \"sieve\"\nttl = \"1h\"",
        "`max_capacity`",
    ),
    invalid(
        "zero s3fifo capacity",
        "policy = \"s3fifo\"\ncapacity = 0",
        "`max_capacity`",
    ),
    invalid(
        "sieve capacity too large",
        "policy = \"sieve\"\ncapacity = 18446744073709551615",
        "`max_capacity`",
    ),
    invalid(
        "zero s3fifo ttl",
        "policy = \"s3fifo\"\ncapacity = 5\nttl = \"0s\"",
        "`time_to_idle`",
    ),
    invalid(
        "sieve max_lifetime < ttl",
        "policy = \"sieve\"\ncapacity = 5\nttl = \"1h\"\nmax_lifetime = \"1m\"",
        "`time_to_live`",
    ),
];

/// Errors raised while parsing, by serde.
const INVALID_SYNTAX: &[Invalid] = &[
    invalid(
        "unknown policy",
        "policy = \"lfu\"\nmax_capacity = 10",
        "policy",
    ),
    invalid(
        "unknown field",
        "policy = \"lru\"\nmax_capacity = 10\ncolour = \"red\"",
        "colour",
    ),
    invalid(
        "misspelt field",
        "policy = \"lru\"\nmax_capacty = 10",
        "max_capacty",
    ),
    invalid("missing policy", "time_to_idle = \"1h\"", "policy"),
    invalid(
        "bad duration unit",
        "policy = \"sliding-ttl\"\ntime_to_idle = \"1x\"",
        "time_to_idle",
    ),
    invalid(
        "duration without a unit",
        "policy = \"sliding-ttl\"\ntime_to_idle = \"1h30\"",
        "time_to_idle",
    ),
    invalid(
        "empty duration",
        "policy = \"sliding-ttl\"\ntime_to_idle = \"\"",
        "time_to_idle",
    ),
    invalid(
        "negative duration text",
        "policy = \"sliding-ttl\"\ntime_to_idle = \"-5s\"",
        "time_to_idle",
    ),
    invalid(
        "negative duration number",
        "policy = \"sliding-ttl\"\ntime_to_idle = -5",
        "time_to_idle",
    ),
    invalid(
        "duration text too long for a Duration",
        "policy = \"sliding-ttl\"\ntime_to_idle = \"99999999999999999999999s\"",
        "time_to_idle",
    ),
    invalid(
        "bad time_to_live",
        "policy = \"hybrid\"\ntime_to_idle = \"1h\"\nmax_capacity = 3\ntime_to_live = \"1 fortnight\"",
        "time_to_live",
    ),
    invalid(
        "bad sweep_interval",
        "policy = \"lru\"\nmax_capacity = 3\nsweep_interval = \"often\"",
        "sweep_interval",
    ),
    invalid(
        "negative capacity",
        "policy = \"lru\"\nmax_capacity = -1",
        "max_capacity",
    ),
    invalid(
        "capacity as text",
        "policy = \"lru\"\nmax_capacity = \"ten\"",
        "max_capacity",
    ),
];

/// The same config as JSON (every value in these tables is a TOML string,
/// integer or bare word that means the same in JSON).
fn as_json(toml_text: &str) -> String {
    let fields: Vec<String> = toml_text
        .lines()
        .map(|line| {
            let (key, value) = line.split_once(" = ").expect("key = value");
            format!("\"{key}\": {value}")
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// The error message for `text`: from parsing, or else from `to_policy`.
fn error_message(config: Result<CacheConfig, String>) -> Result<String, String> {
    match config {
        Err(parse_error) => Ok(parse_error),
        Ok(config) => match config.to_policy() {
            Err(e) => Ok(e.to_string()),
            Ok(p) => Err(format!("accepted as {p:?}")),
        },
    }
}

fn toml_error(text: &str) -> Result<String, String> {
    error_message(toml::from_str::<CacheConfig>(text).map_err(|e| e.to_string()))
}

fn json_error(text: &str) -> Result<String, String> {
    error_message(serde_json::from_str::<CacheConfig>(text).map_err(|e| e.to_string()))
}

/// Every case whose error does not name its field, or that was accepted.
fn check_cases(
    cases: &[Invalid],
    to_text: impl Fn(&str) -> String,
    error_of: impl Fn(&str) -> Result<String, String>,
    extra: impl Fn(&Invalid, &str) -> Option<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for case in cases {
        let text = to_text(case.toml);
        match error_of(&text) {
            Err(accepted) => problems.push(format!("{}: {text:?} was {accepted}", case.what)),
            Ok(message) if !message.contains(case.field) => problems.push(format!(
                "{}: the error does not name {}:\n{message}",
                case.what, case.field
            )),
            Ok(message) => problems.extend(extra(case, &message)),
        }
    }
    problems
}

fn assert_no_problems(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn each_invalid_value_is_an_error_naming_its_field_in_toml_and_json() {
    assert_no_problems(check_cases(
        INVALID_VALUES,
        str::to_string,
        toml_error,
        |_, _| None,
    ));
    assert_no_problems(check_cases(INVALID_VALUES, as_json, json_error, |_, _| {
        None
    }));
}

#[test]
fn each_invalid_toml_document_is_an_error_naming_its_field_and_line() {
    assert_no_problems(check_cases(
        INVALID_SYNTAX,
        str::to_string,
        toml_error,
        |case, message| {
            // The field's own line, except for a field that is missing altogether.
            let line = case
                .toml
                .lines()
                .position(|l| l.starts_with(case.field))
                .map(|i| i + 1);
            match line {
                Some(line) if !message.contains(&format!("line {line}")) => Some(format!(
                    "{}: the error does not point at line {line}:\n{message}",
                    case.what
                )),
                _ => None,
            }
        },
    ));
}

#[test]
fn unknown_and_missing_json_fields_are_errors_naming_the_field() {
    let by_name: &[&str] = &["unknown field", "misspelt field", "missing policy"];
    let cases: Vec<Invalid> = INVALID_SYNTAX
        .iter()
        .filter(|c| by_name.contains(&c.what))
        .map(|c| invalid(c.what, c.toml, c.field))
        .collect();
    assert_eq!(cases.len(), by_name.len());
    assert_no_problems(check_cases(&cases, as_json, json_error, |_, _| None));
}

#[test]
fn each_invalid_json_value_is_an_error_naming_its_field() {
    assert_no_problems(check_cases(INVALID_SYNTAX, as_json, json_error, |_, _| {
        None
    }));
}

// ---------------------------------------------------------- durations round-trip

const DURATION_FIELDS: [&str; 3] = ["time_to_idle", "time_to_live", "sweep_interval"];

/// A config with one duration field; `value` as written in TOML.
fn with_duration(field: &str, value: &str) -> String {
    format!("policy = \"sliding-ttl\"\n{field} = {value}")
}

/// Parses TOML; an error is its message alone, without the source excerpt.
fn parse_toml(text: &str) -> Result<CacheConfig, String> {
    toml::from_str(text).map_err(|e| e.message().trim_end().to_string())
}

/// Parses JSON; an error is its message without the position serde_json appends.
fn parse_json(text: &str) -> Result<CacheConfig, String> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        match message.rsplit_once(" at line ") {
            Some((message, _)) => message.to_string(),
            None => message,
        }
    })
}

#[test]
fn every_duration_serialises_to_text_that_reads_back_as_itself() {
    for d in [
        Duration::from_nanos(1),
        Duration::from_millis(1500),
        Duration::from_secs(5400),
        Duration::from_secs(86_400),
        Duration::from_secs(1_000_000_000_000),
        Duration::new(u64::MAX, 999_999_999),
    ] {
        let config = CacheConfig {
            policy: PolicyKind::SlidingTtl,
            max_capacity: None,
            time_to_idle: Some(d),
            time_to_live: None,
            sweep_interval: None,
        };
        let as_toml = toml::to_string(&config).unwrap();
        assert!(as_toml.contains("time_to_idle = \""), "{as_toml}");
        assert_eq!(
            parse_toml(&as_toml),
            Ok(config.clone()),
            "{d:?} as {as_toml}"
        );
        let as_json = serde_json::to_string(&config).unwrap();
        assert_eq!(parse_json(&as_json), Ok(config), "{d:?} as {as_json}");
    }
}

/// A duration as a config may write it: whole seconds (some near the top of
/// TOML's integers), or humantime text of one or more parts, spaced or not.
fn duration_value() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[0-9]{1,6}(ns|us|ms|s|sec|m|min|h|hours|d|days|w|M|y)",
        "[0-9]{1,20}(ns|us|ms|s|sec|m|min|h|hours|d|days|w|M|y)",
    ];
    prop_oneof![
        // TOML integers stop at i64::MAX.
        (0..=i64::MAX as u64).prop_map(|n| n.to_string()),
        (0u64..40_000_000_000).prop_map(|n| n.to_string()),
        (proptest::collection::vec(part, 1..4), any::<bool>())
            .prop_map(|(parts, spaced)| format!("{:?}", parts.join(if spaced { " " } else { "" }))),
        Just("\"18446744073709551615s\"".to_string()),
        Just("\"18446744073709551616s\"".to_string()),
        Just("\"1.5h\"".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Parse → serialise → parse is the identity in TOML and JSON; both formats
    /// agree; whole seconds `n` mean exactly what the string `"ns"` means, value
    /// or error; every error names its field.
    #[test]
    fn durations_round_trip_through_toml_and_json(
        field in proptest::sample::select(&DURATION_FIELDS[..]),
        value in duration_value(),
    ) {
        let text = with_duration(field, &value);
        let parsed = parse_toml(&text);
        if let Ok(config) = &parsed {
            let as_toml = toml::to_string(config).map_err(|e| e.to_string());
            prop_assert_eq!(as_toml.as_deref().map(parse_toml), Ok(Ok(config.clone())), "{:?}", as_toml);
            let as_json = serde_json::to_string(config).map_err(|e| e.to_string());
            prop_assert_eq!(as_json.as_deref().map(parse_json), Ok(Ok(config.clone())), "{:?}", as_json);
        }
        prop_assert_eq!(&parse_json(&as_json(&text)), &parsed);
        if let Ok(seconds) = value.parse::<u64>() {
            prop_assert_eq!(&parse_toml(&with_duration(field, &format!("\"{seconds}s\""))), &parsed);
        }
        if let Err(message) = &parsed {
            prop_assert!(message.starts_with(&format!("`{field}`: ")), "{}", message);
        }
    }
}

// ------------------------------------------------------------- the old names

/// A config as written before the fields took the builder's names.
const TOML_OLD_NAMES: &str = r#"
policy = "hybrid"
ttl = "1h"
capacity = 10000
max_lifetime = "24h"
sweep_interval = "5m"
"#;

#[test]
fn a_config_with_the_old_names_loads_and_serialises_with_the_new_ones() {
    let old = toml_config(TOML_OLD_NAMES);
    assert_eq!(old, toml_config(TOML_HYBRID), "the old names are aliases");
    assert_eq!(
        old,
        json_config(&as_json(TOML_OLD_NAMES.trim())),
        "in JSON too"
    );
    let as_toml = toml::to_string(&old).unwrap();
    let as_json = serde_json::to_string(&old).unwrap();
    let toml_keys: Vec<String> = toml::from_str::<toml::Table>(&as_toml)
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let json_keys: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&as_json)
            .unwrap()
            .keys()
            .cloned()
            .collect();
    for (format, mut keys) in [("TOML", toml_keys), ("JSON", json_keys)] {
        keys.sort();
        assert_eq!(
            keys,
            [
                "max_capacity",
                "policy",
                "sweep_interval",
                "time_to_idle",
                "time_to_live"
            ],
            "{format}"
        );
    }
    assert_eq!(toml_config(&as_toml), old);
    assert_eq!(json_config(&as_json), old);

    // One field under both names is an error, not a silent choice.
    let both = toml::from_str::<CacheConfig>("policy = \"lru\"\ncapacity = 10\nmax_capacity = 20");
    let message = both.unwrap_err().to_string();
    assert!(
        message.contains("duplicate field `max_capacity`"),
        "{message}"
    );
}

#[test]
fn a_bad_value_under_an_old_name_is_named_by_the_new_name() {
    let toml_error = parse_toml("policy = \"sliding-ttl\"\nttl = \"1x\"").unwrap_err();
    assert!(toml_error.starts_with("`time_to_idle`: "), "{toml_error}");
    let json_error = parse_json(r#"{"policy": "lru", "capacity": "ten"}"#).unwrap_err();
    assert!(json_error.starts_with("`max_capacity`: "), "{json_error}");
}

// ---------------------------------------------------------------- no panics

/// A TOML document assembled from plausible and implausible pieces.
fn config_text() -> impl Strategy<Value = String> {
    let policy = prop_oneof![
        Just("\"hybrid\""),
        Just("\"lru\""),
        Just("\"sliding-ttl\""),
        Just("\"lru-bound\""),
        Just("\"HYBRID\""),
        Just("3"),
    ];
    let duration = prop_oneof![
        Just("\"1h\"".to_string()),
        Just("\"0s\"".to_string()),
        Just("\"18446744073709551615s\"".to_string()),
        Just("\"584y\"".to_string()),
        Just("\"99999999999d\"".to_string()),
        Just("-1".to_string()),
        Just("9223372036854775807".to_string()),
        Just("1.5".to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "[0-9]{0,20}(ns|us|ms|s|m|h|d|x|)".prop_map(|s| format!("\"{s}\"")),
        "\\PC{0,12}".prop_map(|s| format!("{s:?}")),
    ];
    let capacity = prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551615".to_string()),
        Just("\"10\"".to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
    ];
    (
        proptest::option::of(policy),
        proptest::option::of(duration.clone()),
        proptest::option::of(capacity),
        proptest::option::of(duration.clone()),
        proptest::option::of(duration),
        any::<bool>(),
    )
        .prop_map(|(policy, ttl, capacity, max, sweep, old_names)| {
            let mut text = String::new();
            let mut field = |name: &str, value: Option<String>| {
                if let Some(v) = value {
                    text.push_str(&format!("{name} = {v}\n"));
                }
            };
            field("policy", policy.map(str::to_string));
            field(if old_names { "ttl" } else { "time_to_idle" }, ttl);
            field(
                if old_names {
                    "capacity"
                } else {
                    "max_capacity"
                },
                capacity,
            );
            field(
                if old_names {
                    "max_lifetime"
                } else {
                    "time_to_live"
                },
                max,
            );
            field("sweep_interval", sweep);
            text
        })
}

/// Parses `text` both ways and builds whatever parsed: none of it may panic.
fn parse_and_build(text: &str) {
    let parsed = [
        toml::from_str::<CacheConfig>(text).ok(),
        serde_json::from_str::<CacheConfig>(text).ok(),
    ];
    for config in parsed.into_iter().flatten() {
        if let Ok(policy) = config.to_policy() {
            let _ = Cache::<u32, u32>::new(policy);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        parse_and_build(&text);
    }

    #[test]
    fn arbitrary_field_values_never_panic(text in config_text()) {
        parse_and_build(&text);
        let json = as_json(text.trim_end());
        if !text.is_empty() {
            parse_and_build(&json);
        }
    }
}

// ---------------------------------------------------------- the docs' examples

/// The guide's sections of valid examples: everything before "## Errors",
/// whose inputs are invalid on purpose (checked in `config_docs.rs`).
const GUIDE_EXAMPLES: &str = "## Errors";

/// The fenced `lang` blocks of `docs/configuration.md` before the heading `until`.
fn doc_blocks(lang: &str, until: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
    let text = std::fs::read_to_string(&path).expect("docs/configuration.md");
    let text = &text[..text.find(until).expect("the heading")];
    let fence = format!("```{lang}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim() == fence => current = Some(String::new()),
            Some(block) if line.trim() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn every_toml_and_json_example_in_the_configuration_guide_is_a_valid_config() {
    let toml_blocks = doc_blocks("toml", GUIDE_EXAMPLES);
    let json_blocks = doc_blocks("json", GUIDE_EXAMPLES);
    assert!(
        toml_blocks.len() >= 3 && json_blocks.len() >= 2,
        "examples not found"
    );
    for block in &toml_blocks {
        let config: CacheConfig = toml::from_str(block).unwrap_or_else(|e| panic!("{block}\n{e}"));
        config
            .to_policy()
            .unwrap_or_else(|e| panic!("{block}\n{e}"));
    }
    for block in &json_blocks {
        let config: CacheConfig =
            serde_json::from_str(block).unwrap_or_else(|e| panic!("{block}\n{e}"));
        config
            .to_policy()
            .unwrap_or_else(|e| panic!("{block}\n{e}"));
    }
}
