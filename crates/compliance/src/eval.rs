//! Decisions: whether a contact may be made now, which rules forbid it, and when it may.

use daylight_domain::attempt::{Channel, Outcome, OutcomeClass};
use daylight_domain::customer::{ContactStatus, Recipient};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::calendar::DayKind;
use crate::error::PolicyError;
use crate::pack::{Channels, MAX_WINDOW_DAYS, Pack, Rule, ThirdPartyWhen};
use crate::time::{DAY, Offsets, ceil_minute, epoch_day, instant, local_of, secs};

/// Per-recipient facts the caller knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// The debtor asked us to stop (`CEASE`).
    pub cease: bool,
    /// Channels the recipient opted out of (`OPT_OUT`).
    pub opt_out: Channels,
    /// The debtor consented to contact outside the usual hours.
    pub consented_hours: bool,
}

/// A contact somebody wants to make (or has made and wants recorded).
#[derive(Debug, Clone)]
pub struct Request {
    /// When; `None` means the `now` given to [`evaluate`].
    pub at: Option<Timestamp>,
    /// How.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// The recipient's possible time zones, first one first: every zone must allow the hour and
    /// days are the first zone's calendar days. Never empty (see [`Request::new`]).
    pub zones: Vec<TimeZone>,
    /// The debt (account) the contact is about.
    pub debt: Option<String>,
    /// The phone, address or mailbox used.
    pub contact_point: Option<String>,
    /// The day the current cycle started, in the first zone.
    pub cycle_start: Option<Date>,
    /// The operator confirmed a third-party contact is needed.
    pub confirmed_third_party: bool,
    /// Every debtor number known, for "every known debtor number is invalid". When empty, the
    /// numbers seen in the history are used.
    pub debtor_contact_points: Vec<String>,
    /// Flags.
    pub flags: Flags,
    /// What is known of the contact point used (`NUMBER_*` rules); `None`: nothing known.
    pub point_status: Option<PointStatus>,
    /// The case the contact is about is closed (`CASE_CLOSED`).
    pub case_closed: bool,
    /// Contacts made through the same physical number but not on this debtor's record of it
    /// (another debtor's number, or another of the debtor's contact points carrying it). Only
    /// the rules that count per number read them: `UNANSWERED_CAP` and the third-party caps per
    /// number.
    pub same_number: Vec<Contact>,
    /// No collector is on the line when the recipient answers: a robot's call, a predictive
    /// dialler's (`ABANDONED_REDIAL`).
    pub unattended: bool,
}

/// What screening and outcomes have found of a contact point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointStatus {
    /// The status.
    pub status: ContactStatus,
    /// When it was set (a switched-off number is retried from the next local day).
    pub since: Timestamp,
}

impl Request {
    /// A request with the defaults: now, no debt, no contact point, no cycle start, no flags.
    pub fn new(channel: Channel, recipient: Recipient, zones: Vec<TimeZone>) -> Result<Request, PolicyError> {
        if zones.is_empty() {
            return Err(PolicyError::request("time_zones", "name at least one time zone"));
        }
        Ok(Request {
            at: None,
            channel,
            recipient,
            zones,
            debt: None,
            contact_point: None,
            cycle_start: None,
            confirmed_third_party: false,
            debtor_contact_points: Vec::new(),
            flags: Flags::default(),
            point_status: None,
            case_closed: false,
            same_number: Vec::new(),
            unattended: false,
        })
    }
}

/// An earlier (or already booked) contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// When it started.
    pub at: Timestamp,
    /// How.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// The phone, address or mailbox used; `None` counts as any of them.
    pub contact_point: Option<String>,
    /// The debt it was about; `None` counts as every debt.
    pub debt: Option<String>,
    /// What came of it; `None` while it is still going on, which counts as whatever is worst
    /// for each rule.
    pub outcome: Option<Outcome>,
}

