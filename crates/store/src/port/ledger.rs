//! The evidence chain, read back for verification and export.

use async_trait::async_trait;
use daylight_ledger::{Link, Row};

use crate::error::Result;

/// The evidence chain, read back for verification and export.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// The recorded head of the ledger ([`Link::EMPTY`] before the first event).
    async fn ledger_head(&self) -> Result<Link>;

    /// Up to `limit` ledger rows with `seq > after`, in `seq` order, exactly as stored.
    async fn ledger_rows(&self, after: i64, limit: u32) -> Result<Vec<Row>>;
}
