//! Robot flows (外呼机器人话术流程): what a robot call says and does, written in the strategy
//! document as `[[flow]]` tables of nodes. A node may say a prompt (a template with the case's
//! variables, spoken with amounts and dates put into words: [`crate::spoken`]), then does one
//! thing: go on to a node, listen for a key with a timeout, transfer the call to a ready
//! collector, or hang up. A node may set the attempt's outcome.
//!
//! The recording notice is never a node: [`walk::Walk`] plays the flow's `notice` before
//! anything else, so no flow can skip it.
//!
//! Read raw (unknown keys refused with line and column), then checked: every reference
//! resolved, every node reached from the start, every loop able to end — each error naming
//! the line and column of the value at fault. docs/dialer.md annotates the shipped flows.

pub mod walk;

use std::collections::BTreeMap;

use daylight_domain::attempt::Outcome;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::document::check_template;

/// Keys a caller can press (RFC 4733 events 0–11).
pub const KEYS: &str = "0123456789*#";

/// The longest a node listens for a key.
pub const MAX_TIMEOUT_SECS: u32 = 30;

/// The most replays of a node that heard nothing it knows.
pub const MAX_RETRIES: u32 = 5;

/// Nodes in one flow, at most.
pub const MAX_NODES: usize = 64;

/// The recording notice a flow plays first when it names none.
pub const DEFAULT_NOTICE: &str = "为保障服务质量，本次通话将被录音。";

// ----- raw -----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlow {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    notice: Option<Spanned<String>>,
    pool: Option<Spanned<String>>,
    outcome: Spanned<Outcome>,
    start: Spanned<String>,
    node: Vec<RawNode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: Spanned<String>,
    say: Option<Spanned<String>>,
    outcome: Option<Spanned<Outcome>>,
    next: Option<Spanned<String>>,
    keys: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    timeout_secs: Option<Spanned<u32>>,
    retries: Option<Spanned<u32>>,
    otherwise: Option<Spanned<String>>,
    transfer: Option<Spanned<bool>>,
    hangup: Option<Spanned<bool>>,
}

// ----- validated -----

/// A checked robot flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    /// Its name, unique in the strategy (campaigns name it).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The recording notice, played before the first node.
    pub notice: String,
    /// The team whose ready collectors a transfer reaches (none: the team of the case's
    /// collector, as a call in is routed).
    pub pool: Option<String>,
    /// The outcome when no node reached set one.
    pub outcome: Outcome,
    /// The first node (an index into `nodes`).
    pub start: usize,
    /// The nodes.
    pub nodes: Vec<Node>,
}

/// A step of a flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// Its id, unique in the flow.
    pub id: String,
    /// The prompt it says first (a template of [`crate::document::VARIABLES`]).
    pub say: Option<String>,
    /// The outcome the attempt takes once the call has been here (the last one reached wins).
    pub outcome: Option<Outcome>,
    /// What it does after its prompt.
    pub then: Then,
}

/// What a node does after its prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    /// Go on to this node.
    Next(usize),
    /// Listen for one key.
    Keys {
        /// Each key heard and the node it leads to.
        keys: Vec<(char, usize)>,
        /// How long to wait for a key after the prompt.
        timeout_secs: u32,
        /// Replays (prompt and wait) after a timeout or a key not listed.
        retries: u32,
        /// Where to go once the replays are spent (none: hang up).
        otherwise: Option<usize>,
    },
    /// Transfer the call to a ready collector (the case's own first, then the flow's pool),
    /// on the same call and recording.
    Transfer {
        /// Where to go when nobody is free in time (none: hang up).
        otherwise: Option<usize>,
    },
    /// Hang up.
    Hangup,
}

impl Flow {
    /// A node by id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Whether some path of the flow transfers to a collector.
    pub fn transfers(&self) -> bool {
        self.nodes.iter().any(|n| matches!(n.then, Then::Transfer { .. }))
    }
}

/// A flow error's place (a byte span of the document) and what was expected.
pub(crate) type FlowError = (std::ops::Range<usize>, String);

