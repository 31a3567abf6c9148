//! The rule file: lexicons and rules a compliance officer edits (TOML, versioned), read into a
//! validated [`Rules`] that cannot hold a bad value.
//!
//! A term is a word (`失业`), a word that must stand alone in jieba's segmentation (`=滚`: not in
//! 滚动), or words in order within one clause (`告诉…领导`).

use serde::{Deserialize, Serialize};

use crate::error::QcError;
use crate::transcript::Speaker;

/// The rules Daylight ships: `rules/cn-default.toml`.
pub const DEFAULT_RULES: &str = include_str!("../rules/cn-default.toml");

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing (a debtor's signal).
    Info,
    /// A lapse in procedure.
    Minor,
    /// A breach a supervisor reviews.
    Major,
    /// A breach of the law or the regulator's red lines.
    Critical,
}

impl Severity {
    /// The stable word.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }

    /// From the stable word.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "minor" => Some(Severity::Minor),
            "major" => Some(Severity::Major),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// Whose turns a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Whose {
    /// The collector's.
    Agent,
    /// The cardholder's.
    Debtor,
    /// A third party's.
    Other,
    /// Anyone's.
    Any,
}

impl Whose {
    /// Whether a speaker's turns are read.
    pub fn includes(self, s: Speaker) -> bool {
        matches!(
            (self, s),
            (Whose::Any, _)
                | (Whose::Agent, Speaker::Agent)
                | (Whose::Debtor, Speaker::Debtor)
                | (Whose::Other, Speaker::Other)
        )
    }
}

/// A lexicon term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// As written in the file.
    pub source: String,
    /// Its words, in order, within one clause.
    pub parts: Vec<String>,
    /// The first word must be a whole word of the segmentation.
    pub whole_word: bool,
}

/// A lexicon rule: a code raised when one of its terms is said, not negated, not asked, not
/// supposed, and not cancelled by an earlier word of the clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The finding's stable code.
    pub code: String,
    /// Its severity.
    pub severity: Severity,
    /// Whose turns it reads.
    pub speaker: Whose,
    /// Chinese title.
    pub title: String,
    /// English title.
    pub title_en: String,
    /// A negated mention does not count ("我没有失业").
    pub negation: bool,
    /// A mention in a question counts ("你是不是脑子有问题" is still an insult).
    pub questions: bool,
    /// A mention in a supposition counts ("如果我失业了").
    pub hypothetical: bool,
    /// Earlier words in the clause that cancel a mention (quoting, somebody else's trouble).
    pub unless: Vec<String>,
    /// Longer words a mention may be part of that are not the rule's (越滚越多 holds 滚,
    /// 我妈的 holds 妈的).
    pub except: Vec<String>,
    /// The terms.
    pub terms: Vec<Term>,
    /// Scripts and SMS templates are linted with it.
    pub lint: bool,
}

/// The clause grammar: negation, questions, suppositions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Grammar {
    /// Words that negate what follows in their scope (不, 没有, 不会 …).
    pub negators: Vec<String>,
    /// Words holding a negator's character that do not negate (不好意思, 不管 …).
    pub not_negators: Vec<String>,
    /// Words that end a negator's scope, read backwards from a mention (就, 但是, 否则 …).
    pub scope_breaks: Vec<String>,
    /// Words that make a clause a question (吗, 是不是 …); `？` always does.
    pub question_words: Vec<String>,
    /// Words that make a clause a supposition (如果, 要是 …).
    pub hypothetical: Vec<String>,
    /// Characters a negator may reach back over (its scope's length).
    pub negation_window: usize,
}

