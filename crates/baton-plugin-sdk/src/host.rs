//! The host as a plugin sees it: a logger whose lines appear in the host's logs with
//! `plugin = <name>`.

use baton_plugin_abi::{Bytes, HostApi, LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_TRACE, LOG_WARN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Level {
    fn abi(self) -> u32 {
        match self {
            Level::Error => LOG_ERROR,
            Level::Warn => LOG_WARN,
            Level::Info => LOG_INFO,
            Level::Debug => LOG_DEBUG,
            Level::Trace => LOG_TRACE,
        }
    }
}

/// A handle on the host, given to a plugin's constructor; cheap to copy and keep.
#[derive(Debug, Clone, Copy)]
pub struct Host {
    api: Option<HostApi>,
}

// SAFETY: the host promises (ABI contract) that `ctx` lives for the whole process and
// that `log` may be called from any thread; the handle holds nothing else.
#[allow(unsafe_code)]
unsafe impl Send for Host {}
#[allow(unsafe_code)]
unsafe impl Sync for Host {}

impl Host {
    pub(crate) fn new(api: Option<HostApi>) -> Host {
        Host { api }
    }

    /// A host that drops every log line (for unit tests of plugin logic).
    pub fn detached() -> Host {
        Host { api: None }
    }

    pub fn log(&self, level: Level, message: &str) {
        if let Some(api) = &self.api {
            (api.log)(api.ctx, level.abi(), Bytes::new(message.as_bytes()));
        }
    }

    pub fn error(&self, message: &str) {
        self.log(Level::Error, message);
    }

    pub fn warn(&self, message: &str) {
        self.log(Level::Warn, message);
    }

    pub fn info(&self, message: &str) {
        self.log(Level::Info, message);
    }

    pub fn debug(&self, message: &str) {
        self.log(Level::Debug, message);
    }
}
