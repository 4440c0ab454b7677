//! The store's handoff transaction against real databases: a fresh SQLite file per case,
//! and a fresh PostgreSQL schema per case when `BATON_TEST_POSTGRES_URL` is set.

mod common;

use baton_core::decision::{HandoffProcess, Trigger};
use baton_core::ids::{ConversationId, InboxId, UserId};
use baton_core::people::{Availability, Permission, Seat};
use baton_core::settings::{Destination, HandoffSettings, Process, Strategy};
use baton_engine::model::{
    Assignee, ConversationStatus, HandoffPlan, InboxKind, NewUser, Turn, TurnAction, TurnOutcome,
    View, Visitor,
};
use baton_engine::{Store, StoreError};
use baton_store::SeaStore;
use chrono::Utc;
use common::Db;

on_both!(
    "store";
    live_assigns_when_someone_is_free_and_queues_otherwise,
    async_assigns_regardless_of_availability_but_not_capacity,
    round_robin_is_fair_and_skips_the_unseated,
    queue_drains_oldest_first_when_capacity_frees,
    a_repeated_client_message_id_is_a_no_op,
    a_human_held_conversation_keeps_the_agent_silent,
    invalid_settings_are_refused_and_nothing_is_stored,
    concurrent_handoffs_closes_and_availability_changes_keep_every_invariant,
    balanced_routing_prefers_the_least_loaded_then_the_longest_idle,
    manual_assignment_never_overrides_an_owner_silently,
    going_away_requeues_live_conversations_nobody_answered,
    unanswered_live_conversations_move_after_the_timeout,
    working_hours_make_a_user_away_outside_them,
    help_desk_handoffs_make_tickets_that_follow_the_conversation,
    routing_walks_past_pages_of_users_out_of_hours,
    a_thread_keeps_one_open_conversation,
    the_outbox_keeps_each_conversation_in_order_through_retries,
);

const AVAILABLE: &str = "available now";
const UNAVAILABLE: &str = "we will get back to you";

struct World {
    users: Vec<UserId>,
    settings: HandoffSettings,
}

