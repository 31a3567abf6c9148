//! Flow documents read and checked (errors by line and column), and the shipped flows walked
//! with scripted keypad input.

use daylight_domain::attempt::Outcome;

use super::walk::{Action, Heard, MAX_STEPS, Walk};
use super::{DEFAULT_NOTICE, Flow, Then};
use crate::document::{DEFAULT, Strategy, StrategyError};

/// The default strategy's head (capacity, one script and ladder) with `flows` after it.
fn with_flows(flows: &str) -> String {
    format!(
        "name = \"t\"\n\
         [capacity.call]\nlines = 1\nminutes_per_call = 5\nshifts = [\"09:00-12:00\"]\n\
         [[script]]\nid = \"r\"\nchannels = [\"robot_call\", \"call\"]\ntone = \"reminder\"\ntext = \"您好\"\n\
         [[ladder]]\nname = \"l\"\nsteps = [{{ channel = \"robot_call\", from_day = 1, flow = \"f\" }}]\n\
         {flows}"
    )
}

const GOOD: &str = r#"
[[flow]]
name = "f"
outcome = "no_answer"
start = "ask"

[[flow.node]]
id = "ask"
say = "您是{name}本人吗？是请按1。"
keys = { "1" = "yes" }

[[flow.node]]
id = "yes"
outcome = "conversation"
say = "您应还{amount}元。"
hangup = true
"#;

fn read(doc: &str) -> Result<Strategy, StrategyError> {
    Strategy::from_toml(doc, "s.toml")
}

/// The line (1-based) of the first occurrence of `needle` in `doc`, and its column.
fn at(doc: &str, needle: &str) -> String {
    let start = doc.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the document"));
    let before = &doc[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("s.toml:{line}:{column}")
}

fn error(doc: &str) -> StrategyError {
    read(doc).expect_err("refused")
}

#[test]
fn a_flow_reads_and_the_ladder_names_it() {
    let s = read(&with_flows(GOOD)).unwrap();
    let f = s.flow("f").unwrap();
    assert_eq!((f.notice.as_str(), f.outcome, f.pool.as_deref()), (DEFAULT_NOTICE, Outcome::NoAnswer, None));
    assert_eq!(f.nodes[f.start].id, "ask");
    assert_eq!(
        f.nodes[0].then,
        Then::Keys { keys: vec![('1', 1)], timeout_secs: 5, retries: 1, otherwise: None }
    );
    assert_eq!(s.ladders[0].steps[0].flow.as_deref(), Some("f"));
}

#[test]
fn the_default_strategy_ships_three_flows() {
    let s = read(DEFAULT).unwrap();
    let names: Vec<&str> = s.flows.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["reminder", "screening", "negotiation"]);
    assert!(s.flow("reminder").unwrap().transfers() && s.flow("negotiation").unwrap().transfers());
    assert!(!s.flow("screening").unwrap().transfers());
    let m1 = s.ladders.iter().find(|l| l.name == "m1").unwrap();
    let robot = m1.steps.iter().find(|st| st.action == "robot_call").unwrap();
    assert_eq!(robot.flow.as_deref(), Some("reminder"));
}

