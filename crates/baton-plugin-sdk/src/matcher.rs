//! Trigger matchers (B2): find a handoff trigger in a visitor message. The host runs them
//! after the built-in matchers; a hit hands off with trigger kind `plugin:<name>`, where
//! the name is the one the host's config gives the plugin entry.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{Host, PluginError};

/// Operation name of [`TriggerMatcher::find`] on the ABI.
pub const OP_FIND: &str = "find";

/// The message to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindInput {
    pub text: String,
    /// The channel the message came in on (`chat`, `email`, or a channel plugin's name).
    #[serde(default)]
    pub channel: Option<String>,
}

/// A trigger found in the message: what matched, and where (byte offsets into `text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub matched: String,
    pub start: usize,
    pub end: usize,
}

/// The answer to `find`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FindOutput {
    pub hit: Option<Hit>,
}

pub trait TriggerMatcher: Sized + Send + Sync + 'static {
    /// The plugin's `config` table from the host's `[[plugins]]` entry.
    type Config: DeserializeOwned;

    /// Builds the matcher; refuse an unusable configuration with [`PluginError::config`].
    fn new(config: Self::Config, host: Host) -> Result<Self, PluginError>;

    /// The first trigger in the message, if any.
    fn find(&self, input: &FindInput) -> Result<Option<Hit>, PluginError>;
}
