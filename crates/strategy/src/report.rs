//! An experiment's report: per arm, the metrics the requirements name, with 95 % intervals and
//! p-values against the first arm (the champion), and a warning when an arm holds fewer units
//! than the sample size asks for.
//!
//! Every unit (customer) counts in its arm, contacted or not, so arms compare like with like
//! (intention to treat). Over the window `[from, until)`:
//!
//! | metric | definition |
//! |---|---|
//! | T+1 contact rate | customer-days with a dial to the debtor on which the debtor was reached that day or the next ÷ customer-days with a dial |
//! | right-party-contact rate | conversations ÷ dials to the debtor |
//! | PTP rate | calls ending in a promise to pay ÷ conversations |
//! | kept rate | promises kept ÷ promises settled (kept or broken) |
//! | recovered per customer | payments received, yuan, mean over the arm's customers |
//! | cost per customer | contacts priced by [`UNIT_COST_FEN`], yuan, mean over the arm's customers |
//! | complaints per 10k contacts | complaints registered against contacts (none are recorded before the QC issue lands: shown as not recorded) |

use std::collections::BTreeMap;

use daylight_domain::attempt::{Channel, Outcome, OutcomeClass};
use daylight_domain::customer::Recipient;
use daylight_scoring::features::DebtorHistory;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::experiment::{Arms, Mean, Proportion, SampleSize};

/// What a contact costs, fen: a collector's call with its wrap-up, a robot call, an SMS, an
/// e-mail, a letter (printing and post), a field visit.
pub const UNIT_COST_FEN: [(Channel, i64); 6] = [
    (Channel::Call, 100),
    (Channel::RobotCall, 10),
    (Channel::Sms, 5),
    (Channel::Email, 1),
    (Channel::Letter, 800),
    (Channel::Visit, 10_000),
];

/// A rate with its interval and its comparison with the first arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateStat {
    /// Successes and trials.
    #[serde(flatten)]
    pub counts: Proportion,
    /// The rate.
    pub rate: f64,
    /// 95 % Wilson interval.
    pub ci: (f64, f64),
    /// Two-sided p-value against the first arm (none for the first arm itself).
    pub p_value: Option<f64>,
}

/// A mean with its interval and its comparison with the first arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeanStat {
    /// The mean.
    pub mean: f64,
    /// 95 % interval.
    pub ci: (f64, f64),
    /// Two-sided p-value against the first arm.
    pub p_value: Option<f64>,
}

/// One arm's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmReport {
    /// Its name.
    pub arm: String,
    /// Customers in it.
    pub customers: u64,
    /// T+1 contact rate.
    pub contact_rate: RateStat,
    /// Right-party-contact rate.
    pub rpc_rate: RateStat,
    /// PTP rate.
    pub ptp_rate: RateStat,
    /// Kept rate.
    pub kept_rate: RateStat,
    /// Recovered yuan per customer.
    pub recovered_per_customer: MeanStat,
    /// Recovered in all, fen.
    pub recovered_fen: i64,
    /// Cost in yuan per customer.
    pub cost_per_customer: MeanStat,
    /// Complaints per 10k contacts (`None`: none recorded yet).
    pub complaints_per_10k: Option<f64>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The window's start.
    pub from: Timestamp,
    /// Its end.
    pub until: Timestamp,
    /// Per arm, in the experiment's order.
    pub arms: Vec<ArmReport>,
    /// The sample size each arm needs.
    pub sample_size: SampleSize,
    /// Warnings (arms below the sample size).
    pub warnings: Vec<String>,
}

#[derive(Default)]
struct Tally {
    customers: u64,
    days: Proportion,
    rpc: Proportion,
    ptp: Proportion,
    kept: Proportion,
    recovered: Mean,
    recovered_fen: i64,
    cost: Mean,
}

