//! Walking a flow: for each thing the call reports ([`Heard`]), the robot's next [`Action`].
//!
//! The walk is a pure state machine: the caller (the robot on a real call, the twin, a test)
//! plays the prompts, listens, transfers and reports back. It starts with the recording notice,
//! whatever the flow, and stops after [`MAX_STEPS`] nodes so a caller pressing keys for ever
//! cannot hold a line.

use daylight_domain::attempt::Outcome;

use super::{Flow, Then};

/// Nodes one call may pass through before the robot hangs up.
pub const MAX_STEPS: u32 = 100;

/// What the robot does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'f> {
    /// Say this template (render it with the case's spoken variables), then report
    /// [`Heard::Said`]. `node` is none for the recording notice.
    Say {
        /// The node saying it.
        node: Option<&'f str>,
        /// The template.
        text: &'f str,
    },
    /// Listen for a key, reporting [`Heard::Key`] or, after `timeout_secs`, [`Heard::Timeout`].
    Listen {
        /// How long to wait.
        timeout_secs: u32,
    },
    /// Bridge in a ready collector on the same call (the case's own first, then this team's;
    /// none: the case's collector's team), reporting [`Heard::Connected`] or
    /// [`Heard::NoCollector`].
    Transfer {
        /// The flow's pool.
        pool: Option<&'f str>,
    },
    /// The collector has the call: the robot's part is over.
    HandedOver,
    /// Hang up: the robot's part and the call are over.
    Hangup,
    /// Nothing new: go on with what is under way (a key during the notice, say).
    Continue,
}

/// What happened on the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// The prompt asked for has been said.
    Said,
    /// The caller pressed a key (during a prompt or while listened to).
    Key(char),
    /// Nothing was pressed in time.
    Timeout,
    /// A collector was bridged in.
    Connected,
    /// No collector was free in time.
    NoCollector,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Notice,
    Saying(usize),
    Listening(usize),
    Transferring(usize),
    Over,
}

/// One call's walk through a flow.
#[derive(Debug, Clone)]
pub struct Walk<'f> {
    flow: &'f Flow,
    phase: Phase,
    /// Replays of the current node so far.
    tries: u32,
    outcome: Option<Outcome>,
    steps: u32,
    keys: String,
    path: Vec<&'f str>,
    transferred: bool,
}

impl<'f> Walk<'f> {
    /// A walk from the start: its first action is the recording notice.
    pub fn start(flow: &'f Flow) -> (Walk<'f>, Action<'f>) {
        let walk = Walk {
            flow,
            phase: Phase::Notice,
            tries: 0,
            outcome: None,
            steps: 0,
            keys: String::new(),
            path: Vec::new(),
            transferred: false,
        };
        (walk, Action::Say { node: None, text: &flow.notice })
    }

    /// The next action after `heard`.
    pub fn on(&mut self, heard: Heard) -> Action<'f> {
        match (self.phase, heard) {
            (Phase::Notice, Heard::Said) => self.enter(self.flow.start),
            (Phase::Saying(i), Heard::Said) => self.after_prompt(i),
            // A key during a prompt that listens is taken at once (barge-in).
            (Phase::Saying(i), Heard::Key(k)) if self.listens(i) => self.key(i, k),
            (Phase::Listening(i), Heard::Key(k)) => self.key(i, k),
            (Phase::Listening(i), Heard::Timeout) => self.replay(i),
            (Phase::Transferring(_), Heard::Connected) => {
                self.phase = Phase::Over;
                self.transferred = true;
                Action::HandedOver
            }
            (Phase::Transferring(i), Heard::NoCollector) => match &self.flow.nodes[i].then {
                Then::Transfer { otherwise: Some(j) } => self.enter(*j),
                _ => self.hang_up(),
            },
            (Phase::Over, _) => Action::Hangup,
            _ => Action::Continue,
        }
    }

    /// The attempt's outcome so far: the last node's that set one, else the flow's.
    pub fn outcome(&self) -> Outcome {
        self.outcome.unwrap_or(self.flow.outcome)
    }

    /// The keys pressed, in order.
    pub fn keys(&self) -> &str {
        &self.keys
    }

    /// The flow's name.
    pub fn flow_name(&self) -> &'f str {
        &self.flow.name
    }

    /// The nodes entered, in order.
    pub fn path(&self) -> &[&'f str] {
        &self.path
    }

    /// Whether the robot's part is over.
    pub fn is_over(&self) -> bool {
        self.phase == Phase::Over
    }

    /// Whether a collector took the call.
    pub fn transferred(&self) -> bool {
        self.transferred
    }

    fn listens(&self, i: usize) -> bool {
        matches!(self.flow.nodes[i].then, Then::Keys { .. })
    }

    /// Goes to node `i` afresh (its replays counted from zero).
    fn enter(&mut self, i: usize) -> Action<'f> {
        self.tries = 0;
        self.visit(i)
    }

    /// Goes to node `i`, keeping the count of replays.
    fn visit(&mut self, i: usize) -> Action<'f> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return self.hang_up();
        }
        let node = &self.flow.nodes[i];
        self.path.push(&node.id);
        if let Some(o) = node.outcome {
            self.outcome = Some(o);
        }
        match &node.say {
            Some(text) => {
                self.phase = Phase::Saying(i);
                Action::Say { node: Some(&node.id), text }
            }
            None => self.after_prompt(i),
        }
    }

    fn after_prompt(&mut self, i: usize) -> Action<'f> {
        match &self.flow.nodes[i].then {
            Then::Next(j) => self.enter(*j),
            Then::Keys { timeout_secs, .. } => {
                self.phase = Phase::Listening(i);
                Action::Listen { timeout_secs: *timeout_secs }
            }
            Then::Transfer { .. } => {
                self.phase = Phase::Transferring(i);
                Action::Transfer { pool: self.flow.pool.as_deref() }
            }
            Then::Hangup => self.hang_up(),
        }
    }

    fn key(&mut self, i: usize, k: char) -> Action<'f> {
        self.keys.push(k);
        let Then::Keys { keys, .. } = &self.flow.nodes[i].then else { return Action::Continue };
        match keys.iter().find(|(key, _)| *key == k) {
            // A key leading back to its own node is a replay asked for, not a retry.
            Some((_, j)) => self.enter(*j),
            None => self.replay(i),
        }
    }

    /// Heard nothing it knows: say the node again, or go `otherwise` once the replays are
    /// spent.
    fn replay(&mut self, i: usize) -> Action<'f> {
        let Then::Keys { retries, otherwise, .. } = &self.flow.nodes[i].then else {
            return Action::Continue;
        };
        if self.tries < *retries {
            self.tries += 1;
            return self.visit(i);
        }
        match otherwise {
            Some(j) => self.enter(*j),
            None => self.hang_up(),
        }
    }

    fn hang_up(&mut self) -> Action<'f> {
        self.phase = Phase::Over;
        Action::Hangup
    }
}
