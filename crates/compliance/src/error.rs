//! Errors in packs, calendars and requests, each with a stable code and the place it names.

use std::fmt;

/// A pack, calendar or request that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// Stable code: `POLICY_TOML` (not TOML, or a key or value the format does not have),
    /// `POLICY_INVALID` (a value out of range or inconsistent), `POLICY_UNKNOWN` (no such pack),
    /// `POLICY_REQUEST` (a request the engine cannot judge).
    pub code: &'static str,
    /// Where: `FILE:LINE:COLUMN`, `FILE: section`, or the request field.
    pub place: String,
    /// What was expected.
    pub message: String,
}

impl PolicyError {
    pub(crate) fn toml(origin: &str, text: &str, e: &toml::de::Error) -> PolicyError {
        let place = match e.span() {
            Some(span) => {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("{origin}:{line}:{column}")
            }
            None => origin.to_owned(),
        };
        PolicyError { code: "POLICY_TOML", place, message: e.message().trim().to_owned() }
    }

    pub(crate) fn invalid(origin: &str, at: &str, message: impl Into<String>) -> PolicyError {
        PolicyError { code: "POLICY_INVALID", place: format!("{origin}: {at}"), message: message.into() }
    }

    pub(crate) fn request(field: &str, message: impl Into<String>) -> PolicyError {
        PolicyError { code: "POLICY_REQUEST", place: field.to_owned(), message: message.into() }
    }

    /// No pack of that name.
    pub fn unknown(name: &str, known: &[&str]) -> PolicyError {
        PolicyError {
            code: "POLICY_UNKNOWN",
            place: "pack".to_owned(),
            message: format!("no pack named {name:?}; the packs are {}", known.join(", ")),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

impl std::error::Error for PolicyError {}
