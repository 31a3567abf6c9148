//! `daylight`: the command line of Daylight, and the one place that picks a storage backend and
//! reads the clock.
//!
//! - `args`: the commands and flags (clap).
//! - `commands`: one function per command.
//! - `output`: aligned tables and amounts for the terminal.
//!
//! Exit codes: 0 done; 1 refused (an import with errors stored nothing, the ledger is
//! broken, or the compliance gate denied a contact); 2 could not run (bad arguments, no database, unreadable file); 3 an import with
//! `--partial` stored the good rows and refused some.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use anyhow::{Context, Result};
use daylight_store::postgres::PgStore;
use daylight_store::sqlite::SqliteStore;
use daylight_store::{Backend, DbUrl, Store, require_current_schema};
use jiff::Timestamp;

mod args;
mod commands;
mod demo;
mod experiment;
mod flow;
mod model;
mod output;
mod plan;
mod policy;
mod product;
mod qc;
mod recordings;
mod say;
mod serve;
mod simulate;
mod twin_report;
mod twin_store;

use args::{Cli, Command};

/// How a command ended, as the process exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Done,
    /// Refused: nothing stored, or the ledger is broken.
    Refused,
    /// Stored in part.
    Partial,
}

fn main() -> ExitCode {
    // `daylight … | head` closes the pipe early: end quietly, as Unix tools do.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info)
    }));
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Only a --db typed on the command line sends the twin to a database (never DAYLIGHT_DB).
    let db_typed = matches.value_source("db") == Some(clap::parser::ValueSource::CommandLine);
    // The server sets up its own logs (JSON by default, from its settings).
    if !matches!(cli.command, Command::Serve(_)) {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("DAYLIGHT_LOG")
                    .unwrap_or_else(|_| "warn,sqlx=error".into()),
            )
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(cli, db_typed)) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Refused) => ExitCode::from(1),
        Ok(Outcome::Partial) => ExitCode::from(3),
        Err(e) => {
            match code_of(&e) {
                Some(code) => eprintln!("error[{code}]: {e:#}"),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli, db_typed: bool) -> Result<Outcome> {
    say::choose(cli.lang.as_deref());
    let actor = cli.actor.clone().unwrap_or_else(default_actor);
    let url = DbUrl::parse(&cli.db)?;
    KEY_FILE.get_or_init(|| cli.key_file.clone());
    match cli.command {
        Command::Init(a) => commands::init(&url, &actor, &a, a.json).await,
        Command::Import(a) => commands::import(&url, &actor, &a).await,
        Command::Ledger(c) => commands::ledger(&url, c).await,
        Command::Stats(a) => commands::stats(&url, a.json).await,
        Command::Keys(c) => commands::keys(&url, &actor, c).await,
        Command::Cases(c) => commands::cases(&url, &actor, c).await,
        Command::Config(c) => commands::config(&url, &actor, c).await,
        Command::Policy(c) => policy::policy(&url, &actor, c).await,
        Command::Calendar(c) => policy::calendar(&url, &actor, c).await,
        Command::Qc(c) => qc::run(c),
        Command::Contact(c) => policy::contact(&url, &actor, c).await,
        Command::Model(c) => model::run(&url, &actor, c).await,
        Command::Plan(a) => plan::run(&url, &actor, &a).await,
        Command::Strategy(c) => plan::strategy(&url, &actor, c).await,
        Command::Experiment(c) => experiment::run(&url, &actor, c).await,
        Command::Demo(a) => demo::run(&actor, &a).await,
        Command::Simulate(a) => simulate::run(&a, &actor, db_typed.then_some(&url)).await,
        Command::Serve(a) => serve::serve(&cli.db, db_typed, &a).await,
        Command::User(c) => serve::user(&url, &actor, c).await,
        Command::Recordings(c) => recordings::run(&url, &actor, c).await,
    }
}

/// The stable code of the first cause in `e` that has one.
fn code_of(e: &anyhow::Error) -> Option<&'static str> {
    e.chain().find_map(|cause| {
        if let Some(s) = cause.downcast_ref::<daylight_store::StoreError>() {
            Some(s.code())
        } else if let Some(q) = cause.downcast_ref::<daylight_qc::QcError>() {
            Some(q.code)
        } else if let Some(p) = cause.downcast_ref::<daylight_compliance::PolicyError>() {
            Some(p.code)
        } else if let Some(m) = cause.downcast_ref::<daylight_scoring::gbdt::ModelError>() {
            Some(m.code)
        } else if let Some(x) = cause.downcast_ref::<daylight_strategy::experiment::ExperimentError>() {
            Some(x.code)
        } else if let Some(x) = cause.downcast_ref::<daylight_strategy::document::StrategyError>() {
            Some(x.code)
        } else if let Some(x) = cause.downcast_ref::<daylight_strategy::plan::PlanError>() {
            Some(x.code)
        } else if let Some(x) = cause.downcast_ref::<daylight_sim::world::SimError>() {
            Some(x.code)
        } else {
            cause.downcast_ref::<daylight_import::ImportError>().map(|i| i.code())
        }
    })
}

/// `cli:$USER`, or `cli` when the user is unknown.
fn default_actor() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
        Ok(u) if !u.is_empty() => format!("cli:{u}"),
        _ => "cli".to_owned(),
    }
}

/// The wall clock, read here and passed everywhere else as an argument.
#[allow(clippy::disallowed_methods)]
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// The master key file `--key-file` names (else the store's default: `DAYLIGHT_KEY_FILE`, then
/// `~/.config/daylight/master.key`). Set once, from the arguments.
pub static KEY_FILE: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

/// Opens the database `url` names: the one place a backend is chosen. With `create`, a
/// missing SQLite file is created (for `init`); otherwise the schema must be current.
pub async fn open(url: &DbUrl, create: bool) -> Result<Box<dyn Store>> {
    let key_file = KEY_FILE.get().cloned().flatten();
    let store: Box<dyn Store> = match (url.backend(), key_file) {
        (Backend::Sqlite, None) => Box::new(SqliteStore::open(url, create).await?),
        (Backend::Sqlite, Some(k)) => Box::new(SqliteStore::open(url, create).await?.with_key_file(k)),
        (Backend::Postgres, None) => Box::new(PgStore::open(url).await?),
        (Backend::Postgres, Some(k)) => Box::new(PgStore::open(url).await?.with_key_file(k)),
    };
    if !create {
        require_current_schema(&*store).await.with_context(|| format!("database {url}"))?;
    }
    Ok(store)
}
