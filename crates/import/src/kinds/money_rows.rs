//! `transactions.csv` and `payments.csv`: rows that move money on an account. Their amounts are
//! read in the account's currency, so they are parsed once the account is looked up.

use daylight_domain::account::{Payment, PaymentChannel, Transaction, TransactionKind};
use daylight_domain::id::{AccountId, PaymentId, TransactionId};
use daylight_domain::{Code, Currency, Invalid, Money};
use daylight_store::model::{AccountState, KeyTable};
use daylight_store::{ImportSession, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;

use super::{Ctx, Kind, Outcome, same_owner};
use crate::fields::{date, free_text, instant, word};
use crate::schema::{payment, transaction};
use crate::source::Fields;

/// The amount as written, waiting for the account's currency.
pub(crate) struct Amount {
    text: String,
    stated: Option<Currency>,
}

impl Amount {
    /// The amount in the account's currency, or the column and reason to refuse it.
    fn resolve(
        &self,
        account: &AccountState,
        amount_col: usize,
        currency_col: usize,
    ) -> Result<Money, (usize, &'static str, String)> {
        if let Some(c) = self.stated
            && c != account.currency
        {
            return Err((
                currency_col,
                "CURRENCY_MISMATCH",
                format!("the account is held in {}, not {c}", account.currency),
            ));
        }
        Money::parse(&self.text, account.currency).map_err(|e| (amount_col, e.code.as_str(), e.message))
    }
}

pub(crate) struct TransactionRow {
    id: TransactionId,
    account: AccountId,
    transaction_date: Date,
    posting_date: Date,
    kind: TransactionKind,
    amount: Amount,
    description: Option<String>,
}

pub(crate) struct PaymentRow {
    id: PaymentId,
    account: AccountId,
    paid_at: Timestamp,
    amount: Amount,
    channel: PaymentChannel,
    reference: Option<String>,
}

fn amount(
    f: &mut Fields<'_>,
    amount_col: usize,
    currency_col: usize,
) -> (Option<String>, Option<Option<Currency>>) {
    let text = f.required(amount_col).map(str::to_owned);
    let stated = f.parse_opt(currency_col, str::parse::<Currency>);
    (text, stated)
}

/// Looks up the accounts of a chunk, refuses rows of unknown accounts or unreadable amounts, and
/// returns the rest with their amounts.
async fn with_accounts<R>(
    session: &mut dyn ImportSession,
    rows: Vec<(u64, R)>,
    parts: impl Fn(&R) -> (&AccountId, &Amount),
    cols: (usize, usize, usize),
    out: &mut Outcome,
) -> Result<Vec<(u64, R, Money)>, StoreError> {
    let (account_col, amount_col, currency_col) = cols;
    let ids: Vec<&str> = rows.iter().map(|(_, r)| parts(r).0.as_str()).collect();
    let accounts = session.account_states(&ids).await?;
    let mut good = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        let (account, amount) = parts(&r);
        let Some(state) = accounts.get(account.as_str()) else {
            out.reject(
                line,
                account_col,
                "UNKNOWN_ACCOUNT",
                format!("account {account} has not been imported"),
            );
            continue;
        };
        match amount.resolve(state, amount_col, currency_col) {
            Ok(m) => good.push((line, r, m)),
            Err((col, code, reason)) => out.reject(line, col, code, reason),
        }
    }
    Ok(good)
}

pub(crate) struct Transactions;

impl Kind for Transactions {
    type Record = TransactionRow;

    fn key(r: &TransactionRow) -> &str {
        r.id.as_str()
    }

    fn parse(f: &mut Fields<'_>, _ctx: &Ctx) -> Option<TransactionRow> {
        use transaction::*;
        let id = f.parse(ID, TransactionId::parse);
        let account = f.parse(ACCOUNT, AccountId::parse);
        let transaction_date = f.parse(TRANSACTION_DATE, date);
        let posting_date = f.parse_opt(POSTING_DATE, date);
        let kind = f.parse(KIND, word);
        let (text, stated) = amount(f, AMOUNT, CURRENCY);
        let description = f.parse_opt(DESCRIPTION, |t| free_text(t, 200));
        if !f.rejects.is_empty() {
            return None;
        }
        let transaction_date = transaction_date?;
        Some(TransactionRow {
            id: id?,
            account: account?,
            transaction_date,
            posting_date: posting_date?.unwrap_or(transaction_date),
            kind: kind?,
            amount: Amount { text: text?, stated: stated? },
            description: description?,
        })
    }

