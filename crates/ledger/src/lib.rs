//! Daylight's evidence chain (上链存证): every state change is an event in one hash chain.
//!
//! A row is `seq, at, actor, kind, subject, payload, prev_hash, hash` where
//! `hash = SHA-256(prev_hash || canonical bytes of seq, at, actor, kind, subject, payload)`.
//! The canonical bytes are fixed here ([`canonical_bytes`]) and documented in `docs/ledger.md`,
//! so an auditor can recompute the chain without Daylight.
//!
//! - [`Link`] is the head of a chain; [`Link::append`] makes the next row.
//! - [`Verifier`] walks stored rows in `seq` order and names the first one that was altered,
//!   removed or reordered; [`Verifier::finish`] checks the stored head and returns the head hash
//!   to hand to an auditor.
//! - [`Checkpoint`] is a `(seq, hash)` pair an auditor kept; verification confirms the chain still
//!   passes through it.
//!
//! No IO: the store reads and writes rows; this crate only computes.
#![deny(clippy::float_arithmetic)]

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

mod kind;
pub use kind::EventKind;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The `prev_hash` of the first row: 32 zero bytes.
pub const GENESIS: Hash = [0; 32];

/// The one text form of an event time: UTC with microseconds, `2026-03-03T01:30:00.000000Z`.
/// Fixed width, so it sorts as text, and at the precision PostgreSQL keeps. Sub-microsecond
/// digits are dropped (toward the past). Years outside 0000–9999 cannot be written this way and
/// are clamped by jiff's range anyway (−9999…9999); such times never occur in collections.
///
/// Written by hand rather than through `strftime`: every stored row carries a few of these,
/// and a million-row import formats millions.
pub fn canonical_time(at: Timestamp) -> String {
    let micros = at.as_microsecond();
    let days = micros.div_euclid(86_400_000_000);
    let of_day = micros.rem_euclid(86_400_000_000);
    let (y, m, d) = civil_from_days(days);
    let secs = of_day / 1_000_000;
    let frac = of_day % 1_000_000;
    let mut out = String::with_capacity(27);
    push_digits(&mut out, y, 4);
    out.push('-');
    push_digits(&mut out, m, 2);
    out.push('-');
    push_digits(&mut out, d, 2);
    out.push('T');
    push_digits(&mut out, secs / 3600, 2);
    out.push(':');
    push_digits(&mut out, secs / 60 % 60, 2);
    out.push(':');
    push_digits(&mut out, secs % 60, 2);
    out.push('.');
    push_digits(&mut out, frac, 6);
    out.push('Z');
    out
}

/// Year, month, day of a count of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Appends `n` zero-padded to `width` digits (a negative year gets a leading `-`).
fn push_digits(out: &mut String, n: i64, width: usize) {
    if n < 0 {
        out.push('-');
    }
    let digits = n.unsigned_abs().to_string();
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

/// `at` truncated to whole microseconds, the precision the ledger keeps.
pub fn to_micros(at: Timestamp) -> Timestamp {
    let micros = at.as_microsecond();
    Timestamp::from_microsecond(micros).expect("truncating keeps the timestamp in range")
}

/// An event to append: what changed, who did it, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When the change was made (truncated to microseconds when appended).
    pub at: Timestamp,
    /// Who made it: a login, `system`, `import`, a robot id.
    pub actor: String,
    /// What kind of change ([`EventKind`]).
    pub kind: EventKind,
    /// What it is about: a case, account, batch or configuration key.
    pub subject: String,
    /// The details as canonical JSON (sorted keys, no spaces).
    pub payload: String,
}

impl Event {
    /// An event whose payload is `payload` serialised as canonical JSON.
    pub fn new(
        at: Timestamp,
        actor: impl Into<String>,
        kind: EventKind,
        subject: impl Into<String>,
        payload: &impl Serialize,
    ) -> Event {
        Event { at, actor: actor.into(), kind, subject: subject.into(), payload: canonical_json(payload) }
    }
}

/// Serialises `value` as JSON with object keys sorted and no insignificant space.
pub fn canonical_json(value: &impl Serialize) -> String {
    // Going through `Value` sorts keys: serde_json's map is a BTreeMap unless
    // `preserve_order` is enabled, and it is not enabled anywhere in this workspace.
    let v = serde_json::to_value(value).expect("payloads are plain data");
    v.to_string()
}

