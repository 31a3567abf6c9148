//! Answers follow the hidden traits: the hour, the line, the tone, the temperament.

use daylight_domain::attempt::{Channel, Outcome};
use daylight_domain::customer::Recipient;
use daylight_sim::behaviour::{Contact, answer};
use daylight_sim::population::{Line, Persona, Temperament, population};
use daylight_strategy::document::Tone;
use jiff::civil::date;

fn call(hour: u8, tone: Option<Tone>) -> Contact {
    Contact {
        channel: Channel::Call,
        recipient: Recipient::Debtor,
        hour,
        tone,
        earlier_today: 0,
        recent_conversations: 0,
    }
}

fn picked_up(o: Outcome) -> bool {
    matches!(
        o,
        Outcome::Conversation
            | Outcome::PromiseToPay
            | Outcome::Refused
            | Outcome::Hardship
            | Outcome::Dispute
            | Outcome::Abusive
            | Outcome::CeaseRequest
            | Outcome::ThirdPartyAnswered
    )
}

#[test]
fn office_workers_answer_in_the_evening_and_the_retired_in_the_morning() {
    let people = population(9, 20_000, date(2026, 3, 2));
    let rate = |persona: Persona, hour: u8| {
        let group: Vec<(u64, &daylight_sim::population::Debtor)> = people
            .iter()
            .enumerate()
            .filter(|(_, d)| d.hidden.persona == persona && d.hidden.line == Line::Valid)
            .map(|(i, d)| (i as u64, d))
            .collect();
        let n =
            group.iter().filter(|(i, d)| picked_up(answer(9, *i, d, 1, call(hour, None)).outcome)).count();
        n as f64 / group.len() as f64
    };
    assert!(rate(Persona::OfficeWorker, 19) > 2.5 * rate(Persona::OfficeWorker, 10));
    assert!(rate(Persona::Retired, 9) > 2.0 * rate(Persona::NightShift, 9));
}

#[test]
fn dead_lines_never_answer_and_answers_repeat() {
    let people = population(4, 5_000, date(2026, 3, 2));
    for (i, d) in people.iter().enumerate() {
        let a = answer(4, i as u64, d, 3, call(19, Some(Tone::Reminder)));
        assert_eq!(a, answer(4, i as u64, d, 3, call(19, Some(Tone::Reminder))));
        match d.hidden.line {
            Line::Invalid => assert_eq!(a.outcome, Outcome::InvalidNumber),
            Line::Suspended => assert_eq!(a.outcome, Outcome::Suspended),
            _ => {}
        }
    }
}

#[test]
fn pressure_makes_the_anti_collection_complain_and_the_anxious_promise_less() {
    let people = population(12, 60_000, date(2026, 3, 2));
    let share = |temper: Temperament, tone: Tone, what: &dyn Fn(daylight_sim::behaviour::Answer) -> bool| {
        let mut talks = 0;
        let mut hits = 0;
        for (i, d) in people.iter().enumerate().filter(|(_, d)| d.hidden.temperament == temper) {
            for day in 0..6 {
                let a = answer(12, i as u64, d, day, call(19, Some(tone)));
                if picked_up(a.outcome) && a.outcome != Outcome::ThirdPartyAnswered {
                    talks += 1;
                    hits += u32::from(what(a));
                }
            }
        }
        f64::from(hits) / f64::from(talks)
    };
    let complains = |a: daylight_sim::behaviour::Answer| a.complaint;
    let promises = |a: daylight_sim::behaviour::Answer| a.outcome == Outcome::PromiseToPay;
    assert!(
        share(Temperament::AntiCollection, Tone::Firm, &complains)
            > 3.0 * share(Temperament::AntiCollection, Tone::Reminder, &complains)
    );
    assert!(
        share(Temperament::Anxious, Tone::Soothing, &promises)
            > share(Temperament::Anxious, Tone::Firm, &promises) + 0.03
    );
}

#[test]
fn robots_are_hung_up_on_more_than_people() {
    let people = population(6, 20_000, date(2026, 3, 2));
    let rate = |channel: Channel| {
        let n = people
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                picked_up(answer(6, *i as u64, d, 2, Contact { channel, ..call(19, None) }).outcome)
            })
            .count();
        n as f64 / people.len() as f64
    };
    assert!(rate(Channel::Call) > 1.3 * rate(Channel::RobotCall));
}

/// Calling a debtor's family or guarantor draws complaints, more from the anti-collection than
/// from the calm, and more at night.
#[test]
fn third_party_calls_draw_complaints() {
    let people = population(13, 40_000, date(2026, 3, 2));
    let rate = |temper: Temperament, hour: u8| {
        let (mut answered, mut complaints) = (0u32, 0u32);
        for (i, d) in people.iter().enumerate().filter(|(_, d)| d.hidden.temperament == temper) {
            for day in 0..4 {
                let c = Contact { recipient: Recipient::ThirdParty, ..call(hour, None) };
                let a = answer(13, i as u64, d, day, c);
                if a.outcome == Outcome::ThirdPartyAnswered {
                    answered += 1;
                    complaints += u32::from(a.complaint);
                }
            }
        }
        f64::from(complaints) / f64::from(answered.max(1))
    };
    let (anti, calm) = (rate(Temperament::AntiCollection, 15), rate(Temperament::Calm, 15));
    assert!(anti > 0.10 && anti > 5.0 * calm && calm > 0.0, "anti {anti}, calm {calm}");
    assert!(rate(Temperament::Calm, 21) > 2.0 * calm, "night");
}
