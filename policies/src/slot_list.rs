/// The number a cache gives an entry for as long as the entry lives.
///
/// Slots are small and dense (the cache reuses freed ones), so a policy can keep
/// its per-entry state in a `Vec` indexed by [`Slot::index`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(u32);

impl Slot {
    /// The largest number of slots a cache hands out.
    pub const LIMIT: usize = (u32::MAX - 2) as usize;

    /// Slot number `index`.
    ///
    /// ```
    /// assert_eq!(tenure_policies::Slot::new(7).index(), 7);
    /// ```
    #[inline]
    pub const fn new(index: u32) -> Self {
        Slot(index)
    }

    /// The slot's number, for indexing a `Vec`.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Makes `vec` long enough to index by `slot`, filling new places with `fill`.
///
/// Grows by a quarter at a time rather than doubling, so a policy's per-slot
/// arrays waste at most ~25% once a cache is large (amortised O(1) still).
///
/// ```
/// use tenure_policies::{Slot, ensure_slot};
///
/// let mut deadlines = Vec::new();
/// ensure_slot(&mut deadlines, Slot::new(9), 0u64);
/// assert_eq!(deadlines.len(), 10);
/// ```
pub fn ensure_slot<T: Clone>(vec: &mut Vec<T>, slot: Slot, fill: T) {
    let needed = slot.index() + 1;
    if needed > vec.len() {
        if needed > vec.capacity() {
            let target = needed.max(vec.capacity() + vec.capacity() / 4);
            vec.reserve_exact(target - vec.len());
        }
        vec.resize(needed, fill);
    }
}

/// End of the list.
const NIL: u32 = u32::MAX;
/// Marks a slot that is not in the list.
const DETACHED: u32 = u32::MAX - 1;

#[derive(Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
}

const DETACHED_LINK: Link = Link {
    prev: DETACHED,
    next: DETACHED,
};

/// A doubly linked list of slots kept inside one `Vec`: O(1) push, remove and
/// move, and no heap allocation per entry (8 bytes a slot).
///
/// The building block of the built-in policies, public so your own policy can use it.
///
/// ```
/// use tenure_policies::{Slot, SlotList};
///
/// let mut list = SlotList::new();
/// for i in 0..3 {
///     list.push_back(Slot::new(i));
/// }
/// list.move_to_back(Slot::new(0));
/// assert_eq!(list.front(), Some(Slot::new(1)));
/// assert!(list.remove(Slot::new(1)));
/// assert_eq!(list.iter().collect::<Vec<_>>(), [Slot::new(2), Slot::new(0)]);
/// ```
#[derive(Clone)]
pub struct SlotList {
    links: Vec<Link>,
    head: u32,
    tail: u32,
    len: usize,
}