/// The engine's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the contact may be made at the requested time.
    pub allowed: bool,
    /// Every rule it breaks, in [`Rule::ALL`] order; [`Pack::text`] gives each rule's texts and
    /// citation.
    pub violations: Vec<Rule>,
    /// The earliest whole minute at or after the requested time (or the requested time itself)
    /// at which the same request with the same history is allowed; `None` when nothing allows
    /// it within 400 days.
    pub next_allowed_at: Option<Timestamp>,
    /// The day was judged by a provisional year (the pack judges dates past its calendar's last
    /// year by statutory days and weekends until the State Council's notice is entered).
    pub provisional: bool,
}

/// How far [`evaluate`] looks for the next allowed time.
pub const HORIZON_DAYS: i64 = 400;

/// Judges `request` under `pack` given the recipient's `history`.
///
/// `now` stands in for a request without a time; the engine reads no clock.
pub fn evaluate(pack: &Pack, request: &Request, history: &[Contact], now: Timestamp) -> Decision {
    let at = request.at.unwrap_or(now);
    let provisional = pack.holiday.as_ref().is_some_and(|h| h.channels.has(request.channel))
        && pack.calendar.is_provisional(local_of(&request.zones[0], at).0);
    let first = check(pack, request, history, at);
    if first.violated == 0 {
        return Decision { allowed: true, violations: Vec::new(), next_allowed_at: Some(at), provisional };
    }
    let violations = Rule::ALL.iter().copied().filter(|r| first.violated & r.bit() != 0).collect();
    let next_allowed_at = search(pack, request, history, at, first.hint);
    Decision { allowed: false, violations, next_allowed_at, provisional }
}

/// Whether `request` is allowed at `t` (for tests and callers that only need the verdict).
pub fn allowed_at(pack: &Pack, request: &Request, history: &[Contact], t: Timestamp) -> bool {
    check(pack, request, history, t).violated == 0
}

/// The rules broken at one instant and the earliest instant any of them could stop applying.
struct Verdict {
    violated: u32,
    /// A lower bound on the first later instant at which every broken rule could be kept; `None`
    /// when one of them can never be.
    hint: Option<Timestamp>,
}

impl Verdict {
    #[inline]
    fn deny(&mut self, rule: Rule, clears: Option<Timestamp>) {
        self.hint = if self.violated == 0 {
            clears
        } else {
            match (self.hint, clears) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            }
        };
        self.violated |= rule.bit();
    }
}

fn search(
    pack: &Pack,
    req: &Request,
    history: &[Contact],
    at: Timestamp,
    mut hint: Option<Timestamp>,
) -> Option<Timestamp> {
    let limit = at.checked_add(SignedDuration::from_hours(HORIZON_DAYS * 24)).unwrap_or(Timestamp::MAX);
    let mut last = at;
    loop {
        let after = last.checked_add(SignedDuration::from_nanos(1)).ok()?;
        let t = ceil_minute(hint?.max(after));
        if t > limit {
            return None;
        }
        let v = check(pack, req, history, t);
        if v.violated == 0 {
            return Some(t);
        }
        hint = v.hint;
        last = t;
    }
}

