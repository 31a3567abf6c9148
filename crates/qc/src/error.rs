//! Errors in transcripts and rule files, each with a stable code and the place it names.

use std::fmt;

/// A transcript or rule file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcError {
    /// Stable code: `QC_JSON` (not JSON), `QC_TRANSCRIPT` (a field missing or out of range),
    /// `QC_RULES_TOML` (not TOML, or a key the format does not have), `QC_RULES_INVALID` (a value
    /// out of range or inconsistent).
    pub code: &'static str,
    /// Where: `FILE:LINE:COLUMN`, or `FILE: field` (`turns[3].speaker`).
    pub place: String,
    /// What was expected.
    pub message: String,
}

impl QcError {
    pub(crate) fn json(origin: &str, e: &serde_json::Error) -> QcError {
        QcError {
            code: "QC_JSON",
            place: format!("{origin}:{}:{}", e.line(), e.column()),
            message: format!("not a JSON transcript: {e}"),
        }
    }

    pub(crate) fn field(origin: &str, field: &str, message: impl Into<String>) -> QcError {
        QcError { code: "QC_TRANSCRIPT", place: format!("{origin}: {field}"), message: message.into() }
    }

    pub(crate) fn toml(origin: &str, text: &str, e: &toml::de::Error) -> QcError {
        let place = match e.span() {
            Some(span) => format!("{origin}:{}", line_column(text, span.start)),
            None => origin.to_owned(),
        };
        QcError { code: "QC_RULES_TOML", place, message: e.message().trim().to_owned() }
    }

    pub(crate) fn invalid(origin: &str, at: &str, message: impl Into<String>) -> QcError {
        QcError { code: "QC_RULES_INVALID", place: format!("{origin}: {at}"), message: message.into() }
    }
}

/// `LINE:COLUMN` (1-based, columns in characters) of a byte offset in a text.
pub fn line_column(text: &str, byte: usize) -> String {
    let before = text.get(..byte).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{line}:{column}")
}

impl fmt::Display for QcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code, self.place, self.message)
    }
}

impl std::error::Error for QcError {}
