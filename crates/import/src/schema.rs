//! The columns of each import file. `docs/import.md` documents the same columns; a test keeps
//! the two in step.

use daylight_store::model::ImportKind;

/// One column of an import file.
#[derive(Debug)]
pub struct Column {
    /// The header name.
    pub name: &'static str,
    /// Whether the column must be present (and, for most, non-blank).
    pub required: bool,
    /// What goes in it.
    pub doc: &'static str,
    /// When the file leaves the column out, stored records keep their value (rather than
    /// taking the blank or default a missing column means for a new record).
    pub kept_when_absent: bool,
}

/// The columns of one kind of file; the first is the record's external id.
#[derive(Debug)]
pub struct Schema {
    /// The kind.
    pub kind: ImportKind,
    /// The columns, id first.
    pub columns: &'static [Column],
}

impl Schema {
    /// Column names, comma-separated.
    pub fn names(&self) -> String {
        self.columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
    }

    /// The schema of `kind`.
    pub fn of(kind: ImportKind) -> &'static Schema {
        match kind {
            ImportKind::Customers => &CUSTOMERS,
            ImportKind::Contacts => &CONTACTS,
            ImportKind::Accounts => &ACCOUNTS,
            ImportKind::Transactions => &TRANSACTIONS,
            ImportKind::Payments => &PAYMENTS,
        }
    }
}

const fn req(name: &'static str, doc: &'static str) -> Column {
    Column { name, required: true, doc, kept_when_absent: false }
}

const fn opt(name: &'static str, doc: &'static str) -> Column {
    Column { name, required: false, doc, kept_when_absent: false }
}

/// An optional column whose stored value stays when a file leaves the column out.
const fn kept(name: &'static str, doc: &'static str) -> Column {
    Column { name, required: false, doc, kept_when_absent: true }
}

/// Column positions in [`CUSTOMERS`].
pub mod customer {
    #![allow(missing_docs)]
    pub const ID: usize = 0;
    pub const NAME: usize = 1;
    pub const RESIDENT_ID: usize = 2;
    pub const GENDER: usize = 3;
    pub const BIRTH_DATE: usize = 4;
    pub const MOBILE: usize = 5;
    pub const EMPLOYER: usize = 6;
    pub const ADDRESS: usize = 7;
    pub const REGION: usize = 8;
    pub const TIME_ZONE: usize = 9;
}

/// Customers (debtors).
pub static CUSTOMERS: Schema = Schema {
    kind: ImportKind::Customers,
    columns: &[
        req("customer_id", "the bank's customer key"),
        req("name", "full name (姓名)"),
        req("resident_id", "18-character resident ID number, GB 11643 checksum"),
        opt("gender", "M/F or 男/女; must agree with the ID number (derived from it when blank)"),
        opt("birth_date", "YYYY-MM-DD; must agree with the ID number (derived from it when blank)"),
        opt("mobile", "the debtor's mainland mobile; stored as contact point <customer_id>:mobile"),
        kept("employer", "employer (工作单位)"),
        kept("address", "home or billing address"),
        kept("region", "province/city or administrative division code"),
        kept("time_zone", "IANA zone of the debtor's local time; Asia/Shanghai when blank"),
    ],
};

/// Column positions in [`CONTACTS`].
pub mod contact {
    #![allow(missing_docs)]
    pub const ID: usize = 0;
    pub const CUSTOMER: usize = 1;
    pub const ROLE: usize = 2;
    pub const KIND: usize = 3;
    pub const VALUE: usize = 4;
    pub const NAME: usize = 5;
    pub const STATUS: usize = 6;
    pub const TIME_ZONE: usize = 7;
}

/// Contact points of debtors and related people.
pub static CONTACTS: Schema = Schema {
    kind: ImportKind::Contacts,
    columns: &[
        req("contact_id", "the bank's key of this contact point"),
        req("customer_id", "the debtor it is kept for (must already be imported)"),
        req("role", "debtor, guarantor, emergency_contact, relative, colleague or other"),
        req("kind", "phone, email or address"),
        req("value", "the phone number (mobile or 0AA-landline), e-mail or address"),
        kept("name", "the person's name; required unless role is debtor"),
        opt(
            "status",
            "unknown, valid, invalid, suspended or powered_off; unknown (or blank) keeps what Daylight learned",
        ),
        kept("time_zone", "the person's IANA zone when it differs from the debtor's"),
    ],
};

