//! The PostgreSQL adapter: a pooled server connection. Ledger appends lock the one-row
//! `ledger_head` (`FOR UPDATE`) as the last step of each write, which serialises appends without
//! serialising the rest of the work.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::settings::DbUrl;

type Db = sqlx::Postgres;
type DbPool = sqlx::PgPool;
type Adapter = PgStore;

const BACKEND: Backend = Backend::Postgres;
const LOCK_HEAD: &str = "SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE";
/// Locks a row read before it is changed, so two writers cannot both act on the old value.
const FOR_UPDATE: &str = " FOR UPDATE";
/// Locks a row read for a decision, against a concurrent change of it.
const FOR_SHARE: &str = " FOR SHARE";
/// Imports run one at a time: two batches writing the same customers in different orders
/// would otherwise deadlock. A transaction-scoped advisory lock (the key is "DLIMPORT" in
/// ASCII) is released by the batch's commit or rollback.
const IMPORT_LOCK: &str = "SELECT pg_advisory_xact_lock(4921389089217794644)";
/// The ledger's canonical text form of a TIMESTAMPTZ, as it was hashed.
const LEDGER_AT: &str = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
const TABLE_EXISTS: &str = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1";
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// An attempt's id comes from its identity sequence ahead of the row (see
/// [`reserve_attempt_ids`]), which an identity column accepts only when told.
const OVERRIDING_ID: &str = " OVERRIDING SYSTEM VALUE";

/// `n` attempt ids from the identity sequence (taken for good: an id no attempt uses is a gap,
/// as a rolled-back insert leaves one).
async fn reserve_attempt_ids(tx: &mut Tx, _last: i64, n: usize) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('attempts', 'id')) FROM generate_series(1, $1)",
    )
    .bind(i64::try_from(n).unwrap_or(1))
    .fetch_all(&mut **tx)
    .await?)
}

async fn begin_write(pool: &DbPool) -> Result<Tx> {
    Ok(pool.begin().await?)
}

/// Server connections per process.
const CONNECTIONS: u32 = 8;
/// How long to wait for a connection.
const CONNECT_WAIT: Duration = Duration::from_secs(30);

/// A Daylight database on a PostgreSQL server.
#[derive(Debug, Clone)]
pub struct PgStore {
    read: DbPool,
    write: DbPool,
    /// The keys personal data is sealed with (see `sql/keys.rs`).
    keys: std::sync::Arc<KeyCache>,
}

impl PgStore {
    /// Connects to the database `url` names. The database itself must exist (`createdb`);
    /// `daylight init` creates the schema in it.
    pub async fn open(url: &DbUrl) -> Result<PgStore> {
        let unavailable =
            |e: sqlx::Error| StoreError::Unavailable { url: url.to_string(), reason: e.to_string() };
        let options = PgConnectOptions::from_str(url.expose())
            .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(CONNECT_WAIT)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Ok(PgStore { read: pool.clone(), write: pool, keys: std::sync::Arc::default() })
    }

    async fn import_session(&self, meta: &BatchMeta) -> Result<Box<dyn ImportSession>> {
        Ok(Box::new(Session::begin(&self.write, meta, self.keyring().await?).await?))
    }
}

