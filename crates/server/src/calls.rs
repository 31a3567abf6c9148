//! Click to dial (一键外呼): the gate first, then Daylight's switch rings the collector's phone and
//! then the debtor, bridges and records; the call's end becomes the attempt's outcome, its
//! recording is stored in the vault with its SHA-256 in the attempt's ledger event.
//!
//! The collector never sees the number: the console names a contact point, the server reads the
//! number for the switch alone. See docs/calls.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use daylight_calls::{CallEnd, CallEvent, Dial, Leg, Supervision, Switch, SwitchConfig};
use daylight_domain::attempt::{Channel, Outcome, Planned};
use daylight_domain::customer::{ContactPoint, Recipient};
use daylight_domain::id::{CaseId, ContactId};
use daylight_store::model::{CaseDetail, NewRecording};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::roles::Permission;
use crate::settings::CallSettings;
use crate::work::{agent_of, local_full};

/// The contact the console and the gate build for a call by `caller` now to `point` of `case`:
/// the one request every caller of the gate for a call uses ("can I call now?", the dial).
pub fn call_planned(caller: &Caller, case: &CaseId, point: &ContactPoint, now: Timestamp) -> Planned {
    call_to(caller, case, point.role.recipient(), point.id.clone(), now)
}

/// [`call_planned`] when the point is known by its id and whom it reaches (a plan's action).
pub fn call_to(
    caller: &Caller,
    case: &CaseId,
    recipient: Recipient,
    point: ContactId,
    now: Timestamp,
) -> Planned {
    Planned {
        case: case.clone(),
        // The gate picks the account the contact is about.
        account: None,
        at: now,
        channel: Channel::Call,
        recipient,
        contact_point: Some(point),
        agent: agent_of(caller),
    }
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The collector's phone rings.
    RingingAgent,
    /// The collector answered; the debtor's phone rings.
    RingingDebtor,
    /// Both legs bridged.
    Talking,
    /// Over; the attempt is recorded (or withdrawn).
    Ended,
}

/// A call as the console follows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallView {
    /// The started attempt's id (the call's id).
    pub call: i64,
    /// The case.
    pub case: String,
    /// The collector.
    pub collector: String,
    /// Where it is.
    pub phase: Phase,
    /// The attempt recorded at its end (none while live, or when withdrawn).
    pub attempt: Option<i64>,
    /// Its outcome.
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Outcome>,
    /// Talk time, seconds.
    pub duration_secs: Option<u32>,
    /// The final SIP status of the debtor's leg.
    pub sip_status: Option<u16>,
    /// Why it was withdrawn, or what failed.
    pub reason: Option<String>,
    /// Whether its collector has wrapped it up (refined the outcome of a bridged call).
    pub wrapped_up: bool,
    /// How a supervisor is on the call (`listen`, `whisper`, `barge`), once their phone
    /// answered; none when nobody is.
    pub supervision: Option<String>,
    /// The supervisor's login, from their request until they leave.
    pub supervisor: Option<String>,
}

impl CallView {
    /// Whether the wrap-up form is offered: a bridged call, recorded as `conversation`, not yet
    /// wrapped up.
    pub fn wraps_up(&self) -> bool {
        self.phase == Phase::Ended
            && self.attempt.is_some()
            && self.outcome == Some(Outcome::Conversation)
            && !self.wrapped_up
    }
}

/// What a wrap-up says was said.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrapUpInput {
    /// `conversation`, `promise_to_pay`, `refused`, `hardship`, `dispute`, `abusive`,
    /// `cease_request`, `third_party_answered` or `wrong_number`.
    pub outcome: String,
    /// A note on the call (催记), optional.
    #[serde(default)]
    pub note: Option<String>,
}

/// The outcomes a wrap-up offers, the switch's `conversation` first.
pub const WRAP_UP_OUTCOMES: [Outcome; 9] = [
    Outcome::Conversation,
    Outcome::PromiseToPay,
    Outcome::Refused,
    Outcome::Hardship,
    Outcome::Dispute,
    Outcome::Abusive,
    Outcome::CeaseRequest,
    Outcome::ThirdPartyAnswered,
    Outcome::WrongNumber,
];

