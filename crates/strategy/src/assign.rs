//! Capacity over the day: which call goes in which 15-minute slot.
//!
//! Each call has a value in each slot it may take (its priority × P(connect) in that slot,
//! among the slots the compliance pack allows); each slot holds as many calls as the team can
//! make in it. Assigning first come, or greedily by value, lets a debtor who could be reached
//! almost as well later take the golden slot from one who can only be reached then. Daylight
//! assigns by **regret** (the marginal value of deciding now): the call that would lose most by
//! missing its best open slot — its best value minus its second-best — goes first, into its
//! best slot. Keys are kept in a heap and refreshed when popped (a slot that filled since a key
//! was computed changes it), so a day of a million calls costs a few heap operations per call
//! rather than a re-ranking of everyone each time a slot fills.
//!
//! Guarantees, each tested: no slot holds more than its capacity; a call is left out only when
//! every slot it could take is full; the same input gives the same assignment.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One call to place: its options as `(slot, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Slots it may take and its value in each (values ≥ 0).
    pub options: Vec<(usize, f64)>,
}

#[derive(Debug, PartialEq)]
struct Entry {
    regret: f64,
    best: f64,
    who: usize,
    version: u32,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.regret
            .total_cmp(&other.regret)
            .then(self.best.total_cmp(&other.best))
            // The lower index first on ties: deterministic.
            .then(other.who.cmp(&self.who))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The slot each candidate gets (`None`: every slot it could take was full).
pub fn assign(capacity: &[u32], candidates: &[Candidate]) -> Vec<Option<usize>> {
    let mut left: Vec<u32> = capacity.to_vec();
    // Options best first (ties: earlier slot), those in slots that do not exist dropped.
    let options: Vec<Vec<(usize, f64)>> = candidates
        .iter()
        .map(|c| {
            let mut o: Vec<(usize, f64)> =
                c.options.iter().copied().filter(|(s, v)| *s < left.len() && v.is_finite()).collect();
            o.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            o
        })
        .collect();
    let mut cursor = vec![0usize; candidates.len()];
    let mut version = vec![0u32; candidates.len()];
    let mut out: Vec<Option<usize>> = vec![None; candidates.len()];
    let mut heap = BinaryHeap::new();

    // The candidate's key from its first two open options (advancing past full slots).
    let key = |i: usize, cursor: &mut [usize], left: &[u32]| -> Option<(f64, f64)> {
        let o = &options[i];
        while cursor[i] < o.len() && left[o[cursor[i]].0] == 0 {
            cursor[i] += 1;
        }
        let best = o.get(cursor[i])?.1;
        let second = o[cursor[i] + 1..].iter().find(|(s, _)| left[*s] > 0).map_or(0.0, |(_, v)| *v);
        Some((best - second, best))
    };
    for i in 0..candidates.len() {
        if let Some((regret, best)) = key(i, &mut cursor, &left) {
            heap.push(Entry { regret, best, who: i, version: 0 });
        }
    }
    let mut room: u64 = left.iter().map(|c| u64::from(*c)).sum();
    while let Some(e) = heap.pop() {
        if room == 0 {
            break;
        }
        let i = e.who;
        if out[i].is_some() || e.version != version[i] {
            continue;
        }
        // Keys are refreshed when popped: a slot filling since the entry was made changes it.
        let Some((regret, best)) = key(i, &mut cursor, &left) else { continue };
        if regret != e.regret || best != e.best {
            version[i] += 1;
            heap.push(Entry { regret, best, who: i, version: version[i] });
            continue;
        }
        let slot = options[i][cursor[i]].0;
        out[i] = Some(slot);
        left[slot] -= 1;
        room -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(options: &[(usize, f64)]) -> Candidate {
        Candidate { options: options.to_vec() }
    }

    #[test]
    fn the_call_that_would_lose_most_goes_first() {
        // A is almost as reachable later; B only in the golden slot. By value, A would take
        // slot 0 and B would be left with 0.1; by regret B takes it and A loses only 0.05.
        let got = assign(&[1, 1], &[c(&[(0, 0.9), (1, 0.85)]), c(&[(0, 0.8), (1, 0.1)])]);
        assert_eq!(got, [Some(1), Some(0)]);
    }

    #[test]
    fn a_full_slot_sends_calls_to_their_next_best() {
        let got = assign(
            &[2, 5, 0],
            &[c(&[(0, 0.5), (1, 0.4)]), c(&[(0, 0.5), (1, 0.3)]), c(&[(0, 0.5), (1, 0.2)]), c(&[(2, 0.9)])],
        );
        assert_eq!(got.iter().filter(|s| **s == Some(0)).count(), 2);
        assert_eq!(got[3], None, "its only slot has no capacity");
        // The one with least to lose (0.5 vs 0.4) moves.
        assert_eq!(got[0], Some(1));
    }

    #[test]
    fn ties_break_the_same_way_every_time() {
        let cands: Vec<Candidate> = (0..50).map(|_| c(&[(0, 0.5), (1, 0.5)])).collect();
        let a = assign(&[25, 25], &cands);
        assert_eq!(a, assign(&[25, 25], &cands));
        assert_eq!(a[0], Some(0));
    }

    proptest::proptest! {
        #[test]
        fn capacity_holds_and_nobody_is_left_out_while_room_remains(
            caps in proptest::collection::vec(0u32..4, 1..8),
            raw in proptest::collection::vec(proptest::collection::vec((0usize..8, 0.0f64..1.0), 0..5), 0..30),
        ) {
            let cands: Vec<Candidate> = raw.iter().map(|o| c(o)).collect();
            let got = assign(&caps, &cands);
            let mut used = vec![0u32; caps.len()];
            for (i, s) in got.iter().enumerate() {
                if let Some(s) = s {
                    proptest::prop_assert!(cands[i].options.iter().any(|(o, _)| o == s));
                    used[*s] += 1;
                }
            }
            for (u, cap) in used.iter().zip(&caps) {
                proptest::prop_assert!(u <= cap);
            }
            for (i, s) in got.iter().enumerate() {
                if s.is_none() {
                    for (o, _) in &cands[i].options {
                        proptest::prop_assert!(*o >= caps.len() || used[*o] == caps[*o], "{i} left out while slot {o} had room");
                    }
                }
            }
        }
    }
}
