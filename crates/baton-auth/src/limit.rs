//! The sign-in rate limit: failed attempts are counted per account and per client
//! address over a sliding window; past the limit, sign-in is refused until the oldest
//! counted failure leaves the window, and the refusal says when (`Retry-After`).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

/// Most keys remembered; beyond it the oldest windows are dropped first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug)]
pub struct SignInLimiter {
    limits: Limits,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        SignInLimiter::new(Limits::default())
    }
}

impl SignInLimiter {
    pub fn new(limits: Limits) -> Self {
        SignInLimiter {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, address: Option<&str>) -> [(String, bool); 2] {
        [
            (format!("account:{}", account.trim().to_lowercase()), true),
            (format!("address:{}", address.unwrap_or("unknown")), false),
        ]
    }

    /// Whether an attempt for `account` from `address` may go ahead at `now`.
    pub fn check(&self, account: &str, address: Option<&str>, now: Instant) -> Result<(), Limited> {
        let Ok(mut failures) = self.failures.lock() else {
            return Ok(());
        };
        let mut wait = Duration::ZERO;
        for (key, is_account) in Self::keys(account, address) {
            let limit = if is_account {
                self.limits.per_account
            } else {
                self.limits.per_address
            };
            if let Some(times) = failures.get_mut(&key) {
                prune(times, now, self.limits.window);
                if times.len() >= limit
                    && let Some(oldest) = times.get(times.len() - limit)
                {
                    let free_at = *oldest + self.limits.window;
                    wait = wait.max(free_at.saturating_duration_since(now));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            // Round up: "retry after 0 s" would invite an immediate refused retry.
            Err(Limited {
                retry_after: Duration::from_secs(wait.as_secs() + 1),
            })
        }
    }

    /// Counts a failed attempt.
    pub fn failed(&self, account: &str, address: Option<&str>, now: Instant) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() >= MAX_KEYS {
            let window = self.limits.window;
            failures.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        for (key, _) in Self::keys(account, address) {
            if failures.len() < MAX_KEYS || failures.contains_key(&key) {
                failures.entry(key).or_default().push_back(now);
            }
        }
    }

    /// A successful sign-in forgets the account's failures (not the address's).
    pub fn succeeded(&self, account: &str, now: Instant) {
        let _ = now;
        if let Ok(mut failures) = self.failures.lock() {
            let [(key, _), _] = Self::keys(account, None);
            failures.remove(&key);
        }
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
