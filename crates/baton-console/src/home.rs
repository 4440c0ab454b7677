//! `/`: signed out, the sign-in page; signed in, the console.

use crate::Console;
use crate::page::has_session;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

pub(crate) fn routes() -> Router<Console> {
    Router::new().route("/", get(home))
}

/// The console's first page.
pub(crate) const START: &str = "/console/inbox";

async fn home(State(console): State<Console>, headers: HeaderMap) -> Response {
    if has_session(&console, &headers).await {
        Redirect::to(START).into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}
