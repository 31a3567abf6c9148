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

    /// Creates (if missing) the PostgreSQL role `role` the server may run as and grants it what
    /// the server needs: every table read and written, but the ledger only read and appended
    /// (no UPDATE, DELETE or TRUNCATE), the migrations only read. Run it again after an
    /// upgrade: new tables are granted then. SQLite has no roles: `APP_ROLE_SQLITE`.
    async fn grant_app_role(&self, role: &str) -> Result<()>;

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
