//! The digital twin through a store (`simulate --db`, `demo`): the twin's debtors enter by the
//! import path as a bank's files (customers, contacts, accounts, three months of card
//! transactions); each day is planned from the store's open cases and stored
//! as a plan version; the day's contacts pass the store's compliance gate (one transaction per
//! day, each contact judged against everything stored before it) with their notes (催记);
//! promises are locked in the call and settled when they fall due; the plan's referrals hand
//! cases to the legal team or place them with an agency (委案); payments and the day's account
//! file are imported as the bank's daily feeds. Every record is simulated.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use daylight_domain::agreement::PromiseStatus;
use daylight_domain::case::{CaseStatus, StatusChange};
use daylight_domain::money::{Currency, Money};
use daylight_import::{Encoding, ImportOptions, import_file};
use daylight_sim::world::{Day, Referral, World};
use daylight_store::Store;
use daylight_store::model::{
    Assignment, ImportKind, NewPlan, NewPromise, PlanInputJson, PlanJson, PromiseChange, PromiseEdit,
    PromiseOp,
};
use daylight_strategy::plan::PlanInput;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// Who the ledger names for the twin's records.
pub const ACTOR: &str = "twin";

/// What the twin stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// Plan versions.
    pub plans: u64,
    /// Attempts the store's gate recorded.
    pub attempts: u64,
    /// Notes written with them.
    pub notes: u64,
    /// Promises locked.
    pub promises: u64,
    /// Payments imported.
    pub payments: u64,
    /// Account rows imported (the first load and each day's file).
    pub account_rows: u64,
    /// Cases handed to the legal team.
    pub legal: u64,
    /// Cases placed with the agency.
    pub placed: u64,
    /// Contacts the twin's gate allowed and the store's denied (must be 0: both are the same
    /// engine on the same history).
    pub gate_disagreements: u64,
}

/// Writes a world's days to a store.
pub struct Recorder<'a> {
    store: &'a dyn Store,
    files: PathBuf,
    /// The store's pending promise of each case.
    pending: HashMap<String, i64>,
    /// What was stored so far.
    pub stored: Stored,
}

impl<'a> Recorder<'a> {
    /// Imports the world's population (customers, their related people's phones, the accounts
    /// as of its first day) into `store`, which must hold no customers yet, writing the files
    /// under `files`.
    pub async fn new(store: &'a dyn Store, world: &World, files: &Path) -> Result<Recorder<'a>> {
        let stats = store.stats().await?;
        let customers = stats.tables.iter().find(|t| t.table == "customers").map_or(0, |t| t.rows);
        if customers > 0 {
            return Err(daylight_sim::world::SimError {
                code: "SIM_DB_NOT_EMPTY",
                message: format!(
                    "the twin writes only to a database without customers; this one holds {customers}: give a new one (--db sqlite://twin.db)"
                ),
            }
            .into());
        }
        std::fs::create_dir_all(files).with_context(|| format!("cannot create {}", files.display()))?;
        let mut r =
            Recorder { store, files: files.to_owned(), pending: HashMap::new(), stored: Stored::default() };
        let at = world.local(0, 0, 0)? - SignedDuration::from_hours(1);
        let debtors = &world.debtors;
        r.import(ImportKind::Customers, "customers.csv", daylight_sim::files::customers(debtors), at).await?;
        r.import(ImportKind::Contacts, "contacts.csv", daylight_sim::files::contacts(debtors), at).await?;
        let accounts = daylight_sim::files::accounts(debtors, world.date(0));
        r.stored.account_rows += r.import(ImportKind::Accounts, "accounts.csv", accounts, at).await?;
        let spent = daylight_sim::files::transactions(world.seed(), debtors, world.date(0));
        r.import(ImportKind::Transactions, "transactions.csv", spent, at).await?;
        Ok(r)
    }

    /// Writes `text` to `name` under the files folder and imports it; returns the rows stored.
    async fn import(&self, kind: ImportKind, name: &str, text: String, at: Timestamp) -> Result<u64> {
        let path = self.files.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        let opts = ImportOptions {
            kind,
            path: path.clone(),
            encoding: Encoding::Utf8,
            partial: false,
            check: false,
            actor: ACTOR.to_owned(),
            at,
            time_zone: daylight_sim::files::TIME_ZONE.to_owned(),
            chunk_rows: daylight_import::DEFAULT_CHUNK_ROWS,
        };
        let report = import_file(self.store, &opts, &|_, _| {}).await?;
        if !report.stored {
            bail!(
                "the twin's {} were refused ({} rows; rejects in {}): the twin wrote a file its import does not take",
                kind.as_str(),
                report.summary.rows_rejected,
                report.rejects_file.as_deref().unwrap_or(&path).display()
            );
        }
        Ok(report.summary.rows_inserted + report.summary.rows_updated)
    }

    /// Stores `ops` in one batch; `made` names the case of each promise they create, in order.
    async fn lock_promises(&mut self, ops: &[PromiseOp], made: &[&str]) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let created = self.store.promise_batch(ops, ACTOR).await?;
        for (case, id) in made.iter().zip(created.into_iter().flatten()) {
            self.pending.insert((*case).to_owned(), id);
            self.stored.promises += 1;
        }
        Ok(())
    }

