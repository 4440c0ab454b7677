//! Handback, reopen, the visitor's choice and queue positions against real databases: a
//! fresh SQLite file per case, and a fresh PostgreSQL schema per case when
//! `BATON_TEST_POSTGRES_URL` is set.

mod common;

use std::sync::Arc;

use baton_core::decision::AgentAnswer;
use baton_core::decision::{self, Decision, HandoffProcess, Trigger};
use baton_core::ids::{ConversationId, InboxId, UserId};
use baton_core::people::{Availability, Permission, Seat};
use baton_core::settings::{Destination, HandoffSettings, Process};
use baton_engine::model::Message;
use baton_engine::model::{
    Assignee, Author, ConversationStatus, Handback, HandbackReason, HandoffPlan, InboxKind,
    NewUser, Turn, TurnAction, TurnOutcome, Visitor,
};
use baton_engine::{
    Answerer, Engine, EngineConfig, HANDBACK_MESSAGE, NoTelemetry, Store, StoreError,
};
use baton_store::SeaStore;
use chrono::Utc;
use common::Db;

on_both!(
    "handback";
    handback_frees_capacity_and_the_queue_takes_it,
    handback_takes_a_queued_conversation_out_of_the_queue,
    handback_refuses_closed_and_moved_conversations,
    reopen_gives_a_closed_conversation_to_the_agent,
    the_visitors_choice_hands_off_without_a_message,
    queue_positions_follow_the_drain_order_under_concurrent_arrivals,
    anyone_eligible_follows_the_routing_rule,
    the_agent_answers_with_the_whole_transcript_after_a_handback,
    a_handback_ends_the_workflow_run_of_the_handoff,
);

const AVAILABLE: &str = "available now";
const UNAVAILABLE: &str = "we will get back to you";

struct World {
    owner: UserId,
    users: Vec<UserId>,
    settings: HandoffSettings,
}

