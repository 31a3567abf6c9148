//! One function per command. Each opens the store, does its work through the storage port, and
//! prints a table (or JSON with `--json`). Personal data prints masked unless `--reveal`ed.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, Result};
use daylight_domain::id::CaseId;
use daylight_import::{ImportOptions, ImportReport, import_file};
use daylight_store::model::{CaseDetail, CaseFilter, PiiField};
use daylight_store::{CaseStore, DbUrl, Store, verify_ledger};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::args::{
    CaseListArgs, CaseShowArgs, CasesCommand, ConfigCommand, ImportArgs, LedgerCommand, VerifyArgs,
};
use crate::output::{Table, amount};
use crate::{Outcome, now, open, say};

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `daylight keys`: the data keys' status, a rotation, a new master key.
pub async fn keys(url: &DbUrl, actor: &str, c: crate::args::KeysCommand) -> Result<Outcome> {
    use crate::args::KeysCommand;
    let store = open(url, false).await?;
    let result: Result<()> = async {
        match c {
            KeysCommand::Status(a) => {
                let s = store.key_status().await?;
                if a.json {
                    print_json(&s)?;
                } else {
                    println!("master key   {}", s.master);
                    println!("active key   {}", s.active);
                    for (id, n) in &s.keys {
                        println!("data key {id:>3}  seals {n} values");
                    }
                    println!("in clear     {}", s.clear);
                }
            }
            KeysCommand::Rotate(a) => {
                let grace = Duration::from_secs(a.grace);
                let id = store.stage_data_key(actor, now()).await?;
                eprintln!("Added data key {id}; waiting {}s for running processes to load it.", a.grace);
                tokio::time::sleep(grace).await;
                store.activate_data_key(id, actor, now()).await?;
                eprintln!("Data key {id} is active; waiting {}s before re-sealing.", a.grace);
                tokio::time::sleep(grace).await;
                let done = store.reseal(actor, now()).await?;
                if a.json {
                    print_json(&json!({"active": id, "resealed": done}))?;
                } else {
                    println!("Data key {id} is active; re-sealed {} values in {} rows.", done.values, done.rows);
                }
            }
            KeysCommand::Rewrap(a) => {
                let to = daylight_store::keys::FileMaster::load_or_create(&a.new_key_file)?;
                let n = store.rewrap_keys(&to, actor, now()).await?;
                if a.json {
                    print_json(&json!({"rewrapped": n, "master": daylight_store::keys::MasterKey::id(&to)}))?;
                } else {
                    println!(
                        "Rewrapped {n} keys with {} ({}); serve with --key-file {} (or move it where the old file was).",
                        daylight_store::keys::MasterKey::id(&to),
                        a.new_key_file.display(),
                        a.new_key_file.display()
                    );
                }
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result.map(|()| Outcome::Done)
}

pub async fn init(url: &DbUrl, actor: &str, a: &crate::args::InitArgs, json: bool) -> Result<Outcome> {
    let store = open(url, true).await?;
    let report = store.migrate(actor, now()).await.with_context(|| format!("initialising {url}"));
    let marked = match (&report, a.purpose.as_deref()) {
        (Ok(_), Some(p)) => store.set_purpose(p, actor, now()).await.map_err(anyhow::Error::from),
        _ => Ok(()),
    };
    // Values an earlier version stored in clear are sealed now (and blind-indexed).
    let sealed = match &report {
        Ok(_) => store.reseal(actor, now()).await.map_err(anyhow::Error::from),
        Err(_) => Ok(daylight_store::model::Resealed::default()),
    };
    let granted = match (&report, a.app_role.as_deref()) {
        (Ok(_), Some(role)) => store.grant_app_role(role).await.map_err(anyhow::Error::from),
        _ => Ok(()),
    };
    store.close().await;
    let report = report?;
    marked?;
    granted?;
    let sealed = sealed?;
    if sealed.values > 0 {
        eprintln!("Sealed {} personal values stored in clear by an earlier version.", sealed.values);
    }
    if let Some(role) = &a.app_role {
        eprintln!(
            "Role {role} may read and write every table but only read and append the ledger; give it a password \
             (ALTER ROLE {role} PASSWORD '…') and serve with postgres://{role}@…"
        );
    }
    if json {
        print_json(&json!({"db": url.to_string(), "report": report}))?;
    } else if report.created {
        println!("{}", say::f("init.created", &[&url, &report.to]));
    } else if report.to > report.from {
        println!("{}", say::f("init.upgraded", &[&url, &report.from, &report.to]));
    } else {
        println!("{}", say::f("init.current", &[&url, &report.to]));
    }
    Ok(Outcome::Done)
}

pub async fn import(url: &DbUrl, actor: &str, a: &ImportArgs) -> Result<Outcome> {
    let store = open(url, false).await?;
    let opts = ImportOptions {
        kind: a.kind,
        path: a.file.clone(),
        encoding: a.encoding,
        partial: a.partial,
        check: a.check,
        actor: actor.to_owned(),
        at: now(),
        time_zone: a.time_zone.clone(),
        chunk_rows: daylight_import::DEFAULT_CHUNK_ROWS,
    };
    let bar = if std::io::stderr().is_terminal() && !a.json {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("importing {}", a.kind));
        Some(bar)
    } else {
        None
    };
    let progress = |read: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(read);
        }
    };
    let started = stopwatch();
    let report = import_file(&*store, &opts, &progress).await;
    let secs = started.elapsed().as_secs_f64();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    store.close().await;
    let report = report?;
    let outcome = match (report.stored, report.summary.rows_rejected) {
        (_, 0) if a.check => Outcome::Done,
        (false, _) => Outcome::Refused,
        (true, 0) => Outcome::Done,
        (true, _) => Outcome::Partial,
    };
    if a.json {
        let rate = report.summary.rows_total as f64 / secs.max(1e-9);
        print_json(&json!({"report": report, "seconds": secs, "rows_per_second": rate.round()}))?;
    } else {
        print_import(&report, secs, a.check)?;
    }
    Ok(outcome)
}

