//! What the API and the console share: the caller's queue in plan order, the case view (masked),
//! the gate's status for each contact point, and the writes a collector makes. Every read and
//! write goes through the caller's scope in the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use daylight_compliance::eval::evaluate;
use daylight_domain::agreement::WaiverStatus;
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome, Planned};
use daylight_domain::case::{CaseStatus, CloseReason, StatusChange};
use daylight_domain::customer::{ContactKind, ContactPoint, ContactStatus, Recipient};
use daylight_domain::id::{AccountId, CaseId, ContactId};
use daylight_domain::pii::{mask_address, mask_name};
use daylight_domain::{Currency, Money};
use daylight_store::access::Role;
use daylight_store::model::{CaseDetail, CaseFilter, NewPromise, PromiseChange, PromiseEdit};
use daylight_strategy::document::Move;
use daylight_strategy::plan::{Action, Plan};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::roles::Permission;

/// The zone the team works in: "today" and the times the console shows.
pub const TEAM_ZONE: &str = "Asia/Shanghai";

/// How often the latest plan version is looked up (a new version is picked up within this).
const PLAN_CHECK: SignedDuration = SignedDuration::from_secs(30);

/// The most cases a queue lists.
pub const QUEUE_LIMIT: u32 = 2_000;

/// The team's zone.
pub fn team_zone() -> TimeZone {
    TimeZone::get(TEAM_ZONE).expect("the bundled time zone database has Asia/Shanghai")
}

/// A day's plan, parsed once per version, with each case's actions.
#[derive(Debug, Default)]
pub struct PlanIndex {
    /// The day.
    pub date: Option<jiff::civil::Date>,
    /// The version.
    pub version: i64,
    /// Actions by case, in plan order.
    pub by_case: HashMap<String, Vec<Action>>,
    /// The strategy the plan was made under (its scripts' tones, for QC's same-day changes).
    pub strategy: Option<Arc<daylight_strategy::document::Strategy>>,
}

/// The latest plan of today, looked up again at most every 30 seconds.
#[derive(Default)]
pub struct PlanCache {
    inner: Mutex<Option<(Timestamp, Arc<PlanIndex>)>>,
}

impl PlanCache {
    /// Today's latest plan (an empty index when there is none).
    pub async fn today(&self, app: &AppState) -> ApiResult<Arc<PlanIndex>> {
        let now = app.now();
        let date = now.to_zoned(team_zone()).date();
        if let Some((checked, idx)) = self.inner.lock().expect("not poisoned").as_ref()
            && now.duration_since(*checked) < PLAN_CHECK
            && idx.date == Some(date)
        {
            return Ok(idx.clone());
        }
        let latest =
            app.store.list_plans().await?.into_iter().filter(|p| p.date == date).map(|p| p.version).max();
        let current = self.inner.lock().expect("not poisoned").as_ref().map(|(_, i)| i.clone());
        let idx = match (latest, current) {
            (Some(v), Some(cur)) if cur.date == Some(date) && cur.version == v => cur,
            (Some(v), _) => {
                let stored = app.store.stored_plan(date, Some(v)).await?;
                let plan: Plan =
                    serde_json::from_str(stored.plan.as_deref().unwrap_or("{}")).map_err(|e| {
                        tracing::error!(error = %e, %date, version = v, "stored plan does not parse");
                        ApiError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "CORRUPT",
                            "today's plan could not be read",
                        )
                    })?;
                let mut by_case: HashMap<String, Vec<Action>> = HashMap::new();
                for a in plan.actions {
                    by_case.entry(a.case.clone()).or_default().push(a);
                }
                let strategy = app
                    .store
                    .plan_strategy(date, v)
                    .await?
                    .and_then(|text| daylight_strategy::document::Strategy::from_toml(&text, "plan").ok())
                    .map(Arc::new);
                Arc::new(PlanIndex { date: Some(date), version: v, by_case, strategy })
            }
            (None, _) => {
                Arc::new(PlanIndex { date: Some(date), version: 0, by_case: HashMap::new(), strategy: None })
            }
        };
        *self.inner.lock().expect("not poisoned") = Some((now, idx.clone()));
        Ok(idx)
    }
}

/// Each user's queue order as last listed, so that "next case" need not list it again.
#[derive(Default)]
pub struct QueueCache {
    inner: Mutex<HashMap<String, Listed>>,
}

/// When a queue was listed, and its case ids in order.
type Listed = (Timestamp, Arc<Vec<String>>);

/// How long a listed queue serves "next case".
const QUEUE_CACHE_FOR: SignedDuration = SignedDuration::from_secs(60);

impl QueueCache {
    fn put(&self, login: &str, now: Timestamp, cases: Vec<String>) {
        let mut map = self.inner.lock().expect("not poisoned");
        if map.len() >= 50_000 {
            map.clear();
        }
        map.insert(login.to_owned(), (now, Arc::new(cases)));
    }

    fn get(&self, login: &str, now: Timestamp) -> Option<Arc<Vec<String>>> {
        let map = self.inner.lock().expect("not poisoned");
        map.get(login).filter(|(at, _)| now.duration_since(*at) < QUEUE_CACHE_FOR).map(|(_, q)| q.clone())
    }
}

/// The case after `id` in the caller's queue (the first if `id` is not in it).
pub async fn next_case(app: &AppState, caller: &Caller, id: &str) -> ApiResult<Option<String>> {
    let order = match app.queues.get(&caller.user.login, app.now()) {
        Some(q) => q,
        None => {
            queue(app, caller).await?;
            app.queues.get(&caller.user.login, app.now()).unwrap_or_default()
        }
    };
    Ok(match order.iter().position(|c| c == id) {
        Some(i) => order.get(i + 1).cloned(),
        None => order.first().cloned(),
    })
}

/// A case in the caller's queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueItem {
    /// The case id.
    pub case: String,
    /// The debtor's name, masked (张*).
    pub name: String,
    /// Bucket (M1…M6+).
    pub bucket: String,
    /// Days past due (worst account).
    pub dpd: u32,
    /// Overdue in yuan, two decimals (CNY only; other currencies follow).
    pub overdue: String,
    /// Overdue in fen (CNY).
    pub overdue_fen: i64,
    /// Today's planned channel or referral (`call`, `sms`, …, `legal`, `agency`), if the plan has
    /// the case.
    #[schema(value_type = Option<String>)]
    pub channel: Option<Move>,
    /// Today's window start, local `HH:MM`.
    pub window: Option<String>,
    /// The script to use.
    pub script: Option<String>,
    /// The experiment arm.
    pub arm: Option<String>,
    /// Who the case is assigned to.
    pub collector: Option<String>,
    /// `open`, `closed`, `legal`, `written_off` (a search finds cases of every status).
    pub status: String,
    /// Attempts on the case since the team's midnight (any agent, any channel).
    pub worked_today: u32,
    /// A pending promise falls due today (or fell due unsettled): its earliest due time, local
    /// `YYYY-MM-DD HH:MM`.
    pub promise_due: Option<String>,
    /// Whether a call now to today's planned number would pass the gate (only when the list
    /// was asked for callable cases; else unknown).
    pub callable: Option<bool>,
    /// Today's planned call: whom, which number (for the gate's question).
    #[serde(skip)]
    planned: Option<(Recipient, String)>,
}

