//! Signing in and out, set-password links, and changing one's own password.

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use baton_auth::password::{self, PasswordError};
use baton_auth::{origin, session};
use baton_http::{hash_token, new_token};
use chrono::Utc;
use serde::Deserialize;

use crate::Console;
use crate::form::Form;
use crate::page::{
    Layout, Notice, Section, SignedIn, error_page, has_session, ok, render, see_other,
    store_error_page,
};

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/password/{token}", get(link_page).post(set_password))
        .route("/account/password", get(account_page).post(change_password))
}

/// The client's address, when the server was started with connection info.
#[derive(Debug)]
pub(crate) struct ClientAddr(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip().to_string()),
        ))
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
    email: Option<String>,
    notice: Option<String>,
}

/// Only a path on this site: `next` must never send the person elsewhere.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

async fn login_page(
    State(console): State<Console>,
    parts: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    // Already signed in: straight on.
    if has_session(&console, &parts).await {
        return Redirect::to(safe_next(q.next.as_deref().unwrap_or("/"))).into_response();
    }
    ok(&LoginPage {
        email: q.email.unwrap_or_default(),
        next: safe_next(q.next.as_deref().unwrap_or("/")).to_owned(),
        error: None,
        notice: Notice { notice: q.notice }.text(),
    })
}

async fn login(
    State(console): State<Console>,
    headers: HeaderMap,
    ClientAddr(address): ClientAddr,
    form: Form,
) -> Response {
    // A forged sign-in would put the person in an attacker's account.
    if let Err(refusal) = origin::check(&headers) {
        return error_page(StatusCode::FORBIDDEN, &refusal.to_string());
    }
    let email = form.get("email").trim().to_owned();
    let next = safe_next(form.get("next")).to_owned();
    let refuse = |status: StatusCode, message: String| {
        render(
            status,
            &LoginPage {
                email: email.clone(),
                next: next.clone(),
                error: Some(message),
                notice: None,
            },
        )
    };
    let limiter = &console.auth.limiter;
    if let Err(limited) = limiter.check(&email, address.as_deref(), Instant::now()) {
        let seconds = limited.retry_after.as_secs();
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins. Try again in {} minute{}.",
                seconds.div_ceil(60),
                if seconds.div_ceil(60) == 1 { "" } else { "s" }
            ),
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let store = console.engine().store();
    let credentials = match store.user_credentials(&email).await {
        Ok(credentials) => credentials,
        Err(error) => return store_error_page(error),
    };
    let (user, phc) = match credentials {
        Some(c) => (Some(c.user), c.password_hash),
        None => (None, None),
    };
    let matches = password::verify(phc, form.get("password").to_owned(), console.auth.cost).await;
    let Some(user) = user.filter(|_| matches) else {
        limiter.failed(&email, address.as_deref(), Instant::now());
        return refuse(
            StatusCode::UNAUTHORIZED,
            "The email or the password is wrong.".into(),
        );
    };
    limiter.succeeded(&email, Instant::now());
    let token = new_token();
    let now = Utc::now();
    let expires =
        now + chrono::Duration::from_std(console.auth.sessions.absolute).unwrap_or_default();
    if let Err(error) = store
        .create_session(user.id, &hash_token(&token), expires, now)
        .await
    {
        return store_error_page(error);
    }
    tracing::info!(user = user.id.0, "signed in");
    let cookie = session::set_cookie(
        &token,
        &console.auth.sessions,
        session::over_https(&headers),
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn logout(State(console): State<Console>, headers: HeaderMap, who: SignedIn) -> Response {
    if let Some(hash) = who.session_hash()
        && let Err(error) = console
            .engine()
            .store()
            .revoke_session(hash, Utc::now())
            .await
    {
        return store_error_page(error);
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&session::clear_cookie(session::over_https(&headers)))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Template)]
#[template(path = "password.html")]
struct LinkPage {
    email: String,
    error_password: Option<String>,
    error_repeat: Option<String>,
}

fn password_error(error: &PasswordError) -> String {
    match error {
        PasswordError::Hash(_) => "The password could not be stored; try again.".into(),
        other => format!(
            "{}{}.",
            other.to_string()[..1].to_uppercase(),
            &other.to_string()[1..]
        ),
    }
}

/// Length and repetition, named by field; `None` when both are right.
fn check_new_password(form: &Form) -> Option<(Option<String>, Option<String>)> {
    let new = form.get("password");
    if let Err(error) = password::check_new(new) {
        return Some((Some(password_error(&error)), None));
    }
    if form.get("repeat") != new {
        return Some((None, Some("The two passwords differ.".into())));
    }
    None
}

fn used_link() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "This link was used already or has expired. Ask an admin for a new one.",
    )
}

