//! `daylight model dataset|fit|best-time|score`: the product models on the database's history.

use anyhow::{Context, Result, bail};
use daylight_compliance::wire::{instant, local_rfc3339};
use daylight_domain::attempt::{Agent, Channel, Planned};
use daylight_domain::customer::Recipient;
use daylight_domain::id::{CaseId, ContactId};
use daylight_scoring::product::{FitOptions, Kind, ProductModel, Scorer};
use daylight_store::model::HistoryFilter;
use daylight_store::{ModelStore, Store};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::args::{BestTimeArgs, DatasetArgs, FitArgs, ScoreArgs, WindowArgs};
use crate::output::Table;

/// Default history window: 180 days.
const WINDOW_DAYS: i64 = 180;

fn window(w: &WindowArgs, now: Timestamp) -> Result<(Timestamp, Timestamp)> {
    let until = match &w.until {
        Some(t) => instant("--until", t)?,
        None => now,
    };
    let from = match &w.from {
        Some(t) => instant("--from", t)?,
        None => until - SignedDuration::from_hours(24 * WINDOW_DAYS),
    };
    if from >= until {
        bail!("--from {from} is not before --until {until}");
    }
    for (name, v) in [("--debtor-strength", w.debtor_strength), ("--segment-strength", w.segment_strength)] {
        if !(v.is_finite() && v > 0.0) {
            bail!("{name} {v}: expected a number above 0");
        }
    }
    Ok((from, until))
}

fn options(w: &WindowArgs, params: daylight_scoring::gbdt::Params, seed: u64) -> Result<FitOptions> {
    let now = crate::now();
    let (from, until) = window(w, now)?;
    Ok(FitOptions {
        kind: w.kind,
        from,
        until,
        params,
        seed,
        created_at: now.to_string(),
        debtor_strength: w.debtor_strength,
        segment_strength: w.segment_strength,
    })
}

pub async fn dataset(url: &daylight_store::DbUrl, a: &DatasetArgs) -> Result<()> {
    let opts = options(&a.window, daylight_scoring::gbdt::Params::default(), 0)?;
    let store = crate::open(url, false).await?;
    let histories = store.debtor_histories(&HistoryFilter::default(), opts.until).await;
    store.close().await;
    let histories = histories?;
    let priors = daylight_scoring::features::Priors::estimate(
        &histories,
        opts.until,
        opts.debtor_strength,
        opts.segment_strength,
    );
    let rows = daylight_scoring::product::examples(opts.kind, &histories, &priors, opts.from, opts.until);
    let file = std::fs::File::create(&a.out).with_context(|| format!("cannot write {}", a.out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    daylight_scoring::product::write_examples(opts.kind, &rows, &mut w)
        .and_then(|()| std::io::Write::flush(&mut w))
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    let positives = rows.iter().filter(|e| e.label).count();
    println!(
        "{} {} rows ({positives} positive) from {} cases, {} to {}, written to {}",
        rows.len(),
        opts.kind.as_str(),
        histories.len(),
        opts.from,
        opts.until,
        a.out.display()
    );
    Ok(())
}

pub async fn fit(url: &daylight_store::DbUrl, actor: &str, a: &FitArgs) -> Result<()> {
    if a.shrinkage_only && a.window.kind != Kind::Contactability {
        bail!("--shrinkage-only is for contactability; a propensity model needs its trees");
    }
    let params = daylight_scoring::gbdt::Params::default().apply(&a.params)?;
    let opts = options(&a.window, params, a.seed)?;
    let store = crate::open(url, false).await?;
    let result = fit_in(&*store, actor, a, &opts).await;
    store.close().await;
    result
}

async fn fit_in(store: &dyn Store, actor: &str, a: &FitArgs, opts: &FitOptions) -> Result<()> {
    let started = crate::commands::stopwatch();
    let histories = store.debtor_histories(&HistoryFilter::default(), opts.until).await?;
    let model = if a.shrinkage_only {
        ProductModel::shrinkage(&histories, opts)
    } else {
        ProductModel::fit(&histories, opts)?
    };
    let secs = started.elapsed().as_secs_f64();
    let text = serde_json::to_string_pretty(&model)?;
    std::fs::write(&a.out, &text).with_context(|| format!("cannot write {}", a.out.display()))?;
    let metrics = product_metrics(&model);
    let registered = match &a.register {
        Some(name) => Some(
            store
                .register_model(
                    &daylight_store::model::NewModel {
                        name: name.clone(),
                        source: "daylight".to_owned(),
                        metrics: metrics.to_string(),
                        document: text,
                    },
                    actor,
                    crate::now(),
                )
                .await?,
        ),
        None => None,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "kind": model.kind, "model": a.out, "metrics": metrics, "seconds": secs, "registered": registered,
            }))?
        );
        return Ok(());
    }
    println!(
        "{} from {} cases: {} examples ({} positive), {} to {}, in {secs:.1} s",
        model.kind.as_str(),
        histories.len(),
        model.examples,
        model.positives,
        model.from,
        model.until
    );
    match &model.gbdt {
        Some(g) => println!(
            "held out (the latest {} examples): AUC {:.4}  KS {:.4}  Gini {:.4}",
            g.metrics.test_rows, g.metrics.auc, g.metrics.ks, g.metrics.gini
        ),
        None => println!(
            "shrinkage estimator alone: portfolio connect rate {:.4} over {} dials",
            model.priors.overall, model.priors.dials
        ),
    }
    println!("model written to {}", a.out.display());
    if let Some(v) = registered {
        println!(
            "registered {} version {} (challenger); promote it with `daylight model promote {} {}`",
            v.name, v.version, v.name, v.version
        );
    }
    Ok(())
}

