//! `daylight simulate`: the digital twin, in memory. A seeded virtual portfolio is planned each
//! day by the real planner under a strategy (the baseline unless `--strategy` says otherwise),
//! every contact is put to the real compliance engine, the twin's hidden behaviour answers, and
//! the accounts move. Every number printed is simulated. With `--db` the run goes through a
//! database (see `twin_store`).

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use daylight_sim::world::{DayReport, Summary, World};
use daylight_store::model::PlanInputJson;
use daylight_store::{DbUrl, Store};
use daylight_strategy::document::{BASELINE, DEFAULT};
use daylight_strategy::plan::ExperimentInput;
use serde_json::json;

use crate::Outcome;
use crate::args::SimulateArgs;
use crate::twin_report::pct;
use crate::twin_store::{Recorder, Stored};

/// The arms' own strategies: each `NAME=FILE` of `specs`, and the baseline for an arm named
/// `champion` that has none (the other arms follow the run's strategy, the challenger's).
pub fn arm_strategies(arms: &str, specs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut by_arm = BTreeMap::new();
    for spec in specs {
        let (name, file) =
            spec.split_once('=').with_context(|| format!("--arm-strategy {spec:?}: expected NAME=FILE"))?;
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
        by_arm.insert(name.to_owned(), text);
    }
    let names = daylight_strategy::experiment::Arms::parse(arms)?;
    if names.arms().iter().any(|x| x.name == "champion") {
        by_arm.entry("champion".to_owned()).or_insert_with(|| BASELINE.to_owned());
    }
    if let Some(unknown) = by_arm.keys().find(|k| !names.arms().iter().any(|x| &x.name == *k)) {
        bail!("--arm-strategy names {unknown:?}, which is not one of the arms {arms}");
    }
    Ok(by_arm)
}

/// Runs days `days` of `world`, through `recorder` when there is one.
pub async fn run_days(
    world: &mut World,
    days: std::ops::Range<u32>,
    mut recorder: Option<&mut Recorder<'_>>,
) -> Result<Vec<DayReport>> {
    let mut out = Vec::with_capacity(days.len());
    for day in days {
        let d = match recorder.as_deref_mut() {
            Some(r) => {
                let input = r.input(world, day).await?;
                let clock = crate::commands::stopwatch();
                // The input as the plan stores it (JSON, compressed) is made on the other core
                // while the day runs.
                let (d, json) = std::thread::scope(|s| {
                    let json = s.spawn(|| PlanInputJson::of(&input, input.date, &input.strategy));
                    let d = world.run(day, &input);
                    (d, json.join())
                });
                let d = d?;
                let json = json.map_err(|_| anyhow::anyhow!("compressing the plan's input panicked"))??;
                tracing::debug!(secs = clock.elapsed().as_secs_f64(), "twin: day simulated");
                r.record(world, day, &input, json, &d).await?;
                d
            }
            None => world.day(day)?,
        };
        out.push(d.report);
    }
    Ok(out)
}

pub async fn run(a: &SimulateArgs, actor: &str, db: Option<&DbUrl>) -> Result<Outcome> {
    let store = match db {
        Some(url) => {
            let store = crate::open(url, true).await?;
            store.migrate(actor, crate::now()).await?;
            // The twin's database is synthetic: it may be served on its own day.
            store.set_purpose("demo", actor, crate::now()).await?;
            Some(store)
        }
        None => None,
    };
    let result = simulate(a, store.as_deref(), db).await;
    if let Some(s) = store {
        s.close().await;
    }
    result
}

async fn simulate(a: &SimulateArgs, store: Option<&dyn Store>, db: Option<&DbUrl>) -> Result<Outcome> {
    // Without an experiment the baseline; with one, the strategy under test (the team's).
    let strategy = match &a.strategy {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        None if a.arms.is_some() || a.experiment.is_some() => DEFAULT.to_owned(),
        None => BASELINE.to_owned(),
    };
    let pack = match store {
        Some(s) => s.pack_source().await?,
        None => daylight_compliance::Pack::shipped(daylight_compliance::DEFAULT_PACK)?.source,
    };
    let mut world = World::new(a.seed, a.accounts, a.start, &strategy, &pack)?;
    let experiment = match (&a.arms, &a.experiment) {
        (Some(arms), _) => {
            Some(ExperimentInput { name: "twin".into(), arms: arms.clone(), salt: a.salt.clone() })
        }
        (None, Some(name)) => {
            let Some(store) = store else {
                bail!("--experiment {name} names an experiment stored in a database: give --db URL");
            };
            let e = store.experiment(name).await?;
            Some(ExperimentInput { name: e.name, arms: e.arms, salt: e.salt })
        }
        (None, None) => None,
    };
    if let Some(e) = experiment {
        let by_arm = arm_strategies(&e.arms, &a.arm_strategy)?;
        world = world.with_experiment(e, by_arm)?;
    } else if !a.arm_strategy.is_empty() {
        bail!("--arm-strategy needs an experiment: give --arms or --experiment");
    }
    let files = std::env::temp_dir().join(format!("daylight-twin-{}", std::process::id()));
    let mut recorder = match store {
        Some(s) => Some(Recorder::new(s, &world, &files).await?),
        None => None,
    };
    let days = run_days(&mut world, 0..a.days, recorder.as_mut()).await;
    // The day's files are kept when an import refused one, for its rejects.
    if store.is_some() && days.is_ok() {
        let _ = std::fs::remove_dir_all(&files);
    }
    let days = days?;
    let stored = recorder.map(|r| r.stored);
    let summary = world.summary(&days);
    let arms = world.arm_summaries(&days);
    if let Some(path) = &a.report {
        crate::twin_report::write(path, &world, &days, &summary, &arms)?;
        if !a.json {
            println!("report written to {}", path.display());
        }
    }
    if a.json {
        let arms: serde_json::Map<String, serde_json::Value> =
            arms.iter().map(|(n, s)| (n.clone(), json!(s))).collect();
        let mut out = json!({"simulated": true, "summary": summary, "days": days, "arms": arms});
        if let (Some(st), Some(url)) = (stored, db) {
            out["stored"] = json!(st);
            out["db"] = json!(url.to_string());
        }
        println!("{out}");
    } else {
        print_run(&days, &summary, a);
        if !arms.is_empty() {
            print_arms(&arms);
        }
        if let (Some(st), Some(url)) = (stored, db) {
            print_stored(&st, url);
        }
    }
    let disagreements = stored.map_or(0, |s| s.gate_disagreements);
    Ok(if summary.violations == 0 && disagreements == 0 { Outcome::Done } else { Outcome::Refused })
}

