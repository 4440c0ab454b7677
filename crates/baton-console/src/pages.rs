//! Every (method, path) the console's router serves, for checks that must cover them all
//! (the end-to-end auth matrix). A unit test reads the route table in this crate's
//! sources, so a route added without a line here fails it.

/// Every route of [`crate::router`], as `(method, path)` with axum's `{param}` syntax.
pub fn pages() -> &'static [(&'static str, &'static str)] {
    &[
        ("GET", "/"),
        ("GET", "/assets/console.css"),
        ("GET", "/assets/console.js"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("GET", "/password/{token}"),
        ("POST", "/password/{token}"),
        ("GET", "/account/password"),
        ("POST", "/account/password"),
        ("GET", "/console/inbox"),
        ("GET", "/console/inbox/{id}"),
        ("POST", "/console/inbox/{id}/claim"),
        ("POST", "/console/inbox/{id}/reply"),
        ("POST", "/console/inbox/{id}/close"),
        ("POST", "/console/inbox/{id}/reopen"),
        ("POST", "/console/inbox/{id}/handback"),
        ("POST", "/console/inbox/{id}/assign"),
        ("POST", "/console/me/availability"),
        ("GET", "/console/agent/handoff"),
        ("POST", "/console/agent/handoff"),
        ("POST", "/console/agent/handoff/triggers"),
        ("POST", "/console/agent/handoff/try"),
        ("GET", "/console/users"),
        ("POST", "/console/users"),
        ("GET", "/console/users/{id}"),
        ("POST", "/console/users/{id}/profile"),
        ("POST", "/console/users/{id}/capacity"),
        ("POST", "/console/users/{id}/availability"),
        ("POST", "/console/users/{id}/working-hours"),
        ("POST", "/console/users/{id}/password-link"),
        ("POST", "/console/users/{id}/tokens"),
        ("GET", "/console/teams"),
        ("POST", "/console/teams"),
        ("GET", "/console/inboxes"),
        ("POST", "/console/inboxes"),
        ("GET", "/console/workflows"),
        ("POST", "/console/workflows"),
        ("POST", "/console/workflows/from-template"),
        ("GET", "/console/workflows/{id}"),
        ("POST", "/console/workflows/{id}"),
        ("GET", "/console/audit"),
        ("GET", "/console/plugins"),
        ("GET", "/console/agent"),
        ("POST", "/console/agent"),
        ("GET", "/console/webhooks"),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::pages;

    /// `(method, path)` of every `.route(path, get(..).post(..))` in `source`; a path
    /// given as a constant is resolved from `const NAME: &str = "..."` in the same file.
    fn routes_in(source: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut rest = source;
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            // The call's arguments, up to its closing parenthesis.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(rest.len(), |(i, _)| i);
            let args = &rest[..end];
            let (path, handlers) = args.split_once(',').unwrap_or((args, ""));
            let path = path.trim();
            let path = match path.strip_prefix('"') {
                Some(literal) => literal.trim_end_matches('"').to_owned(),
                None => constant(source, path)
                    .unwrap_or_else(|| panic!("cannot resolve the route path {path}")),
            };
            for method in ["get", "post", "put", "patch", "delete"] {
                let call = format!("{method}(");
                let called = handlers.match_indices(&call).any(|(i, _)| {
                    !handlers[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                });
                if called {
                    found.push((method.to_uppercase(), path.clone()));
                }
            }
            rest = &rest[end..];
        }
        found
    }

    fn constant(source: &str, name: &str) -> Option<String> {
        let decl = format!("const {name}: &str = \"");
        let start = source.find(&decl)? + decl.len();
        let len = source[start..].find('"')?;
        Some(source[start..start + len].to_owned())
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn pages_lists_every_route_of_the_router() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let routed: BTreeSet<(String, String)> = files
            .iter()
            .filter(|f| !f.ends_with("pages.rs"))
            .flat_map(|f| routes_in(&std::fs::read_to_string(f).unwrap()))
            .collect();
        let listed: BTreeSet<(String, String)> = pages()
            .iter()
            .map(|&(m, p)| (m.to_owned(), p.to_owned()))
            .collect();
        let unlisted: Vec<_> = routed.difference(&listed).collect();
        let unrouted: Vec<_> = listed.difference(&routed).collect();
        assert!(
            unlisted.is_empty() && unrouted.is_empty(),
            "pages() is out of step with the router: routed but not listed {unlisted:?}; \
             listed but not routed {unrouted:?}"
        );
        assert_eq!(listed.len(), pages().len(), "pages() repeats a route");
    }

    #[test]
    fn routes_are_read_with_their_methods_and_constants() {
        let source = "const PATH: &str = \"/x\";\n\
                      Router::new().route(PATH, get(get_list).post(create))\n\
                      .route(\"/y/{id}\", post(go))";
        assert_eq!(
            routes_in(source),
            [
                ("GET".to_owned(), "/x".to_owned()),
                ("POST".to_owned(), "/x".to_owned()),
                ("POST".to_owned(), "/y/{id}".to_owned()),
            ]
        );
    }
}
