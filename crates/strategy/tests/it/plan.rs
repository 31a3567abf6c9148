//! The daily plan: compliance pre-check, holidays, capacity, arms, replay.

use daylight_compliance::Pack;
use daylight_domain::attempt::{Channel, Outcome};
use daylight_domain::bucket::Bucket;
use daylight_domain::customer::{ContactKind, ContactStatus, Recipient};
use daylight_strategy::document::{DEFAULT, Move};
use daylight_strategy::plan::{ExperimentInput, PastContact, PlanCase, PlanInput, Point, plan};
use jiff::Timestamp;
use jiff::civil::{Date, date};

fn pack_source() -> String {
    daylight_compliance::pack::SHIPPED
        .iter()
        .find(|(n, _)| *n == daylight_compliance::DEFAULT_PACK)
        .unwrap()
        .1
        .to_owned()
}

fn phone(id: &str, recipient: Recipient) -> Point {
    Point {
        id: id.into(),
        recipient,
        kind: ContactKind::Phone,
        status: ContactStatus::Valid,
        status_since: None,
        zone: None,
    }
}

fn case(n: usize, bucket: Bucket, dpd: u32) -> PlanCase {
    PlanCase {
        birth_date: Some(date(1990, 1, 1)),
        bucket,
        dpd,
        overdue_fen: 300_000 + n as i64 * 1000,
        credit_limit_fen: 5_000_000,
        account: Some(format!("A{n:04}")),
        statement_day: Some(5),
        points: vec![
            phone(&format!("P{n:04}"), Recipient::Debtor),
            Point {
                id: format!("M{n:04}"),
                recipient: Recipient::Debtor,
                kind: ContactKind::Address,
                status: ContactStatus::Valid,
                status_since: None,
                zone: None,
            },
            phone(&format!("G{n:04}"), Recipient::Guarantor),
        ],
        ..PlanCase::new(format!("CASE-C{n:04}"), format!("C{n:04}"), "Asia/Shanghai".into())
    }
}

fn input(day: Date, cases: Vec<PlanCase>) -> PlanInput {
    PlanInput {
        date: day,
        as_of: "2026-03-01T00:00:00Z".parse().unwrap(),
        strategy: DEFAULT.to_owned(),
        pack: pack_source(),
        experiment: None,
        contactability: None,
        propensity: None,
        selector: None,
        arm_strategies: Default::default(),
        cases,
    }
}

fn portfolio() -> Vec<PlanCase> {
    let mut cases: Vec<PlanCase> = (0..40).map(|n| case(n, Bucket::M2, 40)).collect();
    cases.push(case(100, Bucket::M1, 1)); // SMS day
    cases.push(case(101, Bucket::M1, 5)); // agent call day
    cases.push(case(102, Bucket::M4, 150)); // legal referral and a call
    let mut hardship = case(103, Bucket::M3, 70);
    hardship.hardship = true;
    cases.push(hardship);
    let mut nowhere = case(104, Bucket::M2, 40);
    nowhere.points.clear();
    cases.push(nowhere);
    let mut ceased = case(105, Bucket::M2, 40);
    ceased.cease = true;
    cases.push(ceased);
    cases
}

fn mar4() -> Date {
    date(2026, 3, 4)
}

