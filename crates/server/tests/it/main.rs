//! The server's tests: the API and its role matrix (through the router, on SQLite and
//! PostgreSQL), and the console end to end in a real headless Chromium.

mod api;
mod browser;
mod calls;
mod campaign;
mod crawl;
mod day;
mod desk;
mod e2e_day;
mod fixture;
mod matrix;
mod qc;
mod security;
