// Drives the staff console on a running Baton in headless Chromium, as a person would:
// every element is found by its role and accessible name (or its label), never by a CSS
// class. One mode per run, each against a fresh server whose first start printed the
// owner's one-time set-password link:
//
//   node console.mjs flow     BASE OWNER_LINK SHOTS_DIR
//       the owner's first sign-in, custom triggers in the side panel, live handoff to a help
//       desk and a team, "Try a message" on saved and unsaved settings, and which boxes
//       each process and destination shows.
//   node console.mjs workflow BASE OWNER_LINK SHOTS_DIR
//       a workflow from the template, its rotations filled in the editor, then chosen as
//       the handoff destination.
//   node console.mjs seats    BASE OWNER_LINK SHOTS_DIR SEATLESS_NAME SEATLESS_EMAIL
//       a cross-site post with the owner's cookie, a set-password link for a user without a
//       paid seat, sign-out, and that user's read-only handoff page.
//   node console.mjs audit    BASE OWNER_LINK SHOTS_DIR USER_ID WORKFLOW_ID
//       axe-core (WCAG 2 A and AA), a screenshot at 1280 and 375 px wide and the
//       horizontal-overflow check at 375 px, on every console page.
//
// The flows throw on the first thing that is not as expected (exit 1, with the step and
// a screenshot `console-failure-<mode>.png`); on success they print one JSON line for the
// Rust side to check against the server's stored state. `audit` always prints its
// report (violations, overflow offenders, missing pages) and leaves the verdict to Rust.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";

const [mode, base, ownerLink, shots, ...rest] = process.argv.slice(2);
if (!mode || !base || !ownerLink || !shots) {
  throw new Error("usage: node console.mjs flow|workflow|seats|audit BASE OWNER_LINK SHOTS_DIR [...]");
}
mkdirSync(shots, { recursive: true });

const OWNER = "owner@localhost";
const PASSWORD = "correct horse battery";
const HANDOFF = "/console/agent/handoff";
const AVAILABLE = "Console: a teammate joins the chat now.";
const UNAVAILABLE = "Console: we will write back soon.";
const UNASSIGNED = "Console: your ticket is logged.";
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 375, height: 800 };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Root in a container has no user namespace for the sandbox.
  args: ["--no-sandbox", "--headless=new"],
});

let current = "start";
let failurePage = null;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Runs one named step; a failure says which step it was. */
async function step(name, body) {
  current = name;
  try {
    return await body();
  } catch (error) {
    error.message = `step "${name}": ${error.message}`;
    throw error;
  }
}

/** A page that records script errors and console errors (CSP refusals show there). */
async function newPage(context, viewport = WIDE) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.setDefaultTimeout(10000);
  page.problems = [];
  page.on("pageerror", (e) => page.problems.push(`page error: ${e}`));
  page.on("console", (m) => {
    // Failed loads are reported below, with their address.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.on("response", (r) => {
    const url = new URL(r.url());
    // A page's own status is checked where it is visited; Chromium asks for a favicon
    // the console does not have (noted in the report, not a failure).
    const own = r.request().isNavigationRequest() && r.frame() === page.mainFrame();
    if (r.status() >= 400 && !own && url.pathname !== "/favicon.ico") {
      page.problems.push(`HTTP ${r.status()} for ${r.request().method()} ${url.pathname}`);
    }
  });
  page.on("requestfailed", (r) => page.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  failurePage = page;
  return page;
}

async function setPassword(page, link, password) {
  await page.goto(link);
  await page.getByRole("heading", { name: "Set your password" }).waitFor();
  await page.getByLabel("New password", { exact: true }).fill(password);
  await page.getByLabel("Repeat the password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Set password" }).click();
  await page.waitForURL((url) => url.pathname === "/login");
}

async function signIn(page, email, password) {
  if (new URL(page.url()).pathname !== "/login") await page.goto(base + "/login");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname.startsWith("/console"));
}

