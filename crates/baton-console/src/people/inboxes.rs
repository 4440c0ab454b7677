//! `/console/inboxes`: inboxes and help desks, and for admins the form that adds one
//! (as `POST /api/v1/inboxes` does).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use baton_core::people::check_name;
use baton_engine::StoreError;
use baton_engine::model::InboxKind;

use super::{Choice, Errors, check, respond};
use crate::Console;
use crate::form::Form;
use crate::page::{Layout, Notice, Section, SignedIn, see_other, store_error_page};

const TITLE: &str = "Inboxes and help desks";
const KINDS: [InboxKind; 2] = [InboxKind::Inbox, InboxKind::HelpDesk];

pub(super) fn routes() -> Router<Console> {
    Router::new().route("/console/inboxes", get(inboxes_page).post(create_inbox))
}

fn kind_label(kind: InboxKind) -> &'static str {
    match kind {
        InboxKind::Inbox => "Inbox",
        InboxKind::HelpDesk => "Help desk",
    }
}

fn kind_hint(kind: InboxKind) -> &'static str {
    match kind {
        InboxKind::Inbox => "Conversations only.",
        InboxKind::HelpDesk => "Handoffs here make tickets, which workflows can assign.",
    }
}

#[derive(Debug, Clone)]
struct InboxRow {
    name: String,
    kind: &'static str,
}

#[derive(Debug, Clone)]
struct KindChoice {
    choice: Choice,
    hint: &'static str,
}

#[derive(Template)]
#[template(path = "inboxes.html")]
struct InboxesPage {
    layout: Layout,
    inboxes: Vec<InboxRow>,
    admin: bool,
    name: String,
    kinds: Vec<KindChoice>,
    errors: Errors,
}

async fn page(
    console: &Console,
    layout: Layout,
    who: &SignedIn,
    form: Option<&Form>,
    errors: Errors,
) -> Result<InboxesPage, Response> {
    let inboxes = console
        .engine()
        .store()
        .inboxes()
        .await
        .map_err(store_error_page)?;
    let kind = form.map(|f| f.get("kind")).unwrap_or("inbox");
    Ok(InboxesPage {
        layout,
        inboxes: inboxes
            .into_iter()
            .map(|inbox| InboxRow {
                name: inbox.name,
                kind: kind_label(inbox.kind),
            })
            .collect(),
        admin: who.is_admin(),
        name: form.map(|f| f.get("name").to_owned()).unwrap_or_default(),
        kinds: KINDS
            .iter()
            .map(|k| KindChoice {
                choice: Choice::new(k.as_str(), kind_label(*k), k.as_str() == kind),
                hint: kind_hint(*k),
            })
            .collect(),
        errors,
    })
}

async fn inboxes_page(
    State(console): State<Console>,
    who: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let layout = Layout::new(TITLE, Section::Inboxes, &who).with_flash(notice.text());
    let page = page(&console, layout, &who, None, Errors::default()).await;
    respond(StatusCode::OK, page)
}

async fn create_inbox(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    if let Err(refusal) = who.require_admin() {
        return refusal;
    }
    let mut errors = Errors::default();
    let name = check(&mut errors, "name", check_name("name", form.get("name")));
    let kind = KINDS.into_iter().find(|k| k.as_str() == form.get("kind"));
    if kind.is_none() {
        errors.add("kind", "choose Inbox or Help desk");
    }
    let refuse = async |errors: Errors| {
        let layout = Layout::new(TITLE, Section::Inboxes, &who);
        let page = page(&console, layout, &who, Some(&form), errors).await;
        respond(StatusCode::UNPROCESSABLE_ENTITY, page)
    };
    let (Some(name), Some(kind)) = (name, kind) else {
        return refuse(errors).await;
    };
    match console.engine().store().create_inbox(&name, kind).await {
        Ok(_) => see_other("/console/inboxes", "created"),
        Err(StoreError::Invalid(error)) if error.field == "name" => {
            refuse(Errors::one("name", &error.message)).await
        }
        Err(error) => store_error_page(error),
    }
}
