//! The sign-in rate limit: failed attempts are counted per account and per client
//! address over a sliding window; past the limit, sign-in is refused until the oldest
//! counted failure leaves the window, and the refusal says when (`Retry-After`).
//!
//! The algorithm, [`SlidingWindow`], also serves the host's per-address request limits.
//!
//! Per host and in memory: with several hosts behind a balancer an attacker gets the
//! limit once per host, which still bounds guessing to a handful a minute per account.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures, over which window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_account: usize,
    pub per_address: usize,
    pub window: Duration,
}

impl Default for Limits {
    /// Five wrong passwords per account and twenty per address in fifteen minutes: a
    /// person who mistypes gets through, a guesser gets twenty guesses an hour.
    fn default() -> Self {
        Limits {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Limited {
    pub retry_after: Duration,
}

/// Most keys a sign-in limiter remembers; beyond it the oldest windows are dropped first.
const MAX_KEYS: usize = 100_000;

/// A sliding-window log per key: at most `limit` events per key within `window`. The
/// one limiter algorithm of the server: sign-in failures count on it, and so do the
/// per-address request limits at the HTTP edge.
///
/// Memory is bounded by `max_keys` keys of at most `limit` instants each; when the table
/// is full and pruning frees nothing, a new key goes uncounted (fail open: the limit is
/// a brake on abuse, not a gate that a flood of addresses may close for everyone).
#[derive(Debug)]
pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    max_keys: usize,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SlidingWindow {
    pub fn new(limit: usize, window: Duration, max_keys: usize) -> Self {
        SlidingWindow {
            limit,
            window,
            max_keys,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Whether another event for `key` fits at `now`, without counting one.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Limited> {
        let Ok(mut events) = self.events.lock() else {
            return Ok(());
        };
        self.wait(&mut events, key, now)
    }

    /// Counts an event for `key` at `now`.
    pub fn record(&self, key: &str, now: Instant) {
        let Ok(mut events) = self.events.lock() else {
            return;
        };
        self.push(&mut events, key, now);
    }

    /// Counts an event for `key` if it fits, else refuses it uncounted (so a client
    /// that keeps hammering is free again once the window passes its counted events).
    pub fn hit(&self, key: &str, now: Instant) -> Result<(), Limited> {
        let Ok(mut events) = self.events.lock() else {
            return Ok(());
        };
        self.wait(&mut events, key, now)?;
        self.push(&mut events, key, now);
        Ok(())
    }

    /// Forgets `key`'s events.
    pub fn forget(&self, key: &str) {
        if let Ok(mut events) = self.events.lock() {
            events.remove(key);
        }
    }

    fn wait(
        &self,
        events: &mut HashMap<String, VecDeque<Instant>>,
        key: &str,
        now: Instant,
    ) -> Result<(), Limited> {
        let Some(times) = events.get_mut(key) else {
            return Ok(());
        };
        prune(times, now, self.window);
        if times.len() >= self.limit
            && let Some(oldest) = times.get(times.len() - self.limit)
        {
            let wait = (*oldest + self.window).saturating_duration_since(now);
            // Round up: "retry after 0 s" would invite an immediate refused retry.
            return Err(Limited {
                retry_after: Duration::from_secs(wait.as_secs() + 1),
            });
        }
        Ok(())
    }

    fn push(&self, events: &mut HashMap<String, VecDeque<Instant>>, key: &str, now: Instant) {
        if events.len() >= self.max_keys && !events.contains_key(key) {
            let window = self.window;
            events.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
            if events.len() >= self.max_keys {
                return;
            }
        }
        let times = events.entry(key.to_owned()).or_default();
        times.push_back(now);
        // Only the newest `limit` instants decide; older ones are dead weight.
        while times.len() > self.limit.max(1) {
            times.pop_front();
        }
    }
}

/// Failed sign-ins, per account and per client address.
#[derive(Debug)]
pub struct SignInLimiter {
    accounts: SlidingWindow,
    addresses: SlidingWindow,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        SignInLimiter::new(Limits::default())
    }
}

impl SignInLimiter {
    pub fn new(limits: Limits) -> Self {
        SignInLimiter {
            accounts: SlidingWindow::new(limits.per_account, limits.window, MAX_KEYS),
            addresses: SlidingWindow::new(limits.per_address, limits.window, MAX_KEYS),
        }
    }

    fn account_key(account: &str) -> String {
        account.trim().to_lowercase()
    }

    /// Whether an attempt for `account` from `address` may go ahead at `now`.
    pub fn check(&self, account: &str, address: Option<&str>, now: Instant) -> Result<(), Limited> {
        let by_account = self.accounts.check(&Self::account_key(account), now);
        let by_address = self
            .addresses
            .check(address.unwrap_or("unknown"), now);
        match (by_account, by_address) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(a.max(b)),
            (Err(limited), Ok(())) | (Ok(()), Err(limited)) => Err(limited),
        }
    }

    /// Counts a failed attempt.
    pub fn failed(&self, account: &str, address: Option<&str>, now: Instant) {
        self.accounts.record(&Self::account_key(account), now);
        self.addresses.record(address.unwrap_or("unknown"), now);
    }

    /// A successful sign-in forgets the account's failures (not the address's).
    pub fn succeeded(&self, account: &str, now: Instant) {
        let _ = now;
        self.accounts.forget(&Self::account_key(account));
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        per_account: 3,
        per_address: 5,
        window: Duration::from_secs(60),
    };

    #[test]
    fn an_account_is_limited_until_its_oldest_failure_leaves_the_window() {
        let limiter = SignInLimiter::new(LIMITS);
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(limiter.check("Ann@x", Some("a"), t0).is_ok(), "{i}");
            limiter.failed("ann@x", Some("a"), t0 + Duration::from_secs(i * 10));
        }
        let at = t0 + Duration::from_secs(25);
        assert_eq!(
            limiter.check("ANN@x", Some("b"), at),
            Err(Limited {
                retry_after: Duration::from_secs(36)
            })
        );
        assert!(limiter.check("bob@x", Some("b"), at).is_ok());
        assert!(
            limiter
                .check("ann@x", Some("b"), t0 + Duration::from_secs(60))
                .is_ok()
        );
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let limiter = SignInLimiter::new(LIMITS);
        let t0 = Instant::now();
        for i in 0..5 {
            limiter.failed(&format!("user{i}@x"), Some("10.0.0.1"), t0);
        }
        assert!(limiter.check("other@x", Some("10.0.0.1"), t0).is_err());
        assert!(limiter.check("other@x", Some("10.0.0.2"), t0).is_ok());
    }

    #[test]
    fn success_clears_the_account() {
        let limiter = SignInLimiter::new(LIMITS);
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.failed("ann@x", Some("a"), t0);
        }
        limiter.succeeded("ann@x", t0);
        assert!(limiter.check("ann@x", Some("b"), t0).is_ok());
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn a_hit_over_the_limit_is_refused_uncounted_and_frees_with_the_window() {
        let window = SlidingWindow::new(2, Duration::from_secs(60), 10);
        let t0 = Instant::now();
        assert!(window.hit("a", t0).is_ok());
        assert!(window.hit("a", t0 + Duration::from_secs(10)).is_ok());
        assert_eq!(
            window.hit("a", t0 + Duration::from_secs(20)),
            Err(Limited {
                retry_after: Duration::from_secs(41)
            })
        );
        assert!(window.hit("b", t0 + Duration::from_secs(20)).is_ok());
        assert!(window.hit("a", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn a_full_table_lets_new_keys_through_uncounted() {
        let window = SlidingWindow::new(1, Duration::from_secs(60), 2);
        let t0 = Instant::now();
        assert!(window.hit("a", t0).is_ok());
        assert!(window.hit("b", t0).is_ok());
        assert!(window.hit("c", t0).is_ok());
        assert!(window.hit("c", t0).is_ok());
        assert!(window.hit("a", t0).is_err());
    }
}
