//! The RTP relay of one call: a UDP socket per leg on the switch, packets forwarded between the
//! legs once they are bridged, both directions decoded into the recorder.
//!
//! Each leg's stream has a single source, so packets keep their SSRC, sequence numbers and
//! timestamps; only the payload type is rewritten (and the payload transcoded when the legs chose
//! different G.711 laws). RFC 4733 telephone events are relayed with the other leg's event
//! payload type and reported as [`CallEvent::Dtmf`]. The far end's address comes from its SDP
//! answer and is then latched to the source of its first packet (symmetric RTP).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::error::CallError;
use crate::event::{CallEvent, Leg, Supervision};
use crate::record::{Recorder, SAMPLE_RATE};
use crate::sdp::Answer;

/// How far behind real time the recorder writes, to let late packets land (0.5 s).
const RECORD_LAG: u64 = SAMPLE_RATE as u64 / 2;

/// A mixed frame: 20 ms at 8 kHz.
const FRAME: usize = 160;
/// A source's audio waits in the mixer until this much is queued (40 ms), absorbing jitter.
const PRIME: usize = 2 * FRAME;
/// The most a source may queue in the mixer (160 ms); older samples are dropped.
const MAX_QUEUE: usize = 8 * FRAME;

enum Ctl {
    Remote(Leg, Answer),
    Bridge(Option<Box<Recorder>>),
    Supervisor(UdpSocket),
    Mode(Supervision),
    SupervisorGone,
    /// Play these samples to the debtor (a robot's prompt), replacing any being played; empty:
    /// stop playing.
    Play(Arc<[i16]>, u64),
    Stop,
}

/// The media of one call.
pub struct Media {
    ctl: mpsc::UnboundedSender<Ctl>,
    task: JoinHandle<Option<Recorder>>,
    agent_rtp: SocketAddr,
    debtor_rtp: SocketAddr,
}

/// A handle on a call's media for the supervisor's leg.
#[derive(Clone)]
pub struct MediaHandle {
    ctl: mpsc::UnboundedSender<Ctl>,
}

impl MediaHandle {
    /// Binds the supervisor's RTP socket on `ip` and hands it to the relay; its address is what
    /// the supervisor's offer announces.
    pub async fn add_supervisor(&self, ip: IpAddr) -> Result<SocketAddr, CallError> {
        let sock = bind_rtp(ip).await?;
        let addr = sock.local_addr().map_err(|e| CallError::Media(e.to_string()))?;
        let _ = self.ctl.send(Ctl::Supervisor(sock));
        Ok(addr)
    }

    /// Tells the relay where the supervisor's phone receives and what it speaks.
    pub fn set_remote(&self, answer: Answer) {
        let _ = self.ctl.send(Ctl::Remote(Leg::Supervisor, answer));
    }

    /// Sets who hears the supervisor (and starts mixing for them).
    pub fn set_mode(&self, mode: Supervision) {
        let _ = self.ctl.send(Ctl::Mode(mode));
    }

    /// The supervisor left: back to the two-party relay.
    pub fn drop_supervisor(&self) {
        let _ = self.ctl.send(Ctl::SupervisorGone);
    }
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

    /// The switch's RTP address for the agent's leg (what its SDP offer announces).
    pub fn agent_rtp(&self) -> SocketAddr {
        self.agent_rtp
    }

    /// The switch's RTP address for the debtor's leg.
    pub fn debtor_rtp(&self) -> SocketAddr {
        self.debtor_rtp
    }

    /// A handle for the supervisor's leg.
    pub fn handle(&self) -> MediaHandle {
        MediaHandle { ctl: self.ctl.clone() }
    }

    /// Tells the relay where `leg`'s far end receives and what it speaks.
    pub fn set_remote(&self, leg: Leg, answer: Answer) {
        let _ = self.ctl.send(Ctl::Remote(leg, answer));
    }

