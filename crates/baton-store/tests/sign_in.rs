//! Sign-in, user changes, settings versions and the audit log's kind filter against real
//! databases: a fresh SQLite file per case, and a fresh PostgreSQL schema per case when
//! `BATON_TEST_POSTGRES_URL` is set (required with `BATON_REQUIRE_POSTGRES=1`).

mod common;

use std::time::Duration;

use baton_core::ids::{InboxId, UserId};
use baton_core::people::{Permission, Seat};
use baton_core::settings::{Destination, HandoffSettings, Process};
use baton_engine::model::{InboxKind, NewUser, User, UserChanges};
use baton_engine::{Store, StoreError};
use baton_store::SeaStore;
use chrono::{DateTime, Utc};
use common::Db;

on_both!(
    "sign_in";
    credentials_match_the_email_in_any_case,
    a_password_link_works_once_before_it_expires_and_until_a_newer_one,
    concurrent_redeems_of_one_link_have_exactly_one_winner,
    a_session_lives_until_idle_expiry_absolute_expiry_or_revocation,
    redeeming_a_link_revokes_every_session_of_the_user,
    changing_the_password_keeps_only_the_named_session,
    user_changes_are_refused_naming_the_field_and_store_nothing,
    user_changes_are_stored_and_audited,
    a_stale_settings_version_is_refused_and_stores_nothing,
    concurrent_saves_of_one_settings_version_have_exactly_one_winner,
    the_audit_log_pages_one_kind_newest_first,
);

const HOUR: Duration = Duration::from_secs(3600);

fn at(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    now + chrono::Duration::seconds(seconds)
}

async fn owner(store: &SeaStore) -> User {
    store
        .bootstrap_owner("owner-token-hash")
        .await
        .expect("bootstrap")
        .expect("first start")
}

async fn user(store: &SeaStore, name: &str, email: &str, seat: Seat) -> User {
    store
        .create_user(NewUser {
            name: name.into(),
            email: email.into(),
            seat,
            permissions: vec![Permission::CustomerAgentEditor],
            capacity: 5,
        })
        .await
        .expect("user")
}

async fn audit_count(store: &SeaStore) -> usize {
    store.audit(1000, None, None).await.expect("audit").len()
}

fn is_link_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound { .. }))
}

async fn credentials_match_the_email_in_any_case(db: Db) {
    let store = &db.store;
    owner(store).await;
    let ada = user(store, "Ada", "Ada.Lovelace@Example.com", Seat::Service).await;
    let found = store
        .user_credentials("ada.lovelace@EXAMPLE.COM")
        .await
        .expect("credentials")
        .expect("found in another case");
    assert_eq!(found.user.id, ada.id);
    assert_eq!(
        found.user.email, "Ada.Lovelace@Example.com",
        "stored as given"
    );
    assert_eq!(found.password_hash, None, "no password yet");
    assert!(
        store
            .user_credentials("nobody@example.com")
            .await
            .expect("credentials")
            .is_none()
    );
    let owner = store
        .user_credentials("OWNER@localhost")
        .await
        .expect("credentials")
        .expect("the bootstrap owner signs in by owner@localhost");
    assert!(owner.user.has(Permission::Admin));

    let now = Utc::now();
    store
        .create_password_link(ada.id, "link", now + HOUR, now)
        .await
        .expect("link");
    store
        .redeem_password_link("link", "$argon2id$ada", now)
        .await
        .expect("redeem");
    let found = store
        .user_credentials("ADA.LOVELACE@example.com")
        .await
        .expect("credentials")
        .expect("found");
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$ada"));
    assert!(
        !format!("{found:?}").contains("argon2id"),
        "Debug redacts the hash"
    );
}

