//! The visitor's live stream: every new message of the conversation as a server-sent
//! `message` event, and the conversation's `state` (status, holder, place in the queue)
//! whenever it changes. A reconnecting client sends `Last-Event-ID` and first receives
//! the messages it missed, read from the message table, so a dropped connection loses
//! nothing; then the current state once. State events carry no id, so they never move
//! the replay point.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use baton_core::ids::{ConversationId, MessageId};
use baton_engine::model::Author;
use baton_engine::{Engine, Event};
use baton_http::{ApiError, ApiPath};
use futures_util::stream::{self, Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

use crate::routes::{ChatMessage, VisitorState, authorize};

fn sse_event(message: ChatMessage) -> Result<SseEvent, Infallible> {
    let data = serde_json::to_string(&message).unwrap_or_else(|_| "{}".into());
    Ok(SseEvent::default()
        .event("message")
        .id(message.id.to_string())
        .data(data))
}

fn state_event(state: &VisitorState) -> Result<SseEvent, Infallible> {
    let data = serde_json::to_string(state).unwrap_or_else(|_| "{}".into());
    Ok(SseEvent::default().event("state").data(data))
}

/// What one visitor stream knows: its conversation and the state it last sent.
struct Watch {
    engine: Engine,
    id: ConversationId,
    sent: Mutex<Option<VisitorState>>,
}

impl Watch {
    fn queued(&self) -> bool {
        self.sent
            .lock()
            .map(|s| s.as_ref().is_some_and(|s| s.queue_position.is_some()))
            .unwrap_or(true)
    }

    /// Re-reads the state; the event to send when it differs from the last one sent.
    async fn refresh(&self) -> Option<Result<SseEvent, Infallible>> {
        let state = match self.engine.store().conversation(self.id).await {
            Ok(conversation) => VisitorState::read(&self.engine, &conversation).await,
            Err(e) => Err(e),
        };
        let state = match state {
            Ok(state) => state,
            Err(error) => {
                tracing::warn!(conversation = self.id.0, %error, "visitor state not read");
                return None;
            }
        };
        let mut sent = self.sent.lock().ok()?;
        if sent.as_ref() == Some(&state) {
            return None;
        }
        let event = state_event(&state);
        *sent = Some(state);
        Some(event)
    }

    /// Whether `event` may have changed this conversation's state: anything about it
    /// (a handoff shows as its system message), and while it waits in the queue, an
    /// assignment, close or handback of any conversation (the queue may have moved).
    fn concerns(&self, event: &Event) -> bool {
        match event {
            Event::Message(m) => m.conversation_id == self.id && m.author != Author::Visitor,
            Event::Assigned(_) | Event::Closed(_) | Event::HandedBack { .. } => {
                event.conversation_id() == Some(self.id) || self.queued()
            }
            Event::Reopened(id) => *id == self.id,
            Event::SettingsChanged => false,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/chat/conversations/{id}/events", tag = "chat",
    params(("id" = i64, Path), ("Last-Event-ID" = Option<i64>, Header,
        description = "the id of the last `message` event received: the messages after it are sent first")),
    responses((status = 200, content_type = "text/event-stream", description = "`message` events \
        (data: a ChatMessage, id: the message id) and `state` events (data: a VisitorState, \
        no id): the current state once on connecting, after the replayed messages, then \
        each change of status, holder or queue position",
        body = VisitorState)),
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
    // Subscribe before reading the backlog and the state so nothing falls between.
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
    let watch = Arc::new(Watch {
        engine,
        id,
        sent: Mutex::new(None),
    });
    let first = watch.refresh().await;
    let live = live
        .then(move |event| {
            let watch = Arc::clone(&watch);
            async move {
                let mut out = Vec::new();
                match event {
                    Ok(event) => {
                        if let Event::Message(m) = &event
                            && m.conversation_id == id
                            && m.id > last
                        {
                            out.push(sse_event(m.clone().into()));
                        }
                        if watch.concerns(&event) {
                            out.extend(watch.refresh().await);
                        }
                    }
                    // Missed events: the state may have changed.
                    Err(_) => out.extend(watch.refresh().await),
                }
                stream::iter(out)
            }
        })
        .flatten();
    let backlog = stream::iter(
        backlog
            .into_iter()
            .map(|m| sse_event(m.into()))
            .chain(first),
    );
    Ok(Sse::new(backlog.chain(live)).keep_alive(KeepAlive::default()))
}