#[test]
fn every_action_is_allowed_by_the_pack_at_its_window() {
    let input = input(mar4(), portfolio());
    let plan = plan(&input).unwrap();
    let pack = Pack::from_toml(&input.pack, "p").unwrap();
    assert!(plan.actions.len() >= 40, "{}", plan.summary());
    for a in &plan.actions {
        let Move::Contact(channel) = a.channel else { continue };
        let c = input.cases.iter().find(|c| c.case == a.case).unwrap();
        let mut req = daylight_compliance::Request::new(
            channel,
            a.recipient,
            vec![jiff::tz::TimeZone::get(&c.zone).unwrap()],
        )
        .unwrap();
        req.at = Some(a.window_start);
        req.contact_point = a.contact_point.clone();
        req.debt = c.account.clone();
        req.flags.cease = c.cease;
        let d = daylight_compliance::evaluate(&pack, &req, &[], a.window_start);
        assert!(d.allowed, "{a:?}: {:?}", d.violations);
        assert!(a.window_end > a.window_start);
    }
    // The skipped say why.
    assert_eq!(plan.skipped.get("NO_CONTACT_POINT"), Some(&1), "{:?}", plan.skipped);
    assert_eq!(plan.skipped.get("CEASE"), Some(&1), "{:?}", plan.skipped);
    assert!(plan.summary().contains("skipped: "), "{}", plan.summary());
    // The ladder: day 1 of M1 is an SMS; day 150 of M4 is a legal referral and a call.
    let of = |case: &str| {
        plan.actions.iter().filter(|a| a.case == case).map(|a| a.channel.as_str()).collect::<Vec<_>>()
    };
    assert_eq!(of("CASE-C0100"), ["sms"]);
    let mut m4 = of("CASE-C0102");
    m4.sort();
    assert_eq!(m4, ["call", "legal"]);
    // Hardship: the negotiation ladder, no pressure.
    let h: Vec<_> = plan.actions.iter().filter(|a| a.case == "CASE-C0103").collect();
    assert_eq!(h.len(), 1);
    assert!(matches!(h[0].script.as_deref(), Some("call-negotiation" | "call-soothing")), "{h:?}");
    assert!(h[0].reasons.iter().any(|r| r.starts_with("HARDSHIP")));
    // Priorities number the actions 1, 2, 3, …
    assert!(plan.actions.iter().enumerate().all(|(i, a)| a.priority as usize == i + 1));
}

#[test]
fn a_statutory_holiday_has_no_calls_sms_or_visits() {
    // 2026-10-01: National Day.
    let plan = plan(&input(date(2026, 10, 1), portfolio())).unwrap();
    assert!(
        plan.actions.iter().all(|a| !matches!(a.channel.as_str(), "call" | "robot_call" | "sms" | "visit")),
        "{:?}",
        plan.actions
    );
    assert!(plan.skipped.get("HOLIDAY").copied().unwrap_or(0) >= 40, "{:?}", plan.skipped);
}

#[test]
fn calls_wait_for_capacity_and_earlier_contacts_count() {
    let small = DEFAULT
        .replace("lines = 40                      # agents", "lines = 1                      # agents");
    let mut input = input(mar4(), portfolio());
    input.strategy = small;
    let plan = plan(&input).unwrap();
    // One agent, 5-minute calls: 3 per quarter hour.
    let mut per_slot = std::collections::BTreeMap::new();
    for a in plan.actions.iter().filter(|a| a.channel == "call") {
        *per_slot.entry(a.window_start).or_insert(0) += 1;
    }
    assert!(per_slot.values().all(|n| *n <= 3), "{per_slot:?}");
    // A debtor already called today is not called again (the daily cap).
    let mut input2 = super_input_with_call_today();
    input2.cases.truncate(1);
    let p2 = plan_of(&input2);
    assert!(p2.actions.iter().all(|a| a.channel != "call"), "{:?}", p2.actions);
}

fn super_input_with_call_today() -> PlanInput {
    let mut c = case(1, Bucket::M2, 40);
    // cn-default allows one call a day; one was made this morning (Shanghai).
    c.contacts.push(PastContact {
        at: "2026-03-04T01:30:00Z".parse::<Timestamp>().unwrap(),
        channel: Channel::Call,
        recipient: Recipient::Debtor,
        contact_point: Some("P0001".into()),
        debt: Some("A0001".into()),
        outcome: Some(Outcome::NoAnswer),
        duration_secs: 0,
    });
    let mut i = input(mar4(), vec![c]);
    i.as_of = "2026-03-04T02:00:00Z".parse().unwrap();
    i
}

fn plan_of(i: &PlanInput) -> daylight_strategy::plan::Plan {
    plan(i).unwrap()
}

