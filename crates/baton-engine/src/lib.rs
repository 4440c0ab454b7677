//! The use cases of Baton: ingest a visitor message, decide, hand off, assign, drain the
//! queue, deliver the outbox, publish events. Async, but IO-free by itself: it talks to
//! the world only through the ports in [`ports`], which the store, agent and channel
//! crates implement.

mod engine;
pub mod events;
pub mod extensions;
pub mod model;
pub mod ports;
mod snapshot;
mod summary;

pub use engine::{
    Engine, EngineConfig, HANDBACK_MESSAGE, IngestResult, REOPEN_MESSAGE, Simulation, TalkTo,
};
pub use events::Event;
pub use extensions::{Deliverer, Delivery, Extensions, MatcherHit, TriggerMatcher};
pub use ports::{Answerer, Store, StoreError, StoreResult};

/// Metrics the engine reports; the host maps them to Prometheus.
pub trait Telemetry: Send + Sync + std::fmt::Debug {
    fn message_ingested(&self, channel: &str);
    fn handoff(&self, trigger_kind: &str, process: &str);
    fn assigned(&self, waited_seconds: f64);
    /// A conversation went back to the customer agent; `reason` is `staff` or `visitor`.
    fn handed_back(&self, reason: &str);
    /// A closed conversation was opened again.
    fn reopened(&self);
}

/// Telemetry that records nothing, for tools and tests that do not scrape metrics.
#[derive(Debug, Default)]
pub struct NoTelemetry;

impl Telemetry for NoTelemetry {
    fn message_ingested(&self, _channel: &str) {}
    fn handoff(&self, _trigger_kind: &str, _process: &str) {}
    fn assigned(&self, _waited_seconds: f64) {}
    fn handed_back(&self, _reason: &str) {}
    fn reopened(&self) {}
}
