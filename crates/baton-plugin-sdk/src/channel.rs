//! Messaging channels (B1): a plugin verifies and parses inbound webhooks and formats the
//! outbound HTTP requests that deliver replies. The host owns every socket: it receives
//! `POST/GET /webhooks/{name}`, hands the request to the plugin, ingests what the plugin
//! parsed, and later sends the requests the plugin formats, retrying through its outbox
//! as [`ChannelPlugin::delivery`] says.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{Host, PluginError};

pub const OP_HANDSHAKE: &str = "handshake";
pub const OP_INBOUND: &str = "inbound";
pub const OP_OUTBOUND: &str = "outbound";
pub const OP_DELIVERY: &str = "delivery";

/// An HTTP request the host received on `/webhooks/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HttpRequest {
    pub method: String,
    /// The raw query string without `?` (empty when there is none).
    #[serde(default)]
    pub query: String,
    /// Header names in lower case, in the order received.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body exactly as received (the host refuses bodies that are not UTF-8), so that
    /// signatures over the raw bytes verify.
    #[serde(default)]
    pub body: String,
}

impl HttpRequest {
    /// The first header named `name` (compare in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter named `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key) == name).then(|| percent_decode(value))
        })
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A provider's base URL from a plugin's config: `http://` or `https://` with a host,
/// surrounding spaces and trailing slashes removed (so `{base}/path` joins cleanly).
/// The error names `field`.
pub fn base_url(field: &str, value: &str) -> Result<String, PluginError> {
    let base = value.trim().trim_end_matches('/');
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"));
    match host {
        Some(host) if !host.is_empty() => Ok(base.to_owned()),
        _ => Err(PluginError::config(format!(
            "{field}: must be an http:// or https:// URL"
        ))),
    }
}

/// What the host answers the webhook's sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookResponse {
    pub status: u16,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub body: String,
}

impl WebhookResponse {
    /// `200` with an empty body: the usual acknowledgement.
    pub fn ok() -> Self {
        WebhookResponse {
            status: 200,
            content_type: None,
            body: String::new(),
        }
    }

    /// `200` with a plain-text body (verification handshakes echo a challenge).
    pub fn text(body: impl Into<String>) -> Self {
        WebhookResponse {
            status: 200,
            content_type: Some("text/plain".into()),
            body: body.into(),
        }
    }
}

/// One visitor message found in a webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// Who the conversation is with, in the provider's terms (a Telegram chat id, a
    /// WhatsApp phone number): the host keeps one conversation per thread.
    pub thread: String,
    /// The provider's id of the message: a redelivered webhook is ingested once.
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    pub text: String,
}

/// A message to send to a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub thread: String,
    pub text: String,
    /// For a notice: the provider's id of the message it answers. The host sends one
    /// notice per id, so a redelivered webhook does not repeat it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
}

/// What a verified webhook contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    /// The answer to the webhook's sender.
    pub response: WebhookResponse,
    /// Text messages to ingest, in order.
    #[serde(default)]
    pub messages: Vec<InboundMessage>,
    /// Messages the plugin wants sent straight back without the customer agent (e.g. "I
    /// can only read text" in answer to a photo); the host delivers them like replies.
    #[serde(default)]
    pub notices: Vec<OutboundMessage>,
}

impl Inbound {
    /// Acknowledged, nothing to ingest (status updates, edits, other event types).
    pub fn ignored() -> Self {
        Inbound {
            response: WebhookResponse::ok(),
            messages: Vec::new(),
            notices: Vec::new(),
        }
    }
}

/// An HTTP request for the host to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: String,
}

/// The provider's answer to an [`OutboundRequest`]; `status` 0 means no answer at all
/// (connection refused, timeout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HttpResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What became of a delivery, as the provider's response says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Delivery {
    Sent,
    /// Try again later (rate limits, provider errors); `after_seconds` when the provider
    /// said how long to wait.
    Retry {
        #[serde(default)]
        after_seconds: Option<u64>,
        reason: String,
    },
    /// Will never succeed (bad token, unknown chat); the host records it and stops.
    Failed {
        reason: String,
    },
}

