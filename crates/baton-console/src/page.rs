//! What every page shares: who is signed in (or the way to sign in), the layout, the
//! security headers, and the HTML error pages.

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use baton_auth::{AuthFailure, AuthState, Credential, authenticate};
use baton_core::people::{Permission, can_edit_settings};
use baton_engine::model::User;

use crate::Console;

/// No inline script or style, nothing from elsewhere, no framing, forms post here only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Set-password links carry their token in the path: never in a Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The signed-in staff member of a page request. Signed out, a GET is sent to the
/// sign-in page (and back afterwards); anything else is refused.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub(crate) user: User,
    pub(crate) credential: Credential,
    /// The staff stream's position when the request arrived, before the page read
    /// anything: the page's live script resumes after it, so nothing that changes
    /// between the rendering and the stream's start is missed.
    pub(crate) stream_after: Option<String>,
}

impl SignedIn {
    pub(crate) fn is_admin(&self) -> bool {
        self.user.has(Permission::Admin)
    }

    pub(crate) fn can_edit_settings(&self) -> bool {
        can_edit_settings(self.user.seat, &self.user.permissions)
    }

    /// The hash of this session's token, when signed in by cookie.
    pub(crate) fn session_hash(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { token_hash } => Some(token_hash),
            Credential::Token => None,
        }
    }

    /// A 403 page unless the user has a paid seat (as the API's claim and reply).
    // The refusal is the handler's whole response: boxing it would buy nothing.
    #[allow(clippy::result_large_err)]
    pub(crate) fn require_paid_seat(&self) -> Result<(), Response> {
        if self.user.seat.is_paid() {
            Ok(())
        } else {
            Err(error_page(
                StatusCode::FORBIDDEN,
                "Holding or answering a conversation needs a paid (sales or service) seat.",
            ))
        }
    }

    /// A 403 page unless the user is an admin.
    // The refusal is the handler's whole response: boxing it would buy nothing.
    #[allow(clippy::result_large_err)]
    pub(crate) fn require_admin(&self) -> Result<(), Response> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(error_page(
                StatusCode::FORBIDDEN,
                "This needs the admin permission.",
            ))
        }
    }
}

impl FromRequestParts<Console> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Console) -> Result<Self, Response> {
        let auth: &AuthState = &state.auth;
        match authenticate(parts, auth).await {
            Ok((user, credential)) => Ok(SignedIn {
                user,
                credential,
                stream_after: state.catalog.stream_position(),
            }),
            Err(AuthFailure::Forgery(refusal)) => {
                Err(error_page(StatusCode::FORBIDDEN, &refusal.to_string()))
            }
            Err(AuthFailure::Store(error)) => {
                tracing::error!(%error, "authenticating a page request");
                Err(error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The server failed; the cause is in its log.",
                ))
            }
            Err(_) if parts.method == axum::http::Method::GET => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let target = format!("/login?next={}", encode(next));
                Err(Redirect::to(&target).into_response())
            }
            Err(_) => Err(error_page(
                StatusCode::UNAUTHORIZED,
                "You are signed out. Sign in again, then repeat what you did.",
            )),
        }
    }
}

/// Whether the request carries a live session cookie (for pages anyone may open, which
/// only lead elsewhere when signed in).
pub(crate) async fn has_session(console: &Console, headers: &axum::http::HeaderMap) -> bool {
    let Some(token) = baton_auth::session::token(headers) else {
        return false;
    };
    matches!(
        console
            .engine()
            .store()
            .session_user(
                &baton_http::hash_token(token),
                console.auth.sessions.idle,
                chrono::Utc::now()
            )
            .await,
        Ok(Some(_))
    )
}

/// Percent-encodes a query value.
pub(crate) fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Which part of the console a page belongs to (the navigation marks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Inbox,
    Handoff,
    Agent,
    Users,
    Teams,
    Inboxes,
    Workflows,
    Audit,
    Plugins,
    Webhooks,
    Account,
}

/// The frame around every signed-in page.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) title: String,
    pub(crate) section: Section,
    pub(crate) user_name: String,
    /// A notice at the top of the page ("Saved."), if any.
    pub(crate) flash: Option<String>,
    /// The signed-in user's own switch, shown in the header: `available` or `away`.
    pub(crate) availability: &'static str,
    /// Where the availability form returns to.
    pub(crate) back: String,
    /// See [`SignedIn::stream_after`].
    pub(crate) stream_after: String,
}

