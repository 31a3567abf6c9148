//! `daylight demo`: a newcomer's first look, on one machine. Sets up `./daylight-demo/` with a
//! SQLite database and runs the digital twin through it: a virtual portfolio (20,000 card
//! accounts by default) is imported as a bank's files; sixty days of collections under the
//! baseline strategy go through the planner, the compliance gate and the store; the
//! contactability and propensity models are trained on that history and made champions; a
//! thirty-day champion (baseline) / challenger (model-driven) / holdout experiment follows;
//! the report is written and the headline printed. Every number is simulated.

use std::path::Path;

use anyhow::{Context, Result};
use daylight_scoring::product::{FitOptions, Kind, ProductModel};
use daylight_sim::world::{ArmSummary, DayReport, Summary, World};
use daylight_store::model::{HistoryFilter, NewExperiment, NewModel};
use daylight_store::{DbUrl, Store};
use daylight_strategy::document::{BASELINE, DEFAULT};
use daylight_strategy::plan::ExperimentInput;
use serde_json::json;

use crate::args::DemoArgs;
use crate::commands::stopwatch;
use crate::simulate::{arm_strategies, print_arms, print_stored, run_days};
use crate::twin_report::pct;
use crate::twin_store::Recorder;
use crate::{Outcome, now, open};

/// The demo's experiment.
const EXPERIMENT: &str = "twin-demo";
const ARMS: &str = "champion:45,challenger:45,holdout:10";

pub async fn run(actor: &str, a: &DemoArgs) -> Result<Outcome> {
    let dir = &a.dir;
    let db = dir.join("daylight.db");
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| {
                    format!("removing the earlier demo database {}", Path::new(&p).display())
                });
            }
            _ => {}
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let url = DbUrl::parse(&format!("sqlite://{}", db.display()))?;
    let store = open(&url, true).await?;
    let result = async {
        store.migrate(actor, now()).await?;
        store.set_purpose("demo", actor, now()).await?;
        demo(&*store, actor, a, &url).await
    }
    .await;
    store.close().await;
    result
}

/// A step's line: what was done and how long it took.
fn step(json: bool, n: u32, secs: f64, text: &str) {
    if !json {
        println!("{n}. {text} ({secs:.1} s)");
    }
}

