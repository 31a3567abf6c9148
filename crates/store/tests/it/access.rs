use daylight_domain::Code;
use daylight_domain::agreement::{ArrangementStatus, ArrangementTerms};
use daylight_domain::case::CaseStatus;
use daylight_store::StoreError;
use daylight_store::access::{NewSession, NewUser, Role, Scope};
use daylight_store::model::{Assignment, CaseFilter, NewArrangement};
use daylight_testdb::contract;
use jiff::ToSpan;
use jiff::civil::Date;

use crate::fixtures::*;

/// A PHC string of the right kind; the store keeps it and never checks the password.
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

fn user(login: &str, role: Role, team: Option<&str>, agency: Option<&str>) -> NewUser {
    NewUser {
        login: login.into(),
        name: "张三".into(),
        mobile: None,
        role,
        team: team.map(Into::into),
        agency: agency.map(Into::into),
        disabled: false,
        password_hash: HASH.into(),
        must_change: true,
    }
}

fn code(e: StoreError) -> String {
    e.code().to_owned()
}

fn session(token: &str, login: &str) -> NewSession {
    NewSession {
        token_sha256: token.into(),
        login: login.into(),
        csrf: format!("csrf-{token}"),
        expires_at: now() + 8.hours(),
        second_factor_pending: false,
    }
}