impl RawFlow {
    /// Checks the flow; `names` are the flows already read (names are unique).
    pub(crate) fn check(self, names: &[Flow]) -> Result<Flow, FlowError> {
        let name = self.name.get_ref().trim().to_owned();
        if name.is_empty() || names.iter().any(|f| f.name == name) {
            return Err((self.name.span(), format!("{name:?}: expected a unique, non-empty flow name")));
        }
        let notice = match self.notice {
            None => DEFAULT_NOTICE.to_owned(),
            Some(n) if n.get_ref().trim().is_empty() => {
                return Err((n.span(), "expected the recording notice's words (or leave it out)".into()));
            }
            Some(n) => {
                check_template(n.get_ref()).map_err(|m| (n.span(), m))?;
                n.into_inner()
            }
        };
        let pool = match self.pool {
            Some(p) if p.get_ref().trim().is_empty() => return Err((p.span(), "expected a team".into())),
            p => p.map(|p| p.into_inner().trim().to_owned()),
        };
        let outcome = robot_outcome(self.outcome)?;
        if self.node.is_empty() || self.node.len() > MAX_NODES {
            return Err((self.start.span(), format!("expected 1 to {MAX_NODES} [[flow.node]] tables")));
        }
        let mut ids: Vec<String> = Vec::with_capacity(self.node.len());
        for n in &self.node {
            let id = n.id.get_ref().trim();
            if id.is_empty() || ids.iter().any(|o| o == id) {
                return Err((n.id.span(), format!("{id:?}: expected a unique, non-empty node id")));
            }
            ids.push(id.to_owned());
        }
        let find = |r: &Spanned<String>| -> Result<usize, FlowError> {
            ids.iter().position(|i| i == r.get_ref().trim()).ok_or_else(|| {
                (
                    r.span(),
                    format!("no node {:?} in flow {name:?}; expected one of {}", r.get_ref(), ids.join(", ")),
                )
            })
        };
        let start = find(&self.start)?;
        let spans: Vec<_> = self.node.iter().map(|n| n.id.span()).collect();
        let mut nodes = Vec::with_capacity(self.node.len());
        for (raw, id) in self.node.into_iter().zip(&ids) {
            nodes.push(raw.check(id, &find)?);
        }
        let flow = Flow { name, description: self.description, notice, pool, outcome, start, nodes };
        check_graph(&flow, &spans)?;
        Ok(flow)
    }
}

fn robot_outcome(o: Spanned<Outcome>) -> Result<Outcome, FlowError> {
    let span = o.span();
    match o.into_inner() {
        Outcome::Interrupted => {
            Err((span, "interrupted is the switch's alone; expected another outcome".into()))
        }
        other => Ok(other),
    }
}

