//! Daylight's strategy engine: who is contacted each day, how, when and with which words —
//! within the law and within the team's capacity.
//!
//! - [`segment`]: bucket, amount band, risk, the willingness × ability quadrant, extreme
//!   contact groups, hardship and abuse.
//! - [`document`]: the strategy document (TOML): ladders, tones, capacity, the script library.
//! - [`flow`]: robot flows in the document (`[[flow]]`), and the walk of one call through one.
//! - [`spoken`]: amounts, dates and numbers in words, for a robot to say.
//! - [`select`]: script and channel per debtor (user vector × script word vectors × channel
//!   vectors, a Bayesian logistic scorer, Thompson sampling).
//! - [`learn`]: the scorer learns from the outcomes of stored plans.
//! - [`assign`]: calls into 15-minute slots under the team's capacity, by marginal value.
//! - [`plan`]: the daily contact plan, a pure function of its stored inputs.
//! - [`report`]: an experiment's per-arm results with intervals and p-values.
//! - [`experiment`]: champion / challenger / holdout arms by a stable hash, sample sizes, and
//!   the statistics of the report.
//!
//! The engine does no IO and reads no clock: dates, times and seeds are arguments.

pub mod assign;
pub mod document;
pub mod experiment;
pub mod flow;
pub mod learn;
pub mod plan;
pub mod report;
pub mod segment;
pub mod select;
pub mod spoken;
