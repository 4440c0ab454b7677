//! The [`HostApi`] handed to each instance's `init`, and its log callback, which re-emits
//! a plugin's log lines through the host's `tracing` at the same level with
//! `plugin = <entry name>`, so they are filtered, formatted and shipped like the host's own.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use baton_plugin_abi::{
    ABI_VERSION, Bytes, HostApi, LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_TRACE, LOG_WARN,
};

/// What the callback's `ctx` points at.
#[derive(Debug)]
struct LogContext {
    name: String,
}

/// A `HostApi` for the instance named `name`. Both it and its context are leaked: the
/// plugin may keep them for the life of the instance, and instances live as long as the
/// process (libraries are never unloaded). A few bytes per configured entry.
pub(crate) fn host_api(name: &str) -> &'static HostApi {
    let context: &'static LogContext = Box::leak(Box::new(LogContext {
        name: name.to_owned(),
    }));
    Box::leak(Box::new(HostApi {
        struct_size: size_of::<HostApi>(),
        abi_version: ABI_VERSION,
        ctx: std::ptr::from_ref(context).cast(),
        log,
    }))
}

/// Called by plugins from any thread. It must not unwind into the plugin's frames (that
/// would abort the process), so everything runs under `catch_unwind`; a line that cannot
/// be logged is dropped.
extern "C" fn log(ctx: *const c_void, level: u32, message: Bytes) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `ctx` is the `LogContext` that `host_api` leaked for this instance (it
        // lives forever), or null from a plugin that did not pass it back.
        let context = unsafe { ctx.cast::<LogContext>().as_ref() };
        let name = context.map_or("<unknown plugin>", |c| c.name.as_str());
        let bytes: &[u8] = if message.ptr.is_null() || message.len == 0 {
            &[]
        } else {
            // SAFETY: the ABI has the plugin pass `len` readable bytes that stay alive
            // for the duration of this callback.
            unsafe { std::slice::from_raw_parts(message.ptr, message.len) }
        };
        // Plugins are meant to log UTF-8; anything else is shown, not refused.
        emit(name, level, &String::from_utf8_lossy(bytes));
    }));
}

fn emit(name: &str, level: u32, message: &str) {
    match level {
        LOG_ERROR => tracing::error!(plugin = %name, "{message}"),
        LOG_WARN => tracing::warn!(plugin = %name, "{message}"),
        LOG_INFO => tracing::info!(plugin = %name, "{message}"),
        LOG_DEBUG => tracing::debug!(plugin = %name, "{message}"),
        LOG_TRACE => tracing::trace!(plugin = %name, "{message}"),
        // A level from a newer SDK: keep the line rather than guess it away.
        other => tracing::info!(plugin = %name, plugin_level = other, "{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_tolerates_nulls_and_invalid_utf8() {
        let api = host_api("t");
        let bad = [0x66, 0x6f, 0xff, 0x6f];
        (api.log)(api.ctx, LOG_INFO, Bytes::new(&bad));
        (api.log)(std::ptr::null(), 42, Bytes::EMPTY);
        (api.log)(
            api.ctx,
            LOG_WARN,
            Bytes {
                ptr: std::ptr::null(),
                len: 5,
            },
        );
    }
}