/** The owner's first sign-in through the printed link. */
async function ownerSignsIn(page) {
  await step("set the owner's password from the printed link", () => setPassword(page, ownerLink, PASSWORD));
  await step("sign in as the owner", () => signIn(page, OWNER, PASSWORD));
}

/** Waits for the redirect after a form post that saved (`?notice=saved`, "Saved."). */
async function saved(page) {
  await page.waitForURL((url) => url.searchParams.get("notice") === "saved");
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
}

// --- the handoff page, by role and name ------------------------------------------------

function handoff(page) {
  const radio = (name) => page.getByRole("radio", { name });
  return {
    pencil: page.getByRole("button", { name: "Edit custom triggers" }),
    panel: page.getByRole("dialog", { name: "Custom triggers" }),
    summary: page.getByRole("list", { name: "Custom triggers" }),
    live: radio(/^Live handoff to a human agent/),
    async: radio(/^Async handoff to a human agent/),
    none: radio(/^Don't hand off/),
    same: radio("I want to hand off all issues to the same users or teams"),
    conditions: radio(/^I want to assign issues to different users or teams based on a set of conditions/),
    inbox: page.getByRole("combobox", { name: "Choose where to send the conversation" }),
    workflow: page.getByRole("combobox", { name: "Ticket-based workflow" }),
    assignees: page.getByRole("group", { name: "Assign incoming tickets to" }),
    available: page.getByRole("textbox", { name: "Message when your team is available" }),
    unavailable: page.getByRole("textbox", { name: "Message when your team is unavailable" }),
    unassigned: page.getByRole("textbox", { name: "Message when the workflow did not assign the ticket" }),
    keepOpen: radio(/^Keep chat open/),
    closeChat: radio(/^Close chat/),
    timeout: page.getByRole("spinbutton", { name: "Re-route a live conversation nobody answered after (seconds)" }),
    asksForHuman: page.getByRole("checkbox", { name: "The visitor asks to talk to a human" }),
    save: page.getByRole("button", { name: "Save", exact: true }),
    tryText: page.getByRole("textbox", { name: "Message to try" }),
    tryIt: page.getByRole("button", { name: "Try it" }),
    result: page.locator("#try-result"),
  };
}

async function openHandoff(page) {
  await page.goto(base + HANDOFF);
  await page.getByRole("heading", { level: 1, name: "Human handoff" }).waitFor();
  return handoff(page);
}

async function selectedLabel(select) {
  return select.evaluate((s) => (s.selectedOptions[0] ? s.selectedOptions[0].textContent.trim() : null));
}

/** "Try a message": waits for a new result and reads it. */
async function tryMessage(page, text) {
  const h = handoff(page);
  await h.result.evaluate((el) => el.replaceChildren());
  await h.tryText.fill(text);
  await h.tryIt.click();
  await h.result.getByRole("paragraph").first().waitFor();
  const paragraphs = await h.result.getByRole("paragraph").allTextContents();
  const mark = h.result.locator("mark");
  const code = h.result.locator("code");
  return {
    headline: (await h.result.locator("strong").first().textContent({ timeout: 2000 }).catch(() => null)) ?? paragraphs[0],
    trigger: (await code.count()) ? await code.first().textContent() : null,
    marked: (await mark.count()) ? await mark.first().textContent() : null,
    explanation: paragraphs.length >= 3 ? paragraphs[2] : null,
    paragraphs,
  };
}

async function triggerBoxes(dialog) {
  return dialog.getByRole("textbox", { name: /^Trigger \d+$/ });
}

// --- modes -----------------------------------------------------------------------------

async function flow() {
  const context = await browser.newContext();
  const page = await newPage(context);
  const report = { mode };
  await ownerSignsIn(page);
  let h = handoff(page);

  await step("without a help desk, the conditions destination is not offered", async () => {
    // Signing in lands on the inbox; the handoff settings are one link away.
    await page.getByRole("link", { name: "Human handoff" }).click();
    await page.waitForURL((url) => url.pathname === HANDOFF);
    await h.live.check();
    await h.same.waitFor();
    report.conditions_without_help_desk = await h.conditions.count();
    report.help_desk_hint = await page.getByRole("link", { name: "create a help desk" }).count();
  });

  await step("add a help desk on the inboxes page", async () => {
    await page.goto(base + "/console/inboxes");
    await page.getByRole("textbox", { name: "Name" }).fill("Priority desk");
    await page.getByRole("radio", { name: /^Help desk/ }).check();
    await page.getByRole("button", { name: "Add inbox or help desk" }).click();
    await page.getByRole("cell", { name: "Priority desk", exact: true }).waitFor();
  });

  await step("with a help desk, the conditions destination is offered", async () => {
    h = await openHandoff(page);
    await h.live.check();
    await h.same.waitFor();
    report.conditions_with_help_desk = await h.conditions.count();
  });

  await step("custom triggers: open the side panel with the pencil", async () => {
    h = await openHandoff(page);
    await h.pencil.click();
    await h.panel.waitFor();
    report.pencil_expanded = await h.pencil.getAttribute("aria-expanded");
  });
  await step("custom triggers: add two, delete one, save", async () => {
    const before = await (await triggerBoxes(h.panel)).count();
    const add = h.panel.getByRole("button", { name: "+ Add trigger" });
    await add.click();
    const first = h.panel.getByRole("textbox", { name: `Trigger ${before + 1}`, exact: true });
    check(await first.evaluate((el) => el === document.activeElement), "the new trigger box has the focus");
    await first.fill("cancellation");
    await add.click();
    await h.panel.getByRole("textbox", { name: `Trigger ${before + 2}`, exact: true }).fill("refund");
    await h.panel.getByRole("button", { name: `Delete trigger ${before + 1}`, exact: true }).click();
    // The rows are numbered again: "refund" is now where "cancellation" was.
    const renumbered = await h.panel.getByRole("textbox", { name: `Trigger ${before + 1}`, exact: true }).inputValue();
    check(renumbered === "refund", `after the delete, Trigger ${before + 1} holds ${JSON.stringify(renumbered)}`);
    check((await h.panel.getByRole("textbox", { name: `Trigger ${before + 2}`, exact: true }).count()) === 0,
      `Trigger ${before + 2} is gone after the delete`);
    await h.panel.getByRole("button", { name: "Save", exact: true }).click();
    await saved(page);
    report.panel_open_after_save = await h.panel.isVisible();
    report.triggers_shown = await h.summary.getByRole("listitem").allTextContents();
  });

  await step("live handoff to the help desk and a team, new messages, Save", async () => {
    await h.live.check();
    await h.same.check();
    await h.inbox.selectOption({ label: "Priority desk (help desk)" });
    await h.assignees.getByRole("checkbox", { name: "Tier 1", exact: true }).check();
    await h.available.fill(AVAILABLE);
    await h.unavailable.fill(UNAVAILABLE);
    await h.save.click();
    await saved(page);
  });

  await step("opened again, the page shows what was saved", async () => {
    // A new navigation, not a reload: Chromium restores form fields on reload.
    h = await openHandoff(page);
    report.after_reload = {
      live: await h.live.isChecked(),
      same: await h.same.isChecked(),
      inbox: await selectedLabel(h.inbox),
      team_checked: await h.assignees.getByRole("checkbox", { name: "Tier 1", exact: true }).isChecked(),
      available: await h.available.inputValue(),
      unavailable: await h.unavailable.inputValue(),
      triggers: await h.summary.getByRole("listitem").allTextContents(),
    };
    const a = report.after_reload;
    check(a.live && a.same && a.team_checked && a.inbox === "Priority desk (help desk)"
      && a.available === AVAILABLE && a.unavailable === UNAVAILABLE,
      `the page after reload: ${JSON.stringify(a)}`);
  });

  await step("try a message on the saved settings", async () => {
    const r = await tryMessage(page, "I want a refund now");
    report.try_saved = r;
    check(/^Hands off/.test(r.headline), `headline ${JSON.stringify(r.headline)}`);
    check(r.marked === "refund", `marked ${JSON.stringify(r.marked)}`);
    check(r.explanation && r.explanation.trim().length > 0, "an explanation");
  });

  await step("try a message on an unsaved trigger in the open panel", async () => {
    await h.pencil.click();
    await h.panel.waitFor();
    const n = await (await triggerBoxes(h.panel)).count();
    await h.panel.getByRole("button", { name: "+ Add trigger" }).click();
    await h.panel.getByRole("textbox", { name: `Trigger ${n + 1}`, exact: true }).fill("invoice");
    const r = await tryMessage(page, "my invoice is wrong");
    report.try_unsaved_trigger = r;
    check(/^Hands off/.test(r.headline), `headline ${JSON.stringify(r.headline)}`);
    check(r.marked === "invoice", `marked ${JSON.stringify(r.marked)}`);
    // Cancel discards the unsaved row: "Try it" no longer hands off on it.
    await h.panel.getByRole("link", { name: "Cancel" }).click();
    report.panel_open_after_cancel = await h.panel.isVisible();
    check(!report.panel_open_after_cancel, "the panel closes on Cancel");
    report.try_after_cancel = await tryMessage(page, "my invoice is wrong");
    check(report.try_after_cancel.marked !== "invoice", `after Cancel: ${JSON.stringify(report.try_after_cancel)}`);
  });

  await step("try a message on an unsaved change in the main form", async () => {
    h = await openHandoff(page);
    const human = "I want to talk to a human";
    report.try_human_saved = await tryMessage(page, human);
    check(report.try_human_saved.trigger === "asks_for_human",
      `with the saved settings: ${JSON.stringify(report.try_human_saved)}`);
    await h.asksForHuman.uncheck();
    report.try_human_unsaved = await tryMessage(page, human);
    check(report.try_human_unsaved.trigger !== "asks_for_human",
      `with "asks for a human" unticked: ${JSON.stringify(report.try_human_unsaved)}`);
    h = await openHandoff(page);
  });

  await step("each process and destination shows exactly its boxes", async () => {
    const boxes = {
      same_destination: h.same,
      conditions_destination: h.conditions,
      inbox_select: h.inbox,
      workflow_select: h.workflow,
      available_message: h.available,
      unavailable_message: h.unavailable,
      workflow_message: h.unassigned,
      keep_chat_open: h.keepOpen,
      close_chat: h.closeChat,
      reply_timeout: h.timeout,
    };
    const expected = (process, destination) => {
      const on = process !== "none";
      return {
        same_destination: on,
        conditions_destination: on,
        inbox_select: on && destination === "same",
        workflow_select: on && destination === "conditions",
        available_message: on,
        unavailable_message: on,
        workflow_message: on && destination === "conditions",
        keep_chat_open: process === "live" && destination === "conditions",
        close_chat: process === "live" && destination === "conditions",
        reply_timeout: process === "live",
      };
    };
    report.visibility_mismatches = [];
    for (const [process, destination] of [
      ["live", "same"], ["live", "conditions"], ["async", "conditions"], ["async", "same"],
      ["none", "same"], ["live", "conditions"], ["none", "conditions"],
    ]) {
      await h[process].check();
      if (process !== "none") await h[destination].check();
      const want = expected(process, destination);
      for (const [name, locator] of Object.entries(boxes)) {
        // getByRole leaves out what is hidden: a count of 1 is a box the person sees.
        const shown = (await locator.count()) === 1 && (await locator.isVisible());
        if (shown !== want[name]) {
          report.visibility_mismatches.push({ process, destination, box: name, shown, expected: want[name] });
        }
      }
    }
  });

  report.problems = page.problems;
  await context.close();
  return report;
}

async function workflowMode() {
  const context = await browser.newContext();
  const page = await newPage(context);
  const report = { mode };
  await ownerSignsIn(page);
  const name = "Reassign tickets for customer agent handoff";

  await step("create a workflow from the template", async () => {
    await page.goto(base + "/console/workflows");
    await page.getByRole("combobox", { name: "Template" }).selectOption({ label: name });
    await page.getByRole("button", { name: "Create from template" }).click();
    await page.waitForURL((url) => /^\/console\/workflows\/\d+$/.test(url.pathname));
    report.workflow_id = Number(new URL(page.url()).pathname.split("/").pop());
    await page.getByRole("heading", { level: 1 }).waitFor();
    report.heading = await page.getByRole("heading", { level: 1 }).textContent();
    report.incomplete_badge = await page.getByText(/^Incomplete/).count();
  });
  const editor = page.url().split("?")[0];

  await step("an incomplete workflow cannot be chosen on the handoff page", async () => {
    const h = await openHandoff(page);
    await h.live.check();
    await h.conditions.check();
    const option = h.workflow.getByRole("option", { name: new RegExp(`^${name}`) });
    report.option_while_incomplete = {
      text: (await option.textContent()).trim(),
      disabled: await option.isDisabled(),
    };
  });

  await step("fill in the owner rotations in the editor and save", async () => {
    await page.goto(editor);
    for (const arm of [1, 2, 3]) {
      await page.getByRole("region", { name: `action 1, arm ${arm}`, exact: true })
        .getByRole("checkbox", { name: /^Pat Agent/ }).check();
    }
    await page.getByRole("region", { name: "action 1, otherwise", exact: true })
      .getByRole("combobox", { name: "Team (optional)" }).selectOption({ label: "Tier 1" });
    // The editor has a "Save workflow" button at the top and one at the bottom.
    await page.getByRole("button", { name: "Save workflow" }).first().click();
    await page.waitForURL((url) => url.searchParams.get("notice") === "saved");
    report.complete_badge = await page.getByText("Complete", { exact: true }).count();
    check(report.complete_badge >= 1, "the saved workflow is marked Complete");
  });

  await step("the workflow is listed as complete", async () => {
    await page.goto(base + "/console/workflows");
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name }) });
    report.list_state = (await row.getByRole("cell").last().textContent()).trim();
  });

  await step("choose it as the handoff destination and save", async () => {
    const h = await openHandoff(page);
    await h.live.check();
    await h.conditions.check();
    await h.workflow.selectOption({ label: name });
    await h.available.fill(AVAILABLE);
    await h.unavailable.fill(UNAVAILABLE);
    await h.unassigned.fill(UNASSIGNED);
    await h.closeChat.check();
    await h.save.click();
    await saved(page);
    await openHandoff(page);
    report.after_reload = {
      conditions: await h.conditions.isChecked(),
      workflow: await selectedLabel(h.workflow),
      unassigned: await h.unassigned.inputValue(),
      close_chat: await h.closeChat.isChecked(),
    };
  });

  report.problems = page.problems;
  await context.close();
  return report;
}

