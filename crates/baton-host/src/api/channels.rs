//! `GET /api/v1/channels`: every channel this host serves and its state — web chat, the
//! messaging plugins, and each email mailbox (connected, last fetch, last error, how many
//! mails are quarantined); the email quarantine, listed and retried on request.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use baton_channel_email::RetryError;
use baton_core::ids::ConversationId;
use baton_http::{ApiError, ApiJson, ApiPath, ApiQuery};
use baton_store::StoredMail;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/channels", get(list))
        .route("/api/v1/channels/email/{name}/quarantine", get(quarantine))
        .route(
            "/api/v1/channels/email/{name}/quarantine/{id}/retry",
            post(retry),
        )
        .route("/api/v1/channels/email/{name}/mails", get(mails))
        .route("/api/v1/conversations/{id}/mails", get(conversation_mails))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    pub channels: Vec<ChannelDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDto {
    /// `chat`, `messaging` or `email`.
    pub kind: String,
    pub name: String,
    /// chat: `enabled`; messaging: the plugin's health (`healthy`, `disabled`); email:
    /// `connected` or `disconnected`.
    pub state: String,
    /// email: the mailbox's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected: Option<bool>,
    /// email: when the mailbox was last read to the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_fetch_at: Option<DateTime<Utc>>,
    /// email: the last connection error, until the next successful connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// email: mails that failed to parse or timed out, kept for staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<u64>,
    /// email: mails stored and not yet handled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<u64>,
}

