//! Visitor endpoints: start a conversation, send a message, read the transcript, see
//! who holds the conversation and the place in the queue, choose a person or the
//! assistant.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use baton_core::ids::ConversationId;
use baton_engine::model::{Assignee, Conversation, Message, Visitor, VisitorView};
use baton_engine::{Engine, TalkTo};
use baton_http::{ApiError, ApiJson, ApiPath, MAX_TEXT_BYTES, bearer, hash_token, new_token};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tower_http::cors::{Any, CorsLayer};
use utoipa::ToSchema;

use crate::CHANNEL;

const MAX_VISITOR_FIELD: usize = 256;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    #[serde(default)]
    pub visitor: VisitorDetails,
    /// The visitor's earlier conversation that this one carries on (after staff closed
    /// it), proved by that conversation's visitor token; staff see it as
    /// `previous_conversation_id`. Visitor details not given are copied from it.
    pub previous: Option<PreviousConversation>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviousConversation {
    pub id: i64,
    /// The earlier conversation's visitor token.
    pub token: String,
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
    #[schema(pattern = r"\S")]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VisitorAssignee {
    /// `agent` (the assistant), `user` (a person) or `none` (waiting for a person).
    pub kind: String,
    /// The person's name, when a person holds the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<VisitorView> for VisitorConversation {
    fn from(view: VisitorView) -> Self {
        let kind = assignee_kind(&view.conversation.assignee);
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

/// The `state` event of the visitor's stream: sent once on connecting, then whenever
/// the conversation's status, holder or place in the queue changes. It carries no event
/// id, so `Last-Event-ID` keeps naming the last message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VisitorState {
    /// `open` or `closed`.
    pub status: String,
    pub assignee: VisitorAssignee,
    /// 1-based place in the queue; null when not queued.
    pub queue_position: Option<u64>,
}

impl VisitorState {
    /// The state of `conversation`, reading its queue position and its holder's name.
    pub(crate) async fn read(
        engine: &Engine,
        conversation: &Conversation,
    ) -> baton_engine::StoreResult<Self> {
        let store = engine.store();
        let open = conversation.status == baton_engine::model::ConversationStatus::Open;
        let queue_position = if open && conversation.queued {
            store.queue_position(conversation.id).await?
        } else {
            None
        };
        let name = match conversation.assignee {
            Assignee::User(user) => Some(store.user(user).await?.name),
            Assignee::Agent | Assignee::None => None,
        };
        Ok(VisitorState {
            status: conversation.status.as_str().to_owned(),
            assignee: VisitorAssignee {
                kind: assignee_kind(&conversation.assignee).to_owned(),
                name,
            },
            queue_position,
        })
    }
}

fn assignee_kind(assignee: &Assignee) -> &'static str {
    match assignee {
        Assignee::Agent => "agent",
        Assignee::User(_) => "user",
        Assignee::None => "none",
    }
}

/// What the widget offers a new visitor before any conversation exists (B16).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatOptions {
    /// Offer "chat with the assistant" or "talk to a person" before the first message.
    pub visitor_choice: bool,
    /// While the choice is offered: whether a person could take a conversation now
    /// (as in the visitor's conversation JSON); null otherwise.
    pub humans_available: Option<bool>,
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

/// The visitor routes, with paths as in API.md. The API answers any origin (CORS), so
/// the widget works embedded in a page of another site: visitor calls carry a bearer
/// token, never a cookie, so no credentials are allowed.
pub fn router(engine: Engine) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ])
        .max_age(std::time::Duration::from_secs(600));
    let api = Router::new()
        .route("/api/v1/chat/conversations", post(create_conversation))
        .route(
            "/api/v1/chat/conversations/{id}/messages",
            post(post_message).get(list_messages),
        )
        .route("/api/v1/chat/conversations/{id}", get(get_conversation))
        .route("/api/v1/chat/conversations/{id}/choice", post(choose))
        .route("/api/v1/chat/options", get(options))
        .route(
            "/api/v1/chat/conversations/{id}/events",
            get(crate::sse::events),
        )
        .layer(cors);
    Router::new()
        .merge(api)
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
    responses((status = 201, body = CreatedConversation),
        (status = 422, body = baton_http::ErrorBody, description = "a bad visitor field, or `previous` names a conversation its token does not open")))]
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
    let previous = match body.previous {
        Some(previous) => {
            let id = ConversationId(previous.id);
            let theirs = engine
                .store()
                .visitor_conversation(id, &hash_token(&previous.token))
                .await;
            match theirs {
                Ok(Some(c)) if c.channel == CHANNEL => Some(c),
                Ok(_) | Err(baton_engine::StoreError::NotFound { .. }) => {
                    return Err(ApiError::invalid(
                        "previous",
                        "not a conversation this visitor token belongs to",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
    };
    // The same visitor: details not given again are the earlier conversation's.
    let visitor = match &previous {
        Some(earlier) => Visitor {
            name: visitor.name.or_else(|| earlier.visitor.name.clone()),
            email: visitor.email.or_else(|| earlier.visitor.email.clone()),
        },
        None => visitor,
    };
    let token = new_token();
    let store = engine.store();
    let conversation = match previous {
        Some(previous) => {
            store
                .create_following_conversation(
                    CHANNEL,
                    visitor,
                    &hash_token(&token),
                    previous.id,
                    Utc::now(),
                )
                .await?
        }
        None => {
            store
                .create_conversation(CHANNEL, visitor, &hash_token(&token), Utc::now())
                .await?
        }
    };
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

/// What the widget offers before the first message, for a visitor with no conversation
/// yet (no token needed; the same fields as the conversation JSON).
#[utoipa::path(get, path = "/api/v1/chat/options", tag = "chat",
    responses((status = 200, body = ChatOptions)))]
pub(crate) async fn options(
    State(engine): State<Engine>,
) -> Result<ApiJson<ChatOptions>, ApiError> {
    let (visitor_choice, humans_available) = engine.visitor_offer().await?;
    Ok(ApiJson(ChatOptions {
        visitor_choice,
        humans_available,
    }))
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