#[test]
fn plans_replay_bit_for_bit_from_their_stored_input() {
    let mut input = input(mar4(), portfolio());
    input.experiment = Some(ExperimentInput {
        name: "t".into(),
        arms: "champion:45,challenger:45,holdout:10".into(),
        salt: "s".into(),
    });
    let a = plan(&input).unwrap();
    let stored = serde_json::to_string(&input).unwrap();
    let back: PlanInput = serde_json::from_str(&stored).unwrap();
    let b = plan(&back).unwrap();
    assert_eq!(serde_json::to_vec(&a).unwrap(), serde_json::to_vec(&b).unwrap());
    assert_eq!(a.digest(), b.digest());
    // Arms follow the experiment; the holdout gets no model-driven timing.
    assert!(a.actions.iter().all(|x| ["champion", "challenger", "holdout"].contains(&x.arm.as_str())));
    for x in a.actions.iter().filter(|x| x.arm == "holdout" && x.channel == "call") {
        assert!(x.reasons.iter().any(|r| r.contains("holdout arm")), "{x:?}");
    }
}

/// A call that ended in hardship routes the debtor to negotiation from the next plan; an
/// abusive one changes the channel mix (no agent calls).
#[test]
fn call_outcomes_route_hardship_and_abuse() {
    let mut hard = case(1, Bucket::M2, 40);
    let mut rude = case(2, Bucket::M2, 40);
    for (c, outcome) in [(&mut hard, Outcome::Hardship), (&mut rude, Outcome::Abusive)] {
        c.contacts.push(PastContact {
            at: "2026-02-20T02:00:00Z".parse().unwrap(),
            channel: Channel::Call,
            recipient: Recipient::Debtor,
            contact_point: Some(c.points[0].id.clone()),
            debt: c.account.clone(),
            outcome: Some(outcome),
            duration_secs: 120,
        });
    }
    let p = plan(&input(mar4(), vec![hard, rude])).unwrap();
    let one: Vec<_> = p.actions.iter().filter(|a| a.case == "CASE-C0001").collect();
    assert!(one.iter().all(|a| a.reasons.iter().any(|r| r == "LADDER: hardship")), "{one:?}");
    let two: Vec<_> = p.actions.iter().filter(|a| a.case == "CASE-C0002").collect();
    assert!(
        !two.is_empty()
            && two.iter().all(|a| a.channel != "call" && a.reasons.iter().any(|r| r == "LADDER: abusive")),
        "{two:?}"
    );
}

/// A case whose first choice has no room today gets its next alternative, not nothing.
#[test]
fn a_full_channel_falls_back_to_the_next_alternative() {
    // No letters today: day 50 of M2 would be a letter (the latest rung), so a call or an SMS.
    let strategy = DEFAULT.replace("letter_per_day = 500", "letter_per_day = 0");
    let mut i = input(mar4(), vec![case(1, Bucket::M2, 50)]);
    i.strategy = strategy;
    let p = plan(&i).unwrap();
    assert_eq!(p.actions.len(), 1, "{:?} {:?}", p.actions, p.skipped);
    assert!(["call", "sms"].contains(&p.actions[0].channel.as_str()));
    assert!(
        p.actions[0].reasons.iter().any(|r| r == "FALLBACK: alternative 2 of the day"),
        "{:?}",
        p.actions[0].reasons
    );
    // With letters, the letter.
    let p = plan(&input(mar4(), vec![case(1, Bucket::M2, 50)])).unwrap();
    assert_eq!(p.actions[0].channel, "letter");
}

