//! The script-and-channel scorer learns a planted preference from outcomes.

use daylight_domain::attempt::Channel;
use daylight_strategy::document::Move;
use daylight_strategy::select::{Example, Item, Scorer, ScriptVectors, channel_vector, user_vector};
use rand::RngExt as _;
use rand::SeedableRng as _;

const SOOTHING: &str =
    "您好，了解到您最近可能遇到了一些困难，不用着急，我们一起看看有什么办法，可以申请分期。";
const FIRM: &str = "您的信用卡已逾期，欠款将持续产生利息和违约金，并如实报送征信，请今天确定还款时间。";

/// The world: anxious debtors (feature 0 set) pay after a soothing script far more often than
/// after a firm one, calm debtors the other way round; a call beats an SMS for everyone.
fn pays(anxious: bool, soothing: bool, call: bool) -> f64 {
    let base = match (anxious, soothing) {
        (true, true) => 0.45,
        (true, false) => 0.08,
        (false, true) => 0.12,
        (false, false) => 0.40,
    };
    if call { base } else { base * 0.5 }
}

#[test]
fn the_scorer_learns_a_planted_preference() {
    let sv = ScriptVectors::default();
    let items = [
        Item { script: sv.vector(SOOTHING), channel: channel_vector(Move::Contact(Channel::Call)) },
        Item { script: sv.vector(FIRM), channel: channel_vector(Move::Contact(Channel::Call)) },
        Item { script: sv.vector(SOOTHING), channel: channel_vector(Move::Contact(Channel::Sms)) },
        Item { script: sv.vector(FIRM), channel: channel_vector(Move::Contact(Channel::Sms)) },
    ];
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(7);
    let user = |rng: &mut rand::rngs::Xoshiro256PlusPlus, anxious: bool| {
        let mut d = [0.0; 8];
        d[0] = if anxious { 1.0 } else { 0.0 };
        for v in &mut d[1..] {
            *v = rng.random::<f64>();
        }
        let related = [[rng.random::<f64>(), 1.0, 0.0, 0.0]];
        user_vector(&d, &related)
    };
    // Outcomes of a uniformly random policy, learnt in four batches (as nightly updates).
    let mut scorer = Scorer::prior(1.0);
    for _ in 0..4 {
        let batch: Vec<Example> = (0..1500)
            .map(|_| {
                let anxious = rng.random::<bool>();
                let k = rng.random_range(0..4usize);
                let p = pays(anxious, k % 2 == 0, k < 2);
                Example {
                    user: user(&mut rng, anxious),
                    item: items[k].clone(),
                    paid: rng.random::<f64>() < p,
                }
            })
            .collect();
        scorer.update(&batch, 25);
    }
    // Exploiting, it picks the planted best for new debtors of each kind.
    let mut right = 0;
    for i in 0..400 {
        let anxious = i % 2 == 0;
        let (pick, _) = scorer.choose(&user(&mut rng, anxious), &items, false, 0).unwrap();
        if pick == if anxious { 0 } else { 1 } {
            right += 1;
        }
    }
    assert!(right >= 380, "{right} of 400 picks were the planted best");

    // Exploring (Thompson sampling) sometimes tries the others, reproducibly by seed.
    let u = user(&mut rng, true);
    let picks: Vec<usize> = (0..200).map(|s| scorer.choose(&u, &items, true, s).unwrap().0).collect();
    assert!(picks.iter().any(|p| *p != 0) || scorer.precision.iter().all(|q| *q > 1e6));
    assert_eq!(picks, (0..200).map(|s| scorer.choose(&u, &items, true, s).unwrap().0).collect::<Vec<_>>());
    // With little data the posterior is wide and exploration wanders more.
    let prior = Scorer::prior(1.0);
    let wander = (0..200).filter(|s| prior.choose(&u, &items, true, *s).unwrap().0 != 0).count();
    let settled = picks.iter().filter(|p| **p != 0).count();
    assert!(wander > settled, "prior wanders {wander}, posterior {settled}");
}
