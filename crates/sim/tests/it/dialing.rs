//! The dialling day at one-second resolution: both pacers, through the real gate.

use daylight_dialer::pacer::Pacer;
use daylight_dialer::pacer::daylight::{Daylight, Settings as DaylightSettings};
use daylight_dialer::pacer::vicidial::{DropMethod, Settings as VicidialSettings, Vicidial};
use daylight_sim::dialing::{DialDay, FloorSettings, Window};
use daylight_sim::world::World;
use daylight_strategy::document::BASELINE;
use jiff::civil::date;

fn pack() -> String {
    daylight_compliance::Pack::shipped(daylight_compliance::DEFAULT_PACK).unwrap().source
}

/// Two hours of ten collectors on a 30,000-account portfolio, on two days (a Tuesday and a
/// Wednesday).
fn run(pacer: &mut dyn FnMut() -> Box<dyn Pacer>) -> DialDay {
    let w = World::new(7, 30_000, date(2026, 3, 2), BASELINE, &pack()).unwrap();
    let floor =
        FloorSettings { collectors: 10, shifts: vec![(9 * 3600, 11 * 3600)], ..FloorSettings::default() };
    let mut window = Window::default();
    let mut total = DialDay::default();
    for day in [1, 2] {
        let mut p = pacer();
        let d = w.dialing_day(day, p.as_mut(), &floor, &mut window).unwrap();
        total.add(&d);
    }
    assert_eq!((window.answered, window.abandoned), (total.answered, total.abandoned));
    total
}

#[test]
fn both_pacers_dial_through_the_gate_without_a_violation() {
    let vici = run(&mut || Box::new(Vicidial::new(VicidialSettings::defaults(DropMethod::HardLimit))));
    let ours = run(&mut || Box::new(Daylight::new(DaylightSettings::default())));
    for (name, d) in [("VICIdial", &vici), ("Daylight", &ours)] {
        eprintln!(
            "{name}: {} dials, {} answered, {} abandoned ({:.2} %), occupancy {:.1} %, {} refused by the gate, level up to {:.2}",
            d.dials,
            d.answered,
            d.abandoned,
            d.abandonment() * 100.0,
            d.occupancy() * 100.0,
            d.refused,
            d.max_level
        );
        assert_eq!(d.violations, 0, "{name}: no call the pack would deny");
        assert!(d.dials > 100 && d.connected > 20, "{name}: {d:?}");
        assert!(d.occupancy() > 0.0 && d.occupancy() <= 1.0, "{name}: {d:?}");
        assert_eq!(d.logged_secs, 2 * 2 * 3600 * 10);
    }
    // Daylight keeps to its limit, and keeps the collectors busier than VICIdial's pacer,
    // which brakes only once the day's drops have passed it.
    assert!(ours.abandonment() <= 0.03, "{ours:?}");
    assert!(ours.max_level > 1.0, "{ours:?}");
    assert!(ours.occupancy() > vici.occupancy() + 0.10, "{:.3} vs {:.3}", ours.occupancy(), vici.occupancy());
}

/// A small portfolio and a greedy pacer: the gate refuses what the caps forbid, the hopper
/// offers those contacts again later, and no call the pack would deny is placed.
#[test]
fn the_gate_holds_the_caps_however_hard_the_pacer_dials() {
    let w = World::new(7, 1_500, date(2026, 3, 2), BASELINE, &pack()).unwrap();
    let floor = FloorSettings {
        collectors: 10,
        shifts: vec![(9 * 3600, 12 * 3600), (14 * 3600, 18 * 3600)],
        retry_secs: 600,
        ..FloorSettings::default()
    };
    let mut window = Window::default();
    let mut p = Daylight::new(DaylightSettings { max_level: 8.0, ..DaylightSettings::default() });
    let d = w.dialing_day(1, &mut p, &floor, &mut window).unwrap();
    eprintln!("{d:?}");
    assert!(d.refused > 100, "the caps were reached: {d:?}");
    assert_eq!(d.violations, 0);
}

/// The dialling days move the accounts: the debtors spoken with pay more than those left
/// alone would, the same seed gives the same recovery, and a case paid up leaves the hopper.
#[test]
fn dialling_days_move_the_accounts_and_recover() {
    let floor =
        FloorSettings { collectors: 10, shifts: vec![(9 * 3600, 11 * 3600)], ..FloorSettings::default() };
    let days = |talk: bool| {
        let mut w = World::new(7, 5_000, date(2026, 3, 2), BASELINE, &pack()).unwrap();
        let mut window = Window::default();
        let (mut paid, mut open) = (Vec::new(), Vec::new());
        for day in 1..=5 {
            let mut p = Daylight::new(DaylightSettings::default());
            let d = w.dialing_day(day, &mut p, &floor, &mut window).unwrap();
            assert_eq!(d.talks.len() as u64, d.connected);
            let talks = if talk { d.talks.clone() } else { Vec::new() };
            paid.push(w.close_dialing_day(day, &talks).unwrap());
            open.push(
                w.buckets().iter().filter(|b| !matches!(b, daylight_domain::bucket::Bucket::M0)).count(),
            );
        }
        (paid, open)
    };
    let (called, open) = days(true);
    let (again, _) = days(true);
    let (alone, _) = days(false);
    eprintln!("paid by day: called {called:?}, left alone {alone:?}; open {open:?}");
    assert_eq!(called, again, "the same seed, the same recovery");
    let (sum, sum_alone): (i64, i64) = (called.iter().sum(), alone.iter().sum());
    assert!(sum > sum_alone, "conversations and promises bring payments: {sum} vs {sum_alone}");
    assert!(open.windows(2).any(|w| w[1] != w[0]), "the accounts move: {open:?}");
}
