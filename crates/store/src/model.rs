//! What crosses the storage port besides domain types: import batches, views of stored records,
//! statistics and filters.

use std::collections::BTreeMap;

use daylight_domain::account::{CardAccount, Component, Payment};
use daylight_domain::agreement::{
    ArrangementStatus, ArrangementTerms, Instalment, PromiseStatus, WaiverStatus,
};
use daylight_domain::attempt::Attempt;
use daylight_domain::bucket::{Bucket, BucketMove};
use daylight_domain::case::{Case, CaseStatus, Note};
use daylight_domain::customer::{ContactPoint, Customer};
use daylight_domain::id::{AccountId, CaseId, ContactId};
use daylight_domain::pii::PersonName;
use daylight_domain::vocabulary;
use daylight_domain::{Currency, Money};
use jiff::Timestamp;
use serde::Serialize;

vocabulary! {
    /// What an import file holds.
    pub enum ImportKind ("import kind") {
        /// Customers (debtors).
        Customers = "customers",
        /// Contact points of debtors and related people.
        Contacts = "contacts",
        /// Card accounts.
        Accounts = "accounts",
        /// Card transactions.
        Transactions = "transactions",
        /// Payments.
        Payments = "payments",
    }
}

/// Tables whose keys an import may ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTable {
    /// `customers`.
    Customers,
    /// `contact_points`.
    ContactPoints,
    /// `accounts`.
    Accounts,
    /// `transactions`.
    Transactions,
    /// `payments`.
    Payments,
}

impl KeyTable {
    /// The column naming the record a row belongs to (a contact point's customer, a
    /// transaction's account), for the tables whose rows may not move to another.
    pub const fn owner_column(self) -> Option<&'static str> {
        match self {
            KeyTable::ContactPoints | KeyTable::Accounts => Some("customer_id"),
            KeyTable::Transactions | KeyTable::Payments => Some("account_id"),
            KeyTable::Customers => None,
        }
    }

    /// The table name.
    pub const fn table(self) -> &'static str {
        match self {
            KeyTable::Customers => "customers",
            KeyTable::ContactPoints => "contact_points",
            KeyTable::Accounts => "accounts",
            KeyTable::Transactions => "transactions",
            KeyTable::Payments => "payments",
        }
    }
}

/// Where an import batch comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMeta {
    /// What the file holds.
    pub kind: ImportKind,
    /// The file's name as given.
    pub file_name: String,
    /// Who imported it.
    pub actor: String,
    /// When the import started.
    pub at: Timestamp,
    /// Stored with `--partial` (good rows kept, bad rows rejected).
    pub partial: bool,
    /// Columns the file does not carry: records already stored keep their values there
    /// (a file without an `address` column does not erase addresses).
    pub keep: Vec<&'static str>,
}

/// What an import reports when it commits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    /// SHA-256 of the file's bytes, hex: ties the ledger event to the exact file. Known only
    /// once the file has been read to the end, so it comes with the commit.
    pub file_sha256: String,
    /// Data rows read.
    pub rows_total: u64,
    /// Rows stored as new records.
    pub rows_inserted: u64,
    /// Rows that updated an existing record.
    pub rows_updated: u64,
    /// Rows refused.
    pub rows_rejected: u64,
    /// Rejections by code.
    pub rejects_by_code: BTreeMap<String, u64>,
}

/// What a committed import left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchReceipt {
    /// The batch id.
    pub batch_id: i64,
    /// The `import.batch` ledger event.
    pub ledger_seq: i64,
    /// Accounts that moved from one bucket to another.
    pub bucket_moves: u64,
    /// Cases opened, updated or closed.
    pub cases_touched: u64,
}

/// An account as the store knows it before an import changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// The owner.
    pub customer: String,
    /// The account's currency.
    pub currency: Currency,
    /// Its bucket.
    pub bucket: Bucket,
}

