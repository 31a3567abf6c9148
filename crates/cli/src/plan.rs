//! `daylight plan` (the daily contact plan, stored and replayable) and `daylight strategy`.

use std::io::Write as _;

use anyhow::{Context, Result, bail};
use daylight_store::{DbUrl, PlanStore, Store};
use daylight_strategy::document::{DEFAULT, Strategy};
use daylight_strategy::plan::{ExperimentInput, Plan, PlanInput, plan};

use crate::args::{PlanArgs, StrategyCommand};
use crate::{Outcome, say};

pub async fn run(url: &DbUrl, actor: &str, a: &PlanArgs) -> Result<Outcome> {
    let store = crate::open(url, false).await?;
    let result = if a.replay { replay(&*store, a).await } else { make(&*store, actor, a).await };
    store.close().await;
    result
}

async fn make(store: &dyn Store, actor: &str, a: &PlanArgs) -> Result<Outcome> {
    // (text, where it came from for errors, the same for people)
    let (strategy, origin, shown) = match &a.strategy {
        Some(p) => (
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
            p.display().to_string(),
            p.display().to_string(),
        ),
        // The latest saved in the console (or with `daylight strategy save`), else the built-in one.
        None => match store.strategy(None).await? {
            Some((v, text)) => (
                text,
                format!("saved strategy {} v{}", v.name, v.version),
                say::f("plan.saved_strategy", &[&v.name, &v.version]),
            ),
            None => (
                DEFAULT.to_owned(),
                "default strategy".to_owned(),
                say::t("plan.default_strategy").to_owned(),
            ),
        },
    };
    if !a.json {
        println!("{}", say::f("plan.strategy", &[&shown]));
    }
    let as_of = a.as_of.unwrap_or_else(crate::now);
    let (made, stored) =
        make_plan(store, actor, (&strategy, &origin), a.date, as_of, a.experiment.as_deref()).await?;
    if let Some(out) = &a.out {
        write_csv(&made, out)?;
    }
    if a.json {
        println!("{}", serde_json::to_string(&made)?);
    } else {
        print_plan(&made, stored.version);
        if let Some(out) = &a.out {
            println!("{}", say::f("plan.written", &[&out.display()]));
        }
        println!("{}", say::f("plan.stored", &[&a.date, &stored.version, &a.date, &stored.version]));
    }
    Ok(Outcome::Done)
}