pub(crate) fn print_import(r: &ImportReport, secs: f64, check: bool) -> Result<()> {
    let s = &r.summary;
    let rate = s.rows_total as f64 / secs.max(1e-9);
    let kept = s.rows_inserted + s.rows_updated;
    let (secs, rate) = (format!("{secs:.2}"), format!("{rate:.0}"));
    if check {
        println!(
            "{}",
            say::f(
                "import.checked",
                &[
                    &r.file,
                    &s.rows_total,
                    &kept,
                    &s.rows_inserted,
                    &s.rows_updated,
                    &s.rows_rejected,
                    &secs,
                    &rate
                ]
            )
        );
    } else if r.stored {
        let receipt = r.receipt.as_ref().context("a stored import has a receipt")?;
        println!(
            "{}",
            say::f(
                "import.stored",
                &[
                    &r.file,
                    &s.rows_total,
                    &kept,
                    &s.rows_inserted,
                    &s.rows_updated,
                    &s.rows_rejected,
                    &receipt.batch_id,
                    &receipt.ledger_seq,
                    &secs,
                    &rate
                ]
            )
        );
        if receipt.bucket_moves > 0 || receipt.cases_touched > 0 {
            println!("{}", say::f("import.moves", &[&receipt.bucket_moves, &receipt.cases_touched]));
        }
    } else {
        println!("{}", say::f("import.refused", &[&r.file, &s.rows_rejected, &s.rows_total]));
    }
    if let Some(path) = &r.rejects_file {
        println!("{}", say::f("import.rejects", &[&path.display()]));
        let mut reader =
            csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
        for (i, rec) in reader.records().enumerate() {
            let rec = rec?;
            if i == 10 {
                println!("{}", say::t("import.more_rejects"));
                break;
            }
            println!("{}", say::f("import.reject_line", &[&&rec[0], &&rec[1], &&rec[2], &&rec[3], &&rec[4]]));
        }
    }
    Ok(())
}

/// Elapsed time for reports, the one other clock reading.
#[allow(clippy::disallowed_methods)]
pub(crate) fn stopwatch() -> std::time::Instant {
    std::time::Instant::now()
}

