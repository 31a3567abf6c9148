//! What waits for a team lead besides plans (waivers, third-party contacts), complaints, tasks,
//! and the promise sweep that makes tasks. The API and the console share these.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use daylight_domain::account::Component;
use daylight_domain::agreement::WaiverStatus;
use daylight_domain::bounds::WaiverVerdict;
use daylight_domain::customer::ContactRole;
use daylight_domain::id::{AccountId, CaseId, ContactId};
use daylight_domain::pii::mask_phone;
use daylight_domain::{Code, Invalid};
use daylight_domain::{Currency, Money};
use daylight_store::StoreError;
use daylight_store::desk::{
    Audience, ComplaintSource, NewComplaint, NewNumber, NewThirdPartyRequest, NumberProposal, NumberSource,
    TaskStatus,
};
use daylight_store::model::{CaseDetail, NewWaiver};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::roles::Permission;
use crate::work::{local_full, yuan};

/// The most items a queue lists.
const QUEUE_LIMIT: u32 = 1_000;

fn case_id(id: &str) -> ApiResult<CaseId> {
    CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))
}

/// A store refusal of a decision, with the four-eyes rule as 403.
pub fn decision_error(e: StoreError, what: &str) -> ApiError {
    if e.code() == "SELF_APPROVAL" {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "SELF_APPROVAL",
            format!("a {what} is decided by someone other than who asked for it"),
        )
    } else {
        e.into()
    }
}

/// The reason a rejection needs: text, not blank (`REQUIRED` on `reason`).
pub fn rejection_reason(reason: Option<&str>) -> ApiResult<&str> {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r.chars().count() <= 500 => Ok(r),
        Some(_) => Err(ApiError::field("reason", "TOO_LONG", "at most 500 characters")),
        None => {
            Err(ApiError::field("reason", "REQUIRED", "a rejection says why (it is kept with the request)"))
        }
    }
}

/// A decision on a request: approve, or reject for a reason.
pub async fn reject(
    app: &AppState,
    caller: &Caller,
    what: daylight_store::model::Decidable,
    id: i64,
    reason: Option<&str>,
    noun: &str,
) -> ApiResult<()> {
    let reason = rejection_reason(reason)?;
    app.store
        .reject(what, id, reason, &caller.user.login, app.now())
        .await
        .map_err(|e| decision_error(e, noun))
}

/// A waiver to request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverInput {
    /// The account (default: the case's first).
    #[serde(default)]
    pub account: Option<String>,
    /// `principal`, `interest`, `fees` or `late_fees`.
    pub component: String,
    /// Amount in yuan.
    pub amount: String,
    /// Why (hardship, first delinquency, a bank campaign …).
    pub reason: String,
}

/// Requests a waiver on a case in scope; it waits for a team lead's approval.
pub async fn request_waiver(app: &AppState, caller: &Caller, id: &str, w: &WaiverInput) -> ApiResult<i64> {
    caller.require(Permission::WorkCases, "request waivers")?;
    let case = case_id(id)?;
    let d = app.store.case_detail_in(&caller.scope, &case).await?;
    let account = match w.account.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(a) => AccountId::parse(a).map_err(|e| ApiError::field("account", e.code.as_str(), e.message))?,
        None => d
            .accounts
            .first()
            .map(|a| a.account.id.clone())
            .ok_or_else(|| ApiError::field("account", "REQUIRED", "the case has no account"))?,
    };
    if !d.accounts.iter().any(|a| a.account.id == account) {
        return Err(ApiError::field("account", "NOT_FOUND", format!("case {id} has no account {account}")));
    }
    let component: Component =
        w.component.parse().map_err(|e: Invalid| ApiError::field("component", e.code.as_str(), e.message))?;
    let amount = Money::parse(w.amount.trim(), Currency::Cny)
        .map_err(|e| ApiError::field("amount", e.code.as_str(), e.message))?;
    if amount.minor <= 0 {
        return Err(ApiError::field("amount", "AMOUNT_RANGE", "a waiver is for more than 0"));
    }
    if w.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "REQUIRED", "say why the debt is waived"));
    }
    let waiver = NewWaiver { case, account, component, amount, reason: w.reason.trim().to_owned() };
    app.store.request_waiver(&waiver, &caller.user.login, app.now()).await.map_err(|e| match e {
        StoreError::Invalid(i) => ApiError::field("amount", i.code.as_str(), i.message),
        e => e.into(),
    })
}

/// A waiver waiting for approval.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingWaiver {
    /// Its id.
    pub id: i64,
    /// The case.
    pub case: String,
    /// The account.
    pub account: String,
    /// Which part of the overdue amount.
    pub component: String,
    /// Amount, yuan.
    pub amount: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// When, local.
    pub requested_at: String,
    /// Who gave the first of two approvals, if the waiver is above the policy's threshold and
    /// waits for a second approver.
    pub first_approved_by: Option<String>,
}

