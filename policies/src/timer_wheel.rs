//! Deadlines of many slots, found again when they come due whatever order the
//! slots were touched in: a hierarchical timing wheel.
//!
//! Time is counted in *ticks* of a power-of-two number of nanoseconds. A slot is
//! filed in a bucket by its scheduled deadline: level 0 holds the next 64 ticks,
//! level 1 the next 64 × 64 (a bucket a 64-tick span), and so on.
//! As time passes, a higher-level bucket that comes due is emptied into the
//! lower levels, and a level-0 bucket that comes due hands its slots to the
//! caller's check.
//!
//! The wheel never trusts its own record of a deadline: a scheduled deadline is
//! only a *lower bound* (an entry read since then lives longer). When a slot
//! comes due the caller checks the entry's own deadline and either removes it or
//! says when it is due now, and the slot is filed again. So reclamation is exact
//! whatever order reads reached the policy in, or whether they reached it at all.
//!
//! Per slot the wheel keeps 8 bytes: the next slot in its bucket and the
//! scheduled tick (31 bits, read relative to the wheel's clock). A cancelled slot
//! stays in its bucket, marked dead, until that bucket is emptied; a slot reused
//! with a later deadline takes over its dead node in place.

use std::time::Duration;

use crate::{Expiry, Slot, Timestamp, ensure_slot};

/// Bits of a tick each level resolves.
const DIGIT_BITS: u32 = 6;
/// Buckets per level.
const BUCKETS: usize = 1 << DIGIT_BITS;
/// Levels: enough for any two 64-bit ticks (a tick just past a large power of
/// two differs from one just before it in a high digit, however close they are).
const LEVELS: usize = 11;
/// How far ahead (in ticks) a slot is filed exactly; a later deadline is filed at
/// the window's end and checked (then filed again) when it gets there.
const WINDOW: u64 = 1 << 30;
/// End of a bucket's list.
const NIL: u32 = u32::MAX;
/// `next` of a slot that is in no bucket.
const UNFILED: u32 = u32::MAX - 1;
/// The flag bit of a node's `tick`: the slot was cancelled while filed.
const DEAD: u32 = 1 << 31;
/// The tick bits of a node.
const TICK_MASK: u32 = DEAD - 1;

#[derive(Clone, Copy)]
struct Node {
    /// The next slot in the same bucket, [`NIL`], or [`UNFILED`].
    next: u32,
    /// The scheduled tick's low 31 bits, plus [`DEAD`].
    tick: u32,
}

const UNFILED_NODE: Node = Node {
    next: UNFILED,
    tick: 0,
};

/// Deadlines of slots, kept so that every slot due by a given time is found in
/// amortised O(1) per slot, whatever order the slots were read in.
///
/// ```
/// use std::time::Duration;
/// use tenure_policies::{Slot, Timestamp, TimerWheel};
///
/// let s = |n: u64| Timestamp::ZERO + Duration::from_secs(n);
/// let mut wheel = TimerWheel::new(Duration::from_millis(1));
/// wheel.schedule(Slot::new(0), s(10));
/// wheel.schedule(Slot::new(1), s(20));
///
/// // At 15 s slot 0 is due. The caller checks the entry's own deadline: it was
/// // read at 8 s, so it lives until 18 s and is filed again.
/// let mut due = Vec::new();
/// wheel.advance(s(15), |slot| { due.push(slot); Some(s(18)) });
/// assert_eq!(due, [Slot::new(0)]);
///
/// // At 20 s both are due; this time the caller removes them.
/// due.clear();
/// wheel.advance(s(20), |slot| { due.push(slot); None });
/// due.sort();
/// assert_eq!(due, [Slot::new(0), Slot::new(1)]);
/// assert!(wheel.is_empty());
/// ```
#[derive(Clone)]
pub struct TimerWheel {
    /// log2 of the nanoseconds in a tick.
    shift: u32,
    /// The wheel's clock, in ticks: every bucket before it has been emptied.
    elapsed: u64,
    /// The exact time of the last [`advance`](TimerWheel::advance).
    advanced_to: Timestamp,
    /// Whether a slot was filed in the current tick's bucket since it was last
    /// checked (if not, checking it again at the same time finds nothing).
    current_dirty: bool,
    /// First slot of each bucket, level by level (boxed: the wheel is moved
    /// around, its 2.8 KB of heads need not be).
    heads: Box<[u32; LEVELS * BUCKETS]>,
    /// Per level, which buckets hold a slot.
    occupied: [u64; LEVELS],
    /// Which levels hold a slot.
    levels: u16,
    /// Per slot: its bucket link and scheduled tick. Only holds filed slots
    /// (live or dead) at indices below its length.
    nodes: Vec<Node>,
    /// Live (not cancelled) slots filed.
    live: usize,
    /// Slots checked during an advance and found due later in its final tick:
    /// filed after that tick's bucket is checked, so they are not asked twice.
    checked: Vec<u32>,
}

