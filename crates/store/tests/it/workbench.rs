use daylight_domain::Code;
use daylight_domain::account::Component;
use daylight_domain::agreement::{ArrangementStatus, ArrangementTerms, PromiseStatus, WaiverStatus};
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome};
use daylight_domain::case::CaseStatus;
use daylight_domain::customer::{ContactStatus, Recipient};
use daylight_domain::id::{AccountId, ContactId, CustomerId};
use daylight_store::StoreError;
use daylight_store::model::{Assignment, CaseFilter, NewArrangement, NewPromise, NewWaiver, PiiField};
use daylight_testdb::contract;
use jiff::civil::Date;

use crate::fixtures::*;

fn call(case: u32, contact: &str, recipient: Recipient, outcome: Outcome) -> Attempt {
    Attempt {
        case: case_id(case),
        account: Some(AccountId::parse(&format!("A{case:04}")).unwrap()),
        at: t("2026-03-03T01:20:00Z"),
        channel: Channel::Call,
        recipient,
        contact_point: Some(ContactId::parse(contact).unwrap()),
        agent: Agent::Collector("E001".into()),
        outcome,
        duration_secs: if outcome == Outcome::NoAnswer { 0 } else { 95 },
        note: Some("本人接听，称月底发工资后还款".into()),
    }
}

fn code(e: StoreError) -> String {
    e.code().to_owned()
}

