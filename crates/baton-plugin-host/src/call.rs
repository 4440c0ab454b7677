//! Calling an instance through its vtable: borrowed input bytes in, the plugin's output
//! buffer copied out and handed back to its `free_buf`, the status read into a result,
//! and the outcome counted in the instance's health.
//!
//! The plugin's code runs on the calling thread. `call_json` therefore moves it to
//! tokio's blocking pool and bounds the wait: a slow plugin cannot stall an async worker,
//! though a plugin that never returns keeps its blocking thread (Rust cannot stop a thread
//! from outside).

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::time::Duration;

use baton_plugin_abi::{Buffer, Bytes, CallFn, FreeBufFn, STATUS_ERROR, STATUS_OK, STATUS_PANIC};
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::{CallError, Plugin};

/// The callable half of an instance: the instance pointer and the two vtable functions a
/// call needs, copied out of the vtable at load time.
pub(crate) struct Entry {
    instance: *mut c_void,
    call: CallFn,
    free_buf: FreeBufFn,
}

// SAFETY: an instance is shared by every thread that calls the plugin. The ABI's contract,
// which the SDK enforces by requiring `Send + Sync + 'static` plugin types and calling them
// through `&self`, is that `call` may run concurrently on one instance from any thread;
// instances are never freed and the library holding the functions is never unloaded, so
// the pointers stay valid wherever the entry goes.
unsafe impl Send for Entry {}
// SAFETY: as for `Send`: the entry is only read, and the plugin synchronizes itself.
unsafe impl Sync for Entry {}

impl Entry {
    /// # Safety
    /// `instance` must come from a successful `init` of the vtable that `call` and
    /// `free_buf` were read from, in a library that is never unloaded.
    pub(crate) unsafe fn new(instance: *mut c_void, call: CallFn, free_buf: FreeBufFn) -> Entry {
        Entry {
            instance,
            call,
            free_buf,
        }
    }

