//! Robot calls (外呼机器人): the switch calls the debtor through the trunk, and once they answer
//! plays the robot's prompts ([`Robot::say`]), reports their keys ([`CallEvent::Dtmf`]), and on
//! [`Robot::transfer`] rings a collector's phone and bridges it in on the same call and the same
//! recording. One physical call, one recording: the left channel is what the bank said (the
//! prompts, then the collector), the right channel the debtor.
//!
//! The switch knows nothing of flows: whoever holds the [`Robot`] walks the flow (the server,
//! with `daylight_strategy::flow::walk`) and turns its actions into `say`, `transfer` and
//! `hangup`, and the call's events ([`CallEvent::Said`], [`CallEvent::Dtmf`],
//! [`CallEvent::Bridged`], [`CallEvent::TransferFailed`]) back into what the walk heard.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::{Dial, mask_number};
use crate::error::CallError;
use crate::event::{CallEvent, EndedBy, Leg};
use crate::leg::{LegRequest, OutLeg, Outcome};
use crate::media::Media;
use crate::record::Recorder;
use crate::sdp;
use crate::switch::{Call, EVENT_BUFFER, Inner, Switch, Tally, session_id};

/// What a robot call's holder asks of it.
#[derive(Debug)]
enum Command {
    Say(Arc<[i16]>, u64),
    Transfer(String),
    Hangup,
}

/// The holder's side of a robot call.
#[derive(Debug, Clone)]
pub struct Robot {
    commands: mpsc::Sender<Command>,
    /// The number of the last prompt asked for.
    said: Arc<std::sync::atomic::AtomicU64>,
}

impl Robot {
    /// Plays `samples` (8 kHz mono, [`crate::speech::Prompt::samples`]) to the debtor,
    /// replacing any prompt being played; [`CallEvent::Said`] with the number returned once
    /// played whole. Ignored before the debtor answers and once a collector has the call.
    pub async fn say(&self, samples: Arc<[i16]>) -> u64 {
        let seq = self.said.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let _ = self.commands.send(Command::Say(samples, seq)).await;
        seq
    }

    /// Stops the prompt being played (a key pressed during it, say): no `Said` comes for it.
    pub async fn hush(&self) {
        let _ = self.commands.send(Command::Say(Arc::from(Vec::new()), 0)).await;
    }

    /// Rings the collector's phone `agent` (a SIP URI) for the ring time and bridges it in:
    /// [`CallEvent::Answered`] for the agent leg then [`CallEvent::Bridged`], or
    /// [`CallEvent::TransferFailed`].
    pub async fn transfer(&self, agent: &str) {
        let _ = self.commands.send(Command::Transfer(agent.to_owned())).await;
    }

    /// Hangs up.
    pub async fn hangup(&self) {
        let _ = self.commands.send(Command::Hangup).await;
    }
}

impl Switch {
    /// Starts a robot call to `d.number` from `d.caller_id` (`d.agent` is not used: a
    /// collector joins only on [`Robot::transfer`]). Events follow on the receiver;
    /// [`CallEvent::Ended`] is always the last.
    pub async fn robot(&self, d: Dial) -> Result<(mpsc::Receiver<CallEvent>, Robot), CallError> {
        let (debtor_uri, recipient, stop, guard) = self.admit(&d)?;
        let inner = self.inner();
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let (commands, command_rx) = mpsc::channel(16);
        let media = Media::bind(inner.local.ip(), tx.clone()).await?;
        let trunk = &inner.cfg.trunk;
        let debtor = OutLeg::invite(
            &inner.layer,
            inner.local,
            LegRequest {
                leg: Leg::Debtor,
                callee: debtor_uri,
                from_user: d.caller_id.clone(),
                display: None,
                offer: sdp::offer(session_id(), media.debtor_rtp()),
                credential: trunk.username.clone().zip(trunk.password.clone()),
            },
        )?;
        info!(call = %d.call, number = %mask_number(&d.number), "robot dialling debtor");
        let call = Call { inner: inner.clone(), dial: d, recipient, events: tx, stop };
        tokio::spawn(async move {
            let _guard = guard;
            run(call, debtor, media, command_rx).await;
        });
        Ok((rx, Robot { commands, said: Arc::default() }))
    }
}

/// A collector's leg ringing in a transfer: its result comes back on `done`.
type Ringing = oneshot::Receiver<(OutLeg, Outcome)>;

