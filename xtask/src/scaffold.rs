//! `cargo xtask plugin new NAME --kind channel|matcher [--path DIR]`: a plugin crate to
//! start from, that builds, passes its ABI tests and says how to configure it.
//!
//! Inside this workspace (the default is `plugins/NAME`) the manifest inherits the
//! workspace's package fields, dependencies and lints; anywhere else the crate is a
//! workspace of its own that depends on this checkout's `baton-plugin-sdk` by path.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask plugin new NAME --kind channel|matcher [--path DIR]\n\
    \n\
    NAME: lowercase ascii letters, digits and `-`, starting with a letter.\n\
    DIR:  the new crate's folder (default: plugins/NAME in this workspace); it must not exist.";

const MATCHER_LIB: &str = include_str!("templates/matcher_lib.rs.tmpl");
const MATCHER_TEST: &str = include_str!("templates/matcher_abi.rs.tmpl");
const CHANNEL_LIB: &str = include_str!("templates/channel_lib.rs.tmpl");
const CHANNEL_TEST: &str = include_str!("templates/channel_abi.rs.tmpl");
const README: &str = include_str!("templates/README.md.tmpl");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Channel,
    Matcher,
}

impl Kind {
    fn parse(text: &str) -> Option<Kind> {
        match text {
            "channel" => Some(Kind::Channel),
            "matcher" => Some(Kind::Matcher),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Channel => "channel",
            Kind::Matcher => "trigger-matcher",
        }
    }
}

/// Where the crate goes, which decides how its manifest finds the SDK and how it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Home {
    /// Directly under `<root>/plugins/`: a workspace member that `build-plugins` builds.
    Plugins,
    /// Elsewhere inside the workspace: inherits from it, built with `-p`.
    Workspace,
    /// Outside: its own workspace, with the SDK at this absolute path.
    Standalone { sdk: PathBuf },
}

/// A crate to generate.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// Absolute.
    pub(crate) dir: PathBuf,
    pub(crate) home: Home,
}

impl Plan {
    /// The crate name as Rust code spells it.
    fn crate_ident(&self) -> String {
        self.name.replace('-', "_")
    }

    /// The library `cargo build` makes, e.g. `libmy_plugin.so`.
    fn library(&self) -> String {
        crate::plugins::library_file_name(&self.name)
    }

    /// Where the release library ends up, as `path` in `baton.toml` would name it when
    /// Baton runs from the workspace root (or from anywhere, for a standalone crate).
    fn library_path(&self) -> String {
        match &self.home {
            Home::Plugins => format!("target/plugins/{}", self.library()),
            Home::Workspace => format!("target/release/{}", self.library()),
            Home::Standalone { .. } => self
                .dir
                .join("target/release")
                .join(self.library())
                .display()
                .to_string(),
        }
    }
}

pub(crate) fn plugin_task(args: &[String]) -> anyhow::Result<bool> {
    match args.first().map(String::as_str) {
        Some("new") if args.iter().any(|a| a == "-h" || a == "--help") => {
            println!("{USAGE}");
            Ok(true)
        }
        Some("new") => {
            let (name, kind, path) = parse_new(&args[1..])?;
            let root = crate::workspace_root();
            let plan = plan(&root, &name, kind, path.as_deref())?;
            create(&root, &plan)?;
            print_next_steps(&root, &plan);
            Ok(true)
        }
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(true)
        }
        Some(other) => bail!("unknown plugin command `{other}`\n{USAGE}"),
        None => bail!("which plugin command?\n{USAGE}"),
    }
}

/// `NAME --kind KIND [--path DIR]`, in any order.
fn parse_new(args: &[String]) -> anyhow::Result<(String, Kind, Option<PathBuf>)> {
    let mut name = None;
    let mut kind = None;
    let mut path = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = crate::split_flag(arg);
        match flag {
            "--kind" => {
                let value = crate::flag_value(flag, inline, &mut rest)?;
                kind = Some(Kind::parse(&value).with_context(|| {
                    format!("--kind is `channel` or `matcher`, not `{value}`\n{USAGE}")
                })?);
            }
            "--path" => path = Some(PathBuf::from(crate::flag_value(flag, inline, &mut rest)?)),
            _ if flag.starts_with('-') => bail!("unknown option `{arg}`\n{USAGE}"),
            _ if name.is_none() => name = Some(arg.clone()),
            _ => bail!("unexpected argument `{arg}`\n{USAGE}"),
        }
    }
    let name = name.with_context(|| format!("give the plugin a NAME\n{USAGE}"))?;
    check_name(&name).map_err(|reason| anyhow::anyhow!("bad plugin name: {reason}"))?;
    let kind = kind.with_context(|| format!("say which --kind of plugin\n{USAGE}"))?;
    Ok((name, kind, path))
}

