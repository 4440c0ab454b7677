//! Structural rules of the workspace, checked by `cargo xtask tidy` and by a test:
//!
//! 1. the pure crates (`baton-core`, `baton-routing`, `baton-ticketing`, `baton-workflows`)
//!    depend, through normal dependencies,
//!    on nothing that does IO or runs a runtime, nor on another `baton-*` crate but
//!    `baton-core`; their sources name no IO, process, thread or clock API;
//! 2. the internal `baton-*` crates form no cycle (normal, dev and build dependencies);
//! 3. every `crates/*/src/lib.rs` and `main.rs` opens with a `//!` module doc;
//! 4. every member manifest inherits the workspace lints;
//! 5. the plugin boundary: `baton-plugin-abi` has no dependencies, and a plugin under
//!    `plugins/` depends on no `baton-*` crate but `baton-plugin-sdk` (third parties build
//!    against the SDK alone, so the shipped plugins must too).
//!
//! The checks are functions of plain data (a graph, file texts), so each rule is tested on
//! synthetic input; only [`check_workspace`] reads the real tree.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cargo_metadata::{DependencyKind, MetadataCommand};

/// Crates that must not do IO.
pub(crate) const PURE_CRATES: &[&str] = &[
    "baton-core",
    "baton-routing",
    "baton-ticketing",
    "baton-workflows",
];

/// Crates a pure crate must not reach through normal dependencies.
const FORBIDDEN_DEPS: &[&str] = &[
    "tokio", "sea-orm", "sqlx", "reqwest", "hyper", "axum", "mio",
];

/// Text a pure crate's source must not contain (outside `//` comments).
const FORBIDDEN_SOURCE: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "tokio",
    "std::thread::spawn",
    "SystemTime::now",
    "Utc::now",
    "Local::now",
];

/// One broken rule: where, and which rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Violation {
    pub(crate) place: String,
    pub(crate) rule: String,
}

impl Violation {
    fn new(place: impl Into<String>, rule: impl Into<String>) -> Violation {
        Violation {
            place: place.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tidy: {}: {}", self.place, self.rule)
    }
}

/// The kinds of one dependency edge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Kinds {
    pub(crate) normal: bool,
    pub(crate) dev: bool,
    pub(crate) build: bool,
}

/// The resolved dependency graph, keyed by package id.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub(crate) nodes: BTreeMap<String, Node>,
}

#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) name: String,
    /// (package id, kinds)
    pub(crate) deps: Vec<(String, Kinds)>,
}

impl Graph {
    fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.nodes.get(id).map_or(id, |n| n.name.as_str())
    }

    fn ids_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.nodes
            .iter()
            .filter(move |(_, node)| node.name == name)
            .map(|(id, _)| id)
    }
}

fn is_forbidden_for_pure(name: &str) -> bool {
    FORBIDDEN_DEPS.contains(&name) || (name.starts_with("baton-") && name != "baton-core")
}

/// The crate with the ABI types: nothing below it.
const ABI_CRATE: &str = "baton-plugin-abi";
/// The one Baton crate a plugin may depend on.
const SDK_CRATE: &str = "baton-plugin-sdk";

/// Rule 5, on the graph: `plugins` are the package names of the crates under `plugins/`.
pub(crate) fn check_plugin_boundary(graph: &Graph, plugins: &[&str]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for id in graph.ids_named(ABI_CRATE) {
        if let Some(node) = graph.nodes.get(id) {
            for (dep, kinds) in &node.deps {
                if kinds.normal || kinds.build {
                    violations.push(Violation::new(
                        ABI_CRATE,
                        format!(
                            "the ABI crate has no dependencies, but depends on `{}`",
                            graph.name(dep)
                        ),
                    ));
                }
            }
        }
    }
    for &plugin in plugins {
        for id in graph.ids_named(plugin) {
            let Some(node) = graph.nodes.get(id) else {
                continue;
            };
            for (dep, kinds) in &node.deps {
                let name = graph.name(dep);
                if kinds.normal && name.starts_with("baton-") && name != SDK_CRATE {
                    violations.push(Violation::new(
                        plugin,
                        format!("a plugin depends on `{SDK_CRATE}` alone among Baton crates, not on `{name}`"),
                    ));
                }
            }
        }
    }
    violations
}

