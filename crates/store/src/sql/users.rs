// Shared by both adapters (see common.rs). This part: users, sessions, and the scope
// predicate every case query of a scoped caller carries.

use crate::access::{
    NewSession, NewUser, OrgUnit, Role, Scope, SecondFactor, Session as UserSession, UnitKind, User,
};

/// The columns of a user, without the password hash.
const USER_COLUMNS: &str = "u.login, u.name, u.mobile, u.role, u.team, u.agency, u.must_change, u.disabled, \
     u.failed_logins, u.locked_until, u.password_set_at, u.created_at, \
     (u.totp_secret IS NOT NULL) AS second_factor";

fn user_from_row(r: &DbRow) -> Result<User> {
    Ok(User {
        login: text(r, "login")?,
        name: text(r, "name")?,
        mobile: opt_text(r, "mobile")?,
        role: word::<Role>(r, "role")?,
        team: opt_text(r, "team")?,
        agency: opt_text(r, "agency")?,
        must_change: r.try_get::<bool, _>("must_change")?,
        disabled: r.try_get::<bool, _>("disabled")?,
        failed_logins: small(r, "failed_logins")?,
        locked_until: opt_time(r, "locked_until")?,
        password_set_at: time(r, "password_set_at")?,
        created_at: time(r, "created_at")?,
        second_factor: r.try_get::<bool, _>("second_factor")?,
    })
}

/// Appends ` AND <the scope's condition on alias c>` to a case query.
fn push_scope(qb: &mut QueryBuilder<Db>, scope: &Scope) {
    match scope {
        Scope::All => {}
        Scope::Team(team) => {
            qb.push(" AND c.team = ").push_bind(team.clone());
        }
        Scope::Collector(login) => {
            qb.push(" AND c.collector = ").push_bind(login.clone());
        }
        Scope::Agency(agency) => {
            qb.push(" AND c.agency = ").push_bind(agency.clone());
        }
        Scope::AgencyCollector { agency, login } => {
            qb.push(" AND c.agency = ").push_bind(agency.clone());
            qb.push(" AND c.collector = ").push_bind(login.clone());
        }
    }
}

async fn read_case_in_scope(pool: &DbPool, scope: &Scope, case: &CaseId) -> Result<()> {
    let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM cases c WHERE c.id = ");
    qb.push_bind(case.as_str().to_owned());
    push_scope(&mut qb, scope);
    let n: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    if n == 0 {
        return Err(StoreError::not_found("case", case.as_str()));
    }
    Ok(())
}

async fn read_arrangements_in(
    pool: &DbPool,
    scope: &Scope,
    status: Option<ArrangementStatus>,
    limit: u32,
) -> Result<Vec<StoredArrangement>> {
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT a.* FROM arrangements a JOIN cases c ON c.id = a.case_id WHERE 1 = 1",
    );
    if let Some(s) = status {
        qb.push(" AND a.status = ").push_bind(s.as_str());
    }
    push_scope(&mut qb, scope);
    qb.push(" ORDER BY a.proposed_at, a.id LIMIT ").push_bind(i64::from(limit.min(CaseFilter::MAX_LIMIT)));
    let rows = qb.build().fetch_all(pool).await?;
    rows.iter().map(arrangement_from_row).collect()
}

/// The user `login` (or whose mobile is `login`) as the same transaction sees them.
async fn user_in(tx: &mut Tx, login: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.login = $1");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(login).fetch_optional(&mut **tx).await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Refuses a login or mobile that another user already logs in with, either way round.
async fn check_unique_login(tx: &mut Tx, u: &NewUser, except: Option<&str>) -> Result<()> {
    let mut names = vec![u.login.as_str()];
    names.extend(u.mobile.as_deref());
    for name in names {
        let taken: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE (login = $1 OR mobile = $1) AND login <> $2",
        )
        .bind(name)
        .bind(except.unwrap_or(""))
        .fetch_one(&mut **tx)
        .await?;
        if taken > 0 {
            return Err(
                Invalid::new(Code::Exists, format!("another user already logs in as {name:?}")).into()
            );
        }
    }
    Ok(())
}

