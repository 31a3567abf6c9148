//! The packs' rules, decision by decision, through the JSON interface outside dialers use.
#![allow(missing_docs)]

use daylight_compliance::wire::decide_line;
use daylight_compliance::{Pack, pack::SHIPPED};
use jiff::Timestamp;
use serde_json::{Value, json};

fn packs() -> Vec<Pack> {
    SHIPPED.iter().map(|(n, _)| Pack::shipped(n).unwrap()).collect()
}

fn now() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

/// Decides one request given as JSON.
fn decide(request: Value) -> Value {
    let packs = packs();
    let out = decide_line(&packs, &packs[0], 1, &request.to_string(), now());
    serde_json::from_str(&out).unwrap()
}

fn rules(d: &Value) -> Vec<String> {
    d["violations"].as_array().unwrap().iter().map(|v| v["rule"].as_str().unwrap().to_owned()).collect()
}

fn call(pack: &str, at: &str) -> Value {
    json!({"pack": pack, "at": at, "channel": "call", "recipient": "debtor", "debt_id": "A1", "contact_point": "p1"})
}

fn with(mut req: Value, key: &str, v: Value) -> Value {
    req[key] = v;
    req
}

fn calls(times: &[&str], outcome: &str) -> Value {
    Value::Array(
        times
            .iter()
            .map(|t| json!({"at": t, "channel": "call", "recipient": "debtor", "contact_point": "p1", "debt_id": "A1", "outcome": outcome}))
            .collect(),
    )
}

#[test]
fn the_issue_example_is_allowed_at_once() {
    let d = decide(json!({"id":"r1","pack":"cn-default","at":"2026-03-03T09:30:00+08:00","channel":"call",
        "recipient":"debtor","time_zones":["Asia/Shanghai"],"debt_id":"A1","contact_point":"p1",
        "cycle_start":"2026-02-20","confirmed_third_party":false,
        "history":[{"at":"2026-03-03T08:05:00+08:00","channel":"call","recipient":"debtor",
                    "contact_point":"p1","debt_id":"A1","outcome":"no_answer"}],
        "flags":{"cease":false,"opt_out":[],"consented_hours":false}}));
    assert_eq!(
        d,
        json!({"id":"r1","allowed":true,"violations":[],"next_allowed_at":"2026-03-03T09:30:00+08:00"})
    );
}

#[test]
fn cn_default_hours_run_from_eight_to_eight() {
    let d = decide(call("cn-default", "2026-03-03T07:59:00+08:00"));
    assert_eq!(rules(&d), ["HOURS"]);
    assert_eq!(d["next_allowed_at"], "2026-03-03T08:00:00+08:00");
    let v = &d["violations"][0];
    assert!(v["message"].as_str().unwrap().contains("08:00 to 20:00"));
    assert!(v["message_zh"].as_str().unwrap().contains("08:00至20:00"));
    assert!(!v["citation"].as_str().unwrap().is_empty());
    assert_eq!(decide(call("cn-default", "2026-03-03T19:59:59+08:00"))["allowed"], true);
    let d = decide(call("cn-default", "2026-03-03T20:00:00+08:00"));
    assert_eq!(d["next_allowed_at"], "2026-03-04T08:00:00+08:00");
    // Letters and e-mails are not bound by the hours.
    assert_eq!(
        decide(with(call("cn-default", "2026-03-03T23:00:00+08:00"), "channel", json!("email")))["allowed"],
        true
    );
}

#[test]
fn a_make_up_saturday_is_allowed_and_spring_festival_is_not() {
    let d = decide(call("cn-default", "2026-02-14T10:00:00+08:00"));
    assert_eq!(d["allowed"], true, "{d}");
    assert_eq!(
        decide(call("cn-default", "2026-03-07T10:00:00+08:00"))["allowed"],
        true,
        "an ordinary Saturday"
    );
    let d = decide(call("cn-default", "2026-02-17T10:00:00+08:00"));
    assert_eq!(rules(&d), ["HOLIDAY"]);
    assert_eq!(d["next_allowed_at"], "2026-02-24T08:00:00+08:00", "the first working day after the festival");
    let d = decide(call("cn-default", "2026-02-23T21:00:00+08:00"));
    assert_eq!(rules(&d), ["HOURS", "HOLIDAY"]);
    assert_eq!(d["next_allowed_at"], "2026-02-24T08:00:00+08:00");
}

