//! The storage port: what the rest of Daylight may ask of a database.
//!
//! Every method that changes state appends its ledger event in the same transaction, so a change
//! and its evidence are stored together or not at all. Methods take the actor and the time as
//! arguments; the store never reads the clock.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use daylight_compliance::Pack;
use daylight_domain::account::{CardAccount, Payment, Transaction};
use daylight_domain::agreement::{ArrangementStatus, PromiseStatus, WaiverStatus};
use daylight_domain::attempt::{Attempt, Outcome, Planned};
use daylight_domain::bucket::BucketScheme;
use daylight_domain::case::StatusChange;
use daylight_domain::customer::{ContactPoint, Customer};
use daylight_domain::id::{CaseId, ContactId, CustomerId};
use daylight_ledger::{Link, Row};
use jiff::Timestamp;

use crate::access::{NewSession, NewUser, Scope, Session, User};
use crate::desk::{
    Audience, Complaint, KpiDimension, Kpis, NewComplaint, NewThirdPartyRequest, Sweep, Task, TaskStatus,
    ThirdPartyRequest,
};
use crate::error::Result;
use crate::model::*;
use crate::qc::{NewQcCall, QcCall, QcRecorded};
use crate::settings::Backend;

/// A Daylight database.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Closes the connections (for SQLite, checkpointing the write-ahead log).
    async fn close(&self);

    /// Applied and known schema versions.
    async fn schema(&self) -> Result<SchemaStatus>;

    /// Creates or upgrades the schema. The first call writes the `store.initialised` event.
    async fn migrate(&self, actor: &str, now: Timestamp) -> Result<MigrateReport>;

    /// Opens one import batch: a single transaction that [`ImportSession::commit`] ends.
    async fn begin_import(&self, meta: &BatchMeta) -> Result<Box<dyn ImportSession>>;

    /// Counts per table, bucket and case status.
    async fn stats(&self) -> Result<Stats>;

    /// The recorded head of the ledger ([`Link::EMPTY`] before the first event).
    async fn ledger_head(&self) -> Result<Link>;

    /// Up to `limit` ledger rows with `seq > after`, in `seq` order, exactly as stored.
    async fn ledger_rows(&self, after: i64, limit: u32) -> Result<Vec<Row>>;

    /// Every configuration value.
    async fn config(&self) -> Result<Vec<ConfigEntry>>;

    /// The bucket scheme in force (the default until one is set).
    async fn bucket_scheme(&self) -> Result<BucketScheme>;

    /// Sets the bucket scheme, re-buckets every account and case, and records the moves.
    async fn set_bucket_scheme(&self, scheme: BucketScheme, actor: &str, now: Timestamp) -> Result<Rebucket>;

    /// Cases matching `filter`, worst bucket first.
    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>>;

    /// Everything about one case.
    async fn case_detail(&self, id: &CaseId) -> Result<CaseDetail> {
        self.case_detail_in(&Scope::All, id).await
    }

    /// Everything about one case, if it is within `scope`; a case outside it is `NOT_FOUND`,
    /// exactly as one that does not exist.
    async fn case_detail_in(&self, scope: &Scope, id: &CaseId) -> Result<CaseDetail>;

    /// `Ok` if the case exists within `scope`, `NOT_FOUND` otherwise: the check a scoped caller
    /// passes before any change to a case.
    async fn case_in_scope(&self, scope: &Scope, id: &CaseId) -> Result<()>;

    /// Moves a case to another status (open, closed, legal, written off).
    async fn set_case_status(
        &self,
        id: &CaseId,
        change: &StatusChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Moves several cases within `scope` as `change` says in one transaction (a team lead's
    /// bulk close): all of them, or, if any is outside the scope, may not move, or (closing as
    /// paid in full) still owes anything, none.
    async fn set_cases_status(
        &self,
        scope: &Scope,
        cases: &[CaseId],
        change: &StatusChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Sets who owns a case.
    async fn assign_case(&self, id: &CaseId, to: &Assignment, actor: &str, now: Timestamp) -> Result<()>;

    /// The contact gate, for an attempt already made (`at` no later than `now`): judges it under
    /// the pack in force against every earlier attempt on the debtor (all cases, channels,
    /// agents and agencies) and through the same number, with every fact it judges read in its
    /// own transaction (the case's status, the number's status, a team lead's third-party
    /// confirmation, the flags: nothing a caller asserts) and, when allowed, records it (and its
    /// note, and what the outcome says of the number) in the same transaction, serialised per
    /// debtor and per number. When denied nothing is recorded but the denial, a ledger event.
    async fn record_attempt(&self, attempt: &Attempt, actor: &str, now: Timestamp) -> Result<Gated>;

    /// [`Store::record_attempt`] for a batch of attempts already made, in one transaction: each
    /// is judged, in order, against everything stored before it, including the batch's earlier
    /// attempts, exactly as `record_attempt` would judge it. For a provider's call-detail
    /// records or the digital twin. A bad attempt (an error, not a denial) writes none of the
    /// batch.
    async fn record_attempts(&self, batch: &[Attempt], actor: &str, now: Timestamp) -> Result<Vec<Gated>>;

    /// The contact gate, before dialling (`at` within a minute of `now`): as
    /// [`Store::record_attempt`], but an allowed contact is stored as started, holding its place
    /// under the caps (as the worst outcome each rule could see) until
    /// [`Store::finish_attempt`] gives its outcome. A start not finished within two hours is
    /// recorded without a result by the next gate of that debtor and cannot be finished.
    async fn start_attempt(&self, planned: &Planned, actor: &str, now: Timestamp) -> Result<Gated>;

    /// Gives a started attempt its outcome and records it. Returns the attempt id.
    async fn finish_attempt(
        &self,
        started: i64,
        outcome: Outcome,
        duration_secs: u32,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// What the gate would judge `planned` by (pack in force, request, the debtor's history),
    /// read without taking the debtor's lock.
    async fn contact_context(&self, planned: &Planned) -> Result<ContactContext>;

    /// [`Store::contact_context`] for several contacts of one case (its contact points, say),
    /// reading the debtor and the pack once: for the case screen's "can I call now?".
    async fn contact_contexts(&self, planned: &[Planned]) -> Result<Vec<ContactContext>>;

    /// The facts the product models read, for every case the filter keeps (by case id): the
    /// debtor's zone, birth date, accounts' limits and bucket moves, and the attempts, payments
    /// and promises before `until`.
    async fn debtor_histories(
        &self,
        filter: &HistoryFilter,
        until: Timestamp,
    ) -> Result<Vec<daylight_scoring::features::DebtorHistory>>;

    /// Attempts started and not yet finished, oldest first.
    async fn started_attempts(&self) -> Result<Vec<StartedAttempt>>;

    /// A debtor's contact flags (all false until set).
    async fn contact_flags(&self, customer: &CustomerId) -> Result<ContactFlags>;

    /// Sets a debtor's contact flags.
    async fn set_contact_flags(
        &self,
        customer: &CustomerId,
        flags: &ContactFlags,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// The policy pack in force: the one set with [`Store::set_policy_pack`], else `cn-default`.
    async fn policy_pack(&self) -> Result<Pack>;

    /// Puts a pack in force for every gate that uses this database (its text is stored, so
    /// calendar years must be part of it).
    async fn set_policy_pack(&self, pack: &Pack, actor: &str, now: Timestamp) -> Result<()>;

    /// Adds a note to a case. Returns the note id.
    async fn add_note(
        &self,
        case: &CaseId,
        text: &str,
        attempt: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// Locks a promise to pay. Returns its id.
    async fn create_promise(&self, promise: &NewPromise, actor: &str, now: Timestamp) -> Result<i64>;

    /// Marks a pending promise kept, broken or cancelled.
    async fn settle_promise(&self, id: i64, status: PromiseStatus, actor: &str, now: Timestamp)
    -> Result<()>;

    /// Proposes a repayment plan for approval. Returns its id.
    async fn propose_arrangement(
        &self,
        arrangement: &NewArrangement,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// Approves, rejects or closes a plan; approval and rejection need someone other than the
    /// proposer.
    async fn decide_arrangement(
        &self,
        id: i64,
        status: ArrangementStatus,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Repayment plans on cases within `scope`, oldest first (without their stored schedules:
    /// `terms.schedule()` gives them): a team lead's approval queue with `Proposed`.
    async fn arrangements_in(
        &self,
        scope: &Scope,
        status: Option<ArrangementStatus>,
        limit: u32,
    ) -> Result<Vec<StoredArrangement>>;

    /// Requests a waiver. Returns its id.
    async fn request_waiver(&self, waiver: &NewWaiver, actor: &str, now: Timestamp) -> Result<i64>;

    /// Approves or rejects a waiver; needs someone other than the requester.
    async fn decide_waiver(&self, id: i64, approve: bool, actor: &str, now: Timestamp) -> Result<()>;

    /// Every open case as the daily planner reads it, facts before `until`.
    async fn plan_cases(&self, until: Timestamp) -> Result<Vec<daylight_strategy::plan::PlanCase>>;

    /// The policy pack in force, as its TOML source.
    async fn pack_source(&self) -> Result<String>;

    /// Stores a plan as the next version of its date, with its `plan.saved` event.
    async fn save_plan(&self, plan: &NewPlan<'_>, actor: &str, now: Timestamp) -> Result<StoredPlan>;

    /// A stored plan with its input and plan documents: a version, or the latest of the date.
    async fn stored_plan(&self, date: jiff::civil::Date, version: Option<i64>) -> Result<StoredPlan>;

    /// Every stored plan (without documents), newest first.
    async fn list_plans(&self) -> Result<Vec<StoredPlan>>;

    /// The text of the strategy a stored plan was made under (`None` if it cannot be read).
    async fn plan_strategy(&self, date: jiff::civil::Date, version: i64) -> Result<Option<String>>;

    /// Tags a debtor (`hardship`, `abusive`) with a note, or clears the tag (`note` none).
    async fn tag_debtor(
        &self,
        customer: &CustomerId,
        tag: &str,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Creates an experiment (its name unique; arms and salt never change afterwards).
    async fn create_experiment(
        &self,
        experiment: &NewExperiment,
        actor: &str,
        now: Timestamp,
    ) -> Result<Experiment>;

    /// One experiment by name.
    async fn experiment(&self, name: &str) -> Result<Experiment>;

    /// Every experiment, oldest first.
    async fn list_experiments(&self) -> Result<Vec<Experiment>>;

    /// Registers a model version as a challenger; returns its version (1 for a new name).
    async fn register_model(&self, model: &NewModel, actor: &str, now: Timestamp) -> Result<ModelVersion>;

    /// The versions of one model (or of all), newest first.
    async fn list_models(&self, name: Option<&str>) -> Result<Vec<ModelVersion>>;

    /// A version's document (`None` for the version: the champion).
    async fn model_document(&self, name: &str, version: Option<i64>) -> Result<(ModelVersion, String)>;

    /// Makes a version the champion; the champion before it is retired.
    async fn promote_model(
        &self,
        name: &str,
        version: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<ModelVersion>;

    /// Returns a personal field in clear and records in the ledger, in the same transaction,
    /// who saw it, when and why. The caller checks the permission first.
    async fn reveal(
        &self,
        customer: &CustomerId,
        field: &PiiField,
        purpose: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<String>;

    /// Creates a user (`EXISTS` if the login or mobile is taken as either) and records it.
    async fn create_user(&self, user: &NewUser, actor: &str, now: Timestamp) -> Result<User>;

    /// Replaces a user's name, mobile, role, team, agency and disabled flag (not the
    /// password); disabling ends their sessions.
    async fn update_user(&self, user: &NewUser, actor: &str, now: Timestamp) -> Result<User>;

    /// Every user, by login.
    async fn users(&self) -> Result<Vec<User>>;

    /// One user.
    async fn user(&self, login: &str) -> Result<User>;

    /// The user who logs in as `who` (login or mobile) and their password hash.
    async fn credentials(&self, who: &str) -> Result<Option<(User, String)>>;

    /// Counts a failed login; at `lock_after` failures the user is locked until `lock_until`
    /// (and the lock is recorded). Returns the user as now stored.
    async fn login_failed(
        &self,
        login: &str,
        lock_after: u32,
        lock_until: Timestamp,
        now: Timestamp,
    ) -> Result<User>;

    /// Opens a session (the login is recorded, failures are reset). Expired sessions go.
    async fn open_session(&self, session: &NewSession, now: Timestamp) -> Result<()>;

    /// The live session with this token digest, if any (not expired, user not disabled).
    async fn session(&self, token_sha256: &str, now: Timestamp) -> Result<Option<Session>>;

    /// Marks a session used now and moves its end.
    async fn touch_session(&self, token_sha256: &str, now: Timestamp, expires_at: Timestamp) -> Result<()>;

    /// Ends a session (logout).
    async fn close_session(&self, token_sha256: &str) -> Result<()>;

    /// Waivers on cases within `scope`, oldest first: a team lead's queue with `Requested`.
    async fn waivers_in(
        &self,
        scope: &Scope,
        status: Option<WaiverStatus>,
        limit: u32,
    ) -> Result<Vec<StoredWaiver>>;

    /// Asks to contact a third party of a case (one of its contact points that is not the
    /// debtor's). Returns the request's id.
    async fn request_third_party(
        &self,
        request: &NewThirdPartyRequest,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// Confirms or refuses a third-party request; needs someone other than the requester. An
    /// approval confirms contacts to the point for [`ThirdPartyRequest::VALID_FOR`].
    async fn decide_third_party(&self, id: i64, approve: bool, actor: &str, now: Timestamp) -> Result<()>;

    /// Third-party requests on cases within `scope` (on `case` only, if given), oldest first.
    async fn third_party_requests_in(
        &self,
        scope: &Scope,
        case: Option<&CaseId>,
        status: Option<WaiverStatus>,
        limit: u32,
    ) -> Result<Vec<ThirdPartyRequest>>;

    /// Whether an approval confirms a contact to `point` of `case` at `at`.
    async fn third_party_confirmed(&self, case: &CaseId, point: &ContactId, at: Timestamp) -> Result<bool>;

    /// Registers a complaint (against an attempt of the case, if one is named). Returns its id.
    async fn register_complaint(&self, complaint: &NewComplaint, actor: &str, now: Timestamp) -> Result<i64>;

    /// Complaints on cases within `scope`, newest first.
    async fn complaints_in(&self, scope: &Scope, limit: u32) -> Result<Vec<Complaint>>;

    /// In one transaction: a call's QC analysis stored with its attempt (once per attempt), the
    /// debtor tags it sets, the supervisor's review task it opens, and a `qc.analysed` event.
    async fn record_qc(&self, qc: &NewQcCall, actor: &str, now: Timestamp) -> Result<QcRecorded>;

    /// Analysed calls on cases within `scope` (of one case, or with a finding of one code),
    /// newest first, each with its findings.
    async fn qc_calls_in(
        &self,
        scope: &Scope,
        case: Option<&CaseId>,
        code: Option<&str>,
        limit: u32,
    ) -> Result<Vec<QcCall>>;

    /// An attempt's analysis and its transcript (the case within `scope`).
    async fn qc_transcript(&self, scope: &Scope, attempt: i64) -> Result<(QcCall, String)>;

    /// In one transaction: a reminder task for every pending promise due within
    /// [`Sweep::REMINDER_LEAD`] that has none; every pending promise past due by more than
    /// [`Sweep::GRACE`] (up to [`Sweep::BATCH`], oldest first) settled kept if the debtor's payments since it
    /// was made cover it, else broken with an escalation task for the team lead. Each
    /// settlement is a ledger event. Running it again changes nothing new.
    async fn sweep_promises(&self, actor: &str, now: Timestamp) -> Result<Sweep>;

    /// Tasks on cases within `scope`, by due time.
    async fn tasks_in(
        &self,
        scope: &Scope,
        audience: Option<Audience>,
        status: Option<TaskStatus>,
        limit: u32,
    ) -> Result<Vec<Task>>;

    /// Marks an open task within `scope` done (a ledger event).
    async fn finish_task(&self, scope: &Scope, id: i64, actor: &str, now: Timestamp) -> Result<()>;

    /// The team lead's figures for cases within `scope` over `[from, to)`, grouped by `dim`,
    /// and day by day from each of `days` (ascending, the first no earlier than `from`).
    async fn kpis(
        &self,
        scope: &Scope,
        dim: KpiDimension,
        from: Timestamp,
        to: Timestamp,
        days: &[Timestamp],
    ) -> Result<Kpis>;

    /// Sets a user's password hash; `must_change` makes it one-time. Ends the user's other
    /// sessions than `keep_session`, and records who set it.
    async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;
}

/// One import batch in progress: a single open transaction.
///
/// Dropping a session without [`commit`](ImportSession::commit) rolls everything back, which is
/// also what a killed process leaves behind.
#[async_trait]
pub trait ImportSession: Send {
    /// The batch id rows are stamped with.
    fn batch_id(&self) -> i64;

    /// The bucket scheme read in this transaction.
    fn bucket_scheme(&self) -> BucketScheme;

    /// Which of `ids` exist in `table`.
    async fn known(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashSet<String>>;

    /// Which of `ids` do not exist in `table`: the reference check, cheap when nothing is
    /// missing (one count per statement).
    async fn missing(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashSet<String>>;

    /// For each of `ids` stored in `table`, the record it belongs to
    /// ([`KeyTable::owner_column`]; empty for tables without one).
    async fn owners(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashMap<String, String>>;

    /// For each of the resident ID numbers already stored, the customer holding it.
    async fn resident_id_owners(&mut self, resident_ids: &[&str]) -> Result<HashMap<String, String>>;

    /// The stored state of each of `ids` that exists.
    async fn account_states(&mut self, ids: &[&str]) -> Result<HashMap<String, AccountState>>;

    /// Inserts or updates customers.
    async fn upsert_customers(&mut self, rows: &[Customer]) -> Result<()>;

    /// Inserts or updates contact points. A status of `unknown` keeps the status already learned.
    async fn upsert_contacts(&mut self, rows: &[ContactPoint]) -> Result<()>;

    /// Inserts or updates accounts; `before` holds the states [`account_states`] returned, from
    /// which bucket moves are recorded (a new account's first bucket is not a move), and brings
    /// the cases of their customers in line. Returns the number of moves.
    ///
    /// [`account_states`]: ImportSession::account_states
    async fn upsert_accounts(
        &mut self,
        rows: &[CardAccount],
        before: &HashMap<String, AccountState>,
    ) -> Result<u64>;

    /// Inserts or updates transactions.
    async fn upsert_transactions(&mut self, rows: &[Transaction]) -> Result<()>;

    /// Inserts or updates payments.
    async fn upsert_payments(&mut self, rows: &[Payment]) -> Result<()>;

    /// Records the batch and its ledger event, and commits.
    async fn commit(self: Box<Self>, summary: &BatchSummary) -> Result<BatchReceipt>;

    /// Abandons the batch: nothing of it is stored.
    async fn rollback(self: Box<Self>) -> Result<()>;
}
