//! Bad input is refused with the right status and error shape, and nothing is half-stored;
//! permissions on settings and tokens; the audit log records settings changes and handoffs.

#![allow(clippy::unwrap_used)]

use baton_e2e::{Server, StatusCode, assert_error, id_of, scenarios};
use reqwest::Method;
use serde_json::{Value, json};

scenarios!(
    errors_have_status_shape_and_store_nothing,
    settings_permissions_tokens_and_audit,
);

async fn user_count(server: &Server) -> usize {
    server.get_ok("/api/v1/users").await["users"]
        .as_array()
        .unwrap()
        .len()
}

/// PUTs settings expecting `status` and `field`, then checks the version did not move.
async fn put_settings_refused(server: &Server, settings: Value, status: StatusCode, field: &str) {
    let before = server.settings().await;
    let mut body = settings;
    body.as_object_mut().unwrap().remove("version");
    let response = server.put("/api/v1/handoff/settings", body.clone()).await;
    assert_error(&response, status, Some(field));
    assert_eq!(
        server.settings().await,
        before,
        "settings unchanged after refused {body}"
    );
}

async fn errors_have_status_shape_and_store_nothing(server: &Server) {
    let (staff_id, staff_token) = server.agent("Ivy", 1).await;
    let users_before = user_count(server).await;

    // 400: malformed JSON.
    let response = server
        .request_raw(
            Method::POST,
            "/api/v1/users",
            Some(&server.token),
            b"{\"name\": \"Broken\", ".to_vec(),
        )
        .await;
    assert_error(&response, StatusCode::BAD_REQUEST, None);

    // 401: no token, a bad token.
    let response = server
        .request(Method::GET, "/api/v1/users", None, None)
        .await;
    assert_error(&response, StatusCode::UNAUTHORIZED, None);
    let response = server.get_as("not-a-real-token", "/api/v1/users").await;
    assert_error(&response, StatusCode::UNAUTHORIZED, None);
    let response = server
        .request(Method::GET, "/api/v1/handoff/settings", None, None)
        .await;
    assert_error(&response, StatusCode::UNAUTHORIZED, None);

    // 403: a staff user without admin creates users.
    let response = server
        .post_as(
            &staff_token,
            "/api/v1/users",
            json!({"name": "Nope", "email": "nope@e2e.example", "seat": "none", "permissions": []}),
        )
        .await;
    assert_error(&response, StatusCode::FORBIDDEN, None);

    // 404: unknown ids.
    for path in ["/api/v1/users/999999", "/api/v1/conversations/999999"] {
        assert_error(&server.get(path).await, StatusCode::NOT_FOUND, None);
    }
    let response = server
        .post("/api/v1/conversations/999999/claim", json!({}))
        .await;
    assert_error(&response, StatusCode::NOT_FOUND, None);

    // 422: an unknown seat, with the field named.
    let response = server
        .post(
            "/api/v1/users",
            json!({"name": "Gold", "email": "gold@e2e.example", "seat": "gold", "permissions": []}),
        )
        .await;
    assert_error(&response, StatusCode::UNPROCESSABLE_ENTITY, Some("seat"));

    // 413: any body over 1 MiB.
    let huge = json!({
        "name": "x".repeat(1_100_000),
        "email": "huge@e2e.example",
        "seat": "none",
        "permissions": [],
    });
    let response = server
        .request_raw(
            Method::POST,
            "/api/v1/users",
            Some(&server.token),
            serde_json::to_vec(&huge).unwrap(),
        )
        .await;
    assert_error(&response, StatusCode::PAYLOAD_TOO_LARGE, None);
    assert_eq!(user_count(server).await, users_before, "no user stored");

    // 422 availability.
    let response = server
        .put(
            &format!("/api/v1/users/{staff_id}/availability"),
            json!({"availability": "sleeping"}),
        )
        .await;
    assert_error(
        &response,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("availability"),
    );
    assert_eq!(server.user(staff_id).await["availability"], "available");

    // Settings: each refused PUT leaves the version where it was.
    let none_seat = server.create_user("Nell", "none", &[], None).await;
    let inbox = server.create_inbox("errors").await;
    let base = server.route_to("live", &[staff_id], &["refund"]).await;
    let with = |patch: &dyn Fn(&mut Value)| {
        let mut s = base.clone();
        patch(&mut s);
        s
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    put_settings_refused(
        server,
        with(&|s| s["destination"] = Value::Null),
        unprocessable,
        "destination",
    )
    .await;
    put_settings_refused(
        server,
        with(&|s| s["destination"]["user_ids"] = json!([none_seat])),
        unprocessable,
        "destination.user_ids[0]",
    )
    .await;
    put_settings_refused(
        server,
        with(&|s| s["destination"]["inbox_id"] = json!(999_999)),
        unprocessable,
        "destination.inbox_id",
    )
    .await;
    put_settings_refused(
        server,
        with(&|s| {
            s["destination"] = json!({"kind": "workflow", "inbox_id": inbox, "workflow_id": 1});
        }),
        unprocessable,
        "destination.workflow_id",
    )
    .await;
    put_settings_refused(
        server,
        with(&|s| s["process"] = json!("sometimes")),
        unprocessable,
        "process",
    )
    .await;

    // Visitor side: 413 for a text over 64 KiB, 403 for another conversation's token.
    let visitor = server.visitor().await;
    visitor.say("How long does shipping take?").await;
    let before = visitor.messages().await;
    let response = visitor.send(&"a".repeat(64 * 1024 + 1), None).await;
    assert_error(&response, StatusCode::PAYLOAD_TOO_LARGE, Some("text"));
    assert_eq!(visitor.messages().await, before, "nothing stored after 413");

    let other = server.visitor().await;
    let response = server
        .request(
            Method::POST,
            &format!("/api/v1/chat/conversations/{}/messages", visitor.id),
            Some(&other.token),
            Some(&json!({"text": "let me in"})),
        )
        .await;
    assert_error(&response, StatusCode::FORBIDDEN, None);
    let response = server
        .request(
            Method::GET,
            &format!("/api/v1/chat/conversations/{}/messages", visitor.id),
            Some(&other.token),
            None,
        )
        .await;
    assert_error(&response, StatusCode::FORBIDDEN, None);
    let response = server
        .request(
            Method::POST,
            &format!("/api/v1/chat/conversations/{}/messages", visitor.id),
            None,
            Some(&json!({"text": "no token"})),
        )
        .await;
    assert_error(&response, StatusCode::UNAUTHORIZED, None);
    assert_eq!(
        visitor.messages().await,
        before,
        "nothing stored after 403/401"
    );

    // 409: Ivy (capacity 1) holds one handed-off conversation; another user cannot claim
    // it, cannot write in it, and Ivy cannot claim a second one.
    let held = server.visitor().await;
    held.say_expect_handoff("refund").await;
    let conversation = held.conversation().await;
    assert_eq!(
        conversation["assignee"]["user_id"], staff_id,
        "{conversation}"
    );
    let (jo, jo_token) = server.agent("Jo", 5).await;
    let response = server
        .post_as(
            &jo_token,
            &format!("/api/v1/conversations/{}/claim", held.id),
            json!({}),
        )
        .await;
    assert_error(&response, StatusCode::CONFLICT, None);
    let response = server
        .post_as(
            &jo_token,
            &format!("/api/v1/conversations/{}/messages", held.id),
            json!({"text": "not mine"}),
        )
        .await;
    assert_error(&response, StatusCode::CONFLICT, None);
    assert_eq!(
        held.conversation().await,
        conversation,
        "unchanged after 409"
    );

    // A queued one (Ivy is full, Jo is not in the destination): Ivy at capacity → 409.
    let queued = server.visitor().await;
    queued.say_expect_handoff("refund").await;
    let response = server
        .post_as(
            &staff_token,
            &format!("/api/v1/conversations/{}/claim", queued.id),
            json!({}),
        )
        .await;
    assert_error(&response, StatusCode::CONFLICT, None);
    assert_eq!(server.user(staff_id).await["open_conversations"], 1);
    // Jo may claim it: any staff user can claim.
    let (status, claimed) = server
        .post_as(
            &jo_token,
            &format!("/api/v1/conversations/{}/claim", queued.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
    assert_eq!(claimed["assignee"]["user_id"], jo);
    assert_eq!(claimed["queued"], false, "{claimed}");
}

async fn settings_permissions_tokens_and_audit(server: &Server) {
    let editor_no_seat = server
        .create_user("Kim", "none", &["customer_agent_editor"], None)
        .await;
    let seat_no_permission = server.create_user("Lou", "sales", &[], None).await;
    let admin2 = server
        .create_user("Max", "service", &["admin", "customer_agent_editor"], None)
        .await;

    let kim = server.token_for(editor_no_seat).await;
    let lou = server.token_for(seat_no_permission).await;
    let max = server.token_for(admin2).await;

    let settings = server.settings().await;
    assert_eq!(settings["process"], "none", "initial settings: {settings}");
    assert!(settings["destination"].is_null(), "initial: {settings}");
    assert_eq!(
        settings["custom_triggers"],
        json!([]),
        "initial: {settings}"
    );
    assert_eq!(
        settings["default_triggers"],
        json!({
            "cannot_answer": true, "asks_for_human": true, "agent_paused": true,
            "frustrated": true,
        })
    );
    let mut change = settings.clone();
    change.as_object_mut().unwrap().remove("version");
    change["custom_triggers"] = json!(["cancellation"]);

    // Anyone on staff reads; only an editor with a paid seat writes.
    for token in [&kim, &lou] {
        let (status, read) = server.get_as(token, "/api/v1/handoff/settings").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read, settings);
        let response = server
            .put_as(token, "/api/v1/handoff/settings", change.clone())
            .await;
        assert_error(&response, StatusCode::FORBIDDEN, None);
    }
    assert_eq!(server.settings().await, settings, "unchanged after 403");

    // Tokens: self yes, someone else only as admin.
    let (status, own) = server
        .post_as(
            &kim,
            &format!("/api/v1/users/{editor_no_seat}/tokens"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    assert_eq!(
        server
            .get_as(own["token"].as_str().unwrap(), "/api/v1/handoff/settings")
            .await
            .0,
        StatusCode::OK
    );
    let response = server
        .post_as(
            &kim,
            &format!("/api/v1/users/{seat_no_permission}/tokens"),
            json!({}),
        )
        .await;
    assert_error(&response, StatusCode::FORBIDDEN, None);

    // The second admin's token works for admin and editor calls.
    let (status, created) = server
        .post_as(
            &max,
            "/api/v1/users",
            json!({"name": "Ned", "email": "ned@e2e.example", "seat": "service", "permissions": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["availability"], "available");
    assert_eq!(created["capacity"], 5);
    assert_eq!(created["seat"], "service");
    let ned = id_of(&created);
    let (status, saved) = server
        .put_as(&max, "/api/v1/handoff/settings", change.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let version = saved["version"].as_i64().unwrap();
    assert!(version > settings["version"].as_i64().unwrap());
    assert_eq!(saved["custom_triggers"], json!(["cancellation"]));
    assert_eq!(server.settings().await, saved);

    let events = server.audit(50).await;
    let changed = events
        .iter()
        .find(|e| e["kind"] == "settings_changed")
        .unwrap_or_else(|| panic!("no settings_changed in {events:?}"));
    assert_eq!(changed["detail"]["version"], version, "{changed}");
    assert_eq!(changed["actor_user_id"], admin2, "{changed}");

    // A handoff is audited with its reason, process and assignee.
    server.route_to("live", &[ned], &["refund"]).await;
    let visitor = server.visitor().await;
    visitor.say_expect_handoff("I need a refund").await;
    let events = server.audit(50).await;
    let newest_first: Vec<i64> = events.iter().map(id_of).collect();
    let mut sorted = newest_first.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(newest_first, sorted, "audit newest first");
    let handoff = events
        .iter()
        .find(|e| e["kind"] == "handoff")
        .unwrap_or_else(|| panic!("no handoff in {events:?}"));
    assert_eq!(handoff["conversation_id"], visitor.id, "{handoff}");
    assert_eq!(handoff["detail"]["reason"]["kind"], "custom", "{handoff}");
    assert_eq!(handoff["detail"]["process"], "live", "{handoff}");
    assert_eq!(handoff["detail"]["assignee_user_id"], ned, "{handoff}");
    assert_eq!(server.audit(1).await.len(), 1, "limit honoured");
}
