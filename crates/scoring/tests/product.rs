//! The product models learn what a synthetic world hides: when each kind of debtor answers, and
//! that a promise is followed by a payment. Best times respect the compliance pack.

use daylight_domain::attempt::{Channel, Outcome};
use daylight_domain::bucket::Bucket;
use daylight_domain::customer::Recipient;
use daylight_scoring::features::{AccountPath, AttemptFact, DebtorHistory, PaymentFact, local_slot};
use daylight_scoring::gbdt::Params;
use daylight_scoring::product::{FitOptions, Kind, ProductModel, Scorer, best_times, examples};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// SplitMix64: a seeded stream of uniform numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Who answers when (local hour): office workers at lunch and after work, night-shift workers
/// in the afternoon, retired people in the morning.
fn answers(persona: usize, hour: usize) -> f64 {
    match (persona, hour) {
        (0, 12 | 18 | 19) => 0.7,
        (0, _) => 0.08,
        (1, 14..=16) => 0.7,
        (1, _) => 0.05,
        (_, 9..=10) => 0.7,
        _ => 0.15,
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// `n` debtors dialled once a day for 90 days from 2026-03-02 (Beijing time, 08:00–20:59).
fn world(n: usize, seed: u64) -> Vec<DebtorHistory> {
    let zone = TimeZone::get("Asia/Shanghai").unwrap();
    let start = ts("2026-03-02T00:00:00+08:00");
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let persona = i % 3;
            let mut attempts = Vec::new();
            let mut payments = Vec::new();
            for day in 0..90 {
                let minute = 8 * 60 + (rng.next() * 13.0 * 60.0) as i64;
                let at = start + SignedDuration::from_mins(day * 24 * 60 + minute);
                let (hour, _) = local_slot(at, &zone);
                let rpc = rng.next() < answers(persona, hour);
                // Half the debtors are willing: they promise often and keep their word.
                let willing = i % 2 == 0;
                let outcome = match (rpc, rng.next()) {
                    (false, _) => Outcome::NoAnswer,
                    (true, x) if x < if willing { 0.5 } else { 0.1 } => Outcome::PromiseToPay,
                    (true, x) if x > 0.8 && !willing => Outcome::Refused,
                    (true, _) => Outcome::Conversation,
                };
                if outcome == Outcome::PromiseToPay && rng.next() < if willing { 0.9 } else { 0.2 } {
                    let later = at + SignedDuration::from_hours(24 * (1 + (rng.next() * 6.0) as i64));
                    payments.push(PaymentFact { at: later, amount: 50_000 });
                }
                if rng.next() < 0.002 {
                    payments.push(PaymentFact { at, amount: 10_000 });
                }
                let duration_secs = if rpc { 40 + (rng.next() * 120.0) as u32 } else { 0 };
                attempts.push(AttemptFact {
                    at,
                    channel: Channel::Call,
                    recipient: Recipient::Debtor,
                    outcome,
                    duration_secs,
                });
            }
            let mut h = DebtorHistory {
                case: format!("CASE-{i:04}"),
                zone: zone.clone(),
                birth_date: Some(jiff::civil::date(1960 + (i % 40) as i16, 1, 1)),
                credit_limit: 2_000_000,
                accounts: vec![AccountPath { now: Bucket::M2, moves: vec![] }],
                attempts,
                payments,
                promises: vec![],
            };
            h.sort();
            h
        })
        .collect()
}

fn options(kind: Kind) -> FitOptions {
    FitOptions {
        kind,
        from: ts("2026-03-02T00:00:00+08:00"),
        until: ts("2026-05-31T00:00:00+08:00"),
        params: Params { rounds: 120, max_depth: 4, eta: 0.1, threads: 1, ..Params::default() },
        seed: 3,
        created_at: "2026-05-31T00:00:00Z".into(),
        debtor_strength: 8.0,
        segment_strength: 50.0,
    }
}

