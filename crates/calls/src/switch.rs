//! The switch: a SIP endpoint on one UDP socket and a task per click-to-dial call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Method, StatusCode};
use rsipstack::transaction::Endpoint;
use rsipstack::transaction::TransactionReceiver;
use rsipstack::transport::TransportLayer;
use rsipstack::transport::udp::UdpConnection;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::{Dial, SwitchConfig, mask_number};
use crate::error::CallError;
use crate::event::{CallEnd, CallEvent, EndedBy, Leg, Recording, Supervision};
use crate::leg::{CancelReason, LegRequest, OutLeg, Outcome, parse_uri};
use crate::media::{Media, MediaHandle};
use crate::record::{Recorder, parse_recipient};
use crate::sdp;

/// Events buffered per call before the switch waits for the receiver.
const EVENT_BUFFER: usize = 64;

/// A running click-to-dial switch.
pub struct Switch {
    inner: Arc<Inner>,
    local: SocketAddr,
    endpoint: Arc<Endpoint>,
}

struct Inner {
    cfg: SwitchConfig,
    layer: Arc<DialogLayer>,
    local: SocketAddr,
    calls: Mutex<HashMap<String, CallHandle>>,
    closing: CancellationToken,
}

/// What the switch holds of a call in progress.
struct CallHandle {
    /// Ends the call.
    stop: CancellationToken,
    /// Where supervision requests go, once the call is bridged.
    supervise: Option<mpsc::UnboundedSender<SupervisorCtl>>,
    /// The URI of the supervisor on the call, if one is.
    supervisor: Option<String>,
}

/// A supervision request to a bridged call's task.
enum SupervisorCtl {
    Join(String, Supervision),
    Mode(Supervision),
    Leave,
}

impl Switch {
    /// Binds the SIP socket and starts the endpoint.
    pub async fn start(cfg: SwitchConfig) -> Result<Switch, CallError> {
        cfg.validate()?;
        let token = CancellationToken::new();
        let transport = TransportLayer::new(token.child_token());
        let conn = UdpConnection::create_connection(cfg.bind, None, Some(token.child_token()))
            .await
            .map_err(|e| CallError::Sip(format!("cannot bind {}: {e}", cfg.bind)))?;
        let local: SocketAddr = conn
            .get_addr()
            .addr
            .to_string()
            .parse()
            .map_err(|e| CallError::Sip(format!("local address: {e}")))?;
        transport.add_transport(conn.into());
        let endpoint = Arc::new(
            EndpointBuilder::new()
                .with_user_agent("Daylight")
                .with_cancel_token(token.clone())
                .with_transport_layer(transport)
                .build(),
        );
        let incoming = endpoint.incoming_transactions()?;
        let layer = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let serve = endpoint.clone();
        tokio::spawn(async move { serve.serve().await });
        tokio::spawn(serve_incoming(layer.clone(), incoming));
        info!(%local, "switch started");
        let inner = Arc::new(Inner { cfg, layer, local, calls: Mutex::new(HashMap::new()), closing: token });
        Ok(Switch { inner, local, endpoint })
    }

