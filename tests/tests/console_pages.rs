//! The handoff settings page over HTTP: a refused save keeps what the person typed and
//! names the field; a save based on an old version is refused (409) and says so instead
//! of overwriting; the triggers panel refuses empty and repeated phrases; a user without
//! a paid seat sees the page read-only and cannot post; "try a message" without the
//! script; and simulate with draft settings writes nothing.

#![allow(clippy::unwrap_used)]

use baton_e2e::console::{get_page, post_form, signed_in_owner};
use baton_e2e::{Server, StatusCode, scenarios};
use reqwest::header::LOCATION;
use serde_json::json;

scenarios!(
    a_refused_save_keeps_the_typed_values_and_names_the_field,
    a_save_over_someone_elses_save_is_refused_and_said,
    the_trigger_panel_refuses_empty_and_repeated_phrases,
    a_user_without_a_paid_seat_sees_the_page_read_only,
    simulate_decides_on_draft_settings_without_writing,
    a_user_change_that_would_break_routing_is_refused,
    the_visitor_choice_box_saves_and_is_kept_when_not_shown,
);

const PAGE: &str = "/console/agent/handoff";

/// The stored settings' version, as the page's hidden field holds it.
async fn stored_version(server: &Server) -> String {
    server.settings().await["version"]
        .as_i64()
        .unwrap()
        .to_string()
}

async fn a_refused_save_keeps_the_typed_values_and_names_the_field(server: &Server) {
    let cookie = signed_in_owner(server).await;
    let version = stored_version(server).await;
    let save = async |pairs: &[(&str, &str)]| post_form(server, PAGE, Some(&cookie), pairs).await;
    // Live without an inbox: refused next to the inbox select, the message kept.
    let response = save(&[
        ("version", &version),
        ("process", "live"),
        ("destination_kind", "users_and_teams"),
        ("inbox_id", ""),
        ("available", "Typed by hand, kept"),
        ("unavailable", "Away"),
        ("live_reply_timeout_seconds", "300"),
    ])
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"inbox-error\""), "{html}");
    assert!(html.contains("aria-describedby=\"inbox-error\""));
    assert!(html.contains("Typed by hand, kept"));
    // A bad timeout: named, typed value kept.
    let inbox = server.create_inbox("Support").await;
    let (user, _) = server.agent("Ann", 3).await;
    let response = save(&[
        ("version", &version),
        ("process", "live"),
        ("destination_kind", "users_and_teams"),
        ("inbox_id", &inbox.to_string()),
        ("user_id", &user.to_string()),
        ("available", "Hi"),
        ("unavailable", "Away"),
        ("live_reply_timeout_seconds", "5"),
    ])
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"timeout-error\""), "{html}");
    assert!(html.contains("value=\"5\""));
    assert_eq!(
        server.settings().await["version"].to_string(),
        version,
        "nothing stored"
    );
    // Right values: stored, and the page says so after the redirect.
    let response = save(&[
        ("version", &version),
        ("process", "live"),
        ("destination_kind", "users_and_teams"),
        ("inbox_id", &inbox.to_string()),
        ("user_id", &user.to_string()),
        ("strategy", "balanced"),
        ("available", "Connecting you now."),
        ("unavailable", "We are away."),
        ("live_reply_timeout_seconds", "120"),
    ])
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let settings = server.settings().await;
    assert_eq!(settings["process"], "live");
    assert_eq!(settings["destination"]["inbox_id"], inbox);
    assert_eq!(settings["destination"]["user_ids"], json!([user]));
    assert_eq!(settings["destination"]["strategy"], "balanced");
    assert_eq!(settings["live_reply_timeout_seconds"], 120);
    assert_eq!(settings["messages"]["available"], "Connecting you now.");
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let page = get_page(server, &location, Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Saved."));
}

