//! The auth matrix (issue 12, item 3): every endpoint and every console page against
//! every caller, on one server.
//!
//! Each row names what each caller gets. Requests are valid (real ids made in setup,
//! bodies the server accepts, fresh conversations where a request changes one), so the
//! answer shows authorization, not validation. The rows are checked against the router:
//! every operation of `/openapi.json` and every route of `baton_console::pages()` needs
//! one, so a new endpoint without a row fails here.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fmt;

use baton_e2e::console::{PASSWORD, client, form, new_session, post_form, signed_in_owner};
use baton_e2e::{Backend, Server, StatusCode, id_of, plugin_library, random_hex};
use futures_util::StreamExt;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

/// What a caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// 2xx; for a page, also a redirect that does not go to sign-in.
    Ok,
    /// 401.
    U,
    /// 403.
    F,
    /// 404.
    N,
    /// A page GET sent to `/login` (signed out).
    L,
}
use Want::{F, L, N, U};
const OK: Want = Want::Ok;

/// The callers, in the order of a row's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    /// The visitor token of another conversation.
    OtherVisitor,
    /// The visitor token of the conversation the request names.
    OwnVisitor,
    /// A paid seat, no permissions.
    User,
    /// Admin, no seat.
    Admin,
    /// Customer agent editor with a paid seat.
    Editor,
    Owner,
}
const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::OtherVisitor,
    Caller::OwnVisitor,
    Caller::User,
    Caller::Admin,
    Caller::Editor,
    Caller::Owner,
];

// Columns: anonymous, other visitor, own visitor, user, admin (no seat), editor, owner.
const PUBLIC: [Want; 7] = [OK; 7];
const STAFF: [Want; 7] = [U, U, U, OK, OK, OK, OK];
const ADMIN: [Want; 7] = [U, U, U, F, OK, F, OK];
/// A paid seat: only those hold and answer conversations.
const SEATED: [Want; 7] = [U, U, U, OK, F, OK, OK];
/// The customer agent editor permission (with a paid seat for the settings).
const EDITOR: [Want; 7] = [U, U, U, F, F, OK, OK];
/// A staff token is no visitor's token: 403 as another conversation's.
const VISITOR: [Want; 7] = [U, F, OK, F, F, F, F];
const PAGE: [Want; 7] = [L, L, L, OK, OK, OK, OK];
const ADMIN_PAGE: [Want; 7] = [L, L, L, F, OK, F, OK];
/// Page form posts refuse a signed-out request (401) rather than redirect it.
const POST_PAGE: [Want; 7] = STAFF;
const ADMIN_POST_PAGE: [Want; 7] = ADMIN;
const EDITOR_POST_PAGE: [Want; 7] = EDITOR;

/// The state a row's conversation must be in; every kind but `Shared` is made afresh
/// for each caller, since the request changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    /// The one conversation every read uses (queued, with a ticket).
    Shared,
    /// New, held by the customer agent.
    Fresh,
    /// Handed off and queued: nobody holds it.
    Queued,
    /// Held by the subject (another user): only they or an admin may hand it back.
    HeldBySubject,
    /// Held by the caller when the caller has a paid seat, else by the subject: only
    /// the holder replies.
    HeldByCaller,
    Closed,
}

struct Row {
    method: &'static str,
    path: &'static str,
    want: [Want; 7],
    conv: Conv,
    /// Requests that change what later rows rely on (sessions, passwords, settings)
    /// run one at a time after the others.
    last: bool,
}

const fn row(method: &'static str, path: &'static str, want: [Want; 7]) -> Row {
    Row {
        method,
        path,
        want,
        conv: Conv::Shared,
        last: false,
    }
}

impl Row {
    const fn on(mut self, conv: Conv) -> Row {
        self.conv = conv;
        self
    }
    const fn last(mut self) -> Row {
        self.last = true;
        self
    }
}

