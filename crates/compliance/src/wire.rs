//! The JSON form of requests and decisions: `daylight policy check` and outside dialers.
//!
//! One request per line in, one decision per line out, in order. Unknown fields are refused, so
//! a misspelt flag is an error rather than a silently allowed call.

use daylight_domain::attempt::{Channel, Outcome};
use daylight_domain::customer::Recipient;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::PolicyError;
use crate::eval::{Contact, Decision, Flags, Request, evaluate};
use crate::pack::{Pack, RuleText};

/// A request as a line of JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRequest {
    /// Echoed in the decision.
    #[serde(default)]
    pub id: Option<Value>,
    /// The pack; the command's pack when absent.
    #[serde(default)]
    pub pack: Option<String>,
    /// RFC 3339 with an offset; now when absent.
    #[serde(default)]
    pub at: Option<String>,
    /// Channel.
    pub channel: Channel,
    /// Recipient.
    pub recipient: Recipient,
    /// IANA zones; the pack's default zone when absent.
    #[serde(default)]
    pub time_zones: Option<Vec<String>>,
    /// The debt.
    #[serde(default)]
    pub debt_id: Option<String>,
    /// The contact point.
    #[serde(default)]
    pub contact_point: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub cycle_start: Option<String>,
    /// Operator confirmation for a third party.
    #[serde(default)]
    pub confirmed_third_party: bool,
    /// No collector on the line when the recipient answers (`ABANDONED_REDIAL`).
    #[serde(default)]
    pub unattended: bool,
    /// Every known debtor number.
    #[serde(default)]
    pub debtor_contact_points: Vec<String>,
    /// Earlier contacts.
    #[serde(default)]
    pub history: Vec<WireContact>,
    /// Flags.
    #[serde(default)]
    pub flags: WireFlags,
}

/// An earlier contact as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireContact {
    /// RFC 3339 with an offset.
    pub at: String,
    /// Channel.
    pub channel: Channel,
    /// Recipient.
    pub recipient: Recipient,
    /// Contact point.
    #[serde(default)]
    pub contact_point: Option<String>,
    /// Debt.
    #[serde(default)]
    pub debt_id: Option<String>,
    /// Outcome; absent while the contact is still going on.
    #[serde(default)]
    pub outcome: Option<Outcome>,
}

/// Flags as JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireFlags {
    /// Cease.
    #[serde(default)]
    pub cease: bool,
    /// Opted-out channels.
    #[serde(default)]
    pub opt_out: Vec<Channel>,
    /// Consent to other hours.
    #[serde(default)]
    pub consented_hours: bool,
}

/// Reads an RFC 3339 instant that carries its offset.
pub fn instant(field: &str, text: &str) -> Result<Timestamp, PolicyError> {
    text.parse::<Timestamp>().map_err(|_| {
        PolicyError::request(
            field,
            format!("{text:?}; expected an RFC 3339 time with an offset, like 2026-03-03T09:30:00+08:00"),
        )
    })
}

fn zone(field: &str, name: &str) -> Result<TimeZone, PolicyError> {
    TimeZone::get(name).map_err(|_| PolicyError::request(field, format!("{name:?} is not an IANA time zone")))
}

impl WireRequest {
    /// The engine's request and history, with the zone names used.
    pub fn into_request(self, pack: &Pack) -> Result<(Request, Vec<Contact>), PolicyError> {
        let zones = match self.time_zones {
            Some(names) if !names.is_empty() => names
                .iter()
                .enumerate()
                .map(|(i, n)| zone(&format!("time_zones[{i}]"), n))
                .collect::<Result<Vec<_>, _>>()?,
            _ => match &pack.default_time_zone {
                Some((_, tz)) => vec![tz.clone()],
                None => {
                    return Err(PolicyError::request(
                        "time_zones",
                        format!("pack {} has no default zone: list the recipient's time zones", pack.name),
                    ));
                }
            },
        };
        let mut req = Request::new(self.channel, self.recipient, zones)?;
        req.at = self.at.as_deref().map(|a| instant("at", a)).transpose()?;
        req.debt = self.debt_id;
        req.contact_point = self.contact_point;
        req.cycle_start = match self.cycle_start {
            None => None,
            Some(d) => Some(d.parse::<Date>().map_err(|_| {
                PolicyError::request("cycle_start", format!("{d:?}; expected a date YYYY-MM-DD"))
            })?),
        };
        req.confirmed_third_party = self.confirmed_third_party;
        req.unattended = self.unattended;
        req.debtor_contact_points = self.debtor_contact_points;
        req.flags = Flags {
            cease: self.flags.cease,
            opt_out: self.flags.opt_out.into_iter().collect(),
            consented_hours: self.flags.consented_hours,
        };
        let history = self
            .history
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(Contact {
                    at: instant(&format!("history[{i}].at"), &c.at)?,
                    channel: c.channel,
                    recipient: c.recipient,
                    contact_point: c.contact_point,
                    debt: c.debt_id,
                    outcome: c.outcome,
                })
            })
            .collect::<Result<Vec<_>, PolicyError>>()?;
        Ok((req, history))
    }
}