/// Schema state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// Last migration applied (0 when none).
    pub applied: i64,
    /// Last migration this build knows.
    pub known: i64,
}

/// What `migrate` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrateReport {
    /// Version before.
    pub from: i64,
    /// Version after.
    pub to: i64,
    /// True when this call created the schema (and wrote the first ledger event).
    pub created: bool,
}

/// Rows per table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCount {
    /// Table name.
    pub table: &'static str,
    /// Rows.
    pub rows: i64,
}

/// Accounts per bucket and currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketStat {
    /// The bucket.
    pub bucket: Bucket,
    /// The currency of the sums.
    pub currency: Currency,
    /// Accounts in it.
    pub accounts: i64,
    /// Their balances, minor units.
    pub balance_minor: i64,
    /// Their overdue amounts, minor units.
    pub overdue_minor: i64,
}

/// Cases per bucket and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseStat {
    /// The case bucket.
    pub bucket: Bucket,
    /// The status.
    pub status: CaseStatus,
    /// Cases.
    pub cases: i64,
}

/// `daylight stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Rows per table.
    pub tables: Vec<TableCount>,
    /// Accounts per bucket.
    pub buckets: Vec<BucketStat>,
    /// Cases per bucket and status.
    pub cases: Vec<CaseStat>,
}

/// A registered model version (without its document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelVersion {
    /// The model's name.
    pub name: String,
    /// Its version, from 1.
    pub version: i64,
    /// `daylight`, `xgboost` or `lightgbm`.
    pub source: String,
    /// `challenger`, `champion` or `retired`.
    pub status: String,
    /// SHA-256 of the document.
    pub sha256: String,
    /// Held-out metrics (JSON).
    pub metrics: String,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A model to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewModel {
    /// The model's name: lower-case letters, digits, `-` and `_`.
    pub name: String,
    /// `daylight`, `xgboost` or `lightgbm`.
    pub source: String,
    /// Held-out metrics (JSON; `{}` when none).
    pub metrics: String,
    /// The model file.
    pub document: String,
}

/// An experiment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExperiment {
    /// Its name: lower-case letters, digits, `-` and `_`.
    pub name: String,
    /// Its arms, `name:weight,…` in cut order (checked by the strategy engine's `Arms`).
    pub arms: String,
    /// The salt of the assignment hash.
    pub salt: String,
}

/// A stored experiment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Experiment {
    /// Its name.
    pub name: String,
    /// Its arms, `name:weight,…`.
    pub arms: String,
    /// The salt of the assignment hash.
    pub salt: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A saved strategy version (its text with [`PlanStore::strategy`](crate::PlanStore::strategy)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrategyVersion {
    /// Its version, from 1.
    pub version: i64,
    /// The strategy's name (its `name` key).
    pub name: String,
    /// SHA-256 of its text, hex.
    pub sha256: String,
    /// Why it was saved.
    pub note: Option<String>,
    /// Who saved it.
    pub saved_by: String,
    /// When.
    pub saved_at: Timestamp,
}

/// A plan to store: the planner's input, already compressed, and what it made of it. The store
/// keeps both as documents and does not know the planner's types.
#[derive(Debug, Clone, Copy)]
pub struct NewPlan<'a> {
    /// The planner's input.
    pub input: &'a PlanInputJson,
    /// The plan.
    pub plan: &'a PlanJson,
}

/// A plan as the store keeps it: its JSON (stored with its SHA-256) and the figures the plan
/// list shows.
#[derive(Debug, Clone)]
pub struct PlanJson {
    pub(crate) date: jiff::civil::Date,
    pub(crate) strategy: String,
    pub(crate) json: String,
    pub(crate) actions: u64,
    pub(crate) skipped: serde_json::Value,
}

