//! The team lead's figures: for the caller's scope over a period (today, 7 or 30 days), by
//! collector, team, bucket or agency, with totals and a day-by-day trend.
//!
//! Definitions (all counts from the store, [`daylight_store::desk::KpiCounts`]):
//! - contact rate = attempts that reached a person ÷ attempts;
//! - RPC rate = right-party contacts (the debtor, talking) ÷ attempts;
//! - PTP rate = promises locked ÷ right-party contacts;
//! - kept rate = promises settled kept ÷ promises settled (kept or broken) in the period;
//! - roll rate = accounts that rolled to a worse bucket ÷ accounts exposed;
//! - recovered = payments received; complaints = complaints registered.
//!
//! Groups are the case's owner or bucket now (a case reassigned yesterday counts for its new
//! collector), as portfolio reports in collections usually are.

use daylight_store::access::Role;
use daylight_store::desk::{KpiCounts, KpiDimension};
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::export::{Cell, Table};
use crate::roles::Permission;
use crate::work::{team_zone, yuan};

/// What figures to show.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct KpiQuery {
    /// `collector`, `team`, `bucket` or `agency` (default: collector for a team lead or an
    /// agency manager, team for the others).
    #[serde(default)]
    pub by: Option<String>,
    /// `today`, `7d` or `30d` (default `7d`): whole days in the team's zone, ending today.
    #[serde(default)]
    pub period: Option<String>,
}

/// One group's figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiLine {
    /// The group (`—`: none, unassigned say).
    pub key: String,
    /// Open cases now.
    pub cases: i64,
    /// Their accounts.
    pub accounts: i64,
    /// Attempts.
    pub attempts: i64,
    /// Attempts that reached a person.
    pub contacts: i64,
    /// Right-party contacts.
    pub rpc: i64,
    /// Promises locked.
    pub promises: i64,
    /// Their amount, fen.
    pub promised_fen: i64,
    /// Promises settled kept.
    pub kept: i64,
    /// Promises settled broken.
    pub broken: i64,
    /// Payments received, fen.
    pub recovered_fen: i64,
    /// Payments received, yuan.
    pub recovered: String,
    /// Accounts that rolled to a worse bucket.
    pub rolled: i64,
    /// Accounts exposed to rolling.
    pub exposed: i64,
    /// Complaints registered.
    pub complaints: i64,
    /// Contacts ÷ attempts.
    pub contact_rate: Option<f64>,
    /// RPC ÷ attempts.
    pub rpc_rate: Option<f64>,
    /// Promises ÷ RPC.
    pub ptp_rate: Option<f64>,
    /// Kept ÷ settled.
    pub kept_rate: Option<f64>,
    /// Rolled ÷ exposed.
    pub roll_rate: Option<f64>,
}

/// One day of the trend.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiDayLine {
    /// The date, local.
    pub date: String,
    /// Attempts.
    pub attempts: i64,
    /// Right-party contacts.
    pub rpc: i64,
    /// Payments received, fen.
    pub recovered_fen: i64,
}

/// The figures for a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiReport {
    /// The grouping.
    pub by: String,
    /// The period asked for.
    pub period: String,
    /// First day, local.
    pub from: String,
    /// Last day, local.
    pub to: String,
    /// By group.
    pub lines: Vec<KpiLine>,
    /// All groups together.
    pub total: KpiLine,
    /// Day by day, for the whole scope.
    pub days: Vec<KpiDayLine>,
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// A share as the console shows it: `42.3%`, or `—` without a denominator.
pub fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

fn line(c: &KpiCounts) -> KpiLine {
    KpiLine {
        key: c.key.clone().unwrap_or_else(|| "—".to_owned()),
        cases: c.cases,
        accounts: c.accounts,
        attempts: c.attempts,
        contacts: c.contacts,
        rpc: c.rpc,
        promises: c.promises,
        promised_fen: c.promised,
        kept: c.kept,
        broken: c.broken,
        recovered_fen: c.recovered,
        recovered: yuan(c.recovered),
        rolled: c.rolled,
        exposed: c.exposed,
        complaints: c.complaints,
        contact_rate: ratio(c.contacts, c.attempts),
        rpc_rate: ratio(c.rpc, c.attempts),
        ptp_rate: ratio(c.promises, c.rpc),
        kept_rate: ratio(c.kept, c.kept + c.broken),
        roll_rate: ratio(c.rolled, c.exposed),
    }
}

fn sum(groups: &[KpiCounts]) -> KpiCounts {
    let mut t = KpiCounts { key: None, ..KpiCounts::default() };
    for g in groups {
        t.cases += g.cases;
        t.accounts += g.accounts;
        t.attempts += g.attempts;
        t.contacts += g.contacts;
        t.rpc += g.rpc;
        t.promises += g.promises;
        t.promised += g.promised;
        t.kept += g.kept;
        t.broken += g.broken;
        t.recovered += g.recovered;
        t.rolled += g.rolled;
        t.exposed += g.exposed;
        t.complaints += g.complaints;
    }
    t
}