#[test]
fn calendar_missing_fails_closed() {
    let d = decide(call("cn-default", "2027-03-03T10:00:00+08:00"));
    assert_eq!(rules(&d), ["CALENDAR_MISSING"]);
    assert_eq!(d["next_allowed_at"], Value::Null);
    let d = decide(call("cn-default", "2019-12-31T10:00:00+08:00"));
    assert_eq!(rules(&d), ["CALENDAR_MISSING"]);
    assert_eq!(d["next_allowed_at"], "2020-01-02T08:00:00+08:00", "2020-01-01 is New Year's Day");
    // A pack without a holiday rule needs no calendar.
    assert_eq!(decide(call("cn-cba-2026", "2027-03-03T10:00:00+08:00"))["allowed"], true);
}

#[test]
fn cn_default_caps_calls_a_day_and_a_cycle() {
    let h = calls(
        &["2026-03-03T08:05:00+08:00", "2026-03-03T08:35:00+08:00", "2026-03-03T09:05:00+08:00"],
        "no_answer",
    );
    let d = decide(with(call("cn-default", "2026-03-03T10:00:00+08:00"), "history", h.clone()));
    assert_eq!(rules(&d), ["DAILY_CAP"]);
    assert_eq!(d["next_allowed_at"], "2026-03-04T08:00:00+08:00");
    // Text messages are not calls; a guarantor has counts of their own.
    let sms = with(
        with(call("cn-default", "2026-03-03T10:00:00+08:00"), "history", h.clone()),
        "channel",
        json!("sms"),
    );
    assert_eq!(decide(sms)["allowed"], true);
    let g = with(
        with(call("cn-default", "2026-03-03T10:00:00+08:00"), "history", h),
        "recipient",
        json!("guarantor"),
    );
    assert_eq!(decide(g)["allowed"], true);

    // Fifteen calls in the cycle that began 2026-02-20: the next cycle begins 2026-03-20.
    let times: Vec<String> = (0..15).map(|i| format!("2026-02-{:02}T10:00:00+08:00", 20 + i % 9)).collect();
    let h = calls(&times.iter().map(String::as_str).collect::<Vec<_>>(), "busy");
    let req = with(
        with(call("cn-default", "2026-03-03T10:00:00+08:00"), "history", h.clone()),
        "cycle_start",
        json!("2026-02-20"),
    );
    let d = decide(req);
    assert_eq!(rules(&d), ["CYCLE_CAP"]);
    assert_eq!(d["next_allowed_at"], "2026-03-20T08:00:00+08:00");
    // Without a cycle start the window rolls: 30 days after the first of those calls.
    let d = decide(with(call("cn-default", "2026-03-03T10:00:00+08:00"), "history", h));
    assert_eq!(rules(&d), ["CYCLE_CAP"]);
    assert_eq!(
        d["next_allowed_at"], "2026-03-22T08:00:00+08:00",
        "the two calls of 02-20 leave the window on 03-22"
    );
}

