//! Precision and recall per code over a labelled corpus: transcripts carrying an `expect` field
//! (`{"codes": [...], "promise": {"amount_fen": 200000, "due": "2026-03-04T15:00"} | null}`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::analyze::Analysis;
use crate::error::QcError;

/// What a reviewer labelled a call with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// Every code the call should raise.
    pub codes: Vec<String>,
    /// The promise: amount in fen and local deadline (`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`).
    pub promise: Option<(i64, String)>,
}

impl Expect {
    /// Reads a transcript's `expect` field.
    pub fn from_value(origin: &str, v: &Value) -> Result<Expect, QcError> {
        let e = v.get("expect").ok_or_else(|| {
            QcError::field(origin, "expect", "missing: a labelled transcript needs expect.codes")
        })?;
        let codes = e
            .get("codes")
            .and_then(Value::as_array)
            .ok_or_else(|| QcError::field(origin, "expect.codes", "expected an array of codes"))?
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| QcError::field(origin, &format!("expect.codes[{i}]"), "expected a code"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let promise = match e.get("promise") {
            None | Some(Value::Null) => None,
            Some(p) => {
                let amount = p
                    .get("amount_fen")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| QcError::field(origin, "expect.promise.amount_fen", "expected fen"))?;
                let due = p.get("due").and_then(Value::as_str).ok_or_else(|| {
                    QcError::field(origin, "expect.promise.due", "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM")
                })?;
                Some((amount, due.to_owned()))
            }
        };
        Ok(Expect { codes, promise })
    }
}

/// One code's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodeScore {
    /// Calls labelled with it (support).
    pub labelled: usize,
    /// Calls labelled and found.
    pub true_positive: usize,
    /// Calls found but not labelled.
    pub false_positive: usize,
    /// Calls labelled but not found.
    pub false_negative: usize,
}

impl CodeScore {
    /// Found and right / found (1 when nothing was found).
    pub fn precision(&self) -> f64 {
        let found = self.true_positive + self.false_positive;
        if found == 0 { 1.0 } else { self.true_positive as f64 / found as f64 }
    }

    /// Found and right / labelled (1 when nothing was labelled).
    pub fn recall(&self) -> f64 {
        if self.labelled == 0 { 1.0 } else { self.true_positive as f64 / self.labelled as f64 }
    }
}

/// A mistake, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Miss {
    /// The call.
    pub call_id: String,
    /// The code.
    pub code: String,
    /// `false_positive` or `false_negative`.
    pub kind: &'static str,
}

/// The corpus's scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Calls read.
    pub calls: usize,
    /// Per code, in code order.
    pub codes: BTreeMap<String, CodeScore>,
    /// Calls labelled with a promise.
    pub promises_labelled: usize,
    /// Promises found with the right amount and deadline.
    pub promises_right: usize,
    /// Promises found where none was labelled, or wrong.
    pub promises_wrong: usize,
    /// The mistakes, call by call.
    pub misses: Vec<Miss>,
    /// Promise mistakes: (call, expected, found).
    pub promise_misses: Vec<(String, String, String)>,
}

impl Report {
    /// Scores analyses against their labels.
    pub fn score(items: &[(Analysis, Expect)]) -> Report {
        let mut r = Report { calls: items.len(), ..Report::default() };
        for (a, e) in items {
            let mut found: Vec<&str> = a.findings.iter().map(|f| f.code.as_str()).collect();
            found.sort_unstable();
            found.dedup();
            for code in &e.codes {
                let s = r.codes.entry(code.clone()).or_default();
                s.labelled += 1;
                if found.contains(&code.as_str()) {
                    s.true_positive += 1;
                } else {
                    s.false_negative += 1;
                    r.misses.push(Miss {
                        call_id: a.call_id.clone(),
                        code: code.clone(),
                        kind: "false_negative",
                    });
                }
            }
            for code in found {
                if !e.codes.iter().any(|c| c == code) {
                    r.codes.entry(code.to_owned()).or_default().false_positive += 1;
                    r.misses.push(Miss {
                        call_id: a.call_id.clone(),
                        code: code.to_owned(),
                        kind: "false_positive",
                    });
                }
            }
            let got = a.promise.as_ref().map(|p| (p.amount_fen, p.local.clone()));
            if e.promise.is_some() {
                r.promises_labelled += 1;
            }
            match (&e.promise, &got) {
                (Some(want), Some(have)) if want == have => r.promises_right += 1,
                (None, None) => {}
                (want, have) => {
                    if have.is_some() {
                        r.promises_wrong += 1;
                    }
                    let show = |p: &Option<(i64, String)>| {
                        p.as_ref().map_or("none".to_owned(), |(f, d)| format!("{f} fen by {d}"))
                    };
                    r.promise_misses.push((a.call_id.clone(), show(want), show(have)));
                }
            }
        }
        r
    }

    /// Promise precision: right / found.
    pub fn promise_precision(&self) -> f64 {
        let found = self.promises_right + self.promises_wrong;
        if found == 0 { 1.0 } else { self.promises_right as f64 / found as f64 }
    }

    /// Promise recall: right / labelled.
    pub fn promise_recall(&self) -> f64 {
        if self.promises_labelled == 0 {
            1.0
        } else {
            self.promises_right as f64 / self.promises_labelled as f64
        }
    }
}