impl PlanJson {
    /// `plan` as JSON, with its date, its strategy's name, its number of actions and its skips
    /// by reason (a map of code to count).
    pub fn of<P: Serialize, S: Serialize>(
        plan: &P,
        date: jiff::civil::Date,
        strategy: &str,
        actions: usize,
        skipped: &S,
    ) -> crate::Result<PlanJson> {
        let json_error = |e: serde_json::Error| {
            crate::StoreError::Invalid(daylight_domain::Invalid::new(
                daylight_domain::Code::Inconsistent,
                format!("the plan does not write as JSON: {e}"),
            ))
        };
        Ok(PlanJson {
            date,
            strategy: strategy.to_owned(),
            json: serde_json::to_string(plan).map_err(json_error)?,
            actions: actions as u64,
            skipped: serde_json::to_value(skipped).map_err(json_error)?,
        })
    }

    /// The plan's JSON, as stored.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// A planner's input as the store keeps it: its JSON, zstd-compressed, and the SHA-256 of the
/// JSON. Made apart from storing so that a caller can compress while it plans.
#[derive(Debug, Clone)]
pub struct PlanInputJson {
    pub(crate) date: jiff::civil::Date,
    pub(crate) strategy: String,
    pub(crate) zstd: Vec<u8>,
    pub(crate) sha256: String,
}

impl PlanInputJson {
    /// Writes `input` (the planner's input for `date`, under the strategy whose text is
    /// `strategy`) as JSON through zstd (on two workers) and SHA-256 in one pass: the JSON of a
    /// large portfolio (about 450 bytes a case) is never held whole.
    pub fn of<I: Serialize>(
        input: &I,
        date: jiff::civil::Date,
        strategy: &str,
    ) -> crate::Result<PlanInputJson> {
        let (zstd, sha256) = crate::plan_rows::compressed_json(input)?;
        Ok(PlanInputJson { date, strategy: strategy.to_owned(), zstd, sha256 })
    }

    /// The SHA-256 of the JSON.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Compressed bytes.
    pub fn compressed_len(&self) -> usize {
        self.zstd.len()
    }
}

/// A stored plan version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPlan {
    /// The day planned.
    pub date: jiff::civil::Date,
    /// Its version for the day (1, 2, …).
    pub version: i64,
    /// The strategy's name.
    pub strategy: String,
    /// SHA-256 of the input.
    pub input_sha256: String,
    /// SHA-256 of the plan.
    pub plan_sha256: String,
    /// Actions planned.
    pub actions: i64,
    /// Skipped contacts by reason code (JSON).
    pub skipped: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// The input, JSON (when read one by one).
    #[serde(skip)]
    pub input: Option<String>,
    /// The plan (when read one by one).
    #[serde(skip)]
    pub plan: Option<String>,
}

/// A configuration value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigEntry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
    /// When it was set.
    pub updated_at: Timestamp,
    /// Who set it.
    pub updated_by: String,
}

/// What changing the bucket scheme did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rebucket {
    /// Accounts that moved bucket.
    pub accounts_moved: u64,
    /// Cases whose bucket was recomputed.
    pub cases_updated: u64,
}

/// Which cases to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFilter {
    /// Only this status.
    pub status: Option<CaseStatus>,
    /// Only this bucket.
    pub bucket: Option<Bucket>,
    /// Only cases assigned to this collector.
    pub collector: Option<String>,
    /// Only cases the caller may see (applied in the query).
    pub scope: crate::access::Scope,
    /// At most this many (capped at [`CaseFilter::MAX_LIMIT`]).
    pub limit: u32,
    /// Skip this many.
    pub offset: u32,
    /// Only cases found by this: a case id, the debtor's full name, resident ID or a full
    /// phone number of the case (exact, by their blind indexes), or a card's last four digits.
    pub search: Option<String>,
    /// Count each case's attempts at or after this instant ([`CaseSummary::attempts_since`]):
    /// a queue's "worked today".
    pub attempts_since: Option<Timestamp>,
}