#[test]
fn contactability_learns_when_each_debtor_answers() {
    let world = world(300, 11);
    let model = ProductModel::fit(&world, &options(Kind::Contactability)).unwrap();
    let m = &model.gbdt.as_ref().unwrap().metrics;
    assert!(m.auc > 0.75, "held-out (latest weeks) AUC {}", m.auc);
    assert_eq!(model.examples, 300 * 90);

    // The file scores exactly as the model trained, and as the examples it was trained on.
    let text = serde_json::to_vec(&model).unwrap();
    let scorer = Scorer::load(&text).unwrap();
    let ex = examples(
        Kind::Contactability,
        &world[..3],
        &model.priors,
        options(Kind::Contactability).from,
        options(Kind::Contactability).until,
    );
    let items: Vec<_> = ex.iter().map(|e| (world.iter().find(|h| h.case == e.case).unwrap(), e.at)).collect();
    let from_file = scorer.score_many(&items).unwrap();
    let in_memory = Scorer::new(model.clone()).unwrap().score_many(&items).unwrap();
    assert_eq!(from_file.len(), 3 * 90);
    assert_eq!(from_file, in_memory);
    // Connected dials score higher than missed ones.
    let mean = |want: bool| {
        let v: Vec<f64> =
            ex.iter().zip(&from_file).filter(|(e, _)| e.label == want).map(|(_, p)| *p).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(mean(true) > mean(false) + 0.1, "{} vs {}", mean(true), mean(false));

    // Best times on a working day (Tuesday 2026-06-02) under China's default pack.
    let pack = daylight_compliance::Pack::shipped("cn-default").unwrap();
    let req =
        daylight_compliance::Request::new(Channel::Call, Recipient::Debtor, vec![world[0].zone.clone()])
            .unwrap();
    let now = ts("2026-06-02T00:00:00+08:00");
    let date = jiff::civil::date(2026, 6, 2);
    for (persona, good) in [(0usize, &[12usize, 18, 19][..]), (1, &[14, 15, 16]), (2, &[9, 10])] {
        let h = &world[persona + 30];
        let best = best_times(&scorer, h, &pack, &req, &[], date, now).unwrap();
        let top = local_slot(best.slots[0].start, &h.zone).0;
        assert!(good.contains(&top), "persona {persona}: best hour {top}, expected one of {good:?}");
        // Nothing outside the calling hours: 96 slots, those before 08:00 and from 21:00 denied.
        assert_eq!(best.slots.len() + best.denied["HOURS"], 96);
        assert!(best.slots.iter().all(|s| (8..21).contains(&local_slot(s.start, &h.zone).0)));
        assert!(best.slots.windows(2).all(|w| w[0].p_connect >= w[1].p_connect));
    }
    // A statutory holiday (National Day): nothing is allowed.
    let holiday =
        best_times(&scorer, &world[0], &pack, &req, &[], jiff::civil::date(2026, 10, 1), now).unwrap();
    assert!(holiday.slots.is_empty());
    assert_eq!(holiday.denied["HOLIDAY"], 96);
    // Later in the day, the slots already over are left out and the one under way starts now.
    let noon = ts("2026-06-02T12:05:00+08:00");
    let rest = best_times(&scorer, &world[0], &pack, &req, &[], date, noon).unwrap();
    assert_eq!(rest.past, 48);
    assert!(rest.slots.iter().any(|s| s.start == noon));
}

#[test]
fn the_shrinkage_estimator_serves_a_cold_start() {
    let world = world(60, 5);
    let model = ProductModel::shrinkage(&world, &options(Kind::Contactability));
    assert!(model.gbdt.is_none());
    let scorer = Scorer::new(model).unwrap();
    // A debtor nobody has called yet gets the segment's rate for the hour, which the office
    // workers, night-shift workers and retired people in the portfolio shape.
    let mut stranger = world[0].clone();
    stranger.attempts.clear();
    let at = |h: u8| ts(&format!("2026-06-02T{h:02}:00:00+08:00"));
    let p: Vec<f64> =
        [9u8, 15, 21].iter().map(|h| scorer.score_many(&[(&stranger, at(*h))]).unwrap()[0]).collect();
    let s = &scorer.model.priors;
    assert!((p[0] - s.segment_rate(Bucket::M2, false, 9)).abs() < 1e-12);
    assert!(p[0] > 0.2 && p[1] > 0.2, "{p:?}");
    // Nobody was dialled at 21:00: the portfolio's prior.
    assert!((p[2] - s.overall).abs() < 0.05, "{p:?} vs {}", s.overall);
    // A propensity model without trees is refused.
    let mut bad = scorer.model.clone();
    bad.kind = Kind::Propensity;
    assert_eq!(Scorer::new(bad).unwrap_err().code, "MODEL_FORMAT");
}

#[test]
fn propensity_learns_who_pays() {
    let world = world(400, 17);
    let opts = options(Kind::Propensity);
    let model = ProductModel::fit(&world, &opts).unwrap();
    let m = &model.gbdt.as_ref().unwrap().metrics;
    assert!(m.auc > 0.65, "held-out AUC {}", m.auc);
    assert!(!model.features.iter().any(|f| f == "hour"), "propensity does not read the hour");
    // Weekly snapshots whose 30 days end by `until`: 2026-03-02 … 2026-04-27 (9 of them).
    assert_eq!(model.examples, 400 * 9);
    // Too little history is refused with a reason.
    let e = ProductModel::fit(&world[..2], &opts).unwrap_err();
    assert_eq!(e.code, "MODEL_TRAIN");
    assert!(e.message.contains("at least 200"), "{}", e.message);
}