/// The wrap-up of call `call` by its collector: the attempt's outcome refined, the note stored.
pub async fn wrap_up(app: &AppState, caller: &Caller, call: i64, input: &WrapUpInput) -> ApiResult<CallView> {
    caller.require(Permission::WorkCases, "wrap up calls")?;
    let calls = calls_of(app)?;
    let v = calls
        .view(call)
        .filter(|v| v.collector == caller.user.login)
        .ok_or_else(|| ApiError::not_found("call", &call.to_string()))?;
    let outcome: Outcome = input.outcome.parse().map_err(|e: daylight_domain::error::Invalid| {
        ApiError::field("outcome", e.code.as_str(), e.message)
    })?;
    let Some(attempt) = v.attempt.filter(|_| v.wraps_up()) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "NOT_WRAPPABLE",
            format!("call {call} is not a bridged call waiting for its wrap-up"),
        ));
    };
    app.store.wrap_up_call(attempt, outcome, input.note.as_deref(), &caller.user.login, app.now()).await?;
    crate::agents::on_call(app, &caller.user.login, daylight_domain::agent::AgentEvent::WrappedUp).await;
    calls.update(call, |v| {
        v.outcome = Some(outcome);
        v.wrapped_up = true;
    });
    calls.view(call).ok_or_else(|| ApiError::not_found("call", &call.to_string()))
}

/// A call's change of phase, for its collector's console (screen pop).
#[derive(Debug, Clone, Serialize)]
pub struct CallNotice {
    /// The collector.
    #[serde(skip)]
    pub collector: String,
    /// The call.
    pub call: i64,
    /// Its case.
    pub case: String,
    /// Where it is now.
    pub phase: Phase,
    /// A call from a debtor (`call` is then the call in's id), not one the collector dialled.
    pub inbound: bool,
}

/// A dial's answer: refused by the gate (the rules and the next allowed time), or placed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DialView {
    /// Whether the gate allowed it (and the switch placed it).
    pub allowed: bool,
    /// The rules that refused it.
    pub rules: Vec<String>,
    /// Their texts, as the pack words them.
    pub texts: Vec<String>,
    /// The next allowed minute (team time), when refused.
    pub next_allowed_at: Option<String>,
    /// The call, when placed.
    pub call: Option<CallView>,
}

/// Dial input: which of the case's phones.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DialInput {
    /// The contact point to call.
    pub contact_point: String,
}

/// Daylight's switch and the calls it carries.
pub struct Calls {
    pub(crate) switch: Switch,
    pub(crate) settings: CallSettings,
    pub(crate) calls: Mutex<HashMap<i64, CallView>>,
    notices: tokio::sync::broadcast::Sender<CallNotice>,
    recognizer: Option<Arc<dyn crate::recognizer::Recognizer>>,
    /// A robot's voice (espeak-ng, cached in the vault's `.speech` folder).
    pub(crate) tts: Arc<dyn daylight_calls::speech::Tts>,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calls").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Calls {
    /// Starts the switch `settings` describe.
    pub async fn start(settings: &CallSettings) -> Result<Calls, daylight_calls::CallError> {
        std::fs::create_dir_all(&settings.vault).map_err(|e| {
            daylight_calls::CallError::Config(format!("vault {}: {e}", settings.vault.display()))
        })?;
        let cfg = SwitchConfig {
            bind: settings.sip_bind,
            trunk: settings.trunk.clone(),
            max_calls: settings.max_calls,
            max_call_secs: settings.max_call_secs,
            ring_secs: settings.ring_secs,
        };
        let recognizer = match &settings.recognizer {
            None => None,
            Some((url, token, secs)) => {
                let r = crate::recognizer::HttpRecognizer::new(
                    url,
                    token.clone(),
                    std::time::Duration::from_secs(u64::from(*secs)),
                )
                .map_err(|e| daylight_calls::CallError::Config(format!("calls.recognizer = {e}")))?;
                Some(Arc::new(r) as Arc<dyn crate::recognizer::Recognizer>)
            }
        };
        let tts = daylight_calls::speech::Espeak::new(&settings.vault.join(".speech"))?;
        Ok(Calls {
            switch: Switch::start(cfg).await?,
            settings: settings.clone(),
            calls: Mutex::new(HashMap::new()),
            notices: tokio::sync::broadcast::channel(256).0,
            recognizer,
            tts: Arc::new(tts),
        })
    }

    /// The switch's SIP address.
    pub fn sip_addr(&self) -> std::net::SocketAddr {
        self.switch.local_addr()
    }

    /// The settings it runs under.
    pub fn settings(&self) -> &CallSettings {
        &self.settings
    }

