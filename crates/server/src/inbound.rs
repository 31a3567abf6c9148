//! Calls from the trunk (回拨): a debtor calling back a caller-ID number is matched to their case
//! by number and routed to the case's collector when ready, else to the team's ready collectors
//! (longest idle first); recorded, logged (`inbound_calls`, `call.inbound`), and never a contact
//! attempt, so nothing counts under the caps. See docs/calls.md ("Calls from debtors").

use std::sync::Arc;

use daylight_calls::{CallEvent, Incoming, Route, mask_number};
use daylight_domain::agent::{AgentEvent, AgentState};
use daylight_store::model::{CallerMatch, InboundEnd, NewInbound, NewRecording};

use crate::AppState;
use crate::calls::{CallNotice, Calls, Phase};

/// The actor of the log's events.
const ACTOR: &str = "daylight:switch";

/// Routes every call the switch takes in, each in a task of its own.
pub async fn serve(app: AppState, calls: Arc<Calls>, mut incoming: tokio::sync::mpsc::Receiver<Incoming>) {
    while let Some(call) = incoming.recv().await {
        let (app, calls) = (app.clone(), calls.clone());
        tokio::spawn(async move { route(&app, &calls, call).await });
    }
}

/// The phones to ring for a caller matching `m`, in order: the case's collector if ready, then
/// the team's ready collectors, longest in the state first. Each needs a phone.
async fn candidates(app: &AppState, calls: &Calls, m: &CallerMatch) -> Vec<(String, String)> {
    let phone = |login: &str| calls.settings().phones.get(login).cloned();
    let mut out = Vec::new();
    if let Some(login) = &m.collector
        && let Some(uri) = phone(login)
        && matches!(app.store.agent(login).await, Ok(a) if a.state == AgentState::Ready)
    {
        out.push((login.clone(), uri));
    }
    let team = match (&m.team, &m.collector) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(login)) => app.store.user(login).await.ok().and_then(|u| u.team),
        (None, None) => None,
    };
    if let Some(team) = team {
        match app.store.agent_board(&team).await {
            Ok(mut board) => {
                board.retain(|a| a.state == AgentState::Ready && !out.iter().any(|(l, _)| *l == a.login));
                board.sort_by_key(|a| a.since);
                out.extend(board.into_iter().filter_map(|a| phone(&a.login).map(|uri| (a.login, uri))));
            }
            Err(e) => {
                tracing::warn!(team, code = e.code(), error = %e, "reading the team's board for a call in failed")
            }
        }
    }
    out
}

fn sha256(text: &str) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
}

async fn route(app: &AppState, calls: &Calls, inc: Incoming) {
    let Incoming { call, from, to, route, mut events } = inc;
    let now = app.now();
    let matched = match app.store.callers(&from).await {
        Ok(m) => m.into_iter().next(),
        Err(e) => {
            tracing::warn!(call, code = e.code(), error = %e, "matching a caller by number failed");
            None
        }
    };
    let new = NewInbound {
        number_masked: mask_number(&from),
        number_sha256: sha256(&from),
        dialled: to,
        case: matched.as_ref().map(|m| m.case.clone()),
        contact_point: matched.as_ref().map(|m| m.contact_point.clone()),
    };
    // A call that cannot be logged is not taken: nothing goes unrecorded.
    let id = match app.store.inbound_started(&new, now).await {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(call, code = e.code(), error = %e, "logging a call in failed: refused");
            let _ = route.send(Route::Reject(503));
            return;
        }
    };
    let ring = match &matched {
        Some(m) => candidates(app, calls, m).await,
        None => Vec::new(),
    };
    let file = crate::calls::recording_name(now, "inbound", id);
    let record_to = calls.settings().vault.join(&file);
    let vault_ok = match record_to.parent() {
        Some(dir) => tokio::fs::create_dir_all(dir).await.is_ok(),
        None => false,
    };
    if ring.is_empty() || !vault_ok {
        let _ = route.send(Route::Reject(480));
        let outcome = if matched.is_none() { "unmatched" } else { "missed" };
        let end = InboundEnd { collector: None, outcome: outcome.into(), talk_secs: 0, recording: None };
        log_end(app, id, &end).await;
        tracing::info!(call, inbound = id, outcome, "a call in was not taken");
        return;
    }
    let agents = ring.iter().map(|(_, uri)| uri.clone()).collect();
    let vault_recipient = calls.settings().vault_recipient.clone();
    if route.send(Route::Ring { agents, record_to, vault_recipient }).is_err() {
        let end = InboundEnd { collector: None, outcome: "abandoned".into(), talk_secs: 0, recording: None };
        log_end(app, id, &end).await;
        return;
    }
    let case = matched.map(|m| m.case.as_str().to_owned()).unwrap_or_default();
    let mut offered: Option<usize> = None;
    while let Some(ev) = events.recv().await {
        match ev {
            CallEvent::Offered(i) => {
                if let Some(prev) = offered {
                    crate::agents::on_call(app, &ring[prev].0, AgentEvent::Ended { bridged: false }).await;
                }
                offered = Some(i);
                if let Some((login, _)) = ring.get(i) {
                    crate::agents::on_call(app, login, AgentEvent::Dialled).await;
                }
            }
            CallEvent::Bridged => {
                if let Some((login, _)) = offered.and_then(|i| ring.get(i)) {
                    crate::agents::on_call(app, login, AgentEvent::Bridged).await;
                    // Screen pop: the collector's console opens the caller's case.
                    calls.notify(CallNotice {
                        collector: login.clone(),
                        call: id,
                        case: case.clone(),
                        phase: Phase::Talking,
                        inbound: true,
                    });
                }
            }
            CallEvent::Ended(end) => {
                let login = offered.and_then(|i| ring.get(i)).map(|(l, _)| l.clone());
                let outcome = if end.bridged {
                    "answered"
                } else if end.ended_by == daylight_calls::EndedBy::Debtor {
                    "abandoned"
                } else {
                    "missed"
                };
                let talk_secs = end.talk_secs.round().clamp(0.0, f64::from(u32::MAX)) as u32;
                let recording = end.recording.as_ref().map(|r| NewRecording {
                    path: file.display().to_string(),
                    sha256: r.sha256.clone(),
                    bytes: r.bytes,
                    millis: (r.secs * 1000.0).round().max(0.0) as u64,
                });
                if end.bridged && recording.is_none() {
                    tracing::error!(call, inbound = id, "an answered call in left no recording");
                }
                log_end(
                    app,
                    id,
                    &InboundEnd { collector: login.clone(), outcome: outcome.into(), talk_secs, recording },
                )
                .await;
                if let Some(login) = login {
                    if end.bridged {
                        crate::agents::count_call(app, &login, talk_secs).await;
                    }
                    crate::agents::on_call(app, &login, AgentEvent::Ended { bridged: end.bridged }).await;
                    if end.bridged {
                        calls.notify(CallNotice {
                            collector: login,
                            call: id,
                            case: case.clone(),
                            phase: Phase::Ended,
                            inbound: true,
                        });
                    }
                }
                tracing::info!(call, inbound = id, outcome, talk_secs, "call in ended");
                return;
            }
            _ => {}
        }
    }
}

async fn log_end(app: &AppState, id: i64, end: &InboundEnd) {
    if let Err(e) = app.store.inbound_finished(id, end, ACTOR, app.now()).await {
        tracing::error!(inbound = id, code = e.code(), error = %e, "logging the end of a call in failed");
    }
}
