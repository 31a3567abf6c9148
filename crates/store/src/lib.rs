//! Daylight's storage: the port the rest of the product talks to, and its two adapters.
//!
//! - [`port`]: the [`Store`] and [`ImportSession`] traits. Every state change appends its ledger
//!   event in the same transaction as the change.
//! - [`access`]: users, roles, sessions and the [`access::Scope`] a role gives over cases.
//! - [`desk`]: tasks, third-party confirmations, complaints and the team lead's figures.
//! - [`qc`]: calls' transcripts and QC findings, with the tags and reviews they cause.
//! - [`model`]: what crosses the port besides domain types (batches, views, statistics).
//! - [`settings`]: [`DbUrl`], chosen once from `--db` / `DAYLIGHT_DB`, printed redacted.
//! - [`error`]: [`StoreError`], with a stable code per variant.
//! - [`keys`]: personal data sealed at rest (data keys wrapped by a master key held outside
//!   the database) and the blind indexes exact search runs on.
//! - [`sqlite`] and [`postgres`]: the adapters. Both compile the same query text
//!   (`src/sql/*.rs`, `include!`d into each), so the SQL is written once and type-checked
//!   against both drivers; only connection setup, locking and a few dialect strings differ.
//! - `migrations/{sqlite,postgres}/`: append-only, commented schema per backend, embedded in
//!   the binary.
//!
//! The contract suite in `tests/it/` runs every test against both backends.

pub mod access;
pub mod desk;
pub mod error;
pub mod keys;
pub mod model;
pub mod port;
pub mod postgres;
pub mod qc;
pub mod settings;
pub mod sqlite;

mod bucket_sql;
mod plan_rows;
mod rows;
mod types;

pub use error::{Result, StoreError};
pub use port::{
    AccessStore, CallStore, CaseStore, ConfigStore, DeskStore, GateStore, ImportSession, ImportStore,
    KeyStore, LedgerStore, ModelStore, PlanStore, QcStore, Store, WRAP_UP_MINUTES,
};
pub use settings::{Backend, DEFAULT_DB_URL, DbUrl};

use daylight_ledger::{Break, Checkpoint, Link, Verifier};

/// Fails unless the schema is exactly what this build knows: a database that was never
/// initialised or is behind asks for `daylight init`; one that is ahead asks for an upgrade.
pub async fn require_current_schema(store: &dyn ConfigStore) -> Result<()> {
    let s = store.schema().await?;
    if s.applied < s.known {
        return Err(StoreError::SchemaBehind { have: s.applied, want: s.known });
    }
    if s.applied > s.known {
        return Err(StoreError::SchemaAhead { have: s.applied, want: s.known });
    }
    Ok(())
}

/// Rows read per page while verifying.
pub const VERIFY_PAGE: u32 = 10_000;

/// Recomputes the whole ledger chain. The outer `Result` is a storage failure; the inner one
/// is the verdict: the verified head, or the first break. `progress` is told the last seq
/// checked after each page.
pub async fn verify_ledger(
    store: &dyn LedgerStore,
    checkpoints: Vec<Checkpoint>,
    mut progress: impl FnMut(i64) + Send,
) -> Result<Result<Link, Break>> {
    // The head is read first and the walk stops there: events appended while the walk runs
    // lie beyond it and are left for the next verification, so a busy store is never reported
    // as broken.
    let recorded = store.ledger_head().await?;
    let mut verifier = Verifier::new(checkpoints);
    let mut after = 0;
    'pages: while after < recorded.seq {
        let rows = store.ledger_rows(after, VERIFY_PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            if row.seq > recorded.seq {
                break 'pages;
            }
            if let Err(b) = verifier.check(row) {
                return Ok(Err(b));
            }
        }
        progress(after.min(recorded.seq));
    }
    Ok(verifier.finish(Some(recorded)))
}
