use crate::support::*;

crate::both! {
    /// Lists and case screens show personal data masked; --reveal shows it and leaves a
    /// pii.viewed event naming who, what and why.
    fn cases_are_masked_until_revealed(db) {
        load_examples(db);
        let list = expect(db, &["cases", "list", "--json"], 0);
        let list: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
        assert_eq!(list.len(), 11);
        assert_eq!(list[0]["case"], "CASE-C0008", "worst first");
        assert_eq!(list[0]["bucket"], "M6+");
        assert_eq!(list[0]["name"], "黄**");
        let m2 = expect(db, &["cases", "list", "--bucket", "M2"], 0);
        assert_eq!(m2.lines().count(), 3, "{m2}");
        let shown = expect(db, &["cases", "show", "CASE-C0003"], 0);
        for clear in ["李娜", "440305198802031148", "13528765433"] {
            assert!(!shown.contains(clear), "{clear} shown in clear:\n{shown}");
        }
        assert!(shown.contains("李*") && shown.contains("440305********1148") && shown.contains("135****5433"), "{shown}");
        let events = |db: &TestDb| expect(db, &["ledger", "list", "--json"], 0).lines().filter(|l| l.contains("pii.viewed")).count();
        assert_eq!(events(db), 0);
        let out = daylight(db, &["cases", "show", "CASE-C0003", "--reveal", "resident_id"]);
        assert_eq!(out.status.code(), Some(2), "a reveal needs a purpose");
        let revealed = expect(db, &["cases", "show", "CASE-C0003", "--reveal", "resident_id,contact:C0003:mobile", "--purpose", "核实身份"], 0);
        assert!(revealed.contains("440305198802031148") && revealed.contains("13528765433"), "{revealed}");
        assert_eq!(events(db), 2);
        let last = expect(db, &["ledger", "list", "--after", "7", "--json"], 0);
        assert!(last.contains("\"actor\":\"tester\"") && last.contains("核实身份") && last.contains("contact:C0003:mobile"), "{last}");
        expect(db, &["ledger", "verify"], 0);
    }

    /// Changing the bucket scheme re-buckets accounts and cases and is a ledger event.
    fn bucket_scheme_changes_are_recorded(db) {
        load_examples(db);
        let out = expect(db, &["config", "set-buckets", "1,8,31,61,91,121,181"], 0);
        assert!(out.contains("bucket scheme is now 1,8,31,61,91,121,181"), "{out}");
        let s = stats(db);
        // DPD 0 0 | 5 | 18 27 | 35 52 | 68 85 | 97 | 130 160 | 200 400 under M1 = 1–7, M2 = 8–30, …
        let spread: Vec<(String, i64)> = s["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["bucket"].as_str().unwrap().to_owned(), b["accounts"].as_i64().unwrap()))
            .collect();
        let want = [("M0", 2), ("M1", 1), ("M2", 2), ("M3", 2), ("M4", 2), ("M5", 1), ("M6", 2), ("M6+", 2)];
        assert_eq!(spread, want.map(|(b, n)| (b.to_owned(), n)));
        let config = expect(db, &["config", "show", "--json"], 0);
        assert!(config.contains("1,8,31,61,91,121,181") && config.contains("tester"), "{config}");
        let bad = daylight(db, &["config", "set-buckets", "1,2,3"]);
        assert_eq!(bad.status.code(), Some(2));
        expect(db, &["ledger", "verify"], 0);
    }
}

#[test]
fn the_demo_runs_the_twin_through_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let args = [
        "demo",
        "--dir",
        demo.to_str().unwrap(),
        "--accounts",
        "2500",
        "--history-days",
        "20",
        "--days",
        "8",
        "--no-serve",
        "--bind",
        &bind,
    ];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_daylight")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for step in [
        "1. Imported the portfolio",
        "2. 20 days under the baseline",
        "3. Trained on that history",
        "4. 8 days of experiment twin-demo",
    ] {
        assert!(stdout.contains(step), "{step}:\n{stdout}");
    }
    assert!(
        stdout.contains("SIMULATED") && stdout.contains("challenger") && stdout.contains("holdout"),
        "{stdout}"
    );
    assert!(stdout.contains("contactability (") && stdout.contains("held-out AUC"), "{stdout}");
    assert!(stdout.contains("gate disagreements   0"), "{stdout}");
    let html = std::fs::read_to_string(demo.join("report.html")).unwrap();
    assert!(html.contains("SIMULATED") && html.matches("<svg").count() == 3, "report");
    // Every hint under "Next:" works as printed (the last, a 20,000-account rehearsal, is
    // left to the reader: it takes a while in a debug build).
    let hints: Vec<&str> = stdout
        .split("\nNext:\n")
        .nth(1)
        .unwrap()
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.contains(" simulate "))
        .collect();
    assert!(hints.iter().any(|h| h.contains("experiment report twin-demo")), "{hints:?}");
    assert!(hints.iter().any(|h| h.contains(" plan --date 2026-06-29 ")), "{hints:?}");
    assert!(hints.iter().any(|h| h.contains(" cases show CASE-T")), "{hints:?}");
    for hint in hints {
        let out = std::process::Command::new("sh").args(["-c", hint]).output().unwrap();
        assert!(
            out.status.success(),
            "{hint}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    console_serves_the_demo(&stdout, &bind);
    // Running it again starts over; --json says what was stored.
    let mut again = args.to_vec();
    again.push("--json");
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_daylight")).args(&again).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let json: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(json["simulated"], true);
    assert_eq!(json["stored"]["plans"], 28);
    assert_eq!(json["stored"]["gate_disagreements"], 0);
    assert_eq!(json["experiment"]["summary"]["violations"], 0);
    let arms: Vec<&String> = json["experiment"]["arms"].as_object().unwrap().keys().collect();
    assert_eq!(arms, ["challenger", "champion", "holdout"]);
    assert_eq!(json["models"][0]["model"], "contactability");
    assert!(json["models"][0]["version"] == 1, "{}", json["models"]);
}

/// The demo's console: the printed "Serve it" command serves the demo database, and the
/// printed collector signs in and finds their queue.
fn console_serves_the_demo(stdout: &str, bind: &str) {
    use std::io::{Read, Write};
    let console = stdout.split("\nConsole: ").nth(1).expect("a console section");
    assert!(console.contains("30 of its calls") || console.contains("60 of its calls"), "{console}");
    let qc = console.lines().find(|l| l.starts_with("QC: ")).expect("a QC line");
    assert!(qc.starts_with("QC: 12 sample call transcripts analysed") && !qc.contains(" 0 reviews"), "{qc}");
    let password = console
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("E001 "))
        .and_then(|l| l.split_whitespace().nth(2))
        .expect("E001's password")
        .to_owned();
    let serve = console.lines().find_map(|l| l.strip_prefix("Serve it: ")).expect("the serve command");
    let mut server = std::process::Command::new("sh").args(["-c", &format!("exec {serve}")]).spawn().unwrap();
    let request = |text: String| -> String {
        for _ in 0..100 {
            if let Ok(mut s) = std::net::TcpStream::connect(bind) {
                s.write_all(text.as_bytes()).unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).unwrap();
                return out;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the server did not listen on {bind}");
    };
    let body = format!("{{\"login\":\"E001\",\"password\":\"{password}\"}}");
    let login = request(format!(
        "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie:\n{login}"))
        .to_owned();
    let queue = request(format!(
        "GET /api/queue HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    ));
    let vault = std::path::Path::new(serve.split("--demo-phones ").nth(1).expect("demo phones").trim())
        .join("recordings");
    let dialled = dial_a_demo_phone(&request, &login, &cookie, &vault);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(queue.starts_with("HTTP/1.1 200"), "{queue}");
    let planned = queue.matches("\"window\":\"").count();
    assert_eq!(planned, 30, "E001's queue is today's plan: {queue}");
    let (outcome, recordings) = dialled;
    assert!(["conversation", "busy", "invalid_number", "no_answer"].contains(&outcome.as_str()), "{outcome}");
    if outcome == "conversation" {
        assert_eq!(recordings, 1, "the bridged call is in the vault");
    }
}

/// The demo serves with loopback phones: E001 dials the first of their cases the gate allows
/// now; a bridged call is hung up after a second. The outcome, and the recordings in `vault`.
fn dial_a_demo_phone(
    request: &dyn Fn(String) -> String,
    login: &str,
    cookie: &str,
    vault: &std::path::Path,
) -> (String, usize) {
    let json = |resp: &str| -> serde_json::Value {
        serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap_or("null")).unwrap_or_default()
    };
    let csrf = json(login)["csrf"].as_str().expect("a CSRF token").to_owned();
    let get = |path: &str| {
        json(&request(format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )))
    };
    let post = |path: &str, body: &str| {
        request(format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    };
    let queue = get("/api/queue");
    for item in queue.as_array().expect("the queue") {
        let case = item["case"].as_str().unwrap();
        let detail = get(&format!("/api/cases/{case}"));
        let Some(point) = detail["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["role"] == "debtor" && p["kind"] == "phone" && p["gate"]["allowed"] == true)
        else {
            continue;
        };
        let body = format!("{{\"contact_point\":\"{}\"}}", point["id"].as_str().unwrap());
        let placed = post(&format!("/api/cases/{case}/calls"), &body);
        assert!(placed.starts_with("HTTP/1.1 202"), "the demo's phones take the call: {placed}");
        let call = json(&placed)["call"]["call"].as_i64().unwrap();
        let mut hung_up = false;
        // A number that rings out takes the ring time (30 s).
        for _ in 0..450 {
            let v = get(&format!("/api/calls/{call}"));
            if v["phase"] == "talking" && !hung_up {
                std::thread::sleep(std::time::Duration::from_secs(1));
                assert!(post(&format!("/api/calls/{call}/hangup"), "{}").starts_with("HTTP/1.1 200"));
                hung_up = true;
            }
            if v["phase"] == "ended" {
                let month = std::fs::read_dir(vault)
                    .map(|d| d.filter_map(Result::ok).collect::<Vec<_>>())
                    .unwrap_or_default();
                let files = month
                    .iter()
                    .filter_map(|m| std::fs::read_dir(m.path()).ok())
                    .flat_map(|d| d.filter_map(Result::ok))
                    .filter(|f| f.path().to_string_lossy().ends_with(".wav.age"))
                    .count();
                return (v["outcome"].as_str().unwrap_or("").to_owned(), files);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("call {call} did not end");
    }
    panic!("no case of E001's queue may be called now: {queue}");
}
