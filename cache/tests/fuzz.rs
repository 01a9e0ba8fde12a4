//! Property-based fuzzing of configuration parsing: arbitrary strings and
//! generated TOML/JSON documents never make parsing or validation panic, and every
//! error names a field of [`CacheConfig`] or a line of the input.
//!
//! (Random operation sequences against a reference model are fuzzed in
//! `reference_model.rs`.)

use proptest::prelude::*;
use tenure::{Cache, CacheConfig};

/// The fields, then the old names read as aliases of three of them.
const FIELDS: [&str; 8] = [
    "policy",
    "max_capacity",
    "time_to_idle",
    "time_to_live",
    "sweep_interval",
    "capacity",
    "ttl",
    "max_lifetime",
];

/// An error message is useful if it points at a field or at a place in the input.
fn assert_locates(message: &str, input: &str) {
    let names_field = FIELDS.iter().any(|f| message.contains(f));
    let names_line = message.contains("line");
    assert!(
        names_field || names_line,
        "error names neither a field nor a line: {message:?}\ninput:\n{input}"
    );
}

/// Validates a parsed config the way a program would: checks it, then builds a
/// cache from it (without a sweeper, so the fuzzer starts no threads).
fn check_parsed(config: &CacheConfig, input: &str) {
    match config.to_policy() {
        Ok(policy) => {
            let cache: Cache<u32, u32> = Cache::builder()
                .policy(policy)
                .shards(1)
                .build()
                .expect("a valid cache");
            cache.insert(1, 1);
            assert!(cache.len() <= 1);
            // A valid config round-trips through TOML and JSON.
            let toml_text = toml::to_string(config).expect("serialize toml");
            assert_eq!(
                &toml::from_str::<CacheConfig>(&toml_text).expect("reparse toml"),
                config
            );
            let json_text = serde_json::to_string(config).expect("serialize json");
            assert_eq!(
                &serde_json::from_str::<CacheConfig>(&json_text).expect("reparse json"),
                config
            );
        }
        Err(e) => assert_locates(&e.to_string(), input),
    }
}

fn check_toml(input: &str) {
    match toml::from_str::<CacheConfig>(input) {
        Ok(config) => check_parsed(&config, input),
        Err(e) => assert_locates(&e.to_string(), input),
    }
}

fn check_json(input: &str) {
    match serde_json::from_str::<CacheConfig>(input) {
        Ok(config) => check_parsed(&config, input),
        Err(e) => assert_locates(&e.to_string(), input),
    }
}

/// A field name: mostly real ones, sometimes a near miss or garbage.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(&FIELDS[..]).prop_map(str::to_string),
        1 => Just("policy-kind".to_string()),
        1 => Just("TTL".to_string()),
        1 => "[a-z_]{1,12}",
    ]
}

/// A duration-ish string: valid units, bad units, overflow, empty, unicode.
fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            0u64..100_000,
            proptest::sample::select(&["ns", "us", "ms", "s", "m", "h", "d", ""][..])
        )
            .prop_map(|(n, u)| format!("{n}{u}")),
        (0u64..100, 0u64..100).prop_map(|(h, m)| format!("{h}h{m}m")),
        Just("18446744073709551615h".to_string()),
        Just("99999999999999999999999s".to_string()),
        Just(String::new()),
        Just("1h 30m".to_string()),
        Just("-5s".to_string()),
        "\\PC{0,8}",
    ]
}

/// A TOML value of any type, weighted towards plausible ones.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(&["sliding-ttl", "lru", "lru-bound", "hybrid", "LRU", "fifo", ""][..])
            .prop_map(|s| format!("{s:?}")),
        3 => duration_text().prop_map(|s| format!("{s:?}")),
        3 => prop_oneof![Just(0i64), Just(1), Just(-1), Just(i64::MAX), Just(i64::MIN), any::<i64>()]
            .prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|f| if f.is_finite() { format!("{f:?}") } else { "nan".to_string() }),
        1 => any::<bool>().prop_map(|b| b.to_string()),
        1 => Just("[1, \"1h\"]".to_string()),
        1 => Just("{ secs = 5 }".to_string()),
        1 => Just("1979-05-27T07:32:00Z".to_string()),
        1 => "\\PC{0,6}",
    ]
}

fn toml_document() -> impl Strategy<Value = String> {
    proptest::collection::vec((field_name(), toml_value()), 0..7).prop_map(|lines| {
        lines
            .into_iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect()
    })
}

fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        toml_value().prop_filter_map("not JSON", |v| {
            serde_json::from_str::<serde_json::Value>(&v)
                .ok()
                .map(|_| v)
        }),
        Just("null".to_string()),
        Just("{}".to_string()),
    ]
}

fn json_document() -> impl Strategy<Value = String> {
    proptest::collection::vec((field_name(), json_value()), 0..7).prop_map(|fields| {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k:?}: {v}")).collect();
        format!("{{{}}}", body.join(", "))
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics_and_errors_locate_themselves(input in "\\PC{0,80}") {
        check_toml(&input);
        check_json(&input);
    }

    #[test]
    fn arbitrary_toml_documents_never_panic_and_errors_locate_themselves(doc in toml_document()) {
        check_toml(&doc);
    }

    #[test]
    fn arbitrary_json_documents_never_panic_and_errors_locate_themselves(doc in json_document()) {
        check_json(&doc);
    }

    /// Documents made only of valid pieces still exercise every validation rule
    /// (missing and inapplicable fields, zero and oversized numbers, lifetimes
    /// shorter than the TTL).
    #[test]
    fn well_formed_configs_are_accepted_or_name_the_field(
        policy in proptest::sample::select(&["sliding-ttl", "lru", "hybrid"][..]),
        ttl in proptest::option::of(0u64..5),
        capacity in proptest::option::of(prop_oneof![Just(0usize), Just(usize::MAX), 1usize..10]),
        max_lifetime in proptest::option::of(0u64..5),
        sweep in proptest::option::of(0u64..3),
        old_names in any::<bool>(),
    ) {
        let [idle, cap, live] = match old_names {
            true => ["ttl", "capacity", "max_lifetime"],
            false => ["time_to_idle", "max_capacity", "time_to_live"],
        };
        let mut doc = format!("policy = {policy:?}\n");
        if let Some(t) = ttl { doc += &format!("{idle} = \"{t}s\"\n"); }
        if let Some(c) = capacity { doc += &format!("{cap} = {c}\n"); }
        if let Some(m) = max_lifetime { doc += &format!("{live} = {m}\n"); }
        if let Some(s) = sweep { doc += &format!("sweep_interval = \"{s}m\"\n"); }
        check_toml(&doc);
    }
}

#[test]
fn error_messages_name_the_field_or_line() {
    // Spot checks that the property's notion of "locates" is not vacuous.
    let err = toml::from_str::<CacheConfig>("policy = \"lru\"\ncapacity = -1").unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    let err = toml::from_str::<CacheConfig>("policy = \"lru\"").unwrap();
    assert_eq!(
        err.to_policy().unwrap_err().to_string(),
        "`max_capacity` is required for policy `lru`"
    );
    let err = serde_json::from_str::<CacheConfig>("{\"policy\": \"lru\", \"cap\": 1}").unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
}