fn overdue_fen(list: &[Money]) -> i64 {
    list.iter().filter(|m| m.currency == Currency::Cny).map(|m| m.minor).sum()
}

/// Yuan with two decimals and thousands separators: `12,345.67`.
pub fn yuan(fen: i64) -> String {
    daylight_domain::money::yuan_grouped(fen)
}

fn local_hm(t: Timestamp) -> String {
    t.to_zoned(team_zone()).strftime("%H:%M").to_string()
}

/// The caller's open cases, worst first (the store applies the scope).
async fn open_cases(app: &AppState, caller: &Caller) -> ApiResult<Vec<daylight_store::model::CaseSummary>> {
    caller.require(Permission::ViewCases, "view cases")?;
    let filter = CaseFilter {
        status: Some(CaseStatus::Open),
        scope: caller.scope.clone(),
        limit: QUEUE_LIMIT,
        attempts_since: Some(team_midnight(app.now())),
        ..CaseFilter::default()
    };
    Ok(app.store.list_cases(&filter).await?)
}

/// The start of the team's day that holds `now`.
pub fn team_midnight(now: Timestamp) -> Timestamp {
    let zone = team_zone();
    now.to_zoned(zone.clone()).date().to_zoned(zone).map_or(now, |z| z.timestamp())
}

impl QueueItem {
    fn new(s: daylight_store::model::CaseSummary, action: Option<&Action>) -> QueueItem {
        let fen = overdue_fen(&s.overdue);
        QueueItem {
            case: s.case.id.as_str().to_owned(),
            name: s.customer_name.masked(),
            bucket: s.case.bucket.label().to_owned(),
            dpd: s.case.max_dpd,
            overdue: yuan(fen),
            overdue_fen: fen,
            channel: action.map(|a| a.channel),
            window: action.map(|a| local_hm(a.window_start)),
            script: action.and_then(|a| a.script.clone()),
            arm: action.map(|a| a.arm.clone()),
            collector: s.case.collector,
            status: s.case.status.as_str().to_owned(),
            worked_today: s.attempts_since,
            promise_due: None,
            callable: None,
            planned: action.and_then(|a| a.contact_point.clone().map(|p| (a.recipient, p))),
        }
    }
}

/// The caller's open cases: today's planned ones not yet worked today first, in the plan's
/// order (window start, then priority), then the rest, worst first; cases worked today after
/// those not yet worked, in the same order.
pub async fn queue(app: &AppState, caller: &Caller) -> ApiResult<Vec<QueueItem>> {
    let cases = open_cases(app, caller).await?;
    let plan = app.plans.today(app).await?;
    // (worked today, today's window and priority, the item)
    type Keyed = (bool, Option<(Timestamp, u32)>, QueueItem);
    let mut items: Vec<Keyed> = cases
        .into_iter()
        .map(|s| {
            let action = plan
                .by_case
                .get(s.case.id.as_str())
                .and_then(|v| v.iter().find(|a| a.contact_point.is_some()));
            (s.attempts_since > 0, action.map(|a| (a.window_start, a.priority)), QueueItem::new(s, action))
        })
        .collect();
    // Not yet worked today first; then planned first (by window, then priority); the store's
    // order (worst first) otherwise.
    items.sort_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| match (&a.1, &b.1) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
    });
    let mut items: Vec<QueueItem> = items.into_iter().map(|(_, _, i)| i).collect();
    // Promises due by the end of today (and those past due, not yet settled).
    let end_of_day = team_midnight(app.now()) + SignedDuration::from_hours(24);
    let due: HashMap<String, Timestamp> = app
        .store
        .promises_due(&caller.scope, end_of_day)
        .await?
        .into_iter()
        .map(|(c, t)| (c.as_str().to_owned(), t))
        .collect();
    for i in &mut items {
        i.promise_due = due.get(&i.case).map(|t| local_full(*t));
    }
    app.queues.put(&caller.user.login, app.now(), items.iter().map(|i| i.case.clone()).collect());
    Ok(items)
}

/// How a list of cases is narrowed, ordered and paged (the workbench's queue, the team's cases).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Find a case within the caller's scope, of any status: its id, the debtor's full name,
    /// resident ID or full phone number (compared by blind index; nothing in clear is shown),
    /// or a card's last four digits.
    #[serde(default)]
    pub q: Option<String>,
    /// Only this bucket (`M1` … `M6+`).
    #[serde(default)]
    pub bucket: Option<String>,
    /// `yes`: only cases worked today; `no`: only cases not yet worked today.
    #[serde(default)]
    pub worked: Option<String>,
    /// `yes`: only cases in today's plan.
    #[serde(default)]
    pub planned: Option<String>,
    /// Only cases owing at least this many yuan.
    #[serde(default)]
    pub min_overdue: Option<String>,
    /// `yes`: only cases with a pending promise due today or past due; `no`: only others.
    #[serde(default)]
    pub promise_due: Option<String>,
    /// `yes`: only cases whose planned number the gate would let the caller call now (asked of
    /// the compliance engine with the facts the gate reads); `no`: only the others.
    #[serde(default)]
    pub callable: Option<String>,
    /// `plan` (the queue's order, the default), `overdue` or `dpd` (largest first).
    #[serde(default)]
    pub sort: Option<String>,
    /// The page, from 1.
    #[serde(default)]
    pub page: Option<u32>,
}

/// One page of a list of cases, with the whole list's count.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListPage {
    /// The page's cases.
    pub items: Vec<QueueItem>,
    /// How many cases the list holds in all (every page).
    pub total: u64,
    /// This page, from 1.
    pub page: u32,
    /// How many pages.
    pub pages: u32,
    /// Cases per page.
    pub per_page: u32,
    /// The queue's cases not listed because it holds at most [`QUEUE_LIMIT`] (the worst first).
    pub beyond_limit: u64,
}

/// Cases per page of a list.
pub const PER_PAGE: u32 = 50;

impl ListQuery {
    fn text(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    fn bucket(&self) -> ApiResult<Option<daylight_domain::bucket::Bucket>> {
        Self::text(&self.bucket)
            .map(|b| {
                b.parse()
                    .map_err(|_| ApiError::field("bucket", "ENUM", format!("{b:?}: one of M0 … M6, M6+")))
            })
            .transpose()
    }

    fn yes_no(v: &Option<String>, field: &str) -> ApiResult<Option<bool>> {
        match Self::text(v) {
            None => Ok(None),
            Some("yes") => Ok(Some(true)),
            Some("no") => Ok(Some(false)),
            Some(other) => Err(ApiError::field(field, "ENUM", format!("{other:?}: yes or no"))),
        }
    }

    fn min_overdue_fen(&self) -> ApiResult<Option<i64>> {
        Self::text(&self.min_overdue)
            .map(|y| {
                parse_yuan(y).filter(|f| *f >= 0).ok_or_else(|| {
                    ApiError::field(
                        "min_overdue",
                        "AMOUNT",
                        format!("{y:?}: an amount in yuan, e.g. 5000 or 5000.50"),
                    )
                })
            })
            .transpose()
    }

    fn sort(&self) -> ApiResult<&str> {
        match Self::text(&self.sort).unwrap_or("plan") {
            s @ ("plan" | "overdue" | "dpd") => Ok(s),
            other => Err(ApiError::field("sort", "ENUM", format!("{other:?}: plan, overdue or dpd"))),
        }
    }

    fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }
}

