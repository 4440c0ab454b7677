//! The staff console in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/console.mjs`) against the real binary, each element
//! found by its role and accessible name as a person finds it. Each test starts its own
//! server, runs one mode of the script, and checks what the page showed against what the
//! server stored (over the API, with the owner's bearer token).
//!
//! `.ci/run` installs Chromium and the script's packages (`npm ci`) and sets
//! `BATON_REQUIRE_BROWSER=1`; elsewhere the tests say they are skipped when Chromium or
//! the packages are missing. Screenshots go to `target/screenshots/console-*.png`.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use baton_e2e::browser::{Browser, browser_or_skip};
use baton_e2e::{Backend, Server, StatusCode, id_of, run_to_success};
use serde_json::{Value, json};

/// The messages the script types (kept in step with `console.mjs`).
const CONSOLE_AVAILABLE: &str = "Console: a teammate joins the chat now.";
const CONSOLE_UNAVAILABLE: &str = "Console: we will write back soon.";
const CONSOLE_UNASSIGNED: &str = "Console: your ticket is logged.";
const TEMPLATE: &str = "reassign_tickets_for_customer_agent_handoff";

/// The script's packages in `tests/browser/node_modules`.
const PACKAGES: &[&str] = &["playwright-core", "@axe-core/playwright"];

/// One browser at a time: the machine has two cores, and a loaded one makes timeouts.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `target/screenshots` of the workspace.
fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("target")
        .join("screenshots")
}

/// Runs `node console.mjs MODE BASE OWNER_LINK SHOTS_DIR EXTRA...` and returns its report.
async fn console_script(browser: &Browser, server: &Server, mode: &str, extra: &[String]) -> Value {
    let link = server.owner_password_link().await;
    let _one = ONE_BROWSER.lock().await;
    let mut node = browser.node("console.mjs");
    node.arg(mode)
        .arg(&server.base)
        .arg(&link)
        .arg(screenshots())
        .args(extra);
    let stdout = run_to_success(node).await;
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON report from console.mjs {mode}:\n{stdout}"));
    let report: Value = serde_json::from_str(line).unwrap();
    eprintln!("console.mjs {mode}: {report:#}");
    report
}

async fn inbox_named(server: &Server, name: &str) -> Value {
    let inboxes = server.get_ok("/api/v1/inboxes").await;
    inboxes["inboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no inbox {name:?} in {inboxes}"))
        .clone()
}

