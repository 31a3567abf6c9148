//! The import pipeline against a real store: what is refused, where, and what is kept.

use std::path::PathBuf;

use daylight_import::{Encoding, ImportOptions, ImportReport, import_file};
use daylight_store::Store;
use daylight_store::model::ImportKind;
use daylight_testdb::contract;

/// A store with two customers (C1, C2) and one account each (A1 current, A2 40 DPD).
async fn base(store: &dyn Store, dir: &std::path::Path) {
    store.migrate("tester", "2026-11-01T00:00:00Z".parse().unwrap()).await.unwrap();
    let customers = "customer_id,name,resident_id\nC1,张三,11010519491231002X\nC2,李四,110105198503121015\n";
    assert!(run(store, dir, ImportKind::Customers, customers, false).await.stored);
    let accounts = "account_id,customer_id,card_number,credit_limit,balance,minimum_payment,statement_day,due_date,days_past_due,overdue_principal\n\
                    A1,C1,4111111111111111,10000,500,50,5,2026-12-05,0,\n\
                    A2,C2,6228480000000007,20000,8000,800,5,2026-10-01,40,3000\n";
    assert!(run(store, dir, ImportKind::Accounts, accounts, false).await.stored);
}

async fn run(
    store: &dyn Store,
    dir: &std::path::Path,
    kind: ImportKind,
    text: &str,
    partial: bool,
) -> ImportReport {
    let path = dir.join(format!("{kind}.csv"));
    std::fs::write(&path, text).unwrap();
    let opts = ImportOptions {
        kind,
        path,
        encoding: Encoding::Utf8,
        partial,
        check: false,
        actor: "tester".into(),
        at: "2026-11-20T02:00:00Z".parse().unwrap(),
        time_zone: "Asia/Shanghai".into(),
        // Tiny chunks, so that every test crosses chunk boundaries.
        chunk_rows: 2,
    };
    import_file(store, &opts, &|_, _| {}).await.unwrap()
}

fn rejects(r: &ImportReport) -> Vec<String> {
    let Some(path) = &r.rejects_file else { return Vec::new() };
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
        .collect()
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_owned();
    (d, p)
}