/// The required steps of a call and the words that show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Steps {
    /// Agent turns (from the first) that may hold the self-introduction.
    pub self_id_turns: usize,
    /// Words of a self-introduction (我是, 工号 …).
    pub self_id: Vec<Term>,
    /// Words naming who calls (银行, 信用卡中心 …): one must come with the self-introduction.
    pub organisation: Vec<Term>,
    /// Words of an identity check (本人吗, 身份证后四位 …).
    pub identity_check: Vec<Term>,
    /// Words that discuss the debt (欠款, 最低还款 …); an amount of money does too.
    pub debt: Vec<Term>,
    /// Words that only state the call's purpose, allowed before the check (关于…的事).
    pub purpose: Vec<Term>,
    /// Severity of a missing self-introduction.
    pub no_self_id: Severity,
    /// Severity of the debt discussed before the identity check.
    pub no_identity_check: Severity,
    /// Severity of the debt discussed with a third party.
    pub third_party_disclosure: Severity,
}

/// Words read by promise extraction.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseWords {
    /// Verbs of paying (还, 转, 打 …).
    pub pay: Vec<String>,
    /// Words of agreement, to accept the agent's proposal (好, 行, 可以 …).
    pub agree: Vec<String>,
    /// Words naming the balance before an amount (欠款, 一共, 总共 …).
    pub balance: Vec<String>,
}

/// A validated rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Its name (`cn-default`).
    pub name: String,
    /// Its version, stored with every analysis.
    pub version: String,
    /// Clause grammar.
    pub grammar: Grammar,
    /// Lexicon rules.
    pub rules: Vec<Rule>,
    /// Required steps.
    pub steps: Steps,
    /// Promise words.
    pub promise: PromiseWords,
}

