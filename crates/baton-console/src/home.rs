//! `/`: signed out, the sign-in page; signed in, the console.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use baton_auth::session;
use baton_http::hash_token;
use chrono::Utc;

use crate::Console;

pub(crate) fn routes() -> Router<Console> {
    Router::new().route("/", get(home))
}

/// The console's first page.
pub(crate) const START: &str = "/console/inbox";

async fn home(State(console): State<Console>, headers: HeaderMap) -> Response {
    let signed_in = match session::token(&headers) {
        Some(token) => matches!(
            console
                .engine()
                .store()
                .session_user(&hash_token(token), console.auth.sessions.idle, Utc::now())
                .await,
            Ok(Some(_))
        ),
        None => false,
    };
    if signed_in {
        Redirect::to(START).into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}
