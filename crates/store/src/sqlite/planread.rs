//! The planner's read of the whole portfolio through rusqlite (see [`crate::plan_rows`]).
//!
//! Why not sqlx here: its SQLite driver hands every row from a worker thread through a channel
//! and copies every value into its own allocation; on 100,000 open cases that cost about 18 µs
//! a case, most of the plan's read. rusqlite steps the statement on the calling thread and
//! lends the text it reads. One deferred transaction on a read-only connection of its own
//! gives one snapshot of every table (WAL mode: writers go on meanwhile).

use std::path::Path;

use daylight_domain::agreement::PromiseStatus;
use daylight_domain::facts::{PastContact, PastPromise, PlanCase};
use jiff::Timestamp;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};

use super::BUSY_TIMEOUT;
use crate::error::{Result, StoreError};
use crate::plan_rows::{CONTACTS, Cases, Index, PROMISES, PointRow, Rollup, Rows};

fn corrupt(col: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{col}: {e}"))
}

fn str_at<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r str> {
    row.get_ref(i)?.as_str().map_err(|e| corrupt("text column", e))
}

fn opt_str_at<'r>(row: &'r Row<'_>, i: usize) -> Result<Option<&'r str>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Null => None,
        v => Some(v.as_str().map_err(|e| corrupt("text column", e))?),
    })
}

fn parse_at<T: std::str::FromStr>(row: &Row<'_>, i: usize, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    str_at(row, i)?.parse().map_err(|e| corrupt(col, e))
}

fn small_at<T: TryFrom<i64>>(row: &Row<'_>, i: usize, col: &str) -> Result<T> {
    let v: i64 = row.get(i)?;
    T::try_from(v).map_err(|_| corrupt(col, format!("{v} out of range")))
}

fn time_at(row: &Row<'_>, i: usize, col: &str) -> Result<Timestamp> {
    parse_at(row, i, col)
}