/// Yuan as a person types them (`5000`, `5,000.5`) in fen.
fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.replace(',', "");
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    whole.checked_mul(100)?.checked_add(frac)
}

fn page_of(items: Vec<QueueItem>, total: u64, page: u32, beyond_limit: u64) -> ListPage {
    let pages = u32::try_from(total.div_ceil(u64::from(PER_PAGE))).unwrap_or(u32::MAX).max(1);
    ListPage { items, total, page, pages, per_page: PER_PAGE, beyond_limit }
}

/// A page of the cases the store selects for `query` (its bucket, its search if any, `status`
/// otherwise), with the whole selection's count.
async fn store_page(
    app: &AppState,
    caller: &Caller,
    query: &ListQuery,
    status: Option<CaseStatus>,
) -> ApiResult<ListPage> {
    caller.require(Permission::ViewCases, "view cases")?;
    let page = query.page();
    let search = ListQuery::text(&query.q).map(str::to_owned);
    let filter = CaseFilter {
        // A search finds cases of every status.
        status: if search.is_some() { None } else { status },
        search,
        bucket: query.bucket()?,
        scope: caller.scope.clone(),
        limit: PER_PAGE,
        offset: (page - 1).saturating_mul(PER_PAGE),
        attempts_since: Some(team_midnight(app.now())),
        ..CaseFilter::default()
    };
    let total = app.store.count_cases(&filter).await?;
    let items = app.store.list_cases(&filter).await?.into_iter().map(|s| QueueItem::new(s, None)).collect();
    Ok(page_of(items, total, page, 0))
}

/// The caller's queue narrowed, ordered and paged as `query` says; a search (`q`) looks
/// through every case in the caller's scope instead.
pub async fn queue_page(app: &AppState, caller: &Caller, query: &ListQuery) -> ApiResult<ListPage> {
    let (bucket, worked, planned, min_fen, sort) = (
        query.bucket()?,
        ListQuery::yes_no(&query.worked, "worked")?,
        ListQuery::yes_no(&query.planned, "planned")?,
        query.min_overdue_fen()?,
        query.sort()?,
    );
    let (promise_due, callable) = (
        ListQuery::yes_no(&query.promise_due, "promise_due")?,
        ListQuery::yes_no(&query.callable, "callable")?,
    );
    if ListQuery::text(&query.q).is_some() {
        return store_page(app, caller, query, None).await;
    }
    let all = queue(app, caller).await?;
    let listed = all.len() as u64;
    let open =
        CaseFilter { status: Some(CaseStatus::Open), scope: caller.scope.clone(), ..CaseFilter::default() };
    let beyond_limit = if listed >= u64::from(QUEUE_LIMIT) {
        app.store.count_cases(&open).await?.saturating_sub(listed)
    } else {
        0
    };
    let mut items: Vec<QueueItem> = all
        .into_iter()
        .filter(|i| bucket.is_none_or(|b| i.bucket == b.label()))
        .filter(|i| worked.is_none_or(|w| (i.worked_today > 0) == w))
        .filter(|i| planned.is_none_or(|p| i.window.is_some() == p))
        .filter(|i| min_fen.is_none_or(|m| i.overdue_fen >= m))
        .filter(|i| promise_due.is_none_or(|p| i.promise_due.is_some() == p))
        .collect();
    if let Some(wanted) = callable {
        // Each case's planned number, put to the engine with the facts the gate would read.
        // A few at a time: each is one read transaction.
        use futures::StreamExt as _;
        let asks: Vec<_> = items.iter().map(|i| (i.case.clone(), i.planned.clone())).collect();
        let answers: Vec<ApiResult<bool>> = futures::stream::iter(asks)
            .map(|(case, planned)| callable_now(app, caller, case, planned))
            .buffered(8)
            .collect()
            .await;
        for (i, a) in items.iter_mut().zip(answers) {
            i.callable = Some(a?);
        }
        items.retain(|i| i.callable == Some(wanted));
    }
    match sort {
        "overdue" => items.sort_by_key(|i| std::cmp::Reverse(i.overdue_fen)),
        "dpd" => items.sort_by_key(|i| std::cmp::Reverse(i.dpd)),
        _ => {}
    }
    let total = items.len() as u64;
    let page = query.page();
    let start = usize::try_from((page - 1).saturating_mul(PER_PAGE)).unwrap_or(usize::MAX);
    let items: Vec<QueueItem> = items.into_iter().skip(start).take(PER_PAGE as usize).collect();
    Ok(page_of(items, total, page, beyond_limit))
}

/// Whether a call by `caller` now to the item's planned number would pass the gate (no
/// planned number: no).
async fn callable_now(
    app: &AppState,
    caller: &Caller,
    case: String,
    planned: Option<(Recipient, String)>,
) -> ApiResult<bool> {
    let Some((recipient, point)) = planned else { return Ok(false) };
    let (Ok(case), Ok(point)) = (CaseId::parse(&case), ContactId::parse(&point)) else { return Ok(false) };
    let now = app.now();
    let planned = crate::calls::call_to(caller, &case, recipient, point, now);
    let contexts = app.store.contact_contexts(std::slice::from_ref(&planned)).await?;
    Ok(contexts.iter().all(|ctx| evaluate(&ctx.pack, &ctx.request, &ctx.history, now).allowed)
        && !contexts.is_empty())
}

/// The caller's open cases as a team lead sees them (with who works each), worst first, a page
/// at a time with the whole count; a search (`q`) finds cases of any status.
pub async fn team_page(app: &AppState, caller: &Caller, query: &ListQuery) -> ApiResult<ListPage> {
    store_page(app, caller, query, Some(CaseStatus::Open)).await
}

/// A contact point as the caller sees it, with the gate's answer for a call now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointView {
    /// The point's id.
    pub id: String,
    /// `debtor`, `guarantor`, `emergency_contact`, …
    pub role: String,
    /// `phone`, `email` or `address`.
    pub kind: String,
    /// The value, masked (138****5678).
    pub value: String,
    /// The owner's name, masked, when not the debtor.
    pub name: Option<String>,
    /// `unknown`, `valid`, `invalid`, `suspended`, `powered_off`.
    #[schema(value_type = String)]
    pub status: ContactStatus,
    /// The gate's answer for a call to this point now (phones only).
    pub gate: Option<GateStatus>,
    /// Whether the point is a third party's (an emergency contact, a relative …): a call needs a
    /// team lead's confirmation.
    pub third_party: bool,
    /// For a third party: where the latest request to contact it stands (`requested`,
    /// `approved`, `rejected`, `expired`).
    pub confirmation: Option<String>,
    /// Until when an approval confirms calls, local `YYYY-MM-DD HH:MM`.
    pub confirmed_until: Option<String>,
}

