//! The email channel's rows: each mailbox's IMAP position (UIDVALIDITY and last UID),
//! every inbound mail kept raw before it is parsed (once per mailbox and Message-ID), the
//! Message-IDs that identify conversations, and each email conversation's thread (who,
//! what subject, the References chain).

use baton_core::ids::ConversationId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde_json::Value;

use crate::convert::{micros, time};
use crate::{Result, SeaStore, backend};

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    };
}

#[allow(unreachable_pub)] // the derive macros generate `pub` items
mod mailbox {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "email_mailboxes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub mailbox: String,
        pub uid_validity: i64,
        pub last_uid: i64,
    }
    no_relations!();
}

#[allow(unreachable_pub)]
mod mail {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "email_mails")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub mailbox: String,
        pub message_id: String,
        pub uid: i64,
        pub raw: Vec<u8>,
        pub received_at: i64,
        pub status: String,
        pub kind: Option<String>,
        pub reason: Option<String>,
        pub error: Option<String>,
        pub full_text: Option<String>,
        pub sender: Option<String>,
        pub subject: Option<String>,
        pub attachments: Option<String>,
        pub conversation_id: Option<i64>,
    }
    no_relations!();
}

#[allow(unreachable_pub)]
mod message_id {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "email_message_ids")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: String,
        pub conversation_id: i64,
        pub outgoing: bool,
        pub automatic: bool,
        pub address: Option<String>,
        pub outbox_message_id: Option<i64>,
        pub at: i64,
    }
    no_relations!();
}

#[allow(unreachable_pub)]
mod thread {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "email_threads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub conversation_id: i64,
        pub mailbox: String,
        pub address: String,
        pub subject: String,
        pub reference_ids: String,
    }
    no_relations!();
}

/// Where an inbound mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    /// Stored, not yet handled (or handled until a crash).
    Pending,
    /// Its conversation message committed.
    Done,
    /// Recorded and not answered: an auto-reply, a bounce, a list, our own.
    Ignored,
    /// It failed to parse or timed out: kept for staff and retried on request.
    Quarantined,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Done => "done",
            MailStatus::Ignored => "ignored",
            MailStatus::Quarantined => "quarantined",
        }
    }

    fn parse(value: &str) -> MailStatus {
        match value {
            "done" => MailStatus::Done,
            "ignored" => MailStatus::Ignored,
            "quarantined" => MailStatus::Quarantined,
            _ => MailStatus::Pending,
        }
    }
}

/// An inbound mail as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMail {
    pub id: i64,
    pub mailbox: String,
    pub message_id: String,
    pub uid: u32,
    pub raw: Vec<u8>,
    pub received_at: DateTime<Utc>,
    pub status: MailStatus,
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub error: Option<String>,
    /// The whole text, for staff (the conversation message holds the new text only).
    pub full_text: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// JSON: `[{"name", "content_type", "size"}]`.
    pub attachments: Option<String>,
    pub conversation_id: Option<ConversationId>,
}

impl From<mail::Model> for StoredMail {
    fn from(row: mail::Model) -> Self {
        StoredMail {
            id: row.id,
            mailbox: row.mailbox,
            message_id: row.message_id,
            uid: u32::try_from(row.uid).unwrap_or(0),
            raw: row.raw,
            received_at: time(row.received_at),
            status: MailStatus::parse(&row.status),
            kind: row.kind,
            reason: row.reason,
            error: row.error,
            full_text: row.full_text,
            sender: row.sender,
            subject: row.subject,
            attachments: row.attachments,
            conversation_id: row.conversation_id.map(ConversationId),
        }
    }
}

/// How an inbound mail was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailOutcome<'a> {
    pub status: MailStatus,
    pub kind: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub error: Option<&'a str>,
    pub full_text: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub attachments: Option<&'a str>,
    pub conversation_id: Option<ConversationId>,
}

