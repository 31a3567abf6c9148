//! Test support: a fresh database per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL tests start their own server once per test process: Debian's PostgreSQL 15
//! binaries (`/usr/lib/postgresql/15/bin`, or `DAYLIGHT_PG_BIN`) `initdb` into a temporary
//! folder and listen on a free loopback port. A watchdog holds a pipe from the test process;
//! when the process ends, however it ends, the pipe closes and the watchdog stops the server
//! and removes the folder. Each test gets its own database, dropped when the test finishes.
//!
//! `DAYLIGHT_TEST_PG_URL` (an admin URL such as `postgres://me@127.0.0.1:5432/postgres`) uses
//! an existing server instead. Under `CI=true` a PostgreSQL that cannot be started fails the
//! test; elsewhere the PostgreSQL half of a contract test is skipped with a notice.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use daylight_store::postgres::PgStore;
use daylight_store::sqlite::SqliteStore;
use daylight_store::{DbUrl, Store};
use sqlx::Connection;

/// Where Debian puts PostgreSQL 15.
const DEFAULT_PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A database made for one test.
pub struct TestDb {
    url: DbUrl,
    /// Keeps the SQLite folder alive for the test.
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL database to drop afterwards, with the admin URL.
    pg: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite file in a temporary folder.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = DbUrl::parse(&format!("sqlite://{}", dir.path().join("test.db").display()))
            .expect("a sqlite URL");
        TestDb { url, _dir: Some(dir), pg: None }
    }

    /// A new database on the test process's PostgreSQL server; `None` (after a notice on
    /// stderr) when no server can be started and `CI` is not `true`.
    pub async fn postgres() -> Option<TestDb> {
        let admin = match admin_url() {
            Ok(url) => url,
            Err(why) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("CI=true and PostgreSQL is unavailable: {why}");
                }
                eprintln!("note: skipping the PostgreSQL half of this test: {why}");
                return None;
            }
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("t_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the test server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} TEMPLATE template0")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        conn.close().await.ok();
        let url = DbUrl::parse(&db_url(&admin, &name)).expect("a postgres URL");
        Some(TestDb { url, _dir: None, pg: Some((name, admin)) })
    }

    /// The database URL.
    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    /// Opens the store (creating the SQLite file).
    pub async fn open(&self) -> Box<dyn Store> {
        match self.pg {
            None => Box::new(SqliteStore::open(&self.url, true).await.expect("open sqlite")),
            Some(_) => Box::new(PgStore::open(&self.url).await.expect("open postgres")),
        }
    }

    /// Runs `sql` on a connection of its own, past the store: for tests that play the part of
    /// someone editing the database by hand.
    pub async fn execute_raw(&self, sql: &str) -> u64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.pg {
            None => {
                let mut c = sqlx::SqliteConnection::connect(self.url.expose()).await.expect("connect sqlite");
                sqlx::query(sql).execute(&mut c).await.expect("raw sql").rows_affected()
            }
            Some(_) => {
                let mut c = sqlx::PgConnection::connect(self.url.expose()).await.expect("connect postgres");
                sqlx::query(sql).execute(&mut c).await.expect("raw sql").rows_affected()
            }
        }
    }

    /// The text of every non-null cell `sql` selects (each cast to text), read past the store:
    /// what someone with `sqlite3` or `psql` on the database would see.
    pub async fn raw_texts(&self, sql: &str) -> Vec<String> {
        use sqlx::Row as _;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let mut out = Vec::new();
        match self.pg {
            None => {
                let mut c = sqlx::SqliteConnection::connect(self.url.expose()).await.expect("connect sqlite");
                for row in sqlx::query(sql).fetch_all(&mut c).await.expect("raw sql") {
                    for i in 0..row.len() {
                        out.extend(row.try_get::<Option<String>, _>(i).expect("text columns"));
                    }
                }
            }
            Some(_) => {
                let mut c = sqlx::PgConnection::connect(self.url.expose()).await.expect("connect postgres");
                for row in sqlx::query(sql).fetch_all(&mut c).await.expect("raw sql") {
                    for i in 0..row.len() {
                        out.extend(row.try_get::<Option<String>, _>(i).expect("text columns"));
                    }
                }
            }
        }
        out
    }

    /// Drops the PostgreSQL database (the SQLite folder goes with `self`).
    pub async fn finish(self) {
        if let Some((name, admin)) = &self.pg {
            let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect to the test server");
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut conn)
                .await
                .expect("drop the test database");
            conn.close().await.ok();
        }
    }
}

