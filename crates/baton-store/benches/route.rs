//! One handoff through the store — the whole transaction: routing walk, conditional
//! update, conversation, ticket, message, outbox and audit rows — on a route of 100 vs
//! 10,000 users, on a SQLite file (issue 3: the cost must not grow with the route).
//! Balanced and round robin, a third of the users away and a fifth without capacity.

use baton_core::decision::{HandoffProcess, Trigger};
use baton_core::ids::{InboxId, UserId};
use baton_core::people::{Availability, Permission, Seat};
use baton_core::settings::{Destination, HandoffSettings, Process, Strategy};
use baton_engine::Store;
use baton_engine::model::{HandoffPlan, InboxKind, NewUser, Turn, TurnAction, Visitor};
use baton_store::SeaStore;
use chrono::Utc;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

struct Route {
    store: SeaStore,
    action: TurnAction,
    _dir: tempfile::TempDir,
}

async fn route(n: usize, strategy: Strategy) -> Route {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let store = SeaStore::connect(&url, None).await.expect("sqlite");
    let owner = store
        .bootstrap_owner("owner")
        .await
        .expect("bootstrap")
        .expect("first start");
    let inbox = store
        .create_inbox("Support", InboxKind::HelpDesk)
        .await
        .expect("inbox");
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let user = store
            .create_user(NewUser {
                name: format!("user {i}"),
                email: format!("u{i}@example.com"),
                seat: Seat::Service,
                permissions: vec![Permission::CustomerAgentEditor],
                // Never full from the benchmark's own handoffs, except the fifth at 0.
                capacity: if i % 5 == 4 { 0 } else { 1_000_000 },
            })
            .await
            .expect("user");
        if i % 3 == 2 {
            store
                .set_availability(user.id, Availability::Away, Utc::now())
                .await
                .expect("away");
        }
        ids.push(user.id);
    }
    let team = store.create_team("everyone", &ids).await.expect("team");
    let settings = HandoffSettings {
        process: Process::Live,
        destination: Some(Destination::UsersAndTeams {
            inbox_id: InboxId(inbox.id.0),
            user_ids: Vec::<UserId>::new(),
            team_ids: vec![team.id],
            strategy,
        }),
        ..HandoffSettings::default()
    };
    let stored = store
        .put_settings(owner.id, settings, None, Utc::now())
        .await
        .expect("settings");
    let action = TurnAction::Handoff(Box::new(HandoffPlan {
        trigger: Trigger::Custom {
            matched: "refund".into(),
            span: 0..6,
        },
        process: HandoffProcess::Live,
        settings_version: stored.version,
        settings: std::sync::Arc::new(stored.settings),
        explanation: "bench".into(),
        summary: "bench".into(),
    }));
    Route {
        store,
        action,
        _dir: dir,
    }
}

async fn hand_off(route: &Route) {
    let conversation = route
        .store
        .create_conversation("chat", Visitor::default(), "visitor", Utc::now())
        .await
        .expect("conversation");
    route
        .store
        .commit_turn(Turn {
            conversation_id: conversation.id,
            text: "refund please".into(),
            client_message_id: None,
            action: route.action.clone(),
            now: Utc::now(),
        })
        .await
        .expect("turn");
}

fn handoff(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for strategy in [Strategy::RoundRobin, Strategy::Balanced] {
        let mut group = c.benchmark_group(format!("handoff/{}", strategy.as_str()));
        group.sample_size(30);
        for n in [100, 10_000] {
            let route = runtime.block_on(route(n, strategy));
            // The route is interned by the first handoff; measure the steady state.
            runtime.block_on(hand_off(&route));
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| runtime.block_on(hand_off(&route)));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, handoff);
criterion_main!(benches);
