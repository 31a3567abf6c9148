//! The command line, as clap derives it. Every command has `--help`; data commands have
//! `--json`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use daylight_domain::bucket::{Bucket, BucketScheme};
use daylight_domain::case::CaseStatus;
use daylight_ledger::Checkpoint;
use daylight_store::model::ImportKind;

/// Daylight (阳光催收): credit-card collections in daylight — efficient, within the law, and
/// provably so.
#[derive(Debug, Parser)]
#[command(name = "daylight", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Database URL: sqlite://PATH (default) or postgres://USER:PASSWORD@HOST:PORT/DB (password and
    /// port optional).
    #[arg(long, global = true, env = "DAYLIGHT_DB", default_value = daylight_store::DEFAULT_DB_URL, hide_env_values = true)]
    pub db: String,

    /// Who is acting, as the ledger records it (default: cli:$USER).
    #[arg(long, global = true, env = "DAYLIGHT_ACTOR")]
    pub actor: Option<String>,

    /// The master key file that wraps the database's data keys (64 hex digits, mode 600;
    /// created for a new database). Default: ~/.config/daylight/master.key.
    #[arg(long, global = true, env = "DAYLIGHT_KEY_FILE")]
    pub key_file: Option<PathBuf>,

    /// The language of the human output: zh-CN or en (default: DAYLIGHT_LANG, else the locale,
    /// else English). JSON output and error codes are the same in both.
    #[arg(long, global = true)]
    pub lang: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database and its schema, or upgrade the schema (safe to run again).
    Init(InitArgs),
    /// Import a CSV file of customers, contacts, accounts, transactions or payments.
    Import(ImportArgs),
    /// The evidence chain: verify it, list its events.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Counts per table, per bucket and per case status.
    Stats(JsonFlag),
    /// The keys that seal personal data at rest: their status, a rotation, a new master key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Collection cases: list them, show one, assign one (also `daylight case …`).
    #[command(subcommand, visible_alias = "case")]
    Cases(CasesCommand),
    /// Settings: show them, change the bucket scheme.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Compliance: judge contacts (JSON lines in, decisions out), explain and benchmark the
    /// policy packs, put one in force.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// QC: analyse call transcripts (findings, debtor signals, promises), lint scripts and SMS
    /// templates, list the codes, score the rules on a labelled corpus.
    #[command(subcommand)]
    Qc(QcCommand),
    /// China's statutory holidays (放假日) and make-up working days (调休上班日).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Contacts through the compliance gate: record one made, start one before dialling,
    /// finish it, list the unfinished, a debtor's flags.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Models: scorecard statistics (IV, WoE) of a data file.
    #[command(subcommand)]
    Model(ModelCommand),
    /// The daily contact plan: every open case's next action (channel, recipient, contact point,
    /// script, window, priority, arm, reasons), pre-checked by the compliance pack and stored as
    /// a version; --replay rebuilds a stored plan from its stored input.
    Plan(PlanArgs),
    /// Strategies: check a strategy file, print the default one to start from.
    #[command(subcommand)]
    Strategy(StrategyCommand),
    /// Experiments: champion / challenger / holdout arms by a stable hash of the customer id;
    /// sample sizes.
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// Set up ./daylight-demo: a simulated portfolio of 20,000 card accounts through the store,
    /// sixty days under the baseline, models trained, a thirty-day champion / challenger /
    /// holdout experiment, the report and its headline. Every number is simulated.
    Demo(DemoArgs),
    /// The digital twin: simulate a virtual portfolio day by day under a strategy (the real
    /// planner and compliance engine, simulated debtors) and print what came of it. Every
    /// number it prints is simulated. With --db on the command line, the run goes through that
    /// database (new, or without customers): the twin's debtors are imported, each day is
    /// planned from it, and its contacts, notes, promises and payments are recorded through
    /// the store's compliance gate and imports.
    Simulate(SimulateArgs),
    /// Serve the console and the REST API (OpenAPI at /api/openapi.json) on --bind; stops
    /// cleanly on Ctrl-C. Settings from --config, then DAYLIGHT_ variables, then the flags.
    Serve(ServeArgs),
    /// Users of the console and the API: add one, list them, reset a password.
    #[command(subcommand)]
    User(UserCommand),
    /// Call recordings: purge those past the pack's retention period, put cases under a legal
    /// hold (诉讼保全) that keeps them, lift it, list the holds.
    #[command(subcommand)]
    Recordings(RecordingsCommand),
}

