//! The contact gate: every attempt is judged against the stored history in the transaction that
//! records it; denials are ledger events; concurrent dialers never exceed a cap together.

use std::sync::Arc;

use daylight_compliance::{Pack, Rule};
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome, Planned};
use daylight_domain::customer::Recipient;
use daylight_domain::id::{AccountId, ContactId, CustomerId};
use daylight_store::Store;
use daylight_store::model::{ContactFlags, InboundEnd, NewInbound, NewRecording};
use daylight_testdb::contract;
use jiff::Timestamp;

use crate::fixtures::*;

fn attempt(case: u32, at: &str, channel: Channel, who: Recipient, outcome: Outcome) -> Attempt {
    let role = match who {
        Recipient::Debtor => "debtor",
        Recipient::Guarantor => "guarantor",
        Recipient::ThirdParty => "emergency_contact",
    };
    Attempt {
        case: case_id(case),
        account: Some(AccountId::parse(&format!("A{case:04}")).unwrap()),
        at: t(at),
        channel,
        recipient: who,
        contact_point: Some(ContactId::parse(&format!("P{case:04}-{role}")).unwrap()),
        agent: Agent::Collector("E001".into()),
        outcome,
        duration_secs: 0,
        note: None,
    }
}

fn debtor_call(at: &str, outcome: Outcome) -> Attempt {
    attempt(1, at, Channel::Call, Recipient::Debtor, outcome)
}

/// A clock after every contact these tests record.
fn late() -> Timestamp {
    t("2026-03-10T00:00:00Z")
}

async fn record(store: &dyn Store, a: &Attempt) -> daylight_store::model::Gated {
    store.record_attempt(a, "E001", late()).await.unwrap()
}

fn rules(g: &daylight_store::model::Gated) -> Vec<&'static str> {
    g.decision.violations.iter().map(|r| r.code()).collect()
}