/// Makes the plan of `date` as of `as_of` under `strategy` (its text and where it came from)
/// with the stored champions, and stores it as the day's next version.
pub async fn make_plan(
    store: &dyn Store,
    actor: &str,
    (strategy, origin): (&str, &str),
    date: jiff::civil::Date,
    as_of: jiff::Timestamp,
    experiment: Option<&str>,
) -> Result<(Plan, daylight_store::model::StoredPlan)> {
    // Refuse a bad file, or scripts QC flags, before reading the portfolio, naming the file.
    let parsed = Strategy::from_toml(strategy, origin)?;
    crate::qc::refuse_flagged(origin, &parsed)?;
    let experiment = match experiment {
        Some(name) => {
            let e = store.experiment(name).await?;
            Some(ExperimentInput { name: e.name, arms: e.arms, salt: e.salt })
        }
        None => None,
    };
    use crate::product::champion;
    use daylight_scoring::product::{Kind, ProductModel};
    let selector = match champion(store, "selector").await? {
        Some((version, doc)) => {
            let s: daylight_strategy::learn::Selector = serde_json::from_str(&doc).with_context(|| {
                format!("the selector champion (version {version}) is not a selector document")
            })?;
            Some(s.scorer)
        }
        None => None,
    };
    let contactability = match champion(store, "contactability").await? {
        Some((version, doc)) => Some(serde_json::from_str::<ProductModel>(&doc).with_context(|| {
            format!("the contactability champion (version {version}) is not a product model")
        })?),
        None => None,
    };
    let propensity = match champion(store, "propensity").await? {
        Some((version, doc)) => match serde_json::from_str::<ProductModel>(&doc) {
            Ok(m) if m.kind == Kind::Propensity => Some(m),
            _ => {
                eprintln!(
                    "note: the propensity champion (version {version}) is not a Daylight propensity model (`daylight model fit --kind propensity`); the plan rates risk without it"
                );
                None
            }
        },
        None => None,
    };
    let clock = crate::commands::stopwatch();
    // A day is over everywhere (UTC−12 included) by the start of the day after next in UTC.
    let over = date
        .checked_add(jiff::Span::new().days(2))
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .is_some_and(|z| z.timestamp() <= as_of);
    if over {
        return Err(daylight_strategy::plan::PlanError {
            code: "PLAN_DATE",
            message: format!(
                "--date {} is over as of {as_of}: plan today or a later day (or give --as-of)",
                date
            ),
        }
        .into());
    }
    let input = PlanInput {
        date,
        as_of,
        strategy: strategy.to_owned(),
        pack: store.pack_source().await?,
        experiment,
        contactability,
        propensity,
        selector,
        arm_strategies: Default::default(),
        cases: store.plan_cases(as_of).await?,
    };
    tracing::debug!(cases = input.cases.len(), secs = clock.elapsed().as_secs_f64(), "plan: portfolio read");
    // The input is compressed for storing while the plan is made (the planner leaves a core
    // idle between its parallel parts).
    let (made, json) = std::thread::scope(|s| {
        let json = s.spawn(|| daylight_store::model::PlanInputJson::of(&input, input.date, &input.strategy));
        let made = plan(&input);
        (made, json.join())
    });
    let made = made?;
    let json = json.map_err(|_| anyhow::anyhow!("compressing the plan's input failed"))??;
    tracing::debug!(actions = made.actions.len(), secs = clock.elapsed().as_secs_f64(), "plan: planned");
    let doc = daylight_store::model::PlanJson::of(
        &made,
        made.date,
        &made.strategy,
        made.actions.len(),
        &made.skipped,
    )?;
    let stored = store
        .save_plan(&daylight_store::model::NewPlan { input: &json, plan: &doc }, actor, crate::now())
        .await?;
    tracing::debug!(version = stored.version, secs = clock.elapsed().as_secs_f64(), "plan: stored");
    // Freeing a million cases one allocation at a time would only delay the caller (by most of
    // a second), so the portfolio is left to the operating system.
    std::mem::forget(input);
    Ok((made, stored))
}

async fn replay(store: &dyn PlanStore, a: &PlanArgs) -> Result<Outcome> {
    let stored = store.stored_plan(a.date, a.plan_version).await?;
    let input: PlanInput = serde_json::from_str(stored.input.as_deref().unwrap_or_default())
        .context("the stored input does not read as a plan input")?;
    let again = serde_json::to_string(&plan(&input)?)?;
    let same = Some(again.as_str()) == stored.plan.as_deref();
    if same {
        println!(
            "plan {} version {} rebuilt from its stored input: identical (sha256 {})",
            stored.date, stored.version, stored.plan_sha256
        );
        Ok(Outcome::Done)
    } else {
        eprintln!(
            "plan {} version {} rebuilt from its stored input DIFFERS from the stored plan (stored sha256 {})",
            stored.date, stored.version, stored.plan_sha256
        );
        Ok(Outcome::Refused)
    }
}

fn print_plan(p: &Plan, version: i64) {
    let skipped: u64 = p.skipped.values().sum();
    let n = |v: u64| crate::output::amount(i64::try_from(v).unwrap_or(i64::MAX), 0);
    let mut summary = say::f("plan.summary", &[&n(p.actions.len() as u64), &n(skipped), &n(p.considered)]);
    let reasons = p.skip_reasons();
    if !reasons.is_empty() {
        summary = format!("{summary}: {reasons}");
    }
    println!("{}", say::f("plan.head", &[&p.date, &p.strategy, &version, &summary]));
    let mut t = crate::output::Table::new(&say::cols(&[
        "priority",
        "case",
        "channel",
        "recipient",
        "script",
        "window",
        "arm",
    ]));
    for a in p.actions.iter().take(20) {
        t.row(vec![
            a.priority.to_string(),
            a.case.clone(),
            say::word(&a.channel.to_string()),
            say::word(a.recipient.as_str()),
            a.script.clone().unwrap_or_else(|| "-".into()),
            format!("{} – {}", a.window_start, a.window_end),
            say::word(&a.arm),
        ]);
    }
    print!("{}", t.render());
    if p.actions.len() > 20 {
        println!("{}", say::f("plan.more", &[&(p.actions.len() - 20)]));
    }
}

