//! How a load balancer spreads requests over a fleet of replicas: at random,
//! round-robin, or by consistent hashing of the key (a ring with virtual
//! nodes, or Maglev's lookup table), so that each key has one home replica.
//!
//! - **Ring hash**: Karger et al., "Consistent hashing and random trees"
//!   (STOC 1997). Every replica owns [`RING_POINTS_PER_REPLICA`] points on a
//!   circle of 2⁶⁴ positions; a key belongs to the replica owning the first
//!   point at or after the key's hash, going round. Adding a replica takes
//!   over only the arcs its new points cut off, so about 1/(N+1) of the keys
//!   move, all of them to the new replica. Envoy's `RING_HASH` balancer is
//!   this scheme.
//! - **Maglev**: Eisenbud et al., "Maglev: A Fast and Reliable Software
//!   Network Load Balancer" (NSDI 2016), section 3.4. Each replica derives a
//!   permutation of the `M` slots of a lookup table (`M` prime) from an
//!   offset and a skip; the replicas take turns claiming their next
//!   preferred free slot until the table is full; a key goes to
//!   `table[hash % M]`. Shares are even to within a slot or so, and a change
//!   of replicas moves a little more than the minimum (the paper's
//!   "minimal disruption" is a goal it trades against balance). Envoy's
//!   `MAGLEV` balancer is this scheme, with `M` = 65,537 by default.
//!
//! Hashes are a fixed 64-bit mix of the key (no per-process seed), so a run
//! routes the same way on every machine.

use std::fmt;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Points each replica owns on the ring. More points even out the replicas'
/// shares (the spread of a share shrinks as one over the square root of
/// the points): with 160, 8 replicas get between 10.8 % and 13.9 % of
/// 200,000 keys each, against 12.5 % for an even split.
pub const RING_POINTS_PER_REPLICA: u32 = 160;

/// Slots in a Maglev lookup table for real runs: the prime the paper uses,
/// which keeps every replica's share within 1 % of the others' for up to
/// 655 replicas (`M > 100 N`).
pub const MAGLEV_TABLE_SIZE: usize = 65_537;

/// The most replicas a fleet may have: more would need a larger Maglev table
/// to keep the shares even.
pub const MAX_REPLICAS: usize = 512;

/// How a fleet's load balancer picks the replica for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Routing {
    /// Each request to a replica drawn uniformly at random (seeded).
    Random,
    /// Requests to replicas in turn, whatever their key.
    RoundRobin,
    /// Consistent hashing on a ring with virtual nodes (Karger et al.).
    RingHash,
    /// Maglev's consistent-hashing lookup table (Eisenbud et al.).
    Maglev,
}

impl Routing {
    /// Every scheme, in the order the reports show them.
    pub const ALL: [Routing; 4] = [
        Routing::Random,
        Routing::RoundRobin,
        Routing::RingHash,
        Routing::Maglev,
    ];

    /// Whether a key always goes to one replica (until the replicas change).
    pub fn is_consistent(self) -> bool {
        matches!(self, Routing::RingHash | Routing::Maglev)
    }

    /// What the scheme does, in a line.
    pub fn description(self) -> &'static str {
        match self {
            Routing::Random => "each request to a replica drawn at random",
            Routing::RoundRobin => "requests to the replicas in turn, whatever their key",
            Routing::RingHash => {
                "each key to its replica on a hash ring (Karger et al.; Envoy's ring hash)"
            }
            Routing::Maglev => {
                "each key to its replica in a Maglev lookup table (Eisenbud et al., NSDI '16)"
            }
        }
    }
}

impl fmt::Display for Routing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Routing::Random => "random",
            Routing::RoundRobin => "round-robin",
            Routing::RingHash => "ring-hash",
            Routing::Maglev => "maglev",
        })
    }
}

/// A bijective 64-bit mix (the finaliser of SplitMix64): every bit of the
/// input moves about half the bits of the output, and distinct inputs give
/// distinct outputs.
///
/// ```
/// use tenure_sim::mix64;
/// assert_ne!(mix64(1), mix64(2));
/// assert_eq!(mix64(1), mix64(1));
/// ```
pub fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hash a load balancer routes `key` by.
pub fn key_hash(key: u64) -> u64 {
    mix64(key)
}

