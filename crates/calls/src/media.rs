//! The RTP relay of one call: a UDP socket per leg on the switch, packets forwarded between the
//! legs once they are bridged, both directions decoded into the recorder.
//!
//! Each leg's stream has a single source, so packets keep their SSRC, sequence numbers and
//! timestamps; only the payload type is rewritten (and the payload transcoded when the legs chose
//! different G.711 laws). RFC 4733 telephone events are relayed with the other leg's event
//! payload type and reported as [`CallEvent::Dtmf`]. The far end's address comes from its SDP
//! answer and is then latched to the source of its first packet (symmetric RTP).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::error::CallError;
use crate::event::{CallEvent, Leg};
use crate::record::{Recorder, SAMPLE_RATE};
use crate::sdp::Answer;

/// How far behind real time the recorder writes, to let late packets land (0.5 s).
const RECORD_LAG: u64 = SAMPLE_RATE as u64 / 2;

enum Ctl {
    Remote(Leg, Answer),
    Bridge(Option<Box<Recorder>>),
    Stop,
}

/// The media of one call.
pub struct Media {
    ctl: mpsc::UnboundedSender<Ctl>,
    task: JoinHandle<Option<Recorder>>,
    agent_rtp: SocketAddr,
    debtor_rtp: SocketAddr,
}

impl Media {
    /// Binds a socket per leg on `ip` and starts relaying (nothing passes until [`Media::bridge`]).
    pub async fn bind(ip: IpAddr, events: mpsc::Sender<CallEvent>) -> Result<Media, CallError> {
        let agent = bind_rtp(ip).await?;
        let debtor = bind_rtp(ip).await?;
        let agent_rtp = agent.local_addr().map_err(|e| CallError::Media(e.to_string()))?;
        let debtor_rtp = debtor.local_addr().map_err(|e| CallError::Media(e.to_string()))?;
        let (ctl, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run([agent, debtor], rx, events));
        Ok(Media { ctl, task, agent_rtp, debtor_rtp })
    }

    /// The switch's RTP address for `leg` (what its SDP offer announces).
    pub fn local(&self, leg: Leg) -> SocketAddr {
        match leg {
            Leg::Agent => self.agent_rtp,
            Leg::Debtor => self.debtor_rtp,
        }
    }

    /// Tells the relay where `leg`'s far end receives and what it speaks.
    pub fn set_remote(&self, leg: Leg, answer: Answer) {
        let _ = self.ctl.send(Ctl::Remote(leg, answer));
    }

    /// Starts forwarding between the legs, recording into `recorder` when there is one.
    pub fn bridge(&self, recorder: Option<Recorder>) {
        let _ = self.ctl.send(Ctl::Bridge(recorder.map(Box::new)));
    }

    /// Stops the relay; returns the recorder with everything received written or pending.
    pub async fn stop(self) -> Option<Recorder> {
        let _ = self.ctl.send(Ctl::Stop);
        self.task.await.unwrap_or_else(|e| {
            warn!(error = %e, "media task failed");
            None
        })
    }
}

async fn bind_rtp(ip: IpAddr) -> Result<UdpSocket, CallError> {
    UdpSocket::bind(SocketAddr::new(ip, 0)).await.map_err(|e| CallError::Media(format!("RTP bind: {e}")))
}

/// Where a leg's stream is placed in the recording: its SSRC, a timestamp and that frame.
#[derive(Clone, Copy)]
struct Anchor {
    ssrc: u32,
    ts: u32,
    pos: u64,
}

#[derive(Default)]
struct LegState {
    answer: Option<Answer>,
    remote: Option<SocketAddr>,
    latched: bool,
    anchor: Option<Anchor>,
    last_event_ts: Option<u32>,
}

struct Bridge {
    since: Instant,
    /// `None` when recording could not start or failed: the relay goes on without it.
    recorder: Option<Recorder>,
}