async fn a_password_link_works_once_before_it_expires_and_until_a_newer_one(db: Db) {
    let store = &db.store;
    owner(store).await;
    let ada = user(store, "Ada", "ada@example.com", Seat::Service).await;
    let now = Utc::now();
    store
        .create_password_link(ada.id, "first", now + HOUR, now)
        .await
        .expect("link");
    let for_whom = store
        .password_link_user("first", now)
        .await
        .expect("lookup")
        .expect("a fresh link names its user");
    assert_eq!(for_whom.id, ada.id);
    let redeemed = store
        .redeem_password_link("first", "$argon2id$one", now)
        .await
        .expect("redeem");
    assert_eq!(redeemed.id, ada.id);
    // used up: neither lookup nor a second redeem works
    assert_eq!(
        store
            .password_link_user("first", now)
            .await
            .expect("lookup"),
        None
    );
    assert!(is_link_not_found(
        store
            .redeem_password_link("first", "$argon2id$two", now)
            .await
    ));
    let stored = store
        .user_credentials("ada@example.com")
        .await
        .expect("credentials")
        .expect("found");
    assert_eq!(stored.password_hash.as_deref(), Some("$argon2id$one"));

    // expired
    store
        .create_password_link(ada.id, "short", at(now, 60), now)
        .await
        .expect("link");
    assert!(
        store
            .password_link_user("short", at(now, 59))
            .await
            .expect("lookup")
            .is_some()
    );
    assert_eq!(
        store
            .password_link_user("short", at(now, 60))
            .await
            .expect("lookup"),
        None
    );
    assert!(is_link_not_found(
        store
            .redeem_password_link("short", "$argon2id$late", at(now, 61))
            .await
    ));

    // a newer link retires the older one
    store
        .create_password_link(ada.id, "older", now + HOUR, now)
        .await
        .expect("link");
    store
        .create_password_link(ada.id, "newer", now + HOUR, at(now, 1))
        .await
        .expect("link");
    assert_eq!(
        store
            .password_link_user("older", now)
            .await
            .expect("lookup"),
        None
    );
    assert!(is_link_not_found(
        store
            .redeem_password_link("older", "$argon2id$old", now)
            .await
    ));
    store
        .redeem_password_link("newer", "$argon2id$new", at(now, 2))
        .await
        .expect("the newer link works");

    // unknown links and users
    assert!(is_link_not_found(
        store
            .redeem_password_link("never-issued", "$argon2id$x", now)
            .await
    ));
    assert!(matches!(
        store
            .create_password_link(UserId(9999), "orphan", now + HOUR, now)
            .await,
        Err(StoreError::NotFound { what: "user", .. })
    ));
}

async fn concurrent_redeems_of_one_link_have_exactly_one_winner(db: Db) {
    let store = &db.store;
    owner(store).await;
    let ada = user(store, "Ada", "ada@example.com", Seat::Service).await;
    let now = Utc::now();
    for round in 0..5 {
        let link = format!("link-{round}");
        store
            .create_password_link(ada.id, &link, now + HOUR, now)
            .await
            .expect("link");
        let redeem = |password: &'static str| {
            let (store, link) = (store.clone(), link.clone());
            tokio::spawn(async move { store.redeem_password_link(&link, password, now).await })
        };
        let tasks = [
            redeem("$argon2id$a"),
            redeem("$argon2id$b"),
            redeem("$argon2id$c"),
        ];
        let mut winners = Vec::new();
        for (task, password) in tasks
            .into_iter()
            .zip(["$argon2id$a", "$argon2id$b", "$argon2id$c"])
        {
            match task.await.expect("task") {
                Ok(user) => {
                    assert_eq!(user.id, ada.id);
                    winners.push(password);
                }
                Err(StoreError::NotFound { .. }) => {}
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let stored = store
            .user_credentials("ada@example.com")
            .await
            .expect("credentials")
            .expect("found");
        assert_eq!(
            stored.password_hash.as_deref(),
            Some(winners[0]),
            "the winner's password is the one stored"
        );
    }
}

async fn a_session_lives_until_idle_expiry_absolute_expiry_or_revocation(db: Db) {
    let store = &db.store;
    owner(store).await;
    let ada = user(store, "Ada", "ada@example.com", Seat::Service).await;
    let now = Utc::now();
    let idle = Duration::from_secs(30 * 60);
    let live = |hash: &'static str, when: DateTime<Utc>| async move {
        store
            .session_user(hash, idle, when)
            .await
            .expect("session")
            .map(|u| u.id)
    };
    store
        .create_session(ada.id, "s1", now + 8 * HOUR, now)
        .await
        .expect("session");
    assert_eq!(live("s1", now).await, Some(ada.id));
    // a use within the minute is not recorded: the idle clock still runs from `now`
    assert_eq!(live("s1", at(now, 30)).await, Some(ada.id));
    assert_eq!(live("s1", at(now, 30 * 60 + 10)).await, None, "idle");

    store
        .create_session(ada.id, "s2", now + 8 * HOUR, now)
        .await
        .expect("session");
    // a use after a minute is recorded and moves the idle clock
    assert_eq!(live("s2", at(now, 29 * 60)).await, Some(ada.id));
    assert_eq!(live("s2", at(now, 58 * 60)).await, Some(ada.id));
    assert_eq!(live("s2", at(now, 87 * 60)).await, Some(ada.id));
    assert_eq!(live("s2", at(now, 118 * 60)).await, None, "idle");

    // absolute expiry, however recent the use
    store
        .create_session(ada.id, "s3", at(now, 3600), now)
        .await
        .expect("session");
    assert_eq!(live("s3", at(now, 25 * 60)).await, Some(ada.id));
    assert_eq!(live("s3", at(now, 50 * 60)).await, Some(ada.id));
    assert_eq!(live("s3", at(now, 3600)).await, None, "expired");

    // sign-out
    store
        .create_session(ada.id, "s4", now + 8 * HOUR, now)
        .await
        .expect("session");
    assert_eq!(live("s4", now).await, Some(ada.id));
    store.revoke_session("s4", now).await.expect("revoke");
    assert_eq!(live("s4", now).await, None, "revoked");
    assert_eq!(live("s4", at(now, 120)).await, None, "stays revoked");
    store
        .revoke_session("never-issued", now)
        .await
        .expect("unknown hashes are ignored");
    assert_eq!(live("never-issued", now).await, None);
    assert!(matches!(
        store
            .create_session(UserId(9999), "orphan", now + HOUR, now)
            .await,
        Err(StoreError::NotFound { what: "user", .. })
    ));
}

