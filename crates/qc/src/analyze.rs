//! The analyser: lexicon rules over every clause, the call's required steps, and the promise.
//!
//! Every term of every rule is in one Aho–Corasick automaton run once over each turn; jieba
//! segments a clause only when a whole-word term (`=滚`) is found in it, so a clean call costs
//! one automaton pass.

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;

use crate::promise::{self, Promise};
use crate::rules::{Rules, Severity, Term};
use crate::text::{Clause, clauses};
use crate::transcript::{Speaker, Transcript};

/// Characters before a mention's clause that its rule's `unless` words are looked for in.
const UNLESS_REACH: usize = 16;

/// A finding: what was said (or left unsaid), by whom, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stable code (`AGENT_IMPERSONATION`).
    pub code: String,
    /// Its severity.
    pub severity: Severity,
    /// Who said it.
    pub speaker: Speaker,
    /// The turn (0-based, as in the transcript's `turns`).
    pub turn: usize,
    /// Characters `[start, end)` of the turn's text.
    pub span: [usize; 2],
    /// The words matched (for a missing step: the turn's words where it was missed).
    pub text: String,
}

/// A call's analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// The transcript's call id.
    pub call_id: String,
    /// The rules' name and version (`cn-default 2026.11.1`).
    pub rules: String,
    /// Findings, in the order of the call.
    pub findings: Vec<Finding>,
    /// The debtor's promise, if they committed to an amount and a date.
    pub promise: Option<Promise>,
}

/// Which list of the steps a term belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    SelfId,
    Organisation,
    IdentityCheck,
    Debt,
    Purpose,
}

/// An automaton over the first words of a set of terms, each pattern pointing back at its term.
struct Lexicon<K> {
    ac: AhoCorasick,
    terms: Vec<(K, Term)>,
}

impl<K: Copy> Lexicon<K> {
    fn new(terms: Vec<(K, Term)>) -> Lexicon<K> {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(terms.iter().map(|(_, t)| t.parts[0].as_str()))
            .expect("lexicon terms are short words (validated)");
        Lexicon { ac, terms }
    }

    /// Every term found in `text`: (key, term, byte start, byte end of its last part).
    fn find<'a>(
        &'a self,
        text: &'a str,
        cs: &'a [Clause],
    ) -> impl Iterator<Item = (K, &'a Term, usize, usize)> + 'a {
        self.ac.find_overlapping_iter(text).filter_map(move |m| {
            let (k, term) = &self.terms[m.pattern().as_usize()];
            let clause = cs.iter().find(|c| c.start <= m.start() && m.end() <= c.end)?;
            let mut end = m.end();
            for part in &term.parts[1..] {
                let rest = &text[end..clause.end];
                end += rest.find(part.as_str())? + part.len();
            }
            Some((*k, term, m.start(), end))
        })
    }
}

/// The analyser: rules compiled once, shared by every call (it is `Sync`).
pub struct Analyzer {
    rules: Rules,
    lexicon: Lexicon<usize>,
    steps: Lexicon<Step>,
    jieba: jieba_rs::Jieba,
}

impl Analyzer {
    /// Compiles rules: the automata, and jieba's dictionary with every whole-word term added.
    pub fn new(rules: Rules) -> Analyzer {
        let mut jieba = jieba_rs::Jieba::new();
        let mut terms = Vec::new();
        for (i, r) in rules.rules.iter().enumerate() {
            for t in &r.terms {
                if t.whole_word {
                    jieba.add_word(&t.parts[0], None, None);
                }
                terms.push((i, t.clone()));
            }
        }
        let s = &rules.steps;
        let mut step_terms = Vec::new();
        for (k, list) in [
            (Step::SelfId, &s.self_id),
            (Step::Organisation, &s.organisation),
            (Step::IdentityCheck, &s.identity_check),
            (Step::Debt, &s.debt),
            (Step::Purpose, &s.purpose),
        ] {
            step_terms.extend(list.iter().map(|t| (k, t.clone())));
        }
        Analyzer { lexicon: Lexicon::new(terms), steps: Lexicon::new(step_terms), rules, jieba }
    }

