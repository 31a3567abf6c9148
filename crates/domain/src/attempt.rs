//! Contact attempts: every call, robot call, SMS, e-mail, letter and visit, failed or not.
//!
//! The outcome vocabulary is shared with the compliance engine, which counts attempts by class:
//! failed attempts, conversations (right-party contacts) and the rest.

use jiff::Timestamp;

use crate::customer::{ContactStatus, Recipient};
use crate::error::{Code, Invalid, Valid};
use crate::id::{AccountId, CaseId, ContactId};
use crate::vocabulary;

vocabulary! {
    /// How a contact is made.
    pub enum Channel ("channel") {
        /// A call by a collector.
        Call = "call",
        /// A call by a robot (外呼机器人).
        RobotCall = "robot_call",
        /// A text message.
        Sms = "sms",
        /// An e-mail.
        Email = "email",
        /// A letter.
        Letter = "letter",
        /// A field visit.
        Visit = "visit",
    }
}

impl Channel {
    /// Calls by people and robots: the attempts that caps count.
    pub const fn is_call(self) -> bool {
        matches!(self, Channel::Call | Channel::RobotCall)
    }
}

vocabulary! {
    /// What came of an attempt.
    pub enum Outcome ("outcome") {
        /// Rang out.
        NoAnswer = "no_answer",
        /// Line busy.
        Busy = "busy",
        /// The call did not go through.
        NotConnected = "not_connected",
        /// The number does not exist (空号).
        InvalidNumber = "invalid_number",
        /// The phone is off (关机).
        PoweredOff = "powered_off",
        /// The carrier says the number is suspended (停机).
        Suspended = "suspended",
        /// Reached voicemail.
        Voicemail = "voicemail",
        /// Spoke with the right party.
        Conversation = "conversation",
        /// Spoke, and the party promised to pay.
        PromiseToPay = "promise_to_pay",
        /// Spoke, and the party refused to pay.
        Refused = "refused",
        /// Spoke, and the party reported hardship (unemployment, illness).
        Hardship = "hardship",
        /// Spoke, and the party disputes the debt.
        Dispute = "dispute",
        /// Spoke, and the party was abusive.
        Abusive = "abusive",
        /// Spoke, and the party asked us to stop contacting them.
        CeaseRequest = "cease_request",
        /// Someone else answered the debtor's number.
        ThirdPartyAnswered = "third_party_answered",
        /// The number is not the party's.
        WrongNumber = "wrong_number",
        /// An SMS or e-mail was delivered.
        Delivered = "delivered",
        /// An SMS or e-mail bounced.
        Undelivered = "undelivered",
        /// A letter was sent.
        Sent = "sent",
        /// A visit met the party.
        Visited = "visited",
        /// A visit found nobody home.
        NotHome = "not_home",
        /// The call was cut off because the server placing it stopped mid-call; recorded when
        /// the server came back (never typed in by a collector).
        Interrupted = "interrupted",
        /// Answered by the party, but no collector was free to take the call within the
        /// dialler's two seconds: the party heard the bank's message and the line was closed
        /// (呼损). Never typed in by a collector.
        Abandoned = "abandoned",
    }
}

/// How the compliance rules count an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeClass {
    /// Did not reach anyone.
    Failed,
    /// Reached the right party (a right-party contact).
    Conversation,
    /// Anything else (third party answered, delivered, visited, …).
    Other,
}

impl Outcome {
    /// The class the caps count.
    pub const fn class(self) -> OutcomeClass {
        use Outcome::*;
        match self {
            NoAnswer | Busy | NotConnected | InvalidNumber | PoweredOff | Suspended | Voicemail => {
                OutcomeClass::Failed
            }
            Conversation | PromiseToPay | Refused | Hardship | Dispute | Abusive | CeaseRequest => {
                OutcomeClass::Conversation
            }
            _ => OutcomeClass::Other,
        }
    }

    /// What the outcome says of the contact point used: an invalid or switched-off number, or a
    /// working one (someone answered). `None` when it says nothing new.
    pub const fn contact_status(self) -> Option<ContactStatus> {
        use Outcome::*;
        match self {
            InvalidNumber | WrongNumber | Undelivered => Some(ContactStatus::Invalid),
            PoweredOff => Some(ContactStatus::PoweredOff),
            Suspended => Some(ContactStatus::Suspended),
            Delivered | Visited => Some(ContactStatus::Valid),
            _ => match self.class() {
                OutcomeClass::Conversation => Some(ContactStatus::Valid),
                _ => None,
            },
        }
    }

