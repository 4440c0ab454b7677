//! What the console shows that this host owns: its plugins and workflow templates.

use std::sync::Arc;

use baton_console::{Catalog, FailedPlugin, LoadedPlugin, MailsFuture, PluginReport, ReceivedMail};
use baton_core::ids::ConversationId;
use baton_plugin_host::HealthState;
use baton_workflows::Definition;

use crate::plugins::Plugins;
use crate::templates::FileTemplate;

#[derive(Debug)]
pub struct HostCatalog {
    pub plugins: Arc<Plugins>,
    pub templates: Arc<Vec<FileTemplate>>,
    pub journal: crate::journal::Journal,
    pub email: baton_channel_email::Email,
}

impl Catalog for HostCatalog {
    fn stream_position(&self) -> Option<String> {
        Some(self.journal.id(self.journal.head_seq()))
    }

    fn received_mails(&self, conversation: ConversationId) -> MailsFuture<'_> {
        Box::pin(async move {
            let mails = match self.email.conversation_mails(conversation).await {
                Ok(mails) => mails,
                Err(error) => {
                    // The page still shows the transcript; the log says why not the mails.
                    tracing::warn!(%error, conversation = conversation.0, "reading the conversation's mails");
                    return Vec::new();
                }
            };
            mails
                .into_iter()
                .map(|mail| ReceivedMail {
                    from: mail.sender.unwrap_or_default(),
                    subject: mail.subject.unwrap_or_default(),
                    received_at: mail.received_at,
                    text: mail.full_text.unwrap_or_default(),
                    attachments: attachments(mail.attachments.as_deref()),
                })
                .collect()
        })
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

/// "name (type, size)" per attachment, from the JSON the email store keeps.
fn attachments(json: Option<&str>) -> Vec<String> {
    let Some(list) = json.and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()) else {
        return Vec::new();
    };
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|a| {
                    format!(
                        "{} ({}, {} bytes)",
                        a["name"].as_str().unwrap_or("unnamed"),
                        a["content_type"].as_str().unwrap_or("unknown type"),
                        a["size"].as_u64().unwrap_or(0)
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
