//! `daylight qc`: analyse call transcripts, lint scripts and SMS templates, list the codes,
//! score the rules on a labelled corpus.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use daylight_qc::eval::{Expect, Report};
use daylight_qc::{Analysis, Analyzer, LintFinding, Rules, Transcript};
use daylight_strategy::document::Strategy;
use serde_json::json;

use crate::Outcome;
use crate::args::QcCommand;
use crate::output::Table;

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The rules a command uses: a file, or the shipped ones.
pub fn rules(file: Option<&Path>) -> Result<Rules> {
    match file {
        Some(p) => Ok(Rules::parse(&p.display().to_string(), &read(p)?)?),
        None => Ok(Rules::default_rules()),
    }
}

/// `*.json` files of the paths (directories read one level, sorted).
fn transcripts(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read the directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        bail!(
            "no transcripts (*.json) in {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(out)
}

pub fn run(c: QcCommand) -> Result<Outcome> {
    match c {
        QcCommand::Analyze(a) => analyze(&a.paths, a.json, a.rules.as_deref()),
        QcCommand::LintScript(a) => lint_script(&a.file, a.json, a.rules.as_deref()),
        QcCommand::Rules(a) => list_rules(a.json, a.rules.as_deref()),
        QcCommand::Eval(a) => eval(&a.dir, a.json, a.misses, a.rules.as_deref()),
    }
}

fn analyze(paths: &[PathBuf], as_json: bool, rules: Option<&Path>) -> Result<Outcome> {
    let analyzer = Analyzer::new(self::rules(rules)?);
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for f in transcripts(paths)? {
        let origin = f.display().to_string();
        let t = match read(&f).and_then(|text| Ok(Transcript::parse(&origin, &text)?)) {
            Ok(t) => t,
            Err(e) => {
                failed += 1;
                if as_json {
                    writeln!(out, "{}", json!({"file": origin, "error": format!("{e:#}")}))?;
                } else {
                    eprintln!("error: {e:#}");
                }
                continue;
            }
        };
        let a = analyzer.analyze(&t);
        if as_json {
            writeln!(out, "{}", analysis_json(&a))?;
        } else {
            write!(out, "{}", analysis_text(&a))?;
        }
    }
    Ok(if failed > 0 { Outcome::Refused } else { Outcome::Done })
}

/// One transcript's result as the JSON line `qc analyze --json` prints.
pub fn analysis_json(a: &Analysis) -> serde_json::Value {
    json!({
        "call_id": a.call_id,
        "rules": a.rules,
        "findings": a.findings,
        "promise": a.promise.as_ref().map(|p| json!({
            "amount_fen": p.amount_fen, "due": p.due.to_string(), "local": p.local, "turn": p.turn,
        })),
    })
}

fn analysis_text(a: &Analysis) -> String {
    let mut s = format!("{}: {} finding(s)\n", a.call_id, a.findings.len());
    for f in &a.findings {
        s += &format!(
            "  {:<30} {:<8} {:<6} turn {:>3} [{}, {}) {}\n",
            f.code,
            f.severity.as_str(),
            f.speaker.as_str(),
            f.turn,
            f.span[0],
            f.span[1],
            f.text
        );
    }
    match &a.promise {
        Some(p) => s += &format!("  promise: {} yuan by {} (turn {})\n", yuan(p.amount_fen), p.local, p.turn),
        None => s += "  promise: none\n",
    }
    s
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

pub use daylight_server::strategy::lint_strategy;

/// Refuses a strategy whose scripts the QC rules flag, naming each script and word.
pub fn refuse_flagged(origin: &str, s: &Strategy) -> Result<()> {
    let analyzer = Analyzer::new(Rules::default_rules());
    let found = lint_strategy(&analyzer, s);
    if found.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = found
        .iter()
        .map(|(id, f)| {
            format!("  script {id}: line {} column {}: {} {} ({})", f.line, f.column, f.code, f.text, f.title)
        })
        .collect();
    bail!(
        "QC_LINT {origin}: {} script finding(s); fix the scripts before they are used:\n{}",
        found.len(),
        lines.join("\n")
    )
}

fn lint_script(file: &Path, as_json: bool, rules: Option<&Path>) -> Result<Outcome> {
    let analyzer = Analyzer::new(self::rules(rules)?);
    let text = read(file)?;
    let origin = file.display().to_string();
    // A strategy file: its scripts; anything else: lines of templates.
    let found: Vec<(String, LintFinding)> = if file.extension().is_some_and(|x| x == "toml") {
        let s = Strategy::from_toml(&text, &origin)?;
        lint_strategy(&analyzer, &s)
    } else {
        analyzer.lint(&text).into_iter().map(|f| (String::new(), f)).collect()
    };
    let mut out = std::io::stdout().lock();
    for (id, f) in &found {
        if as_json {
            writeln!(
                out,
                "{}",
                json!({"file": origin, "script": (!id.is_empty()).then_some(id), "finding": f})
            )?;
        } else {
            let place = if id.is_empty() { origin.clone() } else { format!("{origin}: script {id}") };
            let (line, column, severity) = (f.line, f.column, f.severity.as_str());
            writeln!(out, "{place}:{line}:{column}: {severity} {} {:?} ({})", f.code, f.text, f.title)?;
        }
    }
    if !as_json {
        writeln!(out, "{origin}: {} finding(s)", found.len())?;
    }
    Ok(if found.is_empty() { Outcome::Done } else { Outcome::Refused })
}

fn list_rules(as_json: bool, rules: Option<&Path>) -> Result<Outcome> {
    let r = self::rules(rules)?;
    let codes = r.codes();
    if as_json {
        println!("{}", json!({"name": r.name, "version": r.version, "codes": codes}));
        return Ok(Outcome::Done);
    }
    println!("rules {} version {}", r.name, r.version);
    let mut t = Table::new(&["code", "severity", "speaker", ">terms", "title"]);
    for c in codes {
        let speaker = serde_json::to_value(c.speaker)?.as_str().unwrap_or_default().to_owned();
        let terms = if c.terms == 0 { "step".to_owned() } else { c.terms.to_string() };
        t.row(vec![
            c.code,
            c.severity.as_str().to_owned(),
            speaker,
            terms,
            format!("{} / {}", c.title, c.title_en),
        ]);
    }
    print!("{}", t.render());
    Ok(Outcome::Done)
}

fn eval(dir: &Path, as_json: bool, misses: bool, rules: Option<&Path>) -> Result<Outcome> {
    let analyzer = Analyzer::new(self::rules(rules)?);
    let mut items = Vec::new();
    for f in transcripts(&[dir.to_path_buf()])? {
        let origin = f.display().to_string();
        let text = read(&f)?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{origin}: not JSON"))?;
        let t = Transcript::from_value(&origin, &v)?;
        let e = Expect::from_value(&origin, &v)?;
        items.push((analyzer.analyze(&t), e));
    }
    let r = Report::score(&items);
    if as_json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(Outcome::Done);
    }
    println!("{} calls, rules {}", r.calls, items.first().map_or("", |i| i.0.rules.as_str()));
    let mut t = Table::new(&["code", ">labelled", ">found", ">right", ">precision", ">recall"]);
    for (code, s) in &r.codes {
        t.row(vec![
            code.clone(),
            s.labelled.to_string(),
            (s.true_positive + s.false_positive).to_string(),
            s.true_positive.to_string(),
            format!("{:.3}", s.precision()),
            format!("{:.3}", s.recall()),
        ]);
    }
    t.row(vec![
        "promise (amount and deadline)".to_owned(),
        r.promises_labelled.to_string(),
        (r.promises_right + r.promises_wrong).to_string(),
        r.promises_right.to_string(),
        format!("{:.3}", r.promise_precision()),
        format!("{:.3}", r.promise_recall()),
    ]);
    print!("{}", t.render());
    if misses {
        for m in &r.misses {
            println!("  {} {} {}", m.kind, m.code, m.call_id);
        }
        for (call, want, have) in &r.promise_misses {
            println!("  promise {call}: labelled {want}, found {have}");
        }
    }
    Ok(Outcome::Done)
}
