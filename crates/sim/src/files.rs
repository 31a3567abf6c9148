//! A population in Daylight's import formats (`customers.csv`, `contacts.csv`,
//! `accounts.csv`; docs/import.md), so that the twin's debtors enter a database by the same
//! path as a bank's files.

use std::fmt::Write as _;

use jiff::civil::Date;

use crate::dynamics::{GRACE_DAYS, MINIMUM_PERCENT};
use crate::population::Debtor;
use crate::rng::{Stream, uniform};
use crate::world::Payment;

/// The zone of every virtual debtor (China keeps one).
pub const TIME_ZONE: &str = "Asia/Shanghai";

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// `customers.csv`.
pub fn customers(debtors: &[Debtor]) -> String {
    let mut out = String::from(
        "customer_id,name,resident_id,gender,birth_date,mobile,employer,address,region,time_zone\n",
    );
    for d in debtors {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},,{},{TIME_ZONE}",
            d.customer_id,
            d.name,
            d.resident_id,
            d.gender,
            d.birth_date,
            d.mobile,
            d.employer.as_deref().unwrap_or(""),
            d.region,
        );
    }
    out
}

/// `contacts.csv`: the related people's phones (the debtor's own mobile is on the customer).
pub fn contacts(debtors: &[Debtor]) -> String {
    let mut out = String::from("contact_id,customer_id,role,kind,value,name,status,time_zone\n");
    for d in debtors {
        for r in &d.related {
            let _ = writeln!(
                out,
                "{},{},{},phone,{},{},unknown,",
                r.contact_id, d.customer_id, r.role, r.mobile, r.name
            );
        }
    }
    out
}

/// `accounts.csv` as of `today`: a delinquent account's due date is `dpd` days before
/// `today`; a current one's is the next due date after its statement.
pub fn accounts<'a>(debtors: impl IntoIterator<Item = &'a Debtor>, today: Date) -> String {
    let mut out = String::from(
        "account_id,customer_id,card_number,currency,credit_limit,balance,minimum_payment,statement_day,due_date,\
         cycles_delinquent,days_past_due,overdue_principal,overdue_interest,overdue_fees,overdue_late_fees\n",
    );
    for d in debtors {
        let a = &d.account;
        let due = if a.dpd > 0 {
            today.checked_sub(jiff::Span::new().days(i64::from(a.dpd))).unwrap_or(today)
        } else {
            let statement = today.with().day(a.statement_day).build().unwrap_or(today);
            let due = statement.checked_add(jiff::Span::new().days(i64::from(GRACE_DAYS))).unwrap_or(today);
            if due > today { due } else { due.checked_add(jiff::Span::new().months(1)).unwrap_or(due) }
        };
        let _ = writeln!(
            out,
            "{},{},{},CNY,{},{},{},{},{},,{},{},{},{},{}",
            a.account_id,
            d.customer_id,
            a.card_number,
            yuan(a.credit_limit),
            yuan(a.balance),
            yuan(a.balance * MINIMUM_PERCENT / 100),
            a.statement_day,
            due,
            a.dpd,
            yuan(a.overdue_principal),
            yuan(a.overdue_interest),
            yuan(a.overdue_fees),
            yuan(a.late_fees),
        );
    }
    out
}

/// Where the twin's cardholders spend (the transactions' descriptions).
const MERCHANTS: [&str; 12] = [
    "天猫超市",
    "京东商城",
    "美团外卖",
    "滴滴出行",
    "中国石化",
    "携程旅行",
    "苏宁易购",
    "盒马鲜生",
    "国美电器",
    "屈臣氏",
    "星巴克",
    "12306铁路",
];

/// `transactions.csv` as of `today`: each account's purchases over the three months before
/// it (three to ten, a cash advance now and then), adding up to its balance.
pub fn transactions(seed: u64, debtors: &[Debtor], today: Date) -> String {
    let mut out = String::from(
        "transaction_id,account_id,transaction_date,posting_date,kind,amount,currency,description\n",
    );
    for (i, d) in debtors.iter().enumerate() {
        let u = |k: u64| uniform(seed, Stream::Record, i as u64, 1_000 + k);
        let a = &d.account;
        let n = 3 + (u(0) * 8.0) as u64;
        let weights: Vec<f64> = (0..n).map(|k| 0.2 + u(1 + k)).collect();
        let total: f64 = weights.iter().sum();
        let mut left = a.balance;
        let mut rows: Vec<(Date, i64, u64)> = Vec::new();
        for (k, w) in (0..n).zip(&weights) {
            let amount = if k + 1 == n { left } else { ((a.balance as f64) * w / total) as i64 };
            left -= amount;
            let back = 1 + (u(20 + k) * 90.0) as i64;
            rows.push((today.checked_sub(jiff::Span::new().days(back)).unwrap_or(today), amount, k));
        }
        rows.sort_by_key(|r| (r.0, r.2));
        for (date, amount, k) in rows {
            if amount <= 0 {
                continue;
            }
            let cash = u(40 + k) < 0.05;
            let posted = date.checked_add(jiff::Span::new().days(1)).unwrap_or(date);
            let what =
                if cash { "ATM取现" } else { MERCHANTS[(u(60 + k) * MERCHANTS.len() as f64) as usize] };
            let _ = writeln!(
                out,
                "TT{i:08}-{k:02},{},{date},{posted},{},{},CNY,{what}",
                a.account_id,
                if cash { "cash_advance" } else { "purchase" },
                yuan(amount)
            );
        }
    }
    out
}

/// `payments.csv`: the day's payments, as the bank's repayment feed reports them.
pub fn payments(payments: &[Payment]) -> String {
    let mut out = String::from("payment_id,account_id,paid_at,amount,currency,channel,reference\n");
    // China keeps UTC+8 all year.
    let zone = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    for p in payments {
        let _ = writeln!(
            out,
            "{},{},{},{},CNY,bank_transfer,{}",
            p.id,
            p.account,
            p.at.to_zoned(zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z"),
            yuan(p.amount_fen),
            p.id
        );
    }
    out
}
