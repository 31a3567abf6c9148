//! The keys that seal personal data at rest (see [`crate::keys`]): their state, rotation and
//! the re-sealing of stored values.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::Result;
use crate::keys::MasterKey;
use crate::model::{KeyStatus, Resealed};

/// The keys that seal personal data at rest: their state, rotation and re-sealing.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The data keys, which is active, and how many stored values each one seals.
    async fn key_status(&self) -> Result<KeyStatus>;

    /// Adds a data key that every process learns of (within [`crate::keys::KEY_RELOAD`]) before
    /// it seals anything: the first step of a rotation. Returns its id.
    async fn stage_data_key(&self, actor: &str, now: Timestamp) -> Result<i64>;

    /// Makes the data key `id` the one new values are sealed with.
    async fn activate_data_key(&self, id: i64, actor: &str, now: Timestamp) -> Result<()>;

    /// Seals every stored value not sealed with the active key (written in clear by an
    /// earlier version, or sealed by an older key) and fills missing blind indexes, a page of
    /// rows per transaction, while the product runs. Returns how many values it sealed.
    async fn reseal(&self, actor: &str, now: Timestamp) -> Result<Resealed>;

    /// Rewraps every data key with `to` (a master key rotation): the data keys, and so the
    /// sealed values, do not change.
    async fn rewrap_keys(&self, to: &dyn MasterKey, actor: &str, now: Timestamp) -> Result<usize>;
}
