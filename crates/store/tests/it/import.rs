use daylight_domain::account::{Transaction, TransactionKind};
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome};
use daylight_domain::bucket::Bucket;
use daylight_domain::case::CaseStatus;
use daylight_domain::customer::{ContactRole, ContactStatus, Recipient};
use daylight_domain::id::{AccountId, TransactionId};
use daylight_domain::pii::PersonName;
use daylight_store::model::{CaseFilter, ImportKind, KeyTable};
use daylight_testdb::contract;
use jiff::civil::Date;

use crate::fixtures::*;

contract! {
    fn an_abandoned_batch_leaves_nothing(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        let before = store.stats().await.unwrap();
        let mut s = store.begin_import(&meta(ImportKind::Customers, now())).await.unwrap();
        s.upsert_customers(&[customer(1), customer(2)]).await.unwrap();
        s.rollback().await.unwrap();
        // Dropping a session without commit is what a killed process leaves: the same.
        let mut s = store.begin_import(&meta(ImportKind::Customers, now())).await.unwrap();
        s.upsert_customers(&[customer(3)]).await.unwrap();
        drop(s);
        assert_eq!(store.stats().await.unwrap(), before);
        assert_eq!(verified_head(store).await, 1);
    }

    fn reimports_update_in_place(store, db) {
        portfolio(store, 2, |_| 10).await;
        let mut changed = customer(1);
        changed.name = PersonName::parse("张三丰").unwrap();
        let mut s = store.begin_import(&meta(ImportKind::Customers, t("2026-03-04T01:00:00Z"))).await.unwrap();
        assert_eq!(
            s.known(KeyTable::Customers, &["C0001", "C0002", "C0009"]).await.unwrap(),
            ["C0001".to_owned(), "C0002".to_owned()].into()
        );
        let owners = s.resident_id_owners(&[customer(2).resident_id.expose()]).await.unwrap();
        assert_eq!(owners.get(customer(2).resident_id.expose()).map(String::as_str), Some("C0002"));
        s.upsert_customers(&[changed]).await.unwrap();
        let receipt = s.commit(&summary(1)).await.unwrap();
        let detail = store.case_detail(&case_id(1)).await.unwrap();
        assert_eq!(detail.customer.name.expose(), "张三丰");
        assert_eq!(store.stats().await.unwrap().tables[0].rows, 2);
        let batches = events(store, "import.batch").await;
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[2].seq, receipt.ledger_seq);
        assert!(batches[2].payload.contains("\"kind\":\"customers\""), "{}", batches[2].payload);
        verified_head(store).await;
    }

    fn accounts_record_bucket_moves(store, db) {
        portfolio(store, 3, |i| [0, 20, 45][i as usize - 1]).await;
        // An account's first bucket is where it starts, not a move.
        let first = store.case_detail(&case_id(2)).await.unwrap();
        assert!(first.bucket_moves.is_empty());
        assert_eq!(first.accounts[0].bucket, Bucket::M1);

        let mut s = store.begin_import(&meta(ImportKind::Accounts, t("2026-04-02T01:00:00Z"))).await.unwrap();
        let ids = ["A0001", "A0002", "A0003"];
        let before = s.account_states(&ids).await.unwrap();
        assert_eq!(before["A0003"].bucket, Bucket::M2);
        assert_eq!(before["A0003"].customer, "C0003");
        // A0002 rolls from M1 to M2; A0003 stays in M2; A0001 stays current.
        let moves = s
            .upsert_accounts(&[account(1, 1, 0), account(2, 2, 50), account(3, 3, 59)], &before)
            .await
            .unwrap();
        assert_eq!(moves, 1);
        let receipt = s.commit(&summary(3)).await.unwrap();
        assert_eq!(receipt.bucket_moves, 1);
        let detail = store.case_detail(&case_id(2)).await.unwrap();
        assert_eq!(detail.case.bucket, Bucket::M2);
        assert_eq!(detail.case.max_dpd, 50);
        assert_eq!(detail.bucket_moves.len(), 1);
        assert_eq!((detail.bucket_moves[0].from, detail.bucket_moves[0].to), (Bucket::M1, Bucket::M2));
        assert_eq!(detail.bucket_moves[0].at, t("2026-04-02T01:00:00Z"));
        assert_eq!(detail.accounts[0].bucket, Bucket::M2);
    }

    fn cases_follow_accounts_but_keep_what_people_decided(store, db) {
        portfolio(store, 4, |i| [30, 30, 30, 0][i as usize - 1]).await;
        assert!(store.case_detail(&case_id(4)).await.is_err(), "no case for a current customer");
        store.set_case_status(&case_id(2), &daylight_domain::case::StatusChange::new(CaseStatus::Legal, "诉讼"), ACTOR, now()).await.unwrap();
        // Everyone cures but customer 3; customer 4 goes past due.
        let later = t("2026-04-01T00:00:00Z");
        let mut s = store.begin_import(&meta(ImportKind::Accounts, later)).await.unwrap();
        let before = s.account_states(&["A0001", "A0002", "A0003", "A0004"]).await.unwrap();
        let rows = [account(1, 1, 0), account(2, 2, 0), account(3, 3, 61), account(4, 4, 3)];
        s.upsert_accounts(&rows, &before).await.unwrap();
        assert_eq!(s.commit(&summary(4)).await.unwrap().cases_touched, 4);
        let status = |i| async move { store.case_detail(&case_id(i)).await.unwrap().case };
        for (i, want, bucket) in [
            (1, CaseStatus::Closed, Bucket::M0),
            (2, CaseStatus::Legal, Bucket::M0),
            (3, CaseStatus::Open, Bucket::M3),
            (4, CaseStatus::Open, Bucket::M1),
        ] {
            let case = status(i).await;
            assert_eq!((case.status, case.bucket), (want, bucket), "case {i}");
            assert_eq!(case.status, CaseStatus::after_import(Some(if i == 2 { CaseStatus::Legal } else { CaseStatus::Open }), case.max_dpd));
        }
        // A cured case reopens when the account goes past due again.
        let mut s = store.begin_import(&meta(ImportKind::Accounts, t("2026-05-01T00:00:00Z"))).await.unwrap();
        let before = s.account_states(&["A0001"]).await.unwrap();
        s.upsert_accounts(&[account(1, 1, 7)], &before).await.unwrap();
        s.commit(&summary(1)).await.unwrap();
        assert_eq!(status(1).await.status, CaseStatus::Open);
        let open = store
            .list_cases(&CaseFilter { status: Some(CaseStatus::Open), ..CaseFilter::default() })
            .await
            .unwrap();
        assert_eq!(open.iter().map(|c| c.case.id.to_string()).collect::<Vec<_>>(), ["CASE-C0003", "CASE-C0001", "CASE-C0004"]);
        assert_eq!(open[0].overdue, vec![cny(306_500)]);
        assert_eq!(open[0].customer_name.to_string(), "赵*");
    }

    fn unknown_status_in_a_file_keeps_what_outcomes_taught(store, db) {
        portfolio(store, 1, |_| 10).await;
        let cp = contact(1, ContactRole::Debtor, "13812340001");
        store
            .record_attempt(&Attempt {
                    case: case_id(1),
                    account: None,
                    at: now(),
                    channel: Channel::Call,
                    recipient: Recipient::Debtor,
                    contact_point: Some(cp.id.clone()),
                    agent: Agent::Collector("E001".into()),
                    outcome: Outcome::PoweredOff,
                    duration_secs: 0,
                    note: None,
                },
                "E001",
                now(),
            )
            .await
            .unwrap();
        let mut s = store.begin_import(&meta(ImportKind::Contacts, now())).await.unwrap();
        let mut valid = contact(1, ContactRole::Guarantor, "13912340001");
        valid.status = ContactStatus::Valid;
        s.upsert_contacts(&[cp.clone(), valid]).await.unwrap();
        s.commit(&summary(2)).await.unwrap();
        let contacts = store.case_detail(&case_id(1)).await.unwrap().contacts;
        let status = |id: &str| contacts.iter().find(|c| c.id.as_str() == id).unwrap().status;
        assert_eq!(status("P0001-debtor"), ContactStatus::PoweredOff);
        assert_eq!(status("P0001-guarantor"), ContactStatus::Valid);
    }

    fn missing_names_only_the_absent_keys(store, db) {
        portfolio(store, 3, |_| 10).await;
        let mut s = store.begin_import(&meta(ImportKind::Accounts, now())).await.unwrap();
        let ids = ["C0001", "C0404", "C0002", "C0404", "C0909"];
        assert_eq!(s.missing(KeyTable::Customers, &ids).await.unwrap(), ["C0404".to_owned(), "C0909".to_owned()].into());
        assert!(s.missing(KeyTable::Customers, &["C0001", "C0003"]).await.unwrap().is_empty());
        assert!(s.missing(KeyTable::Accounts, &[]).await.unwrap().is_empty());
        s.rollback().await.unwrap();
    }

    /// A caller that skips the reference check still cannot store an orphan: the foreign key
    /// refuses it (at the statement on PostgreSQL, at commit on SQLite), and nothing is stored.
    fn foreign_keys_refuse_orphans(store, db) {
        portfolio(store, 1, |_| 10).await;
        let before = store.stats().await.unwrap();
        let mut s = store.begin_import(&meta(ImportKind::Accounts, now())).await.unwrap();
        let orphan = account(2, 77, 30);
        let result = match s.upsert_accounts(&[orphan], &Default::default()).await {
            Ok(_) => s.commit(&summary(1)).await.map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(result.is_err(), "an account of an unknown customer was stored");
        assert_eq!(store.stats().await.unwrap(), before);
        verified_head(store).await;
    }

    fn transactions_and_payments_are_stored(store, db) {
        portfolio(store, 1, |_| 10).await;
        let mut s = store.begin_import(&meta(ImportKind::Transactions, now())).await.unwrap();
        let states = s.account_states(&["A0001", "A0404"]).await.unwrap();
        assert_eq!(states.len(), 1);
        let tx = Transaction {
            id: TransactionId::parse("T1").unwrap(),
            account: AccountId::parse("A0001").unwrap(),
            transaction_date: Date::new(2026, 1, 2).unwrap(),
            posting_date: Date::new(2026, 1, 3).unwrap(),
            kind: TransactionKind::CashAdvance,
            amount: cny(2_500_000),
            description: Some("ATM 取现".into()),
        };
        s.upsert_transactions(&[tx.clone(), Transaction { id: TransactionId::parse("T2").unwrap(), ..tx }]).await.unwrap();
        s.commit(&summary(2)).await.unwrap();
        let mut s = store.begin_import(&meta(ImportKind::Payments, now())).await.unwrap();
        s.upsert_payments(&[payment(1, 1), payment(2, 1)]).await.unwrap();
        s.commit(&summary(2)).await.unwrap();
        let mut s = store.begin_import(&meta(ImportKind::Payments, now())).await.unwrap();
        let mut again = payment(1, 1);
        again.amount = cny(60_000);
        s.upsert_payments(&[again]).await.unwrap();
        s.commit(&summary(1)).await.unwrap();
        let stats = store.stats().await.unwrap();
        let rows = |t: &str| stats.tables.iter().find(|c| c.table == t).unwrap().rows;
        assert_eq!((rows("transactions"), rows("payments")), (2, 2));
        let payments = store.case_detail(&case_id(1)).await.unwrap().payments;
        let amount = |id: &str| payments.iter().find(|p| p.id.as_str() == id).unwrap().amount.minor;
        assert_eq!((payments.len(), amount("Y0001"), amount("Y0002")), (2, 60_000, 50_000));
        verified_head(store).await;
    }
}

#[test]
fn fixtures_are_valid() {
    let c = customer(7);
    assert_eq!(gender_of(&c), c.resident_id.gender());
    assert!(account(1, 1, 30).check().is_ok());
    assert!(account(1, 1, 0).check().is_ok());
}
