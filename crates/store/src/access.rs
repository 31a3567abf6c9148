//! Who may use Daylight and what they may see: users, their roles, sessions, and the scope a
//! role gives over cases.
//!
//! A [`Scope`] is applied inside the store's queries ([`crate::model::CaseFilter::scope`],
//! [`crate::CaseStore::case_detail_in`], [`crate::CaseStore::case_in_scope`]), so a case outside the
//! caller's scope reads exactly as a case that does not exist: the server cannot leak one by
//! forgetting a check, and a caller cannot learn which ids exist by trying them.
//!
//! Passwords never reach the store in clear: it keeps the argon2id PHC string the server made.
//! Session tokens are kept as their SHA-256, so a copy of the database opens no session.

use std::fmt;
use std::str::FromStr;

use daylight_domain::{Code, Invalid};
use jiff::Timestamp;

/// What a user does, which decides what they may do and which cases they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Runs the installation: users, teams, settings. Sees every case.
    Admin,
    /// Owns the compliance pack and reviews QC. Sees every case.
    Compliance,
    /// Writes strategies, runs experiments and models. Sees every case.
    Analyst,
    /// Leads a team: approvals, reassignment, KPIs. Sees the team's cases.
    TeamLead,
    /// Works the queue. Sees the cases assigned to them.
    Collector,
    /// Heads an outside agency (委案). Sees the cases placed with it.
    AgencyManager,
    /// Collects for an agency. Sees the agency's cases assigned to them.
    AgencyCollector,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// Every role, in the order screens list them.
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Compliance,
        Role::Analyst,
        Role::TeamLead,
        Role::Collector,
        Role::AgencyManager,
        Role::AgencyCollector,
        Role::Auditor,
    ];

    /// The stored word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Compliance => "compliance_officer",
            Role::Analyst => "strategy_analyst",
            Role::TeamLead => "team_lead",
            Role::Collector => "collector",
            Role::AgencyManager => "agency_manager",
            Role::AgencyCollector => "agency_collector",
            Role::Auditor => "auditor",
        }
    }

    /// Whether a user of this role must belong to a team.
    pub const fn needs_team(self) -> bool {
        matches!(self, Role::TeamLead | Role::Collector)
    }

    /// Whether a user of this role must belong to an agency.
    pub const fn needs_agency(self) -> bool {
        matches!(self, Role::AgencyManager | Role::AgencyCollector)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Role, Invalid> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let words: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
            Invalid::new(Code::Enum, format!("unknown role {s:?}: expected one of {}", words.join(", ")))
        })
    }
}

/// The cases a caller may see and act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every case (head office roles, the command line).
    #[default]
    All,
    /// Cases assigned to this team.
    Team(String),
    /// Cases assigned to this collector.
    Collector(String),
    /// Cases placed with this agency.
    Agency(String),
    /// Cases placed with this agency and assigned to this collector of it.
    AgencyCollector {
        /// The agency.
        agency: String,
        /// The collector's login.
        login: String,
    },
}

impl Scope {
    /// The scope a user's role gives. A team or agency role without its team or agency sees
    /// nothing (the store refuses to create such a user; this is the safe reading of one).
    pub fn of(user: &User) -> Scope {
        let none = || Scope::Team(String::new());
        match user.role {
            Role::Admin | Role::Compliance | Role::Analyst | Role::Auditor => Scope::All,
            Role::TeamLead => user.team.clone().map_or_else(none, Scope::Team),
            Role::Collector => Scope::Collector(user.login.clone()),
            Role::AgencyManager => user.agency.clone().map_or_else(none, Scope::Agency),
            Role::AgencyCollector => match &user.agency {
                Some(a) => Scope::AgencyCollector { agency: a.clone(), login: user.login.clone() },
                None => none(),
            },
        }
    }
}

/// What an organisational unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitKind {
    /// A team of the bank's collectors (a team lead and collectors).
    Team,
    /// An outside collection agency (its managers and collectors).
    Agency,
}

impl UnitKind {
    /// `team` or `agency`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnitKind::Team => "team",
            UnitKind::Agency => "agency",
        }
    }
}

/// A team or an agency on record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    /// Team or agency.
    pub kind: UnitKind,
    /// Its id, as users and cases name it (`T1`, `AG01`).
    pub id: String,
    /// Its name, as people read it.
    pub name: String,
    /// Users in it (disabled ones included).
    pub members: u32,
}

impl OrgUnit {
    /// Checks an id (1 to 32 letters, digits, `-` or `_`) and a name (1 to 64 characters).
    pub fn check(id: &str, name: &str) -> Result<(), Invalid> {
        use daylight_domain::Code;
        if id.is_empty()
            || id.len() > 32
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Invalid::new(
                Code::IdFormat,
                format!("id {id:?}: 1 to 32 letters, digits, '-' or '_'"),
            ));
        }
        let n = name.trim().chars().count();
        if n == 0 {
            return Err(Invalid::new(Code::Required, "a name is required"));
        }
        if n > 64 {
            return Err(Invalid::new(Code::TooLong, "a name has at most 64 characters"));
        }
        Ok(())
    }
}