async fn a_save_over_someone_elses_save_is_refused_and_said(server: &Server) {
    let cookie = signed_in_owner(server).await;
    let shown = server.settings().await;
    let shown_version = shown["version"].as_i64().unwrap().to_string();
    // Someone else saves meanwhile (through the API).
    let theirs = server.route_to("none", &[], &["theirs"]).await;
    let their_version = theirs["version"].as_i64().unwrap();
    let response = post_form(
        server,
        PAGE,
        Some(&cookie),
        &[
            ("version", &shown_version),
            ("process", "none"),
            ("available", "Mine"),
            ("unavailable", "Mine too"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Someone else saved the handoff settings meanwhile"),
        "{html}"
    );
    assert!(html.contains("Mine too"), "the person's edits are kept");
    assert!(html.contains(&format!("name=\"version\" value=\"{their_version}\"")));
    let stored = server.settings().await;
    assert_eq!(stored["version"], their_version);
    assert_eq!(stored["custom_triggers"], json!(["theirs"]));
    // The API refuses the same way with If-Match.
    let mut doc = stored.clone();
    doc.as_object_mut().unwrap().remove("version");
    let put_over = async |version: String| {
        server
            .client
            .put(server.url("/api/v1/handoff/settings"))
            .bearer_auth(&server.token)
            .header("if-match", format!("\"{version}\""))
            .json(&doc)
            .send()
            .await
            .unwrap()
    };
    let stale = put_over(shown_version).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let fresh = put_over(their_version.to_string()).await;
    assert_eq!(fresh.status(), StatusCode::OK);
}

async fn the_trigger_panel_refuses_empty_and_repeated_phrases(server: &Server) {
    let cookie = signed_in_owner(server).await;
    let version = stored_version(server).await;
    let save = |triggers: Vec<&'static str>| {
        let version = version.clone();
        let cookie = cookie.clone();
        async move {
            let mut pairs = vec![("version", version.as_str()), ("op", "save")];
            pairs.extend(triggers.into_iter().map(|t| ("trigger", t)));
            post_form(
                server,
                "/console/agent/handoff/triggers",
                Some(&cookie),
                &pairs,
            )
            .await
        }
    };
    let empty = save(vec!["refund", "  "]).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = empty.text().await.unwrap();
    assert!(html.contains("id=\"trigger-error-2\""), "{html}");
    let repeated = save(vec!["refund", "Refund "]).await;
    assert_eq!(repeated.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = repeated.text().await.unwrap();
    assert!(html.contains("is already trigger 1"), "{html}");
    assert!(html.contains("value=\"Refund \""), "typed value kept");
    assert_eq!(
        server.settings().await["version"].to_string(),
        version,
        "nothing stored"
    );
    // Without the script: + Add trigger and Delete edit the list, nothing saved.
    let added = post_form(
        server,
        "/console/agent/handoff/triggers",
        Some(&cookie),
        &[("version", &version), ("trigger", "refund"), ("op", "add")],
    )
    .await;
    assert_eq!(added.status(), StatusCode::OK);
    assert!(
        added
            .text()
            .await
            .unwrap()
            .contains("aria-label=\"Trigger 2\"")
    );
    let ok = save(vec!["refund", "cancellation"]).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        server.settings().await["custom_triggers"],
        json!(["refund", "cancellation"])
    );
}

async fn a_user_without_a_paid_seat_sees_the_page_read_only(server: &Server) {
    let id = server
        .create_user("Nia", "none", &["customer_agent_editor"], None)
        .await;
    let token = server.token_for(id).await;
    let page = server
        .client
        .get(server.url(PAGE))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("read-only: editing them needs a paid"),
        "{html}"
    );
    assert!(html.contains("<fieldset class=\"plain\" disabled>"));
    assert!(!html.contains("Edit custom triggers"));
    let before = server.settings().await["version"].clone();
    let post = server
        .client
        .post(server.url(PAGE))
        .bearer_auth(&token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("process=none")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
    assert_eq!(server.settings().await["version"], before);
}

async fn simulate_decides_on_draft_settings_without_writing(server: &Server) {
    let before = server.settings().await;
    let mut draft = before.clone();
    draft.as_object_mut().unwrap().remove("version");
    draft["custom_triggers"] = json!(["invoice"]);
    draft["process"] = json!("async");
    let (status, result) = server
        .post(
            "/api/v1/handoff/simulate",
            json!({"text": "My invoice is wrong", "settings": draft}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["handoff"], true);
    assert_eq!(result["trigger"]["kind"], "custom");
    assert_eq!(result["trigger"]["text_span"], json!([3, 10]));
    assert_eq!(result["process"], "async");
    assert_eq!(server.settings().await, before, "nothing stored");
    // A draft that does not parse names its field under `settings`.
    let (status, error) = server
        .post(
            "/api/v1/handoff/simulate",
            json!({"text": "hi", "settings": {"default_triggers": {"cannot_answer": true, "asks_for_human": true, "agent_paused": true},
                "custom_triggers": [], "process": "live", "destination": {"kind": "users_and_teams"},
                "messages": {"available": "a", "unavailable": "b", "unassigned_by_workflow": "c"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["field"], "settings.destination.inbox_id");
    // Without the script, the page's try box explains with the stored settings.
    let cookie = signed_in_owner(server).await;
    let (ann, _) = server.agent("Ann", 2).await;
    server.route_to("async", &[ann], &["refund"]).await;
    let tried = post_form(
        server,
        "/console/agent/handoff/try",
        Some(&cookie),
        &[("text", "I want a refund now")],
    )
    .await;
    assert_eq!(tried.status(), StatusCode::OK);
    let html = tried.text().await.unwrap();
    assert!(html.contains("I want a <mark>refund</mark> now"), "{html}");
    assert!(html.contains("Hands off to a human"));
}

async fn a_user_change_that_would_break_routing_is_refused(server: &Server) {
    let (ann, _) = server.agent("Ann", 2).await;
    server.route_to("live", &[ann], &[]).await;
    let patch = |id: i64, body: serde_json::Value| async move {
        let response = server
            .client
            .patch(server.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(&server.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json::<serde_json::Value>().await.unwrap())
    };
    let audit_before = server.audit(100).await.len();
    let (status, error) = patch(ann, json!({"seat": "none"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "seat");
    let (status, error) = patch(1, json!({"permissions": ["customer_agent_editor"]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "permissions");
    let (status, error) = patch(ann, json!({"seat": "gold"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["field"], "seat");
    assert_eq!(
        server.audit(100).await.len(),
        audit_before,
        "nothing stored"
    );
    let (status, user) = patch(ann, json!({"name": "Ann Rossi", "seat": "sales"})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["name"], "Ann Rossi");
    assert_eq!(user["seat"], "sales");
    assert_eq!(server.audit(1).await[0]["kind"], "user_changed");
    // A second user with the owner's email (in another case) is refused.
    let (status, error) = server
        .post(
            "/api/v1/users",
            json!({"name": "Copy", "email": "OWNER@localhost", "seat": "none"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "email");
}

async fn the_visitor_choice_box_saves_and_is_kept_when_not_shown(server: &Server) {
    let cookie = signed_in_owner(server).await;
    let inbox = server.create_inbox("Support").await;
    let (ann, _) = server.agent("Ann", 2).await;
    let base = |version: String| {
        vec![
            ("version".to_owned(), version),
            ("process".to_owned(), "live".to_owned()),
            ("destination_kind".to_owned(), "users_and_teams".to_owned()),
            ("inbox_id".to_owned(), inbox.to_string()),
            ("user_id".to_owned(), ann.to_string()),
            ("available".to_owned(), "Hi".to_owned()),
            ("unavailable".to_owned(), "Away".to_owned()),
            ("live_reply_timeout_seconds".to_owned(), "300".to_owned()),
        ]
    };
    let post = |pairs: Vec<(String, String)>| {
        let cookie = cookie.clone();
        async move {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_form(server, PAGE, Some(&cookie), &pairs)
                .await
                .status()
        }
    };
    let version = || async {
        server.settings().await["version"]
            .as_i64()
            .unwrap()
            .to_string()
    };
    // Ticked while shown: on.
    let mut pairs = base(version().await);
    pairs.push(("visitor_choice_shown".into(), "1".into()));
    pairs.push(("visitor_choice".into(), "on".into()));
    assert_eq!(post(pairs).await, StatusCode::SEE_OTHER);
    assert_eq!(server.settings().await["visitor_choice"], true);
    // The box not in the form (hidden for the process): kept as stored.
    assert_eq!(post(base(version().await)).await, StatusCode::SEE_OTHER);
    assert_eq!(server.settings().await["visitor_choice"], true);
    // Shown and unticked: off.
    let mut pairs = base(version().await);
    pairs.push(("visitor_choice_shown".into(), "1".into()));
    assert_eq!(post(pairs).await, StatusCode::SEE_OTHER);
    assert_eq!(server.settings().await["visitor_choice"], false);
}
