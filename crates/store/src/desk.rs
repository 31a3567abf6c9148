//! The console's queues and the team lead's figures: tasks (a promise's reminder, a broken
//! promise's escalation), third-party contact confirmations, complaints, and the KPI rows.

use daylight_domain::agreement::WaiverStatus;
use daylight_domain::customer::ContactRole;
use daylight_domain::id::{CaseId, ContactId};
use daylight_domain::{Code, Invalid, vocabulary};
use jiff::{SignedDuration, Timestamp};

vocabulary! {
    /// What a task asks of someone.
    pub enum TaskKind ("task kind") {
        /// A promise falls due within a day: remind the debtor (the case's collector).
        PromiseReminder = "promise_reminder",
        /// A promise fell due unpaid: the team lead decides what next.
        PromiseBroken = "promise_broken",
        /// QC found an agent's breach (or a dispute, a cease request) on a call: the team lead
        /// reviews the evidence.
        QcReview = "qc_review",
        /// A reviewer upheld QC's finding on a call: the case's collector accepts it or appeals.
        QcFinding = "qc_finding",
        /// A collector appealed an upheld finding: compliance grants or refuses the appeal.
        QcAppeal = "qc_appeal",
    }
}

vocabulary! {
    /// How a task that decides something was closed.
    pub enum TaskOutcome ("task outcome") {
        /// A QC review: the finding stands (it goes to the collector, who may appeal).
        Upheld = "upheld",
        /// A QC review: the finding does not stand.
        Dismissed = "dismissed",
        /// A finding: the collector accepts it.
        Accepted = "accepted",
        /// A finding: the collector appeals (compliance decides).
        Appealed = "appealed",
        /// An appeal: granted, the finding is overturned.
        Granted = "granted",
        /// An appeal: refused, the finding stands.
        Refused = "refused",
    }
}

impl TaskKind {
    /// The outcomes a task of this kind closes with; empty when it is simply done.
    #[must_use]
    pub const fn outcomes(self) -> &'static [TaskOutcome] {
        match self {
            TaskKind::PromiseReminder | TaskKind::PromiseBroken => &[],
            TaskKind::QcReview => &[TaskOutcome::Upheld, TaskOutcome::Dismissed],
            TaskKind::QcFinding => &[TaskOutcome::Accepted, TaskOutcome::Appealed],
            TaskKind::QcAppeal => &[TaskOutcome::Granted, TaskOutcome::Refused],
        }
    }
}

impl TaskOutcome {
    /// Whether closing with this outcome needs a reason: what the next person reads (the
    /// finding the collector gets, the appeal compliance decides, a refusal).
    #[must_use]
    pub const fn needs_reason(self) -> bool {
        matches!(self, TaskOutcome::Upheld | TaskOutcome::Appealed | TaskOutcome::Refused)
    }

    /// The task this outcome opens, for whom: an upheld review's finding for the collector,
    /// an appeal for compliance.
    #[must_use]
    pub const fn follow_up(self) -> Option<(TaskKind, Audience)> {
        match self {
            TaskOutcome::Upheld => Some((TaskKind::QcFinding, Audience::Collector)),
            TaskOutcome::Appealed => Some((TaskKind::QcAppeal, Audience::Compliance)),
            _ => None,
        }
    }
}

/// How a task is closed: with an outcome and a reason where its kind needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskClose {
    /// The outcome ([`TaskKind::outcomes`]).
    pub outcome: Option<TaskOutcome>,
    /// Why (required where [`TaskOutcome::needs_reason`]).
    pub note: Option<String>,
}

impl TaskClose {
    /// Checks this close fits a task of `kind`: an outcome it knows (`REQUIRED` when it needs
    /// one, `ENUM` when it takes none or another), a reason where the outcome needs one.
    pub fn check(&self, kind: TaskKind) -> Result<(), Invalid> {
        let allowed = kind.outcomes();
        match self.outcome {
            None if allowed.is_empty() => {}
            None => {
                let words: Vec<&str> = allowed.iter().map(|o| o.as_str()).collect();
                return Err(Invalid::new(
                    Code::Required,
                    format!("a {} closes with an outcome: {}", kind.as_str(), words.join(" or ")),
                ));
            }
            Some(o) if !allowed.contains(&o) => {
                return Err(Invalid::new(
                    Code::Enum,
                    format!("a {} does not close as {}", kind.as_str(), o.as_str()),
                ));
            }
            Some(_) => {}
        }
        let note = self.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if let Some(n) = note {
            daylight_domain::case::check_note(n)?;
        } else if self.outcome.is_some_and(TaskOutcome::needs_reason) {
            return Err(Invalid::new(Code::Required, "say why: the next person reads it"));
        }
        Ok(())
    }
}