async fn world(store: &SeaStore, process: Process, capacities: &[u32]) -> World {
    let owner = store
        .bootstrap_owner("owner-token-hash")
        .await
        .expect("bootstrap")
        .expect("first start");
    let inbox = store
        .create_inbox("Support", InboxKind::Inbox)
        .await
        .expect("inbox");
    let mut users = Vec::new();
    for (i, capacity) in capacities.iter().enumerate() {
        let user = store
            .create_user(NewUser {
                name: format!("user {i}"),
                email: format!("u{i}@example.com"),
                seat: Seat::Service,
                permissions: vec![Permission::CustomerAgentEditor],
                capacity: *capacity,
            })
            .await
            .expect("user");
        users.push(user.id);
    }
    let mut settings = HandoffSettings {
        process,
        destination: Some(Destination::UsersAndTeams {
            inbox_id: InboxId(inbox.id.0),
            user_ids: users.clone(),
            team_ids: Vec::new(),
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
        owner: owner.id,
        users,
        settings: stored.settings,
    }
}

fn plan(world: &World, trigger: Trigger) -> HandoffPlan {
    let process = match world.settings.process {
        Process::Async => HandoffProcess::Async,
        _ => HandoffProcess::Live,
    };
    HandoffPlan {
        trigger,
        process,
        settings_version: 2,
        settings: Arc::new(world.settings.clone()),
        explanation: "test".into(),
        summary: "summary".into(),
    }
}

async fn conversation(store: &SeaStore) -> ConversationId {
    store
        .create_conversation("chat", Visitor::default(), "visitor-hash", Utc::now())
        .await
        .expect("conversation")
        .id
}

/// Hands off a new conversation on a visitor message; returns it and its assignee.
async fn hand_off(store: &SeaStore, world: &World) -> (ConversationId, Option<UserId>) {
    let id = conversation(store).await;
    let trigger = Trigger::Custom {
        matched: "refund".into(),
        span: 0..6,
    };
    let outcome = store
        .commit_turn(Turn {
            conversation_id: id,
            text: "refund please".into(),
            client_message_id: None,
            action: TurnAction::Handoff(Box::new(plan(world, trigger))),
            now: Utc::now(),
        })
        .await
        .expect("turn");
    let TurnOutcome::Stored { handoff, .. } = outcome else {
        panic!("not stored: {outcome:?}");
    };
    let assignee = handoff.expect("handoff").assignment.map(|a| a.user_id);
    (id, assignee)
}

fn staff_handback(id: ConversationId, actor: UserId, expected: Option<Assignee>) -> Handback {
    Handback {
        conversation_id: id,
        reason: HandbackReason::Staff,
        actor: Some(actor),
        expected,
        text: HANDBACK_MESSAGE.into(),
        now: Utc::now(),
    }
}

async fn position(store: &SeaStore, id: ConversationId) -> Option<u64> {
    store.queue_position(id).await.expect("position")
}

async fn handback_frees_capacity_and_the_queue_takes_it(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[1]).await;
    let ann = w.users[0];
    let (held, assignee) = hand_off(store, &w).await;
    assert_eq!(assignee, Some(ann));
    let (waiting, assignee) = hand_off(store, &w).await;
    assert_eq!(assignee, None);
    assert_eq!(position(store, waiting).await, Some(1));
    assert_eq!(position(store, held).await, None);
    // The handoff messages went out (a conversation's rows leave in order).
    let sent: Vec<i64> = store
        .claim_outbox(100, Utc::now(), Utc::now() + chrono::Duration::seconds(60))
        .await
        .expect("outbox")
        .iter()
        .map(|o| o.id)
        .collect();
    store
        .mark_delivered(&sent, Utc::now())
        .await
        .expect("delivered");

    let done = store
        .hand_back(staff_handback(held, ann, Some(Assignee::User(ann))))
        .await
        .expect("handback");
    assert_eq!(done.conversation.assignee, Assignee::Agent);
    assert!(!done.conversation.queued);
    assert_eq!(done.from_user, Some(ann));
    let message = done.message.expect("the visitor is told");
    assert_eq!(
        (message.author, message.text.as_str()),
        (Author::System, HANDBACK_MESSAGE)
    );
    // The freed unit went to the waiting conversation, in the same transaction.
    assert_eq!(done.assignments.len(), 1);
    assert_eq!(done.assignments[0].conversation_id, waiting);
    assert_eq!(done.assignments[0].user_id, ann);
    assert_eq!(
        store.conversation(waiting).await.expect("get").assignee,
        Assignee::User(ann)
    );
    assert_eq!(position(store, waiting).await, None);
    assert_eq!(
        store.user(ann).await.expect("user").open_conversations,
        1,
        "one released, one taken"
    );
    // The notice goes out through the outbox, and the audit row names who and why.
    let pending = store
        .claim_outbox(100, Utc::now(), Utc::now() + chrono::Duration::seconds(60))
        .await
        .expect("outbox");
    assert!(
        pending
            .iter()
            .any(|o| o.message.id == message.id && o.message.conversation_id == held),
        "{pending:?}"
    );
    let audit = store
        .audit(10, None, Some("handed_back"))
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].actor_user_id, Some(ann));
    assert_eq!(audit[0].conversation_id, Some(held));
    assert_eq!(audit[0].detail["reason"], "staff");
    assert_eq!(audit[0].detail["from_user_id"], ann.0);

    // The agent holds it: a visitor turn is answered again.
    let outcome = store
        .commit_turn(Turn {
            conversation_id: held,
            text: "and shipping?".into(),
            client_message_id: None,
            action: TurnAction::Reply("Two days.".into()),
            now: Utc::now(),
        })
        .await
        .expect("turn");
    let TurnOutcome::Stored { replies, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].author, Author::Agent);

    // Handing back again changes nothing and tells nobody.
    let again = store
        .hand_back(staff_handback(held, w.owner, None))
        .await
        .expect("again");
    assert_eq!(again.message, None);
    assert_eq!(
        store
            .audit(10, None, Some("handed_back"))
            .await
            .expect("audit")
            .len(),
        1
    );
}

