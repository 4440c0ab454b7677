//! Webhook-based messaging channels (B1): each channel plugin gets
//! `POST /webhooks/{name}` (messages) and `GET /webhooks/{name}` (subscription
//! handshakes). The plugin verifies and parses what the provider sent; this crate turns
//! the messages into `Engine::ingest` calls on the thread's conversation, and delivers
//! the outbox through the plugin's formatter ([`ProviderDeliverer`]).
//!
//! Invariants: a request the plugin refuses (bad signature, malformed body) stores
//! nothing; the channel decides nothing itself — one handoff configuration for every
//! channel lives in the engine.

mod deliver;
mod webhook;

pub use deliver::ProviderDeliverer;

/// OpenAPI descriptions of the webhook routes, merged into the server's document.
pub mod openapi {
    pub use crate::webhook::{__path_handshake, __path_inbound};
}
pub use webhook::{Channels, router};

use std::time::Duration;

/// How long a plugin call may take before the host gives up on it.
pub const PLUGIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client outbound requests go through: HTTPS with rustls and the platform's
/// trusted roots.
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder().build()
}