impl Bridge {
    fn now_pos(&self) -> u64 {
        (self.since.elapsed().as_secs_f64() * f64::from(SAMPLE_RATE)) as u64
    }
}

/// A parsed RTP packet: header fields and where the payload is.
struct Rtp<'a> {
    marker: bool,
    pt: u8,
    seq: [u8; 2],
    ts: u32,
    ssrc: u32,
    payload: &'a [u8],
}

fn parse_rtp(p: &[u8]) -> Option<Rtp<'_>> {
    if p.len() < 12 || p[0] >> 6 != 2 {
        return None;
    }
    let cc = usize::from(p[0] & 0x0F);
    let mut start = 12 + 4 * cc;
    if p[0] & 0x10 != 0 {
        let ext = p.get(start + 2..start + 4)?;
        start += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    let mut end = p.len();
    if p[0] & 0x20 != 0 {
        end = end.checked_sub(usize::from(*p.last()?))?;
    }
    if start > end {
        return None;
    }
    let pt = p[1] & 0x7F;
    if (72..=76).contains(&pt) {
        return None; // RTCP multiplexed on the RTP port
    }
    Some(Rtp {
        marker: p[1] & 0x80 != 0,
        pt,
        seq: [p[2], p[3]],
        ts: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        ssrc: u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
        payload: &p[start..end],
    })
}