async function seats() {
  const [seatlessName, seatlessEmail] = rest;
  const report = { mode };
  const owner = await browser.newContext();
  const page = await newPage(owner);
  await ownerSignsIn(page);
  const ownerCookie = (await owner.cookies()).find((c) => c.name === "baton_session");
  check(ownerCookie, "a baton_session cookie after sign-in");
  const cookie = `baton_session=${ownerCookie.value}`;

  await step("a cross-site post carrying the owner's cookie is refused", async () => {
    const forged = await fetch(base + HANDOFF, {
      method: "POST",
      redirect: "manual",
      headers: {
        cookie,
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "cross-site",
        origin: "https://evil.example",
      },
      body: "version=1&process=none",
    });
    report.cross_site_status = forged.status;
    // And from a page of another origin in the browser itself.
    const other = await owner.newPage();
    const html = `<form method="post" action="${base}${HANDOFF}"><input name="process" value="none">`
      + `<button>Send</button></form>`;
    await other.goto(`data:text/html,${encodeURIComponent(html)}`);
    const [response] = await Promise.all([
      other.waitForNavigation(),
      other.getByRole("button", { name: "Send" }).click(),
    ]);
    report.cross_site_browser_status = response ? response.status() : null;
    await other.close();
  });

  let link;
  await step(`make a set-password link for ${seatlessName} on the user's page`, async () => {
    await page.goto(base + "/console/users");
    await page.getByRole("link", { name: seatlessName, exact: true }).click();
    await page.getByRole("heading", { level: 1, name: seatlessName }).waitFor();
    await page.getByRole("button", { name: "Create a set-password link" }).click();
    link = await page.getByRole("textbox", { name: new RegExp(`^Send this link to ${seatlessName}`) }).inputValue();
    report.link_made = link.startsWith(base + "/password/");
  });

  await step("sign out: the old cookie opens nothing", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    await page.goto(base + "/console/users");
    report.after_sign_out_url = new URL(page.url()).pathname;
    const pageWithOld = await fetch(base + "/console/users", { redirect: "manual", headers: { cookie } });
    report.old_cookie_page = { status: pageWithOld.status, location: pageWithOld.headers.get("location") };
    const apiWithOld = await fetch(base + "/api/v1/users", { headers: { cookie } });
    report.old_cookie_api = apiWithOld.status;
  });

  await step(`${seatlessName} sets a password and signs in`, async () => {
    const context = await browser.newContext();
    const p = await newPage(context);
    await setPassword(p, link, "another long password");
    await signIn(p, seatlessEmail, "another long password");
    await step(`${seatlessName} sees the handoff page read-only`, async () => {
      const h = await openHandoff(p);
      report.readonly = {
        note: (await p.getByRole("note").textContent()).trim(),
        save_buttons: await h.save.count(),
        pencil: await h.pencil.count(),
        live_disabled: await p.getByRole("radio", { name: /^Live handoff/ }).isDisabled(),
        triggers_disabled: await p.getByRole("checkbox", { name: "It cannot answer the question" }).isDisabled(),
      };
      // Observed, not asserted: may a read-only viewer use "Try a message"?
      report.readonly_try = await tryMessage(p, "I want a refund now").catch((e) => ({ error: String(e).split("\n")[0] }));
    });
    report.seatless_problems = p.problems;
    await context.close();
  });

  report.problems = page.problems;
  await owner.close();
  return report;
}

