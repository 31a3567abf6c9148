//! Personal data at rest, as someone with the database's own shell sees it: `sqlite3` or
//! `pg_dump` show no personal value in clear; search by a full mobile still finds the case; a
//! rotation re-seals everything; another master key opens nothing.

use std::process::Command;

use crate::support::*;

/// Personal values of `examples/import`: names, resident IDs, mobiles, addresses, employers.
const CLEAR: &[&str] =
    &["张伟", "王芳", "110105198503121015", "13812345671", "13910010037", "张建国", "建国路", "某科技"];

/// The whole database as text, through the backend's own tool.
fn dump(db: &TestDb) -> String {
    let out = match db.url().sqlite_path() {
        Some(path) => Command::new("sqlite3").arg(path).arg(".dump").output(),
        None => Command::new("/usr/lib/postgresql/15/bin/pg_dump")
            .arg("--data-only")
            .arg(db.url().expose())
            .output(),
    };
    let out = out.expect("sqlite3 and pg_dump: CI installs them");
    assert!(out.status.success(), "dump: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

crate::both! {
    fn the_database_shows_no_personal_value_in_clear_and_search_finds_a_case_by_mobile(db) {
        load_examples(db);
        let text = dump(db);
        assert!(text.contains("dl1:1:"), "sealed values are there");
        for clear in CLEAR {
            assert!(!text.contains(clear), "{clear} in clear in the dump");
        }
        // The command line reads and finds as before.
        let found = expect(db, &["cases", "list", "--search", "13528765433", "--json"], 0);
        let found: serde_json::Value = serde_json::from_str(&found).unwrap();
        let ids: Vec<&str> = found.as_array().unwrap().iter().map(|c| c["case"].as_str().unwrap()).collect();
        assert_eq!(ids, ["CASE-C0003"], "{found}");
        assert_eq!(found[0]["name"], "李*", "masked in the list");
        let by_contact = expect(db, &["cases", "list", "--search", "13910030111", "--json"], 0);
        assert!(by_contact.contains("CASE-C0003"), "an emergency contact's number finds the case");
        assert_eq!(expect(db, &["cases", "list", "--search", "1352876543", "--json"], 0).trim(), "[]", "exact only");
        let status: serde_json::Value = serde_json::from_str(&expect(db, &["keys", "status", "--json"], 0)).unwrap();
        assert_eq!((status["active"].as_i64(), status["clear"].as_u64()), (Some(1), Some(0)), "{status}");

        // A rotation re-seals every value with key 2; everything still reads.
        let rotated: serde_json::Value =
            serde_json::from_str(&expect(db, &["keys", "rotate", "--grace", "0", "--json"], 0)).unwrap();
        assert_eq!(rotated["active"], 2, "{rotated}");
        assert!(rotated["resealed"]["values"].as_u64().unwrap() > 100, "{rotated}");
        let text = dump(db);
        assert!(!text.contains("dl1:1:") && text.contains("dl1:2:"), "nothing left under key 1");
        assert!(expect(db, &["cases", "show", "CASE-C0003", "--json"], 0).contains("135****5433"));
        assert!(expect(db, &["cases", "list", "--search", "13528765433"], 0).contains("CASE-C0003"));

        // Another master key file opens nothing and says which key it needs.
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.key");
        std::fs::write(&other, "ab".repeat(32)).unwrap();
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let out = daylight(db, &["--key-file", other.to_str().unwrap(), "cases", "show", "CASE-C0003"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.code() == Some(2) && err.contains("error[KEY]") && err.contains("wrapped by master key file:"), "{err}");

        // A new master key: the data keys are rewrapped and read with it (and no longer
        // with the old one).
        let new = dir.path().join("new.key");
        expect(db, &["keys", "rewrap", "--new-key-file", new.to_str().unwrap()], 0);
        assert!(expect(db, &["--key-file", new.to_str().unwrap(), "cases", "show", "CASE-C0003"], 0).contains("135****5433"));
        let out = daylight(db, &["cases", "show", "CASE-C0003"]);
        assert_eq!(out.status.code(), Some(2), "the old master key no longer opens the data keys");
    }
}
