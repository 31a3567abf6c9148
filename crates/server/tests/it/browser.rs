//! The console end to end in a real headless Chromium, driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`). Without them the test says so and passes, except under
//! `CI=true`, where it fails.
//!
//! On failure a screenshot of the page goes to `target/e2e/<scenario>.png`. With
//! `DAYLIGHT_SCREENSHOTS=DIR` the pages the docs show are saved there too.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use daylight_store::Store;
use daylight_testdb::TestDb;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::fixture::*;

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver, stopped when dropped.
pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) type Step = Result<(), String>;

pub(crate) fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

pub(crate) async fn text_of(c: &Client, css: &str) -> Result<String, String> {
    c.find(Locator::Css(css)).await.map_err(fail(css))?.text().await.map_err(fail(css))
}

pub(crate) async fn wait_for(c: &Client, css: &str) -> Step {
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.map_err(fail(css))?;
    Ok(())
}

pub(crate) async fn fill(c: &Client, css: &str, value: &str) -> Step {
    let e = c.find(Locator::Css(css)).await.map_err(fail(css))?;
    e.clear().await.map_err(fail(css))?;
    e.send_keys(value).await.map_err(fail(css))
}

pub(crate) async fn click(c: &Client, css: &str) -> Step {
    c.find(Locator::Css(css)).await.map_err(fail(css))?.click().await.map_err(fail(css))
}

pub(crate) async fn path_of(c: &Client) -> Result<String, String> {
    Ok(c.current_url().await.map_err(fail("url"))?.path().to_owned())
}