async fn run(c: Call, mut debtor: OutLeg, media: Media, mut commands: mpsc::Receiver<Command>) {
    let inner: Arc<Inner> = c.inner.clone();
    let deadline = debtor.invited_at() + Duration::from_secs(u64::from(inner.cfg.max_call_secs));
    let ring = Duration::from_secs(u64::from(inner.cfg.ring_secs));
    let mut t = Tally::default();

    // 1. The debtor.
    let answer = debtor.wait_answer(ring, &c.stop, deadline, &c.events).await;
    t.ring_secs = debtor.invited_at().elapsed().as_secs_f64();
    let answer = match answer {
        Outcome::Answered(a) => a,
        Outcome::Failed { code, cancelled, error } => {
            t.debtor_code = code;
            t.ring_timeout = cancelled == Some(crate::leg::CancelReason::RingTimeout);
            let by = match (cancelled, error) {
                (Some(_), _) => EndedBy::Switch,
                (None, Some(_)) => EndedBy::Error,
                (None, None) => EndedBy::Debtor,
            };
            return c.finish(t, by, Some(media), None).await;
        }
    };
    t.debtor_code = Some(200);
    c.emit(CallEvent::Answered(Leg::Debtor)).await;
    media.set_remote(Leg::Debtor, answer);
    let recorder = match Recorder::create(&c.dial.record_to) {
        Ok(r) => Some(r),
        Err(e) => {
            warn!(call = %c.dial.call, error = %e, "recording not started");
            None
        }
    };
    media.bridge(recorder);
    let answered_at = Instant::now();

    // 2. The robot's part, then perhaps the collector's.
    let mut agent: Option<OutLeg> = None;
    let mut ringing: Option<Ringing> = None;
    let by = loop {
        tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(Command::Say(samples, seq)) if agent.is_none() => media.play(samples, seq),
                Some(Command::Say(..)) => {}
                Some(Command::Transfer(uri)) if agent.is_none() && ringing.is_none() => {
                    match ring_collector(&c, &media, &uri, ring, deadline) {
                        Ok(r) => ringing = Some(r),
                        Err(e) => {
                            warn!(call = %c.dial.call, error = %e, "transfer INVITE failed");
                            c.emit(CallEvent::TransferFailed(None)).await;
                        }
                    }
                }
                Some(Command::Transfer(_)) => {}
                Some(Command::Hangup) | None => break EndedBy::Switch,
            },
            r = async { ringing.as_mut().expect("guarded").await }, if ringing.is_some() => {
                ringing = None;
                match r {
                    Ok((leg, Outcome::Answered(a))) => {
                        t.agent_code = Some(200);
                        media.play(Arc::from(Vec::new()), 0);
                        media.set_remote(Leg::Agent, a);
                        agent = Some(leg);
                        t.bridged = true;
                        c.emit(CallEvent::Answered(Leg::Agent)).await;
                        c.emit(CallEvent::Bridged).await;
                    }
                    Ok((_, Outcome::Failed { code, .. })) => {
                        t.agent_code = code;
                        c.emit(CallEvent::TransferFailed(code)).await;
                    }
                    Err(_) => c.emit(CallEvent::TransferFailed(None)).await,
                }
            }
            _ = async { agent.as_mut().expect("guarded").ended().await }, if agent.is_some() => break EndedBy::Agent,
            _ = debtor.ended() => break EndedBy::Debtor,
            _ = c.stop.cancelled() => break EndedBy::Switch,
            _ = tokio::time::sleep_until(deadline) => break EndedBy::Switch,
        }
    };
    t.talk_secs = answered_at.elapsed().as_secs_f64();
    let recorder = media.stop().await;
    if let Some(mut a) = agent {
        tokio::join!(a.hangup(), debtor.hangup());
    } else {
        debtor.hangup().await;
    }
    info!(call = %c.dial.call, by = ?by, transferred = t.bridged, "robot call over");
    c.finish(t, by, None, recorder).await;
}

/// INVITEs the collector's phone for a transfer; the answer (or failure) comes on the
/// receiver.
fn ring_collector(
    c: &Call,
    media: &Media,
    uri: &str,
    ring: Duration,
    deadline: Instant,
) -> Result<Ringing, CallError> {
    let mut leg = OutLeg::invite(
        &c.inner.layer,
        c.inner.local,
        LegRequest {
            leg: Leg::Agent,
            callee: uri.to_owned(),
            from_user: "daylight".into(),
            display: Some(format!("Daylight 转接 {}", mask_number(&c.dial.number))),
            offer: sdp::offer(session_id(), media.agent_rtp()),
            credential: None,
        },
    )?;
    let (done, rx) = oneshot::channel();
    let (stop, events) = (c.stop.child_token(), c.events.clone());
    tokio::spawn(async move {
        let r = leg.wait_answer(ring, &stop, deadline, &events).await;
        if let Err((mut leg, Outcome::Answered(_))) = done.send((leg, r)) {
            // Nobody waits for it any more: the call ended meanwhile.
            leg.hangup().await;
        }
    });
    Ok(rx)
}
