// Shared by the SQLite and PostgreSQL adapters: `include!`d into `crate::sqlite` and
// `crate::postgres`, where `Db`, `DbPool`, `Adapter`, `BACKEND`, `LOCK_HEAD`, `LEDGER_AT`,
// `TABLE_EXISTS`, `MIGRATOR` and `begin_write` are defined for that backend. One text, two
// compilations: the queries are written once and type-checked against both drivers.
//
// This part: row helpers, the ledger append every write ends with, and small lookups.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use async_trait::async_trait;
use daylight_compliance::Pack;
use daylight_domain::account::{CardAccount, Component, Overdue, Payment};
use daylight_domain::agreement::{
    self, ArrangementStatus, ArrangementTerms, Instalment, PromiseStatus, WaiverStatus,
};
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome, Planned};
use daylight_domain::bounds::WaiverVerdict;
use daylight_domain::bucket::{BucketMove, BucketScheme};
use daylight_domain::case::{Case, CaseStatus, CloseReason, Note, StatusChange};
use daylight_domain::customer::Recipient;
use daylight_domain::customer::{ContactPoint, ContactStatus, ContactValue, Customer};
use daylight_domain::id::{AccountId, CaseId, ContactId, CustomerId, PaymentId};
use daylight_domain::pii::{Address, Gender, MaskedPan, PersonName, ResidentId};
use daylight_domain::{Code, Currency, Invalid, Money};
use daylight_ledger::{Event, EventKind, Link, Row as LedgerRow};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff_sqlx::ToSqlx;
use serde_json::json;
use sqlx::{AssertSqlSafe, QueryBuilder, Row as _};

use crate::bucket_sql::bucket_case;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::port::*;
use crate::rows;
use crate::settings::Backend;
use crate::types::DbTime;

type Tx = sqlx::Transaction<'static, Db>;
type DbRow = <Db as sqlx::Database>::Row;

/// The configuration key of the bucket scheme.
const CONFIG_BUCKETS: &str = "buckets";
/// The most rows of any one kind a case screen shows.
const DETAIL_LIMIT: i64 = 500;

fn corrupt(col: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{col}: {e}"))
}

