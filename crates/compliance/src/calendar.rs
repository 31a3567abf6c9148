//! China's statutory holidays (法定节假日) and make-up working days (调休上班日).
//!
//! The State Council General Office sets each year's days off and the weekend days worked in
//! exchange by a notice late in the year before. Daylight ships 2020–2026 as data
//! (`data/cn-calendar.toml`, with each notice named) and a bank adds a year from a file of the
//! same form. A date whose year nobody entered is *uncovered*: rules that need it fail closed.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use jiff::civil::{Date, Weekday};
use serde::Deserialize;

use crate::error::PolicyError;
use crate::time::{date_of, epoch_day};

/// What a calendar says of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// Its year is not in the calendar.
    Uncovered,
    /// An ordinary working day or weekend day.
    Ordinary,
    /// A day off of a statutory holiday period (放假日).
    DayOff,
    /// A weekend day worked in exchange (调休上班日).
    MakeUpWorkday,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    #[serde(default)]
    year: Vec<RawYear>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawYear {
    year: i16,
    source: String,
    #[serde(default)]
    period: Vec<RawPeriod>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    off: Vec<(Date, Date)>,
    #[serde(default)]
    workdays: Vec<Date>,
}

/// One holiday period of a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// Its Chinese name (春节).
    pub name: String,
    /// Its English name, when given.
    pub name_en: Option<String>,
    /// The days off.
    pub days_off: Vec<Date>,
    /// The weekend days worked in exchange.
    pub workdays: Vec<Date>,
}

/// One year as a notice set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Year {
    /// The year.
    pub year: i16,
    /// The notice (and amendments) the dates come from.
    pub source: String,
    /// Its periods.
    pub periods: Vec<Period>,
}

/// Holiday days off and make-up working days by date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i16, Year>,
    /// Epoch day of `days[0]`.
    base: i32,
    days: Vec<DayKind>,
    /// The first day judged by a provisional year (see [`Calendar::with_provisional`]).
    provisional_from: Option<i32>,
}

/// The calendar Daylight ships.
pub const CHINA_TOML: &str = include_str!("../data/cn-calendar.toml");

static CHINA: LazyLock<Arc<Calendar>> = LazyLock::new(|| {
    Arc::new(Calendar::from_toml(CHINA_TOML, "cn-calendar.toml").expect("the shipped calendar is valid"))
});

impl Calendar {
    /// China's calendar for 2020–2026 as shipped.
    pub fn china() -> Arc<Calendar> {
        Arc::clone(&CHINA)
    }

