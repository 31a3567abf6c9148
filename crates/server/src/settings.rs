//! The server's settings: a TOML file, then `DAYLIGHT_<SECTION>_<KEY>` variables over it, then
//! the command line over both. Parsed raw (unknown keys refused, errors naming the file, line
//! and column or the variable), then checked into [`Settings`], which cannot hold a bad value.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

/// A setting that cannot be used, naming where it came from.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct SettingsError {
    /// The file (with line and column when known) or the variable.
    pub origin: String,
    /// What was wrong and what was expected.
    pub message: String,
}

impl SettingsError {
    fn new(origin: impl Into<String>, message: impl Into<String>) -> SettingsError {
        SettingsError { origin: origin.into(), message: message.into() }
    }
}

/// Settings as written, every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    qc: RawQc,
    calls: Option<RawCalls>,
}

/// `[calls]`: Daylight's switch (see docs/calls.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalls {
    sip_bind: Option<String>,
    trunk: Option<String>,
    trunk_user: Option<String>,
    trunk_password: Option<String>,
    #[serde(default)]
    caller_ids: Vec<String>,
    vault: Option<PathBuf>,
    vault_recipient: Option<String>,
    vault_identity: Option<PathBuf>,
    max_calls: Option<i64>,
    ring_secs: Option<i64>,
    max_call_secs: Option<i64>,
    queue_secs: Option<i64>,
    bank: Option<String>,
    hotline: Option<String>,
    #[serde(default)]
    phones: std::collections::BTreeMap<String, String>,
    node: Option<String>,
    recognizer: Option<String>,
    recognizer_token: Option<String>,
    recognizer_timeout_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQc {
    rules: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    bind: Option<String>,
    db: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    trusted_proxies: Option<String>,
    ops_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    session_hours: Option<i64>,
    idle_minutes: Option<i64>,
    lock_after: Option<i64>,
    lock_minutes: Option<i64>,
    min_password_chars: Option<i64>,
    secure_cookies: Option<bool>,
    second_factor_roles: Option<String>,
    password_max_days: Option<i64>,
    password_history: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    body_bytes: Option<i64>,
    requests_per_second: Option<i64>,
    burst: Option<i64>,
    logins_per_minute: Option<i64>,
    request_timeout_secs: Option<i64>,
    header_read_timeout_secs: Option<i64>,
    max_connections: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: Option<String>,
    level: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the default: for the bank's log pipeline).
    Json,
    /// Human-readable lines.
    Text,
}

/// Validated settings.
#[derive(Clone, PartialEq)]
pub struct Settings {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The database URL (secret: never printed by `Debug`).
    pub db: String,
    /// TLS certificate and key (PEM), when the server terminates TLS itself.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A session ends this long after login, however busy.
    pub session_ttl: SignedDuration,
    /// A session ends after this long unused.
    pub idle_timeout: SignedDuration,
    /// Failed logins in a row that lock a user.
    pub lock_after: u32,
    /// How long a lock lasts.
    pub lock_for: SignedDuration,
    /// The shortest password accepted.
    pub min_password_chars: usize,
    /// Roles that must sign in with a second factor (`auth.second_factor_roles`, role names
    /// separated by commas; the admin role always, whatever the file says).
    pub second_factor_roles: Vec<daylight_store::access::Role>,
    /// A password older than this must be changed at the next sign-in (`auth.password_max_days`,
    /// default 90; 0: never).
    pub password_max_age: Option<SignedDuration>,
    /// A new password may not be one of the user's last this many (`auth.password_history`,
    /// default 5).
    pub password_history: u32,
    /// Cookies carry `Secure` (on by default with TLS; set it behind a TLS proxy).
    pub secure_cookies: bool,
    /// The largest request body.
    pub body_bytes: usize,
    /// Requests per second per client address, sustained.
    pub requests_per_second: u32,
    /// Requests per client address in a burst.
    pub burst: u32,
    /// Login attempts per minute per client address.
    pub logins_per_minute: u32,
    /// A request taking longer is answered 408.
    pub request_timeout: SignedDuration,
    /// A connection that has not sent a request's headers this long after it opened (or after
    /// its last answer) is closed (slowloris).
    pub header_read_timeout: SignedDuration,
    /// Connections served at once; more wait in the listener's backlog.
    pub max_connections: usize,
    /// Proxies whose `X-Forwarded-For` names the client (`server.trusted_proxies`, addresses
    /// or networks separated by commas); none: the peer's address is the client's.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A bearer token that opens `/metrics` and `/api/openapi.json` to a scraper without a
    /// session (`server.ops_token`, at least 24 characters); without it they need a sign-in.
    pub ops_token: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (`info`, `daylight_server=debug`, …).
    pub log_level: String,
    /// The clock (the real one, or one started at a chosen instant for rehearsals and tests).
    pub clock: Clock,
    /// The QC rules calls are analysed with (`qc.rules`, a TOML file; default: the shipped
    /// cn-default rules). Read and checked at start, so a bad file stops the server.
    pub qc_rules: daylight_qc::Rules,
    /// Daylight's switch (`[calls]`); none: calls cannot be placed from Daylight.
    pub calls: Option<CallSettings>,
}