/// The codes of the required steps, raised by the call's structure rather than a lexicon.
pub const STEP_CODES: [(&str, &str, &str); 3] = [
    ("AGENT_NO_SELF_ID", "未自报身份和来意", "No self-identification"),
    ("AGENT_NO_IDENTITY_CHECK", "未核实身份即谈及欠款", "Debt discussed before the identity check"),
    ("AGENT_THIRD_PARTY_DISCLOSURE", "向第三方透露欠款", "Debt disclosed to a third party"),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    name: String,
    version: String,
    grammar: Grammar,
    #[serde(rename = "rule")]
    rules: Vec<RawRule>,
    steps: RawSteps,
    promise: PromiseWords,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    code: String,
    severity: Severity,
    speaker: Whose,
    title: String,
    title_en: String,
    #[serde(default = "yes")]
    negation: bool,
    #[serde(default)]
    questions: bool,
    #[serde(default)]
    hypothetical: bool,
    #[serde(default)]
    unless: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    terms: Vec<String>,
    lint: Option<bool>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSteps {
    self_id_turns: usize,
    self_id: Vec<String>,
    organisation: Vec<String>,
    identity_check: Vec<String>,
    debt: Vec<String>,
    purpose: Vec<String>,
    no_self_id: Severity,
    no_identity_check: Severity,
    third_party_disclosure: Severity,
}

impl Rules {
    /// The rules Daylight ships.
    pub fn default_rules() -> Rules {
        Rules::parse("cn-default.toml", DEFAULT_RULES).expect("the shipped rules are valid (tested)")
    }

    /// Reads a rule file; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Rules, QcError> {
        let raw: RawRules = toml::from_str(text).map_err(|e| QcError::toml(origin, text, &e))?;
        if raw.name.trim().is_empty() {
            return Err(QcError::invalid(origin, "name", "expected a name"));
        }
        if raw.version.trim().is_empty() {
            return Err(QcError::invalid(
                origin,
                "version",
                "expected a version (it is stored with every analysis)",
            ));
        }
        let g = &raw.grammar;
        for (field, words) in [
            ("negators", &g.negators),
            ("scope_breaks", &g.scope_breaks),
            ("question_words", &g.question_words),
            ("hypothetical", &g.hypothetical),
        ] {
            words_ok(origin, &format!("grammar.{field}"), words, true)?;
        }
        words_ok(origin, "grammar.not_negators", &g.not_negators, false)?;
        if !(1..=40).contains(&g.negation_window) {
            return Err(QcError::invalid(origin, "grammar.negation_window", "expected 1 to 40 characters"));
        }
        let mut rules = Vec::with_capacity(raw.rules.len());
        for (i, r) in raw.rules.into_iter().enumerate() {
            let at = |f: &str| format!("rule[{i}] ({}).{f}", r.code);
            if !code_ok(&r.code) {
                return Err(QcError::invalid(
                    origin,
                    &format!("rule[{i}].code"),
                    format!("expected AGENT_… or DEBTOR_… in capitals, not {:?}", r.code),
                ));
            }
            if STEP_CODES.iter().any(|(c, ..)| *c == r.code) {
                return Err(QcError::invalid(
                    origin,
                    &at("code"),
                    "this code is raised by [steps], not by a lexicon",
                ));
            }
            words_ok(origin, &at("unless"), &r.unless, false)?;
            words_ok(origin, &at("except"), &r.except, false)?;
            let terms = terms(origin, &at("terms"), &r.terms)?;
            let lint = r.lint.unwrap_or(r.speaker == Whose::Agent);
            rules.push(Rule {
                code: r.code,
                severity: r.severity,
                speaker: r.speaker,
                title: r.title,
                title_en: r.title_en,
                negation: r.negation,
                questions: r.questions,
                hypothetical: r.hypothetical,
                unless: r.unless,
                except: r.except,
                terms,
                lint,
            });
        }
        if rules.is_empty() {
            return Err(QcError::invalid(origin, "rule", "expected at least one [[rule]]"));
        }
        let s = raw.steps;
        if !(1..=10).contains(&s.self_id_turns) {
            return Err(QcError::invalid(origin, "steps.self_id_turns", "expected 1 to 10 turns"));
        }
        let steps = Steps {
            self_id_turns: s.self_id_turns,
            self_id: terms(origin, "steps.self_id", &s.self_id)?,
            organisation: terms(origin, "steps.organisation", &s.organisation)?,
            identity_check: terms(origin, "steps.identity_check", &s.identity_check)?,
            debt: terms(origin, "steps.debt", &s.debt)?,
            purpose: terms(origin, "steps.purpose", &s.purpose)?,
            no_self_id: s.no_self_id,
            no_identity_check: s.no_identity_check,
            third_party_disclosure: s.third_party_disclosure,
        };
        let p = &raw.promise;
        words_ok(origin, "promise.pay", &p.pay, true)?;
        words_ok(origin, "promise.agree", &p.agree, true)?;
        words_ok(origin, "promise.balance", &p.balance, true)?;
        Ok(Rules {
            name: raw.name,
            version: raw.version,
            grammar: raw.grammar,
            rules,
            steps,
            promise: raw.promise,
        })
    }

    /// Every code the rules can raise: `(code, severity, speaker, title, title_en, terms)`, the
    /// lexicon rules first, then the required steps.
    pub fn codes(&self) -> Vec<CodeInfo> {
        let mut out: Vec<CodeInfo> = Vec::new();
        for r in &self.rules {
            if let Some(c) = out.iter_mut().find(|c| c.code == r.code) {
                c.terms += r.terms.len();
                continue;
            }
            out.push(CodeInfo {
                code: r.code.clone(),
                severity: r.severity,
                speaker: r.speaker,
                title: r.title.clone(),
                title_en: r.title_en.clone(),
                terms: r.terms.len(),
            });
        }
        let sev = [self.steps.no_self_id, self.steps.no_identity_check, self.steps.third_party_disclosure];
        for ((code, title, title_en), severity) in STEP_CODES.iter().zip(sev) {
            out.push(CodeInfo {
                code: (*code).to_owned(),
                severity,
                speaker: Whose::Agent,
                title: (*title).to_owned(),
                title_en: (*title_en).to_owned(),
                terms: 0,
            });
        }
        out
    }
}

/// What `daylight qc rules` lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeInfo {
    /// The stable code.
    pub code: String,
    /// Its severity.
    pub severity: Severity,
    /// Whose turns raise it.
    pub speaker: Whose,
    /// Chinese title.
    pub title: String,
    /// English title.
    pub title_en: String,
    /// Lexicon terms (0 for a required step).
    pub terms: usize,
}

