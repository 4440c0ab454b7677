//! The agent inbox (B8): the views Unassigned, Mine and All open, oldest waiting first;
//! a conversation's page (the handoff pinned at the top, the ticket, the transcript, the
//! reply box, claim, close, reopen, hand back, reassign); and the signed-in user's own
//! availability switch in every page's header.
//!
//! Every action is the use case the JSON API calls (`api/conversations.rs`,
//! `api/people.rs`), with the same permission checks; a refusal is shown on the page.
//! `?fragment=list` and `?fragment=conversation` return only the part console.js swaps
//! in when the staff event stream says something changed: the same rendering as a
//! fresh load, so the live page never drifts from it.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use baton_core::ids::{ConversationId, TeamId, UserId};
use baton_core::people::Availability;
use baton_engine::StoreError;
use baton_engine::model::{Assignee, Author, Conversation, ConversationStatus, User, View};

use crate::Console;
use crate::form::Form;
use crate::page::{
    Layout, Notice, Section, SignedIn, error_page, ok, render, see_other, store_error_page,
};

pub(crate) const PATH: &str = "/console/inbox";

/// Conversations on one page of a view.
const PAGE: u64 = 50;

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route(PATH, get(list))
        .route("/console/inbox/{id}", get(show))
        .route("/console/inbox/{id}/claim", post(claim))
        .route("/console/inbox/{id}/reply", post(reply))
        .route("/console/inbox/{id}/close", post(close))
        .route("/console/inbox/{id}/reopen", post(reopen))
        .route("/console/inbox/{id}/handback", post(handback))
        .route("/console/inbox/{id}/assign", post(assign))
        .route("/console/me/availability", post(availability))
}

// --- the list --------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Unassigned,
    Mine,
    Open,
}

impl Tab {
    fn parse(value: Option<&str>) -> Option<Tab> {
        match value.unwrap_or("unassigned") {
            "unassigned" => Some(Tab::Unassigned),
            "mine" => Some(Tab::Mine),
            "open" => Some(Tab::Open),
            _ => None,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Tab::Unassigned => "unassigned",
            Tab::Mine => "mine",
            Tab::Open => "open",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Unassigned => "Unassigned",
            Tab::Mine => "Mine",
            Tab::Open => "All open",
        }
    }

    fn view(self, me: UserId) -> View {
        match self {
            Tab::Unassigned => View::Unassigned,
            Tab::Mine => View::Mine(me),
            Tab::Open => View::Open,
        }
    }
}

pub(crate) struct TabLink {
    pub(crate) key: &'static str,
    pub(crate) label: &'static str,
    /// How many conversations the view holds.
    pub(crate) count: u64,
    pub(crate) current: bool,
}

pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) visitor: String,
    pub(crate) email: String,
    pub(crate) channel: String,
    pub(crate) reason: String,
    pub(crate) waiting_since: String,
    pub(crate) waiting_iso: String,
    pub(crate) assignee: String,
    pub(crate) queued: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    /// What console.js re-fetches: this page's list alone.
    fragment: String,
    tabs: Vec<TabLink>,
    tab: &'static str,
    tab_label: &'static str,
    rows: Vec<Row>,
    /// The cursor of the next page, when there is one.
    next: Option<i64>,
    /// Past the first page.
    paged: bool,
    /// Unassigned conversations waiting now (console.js badges the title when it grows).
    waiting: u64,
}

#[derive(Template)]
#[template(path = "inbox_list.html")]
struct InboxList {
    tabs: Vec<TabLink>,
    tab: &'static str,
    tab_label: &'static str,
    rows: Vec<Row>,
    next: Option<i64>,
    paged: bool,
    waiting: u64,
}

#[derive(Debug, serde::Deserialize, Default)]
struct ListQuery {
    view: Option<String>,
    /// The last conversation of the previous page (keyset paging).
    after: Option<i64>,
    fragment: Option<String>,
    notice: Option<String>,
}

fn visitor_name(c: &Conversation) -> String {
    c.visitor
        .name
        .clone()
        .or_else(|| c.visitor.email.clone())
        .unwrap_or_else(|| format!("Visitor #{}", c.id.0))
}

fn assignee_name(assignee: Assignee, queued: bool, names: &HashMap<UserId, String>) -> String {
    match assignee {
        Assignee::Agent => "Customer agent".into(),
        Assignee::User(u) => names
            .get(&u)
            .cloned()
            .unwrap_or_else(|| format!("User {}", u.0)),
        Assignee::None if queued => "Nobody (queued)".into(),
        Assignee::None => "Nobody".into(),
    }
}