/// Daylight's switch, as `[calls]` sets it.
#[derive(Clone, PartialEq)]
pub struct CallSettings {
    /// The switch's SIP UDP address.
    pub sip_bind: SocketAddr,
    /// The outbound trunk (URI template with `{number}`, digest credentials).
    pub trunk: daylight_calls::Trunk,
    /// Caller-ID numbers (属地号码): a debtor is called from the one sharing the longest prefix
    /// with their number, else the first.
    pub caller_ids: Vec<String>,
    /// The recordings vault (a folder).
    pub vault: PathBuf,
    /// The vault's age public key: recordings are encrypted to it.
    pub vault_recipient: String,
    /// The age identity file that opens recordings for playback (none: no playback).
    pub vault_identity: Option<PathBuf>,
    /// Calls at once.
    pub max_calls: usize,
    /// Ring time of each leg.
    pub ring_secs: u32,
    /// Longest call.
    pub max_call_secs: u32,
    /// How long a call in waits, ringing, in its team's queue for a collector to be ready
    /// (`calls.queue_secs`, default 60, 0–600; 0: no queue, refused at once when nobody is).
    pub queue_secs: u32,
    /// Each collector's phone: login → SIP URI.
    pub phones: std::collections::BTreeMap<String, String>,
    /// The bank's name as a robot says it (`calls.bank`, default 本行).
    pub bank: String,
    /// The number a robot gives debtors to call back (`calls.hotline`, default the first
    /// caller ID).
    pub hotline: String,
    /// The bank's speech recogniser (`calls.recognizer`, an `http://` URL; none: recordings are
    /// not transcribed), its bearer token (`calls.recognizer_token`) and the time it has per
    /// recording (`calls.recognizer_timeout_secs`, default 120).
    pub recognizer: Option<(String, Option<String>, u32)>,
    /// This switch's name among the switches sharing the database (`calls.node`; default the
    /// host's name and the SIP port): at start it finishes the calls it had placed and never
    /// finished as interrupted, and only those.
    pub node: String,
}

impl std::fmt::Debug for CallSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The trunk's password is a secret.
        f.debug_struct("CallSettings")
            .field("sip_bind", &self.sip_bind)
            .field("trunk", &self.trunk.uri_template)
            .field("vault", &self.vault)
            .field("phones", &self.phones.len())
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

