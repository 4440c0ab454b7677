//! Prometheus metrics (B11): what the engine reports through its `Telemetry` port, plus
//! the queue length read from the database at scrape time (one query per scrape instead
//! of one per message).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabel {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandoffLabels {
    trigger: String,
    process: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    messages: Family<ChannelLabel, Counter>,
    handoffs: Family<HandoffLabels, Counter>,
    handbacks: Family<ReasonLabel, Counter>,
    reopened: Counter,
    assignment_latency: Histogram,
    queue_length: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("baton");
        let messages = Family::<ChannelLabel, Counter>::default();
        let handoffs = Family::<HandoffLabels, Counter>::default();
        let handbacks = Family::<ReasonLabel, Counter>::default();
        let reopened = Counter::default();
        // 1 ms .. ~9 h: immediate assignments and long queue waits both land in a bucket.
        let assignment_latency = Histogram::new(exponential_buckets(0.001, 4.0, 13));
        let queue_length = Gauge::default();
        registry.register(
            "messages_ingested",
            "Visitor messages ingested, by channel",
            messages.clone(),
        );
        registry.register(
            "handoffs",
            "Handoffs, by trigger kind and process",
            handoffs.clone(),
        );
        registry.register(
            "handbacks",
            "Conversations given back to the customer agent, by reason (staff or visitor)",
            handbacks.clone(),
        );
        registry.register(
            "conversations_reopened",
            "Closed conversations opened again",
            reopened.clone(),
        );
        registry.register(
            "assignment_latency_seconds",
            "Time from handoff to assignment",
            assignment_latency.clone(),
        );
        registry.register(
            "queue_length",
            "Conversations waiting for an eligible user",
            queue_length.clone(),
        );
        // Series exist at 0 from the start, so a dashboard's rate() has a baseline.
        messages
            .get_or_create(&ChannelLabel {
                channel: baton_channel_chat::CHANNEL.into(),
            })
            .get();
        for trigger in [
            "cannot_answer",
            "asks_for_human",
            "agent_paused",
            "frustrated",
            "custom",
            "visitor_choice",
        ] {
            for process in ["live", "async"] {
                handoffs
                    .get_or_create(&HandoffLabels {
                        trigger: trigger.into(),
                        process: process.into(),
                    })
                    .get();
            }
        }
        for reason in ["staff", "visitor"] {
            handbacks
                .get_or_create(&ReasonLabel {
                    reason: reason.into(),
                })
                .get();
        }
        Metrics {
            registry,
            messages,
            handoffs,
            handbacks,
            reopened,
            assignment_latency,
            queue_length,
        }
    }

    pub fn encode(&self, queue_length: u64) -> String {
        self.queue_length
            .set(i64::try_from(queue_length).unwrap_or(i64::MAX));
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(%error, "metrics encoding failed");
        }
        out
    }
}

impl baton_engine::Telemetry for Metrics {
    fn message_ingested(&self, channel: &str) {
        self.messages
            .get_or_create(&ChannelLabel {
                channel: channel.to_owned(),
            })
            .inc();
    }

    fn handoff(&self, trigger_kind: &str, process: &str) {
        self.handoffs
            .get_or_create(&HandoffLabels {
                trigger: trigger_kind.to_owned(),
                process: process.to_owned(),
            })
            .inc();
    }

    fn assigned(&self, waited_seconds: f64) {
        self.assignment_latency.observe(waited_seconds);
    }

    fn handed_back(&self, reason: &str) {
        self.handbacks
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    fn reopened(&self) {
        self.reopened.inc();
    }
}
