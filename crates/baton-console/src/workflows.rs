//! Workflows (F9): the list, creating one from a template or from scratch, and the
//! editor. The editor is one form: every button posts the definition the page was
//! rendered from (hidden JSON) with the visible fields and an `op`; the server applies
//! the fields and the op and shows the editor again without saving, and "Save workflow"
//! stores the result through the store, whose validation errors come back next to the
//! field they name. The same store calls as `POST/PUT /api/v1/workflows` and
//! `POST /api/v1/workflows/from-template`, with the same permission (admin).

mod edit;
mod view;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use baton_core::ids::{TeamId, WorkflowId};
use baton_core::settings::FieldError;
use baton_engine::StoreError;
use baton_workflows::{Definition, Enrollment, ObjectType};
use chrono::Utc;

use crate::Console;
use crate::form::Form;
use crate::page::{
    Layout, Notice, Section, SignedIn, error_page, render, see_other, store_error_page,
};
use edit::Op;
use view::{Editor, Shown, TeamChoice, UserChoice};

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/console/workflows", get(list).post(create))
        .route("/console/workflows/from-template", post(from_template))
        .route("/console/workflows/{id}", get(editor).post(edit))
}

// --- the list -------------------------------------------------------------------------

struct Row {
    id: i64,
    name: String,
    ticket: bool,
    complete: bool,
    actions: usize,
}

struct TemplateChoice {
    id: String,
    name: String,
    description: String,
}

#[derive(Template)]
#[template(path = "workflows.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    templates: Vec<TemplateChoice>,
    is_admin: bool,
    new_name: String,
    error_name: Option<String>,
    chosen_template: String,
    error_template: Option<String>,
}

/// What a refused create form shows again.
#[derive(Default)]
struct Refused {
    new_name: String,
    error_name: Option<String>,
    chosen_template: String,
    error_template: Option<String>,
}

async fn list_page(
    console: &Console,
    who: &SignedIn,
    flash: Option<String>,
    status: StatusCode,
    refused: Refused,
) -> Response {
    let workflows = match console.engine().store().workflows().await {
        Ok(workflows) => workflows,
        Err(error) => return store_error_page(error),
    };
    let templates = console
        .catalog
        .templates()
        .into_iter()
        .map(|(id, definition)| TemplateChoice {
            description: baton_workflows::TEMPLATES
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.description.to_owned())
                .unwrap_or_default(),
            id,
            name: definition.name,
        })
        .collect();
    render(
        status,
        &ListPage {
            layout: Layout::new("Workflows", Section::Workflows, who).with_flash(flash),
            rows: workflows
                .into_iter()
                .map(|w| Row {
                    id: w.id.0,
                    ticket: w.definition.is_ticket_based(),
                    complete: w.definition.is_complete(),
                    actions: w.definition.actions.len(),
                    name: w.definition.name,
                })
                .collect(),
            templates,
            is_admin: who.is_admin(),
            new_name: refused.new_name,
            error_name: refused.error_name,
            chosen_template: refused.chosen_template,
            error_template: refused.error_template,
        },
    )
}

async fn list(
    State(console): State<Console>,
    who: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    list_page(
        &console,
        &who,
        notice.text(),
        StatusCode::OK,
        Refused::default(),
    )
    .await
}

fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The list again after a refused create form, with what `refused` shows.
async fn refuse_create(console: &Console, who: &SignedIn, refused: Refused) -> Response {
    list_page(
        console,
        who,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
        refused,
    )
    .await
}

/// Stores a new workflow and opens it in the editor; a definition the store refuses
/// shows the list again, with what `refused` makes of the store's field error.
async fn store_new(
    console: &Console,
    who: &SignedIn,
    definition: Definition,
    refused: impl FnOnce(FieldError) -> Refused,
) -> Response {
    match console
        .engine()
        .store()
        .create_workflow(definition, Utc::now())
        .await
    {
        Ok(workflow) => see_other(&format!("/console/workflows/{}", workflow.id.0), "created"),
        Err(StoreError::Invalid(error)) => refuse_create(console, who, refused(error)).await,
        Err(error) => store_error_page(error),
    }
}

