//! Acceptance 3: what caching an OpenAI client costs against what it saves.
//!
//! - `hit`: a cached `OpenAiClients::get` against a plain `Client::clone`.
//! - `creation`: a new client as the adapter makes it (over the shared HTTP
//!   client, including the cache insert) against `Client::with_config`, which
//!   builds its own `reqwest::Client`.
//! - After criterion, the hit/clone ratio is measured once more with the two
//!   loops interleaved, so load from other processes hits both alike.
//!
//! Memory per client is measured by `tests/leak_regression.rs` (counting
//! allocator); see docs/benchmarks.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use criterion::{Criterion, criterion_group};
use tenure_openai::{ClientIdentity, OpenAiClients, OpenAiConfig};

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("sk-{i:048}")).collect()
}

/// A cache holding 1,000 clients, and its hottest key.
fn warm_cache() -> (OpenAiClients, String) {
    let clients = OpenAiClients::new(&OpenAiConfig::default()).unwrap();
    let keys = keys(1_000);
    for k in &keys {
        clients.get(k).unwrap();
    }
    (clients, keys[500].clone())
}

fn hit(c: &mut Criterion) {
    let (clients, hot) = warm_cache();
    let client = clients.get(&hot).unwrap();
    let identity = ClientIdentity::new(hot.as_str()).unwrap();
    clients.get_with_identity(&identity);
    let mut group = c.benchmark_group("hit");
    group.bench_function("Client::clone", |b| b.iter(|| black_box(&client).clone()));
    group.bench_function("OpenAiClients::get", |b| {
        b.iter(|| clients.get(black_box(&hot)).unwrap())
    });
    group.bench_function("OpenAiClients::get_with_identity", |b| {
        b.iter(|| clients.get_with_identity(black_box(&identity)))
    });
    group.finish();
}

fn creation(c: &mut Criterion) {
    // `with_config` builds reqwest's default TLS; with the `rustls-ring` feature
    // that needs a process-wide provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clients = OpenAiClients::new(&OpenAiConfig::default()).unwrap();
    let http = clients.http_client().clone();
    // More keys than the bound: every call misses, and inserts evict.
    let keys = keys(200_000);
    let mut next = 0;
    let mut group = c.benchmark_group("creation");
    group.bench_function("OpenAiClients::get (miss)", |b| {
        b.iter(|| {
            next = (next + 1) % keys.len();
            clients.get(&keys[next]).unwrap()
        })
    });
    group.bench_function("Client::build (shared HTTP)", |b| {
        b.iter(|| {
            Client::build(
                http.clone(),
                OpenAIConfig::new().with_api_key(black_box("sk-1")),
            )
        })
    });
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("Client::with_config", |b| {
        b.iter(|| Client::with_config(OpenAIConfig::new().with_api_key(black_box("sk-1"))))
    });
    group.finish();
}

/// Median over 31 rounds of (hit time / clone time), each round timing 100,000
/// of each back to back.
fn interleaved_hit_ratio() {
    let (clients, hot) = warm_cache();
    let client = clients.get(&hot).unwrap();
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..100_000 {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..31)
        .map(|_| {
            let clone = time(&mut || drop(black_box(black_box(&client).clone())));
            let hit = time(&mut || drop(black_box(clients.get(black_box(&hot)).unwrap())));
            hit / clone
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "interleaved: OpenAiClients::get hit / Client::clone = {:.2} (median of 31; min {:.2}, max {:.2})",
        ratios[15], ratios[0], ratios[30]
    );
}

fn short() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = short();
    targets = hit, creation
}

fn main() {
    benches();
    // Only a plain `cargo bench`: a filter, or `cargo test --benches`, skips it.
    if std::env::args().skip(1).eq(["--bench"]) {
        interleaved_hit_ratio();
    }
    Criterion::default().configure_from_args().final_summary();
}
