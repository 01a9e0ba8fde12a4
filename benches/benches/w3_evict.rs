//! Criterion: W3, fresh inserts into a full cache (every op evicts), on every cache.
#![forbid(unsafe_code)]

mod common;

use tenure_benches::workload::Workload;

fn bench(c: &mut criterion::Criterion) {
    common::bench_workload(c, Workload::W3);
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