    pub(crate) fn update(&self, call: i64, f: impl FnOnce(&mut CallView)) {
        if let Some(v) = self.calls.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&call) {
            let before = v.phase;
            f(v);
            if v.phase != before {
                // Nobody listening is fine.
                self.notify(CallNotice {
                    collector: v.collector.clone(),
                    call,
                    case: v.case.clone(),
                    phase: v.phase,
                    inbound: false,
                });
            }
        }
    }

    /// Tells the consoles listening of a call's change (nobody listening is fine).
    pub(crate) fn notify(&self, n: CallNotice) {
        let _ = self.notices.send(n);
    }

    /// The switch's calls from the trunk, for [`crate::inbound::serve`] to route.
    pub(crate) fn incoming(&self) -> tokio::sync::mpsc::Receiver<daylight_calls::Incoming> {
        self.switch.incoming()
    }

    /// Each change of a call's phase on this server, as it happens (screen pop).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CallNotice> {
        self.notices.subscribe()
    }

    /// The call `call`, if this server placed it.
    pub fn view(&self, call: i64) -> Option<CallView> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).get(&call).cloned()
    }

    /// The live call (not ended) of collector `login` on this server, if any.
    pub fn live_of(&self, login: &str) -> Option<CallView> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls
            .values()
            .filter(|v| v.collector == login && v.phase != Phase::Ended)
            .max_by_key(|v| v.call)
            .cloned()
    }

    /// The latest call `login` placed on case `case` from this server.
    pub fn latest_for(&self, case: &str, login: &str) -> Option<CallView> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.values().filter(|v| v.case == case && v.collector == login).max_by_key(|v| v.call).cloned()
    }

    /// The caller ID for `number`: the one sharing the longest leading digits with it (the
    /// debtor's area, 属地号码), else the first.
    pub fn caller_id_for(&self, number: &str) -> String {
        let common = |a: &str| a.chars().zip(number.chars()).take_while(|(x, y)| x == y).count();
        self.settings
            .caller_ids
            .iter()
            .max_by_key(|c| {
                (common(c), std::cmp::Reverse(self.settings.caller_ids.iter().position(|x| x == *c)))
            })
            .cloned()
            .unwrap_or_else(|| "daylight".to_owned())
    }
}

pub(crate) fn calls_of(app: &AppState) -> ApiResult<&Arc<Calls>> {
    app.calls.as_ref().ok_or_else(|| {
        // Not a failure of the server: a state of this one (no switch set up), like a closed case.
        ApiError::new(
            StatusCode::CONFLICT,
            "CALLS_OFF",
            "calls are not set up on this server: see [calls] in docs/calls.md",
        )
    })
}

/// Case `id` within the caller's scope and its contact point `contact_point` (the field at
/// fault when it has none): what a call of either kind, dialled or robot, is placed to.
pub(crate) async fn case_point(
    app: &AppState,
    caller: &Caller,
    id: &str,
    contact_point: &str,
) -> ApiResult<(CaseDetail, ContactPoint)> {
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    let d = app.store.case_detail_in(&caller.scope, &case).await?;
    let point_id = ContactId::parse(contact_point)
        .map_err(|e| ApiError::field("contact_point", e.code.as_str(), e.message))?;
    let Some(point) = d.contacts.iter().find(|p| p.id == point_id).cloned() else {
        return Err(ApiError::field(
            "contact_point",
            "NOT_FOUND",
            format!("case {id} has no contact point {contact_point}"),
        ));
    };
    Ok((d, point))
}

/// A call the gate allowed, ready to leave: its start, what the switch dials, and where its
/// recording goes (relative to the vault).
pub(crate) struct Placed {
    pub(crate) started: i64,
    pub(crate) dial: Dial,
    pub(crate) file: PathBuf,
}

/// The one way a call reaches the switch: the gate's start for `planned` (refused: the answer
/// with the rules, and nothing is dialled), the clear number for the switch alone, the note
/// that lets a restart finish the call should this process stop, and the vault's folder
/// (every call is recorded: no vault, no call). `agent` is the collector's phone (empty for a
/// robot call).
pub(crate) async fn place(
    app: &AppState,
    calls: &Calls,
    planned: &Planned,
    point: &ContactId,
    login: &str,
    agent: String,
) -> ApiResult<Result<Placed, DialView>> {
    let now = planned.at;
    // The gate's start and, allowed, the note that lets a restart finish the call should this
    // process stop: one transaction, before anything leaves.
    let named = |started: i64| recording_name(now, "call", started).display().to_string();
    let gated = app.store.start_call(planned, &calls.settings.node, &named, login, now).await?;
    let Some(started) = gated.id.filter(|_| gated.decision.allowed) else {
        return Ok(Err(DialView {
            allowed: false,
            rules: gated.decision.violations.iter().map(|r| r.code().to_owned()).collect(),
            texts: gated.texts.iter().map(|t| t.message_zh.to_string()).collect(),
            next_allowed_at: gated.decision.next_allowed_at.map(local_full),
            call: None,
        }));
    };
    let file = recording_name(now, "call", started);
    let number = match app.store.dial_number(&planned.case, point).await {
        Ok(n) => n,
        Err(e) => {
            app.store.withdraw_call(started, &format!("{}: {e}", e.code()), login, app.now()).await?;
            return Err(e.into());
        }
    };
    let record_to = calls.settings.vault.join(&file);
    if let Some(dir) = record_to.parent()
        && let Err(e) = tokio::fs::create_dir_all(dir).await
    {
        let reason = format!("VAULT_WRITE: {}: {e}", dir.display());
        app.store.withdraw_call(started, &reason, login, app.now()).await?;
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "VAULT_WRITE", reason));
    }
    let dial = Dial {
        call: started.to_string(),
        agent,
        caller_id: calls.caller_id_for(&number),
        number,
        record_to,
        vault_recipient: calls.settings.vault_recipient.clone(),
    };
    Ok(Ok(Placed { started, dial, file }))
}

