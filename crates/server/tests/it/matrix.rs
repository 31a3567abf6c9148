//! The role matrix: every role × resource × action, and what the API answers. The expected
//! table is written out by hand: it is the specification, not derived from the code.

use std::sync::Arc;

use axum::http::StatusCode;
use daylight_store::Store;
use daylight_testdb::TestDb;
use serde_json::{Value, json};

use crate::fixture::*;

/// Roles in the order of the table's columns, by the fixture user who holds each.
const ROLES: [&str; 8] = ["A1", "C1", "S1", "L001", "E002", "M1", "X1", "U1"];
//                         admin compl analyst lead collector ag.mgr ag.coll auditor

/// `(method, path, body, expected status per role)`, the API's routes and the console's pages. CASE-C0008 is E001's (team T1), CASE-C0011
/// E002's (team T1), CASE-C0012 X1's at agency AG01. 404 is "outside your scope"; 403 is "your
/// role may not".
fn table() -> Vec<(&'static str, &'static str, Value, [u16; 8])> {
    let note = json!({"text": "本人接听，称月底还款"});
    let call = json!({"contact_point": "C0011:mobile", "outcome": "no_answer", "note": "无人接听"});
    let reveal = json!({"field": "resident_id", "purpose": "核实身份"});
    let waiver = json!({"component": "late_fees", "amount": "1", "reason": "首次逾期"});
    let third_party = json!({"contact_point": "P0011-E1", "reason": "本人失联"});
    let complaint = json!({"source": "debtor", "text": "态度生硬"});
    let user = json!({"name": "用户E001", "role": "collector", "team": "T1"});
    let experiment = json!({"name": "matrix", "arms": "champion:1,challenger:1"});
    vec![
        ("GET", "/api/queue", Value::Null, [200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET", "/api/cases", Value::Null, [200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET", "/api/cases/CASE-C0008", Value::Null, [200, 200, 200, 200, 404, 404, 404, 200]),
        ("GET", "/api/cases/CASE-C0011", Value::Null, [200, 200, 200, 200, 200, 404, 404, 200]),
        ("GET", "/api/cases/CASE-C0012", Value::Null, [200, 200, 200, 404, 404, 200, 200, 200]),
        ("POST", "/api/cases/CASE-C0011/notes", note.clone(), [403, 403, 403, 201, 201, 404, 404, 403]),
        ("POST", "/api/cases/CASE-C0008/notes", note.clone(), [403, 403, 403, 201, 404, 404, 404, 403]),
        ("POST", "/api/cases/CASE-C0012/notes", note, [403, 403, 403, 404, 404, 201, 201, 403]),
        ("POST", "/api/cases/CASE-C0011/contacts", call, [403, 403, 403, 201, 201, 404, 404, 403]),
        (
            "POST",
            "/api/cases/CASE-C0011/promises",
            json!({"amount": "500", "date": "2026-03-20"}),
            // The collector may, but the lead's promise is pending: one per account.
            [403, 403, 403, 201, 422, 404, 404, 403],
        ),
        ("POST", "/api/cases/CASE-C0011/reveal", reveal.clone(), [200, 200, 403, 200, 403, 403, 403, 403]),
        ("POST", "/api/cases/CASE-C0012/reveal", reveal, [200, 200, 403, 404, 403, 403, 403, 403]),
        (
            "PUT",
            "/api/cases/CASE-C0008/assignment",
            json!({"collector": "E001"}),
            [204, 403, 403, 204, 403, 404, 403, 403],
        ),
        (
            "PUT",
            "/api/cases/CASE-C0012/assignment",
            json!({"collector": "X1"}),
            [204, 403, 403, 404, 403, 204, 403, 403],
        ),
        (
            "POST",
            "/api/cases/CASE-C0011/arrangements",
            json!({"total": "19329.60", "instalments": 12, "first_due": "2026-04-01"}),
            [403, 403, 403, 201, 201, 404, 404, 403],
        ),
        (
            "POST",
            "/api/cases/CASE-C0012/arrangements",
            json!({"total": "38405.49", "instalments": 12, "first_due": "2026-04-01"}),
            [403, 403, 403, 404, 404, 201, 201, 403],
        ),
        ("GET", "/api/arrangements/pending", Value::Null, [403, 403, 403, 200, 403, 403, 403, 403]),
        ("GET", "/api/users", Value::Null, [200, 403, 403, 403, 403, 403, 403, 403]),
        ("POST", "/api/cases/CASE-C0011/waivers", waiver.clone(), [403, 403, 403, 201, 201, 404, 404, 403]),
        ("POST", "/api/cases/CASE-C0012/waivers", waiver, [403, 403, 403, 404, 404, 201, 201, 403]),
        ("GET", "/api/waivers/pending", Value::Null, [403, 403, 403, 200, 403, 403, 403, 403]),
        ("GET", "/api/numbers/pending", Value::Null, [403, 403, 403, 200, 403, 403, 403, 403]),
        ("POST", "/api/cases/CASE-C0011/third-party", third_party, [403, 403, 403, 201, 201, 404, 404, 403]),
        ("GET", "/api/third-party/pending", Value::Null, [403, 403, 403, 200, 403, 403, 403, 403]),
        ("POST", "/api/cases/CASE-C0011/complaints", complaint, [201, 201, 403, 201, 403, 404, 403, 403]),
        ("GET", "/api/tasks", Value::Null, [200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET", "/api/kpis", Value::Null, [200, 200, 200, 200, 403, 200, 403, 200]),
        ("GET", "/dashboard", Value::Null, [200, 200, 200, 200, 403, 200, 403, 200]),
        ("GET", "/export/team-cases.xlsx", Value::Null, [200, 200, 200, 200, 403, 200, 403, 200]),
        ("GET", "/admin/policy", Value::Null, [200, 200, 403, 403, 403, 403, 403, 403]),
        ("GET", "/api/policy", Value::Null, [200, 200, 403, 403, 403, 403, 403, 403]),
        ("GET", "/admin/strategy", Value::Null, [200, 200, 200, 403, 403, 403, 403, 200]),
        ("GET", "/qc", Value::Null, [200, 200, 200, 200, 403, 200, 403, 200]),
        ("GET", "/api/qc/calls", Value::Null, [200, 200, 200, 200, 403, 200, 403, 200]),
        ("GET", "/api/qc/rules", Value::Null, [200, 200, 200, 200, 200, 200, 200, 200]),
        ("POST", "/api/qc/lint", json!({"text": "请按时还款"}), [200, 200, 200, 200, 200, 200, 200, 200]),
        (
            "POST",
            "/api/cases/CASE-C0011/attempts/999999/transcript",
            json!({"call_id": "m", "started_at": "2026-03-03T10:00:00+08:00", "turns": []}),
            [404, 403, 403, 404, 404, 404, 404, 403],
        ),
        ("PUT", "/api/users/E001", user, [200, 403, 403, 403, 403, 403, 403, 403]),
        // The admin creates it first, so the analyst's try finds the name taken.
        ("POST", "/api/experiments", experiment, [201, 403, 422, 403, 403, 403, 403, 403]),
        ("GET", "/api/experiments/matrix/report", Value::Null, [200, 200, 200, 403, 403, 403, 403, 200]),
        ("POST", "/api/users/E001/password-reset", Value::Null, [200, 403, 403, 403, 403, 403, 403, 403]),
        // Last: it closes a case.
        (
            "POST",
            "/api/cases/close",
            json!({"cases": ["CASE-C0008"], "reason": "settled", "note": "和解结清"}),
            [403, 403, 403, 204, 403, 403, 403, 403],
        ),
        // And reopens it.
        (
            "POST",
            "/api/cases/CASE-C0008/reopen",
            json!({"note": "客户撤回和解"}),
            [403, 403, 403, 204, 403, 403, 403, 403],
        ),
    ]
}

/// How many cases each role sees in `GET /api/cases` (the example portfolio has 11).
const VISIBLE: [usize; 8] = [11, 11, 11, 2, 1, 1, 1, 11];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_the_matrix_says() {
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let app = app(store, settings(db.url().expose()));
    let mut wrong = Vec::new();
    for (col, login) in ROLES.iter().enumerate() {
        let mut c = Client::signed_in(&app, login).await;
        let (_, cases) = c.get("/api/cases").await;
        let n = cases.as_array().map_or(0, Vec::len);
        if n != VISIBLE[col] {
            wrong.push(format!("{login}: sees {n} cases, expected {}", VISIBLE[col]));
        }
        for (method, path, body, expected) in table() {
            let body = if body.is_null() && method != "GET" {
                Some(json!({}))
            } else {
                (!body.is_null()).then_some(body)
            };
            // A password reset ends the target's sessions, not the caller's: harmless here.
            let (status, answer) = c.send(method, path, body).await;
            if status.as_u16() != expected[col] {
                wrong.push(format!(
                    "{login} {method} {path}: {} (expected {}): {answer}",
                    status.as_u16(),
                    expected[col]
                ));
            }
            if status == StatusCode::FORBIDDEN && path.starts_with("/api/") {
                assert_eq!(answer["error"]["code"], "FORBIDDEN", "{login} {method} {path}");
            }
        }
    }
    assert!(wrong.is_empty(), "the matrix does not hold:\n{}", wrong.join("\n"));
}