impl CaseFilter {
    /// The most cases one call returns.
    pub const MAX_LIMIT: u32 = 10_000;
}

impl Default for CaseFilter {
    fn default() -> Self {
        CaseFilter {
            status: None,
            bucket: None,
            collector: None,
            scope: crate::access::Scope::All,
            limit: 100,
            offset: 0,
            search: None,
            attempts_since: None,
        }
    }
}

/// A case in a list: the case, the debtor's name (prints masked) and the amounts.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSummary {
    /// The case.
    pub case: Case,
    /// The debtor's name.
    pub customer_name: PersonName,
    /// Accounts held.
    pub accounts: i64,
    /// Overdue per currency.
    pub overdue: Vec<Money>,
    /// Attempts on the case at or after [`CaseFilter::attempts_since`] (0 without it).
    pub attempts_since: u32,
}

/// A stored account with its bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    /// The account.
    pub account: CardAccount,
    /// Its bucket as stored.
    pub bucket: Bucket,
    /// Approved waivers (off) and plans' fees (on) the bank has not booked yet: what is owed
    /// is the overdue total plus this, until the next accounts file restates the account.
    pub adjusted: Money,
}

impl AccountView {
    /// What the account owes now: its overdue figures plus the adjustments not yet booked.
    pub fn owed(&self) -> Money {
        let overdue = self.account.overdue.total().map_or(0, |m| m.minor);
        Money::new(overdue + self.adjusted.minor, self.account.currency)
    }
}

/// A recorded attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAttempt {
    /// Its id.
    pub id: i64,
    /// The attempt.
    pub attempt: Attempt,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// What the contact gate answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gated {
    /// The compliance decision.
    pub decision: daylight_compliance::Decision,
    /// The attempt (or started attempt) id when allowed; `None` when denied, in which case the
    /// denial is in the ledger and nothing else was written.
    pub id: Option<i64>,
    /// The pack that decided.
    pub pack: String,
    /// The first time zone of the request (for showing times).
    pub time_zone: String,
    /// The texts and citations of the rules broken, in the decision's order.
    pub texts: Vec<daylight_compliance::RuleText>,
}

/// What the gate would judge a contact by, read without its lock: for previews such as the
/// best time to call and the daily plan. The gate judges again when the contact is made.
#[derive(Debug, Clone)]
pub struct ContactContext {
    /// The pack in force.
    pub pack: daylight_compliance::Pack,
    /// The request as the gate builds it (its time is the planned contact's).
    pub request: daylight_compliance::Request,
    /// Every attempt on the debtor, started ones included.
    pub history: Vec<daylight_compliance::Contact>,
    /// The debtor's time zone.
    pub time_zone: String,
}

/// Which debtors' histories to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// Only this case.
    pub case: Option<CaseId>,
    /// Only open cases.
    pub open_only: bool,
}

/// A call's recording as the switch left it, stored with the call's attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecording {
    /// The ciphertext's path, relative to the recordings vault.
    pub path: String,
    /// SHA-256 of the ciphertext, hex.
    pub sha256: String,
    /// Size of the ciphertext.
    pub bytes: u64,
    /// Length of the audio.
    pub millis: u64,
}

/// A case a caller's number belongs to (a call from the trunk, matched by number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerMatch {
    /// The case.
    pub case: CaseId,
    /// The phone contact point carrying the number.
    pub contact_point: ContactId,
    /// Whose number it is (`debtor`, `guarantor`, …).
    pub role: String,
    /// The case's collector, if assigned.
    pub collector: Option<String>,
    /// The case's team.
    pub team: Option<String>,
}

/// A call from the trunk as it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInbound {
    /// The caller's number, masked (all but the last four digits).
    pub number_masked: String,
    /// SHA-256 of the caller's number (digits as received), hex.
    pub number_sha256: String,
    /// The caller ID the debtor called.
    pub dialled: String,
    /// The case matched by number, if any.
    pub case: Option<CaseId>,
    /// The contact point matched.
    pub contact_point: Option<ContactId>,
    /// The switch carrying the call (`calls.node`): its restart ends the call as interrupted
    /// should its process stop mid-call.
    pub node: String,
}

