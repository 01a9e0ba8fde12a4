//! Entries a write removed, handed to the removal listener once every lock is
//! released.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::RemovalCause;
use crate::faults;
use crate::stats::WriteCounters;
use crate::sync::Arc;

/// The eviction listener ([`CacheBuilder::eviction_listener`](crate::CacheBuilder::eviction_listener)):
/// called with each removed key, value and cause, after
/// every internal lock is released.
pub type EvictionListener<K, V> = Arc<dyn Fn(K, V, RemovalCause) + Send + Sync>;

/// Removed entries waiting for the listener. Most writes remove at most one
/// entry, so the first is held inline and an eviction costs no allocation.
pub(crate) struct Removals<K, V> {
    first: Option<(K, V, RemovalCause)>,
    rest: Vec<(K, V, RemovalCause)>,
}

impl<K, V> Removals<K, V> {
    pub(crate) fn new() -> Self {
        Removals {
            first: None,
            rest: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, key: K, value: V, cause: RemovalCause) {
        match self.first {
            None => self.first = Some((key, value, cause)),
            Some(_) => self.rest.push((key, value, cause)),
        }
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// The entry removed last.
    pub(crate) fn last_mut(&mut self) -> Option<&mut (K, V, RemovalCause)> {
        self.rest.last_mut().or(self.first.as_mut())
    }

    /// Calls `listener` once for each removal, in order. If it panics, the
    /// panic is counted and the remaining removals are still delivered; the
    /// first panic is returned, for the caller to resume once it is done.
    #[must_use = "a listener's panic must be resumed"]
    pub(crate) fn deliver(
        self,
        listener: Option<&EvictionListener<K, V>>,
        counters: &WriteCounters,
    ) -> Option<Box<dyn Any + Send>> {
        let listener = listener?;
        let mut first_panic = None;
        let delivered = self.first.into_iter().chain(self.rest);
        for (key, value, cause) in delivered.filter(|r| !faults::lost_removal(r.2)) {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| listener(key, value, cause))) {
                counters.listener_panicked();
                first_panic.get_or_insert(panic);
            }
        }
        first_panic
    }
}
