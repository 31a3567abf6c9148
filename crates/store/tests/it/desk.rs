use daylight_domain::account::{Component, Payment};
use daylight_domain::agreement::{PromiseStatus, WaiverStatus};
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome};
use daylight_domain::customer::Recipient;
use daylight_domain::id::{AccountId, ContactId, PaymentId};
use daylight_store::StoreError;
use daylight_store::access::Scope;
use daylight_store::desk::{
    Audience, ComplaintSource, KpiDimension, NewComplaint, NewThirdPartyRequest, TaskClose, TaskKind,
    TaskOutcome, TaskStatus,
};
use daylight_store::model::{
    Assignment, ImportKind, NewPromise, NewWaiver, PromiseChange, PromiseEdit, PromiseOp,
};
use daylight_testdb::contract;
use jiff::{Timestamp, ToSpan};

use crate::fixtures::*;

fn code(e: StoreError) -> String {
    e.code().to_owned()
}

fn owner(team: &str, collector: &str) -> Assignment {
    Assignment { team: Some(team.into()), collector: Some(collector.into()), agency: None }
}

fn call(case: u32, recipient: Recipient, outcome: Outcome, at: Timestamp) -> Attempt {
    let point = match recipient {
        Recipient::Debtor => "debtor",
        Recipient::Guarantor => "guarantor",
        _ => "emergency_contact",
    };
    Attempt {
        case: case_id(case),
        account: None,
        at,
        channel: Channel::Call,
        recipient,
        contact_point: Some(ContactId::parse(&format!("P{case:04}-{point}")).unwrap()),
        agent: Agent::Collector("E001".into()),
        outcome,
        duration_secs: if outcome.class() == daylight_domain::attempt::OutcomeClass::Failed { 0 } else { 60 },
        note: None,
    }
}

fn promise(case: u32, amount: i64, due_at: Timestamp) -> NewPromise {
    NewPromise { case: case_id(case), account: None, attempt: None, amount: cny(amount), due_at }
}

async fn pay(store: &dyn daylight_store::Store, id: u32, account: u32, amount: i64, at: Timestamp) {
    let mut s = store.begin_import(&meta(ImportKind::Payments, at)).await.unwrap();
    let p = Payment {
        id: PaymentId::parse(&format!("Y{id:04}")).unwrap(),
        account: AccountId::parse(&format!("A{account:04}")).unwrap(),
        paid_at: at,
        amount: cny(amount),
        ..payment(id, account)
    };
    s.upsert_payments(&[p]).await.unwrap();
    s.commit(&summary(1)).await.unwrap();
}