#[test]
fn cn_default_third_parties_need_three_failures_and_a_confirmation() {
    let failed = calls(
        &["2026-03-02T09:00:00+08:00", "2026-03-02T15:00:00+08:00", "2026-03-03T09:00:00+08:00"],
        "powered_off",
    );
    let tp = |h: Value, confirmed: bool| {
        json!({"pack":"cn-default","at":"2026-03-03T10:00:00+08:00","channel":"call","recipient":"third_party",
               "contact_point":"e1","confirmed_third_party":confirmed,"history":h})
    };
    let d = decide(tp(failed.clone(), false));
    assert_eq!(rules(&d), ["THIRD_PARTY"]);
    assert_eq!(d["next_allowed_at"], Value::Null, "only the operator can confirm");
    assert_eq!(decide(tp(failed.clone(), true))["allowed"], true);
    // Two failures are not three.
    let two = Value::Array(failed.as_array().unwrap()[1..].to_vec());
    assert_eq!(rules(&decide(tp(two, true))), ["THIRD_PARTY"]);
    // A visit that reached the debtor since resets the count.
    let mut h = failed.as_array().unwrap().clone();
    h.push(json!({"at":"2026-03-03T09:30:00+08:00","channel":"visit","recipient":"debtor","outcome":"conversation"}));
    assert_eq!(rules(&decide(tp(Value::Array(h), true))), ["THIRD_PARTY"]);
    // One attempt per third-party number per day.
    let mut h = failed.as_array().unwrap().clone();
    h.push(json!({"at":"2026-03-03T09:40:00+08:00","channel":"call","recipient":"third_party","contact_point":"e1","outcome":"third_party_answered"}));
    let d = decide(tp(Value::Array(h.clone()), true));
    assert_eq!(rules(&d), ["THIRD_PARTY"]);
    assert_eq!(d["next_allowed_at"], "2026-03-04T08:00:00+08:00");
    let mut other = tp(Value::Array(h), true);
    other["contact_point"] = json!("e2");
    assert_eq!(decide(other)["allowed"], true);
}

#[test]
fn cn_cba_hours_caps_and_unreachable_debtors() {
    assert_eq!(decide(call("cn-cba-2026", "2026-03-03T21:30:00+08:00"))["allowed"], true);
    let late = call("cn-cba-2026", "2026-03-03T22:00:00+08:00");
    assert_eq!(rules(&decide(late.clone())), ["HOURS"]);
    let mut consented = late;
    consented["flags"] = json!({"consented_hours": true});
    assert_eq!(decide(consented)["allowed"], true);
    // No holiday rule in this pack.
    assert_eq!(decide(call("cn-cba-2026", "2026-02-17T10:00:00+08:00"))["allowed"], true);

    let six: Vec<String> = (0..6).map(|i| format!("2026-03-03T08:{:02}:00+08:00", i * 5)).collect();
    let h = calls(&six.iter().map(String::as_str).collect::<Vec<_>>(), "no_answer");
    let d = decide(with(call("cn-cba-2026", "2026-03-03T10:00:00+08:00"), "history", h.clone()));
    assert_eq!(rules(&d), ["UNANSWERED_CAP"]);
    assert_eq!(d["next_allowed_at"], "2026-03-04T08:00:00+08:00");
    let other = with(
        with(call("cn-cba-2026", "2026-03-03T10:00:00+08:00"), "history", h),
        "contact_point",
        json!("p2"),
    );
    assert_eq!(decide(other)["allowed"], true, "the cap is per number");

    let three = calls(
        &["2026-03-03T08:10:00+08:00", "2026-03-03T09:00:00+08:00", "2026-03-03T09:30:00+08:00"],
        "conversation",
    );
    let mut h = three.as_array().unwrap().clone();
    h[1]["channel"] = json!("robot_call");
    let d = decide(with(call("cn-cba-2026", "2026-03-03T10:00:00+08:00"), "history", Value::Array(h)));
    assert_eq!(rules(&d), ["CONVERSATION_CAP"]);

    let tp = |h: Value, known: Value| {
        json!({"pack":"cn-cba-2026","at":"2026-03-03T10:00:00+08:00","channel":"call","recipient":"third_party",
               "contact_point":"e1","debtor_contact_points":known,"history":h})
    };
    let invalid = json!([{"at":"2026-03-01T10:00:00+08:00","channel":"call","recipient":"debtor","contact_point":"p1","outcome":"invalid_number"},
                         {"at":"2026-03-02T10:00:00+08:00","channel":"call","recipient":"debtor","contact_point":"p2","outcome":"invalid_number"}]);
    assert_eq!(decide(tp(invalid.clone(), json!([])))["allowed"], true, "every number seen is invalid");
    assert_eq!(decide(tp(invalid.clone(), json!(["p1", "p2"])))["allowed"], true);
    assert_eq!(rules(&decide(tp(invalid, json!(["p1", "p2", "p3"])))), ["THIRD_PARTY"], "p3 was never tried");
}