    /// The rules in use.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Analyses a call.
    pub fn analyze(&self, t: &Transcript) -> Analysis {
        let clauses: Vec<Vec<Clause>> = t.turns.iter().map(|turn| clauses(&turn.text)).collect();
        let mut findings = Vec::new();
        for (ti, turn) in t.turns.iter().enumerate() {
            self.lexicon_findings(turn.speaker, ti, &turn.text, &clauses[ti], &mut findings);
        }
        self.step_findings(t, &clauses, &mut findings);
        findings.sort_by_key(|f| (f.turn, f.span[0], f.code.clone()));
        let promise = promise::extract(t, &self.rules.promise, &self.rules.grammar, &clauses);
        Analysis {
            call_id: t.call_id.clone(),
            rules: format!("{} {}", self.rules.name, self.rules.version),
            findings,
            promise,
        }
    }

    /// The lexicon rules' findings in one turn's text (a script line is an agent's turn).
    fn lexicon_findings(
        &self,
        speaker: Speaker,
        ti: usize,
        text: &str,
        cs: &[Clause],
        out: &mut Vec<Finding>,
    ) {
        let g = &self.rules.grammar;
        let mut words: Option<(usize, Vec<(usize, usize)>)> = None;
        for (ri, term, start, end) in self.lexicon.find(text, cs) {
            let rule = &self.rules.rules[ri];
            if !rule.speaker.includes(speaker) {
                continue;
            }
            let Some(c) = cs.iter().find(|c| c.start <= start && end <= c.end) else { continue };
            let before = &text[c.start..start];
            let clause = c.text(text);
            // `unless` words reach back into the clause before ("看一个朋友，他做手术").
            let reach = text[..c.start].char_indices().rev().nth(UNLESS_REACH).map_or(0, |(i, _)| i);
            let context = &text[reach..start];
            if (rule.negation && g.negated(before))
                || (!rule.questions && g.asks(clause, c))
                || (!rule.hypothetical && g.supposes(context))
                || rule.unless.iter().any(|u| context.contains(u.as_str()))
                || part_of_exception(text, start, end, &rule.except)
            {
                continue;
            }
            if term.whole_word {
                if words.as_ref().is_none_or(|(s, _)| *s != c.start) {
                    let bounds = self
                        .jieba
                        .cut(clause, false)
                        .iter()
                        .map(|w| (c.start + w.byte_start, c.start + w.byte_end))
                        .collect();
                    words = Some((c.start, bounds));
                }
                let first_end = start + term.parts[0].len();
                let ok = words.as_ref().is_some_and(|(_, b)| {
                    b.iter().any(|(s, _)| *s == start) && b.iter().any(|(_, e)| *e == first_end)
                });
                if !ok {
                    continue;
                }
            }
            let span = [
                text[..start].chars().count(),
                text[..start].chars().count() + text[start..end].chars().count(),
            ];
            if out
                .iter()
                .any(|f| f.turn == ti && f.code == rule.code && f.span[0] < span[1] && span[0] < f.span[1])
            {
                continue;
            }
            out.push(Finding {
                code: rule.code.clone(),
                severity: rule.severity,
                speaker,
                turn: ti,
                span,
                text: text[start..end].to_owned(),
            });
        }
    }