    /// A calendar read from TOML of the shipped form; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Calendar, PolicyError> {
        let raw: RawCalendar = toml::from_str(text).map_err(|e| PolicyError::toml(origin, text, &e))?;
        let mut cal = Calendar { years: BTreeMap::new(), base: 0, days: Vec::new(), provisional_from: None };
        cal.add_years(raw.year, origin)?;
        Ok(cal)
    }

    pub(crate) fn add_years(&mut self, years: Vec<RawYear>, origin: &str) -> Result<(), PolicyError> {
        let mut seen = Vec::new();
        for raw in years {
            let at = format!("year {}", raw.year);
            if seen.contains(&raw.year) {
                return Err(PolicyError::invalid(origin, &at, "the year is entered twice"));
            }
            seen.push(raw.year);
            if !(1949..=2200).contains(&raw.year) {
                return Err(PolicyError::invalid(origin, &at, "expected a year from 1949 to 2200"));
            }
            if raw.source.trim().is_empty() {
                return Err(PolicyError::invalid(origin, &at, "source: name the notice the dates come from"));
            }
            let mut periods = Vec::new();
            for p in raw.period {
                let at = format!("year {} period {}", raw.year, p.name);
                let mut days_off = Vec::new();
                for (from, to) in p.off {
                    if from > to {
                        return Err(PolicyError::invalid(origin, &at, format!("off: {from} is after {to}")));
                    }
                    if (to - from).get_days() > 15 || (to.year() - raw.year).abs() > 1 {
                        return Err(PolicyError::invalid(
                            origin,
                            &at,
                            format!("off: {from} to {to} is not a holiday period of {}", raw.year),
                        ));
                    }
                    let mut d = from;
                    while d <= to {
                        days_off.push(d);
                        d = d.tomorrow().map_err(|e| PolicyError::invalid(origin, &at, e.to_string()))?;
                    }
                }
                for w in &p.workdays {
                    if !matches!(w.weekday(), Weekday::Saturday | Weekday::Sunday) {
                        return Err(PolicyError::invalid(
                            origin,
                            &at,
                            format!(
                                "workdays: {w} is a {:?}; a make-up working day is a weekend day",
                                w.weekday()
                            ),
                        ));
                    }
                }
                periods.push(Period { name: p.name, name_en: p.name_en, days_off, workdays: p.workdays });
            }
            self.years.insert(raw.year, Year { year: raw.year, source: raw.source, periods });
        }
        self.rebuild(origin)
    }

    /// Adds (or replaces) the years of another calendar file.
    pub fn merge_toml(&mut self, text: &str, origin: &str) -> Result<(), PolicyError> {
        let raw: RawCalendar = toml::from_str(text).map_err(|e| PolicyError::toml(origin, text, &e))?;
        self.add_years(raw.year, origin)
    }

    fn rebuild(&mut self, origin: &str) -> Result<(), PolicyError> {
        self.provisional_from = None;
        let (Some(first), Some(last)) = (self.years.keys().next(), self.years.keys().last()) else {
            self.days.clear();
            return Ok(());
        };
        self.base = epoch_day(Date::new(*first, 1, 1).expect("valid year"));
        let end = epoch_day(Date::new(*last, 12, 31).expect("valid year"));
        self.days = vec![DayKind::Uncovered; (end - self.base + 1) as usize];
        for y in self.years.keys() {
            let from = epoch_day(Date::new(*y, 1, 1).expect("valid year"));
            let to = epoch_day(Date::new(*y, 12, 31).expect("valid year"));
            for d in from..=to {
                self.days[(d - self.base) as usize] = DayKind::Ordinary;
            }
        }
        // The next year's notice may start its New Year's holiday on 30 or 31 December (元旦 2023
        // began on 2022-12-31): those days are known only once the next year is entered.
        for y in self.years.keys() {
            if !self.years.contains_key(&(y + 1)) {
                for d in [Date::new(*y, 12, 30), Date::new(*y, 12, 31)].into_iter().flatten() {
                    self.days[(epoch_day(d) - self.base) as usize] = DayKind::Uncovered;
                }
            }
        }
        let mut marks: BTreeMap<Date, (DayKind, String)> = BTreeMap::new();
        for year in self.years.values() {
            for p in &year.periods {
                let days = p.days_off.iter().map(|d| (d, DayKind::DayOff));
                for (d, kind) in days.chain(p.workdays.iter().map(|d| (d, DayKind::MakeUpWorkday))) {
                    if let Some((other, by)) = marks.get(d)
                        && *other != kind
                    {
                        return Err(PolicyError::invalid(
                            origin,
                            &format!("year {} period {}", year.year, p.name),
                            format!("{d} is both a day off and a working day (see {by})"),
                        ));
                    }
                    marks.insert(*d, (kind, p.name.clone()));
                }
            }
        }
        for (d, (kind, _)) in marks {
            let i = epoch_day(d) - self.base;
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| self.days.get_mut(i))
                && *slot != DayKind::Uncovered
            {
                *slot = kind;
            }
        }
        Ok(())
    }

    /// What the calendar says of a day given as days since 1970-01-01.
    #[inline]
    pub fn kind_of_day(&self, day: i32) -> DayKind {
        usize::try_from(day - self.base)
            .ok()
            .and_then(|i| self.days.get(i))
            .copied()
            .unwrap_or(DayKind::Uncovered)
    }

    /// What the calendar says of a date.
    pub fn kind(&self, date: Date) -> DayKind {
        self.kind_of_day(epoch_day(date))
    }

    /// The first day after `day` that is covered and not a day off, if any.
    pub(crate) fn next_open_day(&self, day: i32) -> Option<i32> {
        let mut d = day.max(self.base - 1) + 1;
        loop {
            match self.kind_of_day(d) {
                DayKind::Ordinary | DayKind::MakeUpWorkday => return Some(d),
                DayKind::DayOff => d += 1,
                DayKind::Uncovered if d - self.base >= self.days.len() as i32 => return None,
                DayKind::Uncovered => d += 1,
            }
        }
    }

    /// The first covered day after `day`, if any.
    pub(crate) fn next_covered_day(&self, day: i32) -> Option<i32> {
        let mut d = day.max(self.base - 1) + 1;
        while d - self.base < self.days.len() as i32 {
            if self.kind_of_day(d) != DayKind::Uncovered {
                return Some(d);
            }
            d += 1;
        }
        None
    }

    /// This calendar with `years` provisional years after the last one entered: each of their
    /// days (and the last entered year's 30 and 31 December, which the next notice may claim)
    /// is a day off when it is a statutory holiday day ([`crate::statutory_days`]) or a weekend
    /// day, and an ordinary day otherwise; no make-up working days. Verdicts on those days are
    /// marked provisional ([`Calendar::is_provisional`]).
    pub fn with_provisional(&self, years: i16) -> Calendar {
        let mut cal = self.clone();
        let Some(last) = cal.years.keys().last().copied() else { return cal };
        let Some(end) = Date::new(last.saturating_add(years), 12, 31).ok() else { return cal };
        let end = epoch_day(end);
        let first = (cal.base..cal.base + cal.days.len() as i32)
            .rev()
            .take_while(|d| cal.kind_of_day(*d) == DayKind::Uncovered)
            .last()
            .unwrap_or(cal.base + cal.days.len() as i32);
        cal.days.resize((end - cal.base + 1) as usize, DayKind::Uncovered);
        let mut off: Vec<Date> = Vec::new();
        for y in last..=last.saturating_add(years) {
            off.extend(crate::statutory::statutory_days(y).unwrap_or_default().iter().map(|d| d.date));
        }
        for d in first..=end {
            let date = date_of(d);
            let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
            cal.days[(d - cal.base) as usize] =
                if weekend || off.contains(&date) { DayKind::DayOff } else { DayKind::Ordinary };
        }
        cal.provisional_from = Some(first);
        cal
    }

    /// Whether `day` (days since 1970-01-01) is judged by a provisional year.
    #[inline]
    pub fn is_provisional(&self, day: i32) -> bool {
        self.provisional_from.is_some_and(|f| day >= f) && self.kind_of_day(day) != DayKind::Uncovered
    }

    /// The last day the entered years judge (a provisional year's days aside); from 60 days
    /// before it the console and `/metrics` warn that the next notice is due.
    pub fn last_day(&self) -> Option<Date> {
        let end = self.provisional_from.unwrap_or(self.base + self.days.len() as i32);
        (self.base..end).rev().find(|d| self.kind_of_day(*d) != DayKind::Uncovered).map(date_of)
    }

    /// The years entered.
    pub fn years(&self) -> impl Iterator<Item = &Year> {
        self.years.values()
    }

    /// Whether a year is entered.
    pub fn covers(&self, year: i16) -> bool {
        self.years.contains_key(&year)
    }

    /// The days off and make-up working days that fall in a calendar year, in date order
    /// (including a period's days that an adjacent year's notice set), or `None` when the year
    /// is not entered.
    pub fn year_days(&self, year: i16) -> Option<(Vec<Date>, Vec<Date>)> {
        if !self.covers(year) {
            return None;
        }
        let from = epoch_day(Date::new(year, 1, 1).ok()?);
        let to = epoch_day(Date::new(year, 12, 31).ok()?);
        let (mut off, mut work) = (Vec::new(), Vec::new());
        for d in from..=to {
            match self.kind_of_day(d) {
                DayKind::DayOff => off.push(date_of(d)),
                DayKind::MakeUpWorkday => work.push(date_of(d)),
                _ => {}
            }
        }
        Some((off, work))
    }

    /// The period a date belongs to, by name, when it is a day off or a make-up working day.
    pub fn period_of(&self, date: Date) -> Option<&Period> {
        self.years
            .values()
            .flat_map(|y| &y.periods)
            .find(|p| p.days_off.contains(&date) || p.workdays.contains(&date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_years_are_2020_to_2026() {
        let cal = Calendar::china();
        let years: Vec<i16> = cal.years().map(|y| y.year).collect();
        assert_eq!(years, (2020..=2026).collect::<Vec<_>>());
        assert!(cal.years().all(|y| y.source.contains("国务院办公厅")));
    }

    #[test]
    fn spring_festival_2026_and_its_make_up_saturdays() {
        let cal = Calendar::china();
        for d in 15..=23 {
            assert_eq!(cal.kind(Date::constant(2026, 2, d)), DayKind::DayOff, "2026-02-{d}");
        }
        assert_eq!(cal.kind(Date::constant(2026, 2, 14)), DayKind::MakeUpWorkday);
        assert_eq!(cal.kind(Date::constant(2026, 2, 28)), DayKind::MakeUpWorkday);
        assert_eq!(cal.kind(Date::constant(2026, 2, 24)), DayKind::Ordinary);
        assert_eq!(cal.kind(Date::constant(2026, 3, 7)), DayKind::Ordinary, "an ordinary Saturday");
        assert_eq!(cal.kind(Date::constant(2027, 1, 1)), DayKind::Uncovered);
        assert_eq!(cal.kind(Date::constant(2026, 12, 29)), DayKind::Ordinary);
        assert_eq!(
            cal.kind(Date::constant(2026, 12, 30)),
            DayKind::Uncovered,
            "2027's notice may make it a day off"
        );
        assert_eq!(cal.kind(Date::constant(2025, 12, 31)), DayKind::Ordinary, "2026's notice is entered");
        assert_eq!(cal.kind(Date::constant(2019, 12, 31)), DayKind::Uncovered);
        assert_eq!(cal.period_of(Date::constant(2026, 2, 17)).unwrap().name, "春节");
    }

    #[test]
    fn a_new_years_holiday_may_start_in_december() {
        let cal = Calendar::china();
        assert_eq!(cal.kind(Date::constant(2022, 12, 31)), DayKind::DayOff);
        let (off, work) = cal.year_days(2026).unwrap();
        assert_eq!(off.first(), Some(&Date::constant(2026, 1, 1)));
        assert_eq!(work.first(), Some(&Date::constant(2026, 1, 4)));
        assert_eq!(off.len(), 33);
        assert_eq!(cal.year_days(2027), None);
    }

    #[test]
    fn a_bank_adds_a_year() {
        let mut cal = (*Calendar::china()).clone();
        cal.merge_toml(
            r#"
[[year]]
year = 2027
source = "国务院办公厅关于2027年部分节假日安排的通知"
[[year.period]]
name = "元旦"
off = [["2027-01-01", "2027-01-03"]]
"#,
            "2027.toml",
        )
        .unwrap();
        assert_eq!(cal.kind(Date::constant(2027, 1, 2)), DayKind::DayOff);
        assert_eq!(cal.kind(Date::constant(2027, 1, 4)), DayKind::Ordinary);
        assert_eq!(cal.kind(Date::constant(2026, 12, 31)), DayKind::Ordinary, "2027 is entered now");
        assert_eq!(cal.kind(Date::constant(2026, 2, 16)), DayKind::DayOff);
    }

    #[test]
    fn bad_calendar_files_name_the_place() {
        let e = Calendar::from_toml("[[year]]\nyear = 2027\nsource = \"x\"\nholidays = []\n", "c.toml")
            .unwrap_err();
        assert_eq!(e.code, "POLICY_TOML");
        assert!(e.to_string().contains("c.toml:4:1"), "{e}");
        let text = "[[year]]\nyear = 2027\nsource = \"x\"\n[[year.period]]\nname = \"x\"\noff = []\nworkdays = [\"2027-01-05\"]\n";
        let e = Calendar::from_toml(text, "c.toml").unwrap_err();
        assert_eq!(e.code, "POLICY_INVALID");
        assert!(e.to_string().contains("weekend"), "{e}");
        let text = "[[year]]\nyear = 2027\nsource = \"x\"\n[[year.period]]\nname = \"x\"\noff = [[\"2027-01-09\", \"2027-01-10\"]]\nworkdays = [\"2027-01-09\"]\n";
        let e = Calendar::from_toml(text, "c.toml").unwrap_err();
        assert!(e.to_string().contains("both"), "{e}");
    }
}
