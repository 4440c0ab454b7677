//! Outgoing webhooks (B15): the `[webhooks]` settings, target checks, Standard Webhooks
//! signing, and the dispatcher that delivers the store's webhook outbox.
//!
//! The dispatcher wakes on every event the engine publishes after a commit, and on a
//! timer for retries and for what a crash left behind (claims are leases in the
//! database, so a killed process's rows become due again).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use baton_engine::Engine;
use baton_engine::model::{WebhookDelivery, WebhookNext, WebhookOutcome};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::{Notify, Semaphore, broadcast};

/// `[webhooks]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Allows targets on private, loopback and link-local addresses (tests, or an
    /// operator who means it). Checked when subscribing and again when delivering.
    pub allow_private_targets: bool,
    /// The longest one attempt may take.
    pub timeout_seconds: u64,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// For tests: the first retry's delay in milliseconds (default 5000); the rest of
    /// the schedule (5 min ... 24 h) scales with it.
    pub retry_base_ms: u64,
    /// How often the outbox is swept for retries that came due.
    pub sweep_ms: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            allow_private_targets: false,
            timeout_seconds: 10,
            concurrency: 16,
            retry_base_ms: 5_000,
            sweep_ms: 1_000,
        }
    }
}

/// The retry schedule after the first attempt: about three days in all.
const SCHEDULE_SECONDS: [u64; 9] = [
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
];

/// The longest `Retry-After` honoured: a receiver cannot park a delivery for longer.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * 3600);

/// Deliveries per claim, and claimed batches being sent or recorded at once.
const BATCH: u64 = 256;
const BATCHES_IN_FLIGHT: usize = 4;

/// A new signing secret: `whsec_` and 24 random bytes in base64, as the spec suggests.
pub fn new_secret() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    format!("whsec_{}", B64.encode(bytes))
}

/// `v1,` and base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed by the bytes
/// of the secret after `whsec_`. `None` for a secret that is not ours.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// Whether `ip` is one a public webhook must not reach: private, loopback, link-local,
/// unspecified, or (IPv6) unique-local and IPv4-mapped forms of those.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Why `url` cannot be a webhook target, if it cannot: not http(s), no host, or a host
/// that resolves to a private address while those are not allowed.
pub async fn check_target(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    let Some(host) = parsed.host_str() else {
        return Err("has no host".into());
    };
    if allow_private {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("the host does not resolve: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err("the host does not resolve".into());
    }
    if addrs.iter().any(|a| is_private(a.ip())) {
        return Err("resolves to a private, loopback or link-local address \
                    (set [webhooks] allow_private_targets = true to allow it)"
            .into());
    }
    Ok(())
}

/// Resolves for the HTTP client, refusing private addresses: the check at delivery
/// time, on the very addresses the connection uses (DNS can change after subscribing).
#[derive(Debug)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_private(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Delivers the webhook outbox.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    engine: Engine,
    client: reqwest::Client,
    config: Arc<WebhooksConfig>,
    wake: Arc<Notify>,
    /// Requests in flight, across batches: `concurrency` permits.
    in_flight: Arc<Semaphore>,
}