/// What the registry keeps of a product model: kind, examples, held-out metrics.
pub fn product_metrics(m: &ProductModel) -> serde_json::Value {
    json!({
        "kind": m.kind,
        "examples": m.examples,
        "positives": m.positives,
        "holdout": m.gbdt.as_ref().map(|g| &g.metrics),
    })
}

/// The model to serve: a file, else the registry's champion of `name`; `None` when neither.
async fn load_scorer(
    store: &dyn Store,
    file: Option<&std::path::Path>,
    name: &str,
) -> Result<Option<Scorer>> {
    let (bytes, origin) = match file {
        Some(p) => (
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
            p.display().to_string(),
        ),
        None => match champion(store, name).await? {
            Some((version, doc)) => (doc.into_bytes(), format!("{name} version {version} (champion)")),
            None => return Ok(None),
        },
    };
    Ok(Some(Scorer::load(&bytes).with_context(|| format!("model {origin}"))?))
}

/// The registry's champion of `name`: its version and document; `None` when it has none.
pub async fn champion(store: &dyn ModelStore, name: &str) -> Result<Option<(i64, String)>> {
    match store.model_document(name, None).await {
        Ok((v, doc)) => Ok(Some((v.version, doc))),
        Err(daylight_store::StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn best_time(url: &daylight_store::DbUrl, a: &BestTimeArgs) -> Result<()> {
    let store = crate::open(url, false).await?;
    let result = best_time_in(&*store, a).await;
    store.close().await;
    result
}

async fn best_time_in(store: &dyn Store, a: &BestTimeArgs) -> Result<()> {
    let now = match &a.as_of {
        Some(t) => instant("--as-of", t)?,
        None => crate::now(),
    };
    let case = CaseId::parse(&a.case).map_err(|e| anyhow::anyhow!("--case: {}", e.message))?;
    let contact_point = a
        .contact_point
        .as_deref()
        .map(ContactId::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--contact-point: {}", e.message))?;
    let filter = HistoryFilter { case: Some(case.clone()), open_only: false };
    let histories = store.debtor_histories(&filter, now).await?;
    let h = histories.first().with_context(|| format!("case {case}: no debtor"))?;
    let date = match &a.date {
        Some(d) => d
            .parse::<jiff::civil::Date>()
            .map_err(|_| anyhow::anyhow!("--date {d:?}: expected YYYY-MM-DD"))?,
        None => now.to_zoned(h.zone.clone()).date(),
    };
    let day_start = date.to_zoned(h.zone.clone())?.timestamp();
    let planned = Planned {
        case: case.clone(),
        account: None,
        at: day_start.max(now),
        channel: Channel::Call,
        recipient: Recipient::Debtor,
        contact_point,
        agent: Agent::Robot("best-time".to_owned()),
    };
    let ctx = store.contact_context(&planned).await?;
    let (scorer, origin) = match load_scorer(store, a.model.as_deref(), &a.name).await? {
        Some(s) => (
            s,
            a.model.as_ref().map_or_else(|| format!("{} (champion)", a.name), |p| p.display().to_string()),
        ),
        None => {
            // The cold start: the shrinkage estimator on the whole portfolio's history.
            let all = store.debtor_histories(&HistoryFilter::default(), now).await?;
            let opts = FitOptions {
                kind: Kind::Contactability,
                from: now - SignedDuration::from_hours(24 * WINDOW_DAYS),
                until: now,
                params: daylight_scoring::gbdt::Params::default(),
                seed: 0,
                created_at: now.to_string(),
                debtor_strength: daylight_scoring::features::DEBTOR_STRENGTH,
                segment_strength: daylight_scoring::features::SEGMENT_STRENGTH,
            };
            (
                Scorer::new(ProductModel::shrinkage(&all, &opts))?,
                "shrinkage estimator (no model registered)".to_owned(),
            )
        }
    };
    if scorer.model.kind != Kind::Contactability {
        bail!(
            "model {origin} is a {} model; best times need a contactability model",
            scorer.model.kind.as_str()
        );
    }
    let best =
        daylight_scoring::product::best_times(&scorer, h, &ctx.pack, &ctx.request, &ctx.history, date, now)?;
    let zone = &h.zone;
    if a.json {
        let slots: Vec<_> = best
            .slots
            .iter()
            .take(a.top)
            .map(|s| json!({"start": local_rfc3339(s.start, zone), "end": local_rfc3339(s.end, zone), "p_connect": s.p_connect}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "case": case.as_str(), "date": date.to_string(), "time_zone": ctx.time_zone, "pack": ctx.pack.name,
                "model": origin, "allowed_slots": best.slots.len(), "slots": slots, "denied": best.denied, "past": best.past,
            }))?
        );
        return Ok(());
    }
    println!("{case} on {date} ({}), pack {}, model {origin}", ctx.time_zone, ctx.pack.name);
    if best.slots.is_empty() {
        println!("no slot is allowed that day");
    } else {
        let mut t = Table::new(&[">rank", "slot", ">P(connect)"]);
        for (i, s) in best.slots.iter().take(a.top).enumerate() {
            let (from, to) = (s.start.to_zoned(zone.clone()), s.end.to_zoned(zone.clone()));
            t.row(vec![
                (i + 1).to_string(),
                format!("{}–{}", from.strftime("%H:%M"), to.strftime("%H:%M")),
                format!("{:.3}", s.p_connect),
            ]);
        }
        print!("{}", t.render());
    }
    let denied: Vec<String> = best.denied.iter().map(|(r, n)| format!("{n} {r}")).collect();
    println!(
        "{} of 96 slots allowed{}{}",
        best.slots.len(),
        if denied.is_empty() { String::new() } else { format!("; denied: {}", denied.join(", ")) },
        if best.past > 0 { format!("; {} already over", best.past) } else { String::new() }
    );
    Ok(())
}

pub async fn score(url: &daylight_store::DbUrl, a: &ScoreArgs) -> Result<()> {
    let store = crate::open(url, false).await?;
    let result = score_in(&*store, a).await;
    store.close().await;
    result
}

async fn score_in(store: &dyn Store, a: &ScoreArgs) -> Result<()> {
    let at = match &a.at {
        Some(t) => instant("--at", t)?,
        None => crate::now(),
    };
    let scorer = load_scorer(store, a.model.as_deref(), &a.name)
        .await?
        .with_context(|| format!("no --model given and no champion named {:?} in the registry", a.name))?;
    let histories = store.debtor_histories(&HistoryFilter { case: None, open_only: true }, at).await?;
    let items: Vec<_> = histories.iter().map(|h| (h, at)).collect();
    let scores = scorer.score_many(&items)?;
    let out: Box<dyn std::io::Write> = match &a.out {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(out));
    w.write_record(["case", "score"])?;
    for (h, s) in histories.iter().zip(&scores) {
        w.write_record([h.case.as_str(), &format!("{s}")])?;
    }
    w.flush()?;
    if let Some(p) = &a.out {
        eprintln!(
            "{} open cases scored with {} into {}",
            scores.len(),
            scorer.model.kind.as_str(),
            p.display()
        );
    }
    Ok(())
}
