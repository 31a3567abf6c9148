//! Phones on 127.0.0.1 for a demo: one SIP user agent that answers for every collector's phone
//! and, as the trunk's far end, for every debtor's number, so that a newcomer can dial from the
//! console and see the whole flow (gate, ringing, bridge, screen pop, recording, playback)
//! without a carrier or a softphone.
//!
//! - **A person's phone** (a user part starting with a letter, `sip:e001@…`): rings 1 s,
//!   answers, and sends a 440 Hz beep every second until the switch hangs up.
//! - **A debtor's number** (digits), by the sum of its digits modulo 10 (so about one number in
//!   ten each): `7` rings 3 s, then 486 Busy Here; `8` rings until cancelled (no answer); `9`
//!   is 404 Not Found (空号); any other rings 3 s, answers, sends a 660 Hz beep twice a second,
//!   presses 1 (RFC 4733) 4 s after answering and every 6 s after that (so a robot call's
//!   debtor confirms who they are and asks for a collector), and hangs up after the talk time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::headers::ContentType;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transport::TransportLayer;
use rsipstack::transport::udp::UdpConnection;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::error::CallError;

/// Running loopback phones; dropping them stops them.
pub struct LoopbackPhones {
    addr: SocketAddr,
    stop: CancellationToken,
}

/// What a number does when called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// A collector's or lead's phone.
    Person,
    /// A debtor who answers and hangs up after the talk time.
    Answers,
    /// Busy after ringing.
    Busy,
    /// Rings until cancelled.
    NoAnswer,
    /// 空号.
    Invalid,
}

fn behaviour(user: &str) -> Behaviour {
    match user.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => Behaviour::Person,
        _ => match user.chars().filter_map(|c| c.to_digit(10)).sum::<u32>() % 10 {
            7 => Behaviour::Busy,
            8 => Behaviour::NoAnswer,
            9 => Behaviour::Invalid,
            _ => Behaviour::Answers,
        },
    }
}

impl LoopbackPhones {
    /// Starts the phones on 127.0.0.1 (a free port); debtors who answer hang up after `talk`.
    pub async fn start(talk: Duration) -> Result<LoopbackPhones, CallError> {
        let stop = CancellationToken::new();
        let transport = TransportLayer::new(stop.child_token());
        let conn = UdpConnection::create_connection(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            None,
            Some(stop.child_token()),
        )
        .await
        .map_err(|e| CallError::Sip(format!("loopback phones: {e}")))?;
        let addr: SocketAddr = conn
            .get_addr()
            .addr
            .to_string()
            .parse()
            .map_err(|e| CallError::Sip(format!("loopback phones' address: {e}")))?;
        transport.add_transport(conn.into());
        let endpoint = Arc::new(
            rsipstack::EndpointBuilder::new()
                .with_user_agent("Daylight loopback phone")
                .with_cancel_token(stop.clone())
                .with_transport_layer(transport)
                .build(),
        );
        let mut incoming = endpoint.incoming_transactions()?;
        let layer = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let serve = endpoint.clone();
        tokio::spawn(async move { serve.serve().await });
        let token = stop.clone();
        tokio::spawn(async move {
            let _endpoint = endpoint;
            while let Some(mut tx) = incoming.recv().await {
                let in_dialog = tx.original.to_header().ok().and_then(|h| h.tag().ok().flatten()).is_some();
                if in_dialog {
                    if let Some(mut d) = layer.match_dialog(&tx) {
                        tokio::spawn(async move {
                            let _ = d.handle(&mut tx).await;
                        });
                    } else if tx.original.method != Method::Ack {
                        let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                    }
                    continue;
                }
                match tx.original.method {
                    Method::Invite => {}
                    Method::Ack => continue,
                    _ => {
                        let _ = tx.reply(StatusCode::OK).await;
                        continue;
                    }
                }
                let user = tx.original.uri.user().unwrap_or_default().to_owned();
                let b = behaviour(&user);
                if b == Behaviour::Invalid {
                    let _ = tx.reply(StatusCode::NotFound).await;
                    continue;
                }
                let Some(remote) =
                    std::str::from_utf8(&tx.original.body).ok().and_then(crate::sdp::parse_answer)
                else {
                    let _ = tx.reply(StatusCode::NotAcceptableHere).await;
                    continue;
                };
                let (state_tx, states) = layer.new_dialog_state_channel();
                let Ok(dialog) = layer.get_or_create_server_invite(&tx, state_tx, None, None) else {
                    continue;
                };
                let mut driver = dialog.clone();
                tokio::spawn(async move {
                    let _ = driver.handle(&mut tx).await;
                });
                let (layer, stop) = (layer.clone(), token.child_token());
                tokio::spawn(async move {
                    answer(&dialog, states, remote, b, talk, stop).await;
                    layer.remove_dialog(&dialog.id());
                });
            }
        });
        Ok(LoopbackPhones { addr, stop })
    }

    /// Their SIP address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URI of `user`'s phone here (`sip:e001@127.0.0.1:PORT`).
    pub fn uri(&self, user: &str) -> String {
        format!("sip:{user}@{}", self.addr)
    }

