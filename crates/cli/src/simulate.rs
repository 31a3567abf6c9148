//! `daylight simulate`: the digital twin, in memory. A seeded virtual portfolio is planned each
//! day by the real planner under a strategy (the baseline unless `--strategy` says otherwise),
//! every contact is put to the real compliance engine, the twin's hidden behaviour answers, and
//! the accounts move. Every number printed is simulated.

use anyhow::{Context, Result};
use daylight_sim::world::{DayReport, Summary, World};
use daylight_strategy::document::BASELINE;
use serde_json::json;

use crate::Outcome;
use crate::args::SimulateArgs;

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

pub fn run(a: &SimulateArgs) -> Result<Outcome> {
    let strategy = match &a.strategy {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => BASELINE.to_owned(),
    };
    let pack = daylight_compliance::Pack::shipped(daylight_compliance::DEFAULT_PACK)?.source;
    let mut world = World::new(a.seed, a.accounts, a.start, &strategy, &pack, None)?;
    let mut days: Vec<DayReport> = Vec::with_capacity(a.days as usize);
    for day in 0..a.days {
        let (report, _) = world.day(day)?;
        days.push(report);
    }
    let summary = world.summary(&days);
    if a.json {
        println!("{}", json!({"simulated": true, "summary": summary, "days": days}));
    } else {
        print_run(&days, &summary, a);
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
            d.open.to_string(),
            d.planned.to_string(),
            d.dialed.to_string(),
            pct(if d.dialed == 0 { 0.0 } else { d.connected as f64 / d.dialed as f64 }),
            pct(if d.dialed == 0 { 0.0 } else { d.rpc as f64 / d.dialed as f64 }),
            d.ptp.to_string(),
            d.kept.to_string(),
            format!("{:.2}", d.paid_fen as f64 / 100.0),
            d.complaints.to_string(),
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