impl RawNode {
    fn check(
        self,
        id: &str,
        find: &impl Fn(&Spanned<String>) -> Result<usize, FlowError>,
    ) -> Result<Node, FlowError> {
        let say = match self.say {
            None => None,
            Some(s) => {
                check_template(s.get_ref()).map_err(|m| (s.span(), m))?;
                Some(s.into_inner())
            }
        };
        let outcome = self.outcome.map(robot_outcome).transpose()?;
        let whole = self.id.span();
        let chosen = [
            self.next.as_ref().map(|_| "next"),
            self.keys.as_ref().map(|_| "keys"),
            self.transfer.as_ref().filter(|t| *t.get_ref()).map(|_| "transfer"),
            self.hangup.as_ref().filter(|h| *h.get_ref()).map(|_| "hangup"),
        ];
        let chosen: Vec<&str> = chosen.into_iter().flatten().collect();
        if chosen.len() != 1 {
            return Err((
                whole,
                format!(
                    "node {id:?} does {}; expected exactly one of next, keys, transfer = true, hangup = true",
                    if chosen.is_empty() { "nothing".to_owned() } else { chosen.join(" and ") }
                ),
            ));
        }
        let listens = self.keys.is_some();
        for (field, span) in [
            ("timeout_secs", self.timeout_secs.as_ref().map(Spanned::span)),
            ("retries", self.retries.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span
                && !listens
            {
                return Err((span, format!("{field} is for a node with keys")));
            }
        }
        if let Some(o) = &self.otherwise
            && !(listens || chosen[0] == "transfer")
        {
            return Err((o.span(), "otherwise is for a node with keys or a transfer".into()));
        }
        let otherwise = self.otherwise.as_ref().map(find).transpose()?;
        let then = match chosen[0] {
            "next" => Then::Next(self.next.as_ref().map(find).transpose()?.unwrap_or_default()),
            "transfer" => Then::Transfer { otherwise },
            "hangup" => Then::Hangup,
            _ => {
                let Some(raw_keys) = self.keys else { return Err((whole, "expected keys".into())) };
                let span = raw_keys.span();
                let mut keys = Vec::new();
                for (k, target) in raw_keys.into_inner() {
                    let mut chars = k.chars();
                    let key = match (chars.next(), chars.next()) {
                        (Some(c), None) if KEYS.contains(c) => c,
                        _ => return Err((target.span(), format!("key {k:?}: expected one of 0–9, * or #"))),
                    };
                    keys.push((key, find(&target)?));
                }
                if keys.is_empty() {
                    return Err((span, "expected at least one key".into()));
                }
                let timeout_secs = match self.timeout_secs {
                    None => 5,
                    Some(t) if (1..=MAX_TIMEOUT_SECS).contains(t.get_ref()) => t.into_inner(),
                    Some(t) => return Err((t.span(), format!("expected 1 to {MAX_TIMEOUT_SECS} seconds"))),
                };
                let retries = match self.retries {
                    None => 1,
                    Some(r) if *r.get_ref() <= MAX_RETRIES => r.into_inner(),
                    Some(r) => return Err((r.span(), format!("expected 0 to {MAX_RETRIES} replays"))),
                };
                Then::Keys { keys, timeout_secs, retries, otherwise }
            }
        };
        Ok(Node { id: id.to_owned(), say, outcome, then })
    }
}

/// Every node is reached from the start, and from every node reached an end (a hang-up, a
/// transfer, or the replays running out) can be reached: no flow loops for ever.
/// `spans` are the nodes' ids in the document, for the error's place.
fn check_graph(flow: &Flow, spans: &[std::ops::Range<usize>]) -> Result<(), FlowError> {
    let n = flow.nodes.len();
    let edges = |i: usize| -> Vec<usize> {
        match &flow.nodes[i].then {
            Then::Next(j) => vec![*j],
            Then::Keys { keys, otherwise, .. } => keys.iter().map(|(_, j)| *j).chain(*otherwise).collect(),
            Then::Transfer { otherwise } => otherwise.iter().copied().collect(),
            Then::Hangup => Vec::new(),
        }
    };
    let mut seen = vec![false; n];
    let mut stack = vec![flow.start];
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut seen[i], true) {
            stack.extend(edges(i));
        }
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        return Err((
            spans[i].clone(),
            format!("flow {:?}: node {:?} is never reached from the start", flow.name, flow.nodes[i].id),
        ));
    }
    // Ends: a node that can stop the call by itself.
    let mut ends: Vec<bool> = flow
        .nodes
        .iter()
        .map(|node| match &node.then {
            Then::Hangup | Then::Transfer { .. } => true,
            Then::Keys { otherwise, .. } => otherwise.is_none(),
            Then::Next(_) => false,
        })
        .collect();
    // Backwards: a node ends if some way out of it does.
    loop {
        let mut changed = false;
        for i in 0..n {
            if !ends[i] && edges(i).iter().any(|&j| ends[j]) {
                ends[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if let Some(i) = ends.iter().position(|e| !e) {
        return Err((
            spans[i].clone(),
            format!(
                "flow {:?}: from node {:?} the call can never end (expected a way to a hang-up, a transfer or keys without otherwise)",
                flow.name, flow.nodes[i].id
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
