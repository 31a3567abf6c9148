//! The strategy engine's integration tests.

mod experiment;
mod plan;
mod select;