vocabulary! {
    /// Whose list a task is on.
    pub enum Audience ("task audience") {
        /// The case's collector.
        Collector = "collector",
        /// The case's team lead (or anyone who sees the case and approves).
        Lead = "lead",
        /// Compliance (a collector's appeal of a QC finding).
        Compliance = "compliance",
    }
}

vocabulary! {
    /// Whether a task is still to do.
    pub enum TaskStatus ("task status") {
        /// To do.
        Open = "open",
        /// Done.
        Done = "done",
    }
}

vocabulary! {
    /// Who complained.
    pub enum ComplaintSource ("complaint source") {
        /// The debtor.
        Debtor = "debtor",
        /// Someone else contacted about the debt.
        ThirdParty = "third_party",
        /// The bank that placed the debt.
        Bank = "bank",
        /// A regulator (the 12378 hotline, say).
        Regulator = "regulator",
    }
}

vocabulary! {
    /// How the team lead's figures are grouped: by the case's owner or bucket now.
    pub enum KpiDimension ("KPI dimension") {
        /// The case's collector.
        Collector = "collector",
        /// The case's team.
        Team = "team",
        /// The case's bucket (for roll rates: the bucket an account rolled from).
        Bucket = "bucket",
        /// The agency the case is placed with.
        Agency = "agency",
    }
}

impl KpiDimension {
    /// The `cases` column the figures are grouped by (a fixed name, safe in SQL).
    pub(crate) const fn column(self) -> &'static str {
        match self {
            KpiDimension::Collector => "c.collector",
            KpiDimension::Team => "c.team",
            KpiDimension::Bucket => "c.bucket",
            KpiDimension::Agency => "c.agency",
        }
    }
}

/// A task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Its id.
    pub id: i64,
    /// The case.
    pub case: CaseId,
    /// What it asks.
    pub kind: TaskKind,
    /// Whose list it is on.
    pub audience: Audience,
    /// The promise it is about.
    pub promise: Option<i64>,
    /// The contact attempt it is about (a QC review).
    pub attempt: Option<i64>,
    /// Why (a QC review's codes).
    pub note: Option<String>,
    /// When it is due.
    pub due_at: Timestamp,
    /// Open or done.
    pub status: TaskStatus,
    /// When it was made.
    pub created_at: Timestamp,
    /// Who did it.
    pub done_by: Option<String>,
    /// When.
    pub done_at: Option<Timestamp>,
    /// How it was closed (a QC review's, finding's or appeal's outcome).
    pub outcome: Option<TaskOutcome>,
    /// The closer's reason.
    pub outcome_note: Option<String>,
    /// The task it follows from (a finding follows its review, an appeal its finding).
    pub follows: Option<i64>,
}

/// What one promise sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Reminder tasks made (promises due within the reminder's lead time).
    pub reminders: u32,
    /// Promises past due and grace that payments covered: now kept.
    pub kept: u32,
    /// Promises past due and grace that payments did not cover: now broken, each with an
    /// escalation task.
    pub broken: u32,
}

impl Sweep {
    /// How long before a promise falls due its reminder is made.
    pub const REMINDER_LEAD: SignedDuration = SignedDuration::from_hours(24);
    /// How long after a promise falls due a payment still keeps it (posting delays).
    pub const GRACE: SignedDuration = SignedDuration::from_hours(24);
    /// The most overdue promises one sweep settles; a sweep that settles this many may have
    /// left more for the next.
    pub const BATCH: u32 = 500;
}

/// A request to contact a third party, to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewThirdPartyRequest {
    /// The case.
    pub case: CaseId,
    /// The third party's contact point (one of the case's, not the debtor's own).
    pub contact_point: ContactId,
    /// Why the debtor cannot be reached otherwise.
    pub reason: String,
}

/// A stored third-party request. Its status follows a waiver's: requested, then approved or
/// rejected by someone other than the requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThirdPartyRequest {
    /// Its id.
    pub id: i64,
    /// As requested.
    pub request: NewThirdPartyRequest,
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
    /// Until when an approval confirms contacts (its decision plus [`Self::VALID_FOR`]).
    pub valid_until: Option<Timestamp>,
}