fn user_payload(u: &NewUser) -> serde_json::Value {
    json!({"role": u.role.as_str(), "team": u.team, "agency": u.agency, "disabled": u.disabled})
}

/// A user's team and agency must be on record (`UNKNOWN_RECORD` names the field).
async fn check_units(tx: &mut Tx, u: &NewUser) -> Result<()> {
    for (kind, id) in [(UnitKind::Team, &u.team), (UnitKind::Agency, &u.agency)] {
        let Some(id) = id.as_deref() else { continue };
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM org_units WHERE kind = $1 AND id = $2")
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        if found.is_none() {
            return Err(Invalid::new(
                Code::UnknownRecord,
                format!("{}: no {} {id:?} on record; create it first", kind.as_str(), kind.as_str()),
            )
            .into());
        }
    }
    Ok(())
}

async fn read_org_units(read: &DbPool, kind: UnitKind) -> Result<Vec<OrgUnit>> {
    let col = match kind {
        UnitKind::Team => "team",
        UnitKind::Agency => "agency",
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT o.id, o.name, (SELECT COUNT(*) FROM users u WHERE u.{col} = o.id) AS members \
         FROM org_units o WHERE o.kind = $1 ORDER BY o.id"
    )))
    .bind(kind.as_str())
    .fetch_all(read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OrgUnit {
                kind,
                id: text(r, "id")?,
                name: text(r, "name")?,
                members: u32::try_from(int(r, "members")?).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// Creates (`rename` false) or renames a team or agency, with its ledger event.
async fn write_org_unit(
    write: &DbPool,
    kind: UnitKind,
    id: &str,
    name: &str,
    rename: bool,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    OrgUnit::check(id, name)?;
    let name = name.trim();
    let mut tx = begin_write(write).await?;
    let before: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT name FROM org_units WHERE kind = $1 AND id = $2{FOR_UPDATE}"
    )))
    .bind(kind.as_str())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    match (&before, rename) {
        (Some(_), false) => {
            return Err(
                Invalid::new(Code::Exists, format!("{} {id} is on record already", kind.as_str())).into()
            );
        }
        (None, true) => return Err(StoreError::not_found(kind.as_str(), id)),
        (None, false) => {
            sqlx::query("INSERT INTO org_units (kind, id, name) VALUES ($1, $2, $3)")
                .bind(kind.as_str())
                .bind(id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        (Some(_), true) => {
            sqlx::query("UPDATE org_units SET name = $1 WHERE kind = $2 AND id = $3")
                .bind(name)
                .bind(kind.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    let payload = json!({"kind": kind.as_str(), "id": id, "name": name, "from": before});
    append(&mut tx, &Event::new(now, actor, EventKind::OrgUnit, format!("{}:{id}", kind.as_str()), &payload))
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_user(write: &DbPool, u: &NewUser, actor: &str, now: Timestamp) -> Result<User> {
    required("actor", actor)?;
    u.validate().map_err(Invalid::from)?;
    let mut tx = begin_write(write).await?;
    check_units(&mut tx, u).await?;
    if user_in(&mut tx, &u.login).await?.is_some() {
        return Err(Invalid::new(Code::Exists, format!("user {} already exists", u.login)).into());
    }
    check_unique_login(&mut tx, u, None).await?;
    sqlx::query(
        "INSERT INTO users (login, name, mobile, role, team, agency, password_hash, must_change, disabled, \
         failed_logins, locked_until, password_set_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, NULL, $10, $11, $10)",
    )
    .bind(&u.login)
    .bind(u.name.trim())
    .bind(u.mobile.as_deref())
    .bind(u.role.as_str())
    .bind(u.team.as_deref())
    .bind(u.agency.as_deref())
    .bind(&u.password_hash)
    .bind(u.must_change)
    .bind(u.disabled)
    .bind(DbTime::new(now))
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    let mut payload = user_payload(u);
    payload["one_time_password"] = json!(u.must_change);
    append(&mut tx, &Event::new(now, actor, EventKind::UserCreated, format!("user:{}", u.login), &payload))
        .await?;
    let user = user_in(&mut tx, &u.login).await?.ok_or_else(|| StoreError::not_found("user", &u.login))?;
    tx.commit().await?;
    Ok(user)
}

async fn change_user(write: &DbPool, u: &NewUser, actor: &str, now: Timestamp) -> Result<User> {
    required("actor", actor)?;
    u.validate().map_err(Invalid::from)?;
    let mut tx = begin_write(write).await?;
    if user_in(&mut tx, &u.login).await?.is_none() {
        return Err(StoreError::not_found("user", &u.login));
    }
    check_units(&mut tx, u).await?;
    check_unique_login(&mut tx, u, Some(&u.login)).await?;
    sqlx::query(
        "UPDATE users SET name = $1, mobile = $2, role = $3, team = $4, agency = $5, disabled = $6 WHERE login = $7",
    )
    .bind(u.name.trim())
    .bind(u.mobile.as_deref())
    .bind(u.role.as_str())
    .bind(u.team.as_deref())
    .bind(u.agency.as_deref())
    .bind(u.disabled)
    .bind(&u.login)
    .execute(&mut *tx)
    .await?;
    if u.disabled {
        sqlx::query("DELETE FROM sessions WHERE login = $1").bind(&u.login).execute(&mut *tx).await?;
    }
    let payload = user_payload(u);
    append(&mut tx, &Event::new(now, actor, EventKind::UserChanged, format!("user:{}", u.login), &payload))
        .await?;
    let user = user_in(&mut tx, &u.login).await?.ok_or_else(|| StoreError::not_found("user", &u.login))?;
    tx.commit().await?;
    Ok(user)
}

async fn read_users(pool: &DbPool) -> Result<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.login");
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(pool).await?;
    rows.iter().map(user_from_row).collect()
}

async fn read_user(pool: &DbPool, login: &str) -> Result<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.login = $1");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(login).fetch_optional(pool).await?;
    user_from_row(&row.ok_or_else(|| StoreError::not_found("user", login))?)
}

async fn read_credentials(pool: &DbPool, who: &str) -> Result<Option<(User, String)>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.login = $1 OR u.mobile = $1 ORDER BY u.login LIMIT 1"
    );
    let row = sqlx::query(AssertSqlSafe(sql)).bind(who).fetch_optional(pool).await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some((user_from_row(&r)?, text(&r, "password_hash")?))),
    }
}

