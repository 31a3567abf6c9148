//! A collector's state on the floor (坐席状态): ready, ringing, talking, wrap-up, paused with a
//! reason. The collector sets ready and paused; calls set the rest. Pure: no clock, no IO.

use crate::error::{Code, Invalid};

crate::vocabulary! {
    /// Where a collector is.
    pub enum AgentState ("agent state") {
        /// Signed out or never set today.
        Offline = "offline",
        /// Waiting for the next call (示闲).
        Ready = "ready",
        /// A call is ringing their phone or the debtor's.
        Ringing = "ringing",
        /// On a bridged call.
        Talking = "talking",
        /// After a bridged call, until its wrap-up (话后处理).
        WrapUp = "wrap_up",
        /// Away, with a reason (示忙).
        Paused = "paused",
    }
}

crate::vocabulary! {
    /// Why a collector paused.
    pub enum PauseReason ("pause reason") {
        /// A short break (小休).
        Break = "break",
        /// A meal (用餐).
        Meal = "meal",
        /// Training (培训).
        Training = "training",
        /// A meeting (会议).
        Meeting = "meeting",
        /// Coaching with the team lead (辅导).
        Coaching = "coaching",
        /// Back-office work: notes, letters, callbacks to prepare (事务处理).
        Admin = "admin",
    }
}

/// What moves a collector from one state to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentEvent {
    /// The collector says they are ready (示闲).
    Ready,
    /// The collector pauses (示忙), for a reason.
    Pause(PauseReason),
    /// The collector signs off.
    Offline,
    /// A call was placed: their phone rings, then the debtor's.
    Dialled,
    /// The call was bridged.
    Bridged,
    /// The call ended; `bridged` if it had been.
    Ended {
        /// Whether the debtor was reached.
        bridged: bool,
    },
    /// The bridged call was wrapped up.
    WrappedUp,
}

/// The state after `event` in state `from` (paused for `reason`, if paused), with its pause
/// reason; refused (`TRANSITION`) when the collector would leave a live call by a click.
pub fn next(
    from: AgentState,
    reason: Option<PauseReason>,
    event: AgentEvent,
) -> Result<(AgentState, Option<PauseReason>), Invalid> {
    use AgentState::*;
    let on_call = matches!(from, Ringing | Talking);
    let refuse =
        |what: &str| Err(Invalid::new(Code::Transition, format!("{what} while {from}: end the call first")));
    Ok(match event {
        AgentEvent::Ready if on_call => return refuse("ready"),
        AgentEvent::Pause(_) if on_call => return refuse("paused"),
        AgentEvent::Offline if on_call => return refuse("offline"),
        AgentEvent::Ready => (Ready, None),
        AgentEvent::Pause(r) => (Paused, Some(r)),
        AgentEvent::Offline => (Offline, None),
        AgentEvent::Dialled => (Ringing, None),
        AgentEvent::Bridged => (Talking, None),
        AgentEvent::Ended { bridged: true } => (WrapUp, None),
        AgentEvent::Ended { bridged: false } => (Ready, None),
        AgentEvent::WrappedUp if from == WrapUp => (Ready, None),
        AgentEvent::WrappedUp => (from, reason.filter(|_| from == Paused)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use AgentState::*;

    #[test]
    fn a_call_moves_the_collector_through_its_states() {
        let mut s = Ready;
        for (ev, want) in [
            (AgentEvent::Dialled, Ringing),
            (AgentEvent::Bridged, Talking),
            (AgentEvent::Ended { bridged: true }, WrapUp),
            (AgentEvent::WrappedUp, Ready),
            (AgentEvent::Dialled, Ringing),
            (AgentEvent::Ended { bridged: false }, Ready),
        ] {
            s = next(s, None, ev).unwrap().0;
            assert_eq!(s, want, "{ev:?}");
        }
    }

    #[test]
    fn a_click_never_leaves_a_live_call() {
        for from in [Ringing, Talking] {
            for ev in [AgentEvent::Ready, AgentEvent::Pause(PauseReason::Meal), AgentEvent::Offline] {
                assert_eq!(next(from, None, ev).unwrap_err().code, Code::Transition);
            }
        }
        assert_eq!(
            next(WrapUp, None, AgentEvent::Pause(PauseReason::Admin)).unwrap(),
            (Paused, Some(PauseReason::Admin))
        );
        assert_eq!(next(Paused, Some(PauseReason::Meal), AgentEvent::Ready).unwrap(), (Ready, None));
        // A wrap-up of an earlier call does not end a pause.
        let meal = Some(PauseReason::Meal);
        assert_eq!(next(Paused, meal, AgentEvent::WrappedUp).unwrap(), (Paused, meal));
    }
}
