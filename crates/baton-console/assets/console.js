// Baton console: small enhancements over plain forms. No dependencies; every page
// works without this script, it only saves round trips.
"use strict";

// Elements with data-show-when="name=value[,value]" are shown only while the form
// control `name` has one of the values (the handoff page's boxes follow the process).
function syncConditional(form) {
  for (const el of form.querySelectorAll("[data-show-when]")) {
    const visible = el.dataset.showWhen.split(";").every((clause) => {
      const [name, values] = clause.split("=");
      const checked = form.querySelector(`[name="${name}"]:checked`) ||
        form.querySelector(`select[name="${name}"]`);
      return checked && values.split(",").includes(checked.value);
    });
    el.hidden = !visible;
    for (const input of el.querySelectorAll("input, select, textarea")) {
      if (!input.dataset.keepEnabled) input.disabled = !visible || input.dataset.locked === "true";
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-conditional]")) {
    syncConditional(form);
    form.addEventListener("change", () => syncConditional(form));
  }
});

// --- Human handoff: the custom triggers side panel -------------------------------
function renumberTriggers(rows) {
  rows.querySelectorAll(".trigger-row").forEach((row, i) => {
    row.querySelector("input").setAttribute("aria-label", `Trigger ${i + 1}`);
    const del = row.querySelector("button");
    del.setAttribute("aria-label", `Delete trigger ${i + 1}`);
    del.value = `delete:${i}`;
  });
}

function triggerRow(rows) {
  const template = document.getElementById("trigger-row-template");
  const row = template.content.firstElementChild.cloneNode(true);
  rows.append(row);
  renumberTriggers(rows);
  return row.querySelector("input");
}

function initTriggersPanel() {
  const panel = document.getElementById("triggers-panel");
  const pencil = document.getElementById("edit-triggers");
  if (!panel || !pencil) return;
  const form = document.getElementById("triggers-form");
  const rows = document.getElementById("trigger-rows");
  // What Cancel goes back to: the list as it was when the panel opened.
  let saved = rows.cloneNode(true);
  const open = () => {
    saved = rows.cloneNode(true);
    panel.hidden = false;
    pencil.setAttribute("aria-expanded", "true");
    const first = rows.querySelector("input") || document.getElementById("add-trigger");
    first.focus();
  };
  const close = () => {
    panel.hidden = true;
    pencil.setAttribute("aria-expanded", "false");
    pencil.focus();
  };
  pencil.addEventListener("click", (event) => { event.preventDefault(); open(); });
  const cancel = () => {
    rows.replaceChildren(...saved.cloneNode(true).childNodes);
    close();
  };
  document.getElementById("close-panel").addEventListener("click", (event) => {
    event.preventDefault();
    cancel();
  });
  panel.addEventListener("keydown", (event) => { if (event.key === "Escape") cancel(); });
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.name !== "op") return;
    if (button.value === "add") {
      event.preventDefault();
      triggerRow(rows).focus();
    } else if (button.value.startsWith("delete:")) {
      event.preventDefault();
      const row = button.closest(".trigger-row");
      const error = row.nextElementSibling;
      if (error && error.classList.contains("field-error")) error.remove();
      row.remove();
      renumberTriggers(rows);
      (rows.querySelector("input") || document.getElementById("add-trigger")).focus();
    }
  });
  // Enter in a box saves, as the Save button would (not the first row's Delete).
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.name === "trigger") {
      event.preventDefault();
      form.requestSubmit(form.querySelector('button[value="save"]'));
    }
  });
}

