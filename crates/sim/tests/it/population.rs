//! The virtual portfolio's records are valid and its traits have their documented shares.

use daylight_domain::bucket::{Bucket, BucketScheme};
use daylight_domain::pii::{MaskedPan, PersonName, Phone, PhoneKind, ResidentId};
use daylight_sim::population::{
    BUCKET_SHARES, LINE_SHARES, Line, PERSONA_SHARES, Persona, debtor, population,
};
use jiff::civil::date;

const TODAY: jiff::civil::Date = date(2026, 3, 2);

#[test]
fn the_same_seed_gives_the_same_people_and_a_larger_population_extends_a_smaller() {
    let small = population(7, 200, TODAY);
    let large = population(7, 400, TODAY);
    assert_eq!(small[..], large[..200]);
    assert_ne!(population(8, 200, TODAY), small);
}

#[test]
fn records_pass_the_checks_an_import_makes() {
    let people = population(11, 3_000, TODAY);
    let mut ids = std::collections::HashSet::new();
    let mut mobiles = std::collections::HashSet::new();
    for d in &people {
        let id = ResidentId::parse(&d.resident_id).unwrap_or_else(|e| panic!("{}: {e}", d.customer_id));
        assert_eq!(id.birth_date(), d.birth_date, "{}", d.customer_id);
        let sex_digit = d.resident_id.as_bytes()[16] - b'0';
        assert_eq!(d.gender == 'M', sex_digit % 2 == 1, "{} {}", d.customer_id, d.resident_id);
        assert!(PersonName::parse(&d.name).is_ok(), "{}", d.name);
        assert_eq!(Phone::parse(&d.mobile).unwrap().kind(), PhoneKind::Mobile);
        assert!(MaskedPan::from_full(&d.account.card_number).is_ok(), "{}", d.account.card_number);
        assert!(ids.insert(d.resident_id.clone()), "duplicate ID {}", d.resident_id);
        assert!(mobiles.insert(d.mobile.clone()), "duplicate mobile {}", d.mobile);
        for r in &d.related {
            assert!(mobiles.insert(r.mobile.clone()), "duplicate mobile {}", r.mobile);
            assert!(Phone::parse(&r.mobile).is_ok());
        }
        let a = &d.account;
        assert!((1..=28).contains(&a.statement_day));
        assert!(a.overdue() <= a.balance && a.balance > 0, "{a:?}");
        assert_eq!(a.dpd == 0, a.overdue() == 0, "{a:?}");
    }
}

#[test]
fn buckets_personas_and_lines_have_their_documented_shares() {
    let n = 20_000u64;
    let scheme = BucketScheme::default();
    let mut buckets = [0f64; 8];
    let mut personas = [0f64; 5];
    let mut lines = [0f64; 4];
    for i in 0..n {
        let d = debtor(3, i, TODAY);
        buckets[Bucket::ALL.iter().position(|b| *b == scheme.bucket(d.account.dpd)).unwrap()] += 1.0;
        personas[Persona::ALL.iter().position(|p| *p == d.hidden.persona).unwrap()] += 1.0;
        lines[Line::ALL.iter().position(|l| *l == d.hidden.line).unwrap()] += 1.0;
    }
    for (got, want) in buckets
        .iter()
        .zip(BUCKET_SHARES)
        .chain(personas.iter().zip(PERSONA_SHARES))
        .chain(lines.iter().zip(LINE_SHARES))
    {
        assert!((got / n as f64 - want).abs() < 0.012, "share {} against {want}", got / n as f64);
    }
}

#[test]
fn the_longer_overdue_the_less_able_and_willing() {
    let people = population(5, 10_000, TODAY);
    let mean = |f: &dyn Fn(&daylight_sim::population::Debtor) -> bool| {
        let v: Vec<f64> =
            people.iter().filter(|d| f(d)).map(|d| d.hidden.ability * d.hidden.willingness).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let current = mean(&|d| d.account.dpd == 0);
    let late = mean(&|d| d.account.dpd > 90);
    assert!(current > late + 0.1, "current {current} late {late}");
}

/// No two debtors share a resident ID, a mobile, a card number or an account (a bank's file
/// never does, and the import refuses one that did).
#[test]
fn identities_are_unique() {
    for seed in [7, 8] {
        let people = population(seed, 120_000, TODAY);
        let mut ids: Vec<&str> = people.iter().map(|d| d.resident_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), people.len(), "seed {seed}: resident IDs repeat");
        let mut phones: Vec<&str> = people
            .iter()
            .flat_map(|d| {
                std::iter::once(d.mobile.as_str()).chain(d.related.iter().map(|r| r.mobile.as_str()))
            })
            .collect();
        let n = phones.len();
        phones.sort_unstable();
        phones.dedup();
        assert_eq!(phones.len(), n, "seed {seed}: mobiles repeat");
        let mut cards: Vec<&str> = people.iter().map(|d| d.account.card_number.as_str()).collect();
        cards.sort_unstable();
        cards.dedup();
        assert_eq!(cards.len(), people.len(), "seed {seed}: card numbers repeat");
    }
}

/// Each account's three months of transactions add up to its balance, dated before today.
#[test]
fn transactions_add_up_to_the_balance() {
    let people = population(7, 500, TODAY);
    let text = daylight_sim::files::transactions(7, &people, TODAY);
    let mut sums: std::collections::BTreeMap<String, i64> = Default::default();
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 8, "{line}");
        let date: jiff::civil::Date = f[2].parse().unwrap();
        assert!(date < TODAY && date >= TODAY.checked_sub(jiff::Span::new().days(91)).unwrap(), "{line}");
        assert!(["purchase", "cash_advance"].contains(&f[4]), "{line}");
        let (yuan, fen) = f[5].split_once('.').unwrap();
        *sums.entry(f[1].to_owned()).or_default() +=
            yuan.parse::<i64>().unwrap() * 100 + fen.parse::<i64>().unwrap();
        rows += 1;
    }
    assert!(rows >= 3 * people.iter().filter(|d| d.account.balance > 1_000).count(), "{rows}");
    for d in &people {
        assert_eq!(
            sums.get(&d.account.account_id).copied().unwrap_or(0),
            d.account.balance,
            "{}",
            d.account.account_id
        );
    }
}