/// Distinct salts, so that a replica's ring points and its two Maglev hashes
/// are unrelated to each other and to key hashes.
const RING_SALT: u64 = 0x7269_6e67_0000_0000;
const OFFSET_SALT: u64 = 0x6f66_6673_0000_0000;
const SKIP_SALT: u64 = 0x736b_6970_0000_0000;

/// Karger et al.'s consistent-hashing ring: each replica owns `points`
/// positions on a circle of 2⁶⁴; a key belongs to the owner of the first
/// position at or after its hash, wrapping round.
///
/// ```
/// use tenure_sim::{HashRing, key_hash};
///
/// let eight = HashRing::new(8, 160);
/// let nine = HashRing::new(9, 160);
/// // A new replica only takes keys: no key moves between the old ones.
/// for key in 0..1_000 {
///     let (before, after) = (eight.home(key_hash(key)), nine.home(key_hash(key)));
///     assert!(after == before || after == 8);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct HashRing {
    /// Every replica's points, ascending.
    points: Vec<u64>,
    /// `owners[i]` owns `points[i]`.
    owners: Vec<u32>,
}

impl HashRing {
    /// A ring of `replicas` replicas (named 0, 1, …), `points` each.
    ///
    /// # Panics
    /// If `replicas` or `points` is 0.
    pub fn new(replicas: usize, points: u32) -> Self {
        assert!(
            replicas > 0 && points > 0 && points <= u32::from(u16::MAX),
            "a ring needs a replica and between 1 and 65,535 points each"
        );
        // Each (replica, point) pair is a distinct input to a bijection, so
        // no two points collide.
        let mut owned: Vec<(u64, u32)> = (0..replicas as u32)
            .flat_map(|r| (0..points).map(move |p| (r, p)))
            .map(|(r, p)| (mix64(RING_SALT | u64::from(r) << 16 | u64::from(p)), r))
            .collect();
        owned.sort_unstable();
        HashRing {
            points: owned.iter().map(|&(point, _)| point).collect(),
            owners: owned.iter().map(|&(_, owner)| owner).collect(),
        }
    }

    /// The replica a key with this hash belongs to.
    pub fn home(&self, hash: u64) -> usize {
        let i = self.points.partition_point(|&point| point < hash);
        let i = if i == self.points.len() { 0 } else { i };
        self.owners[i] as usize
    }
}

/// Maglev's lookup table (Eisenbud et al., NSDI 2016, section 3.4): `M`
/// slots (`M` prime), each naming a replica.
///
/// Replica `i` prefers the slots `(offsetᵢ + j·skipᵢ) mod M` for `j` = 0, 1,
/// …, a permutation of all slots because `M` is prime and `0 < skipᵢ < M`.
/// The replicas take turns, in order, each claiming its most preferred slot
/// still free, until every slot is claimed.
///
/// The paper's worked example (its Table 1): three backends, `M` = 7.
///
/// ```
/// use tenure_sim::MaglevTable;
///
/// // (offset, skip) of B0, B1, B2.
/// let table = MaglevTable::with_preferences(&[(3, 4), (0, 2), (3, 1)], 7);
/// assert_eq!(table.slots(), [1, 0, 1, 0, 2, 2, 0]); // B1 B0 B1 B0 B2 B2 B0
/// ```
#[derive(Debug, Clone)]
pub struct MaglevTable {
    /// The replica of each slot.
    slots: Vec<u32>,
}

impl MaglevTable {
    /// The table for `replicas` replicas (named 0, 1, …) with `size` slots,
    /// each replica's offset and skip taken from two unrelated hashes of its
    /// name, as the paper does.
    ///
    /// # Panics
    /// If `replicas` is 0 or more than `size`, or `size` is not prime.
    pub fn new(replicas: usize, size: usize) -> Self {
        let m = size as u64;
        let preferences: Vec<(usize, usize)> = (0..replicas as u64)
            .map(|r| {
                let offset = mix64(OFFSET_SALT | r) % m;
                let skip = mix64(SKIP_SALT | r) % (m - 1) + 1;
                (offset as usize, skip as usize)
            })
            .collect();
        Self::with_preferences(&preferences, size)
    }