fn open(path: &Path, flags: OpenFlags) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// A read-only connection to `path`, in a read transaction that has taken its snapshot.
fn reader(path: &Path) -> Result<Connection> {
    let conn = open(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.execute_batch("BEGIN")?;
    // A read transaction takes its snapshot at its first read.
    conn.query_row("SELECT COUNT(*) FROM config", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

/// Reads every open case as of `until` from the SQLite file at `path`, on two threads: one
/// reads the cases and then the debtors, their contact points, flags, tags and histories;
/// the other, once the cases are read, their accounts and payments. The two connections
/// read one snapshot: they take it while a third holds the write lock, so that no write can
/// commit between them.
pub(crate) fn read(path: &Path, until: Timestamp) -> Result<Vec<PlanCase>> {
    let (conn, other) = {
        let lock = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        lock.execute_batch("BEGIN IMMEDIATE")?;
        let both = (reader(path)?, reader(path)?);
        lock.execute_batch("ROLLBACK")?;
        both
    };
    let cut = crate::types::sqlite_time(until);
    let mut cases = Cases::default();
    {
        // `+status`: a scan in id order, not a probe of the status index per open case.
        let mut stmt = conn
            .prepare("SELECT id, customer_id, bucket, max_dpd, agency FROM cases WHERE +status = 'open'")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let mut c = PlanCase::new(str_at(row, 0)?.to_owned(), str_at(row, 1)?.to_owned(), String::new());
            c.bucket = parse_at(row, 2, "bucket")?;
            c.dpd = small_at(row, 3, "max_dpd")?;
            c.agency = opt_str_at(row, 4)?.map(str::to_owned);
            cases.case(c);
        }
    }
    let n = cases.len();
    let Cases { rows: filling, index } = &mut cases;
    let index = &*index;
    let money = std::thread::scope(|s| -> Result<Money> {
        let cut = &cut;
        let money = s.spawn(move || accounts_and_payments(&other, index, n, cut));
        let mine = debtors(&conn, index, filling, cut);
        let money =
            money.join().map_err(|_| StoreError::Database("the accounts reader stopped".into()))??;
        mine?;
        Ok(money)
    })?;
    for (i, r) in money.rollups.into_iter().enumerate() {
        cases.rows.accounts(i, r);
    }
    for (i, at, amount) in money.payments {
        cases.rows.payment(i, at, amount);
    }
    conn.execute_batch("COMMIT")?;
    Ok(cases.finish())
}

/// What the second reader finds: each case's accounts rolled up, and the payments on them.
struct Money {
    rollups: Vec<Rollup>,
    payments: Vec<(usize, Timestamp, i64)>,
}

fn accounts_and_payments(conn: &Connection, index: &Index, n: usize, cut: &str) -> Result<Money> {
    let mut rollups = vec![Rollup::default(); n];
    // Accounts of open cases, for the payments below.
    let mut case_of_account: foldhash::HashMap<String, usize> =
        foldhash::HashMap::with_capacity_and_hasher(n, Default::default());
    let mut stmt = conn.prepare(crate::plan_rows::ACCOUNTS_OWED)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let Some(i) = index.of(str_at(row, 0)?) else { continue };
        let id = str_at(row, 1)?;
        case_of_account.insert(id.to_owned(), i);
        rollups[i].add(id, row.get(2)?, small_at(row, 3, "statement_day")?, row.get(4)?, row.get(5)?);
    }
    // Payments in one scan (in id order), put in time order per debtor by `finish`.
    let mut payments = Vec::new();
    let mut stmt = conn.prepare("SELECT account_id, paid_at, amount FROM payments WHERE paid_at < $1")?;
    let mut rows = stmt.query([cut])?;
    while let Some(row) = rows.next()? {
        let Some(&i) = case_of_account.get(str_at(row, 0)?) else { continue };
        payments.push((i, time_at(row, 1, "paid_at")?, row.get(2)?));
    }
    Ok(Money { rollups, payments })
}

fn debtors(conn: &Connection, index: &Index, cases: &mut Rows, cut: &str) -> Result<()> {
    // The debtors: one scan, rather than a probe of the customers per open case.
    let mut stmt = conn.prepare("SELECT id, time_zone, birth_date FROM customers")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let Some(i) = index.of(str_at(row, 0)?) else { continue };
        cases.debtor(i, str_at(row, 1)?, parse_at(row, 2, "birth_date")?);
    }
    let mut stmt =
        conn.prepare("SELECT customer_id, id, role, kind, status, time_zone, status_at FROM contact_points")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let Some(i) = index.of(str_at(row, 0)?) else { continue };
        let since = opt_str_at(row, 6)?.map(|t| t.parse::<Timestamp>().map_err(|e| corrupt("status_at", e)));
        cases.point(
            i,
            PointRow {
                id: str_at(row, 1)?.to_owned(),
                role: str_at(row, 2)?,
                kind: str_at(row, 3)?,
                status: str_at(row, 4)?,
                status_at: since.transpose()?,
                zone: opt_str_at(row, 5)?.map(str::to_owned),
            },
        )?;
    }
    let mut stmt = conn.prepare("SELECT customer_id, cease, opt_out, consented_hours FROM contact_flags")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let Some(i) = index.of(str_at(row, 0)?) else { continue };
        let (cease, consented): (i64, i64) = (row.get(1)?, row.get(3)?);
        cases.flags(i, cease != 0, str_at(row, 2)?, consented != 0)?;
    }
    let mut stmt = conn.prepare("SELECT customer_id, tag FROM debtor_tags")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let Some(i) = index.of(str_at(row, 0)?) else { continue };
        cases.tag(i, str_at(row, 1)?)?;
    }
    let mut stmt = conn.prepare(CONTACTS)?;
    let mut rows = stmt.query([cut])?;
    while let Some(row) = rows.next()? {
        let Some(i) = index.of(str_at(row, 0)?) else { continue };
        let contact = PastContact {
            at: time_at(row, 1, "at")?,
            channel: parse_at(row, 2, "channel")?,
            recipient: parse_at(row, 3, "recipient")?,
            contact_point: opt_str_at(row, 4)?.map(str::to_owned),
            debt: opt_str_at(row, 5)?.map(str::to_owned),
            outcome: opt_str_at(row, 6)?.map(|o| o.parse().map_err(|e| corrupt("outcome", e))).transpose()?,
            duration_secs: small_at(row, 7, "duration_secs")?,
        };
        cases.contact(i, contact);
    }
    let mut stmt = conn.prepare(PROMISES)?;
    let mut rows = stmt.query([cut])?;
    while let Some(row) = rows.next()? {
        let Some(i) = index.of(str_at(row, 0)?) else { continue };
        let status: PromiseStatus = parse_at(row, 2, "status")?;
        let settled_at =
            opt_str_at(row, 3)?.map(|t| t.parse().map_err(|e| corrupt("settled_at", e))).transpose()?;
        cases.promise(
            i,
            PastPromise {
                created_at: time_at(row, 1, "created_at")?,
                settled_at,
                kept: status == PromiseStatus::Kept,
                broken: status == PromiseStatus::Broken,
            },
        );
    }
    Ok(())
}