async fn link_page(State(console): State<Console>, Path(token): Path<String>) -> Response {
    match console
        .engine()
        .store()
        .password_link_user(&hash_token(&token), Utc::now())
        .await
    {
        Ok(Some(user)) => ok(&LinkPage {
            email: user.email,
            error_password: None,
            error_repeat: None,
        }),
        Ok(None) => used_link(),
        Err(error) => store_error_page(error),
    }
}

async fn set_password(
    State(console): State<Console>,
    Path(token): Path<String>,
    headers: HeaderMap,
    form: Form,
) -> Response {
    if let Err(refusal) = origin::check(&headers) {
        return error_page(StatusCode::FORBIDDEN, &refusal.to_string());
    }
    let store = console.engine().store();
    let token_hash = hash_token(&token);
    let user = match store.password_link_user(&token_hash, Utc::now()).await {
        Ok(Some(user)) => user,
        Ok(None) => return used_link(),
        Err(error) => return store_error_page(error),
    };
    if let Some((error_password, error_repeat)) = check_new_password(&form) {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &LinkPage {
                email: user.email,
                error_password,
                error_repeat,
            },
        );
    }
    let phc = match password::hash(form.get("password").to_owned(), console.auth.cost).await {
        Ok(phc) => phc,
        Err(error) => {
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, &password_error(&error));
        }
    };
    match store
        .redeem_password_link(&token_hash, &phc, Utc::now())
        .await
    {
        Ok(user) => Redirect::to(&format!(
            "/login?notice=password&email={}",
            crate::page::encode(&user.email)
        ))
        .into_response(),
        Err(baton_engine::StoreError::NotFound { .. }) => used_link(),
        Err(error) => store_error_page(error),
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    error_current: Option<String>,
    error_password: Option<String>,
    error_repeat: Option<String>,
}

async fn account_page(who: SignedIn, Query(notice): Query<Notice>) -> Response {
    ok(&AccountPage {
        layout: Layout::new("Your password", Section::Account, &who).with_flash(notice.text()),
        email: who.user.email.clone(),
        error_current: None,
        error_password: None,
        error_repeat: None,
    })
}

async fn change_password(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    let store = console.engine().store();
    let refuse = |current: Option<String>, new: Option<String>, repeat: Option<String>| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AccountPage {
                layout: Layout::new("Your password", Section::Account, &who),
                email: who.user.email.clone(),
                error_current: current,
                error_password: new,
                error_repeat: repeat,
            },
        )
    };
    let stored = match store.user_credentials(&who.user.email).await {
        Ok(c) => c.and_then(|c| c.password_hash),
        Err(error) => return store_error_page(error),
    };
    if !password::verify(stored, form.get("current").to_owned(), console.auth.cost).await {
        return refuse(Some("The current password is wrong.".into()), None, None);
    }
    if let Some((new, repeat)) = check_new_password(&form) {
        return refuse(None, new, repeat);
    }
    let phc = match password::hash(form.get("password").to_owned(), console.auth.cost).await {
        Ok(phc) => phc,
        Err(error) => {
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, &password_error(&error));
        }
    };
    match store
        .change_password(who.user.id, &phc, who.session_hash(), Utc::now())
        .await
    {
        Ok(()) => see_other("/account/password", "password"),
        Err(error) => store_error_page(error),
    }
}
