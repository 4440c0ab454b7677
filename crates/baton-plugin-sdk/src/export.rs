//! The generated side of the ABI: the `extern "C"` entry points every plugin shares,
//! generic over the plugin type. Used through the `declare_*_plugin!` macros only.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use baton_plugin_abi::{
    ABI_VERSION, Buffer, Bytes, HostApi, PluginVTable, STATUS_ERROR, STATUS_OK, STATUS_PANIC,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::channel::{
    ChannelPlugin, HttpRequest, HttpResponse, OP_DELIVERY, OP_HANDSHAKE, OP_INBOUND, OP_OUTBOUND,
    OutboundMessage,
};
use crate::matcher::{FindInput, FindOutput, OP_FIND, TriggerMatcher};
use crate::{ErrorKind, Host, PluginError};

/// A plugin as the ABI sees it: built from JSON config, called with an op and JSON input.
pub trait Exported: Sized + Send + Sync + 'static {
    fn init(config: &[u8], host: Host) -> Result<Self, PluginError>;
    fn call(&self, op: &str, input: &[u8]) -> Result<Vec<u8>, PluginError>;
}

/// The vtable for `E`; `name` is the plugin crate's name.
pub const fn vtable<E: Exported>(kind: u32, name: &'static str) -> PluginVTable {
    PluginVTable {
        struct_size: size_of::<PluginVTable>(),
        abi_version: ABI_VERSION,
        kind,
        name: Bytes::new(name.as_bytes()),
        sdk_version: Bytes::new(crate::SDK_VERSION.as_bytes()),
        init: init::<E>,
        call: call::<E>,
        free_buf,
    }
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, PluginError> {
    serde_json::from_slice(bytes)
        .map_err(|error| PluginError::new(ErrorKind::BadRequest, format!("{what}: {error}")))
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(value).map_err(|error| PluginError::internal(error.to_string()))
}

fn config<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PluginError> {
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    serde_json::from_slice(bytes)
        .map_err(|error| PluginError::config(format!("invalid config: {error}")))
}

/// A [`TriggerMatcher`] behind the ABI.
#[derive(Debug)]
pub struct MatcherExport<M>(M);

impl<M: TriggerMatcher> Exported for MatcherExport<M> {
    fn init(bytes: &[u8], host: Host) -> Result<Self, PluginError> {
        M::new(config(bytes)?, host).map(MatcherExport)
    }

    fn call(&self, op: &str, input: &[u8]) -> Result<Vec<u8>, PluginError> {
        match op {
            OP_FIND => {
                let input: FindInput = decode("find input", input)?;
                encode(&FindOutput {
                    hit: self.0.find(&input)?,
                })
            }
            other => Err(unknown(other)),
        }
    }
}

/// A [`ChannelPlugin`] behind the ABI.
#[derive(Debug)]
pub struct ChannelExport<C>(C);

impl<C: ChannelPlugin> Exported for ChannelExport<C> {
    fn init(bytes: &[u8], host: Host) -> Result<Self, PluginError> {
        C::new(config(bytes)?, host).map(ChannelExport)
    }

    fn call(&self, op: &str, input: &[u8]) -> Result<Vec<u8>, PluginError> {
        match op {
            OP_HANDSHAKE => encode(
                &self
                    .0
                    .handshake(&decode::<HttpRequest>("request", input)?)?,
            ),
            OP_INBOUND => encode(&self.0.inbound(&decode::<HttpRequest>("request", input)?)?),
            OP_OUTBOUND => encode(
                &self
                    .0
                    .outbound(&decode::<OutboundMessage>("message", input)?)?,
            ),
            OP_DELIVERY => encode(&self.0.delivery(&decode::<HttpResponse>("response", input)?)),
            other => Err(unknown(other)),
        }
    }
}

fn unknown(op: &str) -> PluginError {
    PluginError::new(
        ErrorKind::UnknownOperation,
        format!("unknown operation {op:?}"),
    )
}

/// Borrows the bytes behind `bytes`.
///
/// # Safety
/// `bytes` must be empty or point at `len` readable bytes that outlive the result.
unsafe fn slice<'a>(bytes: Bytes) -> &'a [u8] {
    if bytes.ptr.is_null() || bytes.len == 0 {
        &[]
    } else {
        // SAFETY: the caller (the host, by the ABI contract) passes `len` readable bytes
        // that stay alive for the duration of the call.
        unsafe { std::slice::from_raw_parts(bytes.ptr, bytes.len) }
    }
}

/// Moves `bytes` into `out` for the host to copy and give back to [`free_buf`].
///
/// # Safety
/// `out` must be null or valid for writes.
unsafe fn put(out: *mut Buffer, bytes: Vec<u8>) {
    if out.is_null() {
        return;
    }
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    let buffer = Buffer {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        cap: bytes.capacity(),
    };
    // SAFETY: `out` is non-null and, by the ABI contract, points at a `Buffer` the host
    // owns; ownership of the allocation passes to the host until `free_buf`.
    unsafe { out.write(buffer) };
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs `f` with panics caught and writes its outcome to `out`.
///
/// # Safety
/// `out` must be null or valid for writes.
unsafe fn guard(out: *mut Buffer, f: impl FnOnce() -> Result<Vec<u8>, PluginError>) -> u32 {
    let (status, bytes) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(bytes)) => (STATUS_OK, bytes),
        Ok(Err(error)) => (
            STATUS_ERROR,
            serde_json::to_vec(&error).unwrap_or_else(|_| b"{}".to_vec()),
        ),
        Err(payload) => (STATUS_PANIC, panic_message(&*payload).into_bytes()),
    };
    // SAFETY: forwarded from the caller.
    unsafe { put(out, bytes) };
    status
}