    /// Plays `samples` (8 kHz) to the debtor in 20 ms frames on the switch's own RTP stream,
    /// recorded on the left channel as what the bank said, replacing what was playing; then
    /// [`CallEvent::Said`] with `seq`. Empty: stops playing, with no event.
    pub fn play(&self, samples: Arc<[i16]>, seq: u64) {
        let _ = self.ctl.send(Ctl::Play(samples, seq));
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

/// An RTP stream the switch originates (a mixed output): its own SSRC, sequence and timestamp.
struct OutStream {
    ssrc: u32,
    seq: u16,
    ts: u32,
    started: bool,
}

impl OutStream {
    fn new() -> OutStream {
        OutStream { ssrc: rand::random(), seq: rand::random(), ts: rand::random(), started: false }
    }

    /// The next packet of this stream carrying `payload`.
    fn packet(&mut self, pt: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + payload.len());
        out.push(0x80);
        out.push(if self.started { pt } else { 0x80 | pt });
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.ts.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(payload);
        self.started = true;
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(FRAME as u32);
        out
    }
}

/// A robot's prompt being played to the debtor.
struct Player {
    samples: Arc<[i16]>,
    /// The number its `Said` carries.
    seq: u64,
    at: usize,
    out: OutStream,
    /// Where in the recording its first frame went.
    start: Option<u64>,
}

/// The three-party mixer, while a supervisor is on the call: each source's decoded audio is
/// queued, and every 20 ms each listener who must hear two sources gets their sum.
struct Mixer {
    mode: Supervision,
    queues: [VecDeque<i16>; 3],
    primed: [bool; 3],
    outs: [OutStream; 3],
}

impl Mixer {
    fn new(mode: Supervision) -> Mixer {
        Mixer {
            mode,
            queues: Default::default(),
            primed: [false; 3],
            outs: [OutStream::new(), OutStream::new(), OutStream::new()],
        }
    }

    fn push(&mut self, source: usize, samples: &[i16]) {
        let q = &mut self.queues[source];
        q.extend(samples.iter().copied());
        if q.len() > MAX_QUEUE {
            let extra = q.len() - MAX_QUEUE;
            q.drain(..extra);
        }
    }

    /// The next 20 ms of `source` (silence while it is not primed).
    fn frame(&mut self, source: usize) -> [i16; FRAME] {
        let mut out = [0i16; FRAME];
        let q = &mut self.queues[source];
        if !self.primed[source] && q.len() >= PRIME {
            self.primed[source] = true;
        }
        if self.primed[source] {
            for s in out.iter_mut() {
                match q.pop_front() {
                    Some(x) => *s = x,
                    None => {
                        self.primed[source] = false;
                        break;
                    }
                }
            }
        }
        out
    }
}

/// Whether `from`'s packets go straight to the other party, or that party hears a mix.
fn passes_through(from: Leg, mixer: Option<&Mixer>) -> bool {
    match (from, mixer.map(|m| m.mode)) {
        (Leg::Supervisor, _) => false,
        (_, None | Some(Supervision::Listen)) => true,
        // In a whisper the collector hears the debtor and the supervisor: a mix.
        (Leg::Agent, Some(Supervision::Whisper)) => true,
        (Leg::Debtor, Some(Supervision::Whisper)) => false,
        (_, Some(Supervision::Barge)) => false,
    }
}

/// Who hears whom through the mixer: for each listener, the two sources it hears mixed, when
/// it hears a mix at all.
fn mixes(mode: Supervision) -> [Option<(usize, usize)>; 3] {
    let supervisor = Some((0, 1));
    match mode {
        Supervision::Listen => [None, None, supervisor],
        Supervision::Whisper => [Some((1, 2)), None, supervisor],
        Supervision::Barge => [Some((1, 2)), Some((0, 2)), supervisor],
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
        Leg::Supervisor => 2,
    }
}

/// The sockets of a call: the agent's, the debtor's and, while one is on, the supervisor's.
struct Socks {
    main: [UdpSocket; 2],
    supervisor: Option<UdpSocket>,
}

impl Socks {
    fn get(&self, i: usize) -> Option<&UdpSocket> {
        match i {
            0 | 1 => Some(&self.main[i]),
            _ => self.supervisor.as_ref(),
        }
    }
}

async fn recv_opt(sock: Option<&UdpSocket>, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    match sock {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

async fn run(
    main: [UdpSocket; 2],
    mut ctl: mpsc::UnboundedReceiver<Ctl>,
    events: mpsc::Sender<CallEvent>,
) -> Option<Recorder> {
    let mut socks = Socks { main, supervisor: None };
    let mut legs = [LegState::default(), LegState::default(), LegState::default()];
    let mut bridge: Option<Bridge> = None;
    let mut mixer: Option<Mixer> = None;
    let mut player: Option<Player> = None;
    let mut bufs = [[0u8; 2048], [0u8; 2048], [0u8; 2048]];
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut mix_tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        let [buf_a, buf_d, buf_s] = &mut bufs;
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
                    Some(Ctl::Supervisor(sock)) => {
                        socks.supervisor = Some(sock);
                        legs[2] = LegState::default();
                    }
                    Some(Ctl::Mode(mode)) => match mixer.as_mut() {
                        Some(m) => m.mode = mode,
                        None => {
                            mixer = Some(Mixer::new(mode));
                            mix_tick.reset();
                        }
                    },
                    Some(Ctl::SupervisorGone) => {
                        socks.supervisor = None;
                        legs[2] = LegState::default();
                        mixer = None;
                    }
                    Some(Ctl::Play(samples, seq)) => {
                        player = (!samples.is_empty())
                            .then(|| Player { samples, seq, at: 0, out: OutStream::new(), start: None });
                        if player.is_some() && mixer.is_none() {
                            mix_tick.reset();
                        }
                    }
                    Some(Ctl::Stop) | None => break,
                }
                continue;
            }
            r = socks.main[0].recv_from(buf_a) => match r {
                Ok((n, from)) => (Leg::Agent, n, from),
                Err(e) => { debug!(error = %e, "agent RTP recv"); continue; }
            },
            r = socks.main[1].recv_from(buf_d) => match r {
                Ok((n, from)) => (Leg::Debtor, n, from),
                Err(e) => { debug!(error = %e, "debtor RTP recv"); continue; }
            },
            r = recv_opt(socks.supervisor.as_ref(), buf_s) => match r {
                Ok((n, from)) => (Leg::Supervisor, n, from),
                Err(e) => { debug!(error = %e, "supervisor RTP recv"); continue; }
            },
            _ = mix_tick.tick(), if mixer.is_some() || player.is_some() => {
                if let Some(m) = mixer.as_mut() {
                    mix(m, &legs, &socks).await;
                }
                if let Some(p) = player.as_mut()
                    && play_frame(p, &legs[1], &socks.main[1], bridge.as_mut()).await
                {
                    let seq = p.seq;
                    player = None;
                    if events.try_send(CallEvent::Said(seq)).is_err() {
                        warn!("prompt event dropped: event channel full");
                    }
                }
                continue;
            }
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
        let mut ctx =
            Relay { legs: &mut legs, bridge: bridge.as_mut(), mixer: mixer.as_mut(), socks: &socks };
        ctx.relay(leg, packet, from, &events).await;
    }
    bridge.and_then(|b| b.recorder)
}

