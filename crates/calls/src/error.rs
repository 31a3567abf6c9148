//! Errors of the switch, each with a stable code.

/// Why the switch could not start or place a call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The switch already carries `max_calls` calls.
    #[error("call limit reached ({0} calls in progress)")]
    Limit(usize),
    /// A call with this id is already in progress.
    #[error("call {0} is already in progress")]
    Duplicate(String),
    /// A configuration or request value is invalid (bad URI, bad age recipient, limits).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The SIP stack failed (bind, send, transaction).
    #[error("SIP error: {0}")]
    Sip(String),
    /// RTP sockets or the recording failed.
    #[error("media error: {0}")]
    Media(String),
    /// The switch is shutting down.
    #[error("the switch is shut down")]
    Shutdown,
    /// No call with this id is in progress on this switch.
    #[error("no call {0} is in progress")]
    NoCall(String),
    /// The call is not bridged (yet, or any more): nobody can join it.
    #[error("call {0} is not bridged")]
    NotBridged(String),
    /// Another supervisor is already on the call.
    #[error("call {0} already has a supervisor")]
    Supervised(String),

    /// Speech could not be rendered (the engine missing or failing, a prompt too long).
    #[error("speech: {0}")]
    Speech(String),
}

impl CallError {
    /// A stable code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Limit(_) => "CALL_LIMIT",
            CallError::Duplicate(_) => "CALL_DUPLICATE",
            CallError::Config(_) => "CALL_CONFIG",
            CallError::Sip(_) => "CALL_SIP",
            CallError::Media(_) => "CALL_MEDIA",
            CallError::Shutdown => "CALL_SHUTDOWN",
            CallError::NoCall(_) => "CALL_NOT_FOUND",
            CallError::NotBridged(_) => "CALL_NOT_BRIDGED",
            CallError::Supervised(_) => "CALL_SUPERVISED",
            CallError::Speech(_) => "CALL_SPEECH",
        }
    }
}

impl From<rsipstack::Error> for CallError {
    fn from(e: rsipstack::Error) -> Self {
        CallError::Sip(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(CallError::Limit(1).code(), "CALL_LIMIT");
        assert_eq!(CallError::Duplicate("a".into()).code(), "CALL_DUPLICATE");
        assert_eq!(CallError::Config("x".into()).code(), "CALL_CONFIG");
        assert_eq!(CallError::Sip("x".into()).code(), "CALL_SIP");
        assert_eq!(CallError::Media("x".into()).code(), "CALL_MEDIA");
        assert_eq!(CallError::Shutdown.code(), "CALL_SHUTDOWN");
        assert_eq!(CallError::NoCall("1".into()).code(), "CALL_NOT_FOUND");
        assert_eq!(CallError::NotBridged("1".into()).code(), "CALL_NOT_BRIDGED");
        assert_eq!(CallError::Supervised("1".into()).code(), "CALL_SUPERVISED");
        assert_eq!(CallError::Speech("x".into()).code(), "CALL_SPEECH");
    }
}