contract! {
    /// A third-party contact needs another person's confirmation, which lasts a day.
    fn third_party_requests_are_confirmed_by_another_for_a_day(store, db) {
        portfolio(store, 2, |_| 40).await;
        store.assign_case(&case_id(1), &owner("T1", "E001"), "L001", now()).await.unwrap();
        store.assign_case(&case_id(2), &owner("T2", "E002"), "L001", now()).await.unwrap();
        let ask = |point: &str| NewThirdPartyRequest {
            case: case_id(1),
            contact_point: ContactId::parse(point).unwrap(),
            reason: "本人三次未接通".into(),
        };
        let head = store.ledger_head().await.unwrap();
        assert_eq!(code(store.request_third_party(&ask("P0001-debtor"), "E001", now()).await.unwrap_err()), "INCONSISTENT");
        assert_eq!(code(store.request_third_party(&ask("P0002-emergency_contact"), "E001", now()).await.unwrap_err()), "INCONSISTENT");
        assert_eq!(code(store.request_third_party(&NewThirdPartyRequest { reason: " ".into(), ..ask("P0001-emergency_contact") }, "E001", now()).await.unwrap_err()), "REQUIRED");
        assert_eq!(store.ledger_head().await.unwrap(), head, "refusals write nothing");
        let id = store.request_third_party(&ask("P0001-emergency_contact"), "E001", now()).await.unwrap();
        let point = ContactId::parse("P0001-emergency_contact").unwrap();
        assert!(!store.third_party_confirmed(&case_id(1), &point, now()).await.unwrap());
        let queue = |team: &str| {
            let scope = Scope::Team(team.into());
            async move { store.third_party_requests_in(&scope, None, Some(WaiverStatus::Requested), 100).await.unwrap() }
        };
        assert_eq!(queue("T1").await.len(), 1);
        assert!(queue("T2").await.is_empty(), "another team's queue");
        assert_eq!(code(store.decide_third_party(id, true, "E001", now()).await.unwrap_err()), "SELF_APPROVAL");
        store.decide_third_party(id, true, "L001", now()).await.unwrap();
        assert!(queue("T1").await.is_empty());
        let stored = &store.third_party_requests_in(&Scope::All, Some(&case_id(1)), None, 10).await.unwrap()[0];
        assert_eq!((stored.status, stored.valid_until), (WaiverStatus::Approved, Some(now() + 24.hours())));
        assert!(store.third_party_confirmed(&case_id(1), &point, now() + 1.hour()).await.unwrap());
        assert!(!store.third_party_confirmed(&case_id(1), &point, now() + 25.hours()).await.unwrap());
        assert!(!store.third_party_confirmed(&case_id(2), &point, now() + 1.hour()).await.unwrap());
        assert_eq!(code(store.decide_third_party(id, false, "L001", now()).await.unwrap_err()), "TRANSITION");
        assert_eq!(events(store, "third_party.requested").await.len(), 1);
        assert_eq!(events(store, "third_party.decided").await.len(), 1);
        verified_head(store).await;
    }

    fn waivers_and_complaints_are_listed_by_scope(store, db) {
        portfolio(store, 2, |_| 40).await;
        store.assign_case(&case_id(1), &owner("T1", "E001"), "L001", now()).await.unwrap();
        store.assign_case(&case_id(2), &owner("T2", "E002"), "L001", now()).await.unwrap();
        for i in [1, 2] {
            let w = NewWaiver {
                case: case_id(i),
                account: AccountId::parse(&format!("A{i:04}")).unwrap(),
                component: Component::LateFees,
                amount: cny(1_000),
                reason: "首次逾期".into(),
            };
            store.request_waiver(&w, "E001", now()).await.unwrap();
        }
        let t1 = store.waivers_in(&Scope::Team("T1".into()), Some(WaiverStatus::Requested), 100).await.unwrap();
        assert_eq!(t1.len(), 1);
        assert_eq!(t1[0].waiver.case, case_id(1));
        assert_eq!(store.waivers_in(&Scope::All, None, 100).await.unwrap().len(), 2);

        let attempt = store.record_attempt(&call(1, Recipient::Debtor, Outcome::Conversation, now()), "E001", now()).await.unwrap().id.unwrap();
        let complaint = |case: u32, attempt: Option<i64>, text: &str| NewComplaint {
            case: case_id(case),
            attempt,
            source: ComplaintSource::Debtor,
            text: text.into(),
        };
        assert_eq!(code(store.register_complaint(&complaint(2, Some(attempt), "态度恶劣"), "L001", now()).await.unwrap_err()), "NOT_FOUND", "another case's call is not found");
        assert_eq!(code(store.register_complaint(&complaint(1, None, "  "), "L001", now()).await.unwrap_err()), "REQUIRED");
        let id = store.register_complaint(&complaint(1, Some(attempt), "催收员态度恶劣"), "L001", now()).await.unwrap();
        let mine = store.complaints_in(&Scope::Team("T1".into()), 10).await.unwrap();
        assert_eq!((mine.len(), mine[0].id, mine[0].complaint.attempt), (1, id, Some(attempt)));
        assert!(store.complaints_in(&Scope::Team("T2".into()), 10).await.unwrap().is_empty());
        let ev = events(store, "complaint.registered").await;
        assert_eq!(ev.len(), 1);
        assert!(!ev[0].payload.contains("态度"), "the text is digested, not copied");
    }

    /// Reminders a day ahead; past due and grace, kept if paid, else broken and escalated.
    fn the_promise_sweep_reminds_settles_and_escalates_once(store, db) {
        portfolio(store, 3, |_| 40).await;
        for i in 1..=3 {
            store.assign_case(&case_id(i), &owner("T1", "E001"), "L001", now()).await.unwrap();
        }
        let p1 = store.create_promise(&promise(1, 50_000, now() + 10.hours()), "E001", now()).await.unwrap();
        let p2 = store.create_promise(&promise(2, 50_000, now() + 20.hours()), "E001", now()).await.unwrap();
        store.create_promise(&promise(3, 50_000, now() + 72.hours()), "E001", now()).await.unwrap();
        let first = store.sweep_promises("system", now()).await.unwrap();
        assert_eq!((first.reminders, first.kept, first.broken), (2, 0, 0));
        assert_eq!(store.sweep_promises("system", now()).await.unwrap().reminders, 0, "once per promise");
        let mine = store.tasks_in(&Scope::Collector("E001".into()), Some(Audience::Collector), Some(TaskStatus::Open), 10).await.unwrap();
        let reminded: Vec<Option<i64>> = mine.iter().map(|t| t.promise).collect();
        assert_eq!(reminded, [Some(p1), Some(p2)]);
        assert!(mine.iter().all(|t| t.kind == TaskKind::PromiseReminder));
        // Case 1 pays in full an hour after the promise; case 2 pays a part.
        pay(store, 1, 1, 50_000, now() + 1.hour()).await;
        pay(store, 2, 2, 10_000, now() + 1.hour()).await;
        // Within the grace nothing settles.
        let within = store.sweep_promises("system", now() + 30.hours()).await.unwrap();
        assert_eq!((within.kept, within.broken), (0, 0));
        let later = now() + 50.hours();
        let swept = store.sweep_promises("system", later).await.unwrap();
        assert_eq!((swept.reminders, swept.kept, swept.broken), (1, 1, 1), "case 3 now due within a day");
        let status = |i| async move { store.case_detail(&case_id(i)).await.unwrap().promises[0].status };
        assert_eq!((status(1).await, status(2).await, status(3).await), (PromiseStatus::Kept, PromiseStatus::Broken, PromiseStatus::Pending));
        let leads = store.tasks_in(&Scope::Team("T1".into()), Some(Audience::Lead), Some(TaskStatus::Open), 10).await.unwrap();
        assert_eq!(leads.len(), 1);
        assert_eq!((leads[0].kind, leads[0].promise, &leads[0].case), (TaskKind::PromiseBroken, Some(p2), &case_id(2)));
        let again = store.sweep_promises("system", later).await.unwrap();
        assert_eq!((again.reminders, again.kept, again.broken), (0, 0, 0), "nothing twice");
        // Done once, by someone who sees the case.
        let id = leads[0].id;
        let done = TaskClose::default();
        assert_eq!(code(store.finish_task(&Scope::Team("T2".into()), id, &done, "L002", later).await.unwrap_err()), "NOT_FOUND");
        let upheld = TaskClose { outcome: Some(TaskOutcome::Upheld), note: Some("x".into()) };
        assert_eq!(code(store.finish_task(&Scope::Team("T1".into()), id, &upheld, "L001", later).await.unwrap_err()), "ENUM", "a promise's task takes no outcome");
        assert_eq!(store.finish_task(&Scope::Team("T1".into()), id, &done, "L001", later).await.unwrap(), None);
        assert_eq!(code(store.finish_task(&Scope::Team("T1".into()), id, &done, "L001", later).await.unwrap_err()), "TRANSITION");
        assert!(store.tasks_in(&Scope::All, Some(Audience::Lead), Some(TaskStatus::Open), 10).await.unwrap().is_empty());
        let settled = events(store, "promise.settled").await;
        assert_eq!(settled.len(), 2);
        assert!(settled.iter().any(|e| e.payload.contains("\"paid_fen\":10000") && e.payload.contains("broken")));
        assert_eq!(events(store, "task.done").await.len(), 1);
        verified_head(store).await;
    }

    /// Two servers sweeping at once settle each promise once.
    fn concurrent_sweeps_settle_each_promise_once(store, db) {
        portfolio(store, 4, |_| 40).await;
        for i in 1..=4 {
            store.create_promise(&promise(i, 10_000, now() + 2.hours()), "E001", now()).await.unwrap();
        }
        let later = now() + 72.hours();
        let (a, b) = tokio::join!(store.sweep_promises("server-a", later), store.sweep_promises("server-b", later));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.broken + b.broken, 4, "{a:?} {b:?}");
        assert_eq!(events(store, "promise.settled").await.len(), 4);
        assert_eq!(store.tasks_in(&Scope::All, Some(Audience::Lead), None, 100).await.unwrap().len(), 4);
        let (a, b) = tokio::join!(store.sweep_promises("server-a", later), store.sweep_promises("server-b", later));
        assert_eq!((a.unwrap(), b.unwrap()), (Default::default(), Default::default()));
        verified_head(store).await;
    }

    /// The team lead's counts by collector and by bucket, day by day, within the scope.
    fn kpis_count_a_period_by_group_within_the_scope(store, db) {
        portfolio(store, 3, |i| if i == 3 { 70 } else { 40 }).await;
        store.assign_case(&case_id(1), &owner("T1", "E001"), "L001", now()).await.unwrap();
        store.assign_case(&case_id(2), &owner("T1", "E002"), "L001", now()).await.unwrap();
        store.assign_case(&case_id(3), &owner("T2", "E003"), "L001", now()).await.unwrap();
        let day1 = now() - 1.hour();
        store.record_attempt(&call(1, Recipient::Debtor, Outcome::NoAnswer, day1), "E001", now()).await.unwrap();
        store.record_attempt(&call(1, Recipient::Debtor, Outcome::PromiseToPay, day1 + 5.minutes()), "E001", now()).await.unwrap();
        store.record_attempt(&call(2, Recipient::Guarantor, Outcome::ThirdPartyAnswered, day1), "E002", now()).await.unwrap();
        store.record_attempt(&call(3, Recipient::Debtor, Outcome::Conversation, day1), "E003", now()).await.unwrap();
        store.create_promise(&promise(1, 80_000, now() + 10.hours()), "E001", now()).await.unwrap();
        pay(store, 1, 1, 30_000, now() + 2.hours()).await;
        // Account 2 rolls from M2 to M3 the next day.
        let next_day = now() + 24.hours();
        let mut s = store.begin_import(&meta(ImportKind::Accounts, next_day)).await.unwrap();
        let before = s.account_states(&["A0002"]).await.unwrap();
        s.upsert_accounts(&[account(2, 2, 64)], &before).await.unwrap();
        s.commit(&summary(1)).await.unwrap();
        store.register_complaint(&NewComplaint { case: case_id(1), attempt: None, source: ComplaintSource::Regulator, text: "12378 投诉".into() }, "L001", now()).await.unwrap();

        let from = now() - 24.hours();
        let to = now() + 48.hours();
        let days = [from, from + 24.hours(), from + 48.hours()];
        let t1 = Scope::Team("T1".into());
        let k = store.kpis(&t1, KpiDimension::Collector, from, to, &days).await.unwrap();
        let keys: Vec<Option<&str>> = k.groups.iter().map(|g| g.key.as_deref()).collect();
        assert_eq!(keys, [Some("E001"), Some("E002")], "team T1 only");
        let e1 = &k.groups[0];
        assert_eq!((e1.cases, e1.accounts, e1.attempts, e1.contacts, e1.rpc), (1, 1, 2, 1, 1));
        assert_eq!((e1.promises, e1.promised, e1.recovered, e1.complaints), (1, 80_000, 30_000, 1));
        let e2 = &k.groups[1];
        assert_eq!((e2.attempts, e2.contacts, e2.rpc, e2.rolled), (1, 1, 0, 1));
        // Day by day: the attempts on the first day, the payment on the second.
        let per_day: Vec<(i64, i64, i64)> = k.days.iter().map(|d| (d.attempts, d.rpc, d.recovered)).collect();
        assert_eq!(per_day, [(3, 1, 0), (0, 0, 30_000), (0, 0, 0)]);
        assert_eq!(k.days[1].start, days[1]);

        let b = store.kpis(&Scope::All, KpiDimension::Bucket, from, to, &days).await.unwrap();
        let rows: Vec<(Option<&str>, i64, i64, i64)> =
            b.groups.iter().map(|g| (g.key.as_deref(), g.cases, g.rolled, g.exposed)).collect();
        // By bucket: case 2 now sits in M3 with case 3; the roll counts where it came from.
        assert_eq!(rows, [(Some("M2"), 1, 1, 2), (Some("M3"), 2, 0, 2)]);
        // Outside the period nothing counts.
        let empty = store.kpis(&t1, KpiDimension::Team, to, to + 24.hours(), &[to]).await.unwrap();
        assert_eq!((empty.groups[0].attempts, empty.groups[0].cases), (0, 2));
    }

    /// A batch of promise changes is judged change by change, as the single calls would be, in
    /// one transaction: a bad change (named by its place) writes none of the batch.
    fn a_promise_batch_is_all_or_nothing_and_judged_in_order(store, db) {
        portfolio(store, 3, |_| 40).await;
        let due = now() + 30.hours();
        let first = store
            .promise_batch(
                &[
                    PromiseOp::Create { promise: promise(1, 50_000, due), at: now() },
                    PromiseOp::Create { promise: promise(2, 40_000, due), at: now() },
                ],
                "E001",
            )
            .await
            .unwrap();
        let (p1, p2) = (first[0].unwrap(), first[1].unwrap());
        let cancel = PromiseChange { edit: PromiseEdit::Cancel, reason: "replaced".into() };
        let later = now() + 1.hours();
        let second = store
            .promise_batch(
                &[
                    PromiseOp::Change { id: p1, change: cancel.clone(), at: later },
                    PromiseOp::Create { promise: promise(1, 30_000, due), at: later },
                    PromiseOp::Settle { id: p2, status: PromiseStatus::Kept, at: later },
                ],
                "E001",
            )
            .await
            .unwrap();
        assert_eq!((second[0], second[2]), (None, None));
        let p3 = second[1].unwrap();
        let statuses = |i| async move {
            store.case_detail(&case_id(i)).await.unwrap().promises.iter().map(|p| (p.id, p.status)).collect::<Vec<_>>()
        };
        let one = statuses(1).await;
        assert!(one.contains(&(p1, PromiseStatus::Cancelled)) && one.contains(&(p3, PromiseStatus::Pending)), "{one:?}");
        assert_eq!(statuses(2).await, [(p2, PromiseStatus::Kept)]);
        // The third change is bad (a promise for nothing): the first two are not written either.
        let before = events(store, "promise.created").await.len();
        let e = store
            .promise_batch(
                &[
                    PromiseOp::Change { id: p3, change: cancel, at: later },
                    PromiseOp::Create { promise: promise(3, 20_000, due), at: later },
                    PromiseOp::Create { promise: promise(3, 0, due), at: later },
                ],
                "E001",
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("change 3 of the batch"), "{e}");
        assert_eq!(events(store, "promise.created").await.len(), before);
        assert!(statuses(1).await.contains(&(p3, PromiseStatus::Pending)));
        assert!(statuses(3).await.is_empty());
        verified_head(store).await;
    }
}