contract! {
    fn windows_line_endings_and_blank_lines_keep_line_numbers_right(store, db) {
        let (_d, dir) = tmp();
        base(store, &dir).await;
        let text = "contact_id,customer_id,role,kind,value,name\r\n\
                    P1,C1,debtor,phone,13812345678,\r\n\
                    \r\n\
                    P2,C1,guarantor,phone,139123,王五\r\n\
                    P3,C9,debtor,email,a@b.cn,\r\n\
                    P4,C2,emergency_contact,phone,13712345678,\r\n";
        let r = run(store, &dir, ImportKind::Contacts, text, false).await;
        assert!(!r.stored);
        assert_eq!(r.summary.rows_total, 4, "the blank line is not a row");
        assert_eq!(
            rejects(&r),
            ["4,5,value,PHONE_FORMAT", "5,2,customer_id,UNKNOWN_CUSTOMER", "6,6,name,REQUIRED"]
        );
    }

    fn duplicate_keys_and_resident_ids_are_refused(store, db) {
        let (_d, dir) = tmp();
        base(store, &dir).await;
        let text = "customer_id,name,resident_id\n\
                    C9,周九,110105194912310021\n\
                    C3,王五,310115199007211083\n\
                    C4,赵六,440304198510101232\n\
                    C3,王五,310115199007211083\n\
                    C5,钱七,440304198510101232\n\
                    C6,孙八,110105198503121015\n\
                    C2,李四,110105198503121015\n";
        let r = run(store, &dir, ImportKind::Customers, text, true).await;
        assert_eq!(
            rejects(&r),
            [
                "2,3,resident_id,RESIDENT_ID_CHECKSUM",
                "5,1,customer_id,DUPLICATE_KEY",
                "6,3,resident_id,DUPLICATE_RESIDENT_ID",
                "7,3,resident_id,DUPLICATE_RESIDENT_ID",
            ]
        );
        assert!(r.stored);
        assert_eq!((r.summary.rows_inserted, r.summary.rows_updated, r.summary.rows_rejected), (2, 1, 4));
        let again = run(store, &dir, ImportKind::Customers, "customer_id,name,resident_id\nC4,赵六,440304198510101232\n", false).await;
        assert!(again.stored && again.rejects_file.is_none(), "a clean run removes the stale rejects file");
        assert!(!dir.join("customers.csv.rejects.csv").exists());
    }

    fn accounts_cannot_change_owner_or_currency_and_must_add_up(store, db) {
        let (_d, dir) = tmp();
        base(store, &dir).await;
        let text = "account_id,customer_id,card_number,currency,credit_limit,balance,minimum_payment,statement_day,due_date,days_past_due,overdue_principal,cycles_delinquent\n\
                    A1,C2,4111111111111111,CNY,10000,500,50,5,2026-12-05,0,,\n\
                    A2,C2,6228480000000007,USD,20000,8000,800,5,2026-10-01,40,3000,\n\
                    A3,C1,6228480000000015,CNY,20000,100,10,5,2026-10-01,40,3000,\n\
                    A4,C1,6228480000000023,CNY,20000,100,10,32,2026-10-01,0,,\n\
                    A5,C1,6228480000000015,CNY,1e4,100,10,5,2026/10/01,61,50,\n";
        let r = run(store, &dir, ImportKind::Accounts, text, true).await;
        assert_eq!(
            rejects(&r),
            [
                "2,2,customer_id,OWNER_CHANGED",
                "3,4,currency,CURRENCY_MISMATCH",
                "4,6,balance,INCONSISTENT",
                "5,8,statement_day,INTEGER",
                "6,5,credit_limit,AMOUNT_FORMAT",
            ]
        );
        assert_eq!(r.summary.rows_rejected, 5);
    }

    fn money_rows_are_read_in_the_account_currency(store, db) {
        let (_d, dir) = tmp();
        base(store, &dir).await;
        let text = "transaction_id,account_id,transaction_date,posting_date,kind,amount,currency\n\
                    T1,A1,2026-11-01,,purchase,99.90,\n\
                    T2,A1,2026-11-02,2026-11-01,purchase,10,\n\
                    T3,A2,2026-11-02,,refund,5.00,\n\
                    T4,A2,2026-11-02,,refund,-5.00,USD\n\
                    T5,A404,2026-11-02,,fee,1,\n\
                    T6,A2,2026-11-02,,adjustment,-0.01,CNY\n";
        let r = run(store, &dir, ImportKind::Transactions, text, true).await;
        assert_eq!(
            rejects(&r),
            [
                "3,4,posting_date,INCONSISTENT",
                "4,6,amount,AMOUNT_RANGE",
                "5,7,currency,CURRENCY_MISMATCH",
                "6,2,account_id,UNKNOWN_ACCOUNT",
            ]
        );
        assert_eq!(r.summary.rows_inserted, 2);
        let text = "payment_id,account_id,paid_at,amount,channel\n\
                    Y1,A2,2026-11-10 09:30,300,app\n\
                    Y2,A2,2026-11-10T09:30:00+08:00,0,app\n\
                    Y3,A2,yesterday,1,app\n\
                    Y4,A2,2026-11-10,1,wechat\n";
        let r = run(store, &dir, ImportKind::Payments, text, true).await;
        assert_eq!(rejects(&r), ["3,4,amount,AMOUNT_RANGE", "4,3,paid_at,DATETIME_FORMAT", "5,5,channel,ENUM"]);
        let paid = store.case_detail(&daylight_domain::id::CaseId::parse("CASE-C2").unwrap()).await.unwrap().payments;
        assert_eq!(paid[0].paid_at, "2026-11-10T01:30:00Z".parse().unwrap(), "local time read in Asia/Shanghai");
    }

    /// Contact points, transactions and payments stay with the customer or account they were
    /// stored for; a file cannot move them.
    fn records_cannot_move_to_another_owner(store, db) {
        let (_d, dir) = tmp();
        base(store, &dir).await;
        let long = "P".repeat(65);
        let contacts = format!("contact_id,customer_id,role,kind,value\nP1,C1,debtor,phone,13812345678\nC1:mobile,C1,debtor,phone,13812345679\n{long},C1,debtor,email,a@b.cn\n");
        let r = run(store, &dir, ImportKind::Contacts, &contacts, true).await;
        assert_eq!(rejects(&r), ["4,1,contact_id,ID_FORMAT"]);
        let r = run(store, &dir, ImportKind::Contacts, "contact_id,customer_id,role,kind,value\nP1,C2,debtor,phone,13812345678\nC1:mobile,C2,debtor,phone,13812345679\n", true).await;
        assert_eq!(rejects(&r), ["2,2,customer_id,OWNER_CHANGED", "3,2,customer_id,OWNER_CHANGED"]);
        let payments = "payment_id,account_id,paid_at,amount\nY1,A1,2026-11-10,10\n";
        assert!(run(store, &dir, ImportKind::Payments, payments, false).await.stored);
        let r = run(store, &dir, ImportKind::Payments, "payment_id,account_id,paid_at,amount\nY1,A2,2026-11-10,10\n", false).await;
        assert_eq!(rejects(&r), ["2,2,account_id,OWNER_CHANGED"]);
        let tx = "transaction_id,account_id,transaction_date,kind,amount\nT1,A1,2026-11-01,purchase,5\n";
        assert!(run(store, &dir, ImportKind::Transactions, tx, false).await.stored);
        let r = run(store, &dir, ImportKind::Transactions, &tx.replace(",A1,", ",A2,"), false).await;
        assert_eq!(rejects(&r), ["2,2,account_id,OWNER_CHANGED"]);
    }

    /// A file that leaves an optional column out does not erase what is stored there.
    fn columns_left_out_keep_their_stored_values(store, db) {
        let (_d, dir) = tmp();
        base(store, &dir).await;
        let full = "customer_id,name,resident_id,employer,address,region,time_zone\n\
                    C1,张三,11010519491231002X,某公司,新疆乌鲁木齐市天山区解放北路200号,新疆,Asia/Urumqi\n";
        assert!(run(store, &dir, ImportKind::Customers, full, false).await.stored);
        let slim = "customer_id,name,resident_id,region\nC1,张三丰,11010519491231002X,\n";
        assert!(run(store, &dir, ImportKind::Customers, slim, false).await.stored);
        let id = daylight_domain::id::CustomerId::parse("C1").unwrap();
        let reveal = |f| store.reveal(&id, f, "test", "tester", "2026-11-21T00:00:00Z".parse().unwrap());
        assert_eq!(reveal(&daylight_store::model::PiiField::Name).await.unwrap(), "张三丰", "given columns are updated");
        assert_eq!(reveal(&daylight_store::model::PiiField::Address).await.unwrap(), "新疆乌鲁木齐市天山区解放北路200号");
        // The customer has no case (no account past due): read it through a new account's case.
        let acct = "account_id,customer_id,card_number,credit_limit,balance,minimum_payment,statement_day,due_date,days_past_due,overdue_principal\n\
                    A9,C1,6228480000000015,20000,100,10,5,2026-10-01,40,50\n";
        assert!(run(store, &dir, ImportKind::Accounts, acct, false).await.stored);
        let customer = store.case_detail(&daylight_domain::id::CaseId::parse("CASE-C1").unwrap()).await.unwrap().customer;
        assert_eq!(customer.time_zone, "Asia/Urumqi", "a file without time_zone keeps the stored zone");
        assert_eq!(customer.employer.as_deref(), Some("某公司"));
        assert_eq!(customer.region, None, "a column given blank is cleared");
    }

    fn rows_with_the_wrong_number_of_columns_are_refused(store, db) {
        let (_d, dir) = tmp();
        base(store, &dir).await;
        let r = run(store, &dir, ImportKind::Customers, "customer_id,name,resident_id\nC7,周九\nC8,吴十,110105194912310021,extra\n", false).await;
        let got = rejects(&r);
        assert!(got[0].starts_with("2,3,,COLUMNS"), "{got:?}");
        assert!(got.iter().any(|g| g.starts_with("3,4,,COLUMNS")), "{got:?}");
        assert!(!r.stored);
    }
}

/// `docs/import.md` documents every column of every kind, in a row of its own.
#[test]
fn the_docs_list_every_column() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/import.md")).unwrap();
    for kind in ImportKind::ALL {
        let schema = daylight_import::schema::Schema::of(*kind);
        let section =
            docs.split(&format!("### {kind}\n")).nth(1).unwrap_or_else(|| panic!("no section for {kind}"));
        let section = section.split("\n### ").next().unwrap();
        for c in schema.columns {
            let marker = match (c.required, c.kept_when_absent) {
                (true, _) => "yes",
                (false, true) => "no, kept",
                (false, false) => "no",
            };
            let row = format!("| `{}` | {marker} |", c.name);
            assert!(section.contains(&row), "docs/import.md, {kind}: no row {row}");
        }
    }
}
