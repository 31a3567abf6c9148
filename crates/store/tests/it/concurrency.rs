use std::sync::Arc;

use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome};
use daylight_domain::customer::Recipient;
use daylight_domain::id::ContactId;
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
                        channel: Channel::RobotCall,
                        recipient: Recipient::Debtor,
                        contact_point: Some(ContactId::parse(&format!("P{case:04}-debtor")).unwrap()),
                        agent: Agent::Robot(format!("R{w}")),
                        outcome: Outcome::NoAnswer,
                        duration_secs: 0,
                        note: None,
                    };
                    s.record_attempt(&attempt, "robot", now()).await.unwrap();
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
}
