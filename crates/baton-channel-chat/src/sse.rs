//! The visitor's live stream: every new message of the conversation as a server-sent
//! event. A reconnecting client sends `Last-Event-ID` and first receives what it missed,
//! read from the message table, so a dropped connection loses nothing.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use baton_core::ids::{ConversationId, MessageId};
use baton_engine::{Engine, Event};
use baton_http::{ApiError, ApiPath};
use futures_util::stream::{self, Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

use crate::routes::{ChatMessage, authorize};

fn sse_event(message: ChatMessage) -> Result<SseEvent, Infallible> {
    let data = serde_json::to_string(&message).unwrap_or_else(|_| "{}".into());
    Ok(SseEvent::default()
        .event("message")
        .id(message.id.to_string())
        .data(data))
}

#[utoipa::path(get, path = "/api/v1/chat/conversations/{id}/events", tag = "chat",
    params(("id" = i64, Path), ("Last-Event-ID" = Option<i64>, Header)),
    responses((status = 200, description = "text/event-stream of `message` events")),
    security(("visitor_token" = [])))]
pub(crate) async fn events(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let id = ConversationId(id);
    authorize(&engine, &headers, id).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(MessageId);
    // Subscribe before reading the backlog so nothing falls between the two.
    let live = BroadcastStream::new(engine.subscribe());
    let backlog = match after {
        Some(after) => engine.store().messages(id, Some(after)).await?,
        None => Vec::new(),
    };
    let last = backlog
        .last()
        .map(|m| m.id)
        .or(after)
        .unwrap_or(MessageId(0));
    let live = live.filter_map(move |event| async move {
        match event {
            Ok(Event::Message(m)) if m.conversation_id == id && m.id > last => {
                Some(sse_event(m.into()))
            }
            _ => None,
        }
    });
    let backlog = stream::iter(backlog.into_iter().map(|m| sse_event(m.into())));
    Ok(Sse::new(backlog.chain(live)).keep_alive(KeepAlive::default()))
}
