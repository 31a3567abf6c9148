//! Sign-in throttling by growing delays, with no lock an attacker can trigger.
//!
//! Failed sign-ins are counted per login *and source address* and per login from anywhere.
//! After `free` failures in a row a key waits before its next try: 1 s, then 2 s, 4 s, … up to
//! a cap. A pair (login, source) is capped at `lock_for` (15 minutes by default): the guesser is
//! slowed to a crawl. A login from anywhere starts later (four times `free`) and is capped at one
//! minute: an attacker elsewhere can slow its owner's sign-in by a minute at most, never lock
//! it. Unknown logins are counted alike, so that the answers and their timing say nothing about
//! which logins exist. A success clears its login's counts. The source address is the one
//! [`crate::auth::client_ip`] gives (the trusted proxy's `X-Forwarded-For`).
//!
//! The counts live in the server's memory (a server behind a load balancer counts its own
//! share); the store keeps each user's failures for the record. No clock is read here: the
//! time is an argument.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Entries kept before stale ones (no failure for an hour past their cap) are forgotten.
const PRUNE_AT: usize = 50_000;
/// Entries kept at most: past it (a flood of made-up logins), entries that delay nobody yet
/// are forgotten too.
const HARD_CAP: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, IpAddr),
    Login(String),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Timestamp,
}

/// The throttle: growing delays per (login, source) and per login.
#[derive(Debug)]
pub struct Throttle {
    free: u32,
    pair_cap: SignedDuration,
    login_free: u32,
    login_cap: SignedDuration,
    entries: Mutex<HashMap<Key, Entry>>,
}

/// The delay after `failures` failures in a row, `free` of them without one.
fn delay(failures: u32, free: u32, cap: SignedDuration) -> SignedDuration {
    if failures < free {
        return SignedDuration::ZERO;
    }
    let doublings = (failures - free).min(30);
    SignedDuration::from_secs(1i64 << doublings).min(cap)
}

impl Throttle {
    /// A throttle whose pairs wait after `free` failures (at most `lock_for`), and whose logins
    /// wait after `4 × free` failures (at most a minute).
    pub fn new(free: u32, lock_for: SignedDuration) -> Throttle {
        Throttle {
            free: free.max(1),
            pair_cap: lock_for,
            login_free: free.max(1).saturating_mul(4),
            login_cap: SignedDuration::from_mins(1).min(lock_for),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn keys(login: &str, ip: IpAddr) -> [Key; 2] {
        let login = login.trim().to_lowercase();
        [Key::Pair(login.clone(), ip), Key::Login(login)]
    }

    fn rule(&self, k: &Key) -> (u32, SignedDuration) {
        match k {
            Key::Pair(..) => (self.free, self.pair_cap),
            Key::Login(_) => (self.login_free, self.login_cap),
        }
    }

    /// When `login` from `ip` may try next, if that is after `now`.
    pub fn wait_until(&self, login: &str, ip: IpAddr, now: Timestamp) -> Option<Timestamp> {
        let map = self.entries.lock().expect("not poisoned");
        Throttle::keys(login, ip)
            .iter()
            .filter_map(|k| {
                let e = map.get(k)?;
                let (free, cap) = self.rule(k);
                let at = e.last + delay(e.failures, free, cap);
                (at > now).then_some(at)
            })
            .max()
    }

    /// Counts a failed sign-in of `login` from `ip` at `now`.
    pub fn failed(&self, login: &str, ip: IpAddr, now: Timestamp) {
        let mut map = self.entries.lock().expect("not poisoned");
        if map.len() >= PRUNE_AT {
            let (pair_cap, login_cap) = (self.pair_cap, self.login_cap);
            map.retain(|k, e| {
                let cap = if matches!(k, Key::Pair(..)) { pair_cap } else { login_cap };
                now.duration_since(e.last) < cap + SignedDuration::from_hours(1)
            });
            if map.len() >= HARD_CAP {
                let (free, login_free) = (self.free, self.login_free);
                map.retain(|k, e| e.failures >= if matches!(k, Key::Pair(..)) { free } else { login_free });
            }
        }
        for k in Throttle::keys(login, ip) {
            let e = map.entry(k).or_insert(Entry { failures: 0, last: now });
            e.failures = e.failures.saturating_add(1);
            e.last = now;
        }
    }

    /// Clears `login`'s counts after it signed in from `ip`.
    pub fn succeeded(&self, login: &str, ip: IpAddr) {
        let mut map = self.entries.lock().expect("not poisoned");
        for k in Throttle::keys(login, ip) {
            map.remove(&k);
        }
    }
}

impl Throttle {
    /// Forgets every count of `login` (an admin reset its password).
    pub fn clear_login(&self, login: &str) {
        let login = login.trim().to_lowercase();
        self.entries.lock().expect("not poisoned").retain(|k, _| match k {
            Key::Pair(l, _) | Key::Login(l) => *l != login,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_770_000_000 + secs).unwrap()
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn a_guesser_waits_longer_and_longer_but_the_owner_elsewhere_at_most_a_minute() {
        let t = Throttle::new(5, SignedDuration::from_mins(15));
        let mut now = 0;
        for _ in 0..4 {
            t.failed("E001", ip(1), at(now));
            assert_eq!(t.wait_until("E001", ip(1), at(now)), None, "four failures are free");
        }
        t.failed("E001", ip(1), at(now));
        assert_eq!(t.wait_until("E001", ip(1), at(now)), Some(at(1)));
        now = 1;
        t.failed("E001", ip(1), at(now));
        assert_eq!(t.wait_until("e001", ip(1), at(now)), Some(at(3)), "2 s; logins compare without case");
        // The guesser keeps going as fast as allowed: the delay doubles up to 15 minutes.
        for _ in 0..30 {
            now = t.wait_until("E001", ip(1), at(now)).map_or(now, |w| w.as_second() - at(0).as_second());
            t.failed("E001", ip(1), at(now));
        }
        let wait = t.wait_until("E001", ip(1), at(now)).unwrap().as_second() - at(now).as_second();
        assert_eq!(wait, 15 * 60);
        // The owner, from another address, waits a minute at most.
        let owner = t.wait_until("E001", ip(2), at(now)).map_or(0, |w| w.as_second() - at(now).as_second());
        assert!(owner <= 60, "{owner}");
        // Signing in clears the login's counts from that address and from anywhere.
        t.succeeded("E001", ip(2));
        assert_eq!(t.wait_until("E001", ip(2), at(now)), None);
        assert!(t.wait_until("E001", ip(1), at(now)).is_some(), "the guesser still waits");
    }

    #[test]
    fn unknown_logins_are_counted_like_known_ones() {
        let t = Throttle::new(5, SignedDuration::from_mins(15));
        for _ in 0..5 {
            t.failed("NOBODY", ip(1), at(0));
            t.failed("E001", ip(1), at(0));
        }
        assert_eq!(t.wait_until("NOBODY", ip(1), at(0)), t.wait_until("E001", ip(1), at(0)));
    }
}