async fn world(store: &SeaStore, process: Process, users: &[(Seat, u32)]) -> World {
    let owner = store
        .bootstrap_owner("owner-token-hash")
        .await
        .expect("bootstrap")
        .expect("first start");
    let inbox = store
        .create_inbox("Support", InboxKind::HelpDesk)
        .await
        .expect("inbox");
    let mut ids = Vec::new();
    for (i, (seat, capacity)) in users.iter().enumerate() {
        let user = store
            .create_user(NewUser {
                name: format!("user {i}"),
                email: format!("u{i}@example.com"),
                seat: *seat,
                permissions: vec![Permission::CustomerAgentEditor],
                capacity: *capacity,
            })
            .await
            .expect("user");
        ids.push(user.id);
    }
    let paid: Vec<UserId> = users
        .iter()
        .zip(&ids)
        .filter(|((seat, _), _)| seat.is_paid())
        .map(|(_, id)| *id)
        .collect();
    // Unseated users reach the route only through a team (settings refuse them by name).
    let team = store.create_team("all", &ids).await.expect("team");
    let mut settings = HandoffSettings {
        process,
        destination: Some(Destination::UsersAndTeams {
            inbox_id: InboxId(inbox.id.0),
            user_ids: paid,
            team_ids: vec![team.id],
            strategy: Default::default(),
        }),
        ..HandoffSettings::default()
    };
    settings.messages.available = AVAILABLE.into();
    settings.messages.unavailable = UNAVAILABLE.into();
    let stored = store
        .put_settings(owner.id, settings, None, Utc::now())
        .await
        .expect("settings");
    World {
        users: ids,
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

fn plan(world: &World) -> TurnAction {
    let process = match world.settings.process {
        Process::Async => HandoffProcess::Async,
        _ => HandoffProcess::Live,
    };
    TurnAction::Handoff(Box::new(HandoffPlan {
        trigger: Trigger::Custom {
            matched: "refund".into(),
            span: 0..6,
        },
        process,
        settings_version: 2,
        settings: std::sync::Arc::new(world.settings.clone()),
        explanation: "test".into(),
        summary: "summary".into(),
    }))
}

/// Hands off a new conversation; returns it, the assignee and the visitor's message.
async fn hand_off(store: &SeaStore, world: &World) -> (ConversationId, Option<UserId>, String) {
    let id = conversation(store).await;
    let outcome = store
        .commit_turn(Turn {
            conversation_id: id,
            text: "refund please".into(),
            client_message_id: None,
            action: plan(world),
            now: Utc::now(),
        })
        .await
        .expect("turn");
    let TurnOutcome::Stored {
        replies, handoff, ..
    } = outcome
    else {
        panic!("not stored: {outcome:?}");
    };
    let assignee = handoff.expect("handoff").assignment.map(|a| a.user_id);
    (id, assignee, replies[0].text.clone())
}

async fn live_assigns_when_someone_is_free_and_queues_otherwise(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[(Seat::Service, 1)]).await;
    let (_, assignee, message) = hand_off(store, &w).await;
    assert_eq!((assignee, message.as_str()), (Some(w.users[0]), AVAILABLE));
    // at capacity: queued with the unavailable message
    let (queued, assignee, message) = hand_off(store, &w).await;
    assert_eq!((assignee, message.as_str()), (None, UNAVAILABLE));
    let c = store.conversation(queued).await.expect("get");
    assert!(c.queued && c.assignee == Assignee::None, "{c:?}");
    assert_eq!(store.queue_length().await.expect("len"), 1);
    // away: the raised capacity cannot take the queue, and new handoffs queue too
    store
        .set_availability(w.users[0], Availability::Away, Utc::now())
        .await
        .expect("away");
    let raised = store
        .set_capacity(w.users[0], 5, Utc::now())
        .await
        .expect("capacity");
    assert!(raised.assignments.is_empty());
    let (_, assignee, message) = hand_off(store, &w).await;
    assert_eq!((assignee, message.as_str()), (None, UNAVAILABLE));
    // back: the three waiting conversations are assigned — the first one too, which went
    // back to the queue when its assignee left without answering
    let back = store
        .set_availability(w.users[0], Availability::Available, Utc::now())
        .await
        .expect("back");
    assert_eq!(back.assignments.len(), 3);
    assert_eq!(back.value.open_conversations, 3);
}

async fn async_assigns_regardless_of_availability_but_not_capacity(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Async, &[(Seat::Sales, 1)]).await;
    store
        .set_availability(w.users[0], Availability::Away, Utc::now())
        .await
        .expect("away");
    let (_, assignee, message) = hand_off(store, &w).await;
    assert_eq!(
        (assignee, message.as_str()),
        (Some(w.users[0]), UNAVAILABLE)
    );
    let (_, assignee, _) = hand_off(store, &w).await;
    assert_eq!(assignee, None, "capacity 1 is used");
    store
        .set_availability(w.users[0], Availability::Available, Utc::now())
        .await
        .expect("back");
    let raised = store
        .set_capacity(w.users[0], 3, Utc::now())
        .await
        .expect("cap");
    assert_eq!(raised.assignments.len(), 1, "the queued one is taken");
    let (_, assignee, message) = hand_off(store, &w).await;
    assert_eq!((assignee, message.as_str()), (Some(w.users[0]), AVAILABLE));
}

async fn round_robin_is_fair_and_skips_the_unseated(db: Db) {
    let store = &db.store;
    let w = world(
        store,
        Process::Live,
        &[
            (Seat::Service, 5),
            (Seat::None, 5),
            (Seat::Sales, 5),
            (Seat::Service, 5),
        ],
    )
    .await;
    let mut order = Vec::new();
    for _ in 0..6 {
        order.push(hand_off(store, &w).await.1.expect("assigned"));
    }
    let u = &w.users;
    assert_eq!(order, vec![u[0], u[2], u[3], u[0], u[2], u[3]]);
    // The rule names whom the walk passed over on the way to the chosen user: the
    // unseated user stands between u[0] and u[2].
    let rules: Vec<String> = store
        .audit(20, None, None)
        .await
        .expect("audit")
        .iter()
        .filter_map(|a| a.detail["rule"].as_str().map(str::to_owned))
        .collect();
    let unseated = format!("passed over user {} (no_paid_seat)", u[1]);
    assert!(
        rules.iter().any(|r| r.contains(&unseated)),
        "{unseated} in {rules:#?}"
    );
}