/// The waivers waiting for the caller's approval (their scope's).
pub async fn pending_waivers(app: &AppState, caller: &Caller) -> ApiResult<Vec<PendingWaiver>> {
    caller.require(Permission::Approve, "approve waivers")?;
    let list = app.store.waivers_in(&caller.scope, Some(WaiverStatus::Requested), QUEUE_LIMIT).await?;
    Ok(list
        .into_iter()
        .map(|w| PendingWaiver {
            id: w.id,
            case: w.waiver.case.as_str().to_owned(),
            account: w.waiver.account.as_str().to_owned(),
            component: w.waiver.component.as_str().to_owned(),
            amount: yuan(w.waiver.amount.minor),
            amount_fen: w.waiver.amount.minor,
            reason: w.waiver.reason,
            requested_by: w.requested_by,
            requested_at: local_full(w.requested_at),
            first_approved_by: w.first_approved_by,
        })
        .collect())
}

/// What a lead needs beside a request to decide it: the case's figures, its earlier waivers
/// and plans, and (for a waiver) its share of the part it reduces and what the approval matrix
/// says of the caller's approving it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalContext {
    /// The case.
    pub case: String,
    /// The debtor's name, masked.
    pub debtor: String,
    /// Bucket.
    pub bucket: String,
    /// Days past due.
    pub dpd: u32,
    /// Owed in all (overdue plus approved adjustments not yet booked), yuan.
    pub owed: String,
    /// The accounts' balances, yuan.
    pub balance: String,
    /// The overdue parts, yuan: principal, interest, fees, late fees.
    pub parts: Vec<(String, String)>,
    /// The case's earlier waivers and plans, newest first.
    pub history: Vec<HistoryLine>,
}

/// An earlier waiver or plan of a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryLine {
    /// `waiver` or `arrangement`.
    pub kind: String,
    /// Its id.
    pub id: i64,
    /// A waiver's part of the overdue amount.
    pub component: Option<String>,
    /// The waiver's amount or the plan's total, yuan.
    pub amount: String,
    /// A plan's instalments.
    pub instalments: Option<u32>,
    /// `requested`, `proposed`, `approved`, `rejected`, …
    pub status: String,
    /// When asked, local.
    pub at: String,
    /// Who asked.
    pub by: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// A rejection's reason.
    pub note: Option<String>,
}

/// A waiver's place in the approval matrix for the caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaiverLevel {
    /// The waiver's share of the overdue part it reduces, in basis points.
    pub share_bp: i64,
    /// `within` (the caller may approve it alone), `second` (the caller's approval is the
    /// first of two), `beyond` (above the caller's authority).
    pub level: String,
    /// The policy's words when beyond (English).
    pub why: Option<String>,
    /// The caller's authority under the policy: the largest single waiver, yuan (none: the
    /// role approves no waivers).
    pub limit: Option<String>,
    /// … and the largest share of the part, basis points.
    pub limit_share_bp: Option<u32>,
    /// Above this a second approver is needed, yuan.
    pub second_above: String,
}

/// The context of each case with a request waiting, by case id (from [`case_details`]).
pub fn approval_contexts(
    details: &std::collections::HashMap<String, CaseDetail>,
) -> std::collections::HashMap<String, ApprovalContext> {
    let mut out = std::collections::HashMap::new();
    for (id, d) in details {
        let owed: i64 = d.accounts.iter().map(|a| a.owed().minor).sum();
        let balance: i64 = d.accounts.iter().map(|a| a.account.balance.minor).sum();
        let parts = [Component::Principal, Component::Interest, Component::Fees, Component::LateFees]
            .into_iter()
            .map(|c| {
                let fen: i64 = d.accounts.iter().map(|a| a.account.overdue.component(c).minor).sum();
                (c.as_str().to_owned(), yuan(fen))
            })
            .collect();
        let mut history: Vec<(jiff::Timestamp, HistoryLine)> = Vec::new();
        for w in &d.waivers {
            history.push((
                w.requested_at,
                HistoryLine {
                    kind: "waiver".into(),
                    id: w.id,
                    component: Some(w.waiver.component.as_str().to_owned()),
                    amount: yuan(w.waiver.amount.minor),
                    instalments: None,
                    status: w.status.as_str().to_owned(),
                    at: local_full(w.requested_at),
                    by: w.requested_by.clone(),
                    decided_by: w.decided_by.clone(),
                    note: w.decision_note.clone(),
                },
            ));
        }
        for a in &d.arrangements {
            history.push((
                a.proposed_at,
                HistoryLine {
                    kind: "arrangement".into(),
                    id: a.id,
                    component: None,
                    amount: yuan(a.arrangement.terms.total.minor),
                    instalments: Some(a.arrangement.terms.instalments),
                    status: a.status.to_string(),
                    at: local_full(a.proposed_at),
                    by: a.proposed_by.clone(),
                    decided_by: a.decided_by.clone(),
                    note: a.decision_note.clone(),
                },
            ));
        }
        history.sort_by_key(|h| std::cmp::Reverse(h.0));
        out.insert(
            id.clone(),
            ApprovalContext {
                case: id.clone(),
                debtor: d.customer.name.masked(),
                bucket: d.case.bucket.label().to_owned(),
                dpd: d.case.max_dpd,
                owed: yuan(owed),
                balance: yuan(balance),
                parts,
                history: history.into_iter().map(|(_, h)| h).collect(),
            },
        );
    }
    out
}

