//! `GET/POST /webhooks/{name}`: the provider's request goes to the channel plugin, and
//! what it parsed goes to the engine.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baton_engine::model::{ConversationStatus, Visitor};
use baton_engine::{Engine, StoreError};
use baton_http::ApiError;
use baton_plugin_host::{CallError, Channel, ErrorKind, HttpRequest, Inbound, WebhookResponse};
use chrono::Utc;

use crate::PLUGIN_TIMEOUT;

/// The loaded channel plugins, by configured name.
pub type Channels = Arc<HashMap<String, Channel>>;

#[derive(Clone)]
pub(crate) struct WebhookState {
    engine: Engine,
    channels: Channels,
}

/// The webhook routes for `channels`.
pub fn router(engine: Engine, channels: Channels) -> Router {
    Router::new()
        .route("/webhooks/{name}", get(handshake).post(inbound))
        .with_state(WebhookState { engine, channels })
}

fn channel<'a>(state: &'a WebhookState, name: &str) -> Result<&'a Channel, ApiError> {
    state
        .channels
        .get(name)
        .ok_or_else(|| ApiError::NotFound(format!("no channel plugin is named {name:?}")))
}

fn request(
    method: Method,
    query: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HttpRequest, ApiError> {
    let body = std::str::from_utf8(body)
        .map_err(|_| ApiError::Malformed("the body is not UTF-8".into()))?
        .to_owned();
    Ok(HttpRequest {
        method: method.as_str().to_owned(),
        query: query.unwrap_or_default(),
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body,
    })
}

/// What a refused or failed plugin call answers the provider.
fn refused(name: &str, error: CallError) -> ApiError {
    match error {
        CallError::Plugin(e) => match e.kind {
            ErrorKind::Unauthorized => ApiError::Unauthorized("invalid_signature", e.message),
            ErrorKind::BadRequest => ApiError::Malformed(e.message),
            _ => ApiError::Internal(format!("channel {name}: {}", e.message)),
        },
        CallError::Disabled { reason, .. } => {
            ApiError::Unavailable(format!("channel {name} is disabled: {reason}"))
        }
        other => ApiError::Internal(format!("channel {name}: {other}")),
    }
}

fn respond(answer: WebhookResponse) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    if let Some(value) = answer
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// A provider's subscription handshake (WhatsApp's `hub.challenge`), answered by the
/// channel plugin.
#[utoipa::path(get, path = "/webhooks/{name}", tag = "webhooks",
    params(("name" = String, Path, description = "The `[[plugins]]` entry's name")),
    responses(
        (status = 200, description = "the plugin's answer, e.g. the challenge as text/plain"),
        (status = 401, body = baton_http::ErrorBody), (status = 404, body = baton_http::ErrorBody),
        (status = 503, body = baton_http::ErrorBody)))]
pub(crate) async fn handshake(
    State(state): State<WebhookState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let channel = channel(&state, &name)?;
    let request = request(Method::GET, query, &headers, &[])?;
    let answer = channel
        .handshake(&request, PLUGIN_TIMEOUT)
        .await
        .map_err(|e| refused(&name, e))?;
    Ok(respond(answer))
}

/// A provider's webhook: verified and parsed by the channel plugin, then ingested.
#[utoipa::path(post, path = "/webhooks/{name}", tag = "webhooks",
    params(("name" = String, Path, description = "The `[[plugins]]` entry's name")),
    request_body(content = String, description = "the provider's payload, as it sent it",
        content_type = "application/json"),
    responses(
        (status = 200, description = "accepted (the plugin's answer)"),
        (status = 400, body = baton_http::ErrorBody, description = "malformed; nothing stored"),
        (status = 401, body = baton_http::ErrorBody, description = "bad signature; nothing stored"),
        (status = 404, body = baton_http::ErrorBody), (status = 503, body = baton_http::ErrorBody)))]
pub(crate) async fn inbound(
    State(state): State<WebhookState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let channel = channel(&state, &name)?;
    let request = request(Method::POST, query, &headers, &body)?;
    let parsed: Inbound = channel
        .inbound(&request, PLUGIN_TIMEOUT)
        .await
        .map_err(|e| refused(&name, e))?;
    let store = state.engine.store();
    for message in &parsed.messages {
        let visitor = Visitor {
            name: message.contact_name.clone(),
            email: None,
        };
        let id = message.message_id.as_deref();
        // A close can land between finding the conversation and storing the message:
        // the thread then goes on in a new conversation, as the next message would.
        let mut tries = 0;
        loop {
            let conversation = store
                .thread_conversation(&name, &message.thread, visitor.clone(), id, Utc::now())
                .await?;
            // The provider's message id dedups redeliveries: the engine answers a repeat
            // with the first replies and stores nothing.
            match state.engine.ingest(&conversation, &message.text, id).await {
                Err(StoreError::Conflict(_))
                    if conversation.status == ConversationStatus::Open && tries < 3 =>
                {
                    tries += 1;
                }
                outcome => {
                    outcome?;
                    break;
                }
            }
        }
    }
    let mut noticed = false;
    for notice in &parsed.notices {
        let conversation = store
            .thread_conversation(&name, &notice.thread, Visitor::default(), None, Utc::now())
            .await?;
        noticed |= store
            .notify_visitor(
                conversation.id,
                &notice.text,
                notice.in_reply_to.as_deref(),
                Utc::now(),
            )
            .await?
            .is_some();
    }
    if noticed {
        state.engine.wake_outbox();
    }
    Ok(respond(parsed.response))
}