fn row(c: &Conversation, names: &HashMap<UserId, String>) -> Row {
    let (reason, since) = match &c.handoff {
        Some(h) => (reason_text(&h.trigger_kind, h.matched.as_deref()), h.at),
        None => ("No handoff".into(), c.created_at),
    };
    Row {
        id: c.id.0,
        visitor: visitor_name(c),
        email: c.visitor.email.clone().unwrap_or_default(),
        channel: c.channel.clone(),
        reason,
        waiting_since: since.format("%Y-%m-%d %H:%M UTC").to_string(),
        waiting_iso: since.to_rfc3339(),
        assignee: assignee_name(c.assignee, c.queued, names),
        queued: c.queued,
    }
}

fn reason_text(kind: &str, matched: Option<&str>) -> String {
    let kind = kind.replace('_', " ");
    match matched {
        Some(m) => format!("{kind}: “{m}”"),
        None => kind,
    }
}

async fn names(console: &Console) -> Result<(Vec<User>, HashMap<UserId, String>), StoreError> {
    let users = console.engine().store().users().await?;
    let names = users.iter().map(|u| (u.id, u.name.clone())).collect();
    Ok((users, names))
}

async fn list(
    State(console): State<Console>,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Response {
    let Some(tab) = Tab::parse(q.view.as_deref()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The view is one of unassigned, mine, open.",
        );
    };
    let store = console.engine().store();
    let (_, names) = match names(&console).await {
        Ok(found) => found,
        Err(error) => return store_error_page(error),
    };
    // The counts are kept by the store; only the view shown is read, a page and one more.
    let counts = match store.view_counts(who.user.id).await {
        Ok(counts) => counts,
        Err(error) => return store_error_page(error),
    };
    let current = match store
        .conversations(tab.view(who.user.id), q.after.map(ConversationId), PAGE + 1)
        .await
    {
        Ok(found) => found,
        Err(error) => return store_error_page(error),
    };
    let waiting = counts.unassigned;
    let tabs = [
        (Tab::Unassigned, counts.unassigned),
        (Tab::Mine, counts.mine),
        (Tab::Open, counts.open),
    ]
    .into_iter()
    .map(|(t, count)| TabLink {
        key: t.key(),
        label: t.label(),
        count,
        current: t == tab,
    })
    .collect();
    let more = current.len() as u64 > PAGE;
    let rows: Vec<Row> = current
        .iter()
        .take(PAGE as usize)
        .map(|c| row(c, &names))
        .collect();
    let next = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let paged = q.after.is_some();
    if q.fragment.as_deref() == Some("list") {
        return ok(&InboxList {
            tabs,
            tab: tab.key(),
            tab_label: tab.label(),
            rows,
            next,
            paged,
            waiting,
        });
    }
    let mut path = format!("{PATH}?view={}", tab.key());
    if let Some(after) = q.after {
        path.push_str(&format!("&after={after}"));
    }
    ok(&InboxPage {
        layout: Layout::new("Inbox", Section::Inbox, &who)
            .with_flash(Notice { notice: q.notice }.text())
            .returning_to(path.clone()),
        fragment: format!("{path}&fragment=list"),
        tabs,
        tab: tab.key(),
        tab_label: tab.label(),
        rows,
        next,
        paged,
        waiting,
    })
}

// --- one conversation ------------------------------------------------------------

pub(crate) struct Turn {
    /// `visitor`, `assistant`, `human` or `system`: the class and the label.
    pub(crate) kind: &'static str,
    pub(crate) label: String,
    pub(crate) text: String,
    pub(crate) at: String,
    pub(crate) at_iso: String,
}

pub(crate) struct Pinned {
    pub(crate) reason: String,
    pub(crate) matched: Option<String>,
    pub(crate) process: String,
    pub(crate) at: String,
    pub(crate) summary: String,
}

pub(crate) struct TicketView {
    pub(crate) id: i64,
    pub(crate) status: String,
    pub(crate) priority: String,
}

pub(crate) struct Choice {
    pub(crate) id: i64,
    pub(crate) name: String,
}

/// What a refused action shows on the page.
#[derive(Default)]
pub(crate) struct Problem {
    /// Next to the reply box.
    pub(crate) reply: Option<String>,
    /// Next to the reassign select.
    pub(crate) assign: Option<String>,
    /// At the top (a conflict: "Already taken by Ann").
    pub(crate) general: Option<String>,
    /// The reply text the person typed, kept.
    pub(crate) text: String,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    layout: Layout,
    c: ConversationView,
}

