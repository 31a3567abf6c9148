//! Valid domain records for tests, and a store with a small portfolio in it.

use std::collections::HashMap;

use daylight_domain::account::{CardAccount, Overdue, Payment, PaymentChannel};
use daylight_domain::customer::{
    ContactKind, ContactPoint, ContactRole, ContactStatus, ContactValue, Customer,
};
use daylight_domain::id::{AccountId, ContactId, CustomerId, PaymentId};
use daylight_domain::pii::{Gender, MaskedPan, PersonName, ResidentId, resident_id_check_char};
use daylight_domain::{Currency, Money};
use daylight_store::Store;
use daylight_store::model::{BatchMeta, BatchSummary, ImportKind};
use jiff::Timestamp;
use jiff::civil::Date;

pub const ACTOR: &str = "tester";

pub fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The default policy pack.
pub fn pack() -> daylight_compliance::Pack {
    daylight_compliance::Pack::shipped("cn-default").unwrap()
}

pub fn now() -> Timestamp {
    t("2026-03-03T01:30:00Z")
}

pub fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny)
}

/// A valid resident ID for customer `i` (Beijing Chaoyang, born 1985-03-12).
pub fn resident_id(i: u32) -> ResidentId {
    let first17 = format!("11010519850312{:03}", i % 1000);
    let mut b = [0u8; 17];
    b.copy_from_slice(first17.as_bytes());
    ResidentId::parse(&format!("{first17}{}", resident_id_check_char(&b))).unwrap()
}

/// A Luhn-valid 16-digit card number.
pub fn pan(i: u32) -> MaskedPan {
    let body = format!("622848{:09}", i);
    let check = (0..10).find(|d| daylight_domain::pii::luhn_valid(&format!("{body}{d}"))).unwrap();
    MaskedPan::from_full(&format!("{body}{check}")).unwrap()
}

pub fn customer(i: u32) -> Customer {
    let rid = resident_id(i);
    Customer {
        id: CustomerId::parse(&format!("C{i:04}")).unwrap(),
        name: PersonName::parse(["张三", "李四", "王五", "赵六"][i as usize % 4]).unwrap(),
        gender: rid.gender(),
        birth_date: rid.birth_date(),
        resident_id: rid,
        employer: Some("北京某科技有限公司".into()),
        address: Some(daylight_domain::pii::Address::parse("北京市朝阳区建国路88号").unwrap()),
        region: Some("北京市".into()),
        time_zone: "Asia/Shanghai".into(),
    }
}

pub fn contact(i: u32, role: ContactRole, phone: &str) -> ContactPoint {
    ContactPoint {
        id: ContactId::parse(&format!("P{i:04}-{}", role.as_str())).unwrap(),
        customer: CustomerId::parse(&format!("C{i:04}")).unwrap(),
        role,
        name: (role != ContactRole::Debtor).then(|| PersonName::parse("陈七").unwrap()),
        value: ContactValue::parse(ContactKind::Phone, phone).unwrap(),
        status: ContactStatus::Unknown,
        time_zone: None,
    }
}

pub fn account(i: u32, customer: u32, dpd: u32) -> CardAccount {
    let overdue = if dpd == 0 { 0 } else { 300_000 };
    CardAccount {
        id: AccountId::parse(&format!("A{i:04}")).unwrap(),
        customer: CustomerId::parse(&format!("C{customer:04}")).unwrap(),
        pan: pan(i),
        currency: Currency::Cny,
        credit_limit: cny(5_000_000),
        balance: cny(1_000_000),
        minimum_payment: cny(100_000),
        statement_day: 5,
        due_date: Date::new(2026, 2, 25).unwrap(),
        cycles_delinquent: dpd.div_ceil(30),
        days_past_due: dpd,
        overdue: Overdue {
            principal: cny(overdue),
            interest: cny(if dpd == 0 { 0 } else { 4_500 }),
            fees: cny(0),
            late_fees: cny(if dpd == 0 { 0 } else { 2_000 }),
        },
    }
}

pub fn payment(i: u32, account: u32) -> Payment {
    Payment {
        id: PaymentId::parse(&format!("Y{i:04}")).unwrap(),
        account: AccountId::parse(&format!("A{account:04}")).unwrap(),
        paid_at: t("2026-03-01T02:00:00Z"),
        amount: cny(50_000),
        channel: PaymentChannel::App,
        reference: None,
    }
}