/// Rule 1, dependencies: what each pure crate reaches through normal dependencies.
pub(crate) fn check_pure_deps(graph: &Graph, pure: &[&str]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for &crate_name in pure {
        for root in graph.ids_named(crate_name) {
            // Breadth first, remembering how each package was reached, to print the path.
            let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = VecDeque::from([root.as_str()]);
            let mut seen = BTreeSet::from([root.as_str()]);
            while let Some(id) = queue.pop_front() {
                let Some(node) = graph.nodes.get(id) else {
                    continue;
                };
                for (dep, kinds) in &node.deps {
                    if !kinds.normal || !seen.insert(dep.as_str()) {
                        continue;
                    }
                    parent.insert(dep.as_str(), id);
                    let name = graph.name(dep);
                    if is_forbidden_for_pure(name) {
                        let mut path = vec![name];
                        let mut at = id;
                        while let Some(&up) = parent.get(at) {
                            path.push(graph.name(at));
                            at = up;
                        }
                        path.push(crate_name);
                        path.reverse();
                        violations.push(Violation::new(
                            crate_name,
                            format!("pure crate depends on `{name}` ({})", path.join(" -> ")),
                        ));
                    } else {
                        queue.push_back(dep.as_str());
                    }
                }
            }
        }
    }
    violations
}

/// Rule 1, sources: a pure crate's file names no IO, process, thread or clock API.
pub(crate) fn check_pure_source(file: &str, text: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (number, line) in text.lines().enumerate() {
        // Comments may say what the crate never does.
        let code = line.split_once("//").map_or(line, |(code, _)| code);
        for pattern in FORBIDDEN_SOURCE {
            if code.contains(pattern) {
                violations.push(Violation::new(
                    format!("{file}:{}", number + 1),
                    format!("pure crate source uses `{pattern}`"),
                ));
            }
        }
    }
    violations
}

/// Rule 2: cycles among the internal `baton-*` crates, over every kind of dependency.
pub(crate) fn check_cycles(graph: &Graph) -> Vec<Violation> {
    let internal: BTreeMap<&str, Vec<&str>> = graph
        .nodes
        .iter()
        .filter(|(_, node)| node.name.starts_with("baton-"))
        .map(|(id, node)| {
            let deps = node
                .deps
                .iter()
                .filter(|(dep, _)| graph.name(dep).starts_with("baton-"))
                .map(|(dep, _)| dep.as_str())
                .collect();
            (id.as_str(), deps)
        })
        .collect();

    let mut done = BTreeSet::new();
    let mut reported: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut violations = Vec::new();
    for &start in internal.keys() {
        let mut stack = Vec::new();
        visit(start, &internal, &mut stack, &mut done, &mut |cycle| {
            let names: Vec<String> = cycle.iter().map(|id| graph.name(id).to_owned()).collect();
            let mut key = names.clone();
            key.sort();
            if reported.insert(key) {
                let mut shown = names.clone();
                shown.push(names[0].clone());
                violations.push(Violation::new(
                    names[0].clone(),
                    format!("dependency cycle: {}", shown.join(" -> ")),
                ));
            }
        });
    }
    violations
}

/// Depth-first search reporting each back edge's cycle.
fn visit<'a>(
    id: &'a str,
    graph: &BTreeMap<&'a str, Vec<&'a str>>,
    stack: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
    on_cycle: &mut dyn FnMut(&[&'a str]),
) {
    if done.contains(id) {
        return;
    }
    if let Some(pos) = stack.iter().position(|&s| s == id) {
        on_cycle(&stack[pos..]);
        return;
    }
    stack.push(id);
    for &dep in graph.get(id).into_iter().flatten() {
        visit(dep, graph, stack, done, on_cycle);
    }
    stack.pop();
    done.insert(id);
}

/// Rule 3: the file opens with a `//!` module doc.
pub(crate) fn check_module_doc(file: &str, text: &str) -> Option<Violation> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(line) if line.starts_with("//!") => None,
        _ => Some(Violation::new(file, "must start with a `//!` module doc")),
    }
}

