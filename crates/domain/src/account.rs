//! Card accounts, their transactions and payments.
//!
//! An account is a snapshot of the bank's card system: limit, balance, minimum payment,
//! statement day, due date and delinquency (cycles, days past due, and the overdue amount split
//! into principal, interest, fees and late fees). Amounts are [`Money`] in one currency per
//! account; transactions and payments carry that currency too.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::bucket::{Bucket, BucketScheme};
use crate::error::{Code, FieldInvalid, Valid};
use crate::id::{AccountId, CustomerId, PaymentId, TransactionId};
use crate::money::{Currency, Money};
use crate::pii::MaskedPan;
use crate::vocabulary;

/// The overdue amount of an account, split as collectors explain it to the debtor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overdue {
    /// Overdue principal.
    pub principal: Money,
    /// Overdue interest.
    pub interest: Money,
    /// Overdue fees (annual fee, instalment fees, cash-advance fees).
    pub fees: Money,
    /// Late-payment fees (违约金).
    pub late_fees: Money,
}

impl Overdue {
    /// Nothing overdue.
    pub const fn zero(currency: Currency) -> Overdue {
        Overdue {
            principal: Money::zero(currency),
            interest: Money::zero(currency),
            fees: Money::zero(currency),
            late_fees: Money::zero(currency),
        }
    }

    /// The four parts together.
    pub fn total(&self) -> Valid<Money> {
        self.principal.checked_add(self.interest)?.checked_add(self.fees)?.checked_add(self.late_fees)
    }

    /// The part a waiver component reduces.
    pub fn component(&self, c: Component) -> Money {
        match c {
            Component::Principal => self.principal,
            Component::Interest => self.interest,
            Component::Fees => self.fees,
            Component::LateFees => self.late_fees,
        }
    }
}

vocabulary! {
    /// A part of the overdue amount.
    pub enum Component ("component") {
        /// Principal.
        Principal = "principal",
        /// Interest.
        Interest = "interest",
        /// Fees.
        Fees = "fees",
        /// Late fees.
        LateFees = "late_fees",
    }
}

/// A credit-card account in collection (or about to be).
#[derive(Debug, Clone, PartialEq)]
pub struct CardAccount {
    /// The bank's key.
    pub id: AccountId,
    /// The debtor.
    pub customer: CustomerId,
    /// The card number, masked; the full number is never stored.
    pub pan: MaskedPan,
    /// Currency of every amount on the account.
    pub currency: Currency,
    /// Credit limit.
    pub credit_limit: Money,
    /// Outstanding balance.
    pub balance: Money,
    /// Minimum payment due this cycle.
    pub minimum_payment: Money,
    /// Day of month the statement is cut (1–31; short months use their last day).
    pub statement_day: u8,
    /// Payment due date of the current statement.
    pub due_date: Date,
    /// Consecutive statement cycles with the minimum unpaid.
    pub cycles_delinquent: u32,
    /// Days past due.
    pub days_past_due: u32,
    /// The overdue amount, split.
    pub overdue: Overdue,
}

impl CardAccount {
    /// Checks the amounts agree with each other: one currency, no negative balance parts, the
    /// overdue amount within the balance, and delinquency fields that agree (no overdue amount
    /// without days past due, and the reverse). The error names the field to correct.
    pub fn check(&self) -> Result<(), FieldInvalid> {
        let parts = [
            ("credit_limit", self.credit_limit),
            ("balance", self.balance),
            ("minimum_payment", self.minimum_payment),
            ("overdue_principal", self.overdue.principal),
            ("overdue_interest", self.overdue.interest),
            ("overdue_fees", self.overdue.fees),
            ("overdue_late_fees", self.overdue.late_fees),
        ];
        for (field, m) in parts {
            if m.currency != self.currency {
                return Err(FieldInvalid::new(
                    field,
                    Code::CurrencyMismatch,
                    format!("{field} is in {} but the account is in {}", m.currency, self.currency),
                ));
            }
            if m.is_negative() {
                return Err(FieldInvalid::new(
                    field,
                    Code::AmountRange,
                    format!("{field} may not be negative"),
                ));
            }
        }
        if !(1..=31).contains(&self.statement_day) {
            return Err(FieldInvalid::new("statement_day", Code::Integer, "statement_day must be 1–31"));
        }
        let overdue =
            self.overdue.total().map_err(|e| FieldInvalid { field: "overdue_principal", error: e })?;
        if overdue.minor > self.balance.minor {
            return Err(FieldInvalid::new(
                "balance",
                Code::Inconsistent,
                format!("overdue total {} exceeds the balance {}", overdue.decimal(), self.balance.decimal()),
            ));
        }
        if self.days_past_due == 0 && !overdue.is_zero() {
            return Err(FieldInvalid::new(
                "days_past_due",
                Code::Inconsistent,
                "an overdue amount needs days_past_due of at least 1",
            ));
        }
        if self.days_past_due > 0 && overdue.is_zero() {
            return Err(FieldInvalid::new(
                "days_past_due",
                Code::Inconsistent,
                "days_past_due above 0 needs an overdue amount",
            ));
        }
        Ok(())
    }

    /// The bucket under `scheme`.
    pub fn bucket(&self, scheme: &BucketScheme) -> Bucket {
        scheme.bucket(self.days_past_due)
    }
}

vocabulary! {
    /// What a card transaction is.
    pub enum TransactionKind ("transaction kind") {
        /// A purchase.
        Purchase = "purchase",
        /// A cash advance (取现): large ones are a pre-collection warning sign.
        CashAdvance = "cash_advance",
        /// An instalment billed.
        Instalment = "instalment",
        /// A fee charged.
        Fee = "fee",
        /// Interest charged.
        Interest = "interest",
        /// A late fee charged.
        LateFee = "late_fee",
        /// A refund (a credit; negative amount).
        Refund = "refund",
        /// A manual adjustment (either sign).
        Adjustment = "adjustment",
    }
}