/// Every endpoint and page. `{id}` of a user is another user (the subject), not the
/// caller: acting on oneself is covered by the people tests.
const ROWS: &[Row] = &[
    // --- operations ---
    row("GET", "/healthz", PUBLIC),
    row("GET", "/readyz", PUBLIC),
    row("GET", "/metrics", PUBLIC),
    row("GET", "/openapi.json", PUBLIC),
    row("GET", "/api/v1/audit", STAFF),
    // --- settings and the customer agent ---
    row("GET", "/api/v1/handoff/settings", STAFF),
    row("PUT", "/api/v1/handoff/settings", EDITOR).last(),
    row("POST", "/api/v1/handoff/simulate", STAFF),
    row("GET", "/api/v1/agent/state", STAFF),
    row("PUT", "/api/v1/agent/state", EDITOR),
    // --- people ---
    row("POST", "/api/v1/users", ADMIN),
    row("GET", "/api/v1/users", STAFF),
    row("GET", "/api/v1/users/{id}", STAFF),
    row("PATCH", "/api/v1/users/{id}", ADMIN),
    row("POST", "/api/v1/users/{id}/tokens", ADMIN),
    row("PUT", "/api/v1/users/{id}/availability", ADMIN),
    row("PUT", "/api/v1/users/{id}/capacity", ADMIN),
    row("PUT", "/api/v1/users/{id}/working_hours", ADMIN),
    row("POST", "/api/v1/teams", ADMIN),
    row("GET", "/api/v1/teams", STAFF),
    row("POST", "/api/v1/inboxes", ADMIN),
    row("GET", "/api/v1/inboxes", STAFF),
    // --- conversations, staff side ---
    row("GET", "/api/v1/conversations", STAFF),
    row("GET", "/api/v1/conversations/{id}", STAFF),
    row("POST", "/api/v1/conversations/{id}/claim", SEATED).on(Conv::Queued),
    row("POST", "/api/v1/conversations/{id}/assign", ADMIN).on(Conv::Queued),
    row("GET", "/api/v1/conversations/{id}/messages", STAFF),
    row("POST", "/api/v1/conversations/{id}/messages", SEATED).on(Conv::HeldByCaller),
    row("POST", "/api/v1/conversations/{id}/close", STAFF).on(Conv::Queued),
    row("POST", "/api/v1/conversations/{id}/handback", ADMIN).on(Conv::HeldBySubject),
    row("POST", "/api/v1/conversations/{id}/reopen", STAFF).on(Conv::Closed),
    row("GET", "/api/v1/conversations/{id}/mails", STAFF),
    row("GET", "/api/v1/tickets/{id}", STAFF),
    row("GET", "/api/v1/events", STAFF),
    // --- workflows, plugins ---
    row("GET", "/api/v1/workflows", STAFF),
    row("POST", "/api/v1/workflows", ADMIN),
    row("GET", "/api/v1/workflows/{id}", STAFF),
    row("PUT", "/api/v1/workflows/{id}", ADMIN),
    row("GET", "/api/v1/workflows/templates", STAFF),
    row("POST", "/api/v1/workflows/from-template", ADMIN),
    row("GET", "/api/v1/plugins", STAFF),
    // --- outgoing webhooks ---
    row("POST", "/api/v1/webhooks", ADMIN),
    row("GET", "/api/v1/webhooks", ADMIN),
    row("DELETE", "/api/v1/webhooks/{id}", ADMIN),
    row("GET", "/api/v1/webhooks/{id}/deliveries", ADMIN),
    row("POST", "/api/v1/webhooks/{id}/replay", ADMIN),
    // --- channels ---
    row("GET", "/api/v1/channels", STAFF),
    row("GET", "/api/v1/channels/email/{name}/quarantine", STAFF),
    // No mail can be quarantined without a mail server, so staff get 404 (no such
    // mail): the row shows the staff check comes first, not that a retry succeeds.
    row(
        "POST",
        "/api/v1/channels/email/{name}/quarantine/{id}/retry",
        [U, U, U, N, N, N, N],
    ),
    row("GET", "/api/v1/channels/email/{name}/mails", STAFF),
    // --- web chat, visitor side ---
    row("POST", "/api/v1/chat/conversations", PUBLIC),
    row("GET", "/api/v1/chat/options", PUBLIC),
    row("GET", "/api/v1/chat/conversations/{id}", VISITOR),
    row("GET", "/api/v1/chat/conversations/{id}/messages", VISITOR),
    row("POST", "/api/v1/chat/conversations/{id}/messages", VISITOR).on(Conv::Fresh),
    row("POST", "/api/v1/chat/conversations/{id}/choice", VISITOR).on(Conv::Fresh),
    row("GET", "/api/v1/chat/conversations/{id}/events", VISITOR),
    row("GET", "/chat", PUBLIC),
    row("GET", "/chat/widget.js", PUBLIC),
    // --- messaging webhooks: the provider's signature decides, never a bearer token ---
    row("GET", "/webhooks/{name}", PUBLIC),
    row("POST", "/webhooks/{name}", PUBLIC),
    // --- console: sign-in ---
    row("GET", "/", PAGE),
    row("GET", "/assets/console.css", PUBLIC),
    row("GET", "/assets/console.js", PUBLIC),
    row("GET", "/login", PUBLIC),
    row("POST", "/login", PUBLIC),
    row("POST", "/logout", POST_PAGE).last(),
    row("GET", "/password/{token}", PUBLIC),
    row("POST", "/password/{token}", PUBLIC),
    row("GET", "/account/password", PAGE),
    row("POST", "/account/password", POST_PAGE).last(),
    // --- console: inbox ---
    row("GET", "/console/inbox", PAGE),
    row("GET", "/console/inbox/{id}", PAGE),
    row("POST", "/console/inbox/{id}/claim", SEATED).on(Conv::Queued),
    row("POST", "/console/inbox/{id}/reply", SEATED).on(Conv::HeldByCaller),
    row("POST", "/console/inbox/{id}/close", POST_PAGE).on(Conv::Queued),
    row("POST", "/console/inbox/{id}/reopen", POST_PAGE).on(Conv::Closed),
    row("POST", "/console/inbox/{id}/handback", ADMIN_POST_PAGE).on(Conv::HeldBySubject),
    row("POST", "/console/inbox/{id}/assign", ADMIN_POST_PAGE).on(Conv::Queued),
    row("POST", "/console/me/availability", POST_PAGE),
    // --- console: handoff settings, agent ---
    row("GET", "/console/agent/handoff", PAGE),
    row("POST", "/console/agent/handoff", EDITOR_POST_PAGE).last(),
    row("POST", "/console/agent/handoff/triggers", EDITOR_POST_PAGE),
    row("POST", "/console/agent/handoff/try", POST_PAGE),
    row("GET", "/console/agent", PAGE),
    row("POST", "/console/agent", EDITOR_POST_PAGE),
    // --- console: people ---
    row("GET", "/console/users", PAGE),
    row("POST", "/console/users", ADMIN_POST_PAGE),
    row("GET", "/console/users/{id}", PAGE),
    row("POST", "/console/users/{id}/profile", ADMIN_POST_PAGE),
    row("POST", "/console/users/{id}/capacity", ADMIN_POST_PAGE),
    row("POST", "/console/users/{id}/availability", ADMIN_POST_PAGE),
    row("POST", "/console/users/{id}/working-hours", ADMIN_POST_PAGE),
    row("POST", "/console/users/{id}/password-link", ADMIN_POST_PAGE),
    row("POST", "/console/users/{id}/tokens", ADMIN_POST_PAGE),
    row("GET", "/console/teams", PAGE),
    row("POST", "/console/teams", ADMIN_POST_PAGE),
    row("GET", "/console/inboxes", PAGE),
    row("POST", "/console/inboxes", ADMIN_POST_PAGE),
    // --- console: workflows, audit, plugins, webhooks ---
    row("GET", "/console/workflows", PAGE),
    row("POST", "/console/workflows", ADMIN_POST_PAGE),
    row("POST", "/console/workflows/from-template", ADMIN_POST_PAGE),
    row("GET", "/console/workflows/{id}", PAGE),
    row("POST", "/console/workflows/{id}", ADMIN_POST_PAGE),
    row("GET", "/console/audit", PAGE),
    row("GET", "/console/plugins", PAGE),
    row("GET", "/console/webhooks", ADMIN_PAGE),
];

