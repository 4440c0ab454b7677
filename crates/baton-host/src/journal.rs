//! The staff stream's journal: every engine event (this host's and, on PostgreSQL, the
//! relayed ones) numbered in the order this host saw it, the most recent kept in memory.
//!
//! An SSE id is `{epoch}-{seq}`. The epoch names this process's lifetime, so an id from
//! before a restart, or from another host behind the same address, is recognised as
//! foreign instead of being mistaken for a position here. A client reconnecting with
//! `Last-Event-ID` gets exactly the entries after it when they are still kept; otherwise
//! it gets one `resync` event and must re-read its views. Subscribing and reading the
//! kept entries happen under one lock with every append, so the replay and the live tail
//! meet with nothing missed and nothing twice.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use baton_engine::{Engine, Event};
use tokio::sync::broadcast::{self, error::RecvError};

/// Entries kept for replay: a few minutes of a busy help desk.
pub const KEPT: usize = 4096;

/// One numbered entry. `event` is `None` for a gap: the journal itself fell behind the
/// engine and lost events, so whoever reads past it must resync.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: u64,
    pub event: Option<Arc<Event>>,
}

/// Where a (re)connecting client starts.
#[derive(Debug)]
pub enum Start {
    /// No `Last-Event-ID`: the live tail only (the client has just read its views).
    Fresh,
    /// The entries it missed, oldest first, then the live tail.
    Replay(Vec<Entry>),
    /// Its id is foreign or too old: it must re-read its views.
    Resync,
}

#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

struct Inner {
    epoch: String,
    kept: usize,
    log: Mutex<Log>,
    live: broadcast::Sender<Entry>,
}

struct Log {
    /// The seq of the next entry; entries start at 1, so `next - 1` is the newest.
    next: u64,
    entries: VecDeque<Entry>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("epoch", &self.inner.epoch)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// A journal fed by `engine`'s events from now on (a task on the current runtime).
    pub fn spawn(engine: &Engine) -> Journal {
        let journal = Journal::new(KEPT);
        let mut events = engine.subscribe();
        let feeder = journal.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => feeder.append(Some(Arc::new(event))),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, stage = "journal", "events lost; streams resync");
                        feeder.append(None);
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        journal
    }

    /// An empty journal keeping `kept` entries, fed by [`Journal::append`].
    pub fn new(kept: usize) -> Journal {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Live streams read entries as they come; a stream that falls this far behind
        // is told to resync.
        let (live, _) = broadcast::channel(kept.max(16));
        Journal {
            inner: Arc::new(Inner {
                epoch: format!("{nanos:x}{:x}", std::process::id()),
                kept: kept.max(1),
                log: Mutex::new(Log {
                    next: 1,
                    entries: VecDeque::new(),
                }),
                live,
            }),
        }
    }

    pub fn append(&self, event: Option<Arc<Event>>) {
        let mut log = self.lock();
        let entry = Entry {
            seq: log.next,
            event,
        };
        log.next += 1;
        if log.entries.len() == self.inner.kept {
            log.entries.pop_front();
        }
        log.entries.push_back(entry.clone());
        // Sent under the lock, so live order is seq order and `resume` sees no overlap.
        let _ = self.inner.live.send(entry);
    }

    /// Where a client with `last_event_id` starts, and its live tail.
    pub fn resume(&self, last_event_id: Option<&str>) -> (Start, broadcast::Receiver<Entry>) {
        let log = self.lock();
        let live = self.inner.live.subscribe();
        let Some(last) = last_event_id else {
            return (Start::Fresh, live);
        };
        let start = match self.seq_of(last) {
            Some(seq) if seq < log.next => {
                let oldest = log.entries.front().map_or(log.next, |e| e.seq);
                if seq + 1 >= oldest {
                    Start::Replay(
                        log.entries
                            .iter()
                            .filter(|e| e.seq > seq)
                            .cloned()
                            .collect(),
                    )
                } else {
                    Start::Resync
                }
            }
            _ => Start::Resync,
        };
        (start, live)
    }

    /// The SSE id of `seq`.
    pub fn id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.inner.epoch)
    }

    /// The seq of the newest entry (0 when none), for a `resync` event: a client that
    /// reconnects after re-reading its views resumes from there.
    pub fn head_seq(&self) -> u64 {
        self.lock().next - 1
    }

    fn seq_of(&self, id: &str) -> Option<u64> {
        let (epoch, seq) = id.trim().rsplit_once('-')?;
        if epoch != self.inner.epoch {
            return None;
        }
        seq.parse().ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        // Appends cannot leave the log half-written, so a poisoned lock is still sound.
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::ids::ConversationId;

    fn closed(id: i64) -> Option<Arc<Event>> {
        Some(Arc::new(Event::Closed(ConversationId(id))))
    }

    fn seqs(start: &Start) -> Vec<u64> {
        match start {
            Start::Replay(entries) => entries.iter().map(|e| e.seq).collect(),
            other => panic!("expected a replay, got {other:?}"),
        }
    }

    #[test]
    fn a_known_id_replays_exactly_what_followed_it() {
        let journal = Journal::new(8);
        for id in 1..=5 {
            journal.append(closed(id));
        }
        let (start, _) = journal.resume(Some(&journal.id(3)));
        assert_eq!(seqs(&start), vec![4, 5]);
        let (start, _) = journal.resume(Some(&journal.id(5)));
        assert_eq!(seqs(&start), Vec::<u64>::new());
        let (start, _) = journal.resume(Some(&journal.id(0)));
        assert_eq!(seqs(&start), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn an_id_older_than_what_is_kept_or_foreign_or_unknown_resyncs() {
        let journal = Journal::new(3);
        for id in 1..=6 {
            journal.append(closed(id));
        }
        // Kept: 4, 5, 6. After 3 nothing is lost; after 2, entry 3 is.
        assert_eq!(seqs(&journal.resume(Some(&journal.id(3))).0), vec![4, 5, 6]);
        assert!(matches!(
            journal.resume(Some(&journal.id(2))).0,
            Start::Resync
        ));
        // An id from the future, another process's, or garbage.
        assert!(matches!(
            journal.resume(Some(&journal.id(7))).0,
            Start::Resync
        ));
        let other = Journal::new(3);
        assert!(matches!(
            journal.resume(Some(&other.id(5))).0,
            Start::Resync
        ));
        assert!(matches!(journal.resume(Some("17")).0, Start::Resync));
        assert!(matches!(journal.resume(None).0, Start::Fresh));
    }

    #[tokio::test]
    async fn the_live_tail_starts_right_after_the_replay() {
        let journal = Journal::new(8);
        journal.append(closed(1));
        let (start, mut live) = journal.resume(Some(&journal.id(0)));
        journal.append(closed(2));
        assert_eq!(seqs(&start), vec![1]);
        assert_eq!(live.recv().await.map(|e| e.seq).ok(), Some(2));
        assert_eq!(journal.head_seq(), 2);
    }
}
