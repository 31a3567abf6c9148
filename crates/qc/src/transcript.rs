//! Call transcripts as speech recognisers print them, read strictly: every error names its field.

use jiff::Timestamp;
use jiff::tz::Offset;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::QcError;

/// Longest transcript text read (characters over all turns): a three-hour call.
pub const MAX_CHARS: usize = 200_000;
/// Most turns read.
pub const MAX_TURNS: usize = 5_000;

/// Who speaks a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The collector.
    Agent,
    /// The cardholder.
    Debtor,
    /// Anyone else who answered: a relative, a colleague, a wrong number.
    Other,
}

impl Speaker {
    /// The stable word.
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Agent => "agent",
            Speaker::Debtor => "debtor",
            Speaker::Other => "other",
        }
    }

    /// From the stable word.
    pub fn parse(s: &str) -> Option<Speaker> {
        match s {
            "agent" => Some(Speaker::Agent),
            "debtor" => Some(Speaker::Debtor),
            "other" => Some(Speaker::Other),
            _ => None,
        }
    }
}

/// One speaker's turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Turn {
    /// Who speaks.
    pub speaker: Speaker,
    /// Milliseconds from the call's start.
    pub start_ms: u64,
    /// Milliseconds from the call's start (after `start_ms`).
    pub end_ms: u64,
    /// What was said.
    pub text: String,
}

/// A call's transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transcript {
    /// The recogniser's (or the dialler's) call id.
    pub call_id: String,
    /// When the call started; promises' dates are read relative to it, in its offset.
    pub started_at: Timestamp,
    /// The offset `started_at` was written with (the debtor's local time).
    #[serde(skip)]
    pub offset: Offset,
    /// BCP 47 language tag (`zh-CN`).
    pub language: String,
    /// The turns, in order.
    pub turns: Vec<Turn>,
}

impl Transcript {
    /// Reads a transcript. `origin` names the source in errors (a file name). Unknown fields are
    /// ignored: recognisers add their own (confidence, channel, labels).
    pub fn parse(origin: &str, text: &str) -> Result<Transcript, QcError> {
        let value: Value = serde_json::from_str(text).map_err(|e| QcError::json(origin, &e))?;
        Transcript::from_value(origin, &value)
    }

    /// Reads a transcript from parsed JSON.
    pub fn from_value(origin: &str, value: &Value) -> Result<Transcript, QcError> {
        let obj =
            value.as_object().ok_or_else(|| QcError::field(origin, "(top)", "expected a JSON object"))?;
        let call_id = string(origin, obj, "call_id")?;
        if call_id.trim().is_empty() || call_id.chars().count() > 128 {
            return Err(QcError::field(origin, "call_id", "expected 1 to 128 characters"));
        }
        let started = string(origin, obj, "started_at")?;
        let zoned: jiff::fmt::temporal::DateTimeParser = jiff::fmt::temporal::DateTimeParser::new();
        let (started_at, offset) = zoned
            .parse_pieces(started.as_bytes())
            .ok()
            .and_then(|p| {
                let offset = p.to_numeric_offset()?;
                let date = p.date();
                let time = p.time().unwrap_or_default();
                let ts = offset.to_timestamp(date.to_datetime(time)).ok()?;
                Some((ts, offset))
            })
            .ok_or_else(|| {
                QcError::field(
                    origin,
                    "started_at",
                    "expected an RFC 3339 time with an offset, like 2026-03-03T10:00:00+08:00",
                )
            })?;
        let language = match obj.get("language") {
            None | Some(Value::Null) => "zh-CN".to_owned(),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 35 => s.clone(),
            Some(_) => return Err(QcError::field(origin, "language", "expected a language tag like zh-CN")),
        };
        let turns = obj
            .get("turns")
            .and_then(Value::as_array)
            .ok_or_else(|| QcError::field(origin, "turns", "expected an array of turns"))?;
        if turns.len() > MAX_TURNS {
            return Err(QcError::field(origin, "turns", format!("expected at most {MAX_TURNS} turns")));
        }
        let mut out = Vec::with_capacity(turns.len());
        let mut chars = 0usize;
        for (i, t) in turns.iter().enumerate() {
            let turn = parse_turn(origin, i, t)?;
            if let Some(prev) = out.last().map(|p: &Turn| p.start_ms)
                && turn.start_ms < prev
            {
                return Err(QcError::field(
                    origin,
                    &format!("turns[{i}].start_ms"),
                    format!(
                        "expected turns in time order: {} is before the previous turn's start {prev}",
                        turn.start_ms
                    ),
                ));
            }
            chars += turn.text.chars().count();
            if chars > MAX_CHARS {
                return Err(QcError::field(
                    origin,
                    "turns",
                    format!("expected at most {MAX_CHARS} characters of text"),
                ));
            }
            out.push(turn);
        }
        Ok(Transcript { call_id, started_at, offset, language, turns: out })
    }
}

