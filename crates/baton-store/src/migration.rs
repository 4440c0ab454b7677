//! Schema migrations, run at start (and by `baton migrate`). The same definitions produce
//! the SQLite and the PostgreSQL schema.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, string, string_null, text, text_null,
};

#[derive(Debug)]
pub struct Migrator;

/// Adds one column to an existing table: what most migrations after the first do.
async fn add_column(
    manager: &SchemaManager<'_>,
    table: &str,
    column: impl IntoColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table.to_owned())
                .add_column(column)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Initial),
            Box::new(RouteStrategy),
            Box::new(HumanReplied),
            Box::new(AssignedAt),
            Box::new(WorkingHoursColumn),
            Box::new(Tickets),
            Box::new(Workflows),
            Box::new(WorkflowRuns),
            Box::new(Routes),
            Box::new(Messaging),
            Box::new(SignIn),
            Box::new(AuditKind),
            Box::new(Handback),
            Box::new(PreviousConversation),
            Box::new(InboxPages),
            Box::new(InboxCounts),
            Box::new(Webhooks),
            Box::new(Email),
            Box::new(OutboxClaims),
            Box::new(ThreadConversations),
            Box::new(WebhookRetention),
        ]
    }
}

/// Queued conversations remember how their destination chooses (round robin or balanced).
#[derive(Debug)]
struct RouteStrategy;

impl MigrationName for RouteStrategy {
    fn name(&self) -> &str {
        "m20261124_000002_route_strategy"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RouteStrategy {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "conversations", string_null("route_strategy")).await
    }
}

/// Whether a human answered: live conversations nobody answered go back to the queue
/// when their assignee goes away.
#[derive(Debug)]
struct HumanReplied;

impl MigrationName for HumanReplied {
    fn name(&self) -> &str {
        "m20261124_000003_human_replied"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for HumanReplied {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            "conversations",
            boolean("human_replied").default(false),
        )
        .await
    }
}

/// When the current assignee got the conversation: the re-routing clock starts there.
#[derive(Debug)]
struct AssignedAt;

impl MigrationName for AssignedAt {
    fn name(&self) -> &str {
        "m20261124_000004_assigned_at"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AssignedAt {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "conversations", big_integer_null("assigned_at")).await
    }
}

/// Per-user working hours (B7).
#[derive(Debug)]
struct WorkingHoursColumn;

impl MigrationName for WorkingHoursColumn {
    fn name(&self) -> &str {
        "m20261124_000005_working_hours"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for WorkingHoursColumn {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "users", text_null("working_hours")).await
    }
}

/// Help-desk tickets made by handoffs (F5), and the conversation's link to its ticket.
#[derive(Debug)]
struct Tickets;