/// From scratch: a ticket-based workflow enrolled by handoffs, with no actions yet.
async fn create(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    if let Err(refusal) = who.require_admin() {
        return refusal;
    }
    let name = form.get("name").to_owned();
    let definition = Definition {
        name: name.clone(),
        object: ObjectType::Ticket,
        enrollment: Enrollment::TicketCreatedByHandoff,
        actions: Vec::new(),
    };
    store_new(&console, &who, definition, |error| {
        let message = if error.field == "name" {
            sentence(&error.message)
        } else {
            format!("{}: {}", error.field, error.message)
        };
        Refused {
            new_name: name,
            error_name: Some(message),
            ..Refused::default()
        }
    })
    .await
}

/// As `POST /api/v1/workflows/from-template`: the template's definition, stored as is.
async fn from_template(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    if let Err(refusal) = who.require_admin() {
        return refusal;
    }
    let chosen = form.get("template").to_owned();
    let definition = console
        .catalog
        .templates()
        .into_iter()
        .find(|(id, _)| *id == chosen)
        .map(|(_, definition)| definition);
    let refuse = |message: String| Refused {
        chosen_template: chosen.clone(),
        error_template: Some(message),
        ..Refused::default()
    };
    let Some(definition) = definition else {
        let refused = refuse(format!("There is no template \"{chosen}\"."));
        return refuse_create(&console, &who, refused).await;
    };
    store_new(&console, &who, definition, |error| {
        refuse(format!(
            "The template does not validate: {}: {}",
            error.field, error.message
        ))
    })
    .await
}

// --- the editor -----------------------------------------------------------------------

/// The one field error of an editor page, as the summary at the top shows it.
struct Summary {
    anchor: Option<String>,
    name: String,
    message: String,
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct EditorPage {
    layout: Layout,
    id: i64,
    heading: String,
    name: String,
    ticket_based: bool,
    complete: bool,
    readonly: bool,
    definition_json: String,
    actions: String,
    error_name: Option<String>,
    error_object: Option<String>,
    summary: Option<Summary>,
    note: Option<String>,
}

fn parse_id(id: &str) -> Option<WorkflowId> {
    id.parse().ok().map(WorkflowId)
}

fn no_such_workflow() -> Response {
    error_page(StatusCode::NOT_FOUND, "There is no such workflow.")
}

/// Users (paid seat or not, so that the page can say why one cannot be chosen) and teams.
async fn directory(console: &Console) -> Result<(Vec<UserChoice>, Vec<TeamChoice>), StoreError> {
    let store = console.engine().store();
    let users = store.users().await?;
    let teams = store.teams().await?;
    Ok((
        users
            .into_iter()
            .map(|u| UserChoice {
                id: u.id.0,
                paid: u.seat.is_paid(),
                name: u.name,
                email: u.email,
            })
            .collect(),
        teams
            .into_iter()
            .map(|t| TeamChoice {
                id: t.id.0,
                name: t.name,
            })
            .collect(),
    ))
}

/// What an editor page shows besides the definition.
struct Shape<'a> {
    flash: Option<String>,
    error: Option<&'a FieldError>,
    note: Option<String>,
    status: StatusCode,
}

