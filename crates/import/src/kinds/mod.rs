//! One module per kind of file: how a row becomes a record (`parse`, pure) and how a chunk of
//! records is checked against what is stored and written (`resolve`).

use std::collections::HashMap;

use daylight_store::ImportSession;
use daylight_store::StoreError;
use daylight_store::model::KeyTable;
use jiff::tz::TimeZone;

use crate::Reject;
use crate::schema::Schema;
use crate::source::{Fields, Layout};

pub(crate) mod accounts;
pub(crate) mod contacts;
pub(crate) mod customers;
pub(crate) mod money_rows;

/// What parsing needs besides the row.
pub(crate) struct Ctx {
    /// Zone of local times in the file (`--time-zone`).
    pub zone: TimeZone,
}

/// What resolving chunks found.
pub(crate) struct Outcome {
    schema: &'static Schema,
    position: Vec<Option<usize>>,
    pub rejects: Vec<Reject>,
    pub inserted: u64,
    pub updated: u64,
    /// Resident IDs seen so far in the file, with the customer and line that had them: two
    /// customers of one file may not share one.
    pub resident_ids: HashMap<String, (String, u64)>,
}

impl Outcome {
    pub fn new(layout: &Layout) -> Outcome {
        Outcome {
            schema: layout.schema,
            position: layout.position.clone(),
            rejects: Vec::new(),
            inserted: 0,
            updated: 0,
            resident_ids: HashMap::new(),
        }
    }

    /// Refuses the row on `line` for schema column `col`.
    pub fn reject(&mut self, line: u64, col: usize, code: &'static str, reason: String) {
        self.rejects.push(Reject {
            line,
            column: self.position[col].map_or(0, |p| p + 1),
            field: self.schema.columns[col].name.to_owned(),
            code,
            reason,
        });
    }

    /// Counts the rows with these keys as updates when `table` holds them and inserts when not.
    pub async fn count_in(
        &mut self,
        session: &mut dyn ImportSession,
        table: KeyTable,
        keys: &[&str],
    ) -> Result<(), StoreError> {
        let known = session.known(table, keys).await?;
        self.count(keys.iter().copied(), |k| known.contains(k));
        Ok(())
    }

    /// Counts rows whose key is `known` as updates and the rest as inserts.
    pub fn count<'a>(&mut self, keys: impl Iterator<Item = &'a str>, known: impl Fn(&str) -> bool) {
        for k in keys {
            if known(k) {
                self.updated += 1;
            } else {
                self.inserted += 1;
            }
        }
    }
}

/// Keeps the rows whose record is new or stays with its stored owner, refusing the others
/// (`OWNER_CHANGED` on column `col`: a contact point, transaction or payment cannot move to
/// another customer or account), and counts the kept rows as updates or inserts.
pub(crate) fn same_owner<R>(
    rows: Vec<(u64, R)>,
    stored: &HashMap<String, String>,
    out: &mut Outcome,
    col: usize,
    what: &str,
    parts: impl Fn(&R) -> (&str, &str),
) -> Vec<R> {
    let mut kept = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        let (key, owner) = parts(&r);
        match stored.get(key) {
            Some(was) if was != owner => {
                out.reject(
                    line,
                    col,
                    "OWNER_CHANGED",
                    format!("{what} {key} belongs to {was}; an import cannot move it"),
                );
            }
            Some(_) => {
                out.updated += 1;
                kept.push(r);
            }
            None => {
                out.inserted += 1;
                kept.push(r);
            }
        }
    }
    kept
}

/// A kind of import file.
pub(crate) trait Kind: 'static {
    /// The record a row becomes.
    type Record: Send + 'static;

    /// The record's external id (for duplicate detection).
    fn key(record: &Self::Record) -> &str;

    /// Reads one row; `None` when any field was refused (the refusals are in `f.rejects`).
    fn parse(f: &mut Fields<'_>, ctx: &Ctx) -> Option<Self::Record>;

    /// Checks a chunk of parsed rows (with their line numbers) against the store, refuses
    /// those that do not fit, and — when `write` — stores the rest.
    async fn resolve(
        session: &mut dyn ImportSession,
        rows: Vec<(u64, Self::Record)>,
        write: bool,
        out: &mut Outcome,
    ) -> Result<(), StoreError>;
}
