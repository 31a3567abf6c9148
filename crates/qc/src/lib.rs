//! Daylight's QC engine: every call's transcript, every script and SMS template checked against
//! lexicons and rules a compliance officer edits. No IO, no clock.
//!
//! - [`transcript`]: the JSON transcript, read strictly (errors name the field).
//! - [`rules`]: the rule file (TOML, versioned): lexicon rules, the clause grammar, the required
//!   steps, promise words. `rules/cn-default.toml` ships.
//! - [`text`]: clauses, questions, suppositions and the scope of negation.
//! - [`analyze`]: the [`Analyzer`]: agent findings, debtor signals, missing steps, the promise.
//! - [`promise`]: amounts and deadlines in spoken Chinese, relative to the call's start.
//! - [`eval`]: precision and recall per code over a labelled corpus.

pub mod analyze;
pub mod error;
pub mod eval;
pub mod promise;
pub mod rules;
pub mod text;
pub mod transcript;

pub use analyze::{Analysis, Analyzer, Effects, Finding, LintFinding};
pub use error::QcError;
pub use promise::Promise;
pub use rules::{CodeInfo, Rules, Severity};
pub use transcript::{Speaker, Transcript, Turn};
