use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome};
use daylight_domain::customer::Recipient;
use daylight_domain::id::ContactId;
use daylight_store::StoreError;
use daylight_store::access::Scope;
use daylight_store::desk::{Audience, TaskClose, TaskKind, TaskOutcome, TaskStatus};
use daylight_store::model::Assignment;
use daylight_store::qc::{NewQcCall, QcFinding};
use daylight_testdb::contract;
use jiff::ToSpan;

use crate::fixtures::*;

fn code(e: StoreError) -> String {
    e.code().to_owned()
}

fn conversation(case: u32) -> Attempt {
    Attempt {
        case: case_id(case),
        account: None,
        at: now(),
        channel: Channel::Call,
        recipient: Recipient::Debtor,
        contact_point: Some(ContactId::parse(&format!("P{case:04}-debtor")).unwrap()),
        agent: Agent::Collector("E001".into()),
        outcome: Outcome::Conversation,
        duration_secs: 240,
        note: None,
    }
}

fn finding(code: &str, severity: &str, speaker: &str, turn: i64, text: &str) -> QcFinding {
    QcFinding {
        code: code.into(),
        severity: severity.into(),
        speaker: speaker.into(),
        turn,
        span: [0, text.chars().count() as i64],
        text: text.into(),
    }
}

fn analysed(case: u32, attempt: i64) -> NewQcCall {
    NewQcCall {
        attempt,
        case: case_id(case),
        call_id: format!("call-{attempt}"),
        rules: "cn-default 2026.11.1".into(),
        transcript: r#"{"call_id":"x","turns":[]}"#.into(),
        findings: vec![
            finding("AGENT_IMPERSONATION", "critical", "agent", 3, "刑侦大队"),
            finding("DEBTOR_HARDSHIP", "major", "debtor", 4, "失业"),
            finding("DEBTOR_ANXIOUS", "info", "debtor", 4, "睡不着"),
        ],
        promise: Some((200_000, now() + 48.hours())),
        tags: vec![("hardship".into(), "QC: 失业".into()), ("anxious".into(), "QC: 睡不着".into())],
        review: Some("QC call: AGENT_IMPERSONATION".into()),
    }
}

