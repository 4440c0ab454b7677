//! Browser sessions: a random token in an `HttpOnly`, `SameSite=Strict` cookie, stored
//! only as its hash, with an idle and an absolute expiry.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The cookie that carries a staff session.
pub const SESSION_COOKIE: &str = "baton_session";

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session unused this long is over.
    pub idle: Duration,
    /// A session is over this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionConfig {
    /// A working day of inactivity, a week at most: a person signs in once a week on a
    /// machine they keep using, and a forgotten browser does not stay signed in.
    fn default() -> Self {
        SessionConfig {
            idle: Duration::from_secs(12 * 3600),
            absolute: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// The session token a request's `Cookie` header carries, if any.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Whether the request reached the proxy in front of Baton over HTTPS (Baton itself
/// serves plain HTTP on loopback or behind a TLS-terminating proxy).
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value that starts a session.
pub fn set_cookie(token: &str, config: &SessionConfig, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        config.absolute.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends one in the browser (the server revokes it too).
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn check(cookies: &[&str], expect: Option<&str>) {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            headers.append(COOKIE, HeaderValue::from_str(cookie).expect("header"));
        }
        assert_eq!(token(&headers), expect, "{cookies:?}");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        check(&[], None);
        check(&["a=1"], None);
        check(&["baton_session=abc"], Some("abc"));
        check(&["a=1; baton_session=abc; b=2"], Some("abc"));
        check(&["a=1", "baton_session=abc"], Some("abc"));
        check(&["xbaton_session=abc"], None);
        check(&["baton_session="], None);
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let config = SessionConfig::default();
        let cookie = set_cookie("t", &config, false);
        assert_eq!(
            cookie,
            "baton_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800"
        );
        assert!(set_cookie("t", &config, true).ends_with("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }
}