/// The report over `histories` (one per customer's case; the customer id is the case id without
/// its `CASE-` prefix) in `[from, until)`.
pub fn report(
    arms: &Arms,
    salt: &str,
    histories: &[DebtorHistory],
    from: Timestamp,
    until: Timestamp,
    size: SampleSize,
) -> Report {
    let mut tallies: Vec<Tally> = arms.arms().iter().map(|_| Tally::default()).collect();
    for h in histories {
        let customer = h.case.strip_prefix("CASE-").unwrap_or(&h.case);
        let arm = arms.assign(salt, customer);
        let k = arms.arms().iter().position(|a| a.name == arm.name).unwrap_or(0);
        let t = &mut tallies[k];
        t.customers += 1;
        let inside = |at: Timestamp| at >= from && at < until;
        // Customer-days: dialled, and reached that day or the next.
        let mut days: BTreeMap<Date, (bool, bool)> = BTreeMap::new();
        let mut cost = 0i64;
        for a in h.attempts.iter().filter(|a| inside(a.at)) {
            cost += UNIT_COST_FEN.iter().find(|(c, _)| *c == a.channel).map_or(0, |(_, f)| *f);
            if a.recipient != Recipient::Debtor {
                continue;
            }
            let day = a.at.to_zoned(h.zone.clone()).date();
            let conversation = a.outcome.class() == OutcomeClass::Conversation;
            if a.channel.is_call() {
                t.rpc.trials += 1;
                if conversation {
                    t.rpc.successes += 1;
                    t.ptp.trials += 1;
                    if a.outcome == Outcome::PromiseToPay {
                        t.ptp.successes += 1;
                    }
                }
                days.entry(day).or_default().0 = true;
            }
            if conversation {
                days.entry(day).or_default().1 = true;
            }
        }
        let reached: Vec<Date> = days.iter().filter(|(_, v)| v.1).map(|(d, _)| *d).collect();
        for (day, (dialled, _)) in &days {
            if *dialled {
                t.days.trials += 1;
                let next = day.tomorrow().ok();
                if reached.iter().any(|r| r == day || Some(*r) == next) {
                    t.days.successes += 1;
                }
            }
        }
        for p in h.promises.iter().filter(|p| inside(p.created_at)) {
            if p.kept || p.broken {
                t.kept.trials += 1;
                if p.kept {
                    t.kept.successes += 1;
                }
            }
        }
        let paid: i64 = h.payments.iter().filter(|p| inside(p.at)).map(|p| p.amount).sum();
        t.recovered_fen += paid;
        t.recovered.add(paid as f64 / 100.0);
        t.cost.add(cost as f64 / 100.0);
    }
    let rate = |p: &Proportion, control: &Proportion, first: bool| RateStat {
        counts: *p,
        rate: p.rate(),
        ci: p.wilson(0.95),
        p_value: if first { None } else { p.p_value(control) },
    };
    let mean = |m: &Mean, control: &Mean, first: bool| MeanStat {
        mean: m.mean(),
        ci: m.interval(0.95),
        p_value: if first { None } else { m.p_value(control) },
    };
    let control = &tallies[0];
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, (arm, t)) in arms.arms().iter().zip(&tallies).enumerate() {
        let first = i == 0;
        if t.customers < size.per_arm {
            warnings.push(format!(
                "arm {} has {} customers, fewer than the {} the sample size asks for (σ {}, δ {}): its differences may be noise",
                arm.name, t.customers, size.per_arm, size.sigma, size.delta
            ));
        }
        out.push(ArmReport {
            arm: arm.name.clone(),
            customers: t.customers,
            contact_rate: rate(&t.days, &control.days, first),
            rpc_rate: rate(&t.rpc, &control.rpc, first),
            ptp_rate: rate(&t.ptp, &control.ptp, first),
            kept_rate: rate(&t.kept, &control.kept, first),
            recovered_per_customer: mean(&t.recovered, &control.recovered, first),
            recovered_fen: t.recovered_fen,
            cost_per_customer: mean(&t.cost, &control.cost, first),
            complaints_per_10k: None,
        });
    }
    Report { from, until, arms: out, sample_size: size, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::sample_size;
    use daylight_scoring::features::{AttemptFact, PaymentFact};
    use jiff::tz::TimeZone;

    fn call(at: &str, outcome: Outcome) -> AttemptFact {
        AttemptFact {
            at: at.parse().unwrap(),
            channel: Channel::Call,
            recipient: Recipient::Debtor,
            outcome,
            duration_secs: 0,
        }
    }

    fn history(customer: &str, attempts: Vec<AttemptFact>, paid: i64) -> DebtorHistory {
        DebtorHistory {
            case: format!("CASE-{customer}"),
            zone: TimeZone::get("Asia/Shanghai").unwrap(),
            birth_date: None,
            credit_limit: 0,
            accounts: Vec::new(),
            attempts,
            payments: if paid > 0 {
                vec![PaymentFact { at: "2026-03-05T02:00:00Z".parse().unwrap(), amount: paid }]
            } else {
                Vec::new()
            },
            promises: Vec::new(),
        }
    }

    #[test]
    fn arms_are_tallied_by_their_definitions() {
        // Two arms of one unit each, salt chosen so C1 and C2 land apart.
        let arms = Arms::parse("champion:1,challenger:1").unwrap();
        let salt = (0..100)
            .map(|i| format!("s{i}"))
            .find(|s| arms.assign(s, "C1").name != arms.assign(s, "C2").name)
            .unwrap();
        let (champ, chall) =
            if arms.assign(&salt, "C1").name == "champion" { ("C1", "C2") } else { ("C2", "C1") };
        let hs = vec![
            // Champion: dialled on 3 March (no answer), reached on 4 March (T+1), a promise.
            history(
                champ,
                vec![
                    call("2026-03-03T02:00:00Z", Outcome::NoAnswer),
                    call("2026-03-04T02:00:00Z", Outcome::PromiseToPay),
                ],
                50_000,
            ),
            // Challenger: dialled twice on one day, never reached; outside the window once.
            history(
                chall,
                vec![
                    call("2026-03-03T02:00:00Z", Outcome::NoAnswer),
                    call("2026-03-03T06:00:00Z", Outcome::Busy),
                    call("2026-04-01T02:00:00Z", Outcome::Conversation),
                ],
                0,
            ),
        ];
        let size = sample_size(0.18, 0.05, 0.05, 0.8).unwrap();
        let r = report(
            &arms,
            &salt,
            &hs,
            "2026-03-01T00:00:00Z".parse().unwrap(),
            "2026-03-10T00:00:00Z".parse().unwrap(),
            size,
        );
        let c = &r.arms[0];
        assert_eq!((c.arm.as_str(), c.customers), ("champion", 1));
        // Two dial-days; both reached that day or the next.
        assert_eq!((c.contact_rate.counts.successes, c.contact_rate.counts.trials), (2, 2));
        assert_eq!((c.rpc_rate.counts.successes, c.rpc_rate.counts.trials), (1, 2));
        assert_eq!((c.ptp_rate.counts.successes, c.ptp_rate.counts.trials), (1, 1));
        assert_eq!(c.recovered_fen, 50_000);
        assert_eq!(c.cost_per_customer.mean, 2.0, "two calls at 1 yuan");
        let x = &r.arms[1];
        assert_eq!((x.contact_rate.counts.successes, x.contact_rate.counts.trials), (0, 1));
        assert_eq!(x.rpc_rate.counts.trials, 2, "the April call is outside the window");
        assert!(c.contact_rate.p_value.is_none() && x.contact_rate.p_value.is_some());
        assert_eq!(r.warnings.len(), 2, "one customer per arm is far below 204");
    }
}