async fn queue_drains_oldest_first_when_capacity_frees(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[(Seat::Service, 1)]).await;
    let (first, _, _) = hand_off(store, &w).await;
    let (oldest, _, _) = hand_off(store, &w).await;
    let (newest, _, _) = hand_off(store, &w).await;
    let drained = store
        .close(first, w.users[0], Utc::now())
        .await
        .expect("close");
    assert_eq!(drained.assignments.len(), 1);
    assert_eq!(drained.assignments[0].conversation_id, oldest);
    assert_eq!(drained.assignments[0].user_id, w.users[0]);
    assert!(store.conversation(newest).await.expect("get").queued);
    let user = store.user(w.users[0]).await.expect("user");
    assert_eq!(user.open_conversations, 1);
}

async fn a_repeated_client_message_id_is_a_no_op(db: Db) {
    let store = &db.store;
    store.bootstrap_owner("h").await.expect("bootstrap");
    let id = conversation(store).await;
    let turn = || Turn {
        conversation_id: id,
        text: "hello".into(),
        client_message_id: Some("k1".into()),
        action: TurnAction::Reply("hi there".into()),
        now: Utc::now(),
    };
    assert!(matches!(
        store.commit_turn(turn()).await,
        Ok(TurnOutcome::Stored { .. })
    ));
    match store.commit_turn(turn()).await.expect("repeat") {
        TurnOutcome::Duplicate { replies } => {
            assert_eq!(replies.len(), 1);
            assert_eq!(replies[0].text, "hi there");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.messages(id, None).await.expect("messages").len(), 2);
}

async fn a_human_held_conversation_keeps_the_agent_silent(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[(Seat::Service, 5)]).await;
    let id = conversation(store).await;
    store
        .claim(id, w.users[0], Utc::now())
        .await
        .expect("claim");
    let outcome = store
        .commit_turn(Turn {
            conversation_id: id,
            text: "are you there?".into(),
            client_message_id: None,
            action: TurnAction::Reply("the agent would say this".into()),
            now: Utc::now(),
        })
        .await
        .expect("turn");
    let TurnOutcome::Stored { replies, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(replies.is_empty());
    // a second claim by someone else is refused
    let other = store
        .create_user(NewUser {
            name: "other".into(),
            email: "o@example.com".into(),
            seat: Seat::Service,
            permissions: vec![],
            capacity: 5,
        })
        .await
        .expect("user");
    assert!(matches!(
        store.claim(id, other.id, Utc::now()).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn invalid_settings_are_refused_and_nothing_is_stored(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[(Seat::None, 5)]).await;
    let before = store.settings().await.expect("settings").version;
    let audit_before = store.audit(100, None, None).await.expect("audit").len();
    let mut bad = w.settings.clone();
    bad.destination = Some(Destination::UsersAndTeams {
        inbox_id: InboxId(1),
        user_ids: vec![w.users[0]],
        team_ids: vec![],
        strategy: Default::default(),
    });
    match store.put_settings(UserId(1), bad, None, Utc::now()).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field, "destination.user_ids[0]"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.settings().await.expect("settings").version, before);
    assert_eq!(
        store.audit(100, None, None).await.expect("audit").len(),
        audit_before
    );
}

async fn concurrent_handoffs_closes_and_availability_changes_keep_every_invariant(db: Db) {
    let store = db.store.clone();
    let w = world(
        &store,
        Process::Live,
        &[(Seat::Service, 3), (Seat::Service, 3), (Seat::Sales, 3)],
    )
    .await;
    let w = std::sync::Arc::new(w);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (store, w) = (store.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            let (id, assignee, _) = hand_off(&store, &w).await;
            // Some assignees close at once, freeing capacity for the queue.
            if let (Some(user), true) = (assignee, i % 7 == 0) {
                store.close(id, user, Utc::now()).await.expect("close");
            }
        }));
    }
    for i in 0..12 {
        let (store, w) = (store.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            let user = w.users[i % 3];
            let availability = if i % 2 == 0 {
                Availability::Away
            } else {
                Availability::Available
            };
            store
                .set_availability(user, availability, Utc::now())
                .await
                .expect("availability");
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    for user in &w.users {
        store
            .set_availability(*user, Availability::Available, Utc::now())
            .await
            .expect("back");
    }
    let conversations = store
        .conversations(View::All, None, 1000)
        .await
        .expect("list");
    assert_eq!(conversations.len(), 50);
    let mut held = std::collections::HashMap::new();
    for c in &conversations {
        match (c.status, c.assignee) {
            (ConversationStatus::Open, Assignee::User(u)) => {
                assert!(!c.queued, "{c:?}");
                *held.entry(u).or_insert(0u32) += 1;
            }
            (ConversationStatus::Open, Assignee::None) => assert!(c.queued, "{c:?}"),
            (ConversationStatus::Closed, _) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    for user in &w.users {
        let u = store.user(*user).await.expect("user");
        let count = held.get(user).copied().unwrap_or(0);
        assert_eq!(u.open_conversations, count, "counter in step for {user}");
        assert_eq!(count, 3, "capacity used to the full while the queue waits");
    }
}

async fn balanced_routing_prefers_the_least_loaded_then_the_longest_idle(db: Db) {
    let store = &db.store;
    let mut w = world(
        store,
        Process::Live,
        &[(Seat::Service, 5), (Seat::Service, 5), (Seat::Service, 5)],
    )
    .await;
    if let Some(Destination::UsersAndTeams { strategy, .. }) = &mut w.settings.destination {
        *strategy = Strategy::Balanced;
    }
    w.settings = store
        .put_settings(UserId(1), w.settings.clone(), None, Utc::now())
        .await
        .expect("settings")
        .settings;
    let u = w.users.clone();
    let mut first = Vec::new();
    for _ in 0..3 {
        first.push(hand_off(store, &w).await);
    }
    // nobody assigned yet: ties on load and on idleness, so by id
    let assignees: Vec<_> = first.iter().map(|(_, a, _)| a.expect("assigned")).collect();
    assert_eq!(assignees, vec![u[0], u[1], u[2]]);
    // u1 closes theirs: the least loaded takes the next one
    store
        .close(first[1].0, u[1], Utc::now())
        .await
        .expect("close");
    assert_eq!(hand_off(store, &w).await.1, Some(u[1]));
    // all hold one again: the longest idle (u0, assigned first) goes next, then u2
    assert_eq!(hand_off(store, &w).await.1, Some(u[0]));
    assert_eq!(hand_off(store, &w).await.1, Some(u[2]));
    let rule = store.audit(1, None, None).await.expect("audit")[0].detail["rule"].to_string();
    assert!(rule.contains("balanced"), "{rule}");
}

async fn manual_assignment_never_overrides_an_owner_silently(db: Db) {
    let store = &db.store;
    let w = world(
        store,
        Process::Live,
        &[(Seat::Service, 1), (Seat::Service, 1), (Seat::None, 5)],
    )
    .await;
    let (u0, u1, unseated) = (w.users[0], w.users[1], w.users[2]);
    let (held, assignee, _) = hand_off(store, &w).await;
    assert_eq!(assignee, Some(u0));
    let (other, assignee, _) = hand_off(store, &w).await;
    assert_eq!(assignee, Some(u1));
    let now = Utc::now();
    // someone holds it: moving it needs the current owner named
    assert!(matches!(
        store.assign(held, u1, None, UserId(1), now).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.assign(held, u1, Some(u1), UserId(1), now).await,
        Err(StoreError::Conflict(_))
    ));
    // named, but the target is at capacity
    assert!(matches!(
        store.assign(held, u1, Some(u0), UserId(1), now).await,
        Err(StoreError::Conflict(_))
    ));
    // an unseated user never holds conversations
    match store.assign(held, unseated, Some(u0), UserId(1), now).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field, "user_id"),
        other => panic!("{other:?}"),
    }
    // u1 frees a seat and steps away; a new handoff waits (u0 is full, u1 away)
    store.close(other, u1, now).await.expect("close");
    store
        .set_availability(u1, Availability::Away, now)
        .await
        .expect("away");
    let (waiting, assignee, _) = hand_off(store, &w).await;
    assert_eq!(assignee, None);
    // moving u0's conversation to u1 (a manual choice ignores availability) frees u0's
    // seat, which takes the queue at once
    let moved = store
        .assign(held, u1, Some(u0), UserId(1), Utc::now())
        .await
        .expect("move");
    assert_eq!(moved.value.assignee, Assignee::User(u1));
    assert_eq!(moved.assignments.len(), 1);
    assert_eq!(moved.assignments[0].conversation_id, waiting);
    assert_eq!(moved.assignments[0].user_id, u0);
    for user in [u0, u1] {
        assert_eq!(store.user(user).await.expect("user").open_conversations, 1);
    }
}

async fn going_away_requeues_live_conversations_nobody_answered(db: Db) {
    let store = &db.store;
    let w = world(
        store,
        Process::Live,
        &[(Seat::Service, 5), (Seat::Service, 5)],
    )
    .await;
    let (u0, u1) = (w.users[0], w.users[1]);
    store
        .set_availability(u1, Availability::Away, Utc::now())
        .await
        .expect("away");
    let (answered, _, _) = hand_off(store, &w).await;
    let (silent, _, _) = hand_off(store, &w).await;
    store
        .staff_reply(answered, u0, "Hello, I am on it", Utc::now())
        .await
        .expect("reply");
    // u0 goes away while u1 is away too: the unanswered one waits in the queue
    let away = store
        .set_availability(u0, Availability::Away, Utc::now())
        .await
        .expect("away");
    assert!(away.assignments.is_empty());
    let c = store.conversation(silent).await.expect("get");
    assert!(c.queued && c.assignee == Assignee::None, "{c:?}");
    assert_eq!(
        store.conversation(answered).await.expect("get").assignee,
        Assignee::User(u0),
        "answered conversations stay with their human"
    );
    assert_eq!(away.value.open_conversations, 1);
    // u1 comes back and takes it at once
    let back = store
        .set_availability(u1, Availability::Available, Utc::now())
        .await
        .expect("back");
    assert_eq!(back.assignments.len(), 1);
    assert_eq!(back.assignments[0].conversation_id, silent);
    assert!(
        store
            .audit(20, None, None)
            .await
            .expect("audit")
            .iter()
            .any(|e| e.kind == "requeued" && e.conversation_id == Some(silent))
    );
}

async fn unanswered_live_conversations_move_after_the_timeout(db: Db) {
    let store = &db.store;
    let w = world(
        store,
        Process::Live,
        &[(Seat::Service, 5), (Seat::Service, 5)],
    )
    .await;
    let (u0, u1) = (w.users[0], w.users[1]);
    let (silent, assignee, _) = hand_off(store, &w).await;
    assert_eq!(assignee, Some(u0));
    let (answered, assignee, _) = hand_off(store, &w).await;
    assert_eq!(assignee, Some(u1));
    store
        .staff_reply(answered, u1, "On it", Utc::now())
        .await
        .expect("reply");
    let timeout = std::time::Duration::from_secs(300);
    // before the timeout nothing moves
    let early = Utc::now() + chrono::Duration::seconds(299);
    assert!(
        store
            .reroute_unanswered(timeout, early)
            .await
            .expect("early")
            .is_empty()
    );
    // after it, the silent one goes to the other user; the answered one stays
    let late = Utc::now() + chrono::Duration::seconds(301);
    let moves = store.reroute_unanswered(timeout, late).await.expect("late");
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!((moves[0].conversation_id, moves[0].user_id), (silent, u1));
    assert_eq!(store.user(u0).await.expect("u0").open_conversations, 0);
    assert_eq!(store.user(u1).await.expect("u1").open_conversations, 2);
    assert_eq!(
        store.conversation(answered).await.expect("get").assignee,
        Assignee::User(u1)
    );
    // the clock restarts with the new assignee; with nobody else free it stays put
    store
        .set_availability(u0, Availability::Away, Utc::now())
        .await
        .expect("away");
    let later = late + chrono::Duration::seconds(301);
    assert!(
        store
            .reroute_unanswered(timeout, later)
            .await
            .expect("later")
            .is_empty()
    );
    assert_eq!(
        store.conversation(silent).await.expect("get").assignee,
        Assignee::User(u1)
    );
}

fn hours(days: &[&str], start: &str, end: &str) -> baton_core::hours::WorkingHours {
    baton_core::hours::WorkingHours::parse(
        "Europe/Rome",
        days.iter()
            .map(|d| (*d, vec![(start.to_owned(), end.to_owned())])),
    )
    .expect("hours")
}

async fn working_hours_make_a_user_away_outside_them(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[(Seat::Service, 5)]).await;
    let u0 = w.users[0];
    let never = hours(&[], "09:00", "17:00");
    let always = hours(
        &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "00:00",
        "24:00",
    );
    // outside hours: a live handoff waits, whatever the manual switch says
    store
        .set_working_hours(u0, Some(never.clone()), Utc::now())
        .await
        .expect("hours");
    let (waiting, assignee, message) = hand_off(store, &w).await;
    assert_eq!((assignee, message.as_str()), (None, UNAVAILABLE));
    // hours that cover now: the queue drains to the user at once
    let begun = store
        .set_working_hours(u0, Some(always), Utc::now())
        .await
        .expect("hours");
    assert_eq!(begun.assignments.len(), 1);
    assert_eq!(begun.assignments[0].conversation_id, waiting);
    // hours that end give back unanswered live conversations
    let ended = store
        .set_working_hours(u0, Some(never), Utc::now())
        .await
        .expect("hours");
    assert_eq!(ended.value.open_conversations, 0);
    assert!(store.conversation(waiting).await.expect("get").queued);
    // the periodic pass follows the clock: Monday 10:00 in Rome is within 9–17...
    let monday_ten = chrono::DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .expect("instant")
        .to_utc();
    let monday_six = monday_ten + chrono::Duration::hours(8);
    store
        .set_working_hours(u0, Some(hours(&["mon"], "09:00", "17:00")), monday_six)
        .await
        .expect("hours");
    assert!(store.conversation(waiting).await.expect("get").queued);
    let swept = store.sweep_hours(monday_ten).await.expect("sweep");
    assert_eq!(swept.len(), 1);
    // ...and Monday 18:00 is not: the unanswered conversation goes back
    store.sweep_hours(monday_six).await.expect("sweep");
    assert!(store.conversation(waiting).await.expect("get").queued);
    assert_eq!(store.user(u0).await.expect("user").open_conversations, 0);
}