async fn write_login_failed(
    write: &DbPool,
    login: &str,
    lock_after: u32,
    lock_until: Timestamp,
    now: Timestamp,
) -> Result<User> {
    let mut tx = begin_write(write).await?;
    let before = user_in(&mut tx, login).await?.ok_or_else(|| StoreError::not_found("user", login))?;
    let failed = before.failed_logins.saturating_add(1);
    if failed >= lock_after.max(1) {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE login = $2")
            .bind(DbTime::new(lock_until))
            .bind(login)
            .execute(&mut *tx)
            .await?;
        let payload = json!({"failed_logins": failed, "locked_until": lock_until.to_string()});
        append(
            &mut tx,
            &Event::new(now, "daylight", EventKind::UserLocked, format!("user:{login}"), &payload),
        )
        .await?;
    } else {
        sqlx::query("UPDATE users SET failed_logins = $1 WHERE login = $2")
            .bind(i64::from(failed))
            .bind(login)
            .execute(&mut *tx)
            .await?;
    }
    let user = user_in(&mut tx, login).await?.ok_or_else(|| StoreError::not_found("user", login))?;
    tx.commit().await?;
    Ok(user)
}

async fn write_open_session(write: &DbPool, s: &NewSession, now: Timestamp) -> Result<()> {
    let mut tx = begin_write(write).await?;
    let done = sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE login = $1 AND NOT disabled",
    )
    .bind(&s.login)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("user", &s.login));
    }
    // Sessions past their end are swept here, so the table holds only live ones and a few.
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(DbTime::new(now))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_sha256, login, csrf, created_at, last_seen, expires_at, second_factor_pending) \
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(&s.token_sha256)
    .bind(&s.login)
    .bind(&s.csrf)
    .bind(DbTime::new(now))
    .bind(DbTime::new(s.expires_at))
    .bind(s.second_factor_pending)
    .execute(&mut *tx)
    .await?;
    let payload =
        json!({"expires_at": s.expires_at.to_string(), "second_factor_pending": s.second_factor_pending});
    append(&mut tx, &Event::new(now, &s.login, EventKind::UserLogin, format!("user:{}", s.login), &payload))
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn read_session(pool: &DbPool, token_sha256: &str, now: Timestamp) -> Result<Option<UserSession>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, s.csrf, s.created_at AS s_created_at, s.last_seen, s.expires_at, \
         s.second_factor_pending \
         FROM sessions s JOIN users u ON u.login = s.login \
         WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND NOT u.disabled"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(token_sha256)
        .bind(DbTime::new(now))
        .fetch_optional(pool)
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(UserSession {
        user: user_from_row(&r)?,
        csrf: text(&r, "csrf")?,
        created_at: time(&r, "s_created_at")?,
        last_seen: time(&r, "last_seen")?,
        expires_at: time(&r, "expires_at")?,
        second_factor_pending: r.try_get::<bool, _>("second_factor_pending")?,
    }))
}

