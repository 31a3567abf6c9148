//! Real SIP on 127.0.0.1: the switch against baresip peers and a tiny in-test UAS.
//!
//! Under `CI=true` a missing baresip fails the tests; elsewhere they skip with a printed reason.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use daylight_calls::mapping::outcome;
use daylight_calls::peer::{self, Answer, Peer, PeerConfig};
use daylight_calls::{CallEnd, CallEvent, Dial, EndedBy, Leg, Switch, SwitchConfig, Trunk};
use daylight_domain::attempt::Outcome;
use tokio::sync::mpsc;
use tokio::time::Instant;

const NUMBER: &str = "13800138000";

async fn switch(trunk_port: u16, max_calls: usize, ring_secs: u32) -> Switch {
    let trunk = Trunk {
        uri_template: format!("sip:{{number}}@127.0.0.1:{trunk_port}"),
        username: None,
        password: None,
    };
    let mut cfg = SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk);
    cfg.max_calls = max_calls;
    cfg.ring_secs = ring_secs;
    Switch::start(cfg).await.expect("switch starts")
}

fn dial(call: &str, agent: &str, number: &str, dir: &Path, key: &age::x25519::Identity) -> Dial {
    Dial {
        call: call.into(),
        agent: agent.into(),
        number: number.into(),
        caller_id: "95555".into(),
        record_to: dir.join(format!("{call}.wav.age")),
        vault_recipient: key.to_public().to_string(),
    }
}

/// Asserts the switch carries no call: a call leaves its table as the call's task ends, just
/// after the last event, so this waits up to a second for it.
async fn idle(sw: &Switch) {
    for _ in 0..50 {
        if sw.active() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sw.active(), 0);
}

async fn peer(name: &str, answer: Answer) -> Peer {
    let mut cfg = PeerConfig::new(name, 0);
    cfg.answer = answer;
    Peer::spawn(cfg).await.expect("baresip starts")
}

/// Reads events until `Ended` (which must be last), with their arrival times.
async fn until_end(rx: &mut mpsc::Receiver<CallEvent>, timeout: Duration) -> Vec<(Instant, CallEvent)> {
    let mut out = Vec::new();
    let until = Instant::now() + timeout;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let ev = tokio::time::timeout(left, rx.recv())
            .await
            .expect("call ends in time")
            .expect("Ended before close");
        let end = matches!(ev, CallEvent::Ended(_));
        out.push((Instant::now(), ev));
        if end {
            assert!(rx.recv().await.is_none(), "Ended is the last event");
            return out;
        }
    }
}

fn end_of(events: &[(Instant, CallEvent)]) -> CallEnd {
    match &events.last().expect("events").1 {
        CallEvent::Ended(e) => e.clone(),
        other => panic!("last event {other:?}"),
    }
}

fn position(events: &[(Instant, CallEvent)], want: &CallEvent) -> Option<usize> {
    events.iter().position(|(_, e)| e == want)
}

/// Normalised cross-correlation of `rec` with the periodic `period`, at the best lag.
fn best_correlation(rec: &[i16], period: &[i16]) -> f64 {
    let p = period.len();
    let rr: f64 = rec.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    let mut best = 0.0f64;
    for lag in 0..p {
        let mut dot = 0.0;
        let mut ss_lag = 0.0;
        for (i, &x) in rec.iter().enumerate() {
            let s = f64::from(period[(i + lag) % p]);
            dot += f64::from(x) * s;
            ss_lag += s * s;
        }
        let c = dot / (rr * ss_lag).sqrt().max(1.0);
        best = best.max(c);
    }
    best
}

fn decrypt(path: &Path, key: &age::x25519::Identity) -> std::io::Result<Vec<u8>> {
    let cipher = std::fs::read(path)?;
    decrypt_bytes(&cipher, key)
}

fn decrypt_bytes(cipher: &[u8], key: &age::x25519::Identity) -> std::io::Result<Vec<u8>> {
    let mut plain = Vec::new();
    age::Decryptor::new(cipher)
        .map_err(std::io::Error::other)?
        .decrypt(std::iter::once(key as &dyn age::Identity))
        .map_err(std::io::Error::other)?
        .read_to_end(&mut plain)?;
    Ok(plain)
}

const A_PERIOD: f64 = 0.25;
const B_PERIOD: f64 = 0.3;

fn signal_a() -> Vec<i16> {
    peer::chirp(300.0, 1500.0, A_PERIOD, A_PERIOD)
}