impl Layout {
    pub(crate) fn new(title: impl Into<String>, section: Section, who: &SignedIn) -> Self {
        Layout {
            title: title.into(),
            section,
            user_name: who.user.name.clone(),
            flash: None,
            availability: who.user.availability.as_str(),
            back: String::new(),
            stream_after: who.stream_after.clone().unwrap_or_default(),
        }
    }

    /// The page the header's availability switch returns to.
    pub(crate) fn returning_to(mut self, path: impl Into<String>) -> Self {
        self.back = path.into();
        self
    }

    pub(crate) fn is_available(&self) -> bool {
        self.availability == "available"
    }

    pub(crate) fn with_flash(mut self, flash: Option<String>) -> Self {
        self.flash = flash;
        self
    }

    /// `aria-current="page"` for the navigation link of `section`.
    pub(crate) fn current(&self, section: &str) -> &'static str {
        let here = match self.section {
            Section::Inbox => "inbox",
            Section::Handoff => "handoff",
            Section::Agent => "agent",
            Section::Users => "users",
            Section::Teams => "teams",
            Section::Inboxes => "inboxes",
            Section::Workflows => "workflows",
            Section::Audit => "audit",
            Section::Plugins => "plugins",
            Section::Webhooks => "webhooks",
            Section::Account => "account",
        };
        if here == section { "page" } else { "false" }
    }
}

/// Renders a template as a page with `status`.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>The page failed to render.</p>"),
            )
                .into_response()
        }
    }
}

pub(crate) fn ok(template: &impl Template) -> Response {
    render(StatusCode::OK, template)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    heading: &'a str,
    message: &'a str,
}

/// A plain page for an error, with a way back.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let heading = status.canonical_reason().unwrap_or("Error");
    render(
        status,
        &ErrorPage {
            status: status.as_u16(),
            heading,
            message,
        },
    )
}

/// The 404 a browser sees for a page that does not exist.
pub fn not_found_page() -> Response {
    let mut response = error_page(StatusCode::NOT_FOUND, "There is no page at this address.");
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

/// A redirect after a successful form post, with the code of a notice for the next
/// page (codes, not text: a link cannot make the console say something of its own).
pub(crate) fn see_other(path: &str, notice: &str) -> Response {
    let separator = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{separator}notice={}", encode(notice))).into_response()
}

/// Maps an engine error to a page: field errors are the caller's to show next to the
/// field; these are the others.
pub(crate) fn store_error_page(error: baton_engine::StoreError) -> Response {
    use baton_engine::StoreError;
    match error {
        StoreError::NotFound { .. } => error_page(StatusCode::NOT_FOUND, &error.to_string()),
        StoreError::Conflict(message) => error_page(StatusCode::CONFLICT, &message),
        StoreError::Invalid(e) => error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{}: {}", e.field, e.message),
        ),
        StoreError::Backend(cause) => {
            tracing::error!(%cause, "database error on a page");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server failed; the cause is in its log.",
            )
        }
    }
}

/// The `notice` query parameter a redirect left.
#[derive(Debug, serde::Deserialize, Default)]
pub(crate) struct Notice {
    pub(crate) notice: Option<String>,
}

impl Notice {
    /// The sentence of a known notice code; unknown codes show nothing.
    pub(crate) fn text(&self) -> Option<String> {
        let text = match self.notice.as_deref()? {
            "saved" => "Saved.",
            "created" => "Created.",
            "user_created" => {
                "User created. Send them the set-password link below; it is shown once."
            }
            "deleted" => "Deleted.",
            "password" => "Your password is set.",
            "paused" => "The customer agent is paused: every conversation goes to your team.",
            "resumed" => "The customer agent answers again.",
            "link" => "A new set-password link was made; it is shown once, below.",
            "token" => "A new API token was made; it is shown once, below.",
            "claimed" => "You took the conversation.",
            "sent" => "Sent.",
            "closed" => "The conversation is closed.",
            "reopened" => "The conversation is open again, with the customer agent.",
            "handed_back" => "The customer agent has the conversation again.",
            "reassigned" => "The conversation is reassigned.",
            "available" => "You are available: new conversations can be routed to you.",
            "away" => "You are away: nothing new is routed to you.",
            "conflict" => {
                "Someone else saved these settings meanwhile; this page now shows theirs."
            }
            _ => return None,
        };
        Some(text.to_owned())
    }
}
