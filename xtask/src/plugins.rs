//! `cargo xtask build-plugins [--release] [--out DIR]`: builds every plugin crate of the
//! workspace (a package under `plugins/` with a `cdylib` target) in one `cargo build`, and
//! gathers the libraries in one folder (default `<target>/plugins/`), from where the
//! `[[plugins]]` entries of `config/baton.toml` name them.
//!
//! The fault fixtures of `baton-plugin-host` are cdylibs too, but live under `crates/`, so
//! they are not plugins and are left out.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use cargo_metadata::{Metadata, MetadataCommand};

const USAGE: &str = "usage: cargo xtask build-plugins [--release] [--out DIR]";

/// A plugin crate of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PluginCrate {
    /// The package name, for `cargo build -p`.
    pub(crate) package: String,
    /// The name of its cdylib target (cargo spells it with `_` for `-`).
    pub(crate) lib: String,
}

/// The file `cargo build` makes for the library target `lib`: `lib<lib_with_underscores>.so`
/// on Linux, `.dylib` on macOS, `<lib>.dll` on Windows.
pub(crate) fn library_file_name(lib: &str) -> String {
    format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        lib.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    )
}

/// The workspace packages whose manifest is under `<workspace root>/plugins/` and that
/// have a cdylib target, by package name.
pub(crate) fn plugin_crates(metadata: &Metadata) -> Vec<PluginCrate> {
    let plugins_dir = metadata.workspace_root.join("plugins");
    let mut crates: Vec<PluginCrate> = metadata
        .workspace_packages()
        .into_iter()
        .filter(|package| package.manifest_path.starts_with(&plugins_dir))
        .filter_map(|package| {
            let lib = package.targets.iter().find(|target| target.is_cdylib())?;
            Some(PluginCrate {
                package: package.name.to_string(),
                lib: lib.name.clone(),
            })
        })
        .collect();
    crates.sort_by(|a, b| a.package.cmp(&b.package));
    crates
}

/// The workspace's own packages (no dependency resolution).
pub(crate) fn workspace_metadata(root: &Path) -> anyhow::Result<Metadata> {
    MetadataCommand::new()
        .cargo_path(crate::cargo())
        .manifest_path(root.join("Cargo.toml"))
        .no_deps()
        .exec()
        .context("cargo metadata failed")
}

pub(crate) fn build_plugins(args: &[String]) -> anyhow::Result<bool> {
    let mut release = false;
    let mut out: Option<PathBuf> = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = crate::split_flag(arg);
        match flag {
            "--release" if inline.is_none() => release = true,
            "--out" => out = Some(PathBuf::from(crate::flag_value(flag, inline, &mut rest)?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(true);
            }
            _ => bail!("unexpected argument `{arg}`\n{USAGE}"),
        }
    }

    let root = crate::workspace_root();
    let metadata = workspace_metadata(&root)?;
    let plugins = plugin_crates(&metadata);
    if plugins.is_empty() {
        bail!(
            "no plugin crates: no workspace package under {} has a cdylib target",
            metadata.workspace_root.join("plugins")
        );
    }

    let mut cmd = Command::new(crate::cargo());
    cmd.arg("build").current_dir(&root);
    if release {
        cmd.arg("--release");
    }
    for plugin in &plugins {
        cmd.args(["-p", &plugin.package]);
    }
    let packages: Vec<&str> = plugins.iter().map(|p| p.package.as_str()).collect();
    println!(
        "xtask: $ cargo build{} -p {}",
        if release { " --release" } else { "" },
        packages.join(" -p ")
    );
    if !cmd.status().context("cannot run cargo build")?.success() {
        bail!(
            "cargo build failed for the plugins ({}); nothing was copied",
            packages.join(", ")
        );
    }

    let target_dir = metadata.target_directory.as_std_path();
    let mut built_dir = target_dir.to_path_buf();
    // A cross build (`CARGO_BUILD_TARGET`) puts its output under the target triple.
    if let Some(triple) = std::env::var_os("CARGO_BUILD_TARGET").filter(|t| !t.is_empty()) {
        built_dir.push(triple);
    }
    built_dir.push(if release { "release" } else { "debug" });
    let libraries: Vec<(&PluginCrate, PathBuf)> = plugins
        .iter()
        .map(|plugin| (plugin, built_dir.join(library_file_name(&plugin.lib))))
        .collect();
    let missing: Vec<String> = libraries
        .iter()
        .filter(|(_, path)| !path.is_file())
        .map(|(plugin, path)| format!("{} ({})", path.display(), plugin.package))
        .collect();
    if !missing.is_empty() {
        bail!(
            "cargo build succeeded but did not leave these libraries: {}; nothing was copied",
            missing.join(", ")
        );
    }

    let out = out.unwrap_or_else(|| target_dir.join("plugins"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let out = out.canonicalize().unwrap_or(out);
    let width = packages.iter().map(|p| p.len()).max().unwrap_or(0);
    for (plugin, built) in &libraries {
        let file = built.file_name().unwrap_or_default();
        let dest = out.join(file);
        replace_file(built, &dest)?;
        println!("{:<width$}  {}", plugin.package, dest.display());
    }
    Ok(true)
}

/// Copies `from` over `to` through a temporary file and a rename, so that `to` is a new
/// file rather than the old one rewritten in place: a running Baton has the old library
/// mapped, and rewriting those pages under it would crash it.
fn replace_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    let name = to.file_name().unwrap_or_default().to_string_lossy();
    let temporary = to.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::copy(from, &temporary)
        .with_context(|| format!("cannot copy {} to {}", from.display(), temporary.display()))?;
    std::fs::rename(&temporary, to).with_context(|| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot move {} to {}", temporary.display(), to.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names_use_underscores_and_the_platform_affixes() {
        let name = library_file_name("channel-telegram");
        assert!(name.contains("channel_telegram"), "{name}");
        #[cfg(target_os = "linux")]
        assert_eq!(name, "libchannel_telegram.so");
        #[cfg(target_os = "macos")]
        assert_eq!(name, "libchannel_telegram.dylib");
    }

    /// The real workspace: the shipped plugins, and none of the host's fault fixtures.
    #[test]
    fn the_plugins_are_the_cdylibs_under_plugins() {
        let metadata = MetadataCommand::new()
            .cargo_path(crate::cargo())
            .manifest_path(crate::workspace_root().join("Cargo.toml"))
            .no_deps()
            .exec()
            .expect("cargo metadata");
        let plugins = plugin_crates(&metadata);
        for shipped in ["channel-telegram", "channel-whatsapp", "matcher-regex"] {
            assert!(
                plugins
                    .iter()
                    .any(|p| p.package == shipped && p.lib == shipped.replace('-', "_")),
                "{shipped} missing from {plugins:?}"
            );
        }
        assert!(
            plugins.iter().all(|p| !p.package.starts_with("fixture-")),
            "{plugins:?}"
        );
    }

    #[test]
    fn replacing_a_file_gives_a_new_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (from, to) = (dir.path().join("new.so"), dir.path().join("lib.so"));
        std::fs::write(&from, b"new").expect("write");
        std::fs::write(&to, b"old").expect("write");
        let old = std::fs::File::open(&to).expect("open");
        replace_file(&from, &to).expect("replace");
        assert_eq!(std::fs::read(&to).expect("read"), b"new");
        // Whoever had the old file open still reads the old contents.
        let mut kept = String::new();
        std::io::Read::read_to_string(&mut &old, &mut kept).expect("read old");
        assert_eq!(kept, "old");
        let leftovers = std::fs::read_dir(dir.path()).expect("ls").count();
        assert_eq!(leftovers, 2);
    }
}