contract! {
    /// Issue 23: a typo made a new team. Teams and agencies are records: a user names one on
    /// record (`UNKNOWN_RECORD` otherwise); they are created and renamed, each change a ledger
    /// event, with their members counted.
    fn teams_and_agencies_are_records_users_must_name(store, db) {
        use daylight_store::access::UnitKind;
        store.migrate(ACTOR, now()).await.unwrap();
        org_units(store).await;
        let typo = user("E009", Role::Collector, Some("T01"), None);
        let e = store.create_user(&typo, "admin", now()).await.unwrap_err();
        assert_eq!(code(e), "UNKNOWN_RECORD");
        store.create_user(&user("E001", Role::Collector, Some("T1"), None), "admin", now()).await.unwrap();
        let moved = user("E001", Role::Collector, Some("T9"), None);
        assert_eq!(code(store.update_user(&moved, "admin", now()).await.unwrap_err()), "UNKNOWN_RECORD");
        assert_eq!(code(store.create_org_unit(UnitKind::Team, "T1", "一组", "admin", now()).await.unwrap_err()), "EXISTS");
        assert_eq!(code(store.create_org_unit(UnitKind::Team, "T 3", "三组", "admin", now()).await.unwrap_err()), "ID_FORMAT");
        assert_eq!(code(store.create_org_unit(UnitKind::Team, "T3", " ", "admin", now()).await.unwrap_err()), "REQUIRED");
        store.create_org_unit(UnitKind::Team, "T3", "三组", "admin", now()).await.unwrap();
        store.rename_org_unit(UnitKind::Team, "T1", "信用卡一组", "admin", now()).await.unwrap();
        assert_eq!(code(store.rename_org_unit(UnitKind::Team, "T7", "七组", "admin", now()).await.unwrap_err()), "NOT_FOUND");
        let teams = store.org_units(UnitKind::Team).await.unwrap();
        let shown: Vec<(&str, &str, u32)> = teams.iter().map(|t| (t.id.as_str(), t.name.as_str(), t.members)).collect();
        assert_eq!(shown, [("T1", "信用卡一组", 1), ("T2", "T2", 0), ("T3", "三组", 0)]);
        assert_eq!(store.org_units(UnitKind::Agency).await.unwrap().len(), 1);
        let ev = events(store, "org.unit").await;
        assert!(ev.iter().any(|e| e.subject == "team:T1" && e.payload.contains("\"from\":\"T1\"")), "{ev:?}");
        verified_head(store).await;
    }

    fn users_are_created_once_and_log_in_by_login_or_mobile(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        org_units(store).await;
        let e001 = NewUser { mobile: Some("13800000001".into()), ..user("E001", Role::Collector, Some("T1"), None) };
        let made = store.create_user(&e001, "admin", now()).await.unwrap();
        assert_eq!((made.role, made.must_change, made.failed_logins), (Role::Collector, true, 0));
        assert_eq!(code(store.create_user(&e001, "admin", now()).await.unwrap_err()), Code::Exists.as_str());
        // A login that is someone's mobile would make "log in by mobile" ambiguous.
        let clash = user("13800000001", Role::Auditor, None, None);
        assert_eq!(code(store.create_user(&clash, "admin", now()).await.unwrap_err()), Code::Exists.as_str());
        let no_team = user("E002", Role::Collector, None, None);
        assert_eq!(code(store.create_user(&no_team, "admin", now()).await.unwrap_err()), "REQUIRED");
        let (by_mobile, hash) = store.credentials("13800000001").await.unwrap().unwrap();
        assert_eq!((by_mobile.login.as_str(), hash.as_str()), ("E001", HASH));
        assert!(store.credentials("E404").await.unwrap().is_none());
        let changed = store
            .update_user(&NewUser { role: Role::TeamLead, ..e001.clone() }, "admin", now())
            .await
            .unwrap();
        assert_eq!(changed.role, Role::TeamLead);
        assert_eq!(store.users().await.unwrap().len(), 1);
        assert_eq!(events(store, "user.created").await.len(), 1);
        let changed_events = events(store, "user.changed").await;
        assert_eq!(changed_events.len(), 1);
        assert!(!changed_events[0].payload.contains("argon2"), "no hash in the ledger");
    }

    fn a_second_factor_is_enrolled_used_once_per_step_and_reset(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        org_units(store).await;
        store.create_user(&user("E001", Role::Collector, Some("T1"), None), "admin", now()).await.unwrap();
        assert!(!store.user("E001").await.unwrap().second_factor);
        // Confirming with nothing under way is refused; an enrolment in progress changes nothing.
        assert!(store.confirm_second_factor("E001", 10, &[], now()).await.is_err());
        store.begin_second_factor("E001", "JBSWY3DPEHPK3PXP").await.unwrap();
        assert!(!store.user("E001").await.unwrap().second_factor);
        let codes = vec!["a".repeat(64), "b".repeat(64)];
        store.confirm_second_factor("E001", 10, &codes, now()).await.unwrap();
        let f = store.second_factor("E001").await.unwrap();
        assert_eq!((f.secret.as_deref(), f.pending.as_deref(), f.last_step), (Some("JBSWY3DPEHPK3PXP"), None, Some(10)));
        assert!(!format!("{f:?}").contains("JBSW"), "the secret never prints");
        assert!(store.user("E001").await.unwrap().second_factor);
        // Each step once, and only forward.
        assert!(!store.use_totp_step("E001", 10).await.unwrap());
        assert!(store.use_totp_step("E001", 11).await.unwrap());
        assert!(!store.use_totp_step("E001", 11).await.unwrap());
        // A recovery code works once.
        assert!(store.use_recovery_code("E001", &codes[0], now()).await.unwrap());
        assert!(!store.use_recovery_code("E001", &codes[0], now()).await.unwrap());
        assert!(!store.use_recovery_code("E001", &"c".repeat(64), now()).await.unwrap());
        // A reset removes it and ends the sessions.
        store.open_session(&session("t1", "E001"), now()).await.unwrap();
        store.reset_second_factor("E001", "admin", now()).await.unwrap();
        assert!(store.session("t1", now()).await.unwrap().is_none());
        assert_eq!(store.second_factor("E001").await.unwrap().secret, None);
        assert!(!store.use_recovery_code("E001", &codes[1], now()).await.unwrap());
        let kinds: Vec<String> =
            events(store, "user.second_factor").await.into_iter().map(|e| e.payload).collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        assert!(kinds.iter().all(|p| !p.contains(&codes[0]) && !p.contains("JBSW")), "no secret in the ledger");
        // A session waiting for its code says so.
        store.open_session(&NewSession { second_factor_pending: true, ..session("t2", "E001") }, now()).await.unwrap();
        assert!(store.session("t2", now()).await.unwrap().unwrap().second_factor_pending);
    }

    fn passwords_set_join_the_history_and_the_purpose_is_recorded(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        org_units(store).await;
        store.create_user(&user("E001", Role::Collector, Some("T1"), None), "admin", now()).await.unwrap();
        let second = HASH.replace("aGFz", "bGFz");
        store.set_password("E001", &second, false, None, "E001", now()).await.unwrap();
        store.set_password("E001", HASH, false, None, "E001", now()).await.unwrap();
        assert_eq!(store.password_history("E001", 5).await.unwrap(), vec![second.clone(), HASH.to_owned()]);
        assert_eq!(store.password_history("E001", 1).await.unwrap(), vec![second]);
        assert_eq!(store.purpose().await.unwrap(), None, "production unless marked");
        assert!(store.set_purpose("production", "admin", now()).await.is_err());
        store.set_purpose("demo", "admin", now()).await.unwrap();
        assert_eq!(store.purpose().await.unwrap().as_deref(), Some("demo"));
        assert_eq!(events(store, "store.purpose").await.len(), 1);
    }

    fn repeated_failures_lock_a_user_and_a_login_resets_them(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        org_units(store).await;
        store.create_user(&user("E001", Role::Collector, Some("T1"), None), "admin", now()).await.unwrap();
        let until = now() + 15.minutes();
        assert_eq!(store.login_failed("E001", 3, until, now()).await.unwrap().failed_logins, 1);
        assert_eq!(store.login_failed("E001", 3, until, now()).await.unwrap().locked_until, None);
        let locked = store.login_failed("E001", 3, until, now()).await.unwrap();
        assert_eq!((locked.failed_logins, locked.locked_until), (0, Some(until)));
        assert_eq!(events(store, "user.locked").await.len(), 1);
        store.open_session(&session("t1", "E001"), now()).await.unwrap();
        let after = store.user("E001").await.unwrap();
        assert_eq!((after.failed_logins, after.locked_until), (0, None));
        assert_eq!(events(store, "user.login").await.len(), 1);
    }

    fn sessions_expire_end_on_password_change_and_on_disable(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        org_units(store).await;
        let e001 = user("E001", Role::Collector, Some("T1"), None);
        store.create_user(&e001, "admin", now()).await.unwrap();
        store.open_session(&session("t1", "E001"), now()).await.unwrap();
        store.open_session(&session("t2", "E001"), now()).await.unwrap();
        let live = store.session("t1", now() + 1.hours()).await.unwrap().unwrap();
        assert_eq!((live.user.login.as_str(), live.csrf.as_str()), ("E001", "csrf-t1"));
        assert!(store.session("t1", now() + 8.hours()).await.unwrap().is_none(), "expired");
        assert!(store.session("nope", now()).await.unwrap().is_none());
        store.touch_session("t1", now() + 1.hours(), now() + 20.hours()).await.unwrap();
        assert!(store.session("t1", now() + 10.hours()).await.unwrap().is_some(), "moved end");
        store.set_password("E001", HASH, false, Some("t1"), "E001", now()).await.unwrap();
        assert!(store.session("t2", now()).await.unwrap().is_none(), "other sessions end");
        let kept = store.session("t1", now()).await.unwrap().unwrap();
        assert!(!kept.user.must_change);
        assert_eq!(code(store.set_password("E001", "plain", false, None, "E001", now()).await.unwrap_err()), "INCONSISTENT");
        store.update_user(&NewUser { disabled: true, ..e001 }, "admin", now()).await.unwrap();
        assert!(store.session("t1", now()).await.unwrap().is_none(), "disabled");
        assert_eq!(code(store.open_session(&session("t3", "E001"), now()).await.unwrap_err()), "NOT_FOUND");
        store.close_session("t1").await.unwrap();
        assert_eq!(events(store, "user.password").await.len(), 1);
    }

    fn scope_is_applied_in_the_store(store, db) {
        portfolio(store, 4, |_| 40).await;
        org_units(store).await;
        let assign = |team: Option<&str>, collector: &str, agency: Option<&str>| Assignment {
            team: team.map(Into::into),
            collector: Some(collector.into()),
            agency: agency.map(Into::into),
        };
        store.assign_case(&case_id(1), &assign(Some("T1"), "E001", None), "L001", now()).await.unwrap();
        store.assign_case(&case_id(2), &assign(Some("T1"), "E002", None), "L001", now()).await.unwrap();
        store.assign_case(&case_id(3), &assign(None, "X1", Some("AG01")), "L001", now()).await.unwrap();
        store.assign_case(&case_id(4), &assign(None, "X2", Some("AG01")), "L001", now()).await.unwrap();
        let ids = |scope: Scope| async move {
            let list = store.list_cases(&CaseFilter { scope, ..CaseFilter::default() }).await.unwrap();
            let mut ids: Vec<String> = list.into_iter().map(|s| s.case.id.as_str().to_owned()).collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(Scope::All).await.len(), 4);
        assert_eq!(ids(Scope::Collector("E001".into())).await, [case_id(1).as_str()]);
        assert_eq!(ids(Scope::Team("T1".into())).await, [case_id(1).as_str(), case_id(2).as_str()]);
        assert_eq!(ids(Scope::Agency("AG01".into())).await, [case_id(3).as_str(), case_id(4).as_str()]);
        let x1 = Scope::AgencyCollector { agency: "AG01".into(), login: "X1".into() };
        assert_eq!(ids(x1.clone()).await, [case_id(3).as_str()]);
        // Outside the scope reads as absent, on the detail and on the check before a change.
        let e001 = Scope::Collector("E001".into());
        assert!(store.case_detail_in(&e001, &case_id(1)).await.is_ok());
        assert_eq!(code(store.case_detail_in(&e001, &case_id(2)).await.unwrap_err()), "NOT_FOUND");
        assert_eq!(code(store.case_detail_in(&x1, &case_id(4)).await.unwrap_err()), "NOT_FOUND");
        assert!(store.case_in_scope(&x1, &case_id(3)).await.is_ok());
        assert_eq!(code(store.case_in_scope(&e001, &case_id(3)).await.unwrap_err()), "NOT_FOUND");
        assert_eq!(code(store.case_in_scope(&Scope::All, &case_id(9)).await.unwrap_err()), "NOT_FOUND");
        // A team lead's approval queue holds the team's proposed plans only.
        for case in [1, 2, 3] {
            let terms = ArrangementTerms { total: cny(owed(store, case).await), instalments: 6, monthly_fee_bp: 0, first_due: Date::new(2026, 3, 25).unwrap() };
            let plan = NewArrangement { case: case_id(case), account: None, terms };
            store.propose_arrangement(&plan, "E001", now()).await.unwrap();
        }
        let team = store.arrangements_in(&Scope::Team("T1".into()), Some(ArrangementStatus::Proposed), 100).await.unwrap();
        let cases: Vec<&str> = team.iter().map(|a| a.arrangement.case.as_str()).collect();
        assert_eq!(cases, [case_id(1).as_str(), case_id(2).as_str()]);
        store.decide_arrangement(team[0].id, ArrangementStatus::Approved, "L001", now()).await.unwrap();
        let left = store.arrangements_in(&Scope::Team("T1".into()), Some(ArrangementStatus::Proposed), 100).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(store.arrangements_in(&Scope::All, None, 100).await.unwrap().len(), 3);
        // A bulk close is all or nothing, and only within the scope.
        let t1 = Scope::Team("T1".into());
        let status = |i| async move { store.case_detail(&case_id(i)).await.unwrap().case.status };
        let e = store.set_cases_status(&t1, &[case_id(1), case_id(3)], &daylight_domain::case::StatusChange::close(daylight_domain::case::CloseReason::Settled, "结清"), "L001", now()).await.unwrap_err();
        assert_eq!(code(e), "NOT_FOUND");
        assert_eq!(status(1).await, CaseStatus::Open, "nothing closed");
        store.set_cases_status(&t1, &[case_id(1), case_id(2)], &daylight_domain::case::StatusChange::close(daylight_domain::case::CloseReason::Settled, "结清"), "L001", now()).await.unwrap();
        assert_eq!((status(1).await, status(2).await), (CaseStatus::Closed, CaseStatus::Closed));
        let before = store.ledger_head().await.unwrap().seq;
        let e = store.set_cases_status(&Scope::All, &[case_id(4), case_id(1)], &daylight_domain::case::StatusChange::new(CaseStatus::WrittenOff, "核销"), "L001", now()).await;
        assert!(e.is_err(), "a closed case cannot be written off here: {e:?}");
        assert_eq!(status(4).await, CaseStatus::Open, "the first was rolled back");
        assert_eq!(store.ledger_head().await.unwrap().seq, before, "and nothing recorded");
    }

    /// Collectors' states: the time in state kept while nothing changes, the day's calls
    /// counted and started again on a new day, the team's board of enabled collectors.
    fn agent_states_and_the_board(store, db) {
        use daylight_domain::agent::{AgentState, PauseReason};
        store.migrate(ACTOR, now()).await.unwrap();
        org_units(store).await;
        for (login, team) in [("E001", "T1"), ("E002", "T1"), ("E003", "T2")] {
            store.create_user(&user(login, Role::Collector, Some(team), None), "admin", now()).await.unwrap();
        }
        store.create_user(&user("L001", Role::TeamLead, Some("T1"), None), "admin", now()).await.unwrap();
        let fresh = store.agent("E001").await.unwrap();
        assert_eq!((fresh.state, fresh.since, fresh.calls, fresh.day), (AgentState::Offline, None, 0, None));
        assert_eq!(code(store.agent("E404").await.unwrap_err()), "NOT_FOUND");
        let t0 = now();
        let meal = Some(PauseReason::Meal);
        store.set_agent_state("E001", AgentState::Paused, meal, t0).await.unwrap();
        store.set_agent_state("E001", AgentState::Paused, meal, t0 + 5.minutes()).await.unwrap();
        let a = store.agent("E001").await.unwrap();
        assert_eq!((a.state, a.reason, a.since), (AgentState::Paused, meal, Some(t0)), "the same state keeps its start");
        store.set_agent_state("E001", AgentState::Paused, Some(PauseReason::Break), t0 + 6.minutes()).await.unwrap();
        assert_eq!(store.agent("E001").await.unwrap().since, Some(t0 + 6.minutes()), "another reason restarts it");
        store.agent_call_done("E001", "2026-03-03", 40, t0).await.unwrap();
        store.agent_call_done("E001", "2026-03-03", 25, t0).await.unwrap();
        store.agent_call_done("E002", "2026-03-03", 7, t0).await.unwrap();
        let a = store.agent("E001").await.unwrap();
        assert_eq!((a.calls, a.talk_secs, a.day.as_deref(), a.state), (2, 65, Some("2026-03-03"), AgentState::Paused));
        store.agent_call_done("E001", "2026-03-04", 10, t0).await.unwrap();
        let a = store.agent("E001").await.unwrap();
        assert_eq!((a.calls, a.talk_secs, a.day.as_deref()), (1, 10, Some("2026-03-04")), "a new day starts again");
        let board = store.agent_board("T1").await.unwrap();
        let rows: Vec<(&str, AgentState, u32)> = board.iter().map(|r| (r.login.as_str(), r.state, r.calls)).collect();
        assert_eq!(rows, vec![("E001", AgentState::Paused, 1), ("E002", AgentState::Ready, 1)], "collectors of T1 only");
        assert!(store.agent_board("T9").await.unwrap().is_empty());
    }
}