fn text(row: &DbRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

fn opt_text(row: &DbRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

fn word<T: FromStr<Err = Invalid>>(row: &DbRow, col: &str) -> Result<T> {
    text(row, col)?.parse().map_err(|e| corrupt(col, e))
}

fn opt_word<T: FromStr<Err = Invalid>>(row: &DbRow, col: &str) -> Result<Option<T>> {
    opt_text(row, col)?.map(|t| t.parse().map_err(|e| corrupt(col, e))).transpose()
}

fn int(row: &DbRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

fn small<T: TryFrom<i64>>(row: &DbRow, col: &str) -> Result<T> {
    let v = int(row, col)?;
    T::try_from(v).map_err(|_| corrupt(col, format!("{v} out of range")))
}

fn time(row: &DbRow, col: &str) -> Result<Timestamp> {
    Ok(row.try_get::<DbTime, _>(col)?.0)
}

fn opt_time(row: &DbRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(row.try_get::<Option<DbTime>, _>(col)?.map(|t| t.0))
}

fn date(row: &DbRow, col: &str) -> Result<Date> {
    Ok(row.try_get::<jiff_sqlx::Date, _>(col)?.to_jiff())
}

fn id<T>(row: &DbRow, col: &str, parse: fn(&str) -> Result<T, Invalid>) -> Result<T> {
    parse(&text(row, col)?).map_err(|e| corrupt(col, e))
}

fn opt_id<T>(row: &DbRow, col: &str, parse: fn(&str) -> Result<T, Invalid>) -> Result<Option<T>> {
    opt_text(row, col)?.map(|s| parse(&s).map_err(|e| corrupt(col, e))).transpose()
}

fn money(row: &DbRow, col: &str, currency: Currency) -> Result<Money> {
    Ok(Money::new(int(row, col)?, currency))
}

fn required(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Invalid::new(Code::Required, format!("{what} is required")).into());
    }
    Ok(())
}

/// SHA-256 of text, hex: ledger payloads bind notes and reasons by digest, not by copy, so the
/// evidence chain holds no free text that may carry personal data.
fn digest(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Appends `event` to the ledger inside `tx`: reads and locks the head, inserts the row,
/// advances the head. Called last in every write, so the head lock is held briefly and always
/// taken after the rows a transaction changes.
async fn append(tx: &mut Tx, event: &Event) -> Result<LedgerRow> {
    let mut chain = Chain::default();
    let row = chain.append(tx, event).await?;
    chain.close(tx).await?;
    Ok(row)
}

/// The ledger's head as a write transaction holds it: read and locked at its first append,
/// advanced in memory by each append, written back once by [`Chain::close`]. Every append of
/// a transaction that uses a chain goes through it, and it is closed before the commit.
#[derive(Default)]
struct Chain {
    /// The head, and its hash as stored.
    head: Option<(Link, String)>,
    /// Rows appended and not yet written: written together, in order, in statements of
    /// [`Chain::ROWS_PER_INSERT`] (a batch gate's thousands of events cost a few statements,
    /// not one each), and always before the head is written back.
    pending: Vec<(LedgerRow, Timestamp)>,
}

impl Chain {
    /// Ledger rows per multi-row insert (8 parameters each).
    const ROWS_PER_INSERT: usize = 256;

    async fn append(&mut self, tx: &mut Tx, event: &Event) -> Result<LedgerRow> {
        let head = match self.head.take() {
            Some((h, _)) => h,
            None => {
                let head = sqlx::query(LOCK_HEAD).fetch_one(&mut **tx).await?;
                Link::from_stored(int(&head, "seq")?, &text(&head, "hash")?)
                    .map_err(|b| StoreError::Corrupt(b.to_string()))?
            }
        };
        let row = head.append(event);
        let link = Link::after(&row).map_err(|b| StoreError::Corrupt(b.to_string()))?;
        self.head = Some((link, row.hash.clone()));
        self.pending.push((row.clone(), event.at));
        if self.pending.len() >= Self::ROWS_PER_INSERT {
            self.flush(tx).await?;
        }
        Ok(row)
    }

    /// Writes the rows appended so far.
    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO ledger (seq, at, actor, kind, subject, payload, prev_hash, hash) ",
        );
        qb.push_values(&self.pending, |mut b, (row, at)| {
            b.push_bind(row.seq)
                .push_bind(DbTime::new(*at))
                .push_bind(row.actor.clone())
                .push_bind(row.kind.clone())
                .push_bind(row.subject.clone())
                .push_bind(row.payload.clone())
                .push_bind(row.prev_hash.clone())
                .push_bind(row.hash.clone());
        });
        qb.build().execute(&mut **tx).await?;
        self.pending.clear();
        Ok(())
    }

    /// Writes the rows appended and the head (nothing when nothing was appended).
    async fn close(mut self, tx: &mut Tx) -> Result<()> {
        self.flush(tx).await?;
        if let Some((h, hash)) = self.head {
            sqlx::query(rows::LEDGER_ADVANCE).bind(h.seq).bind(hash).execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// The bucket scheme; `lock` is `FOR_SHARE` or `FOR_UPDATE` inside a write transaction
/// (so a scheme change and an import cannot interleave), empty for a plain read.
async fn read_scheme(conn: &mut <Db as sqlx::Database>::Connection, lock: &str) -> Result<BucketScheme> {
    let value: Option<String> =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT value FROM config WHERE key = $1{lock}")))
            .bind(CONFIG_BUCKETS)
            .fetch_optional(&mut *conn)
            .await?;
    match value {
        Some(v) => v.parse().map_err(|e| corrupt("config.buckets", e)),
        None => Ok(BucketScheme::default()),
    }
}

async fn put_config(tx: &mut Tx, key: &str, value: &str, actor: &str, now: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO config (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(key)
    .bind(value)
    .bind(DbTime::new(now))
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The customer of a case, or `NOT_FOUND`.
async fn case_customer(tx: &mut Tx, case: &CaseId) -> Result<String> {
    sqlx::query_scalar("SELECT customer_id FROM cases WHERE id = $1")
        .bind(case.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("case", case.as_str()))
}

/// Loads an account, locked for the rest of the transaction, and checks it belongs to
/// `customer`.
async fn account_of(tx: &mut Tx, account: &AccountId, customer: &str) -> Result<CardAccount> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT * FROM accounts WHERE id = $1{FOR_UPDATE}")))
        .bind(account.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("account", account.as_str()))?;
    let acc = account_from_row(&row)?;
    if acc.customer.as_str() != customer {
        return Err(Invalid::new(
            Code::Inconsistent,
            format!("account {account} is not held by the case's customer"),
        )
        .into());
    }
    Ok(acc)
}

/// What is already waived, or asked to be, on one part of an account's overdue amount: waivers
/// requested, and waivers approved after the account's last import (the bank's figures do not
/// show those yet). `except` leaves one waiver out (the one being decided).
/// What an account owes now, in fen, for an `accounts a` row: its overdue figures (principal,
/// interest, fees, late fees) plus the adjustments the bank has not booked yet (approved
/// waivers off, approved plans' declared fees on; see `account_adjustments` in migration 0011).
/// Every figure of what is owed (the case screen, the case list, the planner, promise and
/// plan bounds, closing as paid in full) is this expression.
const OWED: &str = "(a.overdue_principal + a.overdue_interest + a.overdue_fees + a.overdue_late_fees \
     + CAST(COALESCE((SELECT SUM(j.amount) FROM account_adjustments j WHERE j.account_id = a.id), 0) AS BIGINT))";

/// The adjustments of an `accounts a` row not yet booked by the bank, fen.
const ADJUSTED: &str = "CAST(COALESCE((SELECT SUM(j.amount) FROM account_adjustments j WHERE j.account_id = a.id), 0) AS BIGINT)";

/// What one account owes now (see [`OWED`]), fen.
async fn account_owed(tx: &mut Tx, account: &AccountId) -> Result<i64> {
    let owed: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT CAST({OWED} AS BIGINT) FROM accounts a WHERE a.id = $1"
    )))
    .bind(account.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    owed.ok_or_else(|| StoreError::not_found("account", account.as_str()))
}

async fn committed_waivers(
    tx: &mut Tx,
    account: &CardAccount,
    component: Component,
    except: i64,
) -> Result<Money> {
    let sum: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(w.amount), 0) AS BIGINT) FROM waivers w JOIN accounts a ON a.id = w.account_id \
         WHERE w.account_id = $1 AND w.component = $2 AND w.id <> $3 \
         AND (w.status = 'requested' OR (w.status = 'approved' AND w.figures_batch = a.batch_id))",
    )
    .bind(account.id.as_str())
    .bind(component.as_str())
    .bind(except)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Money::new(sum, account.currency))
}

/// Checks an attempt id belongs to `case`.
async fn attempt_of(tx: &mut Tx, attempt: i64, case: &CaseId) -> Result<()> {
    let owner: Option<String> = sqlx::query_scalar("SELECT case_id FROM attempts WHERE id = $1")
        .bind(attempt)
        .fetch_optional(&mut **tx)
        .await?;
    // Another case's attempt is answered as one that does not exist: its caller may not see
    // that case, and an answer that differs would confirm the id.
    match owner {
        Some(c) if c == case.as_str() => Ok(()),
        _ => Err(StoreError::not_found("attempt", attempt.to_string())),
    }
}

/// Builds `SELECT <cols> FROM <table> WHERE <key> IN (…)` over `keys`.
fn select_in<'a>(
    cols_from_table: &str,
    key: &str,
    keys: impl IntoIterator<Item = &'a str>,
) -> QueryBuilder<Db> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {cols_from_table} WHERE {key} IN ("));
    let mut sep = qb.separated(", ");
    for k in keys {
        sep.push_bind(k.to_owned());
    }
    sep.push_unseparated(")");
    qb
}
