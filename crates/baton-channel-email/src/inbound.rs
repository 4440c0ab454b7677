//! One fetched mail, from raw bytes to a committed conversation message: kept raw first,
//! then parsed (quarantined when that fails or takes too long), classified (only human
//! mail goes on), threaded, and ingested with its new text. Its row says `done` only
//! after the conversation message committed, so a crash in between handles it again and
//! the engine's `client_message_id` (the Message-ID) keeps it stored and answered once.

use std::sync::Arc;
use std::time::Duration;

use baton_core::ids::ConversationId;
use baton_engine::model::{Conversation, ConversationStatus, Visitor};
use baton_engine::{Engine, StoreError};
use baton_store::{EmailThread, MailOutcome, MailStatus, SeaStore, ThreadMessageId};
use chrono::Utc;
use serde_json::json;

use crate::classify::{Classification, Kind, Ours, classify};
use crate::config::MailboxConfig;
use crate::mail::InboundMail;
use crate::parse::{ParseOptions, parse};
use crate::threading;

/// A parse that takes longer than this is given up on and the mail quarantined.
const PARSE_TIMEOUT: Duration = Duration::from_secs(20);

/// What the handler needs.
#[derive(Debug, Clone)]
pub(crate) struct Inbound {
    pub engine: Engine,
    pub store: SeaStore,
    pub options: ParseOptions,
    pub pause_before_commit: Duration,
    pub trust: crate::tls::Trust,
}

/// The key a raw mail is stored under: its Message-ID, else the id the parser derives
/// from its bytes (so both agree for a refetched copy).
pub fn storage_id(raw: &[u8]) -> String {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..end]);
    crate::fields::message_id_field(&head, "message-id")
        .map(|id| id.replace('\0', ""))
        .unwrap_or_else(|| crate::parse::derived_id(raw))
}

/// How the error of a mail quarantined for its size begins: retrying it cannot help.
pub const TOO_LARGE: &str = "too large";

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Human => "human",
        Kind::AutoReply => "auto_reply",
        Kind::Bounce => "bounce",
        Kind::MailingList => "mailing_list",
        Kind::Ours => "ours",
    }
}

/// `Name <address>`, or whichever of the two the mail has.
fn sender(mail: &InboundMail) -> Option<String> {
    let from = mail.from.as_ref()?;
    match (&from.name, &from.address) {
        (Some(name), Some(address)) => Some(format!("{name} <{address}>")),
        (Some(one), None) | (None, Some(one)) => Some(one.clone()),
        (None, None) => None,
    }
}

/// The attachments' metadata as JSON; their content stays in the raw mail.
fn attachments(mail: &InboundMail) -> String {
    serde_json::Value::Array(
        mail.attachments
            .iter()
            .map(|a| json!({"name": a.name, "content_type": a.content_type, "size": a.size}))
            .collect(),
    )
    .to_string()
}

/// Waits before handling a mail again after a database error; past them it is
/// quarantined (and can be retried by hand).
const BACKEND_RETRIES: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

impl Inbound {
    /// Keeps a fetched mail, then handles it. An error leaves it pending (it is handled
    /// again on the next fetch); a mail that cannot be parsed does not error.
    pub(crate) async fn receive(
        &self,
        mailbox: &MailboxConfig,
        uid: u32,
        raw: Vec<u8>,
    ) -> Result<MailStatus, StoreError> {
        let (id, status) = self
            .store
            .store_email(&mailbox.name, &storage_id(&raw), uid, &raw, Utc::now())
            .await?;
        if status != MailStatus::Pending {
            return Ok(status);
        }
        if !self.pause_before_commit.is_zero() {
            tokio::time::sleep(self.pause_before_commit).await;
        }
        // Shared, not copied, between the attempts: a mail may be tens of megabytes.
        let raw = Arc::new(raw);
        let mut waits = BACKEND_RETRIES.iter();
        let outcome = loop {
            match self.handle(mailbox, id, raw.clone()).await {
                // A database error may pass (SQLite busy, a PostgreSQL failover): the
                // mail is handled again, as often as a redelivered one would be.
                Err(StoreError::Backend(error)) => match waits.next() {
                    Some(wait) => {
                        tracing::info!(mailbox = %mailbox.name, id, %error, "handling failed; trying again");
                        tokio::time::sleep(*wait).await;
                    }
                    None => break Err(StoreError::Backend(error)),
                },
                outcome => break outcome,
            }
        };
        match outcome {
            Ok(status) => Ok(status),
            // A mail the store refuses (a value one database cannot hold, say) must not
            // hold up the mails behind it: it is quarantined with the error. When even
            // that fails the database is down, and the mailbox is read again later.
            Err(error) => {
                let error = format!("handling failed: {error}");
                tracing::warn!(mailbox = %mailbox.name, id, %error, "mail quarantined");
                self.quarantine(id, &error).await?;
                Ok(MailStatus::Quarantined)
            }
        }
    }

