//! Plugins at start: load the `[[plugins]]` entries, adapt trigger matchers and channels
//! to the engine's ports, and keep what was loaded (and what failed) for
//! `GET /api/v1/plugins` and `baton plugins`. A plugin that fails to load is reported and
//! skipped; the host serves without it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use baton_channel_messaging::{Channels, ProviderDeliverer};
use baton_engine::{Deliverer, Extensions, MatcherHit, TriggerMatcher};
use baton_plugin_host::{Channel, Kind, Matcher, Plugin, PluginSpec};

use crate::config::PluginEntry;

/// How long a matcher may take on one message before it counts as no trigger.
const MATCHER_TIMEOUT: Duration = Duration::from_secs(2);

/// A `[[plugins]]` entry that did not load.
#[derive(Debug, Clone)]
pub struct Failure {
    pub name: String,
    pub path: String,
    pub error: String,
}

/// The plugins of this host.
#[derive(Debug, Clone, Default)]
pub struct Plugins {
    pub loaded: Vec<Plugin>,
    pub failed: Vec<Failure>,
}

impl Plugins {
    /// Loads every entry (calling each plugin's `init`); failures are kept, not fatal.
    pub fn load(entries: &[PluginEntry]) -> Plugins {
        let specs: Vec<PluginSpec> = entries.iter().map(PluginEntry::spec).collect();
        let (loaded, errors) = baton_plugin_host::load_all(&specs);
        Plugins {
            loaded,
            failed: errors
                .into_iter()
                .map(|e| Failure {
                    name: e.name().to_owned(),
                    path: e.path().display().to_string(),
                    error: e.to_string(),
                })
                .collect(),
        }
    }

    /// The channel plugins by name: the webhook routes' table.
    pub fn channels(&self) -> Channels {
        Arc::new(
            self.loaded
                .iter()
                .filter_map(|p| Some((p.name().to_owned(), Channel::new(p.clone())?)))
                .collect(),
        )
    }

    /// What the engine gets: matchers in configured order, and a deliverer per channel.
    pub fn extensions(&self, client: &reqwest::Client) -> Extensions {
        let matchers = self
            .loaded
            .iter()
            .filter(|p| p.kind() == Kind::TriggerMatcher)
            .filter_map(|p| Matcher::new(p.clone()))
            .map(|m| Arc::new(PluginMatcher(m)) as Arc<dyn TriggerMatcher>)
            .collect();
        let deliverers: HashMap<String, Arc<dyn Deliverer>> = self
            .channels()
            .iter()
            .map(|(name, channel)| {
                let deliverer = ProviderDeliverer::new(channel.clone(), client.clone());
                (name.clone(), Arc::new(deliverer) as Arc<dyn Deliverer>)
            })
            .collect();
        Extensions {
            matchers,
            deliverers,
        }
    }
}

/// A matcher plugin as the engine's port.
#[derive(Debug)]
struct PluginMatcher(Matcher);

#[async_trait]
impl TriggerMatcher for PluginMatcher {
    fn name(&self) -> &str {
        self.0.plugin().name()
    }

    async fn find(&self, text: &str, channel: &str) -> Result<Option<MatcherHit>, String> {
        let hit = self
            .0
            .find(text, Some(channel), MATCHER_TIMEOUT)
            .await
            .map_err(|e| e.to_string())?;
        Ok(hit.map(|hit| MatcherHit {
            matched: hit.matched,
            span: (hit.start <= hit.end).then_some(hit.start..hit.end),
        }))
    }
}
