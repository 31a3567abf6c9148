use crate::both;
use crate::support::*;

both! {
    /// `init` and the import of every example kind succeed; `stats --json` shows the counts.
    fn examples_import_and_stats_count_them(db) {
        load_examples(db);
        let s = stats(db);
        let t = &s["tables"];
        assert_eq!(t["customers"], 12);
        assert_eq!(t["contact_points"], 54, "42 contacts + 12 mobiles from customers.csv");
        assert_eq!(t["accounts"], 14);
        assert_eq!(t["transactions"], 52);
        assert_eq!(t["payments"], 8);
        assert_eq!(t["cases"], 11, "one per customer with an account past due");
        assert_eq!(t["import_batches"], 5);
        assert_eq!(t["ledger"], 6);
        let buckets: Vec<_> = s["buckets"].as_array().unwrap().iter().map(|b| (b["bucket"].as_str().unwrap().to_owned(), b["accounts"].as_i64().unwrap())).collect();
        let want = [("M0", 2), ("M1", 3), ("M2", 2), ("M3", 2), ("M4", 1), ("M5", 1), ("M6", 1), ("M6+", 2)];
        assert_eq!(buckets, want.map(|(b, n)| (b.to_owned(), n)));
        // Importing the same files again updates in place: nothing new, every row an update.
        let out = expect(db, &["import", "accounts", examples().join("accounts.csv").to_str().unwrap(), "--json"], 0);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["report"]["summary"]["rows_updated"], 14);
        assert_eq!(report["report"]["summary"]["rows_inserted"], 0);
        assert_eq!(report["report"]["summary"]["file_sha256"].as_str().unwrap().len(), 64);
        assert_eq!(stats(db)["tables"]["accounts"], 14);
    }

    /// A file with a bad ID checksum, a bad mobile and a gender that disagrees with the ID is
    /// refused whole, with a rejects file naming each line and column; nothing changes.
    fn bad_customers_are_refused_whole(db) {
        load_examples(db);
        let before = stats(db);
        let dir = tempfile::tempdir().unwrap();
        let file = copy_example("bad/customers.csv", dir.path());
        let out = expect(db, &["import", "customers", file.to_str().unwrap()], 1);
        assert!(out.contains("refused — 3 of 4 rows have errors"), "{out}");
        let rejects = std::fs::read_to_string(format!("{}.rejects.csv", file.display())).unwrap();
        let lines: Vec<&str> = rejects.lines().collect();
        assert_eq!(lines[0], "line,column,field,code,reason");
        assert!(lines[1].starts_with("3,3,resident_id,RESIDENT_ID_CHECKSUM,"), "{rejects}");
        assert!(lines[2].starts_with("4,6,mobile,PHONE_FORMAT,"), "{rejects}");
        assert!(lines[3].starts_with("5,4,gender,RESIDENT_ID_MISMATCH,"), "{rejects}");
        assert_eq!(lines.len(), 4);
        // No clear personal data in the rejects file.
        assert!(!rejects.contains("12812345678"), "{rejects}");
        assert_eq!(stats(db), before);
    }

    /// Payments for an unknown account and with three decimals are refused; `--partial`
    /// stores the good row and exits 3.
    fn unknown_accounts_are_refused_and_partial_keeps_the_rest(db) {
        load_examples(db);
        let before = stats(db);
        let dir = tempfile::tempdir().unwrap();
        let file = copy_example("bad/payments.csv", dir.path());
        expect(db, &["import", "payments", file.to_str().unwrap()], 1);
        let rejects = std::fs::read_to_string(format!("{}.rejects.csv", file.display())).unwrap();
        assert!(rejects.contains("3,2,account_id,UNKNOWN_ACCOUNT,account A9999 has not been imported"), "{rejects}");
        assert!(rejects.contains("4,4,amount,AMOUNT_FORMAT,"), "{rejects}");
        assert_eq!(stats(db), before);
        let out = expect(db, &["import", "payments", file.to_str().unwrap(), "--partial", "--json"], 3);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["report"]["summary"]["rows_inserted"], 1);
        assert_eq!(report["report"]["summary"]["rows_rejected"], 2);
        assert_eq!(report["report"]["summary"]["rejects_by_code"]["UNKNOWN_ACCOUNT"], 1);
        assert_eq!(stats(db)["tables"]["payments"], 9);
    }

    /// `--check` validates everything, references included, and stores nothing.
    fn check_validates_without_storing(db) {
        expect(db, &["init"], 0);
        let before = stats(db);
        let customers = examples().join("customers.csv");
        let out = expect(db, &["import", "customers", customers.to_str().unwrap(), "--check"], 0);
        assert!(out.contains("checked 12 rows — 12 would be stored") && out.contains("nothing was stored"), "{out}");
        assert_eq!(stats(db), before);
        // Accounts of customers not stored yet are refused by the check too.
        let dir = tempfile::tempdir().unwrap();
        let accounts = copy_example("accounts.csv", dir.path());
        let out = expect(db, &["import", "accounts", accounts.to_str().unwrap(), "--check", "--json"], 1);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["report"]["summary"]["rejects_by_code"]["UNKNOWN_CUSTOMER"], 14);
        assert!(dir.path().join("accounts.csv.rejects.csv").exists());
        assert_eq!(stats(db), before);
    }

    /// GBK files (as Excel saves them on Chinese Windows) and UTF-8 with a BOM import alike.
    fn gbk_and_bom_files_import(db) {
        expect(db, &["init"], 0);
        let text = std::fs::read_to_string(examples().join("customers.csv")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (gbk, _, lossy) = encoding_rs::GBK.encode(&text);
        assert!(!lossy);
        let gbk_file = dir.path().join("gbk.csv");
        std::fs::write(&gbk_file, &gbk).unwrap();
        // Read as UTF-8, the GBK bytes are refused as an encoding error naming the option.
        let out = expect(db, &["import", "customers", gbk_file.to_str().unwrap()], 1);
        let rejects = std::fs::read_to_string(format!("{}.rejects.csv", gbk_file.display())).unwrap();
        assert!(rejects.contains("ENCODING") && rejects.contains("--encoding gbk"), "{out}{rejects}");
        expect(db, &["import", "customers", gbk_file.to_str().unwrap(), "--encoding", "gbk"], 0);
        let bom_file = dir.path().join("bom.csv");
        std::fs::write(&bom_file, [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()).unwrap();
        let out = expect(db, &["import", "customers", bom_file.to_str().unwrap(), "--json"], 0);
        assert!(out.contains("\"rows_updated\": 12"), "{out}");
        // The names read back the same from both files.
        let case = expect(db, &["import", "accounts", examples().join("accounts.csv").to_str().unwrap()], 0);
        assert!(case.contains("14 stored"), "{case}");
        let shown = expect(db, &["cases", "show", "CASE-C0003", "--reveal", "name", "--purpose", "test", "--json"], 0);
        assert!(shown.contains("李娜"), "{shown}");
    }

    /// A header that does not fit is a file error naming the column (exit 2), not a reject.
    fn bad_headers_name_the_column(db) {
        expect(db, &["init"], 0);
        let dir = tempfile::tempdir().unwrap();
        for (header, want) in [
            ("customer_id,nom,resident_id\n", ":1:2: unknown column \"nom\""),
            ("name,customer_id,resident_id\n", ":1:1: the first column must be \"customer_id\""),
            ("customer_id,name\n", "required column \"resident_id\" is missing"),
            ("customer_id,name,name,resident_id\n", ":1:3: column \"name\" appears twice"),
        ] {
            let file = dir.path().join("h.csv");
            std::fs::write(&file, header).unwrap();
            let out = daylight(db, &["import", "customers", file.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("error[IMPORT_HEADER]") && err.contains(want), "{header:?}: {err}");
        }
    }
}

#[test]
fn a_database_must_be_initialised_first() {
    let db = TestDb::sqlite();
    let out = daylight(&db, &["stats"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[DB_MISSING]") && err.contains("run `daylight init` first"), "{err}");
}

#[test]
fn every_command_has_help() {
    let db = TestDb::sqlite();
    for args in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["import", "--help"],
        vec!["ledger", "--help"],
        vec!["ledger", "verify", "--help"],
        vec!["ledger", "list", "--help"],
        vec!["stats", "--help"],
        vec!["cases", "list", "--help"],
        vec!["cases", "show", "--help"],
        vec!["config", "show", "--help"],
        vec!["config", "set-buckets", "--help"],
        vec!["demo", "--help"],
    ] {
        let out = expect(&db, &args, 0);
        assert!(out.contains("Usage: daylight"), "{args:?}: {out}");
    }
}
