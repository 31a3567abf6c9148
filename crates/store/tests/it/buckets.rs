use daylight_domain::bucket::{Bucket, BucketScheme};
use daylight_domain::case::CaseStatus;
use daylight_store::model::{BatchMeta, ImportKind};
use daylight_testdb::contract;

use crate::fixtures::*;

contract! {
    fn stored_buckets_follow_the_scheme_for_every_dpd(store, db) {
        // 0 … 400 DPD: the SQL roll-up and the domain agree on every value, on both schemes.
        let n = 401;
        portfolio(store, n, |i| i - 1).await;
        let check = |scheme: BucketScheme| async move {
            for i in 1..=n {
                let detail = store.case_detail(&case_id(i)).await;
                let dpd = i - 1;
                match detail {
                    Ok(d) => {
                        assert_eq!(d.accounts[0].bucket, scheme.bucket(dpd), "account at {dpd} DPD");
                        assert_eq!(d.case.bucket, scheme.bucket(dpd), "case at {dpd} DPD");
                    }
                    Err(_) => assert_eq!(dpd, 0, "only the current customer has no case"),
                }
            }
        };
        check(BucketScheme::default()).await;
        let custom: BucketScheme = "1,16,31,61,91,121,361".parse().unwrap();
        let moved = store.set_bucket_scheme(custom, "admin", now()).await.unwrap();
        // Every DPD whose bucket differs between the two schemes moved once.
        let expected = (0..n).filter(|&d| BucketScheme::default().bucket(d) != custom.bucket(d)).count() as u64;
        assert_eq!(moved.accounts_moved, expected);
        assert_eq!(moved.cases_updated, expected);
        assert_eq!(store.bucket_scheme().await.unwrap(), custom);
        check(custom).await;
        let change = events(store, "config.changed").await;
        assert_eq!(change.len(), 1);
        assert!(change[0].payload.contains("\"to\":\"1,16,31,61,91,121,361\""), "{}", change[0].payload);
        let moves = store.case_detail(&case_id(21)).await.unwrap().bucket_moves;
        assert_eq!((moves[0].from, moves[0].to), (Bucket::M1, Bucket::M2));
        verified_head(store).await;
    }

    fn imports_use_the_scheme_in_force(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        store.set_bucket_scheme("1,8,31,61,91,121,181".parse().unwrap(), "admin", now()).await.unwrap();
        portfolio(store, 1, |_| 10).await;
        let case = store.case_detail(&case_id(1)).await.unwrap().case;
        assert_eq!((case.bucket, case.status), (Bucket::M2, CaseStatus::Open));
        let s = store.begin_import(&BatchMeta { partial: true, ..meta(ImportKind::Accounts, now()) }).await.unwrap();
        assert_eq!(s.bucket_scheme().to_string(), "1,8,31,61,91,121,181");
        s.rollback().await.unwrap();
    }
}