async fn write_touch_session(
    write: &DbPool,
    token_sha256: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    let mut tx = begin_write(write).await?;
    sqlx::query("UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_sha256 = $3")
        .bind(DbTime::new(now))
        .bind(DbTime::new(expires_at))
        .bind(token_sha256)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn write_close_session(write: &DbPool, token_sha256: &str) -> Result<()> {
    let mut tx = begin_write(write).await?;
    sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1").bind(token_sha256).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn write_set_password(
    write: &DbPool,
    login: &str,
    password_hash: &str,
    must_change: bool,
    keep_session: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    if !password_hash.starts_with("$argon2id$") {
        return Err(Invalid::new(Code::Inconsistent, "a password is stored as an argon2id PHC string").into());
    }
    let mut tx = begin_write(write).await?;
    // The password being replaced joins the history (a new one may not be a recent one).
    sqlx::query(
        "INSERT INTO password_history (login, hash, set_at) SELECT login, password_hash, password_set_at \
         FROM users WHERE login = $1",
    )
    .bind(login)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, must_change = $2, password_set_at = $3, failed_logins = 0, \
         locked_until = NULL WHERE login = $4",
    )
    .bind(password_hash)
    .bind(must_change)
    .bind(DbTime::new(now))
    .bind(login)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("user", login));
    }
    // Every other session of the user ends: a reset password must lock out whoever had it.
    sqlx::query("DELETE FROM sessions WHERE login = $1 AND token_sha256 <> $2")
        .bind(login)
        .bind(keep_session.unwrap_or(""))
        .execute(&mut *tx)
        .await?;
    let payload =
        json!({"by": if actor == login { "self" } else { "admin" }, "one_time_password": must_change});
    append(&mut tx, &Event::new(now, actor, EventKind::PasswordSet, format!("user:{login}"), &payload))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The associated data of both TOTP columns: confirming an enrolment moves the sealed secret
/// from one to the other.
const TOTP_AAD: &str = "users.totp";

async fn read_second_factor(pool: &DbPool, ring: &Keyring, login: &str) -> Result<SecondFactor> {
    let row = sqlx::query("SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE login = $1")
        .bind(login)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| StoreError::not_found("user", login))?;
    Ok(SecondFactor {
        secret: ring.open_opt(TOTP_AAD, opt_text(&row, "totp_secret")?)?,
        pending: ring.open_opt(TOTP_AAD, opt_text(&row, "totp_pending")?)?,
        last_step: row.try_get::<Option<i64>, _>("totp_last_step")?,
    })
}