    /// The table for replicas with these `(offset, skip)` pairs, in turn
    /// order: for reproducing a published table exactly.
    ///
    /// # Panics
    /// If there are no replicas or more than `size`, `size` is not prime, or
    /// an offset is not below `size` or a skip not in `1..size`.
    pub fn with_preferences(preferences: &[(usize, usize)], size: usize) -> Self {
        assert!(is_prime(size), "a Maglev table needs a prime size");
        assert!(
            !preferences.is_empty() && preferences.len() <= size,
            "a Maglev table needs between 1 and `size` replicas"
        );
        assert!(
            preferences
                .iter()
                .all(|&(offset, skip)| offset < size && (1..size).contains(&skip)),
            "offsets must be below the size, skips in 1..size"
        );
        const FREE: u32 = u32::MAX;
        let mut slots = vec![FREE; size];
        // `next[i]`: how far along its permutation replica `i` has looked.
        let mut next = vec![0usize; preferences.len()];
        let mut filled = 0;
        'fill: loop {
            for (replica, &(offset, skip)) in preferences.iter().enumerate() {
                let preferred =
                    |j: usize| ((offset as u64 + j as u64 * skip as u64) % size as u64) as usize;
                let mut slot = preferred(next[replica]);
                while slots[slot] != FREE {
                    next[replica] += 1;
                    slot = preferred(next[replica]);
                }
                slots[slot] = replica as u32;
                next[replica] += 1;
                filled += 1;
                if filled == size {
                    break 'fill;
                }
            }
        }
        MaglevTable { slots }
    }

    /// The replica of each slot.
    pub fn slots(&self) -> &[u32] {
        &self.slots
    }

    /// The replica a key with this hash belongs to.
    pub fn home(&self, hash: u64) -> usize {
        self.slots[(hash % self.slots.len() as u64) as usize] as usize
    }
}

/// Whether `n` is prime (trial division: table sizes are small).
fn is_prime(n: usize) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// A load balancer in front of a fleet: picks the replica of each request,
/// in request order, and follows changes in the number of replicas.
///
/// ```
/// use tenure_sim::{Router, Routing};
///
/// let mut ring = Router::new(Routing::RingHash, 4, 1);
/// let home = ring.route(42);
/// assert!((0..4).contains(&home));
/// assert_eq!(ring.route(42), home); // a key keeps its replica
///
/// let mut turns = Router::new(Routing::RoundRobin, 3, 1);
/// let picks: Vec<usize> = (0..5).map(|_| turns.route(42)).collect();
/// assert_eq!(picks, [0, 1, 2, 0, 1]);
/// ```
#[derive(Debug, Clone)]
pub struct Router {
    replicas: usize,
    state: RouterState,
}

#[derive(Debug, Clone)]
enum RouterState {
    Random(Xoshiro256PlusPlus),
    /// Requests routed so far.
    RoundRobin(u64),
    RingHash(HashRing),
    Maglev(MaglevTable),
}

/// Mixed into `--seed` for random routing, so that its draws are not the
/// traffic generator's, which uses the same seed.
const ROUTING_SEED_SALT: u64 = 0x726f_7574_696e_6721;

impl Router {
    /// A balancer for `replicas` replicas (at least 1); `seed` seeds random
    /// routing.
    ///
    /// # Panics
    /// If `replicas` is 0.
    pub fn new(routing: Routing, replicas: usize, seed: u64) -> Self {
        assert!(replicas > 0, "a fleet needs a replica");
        let state = match routing {
            Routing::Random => {
                RouterState::Random(Xoshiro256PlusPlus::seed_from_u64(seed ^ ROUTING_SEED_SALT))
            }
            Routing::RoundRobin => RouterState::RoundRobin(0),
            Routing::RingHash => {
                RouterState::RingHash(HashRing::new(replicas, RING_POINTS_PER_REPLICA))
            }
            Routing::Maglev => RouterState::Maglev(MaglevTable::new(replicas, MAGLEV_TABLE_SIZE)),
        };
        Router { replicas, state }
    }

    /// Replicas now.
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// The replica of the next request, for `key`.
    pub fn route(&mut self, key: u64) -> usize {
        match &mut self.state {
            RouterState::Random(rng) => rng.random_range(0..self.replicas),
            RouterState::RoundRobin(routed) => {
                let replica = (*routed % self.replicas as u64) as usize;
                *routed += 1;
                replica
            }
            RouterState::RingHash(ring) => ring.home(key_hash(key)),
            RouterState::Maglev(table) => table.home(key_hash(key)),
        }
    }

    /// The replica `key` always goes to, under consistent hashing; `None`
    /// for random and round-robin routing, under which a key has no home.
    pub fn home(&self, key: u64) -> Option<usize> {
        match &self.state {
            RouterState::RingHash(ring) => Some(ring.home(key_hash(key))),
            RouterState::Maglev(table) => Some(table.home(key_hash(key))),
            RouterState::Random(_) | RouterState::RoundRobin(_) => None,
        }
    }

