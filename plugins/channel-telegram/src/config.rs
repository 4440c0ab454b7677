//! The plugin's `config` table, checked once at `init` so that a bad value is reported
//! naming its field instead of surfacing later as a failed delivery.

use std::fmt;

use baton_plugin_sdk::{PluginError, base_url};
use serde::Deserialize;

/// Where the Bot API lives unless the config says otherwise (a local Bot API server, or a
/// stub in tests).
pub const DEFAULT_API_BASE_URL: &str = "https://api.telegram.org";

/// Telegram's limit on `secret_token` in `setWebhook`.
const MAX_SECRET_TOKEN_CHARS: usize = 256;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The token BotFather gave, `123456:ABC-DEF...`.
    pub bot_token: String,
    /// The `secret_token` given to `setWebhook`; Telegram echoes it in
    /// `X-Telegram-Bot-Api-Secret-Token` on every webhook.
    pub secret_token: String,
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
}

fn default_api_base_url() -> String {
    DEFAULT_API_BASE_URL.to_owned()
}

// Written by hand so that the two secrets never reach a log line.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bot_token", &"<redacted>")
            .field("secret_token", &"<redacted>")
            .field("api_base_url", &self.api_base_url)
            .finish()
    }
}

impl Config {
    /// Refuses unusable values, naming the field, and normalizes the base URL.
    pub fn validate(mut self) -> Result<Config, PluginError> {
        if self.bot_token.is_empty() {
            return Err(PluginError::config("bot_token: must not be empty"));
        }
        // The token is spliced into the URL path (`/bot<token>/sendMessage`): a character
        // outside Telegram's own token alphabet would change the URL, not just the token.
        if !self
            .bot_token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
        {
            return Err(PluginError::config(
                "bot_token: may only hold A-Z, a-z, 0-9, ':', '_' and '-' (as BotFather's tokens do)",
            ));
        }
        if self.secret_token.is_empty() {
            return Err(PluginError::config("secret_token: must not be empty"));
        }
        // Telegram's `setWebhook` refuses anything else, so such a value could never match.
        if self.secret_token.len() > MAX_SECRET_TOKEN_CHARS
            || !self
                .secret_token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        {
            return Err(PluginError::config(format!(
                "secret_token: Telegram allows 1-{MAX_SECRET_TOKEN_CHARS} characters of \
                 A-Z, a-z, 0-9, '_' and '-'"
            )));
        }
        self.api_base_url = base_url("api_base_url", &self.api_base_url)?;
        Ok(self)
    }
}