async fn write_begin_second_factor(write: &DbPool, login: &str, secret: &str) -> Result<()> {
    let mut tx = begin_write(write).await?;
    let done = sqlx::query("UPDATE users SET totp_pending = $1 WHERE login = $2")
        .bind(secret)
        .bind(login)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("user", login));
    }
    tx.commit().await?;
    Ok(())
}

async fn write_confirm_second_factor(
    write: &DbPool,
    login: &str,
    step: i64,
    recovery: &[String],
    now: Timestamp,
) -> Result<()> {
    let mut tx = begin_write(write).await?;
    let done = sqlx::query(
        "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 \
         WHERE login = $2 AND totp_pending IS NOT NULL",
    )
    .bind(step)
    .bind(login)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Invalid::new(Code::Inconsistent, "no enrolment under way: start it again").into());
    }
    sqlx::query("DELETE FROM recovery_codes WHERE login = $1").bind(login).execute(&mut *tx).await?;
    for code in recovery {
        sqlx::query("INSERT INTO recovery_codes (login, code_sha256) VALUES ($1, $2)")
            .bind(login)
            .bind(code)
            .execute(&mut *tx)
            .await?;
    }
    let payload = json!({"action": "enrolled", "factor": "totp", "recovery_codes": recovery.len()});
    append(&mut tx, &Event::new(now, login, EventKind::SecondFactor, format!("user:{login}"), &payload))
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn write_use_totp_step(write: &DbPool, login: &str, step: i64) -> Result<bool> {
    let mut tx = begin_write(write).await?;
    let done = sqlx::query(
        "UPDATE users SET totp_last_step = $1 WHERE login = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(login)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

async fn write_use_recovery_code(write: &DbPool, login: &str, code: &str, now: Timestamp) -> Result<bool> {
    let mut tx = begin_write(write).await?;
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE login = $2 AND code_sha256 = $3 AND used_at IS NULL",
    )
    .bind(DbTime::new(now))
    .bind(login)
    .bind(code)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE login = $1 AND used_at IS NULL")
            .bind(login)
            .fetch_one(&mut *tx)
            .await?;
    let payload = json!({"action": "recovery_code_used", "left": left});
    append(&mut tx, &Event::new(now, login, EventKind::SecondFactor, format!("user:{login}"), &payload))
        .await?;
    tx.commit().await?;
    Ok(true)
}

async fn write_reset_second_factor(write: &DbPool, login: &str, actor: &str, now: Timestamp) -> Result<()> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let done = sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE login = $1",
    )
    .bind(login)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("user", login));
    }
    sqlx::query("DELETE FROM recovery_codes WHERE login = $1").bind(login).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sessions WHERE login = $1").bind(login).execute(&mut *tx).await?;
    let payload = json!({"action": "reset"});
    append(&mut tx, &Event::new(now, actor, EventKind::SecondFactor, format!("user:{login}"), &payload))
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn read_password_history(pool: &DbPool, login: &str, n: u32) -> Result<Vec<String>> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT hash FROM password_history WHERE login = $1 ORDER BY id DESC LIMIT $2")
            .bind(login)
            .bind(i64::from(n))
            .fetch_all(pool)
            .await?;
    Ok(rows)
}

async fn read_purpose(pool: &DbPool) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM instance WHERE key = 'purpose'").fetch_optional(pool).await?)
}

async fn write_purpose(write: &DbPool, purpose: &str, actor: &str, now: Timestamp) -> Result<()> {
    required("actor", actor)?;
    if !matches!(purpose, "demo" | "test") {
        return Err(Invalid::new(
            Code::Inconsistent,
            format!("{purpose:?}: a database is marked demo or test"),
        )
        .into());
    }
    let mut tx = begin_write(write).await?;
    sqlx::query("DELETE FROM instance WHERE key = 'purpose'").execute(&mut *tx).await?;
    sqlx::query("INSERT INTO instance (key, value) VALUES ('purpose', $1)")
        .bind(purpose)
        .execute(&mut *tx)
        .await?;
    let payload = json!({"purpose": purpose});
    append(&mut tx, &Event::new(now, actor, EventKind::Purpose, "store".to_owned(), &payload)).await?;
    tx.commit().await?;
    Ok(())
}

