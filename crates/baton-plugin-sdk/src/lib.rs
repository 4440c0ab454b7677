//! The Baton plugin SDK: implement [`TriggerMatcher`] or [`ChannelPlugin`], then write one
//! macro line — [`declare_matcher_plugin!`] or [`declare_channel_plugin!`] — and build the
//! crate as a `cdylib`. The macro generates the two exported symbols, the static vtable,
//! `catch_unwind` around every call, the JSON glue and log forwarding to the host.
//!
//! Plugins are sans-IO: no runtime, no sockets, no threads. A channel plugin verifies and
//! parses the webhook requests the host received and formats the HTTP requests the host
//! sends; the host owns the network. See `plugins/README.md` for the rules.

pub mod channel;
mod error;
#[doc(hidden)]
pub mod export;
mod host;
pub mod matcher;
pub mod testing;

pub use baton_plugin_abi as abi;
pub use channel::{
    ChannelPlugin, Delivery, HttpRequest, HttpResponse, Inbound, InboundMessage, OutboundMessage,
    OutboundRequest, WebhookResponse, base_url,
};
pub use error::{ErrorKind, PluginError};
pub use host::{Host, Level};
pub use matcher::{FindInput, Hit, TriggerMatcher};

/// The SDK version a plugin was built with, reported to the host (and shown by
/// `GET /api/v1/plugins`).
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

// A panic must be caught at the boundary and turned into an error; with `panic = "abort"`
// it would take the whole host down instead.
#[cfg(panic = "abort")]
compile_error!(
    "Baton plugins must be built with panic = \"unwind\": a panic in a plugin is caught and \
     reported as an error for that call, which `panic = \"abort\"` makes impossible"
);

/// Exports `$ty` (a [`TriggerMatcher`]) as a Baton plugin. One line in the plugin crate:
/// `baton_plugin_sdk::declare_matcher_plugin!(MyMatcher);`
#[macro_export]
macro_rules! declare_matcher_plugin {
    ($ty:ty) => {
        $crate::__declare_plugin!(
            $crate::abi::KIND_TRIGGER_MATCHER,
            $crate::export::MatcherExport<$ty>
        );
    };
}

/// Exports `$ty` (a [`ChannelPlugin`]) as a Baton plugin. One line in the plugin crate:
/// `baton_plugin_sdk::declare_channel_plugin!(MyChannel);`
#[macro_export]
macro_rules! declare_channel_plugin {
    ($ty:ty) => {
        $crate::__declare_plugin!(
            $crate::abi::KIND_CHANNEL,
            $crate::export::ChannelExport<$ty>
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __declare_plugin {
    ($kind:expr, $export:ty) => {
        // Checked in the plugin crate too: the panic strategy is the final binary's.
        #[cfg(panic = "abort")]
        compile_error!("Baton plugins must be built with panic = \"unwind\"");

        /// The ABI tag: magic and ABI version. Read by the host before anything else.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn baton_plugin_abi_v1() -> u64 {
            $crate::abi::abi_tag($crate::abi::ABI_VERSION)
        }

        /// The plugin's vtable, a static.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn baton_plugin_vtable_v1() -> *const $crate::abi::PluginVTable {
            static VTABLE: $crate::abi::PluginVTable =
                $crate::export::vtable::<$export>($kind, env!("CARGO_PKG_NAME"));
            &VTABLE
        }
    };
}