#[test]
fn us_reg_f_hours_follow_every_zone_through_daylight_saving() {
    let req = |at: &str, zones: Value| json!({"pack":"us-reg-f","at":at,"channel":"call","recipient":"debtor","debt_id":"D1","time_zones":zones});
    // Spring forward: 2026-03-08 07:30 EDT is too early; 08:00 EDT is 12:00Z, not 13:00Z.
    let d = decide(req("2026-03-08T07:30:00-04:00", json!(["America/New_York"])));
    assert_eq!(rules(&d), ["HOURS"]);
    assert_eq!(d["next_allowed_at"], "2026-03-08T08:00:00-04:00");
    // At 01:30 EST, before the jump, the answer is still 08:00 EDT.
    let d = decide(req("2026-03-08T01:30:00-05:00", json!(["America/New_York"])));
    assert_eq!(d["next_allowed_at"], "2026-03-08T08:00:00-04:00");
    // Fall back: 2026-11-01 20:30 EST is allowed, 21:00 EST is not.
    assert_eq!(decide(req("2026-11-01T20:30:00-05:00", json!(["America/New_York"])))["allowed"], true);
    let d = decide(req("2026-11-01T21:00:00-05:00", json!(["America/New_York"])));
    assert_eq!(d["next_allowed_at"], "2026-11-02T08:00:00-05:00");
    // A consumer who may be in New York or Los Angeles: 10:00 in New York is 07:00 there.
    let d = decide(req("2026-06-01T10:00:00-04:00", json!(["America/New_York", "America/Los_Angeles"])));
    assert_eq!(rules(&d), ["HOURS"]);
    assert_eq!(d["next_allowed_at"], "2026-06-01T11:00:00-04:00");
    // 20:30 in New York is fine there but Los Angeles is fine too; 21:00 is not.
    assert_eq!(
        rules(&decide(req("2026-06-01T21:00:00-04:00", json!(["America/New_York", "America/Los_Angeles"])))),
        ["HOURS"]
    );
    // Without a zone the pack cannot judge.
    let d = decide(
        json!({"pack":"us-reg-f","at":"2026-06-01T10:00:00-04:00","channel":"call","recipient":"debtor"}),
    );
    assert_eq!(d["code"], "POLICY_REQUEST");
    assert!(d["error"].as_str().unwrap().contains("time_zones"));
}

#[test]
fn us_reg_f_seven_in_seven_and_after_conversation() {
    let req = |h: Value| {
        json!({"pack":"us-reg-f","at":"2026-06-08T10:00:00-04:00","channel":"call","recipient":"debtor",
               "debt_id":"D1","time_zones":["America/New_York"],"history":h})
    };
    let day = |d: u32, outcome: &str| json!({"at": format!("2026-06-{d:02}T10:00:00-04:00"), "channel":"call","recipient":"debtor","debt_id":"D1","outcome":outcome});
    // Seven counted calls on 06-02 .. 06-08.
    let seven: Vec<Value> = (2..=8).map(|d| day(d, "no_answer")).collect();
    let d = decide(req(Value::Array(seven.clone())));
    assert_eq!(rules(&d), ["SEVEN_IN_SEVEN"]);
    assert_eq!(
        d["next_allowed_at"], "2026-06-09T08:00:00-04:00",
        "the call of 06-02 leaves the window on 06-09"
    );
    // A busy signal does not count; neither does another debt.
    let mut h = seven.clone();
    h[0] = day(2, "busy");
    assert_eq!(decide(req(Value::Array(h)))["allowed"], true);
    let mut h = seven;
    h[0]["debt_id"] = json!("D2");
    assert_eq!(decide(req(Value::Array(h)))["allowed"], true);
    // A conversation on 06-03 closes 06-03 .. 06-09.
    let d = decide(req(json!([day(3, "refused")])));
    assert_eq!(rules(&d), ["AFTER_CONVERSATION"]);
    assert_eq!(d["next_allowed_at"], "2026-06-10T08:00:00-04:00");
    assert_eq!(decide(req(json!([day(1, "refused")])))["allowed"], true, "06-01 + 6 days is 06-07");
    // A third party once per number, ever.
    let tp = json!({"pack":"us-reg-f","at":"2026-06-08T10:00:00-04:00","channel":"call","recipient":"third_party",
                    "contact_point":"n1","time_zones":["America/New_York"],
                    "history":[{"at":"2026-01-05T10:00:00-05:00","channel":"call","recipient":"third_party","contact_point":"n1","outcome":"third_party_answered"}]});
    let d = decide(tp);
    assert_eq!((rules(&d), d["next_allowed_at"].clone()), (vec!["THIRD_PARTY".to_owned()], Value::Null));
}

