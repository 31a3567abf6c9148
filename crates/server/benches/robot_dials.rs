//! Gated robot dials per second through the store: each dial is what a robot campaign does
//! before and after the call, without the call itself. The gate's start with the call noted for
//! recovery (`CallStore::start_call`: the debtor's facts read, judged under the pack, the start
//! committed, serialised per debtor), the number read for the switch, and the call's finish
//! with its outcome (the attempt recorded with its ledger event). Many debtors, one dial each, `TASKS` dials at once,
//! on two cores; SQLite, then PostgreSQL (the `daylight-testdb` server).
//!
//! The portfolio is `bench/gen_portfolio.py`'s (valid records), imported as a bank's files.
//!
//! `cargo bench -p daylight-server --bench robot_dials [-- CUSTOMERS [TASKS]]` (default 4,000
//! customers, 8 tasks). The seeds' bank: 4.5 M robot calls in a fortnight, about 7 a second
//! over working hours; the bar is 500 a second.
#![allow(missing_docs, clippy::print_stdout, clippy::disallowed_methods, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use daylight_domain::attempt::{Agent, Channel, Outcome, Planned};
use daylight_domain::customer::Recipient;
use daylight_domain::id::{CaseId, ContactId};
use daylight_import::{ImportOptions, import_file};
use daylight_store::Store;
use daylight_store::model::{CaseFilter, ImportKind};
use daylight_testdb::TestDb;

fn now() -> jiff::Timestamp {
    // A Tuesday, 10:00 in Shanghai: within calling hours.
    "2026-03-03T02:00:00Z".parse().unwrap()
}

async fn seed(store: &dyn Store, data: &std::path::Path) {
    store.migrate("bench", now()).await.unwrap();
    for (kind, file) in [(ImportKind::Customers, "customers.csv"), (ImportKind::Accounts, "accounts.csv")] {
        let opts = ImportOptions {
            kind,
            path: data.join(file),
            encoding: daylight_import::Encoding::Utf8,
            partial: false,
            check: false,
            actor: "bench".into(),
            at: now(),
            time_zone: "Asia/Shanghai".into(),
            chunk_rows: daylight_import::DEFAULT_CHUNK_ROWS,
        };
        import_file(store, &opts, &|_, _| {}).await.unwrap();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn run(name: &str, db: &TestDb, data: &std::path::Path, tasks: usize) {
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store, data).await;
    let filter = CaseFilter { limit: CaseFilter::MAX_LIMIT, ..CaseFilter::default() };
    let cases: Vec<CaseId> =
        store.list_cases(&filter).await.unwrap().into_iter().map(|s| s.case.id).collect();
    let queue = Arc::new(Mutex::new(cases.clone()));
    let lat = Arc::new(Mutex::new(Vec::with_capacity(cases.len())));
    // Milliseconds in each step, summed: the gate's start with the call's note, the number,
    // the finish.
    let steps = Arc::new(Mutex::new([0.0f64; 3]));
    let allowed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (store, queue, lat, allowed) = (store.clone(), queue.clone(), lat.clone(), allowed.clone());
        let steps = steps.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let Some(case) = queue.lock().unwrap().pop() else { return };
                let customer = case.as_str().trim_start_matches("CASE-").to_owned();
                let point = ContactId::parse(&format!("{customer}:mobile")).unwrap();
                let planned = Planned {
                    case: case.clone(),
                    account: None,
                    at: now(),
                    channel: Channel::RobotCall,
                    recipient: Recipient::Debtor,
                    contact_point: Some(point.clone()),
                    agent: Agent::Robot("flow:reminder".into()),
                };
                let t = Instant::now();
                let named = |started: i64| format!("robot/{started}.wav.age");
                let gated = store.start_call(&planned, "bench", &named, "bench", now()).await.unwrap();
                let Some(started) = gated.id.filter(|_| gated.decision.allowed) else {
                    panic!("{case}: refused {:?}", gated.decision.violations)
                };
                let t1 = Instant::now();
                let number = store.dial_number(&case, &point).await.unwrap();
                assert!(!number.is_empty());
                let t2 = Instant::now();
                store.finish_call(started, Outcome::NoAnswer, 0, None, None, "bench", now()).await.unwrap();
                let t4 = Instant::now();
                {
                    let mut s = steps.lock().unwrap();
                    for (i, (a, b)) in [(t, t1), (t1, t2), (t2, t4)].into_iter().enumerate() {
                        s[i] += b.duration_since(a).as_secs_f64() * 1000.0;
                    }
                }
                lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let secs = t0.elapsed().as_secs_f64();
    let mut lat = lat.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    let n = allowed.load(std::sync::atomic::Ordering::Relaxed);
    let s = *steps.lock().unwrap();
    println!(
        "{name:<10} per dial: start and note {:.2}ms, number {:.2}ms, finish {:.2}ms",
        s[0] / n as f64,
        s[1] / n as f64,
        s[2] / n as f64
    );
    println!(
        "{name:<10} debtors={n} tasks={tasks} seconds={secs:.2} dials_per_sec={:.0} p50={:.2}ms p99={:.2}ms max={:.2}ms",
        n as f64 / secs,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat[lat.len() - 1],
    );
    assert!(store.started_attempts().await.unwrap().is_empty());
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let customers = args.first().copied().unwrap_or(4_000);
    let tasks = args.get(1).copied().unwrap_or(8);
    let data = tempfile::tempdir().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/gen_portfolio.py");
    let ok = std::process::Command::new("python3")
        .arg(&script)
        .args(["--customers", &customers.to_string(), "--accounts", &customers.to_string(), "--out"])
        .arg(data.path())
        .status()
        .unwrap()
        .success();
    assert!(ok, "bench/gen_portfolio.py failed");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let sqlite = TestDb::sqlite();
        run("sqlite", &sqlite, data.path(), tasks).await;
        sqlite.finish().await;
        match TestDb::postgres().await {
            Some(pg) => {
                run("postgres", &pg, data.path(), tasks).await;
                pg.finish().await;
            }
            None => println!(
                "postgres   skipped: no PostgreSQL (install postgresql-15 or set DAYLIGHT_TEST_PG_URL)"
            ),
        }
    });
}
