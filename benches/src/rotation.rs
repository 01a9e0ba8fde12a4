//! Interleaved measurement: every cache runs in short bursts, in a rotating
//! order, timed by per-thread CPU time, so that noise from a shared machine hits
//! all caches alike and each round yields paired ratios.

use std::sync::Arc;
use std::time::Duration;

use cpu_time::ThreadTime;
use parking_lot::Mutex;

use crate::contenders::{Contender, Visit};
use crate::workload::{Cursor, Workload};

/// Operations between two reads of the thread's CPU clock (a system call).
const CHUNK: usize = 1024;

/// What one burst measured, summed over its threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Operations run.
    pub ops: u64,
    /// CPU time the running threads used.
    pub cpu: Duration,
    /// Operations that hit.
    pub hits: u64,
}

impl Sample {
    /// Per-thread CPU nanoseconds per operation.
    pub fn ns_per_op(&self) -> f64 {
        self.cpu.as_nanos() as f64 / self.ops.max(1) as f64
    }

    /// Hits per operation.
    pub fn hit_ratio(&self) -> f64 {
        self.hits as f64 / self.ops.max(1) as f64
    }
}

/// A prepared cache with its workload, ready to run bursts.
pub trait Burst: Send + Sync {
    /// Runs the workload until each of its threads has used `min_cpu` of CPU time.
    fn burst(&self, min_cpu: Duration) -> Sample;
}

/// A [`Visit`] that prepares a cache for `workload` and returns it as a [`Burst`].
#[derive(Debug)]
pub struct PrepareBurst {
    /// The workload to run.
    pub workload: Workload,
    /// Its key stream (shared by every cache).
    pub stream: Arc<[u64]>,
}

impl Visit for PrepareBurst {
    type Output = Box<dyn Burst>;

    fn visit<C: Contender>(self, cache: C) -> Box<dyn Burst> {
        let threads = self.workload.threads();
        let mut first = Cursor::at(0);
        self.workload.prepare(&cache, &self.stream, &mut first);
        let stride = self.stream.len() / threads.max(1);
        let cursors = (0..threads)
            .map(|t| {
                let mut c = first.clone();
                c.pos = first.pos.wrapping_add(t * stride);
                // Fresh keys of different threads must not collide.
                c.fresh = first.fresh + ((t as u64) << 40);
                Mutex::new(c)
            })
            .collect();
        Box::new(Driver {
            cache,
            workload: self.workload,
            stream: self.stream,
            cursors,
        })
    }
}

struct Driver<C> {
    cache: C,
    workload: Workload,
    stream: Arc<[u64]>,
    cursors: Vec<Mutex<Cursor>>,
}

impl<C: Contender> Driver<C> {
    fn run_thread(&self, cursor: &Mutex<Cursor>, min_cpu: Duration) -> Sample {
        let mut cursor = cursor.lock();
        let start = ThreadTime::now();
        let mut sample = Sample::default();
        loop {
            sample.hits += self
                .workload
                .run(&self.cache, &self.stream, &mut cursor, CHUNK);
            sample.ops += CHUNK as u64;
            sample.cpu = start.elapsed();
            if sample.cpu >= min_cpu {
                return sample;
            }
        }
    }
}

impl<C: Contender> Burst for Driver<C> {
    fn burst(&self, min_cpu: Duration) -> Sample {
        if let [only] = self.cursors.as_slice() {
            return self.run_thread(only, min_cpu);
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = self
                .cursors
                .iter()
                .map(|c| s.spawn(move || self.run_thread(c, min_cpu)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .fold(Sample::default(), |a, b| Sample {
                    ops: a.ops + b.ops,
                    cpu: a.cpu + b.cpu,
                    hits: a.hits + b.hits,
                })
        })
    }
}

/// Median and quartiles of a set of measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
}

impl Summary {
    /// Summarises `values` (linear interpolation between order statistics);
    /// `None` if there are none or one is NaN.
    ///
    /// ```
    /// use tenure_benches::rotation::Summary;
    /// let s = Summary::of(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
    /// assert_eq!((s.q1, s.median, s.q3), (2.0, 3.0, 4.0));
    /// ```
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let pos = q * (sorted.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        };
        Some(Summary {
            q1: at(0.25),
            median: at(0.5),
            q3: at(0.75),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contenders::Kind;

    #[test]
    fn summary_interpolates_and_rejects_nan() {
        let s = Summary::of(&[1.0, 2.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (1.25, 1.5, 1.75));
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn bursts_run_at_least_their_cpu_time_on_every_thread() {
        let workload = Workload::W1 { threads: 2 };
        let burst = Kind::FloorFoldHash
            .build(
                &workload.setup(),
                PrepareBurst {
                    workload,
                    stream: workload.stream(),
                },
            )
            .unwrap();
        let sample = burst.burst(Duration::from_millis(5));
        assert!(sample.cpu >= Duration::from_millis(10), "{sample:?}");
        assert_eq!(sample.hits, sample.ops);
        assert!(sample.ns_per_op() > 0.0);
    }
}
