//! The plugin's `config` table, checked once at `init` so that a bad value is reported
//! naming its field instead of surfacing later as a refused webhook or a failed delivery.

use std::fmt;

use baton_plugin_sdk::{PluginError, base_url};
use serde::Deserialize;

/// The Graph API version this plugin was written against.
pub const DEFAULT_API_BASE_URL: &str = "https://graph.facebook.com/v21.0";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The "Verify token" typed into the app's webhook settings; Meta echoes it in the
    /// subscription handshake.
    pub verify_token: String,
    /// The app secret: Meta signs every webhook body with it (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// A system-user (or temporary) access token with `whatsapp_business_messaging`.
    pub access_token: String,
    /// The id of the business phone number replies are sent from.
    pub phone_number_id: String,
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
}

fn default_api_base_url() -> String {
    DEFAULT_API_BASE_URL.to_owned()
}

// Written by hand so that the three secrets never reach a log line.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("verify_token", &"<redacted>")
            .field("app_secret", &"<redacted>")
            .field("access_token", &"<redacted>")
            .field("phone_number_id", &self.phone_number_id)
            .field("api_base_url", &self.api_base_url)
            .finish()
    }
}

impl Config {
    /// Refuses unusable values, naming the field, and normalizes the base URL.
    pub fn validate(mut self) -> Result<Config, PluginError> {
        for (field, value) in [
            ("verify_token", &self.verify_token),
            ("app_secret", &self.app_secret),
            ("access_token", &self.access_token),
            ("phone_number_id", &self.phone_number_id),
        ] {
            if value.trim().is_empty() {
                return Err(PluginError::config(format!("{field}: must not be empty")));
            }
        }
        // The token goes into a header line: a space or a line break would split it.
        if !self.access_token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(PluginError::config(
                "access_token: must be printable ASCII without spaces",
            ));
        }
        // The id is spliced into the URL path; Meta's ids are decimal numbers.
        if !self.phone_number_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PluginError::config(
                "phone_number_id: must be the numeric \"Phone number ID\" shown in the app's \
                 WhatsApp settings (digits only)",
            ));
        }
        self.api_base_url = base_url("api_base_url", &self.api_base_url)?;
        Ok(self)
    }
}
