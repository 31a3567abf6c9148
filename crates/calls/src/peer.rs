//! A far end for tests and demos: a `baresip` process on 127.0.0.1, configured in a temporary
//! directory and driven over its `ctrl_tcp` module (JSON in netstrings).
//!
//! Config traps handled here: `module_path` must be set or nothing loads; `net_interface` must be
//! the address (the name `lo` fails) or SDP advertises another interface; instances need two SIP
//! ports each (TLS takes port + 1); the audio source file must be 8 kHz mono 16-bit and the call
//! ends when it ends, so [`tone_wav`] and [`chirp_wav`] write long files.

use std::f64::consts::PI;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The baresip binary used unless `BARESIP` names another.
pub const BARESIP: &str = "/usr/bin/baresip";
/// Where Debian puts baresip's modules.
pub const MODULE_PATH: &str = "/usr/lib/baresip/modules";

/// How the peer treats incoming calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Answers at once.
    Auto,
    /// Rings, then refuses with 486 Busy Here.
    Reject,
    /// Rings and never answers.
    Ignore,
}

/// How to run a peer.
#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// The SIP user (the account is `sip:{name}@127.0.0.1:{sip_port}`).
    pub name: String,
    /// SIP port on 127.0.0.1 (port + 1 is taken too); 0 picks a free pair.
    pub sip_port: u16,
    /// Incoming call handling.
    pub answer: Answer,
    /// What the peer sends in a call: an 8 kHz mono 16-bit WAV, long enough for the call.
    /// `None` sends silence.
    pub play: Option<PathBuf>,
    /// Where baresip's `sndfile` module writes the call audio (`…-dec.wav` is what it heard).
    pub record_dir: Option<PathBuf>,
    /// Audio codecs offered/accepted, e.g. `PCMU` or `PCMA` (default `PCMU`).
    pub codecs: String,
}

impl PeerConfig {
    /// An auto-answering, silent peer.
    pub fn new(name: &str, sip_port: u16) -> PeerConfig {
        PeerConfig {
            name: name.into(),
            sip_port,
            answer: Answer::Auto,
            play: None,
            record_dir: None,
            codecs: "PCMU".into(),
        }
    }
}

/// Something baresip reported.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerEvent {
    /// `CALL_INCOMING`, `CALL_ESTABLISHED`, `CALL_CLOSED`, `CALL_DTMF_START`, …
    pub kind: String,
    /// The event's parameter (for `CALL_CLOSED` the reason).
    pub param: String,
    /// The other party's URI.
    pub peer_uri: String,
    /// baresip's id of the call the event is about (empty for other events).
    pub call_id: String,
    /// When the event was read.
    pub at: Instant,
}

/// Why a peer could not run.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// baresip is not installed.
    #[error("baresip not found at {0}")]
    Missing(String),
    /// Starting or talking to baresip failed.
    #[error("baresip: {0}")]
    Io(String),
}

/// A running baresip.
pub struct Peer {
    child: Child,
    _dir: tempfile::TempDir,
    ctl: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<PeerEvent>>,
    history: Arc<Mutex<Vec<PeerEvent>>>,
    uri: String,
    port: u16,
    token: std::sync::atomic::AtomicU64,
}

/// The baresip binary path (`BARESIP` or [`BARESIP`]), if it exists.
pub fn baresip_path() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var("BARESIP").unwrap_or_else(|_| BARESIP.into()));
    path.exists().then_some(path)
}

/// Whether baresip is here for test `test`: under `CI=true` its absence fails the test (a
/// missing service is a failure there, never a skip); elsewhere the test is skipped with a reason.
pub fn baresip_or_skip(test: &str) -> bool {
    if baresip_path().is_some() {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: baresip is required under CI=true");
    eprintln!("{test}: skipped, baresip is not installed");
    false
}

/// A port `p` such that UDP and TCP `p` and `p + 1` are free on 127.0.0.1 right now.
pub fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let Ok(s) = UdpSocket::bind("127.0.0.1:0") else { continue };
        let Ok(addr) = s.local_addr() else { continue };
        let p = addr.port();
        if p >= u16::MAX - 1 || p % 2 == 1 {
            continue;
        }
        let ok = UdpSocket::bind(("127.0.0.1", p + 1)).is_ok()
            && TcpListener::bind(("127.0.0.1", p)).is_ok()
            && TcpListener::bind(("127.0.0.1", p + 1)).is_ok();
        if ok {
            return p;
        }
    }
    0
}