    /// Changes the number of replicas to `replicas`: replicas `0..replicas`
    /// remain or join; a shrink loses the highest-numbered ones. The ring and
    /// the Maglev table are rebuilt for the new set, as a balancer does when
    /// its backends change; round-robin carries on its turn from where it was.
    ///
    /// # Panics
    /// If `replicas` is 0.
    pub fn resize(&mut self, replicas: usize) {
        assert!(replicas > 0, "a fleet needs a replica");
        self.replicas = replicas;
        match &mut self.state {
            RouterState::RingHash(ring) => *ring = HashRing::new(replicas, RING_POINTS_PER_REPLICA),
            RouterState::Maglev(table) => *table = MaglevTable::new(replicas, MAGLEV_TABLE_SIZE),
            RouterState::Random(_) | RouterState::RoundRobin(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maglev_reproduces_the_papers_table_1() {
        // Eisenbud et al., NSDI '16, Table 1: B0 (offset 3, skip 4), B1 (0, 2),
        // B2 (3, 1), M = 7. Permutations 3 0 4 1 5 2 6 / 0 2 4 6 1 3 5 /
        // 3 4 5 6 0 1 2.
        let before = MaglevTable::with_preferences(&[(3, 4), (0, 2), (3, 1)], 7);
        assert_eq!(before.slots(), [1, 0, 1, 0, 2, 2, 0]); // B1 B0 B1 B0 B2 B2 B0
        // B1 removed: B0 and B2 keep their permutations.
        let after = MaglevTable::with_preferences(&[(3, 4), (3, 1)], 7);
        let names: Vec<&str> = after
            .slots()
            .iter()
            .map(|&i| ["B0", "B2"][i as usize])
            .collect();
        assert_eq!(names, ["B0", "B0", "B0", "B0", "B2", "B2", "B2"]);
        // Slots that were B0's or B2's stay with them but one (slot 6, B0 -> B2):
        // Maglev trades a little disruption for balance.
        let kept = (0..7)
            .filter(|&s| before.slots()[s] != 1)
            .filter(|&s| {
                let was = ["B0", "B1", "B2"][before.slots()[s] as usize];
                names[s] == was
            })
            .count();
        assert_eq!(kept, 4);
    }

    #[test]
    fn maglev_shares_are_even_and_tables_full() {
        let table = MaglevTable::new(8, MAGLEV_TABLE_SIZE);
        let mut counts = [0usize; 8];
        for &r in table.slots() {
            counts[r as usize] += 1;
        }
        // 65,537 / 8 = 8,192.1: the turn order gives each 8,192 or 8,193.
        assert!(
            counts.iter().all(|&c| c == 8_192 || c == 8_193),
            "{counts:?}"
        );
    }

    #[test]
    fn primes_are_recognised() {
        let primes: Vec<usize> = (0..30).filter(|&n| is_prime(n)).collect();
        assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert!(is_prime(MAGLEV_TABLE_SIZE));
    }

    #[test]
    #[should_panic(expected = "prime")]
    fn a_maglev_table_of_composite_size_is_refused() {
        MaglevTable::with_preferences(&[(0, 1)], 8);
    }

    #[test]
    fn the_ring_wraps_round() {
        let ring = HashRing::new(3, 4);
        let last = *ring.points.last().unwrap();
        assert_eq!(ring.home(u64::MAX), ring.owners[0] as usize);
        assert_eq!(ring.home(last), *ring.owners.last().unwrap() as usize);
        assert_eq!(ring.home(0), ring.owners[0] as usize);
        assert_eq!(ring.points.len(), 12);
    }

    #[test]
    fn random_routing_is_seeded() {
        let picks = |seed| {
            let mut router = Router::new(Routing::Random, 8, seed);
            (0..100).map(|k| router.route(k)).collect::<Vec<_>>()
        };
        assert_eq!(picks(1), picks(1));
        assert_ne!(picks(1), picks(2));
        assert!(picks(1).iter().all(|&r| r < 8));
    }

    #[test]
    fn only_consistent_schemes_give_keys_a_home() {
        for routing in Routing::ALL {
            let router = Router::new(routing, 5, 1);
            assert_eq!(
                router.home(7).is_some(),
                routing.is_consistent(),
                "{routing}"
            );
        }
    }
}
