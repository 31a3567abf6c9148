//! One truth for every contact: the planner, the case screen's preview and the gate build one
//! request from the same facts; the gate reads every fact it judges itself (the number's
//! status, the case's status, a third party's confirmation); a number shared by two debtors
//! is counted once across them. Each test is named after the defect it was written for.

use std::collections::HashMap;
use std::sync::Arc;

use daylight_compliance::{Pack, evaluate};
use daylight_domain::account::Component;
use daylight_domain::agreement::ArrangementTerms;
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome, Planned};
use daylight_domain::case::{CaseStatus, CloseReason, StatusChange};
use daylight_domain::customer::{ContactRole, Recipient};
use daylight_domain::id::{AccountId, ContactId};
use daylight_store::Store;
use daylight_store::access::Scope;
use daylight_store::desk::NewThirdPartyRequest;
use daylight_store::model::{ImportKind, NewArrangement, NewPromise, NewWaiver};
use daylight_strategy::plan::{contact_of, request_of};
use daylight_testdb::contract;
use jiff::{SignedDuration, Timestamp};

use crate::fixtures::*;

fn call(case: u32, point: &str, who: Recipient, at: Timestamp, outcome: Outcome) -> Attempt {
    Attempt {
        case: case_id(case),
        account: None,
        at,
        channel: Channel::Call,
        recipient: who,
        contact_point: Some(ContactId::parse(point).unwrap()),
        agent: Agent::Collector("E001".into()),
        outcome,
        duration_secs: 0,
        note: None,
    }
}

fn codes(d: &daylight_compliance::Decision) -> Vec<&'static str> {
    d.violations.iter().map(|r| r.code()).collect()
}

/// What the case screen shows for a call now through `point`.
async fn preview(store: &dyn Store, p: &Planned) -> daylight_compliance::Decision {
    let ctx = store.contact_context(p).await.unwrap();
    evaluate(&ctx.pack, &ctx.request, &ctx.history, p.at)
}

/// What the daily plan judges a call through `point` at `at` by (reading every fact stored, as
/// the gate does, however late).
async fn planned_verdict(store: &dyn Store, point: &str, at: Timestamp) -> daylight_compliance::Decision {
    let cases = store.plan_cases(t("2027-01-01T00:00:00Z")).await.unwrap();
    let c = cases.iter().find(|c| c.case == case_id(1).as_str()).expect("case 1 is open");
    let pack = store.policy_pack().await.unwrap();
    let date = at.to_zoned(jiff::tz::TimeZone::get(&c.zone).unwrap()).date();
    let mut req = request_of(c, Channel::Call, Recipient::Debtor, point, date).unwrap();
    req.at = Some(at);
    let history: Vec<_> = c.contacts.iter().map(contact_of).collect();
    evaluate(&pack, &req, &history, at)
}

/// A second, worse account for customer 1 with another statement day (the 20th).
async fn second_account(store: &dyn Store) {
    let mut s = store.begin_import(&meta(ImportKind::Accounts, now())).await.unwrap();
    let worse = daylight_domain::account::CardAccount { statement_day: 20, ..account(2, 1, 70) };
    s.upsert_accounts(&[worse], &HashMap::new()).await.unwrap();
    s.commit(&summary(1)).await.unwrap();
}

/// Replaces customer `i`'s contact point of `role` by one with `phone`.
async fn renumber(store: &dyn Store, i: u32, role: ContactRole, phone: &str) {
    let mut s = store.begin_import(&meta(ImportKind::Customers, now())).await.unwrap();
    s.upsert_contacts(&[contact(i, role, phone)]).await.unwrap();
    s.commit(&summary(1)).await.unwrap();
}