impl PgStore {
    /// The open cases as the planner reads them, in one read transaction (see
    /// [`crate::plan_rows`]): each table in one streamed scan.
    async fn read_plan_cases(&self, until: Timestamp) -> Result<Vec<daylight_domain::facts::PlanCase>> {
        use daylight_domain::facts::{PastContact, PastPromise};
        use futures::TryStreamExt as _;
        let cut = DbTime::new(until);
        let mut tx: Tx = self.read.begin().await?;
        let mut cases = crate::plan_rows::Cases::default();
        let mut rows = sqlx::query(
            "SELECT c.id, c.customer_id, c.bucket, c.max_dpd, c.agency, u.time_zone, u.birth_date \
             FROM cases c JOIN customers u ON u.id = c.customer_id WHERE c.status = 'open'",
        )
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            let row = &row;
            let mut c = daylight_domain::facts::PlanCase::new(
                text(row, "id")?,
                text(row, "customer_id")?,
                text(row, "time_zone")?,
            );
            c.birth_date = Some(date(row, "birth_date")?);
            c.bucket = word(row, "bucket")?;
            c.dpd = small(row, "max_dpd")?;
            c.agency = opt_text(row, "agency")?;
            cases.case(c);
        }
        drop(rows);
        let mut accounts = sqlx::query(crate::plan_rows::ACCOUNTS_OWED).fetch(&mut *tx);
        let mut rollups = vec![crate::plan_rows::Rollup::default(); cases.len()];
        while let Some(row) = accounts.try_next().await? {
            let row = &row;
            let Some(i) = cases.of(&text(row, "customer_id")?) else { continue };
            rollups[i].add(
                &text(row, "id")?,
                int(row, "credit_limit")?,
                small(row, "statement_day")?,
                int(row, "days_past_due")?,
                int(row, "overdue")?,
            );
        }
        for (i, r) in rollups.into_iter().enumerate() {
            cases.rows.accounts(i, r);
        }
        drop(accounts);
        let mut points = sqlx::query(
            "SELECT id, customer_id, role, kind, status, time_zone, status_at FROM contact_points",
        )
        .fetch(&mut *tx);
        while let Some(row) = points.try_next().await? {
            let row = &row;
            let Some(i) = cases.of(&text(row, "customer_id")?) else { continue };
            cases.rows.point(
                i,
                crate::plan_rows::PointRow {
                    id: text(row, "id")?,
                    role: &text(row, "role")?,
                    kind: &text(row, "kind")?,
                    status: &text(row, "status")?,
                    status_at: opt_time(row, "status_at")?,
                    zone: opt_text(row, "time_zone")?,
                },
            )?;
        }
        drop(points);
        let mut flags = sqlx::query("SELECT customer_id, cease, opt_out, consented_hours FROM contact_flags")
            .fetch(&mut *tx);
        while let Some(row) = flags.try_next().await? {
            let row = &row;
            let Some(i) = cases.of(&text(row, "customer_id")?) else { continue };
            cases.rows.flags(
                i,
                int(row, "cease")? != 0,
                &text(row, "opt_out")?,
                int(row, "consented_hours")? != 0,
            )?;
        }
        drop(flags);
        let mut tags = sqlx::query("SELECT customer_id, tag FROM debtor_tags").fetch(&mut *tx);
        while let Some(row) = tags.try_next().await? {
            let row = &row;
            let Some(i) = cases.of(&text(row, "customer_id")?) else { continue };
            cases.rows.tag(i, &text(row, "tag")?)?;
        }
        drop(tags);
        let mut contacts = sqlx::query(crate::plan_rows::CONTACTS).bind(cut).fetch(&mut *tx);
        while let Some(row) = contacts.try_next().await? {
            let row = &row;
            let Some(i) = cases.of(&text(row, "customer_id")?) else { continue };
            cases.rows.contact(i, {
                // The gate's reading of a contact, with its talk time.
                let c = past_contact_row(row)?;
                PastContact {
                    at: c.at,
                    channel: c.channel,
                    recipient: c.recipient,
                    contact_point: c.contact_point,
                    debt: c.debt,
                    outcome: c.outcome,
                    duration_secs: small(row, "duration_secs")?,
                }
            });
        }
        drop(contacts);
        let mut payments = sqlx::query(crate::plan_rows::PAYMENTS).bind(cut).fetch(&mut *tx);
        while let Some(row) = payments.try_next().await? {
            let row = &row;
            let Some(i) = cases.of(&text(row, "customer_id")?) else { continue };
            cases.rows.payment(i, time(row, "paid_at")?, int(row, "amount")?);
        }
        drop(payments);
        let mut promises = sqlx::query(crate::plan_rows::PROMISES).bind(cut).fetch(&mut *tx);
        while let Some(row) = promises.try_next().await? {
            let row = &row;
            let Some(i) = cases.of(&text(row, "customer_id")?) else { continue };
            let status: PromiseStatus = word(row, "status")?;
            cases.rows.promise(
                i,
                PastPromise {
                    created_at: time(row, "created_at")?,
                    settled_at: opt_time(row, "settled_at")?,
                    kept: status == PromiseStatus::Kept,
                    broken: status == PromiseStatus::Broken,
                },
            );
        }
        drop(promises);
        tx.rollback().await?;
        Ok(cases.finish())
    }
}

include!("sql/common.rs");
include!("sql/read.rs");
include!("sql/import.rs");
include!("sql/write.rs");
include!("sql/gate.rs");
include!("sql/models.rs");
include!("sql/plan.rs");
include!("sql/history.rs");
include!("sql/users.rs");
include!("sql/desk.rs");
include!("sql/qc.rs");
include!("sql/calls.rs");
include!("sql/keys.rs");