pub async fn ledger(url: &DbUrl, command: LedgerCommand) -> Result<Outcome> {
    match command {
        LedgerCommand::Verify(a) => verify(url, a).await,
        LedgerCommand::List(a) => {
            let store = open(url, false).await?;
            let rows = store.ledger_rows(a.after, a.limit).await?;
            store.close().await;
            if a.json {
                for r in &rows {
                    println!("{}", serde_json::to_string(r)?);
                }
            } else {
                let mut t = Table::new(&[">seq", "at", "actor", "kind", "subject", "hash"]);
                for r in &rows {
                    t.row(vec![
                        r.seq.to_string(),
                        r.at.clone(),
                        r.actor.clone(),
                        r.kind.clone(),
                        r.subject.clone(),
                        r.hash[..16].to_owned(),
                    ]);
                }
                print!("{}", t.render());
            }
            Ok(Outcome::Done)
        }
    }
}

async fn verify(url: &DbUrl, a: VerifyArgs) -> Result<Outcome> {
    let store = open(url, false).await?;
    let spinner = (std::io::stderr().is_terminal() && !a.json).then(|| {
        let s = ProgressBar::new_spinner();
        s.enable_steady_tick(Duration::from_millis(120));
        s
    });
    let verdict = verify_ledger(&*store, a.checkpoints, |seq| {
        if let Some(s) = &spinner {
            s.set_message(format!("verified {seq} events"));
        }
    })
    .await;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    store.close().await;
    match verdict? {
        Ok(head) => {
            let hash = hex_of(&head.hash);
            if a.json {
                print_json(
                    &json!({"ok": true, "events": head.seq, "head": {"seq": head.seq, "hash": hash}}),
                )?;
            } else {
                println!("{}", say::f("ledger.intact", &[&head.seq]));
                println!("{}", say::f("ledger.head", &[&head.seq, &hash]));
            }
            Ok(Outcome::Done)
        }
        Err(b) => {
            if a.json {
                print_json(
                    &json!({"ok": false, "seq": b.seq, "code": b.problem.code(), "message": b.to_string()}),
                )?;
            } else {
                eprintln!("{}", say::f("ledger.broken", &[&b.seq, &b]));
            }
            Ok(Outcome::Refused)
        }
    }
}

