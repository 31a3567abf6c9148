//! Adapter-side wrappers that carry domain values in and out of both databases.
//!
//! Instants are TIMESTAMPTZ in PostgreSQL and fixed-width canonical text
//! (`2026-03-03T01:30:00.000000Z`, the ledger's form) in SQLite, so that text order is time order
//! and range queries work alike on both. Dates use `jiff-sqlx` on both.

use daylight_ledger::{canonical_time, to_micros};
use jiff::Timestamp;
use jiff_sqlx::ToSqlx;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};

/// An instant as stored, truncated to microseconds (the precision both backends keep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbTime(pub Timestamp);

/// A time as SQLite stores it (canonical text, microseconds), for rusqlite's statements.
pub(crate) fn sqlite_time(t: Timestamp) -> String {
    canonical_time(to_micros(t))
}

impl DbTime {
    pub(crate) fn new(t: Timestamp) -> DbTime {
        DbTime(to_micros(t))
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <str as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for DbTime {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(canonical_time(to_micros(self.0)), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(DbTime(text.parse::<Timestamp>()?))
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <jiff_sqlx::Timestamp as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode(to_micros(self.0).to_sqlx(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let t = <jiff_sqlx::Timestamp as Decode<Postgres>>::decode(value)?;
        Ok(DbTime(t.to_jiff()))
    }
}
