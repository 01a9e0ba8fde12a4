//! Criterion: W2a and W2b, zipf(1.0) over 1M keys into capacity 10k, on every cache.
#![forbid(unsafe_code)]

mod common;

use tenure_benches::workload::Workload;

fn bench(c: &mut criterion::Criterion) {
    common::bench_workload(c, Workload::W2a);
    common::bench_workload(c, Workload::W2b);
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
