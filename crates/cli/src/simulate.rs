//! `daylight simulate`: the digital twin, in memory. A seeded virtual portfolio is planned each
//! day by the real planner under a strategy (the baseline unless `--strategy` says otherwise),
//! every contact is put to the real compliance engine, the twin's hidden behaviour answers, and
//! the accounts move. Every number printed is simulated.

use anyhow::{Context, Result};
use daylight_sim::world::{DayReport, Summary, World};
use daylight_strategy::document::{BASELINE, DEFAULT};
use serde_json::json;

use crate::Outcome;
use crate::args::SimulateArgs;
use crate::twin_report::pct;

pub fn run(a: &SimulateArgs) -> Result<Outcome> {
    let strategy = match &a.strategy {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => BASELINE.to_owned(),
    };
    let pack = daylight_compliance::Pack::shipped(daylight_compliance::DEFAULT_PACK)?.source;
    let mut world = World::new(a.seed, a.accounts, a.start, &strategy, &pack)?;
    if let Some(arms) = &a.arms {
        let mut by_arm = std::collections::BTreeMap::new();
        for spec in &a.arm_strategy {
            let (name, file) = spec
                .split_once('=')
                .with_context(|| format!("--arm-strategy {spec:?}: expected NAME=FILE"))?;
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
            by_arm.insert(name.to_owned(), text);
        }
        let names = daylight_strategy::experiment::Arms::parse(arms)?;
        if names.arms().iter().any(|x| x.name == "challenger") {
            by_arm.entry("challenger".to_owned()).or_insert_with(|| DEFAULT.to_owned());
        }
        if let Some(unknown) = by_arm.keys().find(|k| !names.arms().iter().any(|x| &x.name == *k)) {
            anyhow::bail!("--arm-strategy names {unknown:?}, which is not one of --arms {arms}");
        }
        let experiment = daylight_strategy::plan::ExperimentInput {
            name: "twin".into(),
            arms: arms.clone(),
            salt: a.salt.clone(),
        };
        world = world.with_experiment(experiment, by_arm)?;
    }
    let mut days: Vec<DayReport> = Vec::with_capacity(a.days as usize);
    for day in 0..a.days {
        let (report, _) = world.day(day)?;
        days.push(report);
    }
    let summary = world.summary(&days);
    let arms = world.arm_summaries(&days);
    if let Some(path) = &a.report {
        let page = crate::twin_report::html(&crate::twin_report::Run {
            accounts: a.accounts,
            days: &days,
            seed: a.seed,
            strategy: world.strategy_name(),
            summary: &summary,
            arms: &arms,
            owed_fen: world.overdue_at_start,
        });
        std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))?;
        if !a.json {
            println!("report written to {}", path.display());
        }
    }
    if a.json {
        let arms: serde_json::Map<String, serde_json::Value> =
            arms.iter().map(|(n, s)| (n.clone(), json!(s))).collect();
        println!("{}", json!({"simulated": true, "summary": summary, "days": days, "arms": arms}));
    } else {
        print_run(&days, &summary, a);
        if !arms.is_empty() {
            print_arms(&arms);
        }
    }
    Ok(if summary.violations == 0 { Outcome::Done } else { Outcome::Refused })
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

fn print_arms(arms: &[(String, daylight_sim::world::ArmSummary)]) {
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
        ">recovery",
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
            pct(s.recovery_rate),
            format!("{:.2}", s.cost_per_debtor),
        ]);
    }
    print!("{}", t.render());
}
