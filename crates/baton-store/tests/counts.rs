//! The inbox views' counts (`Store::view_counts`) against a fresh count of the rows,
//! after real transitions through the Store port, on a fresh SQLite file per case and a
//! fresh PostgreSQL schema per case when `BATON_TEST_POSTGRES_URL` is set.

mod common;

use std::sync::Arc;

use baton_core::decision::{HandoffProcess, Trigger};
use baton_core::ids::{ConversationId, InboxId, UserId};
use baton_core::people::{Availability, Permission, Seat};
use baton_core::settings::{Destination, HandoffSettings, Process};
use baton_engine::model::{
    Assignee, Handback, HandbackReason, HandoffPlan, InboxKind, NewUser, Turn, TurnAction,
    TurnOutcome, View, ViewCounts, Visitor,
};
use baton_engine::{HANDBACK_MESSAGE, Store};
use baton_store::SeaStore;
use chrono::Utc;
use common::Db;
use sea_orm::{ConnectionTrait, Statement};

on_both!(
    "counts";
    counts_follow_every_transition,
    counts_stay_exact_under_concurrent_changes,
);

struct World {
    owner: UserId,
    /// On the route, capacity 1 each.
    routed: Vec<UserId>,
    /// Off the route, capacity 3: claims and manual assignments.
    carl: UserId,
    settings: HandoffSettings,
}

async fn user(store: &SeaStore, name: &str, capacity: u32) -> UserId {
    store
        .create_user(NewUser {
            name: name.into(),
            email: format!("{name}@example.com"),
            seat: Seat::Service,
            permissions: vec![Permission::CustomerAgentEditor],
            capacity,
        })
        .await
        .expect("user")
        .id
}

async fn world(store: &SeaStore) -> World {
    let owner = store
        .bootstrap_owner("owner-token-hash")
        .await
        .expect("bootstrap")
        .expect("first start")
        .id;
    let inbox = store
        .create_inbox("Support", InboxKind::Inbox)
        .await
        .expect("inbox");
    let routed = vec![user(store, "ann", 1).await, user(store, "bob", 1).await];
    let carl = user(store, "carl", 3).await;
    let settings = HandoffSettings {
        process: Process::Live,
        destination: Some(Destination::UsersAndTeams {
            inbox_id: InboxId(inbox.id.0),
            user_ids: routed.clone(),
            team_ids: Vec::new(),
            strategy: Default::default(),
        }),
        ..HandoffSettings::default()
    };
    let stored = store
        .put_settings(owner, settings, None, Utc::now())
        .await
        .expect("settings");
    World {
        owner,
        routed,
        carl,
        settings: stored.settings,
    }
}

async fn conversation(store: &SeaStore) -> ConversationId {
    store
        .create_conversation("chat", Visitor::default(), "visitor-hash", Utc::now())
        .await
        .expect("conversation")
        .id
}

/// Hands `id` off on a visitor message; returns who took it (`None`: queued).
async fn hand_off(store: &SeaStore, w: &World, id: ConversationId) -> Option<UserId> {
    let outcome = store
        .commit_turn(Turn {
            conversation_id: id,
            text: "a human please".into(),
            client_message_id: None,
            action: TurnAction::Handoff(Box::new(HandoffPlan {
                trigger: Trigger::AsksForHuman {
                    matched: "a human".into(),
                    span: 2..7,
                },
                process: HandoffProcess::Live,
                settings_version: 2,
                settings: Arc::new(w.settings.clone()),
                explanation: "test".into(),
                summary: "summary".into(),
            })),
            now: Utc::now(),
        })
        .await
        .expect("turn");
    let TurnOutcome::Stored { handoff, .. } = outcome else {
        panic!("not stored: {outcome:?}");
    };
    handoff.expect("handoff").assignment.map(|a| a.user_id)
}

/// The counts by a fresh `count(*)` per view, and by reading each view whole.
async fn counted(store: &SeaStore, user: UserId) -> ViewCounts {
    let db = store.connection();
    let sql = format!(
        "SELECT \
         (SELECT COUNT(*) FROM conversations WHERE status = 'open' AND assignee_kind = 'none') AS unassigned, \
         (SELECT COUNT(*) FROM conversations WHERE status = 'open' AND assignee_user_id = {}) AS mine, \
         (SELECT COUNT(*) FROM conversations WHERE status = 'open') AS open",
        user.0
    );
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("count")
        .expect("a row");
    let get = |column: &str| -> u64 {
        let n: i64 = row.try_get("", column).expect(column);
        u64::try_from(n).expect("a count")
    };
    let counts = ViewCounts {
        unassigned: get("unassigned"),
        mine: get("mine"),
        open: get("open"),
    };
    let listed = |view| async move {
        store
            .conversations(view, None, 10_000)
            .await
            .expect("list")
            .len() as u64
    };
    assert_eq!(
        (
            listed(View::Unassigned).await,
            listed(View::Mine(user)).await,
            listed(View::Open).await
        ),
        (counts.unassigned, counts.mine, counts.open),
        "the views' lists hold what count(*) counts"
    );
    counts
}

async fn check(store: &SeaStore, users: &[UserId], step: &str) {
    for user in users {
        let kept = store.view_counts(*user).await.expect("view counts");
        assert_eq!(kept, counted(store, *user).await, "{step}, user {user}");
    }
}