async fn redeeming_a_link_revokes_every_session_of_the_user(db: Db) {
    let store = &db.store;
    let owner = owner(store).await;
    let ada = user(store, "Ada", "ada@example.com", Seat::Service).await;
    let now = Utc::now();
    for hash in ["a1", "a2"] {
        store
            .create_session(ada.id, hash, now + HOUR, now)
            .await
            .expect("session");
    }
    store
        .create_session(owner.id, "o1", now + HOUR, now)
        .await
        .expect("session");
    store
        .create_password_link(ada.id, "reset", now + HOUR, now)
        .await
        .expect("link");
    store
        .redeem_password_link("reset", "$argon2id$new", now)
        .await
        .expect("redeem");
    for hash in ["a1", "a2"] {
        assert_eq!(
            store.session_user(hash, HOUR, now).await.expect("session"),
            None,
            "{hash} revoked"
        );
    }
    assert_eq!(
        store
            .session_user("o1", HOUR, now)
            .await
            .expect("session")
            .map(|u| u.id),
        Some(owner.id),
        "another user's session stays"
    );
}

async fn changing_the_password_keeps_only_the_named_session(db: Db) {
    let store = &db.store;
    let owner = owner(store).await;
    let ada = user(store, "Ada", "ada@example.com", Seat::Service).await;
    let now = Utc::now();
    for hash in ["keep", "other1", "other2"] {
        store
            .create_session(ada.id, hash, now + HOUR, now)
            .await
            .expect("session");
    }
    store
        .create_session(owner.id, "owner", now + HOUR, now)
        .await
        .expect("session");
    store
        .change_password(ada.id, "$argon2id$changed", Some("keep"), now)
        .await
        .expect("change");
    let live = |hash: &'static str| async move {
        store
            .session_user(hash, HOUR, now)
            .await
            .expect("session")
            .map(|u| u.id)
    };
    assert_eq!(live("keep").await, Some(ada.id));
    assert_eq!(live("other1").await, None);
    assert_eq!(live("other2").await, None);
    assert_eq!(live("owner").await, Some(owner.id));
    let stored = store
        .user_credentials("ada@example.com")
        .await
        .expect("credentials")
        .expect("found");
    assert_eq!(stored.password_hash.as_deref(), Some("$argon2id$changed"));
    // without a session to keep, every one goes
    store
        .change_password(ada.id, "$argon2id$again", None, now)
        .await
        .expect("change");
    assert_eq!(live("keep").await, None);
    assert!(matches!(
        store
            .change_password(UserId(9999), "$argon2id$x", None, now)
            .await,
        Err(StoreError::NotFound { what: "user", .. })
    ));
}

struct Routed {
    owner: User,
    named: User,
    in_team: User,
    unseated_in_team: User,
    free: User,
}

/// The owner (the only admin), a user the settings name, one they reach through a team
/// (with an unseated team mate), and one they do not route to.
async fn routed(store: &SeaStore) -> Routed {
    let owner = owner(store).await;
    let named = user(store, "Named", "named@example.com", Seat::Service).await;
    let in_team = user(store, "In team", "team@example.com", Seat::Sales).await;
    let unseated_in_team = user(store, "Unseated", "unseated@example.com", Seat::None).await;
    let free = user(store, "Free", "free@example.com", Seat::Service).await;
    let inbox = store
        .create_inbox("Support", InboxKind::Inbox)
        .await
        .expect("inbox");
    let team = store
        .create_team("team", &[in_team.id, unseated_in_team.id])
        .await
        .expect("team");
    let settings = HandoffSettings {
        process: Process::Live,
        destination: Some(Destination::UsersAndTeams {
            inbox_id: InboxId(inbox.id.0),
            user_ids: vec![named.id],
            team_ids: vec![team.id],
            strategy: Default::default(),
        }),
        ..HandoffSettings::default()
    };
    store
        .put_settings(owner.id, settings, None, Utc::now())
        .await
        .expect("settings");
    Routed {
        owner,
        named,
        in_team,
        unseated_in_team,
        free,
    }
}