/// # Safety
/// Called by the host per the ABI: `host` null or a valid `HostApi`, `config` readable,
/// `instance` and `out` valid for writes.
unsafe extern "C" fn init<E: Exported>(
    host: *const HostApi,
    config: Bytes,
    instance: *mut *mut c_void,
    out: *mut Buffer,
) -> u32 {
    // SAFETY: per this function's contract.
    unsafe {
        guard(out, || {
            let api = if host.is_null() {
                None
            } else {
                let api = host.read();
                (api.struct_size >= size_of::<HostApi>()).then_some(api)
            };
            let plugin = E::init(slice(config), Host::new(api))?;
            if instance.is_null() {
                return Err(PluginError::internal("no place for the instance"));
            }
            instance.write(Box::into_raw(Box::new(plugin)).cast());
            Ok(Vec::new())
        })
    }
}

/// # Safety
/// Called by the host per the ABI: `instance` from a successful `init` of the same
/// plugin, `op` and `input` readable, `out` valid for writes.
unsafe extern "C" fn call<E: Exported>(
    instance: *mut c_void,
    op: Bytes,
    input: Bytes,
    out: *mut Buffer,
) -> u32 {
    // SAFETY: per this function's contract; instances are never freed, so the reference
    // is valid for as long as the host may call.
    unsafe {
        guard(out, || {
            let plugin = instance.cast::<E>().as_ref().ok_or_else(|| {
                PluginError::internal("call on a null instance (init did not succeed)")
            })?;
            let op = std::str::from_utf8(slice(op))
                .map_err(|_| PluginError::bad_request("operation name is not UTF-8"))?;
            plugin.call(op, slice(input))
        })
    }
}

/// # Safety
/// `buffer` must come from this plugin's `init` or `call`, and be freed once.
unsafe extern "C" fn free_buf(buffer: Buffer) {
    if !buffer.ptr.is_null() {
        // SAFETY: `put` built this buffer from a `Vec<u8>` with exactly these parts.
        drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) });
    }
}
