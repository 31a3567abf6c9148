//! Accounts move day by day: interest, fees, payments applied fees first, cure, roll-in.

use daylight_sim::dynamics::{Nudges, Promise, advance};
use daylight_sim::population::{debtor, population};
use jiff::civil::date;

#[test]
fn interest_accrues_on_overdue_principal_and_a_kept_promise_is_applied_fees_first() {
    let start = date(2026, 3, 2);
    let mut d = (0..).map(|i| debtor(21, i, start)).find(|d| d.account.dpd > 40).unwrap();
    d.hidden.ability = 1.0;
    d.hidden.willingness = 1.0;
    let (fees, interest, principal) =
        (d.account.late_fees, d.account.overdue_interest, d.account.overdue_principal);
    let dpd = d.account.dpd;
    // A day with no payment (the draw is fixed for the event, so look for one).
    let mut day = 0;
    let quiet = loop {
        let mut copy = d.clone();
        let t = advance(21, 0, &mut copy, day, start, Nudges::default());
        if t.paid == 0 && !t.hardship {
            break copy;
        }
        day += 1;
    };
    assert_eq!(quiet.account.overdue_interest, interest + principal * 5 / 10_000);
    assert_eq!(quiet.account.dpd, dpd + 1);
    // A promise of the fees and a bit more, kept: fees first, then interest.
    let amount = fees + 100;
    let mut kept = None;
    for day in 0..50 {
        let mut copy = d.clone();
        let t = advance(
            21,
            0,
            &mut copy,
            day,
            start,
            Nudges { promise: Some(Promise { due_day: day, amount }), ..Nudges::default() },
        );
        if t.promise_kept == Some(true) && !t.hardship {
            kept = Some((t, copy));
            break;
        }
    }
    let (t, after) = kept.expect("an able, willing debtor keeps some promise");
    assert_eq!(t.paid, amount);
    assert_eq!(after.account.late_fees, 0);
    assert_eq!(after.account.overdue_interest, interest + principal * 5 / 10_000 - 100);
}

#[test]
fn paying_everything_cures_and_some_current_accounts_roll_in() {
    let start = date(2026, 3, 1);
    let mut people = population(2, 4_000, start);
    let (mut cured, mut rolled) = (0, 0);
    for day in 0..30u32 {
        let today = start.checked_add(jiff::Span::new().days(i64::from(day))).unwrap();
        for (i, d) in people.iter_mut().enumerate() {
            let t = advance(2, i as u64, d, day, today, Nudges { reminded: true, ..Nudges::default() });
            if t.cured {
                cured += 1;
                assert_eq!((d.account.dpd, d.account.overdue()), (0, 0));
            }
            rolled += u32::from(t.rolled_in);
            if t.rolled_in {
                assert_eq!(d.account.dpd, 1);
            }
        }
    }
    assert!(cured > 50 && rolled > 20, "cured {cured} rolled in {rolled}");
}

/// Interest and fees are charged to the balance: what is overdue never exceeds it (an import
/// refuses such an account), through statements, payments and cures.
#[test]
fn what_is_overdue_never_exceeds_the_balance() {
    let start = date(2026, 3, 2);
    let mut debtors = population(5, 3_000, start);
    for day in 0..75u32 {
        let today = start.checked_add(jiff::Span::new().days(i64::from(day))).unwrap();
        for (i, d) in debtors.iter_mut().enumerate() {
            advance(5, i as u64, d, day, today, Nudges { talked: i % 3 == 0, ..Nudges::default() });
            let a = &d.account;
            assert!(
                a.overdue() <= a.balance,
                "debtor {i} day {day}: overdue {} balance {}",
                a.overdue(),
                a.balance
            );
            assert!(a.overdue_principal >= 0 && a.balance >= 0, "debtor {i} day {day}: {a:?}");
        }
    }
}