/// Rust keywords and the built-in crates, which a crate named `NAME` cannot be.
const RESERVED: &str = "abstract alloc as async await become box break const continue core \
    crate do dyn else enum extern false final fn for gen if impl in let loop macro match mod \
    move mut override priv proc-macro pub ref return self static std struct super test trait \
    true try type typeof unsafe unsized use virtual where while yield";

/// Channel names the host keeps for itself (`baton-host`'s config refuses them as entries).
const BUILT_IN_CHANNELS: &[&str] = &["chat", "email"];

/// The longest entry name the host accepts.
const MAX_NAME: usize = 64;

/// A plugin name: lowercase ascii letters, digits and `-`, starting with a letter; not a
/// Rust keyword or built-in crate (the crate would not compile), and usable as the name of
/// a `[[plugins]]` entry.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("it is empty".into());
    };
    if !first.is_ascii_lowercase() {
        return Err(format!("`{name}` must start with a lowercase ascii letter"));
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!(
            "`{name}` may only hold lowercase ascii letters, digits and `-`, not {bad:?}"
        ));
    }
    // The generated `[[plugins]]` entry uses NAME; the host refuses these there.
    if name.len() > MAX_NAME {
        return Err(format!(
            "`{name}` is longer than {MAX_NAME} characters (Baton's limit for a plugin entry)"
        ));
    }
    if BUILT_IN_CHANNELS.contains(&name) {
        return Err(format!(
            "`{name}` is a built-in channel of Baton, so no plugin entry may take it"
        ));
    }
    if RESERVED.split_whitespace().any(|word| word == name) {
        return Err(format!("`{name}` is a Rust keyword or built-in crate name"));
    }
    Ok(())
}

/// Decides where the crate goes and what kind of manifest it gets; refuses an existing
/// folder and, inside the workspace, a package name already taken.
pub(crate) fn plan(
    root: &Path,
    name: &str,
    kind: Kind,
    path: Option<&Path>,
) -> anyhow::Result<Plan> {
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot resolve the workspace root {}", root.display()))?;
    let wanted = path.map_or_else(|| root.join("plugins").join(name), Path::to_path_buf);
    if wanted.symlink_metadata().is_ok() {
        bail!(
            "{} already exists; choose another NAME or --path",
            wanted.display()
        );
    }
    let dir = resolve(&wanted)?;
    let home = if dir.starts_with(&root) {
        if dir.parent() == Some(root.join("plugins").as_path()) {
            Home::Plugins
        } else {
            Home::Workspace
        }
    } else {
        Home::Standalone {
            sdk: root.join("crates").join("baton-plugin-sdk"),
        }
    };
    if !matches!(home, Home::Standalone { .. }) {
        let taken = workspace_package_names(&root)?;
        if taken.iter().any(|n| n == name) {
            bail!("this workspace already has a package named `{name}`");
        }
    }
    Ok(Plan {
        name: name.to_owned(),
        kind,
        dir,
        home,
    })
}

