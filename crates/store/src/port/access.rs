//! Users, sessions and the audited reveal of personal data.

use async_trait::async_trait;
use daylight_domain::id::CustomerId;
use jiff::Timestamp;

use crate::access::{NewSession, NewUser, OrgUnit, SecondFactor, Session, UnitKind, User};
use crate::error::Result;
use crate::model::*;

/// Users, sessions and the audited reveal of personal data.
#[async_trait]
pub trait AccessStore: Send + Sync {
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

    /// The teams or the agencies on record, by id, with their members counted.
    async fn org_units(&self, kind: UnitKind) -> Result<Vec<OrgUnit>>;

    /// Puts a team or an agency on record (`EXISTS` if its id is taken).
    async fn create_org_unit(
        &self,
        kind: UnitKind,
        id: &str,
        name: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Renames a team or an agency (its id, which users and cases name, stays).
    async fn rename_org_unit(
        &self,
        kind: UnitKind,
        id: &str,
        name: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

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

    /// The user's second factor: the confirmed secret, an enrolment under way, the last step
    /// used.
    async fn second_factor(&self, login: &str) -> Result<SecondFactor>;

    /// Starts (or restarts) an enrolment with `secret` (base32); the factor in force, if any,
    /// stays until the new one is confirmed.
    async fn begin_second_factor(&self, login: &str, secret: &str) -> Result<()>;

    /// Confirms the enrolment under way (its code was right at `step`): its secret is now the
    /// user's, `recovery_sha256` replace the recovery codes, and it is recorded.
    async fn confirm_second_factor(
        &self,
        login: &str,
        step: i64,
        recovery_sha256: &[String],
        now: Timestamp,
    ) -> Result<()>;

    /// Marks `step` used if it is later than the last one used; false: a replayed code.
    async fn use_totp_step(&self, login: &str, step: i64) -> Result<bool>;

    /// Uses one of the user's recovery codes, once (recorded); false: no such unused code.
    async fn use_recovery_code(&self, login: &str, code_sha256: &str, now: Timestamp) -> Result<bool>;

    /// Removes a user's second factor and recovery codes and ends their sessions (an admin,
    /// for a lost phone); recorded. The user enrols again at their next sign-in.
    async fn reset_second_factor(&self, login: &str, actor: &str, now: Timestamp) -> Result<()>;

    /// The user's last `n` password hashes before the current one, newest first.
    async fn password_history(&self, login: &str, n: u32) -> Result<Vec<String>>;

    /// What this database is for: `demo`, `test`, or none (production).
    async fn purpose(&self) -> Result<Option<String>>;

    /// Marks this database as a `demo` or `test` database (recorded).
    async fn set_purpose(&self, purpose: &str, actor: &str, now: Timestamp) -> Result<()>;
}