/// A ledger row as stored: the event, its place in the chain and its hashes, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// [`canonical_time`] of the event.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What kind ([`EventKind::as_str`]).
    pub kind: String,
    /// About what.
    pub subject: String,
    /// Canonical JSON details.
    pub payload: String,
    /// Lowercase hex of the previous row's hash ([`GENESIS`] for seq 1).
    pub prev_hash: String,
    /// Lowercase hex of this row's hash.
    pub hash: String,
}

/// The canonical bytes hashed for a row, after `prev_hash`: `seq` as 8 bytes big-endian, then
/// each of `at, actor, kind, subject, payload` as a 4-byte big-endian length and its UTF-8 bytes.
/// Lengths make the encoding unambiguous: no shift of bytes between fields hashes the same.
pub fn canonical_bytes(seq: i64, at: &str, actor: &str, kind: &str, subject: &str, payload: &str) -> Vec<u8> {
    let fields = [at, actor, kind, subject, payload];
    let mut out = Vec::with_capacity(8 + fields.iter().map(|f| 4 + f.len()).sum::<usize>());
    out.extend_from_slice(&seq.to_be_bytes());
    for f in fields {
        let len = u32::try_from(f.len()).expect("ledger fields are far below 4 GiB");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// `SHA-256(prev_hash || canonical_bytes(...))`.
pub fn row_hash(
    prev: &Hash,
    seq: i64,
    at: &str,
    actor: &str,
    kind: &str,
    subject: &str,
    payload: &str,
) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical_bytes(seq, at, actor, kind, subject, payload));
    h.finalize().into()
}

/// The head of a chain: the last row's `seq` and hash (`seq` 0 and [`GENESIS`] when empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The last row's seq; 0 for an empty chain.
    pub seq: i64,
    /// The last row's hash.
    pub hash: Hash,
}

impl Link {
    /// The head of an empty chain.
    pub const EMPTY: Link = Link { seq: 0, hash: GENESIS };

    /// The row that follows this head.
    pub fn append(&self, event: &Event) -> Row {
        let seq = self.seq + 1;
        let at = canonical_time(to_micros(event.at));
        let kind = event.kind.as_str();
        let hash = row_hash(&self.hash, seq, &at, &event.actor, kind, &event.subject, &event.payload);
        Row {
            seq,
            at,
            actor: event.actor.clone(),
            kind: kind.to_owned(),
            subject: event.subject.clone(),
            payload: event.payload.clone(),
            prev_hash: hex::encode(self.hash),
            hash: hex::encode(hash),
        }
    }

    /// A head as a store records it: the last seq and its hash in hex.
    pub fn from_stored(seq: i64, hash_hex: &str) -> Result<Link, Break> {
        let hash = parse_hash(hash_hex).ok_or(Break { seq, problem: Problem::BadHashEncoding })?;
        Ok(Link { seq, hash })
    }

    /// The head after `row` (which must have been made by [`Link::append`]).
    pub fn after(row: &Row) -> Result<Link, Break> {
        Ok(Link {
            seq: row.seq,
            hash: parse_hash(&row.hash).ok_or(Break { seq: row.seq, problem: Problem::BadHashEncoding })?,
        })
    }
}

fn parse_hash(text: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    // Only the lowercase form we write is canonical.
    (hex::encode(out) == text).then_some(out)
}

/// What is wrong at a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A row is missing: the chain expected `expected` here.
    Missing {
        /// The seq the chain expected.
        expected: i64,
    },
    /// The row does not point at the previous row's hash (rows reordered or replaced).
    PrevHashMismatch,
    /// The row's contents no longer hash to its stored hash (altered).
    HashMismatch,
    /// A hash column is not 64 lowercase hex characters.
    BadHashEncoding,
    /// The store's head record disagrees with the last row (rows removed from the end, or the
    /// head rewritten).
    HeadMismatch {
        /// The seq the head record names.
        head_seq: i64,
    },
    /// An auditor's checkpoint is not on the chain.
    CheckpointMismatch,
}

impl Problem {
    /// A stable code for the problem.
    pub const fn code(&self) -> &'static str {
        match self {
            Problem::Missing { .. } => "LEDGER_MISSING",
            Problem::PrevHashMismatch => "LEDGER_PREV_HASH",
            Problem::HashMismatch => "LEDGER_HASH",
            Problem::BadHashEncoding => "LEDGER_HASH_ENCODING",
            Problem::HeadMismatch { .. } => "LEDGER_HEAD",
            Problem::CheckpointMismatch => "LEDGER_CHECKPOINT",
        }
    }
}