impl std::fmt::Debug for TimerWheel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerWheel")
            .field("tick", &Duration::from_nanos(1 << self.shift))
            .field("elapsed", &self.advanced_to)
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

impl TimerWheel {
    /// A wheel whose ticks are `resolution` long, rounded down to a power of two
    /// nanoseconds (at least 1 ns). Finer ticks make checks at a given time
    /// cheaper; coarser ticks make slots move between levels less often. The
    /// cache picks about a millionth of the shortest time rule.
    pub fn new(resolution: Duration) -> Self {
        let nanos = u64::try_from(resolution.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        TimerWheel {
            shift: 63 - nanos.leading_zeros(),
            elapsed: 0,
            advanced_to: Timestamp::ZERO,
            current_dirty: false,
            heads: Box::new([NIL; LEVELS * BUCKETS]),
            occupied: [0; LEVELS],
            levels: 0,
            nodes: Vec::new(),
            live: 0,
            checked: Vec::new(),
        }
    }

    /// A wheel for entries kept under `rules`, or `None` if the rules never
    /// expire anything. Ticks are about a millionth of the shortest rule: a
    /// tick then holds few entries (a check at a given time costs little), and
    /// a fresh entry's deadline sits a few levels up, so it is moved down at
    /// most a few times before it comes due.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tenure_policies::{Expiry, TimerWheel};
    ///
    /// let rules = Expiry { ttl: Some(Duration::from_secs(3600)), max_lifetime: None };
    /// let wheel = TimerWheel::for_rules(&rules).unwrap();
    /// assert_eq!(wheel.resolution(), Duration::from_nanos(1 << 21)); // about 2 ms
    /// assert!(TimerWheel::for_rules(&Expiry::NEVER).is_none());
    /// ```
    pub fn for_rules(rules: &Expiry) -> Option<Self> {
        let shortest = match (rules.ttl, rules.max_lifetime) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(TimerWheel::new(shortest / (1 << 20)))
    }

    /// The length of a tick.
    pub fn resolution(&self) -> Duration {
        Duration::from_nanos(1 << self.shift)
    }

    /// How many slots are scheduled.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no slot is scheduled.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether `slot` is scheduled.
    pub fn contains(&self, slot: Slot) -> bool {
        self.nodes
            .get(slot.index())
            .is_some_and(|n| n.next != UNFILED && n.tick & DEAD == 0)
    }

    /// Schedules `slot` to come due at `deadline` (or, if it is scheduled
    /// already, moves its deadline there).
    pub fn schedule(&mut self, slot: Slot, deadline: Timestamp) {
        ensure_slot(&mut self.nodes, slot, UNFILED_NODE);
        let tick = self.tick_of(deadline);
        let node = self.nodes[slot.index()];
        if node.next == UNFILED {
            self.live += 1;
            self.file(slot.index() as u32, tick);
            return;
        }
        if node.tick & DEAD != 0 {
            self.live += 1;
        }
        // A filed node's bucket comes due no later than its old tick, so it may
        // keep its place for any later tick: it is checked early, then refiled.
        if self.unwrap_tick(node.tick) <= tick {
            self.nodes[slot.index()].tick = wrap_tick(tick);
            self.current_dirty |= tick <= self.elapsed;
        } else {
            // An earlier deadline than the bucket allows: take the node out.
            // Only a reused slot with a shorter life than its last one gets here.
            self.nodes[slot.index()].tick = DEAD;
            self.live -= 1;
            self.purge();
            self.live += 1;
            self.file(slot.index() as u32, tick);
        }
    }

    /// Forgets `slot` (it need not be scheduled).
    pub fn cancel(&mut self, slot: Slot) {
        if let Some(node) = self.nodes.get_mut(slot.index()) {
            if node.next != UNFILED && node.tick & DEAD == 0 {
                node.tick |= DEAD;
                self.live -= 1;
            }
        }
    }

    /// Moves the schedule of `from` to `to` (for a cache that moves an entry to
    /// another slot). Returns `false`, changing nothing, if `to` still sits dead
    /// in a bucket that could come due after `from`'s deadline; try another slot.
    pub fn move_slot(&mut self, from: Slot, to: Slot) -> bool {
        if !self.contains(from) {
            return true;
        }
        let tick = self.unwrap_tick(self.nodes[from.index()].tick);
        ensure_slot(&mut self.nodes, to, UNFILED_NODE);
        let target = self.nodes[to.index()];
        if target.next != UNFILED && self.unwrap_tick(target.tick) > tick {
            return false;
        }
        self.cancel(from);
        // The start of `from`'s tick: a lower bound of its deadline, as filed.
        self.schedule(
            to,
            Timestamp::from_nanos(tick.saturating_mul(1 << self.shift)),
        );
        true
    }

    /// Moves the wheel's clock to `now` and calls `check(slot)` for every
    /// scheduled slot whose scheduled deadline is at or before `now`.
    ///
    /// `check` answers for the entry in `slot`: `None` if the caller has removed
    /// it (the wheel forgets the slot), or `Some(deadline)` if it lives on until
    /// `deadline`, which must be later than `now` (the slot is filed again there).
    /// Afterwards no scheduled slot has a deadline at or before `now`, provided
    /// every deadline was only ever moved later.
    ///
    /// `now` should not go backwards; an earlier `now` checks nothing.
    pub fn advance(&mut self, now: Timestamp, mut check: impl FnMut(Slot) -> Option<Timestamp>) {
        // At the same time, only a slot filed in the current tick since can be
        // due: every other bucket that could be was emptied last time.
        if now < self.advanced_to || (now == self.advanced_to && !self.current_dirty) {
            return;
        }
        let target = now.as_nanos() >> self.shift;
        // Every bucket that starts before the current tick is wholly due (at
        // level 0) or must be emptied into lower levels (above).
        while let Some((level, bucket, start)) = self.next_due(target) {
            self.elapsed = self.elapsed.max(start);
            // Slots of the current tick are checked once, below.
            self.empty_bucket(level, bucket, target, Some(target), &mut check);
        }
        if target > self.elapsed {
            self.elapsed = target;
            self.current_dirty = true;
        }
        // The current tick's bucket also holds slots due later within the tick:
        // check it again only if time moved or a slot was filed there since.
        if now > self.advanced_to || self.current_dirty {
            let bucket = (self.elapsed & (BUCKETS as u64 - 1)) as usize;
            self.empty_bucket(0, bucket, target + 1, None, &mut check);
        }
        let mut checked = std::mem::take(&mut self.checked);
        for node in checked.drain(..) {
            self.file(node, target);
        }
        self.checked = checked;
        // Everything in the current tick's bucket has been checked at `now`.
        self.current_dirty = false;
        self.advanced_to = now;
    }

    /// Releases per-slot memory above `slots` (slots at or above it must not be
    /// scheduled).
    pub fn shrink_to(&mut self, slots: usize) {
        if self.nodes.len() <= slots {
            return;
        }
        if self.nodes[slots..].iter().any(|n| n.next != UNFILED) {
            self.purge();
        }
        debug_assert!(self.nodes[slots..].iter().all(|n| n.next == UNFILED));
        self.nodes.truncate(slots);
        self.nodes.shrink_to(slots + slots / 8);
    }

    /// Forgets every slot.
    pub fn clear(&mut self) {
        self.heads.fill(NIL);
        self.occupied = [0; LEVELS];
        self.levels = 0;
        self.nodes.clear();
        self.nodes.shrink_to(0);
        self.live = 0;
    }

    /// The scheduled tick of `deadline`, at most a window ahead of the clock.
    fn tick_of(&self, deadline: Timestamp) -> u64 {
        (deadline.as_nanos() >> self.shift).min(self.elapsed + WINDOW - 1)
    }

    /// The full tick of a node's stored low bits, near the wheel's clock.
    fn unwrap_tick(&self, stored: u32) -> u64 {
        // Filed ticks lie within half the 31-bit range of the clock: the
        // difference of the low bits, read as a signed 31-bit number, is the
        // distance from the clock.
        let diff = (stored.wrapping_sub(self.elapsed as u32) & TICK_MASK) as i64;
        let diff = if diff >= 1 << 30 {
            diff - (1 << 31)
        } else {
            diff
        };
        self.elapsed.wrapping_add_signed(diff)
    }

    /// Files `node` in the bucket for `tick`, relative to the clock.
    fn file(&mut self, node: u32, tick: u64) {
        let tick = tick.max(self.elapsed);
        let differ = (tick ^ self.elapsed) | (BUCKETS as u64 - 1);
        let level = ((63 - differ.leading_zeros()) / DIGIT_BITS) as usize;
        let bucket = ((tick >> (level as u32 * DIGIT_BITS)) & (BUCKETS as u64 - 1)) as usize;
        let head = &mut self.heads[level * BUCKETS + bucket];
        self.nodes[node as usize] = Node {
            next: *head,
            tick: wrap_tick(tick),
        };
        *head = node;
        self.occupied[level] |= 1 << bucket;
        self.levels |= 1 << level;
        if level == 0 && tick == self.elapsed {
            self.current_dirty = true;
        }
    }

    /// The earliest occupied bucket that starts at or before `target`, other
    /// than level 0's bucket for `target` itself: `(level, bucket, start tick)`.
    fn next_due(&self, target: u64) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        let mut levels = self.levels;
        while levels != 0 {
            let level = levels.trailing_zeros() as usize;
            levels &= levels - 1;
            let shift = level as u32 * DIGIT_BITS;
            let digit = (self.elapsed >> shift) & (BUCKETS as u64 - 1);
            let waiting = self.occupied[level] & (u64::MAX << digit);
            if waiting == 0 {
                continue;
            }
            let bucket = waiting.trailing_zeros() as usize;
            let span_mask = 1u64
                .checked_shl(shift + DIGIT_BITS)
                .map_or(u64::MAX, |span| span - 1);
            let start = (self.elapsed & !span_mask) | ((bucket as u64) << shift);
            let due = if level == 0 {
                start < target
            } else {
                start <= target
            };
            if due && best.is_none_or(|(_, _, s)| start < s) {
                best = Some((level, bucket, start));
            }
        }
        best
    }

