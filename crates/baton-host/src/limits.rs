//! Abuse limits at the HTTP edge, one middleware over every route: per-address rate limits
//! on the public endpoints, smaller body limits where requests are small, and caps on
//! server-sent event streams. The `[limits]` settings; the connection-level limits (the
//! header-read timeout, the connection cap) are applied by [`crate::server`].
//!
//! The client address is the TCP peer. Requests without one (the router called
//! in-process) are not rate limited.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_auth::SlidingWindow;
use baton_http::{ErrorBody, ErrorDetail};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tower::{Layer, Service};

use crate::client_addr::TrustedProxies;

/// `[limits]`. Every default is far above what a small team's traffic reaches (see the
/// README's Limits section for why each is safe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// A client must send a request's headers within this long, or its connection closes.
    pub header_read_timeout_seconds: u64,
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// The largest request body on any route (smaller routes get less, see [`body_limit`]).
    pub max_body_bytes: usize,
    /// The window the `*_per_minute_*` limits count over: 60 unless a test shortens it.
    pub window_seconds: u64,
    pub conversations_per_minute_per_address: usize,
    pub messages_per_minute_per_address: usize,
    pub webhooks_per_minute_per_address: usize,
    /// Event streams (visitor and staff) open at once from one address.
    pub streams_per_address: usize,
    /// Event streams open at once in total.
    pub max_streams: usize,
    /// Reverse proxies (addresses or ranges) whose `X-Forwarded-For` names the client
    /// these limits and sign-in count; empty: the header is ignored.
    pub trusted_proxies: Vec<String>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            header_read_timeout_seconds: 10,
            max_connections: 4096,
            max_body_bytes: baton_http::MAX_BODY_BYTES,
            window_seconds: 60,
            conversations_per_minute_per_address: 600,
            messages_per_minute_per_address: 1200,
            webhooks_per_minute_per_address: 6000,
            streams_per_address: 64,
            max_streams: 3072,
            trusted_proxies: Vec::new(),
        }
    }
}

impl LimitsConfig {
    /// The first value that cannot work, with its key.
    pub fn invalid(&self) -> Option<(&'static str, String)> {
        let positive = [
            (
                "limits.header_read_timeout_seconds",
                self.header_read_timeout_seconds as usize,
            ),
            ("limits.max_connections", self.max_connections),
            ("limits.window_seconds", self.window_seconds as usize),
            (
                "limits.conversations_per_minute_per_address",
                self.conversations_per_minute_per_address,
            ),
            (
                "limits.messages_per_minute_per_address",
                self.messages_per_minute_per_address,
            ),
            (
                "limits.webhooks_per_minute_per_address",
                self.webhooks_per_minute_per_address,
            ),
            ("limits.streams_per_address", self.streams_per_address),
            ("limits.max_streams", self.max_streams),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Some((key, "must be at least 1".into()));
        }
        if self.max_body_bytes < MIN_BODY_BYTES {
            return Some((
                "limits.max_body_bytes",
                format!("at least {MIN_BODY_BYTES}: smaller refuses ordinary requests"),
            ));
        }
        if let Err((index, reason)) = self.proxies() {
            return Some(("limits.trusted_proxies", format!("entry {index}: {reason}")));
        }
        if self.streams_per_address > self.max_streams {
            return Some((
                "limits.streams_per_address",
                "cannot exceed limits.max_streams".into(),
            ));
        }
        None
    }

    pub fn proxies(&self) -> Result<TrustedProxies, (usize, String)> {
        TrustedProxies::parse(&self.trusted_proxies)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_seconds)
    }
}

/// Smallest global body limit: the settings document and forms must fit.
const MIN_BODY_BYTES: usize = 16 * 1024;
/// A visitor message: the text (`MAX_TEXT_BYTES`) with room for JSON escapes.
const MESSAGE_BODY_BYTES: usize = 2 * baton_http::MAX_TEXT_BYTES;
/// Visitor requests without text, and the sign-in and password forms.
const SMALL_BODY_BYTES: usize = 16 * 1024;
/// Keys each rate limiter remembers: with a one-second grain a key costs at most a
/// window's worth of entries, so this bounds each limiter to a few megabytes.
const MAX_ADDRESSES: usize = 50_000;
/// How long a client over a stream cap is told to wait: streams have no window, so a
/// guess at how soon one closes.
const STREAM_RETRY: Duration = Duration::from_secs(10);

/// The edge limits' state, shared by every request.
#[derive(Debug)]
pub struct Limits {
    config: LimitsConfig,
    conversations: SlidingWindow,
    messages: SlidingWindow,
    webhooks: SlidingWindow,
    streams: Arc<Streams>,
}

impl Limits {
    pub fn new(config: LimitsConfig) -> Self {
        let window = Duration::from_secs(config.window_seconds);
        let grain = window / 60;
        let rate = |limit| SlidingWindow::new(limit, window, MAX_ADDRESSES).with_grain(grain);
        Limits {
            conversations: rate(config.conversations_per_minute_per_address),
            messages: rate(config.messages_per_minute_per_address),
            webhooks: rate(config.webhooks_per_minute_per_address),
            streams: Arc::new(Streams {
                per_address: config.streams_per_address,
                total: config.max_streams,
                open: Mutex::new((0, HashMap::new())),
            }),
            config,
        }
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(LimitsConfig::default())
    }
}

/// What the edge does for one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Conversations,
    Messages,
    Webhooks,
    Stream,
    Free,
}