pub(crate) async fn sign_in(c: &Client, base: &str, login: &str, password: &str) -> Step {
    c.delete_all_cookies().await.map_err(fail("cookies"))?;
    c.goto(&format!("{base}/login")).await.map_err(fail("goto /login"))?;
    fill(c, "#login", login).await?;
    fill(c, "#password", password).await?;
    click(c, "#sign-in").await?;
    // Wait for the navigation the form starts: away from /login, or back with an error.
    for _ in 0..100 {
        if path_of(c).await? != "/login" || c.find(Locator::Css("#login-error")).await.is_ok() {
            return wait_for(c, "main").await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("signing in as {login} went nowhere"))
}

/// Polls `css`'s text until `pred` holds (htmx swaps the case in place).
pub(crate) async fn until_text(c: &Client, css: &str, pred: impl Fn(&str) -> bool) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..50 {
        if let Ok(t) = text_of(c, css).await {
            if pred(&t) {
                return Ok(t);
            }
            last = t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{css}: text never matched; last {last:?}"))
}

pub(crate) async fn shot(c: &Client, dir: &Path, name: &str) {
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

async fn docs_shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("DAYLIGHT_SCREENSHOTS") {
        shot(c, Path::new(&dir), name).await;
    }
}

/// A collector signs in, opens the first case of the queue, logs no-answers until the gate's
/// status changes to the daily cap, and locks a promise.
async fn collector_works_the_queue(c: &Client, base: &str) -> Step {
    sign_in(c, base, "E002", PASSWORD).await?;
    if path_of(c).await? != "/workbench" {
        return Err(format!("after sign-in: {}", path_of(c).await?));
    }
    docs_shot(c, "workbench").await;
    let first = text_of(c, "#queue tbody tr:first-child .case-link").await?;
    if first != "CASE-C0011" {
        return Err(format!("first in the queue: {first}"));
    }
    // Keyboard: j selects the first row, Enter opens it.
    c.find(Locator::Css("body")).await.map_err(fail("body"))?.send_keys("j").await.map_err(fail("j"))?;
    c.find(Locator::Css("body"))
        .await
        .map_err(fail("body"))?
        .send_keys("\u{E007}")
        .await
        .map_err(fail("enter"))?;
    wait_for(c, "#case").await?;
    if path_of(c).await? != "/cases/CASE-C0011" {
        return Err(format!("Enter opened {}", path_of(c).await?));
    }
    let gate = "tr[data-point='C0011:mobile'] td.gate";
    let before = text_of(c, gate).await?;
    if !before.contains("现在可以拨打") {
        return Err(format!("gate before: {before:?}"));
    }
    if !text_of(c, "#debtor-name").await?.contains('*') {
        return Err("the debtor's name is not masked".into());
    }
    docs_shot(c, "case").await;
    let mut logged = 0;
    loop {
        c.find(Locator::Css("#outcome"))
            .await
            .map_err(fail("#outcome"))?
            .select_by_value("no_answer")
            .await
            .map_err(fail("select"))?;
        fill(c, "#note", "无人接听").await?;
        click(c, "#record-contact").await?;
        let flash =
            until_text(c, "#flash", |t| t.contains(&format!("#{}", logged + 1)) || t.contains("DAILY_CAP"))
                .await?;
        if flash.contains("DAILY_CAP") {
            break;
        }
        logged += 1;
        if logged > 8 {
            return Err("the gate never refused".into());
        }
    }
    let after = until_text(c, gate, |t| t.contains("DAILY_CAP")).await?;
    if !after.contains("下次允许") || !after.contains("2026-03-04") {
        return Err(format!("gate after: {after:?}"));
    }
    let attempts = c.find_all(Locator::Css("#timeline li.k-attempt")).await.map_err(fail("timeline"))?.len();
    if attempts != logged {
        return Err(format!("timeline shows {attempts} attempts, {logged} were logged"));
    }
    docs_shot(c, "case-denied").await;
    fill(c, "#promise-amount", "2000").await?;
    fill(c, "#promise-date", "03/10/2026").await?;
    click(c, "#lock-promise").await?;
    let pending = until_text(c, "#pending-promises", |t| t.contains("2,000.00")).await?;
    if !pending.contains("2026-03-10") {
        return Err(format!("pending promise: {pending:?}"));
    }
    Ok(())
}

/// A collector works out a repayment plan with the calculator and submits it; the team lead
/// approves it from the approval queue; the collector's case shows it approved.
async fn a_team_lead_approves_a_plan(c: &Client, base: &str) -> Step {
    sign_in(c, base, "E002", PASSWORD).await?;
    c.goto(&format!("{base}/cases/CASE-C0011")).await.map_err(fail("goto"))?;
    // The form offers what the case owes (a plan repays exactly that, fees on top).
    let offered = c
        .find(Locator::Css("#plan-total"))
        .await
        .map_err(fail("plan total"))?
        .prop("value")
        .await
        .map_err(fail("value"))?;
    if offered.as_deref() != Some("19329.60") {
        return Err(format!("plan total offered: {offered:?}"));
    }
    fill(c, "#plan-instalments", "24").await?;
    fill(c, "#plan-fee", "50").await?;
    fill(c, "#plan-first-due", "04/01/2026").await?;
    click(c, "#plan-quote").await?;
    let total = until_text(c, "#quote-total", |t| t.contains("¥")).await?;
    if !total.contains("2,319.60") || !total.contains("21,649.20") {
        return Err(format!("calculator: {total:?}"));
    }
    let rows = c.find_all(Locator::Css("#quote-table tbody tr")).await.map_err(fail("quote rows"))?.len();
    if rows != 24 {
        return Err(format!("{rows} instalments shown"));
    }
    docs_shot(c, "plan").await;
    click(c, "#plan-submit").await?;
    until_text(c, "#flash", |t| t.contains('#')).await?;
    sign_in(c, base, "L001", PASSWORD).await?;
    click(c, "#nav-approvals").await?;
    let row = until_text(c, "#approvals tbody tr:first-child", |t| t.contains("CASE-C0011")).await?;
    if !row.contains("E002") || !row.contains("19,329.60") {
        return Err(format!("approval row: {row:?}"));
    }
    click(c, "#approvals tbody tr:first-child button.approve").await?;
    until_text(c, "#flash", |t| t.contains("已批准")).await?;
    sign_in(c, base, "E002", PASSWORD).await?;
    c.goto(&format!("{base}/cases/CASE-C0011")).await.map_err(fail("goto"))?;
    until_text(c, "#timeline", |t| t.contains("分期方案 已批准")).await?;
    Ok(())
}

/// From the case's page: a waiver of late fees, its amount and reason; waits for the flash.
pub(crate) async fn request_late_fee_waiver(
    c: &Client,
    base: &str,
    case: &str,
    amount: &str,
    reason: &str,
) -> Step {
    c.goto(&format!("{base}/cases/{case}")).await.map_err(fail("goto"))?;
    c.find(Locator::Css("#waiver-component"))
        .await
        .map_err(fail("component"))?
        .select_by_value("late_fees")
        .await
        .map_err(fail("component"))?;
    fill(c, "#waiver-amount", amount).await?;
    fill(c, "#waiver-reason", reason).await?;
    click(c, "#waiver-submit").await?;
    until_text(c, "#flash", |t| t.contains('#')).await?;
    Ok(())
}

/// A collector requests a waiver and a confirmation to call the debtor's emergency contact;
/// the team lead approves both from the approval queues; the case shows the confirmation.
async fn waiver_and_third_party_contact_go_to_the_team_lead(c: &Client, base: &str) -> Step {
    sign_in(c, base, "E002", PASSWORD).await?;
    request_late_fee_waiver(c, base, "CASE-C0011", "50", "首次逾期，减免滞纳金").await?;
    let row = "tr[data-point='P0011-E1']";
    fill(c, &format!("{row} .third-party-form input[name=reason]"), "本人连续未接通").await?;
    click(c, &format!("{row} button.ask-third-party")).await?;
    until_text(c, &format!("{row} .confirmation"), |t| t.contains("待审批")).await?;
    // A colleague's number learnt on a visit, proposed for the lead to confirm.
    c.find(Locator::Css("#number-role"))
        .await
        .map_err(fail("role"))?
        .select_by_value("colleague")
        .await
        .map_err(fail("role"))?;
    fill(c, "#number-value", "010-87654321").await?;
    fill(c, "#number-name", "王同事").await?;
    click(c, "#number-submit").await?;
    until_text(c, "#number-proposals", |t| t.contains("待审批")).await?;
    sign_in(c, base, "L001", PASSWORD).await?;
    click(c, "#nav-approvals").await?;
    let number = until_text(c, "#numbers tbody tr:first-child", |t| t.contains("CASE-C0011")).await?;
    if number.contains("87654321") || !number.contains("同事") {
        return Err(format!("number row (masked, whose): {number:?}"));
    }
    click(c, "#numbers tbody tr:first-child button.approve").await?;
    until_text(c, "#flash", |t| t.contains("已批准")).await?;
    let waiver = until_text(c, "#waivers tbody tr:first-child", |t| t.contains("CASE-C0011")).await?;
    if !waiver.contains("50.00") || !waiver.contains("滞纳金") {
        return Err(format!("waiver row: {waiver:?}"));
    }
    let request = text_of(c, "#third-party tbody tr:first-child").await?;
    if !request.contains("P0011-E1") {
        return Err(format!("third-party row: {request:?}"));
    }
    docs_shot(c, "approvals").await;
    click(c, "#waivers tbody tr:first-child button.approve").await?;
    until_text(c, "#flash", |t| t.contains("已批准")).await?;
    click(c, "#third-party tbody tr:first-child button.approve").await?;
    until_text(c, "#flash", |t| t.contains("已批准")).await?;
    if c.find(Locator::Css("#third-party")).await.is_ok() {
        return Err("the confirmation is still waiting".into());
    }
    sign_in(c, base, "E002", PASSWORD).await?;
    c.goto(&format!("{base}/cases/CASE-C0011")).await.map_err(fail("goto"))?;
    until_text(c, &format!("{row} .confirmation"), |t| t.contains("已确认")).await?;
    // Until the bank books them, the approved plan's fees (2,319.60, the scenario before) are
    // on what is owed and the approved waiver (50.00) off it; the number is on file.
    until_text(c, "td.adjusted", |t| t.contains("2,269.60")).await?;
    until_text(c, "#case", |t| t.contains("同事")).await?;
    Ok(())
}

/// A dialler's transcript of a collector's call reaches QC: the team lead finds the call on
/// `/qc` with its codes, opens it with the words marked, and sees it on the case.
async fn a_call_transcript_reaches_qc(c: &Client, base: &str) -> Step {
    sign_in(c, base, "E002", PASSWORD).await?;
    c.goto(&format!("{base}/cases/CASE-C0011")).await.map_err(fail("goto"))?;
    // The dialler's part, from the collector's session: the call's transcript.
    let script = r#"
        const done = arguments[arguments.length - 1];
        const csrf = document.querySelector('input[name=csrf]').value;
        const post = (url, body) => fetch(url, {method: 'POST', headers: {'content-type': 'application/json', 'x-csrf-token': csrf}, body: JSON.stringify(body)});
        (async () => {
            // The collector's latest call on the case (the earlier scenarios made some), or a new one.
            const kase = await (await fetch('/api/cases/CASE-C0011')).json();
            let call = kase.attempt_choices.length ? {attempt: kase.attempt_choices[0][0]} : null;
            if (!call) {
                const res = await post('/api/cases/CASE-C0011/contacts', {contact_point: 'C0011:mobile', outcome: 'conversation'});
                call = await res.json();
                if (res.status !== 201) { done('the call: ' + res.status + ' ' + JSON.stringify(call)); return; }
            }
            const turn = (speaker, start, text) => ({speaker, start_ms: start, end_ms: start + 2000, text});
            const r = await post(`/api/cases/CASE-C0011/attempts/${call.attempt}/transcript`, {
                call_id: 'e2e-1', started_at: '2026-03-03T10:00:00+08:00', language: 'zh-CN',
                turns: [turn('agent', 0, '您好，我是中信银行信用卡中心的小刘，工号2231。请问是赵先生本人吗？'),
                        turn('debtor', 2500, '是我。'),
                        turn('agent', 5000, '我们这边是刑侦大队的，您欠款8000元再不还就麻烦了。'),
                        turn('debtor', 7500, '我上个月失业了，我真的好害怕，周三下午3点前先还2000。')]});
            done(r.status);
        })().catch(e => done(String(e)));
    "#;
    let status = c.execute_async(script, vec![]).await.map_err(fail("submit"))?;
    if status != json!(201) {
        return Err(format!("the transcript was answered {status}"));
    }
    sign_in(c, base, "L001", PASSWORD).await?;
    click(c, "#nav-qc").await?;
    let row = until_text(c, "#qc-calls tbody tr:first-child", |t| t.contains("CASE-C0011")).await?;
    if !row.contains("AGENT_IMPERSONATION") || !row.contains("DEBTOR_HARDSHIP") || !row.contains("2,000.00") {
        return Err(format!("the /qc row: {row:?}"));
    }
    docs_shot(c, "qc").await;
    click(c, "#qc-calls tbody tr:first-child a.open-call").await?;
    let marked =
        until_text(c, "#transcript mark[data-code='AGENT_IMPERSONATION']", |t| !t.is_empty()).await?;
    if marked != "刑侦大队" {
        return Err(format!("marked {marked:?}"));
    }
    docs_shot(c, "qc_call").await;
    c.goto(&format!("{base}/cases/CASE-C0011")).await.map_err(fail("goto"))?;
    until_text(c, "#case-qc", |t| t.contains("DEBTOR_HARDSHIP")).await?;
    Ok(())
}

/// A team lead reads the team's figures: tiles, SVG charts and the table, by collector and
/// by bucket, and downloads the table as xlsx.
async fn a_team_lead_reads_the_dashboard(c: &Client, base: &str) -> Step {
    sign_in(c, base, "L001", PASSWORD).await?;
    click(c, "#nav-dashboard").await?;
    wait_for(c, "#kpi-table").await?;
    let charts = c.find_all(Locator::Css("#charts svg")).await.map_err(fail("charts"))?.len();
    if charts != 9 {
        return Err(format!("{charts} charts"));
    }
    let e2 = text_of(c, "#kpi-table tr[data-key='E002']").await?;
    let attempts: i64 = text_of(c, "#tile-attempts").await?.trim().parse().map_err(fail("attempts tile"))?;
    if attempts < 3 || !e2.contains('%') {
        return Err(format!("attempts {attempts}, E002's row {e2:?}"));
    }
    docs_shot(c, "dashboard").await;
    c.find(Locator::Css("#kpi-by"))
        .await
        .map_err(fail("by"))?
        .select_by_value("bucket")
        .await
        .map_err(fail("by"))?;
    wait_for(c, "#kpi-table tr[data-key='M6']").await?;
    let href = c
        .find(Locator::Css("#kpi-xlsx"))
        .await
        .map_err(fail("xlsx link"))?
        .attr("href")
        .await
        .map_err(fail("href"))?
        .unwrap_or_default();
    if !href.contains("by=bucket") {
        return Err(format!("the export is not of the shown grouping: {href}"));
    }
    let got = c
        .execute_async(
            "const [href, done] = arguments; fetch(href).then(r => r.arrayBuffer().then(b => done([r.status, r.headers.get('content-type'), b.byteLength])));",
            vec![json!(href)],
        )
        .await
        .map_err(fail("fetch xlsx"))?;
    if got[0] != 200
        || !got[1].as_str().unwrap_or_default().contains("spreadsheetml")
        || got[2].as_u64() < Some(1000)
    {
        return Err(format!("the xlsx download: {got}"));
    }
    Ok(())
}

/// A team lead opens two cases of the queue side by side and works in one of them.
async fn cases_open_side_by_side(c: &Client, base: &str) -> Step {
    sign_in(c, base, "L001", PASSWORD).await?;
    click(c, "#nav-workbench").await?;
    wait_for(c, "#queue").await?;
    for case in ["CASE-C0008", "CASE-C0011"] {
        click(c, &format!("#queue input.side-pick[value='{case}']")).await?;
    }
    if path_of(c).await? != "/workbench" {
        return Err("ticking a case opened it".into());
    }
    click(c, "#open-side").await?;
    wait_for(c, "#side").await?;
    let frames = c.find_all(Locator::Css("#side iframe")).await.map_err(fail("frames"))?.len();
    if frames != 2 {
        return Err(format!("{frames} frames"));
    }
    c.enter_frame(1).await.map_err(fail("frame"))?;
    wait_for(c, "#case").await?;
    let title = text_of(c, ".casebar h1").await?;
    if !title.contains("CASE-C0011") || c.find(Locator::Css("header.top")).await.is_ok() {
        return Err(format!("second frame: {title:?}"));
    }
    c.enter_parent_frame().await.map_err(fail("parent"))?;
    docs_shot(c, "side-by-side").await;
    Ok(())
}

/// A compliance officer puts another shipped pack in force, sees its rules and calendar, and
/// puts the default back.
async fn compliance_officer_changes_the_pack(c: &Client, base: &str) -> Step {
    sign_in(c, base, "C1", PASSWORD).await?;
    click(c, "#nav-policy").await?;
    for pack in ["cn-cba-2026", "cn-default"] {
        c.find(Locator::Css("#shipped-pack"))
            .await
            .map_err(fail("pack"))?
            .select_by_value(pack)
            .await
            .map_err(fail("pack"))?;
        click(c, "#use-pack").await?;
        until_text(c, "#pack-name", |t| t == pack).await?;
        if pack == "cn-cba-2026" {
            docs_shot(c, "policy").await;
        }
    }
    let years = c.find_all(Locator::Css("table.calendar")).await.map_err(fail("calendar"))?.len();
    if years < 5 {
        return Err(format!("{years} calendar years"));
    }
    Ok(())
}

/// A team lead reassigns a case to another collector of the team, then closes two cases in
/// one action.
async fn a_team_lead_reassigns_and_closes_in_bulk(c: &Client, base: &str) -> Step {
    sign_in(c, base, "L001", PASSWORD).await?;
    click(c, "#nav-team").await?;
    wait_for(c, "#team-cases").await?;
    click(c, "#team-cases tr[data-case='CASE-C0008'] input[type=checkbox]").await?;
    c.find(Locator::Css("#reassign-to"))
        .await
        .map_err(fail("to"))?
        .select_by_value("E002")
        .await
        .map_err(fail("to"))?;
    click(c, "#bulk-assign").await?;
    until_text(c, "#flash", |t| t.contains('1')).await?;
    let row = text_of(c, "#team-cases tr[data-case='CASE-C0008']").await?;
    if !row.contains("E002") {
        return Err(format!("after reassigning: {row:?}"));
    }
    docs_shot(c, "team").await;
    click(c, "#select-all").await?;
    c.find(Locator::Css("#close-reason"))
        .await
        .map_err(fail("reason"))?
        .select_by_value("settled")
        .await
        .map_err(fail("reason"))?;
    fill(c, "#close-note", "已和解结清").await?;
    click(c, "#bulk-close").await?;
    until_text(c, "#flash", |t| t.contains('2')).await?;
    if c.find(Locator::Css("#team-cases")).await.is_ok() {
        return Err("closed cases still listed".into());
    }
    Ok(())
}

/// A collector cannot open another collector's case by its URL.
async fn collector_cannot_open_anothers_case(c: &Client, base: &str) -> Step {
    sign_in(c, base, "E002", PASSWORD).await?;
    c.goto(&format!("{base}/cases/CASE-C0008")).await.map_err(fail("goto"))?;
    let code = text_of(c, "#error-code").await?;
    if code != "NOT_FOUND" {
        return Err(format!("another's case showed {code:?}"));
    }
    let page = c.source().await.map_err(fail("source"))?;
    if page.contains("黄") {
        return Err("the other debtor's name leaked".into());
    }
    Ok(())
}

/// An admin adds a user in the console; the user signs in with the one-time password, must
/// change it, and then sees the workbench, in English.
async fn admin_adds_a_user_who_must_change_the_password(c: &Client, base: &str) -> Step {
    sign_in(c, base, "A1", PASSWORD).await?;
    if path_of(c).await? != "/admin/users" {
        return Err(format!("admin's home: {}", path_of(c).await?));
    }
    // A team is a record first: the admin creates 信用卡催收三组 (T3) and puts the new user in it.
    fill(c, "#team-id", "T3").await?;
    fill(c, "#team-name", "信用卡催收三组").await?;
    click(c, "#add-team-button").await?;
    until_text(c, "#unit-saved", |t| t.contains("T3")).await?;
    let row = text_of(c, "#teams tr[data-team='T3']").await?;
    if !row.contains("信用卡催收三组") {
        return Err(format!("the new team's row: {row:?}"));
    }
    docs_shot(c, "teams").await;
    fill(c, "#add-user input[name=login]", "E200").await?;
    fill(c, "#add-user input[name=name]", "赵六").await?;
    c.find(Locator::Css("#add-user select[name=role]"))
        .await
        .map_err(fail("role"))?
        .select_by_value("collector")
        .await
        .map_err(fail("role"))?;
    c.find(Locator::Css("#new-team"))
        .await
        .map_err(fail("team"))?
        .select_by_value("T3")
        .await
        .map_err(fail("team"))?;
    click(c, "#add-user button[type=submit]").await?;
    let otp = until_text(c, "#otp", |t| t.len() == 12).await?;
    docs_shot(c, "users").await;
    sign_in(c, base, "E200", &otp).await?;
    if path_of(c).await? != "/password" {
        return Err(format!("one-time password led to {}", path_of(c).await?));
    }
    fill(c, "#current-password", &otp).await?;
    fill(c, "#new-password", "weak").await?;
    click(c, "#save-password").await?;
    until_text(c, "#password-error", |t| !t.is_empty()).await?;
    fill(c, "#current-password", &otp).await?;
    fill(c, "#new-password", "Zhao-Liu-2026").await?;
    click(c, "#save-password").await?;
    for _ in 0..100 {
        if path_of(c).await? != "/password" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if path_of(c).await? != "/workbench" {
        return Err(format!("after the change: {}", path_of(c).await?));
    }
    click(c, "#lang-switch").await?;
    let empty = until_text(c, "#queue-empty", |t| t.contains("queue is empty")).await?;
    if empty.is_empty() {
        return Err("no English".into());
    }
    click(c, "#lang-switch").await?;
    Ok(())
}

/// An analyst reads the models' figures on the strategy page and makes version 2 of the
/// propensity model the champion; version 1 is retired.
async fn an_admin_promotes_a_model(c: &Client, base: &str) -> Step {
    sign_in(c, base, "A1", PASSWORD).await?;
    c.goto(&format!("{base}/admin/strategy")).await.map_err(fail("goto"))?;
    let row = text_of(c, "#models tr[data-model='propensity-2']").await?;
    if !row.contains("0.742") {
        return Err(format!("the challenger's figures: {row:?}"));
    }
    click(c, "#models tr[data-model='propensity-2'] button.promote").await?;
    until_text(c, "#promoted", |t| t.contains("propensity v2")).await?;
    let status = c
        .find(Locator::Css("#models tr[data-model='propensity-2']"))
        .await
        .map_err(fail("row"))?
        .attr("data-status")
        .await
        .map_err(fail("status"))?;
    if status.as_deref() != Some("champion") {
        return Err(format!("after promotion: {status:?}"));
    }
    docs_shot(c, "model-promoted").await;
    Ok(())
}

/// chromedriver and chromium, if both are installed: panics under `CI=true` when they are not.
pub(crate) fn browser_bins() -> Option<(PathBuf, PathBuf)> {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let driver_bin =
        find("DAYLIGHT_CHROMEDRIVER", &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let chrome_bin = find("DAYLIGHT_CHROMIUM", &["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let (Some(driver_bin), Some(chrome_bin)) = (driver_bin, chrome_bin) else {
        assert!(
            !ci,
            "CI=true and Chromium or chromedriver is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("note: skipping the browser test: chromium and chromedriver not found");
        return None;
    };
    Some((driver_bin, chrome_bin))
}

/// A headless Chromium session through a chromedriver of its own.
pub(crate) async fn start_browser(driver_bin: &Path, chrome_bin: &Path) -> (Driver, Client) {
    let port = free_port();
    let driver = Driver(
        Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chrome_bin,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=zh-CN"]
        }
    });
    let mut client = None;
    for _ in 0..50 {
        let mut b = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        b.capabilities(caps.as_object().unwrap().clone());
        match b.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver answers within 10 s");
    (driver, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    let Some((driver_bin, chrome_bin)) = browser_bins() else { return };
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    // Two versions of a propensity model: the champion and a challenger with better figures.
    for auc in ["0.701", "0.742"] {
        let m = daylight_store::model::NewModel {
            name: "propensity".into(),
            source: "daylight".into(),
            metrics: format!(r#"{{"auc": {auc}, "ks": 0.31}}"#),
            document: format!("{{\"auc\": {auc}}}"),
        };
        let v = store.register_model(&m, "S1", now()).await.unwrap();
        if v.version == 1 {
            store.promote_model("propensity", 1, "S1", now()).await.unwrap();
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server =
        tokio::spawn(daylight_server::serve(settings(db.url().expose()), store.clone(), listener, async {
            let _ = stopped.await;
        }));
    let (driver, c) = start_browser(&driver_bin, &chrome_bin).await;
    let failures_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    let mut failures = Vec::new();
    macro_rules! scenario {
        ($name:ident) => {
            if let Err(why) = $name(&c, &base).await {
                shot(&c, &failures_dir, stringify!($name)).await;
                failures.push(format!(
                    "{}: {why} (screenshot: target/e2e/{}.png)",
                    stringify!($name),
                    stringify!($name)
                ));
            }
        };
    }
    scenario!(collector_works_the_queue);
    scenario!(a_team_lead_approves_a_plan);
    scenario!(waiver_and_third_party_contact_go_to_the_team_lead);
    scenario!(a_team_lead_reads_the_dashboard);
    scenario!(a_call_transcript_reaches_qc);
    scenario!(cases_open_side_by_side);
    scenario!(compliance_officer_changes_the_pack);
    scenario!(collector_cannot_open_anothers_case);
    scenario!(admin_adds_a_user_who_must_change_the_password);
    scenario!(a_team_lead_reassigns_and_closes_in_bulk);
    scenario!(an_admin_promotes_a_model);
    let _ = c.close().await;
    drop(driver);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    store.close().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
