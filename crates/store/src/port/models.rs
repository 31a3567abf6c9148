//! Product models: registry, champion and the histories they learn from.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::Result;
use crate::model::*;

/// Product models: registry, champion and the histories they learn from.
#[async_trait]
pub trait ModelStore: Send + Sync {
    /// The facts the product models read, for every case the filter keeps (by case id): the
    /// debtor's zone, birth date, accounts' limits and bucket moves, and the attempts, payments
    /// and promises before `until`.
    async fn debtor_histories(
        &self,
        filter: &HistoryFilter,
        until: Timestamp,
    ) -> Result<Vec<daylight_domain::history::DebtorHistory>>;

    /// Registers a model version as a challenger; returns its version (1 for a new name).
    async fn register_model(&self, model: &NewModel, actor: &str, now: Timestamp) -> Result<ModelVersion>;

    /// The versions of one model (or of all), newest first.
    async fn list_models(&self, name: Option<&str>) -> Result<Vec<ModelVersion>>;

    /// A version's document (`None` for the version: the champion).
    async fn model_document(&self, name: &str, version: Option<i64>) -> Result<(ModelVersion, String)>;

    /// Makes a version the champion; the champion before it is retired.
    async fn promote_model(
        &self,
        name: &str,
        version: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<ModelVersion>;
}
