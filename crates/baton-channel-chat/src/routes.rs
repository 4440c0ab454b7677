//! Visitor endpoints: start a conversation, send a message, read the transcript, see
//! who holds the conversation and the place in the queue, choose a person or the
//! assistant.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use baton_core::ids::ConversationId;
use baton_engine::model::{Assignee, Conversation, Message, Visitor, VisitorView};
use baton_engine::{Engine, TalkTo};
use baton_http::{ApiError, ApiJson, ApiPath, MAX_TEXT_BYTES, bearer, hash_token, new_token};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::CHANNEL;

const MAX_VISITOR_FIELD: usize = 256;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    #[serde(default)]
    pub visitor: VisitorDetails,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorDetails {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedConversation {
    pub conversation_id: i64,
    /// Bearer token for the visitor's calls on this conversation; shown once.
    pub visitor_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    pub text: String,
    /// Makes a retry a no-op that returns the first replies.
    pub client_message_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatReplies {
    pub replies: Vec<ChatReply>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatReply {
    /// "agent", "system" or "user".
    pub author: String,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatMessages {
    pub messages: Vec<ChatMessage>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatMessage {
    pub id: i64,
    /// "visitor", "agent", "system" or "user".
    pub author: String,
    pub text: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<Message> for ChatMessage {
    fn from(m: Message) -> Self {
        ChatMessage {
            id: m.id.0,
            author: m.author.as_str().to_owned(),
            text: m.text,
            created_at: m.created_at.to_rfc3339(),
        }
    }
}

/// The visitor's side of a conversation (B7, B16).
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorConversation {
    pub id: i64,
    /// `open` or `closed`.
    pub status: String,
    pub assignee: VisitorAssignee,
    /// 1-based place in the queue while waiting for a person (in the order the queue is
    /// served: handoff time, then id); null when not queued.
    pub queue_position: Option<u64>,
    /// Whether to offer "chat with the assistant" or "talk to a person" before the first
    /// message: the `visitor_choice` setting is on and the handoff process is not
    /// `none`.
    pub visitor_choice: bool,
    /// While the choice is offered and the assistant holds the conversation: whether a
    /// person could take it now, under the rule the router applies (live: a paid seat,
    /// available within working hours, free capacity; async: a paid seat and free
    /// capacity). Null otherwise, and when a workflow receives handoffs.
    pub humans_available: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorAssignee {
    /// `agent` (the assistant), `user` (a person) or `none` (waiting for a person).
    pub kind: String,
    /// The person's name, when a person holds the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<VisitorView> for VisitorConversation {
    fn from(view: VisitorView) -> Self {
        let kind = match view.conversation.assignee {
            Assignee::Agent => "agent",
            Assignee::User(_) => "user",
            Assignee::None => "none",
        };
        VisitorConversation {
            id: view.conversation.id.0,
            status: view.conversation.status.as_str().to_owned(),
            assignee: VisitorAssignee {
                kind: kind.to_owned(),
                name: view.assignee_name,
            },
            queue_position: view.queue_position,
            visitor_choice: view.visitor_choice,
            humans_available: view.humans_available,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub talk_to: TalkToDto,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TalkToDto {
    /// A handoff with trigger `visitor_choice`, under the configured process,
    /// destination and messages.
    Human,
    /// Back to the customer agent (a handback with reason `visitor`).
    Assistant,
}

/// The visitor routes, with paths as in API.md.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/api/v1/chat/conversations", post(create_conversation))
        .route(
            "/api/v1/chat/conversations/{id}/messages",
            post(post_message).get(list_messages),
        )
        .route("/api/v1/chat/conversations/{id}", get(get_conversation))
        .route("/api/v1/chat/conversations/{id}/choice", post(choose))
        .route(
            "/api/v1/chat/conversations/{id}/events",
            get(crate::sse::events),
        )
        .route("/chat", get(demo_page))
        .route("/chat/widget.js", get(widget_script))
        .with_state(engine)
}

/// The embeddable widget: one script, no build step, served from the binary.
async fn widget_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/widget.js"),
    )
}

/// A page that embeds the widget, so a new installation can be talked to at once.
async fn demo_page() -> Html<&'static str> {
    Html(include_str!("../assets/demo.html"))
}

fn bounded(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > MAX_VISITOR_FIELD => Err(ApiError::invalid(
            field,
            format!("at most {MAX_VISITOR_FIELD} characters"),
        )),
        other => Ok(other),
    }
}

#[utoipa::path(post, path = "/api/v1/chat/conversations", tag = "chat",
    request_body = CreateConversation,
    responses((status = 201, body = CreatedConversation), (status = 422, body = baton_http::ErrorBody)))]
pub(crate) async fn create_conversation(
    State(engine): State<Engine>,
    ApiJson(body): ApiJson<CreateConversation>,
) -> Result<(StatusCode, ApiJson<CreatedConversation>), ApiError> {
    let visitor = Visitor {
        name: bounded("visitor.name", body.visitor.name)?,
        email: bounded("visitor.email", body.visitor.email)?,
    };
    if visitor.email.as_deref().is_some_and(|e| !e.contains('@')) {
        return Err(ApiError::invalid("visitor.email", "not an email address"));
    }
    let token = new_token();
    let conversation = engine
        .store()
        .create_conversation(CHANNEL, visitor, &hash_token(&token), Utc::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedConversation {
            conversation_id: conversation.id.0,
            visitor_token: token,
        }),
    ))
}

/// Checks the visitor token against the conversation: 401 without one, 404 for an
/// unknown conversation, 403 for another conversation's token.
pub(crate) async fn authorize(
    engine: &Engine,
    headers: &HeaderMap,
    id: ConversationId,
) -> Result<Conversation, ApiError> {
    let Some(token) = bearer(headers) else {
        return Err(ApiError::Unauthorized(
            "missing_token",
            "send the visitor token as `Authorization: Bearer <token>`".into(),
        ));
    };
    engine
        .store()
        .visitor_conversation(id, &hash_token(token))
        .await?
        .ok_or_else(|| ApiError::forbidden("this visitor token belongs to another conversation"))
}

#[utoipa::path(post, path = "/api/v1/chat/conversations/{id}/messages", tag = "chat",
    params(("id" = i64, Path)), request_body = PostMessage,
    responses((status = 200, body = ChatReplies), (status = 413, body = baton_http::ErrorBody)),
    security(("visitor_token" = [])))]