/// Each proposed contact of a stored plan is one example, labelled by a payment within the
/// window after the plan's day; referrals are not examples.
#[test]
fn stored_plans_become_labelled_examples() {
    use daylight_strategy::learn::{examples, train};
    let i = input(mar4(), portfolio());
    let p = plan(&i).unwrap();
    let contacts = p.actions.iter().filter(|a| a.script.is_some()).count();
    let vectors = daylight_strategy::select::ScriptVectors::default();
    let window_end = std::cell::RefCell::new(Vec::new());
    let paid = |case: &str, from: Timestamp, until: Timestamp| {
        window_end.borrow_mut().push((from, until));
        case.ends_with('0') || case.ends_with('2')
    };
    let ex = examples(&i, &p, 7, &paid, &vectors).unwrap();
    assert_eq!(ex.len(), contacts);
    // The window: the plan's day (Shanghai) plus seven days.
    let (from, until) = window_end.borrow()[0];
    assert_eq!(from, "2026-03-03T16:00:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(until, "2026-03-11T16:00:00Z".parse::<Timestamp>().unwrap());
    let positives = ex.iter().filter(|e| e.paid).count();
    let s = train(vec![(mar4(), ex)], 7);
    assert_eq!((s.examples, s.positives, s.plans.len()), (contacts, positives, 1));
    assert!(s.scorer.precision.iter().any(|q| *q > 1.0), "the posterior narrowed");
}

/// A propensity champion feeds the segment: its score is in the reasons and drives the risk.
#[test]
fn a_propensity_model_rates_the_cases() {
    use daylight_scoring::features::{AccountPath, AttemptFact, DebtorHistory, PaymentFact};
    use daylight_scoring::product::{FitOptions, Kind, ProductModel};
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let start: Timestamp = "2026-01-05T02:00:00Z".parse().unwrap();
    let day = |d: i64| start + jiff::SignedDuration::from_hours(24 * d);
    // 300 debtors called daily for 8 weeks; the willing half pay after promising.
    let world: Vec<DebtorHistory> = (0..300)
        .map(|i| {
            let willing = i % 2 == 0;
            let attempts = (0..56)
                .map(|d| AttemptFact {
                    at: day(d),
                    channel: Channel::Call,
                    recipient: Recipient::Debtor,
                    outcome: if willing && d % 7 == 0 { Outcome::PromiseToPay } else { Outcome::NoAnswer },
                    duration_secs: 60,
                })
                .collect();
            let payments = if willing {
                (0..8).map(|w| PaymentFact { at: day(w * 7 + 2), amount: 50_000 }).collect()
            } else {
                vec![]
            };
            DebtorHistory {
                case: format!("CASE-W{i:04}"),
                zone: zone.clone(),
                birth_date: None,
                credit_limit: 1_000_000,
                accounts: vec![AccountPath { now: Bucket::M2, moves: vec![] }],
                attempts,
                payments,
                promises: vec![],
            }
        })
        .collect();
    let opts = FitOptions {
        kind: Kind::Propensity,
        from: start,
        until: day(56),
        params: daylight_scoring::gbdt::Params {
            rounds: 40,
            max_depth: 3,
            eta: 0.2,
            threads: 1,
            ..Default::default()
        },
        seed: 1,
        created_at: "2026-03-01T00:00:00Z".into(),
        debtor_strength: 8.0,
        segment_strength: 50.0,
    };
    let model = ProductModel::fit(&world, &opts).unwrap();
    let mut payer = case(1, Bucket::M2, 40);
    payer.payments = (0..4).map(|w| (day(28 + w * 7 + 2), 50_000)).collect();
    payer.contacts = (28..56)
        .map(|d| PastContact {
            at: day(d),
            channel: Channel::Call,
            recipient: Recipient::Debtor,
            contact_point: Some("P0001".into()),
            debt: Some("A0001".into()),
            outcome: Some(if d % 7 == 0 { Outcome::PromiseToPay } else { Outcome::NoAnswer }),
            duration_secs: 60,
        })
        .collect();
    let mut i = input(mar4(), vec![payer, case(2, Bucket::M2, 40)]);
    i.propensity = Some(model);
    let segments = daylight_strategy::plan::segments(
        &i,
        &daylight_strategy::document::Strategy::from_toml(DEFAULT, "d").unwrap(),
    )
    .unwrap();
    let score = |c: &str| {
        let r = &segments[c].reasons[0];
        r.rsplit("propensity ").next().unwrap().parse::<f64>().unwrap_or_else(|_| panic!("{r}"))
    };
    assert!(score("CASE-C0001") > score("CASE-C0002"), "the payer scores higher");
    let p = plan(&i).unwrap();
    assert!(
        p.actions
            .iter()
            .all(|a| a.reasons[0].contains("propensity 0.") || a.reasons[0].contains("propensity 1."))
    );
}

/// A case placed with an agency is not proposed for placement again.
#[test]
fn a_placed_case_is_not_placed_again() {
    let mut placed = case(1, Bucket::M6Plus, 200);
    placed.agency = Some("AG01".into());
    let p = plan(&input(mar4(), vec![placed, case(2, Bucket::M6Plus, 200)])).unwrap();
    let agency: Vec<&str> =
        p.actions.iter().filter(|a| a.channel == "agency").map(|a| a.case.as_str()).collect();
    assert_eq!(agency, ["CASE-C0002"]);
}

/// The cycle cap counts the statement cycle of the account the contact is about, as the gate
/// does: sixteen calls just before the cycle began (within the rolling 30 days) do not count.
#[test]
fn the_cycle_cap_counts_the_accounts_statement_cycle() {
    let mut c = case(1, Bucket::M2, 40);
    // Statement day 5: the cycle of 4 March began on 5 February.
    for (day, n) in [("2026-02-03", 8), ("2026-02-04", 8)] {
        for k in 0..n {
            c.contacts.push(PastContact {
                at: format!("{day}T{:02}:00:00Z", 1 + k).parse().unwrap(),
                channel: Channel::Call,
                recipient: Recipient::Debtor,
                contact_point: Some("P0001".into()),
                debt: Some("A0001".into()),
                outcome: Some(Outcome::NoAnswer),
                duration_secs: 0,
            });
        }
    }
    let p = plan(&input(mar4(), vec![c.clone()])).unwrap();
    assert!(p.actions.iter().any(|a| a.channel == "call"), "{:?} {:?}", p.actions, p.skipped);
    // Without a statement day the rolling 30 days count them, and the call is not planned.
    c.statement_day = None;
    let p = plan(&input(mar4(), vec![c])).unwrap();
    assert!(p.actions.iter().all(|a| a.channel != "call"), "{:?}", p.actions);
}

/// The baseline strategy uses no models: ladder order, every allowed slot worth the same, and
/// the reasons say why.
#[test]
fn the_baseline_uses_no_models() {
    let mut i = input(mar4(), portfolio());
    i.strategy = daylight_strategy::document::BASELINE.to_owned();
    let p = plan(&i).unwrap();
    let calls: Vec<_> = p.actions.iter().filter(|a| a.channel == "call").collect();
    assert!(!calls.is_empty());
    for a in calls {
        assert!(
            a.reasons.iter().any(|r| r == "SELECTION: ladder order (the strategy uses no models)"),
            "{:?}",
            a.reasons
        );
        assert!(
            a.reasons.iter().any(|r| r == "TIME: no model-driven timing (the strategy uses no models)"),
            "{:?}",
            a.reasons
        );
    }
}

/// Calls without model-driven timing spread over the shifts (a team works its queue through the
/// day) rather than filling the first slots; they carry no P(connect).
#[test]
fn untimed_calls_spread_over_the_shifts() {
    let mut i = input(mar4(), (0..300).map(|n| case(n, Bucket::M2, 40)).collect());
    i.strategy = daylight_strategy::document::BASELINE.to_owned();
    let p = plan(&i).unwrap();
    let hours: std::collections::BTreeMap<i8, usize> =
        p.actions.iter().filter(|a| a.channel == "call").fold(Default::default(), |mut m, a| {
            *m.entry(a.window_start.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).hour())
                .or_default() += 1;
            m
        });
    let calls: usize = hours.values().sum();
    assert!(calls > 200, "{hours:?}");
    // Every hour of 09–12 and 14–18 gets a share, none most of them.
    assert_eq!(hours.keys().copied().collect::<Vec<_>>(), [9, 10, 11, 14, 15, 16, 17], "{hours:?}");
    assert!(hours.values().all(|n| *n * 4 < calls), "{hours:?}");
    assert!(p.actions.iter().all(|a| !a.reasons.iter().any(|r| r.starts_with("P(connect)"))));
    // The same plan every time.
    assert_eq!(plan(&i).unwrap(), p);
}