/// Routes the server has that neither `/openapi.json` nor the console lists: the chat
/// demo page and widget script (static files of the chat channel).
const UNDOCUMENTED: &[(&str, &str)] = &[("GET", "/chat"), ("GET", "/chat/widget.js")];

const TELEGRAM_SECRET: &str = "e2e-secret_token";
const WHATSAPP_VERIFY: &str = "e2e-verify";

fn config() -> String {
    let path = |name: &str| plugin_library(name).display().to_string();
    // Nothing listens on port 9: the mailbox exists (its lists answer) but never
    // connects, and replies to Telegram fail in the background.
    format!(
        r#"
[webhooks]
allow_private_targets = true

[[plugins]]
name = "telegram"
path = "{telegram}"
config = {{ bot_token = "123456:e2e-token", secret_token = "{TELEGRAM_SECRET}", api_base_url = "http://127.0.0.1:9/telegram" }}

[[plugins]]
name = "whatsapp"
path = "{whatsapp}"
config = {{ verify_token = "{WHATSAPP_VERIFY}", app_secret = "e2e-app-secret", access_token = "e2e-access", phone_number_id = "106540352242922", api_base_url = "http://127.0.0.1:9/graph" }}

[[email.mailboxes]]
name = "support"
address = "support@example.test"
imap = {{ host = "127.0.0.1", port = 9, tls = "none", user = "support", password = "x", folder = "INBOX" }}
smtp = {{ host = "127.0.0.1", port = 9, tls = "none", user = "", password = "" }}
"#,
        telegram = path("channel-telegram"),
        whatsapp = path("channel-whatsapp"),
    )
}

