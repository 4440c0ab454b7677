//! Driving the console over HTTP as a browser would: same-origin form posts, the
//! session cookie, the printed owner link.

use std::time::Duration;

use reqwest::header::{HeaderMap, SET_COOKIE};

use crate::{Server, StatusCode};

pub const PASSWORD: &str = "correct horse battery";

/// A client that follows no redirect, so that 303s and cookies can be checked.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A same-origin form post, as the console's own pages make it.
pub async fn post_form(
    server: &Server,
    path: &str,
    cookie: Option<&str>,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    let mut headers = vec![
        ("origin", server.base.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    headers.extend(cookie.map(|cookie| ("cookie", cookie)));
    post_form_with(server, path, &headers, form(pairs)).await
}

/// A form post carrying `headers` and no others (cookie, origin, Fetch Metadata): what
/// a browser sends from elsewhere, or a client that is no browser.
pub async fn post_form_with(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> reqwest::Response {
    let mut req = client()
        .post(server.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

pub async fn get_page(server: &Server, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = client().get(server.url(path)).header("accept", "text/html");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

/// The status of a page GET: 200 shows it, 303 sends to sign-in.
pub async fn page_status(server: &Server, path: &str, cookie: Option<&str>) -> StatusCode {
    get_page(server, path, cookie).await.status()
}

pub fn session_cookie(headers: &HeaderMap) -> Option<(String, String)> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("baton_session=") && !v.starts_with("baton_session=;"))
        .map(|v| {
            let pair = v.split(';').next().unwrap().to_owned();
            (pair, v.to_owned())
        })
}

/// Follows the printed link, sets `password`, and returns the link's path.
pub async fn set_owner_password(server: &Server, password: &str) -> String {
    let link = server.owner_password_link().await;
    assert!(link.starts_with(&server.base), "{link}");
    let path = link[server.base.len()..].to_owned();
    let page = get_page(server, &path, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("owner@localhost"));
    let set = post_form(
        server,
        &path,
        None,
        &[("password", password), ("repeat", password)],
    )
    .await;
    assert_eq!(
        set.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        set.text().await
    );
    path
}

pub async fn sign_in(server: &Server, email: &str, password: &str) -> reqwest::Response {
    post_form(
        server,
        "/login",
        None,
        &[("email", email), ("password", password), ("next", "/")],
    )
    .await
}

/// The session cookie (`baton_session=…`) of a new sign-in.
pub async fn new_session(server: &Server, email: &str, password: &str) -> String {
    session_cookie(sign_in(server, email, password).await.headers())
        .unwrap()
        .0
}

pub async fn signed_in_owner(server: &Server) -> String {
    set_owner_password(server, PASSWORD).await;
    let response = sign_in(server, "owner@localhost", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    session_cookie(response.headers()).unwrap().0
}
