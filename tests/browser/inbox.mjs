// The agent inbox and the visitor's widget together, in headless Chromium, each found by
// role and accessible name as a person finds it. The visitor is on a page of ANOTHER
// origin (a static server on another loopback port) that embeds the widget with its one
// <script> tag; the agents are signed in through the real set-password and sign-in forms.
//
//   1. A visitor asks for a person: the conversation appears in Ann's Unassigned list
//      without a reload, with a badge in the tab title; J and Enter open it with the
//      handoff pinned; Ann claims and replies with Ctrl+Enter; the visitor sees who joined
//      and the reply live, and after a reload still sees the join once; Ann hands back; the
//      visitor sees the notice and the assistant answers the next question.
//   2. Ann and Ben click Claim on the same conversation at the same moment.
//   3. The server restarts (the Rust side does it when this script prints RESTART, and
//      answers on stdin) while the visitor and the winner have the conversation open;
//      both sides' streams reconnect by themselves; each side writes once more; both
//      transcripts equal the stored messages, each exactly once.
//   4. With `visitor_choice` on and process `none` the widget offers no choice.
// axe-core (WCAG 2 A and AA), no horizontal overflow at 375 px and screenshots
// `inbox-*.png` at 1280 and 375 px on the inbox states reached.
//
// Usage: node inbox.mjs BASE OWNER_TOKEN SHOTS_DIR ANN_LINK ANN_EMAIL BEN_LINK BEN_EMAIL
// Prints one JSON report line at the end; any failure throws (exit 1) naming its step.
import { createServer } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";

const [base, ownerToken, shots, annLink, annEmail, benLink, benEmail] = process.argv.slice(2);
if (!benEmail) {
  throw new Error("usage: node inbox.mjs BASE OWNER_TOKEN SHOTS_DIR ANN_LINK ANN_EMAIL BEN_LINK BEN_EMAIL");
}
mkdirSync(shots, { recursive: true });
const PASSWORD = "correct horse battery";
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 375, height: 740 };
const timeout = 20000;
const ASK = "I want to talk to a human please";

const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();

// The embedding site: another origin, one script tag.
const site = createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>A shop</title></head>
<body style="font:16px system-ui,sans-serif;margin:1rem"><main><h1>A shop</h1>
<p>Another site that embeds the Baton chat.</p></main>
<script src="${base}/chat/widget.js" data-baton-url="${base}"></script></body></html>`);
});
await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
const siteUrl = `http://127.0.0.1:${site.address().port}/`;

const api = async (method, path, body, token = ownerToken) => {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--headless=new"],
});
const report = { shots: [], axe: {}, overflow: {} };
const errors = [];
let current = "start";
const pages = new Set();

