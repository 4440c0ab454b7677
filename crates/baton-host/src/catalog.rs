//! What the console shows that this host owns: its plugins and workflow templates.

use std::sync::Arc;

use baton_console::{Catalog, FailedPlugin, LoadedPlugin, PluginReport};
use baton_plugin_host::HealthState;
use baton_workflows::Definition;

use crate::plugins::Plugins;
use crate::templates::FileTemplate;

#[derive(Debug)]
pub struct HostCatalog {
    pub plugins: Arc<Plugins>,
    pub templates: Arc<Vec<FileTemplate>>,
    pub journal: crate::journal::Journal,
}

impl Catalog for HostCatalog {
    fn stream_position(&self) -> Option<String> {
        Some(self.journal.id(self.journal.head_seq()))
    }

    fn plugins(&self) -> PluginReport {
        PluginReport {
            loaded: self
                .plugins
                .loaded
                .iter()
                .map(|p| {
                    let health = p.health();
                    let (state, reason) = match health.state {
                        HealthState::Healthy => ("healthy".to_owned(), None),
                        HealthState::Disabled { reason } => ("disabled".to_owned(), Some(reason)),
                    };
                    LoadedPlugin {
                        name: p.name().to_owned(),
                        kind: p.kind().as_str().to_owned(),
                        crate_name: p.crate_name().to_owned(),
                        sdk_version: p.sdk_version().to_owned(),
                        state,
                        reason,
                        calls: health.calls,
                        errors: health.errors,
                        panics: health.panics,
                    }
                })
                .collect(),
            failed: self
                .plugins
                .failed
                .iter()
                .map(|f| FailedPlugin {
                    name: f.name.clone(),
                    path: f.path.clone(),
                    error: f.error.clone(),
                })
                .collect(),
        }
    }

    fn templates(&self) -> Vec<(String, Definition)> {
        crate::templates::catalogue(&self.templates)
            .into_iter()
            .map(|t| (t.id, t.definition))
            .collect()
    }
}