    /// One call through the ABI, its status read but its output not yet decoded.
    fn invoke(&self, name: &str, op: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        let mut out = Buffer::EMPTY;
        // SAFETY: `instance` and `call` belong together (see `new`); `op` and `input` are
        // borrowed for the duration of the call as the ABI requires; `out` is a valid
        // place for the plugin to write its buffer.
        let status = unsafe {
            (self.call)(
                self.instance,
                Bytes::new(op.as_bytes()),
                Bytes::new(input),
                &mut out,
            )
        };
        // SAFETY: `out` was filled by this plugin's `call` (or left empty).
        let bytes = unsafe { take(self.free_buf, out) };
        status_result(name, status, bytes)
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

/// Copies a plugin's output buffer and gives the buffer back to the plugin, whose
/// allocator owns it (the host may not free it: the plugin has its own copy of `std`).
///
/// # Safety
/// `out` must be empty (null `ptr`) or a buffer the plugin owning `free_buf` filled with
/// `len` initialized bytes, not yet freed.
pub(crate) unsafe fn take(free_buf: FreeBufFn, out: Buffer) -> Vec<u8> {
    if out.ptr.is_null() {
        return Vec::new();
    }
    // SAFETY: per this function's contract, `ptr` points at `len` initialized bytes.
    let bytes = unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec();
    // SAFETY: handed back exactly once, to the plugin that allocated it.
    unsafe { free_buf(out) };
    bytes
}

/// Reads a call's status: the output on success, the matching error otherwise.
pub(crate) fn status_result(name: &str, status: u32, bytes: Vec<u8>) -> Result<Vec<u8>, CallError> {
    match status {
        STATUS_OK => Ok(bytes),
        STATUS_ERROR => match serde_json::from_slice(&bytes) {
            Ok(error) => Err(CallError::Plugin(error)),
            Err(error) => Err(invalid(
                name,
                format!(
                    "an error status with an unreadable error ({error}): {}",
                    excerpt(&bytes)
                ),
            )),
        },
        STATUS_PANIC => Err(CallError::Panic {
            name: name.to_owned(),
            message: String::from_utf8_lossy(&bytes).into_owned(),
        }),
        other => Err(invalid(name, format!("unknown status {other}"))),
    }
}

fn invalid(name: &str, message: String) -> CallError {
    CallError::InvalidOutput {
        name: name.to_owned(),
        message,
    }
}

/// The start of some output, for an error message: bounded, and readable whatever it is.
fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]).into_owned();
    if bytes.len() > MAX {
        format!("{text:?}... ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

fn encode<I: Serialize + ?Sized>(name: &str, input: &I) -> Result<Vec<u8>, CallError> {
    serde_json::to_vec(input).map_err(|error| CallError::InvalidInput {
        name: name.to_owned(),
        message: error.to_string(),
    })
}

fn decode<O: DeserializeOwned>(name: &str, op: &str, bytes: &[u8]) -> Result<O, CallError> {
    serde_json::from_slice(bytes).map_err(|error| {
        invalid(
            name,
            format!(
                "the answer to {op:?} is not the expected JSON ({error}): {}",
                excerpt(bytes)
            ),
        )
    })
}

impl Plugin {
    /// Enters the plugin unless it is disabled (checked again on the blocking pool: the
    /// plugin may have been disabled while the call waited for a thread).
    fn enter(&self, op: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        self.inner.health.check(self.name())?;
        self.inner.entry.invoke(self.name(), op, input)
    }

    /// Calls `op` with JSON `input` on this thread and returns the JSON answer, checked to
    /// be well-formed JSON. The plugin runs on the calling thread for as long as it takes.
    pub fn call(&self, op: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        self.call_with(op, input, |bytes| {
            decode::<IgnoredAny>(self.name(), op, &bytes).map(|_| bytes)
        })
    }

    /// Like [`Plugin::call_json`], on this thread and without a timeout.
    pub fn call_json_blocking<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        op: &str,
        input: &I,
    ) -> Result<O, CallError> {
        let input = encode(self.name(), input)?;
        self.call_with(op, &input, |bytes| decode(self.name(), op, &bytes))
    }

    fn call_with<O>(
        &self,
        op: &str,
        input: &[u8],
        read: impl FnOnce(Vec<u8>) -> Result<O, CallError>,
    ) -> Result<O, CallError> {
        self.inner.health.check(self.name())?;
        self.inner.health.begin();
        let outcome = self
            .inner
            .entry
            .invoke(self.name(), op, input)
            .and_then(read);
        self.inner.health.record(self.name(), &outcome);
        outcome
    }

    /// Calls `op` with `input` as JSON and decodes the JSON answer, running the plugin on
    /// tokio's blocking pool and giving up after `timeout`. A timeout counts as an error
    /// in [`Plugin::health`]; the call's late answer is dropped, but a late panic still
    /// counts toward disabling the plugin.
    pub async fn call_json<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        op: &str,
        input: &I,
        timeout: Duration,
    ) -> Result<O, CallError> {
        let health = &self.inner.health;
        health.check(self.name())?;
        let input = encode(self.name(), input)?;
        health.begin();
        let plugin = self.clone();
        let task_op = op.to_owned();
        let task = tokio::task::spawn_blocking(move || {
            let outcome = plugin.enter(&task_op, &input);
            // Counted here, not by the waiting side, so that a panic after a timeout
            // still counts toward disabling.
            if matches!(outcome, Err(CallError::Panic { .. })) {
                plugin.inner.health.record(plugin.name(), &outcome);
            }
            outcome
        });
        let outcome = match tokio::time::timeout(timeout, task).await {
            Ok(Ok(outcome)) => outcome.and_then(|bytes| decode(self.name(), op, &bytes)),
            Ok(Err(join)) => Err(self.lost(join)),
            Err(_) => Err(CallError::Timeout {
                name: self.name().to_owned(),
                after: timeout,
            }),
        };
        if !matches!(outcome, Err(CallError::Panic { .. })) {
            health.record(self.name(), &outcome);
        }
        outcome
    }

    /// The blocking task ended without an outcome: the host's side panicked (the plugin's
    /// panics are caught inside it) or the runtime is shutting down.
    fn lost(&self, join: tokio::task::JoinError) -> CallError {
        let name = self.name().to_owned();
        if join.is_panic() {
            CallError::Panic {
                name,
                message: format!("the host's call task panicked: {join}"),
            }
        } else {
            invalid(
                &name,
                format!("the call was cancelled before it answered: {join}"),
            )
        }
    }
}
