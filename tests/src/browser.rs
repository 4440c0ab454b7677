//! Headless Chromium for the browser tests, driven by playwright-core scripts in
//! `tests/browser`. `.ci/run` installs both and sets `BATON_REQUIRE_BROWSER=1`; elsewhere a
//! test says it is skipped when Chromium or the scripts' packages are missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Chromium and the scripts are.
#[derive(Debug)]
pub struct Browser {
    /// The Chromium binary (`$CHROMIUM`, else `/usr/bin/chromium`).
    pub chromium: String,
    /// `tests/browser`: the scripts and their `node_modules`.
    pub dir: PathBuf,
}

impl Browser {
    /// `node SCRIPT` run in the scripts' directory with `CHROMIUM` set; add the arguments.
    pub fn node(&self, script: &str) -> Command {
        let mut node = Command::new("node");
        node.arg(script)
            .current_dir(&self.dir)
            .env("CHROMIUM", &self.chromium);
        node
    }
}

/// The browser, or `None` (after saying why) when Chromium or one of `packages` (in
/// `tests/browser/node_modules`) is missing. Panics instead when `BATON_REQUIRE_BROWSER=1`.
pub fn browser_or_skip(packages: &[&str]) -> Option<Browser> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let missing = if !Path::new(&chromium).is_file() {
        Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ))
    } else {
        packages
            .iter()
            .find(|p| !dir.join("node_modules").join(p).is_dir())
            .map(|package| format!("no {package} in {} (npm ci there)", dir.display()))
    };
    match missing {
        None => Some(Browser { chromium, dir }),
        Some(why) => {
            assert!(
                std::env::var("BATON_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "BATON_REQUIRE_BROWSER=1 but {why}"
            );
            eprintln!("skipped: {why}");
            None
        }
    }
}