impl MigrationName for Tickets {
    fn name(&self) -> &str {
        "m20261124_000006_tickets"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Tickets {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tickets")
                    .col(big_pk_auto("id"))
                    .col(big_integer("conversation_id").unique_key())
                    .col(big_integer("inbox_id"))
                    .col(big_integer_null("team_id"))
                    .col(string("source_channel"))
                    .col(string("status"))
                    .col(string("priority"))
                    .col(text("properties"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;
        add_column(manager, "conversations", big_integer_null("ticket_id")).await
    }
}

/// Workflow definitions (F9), stored as JSON documents.
#[derive(Debug)]
struct Workflows;

impl MigrationName for Workflows {
    fn name(&self) -> &str {
        "m20261124_000007_workflows"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Workflows {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("workflows")
                    .col(big_pk_auto("id"))
                    .col(text("definition"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await
    }
}

/// Workflow runs, persisted step by step (a cursor into a snapshot of the definition).
#[derive(Debug)]
struct WorkflowRuns;

impl MigrationName for WorkflowRuns {
    fn name(&self) -> &str {
        "m20261124_000008_workflow_runs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for WorkflowRuns {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("workflow_runs")
                    .col(big_pk_auto("id"))
                    .col(big_integer("workflow_id"))
                    .col(big_integer("conversation_id"))
                    .col(big_integer("ticket_id"))
                    .col(text("definition"))
                    .col(text("cursor"))
                    .col(string("process"))
                    .col(text("unassigned_message"))
                    .col(boolean("close_if_unassigned"))
                    .col(string("status"))
                    .col(big_integer_null("wake_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workflow_runs_due")
                    .table("workflow_runs")
                    .col("status")
                    .col("wake_at")
                    .to_owned(),
            )
            .await
    }
}

/// Routes as indexed rows (issue 3: no full scans per decision). A route is interned
/// once per destination spec (teams never change members, so the spec fixes the
/// members); conversations point at it. `idle_since` is `last_assigned_at` without
/// NULLs (never assigned = `i64::MIN`) so that balanced order is one index.
#[derive(Debug)]
struct Routes;

impl MigrationName for Routes {
    fn name(&self) -> &str {
        "m20261124_000009_routes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Routes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("routes")
                    .col(big_pk_auto("id"))
                    .col(string("spec").unique_key())
                    .col(big_integer("members"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("route_members")
                    .col(big_integer("route_id"))
                    .col(big_integer("user_id"))
                    .primary_key(Index::create().col("route_id").col("user_id"))
                    .to_owned(),
            )
            .await?;
        add_column(manager, "conversations", big_integer_null("route_id")).await?;
        add_column(
            manager,
            "users",
            big_integer("idle_since").default(i64::MIN),
        )
        .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE users SET idle_since = last_assigned_at WHERE last_assigned_at IS NOT NULL",
            )
            .await?;
        // Balanced order: the plain index serves async handoffs and the audit's read of
        // who was passed over; the partial one, live handoffs, which would otherwise read
        // past every idle user who is away (they come first in (open_count, idle_since)
        // order). Its conditions are the ones `routes::Filter` writes, word for word.
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX users_balanced ON users (open_count, idle_since, id)")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX users_balanced_live ON users (open_count, idle_since, id) \
             WHERE users.seat <> 'none' AND users.open_count < users.capacity \
             AND users.availability = 'available'",
        )
        .await?;
        Ok(())
    }
}

/// Messaging channels (issue 4): threads, and outbox rows that wait to be retried or
/// have failed for good.
#[derive(Debug)]
struct Messaging;

impl MigrationName for Messaging {
    fn name(&self) -> &str {
        "m20261124_000010_messaging"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Messaging {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("threads")
                    .col(string("channel"))
                    .col(string("thread"))
                    .col(big_integer("conversation_id"))
                    .primary_key(Index::create().col("channel").col("thread"))
                    .to_owned(),
            )
            .await?;
        add_column(manager, "conversations", string_null("thread")).await?;
        for column in [big_integer_null("retry_at"), big_integer_null("failed_at")] {
            add_column(manager, "outbox", column).await?;
        }
        add_column(manager, "outbox", text_null("last_error")).await?;
        // The "earlier undelivered row of this conversation" probe of a pending read.
        manager
            .create_index(
                Index::create()
                    .name("outbox_conversation")
                    .table("outbox")
                    .col("conversation_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }
}

/// Sign-in (B13): passwords, one-time set-password links and sessions, each token
/// stored as its hash. Emails keep the case they were given; sign-in compares
/// `lower(email)`, which the expression index serves.
#[derive(Debug)]
struct SignIn;

impl MigrationName for SignIn {
    fn name(&self) -> &str {
        "m20261125_000011_sign_in"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SignIn {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "users", text_null("password_hash")).await?;
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX users_email_lower ON users (lower(email))")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("password_links")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string("token_hash").unique_key())
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("used_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string("token_hash").unique_key())
                    .col(big_integer("created_at"))
                    .col(big_integer("last_seen_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("revoked_at"))
                    .to_owned(),
            )
            .await?;
        // A new link retires the user's earlier ones; a new password revokes the user's
        // sessions: both find a user's rows by these.
        for table in ["password_links", "sessions"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("{table}_user"))
                        .table(table.to_owned())
                        .col("user_id")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The audit log filtered by kind, a keyset page at a time: one index range, newest
/// first.
#[derive(Debug)]
struct AuditKind;

impl MigrationName for AuditKind {
    fn name(&self) -> &str {
        "m20261125_000012_audit_kind"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AuditKind {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("audit_events_kind")
                    .table("audit_events")
                    .col("kind")
                    .col("id")
                    .to_owned(),
            )
            .await
    }
}

/// Handback and the visitor's queue position (issue 9). The position is a count of the
/// queue entries ahead, on a partial index holding only the queue in drain order
/// (handoff time, then id): the count reads the entries ahead and nothing else, and the
/// index costs nothing for conversations that are not waiting. Its conditions are the
/// ones `turns::QUEUED` writes, word for word. A handback or a reopen ends the
/// conversation's workflow runs, found by conversation.
#[derive(Debug)]
struct Handback;

impl MigrationName for Handback {
    fn name(&self) -> &str {
        "m20261128_000013_handback"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Handback {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX conversations_queue_position ON conversations (handoff_at, id) \
                 WHERE conversations.queued = TRUE AND conversations.status = 'open'",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workflow_runs_conversation")
                    .table("workflow_runs")
                    .col("conversation_id")
                    .to_owned(),
            )
            .await
    }
}

/// A conversation the visitor started after staff closed their earlier one remembers it,
/// so staff see the two linked.
#[derive(Debug)]
struct PreviousConversation;

impl MigrationName for PreviousConversation {
    fn name(&self) -> &str {
        "m20261128_000014_previous_conversation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for PreviousConversation {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            "conversations",
            big_integer_null("previous_conversation_id"),
        )
        .await
    }
}

/// The inbox views read a page at a time in their order (`turns::list`): Unassigned by
/// (status, assignee kind) then (handoff time, id); Mine by (assignee, status) then id;
/// Open by status then id. Each page is a range of one index, however many
/// conversations are stored.
#[derive(Debug)]
struct InboxPages;

impl MigrationName for InboxPages {
    fn name(&self) -> &str {
        "m20261128_000015_inbox_pages"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InboxPages {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let indexes = [
            Index::create()
                .name("conversations_unassigned")
                .table("conversations")
                .col("status")
                .col("assignee_kind")
                .col("handoff_at")
                .col("id")
                .to_owned(),
            Index::create()
                .name("conversations_assignee_id")
                .table("conversations")
                .col("assignee_user_id")
                .col("status")
                .col("id")
                .to_owned(),
            Index::create()
                .name("conversations_status_id")
                .table("conversations")
                .col("status")
                .col("id")
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}

/// The inbox views' counts, kept by triggers on `conversations` (`counts.rs`), starting
/// from the conversations already stored.
#[derive(Debug)]
struct InboxCounts;

impl MigrationName for InboxCounts {
    fn name(&self) -> &str {
        "m20261128_000016_inbox_counts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InboxCounts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in crate::counts::migration(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}

/// Outgoing webhooks (B15): subscriptions, their outbox (one row per event and endpoint,
/// written in the transaction of the change) and the attempts; each conversation counts
/// its events so receivers can order them.
#[derive(Debug)]
struct Webhooks;

impl MigrationName for Webhooks {
    fn name(&self) -> &str {
        "m20261128_000017_webhooks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Webhooks {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            "conversations",
            big_integer("event_sequence").default(0),
        )
        .await?;
        let tables = [
            Table::create()
                .table("webhooks")
                .col(big_pk_auto("id"))
                .col(text("url"))
                .col(text("events"))
                .col(text("secret"))
                .col(big_integer("created_at"))
                .col(big_integer_null("disabled_at"))
                .col(text_null("disabled_reason"))
                .col(big_integer_null("failing_since"))
                .col(big_integer_null("last_attempt_at"))
                .col(big_integer_null("last_status"))
                .to_owned(),
            Table::create()
                .table("webhook_deliveries")
                .col(big_pk_auto("id"))
                .col(big_integer("webhook_id"))
                .col(string("event_id"))
                .col(string("event_type"))
                .col(big_integer_null("conversation_id"))
                .col(text("body"))
                .col(big_integer("attempts"))
                .col(big_integer("created_at"))
                // Set while the delivery is to be tried (at that time); unset once it
                // is delivered or given up on.
                .col(big_integer_null("next_attempt_at"))
                .col(big_integer_null("delivered_at"))
                .col(big_integer_null("failed_at"))
                .to_owned(),
            Table::create()
                .table("webhook_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("webhook_id"))
                .col(big_integer("delivery_id"))
                .col(string("event_id"))
                .col(string("event_type"))
                .col(big_integer("at"))
                .col(string("outcome"))
                .col(big_integer_null("status"))
                .col(text_null("error"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            Index::create()
                .name("webhook_deliveries_due")
                .table("webhook_deliveries")
                .col("next_attempt_at")
                .to_owned(),
            Index::create()
                .name("webhook_deliveries_webhook")
                .table("webhook_deliveries")
                .col("webhook_id")
                .col("failed_at")
                .to_owned(),
            Index::create()
                .name("webhook_attempts_webhook")
                .table("webhook_attempts")
                .col("webhook_id")
                .col("id")
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m20261124_000001_initial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("email"))
                .col(string("seat"))
                .col(string("permissions"))
                .col(big_integer("capacity"))
                .col(string("availability"))
                .col(big_integer("open_count"))
                .col(big_integer_null("last_assigned_at"))
                .col(big_integer("created_at"))
                .to_owned(),
            Table::create()
                .table("tokens")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string("token_hash").unique_key())
                .col(big_integer("created_at"))
                .to_owned(),
            Table::create()
                .table("teams")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(big_integer("created_at"))
                .to_owned(),
            Table::create()
                .table("team_members")
                .col(big_pk_auto("id"))
                .col(big_integer("team_id"))
                .col(big_integer("user_id"))
                .to_owned(),
            Table::create()
                .table("inboxes")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("kind"))
                .col(big_integer("created_at"))
                .to_owned(),
            Table::create()
                .table("settings_versions")
                .col(big_pk_auto("id"))
                .col(text("document"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer("created_at"))
                .to_owned(),
            Table::create()
                .table("agent_state")
                .col(big_integer("id").primary_key())
                .col(boolean("paused"))
                .col(big_integer("updated_at"))
                .to_owned(),
            Table::create()
                .table("conversations")
                .col(big_pk_auto("id"))
                .col(string("channel"))
                .col(string("status"))
                .col(string("assignee_kind"))
                .col(big_integer_null("assignee_user_id"))
                .col(string_null("visitor_name"))
                .col(string_null("visitor_email"))
                .col(string("visitor_token_hash"))
                .col(big_integer_null("inbox_id"))
                .col(string_null("handoff_trigger"))
                .col(text_null("handoff_matched"))
                .col(string_null("handoff_process"))
                .col(big_integer_null("handoff_at"))
                .col(text_null("handoff_summary"))
                .col(boolean("queued"))
                .col(text_null("route_user_ids"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .to_owned(),
            Table::create()
                .table("messages")
                .col(big_pk_auto("id"))
                .col(big_integer("conversation_id"))
                .col(string("author"))
                .col(big_integer_null("author_user_id"))
                .col(text("text"))
                .col(string_null("client_message_id"))
                .col(big_integer_null("reply_to"))
                .col(big_integer("created_at"))
                .to_owned(),
            Table::create()
                .table("outbox")
                .col(big_pk_auto("id"))
                .col(big_integer("conversation_id"))
                .col(big_integer("message_id"))
                .col(string("channel"))
                .col(big_integer("attempts"))
                .col(big_integer("created_at"))
                .col(big_integer_null("delivered_at"))
                .to_owned(),
            Table::create()
                .table("audit_events")
                .col(big_pk_auto("id"))
                .col(big_integer("at"))
                .col(string("kind"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("conversation_id"))
                .col(text("detail"))
                .to_owned(),
            Table::create()
                .table("routing_cursors")
                .col(string("key").primary_key())
                .col(big_integer("last_user_id"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            Index::create()
                .name("team_members_team_user")
                .table("team_members")
                .col("team_id")
                .col("user_id")
                .unique()
                .to_owned(),
            // A repeated client message id is detected by the database, not by a read.
            Index::create()
                .name("messages_client_id")
                .table("messages")
                .col("conversation_id")
                .col("client_message_id")
                .unique()
                .to_owned(),
            Index::create()
                .name("messages_conversation")
                .table("messages")
                .col("conversation_id")
                .col("id")
                .to_owned(),
            Index::create()
                .name("messages_reply_to")
                .table("messages")
                .col("reply_to")
                .to_owned(),
            Index::create()
                .name("conversations_queue")
                .table("conversations")
                .col("queued")
                .col("handoff_at")
                .to_owned(),
            Index::create()
                .name("conversations_assignee")
                .table("conversations")
                .col("assignee_user_id")
                .col("status")
                .to_owned(),
            Index::create()
                .name("outbox_pending")
                .table("outbox")
                .col("delivered_at")
                .col("id")
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}

/// The email channel (issue 11): each mailbox's IMAP position, every inbound mail (raw,
/// kept before it is parsed, once per mailbox and Message-ID), the Message-IDs that
/// identify conversations, and each email conversation's thread.
#[derive(Debug)]
struct Email;

impl MigrationName for Email {
    fn name(&self) -> &str {
        "m20261128_000018_email"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Email {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::binary;
        let tables = [
            Table::create()
                .table("email_mailboxes")
                .col(string("mailbox").primary_key())
                .col(big_integer("uid_validity"))
                .col(big_integer("last_uid"))
                .to_owned(),
            Table::create()
                .table("email_mails")
                .col(big_pk_auto("id"))
                .col(string("mailbox"))
                .col(string("message_id"))
                .col(big_integer("uid"))
                .col(binary("raw"))
                .col(big_integer("received_at"))
                // pending until handled; then done, ignored or quarantined.
                .col(string("status"))
                .col(string_null("kind"))
                .col(text_null("reason"))
                .col(text_null("error"))
                .col(text_null("full_text"))
                .col(text_null("sender"))
                .col(text_null("subject"))
                // JSON: [{"name", "content_type", "size"}]; the content stays in `raw`.
                .col(text_null("attachments"))
                .col(big_integer_null("conversation_id"))
                .to_owned(),
            Table::create()
                .table("email_message_ids")
                .col(string("message_id").primary_key())
                .col(big_integer("conversation_id"))
                .col(boolean("outgoing"))
                .col(boolean("automatic"))
                .col(string_null("address"))
                .col(big_integer_null("outbox_message_id"))
                .col(big_integer("at"))
                .to_owned(),
            Table::create()
                .table("email_threads")
                .col(big_integer("conversation_id").primary_key())
                .col(string("mailbox"))
                .col(string("address"))
                .col(text("subject"))
                .col(text("reference_ids"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            Index::create()
                .name("email_mails_once")
                .table("email_mails")
                .col("mailbox")
                .col("message_id")
                .unique()
                .to_owned(),
            Index::create()
                .name("email_mails_status")
                .table("email_mails")
                .col("mailbox")
                .col("status")
                .to_owned(),
            Index::create()
                .name("email_message_ids_sent")
                .table("email_message_ids")
                .col("address")
                .col("at")
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}

/// A host claims the outbox rows it sends until a lease ends, so several hosts never send
/// one row together and a crashed host's rows go out again when its lease ends.
#[derive(Debug)]
struct OutboxClaims;

impl MigrationName for OutboxClaims {
    fn name(&self) -> &str {
        "m20261128_000019_outbox_claims"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxClaims {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "outbox", big_integer_null("claimed_until")).await
    }
}

/// A redelivered message is looked up in every conversation of its thread, not only the
/// current one: the provider may send it again after the thread moved on.
#[derive(Debug)]
struct ThreadConversations;

impl MigrationName for ThreadConversations {
    fn name(&self) -> &str {
        "m20261128_000020_thread_conversations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ThreadConversations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("conversations_thread")
                    .table("conversations")
                    .col("channel")
                    .col("thread")
                    .to_owned(),
            )
            .await
    }
}

/// Webhook history older than the retention is deleted by age: indexes on the ages, so
/// that finding nothing to delete does not read the whole log.
#[derive(Debug)]
struct WebhookRetention;

impl MigrationName for WebhookRetention {
    fn name(&self) -> &str {
        "m20261128_000021_webhook_retention"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for WebhookRetention {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let indexes = [
            Index::create()
                .name("webhook_attempts_at")
                .table("webhook_attempts")
                .col("at")
                .to_owned(),
            Index::create()
                .name("webhook_deliveries_created")
                .table("webhook_deliveries")
                .col("created_at")
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}