// --- audit: axe, screenshots, overflow ------------------------------------------------

async function audit() {
  const [userId, workflowId] = rest;
  const report = { mode, pages: [] };
  const axeOn = async (page) => {
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 8).map((n) => n.target.join(" ")),
      nodes: v.nodes.length,
    }));
  };
  const overflow = (page) => page.evaluate(() => {
    const limit = document.documentElement.clientWidth;
    const width = document.documentElement.scrollWidth;
    if (width <= limit + 1) return { scroll_width: width, offenders: [] };
    const describe = (el) => {
      const parts = [];
      for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
        let part = e.tagName.toLowerCase();
        if (e.id) part += `#${e.id}`;
        else if (e.classList.length) part += `.${[...e.classList].join(".")}`;
        parts.unshift(part);
      }
      return parts.join(" > ");
    };
    // Visible elements past the right edge whose children are not past it themselves.
    const wide = [...document.body.querySelectorAll("*")].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.right > limit + 1;
    });
    const leaves = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
    return {
      scroll_width: width,
      offenders: leaves.slice(0, 10).map((el) => ({
        element: describe(el),
        right: Math.round(el.getBoundingClientRect().right),
        text: (el.textContent || "").trim().slice(0, 60),
      })),
    };
  });

  // Visits one page at both widths: status, screenshot, axe, overflow at 375 px.
  const visit = async (page, name, path, { status = 200, prepare } = {}) => {
    const entry = { page: name, path, widths: {} };
    report.pages.push(entry);
    for (const viewport of [WIDE, NARROW]) {
      const at = {};
      entry.widths[viewport.width] = at;
      try {
        page.problems.length = 0;
        await page.setViewportSize(viewport);
        const response = path === null ? null : await page.goto(base + path);
        if (response) {
          at.status = response.status();
          if (at.status !== status) at.unexpected_status = `HTTP ${at.status}, expected ${status}`;
        }
        if (prepare) await prepare(page);
        await page.waitForLoadState("load");
        at.title = await page.title();
        at.screenshot = join(shots, `console-${name}-${viewport.width}.png`);
        await page.screenshot({ path: at.screenshot, fullPage: true });
        at.violations = await axeOn(page);
        if (viewport === NARROW) at.overflow = await overflow(page);
      } catch (error) {
        at.error = String(error).split("\n").slice(0, 4).join("\n");
      }
      at.problems = [...page.problems];
    }
    return entry;
  };

  const context = await browser.newContext();
  const page = await newPage(context);
  await step("signed-out pages", async () => {
    await visit(page, "login", "/login");
    await visit(page, "login-error", "/login", {
      status: 200,
      prepare: async (p) => {
        await p.getByLabel("Email", { exact: true }).fill(OWNER);
        await p.getByLabel("Password", { exact: true }).fill("not the password");
        await p.getByRole("button", { name: "Sign in" }).click();
        await p.getByRole("alert").waitFor();
      },
    });
    await visit(page, "set-password", new URL(ownerLink).pathname);
    await visit(page, "not-found", "/no/such/page", { status: 404 });
  });
  await ownerSignsIn(page);
  await step("signed-in pages", async () => {
    await visit(page, "handoff", HANDOFF);
    await visit(page, "handoff-panel", HANDOFF, {
      prepare: async (p) => {
        const h = handoff(p);
        await h.pencil.click();
        await h.panel.waitFor();
        await h.panel.getByRole("button", { name: "+ Add trigger" }).click();
      },
    });
    await visit(page, "handoff-try", HANDOFF, {
      prepare: async (p) => { await tryMessage(p, "I want a refund now"); },
    });
    await visit(page, "handoff-workflow", HANDOFF, {
      prepare: async (p) => {
        const h = handoff(p);
        await h.live.check();
        await h.conditions.check();
      },
    });
    await visit(page, "users", "/console/users");
    await visit(page, "user", `/console/users/${userId}`);
    await visit(page, "teams", "/console/teams");
    await visit(page, "inboxes", "/console/inboxes");
    await visit(page, "workflows", "/console/workflows");
    await visit(page, "workflow", `/console/workflows/${workflowId}`);
    await visit(page, "audit", "/console/audit");
    await visit(page, "plugins", "/console/plugins");
    await visit(page, "webhooks", "/console/webhooks");
    await visit(page, "agent", "/console/agent");
    await visit(page, "account", "/account/password");
    await visit(page, "not-found-signed-in", "/console/no/such/page", { status: 404 });
  });
  await context.close();
  return report;
}

