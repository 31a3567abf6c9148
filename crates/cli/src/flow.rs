//! `daylight strategy walk`: a robot flow walked with scripted keys, printed as the robot
//! would speak it to an example case. What a strategy analyst runs after editing a flow.

use anyhow::{Context, Result, bail};
use daylight_strategy::document::{DEFAULT, Strategy};
use daylight_strategy::flow::walk::{Action, Heard, Walk};
use daylight_strategy::spoken::{Spoken, speak};
use serde_json::json;

use crate::Outcome;
use crate::args::StrategyWalkArgs;

/// The example case the prompts are spoken for.
fn example() -> Spoken<'static> {
    Spoken {
        name: "张先生",
        card_last4: "1234",
        amount_fen: 523_050,
        dpd: 12,
        due_date: jiff::civil::date(2026, 3, 5),
        bank: "示例银行",
        agent: "E001",
        hotline: "95555",
    }
}

pub fn walk(a: &StrategyWalkArgs) -> Result<Outcome> {
    let (text, origin) = match &a.file {
        Some(f) => (
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
            f.display().to_string(),
        ),
        None => (DEFAULT.to_owned(), "default strategy".to_owned()),
    };
    let s = Strategy::from_toml(&text, &origin)?;
    let Some(flow) = s.flow(&a.flow) else {
        let names: Vec<&str> = s.flows.iter().map(|f| f.name.as_str()).collect();
        bail!("{origin}: no flow {:?}; expected one of: {}", a.flow, names.join(", "));
    };
    if let Some(bad) = a.keys.chars().find(|c| !"0123456789*#tcn".contains(*c)) {
        bail!(
            "--keys: {bad:?} is not a key (0–9, *, #), t (silence), c (a collector answers) or n (nobody free)"
        );
    }
    let facts = example();
    let mut keys = a.keys.chars();
    let (mut w, mut action) = Walk::start(flow);
    let mut steps = Vec::new();
    loop {
        let (line, heard) = match action {
            Action::Say { node, text } => {
                (json!({"node": node.unwrap_or("notice"), "say": speak(text, &facts)}), Heard::Said)
            }
            Action::Listen { timeout_secs } => {
                let heard = match keys.next() {
                    Some(k) if k.is_ascii_digit() || k == '*' || k == '#' => Heard::Key(k),
                    _ => Heard::Timeout,
                };
                let got = match heard {
                    Heard::Key(k) => k.to_string(),
                    _ => "silence".to_owned(),
                };
                (json!({"listen_secs": timeout_secs, "heard": got}), heard)
            }
            Action::Transfer { pool } => {
                let heard = if keys.next() == Some('c') { Heard::Connected } else { Heard::NoCollector };
                let pool = pool.unwrap_or("the case's team");
                (json!({"transfer": pool, "connected": heard == Heard::Connected}), heard)
            }
            Action::HandedOver => {
                steps.push(json!({"handed_over": true}));
                break;
            }
            Action::Hangup | Action::Continue => {
                steps.push(json!({"hangup": true}));
                break;
            }
        };
        steps.push(line);
        action = w.on(heard);
    }
    if let Some(dir) = &a.speak {
        speak_into(dir, &mut steps)?;
    }
    let out = json!({
        "flow": flow.name,
        "steps": steps,
        "keys": w.keys(),
        "outcome": w.outcome().as_str(),
        "transferred": w.transferred(),
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Outcome::Done);
    }
    println!("flow {} ({}):", flow.name, flow.description);
    for st in &steps {
        if let Some(say) = st["say"].as_str() {
            println!("  [{}] says: {say}", st["node"].as_str().unwrap_or(""));
            if let Some(file) = st["wav"].as_str() {
                println!("      → {file} ({:.1} s)", st["secs"].as_f64().unwrap_or(0.0));
            }
        } else if let Some(secs) = st["listen_secs"].as_u64() {
            println!("  listen {secs} s: {}", st["heard"].as_str().unwrap_or(""));
        } else if let Some(pool) = st["transfer"].as_str() {
            let to = if st["connected"] == true { "a collector answered" } else { "nobody free" };
            println!("  transfer ({pool}): {to}");
        } else if st["handed_over"] == true {
            println!("  the collector has the call");
        } else {
            println!("  hang up");
        }
    }
    println!("outcome: {} (keys {:?})", w.outcome(), w.keys());
    Ok(Outcome::Done)
}

/// Speaks each prompt of the walk into `dir` (`NN-node.wav`), noting the file and its length
/// in the step.
fn speak_into(dir: &std::path::Path, steps: &mut [serde_json::Value]) -> Result<()> {
    use daylight_calls::speech::{Espeak, Tts};
    std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    let tts = Espeak::new(&dir.join(".cache"))?;
    let mut n = 0;
    for st in steps.iter_mut() {
        let Some(say) = st["say"].as_str().map(str::to_owned) else { continue };
        n += 1;
        let prompt = tts.render(&say)?;
        let file = dir.join(format!("{n:02}-{}.wav", st["node"].as_str().unwrap_or("prompt")));
        prompt.write_wav(&file)?;
        st["wav"] = json!(file.display().to_string());
        st["secs"] = json!((prompt.secs() * 10.0).round() / 10.0);
    }
    Ok(())
}