/// In an experiment each arm calls within its own strategy's shifts, in the team's room: the
/// baseline champion never in the default team's evening hour, a challenger that calls only
/// in the evening only then.
#[test]
fn each_arm_calls_within_its_own_hours() {
    let mut i = input(mar4(), (0..400).map(|n| case(n, Bucket::M2, 40)).collect());
    i.experiment = Some(ExperimentInput {
        name: "e".into(),
        arms: "champion:50,challenger:50".into(),
        salt: "s".into(),
    });
    let evening_only = DEFAULT
        .replace(r#"shifts = ["09:00-12:00", "14:00-18:00", "19:00-20:00"]"#, r#"shifts = ["19:00-20:00"]"#);
    assert_ne!(evening_only, DEFAULT);
    i.arm_strategies = [
        ("champion".to_owned(), daylight_strategy::document::BASELINE.to_owned()),
        ("challenger".to_owned(), evening_only),
    ]
    .into();
    let p = plan(&i).unwrap();
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let calls = |arm: &str, evening: bool| {
        p.actions
            .iter()
            .filter(|a| a.channel == "call" && a.arm == arm)
            .filter(|a| !evening || a.window_start.to_zoned(zone.clone()).hour() >= 19)
            .count()
    };
    assert!(calls("champion", false) > 50, "{}", calls("champion", false));
    assert_eq!(calls("champion", true), 0);
    assert!(calls("challenger", false) > 50, "{}", calls("challenger", false));
    assert_eq!(calls("challenger", true), calls("challenger", false));
}

/// A contactability champion's hour tables are brought up to the plan's as-of from the
/// portfolio's own dials: a champion trained on nothing still times debtors without history by
/// what the portfolio shows since (here: answered at 19:00, never at 10:00).
#[test]
fn a_champions_hour_tables_learn_from_dials_since_it_was_trained() {
    use daylight_scoring::product::{FitOptions, Kind, ProductModel};
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let at = |d: Date, h: i8| d.at(h, 0, 0, 0).to_zoned(zone.clone()).unwrap().timestamp();
    let mut cases: Vec<PlanCase> = Vec::new();
    for n in 0..120 {
        let mut c = case(n, Bucket::M2, 40);
        for k in 1..=20 {
            let d = date(2026, 3, 1).checked_sub(jiff::Span::new().days(k)).unwrap();
            for (h, outcome) in [(10, Outcome::NoAnswer), (19, Outcome::Conversation)] {
                c.contacts.push(PastContact {
                    at: at(d, h),
                    channel: Channel::Call,
                    recipient: Recipient::Debtor,
                    contact_point: Some(format!("P{n:04}")),
                    debt: Some(format!("A{n:04}")),
                    outcome: Some(outcome),
                    duration_secs: 0,
                });
            }
        }
        cases.push(c);
    }
    cases.extend((500..530).map(|n| case(n, Bucket::M2, 40)));
    let opts = FitOptions {
        kind: Kind::Contactability,
        from: "2025-01-01T00:00:00Z".parse().unwrap(),
        until: "2025-02-01T00:00:00Z".parse().unwrap(),
        params: daylight_scoring::gbdt::Params::default(),
        seed: 1,
        created_at: "2025-02-01T00:00:00Z".into(),
        debtor_strength: daylight_scoring::features::DEBTOR_STRENGTH,
        segment_strength: daylight_scoring::features::SEGMENT_STRENGTH,
    };
    let mut i = input(mar4(), cases);
    i.contactability = Some(ProductModel::shrinkage(&[], &opts));
    let p = plan(&i).unwrap();
    let fresh: Vec<i8> = p
        .actions
        .iter()
        .filter(|a| a.channel == "call" && a.case.as_str() >= "CASE-C0500")
        .map(|a| a.window_start.to_zoned(zone.clone()).hour())
        .collect();
    assert!(fresh.len() >= 20, "{fresh:?}");
    assert!(fresh.iter().all(|h| *h == 19), "{fresh:?}");
}