/// An instant as RFC 3339 in a zone's offset (`2026-03-03T09:30:00+08:00`).
pub fn local_rfc3339(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[derive(Serialize)]
struct OutViolation<'a> {
    rule: &'static str,
    message: &'a str,
    message_zh: &'a str,
    citation: &'a str,
}

#[derive(Serialize)]
struct OutDecision<'a> {
    id: Option<&'a Value>,
    allowed: bool,
    violations: Vec<OutViolation<'a>>,
    next_allowed_at: Option<String>,
    /// Present (true) only when a provisional calendar year judged the day.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    provisional: bool,
}

#[derive(Serialize)]
struct OutError<'a> {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    code: &'a str,
    error: String,
}

/// A decision as a line of JSON (fields in the documented order); times in the zone's offset.
pub fn decision_json(id: Option<&Value>, pack: &Pack, decision: &Decision, zone: &TimeZone) -> String {
    let texts: Vec<&RuleText> = decision.violations.iter().filter_map(|r| pack.text(*r)).collect();
    decision_json_with(id, decision, &texts, zone)
}

/// As [`decision_json`], with the violated rules' texts given.
pub fn decision_json_with(
    id: Option<&Value>,
    decision: &Decision,
    texts: &[&RuleText],
    zone: &TimeZone,
) -> String {
    let out = OutDecision {
        id,
        allowed: decision.allowed,
        violations: texts
            .iter()
            .map(|t| OutViolation {
                rule: t.rule.code(),
                message: &t.message,
                message_zh: &t.message_zh,
                citation: &t.citation,
            })
            .collect(),
        next_allowed_at: decision.next_allowed_at.map(|t| local_rfc3339(t, zone)),
        provisional: decision.provisional,
    };
    serde_json::to_string(&out).expect("a decision serialises")
}

/// Judges one line: the decision, or the error as `{"line":N,"code":...,"error":...}`.
pub fn decide_line(packs: &[Pack], default: &Pack, number: usize, line: &str, now: Timestamp) -> String {
    let fail = |id: Option<&Value>, e: &dyn std::fmt::Display, code: &str| {
        serde_json::to_string(&OutError { line: number, id, code, error: e.to_string() })
            .expect("an error serialises")
    };
    let wire: WireRequest = match serde_json::from_str(line) {
        Ok(w) => w,
        Err(e) => {
            let id = serde_json::from_str::<Value>(line).ok().and_then(|v| v.get("id").cloned());
            return fail(id.as_ref(), &e, "POLICY_REQUEST");
        }
    };
    let id = wire.id.clone();
    let pack = match &wire.pack {
        None => default,
        Some(name) => match packs.iter().find(|p| &p.name == name) {
            Some(p) => p,
            None => {
                let names: Vec<&str> = packs.iter().map(|p| p.name.as_str()).collect();
                return fail(id.as_ref(), &PolicyError::unknown(name, &names), "POLICY_UNKNOWN");
            }
        },
    };
    match wire.into_request(pack) {
        Ok((req, history)) => {
            let d = evaluate(pack, &req, &history, now);
            decision_json(id.as_ref(), pack, &d, &req.zones[0])
        }
        Err(e) => fail(id.as_ref(), &e, e.code),
    }
}
