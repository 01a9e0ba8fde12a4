//! Lossy buffers of reads, drained into the policy under its lock.
//!
//! A hit must not take the policy lock, yet the policy must learn about the read
//! (to keep LRU order and sliding deadlines). So a hit appends `(slot, time)` to
//! its thread's stripe; whoever next holds the policy lock replays the stripes
//! before deciding anything. Under contention a full stripe drops the read (the
//! entry's own timestamp still moved, so expiry stays exact; only LRU order is
//! approximated). A single thread always uses one stripe and drains it when full,
//! so a single-threaded replay is exact LRU.

use crate::sync::{AtomicU64, AtomicUsize, Ordering};

/// Reads a stripe holds before it must be drained.
pub(crate) const STRIPE_LEN: usize = 16;

/// A read record: `0` means empty, otherwise `slot_id + 1`.
#[derive(Default)]
struct Record {
    id: AtomicU64,
    time: AtomicU64,
}

/// One stripe: many writers, one reader (the policy-lock holder).
#[repr(align(128))]
pub(crate) struct Stripe {
    head: AtomicUsize,
    tail: AtomicUsize,
    records: [Record; STRIPE_LEN],
    /// Hits are counted without a counter of their own: every hit either
    /// advances `tail` or is counted here, so a hit costs no extra atomic
    /// read-modify-write. Kept on the stripe so threads never share the line.
    dropped: AtomicU64,
    pub(crate) misses: AtomicU64,
}

/// What happened to a read handed to [`Stripe::record`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Stored; the stripe has room for more.
    Stored,
    /// Stored, and the stripe is now full: drain it if the lock is free.
    Full,
    /// Not stored: the stripe was full or another writer won the race.
    Dropped,
}

impl Default for Stripe {
    fn default() -> Self {
        Stripe {
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
            records: std::array::from_fn(|_| Record::default()),
            dropped: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl Stripe {
    /// Appends a hit on `slot_id` at `time` (and so counts it).
    pub(crate) fn record(&self, slot_id: u64, time: u64) -> Recorded {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        let claimed = tail.wrapping_sub(head) < STRIPE_LEN
            && self
                .tail
                .compare_exchange(
                    tail,
                    tail.wrapping_add(1),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok();
        if !claimed {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Recorded::Dropped;
        }
        let record = &self.records[tail % STRIPE_LEN];
        record.time.store(time, Ordering::Relaxed);
        record.id.store(slot_id.wrapping_add(1), Ordering::Release);
        if tail.wrapping_add(1).wrapping_sub(head) >= STRIPE_LEN {
            Recorded::Full
        } else {
            Recorded::Stored
        }
    }

    /// Hits recorded on this stripe, dropped ones included.
    pub(crate) fn hits(&self) -> u64 {
        self.tail.load(Ordering::Relaxed) as u64 + self.dropped.load(Ordering::Relaxed)
    }

    /// Hands every complete record, oldest first, to `apply`. Only the
    /// policy-lock holder calls this. A record whose writer has claimed but not
    /// yet filled it stops the drain; the next drain resumes there.
    pub(crate) fn drain(&self, mut apply: impl FnMut(u64, u64)) {
        let mut head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        if head == tail {
            return;
        }
        while head != tail {
            let record = &self.records[head % STRIPE_LEN];
            let id = record.id.swap(0, Ordering::Acquire);
            if id == 0 {
                break;
            }
            apply(id - 1, record.time.load(Ordering::Relaxed));
            head = head.wrapping_add(1);
        }
        self.head.store(head, Ordering::Release);
    }
}

#[cfg(all(test, not(tenure_loom)))]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reports_full() {
        let stripe = Stripe::default();
        for i in 0..STRIPE_LEN as u64 - 1 {
            assert_eq!(stripe.record(i, i * 10), Recorded::Stored);
        }
        assert_eq!(stripe.record(99, 7), Recorded::Full);
        assert_eq!(stripe.record(100, 8), Recorded::Dropped);
        assert_eq!(stripe.hits(), STRIPE_LEN as u64 + 1);
        let mut seen = Vec::new();
        stripe.drain(|id, t| seen.push((id, t)));
        assert_eq!(seen.len(), STRIPE_LEN);
        assert_eq!(seen[0], (0, 0));
        assert_eq!(seen[STRIPE_LEN - 1], (99, 7));
        // Wraps around after a drain.
        for round in 0..3 {
            assert_eq!(stripe.record(round, round), Recorded::Stored);
            let mut got = Vec::new();
            stripe.drain(|id, _| got.push(id));
            assert_eq!(got, [round]);
        }
    }
}
