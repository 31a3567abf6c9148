//! Calls from the trunk: a debtor calling back one of the caller-ID numbers.
//!
//! The switch rings back (180) and hands the call to whoever took calls in
//! ([`crate::Switch::incoming`]) as an [`Incoming`]: the caller's number, the number dialled,
//! and a channel for the [`Route`]. The route is a list of collectors' phones, tried in turn
//! (each for the ring time), or a queue: phones sent one at a time as collectors become ready,
//! the caller hearing ringing meanwhile. The caller is answered (200 with the switch's SDP) only
//! once one of them answers, so a caller nobody takes never pays for the call. The two are then
//! bridged and recorded exactly as a click-to-dial call (left the collector, right the caller),
//! and may be supervised. No phone answering, the queue closing, or no route, is 480
//! Temporarily Unavailable.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::headers::ContentType;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::config::{Dial, mask_number};
use crate::event::{CallEvent, EndedBy, Leg};
use crate::leg::{LegRequest, OutLeg, Outcome, parse_uri};
use crate::media::Media;
use crate::record::parse_recipient;
use crate::sdp;
use crate::switch::{Call, CallGuard, CallHandle, EVENT_BUFFER, Far, Inner, Tally, session_id};

/// How long the server may take to route a call before the caller hears 480.
const ROUTE_WAIT: Duration = Duration::from_secs(5);

/// A call from the trunk, waiting for its route.
#[derive(Debug)]
pub struct Incoming {
    /// The switch's id for the call (`in-N`); [`crate::Switch::hangup`] and
    /// [`crate::Switch::supervise`] take it.
    pub call: String,
    /// The caller's number (the From user), as the trunk sent it. Never logged in clear.
    pub from: String,
    /// The number dialled (the Request-URI user): one of the caller IDs.
    pub to: String,
    /// Where the route goes; dropping it (or 5 s passing) refuses the call with 480.
    pub route: oneshot::Sender<Route>,
    /// The call's progress once routed: [`CallEvent::Offered`] for each phone tried, then as for
    /// a dialled call; [`CallEvent::Ended`] is always the last.
    pub events: mpsc::Receiver<CallEvent>,
}

/// Where a call from the trunk goes.
#[derive(Debug)]
pub enum Route {
    /// Ring these phones (SIP URIs) one after another, each for the ring time; bridge the
    /// first that answers, recording to `record_to`, encrypted to `vault_recipient`.
    Ring {
        /// The collectors' phones, in order.
        agents: Vec<String>,
        /// Where the encrypted recording goes.
        record_to: PathBuf,
        /// The vault's age X25519 public key.
        vault_recipient: String,
    },
    /// Hold the caller, ringing, in a queue: ring each phone (SIP URI) that comes on `agents`,
    /// in turn, each for the ring time, until one answers. The sender closing ends the queue
    /// (480); the caller may hang up while waiting.
    Queue {
        /// The collectors' phones, as they become free.
        agents: mpsc::Receiver<String>,
        /// Where the encrypted recording goes.
        record_to: PathBuf,
        /// The vault's age X25519 public key.
        vault_recipient: String,
    },
    /// Refuse the call with this SIP status (e.g. 480).
    Reject(u16),
}

impl Route {
    /// The route as a queue: a fixed list becomes a closed queue holding it.
    #[allow(clippy::type_complexity)]
    fn into_queue(self) -> Result<(mpsc::Receiver<String>, PathBuf, String, bool), Option<u16>> {
        match self {
            Route::Ring { agents, .. } if agents.is_empty() => Err(None),
            Route::Ring { agents, record_to, vault_recipient } => {
                let (tx, rx) = mpsc::channel(agents.len());
                for a in agents {
                    // The channel holds them all.
                    let _ = tx.try_send(a);
                }
                Ok((rx, record_to, vault_recipient, false))
            }
            Route::Queue { agents, record_to, vault_recipient } => {
                Ok((agents, record_to, vault_recipient, true))
            }
            Route::Reject(code) => Err(Some(code)),
        }
    }
}

