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
        store.set_case_status(&case_id(3), &daylight_domain::case::StatusChange::new(daylight_domain::case::CaseStatus::WrittenOff, "test"), "E001", now()).await.unwrap();
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
        assert!(store.record_attempt(&call, "E001", t("2026-03-04T00:00:00Z")).await.unwrap().decision.allowed);
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

    /// Plans are versions per date, stored with their input (compressed, its digest that of
    /// the JSON); the latest is read by default; a plan stored before 0006 reads as it was.
    fn plans_are_stored_as_versions(store, db) {
        use daylight_store::model::PlanInputJson;
        use sha2::Digest as _;
        store.migrate(ACTOR, now()).await.unwrap();
        let day = jiff::civil::date(2026, 3, 4);
        let input = |n: i64| daylight_strategy::plan::PlanInput {
            date: day,
            as_of: now(),
            strategy: format!("# version {n}"),
            pack: String::new(),
            experiment: None,
            contactability: None,
            propensity: None,
            selector: None,
            arm_strategies: Default::default(),
            cases: Vec::new(),
        };
        let made = |n: u64| daylight_strategy::plan::Plan {
            date: day,
            strategy: "default".into(),
            considered: n,
            actions: Vec::new(),
            skipped: [(daylight_strategy::plan::Skip::Rule(daylight_compliance::Rule::Holiday), 2)].into(),
        };
        let doc = |i: &daylight_strategy::plan::PlanInput| PlanInputJson::of(i, i.date, &i.strategy).unwrap();
        let made = |n: u64| {
            let p = made(n);
            daylight_store::model::PlanJson::of(&p, p.date, &p.strategy, p.actions.len(), &p.skipped).unwrap()
        };
        let (i1, i2) = (input(1), input(2));
        let (j1, j2) = (doc(&i1), doc(&i2));
        let json2 = serde_json::to_string(&i2).unwrap();
        let sha = |s: &str| sha2::Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(j2.sha256(), sha(&json2));
        let v1 = store.save_plan(&NewPlan { input: &j1, plan: &made(1) }, "planner", now()).await.unwrap();
        let v2 = store.save_plan(&NewPlan { input: &j2, plan: &made(2) }, "planner", now()).await.unwrap();
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!((v2.input_sha256.as_str(), v2.skipped.as_str()), (sha(&json2).as_str(), "{\"HOLIDAY\":2}"));
        let latest = store.stored_plan(day, None).await.unwrap();
        assert_eq!((latest.version, latest.input.as_deref()), (2, Some(json2.as_str())));
        let plan1 = made(1).json().to_owned();
        let first = store.stored_plan(day, Some(1)).await.unwrap();
        assert_eq!(first.plan.as_deref(), Some(plan1.as_str()));
        assert_eq!(first.plan_sha256, sha(&plan1));
        // The strategy's text is kept beside the input, to read without it.
        assert_eq!(store.plan_strategy(day, 1).await.unwrap().as_deref(), Some("# version 1"));
        assert_eq!(store.plan_strategy(day, 2).await.unwrap().as_deref(), Some("# version 2"));
        assert_eq!(store.plan_strategy(day, 9).await.unwrap_err().code(), "NOT_FOUND");
        assert_eq!(store.stored_plan(jiff::civil::date(2026, 3, 5), None).await.unwrap_err().code(), "NOT_FOUND");
        // A plan and an input of different days are refused, and nothing is stored.
        let other = doc(&daylight_strategy::plan::PlanInput { date: jiff::civil::date(2026, 3, 5), ..input(3) });
        assert_eq!(store.save_plan(&NewPlan { input: &other, plan: &made(3) }, "planner", now()).await.unwrap_err().code(), "INCONSISTENT");
        // A version stored before the input was compressed keeps its JSON in `input`.
        let legacy = format!(
            "INSERT INTO plans (plan_date, version, strategy, input, input_sha256, plan, plan_sha256, actions, skipped, created_by, created_at) \
             VALUES ('2026-03-01', 1, 'default', '{{\"n\":0}}', '{}', '{{}}', '{}', 0, '{{}}', 'planner', {})",
            sha("{\"n\":0}"),
            sha("{}"),
            if db.url().to_string().starts_with("sqlite") { "'2026-03-01T00:00:00.000000Z'" } else { "now()" },
        );
        assert_eq!(db.execute_raw(&legacy).await, 1);
        let old = store.stored_plan(jiff::civil::date(2026, 3, 1), None).await.unwrap();
        assert_eq!(old.input.as_deref(), Some("{\"n\":0}"));
        db.execute_raw("DELETE FROM plans WHERE plan_date = '2026-03-01'").await;
        assert_eq!(store.list_plans().await.unwrap().len(), 2);
        let saved = events(store, "plan.saved").await;
        assert_eq!(saved.len(), 2);
        assert!(saved[1].payload.contains(&v2.plan_sha256), "{}", saved[1].payload);
        verified_head(store).await;
    }
}