/// One staff member: API token and console session.
struct Member {
    id: i64,
    seated: bool,
    token: String,
    cookie: String,
    email: String,
}

/// Everything the rows refer to, made once.
struct World {
    server: Server,
    owner: Member,
    user: Member,
    admin: Member,
    editor: Member,
    /// The user the `{id}` of user routes names.
    subject: i64,
    subject_email: String,
    /// The shared conversation and its visitor token; `other` is another one's token.
    conversation: i64,
    conversation_token: String,
    other_token: String,
    ticket: i64,
    workflow: i64,
    webhook: i64,
    template: String,
    definition: Value,
}

impl World {
    fn member(&self, caller: Caller) -> Option<&Member> {
        match caller {
            Caller::User => Some(&self.user),
            Caller::Admin => Some(&self.admin),
            Caller::Editor => Some(&self.editor),
            Caller::Owner => Some(&self.owner),
            _ => None,
        }
    }

    /// A new visitor conversation held by the customer agent: (id, visitor token).
    async fn fresh(&self) -> (i64, String) {
        let visitor = self.server.visitor().await;
        (visitor.id, visitor.token)
    }

    /// A new conversation handed off and queued (the subject, its only destination, is
    /// away).
    async fn queued(&self) -> (i64, String) {
        let visitor = self.server.visitor().await;
        visitor
            .say_expect_handoff("I want to talk to a human please")
            .await;
        (visitor.id, visitor.token)
    }

    async fn conversation_for(&self, conv: Conv, caller: Caller) -> (i64, String) {
        match conv {
            Conv::Shared => (self.conversation, self.conversation_token.clone()),
            Conv::Fresh => self.fresh().await,
            Conv::Queued => self.queued().await,
            Conv::HeldBySubject | Conv::HeldByCaller => {
                let holder = match (conv, self.member(caller)) {
                    (Conv::HeldByCaller, Some(member)) if member.seated => member.id,
                    _ => self.subject,
                };
                let (id, token) = self.queued().await;
                let (status, body) = self
                    .server
                    .post(
                        &format!("/api/v1/conversations/{id}/assign"),
                        json!({"user_id": holder}),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "assign to {holder}: {body}");
                (id, token)
            }
            Conv::Closed => {
                let (id, token) = self.queued().await;
                let (status, body) = self
                    .server
                    .post(&format!("/api/v1/conversations/{id}/close"), json!({}))
                    .await;
                assert_eq!(status, StatusCode::OK, "close: {body}");
                (id, token)
            }
        }
    }

