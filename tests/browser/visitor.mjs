// The visitor's side of a handoff in headless Chromium, with the widget embedded by its one
// <script> tag in a page of ANOTHER origin (a static server on another loopback port):
// three visitors queue while nobody is available and see their places move live; the one
// taken sees who joined, the staff reply and, after a handback, the notice and the
// assistant's next answer; a conversation staff close carries on in a new one; "Talk to a
// person" up front; axe-core (WCAG 2 A and AA) on the widget, no horizontal overflow at
// 375 px, screenshots `widget-*.png` at 1280 and 375 px.
// Usage: node visitor.mjs BASE_URL AGENT_ID AGENT_TOKEN SCREENSHOT_DIR
// Exits 0 and prints one JSON line on success; any failure throws (exit 1).
import { createServer } from "node:http";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";

const [base, agentId, agentToken, shots] = process.argv.slice(2);
if (!base || !agentId || !agentToken || !shots) {
  throw new Error("usage: node visitor.mjs BASE_URL AGENT_ID AGENT_TOKEN SCREENSHOT_DIR");
}
const timeout = 20000;
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 375, height: 740 };

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

const staff = async (method, path, body) => {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${agentToken}`, "Content-Type": "application/json" },
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
const errors = [];
const report = {};
let failurePage = null;
try {
  // One browser context per visitor: their own localStorage, as on their own device.
  const open = async (viewport = WIDE) => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(siteUrl);
    await page.locator("#baton-chat").waitFor({ timeout });
    failurePage = page;
    return page;
  };
  const say = async (page, text) => {
    await page.locator('#baton-chat input[name="text"]').fill(text);
    await page.locator("#baton-chat form button").click();
  };
  const conversationOf = (page) => page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("baton-chat:"));
    return JSON.parse(localStorage.getItem(key)).id;
  });
  const statusIs = (page, text) =>
    page.locator("#baton-status", { hasText: text }).waitFor({ timeout });

  // Three visitors queue while nobody is available.
  const pages = [];
  for (let i = 1; i <= 3; i++) {
    const page = await open();
    await say(page, "I want a refund");
    await page.locator("#baton-log .system").first().waitFor({ timeout });
    await statusIs(page, `You are number ${i} in the queue`);
    pages.push(page);
  }
  report.queued = [];
  for (const page of pages) report.queued.push(await conversationOf(page));
  // The "talk to the assistant again" button shows while waiting.
  await pages[2].locator("#baton-back").waitFor({ timeout });
  await pages[1].screenshot({ path: join(shots, "widget-queued-1280.png") });

  // The agent becomes available and takes the first: the others move up, live.
  await staff("PUT", `/api/v1/users/${agentId}/availability`, { availability: "available" });
  const [first, second, third] = pages;
  await first.locator("#baton-log .notice", { hasText: "joined the conversation" }).waitFor({ timeout });
  report.joined = await first.locator("#baton-log .notice", { hasText: "joined" }).textContent();
  await statusIs(second, "You are number 1 in the queue");
  await statusIs(third, "You are number 2 in the queue");
  if (await first.locator("#baton-status").isVisible()) throw new Error("the taken visitor still shows a queue place");

  // The staff reply arrives live.
  const reply = "Hi, this is Eve from support.";
  await staff("POST", `/api/v1/conversations/${report.queued[0]}/messages`, { text: reply });
  await first.locator("#baton-log .user", { hasText: reply }).waitFor({ timeout });
  await first.screenshot({ path: join(shots, "widget-human-1280.png") });

  // A handback: the notice, then the assistant answers the next question.
  await staff("POST", `/api/v1/conversations/${report.queued[0]}/handback`, {});
  await first.locator("#baton-log .system", { hasText: "assistant again" }).waitFor({ timeout });
  const answers = await first.locator("#baton-log .agent").count();
  await say(first, "How long does shipping take?");
  await first.locator("#baton-log .agent").nth(answers).waitFor({ timeout });
  report.answer = await first.locator("#baton-log .agent").nth(answers).textContent();
  if (!/ship/i.test(report.answer)) throw new Error(`the assistant answered ${JSON.stringify(report.answer)}`);
  if (await first.locator("#baton-back").isVisible()) throw new Error("the back button shows while the assistant holds it");

  // The freed agent took the second; staff close it; the visitor writes again and carries
  // on in a new conversation.
  await second.locator("#baton-log .notice", { hasText: "joined the conversation" }).waitFor({ timeout });
  await staff("POST", `/api/v1/conversations/${report.queued[1]}/close`, {});
  await second.locator("#baton-log .notice", { hasText: "was closed" }).waitFor({ timeout });
  await say(second, "One more thing: where is my parcel?");
  await second.waitForFunction((old) => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("baton-chat:"));
    return JSON.parse(localStorage.getItem(key)).id !== old;
  }, report.queued[1], { timeout });
  report.carried_on = await conversationOf(second);
  await second.locator("#baton-log .visitor", { hasText: "where is my parcel" }).waitFor({ timeout });

  // Visitor choice: a fresh visitor is offered both before the first message; nobody is
  // free now (the agent holds the third), so the widget says so.
  const chooser = await open(WIDE);
  await chooser.locator("#baton-choice").waitFor({ timeout });
  report.choice_note = await chooser.locator("#baton-choice-note").textContent();
  await chooser.screenshot({ path: join(shots, "widget-choice-1280.png") });
  const axe = async (page) => {
    const results = await new AxeBuilder({ page }).include("#baton-chat").withTags(["wcag2a", "wcag2aa"]).analyze();
    return results.violations.map((v) => ({ id: v.id, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
  };
  const overflow = (page) => page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    widget: document.getElementById("baton-chat").getBoundingClientRect().toJSON(),
  }));
  report.violations = [...(await axe(chooser)), ...(await axe(second)), ...(await axe(first))];
  await chooser.setViewportSize(NARROW);
  const narrow = await overflow(chooser);
  report.narrow = narrow;
  if (narrow.scroll > narrow.client || narrow.widget.right > narrow.client || narrow.widget.left < 0) {
    throw new Error(`horizontal overflow at 375 px: ${JSON.stringify(narrow)}`);
  }
  report.violations.push(...(await axe(chooser)));
  await chooser.screenshot({ path: join(shots, "widget-choice-375.png") });
  await chooser.locator("#baton-choice button", { hasText: "Talk to a person" }).click();
  await chooser.locator("#baton-log .system").first().waitFor({ timeout });
  // (The carried-on conversation may wait too: the assistant could not answer it.)
  await statusIs(chooser, /You are number \d+ in the queue/);
  report.chooser_status = await chooser.locator("#baton-status").textContent();
  report.chose = await conversationOf(chooser);
  await chooser.screenshot({ path: join(shots, "widget-queued-375.png") });
  await second.setViewportSize(NARROW);
  const narrowSecond = await overflow(second);
  if (narrowSecond.scroll > narrowSecond.client) throw new Error(`overflow at 375 px: ${JSON.stringify(narrowSecond)}`);
  await second.screenshot({ path: join(shots, "widget-carried-on-375.png") });
  await first.screenshot({ path: join(shots, "widget-handback-1280.png") });

  if (report.violations.length) throw new Error(`axe: ${JSON.stringify(report.violations)}`);
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  console.log(JSON.stringify(report));
} catch (e) {
  if (failurePage) await failurePage.screenshot({ path: join(shots, "widget-failure.png") }).catch(() => {});
  throw e;
} finally {
  await browser.close();
  site.close();
}