    /// Whether an attempt with this outcome may have talk time: not a failed one (nobody was
    /// reached), voicemail aside.
    pub const fn has_talk_time(self) -> bool {
        !matches!(self.class(), OutcomeClass::Failed) || matches!(self, Outcome::Voicemail)
    }

    /// Whether this outcome can come of an attempt on `channel`.
    pub const fn fits(self, channel: Channel) -> bool {
        use Outcome::*;
        match channel {
            Channel::Call | Channel::RobotCall => {
                matches!(self.class(), OutcomeClass::Failed | OutcomeClass::Conversation)
                    || matches!(self, ThirdPartyAnswered | WrongNumber | Interrupted | Abandoned)
            }
            Channel::Sms | Channel::Email => matches!(self, Delivered | Undelivered),
            Channel::Letter => matches!(self, Sent),
            Channel::Visit => {
                matches!(self, Visited | NotHome) || matches!(self.class(), OutcomeClass::Conversation)
            }
        }
    }
}

/// Who made an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agent {
    /// A collector of the bank, by login.
    Collector(String),
    /// A robot line, by id.
    Robot(String),
    /// A collector of an outside agency: agency id and the collector's login there.
    Agency {
        /// The agency.
        agency: String,
        /// The agency's collector.
        collector: String,
    },
}

impl Agent {
    /// `collector:E001`, `robot:R7`, `agency:ACME/A12`: the form stored and audited.
    pub fn code(&self) -> String {
        match self {
            Agent::Collector(c) => format!("collector:{c}"),
            Agent::Robot(r) => format!("robot:{r}"),
            Agent::Agency { agency, collector } => format!("agency:{agency}/{collector}"),
        }
    }