#[async_trait]
impl AccessStore for Adapter {
    async fn second_factor(&self, login: &str) -> Result<SecondFactor> {
        read_second_factor(&self.write, &*self.keyring().await?, login).await
    }

    async fn begin_second_factor(&self, login: &str, secret: &str) -> Result<()> {
        write_begin_second_factor(&self.write, login, &self.keyring().await?.seal(TOTP_AAD, secret)).await
    }

    async fn confirm_second_factor(
        &self,
        login: &str,
        step: i64,
        recovery_sha256: &[String],
        now: Timestamp,
    ) -> Result<()> {
        write_confirm_second_factor(&self.write, login, step, recovery_sha256, now).await
    }

    async fn use_totp_step(&self, login: &str, step: i64) -> Result<bool> {
        write_use_totp_step(&self.write, login, step).await
    }

    async fn use_recovery_code(&self, login: &str, code_sha256: &str, now: Timestamp) -> Result<bool> {
        write_use_recovery_code(&self.write, login, code_sha256, now).await
    }

    async fn reset_second_factor(&self, login: &str, actor: &str, now: Timestamp) -> Result<()> {
        write_reset_second_factor(&self.write, login, actor, now).await
    }

    async fn password_history(&self, login: &str, n: u32) -> Result<Vec<String>> {
        read_password_history(&self.read, login, n).await
    }

    async fn purpose(&self) -> Result<Option<String>> {
        read_purpose(&self.read).await
    }

    async fn set_purpose(&self, purpose: &str, actor: &str, now: Timestamp) -> Result<()> {
        write_purpose(&self.write, purpose, actor, now).await
    }

    async fn reveal(
        &self,
        customer: &CustomerId,
        field: &PiiField,
        purpose: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<String> {
        reveal_field(&self.write, &*self.keyring().await?, customer, field, purpose, actor, now).await
    }

    async fn create_user(&self, user: &NewUser, actor: &str, now: Timestamp) -> Result<User> {
        insert_user(&self.write, user, actor, now).await
    }

    async fn update_user(&self, user: &NewUser, actor: &str, now: Timestamp) -> Result<User> {
        change_user(&self.write, user, actor, now).await
    }

    async fn users(&self) -> Result<Vec<User>> {
        read_users(&self.read).await
    }

    async fn org_units(&self, kind: UnitKind) -> Result<Vec<OrgUnit>> {
        read_org_units(&self.read, kind).await
    }

    async fn create_org_unit(
        &self,
        kind: UnitKind,
        id: &str,
        name: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        write_org_unit(&self.write, kind, id, name, false, actor, now).await
    }

    async fn rename_org_unit(
        &self,
        kind: UnitKind,
        id: &str,
        name: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        write_org_unit(&self.write, kind, id, name, true, actor, now).await
    }

    async fn user(&self, login: &str) -> Result<User> {
        read_user(&self.read, login).await
    }

    async fn credentials(&self, who: &str) -> Result<Option<(User, String)>> {
        read_credentials(&self.read, who).await
    }

    async fn login_failed(
        &self,
        login: &str,
        lock_after: u32,
        lock_until: Timestamp,
        now: Timestamp,
    ) -> Result<User> {
        write_login_failed(&self.write, login, lock_after, lock_until, now).await
    }

    async fn open_session(&self, session: &NewSession, now: Timestamp) -> Result<()> {
        write_open_session(&self.write, session, now).await
    }

    async fn session(&self, token_sha256: &str, now: Timestamp) -> Result<Option<UserSession>> {
        read_session(&self.read, token_sha256, now).await
    }

    async fn touch_session(&self, token_sha256: &str, now: Timestamp, expires_at: Timestamp) -> Result<()> {
        write_touch_session(&self.write, token_sha256, now, expires_at).await
    }

    async fn close_session(&self, token_sha256: &str) -> Result<()> {
        write_close_session(&self.write, token_sha256).await
    }

    async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        write_set_password(&self.write, login, password_hash, must_change, keep_session, actor, now).await
    }
}