/// The first place the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The first bad seq.
    pub seq: i64,
    /// What is wrong there.
    pub problem: Problem,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.problem {
            Problem::Missing { expected } => format!("row {expected} is missing"),
            Problem::PrevHashMismatch => {
                "prev_hash does not match the previous row's hash (rows removed, reordered or replaced)"
                    .to_owned()
            }
            Problem::HashMismatch => {
                "the row's contents do not match its hash (the row was altered)".to_owned()
            }
            Problem::BadHashEncoding => "a hash column is not 64 lowercase hex characters".to_owned(),
            Problem::HeadMismatch { head_seq } => {
                format!(
                    "the recorded head is at seq {head_seq}, but the chain ends elsewhere (rows removed or head rewritten)"
                )
            }
            Problem::CheckpointMismatch => "the chain does not pass through the given checkpoint".to_owned(),
        };
        write!(f, "{}: seq {}: {what}", self.problem.code(), self.seq)
    }
}

impl std::error::Error for Break {}

/// A `(seq, hash)` an auditor kept, written `SEQ:HASH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The row.
    pub seq: i64,
    /// Its hash.
    pub hash: Hash,
}

impl FromStr for Checkpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (seq, hash) = s.split_once(':').ok_or_else(|| format!("checkpoint {s:?}: expected SEQ:HASH"))?;
        let seq: i64 = seq
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("checkpoint {s:?}: {seq:?} is not a seq (1 or more)"))?;
        let hash = parse_hash(&hash.to_ascii_lowercase())
            .ok_or_else(|| format!("checkpoint {s:?}: the hash is not 64 hex characters"))?;
        Ok(Checkpoint { seq, hash })
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, hex::encode(self.hash))
    }
}

/// Walks stored rows in ascending `seq` order and stops at the first break.
#[derive(Debug)]
pub struct Verifier {
    head: Link,
    checkpoints: Vec<Checkpoint>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new(Vec::new())
    }
}

impl Verifier {
    /// A verifier that also confirms the chain passes through each checkpoint.
    pub fn new(checkpoints: Vec<Checkpoint>) -> Verifier {
        Verifier { head: Link::EMPTY, checkpoints }
    }

    /// Checks the next stored row.
    pub fn check(&mut self, row: &Row) -> Result<(), Break> {
        let expected = self.head.seq + 1;
        if row.seq != expected {
            // A gap (a removed row) or a row out of place: the chain breaks at the seq it
            // expected, which is the first row that is not as written.
            return Err(Break { seq: expected.min(row.seq), problem: Problem::Missing { expected } });
        }
        let bad = |problem| Break { seq: row.seq, problem };
        let prev = parse_hash(&row.prev_hash).ok_or(bad(Problem::BadHashEncoding))?;
        let stored = parse_hash(&row.hash).ok_or(bad(Problem::BadHashEncoding))?;
        if prev != self.head.hash {
            return Err(bad(Problem::PrevHashMismatch));
        }
        let computed = row_hash(&prev, row.seq, &row.at, &row.actor, &row.kind, &row.subject, &row.payload);
        if computed != stored {
            return Err(bad(Problem::HashMismatch));
        }
        if let Some(c) = self.checkpoints.iter().find(|c| c.seq == row.seq)
            && c.hash != stored
        {
            return Err(bad(Problem::CheckpointMismatch));
        }
        self.head = Link { seq: row.seq, hash: stored };
        Ok(())
    }

    /// Ends the walk: the store's recorded head (`None` when it records none) must be the last
    /// row checked, and every checkpoint must have been passed. Returns the verified head.
    pub fn finish(self, recorded_head: Option<Link>) -> Result<Link, Break> {
        let recorded = recorded_head.unwrap_or(Link::EMPTY);
        if recorded != self.head {
            return Err(Break {
                // The first seq that is not as the head says: the row after the last good one.
                seq: self.head.seq.min(recorded.seq) + 1,
                problem: Problem::HeadMismatch { head_seq: recorded.seq },
            });
        }
        if let Some(c) = self.checkpoints.iter().find(|c| c.seq > self.head.seq) {
            return Err(Break { seq: c.seq, problem: Problem::CheckpointMismatch });
        }
        Ok(self.head)
    }
}

#[cfg(test)]
mod tests;
