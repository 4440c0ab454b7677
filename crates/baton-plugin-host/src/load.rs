//! Opening a plugin library and creating an instance, checking at each step that the
//! library is what it claims before trusting the next thing it hands over: the ABI tag
//! (magic, then version) before the vtable symbol is even resolved, then the vtable's
//! size, version and kind, then `init`.
//!
//! Libraries are never unloaded. Their vtables, functions and the instances they created
//! are referenced for the life of the process, a plugin may keep the host's `HostApi`,
//! and unloading Rust code that may have registered thread-local destructors or spawned
//! anything is unsound; so every opened `Library` is leaked on purpose. Two entries that
//! name the same file share one mapping (`dlopen` returns the same handle), each with its
//! own instance.

#![allow(unsafe_code)]

use std::collections::HashSet;
use std::ffi::c_void;
use std::path::{Path, PathBuf};

use baton_plugin_abi::{
    ABI_SYMBOL, ABI_VERSION, Buffer, Bytes, MAGIC, PluginVTable, VTABLE_SYMBOL, split_tag,
};
use libloading::Library;

use crate::call::{Entry, status_result, take};
use crate::health::Tracker;
use crate::plugin::Inner;
use crate::{CallError, Kind, LoadError, Plugin, PluginSpec, logs};

type AbiFn = unsafe extern "C" fn() -> u64;
type VtableFn = unsafe extern "C" fn() -> *const PluginVTable;

/// Loads every entry, in order. A bad entry is reported (returned, and logged with the
/// entry's name) and skipped; a second entry with a name already used is refused without
/// being opened, whether or not the first one loaded.
pub fn load_all(specs: &[PluginSpec]) -> (Vec<Plugin>, Vec<LoadError>) {
    let mut seen = HashSet::new();
    let mut plugins = Vec::new();
    let mut errors = Vec::new();
    for spec in specs {
        let outcome = if seen.insert(spec.name.as_str()) {
            load(spec)
        } else {
            Err(LoadError::Duplicate {
                name: spec.name.clone(),
                path: spec.path.clone(),
            })
        };
        match outcome {
            Ok(plugin) => {
                tracing::info!(
                    plugin = %plugin.name(),
                    kind = %plugin.kind(),
                    crate_name = %plugin.crate_name(),
                    sdk_version = %plugin.sdk_version(),
                    path = %plugin.path().display(),
                    "plugin loaded"
                );
                plugins.push(plugin);
            }
            Err(error) => {
                tracing::error!(plugin = %spec.name, %error, "plugin skipped");
                errors.push(error);
            }
        }
    }
    (plugins, errors)
}

/// Opens `spec.path`, checks it, and creates an instance with `spec.config`.
pub fn load(spec: &PluginSpec) -> Result<Plugin, LoadError> {
    let name = || spec.name.clone();
    let path = || spec.path.clone();

    let library = open(&spec.path).map_err(|message| LoadError::Open {
        name: name(),
        path: path(),
        message,
    })?;
    // Never unloaded: see the module documentation.
    let library: &'static Library = Box::leak(Box::new(library));
    let missing = |symbol| LoadError::MissingSymbol {
        name: name(),
        path: path(),
        symbol,
    };

    // SAFETY: the ABI gives this symbol the type `AbiFn`; a library that exports
    // something else under a Baton-reserved name cannot be defended against.
    let abi: AbiFn =
        *unsafe { library.get::<AbiFn>(ABI_SYMBOL.as_bytes()) }.map_err(|_| missing(ABI_SYMBOL))?;
    // SAFETY: a function without arguments returning an integer, per the ABI.
    let (magic, version) = split_tag(unsafe { abi() });
    if magic != MAGIC {
        return Err(LoadError::NotAPlugin {
            name: name(),
            path: path(),
            magic,
        });
    }
    let mismatch = |plugin_abi| abi_mismatch(spec, plugin_abi);
    if version != ABI_VERSION {
        return Err(mismatch(version));
    }

    // SAFETY: the tag says ABI version 1, which gives this symbol the type `VtableFn`.
    let vtable_fn: VtableFn = *unsafe { library.get::<VtableFn>(VTABLE_SYMBOL.as_bytes()) }
        .map_err(|_| missing(VTABLE_SYMBOL))?;
    // SAFETY: as for `abi`.
    let vtable = unsafe { vtable_fn() };
    // SAFETY: the library is leaked above, so the table it returned stays valid.
    unsafe { instantiate(spec, vtable) }
}

/// Creates an instance from a plugin crate linked into this binary (as an rlib), given
/// its `baton_plugin_vtable_v1` function: every check and call of [`load`] after the
/// symbol lookup, through the same ABI. For the fuzz targets (`fuzz/`), which have to
/// drive plugins and read their answers the way the host does, without a separately
/// built library; `spec.path` is only reported.
#[doc(hidden)]
pub fn load_linked(
    spec: &PluginSpec,
    vtable_fn: extern "C" fn() -> *const PluginVTable,
) -> Result<Plugin, LoadError> {
    // SAFETY: code linked into this binary is never unloaded; what the function returned
    // is checked as for a library.
    unsafe { instantiate(spec, vtable_fn()) }
}

/// A plugin built for another ABI version than this host's.
fn abi_mismatch(spec: &PluginSpec, plugin_abi: u32) -> LoadError {
    LoadError::AbiMismatch {
        name: spec.name.clone(),
        path: spec.path.clone(),
        plugin_abi,
        host_abi: ABI_VERSION,
        sdk_version: baton_plugin_sdk::SDK_VERSION,
    }
}

