//! SQLite imports through rusqlite: one connection per import session, one `BEGIN IMMEDIATE`
//! transaction, cached single-row statements from `crate::rows`.
//!
//! Why not sqlx here: a million-row import binds twenty million values, and sqlx's SQLite
//! driver copies each into its own allocation and hands statements to a worker thread, which
//! halves the throughput (measured in `bench/import.sh`). rusqlite binds straight into the
//! statement on the calling thread. It links the same `libsqlite3-sys`, so there is one SQLite
//! in the binary, and the statements, column order and ledger logic are the ones PostgreSQL
//! uses. The calls block, so each runs inside `block_in_place`.
//!
//! Closing the connection without `COMMIT` rolls the transaction back: a dropped session, or a
//! killed process, leaves the database as it was.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use async_trait::async_trait;
use daylight_domain::account::{CardAccount, Payment, Transaction};
use daylight_domain::bucket::BucketScheme;
use daylight_domain::customer::{ContactPoint, Customer};
use daylight_ledger::{Event, Link, Row as LedgerRow, canonical_time, to_micros};
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::task::block_in_place;

use super::{BUSY_TIMEOUT, WRITER_CACHE_KIB};
use crate::bucket_sql::bucket_case;
use crate::error::{Result, StoreError};
use crate::model::{AccountState, BatchMeta, BatchReceipt, BatchSummary, KeyTable};
use crate::port::ImportSession;
use crate::rows::{self, Bulk, Value};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy(e.to_string())
            }
            Some(rusqlite::ErrorCode::CannotOpen) => {
                StoreError::Unavailable { url: "(the SQLite file)".into(), reason: e.to_string() }
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

/// Rows per insert statement: enough to spread each statement's fixed cost, few enough that
/// the statement text stays small (the widest row binds 19 values).
const ROWS_PER_STATEMENT: usize = 128;
/// Keys per lookup statement.
const KEYS_PER_LOOKUP: usize = 500;
/// Customers per case roll-up statement.
const CUSTOMERS_PER_ROLL_UP: usize = 1_000;

/// A value as SQLite stores it: times and dates in the text forms the sqlx side reads. The
/// session's own time (on every row it writes) is formatted once.
struct Sql<'a>(Value<'a>, &'a Now);

/// The session's time and its stored text.
struct Now {
    at: jiff::Timestamp,
    text: String,
}

impl ToSql for Sql<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match &self.0 {
            Value::Time(t) if *t == self.1.at => {
                ToSqlOutput::Borrowed(ValueRef::Text(self.1.text.as_bytes()))
            }
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::OptText(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Owned(s) | Value::OptOwned(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::OptText(None) | Value::OptOwned(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::from(*i),
            Value::Date(d) => ToSqlOutput::from(d.to_string()),
            Value::Time(t) => ToSqlOutput::from(canonical_time(to_micros(*t))),
        })
    }
}

/// An import batch on its own connection.
pub(crate) struct BulkSession {
    conn: Connection,
    meta: BatchMeta,
    now: Now,
    batch_id: i64,
    scheme: BucketScheme,
    bucket_moves: u64,
    /// Customers whose accounts this batch wrote: their cases are rolled up at commit.
    touched: HashSet<String>,
    /// Seals the personal values it writes.
    ring: std::sync::Arc<crate::keys::Keyring>,
}

impl BulkSession {
    pub(crate) fn begin(
        path: &Path,
        meta: &BatchMeta,
        ring: std::sync::Arc<crate::keys::Keyring>,
    ) -> Result<BulkSession> {
        if meta.actor.trim().is_empty() {
            return Err(
                daylight_domain::Invalid::new(daylight_domain::Code::Required, "actor is required").into()
            );
        }
        block_in_place(|| {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.execute_batch(&format!(
                "PRAGMA foreign_keys = ON; PRAGMA defer_foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = memory; \
                 PRAGMA cache_size = {WRITER_CACHE_KIB}; BEGIN IMMEDIATE;"
            ))?;
            let scheme: Option<String> = conn
                .query_row("SELECT value FROM config WHERE key = 'buckets'", [], |r| r.get(0))
                .optional()?;
            let scheme = match scheme {
                Some(v) => v.parse().map_err(|e| StoreError::Corrupt(format!("config.buckets: {e}")))?,
                None => BucketScheme::default(),
            };
            let batch_id: i64 = conn.query_row(
                rows::BEGIN_BATCH,
                params![
                    meta.kind.as_str(),
                    meta.file_name,
                    meta.actor,
                    canonical_time(to_micros(meta.at)),
                    meta.partial
                ],
                |r| r.get(0),
            )?;
            Ok(BulkSession {
                conn,
                meta: meta.clone(),
                now: Now { at: meta.at, text: canonical_time(to_micros(meta.at)) },
                batch_id,
                scheme,
                bucket_moves: 0,
                touched: HashSet::new(),
                ring,
            })
        })
    }

    /// Writes `items` with `bulk`, [`ROWS_PER_STATEMENT`] rows per statement.
    fn write<T, const N: usize>(
        &self,
        bulk: &Bulk,
        items: &[T],
        values: impl for<'a> Fn(&'a T) -> [Value<'a>; N],
    ) -> Result<()> {
        for chunk in items.chunks(ROWS_PER_STATEMENT) {
            let mut stmt = self.conn.prepare_cached(&bulk.rows(chunk.len(), &self.meta.keep))?;
            let now = &self.now;
            stmt.execute(rusqlite::params_from_iter(
                chunk.iter().flat_map(|item| values(item).into_iter().map(|v| Sql(v, now))),
            ))?;
        }
        Ok(())
    }

    /// Runs `select` (ending in `IN `) over `keys`, [`KEYS_PER_LOOKUP`] at a time.
    fn lookup<R>(
        &self,
        select: &str,
        keys: &[&str],
        row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<R>,
    ) -> Result<Vec<R>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(KEYS_PER_LOOKUP) {
            let mut stmt =
                self.conn.prepare_cached(&format!("{select}({})", vec!["?"; chunk.len()].join(", ")))?;
            let mut rows = stmt.query(rusqlite::params_from_iter(chunk))?;
            while let Some(r) = rows.next()? {
                out.push(row(r)?);
            }
        }
        Ok(out)
    }

    /// Appends `event` to the ledger (the same steps as the sqlx side's `append`).
    fn append(&self, event: &Event) -> Result<LedgerRow> {
        let (seq, hash): (i64, String) =
            self.conn.query_row("SELECT seq, hash FROM ledger_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let head = Link::from_stored(seq, &hash).map_err(|b| StoreError::Corrupt(b.to_string()))?;
        let row = head.append(event);
        self.conn.execute(
            rows::LEDGER_INSERT,
            params![row.seq, row.at, row.actor, row.kind, row.subject, row.payload, row.prev_hash, row.hash],
        )?;
        self.conn.execute(rows::LEDGER_ADVANCE, params![row.seq, row.hash])?;
        Ok(row)
    }
}

#[async_trait]
impl ImportSession for BulkSession {
    fn batch_id(&self) -> i64 {
        self.batch_id
    }

    fn bucket_scheme(&self) -> BucketScheme {
        self.scheme
    }

    async fn known(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashSet<String>> {
        let sql = format!("SELECT id FROM {} WHERE id IN ", table.table());
        block_in_place(|| self.lookup(&sql, ids, |r| r.get::<_, String>(0)).map(|v| v.into_iter().collect()))
    }

    async fn missing(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashSet<String>> {
        let mut keys: Vec<&str> = ids.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let count = format!("SELECT COUNT(*) FROM {} WHERE id IN ", table.table());
        let select = format!("SELECT id FROM {} WHERE id IN ", table.table());
        block_in_place(|| {
            let mut absent = HashSet::new();
            for chunk in keys.chunks(KEYS_PER_LOOKUP) {
                let n: i64 = self.lookup(&count, chunk, |r| r.get(0))?.first().copied().unwrap_or(0);
                if n < chunk.len() as i64 {
                    let found: HashSet<String> =
                        self.lookup(&select, chunk, |r| r.get(0))?.into_iter().collect();
                    absent.extend(chunk.iter().filter(|k| !found.contains(**k)).map(|k| (*k).to_owned()));
                }
            }
            Ok(absent)
        })
    }

    async fn owners(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashMap<String, String>> {
        let Some(owner) = table.owner_column() else { return Ok(HashMap::new()) };
        let sql = format!("SELECT id, {owner} FROM {} WHERE id IN ", table.table());
        block_in_place(|| self.lookup(&sql, ids, |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))))
            .map(|v| v.into_iter().collect())
    }

    async fn resident_id_owners(&mut self, resident_ids: &[&str]) -> Result<HashMap<String, String>> {
        // By their blind indexes: the stored resident IDs are sealed.
        let by_index: HashMap<String, &str> =
            resident_ids.iter().map(|r| (self.ring.blind(rows::BLIND_RESIDENT, r), *r)).collect();
        let indexes: Vec<&str> = by_index.keys().map(String::as_str).collect();
        let sql = "SELECT resident_id_bidx, id FROM customers WHERE resident_id_bidx IN ";
        let found = block_in_place(|| {
            self.lookup(sql, &indexes, |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        })?;
        Ok(found.into_iter().filter_map(|(b, id)| Some(((*by_index.get(&b)?).to_owned(), id))).collect())
    }

    async fn account_states(&mut self, ids: &[&str]) -> Result<HashMap<String, AccountState>> {
        let sql = "SELECT id, customer_id, currency, bucket FROM accounts WHERE id IN ";
        let found = block_in_place(|| {
            self.lookup(sql, ids, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
        })?;
        let mut states = HashMap::with_capacity(found.len());
        for (id, customer, currency, bucket) in found {
            let corrupt = |e: daylight_domain::Invalid| StoreError::Corrupt(format!("account {id}: {e}"));
            let state = AccountState {
                customer,
                currency: currency.parse().map_err(corrupt)?,
                bucket: bucket.parse().map_err(corrupt)?,
            };
            states.insert(id, state);
        }
        Ok(states)
    }

    async fn upsert_customers(&mut self, items: &[Customer]) -> Result<()> {
        let (batch, now, ring) = (self.batch_id, self.meta.at, self.ring.clone());
        block_in_place(|| self.write(&rows::CUSTOMERS, items, |c| rows::customer(c, batch, now, &ring)))
    }

    async fn upsert_contacts(&mut self, items: &[ContactPoint]) -> Result<()> {
        let (batch, now, ring) = (self.batch_id, self.meta.at, self.ring.clone());
        block_in_place(|| self.write(&rows::CONTACTS, items, |c| rows::contact(c, batch, now, &ring)))
    }

    async fn upsert_accounts(
        &mut self,
        items: &[CardAccount],
        before: &HashMap<String, AccountState>,
    ) -> Result<u64> {
        let (batch, now, scheme) = (self.batch_id, self.meta.at, self.scheme);
        let moves = rows::bucket_moves(items, before, &scheme);
        block_in_place(|| {
            self.write(&rows::ACCOUNTS, items, |a| {
                rows::account(a, scheme.bucket(a.days_past_due), batch, now)
            })?;
            self.write(&rows::BUCKET_MOVES, &moves, |(a, from, to)| {
                rows::bucket_move(a, *from, *to, batch, now)
            })
        })?;
        self.bucket_moves += moves.len() as u64;
        for a in items {
            if !self.touched.contains(a.customer.as_str()) {
                self.touched.insert(a.customer.as_str().to_owned());
            }
        }
        Ok(moves.len() as u64)
    }

    async fn upsert_transactions(&mut self, items: &[Transaction]) -> Result<()> {
        let (batch, now) = (self.batch_id, self.meta.at);
        block_in_place(|| self.write(&rows::TRANSACTIONS, items, |t| rows::transaction(t, batch, now)))
    }

    async fn upsert_payments(&mut self, items: &[Payment]) -> Result<()> {
        let (batch, now) = (self.batch_id, self.meta.at);
        block_in_place(|| self.write(&rows::PAYMENTS, items, |p| rows::payment(p, batch, now)))
    }

    async fn commit(self: Box<Self>, summary: &BatchSummary) -> Result<BatchReceipt> {
        block_in_place(move || {
            let mut customers: Vec<&str> = self.touched.iter().map(String::as_str).collect();
            customers.sort_unstable();
            let bucket = bucket_case(&self.scheme, "MAX(a.days_past_due)");
            let now = canonical_time(to_micros(self.meta.at));
            let mut cases_touched = 0;
            for chunk in customers.chunks(CUSTOMERS_PER_ROLL_UP) {
                let marks = vec!["?"; chunk.len()].join(", ");
                let mut stmt = self.conn.prepare_cached(&rows::refresh_cases(
                    &bucket,
                    "?1",
                    &format!("IN ({marks})"),
                ))?;
                let values = std::iter::once(now.as_str()).chain(chunk.iter().copied());
                cases_touched += stmt.execute(rusqlite::params_from_iter(values))? as u64;
            }
            let event =
                rows::batch_event(&self.meta, self.batch_id, summary, self.bucket_moves, cases_touched);
            let row = self.append(&event)?;
            self.conn.execute(
                rows::END_BATCH,
                params![
                    summary.rows_total as i64,
                    summary.rows_inserted as i64,
                    summary.rows_updated as i64,
                    summary.rows_rejected as i64,
                    row.seq,
                    summary.file_sha256,
                    self.batch_id
                ],
            )?;
            self.conn.execute_batch("COMMIT")?;
            Ok(BatchReceipt {
                batch_id: self.batch_id,
                ledger_seq: row.seq,
                bucket_moves: self.bucket_moves,
                cases_touched,
            })
        })
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        block_in_place(move || Ok(self.conn.execute_batch("ROLLBACK")?))
    }
}