    /// Reads the stored form back.
    pub fn parse(code: &str) -> Valid<Agent> {
        let bad = || {
            Invalid::new(
                Code::Enum,
                format!("agent {code:?}; expected collector:LOGIN, robot:ID or agency:AGENCY/LOGIN"),
            )
        };
        let (kind, rest) = code.split_once(':').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        match kind {
            "collector" => Ok(Agent::Collector(rest.to_owned())),
            "robot" => Ok(Agent::Robot(rest.to_owned())),
            "agency" => match rest.split_once('/') {
                Some((a, c)) if !a.is_empty() && !c.is_empty() => {
                    Ok(Agent::Agency { agency: a.to_owned(), collector: c.to_owned() })
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

/// A contact about to be made: an [`Attempt`] before it has an outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The case.
    pub case: CaseId,
    /// The account (debt) it is about, when one is named.
    pub account: Option<AccountId>,
    /// When it starts.
    pub at: Timestamp,
    /// How.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// The phone, e-mail or address to use.
    pub contact_point: Option<ContactId>,
    /// Who makes it.
    pub agent: Agent,
}

impl Planned {
    /// The attempt it became.
    pub fn finished(self, outcome: Outcome, duration_secs: u32, note: Option<String>) -> Attempt {
        Attempt {
            case: self.case,
            account: self.account,
            at: self.at,
            channel: self.channel,
            recipient: self.recipient,
            contact_point: self.contact_point,
            agent: self.agent,
            outcome,
            duration_secs,
            note,
        }
    }
}

impl From<&Attempt> for Planned {
    fn from(a: &Attempt) -> Planned {
        Planned {
            case: a.case.clone(),
            account: a.account.clone(),
            at: a.at,
            channel: a.channel,
            recipient: a.recipient,
            contact_point: a.contact_point.clone(),
            agent: a.agent.clone(),
        }
    }
}

/// Longest call we record, in seconds (a day).
pub const MAX_DURATION_SECS: u32 = 86_400;

/// One contact attempt as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The case.
    pub case: CaseId,
    /// The account (debt) the attempt is about, when one is named.
    pub account: Option<AccountId>,
    /// When it started.
    pub at: Timestamp,
    /// How.
    pub channel: Channel,
    /// Who it was addressed to.
    pub recipient: Recipient,
    /// The phone, e-mail or address used.
    pub contact_point: Option<ContactId>,
    /// Who made it.
    pub agent: Agent,
    /// What came of it.
    pub outcome: Outcome,
    /// Talk time in seconds (0 when not connected).
    pub duration_secs: u32,
    /// The note written for it.
    pub note: Option<String>,
}

impl Attempt {
    /// Checks the outcome fits the channel and the duration is sane.
    pub fn check(&self) -> Valid<()> {
        if !self.outcome.fits(self.channel) {
            return Err(Invalid::new(
                Code::Inconsistent,
                format!("outcome {} cannot come of a {} attempt", self.outcome, self.channel),
            ));
        }
        if self.duration_secs > MAX_DURATION_SECS {
            return Err(Invalid::new(Code::Integer, "duration is longer than a day"));
        }
        if self.duration_secs > 0 && !self.outcome.has_talk_time() {
            return Err(Invalid::new(
                Code::Inconsistent,
                format!("a {} attempt has no talk time", self.outcome),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_classes_match_the_compliance_vocabulary() {
        use Outcome::*;
        let failed = [NoAnswer, Busy, NotConnected, InvalidNumber, PoweredOff, Suspended, Voicemail];
        let conv = [Conversation, PromiseToPay, Refused, Hardship, Dispute, Abusive, CeaseRequest];
        for o in Outcome::ALL {
            let want = if failed.contains(o) {
                OutcomeClass::Failed
            } else if conv.contains(o) {
                OutcomeClass::Conversation
            } else {
                OutcomeClass::Other
            };
            assert_eq!(o.class(), want, "{o}");
        }
    }

    #[test]
    fn outcomes_fit_channels() {
        assert!(Outcome::PromiseToPay.fits(Channel::RobotCall));
        assert!(Outcome::WrongNumber.fits(Channel::Call));
        assert!(Outcome::Interrupted.fits(Channel::Call) && !Outcome::Interrupted.fits(Channel::Sms));
        assert_eq!(Outcome::Interrupted.class(), OutcomeClass::Other);
        assert!(!Outcome::Delivered.fits(Channel::Call));
        assert!(Outcome::Undelivered.fits(Channel::Sms));
        assert!(!Outcome::NoAnswer.fits(Channel::Letter));
        assert!(Outcome::NotHome.fits(Channel::Visit));
        assert!(Channel::RobotCall.is_call() && !Channel::Sms.is_call());
    }

    #[test]
    fn outcomes_teach_contact_validity() {
        assert_eq!(Outcome::InvalidNumber.contact_status(), Some(ContactStatus::Invalid));
        assert_eq!(Outcome::PoweredOff.contact_status(), Some(ContactStatus::PoweredOff));
        assert_eq!(Outcome::Refused.contact_status(), Some(ContactStatus::Valid));
        assert_eq!(Outcome::NoAnswer.contact_status(), None);
        assert_eq!(Outcome::Sent.contact_status(), None);
    }

    #[test]
    fn agents_round_trip() {
        for a in [
            Agent::Collector("E001".into()),
            Agent::Robot("R7".into()),
            Agent::Agency { agency: "ACME".into(), collector: "A12".into() },
        ] {
            assert_eq!(Agent::parse(&a.code()), Ok(a));
        }
        for bad in ["E001", "collector:", "agency:ACME", "boss:x"] {
            assert_eq!(Agent::parse(bad).unwrap_err().code, Code::Enum, "{bad}");
        }
    }

    #[test]
    fn attempts_check_outcome_and_duration() {
        let mut a = Attempt {
            case: CaseId::parse("CASE-C1").unwrap(),
            account: None,
            at: Timestamp::UNIX_EPOCH,
            channel: Channel::Sms,
            recipient: Recipient::Debtor,
            contact_point: None,
            agent: Agent::Robot("sms-gw".into()),
            outcome: Outcome::NoAnswer,
            duration_secs: 0,
            note: None,
        };
        assert_eq!(a.check().unwrap_err().code, Code::Inconsistent);
        a.channel = Channel::Call;
        a.duration_secs = 30;
        assert_eq!(a.check().unwrap_err().code, Code::Inconsistent);
        a.outcome = Outcome::Conversation;
        assert_eq!(a.check(), Ok(()));
    }
}