/// The switch could not take call `started`: nothing left it, so the start goes and nothing
/// counts under the caps; the error for the caller.
pub(crate) async fn not_placed(
    app: &AppState,
    started: i64,
    login: &str,
    e: &daylight_calls::CallError,
) -> ApiError {
    let reason = format!("{}: {e}", e.code());
    if let Err(w) = app.store.withdraw_call(started, &reason, login, app.now()).await {
        return w.into();
    }
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), e.to_string())
}

/// The talk time an attempt with `outcome` records of call `end`, whole seconds: none for an
/// outcome that reached nobody ([`Outcome::has_talk_time`]), though the recording keeps the
/// call whole.
pub(crate) fn talk_secs(end: &CallEnd, outcome: Outcome) -> u32 {
    if outcome.has_talk_time() { end.talk_secs.round().clamp(0.0, f64::from(u32::MAX)) as u32 } else { 0 }
}

/// Call `end`'s recording as the store keeps it, at `file` in the vault.
pub(crate) fn recording_of(end: &CallEnd, file: &Path) -> Option<NewRecording> {
    end.recording.as_ref().map(|r| NewRecording {
        path: file.display().to_string(),
        sha256: r.sha256.clone(),
        bytes: r.bytes,
        millis: (r.secs * 1000.0).round().max(0.0) as u64,
    })
}

/// Starts following call `started` on case `case` for `login` at `phase`; its view.
pub(crate) fn track(calls: &Calls, started: i64, case: &CaseId, login: &str, phase: Phase) -> CallView {
    let view = CallView {
        call: started,
        case: case.as_str().to_owned(),
        collector: login.to_owned(),
        phase,
        attempt: None,
        outcome: None,
        duration_secs: None,
        sip_status: None,
        reason: None,
        wrapped_up: false,
        supervision: None,
        supervisor: None,
    };
    calls.calls.lock().unwrap_or_else(|e| e.into_inner()).insert(started, view.clone());
    view
}

/// Click to dial: the gate judges a call now by the caller to `point` of case `id`; refused,
/// nothing is dialled and the rules come back; allowed, the switch rings the caller's phone,
/// then the debtor. The call's end records the attempt with its outcome, talk time and recording.
pub async fn dial(app: &AppState, caller: &Caller, id: &str, input: &DialInput) -> ApiResult<DialView> {
    caller.require(Permission::WorkCases, "place calls")?;
    let calls = calls_of(app)?.clone();
    let (d, point) = case_point(app, caller, id, &input.contact_point).await?;
    let login = caller.user.login.clone();
    let Some(phone) = calls.settings.phones.get(&login).cloned() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CALL_NO_PHONE",
            format!("no phone is set for {login}: add it under [calls.phones] (docs/calls.md)"),
        ));
    };
    let now = app.now();
    let planned = call_planned(caller, &d.case.id, &point, now);
    let Placed { started, dial, file } = match place(app, &calls, &planned, &point.id, &login, phone).await? {
        Ok(p) => p,
        Err(refused) => return Ok(refused),
    };
    let events = match calls.switch.dial(dial).await {
        Ok(events) => events,
        Err(e) => return Err(not_placed(app, started, &login, &e).await),
    };
    let view = track(&calls, started, &d.case.id, &login, Phase::RingingAgent);
    crate::agents::on_call(app, &login, daylight_domain::agent::AgentEvent::Dialled).await;
    let app2 = app.clone();
    tokio::spawn(async move { follow(app2, calls, started, login, file, now, events).await });
    Ok(DialView {
        allowed: true,
        rules: Vec::new(),
        texts: Vec::new(),
        next_allowed_at: None,
        call: Some(view),
    })
}