async fn editor_page(
    console: &Console,
    who: &SignedIn,
    id: WorkflowId,
    definition: &Definition,
    shape: Shape<'_>,
) -> Response {
    let (users, teams) = match directory(console).await {
        Ok(directory) => directory,
        Err(error) => return store_error_page(error),
    };
    let mut editor = Editor {
        users: &users,
        teams: &teams,
        error: shape.error,
        shown: None,
    };
    let error_name = editor.exact("name", "wf-name", "name");
    let error_object = editor.exact("object", "wf-object", "object");
    let actions = match editor.actions(&definition.actions, "actions", "", 0) {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(%error, "rendering the workflow editor");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page failed to render.",
            );
        }
    };
    let summary = shape.error.map(|error| match &editor.shown {
        Some(Shown { anchor, name }) => Summary {
            anchor: Some(anchor.clone()),
            name: name.clone(),
            message: sentence(&error.message),
        },
        None => Summary {
            anchor: None,
            name: error.field.clone(),
            message: sentence(&error.message),
        },
    });
    let definition_json = match serde_json::to_string(definition) {
        Ok(json) => json,
        Err(error) => {
            tracing::error!(%error, "a workflow definition does not serialize");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page failed to render.",
            );
        }
    };
    let title = if definition.name.trim().is_empty() {
        "Workflow".to_owned()
    } else {
        format!("Workflow: {}", definition.name)
    };
    render(
        shape.status,
        &EditorPage {
            layout: Layout::new(title.clone(), Section::Workflows, who).with_flash(shape.flash),
            id: id.0,
            heading: title,
            name: definition.name.clone(),
            ticket_based: definition.is_ticket_based(),
            complete: definition.is_complete(),
            readonly: !who.is_admin(),
            definition_json,
            actions,
            error_name,
            error_object,
            summary,
            note: shape.note,
        },
    )
}

async fn editor(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return no_such_workflow();
    };
    let workflow = match console.engine().store().workflow(id).await {
        Ok(workflow) => workflow,
        Err(StoreError::NotFound { .. }) => return no_such_workflow(),
        Err(error) => return store_error_page(error),
    };
    let shape = Shape {
        flash: notice.text(),
        error: None,
        note: None,
        status: StatusCode::OK,
    };
    editor_page(&console, &who, id, &workflow.definition, shape).await
}

/// A re-rendered editor: 422 with a field error, else 200 with a note.
fn shape<'a>(error: Option<&'a FieldError>, note: Option<&str>) -> Shape<'a> {
    Shape {
        flash: None,
        status: if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        note: note.map(str::to_owned),
        error,
    }
}

const UNSAVED: &str = "Not saved yet: press \"Save workflow\" to keep these changes.";

async fn edit(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(refusal) = who.require_admin() {
        return refusal;
    }
    let Some(id) = parse_id(&id) else {
        return no_such_workflow();
    };
    let store = console.engine().store();
    if let Err(error) = store.workflow(id).await {
        return match error {
            StoreError::NotFound { .. } => no_such_workflow(),
            error => store_error_page(error),
        };
    }
    let Ok(base) = serde_json::from_str::<Definition>(form.get("definition")) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The editor's form is incomplete; open the workflow again.",
        );
    };
    let Some(op) = Op::parse(form.get("op")) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The editor sent an unknown operation.",
        );
    };
    let read = edit::read(base, &form);
    let mut definition = read.definition;
    if read.error.is_some() {
        // A value that is not even of its type: nothing else is applied.
        return editor_page(
            &console,
            &who,
            id,
            &definition,
            shape(read.error.as_ref(), None),
        )
        .await;
    }
    if op != Op::Save || read.reshaped {
        let team = match store.teams().await {
            Ok(teams) => teams.first().map(|t| TeamId(t.id.0)),
            Err(error) => return store_error_page(error),
        };
        let note = if read.reshaped {
            "A condition changed type: fill in its fields, then save."
        } else if edit::apply(&mut definition, &op, &form, team) {
            UNSAVED
        } else {
            "That part of the workflow is no longer on the page; nothing was changed."
        };
        return editor_page(&console, &who, id, &definition, shape(None, Some(note))).await;
    }
    match store
        .update_workflow(id, definition.clone(), Utc::now())
        .await
    {
        Ok(workflow) => see_other(&format!("/console/workflows/{}", workflow.id.0), "saved"),
        Err(StoreError::Invalid(error)) => {
            editor_page(&console, &who, id, &definition, shape(Some(&error), None)).await
        }
        Err(error) => store_error_page(error),
    }
}

#[cfg(test)]
mod tests {
    use super::view::id_of;

    #[test]
    fn ids_follow_field_paths() {
        assert_eq!(
            id_of("actions[0].arms[1].actions[2].user_ids"),
            "f-actions-0-arms-1-actions-2-user_ids"
        );
    }
}