    /// The SIP address the switch listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Starts a click-to-dial call: returns once the agent INVITE is on its way. Events follow
    /// on the receiver; [`CallEvent::Ended`] is always the last.
    pub async fn dial(&self, d: Dial) -> Result<mpsc::Receiver<CallEvent>, CallError> {
        let inner = &self.inner;
        if inner.closing.is_cancelled() {
            return Err(CallError::Shutdown);
        }
        parse_uri(&d.agent, "agent")?;
        let debtor_uri = inner.cfg.trunk.uri_for(&d.number);
        parse_uri(&debtor_uri, "debtor number")?;
        if d.number.is_empty() || d.number.contains(['@', ':', ';', '>', '<', ' ']) {
            return Err(CallError::Config("number has characters a SIP user part cannot take".into()));
        }
        if d.caller_id.is_empty() || d.caller_id.contains(['@', ':', ';', '>', '<', ' ']) {
            return Err(CallError::Config("caller_id is not a SIP user part".into()));
        }
        let recipient = parse_recipient(&d.vault_recipient)?;
        let stop = {
            let mut calls = inner.calls.lock().unwrap_or_else(PoisonError::into_inner);
            if calls.len() >= inner.cfg.max_calls {
                return Err(CallError::Limit(calls.len()));
            }
            if calls.contains_key(&d.call) {
                return Err(CallError::Duplicate(d.call.clone()));
            }
            let stop = inner.closing.child_token();
            calls
                .insert(d.call.clone(), CallHandle { stop: stop.clone(), supervise: None, supervisor: None });
            stop
        };
        let guard = CallGuard { inner: inner.clone(), call: d.call.clone() };
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let media = Media::bind(inner.local.ip(), tx.clone()).await?;
        let agent = OutLeg::invite(
            &inner.layer,
            inner.local,
            LegRequest {
                leg: Leg::Agent,
                callee: d.agent.clone(),
                from_user: "daylight".into(),
                display: Some(format!("Daylight {}", mask_number(&d.number))),
                offer: sdp::offer(session_id(), media.agent_rtp()),
                credential: None,
            },
        )?;
        info!(call = %d.call, agent = %d.agent, number = %mask_number(&d.number), "dialling agent");
        let call = Call { inner: inner.clone(), dial: d, recipient, events: tx, stop };
        tokio::spawn(async move {
            let _guard = guard;
            call.run(agent, media, debtor_uri).await;
        });
        Ok(rx)
    }

    /// Ends a call: CANCEL for a ringing leg, BYE for an answered one. `false` if no such call.
    pub fn hangup(&self, call: &str) -> bool {
        let calls = self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner);
        match calls.get(call) {
            Some(h) => {
                h.stop.cancel();
                true
            }
            None => false,
        }
    }

    /// Brings supervisor `supervisor` (a SIP URI: their phone) into bridged call `call`, or
    /// changes how the supervisor already on it takes part. The switch INVITEs the supervisor's
    /// phone; [`CallEvent::Supervised`] follows on the call's events when they answer, on each
    /// change and when they leave. `CALL_NOT_FOUND` for no such call, `CALL_NOT_BRIDGED` before
    /// the bridge, `CALL_SUPERVISED` when another supervisor is on it.
    pub fn supervise(&self, call: &str, supervisor: &str, mode: Supervision) -> Result<(), CallError> {
        parse_uri(supervisor, "supervisor")?;
        let mut calls = self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let h = calls.get_mut(call).ok_or_else(|| CallError::NoCall(call.to_owned()))?;
        let tx = h.supervise.as_ref().ok_or_else(|| CallError::NotBridged(call.to_owned()))?;
        let ctl = match &h.supervisor {
            None => SupervisorCtl::Join(supervisor.to_owned(), mode),
            Some(on) if on == supervisor => SupervisorCtl::Mode(mode),
            Some(_) => return Err(CallError::Supervised(call.to_owned())),
        };
        tx.send(ctl).map_err(|_| CallError::NotBridged(call.to_owned()))?;
        h.supervisor = Some(supervisor.to_owned());
        Ok(())
    }

    /// Takes the supervisor off call `call` (BYE to their phone); `false` if no supervisor is on
    /// it.
    pub fn end_supervision(&self, call: &str) -> bool {
        let calls = self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner);
        match calls.get(call) {
            Some(CallHandle { supervise: Some(tx), supervisor: Some(_), .. }) => {
                tx.send(SupervisorCtl::Leave).is_ok()
            }
            _ => false,
        }
    }

    /// The URI of the supervisor on call `call`, if one is.
    pub fn supervisor_of(&self, call: &str) -> Option<String> {
        let calls = self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.get(call).and_then(|h| h.supervisor.clone())
    }

    /// Calls in progress.
    pub fn active(&self) -> usize {
        self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Hangs up every call, waits (up to 15 s) for them to end and stops the endpoint.
    pub async fn shutdown(self) {
        for h in self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner).values() {
            h.stop.cancel();
        }
        let until = Instant::now() + Duration::from_secs(15);
        while self.active() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.inner.closing.cancel();
        self.endpoint.shutdown();
        info!(local = %self.local, "switch stopped");
    }
}

impl Drop for Switch {
    /// Dropping the switch without [`Switch::shutdown`] still hangs up its calls and stops the
    /// endpoint (without waiting).
    fn drop(&mut self) {
        self.inner.closing.cancel();
    }
}

/// Removes a call from the table when its task ends, however it ends.
struct CallGuard {
    inner: Arc<Inner>,
    call: String,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.call);
    }
}

