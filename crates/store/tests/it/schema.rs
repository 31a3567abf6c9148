use daylight_store::require_current_schema;
use daylight_testdb::contract;

use crate::fixtures::*;

contract! {
    fn migrate_creates_the_schema_once(store, db) {
        assert_eq!(store.schema().await.unwrap().applied, 0);
        assert!(require_current_schema(store).await.is_err());
        let first = store.migrate(ACTOR, now()).await.unwrap();
        assert!(first.created);
        assert_eq!(first.from, 0);
        assert_eq!(first.to, store.schema().await.unwrap().known);
        require_current_schema(store).await.unwrap();
        let again = store.migrate(ACTOR, now()).await.unwrap();
        assert!(!again.created);
        assert_eq!(again.from, again.to);
        // One store.initialised event, whatever the number of runs.
        let init = events(store, "store.initialised").await;
        assert_eq!(init.len(), 1);
        assert_eq!(init[0].seq, 1);
        assert_eq!(init[0].prev_hash, "0".repeat(64));
        assert_eq!(verified_head(store).await, 1);
        // The default bucket scheme is written as configuration.
        let config = store.config().await.unwrap();
        assert_eq!(config.len(), 1);
        assert_eq!((config[0].key.as_str(), config[0].value.as_str()), ("buckets", "1,31,61,91,121,151,181"));
    }

    fn stats_count_tables_and_buckets(store, db) {
        portfolio(store, 6, |i| [0, 5, 40, 75, 100, 200][i as usize - 1]).await;
        let stats = store.stats().await.unwrap();
        let rows = |t: &str| stats.tables.iter().find(|c| c.table == t).unwrap().rows;
        assert_eq!((rows("customers"), rows("contact_points"), rows("accounts")), (6, 18, 6));
        assert_eq!(rows("cases"), 5, "a customer with nothing past due gets no case");
        assert_eq!(rows("import_batches"), 2);
        assert_eq!(rows("ledger"), 3);
        let labels: Vec<_> = stats.buckets.iter().map(|b| (b.bucket.label(), b.accounts)).collect();
        assert_eq!(labels, [("M0", 1), ("M1", 1), ("M2", 1), ("M3", 1), ("M4", 1), ("M6+", 1)]);
        assert_eq!(stats.buckets[1].overdue_minor, 306_500);
        assert_eq!(stats.buckets[1].balance_minor, 1_000_000);
        assert!(stats.cases.iter().all(|c| c.status.as_str() == "open" && c.cases == 1));
    }
}