contract! {
    /// A call at 21:00 Shanghai time is refused: nothing is recorded but the denial.
    fn a_denied_attempt_is_not_recorded_but_its_denial_is(store, db) {
        portfolio(store, 1, |_| 40).await;
        let head = store.ledger_head().await.unwrap();
        let g = record(store, &debtor_call("2026-03-03T13:00:00Z", Outcome::NoAnswer)).await;
        assert_eq!((g.decision.allowed, g.id, rules(&g)), (false, None, vec!["HOURS"]));
        assert_eq!(g.decision.next_allowed_at, Some(t("2026-03-04T00:00:00Z")));
        assert_eq!((g.pack.as_str(), g.time_zone.as_str()), ("cn-default", "Asia/Shanghai"));
        assert!(store.case_detail(&case_id(1)).await.unwrap().attempts.is_empty());
        assert_eq!(store.ledger_head().await.unwrap().seq, head.seq + 1);
        let ev = events(store, "attempt.denied").await;
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].subject, "CASE-C0001");
        assert!(ev[0].payload.contains("\"rules\":[\"HOURS\"]"), "{}", ev[0].payload);
        assert!(ev[0].payload.contains("\"next_allowed_at\":\"2026-03-04T00:00:00.000000Z\""), "{}", ev[0].payload);
        verified_head(store).await;
    }

    /// The daily cap counts every agent and channel of call; texts and guarantors are apart.
    fn the_gate_counts_the_stored_history(store, db) {
        portfolio(store, 1, |_| 40).await;
        let robot = Attempt { agent: Agent::Robot("R1".into()), channel: Channel::RobotCall, ..debtor_call("2026-03-03T01:00:00Z", Outcome::NoAnswer) };
        let agency = Attempt {
            agent: Agent::Agency { agency: "ACME".into(), collector: "A12".into() },
            ..debtor_call("2026-03-03T02:00:00Z", Outcome::Busy)
        };
        for a in [debtor_call("2026-03-03T00:30:00Z", Outcome::NoAnswer), robot, agency] {
            let g = record(store, &a).await;
            assert!(g.decision.allowed && g.id.is_some(), "{:?}", g.decision);
        }
        let g = record(store, &debtor_call("2026-03-03T03:00:00Z", Outcome::Conversation)).await;
        assert_eq!(rules(&g), ["DAILY_CAP"]);
        assert_eq!(g.decision.next_allowed_at, Some(t("2026-03-04T00:00:00Z")));
        let sms = attempt(1, "2026-03-03T03:00:00Z", Channel::Sms, Recipient::Debtor, Outcome::Delivered);
        assert!(record(store, &sms).await.decision.allowed);
        let g = attempt(1, "2026-03-03T03:00:00Z", Channel::Call, Recipient::Guarantor, Outcome::NoAnswer);
        assert!(record(store, &g).await.decision.allowed);
        assert_eq!(store.case_detail(&case_id(1)).await.unwrap().attempts.len(), 5);
        // Another debtor is not affected.
        portfolio(store, 2, |_| 40).await;
        let other = attempt(2, "2026-03-03T03:00:00Z", Channel::Call, Recipient::Debtor, Outcome::NoAnswer);
        assert!(record(store, &other).await.decision.allowed);
        verified_head(store).await;
    }

    /// A queue's "worked today" and a list's count: attempts since an instant per case, and the
    /// number of cases a filter selects whatever its page.
    fn a_case_list_counts_attempts_since_and_its_whole_length(store, db) {
        use daylight_store::model::CaseFilter;
        portfolio(store, 3, |_| 40).await;
        for at in ["2026-03-02T03:00:00Z", "2026-03-03T01:00:00Z", "2026-03-03T02:00:00Z"] {
            assert!(record(store, &debtor_call(at, Outcome::NoAnswer)).await.decision.allowed);
        }
        let since = CaseFilter { attempts_since: Some(t("2026-03-02T16:00:00Z")), ..CaseFilter::default() };
        let mut worked: Vec<(String, u32)> = store
            .list_cases(&since)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.case.id.as_str().to_owned(), s.attempts_since))
            .collect();
        worked.sort();
        assert_eq!(worked, [("CASE-C0001".to_owned(), 2), ("CASE-C0002".to_owned(), 0), ("CASE-C0003".to_owned(), 0)]);
        let unasked = store.list_cases(&CaseFilter::default()).await.unwrap();
        assert!(unasked.iter().all(|s| s.attempts_since == 0), "not counted unless asked");
        let page = CaseFilter { limit: 1, offset: 1, ..CaseFilter::default() };
        assert_eq!(store.list_cases(&page).await.unwrap().len(), 1);
        assert_eq!(store.count_cases(&page).await.unwrap(), 3, "the whole list, not the page");
        let one = CaseFilter { search: Some("13812340002".into()), ..CaseFilter::default() };
        assert_eq!(store.count_cases(&one).await.unwrap(), 1);
        let none = CaseFilter { scope: daylight_store::access::Scope::Collector("NOBODY".into()), ..CaseFilter::default() };
        assert_eq!(store.count_cases(&none).await.unwrap(), 0, "within the scope");
    }

    /// A batch is judged in order as single records would be: its fourth call on one day is
    /// denied by the cap its first three fill; a bad attempt writes none of the batch.
    fn a_batch_is_gated_in_order_in_one_transaction(store, db) {
        portfolio(store, 2, |_| 40).await;
        let calls = ["2026-03-03T00:30:00Z", "2026-03-03T01:30:00Z", "2026-03-03T02:30:00Z", "2026-03-03T03:30:00Z"];
        let mut batch: Vec<Attempt> = calls.iter().map(|at| debtor_call(at, Outcome::NoAnswer)).collect();
        batch.push(attempt(2, "2026-03-03T13:00:00Z", Channel::Call, Recipient::Debtor, Outcome::NoAnswer));
        batch.push(attempt(2, "2026-03-03T03:00:00Z", Channel::Sms, Recipient::Debtor, Outcome::Delivered));
        let head = store.ledger_head().await.unwrap();
        let gated = store.record_attempts(&batch, "twin", late()).await.unwrap();
        let verdicts: Vec<(bool, Vec<&str>)> = gated.iter().map(|g| (g.id.is_some(), rules(g))).collect();
        assert_eq!(verdicts, [(true, vec![]), (true, vec![]), (true, vec![]), (false, vec!["DAILY_CAP"]), (false, vec!["HOURS"]), (true, vec![])]);
        assert_eq!(store.case_detail(&case_id(1)).await.unwrap().attempts.len(), 3);
        assert_eq!(store.case_detail(&case_id(2)).await.unwrap().attempts.len(), 1);
        // Four recorded, two denied: one ledger event each.
        assert_eq!(store.ledger_head().await.unwrap().seq, head.seq + 6);
        // A text with a call's outcome is an error, not a denial: nothing of the batch is kept.
        let bad = vec![
            attempt(2, "2026-03-04T01:00:00Z", Channel::Call, Recipient::Debtor, Outcome::NoAnswer),
            attempt(2, "2026-03-04T02:00:00Z", Channel::Sms, Recipient::Debtor, Outcome::NoAnswer),
        ];
        let e = store.record_attempts(&bad, "twin", late()).await.unwrap_err();
        assert_eq!(e.code(), "INCONSISTENT");
        assert!(e.to_string().contains("attempt 2 of the batch: outcome no_answer cannot come of a sms attempt"), "{e}");
        // A number the store does not keep, found inside the transaction after the first
        // contact was written: the whole batch is rolled back.
        let unknown = Attempt { contact_point: Some(ContactId::parse("P9999-debtor").unwrap()), ..bad[0].clone() };
        let head = store.ledger_head().await.unwrap();
        let e = store.record_attempts(&[bad[0].clone(), unknown], "twin", late()).await.unwrap_err();
        assert_eq!(e.code(), "NOT_FOUND", "{e}");
        assert_eq!(store.case_detail(&case_id(2)).await.unwrap().attempts.len(), 1);
        assert_eq!(store.ledger_head().await.unwrap(), head);
        verified_head(store).await;
    }

    /// An emergency contact needs three failed calls to the debtor and a team lead's approval.
    fn third_parties_wait_for_failures_and_a_confirmation(store, db) {
        portfolio(store, 1, |_| 40).await;
        let tp = attempt(1, "2026-03-03T06:00:00Z", Channel::Call, Recipient::ThirdParty, Outcome::ThirdPartyAnswered);
        assert_eq!(rules(&record(store, &tp).await), ["THIRD_PARTY"]);
        for at in ["2026-03-03T00:10:00Z", "2026-03-03T01:10:00Z", "2026-03-03T02:10:00Z"] {
            assert!(record(store, &debtor_call(at, Outcome::NoAnswer)).await.decision.allowed);
        }
        assert_eq!(rules(&record(store, &tp).await), ["THIRD_PARTY"], "not confirmed");
        let ask = daylight_store::desk::NewThirdPartyRequest {
            case: case_id(1),
            contact_point: tp.contact_point.clone().unwrap(),
            reason: "本人三次未接通".into(),
        };
        let id = store.request_third_party(&ask, "E001", t("2026-03-03T05:00:00Z")).await.unwrap();
        store.decide_third_party(id, true, "L001", t("2026-03-03T05:10:00Z")).await.unwrap();
        let g = store.record_attempt(&tp, "E001", late()).await.unwrap();
        assert!(g.decision.allowed, "{:?}", g.decision);
        let again = Attempt { at: t("2026-03-03T07:00:00Z"), ..tp.clone() };
        let g = store.record_attempt(&again, "E001", late()).await.unwrap();
        assert_eq!(rules(&g), ["THIRD_PARTY"], "one a day per number");
    }

    /// Started attempts hold their place under the caps until they are finished.
    fn started_attempts_hold_their_place(store, db) {
        portfolio(store, 1, |_| 40).await;
        let planned = |at: &str| Planned::from(&debtor_call(at, Outcome::NoAnswer));
        let mut ids = Vec::new();
        for at in ["2026-03-03T01:00:00Z", "2026-03-03T01:01:00Z", "2026-03-03T01:02:00Z"] {
            let g = store.start_attempt(&planned(at), "R1", t(at)).await.unwrap();
            ids.push(g.id.unwrap());
        }
        let g = store.start_attempt(&planned("2026-03-03T01:03:00Z"), "R1", t("2026-03-03T01:03:00Z")).await.unwrap();
        assert_eq!(rules(&g), ["DAILY_CAP"]);
        assert_eq!(g.texts[0].citation.as_ref(), pack().daily_cap.unwrap().text.citation.as_ref());
        assert_eq!(store.started_attempts().await.unwrap().len(), 3);
        let at = t("2026-03-03T01:05:00Z");
        let id = store.finish_attempt(ids[0], Outcome::PromiseToPay, 75, Some("月底还款"), "R1", at).await.unwrap();
        let d = store.case_detail(&case_id(1)).await.unwrap();
        assert_eq!(d.attempts.len(), 1);
        assert_eq!((d.attempts[0].id, d.attempts[0].attempt.outcome, d.attempts[0].attempt.at), (id, Outcome::PromiseToPay, t("2026-03-03T01:00:00Z")));
        assert_eq!(store.started_attempts().await.unwrap().len(), 2);
        // Finishing twice, or with an outcome a call cannot have, is refused.
        assert_eq!(store.finish_attempt(ids[0], Outcome::NoAnswer, 0, None, "R1", at).await.unwrap_err().code(), "NOT_FOUND");
        assert_eq!(store.finish_attempt(ids[1], Outcome::Sent, 0, None, "R1", at).await.unwrap_err().code(), "INCONSISTENT");
        assert_eq!(store.started_attempts().await.unwrap().len(), 2);
        let ev = events(store, "attempt.started").await;
        assert_eq!(ev.len(), 3);
        assert!(events(store, "attempt.recorded").await[0].payload.contains(&format!("\"started\":{}", ids[0])));
        // A start is made now; a record is of the past.
        let e = store.start_attempt(&planned("2026-03-03T02:00:00Z"), "R1", at).await.unwrap_err();
        assert_eq!(e.code(), "CONTACT_TIME");
        let e = store.record_attempt(&debtor_call("2026-03-03T02:00:00Z", Outcome::NoAnswer), "E001", at).await.unwrap_err();
        assert_eq!(e.code(), "CONTACT_TIME");
        // Two hours on, an unfinished start cannot be finished: the next gate of the debtor
        // records it as not connected.
        let later = t("2026-03-03T03:30:00Z");
        assert_eq!(store.finish_attempt(ids[1], Outcome::Conversation, 60, None, "R1", later).await.unwrap_err().code(), "EXPIRED");
        let sms = attempt(1, "2026-03-03T03:20:00Z", Channel::Sms, Recipient::Debtor, Outcome::Delivered);
        assert!(store.record_attempt(&sms, "E001", later).await.unwrap().decision.allowed);
        assert!(store.started_attempts().await.unwrap().is_empty());
        let d = store.case_detail(&case_id(1)).await.unwrap();
        let expired: Vec<_> = d.attempts.iter().filter(|a| a.recorded_by == "daylight:start-expiry").collect();
        assert_eq!(expired.len(), 2);
        assert!(expired.iter().all(|a| a.attempt.outcome == Outcome::NotConnected));
        assert_eq!(store.finish_attempt(ids[2], Outcome::NoAnswer, 0, None, "R1", later).await.unwrap_err().code(), "NOT_FOUND");
        verified_head(store).await;
    }

    /// A cease request stops everything but letters; opt-outs close a channel.
    fn cease_requests_and_opt_outs_are_kept(store, db) {
        portfolio(store, 1, |_| 40).await;
        let c1 = CustomerId::parse("C0001").unwrap();
        assert_eq!(store.contact_flags(&c1).await.unwrap(), ContactFlags::default());
        assert!(record(store, &debtor_call("2026-03-03T01:00:00Z", Outcome::CeaseRequest)).await.decision.allowed);
        assert!(store.contact_flags(&c1).await.unwrap().cease);
        let g = record(store, &attempt(1, "2026-03-05T01:00:00Z", Channel::Sms, Recipient::Debtor, Outcome::Delivered)).await;
        assert_eq!((rules(&g), g.decision.next_allowed_at), (vec!["CEASE"], None));
        let letter = Attempt { contact_point: None, ..attempt(1, "2026-03-05T01:00:00Z", Channel::Letter, Recipient::Debtor, Outcome::Sent) };
        assert!(record(store, &letter).await.decision.allowed);
        let flags = ContactFlags { cease: false, opt_out: vec![Channel::Sms], consented_hours: false };
        store.set_contact_flags(&c1, &flags, "TL01", now()).await.unwrap();
        assert_eq!(store.contact_flags(&c1).await.unwrap(), flags);
        let g = record(store, &attempt(1, "2026-03-05T01:00:00Z", Channel::Sms, Recipient::Debtor, Outcome::Delivered)).await;
        assert_eq!(rules(&g), ["OPT_OUT"]);
        assert_eq!(events(store, "contact.flags").await.len(), 2);
        let nobody = CustomerId::parse("C0404").unwrap();
        assert_eq!(store.set_contact_flags(&nobody, &flags, "TL01", now()).await.unwrap_err().code(), "NOT_FOUND");
    }

    /// The pack in force is stored with the data and recorded in the ledger; the gate uses it.
    fn the_pack_in_force_is_configuration(store, db) {
        portfolio(store, 1, |_| 40).await;
        assert_eq!(store.policy_pack().await.unwrap().name, "cn-default");
        let late_call = debtor_call("2026-03-03T13:00:00Z", Outcome::NoAnswer);
        assert_eq!(rules(&record(store, &late_call).await), ["HOURS"]);
        let cba = Pack::shipped("cn-cba-2026").unwrap();
        store.set_policy_pack(&cba, "admin", now()).await.unwrap();
        let pack = store.policy_pack().await.unwrap();
        assert_eq!(pack.name, "cn-cba-2026");
        assert!(pack.conversation_cap.is_some());
        assert!(events(store, "config.changed").await.iter().any(|e| e.payload.contains("cn-cba-2026")));
        // Under this pack, 21:00 is within hours.
        let g = record(store, &late_call).await;
        assert!(g.decision.allowed);
        assert_eq!(g.pack, "cn-cba-2026");
        // Years added from a file are not in the pack's text, so they cannot be put in force.
        let mut cal = (*cba.calendar).clone();
        cal.merge_toml("[[year]]\nyear = 2027\nsource = \"x\"\n", "2027.toml").unwrap();
        let with_years = cba.with_calendar(Arc::new(cal));
        assert_eq!(store.set_policy_pack(&with_years, "admin", now()).await.unwrap_err().code(), "INCONSISTENT");
    }

    /// Twelve dialers — collectors, robots and an agency — race for one debtor: exactly three
    /// calls get through (DAILY_CAP), every other attempt is a denial in the ledger.
    fn concurrent_dialers_never_exceed_a_cap_together(store, db) {
        portfolio(store, 1, |_| 40).await;
        // Two handles, as two processes would have: each with its own connections.
        let handles: [Arc<dyn Store>; 2] = [Arc::from(db.open().await), Arc::from(db.open().await)];
        let mut tasks = Vec::new();
        for w in 0..12u32 {
            let s = handles[w as usize % 2].clone();
            tasks.push(tokio::spawn(async move {
                let mut allowed = 0;
                for k in 0..3u32 {
                    let agent = match w % 3 {
                        0 => Agent::Collector(format!("E{w}")),
                        1 => Agent::Robot(format!("R{w}")),
                        _ => Agent::Agency { agency: "ACME".into(), collector: format!("A{w}") },
                    };
                    let at: Timestamp = t("2026-03-03T02:00:00Z") + jiff::SignedDuration::from_secs(i64::from(w * 10 + k));
                    // Half name no account, so no account row serialises them by chance.
                    let account = (w % 2 == 0).then(|| AccountId::parse("A0001").unwrap());
                    let a = Attempt { agent, at, account, ..debtor_call("2026-03-03T02:00:00Z", Outcome::NoAnswer) };
                    let g = if k % 2 == 0 {
                        s.record_attempt(&a, "dialer", late()).await.unwrap()
                    } else {
                        s.start_attempt(&Planned::from(&a), "dialer", at).await.unwrap()
                    };
                    if g.decision.allowed {
                        allowed += 1;
                    } else {
                        assert_eq!(g.decision.violations, [Rule::DailyCap]);
                    }
                }
                allowed
            }));
        }
        let mut allowed = 0;
        for t in tasks {
            allowed += t.await.unwrap();
        }
        assert_eq!(allowed, 3);
        let made = store.case_detail(&case_id(1)).await.unwrap().attempts.len() + store.started_attempts().await.unwrap().len();
        assert_eq!(made, 3);
        assert_eq!(events(store, "attempt.denied").await.len(), 33);
        verified_head(store).await;
    }

    /// A call through the switch: the number for it, its end with the recording (the hash in
    /// the attempt's event), a start the collector never answered withdrawn (nothing counts),
    /// and each access to a recording as evidence.
    fn a_call_is_finished_with_its_recording_or_withdrawn(store, db) {
        portfolio(store, 2, |_| 40).await;
        let point = ContactId::parse("P0001-debtor").unwrap();
        let number = store.dial_number(&case_id(1), &point).await.unwrap();
        assert!(number.chars().all(|c| c.is_ascii_digit() || c == '+'), "{number}");
        // Another debtor's point is not this case's to dial.
        let other = ContactId::parse("P0002-debtor").unwrap();
        assert_eq!(store.dial_number(&case_id(1), &other).await.unwrap_err().code(), "NOT_FOUND");
        let planned = |at: &str| Planned::from(&debtor_call(at, Outcome::NoAnswer));
        let at = "2026-03-03T01:00:00Z";
        let withdrawn = store.start_attempt(&planned(at), "E001", t(at)).await.unwrap().id.unwrap();
        store.withdraw_call(withdrawn, "the collector's phone did not answer", "E001", t(at)).await.unwrap();
        assert!(store.started_attempts().await.unwrap().is_empty());
        assert_eq!(store.withdraw_call(withdrawn, "again", "E001", t(at)).await.unwrap_err().code(), "NOT_FOUND");
        let ev = events(store, "attempt.withdrawn").await;
        assert!(ev.len() == 1 && ev[0].payload.contains("did not answer"));
        let started = store.start_attempt(&planned(at), "E001", t(at)).await.unwrap().id.unwrap();
        let file = NewRecording { path: "2026-03/call-2.wav.age".into(), sha256: "ab".repeat(32), bytes: 48_000, millis: 3_000 };
        let end = t("2026-03-03T01:02:00Z");
        let attempt = store.finish_call(started, Outcome::Conversation, 3, Some(&file), None, "E001", end).await.unwrap();
        let d = store.case_detail(&case_id(1)).await.unwrap();
        assert_eq!(d.attempts.len(), 1, "the withdrawn start left no attempt");
        assert_eq!((d.attempts[0].attempt.outcome, d.attempts[0].attempt.duration_secs), (Outcome::Conversation, 3));
        let recorded = events(store, "attempt.recorded").await;
        assert!(recorded[0].payload.contains(&"ab".repeat(32)) && recorded[0].payload.contains("\"millis\":3000"));
        let list = store.recordings_of(&case_id(1)).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].attempt, &list[0].file, list[0].recorded_at), (Some(attempt), &file, end));
        assert_eq!(store.recording(list[0].id).await.unwrap(), list[0]);
        assert!(store.recordings_of(&case_id(2)).await.unwrap().is_empty());
        store.recording_accessed(list[0].id, "listen", "L001", end).await.unwrap();
        assert_eq!(store.recording_accessed(list[0].id, "copy", "L001", end).await.unwrap_err().code(), "INCONSISTENT");
        assert_eq!(store.recording_accessed(999, "listen", "L001", end).await.unwrap_err().code(), "NOT_FOUND");
        let access = events(store, "recording.accessed").await;
        assert!(access.len() == 1 && access[0].payload.contains("\"how\":\"listen\""));
        // A supervisor on the call: each use is evidence, and only the known actions are.
        for action in ["listen", "whisper", "barge", "end", "hangup"] {
            store.call_supervised(&case_id(1), started, "E001", action, "L001", end).await.unwrap();
        }
        let bad = store.call_supervised(&case_id(1), started, "E001", "shout", "L001", end).await;
        assert_eq!(bad.unwrap_err().code(), "ENUM");
        let uses = events(store, "call.supervised").await;
        assert_eq!(uses.len(), 5);
        assert!(uses[2].payload.contains("\"action\":\"barge\"") && uses[2].payload.contains("\"collector\":\"E001\""));
        assert_eq!((uses[4].actor.as_str(), uses[4].subject.as_str()), ("L001", case_id(1).as_str()));
        verified_head(store).await;
    }

    /// A call from the trunk is matched to its case by number in the forms a trunk sends, logged
    /// as it arrives and as it ends (a `call.inbound` event with the recording's hash), and is no
    /// contact attempt.
    fn a_call_from_the_trunk_is_matched_by_number_and_logged(store, db) {
        portfolio(store, 2, |_| 40).await;
        let point = ContactId::parse("P0001-debtor").unwrap();
        let number = store.dial_number(&case_id(1), &point).await.unwrap();
        for form in [number.clone(), format!("+86{number}"), format!("0{number}"), format!("86{number}")] {
            let m = store.callers(&form).await.unwrap();
            assert_eq!(m.len(), 1, "{form}");
            assert_eq!((&m[0].case, &m[0].contact_point, m[0].role.as_str()), (&case_id(1), &point, "debtor"));
        }
        assert!(store.callers("10000000000").await.unwrap().is_empty());
        assert!(store.callers("").await.unwrap().is_empty());
        let at = t("2026-03-03T02:00:00Z");
        let new = NewInbound {
            number_masked: "*******0001".into(),
            number_sha256: "cd".repeat(32),
            dialled: "02160000000".into(),
            case: Some(case_id(1)),
            contact_point: Some(point.clone()),
            node: "host-a:5060".into(),
        };
        let id = store.inbound_started(&new, at).await.unwrap();
        let live = store.inbound_calls_of(&case_id(1)).await.unwrap();
        assert_eq!((live.len(), live[0].id, &live[0].call, live[0].end.is_none()), (1, id, &new, true));
        let file = NewRecording { path: "2026-03/inbound-1.wav.age".into(), sha256: "ef".repeat(32), bytes: 9_000, millis: 4_000 };
        let end = InboundEnd { collector: Some("E001".into()), outcome: "answered".into(), talk_secs: 4, recording: Some(file) };
        let bad = InboundEnd { outcome: "lost".into(), ..end.clone() };
        assert_eq!(store.inbound_finished(id, &bad, "daylight:switch", at).await.unwrap_err().code(), "ENUM");
        let later = t("2026-03-03T02:01:00Z");
        store.inbound_finished(id, &end, "daylight:switch", later).await.unwrap();
        assert_eq!(store.inbound_finished(id, &end, "daylight:switch", later).await.unwrap_err().code(), "INCONSISTENT");
        assert_eq!(store.inbound_finished(999, &end, "daylight:switch", later).await.unwrap_err().code(), "NOT_FOUND");
        let done = store.inbound_calls_of(&case_id(1)).await.unwrap();
        assert_eq!((done[0].end.as_ref(), done[0].ended_at), (Some(&end), Some(later)));
        // Its recording is in the vault's list with the dialled calls' (played, exported, purged
        // alike), tied to the call in, not to an attempt.
        let recs = store.recordings_of(&case_id(1)).await.unwrap();
        assert_eq!(recs.len(), 1, "{recs:?}");
        assert_eq!((recs[0].attempt, recs[0].inbound, &recs[0].file), (None, Some(id), end.recording.as_ref().unwrap()));
        assert_eq!((done[0].recording_id, recs[0].recorded_at), (Some(recs[0].id), later));
        assert_eq!(store.recording(recs[0].id).await.unwrap(), recs[0]);
        let ev = events(store, "call.inbound").await;
        assert_eq!(ev.len(), 1);
        assert!(ev[0].payload.contains(&format!("\"id\":{}", recs[0].id)), "{}", ev[0].payload);
        assert!(ev[0].payload.contains(&"ef".repeat(32)) && ev[0].payload.contains("\"outcome\":\"answered\""));
        assert!(!ev[0].payload.contains(&number), "the number is never in clear");
        // Not a contact: the case has no attempt.
        assert!(store.case_detail(&case_id(1)).await.unwrap().attempts.is_empty());
        // A caller no case knows is logged without one.
        let stranger = NewInbound { case: None, contact_point: None, ..new };
        let id = store.inbound_started(&stranger, at).await.unwrap();
        // A recording with no case to keep it under is refused, and nothing is half-written.
        let kept_nowhere = InboundEnd { collector: None, outcome: "answered".into(), talk_secs: 3, recording: end.recording.clone() };
        assert_eq!(store.inbound_finished(id, &kept_nowhere, "daylight:switch", later).await.unwrap_err().code(), "INCONSISTENT");
        assert_eq!(events(store, "call.inbound").await.len(), 1);
        let end = InboundEnd { collector: None, outcome: "unmatched".into(), talk_secs: 0, recording: None };
        store.inbound_finished(id, &end, "daylight:switch", later).await.unwrap();
        assert_eq!(events(store, "call.inbound").await[1].subject, format!("inbound-{id}"));
        verified_head(store).await;
    }

    /// A call's start and its note for recovery are one transaction: allowed, the note names
    /// the recording by the start's id; refused, nothing is written. An abandoned call keeps
    /// robots (unattended) off the number for the pack's 72 hours, a collector's call not.
    fn a_call_starts_with_its_note_and_an_abandoned_number_waits_for_a_person(store, db) {
        portfolio(store, 1, |_| 40).await;
        let at = "2026-03-03T01:00:00Z";
        let mut robot = Planned::from(&attempt(1, at, Channel::RobotCall, Recipient::Debtor, Outcome::NoAnswer));
        robot.agent = Agent::Robot("campaign:1".into());
        let named = |id: i64| format!("2026-03/call-{id}.wav.age");
        let g = store.start_call(&robot, "host-a:5060", &named, "L001", t(at)).await.unwrap();
        let first = g.id.expect("allowed");
        store.finish_call(first, Outcome::Abandoned, 3, None, Some("呼损"), "L001", t(at)).await.unwrap();
        let later = "2026-03-03T02:00:00Z";
        robot.at = t(later);
        let g = store.start_call(&robot, "host-a:5060", &named, "L001", t(later)).await.unwrap();
        assert_eq!((g.id, g.decision.violations.iter().map(|r| r.code()).collect::<Vec<_>>()), (None, vec!["ABANDONED_REDIAL"]));
        let mut person = robot.clone();
        person.channel = Channel::Call;
        person.agent = Agent::Collector("E001".into());
        let second = store.start_call(&person, "host-a:5060", &named, "E001", t(later)).await.unwrap().id.expect("a collector may call");
        let back = store.interrupted_calls("host-a:5060", "daylight:switch host-a:5060", t("2026-03-03T02:05:00Z")).await.unwrap();
        assert_eq!(back.iter().map(|c| (c.started, c.recording.clone())).collect::<Vec<_>>(), vec![(second, named(second))]);
        assert_eq!(store.start_call(&person, " ", &named, "E001", t(later)).await.unwrap_err().code(), "REQUIRED");
        verified_head(store).await;
    }

    /// A call its switch never finished (the process stopped) is finished as interrupted when
    /// that switch, and only that switch, starts again; a finished call leaves no trace to
    /// recover.
    fn a_call_cut_off_by_a_stop_is_finished_as_interrupted_at_restart(store, db) {
        portfolio(store, 2, |_| 40).await;
        let planned = |case: u32, at: &str| Planned::from(&attempt(case, at, Channel::Call, Recipient::Debtor, Outcome::NoAnswer));
        let at = "2026-03-03T01:00:00Z";
        let cut = store.start_attempt(&planned(1, at), "E001", t(at)).await.unwrap().id.unwrap();
        store.call_placed(cut, "host-a:5060", "2026-03/call-1.wav.age", t(at)).await.unwrap();
        let other_node = store.start_attempt(&planned(2, at), "E001", t(at)).await.unwrap().id.unwrap();
        store.call_placed(other_node, "host-b:5060", "2026-03/call-2.wav.age", t(at)).await.unwrap();
        let done = store.start_attempt(&planned(1, at), "E001", t(at)).await.unwrap().id.unwrap();
        store.call_placed(done, "host-a:5060", "2026-03/call-3.wav.age", t(at)).await.unwrap();
        store.finish_call(done, Outcome::Busy, 0, None, None, "E001", t(at)).await.unwrap();
        assert_eq!(store.call_placed(999, "host-a:5060", "x", t(at)).await.unwrap_err().code(), "NOT_FOUND");
        assert_eq!(store.call_placed(cut, " ", "x", t(at)).await.unwrap_err().code(), "REQUIRED");

        let later = t("2026-03-03T01:05:00Z");
        let back = store.interrupted_calls("host-a:5060", "daylight:switch host-a:5060", later).await.unwrap();
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!((back[0].started, back[0].recording.as_str()), (cut, "2026-03/call-1.wav.age"));
        assert_eq!(back[0].started_by.as_deref(), Some("E001"), "whose board state to free");
        let attempt = back[0].attempt.expect("recorded");
        let d = store.case_detail(&case_id(1)).await.unwrap();
        let a = d.attempts.iter().find(|a| a.id == attempt).expect("the interrupted attempt");
        assert_eq!((a.attempt.outcome, a.attempt.duration_secs), (Outcome::Interrupted, 0));
        assert!(a.attempt.note.as_deref().unwrap_or("").contains("通话中断"));
        // host-b's call is still live; a second start of host-a finds nothing more.
        assert_eq!(store.started_attempts().await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), vec![other_node]);
        assert!(store.interrupted_calls("host-a:5060", "daylight:switch host-a:5060", later).await.unwrap().is_empty());
        // A start past its expiry is left to the gate, and forgotten here.
        let expired = store.interrupted_calls("host-b:5060", "daylight:switch host-b:5060", t("2026-03-03T05:00:00Z")).await.unwrap();
        assert_eq!((expired.len(), expired[0].attempt), (1, None));
        assert!(store.interrupted_calls("host-b:5060", "x", t("2026-03-03T05:00:00Z")).await.unwrap().is_empty());

        // Calls in too: each switch ends its own live ones as interrupted, without a recording.
        let call_in = |node: &str| NewInbound {
            number_masked: "*******0001".into(),
            number_sha256: "cd".repeat(32),
            dialled: "02160000000".into(),
            case: Some(case_id(1)),
            contact_point: None,
            node: node.into(),
        };
        let a = store.inbound_started(&call_in("host-a:5060"), t(at)).await.unwrap();
        let b = store.inbound_started(&call_in("host-b:5060"), t(at)).await.unwrap();
        let answered = store.inbound_started(&call_in("host-a:5060"), t(at)).await.unwrap();
        let end = InboundEnd { collector: Some("E001".into()), outcome: "missed".into(), talk_secs: 0, recording: None };
        store.inbound_finished(answered, &end, "daylight:switch", t(at)).await.unwrap();
        store.inbound_offered(a, "E002").await.unwrap();
        store.inbound_offered(answered, "E003").await.unwrap();
        assert_eq!(store.inbound_offered(a, "").await.unwrap_err().code(), "REQUIRED");
        assert_eq!(store.interrupted_calls_in(" ", "x", later).await.unwrap_err().code(), "REQUIRED");
        let cut_in = store.interrupted_calls_in("host-a:5060", "daylight:switch host-a:5060", later).await.unwrap();
        assert_eq!(cut_in.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a]);
        let how = cut_in[0].end.as_ref().map(|e| (e.outcome.as_str(), e.collector.as_deref()));
        assert_eq!(how, Some(("interrupted", Some("E002"))), "{cut_in:?}");
        assert!(store.interrupted_calls_in("host-a:5060", "x", later).await.unwrap().is_empty());
        let logged = store.inbound_calls_of(&case_id(1)).await.unwrap();
        let state = |id: i64| logged.iter().find(|c| c.id == id).and_then(|c| c.end.as_ref().map(|e| e.outcome.clone()));
        assert_eq!((state(a).as_deref(), state(b), state(answered).as_deref()), (Some("interrupted"), None, Some("missed")));
        let ended = logged.iter().find(|c| c.id == answered).and_then(|c| c.end.clone()).unwrap();
        assert_eq!(ended.collector.as_deref(), Some("E001"), "an ended call is not re-offered");
        let ev = events(store, "call.inbound").await;
        assert!(ev.len() == 2 && ev[1].payload.contains("\"outcome\":\"interrupted\"") && ev[1].actor == "daylight:switch host-a:5060");
        verified_head(store).await;
    }

    /// Recordings are purged once the retention period has passed since they were made and
    /// since the case's last contact, never under a legal hold; the hash stays, and every purge
    /// and hold is evidence.
    fn recordings_are_purged_after_retention_unless_held(store, db) {
        portfolio(store, 3, |_| 40).await;
        let call = |case: u32, at: &str| Planned::from(&attempt(case, at, Channel::Call, Recipient::Debtor, Outcome::NoAnswer));
        let mut ids = Vec::new();
        for (case, at) in [(1, "2026-03-03T01:00:00Z"), (2, "2026-03-03T02:00:00Z"), (3, "2026-03-03T03:00:00Z")] {
            let started = store.start_attempt(&call(case, at), "E001", t(at)).await.unwrap().id.unwrap();
            let file = NewRecording { path: format!("2026-03/call-{started}.wav.age"), sha256: format!("{case:0>64}"), bytes: 100, millis: 1000 };
            store.finish_call(started, Outcome::Conversation, 1, Some(&file), None, "E001", t(at)).await.unwrap();
            ids.push(store.recordings_of(&case_id(case)).await.unwrap()[0].id);
        }
        // A call in's recording is purged with the rest (case 1 has no later contact).
        let at_in = t("2026-03-03T04:00:00Z");
        let call_in = NewInbound {
            number_masked: "*******0001".into(),
            number_sha256: "cd".repeat(32),
            dialled: "02160000000".into(),
            case: Some(case_id(1)),
            contact_point: None,
            node: "host-a:5060".into(),
        };
        let inbound = store.inbound_started(&call_in, at_in).await.unwrap();
        let file = NewRecording { path: format!("2026-03/inbound-{inbound}.wav.age"), sha256: "ab".repeat(32), bytes: 100, millis: 1000 };
        let end = InboundEnd { collector: Some("E001".into()), outcome: "answered".into(), talk_secs: 1, recording: Some(file) };
        store.inbound_finished(inbound, &end, "daylight:switch", at_in).await.unwrap();
        let in_rec = store.recordings_of(&case_id(1)).await.unwrap()[1].id;
        // Case 3 was contacted again later: its recording is kept as long as from that contact.
        let at = "2026-11-10T02:00:00Z";
        let again = store.start_attempt(&call(3, at), "E001", t(at)).await.unwrap().id.unwrap();
        store.finish_call(again, Outcome::NoAnswer, 0, None, None, "E001", t(at)).await.unwrap();
        store.set_legal_hold(&case_id(2), Some("诉讼保全 (2026)民初123号"), "C1", t(at)).await.unwrap();
        assert_eq!(store.set_legal_hold(&case_id(1), None, "C1", t(at)).await.unwrap_err().code(), "INCONSISTENT");
        assert_eq!(store.set_legal_hold(&case_id(1), Some(" "), "C1", t(at)).await.unwrap_err().code(), "REQUIRED");
        assert_eq!(store.set_legal_hold(&case_id(9), Some("x"), "C1", t(at)).await.unwrap_err().code(), "NOT_FOUND");
        let holds = store.legal_holds().await.unwrap();
        assert_eq!((holds.len(), holds[0].case.clone(), holds[0].held_by.as_str()), (1, case_id(2), "C1"));

        // A cutoff before every recording: nothing is due.
        assert!(store.recordings_due(t("2026-03-01T00:00:00Z")).await.unwrap().is_empty());
        let cutoff = t("2026-06-01T00:00:00Z");
        let due = store.recordings_due(cutoff).await.unwrap();
        assert_eq!(due.iter().map(|r| r.id).collect::<Vec<_>>(), vec![ids[0], in_rec], "held case 2 and recontacted case 3 stay");
        let now = t("2030-03-04T00:00:00Z");
        store.recording_purged(in_rec, "daylight:purge", now).await.unwrap();
        store.recording_purged(ids[0], "daylight:purge", now).await.unwrap();
        assert_eq!(store.recording_purged(ids[0], "daylight:purge", now).await.unwrap_err().code(), "INCONSISTENT");
        assert_eq!(store.recording_purged(ids[1], "daylight:purge", now).await.unwrap_err().code(), "LEGAL_HOLD");
        let kept = store.recording(ids[0]).await.unwrap();
        assert_eq!((kept.purged_at, kept.file.sha256.clone()), (Some(now), format!("{:0>64}", 1)));
        assert!(store.recordings_due(cutoff).await.unwrap().is_empty());
        // The hold lifted, case 2's recording is due.
        store.set_legal_hold(&case_id(2), None, "C1", now).await.unwrap();
        assert_eq!(store.recordings_due(cutoff).await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![ids[1]]);
        let purged = events(store, "recording.purged").await;
        assert!(purged.len() == 2 && purged[1].payload.contains(&format!("{:0>64}", 1)));
        assert!(purged[0].payload.contains(&format!("\"inbound\":{inbound}")), "{}", purged[0].payload);
        let held = events(store, "case.legal_hold").await;
        assert!(held.len() == 2 && held[0].payload.contains("\"held\":true") && held[1].payload.contains("民初123号"));
        verified_head(store).await;
    }

    /// A bridged call's wrap-up refines `conversation` once, by its collector, within the
    /// window, to what was said; a cease request sets the flag as a recorded one would.
    fn a_bridged_call_is_wrapped_up_once_by_its_collector(store, db) {
        portfolio(store, 1, |_| 40).await;
        let at = "2026-03-03T01:00:00Z";
        let planned = Planned::from(&debtor_call(at, Outcome::NoAnswer));
        let started = store.start_attempt(&planned, "E001", t(at)).await.unwrap().id.unwrap();
        let end = t("2026-03-03T01:02:00Z");
        let call = store.finish_call(started, Outcome::Conversation, 100, None, None, "E001", end).await.unwrap();
        let busy_start = store.start_attempt(&planned, "E001", t(at)).await.unwrap().id.unwrap();
        let busy = store.finish_call(busy_start, Outcome::Busy, 0, None, None, "E001", end).await.unwrap();
        let soon = t("2026-03-03T01:05:00Z");
        let code = |r: daylight_store::Result<()>| r.unwrap_err().code();
        assert_eq!(code(store.wrap_up_call(call, Outcome::Refused, None, "E002", soon).await), "INCONSISTENT");
        assert_eq!(code(store.wrap_up_call(call, Outcome::Busy, None, "E001", soon).await), "ENUM");
        assert_eq!(code(store.wrap_up_call(busy, Outcome::Refused, None, "E001", soon).await), "INCONSISTENT");
        assert_eq!(code(store.wrap_up_call(999, Outcome::Refused, None, "E001", soon).await), "NOT_FOUND");
        let late = t("2026-03-03T01:33:00Z");
        assert_eq!(code(store.wrap_up_call(call, Outcome::Refused, None, "E001", late).await), "EXPIRED");
        store.wrap_up_call(call, Outcome::CeaseRequest, Some("客户要求停止电话联系"), "E001", soon).await.unwrap();
        assert_eq!(code(store.wrap_up_call(call, Outcome::Refused, None, "E001", soon).await), "INCONSISTENT");
        let d = store.case_detail(&case_id(1)).await.unwrap();
        let a = d.attempts.iter().find(|a| a.id == call).unwrap();
        assert_eq!((a.attempt.outcome, a.attempt.duration_secs), (Outcome::CeaseRequest, 100));
        assert!(d.notes.iter().any(|n| n.note.attempt == Some(call) && n.note.text.contains("停止")));
        let customer = d.case.customer.clone();
        assert!(store.contact_flags(&customer).await.unwrap().cease);
        let ev = events(store, "attempt.wrapped_up").await;
        assert!(ev.len() == 1 && ev[0].payload.contains("\"from\":\"conversation\"") && ev[0].payload.contains("\"to\":\"cease_request\""));
        verified_head(store).await;
    }
}