fn session_id() -> u64 {
    rand::random::<u32>().into()
}

/// Answers what reaches the switch unasked: in-dialog requests (BYE, re-INVITE, INFO) go to
/// their dialog; new calls are declined (the switch only dials out).
async fn serve_incoming(layer: Arc<DialogLayer>, mut incoming: TransactionReceiver) {
    while let Some(mut tx) = incoming.recv().await {
        let in_dialog = tx.original.to_header().ok().and_then(|h| h.tag().ok().flatten()).is_some();
        if in_dialog && let Some(mut dialog) = layer.match_dialog(&tx) {
            tokio::spawn(async move {
                if let Err(e) = dialog.handle(&mut tx).await {
                    debug!(error = %e, "in-dialog request failed");
                }
            });
            continue;
        }
        let reply = match tx.original.method {
            Method::Ack => continue,
            _ if in_dialog => StatusCode::CallTransactionDoesNotExist,
            Method::Options => StatusCode::OK,
            Method::Invite => StatusCode::Decline,
            _ => StatusCode::MethodNotAllowed,
        };
        if let Err(e) = tx.reply(reply).await {
            debug!(error = %e, "reply failed");
        }
    }
}

/// One call's task state.
struct Call {
    inner: Arc<Inner>,
    dial: Dial,
    recipient: age::x25519::Recipient,
    events: mpsc::Sender<CallEvent>,
    stop: CancellationToken,
}

/// Bookkeeping for the final [`CallEnd`].
struct Tally {
    agent_code: Option<u16>,
    debtor_code: Option<u16>,
    bridged: bool,
    ring_secs: f64,
    talk_secs: f64,
    ring_timeout: bool,
}

impl Call {
    async fn emit(&self, ev: CallEvent) {
        let _ = self.events.send(ev).await;
    }