pub fn meta(kind: ImportKind, at: Timestamp) -> BatchMeta {
    BatchMeta {
        kind,
        file_name: format!("{kind}.csv"),
        actor: ACTOR.into(),
        at,
        partial: false,
        keep: Vec::new(),
    }
}

pub fn summary(rows: u64) -> BatchSummary {
    BatchSummary {
        file_sha256: "ab".repeat(32),
        rows_total: rows,
        rows_inserted: rows,
        ..BatchSummary::default()
    }
}

/// A migrated store holding customers 1..=n, a debtor mobile and a guarantor each, and one
/// account per customer with `dpd(i)` days past due.
/// Teams T1 and T2 and agency AG01 on record (the users of these tests name them); again is
/// harmless.
pub async fn org_units(store: &dyn Store) {
    use daylight_store::access::UnitKind;
    for (kind, id) in [(UnitKind::Team, "T1"), (UnitKind::Team, "T2"), (UnitKind::Agency, "AG01")] {
        if let Err(e) = store.create_org_unit(kind, id, id, ACTOR, now()).await {
            assert_eq!(e.code(), "EXISTS", "{e}");
        }
    }
}

pub async fn portfolio(store: &dyn Store, n: u32, dpd: impl Fn(u32) -> u32) {
    store.migrate(ACTOR, now()).await.unwrap();
    let mut s = store.begin_import(&meta(ImportKind::Customers, now())).await.unwrap();
    let customers: Vec<_> = (1..=n).map(customer).collect();
    s.upsert_customers(&customers).await.unwrap();
    let mut contacts = Vec::new();
    for i in 1..=n {
        contacts.push(contact(i, ContactRole::Debtor, &format!("1381234{i:04}")));
        contacts.push(contact(i, ContactRole::Guarantor, &format!("1391234{i:04}")));
        contacts.push(contact(i, ContactRole::EmergencyContact, &format!("1371234{i:04}")));
    }
    s.upsert_contacts(&contacts).await.unwrap();
    s.commit(&summary(u64::from(n))).await.unwrap();
    let mut s = store.begin_import(&meta(ImportKind::Accounts, now())).await.unwrap();
    let accounts: Vec<_> = (1..=n).map(|i| account(i, i, dpd(i))).collect();
    s.upsert_accounts(&accounts, &HashMap::new()).await.unwrap();
    s.commit(&summary(u64::from(n))).await.unwrap();
}

/// Team leads L001 and L002 of team T1: the approvers the money policy's matrix knows.
pub async fn leads(store: &dyn Store) {
    org_units(store).await;
    for login in ["L001", "L002"] {
        let lead = daylight_store::access::NewUser {
            login: login.into(),
            name: "李组长".into(),
            mobile: None,
            role: daylight_store::access::Role::TeamLead,
            team: Some("T1".into()),
            agency: None,
            disabled: false,
            password_hash:
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0000000000000000000000000000000000000000000"
                    .into(),
            must_change: false,
        };
        store.create_user(&lead, ACTOR, now()).await.unwrap();
    }
}

/// What case `i` owes now (its accounts' overdue figures and adjustments), fen.
pub async fn owed(store: &dyn Store, i: u32) -> i64 {
    store.case_detail(&case_id(i)).await.unwrap().accounts.iter().map(|a| a.owed().minor).sum()
}

pub fn case_id(i: u32) -> daylight_domain::id::CaseId {
    daylight_domain::id::CaseId::for_customer(&CustomerId::parse(&format!("C{i:04}")).unwrap())
}

/// The chain verifies; returns its head seq.
pub async fn verified_head(store: &dyn Store) -> i64 {
    daylight_store::verify_ledger(store, Vec::new(), |_| {})
        .await
        .unwrap()
        .unwrap_or_else(|b| panic!("ledger broken: {b}"))
        .seq
}

/// Ledger rows of `kind`.
pub async fn events(store: &dyn Store, kind: &str) -> Vec<daylight_ledger::Row> {
    let rows = store.ledger_rows(0, 100_000).await.unwrap();
    rows.into_iter().filter(|r| r.kind == kind).collect()
}

pub fn gender_of(c: &Customer) -> Gender {
    c.gender
}
