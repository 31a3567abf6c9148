//! The database itself and its configuration: the backend, the schema, counts, configuration
//! values, the bucket scheme and the policy pack in force.

use async_trait::async_trait;
use daylight_compliance::Pack;
use daylight_domain::bucket::BucketScheme;
use jiff::Timestamp;

use crate::error::Result;
use crate::model::*;
use crate::settings::Backend;

/// The database itself and its configuration: the backend, the schema, counts, configuration
/// values, the bucket scheme and the policy pack in force.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Closes the connections (for SQLite, checkpointing the write-ahead log).
    async fn close(&self);

    /// Applied and known schema versions.
    async fn schema(&self) -> Result<SchemaStatus>;

    /// Creates or upgrades the schema. The first call writes the `store.initialised` event.
    async fn migrate(&self, actor: &str, now: Timestamp) -> Result<MigrateReport>;

    /// Counts per table, bucket and case status.
    async fn stats(&self) -> Result<Stats>;

    /// Every configuration value.
    async fn config(&self) -> Result<Vec<ConfigEntry>>;

    /// The bucket scheme in force (the default until one is set).
    async fn bucket_scheme(&self) -> Result<BucketScheme>;

    /// Sets the bucket scheme, re-buckets every account and case, and records the moves.
    async fn set_bucket_scheme(&self, scheme: BucketScheme, actor: &str, now: Timestamp) -> Result<Rebucket>;

    /// The policy pack in force: the one set with [`ConfigStore::set_policy_pack`], else `cn-default`.
    async fn policy_pack(&self) -> Result<Pack>;

    /// Puts a pack in force for every gate that uses this database (its text is stored, so
    /// calendar years must be part of it).
    async fn set_policy_pack(&self, pack: &Pack, actor: &str, now: Timestamp) -> Result<()>;

    /// The policy pack in force, as its TOML source.
    async fn pack_source(&self) -> Result<String>;
}
