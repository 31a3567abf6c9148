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
