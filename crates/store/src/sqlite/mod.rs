//! The SQLite adapter, the default backend: one file in WAL mode, one writer connection (writes
//! queue in-process instead of failing with `SQLITE_BUSY`), a few reader connections, foreign
//! keys on, and `synchronous = FULL` so a committed change survives a power cut.
//!
//! Everything goes through sqlx with the queries shared with PostgreSQL, except imports: an
//! import session opens its own rusqlite connection and runs cached single-row statements,
//! which binds values without sqlx's per-value allocations (`bulk.rs`).

use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::settings::DbUrl;

mod bulk;
mod planread;

type Db = sqlx::Sqlite;
type DbPool = sqlx::SqlitePool;
type Adapter = SqliteStore;

const BACKEND: Backend = Backend::Sqlite;
/// The single writer already holds the database lock (`BEGIN IMMEDIATE`).
const LOCK_HEAD: &str = "SELECT seq, hash FROM ledger_head WHERE id = 1";
/// A write transaction holds the whole database (`BEGIN IMMEDIATE`): no row lock is needed.
const FOR_UPDATE: &str = "";
/// Ledger times are stored as canonical text already.
const LEDGER_AT: &str = "at";
const TABLE_EXISTS: &str = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// An attempt's id is written as given (see [`reserve_attempt_ids`]).
const OVERRIDING_ID: &str = "";

/// `n` attempt ids past the highest stored and the highest already reserved (`last`): the
/// write transaction holds the database, so nothing else can take them.
async fn reserve_attempt_ids(tx: &mut Tx, last: i64, n: usize) -> Result<Vec<i64>> {
    let max: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM attempts").fetch_one(&mut **tx).await?;
    let base = max.max(last);
    Ok((1..=i64::try_from(n).unwrap_or(1)).map(|i| base + i).collect())
}

/// Write transactions take the database lock at `BEGIN`, so a transaction that reads before it
/// writes can never be refused half-way for a lock another writer holds.
async fn begin_write(pool: &DbPool) -> Result<Tx> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// How long a writer waits for another connection's write lock — another process, or an import
/// (which runs on a connection of its own) — before giving up with `DB_BUSY`: long enough for a
/// large import to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a write waits for this process's writer connection.
const WRITER_WAIT: Duration = BUSY_TIMEOUT;
/// The writer's page cache: negative means KiB (256 MiB), allocated only as pages are used.
const WRITER_CACHE_KIB: &str = "-262144";
/// Reader connections.
const READERS: u32 = 4;

/// A Daylight database in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: DbPool,
    write: DbPool,
    /// The file, for the import session's own connection.
    path: std::path::PathBuf,
    /// The keys personal data is sealed with (see `sql/keys.rs`).
    keys: std::sync::Arc<KeyCache>,
}

impl SqliteStore {
    /// Opens the file `url` names. With `create`, a missing file (and its folder) is created;
    /// without it, a missing file is [`StoreError::Missing`].
    pub async fn open(url: &DbUrl, create: bool) -> Result<SqliteStore> {
        let path =
            url.sqlite_path().ok_or_else(|| StoreError::BadUrl(format!("{url} is not a sqlite:// URL")))?;
        if !create && !path.exists() {
            return Err(StoreError::Missing(url.to_string()));
        }
        if create && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable {
                url: url.to_string(),
                reason: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let unavailable =
            |e: sqlx::Error| StoreError::Unavailable { url: url.to_string(), reason: e.to_string() };
        // The writer gets a large page cache so that a big import does not spill pages to the
        // WAL (and checkpoint) half-way through its transaction.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITER_WAIT)
            .connect_with(
                options.clone().pragma("cache_size", WRITER_CACHE_KIB).pragma("temp_store", "memory"),
            )
            .await
            .map_err(unavailable)?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Ok(SqliteStore { read, write, path, keys: std::sync::Arc::default() })
    }

    /// The planner's read runs on a connection of its own (see `planread.rs`).
    async fn read_plan_cases(&self, until: Timestamp) -> Result<Vec<daylight_domain::facts::PlanCase>> {
        tokio::task::block_in_place(|| planread::read(&self.path, until))
    }

    /// Imports run on a connection of their own (see `bulk.rs`).
    async fn import_session(&self, meta: &BatchMeta) -> Result<Box<dyn ImportSession>> {
        Ok(Box::new(bulk::BulkSession::begin(&self.path, meta, self.keyring().await?)?))
    }
}

include!("../sql/common.rs");
include!("../sql/read.rs");
include!("../sql/write.rs");
include!("../sql/gate.rs");
include!("../sql/models.rs");
include!("../sql/plan.rs");
include!("../sql/history.rs");
include!("../sql/users.rs");
include!("../sql/desk.rs");
include!("../sql/qc.rs");
include!("../sql/calls.rs");
include!("../sql/keys.rs");
