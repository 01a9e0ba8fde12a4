//! With the `metrics` feature the client cache publishes its stats by name.
#![cfg(feature = "metrics")]

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tenure_openai::{OpenAiClients, OpenAiConfig};

/// `(cache label, hits, misses)` of every published `tenure_cache_hits_total`
/// and `tenure_cache_misses_total`, after `publish` ran under a local recorder.
fn lookups(publish: impl FnOnce()) -> Vec<(String, String, u64)> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, publish);
    let mut found: Vec<(String, String, u64)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| {
            let key = key.key();
            let name = key.name().strip_prefix("tenure_cache_")?;
            let DebugValue::Counter(n) = value else {
                return None;
            };
            let cache = key
                .labels()
                .find(|l| l.key() == "cache")?
                .value()
                .to_owned();
            (name == "hits_total" || name == "misses_total").then(|| (cache, name.to_owned(), n))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn the_client_cache_publishes_under_its_own_name() {
    let mut config = OpenAiConfig::default();
    config.cache.sweep_interval = None;
    let clients = OpenAiClients::new(&config).unwrap();
    let other = OpenAiClients::builder(config)
        .metrics_name("batch_clients")
        .build()
        .unwrap();
    clients.get("sk-one").unwrap();
    clients.get("sk-one").unwrap();
    clients.get("sk-two").unwrap();
    other.get("sk-one").unwrap();
    let published = lookups(|| {
        clients.run_maintenance();
        other.run_maintenance();
    });
    let row = |cache: &str, name: &str, n| (cache.to_owned(), name.to_owned(), n);
    assert_eq!(
        published,
        [
            row("batch_clients", "hits_total", 0),
            row("batch_clients", "misses_total", 1),
            row(OpenAiClients::METRICS_NAME, "hits_total", 1),
            row(OpenAiClients::METRICS_NAME, "misses_total", 2),
        ]
    );
    assert_eq!(OpenAiClients::METRICS_NAME, "openai_clients");
}