/// How a call from the trunk ended: `answered`, `missed` (nobody answered, or nobody was
/// ready before the queue's wait ran out), `abandoned` (the caller hung up first),
/// `unmatched` (no case has the number) or `interrupted` (the switch carrying it stopped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEnd {
    /// Who answered, or was rung last.
    pub collector: Option<String>,
    /// `answered`, `missed`, `abandoned`, `unmatched` or `interrupted`.
    pub outcome: String,
    /// Talk time, seconds.
    pub talk_secs: u32,
    /// The recording, when answered.
    pub recording: Option<NewRecording>,
}

/// A logged call from the trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRow {
    /// Its id.
    pub id: i64,
    /// When it arrived.
    pub at: Timestamp,
    /// What arrived.
    pub call: NewInbound,
    /// How it ended (none while live, or if the server stopped mid-call).
    pub end: Option<InboundEnd>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Its recording in the vault (the id [`crate::CallStore::recording`] takes), when answered.
    pub recording_id: Option<i64>,
}

/// A stored call recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRow {
    /// Its id.
    pub id: i64,
    /// The dialled call's attempt (none for a call in).
    pub attempt: Option<i64>,
    /// The call in's log entry (none for a dialled call).
    pub inbound: Option<i64>,
    /// The case.
    pub case: CaseId,
    /// The recording as stored.
    pub file: NewRecording,
    /// When the call ended.
    pub recorded_at: Timestamp,
    /// When the purge deleted its audio at the end of the retention period (the hash stays).
    pub purged_at: Option<Timestamp>,
}

/// A call the switch had placed when its process stopped, finished at restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterruptedCall {
    /// The started attempt.
    pub started: i64,
    /// The attempt recorded as `interrupted`; none when the start had already expired (the gate
    /// recorded it without a result).
    pub attempt: Option<i64>,
    /// Where its recording was going, relative to the vault (its spool is `<this>.spool`).
    pub recording: String,
    /// Who placed it (the start's `started_by`): their state on the board is freed.
    pub started_by: Option<String>,
}

/// A collector on the live board: their state and today's calls through the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    /// Employee number.
    pub login: String,
    /// Name.
    pub name: String,
    /// Their state (offline when never set).
    pub state: daylight_domain::agent::AgentState,
    /// Why they paused, when paused.
    pub reason: Option<daylight_domain::agent::PauseReason>,
    /// Since when (none when never set).
    pub since: Option<Timestamp>,
    /// Calls placed through the switch on `day`.
    pub calls: u32,
    /// Their talk time on `day`, seconds.
    pub talk_secs: u64,
    /// The team's local date the counts are of (none when never set).
    pub day: Option<String>,
}

/// A case under a legal hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    /// The case.
    pub case: CaseId,
    /// Why.
    pub reason: String,
    /// Who placed it.
    pub held_by: String,
    /// When.
    pub held_at: Timestamp,
}

/// A started attempt not yet finished.
#[derive(Debug, Clone, PartialEq)]
pub struct StartedAttempt {
    /// Its id.
    pub id: i64,
    /// The contact.
    pub planned: daylight_domain::attempt::Planned,
    /// Who started it.
    pub started_by: String,
    /// When.
    pub started_at: Timestamp,
}

/// What a debtor asked of us: to stop, to leave some channels alone, or other hours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFlags {
    /// The debtor asked us to stop (letters only under the shipped packs).
    pub cease: bool,
    /// Channels the debtor opted out of.
    pub opt_out: Vec<daylight_domain::attempt::Channel>,
    /// The debtor consented to contact outside the usual hours.
    pub consented_hours: bool,
}