/// An email conversation's thread: the mailbox it belongs to, whom we write to, the
/// subject, and the Message-IDs of the thread, oldest first (our References chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailThread {
    pub conversation_id: ConversationId,
    pub mailbox: String,
    pub address: String,
    pub subject: String,
    pub references: Vec<String>,
}

/// A Message-ID of a thread, with which way it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMessageId<'a> {
    pub message_id: &'a str,
    pub conversation_id: ConversationId,
    pub outgoing: bool,
    pub automatic: bool,
    pub address: Option<&'a str>,
    pub outbox_message_id: Option<i64>,
}

/// A Message-ID we sent, found again (a bounce matched to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub conversation_id: ConversationId,
    pub outbox_message_id: Option<i64>,
    pub address: Option<String>,
}

/// Mail text may hold NUL, which PostgreSQL text cannot.
fn no_nul(text: &str) -> String {
    text.replace('\0', "")
}

/// At most this many Message-IDs are kept in a thread's References chain: the first (the
/// thread's root) and the latest, as RFC 5322 suggests trimming a long chain.
const MAX_REFERENCES: usize = 40;

impl SeaStore {
    /// The mailbox's IMAP position: (UIDVALIDITY, the last UID handled).
    pub async fn email_cursor(&self, mailbox: &str) -> Result<Option<(u32, u32)>> {
        let row = mailbox::Entity::find_by_id(mailbox.to_owned())
            .one(&self.db)
            .await
            .map_err(backend)?;
        Ok(row.map(|r| {
            (
                u32::try_from(r.uid_validity).unwrap_or(0),
                u32::try_from(r.last_uid).unwrap_or(0),
            )
        }))
    }

