//! Acceptance 2: the incident, replayed. One million distinct API keys arrive
//! over 48 simulated hours, each used for about four minutes. The bounded cache
//! never holds more than its capacity and drains to zero once traffic stops; a
//! forever-map, the original Go code's shape, keeps every client.
//!
//! Heap per client is measured with dhat's counting allocator (installed for
//! this test binary only, and profiling only while measuring).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use tenure::ManualClock;
use tenure_openai::{OpenAiClient, OpenAiClients, OpenAiConfig};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const KEYS: usize = 1_000_000;
const SPAN: Duration = Duration::from_secs(48 * 3600);
const CAPACITY: usize = 10_000;
/// Each key is used on arrival, ~2 and ~4 minutes later.
const REUSE_STEPS: [usize; 2] = [694, 1389];

/// An OpenAI-sized key (51 bytes) for tenant `i`, written into `buf`.
fn key(buf: &mut String, i: usize) -> &str {
    buf.clear();
    write!(buf, "sk-{i:048}").unwrap();
    buf
}

fn config() -> OpenAiConfig {
    let mut config: OpenAiConfig = toml::from_str(&format!(
        "[cache]\npolicy = \"hybrid\"\ntime_to_idle = \"1h\"\nmax_capacity = {CAPACITY}\n\
         # a fast real-time sweep, so the drain below does not wait long\n\
         sweep_interval = \"5ms\""
    ))
    .unwrap();
    config.base_url = "http://127.0.0.1:9/v1".into(); // never contacted
    config
}

/// What the Go code did: a client per key, kept forever. Built over the same
/// shared HTTP client, so only the keeping differs.
struct ForeverMap {
    http: reqwest::Client,
    clients: HashMap<String, OpenAiClient>,
}

impl ForeverMap {
    fn get(&mut self, api_key: &str) -> OpenAiClient {
        if let Some(client) = self.clients.get(api_key) {
            return client.clone();
        }
        let config = OpenAIConfig::new().with_api_key(api_key);
        let client = Client::build(self.http.clone(), config);
        self.clients.insert(api_key.to_string(), client.clone());
        client
    }
}

/// Live heap bytes per item after `fill` makes `n` of them (dhat profiling on).
fn heap_per_item(n: usize, fill: impl FnOnce()) -> f64 {
    let before = dhat::HeapStats::get().curr_bytes;
    fill();
    let after = dhat::HeapStats::get().curr_bytes;
    (after.saturating_sub(before)) as f64 / n as f64
}

#[test]
fn a_million_keys_over_two_days_stay_bounded_and_drain() {
    let started = Instant::now();
    let clock = ManualClock::new();
    let clients = OpenAiClients::builder(config())
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut naive = ForeverMap {
        http: clients.http_client().clone(),
        clients: HashMap::new(),
    };
    let step = SPAN / KEYS as u32;
    let (mut buf, mut peak, mut naive_samples) = (String::new(), 0, Vec::new());
    for i in 0..KEYS {
        clock.advance(step);
        for back in std::iter::once(0).chain(REUSE_STEPS) {
            if let Some(tenant) = i.checked_sub(back) {
                let api_key = key(&mut buf, tenant);
                clients.get(api_key).unwrap();
                naive.get(api_key);
            }
        }
        peak = peak.max(clients.len());
        assert!(
            clients.len() <= CAPACITY,
            "{} live clients at step {i}",
            clients.len()
        );
        if i % (KEYS / 8) == KEYS / 8 - 1 {
            naive_samples.push((i + 1, clients.len(), naive.clients.len()));
        }
    }
    let stats = clients.stats();
    let uses = 3 * KEYS - REUSE_STEPS.iter().sum::<usize>();
    assert_eq!(stats.creations, KEYS as u64, "one creation per key");
    assert_eq!(stats.hits + stats.misses, uses as u64);
    assert_eq!(peak, CAPACITY, "the bound was reached and held");
    // ~5.8 new keys a second, each live for an hour after its last use, would
    // need ~22,000 clients: the bound, not the TTL, evicts during traffic.
    assert_eq!(
        stats.removals.capacity,
        (KEYS - CAPACITY) as u64,
        "{stats:?}"
    );
    assert_eq!(naive.clients.len(), KEYS, "the forever-map kept every key");

    // Traffic stops. One idle TTL later the sweeper empties the cache.
    clock.advance(Duration::from_secs(3600));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !clients.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the sweeper did not drain: {}",
            clients.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let final_stats = clients.stats();
    assert_eq!(
        final_stats.removals.expired, CAPACITY as u64,
        "{final_stats:?}"
    );
    assert_eq!(final_stats.removals.total(), KEYS as u64, "{final_stats:?}");
    let simulated = started.elapsed();

    // Heap per client, measured with the counting allocator.
    let sample = CAPACITY;
    let fresh = OpenAiClients::new(&config()).unwrap();
    let mut fresh_naive = ForeverMap {
        http: fresh.http_client().clone(),
        clients: HashMap::new(),
    };
    let keys: Vec<String> = (0..sample)
        .map(|i| key(&mut String::new(), i).to_string())
        .collect();
    // Providers: `with_config` needs one installed when built with `rustls-ring`.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let profiler = dhat::Profiler::builder().testing().build();
    let cached = heap_per_item(sample, || {
        for k in &keys {
            fresh.get(k).unwrap();
        }
    });
    let naive_entry = heap_per_item(sample, || {
        for k in &keys {
            fresh_naive.get(k);
        }
    });
    let mut standalone = Vec::new();
    let with_config = heap_per_item(20, || {
        for k in &keys[..20] {
            standalone.push(Client::with_config(
                OpenAIConfig::new().with_api_key(k.as_str()),
            ));
        }
    });
    drop(profiler);
    assert_eq!(fresh.len(), sample);

    println!("simulated {KEYS} keys over 48 h in {simulated:.1?} (wall clock)");
    println!("peak live clients: tenure-openai {peak} (bound {CAPACITY}); after idle TTL: 0");
    for (arrived, live, naive_len) in &naive_samples {
        println!(
            "  after {arrived:>7} keys: tenure-openai {live:>5} | forever-map {naive_len:>7} (~{:.0} MB)",
            *naive_len as f64 * naive_entry / 1e6
        );
    }
    println!(
        "heap per live client (cache entry + identity + client over shared HTTP): {cached:.0} B"
    );
    println!("heap per forever-map entry (key + client over shared HTTP): {naive_entry:.0} B");
    println!("heap per Client::with_config client (own reqwest client): {with_config:.0} B");
    println!("  => {:.0}x smaller per client", with_config / cached);
    println!(
        "bounded peak ~{:.1} MB vs forever-map {:.0} MB",
        CAPACITY as f64 * cached / 1e6,
        KEYS as f64 * naive_entry / 1e6
    );
    assert!(cached > 0.0 && cached < 2_000.0, "{cached} B per client");
    assert!(
        with_config / cached >= 100.0,
        "{with_config} B vs {cached} B"
    );
}