    /// Takes every slot out of a bucket: drops dead ones, refiles those whose
    /// tick is `due_before` or later, and asks `check` about the rest. A checked
    /// slot now due in tick `defer` is set aside in `checked`.
    fn empty_bucket(
        &mut self,
        level: usize,
        bucket: usize,
        due_before: u64,
        defer: Option<u64>,
        check: &mut impl FnMut(Slot) -> Option<Timestamp>,
    ) {
        let head = &mut self.heads[level * BUCKETS + bucket];
        let mut at = std::mem::replace(head, NIL);
        self.occupied[level] &= !(1 << bucket);
        if self.occupied[level] == 0 {
            self.levels &= !(1 << level);
        }
        while at != NIL {
            let Node { next, tick } = self.nodes[at as usize];
            self.nodes[at as usize] = UNFILED_NODE;
            if tick & DEAD == 0 {
                let tick = self.unwrap_tick(tick);
                if tick >= due_before {
                    self.file(at, tick);
                } else {
                    match check(Slot::new(at)) {
                        Some(deadline) => {
                            let tick = self.tick_of(deadline);
                            if Some(tick) == defer {
                                self.checked.push(at);
                            } else {
                                self.file(at, tick);
                            }
                        }
                        None => self.live -= 1,
                    }
                }
            }
            at = next;
        }
    }

