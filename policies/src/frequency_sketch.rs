//! A count-min sketch of 4-bit counters that ages: how often each key was seen
//! lately, in a few bytes per entry.

/// Every nibble's low bit.
const LOW_BITS: u64 = 0x1111_1111_1111_1111;
/// Every nibble's three low bits: what is left of a counter after halving.
const HALVED: u64 = 0x7777_7777_7777_7777;
/// Words in a block: the four counters of a key all live in one 64-byte block.
const BLOCK_WORDS: usize = 8;
/// Fewest words in the table.
const MIN_WORDS: usize = 8;

/// Estimates of recent key frequencies, 0 to 15 (plus one for the doorkeeper).
///
/// Each key has four 4-bit counters, in four different words of one 64-byte
/// block; its estimate is the least of them (count-min). Increments go only to
/// the counters at that minimum (conservative update), which keeps estimates of
/// rare keys from being inflated by colliding frequent ones. A key's first
/// sighting sets a doorkeeper bit instead, so one-hit wonders cost no counters.
/// After `sample_size` increments every counter is halved and the doorkeeper
/// cleared, so old popularity fades.
///
/// The table has about one word (16 counters) per entry the cache holds; it
/// starts small and grows (forgetting what it counted) as the cache fills.
#[derive(Debug, Clone)]
pub(crate) struct FrequencySketch {
    table: Vec<u64>,
    /// A one-probe Bloom filter of the keys seen once since the last
    /// halving, eight bits per counter word.
    doorkeeper: Vec<u64>,
    /// `table.len() / BLOCK_WORDS - 1`.
    block_mask: u64,
    /// Increments since the last halving.
    additions: u32,
    /// Increments between halvings.
    sample_size: u32,
    /// The most words the table may grow to.
    max_words: usize,
}

impl FrequencySketch {
    /// A sketch that grows to about one word per entry for up to `capacity`
    /// entries.
    pub(crate) fn new(capacity: usize) -> Self {
        let max_words = capacity.clamp(MIN_WORDS, 1 << 30).next_power_of_two();
        let mut sketch = FrequencySketch {
            table: Vec::new(),
            doorkeeper: Vec::new(),
            block_mask: 0,
            additions: 0,
            sample_size: 0,
            max_words,
        };
        sketch.resize(max_words.min(1024));
        sketch
    }

    /// Grows the table if `entries` would crowd it. Clears every count.
    #[inline]
    pub(crate) fn ensure_room(&mut self, entries: usize) {
        if entries > self.table.len() && self.table.len() < self.max_words {
            let words = entries.next_power_of_two().min(self.max_words);
            self.resize(words);
        }
    }

    fn resize(&mut self, words: usize) {
        self.table = vec![0; words];
        self.doorkeeper = vec![0; words.div_ceil(8)];
        self.block_mask = (words / BLOCK_WORDS) as u64 - 1;
        self.additions = 0;
        self.sample_size = u32::try_from(words.saturating_mul(10)).unwrap_or(u32::MAX);
    }

    /// Increments between halvings: about ten per entry the table is sized for.
    #[cfg(test)]
    pub(crate) fn sample_size(&self) -> u32 {
        self.sample_size
    }

    /// The doorkeeper bit for `hash`: its word and mask.
    #[inline]
    fn door(&self, hash: u64) -> (usize, u64) {
        // Bits independent of those that pick the counters.
        let bits = (self.doorkeeper.len() * 64).trailing_zeros();
        let bit = (hash.wrapping_mul(0xd6e8_feb8_6659_fd93) >> (64 - bits)) as usize;
        (bit / 64, 1 << (bit % 64))
    }

    /// The 64-byte block holding the four counters of `hash`, and where in it
    /// they are: counter `i` is nibble `shift(i)` of word `2i` or `2i + 1`.
    #[inline]
    fn block(&self, hash: u64) -> usize {
        ((hash & self.block_mask) as usize) * BLOCK_WORDS
    }

    /// Counter `i` of `hash`: its word within the block, and its bit shift.
    #[inline(always)]
    fn counter(hash: u64, i: usize) -> (usize, u32) {
        let byte = (hash.rotate_right(32) >> (8 * i)) as u32;
        (2 * i + (byte & 1) as usize, ((byte >> 1) & 15) * 4)
    }

    /// The least of the four counters of `hash`.
    #[inline(always)]
    fn least(block: &[u64; BLOCK_WORDS], hash: u64) -> u64 {
        let mut least = 15;
        for i in 0..4 {
            let (word, shift) = Self::counter(hash, i);
            least = least.min((block[word] >> shift) & 15);
        }
        least
    }

    /// The block of `hash`, as an array (so indexing it needs no checks).
    #[inline(always)]
    fn block_ref(&self, hash: u64) -> &[u64; BLOCK_WORDS] {
        let start = self.block(hash);
        self.table[start..start + BLOCK_WORDS]
            .try_into()
            .expect("a whole block")
    }

    /// How often `hash` was seen lately (0 to 16).
    #[inline]
    pub(crate) fn frequency(&self, hash: u64) -> u32 {
        let (d, mask) = self.door(hash);
        let seen = u32::from(self.doorkeeper[d] & mask != 0);
        Self::least(self.block_ref(hash), hash) as u32 + seen
    }

    /// Records one more sighting of `hash`.
    #[inline]
    pub(crate) fn increment(&mut self, hash: u64) {
        let (d, mask) = self.door(hash);
        if self.doorkeeper[d] & mask == 0 {
            self.doorkeeper[d] |= mask;
        } else {
            let start = self.block(hash);
            let block: &mut [u64; BLOCK_WORDS] = (&mut self.table[start..start + BLOCK_WORDS])
                .try_into()
                .expect("a whole block");
            let least = Self::least(block, hash);
            if least == 15 {
                return;
            }
            for i in 0..4 {
                let (word, shift) = Self::counter(hash, i);
                if (block[word] >> shift) & 15 == least {
                    block[word] += 1 << shift;
                }
            }
        }
        self.additions += 1;
        if self.additions >= self.sample_size {
            self.age();
        }
    }

    /// Halves every counter and forgets the doorkeeper.
    fn age(&mut self) {
        let mut odd = 0;
        for word in &mut self.table {
            odd += (*word & LOW_BITS).count_ones();
            *word = (*word >> 1) & HALVED;
        }
        self.doorkeeper.fill(0);
        self.additions = (self.additions - odd / 4) / 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(x: u64) -> u64 {
        let mut z = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z ^ (z >> 31)
    }

    #[test]
    fn counts_what_it_sees_and_forgets_with_age() {
        let mut sketch = FrequencySketch::new(1024);
        for _ in 0..10 {
            sketch.increment(mix(1));
        }
        sketch.increment(mix(2));
        assert_eq!(sketch.frequency(mix(1)), 10);
        assert_eq!(sketch.frequency(mix(2)), 1);
        assert_eq!(sketch.frequency(mix(3)), 0);
        for key in 100..100 + u64::from(sketch.sample_size()) {
            sketch.increment(mix(key));
            sketch.increment(mix(key));
        }
        assert!(sketch.frequency(mix(1)) < 10, "halved at least once");
    }

    #[test]
    fn saturates_at_fifteen_plus_the_doorkeeper() {
        let mut sketch = FrequencySketch::new(64);
        for _ in 0..40 {
            sketch.increment(mix(5));
        }
        assert_eq!(sketch.frequency(mix(5)), 16);
    }
}
