//! Outbox claims against real databases: a host sends only the rows it claimed, a claim
//! lasts until its lease ends (or the row is settled), and hosts sharing a database never
//! claim one row together.

mod common;

use std::collections::BTreeSet;

use baton_engine::Store;
use baton_engine::model::Visitor;
use baton_store::SeaStore;
use chrono::{DateTime, Duration, Utc};
use common::Db;

on_both!(
    "outbox";
    a_claim_holds_until_its_lease_ends_or_the_row_is_settled,
    hosts_claiming_together_never_share_a_row,
);

/// `conversations` messaging conversations with `per_conversation` outgoing notices each.
async fn outgoing(store: &SeaStore, conversations: usize, per_conversation: usize) {
    let now = Utc::now();
    for c in 0..conversations {
        let conversation = store
            .thread_conversation(
                "telegram",
                &format!("chat-{c}"),
                Visitor::default(),
                None,
                now,
            )
            .await
            .expect("thread");
        for n in 0..per_conversation {
            store
                .notify_visitor(conversation.id, &format!("notice {n}"), None, now)
                .await
                .expect("notify");
        }
    }
}

async fn claim(store: &SeaStore, limit: u64, at: DateTime<Utc>) -> Vec<i64> {
    store
        .claim_outbox(limit, at, at + Duration::seconds(60))
        .await
        .expect("claim")
        .into_iter()
        .map(|item| item.id)
        .collect()
}

async fn a_claim_holds_until_its_lease_ends_or_the_row_is_settled(db: Db) {
    let store = &db.store;
    outgoing(store, 3, 2).await;
    let t0 = Utc::now();
    let first = claim(store, 10, t0).await;
    assert_eq!(first.len(), 3, "the first row of each conversation");
    assert!(
        claim(store, 10, t0).await.is_empty(),
        "claimed rows, and the rows behind them, wait"
    );
    assert!(
        claim(store, 10, t0 + Duration::seconds(59))
            .await
            .is_empty()
    );
    // The claimer died: the lease ends and the same rows are due, untried.
    let again = store
        .claim_outbox(10, t0 + Duration::seconds(61), t0 + Duration::seconds(121))
        .await
        .expect("claim");
    assert_eq!(again.iter().map(|i| i.id).collect::<Vec<_>>(), first);
    assert!(again.iter().all(|i| i.attempts == 0));

    // Settling ends the claim: a retry is due at its own time, not at the lease's end;
    // a delivered row lets the next one of its conversation go.
    let t1 = t0 + Duration::seconds(61);
    store
        .mark_retry(first[0], t1 + Duration::seconds(1), "HTTP 429", t1)
        .await
        .expect("retry");
    store
        .mark_delivered(&first[1..2], t1)
        .await
        .expect("delivered");
    let next = claim(store, 10, t1 + Duration::seconds(2)).await;
    assert_eq!(next.len(), 2, "{next:?}");
    assert!(
        next.contains(&first[0]),
        "the retry, due before the lease ends"
    );
    assert!(!next.contains(&first[1]) && !next.contains(&first[2]));

    // A host alone on its database (SQLite) frees what the process before it claimed.
    let freed = store.release_outbox_claims().await.expect("release");
    if db.schema.is_none() {
        assert_eq!(freed, 3, "the two just claimed and the third, still leased");
        assert_eq!(claim(store, 10, t1 + Duration::seconds(2)).await.len(), 3);
    } else {
        assert_eq!(freed, 0, "other hosts may be sending them");
    }
}

/// The same database reached through a second pool of connections: another host.
async fn second_host(db: &Db) -> SeaStore {
    let url = match (&db._dir, &db.schema) {
        (Some(dir), _) => format!("sqlite://{}/baton.db?mode=rwc", dir.path().display()),
        (None, Some(_)) => std::env::var("BATON_TEST_POSTGRES_URL").expect("postgres url"),
        (None, None) => unreachable!("a test database is a file or a schema"),
    };
    SeaStore::connect(&url, db.schema.as_deref())
        .await
        .expect("second host")
}

async fn hosts_claiming_together_never_share_a_row(db: Db) {
    const ROWS: usize = 60;
    outgoing(&db.store, ROWS, 1).await;
    let other = second_host(&db).await;
    let sweep = |store: SeaStore| async move {
        let mut mine = Vec::new();
        loop {
            let batch = claim(&store, 7, Utc::now()).await;
            if batch.is_empty() {
                return mine;
            }
            mine.extend(batch);
            tokio::task::yield_now().await;
        }
    };
    let (a, b, c) = tokio::join!(
        tokio::spawn(sweep(db.store.clone())),
        tokio::spawn(sweep(other.clone())),
        tokio::spawn(sweep(other)),
    );
    let claimed: Vec<Vec<i64>> = [a, b, c].into_iter().map(|r| r.expect("task")).collect();
    let all: Vec<i64> = claimed.iter().flatten().copied().collect();
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(
        all.len(),
        distinct.len(),
        "a row claimed twice: {claimed:?}"
    );
    assert_eq!(distinct.len(), ROWS, "every row claimed once: {claimed:?}");
}
