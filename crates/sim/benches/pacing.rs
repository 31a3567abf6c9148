//! The pacers compared in the twin (SIMULATED): the same portfolio, collectors, seed and days
//! for each pacer, each call through the real compliance engine; per pacer the collectors'
//! occupancy (talk time ÷ logged-in time), the abandonment rate (abandoned ÷ answered), the
//! calls, the right-party conversations and the cap violations (must be 0).
//!
//! cargo bench -p daylight-sim --bench pacing -- [--accounts 100000] [--collectors 40] [--days 20] [--seed 7]
#![allow(missing_docs, clippy::print_stdout, clippy::disallowed_methods, clippy::unwrap_used)]

use daylight_dialer::pacer::Pacer;
use daylight_dialer::pacer::daylight::{Daylight, Settings as DaylightSettings};
use daylight_dialer::pacer::vicidial::{DropMethod, Settings as VicidialSettings, Vicidial};
use daylight_sim::dialing::{DialDay, FloorSettings, Window};
use daylight_sim::world::World;
use daylight_strategy::document::BASELINE;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let accounts = arg(&args, "--accounts", 100_000);
    let collectors = arg(&args, "--collectors", 40) as u32;
    let days = arg(&args, "--days", 20) as u32;
    let seed = arg(&args, "--seed", 7);
    let pack = daylight_compliance::Pack::shipped(daylight_compliance::DEFAULT_PACK).unwrap().source;
    let started = std::time::Instant::now();
    World::new(seed, accounts, jiff::civil::date(2026, 3, 2), BASELINE, &pack).unwrap();
    let floor = FloorSettings { collectors, ..FloorSettings::default() };
    println!(
        "SIMULATED: {accounts} accounts (seed {seed}), M1–M3 open cases in the hopper, {collectors} collectors, \
         shifts 09:00–12:00 and 14:00–18:00, {days} days, talk 30 s + exp (mean {} s), wrap-up {} s, \
         abandoned after {} s (world built in {:.1} s)",
        floor.mean_talk_secs,
        floor.wrap_secs,
        floor.greeting_secs,
        started.elapsed().as_secs_f64()
    );
    type Make = Box<dyn Fn() -> Box<dyn Pacer>>;
    let pacers: Vec<Make> = vec![
        Box::new(|| Box::new(Vicidial::new(VicidialSettings::defaults(DropMethod::HardLimit)))),
        Box::new(|| Box::new(Vicidial::new(VicidialSettings::defaults(DropMethod::Average)))),
        Box::new(|| Box::new(Daylight::new(DaylightSettings::default()))),
    ];
    println!(
        "| pacer | occupancy | abandonment | calls | answered | abandoned | conversations | recovered (yuan) | refused by the gate | cap violations | seconds |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for make in &pacers {
        // Each pacer on the same portfolio and seed, from the same first day: the days move
        // the accounts.
        let mut world = World::new(seed, accounts, jiff::civil::date(2026, 3, 2), BASELINE, &pack).unwrap();
        let t = std::time::Instant::now();
        let mut window = Window::default();
        let mut total = DialDay::default();
        let mut name = String::new();
        for day in 1..=days {
            let mut p = make();
            name = p.name();
            let mut d = world.dialing_day(day, p.as_mut(), &floor, &mut window).unwrap();
            d.recovered_fen = world.close_dialing_day(day, &d.talks).unwrap();
            total.add(&d);
        }
        println!(
            "| {name} | {:.1} % | {:.2} % | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            total.occupancy() * 100.0,
            total.abandonment() * 100.0,
            total.dials,
            total.answered,
            total.abandoned,
            total.conversations,
            total.recovered_fen / 100,
            total.refused,
            total.violations,
            t.elapsed().as_secs_f64()
        );
    }
}
