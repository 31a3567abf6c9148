//! Imports: a batch opened as one transaction.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use daylight_domain::account::{CardAccount, Payment, Transaction};
use daylight_domain::bucket::BucketScheme;
use daylight_domain::customer::{ContactPoint, Customer};

use crate::error::Result;
use crate::model::*;

/// Imports: a batch opened as one transaction.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Opens one import batch: a single transaction that [`ImportSession::commit`] ends.
    async fn begin_import(&self, meta: &BatchMeta) -> Result<Box<dyn ImportSession>>;
}

/// One import batch in progress: a single open transaction.
///
/// Dropping a session without [`commit`](ImportSession::commit) rolls everything back, which is
/// also what a killed process leaves behind.
#[async_trait]
pub trait ImportSession: Send {
    /// The batch id rows are stamped with.
    fn batch_id(&self) -> i64;

    /// The bucket scheme read in this transaction.
    fn bucket_scheme(&self) -> BucketScheme;

    /// Which of `ids` exist in `table`.
    async fn known(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashSet<String>>;

    /// Which of `ids` do not exist in `table`: the reference check, cheap when nothing is
    /// missing (one count per statement).
    async fn missing(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashSet<String>>;

    /// For each of `ids` stored in `table`, the record it belongs to
    /// ([`KeyTable::owner_column`]; empty for tables without one).
    async fn owners(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashMap<String, String>>;

    /// For each of the resident ID numbers already stored, the customer holding it.
    async fn resident_id_owners(&mut self, resident_ids: &[&str]) -> Result<HashMap<String, String>>;

    /// The stored state of each of `ids` that exists.
    async fn account_states(&mut self, ids: &[&str]) -> Result<HashMap<String, AccountState>>;

    /// Inserts or updates customers.
    async fn upsert_customers(&mut self, rows: &[Customer]) -> Result<()>;

    /// Inserts or updates contact points. A status of `unknown` keeps the status already learned.
    async fn upsert_contacts(&mut self, rows: &[ContactPoint]) -> Result<()>;

    /// Inserts or updates accounts; `before` holds the states [`account_states`] returned, from
    /// which bucket moves are recorded (a new account's first bucket is not a move), and brings
    /// the cases of their customers in line. Returns the number of moves.
    ///
    /// [`account_states`]: ImportSession::account_states
    async fn upsert_accounts(
        &mut self,
        rows: &[CardAccount],
        before: &HashMap<String, AccountState>,
    ) -> Result<u64>;

    /// Inserts or updates transactions.
    async fn upsert_transactions(&mut self, rows: &[Transaction]) -> Result<()>;

    /// Inserts or updates payments.
    async fn upsert_payments(&mut self, rows: &[Payment]) -> Result<()>;

    /// Records the batch and its ledger event, and commits.
    async fn commit(self: Box<Self>, summary: &BatchSummary) -> Result<BatchReceipt>;

    /// Abandons the batch: nothing of it is stored.
    async fn rollback(self: Box<Self>) -> Result<()>;
}