fn parse_turn(origin: &str, i: usize, t: &Value) -> Result<Turn, QcError> {
    let at = |f: &str| format!("turns[{i}].{f}");
    let obj =
        t.as_object().ok_or_else(|| QcError::field(origin, &format!("turns[{i}]"), "expected an object"))?;
    let speaker = match obj.get("speaker") {
        Some(Value::String(s)) => Speaker::parse(s).ok_or_else(|| {
            QcError::field(origin, &at("speaker"), format!("expected agent, debtor or other, not {s:?}"))
        })?,
        _ => return Err(QcError::field(origin, &at("speaker"), "expected agent, debtor or other")),
    };
    let ms = |f: &str| {
        obj.get(f).and_then(Value::as_u64).ok_or_else(|| {
            QcError::field(origin, &at(f), "expected milliseconds from the call's start (a whole number ≥ 0)")
        })
    };
    let start_ms = ms("start_ms")?;
    let end_ms = ms("end_ms")?;
    if end_ms < start_ms {
        return Err(QcError::field(
            origin,
            &at("end_ms"),
            format!("expected at least start_ms ({start_ms}), got {end_ms}"),
        ));
    }
    let text = match obj.get("text") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(QcError::field(origin, &at("text"), "expected the turn's text as a string")),
    };
    Ok(Turn { speaker, start_ms, end_ms, text })
}

fn string(origin: &str, obj: &Map<String, Value>, field: &str) -> Result<String, QcError> {
    match obj.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(QcError::field(origin, field, "expected a string")),
        None => Err(QcError::field(origin, field, "missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"call_id":"c1","started_at":"2026-03-03T10:00:00+08:00","language":"zh-CN",
        "turns":[{"speaker":"agent","start_ms":0,"end_ms":2300,"text":"您好"},
                 {"speaker":"debtor","start_ms":2400,"end_ms":3000,"text":"喂","confidence":0.9}]}"#;

    #[test]
    fn reads_a_transcript_and_keeps_its_offset() {
        let t = Transcript::parse("c1.json", OK).unwrap();
        assert_eq!(t.call_id, "c1");
        assert_eq!(t.turns.len(), 2);
        assert_eq!(t.turns[1].speaker, Speaker::Debtor);
        assert_eq!(t.offset, Offset::constant(8));
        assert_eq!(t.started_at, "2026-03-03T02:00:00Z".parse::<Timestamp>().unwrap());
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (OK.replace(r#""speaker":"debtor""#, r#""speaker":"caller""#), "turns[1].speaker"),
            (OK.replace(r#""end_ms":2300"#, r#""end_ms":-1"#), "turns[0].end_ms"),
            (
                OK.replace(r#""start_ms":2400,"end_ms":3000"#, r#""start_ms":2400,"end_ms":100"#),
                "turns[1].end_ms",
            ),
            (OK.replace("+08:00", ""), "started_at"),
            (OK.replace(r#""call_id":"c1","#, ""), "call_id"),
            (OK.replace(r#""text":"喂""#, r#""text":7"#), "turns[1].text"),
            (
                OK.replace(r#""start_ms":2400"#, r#""start_ms":0"#)
                    .replace(r#""start_ms":0,"end_ms":2300"#, r#""start_ms":900,"end_ms":2300"#),
                "turns[1].start_ms",
            ),
        ];
        for (text, field) in cases {
            let e = Transcript::parse("x.json", &text).unwrap_err();
            assert_eq!(e.code, "QC_TRANSCRIPT", "{e}");
            assert_eq!(e.place, format!("x.json: {field}"), "{e}");
        }
        let e = Transcript::parse("x.json", "{\n  \"call_id\": }").unwrap_err();
        assert_eq!((e.code, e.place.as_str()), ("QC_JSON", "x.json:2:14"));
    }
}
