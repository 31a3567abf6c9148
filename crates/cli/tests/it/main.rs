//! The `daylight` binary as a user runs it: the must-shows, on SQLite and PostgreSQL.

mod api_fuzz;
mod calls;
mod cases;
mod experiment;
mod import;
mod keys;
mod kill;
mod lang;
mod ledger;
mod model;
mod plan;
mod policy;
mod qc;
mod simulate;
mod support;
