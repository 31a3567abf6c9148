//! `daylight serve` with a switch, killed in the middle of a call and started again: the call is
//! recorded as interrupted, never lost. Then the vault's retention purge with a given clock and
//! a legal hold, as an administrator runs them. Real SIP on 127.0.0.1: baresip plays the
//! collector's phone and the debtor's.
//!
//! Under `CI=true` a missing baresip fails these tests; elsewhere they skip with a reason.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use daylight_calls::peer::{self, Answer, Peer, PeerConfig};
use serde_json::{Value, json};

use crate::support::*;

/// The example debtor called: case, contact point, number (customers.csv).
const CASE: &str = "CASE-C0003";
const POINT: &str = "C0003:mobile";
const NUMBER: &str = "13528765433";
/// A Tuesday, 10:00 in Shanghai: within calling hours.
const CLOCK: &str = "2026-03-03T02:00:00Z";

/// A running `daylight serve` and the address of its console.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
}

impl Server {
    pub(crate) fn start(db: &TestDb, config: &Path) -> Server {
        Server::start_with(db, config, &["--clock", CLOCK])
    }

    /// `daylight serve` with `config` and `more` arguments.
    pub(crate) fn start_with(db: &TestDb, config: &Path, more: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_daylight"))
            .args(["--db", db.url().expose(), "serve", "--bind", "127.0.0.1:0"])
            .args(more)
            .arg("--config")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("daylight serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("serve printed its address").unwrap();
            if let Some(rest) = line.split("on http://").nth(1) {
                break rest.split('/').next().unwrap().to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr }
    }

    /// SIGKILL: the process gets no chance to finish anything.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A signed-in API client (HTTP/1.1 over a plain socket, one request per connection).
pub(crate) struct Client {
    pub(crate) addr: String,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

fn http(addr: &str, method: &str, path: &str, headers: &str, body: Option<&Value>) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("response");
    let (head, rest) = raw.split_once("\r\n\r\n").expect("a head");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), rest.to_owned())
}