fn hex_of(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn stats(url: &DbUrl, json: bool) -> Result<Outcome> {
    let store = open(url, false).await?;
    let stats = store.stats().await?;
    store.close().await;
    if json {
        let tables: serde_json::Map<String, serde_json::Value> =
            stats.tables.iter().map(|c| (c.table.to_owned(), c.rows.into())).collect();
        print_json(&json!({"tables": tables, "buckets": stats.buckets, "cases": stats.cases}))?;
        return Ok(Outcome::Done);
    }
    let mut t = Table::new(&say::cols(&["table", ">rows"]));
    for c in &stats.tables {
        t.row(vec![say::table(c.table), c.rows.to_string()]);
    }
    print!("{}", t.render());
    println!();
    let mut t = Table::new(&say::cols(&["bucket", "currency", ">accounts", ">balance", ">overdue"]));
    for b in &stats.buckets {
        let d = b.currency.minor_digits();
        t.row(vec![
            b.bucket.to_string(),
            b.currency.to_string(),
            b.accounts.to_string(),
            amount(b.balance_minor, d),
            amount(b.overdue_minor, d),
        ]);
    }
    print!("{}", t.render());
    println!();
    let mut t = Table::new(&say::cols(&["case_bucket", "status", ">cases"]));
    for c in &stats.cases {
        t.row(vec![c.bucket.to_string(), say::word(c.status.as_str()), c.cases.to_string()]);
    }
    print!("{}", t.render());
    Ok(Outcome::Done)
}

pub async fn cases(url: &DbUrl, actor: &str, command: CasesCommand) -> Result<Outcome> {
    let store = open(url, false).await?;
    let result = match command {
        CasesCommand::List(a) => list_cases(&*store, &a).await,
        CasesCommand::Show(a) => show_case(&*store, actor, &a).await,
        CasesCommand::Assign(a) => crate::serve::assign_case(&*store, actor, &a).await,
    };
    store.close().await;
    result.map(|()| Outcome::Done)
}

async fn list_cases(store: &dyn CaseStore, a: &CaseListArgs) -> Result<()> {
    let filter = CaseFilter {
        status: a.status,
        bucket: a.bucket,
        collector: a.collector.clone(),
        limit: a.limit,
        offset: a.offset,
        search: a.search.clone(),
        ..CaseFilter::default()
    };
    let list = store.list_cases(&filter).await?;
    let overdue = |m: &[daylight_domain::Money]| {
        m.iter()
            .map(|m| format!("{} {}", amount(m.minor, m.currency.minor_digits()), m.currency))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    if a.json {
        let rows: Vec<_> = list
            .iter()
            .map(|s| {
                json!({
                    "case": s.case.id.as_str(), "customer": s.case.customer.as_str(),
                    "name": s.customer_name.masked(), "status": s.case.status, "bucket": s.case.bucket,
                    "max_dpd": s.case.max_dpd, "accounts": s.accounts,
                    "overdue": s.overdue.iter().map(|m| json!({"amount": m.decimal(), "currency": m.currency})).collect::<Vec<_>>(),
                    "team": s.case.team, "collector": s.case.collector, "agency": s.case.agency,
                })
            })
            .collect();
        return print_json(&rows);
    }
    let mut t = Table::new(&say::cols(&[
        "case",
        "debtor",
        "status",
        "bucket",
        ">dpd",
        ">accounts",
        ">overdue",
        "collector",
    ]));
    for s in &list {
        t.row(vec![
            s.case.id.to_string(),
            s.customer_name.masked(),
            say::word(s.case.status.as_str()),
            s.case.bucket.to_string(),
            s.case.max_dpd.to_string(),
            s.accounts.to_string(),
            overdue(&s.overdue),
            s.case.collector.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

async fn show_case(store: &dyn Store, actor: &str, a: &CaseShowArgs) -> Result<()> {
    let id = CaseId::parse(&a.case).map_err(|e| anyhow::anyhow!("case {:?}: {}", a.case, e.message))?;
    let d = store.case_detail(&id).await?;
    let mut revealed = Vec::new();
    if !a.reveal.is_empty() {
        let purpose = a.purpose.as_deref().unwrap_or_default();
        for f in &a.reveal {
            let field = PiiField::parse(f).map_err(|e| anyhow::anyhow!("--reveal {f}: {}", e.message))?;
            let value = store.reveal(&d.customer.id, &field, purpose, actor, now()).await?;
            revealed.push((field.label(), value));
        }
    }
    if a.json {
        return print_json(&case_json(&d, &revealed));
    }
    print_case(&d, &revealed);
    Ok(())
}

fn case_json(d: &CaseDetail, revealed: &[(String, String)]) -> serde_json::Value {
    let c = &d.customer;
    json!({
        "case": {"id": d.case.id.as_str(), "status": d.case.status, "bucket": d.case.bucket, "max_dpd": d.case.max_dpd,
                 "team": d.case.team, "collector": d.case.collector, "agency": d.case.agency},
        "customer": {"id": c.id.as_str(), "name": c.name.masked(), "resident_id": c.resident_id.masked(),
                     "gender": c.gender, "birth_year": c.birth_date.year(), "region": c.region, "time_zone": c.time_zone,
                     "address": c.address.as_ref().map(|a| a.masked())},
        "revealed": revealed.iter().map(|(k, v)| json!({"field": k, "value": v})).collect::<Vec<_>>(),
        "contacts": d.contacts.iter().map(|p| json!({"id": p.id.as_str(), "role": p.role, "kind": p.value.kind(),
            "value": p.value.masked(), "name": p.name.as_ref().map(|n| n.masked()), "status": p.status})).collect::<Vec<_>>(),
        "accounts": d.accounts.iter().map(|v| {
            let a = &v.account;
            json!({"id": a.id.as_str(), "card": a.pan.as_str(), "currency": a.currency, "bucket": v.bucket,
                   "days_past_due": a.days_past_due, "balance": a.balance.decimal(),
                   "overdue": {"principal": a.overdue.principal.decimal(), "interest": a.overdue.interest.decimal(),
                               "fees": a.overdue.fees.decimal(), "late_fees": a.overdue.late_fees.decimal()}})
        }).collect::<Vec<_>>(),
        "attempts": d.attempts.len(), "notes": d.notes.len(), "promises": d.promises.len(),
        "arrangements": d.arrangements.len(), "waivers": d.waivers.len(),
        "bucket_moves": d.bucket_moves.iter().map(|m| json!({"account": m.account.as_str(), "at": m.at.to_string(),
            "from": m.from, "to": m.to, "dpd": m.dpd})).collect::<Vec<_>>(),
    })
}

fn print_case(d: &CaseDetail, revealed: &[(String, String)]) {
    let c = &d.customer;
    let status = say::word(d.case.status.as_str());
    println!("{}", say::f("case.head", &[&d.case.id, &status, &d.case.bucket, &d.case.max_dpd]));
    let region = c.region.as_deref().unwrap_or("-");
    println!(
        "{}",
        say::f("case.debtor", &[&c.name, &c.id, &c.resident_id, &c.birth_date.year(), &region, &c.time_zone])
    );
    for (field, value) in revealed {
        println!("{}", say::f("case.revealed", &[field, value]));
    }
    println!();
    let mut t = Table::new(&say::cols(&["contact", "role", "kind", "value", "name", "status"]));
    for p in &d.contacts {
        t.row(vec![
            p.id.to_string(),
            say::word(p.role.as_str()),
            say::word(p.value.kind().as_str()),
            p.value.masked(),
            p.name.as_ref().map_or("-".into(), |n| n.masked()),
            say::word(p.status.as_str()),
        ]);
    }
    print!("{}", t.render());
    println!();
    let mut t = Table::new(&say::cols(&[
        "account",
        "card",
        "bucket",
        ">dpd",
        ">balance",
        ">principal",
        ">interest",
        ">fees",
        ">late_fees",
    ]));
    for v in &d.accounts {
        let a = &v.account;
        let m = |x: daylight_domain::Money| amount(x.minor, a.currency.minor_digits());
        t.row(vec![
            a.id.to_string(),
            a.pan.to_string(),
            v.bucket.to_string(),
            a.days_past_due.to_string(),
            m(a.balance),
            m(a.overdue.principal),
            m(a.overdue.interest),
            m(a.overdue.fees),
            m(a.overdue.late_fees),
        ]);
    }
    print!("{}", t.render());
    if !d.bucket_moves.is_empty() {
        println!();
        let mut t = Table::new(&say::cols(&["bucket_move", "account", "from", "to", ">dpd"]));
        for m in &d.bucket_moves {
            t.row(vec![
                m.at.to_string(),
                m.account.to_string(),
                m.from.to_string(),
                m.to.to_string(),
                m.dpd.to_string(),
            ]);
        }
        print!("{}", t.render());
    }
    println!();
    println!(
        "{}",
        say::f(
            "case.counts",
            &[
                &d.attempts.len(),
                &d.notes.len(),
                &d.promises.len(),
                &d.arrangements.len(),
                &d.waivers.len(),
                &d.payments.len()
            ]
        )
    );
}

pub async fn config(url: &DbUrl, actor: &str, command: ConfigCommand) -> Result<Outcome> {
    let store = open(url, false).await?;
    let result = match command {
        ConfigCommand::Show(a) => {
            let entries = store.config().await?;
            if a.json {
                print_json(&entries)
            } else {
                let mut t = Table::new(&say::cols(&["key", "value", "updated", "by"]));
                for e in &entries {
                    // The pack in force is stored whole; `policy show` prints it.
                    let value = if e.key == "policy.pack" {
                        match daylight_compliance::Pack::from_toml(&e.value, "policy.pack") {
                            Ok(p) => format!("{} (see `daylight policy show`)", p.name),
                            Err(err) => format!("unusable: {err}"),
                        }
                    } else {
                        e.value.clone()
                    };
                    t.row(vec![e.key.clone(), value, e.updated_at.to_string(), e.updated_by.clone()]);
                }
                print!("{}", t.render());
                Ok(())
            }
        }
        ConfigCommand::SetBuckets(a) => {
            let r = store.set_bucket_scheme(a.scheme, actor, now()).await?;
            if a.json {
                print_json(&json!({"buckets": a.scheme.to_string(), "result": r}))
            } else {
                println!(
                    "bucket scheme is now {}: {} accounts and {} cases moved bucket (moves recorded)",
                    a.scheme, r.accounts_moved, r.cases_updated
                );
                Ok(())
            }
        }
    };
    store.close().await;
    result.map(|()| Outcome::Done)
}
