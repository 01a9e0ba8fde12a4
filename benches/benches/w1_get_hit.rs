//! Criterion: W1, get hits over 10k resident keys, one thread, on every cache.
#![forbid(unsafe_code)]

mod common;

use tenure_benches::workload::Workload;

fn bench(c: &mut criterion::Criterion) {
    common::bench_workload(c, Workload::W1 { threads: 1 });
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