/// Whether a call may be made now, and if not, when and why not.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GateStatus {
    /// A call now would be allowed.
    pub allowed: bool,
    /// The rules a call now would break (stable codes: `HOURS`, `DAILY_CAP`, …).
    pub rules: Vec<String>,
    /// The next allowed minute, local `YYYY-MM-DD HH:MM` (none within 400 days: never).
    pub next_allowed_at: Option<String>,
    /// The pack that judged.
    pub pack: String,
}

/// An account as the case screen shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountLine {
    /// Account id.
    pub id: String,
    /// Card number, masked.
    pub card: String,
    /// Bucket.
    pub bucket: String,
    /// Days past due.
    pub dpd: u32,
    /// Balance, yuan.
    pub balance: String,
    /// Overdue principal, yuan.
    pub principal: String,
    /// Overdue interest, yuan.
    pub interest: String,
    /// Overdue fees, yuan.
    pub fees: String,
    /// Overdue late fees, yuan.
    pub late_fees: String,
    /// Overdue in all, fen.
    pub overdue_fen: i64,
    /// Approved waivers (below zero) and plans' fees (above) the bank has not booked yet, yuan;
    /// empty when none.
    pub adjusted: String,
    /// What is owed now: the overdue figures plus those adjustments, fen.
    pub owed_fen: i64,
    /// Minimum payment, yuan.
    pub minimum: String,
}

/// One line of the case's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// When, local `YYYY-MM-DD HH:MM`.
    pub at: String,
    /// Sort key (RFC 3339, UTC).
    #[serde(skip)]
    pub instant: String,
    /// `attempt`, `note`, `promise`, `payment`, `bucket`, `arrangement`, `waiver`.
    pub kind: String,
    /// What happened, in words (codes stay codes).
    pub text: String,
    /// Who.
    pub by: Option<String>,
    /// The codes of `text` in order (channel, recipient, outcome, status …), for a reader's words.
    pub terms: Vec<String>,
    /// Its figures: a catalogue key naming each (none: the figure alone) and the value.
    pub facts: Vec<(Option<String>, String)>,
    /// What a person wrote (a note, a reason).
    pub note: Option<String>,
}

/// Today's planned action for the case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    /// Channel, or a referral (`legal`, `agency`).
    #[schema(value_type = String)]
    pub channel: Move,
    /// Recipient.
    #[schema(value_type = String)]
    pub recipient: Recipient,
    /// Contact point id.
    pub contact_point: Option<String>,
    /// Script id.
    pub script: Option<String>,
    /// Window, local `HH:MM–HH:MM`.
    pub window: String,
    /// Experiment arm.
    pub arm: String,
    /// Why, as the planner said (`CODE: detail`; the console puts them in words).
    pub reasons: Vec<String>,
    /// The script's words with the case's figures filled in, as the collector reads them.
    pub script_text: Option<String>,
    /// What changes what to say: `hardship`, `anxious`, `abusive` (from the plan's reasons and
    /// what QC heard today).
    pub flags: Vec<String>,
}

/// A case as the caller may see it: personal data masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    /// The case id.
    pub id: String,
    /// The customer id.
    pub customer: String,
    /// `open`, `closed`, `legal`, `written_off`.
    #[schema(value_type = String)]
    pub status: CaseStatus,
    /// Bucket.
    pub bucket: String,
    /// Days past due.
    pub dpd: u32,
    /// Assignment: team, collector, agency.
    pub team: Option<String>,
    /// Collector.
    pub collector: Option<String>,
    /// Agency.
    pub agency: Option<String>,
    /// Name, masked.
    pub name: String,
    /// Resident ID, masked.
    pub resident_id: String,
    /// Address, masked.
    pub address: Option<String>,
    /// Employer.
    pub employer: Option<String>,
    /// Owed in all (overdue figures plus adjustments not yet booked), yuan.
    pub overdue: String,
    /// Accounts.
    pub accounts: Vec<AccountLine>,
    /// Contact points with the gate's answer.
    pub contacts: Vec<PointView>,
    /// Today's plan for the case.
    pub suggestion: Option<Suggestion>,
    /// Timeline, newest first.
    pub timeline: Vec<TimelineEntry>,
    /// Pending promises: id, amount (yuan), due (local).
    pub pending_promises: Vec<(i64, String, String)>,
    /// The latest attempts (id, local time, outcome), for a complaint to name one.
    pub attempt_choices: Vec<(i64, String, String)>,
    /// The case's analysed calls, newest first (for those who may read QC).
    pub qc: Vec<crate::qc::QcCallView>,
    /// Numbers proposed on the case (masked), oldest first.
    pub number_proposals: Vec<crate::desk::PendingNumber>,
}