impl ThirdPartyRequest {
    /// How long an approval confirms contacts to the point.
    pub const VALID_FOR: SignedDuration = SignedDuration::from_hours(24);
}

/// A complaint to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaint {
    /// The case.
    pub case: CaseId,
    /// The contact attempt complained of, if one.
    pub attempt: Option<i64>,
    /// Who complained.
    pub source: ComplaintSource,
    /// What they said.
    pub text: String,
}

impl NewComplaint {
    /// Checks the text (1–2,000 characters).
    pub fn validate(&self) -> Result<(), Invalid> {
        let n = self.text.trim().chars().count();
        if n == 0 || n > 2000 {
            return Err(Invalid::new(Code::Required, "text: a complaint's text is 1 to 2,000 characters"));
        }
        Ok(())
    }
}

/// A stored complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    /// Its id.
    pub id: i64,
    /// As registered.
    pub complaint: NewComplaint,
    /// By whom.
    pub registered_by: String,
    /// When.
    pub registered_at: Timestamp,
}

/// The raw counts of one group over a period, from which the KPIs are ratios. Amounts are in
/// fen (the portfolio's currency, CNY).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KpiCounts {
    /// The group (`None`: cases without one, unassigned say).
    pub key: Option<String>,
    /// Open cases now.
    pub cases: i64,
    /// Accounts of those cases.
    pub accounts: i64,
    /// Contact attempts in the period.
    pub attempts: i64,
    /// Attempts that reached a person (the debtor or someone else).
    pub contacts: i64,
    /// Attempts that reached the debtor and talked (right-party contacts).
    pub rpc: i64,
    /// Promises locked in the period.
    pub promises: i64,
    /// Their amounts.
    pub promised: i64,
    /// Promises settled kept in the period.
    pub kept: i64,
    /// Promises settled broken in the period.
    pub broken: i64,
    /// Payments received in the period.
    pub recovered: i64,
    /// Accounts that rolled to a worse bucket in the period.
    pub rolled: i64,
    /// Accounts exposed to rolling: in the group now, plus (by bucket) those that rolled out.
    pub exposed: i64,
    /// Complaints registered in the period.
    pub complaints: i64,
}

/// One day of the period for the trend chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KpiDay {
    /// The day's start.
    pub start: Timestamp,
    /// Attempts.
    pub attempts: i64,
    /// Right-party contacts.
    pub rpc: i64,
    /// Payments received, fen.
    pub recovered: i64,
}

/// The figures for a period: by group, and day by day for the whole scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kpis {
    /// One row per group, by key.
    pub groups: Vec<KpiCounts>,
    /// One row per day boundary given.
    pub days: Vec<KpiDay>,
}

vocabulary! {
    /// Where a proposed number came from.
    pub enum NumberSource ("number source") {
        /// The debtor gave it on a call or in a message.
        Debtor = "debtor",
        /// A third party (relative, colleague) gave it.
        ThirdParty = "third_party",
        /// The bank sent it (a customer-data update).
        Bank = "bank",
        /// A licensed information-repair (信息修复) service found it.
        Repair = "repair",
        /// A visit or a letter's reply.
        Field = "field",
    }
}

/// A new or corrected number a collector proposes for a case's contact; a team lead confirms
/// it before the gate or a plan can use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNumber {
    /// The case.
    pub case: CaseId,
    /// The contact point it corrects, if it corrects one (its role is then the point's).
    pub replaces: Option<ContactId>,
    /// Whose number it is (for a new point).
    pub role: ContactRole,
    /// The number as typed (validated and normalised by the store: a mainland mobile or a
    /// landline with area code).
    pub number: String,
    /// The owner's name, for a number that is not the debtor's.
    pub name: Option<String>,
    /// Where it came from.
    pub source: NumberSource,
}

/// A proposed number and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberProposal {
    /// Its id.
    pub id: i64,
    /// As proposed (the number normalised).
    pub proposal: NewNumber,
    /// Where it stands.
    pub status: WaiverStatus,
    /// Who proposed it.
    pub requested_by: String,
    /// When.
    pub requested_at: Timestamp,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// The contact point it added or corrected, once confirmed.
    pub contact_point: Option<ContactId>,
}
