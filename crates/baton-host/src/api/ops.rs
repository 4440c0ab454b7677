//! Operations: health, readiness, metrics, the OpenAPI document, the audit log.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use baton_http::{ApiError, ApiJson, ApiQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/api/v1/audit", get(audit))
}

/// A path nothing serves: an HTML page for a browser, the JSON error for everything
/// else (API clients, and anything under `/api/`).
pub async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !uri.path().starts_with("/api/") {
        baton_console::not_found_page()
    } else {
        ApiError::NotFound("no such path".into()).into_response()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub(crate) async fn healthz() -> ApiJson<Health> {
    ApiJson(Health {
        status: "ok".into(),
    })
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = baton_http::ErrorBody)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.engine.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            ApiJson(Health {
                status: "ready".into(),
            }),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                ApiJson(baton_http::ErrorBody {
                    error: baton_http::ErrorDetail {
                        code: "database_unavailable".into(),
                        message: "the database does not answer".into(),
                        field: None,
                    },
                }),
            )
                .into_response()
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text format",
        content_type = "application/openmetrics-text")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let queue = state.engine.store().queue_length().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(queue),
    ))
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This document")))]
pub(crate) async fn openapi() -> impl IntoResponse {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    axum::Json(DOCUMENT.get_or_init(crate::openapi::document).clone())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many events, newest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<u64>,
    /// Only events with a smaller id: pass the last id of a page to get the next one.
    #[param(nullable = false)]
    pub before: Option<i64>,
    /// Only events of this kind (`handoff`, `settings_changed`, ...).
    #[param(nullable = false)]
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvents {
    pub events: Vec<AuditEventDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventDto {
    pub id: i64,
    pub at: String,
    /// `settings_changed`, `agent_state`, `handoff`, `assignment`, `rerouted`, `closed`,
    /// `delivery_failed` (a provider refused a message for good), among others.
    pub kind: String,
    pub actor_user_id: Option<i64>,
    pub conversation_id: Option<i64>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditEvents)), security(("bearer" = [])))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    _staff: Staff,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<ApiJson<AuditEvents>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::invalid("limit", "between 1 and 1000"));
    }
    let events = state
        .engine
        .store()
        .audit(limit, query.before, query.kind.as_deref())
        .await?;
    Ok(ApiJson(AuditEvents {
        events: events
            .into_iter()
            .map(|e| AuditEventDto {
                id: e.id,
                at: e.at.to_rfc3339(),
                kind: e.kind,
                actor_user_id: e.actor_user_id.map(|u| u.0),
                conversation_id: e.conversation_id.map(|c| c.0),
                detail: e.detail,
            })
            .collect(),
    }))
}