contract! {
    /// A call's analysis is stored with its attempt once, tags the debtor, opens the team lead's
    /// review, and is read back by scope, case and code.
    fn a_calls_analysis_tags_the_debtor_and_opens_a_review(store, db) {
        portfolio(store, 2, |_| 40).await;
        let owner = |team: &str| Assignment { team: Some(team.into()), collector: Some("E001".into()), agency: None };
        store.assign_case(&case_id(1), &owner("T1"), "L001", now()).await.unwrap();
        store.assign_case(&case_id(2), &owner("T2"), "L001", now()).await.unwrap();
        let a1 = store.record_attempt(&conversation(1), "E001", now()).await.unwrap().id.unwrap();
        let head = store.ledger_head().await.unwrap();
        // Refusals write nothing: another case's attempt, a bad code, a tag QC may not set.
        assert_eq!(code(store.record_qc(&analysed(2, a1), "qc", now()).await.unwrap_err()), "NOT_FOUND", "another case's call is not found");
        let mut bad = analysed(1, a1);
        bad.findings[0].code = "threat".into();
        assert_eq!(code(store.record_qc(&bad, "qc", now()).await.unwrap_err()), "ENUM");
        let mut bad = analysed(1, a1);
        bad.tags.push(("vip".into(), "x".into()));
        assert_eq!(code(store.record_qc(&bad, "qc", now()).await.unwrap_err()), "ENUM");
        assert_eq!(store.ledger_head().await.unwrap(), head, "refusals write nothing");

        let r = store.record_qc(&analysed(1, a1), "qc", now()).await.unwrap();
        assert_eq!(r.tags, vec!["hardship".to_owned(), "anxious".to_owned()]);
        let task = r.task.expect("a review task");
        assert_eq!(code(store.record_qc(&analysed(1, a1), "qc", now()).await.unwrap_err()), "EXISTS", "once per attempt");

        // The tags reach the planner.
        let cases = store.plan_cases(now() + 24.hours()).await.unwrap();
        let c1 = cases.iter().find(|c| c.case == case_id(1).as_str()).unwrap();
        assert!(c1.hardship && c1.anxious && !c1.abusive);
        let c2 = cases.iter().find(|c| c.case == case_id(2).as_str()).unwrap();
        assert!(!c2.hardship && !c2.anxious);

        // The review is the team lead's, about the attempt, with the codes.
        let tasks = store.tasks_in(&Scope::Team("T1".into()), Some(Audience::Lead), Some(TaskStatus::Open), 10).await.unwrap();
        let t = tasks.iter().find(|t| t.id == task).unwrap();
        assert_eq!((t.kind, t.attempt, t.note.as_deref()), (TaskKind::QcReview, Some(a1), Some("QC call: AGENT_IMPERSONATION")));
        assert!(store.tasks_in(&Scope::Team("T2".into()), None, None, 10).await.unwrap().is_empty());

        // The review closes with an outcome and, when upheld, a reason; the finding goes to the
        // collector, who appeals; compliance decides the appeal. Refusals write nothing.
        let lead = Scope::Team("T1".into());
        let close = |o: Option<TaskOutcome>, n: Option<&str>| TaskClose { outcome: o, note: n.map(str::to_owned) };
        let head = store.ledger_head().await.unwrap();
        assert_eq!(code(store.finish_task(&lead, task, &close(None, None), "L001", now()).await.unwrap_err()), "REQUIRED", "an outcome is required");
        assert_eq!(code(store.finish_task(&lead, task, &close(Some(TaskOutcome::Upheld), Some("  ")), "L001", now()).await.unwrap_err()), "REQUIRED", "upheld says why");
        assert_eq!(code(store.finish_task(&lead, task, &close(Some(TaskOutcome::Granted), None), "L001", now()).await.unwrap_err()), "ENUM");
        assert_eq!(store.ledger_head().await.unwrap(), head, "refusals write nothing");
        let finding = store.finish_task(&lead, task, &close(Some(TaskOutcome::Upheld), Some("冒充公安，录音第 2 句")), "L001", now()).await.unwrap().expect("a finding for the collector");
        let mine = store.tasks_in(&Scope::Collector("E001".into()), Some(Audience::Collector), Some(TaskStatus::Open), 10).await.unwrap();
        let f = mine.iter().find(|t| t.id == finding).expect("on the collector's list");
        assert_eq!((f.kind, f.attempt, f.note.as_deref(), f.follows), (TaskKind::QcFinding, Some(a1), Some("冒充公安，录音第 2 句"), Some(task)));
        assert_eq!(code(store.finish_task(&Scope::Collector("E001".into()), finding, &close(Some(TaskOutcome::Appealed), None), "E001", now()).await.unwrap_err()), "REQUIRED", "an appeal says why");
        let appeal = store.finish_task(&Scope::Collector("E001".into()), finding, &close(Some(TaskOutcome::Appealed), Some("客户先提到派出所")), "E001", now()).await.unwrap().expect("an appeal");
        let open = store.tasks_in(&Scope::All, Some(Audience::Compliance), Some(TaskStatus::Open), 10).await.unwrap();
        assert_eq!(open.iter().map(|t| (t.id, t.kind, t.follows)).collect::<Vec<_>>(), [(appeal, TaskKind::QcAppeal, Some(finding))]);
        assert_eq!(store.finish_task(&Scope::All, appeal, &close(Some(TaskOutcome::Granted), None), "K1", now()).await.unwrap(), None, "the chain ends");
        let chain = store.attempt_tasks(&Scope::All, a1).await.unwrap();
        let steps: Vec<_> = chain.iter().map(|t| (t.kind, t.outcome, t.done_by.as_deref())).collect();
        assert_eq!(steps, [
            (TaskKind::QcReview, Some(TaskOutcome::Upheld), Some("L001")),
            (TaskKind::QcFinding, Some(TaskOutcome::Appealed), Some("E001")),
            (TaskKind::QcAppeal, Some(TaskOutcome::Granted), Some("K1")),
        ]);
        assert_eq!(chain[0].outcome_note.as_deref(), Some("冒充公安，录音第 2 句"));
        assert!(store.attempt_tasks(&Scope::Team("T2".into()), a1).await.unwrap().is_empty());
        let done = events(store, "task.done").await;
        assert_eq!(done.len(), 3);
        assert!(done[0].payload.contains("\"outcome\":\"upheld\"") && done[0].payload.contains("reason_sha256") && !done[0].payload.contains("冒充"), "{}", done[0].payload);

        // Read back by scope, case and code; the transcript only within scope.
        let all = store.qc_calls_in(&Scope::All, None, None, 10).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].findings.len(), 3);
        assert_eq!(all[0].findings[0].text, "刑侦大队");
        assert_eq!(all[0].promise, Some((200_000, now() + 48.hours())));
        assert_eq!(store.qc_calls_in(&Scope::All, None, Some("DEBTOR_HARDSHIP"), 10).await.unwrap().len(), 1);
        assert!(store.qc_calls_in(&Scope::All, None, Some("AGENT_THREAT"), 10).await.unwrap().is_empty());
        assert!(store.qc_calls_in(&Scope::Team("T2".into()), None, None, 10).await.unwrap().is_empty());
        assert_eq!(store.qc_calls_in(&Scope::All, Some(&case_id(1)), None, 10).await.unwrap().len(), 1);
        let (call, transcript) = store.qc_transcript(&Scope::Team("T1".into()), a1).await.unwrap();
        assert_eq!((call.attempt, transcript.as_str()), (a1, r#"{"call_id":"x","turns":[]}"#));
        assert_eq!(code(store.qc_transcript(&Scope::Team("T2".into()), a1).await.unwrap_err()), "NOT_FOUND");

        // The ledger: the analysis (a digest, not the text) and the two tags.
        let ev = events(store, "qc.analysed").await;
        assert_eq!(ev.len(), 1);
        assert!(!ev[0].payload.contains("刑侦大队") && ev[0].payload.contains("AGENT_IMPERSONATION"), "{}", ev[0].payload);
        assert_eq!(events(store, "debtor.tagged").await.len(), 2);
        verified_head(store).await;
    }
}
