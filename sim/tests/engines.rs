//! The policy engine (the policy state machine driven directly) and the cache
//! engine (the real `tenure::Cache` on a manual clock) give the same replay,
//! counter for counter, for every policy bounded by a capacity, on real traces.

use std::path::PathBuf;
use std::time::Duration;

use tenure::{CacheConfig, PolicyKind};
use tenure_sim::{Engine, RunStats, TraceOptions, replay_trace};

fn trace(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../testdata/traces/{name}.lis.zst"))
}

fn replay(name: &str, config: &CacheConfig, engine: Engine) -> RunStats {
    let report = replay_trace(&trace(name), TraceOptions::default(), config, engine, true)
        .unwrap_or_else(|e| panic!("{name} {config:?} {engine:?}: {e}"));
    RunStats {
        elapsed: Duration::ZERO,
        ..report.stats
    }
}

#[test]
fn both_engines_agree_for_every_bounded_policy_on_two_traces() {
    let policies = [
        PolicyKind::Lru,
        PolicyKind::TinyLfu,
        PolicyKind::S3Fifo,
        PolicyKind::Sieve,
        PolicyKind::Hybrid,
    ];
    let mut hybrid_evicted = 0;
    for (name, capacity) in [("sprite", 100), ("loop", 500)] {
        for policy in policies {
            let config = CacheConfig {
                policy,
                max_capacity: Some(capacity),
                // 1 ms per lookup: idle for 200 lookups, so hybrid expires entries.
                time_to_idle: (policy == PolicyKind::Hybrid).then(|| Duration::from_millis(200)),
                time_to_live: None,
                sweep_interval: None,
            };
            let by_policy = replay(name, &config, Engine::Policy);
            let by_cache = replay(name, &config, Engine::Cache);
            assert_eq!(by_policy, by_cache, "{name} at {capacity}, {policy}");
            if policy == PolicyKind::Hybrid {
                assert!(by_policy.expired > 0, "{name} {policy}: {by_policy:?}");
                hybrid_evicted += by_policy.capacity_evicted;
            } else {
                assert!(
                    by_policy.capacity_evicted > 0,
                    "{name} {policy}: {by_policy:?}"
                );
            }
            // The same engine gives the same result every run.
            assert_eq!(
                replay(name, &config, Engine::Cache),
                by_cache,
                "{name} {policy} again"
            );
        }
    }
    assert!(hybrid_evicted > 0, "hybrid never reached its bound");
}
