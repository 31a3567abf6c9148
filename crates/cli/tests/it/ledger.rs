use std::process::Command;

use crate::support::*;

/// The sqlite3 shell, as an auditor or an attacker would use it. CI installs it; elsewhere the
/// test says so and stops.
fn sqlite3(db: &TestDb, sql: &str) -> bool {
    let path = db.url().sqlite_path().unwrap();
    match Command::new("sqlite3").arg(&path).arg(sql).output() {
        Ok(out) => {
            assert!(out.status.success(), "sqlite3: {}", String::from_utf8_lossy(&out.stderr));
            true
        }
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!("CI=true and no sqlite3 shell: {e}"),
        Err(e) => {
            eprintln!("note: skipping: no sqlite3 shell ({e})");
            false
        }
    }
}

#[test]
fn changing_one_byte_with_sqlite3_is_named_by_verify() {
    let db = TestDb::sqlite();
    load_examples(&db);
    let intact = expect(&db, &["ledger", "verify"], 0);
    assert!(intact.contains("ledger intact: 6 events"), "{intact}");
    let head = intact.lines().find_map(|l| l.strip_prefix("head ")).unwrap().to_owned();
    assert_eq!(head.len(), "6:".len() + 64);
    // One byte of row 4's payload: the digit of a row count.
    if !sqlite3(
        &db,
        "UPDATE ledger SET payload = replace(payload, '\"total\":14', '\"total\":15') WHERE seq = 4",
    ) {
        return;
    }
    let out = daylight(&db, &["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ledger BROKEN at seq 4") && err.contains("LEDGER_HASH"), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&expect(&db, &["ledger", "verify", "--json"], 1)).unwrap();
    assert_eq!(
        (json["ok"].as_bool(), json["seq"].as_i64(), json["code"].as_str()),
        (Some(false), Some(4), Some("LEDGER_HASH"))
    );
}

#[test]
fn deleting_the_last_row_is_caught_and_checkpoints_hold() {
    let db = TestDb::sqlite();
    load_examples(&db);
    let head = expect(&db, &["ledger", "verify", "--json"], 0);
    let head: serde_json::Value = serde_json::from_str(&head).unwrap();
    let checkpoint = format!("{}:{}", head["head"]["seq"], head["head"]["hash"].as_str().unwrap());
    expect(&db, &["ledger", "verify", "--checkpoint", &checkpoint], 0);
    let forged = format!("3:{}", "ab".repeat(32));
    let out = daylight(&db, &["ledger", "verify", "--checkpoint", &forged]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LEDGER_CHECKPOINT"));
    if !sqlite3(&db, "DELETE FROM ledger WHERE seq = 6") {
        return;
    }
    let out = daylight(&db, &["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("seq 6") && err.contains("LEDGER_HEAD"), "{err}");
}

crate::both! {
    fn ledger_list_shows_events_in_order(db) {
        load_examples(db);
        let out = expect(db, &["ledger", "list", "--json"], 0);
        let rows: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["store.initialised", "import.batch", "import.batch", "import.batch", "import.batch", "import.batch"]);
        assert!(rows.iter().all(|r| r["actor"] == "tester"));
        let table = expect(db, &["ledger", "list", "--after", "4", "--limit", "1"], 0);
        assert_eq!(table.lines().count(), 2, "{table}");
        assert!(table.contains("import.batch") && table.lines().nth(1).unwrap().trim_start().starts_with('5'));
    }
}

/// The Python verifier in docs/ledger.md agrees with `daylight ledger verify`.
#[test]
fn the_documented_python_verifier_agrees() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ledger.md")).unwrap();
    let script = docs.split("```python\n").nth(1).unwrap().split("```").next().unwrap();
    let db = TestDb::sqlite();
    load_examples(&db);
    let head = expect(&db, &["ledger", "verify"], 0);
    let head = head.lines().find_map(|l| l.strip_prefix("head ")).unwrap();
    let path = db.url().sqlite_path().unwrap();
    let out = match Command::new("python3").arg("-c").arg(script).arg(&path).output() {
        Ok(out) => out,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!("CI=true and no python3: {e}"),
        Err(e) => return eprintln!("note: skipping: no python3 ({e})"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim(),
        format!("intact: 6 events, head {head}"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
