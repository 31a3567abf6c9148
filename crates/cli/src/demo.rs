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
    let gated = gate_tour(&*store, actor).await?;
    let stats = store.stats().await?;
    let head = store.ledger_head().await?;
    store.close().await;
    if a.json {
        let hash: String = head.hash.iter().map(|b| format!("{b:02x}")).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "db": url.to_string(), "imports": reports, "stats": stats, "contacts": gated,
                "ledger_head": {"seq": head.seq, "hash": hash},
            }))?
        );
        return Ok(Outcome::Done);
    }
    println!("\nThe compliance gate (pack cn-default), one debtor's day, 2026-03-03 Asia/Shanghai:");
    for g in &gated {
        println!("  {}", g["line"].as_str().unwrap_or_default());
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
    println!("  {run} policy explain");
    println!(
        "  {run} contact record --case CASE-C0008 --channel call --agent collector:E001 --outcome no_answer --at 2026-03-04T09:00:00+08:00"
    );
    println!("  {run} model best-time --case CASE-C0008 --date 2026-03-04 --as-of 2026-03-04T00:00:00+08:00");
    println!(
        "  {run} plan --date 2026-03-05 --as-of 2026-03-04T16:00:00Z --out {}",
        dir.join("plan.csv").display()
    );
    println!("  {run} strategy default");
    println!("  {run} experiment size --sigma 0.18 --delta 0.05");
    println!("  {run} calendar cn --year 2026");
    println!("  sqlite3 {} \"UPDATE ledger SET actor = 'mallory' WHERE seq = 3\"", db.display());
    println!("  {run} ledger verify     # now names seq 3");
    Ok(Outcome::Done)
}

/// Contacts for CASE-C0008 on one day, each through the gate: three calls, a fourth the daily
/// cap stops, the emergency contact after three failures, a text after hours and a call on
/// a Spring Festival day off.
async fn gate_tour(store: &dyn daylight_store::Store, actor: &str) -> Result<Vec<serde_json::Value>> {
    use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome as Out};
    use daylight_domain::customer::Recipient;
    use daylight_domain::id::{CaseId, ContactId};

    let plan: [(&str, Channel, Recipient, &str, Agent, Out); 7] = [
        (
            "2026-03-03T09:05:00+08:00",
            Channel::Call,
            Recipient::Debtor,
            "C0008:mobile",
            Agent::Collector("E001".into()),
            Out::NoAnswer,
        ),
        (
            "2026-03-03T11:40:00+08:00",
            Channel::RobotCall,
            Recipient::Debtor,
            "C0008:mobile",
            Agent::Robot("R7".into()),
            Out::PoweredOff,
        ),
        (
            "2026-03-03T14:10:00+08:00",
            Channel::Call,
            Recipient::Debtor,
            "C0008:mobile",
            Agent::Agency { agency: "ACME".into(), collector: "A12".into() },
            Out::NoAnswer,
        ),
        (
            "2026-03-03T16:00:00+08:00",
            Channel::Call,
            Recipient::Debtor,
            "C0008:mobile",
            Agent::Collector("E001".into()),
            Out::Conversation,
        ),
        (
            "2026-03-03T16:05:00+08:00",
            Channel::Call,
            Recipient::ThirdParty,
            "P0008-E1",
            Agent::Collector("E001".into()),
            Out::ThirdPartyAnswered,
        ),
        (
            "2026-03-03T20:30:00+08:00",
            Channel::Sms,
            Recipient::Debtor,
            "C0008:mobile",
            Agent::Robot("sms".into()),
            Out::Delivered,
        ),
        (
            "2026-02-17T10:00:00+08:00",
            Channel::Call,
            Recipient::Debtor,
            "C0008:mobile",
            Agent::Collector("E001".into()),
            Out::NoAnswer,
        ),
    ];
    let mut out = Vec::new();
    for (at, channel, recipient, point, agent, outcome) in plan {
        let attempt = Attempt {
            case: CaseId::parse("CASE-C0008")?,
            account: None,
            at: at.parse()?,
            channel,
            recipient,
            contact_point: Some(ContactId::parse(point)?),
            agent,
            outcome,
            duration_secs: 0,
            note: None,
        };
        let confirmed = recipient == Recipient::ThirdParty;
        let g = store.record_attempt(&attempt, confirmed, actor, now()).await?;
        let zone = jiff::tz::TimeZone::get(&g.time_zone)?;
        let verdict = if g.decision.allowed {
            format!("allowed, recorded as attempt {}", g.id.unwrap_or_default())
        } else {
            let rules: Vec<&str> = g.decision.violations.iter().map(|r| r.code()).collect();
            let next = g
                .decision
                .next_allowed_at
                .map(|t| daylight_compliance::wire::local_rfc3339(t, &zone))
                .unwrap_or_else(|| "never".into());
            format!("DENIED {} (next allowed {next})", rules.join(", "))
        };
        let line = format!(
            "{} {:<10} {:<11} {verdict}",
            &at[..16].replace('T', " "),
            channel.as_str(),
            recipient.as_str()
        );
        out.push(json!({"at": at, "channel": channel, "recipient": recipient, "allowed": g.decision.allowed, "attempt": g.id, "line": line}));
    }
    Ok(out)
}
