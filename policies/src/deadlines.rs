use crate::{Expiry, Slot, SlotList, Timestamp, ensure_slot};

/// Bookkeeping shared by the time-based policies: slots in order of last access
/// (which is also LRU order) and, with a maximum lifetime, in order of creation.
/// Both lists stay sorted by time because time only moves forward, so the
/// next entry to expire is always at the front of one of them.
#[derive(Debug, Clone)]
pub(crate) struct Deadlines {
    expiry: Expiry,
    by_access: SlotList,
    last_access: Vec<Timestamp>,
    by_creation: SlotList,
    created: Vec<Timestamp>,
}

impl Deadlines {
    pub(crate) fn new(expiry: Expiry) -> Self {
        Deadlines {
            expiry,
            by_access: SlotList::new(),
            last_access: Vec::new(),
            by_creation: SlotList::new(),
            created: Vec::new(),
        }
    }

    pub(crate) fn expiry(&self) -> Expiry {
        self.expiry
    }

    pub(crate) fn len(&self) -> usize {
        self.by_access.len()
    }

    /// Least recently used first.
    pub(crate) fn least_recent(&self) -> Option<Slot> {
        self.by_access.front()
    }

    pub(crate) fn insert(&mut self, slot: Slot, now: Timestamp) {
        set(&mut self.last_access, slot, now);
        self.by_access.push_back(slot);
        if self.expiry.max_lifetime.is_some() {
            set(&mut self.created, slot, now);
            self.by_creation.push_back(slot);
        }
    }

    pub(crate) fn access(&mut self, slot: Slot, now: Timestamp) {
        if self.by_access.contains(slot) {
            let last = &mut self.last_access[slot.index()];
            *last = (*last).max(now);
            self.by_access.move_to_back(slot);
        }
    }

    pub(crate) fn remove(&mut self, slot: Slot) {
        self.by_access.remove(slot);
        self.by_creation.remove(slot);
    }

    pub(crate) fn next_expired(&self, now: Timestamp) -> Option<Slot> {
        let idle = self.by_access.front().filter(|s| {
            self.expiry
                .ttl
                .is_some_and(|ttl| now >= self.last_access[s.index()] + ttl)
        });
        idle.or_else(|| {
            let max = self.expiry.max_lifetime?;
            self.by_creation
                .front()
                .filter(|s| now >= self.created[s.index()] + max)
        })
    }
}

/// Implements the time-keeping methods of [`Policy`](crate::Policy) by
/// forwarding to the type's `deadlines` field; the type adds `next_victim`.
macro_rules! forward_to_deadlines {
    () => {
        fn expiry(&self) -> $crate::Expiry {
            self.deadlines.expiry()
        }

        fn on_insert(&mut self, slot: $crate::Slot, now: $crate::Timestamp) {
            self.deadlines.insert(slot, now);
        }

        fn on_access(&mut self, slot: $crate::Slot, now: $crate::Timestamp) {
            self.deadlines.access(slot, now);
        }

        fn on_remove(&mut self, slot: $crate::Slot) {
            self.deadlines.remove(slot);
        }

        fn next_expired(&self, now: $crate::Timestamp) -> Option<$crate::Slot> {
            self.deadlines.next_expired(now)
        }
    };
}
pub(crate) use forward_to_deadlines;

fn set(times: &mut Vec<Timestamp>, slot: Slot, now: Timestamp) {
    ensure_slot(times, slot, Timestamp::ZERO);
    times[slot.index()] = now;
}