/// The cases with requests waiting, read once each within the caller's scope, by case id.
pub async fn case_details(
    app: &AppState,
    caller: &Caller,
    cases: &[String],
) -> ApiResult<std::collections::HashMap<String, CaseDetail>> {
    let mut out = std::collections::HashMap::new();
    for id in cases {
        if !out.contains_key(id) {
            out.insert(id.clone(), app.store.case_detail_in(&caller.scope, &case_id(id)?).await?);
        }
    }
    Ok(out)
}

/// Where each waiting waiver stands in the approval matrix for the caller, by waiver id.
pub async fn waiver_levels(
    app: &AppState,
    caller: &Caller,
    waivers: &[PendingWaiver],
    details: &std::collections::HashMap<String, CaseDetail>,
) -> ApiResult<std::collections::HashMap<String, WaiverLevel>> {
    let pack = app.store.policy_pack().await?;
    let mut out = std::collections::HashMap::new();
    for w in waivers {
        let Some(d) = details.get(&w.case) else { continue };
        let Some(account) = d.accounts.iter().find(|a| a.account.id.as_str() == w.account) else {
            continue;
        };
        let component: Component = w
            .component
            .parse()
            .map_err(|e: Invalid| ApiError::field("component", e.code.as_str(), e.message))?;
        let part = account.account.overdue.component(component);
        let amount = Money::new(w.amount_fen, part.currency);
        let share_bp = if part.minor > 0 { w.amount_fen * 10_000 / part.minor } else { 0 };
        let (level, why) = match pack.money.judge_waiver(
            caller.user.role.as_str(),
            amount,
            part,
            w.first_approved_by.is_some(),
        ) {
            Ok(WaiverVerdict::Approved) => ("within", None),
            Ok(WaiverVerdict::NeedsSecond) => ("second", None),
            Err(e) => ("beyond", Some(e.message)),
        };
        let own = pack.money.waiver_authority.iter().find(|a| a.role == caller.user.role.as_str());
        out.insert(
            w.id.to_string(),
            WaiverLevel {
                share_bp,
                level: level.into(),
                why,
                limit: own.map(|a| yuan(a.max_fen)),
                limit_share_bp: own.map(|a| a.max_share_bp),
                second_above: yuan(pack.money.waiver_two_approvers_above_fen),
            },
        );
    }
    Ok(out)
}

/// Approves or rejects a waiver waiting in the caller's scope (not one they asked for), by the
/// approval matrix of the pack's money policy: approved, or (above its threshold) waiting for
/// a second approver.
pub async fn decide_waiver(
    app: &AppState,
    caller: &Caller,
    id: i64,
    approve: bool,
    reason: Option<&str>,
) -> ApiResult<WaiverVerdict> {
    if !pending_waivers(app, caller).await?.iter().any(|w| w.id == id) {
        return Err(ApiError::not_found("waiver waiting for approval", &id.to_string()));
    }
    if !approve {
        reject(app, caller, daylight_store::model::Decidable::Waiver, id, reason, "waiver").await?;
        return Ok(WaiverVerdict::Approved);
    }
    app.store
        .decide_waiver(id, approve, &caller.user.login, app.now())
        .await
        .map_err(|e| decision_error(e, "waiver"))
}

/// A request to contact a third party.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThirdPartyInput {
    /// The third party's contact point (an emergency contact, a relative …).
    pub contact_point: String,
    /// Why the debtor cannot be reached otherwise.
    pub reason: String,
}

/// Asks the team lead to confirm a contact to a third party of a case in scope.
pub async fn request_third_party(
    app: &AppState,
    caller: &Caller,
    id: &str,
    r: &ThirdPartyInput,
) -> ApiResult<i64> {
    caller.require(Permission::WorkCases, "ask for third-party contacts")?;
    let case = case_id(id)?;
    app.store.case_in_scope(&caller.scope, &case).await?;
    let point = ContactId::parse(r.contact_point.trim())
        .map_err(|e| ApiError::field("contact_point", e.code.as_str(), e.message))?;
    if r.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "REQUIRED", "say why the debtor cannot be reached"));
    }
    let request = NewThirdPartyRequest { case, contact_point: point, reason: r.reason.trim().to_owned() };
    app.store.request_third_party(&request, &caller.user.login, app.now()).await.map_err(|e| match e {
        StoreError::Invalid(i) => ApiError::field("contact_point", i.code.as_str(), i.message),
        StoreError::NotFound { .. } => ApiError::field("contact_point", "NOT_FOUND", e.to_string()),
        e => e.into(),
    })
}