/// Finishes the calls this switch (`calls.node`) placed or took in and never finished, because
/// the process carrying them stopped: each dialled call becomes an `interrupted` attempt, each
/// call in is logged `interrupted`, and the spool of its recording (encrypted to a key that died
/// with the process) is removed. Run at start, before the switch takes a call.
pub async fn recover(app: &AppState, settings: &CallSettings) -> Result<usize, daylight_store::StoreError> {
    let actor = format!("daylight:switch {}", settings.node);
    let done = app.store.interrupted_calls(&settings.node, &actor, app.now()).await?;
    for c in &done {
        let spool = settings.vault.join(format!("{}.spool", c.recording));
        match std::fs::remove_file(&spool) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(spool = %spool.display(), error = %e, "removing an interrupted call's spool failed")
            }
        }
        tracing::warn!(call = c.started, attempt = ?c.attempt, "a call cut off by the last stop is recorded as interrupted");
        if let Some(login) = &c.started_by {
            free_collector(app, login).await;
        }
    }
    let calls_in = app.store.interrupted_calls_in(&settings.node, &actor, app.now()).await?;
    for c in &calls_in {
        let spool = settings.vault.join(format!("{}.spool", recording_name(c.at, "inbound", c.id).display()));
        match std::fs::remove_file(&spool) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(spool = %spool.display(), error = %e, "removing an interrupted call's spool failed")
            }
        }
        tracing::warn!(inbound = c.id, "a call in cut off by the last stop is logged as interrupted");
        if let Some(login) = c.end.as_ref().and_then(|e| e.collector.as_ref()) {
            free_collector(app, login).await;
        }
    }
    Ok(done.len() + calls_in.len())
}

/// Collector `login`'s call was cut off by a stop: ringing, they are ready again; talking,
/// they wrap up (the board never keeps them on a call that is gone).
async fn free_collector(app: &AppState, login: &str) {
    let bridged = match app.store.agent(login).await {
        Ok(a) => a.state == daylight_domain::agent::AgentState::Talking,
        Err(_) => return,
    };
    crate::agents::on_call(app, login, daylight_domain::agent::AgentEvent::Ended { bridged }).await;
}

/// The vault's name for a recording: by month, then `{kind}-{id}` (`call` and the started
/// attempt for a dialled call, `inbound` and its log's id for a call in).
pub(crate) fn recording_name(now: Timestamp, kind: &str, id: i64) -> PathBuf {
    let month = now.strftime("%Y-%m").to_string();
    Path::new(&month).join(format!("{kind}-{id}.wav.age"))
}

pub(crate) async fn follow(
    app: AppState,
    calls: Arc<Calls>,
    started: i64,
    login: String,
    file: PathBuf,
    dialled_at: Timestamp,
    mut events: tokio::sync::mpsc::Receiver<CallEvent>,
) {
    while let Some(ev) = events.recv().await {
        match ev {
            CallEvent::Answered(Leg::Agent) | CallEvent::Ringing(Leg::Debtor) => {
                calls.update(started, |v| v.phase = Phase::RingingDebtor)
            }
            CallEvent::Supervised(mode) => calls.update(started, |v| {
                v.supervision = mode.map(|m| m.as_str().to_owned());
                if mode.is_none() {
                    v.supervisor = None;
                }
            }),
            CallEvent::Bridged => {
                // The board first: whoever sees the call talking sees the collector talking.
                crate::agents::on_call(&app, &login, daylight_domain::agent::AgentEvent::Bridged).await;
                calls.update(started, |v| v.phase = Phase::Talking);
            }
            CallEvent::Ended(end) => {
                if end.bridged && end.recording.is_none() {
                    tracing::error!(call = started, "a bridged call left no recording");
                }
                let result = finish(&app, started, &login, &file, &end).await;
                if let Ok(Some((_, _, secs))) = &result {
                    crate::agents::count_call(&app, &login, *secs).await;
                }
                let ended = daylight_domain::agent::AgentEvent::Ended { bridged: end.bridged };
                crate::agents::on_call(&app, &login, ended).await;
                if let (Ok(Some((attempt, _, _))), true, Some(r)) =
                    (&result, end.bridged && end.recording.is_some(), &calls.recognizer)
                {
                    let job =
                        Recognition { attempt: *attempt, call: started, file: file.clone(), dialled_at };
                    let (app, calls, r) = (app.clone(), calls.clone(), r.clone());
                    tokio::spawn(async move {
                        if let Err(e) = recognise(&app, &calls, &*r, &job).await {
                            tracing::error!(call = job.call, attempt = job.attempt, code = %e.code, error = %e.message, "recognising a call for QC failed");
                        }
                    });
                }
                calls.update(started, |v| {
                    v.phase = Phase::Ended;
                    v.sip_status = end.debtor_code;
                    match result {
                        Ok(Some((attempt, outcome, secs))) => {
                            v.attempt = Some(attempt);
                            v.outcome = Some(outcome);
                            v.duration_secs = Some(secs);
                        }
                        Ok(None) => v.reason = Some("collector_no_answer".to_owned()),
                        Err(e) => v.reason = Some(e.to_string()),
                    }
                });
                return;
            }
            _ => {}
        }
    }
}

/// A bridged call's recording to transcribe for QC.
struct Recognition {
    attempt: i64,
    call: i64,
    file: PathBuf,
    dialled_at: Timestamp,
}