async fn demo(store: &dyn Store, actor: &str, a: &DemoArgs, url: &DbUrl) -> Result<Outcome> {
    let total = stopwatch();
    if !a.json {
        println!(
            "Daylight demo: {url}\nA digital twin (SIMULATED): {} virtual card accounts, seed {}, from {}.\n",
            a.accounts, a.seed, a.start
        );
    }
    let pack = store.pack_source().await?;
    let mut world = World::new(a.seed, a.accounts, a.start, BASELINE, &pack)?;
    let clock = stopwatch();
    let mut recorder = Recorder::new(store, &world, &a.dir.join("import")).await?;
    step(
        a.json,
        1,
        clock.elapsed().as_secs_f64(),
        &format!(
            "Imported the portfolio as a bank's files: {} customers with their contacts and accounts",
            a.accounts
        ),
    );

    let clock = stopwatch();
    let history = run_days(&mut world, 0..a.history_days, Some(&mut recorder)).await?;
    let before = world.summary(&history);
    step(
        a.json,
        2,
        clock.elapsed().as_secs_f64(),
        &format!(
            "{} days under the baseline strategy (calls 09–12 and 14–18, no models): {} contacts through the gate, contact rate {}, {} promises, {} violations",
            a.history_days,
            before.contacts,
            pct(before.contact_rate),
            history.iter().map(|d| d.all.ptp).sum::<u64>(),
            before.violations
        ),
    );

    let clock = stopwatch();
    let until = world.local(a.history_days, 0, 0)?;
    let histories = store.debtor_histories(&HistoryFilter::default(), until).await?;
    let mut models = Vec::new();
    let mut trained = Vec::new();
    for kind in [Kind::Contactability, Kind::Propensity] {
        let opts = FitOptions {
            kind,
            from: world.local(0, 0, 0)?,
            until,
            params: daylight_scoring::gbdt::Params::default(),
            seed: a.seed,
            created_at: until.to_string(),
            debtor_strength: daylight_scoring::features::DEBTOR_STRENGTH,
            segment_strength: daylight_scoring::features::SEGMENT_STRENGTH,
        };
        let model = match ProductModel::fit(&histories, &opts) {
            Ok(m) => m,
            Err(e) => {
                // Too little history (a small demo): the challenger plans without this one.
                let text = format!("{}: not trained ({e})", kind.as_str());
                trained.push(json!({"model": kind.as_str(), "error": e.to_string()}));
                models.push((None, text));
                continue;
            }
        };
        let metrics = crate::product::product_metrics(&model);
        let version = store
            .register_model(
                &NewModel {
                    name: kind.as_str().to_owned(),
                    source: "daylight".to_owned(),
                    metrics: metrics.to_string(),
                    document: serde_json::to_string(&model)?,
                },
                actor,
                until,
            )
            .await?;
        store.promote_model(kind.as_str(), version.version, actor, until).await?;
        let auc = model.gbdt.as_ref().map(|g| g.metrics.auc);
        trained.push(json!({"model": kind.as_str(), "version": version.version, "examples": model.examples, "auc": auc}));
        let text = format!(
            "{} ({} examples, held-out AUC {})",
            kind.as_str(),
            model.examples,
            auc.map_or("—".to_owned(), |x| format!("{x:.3}"))
        );
        models.push((Some(model), text));
    }
    let described: Vec<&str> = models.iter().map(|(_, t)| t.as_str()).collect();
    step(
        a.json,
        3,
        clock.elapsed().as_secs_f64(),
        &format!("Trained on that history and made champions: {}", described.join("; ")),
    );

    let clock = stopwatch();
    let e = store
        .create_experiment(
            &NewExperiment { name: EXPERIMENT.into(), arms: ARMS.into(), salt: EXPERIMENT.into() },
            actor,
            until,
        )
        .await?;
    let mut by_kind = models.into_iter().map(|(m, _)| m);
    let (contactability, propensity) = (by_kind.next().flatten(), by_kind.next().flatten());
    world = world
        .with_strategy(DEFAULT)?
        .with_experiment(
            ExperimentInput { name: e.name, arms: e.arms.clone(), salt: e.salt },
            arm_strategies(&e.arms, &[])?,
        )?
        .with_models(contactability, propensity);
    world.rebase();
    let end = a.history_days + a.days;
    let days = run_days(&mut world, a.history_days..end, Some(&mut recorder)).await?;
    let summary = world.summary(&days);
    let arms = world.arm_summaries(&days);
    step(
        a.json,
        4,
        clock.elapsed().as_secs_f64(),
        &format!(
            "{} days of experiment {EXPERIMENT} ({ARMS}): champion the baseline, challenger the default strategy with the models, holdout the default strategy without them",
            a.days
        ),
    );

    let report = a.dir.join("report.html");
    crate::twin_report::write(&report, &world, &days, &summary, &arms)?;
    let stored = recorder.stored;
    let head = store.ledger_head().await?;
    let case = store
        .list_cases(&daylight_store::model::CaseFilter {
            status: Some(daylight_domain::case::CaseStatus::Open),
            limit: 1,
            ..daylight_store::model::CaseFilter::default()
        })
        .await?
        .into_iter()
        .next()
        .map(|c| c.case.id.to_string());
    let secs = total.elapsed().as_secs_f64();
    let violations = before.violations + summary.violations;
    if a.json {
        let arms: serde_json::Map<String, serde_json::Value> =
            arms.iter().map(|(n, s)| (n.clone(), json!(s))).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "simulated": true,
                "db": url.to_string(),
                "report": report.display().to_string(),
                "history": before,
                "models": trained,
                "experiment": {"name": EXPERIMENT, "arms": arms, "summary": summary},
                "stored": stored,
                "ledger_head": head.seq,
                "seconds": secs,
            }))?
        );
    } else {
        headline(&arms, &summary, &days);
        print_stored(&stored, url);
        println!("  ledger events        {}", head.seq);
        println!("\nReport: {}   (all in {secs:.0} s)", report.display());
        next(url, a, case.as_deref());
    }
    let ok = violations == 0 && stored.gate_disagreements == 0;
    if !a.json {
        let tomorrow = a.start.checked_add(jiff::Span::new().days(i64::from(end)))?;
        let console = console_setup(store, actor, tomorrow).await?;
        console.print(url, a);
        if !a.no_serve && ok {
            return serve_console(url, a, &console).await;
        }
    }
    Ok(if ok { Outcome::Done } else { Outcome::Refused })
}

