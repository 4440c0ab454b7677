// Drives the web chat widget on a running Baton in headless Chromium, as a visitor would:
// a question the agent answers, a trigger phrase that hands off, a staff reply arriving
// over server-sent events, and a reload that restores the conversation without doubles.
// Usage: node widget.mjs BASE_URL STAFF_TOKEN AVAILABLE_MESSAGE
// Exits 0 and prints one JSON line on success; any failure throws (exit 1).
import { chromium } from "playwright-core";

const [base, staffToken, availableMessage] = process.argv.slice(2);
if (!base || !staffToken || !availableMessage) {
  throw new Error("usage: node widget.mjs BASE_URL STAFF_TOKEN AVAILABLE_MESSAGE");
}
const timeout = 20000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Root in a container has no user namespace for the sandbox.
  args: ["--no-sandbox", "--headless=new"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // The first event stream opens late, after the first reply is stored and published,
  // as on a slow network: the widget must still show that reply (it replays from the
  // message table).
  let delayed = false;
  await page.route("**/events", async (route) => {
    if (!delayed) {
      delayed = true;
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    await route.continue();
  });
  await page.goto(base + "/chat");
  const input = page.locator('#baton-chat input[name="text"]');
  const send = page.locator("#baton-chat form button");
  const say = async (text) => {
    await input.fill(text);
    await send.click();
  };

  await say("How long does shipping take?");
  const agent = page.locator("#baton-log .agent").first();
  await agent.waitFor({ timeout });
  const answer = await agent.textContent();
  if (!/ship/i.test(answer)) throw new Error(`the agent answered ${JSON.stringify(answer)}`);

  await say("I want a refund");
  const system = page.locator("#baton-log .system").first();
  await system.waitFor({ timeout });
  const handoff = await system.textContent();
  if (handoff !== availableMessage) throw new Error(`handoff message ${JSON.stringify(handoff)}`);

  const state = await page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("baton-chat:"));
    return JSON.parse(localStorage.getItem(key));
  });
  const reply = "Hi, this is Fay from support.";
  const posted = await fetch(`${base}/api/v1/conversations/${state.id}/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${staffToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ text: reply }),
  });
  if (posted.status !== 201) throw new Error(`staff reply: HTTP ${posted.status} ${await posted.text()}`);
  // Arrives over the event stream, not by polling the page.
  await page.locator("#baton-log .user", { hasText: reply }).waitFor({ timeout });

  await page.reload();
  await page.locator("#baton-log .user", { hasText: reply }).waitFor({ timeout });
  const visitorMessages = await page.locator("#baton-log .visitor").count();
  if (visitorMessages !== 2) throw new Error(`${visitorMessages} visitor messages after reload, expected 2`);
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  console.log(JSON.stringify({ conversation: state.id, answer, handoff, reply, visitorMessages }));
} finally {
  await browser.close();
}
