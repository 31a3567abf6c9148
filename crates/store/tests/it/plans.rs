//! The daily planner's inputs, stored plan versions, debtor tags.

use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome};
use daylight_domain::customer::Recipient;
use daylight_domain::id::{AccountId, ContactId, CustomerId};
use daylight_store::model::NewPlan;
use daylight_testdb::contract;

use crate::fixtures::*;

contract! {
    /// The planner reads each open case with its accounts, points, flags, tags and contacts.
    fn plan_cases_hold_what_the_planner_needs(store, db) {
        portfolio(store, 3, |i| 30 * i).await;
        store.set_case_status(&case_id(3), daylight_domain::case::CaseStatus::WrittenOff, "test", "E001", now()).await.unwrap();
        let call = Attempt {
            case: case_id(1),
            account: Some(AccountId::parse("A0001").unwrap()),
            at: t("2026-03-03T02:00:00Z"),
            channel: Channel::Call,
            recipient: Recipient::Debtor,
            contact_point: Some(ContactId::parse("P0001-debtor").unwrap()),
            agent: Agent::Collector("E001".into()),
            outcome: Outcome::NoAnswer,
            duration_secs: 0,
            note: None,
        };
        assert!(store.record_attempt(&call, false, "E001", t("2026-03-04T00:00:00Z")).await.unwrap().decision.allowed);
        let c1 = CustomerId::parse("C0001").unwrap();
        store.tag_debtor(&c1, "hardship", Some("失业，正在找工作"), "E001", now()).await.unwrap();
        assert_eq!(store.tag_debtor(&c1, "angry", Some("x"), "E001", now()).await.unwrap_err().code(), "ENUM");
        assert_eq!(store.tag_debtor(&CustomerId::parse("C0099").unwrap(), "abusive", Some("x"), "E001", now()).await.unwrap_err().code(), "NOT_FOUND");

        let placed = daylight_store::model::Assignment { team: None, collector: None, agency: Some("AG01".into()) };
        store.assign_case(&case_id(2), &placed, "L001", now()).await.unwrap();
        let cases = store.plan_cases(t("2026-03-10T00:00:00Z")).await.unwrap();
        assert_eq!((cases[0].agency.as_deref(), cases[1].agency.as_deref()), (None, Some("AG01")));
        assert_eq!(cases.iter().map(|c| c.case.as_str()).collect::<Vec<_>>(), ["CASE-C0001", "CASE-C0002"]);
        let c = &cases[0];
        assert_eq!((c.customer.as_str(), c.zone.as_str(), c.dpd), ("C0001", "Asia/Shanghai", 30));
        assert!(c.overdue_fen > 0 && c.credit_limit_fen > 0);
        assert_eq!(c.account.as_deref(), Some("A0001"));
        assert!(c.statement_day.is_some());
        assert_eq!(c.points.len(), 3);
        assert_eq!(c.points.iter().filter(|p| p.recipient == Recipient::ThirdParty).count(), 1);
        assert!(c.hardship && !c.abusive && !cases[1].hardship);
        assert_eq!(c.contacts.len(), 1);
        assert_eq!(c.contacts[0].outcome, Some(Outcome::NoAnswer));
        assert!(cases[1].contacts.is_empty());
        // Before the call: none.
        assert!(store.plan_cases(t("2026-03-03T01:00:00Z")).await.unwrap()[0].contacts.is_empty());
        // Cleared.
        store.tag_debtor(&c1, "hardship", None, "E001", now()).await.unwrap();
        assert!(!store.plan_cases(t("2026-03-10T00:00:00Z")).await.unwrap()[0].hardship);
        assert_eq!(events(store, "debtor.tagged").await.len(), 2);
        assert!(store.pack_source().await.unwrap().contains("name = \"cn-default\""));
    }

    /// Plans are versions per date, stored with their input; the latest is read by default.
    fn plans_are_stored_as_versions(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        let day = jiff::civil::date(2026, 3, 4);
        let new = |n: i64| NewPlan {
            date: day,
            strategy: "default".into(),
            input: format!("{{\"n\":{n}}}"),
            plan: format!("{{\"actions\":{n}}}"),
            actions: n,
            skipped: "{\"HOLIDAY\":2}".into(),
        };
        let v1 = store.save_plan(&new(1), "planner", now()).await.unwrap();
        let v2 = store.save_plan(&new(2), "planner", now()).await.unwrap();
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!(v1.plan_sha256.len(), 64);
        let latest = store.stored_plan(day, None).await.unwrap();
        assert_eq!((latest.version, latest.input.as_deref()), (2, Some("{\"n\":2}")));
        assert_eq!(store.stored_plan(day, Some(1)).await.unwrap().plan.as_deref(), Some("{\"actions\":1}"));
        assert_eq!(store.stored_plan(jiff::civil::date(2026, 3, 5), None).await.unwrap_err().code(), "NOT_FOUND");
        let bad = NewPlan { input: "not json".into(), ..new(3) };
        assert_eq!(store.save_plan(&bad, "planner", now()).await.unwrap_err().code(), "INCONSISTENT");
        assert_eq!(store.list_plans().await.unwrap().len(), 2);
        let saved = events(store, "plan.saved").await;
        assert_eq!(saved.len(), 2);
        assert!(saved[1].payload.contains(&v2.plan_sha256), "{}", saved[1].payload);
        verified_head(store).await;
    }
}
