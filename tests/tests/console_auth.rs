//! Staff sign-in over real HTTP: the printed owner link, sessions (cookie flags, idle
//! and absolute expiry, sign-out, revocation by a password change), the origin check
//! that refuses cross-site posts carrying the cookie, the sign-in rate limit, and the
//! wall between visitor tokens and staff pages and endpoints.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use baton_e2e::console::{
    PASSWORD, client, form, get_page, new_session, page_status, post_form, post_form_with,
    session_cookie, set_owner_password, sign_in, signed_in_owner,
};
use baton_e2e::{Backend, Server, StatusCode, scenarios};
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::json;

scenarios!(
    first_start_link_sets_the_owner_password_and_signs_in,
    cross_site_posts_with_the_cookie_are_refused,
    visitor_tokens_open_no_staff_page_or_endpoint,
    sign_out_and_password_change_revoke_sessions,
);

async fn first_start_link_sets_the_owner_password_and_signs_in(server: &Server) {
    // Signed out, `/` leads to the sign-in page.
    let home = get_page(server, "/", None).await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()[LOCATION], "/login");
    let login = get_page(server, "/login", None).await;
    assert_eq!(login.status(), StatusCode::OK);
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );

    let path = set_owner_password(server, PASSWORD).await;
    // The link is one-time.
    assert_eq!(
        get_page(server, &path, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let again = post_form(
        server,
        &path,
        None,
        &[
            ("password", "another password"),
            ("repeat", "another password"),
        ],
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // A wrong password: 401 with the email kept; the right one (email in another case).
    let wrong = sign_in(server, "owner@localhost", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(wrong.headers()).is_none());
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("value=\"owner@localhost\"")
    );
    let ok = sign_in(server, "Owner@Localhost", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let (cookie, set_cookie) = session_cookie(ok.headers()).unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    // Behind a TLS proxy the cookie is Secure.
    let proxied = post_form_with(
        server,
        "/login",
        &[
            ("sec-fetch-site", "same-origin"),
            ("x-forwarded-proto", "https"),
        ],
        form(&[("email", "owner@localhost"), ("password", PASSWORD)]),
    )
    .await;
    assert!(
        session_cookie(proxied.headers())
            .unwrap()
            .1
            .contains("; Secure")
    );

    // Signed in, `/` leads to the console, and the cookie works for the API too.
    let home = get_page(server, "/", Some(&cookie)).await;
    assert_eq!(home.headers()[LOCATION], "/console/inbox");
    let page = get_page(server, "/console/agent/handoff", Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Human handoff"));
    let api = client()
        .get(server.url("/api/v1/handoff/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    // Bearer tokens keep working.
    assert_eq!(
        server.get("/api/v1/handoff/settings").await.0,
        StatusCode::OK
    );

    // Unknown pages: HTML for browsers, JSON for the API.
    let missing = get_page(server, "/no/such/page", None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(
        missing.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let (status, body) = server.get("/api/v1/no/such").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

async fn cross_site_posts_with_the_cookie_are_refused(server: &Server) {
    let cookie = signed_in_owner(server).await;
    let before = server.settings().await["version"].clone();
    // The handoff page's form with the cookie and `headers`.
    let save = async |headers: &[(&str, &str)]| {
        let headers = [headers, &[("cookie", cookie.as_str())]].concat();
        let body = form(&[("version", "1"), ("process", "none")]);
        post_form_with(server, "/console/agent/handoff", &headers, body).await
    };
    // Fetch Metadata says cross-site: refused, whatever Origin says.
    let forged = save(&[
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ])
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // No Fetch Metadata: the Origin decides.
    let foreign = save(&[("origin", "https://evil.example")]).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    // Neither: refused too.
    let bare = save(&[]).await;
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    // The JSON API with the cookie is guarded the same way.
    let pause = async |site: &str| {
        client()
            .put(server.url("/api/v1/agent/state"))
            .header("cookie", &cookie)
            .header("sec-fetch-site", site)
            .json(&json!({"paused": true}))
            .send()
            .await
            .unwrap()
    };
    let api = pause("cross-site").await;
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    assert_eq!(server.get_ok("/api/v1/agent/state").await["paused"], false);
    assert_eq!(server.settings().await["version"], before, "nothing stored");
    // A cross-site sign-in post is refused as well (login forgery).
    let login = post_form_with(
        server,
        "/login",
        &[("sec-fetch-site", "cross-site")],
        form(&[("email", "owner@localhost"), ("password", PASSWORD)]),
    )
    .await;
    assert_eq!(login.status(), StatusCode::FORBIDDEN);
    // The same post from the console itself goes through.
    let same = pause("same-origin").await;
    assert_eq!(same.status(), StatusCode::OK);
}

async fn visitor_tokens_open_no_staff_page_or_endpoint(server: &Server) {
    let visitor = server.visitor().await;
    let token = visitor.token.clone();
    for path in [
        "/api/v1/handoff/settings",
        "/api/v1/users",
        "/api/v1/conversations?view=all",
        "/api/v1/audit",
    ] {
        let (status, _) = server.get_as(&token, path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let (status, _) = server
        .post_as(
            &token,
            "/api/v1/handoff/simulate",
            json!({"text": "refund"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A page with the visitor token, as bearer or as a cookie, leads to sign-in.
    for path in ["/console/agent/handoff", "/console/users", "/console/audit"] {
        let as_bearer = client()
            .get(server.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let as_cookie = get_page(server, path, Some(&format!("baton_session={token}"))).await;
        for page in [as_bearer, as_cookie] {
            assert_eq!(page.status(), StatusCode::SEE_OTHER, "{path}");
            assert!(
                page.headers()[LOCATION]
                    .to_str()
                    .unwrap()
                    .starts_with("/login")
            );
        }
        // And a state change with it is refused outright.
        let post = client()
            .post(server.url(path))
            .bearer_auth(&token)
            .header("sec-fetch-site", "same-origin")
            .body("process=none")
            .send()
            .await
            .unwrap();
        assert!(
            matches!(
                post.status(),
                StatusCode::UNAUTHORIZED | StatusCode::METHOD_NOT_ALLOWED
            ),
            "{path}: {}",
            post.status()
        );
    }
    // The widget's endpoints stay cookie-free: they never set one.
    let created = client()
        .post(server.url("/api/v1/chat/conversations"))
        .json(&json!({"visitor": {}}))
        .send()
        .await
        .unwrap();
    assert!(created.headers().get(SET_COOKIE).is_none());
}

async fn sign_out_and_password_change_revoke_sessions(server: &Server) {
    let first = signed_in_owner(server).await;
    let second = new_session(server, "owner@localhost", PASSWORD).await;
    // Changing the password from the second session revokes the first, not itself.
    let changed = post_form(
        server,
        "/account/password",
        Some(&second),
        &[
            ("current", PASSWORD),
            ("password", "a new long password"),
            ("repeat", "a new long password"),
        ],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page_status(server, "/console/users", Some(&first)).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        page_status(server, "/console/users", Some(&second)).await,
        StatusCode::OK
    );
    // The old password no longer signs in; the new one does.
    assert_eq!(
        sign_in(server, "owner@localhost", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(server, "owner@localhost", "a new long password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Sign-out: the old cookie opens nothing, page or API.
    let out = post_form(server, "/logout", Some(&second), &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        out.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        page_status(server, "/console/users", Some(&second)).await,
        StatusCode::SEE_OTHER
    );
    let api = client()
        .get(server.url("/api/v1/users"))
        .header("cookie", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_at_their_absolute_expiry() {
    let server = Server::start_with_config(
        Backend::Sqlite,
        "[auth]\nsession_idle_seconds = 2\nsession_max_seconds = 4\n".into(),
    )
    .await;
    let cookie = signed_in_owner(&server).await;
    // Used every second, the session lives past its idle time...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            page_status(&server, "/console/users", Some(&cookie)).await,
            StatusCode::OK
        );
    }
    // ...but not past its absolute expiry.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        page_status(&server, "/console/users", Some(&cookie)).await,
        StatusCode::SEE_OTHER
    );
    // Left idle, a new one ends after the idle time.
    let idle = new_session(&server, "owner@localhost", PASSWORD).await;
    assert_eq!(
        page_status(&server, "/console/users", Some(&idle)).await,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        page_status(&server, "/console/users", Some(&idle)).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited_per_account_and_per_address() {
    let server = Server::start(Backend::Sqlite).await;
    set_owner_password(&server, PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(
            sign_in(&server, "owner@localhost", "wrong password!")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The sixth try is refused before the password is even checked, right or not.
    let limited = sign_in(&server, "owner@localhost", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(session_cookie(limited.headers()).is_none());
    // Per address: 20 failures across accounts close this address to every account.
    for i in 0..15 {
        let status = sign_in(
            &server,
            &format!("nobody{i}@example.com"),
            "wrong password!",
        )
        .await
        .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let limited = sign_in(&server, "someone-else@example.com", "wrong password!").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
}
