//! The planner's facts of one open case, as the store reads them: the debtor's contact points,
//! every earlier contact, payments and promises, and the flags the compliance gate needs.
//!
//! The planner (`daylight-strategy`) takes these as its input; they live here so that the
//! stores that read them need not depend on the planner.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::attempt::{Channel, Outcome};
use crate::bucket::Bucket;
use crate::customer::{ContactKind, ContactStatus, Recipient};

/// A contact point of the debtor or of someone related to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Its id.
    pub id: String,
    /// Whose: debtor, guarantor, or a third party (emergency contact, relative, colleague).
    pub recipient: Recipient,
    /// Phone, e-mail or address.
    pub kind: ContactKind,
    /// What screening and outcomes found of it.
    pub status: ContactStatus,
    /// When the status was set (a switched-off number is retried from the next day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_since: Option<Timestamp>,
    /// The owner's zone when it differs from the debtor's.
    pub zone: Option<String>,
}

/// An earlier contact on the debtor (any case), as the gate counts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastContact {
    /// When it started.
    pub at: Timestamp,
    /// How.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// Through which point.
    pub contact_point: Option<String>,
    /// About which account.
    pub debt: Option<String>,
    /// What came of it (`None`: started, not finished).
    pub outcome: Option<Outcome>,
    /// Talk time.
    pub duration_secs: u32,
}

/// A promise and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastPromise {
    /// When it was made.
    pub created_at: Timestamp,
    /// When it settled.
    pub settled_at: Option<Timestamp>,
    /// Kept.
    pub kept: bool,
    /// Broken.
    pub broken: bool,
}

/// One open case as the planner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCase {
    /// The case.
    pub case: String,
    /// The debtor.
    pub customer: String,
    /// The debtor's zone (IANA).
    pub zone: String,
    /// Date of birth.
    pub birth_date: Option<Date>,
    /// The case's bucket.
    pub bucket: Bucket,
    /// Days past due.
    pub dpd: u32,
    /// Overdue amount, fen.
    pub overdue_fen: i64,
    /// Sum of credit limits, fen.
    pub credit_limit_fen: i64,
    /// The account contacts are about (the worst one).
    pub account: Option<String>,
    /// The statement day of `account`: the cycle the contacts' caps count in.
    pub statement_day: Option<i8>,
    /// The agency the case is placed with, if any (no second placement is proposed).
    #[serde(default)]
    pub agency: Option<String>,
    /// Contact points.
    pub points: Vec<Point>,
    /// Cease request.
    pub cease: bool,
    /// Channels opted out of.
    pub opt_out: Vec<Channel>,
    /// Consented to calls outside the usual hours.
    pub consented_hours: bool,
    /// Hardship reported.
    pub hardship: bool,
    /// Tagged abusive.
    pub abusive: bool,
    /// Tagged anxious (QC heard it on a call).
    #[serde(default)]
    pub anxious: bool,
    /// Every earlier contact on the debtor, oldest first.
    pub contacts: Vec<PastContact>,
    /// Payments: when and how much (fen), oldest first.
    pub payments: Vec<(Timestamp, i64)>,
    /// Promises, oldest first.
    pub promises: Vec<PastPromise>,
}

impl PlanCase {
    /// A case with nothing known of it yet but its id, its debtor and their zone: M0, no
    /// accounts, points, flags or history.
    pub fn new(case: String, customer: String, zone: String) -> PlanCase {
        PlanCase {
            case,
            customer,
            zone,
            birth_date: None,
            bucket: Bucket::M0,
            dpd: 0,
            overdue_fen: 0,
            credit_limit_fen: 0,
            account: None,
            statement_day: None,
            agency: None,
            points: Vec::new(),
            cease: false,
            opt_out: Vec::new(),
            consented_hours: false,
            hardship: false,
            abusive: false,
            anxious: false,
            contacts: Vec::new(),
            payments: Vec::new(),
            promises: Vec::new(),
        }
    }
}