/// A stored note.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNote {
    /// Its id.
    pub id: i64,
    /// The note.
    pub note: Note,
}

/// A promise to lock.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPromise {
    /// The case.
    pub case: CaseId,
    /// The account it pays, if one.
    pub account: Option<AccountId>,
    /// The attempt in which it was made.
    pub attempt: Option<i64>,
    /// How much.
    pub amount: Money,
    /// By when.
    pub due_at: Timestamp,
}

/// One change of a [`DeskStore::promise_batch`](crate::DeskStore::promise_batch), at its time.
#[derive(Debug, Clone, PartialEq)]
pub enum PromiseOp {
    /// [`DeskStore::create_promise`](crate::DeskStore::create_promise).
    Create {
        /// The promise.
        promise: NewPromise,
        /// When it was made.
        at: Timestamp,
    },
    /// [`DeskStore::change_promise`](crate::DeskStore::change_promise).
    Change {
        /// The promise.
        id: i64,
        /// The change.
        change: PromiseChange,
        /// When.
        at: Timestamp,
    },
    /// [`DeskStore::settle_promise`](crate::DeskStore::settle_promise).
    Settle {
        /// The promise.
        id: i64,
        /// Kept or broken.
        status: PromiseStatus,
        /// When.
        at: Timestamp,
    },
}

/// A change to a pending promise, with its reason.
#[derive(Debug, Clone, PartialEq)]
pub struct PromiseChange {
    /// What changes.
    pub edit: PromiseEdit,
    /// Why (required; kept with the promise's history, its digest in the ledger).
    pub reason: String,
}

/// What a change does to a promise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PromiseEdit {
    /// New amount and due time (the bounds of a new promise apply).
    Amend {
        /// How much.
        amount: Money,
        /// By when.
        due_at: Timestamp,
    },
    /// Withdrawn (replaced by a plan, say).
    Cancel,
}

/// A stored promise.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPromise {
    /// Its id.
    pub id: i64,
    /// As made.
    pub promise: NewPromise,
    /// Where it stands.
    pub status: PromiseStatus,
    /// Who took it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Who settled it.
    pub settled_by: Option<String>,
    /// When.
    pub settled_at: Option<Timestamp>,
}

/// A repayment plan to propose.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArrangement {
    /// The case.
    pub case: CaseId,
    /// The account it repays, if one.
    pub account: Option<AccountId>,
    /// The terms.
    pub terms: ArrangementTerms,
}

/// A request that waits for someone else's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decidable {
    /// A repayment plan (分期方案).
    Arrangement,
    /// A waiver (减免).
    Waiver,
    /// A third-party contact's confirmation.
    ThirdParty,
    /// A proposed number (新号码).
    Number,
}

/// A stored repayment plan with its schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArrangement {
    /// Its id.
    pub id: i64,
    /// As proposed.
    pub arrangement: NewArrangement,
    /// Where it stands.
    pub status: ArrangementStatus,
    /// Who proposed it.
    pub proposed_by: String,
    /// When.
    pub proposed_at: Timestamp,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// Why it was rejected.
    pub decision_note: Option<String>,
    /// The instalments.
    pub schedule: Vec<Instalment>,
}

/// A waiver to request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWaiver {
    /// The case.
    pub case: CaseId,
    /// The account whose overdue amount it reduces.
    pub account: AccountId,
    /// Which part.
    pub component: Component,
    /// How much.
    pub amount: Money,
    /// Why.
    pub reason: String,
}

/// A stored waiver.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredWaiver {
    /// Its id.
    pub id: i64,
    /// As requested.
    pub waiver: NewWaiver,
    /// Where it stands.
    pub status: WaiverStatus,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: Timestamp,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// Who gave the first of two approvals, while the waiver waits for the second.
    pub first_approved_by: Option<String>,
    /// Why it was rejected.
    pub decision_note: Option<String>,
}

