//! Customer agent → Management → Human handoff: the reference product's settings page
//! (custom triggers in a side panel, the handoff process, the destination, the messages
//! the chosen process uses, keep-open or close) and "Try a message" (simulate, B5).

mod draft;
mod page;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use baton_core::settings::{FieldError, check_trigger_list};
use baton_engine::StoreError;

use crate::Console;
use crate::form::Form;
use crate::page::{Notice, SignedIn, error_page, see_other, store_error_page};
use draft::Draft;
use page::{HandoffPage, TryResult};

pub(crate) const PATH: &str = "/console/agent/handoff";

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route(PATH, get(show).post(save))
        .route("/console/agent/handoff/triggers", post(triggers))
        .route("/console/agent/handoff/try", post(try_message))
}

#[derive(Debug, serde::Deserialize, Default)]
struct ShowQuery {
    notice: Option<String>,
    /// `triggers` opens the side panel (the pencil without the script).
    panel: Option<String>,
}

async fn show(
    State(console): State<Console>,
    who: SignedIn,
    Query(q): Query<ShowQuery>,
) -> Response {
    let stored = match console.engine().settings().await {
        Ok(stored) => stored,
        Err(error) => return store_error_page(error),
    };
    let draft = Draft::stored(&stored);
    let flash = Notice { notice: q.notice }.text();
    HandoffPage::build(&console, &who, draft, flash)
        .await
        .map(|mut page| {
            page.panel_open = q.panel.as_deref() == Some("triggers");
            page.respond(StatusCode::OK)
        })
        .unwrap_or_else(store_error_page)
}

fn read_only(who: &SignedIn) -> Option<Response> {
    (!who.can_edit_settings()).then(|| {
        error_page(
            StatusCode::FORBIDDEN,
            "Editing the handoff settings needs the customer agent editor permission and a \
             paid (sales or service) seat.",
        )
    })
}

/// Saves through the engine over the version the page showed; a refusal re-renders
/// the page with what the person typed and the error next to its field.
async fn put(console: &Console, who: &SignedIn, draft: Draft, panel_open: bool) -> Response {
    let result = match draft.to_settings() {
        Ok(settings) => console
            .engine()
            .put_settings(who.user.id, settings, Some(draft.version))
            .await
            .map(|_| ()),
        Err(error) => Err(StoreError::Invalid(error)),
    };
    let (status, conflict, error, draft) = match result {
        Ok(()) => return see_other(PATH, "saved"),
        Err(StoreError::Invalid(error)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, None, Some(error), draft)
        }
        Err(StoreError::Conflict(_)) => {
            // Someone saved meanwhile: keep what this person typed, say so, and base a
            // second Save on the new version — overwriting is then a choice, not an
            // accident.
            let current = match console.engine().settings().await {
                Ok(current) => current,
                Err(error) => return store_error_page(error),
            };
            let mut draft = draft;
            draft.version = current.version;
            (StatusCode::CONFLICT, Some(current.version), None, draft)
        }
        Err(other) => return store_error_page(other),
    };
    match HandoffPage::build(console, who, draft, None).await {
        Ok(mut page) => {
            page.conflict = conflict;
            page.error = error;
            page.panel_open = panel_open;
            page.respond(status)
        }
        Err(error) => store_error_page(error),
    }
}

async fn stored_draft(console: &Console) -> Result<Draft, Response> {
    console
        .engine()
        .settings()
        .await
        .map(|s| Draft::stored(&s))
        .map_err(store_error_page)
}

async fn save(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    if let Some(refused) = read_only(&who) {
        return refused;
    }
    let stored = match stored_draft(&console).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    let draft = Draft::from_form(&form, &stored);
    put(&console, &who, draft, false).await
}

/// The side panel: `op` is `add`, `delete:<i>` (without the script, the server edits
/// the list and shows the panel again, nothing saved) or `save`.
async fn triggers(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    if let Some(refused) = read_only(&who) {
        return refused;
    }
    let mut draft = match stored_draft(&console).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    draft.version = form.get("version").parse().unwrap_or(draft.version);
    draft.triggers = form.all("trigger");
    let op = form.get("op");
    if op == "add" {
        draft.triggers.push(String::new());
        return show_panel(&console, &who, draft, None).await;
    }
    if let Some(index) = op
        .strip_prefix("delete:")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if index < draft.triggers.len() {
            draft.triggers.remove(index);
        }
        return show_panel(&console, &who, draft, None).await;
    }
    if let Err(error) = check_trigger_list(&draft.triggers) {
        return show_panel(&console, &who, draft, Some(error)).await;
    }
    put(&console, &who, draft, true).await
}

/// The page with the side panel open on `draft`'s triggers, unsaved.
async fn show_panel(
    console: &Console,
    who: &SignedIn,
    draft: Draft,
    error: Option<FieldError>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    match HandoffPage::build(console, who, draft, None).await {
        Ok(mut page) => {
            page.panel_open = true;
            page.error = error;
            page.respond(status)
        }
        Err(error) => store_error_page(error),
    }
}

/// "Try a message" without the script: the decision under the stored settings. (With
/// the script, the page asks the API's simulate with the unsaved edits as a draft.)
async fn try_message(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    let text = form.get("text").to_owned();
    let stored = match stored_draft(&console).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    let (status, result) = if text.trim().is_empty() {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            TryResult::error(&text, "Write a message to try."),
        )
    } else {
        match console.engine().simulate(&text, "chat", None).await {
            Ok(simulation) => (
                StatusCode::OK,
                TryResult::from_decision(&text, &simulation.decision),
            ),
            Err(error) => return store_error_page(error),
        }
    };
    match HandoffPage::build(&console, &who, stored, None).await {
        Ok(mut page) => {
            page.try_result = Some(result);
            page.respond(status)
        }
        Err(error) => store_error_page(error),
    }
}