/// The grouping a role sees first.
pub fn default_dimension(role: Role) -> KpiDimension {
    match role {
        Role::TeamLead | Role::AgencyManager => KpiDimension::Collector,
        _ => KpiDimension::Team,
    }
}

/// The caller's figures.
pub async fn report(app: &AppState, caller: &Caller, q: &KpiQuery) -> ApiResult<KpiReport> {
    caller.require(Permission::ViewKpis, "see the team's figures")?;
    let dim = match q.by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => default_dimension(caller.user.role),
        Some(s) => s
            .parse()
            .map_err(|e: daylight_domain::Invalid| ApiError::field("by", e.code.as_str(), e.message))?,
    };
    let period = q.period.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("7d");
    let n: i32 = match period {
        "today" => 1,
        "7d" => 7,
        "30d" => 30,
        other => return Err(ApiError::field("period", "ENUM", format!("{other:?}: today, 7d or 30d"))),
    };
    let zone = team_zone();
    let today = app.now().to_zoned(zone.clone()).date();
    let first = today
        .checked_sub((n - 1).days())
        .map_err(|e| ApiError::field("period", "DATE_RANGE", e.to_string()))?;
    let start_of = |d: jiff::civil::Date| -> ApiResult<Timestamp> {
        d.to_zoned(zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| ApiError::field("period", "DATE_RANGE", e.to_string()))
    };
    let mut dates = Vec::with_capacity(n as usize);
    let mut days = Vec::with_capacity(n as usize);
    for i in 0..n {
        let d = first
            .checked_add(i.days())
            .map_err(|e| ApiError::field("period", "DATE_RANGE", e.to_string()))?;
        dates.push(d);
        days.push(start_of(d)?);
    }
    let end =
        start_of(today.tomorrow().map_err(|e| ApiError::field("period", "DATE_RANGE", e.to_string()))?)?;
    let k = app.store.kpis(&caller.scope, dim, days[0], end, &days).await?;
    Ok(KpiReport {
        by: dim.as_str().to_owned(),
        period: period.to_owned(),
        from: first.to_string(),
        to: today.to_string(),
        lines: k.groups.iter().map(line).collect(),
        total: line(&sum(&k.groups)),
        days: k
            .days
            .iter()
            .zip(&dates)
            .map(|(d, date)| KpiDayLine {
                date: date.to_string(),
                attempts: d.attempts,
                rpc: d.rpc,
                recovered_fen: d.recovered,
            })
            .collect(),
    })
}

/// The report as a table (one row per group, then the total).
pub fn table(r: &KpiReport) -> Table {
    let header = [
        r.by.as_str(),
        "cases",
        "accounts",
        "attempts",
        "contacts",
        "rpc",
        "promises",
        "promised_yuan",
        "kept",
        "broken",
        "recovered_yuan",
        "rolled",
        "exposed",
        "complaints",
        "contact_rate",
        "rpc_rate",
        "ptp_rate",
        "kept_rate",
        "roll_rate",
    ];
    let row = |l: &KpiLine, key: &str| -> Vec<Cell> {
        vec![
            key.into(),
            l.cases.into(),
            l.accounts.into(),
            l.attempts.into(),
            l.contacts.into(),
            l.rpc.into(),
            l.promises.into(),
            Cell::Fen(l.promised_fen),
            l.kept.into(),
            l.broken.into(),
            Cell::Fen(l.recovered_fen),
            l.rolled.into(),
            l.exposed.into(),
            l.complaints.into(),
            Cell::Ratio(l.contact_rate),
            Cell::Ratio(l.rpc_rate),
            Cell::Ratio(l.ptp_rate),
            Cell::Ratio(l.kept_rate),
            Cell::Ratio(l.roll_rate),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = r.lines.iter().map(|l| row(l, &l.key)).collect();
    rows.push(row(&r.total, "total"));
    Table {
        name: format!("kpis-by-{}-{}-{}", r.by, r.from, r.to),
        header: header.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_have_their_denominators() {
        let c = KpiCounts {
            key: Some("E001".into()),
            attempts: 10,
            contacts: 4,
            rpc: 2,
            promises: 1,
            kept: 3,
            broken: 1,
            rolled: 1,
            exposed: 8,
            recovered: 123_450,
            ..KpiCounts::default()
        };
        let l = line(&c);
        assert_eq!((l.contact_rate, l.rpc_rate, l.ptp_rate), (Some(0.4), Some(0.2), Some(0.5)));
        assert_eq!((l.kept_rate, l.roll_rate), (Some(0.75), Some(0.125)));
        assert_eq!(l.recovered, "1,234.50");
        let none = line(&KpiCounts::default());
        assert_eq!((none.key.as_str(), none.contact_rate, none.kept_rate), ("—", None, None));
        assert_eq!((percent(Some(0.4234)), percent(None)), ("42.3%".to_owned(), "—".to_owned()));
        let t = sum(&[c.clone(), c]);
        assert_eq!((t.attempts, t.recovered, t.key), (20, 246_900, None));
    }
}
