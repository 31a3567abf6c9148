use daylight_ledger::{Checkpoint, Problem};
use daylight_store::verify_ledger;
use daylight_testdb::contract;

use crate::fixtures::*;

async fn verdict(store: &dyn daylight_store::Store) -> Result<daylight_ledger::Link, daylight_ledger::Break> {
    verify_ledger(store, Vec::new(), |_| {}).await.unwrap()
}

contract! {
    fn every_change_is_chained(store, db) {
        portfolio(store, 3, |_| 12).await;
        store.add_note(&case_id(1), "客户称下周还款", None, "E001", now()).await.unwrap();
        let rows = store.ledger_rows(0, 100).await.unwrap();
        let kinds: Vec<_> = rows.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["store.initialised", "import.batch", "import.batch", "note.added"]);
        for pair in rows.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash);
            assert_eq!(pair[1].seq, pair[0].seq + 1);
        }
        let head = store.ledger_head().await.unwrap();
        assert_eq!(head.seq, 4);
        assert_eq!(hex(&head.hash), rows[3].hash);
        assert_eq!(verdict(store).await.unwrap(), head);
        // The note's text is bound by digest, not copied into the evidence.
        assert!(!rows[3].payload.contains("还款"), "{}", rows[3].payload);
        assert!(rows[3].payload.contains("\"note_sha256\""), "{}", rows[3].payload);
        assert_eq!(rows[3].at, "2026-03-03T01:30:00.000000Z");
        // Paging returns the same rows.
        let page = store.ledger_rows(2, 1).await.unwrap();
        assert_eq!(page, vec![rows[2].clone()]);
    }

    fn an_altered_row_is_named(store, db) {
        portfolio(store, 2, |_| 12).await;
        assert_eq!(db.execute_raw("UPDATE ledger SET actor = 'mallory' WHERE seq = 2").await, 1);
        let b = verdict(store).await.unwrap_err();
        assert_eq!((b.seq, b.problem), (2, Problem::HashMismatch));
    }

    fn an_altered_time_is_named(store, db) {
        portfolio(store, 2, |_| 12).await;
        let sql = match store.backend() {
            daylight_store::Backend::Sqlite => "UPDATE ledger SET at = '2026-03-03T01:30:00.000001Z' WHERE seq = 3",
            daylight_store::Backend::Postgres => "UPDATE ledger SET at = at + interval '1 microsecond' WHERE seq = 3",
        };
        db.execute_raw(sql).await;
        assert_eq!(verdict(store).await.unwrap_err().seq, 3);
    }

    fn removed_rows_are_named(store, db) {
        portfolio(store, 2, |_| 12).await;
        store.add_note(&case_id(1), "第一次", None, "E001", now()).await.unwrap();
        db.execute_raw("DELETE FROM ledger WHERE seq = 2").await;
        let b = verdict(store).await.unwrap_err();
        assert_eq!((b.seq, b.problem), (2, Problem::Missing { expected: 2 }));
    }

    fn a_removed_last_row_is_caught_by_the_head(store, db) {
        portfolio(store, 2, |_| 12).await;
        db.execute_raw("DELETE FROM ledger WHERE seq = 3").await;
        let b = verdict(store).await.unwrap_err();
        assert_eq!((b.seq, b.problem), (3, Problem::HeadMismatch { head_seq: 3 }));
    }

    fn reordered_rows_are_named(store, db) {
        portfolio(store, 2, |_| 12).await;
        // Swap the contents of rows 2 and 3, keeping their seq numbers.
        db.execute_raw("UPDATE ledger SET seq = -2 WHERE seq = 2").await;
        db.execute_raw("UPDATE ledger SET seq = 2 WHERE seq = 3").await;
        db.execute_raw("UPDATE ledger SET seq = 3 WHERE seq = -2").await;
        let b = verdict(store).await.unwrap_err();
        assert_eq!(b.seq, 2);
    }

    fn checkpoints_hold_while_the_chain_grows(store, db) {
        portfolio(store, 2, |_| 12).await;
        let head = store.ledger_head().await.unwrap();
        let checkpoint = Checkpoint { seq: head.seq, hash: head.hash };
        store.add_note(&case_id(2), "后续", None, "E001", now()).await.unwrap();
        let ok = verify_ledger(store, vec![checkpoint], |_| {}).await.unwrap();
        assert_eq!(ok.unwrap().seq, head.seq + 1);
        let forged = Checkpoint { seq: head.seq, hash: [7; 32] };
        let b = verify_ledger(store, vec![forged], |_| {}).await.unwrap().unwrap_err();
        assert_eq!((b.seq, b.problem), (head.seq, Problem::CheckpointMismatch));
    }
}

fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
