//! What plugins add to the engine, as ports: trigger matchers that run beside the
//! built-in ones (B2), and deliverers that send outbox messages on channels whose
//! delivery is not a live event (B1: messaging providers). The host adapts loaded
//! plugins to these traits; the engine knows nothing of the ABI.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::model::OutboxItem;

/// A trigger found by a matcher plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherHit {
    pub matched: String,
    /// Byte range in the message, when the matcher gave a valid one.
    pub span: Option<Range<usize>>,
}

/// A trigger matcher the engine asks after the built-in matchers found nothing.
#[async_trait]
pub trait TriggerMatcher: Send + Sync + std::fmt::Debug {
    /// The name the configuration gives it: the trigger kind is `plugin:<name>`.
    fn name(&self) -> &str;

    /// The first trigger in `text`. An error is logged and counts as no trigger: a
    /// broken plugin must not stop a conversation.
    async fn find(&self, text: &str, channel: &str) -> Result<Option<MatcherHit>, String>;
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Try again later; `after` when the provider said how long to wait.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Will never succeed; the outbox row is marked failed.
    Failed {
        reason: String,
    },
}

/// Sends outbox messages of one channel (a messaging provider).
#[async_trait]
pub trait Deliverer: Send + Sync + std::fmt::Debug {
    async fn deliver(&self, item: &OutboxItem) -> Delivery;
}

/// The plugins wired into an engine.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    /// Asked in order; the first hit wins.
    pub matchers: Vec<Arc<dyn TriggerMatcher>>,
    /// By channel name. Channels without one (web chat) deliver by publishing events.
    pub deliverers: HashMap<String, Arc<dyn Deliverer>>,
}