/// `admin` with its database replaced by `name`.
fn db_url(admin: &str, name: &str) -> String {
    let (base, _) = admin.rsplit_once('/').expect("an admin URL ends in /DATABASE");
    format!("{base}/{name}")
}

/// The admin URL of the test server, starting it on first use.
fn admin_url() -> Result<String, String> {
    if let Ok(url) = std::env::var("DAYLIGHT_TEST_PG_URL") {
        return Ok(url);
    }
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER.get_or_init(start_server).clone()
}

/// Keeps the watchdog's pipe open for the life of the process.
static WATCHDOG: Mutex<Option<ChildStdin>> = Mutex::new(None);

fn start_server() -> Result<String, String> {
    let bin = PathBuf::from(std::env::var("DAYLIGHT_PG_BIN").unwrap_or_else(|_| DEFAULT_PG_BIN.into()));
    if !bin.join("initdb").exists() {
        return Err(format!("no initdb in {} (install postgresql-15 or set DAYLIGHT_PG_BIN)", bin.display()));
    }
    // initdb and postgres refuse to run as root: run them as the `postgres` user then.
    let run_as = if is_root() { Some(user_ids("postgres")?) } else { None };
    let root = tempfile::Builder::new()
        .prefix("daylight-pg-")
        .tempdir()
        .map_err(|e| format!("temporary folder: {e}"))?
        .keep();
    let data = root.join("data");
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(&root, Some(uid), Some(gid)).map_err(|e| format!("chown: {e}"))?;
    }
    let command = |program: &str| {
        let mut c = Command::new(bin.join(program));
        if let Some((uid, gid)) = run_as {
            use std::os::unix::process::CommandExt;
            c.uid(uid).gid(gid);
        }
        c
    };
    run(command("initdb").args(["-D"]).arg(&data).args([
        "-U",
        "daylight",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
    ]))?;
    // The watchdog first: from here on, whatever happens, the server is stopped at exit.
    let script = format!(
        "cat >/dev/null; '{}' -D '{}' -m immediate stop >/dev/null 2>&1; rm -rf '{}'",
        bin.join("pg_ctl").display(),
        data.display(),
        root.display()
    );
    let mut child = watchdog_shell(run_as, &script)?;
    *WATCHDOG.lock().expect("watchdog lock") = child.stdin.take();

    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300",
            data.display()
        );
        let log = root.join("server.log");
        match run(command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &opts, "start"]))
        {
            Ok(()) => return Ok(format!("postgres://daylight@127.0.0.1:{port}/postgres")),
            Err(e) => last = format!("{e}; server log: {}", tail(&log)),
        }
    }
    Err(format!("pg_ctl start failed: {last}"))
}

fn watchdog_shell(run_as: Option<(u32, u32)>, script: &str) -> Result<std::process::Child, String> {
    let mut c = Command::new("sh");
    c.args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some((uid, gid)) = run_as {
        use std::os::unix::process::CommandExt;
        c.uid(uid).gid(gid);
    }
    c.spawn().map_err(|e| format!("watchdog: {e}"))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} exited with {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn tail(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        f.read_to_string(&mut s).ok();
    }
    s.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
}

fn is_root() -> bool {
    // The effective uid of this process owns /proc/self.
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// uid and gid of `user` from /etc/passwd.
fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&user) && f.len() > 3)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .ok_or_else(|| format!("running as root needs a `{user}` user to run PostgreSQL"))
}

/// Declares contract tests: each `fn name(store, db) { … }` becomes a module with a `sqlite`
/// and a `postgres` test that run the body against a fresh database of that backend. The body
/// gets the opened store and the [`TestDb`]; it panics on failure.
#[macro_export]
macro_rules! contract {
    ($($(#[$meta:meta])* fn $name:ident($store:ident, $db:ident) $body:block)+) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[allow(unused_variables)]
            async fn body($store: &dyn ::daylight_store::Store, $db: &$crate::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::TestDb::sqlite();
                let store = db.open().await;
                body(&*store, &db).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::TestDb::postgres().await else { return };
                let store = db.open().await;
                body(&*store, &db).await;
                drop(store);
                db.finish().await;
            }
        }
    )+};
}
