//! The storage contract: every test runs against a fresh SQLite database and a fresh
//! PostgreSQL database (see `daylight_testdb::contract!`).

mod access;
mod buckets;
mod concurrency;
mod desk;
mod fixtures;
mod gate;
mod history;
mod import;
mod ledger;
mod models;
mod money;
mod one_truth;
mod plans;
mod qc;
mod schema;
mod sealed;
mod workbench;
