//! Money that adds up (issue 19, defect 5): promises, plans and waivers within the money policy
//! of the pack in force; approved waivers and plans as adjustments of what is owed until the
//! bank's next accounts file books them.

use std::collections::HashMap;

use daylight_compliance::Pack;
use daylight_domain::account::Component;
use daylight_domain::agreement::{ArrangementStatus, ArrangementTerms, PromiseStatus};
use daylight_domain::bounds::WaiverVerdict;
use daylight_domain::id::AccountId;
use daylight_store::model::{
    CaseFilter, ImportKind, NewArrangement, NewPromise, NewWaiver, PromiseChange, PromiseEdit,
};
use daylight_testdb::contract;
use jiff::civil::date;

use crate::fixtures::*;

fn a0001() -> AccountId {
    AccountId::parse("A0001").unwrap()
}

/// The default pack with `money` appended as its `[money]` table.
fn pack_with_money(money: &str) -> Pack {
    Pack::from_toml(&format!("{}\n[money]\n{money}\n", pack().source), "test pack").unwrap()
}

contract! {
    /// Defect: a promise could be changed only by settling it; cancelling left no reason. A
    /// pending promise is amended or cancelled with a reason, within the same bounds as a new
    /// one, its earlier terms kept.
    fn promises_are_amended_or_cancelled_with_a_reason(store, db) {
        portfolio(store, 1, |_| 95).await;
        let p = NewPromise { case: case_id(1), account: Some(a0001()), attempt: None, amount: cny(100_000), due_at: t("2026-03-10T10:00:00Z") };
        let id = store.create_promise(&p, "E001", now()).await.unwrap();
        let e = store.settle_promise(id, PromiseStatus::Cancelled, "E001", now()).await.unwrap_err();
        assert_eq!(e.code(), "REQUIRED");
        let amend = |amount: i64, reason: &str| PromiseChange {
            edit: PromiseEdit::Amend { amount: cny(amount), due_at: t("2026-03-12T10:00:00Z") },
            reason: reason.into(),
        };
        assert_eq!(store.change_promise(id, &amend(200_000, " "), "E001", now()).await.unwrap_err().code(), "REQUIRED");
        assert_eq!(store.change_promise(id, &amend(50_000_000, "客户要求"), "E001", now()).await.unwrap_err().code(), "PROMISE_OVER_OWED");
        let late = PromiseChange { edit: PromiseEdit::Amend { amount: cny(1), due_at: t("2026-09-01T00:00:00Z") }, reason: "拖延".into() };
        assert_eq!(store.change_promise(id, &late, "E001", now()).await.unwrap_err().code(), "INCONSISTENT");
        store.change_promise(id, &amend(200_000, "客户要求延后两天并增加金额"), "E001", now()).await.unwrap();
        let d = store.case_detail(&case_id(1)).await.unwrap();
        assert_eq!((d.promises[0].promise.amount, d.promises[0].promise.due_at), (cny(200_000), t("2026-03-12T10:00:00Z")));
        let cancel = PromiseChange { edit: PromiseEdit::Cancel, reason: "改为分期".into() };
        store.change_promise(id, &cancel, "E001", now()).await.unwrap();
        assert_eq!(store.change_promise(id, &cancel, "E001", now()).await.unwrap_err().code(), "TRANSITION");
        assert_eq!(store.case_detail(&case_id(1)).await.unwrap().promises[0].status, PromiseStatus::Cancelled);
        let changed = events(store, "promise.changed").await;
        assert_eq!(changed.len(), 2);
        assert!(changed[0].payload.contains("\"from\":{\"amount\":\"1000.00\""), "{}", changed[0].payload);
        assert!(!changed[1].payload.contains("改为分期"), "the reason is in the store, its digest in the ledger");
        // One pending per account by default; the policy may allow two.
        store.create_promise(&p, "E001", now()).await.unwrap();
        assert_eq!(store.create_promise(&p, "E001", now()).await.unwrap_err().code(), "PROMISE_PENDING");
        store.set_policy_pack(&pack_with_money("pending_promises_per_account = 2"), "C1", now()).await.unwrap();
        store.create_promise(&p, "E001", now()).await.unwrap();
        verified_head(store).await;
    }

    /// Issue 23: a lead rejected with no reason. A rejection names its reason (kept with the
    /// request, its digest in the ledger), by anyone but who asked, once.
    fn a_rejection_keeps_its_reason(store, db) {
        use daylight_store::model::Decidable;
        portfolio(store, 1, |_| 95).await;
        let due = owed(store, 1).await;
        let plan = NewArrangement {
            case: case_id(1),
            account: None,
            terms: ArrangementTerms { total: cny(due), instalments: 6, monthly_fee_bp: 60, first_due: date(2026, 3, 20) },
        };
        let id = store.propose_arrangement(&plan, "E001", now()).await.unwrap();
        let reject = |reason: &'static str, who: &'static str| store.reject(Decidable::Arrangement, id, reason, who, now());
        assert_eq!(reject("  ", "L001").await.unwrap_err().code(), "REQUIRED");
        assert_eq!(reject("自己撤回", "E001").await.unwrap_err().code(), "SELF_APPROVAL");
        reject("首付比例过低，请先收取一期", "L001").await.unwrap();
        assert_eq!(reject("再次", "L001").await.unwrap_err().code(), "TRANSITION", "decided once");
        let d = store.case_detail(&case_id(1)).await.unwrap();
        assert_eq!(d.arrangements[0].status, ArrangementStatus::Rejected);
        assert_eq!(d.arrangements[0].decision_note.as_deref(), Some("首付比例过低，请先收取一期"));
        assert_eq!(d.arrangements[0].decided_by.as_deref(), Some("L001"));
        let ev = events(store, "arrangement.decided").await;
        assert!(ev[0].payload.contains("\"to\":\"rejected\"") && ev[0].payload.contains("reason_sha256"), "{}", ev[0].payload);
        assert!(!ev[0].payload.contains("首付"), "the reason's digest, not its words");
        let w = NewWaiver { case: case_id(1), account: a0001(), component: Component::LateFees, amount: cny(1_000), reason: "首次逾期".into() };
        let wid = store.request_waiver(&w, "E001", now()).await.unwrap();
        store.reject(Decidable::Waiver, wid, "滞纳金已在上月减免", "L001", now()).await.unwrap();
        assert_eq!(store.case_detail(&case_id(1)).await.unwrap().waivers[0].decision_note.as_deref(), Some("滞纳金已在上月减免"));
        assert_eq!(store.reject(Decidable::Number, 999, "无", "L001", now()).await.unwrap_err().code(), "NOT_FOUND");
        verified_head(store).await;
    }

    /// Defect: a plan of ¥9,999,999 on a ¥21,483 case and one first due in 2099 went to
    /// approval. A plan repays what is owed (fees on top), starts within the policy's days, and
    /// has at most the policy's instalments (never above 60).
    fn a_plan_repays_what_is_owed_and_starts_within_the_policy(store, db) {
        portfolio(store, 1, |_| 95).await;
        let due = owed(store, 1).await;
        assert_eq!(due, 306_500);
        let plan = |total: i64, instalments: u32, first_due| NewArrangement {
            case: case_id(1),
            account: None,
            terms: ArrangementTerms { total: cny(total), instalments, monthly_fee_bp: 60, first_due },
        };
        let code = |r: daylight_store::Result<i64>| r.unwrap_err().code().to_owned();
        assert_eq!(code(store.propose_arrangement(&plan(999_999_900, 12, date(2026, 3, 20)), "E001", now()).await), "PLAN_TOTAL");
        assert_eq!(code(store.propose_arrangement(&plan(due, 12, date(2099, 1, 1)), "E001", now()).await), "PLAN_FIRST_DUE");
        assert_eq!(code(store.propose_arrangement(&plan(due, 12, date(2026, 3, 2)), "E001", now()).await), "PLAN_FIRST_DUE");
        assert_eq!(code(store.propose_arrangement(&plan(due, 61, date(2026, 3, 20)), "E001", now()).await), "ARRANGEMENT");
        store.set_policy_pack(&pack_with_money("plan_max_instalments = 24"), "C1", now()).await.unwrap();
        assert_eq!(code(store.propose_arrangement(&plan(due, 36, date(2026, 3, 20)), "E001", now()).await), "ARRANGEMENT");
        let id = store.propose_arrangement(&plan(due, 12, date(2026, 3, 20)), "E001", now()).await.unwrap();
        store.decide_arrangement(id, ArrangementStatus::Approved, "L001", now()).await.unwrap();
        // Approved, its declared fees (0.60 % a month of ¥3,065 for 12 months) are owed too.
        let fees = 12 * 1_839;
        assert_eq!(owed(store, 1).await, due + fees);
        let listed = store.list_cases(&CaseFilter::default()).await.unwrap();
        assert_eq!(listed[0].overdue, [cny(due + fees)]);
        assert_eq!(store.plan_cases(t("2026-03-04T00:00:00Z")).await.unwrap()[0].overdue_fen, due + fees);
    }

    /// Defect: a 100 % principal waiver was approved in one click with no authority limit. A
    /// waiver is approved by the matrix of the pack's money policy: the approver's role, read
    /// by the store, allows the amount and the share; above the threshold, two approvers;
    /// never the requester, never the same approver twice.
    fn a_waiver_is_decided_by_the_approval_matrix(store, db) {
        portfolio(store, 1, |_| 95).await;
        leads(store).await;
        store.set_policy_pack(&pack_with_money("waiver_two_approvers_above_fen = 100000"), "C1", now()).await.unwrap();
        let w = |amount: i64| NewWaiver { case: case_id(1), account: a0001(), component: Component::Principal, amount: cny(amount), reason: "困难客户".into() };
        let all = store.request_waiver(&w(300_000), "E001", now()).await.unwrap();
        assert_eq!(store.decide_waiver(all, true, "L001", now()).await.unwrap_err().code(), "WAIVER_AUTHORITY");
        assert_eq!(store.decide_waiver(all, true, "someone", now()).await.unwrap_err().code(), "WAIVER_AUTHORITY");
        store.decide_waiver(all, false, "L001", now()).await.unwrap();
        let half = store.request_waiver(&w(150_000), "E001", now()).await.unwrap();
        assert_eq!(store.decide_waiver(half, true, "E001", now()).await.unwrap_err().code(), "SELF_APPROVAL");
        assert_eq!(store.decide_waiver(half, true, "L001", now()).await.unwrap(), WaiverVerdict::NeedsSecond);
        assert_eq!(store.case_detail(&case_id(1)).await.unwrap().waivers[0].first_approved_by.as_deref(), Some("L001"));
        assert_eq!(owed(store, 1).await, 306_500, "not yet approved: nothing off");
        assert_eq!(store.decide_waiver(half, true, "L001", now()).await.unwrap_err().code(), "SELF_APPROVAL");
        assert_eq!(store.decide_waiver(half, true, "L002", now()).await.unwrap(), WaiverVerdict::Approved);
        let decided = events(store, "waiver.decided").await;
        assert_eq!(decided.len(), 3);
        assert!(decided[2].payload.contains("\"approval\":2"), "{}", decided[2].payload);
        verified_head(store).await;
    }

    /// Defect: approved waivers did not change what the case showed as owed. An approved
    /// waiver is an adjustment of its account until the bank's next accounts file books it;
    /// then the bank's figure alone is what is owed, and it reconciles to the fen.
    fn an_approved_waiver_is_owed_less_until_the_bank_books_it(store, db) {
        portfolio(store, 1, |_| 95).await;
        leads(store).await;
        let w = NewWaiver { case: case_id(1), account: a0001(), component: Component::LateFees, amount: cny(1_000), reason: "困难客户".into() };
        let id = store.request_waiver(&w, "E001", now()).await.unwrap();
        store.decide_waiver(id, true, "L001", now()).await.unwrap();
        assert_eq!(owed(store, 1).await, 305_500);
        let d = store.case_detail(&case_id(1)).await.unwrap();
        assert_eq!((d.accounts[0].adjusted, d.accounts[0].owed()), (cny(-1_000), cny(305_500)));
        assert_eq!(store.list_cases(&CaseFilter::default()).await.unwrap()[0].overdue, [cny(305_500)]);
        assert_eq!(store.plan_cases(t("2026-03-04T00:00:00Z")).await.unwrap()[0].overdue_fen, 305_500);
        let p = NewPromise { case: case_id(1), account: Some(a0001()), attempt: None, amount: cny(305_501), due_at: t("2026-03-10T10:00:00Z") };
        assert_eq!(store.create_promise(&p, "E001", now()).await.unwrap_err().code(), "PROMISE_OVER_OWED");
        // The bank's next file has booked the waiver: late fees 20.00 → 10.00.
        let mut next = account(1, 1, 96);
        next.overdue.late_fees = cny(1_000);
        let later = t("2026-03-04T01:00:00Z");
        let mut s = store.begin_import(&meta(ImportKind::Accounts, later)).await.unwrap();
        s.upsert_accounts(&[next], &HashMap::new()).await.unwrap();
        s.commit(&summary(1)).await.unwrap();
        let d = store.case_detail(&case_id(1)).await.unwrap();
        assert_eq!((d.accounts[0].adjusted, d.accounts[0].owed()), (cny(0), cny(305_500)));
        assert_eq!(owed(store, 1).await, 305_500, "reconciled: the same figure, now the bank's alone");
        // The room for further waivers is the bank's figure: 10.00 left.
        assert_eq!(store.request_waiver(&NewWaiver { amount: cny(1_001), ..w.clone() }, "E001", later).await.unwrap_err().code(), "AMOUNT_RANGE");
        assert!(store.request_waiver(&w, "E001", later).await.is_ok());
    }
}