#[test]
fn errors_name_the_line_and_column_of_the_value_at_fault() {
    let cases: [(&str, &str, &str, &str); 9] = [
        // (what, bad document's flows, the text the place points at, a word of the message)
        (
            "an unknown node",
            &GOOD.replace("\"1\" = \"yes\"", "\"1\" = \"nope\""),
            "\"nope\"",
            "no node \"nope\"",
        ),
        (
            "an unknown start",
            &GOOD.replace("start = \"ask\"", "start = \"begin\""),
            "\"begin\"",
            "no node \"begin\"",
        ),
        (
            "a key that is no key",
            &GOOD.replace("\"1\" = \"yes\"", "\"12\" = \"yes\""),
            "\"yes\" }",
            "key \"12\"",
        ),
        (
            "a node doing two things",
            &GOOD.replace("hangup = true", "hangup = true\nnext = \"ask\""),
            "\"yes\"\noutcome",
            "exactly one",
        ),
        ("a node doing nothing", &GOOD.replace("hangup = true", ""), "\"yes\"\noutcome", "does nothing"),
        ("a timeout too long", &GOOD.replace("keys = {", "timeout_secs = 90\nkeys = {"), "90", "1 to 30"),
        (
            "an unknown variable",
            &GOOD.replace("{amount}", "{balance}"),
            "\"您应还",
            "unknown variable {balance}",
        ),
        (
            "the switch's outcome",
            &GOOD.replace("\"conversation\"", "\"interrupted\""),
            "\"interrupted\"",
            "switch's alone",
        ),
        ("a duplicate id", &GOOD.replace("id = \"yes\"", "id = \"ask\""), "\"ask\"\noutcome", "unique"),
    ];
    for (what, flows, points_at, says) in cases {
        let doc = with_flows(flows);
        let e = error(&doc);
        assert_eq!(e.code, "STRATEGY_INVALID", "{what}: {e}");
        assert_eq!(e.place, at(&doc, points_at), "{what}: {e}");
        assert!(e.message.contains(says), "{what}: {e}");
    }
}

#[test]
fn a_flow_that_cannot_end_or_has_a_stray_node_is_refused() {
    let looping = r#"
[[flow]]
name = "f"
outcome = "no_answer"
start = "a"

[[flow.node]]
id = "a"
say = "一"
next = "b"

[[flow.node]]
id = "b"
say = "二"
keys = { "1" = "a" }
otherwise = "a"
"#;
    let doc = with_flows(looping);
    let e = error(&doc);
    assert!(e.message.contains("can never end"), "{e}");
    assert_eq!(e.place, at(&doc, "\"a\"\nsay"));
    let stray = format!("{GOOD}\n[[flow.node]]\nid = \"lost\"\nhangup = true\n");
    let doc = with_flows(&stray);
    let e = error(&doc);
    assert!(e.message.contains("\"lost\" is never reached"), "{e}");
    assert_eq!(e.place, at(&doc, "\"lost\""));
}

#[test]
fn unknown_keys_and_misplaced_flows_are_refused() {
    let doc = with_flows(&GOOD.replace("hangup = true", "hangup = true\nvoice = \"x\""));
    let e = error(&doc);
    assert_eq!((e.code, e.place.clone()), ("STRATEGY_TOML", at(&doc, "voice")), "{e}");
    let doc = with_flows(GOOD).replace(
        "{ channel = \"robot_call\", from_day = 1, flow = \"f\" }",
        "{ channel = \"call\", from_day = 1, flow = \"f\" }",
    );
    let e = error(&doc);
    assert!(e.message.contains("robot_call step"), "{e}");
    assert_eq!(e.place, at(&doc, "\"f\" }"));
    let doc = with_flows(GOOD).replace("flow = \"f\" }", "flow = \"g\" }");
    let e = error(&doc);
    assert!(e.message.contains("no flow \"g\"; expected one of: f"), "{e}");
}

/// Walks `flow` answering each action from `script` (a key, `t` a timeout, `c` a collector
/// connected, `n` none free; prompts are always said). The actions seen.
fn walk<'f>(flow: &'f Flow, script: &str) -> (Vec<Action<'f>>, Walk<'f>) {
    let (mut w, mut action) = Walk::start(flow);
    let mut seen = vec![action];
    let mut input = script.chars();
    for _ in 0..500 {
        let heard = match action {
            Action::Say { .. } => Heard::Said,
            Action::Listen { .. } | Action::Transfer { .. } => match input.next() {
                Some('t') => Heard::Timeout,
                Some('c') => Heard::Connected,
                Some('n') => Heard::NoCollector,
                Some(k) => Heard::Key(k),
                None => Heard::Timeout,
            },
            Action::HandedOver | Action::Hangup | Action::Continue => break,
        };
        action = w.on(heard);
        seen.push(action);
    }
    (seen, w)
}

fn said<'f>(seen: &[Action<'f>]) -> Vec<&'f str> {
    seen.iter()
        .filter_map(|a| match a {
            Action::Say { node, .. } => Some(node.unwrap_or("notice")),
            _ => None,
        })
        .collect()
}