pub(crate) async fn post_message(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PostMessage>,
) -> Result<ApiJson<ChatReplies>, ApiError> {
    let conversation = authorize(&engine, &headers, ConversationId(id)).await?;
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(ApiError::TooLarge(
            Some("text".into()),
            format!("a message has at most {MAX_TEXT_BYTES} bytes"),
        ));
    }
    if let Some(key) = &body.client_message_id
        && (key.is_empty() || key.len() > 128)
    {
        return Err(ApiError::invalid(
            "client_message_id",
            "between 1 and 128 bytes",
        ));
    }
    let result = engine
        .ingest(&conversation, &body.text, body.client_message_id.as_deref())
        .await?;
    Ok(ApiJson(ChatReplies {
        replies: result
            .replies
            .into_iter()
            .map(|r| ChatReply {
                author: r.author.as_str().to_owned(),
                text: r.text,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/chat/conversations/{id}/messages", tag = "chat",
    params(("id" = i64, Path)),
    responses((status = 200, body = ChatMessages)),
    security(("visitor_token" = [])))]
pub(crate) async fn list_messages(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<ApiJson<ChatMessages>, ApiError> {
    let id = ConversationId(id);
    authorize(&engine, &headers, id).await?;
    let messages = engine.store().messages(id, None).await?;
    Ok(ApiJson(ChatMessages {
        messages: messages.into_iter().map(ChatMessage::from).collect(),
    }))
}

/// Who holds the conversation, its place in the queue, and whether to offer the visitor
/// a choice between the assistant and a person.
#[utoipa::path(get, path = "/api/v1/chat/conversations/{id}", tag = "chat",
    params(("id" = i64, Path)),
    responses((status = 200, body = VisitorConversation),
        (status = 401, body = baton_http::ErrorBody), (status = 403, body = baton_http::ErrorBody),
        (status = 404, body = baton_http::ErrorBody)),
    security(("visitor_token" = [])))]
pub(crate) async fn get_conversation(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<ApiJson<VisitorConversation>, ApiError> {
    let conversation = authorize(&engine, &headers, ConversationId(id)).await?;
    Ok(ApiJson(engine.visitor_view(conversation).await?.into()))
}

/// The visitor's choice, up front or mid-conversation: `human` hands off with trigger
/// `visitor_choice` (the replies hold the handoff message; none when a person already
/// holds the conversation or it already waits for one), `assistant` hands back to the
/// customer agent with reason `visitor` (the replies hold the notice; none when the
/// assistant already holds it). `409` when the conversation is closed, and for `human`
/// when the handoff process is `none` or the settings let visitors choose no person
/// (`visitor_choice` and the `asks_for_human` trigger both off).
#[utoipa::path(post, path = "/api/v1/chat/conversations/{id}/choice", tag = "chat",
    params(("id" = i64, Path)), request_body = Choice,
    responses((status = 200, body = ChatReplies), (status = 409, body = baton_http::ErrorBody),
        (status = 422, body = baton_http::ErrorBody)),
    security(("visitor_token" = [])))]
pub(crate) async fn choose(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Choice>,
) -> Result<ApiJson<ChatReplies>, ApiError> {
    let conversation = authorize(&engine, &headers, ConversationId(id)).await?;
    let talk_to = match body.talk_to {
        TalkToDto::Human => TalkTo::Human,
        TalkToDto::Assistant => TalkTo::Assistant,
    };
    let replies = engine.choose(&conversation, talk_to).await?;
    Ok(ApiJson(ChatReplies {
        replies: replies
            .into_iter()
            .map(|r| ChatReply {
                author: r.author.as_str().to_owned(),
                text: r.text,
            })
            .collect(),
    }))
}