fn changes(user: &User) -> UserChanges {
    UserChanges {
        name: user.name.clone(),
        seat: user.seat,
        permissions: user.permissions.clone(),
    }
}

async fn user_changes_are_refused_naming_the_field_and_store_nothing(db: Db) {
    let store = &db.store;
    let r = routed(store).await;
    let audit_before = audit_count(store).await;
    let refused = |id: UserId, changes: UserChanges| async move {
        match store.update_user(id, changes, r.owner.id, Utc::now()).await {
            Err(StoreError::Invalid(e)) => e,
            other => panic!("{other:?}"),
        }
    };
    for target in [&r.named, &r.in_team] {
        let error = refused(
            target.id,
            UserChanges {
                seat: Seat::None,
                ..changes(target)
            },
        )
        .await;
        assert_eq!(error.field, "seat", "{error:?}");
        assert!(error.message.contains("handoff settings"), "{error:?}");
    }
    let error = refused(
        r.owner.id,
        UserChanges {
            permissions: vec![Permission::CustomerAgentEditor],
            ..changes(&r.owner)
        },
    )
    .await;
    assert_eq!(error.field, "permissions", "the last admin keeps admin");
    for name in ["   ", &"x".repeat(201)] {
        let error = refused(
            r.free.id,
            UserChanges {
                name: name.to_owned(),
                ..changes(&r.free)
            },
        )
        .await;
        assert_eq!(error.field, "name");
    }
    assert!(matches!(
        store
            .update_user(UserId(9999), changes(&r.free), r.owner.id, Utc::now())
            .await,
        Err(StoreError::NotFound { what: "user", .. })
    ));
    assert_eq!(audit_count(store).await, audit_before, "nothing audited");
    for before in [&r.owner, &r.named, &r.in_team, &r.free] {
        assert_eq!(
            &store.user(before.id).await.expect("user"),
            before,
            "unchanged"
        );
    }
}

async fn user_changes_are_stored_and_audited(db: Db) {
    let store = &db.store;
    let r = routed(store).await;
    let changed = store
        .update_user(
            r.free.id,
            UserChanges {
                name: "  Grace Hopper ".into(),
                seat: Seat::Sales,
                permissions: vec![Permission::Admin, Permission::Admin],
            },
            r.owner.id,
            Utc::now(),
        )
        .await
        .expect("update");
    assert_eq!(changed.name, "Grace Hopper", "trimmed");
    assert_eq!(changed.seat, Seat::Sales);
    assert_eq!(changed.permissions, vec![Permission::Admin]);
    assert_eq!(store.user(r.free.id).await.expect("user"), changed);
    let event = &store
        .audit(1, None, Some("user_changed"))
        .await
        .expect("audit")[0];
    assert_eq!(event.actor_user_id, Some(r.owner.id));
    assert_eq!(event.detail["user_id"], r.free.id.0);
    assert_eq!(event.detail["before"]["name"], "Free");
    assert_eq!(event.detail["before"]["seat"], "service");
    assert_eq!(
        event.detail["before"]["permissions"],
        serde_json::json!(["customer_agent_editor"])
    );
    assert_eq!(event.detail["after"]["name"], "Grace Hopper");
    assert_eq!(event.detail["after"]["seat"], "sales");
    assert_eq!(
        event.detail["after"]["permissions"],
        serde_json::json!(["admin"])
    );
    // with another admin, the owner may give up admin
    let owner = store
        .update_user(
            r.owner.id,
            UserChanges {
                permissions: vec![Permission::CustomerAgentEditor],
                ..changes(&r.owner)
            },
            changed.id,
            Utc::now(),
        )
        .await
        .expect("owner drops admin");
    assert!(!owner.has(Permission::Admin));
    // an unseated team mate stays unseated and can be renamed; a routed user may
    // change seats between paid ones
    let renamed = store
        .update_user(
            r.unseated_in_team.id,
            UserChanges {
                name: "Still unseated".into(),
                ..changes(&r.unseated_in_team)
            },
            changed.id,
            Utc::now(),
        )
        .await
        .expect("rename");
    assert_eq!(renamed.name, "Still unseated");
    let moved = store
        .update_user(
            r.named.id,
            UserChanges {
                seat: Seat::Sales,
                ..changes(&r.named)
            },
            changed.id,
            Utc::now(),
        )
        .await
        .expect("paid to paid");
    assert_eq!(moved.seat, Seat::Sales);
    assert_eq!(
        store
            .audit(10, None, Some("user_changed"))
            .await
            .expect("audit")
            .len(),
        4
    );
}

