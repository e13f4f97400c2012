//! Failed-login throttling, per account and per client IP.
//!
//! Each key counts failures in a fixed window; once the count reaches its
//! limit, further attempts are refused with 429 until the window ends. A
//! successful login clears the account's count. State is in memory: a
//! restart forgets it, which only ever helps a legitimate user.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Past this many tracked keys, expired entries are swept on insert so an
/// attacker cycling names cannot grow the map without bound.
const SWEEP_THRESHOLD: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

#[derive(Debug)]
pub struct LoginThrottle {
    per_account: u32,
    per_ip: u32,
    window: Duration,
    state: Mutex<HashMap<Key, Window>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Ip(IpAddr),
}

impl LoginThrottle {
    pub fn new(per_account: u32, per_ip: u32, window: Duration) -> Self {
        LoginThrottle {
            per_account,
            per_ip,
            window,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` to wait if this account or IP is locked out right now.
    pub fn check(&self, account: &str, ip: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let state = self.lock();
        let mut wait = None;
        for (key, limit) in self.keys(account, ip) {
            if let Some(w) = state.get(&key) {
                let ends = w.started + self.window;
                if w.failures >= limit && now < ends {
                    let secs = (ends - now).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, account: &str, ip: Option<IpAddr>, now: Instant) {
        let window = self.window;
        let mut state = self.lock();
        if state.len() > SWEEP_THRESHOLD {
            state.retain(|_, w| now < w.started + window);
        }
        for (key, _) in self.keys(account, ip) {
            let entry = state.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now >= entry.started + window {
                *entry = Window {
                    started: now,
                    failures: 0,
                };
            }
            entry.failures += 1;
        }
    }

    pub fn record_success(&self, account: &str) {
        self.lock().remove(&Key::Account(account.to_lowercase()));
    }

    fn keys(&self, account: &str, ip: Option<IpAddr>) -> Vec<(Key, u32)> {
        let mut keys = vec![(Key::Account(account.to_lowercase()), self.per_account)];
        if let Some(ip) = ip {
            keys.push((Key::Ip(ip), self.per_ip));
        }
        keys
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn an_account_is_locked_after_its_limit_until_the_window_ends() {
        let t = LoginThrottle::new(3, 100, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..3 {
            assert!(t.check("Alice", IP, now).is_ok());
            t.record_failure("Alice", IP, now);
        }
        let wait = t
            .check("alice", IP, now + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, 50);
        assert!(t.check("bob", IP, now).is_ok());
        assert!(t.check("alice", IP, now + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn an_ip_is_locked_across_accounts() {
        let t = LoginThrottle::new(100, 2, Duration::from_secs(60));
        let now = Instant::now();
        t.record_failure("a", IP, now);
        t.record_failure("b", IP, now);
        assert!(t.check("c", IP, now).is_err());
        assert!(t.check("c", None, now).is_ok());
    }

    #[test]
    fn success_clears_the_account_but_not_the_ip() {
        let t = LoginThrottle::new(2, 3, Duration::from_secs(60));
        let now = Instant::now();
        t.record_failure("a", IP, now);
        t.record_failure("a", IP, now);
        t.record_success("A");
        assert!(t.check("a", None, now).is_ok());
        t.record_failure("z", IP, now);
        assert!(t.check("a", IP, now).is_err());
    }
}