#[derive(Template)]
#[template(path = "conversation_body.html")]
struct ConversationBody {
    c: ConversationView,
}

pub(crate) struct ConversationView {
    pub(crate) id: i64,
    pub(crate) visitor: String,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) channel: String,
    pub(crate) open: bool,
    pub(crate) queued: bool,
    pub(crate) assignee: String,
    pub(crate) mine: bool,
    pub(crate) unheld: bool,
    /// The holder's id, sent back with a reassign (an owner is never replaced silently).
    pub(crate) holder: Option<i64>,
    /// The visitor's earlier conversation (closed by staff) that this one carries on.
    pub(crate) previous: Option<i64>,
    pub(crate) pinned: Option<Pinned>,
    pub(crate) ticket: Option<TicketView>,
    pub(crate) turns: Vec<Turn>,
    pub(crate) can_hand_back: bool,
    pub(crate) can_reassign: bool,
    pub(crate) seated: Vec<Choice>,
    /// Teams to reassign to: a member takes it under the routing rules.
    pub(crate) teams: Vec<Choice>,
    /// An email conversation's mails as received (its messages hold the new text only).
    pub(crate) mails: Vec<MailView>,
    pub(crate) problem: Problem,
}

pub(crate) struct MailView {
    pub(crate) from: String,
    pub(crate) subject: String,
    pub(crate) at: String,
    pub(crate) at_iso: String,
    pub(crate) text: String,
    pub(crate) attachments: Vec<String>,
}

async fn conversation_view(
    console: &Console,
    who: &SignedIn,
    id: ConversationId,
    problem: Problem,
) -> Result<ConversationView, StoreError> {
    let store = console.engine().store();
    let c = store.conversation(id).await?;
    let messages = store.messages(id, None).await?;
    let (users, names) = names(console).await?;
    let mails = if c.channel == "email" {
        console
            .catalog
            .received_mails(id)
            .await
            .into_iter()
            .map(|m| MailView {
                from: m.from,
                subject: m.subject,
                at: m.received_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                at_iso: m.received_at.to_rfc3339(),
                text: m.text,
                attachments: m.attachments,
            })
            .collect()
    } else {
        Vec::new()
    };
    let teams = if who.is_admin() {
        store.teams().await?
    } else {
        Vec::new()
    };
    let ticket = match c.ticket_id {
        Some(t) => {
            let t = store.ticket(t).await?;
            Some(TicketView {
                id: t.id.0,
                status: t.status.replace('_', " "),
                priority: t.priority,
            })
        }
        None => None,
    };
    let turns = messages
        .into_iter()
        .map(|m| {
            let (kind, label) = match m.author {
                Author::Visitor => ("visitor", format!("Visitor · {}", visitor_name(&c))),
                Author::Agent => ("assistant", "Customer agent".to_owned()),
                Author::System => ("system", "System".to_owned()),
                Author::User => (
                    "human",
                    match m.author_user_id.and_then(|u| names.get(&u)) {
                        Some(name) => format!("Staff · {name}"),
                        None => "Staff".to_owned(),
                    },
                ),
            };
            Turn {
                kind,
                label,
                text: m.text,
                at: m.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                at_iso: m.created_at.to_rfc3339(),
            }
        })
        .collect();
    let holder = match c.assignee {
        Assignee::User(u) => Some(u),
        _ => None,
    };
    let open = c.status == ConversationStatus::Open;
    let is_admin = who.is_admin();
    Ok(ConversationView {
        id: c.id.0,
        visitor: visitor_name(&c),
        name: c.visitor.name.clone(),
        email: c.visitor.email.clone(),
        channel: c.channel.clone(),
        open,
        queued: c.queued,
        assignee: assignee_name(c.assignee, c.queued, &names),
        mine: holder == Some(who.user.id),
        unheld: c.assignee == Assignee::None,
        holder: holder.map(|u| u.0),
        previous: c.previous_conversation_id.map(|p| p.0),
        pinned: c.handoff.as_ref().map(|h| Pinned {
            reason: h.trigger_kind.replace('_', " "),
            matched: h.matched.clone(),
            process: h.process.as_str().to_owned(),
            at: h.at.format("%Y-%m-%d %H:%M UTC").to_string(),
            summary: h.summary.clone(),
        }),
        ticket,
        turns,
        // As the API's handback: the holder or an admin; anyone when nobody holds it.
        can_hand_back: open
            && c.assignee != Assignee::Agent
            && (holder.is_none() || holder == Some(who.user.id) || is_admin),
        // As the API's assign: admins.
        can_reassign: open && is_admin,
        seated: users
            .iter()
            .filter(|u| u.seat.is_paid() && Some(u.id) != holder)
            .map(|u| Choice {
                id: u.id.0,
                name: u.name.clone(),
            })
            .collect(),
        mails,
        teams: teams
            .into_iter()
            .map(|t| Choice {
                id: t.id.0,
                name: t.name,
            })
            .collect(),
        problem,
    })
}