/// A third-party contact waiting for confirmation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingThirdParty {
    /// Its id.
    pub id: i64,
    /// The case.
    pub case: String,
    /// The contact point.
    pub contact_point: String,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// When, local.
    pub requested_at: String,
}

/// The third-party contacts waiting for the caller's confirmation (their scope's).
pub async fn pending_third_party(app: &AppState, caller: &Caller) -> ApiResult<Vec<PendingThirdParty>> {
    caller.require(Permission::Approve, "confirm third-party contacts")?;
    let list = app
        .store
        .third_party_requests_in(&caller.scope, None, Some(WaiverStatus::Requested), QUEUE_LIMIT)
        .await?;
    Ok(list
        .into_iter()
        .map(|r| PendingThirdParty {
            id: r.id,
            case: r.request.case.as_str().to_owned(),
            contact_point: r.request.contact_point.as_str().to_owned(),
            reason: r.request.reason,
            requested_by: r.requested_by,
            requested_at: local_full(r.requested_at),
        })
        .collect())
}

/// Confirms or refuses a third-party contact waiting in the caller's scope.
pub async fn decide_third_party(
    app: &AppState,
    caller: &Caller,
    id: i64,
    approve: bool,
    reason: Option<&str>,
) -> ApiResult<()> {
    if !pending_third_party(app, caller).await?.iter().any(|r| r.id == id) {
        return Err(ApiError::not_found("third-party request waiting for confirmation", &id.to_string()));
    }
    if !approve {
        let what = daylight_store::model::Decidable::ThirdParty;
        return reject(app, caller, what, id, reason, "third-party contact").await;
    }
    app.store
        .decide_third_party(id, approve, &caller.user.login, app.now())
        .await
        .map_err(|e| decision_error(e, "third-party contact"))
}

/// A number a collector proposes for a case.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberInput {
    /// The case's phone point it corrects; none for a new number.
    #[serde(default)]
    pub replaces: Option<String>,
    /// Whose number it is: `debtor`, `guarantor`, `emergency_contact`, `relative`,
    /// `colleague`, `other` (a correction keeps the point's).
    pub role: String,
    /// The number: a mainland mobile or a landline with area code.
    pub number: String,
    /// The owner's name, when not the debtor.
    #[serde(default)]
    pub name: Option<String>,
    /// Where it came from: `debtor`, `third_party`, `bank`, `repair`, `field`.
    pub source: String,
}

/// Proposes a new or corrected number on a case in scope; a team lead confirms it.
pub async fn propose_number(app: &AppState, caller: &Caller, id: &str, n: &NumberInput) -> ApiResult<i64> {
    caller.require(Permission::WorkCases, "propose numbers")?;
    let case = case_id(id)?;
    app.store.case_in_scope(&caller.scope, &case).await?;
    let replaces = match n.replaces.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => {
            Some(ContactId::parse(r).map_err(|e| ApiError::field("replaces", e.code.as_str(), e.message))?)
        }
    };
    let role: ContactRole =
        n.role.parse().map_err(|e: Invalid| ApiError::field("role", e.code.as_str(), e.message))?;
    let source: NumberSource =
        n.source.parse().map_err(|e: Invalid| ApiError::field("source", e.code.as_str(), e.message))?;
    let name = n.name.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned);
    let proposal = NewNumber { case, replaces, role, number: n.number.clone(), name, source };
    app.store.propose_number(&proposal, &caller.user.login, app.now()).await.map_err(|e| match e {
        StoreError::Invalid(i) if i.code == Code::PhoneFormat || i.code == Code::Exists => {
            ApiError::field("number", i.code.as_str(), i.message)
        }
        StoreError::Invalid(i) if i.code == Code::Inconsistent => {
            ApiError::field("replaces", i.code.as_str(), i.message)
        }
        StoreError::NotFound { .. } => ApiError::field("replaces", "NOT_FOUND", e.to_string()),
        e => e.into(),
    })
}

/// A number waiting for a team lead's confirmation (masked).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingNumber {
    /// Its id.
    pub id: i64,
    /// The case.
    pub case: String,
    /// The number, masked.
    pub number: String,
    /// Whose.
    pub role: String,
    /// The point it corrects, if any.
    pub replaces: Option<String>,
    /// Where it came from.
    pub source: String,
    /// Where it stands.
    pub status: String,
    /// Who proposed it.
    pub requested_by: String,
    /// When, local.
    pub requested_at: String,
}