fn code_ok(code: &str) -> bool {
    (code.starts_with("AGENT_") || code.starts_with("DEBTOR_"))
        && code.len() <= 48
        && code.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
}

fn words_ok(origin: &str, at: &str, words: &[String], nonempty: bool) -> Result<(), QcError> {
    if nonempty && words.is_empty() {
        return Err(QcError::invalid(origin, at, "expected at least one word"));
    }
    for (i, w) in words.iter().enumerate() {
        if w.trim().is_empty() || w.chars().count() > 32 {
            return Err(QcError::invalid(
                origin,
                &format!("{at}[{i}]"),
                "expected a word of 1 to 32 characters",
            ));
        }
    }
    Ok(())
}

fn terms(origin: &str, at: &str, raw: &[String]) -> Result<Vec<Term>, QcError> {
    if raw.is_empty() {
        return Err(QcError::invalid(origin, at, "expected at least one term"));
    }
    let mut out: Vec<Term> = Vec::with_capacity(raw.len());
    for (i, t) in raw.iter().enumerate() {
        let (whole_word, body) = match t.strip_prefix('=') {
            Some(b) => (true, b),
            None => (false, t.as_str()),
        };
        let parts: Vec<String> = body.split('…').map(str::to_owned).collect();
        if parts.iter().any(|p| p.trim().is_empty() || p.chars().count() > 32) || parts.len() > 4 {
            return Err(QcError::invalid(
                origin,
                &format!("{at}[{i}]"),
                format!("expected a word, =word or up to four words joined by …, not {t:?}"),
            ));
        }
        if out.iter().any(|o| o.source == *t) {
            return Err(QcError::invalid(origin, &format!("{at}[{i}]"), format!("{t:?} is listed twice")));
        }
        out.push(Term { source: t.clone(), parts, whole_word });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_cover_every_issue_code() {
        let r = Rules::default_rules();
        let codes: Vec<String> = r.codes().into_iter().map(|c| c.code).collect();
        for c in [
            "AGENT_INSULT",
            "AGENT_THREAT",
            "AGENT_IMPERSONATION",
            "AGENT_FALSE_STATEMENT",
            "AGENT_THIRD_PARTY_DISCLOSURE",
            "AGENT_EXTRA_FEE",
            "AGENT_NEW_BORROWING",
            "AGENT_NO_SELF_ID",
            "AGENT_NO_IDENTITY_CHECK",
            "DEBTOR_HARDSHIP",
            "DEBTOR_ANXIOUS",
            "DEBTOR_ANGRY",
            "DEBTOR_ABUSIVE",
            "DEBTOR_INTENT_TO_PAY",
            "DEBTOR_DISPUTE",
            "DEBTOR_CEASE_REQUEST",
        ] {
            assert!(codes.iter().any(|x| x == c), "{c} missing");
        }
        assert!(!r.version.is_empty());
    }

    #[test]
    fn errors_name_line_column_or_field() {
        let bad = DEFAULT_RULES.replacen("severity = \"critical\"", "severity = \"grave\"", 1);
        let e = Rules::parse("r.toml", &bad).unwrap_err();
        let line = DEFAULT_RULES.lines().position(|l| l.contains("severity = \"critical\"")).unwrap() + 1;
        assert_eq!(e.code, "QC_RULES_TOML");
        assert!(e.place.starts_with(&format!("r.toml:{line}:")), "{e}");

        let bad = DEFAULT_RULES.replacen("code = \"AGENT_INSULT\"", "code = \"insult\"", 1);
        let e = Rules::parse("r.toml", &bad).unwrap_err();
        assert_eq!((e.code, e.place.as_str()), ("QC_RULES_INVALID", "r.toml: rule[0].code"), "{e}");

        let bad = DEFAULT_RULES.replacen("negation_window = ", "negation_window = 400 + ", 1);
        assert_eq!(Rules::parse("r.toml", &bad).unwrap_err().code, "QC_RULES_TOML");
    }
}
