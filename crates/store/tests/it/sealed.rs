//! Personal data at rest: sealed in every personal column, found by blind indexes, re-sealed by
//! a rotation while readable throughout.

use daylight_domain::pii::PersonName;
use daylight_store::model::CaseFilter;
use daylight_testdb::contract;

use crate::fixtures::*;

/// Every personal value as `sqlite3` or `psql` shows it.
const PERSONAL: &str = "SELECT name, resident_id, employer, address FROM customers \
     UNION ALL SELECT value, name, NULL, NULL FROM contact_points";

async fn found(store: &dyn daylight_store::Store, q: &str) -> Vec<String> {
    let filter = CaseFilter { search: Some(q.into()), ..CaseFilter::default() };
    store.list_cases(&filter).await.unwrap().into_iter().map(|s| s.case.id.as_str().to_owned()).collect()
}

contract! {
    fn personal_values_are_sealed_at_rest_and_read_in_clear(store, db) {
        portfolio(store, 3, |_| 40).await;
        let raw = db.raw_texts(PERSONAL).await;
        assert_eq!(raw.len(), 3 * 4 + 9 + 6, "every personal value: {raw:?}");
        let rid = resident_id(2);
        for v in &raw {
            assert!(v.starts_with("dl1:1:"), "sealed with data key 1: {v}");
            for clear in ["李四", "王五", "陈七", "北京", "1381234", "13912340002", rid.expose()] {
                assert!(!v.contains(clear), "{clear} in clear: {v}");
            }
        }
        // The blind indexes are keyed hashes, not the values either.
        for v in db.raw_texts("SELECT name_bidx, resident_id_bidx FROM customers UNION ALL SELECT value_bidx, NULL FROM contact_points").await {
            assert_eq!(v.len(), 32);
            assert!(!v.contains("1381234"));
        }
        // Reading is unchanged.
        let d = store.case_detail(&case_id(2)).await.unwrap();
        assert_eq!(d.customer.name, PersonName::parse("王五").unwrap());
        assert_eq!(d.customer.resident_id, rid);
        assert_eq!(d.customer.address.as_ref().unwrap().expose(), "北京市朝阳区建国路88号");
        assert_eq!(d.customer.employer.as_deref(), Some("北京某科技有限公司"));
        assert!(d.contacts.iter().any(|p| p.value.expose() == "13812340002"));
        assert!(d.contacts.iter().any(|p| p.name.as_ref().is_some_and(|n| n.expose() == "陈七")));
        let list = store.list_cases(&CaseFilter::default()).await.unwrap();
        assert!(list.iter().any(|s| s.customer_name.expose() == "赵六"));
        // The audited reveal opens the sealed value.
        let revealed = store
            .reveal(&d.customer.id, &daylight_store::model::PiiField::ResidentId, "核实身份", "E001", now())
            .await
            .unwrap();
        assert_eq!(revealed, rid.expose());
    }

    fn exact_search_finds_cases_by_blind_index(store, db) {
        portfolio(store, 3, |_| 40).await;
        let two = vec![case_id(2).as_str().to_owned()];
        assert_eq!(found(store, "13812340002").await, two, "the debtor's full mobile");
        assert_eq!(found(store, "13912340002").await, two, "a guarantor's number finds the case too");
        assert_eq!(found(store, " 13812340002 ").await, two, "trimmed");
        assert_eq!(found(store, resident_id(2).expose()).await, two, "the resident ID");
        assert_eq!(found(store, "王五").await, two, "the full name");
        assert_eq!(found(store, case_id(2).as_str()).await, two, "the case id");
        let last4 = pan(2).to_string();
        let last4 = &last4[last4.len() - 4..];
        assert_eq!(found(store, last4).await, two, "the card's last four");
        // Exact only: a part of a number, a name or an ID finds nothing.
        for q in ["1381234", "王", "110105", "13812340009"] {
            assert!(found(store, q).await.is_empty(), "{q}");
        }
        // The caller's scope still applies.
        let none = CaseFilter {
            search: Some("13812340002".into()),
            scope: daylight_store::access::Scope::Collector("NOBODY".into()),
            ..CaseFilter::default()
        };
        assert!(store.list_cases(&none).await.unwrap().is_empty());
    }

    fn a_rotation_reseals_every_value_and_keeps_them_readable(store, db) {
        portfolio(store, 3, |_| 40).await;
        let before = store.case_detail(&case_id(1)).await.unwrap();
        let s = store.key_status().await.unwrap();
        assert_eq!((s.active, s.keys.clone(), s.clear), (1, vec![(1, 27)], 0), "{s:?}");
        let k = store.stage_data_key(ACTOR, now()).await.unwrap();
        assert_eq!(k, 2);
        assert_eq!(store.key_status().await.unwrap().active, 1, "staged, not yet sealing");
        store.activate_data_key(k, ACTOR, now()).await.unwrap();
        // Values sealed by either key read while the rotation runs.
        let mut s = store.begin_import(&meta(daylight_store::model::ImportKind::Customers, now())).await.unwrap();
        s.upsert_customers(&[customer(4)]).await.unwrap();
        s.commit(&summary(1)).await.unwrap();
        assert_eq!(store.case_detail(&case_id(1)).await.unwrap(), before);
        let done = store.reseal(ACTOR, now()).await.unwrap();
        assert_eq!(done.values, 27, "{done:?}");
        for v in db.raw_texts(PERSONAL).await {
            assert!(v.starts_with("dl1:2:"), "{v}");
        }
        let s = store.key_status().await.unwrap();
        assert_eq!((s.active, s.keys, s.clear), (2, vec![(1, 0), (2, 31)], 0));
        assert_eq!(store.case_detail(&case_id(1)).await.unwrap(), before);
        assert_eq!(found(store, "13812340001").await, vec![case_id(1).as_str().to_owned()], "the index key stays");
        // Run again, nothing is left to do.
        assert_eq!(store.reseal(ACTOR, now()).await.unwrap().values, 0);
        assert_eq!(events(store, "store.keys").await.len(), 3, "staged, activated, re-sealed");
        assert!(store.activate_data_key(0, ACTOR, now()).await.is_err(), "the index key is not a data key");
    }

    fn values_stored_in_clear_by_an_earlier_version_are_sealed_by_reseal(store, db) {
        portfolio(store, 2, |_| 40).await;
        // A row as version 0018 wrote it: in clear, no blind index.
        db.execute_raw(
            "UPDATE customers SET name = '周八', resident_id_bidx = NULL, name_bidx = NULL WHERE id = 'C0001'",
        )
        .await;
        db.execute_raw("UPDATE contact_points SET value = '13800000001', value_bidx = NULL WHERE id = 'P0001-debtor'").await;
        assert_eq!(store.case_detail(&case_id(1)).await.unwrap().customer.name.expose(), "周八", "clear reads as it is");
        assert_eq!(store.key_status().await.unwrap().clear, 2);
        let done = store.reseal(ACTOR, now()).await.unwrap();
        assert_eq!(done.values, 2);
        assert_eq!(store.key_status().await.unwrap().clear, 0);
        assert!(db.raw_texts(PERSONAL).await.iter().all(|v| v.starts_with("dl1:")));
        let one = vec![case_id(1).as_str().to_owned()];
        assert_eq!(found(store, "周八").await, one);
        assert_eq!(found(store, "13800000001").await, one);
        assert_eq!(found(store, resident_id(1).expose()).await, one, "the missing index is filled");
    }
}
