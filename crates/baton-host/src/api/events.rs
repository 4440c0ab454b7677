//! The staff's live stream (B8): every event of every conversation, from this host and,
//! on PostgreSQL, from the others, as server-sent events with ids from the host's
//! [`Journal`]: a reconnect with `Last-Event-ID` replays what it missed, or says
//! `resync` when that is no longer known (a restart, another host, too long away).

use std::convert::Infallible;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use baton_engine::Event;
use futures_util::stream::{Stream, StreamExt};
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::app::AppState;
use crate::auth::Staff;
use crate::journal::{Entry, Journal, Start};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

fn encode(journal: &Journal, entry: &Entry) -> SseEvent {
    match &entry.event {
        Some(event) => named(event).id(journal.id(entry.seq)),
        // The journal lost events here: whoever reads past it re-reads its views.
        None => resync(journal.id(entry.seq)),
    }
}

/// "Re-read your views": sent instead of a replay that is no longer possible. Its id is
/// the newest entry's, so a reconnect after the re-read resumes from there.
fn resync(id: String) -> SseEvent {
    SseEvent::default().event("resync").data("{}").id(id)
}

fn named(event: &Event) -> SseEvent {
    let (name, data) = match event.clone() {
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

#[derive(Debug, serde::Deserialize)]
pub(crate) struct EventsQuery {
    after: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "conversations",
    params(("after" = Option<String>, Query,
        description = "An event id to start after, as `Last-Event-ID` (which wins when both are sent): how a page rendered at a known position opens its first stream."),
        ("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received. The events after it are replayed; when they are no longer kept (about 4,096 events), after a restart, or from another host, the stream starts with one `resync` event instead: re-read the views.")),
    responses((status = 200, content_type = "text/event-stream", description = "text/event-stream of `message`, `assigned`, `closed`, `handed_back`, `reopened` and `settings_changed` events, each with an id, and `resync` events (re-read the views: events were lost)")),
    security(("bearer" = [])))]
pub(crate) async fn events(
    State(state): State<AppState>,
    _staff: Staff,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let journal = state.journal.clone();
    // A browser's reconnect sends the header; the query names where the page began.
    let last = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .or(query.after.as_deref());
    let (start, live) = journal.resume(last);
    let first: Vec<SseEvent> = match start {
        Start::Fresh => Vec::new(),
        Start::Replay(entries) => entries.iter().map(|e| encode(&journal, e)).collect(),
        Start::Resync => vec![resync(journal.id(journal.head_seq()))],
    };
    // After a resync at the newest entry, older entries still buffered are covered by
    // the re-read and are skipped, so ids only ever grow.
    let mut covered = 0;
    let tail = BroadcastStream::new(live).filter_map(move |entry| {
        let event = match entry {
            Ok(entry) if entry.seq <= covered => None,
            Ok(entry) => Some(encode(&journal, &entry)),
            // This stream fell behind the journal and missed entries.
            Err(BroadcastStreamRecvError::Lagged(_)) => {
                covered = journal.head_seq();
                Some(resync(journal.id(covered)))
            }
        };
        std::future::ready(event)
    });
    let stream = futures_util::stream::iter(first).chain(tail).map(Ok);
    Sse::new(stream).keep_alive(KeepAlive::default())
}