// --- Human handoff: "Try a message" on the settings as they are on the page --------
function draftSettings() {
  const form = document.getElementById("handoff-form");
  if (!form) return null;
  const value = (name) => {
    const el = form.querySelector(`[name="${name}"]:checked`) || form.querySelector(`[name="${name}"]:not([type=radio]):not([type=checkbox])`);
    return el ? el.value : "";
  };
  const checked = (name) => !!form.querySelector(`[name="${name}"]:checked`);
  const ids = (name) => [...form.querySelectorAll(`[name="${name}"]:checked`)].map((el) => Number(el.value));
  const panelRows = document.querySelectorAll('#trigger-rows input[name="trigger"]');
  const triggers = panelRows.length || document.getElementById("triggers-panel")
    ? [...panelRows].map((el) => el.value).filter((v) => v.trim() !== "")
    : [...document.querySelectorAll("#trigger-summary li")].map((li) => li.textContent);
  const process = value("process") || "none";
  let destination = null;
  if (process !== "none") {
    if (value("destination_kind") === "workflow" && value("workflow_id")) {
      destination = { kind: "workflow", workflow_id: Number(value("workflow_id")) };
    } else if (value("destination_kind") === "users_and_teams" && value("inbox_id")) {
      destination = {
        kind: "users_and_teams", inbox_id: Number(value("inbox_id")),
        user_ids: ids("user_id"), team_ids: ids("team_id"), strategy: value("strategy") || "round_robin",
      };
    }
  }
  return {
    default_triggers: {
      cannot_answer: checked("cannot_answer"), asks_for_human: checked("asks_for_human"),
      agent_paused: checked("agent_paused"), frustrated: checked("frustrated"),
    },
    custom_triggers: triggers,
    process,
    destination,
    messages: {
      available: value("available"), unavailable: value("unavailable"),
      unassigned_by_workflow: value("unassigned_by_workflow"),
    },
    unassigned_chat: value("unassigned_chat") || "keep_open",
    live_reply_timeout_seconds: Number(value("live_reply_timeout_seconds") || 0),
    visitor_choice: checked("visitor_choice"),
  };
}

function showTryResult(target, text, result) {
  target.replaceChildren();
  const p = (...children) => { const el = document.createElement("p"); el.append(...children); target.append(el); return el; };
  if (result.error) {
    p(result.error.message + (result.error.field ? ` (${result.error.field})` : "")).className = "field-error";
    return;
  }
  const badge = document.createElement("strong");
  badge.className = `badge ${result.handoff ? "warn" : "ok"}`;
  badge.textContent = result.handoff ? "Hands off to a human" : "The customer agent answers";
  const head = p(badge);
  if (result.trigger) {
    const code = document.createElement("code");
    code.textContent = result.trigger.kind;
    head.append(" · trigger ", code);
  }
  // text_span counts characters (code points), as the API documents.
  const chars = [...text];
  const line = p();
  line.className = "try-text";
  const span = result.trigger && result.trigger.text_span;
  if (span) {
    const mark = document.createElement("mark");
    mark.textContent = chars.slice(span[0], span[1]).join("");
    line.append(chars.slice(0, span[0]).join(""), mark, chars.slice(span[1]).join(""));
  } else {
    line.append(text);
  }
  p(result.explanation.replace(/^\[[^\]]*\] /, ""));
  if (result.reply) p("Answer: " + result.reply).className = "muted";
}

