//! Why a plugin did not load, and why a call did not answer. Load errors are read by an
//! operator in the start-up log, so each one names the config entry and the file and says
//! what to do; call errors are acted on by the host (a webhook answer, a skipped matcher).

use std::path::PathBuf;
use std::time::Duration;

use baton_plugin_sdk::PluginError;

/// A plugin entry that could not be loaded; the host reports it and starts without it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("plugin {name:?}: cannot open {}: {message}", .path.display())]
    Open {
        name: String,
        path: PathBuf,
        message: String,
    },

    #[error(
        "plugin {name:?}: {} does not export `{symbol}`, so it is not a Baton plugin or was \
         built without `declare_*_plugin!`",
        .path.display()
    )]
    MissingSymbol {
        name: String,
        path: PathBuf,
        symbol: &'static str,
    },

    #[error(
        "plugin {name:?}: {} exports `baton_plugin_abi_v1` but without the Baton magic \
         (got {magic:#010x}), so it is not a Baton plugin",
        .path.display()
    )]
    NotAPlugin {
        name: String,
        path: PathBuf,
        magic: u32,
    },

    #[error(
        "plugin {name:?}: {} was built for plugin ABI {plugin_abi} but this host speaks ABI \
         {host_abi}; rebuild it against baton-plugin-sdk {sdk_version}",
        .path.display()
    )]
    AbiMismatch {
        name: String,
        path: PathBuf,
        plugin_abi: u32,
        host_abi: u32,
        /// The host's SDK version, the one to rebuild against.
        sdk_version: &'static str,
    },

    /// `size` is 0 when the plugin returned no vtable at all.
    #[error(
        "plugin {name:?}: {} has a vtable of {size} bytes where this host needs at least \
         {needed}; rebuild it against the host's baton-plugin-sdk",
        .path.display()
    )]
    VtableTooSmall {
        name: String,
        path: PathBuf,
        size: usize,
        needed: usize,
    },

    #[error(
        "plugin {name:?}: {} is a plugin of kind {kind}, which this host does not know \
         (a channel is 1, a trigger matcher 2)",
        .path.display()
    )]
    UnknownKind {
        name: String,
        path: PathBuf,
        kind: u32,
    },

    #[error(
        "plugin {name:?}: {} refused to start: {message}; check the entry's `config`",
        .path.display()
    )]
    InitFailed {
        name: String,
        path: PathBuf,
        message: String,
    },

    #[error(
        "plugin {name:?}: a second entry with this name ({}) was skipped; names must be unique",
        .path.display()
    )]
    Duplicate { name: String, path: PathBuf },
}

impl LoadError {
    /// The config entry's name.
    pub fn name(&self) -> &str {
        match self {
            LoadError::Open { name, .. }
            | LoadError::MissingSymbol { name, .. }
            | LoadError::NotAPlugin { name, .. }
            | LoadError::AbiMismatch { name, .. }
            | LoadError::VtableTooSmall { name, .. }
            | LoadError::UnknownKind { name, .. }
            | LoadError::InitFailed { name, .. }
            | LoadError::Duplicate { name, .. } => name,
        }
    }

    /// The library file.
    pub fn path(&self) -> &std::path::Path {
        match self {
            LoadError::Open { path, .. }
            | LoadError::MissingSymbol { path, .. }
            | LoadError::NotAPlugin { path, .. }
            | LoadError::AbiMismatch { path, .. }
            | LoadError::VtableTooSmall { path, .. }
            | LoadError::UnknownKind { path, .. }
            | LoadError::InitFailed { path, .. }
            | LoadError::Duplicate { path, .. } => path,
        }
    }
}

/// A call that did not produce an answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The plugin was disabled (it panicked too often) and was not called.
    #[error("plugin {name:?} is disabled: {reason}")]
    Disabled { name: String, reason: String },

    /// The plugin's own, clean refusal or failure.
    #[error("{0}")]
    Plugin(PluginError),

    /// The plugin panicked; the SDK caught it, so the host is unharmed.
    #[error("plugin {name:?} panicked: {message}")]
    Panic { name: String, message: String },

    /// The plugin answered something that is not the JSON the operation returns, or a
    /// status the ABI does not define.
    #[error("plugin {name:?} answered invalid output: {message}")]
    InvalidOutput { name: String, message: String },

    /// The host could not serialize the input to JSON; the plugin was not called.
    #[error("plugin {name:?} was not called: its input is not serializable: {message}")]
    InvalidInput { name: String, message: String },

    /// The plugin did not answer in time. The call keeps its blocking thread until the
    /// plugin returns; its late answer is dropped.
    #[error("plugin {name:?} did not answer within {after:?}")]
    Timeout { name: String, after: Duration },
}
