//! Script and channel per debtor, after ICBC's patent CN119809804A (see the requirements):
//!
//! 1. **User vector**: the debtor's feature vector concatenated with aggregated features of the
//!    people related to them (guarantor, emergency contacts): their mean and their maximum
//!    ([`user_vector`]).
//! 2. **Script matrix**: each script's words (jieba segmentation of its text, template
//!    variables removed) hashed into a fixed-length, signed, L2-normalised word vector
//!    ([`ScriptVectors`]).
//! 3. **Channel vectors**: one-hot over the moves ([`channel_vector`]).
//! 4. **Scorer**: P(payment within the outcome window | user, script, channel) by a Bayesian
//!    logistic regression over the user vector crossed with the script and channel vectors
//!    ([`Scorer`]); for one debtor the expected repayment is that probability times the amount
//!    owed, so the best (script, channel) is the most probable one.
//!
//! The posterior is a diagonal Gaussian (a Laplace approximation, as in Chapelle & Li, "An
//! Empirical Evaluation of Thompson Sampling", 2011), so exploration is **Thompson sampling**:
//! on the strategy's exploration share of selections the weights are drawn from the posterior
//! instead of taken at its mean, and the scorer keeps learning about scripts and channels it
//! would otherwise never try. Draws come from a seeded generator: the same seed, the same picks.

use rand::SeedableRng as _;
use rand::rngs::Xoshiro256PlusPlus;

use crate::document::Move;

/// Debtor features the caller gives (each roughly in [0, 1]).
pub const DEBTOR_FEATURES: usize = 8;
/// Features per related person.
pub const RELATED_FEATURES: usize = 4;
/// User vector: debtor ⊕ mean(related) ⊕ max(related).
pub const USER_DIM: usize = DEBTOR_FEATURES + 2 * RELATED_FEATURES;
/// Hashed word-vector length of a script.
pub const SCRIPT_DIM: usize = 32;
/// One-hot moves.
pub const CHANNEL_DIM: usize = 8;
const ITEM_DIM: usize = SCRIPT_DIM + CHANNEL_DIM;
/// Weights: user ⊗ item, item alone, and a bias.
pub const WEIGHTS: usize = USER_DIM * ITEM_DIM + ITEM_DIM + 1;

/// The user vector from the debtor's features and those of each related person (none: zeros).
pub fn user_vector(debtor: &[f64; DEBTOR_FEATURES], related: &[[f64; RELATED_FEATURES]]) -> [f64; USER_DIM] {
    let mut u = [0.0; USER_DIM];
    u[..DEBTOR_FEATURES].copy_from_slice(debtor);
    if !related.is_empty() {
        for k in 0..RELATED_FEATURES {
            let vals = related.iter().map(|r| r[k]);
            u[DEBTOR_FEATURES + k] = vals.clone().sum::<f64>() / related.len() as f64;
            u[DEBTOR_FEATURES + RELATED_FEATURES + k] = vals.fold(f64::MIN, f64::max);
        }
    }
    u
}

/// The one-hot vector of a move.
pub fn channel_vector(m: Move) -> [f64; CHANNEL_DIM] {
    use daylight_domain::attempt::Channel;
    let i = match m {
        Move::Contact(Channel::Call) => 0,
        Move::Contact(Channel::RobotCall) => 1,
        Move::Contact(Channel::Sms) => 2,
        Move::Contact(Channel::Email) => 3,
        Move::Contact(Channel::Letter) => 4,
        Move::Contact(Channel::Visit) => 5,
        Move::Legal => 6,
        Move::Agency => 7,
    };
    let mut v = [0.0; CHANNEL_DIM];
    v[i] = 1.0;
    v
}

/// Turns scripts' words into vectors (holds the segmenter, which loads its dictionary once).
pub struct ScriptVectors {
    jieba: jieba_rs::Jieba,
}

impl std::fmt::Debug for ScriptVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScriptVectors")
    }
}

impl Default for ScriptVectors {
    fn default() -> Self {
        ScriptVectors { jieba: jieba_rs::Jieba::new() }
    }
}

/// FNV-1a, 64 bits: a stable hash of a word on every host and release.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