/// What the run wrote to the database.
pub fn print_stored(s: &Stored, url: &DbUrl) {
    println!("\nStored in {url} (simulated records):");
    println!("  plans                {}", s.plans);
    println!("  attempts (gated)     {}", s.attempts);
    println!("  notes                {}", s.notes);
    println!("  promises             {}", s.promises);
    println!("  payments             {}", s.payments);
    println!("  account rows         {}", s.account_rows);
    println!("  to the legal team    {}", s.legal);
    println!("  placed with agency   {}", s.placed);
    println!("  gate disagreements   {}", s.gate_disagreements);
}

fn print_run(days: &[DayReport], s: &Summary, a: &SimulateArgs) {
    println!(
        "Digital twin (SIMULATED): {} accounts, {} days from {}, seed {}\n",
        a.accounts, a.days, a.start, a.seed
    );
    let mut t = crate::output::Table::new(&[
        "date",
        ">open",
        ">planned",
        ">dialled",
        ">contact",
        ">RPC",
        ">PTP",
        ">kept",
        ">paid (yuan)",
        ">complaints",
        ">violations",
    ]);
    for d in days {
        t.row(vec![
            d.date.to_string(),
            d.all.open.to_string(),
            d.planned.to_string(),
            d.all.dialed.to_string(),
            pct(if d.all.dialed == 0 { 0.0 } else { d.all.connected as f64 / d.all.dialed as f64 }),
            pct(if d.all.dialed == 0 { 0.0 } else { d.all.rpc as f64 / d.all.dialed as f64 }),
            d.all.ptp.to_string(),
            d.all.kept.to_string(),
            format!("{:.2}", d.all.paid_fen as f64 / 100.0),
            d.all.complaints.to_string(),
            d.violations.to_string(),
        ]);
    }
    print!("{}", t.render());
    println!("\nSummary (simulated):");
    println!("  contact rate         {}", pct(s.contact_rate));
    println!("  right-party contact  {}", pct(s.rpc_rate));
    println!("  promise rate         {}", pct(s.ptp_rate));
    println!("  kept rate            {}", pct(s.kept_rate));
    println!("  recovery rate        {}", pct(s.recovery_rate));
    let rolls: Vec<String> = daylight_domain::bucket::Bucket::ALL
        .iter()
        .zip(s.roll_rates)
        .filter_map(|(b, r)| r.map(|r| format!("{b} {}", pct(r))))
        .collect();
    println!("  roll rates           {}", rolls.join(", "));
    println!("  complaints / 10k     {:.1}", s.complaints_per_10k);
    println!("  contacts             {} (cost {:.2} yuan)", s.contacts, s.cost);
    println!("  denials              {}", s.denials);
    println!("  violations           {}", s.violations);
}

pub fn print_arms(arms: &[(String, daylight_sim::world::ArmSummary)]) {
    let interval =
        |r: &daylight_sim::world::Rate| format!("{} [{}, {}]", pct(r.rate), pct(r.low), pct(r.high));
    println!("\nArms (simulated; 95 % intervals):");
    let mut t = crate::output::Table::new(&[
        "arm",
        ">debtors",
        ">contact rate",
        ">uplift vs first arm",
        ">RPC",
        ">PTP",
        ">kept",
        ">recovery [95 %]",
        "vs first",
        ">cost/debtor",
    ]);
    for (name, s) in arms {
        let uplift = crate::twin_report::uplift(s.contact_uplift);
        t.row(vec![
            name.clone(),
            s.debtors.to_string(),
            interval(&s.contact_rate),
            uplift,
            pct(s.rpc_rate.rate),
            pct(s.ptp_rate.rate),
            pct(s.kept_rate.rate),
            format!("{} [{}, {}]", pct(s.recovery.rate), pct(s.recovery.low), pct(s.recovery.high)),
            crate::twin_report::uplift(s.recovery_uplift),
            format!("{:.2}", s.cost_per_debtor),
        ]);
    }
    print!("{}", t.render());
}