contract! {
    /// Defect: the planner and the gate built the request twice and disagreed. With two
    /// accounts on different statement days, the gate counted calls over a rolling 30 days
    /// while the plan counted the worst account's cycle. Every shipped pack, several instants:
    /// the plan, the case screen and the gate give one verdict.
    fn every_path_gives_one_verdict_for_one_contact(store, db) {
        portfolio(store, 1, |_| 40).await;
        second_account(store).await;
        // Fifteen calls between the two statement days (10–14 March, three a day).
        let mut history = Vec::new();
        for day in 10..=14 {
            for hour in 1..=3 {
                let at: Timestamp = format!("2026-03-{day}T0{hour}:00:00Z").parse().unwrap();
                history.push(call(1, "P0001-debtor", Recipient::Debtor, at, Outcome::NoAnswer));
            }
        }
        let stored = store.record_attempts(&history, "twin", t("2026-03-15T00:00:00Z")).await.unwrap();
        assert!(stored.iter().all(|g| g.decision.allowed));
        let instants = ["2026-03-16T02:00:00Z", "2026-03-21T02:00:00Z", "2026-03-21T02:10:00Z", "2026-03-22T13:30:00Z", "2026-04-05T02:00:00Z", "2026-04-06T02:00:00Z"];
        let mut denied = Vec::new();
        for (name, _) in daylight_compliance::pack::SHIPPED {
            store.set_policy_pack(&Pack::shipped(name).unwrap(), "admin", now()).await.unwrap();
            for at in instants {
                let at = t(at);
                let plan = planned_verdict(store, "P0001-debtor", at).await;
                let a = call(1, "P0001-debtor", Recipient::Debtor, at, Outcome::NoAnswer);
                let screen = preview(store, &Planned::from(&a)).await;
                let gate = store.record_attempt(&a, "E001", at + SignedDuration::from_mins(1)).await.unwrap().decision;
                assert_eq!(plan, screen, "{name} at {at}: the plan and the case screen");
                assert_eq!(screen, gate, "{name} at {at}: the case screen and the gate");
                if !gate.allowed {
                    denied.push(format!("{name} {at} {:?}", codes(&gate)));
                }
            }
        }
        // The cycle is the worst account's (from the 20th): on the 21st it is a new cycle.
        assert!(denied.iter().any(|d| d.starts_with("cn-default 2026-03-16") && d.contains("CYCLE_CAP")), "{denied:?}");
        assert!(!denied.iter().any(|d| d.starts_with("cn-default 2026-03-21T02:00")), "{denied:?}");
        // The contacts the gate recorded name the account it judged them by, the worst one.
        let d = store.case_detail(&case_id(1)).await.unwrap();
        assert!(d.attempts.iter().all(|a| a.attempt.account.as_ref().map(AccountId::as_str) == Some("A0002")));
    }

    /// Defect: a third party was called on the caller's word (`confirmed_third_party: true`).
    /// The gate now reads the team lead's approval itself, in its own transaction.
    fn a_caller_cannot_assert_a_third_party_confirmation(store, db) {
        portfolio(store, 1, |_| 40).await;
        for at in ["2026-03-03T00:10:00Z", "2026-03-03T01:10:00Z", "2026-03-03T02:10:00Z"] {
            assert!(store.record_attempt(&call(1, "P0001-debtor", Recipient::Debtor, t(at), Outcome::NoAnswer), "E001", t(at)).await.unwrap().decision.allowed);
        }
        let tp = call(1, "P0001-emergency_contact", Recipient::ThirdParty, t("2026-03-03T06:00:00Z"), Outcome::ThirdPartyAnswered);
        let g = store.record_attempt(&tp, "E001", t("2026-03-03T06:00:00Z")).await.unwrap();
        assert_eq!(codes(&g.decision), ["THIRD_PARTY"], "three failures are not enough without a team lead");
        let ask = NewThirdPartyRequest { case: case_id(1), contact_point: ContactId::parse("P0001-emergency_contact").unwrap(), reason: "本人三次未接通".into() };
        let id = store.request_third_party(&ask, "E001", t("2026-03-03T04:00:00Z")).await.unwrap();
        store.decide_third_party(id, true, "L001", t("2026-03-03T05:00:00Z")).await.unwrap();
        let screen = preview(store, &Planned::from(&tp)).await;
        assert!(screen.allowed, "{screen:?}");
        let g = store.record_attempt(&tp, "E001", t("2026-03-03T06:00:00Z")).await.unwrap();
        assert!(g.decision.allowed, "{:?}", g.decision);
        // The approval lasts a day.
        let next_week = call(1, "P0001-emergency_contact", Recipient::ThirdParty, t("2026-03-10T06:00:00Z"), Outcome::ThirdPartyAnswered);
        assert_eq!(codes(&store.record_attempt(&next_week, "E001", t("2026-03-10T06:00:00Z")).await.unwrap().decision), ["THIRD_PARTY"]);
    }

    /// Defect: a number logged 空号 still showed "can call now" and the gate accepted the next
    /// call. Invalid and suspended numbers are refused until they change; a switched-off one
    /// for the rest of the day. What the carrier says of a number holds for every record of it.
    fn a_number_logged_invalid_is_refused_everywhere(store, db) {
        portfolio(store, 2, |_| 40).await;
        // Customer 2's guarantor has customer 1's mobile.
        renumber(store, 2, ContactRole::Guarantor, "13812340001").await;
        let at = t("2026-03-03T01:00:00Z");
        let first = call(1, "P0001-debtor", Recipient::Debtor, at, Outcome::InvalidNumber);
        assert!(store.record_attempt(&first, "E001", at).await.unwrap().decision.allowed);
        let later = t("2026-03-04T02:00:00Z");
        let again = call(1, "P0001-debtor", Recipient::Debtor, later, Outcome::NoAnswer);
        assert_eq!(codes(&preview(store, &Planned::from(&again)).await), ["NUMBER_INVALID"]);
        assert_eq!(codes(&planned_verdict(store, "P0001-debtor", later).await), ["NUMBER_INVALID"]);
        let g = store.record_attempt(&again, "E001", later).await.unwrap();
        assert_eq!((codes(&g.decision), g.decision.next_allowed_at), (vec!["NUMBER_INVALID"], None));
        assert!(g.texts[0].message_zh.contains("空号"));
        let shared = call(2, "P0002-guarantor", Recipient::Guarantor, later, Outcome::NoAnswer);
        assert_eq!(codes(&store.record_attempt(&shared, "E001", later).await.unwrap().decision), ["NUMBER_INVALID"]);
        // The guarantor's own number still works.
        let g = store.record_attempt(&call(1, "P0001-guarantor", Recipient::Guarantor, later, Outcome::PoweredOff), "E001", later).await.unwrap();
        assert!(g.decision.allowed);
        // Switched off: refused for the rest of that day, allowed the next morning.
        let same_day = call(1, "P0001-guarantor", Recipient::Guarantor, later + SignedDuration::from_hours(2), Outcome::NoAnswer);
        let g = store.record_attempt(&same_day, "E001", same_day.at).await.unwrap();
        assert_eq!(codes(&g.decision), ["NUMBER_POWERED_OFF"]);
        assert_eq!(g.decision.next_allowed_at, Some(t("2026-03-05T00:00:00Z")));
        let next_day = call(1, "P0001-guarantor", Recipient::Guarantor, t("2026-03-05T01:00:00Z"), Outcome::Suspended);
        assert!(store.record_attempt(&next_day, "E001", next_day.at).await.unwrap().decision.allowed);
        let after = call(1, "P0001-guarantor", Recipient::Guarantor, t("2026-03-06T01:00:00Z"), Outcome::NoAnswer);
        assert_eq!(codes(&store.record_attempt(&after, "E001", after.at).await.unwrap().decision), ["NUMBER_SUSPENDED"]);
    }

    /// Defect: a case closed in bulk as paid in full with ¥3,065 still overdue then accepted a
    /// call and a promise, and its closure was nowhere in its timeline. Paid in full is checked
    /// against what the accounts owe; a closed case refuses contacts (CASE_CLOSED, on the case
    /// screen and at the gate), promises, plans and waivers; closure and reopening are listed
    /// with the case and in the ledger.
    fn a_closed_case_refuses_contacts_promises_plans_and_waivers(store, db) {
        portfolio(store, 1, |_| 40).await;
        let paid = StatusChange::close(CloseReason::PaidInFull, "已全额结清");
        let e = store.set_cases_status(&Scope::All, &[case_id(1)], &paid, "L001", now()).await.unwrap_err();
        assert_eq!(e.code(), "CASE_OWES");
        assert!(e.to_string().contains("3065.00") || e.to_string().contains("3,065.00"), "{e}");
        let e = store.set_case_status(&case_id(1), &StatusChange::new(CaseStatus::Closed, "no reason"), "L001", now()).await.unwrap_err();
        assert_eq!(e.code(), "REQUIRED");
        store.set_case_status(&case_id(1), &StatusChange::close(CloseReason::Settled, "和解结清"), "L001", now()).await.unwrap();
        let a = call(1, "P0001-debtor", Recipient::Debtor, t("2026-03-03T02:00:00Z"), Outcome::Conversation);
        assert_eq!(codes(&preview(store, &Planned::from(&a)).await), ["CASE_CLOSED"]);
        let g = store.record_attempt(&a, "E001", a.at).await.unwrap();
        assert_eq!((codes(&g.decision), g.id), (vec!["CASE_CLOSED"], None));
        let account = Some(AccountId::parse("A0001").unwrap());
        let promise = NewPromise { case: case_id(1), account: account.clone(), attempt: None, amount: cny(100_000), due_at: t("2026-03-10T10:00:00Z") };
        assert_eq!(store.create_promise(&promise, "E001", now()).await.unwrap_err().code(), "CASE_CLOSED");
        let waiver = NewWaiver { case: case_id(1), account: AccountId::parse("A0001").unwrap(), component: Component::LateFees, amount: cny(1_000), reason: "困难".into() };
        assert_eq!(store.request_waiver(&waiver, "E001", now()).await.unwrap_err().code(), "CASE_CLOSED");
        let terms = ArrangementTerms { total: cny(300_000), instalments: 3, monthly_fee_bp: 0, first_due: jiff::civil::date(2026, 4, 1) };
        let plan = NewArrangement { case: case_id(1), account, terms };
        assert_eq!(store.propose_arrangement(&plan, "E001", now()).await.unwrap_err().code(), "CASE_CLOSED");
        store.set_case_status(&case_id(1), &StatusChange::new(CaseStatus::Open, "客户撤回和解"), "L001", now()).await.unwrap();
        assert!(store.record_attempt(&a, "E001", a.at).await.unwrap().decision.allowed);
        assert!(store.create_promise(&promise, "E001", now()).await.is_ok());
        let d = store.case_detail(&case_id(1)).await.unwrap();
        let changes: Vec<_> = d.status_changes.iter().map(|c| (c.change.to, c.change.reason, c.owed_fen)).collect();
        assert_eq!(changes, [(CaseStatus::Open, None, 306_500), (CaseStatus::Closed, Some(CloseReason::Settled), 306_500)]);
        let ev = events(store, "case.changed").await;
        assert!(ev.iter().any(|e| e.payload.contains("\"close_reason\":\"settled\"")), "{ev:?}");
        verified_head(store).await;
    }

    /// Defect: a ¥500,000 promise on a ¥3,065 debt was accepted, and three promises were
    /// pending at once. A promise is at most what is owed, and one is pending per account.
    fn a_promise_is_at_most_what_is_owed_and_one_is_pending(store, db) {
        portfolio(store, 1, |_| 40).await;
        let promise = |fen: i64| NewPromise { case: case_id(1), account: Some(AccountId::parse("A0001").unwrap()), attempt: None, amount: cny(fen), due_at: t("2026-03-10T10:00:00Z") };
        let e = store.create_promise(&promise(50_000_000), "E001", now()).await.unwrap_err();
        assert_eq!(e.code(), "PROMISE_OVER_OWED");
        assert!(e.to_string().contains("3065.00") || e.to_string().contains("3,065.00"), "{e}");
        let first = store.create_promise(&promise(306_500), "E001", now()).await.unwrap();
        assert_eq!(store.create_promise(&promise(100_000), "E001", now()).await.unwrap_err().code(), "PROMISE_PENDING");
        let whole_case = NewPromise { account: None, ..promise(100_000) };
        assert_eq!(store.create_promise(&whole_case, "E001", now()).await.unwrap_err().code(), "PROMISE_PENDING");
        let cancel = daylight_store::model::PromiseChange { edit: daylight_store::model::PromiseEdit::Cancel, reason: "客户改约".into() };
        store.change_promise(first, &cancel, "E001", now()).await.unwrap();
        assert!(store.create_promise(&promise(100_000), "E001", now()).await.is_ok());
    }

    /// Defect: a guarantor's phone that is also another debtor's mobile took twelve failed
    /// calls in a day under cn-cba-2026, whose cap is six per number. Twelve concurrent
    /// dialers on two handles, half for each debtor: six get through.
    fn a_number_shared_by_two_debtors_is_counted_once(store, db) {
        portfolio(store, 2, |_| 40).await;
        store.set_policy_pack(&Pack::shipped("cn-cba-2026").unwrap(), "admin", now()).await.unwrap();
        renumber(store, 1, ContactRole::Guarantor, "13812340002").await;
        let handles: [Arc<dyn Store>; 2] = [Arc::from(db.open().await), Arc::from(db.open().await)];
        let mut tasks = Vec::new();
        for w in 0..12u32 {
            let s = handles[w as usize % 2].clone();
            tasks.push(tokio::spawn(async move {
                let at = t("2026-03-03T02:00:00Z") + SignedDuration::from_secs(i64::from(w));
                let a = if w % 2 == 0 {
                    call(2, "P0002-debtor", Recipient::Debtor, at, Outcome::NoAnswer)
                } else {
                    call(1, "P0001-guarantor", Recipient::Guarantor, at, Outcome::NoAnswer)
                };
                let g = s.record_attempt(&a, "dialer", at).await.unwrap();
                if !g.decision.allowed {
                    assert_eq!(codes(&g.decision), ["UNANSWERED_CAP"]);
                }
                g.decision.allowed
            }));
        }
        let mut allowed = 0;
        for task in tasks {
            allowed += u32::from(task.await.unwrap());
        }
        assert_eq!(allowed, 6);
        verified_head(store).await;
    }

    /// Defect: a collector could not add or correct a number. A collector proposes one
    /// (validated, with the owner's role and its source), a team lead confirms it, and the
    /// corrected number is callable again; each step is a ledger event.
    fn a_collector_proposes_a_number_and_a_lead_confirms_it(store, db) {
        use daylight_store::desk::{NewNumber, NumberSource};
        portfolio(store, 1, |_| 40).await;
        let at = t("2026-03-03T01:00:00Z");
        let dead = call(1, "P0001-debtor", Recipient::Debtor, at, Outcome::InvalidNumber);
        assert!(store.record_attempt(&dead, "E001", at).await.unwrap().decision.allowed);
        let fix = NewNumber {
            case: case_id(1),
            replaces: Some(ContactId::parse("P0001-debtor").unwrap()),
            role: ContactRole::Debtor,
            number: "+86 139-0000-1234".into(),
            name: None,
            source: NumberSource::Debtor,
        };
        let bad = NewNumber { number: "12345".into(), ..fix.clone() };
        assert_eq!(store.propose_number(&bad, "E001", at).await.unwrap_err().code(), "PHONE_FORMAT");
        let known = NewNumber { number: "13912340001".into(), replaces: None, ..fix.clone() };
        assert_eq!(store.propose_number(&known, "E001", at).await.unwrap_err().code(), "EXISTS", "the guarantor's number is on record");
        let id = store.propose_number(&fix, "E001", at).await.unwrap();
        assert_eq!(store.decide_number(id, true, "E001", at).await.unwrap_err().code(), "SELF_APPROVAL");
        let pending = store.numbers_in(&Scope::All, Some(&case_id(1)), None, 10).await.unwrap();
        assert_eq!((pending[0].proposal.number.as_str(), pending[0].status.as_str()), ("13900001234", "requested"));
        let later = t("2026-03-04T02:00:00Z");
        let again = call(1, "P0001-debtor", Recipient::Debtor, later, Outcome::NoAnswer);
        assert_eq!(codes(&preview(store, &Planned::from(&again)).await), ["NUMBER_INVALID"]);
        let point = store.decide_number(id, true, "L001", later).await.unwrap();
        assert_eq!(point.as_ref().map(ContactId::as_str), Some("P0001-debtor"));
        let d = store.case_detail(&case_id(1)).await.unwrap();
        let debtor = d.contacts.iter().find(|c| c.id.as_str() == "P0001-debtor").unwrap();
        assert_eq!(debtor.status, daylight_domain::customer::ContactStatus::Unknown);
        assert!(store.record_attempt(&again, "E001", later).await.unwrap().decision.allowed, "the corrected number is callable");
        // A colleague's new number: added as a new point once confirmed; a refusal adds nothing.
        let colleague = NewNumber { replaces: None, role: ContactRole::Colleague, number: "010-12345678".into(), name: Some("王同事".into()), source: NumberSource::Field, ..fix.clone() };
        let added = store.propose_number(&colleague, "E001", later).await.unwrap();
        let refused = store.propose_number(&NewNumber { number: "13700009999".into(), ..colleague.clone() }, "E001", later).await.unwrap();
        let new_point = store.decide_number(added, true, "L001", later).await.unwrap().unwrap();
        assert_eq!(store.decide_number(refused, false, "L001", later).await.unwrap(), None);
        let d = store.case_detail(&case_id(1)).await.unwrap();
        let p = d.contacts.iter().find(|c| c.id == new_point).unwrap();
        assert_eq!((p.role, p.name.as_ref().map(|n| n.expose())), (ContactRole::Colleague, Some("王同事")));
        assert_eq!(events(store, "number.proposed").await.len(), 3);
        let decided = events(store, "number.decided").await;
        assert_eq!(decided.len(), 3);
        assert!(events(store, "number.proposed").await.iter().all(|e| !e.payload.contains("13900001234")), "numbers masked in the ledger");
        verified_head(store).await;
    }
}