    async fn run(self, mut agent: OutLeg, media: Media, debtor_uri: String) {
        let cfg = &self.inner.cfg;
        let started = agent.invited_at();
        let deadline = started + Duration::from_secs(u64::from(cfg.max_call_secs));
        let ring = Duration::from_secs(u64::from(cfg.ring_secs));
        let mut t = Tally {
            agent_code: None,
            debtor_code: None,
            bridged: false,
            ring_secs: 0.0,
            talk_secs: 0.0,
            ring_timeout: false,
        };

        // 1. The agent leg.
        let agent_answer = match agent.wait_answer(ring, &self.stop, deadline, &self.events).await {
            Outcome::Answered(a) => a,
            Outcome::Failed { code, cancelled, error } => {
                t.agent_code = code;
                let by = ended_by(Leg::Agent, cancelled, error.as_deref());
                return self.finish(t, by, Some(media), None).await;
            }
        };
        t.agent_code = Some(200);
        self.emit(CallEvent::Answered(Leg::Agent)).await;
        media.set_remote(Leg::Agent, agent_answer);

        // 2. The debtor leg, only now that the collector is on the line.
        let trunk = &cfg.trunk;
        let credential = trunk.username.clone().zip(trunk.password.clone());
        let debtor = OutLeg::invite(
            &self.inner.layer,
            self.inner.local,
            LegRequest {
                leg: Leg::Debtor,
                callee: debtor_uri,
                from_user: self.dial.caller_id.clone(),
                display: None,
                offer: sdp::offer(session_id(), media.debtor_rtp()),
                credential,
            },
        );
        let mut debtor = match debtor {
            Ok(leg) => leg,
            Err(e) => {
                warn!(call = %self.dial.call, error = %e, "debtor INVITE failed");
                agent.hangup().await;
                return self.finish(t, EndedBy::Error, Some(media), None).await;
            }
        };
        info!(call = %self.dial.call, number = %mask_number(&self.dial.number), "dialling debtor");
        // While the debtor rings, a hangup or the collector leaving cancels the debtor leg.
        let debtor_stop = CancellationToken::new();
        let (answer, agent_left) = {
            let wait = debtor.wait_answer(ring, &debtor_stop, deadline, &self.events);
            let watcher = async {
                tokio::select! {
                    _ = self.stop.cancelled() => false,
                    _ = agent.ended() => true,
                }
            };
            tokio::pin!(wait, watcher);
            let mut watching = true;
            let mut agent_left = false;
            let answer = loop {
                tokio::select! {
                    r = &mut wait => break r,
                    left = &mut watcher, if watching => {
                        watching = false;
                        agent_left = left;
                        debtor_stop.cancel();
                    }
                }
            };
            (answer, agent_left)
        };
        t.ring_secs = debtor.invited_at().elapsed().as_secs_f64();
        let debtor_answer = match answer {
            Outcome::Answered(a) => a,
            Outcome::Failed { code, cancelled, error } => {
                t.debtor_code = code;
                let cancelled = if agent_left { Some(CancelReason::OtherLeg) } else { cancelled };
                t.ring_timeout = cancelled == Some(CancelReason::RingTimeout);
                agent.hangup().await;
                let by = if agent_left {
                    EndedBy::Agent
                } else {
                    ended_by(Leg::Debtor, cancelled, error.as_deref())
                };
                return self.finish(t, by, Some(media), None).await;
            }
        };
        t.debtor_code = Some(200);
        self.emit(CallEvent::Answered(Leg::Debtor)).await;
        if agent_left {
            debtor.hangup().await;
            return self.finish(t, EndedBy::Agent, Some(media), None).await;
        }

        // 3. Bridge and record.
        let recorder = match Recorder::create(&self.dial.record_to) {
            Ok(r) => Some(r),
            Err(e) => {
                warn!(call = %self.dial.call, error = %e, "recording not started");
                None
            }
        };
        media.set_remote(Leg::Debtor, debtor_answer);
        media.bridge(recorder);
        let bridged_at = Instant::now();
        t.bridged = true;
        let (sup_tx, mut sup_rx) = mpsc::unbounded_channel();
        if let Some(h) =
            self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner).get_mut(&self.dial.call)
        {
            h.supervise = Some(sup_tx);
        }
        self.emit(CallEvent::Bridged).await;
        let mut supervisor: Option<(
            CancellationToken,
            watch::Sender<Supervision>,
            tokio::task::JoinHandle<()>,
        )> = None;
        let by = loop {
            tokio::select! {
                _ = agent.ended() => break EndedBy::Agent,
                _ = debtor.ended() => break EndedBy::Debtor,
                _ = self.stop.cancelled() => break EndedBy::Switch,
                _ = tokio::time::sleep_until(deadline) => break EndedBy::Switch,
                Some(c) = sup_rx.recv() => match c {
                    SupervisorCtl::Join(uri, mode) => {
                        let stop = self.stop.child_token();
                        let (mode_tx, mode_rx) = watch::channel(mode);
                        let leg = SupervisorLeg {
                            inner: self.inner.clone(),
                            call: self.dial.call.clone(),
                            uri,
                            media: media.handle(),
                            events: self.events.clone(),
                            stop: stop.clone(),
                            deadline,
                        };
                        supervisor = Some((stop, mode_tx, tokio::spawn(leg.run(mode_rx))));
                    }
                    SupervisorCtl::Mode(mode) => {
                        if let Some((_, tx, _)) = &supervisor {
                            tx.send_replace(mode);
                        }
                    }
                    SupervisorCtl::Leave => {
                        if let Some((stop, _, _)) = &supervisor {
                            stop.cancel();
                        }
                    }
                },
            }
        };
        t.talk_secs = bridged_at.elapsed().as_secs_f64();
        if let Some(h) =
            self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner).get_mut(&self.dial.call)
        {
            h.supervise = None;
        }
        if let Some((stop, _, task)) = supervisor {
            stop.cancel();
            let _ = task.await;
        }
        let recorder = media.stop().await;
        tokio::join!(agent.hangup(), debtor.hangup());
        self.finish(t, by, None, recorder).await;
    }

    /// Stops the media if still running, seals the recording and sends `Ended`.
    async fn finish(self, t: Tally, ended_by: EndedBy, media: Option<Media>, recorder: Option<Recorder>) {
        if let Some(m) = media {
            drop(m.stop().await);
        }
        let recording = match recorder {
            Some(rec) => {
                let recipient = self.recipient.clone();
                let path = self.dial.record_to.clone();
                match tokio::task::spawn_blocking(move || rec.finish(&recipient, &path)).await {
                    Ok(Ok(r)) => Some(r),
                    Ok(Err(e)) => {
                        warn!(call = %self.dial.call, error = %e, "recording failed");
                        None
                    }
                    Err(e) => {
                        warn!(call = %self.dial.call, error = %e, "recording task failed");
                        None
                    }
                }
            }
            None => None,
        };
        log_end(&self.dial.call, &t, ended_by, recording.as_ref());
        let end = CallEnd {
            agent_code: t.agent_code,
            debtor_code: t.debtor_code,
            bridged: t.bridged,
            ring_secs: t.ring_secs,
            talk_secs: t.talk_secs,
            ended_by,
            ring_timeout: t.ring_timeout,
            recording,
        };
        self.emit(CallEvent::Ended(end)).await;
    }
}

