//! A process killed in the middle of an import leaves the database as it was.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use daylight_domain::pii::resident_id_check_char;

use crate::support::*;

/// Rows in the file: enough that a debug build is still importing when it is killed.
const ROWS: u32 = 150_000;

fn big_customers(path: &std::path::Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "customer_id,name,resident_id,mobile").unwrap();
    for i in 0..ROWS {
        // Unique IDs: vary the birth date and sequence digits with i.
        let birth = 19_600_101 + (i / 1000) % 28 + ((i / 28_000) % 12) * 100;
        let first17 = format!("110105{birth}{:03}", i % 1000);
        let mut b = [0u8; 17];
        b.copy_from_slice(first17.as_bytes());
        writeln!(f, "K{i:07},王小明,{first17}{},1381234{:04}", resident_id_check_char(&b), i % 10_000)
            .unwrap();
    }
}

crate::both! {
    fn a_killed_import_leaves_nothing(db) {
        load_examples(db);
        let before = stats(db);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.csv");
        big_customers(&file);
        let mut child = Command::new(env!("CARGO_BIN_EXE_daylight"))
            .args(["--db", db.url().expose(), "import", "customers", file.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), None, "the import finished before it was killed: make the file bigger");
        assert_eq!(stats(db), before);
        expect(db, &["ledger", "verify"], 0);
        // The database is usable at once: no lock or half-written batch is left behind.
        expect(db, &["import", "customers", examples().join("customers.csv").to_str().unwrap()], 0);
        assert_eq!(stats(db)["tables"]["import_batches"], 6);
    }
}
