//! SplitMix64 (Steele, Lea and Flood 2014): the one small deterministic PRNG of the crate.
//! It seeds the TPDF dither (same seed ⇒ same bytes), the synthesiser and the bench workload.

/// SplitMix64: a 64-bit counter passed through a mixing function.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

/// The counter's step (2^64 / φ).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SplitMix64 {
    /// A generator from a seed (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The mixing function alone: a well-spread 64-bit value for `z`.
    #[inline(always)]
    pub fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The generator `seed` after `draws` draws (the state is a counter: no draw is made).
    pub fn after(seed: u64, draws: u64) -> Self {
        SplitMix64(seed.wrapping_add(draws.wrapping_mul(GAMMA)))
    }

    /// Draw number `draw` (1 for the first) of the generator `seed`, without stepping one:
    /// `SplitMix64::after(seed, draw − 1).next_u64()`, with no state carried between draws
    /// (so a loop over many of them has no chain from one to the next).
    #[inline(always)]
    pub fn draw(seed: u64, draw: u64) -> u64 {
        Self::mix(seed.wrapping_add(draw.wrapping_mul(GAMMA)))
    }

    /// Next raw 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        Self::mix(self.0)
    }

    /// Next uniform value in `[0, 1)` (53 bits).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