#[test]
fn cease_and_opt_out_hold_on_every_pack() {
    for (pack, _) in SHIPPED {
        let mut req = call(pack, "2026-03-03T10:00:00+08:00");
        req["time_zones"] = json!(["Asia/Shanghai"]);
        req["flags"] = json!({"cease": true});
        let d = decide(req.clone());
        assert_eq!(
            (rules(&d), d["next_allowed_at"].clone()),
            (vec!["CEASE".to_owned()], Value::Null),
            "{pack}"
        );
        req["channel"] = json!("letter");
        assert_eq!(decide(req.clone())["allowed"], true, "{pack}");
        req["flags"] = json!({"opt_out": ["sms"]});
        req["channel"] = json!("sms");
        assert_eq!(rules(&decide(req.clone())), ["OPT_OUT"], "{pack}");
        req["channel"] = json!("call");
        assert_eq!(decide(req)["allowed"], true, "{pack}");
    }
}

#[test]
fn malformed_lines_name_the_line_and_field() {
    let packs = packs();
    let out = decide_line(&packs, &packs[0], 7, "{\"id\":\"x\",\"channel\":\"fax\"}", now());
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["line"].clone(), v["id"].clone(), v["code"].clone()),
        (json!(7), json!("x"), json!("POLICY_REQUEST"))
    );
    assert!(v["error"].as_str().unwrap().contains("fax"), "{v}");
    let v: Value = serde_json::from_str(&decide_line(&packs, &packs[0], 2, "not json", now())).unwrap();
    assert_eq!(v["line"], 2);
    let line = r#"{"channel":"call","recipient":"debtor","flags":{"ceese":true}}"#;
    let v: Value = serde_json::from_str(&decide_line(&packs, &packs[0], 3, line, now())).unwrap();
    assert!(v["error"].as_str().unwrap().contains("ceese"), "{v}");
    let line = r#"{"channel":"call","recipient":"debtor","at":"2026-03-03 10:00"}"#;
    let v: Value = serde_json::from_str(&decide_line(&packs, &packs[0], 4, line, now())).unwrap();
    assert!(v["error"].as_str().unwrap().starts_with("at: "), "{v}");
    let line = r#"{"channel":"call","recipient":"debtor","pack":"uk"}"#;
    let v: Value = serde_json::from_str(&decide_line(&packs, &packs[0], 5, line, now())).unwrap();
    assert_eq!(v["code"], "POLICY_UNKNOWN");
    // A request without a time is judged at `now`.
    let line = r#"{"channel":"letter","recipient":"debtor"}"#;
    let v: Value = serde_json::from_str(&decide_line(&packs, &packs[0], 6, line, now())).unwrap();
    assert_eq!(v["next_allowed_at"], "2026-03-01T08:00:00+08:00");
}

