//! The day's 15-minute slots: which ones the pack allows a contact in, the working day a
//! referral is handed over in, and each case's time zone.

use std::collections::BTreeMap;

use daylight_compliance::{Contact, Pack, Request};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::{PlanCase, PlanError, Skip, perr};

pub(super) const SLOTS: usize = 96;

/// An allowed slot: start, end, index of the local quarter hour (0–95).
pub(super) type SlotSpan = (Timestamp, Timestamp, usize);

/// Which of the day's slots to put to the pack.
#[derive(Clone, Copy)]
pub(super) enum Scan<'a> {
    /// Only those in these shifts (minutes of the day): calls go where there are agents.
    Shifts(&'a [(u32, u32)]),
    /// From the day's start to the end of the first run of allowed slots (a window).
    FirstRun,
}

/// The day's 15-minute slots (in `zone`) the pack allows for `request` after `now`, among
/// those `scan` names; when none is allowed, how many slots each rule denied.
#[allow(clippy::too_many_arguments)]
pub(super) fn allowed_slots(
    pack: &Pack,
    request: &Request,
    history: &[Contact],
    date: Date,
    zone: &TimeZone,
    now: Timestamp,
    scan: Scan<'_>,
) -> Result<(Vec<SlotSpan>, BTreeMap<Skip, usize>), PlanError> {
    let start = date.to_zoned(zone.clone()).map_err(|e| perr("PLAN_INPUT", format!("date {date}: {e}")))?;
    let quarter = SignedDuration::from_mins(15);
    // The slots to put to the pack: start, end, index of the local quarter hour.
    let mut scanned = Vec::new();
    let mut t = start.timestamp();
    while scanned.len() < 100 {
        let local = t.to_zoned(zone.clone());
        if local.date() != date {
            break;
        }
        let minute = local.hour() as u32 * 60 + local.minute() as u32;
        let end = t + quarter;
        let wanted = match scan {
            Scan::Shifts(shifts) => shifts.iter().any(|(a, b)| *a <= minute && minute < *b),
            Scan::FirstRun => true,
        };
        if wanted && end > now {
            scanned.push((t.max(now), end, (minute / 15) as usize));
        }
        t = end;
    }
    let mut req = request.clone();
    let mut allowed = Vec::new();
    for &(at, end, index) in &scanned {
        req.at = Some(at);
        if daylight_compliance::allowed_at(pack, &req, history, at) {
            allowed.push((at, end, index.min(SLOTS - 1)));
        } else if matches!(scan, Scan::FirstRun) && !allowed.is_empty() {
            break;
        }
    }
    let mut denied = BTreeMap::new();
    if scanned.is_empty() {
        // Nothing to ask: the day is over, or no shift has hours left in it.
        denied.insert(if t <= now { Skip::Past } else { Skip::Capacity }, 1);
    }
    if allowed.is_empty() {
        for &(at, _, _) in &scanned {
            req.at = Some(at);
            for r in daylight_compliance::evaluate(pack, &req, history, at).violations {
                *denied.entry(Skip::Rule(r)).or_insert(0) += 1;
            }
        }
    }
    Ok((allowed, denied))
}

/// 09:00–18:00 of `date` in `zone`: when a referral is handed over.
pub(super) fn working_day(date: Date, zone: &TimeZone) -> Result<(Timestamp, Timestamp, usize), PlanError> {
    let at = |h: i8| {
        date.at(h, 0, 0, 0)
            .to_zoned(zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| perr("PLAN_INPUT", format!("date {date}: {e}")))
    };
    Ok((at(9)?, at(18)?, 36))
}

/// Each case's zone, looked up once per zone name.
pub(super) struct Zones {
    zones: Vec<TimeZone>,
    /// Index into `zones` of each case (case order).
    index: Vec<u16>,
}

impl Zones {
    /// Each case's zone (case order); a name that is not an IANA zone is refused.
    pub(super) fn read(cases: &[&PlanCase]) -> Result<Zones, PlanError> {
        let mut names: BTreeMap<&str, u16> = BTreeMap::new();
        let mut zones = Vec::new();
        let mut index = Vec::with_capacity(cases.len());
        for c in cases {
            let k = match names.get(c.zone.as_str()) {
                Some(k) => *k,
                None => {
                    let z = TimeZone::get(&c.zone).map_err(|_| {
                        perr("PLAN_INPUT", format!("case {}: time zone {:?}", c.case, c.zone))
                    })?;
                    let k = u16::try_from(zones.len())
                        .map_err(|_| perr("PLAN_INPUT", "more than 65,535 time zones"))?;
                    zones.push(z);
                    names.insert(c.zone.as_str(), k);
                    k
                }
            };
            index.push(k);
        }
        Ok(Zones { zones, index })
    }

    /// Case `ci`'s zone.
    pub(super) fn of(&self, ci: usize) -> &TimeZone {
        &self.zones[usize::from(self.index[ci])]
    }
}

/// The first run of consecutive allowed slots, as one span (the index of its first slot).
pub(super) fn first_run(slots: &[SlotSpan]) -> SlotSpan {
    let (start, mut end, index) = slots[0];
    for slot in &slots[1..] {
        if slot.0 != end {
            break;
        }
        end = slot.1;
    }
    (start, end, index)
}
