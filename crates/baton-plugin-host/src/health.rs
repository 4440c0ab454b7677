//! Per-instance call accounting and the circuit that disables a plugin which keeps
//! panicking: the SDK catches each panic, but a plugin that panics again and again is
//! broken, may have left its own state inconsistent, and floods the logs, so after
//! [`PANICS_BEFORE_DISABLED`] the host stops calling it until restart. A plugin that
//! keeps hanging is disabled too, after [`TIMEOUTS_BEFORE_DISABLED`] timeouts in a row:
//! each hung call keeps a thread of the blocking pool and delays every message it was
//! asked about, so a hang that lasts would wear the host down.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;

use crate::CallError;

/// Panics after which an instance is disabled.
pub const PANICS_BEFORE_DISABLED: u64 = 3;

/// Timeouts in a row (no call completing between them) after which an instance is
/// disabled; one slow call under load is not enough.
pub const TIMEOUTS_BEFORE_DISABLED: u64 = 5;

/// A snapshot of an instance's health, as `GET /api/v1/plugins` shows it:
/// `{"state":"disabled","reason":"...","calls":7,"errors":1,"panics":3}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    #[serde(flatten)]
    pub state: HealthState,
    /// Calls made into the plugin (not those refused because it was disabled).
    pub calls: u64,
    /// Calls that ended in a plugin error, invalid output or a timeout (not panics).
    pub errors: u64,
    /// Calls that panicked.
    pub panics: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HealthState {
    Healthy,
    /// No longer called; `reason` names the last panic.
    Disabled {
        reason: String,
    },
}

/// The live counters behind [`Health`], shared by every clone of a plugin.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    calls: AtomicU64,
    errors: AtomicU64,
    panics: AtomicU64,
    /// Timeouts since the last call that completed.
    timeouts_in_a_row: AtomicU64,
    /// Read on every call, so a flag rather than the mutex.
    disabled: AtomicBool,
    reason: Mutex<Option<String>>,
}

impl Tracker {
    pub(crate) fn snapshot(&self) -> Health {
        let state = match self.reason() {
            Some(reason) => HealthState::Disabled { reason },
            None => HealthState::Healthy,
        };
        Health {
            state,
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            panics: self.panics.load(Ordering::Relaxed),
        }
    }

    fn reason(&self) -> Option<String> {
        // A poisoned lock only means a thread panicked while holding it; the string inside
        // is still whole.
        self.reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// `Err(Disabled)` when the plugin must not be called any more.
    pub(crate) fn check(&self, name: &str) -> Result<(), CallError> {
        if !self.disabled.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(CallError::Disabled {
            name: name.to_owned(),
            reason: self.reason().unwrap_or_default(),
        })
    }

    /// A call is about to enter the plugin.
    pub(crate) fn begin(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts how a call ended, and disables the plugin on its last allowed panic.
    pub(crate) fn record<T>(&self, name: &str, outcome: &Result<T, CallError>) {
        match outcome {
            Ok(_) => self.timeouts_in_a_row.store(0, Ordering::Relaxed),
            // Not the plugin's doing: it was not called.
            Err(CallError::Disabled { .. } | CallError::InvalidInput { .. }) => {}
            Err(CallError::Plugin(_) | CallError::InvalidOutput { .. }) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                self.timeouts_in_a_row.store(0, Ordering::Relaxed);
            }
            Err(CallError::Timeout { after, .. }) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let in_a_row = self.timeouts_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                if in_a_row >= TIMEOUTS_BEFORE_DISABLED {
                    self.disable(
                        name,
                        format!("timed out {in_a_row} times in a row (after {after:?} each)"),
                    );
                }
            }
            Err(CallError::Panic { message, .. }) => {
                let panics = self.panics.fetch_add(1, Ordering::Relaxed) + 1;
                if panics >= PANICS_BEFORE_DISABLED {
                    self.disable(
                        name,
                        format!("panicked {panics} times; last panic: {message}"),
                    );
                }
            }
        }
    }

    fn disable(&self, name: &str, text: String) {
        let mut reason = self
            .reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if reason.is_some() {
            return; // already disabled by a concurrent call; log once
        }
        tracing::error!(
            plugin = %name,
            reason = %text,
            "plugin disabled: it will not be called again until the host restarts"
        );
        *reason = Some(text);
        self.disabled.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn panicked(message: &str) -> Result<(), CallError> {
        Err(CallError::Panic {
            name: "p".into(),
            message: message.into(),
        })
    }

    #[test]
    fn three_panics_disable_and_timeouts_are_errors() {
        let tracker = Tracker::default();
        for i in 0..3 {
            assert!(tracker.check("p").is_ok(), "still enabled before panic {i}");
            tracker.begin();
            tracker.record("p", &panicked(&format!("boom {i}")));
        }
        tracker.begin();
        tracker.record::<()>(
            "p",
            &Err(CallError::Timeout {
                name: "p".into(),
                after: Duration::from_millis(1),
            }),
        );
        let health = tracker.snapshot();
        assert_eq!((health.calls, health.errors, health.panics), (4, 1, 3));
        let HealthState::Disabled { reason } = &health.state else {
            panic!("expected disabled, got {health:?}");
        };
        assert!(reason.contains("boom 2"), "{reason}");
        assert!(matches!(
            tracker.check("p"),
            Err(CallError::Disabled { .. })
        ));
        let json = serde_json::to_value(&health).expect("json");
        assert_eq!(json["state"], "disabled");
        assert_eq!(json["panics"], 3);
        assert!(
            json["reason"]
                .as_str()
                .is_some_and(|r| r.contains("boom 2"))
        );
    }

    #[test]
    fn timeouts_in_a_row_disable_and_an_answer_resets_the_count() {
        let timeout = || -> Result<(), CallError> {
            Err(CallError::Timeout {
                name: "p".into(),
                after: Duration::from_millis(200),
            })
        };
        let tracker = Tracker::default();
        for _ in 0..TIMEOUTS_BEFORE_DISABLED - 1 {
            tracker.record("p", &timeout());
        }
        tracker.record("p", &Ok(()));
        for _ in 0..TIMEOUTS_BEFORE_DISABLED - 1 {
            tracker.record("p", &timeout());
        }
        assert!(
            tracker.check("p").is_ok(),
            "an answer in between resets the count"
        );
        tracker.record("p", &timeout());
        let HealthState::Disabled { reason } = tracker.snapshot().state else {
            panic!("expected disabled");
        };
        assert!(reason.contains("timed out 5 times in a row"), "{reason}");
        assert!(matches!(
            tracker.check("p"),
            Err(CallError::Disabled { .. })
        ));
    }

    #[test]
    fn healthy_reads_well_in_json() {
        let json = serde_json::to_value(Tracker::default().snapshot()).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"state": "healthy", "calls": 0, "errors": 0, "panics": 0})
        );
    }
}