#[derive(Debug, Subcommand)]
pub enum RecordingsCommand {
    /// Delete the audio (and with it the per-file key) of every recording past the pack's
    /// `[recordings] retain_years`, counted from the recording and from the case's last
    /// contact; cases under a legal hold are skipped. Each purge is a ledger event; the hash
    /// stays. Exit 1 if a file could not be deleted.
    Purge(PurgeArgs),
    /// Put a case under a legal hold: its recordings are kept whatever their age.
    Hold(HoldArgs),
    /// Lift a case's legal hold.
    Release(CaseArg),
    /// The cases under a legal hold.
    Holds(JsonFlag),
    /// Batch export (录音和催记批量导出): cases' contact records and notes (CSV) and their
    /// recordings as stored (age ciphertext, hashes as in the ledger) in one ZIP with
    /// `manifest.json`. Each recording exported is a `recording.accessed` event.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The case ids.
    #[arg(required = true)]
    pub cases: Vec<String>,
    /// The recordings vault (the folder `calls.vault` names).
    #[arg(long)]
    pub vault: PathBuf,
    /// The ZIP to write (refused if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The recordings vault (the folder `calls.vault` names).
    #[arg(long)]
    pub vault: PathBuf,
    /// Judge the retention at this instant (RFC 3339) instead of now: to rehearse a purge.
    #[arg(long)]
    pub at: Option<jiff::Timestamp>,
    /// List what would be purged; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HoldArgs {
    /// The case id.
    pub case: String,
    /// Why (the court order, the complaint, the regulator's request).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct CaseArg {
    /// The case id.
    pub case: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (default 127.0.0.1:8080, or the settings file's).
    #[arg(long, env = "DAYLIGHT_BIND")]
    pub bind: Option<String>,
    /// A TOML settings file (sections server, auth, limits, log, qc, calls; see docs/console.md and docs/calls.md).
    #[arg(long, env = "DAYLIGHT_CONFIG")]
    pub config: Option<PathBuf>,
    /// TLS certificate chain (PEM); with --tls-key the server speaks HTTPS only.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Run the server's clock from this instant (RFC 3339) instead of the system's: to work a
    /// demo or rehearsal database on its own day. The console shows it in the header.
    #[arg(long)]
    pub clock: Option<jiff::Timestamp>,
    /// Loopback phones for a demo, in place of a `[calls]` section: every user gets a phone on
    /// 127.0.0.1 that answers, and debtors' numbers answer through a loopback trunk (about one in
    /// ten each is busy, rings out, or is 空号). Recordings and the vault's key go in this folder.
    #[arg(long, value_name = "DIR")]
    pub demo_phones: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. Without --password-stdin a one-time password is made and printed once;
    /// the user must change it at first sign-in.
    Add(UserAddArgs),
    /// List users (mobiles masked).
    List(JsonFlag),
    /// Give a user a new one-time password (printed once) and end their sessions.
    ResetPassword(UserLoginArgs),
    /// Remove a user's second factor (a lost phone; the last admin locked out) and end their
    /// sessions; they enrol again at their next sign-in.
    ResetSecondFactor(UserLoginArgs),
    /// Teams and agencies on record (a user's --team or --agency names one): list, add, rename.
    #[command(subcommand)]
    Units(UnitCommand),
}

#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// List the teams or agencies, with their members counted.
    List(UnitListArgs),
    /// Put a team or agency on record.
    Add(UnitArgs),
    /// Rename a team or agency (its id, which users and cases name, stays).
    Rename(UnitArgs),
}

