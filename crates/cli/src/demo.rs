//! `daylight demo`: a newcomer's first look. Sets up `./daylight-demo/` with a SQLite database,
//! imports the example portfolio shipped in the binary (the same files as
//! `examples/import/`), shows a file with errors being refused, and prints what is stored and
//! the ledger head. (The digital twin will grow this into a simulated portfolio.)

use std::path::Path;

use anyhow::{Context, Result};
use daylight_import::{Encoding, ImportOptions, import_file};
use daylight_store::DbUrl;
use daylight_store::model::ImportKind;
use serde_json::json;

use crate::args::{DemoArgs, LedgerCommand, VerifyArgs};
use crate::commands::{print_import, stopwatch};
use crate::{Outcome, commands, now, open};

/// The example files, in import order (customers before what refers to them).
const EXAMPLES: [(ImportKind, &str, &str); 5] = [
    (ImportKind::Customers, "customers.csv", include_str!("../../../examples/import/customers.csv")),
    (ImportKind::Contacts, "contacts.csv", include_str!("../../../examples/import/contacts.csv")),
    (ImportKind::Accounts, "accounts.csv", include_str!("../../../examples/import/accounts.csv")),
    (ImportKind::Transactions, "transactions.csv", include_str!("../../../examples/import/transactions.csv")),
    (ImportKind::Payments, "payments.csv", include_str!("../../../examples/import/payments.csv")),
];

/// A file with a bad ID checksum, a bad mobile and a wrong gender: refused whole.
const BAD_CUSTOMERS: &str = include_str!("../../../examples/import/bad/customers.csv");

pub async fn run(actor: &str, a: &DemoArgs) -> Result<Outcome> {
    let dir = &a.dir;
    let db = dir.join("daylight.db");
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| {
                    format!("removing the earlier demo database {}", Path::new(&p).display())
                });
            }
            _ => {}
        }
    }
    let files = dir.join("import");
    std::fs::create_dir_all(files.join("bad")).with_context(|| format!("creating {}", files.display()))?;
    for (_, name, text) in EXAMPLES {
        std::fs::write(files.join(name), text)?;
    }
    std::fs::write(files.join("bad/customers.csv"), BAD_CUSTOMERS)?;

    let url = DbUrl::parse(&format!("sqlite://{}", db.display()))?;
    let store = open(&url, true).await?;
    store.migrate(actor, now()).await?;
    if !a.json {
        println!("Daylight demo: {url}\n");
    }
    let mut reports = Vec::new();
    let plan = EXAMPLES
        .iter()
        .map(|(k, n, _)| (*k, files.join(n)))
        .chain([(ImportKind::Customers, files.join("bad/customers.csv"))]);
    for (kind, path) in plan {
        let opts = ImportOptions {
            kind,
            path,
            encoding: Encoding::Utf8,
            partial: false,
            check: false,
            actor: actor.to_owned(),
            at: now(),
            time_zone: daylight_domain::customer::DEFAULT_TIME_ZONE.to_owned(),
            chunk_rows: daylight_import::DEFAULT_CHUNK_ROWS,
        };
        let started = stopwatch();
        let report = import_file(&*store, &opts, &|_, _| {}).await?;
        if !a.json {
            print_import(&report, started.elapsed().as_secs_f64(), false)?;
        }
        reports.push(report);
    }
    let stats = store.stats().await?;
    let head = store.ledger_head().await?;
    store.close().await;
    if a.json {
        let hash: String = head.hash.iter().map(|b| format!("{b:02x}")).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "db": url.to_string(), "imports": reports, "stats": stats,
                "ledger_head": {"seq": head.seq, "hash": hash},
            }))?
        );
        return Ok(Outcome::Done);
    }
    println!();
    commands::stats(&url, false).await?;
    println!();
    commands::ledger(&url, LedgerCommand::Verify(VerifyArgs { checkpoints: Vec::new(), json: false }))
        .await?;
    // The binary as it was run (target/release/daylight after `cargo run`), so the hints work
    // whether or not it is installed.
    let me = std::env::args().next().unwrap_or_else(|| "daylight".into());
    let run = format!("{me} --db {url}");
    println!("\nNext:");
    println!("  {run} cases list");
    println!("  {run} cases show CASE-C0003");
    println!("  {run} cases show CASE-C0003 --reveal name,resident_id --purpose \"核实身份\"");
    println!("  {run} ledger list");
    println!("  sqlite3 {} \"UPDATE ledger SET actor = 'mallory' WHERE seq = 3\"", db.display());
    println!("  {run} ledger verify     # now names seq 3");
    Ok(Outcome::Done)
}
