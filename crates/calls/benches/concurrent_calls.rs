//! How many bridged, recorded, encrypted calls the switch holds at once without losing audio,
//! and the CPU each takes.
//!
//! `cargo bench -p daylight-calls --bench concurrent_calls -- 50 100 150 200`
//!
//! `-- --robot 50 100 200`: robot calls instead. Each is answered by the debtor's phone and
//! hears a prompt (espeak-ng's Mandarin voice, rendered once) played again each time it ends,
//! recorded with the debtor's side. Measured: the calls answered, the pace of the prompts (the
//! prompt's length over the mean time from one prompt's end to the next's in the window: 100 %
//! when every call's prompt plays in real time), the switch's CPU, and the recordings.
//!
//! Phones are simulated in this process, on a runtime (and threads) of their own: one SIP user
//! agent answers every INVITE (the collectors' legs and the debtors', through the trunk) with
//! SDP, then sends a 20 ms G.711 packet every 20 ms and counts what it receives. The switch
//! runs on its own two-thread runtime; its CPU is the time its threads spent, read from
//! `/proc/self/task/*/stat`. For each load the calls are placed, bridged, held for a 10 s
//! window, and hung up. Audio loss is the share of packets the phones sent in the window that
//! did not reach the far phone; the recordings are checked to be as long as the calls.
#![allow(missing_docs, clippy::print_stdout, clippy::disallowed_methods, clippy::unwrap_used)]

#[path = "common/phones.rs"]
mod phones;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daylight_calls::speech::Tts as _;
use daylight_calls::{CallEvent, Dial, Leg, Switch, SwitchConfig, Trunk};
use phones::{Counters, Keys, phones};

/// The threads of the switch's runtime.
type Tids = Arc<Mutex<HashSet<String>>>;

fn main() {
    let robot = std::env::args().any(|a| a == "--robot");
    let loads: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let loads = if loads.is_empty() { vec![50, 100, 150, 200] } else { loads };
    let tids: Tids = Arc::default();
    let seen = tids.clone();
    let switch_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("switch")
        .on_thread_start(move || {
            if let Ok(p) = std::fs::read_link("/proc/thread-self") {
                seen.lock().unwrap().insert(p.to_string_lossy().into_owned());
            }
        })
        .enable_all()
        .build()
        .unwrap();
    let phones_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("phones")
        .enable_all()
        .build()
        .unwrap();
    let counters = Arc::new(Counters::default());
    let phones =
        phones_rt.block_on(phones(counters.clone(), Arc::new(Keys::default()), phones_rt.handle().clone()));
    if robot {
        let speech = tempfile::tempdir().unwrap();
        let tts = daylight_calls::speech::Espeak::new(speech.path()).unwrap();
        let prompt = tts.render("您好，这里是示例银行。您的信用卡已逾期，请按1转人工。").unwrap();
        let secs = prompt.samples.len() as f64 / 8000.0;
        println!("prompt: {secs:.2} s");
        println!(
            "| robot calls at once | answered | prompts' pace (100 % = real time) | switch CPU | CPU per call | recordings (length ≥ 95 % of the call) |"
        );
        println!("|---:|---:|---:|---:|---:|---:|");
        for n in loads {
            let r = switch_rt.block_on(run_robots(n, phones, &tids, prompt.samples.clone()));
            println!(
                "| {n} | {} | {:.1} % | {:.1} % of a core | {:.2} % of a core | {}/{} |",
                r.bridged,
                r.played * 100.0,
                r.cpu * 100.0,
                r.cpu * 100.0 / n as f64,
                r.recordings_ok,
                r.bridged
            );
        }
        return;
    }
    println!(
        "| calls at once | bridged | audio loss in the window | switch CPU | CPU per call | recordings (length ≥ 95 % of the call) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for n in loads {
        let r = switch_rt.block_on(run(n, phones, &counters, &tids));
        println!(
            "| {n} | {} | {:.3} % | {:.1} % of a core | {:.2} % of a core | {}/{} |",
            r.bridged,
            r.loss * 100.0,
            r.cpu * 100.0,
            r.cpu * 100.0 / n as f64,
            r.recordings_ok,
            r.bridged
        );
    }
}

struct Result {
    bridged: usize,
    loss: f64,
    /// Robot calls: the prompt audio played in the window as a share of its real time.
    played: f64,
    cpu: f64,
    recordings_ok: usize,
}

/// CPU seconds the switch's threads have used.
fn switch_cpu(tids: &Tids) -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    for task in tids.lock().unwrap().iter() {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{task}/stat")) else { continue };
        // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        total += num(11) + num(12);
    }
    total as f64 / tick
}

