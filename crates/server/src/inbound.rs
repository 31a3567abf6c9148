//! Calls from the trunk (回拨): a debtor calling back a caller-ID number is matched to their case
//! by number and routed to the case's collector when ready, else to the team's ready collectors
//! (longest idle first); with nobody ready the call waits, ringing, in the team's queue
//! (`calls.queue_secs`) and goes to the first collector to become ready. Recorded into the
//! vault, logged (`inbound_calls`, `call.inbound`), and never a contact attempt, so nothing
//! counts under the caps. See docs/calls.md ("Calls from debtors").

use std::sync::Arc;

use daylight_calls::{CallEvent, Incoming, Route, mask_number};
use daylight_domain::agent::{AgentEvent, AgentState};
use daylight_store::model::{CallerMatch, InboundEnd, NewInbound};

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

/// Who may take a call of a case: the case's collector, then their team (a call in, a robot's
/// transfer).
pub(crate) struct Pool {
    pub(crate) collector: Option<String>,
    pub(crate) team: Option<String>,
}

impl Pool {
    async fn of(app: &AppState, m: &CallerMatch) -> Pool {
        let team = match (&m.team, &m.collector) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(login)) => app.store.user(login).await.ok().and_then(|u| u.team),
            (None, None) => None,
        };
        Pool { collector: m.collector.clone(), team }
    }

    /// The phones to ring now, in order: the case's collector if ready, then the team's ready
    /// collectors, longest in the state first; each needs a phone, and none in `skip`.
    pub(crate) async fn ready(
        &self,
        app: &AppState,
        calls: &Calls,
        skip: &[String],
    ) -> Vec<(String, String)> {
        let phone = |login: &str| calls.settings().phones.get(login).cloned();
        let mut out = Vec::new();
        if let Some(login) = &self.collector
            && !skip.contains(login)
            && let Some(uri) = phone(login)
            && matches!(app.store.agent(login).await, Ok(a) if a.state == AgentState::Ready)
        {
            out.push((login.clone(), uri));
        }
        if let Some(team) = &self.team {
            match app.store.agent_board(team).await {
                Ok(mut board) => {
                    board.retain(|a| {
                        a.state == AgentState::Ready
                            && !skip.contains(&a.login)
                            && !out.iter().any(|(l, _)| *l == a.login)
                    });
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
        node: calls.settings().node.clone(),
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
    let pool = match &matched {
        Some(m) => Some(Pool::of(app, m).await),
        None => None,
    };
    let queue_secs = calls.settings().queue_secs;
    let first = match &pool {
        Some(p) => p.ready(app, calls, &[]).await,
        None => Vec::new(),
    };
    let file = crate::calls::recording_name(now, "inbound", id);
    let record_to = calls.settings().vault.join(&file);
    let vault_ok = match record_to.parent() {
        Some(dir) => tokio::fs::create_dir_all(dir).await.is_ok(),
        None => false,
    };
    // Nobody to take it, now or (with a queue) ever: refused at once.
    let nobody = match &pool {
        None => true,
        Some(p) => first.is_empty() && (queue_secs == 0 || (p.team.is_none() && p.collector.is_none())),
    };
    if nobody || !vault_ok {
        let _ = route.send(Route::Reject(480));
        let outcome = if matched.is_none() { "unmatched" } else { "missed" };
        let end = InboundEnd { collector: None, outcome: outcome.into(), talk_secs: 0, recording: None };
        log_end(app, id, &end).await;
        tracing::info!(call, inbound = id, outcome, "a call in was not taken");
        return;
    }
    let Some(pool) = pool else { return };
    // The switch asks for each phone in turn (`Queued`); the router answers with the best
    // collector ready at that moment, waiting for one until the queue's time runs out.
    let (next_tx, next_rx) = tokio::sync::mpsc::channel(1);
    let vault_recipient = calls.settings().vault_recipient.clone();
    if route.send(Route::Queue { agents: next_rx, record_to, vault_recipient }).is_err() {
        let end = InboundEnd { collector: None, outcome: "abandoned".into(), talk_secs: 0, recording: None };
        log_end(app, id, &end).await;
        return;
    }
    let queue_until = tokio::time::Instant::now() + std::time::Duration::from_secs(u64::from(queue_secs));
    let mut next_tx = Some(next_tx);
    let mut waiting = false;
    let mut offered: Vec<String> = Vec::new();
    let mut first = Some(first);
    let mut current: Option<usize> = None;
    let mut poll = tokio::time::interval(std::time::Duration::from_secs(1));
    let case = matched.map(|m| m.case.as_str().to_owned()).unwrap_or_default();
    loop {
        let ev = tokio::select! {
            ev = events.recv() => match ev {
                Some(ev) => Some(ev),
                None => return,
            },
            _ = poll.tick(), if waiting => None,
        };
        match ev {
            None => {}
            Some(CallEvent::Queued) => waiting = true,
            Some(CallEvent::Offered(i)) => {
                if let Some(prev) = current.and_then(|p| offered.get(p)) {
                    crate::agents::on_call(app, prev, AgentEvent::Ended { bridged: false }).await;
                }
                current = Some(i);
                if let Some(login) = offered.get(i) {
                    crate::agents::on_call(app, login, AgentEvent::Dialled).await;
                    if let Err(e) = app.store.inbound_offered(id, login).await {
                        tracing::warn!(inbound = id, code = e.code(), error = %e, "noting who is offered a call in failed");
                    }
                }
                continue;
            }
            Some(CallEvent::Bridged) => {
                if let Some(login) = current.and_then(|i| offered.get(i)) {
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
                continue;
            }
            Some(CallEvent::Ended(end)) => {
                let login = current.and_then(|i| offered.get(i)).cloned();
                ended(app, calls, id, &call, &case, &file, login, &end).await;
                return;
            }
            Some(_) => continue,
        }
        // The switch waits for a phone: the best one ready now (none tried on this call yet),
        // else the queue goes on until its time is up.
        if !waiting || next_tx.is_none() {
            continue;
        }
        let ready = match first.take() {
            Some(f) => f,
            None => pool.ready(app, calls, &offered).await,
        };
        if let Some((login, uri)) = ready.into_iter().next() {
            if let Some(tx) = &next_tx
                && tx.send(uri).await.is_ok()
            {
                offered.push(login);
                waiting = false;
            }
        } else if tokio::time::Instant::now() >= queue_until {
            tracing::info!(call, inbound = id, queue_secs, "nobody became ready within the queue's time");
            next_tx = None;
        }
    }
}

/// Logs the end of call in `id` and frees the collector who had it.
#[allow(clippy::too_many_arguments)]
async fn ended(
    app: &AppState,
    calls: &Calls,
    id: i64,
    call: &str,
    case: &str,
    file: &std::path::Path,
    login: Option<String>,
    end: &daylight_calls::CallEnd,
) {
    let outcome = if end.bridged {
        "answered"
    } else if end.ended_by == daylight_calls::EndedBy::Debtor {
        "abandoned"
    } else {
        "missed"
    };
    // Not an attempt: a call in answered by a collector has its talk time whatever came of it.
    let talk_secs = crate::calls::talk_secs(end, daylight_domain::attempt::Outcome::Conversation);
    let recording = crate::calls::recording_of(end, file);
    if end.bridged && recording.is_none() {
        tracing::error!(call, inbound = id, "an answered call in left no recording");
    }
    // The collector's board first: whoever sees the call logged sees them in wrap-up.
    if let Some(login) = &login {
        if end.bridged {
            crate::agents::count_call(app, login, talk_secs).await;
        }
        crate::agents::on_call(app, login, AgentEvent::Ended { bridged: end.bridged }).await;
    }
    log_end(app, id, &InboundEnd { collector: login.clone(), outcome: outcome.into(), talk_secs, recording })
        .await;
    if let Some(login) = login
        && end.bridged
    {
        calls.notify(CallNotice {
            collector: login,
            call: id,
            case: case.to_owned(),
            phase: Phase::Ended,
            inbound: true,
        });
    }
    tracing::info!(call, inbound = id, outcome, talk_secs, "call in ended");
}

async fn log_end(app: &AppState, id: i64, end: &InboundEnd) {
    if let Err(e) = app.store.inbound_finished(id, end, ACTOR, app.now()).await {
        tracing::error!(inbound = id, code = e.code(), error = %e, "logging the end of a call in failed");
    }
}