/// A user as stored (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Employee number: the login (e.g. `E001`).
    pub login: String,
    /// Full name, shown to colleagues.
    pub name: String,
    /// Mobile phone, the second way to log in.
    pub mobile: Option<String>,
    /// The role.
    pub role: Role,
    /// The team (team leads and collectors).
    pub team: Option<String>,
    /// The agency (agency roles).
    pub agency: Option<String>,
    /// The password is a one-time password: it must be changed before anything else.
    pub must_change: bool,
    /// Disabled users cannot log in and their sessions end.
    pub disabled: bool,
    /// Failed logins since the last success or lock.
    pub failed_logins: u32,
    /// Locked out until then after repeated failures.
    pub locked_until: Option<Timestamp>,
    /// When the password was last set.
    pub password_set_at: Timestamp,
    /// The user has a second factor (TOTP) in force.
    pub second_factor: bool,
    /// When the user was created.
    pub created_at: Timestamp,
}

/// A user to create, or the whole new state of one to change ([`crate::AccessStore::update_user`]
/// ignores `password_hash` and `must_change`).
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Employee number: 1–32 letters, digits, `-`, `_` or `.`.
    pub login: String,
    /// Full name.
    pub name: String,
    /// Mobile phone (11 digits), optional.
    pub mobile: Option<String>,
    /// The role.
    pub role: Role,
    /// The team: required for team leads and collectors.
    pub team: Option<String>,
    /// The agency: required for agency roles.
    pub agency: Option<String>,
    /// Disabled.
    pub disabled: bool,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// The password is one-time (an admin set it).
    pub must_change: bool,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("login", &self.login)
            .field("role", &self.role)
            .field("team", &self.team)
            .field("agency", &self.agency)
            .field("password_hash", &"(redacted)")
            .finish_non_exhaustive()
    }
}

impl NewUser {
    /// Checks the fields, naming the first that is wrong.
    pub fn validate(&self) -> Result<(), daylight_domain::error::FieldInvalid> {
        use daylight_domain::error::FieldInvalid;
        let ok_login = !self.login.is_empty()
            && self.login.len() <= 32
            && self.login.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok_login {
            return Err(FieldInvalid::new(
                "login",
                Code::IdFormat,
                "1–32 letters, digits, '-', '_' or '.' (an employee number such as E001)",
            ));
        }
        let name = self.name.trim();
        if name.is_empty() {
            return Err(FieldInvalid::new("name", Code::Required, "a name is required"));
        }
        if name.chars().count() > 64 {
            return Err(FieldInvalid::new("name", Code::TooLong, "at most 64 characters"));
        }
        if let Some(m) = &self.mobile
            && !(m.len() == 11 && m.starts_with('1') && m.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(FieldInvalid::new("mobile", Code::PhoneFormat, "11 digits starting with 1"));
        }
        for (field, value, needed) in
            [("team", &self.team, self.role.needs_team()), ("agency", &self.agency, self.role.needs_agency())]
        {
            match value {
                None if needed => {
                    return Err(FieldInvalid::new(
                        field,
                        Code::Required,
                        format!("a {} needs a {field}", self.role),
                    ));
                }
                Some(v) if v.trim().is_empty() || v.len() > 32 => {
                    return Err(FieldInvalid::new(field, Code::IdFormat, "1–32 characters"));
                }
                _ => {}
            }
        }
        if !self.password_hash.starts_with("$argon2id$") {
            return Err(FieldInvalid::new("password_hash", Code::Inconsistent, "an argon2id PHC string"));
        }
        Ok(())
    }
}

/// A session to open: the token's SHA-256 (hex), never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the cookie's token, hex.
    pub token_sha256: String,
    /// Whose session.
    pub login: String,
    /// The CSRF token every form and unsafe API call of this session must carry.
    pub csrf: String,
    /// The session ends then, whatever happens.
    pub expires_at: Timestamp,
    /// Opened by a password whose user has a second factor: it may do nothing but give the
    /// code.
    pub second_factor_pending: bool,
}

/// A live session and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user, as stored now (a role change applies to open sessions at once).
    pub user: User,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it was last used (updated at most once a minute by the server).
    pub last_seen: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
    /// It waits for the second factor's code.
    pub second_factor_pending: bool,
}

/// A user's second factor as stored.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecondFactor {
    /// The secret in force (base32), once an enrolment was confirmed.
    pub secret: Option<String>,
    /// The secret of an enrolment under way.
    pub pending: Option<String>,
    /// The last 30-second step whose code was used.
    pub last_step: Option<i64>,
}

impl fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecondFactor")
            .field("secret", &self.secret.as_ref().map(|_| "(redacted)"))
            .field("pending", &self.pending.as_ref().map(|_| "(redacted)"))
            .field("last_step", &self.last_step)
            .finish()
    }
}
