//! The statutory holiday days of a year as the law fixes them (《全国年节及纪念日放假办法》, as
//! amended in 2024, in force from 2025): New Year's Day, the Spring Festival's eve and first
//! three days, Qingming, 1–2 May, the Dragon Boat Festival, the Mid-Autumn Festival and 1–3
//! October — thirteen days.
//!
//! The State Council's yearly notice adds bridging days off and make-up working days around
//! them, which no rule computes: these days are what a compliance officer checks a notice
//! against, and what a pack that opts into a provisional year refuses contacts on (with every
//! weekend) until the notice is entered.

use jiff::civil::Date;
use lunar_lite::{LunarDate, lunar_to_solar};

/// One statutory holiday day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatutoryDay {
    /// The holiday's Chinese name.
    pub name: &'static str,
    /// Its English name.
    pub name_en: &'static str,
    /// The day.
    pub date: Date,
}

/// The thirteen statutory holiday days of `year` (Gregorian), in date order; `None` for a year
/// the lunar conversion or the Qingming formula does not cover (before 2000 or after 2099).
pub fn statutory_days(year: i16) -> Option<Vec<StatutoryDay>> {
    if !(2000..=2099).contains(&year) {
        return None;
    }
    let day = |name, name_en, date| StatutoryDay { name, name_en, date };
    let lunar = |month: u8, d: u8| -> Option<Date> {
        let s =
            lunar_to_solar(LunarDate { year: i32::from(year), month, day: d, is_leap_month: false }).ok()?;
        Date::new(i16::try_from(s.year).ok()?, i8::try_from(s.month).ok()?, i8::try_from(s.day).ok()?).ok()
    };
    let new_year = lunar(1, 1)?;
    let mut days = vec![
        day("元旦", "New Year's Day", Date::new(year, 1, 1).ok()?),
        day("春节", "Spring Festival", new_year.yesterday().ok()?),
        day("春节", "Spring Festival", new_year),
        day("春节", "Spring Festival", new_year.tomorrow().ok()?),
        day("春节", "Spring Festival", new_year.checked_add(jiff::Span::new().days(2)).ok()?),
        day("清明节", "Qingming Festival", qingming(year)?),
        day("劳动节", "Labour Day", Date::new(year, 5, 1).ok()?),
        day("劳动节", "Labour Day", Date::new(year, 5, 2).ok()?),
        day("端午节", "Dragon Boat Festival", lunar(5, 5)?),
        day("中秋节", "Mid-Autumn Festival", lunar(8, 15)?),
        day("国庆节", "National Day", Date::new(year, 10, 1).ok()?),
        day("国庆节", "National Day", Date::new(year, 10, 2).ok()?),
        day("国庆节", "National Day", Date::new(year, 10, 3).ok()?),
    ];
    days.sort_by_key(|d| d.date);
    Some(days)
}

/// Each statutory day of each year `calendar` enters, with what the calendar makes of it: a
/// compliance officer's check that a notice was typed in whole (every statutory day should be
/// a day off).
pub fn check_years(calendar: &crate::Calendar) -> Vec<(i16, Vec<(StatutoryDay, crate::DayKind)>)> {
    calendar
        .years()
        .map(|y| {
            let days = statutory_days(y.year).unwrap_or_default();
            (y.year, days.into_iter().map(|d| (calendar.kind(d.date), d)).map(|(k, d)| (d, k)).collect())
        })
        .collect()
}

/// Qingming (清明, the solar term at 15° solar longitude) in 2000–2099: 4 or 5 April by the
/// usual 21st-century formula ⌊Y·0.2422 + 4.81⌋ − ⌊Y/4⌋ with Y the year's last two digits,
/// checked against every Qingming of the shipped calendar and the tables of 2027–2035.
fn qingming(year: i16) -> Option<Date> {
    let y = i32::from(year) - 2000;
    // 0.2422 and 4.81 in ten-thousandths keep the sum exact.
    let day = (y * 2422 + 48100) / 10000 - y / 4;
    Date::new(year, 4, i8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, DayKind};

    #[test]
    fn every_statutory_day_of_the_shipped_years_is_a_day_off() {
        let cal = Calendar::china();
        for year in 2025..=2026 {
            for d in statutory_days(year).unwrap() {
                assert_eq!(cal.kind(d.date), DayKind::DayOff, "{year}: {} {}", d.name, d.date);
            }
        }
        // Before the 2024 amendment the eve was not statutory; the rest held.
        for year in 2020..=2024 {
            for d in statutory_days(year).unwrap().iter().filter(|d| d.name != "春节") {
                assert_eq!(cal.kind(d.date), DayKind::DayOff, "{year}: {} {}", d.name, d.date);
            }
        }
    }

    #[test]
    fn a_years_notice_is_checked_against_the_statutory_days() {
        let text = "[[year]]\nyear = 2027\nsource = \"test\"\n[[year.period]]\nname = \"元旦\"\noff = [[\"2027-01-01\", \"2027-01-03\"]]\n";
        let cal = Calendar::from_toml(text, "2027.toml").unwrap();
        let checked = check_years(&cal);
        assert_eq!(checked.len(), 1);
        let (year, days) = &checked[0];
        assert_eq!(*year, 2027);
        let off: Vec<&str> =
            days.iter().filter(|(_, k)| *k == DayKind::DayOff).map(|(d, _)| d.name).collect();
        assert_eq!(off, ["元旦"], "only New Year's Day was typed in");
        assert_eq!(days.len(), 13);
    }

    #[test]
    fn lunar_holidays_fall_where_the_almanac_puts_them() {
        let at = |y: i16| -> Vec<String> {
            statutory_days(y).unwrap().iter().map(|d| format!("{} {}", d.name, d.date)).collect()
        };
        let y2027 = at(2027);
        for expected in ["春节 2027-02-06", "清明节 2027-04-05", "端午节 2027-06-09", "中秋节 2027-09-15"]
        {
            assert!(y2027.contains(&expected.to_owned()), "{expected} in {y2027:?}");
        }
        assert_eq!(y2027.len(), 13);
        assert!(statutory_days(2100).is_none());
        assert_eq!(qingming(2028), Date::new(2028, 4, 4).ok());
    }
}
