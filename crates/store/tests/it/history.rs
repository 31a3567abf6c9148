//! What the product models read: a debtor's facts before a time, and the gate's view of a
//! contact without taking its lock.

use daylight_domain::agreement::PromiseStatus;
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome, Planned};
use daylight_domain::bucket::Bucket;
use daylight_domain::customer::Recipient;
use daylight_domain::id::{AccountId, ContactId};
use daylight_store::Store;
use daylight_store::model::{HistoryFilter, NewPromise};
use daylight_testdb::contract;

use crate::fixtures::*;

fn call(case: u32, at: &str, outcome: Outcome, secs: u32) -> Attempt {
    Attempt {
        case: case_id(case),
        account: Some(AccountId::parse(&format!("A{case:04}")).unwrap()),
        at: t(at),
        channel: Channel::Call,
        recipient: Recipient::Debtor,
        contact_point: Some(ContactId::parse(&format!("P{case:04}-debtor")).unwrap()),
        agent: Agent::Collector("E001".into()),
        outcome,
        duration_secs: secs,
        note: None,
    }
}

async fn payments(store: &dyn Store) {
    use daylight_store::model::ImportKind;
    let mut s = store.begin_import(&meta(ImportKind::Payments, now())).await.unwrap();
    s.upsert_payments(&[payment(1, 1)]).await.unwrap();
    s.commit(&summary(1)).await.unwrap();
}

contract! {
    /// Histories hold each debtor's facts in time order, cut at `until`, per case or for all.
    fn histories_read_each_debtors_facts_before_a_time(store, db) {
        portfolio(store, 3, |_| 40).await;
        store.set_case_status(&case_id(3), &daylight_domain::case::StatusChange::new(daylight_domain::case::CaseStatus::WrittenOff, "test"), "E001", now()).await.unwrap();
        payments(store).await;
        let late = t("2026-03-10T00:00:00Z");
        for (at, outcome, secs) in [
            ("2026-03-03T02:00:00Z", Outcome::NoAnswer, 0),
            ("2026-03-03T06:00:00Z", Outcome::PromiseToPay, 95),
            ("2026-03-04T02:00:00Z", Outcome::Conversation, 30),
        ] {
            assert!(store.record_attempt(&call(1, at, outcome, secs), "E001", late).await.unwrap().decision.allowed);
        }
        let id = store
            .create_promise(&NewPromise { case: case_id(1), account: None, attempt: None, amount: cny(10_000), due_at: t("2026-03-08T00:00:00Z") }, "E001", t("2026-03-03T06:05:00Z"))
            .await
            .unwrap();
        store.settle_promise(id, PromiseStatus::Kept, "E001", t("2026-03-08T01:00:00Z")).await.unwrap();

        let all = store.debtor_histories(&HistoryFilter::default(), late).await.unwrap();
        assert_eq!(all.iter().map(|h| h.case.as_str()).collect::<Vec<_>>(), ["CASE-C0001", "CASE-C0002", "CASE-C0003"]);
        let h = &all[0];
        assert_eq!(h.zone.iana_name(), Some("Asia/Shanghai"));
        assert_eq!(h.attempts.len(), 3);
        assert!(h.attempts.windows(2).all(|w| w[0].at <= w[1].at));
        assert_eq!((h.attempts[1].outcome, h.attempts[1].duration_secs), (Outcome::PromiseToPay, 95));
        assert_eq!(h.payments.len(), 1);
        assert_eq!(h.payments[0].amount, 50_000, "fen");
        assert_eq!(h.promises.len(), 1);
        assert!(h.promises[0].kept && h.promises[0].settled_at.is_some());
        assert_eq!(h.bucket_at(late), Bucket::M2);
        assert!(h.credit_limit > 0);
        assert!(all[1].attempts.is_empty());

        // Cut at a time: only what happened before it.
        let early = store.debtor_histories(&HistoryFilter::default(), t("2026-03-03T05:00:00Z")).await.unwrap();
        assert_eq!(early[0].attempts.len(), 1);
        assert!(early[0].promises.is_empty());
        // One case.
        let one = store.debtor_histories(&HistoryFilter { case: Some(case_id(1)), open_only: false }, late).await.unwrap();
        assert_eq!(one, all[..1]);
        // Open cases only: case 3 was written off.
        let open = store.debtor_histories(&HistoryFilter { case: None, open_only: true }, late).await.unwrap();
        assert!(open.iter().all(|h| h.case != "CASE-C0003"), "{:?}", open.iter().map(|h| &h.case).collect::<Vec<_>>());
        let missing = store.debtor_histories(&HistoryFilter { case: Some(case_id(9)), open_only: false }, late).await;
        assert!(matches!(missing, Err(daylight_store::StoreError::NotFound { .. })), "{missing:?}");
    }

    /// The context is what the gate judges by: after three calls on a day, the preview says
    /// DAILY_CAP as the gate does, and nothing is written.
    fn the_contact_context_previews_the_gate(store, db) {
        portfolio(store, 1, |_| 40).await;
        let late = t("2026-03-10T00:00:00Z");
        for at in ["2026-03-03T01:00:00Z", "2026-03-03T02:00:00Z", "2026-03-03T03:00:00Z"] {
            assert!(store.record_attempt(&call(1, at, Outcome::NoAnswer, 0), "E001", late).await.unwrap().decision.allowed);
        }
        let planned = Planned {
            case: case_id(1),
            account: None,
            at: t("2026-03-03T04:00:00Z"),
            channel: Channel::Call,
            recipient: Recipient::Debtor,
            contact_point: None,
            agent: Agent::Robot("preview".into()),
        };
        let head = store.ledger_head().await.unwrap();
        let ctx = store.contact_context(&planned).await.unwrap();
        assert_eq!((ctx.pack.name.as_str(), ctx.time_zone.as_str()), ("cn-default", "Asia/Shanghai"));
        assert_eq!(ctx.history.len(), 3);
        assert_eq!(ctx.request.debtor_contact_points, ["P0001-debtor"]);
        assert!(ctx.request.cycle_start.is_some());
        let d = daylight_compliance::evaluate(&ctx.pack, &ctx.request, &ctx.history, planned.at);
        assert_eq!(d.violations.iter().map(|r| r.code()).collect::<Vec<_>>(), ["DAILY_CAP"]);
        // Several contact points of the case at once: the same contexts as one by one.
        let guarantor = Planned {
            recipient: Recipient::Guarantor,
            contact_point: Some(ContactId::parse("P0001-guarantor").unwrap()),
            ..planned.clone()
        };
        let both = store.contact_contexts(&[planned.clone(), guarantor.clone()]).await.unwrap();
        let one = store.contact_context(&guarantor).await.unwrap();
        assert_eq!(format!("{:?}", both[0].request), format!("{:?}", ctx.request));
        assert_eq!(format!("{:?}", both[1].request), format!("{:?}", one.request));
        assert_eq!(both[1].history, one.history);
        let other_case = Planned { case: case_id(2), ..planned.clone() };
        assert_eq!(store.contact_contexts(&[planned.clone(), other_case]).await.unwrap_err().code(), "INCONSISTENT");
        let gate = store.start_attempt(&planned, "E001", planned.at).await.unwrap();
        assert_eq!(gate.decision, d, "the gate agrees with its preview");
        assert_eq!(store.ledger_head().await.unwrap().seq, head.seq + 1, "only the gate's denial was written");
    }
}