/// An instant as the team reads it: `YYYY-MM-DD HH:MM` in the team's zone.
pub fn local_full(t: Timestamp) -> String {
    t.to_zoned(team_zone()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// The agent a caller records contacts as.
pub fn agent_of(caller: &Caller) -> Agent {
    match (caller.user.role, &caller.user.agency) {
        (Role::AgencyManager | Role::AgencyCollector, Some(a)) => {
            Agent::Agency { agency: a.clone(), collector: caller.user.login.clone() }
        }
        _ => Agent::Collector(caller.user.login.clone()),
    }
}

fn is_phone(p: &ContactPoint) -> bool {
    matches!(p.value.kind(), ContactKind::Phone)
}

/// The gate's answers for a call now, by `caller`, to each of `points` of `case`: the store
/// reads the facts as the gate does (the debtor, the pack, the numbers' status, third-party
/// confirmations, the case's status) and the request is the one the gate would build.
pub async fn gate_statuses(
    app: &AppState,
    caller: &Caller,
    case: &CaseId,
    points: &[&ContactPoint],
) -> ApiResult<Vec<GateStatus>> {
    let now = app.now();
    let planned: Vec<Planned> =
        points.iter().map(|point| crate::calls::call_planned(caller, case, point, now)).collect();
    let contexts = app.store.contact_contexts(&planned).await?;
    Ok(contexts
        .iter()
        .map(|ctx| {
            let d = evaluate(&ctx.pack, &ctx.request, &ctx.history, now);
            GateStatus {
                allowed: d.allowed,
                rules: d.violations.iter().map(|r| r.code().to_owned()).collect(),
                next_allowed_at: d.next_allowed_at.map(local_full),
                pack: ctx.pack.name.clone(),
            }
        })
        .collect())
}

/// The case, if it is in the caller's scope, masked.
pub async fn case_view(app: &AppState, caller: &Caller, id: &str) -> ApiResult<CaseView> {
    caller.require(Permission::ViewCases, "view cases")?;
    let case_id = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    let d = app.store.case_detail_in(&caller.scope, &case_id).await?;
    // Every phone is put to the gate, a closed case's too: it answers CASE_CLOSED.
    let phones: Vec<&ContactPoint> = d.contacts.iter().filter(|p| is_phone(p)).collect();
    let now = app.now();
    let requests = app.store.third_party_requests_in(&caller.scope, Some(&case_id), None, 100).await?;
    let mut gates = gate_statuses(app, caller, &case_id, &phones).await?.into_iter();
    let mut contacts = Vec::with_capacity(d.contacts.len());
    for p in &d.contacts {
        let gate = if is_phone(p) { gates.next() } else { None };
        // The latest request about a third party's point: waiting, or confirmed until when.
        let confirmation = (p.role.recipient() == Recipient::ThirdParty)
            .then(|| requests.iter().rev().find(|r| r.request.contact_point == p.id))
            .flatten()
            .map(|r| match (r.status, r.valid_until) {
                (WaiverStatus::Approved, Some(u)) if u > now => ("approved".to_owned(), Some(local_full(u))),
                (WaiverStatus::Approved, _) => ("expired".to_owned(), None),
                (s, _) => (s.as_str().to_owned(), None),
            });
        let (confirmation, confirmed_until) = confirmation.map_or((None, None), |(c, u)| (Some(c), u));
        contacts.push(PointView {
            id: p.id.as_str().to_owned(),
            role: p.role.as_str().to_owned(),
            kind: p.value.kind().as_str().to_owned(),
            value: p.value.masked(),
            name: p.name.as_ref().map(|n| n.masked()),
            status: p.status,
            gate,
            third_party: p.role.recipient() == Recipient::ThirdParty,
            confirmation,
            confirmed_until,
        });
    }
    let plan = app.plans.today(app).await?;
    let mut suggestion = plan.by_case.get(id).and_then(|v| v.first()).map(|a| Suggestion {
        channel: a.channel,
        recipient: a.recipient,
        contact_point: a.contact_point.clone(),
        script: a.script.clone(),
        window: format!("{}–{}", local_hm(a.window_start), local_hm(a.window_end)),
        arm: a.arm.clone(),
        reasons: a.reasons.clone(),
        script_text: None,
        flags: Vec::new(),
    });
    // What QC heard on today's calls changes today's suggestion (tomorrow's plan reads the tags).
    let calls = app.store.qc_calls_in(&caller.scope, Some(&case_id), None, 50).await?;
    let midnight = team_midnight(now);
    let heard_today: Vec<&str> = calls
        .iter()
        .filter(|q| q.analysed_at >= midnight)
        .flat_map(|q| q.findings.iter().map(|f| f.code.as_str()))
        .collect();
    if let Some(s) = suggestion.as_mut() {
        crate::qc::adjust_suggestion(s, plan.strategy.as_deref(), &heard_today);
        let (bank, hotline) =
            app.settings.calls.as_ref().map_or(("本行", ""), |c| (c.bank.as_str(), c.hotline.as_str()));
        let facts = crate::robot::Facts::with(&d, bank, hotline);
        let strategy = plan.strategy.as_deref().or_else(|| crate::robot::default_strategy());
        s.script_text =
            s.script.as_deref().and_then(|id| strategy.and_then(|st| st.script(id))).map(|script| {
                daylight_strategy::spoken::written(&script.text, &facts.spoken_by(&caller.user.name))
            });
        s.flags = flags_of(&s.reasons);
    }
    let mut view = view_of(d, contacts, suggestion);
    view.number_proposals = app
        .store
        .numbers_in(&caller.scope, Some(&case_id), None, 20)
        .await?
        .into_iter()
        .map(crate::desk::PendingNumber::of)
        .collect();
    if caller.can(Permission::ViewQc) {
        view.qc = calls.iter().map(crate::qc::call_view).collect();
    }
    Ok(view)
}

/// The flags that change what a collector says, from the plan's reasons (`HARDSHIP`,
/// `ANXIOUS`, `ABUSIVE`, and their `QC_` forms for what was heard today).
fn flags_of(reasons: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (code, flag) in [("HARDSHIP", "hardship"), ("ANXIOUS", "anxious"), ("ABUSIVE", "abusive")] {
        let qc = format!("QC_{code}");
        if reasons.iter().any(|r| {
            let c = r.split(':').next().unwrap_or_default();
            c == code || c == qc
        }) {
            out.push(flag.to_owned());
        }
    }
    out
}

fn view_of(d: CaseDetail, contacts: Vec<PointView>, suggestion: Option<Suggestion>) -> CaseView {
    let accounts: Vec<AccountLine> = d
        .accounts
        .iter()
        .map(|a| {
            let o = &a.account.overdue;
            let total = o.principal.minor + o.interest.minor + o.fees.minor + o.late_fees.minor;
            AccountLine {
                id: a.account.id.as_str().to_owned(),
                card: a.account.pan.to_string(),
                bucket: a.bucket.label().to_owned(),
                dpd: a.account.days_past_due,
                balance: yuan(a.account.balance.minor),
                principal: yuan(o.principal.minor),
                interest: yuan(o.interest.minor),
                fees: yuan(o.fees.minor),
                late_fees: yuan(o.late_fees.minor),
                overdue_fen: total,
                adjusted: if a.adjusted.minor == 0 { String::new() } else { yuan(a.adjusted.minor) },
                owed_fen: a.owed().minor,
                minimum: yuan(a.account.minimum_payment.minor),
            }
        })
        .collect();
    let overdue: i64 = accounts.iter().map(|a| a.owed_fen).sum();
    let mut timeline = Vec::new();
    // One entry: its codes, figures and note; `text` joins them for the API.
    let mut push = |at: Timestamp,
                    kind: &str,
                    terms: Vec<&str>,
                    facts: Vec<(Option<&str>, String)>,
                    note: Option<String>,
                    by: Option<String>| {
        let mut text: Vec<String> = terms.iter().map(|t| (*t).to_owned()).collect();
        text.extend(facts.iter().map(|(k, v)| match k {
            Some(k) => format!("{} {v}", k.trim_end_matches("_at")),
            None => v.clone(),
        }));
        let mut text = text.join(" · ");
        if let Some(n) = &note {
            text.push_str(" — ");
            text.push_str(n);
        }
        timeline.push(TimelineEntry {
            at: local_full(at),
            instant: at.to_string(),
            kind: kind.to_owned(),
            text,
            by,
            terms: terms.into_iter().map(str::to_owned).collect(),
            facts: facts.into_iter().map(|(k, v)| (k.map(str::to_owned), v)).collect(),
            note,
        });
    };
    for a in &d.attempts {
        let at = &a.attempt;
        let terms = vec![at.channel.as_str(), at.recipient.as_str(), at.outcome.as_str()];
        push(at.at, "attempt", terms, Vec::new(), at.note.clone(), Some(a.recorded_by.clone()));
    }
    for n in &d.notes {
        if d.attempts
            .iter()
            .any(|a| a.attempt.note.as_deref() == Some(n.note.text.as_str()) && a.attempt.at == n.note.at)
        {
            continue;
        }
        push(
            n.note.at,
            "note",
            Vec::new(),
            Vec::new(),
            Some(n.note.text.clone()),
            Some(n.note.author.clone()),
        );
    }
    let mut pending = Vec::new();
    for p in &d.promises {
        let facts =
            vec![(None, yuan(p.promise.amount.minor)), (Some("due_at"), local_full(p.promise.due_at))];
        push(p.created_at, "promise", vec![p.status.as_str()], facts, None, Some(p.created_by.clone()));
        if p.status == daylight_domain::agreement::PromiseStatus::Pending {
            pending.push((p.id, yuan(p.promise.amount.minor), local_full(p.promise.due_at)));
        }
    }
    for p in &d.payments {
        push(p.paid_at, "payment", vec![p.channel.as_str()], vec![(None, yuan(p.amount.minor))], None, None);
    }
    for m in &d.bucket_moves {
        let facts =
            vec![(None, format!("{} → {}", m.from.label(), m.to.label())), (Some("dpd"), m.dpd.to_string())];
        push(m.at, "bucket", Vec::new(), facts, None, None);
    }
    for a in &d.arrangements {
        let status = a.status.to_string();
        let facts = vec![
            (None, yuan(a.arrangement.terms.total.minor)),
            (Some("instalments_short"), a.arrangement.terms.instalments.to_string()),
        ];
        let status: &str = &status;
        push(
            a.proposed_at,
            "arrangement",
            vec![status],
            facts,
            a.decision_note.clone(),
            Some(a.proposed_by.clone()),
        );
    }
    for w in &d.waivers {
        let terms = vec![w.waiver.component.as_str(), w.status.as_str()];
        let facts = vec![(None, yuan(w.waiver.amount.minor))];
        push(w.requested_at, "waiver", terms, facts, w.decision_note.clone(), Some(w.requested_by.clone()));
    }
    for c in &d.status_changes {
        let mut terms = vec![c.from.as_str(), c.change.to.as_str()];
        if let Some(r) = c.change.reason {
            terms.push(r.as_str());
        }
        let facts = vec![(Some("owed_now"), yuan(c.owed_fen))];
        push(c.changed_at, "status", terms, facts, Some(c.change.note.clone()), Some(c.changed_by.clone()));
    }
    timeline.sort_by(|a, b| b.instant.cmp(&a.instant));
    CaseView {
        id: d.case.id.as_str().to_owned(),
        customer: d.case.customer.as_str().to_owned(),
        status: d.case.status,
        bucket: d.case.bucket.label().to_owned(),
        dpd: d.case.max_dpd,
        team: d.case.team.clone(),
        collector: d.case.collector.clone(),
        agency: d.case.agency.clone(),
        name: mask_name(d.customer.name.expose()),
        resident_id: d.customer.resident_id.masked(),
        address: d.customer.address.as_ref().map(|a| mask_address(a.expose())),
        employer: d.customer.employer.as_deref().map(daylight_domain::pii::mask_employer),
        overdue: yuan(overdue),
        accounts,
        contacts,
        suggestion,
        timeline,
        pending_promises: pending,
        attempt_choices: d
            .attempts
            .iter()
            .take(20)
            .map(|a| (a.id, local_full(a.attempt.at), a.attempt.outcome.as_str().to_owned()))
            .collect(),
        qc: Vec::new(),
        number_proposals: Vec::new(),
    }
}

/// A contact to record: made now by the caller.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// The contact point called.
    pub contact_point: String,
    /// `call` (default), `sms`, …
    #[serde(default)]
    pub channel: Option<String>,
    /// The outcome: `no_answer`, `promise_to_pay`, `conversation`, … (see the domain's list).
    pub outcome: String,
    /// The call's length in seconds.
    #[serde(default)]
    pub duration_secs: Option<u32>,
    /// The note (催记).
    #[serde(default)]
    pub note: Option<String>,
}

/// What the gate answered for a recorded contact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactRecorded {
    /// The attempt's id.
    pub attempt: i64,
    /// The pack that allowed it.
    pub pack: String,
}