impl PendingNumber {
    /// The view of a stored proposal.
    pub fn of(p: NumberProposal) -> PendingNumber {
        PendingNumber {
            id: p.id,
            case: p.proposal.case.as_str().to_owned(),
            number: mask_phone(&p.proposal.number),
            role: p.proposal.role.as_str().to_owned(),
            replaces: p.proposal.replaces.map(|r| r.as_str().to_owned()),
            source: p.proposal.source.as_str().to_owned(),
            status: p.status.as_str().to_owned(),
            requested_by: p.requested_by,
            requested_at: local_full(p.requested_at),
        }
    }
}

/// The numbers waiting for the caller's confirmation (their scope's).
pub async fn pending_numbers(app: &AppState, caller: &Caller) -> ApiResult<Vec<PendingNumber>> {
    caller.require(Permission::Approve, "confirm numbers")?;
    let list = app.store.numbers_in(&caller.scope, None, Some(WaiverStatus::Requested), QUEUE_LIMIT).await?;
    Ok(list.into_iter().map(PendingNumber::of).collect())
}

/// Confirms (the point added or corrected) or refuses a number waiting in the caller's scope.
pub async fn decide_number(
    app: &AppState,
    caller: &Caller,
    id: i64,
    approve: bool,
    reason: Option<&str>,
) -> ApiResult<Option<String>> {
    if !pending_numbers(app, caller).await?.iter().any(|n| n.id == id) {
        return Err(ApiError::not_found("number waiting for confirmation", &id.to_string()));
    }
    if !approve {
        reject(app, caller, daylight_store::model::Decidable::Number, id, reason, "number").await?;
        return Ok(None);
    }
    let point = app
        .store
        .decide_number(id, approve, &caller.user.login, app.now())
        .await
        .map_err(|e| decision_error(e, "number"))?;
    Ok(point.map(|p| p.as_str().to_owned()))
}

/// A complaint to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintInput {
    /// The contact attempt complained of.
    #[serde(default)]
    pub attempt: Option<i64>,
    /// `debtor`, `third_party`, `bank` or `regulator`.
    pub source: String,
    /// What was said.
    pub text: String,
}

/// Registers a complaint against a case in scope.
pub async fn register_complaint(
    app: &AppState,
    caller: &Caller,
    id: &str,
    c: &ComplaintInput,
) -> ApiResult<i64> {
    caller.require(Permission::RegisterComplaints, "register complaints")?;
    let case = case_id(id)?;
    app.store.case_in_scope(&caller.scope, &case).await?;
    let source: ComplaintSource =
        c.source.parse().map_err(|e: Invalid| ApiError::field("source", e.code.as_str(), e.message))?;
    let complaint = NewComplaint { case, attempt: c.attempt, source, text: c.text.trim().to_owned() };
    complaint.validate().map_err(|e| ApiError::field("text", e.code.as_str(), e.message))?;
    app.store.register_complaint(&complaint, &caller.user.login, app.now()).await.map_err(|e| match e {
        StoreError::Invalid(i) => ApiError::field("attempt", i.code.as_str(), i.message),
        e => e.into(),
    })
}

/// A task as a person sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    /// Its id.
    pub id: i64,
    /// The case.
    pub case: String,
    /// `promise_reminder`, `promise_broken`, `qc_review`, `qc_finding` or `qc_appeal`.
    pub kind: String,
    /// The promise.
    pub promise: Option<i64>,
    /// The contact attempt (a QC review: its call).
    pub attempt: Option<i64>,
    /// Why (a QC review's codes; a finding's: the reviewer's reason; an appeal's: the
    /// collector's).
    pub note: Option<String>,
    /// Due, local.
    pub due_at: String,
    /// The outcomes it closes with (`upheld`/`dismissed`, `accepted`/`appealed`,
    /// `granted`/`refused`); empty when it is simply done.
    pub outcomes: Vec<String>,
    /// Of those, the ones that need a reason.
    pub reason_for: Vec<String>,
    /// A QC review's codes (`AGENT_IMPERSONATION` …), from its note.
    pub codes: Vec<String>,
}

/// How a task is closed: an outcome where its kind has them, and a reason where the outcome
/// needs one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDone {
    /// The outcome (see the task's `outcomes`).
    #[serde(default)]
    pub outcome: Option<String>,
    /// Why (see the task's `reason_for`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The caller's open tasks: a collector's reminders, or a team lead's escalations.