fn signal_b() -> Vec<i16> {
    peer::chirp(2500.0, 700.0, B_PERIOD, B_PERIOD)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn click_to_dial_bridges_records_and_encrypts() {
    if !peer::baresip_or_skip("click_to_dial") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a_wav = dir.path().join("a.wav");
    let b_wav = dir.path().join("b.wav");
    peer::chirp_wav(&a_wav, 300.0, 1500.0, A_PERIOD, 120.0).unwrap();
    peer::chirp_wav(&b_wav, 2500.0, 700.0, B_PERIOD, 120.0).unwrap();
    let agent_rec = dir.path().join("agent-rec");
    std::fs::create_dir_all(&agent_rec).unwrap();

    let mut agent_cfg = PeerConfig::new("c1", 0);
    agent_cfg.play = Some(a_wav);
    agent_cfg.record_dir = Some(agent_rec.clone());
    let agent = Peer::spawn(agent_cfg).await.unwrap();
    let mut debtor_cfg = PeerConfig::new(NUMBER, 0);
    debtor_cfg.play = Some(b_wav);
    debtor_cfg.codecs = "PCMA".into(); // the agent speaks PCMU: the relay transcodes
    let debtor = Peer::spawn(debtor_cfg).await.unwrap();

    let sw = switch(debtor.port(), 4, 30).await;
    let key = age::x25519::Identity::generate();
    let mut rx = sw.dial(dial("att-1", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    assert_eq!(sw.active(), 1);

    let mut events = Vec::new();
    let bridged_at = loop {
        let ev =
            tokio::time::timeout(Duration::from_secs(15), rx.recv()).await.expect("bridged in time").unwrap();
        let now = Instant::now();
        let bridged = ev == CallEvent::Bridged;
        assert!(!matches!(ev, CallEvent::Ended(_)), "ended early: {ev:?}");
        events.push((now, ev));
        if bridged {
            break now;
        }
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hung_up_at = Instant::now();
    assert!(sw.hangup("att-1"));
    events.extend(until_end(&mut rx, Duration::from_secs(15)).await);
    let measured = hung_up_at.duration_since(bridged_at).as_secs_f64();

    // Order: agent answered, then debtor, then bridged, then ended.
    let aa = position(&events, &CallEvent::Answered(Leg::Agent)).expect("agent answered");
    let da = position(&events, &CallEvent::Answered(Leg::Debtor)).expect("debtor answered");
    let br = position(&events, &CallEvent::Bridged).unwrap();
    assert!(aa < da && da < br && br == events.len() - 2, "{events:?}");
    if let Some(r) = position(&events, &CallEvent::Ringing(Leg::Agent)) {
        assert!(r < aa);
    }
    if let Some(r) = position(&events, &CallEvent::Ringing(Leg::Debtor)) {
        assert!(aa < r && r < da);
    }
    // The debtor was invited only after the agent answered (as the peers saw it).
    let t0 = events[0].0;
    let show = |p: &Peer| {
        p.history()
            .iter()
            .map(|e| format!("{}@{:?}", e.kind, e.at.checked_duration_since(t0)))
            .collect::<Vec<_>>()
    };
    eprintln!("agent peer: {:?}", show(&agent));
    eprintln!("debtor peer: {:?}", show(&debtor));
    eprintln!(
        "switch: {:?}",
        events.iter().map(|(t, e)| format!("{e:?}@{:?}", t.duration_since(t0))).collect::<Vec<_>>()
    );
    // baresip reports its answer SDP (CALL_LOCAL_SDP) as it answers; CALL_ESTABLISHED waits for
    // the ACK, which may cross the debtor's INVITE.
    let established =
        agent.history().into_iter().find(|e| e.kind == "CALL_LOCAL_SDP").expect("agent answered");
    let incoming = debtor.first_call_event().expect("debtor invited");
    assert!(established.at <= incoming.at, "debtor invited before the agent answered");

    let end = end_of(&events);
    assert_eq!(end.agent_code, Some(200));
    assert_eq!(end.debtor_code, Some(200));
    assert!(end.bridged);
    assert_eq!(end.ended_by, EndedBy::Switch);
    assert!((end.talk_secs - measured).abs() < 0.5, "talk {} vs measured {measured}", end.talk_secs);
    assert_eq!(outcome(&end), Some(Outcome::Conversation));
    // Both peers were hung up.
    assert!(agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());
    assert!(debtor.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());
    idle(&sw).await;

    // The recording: ciphertext hash and size, then the audio of each side.
    let rec = end.recording.expect("recording");
    let cipher = std::fs::read(&rec.path).unwrap();
    assert_eq!(rec.bytes, cipher.len() as u64);
    use sha2::Digest;
    assert_eq!(rec.sha256, hex::encode(sha2::Sha256::digest(&cipher).as_slice()));
    assert!((rec.secs - end.talk_secs).abs() < 0.6, "recorded {} s of {} s", rec.secs, end.talk_secs);
    let plain = decrypt(&rec.path, &key).unwrap();
    let wav = hound::WavReader::new(&plain[..]).unwrap();
    assert_eq!((wav.spec().channels, wav.spec().sample_rate, wav.spec().bits_per_sample), (2, 8000, 16));
    let samples: Vec<i16> = wav.into_samples::<i16>().map(Result::unwrap).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert!(left.len() > 16000, "{} frames", left.len());
    let window = 500..(500 + 12000).min(left.len() - 2000);
    let cl = best_correlation(&left[window.clone()], &signal_a());
    let cr = best_correlation(&right[window.clone()], &signal_b());
    let cross = best_correlation(&left[window.clone()], &signal_b());
    eprintln!("correlation: left~A {cl:.4}, right~B {cr:.4}, left~B {cross:.4}");
    assert!(cl >= 0.99, "left channel vs signal A: {cl}");
    assert!(cr >= 0.99, "right channel vs signal B: {cr}");
    assert!(cross < 0.5, "left channel is not signal B: {cross}");

    // One flipped byte fails decryption.
    let mut flipped = cipher.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x04;
    assert!(decrypt_bytes(&flipped, &key).is_err());
    // And the wrong key cannot read it.
    assert!(decrypt(&rec.path, &age::x25519::Identity::generate()).is_err());

    // The agent heard the debtor: baresip's own recording of what it received holds signal B.
    let heard = std::fs::read_dir(&agent_rec)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("dec"));
    let heard = heard.expect("baresip sndfile wrote the decoded audio");
    let wav = hound::WavReader::open(&heard).unwrap();
    let ch = usize::from(wav.spec().channels);
    let heard: Vec<i16> = wav.into_samples::<i16>().map(Result::unwrap).step_by(ch).collect();
    // The agent heard silence before the bridge: look at the end, before the hangup.
    assert!(heard.len() > 16000, "{} samples", heard.len());
    let tail = &heard[heard.len() - 14000..heard.len() - 2000];
    let ch_b = best_correlation(tail, &signal_b());
    eprintln!("agent heard B at {ch_b:.4}");
    assert!(ch_b >= 0.95, "agent's recording vs signal B: {ch_b}");
    sw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debtor_busy_maps_to_busy_and_hangs_up_the_agent() {
    if !peer::baresip_or_skip("debtor_busy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let agent = peer("c2", Answer::Auto).await;
    let debtor = peer(NUMBER, Answer::Reject).await;
    let sw = switch(debtor.port(), 4, 30).await;
    let key = age::x25519::Identity::generate();
    let mut rx = sw.dial(dial("att-busy", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    let events = until_end(&mut rx, Duration::from_secs(20)).await;
    let end = end_of(&events);
    assert_eq!(end.agent_code, Some(200));
    assert_eq!(end.debtor_code, Some(486));
    assert!(!end.bridged);
    assert_eq!(end.ended_by, EndedBy::Debtor);
    assert!(end.recording.is_none());
    assert_eq!(outcome(&end), Some(Outcome::Busy));
    assert!(position(&events, &CallEvent::Answered(Leg::Agent)).is_some());
    assert!(position(&events, &CallEvent::Bridged).is_none());
    assert!(agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some(), "agent leg hung up");
    assert_eq!(debtor.calls_received(), 1);
    sw.shutdown().await;
}

/// A UAS that answers every INVITE with the status in the last three digits of its user part.
/// With `challenge`, an INVITE without credentials first gets 401 and a digest challenge; the
/// Authorization headers it then receives are kept in the returned list.
async fn code_uas(
    challenge: bool,
) -> (SocketAddr, tokio_util::sync::CancellationToken, Arc<std::sync::Mutex<Vec<String>>>) {
    use rsipstack::sip::prelude::HeadersExt;
    use rsipstack::sip::{Header, Method, StatusCode};
    use rsipstack::transport::TransportLayer;
    use rsipstack::transport::udp::UdpConnection;

    let token = tokio_util::sync::CancellationToken::new();
    let transport = TransportLayer::new(token.child_token());
    let conn =
        UdpConnection::create_connection("127.0.0.1:0".parse().unwrap(), None, Some(token.child_token()))
            .await
            .unwrap();
    let addr: SocketAddr = conn.get_addr().addr.to_string().parse().unwrap();
    transport.add_transport(conn.into());
    let endpoint = Arc::new(
        rsipstack::EndpointBuilder::new()
            .with_cancel_token(token.clone())
            .with_transport_layer(transport)
            .build(),
    );
    let mut incoming = endpoint.incoming_transactions().unwrap();
    let auths = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = auths.clone();
    let serve = endpoint.clone();
    tokio::spawn(async move { serve.serve().await });
    tokio::spawn(async move {
        while let Some(mut tx) = incoming.recv().await {
            if tx.original.method != Method::Invite {
                if tx.original.method != Method::Ack {
                    let _ = tx.reply(StatusCode::OK).await;
                }
                continue;
            }
            let user =
                tx.original.to_header().ok().and_then(|t| t.uri().ok()).and_then(|u| u.auth).map(|a| a.user);
            let code: u16 =
                user.as_deref().and_then(|u| u.get(u.len().saturating_sub(3)..)?.parse().ok()).unwrap_or(500);
            let auth = tx.original.headers.iter().find_map(|h| match h {
                Header::Authorization(a) => Some(a.to_string()),
                _ => None,
            });
            if challenge && auth.is_none() {
                let www = Header::Other(
                    "WWW-Authenticate".into(),
                    r#"Digest realm="trunk", nonce="5f1c0ffee", algorithm=MD5, qop="auth""#.into(),
                );
                let _ = tx.reply_with(StatusCode::Unauthorized, vec![www], None).await;
                tokio::spawn(async move { while tx.receive().await.is_some() {} });
                continue;
            }
            if let Some(a) = auth {
                seen.lock().unwrap().push(a);
            }
            tokio::spawn(async move {
                let _ = tx.reply(StatusCode::Ringing).await;
                let _ = tx.reply(StatusCode::from(code)).await;
                // Keep the transaction until the ACK.
                while tx.receive().await.is_some() {}
            });
        }
        drop(endpoint);
    });
    (addr, token, auths)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debtor_status_codes_map_to_outcomes() {
    if !peer::baresip_or_skip("debtor_status_codes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (uas, stop_uas, _) = code_uas(false).await;
    let agent = peer("c3", Answer::Auto).await;
    let sw = switch(uas.port(), 4, 30).await;
    let key = age::x25519::Identity::generate();
    let cases = [
        (404, Outcome::InvalidNumber),
        (480, Outcome::NoAnswer),
        (410, Outcome::Suspended),
        (503, Outcome::NotConnected),
        (600, Outcome::Busy),
    ];
    for (i, (code, want)) in cases.into_iter().enumerate() {
        let number = format!("1390000{code}");
        let mut rx =
            sw.dial(dial(&format!("att-code-{i}"), agent.uri(), &number, dir.path(), &key)).await.unwrap();
        let events = until_end(&mut rx, Duration::from_secs(20)).await;
        let end = end_of(&events);
        assert_eq!(end.agent_code, Some(200), "{code}");
        assert_eq!(end.debtor_code, Some(code));
        assert!(!end.bridged);
        assert_eq!(outcome(&end), Some(want), "{code}");
        assert!(
            agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some(),
            "agent hung up after {code}"
        );
        // sndfile-free peer, but baresip still needs a moment between calls.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(agent.calls_received(), cases.len());
    stop_uas.cancel();
    sw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debtor_ring_timeout_is_cancelled_as_no_answer() {
    if !peer::baresip_or_skip("ring_timeout") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let agent = peer("c4", Answer::Auto).await;
    let debtor = peer(NUMBER, Answer::Ignore).await;
    let sw = switch(debtor.port(), 4, 15).await;
    let key = age::x25519::Identity::generate();
    let mut rx = sw.dial(dial("att-ring", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    let events = until_end(&mut rx, Duration::from_secs(40)).await;
    let end = end_of(&events);
    assert_eq!(end.agent_code, Some(200));
    assert!(end.ring_timeout);
    assert!(end.debtor_code == Some(487) || end.debtor_code.is_none(), "{:?}", end.debtor_code);
    assert!(end.ring_secs >= 15.0 && end.ring_secs < 18.0, "rang {} s", end.ring_secs);
    assert_eq!(end.ended_by, EndedBy::Switch);
    assert_eq!(outcome(&end), Some(Outcome::NoAnswer));
    assert!(position(&events, &CallEvent::Ringing(Leg::Debtor)).is_some());
    // The CANCEL reached the debtor's phone, and the agent was hung up.
    assert!(debtor.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some(), "debtor saw the CANCEL");
    assert!(agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());
    sw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_refusing_withdraws_the_attempt_without_calling_the_debtor() {
    if !peer::baresip_or_skip("agent_refuses") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let agent = peer("c5", Answer::Reject).await;
    let debtor = peer(NUMBER, Answer::Auto).await;
    let sw = switch(debtor.port(), 4, 30).await;
    let key = age::x25519::Identity::generate();
    let mut rx = sw.dial(dial("att-agent-busy", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    let events = until_end(&mut rx, Duration::from_secs(20)).await;
    let end = end_of(&events);
    assert_eq!(end.agent_code, Some(486));
    assert_eq!(end.debtor_code, None);
    assert_eq!(end.ended_by, EndedBy::Agent);
    assert_eq!(outcome(&end), None);
    assert!(position(&events, &CallEvent::Answered(Leg::Agent)).is_none());

    // An agent phone that only rings, hung up by the switch: 487, still withdrawn.
    let ringing = peer("c6", Answer::Ignore).await;
    let mut rx = sw.dial(dial("att-agent-ring", ringing.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
    assert_eq!(first, CallEvent::Ringing(Leg::Agent));
    assert!(sw.hangup("att-agent-ring"));
    let events = until_end(&mut rx, Duration::from_secs(20)).await;
    let end = end_of(&events);
    assert_eq!(end.agent_code, Some(487));
    assert_eq!(end.ended_by, EndedBy::Switch);
    assert_eq!(outcome(&end), None);
    assert!(ringing.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(debtor.calls_received(), 0, "the debtor was never dialled");
    assert!(!sw.hangup("att-agent-ring"));
    sw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_limit_refuses_a_second_call() {
    if !peer::baresip_or_skip("call_limit") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let agent = peer("c7", Answer::Ignore).await;
    let sw = switch(agent.port() + 10, 1, 30).await;
    let key = age::x25519::Identity::generate();
    let mut rx = sw.dial(dial("att-l1", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    assert_eq!(sw.active(), 1);
    let err = sw.dial(dial("att-l2", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap_err();
    assert_eq!(err.code(), "CALL_LIMIT");
    assert!(sw.hangup("att-l1"));
    let end = end_of(&until_end(&mut rx, Duration::from_secs(20)).await);
    assert_eq!(end.ended_by, EndedBy::Switch);
    idle(&sw).await;
    sw.shutdown().await;
}

#[tokio::test]
async fn bad_configuration_and_requests_are_config_errors() {
    let trunk = Trunk { uri_template: "sip:{number}@127.0.0.1:5170".into(), username: None, password: None };
    let mut cfg = SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk);
    cfg.ring_secs = 10;
    let err = Switch::start(cfg.clone()).await.err().expect("ring time below 15 s is refused");
    assert_eq!(err.code(), "CALL_CONFIG");
    cfg.ring_secs = 15;
    let sw = Switch::start(cfg).await.unwrap();
    assert_ne!(sw.local_addr().port(), 0);
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let mut d = dial("x", "sip:c@127.0.0.1:5999", NUMBER, dir.path(), &key);
    d.vault_recipient = "age1notakey".into();
    assert_eq!(sw.dial(d).await.unwrap_err().code(), "CALL_CONFIG");
    let d = dial("x", "tel:+123", NUMBER, dir.path(), &key);
    assert_eq!(sw.dial(d).await.unwrap_err().code(), "CALL_CONFIG");
    let d = dial("x", "sip:c@127.0.0.1:5999", "12@evil", dir.path(), &key);
    assert_eq!(sw.dial(d).await.unwrap_err().code(), "CALL_CONFIG");
    idle(&sw).await;
    sw.shutdown().await;
}

/// Reads events until `Bridged`, failing on `Ended`.
async fn until_bridged(rx: &mut mpsc::Receiver<CallEvent>) -> Vec<CallEvent> {
    let mut out = Vec::new();
    loop {
        let ev =
            tokio::time::timeout(Duration::from_secs(15), rx.recv()).await.expect("bridged in time").unwrap();
        assert!(!matches!(ev, CallEvent::Ended(_)), "ended early: {ev:?}");
        let bridged = ev == CallEvent::Bridged;
        out.push(ev);
        if bridged {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keypad_digits_are_relayed_and_the_agent_hanging_up_ends_both_legs() {
    if !peer::baresip_or_skip("dtmf_and_agent_hangup") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let agent = peer("c8", Answer::Auto).await;
    let debtor = peer(NUMBER, Answer::Auto).await;
    let sw = switch(debtor.port(), 4, 30).await;
    let key = age::x25519::Identity::generate();
    let mut rx = sw.dial(dial("att-dtmf", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    until_bridged(&mut rx).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The debtor presses 5 then #: the switch reports both and the collector's phone hears them.
    debtor.command("sndcode", "5#").await.unwrap();
    let mut digits = Vec::new();
    while digits.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("digits in time").unwrap()
        {
            CallEvent::Dtmf { leg, digit } => {
                assert_eq!(leg, Leg::Debtor);
                digits.push(digit);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(digits, vec!['5', '#']);
    let heard = agent.wait_for("CALL_DTMF_START", Duration::from_secs(5)).await.expect("agent heard a digit");
    assert_eq!(heard.param, "5");

    agent.hangup().await.unwrap();
    let end = end_of(&until_end(&mut rx, Duration::from_secs(15)).await);
    assert_eq!(end.ended_by, EndedBy::Agent);
    assert!(end.bridged);
    assert!(end.recording.is_some());
    assert_eq!(outcome(&end), Some(Outcome::Conversation));
    assert!(debtor.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some(), "debtor leg hung up");
    sw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_length_limit_ends_a_bridged_call() {
    if !peer::baresip_or_skip("max_call_secs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let agent = peer("c9", Answer::Auto).await;
    let debtor = peer(NUMBER, Answer::Auto).await;
    let trunk = Trunk {
        uri_template: format!("sip:{{number}}@127.0.0.1:{}", debtor.port()),
        username: None,
        password: None,
    };
    let mut cfg = SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk);
    cfg.max_call_secs = 3;
    let sw = Switch::start(cfg).await.unwrap();
    let key = age::x25519::Identity::generate();
    let dialled = Instant::now();
    let mut rx = sw.dial(dial("att-long", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    let end = end_of(&until_end(&mut rx, Duration::from_secs(15)).await);
    let took = dialled.elapsed().as_secs_f64();
    assert!(end.bridged);
    assert_eq!(end.ended_by, EndedBy::Switch);
    assert!((2.9..4.0).contains(&took), "ended after {took} s");
    assert!(agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());
    assert!(debtor.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());
    sw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trunk_digest_challenge_is_answered() {
    if !peer::baresip_or_skip("trunk_digest") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (uas, stop_uas, auths) = code_uas(true).await;
    let agent = peer("c10", Answer::Auto).await;
    let trunk = Trunk {
        uri_template: format!("sip:{{number}}@127.0.0.1:{}", uas.port()),
        username: Some("trunkuser".into()),
        password: Some("s3cret".into()),
    };
    let sw = Switch::start(SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk)).await.unwrap();
    let key = age::x25519::Identity::generate();
    let mut rx = sw.dial(dial("att-auth", agent.uri(), "1390000404", dir.path(), &key)).await.unwrap();
    let end = end_of(&until_end(&mut rx, Duration::from_secs(20)).await);
    assert_eq!(end.debtor_code, Some(404), "the challenge was answered and the retried INVITE got 404");
    assert_eq!(outcome(&end), Some(Outcome::InvalidNumber));
    let auths = auths.lock().unwrap().clone();
    assert_eq!(auths.len(), 1, "{auths:?}");
    assert!(auths[0].contains("username=\"trunkuser\""), "{}", auths[0]);
    assert!(auths[0].contains("realm=\"trunk\""), "{}", auths[0]);
    stop_uas.cancel();
    sw.shutdown().await;
}

/// What a peer heard (baresip's `…-dec.wav`), mono.
fn heard(dir: &Path) -> Vec<i16> {
    let path = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("dec"))
        .expect("baresip sndfile wrote the decoded audio");
    let wav = hound::WavReader::open(&path).unwrap();
    let ch = usize::from(wav.spec().channels);
    wav.into_samples::<i16>().map(Result::unwrap).step_by(ch).collect()
}

/// 1.5 s of `audio` from 1 s after `from`, given that its last sample was at `last`.
fn window(audio: &[i16], last: Instant, from: Instant) -> &[i16] {
    let back = last.duration_since(from).as_secs_f64() - 1.0;
    let start = audio.len().saturating_sub((back * 8000.0) as usize);
    &audio[start..(start + 12_000).min(audio.len())]
}

const C_PERIOD: f64 = 0.35;

fn signal_c() -> Vec<i16> {
    peer::chirp(3400.0, 1200.0, C_PERIOD, C_PERIOD)
}

async fn next_supervised(
    rx: &mut mpsc::Receiver<CallEvent>,
) -> (Instant, Option<daylight_calls::Supervision>) {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(15), rx.recv()).await.expect("in time").unwrap();
        match ev {
            CallEvent::Supervised(mode) => return (Instant::now(), mode),
            CallEvent::Ended(e) => panic!("ended early: {e:?}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_whispers_and_barges_in() {
    use daylight_calls::Supervision::{Barge, Listen, Whisper};
    if !peer::baresip_or_skip("supervision") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut phones = Vec::new();
    for (name, f0, f1, period) in
        [("c1", 300.0, 1500.0, A_PERIOD), (NUMBER, 2500.0, 700.0, B_PERIOD), ("s1", 3400.0, 1200.0, C_PERIOD)]
    {
        let wav = dir.path().join(format!("{name}.wav"));
        peer::chirp_wav(&wav, f0, f1, period, 120.0).unwrap();
        let rec = dir.path().join(format!("{name}-rec"));
        std::fs::create_dir_all(&rec).unwrap();
        let mut cfg = PeerConfig::new(name, 0);
        cfg.play = Some(wav);
        cfg.record_dir = Some(rec.clone());
        phones.push((Peer::spawn(cfg).await.unwrap(), rec));
    }
    let [(agent, agent_rec), (debtor, debtor_rec), (sup, sup_rec)] = <[_; 3]>::try_from(phones).ok().unwrap();
    let sw = switch(debtor.port(), 4, 30).await;
    let key = age::x25519::Identity::generate();

    // Nothing to supervise before the bridge, nor a call that does not exist.
    let mut rx = sw.dial(dial("att-sup", agent.uri(), NUMBER, dir.path(), &key)).await.unwrap();
    assert_eq!(sw.supervise("att-sup", sup.uri(), Listen).unwrap_err().code(), "CALL_NOT_BRIDGED");
    assert_eq!(sw.supervise("att-none", sup.uri(), Listen).unwrap_err().code(), "CALL_NOT_FOUND");
    until_bridged(&mut rx).await;
    let bridged = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;

    sw.supervise("att-sup", sup.uri(), Listen).unwrap();
    // One supervisor at a time.
    let other = "sip:s2@127.0.0.1:5999";
    assert_eq!(sw.supervise("att-sup", other, Listen).unwrap_err().code(), "CALL_SUPERVISED");
    let (t_listen, m) = next_supervised(&mut rx).await;
    assert_eq!(m, Some(Listen));
    assert_eq!(sw.supervisor_of("att-sup").as_deref(), Some(sup.uri()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    sw.supervise("att-sup", sup.uri(), Whisper).unwrap();
    let (t_whisper, m) = next_supervised(&mut rx).await;
    assert_eq!(m, Some(Whisper));
    tokio::time::sleep(Duration::from_secs(3)).await;
    sw.supervise("att-sup", sup.uri(), Barge).unwrap();
    let (t_barge, m) = next_supervised(&mut rx).await;
    assert_eq!(m, Some(Barge));
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The supervisor leaves; the call goes on.
    assert!(sw.end_supervision("att-sup"));
    let (_, m) = next_supervised(&mut rx).await;
    assert_eq!(m, None);
    let sup_closed =
        sup.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.expect("supervisor hung up").at;
    assert_eq!(sw.supervisor_of("att-sup"), None);
    assert_eq!(sw.active(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sw.hangup("att-sup"));
    let end = end_of(&until_end(&mut rx, Duration::from_secs(15)).await);
    assert!(end.bridged);
    let agent_closed = agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.unwrap().at;
    let debtor_closed = debtor.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.unwrap().at;

    let (a, b, c) = (signal_a(), signal_b(), signal_c());
    // Each signal's best over the window's three half-seconds: a jitter buffer that drops or
    // stretches a packet mid-window (a loaded machine) shifts the lag, and one lag for the whole
    // window would halve a signal that is there. The "never hears" checks get stricter by it.
    let report = |who: &str, phase: &str, w: &[i16]| {
        let mut r = [0.0f64; 3];
        for part in w.chunks(4_000).filter(|p| p.len() >= 2_000) {
            for (best, signal) in r.iter_mut().zip([&a, &b, &c]) {
                *best = best.max(best_correlation(part, signal));
            }
        }
        eprintln!("{who} in {phase}: A {:.3} B {:.3} C {:.3}", r[0], r[1], r[2]);
        r
    };
    // The supervisor heard both parties throughout.
    let s = heard(&sup_rec);
    for (phase, at) in [("listen", t_listen), ("whisper", t_whisper), ("barge", t_barge)] {
        let [ca, cb, _] = report("supervisor", phase, window(&s, sup_closed, at));
        assert!(ca >= 0.5 && cb >= 0.5, "the supervisor hears both sides in {phase}: {ca} {cb}");
    }
    // The collector: the debtor alone while listened to, the supervisor too from the whisper on.
    let h = heard(&agent_rec);
    let [_, cb, cc] = report("collector", "listen", window(&h, agent_closed, t_listen));
    assert!(cb >= 0.9 && cc < 0.3, "listen: the collector hears only the debtor: {cb} {cc}");
    for (phase, at) in [("whisper", t_whisper), ("barge", t_barge)] {
        let [_, cb, cc] = report("collector", phase, window(&h, agent_closed, at));
        assert!(
            cb >= 0.5 && cc >= 0.5,
            "{phase}: the collector hears the debtor and the supervisor: {cb} {cc}"
        );
    }
    // The debtor: never the supervisor, until the barge.
    let h = heard(&debtor_rec);
    for (phase, at) in [("listen", t_listen), ("whisper", t_whisper)] {
        let [ca, _, cc] = report("debtor", phase, window(&h, debtor_closed, at));
        assert!(ca >= 0.9 && cc < 0.3, "{phase}: the debtor hears only the collector: {ca} {cc}");
    }
    let [ca, _, cc] = report("debtor", "barge", window(&h, debtor_closed, t_barge));
    assert!(ca >= 0.5 && cc >= 0.5, "barge: the debtor hears the collector and the supervisor: {ca} {cc}");

    // The recording: the barging supervisor on the bank's (left) channel, never the whisper.
    let plain = decrypt(&end.recording.expect("recording").path, &key).unwrap();
    let samples: Vec<i16> =
        hound::WavReader::new(&plain[..]).unwrap().into_samples::<i16>().map(Result::unwrap).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let at = |t: Instant, ch: &[i16]| -> Vec<i16> {
        let start = ((t.duration_since(bridged).as_secs_f64() + 1.0) * 8000.0) as usize;
        ch[start.min(ch.len())..(start + 12_000).min(ch.len())].to_vec()
    };
    for (phase, t) in [("listen", t_listen), ("whisper", t_whisper)] {
        let [ca, _, cc] = report("recording left", phase, &at(t, &left));
        assert!(ca >= 0.9 && cc < 0.3, "{phase}: the left channel is the collector alone: {ca} {cc}");
    }
    let [ca, _, cc] = report("recording left", "barge", &at(t_barge, &left));
    assert!(
        ca >= 0.5 && cc >= 0.5,
        "barge: the left channel holds the collector and the supervisor: {ca} {cc}"
    );
    let [_, cb, cc] = report("recording right", "barge", &at(t_barge, &right));
    assert!(cb >= 0.9 && cc < 0.3, "the right channel is the debtor alone: {cb} {cc}");
    sw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_the_trunk_is_routed_to_the_first_phone_that_answers_and_recorded() {
    use daylight_calls::Route;
    if !peer::baresip_or_skip("inbound") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a_wav = dir.path().join("a.wav");
    let b_wav = dir.path().join("b.wav");
    peer::chirp_wav(&a_wav, 300.0, 1500.0, A_PERIOD, 120.0).unwrap();
    peer::chirp_wav(&b_wav, 2500.0, 700.0, B_PERIOD, 120.0).unwrap();
    let busy = peer("c7", Answer::Reject).await;
    let mut agent_cfg = PeerConfig::new("c1", 0);
    agent_cfg.play = Some(a_wav);
    let agent = Peer::spawn(agent_cfg).await.unwrap();
    let mut caller_cfg = PeerConfig::new(NUMBER, 0);
    caller_cfg.play = Some(b_wav);
    caller_cfg.codecs = "PCMA".into();
    let caller = Peer::spawn(caller_cfg).await.unwrap();
    let sw = switch(caller.port(), 4, 30).await;
    let key = age::x25519::Identity::generate();
    let dialled = format!("sip:02160000000@{}", sw.local_addr());

    // Nobody takes calls in yet: declined.
    caller.command("dial", &dialled).await.unwrap();
    let closed = caller.wait_for("CALL_CLOSED", Duration::from_secs(10)).await.expect("declined");
    assert!(closed.param.contains("603"), "{closed:?}");

    // Routed: the first phone is busy, the second answers; only then is the caller answered.
    let mut incoming = sw.incoming();
    caller.command("dial", &dialled).await.unwrap();
    let inc = tokio::time::timeout(Duration::from_secs(10), incoming.recv()).await.expect("routed").unwrap();
    assert_eq!((inc.from.as_str(), inc.to.as_str()), (NUMBER, "02160000000"));
    let record_to = dir.path().join("in.wav.age");
    let route = Route::Ring {
        agents: vec![busy.uri().to_owned(), agent.uri().to_owned()],
        record_to: record_to.clone(),
        vault_recipient: key.to_public().to_string(),
    };
    inc.route.send(route).unwrap();
    let mut rx = inc.events;
    let events = until_bridged(&mut rx).await;
    assert_eq!(events.iter().filter(|e| matches!(e, CallEvent::Offered(_))).count(), 2, "{events:?}");
    assert!(events.contains(&CallEvent::Offered(1)) && events.contains(&CallEvent::Answered(Leg::Agent)));
    let answered = agent.history().into_iter().find(|e| e.kind == "CALL_LOCAL_SDP").expect("agent answered");
    let established =
        caller.wait_for("CALL_ESTABLISHED", Duration::from_secs(5)).await.expect("caller answered");
    assert!(answered.at <= established.at, "the caller was answered before a collector");
    assert!(busy.calls_received() == 1, "the busy phone was tried first");
    let bridged = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hung_up = Instant::now();
    caller.hangup().await.unwrap();
    let end = end_of(&until_end(&mut rx, Duration::from_secs(15)).await);
    assert_eq!(end.ended_by, EndedBy::Debtor);
    assert!(end.bridged);
    let measured = hung_up.duration_since(bridged).as_secs_f64();
    assert!((end.talk_secs - measured).abs() < 0.5, "talk {} vs {measured}", end.talk_secs);
    assert!(agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some(), "the collector hung up");
    assert!(caller.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());
    idle(&sw).await;
    // Recorded as any call: left the collector, right the caller.
    let rec = end.recording.expect("recording");
    let plain = decrypt(&rec.path, &key).unwrap();
    let samples: Vec<i16> =
        hound::WavReader::new(&plain[..]).unwrap().into_samples::<i16>().map(Result::unwrap).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let window = 4000..(4000 + 12000).min(left.len() - 2000);
    let cl = best_correlation(&left[window.clone()], &signal_a());
    let cr = best_correlation(&right[window], &signal_b());
    eprintln!("inbound correlation: left~A {cl:.4}, right~B {cr:.4}");
    assert!(cl >= 0.99 && cr >= 0.99, "{cl} {cr}");

    // Refused by the route: the caller hears 480, nobody rings.
    caller.command("dial", &dialled).await.unwrap();
    let inc = tokio::time::timeout(Duration::from_secs(10), incoming.recv()).await.expect("routed").unwrap();
    inc.route.send(Route::Reject(480)).unwrap();
    let mut rx = inc.events;
    let end = end_of(&until_end(&mut rx, Duration::from_secs(10)).await);
    assert!(!end.bridged && end.recording.is_none());
    let closed = caller.wait_for("CALL_CLOSED", Duration::from_secs(10)).await.expect("refused");
    assert!(closed.param.contains("480"), "{closed:?}");
    assert_eq!(agent.calls_received(), 1);
    idle(&sw).await;

    // A queue: the caller waits, ringing, while nobody is sent; the phone sent later answers.
    caller.command("dial", &dialled).await.unwrap();
    let inc = tokio::time::timeout(Duration::from_secs(10), incoming.recv()).await.expect("routed").unwrap();
    let (next, agents) = mpsc::channel(1);
    let route = Route::Queue {
        agents,
        record_to: dir.path().join("queued.wav.age"),
        vault_recipient: key.to_public().to_string(),
    };
    inc.route.send(route).unwrap();
    let mut rx = inc.events;
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("an event").unwrap();
    assert_eq!(first, CallEvent::Queued, "the switch asks the queue for a phone");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(agent.calls_received(), 1, "nobody rung while the queue sends nobody");
    next.send(agent.uri().to_owned()).await.unwrap();
    let events = until_bridged(&mut rx).await;
    assert!(events.contains(&CallEvent::Offered(0)), "{events:?}");
    assert_eq!(agent.calls_received(), 2);
    caller.hangup().await.unwrap();
    let end = end_of(&until_end(&mut rx, Duration::from_secs(15)).await);
    assert!(end.bridged && end.recording.is_some() && end.ended_by == EndedBy::Debtor, "{end:?}");
    idle(&sw).await;

    // The caller hanging up while queued ends the call: nobody is rung, nothing recorded.
    caller.command("dial", &dialled).await.unwrap();
    let inc = tokio::time::timeout(Duration::from_secs(10), incoming.recv()).await.expect("routed").unwrap();
    let (_next, agents) = mpsc::channel(1);
    let route = Route::Queue {
        agents,
        record_to: dir.path().join("left.wav.age"),
        vault_recipient: key.to_public().to_string(),
    };
    inc.route.send(route).unwrap();
    let mut rx = inc.events;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    caller.hangup().await.unwrap();
    let end = end_of(&until_end(&mut rx, Duration::from_secs(15)).await);
    assert!(!end.bridged && end.recording.is_none() && end.ended_by == EndedBy::Debtor, "{end:?}");
    assert_eq!(agent.calls_received(), 2);
    idle(&sw).await;
    sw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_loopback_phones_answer_ring_busy_and_hang_up() {
    let dir = tempfile::tempdir().unwrap();
    let phones = daylight_calls::loopback::LoopbackPhones::start(Duration::from_secs(2)).await.unwrap();
    let trunk = Trunk { uri_template: phones.trunk(), username: None, password: None };
    let mut cfg = SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk);
    cfg.max_calls = 4;
    let sw = Switch::start(cfg).await.unwrap();
    let key = age::x25519::Identity::generate();
    let agent = phones.uri("e001");
    // A debtor who answers, talks and hangs up.
    let mut rx = sw.dial(dial("lb-1", &agent, "13800138000", dir.path(), &key)).await.unwrap();
    let end = end_of(&until_end(&mut rx, Duration::from_secs(20)).await);
    assert!(end.bridged, "{end:?}");
    assert_eq!(end.ended_by, EndedBy::Debtor);
    assert!((1.5..3.0).contains(&end.talk_secs), "{end:?}");
    let rec = end.recording.expect("recorded");
    let plain = decrypt(&rec.path, &key).unwrap();
    let samples: Vec<i16> =
        hound::WavReader::new(&plain[..]).unwrap().into_samples::<i16>().map(Result::unwrap).collect();
    assert!(samples.iter().step_by(2).any(|s| s.abs() > 1000), "the collector's phone beeps");
    assert!(samples.iter().skip(1).step_by(2).any(|s| s.abs() > 1000), "the debtor's phone beeps");
    // Busy, and 空号.
    let mut rx = sw.dial(dial("lb-2", &agent, "13800138003", dir.path(), &key)).await.unwrap();
    assert_eq!(outcome(&end_of(&until_end(&mut rx, Duration::from_secs(20)).await)), Some(Outcome::Busy));
    let mut rx = sw.dial(dial("lb-3", &agent, "13800138005", dir.path(), &key)).await.unwrap();
    assert_eq!(
        outcome(&end_of(&until_end(&mut rx, Duration::from_secs(20)).await)),
        Some(Outcome::InvalidNumber)
    );
    idle(&sw).await;
    sw.shutdown().await;

    // A robot call to a debtor who stays on the line: they press 1 after 4 s, and the robot
    // hands them to a collector's phone, which rings 1 s and answers.
    let phones = daylight_calls::loopback::LoopbackPhones::start(Duration::from_secs(15)).await.unwrap();
    let trunk = Trunk { uri_template: phones.trunk(), username: None, password: None };
    let sw = Switch::start(SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk)).await.unwrap();
    let (mut rx, robot) = sw.robot(dial("lb-robot", "", "13800138000", dir.path(), &key)).await.unwrap();
    let t0 = Instant::now();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(15), rx.recv()).await.expect("a key").unwrap();
        assert!(!matches!(ev, CallEvent::Ended(_)), "ended early: {ev:?}");
        if let CallEvent::Dtmf { leg: Leg::Debtor, digit: '1' } = ev {
            break;
        }
    }
    assert!((5.0..10.0).contains(&t0.elapsed().as_secs_f64()), "ring 3 s, then the key 4 s after answering");
    robot.transfer(&phones.uri("e001")).await;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("bridged").unwrap();
        assert!(!matches!(ev, CallEvent::Ended(_)), "ended early: {ev:?}");
        if ev == CallEvent::Bridged {
            break;
        }
    }
    robot.hangup().await;
    let end = end_of(&until_end(&mut rx, Duration::from_secs(10)).await);
    assert!(end.bridged && end.recording.is_some(), "{end:?}");
    idle(&sw).await;
    sw.shutdown().await;
}

/// The robot's prompt: a chirp unlike the two phones'.
fn signal_prompt() -> Vec<i16> {
    peer::chirp(1000.0, 3000.0, 0.2, 0.2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_call_plays_its_prompt_hears_a_key_and_transfers_on_one_recording() {
    if !peer::baresip_or_skip("robot call") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a_wav = dir.path().join("a.wav");
    let b_wav = dir.path().join("b.wav");
    peer::chirp_wav(&a_wav, 300.0, 1500.0, A_PERIOD, 120.0).unwrap();
    peer::chirp_wav(&b_wav, 2500.0, 700.0, B_PERIOD, 120.0).unwrap();
    let mut agent_cfg = PeerConfig::new("c1", 0);
    agent_cfg.play = Some(a_wav);
    let agent = Peer::spawn(agent_cfg).await.unwrap();
    let mut debtor_cfg = PeerConfig::new(NUMBER, 0);
    debtor_cfg.play = Some(b_wav);
    let debtor = Peer::spawn(debtor_cfg).await.unwrap();
    let sw = switch(debtor.port(), 4, 30).await;
    let key = age::x25519::Identity::generate();

    // The robot calls the debtor: no collector's phone rings first.
    let (mut rx, robot) = sw.robot(dial("robot-1", "", NUMBER, dir.path(), &key)).await.unwrap();
    let answered = loop {
        let ev = tokio::time::timeout(Duration::from_secs(15), rx.recv()).await.expect("answered").unwrap();
        assert!(!matches!(ev, CallEvent::Ended(_)), "ended early: {ev:?}");
        if ev == CallEvent::Answered(Leg::Debtor) {
            break Instant::now();
        }
    };
    assert_eq!(agent.calls_received(), 0, "nobody but the debtor is called");
    // A 3-second prompt, played whole.
    let prompt: Vec<i16> = signal_prompt().iter().copied().cycle().take(3 * 8000).collect();
    let seq = robot.say(prompt.into()).await;
    let said = loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("said").unwrap();
        if ev == CallEvent::Said(seq) {
            break Instant::now();
        }
    };
    let played = said.duration_since(answered).as_secs_f64();
    assert!((2.9..4.0).contains(&played), "the prompt took {played} s");
    // The debtor presses 1: the robot hears it.
    debtor.command("sndcode", "1").await.unwrap();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a key").unwrap();
        if let CallEvent::Dtmf { leg, digit } = ev {
            assert_eq!((leg, digit), (Leg::Debtor, '1'));
            break;
        }
    }
    // A transfer to a busy phone fails, and the robot keeps the call.
    let busy = peer("c7", Answer::Reject).await;
    robot.transfer(busy.uri()).await;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("refused").unwrap();
        match ev {
            CallEvent::TransferFailed(code) => {
                assert_eq!(code, Some(486));
                break;
            }
            CallEvent::Ended(e) => panic!("ended early: {e:?}"),
            _ => {}
        }
    }
    // Then to the collector: bridged in on the same call.
    robot.transfer(agent.uri()).await;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("bridged").unwrap();
        match ev {
            CallEvent::Bridged => break,
            CallEvent::Ended(e) => panic!("ended early: {e:?}"),
            _ => {}
        }
    }
    assert_eq!((busy.calls_received(), agent.calls_received()), (1, 1));
    tokio::time::sleep(Duration::from_secs(3)).await;
    debtor.hangup().await.unwrap();
    let end = end_of(&until_end(&mut rx, Duration::from_secs(15)).await);
    assert!(end.bridged && end.ended_by == EndedBy::Debtor, "{end:?}");
    assert!(
        agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some(),
        "the collector was hung up"
    );
    idle(&sw).await;

    // One recording of the whole call: the prompt, then the collector, on the left; the
    // debtor on the right throughout.
    let rec = end.recording.expect("recorded");
    let plain = decrypt(&rec.path, &key).unwrap();
    let samples: Vec<i16> =
        hound::WavReader::new(&plain[..]).unwrap().into_samples::<i16>().map(Result::unwrap).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert!(left.len() as f64 / 8000.0 >= played + 3.0, "{} s recorded", left.len() as f64 / 8000.0);
    let prompt_part = &left[800..2 * 8000];
    let agent_part = &left[left.len() - 2 * 8000..left.len() - 4000];
    let c_prompt = best_correlation(prompt_part, &signal_prompt());
    let c_agent = best_correlation(agent_part, &signal_a());
    let c_debtor = best_correlation(&right[8000..8000 + 12000], &signal_b());
    eprintln!("robot recording: prompt {c_prompt:.4}, collector {c_agent:.4}, debtor {c_debtor:.4}");
    assert!(c_prompt >= 0.99 && c_agent >= 0.99 && c_debtor >= 0.99, "{c_prompt} {c_agent} {c_debtor}");
    sw.shutdown().await;
}
