//! The running email channel: one reader task per mailbox, each mailbox's state for the
//! channels API, and the quarantine (listed and retried on request).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use baton_engine::{Engine, StoreError};
use baton_store::{MailStatus, SeaStore, StoredMail};

use crate::config::{EmailConfig, MailboxConfig};
use crate::imap::{self, MailboxState, SharedState};
use crate::inbound::Inbound;
use crate::tls::Trust;

/// The email channel of one host.
#[derive(Debug, Clone)]
pub struct Email {
    inbound: Inbound,
    config: Arc<EmailConfig>,
    states: Arc<HashMap<String, SharedState>>,
}

/// A mailbox as `GET /api/v1/channels` shows it.
#[derive(Debug, Clone)]
pub struct MailboxStatus {
    pub name: String,
    pub address: String,
    pub state: MailboxState,
    pub quarantined: u64,
    /// Stored and not yet handled (fetched, or left by a crash).
    pub pending: u64,
}

/// Why a quarantined mail could not be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no mailbox is named {0:?}")]
    NoMailbox(String),
    #[error("mail {0} is not quarantined in this mailbox")]
    NotQuarantined(i64),
    #[error("mail {0} is over the size limit; only its header was kept, so a retry cannot help")]
    TooLarge(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Email {
    pub fn new(engine: Engine, store: SeaStore, config: Arc<EmailConfig>, trust: Trust) -> Self {
        let states = config
            .mailboxes
            .iter()
            .map(|m| (m.name.clone(), SharedState::default()))
            .collect();
        Email {
            inbound: Inbound {
                engine,
                store,
                options: config.parse_options(),
                pause_before_commit: Duration::from_millis(config.test_pause_before_commit_ms),
                trust,
            },
            config,
            states: Arc::new(states),
        }
    }

    /// Starts one reader per mailbox; they run as long as the runtime.
    pub fn spawn(&self) {
        for mailbox in &self.config.mailboxes {
            let state = self.states.get(&mailbox.name).cloned().unwrap_or_default();
            tokio::spawn(imap::run(self.inbound.clone(), mailbox.clone(), state));
        }
    }

    pub fn mailboxes(&self) -> &[MailboxConfig] {
        &self.config.mailboxes
    }

    fn mailbox(&self, name: &str) -> Result<&MailboxConfig, RetryError> {
        self.config
            .mailboxes
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| RetryError::NoMailbox(name.to_owned()))
    }

    /// Every mailbox's state, in configuration order.
    pub async fn status(&self) -> Result<Vec<MailboxStatus>, StoreError> {
        let mut out = Vec::new();
        for mailbox in &self.config.mailboxes {
            let state = self
                .states
                .get(&mailbox.name)
                .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone())
                .unwrap_or_default();
            let quarantined = self
                .inbound
                .store
                .count_email_mails(&mailbox.name, MailStatus::Quarantined)
                .await?;
            let pending = self
                .inbound
                .store
                .count_email_mails(&mailbox.name, MailStatus::Pending)
                .await?;
            out.push(MailboxStatus {
                pending,
                name: mailbox.name.clone(),
                address: mailbox.address.clone(),
                state,
                quarantined,
            });
        }
        Ok(out)
    }

    /// The quarantined mails of mailbox `name`, oldest first.
    pub async fn quarantined(&self, name: &str) -> Result<Vec<StoredMail>, RetryError> {
        self.mailbox(name)?;
        Ok(self
            .inbound
            .store
            .email_mails(name, MailStatus::Quarantined, 1000)
            .await?)
    }

    /// The mailbox's latest mails, newest first.
    pub async fn recent(
        &self,
        name: &str,
        limit: u64,
        before: Option<i64>,
    ) -> Result<Vec<StoredMail>, RetryError> {
        self.mailbox(name)?;
        Ok(self
            .inbound
            .store
            .recent_email_mails(name, limit, before)
            .await?)
    }

    /// The inbound mails of conversation `id`, oldest first.
    pub async fn conversation_mails(
        &self,
        id: baton_core::ids::ConversationId,
    ) -> Result<Vec<StoredMail>, StoreError> {
        self.inbound.store.conversation_emails(id).await
    }

    /// Handles quarantined mail `id` of mailbox `name` again: what it becomes (done,
    /// ignored, or quarantined again with the new error).
    pub async fn retry(&self, name: &str, id: i64) -> Result<MailStatus, RetryError> {
        let mailbox = self.mailbox(name)?;
        let stored = self
            .inbound
            .store
            .email_mail(id)
            .await?
            .filter(|m| m.mailbox == name && m.status == MailStatus::Quarantined)
            .ok_or(RetryError::NotQuarantined(id))?;
        if stored
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with(crate::inbound::TOO_LARGE))
        {
            return Err(RetryError::TooLarge(id));
        }
        Ok(self
            .inbound
            .handle(mailbox, stored.id, std::sync::Arc::new(stored.raw))
            .await?)
    }
}