    /// Sets the mailbox's IMAP position.
    pub async fn set_email_cursor(
        &self,
        mailbox: &str,
        uid_validity: u32,
        last_uid: u32,
    ) -> Result<()> {
        mailbox::Entity::insert(mailbox::ActiveModel {
            mailbox: Set(mailbox.to_owned()),
            uid_validity: Set(i64::from(uid_validity)),
            last_uid: Set(i64::from(last_uid)),
        })
        .on_conflict(
            OnConflict::column(mailbox::Column::Mailbox)
                .update_columns([mailbox::Column::UidValidity, mailbox::Column::LastUid])
                .to_owned(),
        )
        .exec(&self.db)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// Keeps `raw` as mail `message_id` of `mailbox`, or finds the copy already kept: a
    /// mail fetched again after a crash is stored once. Its id and status.
    pub async fn store_email(
        &self,
        mailbox: &str,
        message_id: &str,
        uid: u32,
        raw: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(i64, MailStatus)> {
        mail::Entity::insert(mail::ActiveModel {
            mailbox: Set(mailbox.to_owned()),
            message_id: Set(message_id.to_owned()),
            uid: Set(i64::from(uid)),
            raw: Set(raw.to_vec()),
            received_at: Set(micros(now)),
            status: Set(MailStatus::Pending.as_str().to_owned()),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([mail::Column::Mailbox, mail::Column::MessageId])
        .exec(&self.db)
        .await
        .map_err(backend)?;
        // Not the raw bytes again: the caller has them.
        mail::Entity::find()
            .select_only()
            .columns([mail::Column::Id, mail::Column::Status])
            .filter(mail::Column::Mailbox.eq(mailbox))
            .filter(mail::Column::MessageId.eq(message_id))
            .into_tuple::<(i64, String)>()
            .one(&self.db)
            .await
            .map_err(backend)?
            .map(|(id, status)| (id, MailStatus::parse(&status)))
            .ok_or_else(|| {
                backend(sea_orm::DbErr::RecordNotFound(format!(
                    "email {mailbox}/{message_id}"
                )))
            })
    }

    pub async fn email_mail(&self, id: i64) -> Result<Option<StoredMail>> {
        Ok(mail::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(backend)?
            .map(StoredMail::from))
    }

    /// Records how mail `id` was handled.
    pub async fn finish_email(&self, id: i64, outcome: MailOutcome<'_>) -> Result<()> {
        mail::Entity::update_many()
            .col_expr(mail::Column::Status, Expr::value(outcome.status.as_str()))
            .col_expr(mail::Column::Kind, Expr::value(outcome.kind))
            .col_expr(
                mail::Column::Reason,
                Expr::value(outcome.reason.map(no_nul)),
            )
            .col_expr(mail::Column::Error, Expr::value(outcome.error.map(no_nul)))
            .col_expr(
                mail::Column::FullText,
                Expr::value(outcome.full_text.map(no_nul)),
            )
            .col_expr(
                mail::Column::Sender,
                Expr::value(outcome.sender.map(no_nul)),
            )
            .col_expr(
                mail::Column::Subject,
                Expr::value(outcome.subject.map(no_nul)),
            )
            .col_expr(
                mail::Column::Attachments,
                Expr::value(outcome.attachments.map(no_nul)),
            )
            .col_expr(
                mail::Column::ConversationId,
                Expr::value(outcome.conversation_id.map(|c| c.0)),
            )
            .filter(mail::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Quarantines mail `id` with `error`, unless it was handled meanwhile (by another
    /// host reading the same mailbox): a late failure never hides a done mail.
    pub async fn quarantine_email(&self, id: i64, error: &str) -> Result<()> {
        mail::Entity::update_many()
            .col_expr(
                mail::Column::Status,
                Expr::value(MailStatus::Quarantined.as_str()),
            )
            .col_expr(mail::Column::Error, Expr::value(no_nul(error)))
            .filter(mail::Column::Id.eq(id))
            .filter(mail::Column::Status.is_in([
                MailStatus::Pending.as_str(),
                MailStatus::Quarantined.as_str(),
            ]))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// The mailbox's mails with `status`, oldest first.
    pub async fn email_mails(
        &self,
        mailbox: &str,
        status: MailStatus,
        limit: u64,
    ) -> Result<Vec<StoredMail>> {
        Ok(mail::Entity::find()
            .filter(mail::Column::Mailbox.eq(mailbox))
            .filter(mail::Column::Status.eq(status.as_str()))
            .order_by_asc(mail::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(backend)?
            .into_iter()
            .map(StoredMail::from)
            .collect())
    }

    pub async fn count_email_mails(&self, mailbox: &str, status: MailStatus) -> Result<u64> {
        mail::Entity::find()
            .filter(mail::Column::Mailbox.eq(mailbox))
            .filter(mail::Column::Status.eq(status.as_str()))
            .count(&self.db)
            .await
            .map_err(backend)
    }

    /// Every inbound mail of conversation `id`, oldest first, with its whole text.
    pub async fn conversation_emails(&self, id: ConversationId) -> Result<Vec<StoredMail>> {
        Ok(mail::Entity::find()
            .filter(mail::Column::ConversationId.eq(id.0))
            .order_by_asc(mail::Column::Id)
            .all(&self.db)
            .await
            .map_err(backend)?
            .into_iter()
            .map(StoredMail::from)
            .collect())
    }

    /// The mailbox's latest mails, newest first, before id `before` when given.
    pub async fn recent_email_mails(
        &self,
        mailbox: &str,
        limit: u64,
        before: Option<i64>,
    ) -> Result<Vec<StoredMail>> {
        let mut query = mail::Entity::find().filter(mail::Column::Mailbox.eq(mailbox));
        if let Some(before) = before {
            query = query.filter(mail::Column::Id.lt(before));
        }
        Ok(query
            .order_by_desc(mail::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(backend)?
            .into_iter()
            .map(StoredMail::from)
            .collect())
    }

    /// The conversation the first of `ids` that is ours or that we received belongs to.
    pub async fn conversation_by_message_ids(
        &self,
        ids: &[String],
    ) -> Result<Option<ConversationId>> {
        for id in ids {
            let row = message_id::Entity::find_by_id(id.clone())
                .one(&self.db)
                .await
                .map_err(backend)?;
            if let Some(row) = row {
                return Ok(Some(ConversationId(row.conversation_id)));
            }
        }
        Ok(None)
    }

    /// A Message-ID we sent, by its id.
    pub async fn sent_email(&self, id: &str) -> Result<Option<SentMessage>> {
        let row = message_id::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await
            .map_err(backend)?;
        Ok(row.filter(|r| r.outgoing).map(|r| SentMessage {
            conversation_id: ConversationId(r.conversation_id),
            outbox_message_id: r.outbox_message_id,
            address: r.address,
        }))
    }

    /// Records a Message-ID of a thread and appends it to the thread's References chain
    /// (both once: a retried send or a refetched mail records nothing new).
    pub async fn record_email_message_id(
        &self,
        entry: ThreadMessageId<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.db.begin().await.map_err(backend)?;
        let inserted = message_id::Entity::insert(message_id::ActiveModel {
            message_id: Set(entry.message_id.to_owned()),
            conversation_id: Set(entry.conversation_id.0),
            outgoing: Set(entry.outgoing),
            automatic: Set(entry.automatic),
            address: Set(entry.address.map(str::to_lowercase)),
            outbox_message_id: Set(entry.outbox_message_id),
            at: Set(micros(now)),
        })
        .on_conflict_do_nothing_on([message_id::Column::MessageId])
        .exec(&txn)
        .await
        .map_err(backend)?;
        if !matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
            return Ok(());
        }
        let row = thread::Entity::find_by_id(entry.conversation_id.0)
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(backend)?;
        if let Some(row) = row {
            let mut ids: Vec<&str> = row.reference_ids.split_whitespace().collect();
            if !ids.contains(&entry.message_id) {
                ids.push(entry.message_id);
            }
            if ids.len() > MAX_REFERENCES {
                ids.drain(1..ids.len() - (MAX_REFERENCES - 1));
            }
            let joined = ids.join(" ");
            thread::Entity::update_many()
                .col_expr(thread::Column::ReferenceIds, Expr::value(joined))
                .filter(thread::Column::ConversationId.eq(entry.conversation_id.0))
                .exec(&txn)
                .await
                .map_err(backend)?;
        }
        txn.commit().await.map_err(backend)
    }

    /// The thread of email conversation `id`.
    pub async fn email_thread(&self, id: ConversationId) -> Result<Option<EmailThread>> {
        Ok(thread::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(backend)?
            .map(|row| EmailThread {
                conversation_id: ConversationId(row.conversation_id),
                mailbox: row.mailbox,
                address: row.address,
                subject: row.subject,
                references: row
                    .reference_ids
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            }))
    }

    /// Creates the thread of email conversation `thread.conversation_id`, unless it exists.
    pub async fn create_email_thread(&self, thread: &EmailThread) -> Result<()> {
        thread::Entity::insert(thread::ActiveModel {
            conversation_id: Set(thread.conversation_id.0),
            mailbox: Set(thread.mailbox.clone()),
            address: Set(thread.address.clone()),
            subject: Set(thread.subject.clone()),
            reference_ids: Set(thread.references.join(" ")),
        })
        .on_conflict_do_nothing_on([thread::Column::ConversationId])
        .exec(&self.db)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// How many automatic mails went to `address` since `since`.
    pub async fn automatic_emails_since(&self, address: &str, since: DateTime<Utc>) -> Result<u64> {
        message_id::Entity::find()
            .filter(message_id::Column::Address.eq(address.to_lowercase()))
            .filter(message_id::Column::Outgoing.eq(true))
            .filter(message_id::Column::Automatic.eq(true))
            .filter(message_id::Column::At.gte(micros(since)))
            .count(&self.db)
            .await
            .map_err(backend)
    }

    /// Writes an audit row of the email channel.
    pub async fn email_audit(
        &self,
        kind: &str,
        conversation_id: Option<ConversationId>,
        detail: Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.db.begin().await.map_err(backend)?;
        crate::turns::audit(&txn, now, kind, None, conversation_id, detail).await?;
        txn.commit().await.map_err(backend)
    }
}