fn parse_word<T: std::str::FromStr<Err = daylight_domain::Invalid>>(field: &str, v: &str) -> ApiResult<T> {
    v.parse::<T>().map_err(|e| ApiError::field(field, e.code.as_str(), e.message))
}

/// Records a contact the caller made now, through the gate. A denial is 409 with the rule's
/// code and the next allowed time; nothing but the denial is stored.
pub async fn record_contact(
    app: &AppState,
    caller: &Caller,
    id: &str,
    c: &NewContact,
) -> ApiResult<ContactRecorded> {
    caller.require(Permission::WorkCases, "record contacts")?;
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    // One read gives the scope check, the contact points and the account.
    let d = app.store.case_detail_in(&caller.scope, &case).await?;
    let channel: Channel = parse_word("channel", c.channel.as_deref().unwrap_or("call"))?;
    let outcome: Outcome = parse_word("outcome", &c.outcome)?;
    if outcome == Outcome::Interrupted {
        return Err(ApiError::field(
            "outcome",
            "OUTCOME_SYSTEM_ONLY",
            "interrupted is recorded by the switch for a call cut off by a server stop, not typed in",
        ));
    }
    let point_id = ContactId::parse(&c.contact_point)
        .map_err(|e| ApiError::field("contact_point", e.code.as_str(), e.message))?;
    let Some(p) = d.contacts.iter().find(|p| p.id == point_id) else {
        return Err(ApiError::field(
            "contact_point",
            "NOT_FOUND",
            format!("case {id} has no contact point {}", c.contact_point),
        ));
    };
    let note = c.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    let now = app.now();
    let attempt = Attempt {
        case: case.clone(),
        // The gate picks the account the contact is about, as it does for "can call now".
        account: None,
        at: now,
        channel,
        recipient: p.role.recipient(),
        contact_point: Some(point_id.clone()),
        agent: agent_of(caller),
        outcome,
        duration_secs: c.duration_secs.unwrap_or(0),
        note,
    };
    // A third party is called only with a team lead's confirmation, which the gate reads.
    let gated = app.store.record_attempt(&attempt, &caller.user.login, now).await?;
    match gated.id {
        Some(attempt) => Ok(ContactRecorded { attempt, pack: gated.pack }),
        None => {
            let rules: Vec<&str> = gated.decision.violations.iter().map(|r| r.code()).collect();
            let next = gated.decision.next_allowed_at.map(local_full).unwrap_or_else(|| "—".into());
            let first = rules.first().copied().unwrap_or("DENIED");
            Err(ApiError::new(
                StatusCode::CONFLICT,
                first,
                format!("the gate refused the contact ({}); next allowed at {next}", rules.join(", ")),
            ))
        }
    }
}

/// A promise to lock.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPromiseInput {
    /// Amount in yuan (`2000` or `2000.50`).
    pub amount: String,
    /// Due date, `YYYY-MM-DD`.
    pub date: String,
    /// Due time, `HH:MM` (default 18:00).
    #[serde(default)]
    pub time: Option<String>,
    /// The attempt in which it was made.
    #[serde(default)]
    pub attempt: Option<i64>,
    /// The account it pays, one of the case's; none (the console's form): the case, so it is
    /// bounded by what all its accounts owe.
    #[serde(default)]
    pub account: Option<String>,
}

