//! The human side of conversations (F4, F8, B6, B8, B14): views, claim, reply, close,
//! handback, reopen.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use baton_core::ids::{ConversationId, TeamId, TicketId, UserId};
use baton_core::people::Permission;
use baton_engine::model::{Assignee, Conversation, View};
use baton_http::{ApiError, ApiJson, ApiPath, ApiQuery, MAX_TEXT_BYTES};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/conversations", get(list))
        .route("/api/v1/conversations/{id}", get(get_one))
        .route("/api/v1/conversations/{id}/claim", post(claim))
        .route("/api/v1/conversations/{id}/assign", post(assign))
        .route(
            "/api/v1/conversations/{id}/messages",
            post(reply).get(list_messages),
        )
        .route("/api/v1/conversations/{id}/close", post(close))
        .route("/api/v1/conversations/{id}/handback", post(handback))
        .route("/api/v1/conversations/{id}/reopen", post(reopen))
        .route("/api/v1/tickets/{id}", get(ticket))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationDto {
    pub id: i64,
    pub channel: String,
    /// `open` or `closed`.
    pub status: String,
    pub assignee: AssigneeDto,
    /// Null before any handoff.
    pub handoff: Option<HandoffDto>,
    /// Set once ticketing creates a ticket for the conversation.
    pub ticket_id: Option<i64>,
    /// Waiting for an eligible user.
    pub queued: bool,
    pub inbox_id: Option<i64>,
    pub visitor: VisitorDto,
    /// The visitor's earlier conversation, closed by staff, that this one carries on
    /// (the web chat widget starts a new conversation when the visitor writes again).
    pub previous_conversation_id: Option<i64>,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssigneeDto {
    /// `agent`, `user` or `none`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffDto {
    pub reason: ReasonDto,
    /// `live` or `async`.
    pub process: String,
    /// RFC 3339.
    pub at: String,
    /// For the human who takes over: who, why, transcript (B6).
    pub summary: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonDto {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorDto {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl From<Conversation> for ConversationDto {
    fn from(c: Conversation) -> Self {
        let (kind, user_id) = match c.assignee {
            Assignee::Agent => ("agent", None),
            Assignee::User(u) => ("user", Some(u.0)),
            Assignee::None => ("none", None),
        };
        ConversationDto {
            id: c.id.0,
            channel: c.channel,
            status: c.status.as_str().to_owned(),
            assignee: AssigneeDto {
                kind: kind.to_owned(),
                user_id,
            },
            handoff: c.handoff.map(|h| HandoffDto {
                reason: ReasonDto {
                    kind: h.trigger_kind,
                    matched: h.matched,
                },
                process: h.process.as_str().to_owned(),
                at: h.at.to_rfc3339(),
                summary: h.summary,
            }),
            ticket_id: c.ticket_id.map(|t| t.0),
            queued: c.queued,
            inbox_id: c.inbox_id.map(|i| i.0),
            visitor: VisitorDto {
                name: c.visitor.name,
                email: c.visitor.email,
            },
            previous_conversation_id: c.previous_conversation_id.map(|p| p.0),
            created_at: c.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Conversations {
    pub conversations: Vec<ConversationDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `unassigned`, `mine`, `open` (default) or `all`.
    #[param(inline, value_type = Option<ViewName>, nullable = false)]
    pub view: Option<String>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<u64>,
}

/// The views of `GET /api/v1/conversations`.
#[derive(Debug, ToSchema)]
#[schema(as = ViewName)]
#[allow(dead_code)]
enum ViewName {
    #[schema(rename = "unassigned")]
    Unassigned,
    #[schema(rename = "mine")]
    Mine,
    #[schema(rename = "open")]
    Open,
    #[schema(rename = "all")]
    All,
}

#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ListQuery),
    responses((status = 200, body = Conversations)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Staff(user): Staff,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<ApiJson<Conversations>, ApiError> {
    let view = match query.view.as_deref().unwrap_or("open") {
        "unassigned" => View::Unassigned,
        "mine" => View::Mine(user.id),
        "open" => View::Open,
        "all" => View::All,
        _ => {
            return Err(ApiError::invalid(
                "view",
                "one of unassigned, mine, open, all",
            ));
        }
    };
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::invalid("limit", "between 1 and 1000"));
    }
    let conversations = state
        .engine
        .store()
        .conversations(view, None, limit)
        .await?;
    Ok(ApiJson(Conversations {
        conversations: conversations.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<ConversationDto>, ApiError> {
    let conversation = state
        .engine
        .store()
        .conversation(ConversationId(id))
        .await?;
    Ok(ApiJson(conversation.into()))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/claim", tag = "conversations",
    params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto),
        (status = 403, body = baton_http::ErrorBody, description = "The caller has no paid seat"),
        (status = 409, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn claim(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<ConversationDto>, ApiError> {
    staff.require_paid_seat()?;
    let conversation = state.engine.claim(ConversationId(id), staff.0.id).await?;
    Ok(ApiJson(conversation.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// Who takes the conversation: a user with a paid seat and free capacity. Exactly
    /// one of `user_id` and `team_id`.
    pub user_id: Option<i64>,
    /// Or a team: the conversation goes to one of its members under the routing rules
    /// of a live handoff (paid seat, available, free capacity, the route's strategy),
    /// never back to its holder; 409 when no member can take it now.
    pub team_id: Option<i64>,
    /// The current owner, required when someone holds the conversation: an owner is
    /// never replaced silently.
    pub from_user_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", tag = "conversations",
    params(("id" = i64, Path)), request_body = AssignRequest,
    responses((status = 200, body = ConversationDto), (status = 409, body = baton_http::ErrorBody),
        (status = 422, body = baton_http::ErrorBody, description = "The user or team does not \
        exist, the user has no paid seat or no free capacity, or `from_user_id` is not the \
        current owner")),
    security(("bearer" = [])))]
pub(crate) async fn assign(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<ApiJson<ConversationDto>, ApiError> {
    staff.require(Permission::Admin)?;
    let (id, from) = (ConversationId(id), body.from_user_id.map(UserId));
    let conversation = match (body.user_id, body.team_id) {
        (Some(user), None) => {
            state
                .engine
                .assign(id, UserId(user), from, staff.0.id)
                .await?
        }
        (None, Some(team)) => {
            state
                .engine
                .assign_team(id, TeamId(team), from, staff.0.id)
                .await?
        }
        _ => {
            return Err(ApiError::invalid(
                "user_id",
                "name either user_id or team_id, not both",
            ));
        }
    };
    Ok(ApiJson(conversation.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMessage {
    #[schema(pattern = r"\S")]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDto {
    pub id: i64,
    pub author: String,
    pub text: String,
    pub created_at: String,
}

impl From<baton_engine::model::Message> for MessageDto {
    fn from(message: baton_engine::model::Message) -> Self {
        MessageDto {
            id: message.id.0,
            author: message.author.as_str().to_owned(),
            text: message.text,
            created_at: message.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    /// Oldest first: the visitor's, the agent's, system messages and staff replies.
    pub messages: Vec<MessageDto>,
}

/// The transcript, for staff (any channel).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = i64, Path)),
    responses((status = 200, body = MessageList), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_messages(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<MessageList>, ApiError> {
    let store = state.engine.store();
    store.conversation(ConversationId(id)).await?;
    let messages = store.messages(ConversationId(id), None).await?;
    Ok(ApiJson(MessageList {
        messages: messages.into_iter().map(MessageDto::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = i64, Path)), request_body = StaffMessage,
    responses((status = 201, body = MessageDto),
        (status = 403, body = baton_http::ErrorBody, description = "The caller has no paid seat"),
        (status = 409, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn reply(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StaffMessage>,
) -> Result<(StatusCode, ApiJson<MessageDto>), ApiError> {
    staff.require_paid_seat()?;
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(ApiError::TooLarge(
            Some("text".into()),
            format!("a message has at most {MAX_TEXT_BYTES} bytes"),
        ));
    }
    let message = state
        .engine
        .staff_reply(ConversationId(id), staff.0.id, &body.text)
        .await?;
    Ok((StatusCode::CREATED, ApiJson(message.into())))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/close", tag = "conversations",
    params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto)), security(("bearer" = [])))]
pub(crate) async fn close(
    State(state): State<AppState>,
    Staff(user): Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<ConversationDto>, ApiError> {
    let conversation = state.engine.close(ConversationId(id), user.id).await?;
    Ok(ApiJson(conversation.into()))
}

/// Gives the conversation back to the customer agent (B14): the human's capacity is freed
/// (the queue drains into it), a queued conversation leaves the queue, the visitor is
/// told they talk to the assistant again, and the audit log names who handed back. The
/// assignee or an admin may hand back a conversation a human holds; any staff member
/// one that nobody holds. Already with the agent: `200`, nothing changes.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/handback", tag = "conversations",
    params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto, description = "The conversation, assignee kind `agent`"),
        (status = 403, body = baton_http::ErrorBody, description = "Another user holds it and the caller is not an admin"),
        (status = 404, body = baton_http::ErrorBody),
        (status = 409, body = baton_http::ErrorBody, description = "Closed, or moved to someone else meanwhile")),
    security(("bearer" = [])))]
pub(crate) async fn handback(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<ConversationDto>, ApiError> {
    let id = ConversationId(id);
    let conversation = state.engine.store().conversation(id).await?;
    if !conversation.may_hand_back(&staff.0) {
        return Err(ApiError::forbidden(
            "someone else holds this conversation: only they or an admin can hand it back",
        ));
    }
    // The holder the permission was checked against: if it moves meanwhile, 409.
    let conversation = state
        .engine
        .hand_back(id, staff.0.id, Some(conversation.assignee))
        .await?;
    Ok(ApiJson(conversation.into()))
}

/// Opens a closed conversation again, held by the customer agent as a new conversation
/// is: the agent answers the visitor's next message, and a later handoff routes it
/// afresh. Any staff member may reopen (as any may close).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations",
    params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto, description = "The conversation, open, assignee kind `agent`"),
        (status = 404, body = baton_http::ErrorBody),
        (status = 409, body = baton_http::ErrorBody, description = "It is open")),
    security(("bearer" = [])))]
pub(crate) async fn reopen(
    State(state): State<AppState>,
    Staff(user): Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<ConversationDto>, ApiError> {
    let conversation = state.engine.reopen(ConversationId(id), user.id).await?;
    Ok(ApiJson(conversation.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDto {
    pub id: i64,
    pub conversation_id: i64,
    /// The conversation's assignee.
    pub owner_id: Option<i64>,
    pub team_id: Option<i64>,
    pub inbox_id: i64,
    pub source_channel: String,
    /// `new`, `waiting_on_contact`, `waiting_on_us` or `closed`.
    pub status: String,
    /// `low`, `medium`, `high` or `urgent`.
    pub priority: String,
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = i64, Path)),
    responses((status = 200, body = TicketDto), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn ticket(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<TicketDto>, ApiError> {
    let t = state.engine.store().ticket(TicketId(id)).await?;
    Ok(ApiJson(TicketDto {
        id: t.id.0,
        conversation_id: t.conversation_id.0,
        owner_id: t.owner_id.map(|u| u.0),
        team_id: t.team_id.map(|t| t.0),
        inbox_id: t.inbox_id.0,
        source_channel: t.source_channel,
        status: t.status,
        priority: t.priority,
    }))
}