#[test]
fn the_reminder_confirms_the_person_before_saying_anything_of_the_debt() {
    let s = read(DEFAULT).unwrap();
    let f = s.flow("reminder").unwrap();
    // The person presses 1, hears the amounts, then 1 again: a collector takes the call.
    let (seen, w) = walk(f, "11c");
    assert_eq!(said(&seen), ["notice", "identify", "remind", "agent"]);
    assert_eq!(seen.last(), Some(&Action::HandedOver));
    assert!(matches!(seen[seen.len() - 2], Action::Transfer { pool: None }));
    assert_eq!((w.outcome(), w.keys(), w.transferred()), (Outcome::Conversation, "11", true));
    // Not them: nothing of the debt, a third party answered.
    let (seen, w) = walk(f, "2");
    assert_eq!(said(&seen), ["notice", "identify", "not_them"]);
    assert_eq!((w.outcome(), seen.last()), (Outcome::ThirdPartyAnswered, Some(&Action::Hangup)));
    // Silence: asked twice (one replay), then the robot hangs up; nobody was reached.
    let (seen, w) = walk(f, "tt");
    assert_eq!(said(&seen), ["notice", "identify", "identify"]);
    assert_eq!((w.outcome(), w.is_over()), (Outcome::NoAnswer, true));
    // A key not listed counts as a replay; 2 in the reminder replays it.
    let (seen, _) = walk(f, "912t");
    assert_eq!(said(&seen), ["notice", "identify", "identify", "remind", "remind", "bye"]);
    // Nobody free for the transfer: the busy message.
    let (seen, w) = walk(f, "11n");
    assert_eq!(said(&seen), ["notice", "identify", "remind", "agent", "busy"]);
    assert_eq!((w.outcome(), w.transferred()), (Outcome::Conversation, false));
}

#[test]
fn screening_and_negotiation_walk_as_written() {
    let s = read(DEFAULT).unwrap();
    let screening = s.flow("screening").unwrap();
    for (keys, outcome) in [
        ("1", Outcome::Conversation),
        ("2", Outcome::ThirdPartyAnswered),
        ("3", Outcome::WrongNumber),
        ("ttt", Outcome::NoAnswer),
    ] {
        let (_, w) = walk(screening, keys);
        assert_eq!((w.outcome(), w.is_over()), (outcome, true), "{keys}");
    }
    let neg = s.flow("negotiation").unwrap();
    let (seen, w) = walk(neg, "1232");
    assert_eq!(said(&seen), ["notice", "identify", "menu", "amounts", "menu", "callback", "noted"]);
    assert_eq!((w.keys(), w.outcome()), ("1232", Outcome::Conversation));
    assert_eq!(w.path(), ["identify", "menu", "amounts", "menu", "callback", "noted"]);
}

#[test]
fn a_key_during_a_prompt_that_listens_is_taken_and_keys_during_the_notice_are_not() {
    let s = read(DEFAULT).unwrap();
    let f = s.flow("reminder").unwrap();
    let (mut w, first) = Walk::start(f);
    assert!(matches!(first, Action::Say { node: None, .. }));
    assert_eq!(w.on(Heard::Key('1')), Action::Continue, "the notice is heard whole");
    assert!(matches!(w.on(Heard::Said), Action::Say { node: Some("identify"), .. }));
    assert!(matches!(w.on(Heard::Key('1')), Action::Say { node: Some("remind"), .. }), "barge-in");
    assert_eq!(w.keys(), "1", "only keys taken are kept");
}

#[test]
fn a_caller_pressing_for_ever_is_hung_up_on() {
    let s = read(DEFAULT).unwrap();
    let neg = s.flow("negotiation").unwrap();
    // 1 then 2 for ever: menu → amounts → menu … until the walk's limit.
    let script = format!("1{}", "2".repeat(400));
    let (seen, w) = walk(neg, &script);
    assert_eq!(seen.last(), Some(&Action::Hangup));
    assert!(w.is_over());
    assert_eq!(w.path().len(), MAX_STEPS as usize);
}
