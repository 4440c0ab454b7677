//! The settings and agent state as decisions need them, compiled once per version.
//!
//! Reading them from the database for every message would double the cost of a turn, so
//! the engine keeps a snapshot: a local change replaces it at once, and it is re-read
//! after `ttl` so that changes made by another host take effect within that time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use baton_core::settings::HandoffSettings;
use baton_core::text::PhraseMatcher;
use tokio::sync::RwLock;

use crate::model::VersionedSettings;
use crate::ports::{Store, StoreResult};

#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) version: i64,
    pub(crate) settings: Arc<HandoffSettings>,
    pub(crate) phrases: PhraseMatcher,
}

impl Compiled {
    pub(crate) fn new(versioned: VersionedSettings) -> Self {
        let phrases = PhraseMatcher::new(&versioned.settings.custom_triggers);
        Compiled {
            version: versioned.version,
            settings: Arc::new(versioned.settings),
            phrases,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) compiled: Arc<Compiled>,
    pub(crate) agent_paused: bool,
    loaded_at: Instant,
}

#[derive(Debug)]
pub(crate) struct SnapshotCache {
    ttl: Duration,
    current: RwLock<Option<Snapshot>>,
    /// Bumped by every invalidation: a load that started before one must not store what
    /// it read, or an old snapshot would outlive the change for a whole TTL.
    generation: AtomicU64,
}

impl SnapshotCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        SnapshotCache {
            ttl,
            current: RwLock::new(None),
            generation: AtomicU64::new(0),
        }
    }

    pub(crate) async fn get(&self, store: &dyn Store) -> StoreResult<Snapshot> {
        if let Some(snapshot) = self.current.read().await.as_ref()
            && snapshot.loaded_at.elapsed() < self.ttl
        {
            return Ok(snapshot.clone());
        }
        loop {
            let generation = self.generation.load(Ordering::Acquire);
            let versioned = store.settings().await?;
            let agent_paused = store.agent_paused().await?;
            let mut current = self.current.write().await;
            if self.generation.load(Ordering::Acquire) != generation {
                // Invalidated while reading: what was read may predate the change.
                continue;
            }
            // Recompile only when the version moved: compiling 10,000 phrases is not free.
            let compiled = match current.as_ref() {
                Some(old) if old.compiled.version == versioned.version => old.compiled.clone(),
                _ => Arc::new(Compiled::new(versioned)),
            };
            let snapshot = Snapshot {
                compiled,
                agent_paused,
                loaded_at: Instant::now(),
            };
            *current = Some(snapshot.clone());
            return Ok(snapshot);
        }
    }

    /// Forgets the snapshot after a change, so the next decision reads it anew.
    pub(crate) async fn invalidate(&self) {
        let mut current = self.current.write().await;
        self.generation.fetch_add(1, Ordering::AcqRel);
        *current = None;
    }
}
