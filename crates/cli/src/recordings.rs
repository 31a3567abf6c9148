//! `daylight recordings …`: the retention purge of call recordings and the legal holds that stop
//! it. See docs/calls.md ("The vault").

use anyhow::{Context, Result, bail};
use daylight_domain::id::CaseId;
use daylight_store::{DbUrl, Store, StoreError};
use serde_json::json;

use crate::args::{PurgeArgs, RecordingsCommand};
use crate::output::Table;
use crate::{Outcome, now, open};

/// `daylight recordings …`.
pub async fn run(url: &DbUrl, actor: &str, c: RecordingsCommand) -> Result<Outcome> {
    let store = open(url, false).await?;
    match c {
        RecordingsCommand::Purge(a) => purge(&*store, actor, &a).await,
        RecordingsCommand::Hold(a) => {
            let case =
                CaseId::parse(&a.case).map_err(|e| anyhow::anyhow!("case {:?}: {}", a.case, e.message))?;
            store
                .set_legal_hold(&case, Some(&a.reason), actor, now())
                .await
                .with_context(|| format!("case {case}"))?;
            println!("{case}: under a legal hold; its recordings are kept until it is released");
            Ok(Outcome::Done)
        }
        RecordingsCommand::Release(a) => {
            let case =
                CaseId::parse(&a.case).map_err(|e| anyhow::anyhow!("case {:?}: {}", a.case, e.message))?;
            store.set_legal_hold(&case, None, actor, now()).await.with_context(|| format!("case {case}"))?;
            println!("{case}: legal hold lifted");
            Ok(Outcome::Done)
        }
        RecordingsCommand::Export(a) => {
            let mut ids = Vec::new();
            for c in &a.cases {
                let id = CaseId::parse(c).map_err(|e| anyhow::anyhow!("case {c:?}: {}", e.message))?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if !a.vault.is_dir() {
                bail!("--vault {}: not a folder", a.vault.display());
            }
            // Written beside the target and renamed: no half-written export is ever left.
            let tmp = a.out.with_extension("zip.partial");
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            if a.out.exists() {
                let _ = std::fs::remove_file(&tmp);
                bail!("--out {}: the file exists", a.out.display());
            }
            let made =
                daylight_server::vault_export::export(&*store, &ids, &a.vault, actor, now(), file).await;
            let manifest = match made {
                Ok(m) => m,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    bail!("{}: {}", e.code, e.message);
                }
            };
            std::fs::rename(&tmp, &a.out).with_context(|| format!("cannot write {}", a.out.display()))?;
            let purged = manifest.recordings.iter().filter(|r| r.purged_at.is_some()).count();
            println!(
                "{}: {} case(s), {} recording(s) ({} purged, listed by hash), manifest at ledger seq {}",
                a.out.display(),
                manifest.cases.len(),
                manifest.recordings.len() - purged,
                purged,
                manifest.ledger_seq
            );
            Ok(Outcome::Done)
        }
        RecordingsCommand::Holds(f) => {
            let holds = store.legal_holds().await?;
            if f.json {
                let v: Vec<_> = holds
                    .iter()
                    .map(|h| json!({"case": h.case.as_str(), "reason": h.reason, "held_by": h.held_by, "held_at": h.held_at.to_string()}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let mut t = Table::new(&["case", "held since", "by", "reason"]);
                for h in &holds {
                    t.row(vec![
                        h.case.to_string(),
                        h.held_at.to_string(),
                        h.held_by.clone(),
                        h.reason.clone(),
                    ]);
                }
                print!("{}", t.render());
            }
            Ok(Outcome::Done)
        }
    }
}

/// What became of one recording due for purge.
fn purged_word(r: &Result<(), String>) -> String {
    match r {
        Ok(()) => "purged".to_owned(),
        Err(e) => e.clone(),
    }
}

async fn purge(store: &dyn Store, actor: &str, a: &PurgeArgs) -> Result<Outcome> {
    let pack = store.policy_pack().await?;
    let Some(retention) = pack.recordings.clone() else {
        bail!(
            "the pack in force ({}) sets no [recordings] retain_years: nothing is purged without a retention period (docs/calls.md)",
            pack.name
        );
    };
    if !a.vault.is_dir() {
        bail!("--vault {}: not a folder", a.vault.display());
    }
    let at = a.at.unwrap_or_else(now);
    let zone = pack.default_time_zone.as_ref().map_or(jiff::tz::TimeZone::UTC, |(_, z)| z.clone());
    let cutoff = retention.cutoff(at, &zone);
    let due = store.recordings_due(cutoff).await?;
    let mut results = Vec::with_capacity(due.len());
    let mut failed = 0;
    for r in &due {
        let result = if a.dry_run {
            Err("due".to_owned())
        } else {
            match store.recording_purged(r.id, actor, at).await {
                // The row says purged first: a failed delete is reported and the file named.
                Ok(()) => match std::fs::remove_file(a.vault.join(&r.file.path)) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => {
                        failed += 1;
                        Err(format!("DELETE_FAILED: {}: {e}", r.file.path))
                    }
                },
                // Held since the list was read.
                Err(StoreError::Invalid(i)) if i.code == daylight_domain::Code::LegalHold => {
                    Err("LEGAL_HOLD".to_owned())
                }
                Err(e) => return Err(e.into()),
            }
        };
        results.push(result);
    }
    if a.json {
        let v: Vec<_> = due
            .iter()
            .zip(&results)
            .map(|(r, res)| {
                json!({"recording": r.id, "case": r.case.as_str(), "attempt": r.attempt, "recorded_at": r.recorded_at.to_string(),
                       "sha256": r.file.sha256, "path": r.file.path, "result": purged_word(res)})
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"retain_years": retention.retain_years, "cutoff": cutoff.to_string(), "recordings": v})
            )?
        );
    } else {
        let mut t = Table::new(&["recording", "case", "recorded", "sha256", "result"]);
        for (r, res) in due.iter().zip(&results) {
            t.row(vec![
                r.id.to_string(),
                r.case.to_string(),
                r.recorded_at.to_string(),
                r.file.sha256.chars().take(12).collect(),
                purged_word(res),
            ]);
        }
        print!("{}", t.render());
        println!(
            "{} recording(s) made, and last contacted, before {cutoff} ({} years: {})",
            due.len(),
            retention.retain_years,
            retention.citation
        );
    }
    Ok(if failed > 0 { Outcome::Refused } else { Outcome::Done })
}