/// Sends the debtor the prompt's next 20 ms and records it on the left channel; true once the
/// prompt has been played whole.
async fn play_frame(
    p: &mut Player,
    debtor: &LegState,
    sock: &UdpSocket,
    bridge: Option<&mut Bridge>,
) -> bool {
    let (Some(answer), Some(remote)) = (debtor.answer, debtor.remote) else { return false };
    let end = (p.at + FRAME).min(p.samples.len());
    let mut frame = [0i16; FRAME];
    frame[..end - p.at].copy_from_slice(&p.samples[p.at..end]);
    let payload: Vec<u8> = frame.iter().map(|&x| answer.codec.encode(x)).collect();
    let packet = p.out.packet(answer.codec.payload_type(), &payload);
    let _ = sock.send_to(&packet, remote).await;
    if let Some(b) = bridge {
        let start = *p.start.get_or_insert_with(|| b.now_pos());
        if let Some(r) = b.recorder.as_mut() {
            r.put(0, start + p.at as u64, &frame[..end - p.at]);
        }
    }
    p.at = end;
    p.at >= p.samples.len()
}

/// Sends each listener who hears a mix its next 20 ms.
async fn mix(m: &mut Mixer, legs: &[LegState; 3], socks: &Socks) {
    let frames = [m.frame(0), m.frame(1), m.frame(2)];
    for (to, pair) in mixes(m.mode).into_iter().enumerate() {
        let Some((a, b)) = pair else { continue };
        let (Some(answer), Some(remote), Some(sock)) = (legs[to].answer, legs[to].remote, socks.get(to))
        else {
            continue;
        };
        let payload: Vec<u8> = frames[a]
            .iter()
            .zip(&frames[b])
            .map(|(&x, &y)| answer.codec.encode(x.saturating_add(y)))
            .collect();
        let packet = m.outs[to].packet(answer.codec.payload_type(), &payload);
        let _ = sock.send_to(&packet, remote).await;
    }
}

/// What relaying one packet touches.
struct Relay<'a> {
    legs: &'a mut [LegState; 3],
    bridge: Option<&'a mut Bridge>,
    mixer: Option<&'a mut Mixer>,
    socks: &'a Socks,
}

