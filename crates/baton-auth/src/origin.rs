//! The origin check that makes cookie-authenticated requests safe from cross-site
//! forgery: a state-changing request must come from Baton's own pages.
//!
//! Fetch Metadata (`Sec-Fetch-Site`) is what every current browser sends; `Origin` is
//! the fallback for those that do not. A request with neither is refused: browsers that
//! send a cookie send one of them, and API clients use bearer tokens instead.

use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method};

/// Why a request failed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    CrossSite(String),
    ForeignOrigin(String),
    NoOrigin,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::CrossSite(site) => write!(
                f,
                "a {site} request cannot change anything with a session cookie"
            ),
            Refusal::ForeignOrigin(origin) => write!(
                f,
                "a request from {origin} cannot change anything with a session cookie"
            ),
            Refusal::NoOrigin => f.write_str(
                "a request that changes something with a session cookie must say where it \
                 comes from (Sec-Fetch-Site or Origin)",
            ),
        }
    }
}

/// Whether `method` can change state (everything but GET, HEAD and OPTIONS).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Passes same-origin requests (and ones the person started themselves, `none`).
pub fn check(headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(Refusal::CrossSite(other.to_owned())),
        };
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Err(Refusal::NoOrigin);
    };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match (authority, host) {
        (Some(authority), Some(host)) if authority.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(Refusal::ForeignOrigin(origin.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn check_headers(pairs: &[(&'static str, &'static str)]) -> Result<(), Refusal> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        check(&headers)
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(check_headers(&[("sec-fetch-site", "same-origin")]).is_ok());
        assert!(check_headers(&[("sec-fetch-site", "none")]).is_ok());
        assert_eq!(
            check_headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://a:1"),
                ("host", "a:1")
            ]),
            Err(Refusal::CrossSite("cross-site".into()))
        );
        assert!(check_headers(&[("sec-fetch-site", "same-site")]).is_err());
    }

    #[test]
    fn origin_is_the_fallback() {
        assert!(
            check_headers(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080")
            ])
            .is_ok()
        );
        assert!(
            check_headers(&[
                ("origin", "https://Baton.example"),
                ("host", "baton.example")
            ])
            .is_ok()
        );
        assert!(
            check_headers(&[
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:8080")
            ])
            .is_err()
        );
        assert!(check_headers(&[("origin", "null"), ("host", "127.0.0.1:8080")]).is_err());
        assert_eq!(
            check_headers(&[("host", "127.0.0.1:8080")]),
            Err(Refusal::NoOrigin)
        );
    }

    #[test]
    fn only_unsafe_methods_are_checked() {
        assert!(!changes_state(&Method::GET));
        assert!(!changes_state(&Method::HEAD));
        assert!(changes_state(&Method::POST));
        assert!(changes_state(&Method::PUT));
        assert!(changes_state(&Method::DELETE));
    }
}
