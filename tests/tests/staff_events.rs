//! The staff stream (`GET /api/v1/events`) resumes with `Last-Event-ID`: a reconnect gets
//! exactly the events it missed, in order, once; an id it cannot honour (another
//! process's, garbage) starts with `resync`. Over HTTP on the real binary.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use baton_e2e::{Backend, EventStream, Server, SseEvent, scenarios};
use serde_json::Value;

scenarios!(
    a_reconnect_replays_exactly_what_it_missed,
    an_id_the_host_cannot_honour_starts_with_resync,
    a_position_in_the_query_starts_the_stream_after_it,
);

const WAIT: Duration = Duration::from_secs(20);
const STREAM: &str = "/api/v1/events";

/// Reads events until the `message` event whose text is `text`; returns all read.
async fn read_until_message(stream: &mut EventStream, text: &str) -> Vec<SseEvent> {
    let mut read = Vec::new();
    loop {
        let event = stream.next(WAIT).await;
        let done = event.event == "message" && message(&event)["text"] == text;
        read.push(event);
        if done {
            return read;
        }
    }
}

fn message(event: &SseEvent) -> Value {
    serde_json::from_str::<Value>(&event.data).unwrap()["message"].clone()
}

/// The id's sequence number: `{epoch}-{seq}`.
fn seq(event: &SseEvent) -> u64 {
    let (_, seq) = event.id.rsplit_once('-').unwrap();
    seq.parse().unwrap()
}

/// The conversation's message ids, oldest first, from the staff API.
async fn transcript(server: &Server, id: i64) -> Vec<i64> {
    let body = server
        .get_ok(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

async fn a_reconnect_replays_exactly_what_it_missed(server: &Server) {
    let mut stream = server.sse_after(STREAM, &server.token, None).await;
    let visitor = server.visitor().await;
    visitor.say("hello").await;
    let seen = read_until_message(&mut stream, "hello").await;
    let last = seen.last().unwrap().clone();
    assert!(
        seen.iter().all(|e| !e.id.is_empty()),
        "every event has an id: {seen:?}"
    );
    // Away: the next turns happen while no stream is connected (and the answer to
    // "hello" may not have been read yet: it was missed too).
    drop(stream);
    let hello = message(&last)["id"].as_i64().unwrap();
    visitor.say("where is my parcel").await;
    visitor.say("and my invoice").await;
    let after = transcript(server, visitor.id).await;
    let missed: Vec<i64> = after.iter().copied().filter(|id| *id > hello).collect();
    assert!(
        missed.len() >= 2,
        "two visitor messages at least: {missed:?}"
    );

    let mut resumed = server
        .sse_after(STREAM, &server.token, Some(&last.id))
        .await;
    // Events come in the order the host published them: an answer delivered through
    // the outbox may follow the visitor's next message. Read until every message stored
    // while away has come.
    let ids = |events: &[SseEvent]| -> Vec<i64> {
        events
            .iter()
            .filter(|e| e.event == "message")
            .map(|e| message(e)["id"].as_i64().unwrap())
            .collect()
    };
    let mut replayed = Vec::new();
    while !missed.iter().all(|id| ids(&replayed).contains(id)) {
        replayed.push(resumed.next(WAIT).await);
    }
    let seqs: Vec<u64> = replayed.iter().map(seq).collect();
    let expected: Vec<u64> = (seq(&last) + 1..=seq(&last) + seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "contiguous, after the last id, none twice");
    let mut messages = ids(&replayed);
    messages.sort_unstable();
    assert_eq!(
        messages, missed,
        "exactly the messages stored while away, once each"
    );
    assert!(
        replayed.iter().all(|e| e.event != "resync"),
        "a replay, not a resync: {replayed:?}"
    );

    // The live tail follows the replay with nothing repeated.
    visitor.say("one more thing").await;
    let live = read_until_message(&mut resumed, "one more thing").await;
    let all: BTreeSet<u64> = replayed.iter().chain(&live).map(seq).collect();
    assert_eq!(
        all.len(),
        replayed.len() + live.len(),
        "no id twice across the replay and the live tail"
    );
    assert_eq!(seq(&live[0]), seqs.last().unwrap() + 1, "live follows on");
}

async fn an_id_the_host_cannot_honour_starts_with_resync(server: &Server) {
    for foreign in ["deadbeef-12", "17", "garbage"] {
        let mut stream = server.sse_after(STREAM, &server.token, Some(foreign)).await;
        let first = stream.next(WAIT).await;
        assert_eq!(first.event, "resync", "after {foreign:?}: {first:?}");
        assert!(
            !first.id.is_empty(),
            "a resync carries the id to resume from"
        );
        // Resuming from the resync's id is a plain replay (nothing happened since).
        let visitor = server.visitor().await;
        let mut resumed = server
            .sse_after(STREAM, &server.token, Some(&first.id))
            .await;
        visitor.say(&format!("hello from {foreign}")).await;
        let events = read_until_message(&mut resumed, &format!("hello from {foreign}")).await;
        assert!(
            events.iter().all(|e| e.event != "resync"),
            "no resync when the id is known: {events:?}"
        );
    }
}

/// A page rendered at a known position opens its stream with `?after=`: what happened
/// since is replayed; a later `Last-Event-ID` (the browser's reconnect) wins over it.
async fn a_position_in_the_query_starts_the_stream_after_it(server: &Server) {
    let mut stream = server.sse_after(STREAM, &server.token, None).await;
    let visitor = server.visitor().await;
    visitor.say("hello").await;
    let at = read_until_message(&mut stream, "hello")
        .await
        .pop()
        .unwrap();
    visitor.say("said after the page was rendered").await;
    let later = read_until_message(&mut stream, "said after the page was rendered")
        .await
        .pop()
        .unwrap();
    drop(stream);

    let path = format!("{STREAM}?after={}", at.id);
    let mut opened = server.sse_after(&path, &server.token, None).await;
    let replayed = read_until_message(&mut opened, "said after the page was rendered").await;
    assert_eq!(seq(&replayed[0]), seq(&at) + 1, "{replayed:?}");
    assert!(replayed.iter().all(|e| e.event != "resync"), "{replayed:?}");

    let mut reconnected = server
        .sse_after(&path, &server.token, Some(&later.id))
        .await;
    visitor.say("one more").await;
    let events = read_until_message(&mut reconnected, "one more").await;
    assert!(
        events.iter().all(|e| seq(e) > seq(&later)),
        "the header wins: nothing at or before it again: {events:?}"
    );
}

/// After a crash and restart the old ids belong to a process that is gone: the stream
/// says `resync`, and the views it re-reads hold everything committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_old_ids_resync() {
    let mut server = Server::start(Backend::Sqlite).await;
    let mut stream = server.sse_after(STREAM, &server.token, None).await;
    let visitor = server.visitor().await;
    visitor.say("hello").await;
    let last = read_until_message(&mut stream, "hello")
        .await
        .pop()
        .unwrap();
    drop(stream);
    let id = visitor.id;
    let before = transcript(&server, id).await;
    drop(visitor);
    server.restart().await;
    let mut resumed = server
        .sse_after(STREAM, &server.token, Some(&last.id))
        .await;
    let first = resumed.next(WAIT).await;
    assert_eq!(first.event, "resync", "{first:?}");
    assert_ne!(first.id, last.id);
    assert_eq!(transcript(&server, id).await, before, "nothing lost");
}
