//! `StoreError`: what can go wrong behind the storage port, with a stable code each.
//!
//! Adapter errors are turned into text here, so no sqlx type crosses the port.

use daylight_domain::Invalid;

/// An error from the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not one we can use.
    #[error("{0}")]
    BadUrl(String),
    /// The database does not exist yet.
    #[error("no database at {0}: run `daylight init` first")]
    Missing(String),
    /// The database could not be reached.
    #[error("cannot reach the database at {url}: {reason}")]
    Unavailable {
        /// The redacted URL.
        url: String,
        /// What the driver said.
        reason: String,
    },
    /// Another writer held the database for longer than this one would wait.
    #[error("the database is busy (another writer, such as an import, holds it): {0}")]
    Busy(String),
    /// The schema is older than this build: migrations are pending.
    #[error(
        "the database schema is at version {have} but this build needs {want}: run `daylight init` to migrate"
    )]
    SchemaBehind {
        /// Last migration applied.
        have: i64,
        /// Last migration this build knows.
        want: i64,
    },
    /// The schema is newer than this build.
    #[error(
        "the database schema is at version {have}, newer than this build knows ({want}): upgrade daylight"
    )]
    SchemaAhead {
        /// Last migration applied.
        have: i64,
        /// Last migration this build knows.
        want: i64,
    },
    /// A migration failed or an applied one was changed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A record that was named does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What kind of record.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The domain refused a value or a transition.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A policy pack or a compliance request is not usable.
    #[error(transparent)]
    Policy(#[from] daylight_compliance::PolicyError),
    /// Stored data does not decode (a value outside the vocabulary, a malformed time).
    #[error("stored data is not as Daylight wrote it: {0}")]
    Corrupt(String),
    /// The keys that seal personal data are missing or do not fit (see [`crate::keys`]).
    #[error("keys: {0}")]
    Key(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(String),
}

impl StoreError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::BadUrl(_) => "DB_URL",
            StoreError::Missing(_) => "DB_MISSING",
            StoreError::Unavailable { .. } => "DB_UNAVAILABLE",
            StoreError::Busy(_) => "DB_BUSY",
            StoreError::SchemaBehind { .. } => "SCHEMA_BEHIND",
            StoreError::SchemaAhead { .. } => "SCHEMA_AHEAD",
            StoreError::Migration(_) => "MIGRATION",
            StoreError::NotFound { .. } => "NOT_FOUND",
            StoreError::Invalid(i) => i.code.as_str(),
            StoreError::Policy(p) => p.code,
            StoreError::Corrupt(_) => "CORRUPT",
            StoreError::Key(_) => "KEY",
            StoreError::Database(_) => "DATABASE",
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> StoreError {
        StoreError::NotFound { kind, id: id.into() }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::ColumnDecode { index, source } => {
                StoreError::Corrupt(format!("column {index}: {source}"))
            }
            sqlx::Error::Decode(source) => StoreError::Corrupt(source.to_string()),
            sqlx::Error::PoolTimedOut => StoreError::Busy("no connection became free in time".into()),
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed => {
                StoreError::Unavailable { url: "(the database)".into(), reason: e.to_string() }
            }
            // SQLite's SQLITE_BUSY is result code 5 (extended codes keep it in the low byte).
            sqlx::Error::Database(ref d)
                if d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5) =>
            {
                StoreError::Busy(e.to_string())
            }
            other => StoreError::Database(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(e.to_string())
    }
}

/// Results of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