fn free_tcp_port() -> Result<u16, PeerError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| PeerError::Io(e.to_string()))
}

fn io(e: impl std::fmt::Display) -> PeerError {
    PeerError::Io(e.to_string())
}

impl Peer {
    /// Writes the config, starts baresip and connects to its control port.
    pub async fn spawn(cfg: PeerConfig) -> Result<Peer, PeerError> {
        let bin = baresip_path().ok_or_else(|| PeerError::Missing(BARESIP.into()))?;
        let dir = tempfile::tempdir().map_err(io)?;
        let port = if cfg.sip_port == 0 { free_port_pair() } else { cfg.sip_port };
        let ctrl = free_tcp_port()?;
        let source = match &cfg.play {
            Some(p) => p.clone(),
            None => {
                let p = dir.path().join("silence.wav");
                tone_wav(&p, 0.0, 600.0).map_err(io)?;
                p
            }
        };
        let mut conf = format!(
            "poll_method epoll\n\
             module_path {MODULE_PATH}\n\
             sip_listen 127.0.0.1:{port}\n\
             net_interface 127.0.0.1\n\
             audio_player alsa,null\n\
             audio_alert alsa,null\n\
             audio_source aufile,{source}\n\
             audio_srate 8000\n\
             audio_channels 1\n\
             ctrl_tcp_listen 127.0.0.1:{ctrl}\n\
             module g711.so\n\
             module alsa.so\n\
             module aufile.so\n",
            source = source.display()
        );
        if let Some(rec) = &cfg.record_dir {
            conf.push_str(&format!("module sndfile.so\nsnd_path {}\n", rec.display()));
        }
        conf.push_str("module_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n");
        std::fs::write(dir.path().join("config"), conf).map_err(io)?;
        let mode = if cfg.answer == Answer::Auto { "auto" } else { "manual" };
        let uri = format!("sip:{}@127.0.0.1:{port}", cfg.name);
        let account = format!("<{uri}>;regint=0;answermode={mode};audio_codecs={}\n", cfg.codecs);
        std::fs::write(dir.path().join("accounts"), account).map_err(io)?;
        std::fs::write(dir.path().join("contacts"), "").map_err(io)?;

        let child = Command::new(bin)
            .arg("-f")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(io)?;
        let ctrl_addr = SocketAddr::from(([127, 0, 0, 1], ctrl));
        let until = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match TcpStream::connect(ctrl_addr).await {
                Ok(s) => break s,
                Err(e) if Instant::now() > until => return Err(io(format!("ctrl_tcp {ctrl_addr}: {e}"))),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let (mut read, write) = stream.into_split();
        let ctl = Arc::new(tokio::sync::Mutex::new(write));
        let rejecter = ctl.clone();
        let (tx, rx) = mpsc::unbounded_channel();
        let history = Arc::new(Mutex::new(Vec::new()));
        let hist = history.clone();
        let reject = cfg.answer == Answer::Reject;
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = match read.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(msg) = take_netstring(&mut buf) {
                    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&msg) else { continue };
                    if v.get("event").and_then(|e| e.as_bool()) != Some(true) {
                        continue;
                    }
                    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                    let ev = PeerEvent {
                        kind: field("type"),
                        param: field("param"),
                        peer_uri: field("peeruri"),
                        call_id: field("id"),
                        at: Instant::now(),
                    };
                    if reject && ev.kind == "CALL_INCOMING" {
                        // Let 180 Ringing go out, then refuse: baresip answers 486 Busy Here.
                        let w = rejecter.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            let _ = send_command(&w, "hangup", "", 0).await;
                        });
                    }
                    hist.lock().unwrap_or_else(PoisonError::into_inner).push(ev.clone());
                    let _ = tx.send(ev);
                }
            }
        });
        let peer = Peer {
            child,
            _dir: dir,
            ctl,
            events: tokio::sync::Mutex::new(rx),
            history,
            uri,
            port,
            token: std::sync::atomic::AtomicU64::new(0),
        };
        Ok(peer)
    }

    /// The peer's SIP URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The peer's SIP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends a command (`dial`, `hangup`, `accept`, …) and returns once it is written.
    pub async fn command(&self, command: &str, params: &str) -> Result<(), PeerError> {
        let token = self.token.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        send_command(&self.ctl, command, params, token).await
    }

    /// Hangs up the current call (refuses it with 486 while it rings).
    pub async fn hangup(&self) -> Result<(), PeerError> {
        self.command("hangup", "").await
    }

    /// The next event, waiting up to `timeout`.
    pub async fn next_event(&self, timeout: Duration) -> Option<PeerEvent> {
        tokio::time::timeout(timeout, self.events.lock().await.recv()).await.ok().flatten()
    }

    /// Waits up to `timeout` for an event of `kind`, skipping others.
    pub async fn wait_for(&self, kind: &str, timeout: Duration) -> Option<PeerEvent> {
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let ev = self.next_event(left).await?;
            if ev.kind == kind {
                return Some(ev);
            }
        }
    }

    /// Every event so far, in order.
    pub fn history(&self) -> Vec<PeerEvent> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many calls reached the peer (distinct call ids in its events; with auto answer
    /// baresip reports no `CALL_INCOMING`, its first event of a call is `CALL_REMOTE_SDP`).
    pub fn calls_received(&self) -> usize {
        let mut ids: Vec<String> =
            self.history().into_iter().filter(|e| !e.call_id.is_empty()).map(|e| e.call_id).collect();
        ids.sort();
        ids.dedup();
        ids.len()
    }

    /// The first event of the first call that reached the peer: when it was invited.
    pub fn first_call_event(&self) -> Option<PeerEvent> {
        self.history().into_iter().find(|e| !e.call_id.is_empty())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Kills this child by its pid (tokio's start_kill), never by name.
        let _ = self.child.start_kill();
    }
}

async fn send_command(
    ctl: &tokio::sync::Mutex<OwnedWriteHalf>,
    command: &str,
    params: &str,
    token: u64,
) -> Result<(), PeerError> {
    let body = serde_json::json!({ "command": command, "params": params, "token": token.to_string() });
    let body = body.to_string();
    let msg = format!("{}:{},", body.len(), body);
    ctl.lock().await.write_all(msg.as_bytes()).await.map_err(io)
}

fn take_netstring(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let colon = buf.iter().position(|&b| b == b':')?;
    let len: usize = std::str::from_utf8(&buf[..colon]).ok()?.trim().parse().ok()?;
    if buf.len() < colon + 1 + len + 1 {
        return None;
    }
    let msg = buf[colon + 1..colon + 1 + len].to_vec();
    buf.drain(..colon + 1 + len + 1);
    Some(msg)
}

/// Writes an 8 kHz mono 16-bit WAV of a sine at `freq_hz` (0 = silence), half full scale.
pub fn tone_wav(path: &Path, freq_hz: f64, secs: f64) -> Result<(), hound::Error> {
    write_wav(path, &tone(freq_hz, secs))
}

/// Writes an 8 kHz mono 16-bit WAV of linear chirps from `f0` to `f1` Hz, each `period` seconds,
/// repeated for `secs` seconds, half full scale.
pub fn chirp_wav(path: &Path, f0: f64, f1: f64, period: f64, secs: f64) -> Result<(), hound::Error> {
    write_wav(path, &chirp(f0, f1, period, secs))
}

/// Samples of a sine at `freq_hz`, 8 kHz, half full scale.
pub fn tone(freq_hz: f64, secs: f64) -> Vec<i16> {
    let n = (secs * 8000.0) as usize;
    (0..n).map(|i| (16384.0 * (2.0 * PI * freq_hz * i as f64 / 8000.0).sin()) as i16).collect()
}

/// Samples of repeated linear chirps (see [`chirp_wav`]).
pub fn chirp(f0: f64, f1: f64, period: f64, secs: f64) -> Vec<i16> {
    let per = (period * 8000.0) as usize;
    let one: Vec<i16> = (0..per)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let phase = 2.0 * PI * (f0 * t + (f1 - f0) * t * t / (2.0 * period));
            (16384.0 * phase.sin()) as i16
        })
        .collect();
    let n = (secs * 8000.0) as usize;
    one.iter().copied().cycle().take(n).collect()
}

fn write_wav(path: &Path, samples: &[i16]) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for &s in samples {
        w.write_sample(s)?;
    }
    w.finalize()
}
