//! The agent inbox over HTTP (B8): a handoff shows in Unassigned (and in the list
//! fragment console.js swaps in); two sessions claim at once and exactly one wins, the
//! other told who has it; a reply stores a staff message and an empty one is refused
//! next to the box; hand back, close and reopen go through the engine; the header's
//! availability switch changes the user's own availability.

#![allow(clippy::unwrap_used)]

use baton_e2e::console::{PASSWORD, get_page, new_session, post_form, signed_in_owner};
use baton_e2e::{Server, StatusCode, scenarios};
use reqwest::header::LOCATION;

scenarios!(
    a_handoff_shows_in_unassigned_and_one_of_two_claims_wins,
    reply_hand_back_close_and_reopen_from_the_page,
    the_header_switch_sets_the_users_own_availability,
    the_list_pages_by_keyset_without_gaps_or_repeats,
);

/// A queued handoff (Ann, the only destination, is away); returns (Ann's id, Ann's API
/// token, the conversation id).
async fn queued_handoff(server: &Server) -> (i64, String, i64) {
    let (ann, token) = server.agent("Ann", 3).await;
    server.route_to("live", &[ann], &[]).await;
    server.set_availability(&token, ann, "away").await;
    let visitor = server.visitor().await;
    visitor
        .say_expect_handoff("I want to talk to a human please")
        .await;
    (ann, token, visitor.id)
}

/// Ann's own console session, through a set-password link the owner makes.
async fn session_of(server: &Server, owner: &str, user: i64, email: &str) -> String {
    let page = post_form(
        server,
        &format!("/console/users/{user}/password-link"),
        Some(owner),
        &[],
    )
    .await;
    let html = page.text().await.unwrap();
    let start = html.find("/password/").expect("a set-password link");
    let token: String = html[start + "/password/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let path = format!("/password/{token}");
    let set = post_form(
        server,
        &path,
        None,
        &[("password", PASSWORD), ("repeat", PASSWORD)],
    )
    .await;
    assert_eq!(
        set.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        set.text().await
    );
    new_session(server, email, PASSWORD).await
}

async fn text(server: &Server, path: &str, cookie: &str) -> String {
    let page = get_page(server, path, Some(cookie)).await;
    assert_eq!(page.status(), StatusCode::OK, "{path}");
    page.text().await.unwrap()
}

async fn a_handoff_shows_in_unassigned_and_one_of_two_claims_wins(server: &Server) {
    let owner = signed_in_owner(server).await;
    // Signed in, `/` leads to the inbox.
    let home = get_page(server, "/", Some(&owner)).await;
    assert_eq!(home.headers()[LOCATION], "/console/inbox");

    let (ann, _token, id) = queued_handoff(server).await;
    let link = format!("href=\"/console/inbox/{id}\"");
    let html = text(server, "/console/inbox", &owner).await;
    assert!(html.contains(&link), "{html}");
    assert!(html.contains("Ada Visitor"));
    assert!(html.contains("Nobody (queued)"));
    assert!(html.contains(">Inbox</a>"), "the nav link");
    // The fragment is the list alone, with the same row.
    let fragment = text(
        server,
        "/console/inbox?view=unassigned&fragment=list",
        &owner,
    )
    .await;
    assert!(fragment.contains(&link));
    assert!(!fragment.contains("<html"));
    // Not in Mine yet.
    let mine = text(server, "/console/inbox?view=mine", &owner).await;
    assert!(!mine.contains(&link));

    // The conversation page pins why.
    let page = text(server, &format!("/console/inbox/{id}"), &owner).await;
    assert!(page.contains("Why it was handed off"), "{page}");
    assert!(page.contains("ada@visitor.example"));
    assert!(page.contains("turn-visitor"));
    assert!(page.contains(">Claim</button>"));

    // Two sessions claim at once: one 303, the other is told who has it.
    let ann_session = session_of(server, &owner, ann, "ann@e2e.example").await;
    let path = format!("/console/inbox/{id}/claim");
    let (a, b) = tokio::join!(
        post_form(server, &path, Some(&owner), &[]),
        post_form(server, &path, Some(&ann_session), &[]),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
        "exactly one claim wins"
    );
    let (loser, winner_name) = if a.status() == StatusCode::CONFLICT {
        (a, "Ann")
    } else {
        (b, "Owner")
    };
    let html = loser.text().await.unwrap();
    assert!(html.contains("Already taken by"), "{html}");
    let holder = server.conversation(id).await["assignee"]["user_id"].clone();
    let owner_name = server.user(holder.as_i64().unwrap()).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    if winner_name == "Ann" {
        assert!(html.contains("Already taken by Ann"), "{html}");
    } else {
        assert!(
            html.contains(&format!("Already taken by {owner_name}")),
            "{html}"
        );
    }
    // Gone from Unassigned.
    let html = text(server, "/console/inbox?view=unassigned", &owner).await;
    assert!(!html.contains(&link));
}

async fn reply_hand_back_close_and_reopen_from_the_page(server: &Server) {
    let owner = signed_in_owner(server).await;
    let (_ann, _token, id) = queued_handoff(server).await;
    let page = format!("/console/inbox/{id}");
    let claimed = post_form(server, &format!("{page}/claim"), Some(&owner), &[]).await;
    assert_eq!(claimed.status(), StatusCode::SEE_OTHER);
    assert!(
        claimed.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with(&page)
    );
    let mine = text(server, "/console/inbox?view=mine", &owner).await;
    assert!(mine.contains(&format!("href=\"{page}\"")));

    // An empty reply is refused next to the box.
    let empty = post_form(
        server,
        &format!("{page}/reply"),
        Some(&owner),
        &[("text", "  ")],
    )
    .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().await.unwrap().contains("id=\"reply-error\""));
    // A reply is a staff message.
    let sent = post_form(
        server,
        &format!("{page}/reply"),
        Some(&owner),
        &[("text", "Hello from the console")],
    )
    .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let messages = server
        .get_ok(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    let last = messages["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["author"], "user", "{messages}");
    assert_eq!(last["text"], "Hello from the console");
    let html = text(server, &page, &owner).await;
    assert!(html.contains("turn-human"));
    assert!(html.contains("Hello from the console"));

    // Hand back: the customer agent holds it.
    let back = post_form(server, &format!("{page}/handback"), Some(&owner), &[]).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(server.conversation(id).await["assignee"]["kind"], "agent");
    let html = text(server, &page, &owner).await;
    assert!(html.contains("turn-system"));

    // Close, reopen.
    let closed = post_form(server, &format!("{page}/close"), Some(&owner), &[]).await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    assert_eq!(server.conversation(id).await["status"], "closed");
    let html = text(server, &page, &owner).await;
    assert!(html.contains(">Reopen</button>"));
    assert!(!html.contains("id=\"reply-form\""));
    let reopened = post_form(server, &format!("{page}/reopen"), Some(&owner), &[]).await;
    assert_eq!(reopened.status(), StatusCode::SEE_OTHER);
    let conversation = server.conversation(id).await;
    assert_eq!(conversation["status"], "open");
    assert_eq!(conversation["assignee"]["kind"], "agent");
    // Reopening an open conversation is a conflict, shown on the page.
    let again = post_form(server, &format!("{page}/reopen"), Some(&owner), &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("role=\"alert\""));
}

async fn the_header_switch_sets_the_users_own_availability(server: &Server) {
    let owner = signed_in_owner(server).await;
    let html = text(server, "/console/inbox", &owner).await;
    assert!(html.contains("action=\"/console/me/availability\""));
    let users = server.get_ok("/api/v1/users").await;
    let me_id = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "owner@localhost")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let start = server.user(me_id).await["availability"].clone();
    let target = if start == "available" {
        "away"
    } else {
        "available"
    };
    let switched = post_form(
        server,
        "/console/me/availability",
        Some(&owner),
        &[
            ("availability", target),
            ("back", "/console/inbox?view=mine"),
        ],
    )
    .await;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        switched.headers()[LOCATION],
        format!("/console/inbox?view=mine&notice={target}").as_str()
    );
    assert_eq!(server.user(me_id).await["availability"], target);
    // Elsewhere than the console: back to the inbox.
    let switched = post_form(
        server,
        "/console/me/availability",
        Some(&owner),
        &[
            ("availability", "available"),
            ("back", "https://elsewhere.example/"),
        ],
    )
    .await;
    assert_eq!(
        switched.headers()[LOCATION],
        "/console/inbox?notice=available"
    );
}

