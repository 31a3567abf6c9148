use super::*;
use proptest::prelude::*;

fn event(i: u32) -> Event {
    Event::new(
        Timestamp::from_second(1_772_500_000 + i64::from(i)).unwrap(),
        "E001",
        EventKind::NoteAdded,
        format!("CASE-C{i}"),
        &serde_json::json!({"text": format!("第{i}次联系"), "b": 1, "a": [i]}),
    )
}

fn chain(n: u32) -> Vec<Row> {
    let mut head = Link::EMPTY;
    (1..=n)
        .map(|i| {
            let row = head.append(&event(i));
            head = Link::after(&row).unwrap();
            row
        })
        .collect()
}

fn verify(rows: &[Row], head: Option<Link>) -> Result<Link, Break> {
    let mut v = Verifier::default();
    for r in rows {
        v.check(r)?;
    }
    v.finish(head)
}

fn head_of(rows: &[Row]) -> Option<Link> {
    rows.last().map(|r| Link::after(r).unwrap())
}

#[test]
fn canonical_forms_are_fixed() {
    let at = Timestamp::from_microsecond(1_772_501_400_000_123).unwrap();
    assert_eq!(canonical_time(at), "2026-03-03T01:30:00.000123Z");
    assert_eq!(canonical_json(&serde_json::json!({"b": 1, "a": "x"})), r#"{"a":"x","b":1}"#);
    let bytes = canonical_bytes(1, "t", "a", "k", "s", "{}");
    assert_eq!(&bytes[..8], &[0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(&bytes[8..13], &[0, 0, 0, 1, b't']);
    // A known vector, so the format cannot drift without this test noticing.
    let h =
        row_hash(&GENESIS, 1, "2026-03-03T01:30:00.000000Z", "system", "store.initialised", "store", "{}");
    // Computed independently with Python's hashlib (see docs/ledger.md).
    assert_eq!(hex::encode(h), "934a57e51c0ced8fb860dc74468b55db415fe1a20133c8ac6a13e315a73b668b");
}

#[test]
fn an_intact_chain_verifies_and_names_its_head() {
    let rows = chain(5);
    assert_eq!(rows[0].prev_hash, "0".repeat(64));
    assert_eq!(rows[1].prev_hash, rows[0].hash);
    let head = verify(&rows, head_of(&rows)).unwrap();
    assert_eq!(head.seq, 5);
    assert_eq!(hex::encode(head.hash), rows[4].hash);
    assert_eq!(verify(&[], None).unwrap(), Link::EMPTY);
}

#[test]
fn an_altered_row_is_named() {
    let mut rows = chain(5);
    rows[2].payload = rows[2].payload.replace('3', "4");
    let b = verify(&rows, head_of(&rows)).unwrap_err();
    assert_eq!((b.seq, b.problem), (3, Problem::HashMismatch));
    let mut rows = chain(5);
    rows[3].hash = rows[3].hash.replace('a', "b").replace('0', "1");
    let b = verify(&rows, None).unwrap_err();
    assert_eq!(b.seq, 4);
    let mut rows = chain(3);
    rows[1].at = "2026-03-03T01:30:00.000001Z".into();
    assert_eq!(verify(&rows, head_of(&rows)).unwrap_err().seq, 2);
}

#[test]
fn removed_and_reordered_rows_are_named() {
    let mut rows = chain(5);
    rows.remove(2);
    let b = verify(&rows, None).unwrap_err();
    assert_eq!((b.seq, b.problem), (3, Problem::Missing { expected: 3 }));

    // Swapping two rows' contents while keeping seq numbers in place.
    let mut rows = chain(5);
    let (a, b) = (rows[1].clone(), rows[2].clone());
    rows[1] = Row { seq: 2, ..b };
    rows[2] = Row { seq: 3, ..a };
    assert_eq!(verify(&rows, None).unwrap_err().seq, 2);

    // Removing the last row: only the recorded head can tell.
    let rows = chain(5);
    let head = head_of(&rows);
    let b = verify(&rows[..4], head).unwrap_err();
    assert_eq!((b.seq, b.problem), (5, Problem::HeadMismatch { head_seq: 5 }));
}

#[test]
fn checkpoints_must_lie_on_the_chain() {
    let rows = chain(4);
    let good: Checkpoint = format!("2:{}", rows[1].hash).parse().unwrap();
    assert_eq!(good.to_string(), format!("2:{}", rows[1].hash));
    let mut v = Verifier::new(vec![good]);
    rows.iter().for_each(|r| v.check(r).unwrap());
    assert!(v.finish(head_of(&rows)).is_ok());

    let wrong: Checkpoint = format!("3:{}", rows[1].hash).parse().unwrap();
    let mut v = Verifier::new(vec![wrong]);
    assert_eq!(v.check(&rows[0]), Ok(()));
    assert_eq!(v.check(&rows[1]), Ok(()));
    assert_eq!(v.check(&rows[2]).unwrap_err().problem, Problem::CheckpointMismatch);

    let beyond: Checkpoint = format!("9:{}", rows[1].hash).parse().unwrap();
    let mut v = Verifier::new(vec![beyond]);
    rows.iter().for_each(|r| v.check(r).unwrap());
    assert_eq!(v.finish(head_of(&rows)).unwrap_err().seq, 9);
    assert!("x:abc".parse::<Checkpoint>().is_err());
    assert!("0:00".parse::<Checkpoint>().is_err());
}

proptest! {
    /// The hand-written formatter agrees with jiff's strftime everywhere in years 0001–9999.
    #[test]
    fn canonical_time_matches_strftime(micros in -62_135_596_800_000_000i64..253_402_300_799_999_999) {
        let t = Timestamp::from_microsecond(micros).unwrap();
        prop_assert_eq!(canonical_time(t), t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
    }

    /// Any single-byte change to any text column of any row is caught at that row.
    #[test]
    fn any_one_byte_change_is_caught(n in 1u32..8, pick in 0usize..64, col in 0usize..7, byte in 0usize..200) {
        let mut rows = chain(n);
        let i = pick % rows.len();
        let r = &mut rows[i];
        let field = match col {
            0 => &mut r.at,
            1 => &mut r.actor,
            2 => &mut r.kind,
            3 => &mut r.subject,
            4 => &mut r.payload,
            5 => &mut r.prev_hash,
            _ => &mut r.hash,
        };
        let mut bytes = std::mem::take(field).into_bytes();
        let at = byte % bytes.len();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        *field = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let head = head_of(&chain(n));
        let b = verify(&rows, head).unwrap_err();
        prop_assert_eq!(b.seq, rows[i].seq);
    }
}
