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
/// The ledger's canonical text form of a TIMESTAMPTZ, as it was hashed.
const LEDGER_AT: &str = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
const TABLE_EXISTS: &str = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1";
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

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
        Ok(PgStore { read: pool.clone(), write: pool })
    }

    async fn import_session(&self, meta: &BatchMeta) -> Result<Box<dyn ImportSession>> {
        Ok(Box::new(Session::begin(&self.write, meta).await?))
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
include!("sql/store_impl.rs");
