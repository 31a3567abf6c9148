//! The storage port: what the rest of Daylight may ask of a database, by role.
//!
//! Every method that changes state appends its ledger event in the same transaction, so a change
//! and its evidence are stored together or not at all. Methods take the actor and the time as
//! arguments; the store never reads the clock.
//!
//! Each area is a trait of its own, in its own file; [`Store`] is all of them, and every
//! adapter implements each. A caller takes the narrowest trait it needs (`&dyn GateStore`, say)
//! and a `&dyn Store` coerces to any of them.
//!
//! | trait | area |
//! |---|---|
//! | [`ConfigStore`] | backend, schema, counts, configuration, bucket scheme, the policy pack |
//! | [`ImportStore`] | import batches ([`ImportSession`]) |
//! | [`LedgerStore`] | the evidence chain |
//! | [`CaseStore`] | cases, their status, owners, notes, tags and contact flags |
//! | [`GateStore`] | the contact gate and started calls |
//! | [`CallStore`] | calls through the switch: the number dialled, recordings and their access |
//! | [`DeskStore`] | promises, plans, waivers, third-party confirmations, complaints, tasks, figures |
//! | [`AccessStore`] | users, sessions, the audited reveal of personal data |
//! | [`PlanStore`] | daily plans and experiments |
//! | [`ModelStore`] | product models and the histories they learn from |
//! | [`QcStore`] | call analyses and transcripts |
//! | [`KeyStore`] | the keys that seal personal data, their rotation |

mod access;
mod calls;
mod cases;
mod config;
mod desk;
mod gate;
mod import;
mod keys;
mod ledger;
mod models;
mod plans;
mod qc;

pub use access::AccessStore;
pub use calls::{CallStore, WRAP_UP_MINUTES};
pub use cases::CaseStore;
pub use config::ConfigStore;
pub use desk::DeskStore;
pub use gate::GateStore;
pub use import::{ImportSession, ImportStore};
pub use keys::KeyStore;
pub use ledger::LedgerStore;
pub use models::ModelStore;
pub use plans::PlanStore;
pub use qc::QcStore;

/// A Daylight database: every area of the port.
pub trait Store:
    ConfigStore
    + ImportStore
    + LedgerStore
    + CaseStore
    + GateStore
    + CallStore
    + DeskStore
    + AccessStore
    + PlanStore
    + ModelStore
    + QcStore
    + KeyStore
{
}

impl<T> Store for T where
    T: ConfigStore
        + ImportStore
        + LedgerStore
        + CaseStore
        + GateStore
        + CallStore
        + DeskStore
        + AccessStore
        + PlanStore
        + ModelStore
        + QcStore
        + KeyStore
        + ?Sized
{
}
