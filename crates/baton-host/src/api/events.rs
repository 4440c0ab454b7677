//! The staff's live stream (B8): every event of every conversation, from this host and,
//! on PostgreSQL, from the others, as server-sent events.

use std::convert::Infallible;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use baton_engine::Event;
use futures_util::stream::{Stream, StreamExt};
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;

use crate::app::AppState;
use crate::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

fn encode(event: Event) -> SseEvent {
    let (name, data) = match event {
        Event::Message(m) => (
            "message",
            json!({"conversation_id": m.conversation_id.0, "message": {
                "id": m.id.0, "author": m.author.as_str(), "text": m.text,
                "created_at": m.created_at.to_rfc3339()}}),
        ),
        Event::Assigned(a) => (
            "assigned",
            json!({"conversation_id": a.conversation_id.0, "user_id": a.user_id.0,
                   "rule": a.rule}),
        ),
        Event::Closed(id) => ("closed", json!({"conversation_id": id.0})),
        Event::HandedBack {
            conversation_id,
            from_user,
            reason,
        } => (
            "handed_back",
            json!({"conversation_id": conversation_id.0,
                   "from_user_id": from_user.map(|u| u.0), "reason": reason.as_str()}),
        ),
        Event::Reopened(id) => ("reopened", json!({"conversation_id": id.0})),
        Event::SettingsChanged => ("settings_changed", json!({})),
    };
    SseEvent::default().event(name).data(data.to_string())
}

#[utoipa::path(get, path = "/api/v1/events", tag = "conversations",
    responses((status = 200, description = "text/event-stream of `message`, `assigned`, `closed`, `handed_back`, `reopened` and `settings_changed` events")),
    security(("bearer" = [])))]
pub(crate) async fn events(
    State(state): State<AppState>,
    _staff: Staff,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let stream = BroadcastStream::new(state.engine.subscribe())
        // A subscriber that fell behind misses events; it re-reads the views.
        .filter_map(|event| async move { event.ok().map(|e| Ok(encode(e))) });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