contract! {
    fn attempts_are_recorded_with_their_note_and_teach_validity(store, db) {
        portfolio(store, 2, |_| 40).await;
        let id = store.record_attempt(&call(1, "P0001-debtor", Recipient::Debtor, Outcome::PromiseToPay), "E001", now()).await.unwrap().id.unwrap();
        store.record_attempt(&call(1, "P0001-guarantor", Recipient::Guarantor, Outcome::NoAnswer), "E001", now()).await.unwrap();
        let d = store.case_detail(&case_id(1)).await.unwrap();
        assert_eq!(d.attempts.len(), 2);
        let first = d.attempts.iter().find(|a| a.id == id).unwrap();
        assert_eq!(first.attempt, call(1, "P0001-debtor", Recipient::Debtor, Outcome::PromiseToPay));
        assert_eq!((first.recorded_by.as_str(), first.recorded_at), ("E001", now()));
        assert_eq!(d.notes.len(), 2);
        assert!(d.notes.iter().all(|n| n.note.attempt.is_some()));
        let status = |id: &str| d.contacts.iter().find(|c| c.id.as_str() == id).unwrap().status;
        assert_eq!(status("P0001-debtor"), ContactStatus::Valid);
        assert_eq!(status("P0001-guarantor"), ContactStatus::Unknown);
        let ev = events(store, "attempt.recorded").await;
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].subject, "CASE-C0001");
        assert!(ev[0].payload.contains("\"outcome\":\"promise_to_pay\"") && ev[0].payload.contains("note_sha256"));
        verified_head(store).await;
    }

    fn attempts_that_do_not_fit_are_refused_and_leave_nothing(store, db) {
        portfolio(store, 2, |_| 40).await;
        let head = store.ledger_head().await.unwrap();
        // Another customer's contact point.
        let e = store.record_attempt(&call(1, "P0002-debtor", Recipient::Debtor, Outcome::NoAnswer), "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "INCONSISTENT");
        // A guarantor's phone recorded as a call to the debtor.
        let e = store.record_attempt(&call(1, "P0001-guarantor", Recipient::Debtor, Outcome::NoAnswer), "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "INCONSISTENT");
        // An outcome that cannot come of a call.
        let e = store.record_attempt(&call(1, "P0001-debtor", Recipient::Debtor, Outcome::Delivered), "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "INCONSISTENT");
        // Unknown case and contact point.
        let e = store.record_attempt(&call(9, "P0001-debtor", Recipient::Debtor, Outcome::NoAnswer), "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "NOT_FOUND");
        let e = store.record_attempt(&call(1, "P0404-debtor", Recipient::Debtor, Outcome::NoAnswer), "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "NOT_FOUND");
        let e = store.record_attempt(&call(1, "P0001-debtor", Recipient::Debtor, Outcome::NoAnswer), " ", now()).await.unwrap_err();
        assert_eq!(code(e), "REQUIRED");
        assert_eq!(store.ledger_head().await.unwrap(), head);
        assert!(store.case_detail(&case_id(1)).await.unwrap().attempts.is_empty());
    }

    fn promises_lock_and_settle_once(store, db) {
        portfolio(store, 1, |_| 40).await;
        let p = NewPromise {
            case: case_id(1),
            account: Some(AccountId::parse("A0001").unwrap()),
            attempt: None,
            amount: cny(200_000),
            due_at: t("2026-03-06T07:00:00Z"),
        };
        let id = store.create_promise(&p, "E001", now()).await.unwrap();
        let stored = &store.case_detail(&case_id(1)).await.unwrap().promises[0];
        assert_eq!((stored.id, &stored.promise, stored.status), (id, &p, PromiseStatus::Pending));
        store.settle_promise(id, PromiseStatus::Broken, "system", t("2026-03-06T07:00:01Z")).await.unwrap();
        let e = store.settle_promise(id, PromiseStatus::Kept, "system", now()).await.unwrap_err();
        assert_eq!(code(e), "TRANSITION");
        let e = store.create_promise(&NewPromise { due_at: t("2026-01-01T00:00:00Z"), ..p.clone() }, "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "INCONSISTENT");
        let e = store.create_promise(&NewPromise { attempt: Some(999), ..p }, "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "NOT_FOUND");
        let created = events(store, "promise.created").await;
        assert!(created[0].payload.contains("\"remind_at\":\"2026-03-05T07:00:00.000000Z\""), "{}", created[0].payload);
        assert_eq!(events(store, "promise.settled").await.len(), 1);
    }

    fn plans_need_a_second_person(store, db) {
        portfolio(store, 1, |_| 95).await;
        let plan = NewArrangement {
            case: case_id(1),
            account: Some(AccountId::parse("A0001").unwrap()),
            terms: ArrangementTerms { total: cny(owed(store, 1).await), instalments: 12, monthly_fee_bp: 60, first_due: Date::new(2026, 3, 25).unwrap() },
        };
        let id = store.propose_arrangement(&plan, "E001", now()).await.unwrap();
        let e = store.decide_arrangement(id, ArrangementStatus::Approved, "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "SELF_APPROVAL");
        store.decide_arrangement(id, ArrangementStatus::Approved, "L001", now()).await.unwrap();
        let stored = &store.case_detail(&case_id(1)).await.unwrap().arrangements[0];
        assert_eq!(stored.status, ArrangementStatus::Approved);
        assert_eq!(stored.decided_by.as_deref(), Some("L001"));
        assert_eq!(stored.schedule.len(), 12);
        assert_eq!(stored.schedule.iter().map(|i| i.principal.minor).sum::<i64>(), plan.terms.total.minor);
        assert_eq!(stored.schedule[11].due, Date::new(2027, 2, 25).unwrap());
        let too_long = NewArrangement { terms: ArrangementTerms { instalments: 61, ..plan.terms }, ..plan.clone() };
        assert_eq!(code(store.propose_arrangement(&too_long, "E001", now()).await.unwrap_err()), "ARRANGEMENT");
        let e = store.decide_arrangement(id, ArrangementStatus::Proposed, "L001", now()).await.unwrap_err();
        assert_eq!(code(e), "TRANSITION");
    }

    fn waivers_are_bounded_and_approved_by_another(store, db) {
        portfolio(store, 1, |_| 95).await;
        leads(store).await;
        let w = NewWaiver {
            case: case_id(1),
            account: AccountId::parse("A0001").unwrap(),
            component: Component::LateFees,
            amount: cny(2_000),
            reason: "困难客户，减免违约金".into(),
        };
        let e = store.request_waiver(&NewWaiver { amount: cny(2_001), ..w.clone() }, "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "AMOUNT_RANGE");
        let id = store.request_waiver(&w, "E001", now()).await.unwrap();
        assert_eq!(code(store.decide_waiver(id, true, "E001", now()).await.unwrap_err()), "SELF_APPROVAL");
        store.decide_waiver(id, false, "L001", now()).await.unwrap();
        assert_eq!(code(store.decide_waiver(id, true, "L002", now()).await.unwrap_err()), "TRANSITION");
        let stored = &store.case_detail(&case_id(1)).await.unwrap().waivers[0];
        assert_eq!((stored.status, &stored.waiver), (WaiverStatus::Rejected, &w));
        let e = store.request_waiver(&NewWaiver { account: AccountId::parse("A0404").unwrap(), ..w.clone() }, "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "NOT_FOUND");
        // Waivers on one part add up: the overdue late fees are 20.00 in all.
        let half = NewWaiver { amount: cny(1_000), ..w.clone() };
        let first = store.request_waiver(&half, "E001", now()).await.unwrap();
        let second = store.request_waiver(&half, "E002", now()).await.unwrap();
        assert_eq!(code(store.request_waiver(&NewWaiver { amount: cny(1), ..w.clone() }, "E001", now()).await.unwrap_err()), "AMOUNT_RANGE");
        store.decide_waiver(first, true, "L001", now()).await.unwrap();
        store.decide_waiver(second, true, "L001", now()).await.unwrap();
        // Approved waivers count until the next import of the account shows them applied.
        assert_eq!(code(store.request_waiver(&NewWaiver { amount: cny(1), ..w }, "E001", now()).await.unwrap_err()), "AMOUNT_RANGE");
    }

    fn cases_move_and_are_assigned(store, db) {
        portfolio(store, 3, |_| 40).await;
        store.assign_case(&case_id(1), &Assignment { team: Some("T1".into()), collector: Some("E001".into()), agency: None }, "L001", now()).await.unwrap();
        let mine = store.list_cases(&CaseFilter { collector: Some("E001".into()), ..CaseFilter::default() }).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].case.team.as_deref(), Some("T1"));
        store.set_case_status(&case_id(1), &daylight_domain::case::StatusChange::new(CaseStatus::WrittenOff, "核销"), "L001", now()).await.unwrap();
        let e = store.set_case_status(&case_id(1), &daylight_domain::case::StatusChange::new(CaseStatus::Open, "重开"), "L001", now()).await.unwrap_err();
        assert_eq!(code(e), "TRANSITION");
        assert_eq!(code(store.set_case_status(&case_id(2), &daylight_domain::case::StatusChange::new(CaseStatus::Legal, " "), "L001", now()).await.unwrap_err()), "REQUIRED");
        let e = store.assign_case(&case_id(9), &Assignment::default(), "L001", now()).await.unwrap_err();
        assert_eq!(code(e), "NOT_FOUND");
        assert_eq!(events(store, "case.changed").await.len(), 2);
        let page = store.list_cases(&CaseFilter { limit: 1, offset: 1, ..CaseFilter::default() }).await.unwrap();
        assert_eq!(page.len(), 1);
    }

    fn revealing_personal_data_is_audited(store, db) {
        portfolio(store, 1, |_| 40).await;
        let c = CustomerId::parse("C0001").unwrap();
        let id = store.reveal(&c, &PiiField::ResidentId, "核实身份", "E001", now()).await.unwrap();
        assert_eq!(id, customer(1).resident_id.expose());
        let phone = store.reveal(&c, &PiiField::Contact(ContactId::parse("P0001-debtor").unwrap()), "回拨", "E001", now()).await.unwrap();
        assert_eq!(phone, "13812340001");
        let e = store.reveal(&c, &PiiField::Name, "", "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "REQUIRED");
        let e = store.reveal(&c, &PiiField::Contact(ContactId::parse("P0002-debtor").unwrap()), "x", "E001", now()).await.unwrap_err();
        assert_eq!(code(e), "NOT_FOUND");
        let seen = events(store, "pii.viewed").await;
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].payload, r#"{"customer":"C0001","field":"resident_id","purpose":"核实身份"}"#);
        assert_eq!(seen[0].actor, "E001");
    }

    fn invalid_input_names_its_code(store, db) {
        portfolio(store, 1, |_| 40).await;
        let e = store.add_note(&case_id(1), "  ", None, "E001", now()).await.unwrap_err();
        assert_eq!(code(e), Code::Required.as_str());
    }
}