async function step(name, body) {
  current = name;
  try {
    return await body();
  } catch (error) {
    error.message = `step "${name}": ${error.message}`;
    throw error;
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function newPage(context, viewport = WIDE) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e}`));
  pages.add(page);
  return page;
}

// --- the visitor -------------------------------------------------------------------

async function visitor() {
  const context = await browser.newContext({ viewport: WIDE });
  const page = await newPage(context);
  await page.goto(siteUrl);
  await page.getByRole("region", { name: "Chat" }).waitFor();
  return page;
}
const chatLog = (page) => page.getByRole("log", { name: "Messages" });
async function say(page, text) {
  await page.getByRole("textbox", { name: "Message" }).fill(text);
  await page.getByRole("button", { name: "Send", exact: true }).click();
}
const conversationOf = (page) => page.evaluate(() => {
  const key = Object.keys(localStorage).find((k) => k.startsWith("baton-chat:"));
  return JSON.parse(localStorage.getItem(key));
});
// What the widget shows, in order: [author, text] of each message (notices aside).
const widgetTranscript = (page) => page.evaluate(() =>
  [...document.querySelectorAll("#baton-log .m:not(.notice)")].map((m) => [
    ["visitor", "agent", "system", "user"].find((a) => m.classList.contains(a)), m.textContent,
  ]));
// Every line of the log, notices too, in order.
const wholeLog = (page) => page.evaluate(() =>
  [...document.querySelectorAll("#baton-log .m")].map((m) => m.textContent));
const joinedCount = (page, name) =>
  chatLog(page).getByText(`${name} joined the conversation`, { exact: true }).count();

// --- the agents --------------------------------------------------------------------

async function agent(link, email) {
  const context = await browser.newContext({ viewport: WIDE });
  const page = await newPage(context);
  await page.goto(link);
  await page.getByRole("heading", { name: "Set your password" }).waitFor();
  await page.getByLabel("New password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Repeat the password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Set password" }).click();
  await page.waitForURL((url) => url.pathname === "/login");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname.startsWith("/console"));
  return page;
}

async function openInbox(page) {
  await page.goto(base + "/console/inbox");
  await page.getByRole("heading", { level: 1, name: "Inbox" }).waitFor();
  // console.js marks the region once its EventSource is open.
  await page.locator("#live-region[data-live-open='true']").waitFor();
}

// What the conversation page shows of each turn, in order: [kind, text].
const inboxTranscript = (page) => page.evaluate(() =>
  [...document.querySelectorAll(".transcript .turn")].map((t) => [
    [...t.classList].find((c) => c.startsWith("turn-")).slice(5),
    t.querySelector(".turn-text").textContent,
  ]));
const KIND = { visitor: "visitor", agent: "assistant", system: "system", user: "human" };

// --- axe, overflow, screenshots ----------------------------------------------------

async function audit(page, name) {
  for (const viewport of [WIDE, NARROW]) {
    await page.setViewportSize(viewport);
    const path = join(shots, `inbox-${name}-${viewport.width}.png`);
    await page.screenshot({ path, fullPage: true });
    report.shots.push(path);
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
    report.axe[`${name}-${viewport.width}`] = results.violations.map((v) => ({
      id: v.id, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
    if (viewport === NARROW) {
      report.overflow[name] = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
    }
  }
  await page.setViewportSize(WIDE);
}

try {
  const ann = await step("Ann sets her password and signs in", () => agent(annLink, annEmail));
  const ben = await step("Ben sets his password and signs in", () => agent(benLink, benEmail));
  await step("Ann opens the inbox; its stream opens", async () => {
    await openInbox(ann);
    report.empty_title = await ann.title();
    await ann.evaluate(() => { window.notReloaded = true; });
    await audit(ann, "empty");
  });

  // --- 1. a handoff arrives live; claim, reply, hand back ---------------------------
  const vera = await step("the visitor opens the shop page", visitor);
  let id;
  await step("the visitor asks for a person in the widget", async () => {
    await say(vera, ASK);
    await chatLog(vera).getByText(ASK).waitFor();
    await vera.getByRole("status").filter({ hasText: /in the queue|Waiting for a person/ }).waitFor();
    report.queue_status = (await vera.getByRole("status").textContent()).trim();
    id = (await conversationOf(vera)).id;
    report.first = id;
  });
  const row = `Visitor #${id}`;
  await step("the conversation appears in Ann's Unassigned list without a reload", async () => {
    await ann.getByRole("link", { name: row, exact: true }).waitFor();
    report.not_reloaded = await ann.evaluate(() => window.notReloaded === true);
    await ann.waitForFunction(() => document.title.startsWith("("));
    report.badge_title = await ann.title();
    report.unassigned_tab = (await ann.getByRole("link", { name: /^Unassigned/ }).textContent()).replace(/\s+/g, " ").trim();
    await audit(ann, "list");
  });
  await step("J and Enter open it; the handoff is pinned at the top", async () => {
    await ann.keyboard.press("j");
    report.focused = await ann.evaluate(() => document.activeElement?.textContent?.trim());
    await ann.keyboard.press("Enter");
    await ann.waitForURL((url) => url.pathname === `/console/inbox/${id}`);
    const pinned = ann.getByRole("region", { name: "Why it was handed off" });
    await pinned.waitFor();
    const terms = await pinned.getByRole("term").allTextContents();
    const values = await pinned.getByRole("definition").allTextContents();
    report.pinned = Object.fromEntries(terms.map((t, i) => [t.trim(), values[i].replace(/\s+/g, " ").trim()]));
    report.summary = (await pinned.getByRole("group").textContent()).replace(/\s+/g, " ").trim();
    // Pinned means above the transcript.
    const [top, transcript] = await Promise.all([
      pinned.boundingBox(), ann.getByRole("heading", { name: "Transcript" }).boundingBox(),
    ]);
    report.pinned_above_transcript = top.y < transcript.y;
    await audit(ann, "conversation");
  });
  const replyText = "Hello, Ann here. How can I help?";
  await step("Ann claims and replies with Ctrl+Enter", async () => {
    await ann.getByRole("button", { name: "Claim" }).click();
    await ann.waitForURL((url) => url.searchParams.get("notice") === "claimed");
    const reply = ann.getByRole("textbox", { name: "Reply" });
    await reply.fill(replyText);
    await reply.press("Control+Enter");
    await ann.waitForURL((url) => url.searchParams.get("notice") === "sent");
    await ann.locator("#live-region[data-live-open='true']").waitFor();
    await audit(ann, "claimed");
  });
  await step("the visitor sees who joined and the reply, live", async () => {
    await chatLog(vera).getByText("Ann joined the conversation", { exact: true }).waitFor();
    await chatLog(vera).getByText(replyText).waitFor();
    report.joined_before_reload = await joinedCount(vera, "Ann");
    report.log_before_reload = await wholeLog(vera);
    await vera.screenshot({ path: join(shots, "inbox-visitor-joined-1280.png") });
  });
  await step("after a reload the visitor sees the join once", async () => {
    await vera.reload();
    await chatLog(vera).getByText(replyText).waitFor();
    // The back button shows once the stream's state (a person holds it) has arrived: the
    // point where the old widget announced the join again.
    await vera.getByRole("button", { name: "Talk to the assistant again" }).waitFor();
    report.joined_after_reload = await joinedCount(vera, "Ann");
    report.log_after_reload = await wholeLog(vera);
  });
  await step("Ann hands back; the visitor sees the notice and the assistant answers", async () => {
    await ann.getByRole("button", { name: "Hand back to the assistant" }).click();
    await ann.waitForURL((url) => url.searchParams.get("notice") === "handed_back");
    await chatLog(vera).getByText(/assistant again/).waitFor();
    report.handback_notice = (await chatLog(vera).getByText(/assistant again/).last().textContent()).trim();
    const before = (await widgetTranscript(vera)).length;
    await say(vera, "How long does shipping take?");
    await vera.waitForFunction((n) =>
      [...document.querySelectorAll("#baton-log .m.agent")].length > 0
      && document.querySelectorAll("#baton-log .m:not(.notice)").length >= n + 2, before);
    const after = await widgetTranscript(vera);
    report.answer = after[after.length - 1];
    await vera.screenshot({ path: join(shots, "inbox-visitor-handback-1280.png") });
    await audit(ann, "handed-back");
  });

  // --- 2. two agents claim at the same moment ---------------------------------------
  const wes = await step("a second visitor asks for a person", async () => {
    const page = await visitor();
    await say(page, ASK);
    await page.getByRole("status").filter({ hasText: /in the queue|Waiting for a person/ }).waitFor();
    report.second = (await conversationOf(page)).id;
    return page;
  });
  let winner;
  await step("Ann and Ben click Claim at the same moment", async () => {
    const path = `/console/inbox/${report.second}`;
    const annPage = ann;
    await annPage.goto(base + path);
    await ben.goto(base + path);
    const claims = [annPage, ben].map((p) => p.getByRole("button", { name: "Claim" }));
    await Promise.all(claims.map((c) => c.waitFor()));
    await Promise.all([
      annPage.waitForNavigation(), ben.waitForNavigation(), claims[0].click(), claims[1].click(),
    ]);
    const outcome = async (page, name) => {
      const alert = page.getByRole("alert");
      const lost = await alert.count() ? (await alert.first().textContent()).trim() : null;
      return { name, url: new URL(page.url()).pathname + new URL(page.url()).search, lost };
    };
    report.race = [await outcome(annPage, "Ann"), await outcome(ben, "Ben")];
    const won = report.race.filter((r) => !r.lost);
    check(won.length === 1, `exactly one wins: ${JSON.stringify(report.race)}`);
    winner = won[0].name === "Ann" ? annPage : ben;
    report.winner = won[0].name;
    await audit(won[0].name === "Ann" ? ben : annPage, "claim-lost");
  });

  // --- 3. the server restarts mid-conversation --------------------------------------
  await step("the server restarts while both have the conversation open", async () => {
    await winner.goto(`${base}/console/inbox/${report.second}`);
    await winner.locator("#live-region[data-live-open='true']").waitFor();
    await chatLog(wes).getByText(`${report.winner} joined the conversation`, { exact: true }).waitFor();
    // Whatever opens from now on is a reconnect.
    await winner.evaluate(() => { document.getElementById("live-region").dataset.liveOpen = "stale"; });
    console.log("RESTART");
    const answer = await lines.next();
    check(answer.value === "restarted", `the Rust side answered ${JSON.stringify(answer.value)}`);
    await winner.locator("#live-region[data-live-open='true']").waitFor({ timeout: 30000 });
  });
  const afterVisitor = "Are you still there?";
  const afterAgent = "Yes, still here after the blip.";
  const afterVisitor2 = "Great, thanks.";
  await step("each side writes once more; each sees the other live", async () => {
    await say(wes, afterVisitor);
    await chatLog(wes).getByText(afterVisitor).waitFor({ timeout: 30000 });
    await winner.locator(".transcript .turn-visitor", { hasText: afterVisitor }).waitFor();
    report.agent_live_before_reply = await inboxTranscript(winner);
    const reply = winner.getByRole("textbox", { name: "Reply" });
    await reply.fill(afterAgent);
    await reply.press("Control+Enter");
    await winner.waitForURL((url) => url.searchParams.get("notice") === "sent");
    await chatLog(wes).getByText(afterAgent).waitFor();
    await winner.locator("#live-region[data-live-open='true']").waitFor();
    await say(wes, afterVisitor2);
    await chatLog(wes).getByText(afterVisitor2).waitFor();
    await winner.locator(".transcript .turn-visitor", { hasText: afterVisitor2 }).waitFor();
  });
  await step("both transcripts equal the stored messages", async () => {
    const state = await conversationOf(wes);
    const visitorView = (await api("GET", `/api/v1/chat/conversations/${state.id}/messages`, null, state.token)).messages;
    const staffView = (await api("GET", `/api/v1/conversations/${state.id}/messages`)).messages;
    report.restart = {
      widget: await widgetTranscript(wes),
      widget_expected: visitorView.map((m) => [m.author, m.text]),
      inbox: await inboxTranscript(winner),
      inbox_expected: staffView.map((m) => [KIND[m.author] || m.author, m.text]),
      joined: await joinedCount(wes, report.winner),
    };
    await wes.screenshot({ path: join(shots, "inbox-visitor-restart-1280.png") });
    await audit(winner, "after-restart");
  });

  // --- 4. visitor choice with process none ------------------------------------------
  await step("with visitor_choice on and process none the widget offers no choice", async () => {
    const settings = await api("GET", "/api/v1/handoff/settings");
    delete settings.version;
    settings.process = "none";
    settings.visitor_choice = true;
    await api("PUT", "/api/v1/handoff/settings", settings);
    const context = await browser.newContext({ viewport: WIDE });
    const page = await newPage(context);
    const options = page.waitForResponse((r) => r.url().endsWith("/api/v1/chat/options"));
    await page.goto(siteUrl);
    report.options = await (await options).json();
    // One more round trip from the page: by its end the widget has long read that answer.
    await page.evaluate(() => fetch(location.href).then((r) => r.text()));
    report.no_choice = {
      person: await page.getByRole("button", { name: "Talk to a person" }).isVisible(),
      assistant: await page.getByRole("button", { name: "Chat with the assistant" }).isVisible(),
      composer: await page.getByRole("textbox", { name: "Message" }).isVisible(),
    };
    await page.screenshot({ path: join(shots, "inbox-visitor-no-choice-1280.png") });
  });

  report.errors = errors;
  console.log(JSON.stringify(report));
} catch (error) {
  let n = 0;
  for (const page of pages) {
    if (page.isClosed()) continue;
    const path = join(shots, `inbox-failure-${n++}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => {});
    console.error(`screenshot ${path} of ${page.url()}`);
  }
  console.error(`failed at step "${current}"; page errors: ${errors.join("; ")}`);
  throw error;
} finally {
  stdin.close();
  await browser.close();
  site.close();
}