/// Locks a promise to pay on a case in scope. Returns its id.
pub async fn lock_promise(app: &AppState, caller: &Caller, id: &str, p: &NewPromiseInput) -> ApiResult<i64> {
    caller.require(Permission::WorkCases, "lock promises")?;
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    // One read gives the scope check and the account the promise pays.
    let d = app.store.case_detail_in(&caller.scope, &case).await?;
    let amount = Money::parse(p.amount.trim(), Currency::Cny)
        .map_err(|e| ApiError::field("amount", e.code.as_str(), e.message))?;
    if amount.minor <= 0 {
        return Err(ApiError::field("amount", "AMOUNT_RANGE", "a promise is for more than 0"));
    }
    let now = app.now();
    let due_at = promise_due(&p.date, p.time.as_deref(), now)?;
    let account = match p.account.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => {
            let id =
                AccountId::parse(a).map_err(|e| ApiError::field("account", e.code.as_str(), e.message))?;
            if !d.accounts.iter().any(|x| x.account.id == id) {
                return Err(ApiError::field("account", "NOT_FOUND", "not one of the case's accounts"));
            }
            Some(id)
        }
    };
    let promise = NewPromise { case, account, attempt: p.attempt, amount, due_at };
    Ok(app.store.create_promise(&promise, &caller.user.login, now).await?)
}

/// A change to a pending promise: new terms, or a cancellation, always with a reason.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseChangeInput {
    /// `true` to cancel it (replaced by a plan, say); otherwise `amount` and `date` are the
    /// new terms.
    #[serde(default)]
    pub cancel: bool,
    /// New amount, yuan.
    #[serde(default)]
    pub amount: Option<String>,
    /// New due date, `YYYY-MM-DD`.
    #[serde(default)]
    pub date: Option<String>,
    /// New due time, `HH:MM` (default 18:00).
    #[serde(default)]
    pub time: Option<String>,
    /// Why (required).
    pub reason: String,
}

/// The due time of a promise from the date and time a person typed (the team's zone).
fn promise_due(date: &str, time: Option<&str>, now: Timestamp) -> ApiResult<Timestamp> {
    let date: jiff::civil::Date =
        date.trim().parse().map_err(|_| ApiError::field("date", "DATE_FORMAT", "expected YYYY-MM-DD"))?;
    let time_text = time.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("18:00");
    let time: jiff::civil::Time =
        time_text.parse().map_err(|_| ApiError::field("time", "DATE_TIME_FORMAT", "expected HH:MM"))?;
    let due_at = date
        .to_datetime(time)
        .to_zoned(team_zone())
        .map_err(|_| ApiError::field("date", "DATE_FORMAT", "not a time in the team's zone"))?
        .timestamp();
    if due_at <= now {
        return Err(ApiError::field("date", "DATE_RANGE", "a promise falls due in the future"));
    }
    Ok(due_at)
}

/// Amends or cancels a pending promise of a case in scope, with a reason. Returns the
/// promise's id.
pub async fn change_promise(
    app: &AppState,
    caller: &Caller,
    id: &str,
    promise: i64,
    p: &PromiseChangeInput,
) -> ApiResult<i64> {
    caller.require(Permission::WorkCases, "change promises")?;
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    let d = app.store.case_detail_in(&caller.scope, &case).await?;
    if !d.promises.iter().any(|x| x.id == promise) {
        return Err(ApiError::not_found("promise", &promise.to_string()));
    }
    if p.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "REQUIRED", "say why the promise changes"));
    }
    let edit = if p.cancel {
        PromiseEdit::Cancel
    } else {
        let amount_text = p.amount.as_deref().unwrap_or_default();
        let amount = Money::parse(amount_text.trim(), Currency::Cny)
            .map_err(|e| ApiError::field("amount", e.code.as_str(), e.message))?;
        let date = p.date.as_deref().unwrap_or_default();
        PromiseEdit::Amend { amount, due_at: promise_due(date, p.time.as_deref(), app.now())? }
    };
    let change = PromiseChange { edit, reason: p.reason.trim().to_owned() };
    app.store.change_promise(promise, &change, &caller.user.login, app.now()).await?;
    Ok(promise)
}

/// A repayment plan as proposed: the terms in the units a person types.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanTerms {
    /// The amount the plan repays, yuan (`12000` or `12000.50`).
    pub total: String,
    /// Monthly instalments, 1–60.
    pub instalments: u32,
    /// Monthly fee in basis points of the total (60 = 0.60 % a month), at most 200.
    #[serde(default)]
    pub monthly_fee_bp: u32,
    /// First instalment's due date, `YYYY-MM-DD`; the rest fall on the same day of later months.
    pub first_due: String,
}

/// One instalment of a quote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteLine {
    /// 1-based.
    pub number: u32,
    /// Due date.
    pub due: String,
    /// Principal, yuan.
    pub principal: String,
    /// Fee, yuan.
    pub fee: String,
    /// Principal and fee, yuan.
    pub amount: String,
}

/// What a plan costs the debtor, instalment by instalment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Quote {
    /// The schedule.
    pub schedule: Vec<QuoteLine>,
    /// Fees over the plan, yuan.
    pub total_fees: String,
    /// Everything the debtor pays, yuan.
    pub total_due: String,
}

fn plan_terms(t: &PlanTerms) -> ApiResult<daylight_domain::agreement::ArrangementTerms> {
    let total = Money::parse(t.total.trim(), Currency::Cny)
        .map_err(|e| ApiError::field("total", e.code.as_str(), e.message))?;
    let first_due: jiff::civil::Date = t
        .first_due
        .trim()
        .parse()
        .map_err(|_| ApiError::field("first_due", "DATE_FORMAT", "expected YYYY-MM-DD"))?;
    let terms = daylight_domain::agreement::ArrangementTerms {
        total,
        instalments: t.instalments,
        monthly_fee_bp: t.monthly_fee_bp,
        first_due,
    };
    if !(1..=daylight_domain::agreement::MAX_INSTALMENTS).contains(&t.instalments) {
        return Err(ApiError::field("instalments", "ARRANGEMENT", "1 to 60 monthly instalments"));
    }
    terms.check().map_err(|e| {
        let field = if t.monthly_fee_bp > daylight_domain::agreement::MAX_MONTHLY_FEE_BP {
            "monthly_fee_bp"
        } else {
            "total"
        };
        ApiError::field(field, e.code.as_str(), e.message)
    })?;
    Ok(terms)
}

/// The schedule and fees of a plan (the calculator; nothing is stored).
pub fn quote(t: &PlanTerms) -> ApiResult<Quote> {
    let terms = plan_terms(t)?;
    let schedule = terms.schedule().map_err(|e| ApiError::field("first_due", e.code.as_str(), e.message))?;
    let fees: i64 = schedule.iter().map(|i| i.fee.minor).sum();
    Ok(Quote {
        schedule: schedule
            .iter()
            .map(|i| QuoteLine {
                number: i.number,
                due: i.due.to_string(),
                principal: yuan(i.principal.minor),
                fee: yuan(i.fee.minor),
                amount: yuan(i.principal.minor + i.fee.minor),
            })
            .collect(),
        total_fees: yuan(fees),
        total_due: yuan(terms.total.minor + fees),
    })
}