    /// Takes every dead slot out of its bucket (O(slots filed)).
    fn purge(&mut self) {
        for level in 0..LEVELS {
            for bucket in 0..BUCKETS {
                let index = level * BUCKETS + bucket;
                let mut at = std::mem::replace(&mut self.heads[index], NIL);
                let mut kept = NIL;
                while at != NIL {
                    let node = self.nodes[at as usize];
                    if node.tick & DEAD == 0 {
                        self.nodes[at as usize].next = kept;
                        kept = at;
                    } else {
                        self.nodes[at as usize] = UNFILED_NODE;
                    }
                    at = node.next;
                }
                self.heads[index] = kept;
                if kept == NIL {
                    self.occupied[level] &= !(1 << bucket);
                    if self.occupied[level] == 0 {
                        self.levels &= !(1 << level);
                    }
                }
            }
        }
    }
}

fn wrap_tick(tick: u64) -> u32 {
    (tick & u64::from(TICK_MASK)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        /// Schedule a slot that is not scheduled, `ahead` ns after now.
        Schedule(u32, u64),
        /// An entry was read: its own deadline moves later (the wheel is not told).
        Touch(u32, u64),
        Cancel(u32),
        Advance(u64),
    }

    fn op(max_ahead: u64) -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u32..24, 1..max_ahead).prop_map(|(s, a)| Op::Schedule(s, a)),
            (0u32..24, 1..max_ahead).prop_map(|(s, a)| Op::Touch(s, a)),
            (0u32..24).prop_map(Op::Cancel),
            (0..max_ahead / 4).prop_map(Op::Advance),
        ]
    }

    /// Replays `ops` against a wheel and a map of each scheduled slot's true
    /// deadline: after every advance nothing due may remain, and `check` is only
    /// asked about scheduled slots (and, with deadlines within the filing window,
    /// once per advance).
    fn replay(resolution: u64, ops: Vec<Op>) -> Result<(), TestCaseError> {
        let within_window = ops.iter().all(|op| match op {
            Op::Schedule(_, a) | Op::Touch(_, a) => a / resolution < WINDOW,
            _ => true,
        });
        let mut wheel = TimerWheel::new(Duration::from_nanos(resolution));
        let mut truth: BTreeMap<u32, u64> = BTreeMap::new();
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Schedule(s, ahead) => {
                    if let std::collections::btree_map::Entry::Vacant(e) = truth.entry(s) {
                        e.insert(now + ahead);
                        wheel.schedule(Slot::new(s), Timestamp::from_nanos(now + ahead));
                    }
                }
                Op::Touch(s, ahead) => {
                    if let Some(d) = truth.get_mut(&s) {
                        *d = (*d).max(now + ahead);
                    }
                }
                Op::Cancel(s) => {
                    truth.remove(&s);
                    wheel.cancel(Slot::new(s));
                }
                Op::Advance(by) => {
                    now += by;
                    let mut asked = Vec::new();
                    wheel.advance(Timestamp::from_nanos(now), |slot| {
                        let s = slot.index() as u32;
                        asked.push(s);
                        let d = *truth.get(&s).expect("asked about a slot not scheduled");
                        if d <= now {
                            truth.remove(&s);
                            None
                        } else {
                            Some(Timestamp::from_nanos(d))
                        }
                    });
                    let mut sorted = asked.clone();
                    sorted.sort_unstable();
                    sorted.dedup();
                    if within_window {
                        prop_assert_eq!(sorted.len(), asked.len(), "a slot was asked about twice");
                    }
                    for (s, d) in &truth {
                        prop_assert!(*d > now, "slot {} due at {} still held at {}", s, d, now);
                    }
                }
            }
            prop_assert_eq!(wheel.len(), truth.len());
            for s in 0..24 {
                prop_assert_eq!(wheel.contains(Slot::new(s)), truth.contains_key(&s));
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn nothing_due_survives_an_advance_with_nanosecond_ticks(ops in proptest::collection::vec(op(10_000), 0..300)) {
            replay(1, ops)?;
        }

        #[test]
        fn nothing_due_survives_an_advance_with_coarse_ticks(ops in proptest::collection::vec(op(1 << 20), 0..300)) {
            replay(1 << 10, ops)?;
        }

        #[test]
        fn deadlines_far_beyond_the_window_are_still_exact(ops in proptest::collection::vec(op(1 << 40), 0..200)) {
            replay(1, ops)?;
        }
    }

    #[test]
    fn a_slot_is_only_checked_once_its_scheduled_deadline_passes() {
        let mut wheel = TimerWheel::new(Duration::from_nanos(1));
        wheel.schedule(Slot::new(3), Timestamp::from_nanos(1_000_000));
        let mut asked = 0;
        for t in (0..1_000_000).step_by(997) {
            wheel.advance(Timestamp::from_nanos(t), |_| {
                asked += 1;
                None
            });
        }
        assert_eq!(asked, 0);
        wheel.advance(Timestamp::from_nanos(1_000_000), |_| {
            asked += 1;
            None
        });
        assert_eq!(asked, 1);
        assert!(wheel.is_empty());
    }

    #[test]
    fn a_reused_slot_with_a_shorter_deadline_is_found_in_time() {
        let mut wheel = TimerWheel::new(Duration::from_nanos(1));
        wheel.schedule(Slot::new(0), Timestamp::from_nanos(1 << 20));
        wheel.cancel(Slot::new(0));
        wheel.schedule(Slot::new(0), Timestamp::from_nanos(100));
        let mut asked = Vec::new();
        wheel.advance(Timestamp::from_nanos(100), |s| {
            asked.push(s);
            None
        });
        assert_eq!(asked, [Slot::new(0)]);
    }

    #[test]
    fn moving_a_slot_keeps_its_deadline() {
        let mut wheel = TimerWheel::new(Duration::from_nanos(1));
        wheel.schedule(Slot::new(9), Timestamp::from_nanos(500));
        assert!(wheel.move_slot(Slot::new(9), Slot::new(2)));
        assert!(!wheel.contains(Slot::new(9)));
        let mut asked = Vec::new();
        wheel.advance(Timestamp::from_nanos(499), |s| {
            asked.push(s);
            None
        });
        assert!(asked.is_empty());
        wheel.advance(Timestamp::from_nanos(500), |s| {
            asked.push(s);
            None
        });
        assert_eq!(asked, [Slot::new(2)]);
    }

    #[test]
    fn shrinking_keeps_the_slots_below() {
        let mut wheel = TimerWheel::new(Duration::from_nanos(1));
        for s in 0..100 {
            wheel.schedule(Slot::new(s), Timestamp::from_nanos(1000 + u64::from(s)));
        }
        for s in 10..100 {
            wheel.cancel(Slot::new(s));
        }
        wheel.shrink_to(10);
        assert_eq!(wheel.len(), 10);
        let mut asked = Vec::new();
        wheel.advance(Timestamp::from_nanos(5000), |s| {
            asked.push(s.index());
            None
        });
        asked.sort_unstable();
        assert_eq!(asked, (0..10).collect::<Vec<_>>());
    }
}