    /// The trunk template that reaches the debtors' numbers here.
    pub fn trunk(&self) -> String {
        format!("sip:{{number}}@{}", self.addr)
    }
}

impl Drop for LoopbackPhones {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Waits `d`, or until the caller cancels (`false`).
async fn ring(states: &mut DialogStateReceiver, d: Duration) -> bool {
    let wait = tokio::time::sleep(d);
    tokio::pin!(wait);
    loop {
        tokio::select! {
            _ = &mut wait => return true,
            st = states.recv() => match st {
                Some(DialogState::Terminated(..)) | None => return false,
                Some(_) => {}
            },
        }
    }
}

async fn answer(
    dialog: &InviteDialog,
    mut states: DialogStateReceiver,
    remote: crate::sdp::Answer,
    b: Behaviour,
    talk: Duration,
    stop: CancellationToken,
) {
    let _ = dialog.ringing(None, None);
    let rings = match b {
        Behaviour::Person => Duration::from_secs(1),
        Behaviour::NoAnswer => Duration::from_secs(86_400),
        _ => Duration::from_secs(3),
    };
    if !ring(&mut states, rings).await {
        return;
    }
    if b == Behaviour::Busy {
        let _ = dialog.reject(Some(StatusCode::BusyHere), None);
        return;
    }
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0").await else {
        let _ = dialog.reject(Some(StatusCode::ServerInternalError), None);
        return;
    };
    let Ok(local) = sock.local_addr() else { return };
    let sdp = crate::sdp::answer(rand::random::<u32>().into(), local, &remote);
    if dialog
        .accept(Some(vec![Header::ContentType(ContentType::new("application/sdp"))]), Some(sdp.into_bytes()))
        .is_err()
    {
        return;
    }
    let (freq, on_ms, period_ms) =
        if b == Behaviour::Person { (440.0, 300, 1000) } else { (660.0, 200, 500) };
    let until =
        tokio::time::Instant::now() + if b == Behaviour::Person { Duration::from_secs(86_400) } else { talk };
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let (ssrc, mut seq, mut ts): (u32, u16, u32) = (rand::random(), rand::random(), rand::random());
    let mut t: u64 = 0;
    let mut buf = [0u8; 1500];
    // A debtor presses 1 now and then, when the switch takes keys.
    let mut next_key = (b == Behaviour::Answers)
        .then_some(remote.event_pt)
        .flatten()
        .map(|pt| (tokio::time::Instant::now() + Duration::from_secs(4), pt));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Some((at, pt)) = next_key
                    && tokio::time::Instant::now() >= at
                {
                    next_key = Some((at + Duration::from_secs(6), pt));
                    // Key 1: the start (marker), then the end three times, one timestamp.
                    for (i, end) in [false, true, true, true].into_iter().enumerate() {
                        let mut p = Vec::with_capacity(16);
                        p.extend_from_slice(&[0x80, if i == 0 { 0x80 | pt } else { pt }]);
                        p.extend_from_slice(&seq.to_be_bytes());
                        p.extend_from_slice(&ts.to_be_bytes());
                        p.extend_from_slice(&ssrc.to_be_bytes());
                        let duration = (160 * (i as u16 + 1)).to_be_bytes();
                        p.extend_from_slice(&[1, if end { 0x80 | 10 } else { 10 }, duration[0], duration[1]]);
                        let _ = sock.send_to(&p, remote.rtp).await;
                        seq = seq.wrapping_add(1);
                    }
                    ts = ts.wrapping_add(640);
                    t += 640;
                    continue;
                }
                let mut p = Vec::with_capacity(172);
                p.extend_from_slice(&[0x80, remote.codec.payload_type()]);
                p.extend_from_slice(&seq.to_be_bytes());
                p.extend_from_slice(&ts.to_be_bytes());
                p.extend_from_slice(&ssrc.to_be_bytes());
                for _ in 0..160 {
                    let ms = t / 8 % period_ms;
                    let s = if ms < on_ms { 8000.0 * (2.0 * std::f64::consts::PI * freq * t as f64 / 8000.0).sin() } else { 0.0 };
                    p.push(remote.codec.encode(s as i16));
                    t += 1;
                }
                if let Err(e) = sock.send_to(&p, remote.rtp).await {
                    debug!(error = %e, "loopback phone RTP send");
                }
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(160);
            }
            _ = sock.recv_from(&mut buf) => {}
            st = states.recv() => match st {
                Some(DialogState::Terminated(..)) | None => return,
                Some(_) => {}
            },
            _ = tokio::time::sleep_until(until) => {
                let _ = dialog.bye().await;
                return;
            }
            _ = stop.cancelled() => {
                let _ = dialog.bye().await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_behave_by_their_last_digit() {
        assert_eq!(behaviour("e001"), Behaviour::Person);
        // Digit sums 24, 27, 28, 29.
        assert_eq!(behaviour("13800138000"), Behaviour::Answers);
        assert_eq!(behaviour("13800138003"), Behaviour::Busy);
        assert_eq!(behaviour("13800138004"), Behaviour::NoAnswer);
        assert_eq!(behaviour("13800138005"), Behaviour::Invalid);
    }
}
