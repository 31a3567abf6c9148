//! The switch: a SIP endpoint on one UDP socket and a task per click-to-dial call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver};
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
use crate::inbound::Incoming;
use crate::leg::{CancelReason, LegRequest, OutLeg, Outcome, parse_uri};
use crate::media::{Media, MediaHandle};
use crate::record::{Recorder, parse_recipient};
use crate::sdp;

/// Events buffered per call before the switch waits for the receiver.
pub(crate) const EVENT_BUFFER: usize = 64;

/// A running click-to-dial switch.
pub struct Switch {
    inner: Arc<Inner>,
    local: SocketAddr,
    endpoint: Arc<Endpoint>,
}

pub(crate) struct Inner {
    pub(crate) cfg: SwitchConfig,
    pub(crate) layer: Arc<DialogLayer>,
    pub(crate) local: SocketAddr,
    pub(crate) calls: Mutex<HashMap<String, CallHandle>>,
    pub(crate) closing: CancellationToken,
    /// Where calls from the trunk go to be routed; `None`: they are declined.
    pub(crate) inbound: Mutex<Option<mpsc::Sender<Incoming>>>,
    pub(crate) next_inbound: AtomicU64,
}

/// What the switch holds of a call in progress.
pub(crate) struct CallHandle {
    /// Ends the call.
    pub(crate) stop: CancellationToken,
    /// Where supervision requests go, once the call is bridged.
    pub(crate) supervise: Option<mpsc::UnboundedSender<SupervisorCtl>>,
    /// The URI of the supervisor on the call, if one is.
    pub(crate) supervisor: Option<String>,
}