/// Proposes a repayment plan on a case in scope; it waits for a team lead's approval.
pub async fn propose_plan(app: &AppState, caller: &Caller, id: &str, t: &PlanTerms) -> ApiResult<i64> {
    caller.require(Permission::WorkCases, "propose repayment plans")?;
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    app.store.case_in_scope(&caller.scope, &case).await?;
    let terms = plan_terms(t)?;
    if terms.first_due < app.now().to_zoned(team_zone()).date() {
        return Err(ApiError::field(
            "first_due",
            "DATE_RANGE",
            "the first instalment falls due today or later",
        ));
    }
    let plan = daylight_store::model::NewArrangement { case, account: None, terms };
    Ok(app.store.propose_arrangement(&plan, &caller.user.login, app.now()).await?)
}

/// A plan waiting for approval.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingPlan {
    /// The plan's id.
    pub id: i64,
    /// The case.
    pub case: String,
    /// Who proposed it.
    pub proposed_by: String,
    /// When, local.
    pub proposed_at: String,
    /// Total, yuan.
    pub total: String,
    /// Instalments.
    pub instalments: u32,
    /// Monthly fee, basis points.
    pub monthly_fee_bp: u32,
    /// First due date.
    pub first_due: String,
}

/// The plans waiting for the caller's approval (their scope's).
pub async fn pending_plans(app: &AppState, caller: &Caller) -> ApiResult<Vec<PendingPlan>> {
    caller.require(Permission::Approve, "approve repayment plans")?;
    let list = app
        .store
        .arrangements_in(&caller.scope, Some(daylight_domain::agreement::ArrangementStatus::Proposed), 1_000)
        .await?;
    Ok(list
        .into_iter()
        .map(|a| PendingPlan {
            id: a.id,
            case: a.arrangement.case.as_str().to_owned(),
            proposed_by: a.proposed_by,
            proposed_at: local_full(a.proposed_at),
            total: yuan(a.arrangement.terms.total.minor),
            instalments: a.arrangement.terms.instalments,
            monthly_fee_bp: a.arrangement.terms.monthly_fee_bp,
            first_due: a.arrangement.terms.first_due.to_string(),
        })
        .collect())
}

/// Approves or rejects a plan waiting in the caller's scope (not one they proposed).
pub async fn decide_plan(
    app: &AppState,
    caller: &Caller,
    plan: i64,
    approve: bool,
    reason: Option<&str>,
) -> ApiResult<()> {
    caller.require(Permission::Approve, "approve repayment plans")?;
    let waiting = pending_plans(app, caller).await?;
    if !waiting.iter().any(|p| p.id == plan) {
        return Err(ApiError::not_found("repayment plan waiting for approval", &plan.to_string()));
    }
    if !approve {
        let what = daylight_store::model::Decidable::Arrangement;
        return crate::desk::reject(app, caller, what, plan, reason, "plan").await;
    }
    let status = if approve {
        daylight_domain::agreement::ArrangementStatus::Approved
    } else {
        daylight_domain::agreement::ArrangementStatus::Rejected
    };
    app.store.decide_arrangement(plan, status, &caller.user.login, app.now()).await.map_err(|e| {
        let code = e.code();
        if code == "SELF_APPROVAL" {
            ApiError::new(
                StatusCode::FORBIDDEN,
                code,
                "a plan is approved by someone other than who proposed it",
            )
        } else {
            e.into()
        }
    })
}

/// Closes the given cases within the caller's scope for `reason` (a word of
/// [`CloseReason`]), all in one transaction (all or none).
pub async fn close_cases(
    app: &AppState,
    caller: &Caller,
    ids: &[String],
    reason: &str,
    note: &str,
) -> ApiResult<usize> {
    caller.require(Permission::Close, "close cases")?;
    if ids.is_empty() {
        return Err(ApiError::field("cases", "REQUIRED", "select at least one case"));
    }
    if ids.len() > 1_000 {
        return Err(ApiError::field("cases", "TOO_LONG", "at most 1,000 cases at once"));
    }
    let reason: CloseReason = parse_word("reason", reason)?;
    if note.trim().is_empty() {
        return Err(ApiError::field("note", "REQUIRED", "say in words why the cases close"));
    }
    let cases = ids
        .iter()
        .map(|id| CaseId::parse(id).map_err(|_| ApiError::not_found("case", id)))
        .collect::<ApiResult<Vec<_>>>()?;
    let change = StatusChange::close(reason, note.trim());
    app.store.set_cases_status(&caller.scope, &cases, &change, &caller.user.login, app.now()).await?;
    Ok(cases.len())
}

/// Reopens a closed case within the caller's scope.
pub async fn reopen_case(app: &AppState, caller: &Caller, id: &str, note: &str) -> ApiResult<()> {
    caller.require(Permission::Reopen, "reopen cases")?;
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    if note.trim().is_empty() {
        return Err(ApiError::field("note", "REQUIRED", "say in words why the case reopens"));
    }
    let change = StatusChange::new(CaseStatus::Open, note.trim());
    app.store
        .set_cases_status(&caller.scope, std::slice::from_ref(&case), &change, &caller.user.login, app.now())
        .await?;
    Ok(())
}

/// The caller's open cases as a team lead sees them (with who works each), worst first.
pub async fn team_cases(app: &AppState, caller: &Caller) -> ApiResult<Vec<QueueItem>> {
    Ok(open_cases(app, caller).await?.into_iter().map(|s| QueueItem::new(s, None)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calculator_splits_the_total_and_adds_the_fee() {
        let t = PlanTerms {
            total: "10000".into(),
            instalments: 3,
            monthly_fee_bp: 60,
            first_due: "2026-01-31".into(),
        };
        let q = quote(&t).unwrap();
        let due: Vec<&str> = q.schedule.iter().map(|l| l.due.as_str()).collect();
        assert_eq!(due, ["2026-01-31", "2026-02-28", "2026-03-31"]);
        assert_eq!(q.schedule[0].principal, "3,333.34");
        assert_eq!(q.schedule[2].principal, "3,333.33");
        assert_eq!(q.schedule[0].fee, "60.00");
        assert_eq!((q.total_fees.as_str(), q.total_due.as_str()), ("180.00", "10,180.00"));
        let too_many = PlanTerms { instalments: 61, ..t.clone() };
        assert_eq!(quote(&too_many).unwrap_err().field.as_deref(), Some("instalments"));
        let dear = PlanTerms { monthly_fee_bp: 500, ..t };
        assert_eq!(quote(&dear).unwrap_err().field.as_deref(), Some("monthly_fee_bp"));
    }

    #[test]
    fn yuan_groups_thousands() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(123_456_789), "1,234,567.89");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(100_000), "1,000.00");
    }
}
