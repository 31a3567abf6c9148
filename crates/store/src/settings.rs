//! Which database to use: a URL given once (`--db` or `DAYLIGHT_DB`).
//!
//! The URL may hold a password, so it never prints in clear: `Display` and `Debug` show
//! `postgres://daylight:***@host/db`.

use std::fmt;
use std::path::PathBuf;

use crate::error::StoreError;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DB_URL: &str = "sqlite://daylight.db";

/// The two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A database URL, parsed once.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    raw: String,
    backend: Backend,
}

impl DbUrl {
    /// Parses `sqlite://PATH` (relative or `sqlite:///absolute`), or `postgres://…` /
    /// `postgresql://…`.
    pub fn parse(url: &str) -> Result<DbUrl, StoreError> {
        let raw = url.trim().to_owned();
        let backend = if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::BadUrl(
                    "sqlite:// needs a file path, e.g. sqlite://daylight.db".into(),
                ));
            }
            Backend::Sqlite
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(format!(
                "database URL {} must start with sqlite:// or postgres://",
                redact(&raw)
            )));
        };
        Ok(DbUrl { raw, backend })
    }

    /// Which backend the URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite file, for `sqlite://` URLs (any `?query` is dropped).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let path = self.raw.strip_prefix("sqlite://")?;
        let path = path.split('?').next().unwrap_or(path);
        Some(PathBuf::from(path))
    }

    /// The URL in clear, for the driver only. Never log it.
    pub fn expose(&self) -> &str {
        &self.raw
    }
}

/// The URL with any password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') { format!("{user}:***") } else { user.to_owned() };
            let tail = redact_query(tail);
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => format!("{scheme}://{authority}{}", redact_query(tail)),
    }
}

/// Hides `password=` in a query string.
fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({})", redact(&self.raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_backends() {
        let u = DbUrl::parse("sqlite://daylight.db").unwrap();
        assert_eq!(u.backend(), Backend::Sqlite);
        assert_eq!(u.sqlite_path().unwrap(), PathBuf::from("daylight.db"));
        let u = DbUrl::parse("sqlite:///var/lib/daylight/d.db?mode=rwc").unwrap();
        assert_eq!(u.sqlite_path().unwrap(), PathBuf::from("/var/lib/daylight/d.db"));
        assert_eq!(DbUrl::parse("postgresql://h/db").unwrap().backend(), Backend::Postgres);
        assert!(DbUrl::parse("mysql://h/db").unwrap_err().to_string().contains("sqlite://"));
        assert!(DbUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_never_print() {
        let u = DbUrl::parse("postgres://daylight:s3cret@db.bank:5432/daylight?sslmode=require&password=x2")
            .unwrap();
        let shown = format!("{u} {u:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("x2"), "{shown}");
        assert_eq!(
            u.to_string(),
            "postgres://daylight:***@db.bank:5432/daylight?sslmode=require&password=***"
        );
        assert_eq!(
            u.expose(),
            "postgres://daylight:s3cret@db.bank:5432/daylight?sslmode=require&password=x2"
        );
        let err = DbUrl::parse("pg://u:s3cret@h/db").unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }
}
