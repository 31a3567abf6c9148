//! `daylight policy`, `daylight calendar` and `daylight contact`: the compliance engine and the
//! contact gate on the command line.

use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use daylight_compliance::pack::SHIPPED;
use daylight_compliance::wire::{decide_line, decision_json_with, instant, local_rfc3339};
use daylight_compliance::{Calendar, Pack, evaluate};
use daylight_domain::agreement::WaiverStatus;
use daylight_domain::attempt::{Agent, Attempt, Channel, Planned};
use daylight_domain::id::{AccountId, CaseId, ContactId, CustomerId};
use daylight_store::DbUrl;
use daylight_store::access::Scope;
use daylight_store::desk::NewThirdPartyRequest;
use daylight_store::model::{ContactFlags, Gated};
use serde_json::json;

use crate::args::{CalendarCommand, ContactArgs, ContactCommand, PackArgs, PolicyCommand, ThirdPartyCommand};
use crate::commands::stopwatch;
use crate::output::Table;
use crate::{Outcome, now, open};

fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn with_calendar(pack: Pack, calendar: Option<&std::path::Path>) -> Result<Pack> {
    let Some(path) = calendar else { return Ok(pack) };
    let mut cal = (*pack.calendar).clone();
    cal.merge_toml(&read(path)?, &path.display().to_string())?;
    Ok(pack.with_calendar(Arc::new(cal)))
}

/// The pack the flags name (default cn-default).
fn chosen(a: &PackArgs) -> Result<Pack> {
    let pack = match (&a.pack, &a.pack_file) {
        (_, Some(path)) => Pack::from_toml(&read(path)?, &path.display().to_string())?,
        (Some(name), None) => Pack::shipped(name)?,
        (None, None) => Pack::shipped(daylight_compliance::DEFAULT_PACK)?,
    };
    with_calendar(pack, a.calendar.as_deref())
}

pub async fn policy(url: &DbUrl, actor: &str, command: PolicyCommand) -> Result<Outcome> {
    match command {
        PolicyCommand::Check(a) => check(&a).map(|()| Outcome::Done),
        PolicyCommand::Explain(a) => explain(&chosen(&a.pack)?, a.json).map(|()| Outcome::Done),
        PolicyCommand::List(a) => list(a.json).map(|()| Outcome::Done),
        PolicyCommand::Bench(a) => bench(a.pack.as_deref(), a.seconds).map(|()| Outcome::Done),
        PolicyCommand::Use(a) => {
            let pack = chosen(&a.pack)?;
            let store = open(url, false).await?;
            let r = store.set_policy_pack(&pack, actor, now()).await;
            store.close().await;
            r?;
            println!(
                "pack {} ({}) is in force for {url}; the change is recorded in the ledger",
                pack.name, pack.title
            );
            Ok(Outcome::Done)
        }
        PolicyCommand::Show(a) => {
            let store = open(url, false).await?;
            let pack = store.policy_pack().await;
            store.close().await;
            explain(&pack?, a.json).map(|()| Outcome::Done)
        }
    }
}