#[inline]
fn same(want: Option<&str>, have: Option<&str>) -> bool {
    match (want, have) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

#[inline]
fn is_conversation(o: Option<Outcome>) -> bool {
    o.is_none_or(|o| o.class() == OutcomeClass::Conversation)
}

/// Failed, or still going on (which may yet fail).
#[inline]
fn is_failed_or_going(o: Option<Outcome>) -> bool {
    o.is_none_or(|o| o.class() == OutcomeClass::Failed)
}

#[inline]
fn is_failed(o: Option<Outcome>) -> bool {
    o.is_some_and(|o| o.class() == OutcomeClass::Failed)
}

/// Width of the per-day count arrays: days `-(W-1) ..= W-1` around the request's day.
const W: i32 = MAX_WINDOW_DAYS;
const SPAN: usize = (2 * W - 1) as usize;

fn check(pack: &Pack, req: &Request, history: &[Contact], t: Timestamp) -> Verdict {
    let mut v = Verdict { violated: 0, hint: None };
    let chan = req.channel;
    if req.case_closed {
        v.deny(Rule::CaseClosed, None);
    }
    if let Some(p) = req.point_status {
        screened(p, req, t, &mut v);
    }
    if req.flags.cease && !pack.cease.allowed.has(chan) {
        v.deny(Rule::Cease, None);
    }
    if req.flags.opt_out.has(chan) {
        v.deny(Rule::OptOut, None);
    }
    let z0 = &req.zones[0];
    let ts = secs(t);
    let reach = i64::from(pack.reach_days) * DAY;
    let offsets = Offsets::cached(z0, ts - reach, ts + reach);
    let (today, second) = offsets.local(ts);
    // The first instant of a day at which the pack could allow this contact: local midnight, or
    // the opening hour when the hours rule binds the channel (a lower bound, and one search step
    // fewer for every rule that clears at a day's start).
    let day_from = match &pack.hours {
        Some(h) if h.channels.has(chan) && !(h.consent_lifts && req.flags.consented_hours) => h.from,
        _ => 0,
    };
    let opens = |day: i32| instant(z0, day, day_from);

    if let Some(h) = &pack.hours
        && h.channels.has(chan)
        && !(h.consent_lifts && req.flags.consented_hours)
    {
        let mut opens: Option<Timestamp> = None;
        for (i, z) in req.zones.iter().enumerate() {
            let (day, sec) = if i == 0 { (today, second) } else { local_of(z, t) };
            if sec < h.from || sec >= h.until {
                let day = if sec < h.from { day } else { day + 1 };
                let open = instant(z, day, h.from);
                opens = Some(opens.map_or(open, |o| o.max(open)));
            }
        }
        if opens.is_some() {
            v.deny(Rule::Hours, opens);
        }
    }

    if let Some(hol) = &pack.holiday
        && hol.channels.has(chan)
    {
        match pack.calendar.kind_of_day(today) {
            DayKind::Uncovered => {
                v.deny(Rule::CalendarMissing, pack.calendar.next_covered_day(today).map(opens))
            }
            DayKind::DayOff => v.deny(Rule::Holiday, pack.calendar.next_open_day(today).map(opens)),
            DayKind::Ordinary | DayKind::MakeUpWorkday => {}
        }
    }

    if chan.is_call() {
        caps(pack, req, history, &offsets, (ts, today), &mut v, opens);
        if req.unattended
            && let Some(a) = &pack.abandonment
        {
            abandoned_redial(a, req, history, ts, &mut v);
        }
    }
    if req.recipient == Recipient::ThirdParty {
        third_party(pack, req, history, &offsets, t, today, &mut v, opens);
    }
    v
}

/// `ABANDONED_REDIAL`: the latest call to the same number (this point, or the same physical
/// number on another record) abandoned, or still going on, within `redial_hours` before `ts`
/// keeps unattended calls off the number until the hours have passed.
fn abandoned_redial(
    a: &crate::pack::Abandonment,
    req: &Request,
    history: &[Contact],
    ts: i64,
    v: &mut Verdict,
) {
    let point = req.contact_point.as_deref();
    let span = i64::from(a.redial_hours) * 3600;
    let latest = history
        .iter()
        .filter(|c| same(point, c.contact_point.as_deref()))
        .chain(req.same_number.iter())
        .filter(|c| c.channel.is_call() && c.outcome.is_none_or(|o| o == Outcome::Abandoned))
        .map(|c| secs(c.at))
        .filter(|s| *s <= ts && ts < s + span)
        .max();
    if let Some(s) = latest {
        v.deny(Rule::AbandonedRedial, Timestamp::from_second(s + span).ok());
    }
}

/// The number's status: an invalid or suspended number is refused until the status changes (a
/// correction, a screening); a switched-off one for the rest of the local day it was found.
fn screened(p: PointStatus, req: &Request, t: Timestamp, v: &mut Verdict) {
    match p.status {
        ContactStatus::Invalid => v.deny(Rule::NumberInvalid, None),
        ContactStatus::Suspended => v.deny(Rule::NumberSuspended, None),
        ContactStatus::PoweredOff => {
            let zone = &req.zones[0];
            let (found, now) = (local_of(zone, p.since).0, local_of(zone, t).0);
            if found == now {
                v.deny(Rule::NumberPoweredOff, Some(instant(zone, now + 1, 0)));
            }
        }
        ContactStatus::Unknown | ContactStatus::Valid => {}
    }
}

/// The day-counting caps on call attempts.
fn caps(
    pack: &Pack,
    req: &Request,
    history: &[Contact],
    offsets: &Offsets,
    (ts, today): (i64, i32),
    v: &mut Verdict,
    opens: impl Fn(i32) -> Timestamp,
) {
    let party = req.recipient != Recipient::ThirdParty;
    let wants_calls = party && (pack.daily_cap.is_some() || pack.cycle_cap.is_some());
    let seven = pack.seven_in_seven.as_ref().filter(|_| party);
    let after = pack.after_conversation.as_ref().filter(|_| party);
    let conv_cap = pack.conversation_cap.as_ref().filter(|_| party);
    let unanswered = pack.unanswered_cap.as_ref();
    if !(wants_calls || seven.is_some() || after.is_some() || conv_cap.is_some() || unanswered.is_some()) {
        return;
    }
    let mut calls = [0u16; SPAN];
    let mut counted = [0u16; SPAN];
    let (mut conv_today, mut failed_here, mut last_conv) = (0u32, 0u32, i32::MIN);
    let debt = req.debt.as_deref();
    let point = req.contact_point.as_deref();
    // Outside the span `offsets` covers, no rule counts an attempt.
    let lo = ts - i64::from(pack.reach_days) * DAY;
    let hi = ts + i64::from(pack.reach_days) * DAY;
    for c in history {
        if !c.channel.is_call() {
            continue;
        }
        let s = secs(c.at);
        if s < lo || s > hi {
            continue;
        }
        let rel = offsets.day(s) - today;
        if rel <= -W || rel >= W {
            continue;
        }
        let idx = (rel + W - 1) as usize;
        // A call still going on may yet fail: it counts here.
        if unanswered.is_some()
            && rel == 0
            && is_failed_or_going(c.outcome)
            && same(point, c.contact_point.as_deref())
        {
            failed_here += 1;
        }
        if c.recipient != req.recipient || !party {
            continue;
        }
        calls[idx] += 1;
        if rel == 0 && is_conversation(c.outcome) {
            conv_today += 1;
        }
        if (seven.is_some() || after.is_some()) && same(debt, c.debt.as_deref()) {
            if let Some(s) = seven
                && c.outcome.is_none_or(|o| !s.uncounted.contains(&o))
            {
                counted[idx] += 1;
            }
            if rel <= 0 && is_conversation(c.outcome) {
                last_conv = last_conv.max(rel);
            }
        }
    }

    if let Some(cap) = pack.daily_cap.as_ref().filter(|_| party)
        && u32::from(calls[(W - 1) as usize]) >= cap.max
    {
        v.deny(Rule::DailyCap, Some(opens(today + 1)));
    }
    if let Some(cap) = pack.cycle_cap.as_ref().filter(|_| party) {
        match req.cycle_start {
            Some(start) => {
                let (lo, hi) = cycle(start, today);
                let n: u32 = (lo..hi)
                    .filter(|d| (d - today).abs() < W)
                    .map(|d| u32::from(calls[(d - today + W - 1) as usize]))
                    .sum();
                if n >= cap.max {
                    v.deny(Rule::CycleCap, Some(opens(hi)));
                }
            }
            None => {
                if window_full(&calls, (W - 1) as usize, cap.rolling_days, cap.max) {
                    let r = window_clears(&calls, cap.rolling_days, cap.max);
                    v.deny(Rule::CycleCap, Some(opens(today + r)));
                }
            }
        }
    }
    if let Some(cap) = conv_cap
        && conv_today >= cap.max
    {
        v.deny(Rule::ConversationCap, Some(opens(today + 1)));
    }
    if unanswered.is_some() {
        failed_here += req
            .same_number
            .iter()
            .filter(|c| c.channel.is_call() && is_failed_or_going(c.outcome))
            .filter(|c| (lo..=hi).contains(&secs(c.at)) && offsets.day(secs(c.at)) == today)
            .count() as u32;
    }
    if let Some(cap) = unanswered
        && failed_here >= cap.max
    {
        v.deny(Rule::UnansweredCap, Some(opens(today + 1)));
    }
    if let Some(s) = seven
        && window_full(&counted, (W - 1) as usize, s.days, s.max)
    {
        let r = window_clears(&counted, s.days, s.max);
        v.deny(Rule::SevenInSeven, Some(opens(today + r)));
    }
    if let Some(a) = after
        && last_conv > -a.days
    {
        v.deny(Rule::AfterConversation, Some(opens(today + last_conv + a.days)));
    }
}

/// A `cycle_start` for statements on day `statement_day` of each month: the latest date on or
/// before `date` that falls on that very day (so a statement day of 31 gives a 31st). Cycles run
/// from it by whole months, each month's boundary on that day or, in a shorter month, its last
/// day: statement day 31 gives 31 Jan – 28 Feb – 31 Mar, never drifting to the 28th.
pub fn statement_anchor(statement_day: i8, date: Date) -> Date {
    let day = statement_day.clamp(1, 31);
    let mut month = date.first_of_month();
    for _ in 0..24 {
        if let Ok(d) = month.with().day(day).build()
            && d <= date
        {
            return d;
        }
        month = month.yesterday().map(|d| d.first_of_month()).unwrap_or(month);
    }
    date
}

/// Whether one more attempt on the day at index `at` of `counts` would put more than `max`
/// into some window of `days` days that contains that day.
#[inline]
fn window_full(counts: &[u16; SPAN], at: usize, days: i32, max: u32) -> bool {
    let days = days as usize;
    let mut sum: u32 = counts[at + 1 - days..=at].iter().map(|c| u32::from(*c)).sum();
    if sum >= max {
        return true;
    }
    for start in at + 2 - days..=at {
        sum = sum + u32::from(counts[start + days - 1]) - u32::from(counts[start - 1]);
        if sum >= max {
            return true;
        }
    }
    false
}

/// The first day after today (as days from today) on which one more attempt fits every window
/// of `days` days; past what the counts can judge, the first day they cannot (a lower bound).
fn window_clears(counts: &[u16; SPAN], days: i32, max: u32) -> i32 {
    let today = (W - 1) as usize;
    (1..=W - days).find(|r| !window_full(counts, today + *r as usize, days, max)).unwrap_or(W - days + 1)
}

/// The cycle containing `today`: from `start` plus a whole number of months to the same day a
/// month later, as local days.
fn cycle(start: Date, today: i32) -> (i32, i32) {
    let d = crate::time::date_of(today);
    let months = (i32::from(d.year()) - i32::from(start.year())) * 12 + i32::from(d.month())
        - i32::from(start.month());
    let at = |k: i32| {
        start.checked_add(jiff::Span::new().months(k)).map(epoch_day).unwrap_or(if k < 0 {
            i32::MIN / 2
        } else {
            i32::MAX / 2
        })
    };
    let mut k = months;
    if at(k) > today {
        k -= 1;
    }
    if at(k + 1) <= today {
        k += 1;
    }
    (at(k), at(k + 1))
}

#[allow(clippy::too_many_arguments)]
fn third_party(
    pack: &Pack,
    req: &Request,
    history: &[Contact],
    offsets: &Offsets,
    t: Timestamp,
    today: i32,
    v: &mut Verdict,
    opens: impl Fn(i32) -> Timestamp,
) {
    let tp = &pack.third_party;
    let point = req.contact_point.as_deref();
    let (mut today_here, mut ever_here) = (0u32, 0u32);
    // The first history entry after `t`: the only instant the debtor's record can change.
    let mut next_change: Option<Timestamp> = None;
    for c in history {
        if c.recipient == Recipient::ThirdParty && same(point, c.contact_point.as_deref()) {
            ever_here += 1;
            if offsets.day(secs(c.at)) == today {
                today_here += 1;
            }
        }
        if c.at >= t {
            next_change = Some(next_change.map_or(c.at, |n| n.min(c.at)));
        }
    }
    // The person at the number is called about other debtors too: their calls count per number.
    for c in &req.same_number {
        ever_here += 1;
        if offsets.day(secs(c.at)) == today {
            today_here += 1;
        }
    }
    let unconfirmed = tp.needs_confirmation && !req.confirmed_third_party;
    let eligible = match tp.when {
        ThirdPartyWhen::Never => false,
        _ if unconfirmed => false,
        ThirdPartyWhen::Always => true,
        ThirdPartyWhen::DebtorFailed => debtor_failed(history, t, tp.failed_in_a_row, true),
        ThirdPartyWhen::DebtorUnreachable => {
            debtor_failed(history, t, tp.failed_in_a_row, false) || numbers_invalid(req, history, t)
        }
    };
    if !eligible {
        // Without a confirmation, or under a pack that never allows it, nothing later helps;
        // otherwise only an attempt already booked after `t` can change the debtor's record.
        let clears = if tp.when == ThirdPartyWhen::Never || unconfirmed {
            None
        } else {
            next_change.and_then(|n| n.checked_add(SignedDuration::from_nanos(1)).ok())
        };
        v.deny(Rule::ThirdParty, clears);
    }
    if let Some(max) = tp.per_point_ever
        && ever_here >= max
    {
        v.deny(Rule::ThirdParty, None);
    }
    if let Some(max) = tp.per_point_per_day
        && today_here >= max
    {
        v.deny(Rule::ThirdParty, Some(opens(today + 1)));
    }
}

/// Whether the last `n` call attempts to the debtor before `t` all failed (and, when
/// `no_conversation_since`, the debtor was not reached on another channel since the first).
fn debtor_failed(history: &[Contact], t: Timestamp, n: usize, no_conversation_since: bool) -> bool {
    let mut last: Vec<&Contact> = Vec::with_capacity(n + 1);
    for c in history {
        if c.recipient == Recipient::Debtor && c.channel.is_call() && c.at < t {
            let pos = last.partition_point(|x| x.at >= c.at);
            if pos < n {
                last.insert(pos, c);
                last.truncate(n);
            }
        }
    }
    if last.len() < n || !last.iter().all(|c| is_failed(c.outcome)) {
        return false;
    }
    let since = last[n - 1].at;
    !(no_conversation_since
        && history.iter().any(|c| {
            c.recipient == Recipient::Debtor
                && c.at >= since
                && c.at < t
                && is_conversation(c.outcome)
                && !c.channel.is_call()
        }))
}

/// Whether every known debtor number has had an `invalid_number` outcome before `t`.
fn numbers_invalid(req: &Request, history: &[Contact], t: Timestamp) -> bool {
    let debtor_calls =
        || history.iter().filter(|c| c.recipient == Recipient::Debtor && c.channel.is_call() && c.at < t);
    let invalid = |p: &str| {
        debtor_calls()
            .any(|c| c.contact_point.as_deref() == Some(p) && c.outcome == Some(Outcome::InvalidNumber))
    };
    if req.debtor_contact_points.is_empty() {
        let mut seen = false;
        for c in debtor_calls() {
            match c.contact_point.as_deref() {
                Some(p) if invalid(p) => seen = true,
                _ => return false,
            }
        }
        seen
    } else {
        req.debtor_contact_points.iter().all(|p| invalid(p))
    }
}
