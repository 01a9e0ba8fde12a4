//! The replay loop shared by trace replays and the built-in scenario.

use std::time::{Duration, Instant};

use tenure::policy::Timestamp;

use crate::model::{Model, nanos};
use crate::trace::Access;

/// How a replay treats time besides the lookups themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Simulate a background sweeper: call [`Model::sweep`] at every multiple of
    /// this interval of simulated time.
    pub sweep_interval: Option<Duration>,
    /// Record [`Model::len`] at every multiple of this interval, for a chart.
    pub sample_every: Option<Duration>,
    /// Carry sweeps and samples on to this instant after the last lookup.
    pub end: Option<Timestamp>,
    /// The first sample's instant (the others follow every
    /// [`sample_every`](Self::sample_every)): a trace's first timestamp, so
    /// that a trace stamped in Unix time is not sampled from 1970.
    pub samples_from: Timestamp,
}

/// Entries held at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When.
    pub time: Timestamp,
    /// [`Model::len`] then.
    pub len: usize,
}

/// What a replay measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Lookups replayed.
    pub accesses: u64,
    /// Lookups that found a live entry.
    pub hits: u64,
    /// Most entries held after any lookup.
    pub peak_len: usize,
    /// Entries held at the end.
    pub final_len: usize,
    /// Entries removed because they expired.
    pub expired: u64,
    /// Entries removed to stay within capacity.
    pub capacity_evicted: u64,
    /// [`Model::len`] over time, if [`RunOptions::sample_every`] was set.
    pub samples: Vec<Sample>,
    /// Wall-clock time the replay took.
    pub elapsed: Duration,
}

impl RunStats {
    /// Lookups that created a value (every miss creates one).
    pub fn creations(&self) -> u64 {
        self.accesses - self.hits
    }

    /// Hits as a percentage of lookups, rounded to two decimals as printed
    /// (so the number in JSON and in text always agree); 0 for no lookups.
    pub fn hit_ratio_percent(&self) -> f64 {
        percent_two_decimals(self.hits, self.accesses)
    }
}

/// `100 × part / whole`, rounded to two decimals as printed; 0 if `whole` is 0.
pub(crate) fn percent_two_decimals(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    let percent = 100.0 * part as f64 / whole as f64;
    format!("{percent:.2}").parse().unwrap_or(percent)
}

/// Simulated-time bookkeeping: the next sweep and sample instants.
struct Timeline {
    sweep_every: u64,
    next_sweep: u64,
    sample_every: u64,
    next_sample: u64,
    /// The earlier of the two (`u64::MAX` if neither applies): one comparison
    /// per lookup decides whether anything is due.
    next_event: u64,
}

impl Timeline {
    fn new(options: &RunOptions) -> Self {
        let sweep_every = options.sweep_interval.map_or(0, nanos);
        let sample_every = options.sample_every.map_or(0, nanos);
        let mut timeline = Timeline {
            sweep_every,
            next_sweep: sweep_every,
            sample_every,
            next_sample: options.samples_from.as_nanos(),
            next_event: 0,
        };
        timeline.plan();
        timeline
    }

    fn plan(&mut self) {
        let sweep = if self.sweep_every > 0 {
            self.next_sweep
        } else {
            u64::MAX
        };
        let sample = if self.sample_every > 0 {
            self.next_sample
        } else {
            u64::MAX
        };
        self.next_event = sweep.min(sample);
    }

    /// Moves the model to `now`, first running the sweeps and taking the
    /// samples due up to and including `now`.
    #[inline]
    fn catch_up<M: Model + ?Sized>(&mut self, model: &mut M, now: u64, samples: &mut Vec<Sample>) {
        if now >= self.next_event {
            self.run_due(model, now, samples);
        }
        model.advance_to(Timestamp::from_nanos(now));
    }

    #[cold]
    fn run_due<M: Model + ?Sized>(&mut self, model: &mut M, now: u64, samples: &mut Vec<Sample>) {
        if self.sweep_every > 0 && self.next_sweep <= now {
            // Between two lookups nothing changes but expiry, so the first tick
            // and the last tick of a quiet stretch are the only ones that matter.
            model.advance_to(Timestamp::from_nanos(self.next_sweep));
            model.sweep();
            let last = now - (now - self.next_sweep) % self.sweep_every;
            if last > self.next_sweep {
                model.advance_to(Timestamp::from_nanos(last));
                model.sweep();
            }
            self.next_sweep = last.saturating_add(self.sweep_every);
        }
        while self.sample_every > 0 && self.next_sample <= now {
            samples.push(Sample {
                time: Timestamp::from_nanos(self.next_sample),
                len: model.len(),
            });
            self.next_sample = self.next_sample.saturating_add(self.sample_every);
        }
        self.plan();
    }
}

/// Replays `batches` of accesses through `model`, in order, stopping at the
/// first error. Calls `tick(accesses_so_far)` after each batch (for progress).
///
/// ```
/// use tenure::policy::Timestamp;
/// use tenure_sim::{Access, RunOptions, UnboundedMap, run};
///
/// let trace = [1, 2, 1, 1].map(|key| Access { time: Timestamp::ZERO, key });
/// let batches = trace.chunks(3).map(Ok::<_, std::convert::Infallible>);
/// let stats = run(&mut UnboundedMap::default(), batches, &RunOptions::default(), |_| {})?;
/// assert_eq!((stats.accesses, stats.hits, stats.peak_len), (4, 2, 2));
/// assert_eq!(stats.hit_ratio_percent(), 50.0);
/// # Ok::<(), std::convert::Infallible>(())
/// ```
///
/// # Errors
/// The first error the iterator yields.
pub fn run<M: Model + ?Sized, B: AsRef<[Access]>, E>(
    model: &mut M,
    batches: impl IntoIterator<Item = Result<B, E>>,
    options: &RunOptions,
    mut tick: impl FnMut(u64),
) -> Result<RunStats, E> {
    let started = Instant::now();
    let mut timeline = Timeline::new(options);
    let mut stats = RunStats::default();
    for batch in batches {
        let batch = batch?;
        let batch = batch.as_ref();
        for access in batch {
            timeline.catch_up(model, access.time.as_nanos(), &mut stats.samples);
            stats.hits += u64::from(model.access(access.key));
            stats.peak_len = stats.peak_len.max(model.len());
        }
        stats.accesses += batch.len() as u64;
        tick(stats.accesses);
    }
    if let Some(end) = options.end {
        timeline.catch_up(model, end.as_nanos(), &mut stats.samples);
    }
    stats.final_len = model.len();
    stats.expired = model.expired();
    stats.capacity_evicted = model.capacity_evicted();
    stats.elapsed = started.elapsed();
    Ok(stats)
}