/// The console's demo users and the day it opens on.
struct Console {
    /// `(login, role, password)`.
    users: Vec<(&'static str, &'static str, String)>,
    /// The server's clock starts here: the morning after the twin's last day.
    clock: jiff::Timestamp,
    /// Cases in the collectors' queues.
    assigned: usize,
    /// Sample calls QC analysed on those cases: (calls, findings, reviews opened).
    qc: (usize, usize, usize),
}

/// The demo's users, and the morning after the twin's last day: its plan made (the
/// experiment's arms, the champions), and its first calls given to two collectors.
async fn console_setup(store: &dyn Store, actor: &str, tomorrow: jiff::civil::Date) -> Result<Console> {
    use daylight_store::access::{NewUser, Role};
    let zone = jiff::tz::TimeZone::get(daylight_server::work::TEAM_ZONE)?;
    let as_of = tomorrow.at(8, 0, 0, 0).to_zoned(zone.clone())?.timestamp();
    let clock = tomorrow.at(9, 30, 0, 0).to_zoned(zone)?.timestamp();
    let (plan, _) = crate::plan::make_plan(
        store,
        actor,
        (DEFAULT, "default strategy"),
        tomorrow,
        as_of,
        Some(EXPERIMENT),
    )
    .await?;
    let people: [(&str, &str, Role, Option<&str>); 4] = [
        ("A001", "管理员", Role::Admin, None),
        ("L001", "李组长", Role::TeamLead, Some("T1")),
        ("E001", "张催收", Role::Collector, Some("T1")),
        ("E002", "王催收", Role::Collector, Some("T1")),
    ];
    store
        .create_org_unit(daylight_store::access::UnitKind::Team, "T1", "信用卡催收一组", actor, as_of)
        .await?;
    let mut users = Vec::new();
    for (login, name, role, team) in people {
        // Demo passwords meet the rules (upper, lower, other) and need not be changed.
        let password = format!("Demo-{}", daylight_server::auth::one_time_password());
        let hash = daylight_server::auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e.message))?;
        let u = NewUser {
            login: login.into(),
            name: name.into(),
            mobile: None,
            role,
            team: team.map(Into::into),
            agency: None,
            disabled: false,
            password_hash: hash,
            must_change: false,
        };
        store.create_user(&u, actor, as_of).await?;
        users.push((login, role.as_str(), password));
    }
    // The plan's first calls, alternately to the two collectors: 30 each.
    let mut seen = std::collections::HashSet::new();
    let calls = plan.actions.iter().filter(|x| x.channel == "call" && seen.insert(x.case.clone())).take(60);
    let mut assigned = 0;
    let mut queued = Vec::new();
    for (i, action) in calls.enumerate() {
        let to = daylight_store::model::Assignment {
            team: Some("T1".into()),
            collector: Some(if i % 2 == 0 { "E001" } else { "E002" }.into()),
            agency: None,
        };
        store.assign_case(&daylight_domain::id::CaseId::parse(&action.case)?, &to, actor, as_of).await?;
        assigned += 1;
        queued.push(action.case.clone());
    }
    let qc = qc_samples(store, actor, &queued, as_of).await?;
    Ok(Console { users, clock, assigned, qc })
}