fn build_rtp(r: &Rtp<'_>, pt: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + payload.len());
    out.push(0x80);
    out.push(if r.marker { 0x80 | pt } else { pt });
    out.extend_from_slice(&r.seq);
    out.extend_from_slice(&r.ts.to_be_bytes());
    out.extend_from_slice(&r.ssrc.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The keypad character of an RFC 4733 event code.
pub fn dtmf_char(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

fn idx(leg: Leg) -> usize {
    match leg {
        Leg::Agent => 0,
        Leg::Debtor => 1,
    }
}

async fn run(
    socks: [UdpSocket; 2],
    mut ctl: mpsc::UnboundedReceiver<Ctl>,
    events: mpsc::Sender<CallEvent>,
) -> Option<Recorder> {
    let mut legs = [LegState::default(), LegState::default()];
    let mut bridge: Option<Bridge> = None;
    let mut bufs = [[0u8; 2048], [0u8; 2048]];
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        let [buf_a, buf_d] = &mut bufs;
        let (leg, n, from) = tokio::select! {
            c = ctl.recv() => {
                match c {
                    Some(Ctl::Remote(leg, answer)) => {
                        let st = &mut legs[idx(leg)];
                        st.answer = Some(answer);
                        st.remote = Some(answer.rtp);
                        st.latched = false;
                    }
                    Some(Ctl::Bridge(recorder)) => {
                        bridge = Some(Bridge { since: Instant::now(), recorder: recorder.map(|r| *r) });
                    }
                    Some(Ctl::Stop) | None => break,
                }
                continue;
            }
            r = socks[0].recv_from(buf_a) => match r {
                Ok((n, from)) => (Leg::Agent, n, from),
                Err(e) => { debug!(error = %e, "agent RTP recv"); continue; }
            },
            r = socks[1].recv_from(buf_d) => match r {
                Ok((n, from)) => (Leg::Debtor, n, from),
                Err(e) => { debug!(error = %e, "debtor RTP recv"); continue; }
            },
            _ = tick.tick() => {
                if let Some(b) = bridge.as_mut() {
                    let until = b.now_pos().saturating_sub(RECORD_LAG);
                    if let Some(Err(e)) = b.recorder.as_mut().map(|r| r.flush_until(until)) {
                        warn!(error = %e, "recording spool write failed; the call goes on unrecorded");
                        b.recorder = None;
                    }
                }
                continue;
            }
        };
        let packet = &bufs[idx(leg)][..n];
        relay(leg, packet, from, &mut legs, bridge.as_mut(), &socks, &events).await;
    }
    bridge.and_then(|b| b.recorder)
}

async fn relay(
    leg: Leg,
    packet: &[u8],
    from: SocketAddr,
    legs: &mut [LegState; 2],
    bridge: Option<&mut Bridge>,
    socks: &[UdpSocket; 2],
    events: &mpsc::Sender<CallEvent>,
) {
    let (me, other) = match leg {
        Leg::Agent => (0, 1),
        Leg::Debtor => (1, 0),
    };
    let Some(answer) = legs[me].answer else { return };
    if !legs[me].latched {
        legs[me].remote = Some(from);
        legs[me].latched = true;
    }
    let Some(bridge) = bridge else { return };
    let Some(rtp) = parse_rtp(packet) else { return };
    let (Some(other_answer), Some(other_remote)) = (legs[other].answer, legs[other].remote) else { return };

    if rtp.pt == answer.codec.payload_type() {
        let samples: Vec<i16> = rtp.payload.iter().map(|&b| answer.codec.decode(b)).collect();
        let out = if other_answer.codec == answer.codec {
            build_rtp(&rtp, other_answer.codec.payload_type(), rtp.payload)
        } else {
            let payload: Vec<u8> = samples.iter().map(|&s| other_answer.codec.encode(s)).collect();
            build_rtp(&rtp, other_answer.codec.payload_type(), &payload)
        };
        let _ = socks[other].send_to(&out, other_remote).await;
        let now = bridge.now_pos();
        if let Some(recorder) = bridge.recorder.as_mut() {
            let st = &mut legs[me];
            let anchor = match st.anchor {
                Some(a) if a.ssrc == rtp.ssrc => a,
                _ => Anchor { ssrc: rtp.ssrc, ts: rtp.ts, pos: now },
            };
            let delta = i64::from(rtp.ts.wrapping_sub(anchor.ts) as i32);
            let mut pos = anchor.pos as i64 + delta;
            let anchor = if (pos - now as i64).unsigned_abs() > u64::from(SAMPLE_RATE) {
                pos = now as i64;
                Anchor { ssrc: rtp.ssrc, ts: rtp.ts, pos: now }
            } else {
                anchor
            };
            st.anchor = Some(anchor);
            if pos >= 0 {
                recorder.put(me, pos as u64, &samples);
            }
        }
    } else if Some(rtp.pt) == answer.event_pt {
        if let Some(pt) = other_answer.event_pt {
            let _ = socks[other].send_to(&build_rtp(&rtp, pt, rtp.payload), other_remote).await;
        }
        let st = &mut legs[me];
        if st.last_event_ts != Some(rtp.ts) {
            st.last_event_ts = Some(rtp.ts);
            if let Some(digit) = rtp.payload.first().and_then(|&e| dtmf_char(e))
                && events.try_send(CallEvent::Dtmf { leg, digit }).is_err()
            {
                warn!("DTMF event dropped: event channel full");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rebuilds_rtp() {
        let mut p = vec![0x80, 0x80, 0x12, 0x34, 0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(&[0xFF; 160]);
        let r = parse_rtp(&p).unwrap();
        assert!(r.marker);
        assert_eq!(r.pt, 0);
        assert_eq!(r.ts, 256);
        assert_eq!(r.ssrc, 0xdeadbeef);
        assert_eq!(r.payload.len(), 160);
        let out = build_rtp(&r, 8, r.payload);
        assert_eq!(out[1], 0x88);
        assert_eq!(&out[2..12], &p[2..12]);
        assert!(parse_rtp(&[0x80, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(parse_rtp(&[0x40; 20]).is_none());
    }

    #[test]
    fn dtmf_digits() {
        assert_eq!(dtmf_char(0), Some('0'));
        assert_eq!(dtmf_char(9), Some('9'));
        assert_eq!(dtmf_char(10), Some('*'));
        assert_eq!(dtmf_char(11), Some('#'));
        assert_eq!(dtmf_char(15), Some('D'));
        assert_eq!(dtmf_char(16), None);
    }
}