    /// A mail over the size limit: only its header is fetched and kept, and it is
    /// quarantined, so one huge mail can neither take the memory nor block the mailbox.
    pub(crate) async fn receive_oversized(
        &self,
        mailbox: &MailboxConfig,
        uid: u32,
        header: Vec<u8>,
        size: u32,
    ) -> Result<MailStatus, StoreError> {
        let (id, status) = self
            .store
            .store_email(
                &mailbox.name,
                &storage_id(&header),
                uid,
                &header,
                Utc::now(),
            )
            .await?;
        if status != MailStatus::Pending {
            return Ok(status);
        }
        let error = format!(
            "{TOO_LARGE}: {size} bytes, over the limit of {}; only its header is kept",
            self.options.max_message_bytes
        );
        tracing::warn!(mailbox = %mailbox.name, id, %error, "mail quarantined");
        self.quarantine(id, &error).await?;
        Ok(MailStatus::Quarantined)
    }

    async fn quarantine(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.store.quarantine_email(id, error).await
    }

    /// Handles a stored mail (pending, or quarantined and retried on request).
    pub(crate) async fn handle(
        &self,
        mailbox: &MailboxConfig,
        id: i64,
        raw: Arc<Vec<u8>>,
    ) -> Result<MailStatus, StoreError> {
        let mail = match self.parse(raw).await {
            Ok(mail) => mail,
            Err(error) => {
                tracing::warn!(mailbox = %mailbox.name, id, %error, "mail quarantined");
                self.quarantine(id, &error).await?;
                return Ok(MailStatus::Quarantined);
            }
        };
        let ours = Ours {
            message_id_domains: vec![mailbox.id_domain().to_owned()],
        };
        let class = classify(&mail, &ours);
        let found = self.find_conversation(mailbox, &mail).await?;
        if class.kind != Kind::Human {
            return self.ignore(&mailbox.name, id, &mail, &class, found).await;
        }
        let text = if mail.new_text.trim().is_empty() {
            // Nothing but quoted history (or attachments): staff and the agent see
            // the whole text rather than nothing.
            mail.text.trim()
        } else {
            mail.new_text.trim()
        };
        // PostgreSQL text cannot hold NUL, and no reader needs it.
        let text = text.replace('\0', "");
        let text = if text.is_empty() {
            "(an email without text)".to_owned()
        } else {
            text
        };
        // A close can land between finding the conversation and storing the mail: the
        // thread then goes on in the next conversation, as a later mail would.
        let mut tries = 0;
        let conversation = loop {
            let conversation = self.conversation(mailbox, &mail, found).await?;
            match self
                .engine
                .ingest(&conversation, &text, Some(&mail.message_id))
                .await
            {
                Err(StoreError::Conflict(_))
                    if conversation.status == ConversationStatus::Open && tries < 3 =>
                {
                    tries += 1;
                }
                outcome => {
                    outcome?;
                    break conversation;
                }
            }
        };
        self.store
            .finish_email(
                id,
                MailOutcome {
                    status: MailStatus::Done,
                    kind: Some(kind_name(class.kind)),
                    reason: Some(&class.reason),
                    error: None,
                    full_text: Some(&mail.text),
                    sender: sender(&mail).as_deref(),
                    subject: mail.subject.as_deref(),
                    attachments: Some(&attachments(&mail)),
                    conversation_id: Some(conversation.id),
                },
            )
            .await?;
        Ok(MailStatus::Done)
    }

    async fn parse(&self, raw: Arc<Vec<u8>>) -> Result<InboundMail, String> {
        let options = self.options;
        let task = tokio::task::spawn_blocking(move || parse(&raw, &options));
        match tokio::time::timeout(PARSE_TIMEOUT, task).await {
            Ok(Ok(Ok(mail))) => Ok(mail),
            Ok(Ok(Err(error))) => Err(error.to_string()),
            Ok(Err(join)) => Err(format!("the parser failed: {join}")),
            Err(_) => Err(format!(
                "parsing took longer than {} s",
                PARSE_TIMEOUT.as_secs()
            )),
        }
    }

    /// Recorded, never answered; a bounce of a message we sent shows as
    /// `delivery_failed` on its conversation.
    async fn ignore(
        &self,
        mailbox: &str,
        id: i64,
        mail: &InboundMail,
        class: &Classification,
        found: Option<ConversationId>,
    ) -> Result<MailStatus, StoreError> {
        let mut conversation = found;
        if class.kind == Kind::Bounce
            && let Some(original) = &class.original_message_id
            && let Some(sent) = self.store.sent_email(original).await?
        {
            conversation = Some(sent.conversation_id);
            self.store
                .email_audit(
                    "delivery_failed",
                    Some(sent.conversation_id),
                    json!({
                        "channel": "email",
                        "mailbox": mailbox,
                        "message_id": sent.outbox_message_id,
                        "email_message_id": original,
                        "to": sent.address,
                        "reason": format!("bounced: {}", class.reason),
                    }),
                    Utc::now(),
                )
                .await?;
        }
        tracing::info!(
            mailbox, id, kind = kind_name(class.kind),
            reason = %class.reason, "mail recorded, not answered"
        );
        self.store
            .finish_email(
                id,
                MailOutcome {
                    status: MailStatus::Ignored,
                    kind: Some(kind_name(class.kind)),
                    reason: Some(&class.reason),
                    error: None,
                    full_text: Some(&mail.text),
                    sender: sender(mail).as_deref(),
                    subject: mail.subject.as_deref(),
                    attachments: Some(&attachments(mail)),
                    conversation_id: conversation,
                },
            )
            .await?;
        Ok(MailStatus::Ignored)
    }