impl Relay<'_> {
    async fn relay(&mut self, leg: Leg, packet: &[u8], from: SocketAddr, events: &mpsc::Sender<CallEvent>) {
        let me = idx(leg);
        let Some(answer) = self.legs[me].answer else { return };
        if !self.legs[me].latched {
            self.legs[me].remote = Some(from);
            self.legs[me].latched = true;
        }
        let Some(bridge) = self.bridge.as_deref_mut() else { return };
        let Some(rtp) = parse_rtp(packet) else { return };
        // The other party of the two: where this leg's packets go when they pass straight through.
        let other = match leg {
            Leg::Agent => Some(1),
            Leg::Debtor => Some(0),
            Leg::Supervisor => None,
        };
        let through = passes_through(leg, self.mixer.as_deref());
        let target = other.and_then(|o| Some((o, self.legs[o].answer?, self.legs[o].remote?)));

        if rtp.pt == answer.codec.payload_type() {
            let samples: Vec<i16> = rtp.payload.iter().map(|&b| answer.codec.decode(b)).collect();
            if let (true, Some((o, other_answer, other_remote))) = (through, target) {
                let out = if other_answer.codec == answer.codec {
                    build_rtp(&rtp, other_answer.codec.payload_type(), rtp.payload)
                } else {
                    let payload: Vec<u8> = samples.iter().map(|&s| other_answer.codec.encode(s)).collect();
                    build_rtp(&rtp, other_answer.codec.payload_type(), &payload)
                };
                let _ = self.socks.main[o].send_to(&out, other_remote).await;
            }
            if let Some(m) = self.mixer.as_deref_mut() {
                m.push(me, &samples);
            }
            let now = bridge.now_pos();
            let barging = self.mixer.as_deref().is_some_and(|m| m.mode == Supervision::Barge);
            // What the debtor heard from the bank: the collector, and a barging supervisor.
            let recorded = leg != Leg::Supervisor || barging;
            if let Some(recorder) = bridge.recorder.as_mut().filter(|_| recorded) {
                let st = &mut self.legs[me];
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
                if pos >= 0 && leg == Leg::Supervisor {
                    recorder.put_overlay(pos as u64, &samples);
                } else if pos >= 0 {
                    recorder.put(me, pos as u64, &samples);
                }
            }
        } else if Some(rtp.pt) == answer.event_pt {
            // Relayed when there is someone to relay to; reported in any case (a robot listens).
            if let Some((o, other_answer, other_remote)) = target
                && let Some(pt) = other_answer.event_pt
            {
                let _ = self.socks.main[o].send_to(&build_rtp(&rtp, pt, rtp.payload), other_remote).await;
            }
            let st = &mut self.legs[me];
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
    fn who_hears_whom() {
        use Supervision::*;
        // Listen: the parties talk straight through; the supervisor hears both.
        let m = Mixer::new(Listen);
        assert!(passes_through(Leg::Agent, Some(&m)) && passes_through(Leg::Debtor, Some(&m)));
        assert_eq!(mixes(Listen), [None, None, Some((0, 1))]);
        // Whisper: the collector hears the debtor and the supervisor; the debtor only the collector.
        let m = Mixer::new(Whisper);
        assert!(passes_through(Leg::Agent, Some(&m)) && !passes_through(Leg::Debtor, Some(&m)));
        assert_eq!(mixes(Whisper), [Some((1, 2)), None, Some((0, 1))]);
        // Barge: everyone hears the other two.
        let m = Mixer::new(Barge);
        assert!(!passes_through(Leg::Agent, Some(&m)) && !passes_through(Leg::Debtor, Some(&m)));
        assert_eq!(mixes(Barge), [Some((1, 2)), Some((0, 2)), Some((0, 1))]);
        // The supervisor never passes straight through; without one, both parties do.
        assert!(!passes_through(Leg::Supervisor, None));
        assert!(passes_through(Leg::Agent, None) && passes_through(Leg::Debtor, None));
    }

    #[test]
    fn the_mixer_primes_drains_and_bounds_its_queues() {
        let mut m = Mixer::new(Supervision::Listen);
        m.push(0, &[7; FRAME]);
        assert_eq!(m.frame(0), [0; FRAME], "not primed below 40 ms");
        m.push(0, &[8; FRAME]);
        assert_eq!(m.frame(0), [7; FRAME]);
        assert_eq!(m.frame(0), [8; FRAME]);
        let last = m.frame(0);
        assert_eq!(last, [0; FRAME], "drained: silence, and priming again");
        m.push(1, &vec![1; MAX_QUEUE + 3 * FRAME]);
        assert_eq!(m.queues[1].len(), MAX_QUEUE);
        let mut out = OutStream::new();
        let first = out.packet(0, &[0xFF; FRAME]);
        let second = out.packet(0, &[0xFF; FRAME]);
        assert_eq!(first[1], 0x80, "the first packet carries the marker");
        assert_eq!(second[1], 0);
        let seq = |p: &[u8]| u16::from_be_bytes([p[2], p[3]]);
        let ts = |p: &[u8]| u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
        assert_eq!(seq(&second), seq(&first).wrapping_add(1));
        assert_eq!(ts(&second), ts(&first).wrapping_add(FRAME as u32));
        assert_eq!(first[8..12], second[8..12]);
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
