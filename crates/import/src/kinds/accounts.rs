//! `accounts.csv`: card accounts; their days past due set the bucket and open or close cases.

use daylight_domain::account::{CardAccount, Overdue};
use daylight_domain::id::{AccountId, CustomerId};
use daylight_domain::pii::MaskedPan;
use daylight_domain::{Currency, Money};
use daylight_store::model::KeyTable;
use daylight_store::{ImportSession, StoreError};

use super::{Ctx, Kind, Outcome};
use crate::fields::{date, integer};
use crate::schema::ACCOUNTS;
use crate::schema::account::*;
use crate::source::Fields;

/// Longest delinquency accepted: 100 years.
const MAX_DPD: u32 = 36_500;

pub(crate) struct Accounts;

impl Kind for Accounts {
    type Record = CardAccount;

    fn key(r: &CardAccount) -> &str {
        r.id.as_str()
    }

    fn parse(f: &mut Fields<'_>, _ctx: &Ctx) -> Option<CardAccount> {
        let id = f.parse(ID, AccountId::parse);
        let customer = f.parse(CUSTOMER, CustomerId::parse);
        let pan = f.parse(CARD_NUMBER, MaskedPan::from_full);
        let currency = f.parse_opt(CURRENCY, str::parse::<Currency>).flatten().unwrap_or(Currency::Cny);
        let mut amount = |col| f.parse(col, |t| Money::parse(t, currency));
        let credit_limit = amount(CREDIT_LIMIT);
        let balance = amount(BALANCE);
        let minimum_payment = amount(MINIMUM_PAYMENT);
        let mut part =
            |col| f.parse_opt(col, |t| Money::parse(t, currency)).map(|m| m.unwrap_or(Money::zero(currency)));
        let overdue =
            (part(OVERDUE_PRINCIPAL), part(OVERDUE_INTEREST), part(OVERDUE_FEES), part(OVERDUE_LATE_FEES));
        let statement_day = f.parse(STATEMENT_DAY, |t| integer(t, 1u8, 31));
        let due_date = f.parse(DUE_DATE, date);
        let days_past_due = f.parse(DAYS_PAST_DUE, |t| integer(t, 0u32, MAX_DPD));
        let cycles = f.parse_opt(CYCLES_DELINQUENT, |t| integer(t, 0u32, MAX_DPD / 28 + 1));
        if !f.rejects.is_empty() {
            return None;
        }
        let days_past_due = days_past_due?;
        let account = CardAccount {
            id: id?,
            customer: customer?,
            pan: pan?,
            currency,
            credit_limit: credit_limit?,
            balance: balance?,
            minimum_payment: minimum_payment?,
            statement_day: statement_day?,
            due_date: due_date?,
            cycles_delinquent: cycles?.unwrap_or(days_past_due.div_ceil(30)),
            days_past_due,
            overdue: Overdue {
                principal: overdue.0?,
                interest: overdue.1?,
                fees: overdue.2?,
                late_fees: overdue.3?,
            },
        };
        if let Err(e) = account.check() {
            let col = ACCOUNTS.columns.iter().position(|c| c.name == e.field).unwrap_or(ID);
            f.reject(col, e.error);
            return None;
        }
        Some(account)
    }

    async fn resolve(
        session: &mut dyn ImportSession,
        rows: Vec<(u64, CardAccount)>,
        write: bool,
        out: &mut Outcome,
    ) -> Result<(), StoreError> {
        let owners: Vec<&str> = rows.iter().map(|(_, a)| a.customer.as_str()).collect();
        let absent = session.missing(KeyTable::Customers, &owners).await?;
        let ids: Vec<&str> = rows.iter().map(|(_, a)| a.id.as_str()).collect();
        let before = session.account_states(&ids).await?;
        let mut good = Vec::with_capacity(rows.len());
        for (line, a) in rows {
            if absent.contains(a.customer.as_str()) {
                out.reject(
                    line,
                    CUSTOMER,
                    "UNKNOWN_CUSTOMER",
                    format!("customer {} has not been imported", a.customer),
                );
                continue;
            }
            match before.get(a.id.as_str()) {
                Some(s) if s.customer != a.customer.as_str() => out.reject(
                    line,
                    CUSTOMER,
                    "OWNER_CHANGED",
                    format!("account {} belongs to customer {}; an import cannot move it", a.id, s.customer),
                ),
                Some(s) if s.currency != a.currency => out.reject(
                    line,
                    CURRENCY,
                    "CURRENCY_MISMATCH",
                    format!(
                        "account {} is held in {}; an import cannot change its currency",
                        a.id, s.currency
                    ),
                ),
                _ => good.push(a),
            }
        }
        out.count(good.iter().map(|a| a.id.as_str()), |k| before.contains_key(k));
        if write && !good.is_empty() {
            session.upsert_accounts(&good, &before).await?;
        }
        Ok(())
    }
}