async fn handback_takes_a_queued_conversation_out_of_the_queue(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[2]).await;
    store
        .set_availability(w.users[0], Availability::Away, Utc::now())
        .await
        .expect("away");
    let mut queued = Vec::new();
    for _ in 0..3 {
        let (id, assignee) = hand_off(store, &w).await;
        assert_eq!(assignee, None);
        queued.push(id);
    }
    for (i, id) in queued.iter().enumerate() {
        assert_eq!(position(store, *id).await, Some(i as u64 + 1));
    }
    let done = store
        .hand_back(Handback {
            conversation_id: queued[1],
            reason: HandbackReason::Visitor,
            actor: None,
            expected: None,
            text: HANDBACK_MESSAGE.into(),
            now: Utc::now(),
        })
        .await
        .expect("handback");
    assert_eq!(done.conversation.assignee, Assignee::Agent);
    assert!(!done.conversation.queued);
    assert_eq!(done.from_user, None);
    assert!(done.assignments.is_empty(), "nothing freed");
    assert_eq!(position(store, queued[0]).await, Some(1));
    assert_eq!(position(store, queued[1]).await, None);
    assert_eq!(position(store, queued[2]).await, Some(2));
    assert_eq!(store.queue_length().await.expect("length"), 2);
    let audit = store
        .audit(1, None, Some("handed_back"))
        .await
        .expect("audit");
    assert_eq!(audit[0].actor_user_id, None);
    assert_eq!(audit[0].detail["reason"], "visitor");
    assert_eq!(audit[0].detail["was_queued"], true);
}

async fn handback_refuses_closed_and_moved_conversations(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[3, 3]).await;
    let (id, assignee) = hand_off(store, &w).await;
    let holder = assignee.expect("assigned");
    let other = *w.users.iter().find(|u| **u != holder).expect("other");
    // The caller checked its permission against someone who no longer holds it.
    let moved = store
        .hand_back(staff_handback(id, other, Some(Assignee::User(other))))
        .await;
    assert!(matches!(moved, Err(StoreError::Conflict(_))), "{moved:?}");
    assert_eq!(
        store.conversation(id).await.expect("get").assignee,
        Assignee::User(holder)
    );
    store.close(id, holder, Utc::now()).await.expect("close");
    let closed = store.hand_back(staff_handback(id, holder, None)).await;
    assert!(matches!(closed, Err(StoreError::Conflict(_))), "{closed:?}");
    assert_eq!(
        store.user(holder).await.expect("user").open_conversations,
        0
    );
}

async fn reopen_gives_a_closed_conversation_to_the_agent(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[3]).await;
    let (id, assignee) = hand_off(store, &w).await;
    let ann = assignee.expect("assigned");
    let open = store.reopen(id, w.owner, "reopened", Utc::now()).await;
    assert!(matches!(open, Err(StoreError::Conflict(_))), "{open:?}");
    store.close(id, ann, Utc::now()).await.expect("close");
    let reopened = store
        .reopen(id, w.owner, "reopened", Utc::now())
        .await
        .expect("reopen");
    assert_eq!(reopened.status, ConversationStatus::Open);
    assert_eq!(reopened.assignee, Assignee::Agent);
    assert!(!reopened.queued);
    assert_eq!(store.user(ann).await.expect("user").open_conversations, 0);
    let audit = store.audit(1, None, Some("reopened")).await.expect("audit");
    assert_eq!(audit[0].actor_user_id, Some(w.owner));
    assert_eq!(audit[0].conversation_id, Some(id));
    // Handed off again, it routes afresh.
    let outcome = store
        .commit_turn(Turn {
            conversation_id: id,
            text: "a human please".into(),
            client_message_id: None,
            action: TurnAction::Handoff(Box::new(plan(&w, Trigger::AgentPaused))),
            now: Utc::now(),
        })
        .await
        .expect("turn");
    let TurnOutcome::Stored { handoff, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        handoff.expect("handoff").assignment.map(|a| a.user_id),
        Some(ann)
    );
}