/// Rule 4: the manifest says `[lints] workspace = true`.
pub(crate) fn check_lints(manifest: &str, text: &str) -> Option<Violation> {
    let mut section = String::new();
    for line in text.lines() {
        let line: String = line
            .split('#')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_owned();
            continue;
        }
        if (section == "lints" && line == "workspace=true")
            || (section.is_empty() && line == "lints.workspace=true")
        {
            return None;
        }
    }
    Some(Violation::new(
        manifest,
        "missing `[lints] workspace = true`",
    ))
}

/// Reads the real workspace and applies every rule.
pub(crate) fn check_workspace(root: &Path) -> anyhow::Result<Vec<Violation>> {
    let metadata = MetadataCommand::new()
        .cargo_path(crate::cargo())
        .manifest_path(root.join("Cargo.toml"))
        .exec()
        .context("cargo metadata failed")?;
    let names: BTreeMap<_, _> = metadata
        .packages
        .iter()
        .map(|p| (p.id.clone(), p.name.to_string()))
        .collect();
    let resolve = metadata
        .resolve
        .as_ref()
        .context("cargo metadata gave no resolve graph")?;
    let mut graph = Graph::default();
    for node in &resolve.nodes {
        let deps = node
            .deps
            .iter()
            .map(|dep| {
                let mut kinds = Kinds::default();
                for info in &dep.dep_kinds {
                    match info.kind {
                        DependencyKind::Development => kinds.dev = true,
                        DependencyKind::Build => kinds.build = true,
                        _ => kinds.normal = true,
                    }
                }
                if dep.dep_kinds.is_empty() {
                    kinds.normal = true;
                }
                (dep.pkg.repr.clone(), kinds)
            })
            .collect();
        let name = names.get(&node.id).cloned().unwrap_or_default();
        graph
            .nodes
            .insert(node.id.repr.clone(), Node { name, deps });
    }

    let relative = |path: &Path| -> String {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let mut violations = check_pure_deps(&graph, PURE_CRATES);
    violations.extend(check_cycles(&graph));
    let plugins_dir = root.join("plugins");
    let plugins: Vec<&str> = metadata
        .workspace_packages()
        .into_iter()
        .filter(|p| p.manifest_path.as_std_path().starts_with(&plugins_dir))
        .map(|p| p.name.as_str())
        .collect();
    violations.extend(check_plugin_boundary(&graph, &plugins));

    for package in metadata.workspace_packages() {
        let manifest = PathBuf::from(package.manifest_path.as_std_path());
        let text = std::fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        violations.extend(check_lints(&relative(&manifest), &text));
        if PURE_CRATES.contains(&package.name.as_str()) {
            let src = manifest.parent().unwrap_or(root).join("src");
            for file in rust_files(&src)? {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                violations.extend(check_pure_source(&relative(&file), &text));
            }
        }
    }

    let crates = root.join("crates");
    if crates.is_dir() {
        for entry in sorted_entries(&crates)? {
            for name in ["lib.rs", "main.rs"] {
                let file = entry.join("src").join(name);
                if file.is_file() {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    violations.extend(check_module_doc(&relative(&file), &text));
                }
            }
        }
    }
    violations.sort();
    Ok(violations)
}

fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort();
    Ok(entries)
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NORMAL: Kinds = Kinds {
        normal: true,
        dev: false,
        build: false,
    };
    const DEV: Kinds = Kinds {
        normal: false,
        dev: true,
        build: false,
    };
    const BUILD: Kinds = Kinds {
        normal: false,
        dev: false,
        build: true,
    };

    /// A graph from `(package, [(dependency, kinds)])`; ids are the names.
    fn graph(edges: &[(&str, &[(&str, Kinds)])]) -> Graph {
        let mut graph = Graph::default();
        for (name, deps) in edges {
            graph.nodes.insert(
                (*name).to_owned(),
                Node {
                    name: (*name).to_owned(),
                    deps: deps.iter().map(|(d, k)| ((*d).to_owned(), *k)).collect(),
                },
            );
            for (dep, _) in *deps {
                graph.nodes.entry((*dep).to_owned()).or_insert(Node {
                    name: (*dep).to_owned(),
                    deps: Vec::new(),
                });
            }
        }
        graph
    }

    fn rules(violations: &[Violation]) -> Vec<String> {
        violations.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn plugins_depend_on_the_sdk_alone_and_the_abi_on_nothing() {
        let g = graph(&[
            ("baton-plugin-abi", &[]),
            (
                "baton-plugin-sdk",
                &[("baton-plugin-abi", NORMAL), ("serde", NORMAL)],
            ),
            (
                "matcher-good",
                &[("baton-plugin-sdk", NORMAL), ("regex", NORMAL)],
            ),
            (
                "matcher-bad",
                &[("baton-plugin-sdk", NORMAL), ("baton-core", NORMAL)],
            ),
        ]);
        assert_eq!(check_plugin_boundary(&g, &["matcher-good"]), vec![]);
        let bad = check_plugin_boundary(&g, &["matcher-good", "matcher-bad"]);
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].place, "matcher-bad");
        assert!(bad[0].rule.contains("`baton-core`"), "{bad:?}");
        let g = graph(&[("baton-plugin-abi", &[("libc", NORMAL)])]);
        assert_eq!(check_plugin_boundary(&g, &[]).len(), 1);
    }

    #[test]
    fn pure_crate_reaching_tokio_transitively_is_reported_with_the_path() {
        let g = graph(&[
            ("baton-core", &[("serde", NORMAL), ("helper", NORMAL)]),
            ("helper", &[("tokio", NORMAL)]),
        ]);
        assert_eq!(
            rules(&check_pure_deps(&g, PURE_CRATES)),
            ["tidy: baton-core: pure crate depends on `tokio` (baton-core -> helper -> tokio)"]
        );
    }

    #[test]
    fn pure_crate_depending_on_an_adapter_crate_is_reported() {
        let g = graph(&[
            (
                "baton-routing",
                &[("baton-core", NORMAL), ("baton-store", NORMAL)],
            ),
            ("baton-core", &[]),
        ]);
        assert_eq!(
            rules(&check_pure_deps(&g, PURE_CRATES)),
            [
                "tidy: baton-routing: pure crate depends on `baton-store` (baton-routing -> baton-store)"
            ]
        );
    }

    #[test]
    fn every_forbidden_dependency_is_reported() {
        for name in FORBIDDEN_DEPS {
            let g = graph(&[("baton-core", &[(name, NORMAL)])]);
            assert_eq!(check_pure_deps(&g, PURE_CRATES).len(), 1, "{name}");
        }
    }

    #[test]
    fn dev_and_build_dependencies_and_core_are_allowed() {
        let g = graph(&[
            (
                "baton-routing",
                &[("baton-core", NORMAL), ("tokio", DEV), ("axum", BUILD)],
            ),
            ("baton-core", &[("serde", NORMAL), ("criterion", DEV)]),
            ("criterion", &[("tokio", NORMAL)]),
        ]);
        assert_eq!(
            rules(&check_pure_deps(&g, PURE_CRATES)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn impure_crates_may_depend_on_anything() {
        let g = graph(&[("baton-host", &[("tokio", NORMAL), ("axum", NORMAL)])]);
        assert!(check_pure_deps(&g, PURE_CRATES).is_empty());
    }

    #[test]
    fn a_dev_dependency_cycle_is_reported_once() {
        let g = graph(&[
            ("baton-core", &[("baton-engine", DEV)]),
            ("baton-engine", &[("baton-core", NORMAL)]),
        ]);
        assert_eq!(
            rules(&check_cycles(&g)),
            ["tidy: baton-core: dependency cycle: baton-core -> baton-engine -> baton-core"]
        );
    }

    #[test]
    fn a_longer_cycle_is_reported_and_external_crates_are_ignored() {
        let g = graph(&[
            ("baton-a", &[("baton-b", NORMAL), ("serde", NORMAL)]),
            ("baton-b", &[("baton-c", BUILD)]),
            ("baton-c", &[("baton-a", NORMAL)]),
            ("serde", &[("serde_derive", NORMAL)]),
            ("serde_derive", &[("serde", DEV)]),
        ]);
        assert_eq!(
            rules(&check_cycles(&g)),
            ["tidy: baton-a: dependency cycle: baton-a -> baton-b -> baton-c -> baton-a"]
        );
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let g = graph(&[
            (
                "baton-host",
                &[("baton-engine", NORMAL), ("baton-core", NORMAL)],
            ),
            ("baton-engine", &[("baton-core", NORMAL)]),
            ("baton-core", &[]),
        ]);
        assert!(check_cycles(&g).is_empty());
    }

    #[test]
    fn pure_source_rules() {
        let bad = "use std::fs;\nfn f() { let _ = chrono::Utc::now(); }\n";
        assert_eq!(
            rules(&check_pure_source("crates/baton-core/src/x.rs", bad)),
            [
                "tidy: crates/baton-core/src/x.rs:1: pure crate source uses `std::fs`",
                "tidy: crates/baton-core/src/x.rs:2: pure crate source uses `Utc::now`",
            ]
        );
        for pattern in FORBIDDEN_SOURCE {
            let text = format!("fn f() {{ {pattern}(); }}");
            assert!(!check_pure_source("f.rs", &text).is_empty(), "{pattern}");
        }
        let ok = "//! No tokio, no std::fs here.\nfn f(now: i64) -> i64 { now } // not Utc::now\n";
        assert!(check_pure_source("f.rs", ok).is_empty());
    }

    #[test]
    fn module_doc_rule() {
        assert!(check_module_doc("lib.rs", "//! The crate.\n\npub mod a;\n").is_none());
        assert!(check_module_doc("lib.rs", "\n//! After a blank line.\n").is_none());
        assert_eq!(
            check_module_doc("crates/x/src/lib.rs", "pub mod a;\n//! too late\n")
                .map(|v| v.to_string()),
            Some("tidy: crates/x/src/lib.rs: must start with a `//!` module doc".to_owned())
        );
        assert!(check_module_doc("main.rs", "/// An item doc.\nfn main() {}\n").is_some());
        assert!(check_module_doc("main.rs", "").is_some());
    }

    #[test]
    fn lints_rule() {
        let good = "[package]\nname = \"x\"\n\n[lints]\nworkspace = true\n";
        assert!(check_lints("x/Cargo.toml", good).is_none());
        assert!(check_lints("x/Cargo.toml", "lints.workspace = true\n[package]\n").is_none());
        let missing = "[package]\nname = \"x\"\n[dependencies]\nworkspace = true\n";
        assert_eq!(
            check_lints("x/Cargo.toml", missing).map(|v| v.to_string()),
            Some("tidy: x/Cargo.toml: missing `[lints] workspace = true`".to_owned())
        );
        let off = "[lints]\nworkspace = false\n";
        assert!(check_lints("x/Cargo.toml", off).is_some());
        let commented = "[lints]\n# workspace = true\n";
        assert!(check_lints("x/Cargo.toml", commented).is_some());
    }

    /// The real tree obeys every rule.
    #[test]
    fn tidy() {
        let violations =
            check_workspace(&crate::workspace_root()).expect("tidy could not read the workspace");
        assert!(
            violations.is_empty(),
            "tidy found problems:\n{}",
            rules(&violations).join("\n")
        );
    }
}
