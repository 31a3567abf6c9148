//! Daily plans and experiments: the planner's read, stored plans and their inputs.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::Result;
use crate::model::*;

/// Daily plans and experiments: the planner's read, stored plans and their inputs.
#[async_trait]
pub trait PlanStore: Send + Sync {
    /// Every open case as the daily planner reads it, facts before `until`.
    async fn plan_cases(&self, until: Timestamp) -> Result<Vec<daylight_domain::facts::PlanCase>>;

    /// Stores a plan as the next version of its date, with its `plan.saved` event.
    async fn save_plan(&self, plan: &NewPlan<'_>, actor: &str, now: Timestamp) -> Result<StoredPlan>;

    /// A stored plan with its input and plan documents: a version, or the latest of the date.
    async fn stored_plan(&self, date: jiff::civil::Date, version: Option<i64>) -> Result<StoredPlan>;

    /// Every stored plan (without documents), newest first.
    async fn list_plans(&self) -> Result<Vec<StoredPlan>>;

    /// The text of the strategy a stored plan was made under (`None` if it cannot be read).
    async fn plan_strategy(&self, date: jiff::civil::Date, version: i64) -> Result<Option<String>>;

    /// Creates an experiment (its name unique; arms and salt never change afterwards).
    async fn create_experiment(
        &self,
        experiment: &NewExperiment,
        actor: &str,
        now: Timestamp,
    ) -> Result<Experiment>;

    /// One experiment by name.
    async fn experiment(&self, name: &str) -> Result<Experiment>;

    /// Every experiment, oldest first.
    async fn list_experiments(&self) -> Result<Vec<Experiment>>;

    /// Stores a strategy's text under its `name` as the next version (a `strategy.saved`
    /// event). The store does not read strategies: the caller has checked the text (every
    /// caller through `daylight_server::strategy::check`: it reads, and QC passes its scripts).
    async fn save_strategy(
        &self,
        name: &str,
        text: &str,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<StrategyVersion>;

    /// A saved strategy with its text: a version, or the latest (`None` when none is saved).
    async fn strategy(&self, version: Option<i64>) -> Result<Option<(StrategyVersion, String)>>;

    /// Every saved strategy version (without its text), newest first.
    async fn strategy_versions(&self) -> Result<Vec<StrategyVersion>>;
}