async fn a_stale_settings_version_is_refused_and_stores_nothing(db: Db) {
    let store = &db.store;
    let owner = owner(store).await;
    let first = store.settings().await.expect("settings");
    let mut edited = first.settings.clone();
    edited.custom_triggers = vec!["refund".into()];
    let saved = store
        .put_settings(owner.id, edited.clone(), Some(first.version), Utc::now())
        .await
        .expect("the expected version is current");
    assert_ne!(saved.version, first.version);
    let audit_before = audit_count(store).await;
    edited.custom_triggers = vec!["invoice".into()];
    match store
        .put_settings(owner.id, edited.clone(), Some(first.version), Utc::now())
        .await
    {
        Err(StoreError::Conflict(message)) => assert!(
            message.contains(&format!("now version {}", saved.version)),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    let current = store.settings().await.expect("settings");
    assert_eq!(current.version, saved.version, "nothing stored");
    assert_eq!(current.settings.custom_triggers, vec!["refund".to_owned()]);
    assert_eq!(audit_count(store).await, audit_before, "nothing audited");
    let again = store
        .put_settings(owner.id, edited.clone(), Some(saved.version), Utc::now())
        .await
        .expect("reloaded");
    assert_eq!(again.settings.custom_triggers, vec!["invoice".to_owned()]);
    let unchecked = store
        .put_settings(owner.id, edited, None, Utc::now())
        .await
        .expect("without a version, no check");
    assert_ne!(unchecked.version, again.version);
}

async fn concurrent_saves_of_one_settings_version_have_exactly_one_winner(db: Db) {
    let store = &db.store;
    let owner = owner(store).await;
    for round in 0..3 {
        let current = store.settings().await.expect("settings");
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let store = store.clone();
                let mut document = current.settings.clone();
                document.custom_triggers = vec![format!("phrase {round} {i}")];
                let expected = Some(current.version);
                tokio::spawn(async move {
                    store
                        .put_settings(owner.id, document, expected, Utc::now())
                        .await
                })
            })
            .collect();
        let mut stored = Vec::new();
        for task in tasks {
            match task.await.expect("task") {
                Ok(saved) => stored.push(saved),
                Err(StoreError::Conflict(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(stored.len(), 1, "round {round}");
        assert_eq!(
            store.settings().await.expect("settings"),
            stored[0],
            "the winner's version is current"
        );
    }
}

async fn the_audit_log_pages_one_kind_newest_first(db: Db) {
    let store = &db.store;
    let owner = owner(store).await;
    // interleave two kinds: seven agent switches between settings saves
    for i in 0..7 {
        store
            .set_agent_paused(owner.id, i % 2 == 0, Utc::now())
            .await
            .expect("pause");
        let settings = store.settings().await.expect("settings").settings;
        store
            .put_settings(owner.id, settings, None, Utc::now())
            .await
            .expect("settings");
    }
    let all = store.audit(100, None, None).await.expect("audit");
    let expected: Vec<i64> = all
        .iter()
        .filter(|e| e.kind == "agent_state")
        .map(|e| e.id)
        .collect();
    assert_eq!(expected.len(), 7);
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .audit(3, before, Some("agent_state"))
            .await
            .expect("page");
        assert!(page.len() <= 3);
        if page.is_empty() {
            break;
        }
        assert!(page.iter().all(|e| e.kind == "agent_state"), "{page:?}");
        before = page.last().map(|e| e.id);
        pages.push(page.iter().map(|e| e.id).collect::<Vec<_>>());
    }
    assert_eq!(pages.len(), 3, "3 + 3 + 1: {pages:?}");
    assert_eq!(pages.concat(), expected, "newest first, nothing skipped");
    assert!(
        store
            .audit(10, None, Some("no_such_kind"))
            .await
            .expect("audit")
            .is_empty()
    );
    // unfiltered pages still cover every kind
    let first = store.audit(5, None, None).await.expect("audit");
    let next = store
        .audit(5, first.last().map(|e| e.id), None)
        .await
        .expect("audit");
    let ids: Vec<i64> = first.iter().chain(&next).map(|e| e.id).collect();
    assert_eq!(ids, all.iter().take(10).map(|e| e.id).collect::<Vec<_>>());
}
