//! What each role may do. Which cases a role sees is its [`daylight_store::access::Scope`], applied by the store; this
//! table says which actions it may take on what it sees.

use daylight_store::access::Role;

/// An action a role may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read cases (within scope), their timeline and the queue.
    ViewCases,
    /// Record contacts, notes and promises; propose repayment plans; request waivers.
    WorkCases,
    /// Approve or reject repayment plans, waivers and third-party contacts; see escalations.
    Approve,
    /// Reassign cases.
    Assign,
    /// Close cases (alone or in bulk).
    Close,
    /// Reopen a closed case.
    Reopen,
    /// See a personal field in clear (each time recorded in the ledger).
    Unmask,
    /// Create and change users, reset passwords.
    ManageUsers,
    /// Change the compliance pack and its parameters.
    ManagePolicy,
    /// Read the evidence ledger.
    ViewLedger,
    /// Export tables (xlsx, CSV).
    Export,
    /// See the team's figures (KPIs, charts).
    ViewKpis,
    /// Register complaints against cases and their contacts.
    RegisterComplaints,
    /// Create experiments (the strategy's champion / challenger / holdout splits).
    ManageStrategy,
    /// Submit a call's transcript for QC (the dialler's service user, a collector, a lead).
    SubmitTranscripts,
    /// Read QC's findings and transcripts of calls (within scope).
    ViewQc,
    /// Listen to call recordings in the console (within scope; each listen audited).
    ListenRecordings,
    /// Download call recordings (each download audited).
    DownloadRecordings,
    /// Watch a team's live board (collectors' states, calls and talk time today).
    WatchFloor,
    /// Listen to, whisper into, barge into and hang up collectors' live calls (within scope;
    /// each use a ledger event).
    SuperviseCalls,
    /// Decide a collector's appeal of an upheld QC finding.
    DecideAppeals,
}

/// Whether `role` has `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match permission {
        P::ViewCases => true,
        P::WorkCases => matches!(role, R::TeamLead | R::Collector | R::AgencyManager | R::AgencyCollector),
        P::Approve => matches!(role, R::TeamLead),
        P::Assign => matches!(role, R::Admin | R::TeamLead | R::AgencyManager),
        P::Close => matches!(role, R::TeamLead),
        P::Reopen => matches!(role, R::TeamLead),
        P::Unmask => matches!(role, R::Admin | R::Compliance | R::TeamLead),
        P::ManageUsers => matches!(role, R::Admin),
        P::ManagePolicy => matches!(role, R::Admin | R::Compliance),
        P::ViewLedger => matches!(role, R::Admin | R::Compliance | R::Auditor),
        P::Export => !matches!(role, R::Collector | R::AgencyCollector),
        P::ViewKpis => !matches!(role, R::Collector | R::AgencyCollector),
        P::ManageStrategy => matches!(role, R::Admin | R::Analyst),
        P::SubmitTranscripts => {
            matches!(role, R::Admin | R::TeamLead | R::Collector | R::AgencyManager | R::AgencyCollector)
        }
        P::ViewQc => !matches!(role, R::Collector | R::AgencyCollector),
        P::ListenRecordings => matches!(role, R::Admin | R::Compliance | R::TeamLead),
        P::DownloadRecordings => matches!(role, R::Admin),
        P::WatchFloor => matches!(role, R::Admin | R::TeamLead),
        P::SuperviseCalls => matches!(role, R::Admin | R::TeamLead),
        P::DecideAppeals => matches!(role, R::Compliance),
        P::RegisterComplaints => matches!(role, R::Admin | R::Compliance | R::TeamLead | R::AgencyManager),
    }
}

/// The words the console shows for a role.
pub fn role_label(role: Role, zh: bool) -> &'static str {
    match (role, zh) {
        (Role::Admin, true) => "系统管理员",
        (Role::Compliance, true) => "合规专员",
        (Role::Analyst, true) => "策略分析师",
        (Role::TeamLead, true) => "催收组长",
        (Role::Collector, true) => "催收员",
        (Role::AgencyManager, true) => "委外机构主管",
        (Role::AgencyCollector, true) => "委外催收员",
        (Role::Auditor, true) => "审计员",
        (Role::Admin, false) => "Administrator",
        (Role::Compliance, false) => "Compliance officer",
        (Role::Analyst, false) => "Strategy analyst",
        (Role::TeamLead, false) => "Team lead",
        (Role::Collector, false) => "Collector",
        (Role::AgencyManager, false) => "Agency manager",
        (Role::AgencyCollector, false) => "Agency collector",
        (Role::Auditor, false) => "Auditor",
    }
}