fn call_settings(origin: &str, c: RawCalls) -> Result<CallSettings, SettingsError> {
    let need = |field: &str, v: Option<String>| {
        v.filter(|x| !x.trim().is_empty()).ok_or_else(|| {
            SettingsError::new(origin, format!("calls.{field} is required when [calls] is set"))
        })
    };
    let bind = c.sip_bind.unwrap_or_else(|| "127.0.0.1:5060".to_owned());
    let sip_bind = bind.parse().map_err(|_| {
        SettingsError::new(
            origin,
            format!("calls.sip_bind = {bind:?}: expected an address such as 127.0.0.1:5060"),
        )
    })?;
    let trunk = need("trunk", c.trunk)?;
    if !trunk.contains("{number}") || !trunk.starts_with("sip:") {
        return Err(SettingsError::new(
            origin,
            format!(
                "calls.trunk = {trunk:?}: expected a SIP URI template with {{number}}, such as sip:{{number}}@10.0.0.1:5060"
            ),
        ));
    }
    let vault_recipient = need("vault_recipient", c.vault_recipient)?;
    if !vault_recipient.starts_with("age1") {
        return Err(SettingsError::new(origin, "calls.vault_recipient: expected an age public key (age1…)"));
    }
    for (login, uri) in &c.phones {
        if !uri.starts_with("sip:") {
            return Err(SettingsError::new(
                origin,
                format!("calls.phones.{login} = {uri:?}: expected a SIP URI"),
            ));
        }
    }
    let bank =
        c.bank.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty()).unwrap_or_else(|| "本行".to_owned());
    let hotline = c
        .hotline
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| c.caller_ids.first().cloned())
        .unwrap_or_default();
    Ok(CallSettings {
        sip_bind,
        trunk: daylight_calls::Trunk {
            uri_template: trunk,
            username: c.trunk_user,
            password: c.trunk_password,
        },
        caller_ids: c.caller_ids,
        vault: c.vault.ok_or_else(|| {
            SettingsError::new(origin, "calls.vault (a folder) is required when [calls] is set")
        })?,
        vault_recipient,
        vault_identity: c.vault_identity,
        max_calls: ranged(origin, "calls.max_calls", c.max_calls, 100, 1, 10_000)? as usize,
        ring_secs: ranged(origin, "calls.ring_secs", c.ring_secs, 30, 15, 120)? as u32,
        max_call_secs: ranged(origin, "calls.max_call_secs", c.max_call_secs, 3600, 10, 14_400)? as u32,
        queue_secs: ranged(origin, "calls.queue_secs", c.queue_secs, 60, 0, 600)? as u32,
        bank,
        hotline,
        phones: c.phones,
        recognizer: match c.recognizer {
            None => None,
            Some(url) => {
                crate::recognizer::HttpRecognizer::new(&url, None, std::time::Duration::from_secs(1))
                    .map_err(|e| SettingsError::new(origin, format!("calls.recognizer = {e}")))?;
                let secs =
                    ranged(origin, "calls.recognizer_timeout_secs", c.recognizer_timeout_secs, 120, 5, 3600)?;
                Some((url, c.recognizer_token, secs as u32))
            }
        },
        node: match c.node.map(|n| n.trim().to_owned()) {
            Some(n) if n.is_empty() => return Err(SettingsError::new(origin, "calls.node: expected a name")),
            Some(n) => n,
            None => default_node(sip_bind),
        },
    })
}

/// The host's name and the SIP port: stable across restarts of one switch on one machine.
fn default_node(bind: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}", bind.port())
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("db", &"(redacted)")
            .field("tls", &self.tls)
            .field("session_ttl", &self.session_ttl)
            .field("idle_timeout", &self.idle_timeout)
            .field("lock_after", &self.lock_after)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("ops_token", &self.ops_token.as_ref().map(|_| "(redacted)"))
            .field("body_bytes", &self.body_bytes)
            .finish_non_exhaustive()
    }
}

/// The time the server goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    System,
    /// Starts at `at` when the server starts and runs at real speed: a demo database's day,
    /// or a test's fixed working morning.
    StartingAt {
        /// The instant the server starts at.
        at: Timestamp,
        /// The system time then.
        since: Timestamp,
    },
}

// The server's one reading of the wall clock: handlers take the time from here.
#[allow(clippy::disallowed_methods)]
impl Clock {
    /// A clock starting at `at` now.
    pub fn starting_at(at: Timestamp) -> Clock {
        Clock::StartingAt { at, since: Timestamp::now() }
    }