/// The public endpoints by method and route pattern. A test over the real binary
/// checks each, so a renamed route that slips out of this table fails it.
fn rule(method: &Method, path: &str) -> Rule {
    match (method.as_str(), path) {
        ("POST", "/api/v1/chat/conversations") => Rule::Conversations,
        ("POST", "/api/v1/chat/conversations/{id}/messages")
        | ("POST", "/api/v1/chat/conversations/{id}/choice") => Rule::Messages,
        (_, "/webhooks/{name}") => Rule::Webhooks,
        ("GET", "/api/v1/chat/conversations/{id}/events") | ("GET", "/api/v1/events") => {
            Rule::Stream
        }
        _ => Rule::Free,
    }
}

/// The body limit of a route below the global one, when it has its own.
pub fn body_limit(method: &Method, path: &str) -> Option<usize> {
    if method != Method::POST {
        return None;
    }
    match path {
        "/api/v1/chat/conversations/{id}/messages" => Some(MESSAGE_BODY_BYTES),
        "/api/v1/chat/conversations"
        | "/api/v1/chat/conversations/{id}/choice"
        | "/login"
        | "/logout"
        | "/password/{token}"
        | "/account/password" => Some(SMALL_BODY_BYTES),
        _ => None,
    }
}

/// The middleware: runs inside routing (so the route pattern is known) and under the
/// global `DefaultBodyLimit`, which a smaller route limit overrides.
pub async fn enforce(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        return next.run(request).await;
    };
    let method = request.method().clone();
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| address_key(info.0.ip()));
    let mut guard = None;
    if let Some(address) = &address {
        let now = Instant::now();
        let limited = match rule(&method, &path) {
            Rule::Conversations => limits.conversations.hit(address, now),
            Rule::Messages => limits.messages.hit(address, now),
            Rule::Webhooks => limits.webhooks.hit(address, now),
            Rule::Stream => match Streams::open(&limits.streams, address) {
                Ok(g) => {
                    guard = Some(g);
                    Ok(())
                }
                Err(full) => return full.into_response(),
            },
            Rule::Free => Ok(()),
        };
        if let Err(limited) = limited {
            return refused(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests from this address".into(),
                limited.retry_after,
            );
        }
    }
    let response = match body_limit(&method, &path) {
        Some(max) => {
            let max = max.min(limits.config.max_body_bytes);
            let mut service = DefaultBodyLimit::max(max).layer(next);
            match service.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
        None => next.run(request).await,
    };
    match guard {
        // The stream's slot is held by its body and freed when the body is dropped,
        // which is when the client goes away or the stream ends.
        Some(guard) => {
            let (parts, body) = response.into_parts();
            let body = body.into_data_stream().map(move |chunk| {
                let _held = &guard;
                chunk
            });
            Response::from_parts(parts, Body::from_stream(body))
        }
        None => response,
    }
}

/// The key an address is limited under: IPv6 by its /64, which one subscriber holds.
fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn refused(status: StatusCode, code: &str, message: String, retry_after: Duration) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message: format!("{message}; retry after {} s", retry_after.as_secs()),
            field: None,
        },
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs()),
    );
    response
}

/// Open event streams: in total and per address.
#[derive(Debug)]
struct Streams {
    per_address: usize,
    total: usize,
    open: Mutex<(usize, HashMap<String, usize>)>,
}

#[derive(Debug)]
enum Full {
    Address,
    Total,
}

impl IntoResponse for Full {
    fn into_response(self) -> Response {
        match self {
            Full::Address => refused(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many event streams from this address".into(),
                STREAM_RETRY,
            ),
            Full::Total => refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server holds as many event streams as it allows".into(),
                STREAM_RETRY,
            ),
        }
    }
}

impl Streams {
    fn open(streams: &Arc<Streams>, address: &str) -> Result<StreamGuard, Full> {
        let Ok(mut open) = streams.open.lock() else {
            return Err(Full::Total);
        };
        let (total, by_address) = &mut *open;
        if *total >= streams.total {
            return Err(Full::Total);
        }
        let count = by_address.entry(address.to_owned()).or_default();
        if *count >= streams.per_address {
            return Err(Full::Address);
        }
        *count += 1;
        *total += 1;
        Ok(StreamGuard {
            streams: streams.clone(),
            address: address.to_owned(),
        })
    }
}

/// One open stream's slot, given back on drop.
#[derive(Debug)]
struct StreamGuard {
    streams: Arc<Streams>,
    address: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let Ok(mut open) = self.streams.open.lock() else {
            return;
        };
        let (total, by_address) = &mut *open;
        *total = total.saturating_sub(1);
        if let Some(count) = by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(address_key(a), address_key(b));
        assert_eq!(address_key(mapped), "10.0.0.1");
    }

    #[test]
    fn a_stream_slot_is_freed_when_its_guard_drops() {
        let limits = Limits::new(LimitsConfig {
            streams_per_address: 1,
            max_streams: 2,
            ..LimitsConfig::default()
        });
        let first = Streams::open(&limits.streams, "a");
        assert!(first.is_ok());
        assert!(matches!(
            Streams::open(&limits.streams, "a"),
            Err(Full::Address)
        ));
        let other = Streams::open(&limits.streams, "b");
        assert!(other.is_ok());
        assert!(matches!(
            Streams::open(&limits.streams, "c"),
            Err(Full::Total)
        ));
        drop(first);
        assert!(Streams::open(&limits.streams, "a").is_ok());
    }

    #[test]
    fn zero_limits_are_refused_by_name() {
        let config = LimitsConfig {
            max_streams: 0,
            ..LimitsConfig::default()
        };
        assert_eq!(
            config.invalid().map(|(key, _)| key),
            Some("limits.max_streams")
        );
    }
}
