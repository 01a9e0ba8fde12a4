//! Identities that share a key and differ only in project (as a gateway that
//! forwards its callers' project headers sees them) cost no more per hit than
//! identities with distinct keys: the identity's hash covers every part.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tenure::ManualClock;
use tenure_openai::{ClientIdentity, OpenAiClients, OpenAiConfig};

const IDENTITIES: usize = 5_000;
const ROUNDS: usize = 9;
const HITS_PER_ROUND: usize = 2_000;

/// Both sets hash and compare the same number of bytes: a 51-byte key and a
/// 10-byte project.
fn identity(key: usize, project: usize) -> ClientIdentity {
    ClientIdentity::new(format!("sk-{key:048}"))
        .unwrap()
        .with_project(&format!("proj-{project:05}"))
        .unwrap()
}

/// A cache holding every identity of `set`, with time standing still so every
/// later look-up is a hit.
fn cache_of(set: &[ClientIdentity]) -> OpenAiClients {
    let mut config = OpenAiConfig::default();
    config.cache.sweep_interval = None;
    let clients = OpenAiClients::builder(config)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    for identity in set {
        clients.get_with_identity(identity);
    }
    assert_eq!(clients.len(), IDENTITIES);
    clients
}

/// The mean time of one hit over `HITS_PER_ROUND` hits spread across the set.
fn time_hits(clients: &OpenAiClients, set: &[ClientIdentity]) -> Duration {
    let start = Instant::now();
    for i in 0..HITS_PER_ROUND {
        // A stride coprime with the set's size visits it evenly, in no table order.
        let identity = &set[i * 7_919 % IDENTITIES];
        black_box(clients.get_with_identity(black_box(identity)));
    }
    start.elapsed() / HITS_PER_ROUND as u32
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
fn a_shared_key_costs_a_hit_no_more_than_distinct_keys() {
    let distinct: Vec<_> = (0..IDENTITIES).map(|i| identity(i + 1, 0)).collect();
    let colliding: Vec<_> = (0..IDENTITIES).map(|i| identity(0, i)).collect();
    let distinct_clients = cache_of(&distinct);
    let colliding_clients = cache_of(&colliding);

    // Interleaved, so a burst of load on the machine hits both sets alike.
    let (mut distinct_times, mut colliding_times) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        distinct_times.push(time_hits(&distinct_clients, &distinct));
        colliding_times.push(time_hits(&colliding_clients, &colliding));
    }
    for clients in [&distinct_clients, &colliding_clients] {
        assert_eq!(clients.stats().creations, IDENTITIES as u64, "all hits");
    }

    let (distinct_hit, colliding_hit) = (median(distinct_times), median(colliding_times));
    let ratio = colliding_hit.as_secs_f64() / distinct_hit.as_secs_f64();
    println!(
        "hit: {distinct_hit:?} among distinct keys, {colliding_hit:?} among one key's \
         projects ({ratio:.2}x)"
    );
    assert!(
        ratio <= 2.0,
        "a hit among {IDENTITIES} identities sharing a key costs {ratio:.1}x one among \
         {IDENTITIES} distinct keys ({colliding_hit:?} vs {distinct_hit:?}); at most 2x allowed"
    );
}