async fn the_visitors_choice_hands_off_without_a_message(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[1]).await;
    let Some(Decision::Handoff { trigger, .. }) = decision::visitor_choice(&w.settings) else {
        panic!("live settings hand off");
    };
    let first = conversation(store).await;
    let done = store
        .hand_off(first, plan(&w, trigger.clone()), Utc::now())
        .await
        .expect("choice")
        .expect("handed off");
    assert_eq!(done.message.text, AVAILABLE);
    assert_eq!(done.outcome.trigger_kind, "visitor_choice");
    assert_eq!(done.outcome.assignment.map(|a| a.user_id), Some(w.users[0]));
    let c = store.conversation(first).await.expect("get");
    let record = c.handoff.expect("recorded");
    assert_eq!(record.trigger_kind, "visitor_choice");
    assert_eq!(record.matched, None);
    // Only the handoff message: no visitor message was stored.
    let messages = store.messages(first, None).await.expect("messages");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].author, Author::System);
    // Humans hold it: choosing again does nothing.
    let again = store
        .hand_off(first, plan(&w, trigger.clone()), Utc::now())
        .await
        .expect("again");
    assert_eq!(again, None);
    // Nobody free: queued with the unavailable message.
    let second = conversation(store).await;
    let done = store
        .hand_off(second, plan(&w, trigger.clone()), Utc::now())
        .await
        .expect("choice")
        .expect("handed off");
    assert_eq!(done.message.text, UNAVAILABLE);
    assert_eq!(position(store, second).await, Some(1));
    let audit = store.audit(1, None, Some("handoff")).await.expect("audit");
    assert_eq!(audit[0].detail["reason"]["kind"], "visitor_choice");
    // Closed: refused.
    store
        .close(second, w.owner, Utc::now())
        .await
        .expect("close");
    let closed = store.hand_off(second, plan(&w, trigger), Utc::now()).await;
    assert!(matches!(closed, Err(StoreError::Conflict(_))), "{closed:?}");
}

async fn queue_positions_follow_the_drain_order_under_concurrent_arrivals(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[1]).await;
    store
        .set_availability(w.users[0], Availability::Away, Utc::now())
        .await
        .expect("away");
    let world = Arc::new(w);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let world = world.clone();
            tokio::spawn(async move { hand_off(&store, &world).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let (id, assignee) = task.await.expect("task");
        assert_eq!(assignee, None);
        ids.push(id);
    }
    let mut positions = Vec::new();
    for id in &ids {
        positions.push((position(store, *id).await.expect("queued"), *id));
    }
    positions.sort();
    let numbers: Vec<u64> = positions.iter().map(|(p, _)| *p).collect();
    assert_eq!(numbers, (1..=20).collect::<Vec<u64>>());
    // Position 1 is the one the queue serves first.
    let back = store
        .set_availability(world.users[0], Availability::Available, Utc::now())
        .await
        .expect("back");
    assert_eq!(back.assignments.len(), 1);
    assert_eq!(back.assignments[0].conversation_id, positions[0].1);
    for (expected, (_, id)) in positions.iter().enumerate().skip(1) {
        assert_eq!(position(store, *id).await, Some(expected as u64));
    }
}

async fn anyone_eligible_follows_the_routing_rule(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[1]).await;
    let ann = w.users[0];
    let eligible = |process| async move {
        store
            .anyone_eligible(&[ann], &[], process, Utc::now())
            .await
            .expect("eligible")
    };
    assert!(eligible(HandoffProcess::Live).await);
    let (_, assignee) = hand_off(store, &w).await;
    assert_eq!(assignee, Some(ann));
    // At capacity: nobody, under either rule.
    assert!(!eligible(HandoffProcess::Live).await);
    assert!(!eligible(HandoffProcess::Async).await);
    store.set_capacity(ann, 2, Utc::now()).await.expect("cap");
    store
        .set_availability(ann, Availability::Away, Utc::now())
        .await
        .expect("away");
    // Away: not for live handoffs, still for async follow-ups.
    assert!(!eligible(HandoffProcess::Live).await);
    assert!(eligible(HandoffProcess::Async).await);
}

/// One question the agent was asked, with the transcript it was given.
type Call = (String, Vec<(Author, String)>);

/// An answerer that answers everything and remembers what it was given.
#[derive(Debug, Default)]
struct Recorder {
    calls: std::sync::Mutex<Vec<Call>>,
}

#[async_trait::async_trait]
impl Answerer for Recorder {
    async fn answer(&self, question: &str, transcript: &[Message]) -> AgentAnswer {
        let seen = transcript
            .iter()
            .map(|m| (m.author, m.text.clone()))
            .collect();
        self.calls
            .lock()
            .expect("lock")
            .push((question.to_owned(), seen));
        AgentAnswer::Answered {
            text: "Orders ship in two days.".into(),
            source: "shipping.md".into(),
            score: 1.0,
        }
    }
}