    /// The time now.
    pub fn now(&self) -> Timestamp {
        match *self {
            Clock::System => Timestamp::now(),
            Clock::StartingAt { at, since } => at + Timestamp::now().duration_since(since),
        }
    }
}

/// What the command line says, applied last.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--bind`.
    pub bind: Option<String>,
    /// `--db`.
    pub db: Option<String>,
    /// `--tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    pub tls_key: Option<PathBuf>,
    /// `--clock`.
    pub clock: Option<Timestamp>,
}

/// The shortest password accepted unless `auth.min_password_chars` says otherwise.
pub const DEFAULT_MIN_PASSWORD_CHARS: i64 = 10;

/// The default address: loopback only, so a first start exposes nothing.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Settings {
    /// Reads `file` (if given), the process's `DAYLIGHT_` variables, then `over`.
    pub fn load(file: Option<&Path>, over: &Overrides) -> Result<Settings, SettingsError> {
        let vars: Vec<(String, String)> =
            std::env::vars().filter(|(k, _)| k.starts_with("DAYLIGHT_")).collect();
        let text = match file {
            Some(p) => Some((
                p.display().to_string(),
                std::fs::read_to_string(p)
                    .map_err(|e| SettingsError::new(p.display().to_string(), format!("cannot read: {e}")))?,
            )),
            None => None,
        };
        Settings::from_parts(text.as_ref().map(|(n, t)| (n.as_str(), t.as_str())), &vars, over)
    }

    /// The defaults with `db`, for tests and the demo.
    pub fn for_db(db: &str) -> Settings {
        Settings::from_parts(None, &[], &Overrides { db: Some(db.into()), ..Overrides::default() })
            .expect("the defaults are valid")
    }

    /// [`Settings::load`] without IO: `file` is `(name, text)`, `vars` the environment.
    pub fn from_parts(
        file: Option<(&str, &str)>,
        vars: &[(String, String)],
        over: &Overrides,
    ) -> Result<Settings, SettingsError> {
        let mut table = match file {
            Some((name, text)) => {
                // Read once as settings, so a wrong key or type is reported at its line and column.
                toml::from_str::<Raw>(text).map_err(|e| located(name, text, &e))?;
                text.parse::<toml::Table>().map_err(|e| located(name, text, &e))?
            }
            None => toml::Table::new(),
        };
        for (key, value) in vars {
            apply_var(&mut table, key, value)?;
        }
        let origin = file.map_or("settings", |(n, _)| n).to_owned();
        let raw: Raw = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| SettingsError::new(&origin, e.message().to_owned()))?;
        validate(raw, over, &origin)
    }
}

fn located(name: &str, text: &str, e: &toml::de::Error) -> SettingsError {
    let at = e.span().map(|s| {
        let before = &text[..s.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(":{line}:{col}")
    });
    SettingsError::new(format!("{name}{}", at.unwrap_or_default()), e.message().to_owned())
}

/// The sections a `DAYLIGHT_<SECTION>_<KEY>` variable may name. `DAYLIGHT_DB` and
/// `DAYLIGHT_BIND` are short for the server section's keys.
const SECTIONS: [&str; 5] = ["server", "auth", "limits", "log", "qc"];

/// Variables the command line reads for itself, not settings.
const NOT_SETTINGS: [&str; 3] = ["DAYLIGHT_PG_BIN", "DAYLIGHT_TEST_PG_URL", "DAYLIGHT_CONFIG"];

fn apply_var(table: &mut toml::Table, key: &str, value: &str) -> Result<(), SettingsError> {
    if NOT_SETTINGS.contains(&key) || !key.starts_with("DAYLIGHT_") {
        return Ok(());
    }
    let rest = key["DAYLIGHT_".len()..].to_ascii_lowercase();
    let (section, field) = match rest.as_str() {
        "db" | "bind" | "tls_cert" | "tls_key" | "trusted_proxies" | "ops_token" => ("server", rest.as_str()),
        _ => match SECTIONS.iter().find(|s| rest.starts_with(&format!("{s}_"))) {
            Some(s) => (*s, &rest[s.len() + 1..]),
            // Other tools' variables (DAYLIGHT_PG_BIN, …) are not the server's business.
            None => return Ok(()),
        },
    };
    let parsed = if let Ok(i) = value.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(b) = value.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(value.to_owned())
    };
    let entry = table.entry(section).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(t) => {
            t.insert(field.to_owned(), parsed);
            Ok(())
        }
        _ => Err(SettingsError::new(key, format!("[{section}] is not a table in the settings file"))),
    }
}