impl Delivery {
    /// The usual reading of an HTTP answer: 2xx sent; 429, 5xx and no answer retried
    /// (honouring `Retry-After` in seconds); anything else failed.
    pub fn from_status(response: &HttpResponse) -> Delivery {
        let after = response
            .header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok());
        match response.status {
            200..=299 => Delivery::Sent,
            0 => Delivery::Retry {
                after_seconds: None,
                reason: "no response".into(),
            },
            429 | 500..=599 => Delivery::Retry {
                after_seconds: after,
                reason: format!("HTTP {}", response.status),
            },
            status => Delivery::Failed {
                reason: format!("HTTP {status}: {}", truncate(&response.body, 200)),
            },
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

pub trait ChannelPlugin: Sized + Send + Sync + 'static {
    /// The plugin's `config` table from the host's `[[plugins]]` entry.
    type Config: DeserializeOwned;

    /// Builds the channel; refuse an unusable configuration with [`PluginError::config`].
    fn new(config: Self::Config, host: Host) -> Result<Self, PluginError>;

    /// Answers `GET /webhooks/{name}` (subscription handshakes). The default refuses.
    fn handshake(&self, request: &HttpRequest) -> Result<WebhookResponse, PluginError> {
        let _ = request;
        Err(PluginError::bad_request("this channel has no handshake"))
    }

    /// Verifies and parses `POST /webhooks/{name}`. Refuse bad signatures with
    /// [`PluginError::unauthorized`] and malformed bodies with
    /// [`PluginError::bad_request`]: the host then stores nothing.
    fn inbound(&self, request: &HttpRequest) -> Result<Inbound, PluginError>;

    /// The HTTP request that sends `message`.
    fn outbound(&self, message: &OutboundMessage) -> Result<OutboundRequest, PluginError>;

    /// Reads the provider's answer to an outbound request.
    fn delivery(&self, response: &HttpResponse) -> Delivery {
        Delivery::from_status(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_decoded() {
        let request = HttpRequest {
            query: "hub.mode=subscribe&hub.verify_token=a%20b+c&hub.challenge=12".into(),
            ..HttpRequest::default()
        };
        assert_eq!(
            request.query_param("hub.verify_token").as_deref(),
            Some("a b c")
        );
        assert_eq!(request.query_param("hub.challenge").as_deref(), Some("12"));
        assert_eq!(request.query_param("missing"), None);
        let odd = HttpRequest {
            query: "a=%zz&b=%4".into(),
            ..HttpRequest::default()
        };
        assert_eq!(odd.query_param("a").as_deref(), Some("%zz"));
        assert_eq!(odd.query_param("b").as_deref(), Some("%4"));
    }

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        assert_eq!(
            base_url("api_base_url", " https://api.example/v1/ ").as_deref(),
            Ok("https://api.example/v1")
        );
        assert_eq!(
            base_url("u", "http://127.0.0.1:9").as_deref(),
            Ok("http://127.0.0.1:9")
        );
        for bad in ["", "ftp://x", "https://", "api.example"] {
            let error = base_url("api_base_url", bad).expect_err(bad);
            assert!(error.message.starts_with("api_base_url:"), "{error:?}");
        }
    }

    #[test]
    fn statuses_map_to_deliveries() {
        let response = |status, retry: Option<&str>| HttpResponse {
            status,
            headers: retry
                .map(|r| vec![("Retry-After".to_owned(), r.to_owned())])
                .unwrap_or_default(),
            body: "nope".into(),
        };
        assert_eq!(Delivery::from_status(&response(200, None)), Delivery::Sent);
        assert_eq!(
            Delivery::from_status(&response(429, Some("7"))),
            Delivery::Retry {
                after_seconds: Some(7),
                reason: "HTTP 429".into()
            }
        );
        assert!(matches!(
            Delivery::from_status(&response(0, None)),
            Delivery::Retry { .. }
        ));
        assert!(matches!(
            Delivery::from_status(&response(401, None)),
            Delivery::Failed { .. }
        ));
    }
}