/// A supervisor's leg into a bridged call: INVITEd with its own RTP socket on the call's media,
/// mixed in while it lasts.
struct SupervisorLeg {
    inner: Arc<Inner>,
    call: String,
    uri: String,
    media: MediaHandle,
    events: mpsc::Sender<CallEvent>,
    stop: CancellationToken,
    deadline: Instant,
}

impl SupervisorLeg {
    async fn run(self, mut mode: watch::Receiver<Supervision>) {
        self.join(&mut mode).await;
        self.media.drop_supervisor();
        let _ = self.events.send(CallEvent::Supervised(None)).await;
        if let Some(h) = self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner).get_mut(&self.call) {
            h.supervisor = None;
        }
        info!(call = %self.call, supervisor = %self.uri, "supervisor left");
    }

    async fn join(&self, mode: &mut watch::Receiver<Supervision>) {
        let rtp = match self.media.add_supervisor(self.inner.local.ip()).await {
            Ok(a) => a,
            Err(e) => {
                warn!(call = %self.call, error = %e, "supervisor's media not started");
                return;
            }
        };
        let req = LegRequest {
            leg: Leg::Supervisor,
            callee: self.uri.clone(),
            from_user: "daylight".into(),
            display: Some(format!("Daylight {}", self.call)),
            offer: sdp::offer(session_id(), rtp),
            credential: None,
        };
        let mut leg = match OutLeg::invite(&self.inner.layer, self.inner.local, req) {
            Ok(l) => l,
            Err(e) => {
                warn!(call = %self.call, error = %e, "supervisor INVITE failed");
                return;
            }
        };
        info!(call = %self.call, supervisor = %self.uri, "dialling supervisor");
        let ring = Duration::from_secs(u64::from(self.inner.cfg.ring_secs));
        let answer = match leg.wait_answer(ring, &self.stop, self.deadline, &self.events).await {
            Outcome::Answered(a) => a,
            Outcome::Failed { code, .. } => {
                info!(call = %self.call, ?code, "supervisor did not answer");
                return;
            }
        };
        self.media.set_remote(answer);
        let mut now = *mode.borrow_and_update();
        self.media.set_mode(now);
        let _ = self.events.send(CallEvent::Supervised(Some(now))).await;
        loop {
            tokio::select! {
                _ = leg.ended() => break,
                _ = self.stop.cancelled() => break,
                changed = mode.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let next = *mode.borrow_and_update();
                    if next != now {
                        now = next;
                        self.media.set_mode(now);
                        let _ = self.events.send(CallEvent::Supervised(Some(now))).await;
                    }
                }
            }
        }
        leg.hangup().await;
    }
}

fn ended_by(leg: Leg, cancelled: Option<CancelReason>, error: Option<&str>) -> EndedBy {
    match (cancelled, error) {
        (Some(CancelReason::OtherLeg), _) => EndedBy::Agent,
        (Some(_), _) => EndedBy::Switch,
        (None, Some(_)) => EndedBy::Error,
        (None, None) => match leg {
            Leg::Agent | Leg::Supervisor => EndedBy::Agent,
            Leg::Debtor => EndedBy::Debtor,
        },
    }
}

fn log_end(call: &str, t: &Tally, by: EndedBy, rec: Option<&Recording>) {
    info!(
        call,
        agent_code = ?t.agent_code,
        debtor_code = ?t.debtor_code,
        bridged = t.bridged,
        ring_secs = t.ring_secs,
        talk_secs = t.talk_secs,
        ended_by = ?by,
        recording_bytes = rec.map(|r| r.bytes),
        "call ended"
    );
}