impl ScriptVectors {
    /// The words of a script's text: jieba tokens without punctuation, spaces and `{variables}`.
    pub fn words<'a>(&self, text: &'a str) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut rest = text;
        // Cut around each {variable}.
        loop {
            let (piece, next) = match rest.find('{') {
                Some(i) => (&rest[..i], rest[i..].find('}').map(|j| &rest[i + j + 1..])),
                None => (rest, None),
            };
            for t in self.jieba.cut(piece, true) {
                if t.word.chars().any(char::is_alphanumeric) {
                    out.push(t.word);
                }
            }
            match next {
                Some(n) => rest = n,
                None => break,
            }
        }
        out
    }

    /// The script's vector: each word hashed to a position and a sign, counted, L2-normalised.
    pub fn vector(&self, text: &str) -> [f64; SCRIPT_DIM] {
        let mut v = [0.0; SCRIPT_DIM];
        for w in self.words(text) {
            let h = fnv1a(w.as_bytes());
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            v[(h % SCRIPT_DIM as u64) as usize] += sign;
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

/// A (script, channel) option as the scorer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The script's word vector.
    pub script: [f64; SCRIPT_DIM],
    /// The channel's vector.
    pub channel: [f64; CHANNEL_DIM],
}

/// One past action and whether a payment followed.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The debtor's user vector then.
    pub user: [f64; USER_DIM],
    /// What was used.
    pub item: Item,
    /// A payment within the outcome window.
    pub paid: bool,
}