/// JSON lines in, decisions out, one per line and in order; blank lines are skipped.
fn check(a: &PackArgs) -> Result<()> {
    let default = chosen(a)?;
    // A pack from a file replaces a shipped pack of the same name.
    let mut packs: Vec<Pack> = vec![default.clone()];
    for (name, _) in SHIPPED {
        if *name != default.name {
            packs.push(with_calendar(Pack::shipped(name)?, a.calendar.as_deref())?);
        }
    }
    let stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    for (i, line) in stdin.lines().enumerate() {
        let line = line.context("cannot read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let decided = decide_line(&packs, &default, i + 1, &line, now());
        writeln!(out, "{decided}")?;
        out.flush()?;
    }
    Ok(())
}

fn explain(pack: &Pack, json: bool) -> Result<()> {
    if json {
        let rules: Vec<_> = pack
            .rules()
            .iter()
            .map(|r| json!({"rule": r.rule.code(), "message": &*r.message, "message_zh": &*r.message_zh, "citation": &*r.citation}))
            .collect();
        let zone = pack.default_time_zone.as_ref().map(|(n, _)| n);
        let out = json!({"pack": pack.name, "title": pack.title, "title_zh": pack.title_zh, "default_time_zone": zone, "rules": rules});
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("{} — {}\n{}", pack.name, pack.title, pack.title_zh);
    match &pack.default_time_zone {
        Some((zone, _)) => println!("default time zone: {zone}\n"),
        None => println!("no default time zone: requests list the recipient's zones\n"),
    }
    for r in pack.rules() {
        println!("{}\n  {}\n  {}\n  cites: {}\n", r.rule.code(), r.message, r.message_zh, r.citation);
    }
    Ok(())
}

fn list(json: bool) -> Result<()> {
    let packs = SHIPPED.iter().map(|(n, _)| Pack::shipped(n)).collect::<Result<Vec<_>, _>>()?;
    if json {
        let v: Vec<_> =
            packs.iter().map(|p| json!({"pack": p.name, "title": p.title, "title_zh": p.title_zh})).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let mut t = Table::new(&["pack", "title", "标题"]);
        for p in &packs {
            t.row(vec![p.name.clone(), p.title.clone(), p.title_zh.clone()]);
        }
        print!("{}", t.render());
    }
    Ok(())
}

/// Decisions per second on one core: the workload of `daylight_compliance::workload`.
fn bench(only: Option<&str>, seconds: f64) -> Result<()> {
    if !(0.05..=600.0).contains(&seconds) {
        bail!("--seconds {seconds}: expected 0.05 to 600");
    }
    let names: Vec<&str> = match only {
        Some(n) => vec![Pack::shipped(n).map(|_| n)?],
        None => SHIPPED.iter().map(|(n, _)| *n).collect(),
    };
    let (mut total, mut spent) = (0u64, 0f64);
    for name in names {
        let pack = Pack::shipped(name)?;
        let history = daylight_compliance::workload::history(&pack, 30, 3);
        let requests = daylight_compliance::workload::requests(&pack, 64);
        let (mut n, mut allowed) = (0u64, 0u64);
        let started = stopwatch();
        while started.elapsed().as_secs_f64() < seconds {
            for r in &requests {
                let d = evaluate(&pack, std::hint::black_box(r), &history, jiff::Timestamp::UNIX_EPOCH);
                allowed += u64::from(d.allowed);
            }
            n += requests.len() as u64;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name}: {:.0} decisions/s ({n} decisions in {secs:.2} s; {} requests over a day, {:.0}% allowed; {} contacts of history over 30 days)",
            n as f64 / secs,
            requests.len(),
            100.0 * allowed as f64 / n as f64,
            history.len()
        );
        total += n;
        spent += secs;
    }
    println!("{:.0} decisions/s", total as f64 / spent);
    Ok(())
}

pub async fn calendar(url: &DbUrl, actor: &str, command: CalendarCommand) -> Result<Outcome> {
    let a = match command {
        CalendarCommand::Cn(a) => a,
        CalendarCommand::Add(a) => return calendar_add(url, actor, &a).await,
        CalendarCommand::Status(a) => return calendar_status(url, a.json).await,
    };
    let mut cal = (*Calendar::china()).clone();
    if let Some(path) = &a.calendar {
        cal.merge_toml(&read(path)?, &path.display().to_string())?;
    }
    let Some((holidays, workdays)) = cal.year_days(a.year) else {
        let years: Vec<String> = cal.years().map(|y| y.year.to_string()).collect();
        return Err(daylight_compliance::PolicyError {
            code: "CALENDAR_MISSING",
            place: "--year".into(),
            message: format!(
                "the calendar has no {} (it has {}): add the year from the State Council's notice with --calendar FILE",
                a.year,
                years.join(", ")
            ),
        }
        .into());
    };
    if a.json {
        #[derive(serde::Serialize)]
        struct Year {
            year: i16,
            holidays: Vec<String>,
            workdays: Vec<String>,
        }
        let out = Year {
            year: a.year,
            holidays: holidays.iter().map(ToString::to_string).collect(),
            workdays: workdays.iter().map(ToString::to_string).collect(),
        };
        println!("{}", serde_json::to_string(&out)?);
        return Ok(Outcome::Done);
    }
    if let Some(y) = cal.years().find(|y| y.year == a.year) {
        println!("{} — {}\n", a.year, y.source);
    }
    let mut t = Table::new(&["date", "weekday", "kind", "period"]);
    let mut days: Vec<_> = holidays
        .iter()
        .map(|d| (*d, "day off 放假"))
        .chain(workdays.iter().map(|d| (*d, "make-up workday 调休上班")))
        .collect();
    days.sort();
    for (d, kind) in days {
        let period = cal
            .period_of(d)
            .map(|p| {
                format!("{}{}", p.name, p.name_en.as_deref().map(|e| format!(" {e}")).unwrap_or_default())
            })
            .unwrap_or_default();
        t.row(vec![d.to_string(), format!("{:?}", d.weekday()), kind.to_owned(), period]);
    }
    print!("{}", t.render());
    Ok(Outcome::Done)
}

fn planned(a: &ContactArgs) -> Result<Planned> {
    Ok(Planned {
        case: CaseId::parse(&a.case).map_err(|e| anyhow::anyhow!("--case: {}", e.message))?,
        account: a
            .account
            .as_deref()
            .map(AccountId::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--account: {}", e.message))?,
        at: match &a.at {
            Some(t) => instant("--at", t)?,
            None => now(),
        },
        channel: a.channel,
        recipient: a.recipient,
        contact_point: a
            .contact_point
            .as_deref()
            .map(ContactId::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--contact-point: {}", e.message))?,
        agent: Agent::parse(&a.agent).map_err(|e| anyhow::anyhow!("--agent: {}", e.message))?,
    })
}

/// Prints the gate's answer; denied is exit 1.
fn print_gated(g: &Gated, what: &str, json: bool) -> Result<Outcome> {
    let zone = jiff::tz::TimeZone::get(&g.time_zone)?;
    if json {
        let texts: Vec<&daylight_compliance::RuleText> = g.texts.iter().collect();
        let decision: serde_json::Value =
            serde_json::from_str(&decision_json_with(None, &g.decision, &texts, &zone))?;
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"pack": g.pack, what: g.id, "decision": decision}))?
        );
    } else if let Some(id) = g.id {
        println!("allowed under {}: {what} {id}", g.pack);
    } else {
        println!("denied under {}: nothing was made or recorded; the denial is in the ledger", g.pack);
        for t in &g.texts {
            println!("  {}: {}\n    {}\n    cites: {}", t.rule.code(), t.message, t.message_zh, t.citation);
        }
        match g.decision.next_allowed_at {
            Some(t) => println!("next allowed at {}", local_rfc3339(t, &zone)),
            None => println!("nothing allows it within {} days", daylight_compliance::HORIZON_DAYS),
        }
    }
    Ok(if g.id.is_some() { Outcome::Done } else { Outcome::Refused })
}