async fn create_help_desk(server: &Server, name: &str) -> i64 {
    let (status, inbox) = server
        .post(
            "/api/v1/inboxes",
            json!({"name": name, "kind": "help_desk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "create help desk: {inbox}");
    id_of(&inbox)
}

#[track_caller]
fn assert_no_problems(report: &Value, key: &str) {
    let problems = report[key].as_array().cloned().unwrap_or_default();
    assert!(
        problems.is_empty(),
        "script errors or console errors (CSP refusals show here): {problems:#?}"
    );
}

/// Scenarios 1–3: the first sign-in, the triggers panel, live handoff to a help desk and
/// a team, "Try a message" on saved and unsaved settings, and the boxes each choice shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_signs_in_and_sets_up_live_handoff_to_a_help_desk() {
    let Some(browser) = browser_or_skip(PACKAGES) else {
        return;
    };
    let server = Server::start(Backend::Sqlite).await;
    server.create_inbox("Support inbox").await;
    let (pat, _) = server.agent("Pat Agent", 5).await;
    let team = server.create_team("Tier 1", &[pat]).await;
    let before = server.settings().await;
    assert_eq!(
        before["custom_triggers"],
        json!([]),
        "a fresh server: {before}"
    );

    let report = console_script(&browser, &server, "flow", &[]).await;

    // Scenario 3, help desk: the conditions option appears only once one exists.
    assert_eq!(report["conditions_without_help_desk"], 0, "{report}");
    assert_eq!(
        report["help_desk_hint"], 1,
        "the 'create a help desk' link: {report}"
    );
    assert_eq!(report["conditions_with_help_desk"], 1, "{report}");
    // Scenario 1: the panel, then the saved page.
    assert_eq!(report["pencil_expanded"], "true", "{report}");
    assert_eq!(report["panel_open_after_save"], false, "{report}");
    assert_eq!(report["triggers_shown"], json!(["refund"]), "{report}");
    let after = &report["after_reload"];
    assert_eq!(after["triggers"], json!(["refund"]), "{report}");

    // What the page showed is what the server stored.
    let desk = inbox_named(&server, "Priority desk").await;
    assert_eq!(desk["kind"], "help_desk", "{desk}");
    let settings = server.settings().await;
    assert_eq!(settings["custom_triggers"], json!(["refund"]), "{settings}");
    assert_eq!(settings["process"], "live", "{settings}");
    let destination = &settings["destination"];
    assert_eq!(destination["kind"], "users_and_teams", "{settings}");
    assert_eq!(destination["inbox_id"], desk["id"], "{settings}");
    assert_eq!(destination["team_ids"], json!([team]), "{settings}");
    assert_eq!(destination["user_ids"], json!([]), "{settings}");
    assert_eq!(
        settings["messages"]["available"], CONSOLE_AVAILABLE,
        "{settings}"
    );
    assert_eq!(
        settings["messages"]["unavailable"], CONSOLE_UNAVAILABLE,
        "{settings}"
    );
    assert_eq!(
        settings["default_triggers"]["asks_for_human"], true,
        "{settings}"
    );
    // Two saves (the panel, then the form); "Try a message" stored nothing.
    assert_eq!(
        settings["version"].as_i64().unwrap(),
        before["version"].as_i64().unwrap() + 2,
        "before {before}, after {settings}"
    );

    // "Try a message", saved and unsaved.
    let saved = &report["try_saved"];
    assert!(
        saved["headline"].as_str().unwrap().starts_with("Hands off"),
        "{saved}"
    );
    assert_eq!(saved["marked"], "refund", "{saved}");
    assert_eq!(saved["trigger"], "custom", "{saved}");
    assert!(
        !saved["explanation"].as_str().unwrap().trim().is_empty(),
        "{saved}"
    );
    let unsaved = &report["try_unsaved_trigger"];
    assert_eq!(unsaved["marked"], "invoice", "{unsaved}");
    assert_eq!(
        report["try_human_saved"]["trigger"], "asks_for_human",
        "{report}"
    );
    assert_ne!(
        report["try_human_unsaved"]["trigger"], "asks_for_human",
        "{report}"
    );

    // Scenario 3: exactly the right boxes for each process and destination.
    let mismatches = report["visibility_mismatches"].as_array().unwrap();
    assert!(
        mismatches.is_empty(),
        "boxes shown wrongly: {mismatches:#?}"
    );
    assert_no_problems(&report, "problems");
}

/// Scenario 4: a workflow from the template, completed in the editor, chosen as the
/// destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_from_the_template_becomes_the_handoff_destination() {
    let Some(browser) = browser_or_skip(PACKAGES) else {
        return;
    };
    let server = Server::start(Backend::Sqlite).await;
    let (pat, _) = server.agent("Pat Agent", 5).await;
    let team = server.create_team("Tier 1", &[pat]).await;
    create_help_desk(&server, "Priority desk").await;

    let report = console_script(&browser, &server, "workflow", &[]).await;

    let option = &report["option_while_incomplete"];
    assert_eq!(
        option["disabled"], true,
        "an incomplete workflow is not a choice: {report}"
    );
    assert_eq!(report["incomplete_badge"], 1, "{report}");
    assert!(report["complete_badge"].as_i64().unwrap() >= 1, "{report}");
    assert!(
        report["list_state"]
            .as_str()
            .unwrap()
            .starts_with("Complete"),
        "{report}"
    );
    let id = report["workflow_id"].as_i64().unwrap();
    let workflow = server.get_ok(&format!("/api/v1/workflows/{id}")).await;
    assert_eq!(workflow["complete"], true, "{workflow}");
    let branch = &workflow["definition"]["actions"][0];
    for arm in branch["arms"].as_array().unwrap() {
        assert_eq!(arm["actions"][0]["user_ids"], json!([pat]), "{workflow}");
    }
    assert_eq!(branch["otherwise"][0]["team_id"], team, "{workflow}");

    let settings = server.settings().await;
    assert_eq!(settings["process"], "live", "{settings}");
    assert_eq!(settings["destination"]["kind"], "workflow", "{settings}");
    assert_eq!(settings["destination"]["workflow_id"], id, "{settings}");
    assert_eq!(settings["unassigned_chat"], "close", "{settings}");
    assert_eq!(
        settings["messages"]["unassigned_by_workflow"], CONSOLE_UNASSIGNED,
        "{settings}"
    );
    let after = &report["after_reload"];
    assert_eq!(after["conditions"], true, "{report}");
    assert_eq!(after["close_chat"], true, "{report}");
    assert_eq!(after["unassigned"], CONSOLE_UNASSIGNED, "{report}");
    assert_no_problems(&report, "problems");
}

/// Scenario 5: a user without a paid seat reads only; a cross-site post with the cookie
/// is refused; after "Sign out" the old cookie opens nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seatless_users_read_only_and_forged_or_old_cookies_open_nothing() {
    let Some(browser) = browser_or_skip(PACKAGES) else {
        return;
    };
    let server = Server::start(Backend::Sqlite).await;
    let nia = server
        .create_user("Nia Viewer", "none", &["customer_agent_editor"], None)
        .await;
    let email = server.user(nia).await["email"].as_str().unwrap().to_owned();
    let before = server.settings().await;

    let report = console_script(
        &browser,
        &server,
        "seats",
        &["Nia Viewer".to_owned(), email],
    )
    .await;

    assert_eq!(report["cross_site_status"], 403, "{report}");
    // From a page of another site the browser leaves the cookie out (SameSite=Strict):
    // the post arrives signed out and is refused as such (401) or by the origin check.
    let browser_status = report["cross_site_browser_status"].as_i64().unwrap();
    assert!(matches!(browser_status, 401 | 403), "{report}");
    assert_eq!(server.settings().await, before, "nothing stored");
    assert_eq!(report["link_made"], true, "{report}");
    assert_eq!(report["after_sign_out_url"], "/login", "{report}");
    assert_eq!(report["old_cookie_page"]["status"], 303, "{report}");
    assert!(
        report["old_cookie_page"]["location"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/login"),
        "{report}"
    );
    assert_eq!(report["old_cookie_api"], 401, "{report}");
    let readonly = &report["readonly"];
    assert!(
        readonly["note"]
            .as_str()
            .unwrap()
            .contains("paid (sales or service) seat"),
        "{report}"
    );
    assert_eq!(readonly["save_buttons"], 0, "{report}");
    assert_eq!(readonly["pencil"], 0, "{report}");
    assert_eq!(readonly["live_disabled"], true, "{report}");
    assert_eq!(readonly["triggers_disabled"], true, "{report}");
    assert_no_problems(&report, "problems");
    assert_no_problems(&report, "seatless_problems");
}

/// Scenarios 6 and 7: axe-core (WCAG 2 A and AA) on every console page with no violation,
/// screenshots at 1280 and 375 px, and no horizontal overflow at 375 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_page_passes_axe_and_fits_375_px() {
    let Some(browser) = browser_or_skip(PACKAGES) else {
        return;
    };
    let server = Server::start(Backend::Sqlite).await;
    let (pat, _) = server.agent("Pat Agent", 5).await;
    server.create_user("Nia Viewer", "none", &[], None).await;
    let team = server.create_team("Tier 1", &[pat]).await;
    create_help_desk(&server, "Priority desk").await;
    server
        .route_to_teams("live", &[pat], &[team], &["refund", "cancellation"])
        .await;
    let (status, workflow) = server
        .post(
            "/api/v1/workflows/from-template",
            json!({"template": TEMPLATE}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workflow}");
    let workflow = id_of(&workflow);
    // Something for the audit log to list: a handoff.
    let visitor = server.visitor().await;
    visitor.say_expect_handoff("I want a refund").await;
    // Something for the webhooks page to list (its deliveries fail: nothing answers there from this machine).
    let (status, hook) = server
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://93.184.215.14/baton", "events": ["*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");

    let report = console_script(
        &browser,
        &server,
        "audit",
        &[pat.to_string(), workflow.to_string()],
    )
    .await;

    let mut failures = String::new();
    let mut summary = String::new();
    for entry in report["pages"].as_array().unwrap() {
        let page = entry["page"].as_str().unwrap();
        let path = entry["path"].as_str().unwrap_or("");
        for (width, at) in entry["widths"].as_object().unwrap() {
            let _ = writeln!(
                summary,
                "{page} at {width}: {}",
                at["screenshot"].as_str().unwrap_or("no screenshot")
            );
            let mut say = |what: String| {
                let _ = writeln!(failures, "{page} ({path}) at {width} px: {what}");
            };
            for key in ["error", "unexpected_status"] {
                if let Some(text) = at[key].as_str() {
                    say(text.to_owned());
                }
            }
            for v in at["violations"].as_array().into_iter().flatten() {
                say(format!(
                    "axe {} ({}, {} nodes): {} — {}",
                    v["id"].as_str().unwrap_or("?"),
                    v["impact"].as_str().unwrap_or("?"),
                    v["nodes"],
                    v["help"].as_str().unwrap_or(""),
                    v["targets"]
                ));
            }
            if let Some(width) = at["overflow"]["scroll_width"].as_i64()
                && width > 376
            {
                say(format!(
                    "scrollWidth {width} > 376; offenders {:#}",
                    at["overflow"]["offenders"]
                ));
            }
            for problem in at["problems"].as_array().into_iter().flatten() {
                say(problem.as_str().unwrap_or("?").to_owned());
            }
        }
    }
    eprintln!("screenshots:\n{summary}");
    assert!(failures.is_empty(), "console pages:\n{failures}");
}

/// The agent inbox (B8) in a real browser: signed in, the inbox is open when a visitor
/// asks for a human; the row appears without a reload and the title shows a badge; J and
/// Enter open it with the handoff pinned; claim, reply with Ctrl+Enter, hand back; Esc
/// goes back to the list. axe-clean, screenshots `console-inbox-*` at 1280 and 375 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_shows_a_handoff_live_and_the_agent_replies_and_hands_back() {
    let Some(browser) = browser_or_skip(PACKAGES) else {
        return;
    };
    let server = Server::start(Backend::Sqlite).await;
    // Pat, the only destination, is away: the handoff waits in Unassigned.
    let (pat, token) = server.agent("Pat Agent", 5).await;
    server.route_to("live", &[pat], &[]).await;
    server.set_availability(&token, pat, "away").await;

    let report = console_script(&browser, &server, "inbox", &[]).await;
    assert_eq!(report["start_path"], "/console/inbox", "{report:#}");
    assert_eq!(report["visitor_status"], 200, "{report:#}");
    assert_eq!(
        report["not_reloaded"], true,
        "the row came live: {report:#}"
    );
    assert_eq!(report["rows"], 1, "{report:#}");
    assert_eq!(report["badge_title"], "(1) Inbox · Baton", "{report:#}");
    assert_eq!(report["focused"], "Vera Visitor vera@visitor.example");
    let pinned = report["pinned"].as_str().unwrap();
    assert!(pinned.contains("vera@visitor.example"), "{pinned}");
    assert!(
        pinned.contains("web_chat") || pinned.contains("Channel"),
        "{pinned}"
    );
    assert_eq!(report["human_turn"], "Hello Vera, Owner here.");
    assert_eq!(report["back_to_list"], true);
    for view in ["list", "conversation"] {
        for width in ["1280", "375"] {
            let at = &report[view][width];
            assert_eq!(
                at["violations"],
                json!([]),
                "axe on the {view} at {width}: {report:#}"
            );
            assert!(
                at["scroll_width"].as_i64().unwrap() <= 376 || width == "1280",
                "{view} overflows at 375: {report:#}"
            );
        }
    }
    assert_eq!(report["problems"], json!([]), "{report:#}");

    // What the server stored: the staff reply, and the agent holds it again.
    let id = report["conversation_id"].as_i64().unwrap();
    let messages = server
        .get_ok(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    let messages = messages["messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m["author"] == "user" && m["text"] == "Hello Vera, Owner here."),
        "{messages:?}"
    );
    assert_eq!(server.conversation(id).await["assignee"]["kind"], "agent");
}