fn ranged(
    origin: &str,
    field: &str,
    v: Option<i64>,
    default: i64,
    lo: i64,
    hi: i64,
) -> Result<i64, SettingsError> {
    let v = v.unwrap_or(default);
    if !(lo..=hi).contains(&v) {
        return Err(SettingsError::new(origin, format!("{field} = {v}: expected {lo} to {hi}")));
    }
    Ok(v)
}

fn validate(raw: Raw, over: &Overrides, origin: &str) -> Result<Settings, SettingsError> {
    let bind_text = over.bind.clone().or(raw.server.bind).unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let bind = bind_text.parse::<SocketAddr>().map_err(|_| {
        SettingsError::new(
            origin,
            format!("server.bind = {bind_text:?}: expected an address and port such as 127.0.0.1:8080"),
        )
    })?;
    let db = over.db.clone().or(raw.server.db).unwrap_or_else(|| daylight_store::DEFAULT_DB_URL.to_owned());
    let cert = over.tls_cert.clone().or(raw.server.tls_cert);
    let key = over.tls_key.clone().or(raw.server.tls_key);
    let tls = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(SettingsError::new(origin, "tls_cert and tls_key go together: give both or neither"));
        }
    };
    let a = &raw.auth;
    let l = &raw.limits;
    let format = match raw.log.format.as_deref() {
        None | Some("json") => LogFormat::Json,
        Some("text") => LogFormat::Text,
        Some(other) => {
            return Err(SettingsError::new(
                origin,
                format!("log.format = {other:?}: expected \"json\" or \"text\""),
            ));
        }
    };
    let hours = |n: i64| SignedDuration::from_hours(n);
    let minutes = |n: i64| SignedDuration::from_mins(n);
    Ok(Settings {
        bind,
        db,
        secure_cookies: a.secure_cookies.unwrap_or(tls.is_some()),
        tls,
        session_ttl: hours(ranged(origin, "auth.session_hours", a.session_hours, 12, 1, 24 * 7)?),
        idle_timeout: minutes(ranged(origin, "auth.idle_minutes", a.idle_minutes, 30, 1, 24 * 60)?),
        lock_after: ranged(origin, "auth.lock_after", a.lock_after, 5, 1, 100)? as u32,
        lock_for: minutes(ranged(origin, "auth.lock_minutes", a.lock_minutes, 15, 1, 24 * 60)?),
        min_password_chars: ranged(
            origin,
            "auth.min_password_chars",
            a.min_password_chars,
            DEFAULT_MIN_PASSWORD_CHARS,
            8,
            128,
        )? as usize,
        second_factor_roles: {
            let mut roles = vec![daylight_store::access::Role::Admin];
            for word in a.second_factor_roles.as_deref().unwrap_or("").split(',').map(str::trim) {
                if word.is_empty() {
                    continue;
                }
                let role = word.parse::<daylight_store::access::Role>().map_err(|e| {
                    SettingsError::new(origin, format!("auth.second_factor_roles: {}", e.message))
                })?;
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
            roles
        },
        password_max_age: match ranged(origin, "auth.password_max_days", a.password_max_days, 90, 0, 3650)? {
            0 => None,
            days => Some(hours(days * 24)),
        },
        password_history: ranged(origin, "auth.password_history", a.password_history, 5, 0, 24)? as u32,
        body_bytes: ranged(origin, "limits.body_bytes", l.body_bytes, 1 << 20, 1 << 10, 1 << 30)? as usize,
        requests_per_second: ranged(
            origin,
            "limits.requests_per_second",
            l.requests_per_second,
            50,
            1,
            1_000_000,
        )? as u32,
        burst: ranged(origin, "limits.burst", l.burst, 200, 1, 1_000_000)? as u32,
        logins_per_minute: ranged(origin, "limits.logins_per_minute", l.logins_per_minute, 20, 1, 100_000)?
            as u32,
        request_timeout: SignedDuration::from_secs(ranged(
            origin,
            "limits.request_timeout_secs",
            l.request_timeout_secs,
            30,
            1,
            3600,
        )?),
        header_read_timeout: SignedDuration::from_secs(ranged(
            origin,
            "limits.header_read_timeout_secs",
            l.header_read_timeout_secs,
            10,
            1,
            300,
        )?),
        max_connections: ranged(origin, "limits.max_connections", l.max_connections, 4096, 16, 1_000_000)?
            as usize,
        trusted_proxies: match &raw.server.trusted_proxies {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| {
                    t.parse::<ipnet::IpNet>()
                        .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| {
                            SettingsError::new(
                                origin,
                                format!("server.trusted_proxies: {t:?}: expected an address or a network such as 10.0.0.0/8"),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        },
        ops_token: match raw.server.ops_token {
            Some(t) if t.chars().count() < 24 => {
                return Err(SettingsError::new(origin, "server.ops_token: expected at least 24 characters"));
            }
            t => t,
        },
        log_format: format,
        log_level: raw.log.level.unwrap_or_else(|| "info".to_owned()),
        clock: over.clock.map_or(Clock::System, Clock::starting_at),
        qc_rules: match &raw.qc.rules {
            None => daylight_qc::Rules::default_rules(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    SettingsError::new(origin, format!("qc.rules = {}: cannot read it: {e}", path.display()))
                })?;
                daylight_qc::Rules::parse(&path.display().to_string(), &text)
                    .map_err(|e| SettingsError::new(origin, format!("qc.rules: {e}")))?
            }
        },
        calls: raw.calls.map(|c| call_settings(origin, c)).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn file_then_variables_then_command_line() {
        let file = "[server]\nbind = \"0.0.0.0:9000\"\n[auth]\nlock_after = 3\n";
        let s = Settings::from_parts(
            Some(("daylight.toml", file)),
            &vars(&[
                ("DAYLIGHT_AUTH_LOCK_AFTER", "7"),
                ("DAYLIGHT_DB", "sqlite://x.db"),
                ("DAYLIGHT_PG_BIN", "/x"),
            ]),
            &Overrides { bind: Some("127.0.0.1:9001".into()), ..Overrides::default() },
        )
        .unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:9001");
        assert_eq!((s.lock_after, s.db.as_str()), (7, "sqlite://x.db"));
        assert!(!format!("{s:?}").contains("x.db"), "the URL is redacted");
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn errors_name_the_place() {
        let e = Settings::from_parts(
            Some(("d.toml", "[auth]\nlock_after = \"x\"\n")),
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(e.origin, "d.toml:2:14");
        assert!(e.message.contains("expected i64"), "{e}");
        let e = Settings::from_parts(Some(("d.toml", "[auth]\nlockafter = 3\n")), &[], &Overrides::default())
            .unwrap_err();
        assert_eq!(e.origin, "d.toml:2:1");
        assert!(e.message.contains("lockafter"), "{e}");
        let e =
            Settings::from_parts(None, &vars(&[("DAYLIGHT_AUTH_LOCK_AFTER", "0")]), &Overrides::default())
                .unwrap_err();
        assert!(e.message.contains("auth.lock_after = 0: expected 1 to 100"), "{e}");
        let over = Overrides { tls_cert: Some("c.pem".into()), ..Overrides::default() };
        assert!(Settings::from_parts(None, &[], &over).unwrap_err().message.contains("together"));
    }
}