impl ChannelDto {
    fn plain(kind: &str, name: &str, state: &str) -> Self {
        ChannelDto {
            kind: kind.into(),
            name: name.into(),
            state: state.into(),
            address: None,
            connected: None,
            last_fetch_at: None,
            last_error: None,
            quarantined: None,
            pending: None,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = ChannelList)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<ApiJson<ChannelList>, ApiError> {
    let mut channels = vec![ChannelDto::plain("chat", "chat", "enabled")];
    for plugin in &state.plugins.loaded {
        if plugin.kind() != baton_plugin_host::Kind::Channel {
            continue;
        }
        let health =
            serde_json::to_value(plugin.health()).map_err(|e| ApiError::Internal(e.to_string()))?;
        let status = health
            .get("state")
            .and_then(|s| s.as_str())
            .unwrap_or("healthy");
        channels.push(ChannelDto::plain("messaging", plugin.name(), status));
    }
    for mailbox in state.email.status().await? {
        channels.push(ChannelDto {
            kind: "email".into(),
            name: mailbox.name,
            state: if mailbox.state.connected {
                "connected"
            } else {
                "disconnected"
            }
            .into(),
            address: Some(mailbox.address),
            connected: Some(mailbox.state.connected),
            last_fetch_at: mailbox.state.last_fetch,
            last_error: mailbox.state.last_error,
            quarantined: Some(mailbox.quarantined),
            pending: Some(mailbox.pending),
        });
    }
    Ok(ApiJson(ChannelList { channels }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineList {
    pub mails: Vec<QuarantinedMail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantinedMail {
    pub id: i64,
    pub message_id: String,
    pub uid: u32,
    pub received_at: DateTime<Utc>,
    /// Why it could not be handled.
    pub error: Option<String>,
    pub size: usize,
    /// The raw mail as text (invalid UTF-8 replaced), for staff.
    pub raw: String,
}

fn retry_error(error: RetryError) -> ApiError {
    match error {
        RetryError::NoMailbox(_) | RetryError::NotQuarantined(_) => {
            ApiError::NotFound(error.to_string())
        }
        RetryError::TooLarge(_) => ApiError::Conflict(error.to_string()),
        RetryError::Store(error) => error.into(),
    }
}

#[utoipa::path(get, path = "/api/v1/channels/email/{name}/quarantine", tag = "channels",
    params(("name" = String, Path, description = "The mailbox's name")),
    responses((status = 200, body = QuarantineList), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn quarantine(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<QuarantineList>, ApiError> {
    let mails = state
        .email
        .quarantined(&name)
        .await
        .map_err(retry_error)?
        .into_iter()
        .map(|m| QuarantinedMail {
            id: m.id,
            message_id: m.message_id,
            uid: m.uid,
            received_at: m.received_at,
            error: m.error,
            size: m.raw.len(),
            raw: String::from_utf8_lossy(&m.raw).into_owned(),
        })
        .collect();
    Ok(ApiJson(QuarantineList { mails }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetryResult {
    /// What the mail became: `done`, `ignored` (not for the assistant), or
    /// `quarantined` again.
    pub status: String,
}

/// Handles a quarantined mail again (after a fix, or when a timeout was the cause).
#[utoipa::path(post, path = "/api/v1/channels/email/{name}/quarantine/{id}/retry", tag = "channels",
    params(("name" = String, Path, description = "The mailbox's name"),
        ("id" = i64, Path, description = "The quarantined mail's id")),
    responses((status = 200, body = RetryResult), (status = 404, body = baton_http::ErrorBody),
        (status = 409, body = baton_http::ErrorBody, description = "over the size limit")),
    security(("bearer" = [])))]
pub(crate) async fn retry(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath((name, id)): ApiPath<(String, i64)>,
) -> Result<ApiJson<RetryResult>, ApiError> {
    let status = state.email.retry(&name, id).await.map_err(retry_error)?;
    state.engine.wake_outbox();
    Ok(ApiJson(RetryResult {
        status: status.as_str().into(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailsQuery {
    /// How many mails, newest first (default 100; a value below 1 counts as 1, above
    /// 1000 as 1000).
    #[param(nullable = false)]
    pub limit: Option<u64>,
    /// Only mails with a smaller id: the last id of a page gives the next one.
    #[param(nullable = false)]
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MailList {
    pub mails: Vec<MailDto>,
}

/// An inbound mail as recorded: how it was classified and why, what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailDto {
    pub id: i64,
    pub mailbox: String,
    pub message_id: String,
    pub uid: u32,
    pub received_at: DateTime<Utc>,
    /// `pending`, `done` (its conversation message committed), `ignored` (recorded, not
    /// answered) or `quarantined`.
    pub status: String,
    /// `human`, `auto_reply`, `bounce`, `mailing_list` or `ours`.
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub error: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub conversation_id: Option<i64>,
    /// `[{"name", "content_type", "size"}]`.
    #[schema(value_type = Vec<Object>)]
    pub attachments: serde_json::Value,
    /// The whole text, quoted history included (conversation mails only; the
    /// conversation's message holds the new text the triggers and the agent saw).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

fn mail_dto(mail: StoredMail, with_text: bool) -> MailDto {
    MailDto {
        id: mail.id,
        mailbox: mail.mailbox,
        message_id: mail.message_id,
        uid: mail.uid,
        received_at: mail.received_at,
        status: mail.status.as_str().into(),
        kind: mail.kind,
        reason: mail.reason,
        error: mail.error,
        from: mail.sender,
        subject: mail.subject,
        conversation_id: mail.conversation_id.map(|c| c.0),
        attachments: mail
            .attachments
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_else(|| serde_json::json!([])),
        text: if with_text { mail.full_text } else { None },
    }
}

/// Every mail the mailbox received, newest first, with its kind and reason.
#[utoipa::path(get, path = "/api/v1/channels/email/{name}/mails", tag = "channels",
    params(("name" = String, Path, description = "The mailbox's name"), MailsQuery),
    responses((status = 200, body = MailList), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn mails(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<MailsQuery>,
) -> Result<ApiJson<MailList>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let mails = state
        .email
        .recent(&name, limit, query.before)
        .await
        .map_err(retry_error)?
        .into_iter()
        .map(|m| mail_dto(m, false))
        .collect();
    Ok(ApiJson(MailList { mails }))
}

/// The mails of an email conversation, oldest first, each with its whole text: staff see
/// the whole message, quoted history included.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/mails", tag = "conversations",
    params(("id" = i64, Path)),
    responses((status = 200, body = MailList), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn conversation_mails(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<MailList>, ApiError> {
    let id = ConversationId(id);
    // 404 for a conversation that does not exist.
    state.engine.store().conversation(id).await?;
    let mails = state
        .email
        .conversation_mails(id)
        .await?
        .into_iter()
        .map(|m| mail_dto(m, true))
        .collect();
    Ok(ApiJson(MailList { mails }))
}
