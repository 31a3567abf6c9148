//! Phones simulated in the benchmarks' own process: one SIP user agent on 127.0.0.1 answers
//! every INVITE with SDP (PCMU, and telephone-event when offered), then each answered leg sends
//! a 20 ms G.711 packet every 20 ms and counts what it receives. A debtor's leg (a Request-URI
//! user of digits) may press a key a set time after it answers, by RFC 4733, noting when.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daylight_calls::Codec;
use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::headers::ContentType;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transport::TransportLayer;
use rsipstack::transport::udp::UdpConnection;
use tokio::net::UdpSocket;

/// Packets the phones sent and received, across all legs.
#[derive(Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
}

/// When a debtor's leg presses `1`, and when it did, by number.
#[derive(Default)]
pub struct Keys {
    /// Press `1` this long after answering (none: never).
    pub after: Option<Duration>,
    /// When each number's key left the phone.
    pub pressed: Mutex<HashMap<String, Instant>>,
}

/// The offer's RTP address: the `c=` address and the audio port.
fn offer_rtp(sdp: &str) -> Option<SocketAddr> {
    let ip = sdp.lines().find_map(|l| l.trim().strip_prefix("c=IN IP4 "))?.trim();
    let port = sdp.lines().find_map(|l| l.trim().strip_prefix("m=audio "))?.split_whitespace().next()?;
    format!("{ip}:{port}").parse().ok()
}

/// The offer's telephone-event payload type.
fn offer_event_pt(sdp: &str) -> Option<u8> {
    sdp.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("a=rtpmap:")?;
        let (pt, name) = rest.split_once(' ')?;
        name.to_ascii_lowercase().starts_with("telephone-event").then(|| pt.parse().ok()).flatten()
    })
}

fn rtp(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + payload.len());
    p.extend_from_slice(&[0x80, if marker { 0x80 | pt } else { pt }]);
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// Starts the phones on `rt`; their SIP address.
pub async fn phones(counters: Arc<Counters>, keys: Arc<Keys>, rt: tokio::runtime::Handle) -> SocketAddr {
    let token = tokio_util::sync::CancellationToken::new();
    let transport = TransportLayer::new(token.child_token());
    let conn =
        UdpConnection::create_connection("127.0.0.1:0".parse().unwrap(), None, Some(token.child_token()))
            .await
            .unwrap();
    let addr: SocketAddr = conn.get_addr().addr.to_string().parse().unwrap();
    transport.add_transport(conn.into());
    let endpoint = Arc::new(
        rsipstack::EndpointBuilder::new().with_cancel_token(token).with_transport_layer(transport).build(),
    );
    let mut incoming = endpoint.incoming_transactions().unwrap();
    let layer = Arc::new(DialogLayer::new(endpoint.inner.clone()));
    let serve = endpoint.clone();
    rt.spawn(async move { serve.serve().await });
    rt.spawn(async move {
        let _keep = endpoint;
        while let Some(mut tx) = incoming.recv().await {
            let in_dialog = rsipstack::sip::prelude::HeadersExt::to_header(&tx.original)
                .ok()
                .and_then(|h| h.tag().ok().flatten())
                .is_some();
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
            if tx.original.method != Method::Invite {
                if tx.original.method != Method::Ack {
                    let _ = tx.reply(StatusCode::OK).await;
                }
                continue;
            }
            let offer = String::from_utf8_lossy(&tx.original.body).into_owned();
            let Some(remote) = offer_rtp(&offer) else {
                let _ = tx.reply(StatusCode::NotAcceptableHere).await;
                continue;
            };
            let user = tx.original.uri.user().unwrap_or_default().to_owned();
            let event_pt = offer_event_pt(&offer);
            let (state_tx, mut states) = layer.new_dialog_state_channel();
            let Ok(dialog) = layer.get_or_create_server_invite(&tx, state_tx, None, None) else { continue };
            let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let local = sock.local_addr().unwrap();
            let events = match event_pt {
                Some(ev) => (format!(" {ev}"), format!("a=rtpmap:{ev} telephone-event/8000\r\na=fmtp:{ev} 0-16\r\n")),
                None => (String::new(), String::new()),
            };
            let answer = format!(
                "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                 m=audio {} RTP/AVP 0{}\r\na=rtpmap:0 PCMU/8000\r\n{}a=ptime:20\r\na=sendrecv\r\n",
                local.port(),
                events.0,
                events.1
            );
            let mut driver = dialog.clone();
            tokio::spawn(async move {
                let _ = driver.handle(&mut tx).await;
            });
            let _ = dialog.accept(
                Some(vec![Header::ContentType(ContentType::new("application/sdp"))]),
                Some(answer.into_bytes()),
            );
            let counters = counters.clone();
            let layer = layer.clone();
            // A debtor (digits) presses 1, if the run asks for it and the switch offered events.
            let press = match (keys.after, event_pt) {
                (Some(after), Some(ev)) if !user.is_empty() && user.bytes().all(|b| b.is_ascii_digit()) => {
                    Some((tokio::time::Instant::now() + after, ev))
                }
                _ => None,
            };
            let keys = keys.clone();
            tokio::spawn(async move {
                let sock = Arc::new(sock);
                let stop = tokio_util::sync::CancellationToken::new();
                let rx_sock = sock.clone();
                let rx_counters = counters.clone();
                let rx_stop = stop.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 1500];
                    loop {
                        tokio::select! {
                            r = rx_sock.recv_from(&mut buf) => if r.is_ok() {
                                rx_counters.received.fetch_add(1, Ordering::Relaxed);
                            },
                            _ = rx_stop.cancelled() => return,
                        }
                    }
                });
                let ssrc: u32 = rand::random();
                let mut seq: u16 = 0;
                let mut ts: u32 = 0;
                let mut press = press;
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            if let Some((at, ev)) = press
                                && tokio::time::Instant::now() >= at
                            {
                                press = None;
                                // RFC 4733: key 1, the start (marker) then the end, thrice.
                                let sent = Instant::now();
                                for (i, end) in [false, true, true, true].into_iter().enumerate() {
                                    let flags = if end { 0x80 | 10 } else { 10 };
                                    let duration = (160 * (i as u16 + 1)).to_be_bytes();
                                    let p = rtp(ev, i == 0, seq, ts, ssrc, &[1, flags, duration[0], duration[1]]);
                                    let _ = sock.send_to(&p, remote).await;
                                    seq = seq.wrapping_add(1);
                                }
                                keys.pressed.lock().unwrap().insert(user.clone(), sent);
                                ts = ts.wrapping_add(640);
                                continue;
                            }
                            // A 400 Hz tone, µ-law.
                            let payload: Vec<u8> = (0..160u32).map(|k| {
                                let t = f64::from(ts.wrapping_add(k)) / 8000.0;
                                Codec::Pcmu.encode((8000.0 * (2.0 * std::f64::consts::PI * 400.0 * t).sin()) as i16)
                            }).collect();
                            if sock.send_to(&rtp(0, false, seq, ts, ssrc, &payload), remote).await.is_ok() {
                                counters.sent.fetch_add(1, Ordering::Relaxed);
                            }
                            seq = seq.wrapping_add(1);
                            ts = ts.wrapping_add(160);
                        }
                        st = states.recv() => match st {
                            Some(DialogState::Terminated(..)) | None => break,
                            Some(_) => {}
                        },
                    }
                }
                stop.cancel();
                layer.remove_dialog(&dialog.id());
            });
        }
    });
    addr
}