/// QC from a call: its recording decrypted (a `recording.accessed` event, `how` = `recognize`),
/// transcribed by the bank's recogniser, analysed by QC and stored with its attempt, as a
/// transcript submitted through the API would be (actor `daylight:recognizer`).
async fn recognise(
    app: &AppState,
    calls: &Calls,
    recognizer: &dyn crate::recognizer::Recognizer,
    job: &Recognition,
) -> ApiResult<()> {
    const ACTOR: &str = "daylight:recognizer";
    let Some(identity) = &calls.settings.vault_identity else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "VAULT_LOCKED",
            "calls.recognizer needs calls.vault_identity on this server to open the recording",
        ));
    };
    let path = job.file.display().to_string();
    let row = app
        .store
        .recording_by_attempt(job.attempt)
        .await?
        .filter(|r| r.file.path == path)
        .ok_or_else(|| ApiError::not_found("recording of attempt", &job.attempt.to_string()))?;
    let cipher = tokio::fs::read(calls.settings.vault.join(&row.file.path)).await.map_err(|e| {
        ApiError::new(StatusCode::GONE, "RECORDING_MISSING", format!("{}: {e}", row.file.path))
    })?;
    let wav = decrypt(identity, &cipher)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "VAULT_DECRYPT", e))?;
    app.store.recording_accessed(row.id, "recognize", ACTOR, app.now()).await?;
    let audio = crate::recognizer::Audio { call_id: job.call, started_at: job.dialled_at, wav: &wav };
    let body = recognizer
        .transcribe(&audio)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.code, e.message))?;
    let t = daylight_qc::Transcript::parse("the recogniser's transcript", &body)
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.code, format!("{}: {}", e.place, e.message)))?;
    let analysis = app.qc.get(app).analyze(&t);
    let new = crate::qc::stored_call(row.case.clone(), job.attempt, &body, &analysis);
    app.store.record_qc(&new, ACTOR, app.now()).await?;
    Ok(())
}

/// Records the call's end: the SIP result's outcome (see [`daylight_calls::mapping`]) with the
/// real talk time and the recording; a call the collector never answered is withdrawn.
async fn finish(
    app: &AppState,
    started: i64,
    login: &str,
    file: &Path,
    end: &CallEnd,
) -> Result<Option<(i64, Outcome, u32)>, daylight_store::StoreError> {
    let now = app.now();
    let Some(outcome) = daylight_calls::mapping::outcome(end) else {
        let reason = match end.agent_code {
            Some(code) => format!("the collector's phone did not answer (SIP {code})"),
            None => "the collector's phone did not answer (no SIP response)".to_owned(),
        };
        app.store.withdraw_call(started, &reason, login, now).await?;
        return Ok(None);
    };
    let secs = talk_secs(end, outcome);
    let recording = recording_of(end, file);
    let attempt = app.store.finish_call(started, outcome, secs, recording.as_ref(), None, login, now).await?;
    Ok(Some((attempt, outcome, secs)))
}

/// A call this server placed, if the caller may see it (their own, or, for a supervisor, one on
/// a case within their scope).
pub async fn call(app: &AppState, caller: &Caller, call: i64) -> ApiResult<CallView> {
    let v = calls_of(app)?.view(call).ok_or_else(|| ApiError::not_found("call", &call.to_string()))?;
    if v.collector == caller.user.login {
        return Ok(v);
    }
    supervised_call(app, caller, call).await
}

/// Hangs up a live call: its collector, or a supervisor (强制挂断, a `call.supervised` event
/// with `hangup`).
pub async fn hangup(app: &AppState, caller: &Caller, id: i64) -> ApiResult<CallView> {
    let calls = calls_of(app)?;
    let v = calls.view(id).ok_or_else(|| ApiError::not_found("call", &id.to_string()))?;
    if v.collector != caller.user.login {
        let v = supervised_call(app, caller, id).await?;
        if v.phase != Phase::Ended && calls.switch.hangup(&id.to_string()) {
            let case = CaseId::parse(&v.case).map_err(|_| ApiError::not_found("case", &v.case))?;
            app.store
                .call_supervised(&case, id, &v.collector, "hangup", &caller.user.login, app.now())
                .await?;
        }
        return Ok(v);
    }
    calls.switch.hangup(&id.to_string());
    Ok(v)
}

/// What a supervisor asks of a live call.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseInput {
    /// `listen` (监听: hear both sides, nobody hears you), `whisper` (耳语: only the collector
    /// hears you), `barge` (强插: everyone hears everyone) or `end` (leave the call).
    pub mode: String,
}