#[test]
fn a_call_still_going_on_counts_as_unanswered() {
    let five: Vec<String> = (0..5).map(|i| format!("2026-03-03T08:{:02}:00+08:00", i * 5)).collect();
    let mut h =
        calls(&five.iter().map(String::as_str).collect::<Vec<_>>(), "no_answer").as_array().unwrap().clone();
    assert_eq!(
        decide(with(call("cn-cba-2026", "2026-03-03T10:00:00+08:00"), "history", Value::Array(h.clone())))["allowed"],
        true
    );
    h.push(json!({"at":"2026-03-03T09:59:00+08:00","channel":"robot_call","recipient":"debtor","contact_point":"p1"}));
    let d = decide(with(call("cn-cba-2026", "2026-03-03T10:00:00+08:00"), "history", Value::Array(h)));
    assert_eq!(rules(&d), ["UNANSWERED_CAP"]);
}

#[test]
fn statement_cycles_keep_their_day_through_short_months() {
    use daylight_compliance::statement_anchor;
    use jiff::civil::Date;
    assert_eq!(statement_anchor(31, Date::constant(2026, 3, 15)), Date::constant(2026, 1, 31));
    assert_eq!(statement_anchor(31, Date::constant(2026, 3, 31)), Date::constant(2026, 3, 31));
    assert_eq!(statement_anchor(5, Date::constant(2026, 3, 3)), Date::constant(2026, 2, 5));
    assert_eq!(statement_anchor(29, Date::constant(2026, 3, 1)), Date::constant(2026, 1, 29));
    // Statement day 31: the cycle that holds 29 March runs 28 Feb – 31 Mar, not 28 Feb – 28 Mar.
    let times: Vec<String> = (1..=15).map(|d| format!("2026-03-{d:02}T10:00:00+08:00")).collect();
    let h = calls(&times.iter().map(String::as_str).collect::<Vec<_>>(), "busy");
    let anchor = statement_anchor(31, Date::constant(2026, 3, 29)).to_string();
    let req = with(
        with(call("cn-default", "2026-03-30T10:00:00+08:00"), "history", h),
        "cycle_start",
        json!(anchor),
    );
    let d = decide(req);
    assert_eq!(rules(&d), ["CYCLE_CAP"]);
    assert_eq!(d["next_allowed_at"], "2026-03-31T08:00:00+08:00");
}

/// Defect: from 2027-01-01 every contact was refused and nothing helped. A pack may opt into a
/// provisional year (statutory days and weekends off, no make-up days), every such verdict
/// marked provisional; a year entered from the State Council's notice judges its days itself.
#[test]
fn past_the_calendar_a_pack_refuses_or_judges_provisionally() {
    let monday = "2027-01-04T10:00:00+08:00";
    let refuse = Pack::shipped("cn-default").unwrap();
    let text = SHIPPED[0].1.replace(
        "citation = \"Daylight: a date whose year the holiday calendar does not cover is refused rather than guessed\"",
        "citation = \"Daylight: provisional year\"\nbeyond = \"provisional\"",
    );
    let provisional = Pack::from_toml(&text, "provisional.toml").unwrap();
    let judge = |pack: &Pack, at: &str| -> Value {
        let out = decide_line(
            std::slice::from_ref(pack),
            pack,
            1,
            &call(pack.name.as_str(), at).to_string(),
            now(),
        );
        serde_json::from_str(&out).unwrap()
    };
    assert_eq!(rules(&judge(&refuse, monday)), ["CALENDAR_MISSING"]);
    let d = judge(&provisional, monday);
    assert_eq!((d["allowed"].as_bool(), d["provisional"].as_bool()), (Some(true), Some(true)), "{d}");
    // A Saturday, and the third day of the Spring Festival (2027-02-08): days off.
    for day_off in ["2027-01-09T10:00:00+08:00", "2027-02-08T10:00:00+08:00"] {
        let d = judge(&provisional, day_off);
        assert_eq!(
            (rules(&d), d["provisional"].as_bool()),
            (vec!["HOLIDAY".to_owned()], Some(true)),
            "{day_off}: {d}"
        );
    }
    // 2026's days are judged by 2026's notice, not provisionally.
    let d = judge(&provisional, "2026-03-03T10:00:00+08:00");
    assert_eq!((d["allowed"].as_bool(), d.get("provisional")), (Some(true), None));
    // The notice for 2027, entered into the pack: 4 January is judged by it, no longer
    // provisional; the pack's calendar now ends with 2027.
    let notice = "[[year]]\nyear = 2027\nsource = \"国务院办公厅关于2027年部分节假日安排的通知\"\n\n[[year.period]]\nname = \"元旦\"\nname_en = \"New Year's Day\"\noff = [[\"2027-01-01\", \"2027-01-03\"]]\nworkdays = []\n";
    let entered = refuse.with_years_text(notice, "2027.toml").unwrap();
    let d = judge(&entered, monday);
    assert_eq!((d["allowed"].as_bool(), d.get("provisional")), (Some(true), None), "{d}");
    assert_eq!(rules(&judge(&entered, "2027-01-02T10:00:00+08:00")), ["HOLIDAY"]);
    assert_eq!(entered.calendar.last_day().unwrap().to_string(), "2027-12-29");
    assert_eq!(refuse.calendar.last_day().unwrap().to_string(), "2026-12-29");
    assert_eq!(provisional.calendar.last_day().unwrap().to_string(), "2026-12-29");
    // Entering the same year twice, or something else than years, is refused.
    assert_eq!(entered.with_years_text(notice, "again.toml").unwrap_err().code, "POLICY_INVALID");
    assert_eq!(
        refuse.with_years_text("[hours]\nfrom = \"00:00\"\n", "bad.toml").unwrap_err().code,
        "POLICY_TOML"
    );
}

