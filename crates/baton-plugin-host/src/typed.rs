//! Typed handles over a [`Plugin`] of a known kind, speaking the SDK's payload types, so
//! callers never spell operation names or JSON shapes.

use std::time::Duration;

use baton_plugin_sdk::channel::{OP_DELIVERY, OP_HANDSHAKE, OP_INBOUND, OP_OUTBOUND};
use baton_plugin_sdk::matcher::{FindOutput, OP_FIND};
use baton_plugin_sdk::{
    Delivery, Hit, HttpRequest, HttpResponse, Inbound, OutboundMessage, OutboundRequest,
    WebhookResponse,
};
use serde::Serialize;

use crate::{CallError, Kind, Plugin};

/// The input of `find`, borrowed (the SDK's `FindInput` owns its strings, and a message
/// is not worth copying per matcher).
#[derive(Serialize)]
struct FindRef<'a> {
    text: &'a str,
    channel: Option<&'a str>,
}

/// A trigger-matcher plugin.
#[derive(Debug, Clone)]
pub struct Matcher(Plugin);

impl Matcher {
    /// `None` unless the plugin is a trigger matcher.
    pub fn new(plugin: Plugin) -> Option<Matcher> {
        (plugin.kind() == Kind::TriggerMatcher).then_some(Matcher(plugin))
    }

    pub fn plugin(&self) -> &Plugin {
        &self.0
    }

    /// The first trigger in `text`, from the blocking pool, within `timeout`.
    pub async fn find(
        &self,
        text: &str,
        channel: Option<&str>,
        timeout: Duration,
    ) -> Result<Option<Hit>, CallError> {
        let output: FindOutput = self
            .0
            .call_json(OP_FIND, &FindRef { text, channel }, timeout)
            .await?;
        Ok(output.hit)
    }

    /// The first trigger in `text`, on this thread.
    pub fn find_blocking(
        &self,
        text: &str,
        channel: Option<&str>,
    ) -> Result<Option<Hit>, CallError> {
        let output: FindOutput = self
            .0
            .call_json_blocking(OP_FIND, &FindRef { text, channel })?;
        Ok(output.hit)
    }
}

/// A messaging-channel plugin.
#[derive(Debug, Clone)]
pub struct Channel(Plugin);

impl Channel {
    /// `None` unless the plugin is a channel.
    pub fn new(plugin: Plugin) -> Option<Channel> {
        (plugin.kind() == Kind::Channel).then_some(Channel(plugin))
    }

    pub fn plugin(&self) -> &Plugin {
        &self.0
    }

    /// Answers `GET /webhooks/{name}` (subscription handshakes).
    pub async fn handshake(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<WebhookResponse, CallError> {
        self.0.call_json(OP_HANDSHAKE, request, timeout).await
    }

    /// Verifies and parses `POST /webhooks/{name}`.
    pub async fn inbound(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<Inbound, CallError> {
        self.0.call_json(OP_INBOUND, request, timeout).await
    }

    /// The HTTP request that delivers `message`.
    pub async fn outbound(
        &self,
        message: &OutboundMessage,
        timeout: Duration,
    ) -> Result<OutboundRequest, CallError> {
        self.0.call_json(OP_OUTBOUND, message, timeout).await
    }

    /// What the provider's answer to an outbound request means.
    pub async fn delivery(
        &self,
        response: &HttpResponse,
        timeout: Duration,
    ) -> Result<Delivery, CallError> {
        self.0.call_json(OP_DELIVERY, response, timeout).await
    }
}
