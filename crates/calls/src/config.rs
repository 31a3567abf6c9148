//! Configuration of the switch and of one click-to-dial call.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::CallError;

/// Ring time used when a caller has no reason to choose another, in seconds.
pub const DEFAULT_RING_SECS: u32 = 30;
/// The shortest ring time allowed, in seconds (the US safe harbour asks for at least 15 s before
/// a call is abandoned as unanswered).
pub const MIN_RING_SECS: u32 = 15;

/// The outbound trunk the debtor leg goes through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trunk {
    /// Request-URI of the debtor leg with `{number}` standing for the dialled number, e.g.
    /// `sip:{number}@127.0.0.1:5170`.
    pub uri_template: String,
    /// Digest user name, used when the trunk challenges the INVITE (401/407).
    pub username: Option<String>,
    /// Digest password, used with `username`.
    pub password: Option<String>,
}

impl Trunk {
    /// The debtor leg's Request-URI for `number`.
    pub fn uri_for(&self, number: &str) -> String {
        self.uri_template.replace("{number}", number)
    }
}

/// How the switch runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchConfig {
    /// Local SIP UDP address; port 0 lets the system choose. The RTP sockets bind the same IP.
    pub bind: SocketAddr,
    /// The outbound trunk for debtor legs.
    pub trunk: Trunk,
    /// The most calls in progress at once; a further [`crate::Switch::dial`] fails with
    /// `CALL_LIMIT`.
    pub max_calls: usize,
    /// The longest a call may last from dialling, in seconds; the switch then hangs up both legs.
    pub max_call_secs: u32,
    /// How long each leg may ring before it is cancelled, in seconds; at least
    /// [`MIN_RING_SECS`].
    pub ring_secs: u32,
}

impl SwitchConfig {
    /// A configuration with the defaults: 8 calls, one hour per call, [`DEFAULT_RING_SECS`].
    pub fn new(bind: SocketAddr, trunk: Trunk) -> SwitchConfig {
        SwitchConfig { bind, trunk, max_calls: 8, max_call_secs: 3600, ring_secs: DEFAULT_RING_SECS }
    }

    /// Checks the limits and the trunk template.
    pub fn validate(&self) -> Result<(), CallError> {
        if self.max_calls == 0 {
            return Err(CallError::Config("max_calls must be at least 1".into()));
        }
        if self.max_call_secs == 0 {
            return Err(CallError::Config("max_call_secs must be at least 1".into()));
        }
        if self.ring_secs < MIN_RING_SECS {
            return Err(CallError::Config(format!(
                "ring_secs is {}, below the minimum of {MIN_RING_SECS}",
                self.ring_secs
            )));
        }
        if !self.trunk.uri_template.contains("{number}") {
            return Err(CallError::Config("trunk uri_template has no {number}".into()));
        }
        if self.trunk.username.is_some() != self.trunk.password.is_some() {
            return Err(CallError::Config("trunk username and password go together".into()));
        }
        Ok(())
    }
}

/// One click-to-dial request: call the collector, then the debtor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dial {
    /// The caller's id for the call (e.g. the attempt id); [`crate::Switch::hangup`] takes it.
    pub call: String,
    /// The collector's SIP URI, e.g. `sip:c1@127.0.0.1:5180`.
    pub agent: String,
    /// The debtor's number, filled into the trunk template. Never logged in clear.
    pub number: String,
    /// The From user of the debtor leg (the number the debtor sees).
    pub caller_id: String,
    /// Where the encrypted recording (`.age`) is written.
    pub record_to: PathBuf,
    /// The vault's age X25519 public key (`age1…`) the recording is encrypted to.
    pub vault_recipient: String,
}

/// A phone number with all but its last four characters masked, for logs.
pub fn mask_number(number: &str) -> String {
    let n = number.chars().count();
    number.chars().enumerate().map(|(i, c)| if i + 4 < n { '*' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_last_four() {
        assert_eq!(mask_number("13800138000"), "*******8000");
        assert_eq!(mask_number("123"), "123");
        assert_eq!(mask_number(""), "");
    }

    #[test]
    fn validates_limits() {
        let trunk = Trunk { uri_template: "sip:{number}@127.0.0.1:5170".into(), ..Trunk::default() };
        let mut cfg = SwitchConfig::new("127.0.0.1:0".parse().unwrap(), trunk);
        assert!(cfg.validate().is_ok());
        cfg.ring_secs = 14;
        assert_eq!(cfg.validate().unwrap_err().code(), "CALL_CONFIG");
        cfg.ring_secs = 15;
        cfg.max_calls = 0;
        assert_eq!(cfg.validate().unwrap_err().code(), "CALL_CONFIG");
        cfg.max_calls = 1;
        cfg.trunk.uri_template = "sip:x@h".into();
        assert!(cfg.validate().is_err());
    }

    #[test]
    fn fills_the_template() {
        let trunk = Trunk { uri_template: "sip:{number}@10.0.0.1:5060".into(), ..Trunk::default() };
        assert_eq!(trunk.uri_for("123"), "sip:123@10.0.0.1:5060");
    }
}