async fn run(n: usize, phones: SocketAddr, counters: &Counters, tids: &Tids) -> Result {
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let trunk = Trunk { uri_template: format!("sip:{{number}}@{phones}"), username: None, password: None };
    let mut cfg = SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk);
    cfg.max_calls = n + 10;
    let sw = Switch::start(cfg).await.unwrap();
    let mut bridged = tokio::sync::mpsc::unbounded_channel::<usize>();
    let mut ends = Vec::new();
    for i in 0..n {
        let dial = Dial {
            call: format!("c{i}"),
            agent: format!("sip:agent{i}@{phones}"),
            number: format!("138{i:08}"),
            caller_id: "02160000000".into(),
            record_to: dir.path().join(format!("c{i}.wav.age")),
            vault_recipient: key.to_public().to_string(),
        };
        let mut rx = sw.dial(dial).await.unwrap();
        let tx = bridged.0.clone();
        ends.push(tokio::spawn(async move {
            let mut talk = None;
            while let Some(ev) = rx.recv().await {
                match ev {
                    CallEvent::Bridged => {
                        let _ = tx.send(i);
                    }
                    CallEvent::Ended(end) => talk = Some(end),
                    _ => {}
                }
            }
            talk
        }));
        // Calls are placed at 50 a second, as a dialer would.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut up = 0;
    let until = tokio::time::Instant::now() + Duration::from_secs(30);
    while up < n {
        match tokio::time::timeout_at(until, bridged.1.recv()).await {
            Ok(Some(_)) => up += 1,
            _ => break,
        }
    }
    // Settle, then the window.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (s0, r0, c0) =
        (counters.sent.load(Ordering::Relaxed), counters.received.load(Ordering::Relaxed), switch_cpu(tids));
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (s1, r1, c1) =
        (counters.sent.load(Ordering::Relaxed), counters.received.load(Ordering::Relaxed), switch_cpu(tids));
    let secs = t0.elapsed().as_secs_f64();
    for i in 0..n {
        sw.hangup(&format!("c{i}"));
    }
    let mut recordings_ok = 0;
    for e in ends {
        if let Ok(Some(end)) = e.await
            && let Some(r) = &end.recording
            && end.bridged
            && r.secs >= end.talk_secs * 0.95
            && std::fs::metadata(&r.path).is_ok()
        {
            recordings_ok += 1;
        }
    }
    sw.shutdown().await;
    let sent = (s1 - s0) as f64;
    let received = (r1 - r0) as f64;
    Result {
        bridged: up,
        loss: if sent > 0.0 { (1.0 - received / sent).max(0.0) } else { 1.0 },
        played: 0.0,
        cpu: (c1 - c0) / secs,
        recordings_ok,
    }
}

/// `n` robot calls at once, each playing `prompt` over and over.
async fn run_robots(n: usize, phones: SocketAddr, tids: &Tids, prompt: Arc<[i16]>) -> Result {
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let trunk = Trunk { uri_template: format!("sip:{{number}}@{phones}"), username: None, password: None };
    let mut cfg = SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk);
    cfg.max_calls = n + 10;
    let sw = Switch::start(cfg).await.unwrap();
    let answered = tokio::sync::mpsc::unbounded_channel::<usize>();
    let mut ends = Vec::new();
    for i in 0..n {
        let dial = Dial {
            call: format!("r{i}"),
            agent: String::new(),
            number: format!("139{i:08}"),
            caller_id: "02160000000".into(),
            record_to: dir.path().join(format!("r{i}.wav.age")),
            vault_recipient: key.to_public().to_string(),
        };
        let (mut rx, robot) = sw.robot(dial).await.unwrap();
        let (tx, prompt) = (answered.0.clone(), prompt.clone());
        ends.push(tokio::spawn(async move {
            let mut talk = None;
            let mut times = Vec::new();
            while let Some(ev) = rx.recv().await {
                match ev {
                    CallEvent::Answered(Leg::Debtor) => {
                        let _ = tx.send(i);
                        robot.say(prompt.clone()).await;
                    }
                    CallEvent::Said(_) => {
                        times.push(Instant::now());
                        robot.say(prompt.clone()).await;
                    }
                    CallEvent::Ended(end) => talk = Some(end),
                    _ => {}
                }
            }
            (talk, times)
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut answered = answered;
    let mut up = 0;
    let until = tokio::time::Instant::now() + Duration::from_secs(30);
    while up < n {
        match tokio::time::timeout_at(until, answered.1.recv()).await {
            Ok(Some(_)) => up += 1,
            _ => break,
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c0 = switch_cpu(tids);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(20)).await;
    let c1 = switch_cpu(tids);
    let secs = t0.elapsed().as_secs_f64();
    for i in 0..n {
        sw.hangup(&format!("r{i}"));
    }
    let mut recordings_ok = 0;
    // Seconds from one prompt's end to the next's, within the window: the prompt's length when
    // the switch keeps pace.
    let mut gaps = Vec::new();
    for e in ends {
        let Ok((talk, times)) = e.await else { continue };
        gaps.extend(
            times
                .windows(2)
                .filter(|w| w[0] >= t0 && w[1] <= t0 + Duration::from_secs_f64(secs))
                .map(|w| w[1].duration_since(w[0]).as_secs_f64()),
        );
        if let Some(end) = talk
            && let Some(r) = &end.recording
            && r.secs >= end.talk_secs * 0.95
            && std::fs::metadata(&r.path).is_ok()
        {
            recordings_ok += 1;
        }
    }
    sw.shutdown().await;
    let mean_gap = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    let played = if mean_gap > 0.0 { prompt.len() as f64 / 8000.0 / mean_gap } else { 0.0 };
    Result { bridged: up, loss: 0.0, played, cpu: (c1 - c0) / secs, recordings_ok }
}
