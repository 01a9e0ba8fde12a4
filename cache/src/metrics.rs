//! Publishing [`CacheStats`] through the [`metrics`](::metrics) facade (the
//! `metrics` feature).
//!
//! The hit path records nothing here: hits and misses are already counted in
//! per-thread buffers, and a publish copies a [`Cache::stats`](crate::Cache::stats)
//! snapshot into the recorder, setting counters to absolute values and gauges to
//! the current ones. Handles are looked up at each publish rather than kept, so
//! a cache built before the program installs its recorder still publishes to it.

use ::metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit};

use crate::stats::CacheStats;

/// The label that carries the cache's name.
const CACHE_LABEL: &str = "cache";
/// The label that carries a removal's cause.
const CAUSE_LABEL: &str = "cause";

const HITS: &str = "tenure_cache_hits_total";
const MISSES: &str = "tenure_cache_misses_total";
const CREATIONS: &str = "tenure_cache_creations_total";
const CREATION_FAILURES: &str = "tenure_cache_creation_failures_total";
const REMOVALS: &str = "tenure_cache_removals_total";
const LISTENER_PANICS: &str = "tenure_cache_listener_panics_total";
const ENTRIES: &str = "tenure_cache_entries";
const WEIGHTED_SIZE: &str = "tenure_cache_weighted_size";

static METADATA: Metadata<'static> = Metadata::new("tenure", Level::INFO, Some(module_path!()));

/// A cache's name as its metrics carry it, cheap to clone into each label.
#[derive(Debug, Clone)]
pub(crate) struct MetricsName(SharedString);

impl MetricsName {
    pub(crate) fn new(name: String) -> Self {
        MetricsName(SharedString::from_shared(name.into()))
    }

    /// Publishes `stats` to the recorder current on this thread (the local one
    /// if set, else the global one; none: nothing happens).
    pub(crate) fn publish(&self, stats: &CacheStats) {
        ::metrics::with_recorder(|recorder| {
            Publish {
                recorder,
                name: self,
            }
            .all(stats)
        });
    }
}

/// One publish: a recorder and the name to label with.
struct Publish<'a> {
    recorder: &'a dyn Recorder,
    name: &'a MetricsName,
}

impl Publish<'_> {
    fn all(&self, stats: &CacheStats) {
        self.counter(HITS, "Lookups that found a live entry.", &[], stats.hits);
        self.counter(
            MISSES,
            "Lookups that found nothing, or an expired entry.",
            &[],
            stats.misses,
        );
        self.counter(
            CREATIONS,
            "Values made by a get-or-create creator and stored.",
            &[],
            stats.creations,
        );
        self.counter(
            CREATION_FAILURES,
            "Creators that returned an error, panicked, or were dropped.",
            &[],
            stats.creation_failures,
        );
        let r = &stats.removals;
        for (cause, count) in [
            ("expired", r.expired),
            ("capacity", r.capacity),
            ("removed", r.removed),
            ("replaced", r.replaced),
            ("cleared", r.cleared),
        ] {
            let cause = Label::new(CAUSE_LABEL, cause);
            self.counter(
                REMOVALS,
                "Entries that left the cache, by cause.",
                &[cause],
                count,
            );
        }
        self.counter(
            LISTENER_PANICS,
            "Calls of the removal listener that panicked.",
            &[],
            stats.listener_panics,
        );
        self.recorder.describe_gauge(
            KeyName::from_const_str(ENTRIES),
            Some(Unit::Count),
            SharedString::const_str("Entries held, expired ones included until reclaimed."),
        );
        self.recorder
            .register_gauge(&self.key(ENTRIES, &[]), &METADATA)
            .set(stats.len as f64);
        self.recorder.describe_gauge(
            KeyName::from_const_str(WEIGHTED_SIZE),
            None,
            SharedString::const_str(
                "Total weight of the entries held (their number without a weigher).",
            ),
        );
        self.recorder
            .register_gauge(&self.key(WEIGHTED_SIZE, &[]), &METADATA)
            .set(stats.weighted_size as f64);
    }

    fn counter(&self, name: &'static str, help: &'static str, labels: &[Label], value: u64) {
        self.recorder.describe_counter(
            KeyName::from_const_str(name),
            Some(Unit::Count),
            SharedString::const_str(help),
        );
        self.recorder
            .register_counter(&self.key(name, labels), &METADATA)
            .absolute(value);
    }

    fn key(&self, name: &'static str, labels: &[Label]) -> Key {
        let cache = Label::new(CACHE_LABEL, self.name.0.clone());
        let labels: Vec<Label> = std::iter::once(cache)
            .chain(labels.iter().cloned())
            .collect();
        Key::from_parts(name, labels)
    }
}