/// Checks the vtable's size, version and kind, then creates the instance.
///
/// # Safety
/// `vtable` must be null or point at memory that stays valid for the life of the process
/// (a vtable function's answer, in a library that is never unloaded).
unsafe fn instantiate(spec: &PluginSpec, vtable: *const PluginVTable) -> Result<Plugin, LoadError> {
    let name = || spec.name.clone();
    let path = || spec.path.clone();
    let needed = size_of::<PluginVTable>();
    let too_small = |size| LoadError::VtableTooSmall {
        name: name(),
        path: path(),
        size,
        needed,
    };
    if vtable.is_null() || !vtable.is_aligned() {
        return Err(too_small(0));
    }
    // SAFETY: non-null and aligned; every version of the vtable starts with
    // `struct_size`, so reading that one field stays inside a smaller, older table.
    let size = unsafe { std::ptr::addr_of!((*vtable).struct_size).read() };
    if size < needed {
        return Err(too_small(size));
    }
    // SAFETY: the table is at least as large as the struct this host reads, and it is a
    // static in a library that is never unloaded.
    let vtable: &'static PluginVTable = unsafe { &*vtable };
    let mismatch = |plugin_abi| abi_mismatch(spec, plugin_abi);
    if vtable.abi_version != ABI_VERSION {
        return Err(mismatch(vtable.abi_version));
    }
    let kind = Kind::from_abi(vtable.kind).ok_or_else(|| LoadError::UnknownKind {
        name: name(),
        path: path(),
        kind: vtable.kind,
    })?;

    let instance = init(spec, vtable).map_err(|message| LoadError::InitFailed {
        name: name(),
        path: path(),
        message,
    })?;
    // SAFETY: the vtable's strings point at statics of the plugin (ABI).
    let crate_name = unsafe { text(vtable.name) };
    // SAFETY: as above.
    let sdk_version = unsafe { text(vtable.sdk_version) };
    Ok(Plugin::new(Inner {
        name: name(),
        kind,
        crate_name,
        sdk_version,
        abi_version: vtable.abi_version,
        path: path(),
        // SAFETY: `instance` comes from this vtable's successful `init`, and the library
        // is leaked above.
        entry: unsafe { Entry::new(instance, vtable.call, vtable.free_buf) },
        health: Tracker::default(),
    }))
}

/// `dlopen`s the file. Binding every symbol now (`RTLD_NOW`) makes a library with an
/// unresolvable dependency fail here, with a message, instead of killing the process at
/// its first call.
fn open(path: &Path) -> Result<Library, String> {
    // A bare file name would be searched for in the system's library path; the config
    // means a file relative to the working directory.
    let path: PathBuf = if path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
        Path::new(".").join(path)
    } else {
        path.to_owned()
    };
    #[cfg(unix)]
    let opened = {
        use libloading::os::unix::{Library as UnixLibrary, RTLD_LOCAL, RTLD_NOW};
        // SAFETY: loading runs the library's initializers; loading a plugin means trusting
        // its code, which the operator chose by configuring it.
        unsafe { UnixLibrary::open(Some(&path), RTLD_NOW | RTLD_LOCAL) }.map(Library::from)
    };
    #[cfg(not(unix))]
    // SAFETY: as above.
    let opened = unsafe { Library::new(&path) };
    opened.map_err(|error| {
        // The loader's message usually starts with the path, which `LoadError` names already.
        let message = error.to_string();
        let prefix = format!("{}: ", path.display());
        message
            .strip_prefix(&prefix)
            .map_or_else(|| message.clone(), str::to_owned)
    })
}

/// Creates the instance. The error is a sentence for [`LoadError::InitFailed`].
fn init(spec: &PluginSpec, vtable: &PluginVTable) -> Result<*mut c_void, String> {
    let config = if spec.config.is_null() {
        b"{}".to_vec()
    } else {
        serde_json::to_vec(&spec.config).map_err(|error| format!("config: {error}"))?
    };
    let host = logs::host_api(&spec.name);
    let mut instance: *mut c_void = std::ptr::null_mut();
    let mut out = Buffer::EMPTY;
    // SAFETY: arguments per the ABI: a `HostApi` that lives forever, config bytes borrowed
    // across the call, and valid places for the instance and the output buffer.
    let status = unsafe { (vtable.init)(host, Bytes::new(&config), &mut instance, &mut out) };
    // SAFETY: `out` was filled by this plugin's `init` (or left empty).
    let bytes = unsafe { take(vtable.free_buf, out) };
    match status_result(&spec.name, status, bytes) {
        Ok(_) if instance.is_null() => Err("init reported success but gave no instance".into()),
        Ok(_) => Ok(instance),
        Err(CallError::Plugin(error)) => Err(error.message),
        Err(CallError::Panic { message, .. }) => Err(format!("init panicked: {message}")),
        Err(other) => Err(other.to_string()),
    }
}

/// A vtable string, copied; never fails (invalid UTF-8 is replaced, null is empty).
///
/// # Safety
/// `bytes` must be null or point at `len` readable bytes.
unsafe fn text(bytes: Bytes) -> String {
    if bytes.ptr.is_null() {
        return String::new();
    }
    // SAFETY: per this function's contract.
    let slice = unsafe { std::slice::from_raw_parts(bytes.ptr, bytes.len) };
    String::from_utf8_lossy(slice).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn a_bare_file_name_means_the_working_directory_not_the_library_path() {
        // `libc.so.6` is on every glibc system's library path, never in this crate's
        // directory: found there, it would have been searched for.
        let error = open(Path::new("libc.so.6"))
            .map(|_| ())
            .expect_err("not searched");
        assert!(error.contains("No such file"), "{error}");
    }
}