fn write_csv(p: &Plan, path: &std::path::Path) -> Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record([
        "case",
        "channel",
        "recipient",
        "contact_point",
        "script",
        "window_start",
        "window_end",
        "priority",
        "arm",
        "reasons",
    ])?;
    for a in &p.actions {
        w.write_record([
            a.case.as_str(),
            a.channel.as_str(),
            a.recipient.as_str(),
            a.contact_point.as_deref().unwrap_or(""),
            a.script.as_deref().unwrap_or(""),
            &a.window_start.to_string(),
            &a.window_end.to_string(),
            &a.priority.to_string(),
            a.arm.as_str(),
            &a.reasons.join(" | "),
        ])?;
    }
    w.flush()?;
    Ok(())
}

pub async fn strategy(url: &DbUrl, actor: &str, c: StrategyCommand) -> Result<Outcome> {
    match c {
        StrategyCommand::Learn(a) => {
            let store = crate::open(url, false).await?;
            let result = learn(&*store, actor, &a).await;
            store.close().await;
            return result;
        }
        StrategyCommand::Walk(a) => return crate::flow::walk(&a),
        StrategyCommand::Save(a) => {
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("cannot read {}", a.file.display()))?;
            let origin = a.file.display().to_string();
            let parsed = Strategy::from_toml(&text, &origin)?;
            crate::qc::refuse_flagged(&origin, &parsed)?;
            let store = crate::open(url, false).await?;
            let saved =
                store.save_strategy(&parsed.name, &text, a.note.as_deref(), actor, crate::now()).await;
            store.close().await;
            let v = saved?;
            println!("{}", say::f("strategy.saved", &[&a.file.display(), &v.name, &v.version]));
        }
        StrategyCommand::History(a) => {
            let store = crate::open(url, false).await?;
            let versions = store.strategy_versions().await;
            store.close().await;
            let versions = versions?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&versions)?);
            } else if versions.is_empty() {
                println!("{}", say::t("strategy.none"));
            } else {
                let mut t = crate::output::Table::new(&say::cols(&[
                    "version", "name", "saved", "by", "sha256", "note",
                ]));
                for v in &versions {
                    t.row(vec![
                        v.version.to_string(),
                        v.name.clone(),
                        v.saved_at.to_string(),
                        v.saved_by.clone(),
                        v.sha256[..12].to_owned(),
                        v.note.clone().unwrap_or_default(),
                    ]);
                }
                print!("{}", t.render());
            }
        }
        StrategyCommand::Show(a) => {
            let store = crate::open(url, false).await?;
            let found = store.strategy(a.number).await;
            store.close().await;
            match (found?, a.number) {
                (Some((_, text)), _) => std::io::stdout().lock().write_all(text.as_bytes())?,
                (None, Some(v)) => bail!("no strategy version {v} (`daylight strategy history` lists them)"),
                (None, None) => std::io::stdout().lock().write_all(DEFAULT.as_bytes())?,
            }
        }
        StrategyCommand::Default => {
            let mut out = std::io::stdout().lock();
            out.write_all(DEFAULT.as_bytes())?;
        }
        StrategyCommand::Baseline => {
            let mut out = std::io::stdout().lock();
            out.write_all(daylight_strategy::document::BASELINE.as_bytes())?;
        }
        StrategyCommand::Check(a) => {
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("cannot read {}", a.file.display()))?;
            let s = Strategy::from_toml(&text, &a.file.display().to_string())?;
            crate::qc::refuse_flagged(&a.file.display().to_string(), &s)?;
            println!(
                "{}: strategy {:?}, {} scripts, {} ladders",
                a.file.display(),
                s.name,
                s.scripts.len(),
                s.ladders.len()
            );
            for l in &s.ladders {
                let steps: Vec<String> = l
                    .steps
                    .iter()
                    .map(|st| match st.every_days {
                        Some(1) => format!("{} every day from day {}", st.action, st.from_day),
                        Some(n) => format!("{} from day {} every {n} days", st.action, st.from_day),
                        None => format!("{} on day {}", st.action, st.from_day),
                    })
                    .collect();
                let scope = match (&l.route, l.buckets.is_empty()) {
                    (Some(r), _) => format!("{r:?} cases").to_lowercase(),
                    (None, true) => "every bucket".to_owned(),
                    (None, false) => l.buckets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                };
                println!("  {} ({scope}): {}", l.name, steps.join("; "));
            }
            for f in &s.flows {
                let transfers = if f.transfers() { ", transfers to a collector" } else { "" };
                println!(
                    "  flow {}: {} nodes from {:?}{transfers}",
                    f.name,
                    f.nodes.len(),
                    f.nodes[f.start].id
                );
            }
            if s.ladders.iter().all(|l| l.route.is_some()) {
                bail!("no ladder serves a bucket: every case would be skipped");
            }
        }
    }
    Ok(Outcome::Done)
}

