//! One outgoing leg of a call: an INVITE dialog placed through rsipstack, its ringing, answer,
//! cancel and BYE.

use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::DialogId;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::{InviteAsyncResult, InviteOption};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::Uri;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::error::CallError;
use crate::event::{CallEvent, Leg};
use crate::sdp::{self, Answer};

/// How long to wait for the final response once a CANCEL went out.
const CANCEL_GRACE: Duration = Duration::from_secs(10);

/// Why the switch cancelled a ringing leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// The leg rang for the full ring time.
    RingTimeout,
    /// [`crate::Switch::hangup`] or shutdown.
    Hangup,
    /// The call reached its length limit.
    Deadline,
    /// The other leg went away.
    OtherLeg,
}

/// What became of an INVITE.
#[derive(Debug)]
pub enum Outcome {
    /// 2xx with a usable SDP answer.
    Answered(Answer),
    /// No answer: the final status (if any) and whether the switch had cancelled.
    Failed {
        /// The final status of the INVITE, when one came.
        code: Option<u16>,
        /// Set when the switch cancelled the INVITE.
        cancelled: Option<CancelReason>,
        /// Set when the failure was on our side (transport, bad SDP).
        error: Option<String>,
    },
}

/// What a [`OutLeg`] needs to place its INVITE.
pub struct LegRequest {
    /// Which leg this is.
    pub leg: Leg,
    /// Request-URI.
    pub callee: String,
    /// The From user.
    pub from_user: String,
    /// The From display name.
    pub display: Option<String>,
    /// The SDP offer.
    pub offer: String,
    /// Digest credentials for 401/407.
    pub credential: Option<(String, String)>,
}

/// An INVITE in progress or an established leg.
pub struct OutLeg {
    leg: Leg,
    dialog: InviteDialog,
    states: DialogStateReceiver,
    states_open: bool,
    result: Option<JoinHandle<InviteAsyncResult>>,
    layer: Arc<DialogLayer>,
    invited_at: Instant,
    answered: bool,
    terminated: bool,
}

/// Parses a SIP URI, as a configuration error when it is not one.
pub fn parse_uri(uri: &str, what: &str) -> Result<Uri, CallError> {
    if !(uri.starts_with("sip:") || uri.starts_with("sips:")) {
        return Err(CallError::Config(format!("{what} is not a SIP URI")));
    }
    Uri::try_from(uri).map_err(|e| CallError::Config(format!("{what} is not a SIP URI: {e}")))
}

impl OutLeg {
    /// Sends the INVITE (the transaction runs in the background).
    pub fn invite(
        layer: &Arc<DialogLayer>,
        local: std::net::SocketAddr,
        req: LegRequest,
    ) -> Result<OutLeg, CallError> {
        let callee = parse_uri(&req.callee, "callee")?;
        let caller = parse_uri(&format!("sip:{}@{local}", req.from_user), "caller id")?;
        let contact = parse_uri(&format!("sip:daylight@{local}"), "contact")?;
        let opt = InviteOption {
            caller_display_name: req.display,
            caller,
            callee,
            contact,
            content_type: Some("application/sdp".into()),
            offer: Some(req.offer.into_bytes()),
            credential: req.credential.map(|(username, password)| Credential {
                username,
                password,
                realm: None,
                auth_username: None,
            }),
            ..Default::default()
        };
        let (sender, states) = layer.new_dialog_state_channel();
        let (dialog, result) = layer.do_invite_async(opt, sender)?;
        Ok(OutLeg {
            leg: req.leg,
            dialog,
            states,
            states_open: true,
            result: Some(result),
            layer: layer.clone(),
            invited_at: Instant::now(),
            answered: false,
            terminated: false,
        })
    }

    /// When the INVITE was sent.
    pub fn invited_at(&self) -> Instant {
        self.invited_at
    }

