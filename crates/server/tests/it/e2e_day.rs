//! Issue 23's scenarios in a real headless Chromium: a collector's morning (to-dos, a caller
//! found by mobile, the script read, three cases worked, a promise and its reminder the next
//! day) and a team lead's approvals with the case's figures and a rejection's reason. With
//! `DAYLIGHT_SCREENSHOTS=docs/img` the steps are photographed for docs/console.md.

use std::path::PathBuf;
use std::sync::Arc;

use daylight_store::Store;
use daylight_store::access::{NewUser, Role};
use daylight_store::model::{Assignment, NewPromise};
use daylight_testdb::TestDb;
use fantoccini::{Client, Locator};
use jiff::ToSpan;

use crate::browser::*;
use crate::fixture::{PASSWORD, now, seed, settings};

async fn docs_shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("DAYLIGHT_SCREENSHOTS") {
        shot(c, std::path::Path::new(&dir), name).await;
    }
}

/// Waits until nothing matches `css` (a form that was sent and whose page came back without it).
async fn until_gone(c: &Client, css: &str) -> Step {
    for _ in 0..100 {
        if c.find_all(Locator::Css(css)).await.map_err(fail(css))?.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(format!("{css}: still there"))
}

async fn record(c: &Client, base: &str, case: &str, outcome: &str, note: &str) -> Step {
    c.goto(&format!("{base}/cases/{case}")).await.map_err(fail("goto"))?;
    wait_for(c, "#case").await?;
    c.find(Locator::Css("#outcome"))
        .await
        .map_err(fail("#outcome"))?
        .select_by_value(outcome)
        .await
        .map_err(fail("select"))?;
    fill(c, "#note", note).await?;
    click(c, "#record-contact").await?;
    until_text(c, "#flash", |t| t.contains('#')).await?;
    Ok(())
}

/// E003's morning: the reminder of a promise due today, a debtor who calls back found by mobile,
/// the script with the case's figures, three cases worked, a promise for tomorrow whose reminder
/// is on the next morning's list.
async fn a_collectors_morning(c: &Client, base: &str, store: &Arc<dyn Store>) -> Step {
    sign_in(c, base, "E003", PASSWORD).await?;
    let todos = until_text(c, "#tasks", |t| t.contains("承诺到期提醒")).await?;
    if !todos.contains("CASE-C0009") || !todos.contains("到期") {
        return Err(format!("to-dos: {todos:?}"));
    }
    docs_shot(c, "morning-todos").await;
    // 陈静 calls back from 18628345675: found by her full mobile, shown masked.
    fill(c, "#search", "18628345675").await?;
    click(c, "#apply-filter").await?;
    let found = until_text(c, "#queue", |t| t.contains("CASE-C0005")).await?;
    if found.contains("陈静") || found.contains("18628345675") {
        return Err(format!("the result shows personal data in clear: {found:?}"));
    }
    if !text_of(c, "#queue-count").await?.contains("共 1") {
        return Err("the count".into());
    }
    docs_shot(c, "search").await;
    // The script with 李娜's figures, the steps of the call and the reasons in Chinese.
    c.goto(&format!("{base}/cases/CASE-C0003")).await.map_err(fail("goto"))?;
    let script = until_text(c, "#script-text", |t| t.contains("李女士")).await?;
    if !script.contains("4994") || script.contains('{') {
        return Err(format!("the script: {script:?}"));
    }
    if !text_of(c, "#call-steps").await?.contains("核实身份") {
        return Err("the call's steps".into());
    }
    docs_shot(c, "case-script").await;
    // Three cases worked.
    record(c, base, "CASE-C0003", "no_answer", "无人接听").await?;
    record(c, base, "CASE-C0009", "conversation", "客户称月底前还款").await?;
    record(c, base, "CASE-C0005", "promise_to_pay", "承诺明天还一部分").await?;
    fill(c, "#promise-amount", "1500").await?;
    fill(c, "#promise-date", "03/04/2026").await?;
    click(c, "#lock-promise").await?;
    until_text(c, "#pending-promises", |t| t.contains("1,500.00")).await?;
    c.goto(&format!("{base}/workbench?worked=yes")).await.map_err(fail("goto"))?;
    let worked = until_text(c, "#queue-count", |t| t.contains("共 3")).await?;
    if worked.is_empty() {
        return Err("three cases worked today".into());
    }
    docs_shot(c, "worked").await;
    // The next morning's sweep: the promise due today has its reminder.
    store.sweep_promises("system", now() + 23.hours()).await.map_err(|e| e.to_string())?;
    c.goto(&format!("{base}/workbench")).await.map_err(fail("goto"))?;
    until_text(c, "#tasks", |t| t.contains("CASE-C0005")).await?;
    Ok(())
}

/// E003 asks for a waiver on 李娜's case; the lead sees what the case owes, its parts and the
/// share the waiver takes, rejects it with a reason, and the collector reads the reason.
async fn a_leads_approvals_with_context(c: &Client, base: &str) -> Step {
    sign_in(c, base, "E003", PASSWORD).await?;
    request_late_fee_waiver(c, base, "CASE-C0003", "20", "客户首次逾期").await?;
    sign_in(c, base, "L001", PASSWORD).await?;
    click(c, "#nav-approvals").await?;
    let context = until_text(c, "#waivers tr.context-row", |t| t.contains("当前欠款")).await?;
    if !context.contains("滞纳金 25.00") {
        return Err(format!("the case's figures: {context:?}"));
    }
    let row = text_of(c, "#waivers tbody tr:first-child").await?;
    if !row.contains("占该部分 80") || !row.contains("用户E003") {
        return Err(format!("the share and the applicant: {row:?}"));
    }
    docs_shot(c, "approvals-context").await;
    // A rejection needs its reason: the browser keeps the empty form from going.
    fill(c, "#waivers tbody tr:first-child .reject-reason", "本月已减免过滞纳金，请先约定还款").await?;
    click(c, "#waivers tbody tr:first-child button.reject").await?;
    until_text(c, "#flash", |t| t.contains("已驳回")).await?;
    sign_in(c, base, "E003", PASSWORD).await?;
    c.goto(&format!("{base}/cases/CASE-C0003")).await.map_err(fail("goto"))?;
    until_text(c, "#timeline", |t| t.contains("已驳回") && t.contains("本月已减免过滞纳金")).await?;
    Ok(())
}

/// A call's QC review closed with an outcome: the lead upholds it with a reason, the collector
/// appeals on the workbench, compliance refuses the appeal on /qc; the call's page shows every
/// step.
async fn a_review_upheld_appealed_and_decided(c: &Client, base: &str) -> Step {
    sign_in(c, base, "E003", PASSWORD).await?;
    c.goto(&format!("{base}/cases/CASE-C0005")).await.map_err(fail("goto"))?;
    let script = r#"
        const done = arguments[arguments.length - 1];
        const csrf = document.querySelector('input[name=csrf]').value;
        const post = (url, body) => fetch(url, {method: 'POST', headers: {'content-type': 'application/json', 'x-csrf-token': csrf}, body: JSON.stringify(body)});
        (async () => {
            const kase = await (await fetch('/api/cases/CASE-C0005')).json();
            if (!kase.attempt_choices.length) { done('no call on the case'); return; }
            const attempt = kase.attempt_choices[0][0];
            const turn = (speaker, start, text) => ({speaker, start_ms: start, end_ms: start + 2000, text});
            const r = await post(`/api/cases/CASE-C0005/attempts/${attempt}/transcript`, {
                call_id: 'e2e-appeal', started_at: '2026-03-03T10:00:00+08:00', language: 'zh-CN',
                turns: [turn('agent', 0, '您好，我是本行信用卡中心的催收员，工号3001。请问是陈女士本人吗？'),
                        turn('debtor', 2500, '是我，你们是不是公安局的？'),
                        turn('agent', 5000, '我们是公安局经侦的，您要配合还款。')]});
            done(r.status === 201 ? attempt : 'the transcript: ' + r.status);
        })().catch(e => done(String(e)));
    "#;
    let attempt = c.execute_async(script, vec![]).await.map_err(fail("transcript"))?;
    let Some(attempt) = attempt.as_i64() else { return Err(format!("{attempt}")) };
    // The lead upholds it, with the reason the collector will read.
    sign_in(c, base, "L001", PASSWORD).await?;
    click(c, "#nav-approvals").await?;
    let row = format!("tr[data-task]:has(a[href='/qc/{attempt}'])");
    wait_for(c, &row).await?;
    click(c, &format!("{row} input[value='upheld']")).await?;
    fill(c, &format!("{row} .task-reason"), "第 3 句自称公安局经侦，属冒充公检法").await?;
    docs_shot(c, "qc-review-uphold").await;
    click(c, &format!("{row} button.task-done")).await?;
    until_gone(c, &row).await?;
    // The collector reads it on the workbench and appeals.
    sign_in(c, base, "E003", PASSWORD).await?;
    let finding = "#tasks li[data-kind='qc_finding']";
    let text = until_text(c, finding, |t| t.contains("质检结论待确认")).await?;
    if !text.contains("第 3 句自称公安局经侦") {
        return Err(format!("the finding's reason on the workbench: {text:?}"));
    }
    click(c, &format!("{finding} input[value='appealed']")).await?;
    fill(c, &format!("{finding} .task-reason"), "是客户先问是不是公安局，我没有自称警察").await?;
    docs_shot(c, "qc-appeal").await;
    click(c, &format!("{finding} button.task-done")).await?;
    until_gone(c, finding).await?;
    // Compliance refuses the appeal on /qc, with a reason.
    sign_in(c, base, "C1", PASSWORD).await?;
    click(c, "#nav-qc").await?;
    let appeal = until_text(c, "#appeals", |t| t.contains("是客户先问是不是公安局")).await?;
    if !appeal.contains("CASE-C0005") {
        return Err(format!("the appeal on /qc: {appeal:?}"));
    }
    click(c, "#appeals input[value='refused']").await?;
    fill(c, "#appeals .task-reason", "录音第 3 句为催收员主动自称，申诉不成立").await?;
    click(c, "#appeals button.task-done").await?;
    // Back on /qc with the appeal decided (then, and only then, to the call's page).
    until_gone(c, "#appeals").await?;
    c.goto(&format!("{base}/qc/{attempt}")).await.map_err(fail("goto"))?;
    let steps = until_text(c, "#qc-review", |t| t.contains("申诉驳回")).await?;
    for part in ["违规成立", "申诉", "录音第 3 句为催收员主动自称"] {
        if !steps.contains(part) {
            return Err(format!("{part} in the review's steps: {steps:?}"));
        }
    }
    docs_shot(c, "qc-review-steps").await;
    Ok(())
}

/// An analyst checks a strategy with a mistake (shown at its line, the text kept), saves the
/// corrected one, and reads an experiment's report with its intervals.
async fn an_analysts_strategy_and_report(c: &Client, base: &str) -> Step {
    sign_in(c, base, "S1", PASSWORD).await?;
    c.goto(&format!("{base}/admin/strategy")).await.map_err(fail("goto"))?;
    wait_for(c, "#strategy-text").await?;
    // A typo in a key: the editor's text changed in place (typing 10 KB would take long).
    let broken = r#"
        const t = document.querySelector('#strategy-text');
        t.value = t.value.replace('[[ladder]]', '[[laddr]]');
        return t.value.includes('[[laddr]]');
    "#;
    if c.execute(broken, vec![]).await.map_err(fail("edit"))? != serde_json::json!(true) {
        return Err("the editor holds the strategy".into());
    }
    click(c, "#strategy-check").await?;
    let problems = until_text(c, "#strategy-problems", |t| t.contains("STRATEGY_TOML")).await?;
    if !problems.contains("行") {
        return Err(format!("the problem's line: {problems:?}"));
    }
    let marked = text_of(c, "#strategy-problems .strategy-excerpt .bad").await?;
    if !marked.contains("laddr") {
        return Err(format!("the marked line: {marked:?}"));
    }
    docs_shot(c, "strategy-check").await;
    let fixed = r#"
        const t = document.querySelector('#strategy-text');
        t.value = t.value.replace('[[laddr]]', '[[ladder]]');
        return true;
    "#;
    c.execute(fixed, vec![]).await.map_err(fail("edit"))?;
    fill(c, "#strategy-note", "恢复默认阶梯").await?;
    click(c, "#strategy-save").await?;
    until_text(c, "#strategy-saved", |t| t.contains("v1")).await?;
    // An experiment and its report.
    fill(c, "#experiment-name", "m1-scripts").await?;
    click(c, "#create-experiment").await?;
    until_text(c, "#flash", |t| t.contains("m1-scripts")).await?;
    click(c, "a.experiment-report").await?;
    wait_for(c, "#report").await?;
    // Since February: the fixture's calls and payments fall in its arms.
    let url = format!("{}?from=2026-02-01", path_of(c).await?);
    c.goto(&format!("{base}{url}")).await.map_err(fail("goto"))?;
    let report = until_text(c, "#report", |t| t.contains("冠军")).await?;
    if !report.contains("挑战者") {
        return Err(format!("the arms in words: {report:?}"));
    }
    wait_for(c, "#experiment-charts svg.intervals").await?;
    docs_shot(c, "experiment-report").await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collectors_morning_and_a_leads_approvals_in_chromium() {
    let Some((driver_bin, chrome_bin)) = browser_bins() else { return };
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let hash = daylight_server::auth::hash_password(PASSWORD).unwrap();
    let e003 = NewUser {
        login: "E003".into(),
        name: "用户E003".into(),
        mobile: None,
        role: Role::Collector,
        team: Some("T1".into()),
        agency: None,
        disabled: false,
        password_hash: hash,
        must_change: false,
    };
    store.create_user(&e003, "test", now()).await.unwrap();
    let to = Assignment { team: Some("T1".into()), collector: Some("E003".into()), agency: None };
    for case in ["CASE-C0003", "CASE-C0005", "CASE-C0009"] {
        store
            .assign_case(&daylight_domain::id::CaseId::parse(case).unwrap(), &to, "test", now())
            .await
            .unwrap();
    }
    crate::campaign::plan_today(&*store, daylight_strategy::document::DEFAULT).await;
    // Yesterday 周杰 promised 500 for today at 18:00: this morning's reminder.
    let promise = NewPromise {
        case: daylight_domain::id::CaseId::parse("CASE-C0009").unwrap(),
        account: Some(daylight_domain::id::AccountId::parse("A0009").unwrap()),
        attempt: None,
        amount: daylight_domain::Money::new(50_000, daylight_domain::Currency::Cny),
        due_at: "2026-03-03T10:00:00Z".parse().unwrap(),
    };
    store.create_promise(&promise, "E003", now() - 24.hours()).await.unwrap();
    store.sweep_promises("system", now()).await.unwrap();
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
    if let Err(why) = a_collectors_morning(&c, &base, &store).await {
        shot(&c, &failures_dir, "a_collectors_morning").await;
        failures
            .push(format!("a_collectors_morning: {why} (screenshot: target/e2e/a_collectors_morning.png)"));
    }
    if let Err(why) = a_leads_approvals_with_context(&c, &base).await {
        shot(&c, &failures_dir, "a_leads_approvals_with_context").await;
        failures.push(format!("a_leads_approvals_with_context: {why} (screenshot: target/e2e/a_leads_approvals_with_context.png)"));
    }
    if let Err(why) = a_review_upheld_appealed_and_decided(&c, &base).await {
        shot(&c, &failures_dir, "a_review_upheld_appealed_and_decided").await;
        failures.push(format!("a_review_upheld_appealed_and_decided: {why} (screenshot: target/e2e/a_review_upheld_appealed_and_decided.png)"));
    }
    if let Err(why) = an_analysts_strategy_and_report(&c, &base).await {
        shot(&c, &failures_dir, "an_analysts_strategy_and_report").await;
        failures.push(format!("an_analysts_strategy_and_report: {why} (screenshot: target/e2e/an_analysts_strategy_and_report.png)"));
    }
    let _ = c.close().await;
    drop(driver);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    store.close().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
