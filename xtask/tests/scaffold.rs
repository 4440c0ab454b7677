//! `cargo xtask plugin new` for real: a matcher and a channel generated outside the
//! workspace (so with standalone manifests), each tested and built by cargo in its own
//! folder. The two share one target directory, so the second reuses the first's
//! dependencies; the generated tests drive each plugin through its C entry points.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

/// The cargo running this test (so the same toolchain).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned())
}

fn shown(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs cargo in `dir` with the shared target directory.
fn cargo_in(dir: &Path, target: &Path, args: &[&str]) -> Output {
    Command::new(cargo())
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        // Settings of the cargo that runs this test, not meant for the generated crate.
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .output()
        .unwrap_or_else(|error| panic!("cannot run cargo {args:?}: {error}"))
}

fn must(dir: &Path, target: &Path, args: &[&str]) -> Output {
    let output = cargo_in(dir, target, args);
    assert!(
        output.status.success(),
        "cargo {args:?} in {} failed\n{}",
        dir.display(),
        shown(&output)
    );
    output
}

#[test]
fn generated_plugins_build_and_pass_their_abi_tests_outside_the_workspace() {
    let started = Instant::now();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .canonicalize()
        .expect("workspace root");
    let scratch = tempfile::tempdir().expect("tempdir");
    let scratch_dir = scratch.path().canonicalize().expect("tempdir path");
    assert!(
        !scratch_dir.starts_with(&workspace),
        "the temporary folder {} must be outside the workspace",
        scratch_dir.display()
    );
    let target = scratch_dir.join("target");
    // Whether the generated code is rustfmt-clean is checked where rustfmt is installed.
    let rustfmt = Command::new(cargo())
        .args(["fmt", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());

    for (name, kind) in [
        ("scaffold-matcher", "matcher"),
        ("scaffold-channel", "channel"),
    ] {
        let dir = scratch_dir.join(name);
        let generated = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["plugin", "new", name, "--kind", kind, "--path"])
            .arg(&dir)
            .output()
            .expect("run xtask");
        assert!(generated.status.success(), "{}", shown(&generated));
        let said = String::from_utf8_lossy(&generated.stdout);
        assert!(said.contains("Next steps"), "{said}");
        assert!(said.contains("[[plugins]]"), "{said}");

        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        let sdk = workspace.join("crates").join("baton-plugin-sdk");
        assert!(
            manifest.contains(&format!("path = \"{}\"", sdk.display())),
            "{manifest}"
        );

        // A second run refuses to overwrite the crate.
        let again = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["plugin", "new", name, "--kind", kind, "--path"])
            .arg(&dir)
            .output()
            .expect("run xtask");
        assert!(!again.status.success(), "{}", shown(&again));
        assert!(
            String::from_utf8_lossy(&again.stderr).contains("already exists"),
            "{}",
            shown(&again)
        );

        // Resolve from what is already downloaded (the workspace's own dependencies);
        // only when that cannot satisfy the manifest, ask the registry.
        let offline = cargo_in(&dir, &target, &["generate-lockfile", "--offline"]);
        let network = if offline.status.success() {
            "--offline"
        } else {
            eprintln!(
                "{name}: offline resolution failed, resolving online\n{}",
                shown(&offline)
            );
            must(&dir, &target, &["generate-lockfile"]);
            // Downloads allowed, the lock file as resolved.
            "--locked"
        };

        let tested = must(&dir, &target, &["test", network]);
        let report = String::from_utf8_lossy(&tested.stdout);
        let passed: usize = report
            .lines()
            .filter_map(|line| line.strip_prefix("test result: ok. "))
            .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
            .sum();
        assert!(passed >= 3, "{name}: only {passed} tests passed\n{report}");

        must(&dir, &target, &["build", network]);
        let library = target.join("debug").join(format!(
            "{}{}{}",
            std::env::consts::DLL_PREFIX,
            name.replace('-', "_"),
            std::env::consts::DLL_SUFFIX
        ));
        assert!(library.is_file(), "{} was not built", library.display());

        if rustfmt {
            must(&dir, &target, &["fmt", "--check"]);
        }

        // With `panic = "abort"` a caught panic would become an abort of the host: the
        // SDK refuses to compile such a plugin (a target dir of its own, as every crate
        // is rebuilt for the other panic strategy).
        if kind == "matcher" {
            let output = Command::new(cargo())
                .args(["build", network])
                .current_dir(&dir)
                .env("CARGO_TARGET_DIR", target.join("abort"))
                .env("CARGO_PROFILE_DEV_PANIC", "abort")
                .env_remove("CARGO_BUILD_TARGET")
                .env_remove("RUSTC_WORKSPACE_WRAPPER")
                .output()
                .unwrap();
            assert!(!output.status.success(), "{}", shown(&output));
            assert!(
                String::from_utf8_lossy(&output.stderr).contains("panic = \"unwind\""),
                "{}",
                shown(&output)
            );
        }
    }
    eprintln!(
        "generated, tested and built both plugins in {:.1?}",
        started.elapsed()
    );
}