/// A call on this server that `caller` may supervise: `SuperviseCalls`, and its case within
/// their scope (else `NOT_FOUND`).
async fn supervised_call(app: &AppState, caller: &Caller, id: i64) -> ApiResult<CallView> {
    caller.require(Permission::SuperviseCalls, "supervise calls")?;
    let v = calls_of(app)?.view(id).ok_or_else(|| ApiError::not_found("call", &id.to_string()))?;
    let case = CaseId::parse(&v.case).map_err(|_| ApiError::not_found("call", &id.to_string()))?;
    app.store
        .case_detail_in(&caller.scope, &case)
        .await
        .map_err(|_| ApiError::not_found("call", &id.to_string()))?;
    Ok(v)
}

/// 三方监听: a supervisor joins collector's live call `id` on their own phone to listen, whisper
/// or barge in, changes how, or leaves (`end`). Each request is a `call.supervised` event. The
/// switch rings the supervisor's phone (`[calls.phones]`); the call's `supervision` shows the
/// mode once it answered.
pub async fn supervise(
    app: &AppState,
    caller: &Caller,
    id: i64,
    input: &SuperviseInput,
) -> ApiResult<CallView> {
    let v = supervised_call(app, caller, id).await?;
    let calls = calls_of(app)?;
    let login = caller.user.login.clone();
    let mode = match input.mode.trim() {
        "listen" => Some(Supervision::Listen),
        "whisper" => Some(Supervision::Whisper),
        "barge" => Some(Supervision::Barge),
        "end" => None,
        other => {
            return Err(ApiError::field(
                "mode",
                "ENUM",
                format!("mode {other:?}: expected listen, whisper, barge or end"),
            ));
        }
    };
    if v.collector == login {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CALL_OWN",
            "a collector cannot supervise their own call",
        ));
    }
    let conflict = |e: daylight_calls::CallError| {
        let status = match e {
            daylight_calls::CallError::NoCall(_) => StatusCode::NOT_FOUND,
            daylight_calls::CallError::Config(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        ApiError::new(status, e.code(), e.to_string())
    };
    let case = CaseId::parse(&v.case).map_err(|_| ApiError::not_found("call", &id.to_string()))?;
    let key = id.to_string();
    match mode {
        None => {
            if v.supervisor.as_deref() != Some(login.as_str()) || !calls.switch.end_supervision(&key) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "NOT_SUPERVISING",
                    format!("{login} is not on call {id}"),
                ));
            }
        }
        Some(mode) => {
            if let Some(other) = v.supervisor.as_deref().filter(|s| *s != login) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "CALL_SUPERVISED",
                    format!("{other} is already supervising call {id}"),
                ));
            }
            let Some(phone) = calls.settings.phones.get(&login).cloned() else {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "CALL_NO_PHONE",
                    format!("no phone is set for {login}: add it under [calls.phones] (docs/calls.md)"),
                ));
            };
            calls.switch.supervise(&key, &phone, mode).map_err(conflict)?;
            calls.update(id, |v| v.supervisor = Some(login.clone()));
        }
    }
    let action = mode.map_or("end", Supervision::as_str);
    app.store.call_supervised(&case, id, &v.collector, action, &login, app.now()).await?;
    calls.view(id).ok_or_else(|| ApiError::not_found("call", &id.to_string()))
}

/// A recording as the console lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordingView {
    /// Its id.
    pub id: i64,
    /// The dialled call's attempt (none for a call in).
    pub attempt: Option<i64>,
    /// The call in's log entry (none for a dialled call).
    pub inbound: Option<i64>,
    /// SHA-256 of the ciphertext (as the ledger has it).
    pub sha256: String,
    /// Length, seconds.
    pub secs: f64,
    /// When (team time).
    pub at: String,
}

/// The recordings of case `id`, if the caller may listen to recordings.
pub async fn recordings(app: &AppState, caller: &Caller, id: &str) -> ApiResult<Vec<RecordingView>> {
    caller.require(Permission::ListenRecordings, "listen to recordings")?;
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    app.store.case_detail_in(&caller.scope, &case).await?;
    Ok(app
        .store
        .recordings_of(&case)
        .await?
        .into_iter()
        .map(|r| RecordingView {
            id: r.id,
            attempt: r.attempt,
            inbound: r.inbound,
            sha256: r.file.sha256,
            secs: r.file.millis as f64 / 1000.0,
            at: local_full(r.recorded_at),
        })
        .collect())
}

/// A call from the debtor's side (a call in) as the case shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboundView {
    /// Its id.
    pub id: i64,
    /// When it came (team time).
    pub at: String,
    /// The caller's number, masked.
    pub number: String,
    /// The caller ID called.
    pub dialled: String,
    /// Who answered, or was rung last.
    pub collector: Option<String>,
    /// `answered`, `missed`, `abandoned`, `unmatched` or `interrupted` (none while live).
    pub outcome: Option<String>,
    /// Talk time, seconds.
    pub talk_secs: u32,
    /// The recording's SHA-256 (as in its `call.inbound` event), when answered.
    pub sha256: Option<String>,
    /// The recording's id in the vault (`/api/recordings/{id}/audio`), when answered.
    pub recording: Option<i64>,
}