/// `path` made absolute, with its existing part canonicalized (symlinks and `..`
/// resolved) and the rest appended.
fn resolve(path: &Path) -> anyhow::Result<PathBuf> {
    let absolute = std::path::absolute(path)
        .with_context(|| format!("cannot make {} absolute", path.display()))?;
    let components: Vec<Component<'_>> = absolute.components().collect();
    for split in (1..=components.len()).rev() {
        let head: PathBuf = components[..split].iter().collect();
        let Ok(mut resolved) = head.canonicalize() else {
            continue;
        };
        for component in &components[split..] {
            match component {
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(part) => resolved.push(part),
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        return Ok(resolved);
    }
    Ok(absolute)
}

fn workspace_package_names(root: &Path) -> anyhow::Result<Vec<String>> {
    let metadata = crate::plugins::workspace_metadata(root)?;
    Ok(metadata
        .workspace_packages()
        .iter()
        .map(|p| p.name.to_string())
        .collect())
}

/// The generated files, as (path relative to the crate, contents).
pub(crate) fn files(plan: &Plan) -> Vec<(&'static str, String)> {
    let (lib, test) = match plan.kind {
        Kind::Matcher => (MATCHER_LIB, MATCHER_TEST),
        Kind::Channel => (CHANNEL_LIB, CHANNEL_TEST),
    };
    vec![
        ("Cargo.toml", manifest(plan)),
        ("src/lib.rs", render(lib, plan)),
        ("tests/abi.rs", render(test, plan)),
        ("README.md", render(README, plan)),
    ]
}

fn render(template: &str, plan: &Plan) -> String {
    let (about, name_use, config) = match plan.kind {
        Kind::Matcher => (
            "It hands a conversation to a person when a message contains one of the configured\n\
             `words`, ignoring case.",
            format!("a hit hands off with trigger kind `plugin:{}`", plan.name),
            "words = [\"refund\", \"speak to a human\"]",
        ),
        Kind::Channel => (
            "It takes `{\"thread\", \"text\", \"id\"}` JSON webhooks checked by an `x-token`\n\
             header, and sends replies as `POST {api_base_url}/messages`.",
            format!("webhooks arrive at /webhooks/{}", plan.name),
            "api_base_url = \"https://chat.example.com/api\"\n\
             token = \"the secret the provider sends in x-token\"",
        ),
    };
    template
        .replace("@NAME@", &plan.name)
        .replace("@CRATE@", &plan.crate_ident())
        .replace("@KIND@", plan.kind.label())
        .replace("@ABOUT@", about)
        .replace("@NAME_USE@", &name_use)
        .replace("@PATH@", &plan.library_path())
        .replace("@CONFIG@", config)
        .replace("@BUILD@", &build_steps(plan))
}

/// The commands that test and build the crate, each with a comment, aligned.
fn build_steps(plan: &Plan) -> String {
    let name = &plan.name;
    let steps: Vec<(String, String)> = match &plan.home {
        Home::Plugins => vec![
            (
                format!("cargo test -p {name}"),
                "from the workspace root".into(),
            ),
            (
                "cargo xtask build-plugins --release".into(),
                "every plugin, into target/plugins/".into(),
            ),
        ],
        Home::Workspace => vec![
            (
                format!("cargo test -p {name}"),
                "from the workspace root".into(),
            ),
            (
                format!("cargo build --release -p {name}"),
                format!("target/release/{}", plan.library()),
            ),
        ],
        Home::Standalone { .. } => vec![
            ("cargo test".into(), "in the crate's folder".into()),
            (
                "cargo build --release".into(),
                format!("target/release/{}", plan.library()),
            ),
        ],
    };
    let width = steps
        .iter()
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    steps
        .iter()
        .map(|(command, comment)| format!("{command:<width$}  # {comment}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn manifest(plan: &Plan) -> String {
    let name = &plan.name;
    let description = match plan.kind {
        Kind::Matcher => {
            "Baton trigger-matcher plugin: hands off when a message contains a configured word."
        }
        Kind::Channel => "Baton channel plugin: JSON webhooks in, JSON messages out.",
    };
    let lib = "[lib]\n\
               # cdylib: the library Baton loads; rlib: what tests/abi.rs links.\n\
               crate-type = [\"cdylib\", \"rlib\"]\n";
    match &plan.home {
        Home::Plugins | Home::Workspace => {
            let (json, dev) = match plan.kind {
                Kind::Channel => ("serde_json.workspace = true\n", String::new()),
                Kind::Matcher => (
                    "",
                    "\n[dev-dependencies]\nserde_json.workspace = true\n".to_owned(),
                ),
            };
            format!(
                "[package]\n\
                 name = \"{name}\"\n\
                 description = \"{description}\"\n\
                 version.workspace = true\n\
                 edition.workspace = true\n\
                 rust-version.workspace = true\n\
                 license.workspace = true\n\
                 publish.workspace = true\n\
                 \n\
                 {lib}\
                 \n\
                 [dependencies]\n\
                 baton-plugin-sdk.workspace = true\n\
                 serde.workspace = true\n\
                 {json}\
                 {dev}\
                 \n\
                 [lints]\n\
                 workspace = true\n"
            )
        }
        Home::Standalone { sdk } => {
            let (json, dev) = match plan.kind {
                Kind::Channel => ("serde_json = \"1\"\n", ""),
                Kind::Matcher => ("", "\n[dev-dependencies]\nserde_json = \"1\"\n"),
            };
            let sdk = toml_string(&sdk.display().to_string());
            format!(
                "[package]\n\
                 name = \"{name}\"\n\
                 description = \"{description}\"\n\
                 version = \"0.1.0\"\n\
                 edition = \"2024\"\n\
                 publish = false\n\
                 \n\
                 # Empty: this crate is a workspace of its own, not part of one around it.\n\
                 [workspace]\n\
                 \n\
                 {lib}\
                 \n\
                 [dependencies]\n\
                 baton-plugin-sdk = {{ path = {sdk} }}\n\
                 serde = {{ version = \"1\", features = [\"derive\"] }}\n\
                 {json}\
                 {dev}\
                 \n\
                 # Profiles keep the default `panic = \"unwind\"`: a plugin's panics are caught\n\
                 # at the ABI boundary, and the SDK refuses to compile with `panic = \"abort\"`.\n"
            )
        }
    }
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes the crate; on a failure, removes the folder it created.
pub(crate) fn create(root: &Path, plan: &Plan) -> anyhow::Result<()> {
    std::fs::create_dir_all(plan.dir.parent().unwrap_or(root))
        .with_context(|| format!("cannot create the parent of {}", plan.dir.display()))?;
    // `create_dir`, not `create_dir_all`: it fails if someone created the folder since.
    std::fs::create_dir(&plan.dir)
        .with_context(|| format!("cannot create {}", plan.dir.display()))?;
    let written = files(plan).into_iter().try_for_each(|(relative, text)| {
        let path = plan.dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&plan.dir);
    }
    written
}

fn print_next_steps(root: &Path, plan: &Plan) {
    let shown = plan
        .dir
        .strip_prefix(root.canonicalize().unwrap_or_else(|_| root.to_path_buf()))
        .unwrap_or(&plan.dir)
        .display()
        .to_string();
    println!(
        "Created the {} plugin `{}` in {shown}:",
        plan.kind.label(),
        plan.name
    );
    for (relative, _) in files(plan) {
        println!("  {relative}");
    }
    match &plan.home {
        Home::Plugins => println!("It is a member of this workspace."),
        Home::Workspace => {
            let member =
                workspace_package_names(root).is_ok_and(|names| names.contains(&plan.name));
            if member {
                println!(
                    "It is a member of this workspace (outside plugins/, so \
                     `cargo xtask build-plugins` will not build it)."
                );
            } else {
                println!(
                    "WARNING: it is inside this workspace but not one of its members: add \
                     \"{shown}\" to `members` in the root Cargo.toml, or cargo will refuse \
                     to build it."
                );
            }
        }
        Home::Standalone { sdk } => println!(
            "It is a workspace of its own, using the SDK at {}.",
            sdk.display()
        ),
    }
    println!("\nNext steps:");
    if matches!(plan.home, Home::Standalone { .. }) {
        println!("  cd {}", plan.dir.display());
    }
    for line in build_steps(plan).lines() {
        println!("  {line}");
    }
    println!("\nThen add an entry to config/baton.toml and restart Baton:\n");
    let readme = render(README, plan);
    let entry = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_default();
    for line in entry.lines() {
        println!("  {line}");
    }
    println!("\nplugins/README.md in this repository has the rules a plugin follows.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names() {
        for good in ["matcher-words", "acme", "a1", "chat-2-go", "x-"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("1password", "start with"),
            ("-dash", "start with"),
            ("_under", "start with"),
            ("Acme", "start with"),
            ("acMe", "not 'M'"),
            ("my_plugin", "not '_'"),
            ("my plugin", "not ' '"),
            ("café", "not 'é'"),
            ("a/b", "not '/'"),
            ("fn", "keyword"),
            ("std", "built-in"),
            ("proc-macro", "built-in"),
            ("chat", "built-in channel"),
            ("email", "built-in channel"),
        ] {
            let error = check_name(bad).expect_err(bad);
            assert!(error.contains(why), "{bad:?}: {error}");
        }
        assert_eq!(check_name(&"a".repeat(64)), Ok(()));
        assert!(check_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn new_reads_its_arguments_in_any_order() {
        let args = |line: &str| -> Vec<String> { line.split(' ').map(str::to_owned).collect() };
        let (name, kind, path) =
            parse_new(&args("acme --kind channel --path /tmp/acme")).expect("parsed");
        assert_eq!(
            (name.as_str(), kind, path),
            ("acme", Kind::Channel, Some(PathBuf::from("/tmp/acme")))
        );
        let (name, kind, path) = parse_new(&args("--kind=matcher acme")).expect("parsed");
        assert_eq!((name.as_str(), kind, path), ("acme", Kind::Matcher, None));
        for (line, why) in [
            ("acme", "--kind"),
            ("--kind matcher", "NAME"),
            ("acme --kind bot", "not `bot`"),
            ("acme --kind", "needs a value"),
            ("Acme --kind matcher", "bad plugin name"),
            ("acme --kind matcher extra", "unexpected"),
            ("acme --kind matcher --force", "unknown option"),
        ] {
            let error = parse_new(&args(line)).expect_err(line).to_string();
            assert!(error.contains(why), "{line:?}: {error}");
        }
    }

    fn standalone(kind: Kind) -> Plan {
        Plan {
            name: "acme-words".into(),
            kind,
            dir: PathBuf::from("/elsewhere/acme-words"),
            home: Home::Standalone {
                sdk: PathBuf::from("/src/baton \"main\"/crates/baton-plugin-sdk"),
            },
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        for kind in [Kind::Matcher, Kind::Channel] {
            for home in [Home::Plugins, Home::Workspace, standalone(kind).home] {
                let plan = Plan {
                    home,
                    ..standalone(kind)
                };
                for (file, text) in files(&plan) {
                    let left = text.split('@').skip(1).step_by(2).find(|word| {
                        !word.is_empty() && word.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    });
                    assert_eq!(left, None, "{file} of {plan:?}");
                }
            }
        }
    }

    #[test]
    fn manifests_inherit_inside_the_workspace_and_stand_alone_outside() {
        let inside = Plan {
            home: Home::Plugins,
            ..standalone(Kind::Matcher)
        };
        let text = manifest(&inside);
        for line in [
            "name = \"acme-words\"",
            "crate-type = [\"cdylib\", \"rlib\"]",
            "version.workspace = true",
            "baton-plugin-sdk.workspace = true",
            "[dev-dependencies]\nserde_json.workspace = true",
            "[lints]\nworkspace = true",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        assert!(!text.contains("[workspace]"), "{text}");

        let text = manifest(&standalone(Kind::Channel));
        for line in [
            "\n[workspace]\n",
            "edition = \"2024\"",
            r#"baton-plugin-sdk = { path = "/src/baton \"main\"/crates/baton-plugin-sdk" }"#,
            "serde = { version = \"1\", features = [\"derive\"] }",
            "serde_json = \"1\"",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        assert!(!text.contains(".workspace = true"), "{text}");
    }

    #[test]
    fn the_crate_name_reaches_the_tests_and_readme() {
        let files = files(&standalone(Kind::Matcher));
        let text = |name: &str| {
            files
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, text)| text.clone())
                .unwrap_or_default()
        };
        assert!(text("tests/abi.rs").contains("use acme_words::baton_plugin_vtable_v1;"));
        let readme = text("README.md");
        let library = crate::plugins::library_file_name("acme-words");
        assert!(
            readme.contains(&format!(
                "path = \"/elsewhere/acme-words/target/release/{library}\""
            )),
            "{readme}"
        );
        assert!(
            readme.contains("[[plugins]]\nname = \"acme-words\""),
            "{readme}"
        );
    }

    #[test]
    fn an_existing_folder_is_refused_and_the_home_follows_the_path() {
        let root = crate::workspace_root();
        let outside = tempfile::tempdir().expect("tempdir");
        let taken = outside.path().join("taken");
        std::fs::create_dir(&taken).expect("mkdir");
        let error = plan(&root, "taken", Kind::Matcher, Some(&taken)).expect_err("exists");
        assert!(error.to_string().contains("already exists"), "{error}");

        let fresh = outside.path().join("sub/../fresh");
        let planned = plan(&root, "fresh", Kind::Matcher, Some(&fresh)).expect("plan");
        assert!(
            matches!(planned.home, Home::Standalone { .. }),
            "{planned:?}"
        );
        assert!(planned.dir.ends_with("fresh") && !planned.dir.ends_with("sub/fresh"));

        let planned = plan(&root, "not-yet-a-plugin", Kind::Channel, None).expect("plan");
        assert_eq!(planned.home, Home::Plugins);
        let error = plan(&root, "matcher-regex", Kind::Matcher, None).expect_err("exists");
        assert!(error.to_string().contains("already exists"), "{error}");
        let error = plan(&root, "baton-core", Kind::Matcher, None).expect_err("taken");
        assert!(
            error.to_string().contains("already has a package"),
            "{error}"
        );
    }
}