function initTryMessage() {
  const form = document.getElementById("try-form");
  if (!form) return;
  const target = document.getElementById("try-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.querySelector("textarea").value;
    if (!text.trim()) {
      showTryResult(target, text, { error: { message: "Write a message to try." } });
      return;
    }
    const body = { channel: "chat", text };
    const settings = draftSettings();
    if (settings) body.settings = settings;
    try {
      const response = await fetch("/api/v1/handoff/simulate", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      showTryResult(target, text, await response.json());
    } catch (error) {
      showTryResult(target, text, { error: { message: "The server did not answer; try again." } });
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  initTriggersPanel();
  initTryMessage();
});

// --- Inbox: live list and conversation, title badge, sound, keyboard ---------------
// One EventSource per tab on the staff stream. Any event, and every (re)connect,
// re-fetches the page's fragment (the same rendering as a fresh load) and swaps it in:
// the page never drifts from what a reload would show, nothing missed or doubled.
function startInbox(region) {
  const baseTitle = document.title;
  let badge = 0;
  let waiting = null;
  let inflight = false;
  let again = false;
  let audio = null;

  const readWaiting = () => {
    const nav = region.querySelector("[data-waiting]");
    return nav ? Number(nav.dataset.waiting) : null;
  };
  const showBadge = () => {
    document.title = badge > 0 ? `(${badge}) ${baseTitle}` : baseTitle;
  };
  const beep = () => {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.1;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.15);
  };
  waiting = readWaiting();

  const swap = (html) => {
    // Keep what the person is doing: the focused conversation, the reply being typed.
    const active = document.activeElement;
    const focusedRow = active && active.closest && active.closest(".inbox-row");
    const focusedId = focusedRow ? focusedRow.dataset.id : null;
    const reply = region.querySelector("#reply-text");
    const draft = reply ? reply.value : null;
    const replyFocused = reply && active === reply;
    const selection = reply ? [reply.selectionStart, reply.selectionEnd] : null;
    region.innerHTML = html;
    if (focusedId) {
      const link = region.querySelector(`.inbox-row[data-id="${focusedId}"] .conv-link`);
      if (link) link.focus();
    }
    const newReply = region.querySelector("#reply-text");
    if (newReply && draft !== null) {
      newReply.value = draft;
      if (replyFocused) {
        newReply.focus();
        newReply.setSelectionRange(selection[0], selection[1]);
      }
    }
    const now = readWaiting();
    if (now !== null && waiting !== null && now > waiting) {
      badge += now - waiting;
      showBadge();
      beep();
    }
    if (now !== null) waiting = now;
  };

  const refresh = async () => {
    if (inflight) { again = true; return; }
    inflight = true;
    try {
      do {
        again = false;
        const response = await fetch(region.dataset.fragment, {
          credentials: "same-origin", headers: { "Accept": "text/html" },
        });
        if (response.redirected || !response.ok) break;
        swap(await response.text());
      } while (again);
    } catch (_) {
      // The stream's reconnect resyncs.
    } finally {
      inflight = false;
    }
  };

  // The stream starts after the position the server rendered this page at, and the
  // browser reconnects by itself with Last-Event-ID: either way the server replays
  // what was missed, or sends `resync` when it no longer can (a restart, another
  // host), so a (re)connection alone needs no re-read.
  const meta = document.querySelector('meta[name="baton-stream-after"]');
  const after = meta ? meta.content : "";
  const source = new EventSource(
    after ? `/api/v1/events?after=${encodeURIComponent(after)}` : "/api/v1/events");
  source.addEventListener("open", () => {
    // Without a position, what happened before the stream opened is unknown.
    if (!after) refresh();
    region.dataset.liveOpen = "true";
  });
  // A conversation page re-reads for its own conversation's events only, so that a
  // field error shown there is not swept away by other conversations' traffic.
  const mine = region.dataset.conversation;
  const concerns = (event) => {
    if (!mine) return true;
    try {
      return String(JSON.parse(event.data).conversation_id) === mine;
    } catch (_) {
      return true;
    }
  };
  for (const name of ["message", "assigned", "closed", "handed_back", "reopened"]) {
    source.addEventListener(name, (event) => { if (concerns(event)) refresh(); });
  }
  source.addEventListener("resync", refresh);
  region.dataset.liveReady = "true";

  // Seen: the badge goes once the person is back at the page.
  const seen = () => { if (badge) { badge = 0; showBadge(); } };
  document.addEventListener("pointerdown", seen);
  document.addEventListener("keydown", seen);

  const sound = document.getElementById("sound-toggle");
  if (sound) {
    sound.hidden = false;
    sound.addEventListener("click", () => {
      if (audio) {
        audio.close();
        audio = null;
        sound.textContent = "Turn on sound";
        sound.setAttribute("aria-pressed", "false");
      } else {
        const Context = window.AudioContext || window.webkitAudioContext;
        if (!Context) return;
        audio = new Context();
        sound.textContent = "Turn off sound";
        sound.setAttribute("aria-pressed", "true");
        beep();
      }
    });
  }
}

function typing(target) {
  return target && (target.isContentEditable ||
    ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("DOMContentLoaded", () => {
  const region = document.querySelector("#live-region[data-live]");
  if (region) startInbox(region);
});

document.addEventListener("keydown", (event) => {
  const region = document.querySelector("#live-region[data-live]");
  if (!region) return;
  // Ctrl/Cmd+Enter in the reply box sends.
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.id === "reply-text") {
    event.preventDefault();
    const form = event.target.form;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if (region.dataset.live === "list" && (event.key === "j" || event.key === "k")) {
    const links = [...region.querySelectorAll(".conv-link")];
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    const next = event.key === "j"
      ? (at < 0 ? 0 : Math.min(at + 1, links.length - 1))
      : (at < 0 ? 0 : Math.max(at - 1, 0));
    links[next].focus();
    event.preventDefault();
  } else if (region.dataset.live === "conversation" && event.key === "Escape") {
    window.location.href = "/console/inbox";
  }
});
