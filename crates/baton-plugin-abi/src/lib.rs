//! The C ABI between the Baton host and its plugins (DESIGN.md, "Plugins").
//!
//! Nothing Rust-specific crosses this boundary: plain integers, pointers and
//! `extern "C"` function pointers. Payloads are UTF-8 JSON in byte buffers, so they can
//! evolve with defaults without a new ABI version.
//!
//! A plugin exports two symbols. The host reads [`ABI_SYMBOL`] first — a function
//! returning [`abi_tag`] — and only when magic and version match does it call
//! [`VTABLE_SYMBOL`] and read the [`PluginVTable`], after checking its `struct_size`.
//!
//! Ownership: inputs are borrowed [`Bytes`] valid for the duration of one call; outputs
//! are plugin-owned [`Buffer`]s that the host copies and hands back to `free_buf`.
//!
//! Threads: the host calls one instance from several threads at once (`call` must be
//! thread-safe; the SDK requires plugin types to be `Send + Sync`), and `log` may be
//! called from any thread.
//!
//! Rules for changing this file: fields are only ever appended to a struct (older hosts
//! read the prefix they know, `struct_size` says how much there is); changing or removing
//! a field, or the meaning of a status, is a new [`ABI_VERSION`].

#![no_std]

use core::ffi::c_void;

/// "BATN": the high half of every tag, so that a library exporting a function by the same
/// name by accident is told apart from a Baton plugin.
pub const MAGIC: u32 = u32::from_be_bytes(*b"BATN");

/// The ABI this crate describes.
pub const ABI_VERSION: u32 = 1;

/// `extern "C" fn() -> u64`, returning [`abi_tag`]`(ABI_VERSION)`.
pub const ABI_SYMBOL: &str = "baton_plugin_abi_v1";

/// `extern "C" fn() -> *const PluginVTable`, a pointer to a static vtable.
pub const VTABLE_SYMBOL: &str = "baton_plugin_vtable_v1";

/// The value a plugin's [`ABI_SYMBOL`] returns: magic in the high half, version in the low.
pub const fn abi_tag(version: u32) -> u64 {
    ((MAGIC as u64) << 32) | version as u64
}

/// Splits a tag into (magic, version).
pub const fn split_tag(tag: u64) -> (u32, u32) {
    ((tag >> 32) as u32, tag as u32)
}

/// The call succeeded; `out` holds the JSON result.
pub const STATUS_OK: u32 = 0;
/// The plugin refused or failed cleanly; `out` holds a JSON `PluginError`.
pub const STATUS_ERROR: u32 = 1;
/// The plugin panicked (caught at the boundary); `out` holds the panic message as UTF-8.
pub const STATUS_PANIC: u32 = 2;

/// A messaging channel: verifies and parses webhooks, formats outbound requests.
pub const KIND_CHANNEL: u32 = 1;
/// A trigger matcher: finds a handoff trigger in a visitor message.
pub const KIND_TRIGGER_MATCHER: u32 = 2;

pub const LOG_ERROR: u32 = 1;
pub const LOG_WARN: u32 = 2;
pub const LOG_INFO: u32 = 3;
pub const LOG_DEBUG: u32 = 4;
pub const LOG_TRACE: u32 = 5;

/// A borrowed byte slice. Valid for as long as its owner says: inputs for one call,
/// `name` and `sdk_version` for the life of the process (they point at statics).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Bytes {
    pub ptr: *const u8,
    pub len: usize,
}

impl Bytes {
    pub const EMPTY: Bytes = Bytes {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// Borrows `bytes`; the caller keeps them alive for as long as the result is used.
    pub const fn new(bytes: &[u8]) -> Bytes {
        Bytes {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

/// A buffer the plugin allocated and fills as a call's output; the host gives it back
/// to `free_buf` once it has copied it. `cap` lets the plugin rebuild its allocation.
#[repr(C)]
#[derive(Debug)]
pub struct Buffer {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl Buffer {
    pub const EMPTY: Buffer = Buffer {
        ptr: core::ptr::null_mut(),
        len: 0,
        cap: 0,
    };
}

/// What the host offers the plugin, passed to `init`. The plugin may keep it for the life
/// of the instance: the host never frees `ctx`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct HostApi {
    pub struct_size: usize,
    pub abi_version: u32,
    /// The host's, handed back with every callback (it names the plugin instance).
    pub ctx: *const c_void,
    /// Re-emits a plugin log line in the host's logs (level: `LOG_*`). Thread-safe.
    pub log: extern "C" fn(ctx: *const c_void, level: u32, message: Bytes),
}

/// Creates an instance from the JSON `config`. On success stores the instance in
/// `*instance` and returns [`STATUS_OK`]; otherwise fills `out` with the error.
pub type InitFn = unsafe extern "C" fn(
    host: *const HostApi,
    config: Bytes,
    instance: *mut *mut c_void,
    out: *mut Buffer,
) -> u32;

/// Runs operation `op` (UTF-8, e.g. `"find"`, `"inbound"`) with JSON `input` on an
/// instance and fills `out` with the JSON result or error.
pub type CallFn =
    unsafe extern "C" fn(instance: *mut c_void, op: Bytes, input: Bytes, out: *mut Buffer) -> u32;

/// Frees a buffer the plugin returned.
pub type FreeBufFn = unsafe extern "C" fn(buffer: Buffer);

/// The plugin's table of entry points, a static inside the plugin.
#[repr(C)]
#[derive(Debug)]
pub struct PluginVTable {
    /// `size_of::<PluginVTable>()` as the plugin was compiled: the host refuses a table
    /// smaller than the one it needs.
    pub struct_size: usize,
    pub abi_version: u32,
    /// `KIND_CHANNEL` or `KIND_TRIGGER_MATCHER`.
    pub kind: u32,
    /// The plugin crate's name (UTF-8), for reports; the host's config names instances.
    pub name: Bytes,
    /// The version of `baton-plugin-sdk` the plugin was built with (UTF-8).
    pub sdk_version: Bytes,
    pub init: InitFn,
    pub call: CallFn,
    pub free_buf: FreeBufFn,
}

// SAFETY: a vtable is immutable and its two `Bytes` point at `'static` data inside the
// plugin (the SDK only ever builds them from string literals), which libraries that are
// never unloaded keep alive for the life of the process; sharing it between threads is
// sharing read-only memory.
#[allow(unsafe_code)]
unsafe impl Sync for PluginVTable {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        assert_eq!(split_tag(abi_tag(ABI_VERSION)), (MAGIC, ABI_VERSION));
        assert_eq!(split_tag(abi_tag(7)).1, 7);
        assert_eq!(&MAGIC.to_be_bytes(), b"BATN");
    }
}