#[derive(Debug, Args)]
pub struct UnitListArgs {
    /// `team` or `agency`.
    #[arg(long, default_value = "team")]
    pub kind: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UnitArgs {
    /// `team` or `agency`.
    #[arg(long, default_value = "team")]
    pub kind: String,
    /// Its id (T1, AG01): 1 to 32 letters, digits, '-' or '_'.
    #[arg(long)]
    pub id: String,
    /// Its name (信用卡催收一组).
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// Employee number: the login (E001).
    #[arg(long)]
    pub login: String,
    /// Full name.
    #[arg(long)]
    pub name: String,
    /// admin, compliance_officer, strategy_analyst, team_lead, collector, agency_manager,
    /// agency_collector or auditor.
    #[arg(long)]
    pub role: String,
    /// Team (required for team leads and collectors).
    #[arg(long)]
    pub team: Option<String>,
    /// Agency (required for agency roles).
    #[arg(long)]
    pub agency: Option<String>,
    /// Mobile phone: a second way to sign in.
    #[arg(long)]
    pub mobile: Option<String>,
    /// Read the password from standard input (one line) instead of making a one-time one. It
    /// must meet the password rules and need not be changed.
    #[arg(long)]
    pub password_stdin: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UserLoginArgs {
    /// The user's login.
    #[arg(long)]
    pub login: String,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Card accounts (one debtor each).
    #[arg(long, default_value_t = 20_000)]
    pub accounts: u64,
    /// Days to simulate.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// The seed: the same seed gives the same population and the same run.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The strategy (TOML; default: the baseline, `daylight strategy baseline`, or with an
    /// experiment the default strategy, `daylight strategy default`).
    #[arg(long)]
    pub strategy: Option<PathBuf>,
    /// The first simulated day.
    #[arg(long, default_value = "2026-03-02")]
    pub start: jiff::civil::Date,
    /// Run an experiment: arms `name:weight,…` (e.g. champion:45,challenger:45,holdout:10);
    /// debtors are assigned by the stable hash of --salt and their id. The run's strategy
    /// (--strategy, or else the default, model-driven one) is the team's and the one under
    /// test; an arm follows its --arm-strategy, or else `champion` the baseline and every other
    /// arm the run's strategy (`holdout` without model-driven treatment).
    #[arg(long)]
    pub arms: Option<String>,
    /// The experiment's salt.
    #[arg(long, default_value = "twin")]
    pub salt: String,
    /// Follow a stored experiment's arms and salt (`daylight experiment create`; needs --db).
    #[arg(long, conflicts_with = "arms")]
    pub experiment: Option<String>,
    /// An arm's strategy, `NAME=FILE` (repeatable).
    #[arg(long = "arm-strategy", value_name = "NAME=FILE")]
    pub arm_strategy: Vec<String>,
    /// Write an HTML report with SVG charts (daily contact rate per arm, recovery curve,
    /// bucket flow).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print JSON: {"summary":{...},"days":[...]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The day to plan (each debtor's local day).
    #[arg(long)]
    pub date: jiff::civil::Date,
    /// The strategy (TOML); default: the latest saved (the console's editor, `daylight strategy
    /// save`), else the built-in one (`daylight strategy default`).
    #[arg(long)]
    pub strategy: Option<PathBuf>,
    /// Follow this experiment's arms (see `daylight experiment create`).
    #[arg(long)]
    pub experiment: Option<String>,
    /// Plan as of this instant (RFC 3339) instead of now: slots before it are over, and only
    /// facts before it are read. For rehearsals and the digital twin.
    #[arg(long)]
    pub as_of: Option<jiff::Timestamp>,
    /// Also write the actions as CSV.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Rebuild the stored plan of --date from its stored input and compare (exit 1 if it differs).
    #[arg(long)]
    pub replay: bool,
    /// With --replay: this version of the date's plans (default: the latest).
    #[arg(long, requires = "replay")]
    pub plan_version: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum StrategyCommand {
    /// Check a strategy file: every key known, every reference resolved (errors name the line
    /// or the field); prints its ladders.
    Check(StrategyCheckArgs),
    /// Print the built-in strategy, annotated, to copy and edit.
    Default,
    /// Check a strategy file and save it as the next version (as the console's editor does):
    /// `daylight plan` without --strategy plans under the latest saved.
    Save(StrategySaveArgs),
    /// The saved strategy versions, newest first.
    History(JsonFlag),
    /// Print a saved strategy (the latest, or VERSION; the built-in one when none is saved).
    Show(StrategyShowArgs),
    /// Print the baseline strategy: the default ladders at fixed hours, without models.
    Baseline,
    /// Walk a robot flow with scripted keys, printing what the robot says (with an example
    /// case's facts, amounts and dates in words) and does, and the outcome.
    Walk(StrategyWalkArgs),
    /// Train the script-and-channel scorer on what followed earlier plans: each proposed
    /// contact, and whether the case paid within --window-days. With --register it becomes a
    /// challenger named `selector`; promote it and `daylight plan` uses it.
    Learn(LearnArgs),
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Days after a plan's day a payment counts as its outcome.
    #[arg(long, default_value_t = 7)]
    pub window_days: i64,
    /// Learn as of this instant (RFC 3339; default now): plans whose window has closed by then.
    #[arg(long)]
    pub until: Option<jiff::Timestamp>,
    /// Register the result as a challenger named `selector`.
    #[arg(long)]
    pub register: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StrategySaveArgs {
    /// The strategy file (TOML).
    pub file: PathBuf,
    /// Why it changes (kept with the version).
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct StrategyShowArgs {
    /// The version (default: the latest).
    #[arg(value_name = "VERSION")]
    pub number: Option<i64>,
}

#[derive(Debug, Args)]
pub struct StrategyCheckArgs {
    /// The strategy file (TOML).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct StrategyWalkArgs {
    /// The strategy file (TOML; default the built-in strategy).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The flow's name.
    #[arg(long)]
    pub flow: String,
    /// What the caller does, in order: a key (0–9, *, #), `t` silence until the timeout, `c` a
    /// collector answering the transfer, `n` nobody free. Silence once they run out.
    #[arg(long, default_value = "")]
    pub keys: String,
    /// Also speak each prompt with espeak-ng's Mandarin voice into this folder
    /// (`01-notice.wav`, …; 8 kHz mono, as a call carries it), to listen to the flow.
    #[arg(long)]
    pub speak: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Create an experiment: its arms and salt are stored once and never change, so every
    /// customer keeps their arm.
    Create(ExperimentCreateArgs),
    /// Print `id,arm` for each customer id in a file (one per line; a first line `id` is a
    /// header). The same on every run and host.
    Assign(ExperimentAssignArgs),
    /// Units per arm to detect a difference of means δ: n = 2σ²(z₁₋α/₂ + z₁₋β)²/δ², rounded up.
    Size(ExperimentSizeArgs),
    /// The experiments in the database.
    List(JsonFlag),
    /// Per arm since the experiment began: T+1 contact rate, right-party-contact rate, PTP rate,
    /// kept rate, recovered amount, cost per customer, complaints; 95 % intervals and p-values
    /// against the first arm; a warning for arms below the sample size.
    Report(ExperimentReportArgs),
}

#[derive(Debug, Args)]
pub struct ExperimentReportArgs {
    /// The experiment.
    pub name: String,
    /// Start of the window (RFC 3339; default: when the experiment was created).
    #[arg(long)]
    pub from: Option<jiff::Timestamp>,
    /// End of the window (RFC 3339; default now).
    #[arg(long)]
    pub until: Option<jiff::Timestamp>,
    /// σ of the primary metric for the sample-size check (the requirements' 0.18).
    #[arg(long, default_value_t = 0.18)]
    pub sigma: f64,
    /// δ worth detecting for the sample-size check (the requirements' 0.05).
    #[arg(long, default_value_t = 0.05)]
    pub delta: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExperimentCreateArgs {
    /// Its name: lower-case letters, digits, - and _.
    #[arg(long)]
    pub name: String,
    /// Arms and their weights, in cut order, e.g. champion:45,challenger:45,holdout:10. An arm
    /// named holdout gets no model-driven treatment.
    #[arg(long)]
    pub arms: String,
    /// The salt of the hash (default: the name). A new salt reshuffles customers.
    #[arg(long)]
    pub salt: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExperimentAssignArgs {
    /// The experiment.
    #[arg(long)]
    pub name: String,
    /// A file of customer ids, one per line (the first field of a CSV line).
    #[arg(long)]
    pub ids: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExperimentSizeArgs {
    /// Standard deviation of the outcome per unit (for a rate p: √(p(1−p)), e.g. 0.18).
    #[arg(long)]
    pub sigma: f64,
    /// The smallest difference of means worth detecting, in the outcome's units (e.g. 0.05).
    #[arg(long)]
    pub delta: f64,
    /// Two-sided significance level: the chance of declaring a difference that is not there.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Power: the chance of detecting a difference of δ when it is there.
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Information value of every feature of a CSV file, with the bins and WoE behind each.
    Iv(IvArgs),
    /// Train gradient-boosted trees on a CSV file; prints the held-out AUC, KS and Gini.
    Train(TrainArgs),
    /// Search the trees' parameters by TPE over k-fold cross-validated AUC, train the best on
    /// the whole file, write it and (with --register) register it as a challenger. Meant to run
    /// weekly.
    Tune(TuneArgs),
    /// Score a CSV file with a model (ours, XGBoost JSON or LightGBM text, told by content).
    Predict(PredictArgs),
    /// Measure a model on a CSV file with the target: AUC, KS, Gini.
    Eval(EvalArgs),
    /// Measure scoring speed in process: the file's rows repeated to --rows, on one thread and
    /// on all cores; the last line is `N rows/s`.
    BenchPredict(BenchPredictArgs),
    /// Export the labelled rows a product model learns from (contactability: one per dial;
    /// propensity: one per delinquent case and week) as CSV, built from the database.
    Dataset(DatasetArgs),
    /// Train a product model (contactability or propensity) on the database's history; the
    /// latest weeks are held out. With --register it becomes a challenger in the registry.
    Fit(FitArgs),
    /// A debtor's best times to call on a day: 15-minute slots ranked by P(connect) among
    /// those the compliance pack in force allows.
    BestTime(BestTimeArgs),
    /// Score every open case with a product model: case, score (CSV).
    Score(ScoreArgs),
    /// Register a model file in the database's registry as a challenger (a new version).
    Register(RegisterArgs),
    /// List the registry: versions, status, metrics.
    List(ModelListArgs),
    /// Make a version the champion of its name; the champion before it is retired.
    Promote(PromoteArgs),
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The model file (ours, XGBoost JSON or LightGBM text).
    #[arg(long)]
    pub model: PathBuf,
    /// The name it serves under, e.g. propensity.
    #[arg(long)]
    pub name: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ModelListArgs {
    /// Only this name.
    #[arg(long)]
    pub name: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The model's name.
    pub name: String,
    /// The version to promote.
    #[arg(value_name = "VERSION", id = "model_version")]
    pub version: i64,
}

#[derive(Debug, Args)]
pub struct BenchPredictArgs {
    /// The model file.
    #[arg(long)]
    pub model: PathBuf,
    /// A CSV file with the model's features.
    #[arg(long)]
    pub data: PathBuf,
    /// Rows to score (the file's rows repeated).
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A CSV file with a 0/1 target, and how to read its columns.
#[derive(Debug, Args)]
pub struct LabelledData {
    /// The CSV file (a header row; empty cells are missing).
    #[arg(long)]
    pub data: PathBuf,
    /// The target column: 1 (bad) or 0 (good) on every row.
    #[arg(long)]
    pub target: String,
    /// Columns to leave out (ids, leaks).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Columns to treat as categorical although they hold numbers (text columns always are).
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The file and its target.
    #[command(flatten)]
    pub input: LabelledData,
    /// Parameters as key=value: rounds, max_depth, eta, subsample, colsample_bytree,
    /// min_child_weight, lambda, max_bin, test_share, threads.
    #[arg(long, value_delimiter = ',')]
    pub params: Vec<String>,
    /// Seed of the held-out split and of sampling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Measure on this file (same columns) instead of holding out a share of --data.
    #[arg(long)]
    pub holdout: Option<PathBuf>,
    /// Where to write the model (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The file and its target.
    #[command(flatten)]
    pub input: LabelledData,
    /// Fixed parameters as key=value (threads, max_bin, test_share); searched ones are
    /// overwritten by the search.
    #[arg(long, value_delimiter = ',')]
    pub params: Vec<String>,
    /// Trials in all.
    #[arg(long, default_value_t = 30)]
    pub trials: usize,
    /// Trials drawn at random before TPE takes over.
    #[arg(long, default_value_t = 8)]
    pub startup: usize,
    /// Folds of the cross-validation.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the search, the folds and the trees.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the best model (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write every trial here (JSON lines).
    #[arg(long)]
    pub trials_out: Option<PathBuf>,
    /// Register the best model under this name as a challenger (needs the database).
    #[arg(long)]
    pub register: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The history window of a product model.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// contactability or propensity.
    #[arg(long, value_parser = |s: &str| s.parse::<daylight_scoring::product::Kind>().map_err(|e| e.message))]
    pub kind: daylight_scoring::product::Kind,
    /// Start of the history, RFC 3339 (default: 180 days before --until).
    #[arg(long)]
    pub from: Option<String>,
    /// End of the history, RFC 3339 (default: now); nothing from it on is read.
    #[arg(long)]
    pub until: Option<String>,
    /// Dials a segment's hour rate is worth against a debtor's own (m).
    #[arg(long, default_value_t = daylight_scoring::features::DEBTOR_STRENGTH)]
    pub debtor_strength: f64,
    /// Dials the portfolio's hour rate is worth against a segment's (M).
    #[arg(long, default_value_t = daylight_scoring::features::SEGMENT_STRENGTH)]
    pub segment_strength: f64,
}

#[derive(Debug, Args)]
pub struct DatasetArgs {
    /// Which rows and window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Where to write the CSV.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Which model and window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Tree parameters as key=value (see `model train`); test_share is the latest share held out.
    #[arg(long, value_delimiter = ',')]
    pub params: Vec<String>,
    /// Seed of the trees.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Contactability only: the shrinkage estimator alone, no trees (any history, even none).
    #[arg(long)]
    pub shrinkage_only: bool,
    /// Where to write the model (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Register it under this name as a challenger.
    #[arg(long)]
    pub register: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BestTimeArgs {
    /// The case, e.g. CASE-C0003.
    #[arg(long)]
    pub case: String,
    /// The day, YYYY-MM-DD in the debtor's time zone (default: today there).
    #[arg(long)]
    pub date: Option<String>,
    /// The debtor's phone to call (default: any).
    #[arg(long)]
    pub contact_point: Option<String>,
    /// A contactability model file (default: the registry's champion of --name, else the
    /// shrinkage estimator on the database's history).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The registry name to take the champion of.
    #[arg(long, default_value = "contactability")]
    pub name: String,
    /// Judge as of this time, RFC 3339 (default: now): history before it counts and slots
    /// before it are over. For audits ("what did it say then?") and rehearsals.
    #[arg(long)]
    pub as_of: Option<String>,
    /// How many slots to show.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// A product model file (default: the registry's champion of --name).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The registry name to take the champion of.
    #[arg(long, default_value = "propensity")]
    pub name: String,
    /// The time to score at, RFC 3339 (default: now).
    #[arg(long)]
    pub at: Option<String>,
    /// Write here (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file.
    #[arg(long)]
    pub model: PathBuf,
    /// The CSV file to score.
    #[arg(long)]
    pub data: PathBuf,
    /// Write the scores here (default: standard output): the data's first column and `score`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model file.
    #[arg(long)]
    pub model: PathBuf,
    /// The CSV file, with the target.
    #[arg(long)]
    pub data: PathBuf,
    /// The target column: 1 (bad) or 0 (good).
    #[arg(long)]
    pub target: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IvArgs {
    /// The file and its target.
    #[command(flatten)]
    pub input: LabelledData,
    /// At most this many bins per numeric feature (missing values aside).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(2..=100))]
    pub bins: u16,
    /// How numeric features are cut: tree (toad's default), quantile or monotonic.
    #[arg(long, default_value = "tree")]
    pub method: daylight_scoring::Method,
    /// For --method monotonic: the least share of rows in a bin.
    #[arg(long, default_value_t = 0.05)]
    pub min_share: f64,
    /// Print {"features":[{"name":…,"iv":…,"bins":[…]}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Read requests as JSON lines on stdin and write one decision per line, in order
    /// (format: docs/compliance.md). A malformed line gets {"line":N,"error":...}.
    Check(PackArgs),
    /// Print a pack's rules with their citations, in English and Chinese.
    Explain(ExplainArgs),
    /// List the packs Daylight ships.
    List(JsonFlag),
    /// Measure in-process decisions per second (one core) on a 30-day-history workload.
    Bench(BenchArgs),
    /// Put a pack in force for every contact recorded in this database.
    Use(UseArgs),
    /// Show the pack in force in this database.
    Show(JsonFlag),
}

#[derive(Debug, Args)]
pub struct PackArgs {
    /// A shipped pack: cn-default, cn-cba-2026, us-reg-f (default cn-default).
    #[arg(long, conflicts_with = "pack_file")]
    pub pack: Option<String>,
    /// A pack from a TOML file (copy a shipped one from crates/compliance/packs/).
    #[arg(long)]
    pub pack_file: Option<PathBuf>,
    /// More calendar years from a file of the shipped calendar's form.
    #[arg(long)]
    pub calendar: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Which pack.
    #[command(flatten)]
    pub pack: PackArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UseArgs {
    /// Which pack.
    #[command(flatten)]
    pub pack: PackArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Only this shipped pack (default: all three).
    #[arg(long)]
    pub pack: Option<String>,
    /// Seconds to measure each pack.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Mainland China: the days off and make-up working days of a year.
    Cn(CalendarArgs),
    /// Enter a year from the State Council's notice into the pack in force (a file of the
    /// shipped calendar's `[[year]]` form): checked against the statutory days, then written into
    /// the pack's text and put in force, a ledger event. --check only shows the comparison.
    Add(CalendarAddArgs),
    /// Where the pack in force's calendar ends, and what happens after (exit 1 within 60 days
    /// of the end or past it).
    Status(JsonFlag),
}

#[derive(Debug, Args)]
pub struct CalendarAddArgs {
    /// The year's days off and make-up working days.
    pub file: PathBuf,
    /// Only compare with the statutory days; change nothing.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// The year.
    #[arg(long)]
    pub year: i16,
    /// More years from a file of the shipped calendar's form.
    #[arg(long)]
    pub calendar: Option<PathBuf>,
    /// Print {"year":…,"holidays":[…],"workdays":[…]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Record a contact already made, if the pack in force allows it then (exit 1 when denied;
    /// the denial is recorded in the ledger).
    Record(RecordArgs),
    /// Ask before dialling, now: when allowed, the contact is stored as started and holds its
    /// place under the caps until `contact finish` (exit 1 when denied). A start not finished
    /// within two hours is recorded without a result.
    Start(ContactArgs),
    /// Give a started contact its outcome.
    Finish(FinishArgs),
    /// List contacts started and not finished.
    Started(JsonFlag),
    /// Show or set a debtor's flags: cease (stop contact), opt-outs, consented hours.
    Flags(FlagsArgs),
    /// Tag a debtor with what a collector or QC found: hardship (negotiation queue, no
    /// pressure scripts), abusive (another channel mix) or anxious (soothing scripts); --clear
    /// removes the tag.
    Tag(TagArgs),
    /// Ask for, decide or list team leads' confirmations of calls to third parties (emergency
    /// contacts, relatives, colleagues): the gate reads them itself, for 24 hours from the
    /// decision; nobody can assert one.
    #[command(subcommand, name = "third-party")]
    ThirdParty(ThirdPartyCommand),
}

#[derive(Debug, Subcommand)]
pub enum ThirdPartyCommand {
    /// Ask a team lead to confirm a call to a third party's number (as the acting collector).
    Request(ThirdPartyRequestArgs),
    /// Approve or reject a request (as the acting team lead: never the one who asked).
    Decide(ThirdPartyDecideArgs),
    /// The requests of a case, or every waiting one.
    List(ThirdPartyListArgs),
}

#[derive(Debug, Args)]
pub struct ThirdPartyRequestArgs {
    /// The case, e.g. CASE-C0008.
    #[arg(long)]
    pub case: String,
    /// The third party's contact point, e.g. P0008-E1.
    #[arg(long)]
    pub contact_point: String,
    /// Why the debtor cannot be reached otherwise.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct ThirdPartyDecideArgs {
    /// The request's id (from `third-party request` or `list`).
    pub id: i64,
    /// Approve it.
    #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
    pub approve: bool,
    /// Reject it.
    #[arg(long)]
    pub reject: bool,
}

#[derive(Debug, Args)]
pub struct ThirdPartyListArgs {
    /// Only this case's requests (default: every waiting one).
    #[arg(long)]
    pub case: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The debtor's customer id, e.g. C0003.
    #[arg(long)]
    pub customer: String,
    /// hardship, abusive or anxious.
    #[arg(long)]
    pub tag: String,
    /// What was reported (required to set a tag; kept in the database, its digest in the ledger).
    #[arg(long, required_unless_present = "clear")]
    pub note: Option<String>,
    /// Remove the tag.
    #[arg(long, conflicts_with = "note")]
    pub clear: bool,
}

#[derive(Debug, Args)]
pub struct ContactArgs {
    /// The case, e.g. CASE-C0003.
    #[arg(long)]
    pub case: String,
    /// call, robot_call, sms, email, letter or visit.
    #[arg(long, value_parser = parse_word::<daylight_domain::attempt::Channel>)]
    pub channel: daylight_domain::attempt::Channel,
    /// debtor, guarantor or third_party.
    #[arg(long, default_value = "debtor", value_parser = parse_word::<daylight_domain::customer::Recipient>)]
    pub recipient: daylight_domain::customer::Recipient,
    /// The contact point (phone, e-mail or address id).
    #[arg(long)]
    pub contact_point: Option<String>,
    /// The account (debt) it is about.
    #[arg(long)]
    pub account: Option<String>,
    /// Who: collector:LOGIN, robot:ID or agency:AGENCY/LOGIN.
    #[arg(long)]
    pub agent: String,
    /// When, RFC 3339 with an offset (default: now). A start must be now; a record cannot be
    /// in the future.
    #[arg(long)]
    pub at: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The contact.
    #[command(flatten)]
    pub contact: ContactArgs,
    /// What came of it (docs/compliance.md lists the outcomes).
    #[arg(long, value_parser = parse_word::<daylight_domain::attempt::Outcome>)]
    pub outcome: daylight_domain::attempt::Outcome,
    /// Talk time in seconds.
    #[arg(long, default_value_t = 0)]
    pub duration: u32,
    /// The note (催记).
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct FinishArgs {
    /// The started contact's id (from `contact start`).
    pub id: i64,
    /// What came of it.
    #[arg(long, value_parser = parse_word::<daylight_domain::attempt::Outcome>)]
    pub outcome: daylight_domain::attempt::Outcome,
    /// Talk time in seconds.
    #[arg(long, default_value_t = 0)]
    pub duration: u32,
    /// The note (催记).
    #[arg(long)]
    pub note: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FlagsArgs {
    /// The customer, e.g. C0003.
    pub customer: String,
    /// Set or clear the cease flag (letters only).
    #[arg(long)]
    pub cease: Option<bool>,
    /// Set the channels opted out of, comma-separated ("" for none).
    #[arg(long)]
    pub opt_out: Option<String>,
    /// Set or clear consent to contact outside the usual hours.
    #[arg(long)]
    pub consented_hours: Option<bool>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Mark the database as a `demo` or `test` database: only such a database may be served
    /// on a rehearsal clock (`serve --clock`). Unmarked is production.
    #[arg(long, value_parser = ["demo", "test"])]
    pub purpose: Option<String>,
    /// PostgreSQL: create (if missing) the role the server should connect as, and grant it what
    /// it needs, the ledger read and appended only (no UPDATE, DELETE or TRUNCATE). Run again
    /// after an upgrade.
    #[arg(long, value_name = "ROLE")]
    pub app_role: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_parser = parse_word::<ImportKind>)]
    pub kind: ImportKind,
    /// The CSV file (columns: docs/import.md).
    pub file: PathBuf,
    /// Text encoding: utf-8 (a BOM is fine), gbk or gb18030.
    #[arg(long, default_value = "utf-8", value_parser = |s: &str| s.parse::<daylight_import::Encoding>())]
    pub encoding: daylight_import::Encoding,
    /// Store the good rows even when some rows are refused (exit code 3 then).
    #[arg(long, conflicts_with = "check")]
    pub partial: bool,
    /// Check only: validate every row (references to stored records included) and write the
    /// rejects file, but store nothing (exit 0 when the file is clean, 1 when not).
    #[arg(long)]
    pub check: bool,
    /// IANA zone of local date-times in the file.
    #[arg(long, default_value = daylight_domain::customer::DEFAULT_TIME_ZONE)]
    pub time_zone: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute the hash chain; exit 1 naming the first bad seq, or print the head hash.
    Verify(VerifyArgs),
    /// List ledger events in order.
    List(ListArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// The master key, the data keys and how many stored values each seals.
    Status(JsonFlag),
    /// Rotate the data key without stopping the product: add a new key, wait until every
    /// running process has loaded it, make it the active one, then re-seal every value.
    Rotate(RotateArgs),
    /// Wrap the data keys with another master key file (created if missing); then put that
    /// file where the servers read theirs.
    Rewrap(RewrapArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Seconds to wait between adding the key, activating it and re-sealing (running
    /// processes reload the keys every 30 s).
    #[arg(long, default_value_t = 65)]
    pub grace: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RewrapArgs {
    /// The new master key file.
    #[arg(long)]
    pub new_key_file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A SEQ:HASH an auditor kept (from an earlier `verify`); the chain must pass through it.
    #[arg(long = "checkpoint", value_parser = |s: &str| s.parse::<Checkpoint>())]
    pub checkpoints: Vec<Checkpoint>,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Start after this seq.
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// At most this many events.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    /// Print JSON lines, one event each.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// List cases, worst first.
    List(CaseListArgs),
    /// Show one case: debtor (masked), contacts, accounts, attempts, notes, promises, plans,
    /// waivers, bucket moves, payments.
    Show(CaseShowArgs),
    /// Assign a case to a user (a collector, team lead or agency user): the case takes their
    /// team or agency.
    Assign(CaseAssignArgs),
}

#[derive(Debug, Args)]
pub struct CaseAssignArgs {
    /// The case id (CASE-C0003).
    #[arg(long)]
    pub case: String,
    /// The user's login.
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct CaseListArgs {
    /// Only this status: open, closed, legal, written_off.
    #[arg(long, value_parser = parse_word::<CaseStatus>)]
    pub status: Option<CaseStatus>,
    /// Only this bucket: M0 … M6, M6+.
    #[arg(long, value_parser = parse_word::<Bucket>)]
    pub bucket: Option<Bucket>,
    /// Only cases assigned to this collector.
    #[arg(long)]
    pub collector: Option<String>,
    /// Find cases by a case id, the debtor's full name, resident ID or a full phone number
    /// (exact, by their blind indexes), or a card's last four digits.
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Skip this many.
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CaseShowArgs {
    /// The case id: CASE- and the customer id, e.g. CASE-C0003.
    pub case: String,
    /// Show these fields in clear: name, resident_id, address, contact:ID (comma-separated).
    /// Each one shown is recorded in the ledger with --purpose.
    #[arg(long, value_delimiter = ',', requires = "purpose")]
    pub reveal: Vec<String>,
    /// Why the clear values are needed (recorded in the ledger).
    #[arg(long)]
    pub purpose: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show every setting.
    Show(JsonFlag),
    /// Set where buckets M1 … M6+ begin (days past due), re-bucket every account and case, and
    /// record the moves, e.g. `1,31,61,91,121,151,181`.
    SetBuckets(SetBucketsArgs),
}

#[derive(Debug, Args)]
pub struct SetBucketsArgs {
    /// Seven rising day counts.
    #[arg(value_parser = |s: &str| s.parse::<BucketScheme>().map_err(|e| e.to_string()))]
    pub scheme: BucketScheme,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The folder to set up (its database is replaced if it holds an earlier demo).
    #[arg(long, default_value = "daylight-demo")]
    pub dir: PathBuf,
    /// Virtual card accounts (one debtor each).
    #[arg(long, default_value_t = 20_000)]
    pub accounts: u64,
    /// Days of history under the baseline strategy, before the models are trained.
    #[arg(long, default_value_t = 60)]
    pub history_days: u32,
    /// Days of the champion / challenger / holdout experiment.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// The twin's seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The first day of the history (the default leaves the experiment's days free of
    /// statutory holidays).
    #[arg(long, default_value = "2026-06-01")]
    pub start: jiff::civil::Date,
    /// Stop after the report and the console's set-up (users, tomorrow's plan), printing the
    /// command that serves it, instead of serving the console until Ctrl-C.
    #[arg(long)]
    pub no_serve: bool,
    /// Where the console listens.
    #[arg(long, default_value = daylight_server::settings::DEFAULT_BIND)]
    pub bind: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_word<T: std::str::FromStr<Err = daylight_domain::Invalid>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: daylight_domain::Invalid| e.message)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_command_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}

#[derive(Debug, Subcommand)]
pub enum QcCommand {
    /// Analyse transcripts (JSON files, or directories of them): one result per call.
    Analyze(QcAnalyzeArgs),
    /// Lint scripts and SMS templates: a strategy file's scripts (*.toml), or a text file of
    /// templates, one per line. Exits 1 when anything is flagged.
    LintScript(QcLintArgs),
    /// List the codes the rules raise, with severity and title.
    Rules(QcRulesArgs),
    /// Precision and recall per code on a labelled corpus (transcripts with an `expect` field).
    Eval(QcEvalArgs),
}

#[derive(Debug, Args)]
pub struct QcAnalyzeArgs {
    /// Transcript files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print one JSON line per transcript.
    #[arg(long)]
    pub json: bool,
    /// A rule file (default: the shipped cn-default rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QcLintArgs {
    /// A strategy (*.toml) or a text file of templates.
    pub file: PathBuf,
    /// Print one JSON line per finding.
    #[arg(long)]
    pub json: bool,
    /// A rule file (default: the shipped cn-default rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QcRulesArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// A rule file (default: the shipped cn-default rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QcEvalArgs {
    /// A directory of labelled transcripts.
    pub dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// List every call a code was missed or wrongly raised in.
    #[arg(long)]
    pub misses: bool,
    /// A rule file (default: the shipped cn-default rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}