pub async fn contact(url: &DbUrl, actor: &str, command: ContactCommand) -> Result<Outcome> {
    let store = open(url, false).await?;
    let result = contact_in(&*store, actor, command).await;
    store.close().await;
    result
}

async fn contact_in(
    store: &dyn daylight_store::Store,
    actor: &str,
    command: ContactCommand,
) -> Result<Outcome> {
    match command {
        ContactCommand::Record(a) => {
            let p = planned(&a.contact)?;
            let attempt: Attempt = p.finished(a.outcome, a.duration, a.note.clone());
            let g = store.record_attempt(&attempt, actor, now()).await?;
            print_gated(&g, "attempt", a.contact.json)
        }
        ContactCommand::Start(a) => {
            let p = planned(&a)?;
            let g = store.start_attempt(&p, actor, now()).await?;
            print_gated(&g, "started", a.json)
        }
        ContactCommand::Finish(a) => {
            let id =
                store.finish_attempt(a.id, a.outcome, a.duration, a.note.as_deref(), actor, now()).await?;
            if a.json {
                println!("{}", json!({"started": a.id, "attempt": id}));
            } else {
                println!("started contact {} finished as attempt {id} ({})", a.id, a.outcome);
            }
            Ok(Outcome::Done)
        }
        ContactCommand::Started(a) => {
            let started = store.started_attempts().await?;
            if a.json {
                let v: Vec<_> = started
                    .iter()
                    .map(|s| {
                        json!({"id": s.id, "case": s.planned.case.as_str(), "at": s.planned.at.to_string(),
                               "channel": s.planned.channel, "recipient": s.planned.recipient,
                               "agent": s.planned.agent.code(), "started_by": s.started_by})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let mut t = Table::new(&[">id", "case", "at", "channel", "recipient", "agent"]);
                for s in &started {
                    t.row(vec![
                        s.id.to_string(),
                        s.planned.case.to_string(),
                        s.planned.at.to_string(),
                        s.planned.channel.to_string(),
                        s.planned.recipient.to_string(),
                        s.planned.agent.code(),
                    ]);
                }
                print!("{}", t.render());
            }
            Ok(Outcome::Done)
        }
        ContactCommand::Flags(a) => {
            let customer =
                CustomerId::parse(&a.customer).map_err(|e| anyhow::anyhow!("customer: {}", e.message))?;
            let mut flags = store.contact_flags(&customer).await?;
            let changing = a.cease.is_some() || a.opt_out.is_some() || a.consented_hours.is_some();
            if let Some(c) = a.cease {
                flags.cease = c;
            }
            if let Some(list) = &a.opt_out {
                flags.opt_out = list
                    .split(',')
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(|w| w.parse::<Channel>().map_err(|e| anyhow::anyhow!("--opt-out: {}", e.message)))
                    .collect::<Result<_>>()?;
            }
            if let Some(c) = a.consented_hours {
                flags.consented_hours = c;
            }
            if changing {
                store.set_contact_flags(&customer, &flags, actor, now()).await?;
            }
            print_flags(&customer, &flags, a.json)?;
            Ok(Outcome::Done)
        }
        ContactCommand::Tag(a) => {
            let customer =
                CustomerId::parse(&a.customer).map_err(|e| anyhow::anyhow!("customer: {}", e.message))?;
            let note = if a.clear { None } else { a.note.as_deref() };
            store.tag_debtor(&customer, &a.tag, note, actor, now()).await?;
            match note {
                Some(_) => println!("{customer} tagged {}: the next plan routes them accordingly", a.tag),
                None => println!("{customer}: tag {} cleared", a.tag),
            }
            Ok(Outcome::Done)
        }
        ContactCommand::ThirdParty(c) => third_party(store, actor, c).await,
    }
}

async fn third_party(
    store: &dyn daylight_store::Store,
    actor: &str,
    command: ThirdPartyCommand,
) -> Result<Outcome> {
    match command {
        ThirdPartyCommand::Request(a) => {
            let request = NewThirdPartyRequest {
                case: case_arg(&a.case)?,
                contact_point: ContactId::parse(&a.contact_point)
                    .map_err(|e| anyhow::anyhow!("--contact-point: {}", e.message))?,
                reason: a.reason,
            };
            let id = store.request_third_party(&request, actor, now()).await?;
            println!(
                "third-party request {id}: waiting for a team lead (`daylight contact third-party decide {id} --approve`)"
            );
        }
        ThirdPartyCommand::Decide(a) => {
            store.decide_third_party(a.id, a.approve, actor, now()).await?;
            let word = if a.approve {
                "approved: calls to that number are confirmed for 24 hours"
            } else {
                "rejected"
            };
            println!("third-party request {} {word}", a.id);
        }
        ThirdPartyCommand::List(a) => {
            let case = a.case.as_deref().map(case_arg).transpose()?;
            let status = if case.is_some() { None } else { Some(WaiverStatus::Requested) };
            let rows = store.third_party_requests_in(&Scope::All, case.as_ref(), status, 500).await?;
            let mut t = Table::new(&[
                "id",
                "case",
                "contact_point",
                "status",
                "requested_by",
                "decided_by",
                "valid_until",
            ]);
            for r in rows {
                t.row(vec![
                    r.id.to_string(),
                    r.request.case.to_string(),
                    r.request.contact_point.to_string(),
                    r.status.to_string(),
                    r.requested_by,
                    r.decided_by.unwrap_or_default(),
                    r.valid_until.map(|u| u.to_string()).unwrap_or_default(),
                ]);
            }
            print!("{}", t.render());
        }
    }
    Ok(Outcome::Done)
}

fn case_arg(text: &str) -> Result<CaseId> {
    CaseId::parse(text).map_err(|e| anyhow::anyhow!("--case: {}", e.message))
}

fn print_flags(customer: &CustomerId, f: &ContactFlags, json: bool) -> Result<()> {
    let opt_out: Vec<&str> = f.opt_out.iter().map(|c| c.as_str()).collect();
    if json {
        println!(
            "{}",
            json!({"customer": customer.as_str(), "cease": f.cease, "opt_out": opt_out, "consented_hours": f.consented_hours})
        );
    } else {
        println!(
            "{customer}: cease {}, opted out of {}, consented to other hours {}",
            if f.cease { "yes" } else { "no" },
            if opt_out.is_empty() { "nothing".to_owned() } else { opt_out.join(", ") },
            if f.consented_hours { "yes" } else { "no" }
        );
    }
    Ok(())
}

/// Days before the calendar's end from which `calendar status` (and the console) warn.
const CALENDAR_WARN_DAYS: i64 = 60;

async fn calendar_add(url: &DbUrl, actor: &str, a: &crate::args::CalendarAddArgs) -> Result<Outcome> {
    let origin = a.file.display().to_string();
    let text = read(&a.file)?;
    let cal = Calendar::from_toml(&text, &origin)?;
    let mut t = Table::new(&["year", "statutory day", "date", "as entered"]);
    let mut missing = 0;
    for (year, days) in daylight_compliance::check_years(&cal) {
        for (d, kind) in days {
            let off = kind == daylight_compliance::DayKind::DayOff;
            missing += usize::from(!off);
            let word = if off { "day off 放假" } else { "NOT a day off 未放假" };
            t.row(vec![
                year.to_string(),
                format!("{} {}", d.name, d.name_en),
                d.date.to_string(),
                word.into(),
            ]);
        }
    }
    print!("{}", t.render());
    if missing > 0 {
        println!("{missing} statutory day(s) are not days off as entered: check the notice");
    }
    if a.check {
        return Ok(Outcome::Done);
    }
    let store = open(url, false).await?;
    let result = async {
        let pack = store.policy_pack().await?.with_years_text(&text, &origin)?;
        store.set_policy_pack(&pack, actor, now()).await?;
        anyhow::Ok(pack)
    }
    .await;
    store.close().await;
    let pack = result?;
    let last = pack.calendar.last_day().map(|d| d.to_string()).unwrap_or_default();
    println!(
        "pack {} is in force with the new year(s); its calendar now runs to {last}; recorded in the ledger",
        pack.name
    );
    Ok(Outcome::Done)
}

async fn calendar_status(url: &DbUrl, json: bool) -> Result<Outcome> {
    let store = open(url, false).await?;
    let pack = store.policy_pack().await;
    store.close().await;
    let pack = pack?;
    let today = now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai")?).date();
    let last = pack.calendar.last_day();
    let left = last.map(|d| i64::from((d - today).get_days()));
    let after = match pack.beyond {
        daylight_compliance::Beyond::Refuse => "refuse",
        daylight_compliance::Beyond::Provisional => "provisional",
    };
    let bound = pack.holiday.is_some();
    if json {
        println!(
            "{}",
            json!({"pack": pack.name, "holiday_rule": bound, "last_day": last.map(|d| d.to_string()), "days_left": left, "after": after})
        );
    } else if !bound {
        println!("pack {} has no holiday rule: it needs no calendar", pack.name);
    } else {
        let last = last.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
        println!(
            "pack {}: the holiday calendar runs to {last} ({} days from today); after it: {after}",
            pack.name,
            left.unwrap_or(0)
        );
    }
    let warn = bound && left.is_some_and(|l| l <= CALENDAR_WARN_DAYS);
    if warn && !json {
        println!("enter the next year from the State Council's notice: daylight calendar add FILE");
    }
    Ok(if warn { Outcome::Refused } else { Outcome::Done })
}
