//! The plugins this host loaded (or failed to load), and the customer agent's switch:
//! answering or paused, changed through `Engine::set_agent_paused` with the permission
//! `PUT /api/v1/agent/state` requires (customer agent editor).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use baton_core::people::Permission;

use crate::form::Form;
use crate::page::{Layout, Notice, Section, SignedIn, error_page, ok, see_other, store_error_page};
use crate::{Console, FailedPlugin, LoadedPlugin};

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/console/plugins", get(plugins))
        .route("/console/agent", get(agent).post(switch_agent))
}

#[derive(Template)]
#[template(path = "plugins.html")]
struct PluginsPage {
    layout: Layout,
    loaded: Vec<LoadedPlugin>,
    failed: Vec<FailedPlugin>,
}

async fn plugins(
    State(console): State<Console>,
    who: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let report = console.catalog.plugins();
    ok(&PluginsPage {
        layout: Layout::new("Plugins", Section::Plugins, &who).with_flash(notice.text()),
        loaded: report.loaded,
        failed: report.failed,
    })
}

#[derive(Template)]
#[template(path = "agent.html")]
struct AgentPage {
    layout: Layout,
    paused: bool,
    can_switch: bool,
}

/// Who may pause and resume the agent: as the API's `PUT /api/v1/agent/state`.
fn can_switch(who: &SignedIn) -> bool {
    who.user.has(Permission::CustomerAgentEditor)
}

async fn agent(
    State(console): State<Console>,
    who: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let paused = match console.engine().agent_paused().await {
        Ok(paused) => paused,
        Err(error) => return store_error_page(error),
    };
    ok(&AgentPage {
        layout: Layout::new("Agent switch", Section::Agent, &who).with_flash(notice.text()),
        paused,
        can_switch: can_switch(&who),
    })
}

async fn switch_agent(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    if !can_switch(&who) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Pausing or resuming the customer agent needs the customer agent editor permission.",
        );
    }
    let paused = match form.get("paused") {
        "true" => true,
        "false" => false,
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The form says neither pause nor resume.",
            );
        }
    };
    match console.engine().set_agent_paused(who.user.id, paused).await {
        Ok(true) => see_other("/console/agent", "paused"),
        Ok(false) => see_other("/console/agent", "resumed"),
        Err(error) => store_error_page(error),
    }
}