pub async fn my_tasks(app: &AppState, caller: &Caller) -> ApiResult<Vec<TaskView>> {
    caller.require(Permission::ViewCases, "see tasks")?;
    let audience = if caller.can(Permission::Approve) {
        Audience::Lead
    } else if caller.can(Permission::DecideAppeals) {
        Audience::Compliance
    } else if caller.can(Permission::WorkCases) {
        Audience::Collector
    } else {
        return Ok(Vec::new());
    };
    let list = app.store.tasks_in(&caller.scope, Some(audience), Some(TaskStatus::Open), QUEUE_LIMIT).await?;
    Ok(list
        .into_iter()
        .map(|t| TaskView {
            id: t.id,
            case: t.case.as_str().to_owned(),
            kind: t.kind.as_str().to_owned(),
            promise: t.promise,
            attempt: t.attempt,
            // "QC call {call}: CODE, CODE" (the analyser's review note).
            codes: match (t.kind, t.note.as_deref().and_then(|n| n.rsplit_once(": "))) {
                (daylight_store::desk::TaskKind::QcReview, Some((_, codes))) => {
                    codes.split(", ").map(str::to_owned).collect()
                }
                _ => Vec::new(),
            },
            note: t.note,
            due_at: local_full(t.due_at),
            outcomes: t.kind.outcomes().iter().map(|o| o.as_str().to_owned()).collect(),
            reason_for: t
                .kind
                .outcomes()
                .iter()
                .filter(|o| o.needs_reason())
                .map(|o| o.as_str().to_owned())
                .collect(),
        })
        .collect())
}

/// Closes one of the caller's open tasks, with the outcome and reason its kind needs; returns
/// the task it opens next (an upheld finding for the collector, an appeal for compliance).
pub async fn finish_task(
    app: &AppState,
    caller: &Caller,
    id: i64,
    done: &TaskDone,
) -> ApiResult<Option<i64>> {
    if !my_tasks(app, caller).await?.iter().any(|t| t.id == id) {
        return Err(ApiError::not_found("open task", &id.to_string()));
    }
    let outcome = match done.outcome.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => Some(
            o.parse::<daylight_store::desk::TaskOutcome>()
                .map_err(|e| ApiError::field("outcome", e.code.as_str(), e.message))?,
        ),
        None => None,
    };
    let close = daylight_store::desk::TaskClose { outcome, note: done.reason.clone() };
    app.store.finish_task(&caller.scope, id, &close, &caller.user.login, app.now()).await.map_err(|e| match e
    {
        StoreError::Invalid(i) => {
            let about_reason = close.outcome.is_some() && matches!(i.code, Code::Required | Code::TooLong);
            let field = if about_reason { "reason" } else { "outcome" };
            ApiError::field(field, i.code.as_str(), i.message)
        }
        e => e.into(),
    })
}

/// One step of a call's QC review: the review, the collector's finding, the appeal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewStep {
    /// The task.
    pub id: i64,
    /// `qc_review`, `qc_finding` or `qc_appeal`.
    pub kind: String,
    /// `open` or `done`.
    pub status: String,
    /// How it closed.
    pub outcome: Option<String>,
    /// The reason it was opened with (the reviewer's for a finding, the collector's for an appeal).
    pub note: Option<String>,
    /// The closer's reason.
    pub reason: Option<String>,
    /// Who closed it.
    pub by: Option<String>,
    /// When, local.
    pub at: Option<String>,
}

/// The review of a call within scope, step by step, oldest first.
pub async fn review_steps(app: &AppState, caller: &Caller, attempt: i64) -> ApiResult<Vec<ReviewStep>> {
    let tasks = app.store.attempt_tasks(&caller.scope, attempt).await?;
    Ok(tasks
        .into_iter()
        .map(|t| ReviewStep {
            id: t.id,
            kind: t.kind.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            outcome: t.outcome.map(|o| o.as_str().to_owned()),
            note: t.note,
            reason: t.outcome_note,
            by: t.done_by,
            at: t.done_at.map(local_full),
        })
        .collect())
}

/// How often the server sweeps promises.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Sweeps promises until nothing is left to settle now: reminders, kept, broken (escalated).
pub async fn sweep(app: &AppState) -> ApiResult<daylight_store::desk::Sweep> {
    let mut total = daylight_store::desk::Sweep::default();
    loop {
        let s = app.store.sweep_promises("system", app.now()).await?;
        total.reminders += s.reminders;
        total.kept += s.kept;
        total.broken += s.broken;
        // A full batch may leave more behind.
        if s.kept + s.broken < daylight_store::desk::Sweep::BATCH {
            return Ok(total);
        }
    }
}

/// Runs [`sweep`] now and then every [`SWEEP_EVERY`], logging what it did, until dropped.
pub fn spawn_sweeper(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            app.calendar.refresh(&app).await;
            if let Err(e) = refresh_reports(&app).await {
                tracing::warn!(error = %e.message, "experiments' reports not refreshed");
            }
            match sweep(&app).await {
                Ok(s) if s.reminders + s.kept + s.broken > 0 => {
                    tracing::info!(
                        reminders = s.reminders,
                        kept = s.kept,
                        broken = s.broken,
                        "promises swept"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(code = %e.code, error = %e.message, "the promise sweep failed"),
            }
        }
    })
}

/// An experiment to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExperimentInput {
    /// Its name: lower-case letters, digits, `-` and `_`.
    pub name: String,
    /// Its arms, `name:weight,…` (`champion:45,challenger:45,holdout:10`).
    pub arms: String,
    /// The salt of the assignment hash (default: the name).
    #[serde(default)]
    pub salt: Option<String>,
}