    /// Day `day`'s planner input: the open cases as the store gives them at the day's start.
    pub async fn input(&self, world: &World, day: u32) -> Result<PlanInput> {
        let clock = crate::commands::stopwatch();
        let cases = self.store.plan_cases(world.local(day, 0, 0)?).await?;
        tracing::debug!(secs = clock.elapsed().as_secs_f64(), "twin: cases read");
        Ok(world.input_for(day, cases)?)
    }

    /// Stores day `day`, which the world ran from `input`: the plan, the contacts through the
    /// gate, the promises, the payments and the accounts that moved.
    /// `json` is `input` as the plan stores it ([`PlanInputJson::of`]).
    pub async fn record(
        &mut self,
        world: &World,
        day: u32,
        input: &PlanInput,
        json: PlanInputJson,
        d: &Day,
    ) -> Result<()> {
        let store = self.store;
        let clock = crate::commands::stopwatch();
        let plan =
            PlanJson::of(&d.plan, d.plan.date, &d.plan.strategy, d.plan.actions.len(), &d.plan.skipped)?;
        store.save_plan(&NewPlan { input: &json, plan: &plan }, ACTOR, input.as_of).await?;
        self.stored.plans += 1;
        // Referrals, at their time: the legal team takes the case; an agency is assigned it.
        for (case, at, referral) in &d.log.referrals {
            match referral {
                Referral::Legal => {
                    store
                        .set_case_status(
                            case,
                            &StatusChange::new(CaseStatus::Legal, "referred to the legal team by the plan"),
                            ACTOR,
                            *at,
                        )
                        .await?;
                    self.stored.legal += 1;
                }
                Referral::Agency(agency) => {
                    let to = Assignment { agency: Some(agency.clone()), ..Assignment::default() };
                    store.assign_case(case, &to, ACTOR, *at).await?;
                    self.stored.placed += 1;
                }
            }
        }
        // The day's contacts, recorded after the last window closes.
        let late = world.local(day, 23, 0)?;
        tracing::debug!(secs = clock.elapsed().as_secs_f64(), "twin: plan stored");
        let gated = store.record_attempts(&d.log.attempts, ACTOR, late).await?;
        tracing::debug!(
            secs = clock.elapsed().as_secs_f64(),
            n = d.log.attempts.len(),
            "twin: attempts recorded"
        );
        let mut ids = Vec::with_capacity(gated.len());
        for (g, a) in gated.iter().zip(&d.log.attempts) {
            if g.decision.allowed {
                self.stored.attempts += 1;
                self.stored.notes += u64::from(a.note.is_some());
            } else {
                self.stored.gate_disagreements += 1;
            }
            ids.push(g.id);
        }
        // The day's promises in one batch (a new promise on a case replaces its pending one; a
        // case's second promise of the day starts another batch, which knows the first's id).
        let mut ops = Vec::with_capacity(d.log.promises.len());
        let mut made: Vec<&str> = Vec::with_capacity(d.log.promises.len());
        for p in &d.log.promises {
            let a = &d.log.attempts[p.attempt];
            let Some(attempt) = ids[p.attempt] else { continue };
            if made.contains(&a.case.as_str()) {
                self.lock_promises(&ops, &made).await?;
                ops.clear();
                made.clear();
            }
            let locked = a.at + SignedDuration::from_secs(i64::from(a.duration_secs));
            if let Some(earlier) = self.pending.remove(a.case.as_str()) {
                ops.push(PromiseOp::Change {
                    id: earlier,
                    change: PromiseChange {
                        edit: PromiseEdit::Cancel,
                        reason: "replaced by a new promise on the same case".to_owned(),
                    },
                    at: locked,
                });
            }
            ops.push(PromiseOp::Create {
                promise: NewPromise {
                    case: a.case.clone(),
                    account: a.account.clone(),
                    attempt: Some(attempt),
                    amount: Money::new(p.amount_fen, Currency::Cny),
                    due_at: p.due_at,
                },
                at: locked,
            });
            made.push(a.case.as_str());
        }
        self.lock_promises(&ops, &made).await?;
        tracing::debug!(secs = clock.elapsed().as_secs_f64(), "twin: promises locked");
        let evening = world.local(day, 20, 0)?;
        let mut settle = Vec::new();
        for (case, kept) in &d.log.settled {
            if let Some(id) = self.pending.remove(case.as_str()) {
                let status = if *kept { PromiseStatus::Kept } else { PromiseStatus::Broken };
                settle.push(PromiseOp::Settle { id, status, at: evening });
            }
        }
        if !settle.is_empty() {
            store.promise_batch(&settle, ACTOR).await?;
        }
        if !d.log.payments.is_empty() {
            let text = daylight_sim::files::payments(&d.log.payments);
            self.stored.payments += self
                .import(ImportKind::Payments, "payments-today.csv", text, world.local(day, 23, 10)?)
                .await?;
        }
        tracing::debug!(secs = clock.elapsed().as_secs_f64(), "twin: payments imported");
        if !d.log.moved.is_empty() {
            let next = world.date(day + 1);
            let text = daylight_sim::files::accounts(d.log.moved.iter().map(|i| &world.debtors[*i]), next);
            self.stored.account_rows += self
                .import(ImportKind::Accounts, "accounts-today.csv", text, world.local(day, 23, 20)?)
                .await?;
        }
        tracing::debug!(secs = clock.elapsed().as_secs_f64(), "twin: accounts imported");
        Ok(())
    }
}
