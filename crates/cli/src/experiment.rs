//! `daylight experiment`: create experiments, assign customers to arms, size them.

use std::io::Write as _;

use anyhow::{Context, Result};
use daylight_store::DbUrl;
use daylight_strategy::experiment::{Arms, sample_size};

use crate::args::ExperimentCommand;
use crate::{Outcome, say};

pub async fn run(url: &DbUrl, actor: &str, command: ExperimentCommand) -> Result<Outcome> {
    match command {
        ExperimentCommand::Size(a) => size(&a),
        other => {
            let store = crate::open(url, false).await?;
            let result = with_store(&*store, actor, other).await;
            store.close().await;
            result
        }
    }
}

async fn with_store(
    store: &dyn daylight_store::Store,
    actor: &str,
    command: ExperimentCommand,
) -> Result<Outcome> {
    match command {
        ExperimentCommand::Create(a) => {
            daylight_strategy::experiment::check_name("experiment", &a.name)?;
            let arms = Arms::parse(&a.arms)?;
            let new = daylight_store::model::NewExperiment {
                name: a.name.clone(),
                arms: arms.to_string(),
                salt: a.salt.clone().unwrap_or_else(|| a.name.clone()),
            };
            let e = store.create_experiment(&new, actor, crate::now()).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                let shares: Vec<String> = arms
                    .arms()
                    .iter()
                    .map(|arm| format!("{} {:.1} %", arm.name, arms.share(arm) * 100.0))
                    .collect();
                println!("experiment {} created: {} (salt {:?})", e.name, shares.join(", "), e.salt);
            }
        }
        ExperimentCommand::Assign(a) => {
            let e = store.experiment(&a.name).await?;
            let arms = Arms::parse(&e.arms).with_context(|| format!("experiment {} as stored", e.name))?;
            let text = std::fs::read_to_string(&a.ids)
                .with_context(|| format!("cannot read {}", a.ids.display()))?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            writeln!(out, "id,arm")?;
            for (i, line) in text.lines().enumerate() {
                let id = line.split(',').next().unwrap_or("").trim().trim_start_matches('\u{feff}');
                if id.is_empty() || (i == 0 && id.eq_ignore_ascii_case("id")) {
                    continue;
                }
                writeln!(out, "{id},{}", arms.assign(&e.salt, id).name)?;
            }
            out.flush()?;
        }
        ExperimentCommand::List(a) => {
            let list = store.list_experiments().await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no experiments yet: create one with `daylight experiment create`");
            } else {
                let mut t = crate::output::Table::new(&["name", "arms", "salt", "created by", "created at"]);
                for e in list {
                    t.row(vec![e.name, e.arms, e.salt, e.created_by, e.created_at.to_string()]);
                }
                print!("{}", t.render());
            }
        }
        ExperimentCommand::Report(a) => {
            let e = store.experiment(&a.name).await?;
            let arms = Arms::parse(&e.arms).with_context(|| format!("experiment {} as stored", e.name))?;
            let until = a.until.unwrap_or_else(crate::now);
            let histories =
                store.debtor_histories(&daylight_store::model::HistoryFilter::default(), until).await?;
            let size = sample_size(a.sigma, a.delta, 0.05, 0.8)?;
            let r = daylight_strategy::report::report(
                &arms,
                &e.salt,
                &histories,
                a.from.unwrap_or(e.created_at),
                until,
                size,
            );
            if a.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_report(&e.name, &r);
            }
        }
        ExperimentCommand::Size(a) => return size(&a),
    }
    Ok(Outcome::Done)
}

fn size(a: &crate::args::ExperimentSizeArgs) -> Result<Outcome> {
    let s = sample_size(a.sigma, a.delta, a.alpha, a.power)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!(
            "{} units per arm\n\n\
                     n = 2σ²(z₁₋α/₂ + z₁₋β)²/δ², rounded up, where\n  \
                     σ = {} the outcome's standard deviation per unit (a rate p has σ = √(p(1−p)))\n  \
                     δ = {} the smallest difference of means worth detecting\n  \
                     α = {} two-sided significance level, z₁₋α/₂ = {:.4}\n  \
                     1−β = {} power, z₁₋β = {:.4}\n\
                     Each arm compared (challenger and holdout against the champion) needs this many customers.",
            s.per_arm, s.sigma, s.delta, s.alpha, s.z_alpha, s.power, s.z_beta
        );
    }
    Ok(Outcome::Done)
}

fn print_report(name: &str, r: &daylight_strategy::report::Report) {
    use daylight_strategy::report::{MeanStat, RateStat};
    let pct = |s: &RateStat| {
        if s.counts.trials == 0 {
            return "-".to_owned();
        }
        let p = s.p_value.map_or(String::new(), |p| format!(" p={p:.3}"));
        format!("{:.1}% [{:.1}–{:.1}]{p}", s.rate * 100.0, s.ci.0 * 100.0, s.ci.1 * 100.0)
    };
    let yuan = |s: &MeanStat| {
        let p = s.p_value.map_or(String::new(), |p| format!(" p={p:.3}"));
        format!("{:.2} [{:.2}–{:.2}]{p}", s.mean, s.ci.0, s.ci.1)
    };
    println!("{}", say::f("experiment.head", &[&name, &r.from, &r.until, &r.arms[0].arm]));
    let mut t = crate::output::Table::new(&say::cols(&[
        "arm",
        "customers",
        "contact_t1",
        "rpc",
        "ptp",
        "kept",
        "recovered_per_customer",
        "cost_per_customer",
        "complaints_per_10k",
    ]));
    for a in &r.arms {
        t.row(vec![
            a.arm.clone(),
            a.customers.to_string(),
            pct(&a.contact_rate),
            pct(&a.rpc_rate),
            pct(&a.ptp_rate),
            pct(&a.kept_rate),
            yuan(&a.recovered_per_customer),
            yuan(&a.cost_per_customer),
            a.complaints_per_10k
                .map_or_else(|| say::t("experiment.not_recorded").to_owned(), |c| format!("{c:.1}")),
        ]);
    }
    print!("{}", t.render());
    for w in &r.warnings {
        println!("{}", say::f("warning", &[w]));
    }
}