    /// The required steps: the agent names themselves and the caller early; checks the debtor's
    /// identity before discussing the debt; and never discusses it with a third party.
    fn step_findings(&self, t: &Transcript, clauses: &[Vec<Clause>], out: &mut Vec<Finding>) {
        let s = &self.rules.steps;
        let g = &self.rules.grammar;
        let agent_turns: Vec<usize> =
            t.turns.iter().enumerate().filter(|(_, x)| x.speaker == Speaker::Agent).map(|(i, _)| i).collect();
        let Some(&first) = agent_turns.first() else { return };
        let finding = |code: &str, severity: Severity, ti: usize, byte: (usize, usize)| {
            let text = &t.turns[ti].text;
            let start = text[..byte.0].chars().count();
            Finding {
                code: code.to_owned(),
                severity,
                speaker: Speaker::Agent,
                turn: ti,
                span: [start, start + text[byte.0..byte.1].chars().count()],
                text: text[byte.0..byte.1].to_owned(),
            }
        };
        // Hits of the steps' words per agent turn: (kind, start, end), negated ones dropped.
        let hits = |ti: usize| -> Vec<(Step, usize, usize)> {
            let text = &t.turns[ti].text;
            self.steps
                .find(text, &clauses[ti])
                .filter(|(_, _, st, _)| {
                    let c = clauses[ti].iter().find(|c| c.start <= *st && *st < c.end);
                    c.is_none_or(|c| !g.negated(&text[c.start..*st]))
                })
                .map(|(k, _, st, en)| (k, st, en))
                .collect()
        };
        let per_turn: Vec<Vec<(Step, usize, usize)>> = agent_turns
            .iter()
            .map(|&ti| {
                let mut h = hits(ti);
                h.sort_by_key(|x| x.1);
                h
            })
            .collect();
        let introduced = per_turn
            .iter()
            .take(s.self_id_turns)
            .any(|h| h.iter().any(|x| x.0 == Step::SelfId) && h.iter().any(|x| x.0 == Step::Organisation));
        if !introduced {
            let text = &t.turns[first].text;
            let end = text.char_indices().nth(40).map_or(text.len(), |(i, _)| i);
            out.push(finding("AGENT_NO_SELF_ID", s.no_self_id, first, (0, end)));
        }
        let mut checked = false;
        let mut reported_check = false;
        let mut reported_disclosure = false;
        for (n, &ti) in agent_turns.iter().enumerate() {
            let text = &t.turns[ti].text;
            let listener =
                t.turns[..ti].iter().rev().find(|x| x.speaker != Speaker::Agent).map(|x| x.speaker);
            // A question the debtor answers yes to ("刘芳吗？" "是我。") checks who answered.
            if !checked && self.affirmed(t, clauses, ti) {
                checked = true;
            }
            let h = &per_turn[n];
            for c in &clauses[ti] {
                let in_clause: Vec<&(Step, usize, usize)> =
                    h.iter().filter(|x| c.start <= x.1 && x.1 < c.end).collect();
                if in_clause.iter().any(|x| x.0 == Step::IdentityCheck) {
                    checked = true;
                    continue;
                }
                let amount = money(text, c);
                // The first turn may name the call's purpose (信用卡欠款的事) before the check,
                // not the amounts.
                let purpose = (in_clause.iter().any(|x| x.0 == Step::Purpose) || n == 0) && amount.is_none();
                let debt = in_clause.iter().find(|x| x.0 == Step::Debt).map(|x| (x.1, x.2)).or(amount);
                let Some(at) = debt else { continue };
                if listener == Some(Speaker::Other) && !reported_disclosure {
                    out.push(finding("AGENT_THIRD_PARTY_DISCLOSURE", s.third_party_disclosure, ti, at));
                    reported_disclosure = true;
                }
                if !checked && !purpose && !reported_check && listener != Some(Speaker::Other) {
                    out.push(finding("AGENT_NO_IDENTITY_CHECK", s.no_identity_check, ti, at));
                    reported_check = true;
                }
            }
        }
    }

    /// Whether the debtor's turn before agent turn `ti` says yes to a question the agent asked
    /// just before it.
    fn affirmed(&self, t: &Transcript, clauses: &[Vec<Clause>], ti: usize) -> bool {
        let g = &self.rules.grammar;
        let Some(answer) = t.turns[..ti].iter().rposition(|x| x.speaker != Speaker::Agent) else {
            return false;
        };
        let said = &t.turns[answer];
        if said.speaker != Speaker::Debtor || !AFFIRM.iter().any(|a| said.text.trim_start().starts_with(a)) {
            return false;
        }
        let Some(asked) = t.turns[..answer].iter().rposition(|x| x.speaker == Speaker::Agent) else {
            return false;
        };
        let text = &t.turns[asked].text;
        clauses[asked].iter().any(|c| g.asks(c.text(text), c) || c.text(text).ends_with('吧'))
    }

