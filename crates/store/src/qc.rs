//! QC of calls as stored: a contact attempt's transcript, its findings, and what they changed
//! (debtor tags, a supervisor's review task).

use daylight_domain::id::CaseId;
use daylight_domain::{Code, Invalid};
use jiff::Timestamp;

/// Most findings stored for one call.
pub const MAX_FINDINGS: usize = 2_000;
/// Longest transcript stored (bytes of JSON).
pub const MAX_TRANSCRIPT: usize = 2_000_000;
/// Debtor tags QC may set.
pub const QC_TAGS: [&str; 3] = ["hardship", "abusive", "anxious"];

/// One finding, as the QC engine reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcFinding {
    /// The stable code (`AGENT_THREAT`).
    pub code: String,
    /// `info`, `minor`, `major` or `critical`.
    pub severity: String,
    /// `agent`, `debtor` or `other`.
    pub speaker: String,
    /// The turn (0-based).
    pub turn: i64,
    /// Characters `[start, end)` of the turn's text.
    pub span: [i64; 2],
    /// The words.
    pub text: String,
}

/// A call's analysis to store with its attempt, and what it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQcCall {
    /// The contact attempt the call was.
    pub attempt: i64,
    /// Its case.
    pub case: CaseId,
    /// The recogniser's call id.
    pub call_id: String,
    /// The rules' name and version.
    pub rules: String,
    /// The transcript as received (JSON).
    pub transcript: String,
    /// The findings.
    pub findings: Vec<QcFinding>,
    /// The promise heard: fen and deadline.
    pub promise: Option<(i64, Timestamp)>,
    /// Debtor tags to set, with their notes (`hardship`, `abusive`, `anxious`).
    pub tags: Vec<(String, String)>,
    /// A supervisor's review to open, with its reason.
    pub review: Option<String>,
}

impl NewQcCall {
    /// Checks sizes and words before anything is written.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.call_id.trim().is_empty() || self.call_id.chars().count() > 128 {
            return Err(Invalid::new(Code::Required, "call_id: 1 to 128 characters"));
        }
        if self.rules.trim().is_empty() {
            return Err(Invalid::new(Code::Required, "rules: the rules' name and version"));
        }
        if self.transcript.len() > MAX_TRANSCRIPT {
            return Err(Invalid::new(Code::TooLong, format!("transcript: at most {MAX_TRANSCRIPT} bytes")));
        }
        if self.findings.len() > MAX_FINDINGS {
            return Err(Invalid::new(Code::TooLong, format!("findings: at most {MAX_FINDINGS}")));
        }
        for (i, f) in self.findings.iter().enumerate() {
            let code_ok = (f.code.starts_with("AGENT_") || f.code.starts_with("DEBTOR_"))
                && f.code.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit());
            if !code_ok {
                return Err(Invalid::new(
                    Code::Enum,
                    format!("findings[{i}].code: AGENT_… or DEBTOR_…, not {:?}", f.code),
                ));
            }
            if !["info", "minor", "major", "critical"].contains(&f.severity.as_str()) {
                return Err(Invalid::new(
                    Code::Enum,
                    format!("findings[{i}].severity: info, minor, major or critical"),
                ));
            }
            if !["agent", "debtor", "other"].contains(&f.speaker.as_str()) {
                return Err(Invalid::new(
                    Code::Enum,
                    format!("findings[{i}].speaker: agent, debtor or other"),
                ));
            }
            if f.turn < 0 || f.span[0] < 0 || f.span[1] < f.span[0] {
                return Err(Invalid::new(
                    Code::Integer,
                    format!("findings[{i}]: turn and span are positions"),
                ));
            }
        }
        if let Some((fen, _)) = self.promise
            && fen <= 0
        {
            return Err(Invalid::new(Code::AmountRange, "promise: a positive amount"));
        }
        for (tag, note) in &self.tags {
            if !QC_TAGS.contains(&tag.as_str()) || note.trim().is_empty() {
                return Err(Invalid::new(
                    Code::Enum,
                    format!("tags: {tag:?}; expected hardship, abusive or anxious with a note"),
                ));
            }
        }
        Ok(())
    }
}

/// What storing an analysis did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcRecorded {
    /// The stored analysis.
    pub id: i64,
    /// Tags set on the debtor.
    pub tags: Vec<String>,
    /// The review task opened, if any.
    pub task: Option<i64>,
}

/// A stored analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcCall {
    /// Its id.
    pub id: i64,
    /// The contact attempt.
    pub attempt: i64,
    /// The case.
    pub case: CaseId,
    /// The recogniser's call id.
    pub call_id: String,
    /// The rules' name and version.
    pub rules: String,
    /// The promise heard: fen and deadline.
    pub promise: Option<(i64, Timestamp)>,
    /// Who stored it.
    pub analysed_by: String,
    /// When.
    pub analysed_at: Timestamp,
    /// Its findings, in call order.
    pub findings: Vec<QcFinding>,
}
