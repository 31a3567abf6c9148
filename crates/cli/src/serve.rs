//! `daylight serve`, `daylight user …` and `daylight case assign`: the server and the
//! administration an installation needs before anyone can sign in to the console.

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use daylight_domain::id::CaseId;
use daylight_server::auth::{check_new_password, hash_password, one_time_password};
use daylight_server::settings::{DEFAULT_MIN_PASSWORD_CHARS, LogFormat, Overrides, Settings};
use daylight_store::access::{NewUser, Role};
use daylight_store::model::Assignment;
use daylight_store::{AccessStore, DbUrl, Store};
use serde_json::json;

use crate::args::{CaseAssignArgs, ServeArgs, UserAddArgs, UserCommand};
use crate::output::Table;
use crate::{Outcome, now, open};

/// `daylight serve`.
pub async fn serve(db: &str, db_typed: bool, a: &ServeArgs) -> Result<Outcome> {
    let over = Overrides {
        bind: a.bind.clone(),
        // --db (or DAYLIGHT_DB) wins over the settings file; the default URL does not.
        db: (db_typed || std::env::var_os("DAYLIGHT_DB").is_some()).then(|| db.to_owned()),
        tls_cert: a.tls_cert.clone(),
        tls_key: a.tls_key.clone(),
        clock: a.clock,
    };
    let mut settings = Settings::load(a.config.as_deref(), &over)?;
    init_logs(&settings);
    let url = DbUrl::parse(&settings.db)?;
    let store: Arc<dyn Store> = Arc::from(open(&url, false).await?);
    // A rehearsal clock stamps the ledger with a time that is not now: never on production.
    if a.clock.is_some() {
        let purpose = store.purpose().await?;
        if !matches!(purpose.as_deref(), Some("demo" | "test")) {
            store.close().await;
            bail!(
                "CLOCK_ON_PRODUCTION: --clock runs only on a database marked as a demo or test \
                 (`daylight demo` marks its own; `daylight init --purpose test` marks another); {url} is not"
            );
        }
    }
    // Held while the server runs.
    let _phones = match &a.demo_phones {
        Some(dir) => {
            if settings.calls.is_some() {
                bail!("--demo-phones replaces the settings' [calls]: use one or the other");
            }
            let (phones, calls) = demo_phones(&*store, dir).await?;
            eprintln!(
                "Loopback phones on {} for {} users; debtors' numbers answer (about one in ten each is busy, rings out, or is 空号).",
                phones.addr(),
                calls.phones.len()
            );
            settings.calls = Some(calls);
            Some(phones)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let scheme = if settings.tls.is_some() { "https" } else { "http" };
    let addr = listener.local_addr()?;
    tracing::info!(%addr, db = %url, "serving");
    eprintln!("Daylight console on {scheme}://{addr}/ (database {url}); Ctrl-C stops it.");
    let stopped = store.clone();
    daylight_server::serve(settings, store, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the server stopped")?;
    stopped.close().await;
    Ok(Outcome::Done)
}

/// Loopback phones for a demo (`--demo-phones DIR`) and the `[calls]` settings that use them: a
/// phone for every user, the loopback trunk, the vault in `DIR/recordings` with its key in
/// `DIR/vault-identity.txt` (made on first use).
pub async fn demo_phones(
    store: &dyn Store,
    dir: &std::path::Path,
) -> Result<(daylight_calls::loopback::LoopbackPhones, daylight_server::settings::CallSettings)> {
    use std::str::FromStr;
    let phones = daylight_calls::loopback::LoopbackPhones::start(std::time::Duration::from_secs(20))
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    let identity = dir.join("vault-identity.txt");
    if !identity.exists() {
        use age::secrecy::ExposeSecret;
        let key = age::x25519::Identity::generate();
        let text = format!(
            "# Daylight demo vault key (public key: {})\n{}\n",
            key.to_public(),
            key.to_string().expose_secret()
        );
        std::fs::write(&identity, text).with_context(|| format!("cannot write {}", identity.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let text = std::fs::read_to_string(&identity)?;
    let secret = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .with_context(|| format!("{}: no AGE-SECRET-KEY line", identity.display()))?;
    let key = age::x25519::Identity::from_str(secret)
        .map_err(|e| anyhow::anyhow!("{}: {e}", identity.display()))?;
    let users = store.users().await?;
    let calls = daylight_server::settings::CallSettings {
        sip_bind: "127.0.0.1:0".parse()?,
        trunk: daylight_calls::Trunk { uri_template: phones.trunk(), username: None, password: None },
        caller_ids: vec!["02160000000".into(), "01060000000".into()],
        vault: dir.join("recordings"),
        vault_recipient: key.to_public().to_string(),
        vault_identity: Some(identity),
        max_calls: 50,
        ring_secs: 30,
        max_call_secs: 600,
        queue_secs: 60,
        bank: "示例银行".into(),
        hotline: "95555".into(),
        phones: users
            .iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.login.clone(), phones.uri(&format!("p{}", u.login))))
            .collect(),
        node: "demo".into(),
        recognizer: None,
    };
    Ok((phones, calls))
}

fn init_logs(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DAYLIGHT_LOG")
        .unwrap_or_else(|_| format!("{},sqlx=warn,rsipstack=warn", s.log_level).into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second subscriber (a test calling twice) is refused: the first keeps logging.
    let _ = match s.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// `daylight user …`.
pub async fn user(url: &DbUrl, actor: &str, c: UserCommand) -> Result<Outcome> {
    let store = open(url, false).await?;
    let result = match c {
        UserCommand::Add(a) => add(&*store, actor, &a).await,
        UserCommand::List(f) => list(&*store, f.json).await,
        UserCommand::ResetPassword(a) => {
            let otp = one_time_password();
            let hash = hash_password(&otp).map_err(|e| anyhow::anyhow!(e.message))?;
            store.set_password(&a.login, &hash, true, None, actor, now()).await?;
            println!(
                "{}: one-time password {otp} (shown once; it must be changed at first sign-in)",
                a.login
            );
            Ok(())
        }
        UserCommand::ResetSecondFactor(a) => {
            store.reset_second_factor(&a.login, actor, now()).await?;
            println!("{}: second factor removed; they enrol again at their next sign-in", a.login);
            Ok(())
        }
        UserCommand::Units(u) => units(&*store, actor, u).await,
    };
    store.close().await;
    result.map(|()| Outcome::Done)
}

async fn add(store: &dyn AccessStore, actor: &str, a: &UserAddArgs) -> Result<()> {
    let role: Role =
        a.role.parse().map_err(|e: daylight_domain::Invalid| anyhow::anyhow!("--role: {}", e.message))?;
    let (password, one_time) = if a.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        let pw = line.trim_end_matches(['\n', '\r']).to_owned();
        if let Err(e) = check_new_password(&pw, DEFAULT_MIN_PASSWORD_CHARS as usize, &a.login) {
            bail!("--password-stdin: {}", e.message);
        }
        (pw, false)
    } else {
        (one_time_password(), true)
    };
    let new = NewUser {
        login: a.login.trim().to_owned(),
        name: a.name.trim().to_owned(),
        mobile: a.mobile.clone(),
        role,
        team: a.team.clone(),
        agency: a.agency.clone(),
        disabled: false,
        password_hash: hash_password(&password).map_err(|e| anyhow::anyhow!(e.message))?,
        must_change: one_time,
    };
    if let Err(e) = new.validate() {
        bail!("--{}: {}", e.field.replace('_', "-"), e.error.message);
    }
    let u = store.create_user(&new, actor, now()).await?;
    if a.json {
        let mut v = json!({"login": u.login, "role": u.role.as_str(), "team": u.team, "agency": u.agency});
        if one_time {
            v["one_time_password"] = json!(password);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if one_time {
        println!(
            "added {} ({}): one-time password {password} (shown once; it must be changed at first sign-in)",
            u.login, u.role
        );
    } else {
        println!("added {} ({})", u.login, u.role);
    }
    Ok(())
}

fn unit_kind(kind: &str) -> Result<daylight_store::access::UnitKind> {
    use daylight_store::access::UnitKind;
    match kind {
        "team" => Ok(UnitKind::Team),
        "agency" => Ok(UnitKind::Agency),
        other => bail!("--kind {other:?}: team or agency"),
    }
}

/// `daylight users units …`.
async fn units(store: &dyn AccessStore, actor: &str, c: crate::args::UnitCommand) -> Result<()> {
    use crate::args::UnitCommand;
    match c {
        UnitCommand::List(a) => {
            let list = store.org_units(unit_kind(&a.kind)?).await?;
            if a.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|u| json!({"kind": u.kind.as_str(), "id": u.id, "name": u.name, "members": u.members}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let mut t = Table::new(&["id", "name", "members"]);
                for u in &list {
                    t.row(vec![u.id.clone(), u.name.clone(), u.members.to_string()]);
                }
                print!("{}", t.render());
            }
        }
        UnitCommand::Add(a) => {
            store.create_org_unit(unit_kind(&a.kind)?, &a.id, &a.name, actor, now()).await?;
            println!("{} {}: on record as {}", a.kind, a.id, a.name.trim());
        }
        UnitCommand::Rename(a) => {
            store.rename_org_unit(unit_kind(&a.kind)?, &a.id, &a.name, actor, now()).await?;
            println!("{} {}: renamed {}", a.kind, a.id, a.name.trim());
        }
    }
    Ok(())
}

async fn list(store: &dyn AccessStore, as_json: bool) -> Result<()> {
    let users = store.users().await?;
    if as_json {
        // The API's view of a user: the same fields, the mobile masked.
        let v: Vec<_> = users.iter().map(daylight_server::api::UserView::from).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut t = Table::new(&["login", "name", "role", "team", "agency", "mobile", "state"]);
    for u in &users {
        let state = if u.disabled {
            "disabled"
        } else if u.must_change {
            "one-time password"
        } else {
            "active"
        };
        t.row(vec![
            u.login.clone(),
            u.name.clone(),
            u.role.to_string(),
            u.team.clone().unwrap_or_default(),
            u.agency.clone().unwrap_or_default(),
            u.mobile.as_deref().map(daylight_domain::pii::mask_phone).unwrap_or_default(),
            state.to_owned(),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

/// `daylight case assign --case ID --to LOGIN`.
pub async fn assign_case(store: &dyn Store, actor: &str, a: &CaseAssignArgs) -> Result<()> {
    let case = CaseId::parse(&a.case).map_err(|e| anyhow::anyhow!("--case: {}", e.message))?;
    let u = store.user(&a.to).await.with_context(|| format!("--to {}", a.to))?;
    let agency_role = matches!(u.role, Role::AgencyManager | Role::AgencyCollector);
    if !matches!(u.role, Role::Collector | Role::TeamLead) && !agency_role {
        bail!(
            "--to {}: a {} does not work cases (a collector, team lead or agency user does)",
            u.login,
            u.role
        );
    }
    if u.disabled {
        bail!("--to {}: the user is disabled", u.login);
    }
    let to = Assignment {
        team: if agency_role { None } else { u.team.clone() },
        collector: Some(u.login.clone()),
        agency: if agency_role { u.agency.clone() } else { None },
    };
    store.assign_case(&case, &to, actor, now()).await?;
    println!(
        "{case} assigned to {} ({})",
        u.login,
        to.team.as_deref().or(to.agency.as_deref()).unwrap_or("-")
    );
    Ok(())
}