/// Everything about one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDetail {
    /// The case.
    pub case: Case,
    /// The debtor.
    pub customer: Customer,
    /// Contact points of the debtor and related people.
    pub contacts: Vec<ContactPoint>,
    /// The debtor's accounts.
    pub accounts: Vec<AccountView>,
    /// Attempts, newest first.
    pub attempts: Vec<StoredAttempt>,
    /// Notes, newest first.
    pub notes: Vec<StoredNote>,
    /// Promises, newest first.
    pub promises: Vec<StoredPromise>,
    /// Repayment plans, newest first.
    pub arrangements: Vec<StoredArrangement>,
    /// Waivers, newest first.
    pub waivers: Vec<StoredWaiver>,
    /// Bucket moves of the accounts, newest first.
    pub bucket_moves: Vec<BucketMove>,
    /// Payments on the accounts, newest first.
    pub payments: Vec<Payment>,
    /// Closures and reopenings (every status change but an import's), newest first.
    pub status_changes: Vec<StoredStatusChange>,
}

/// A change of a case's status as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatusChange {
    /// From.
    pub from: CaseStatus,
    /// The change.
    pub change: daylight_domain::case::StatusChange,
    /// What the accounts owed then, in fen.
    pub owed_fen: i64,
    /// Who.
    pub changed_by: String,
    /// When.
    pub changed_at: Timestamp,
}

/// Who owns a case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// Internal team.
    pub team: Option<String>,
    /// Collector login.
    pub collector: Option<String>,
    /// Outside agency (委案).
    pub agency: Option<String>,
}

/// A personal field someone may ask to see in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PiiField {
    /// The debtor's name.
    Name,
    /// The resident ID number.
    ResidentId,
    /// The address.
    Address,
    /// A contact point's value.
    Contact(ContactId),
    /// The employer.
    Employer,
    /// A call's transcript (by its attempt), names and numbers in clear.
    Transcript(i64),
}

impl PiiField {
    /// The field's name in the ledger: `name`, `resident_id`, `address`, `contact:<id>`.
    pub fn label(&self) -> String {
        match self {
            PiiField::Name => "name".into(),
            PiiField::ResidentId => "resident_id".into(),
            PiiField::Address => "address".into(),
            PiiField::Contact(id) => format!("contact:{id}"),
            PiiField::Employer => "employer".into(),
            PiiField::Transcript(attempt) => format!("transcript:{attempt}"),
        }
    }

    /// Parses [`PiiField::label`].
    pub fn parse(text: &str) -> Result<PiiField, daylight_domain::Invalid> {
        match text.trim() {
            "name" => Ok(PiiField::Name),
            "resident_id" => Ok(PiiField::ResidentId),
            "address" => Ok(PiiField::Address),
            "employer" => Ok(PiiField::Employer),
            other => match other.strip_prefix("contact:") {
                Some(id) => Ok(PiiField::Contact(ContactId::parse(id)?)),
                None if other.starts_with("transcript:") => {
                    other["transcript:".len()..].parse().map(PiiField::Transcript).map_err(|_| {
                        daylight_domain::Invalid::new(daylight_domain::Code::Enum, "transcript:<attempt>")
                    })
                }
                None => Err(daylight_domain::Invalid::new(
                    daylight_domain::Code::Enum,
                    format!("field {other:?}; expected name, resident_id, address or contact:<id>"),
                )),
            },
        }
    }
}

/// The data keys of a database (see [`crate::keys`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyStatus {
    /// The master key that wrapped them.
    pub master: String,
    /// The data key new values are sealed with.
    pub active: i64,
    /// Every data key: its id and how many stored values it seals.
    pub keys: Vec<(i64, u64)>,
    /// Values still in clear (written before encryption; `daylight init` seals them).
    pub clear: u64,
}

/// What a re-sealing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Resealed {
    /// Rows read.
    pub rows: u64,
    /// Values sealed anew.
    pub values: u64,
}
