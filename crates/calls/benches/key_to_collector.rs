//! Key press to collector connected: a robot call's debtor presses 1 and the robot transfers
//! the call to a collector's phone, bridged on the same call. Measured from the moment the
//! key's RFC 4733 packet leaves the debtor's phone to the switch's `Bridged`, over sequential
//! transfers on 127.0.0.1 (the seeds' bar: 0.8 s). Phones are simulated in this process
//! (`common/phones.rs`) and answer at once, as a collector's phone in auto-answer does; the
//! server's part between the key and the transfer (the flow's walk, the board read for a
//! ready collector) is not in it.
//!
//! `cargo bench -p daylight-calls --bench key_to_collector [-- TRANSFERS]` (default 100).
#![allow(missing_docs, clippy::print_stdout, clippy::disallowed_methods, clippy::unwrap_used)]

#[path = "common/phones.rs"]
mod phones;

use std::sync::Arc;
use std::time::{Duration, Instant};

use daylight_calls::{CallEvent, Dial, Switch, SwitchConfig, Trunk};
use phones::{Counters, Keys, phones};

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100);
    let phones_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let switch_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let keys = Arc::new(Keys { after: Some(Duration::from_millis(300)), ..Keys::default() });
    let addr =
        phones_rt.block_on(phones(Arc::new(Counters::default()), keys.clone(), phones_rt.handle().clone()));
    let (key_to_heard, key_to_bridged) = switch_rt.block_on(run(n, addr, &keys));
    let pct = |v: &[f64], p: f64| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[((s.len() as f64 - 1.0) * p).round() as usize]
    };
    println!("| {n} transfers | p50 | p90 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    for (what, v) in
        [("key to the robot hearing it", &key_to_heard), ("key to collector connected", &key_to_bridged)]
    {
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
            pct(v, 0.5) * 1000.0,
            pct(v, 0.9) * 1000.0,
            pct(v, 0.99) * 1000.0,
            pct(v, 1.0) * 1000.0
        );
    }
}

async fn run(n: usize, phones: std::net::SocketAddr, keys: &Keys) -> (Vec<f64>, Vec<f64>) {
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let trunk = Trunk { uri_template: format!("sip:{{number}}@{phones}"), username: None, password: None };
    let sw = Switch::start(SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk)).await.unwrap();
    let (mut heard, mut bridged) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let number = format!("139{i:08}");
        let dial = Dial {
            call: format!("r{i}"),
            agent: String::new(),
            number: number.clone(),
            caller_id: "02160000000".into(),
            record_to: dir.path().join(format!("r{i}.wav.age")),
            vault_recipient: key.to_public().to_string(),
        };
        let (mut rx, robot) = sw.robot(dial).await.unwrap();
        let agent = format!("sip:agent{i}@{phones}");
        while let Some(ev) = rx.recv().await {
            match ev {
                CallEvent::Dtmf { digit: '1', .. } => {
                    let at = Instant::now();
                    robot.transfer(&agent).await;
                    if let Some(sent) = keys.pressed.lock().unwrap().get(&number) {
                        heard.push(at.duration_since(*sent).as_secs_f64());
                    }
                }
                CallEvent::Bridged => {
                    let at = Instant::now();
                    if let Some(sent) = keys.pressed.lock().unwrap().get(&number) {
                        bridged.push(at.duration_since(*sent).as_secs_f64());
                    }
                    robot.hangup().await;
                }
                CallEvent::Ended(_) => break,
                _ => {}
            }
        }
    }
    sw.shutdown().await;
    assert_eq!(bridged.len(), n, "every transfer was bridged");
    (heard, bridged)
}
