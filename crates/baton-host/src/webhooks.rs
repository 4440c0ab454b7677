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
    /// the schedule (5 min ... 24 h) scales with it. Fractions are allowed, so that a
    /// test can run the whole three days in a few seconds (0.05: about 2.7 s).
    pub retry_base_ms: f64,
    /// How often the outbox is swept for retries that came due.
    pub sweep_ms: u64,
    /// Days attempts and settled deliveries are kept (0: forever). Failed deliveries can
    /// be replayed until then.
    pub retention_days: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            allow_private_targets: false,
            timeout_seconds: 10,
            concurrency: 16,
            retry_base_ms: 5_000.0,
            sweep_ms: 1_000,
            retention_days: 30,
        }
    }
}

/// How often history past the retention is looked for.
const RETENTION_SWEEP: Duration = Duration::from_secs(3600);
/// Rows of each table one delete takes at most.
const RETENTION_BATCH: u64 = 5_000;

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

/// How long the dispatcher waits after a commit before claiming what it made due.
const LINGER: Duration = Duration::from_millis(10);

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

/// How an attempt went, before the next attempt's time is fixed.
#[derive(Debug)]
enum Verdict {
    Delivered,
    /// Try again later, no earlier than the receiver's `Retry-After` when it sent one.
    Retry(Option<Duration>),
    GiveUp,
    Disable(String),
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
        if self.config.retention_days > 0 {
            tokio::spawn(self.clone().prune());
        }
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
            let committed = tokio::select! {
                received = events.recv() => {
                    if matches!(received, Err(broadcast::error::RecvError::Closed)) {
                        tokio::time::sleep(sweep).await;
                    }
                    true
                }
                () = self.wake.notified() => false,
                () = tokio::time::sleep(sweep) => false,
            };
            if committed {
                // Under load, commits come in runs: waiting a moment claims a run with
                // one claim and records it with one transaction, instead of a claim and
                // a recording per commit competing with the commits for the database.
                tokio::time::sleep(LINGER).await;
            }
            // One claim serves every commit that happened meanwhile.
            while !matches!(
                events.try_recv(),
                Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
            ) {}
        }
    }

    /// Until the process ends: deletes the history older than `retention_days`, a batch
    /// at a time, once an hour (every host does; the deletes do not conflict).
    async fn prune(self) {
        let keep = chrono::Duration::days(i64::from(self.config.retention_days));
        let mut tick = tokio::time::interval(RETENTION_SWEEP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let before = Utc::now() - keep;
            let mut pruned = 0;
            loop {
                match self
                    .engine
                    .store()
                    .prune_webhook_history(before, RETENTION_BATCH)
                    .await
                {
                    Ok(0) => break,
                    Ok(n) => pruned += n,
                    Err(error) => {
                        tracing::warn!(%error, stage = "webhooks", "pruning history failed");
                        break;
                    }
                }
            }
            if pruned > 0 {
                tracing::info!(
                    pruned,
                    days = self.config.retention_days,
                    "webhook history pruned"
                );
            }
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
                let (status, error, verdict) = match self.in_flight.acquire().await {
                    Ok(_permit) => self.send(&delivery).await,
                    Err(_) => (None, Some("shutting down".into()), Verdict::Retry(None)),
                };
                // The attempt's recorded time is the base of the next one, so the
                // recorded gap is never shorter than the wait chosen.
                let at = Utc::now();
                let next = match verdict {
                    Verdict::Delivered => WebhookNext::Delivered,
                    Verdict::Retry(retry_after) => self.retry(&delivery, retry_after, at),
                    Verdict::GiveUp => WebhookNext::GiveUp,
                    Verdict::Disable(reason) => WebhookNext::Disable(reason),
                };
                WebhookOutcome {
                    delivery_id: delivery.id,
                    status,
                    error,
                    next,
                    at,
                }
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        if let Err(error) = self.engine.store().record_webhook_attempts(&outcomes).await {
            tracing::warn!(%error, stage = "webhooks", "recording attempts failed");
        }
    }

    async fn send(&self, delivery: &WebhookDelivery) -> (Option<u16>, Option<String>, Verdict) {
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
                Verdict::GiveUp,
            );
        };
        if let Err(reason) = self.check_literal(&delivery.url) {
            return (None, Some(reason), Verdict::Retry(None));
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
                return (None, Some(reason), Verdict::Retry(None));
            }
        };
        let status = response.status().as_u16();
        if response.status().is_success() {
            return (Some(status), None, Verdict::Delivered);
        }
        if status == 410 {
            return (
                Some(status),
                Some("410 Gone".into()),
                Verdict::Disable("the endpoint answered 410 Gone".into()),
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
            Verdict::Retry(retry_after),
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

    /// The next attempt after a failure: the schedule's next step with jitter, or later
    /// when the receiver's `Retry-After` asks for it; past the schedule, give up.
    fn retry(
        &self,
        delivery: &WebhookDelivery,
        retry_after: Option<Duration>,
        at: DateTime<Utc>,
    ) -> WebhookNext {
        let scale = self.config.retry_base_ms / (SCHEDULE_SECONDS[0] as f64 * 1000.0);
        let jitter = rand::rng().random_range(JITTER);
        let Some(wait) = retry_delay(delivery.attempts, scale, jitter) else {
            return WebhookNext::GiveUp;
        };
        let wait = retry_after.map_or(wait, |asked| asked.max(wait));
        let wait = chrono::Duration::from_std(wait).unwrap_or_default();
        WebhookNext::RetryAt(at + wait)
    }
}

/// The factor applied to each step of the schedule: ±20%, so that endpoints that failed
/// together do not all come back at once.
pub const JITTER: std::ops::Range<f64> = 0.8..1.2;

/// The wait before the next attempt once `attempts` attempts have failed: the schedule's
/// step times `scale` (1 in production) times `jitter` (drawn from [`JITTER`]); `None`
/// once the schedule is exhausted (about three days after the first attempt).
pub fn retry_delay(attempts: u32, scale: f64, jitter: f64) -> Option<Duration> {
    let step = SCHEDULE_SECONDS.get(usize::try_from(attempts).ok()?)?;
    let seconds = *step as f64 * scale.max(0.0) * jitter.max(0.0);
    Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
}

/// `Retry-After` (RFC 9110): delay-seconds or an HTTP-date in any of its three forms,
/// capped; `None` when it is neither. A date in the past is no wait.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is still a number of seconds: past any cap.
        value
            .parse::<u64>()
            .map_or(RETRY_AFTER_CAP, Duration::from_secs)
    } else {
        let at = http_date(value)?;
        (at - now).to_std().unwrap_or_default()
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or the obsolete RFC 850 and asctime
/// forms recipients must still accept.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc2822(value) {
        return Some(at.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn retry_after_reads_seconds_and_the_three_date_forms() {
        let now = at("1994-11-06T08:49:30Z");
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("0", now), Some(Duration::ZERO));
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                retry_after(date, now),
                Some(Duration::from_secs(7)),
                "{date}"
            );
        }
        // A date already past: no wait, not a refusal.
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_refuses_garbage_and_negatives_and_caps_huge_waits() {
        let now = at("2026-01-01T00:00:00Z");
        for bad in [
            "",
            "soon",
            "-5",
            "3.5",
            "+3",
            "1e3",
            "Sun, 99 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(retry_after(bad, now), None, "{bad:?}");
        }
        assert_eq!(retry_after("999999999", now), Some(RETRY_AFTER_CAP));
        assert_eq!(
            retry_after("99999999999999999999999999", now),
            Some(RETRY_AFTER_CAP)
        );
        assert_eq!(
            retry_after("Fri, 01 Jan 2100 00:00:00 GMT", now),
            Some(RETRY_AFTER_CAP)
        );
    }

    #[test]
    fn the_schedule_grows_to_about_three_days_then_ends() {
        let steps: Vec<Duration> = (0..)
            .map_while(|attempts| retry_delay(attempts, 1.0, 1.0))
            .collect();
        assert_eq!(steps.len(), SCHEDULE_SECONDS.len());
        assert_eq!(steps[0], Duration::from_secs(5));
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
        let total: Duration = steps.iter().sum();
        let days = total.as_secs_f64() / 86_400.0;
        assert!((2.5..=3.5).contains(&days), "{days} days");
        // Even with the jitter at either end the total stays around three days.
        for jitter in [JITTER.start, JITTER.end] {
            let total: f64 = (0..)
                .map_while(|a| retry_delay(a, 1.0, jitter))
                .map(|d| d.as_secs_f64() / 86_400.0)
                .sum();
            assert!((2.0..=4.0).contains(&total), "{total} days at {jitter}");
        }
        assert_eq!(
            retry_delay(u32::try_from(steps.len()).unwrap_or(0), 1.0, 1.0),
            None
        );
    }

    #[test]
    fn jitter_stays_within_a_fifth_of_each_step_and_scales() {
        for attempts in 0..u32::try_from(SCHEDULE_SECONDS.len()).unwrap_or(0) {
            let plain = retry_delay(attempts, 1.0, 1.0).unwrap_or_default();
            for _ in 0..100 {
                let jitter = rand::rng().random_range(JITTER);
                let wait = retry_delay(attempts, 1.0, jitter).unwrap_or_default();
                assert!(wait >= plain.mul_f64(0.8) && wait <= plain.mul_f64(1.2));
            }
        }
        // The tests' scale: the three days in under three seconds.
        let scale = 0.05 / 5000.0;
        let total: Duration = (0..).map_while(|a| retry_delay(a, scale, 1.0)).sum();
        assert!(total < Duration::from_secs(3), "{total:?}");
        assert!(total > Duration::from_secs(2), "{total:?}");
    }
}