#[test]
fn an_abandoned_number_is_redialled_unattended_only_after_72_hours() {
    // Abandoned on 03-02 at 10:00; the unattended call of 03-03 09:30 is refused until 03-05 10:00.
    let abandoned = calls(&["2026-03-02T10:00:00+08:00"], "abandoned");
    let unattended = with(
        with(call("cn-default", "2026-03-03T09:30:00+08:00"), "history", abandoned.clone()),
        "unattended",
        json!(true),
    );
    let d = decide(unattended.clone());
    assert_eq!(rules(&d), ["ABANDONED_REDIAL"]);
    assert_eq!(d["next_allowed_at"], "2026-03-05T10:00:00+08:00");
    assert!(d["violations"][0]["citation"].as_str().unwrap().contains("72 hours"), "{d}");
    // A collector on the line may call at once; so may the robot once the hours have passed.
    let attended = with(unattended.clone(), "unattended", json!(false));
    assert_eq!(decide(attended)["allowed"], true);
    let later = with(unattended.clone(), "at", json!("2026-03-05T10:00:00+08:00"));
    assert_eq!(decide(later)["allowed"], true);
    // Another number of the debtor's is not held; a call still going on holds the number.
    let other = with(unattended.clone(), "contact_point", json!("p2"));
    assert_eq!(decide(other)["allowed"], true);
    let going = json!([{"at": "2026-03-03T09:29:00+08:00", "channel": "call", "recipient": "debtor", "contact_point": "p1", "debt_id": "A1"}]);
    let d = decide(with(unattended, "history", going));
    assert_eq!(rules(&d), ["ABANDONED_REDIAL"]);
    // Every shipped pack carries the 3 % limit.
    for p in packs() {
        let a = p.abandonment.as_ref().unwrap_or_else(|| panic!("{} has no [abandonment]", p.name));
        assert_eq!((a.limit_percent, a.redial_hours), (3.0, 72), "{}", p.name);
    }
}

#[test]
fn abandonment_settings_out_of_range_name_the_field() {
    let text = SHIPPED.iter().find(|(n, _)| *n == "cn-default").unwrap().1;
    for (from, to, field) in [
        ("redial_hours = 72", "redial_hours = 0", "abandonment.redial_hours"),
        ("limit_percent = 3.0", "limit_percent = 120.0", "abandonment.limit_percent"),
        ("window_hours = 24", "window_hours = 9999", "abandonment.window_hours"),
    ] {
        let e = Pack::from_toml(&text.replace(from, to), "bad.toml").unwrap_err();
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
}