impl Dispatcher {
    pub fn new(engine: Engine, config: WebhooksConfig) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_seconds.max(1)))
            .connect_timeout(Duration::from_secs(config.timeout_seconds.clamp(1, 5)))
            // A redirect could lead anywhere, private addresses included.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Baton-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !config.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Dispatcher {
            engine,
            client: builder.build()?,
            in_flight: Arc::new(Semaphore::new(config.concurrency.max(1))),
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
        })
    }

    pub fn config(&self) -> &WebhooksConfig {
        &self.config
    }

    /// Delivers what a change outside the engine's events made due (a replay).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until the process ends. A claimed batch is sent and recorded on its own
    /// task, so the next claim does not wait for the receivers or for the recording.
    pub async fn run(self) {
        let mut events = self.engine.subscribe_local();
        let sweep = Duration::from_millis(self.config.sweep_ms.max(10));
        let batches = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
        loop {
            let Ok(permit) = batches.clone().acquire_owned().await else {
                return;
            };
            match self.claim().await {
                Ok(due) => {
                    let n = due.len();
                    if n > 0 {
                        let this = self.clone();
                        tokio::spawn(async move {
                            this.settle(due).await;
                            drop(permit);
                        });
                    }
                    // A full batch: there may be more due right away.
                    if n as u64 >= BATCH {
                        continue;
                    }
                }
                Err(error) => tracing::warn!(%error, stage = "webhooks", "claiming failed"),
            }
            tokio::select! {
                received = events.recv() => {
                    if matches!(received, Err(broadcast::error::RecvError::Closed)) {
                        tokio::time::sleep(sweep).await;
                    }
                }
                () = self.wake.notified() => {}
                () = tokio::time::sleep(sweep) => {}
            }
            // One claim serves every commit that happened meanwhile.
            while !matches!(
                events.try_recv(),
                Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
            ) {}
        }
    }

    /// Claims up to a batch of due deliveries.
    async fn claim(&self) -> baton_engine::StoreResult<Vec<WebhookDelivery>> {
        let now = Utc::now();
        // A claim lasts twice the attempt's timeout: one not settled by then (the
        // process died mid-attempt) is due again.
        let lease = Duration::from_secs(self.config.timeout_seconds.max(1) * 2);
        let lease = chrono::Duration::from_std(lease).unwrap_or_default();
        self.engine
            .store()
            .claim_webhook_deliveries(BATCH, now, now + lease)
            .await
    }

    /// Sends a claimed batch (at most `concurrency` requests in flight across batches),
    /// then records every attempt in one transaction. On failure the leases run out and
    /// the deliveries are tried again.
    async fn settle(&self, due: Vec<WebhookDelivery>) {
        let outcomes: Vec<WebhookOutcome> = futures_util::stream::iter(due)
            .map(|delivery| async move {
                let (status, error, next) = match self.in_flight.acquire().await {
                    Ok(_permit) => self.send(&delivery).await,
                    Err(_) => (
                        None,
                        Some("shutting down".into()),
                        self.retry(&delivery, None),
                    ),
                };
                WebhookOutcome {
                    delivery_id: delivery.id,
                    status,
                    error,
                    next,
                    at: Utc::now(),
                }
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        if let Err(error) = self.engine.store().record_webhook_attempts(&outcomes).await {
            tracing::warn!(%error, stage = "webhooks", "recording attempts failed");
        }
    }

    async fn send(&self, delivery: &WebhookDelivery) -> (Option<u16>, Option<String>, WebhookNext) {
        let timestamp = Utc::now().timestamp();
        let Some(signature) = sign(
            &delivery.secret,
            &delivery.event_id,
            timestamp,
            &delivery.body,
        ) else {
            return (
                None,
                Some("the stored secret is malformed".into()),
                WebhookNext::GiveUp,
            );
        };
        if let Err(reason) = self.check_literal(&delivery.url) {
            return (None, Some(reason), self.retry(delivery, None));
        }
        let response = self
            .client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body.clone())
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                let reason = error_chain(&error);
                return (None, Some(reason), self.retry(delivery, None));
            }
        };
        let status = response.status().as_u16();
        if response.status().is_success() {
            return (Some(status), None, WebhookNext::Delivered);
        }
        if status == 410 {
            return (
                Some(status),
                Some("410 Gone".into()),
                WebhookNext::Disable("the endpoint answered 410 Gone".into()),
            );
        }
        let retry_after = match status {
            429 | 503 => response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, Utc::now())),
            _ => None,
        };
        (
            Some(status),
            Some(format!("HTTP {status}")),
            self.retry(delivery, retry_after),
        )
    }

    /// An IP literal in the URL bypasses the resolver; checked here instead.
    fn check_literal(&self, url: &str) -> Result<(), String> {
        if self.config.allow_private_targets {
            return Ok(());
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        let host = parsed.host_str().unwrap_or_default();
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return Ok(());
        };
        if is_private(ip) {
            return Err(format!("{ip} is a private address"));
        }
        Ok(())
    }

    /// The next attempt after a failure: the schedule's next step with ±20% jitter, or
    /// the receiver's `Retry-After`; past the schedule, give up.
    fn retry(&self, delivery: &WebhookDelivery, retry_after: Option<Duration>) -> WebhookNext {
        let Some(step) = SCHEDULE_SECONDS.get(delivery.attempts as usize) else {
            return WebhookNext::GiveUp;
        };
        let wait = match retry_after {
            Some(wait) => wait,
            None => {
                let base_ms = step * self.config.retry_base_ms / SCHEDULE_SECONDS[0];
                let jitter = rand::rng().random_range(0.8..1.2);
                Duration::from_millis(base_ms).mul_f64(jitter)
            }
        };
        let wait = chrono::Duration::from_std(wait).unwrap_or_default();
        WebhookNext::RetryAt(Utc::now() + wait)
    }
}

/// `Retry-After` as seconds or an HTTP date, capped.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let wait = match value.trim().parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value.trim()).ok()?;
            (at.with_timezone(&Utc) - now).to_std().unwrap_or_default()
        }
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
