//! Drives a plugin through its C entry points in-process, the way the host does after
//! loading it: the same vtable, JSON and panic handling, without `dlopen`. For a plugin's
//! own tests (`cargo xtask plugin new` generates one).

#![allow(unsafe_code)]

use std::ffi::c_void;

use baton_plugin_abi::{Buffer, Bytes, PluginVTable, STATUS_ERROR, STATUS_OK, STATUS_PANIC};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::PluginError;

/// How a call through the ABI ended, when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    Plugin(PluginError),
    Panic(String),
    /// The plugin answered something that is not the expected JSON.
    Invalid(String),
}

/// An instance created through the vtable's `init`.
#[derive(Debug)]
pub struct Instance {
    vtable: &'static PluginVTable,
    instance: *mut c_void,
}

impl Instance {
    /// Calls `init` with `config` (serialized to JSON). `vtable` is the plugin's
    /// `baton_plugin_vtable_v1` function, which the declare macros generate.
    pub fn new(
        vtable: extern "C" fn() -> *const PluginVTable,
        config: &impl Serialize,
    ) -> Result<Self, CallError> {
        // SAFETY: the declare macros make this function return a pointer to a static.
        let vtable =
            unsafe { vtable().as_ref() }.ok_or_else(|| CallError::Invalid("null vtable".into()))?;
        let config = serde_json::to_vec(config).map_err(|e| CallError::Invalid(e.to_string()))?;
        let mut instance: *mut c_void = std::ptr::null_mut();
        let mut out = Buffer::EMPTY;
        // SAFETY: the arguments follow the ABI: a null host (logs dropped), borrowed
        // config bytes alive across the call, valid out-pointers.
        let status = unsafe {
            (vtable.init)(
                std::ptr::null(),
                Bytes::new(&config),
                &mut instance,
                &mut out,
            )
        };
        let bytes = take(vtable, out);
        finish(status, bytes)?;
        Ok(Instance { vtable, instance })
    }

    /// Calls `op` with `input` and decodes the answer.
    pub fn call<T: DeserializeOwned>(
        &self,
        op: &str,
        input: &impl Serialize,
    ) -> Result<T, CallError> {
        let input = serde_json::to_vec(input).map_err(|e| CallError::Invalid(e.to_string()))?;
        let mut out = Buffer::EMPTY;
        // SAFETY: `instance` came from a successful `init` of this vtable; inputs are
        // borrowed for the call.
        let status = unsafe {
            (self.vtable.call)(
                self.instance,
                Bytes::new(op.as_bytes()),
                Bytes::new(&input),
                &mut out,
            )
        };
        let bytes = take(self.vtable, out);
        finish(status, bytes.clone())?;
        serde_json::from_slice(&bytes).map_err(|e| CallError::Invalid(e.to_string()))
    }
}

fn take(vtable: &PluginVTable, out: Buffer) -> Vec<u8> {
    if out.ptr.is_null() {
        return Vec::new();
    }
    // SAFETY: the plugin filled `out` with `len` initialized bytes it owns.
    let bytes = unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec();
    // SAFETY: handed back once, to the plugin that allocated it.
    unsafe { (vtable.free_buf)(out) };
    bytes
}

fn finish(status: u32, bytes: Vec<u8>) -> Result<(), CallError> {
    match status {
        STATUS_OK => Ok(()),
        STATUS_ERROR => Err(match serde_json::from_slice(&bytes) {
            Ok(error) => CallError::Plugin(error),
            Err(e) => CallError::Invalid(e.to_string()),
        }),
        STATUS_PANIC => Err(CallError::Panic(
            String::from_utf8_lossy(&bytes).into_owned(),
        )),
        other => Err(CallError::Invalid(format!("unknown status {other}"))),
    }
}