/// Sparse-free feature map: `x = (u ⊗ item, item, 1)`, written into `x`.
fn features(u: &[f64; USER_DIM], item: &Item, x: &mut [f64]) {
    let it: Vec<f64> = item.script.iter().chain(item.channel.iter()).copied().collect();
    for (i, ui) in u.iter().enumerate() {
        for (j, ij) in it.iter().enumerate() {
            x[i * ITEM_DIM + j] = ui * ij;
        }
    }
    x[USER_DIM * ITEM_DIM..USER_DIM * ITEM_DIM + ITEM_DIM].copy_from_slice(&it);
    x[WEIGHTS - 1] = 1.0;
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The posterior over the weights: mean and precision per weight.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scorer {
    /// Posterior means.
    pub mean: Vec<f64>,
    /// Posterior precisions (1 / variance).
    pub precision: Vec<f64>,
}

impl Scorer {
    /// Knowing nothing: every weight N(0, 1/λ).
    pub fn prior(lambda: f64) -> Scorer {
        Scorer { mean: vec![0.0; WEIGHTS], precision: vec![lambda; WEIGHTS] }
    }

    /// Updates the posterior with a batch of outcomes: the MAP weights under the current
    /// posterior as prior (diagonally preconditioned gradient steps with a backtracking line
    /// search, so every step lowers the objective), then each precision plus Σ x² p (1 − p)
    /// (the Laplace approximation).
    pub fn update(&mut self, examples: &[Example], iterations: usize) {
        if examples.is_empty() {
            return;
        }
        let xs: Vec<Vec<f64>> = examples
            .iter()
            .map(|e| {
                let mut x = vec![0.0; WEIGHTS];
                features(&e.user, &e.item, &mut x);
                x
            })
            .collect();
        let ys: Vec<f64> = examples.iter().map(|e| if e.paid { 1.0 } else { 0.0 }).collect();
        let (m0, q0) = (self.mean.clone(), self.precision.clone());
        // The negative log posterior (up to a constant).
        let objective = |w: &[f64]| -> f64 {
            let prior: f64 = w.iter().zip(&m0).zip(&q0).map(|((w, m), q)| 0.5 * q * (w - m) * (w - m)).sum();
            let data: f64 = xs
                .iter()
                .zip(&ys)
                .map(|(x, y)| {
                    let z: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum();
                    // log(1 + e^z) − y z, computed without overflow.
                    z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z
                })
                .sum();
            prior + data
        };
        let mut w = m0.clone();
        let mut f = objective(&w);
        let mut grad = vec![0.0; WEIGHTS];
        let mut hess = vec![0.0; WEIGHTS];
        for _ in 0..iterations {
            for k in 0..WEIGHTS {
                grad[k] = q0[k] * (w[k] - m0[k]);
                hess[k] = q0[k];
            }
            for (x, y) in xs.iter().zip(&ys) {
                let p = sigmoid(x.iter().zip(&w).map(|(a, b)| a * b).sum());
                let r = p * (1.0 - p);
                for (k, xk) in x.iter().enumerate() {
                    if *xk != 0.0 {
                        grad[k] += (p - y) * xk;
                        hess[k] += r * xk * xk;
                    }
                }
            }
            let dir: Vec<f64> = grad.iter().zip(&hess).map(|(g, h)| -g / h).collect();
            let slope: f64 = grad.iter().zip(&dir).map(|(g, d)| g * d).sum();
            if slope > -1e-12 {
                break;
            }
            let mut t = 1.0;
            loop {
                let trial: Vec<f64> = w.iter().zip(&dir).map(|(w, d)| w + t * d).collect();
                let ft = objective(&trial);
                if ft <= f + 1e-4 * t * slope {
                    w = trial;
                    f = ft;
                    break;
                }
                t *= 0.5;
                if t < 1e-6 {
                    break;
                }
            }
            if t < 1e-6 {
                break;
            }
        }
        let mut q = q0;
        for x in &xs {
            let p = sigmoid(x.iter().zip(&w).map(|(a, b)| a * b).sum());
            for (k, xk) in x.iter().enumerate() {
                q[k] += p * (1.0 - p) * xk * xk;
            }
        }
        self.mean = w;
        self.precision = q;
    }

    /// P(payment) under weights `w`: the dot product with [`features`], without building them.
    fn probability_with(w: &[f64], user: &[f64; USER_DIM], item: &Item) -> f64 {
        let it = item.script.iter().chain(item.channel.iter());
        let mut z = w[WEIGHTS - 1];
        for (i, ui) in user.iter().enumerate() {
            let row = &w[i * ITEM_DIM..(i + 1) * ITEM_DIM];
            z += ui * row.iter().zip(it.clone()).map(|(a, b)| a * b).sum::<f64>();
        }
        z += w[USER_DIM * ITEM_DIM..USER_DIM * ITEM_DIM + ITEM_DIM]
            .iter()
            .zip(it)
            .map(|(a, b)| a * b)
            .sum::<f64>();
        sigmoid(z)
    }

    /// P(payment) at the posterior mean.
    pub fn probability(&self, user: &[f64; USER_DIM], item: &Item) -> f64 {
        Self::probability_with(&self.mean, user, item)
    }

    /// The best of `items` for `user` (the first on ties): at the posterior mean, or — when
    /// `explore` — under one draw of the weights from the posterior (Thompson sampling) made
    /// with `seed`. Returns the index and the probability the choice was made by.
    pub fn choose(
        &self,
        user: &[f64; USER_DIM],
        items: &[Item],
        explore: bool,
        seed: u64,
    ) -> Option<(usize, f64)> {
        self.rank(user, items, explore, seed).into_iter().next()
    }

    /// Every item with its probability, best first (earlier first on ties), under the mean or
    /// (`explore`) one posterior draw made with `seed`.
    pub fn rank(
        &self,
        user: &[f64; USER_DIM],
        items: &[Item],
        explore: bool,
        seed: u64,
    ) -> Vec<(usize, f64)> {
        let drawn;
        let w: &[f64] = if explore {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            drawn = self
                .mean
                .iter()
                .zip(&self.precision)
                .map(|(m, q)| m + normal(&mut rng) / q.sqrt())
                .collect::<Vec<_>>();
            &drawn
        } else {
            &self.mean
        };
        let mut out: Vec<(usize, f64)> =
            items.iter().enumerate().map(|(i, item)| (i, Self::probability_with(w, user, item))).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    use rand::RngExt as _;
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_become_word_vectors_without_their_variables() {
        let sv = ScriptVectors::default();
        let words = sv.words("{name}您好，您的信用卡已逾期{dpd}天，请尽快还款。");
        assert!(words.contains(&"信用卡") && words.contains(&"逾期") && words.contains(&"还款"), "{words:?}");
        assert!(!words.iter().any(|w| w.contains("name") || w.contains('{') || *w == "，"), "{words:?}");
        let a = sv.vector("请尽快还款，逾期将影响征信");
        let b = sv.vector("请尽快还款，逾期将影响征信");
        assert_eq!(a, b);
        assert!((a.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-12);
        assert_ne!(a, sv.vector("不用着急，我们一起想办法"));
    }

    #[test]
    fn related_people_are_averaged_and_maxed() {
        let u = user_vector(&[1.0; 8], &[[1.0, 0.0, 0.5, 0.0], [0.0, 0.0, 1.0, 0.0]]);
        assert_eq!(&u[8..12], &[0.5, 0.0, 0.75, 0.0]);
        assert_eq!(&u[12..16], &[1.0, 0.0, 1.0, 0.0]);
        assert_eq!(&user_vector(&[0.0; 8], &[])[8..], &[0.0; 8]);
    }
}