    async fn resolve(
        session: &mut dyn ImportSession,
        rows: Vec<(u64, TransactionRow)>,
        write: bool,
        out: &mut Outcome,
    ) -> Result<(), StoreError> {
        use transaction::*;
        let priced =
            with_accounts(session, rows, |r| (&r.account, &r.amount), (ACCOUNT, AMOUNT, CURRENCY), out)
                .await?;
        let mut checked = Vec::with_capacity(priced.len());
        for (line, r, amount) in priced {
            let t = Transaction {
                id: r.id,
                account: r.account,
                transaction_date: r.transaction_date,
                posting_date: r.posting_date,
                kind: r.kind,
                amount,
                description: r.description,
            };
            match t.check() {
                Ok(()) => checked.push((line, t)),
                Err(e) => {
                    let col = if e.field == "posting_date" { POSTING_DATE } else { AMOUNT };
                    out.reject(line, col, e.error.code.as_str(), e.error.message);
                }
            }
        }
        let ids: Vec<&str> = checked.iter().map(|(_, t)| t.id.as_str()).collect();
        let stored = session.owners(KeyTable::Transactions, &ids).await?;
        let good = same_owner(checked, &stored, out, ACCOUNT, "transaction", |t| {
            (t.id.as_str(), t.account.as_str())
        });
        if write && !good.is_empty() {
            session.upsert_transactions(&good).await?;
        }
        Ok(())
    }
}

pub(crate) struct Payments;

impl Kind for Payments {
    type Record = PaymentRow;

    fn key(r: &PaymentRow) -> &str {
        r.id.as_str()
    }

    fn parse(f: &mut Fields<'_>, ctx: &Ctx) -> Option<PaymentRow> {
        use payment::*;
        let id = f.parse(ID, PaymentId::parse);
        let account = f.parse(ACCOUNT, AccountId::parse);
        let paid_at = f.parse(PAID_AT, |t| instant(t, &ctx.zone));
        let (text, stated) = amount(f, AMOUNT, CURRENCY);
        let channel = f.parse_opt(CHANNEL, word::<PaymentChannel>);
        let reference = f.parse_opt(REFERENCE, |t| free_text(t, 100));
        if !f.rejects.is_empty() {
            return None;
        }
        Some(PaymentRow {
            id: id?,
            account: account?,
            paid_at: paid_at?,
            amount: Amount { text: text?, stated: stated? },
            channel: channel?.unwrap_or(PaymentChannel::Other),
            reference: reference?,
        })
    }

    async fn resolve(
        session: &mut dyn ImportSession,
        rows: Vec<(u64, PaymentRow)>,
        write: bool,
        out: &mut Outcome,
    ) -> Result<(), StoreError> {
        use payment::*;
        let priced =
            with_accounts(session, rows, |r| (&r.account, &r.amount), (ACCOUNT, AMOUNT, CURRENCY), out)
                .await?;
        let mut checked = Vec::with_capacity(priced.len());
        for (line, r, amount) in priced {
            if amount.minor <= 0 {
                let e = Invalid::new(Code::AmountRange, "a payment must be above zero");
                out.reject(line, AMOUNT, e.code.as_str(), e.message);
                continue;
            }
            let p = Payment {
                id: r.id,
                account: r.account,
                paid_at: r.paid_at,
                amount,
                channel: r.channel,
                reference: r.reference,
            };
            checked.push((line, p));
        }
        let ids: Vec<&str> = checked.iter().map(|(_, p)| p.id.as_str()).collect();
        let stored = session.owners(KeyTable::Payments, &ids).await?;
        let good =
            same_owner(checked, &stored, out, ACCOUNT, "payment", |p| (p.id.as_str(), p.account.as_str()));
        if write && !good.is_empty() {
            session.upsert_payments(&good).await?;
        }
        Ok(())
    }
}
