//! Identities that share a key and differ only in project (as a gateway that
//! forwards its callers' project headers sees them) cost no more per hit than
//! identities with distinct keys: the identity's hash covers every part.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tenure::ManualClock;
use tenure_openai::{ClientIdentity, OpenAiClients, OpenAiConfig};

const IDENTITIES: usize = 5_000;
/// Many short batches rather than a few long rounds: most batches then run
/// without being preempted on a loaded machine, and the median ignores the rest.
const BATCHES: usize = 101;
const HITS_PER_BATCH: usize = 200;

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

/// The mean time of one hit over batch `batch`'s hits, which continue where
/// the previous batch stopped on a path through the whole set.
fn time_hits(clients: &OpenAiClients, set: &[ClientIdentity], batch: usize) -> Duration {
    let start = Instant::now();
    for i in batch * HITS_PER_BATCH..(batch + 1) * HITS_PER_BATCH {
        // A stride coprime with the set's size visits it evenly, in no table order.
        let identity = &set[i * 7_919 % IDENTITIES];
        black_box(clients.get_with_identity(black_box(identity)));
    }
    start.elapsed() / HITS_PER_BATCH as u32
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

    // Interleaved batch by batch, each set going first every other time, so
    // load from other processes and the position in a time slice fall on both alike.
    let (mut distinct_times, mut colliding_times) = (Vec::new(), Vec::new());
    for batch in 0..BATCHES {
        let distinct_first = batch % 2 == 0;
        if distinct_first {
            distinct_times.push(time_hits(&distinct_clients, &distinct, batch));
        }
        colliding_times.push(time_hits(&colliding_clients, &colliding, batch));
        if !distinct_first {
            distinct_times.push(time_hits(&distinct_clients, &distinct, batch));
        }
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
