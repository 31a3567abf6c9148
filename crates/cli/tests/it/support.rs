//! Running the binary against a fresh database of either backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use daylight_testdb::TestDb;

/// `examples/import` in the repository.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/import")
}

/// Runs `daylight --db URL ARGS…`.
pub fn daylight(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_daylight"))
        .arg("--db")
        .arg(db.url().expose())
        .args(args)
        .env("DAYLIGHT_ACTOR", "tester")
        .output()
        .expect("run daylight")
}

/// Runs and expects exit code `code`; returns stdout.
pub fn expect(db: &TestDb, args: &[&str], code: i32) -> String {
    let out = daylight(db, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "daylight {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    stdout
}

/// `stats --json` parsed.
pub fn stats(db: &TestDb) -> serde_json::Value {
    serde_json::from_str(&expect(db, &["stats", "--json"], 0)).expect("stats JSON")
}

/// Initialises and imports every example file.
pub fn load_examples(db: &TestDb) {
    expect(db, &["init"], 0);
    for kind in ["customers", "contacts", "accounts", "transactions", "payments"] {
        let file = examples().join(format!("{kind}.csv"));
        expect(db, &["import", kind, file.to_str().unwrap()], 0);
    }
}

/// Copies `name` from the examples into `dir`.
pub fn copy_example(name: &str, dir: &Path) -> PathBuf {
    let to = dir.join(name.replace('/', "_"));
    std::fs::copy(examples().join(name), &to).expect("copy example");
    to
}

/// Declares a test that runs on SQLite and on PostgreSQL: `fn name(db) { … }` with a sync body.
#[macro_export]
macro_rules! both {
    ($($(#[$meta:meta])* fn $name:ident($db:ident) $body:block)+) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($db: &$crate::support::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::support::TestDb::sqlite();
                tokio::task::block_in_place(|| body(&db));
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::support::TestDb::postgres().await else { return };
                tokio::task::block_in_place(|| body(&db));
                db.finish().await;
            }
        }
    )+};
}