async fn the_list_pages_by_keyset_without_gaps_or_repeats(server: &Server) {
    let owner = signed_in_owner(server).await;
    let (ann, token) = server.agent("Ann", 3).await;
    server.route_to("live", &[ann], &[]).await;
    server.set_availability(&token, ann, "away").await;
    let mut ids = Vec::new();
    for _ in 0..52 {
        let visitor = server.visitor().await;
        visitor
            .say_expect_handoff("I want to talk to a human")
            .await;
        ids.push(visitor.id);
    }
    let rows = |html: &str| -> Vec<i64> {
        html.split("<li class=\"inbox-row\" data-id=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect()
    };
    let first = text(server, "/console/inbox?view=unassigned", &owner).await;
    assert!(first.contains("<span class=\"count\">52</span>"), "{first}");
    let page1 = rows(&first);
    assert_eq!(page1, ids[..50], "oldest waiting first");
    let next = format!("/console/inbox?view=unassigned&amp;after={}", ids[49]);
    assert!(first.contains(&next), "a next link");
    let second = text(
        server,
        &format!("/console/inbox?view=unassigned&after={}", ids[49]),
        &owner,
    )
    .await;
    assert_eq!(rows(&second), ids[50..], "the rest, none repeated");
    assert!(second.contains(">First page</a>"));
    assert!(!second.contains("rel=\"next\""));
    // The fragment of the second page is the same page.
    let fragment = text(
        server,
        &format!(
            "/console/inbox?view=unassigned&after={}&fragment=list",
            ids[49]
        ),
        &owner,
    )
    .await;
    assert_eq!(rows(&fragment), ids[50..]);
}
