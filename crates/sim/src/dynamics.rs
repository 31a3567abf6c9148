//! A card account, one day at a time: interest on what is overdue, late fees at each statement,
//! current accounts missing a payment and rolling into M1, payments (spontaneous, reminded or
//! promised) applied fees first, cure when nothing is overdue, and hardship striking.

use jiff::civil::Date;

use crate::population::Debtor;
use crate::rng::{Stream, uniform};

/// Daily interest on overdue principal: 0.05 % (万分之五), the usual card rate in China.
pub const DAILY_INTEREST_BP: i64 = 5;
/// Late fee at each statement while overdue: 5 % of the minimum payment.
pub const LATE_FEE_PERCENT: i64 = 5;
/// The minimum payment: 10 % of the balance.
pub const MINIMUM_PERCENT: i64 = 10;
/// Days from the statement to its due date.
pub const GRACE_DAYS: i8 = 20;
/// P(a current account misses its due date), before ability (see docs/twin.md).
pub const MISS_RATE: f64 = 0.05;
/// P(a delinquent debtor pays unprompted on a given day), before ability and willingness.
pub const SPONTANEOUS_RATE: f64 = 0.012;
/// P(hardship strikes a debtor on a given day): unemployment, illness.
pub const HARDSHIP_RATE: f64 = 0.0004;

/// A promise to pay the twin's debtor made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promise {
    /// Day it falls due (days since the simulation began).
    pub due_day: u32,
    /// Amount promised, fen.
    pub amount: i64,
}

/// What was done to the account today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Today {
    /// Paid, fen.
    pub paid: i64,
    /// A promise fell due: kept (`Some(true)`) or broken.
    pub promise_kept: Option<bool>,
    /// Nothing is overdue any more.
    pub cured: bool,
    /// A current account missed its due date.
    pub rolled_in: bool,
    /// Hardship struck.
    pub hardship: bool,
}

/// What nudged the debtor today.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Nudges {
    /// A promise falling due today.
    pub promise: Option<Promise>,
    /// An SMS or robot call delivered a reminder today.
    pub reminded: bool,
    /// A conversation today (without a promise).
    pub talked: bool,
}

fn due_day_of_month(statement_day: i8) -> i8 {
    (statement_day - 1 + GRACE_DAYS) % 28 + 1
}

/// Advances debtor `i`'s account by one day (`day` days since the simulation began, `date` its
/// calendar date), after the day's contacts.
pub fn advance(seed: u64, i: u64, d: &mut Debtor, day: u32, date: Date, nudges: Nudges) -> Today {
    let u = |k: u64| uniform(seed, Stream::Pay, i, u64::from(day) << 8 | k);
    let mut today = Today::default();
    let h = &mut d.hidden;
    if uniform(seed, Stream::Life, i, u64::from(day)) < HARDSHIP_RATE {
        h.ability *= 0.3;
        today.hardship = true;
    }
    let a = &mut d.account;
    let minimum = a.balance * MINIMUM_PERCENT / 100;
    if a.dpd == 0 {
        if date.day() == due_day_of_month(a.statement_day)
            && a.balance > 0
            && u(0) < MISS_RATE * 2.0 * (1.0 - h.ability)
        {
            a.dpd = 1;
            a.overdue_principal = minimum.max(1);
            today.rolled_in = true;
        }
        return today;
    }
    // Interest and fees, charged to the balance (so what is overdue never exceeds it).
    let interest = a.overdue_principal * DAILY_INTEREST_BP / 10_000;
    a.overdue_interest += interest;
    a.balance += interest;
    if date.day() == a.statement_day {
        let fee = minimum * LATE_FEE_PERCENT / 100;
        a.late_fees += fee;
        a.balance += fee;
        let charges = a.overdue_interest + a.overdue_fees + a.late_fees;
        a.overdue_principal = (a.overdue_principal + minimum).min(a.balance - charges);
    }
    // Payments.
    let capacity = h.ability * h.willingness;
    let mut pay = 0;
    if let Some(p) = nudges.promise.filter(|p| p.due_day == day) {
        let kept = u(1) < 0.25 + 0.7 * capacity;
        today.promise_kept = Some(kept);
        if kept {
            pay = p.amount;
        }
    }
    if pay == 0 {
        let mut rate = SPONTANEOUS_RATE * (0.2 + 1.6 * capacity);
        if nudges.reminded {
            rate *= 1.0 + h.sms_reads;
        }
        if nudges.talked {
            rate *= 2.0;
        }
        if u(2) < rate {
            // The able pay it all; the rest a minimum or part of it.
            pay = if u(3) < h.ability { a.overdue() } else { minimum.min(a.overdue()).max(a.overdue() / 5) };
        }
    }
    if pay > 0 {
        let pay = pay.min(a.overdue());
        today.paid = pay;
        let mut left = pay;
        for part in [&mut a.late_fees, &mut a.overdue_fees, &mut a.overdue_interest, &mut a.overdue_principal]
        {
            let take = left.min(*part);
            *part -= take;
            left -= take;
        }
        a.balance = (a.balance - pay).max(0);
    }
    if a.overdue() <= 0 {
        a.dpd = 0;
        today.cured = true;
    } else {
        a.dpd += 1;
    }
    today
}