/// An experiment as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExperimentView {
    /// Its name.
    pub name: String,
    /// Its arms.
    pub arms: String,
    /// Its salt.
    pub salt: String,
    /// Who created it.
    pub created_by: String,
    /// When, local.
    pub created_at: String,
}

/// Creates an experiment (analysts and admins): its arms and salt never change afterwards, so
/// every customer keeps their arm; an `experiment.created` ledger event.
pub async fn create_experiment(
    app: &AppState,
    caller: &Caller,
    e: &ExperimentInput,
) -> ApiResult<ExperimentView> {
    caller.require(Permission::ManageStrategy, "create experiments")?;
    let name = e.name.trim();
    daylight_strategy::experiment::check_name("experiment", name)
        .map_err(|x| ApiError::field("name", x.code, x.message))?;
    let arms = daylight_strategy::experiment::Arms::parse(&e.arms)
        .map_err(|x| ApiError::field("arms", x.code, x.message))?;
    let salt = e.salt.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or(name);
    let new = daylight_store::model::NewExperiment {
        name: name.to_owned(),
        arms: arms.to_string(),
        salt: salt.to_owned(),
    };
    let made =
        app.store.create_experiment(&new, &caller.user.login, app.now()).await.map_err(|x| match x {
            StoreError::Invalid(i) => ApiError::field("name", i.code.as_str(), i.message),
            x => x.into(),
        })?;
    Ok(ExperimentView {
        name: made.name,
        arms: made.arms,
        salt: made.salt,
        created_by: made.created_by,
        created_at: local_full(made.created_at),
    })
}

/// Whether the caller may read strategies, plans, models and experiments' reports.
pub fn can_see_strategy(caller: &Caller) -> bool {
    use daylight_store::access::Role;
    caller.can(Permission::ManagePolicy) || matches!(caller.user.role, Role::Analyst | Role::Auditor)
}

/// An experiment's report as computed, and what it was computed from.
struct CachedReport {
    /// The ledger's head then: nothing written since means nothing changed.
    head: i64,
    /// When.
    at: jiff::Timestamp,
    experiment: daylight_store::model::Experiment,
    report: daylight_strategy::report::Report,
}

/// Experiments' reports by (name, from, until asked): reading every debtor's history takes
/// about a second on 20,000 accounts, so a report is kept until something is written (the
/// ledger's head moves) and a minute has passed; the sweeper refreshes them every minute.
#[derive(Default)]
pub struct ReportCache(std::sync::Mutex<ReportMap>);

type ReportKey = (String, Option<jiff::Timestamp>, Option<jiff::Timestamp>);
type ReportMap = std::collections::HashMap<ReportKey, Arc<CachedReport>>;

/// How long a report may lag what was written since.
pub const REPORT_FRESH: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// An experiment's report over `[from, until)` (default: since it was created, until now), per
/// arm with 95 % intervals and p-values against the first arm; the sample-size check with the
/// requirements' σ = 0.18, δ = 0.05. At most [`REPORT_FRESH`] old when writes went on since.
pub async fn experiment_report(
    app: &AppState,
    caller: &Caller,
    name: &str,
    from: Option<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
) -> ApiResult<(daylight_store::model::Experiment, daylight_strategy::report::Report)> {
    if !can_see_strategy(caller) {
        return Err(ApiError::forbidden("read experiments' reports"));
    }
    let r = report_for(app, name, from, until, false).await?;
    Ok((r.experiment.clone(), r.report.clone()))
}

async fn report_for(
    app: &AppState,
    name: &str,
    from: Option<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
    refresh: bool,
) -> ApiResult<Arc<CachedReport>> {
    let key: ReportKey = (name.to_owned(), from, until);
    let head = app.store.ledger_head().await?.seq;
    let now = app.now();
    let kept = app.reports.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key).cloned();
    if let Some(c) = kept {
        let stale = c.head != head && (refresh || now.duration_since(c.at) >= REPORT_FRESH);
        if !stale {
            return Ok(c);
        }
    }
    let e = app.store.experiment(name).await?;
    let arms = daylight_strategy::experiment::Arms::parse(&e.arms)
        .map_err(|x| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, x.code, x.message))?;
    let until = until.unwrap_or(now);
    let from = from.unwrap_or(e.created_at);
    if from >= until {
        return Err(ApiError::field("from", "DATE_RANGE", "the window starts before it ends"));
    }
    let histories =
        app.store.debtor_histories(&daylight_store::model::HistoryFilter::default(), until).await?;
    let size = daylight_strategy::experiment::sample_size(0.18, 0.05, 0.05, 0.8)
        .map_err(|x| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, x.code, x.message))?;
    let report = daylight_strategy::report::report(&arms, &e.salt, &histories, from, until, size);
    let c = Arc::new(CachedReport { head, at: now, experiment: e, report });
    app.reports.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, c.clone());
    Ok(c)
}