impl Default for SlotList {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SlotList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl SlotList {
    /// An empty list.
    pub const fn new() -> Self {
        SlotList {
            links: Vec::new(),
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }

    /// How many slots are in the list.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first (oldest) slot.
    pub fn front(&self) -> Option<Slot> {
        (self.head != NIL).then_some(Slot(self.head))
    }

    /// The slot after `slot` (one step toward the back), or `None` if `slot`
    /// is the back or not in the list.
    ///
    /// ```
    /// use tenure_policies::{Slot, SlotList};
    ///
    /// let mut list = SlotList::new();
    /// list.push_back(Slot::new(4));
    /// list.push_back(Slot::new(2));
    /// assert_eq!(list.after(Slot::new(4)), Some(Slot::new(2)));
    /// assert_eq!(list.after(Slot::new(2)), None);
    /// ```
    #[inline]
    pub fn after(&self, slot: Slot) -> Option<Slot> {
        if !self.contains(slot) {
            return None;
        }
        let next = self.links[slot.index()].next;
        (next != NIL).then_some(Slot(next))
    }

    /// Whether `slot` is in the list.
    #[inline]
    pub fn contains(&self, slot: Slot) -> bool {
        self.links
            .get(slot.index())
            .is_some_and(|l| l.prev != DETACHED)
    }

    /// Appends `slot`; if it is already in the list, moves it to the back.
    pub fn push_back(&mut self, slot: Slot) {
        if self.contains(slot) {
            self.unlink(slot);
        } else {
            ensure_slot(&mut self.links, slot, DETACHED_LINK);
        }
        self.link_back(slot);
    }

    /// Puts `slot` first; if it is already in the list, moves it to the front.
    pub fn push_front(&mut self, slot: Slot) {
        if self.contains(slot) {
            self.unlink(slot);
        } else {
            ensure_slot(&mut self.links, slot, DETACHED_LINK);
        }
        self.links[slot.index()] = Link {
            prev: NIL,
            next: self.head,
        };
        match self.head {
            NIL => self.tail = slot.0,
            head => self.links[head as usize].prev = slot.0,
        }
        self.head = slot.0;
        self.len += 1;
    }

    /// Moves `slot` to the back if it is in the list; does nothing otherwise.
    #[inline]
    pub fn move_to_back(&mut self, slot: Slot) {
        // An LRU hit's replay: the one list operation per read, so done in one
        // pass, without unlink's and link_back's length and end-of-list cases.
        let Some(&Link { prev, next }) = self.links.get(slot.index()) else {
            return;
        };
        let tail = self.tail;
        if prev == DETACHED || slot.0 == tail {
            return;
        }
        // Held and not last: it has a next, and the list a last.
        match prev {
            NIL => self.head = next,
            p => self.links[p as usize].next = next,
        }
        self.links[next as usize].prev = prev;
        self.links[tail as usize].next = slot.0;
        self.links[slot.index()] = Link {
            prev: tail,
            next: NIL,
        };
        self.tail = slot.0;
    }

    /// Links a detached `slot` (with room in `links`) at the back.
    #[inline]
    fn link_back(&mut self, slot: Slot) {
        self.links[slot.index()] = Link {
            prev: self.tail,
            next: NIL,
        };
        match self.tail {
            NIL => self.head = slot.0,
            tail => self.links[tail as usize].next = slot.0,
        }
        self.tail = slot.0;
        self.len += 1;
    }

    /// Removes `slot`; returns whether it was in the list.
    pub fn remove(&mut self, slot: Slot) -> bool {
        if !self.contains(slot) {
            return false;
        }
        self.unlink(slot);
        self.links[slot.index()] = DETACHED_LINK;
        true
    }

    /// Puts `to` (which must not be in the list) in `from`'s place, and takes
    /// `from` out. Does nothing if `from` is not in the list.
    ///
    /// ```
    /// use tenure_policies::{Slot, SlotList};
    ///
    /// let mut list = SlotList::new();
    /// for i in 0..3 {
    ///     list.push_back(Slot::new(i));
    /// }
    /// list.move_slot(Slot::new(1), Slot::new(7));
    /// assert_eq!(list.iter().collect::<Vec<_>>(), [Slot::new(0), Slot::new(7), Slot::new(2)]);
    /// ```
    pub fn move_slot(&mut self, from: Slot, to: Slot) {
        if !self.contains(from) || self.contains(to) {
            return;
        }
        ensure_slot(&mut self.links, to, DETACHED_LINK);
        let link = self.links[from.index()];
        self.links[to.index()] = link;
        self.links[from.index()] = DETACHED_LINK;
        match link.prev {
            NIL => self.head = to.0,
            p => self.links[p as usize].next = to.0,
        }
        match link.next {
            NIL => self.tail = to.0,
            n => self.links[n as usize].prev = to.0,
        }
    }

    /// Releases memory for slots at or above `slots`, none of which may be in
    /// the list.
    pub fn shrink_to(&mut self, slots: usize) {
        if self.links.len() > slots {
            debug_assert!(self.links[slots..].iter().all(|l| l.prev == DETACHED));
            self.links.truncate(slots);
            self.links.shrink_to(slots + slots / 8);
        }
    }

    /// Removes every slot.
    pub fn clear(&mut self) {
        self.links.clear();
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
    }

    /// The slots from front (oldest) to back.
    pub fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        let mut at = self.head;
        std::iter::from_fn(move || {
            (at != NIL).then(|| {
                let slot = Slot(at);
                at = self.links[at as usize].next;
                slot
            })
        })
    }

    #[inline]
    fn unlink(&mut self, slot: Slot) {
        let Link { prev, next } = self.links[slot.index()];
        match prev {
            NIL => self.head = next,
            p => self.links[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.links[n as usize].prev = prev,
        }
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    proptest! {
        #[test]
        fn matches_a_vecdeque(ops in proptest::collection::vec((0u8..5, 0u32..12, 0u32..12), 0..200)) {
            let mut list = SlotList::new();
            let mut model: VecDeque<u32> = VecDeque::new();
            for (op, s, t) in ops {
                let slot = Slot::new(s);
                match op {
                    3 => {
                        if model.contains(&s) && !model.contains(&t) {
                            let i = model.iter().position(|&x| x == s).expect("present");
                            model[i] = t;
                        }
                        list.move_slot(slot, Slot::new(t));
                    }
                    0 => {
                        model.retain(|&x| x != s);
                        model.push_back(s);
                        list.push_back(slot);
                    }
                    4 => {
                        model.retain(|&x| x != s);
                        model.push_front(s);
                        list.push_front(slot);
                    }
                    1 => {
                        if let Some(i) = model.iter().position(|&x| x == s) {
                            model.remove(i);
                            model.push_back(s);
                        }
                        list.move_to_back(slot);
                    }
                    _ => {
                        let was = model.iter().position(|&x| x == s).map(|i| model.remove(i));
                        prop_assert_eq!(list.remove(slot), was.is_some());
                    }
                }
                prop_assert_eq!(list.len(), model.len());
                prop_assert_eq!(list.front().map(|s| s.0), model.front().copied());
                prop_assert_eq!(list.iter().map(|s| s.0).collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
                for x in 0..12 {
                    prop_assert_eq!(list.contains(Slot::new(x)), model.contains(&x));
                    let after = model.iter().position(|&y| y == x).and_then(|i| model.get(i + 1));
                    prop_assert_eq!(list.after(Slot::new(x)).map(|s| s.0), after.copied());
                }
            }
        }
    }
}
