use std::sync::Arc;

use daylight_domain::account::Component;
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome};
use daylight_domain::customer::Recipient;
use daylight_domain::id::AccountId;
use daylight_domain::id::ContactId;
use daylight_store::model::NewWaiver;
use daylight_testdb::contract;

use crate::fixtures::*;

contract! {
    /// Many writers at once (collectors, robots, notes) never fork or break the chain.
    fn concurrent_writers_keep_one_chain(store, db) {
        portfolio(store, 8, |_| 40).await;
        let shared: Arc<dyn daylight_store::Store> = Arc::from(db.open().await);
        let mut tasks = Vec::new();
        for w in 0..8u32 {
            let s = shared.clone();
            tasks.push(tokio::spawn(async move {
                for k in 0..10u32 {
                    let case = w + 1;
                    let attempt = Attempt {
                        case: case_id(case),
                        account: None,
                        at: now(),
                        // Text messages: no cap stops these 80.
                        channel: Channel::Sms,
                        recipient: Recipient::Debtor,
                        contact_point: Some(ContactId::parse(&format!("P{case:04}-debtor")).unwrap()),
                        agent: Agent::Robot(format!("R{w}")),
                        outcome: Outcome::Delivered,
                        duration_secs: 0,
                        note: None,
                    };
                    s.record_attempt(&attempt, "robot", now()).await.unwrap().id.unwrap();
                    s.add_note(&case_id(case), &format!("第{k}次"), None, "E001", now()).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let head = verified_head(store).await;
        assert_eq!(head, 3 + 8 * 10 * 2);
        assert_eq!(events(store, "attempt.recorded").await.len(), 80);
    }

    /// Verification while others append never reports a healthy chain as broken.
    fn verify_while_writers_append(store, db) {
        portfolio(store, 4, |_| 40).await;
        let shared: Arc<dyn daylight_store::Store> = Arc::from(db.open().await);
        let writer = {
            let s = shared.clone();
            tokio::spawn(async move {
                for k in 0..60u32 {
                    s.add_note(&case_id(k % 4 + 1), &format!("第{k}条"), None, "E001", now()).await.unwrap();
                }
            })
        };
        let mut checks = 0;
        while !writer.is_finished() {
            let verdict = daylight_store::verify_ledger(&*shared, Vec::new(), |_| {}).await.unwrap();
            assert!(verdict.is_ok(), "a healthy chain reported broken: {verdict:?}");
            checks += 1;
        }
        writer.await.unwrap();
        assert!(checks > 0);
        assert_eq!(verified_head(store).await, 3 + 60);
    }

    /// Two approvers deciding one waiver at once: one decision wins, the other is refused.
    fn one_decision_per_waiver(store, db) {
        portfolio(store, 1, |_| 95).await;
        leads(store).await;
        let w = NewWaiver {
            case: case_id(1),
            account: AccountId::parse("A0001").unwrap(),
            component: Component::LateFees,
            amount: cny(1_000),
            reason: "困难".into(),
        };
        let id = store.request_waiver(&w, "E001", now()).await.unwrap();
        let shared: Arc<dyn daylight_store::Store> = Arc::from(db.open().await);
        let (a, b) = (shared.clone(), shared.clone());
        let approve = tokio::spawn(async move { a.decide_waiver(id, true, "L001", now()).await });
        let reject = tokio::spawn(async move { b.decide_waiver(id, false, "L002", now()).await });
        let results = [approve.await.unwrap(), reject.await.unwrap()];
        let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(refused.len(), 1, "{results:?}");
        assert_eq!(refused[0].code(), "TRANSITION");
        assert_eq!(events(store, "waiver.decided").await.len(), 1);
    }
}

contract! {
    /// Two imports of the same customers in opposite orders at once: both land (on
    /// PostgreSQL they used to deadlock, one failing with `deadlock detected`).
    fn concurrent_imports_of_the_same_customers_never_deadlock(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        let shared: Arc<dyn daylight_store::Store> = Arc::from(db.open().await);
        let run = |first: u32, second: u32, pause_ms: u64| {
            let s = shared.clone();
            tokio::spawn(async move {
                let mut session = s.begin_import(&meta(daylight_store::model::ImportKind::Customers, now())).await?;
                session.upsert_customers(&[customer(first)]).await?;
                tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
                session.upsert_customers(&[customer(second)]).await?;
                session.commit(&summary(2)).await.map(|_| ())
            })
        };
        let a = run(1, 2, 300);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let b = run(2, 1, 0);
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
        let customers = store.stats().await.unwrap().tables.into_iter().find(|t| t.table == "customers").unwrap();
        assert_eq!(customers.rows, 2);
        shared.close().await;
    }
}
