//! Validation errors with stable codes.
//!
//! Every way a value can be refused has a code that never changes once shipped (`ID_CHECKSUM`,
//! `PHONE_FORMAT`, ...). Import rejects, API errors and audit records store the code; the message
//! is for people and may be reworded.

use std::fmt;

/// Why a value was refused. The string form ([`Code::as_str`]) is stable and greppable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Code {
    /// A required value is empty.
    Required,
    /// A value is longer than its limit.
    TooLong,
    /// An external id has characters or a length we do not accept.
    IdFormat,
    /// A resident ID number is not 18 characters of digits (and a final X).
    ResidentIdFormat,
    /// A resident ID number fails the GB 11643 check character.
    ResidentIdChecksum,
    /// The birth date inside a resident ID number is not a real date.
    ResidentIdBirthDate,
    /// The first two digits of a resident ID number are not a province code.
    ResidentIdRegion,
    /// The gender or birth date given disagrees with the resident ID number.
    ResidentIdMismatch,
    /// A phone number is neither a mainland mobile nor a landline with area code.
    PhoneFormat,
    /// An e-mail address is malformed.
    EmailFormat,
    /// A card number is not 13–19 digits.
    PanFormat,
    /// A card number fails the Luhn check.
    PanLuhn,
    /// An amount is not a decimal with at most the currency's minor digits.
    AmountFormat,
    /// An amount is out of the range allowed for its field.
    AmountRange,
    /// A currency code is unknown.
    Currency,
    /// Two amounts in different currencies were combined.
    CurrencyMismatch,
    /// A date is not `YYYY-MM-DD` or not a real date.
    DateFormat,
    /// A date-time is neither RFC 3339 nor `YYYY-MM-DD HH:MM[:SS]`.
    DateTimeFormat,
    /// A time zone is not an IANA name.
    TimeZone,
    /// A value is not one of the allowed words.
    Enum,
    /// A whole number is malformed or out of range.
    Integer,
    /// A bucket scheme is not seven increasing day counts.
    BucketScheme,
    /// A state machine refused a transition.
    Transition,
    /// A repayment plan breaks a limit (instalments, fees, amounts).
    Arrangement,
    /// An approver tried to approve their own request.
    SelfApproval,
    /// A combination of fields that is not allowed together.
    Inconsistent,
    /// The case is closed: nothing more is collected on it until it is reopened.
    CaseClosed,
    /// A case closed as paid in full still owes something.
    CaseOwes,
    /// A promise would exceed what is owed.
    PromiseOverOwed,
    /// The account already has as many pending promises as the policy allows.
    PromisePending,
    /// A repayment plan's total is not what is owed.
    PlanTotal,
    /// A repayment plan's first instalment falls outside the policy's days.
    PlanFirstDue,
    /// The approver's role may not approve a waiver of that amount or share.
    WaiverAuthority,
    /// A money policy (the pack's `[money]` table) is not valid.
    MoneyPolicy,
    /// Text holds bytes that are not valid in the file's encoding.
    Encoding,
    /// A contact's time is not one the operation accepts (a start that is not now, a record in
    /// the future).
    ContactTime,
    /// Something that had a time limit is past it (a started contact not finished in time).
    Expired,
    /// A record of that name exists and may not be replaced (an experiment's arms and salt).
    Exists,
    /// The case is under a legal hold: its recordings are kept whatever their age.
    LegalHold,
    /// A reference to a record that does not exist (a team or agency not on record).
    UnknownRecord,
}

impl Code {
    /// The stable code, as stored in rejects files, ledger payloads and API errors.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Required => "REQUIRED",
            Code::TooLong => "TOO_LONG",
            Code::IdFormat => "ID_FORMAT",
            Code::ResidentIdFormat => "RESIDENT_ID_FORMAT",
            Code::ResidentIdChecksum => "RESIDENT_ID_CHECKSUM",
            Code::ResidentIdBirthDate => "RESIDENT_ID_BIRTH_DATE",
            Code::ResidentIdRegion => "RESIDENT_ID_REGION",
            Code::ResidentIdMismatch => "RESIDENT_ID_MISMATCH",
            Code::PhoneFormat => "PHONE_FORMAT",
            Code::EmailFormat => "EMAIL_FORMAT",
            Code::PanFormat => "PAN_FORMAT",
            Code::PanLuhn => "PAN_LUHN",
            Code::AmountFormat => "AMOUNT_FORMAT",
            Code::AmountRange => "AMOUNT_RANGE",
            Code::Currency => "CURRENCY",
            Code::CurrencyMismatch => "CURRENCY_MISMATCH",
            Code::DateFormat => "DATE_FORMAT",
            Code::DateTimeFormat => "DATETIME_FORMAT",
            Code::TimeZone => "TIME_ZONE",
            Code::Enum => "ENUM",
            Code::Integer => "INTEGER",
            Code::BucketScheme => "BUCKET_SCHEME",
            Code::Transition => "TRANSITION",
            Code::Arrangement => "ARRANGEMENT",
            Code::SelfApproval => "SELF_APPROVAL",
            Code::Inconsistent => "INCONSISTENT",
            Code::CaseClosed => "CASE_CLOSED",
            Code::CaseOwes => "CASE_OWES",
            Code::PromiseOverOwed => "PROMISE_OVER_OWED",
            Code::PromisePending => "PROMISE_PENDING",
            Code::PlanTotal => "PLAN_TOTAL",
            Code::PlanFirstDue => "PLAN_FIRST_DUE",
            Code::WaiverAuthority => "WAIVER_AUTHORITY",
            Code::MoneyPolicy => "MONEY_POLICY",
            Code::Exists => "EXISTS",
            Code::Encoding => "ENCODING",
            Code::ContactTime => "CONTACT_TIME",
            Code::Expired => "EXPIRED",
            Code::LegalHold => "LEGAL_HOLD",
            Code::UnknownRecord => "UNKNOWN_RECORD",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused value: a stable [`Code`] and a sentence saying what was expected.
///
/// The message never repeats a personal value in clear (it may show a masked one), because
/// rejects files and logs are read by people who are not entitled to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The stable reason.
    pub code: Code,
    /// What was wrong and what was expected.
    pub message: String,
}

impl Invalid {
    /// A refusal with `code` and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Invalid { code, message: message.into() }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Invalid {}

/// A refusal that names the field at fault, for checks that look at several fields at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInvalid {
    /// The field a person should correct.
    pub field: &'static str,
    /// Why.
    pub error: Invalid,
}

impl FieldInvalid {
    /// `field` is wrong because of `error`.
    pub fn new(field: &'static str, code: Code, message: impl Into<String>) -> Self {
        FieldInvalid { field, error: Invalid::new(code, message) }
    }
}

impl fmt::Display for FieldInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.error)
    }
}

impl std::error::Error for FieldInvalid {}

impl From<FieldInvalid> for Invalid {
    fn from(e: FieldInvalid) -> Invalid {
        Invalid::new(e.error.code, format!("{}: {}", e.field, e.error.message))
    }
}

/// Shorthand for results of validation.
pub type Valid<T> = Result<T, Invalid>;