async fn the_agent_answers_with_the_whole_transcript_after_a_handback(db: Db) {
    let store = &db.store;
    let w = world(store, Process::Live, &[1]).await;
    let ann = w.users[0];
    let recorder = Arc::new(Recorder::default());
    let engine = Engine::new(
        Arc::new(store.clone()),
        recorder.clone(),
        Arc::new(NoTelemetry),
        EngineConfig::default(),
    );
    let c = store
        .create_conversation("chat", Visitor::default(), "visitor-hash", Utc::now())
        .await
        .expect("conversation");
    let first = engine
        .ingest(&c, "I want to talk to a human", None)
        .await
        .expect("ingest");
    assert_eq!(first.replies[0].text, AVAILABLE, "{first:?}");
    engine
        .staff_reply(c.id, ann, "Hi, Ann here: your parcel left today.")
        .await
        .expect("reply");
    let back = engine
        .hand_back(c.id, ann, Some(Assignee::User(ann)))
        .await
        .expect("handback");
    assert_eq!(back.assignee, Assignee::Agent);
    let c = store.conversation(c.id).await.expect("get");
    let answer = engine
        .ingest(&c, "When will it arrive?", None)
        .await
        .expect("ingest");
    assert_eq!(answer.replies.len(), 1, "{answer:?}");
    assert_eq!(answer.replies[0].author, Author::Agent);
    let calls = recorder.calls.lock().expect("lock").clone();
    let (question, transcript) = calls.last().expect("the agent was asked");
    assert_eq!(question, "When will it arrive?");
    let expected = [
        (Author::Visitor, "I want to talk to a human"),
        (Author::System, AVAILABLE),
        (Author::User, "Hi, Ann here: your parcel left today."),
        (Author::System, HANDBACK_MESSAGE),
    ];
    let got: Vec<(Author, &str)> = transcript.iter().map(|(a, t)| (*a, t.as_str())).collect();
    assert_eq!(got, expected);
}

async fn a_handback_ends_the_workflow_run_of_the_handoff(db: Db) {
    use baton_workflows::{Action, Definition, Enrollment, ObjectType};
    let store = &db.store;
    let owner = store
        .bootstrap_owner("owner-token-hash")
        .await
        .expect("bootstrap")
        .expect("first start");
    store
        .create_inbox("Desk", InboxKind::HelpDesk)
        .await
        .expect("desk");
    let ann = store
        .create_user(NewUser {
            name: "Ann".into(),
            email: "ann@example.com".into(),
            seat: Seat::Service,
            permissions: Vec::new(),
            capacity: 3,
        })
        .await
        .expect("user")
        .id;
    let workflow = store
        .create_workflow(
            Definition {
                name: "later".into(),
                object: ObjectType::Ticket,
                enrollment: Enrollment::TicketCreatedByHandoff,
                actions: vec![
                    Action::Delay { seconds: 1 },
                    Action::RotateOwner {
                        user_ids: vec![ann],
                        team_id: None,
                    },
                ],
            },
            Utc::now(),
        )
        .await
        .expect("workflow");
    let settings = HandoffSettings {
        process: Process::Live,
        destination: Some(Destination::Workflow {
            workflow_id: workflow.id,
        }),
        ..HandoffSettings::default()
    };
    let settings = store
        .put_settings(owner.id, settings, None, Utc::now())
        .await
        .expect("settings")
        .settings;
    let w = World {
        owner: owner.id,
        users: vec![ann],
        settings,
    };
    let id = conversation(store).await;
    store
        .commit_turn(Turn {
            conversation_id: id,
            text: "a person please".into(),
            client_message_id: None,
            action: TurnAction::Handoff(Box::new(plan(&w, Trigger::AgentPaused))),
            now: Utc::now(),
        })
        .await
        .expect("turn");
    assert_eq!(
        store.conversation(id).await.expect("get").assignee,
        Assignee::None,
        "the run waits on its delay"
    );
    let done = store
        .hand_back(staff_handback(id, w.owner, Some(Assignee::None)))
        .await
        .expect("handback");
    assert_eq!(done.conversation.assignee, Assignee::Agent);
    let audit = store
        .audit(1, None, Some("handed_back"))
        .await
        .expect("audit");
    assert_eq!(audit[0].detail["workflow_runs_ended"], 1);
    // The delay is over: the ended run gives the conversation to nobody.
    let later = Utc::now() + chrono::Duration::seconds(5);
    let moved = store.advance_workflows(later).await.expect("advance");
    assert!(moved.is_empty(), "{moved:?}");
    assert_eq!(
        store.conversation(id).await.expect("get").assignee,
        Assignee::Agent
    );
    assert_eq!(store.user(ann).await.expect("user").open_conversations, 0);
}