fn conversation_path(id: i64) -> String {
    format!("{PATH}/{id}")
}

async fn respond(
    console: &Console,
    who: &SignedIn,
    id: i64,
    status: StatusCode,
    flash: Option<String>,
    problem: Problem,
) -> Response {
    match conversation_view(console, who, ConversationId(id), problem).await {
        Ok(c) => render(
            status,
            &ConversationPage {
                layout: Layout::new(
                    format!("Conversation with {}", c.visitor),
                    Section::Inbox,
                    who,
                )
                .with_flash(flash)
                .returning_to(conversation_path(id)),
                c,
            },
        ),
        Err(error) => store_error_page(error),
    }
}

#[derive(Debug, serde::Deserialize, Default)]
struct ShowQuery {
    fragment: Option<String>,
    notice: Option<String>,
}

async fn show(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Response {
    if q.fragment.as_deref() == Some("conversation") {
        return match conversation_view(&console, &who, ConversationId(id), Problem::default()).await
        {
            Ok(c) => ok(&ConversationBody { c }),
            Err(error) => store_error_page(error),
        };
    }
    let flash = Notice { notice: q.notice }.text();
    respond(
        &console,
        &who,
        id,
        StatusCode::OK,
        flash,
        Problem::default(),
    )
    .await
}

/// A refusal shown on the conversation's page: field errors next to their field,
/// conflicts at the top, the rest as the error pages every console page uses.
async fn refused(
    console: &Console,
    who: &SignedIn,
    id: i64,
    error: StoreError,
    text: &str,
) -> Response {
    let mut problem = Problem {
        text: text.to_owned(),
        ..Problem::default()
    };
    let status = match error {
        StoreError::Invalid(e) if e.field == "text" => {
            problem.reply = Some(e.message);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        StoreError::Invalid(e) if e.field == "user_id" || e.field == "from_user_id" => {
            problem.assign = Some(e.message);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        StoreError::Conflict(message) => {
            problem.general = Some(message);
            StatusCode::CONFLICT
        }
        other => return store_error_page(other),
    };
    respond(console, who, id, status, None, problem).await
}

/// Claim is atomic in the store; the loser is told who has it now.
async fn claim(State(console): State<Console>, who: SignedIn, Path(id): Path<i64>) -> Response {
    if let Err(refusal) = who.require_paid_seat() {
        return refusal;
    }
    match console
        .engine()
        .claim(ConversationId(id), who.user.id)
        .await
    {
        Ok(_) => see_other(&conversation_path(id), "claimed"),
        Err(StoreError::Conflict(message)) => {
            let store = console.engine().store();
            let holder = match store.conversation(ConversationId(id)).await {
                Ok(c) => match c.assignee {
                    Assignee::User(u) => Some(u),
                    _ => None,
                },
                Err(error) => return store_error_page(error),
            };
            let general = match holder {
                Some(u) => {
                    let name = match names(&console).await {
                        Ok((_, names)) => names.get(&u).cloned(),
                        Err(error) => return store_error_page(error),
                    };
                    format!(
                        "Already taken by {}.",
                        name.unwrap_or_else(|| format!("user {}", u.0))
                    )
                }
                None => message,
            };
            let problem = Problem {
                general: Some(general),
                ..Problem::default()
            };
            respond(&console, &who, id, StatusCode::CONFLICT, None, problem).await
        }
        Err(error) => refused(&console, &who, id, error, "").await,
    }
}

async fn reply(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<i64>,
    form: Form,
) -> Response {
    if let Err(refusal) = who.require_paid_seat() {
        return refusal;
    }
    let text = form.get("text");
    if text.len() > baton_http::MAX_TEXT_BYTES {
        return error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "A message has at most {} bytes.",
                baton_http::MAX_TEXT_BYTES
            ),
        );
    }
    match console
        .engine()
        .staff_reply(ConversationId(id), who.user.id, text)
        .await
    {
        Ok(_) => see_other(&conversation_path(id), "sent"),
        Err(error) => refused(&console, &who, id, error, text).await,
    }
}

async fn close(State(console): State<Console>, who: SignedIn, Path(id): Path<i64>) -> Response {
    match console
        .engine()
        .close(ConversationId(id), who.user.id)
        .await
    {
        Ok(_) => see_other(&conversation_path(id), "closed"),
        Err(error) => refused(&console, &who, id, error, "").await,
    }
}

async fn reopen(State(console): State<Console>, who: SignedIn, Path(id): Path<i64>) -> Response {
    match console
        .engine()
        .reopen(ConversationId(id), who.user.id)
        .await
    {
        Ok(_) => see_other(&conversation_path(id), "reopened"),
        Err(error) => refused(&console, &who, id, error, "").await,
    }
}

/// As `POST /api/v1/conversations/{id}/handback`: the holder or an admin (anyone when
/// nobody holds it), against the holder the check read.
async fn handback(State(console): State<Console>, who: SignedIn, Path(id): Path<i64>) -> Response {
    let cid = ConversationId(id);
    let conversation = match console.engine().store().conversation(cid).await {
        Ok(c) => c,
        Err(error) => return store_error_page(error),
    };
    if !conversation.may_hand_back(&who.user) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Someone else holds this conversation: only they or an admin can hand it back.",
        );
    }
    match console
        .engine()
        .hand_back(cid, who.user.id, Some(conversation.assignee))
        .await
    {
        Ok(_) => see_other(&conversation_path(id), "handed_back"),
        Err(error) => refused(&console, &who, id, error, "").await,
    }
}

