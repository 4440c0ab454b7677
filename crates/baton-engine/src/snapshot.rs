//! The settings and agent state as decisions need them, compiled once per version.
//!
//! Reading them from the database for every message would double the cost of a turn, so
//! the engine keeps a snapshot: a local change replaces it at once, and it is re-read
//! after `ttl` so that changes made by another host take effect within that time.

use std::sync::Arc;
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
}

impl SnapshotCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        SnapshotCache {
            ttl,
            current: RwLock::new(None),
        }
    }

    pub(crate) async fn get(&self, store: &dyn Store) -> StoreResult<Snapshot> {
        if let Some(snapshot) = self.current.read().await.as_ref()
            && snapshot.loaded_at.elapsed() < self.ttl
        {
            return Ok(snapshot.clone());
        }
        let versioned = store.settings().await?;
        let agent_paused = store.agent_paused().await?;
        let mut current = self.current.write().await;
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
        Ok(snapshot)
    }

    /// Forgets the snapshot after a local change, so the next decision reads it anew.
    pub(crate) async fn invalidate(&self) {
        *self.current.write().await = None;
    }
}