impl Client {
    pub(crate) fn login(addr: &str, login: &str, password: &str) -> Client {
        let (status, head, body) =
            http(addr, "POST", "/api/login", "", Some(&json!({"login": login, "password": password})));
        assert_eq!(status, 200, "{body}");
        let cookie = head
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
            .expect("a session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let csrf = serde_json::from_str::<Value>(&body).unwrap()["csrf"].as_str().unwrap().to_owned();
        Client { addr: addr.to_owned(), cookie, csrf }
    }

    pub(crate) fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let headers = format!("Cookie: {}\r\nX-CSRF-Token: {}\r\n", self.cookie, self.csrf);
        let (status, _, text) = http(&self.addr, method, path, &headers, body.as_ref());
        let body = decode_chunked(&text);
        (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
    }

    /// Polls call `id` until `f` holds of it.
    fn wait_call(&self, id: i64, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..200 {
            let (s, v) = self.call("GET", &format!("/api/calls/{id}"), None);
            assert_eq!(s, 200, "{v}");
            if f(&v) {
                return v;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("call {id} never {what}");
    }
}

/// The body of a response that may be sent in chunks.
fn decode_chunked(text: &str) -> String {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') || t.is_empty() {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

fn secret(key: &age::x25519::Identity) -> String {
    use age::secrecy::ExposeSecret;
    key.to_string().expose_secret().to_owned()
}

crate::both! {
    fn a_call_cut_off_by_a_killed_server_is_recorded_as_interrupted_and_the_vault_is_purged_after_retention(db) {
        if !peer::baresip_or_skip("kill mid-call") {
            return;
        }
        let rt = tokio::runtime::Handle::current();
        load_examples(db);
        // A rehearsal clock needs a database marked as a test (or demo) one.
        let refused = daylight(db, &["serve", "--bind", "127.0.0.1:0", "--clock", CLOCK]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("CLOCK_ON_PRODUCTION"));
        expect(db, &["init", "--purpose", "test"], 0);
        expect(db, &["user", "units", "add", "--kind", "team", "--id", "T1", "--name", "信用卡催收一组"], 0);
        let mut add = Command::new(env!("CARGO_BIN_EXE_daylight"))
            .args(["--db", db.url().expose(), "user", "add", "--login", "E900", "--name", "测试员", "--role", "collector", "--team", "T1", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        add.stdin.take().unwrap().write_all(b"Daylight-Test-2026!\n").unwrap();
        assert!(add.wait().unwrap().success());
        expect(db, &["case", "assign", "--case", CASE, "--to", "E900"], 0);

        let mut agent_cfg = PeerConfig::new("e900", 0);
        agent_cfg.answer = Answer::Auto;
        let agent: Peer = rt.block_on(Peer::spawn(agent_cfg)).expect("baresip starts");
        let mut debtor_cfg = PeerConfig::new(NUMBER, 0);
        debtor_cfg.answer = Answer::Auto;
        let debtor: Peer = rt.block_on(Peer::spawn(debtor_cfg)).expect("baresip starts");

        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        let key = age::x25519::Identity::generate();
        std::fs::write(dir.path().join("vault.key"), format!("{}\n", secret(&key))).unwrap();
        let config = dir.path().join("daylight.toml");
        let sip = peer::free_port_pair();
        std::fs::write(
            &config,
            format!(
                "[calls]\nnode = \"kill-test\"\nsip_bind = \"127.0.0.1:{sip}\"\ntrunk = \"sip:{{number}}@127.0.0.1:{debtor}\"\n\
                 caller_ids = [\"01060000000\"]\nvault = {vault:?}\nvault_recipient = \"{recipient}\"\nvault_identity = {identity:?}\n\
                 ring_secs = 15\n\n[calls.phones]\nE900 = \"{agent}\"\n",
                debtor = debtor.port(),
                recipient = key.to_public(),
                identity = dir.path().join("vault.key"),
                agent = agent.uri(),
            ),
        )
        .unwrap();

        // A call bridged, then the server killed.
        let server = Server::start(db, &config);
        let c = Client::login(&server.addr, "E900", "Daylight-Test-2026!");
        let (s, v) = c.call("POST", &format!("/api/cases/{CASE}/calls"), Some(json!({"contact_point": POINT})));
        assert_eq!(s, 202, "{v}");
        let call = v["call"]["call"].as_i64().unwrap();
        c.wait_call(call, "was bridged", |v| v["phase"] == "talking");
        server.kill();
        let started: Value = serde_json::from_str(&expect(db, &["contact", "started", "--json"], 0)).unwrap();
        assert_eq!(started.as_array().map(Vec::len), Some(1), "the cut-off call holds its place: {started}");

        // Started again: the call is an interrupted attempt, and the switch dials as before.
        let server = Server::start(db, &config);
        let c = Client::login(&server.addr, "E900", "Daylight-Test-2026!");
        let started: Value = serde_json::from_str(&expect(db, &["contact", "started", "--json"], 0)).unwrap();
        assert_eq!(started, json!([]));
        let recorded = expect(db, &["ledger", "list", "--limit", "100000", "--json"], 0);
        let cut: Vec<Value> = recorded
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["kind"] == "attempt.recorded" && e["actor"] == "daylight:switch kill-test")
            .collect();
        assert_eq!(cut.len(), 1, "{recorded}");
        let payload = match &cut[0]["payload"] {
            Value::String(s) => serde_json::from_str::<Value>(s).unwrap(),
            v => v.clone(),
        };
        assert_eq!((payload["outcome"].as_str(), payload["duration_secs"].as_u64()), (Some("interrupted"), Some(0)), "{payload}");
        assert_eq!(payload["started"], call);
        // Its collector is no longer on the call: ready again, they take a call in.
        let (s, v) = c.call("POST", "/api/me/state", Some(json!({"state": "ready"})));
        assert_eq!(s, 200, "freed from the cut-off call: {v}");

        // A call from the debtor, cut off the same way: logged interrupted at the next start,
        // its spool removed, its collector freed.
        let _ = rt.block_on(agent.hangup());
        let _ = rt.block_on(debtor.hangup());
        rt.block_on(debtor.command("dial", &format!("sip:01060000000@127.0.0.1:{sip}"))).unwrap();
        let talking = (0..150).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            c.call("GET", "/api/me/state", None).1["state"] == "talking"
                && walk(&vault).iter().any(|f| f.ends_with(".spool"))
        });
        assert!(talking, "the call in was bridged and is being recorded: {:?}", walk(&vault));
        server.kill();
        let server = Server::start(db, &config);
        let c = Client::login(&server.addr, "E900", "Daylight-Test-2026!");
        let ledger = expect(db, &["ledger", "list", "--limit", "100000", "--json"], 0);
        let cut_in: Vec<Value> = ledger
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["kind"] == "call.inbound" && e["actor"] == "daylight:switch kill-test")
            .map(|e| match &e["payload"] {
                Value::String(s) => serde_json::from_str::<Value>(s).unwrap(),
                v => v.clone(),
            })
            .collect();
        assert_eq!(cut_in.len(), 1, "{ledger}");
        assert_eq!((cut_in[0]["outcome"].as_str(), cut_in[0]["collector"].as_str()), (Some("interrupted"), Some("E900")));
        assert!(walk(&vault).is_empty(), "the cut-off recording's spool is gone: {:?}", walk(&vault));
        let (s, v) = c.call("GET", "/api/me/state", None);
        assert_eq!((s, v["state"].as_str()), (200, Some("wrap_up")), "{v}");
        let _ = rt.block_on(agent.hangup());
        let _ = rt.block_on(debtor.hangup());

        // A whole call now, hung up by the collector: recorded, in the vault.
        let (s, v) = c.call("POST", &format!("/api/cases/{CASE}/calls"), Some(json!({"contact_point": POINT})));
        assert_eq!(s, 202, "{v}");
        let call = v["call"]["call"].as_i64().unwrap();
        c.wait_call(call, "was bridged", |v| v["phase"] == "talking");
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(c.call("POST", &format!("/api/calls/{call}/hangup"), None).0, 200);
        let ended = c.wait_call(call, "ended", |v| v["phase"] == "ended");
        assert_eq!(ended["outcome"], "conversation", "{ended}");
        drop(server);
        let files: Vec<_> = walk(&vault);
        assert_eq!(files.len(), 1, "one recording and no spool left: {files:?}");
        assert!(files[0].ends_with(&format!("call-{call}.wav.age")));

        // The batch export: both calls' records, the recording as stored, a manifest of hashes.
        let zip_path = dir.path().join("export.zip");
        let z = zip_path.to_str().unwrap();
        let said = expect(db, &["recordings", "export", CASE, "--vault", vault.to_str().unwrap(), "--out", z], 0);
        assert!(said.contains("1 recording(s)"), "{said}");
        let (manifest, entries) = read_zip(&zip_path);
        let rec = &manifest["recordings"][0];
        let in_zip = &entries[rec["path"].as_str().unwrap()];
        assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(in_zip)), rec["sha256"].as_str().unwrap());
        assert_eq!(std::fs::read(&files[0]).unwrap(), *in_zip, "the ciphertext as stored");
        for f in manifest["files"].as_array().unwrap() {
            let bytes = &entries[f["path"].as_str().unwrap()];
            assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)), f["sha256"].as_str().unwrap());
        }
        let contacts = String::from_utf8(entries[&format!("{CASE}/contacts.csv")].clone()).unwrap();
        assert!(contacts.contains(",interrupted,") && contacts.contains(",conversation,"), "{contacts}");
        let again = daylight(db, &["recordings", "export", CASE, "--vault", vault.to_str().unwrap(), "--out", z]);
        assert_eq!(again.status.code(), Some(2), "an existing file is not overwritten");
        let ledger = expect(db, &["ledger", "list", "--limit", "100000", "--json"], 0);
        assert!(ledger.lines().any(|l| l.contains("recording.accessed") && l.contains("export")), "{ledger}");

        // Two years on, less a day: nothing is due. A hold keeps it past the period; released,
        // the purge deletes the audio and keeps the hash.
        let v = vault.to_str().unwrap();
        let purge = |at: &str, code: i32| -> Value {
            serde_json::from_str(&expect(db, &["recordings", "purge", "--vault", v, "--at", at, "--json"], code)).unwrap()
        };
        assert_eq!(purge("2028-03-01T00:00:00Z", 0)["recordings"], json!([]));
        expect(db, &["recordings", "hold", CASE, "--reason", "诉讼保全 (2028)京0105民初1号"], 0);
        assert!(expect(db, &["recordings", "holds"], 0).contains("民初1号"));
        assert_eq!(purge("2028-03-05T00:00:00Z", 0)["recordings"], json!([]));
        assert_eq!(walk(&vault).len(), 1);
        expect(db, &["recordings", "release", CASE], 0);
        let dry: Value = serde_json::from_str(&expect(
            db,
            &["recordings", "purge", "--vault", v, "--at", "2028-03-05T00:00:00Z", "--dry-run", "--json"],
            0,
        ))
        .unwrap();
        assert_eq!(dry["recordings"][0]["result"], "due");
        assert_eq!(walk(&vault).len(), 1, "a dry run deletes nothing");
        let done = purge("2028-03-05T00:00:00Z", 0);
        assert_eq!((done["recordings"][0]["result"].as_str(), done["retain_years"].as_u64()), (Some("purged"), Some(2)));
        assert!(walk(&vault).is_empty(), "the audio is gone");
        assert_eq!(purge("2028-03-06T00:00:00Z", 0)["recordings"], json!([]));
        let purged = expect(db, &["ledger", "list", "--limit", "100000", "--json"], 0);
        let sha = done["recordings"][0]["sha256"].as_str().unwrap();
        assert!(purged.lines().any(|l| l.contains("recording.purged") && l.contains(sha)), "{purged}");
        // Exported after the purge, the recording is listed by its hash, without audio.
        let after = dir.path().join("after.zip");
        expect(db, &["recordings", "export", CASE, "--vault", vault.to_str().unwrap(), "--out", after.to_str().unwrap()], 0);
        let (manifest, _) = read_zip(&after);
        assert!(manifest["recordings"][0]["path"].is_null() && manifest["recordings"][0]["purged_at"].is_string(), "{manifest}");
        assert_eq!(manifest["recordings"][0]["sha256"].as_str(), Some(sha));
        expect(db, &["ledger", "verify"], 0);
        drop((agent, debtor));
    }
}

/// The export's manifest and every entry's bytes.
fn read_zip(path: &Path) -> (Value, std::collections::HashMap<String, Vec<u8>>) {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut entries = std::collections::HashMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        entries.insert(f.name().unwrap().to_string(), bytes);
    }
    let manifest = serde_json::from_slice(&entries["manifest.json"]).unwrap();
    (manifest, entries)
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}
