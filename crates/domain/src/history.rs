//! What the models know of one debtor (one case): attempts, payments, promises and the
//! accounts' buckets over time, as the store reads them.
//!
//! The scoring engine (`daylight-scoring`) computes its features from these; they live here so
//! that the stores that read them need not depend on the scoring engine.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::attempt::{Channel, Outcome, OutcomeClass};
use crate::bucket::Bucket;
use crate::customer::Recipient;

/// One contact attempt as the models see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptFact {
    /// When it started.
    pub at: Timestamp,
    /// How.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// What came of it.
    pub outcome: Outcome,
    /// Talk time in seconds.
    pub duration_secs: u32,
}

impl AttemptFact {
    /// A phone call (agent or robot) to the debtor: what contactability counts.
    pub fn is_dial(&self) -> bool {
        matches!(self.channel, Channel::Call | Channel::RobotCall) && self.recipient == Recipient::Debtor
    }

    /// The debtor talked (a right-party contact): the "connect" contactability predicts.
    pub fn is_rpc(&self) -> bool {
        self.outcome.class() == OutcomeClass::Conversation
    }
}

/// A payment received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentFact {
    /// When.
    pub at: Timestamp,
    /// Amount in minor units (fen).
    pub amount: i64,
}

/// A promise to pay and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromiseFact {
    /// When it was made.
    pub created_at: Timestamp,
    /// When it settled (kept, broken, cancelled); `None` while pending.
    pub settled_at: Option<Timestamp>,
    /// Whether it was kept (false: broken or cancelled, or still pending).
    pub kept: bool,
    /// Whether it was broken.
    pub broken: bool,
}

/// One account's bucket over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPath {
    /// Its bucket now.
    pub now: Bucket,
    /// Its moves, oldest first: when, from, to.
    pub moves: Vec<(Timestamp, Bucket, Bucket)>,
}

impl AccountPath {
    /// The bucket at `t`: the last move's destination before it, else the first move's origin,
    /// else the bucket now.
    pub fn at(&self, t: Timestamp) -> Bucket {
        let k = self.moves.partition_point(|m| m.0 <= t);
        match (k, self.moves.get(k)) {
            (0, Some(first)) => first.1,
            (0, None) => self.now,
            (k, _) => self.moves[k - 1].2,
        }
    }
}

/// What the models know of one debtor (one case).
#[derive(Debug, Clone, PartialEq)]
pub struct DebtorHistory {
    /// The case.
    pub case: String,
    /// The debtor's time zone: hours and days are theirs.
    pub zone: TimeZone,
    /// Date of birth.
    pub birth_date: Option<Date>,
    /// Sum of the accounts' credit limits (fen).
    pub credit_limit: i64,
    /// The accounts' buckets over time.
    pub accounts: Vec<AccountPath>,
    /// Attempts, oldest first.
    pub attempts: Vec<AttemptFact>,
    /// Payments, oldest first.
    pub payments: Vec<PaymentFact>,
    /// Promises, oldest first.
    pub promises: Vec<PromiseFact>,
}

impl DebtorHistory {
    /// Puts the facts in time order (the features rely on it).
    pub fn sort(&mut self) {
        self.attempts.sort_by_key(|a| a.at);
        self.payments.sort_by_key(|p| p.at);
        self.promises.sort_by_key(|p| p.created_at);
        for a in &mut self.accounts {
            a.moves.sort_by_key(|m| m.0);
        }
    }

    /// The worst bucket of the accounts at `t` (M0 without accounts).
    pub fn bucket_at(&self, t: Timestamp) -> Bucket {
        self.accounts.iter().map(|a| a.at(t)).max().unwrap_or(Bucket::M0)
    }

    /// Attempts strictly before `t` (the facts must be in time order: see [`Self::sort`]).
    pub fn before(&self, t: Timestamp) -> &[AttemptFact] {
        &self.attempts[..self.attempts.partition_point(|a| a.at < t)]
    }
}
