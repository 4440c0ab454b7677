//! Outgoing webhook subscriptions (B15): admin only.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use baton_core::people::Permission;
use baton_core::settings::FieldError;
use baton_engine::model::{WEBHOOK_EVENT_TYPES, Webhook, WebhookAttempt};
use baton_http::{ApiError, ApiJson, ApiPath, ApiQuery};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::Staff;
use crate::webhooks::{check_target, new_secret};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", post(create).get(list))
        .route("/api/v1/webhooks/{id}", delete(remove))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/v1/webhooks/{id}/replay", post(replay))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An http or https URL; private, loopback and link-local hosts are refused unless
    /// `[webhooks] allow_private_targets` is set.
    pub url: String,
    /// `["*"]` for every event, or event type names (`conversation.handoff`, ...).
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    /// `whsec_...`: shown only now. Verify deliveries with it (Standard Webhooks).
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
    /// `active` or `disabled`.
    pub state: String,
    pub disabled_at: Option<String>,
    pub disabled_reason: Option<String>,
    /// The first failed attempt since the last success, while it keeps failing.
    pub failing_since: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status: Option<u16>,
}

impl From<Webhook> for WebhookDto {
    fn from(w: Webhook) -> Self {
        WebhookDto {
            id: w.id,
            url: w.url,
            events: w.events,
            created_at: w.created_at.to_rfc3339(),
            state: if w.disabled_at.is_some() {
                "disabled"
            } else {
                "active"
            }
            .into(),
            disabled_at: w.disabled_at.map(|t| t.to_rfc3339()),
            disabled_reason: w.disabled_reason,
            failing_since: w.failing_since.map(|t| t.to_rfc3339()),
            last_attempt_at: w.last_attempt_at.map(|t| t.to_rfc3339()),
            last_status: w.last_status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhooks {
    pub webhooks: Vec<WebhookDto>,
}

/// Checks the event names: `*` alone, or known, unrepeated types.
pub fn check_events(events: &[String]) -> Result<Vec<String>, FieldError> {
    if events.is_empty() {
        return Err(FieldError::new(
            "events",
            "name at least one event type, or \"*\"",
        ));
    }
    if events.iter().any(|e| e == "*") {
        if events.len() > 1 {
            return Err(FieldError::new("events", "\"*\" stands alone"));
        }
        return Ok(events.to_vec());
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for event in events {
        if !WEBHOOK_EVENT_TYPES.contains(&event.as_str()) {
            return Err(FieldError::new(
                "events",
                format!(
                    "unknown event type {event:?}; known: {}",
                    WEBHOOK_EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !out.contains(event) {
            out.push(event.clone());
        }
    }
    Ok(out)
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 422, body = baton_http::ErrorBody,
        description = "A URL that does not parse, whose host does not resolve, or (unless \
        allowed) is private, loopback or link-local"),
        (status = 403, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, ApiJson<CreatedWebhook>), ApiError> {
    staff.require(Permission::Admin)?;
    let url = body.url.trim();
    if url.len() > 2048 {
        return Err(ApiError::invalid("url", "at most 2048 characters"));
    }
    check_target(url, state.webhooks.config().allow_private_targets)
        .await
        .map_err(|reason| ApiError::invalid("url", reason))?;
    let events = check_events(&body.events).map_err(ApiError::Invalid)?;
    let secret = new_secret();
    let webhook = state
        .engine
        .store()
        .create_webhook(url, &events, &secret, staff.0.id, Utc::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedWebhook {
            id: webhook.id,
            url: webhook.url,
            events: webhook.events,
            secret,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Webhooks)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<ApiJson<Webhooks>, ApiError> {
    staff.require(Permission::Admin)?;
    let webhooks = state.engine.store().webhooks().await?;
    Ok(ApiJson(Webhooks {
        webhooks: webhooks.into_iter().map(WebhookDto::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    staff.require(Permission::Admin)?;
    state
        .engine
        .store()
        .delete_webhook(id, staff.0.id, Utc::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttemptsQuery {
    /// How many attempts, newest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<u64>,
    /// Only attempts with a smaller id: pass `next_before` to get the next page.
    #[param(nullable = false)]
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptDto {
    pub id: i64,
    pub delivery_id: i64,
    /// The `webhook-id` header: the same on every attempt of one event.
    pub webhook_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub at: String,
    /// `delivered`, `retrying` or `failed`.
    pub outcome: String,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl From<WebhookAttempt> for AttemptDto {
    fn from(a: WebhookAttempt) -> Self {
        AttemptDto {
            id: a.id,
            delivery_id: a.delivery_id,
            webhook_id: a.event_id,
            event_type: a.event_type,
            at: a.at.to_rfc3339(),
            outcome: a.outcome,
            status: a.status,
            error: a.error,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attempts {
    pub deliveries: Vec<AttemptDto>,
    /// Pass as `before` for the next page; null on the last page.
    pub next_before: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path), AttemptsQuery),
    responses((status = 200, body = Attempts), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<AttemptsQuery>,
) -> Result<ApiJson<Attempts>, ApiError> {
    staff.require(Permission::Admin)?;
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::invalid("limit", "between 1 and 1000"));
    }
    let attempts = state
        .engine
        .store()
        .webhook_attempts(id, limit, query.before)
        .await?;
    let next_before = match attempts.last() {
        Some(last) if attempts.len() as u64 == limit => Some(last.id),
        _ => None,
    };
    Ok(ApiJson(Attempts {
        deliveries: attempts.into_iter().map(AttemptDto::from).collect(),
        next_before,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Failed deliveries sent again.
    pub replayed: u64,
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/replay", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = Replayed), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn replay(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<Replayed>, ApiError> {
    staff.require(Permission::Admin)?;
    let replayed = state
        .engine
        .store()
        .replay_webhook(id, staff.0.id, Utc::now())
        .await?;
    state.webhooks.wake();
    Ok(ApiJson(Replayed { replayed }))
}