async fn counts_follow_every_transition(db: Db) {
    let store = &db.store;
    let w = world(store).await;
    let users = [w.owner, w.routed[0], w.routed[1], w.carl];
    check(store, &users, "empty").await;

    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(conversation(store).await);
    }
    check(store, &users, "new conversations").await;

    let mut held = Vec::new();
    let mut queued = Vec::new();
    for id in &ids[..4] {
        match hand_off(store, &w, *id).await {
            Some(user) => held.push((*id, user)),
            None => queued.push(*id),
        }
    }
    assert_eq!(
        (held.len(), queued.len()),
        (2, 2),
        "two assigned, two queued"
    );
    check(store, &users, "handoffs").await;
    let counts = store.view_counts(held[0].1).await.expect("counts");
    assert_eq!(
        counts,
        ViewCounts {
            unassigned: 2,
            mine: 1,
            open: 5
        }
    );

    store
        .claim(queued[0], w.carl, Utc::now())
        .await
        .expect("claim");
    check(store, &users, "claim").await;

    store
        .assign(queued[1], w.carl, None, w.owner, Utc::now())
        .await
        .expect("assign");
    check(store, &users, "manual assignment").await;

    let (moved, from) = held[0];
    store
        .assign(moved, w.carl, Some(from), w.owner, Utc::now())
        .await
        .expect("reassign");
    check(store, &users, "reassignment").await;

    let (closed, holder) = held[1];
    store
        .close(closed, holder, Utc::now())
        .await
        .expect("close");
    check(store, &users, "close").await;

    store
        .reopen(closed, w.owner, "reopened", Utc::now())
        .await
        .expect("reopen");
    check(store, &users, "reopen").await;

    store
        .hand_back(Handback {
            conversation_id: queued[0],
            reason: HandbackReason::Staff,
            actor: Some(w.carl),
            expected: Some(Assignee::User(w.carl)),
            text: HANDBACK_MESSAGE.into(),
            now: Utc::now(),
        })
        .await
        .expect("handback");
    check(store, &users, "handback").await;

    store
        .set_availability(w.routed[0], Availability::Away, Utc::now())
        .await
        .expect("away");
    store
        .set_availability(w.routed[1], Availability::Away, Utc::now())
        .await
        .expect("away");
    hand_off(store, &w, ids[4]).await;
    check(store, &users, "queued while everyone is away").await;
    store
        .set_availability(w.routed[0], Availability::Available, Utc::now())
        .await
        .expect("back");
    check(store, &users, "the queue drained").await;
}

async fn counts_stay_exact_under_concurrent_changes(db: Db) {
    let store = db.store.clone();
    let w = Arc::new(world(&store).await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (store, w) = (store.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            let id = conversation(&store).await;
            if i % 4 == 0 {
                return;
            }
            let taken = hand_off(&store, &w, id).await;
            match (taken, i % 3) {
                (Some(user), 0) => {
                    store.close(id, user, Utc::now()).await.expect("close");
                }
                (None, 1) => {
                    // Carl may be full by now: a refusal changes nothing.
                    let _ = store.claim(id, w.carl, Utc::now()).await;
                }
                _ => {}
            }
        }));
    }
    for i in 0..8 {
        let (store, w) = (store.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            let availability = if i % 2 == 0 {
                Availability::Away
            } else {
                Availability::Available
            };
            store
                .set_availability(w.routed[i % 2], availability, Utc::now())
                .await
                .expect("availability");
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    check(
        &store,
        &[w.owner, w.routed[0], w.routed[1], w.carl],
        "concurrent",
    )
    .await;
}

/// Conversations stored before the counts existed are counted by the migration.
#[tokio::test]
async fn the_migration_counts_conversations_already_stored() {
    use sea_orm_migration::MigratorTrait;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/baton.db?mode=rwc", dir.path().display());
    {
        let db = sea_orm::Database::connect(&url).await.expect("sqlite");
        // Every migration before the counts' (later ones may follow it).
        let before = baton_store::Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261128_000016_inbox_counts")
            .expect("the counts' migration");
        baton_store::Migrator::up(&db, Some(u32::try_from(before).expect("steps")))
            .await
            .expect("earlier migrations");
        let rows = [
            ("open", "none", "NULL"),
            ("open", "none", "NULL"),
            ("open", "agent", "NULL"),
            ("open", "user", "7"),
            ("open", "user", "8"),
            ("closed", "user", "7"),
            ("closed", "none", "NULL"),
        ];
        for (status, kind, user) in rows {
            db.execute_unprepared(&format!(
                "INSERT INTO conversations (channel, status, assignee_kind, assignee_user_id, \
                 visitor_token_hash, queued, created_at, updated_at) \
                 VALUES ('chat', '{status}', '{kind}', {user}, 'h', FALSE, 0, 0)"
            ))
            .await
            .expect("insert");
        }
        let _ = db.close().await;
    }
    let store = SeaStore::connect(&url, None).await.expect("migrated");
    assert_eq!(
        store.view_counts(UserId(7)).await.expect("counts"),
        ViewCounts {
            unassigned: 2,
            mine: 1,
            open: 5
        }
    );
    check(&store, &[UserId(7), UserId(8), UserId(9)], "migrated").await;
}