contract! {
    /// The server's role on PostgreSQL reads and appends the ledger but cannot change or
    /// remove a row of it; SQLite has no roles and says so.
    fn the_app_role_appends_to_the_ledger_and_cannot_change_it(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        org_units(store).await;
        if store.backend() == daylight_store::Backend::Sqlite {
            let e = store.grant_app_role("daylight_app").await.unwrap_err();
            assert!(e.to_string().contains("APP_ROLE_SQLITE"), "{e}");
            return;
        }
        assert!(store.grant_app_role("Robert'); DROP TABLE ledger; --").await.is_err(), "a plain identifier only");
        // Roles are the cluster's: one per test database.
        let url = db.url().expose().to_owned();
        let dbname = url.rsplit('/').next().unwrap().to_owned();
        let role = format!("app_{dbname}").to_lowercase();
        store.grant_app_role(&role).await.unwrap();
        store.grant_app_role(&role).await.unwrap();
        let as_app = daylight_store::DbUrl::parse(&url.replacen("://daylight@", &format!("://{role}@"), 1)).unwrap();
        let app: Box<dyn daylight_store::Store> = Box::new(daylight_store::postgres::PgStore::open(&as_app).await.unwrap());
        // The server's writes work, ledger events included.
        app.create_user(&user("E001", Role::Collector, Some("T1"), None), "admin", now()).await.unwrap();
        assert!(!events(&*app, "user.created").await.is_empty());
        // The ledger cannot be changed, removed or emptied by it.
        let pool = sqlx::PgPool::connect(as_app.expose()).await.unwrap();
        for sql in ["UPDATE ledger SET actor = 'x'", "DELETE FROM ledger", "TRUNCATE ledger", "DELETE FROM _sqlx_migrations"] {
            let e = sqlx::query(sql).execute(&pool).await.unwrap_err();
            assert!(e.to_string().contains("permission denied"), "{sql}: {e}");
        }
        pool.close().await;
        app.close().await;
    }
}