/// Column positions in [`ACCOUNTS`].
pub mod account {
    #![allow(missing_docs)]
    pub const ID: usize = 0;
    pub const CUSTOMER: usize = 1;
    pub const CARD_NUMBER: usize = 2;
    pub const CURRENCY: usize = 3;
    pub const CREDIT_LIMIT: usize = 4;
    pub const BALANCE: usize = 5;
    pub const MINIMUM_PAYMENT: usize = 6;
    pub const STATEMENT_DAY: usize = 7;
    pub const DUE_DATE: usize = 8;
    pub const CYCLES_DELINQUENT: usize = 9;
    pub const DAYS_PAST_DUE: usize = 10;
    pub const OVERDUE_PRINCIPAL: usize = 11;
    pub const OVERDUE_INTEREST: usize = 12;
    pub const OVERDUE_FEES: usize = 13;
    pub const OVERDUE_LATE_FEES: usize = 14;
}

/// Card accounts.
pub static ACCOUNTS: Schema = Schema {
    kind: ImportKind::Accounts,
    columns: &[
        req("account_id", "the bank's account key"),
        req("customer_id", "the debtor (must already be imported)"),
        req("card_number", "full card number, 13–19 digits, Luhn-checked; only first 6 + last 4 are stored"),
        opt("currency", "ISO code of every amount on the account; CNY when blank"),
        req("credit_limit", "credit limit, e.g. 50000.00"),
        req("balance", "outstanding balance"),
        req("minimum_payment", "minimum payment of the current statement"),
        req("statement_day", "day of month the statement is cut, 1–31"),
        req("due_date", "payment due date of the current statement"),
        opt("cycles_delinquent", "consecutive cycles unpaid; ceil(days_past_due / 30) when blank"),
        req("days_past_due", "days past due, 0 or more; sets the bucket"),
        opt("overdue_principal", "overdue principal; 0 when blank"),
        opt("overdue_interest", "overdue interest; 0 when blank"),
        opt("overdue_fees", "overdue fees; 0 when blank"),
        opt("overdue_late_fees", "overdue late fees (违约金); 0 when blank"),
    ],
};

/// Column positions in [`TRANSACTIONS`].
pub mod transaction {
    #![allow(missing_docs)]
    pub const ID: usize = 0;
    pub const ACCOUNT: usize = 1;
    pub const TRANSACTION_DATE: usize = 2;
    pub const POSTING_DATE: usize = 3;
    pub const KIND: usize = 4;
    pub const AMOUNT: usize = 5;
    pub const CURRENCY: usize = 6;
    pub const DESCRIPTION: usize = 7;
}

/// Card transactions.
pub static TRANSACTIONS: Schema = Schema {
    kind: ImportKind::Transactions,
    columns: &[
        req("transaction_id", "the bank's transaction key"),
        req("account_id", "the account (must already be imported)"),
        req("transaction_date", "date of the transaction"),
        opt("posting_date", "date the bank posted it; transaction_date when blank"),
        req("kind", "purchase, cash_advance, instalment, fee, interest, late_fee, refund or adjustment"),
        req("amount", "debits above zero; refunds below zero; adjustments either"),
        opt("currency", "must be the account's currency when given"),
        kept("description", "merchant or description"),
    ],
};

/// Column positions in [`PAYMENTS`].
pub mod payment {
    #![allow(missing_docs)]
    pub const ID: usize = 0;
    pub const ACCOUNT: usize = 1;
    pub const PAID_AT: usize = 2;
    pub const AMOUNT: usize = 3;
    pub const CURRENCY: usize = 4;
    pub const CHANNEL: usize = 5;
    pub const REFERENCE: usize = 6;
}

/// Payments received.
pub static PAYMENTS: Schema = Schema {
    kind: ImportKind::Payments,
    columns: &[
        req("payment_id", "the bank's payment key"),
        req("account_id", "the account paid (must already be imported)"),
        req("paid_at", "when: 2026-03-01T10:00:00+08:00, or 2026-03-01 10:00:00 / 2026-03-01 in --time-zone"),
        req("amount", "above zero"),
        opt("currency", "must be the account's currency when given"),
        kept("channel", "bank_transfer, app, counter, auto_debit, agency or other; other when blank"),
        kept("reference", "the bank's payment reference"),
    ],
};