/// Takes a new INVITE from the trunk through routing, ringing and the bridge.
pub(crate) async fn answer(inner: Arc<Inner>, mut tx: Transaction) {
    let router = inner.inbound.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let Some(router) = router.filter(|r| !r.is_closed()) else {
        let _ = tx.reply(StatusCode::Decline).await;
        return;
    };
    let from = tx
        .original
        .from_header()
        .ok()
        .and_then(|h| h.uri().ok())
        .and_then(|u| u.user().map(str::to_owned))
        .unwrap_or_default();
    let to = tx.original.uri.user().unwrap_or_default().to_owned();
    let Some(offer) = std::str::from_utf8(&tx.original.body).ok().and_then(sdp::parse_answer) else {
        let _ = tx.reply(StatusCode::NotAcceptableHere).await;
        return;
    };
    let arrived = Instant::now();
    let n = inner.next_inbound.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let call = format!("in-{n}");
    let stop = {
        let mut calls = inner.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if calls.len() >= inner.cfg.max_calls || inner.closing.is_cancelled() {
            None
        } else {
            let stop = inner.closing.child_token();
            calls.insert(call.clone(), CallHandle { stop: stop.clone(), supervise: None, supervisor: None });
            Some(stop)
        }
    };
    let Some(stop) = stop else {
        let _ = tx.reply(StatusCode::BusyHere).await;
        return;
    };
    let _guard = CallGuard { inner: inner.clone(), call: call.clone() };
    let (state_tx, mut states) = inner.layer.new_dialog_state_channel();
    let contact = parse_uri(&format!("sip:daylight@{}", inner.local), "contact").ok();
    let server: InviteDialog = match inner.layer.get_or_create_server_invite(&tx, state_tx, None, contact) {
        Ok(d) => d,
        Err(e) => {
            warn!(call, error = %e, "inbound dialog not created");
            let _ = tx.reply(StatusCode::ServerInternalError).await;
            return;
        }
    };
    let mut driver = server.clone();
    tokio::spawn(async move {
        if let Err(e) = driver.handle(&mut tx).await {
            debug!(error = %e, "inbound INVITE transaction");
        }
    });
    let _ = server.ringing(None, None);
    info!(call, from = %mask_number(&from), to, "call from the trunk");

    let (events, events_rx) = mpsc::channel(EVENT_BUFFER);
    let (route_tx, route_rx) = oneshot::channel();
    let incoming = Incoming {
        call: call.clone(),
        from: from.clone(),
        to: to.clone(),
        route: route_tx,
        events: events_rx,
    };
    let route = if router.send(incoming).await.is_ok() {
        let mut far = Far::In(&mut states);
        tokio::select! {
            r = route_rx => r.ok(),
            _ = tokio::time::sleep(ROUTE_WAIT) => None,
            _ = far.ended() => None,
        }
    } else {
        None
    };
    let refuse = |code: u16| {
        if let Err(e) = server.reject(Some(StatusCode::from(code)), None) {
            debug!(error = %e, "reject failed");
        }
    };
    let (mut agents, record_to, vault_recipient, queued) = match route.map(Route::into_queue) {
        Some(Ok(q)) => q,
        other => {
            let code = match other {
                Some(Err(Some(code))) if (400..700).contains(&code) => code,
                _ => 480,
            };
            refuse(code);
            info!(call, code, "call from the trunk refused");
            let end = crate::event::CallEnd {
                agent_code: None,
                debtor_code: None,
                bridged: false,
                ring_secs: 0.0,
                talk_secs: 0.0,
                ended_by: EndedBy::Switch,
                ring_timeout: false,
                recording: None,
            };
            let _ = events.send(CallEvent::Ended(end)).await;
            inner.layer.remove_dialog(&server.id());
            return;
        }
    };
    let recipient = match parse_recipient(&vault_recipient) {
        Ok(r) => r,
        Err(e) => {
            warn!(call, error = %e, "inbound route without a usable vault key");
            refuse(500);
            inner.layer.remove_dialog(&server.id());
            return;
        }
    };
    let media = match Media::bind(inner.local.ip(), events.clone()).await {
        Ok(m) => m,
        Err(e) => {
            warn!(call, error = %e, "inbound media not started");
            refuse(503);
            inner.layer.remove_dialog(&server.id());
            return;
        }
    };
    let dial = Dial {
        call: call.clone(),
        agent: String::new(),
        number: from,
        caller_id: to,
        record_to,
        vault_recipient,
    };
    let mut c = Call { inner: inner.clone(), dial, recipient, events, stop };
    let deadline = Instant::now() + Duration::from_secs(u64::from(inner.cfg.max_call_secs));
    let ring = Duration::from_secs(u64::from(inner.cfg.ring_secs));
    let mut t = Tally::default();

    // Ring the route's phones in turn, watching the caller.
    let mut caller_left = false;
    let mut answered = None;
    let mut i = 0; // the phones offered so far
    loop {
        if caller_left || c.stop.is_cancelled() || Instant::now() >= deadline {
            break;
        }
        // The next phone: at once from a list, when a collector is free from a queue.
        if queued {
            c.emit(CallEvent::Queued).await;
        }
        let next = {
            let mut far = Far::In(&mut states);
            tokio::select! {
                a = agents.recv() => a,
                () = far.ended() => {
                    caller_left = true;
                    None
                }
                () = c.stop.cancelled() => None,
                () = tokio::time::sleep_until(deadline) => None,
            }
        };
        let Some(uri) = next else { break };
        c.emit(CallEvent::Offered(i)).await;
        i += 1;
        let req = LegRequest {
            leg: Leg::Agent,
            callee: uri.clone(),
            from_user: "daylight".into(),
            display: Some(format!("Daylight 回拨 {}", mask_number(&c.dial.number))),
            offer: sdp::offer(session_id(), media.agent_rtp()),
            credential: None,
        };
        let mut leg = match OutLeg::invite(&inner.layer, inner.local, req) {
            Ok(l) => l,
            Err(e) => {
                warn!(call, agent = %uri, error = %e, "INVITE to a collector failed");
                continue;
            }
        };
        let leg_stop = c.stop.child_token();
        let outcome = {
            let wait = leg.wait_answer(ring, &leg_stop, deadline, &c.events);
            let mut far = Far::In(&mut states);
            let watcher = far.ended();
            tokio::pin!(wait, watcher);
            let mut watching = true;
            loop {
                tokio::select! {
                    r = &mut wait => break r,
                    _ = &mut watcher, if watching => {
                        watching = false;
                        caller_left = true;
                        leg_stop.cancel();
                    }
                }
            }
        };
        match outcome {
            Outcome::Answered(a) if !caller_left => {
                c.dial.agent = uri.clone();
                answered = Some((leg, a));
                break;
            }
            Outcome::Answered(_) => leg.hangup().await,
            Outcome::Failed { code, .. } => t.agent_code = code,
        }
    }
    t.ring_secs = arrived.elapsed().as_secs_f64();
    let Some((mut agent, agent_answer)) = answered else {
        let by = if caller_left { EndedBy::Debtor } else { EndedBy::Switch };
        if !caller_left {
            refuse(480);
        }
        inner.layer.remove_dialog(&server.id());
        return c.finish(t, by, Some(media), None).await;
    };
    t.agent_code = Some(200);
    c.emit(CallEvent::Answered(Leg::Agent)).await;
    media.set_remote(Leg::Agent, agent_answer);
    media.set_remote(Leg::Debtor, offer);
    let body = sdp::answer(session_id(), media.debtor_rtp(), &offer).into_bytes();
    if let Err(e) =
        server.accept(Some(vec![Header::ContentType(ContentType::new("application/sdp"))]), Some(body))
    {
        warn!(call, error = %e, "answering the caller failed");
        agent.hangup().await;
        inner.layer.remove_dialog(&server.id());
        return c.finish(t, EndedBy::Error, Some(media), None).await;
    }
    t.debtor_code = Some(200);
    c.emit(CallEvent::Answered(Leg::Debtor)).await;

    // Bridge and record, as a dialled call.
    let (by, talk_secs) = c.talk(&media, &mut agent, Far::In(&mut states), deadline).await;
    t.bridged = true;
    t.talk_secs = talk_secs;
    let recorder = media.stop().await;
    agent.hangup().await;
    if by != EndedBy::Debtor
        && let Err(e) = server.bye().await
    {
        debug!(error = %e, "BYE to the caller failed");
    }
    inner.layer.remove_dialog(&server.id());
    c.finish(t, by, None, recorder).await;
}
