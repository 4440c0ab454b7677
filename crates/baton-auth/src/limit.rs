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
/// Events closer together than `grain` share one entry, so a key costs at most
/// `window / grain` entries whatever its limit (the request limits allow hundreds a
/// minute); a zero grain keeps every instant (sign-in, a handful per window). Memory is
/// bounded by `max_keys` keys; when the table is full and pruning frees nothing, a new key
/// goes uncounted (fail open: the limit is a brake on abuse, not a gate that a flood of
/// addresses may close for everyone).
#[derive(Debug)]
pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    grain: Duration,
    max_keys: usize,
    logs: Mutex<HashMap<String, Log>>,
}

/// Instants with how many events each stands for, oldest first.
#[derive(Debug, Default)]
struct Log {
    entries: VecDeque<(Instant, usize)>,
    total: usize,
}

impl Log {
    fn prune(&mut self, now: Instant, window: Duration) {
        while let Some(&(t, n)) = self.entries.front()
            && now.saturating_duration_since(t) >= window
        {
            self.entries.pop_front();
            self.total -= n;
        }
    }
}

impl SlidingWindow {
    pub fn new(limit: usize, window: Duration, max_keys: usize) -> Self {
        SlidingWindow {
            limit,
            window,
            grain: Duration::ZERO,
            max_keys,
            logs: Mutex::new(HashMap::new()),
        }
    }

    /// Events within `grain` of the previous entry share it (see the type's comment).
    pub fn with_grain(mut self, grain: Duration) -> Self {
        self.grain = grain;
        self
    }

    /// Whether another event for `key` fits at `now`, without counting one.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Limited> {
        let Ok(mut logs) = self.logs.lock() else {
            return Ok(());
        };
        self.wait(&mut logs, key, now)
    }

    /// Counts an event for `key` at `now`.
    pub fn record(&self, key: &str, now: Instant) {
        let Ok(mut logs) = self.logs.lock() else {
            return;
        };
        self.push(&mut logs, key, now);
    }

    /// Counts an event for `key` if it fits, else refuses it uncounted (so a client
    /// that keeps hammering is free again once the window passes its counted events).
    pub fn hit(&self, key: &str, now: Instant) -> Result<(), Limited> {
        let Ok(mut logs) = self.logs.lock() else {
            return Ok(());
        };
        self.wait(&mut logs, key, now)?;
        self.push(&mut logs, key, now);
        Ok(())
    }

    /// Forgets `key`'s events.
    pub fn forget(&self, key: &str) {
        if let Ok(mut logs) = self.logs.lock() {
            logs.remove(key);
        }
    }

    fn wait(
        &self,
        logs: &mut HashMap<String, Log>,
        key: &str,
        now: Instant,
    ) -> Result<(), Limited> {
        let Some(log) = logs.get_mut(key) else {
            return Ok(());
        };
        log.prune(now, self.window);
        if log.total < self.limit {
            return Ok(());
        }
        // Free once enough of the oldest events leave that one more fits.
        let mut must_leave = log.total + 1 - self.limit;
        let mut free_at = now;
        for &(t, n) in &log.entries {
            free_at = t + self.window;
            must_leave = must_leave.saturating_sub(n);
            if must_leave == 0 {
                break;
            }
        }
        let wait = free_at.saturating_duration_since(now);
        // Round up: "retry after 0 s" would invite an immediate refused retry.
        Err(Limited {
            retry_after: Duration::from_secs(wait.as_secs() + 1),
        })
    }

    fn push(&self, logs: &mut HashMap<String, Log>, key: &str, now: Instant) {
        if logs.len() >= self.max_keys && !logs.contains_key(key) {
            let window = self.window;
            logs.retain(|_, log| {
                log.prune(now, window);
                log.total > 0
            });
            if logs.len() >= self.max_keys {
                return;
            }
        }
        let log = logs.entry(key.to_owned()).or_default();
        match log.entries.back_mut() {
            Some((t, n))
                if !self.grain.is_zero() && now.saturating_duration_since(*t) < self.grain =>
            {
                *n += 1;
            }
            _ => log.entries.push_back((now, 1)),
        }
        log.total += 1;
        // Entries the decision can no longer need: `limit` newer events remain without them.
        while let Some(&(_, n)) = log.entries.front()
            && log.total - n >= self.limit.max(1)
        {
            log.entries.pop_front();
            log.total -= n;
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
        let by_address = self.addresses.check(address.unwrap_or("unknown"), now);
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

    #[test]
    fn a_grain_coalesces_events_and_still_counts_them_all() {
        let window =
            SlidingWindow::new(3, Duration::from_secs(60), 10).with_grain(Duration::from_secs(1));
        let t0 = Instant::now();
        for ms in [0, 100, 200] {
            assert!(window.hit("a", t0 + Duration::from_millis(ms)).is_ok());
        }
        assert_eq!(
            window.hit("a", t0 + Duration::from_secs(30)),
            Err(Limited {
                retry_after: Duration::from_secs(31)
            })
        );
        assert!(window.hit("a", t0 + Duration::from_secs(60)).is_ok());
    }
}