    /// The conversation a mail continues: by In-Reply-To, then References, then our
    /// reply address among its recipients, then the subject tag.
    async fn find_conversation(
        &self,
        mailbox: &MailboxConfig,
        mail: &InboundMail,
    ) -> Result<Option<ConversationId>, StoreError> {
        let mut ids: Vec<String> = mail.in_reply_to.iter().cloned().collect();
        ids.extend(mail.references.iter().rev().cloned());
        if let Some(found) = self.store.conversation_by_message_ids(&ids).await? {
            return Ok(Some(found));
        }
        let domain = mailbox.id_domain();
        let tagged = ids
            .iter()
            .find_map(|id| threading::conversation_of_our_id(id, domain))
            .or_else(|| {
                mail.to.iter().find_map(|to| {
                    threading::conversation_of_address(to.address.as_deref()?, &mailbox.address)
                })
            })
            .or_else(|| threading::conversation_of_subject(mail.subject.as_deref()?));
        let Some(tagged) = tagged else {
            return Ok(None);
        };
        // A tag only counts for a conversation of this mailbox.
        let thread = self.store.email_thread(ConversationId(tagged)).await?;
        Ok(thread
            .filter(|t| t.mailbox == mailbox.name)
            .map(|t| t.conversation_id))
    }

    /// The open conversation the mail goes to: the one it continues (or, when that one is
    /// closed, the next in its thread), else a new one for its sender.
    async fn conversation(
        &self,
        mailbox: &MailboxConfig,
        mail: &InboundMail,
        found: Option<ConversationId>,
    ) -> Result<Conversation, StoreError> {
        let store = self.engine.store();
        let sender = mail.from.clone().unwrap_or_default();
        let address = sender.address.clone().unwrap_or_default();
        let visitor = Visitor {
            name: sender.name.clone().or_else(|| sender.address.clone()),
            email: sender.address.clone(),
        };
        let thread = match found {
            Some(id) => self.store.email_thread(id).await?,
            None => None,
        };
        let (conversation, thread) = match thread {
            Some(thread) => {
                let current = store.conversation(thread.conversation_id).await?;
                if current.status == ConversationStatus::Open {
                    (current, thread)
                } else {
                    let root = thread.references.first().cloned().unwrap_or_default();
                    let key = format!("{}:{root}", mailbox.name);
                    let next = store
                        .thread_conversation("email", &key, visitor, None, Utc::now())
                        .await?;
                    (next, thread)
                }
            }
            None => {
                let key = format!("{}:{}", mailbox.name, mail.message_id);
                let created = store
                    .thread_conversation("email", &key, visitor, None, Utc::now())
                    .await?;
                let mut references = mail.references.clone();
                if references.is_empty() {
                    references.extend(mail.in_reply_to.iter().cloned());
                }
                let thread = EmailThread {
                    conversation_id: created.id,
                    mailbox: mailbox.name.clone(),
                    address: address.clone(),
                    subject: mail.subject.clone().unwrap_or_default(),
                    references,
                };
                (created, thread)
            }
        };
        self.store
            .create_email_thread(&EmailThread {
                conversation_id: conversation.id,
                ..thread
            })
            .await?;
        self.store
            .record_email_message_id(
                ThreadMessageId {
                    message_id: &mail.message_id,
                    conversation_id: conversation.id,
                    outgoing: false,
                    automatic: false,
                    address: Some(&address),
                    outbox_message_id: None,
                },
                Utc::now(),
            )
            .await?;
        Ok(conversation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_id_is_the_message_id_or_the_derived_one() {
        let raw =
            b"From: a@b.test\r\nMessage-ID: <x1@b.test>\r\n\r\nbody Message-ID: <no@b.test>\r\n";
        assert_eq!(storage_id(raw), "x1@b.test");
        let bare = b"From: a@b.test\r\nSubject: hi\r\n\r\nMessage-ID: <in-body@b.test>\r\n";
        let derived = storage_id(bare);
        assert!(derived.ends_with("@baton.invalid"), "{derived}");
        assert_eq!(derived, storage_id(bare));
        assert_eq!(
            parse(bare, &ParseOptions::default())
                .map(|m| m.message_id)
                .ok(),
            Some(derived)
        );
    }
}
