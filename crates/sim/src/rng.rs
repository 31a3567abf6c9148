//! Counter-based draws: every random event of the twin is named by `(seed, stream, a, b)` and
//! gets its draw from a hash of that name, not from a generator's position. The same event
//! therefore gets the same draw whatever order (or thread) the twin simulates it in, and adding
//! a new kind of event does not shift the draws of the others.

/// The kinds of events, each its own stream of draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Observable records: names, ids, numbers, accounts.
    Record = 1,
    /// Hidden traits.
    Trait = 2,
    /// Whether a contact is answered, and what is said.
    Answer = 3,
    /// Payments, promises kept, self-cure.
    Pay = 4,
    /// Hardship events and complaints.
    Life = 5,
    /// The dialling day: ring and talk times.
    Dial = 6,
}

/// SplitMix64's finaliser: a bijection of `u64` with good avalanche.
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 64 random bits for the event `(seed, stream, a, b)`.
pub fn bits(seed: u64, stream: Stream, a: u64, b: u64) -> u64 {
    const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut z = mix(seed ^ GOLDEN.wrapping_mul(stream as u64));
    z = mix(z ^ a.wrapping_add(GOLDEN));
    mix(z ^ b.wrapping_mul(GOLDEN).wrapping_add(1))
}

/// A draw in [0, 1) for the event `(seed, stream, a, b)`.
pub fn uniform(seed: u64, stream: Stream, a: u64, b: u64) -> f64 {
    (bits(seed, stream, a, b) >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal draw (Box–Muller over two uniforms of the event).
pub fn normal(seed: u64, stream: Stream, a: u64, b: u64) -> f64 {
    let u1 = 1.0 - uniform(seed, stream, a, b.wrapping_mul(2));
    let u2 = uniform(seed, stream, a, b.wrapping_mul(2).wrapping_add(1));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// An index drawn in proportion to `weights` (which must not all be zero).
pub fn pick(u: f64, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut at = u * total;
    for (i, w) in weights.iter().enumerate() {
        if at < *w {
            return i;
        }
        at -= w;
    }
    weights.len() - 1
}

/// The logistic function.
pub fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_named_not_sequenced() {
        let a = uniform(7, Stream::Answer, 42, 3);
        assert_eq!(a, uniform(7, Stream::Answer, 42, 3));
        assert_ne!(a, uniform(7, Stream::Answer, 42, 4));
        assert_ne!(a, uniform(7, Stream::Pay, 42, 3));
        assert_ne!(a, uniform(8, Stream::Answer, 42, 3));
    }

    #[test]
    fn uniform_draws_fill_their_deciles_evenly() {
        let mut counts = [0u32; 10];
        for i in 0..100_000u64 {
            counts[(uniform(1, Stream::Trait, i, 0) * 10.0) as usize] += 1;
        }
        // Chi-square with 9 degrees of freedom; 27.88 is the 0.1 % critical value.
        let chi: f64 = counts.iter().map(|c| (f64::from(*c) - 10_000.0).powi(2) / 10_000.0).sum();
        assert!(chi < 27.88, "{counts:?} chi-square {chi}");
    }

    #[test]
    fn normal_draws_have_mean_zero_and_unit_variance() {
        let xs: Vec<f64> = (0..50_000u64).map(|i| normal(3, Stream::Trait, i, 1)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.03, "mean {mean} variance {var}");
    }

    #[test]
    fn picks_follow_their_weights() {
        let w = [1.0, 0.0, 3.0];
        let mut counts = [0u32; 3];
        for i in 0..40_000u64 {
            counts[pick(uniform(5, Stream::Record, i, 0), &w)] += 1;
        }
        assert_eq!(counts[1], 0);
        let share = f64::from(counts[2]) / 40_000.0;
        assert!((share - 0.75).abs() < 0.01, "{counts:?}");
    }
}
