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
            bucket: None,
            collector: None,
            limit: 1,
            offset: 0,
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
    Ok(if ok { Outcome::Done } else { Outcome::Refused })
}

/// The experiment's headline: each arm with its interval, and the uplift.
fn headline(arms: &[(String, ArmSummary)], s: &Summary, days: &[DayReport]) {
    println!("\nExperiment (SIMULATED), {} days:", days.len());
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