    /// A one-time set-password link for a new user, made by the owner; its token. (A
    /// new link replaces the user's earlier ones, so each caller needs a user.)
    async fn password_link(&self) -> String {
        let user = self
            .server
            .create_user(&unique("Linked"), "none", &[], None)
            .await;
        let page = post_form(
            &self.server,
            &format!("/console/users/{user}/password-link"),
            Some(&self.owner.cookie),
            &[],
        )
        .await;
        let html = page.text().await.unwrap();
        let start = html.find("/password/").expect("a set-password link") + "/password/".len();
        html[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

/// Gives `user` a password through a link the owner makes, and signs in.
async fn session_of(server: &Server, owner: &str, user: i64, email: &str) -> String {
    let page = post_form(
        server,
        &format!("/console/users/{user}/password-link"),
        Some(owner),
        &[],
    )
    .await;
    let html = page.text().await.unwrap();
    let start = html.find("/password/").expect("a set-password link") + "/password/".len();
    let token: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let set = post_form(
        server,
        &format!("/password/{token}"),
        None,
        &[("password", PASSWORD), ("repeat", PASSWORD)],
    )
    .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER, "set the password");
    new_session(server, email, PASSWORD).await
}

async fn member(
    server: &Server,
    owner_cookie: &str,
    name: &str,
    seat: &str,
    perms: &[&str],
) -> Member {
    let id = server.create_user(name, seat, perms, Some(5)).await;
    let email = format!("{}@e2e.example", name.to_lowercase().replace(' ', "."));
    let token = server.token_for(id).await;
    let cookie = session_of(server, owner_cookie, id, &email).await;
    Member {
        id,
        seated: seat != "none",
        token,
        cookie,
        email,
    }
}

async fn setup() -> World {
    let server = Server::start_with_config(Backend::Sqlite, config()).await;
    let owner_cookie = signed_in_owner(&server).await;
    let owner = Member {
        id: 1,
        seated: true,
        token: server.token.clone(),
        cookie: owner_cookie.clone(),
        email: "owner@localhost".into(),
    };
    let user = member(&server, &owner_cookie, "Matrix User", "service", &[]).await;
    let admin = member(&server, &owner_cookie, "Matrix Admin", "none", &["admin"]).await;
    let editor = member(
        &server,
        &owner_cookie,
        "Matrix Editor",
        "service",
        &["customer_agent_editor"],
    )
    .await;
    let subject = server
        .create_user("Matrix Subject", "service", &[], Some(50))
        .await;
    let subject_email = "matrix.subject@e2e.example".to_owned();
    // The subject signs in on the `POST /login` row.
    session_of(&server, &owner_cookie, subject, &subject_email).await;

    // Handoffs go to the subject alone, who is away: they queue, and a help desk
    // makes each a ticket.
    server.route_to("live", &[subject], &[]).await;
    let (status, desk) = server
        .post(
            "/api/v1/inboxes",
            json!({"name": "Matrix desk", "kind": "help_desk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{desk}");
    let mut settings = server.settings().await;
    settings["destination"]["inbox_id"] = json!(id_of(&desk));
    server.put_settings(settings).await;
    server
        .set_availability(&server.token, subject, "away")
        .await;

    let (status, templates) = server.get("/api/v1/workflows/templates").await;
    assert_eq!(status, StatusCode::OK, "{templates}");
    let first = &templates["templates"][0];
    let template = first["id"].as_str().unwrap().to_owned();
    let definition = first["definition"].clone();
    let (status, created) = server
        .post(
            "/api/v1/workflows/from-template",
            json!({"template": template}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let workflow = id_of(&created);
    let (status, hook) = server
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let webhook = id_of(&hook);

    let world = World {
        server,
        owner,
        user,
        admin,
        editor,
        subject,
        subject_email,
        conversation: 0,
        conversation_token: String::new(),
        other_token: String::new(),
        ticket: 0,
        workflow,
        webhook,
        template,
        definition,
    };
    let (conversation, conversation_token) = world.queued().await;
    let (_, other_token) = world.fresh().await;
    let ticket = world.server.conversation(conversation).await["ticket_id"]
        .as_i64()
        .expect("the shared conversation has a ticket");
    World {
        conversation,
        conversation_token,
        other_token,
        ticket,
        ..world
    }
}

/// A request ready to send.
struct Prepared {
    path: String,
    body: Body,
    headers: Vec<(String, String)>,
}

enum Body {
    None,
    Json(Value),
    Form(String),
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", random_hex())
}

/// The concrete request of `row` for `caller`: ids, a body the server accepts, and
/// the caller's credentials (a bearer token for the API, the session cookie for pages).
async fn prepare(world: &World, row: &Row, caller: Caller, page: bool) -> Prepared {
    let (conversation, own_token) =
        if row.path.contains("conversations/{id}") || row.path.contains("inbox/{id}") {
            world.conversation_for(row.conv, caller).await
        } else {
            (world.conversation, world.conversation_token.clone())
        };
    let subject = world.subject.to_string();
    let id = match row.path {
        p if p.contains("conversations/{id}") || p.contains("inbox/{id}") => {
            conversation.to_string()
        }
        p if p.contains("users/{id}") => subject.clone(),
        p if p.contains("tickets/{id}") => world.ticket.to_string(),
        p if p.contains("workflows/{id}") => world.workflow.to_string(),
        "/api/v1/webhooks/{id}" => {
            // Each caller deletes a webhook of its own.
            let (status, hook) = world
                .server
                .post(
                    "/api/v1/webhooks",
                    json!({"url": "http://127.0.0.1:9/gone", "events": ["*"]}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{hook}");
            id_of(&hook).to_string()
        }
        p if p.contains("webhooks/{id}") => world.webhook.to_string(),
        p if p.contains("quarantine/{id}") => "999999".into(),
        _ => String::new(),
    };
    let mut path = row
        .path
        .replace("{id}", &id)
        .replace("/email/{name}", "/email/support");
    if row.path == "/password/{token}" {
        path = format!("/password/{}", world.password_link().await);
    }
    let mut headers = Vec::new();
    match (row.method, row.path) {
        ("GET", "/webhooks/{name}") => {
            path = format!(
                "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={WHATSAPP_VERIFY}&hub.challenge=1158201444"
            );
        }
        ("POST", "/webhooks/{name}") => {
            path = "/webhooks/telegram".into();
            headers.push((
                "x-telegram-bot-api-secret-token".into(),
                TELEGRAM_SECRET.into(),
            ));
        }
        _ => {}
    }
    let body = body(world, row, caller).await;

    let member = world.member(caller);
    let visitor_token = match caller {
        Caller::OwnVisitor => Some(own_token),
        Caller::OtherVisitor => Some(world.other_token.clone()),
        _ => None,
    };
    if let Some(token) = visitor_token {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    } else if let Some(member) = member {
        if page {
            let cookie = if row.last {
                // A session of its own: sign-out and a password change end sessions.
                new_session(&world.server, &member.email, PASSWORD).await
            } else {
                member.cookie.clone()
            };
            headers.push(("cookie".into(), cookie));
        } else {
            headers.push(("authorization".into(), format!("Bearer {}", member.token)));
        }
    }
    if page && row.method != "GET" {
        // Same-origin, as the console's own forms: the origin check is not under test.
        headers.push(("origin".into(), world.server.base.clone()));
        headers.push(("sec-fetch-site".into(), "same-origin".into()));
    }
    Prepared {
        path,
        body,
        headers,
    }
}

async fn body(world: &World, row: &Row, caller: Caller) -> Body {
    let subject = world.subject.to_string();
    let json = |v: Value| Body::Json(v);
    let form_of = |pairs: &[(&str, &str)]| Body::Form(form(pairs));
    match (row.method, row.path) {
        ("PUT", "/api/v1/handoff/settings") => {
            let mut settings = world.server.settings().await;
            settings.as_object_mut().unwrap().remove("version");
            json(settings)
        }
        ("POST", "/api/v1/handoff/simulate") => {
            json(json!({"channel": "chat", "text": "where is my order?"}))
        }
        ("PUT", "/api/v1/agent/state") => json(json!({"paused": false})),
        ("POST", "/api/v1/users") => json(json!({
            "name": "Made", "email": format!("{}@e2e.example", unique("made")),
            "seat": "none", "permissions": [],
        })),
        ("PATCH", "/api/v1/users/{id}") => json(json!({"name": "Matrix Subject"})),
        ("POST", "/api/v1/users/{id}/tokens") => json(json!({})),
        ("PUT", "/api/v1/users/{id}/availability") => json(json!({"availability": "away"})),
        ("PUT", "/api/v1/users/{id}/capacity") => json(json!({"capacity": 50})),
        ("PUT", "/api/v1/users/{id}/working_hours") => json(Value::Null),
        ("POST", "/api/v1/teams") => json(json!({"name": unique("team"), "user_ids": []})),
        ("POST", "/api/v1/inboxes") => json(json!({"name": unique("inbox"), "kind": "inbox"})),
        ("POST", "/api/v1/conversations/{id}/assign") => json(json!({"user_id": world.subject})),
        ("POST", "/api/v1/conversations/{id}/messages") => {
            json(json!({"text": "Hello from staff"}))
        }
        ("POST", "/api/v1/workflows") | ("PUT", "/api/v1/workflows/{id}") => {
            json(world.definition.clone())
        }
        ("POST", "/api/v1/workflows/from-template") => json(json!({"template": world.template})),
        ("POST", "/api/v1/webhooks") => json(json!({
            "url": "http://127.0.0.1:9/hook", "events": ["conversation.handoff"],
        })),
        ("POST", "/api/v1/chat/conversations") => json(json!({"visitor": {"name": "Matrix"}})),
        ("POST", "/api/v1/chat/conversations/{id}/messages") => json(json!({"text": "hello"})),
        ("POST", "/api/v1/chat/conversations/{id}/choice") => json(json!({"talk_to": "human"})),
        ("POST", "/webhooks/{name}") => {
            let n =
                1_000 + i64::try_from(CALLERS.iter().position(|&c| c == caller).unwrap()).unwrap();
            json(json!({
                "update_id": n,
                "message": {
                    "message_id": n, "date": 1718000000, "text": "hello",
                    "from": {"id": n, "is_bot": false, "first_name": "Tele"},
                    "chat": {"id": n, "first_name": "Tele", "type": "private"},
                }
            }))
        }
        ("POST", "/login") => form_of(&[
            ("email", &world.subject_email),
            ("password", PASSWORD),
            ("next", "/"),
        ]),
        ("POST", "/password/{token}") => form_of(&[("password", PASSWORD), ("repeat", PASSWORD)]),
        ("POST", "/account/password") => form_of(&[
            ("current", PASSWORD),
            ("password", PASSWORD),
            ("repeat", PASSWORD),
        ]),
        ("POST", "/console/inbox/{id}/reply") => form_of(&[("text", "Hello from the page")]),
        ("POST", "/console/inbox/{id}/assign") => {
            form_of(&[("to", &format!("user:{subject}")), ("from_user_id", "")])
        }
        ("POST", "/console/me/availability") => {
            form_of(&[("availability", "away"), ("back", "/console/inbox")])
        }
        ("POST", "/console/agent/handoff") => form_of(&[
            ("cannot_answer", "on"),
            ("asks_for_human", "on"),
            ("agent_paused", "on"),
            ("user_id", &subject),
        ]),
        ("POST", "/console/agent/handoff/triggers") => form_of(&[("op", "add")]),
        ("POST", "/console/agent/handoff/try") => form_of(&[("text", "where is my order?")]),
        ("POST", "/console/agent") => form_of(&[("paused", "false")]),
        ("POST", "/console/users") => form_of(&[
            ("name", "Made"),
            ("email", &format!("{}@e2e.example", unique("page"))),
            ("seat", "none"),
            ("capacity", ""),
        ]),
        ("POST", "/console/users/{id}/profile") => {
            form_of(&[("name", "Matrix Subject"), ("seat", "service")])
        }
        ("POST", "/console/users/{id}/capacity") => form_of(&[("capacity", "50")]),
        ("POST", "/console/users/{id}/availability") => form_of(&[("availability", "away")]),
        ("POST", "/console/users/{id}/working-hours") => form_of(&[("time_zone", "")]),
        ("POST", "/console/teams") => form_of(&[("name", &unique("team"))]),
        ("POST", "/console/inboxes") => form_of(&[("name", &unique("inbox")), ("kind", "inbox")]),
        ("POST", "/console/workflows") => form_of(&[("name", &unique("flow"))]),
        ("POST", "/console/workflows/from-template") => form_of(&[("template", &world.template)]),
        ("POST", "/console/workflows/{id}") => form_of(&[
            ("definition", &world.definition.to_string()),
            ("op", "refresh"),
        ]),
        ("POST" | "PUT" | "PATCH", _) if !row.path.starts_with("/console/") => json(json!({})),
        _ => Body::None,
    }
}

/// What came back, as a `Want` when it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Want(Want),
    Other(StatusCode, String),
}

impl fmt::Display for Got {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Got::Want(want) => write!(f, "{want:?}"),
            Got::Other(status, body) => write!(f, "{status} {body}"),
        }
    }
}

async fn send(world: &World, row: &Row, caller: Caller, page: bool) -> Got {
    let prepared = prepare(world, row, caller, page).await;
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut req = client().request(method, world.server.url(&prepared.path));
    for (name, value) in &prepared.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    if page {
        req = req.header("accept", "text/html");
    }
    req = match prepared.body {
        Body::None => req,
        Body::Json(value) => req.json(&value),
        Body::Form(text) => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(text),
    };
    let response = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{} {}: {e}", row.method, prepared.path));
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let got = match status.as_u16() {
        200..=299 => Want::Ok,
        // A signed-out page GET goes to sign-in; any other redirect is the page's answer.
        300..=399 if row.method == "GET" && location.starts_with("/login") => Want::L,
        300..=399 => Want::Ok,
        401 => Want::U,
        403 => Want::F,
        404 => Want::N,
        _ => {
            let text = response.text().await.unwrap_or_default();
            return Got::Other(status, text.chars().take(200).collect());
        }
    };
    // An event stream never ends: its status is the answer, and dropping the
    // response closes it.
    Got::Want(got)
}

/// Every (method, path) the server routes: the operations of `/openapi.json`, the
/// console's routes, and the few static files neither lists.
async fn routed(server: &Server) -> BTreeSet<(String, String)> {
    let doc = server.get_ok("/openapi.json").await;
    let mut routes: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    routes.extend(
        baton_console::pages()
            .iter()
            .chain(UNDOCUMENTED)
            .map(|&(m, p)| (m.to_owned(), p.to_owned())),
    );
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_and_page_answers_every_caller_as_specified() {
    let world = setup().await;

    let rows: BTreeSet<(String, String)> = ROWS
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(rows.len(), ROWS.len(), "a (method, path) has two rows");
    let routes = routed(&world.server).await;
    let missing: Vec<String> = routes
        .difference(&rows)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let stale: Vec<String> = rows
        .difference(&routes)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the auth matrix is out of step with the router.\n\
         routes without a row (add one to ROWS): {missing:#?}\n\
         rows the server does not route: {stale:#?}"
    );

    let pages: BTreeSet<(&str, &str)> = baton_console::pages().iter().copied().collect();
    let cases: Vec<(&Row, usize)> = ROWS
        .iter()
        .flat_map(|row| (0..CALLERS.len()).map(move |i| (row, i)))
        .collect();
    let check = |(row, i): (&'static Row, usize)| {
        let world = &world;
        let page = pages.contains(&(row.method, row.path));
        async move {
            let got = send(world, row, CALLERS[i], page).await;
            (row, i, got)
        }
    };
    let mut results: Vec<(&Row, usize, Got)> = futures_util::stream::iter(
        cases
            .iter()
            .copied()
            .filter(|(row, _)| !row.last)
            .map(check),
    )
    .buffer_unordered(8)
    .collect()
    .await;
    for case in cases.iter().copied().filter(|(row, _)| row.last) {
        results.push(check(case).await);
    }

    let mut wrong: Vec<String> = results
        .iter()
        .filter(|(row, i, got)| *got != Got::Want(row.want[*i]))
        .map(|(row, i, got)| {
            format!(
                "{} {} as {:?}: wanted {:?}, got {got}",
                row.method, row.path, CALLERS[*i], row.want[*i]
            )
        })
        .collect();
    wrong.sort();
    assert!(
        wrong.is_empty(),
        "{} of {} answers are not as specified:\n{}",
        wrong.len(),
        results.len(),
        wrong.join("\n")
    );
}