// --- inbox: a handoff arrives live, the agent opens, replies, hands back ---------------

async function inboxMode() {
  const report = { mode, shots: [] };
  const axe = async (page) => (await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze())
    .violations.map((v) => ({ id: v.id, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  const shoot = async (page, name) => {
    const out = {};
    for (const viewport of [WIDE, NARROW]) {
      await page.setViewportSize(viewport);
      const path = join(shots, `console-inbox-${name}-${viewport.width}.png`);
      await page.screenshot({ path, fullPage: true });
      report.shots.push(path);
      out[viewport.width] = {
        violations: await axe(page),
        scroll_width: await page.evaluate(() => document.documentElement.scrollWidth),
      };
    }
    await page.setViewportSize(WIDE);
    return out;
  };
  const context = await browser.newContext();
  const page = await newPage(context);
  await ownerSignsIn(page);
  report.start_path = new URL(page.url()).pathname;

  await step("the inbox opens its live stream", async () => {
    await page.goto(base + "/console/inbox");
    await page.getByRole("heading", { level: 1, name: "Inbox" }).waitFor();
    await page.locator("#live-region[data-live-open='true']").waitFor({ timeout: 10000 });
    await page.evaluate(() => { window.notReloaded = true; });
    report.empty_title = await page.title();
  });

  let id;
  await step("a visitor asks for a human; the row appears without a reload", async () => {
    const made = await fetch(base + "/api/v1/chat/conversations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ visitor: { name: "Vera Visitor", email: "vera@visitor.example" } }),
    });
    const conversation = await made.json();
    id = conversation.conversation_id;
    const said = await fetch(base + `/api/v1/chat/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${conversation.visitor_token}` },
      body: JSON.stringify({ text: "I want to talk to a human please" }),
    });
    report.visitor_status = said.status;
    await page.locator(`.inbox-row[data-id="${id}"]`).waitFor({ timeout: 10000 });
    report.conversation_id = id;
    report.not_reloaded = await page.evaluate(() => window.notReloaded === true);
    report.rows = await page.locator(".inbox-row").count();
    await page.waitForFunction(() => document.title.startsWith("("), null, { timeout: 5000 }).catch(() => {});
    report.badge_title = await page.title();
    report.unassigned_tab = (await page.getByRole("link", { name: /^Unassigned/ }).textContent()).trim();
    report.list = await shoot(page, "list");
  });

  await step("J focuses the conversation, Enter opens it", async () => {
    await page.keyboard.press("j");
    report.focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
    await page.keyboard.press("Enter");
    await page.waitForURL((url) => url.pathname === `/console/inbox/${id}`);
    await page.getByRole("heading", { name: "Why it was handed off" }).waitFor();
    report.pinned = (await page.locator(".pinned").textContent()).replace(/\s+/g, " ").trim();
  });

  await step("claim, then reply with Ctrl+Enter", async () => {
    await page.getByRole("button", { name: "Claim" }).click();
    await page.waitForURL((url) => url.searchParams.get("notice") === "claimed");
    await page.getByRole("textbox", { name: "Reply" }).fill("Hello Vera, Owner here.");
    await page.getByRole("textbox", { name: "Reply" }).press("Control+Enter");
    await page.waitForURL((url) => url.searchParams.get("notice") === "sent");
    report.human_turn = (await page.locator(".turn-human .turn-text").last().textContent()).trim();
    report.turn_labels = await page.locator(".turn-label").allTextContents();
    report.conversation = await shoot(page, "conversation");
  });

  await step("hand back to the assistant", async () => {
    await page.getByRole("button", { name: "Hand back to the assistant" }).click();
    await page.waitForURL((url) => url.searchParams.get("notice") === "handed_back");
    report.after_handback = (await page.locator(".turn-system .turn-text").last().textContent()).trim();
  });

  await step("Esc goes back to the list", async () => {
    await page.locator("body").click({ position: { x: 5, y: 300 } }).catch(() => {});
    await page.keyboard.press("Escape");
    await page.waitForURL((url) => url.pathname === "/console/inbox");
    report.back_to_list = true;
  });

  report.problems = page.problems;
  await context.close();
  return report;
}

// --- main --------------------------------------------------------------------------------

const modes = { flow, workflow: workflowMode, seats, audit, inbox: inboxMode };
const started = Date.now();
try {
  check(modes[mode], `unknown mode ${mode}`);
  const report = await modes[mode]();
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  console.log(JSON.stringify(report));
} catch (error) {
  if (failurePage && !failurePage.isClosed()) {
    const path = join(shots, `console-failure-${mode}.png`);
    await failurePage.screenshot({ path, fullPage: true }).catch(() => {});
    console.error(`screenshot of the failure: ${path} (page ${failurePage.url()})`);
    if (failurePage.problems?.length) console.error(`page problems: ${failurePage.problems.join("; ")}`);
  }
  console.error(`failed at step "${current}"`);
  throw error;
} finally {
  await browser.close();
}