async fn learn(store: &dyn Store, actor: &str, a: &crate::args::LearnArgs) -> Result<Outcome> {
    use daylight_strategy::learn;
    if !(1..=90).contains(&a.window_days) {
        bail!("--window-days {}: expected 1 to 90", a.window_days);
    }
    let until = a.until.unwrap_or_else(crate::now);
    // The latest version of each day whose outcome window has closed.
    let mut latest: std::collections::BTreeMap<jiff::civil::Date, i64> = std::collections::BTreeMap::new();
    for p in store.list_plans().await? {
        let closed = p
            .date
            .checked_add(jiff::Span::new().days(a.window_days + 2))
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .is_some_and(|z| z.timestamp() <= until);
        if closed {
            let v = latest.entry(p.date).or_insert(p.version);
            *v = (*v).max(p.version);
        }
    }
    let histories = store.debtor_histories(&daylight_store::model::HistoryFilter::default(), until).await?;
    let payments: std::collections::HashMap<&str, Vec<jiff::Timestamp>> =
        histories.iter().map(|h| (h.case.as_str(), h.payments.iter().map(|p| p.at).collect())).collect();
    let paid = |case: &str, from: jiff::Timestamp, to: jiff::Timestamp| {
        payments.get(case).is_some_and(|ps| ps.iter().any(|t| *t > from && *t <= to))
    };
    let vectors = daylight_strategy::select::ScriptVectors::default();
    let mut batches = Vec::new();
    for (day, version) in &latest {
        let stored = store.stored_plan(*day, Some(*version)).await?;
        let input: PlanInput = serde_json::from_str(stored.input.as_deref().unwrap_or_default())
            .with_context(|| format!("plan {day} version {version}: the stored input"))?;
        let made: Plan = serde_json::from_str(stored.plan.as_deref().unwrap_or_default())
            .with_context(|| format!("plan {day} version {version}: the stored plan"))?;
        batches.push((*day, learn::examples(&input, &made, a.window_days, &paid, &vectors)?));
    }
    let selector = learn::train(batches, a.window_days);
    if selector.examples == 0 {
        bail!(
            "no plan's {}-day outcome window has closed by {until}: nothing to learn from yet (make plans with `daylight plan`)",
            a.window_days
        );
    }
    let metrics = serde_json::json!({"examples": selector.examples, "positives": selector.positives, "plans": selector.plans.len(), "window_days": a.window_days});
    let registered = if a.register {
        Some(
            store
                .register_model(
                    &daylight_store::model::NewModel {
                        name: "selector".into(),
                        source: "daylight".into(),
                        metrics: metrics.to_string(),
                        document: serde_json::to_string(&selector)?,
                    },
                    actor,
                    crate::now(),
                )
                .await?,
        )
    } else {
        None
    };
    if a.json {
        println!(
            "{}",
            serde_json::json!({"metrics": metrics, "version": registered.as_ref().map(|v| v.version)})
        );
    } else {
        println!(
            "learnt from {} proposed contacts in {} plans ({} followed by a payment within {} days)",
            selector.examples,
            selector.plans.len(),
            selector.positives,
            a.window_days
        );
        if let Some(v) = registered {
            println!(
                "registered selector version {} (challenger); `daylight model promote selector {}` puts it in the plan",
                v.version, v.version
            );
        }
    }
    Ok(Outcome::Done)
}
