//! What a plugin returns, as the host parses it. A stand-in plugin linked into this
//! binary answers every call with the fuzzer's status and bytes; the host loads it
//! through `load_linked` and calls it through the ABI, so the answer goes through the
//! host's own copy-out, `free_buf`, status reading and typed decoding (`Inbound`,
//! `OutboundRequest`, `Delivery`, `WebhookResponse`, the matcher's `find`). A plugin is
//! code the operator chose, but its answers are still not trusted: any panic is a bug.
#![no_main]
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::ffi::c_void;
use std::path::PathBuf;
use std::ptr::NonNull;

use baton_plugin_abi::{
    ABI_VERSION, Buffer, Bytes, HostApi, KIND_CHANNEL, KIND_TRIGGER_MATCHER, PluginVTable,
    STATUS_ERROR, STATUS_OK, STATUS_PANIC,
};
use baton_plugin_host::{
    Delivery, HealthState, Inbound, Matcher, OutboundRequest, Plugin, PluginSpec, WebhookResponse,
};
use baton_plugin_sdk::channel::{OP_DELIVERY, OP_HANDSHAKE, OP_INBOUND, OP_OUTBOUND};
use libfuzzer_sys::fuzz_target;

thread_local! {
    /// The status and bytes the next call answers with.
    static ANSWER: RefCell<(u32, Vec<u8>)> = const { RefCell::new((STATUS_OK, Vec::new())) };
    static PLUGINS: RefCell<Option<(Plugin, Plugin)>> = const { RefCell::new(None) };
}

unsafe extern "C" fn init(
    _host: *const HostApi,
    _config: Bytes,
    instance: *mut *mut c_void,
    _out: *mut Buffer,
) -> u32 {
    // SAFETY: the host passes a valid place for the instance.
    unsafe { *instance = NonNull::<u8>::dangling().as_ptr().cast() };
    STATUS_OK
}

unsafe extern "C" fn call(
    _instance: *mut c_void,
    _op: Bytes,
    _input: Bytes,
    out: *mut Buffer,
) -> u32 {
    let (status, bytes) = ANSWER.with(|answer| answer.borrow().clone());
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    // SAFETY: the host passes a valid place for the output buffer.
    unsafe {
        *out = Buffer {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
        }
    };
    status
}

unsafe extern "C" fn free_buf(buffer: Buffer) {
    // SAFETY: the buffer is one `call` leaked above, handed back once.
    drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) });
}

const fn vtable(kind: u32) -> PluginVTable {
    PluginVTable {
        struct_size: size_of::<PluginVTable>(),
        abi_version: ABI_VERSION,
        kind,
        name: Bytes::new(b"fuzz-answers"),
        sdk_version: Bytes::new(b"0.0.0"),
        init,
        call,
        free_buf,
    }
}

static CHANNEL: PluginVTable = vtable(KIND_CHANNEL);
static MATCHER: PluginVTable = vtable(KIND_TRIGGER_MATCHER);

extern "C" fn channel_vtable() -> *const PluginVTable {
    &CHANNEL
}

extern "C" fn matcher_vtable() -> *const PluginVTable {
    &MATCHER
}

fn load(name: &str, vtable: extern "C" fn() -> *const PluginVTable) -> Plugin {
    let spec = PluginSpec {
        name: name.to_owned(),
        path: PathBuf::from("(linked)"),
        config: serde_json::Value::Null,
    };
    baton_plugin_host::load_linked(&spec, vtable).expect("the stand-in loads")
}

fn disabled(plugin: &Plugin) -> bool {
    matches!(plugin.health().state, HealthState::Disabled { .. })
}

/// The two stand-ins, loaded again once three answers with a panic status have disabled
/// one (a new instance is what a restart gives, and a disabled one is never called).
fn plugins() -> (Plugin, Plugin) {
    PLUGINS.with(|cell| {
        let mut cell = cell.borrow_mut();
        match &*cell {
            Some((channel, matcher)) if !disabled(channel) && !disabled(matcher) => {
                (channel.clone(), matcher.clone())
            }
            _ => {
                let fresh = (
                    load("channel", channel_vtable),
                    load("matcher", matcher_vtable),
                );
                *cell = Some(fresh.clone());
                fresh
            }
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let [op, status, bytes @ ..] = data else {
        return;
    };
    let status = match status {
        0..=0x9f => STATUS_OK,
        0xa0..=0xef => STATUS_ERROR,
        0xf0..=0xfe => STATUS_PANIC,
        _ => u32::from(*op) + 3,
    };
    ANSWER.with(|answer| *answer.borrow_mut() = (status, bytes.to_vec()));
    let (channel, matcher) = plugins();
    match op % 6 {
        0 => drop(channel.call_json_blocking::<_, Inbound>(OP_INBOUND, &())),
        1 => drop(channel.call_json_blocking::<_, OutboundRequest>(OP_OUTBOUND, &())),
        2 => drop(channel.call_json_blocking::<_, Delivery>(OP_DELIVERY, &())),
        3 => drop(channel.call_json_blocking::<_, WebhookResponse>(OP_HANDSHAKE, &())),
        4 => drop(channel.call(OP_INBOUND, b"{}")),
        _ => {
            let matcher = Matcher::new(matcher).expect("a matcher");
            drop(matcher.find_blocking("text", Some("chat")));
        }
    }
});