    /// Lints a script or an SMS template: each line read as an agent's turn by the rules marked
    /// `lint`. Findings carry their line (1-based) in `turn`.
    pub fn lint(&self, text: &str) -> Vec<LintFinding> {
        let mut out = Vec::new();
        for (li, line) in text.lines().enumerate() {
            let cs = clauses(line);
            let mut found = Vec::new();
            self.lexicon_findings(Speaker::Agent, li, line, &cs, &mut found);
            for f in found {
                let Some(rule) = self.rules.rules.iter().find(|r| r.code == f.code && r.lint) else {
                    continue;
                };
                out.push(LintFinding {
                    code: f.code,
                    severity: f.severity,
                    title: rule.title.clone(),
                    line: li + 1,
                    column: f.span[0] + 1,
                    text: f.text,
                });
            }
        }
        out
    }
}

/// Whether the mention `[start, end)` overlaps one of the `except` words said around it.
fn part_of_exception(text: &str, start: usize, end: usize, except: &[String]) -> bool {
    except.iter().any(|e| {
        let mut lo = start.saturating_sub(e.len());
        while !text.is_char_boundary(lo) {
            lo += 1;
        }
        let mut hi = (end + e.len()).min(text.len());
        while !text.is_char_boundary(hi) {
            hi -= 1;
        }
        text[lo..hi].match_indices(e.as_str()).any(|(i, m)| lo + i < end && start < lo + i + m.len())
    })
}

/// How a debtor says yes to "are you …?".
const AFFIRM: [&str; 9] = ["是", "对", "嗯", "我就是", "没错", "哎", "诶", "欸", "恩"];

/// A money amount said in a clause (`2000元`, `五千块`): the debt being discussed.
fn money(text: &str, c: &Clause) -> Option<(usize, usize)> {
    let clause = c.text(text);
    for unit in ["元", "块", "万", "千"] {
        let mut from = 0;
        while let Some(i) = clause[from..].find(unit) {
            let at = from + i;
            let digits = clause[..at]
                .char_indices()
                .rev()
                .take_while(|(_, ch)| ch.is_ascii_digit() || "零一二两三四五六七八九十百千万.,".contains(*ch))
                .last()
                .map(|(j, _)| j);
            if let Some(j) = digits
                && j < at
            {
                return Some((c.start + j, c.start + at + unit.len()));
            }
            from = at + unit.len();
        }
    }
    None
}

/// A finding in a script or template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    /// The stable code.
    pub code: String,
    /// Its severity.
    pub severity: Severity,
    /// The rule's title.
    pub title: String,
    /// Line (1-based).
    pub line: usize,
    /// Column in characters (1-based).
    pub column: usize,
    /// The words matched.
    pub text: String,
}

/// What an analysis changes for the debtor and the team: the loop from QC to strategy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// Debtor tags to set, each with its note: `hardship` (negotiation, pressure paused),
    /// `abusive` (the abusive channel mix), `anxious` (soothing scripts).
    pub tags: Vec<(&'static str, String)>,
    /// A supervisor's QC review: why (the codes that need a person), if one is due.
    pub review: Option<String>,
}

/// Debtor signals that set a tag, and the tag.
pub const TAGGING: [(&str, &str); 3] =
    [("DEBTOR_HARDSHIP", "hardship"), ("DEBTOR_ABUSIVE", "abusive"), ("DEBTOR_ANXIOUS", "anxious")];

/// Debtor signals a supervisor reviews (a dispute stops collection until answered; a cease
/// request is confirmed in writing) besides every agent finding.
pub const REVIEWED_DEBTOR_CODES: [&str; 2] = ["DEBTOR_DISPUTE", "DEBTOR_CEASE_REQUEST"];

impl Analysis {
    /// The tags and the review this analysis calls for.
    pub fn effects(&self) -> Effects {
        let mut e = Effects::default();
        for (code, tag) in TAGGING {
            if let Some(f) = self.findings.iter().find(|f| f.code == code) {
                e.tags.push((tag, format!("QC {} call {} turn {}: {}", code, self.call_id, f.turn, f.text)));
            }
        }
        let mut codes: Vec<&str> = self
            .findings
            .iter()
            .filter(|f| f.code.starts_with("AGENT_") || REVIEWED_DEBTOR_CODES.contains(&f.code.as_str()))
            .map(|f| f.code.as_str())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        if !codes.is_empty() {
            e.review = Some(format!("QC call {}: {}", self.call_id, codes.join(", ")));
        }
        e
    }
}