/// Recomputes the reports kept (and every experiment's default one) whose data changed: the
/// sweeper's minute, so that a page seldom waits for one.
pub async fn refresh_reports(app: &AppState) -> ApiResult<()> {
    let mut keys: Vec<ReportKey> =
        app.reports.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).keys().cloned().collect();
    for e in app.store.list_experiments().await? {
        let key = (e.name, None, None);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (name, from, until) in keys {
        report_for(app, &name, from, until, true).await?;
    }
    Ok(())
}

/// The compliance pack to put in force: a shipped one by name, or a pack's TOML.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackInput {
    /// A shipped pack: `cn-default`, `cn-cba-2026`, `us-reg-f`.
    #[serde(default)]
    pub shipped: Option<String>,
    /// A pack's TOML (with its calendar years under `[[calendar.year]]`).
    #[serde(default)]
    pub source: Option<String>,
}

/// The pack in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PackView {
    /// Its name.
    pub name: String,
    /// Its TOML.
    pub source: String,
}

/// The pack in force (admins and compliance officers).
pub async fn policy(app: &AppState, caller: &Caller) -> ApiResult<PackView> {
    caller.require(Permission::ManagePolicy, "see the compliance pack")?;
    let pack = app.store.policy_pack().await?;
    Ok(PackView { name: pack.name.clone(), source: pack.source.clone() })
}

/// Puts a pack in force for every gate of this database (a `config.changed` ledger event). A
/// bad text is refused naming its line and column, and the pack in force stays.
pub async fn set_policy(app: &AppState, caller: &Caller, p: &PackInput) -> ApiResult<PackView> {
    caller.require(Permission::ManagePolicy, "change the compliance pack")?;
    let refused = |field: &str, e: daylight_compliance::PolicyError| {
        ApiError::field(field, e.code, format!("{}: {}", e.place, e.message))
    };
    let pack = match (&p.shipped, &p.source) {
        (Some(name), None) => {
            daylight_compliance::Pack::shipped(name.trim()).map_err(|e| refused("shipped", e))?
        }
        (None, Some(text)) => daylight_compliance::Pack::from_toml(&text.replace("\r\n", "\n"), "pack")
            .map_err(|e| refused("source", e))?,
        _ => {
            return Err(ApiError::field(
                "shipped",
                "REQUIRED",
                "either a shipped pack's name or a pack's source",
            ));
        }
    };
    app.store.set_policy_pack(&pack, &caller.user.login, app.now()).await.map_err(|e| match e {
        StoreError::Invalid(i) => ApiError::field("source", i.code.as_str(), i.message),
        e => e.into(),
    })?;
    app.calendar.refresh(app).await;
    Ok(PackView { name: pack.name.clone(), source: pack.source.clone() })
}

/// How long before the calendar's last day the console and `/metrics` warn.
pub const CALENDAR_WARN_DAYS: i64 = 60;

/// The last day the pack in force's holiday calendar covers, as last read.
#[derive(Debug, Default)]
pub struct CalendarWatch(std::sync::Mutex<Option<CalendarEnd>>, std::sync::atomic::AtomicBool);

/// Where the calendar ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarEnd {
    /// The last day the entered years judge.
    pub last_day: jiff::civil::Date,
    /// Whether the pack judges later days provisionally (else it refuses them).
    pub provisional: bool,
}

impl CalendarWatch {
    /// Reads the pack in force again and sets `daylight_calendar_days_left`.
    pub async fn refresh(&self, app: &AppState) {
        let end = match app.store.policy_pack().await {
            Ok(pack) if pack.holiday.is_some() => pack.calendar.last_day().map(|last_day| CalendarEnd {
                last_day,
                provisional: pack.beyond == daylight_compliance::Beyond::Provisional,
            }),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "reading the pack for its calendar failed");
                return;
            }
        };
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = end;
        self.1.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some((end, left)) = self.days_left(app) {
            metrics::gauge!("daylight_calendar_days_left", "provisional_after" => end.provisional.to_string())
                .set(left as f64);
        }
    }

    /// Whether it has been read at least once.
    pub fn is_loaded(&self) -> bool {
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The end and the days from today (in the team's zone) to it, when the pack has a holiday
    /// rule.
    pub fn days_left(&self, app: &AppState) -> Option<(CalendarEnd, i64)> {
        let end = (*self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner))?;
        let today = app.now().to_zoned(crate::work::team_zone()).date();
        let left = (end.last_day - today).get_days();
        Some((end, i64::from(left)))
    }

    /// The warning the console shows: within [`CALENDAR_WARN_DAYS`] of the end, or past it.
    pub fn warning(&self, app: &AppState) -> Option<(CalendarEnd, i64)> {
        self.days_left(app).filter(|(_, left)| *left <= CALENDAR_WARN_DAYS)
    }
}
