//! `/console/webhooks` (B15): the outgoing webhook subscriptions, admin only as in the
//! API, each with its state — active, failing since a time, or disabled and why — and
//! its last attempt. Subscriptions are made through `POST /api/v1/webhooks`, which
//! shows the signing secret once.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use baton_engine::model::Webhook;

use crate::Console;
use crate::page::{Layout, Notice, Section, SignedIn, ok, store_error_page};

pub(crate) fn routes() -> Router<Console> {
    Router::new().route("/console/webhooks", get(webhooks))
}

struct Row {
    url: String,
    events: String,
    /// `active`, `failing` or `disabled`: the badge.
    state: &'static str,
    /// Why it is disabled, or since when it fails.
    detail: Option<String>,
    last_attempt: Option<String>,
}

impl From<Webhook> for Row {
    fn from(w: Webhook) -> Self {
        let (state, detail) = match (&w.disabled_at, &w.failing_since) {
            (Some(at), _) => (
                "disabled",
                Some(format!(
                    "{} ({})",
                    w.disabled_reason.clone().unwrap_or_default(),
                    at.format("%Y-%m-%d %H:%M UTC")
                )),
            ),
            (None, Some(since)) => (
                "failing",
                Some(format!(
                    "Failing since {}",
                    since.format("%Y-%m-%d %H:%M UTC")
                )),
            ),
            (None, None) => ("active", None),
        };
        Row {
            url: w.url,
            events: w.events.join(", "),
            state,
            detail,
            last_attempt: w.last_attempt_at.map(|at| {
                let status = w
                    .last_status
                    .map_or_else(|| "no answer".to_owned(), |s| format!("HTTP {s}"));
                format!("{} — {status}", at.format("%Y-%m-%d %H:%M:%S UTC"))
            }),
        }
    }
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    rows: Vec<Row>,
}

async fn webhooks(
    State(console): State<Console>,
    who: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    if let Err(refusal) = who.require_admin() {
        return refusal;
    }
    let list = match console.engine().store().webhooks().await {
        Ok(list) => list,
        Err(error) => return store_error_page(error),
    };
    ok(&WebhooksPage {
        layout: Layout::new("Webhooks", Section::Webhooks, &who).with_flash(notice.text()),
        rows: list.into_iter().map(Row::from).collect(),
    })
}