/// The calls in matched to case `id` (within the caller's scope), newest first.
pub async fn calls_in(app: &AppState, caller: &Caller, id: &str) -> ApiResult<Vec<InboundView>> {
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    app.store.case_detail_in(&caller.scope, &case).await?;
    Ok(app
        .store
        .inbound_calls_of(&case)
        .await?
        .into_iter()
        .map(|r| InboundView {
            id: r.id,
            at: local_full(r.at),
            number: r.call.number_masked,
            dialled: r.call.dialled,
            collector: r.end.as_ref().and_then(|e| e.collector.clone()),
            outcome: r.end.as_ref().map(|e| e.outcome.clone()),
            talk_secs: r.end.as_ref().map_or(0, |e| e.talk_secs),
            sha256: r.end.and_then(|e| e.recording).map(|f| f.sha256),
            recording: r.recording_id,
        })
        .collect())
}

/// How a recording is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Played in the console.
    Listen,
    /// Saved as a file.
    Download,
}

/// The audio of recording `id` (a two-channel WAV: left the collector, right the debtor),
/// decrypted with the vault's identity, its ciphertext checked against the stored SHA-256; each
/// fetch is a `recording.accessed` ledger event.
pub async fn audio(app: &AppState, caller: &Caller, id: i64, how: Access) -> ApiResult<Vec<u8>> {
    let (perm, word) = match how {
        Access::Listen => (Permission::ListenRecordings, "listen"),
        Access::Download => (Permission::DownloadRecordings, "download"),
    };
    caller.require(perm, if word == "listen" { "listen to recordings" } else { "download recordings" })?;
    let calls = calls_of(app)?;
    let r = app.store.recording(id).await?;
    // Within scope, or not found.
    app.store.case_detail_in(&caller.scope, &r.case).await?;
    let Some(identity) = &calls.settings.vault_identity else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "VAULT_LOCKED",
            "this server holds no vault identity (calls.vault_identity): recordings cannot be played here",
        ));
    };
    let cipher = tokio::fs::read(calls.settings.vault.join(&r.file.path))
        .await
        .map_err(|e| ApiError::new(StatusCode::GONE, "RECORDING_MISSING", format!("recording {id}: {e}")))?;
    if hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&cipher)) != r.file.sha256 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "RECORDING_TAMPERED",
            format!("recording {id} does not match the SHA-256 in its ledger event"),
        ));
    }
    let plain = decrypt(identity, &cipher)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "VAULT_DECRYPT", e))?;
    app.store.recording_accessed(id, word, &caller.user.login, app.now()).await?;
    Ok(plain)
}

/// Batch export of `cases` (see [`crate::vault_export`]) for a caller with
/// `DownloadRecordings`, every case within their scope: the ZIP's bytes.
pub async fn export(app: &AppState, caller: &Caller, cases: &[String]) -> ApiResult<Vec<u8>> {
    caller.require(Permission::DownloadRecordings, "export recordings")?;
    let calls = calls_of(app)?;
    if cases.len() > 500 {
        return Err(ApiError::field(
            "cases",
            "TOO_MANY",
            format!("{} cases: at most 500 in one export", cases.len()),
        ));
    }
    let mut ids = Vec::with_capacity(cases.len());
    for (i, id) in cases.iter().enumerate() {
        let case = CaseId::parse(id)
            .map_err(|e| ApiError::field(&format!("cases[{i}]"), e.code.as_str(), e.message))?;
        // Within scope, or not found.
        app.store.case_detail_in(&caller.scope, &case).await?;
        if !ids.contains(&case) {
            ids.push(case);
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    crate::vault_export::export(
        &*app.store,
        &ids,
        &calls.settings.vault,
        &caller.user.login,
        app.now(),
        &mut out,
    )
    .await?;
    Ok(out.into_inner())
}

fn decrypt(identity: &Path, cipher: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    use std::str::FromStr;
    let text = std::fs::read_to_string(identity)
        .map_err(|e| format!("vault identity {}: {e}", identity.display()))?;
    let key = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .ok_or_else(|| format!("vault identity {}: no AGE-SECRET-KEY line", identity.display()))?;
    let id = age::x25519::Identity::from_str(key).map_err(|e| format!("vault identity: {e}"))?;
    let decryptor = age::Decryptor::new(cipher).map_err(|e| format!("recording: {e}"))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .map_err(|e| format!("recording: {e}"))?;
    let mut out = Vec::with_capacity(cipher.len());
    reader.read_to_end(&mut out).map_err(|e| format!("recording: {e}"))?;
    Ok(out)
}