/// As `POST /api/v1/conversations/{id}/assign`: admins, under the routing rule, naming
/// the holder the page showed.
enum Target {
    User(UserId),
    Team(TeamId),
}

async fn assign(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<i64>,
    form: Form,
) -> Response {
    if let Err(refusal) = who.require_admin() {
        return refusal;
    }
    let problem = |message: &str| Problem {
        assign: Some(message.to_owned()),
        ..Problem::default()
    };
    // `user:ID` or `team:ID`: one select offers people and teams.
    let target = form.get("to").split_once(':').and_then(|(kind, id)| {
        let id = id.parse::<i64>().ok()?;
        match kind {
            "user" => Some(Target::User(UserId(id))),
            "team" => Some(Target::Team(TeamId(id))),
            _ => None,
        }
    });
    let Some(target) = target else {
        return respond(
            &console,
            &who,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            problem("Choose who takes the conversation."),
        )
        .await;
    };
    let from = match form.get("from_user_id") {
        "" => None,
        value => match value.parse::<i64>() {
            Ok(v) => Some(UserId(v)),
            Err(_) => {
                return error_page(StatusCode::BAD_REQUEST, "The form's holder is not a user.");
            }
        },
    };
    let engine = console.engine();
    let done = match target {
        Target::User(user) => {
            engine
                .assign(ConversationId(id), user, from, who.user.id)
                .await
        }
        Target::Team(team) => {
            engine
                .assign_team(ConversationId(id), team, from, who.user.id)
                .await
        }
    };
    match done {
        Ok(_) => see_other(&conversation_path(id), "reassigned"),
        Err(StoreError::Invalid(e)) => {
            respond(
                &console,
                &who,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                problem(&e.message),
            )
            .await
        }
        Err(error) => refused(&console, &who, id, error, "").await,
    }
}

// --- the header's availability switch --------------------------------------------

/// Only a console path: the form's `back` must never send the person elsewhere.
fn back_to(back: &str) -> &str {
    if back.starts_with("/console/") && !back.contains("//") && !back.contains('\\') {
        back
    } else {
        PATH
    }
}

/// The user's own switch, as `PUT /api/v1/users/{id}/availability` on oneself: routing
/// honours it at once (the engine drains the queue into a user who becomes available).
async fn availability(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    let (availability, notice) = match form.get("availability") {
        "available" => (Availability::Available, "available"),
        "away" => (Availability::Away, "away"),
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The form says neither available nor away.",
            );
        }
    };
    match console
        .engine()
        .set_availability(who.user.id, availability)
        .await
    {
        Ok(_) => see_other(back_to(form.get("back")), notice),
        Err(error) => store_error_page(error),
    }
}
