//! What the criterion benches share: one bench function per cache for a workload.

use std::time::Duration;

use tenure_benches::contenders::{Contender, Kind, Visit};
use tenure_benches::workload::{Cursor, Workload};

/// Operations per criterion iteration (criterion reports time per operation
/// through its `Throughput::Elements`).
const OPS_PER_ITER: usize = 1024;

/// Short settings, so that the whole suite stays a few minutes long.
fn quick_settings<M: criterion::measurement::Measurement>(
    group: &mut criterion::BenchmarkGroup<'_, M>,
) {
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1_200))
        .sample_size(20)
        .throughput(criterion::Throughput::Elements(OPS_PER_ITER as u64));
}

/// Registers a bench of `workload` on every cache of [`Kind::ALL`] in a group
/// named after the workload. Multi-threaded W1 is left to `compare`.
pub(crate) fn bench_workload(c: &mut criterion::Criterion, workload: Workload) {
    let mut group = c.benchmark_group(workload.label());
    quick_settings(&mut group);
    let stream = workload.stream();
    for kind in Kind::ALL {
        let bench = BenchOne {
            group: &mut group,
            workload,
            stream: &stream,
            name: kind.label(),
        };
        kind.build(&workload.setup(), bench)
            .expect("the workload constants are valid");
    }
    group.finish();
}

struct BenchOne<'a, 'g> {
    group: &'a mut criterion::BenchmarkGroup<'g, criterion::measurement::WallTime>,
    workload: Workload,
    stream: &'a [u64],
    name: &'static str,
}

impl Visit for BenchOne<'_, '_> {
    type Output = ();
    fn visit<C: Contender>(self, cache: C) {
        let mut cursor = Cursor::at(0);
        self.workload.prepare(&cache, self.stream, &mut cursor);
        let (workload, stream) = (self.workload, self.stream);
        self.group.bench_function(self.name, |b| {
            b.iter(|| workload.run(&cache, stream, &mut cursor, OPS_PER_ITER));
        });
    }
}