    /// Waits for the final response, reporting `Ringing` once; cancels at the ring time, when
    /// `stop` fires or at `deadline`.
    pub async fn wait_answer(
        &mut self,
        ring: Duration,
        stop: &CancellationToken,
        deadline: Instant,
        events: &mpsc::Sender<CallEvent>,
    ) -> Outcome {
        let Some(mut result) = self.result.take() else {
            return Outcome::Failed {
                code: None,
                cancelled: None,
                error: Some("INVITE already awaited".into()),
            };
        };
        let ring_deadline = self.invited_at + ring;
        let mut rang = false;
        let mut cancelled: Option<CancelReason> = None;
        let mut give_up = Instant::now() + Duration::from_secs(86_400);
        let done = loop {
            let reason = tokio::select! {
                st = self.states.recv(), if self.states_open => {
                    match st {
                        Some(DialogState::Early(..)) if !rang => {
                            rang = true;
                            let _ = events.send(CallEvent::Ringing(self.leg)).await;
                        }
                        Some(_) => {}
                        None => self.states_open = false,
                    }
                    continue;
                }
                r = &mut result => break r,
                _ = sleep_until(ring_deadline), if cancelled.is_none() => CancelReason::RingTimeout,
                _ = stop.cancelled(), if cancelled.is_none() => CancelReason::Hangup,
                _ = sleep_until(deadline), if cancelled.is_none() => CancelReason::Deadline,
                _ = sleep_until(give_up), if cancelled.is_some() => {
                    warn!(leg = ?self.leg, "no final response after CANCEL");
                    result.abort();
                    self.terminated = true;
                    self.remove();
                    return Outcome::Failed { code: None, cancelled, error: None };
                }
            };
            cancelled = Some(reason);
            give_up = Instant::now() + CANCEL_GRACE;
            debug!(leg = ?self.leg, ?reason, "cancelling INVITE");
            if let Err(e) = self.dialog.cancel().await {
                debug!(leg = ?self.leg, error = %e, "CANCEL failed");
            }
        };
        let outcome = match done {
            Err(e) => Outcome::Failed { code: None, cancelled, error: Some(format!("INVITE task: {e}")) },
            Ok(Err(e)) => Outcome::Failed { code: None, cancelled, error: Some(e.to_string()) },
            Ok(Ok((_, None))) => {
                Outcome::Failed { code: None, cancelled, error: Some("no final response".into()) }
            }
            Ok(Ok((_, Some(resp)))) => {
                let code = resp.status_code.code();
                if (200..300).contains(&code) && cancelled.is_none() {
                    match std::str::from_utf8(&resp.body).ok().and_then(sdp::parse_answer) {
                        Some(answer) => {
                            self.answered = true;
                            return Outcome::Answered(answer);
                        }
                        None => {
                            self.answered = true;
                            self.hangup().await;
                            return Outcome::Failed {
                                code: Some(code),
                                cancelled,
                                error: Some("2xx without a usable SDP answer".into()),
                            };
                        }
                    }
                }
                Outcome::Failed { code: Some(code), cancelled, error: None }
            }
        };
        self.terminated = true;
        self.remove();
        outcome
    }

    /// Waits until the far end ends an answered leg (BYE); pending forever otherwise.
    pub async fn ended(&mut self) {
        if !self.answered || self.terminated {
            return std::future::pending().await;
        }
        while let Some(st) = self.states.recv().await {
            if let DialogState::Terminated(_, reason) = st {
                debug!(leg = ?self.leg, ?reason, "leg terminated");
                self.terminated = true;
                self.remove();
                return;
            }
        }
        self.states_open = false;
        std::future::pending().await
    }

    /// Ends an answered leg with BYE (nothing if it already ended).
    pub async fn hangup(&mut self) {
        if self.answered && !self.terminated {
            self.terminated = true;
            if let Err(e) = self.dialog.bye().await {
                debug!(leg = ?self.leg, error = %e, "BYE failed");
            }
            self.remove();
        }
    }

    fn remove(&self) {
        let id: DialogId = self.dialog.id();
        self.layer.remove_dialog(&id);
    }
}

impl Drop for OutLeg {
    fn drop(&mut self) {
        if let Some(r) = self.result.take() {
            r.abort();
        }
        self.remove();
    }
}
