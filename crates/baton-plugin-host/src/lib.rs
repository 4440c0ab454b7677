//! The host side of the Baton plugin ABI (DESIGN.md, "Plugins"): opens plugin libraries
//! with `libloading`, checks that they are Baton plugins of this ABI before touching their
//! vtable, creates one instance per configured entry, and calls it with JSON in and out.
//!
//! A plugin runs in the host's process, so the host defends itself where it can: a panic
//! caught by the SDK comes back as [`CallError::Panic`], and a plugin that keeps
//! panicking is disabled ([`HealthState::Disabled`]); output that is not the expected
//! JSON is [`CallError::InvalidOutput`]; async calls run on the blocking pool under a
//! timeout. A bad library is reported with a typed [`LoadError`] naming its file, and
//! skipped.
//!
//! Libraries are never unloaded (see [`load`]).

mod call;
mod error;
mod health;
mod load;
mod logs;
mod plugin;
mod typed;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

pub use baton_plugin_sdk::{
    Delivery, ErrorKind, Hit, HttpRequest, HttpResponse, Inbound, OutboundMessage, OutboundRequest,
    PluginError, WebhookResponse,
};
pub use error::{CallError, LoadError};
pub use health::{Health, HealthState, PANICS_BEFORE_DISABLED, TIMEOUTS_BEFORE_DISABLED};
pub use load::{load, load_all, load_linked};
pub use plugin::Plugin;
pub use typed::{Channel, Matcher};

/// One `[[plugins]]` entry of the host's configuration.
#[derive(Debug, Clone, Deserialize)]
// A misspelt key (`confg`) would otherwise silently hand the plugin an empty config.
#[serde(deny_unknown_fields)]
pub struct PluginSpec {
    /// The entry's name: unique, used in logs, webhook paths and trigger kinds.
    pub name: String,
    /// The library file (`.so`, `.dylib`, `.dll`).
    pub path: PathBuf,
    /// Handed to the plugin's `init` as JSON; absent or `null` means `{}`.
    #[serde(default = "empty_object", deserialize_with = "null_as_object")]
    pub config: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

fn null_as_object<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(if value.is_null() {
        empty_object()
    } else {
        value
    })
}

/// What a plugin is, as its vtable says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Channel,
    TriggerMatcher,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Channel => "channel",
            Kind::TriggerMatcher => "trigger_matcher",
        }
    }

    /// The kind for an ABI `KIND_*` value, `None` for one this host does not know.
    pub fn from_abi(kind: u32) -> Option<Kind> {
        match kind {
            baton_plugin_abi::KIND_CHANNEL => Some(Kind::Channel),
            baton_plugin_abi::KIND_TRIGGER_MATCHER => Some(Kind::TriggerMatcher),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_default_their_config_to_an_empty_object() {
        let spec: PluginSpec =
            serde_json::from_str(r#"{"name":"a","path":"/x.so"}"#).expect("spec");
        assert_eq!(spec.config, serde_json::json!({}));
        let spec: PluginSpec =
            serde_json::from_str(r#"{"name":"a","path":"/x.so","config":null}"#).expect("spec");
        assert_eq!(spec.config, serde_json::json!({}));
        let spec: PluginSpec =
            serde_json::from_str(r#"{"name":"a","path":"/x.so","config":{"k":1}}"#).expect("spec");
        assert_eq!(spec.config, serde_json::json!({"k": 1}));
        assert!(
            serde_json::from_str::<PluginSpec>(r#"{"name":"a","path":"/x.so","confg":{}}"#)
                .is_err()
        );
    }

    /// Handles are shared across tasks and the futures are awaited in axum handlers.
    #[test]
    fn handles_and_futures_are_send_and_sync() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        fn check(matcher: &Matcher, channel: &Channel, plugin: &Plugin) {
            send_sync(plugin);
            send_sync(matcher);
            let timeout = std::time::Duration::from_secs(1);
            send(matcher.find("text", None, timeout));
            send(channel.inbound(&HttpRequest::default(), timeout));
            send(plugin.call_json::<_, serde_json::Value>("op", &1, timeout));
        }
        let _ = check;
    }

    #[test]
    fn kinds_read_from_the_abi() {
        assert_eq!(
            Kind::from_abi(baton_plugin_abi::KIND_CHANNEL),
            Some(Kind::Channel)
        );
        assert_eq!(
            Kind::from_abi(baton_plugin_abi::KIND_TRIGGER_MATCHER).map(Kind::as_str),
            Some("trigger_matcher")
        );
        assert_eq!(Kind::from_abi(0), None);
    }
}