/// A supervision request to a bridged call's task.
pub(crate) enum SupervisorCtl {
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
        let inner = Arc::new(Inner {
            cfg,
            layer,
            local,
            calls: Mutex::new(HashMap::new()),
            closing: token,
            inbound: Mutex::new(None),
            next_inbound: AtomicU64::new(1),
        });
        tokio::spawn(serve_incoming(inner.clone(), incoming));
        info!(%local, "switch started");
        Ok(Switch { inner, local, endpoint })
    }

    /// The switch's shared state, for the call kinds in other modules.
    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// The SIP address the switch listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Starts a click-to-dial call: returns once the agent INVITE is on its way. Events follow
    /// on the receiver; [`CallEvent::Ended`] is always the last.
    pub async fn dial(&self, d: Dial) -> Result<mpsc::Receiver<CallEvent>, CallError> {
        parse_uri(&d.agent, "agent")?;
        let (debtor_uri, recipient, stop, guard) = self.admit(&d)?;
        let inner = &self.inner;
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

    /// Checks a call's dial (the debtor's URI, the caller ID, the vault key) and takes a place
    /// for it in the switch's table, within the call limit: the debtor's Request-URI, the
    /// recording's recipient, the call's stop and the guard that frees its place.
    pub(crate) fn admit(
        &self,
        d: &Dial,
    ) -> Result<(String, age::x25519::Recipient, CancellationToken, CallGuard), CallError> {
        let inner = &self.inner;
        if inner.closing.is_cancelled() {
            return Err(CallError::Shutdown);
        }
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
        Ok((debtor_uri, recipient, stop, CallGuard { inner: inner.clone(), call: d.call.clone() }))
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

    /// Takes calls from the trunk in: each new INVITE becomes an [`Incoming`] on the receiver,
    /// for the caller to route ([`crate::Route`]). Until this is called, and after the receiver
    /// is dropped, new calls are declined (603).
    pub fn incoming(&self) -> mpsc::Receiver<Incoming> {
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        *self.inner.inbound.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
        rx
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
pub(crate) struct CallGuard {
    pub(crate) inner: Arc<Inner>,
    pub(crate) call: String,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.call);
    }
}

pub(crate) fn session_id() -> u64 {
    rand::random::<u32>().into()
}

/// Answers what reaches the switch unasked: in-dialog requests (BYE, re-INVITE, INFO) go to
/// their dialog; a new call is routed ([`crate::inbound`]) when the server takes calls in, and
/// declined otherwise.
async fn serve_incoming(inner: Arc<Inner>, mut incoming: TransactionReceiver) {
    let layer = inner.layer.clone();
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
        if tx.original.method == Method::Invite && !in_dialog {
            tokio::spawn(crate::inbound::answer(inner.clone(), tx));
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
pub(crate) struct Call {
    pub(crate) inner: Arc<Inner>,
    pub(crate) dial: Dial,
    pub(crate) recipient: age::x25519::Recipient,
    pub(crate) events: mpsc::Sender<CallEvent>,
    pub(crate) stop: CancellationToken,
}

/// Bookkeeping for the final [`CallEnd`].
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) agent_code: Option<u16>,
    pub(crate) debtor_code: Option<u16>,
    pub(crate) bridged: bool,
    pub(crate) ring_secs: f64,
    pub(crate) talk_secs: f64,
    pub(crate) ring_timeout: bool,
}

impl Call {
    pub(crate) async fn emit(&self, ev: CallEvent) {
        let _ = self.events.send(ev).await;
    }

    async fn run(self, mut agent: OutLeg, media: Media, debtor_uri: String) {
        let cfg = &self.inner.cfg;
        let started = agent.invited_at();
        let deadline = started + Duration::from_secs(u64::from(cfg.max_call_secs));
        let ring = Duration::from_secs(u64::from(cfg.ring_secs));
        let mut t = Tally::default();

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
        media.set_remote(Leg::Debtor, debtor_answer);
        let (by, talk_secs) = self.talk(&media, &mut agent, Far::Out(&mut debtor), deadline).await;
        t.bridged = true;
        t.talk_secs = talk_secs;
        let recorder = media.stop().await;
        tokio::join!(agent.hangup(), debtor.hangup());
        self.finish(t, by, None, recorder).await;
    }

    /// Bridges the legs whose remotes the media knows, records them, and carries the call until
    /// either side leaves, a hangup or the deadline, taking supervisors in and out on the way:
    /// who ended it and the talk time.
    pub(crate) async fn talk(
        &self,
        media: &Media,
        agent: &mut OutLeg,
        mut far: Far<'_>,
        deadline: Instant,
    ) -> (EndedBy, f64) {
        let recorder = match Recorder::create(&self.dial.record_to) {
            Ok(r) => Some(r),
            Err(e) => {
                warn!(call = %self.dial.call, error = %e, "recording not started");
                None
            }
        };
        media.bridge(recorder);
        let bridged_at = Instant::now();
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
                _ = far.ended() => break EndedBy::Debtor,
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
        let talk_secs = bridged_at.elapsed().as_secs_f64();
        if let Some(h) =
            self.inner.calls.lock().unwrap_or_else(PoisonError::into_inner).get_mut(&self.dial.call)
        {
            h.supervise = None;
        }
        if let Some((stop, _, task)) = supervisor {
            stop.cancel();
            // A supervisor's phone that does not answer the BYE must not hold the call's end.
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                warn!(call = %self.dial.call, "the supervisor's leg did not end in 5 s");
            }
        }
        (by, talk_secs)
    }

    /// Stops the media if still running, seals the recording and sends `Ended`.
    pub(crate) async fn finish(
        self,
        t: Tally,
        ended_by: EndedBy,
        media: Option<Media>,
        recorder: Option<Recorder>,
    ) {
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

/// The far party of a bridged call: the debtor's leg the switch placed, or a caller's dialog.
pub(crate) enum Far<'a> {
    /// A leg the switch placed.
    Out(&'a mut OutLeg),
    /// The state of a caller's dialog (the switch answered it).
    In(&'a mut DialogStateReceiver),
}

impl Far<'_> {
    /// Waits until the far party hangs up.
    pub(crate) async fn ended(&mut self) {
        match self {
            Far::Out(leg) => leg.ended().await,
            Far::In(states) => loop {
                match states.recv().await {
                    Some(DialogState::Terminated(..)) => return,
                    Some(_) => {}
                    None => return std::future::pending().await,
                }
            },
        }
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
