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
      agent_paused: checked("agent_paused"),
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