async fn visitor_writes(store: &SeaStore, id: ConversationId, text: &str) {
    store
        .commit_turn(Turn {
            conversation_id: id,
            text: text.into(),
            client_message_id: None,
            action: TurnAction::Store,
            now: Utc::now(),
        })
        .await
        .expect("turn");
}

async fn help_desk_handoffs_make_tickets_that_follow_the_conversation(db: Db) {
    let store = &db.store;
    let mut w = world(store, Process::Live, &[(Seat::Service, 5)]).await;
    let u0 = w.users[0];
    let (id, assignee, _) = hand_off(store, &w).await;
    assert_eq!(assignee, Some(u0));
    let ticket_id = store
        .conversation(id)
        .await
        .expect("get")
        .ticket_id
        .expect("a help desk handoff makes a ticket");
    let status = |ticket: baton_engine::model::Ticket| ticket.status;
    let ticket = store.ticket(ticket_id).await.expect("ticket");
    assert_eq!(ticket.conversation_id, id);
    assert_eq!(ticket.owner_id, Some(u0), "the owner is the assignee");
    assert_eq!(ticket.source_channel, "chat");
    assert!(ticket.team_id.is_some(), "the destination team");
    assert_eq!(
        (ticket.status.as_str(), ticket.priority.as_str()),
        ("new", "medium")
    );
    visitor_writes(store, id, "hello?").await;
    assert_eq!(status(store.ticket(ticket_id).await.expect("t")), "new");
    store
        .staff_reply(id, u0, "Hi, looking into it", Utc::now())
        .await
        .expect("reply");
    assert_eq!(
        status(store.ticket(ticket_id).await.expect("t")),
        "waiting_on_contact"
    );
    visitor_writes(store, id, "thanks, any news?").await;
    assert_eq!(
        status(store.ticket(ticket_id).await.expect("t")),
        "waiting_on_us"
    );
    store.close(id, u0, Utc::now()).await.expect("close");
    assert_eq!(status(store.ticket(ticket_id).await.expect("t")), "closed");

    // a plain inbox makes no ticket
    let inbox = store
        .create_inbox("Sales", InboxKind::Inbox)
        .await
        .expect("inbox");
    if let Some(Destination::UsersAndTeams { inbox_id, .. }) = &mut w.settings.destination {
        *inbox_id = inbox.id;
    }
    let (plain, _, _) = hand_off(store, &w).await;
    assert_eq!(
        store.conversation(plain).await.expect("get").ticket_id,
        None
    );
    assert!(matches!(
        store.ticket(baton_core::ids::TicketId(999)).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// 36 users away by their working hours (the query's filter lets them through: only the
/// manual switch is in SQL) ahead of 4 who can answer: the walk reads three pages.
async fn routing_walks_past_pages_of_users_out_of_hours(db: Db) {
    let store = &db.store;
    let mut w = world(store, Process::Live, &[(Seat::Service, 5); 40]).await;
    let never = hours(&[], "09:00", "17:00");
    for user in &w.users[..36] {
        store
            .set_working_hours(*user, Some(never.clone()), Utc::now())
            .await
            .expect("hours");
    }
    let (_, first, _) = hand_off(store, &w).await;
    assert_eq!(first, Some(w.users[36]), "round robin");
    if let Some(Destination::UsersAndTeams { strategy, .. }) = &mut w.settings.destination {
        *strategy = Strategy::Balanced;
    }
    // balanced: users 37..39 have no conversation, 36 has one
    let (_, second, _) = hand_off(store, &w).await;
    assert_eq!(second, Some(w.users[37]), "balanced");
    let rule = store.audit(1, None, None).await.expect("audit")[0].detail["rule"].to_string();
    assert!(rule.contains("balanced"), "{rule}");
    assert!(
        rule.contains("(away)"),
        "the walk names whom it passed over: {rule}"
    );
}

async fn a_thread_keeps_one_open_conversation(db: Db) {
    let store = &db.store;
    let owner = store
        .bootstrap_owner("owner-token-hash")
        .await
        .expect("bootstrap")
        .expect("first start");
    let visitor = || Visitor {
        name: Some("Tele".into()),
        email: None,
    };
    let (a, b) = tokio::join!(
        store.thread_conversation("telegram", "4242", visitor(), None, Utc::now()),
        store.thread_conversation("telegram", "4242", visitor(), None, Utc::now()),
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_eq!(
        a.id, b.id,
        "concurrent first messages share one conversation"
    );
    assert_eq!(a.channel, "telegram");
    let other = store
        .thread_conversation("whatsapp", "4242", visitor(), None, Utc::now())
        .await
        .expect("other channel");
    assert_ne!(other.id, a.id, "threads are per channel");
    let turn = |id, key: &str| Turn {
        conversation_id: id,
        text: "hello".into(),
        client_message_id: Some(key.into()),
        action: TurnAction::Reply("hi".into()),
        now: Utc::now(),
    };
    store.commit_turn(turn(a.id, "4242:1")).await.expect("turn");
    store
        .close(a.id, owner.id, Utc::now())
        .await
        .expect("close");
    let next = store
        .thread_conversation("telegram", "4242", visitor(), Some("4242:2"), Utc::now())
        .await
        .expect("after close");
    assert_ne!(
        next.id, a.id,
        "a closed conversation gives way to a new one"
    );
    // The provider redelivers the message the closed conversation holds (its first
    // answer was lost): it goes back there and is answered as a repeat, stored once.
    let repeat = store
        .thread_conversation("telegram", "4242", visitor(), Some("4242:1"), Utc::now())
        .await
        .expect("repeat after close");
    assert_eq!(repeat.id, a.id);
    let outcome = store
        .commit_turn(turn(a.id, "4242:1"))
        .await
        .expect("a repeat on a closed conversation");
    assert_eq!(
        outcome,
        TurnOutcome::Duplicate {
            replies: vec![baton_engine::model::Reply {
                author: baton_engine::model::Author::Agent,
                text: "hi".into()
            }]
        }
    );
    assert!(matches!(
        store.commit_turn(turn(a.id, "4242:3")).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn the_outbox_keeps_each_conversation_in_order_through_retries(db: Db) {
    let store = &db.store;
    let now = Utc::now();
    let c = store
        .thread_conversation("telegram", "77", Visitor::default(), None, now)
        .await
        .expect("thread");
    let notify = |text: &'static str, answered: Option<&'static str>| async move {
        store
            .notify_visitor(c.id, text, answered, now)
            .await
            .expect("notify")
    };
    let first = notify("one", None).await.expect("stored");
    let second = notify("two", Some("wamid.1")).await.expect("stored");
    // A notice answering a message already answered is not stored again (a redelivered
    // webhook); one answering another message is.
    assert_eq!(notify("two", Some("wamid.1")).await, None);
    let texts = |items: Vec<baton_engine::model::OutboxItem>| -> Vec<String> {
        items.into_iter().map(|i| i.message.text).collect()
    };
    let pending = store
        .claim_outbox(10, now, now + chrono::Duration::seconds(60))
        .await
        .expect("pending");
    assert_eq!(pending[0].thread.as_deref(), Some("77"));
    assert_eq!(pending[0].message.id, first.id);
    assert_eq!(
        texts(pending.clone()),
        ["one"],
        "the second waits for the first"
    );
    let first_row = pending[0].id;
    store
        .mark_retry(
            first_row,
            now + chrono::Duration::seconds(60),
            "HTTP 429",
            now,
        )
        .await
        .expect("retry");
    assert!(
        store
            .claim_outbox(10, now, now + chrono::Duration::seconds(60))
            .await
            .expect("pending")
            .is_empty()
    );
    let later = now + chrono::Duration::seconds(61);
    let due = store
        .claim_outbox(10, later, later + chrono::Duration::seconds(60))
        .await
        .expect("pending");
    assert_eq!(
        (texts(due.clone()), due[0].attempts),
        (vec!["one".to_owned()], 1)
    );
    store
        .mark_failed(first_row, "HTTP 403", later)
        .await
        .expect("failed");
    // Staff learn of it: the audit log says which message did not reach the visitor.
    let event = &store.audit(1, None, None).await.expect("audit")[0];
    assert_eq!(event.kind, "delivery_failed");
    assert_eq!(event.conversation_id, Some(c.id));
    assert_eq!(event.detail["reason"], "HTTP 403");
    assert_eq!(event.detail["message_id"], first.id.0);
    assert_eq!(event.detail["attempts"], 2);
    let next = store
        .claim_outbox(10, later, later + chrono::Duration::seconds(60))
        .await
        .expect("pending");
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0].message.id, second.id);
    store
        .mark_delivered(&[next[0].id], later)
        .await
        .expect("delivered");
    assert!(
        store
            .claim_outbox(10, later, later + chrono::Duration::seconds(60))
            .await
            .expect("pending")
            .is_empty()
    );
}