/// Sample transcripts from the labelled corpus: agents' breaches (an insult, impersonation, a
/// threat, an extra fee, disclosure to a third party), a debtor's hardship, anxiety, abuse, a
/// cease request, a dispute, and plain promises.
const QC_SAMPLES: [&str; 12] = [
    include_str!("../../../tests/data/qc/b-001.json"),
    include_str!("../../../tests/data/qc/a-010.json"),
    include_str!("../../../tests/data/qc/b-045.json"),
    include_str!("../../../tests/data/qc/a-015.json"),
    include_str!("../../../tests/data/qc/b-004.json"),
    include_str!("../../../tests/data/qc/a-001.json"),
    include_str!("../../../tests/data/qc/c-012.json"),
    include_str!("../../../tests/data/qc/a-040.json"),
    include_str!("../../../tests/data/qc/a-020.json"),
    include_str!("../../../tests/data/qc/c-069.json"),
    include_str!("../../../tests/data/qc/b-065.json"),
    include_str!("../../../tests/data/qc/a-037.json"),
];

/// QC of the latest call on the first queued cases, one sample transcript each, dated at that
/// call: stored with the call, tagging debtors and opening the team lead's reviews as a
/// dialler's transcripts would.
async fn qc_samples(
    store: &dyn Store,
    actor: &str,
    cases: &[String],
    at: jiff::Timestamp,
) -> Result<(usize, usize, usize)> {
    use daylight_domain::attempt::Channel;
    let analyzer = daylight_qc::Analyzer::new(daylight_qc::Rules::default_rules());
    let beijing = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    let (mut calls, mut findings, mut reviews) = (0, 0, 0);
    for (case, sample) in cases.iter().zip(QC_SAMPLES) {
        let id = daylight_domain::id::CaseId::parse(case)?;
        let detail = store.case_detail(&id).await?;
        let Some(call) = detail
            .attempts
            .iter()
            .filter(|a| a.attempt.channel == Channel::Call)
            .max_by_key(|a| a.attempt.at)
        else {
            continue;
        };
        let mut v: serde_json::Value = serde_json::from_str(sample)?;
        v["call_id"] = json!(format!("demo-{}", call.id));
        v["started_at"] =
            json!(call.attempt.at.to_zoned(beijing.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string());
        if let Some(o) = v.as_object_mut() {
            o.remove("expect");
        }
        let body = serde_json::to_string(&v)?;
        let t = daylight_qc::Transcript::parse("sample", &body)?;
        let analysis = analyzer.analyze(&t);
        let new = daylight_server::qc::stored_call(id, call.id, &body, &analysis);
        let stored = store.record_qc(&new, actor, at).await?;
        calls += 1;
        findings += new.findings.len();
        reviews += usize::from(stored.task.is_some());
    }
    Ok((calls, findings, reviews))
}

impl Console {
    fn print(&self, url: &DbUrl, a: &DemoArgs) {
        let me = std::env::args().next().unwrap_or_else(|| "daylight".into());
        println!(
            "\nConsole: the morning after the twin's last day ({}), its plan made and {} of its calls in two collectors' queues.",
            self.clock
                .to_zoned(
                    jiff::tz::TimeZone::get(daylight_server::work::TEAM_ZONE)
                        .unwrap_or(jiff::tz::TimeZone::UTC)
                )
                .strftime("%Y-%m-%d %H:%M"),
            self.assigned
        );
        let (calls, findings, reviews) = self.qc;
        println!(
            "QC: {calls} sample call transcripts analysed on those cases: {findings} findings, {reviews} reviews in L001's queue (/qc, /approvals)."
        );
        println!("Sign in at http://{}/ as (passwords shown once):", a.bind);
        for (login, role, password) in &self.users {
            println!("  {login:<5} {role:<10} {password}");
        }
        println!("  (an admin enrols a second factor at first sign-in: any authenticator app, or /security)");
        if a.no_serve {
            println!(
                "Serve it: {me} --db {url} serve --bind {} --clock {} --demo-phones {}",
                a.bind,
                self.clock,
                a.dir.display()
            );
        }
    }
}

/// Serves the console on the demo database until Ctrl-C.
async fn serve_console(url: &DbUrl, a: &DemoArgs, c: &Console) -> Result<Outcome> {
    let over = daylight_server::settings::Overrides {
        bind: Some(a.bind.clone()),
        db: Some(url.expose().to_owned()),
        clock: Some(c.clock),
        ..Default::default()
    };
    let mut settings = daylight_server::Settings::from_parts(None, &[], &over)?;
    settings.log_format = daylight_server::settings::LogFormat::Text;
    // The server has connections of its own; the demo's are closed by the caller.
    let server_store: std::sync::Arc<dyn Store> = std::sync::Arc::from(open(url, false).await?);
    // Phones on 127.0.0.1 for everyone, and debtors who answer: "拨打" works out of the box.
    let (phones, calls) = crate::serve::demo_phones(&*server_store, &a.dir).await?;
    settings.calls = Some(calls);
    let listener = tokio::net::TcpListener::bind(settings.bind).await.with_context(|| {
        format!("cannot listen on {} (another server there? try --bind 127.0.0.1:8081)", settings.bind)
    })?;
    println!("Serving the console on http://{}/ — Ctrl-C stops it.", listener.local_addr()?);
    println!(
        "Phones: every user has a loopback phone ({}); click 拨打 on a case: the collector's phone answers, then the debtor's (about one number in ten each is busy, rings out, or is 空号); recordings in {}.",
        phones.addr(),
        a.dir.join("recordings").display()
    );
    daylight_server::serve(settings, server_store.clone(), listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    server_store.close().await;
    drop(phones);
    Ok(Outcome::Done)
}

/// The experiment's headline: which arm recovered most and at what cost, each arm with its
/// intervals, and the uplifts.
fn headline(arms: &[(String, ArmSummary)], s: &Summary, days: &[DayReport]) {
    println!("\nExperiment (SIMULATED), {} days:", days.len());
    if let Some((best, b)) = arms.iter().max_by(|a, b| a.1.recovery.rate.total_cmp(&b.1.recovery.rate)) {
        let others: Vec<String> = arms
            .iter()
            .filter(|(n, _)| n != best)
            .map(|(n, a)| format!("{n} {} at {:.2} yuan", pct(a.recovery.rate), a.cost_per_debtor))
            .collect();
        println!(
            "The {best} arm recovered most: {} [{}, {}] of what its debtors owed, at {:.2} yuan per debtor ({}).",
            pct(b.recovery.rate),
            pct(b.recovery.low),
            pct(b.recovery.high),
            b.cost_per_debtor,
            others.join("; ")
        );
    }
    print_arms(arms);
    if let Some((name, arm)) = arms.iter().find(|(n, _)| n == "challenger")
        && let Some(u) = arm.contact_uplift
    {
        println!(
            "\nThe {name} reaches {} of the debtors it dials against the champion's {}: {} (95 % interval).",
            pct(arm.contact_rate.rate),
            arms.first().map_or("—".to_owned(), |(_, c)| pct(c.contact_rate.rate)),
            crate::twin_report::uplift(Some(u)),
        );
    }
    println!(
        "Portfolio: contact rate {}, promises {} of right-party contacts, kept {}, recovered {} of what was owed, {} violations.",
        pct(s.contact_rate),
        pct(s.ptp_rate),
        pct(s.kept_rate),
        pct(s.recovery_rate),
        s.violations
    );
}

/// What to try next, each a command that works as printed.
fn next(url: &DbUrl, a: &DemoArgs, case: Option<&str>) {
    // The binary as it was run (target/release/daylight after `cargo run`), so the hints work
    // whether or not it is installed.
    let me = std::env::args().next().unwrap_or_else(|| "daylight".into());
    let run = format!("{me} --db {url}");
    let tomorrow =
        a.start.checked_add(jiff::Span::new().days(i64::from(a.history_days + a.days))).unwrap_or(a.start);
    println!("\nNext:");
    println!("  {run} stats");
    println!("  {run} experiment report {EXPERIMENT}");
    println!("  {run} model list");
    println!("  {run} cases list --limit 10");
    if let Some(case) = case {
        println!("  {run} cases show {case}");
    }
    println!("  {run} plan --date {tomorrow} --as-of {tomorrow}T00:00:00+08:00 --experiment {EXPERIMENT}");
    println!("  {run} ledger verify");
    println!("  {me} simulate --accounts 20000 --days 30 --seed 7 --arms {ARMS}");
}