impl TransactionKind {
    /// Whether the amount of this kind must be a credit (below zero), a debit (above zero), or
    /// either.
    pub fn sign(self) -> Sign {
        match self {
            TransactionKind::Refund => Sign::Credit,
            TransactionKind::Adjustment => Sign::Either,
            _ => Sign::Debit,
        }
    }
}

/// The sign a transaction amount must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// Above zero.
    Debit,
    /// Below zero.
    Credit,
    /// Non-zero either way.
    Either,
}

/// A posted card transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// The bank's key.
    pub id: TransactionId,
    /// The account it was posted to.
    pub account: AccountId,
    /// When it happened.
    pub transaction_date: Date,
    /// When the bank posted it.
    pub posting_date: Date,
    /// What it is.
    pub kind: TransactionKind,
    /// Debits above zero, credits below.
    pub amount: Money,
    /// Merchant or description.
    pub description: Option<String>,
}

impl Transaction {
    /// Checks the amount's sign against the kind and the posting date against the transaction
    /// date.
    pub fn check(&self) -> Result<(), FieldInvalid> {
        let ok = match self.kind.sign() {
            Sign::Debit => self.amount.minor > 0,
            Sign::Credit => self.amount.minor < 0,
            Sign::Either => self.amount.minor != 0,
        };
        if !ok {
            let want = match self.kind.sign() {
                Sign::Debit => "above zero",
                Sign::Credit => "below zero",
                Sign::Either => "non-zero",
            };
            return Err(FieldInvalid::new(
                "amount",
                Code::AmountRange,
                format!("a {} amount must be {want}", self.kind),
            ));
        }
        if self.posting_date < self.transaction_date {
            return Err(FieldInvalid::new(
                "posting_date",
                Code::Inconsistent,
                "posting_date is before transaction_date",
            ));
        }
        Ok(())
    }
}

vocabulary! {
    /// How a payment reached the bank.
    pub enum PaymentChannel ("payment channel") {
        /// Bank transfer.
        BankTransfer = "bank_transfer",
        /// The bank's app or online banking.
        App = "app",
        /// Over the counter.
        Counter = "counter",
        /// Automatic debit from a linked account.
        AutoDebit = "auto_debit",
        /// Collected by an outside agency.
        Agency = "agency",
        /// Anything else.
        Other = "other",
    }
}

/// A payment received on an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    /// The bank's key.
    pub id: PaymentId,
    /// The account paid.
    pub account: AccountId,
    /// When it was received.
    pub paid_at: Timestamp,
    /// Above zero.
    pub amount: Money,
    /// How it was paid.
    pub channel: PaymentChannel,
    /// The bank's reference.
    pub reference: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::Cny)
    }

    fn account(dpd: u32, overdue_principal: i64) -> CardAccount {
        CardAccount {
            id: AccountId::parse("A1").unwrap(),
            customer: CustomerId::parse("C1").unwrap(),
            pan: MaskedPan::from_full("4111111111111111").unwrap(),
            currency: Currency::Cny,
            credit_limit: cny(5_000_000),
            balance: cny(1_000_000),
            minimum_payment: cny(100_000),
            statement_day: 5,
            due_date: Date::new(2026, 3, 25).unwrap(),
            cycles_delinquent: 1,
            days_past_due: dpd,
            overdue: Overdue {
                principal: cny(overdue_principal),
                interest: cny(1_000),
                fees: cny(0),
                late_fees: cny(500),
            },
        }
    }

    #[test]
    fn consistent_accounts_pass() {
        let a = account(45, 300_000);
        assert_eq!(a.check(), Ok(()));
        assert_eq!(a.bucket(&BucketScheme::default()), Bucket::M2);
        assert_eq!(a.overdue.total().unwrap(), cny(301_500));
    }

    #[test]
    fn inconsistent_accounts_fail() {
        let err = |a: CardAccount| {
            let e = a.check().unwrap_err();
            (e.field, e.error.code)
        };
        assert_eq!(err(account(45, 2_000_000)), ("balance", Code::Inconsistent));
        assert_eq!(err(account(0, 300_000)), ("days_past_due", Code::Inconsistent));
        let mut a = account(10, 1);
        a.balance = cny(-1);
        assert_eq!(err(a), ("balance", Code::AmountRange));
        let mut a = account(10, 1);
        a.minimum_payment = Money::new(1, Currency::Usd);
        assert_eq!(err(a), ("minimum_payment", Code::CurrencyMismatch));
        let mut a = account(0, 0);
        a.overdue = Overdue::zero(Currency::Cny);
        a.days_past_due = 3;
        assert_eq!(err(a), ("days_past_due", Code::Inconsistent));
    }

    #[test]
    fn transaction_signs_follow_kind() {
        let d = Date::new(2026, 1, 2).unwrap();
        let mut t = Transaction {
            id: TransactionId::parse("T1").unwrap(),
            account: AccountId::parse("A1").unwrap(),
            transaction_date: d,
            posting_date: d,
            kind: TransactionKind::Refund,
            amount: cny(100),
            description: None,
        };
        assert_eq!(t.check().unwrap_err().error.code, Code::AmountRange);
        t.amount = cny(-100);
        assert_eq!(t.check(), Ok(()));
        t.posting_date = Date::new(2026, 1, 1).unwrap();
        assert_eq!(t.check().unwrap_err().field, "posting_date");
    }
}
