//! From how a call ended to the attempt outcome Daylight records. Pure: no clock, no IO.
//!
//! | How the call ended                                              | Outcome                 |
//! |-----------------------------------------------------------------|-------------------------|
//! | agent leg never answered (no 2xx on the agent INVITE)           | `None` (withdrawn)      |
//! | debtor leg bridged                                              | `Conversation`          |
//! | switch cancelled the debtor leg at the ring time (487 or none)  | `NoAnswer`              |
//! | debtor 486 Busy Here, 600 Busy Everywhere                       | `Busy`                  |
//! | debtor 480 Temporarily Unavailable, 408 Request Timeout         | `NoAnswer`              |
//! | debtor 404 Not Found, 484 Address Incomplete, 604 Does Not Exist| `InvalidNumber`         |
//! | debtor 410 Gone                                                 | `Suspended`             |
//! | debtor 500, 502, 503 or any other 5xx                           | `NotConnected`          |
//! | anything else (other 4xx, 487 not for ring time, no response)   | `NotConnected`          |
//!
//! When the agent leg was never answered no contact was made with the debtor (the debtor leg
//! is never dialled before the collector answers), so the attempt is withdrawn rather than
//! counted against the debtor's caps.

use daylight_domain::attempt::Outcome;

use crate::event::CallEnd;

/// The outcome of a click-to-dial attempt; `None` when the collector never answered.
pub fn outcome(end: &CallEnd) -> Option<Outcome> {
    let agent_answered = matches!(end.agent_code, Some(200..=299));
    if !agent_answered {
        return None;
    }
    if end.bridged {
        return Some(Outcome::Conversation);
    }
    Some(unanswered(end))
}

/// The outcome of a robot call: the flow's (`walked`, what the walk set) once the debtor
/// answered, else what the SIP result says, as for a dialled call.
pub fn robot_outcome(end: &CallEnd, walked: Outcome) -> Outcome {
    if matches!(end.debtor_code, Some(200..=299)) { walked } else { unanswered(end) }
}

/// A debtor leg that was not answered, by its final status.
fn unanswered(end: &CallEnd) -> Outcome {
    if end.ring_timeout {
        return Outcome::NoAnswer;
    }
    match end.debtor_code {
        Some(486 | 600) => Outcome::Busy,
        Some(480 | 408) => Outcome::NoAnswer,
        Some(404 | 484 | 604) => Outcome::InvalidNumber,
        Some(410) => Outcome::Suspended,
        Some(500..=599) => Outcome::NotConnected,
        _ => Outcome::NotConnected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EndedBy;

    fn end(agent: Option<u16>, debtor: Option<u16>) -> CallEnd {
        CallEnd {
            agent_code: agent,
            debtor_code: debtor,
            bridged: false,
            ring_secs: 0.0,
            talk_secs: 0.0,
            ended_by: EndedBy::Debtor,
            ring_timeout: false,
            recording: None,
        }
    }

    #[test]
    fn agent_never_answered_is_withdrawn() {
        assert_eq!(outcome(&end(None, None)), None);
        assert_eq!(outcome(&end(Some(486), None)), None);
        assert_eq!(outcome(&end(Some(487), None)), None);
        assert_eq!(outcome(&end(Some(408), None)), None);
    }

    #[test]
    fn bridged_is_a_conversation() {
        let mut e = end(Some(200), Some(200));
        e.bridged = true;
        assert_eq!(outcome(&e), Some(Outcome::Conversation));
    }

    #[test]
    fn ring_timeout_is_no_answer() {
        let mut e = end(Some(200), Some(487));
        e.ring_timeout = true;
        assert_eq!(outcome(&e), Some(Outcome::NoAnswer));
        let mut e = end(Some(200), None);
        e.ring_timeout = true;
        assert_eq!(outcome(&e), Some(Outcome::NoAnswer));
    }

    #[test]
    fn every_row_of_the_table() {
        let rows: &[(Option<u16>, Outcome)] = &[
            (Some(486), Outcome::Busy),
            (Some(600), Outcome::Busy),
            (Some(480), Outcome::NoAnswer),
            (Some(408), Outcome::NoAnswer),
            (Some(404), Outcome::InvalidNumber),
            (Some(484), Outcome::InvalidNumber),
            (Some(604), Outcome::InvalidNumber),
            (Some(410), Outcome::Suspended),
            (Some(500), Outcome::NotConnected),
            (Some(502), Outcome::NotConnected),
            (Some(503), Outcome::NotConnected),
            (Some(599), Outcome::NotConnected),
            (Some(487), Outcome::NotConnected),
            (Some(403), Outcome::NotConnected),
            (Some(603), Outcome::NotConnected),
            (Some(200), Outcome::NotConnected),
            (None, Outcome::NotConnected),
        ];
        for (code, want) in rows {
            assert_eq!(outcome(&end(Some(200), *code)), Some(*want), "debtor code {code:?}");
        }
    }

    #[test]
    fn a_robot_call_takes_the_flows_outcome_once_answered() {
        let answered = end(None, Some(200));
        assert_eq!(robot_outcome(&answered, Outcome::WrongNumber), Outcome::WrongNumber);
        assert_eq!(robot_outcome(&end(None, Some(486)), Outcome::Conversation), Outcome::Busy);
        assert_eq!(robot_outcome(&end(None, Some(404)), Outcome::Conversation), Outcome::InvalidNumber);
        let rang_out = CallEnd { ring_timeout: true, ..end(None, None) };
        assert_eq!(robot_outcome(&rang_out, Outcome::Conversation), Outcome::NoAnswer);
    }
}
