// Baton web chat widget. Include with
//   <script src="https://your-baton/chat/widget.js" data-baton-url="https://your-baton"></script>
// It opens a conversation on first use, keeps its visitor token in localStorage, sends each
// message with a client_message_id (so a retry after a network error is never shown twice)
// and follows the conversation's server-sent events with fetch (EventSource cannot send
// the Authorization header): `message` events (replayed after the last id seen) and
// `state` events (status, who holds it, place in the queue).
(function () {
  "use strict";
  var script = document.currentScript;
  var base = (script && script.getAttribute("data-baton-url")) || "";
  var key = "baton-chat:" + base;
  var state = JSON.parse(localStorage.getItem(key) || "null");
  var seen = {};
  var lastId = 0;
  var current = null; // the last state event: {status, assignee, queue_position}
  var stream = null; // the AbortController of the open event stream
  var generation = 0; // bumped when the conversation changes, so old streams stop

  var root = document.createElement("div");
  root.id = "baton-chat";
  root.setAttribute("role", "region");
  root.setAttribute("aria-label", "Chat");
  root.innerHTML =
    '<style>#baton-chat{position:fixed;right:16px;bottom:16px;width:320px;max-width:calc(100vw - 32px);box-sizing:border-box;' +
    'font:14px system-ui,sans-serif;color:#111827;' +
    'box-shadow:0 4px 24px rgba(0,0,0,.2);border-radius:10px;background:#fff;display:flex;flex-direction:column;max-height:480px;z-index:2147483000}' +
    '#baton-chat *{box-sizing:border-box}' +
    '#baton-chat .bc-head{background:#1f4e79;color:#fff;padding:10px 12px;border-radius:10px 10px 0 0;font-weight:600;margin:0;font-size:15px}' +
    '#baton-log{flex:1;overflow-y:auto;padding:8px 12px;min-height:160px}' +
    '#baton-log .m{margin:6px 0;padding:6px 9px;border-radius:8px;max-width:85%;white-space:pre-wrap;overflow-wrap:anywhere}' +
    '#baton-log .visitor{background:#dbeafe;margin-left:auto}#baton-log .agent{background:#f1f5f9}' +
    '#baton-log .system{background:#fef3c7;font-style:italic}#baton-log .user{background:#dcfce7}' +
    '#baton-log .notice{background:none;color:#374151;font-size:13px;text-align:center;max-width:none;font-style:italic}' +
    '#baton-status{padding:6px 12px;font-size:13px;color:#1f2937;background:#f8fafc;border-top:1px solid #e5e7eb}' +
    '#baton-status[hidden],#baton-choice[hidden],#baton-back[hidden]{display:none}' +
    '#baton-choice{padding:8px 12px;border-top:1px solid #e5e7eb;display:flex;flex-wrap:wrap;gap:6px;align-items:center}' +
    '#baton-choice p{margin:0 0 4px;width:100%;font-size:13px}' +
    '#baton-chat .bc-alt{background:#fff;color:#1f4e79;border:1px solid #1f4e79;border-radius:6px;padding:6px 10px;font:inherit;cursor:pointer}' +
    '#baton-back{margin:6px 12px 0;align-self:flex-start}' +
    '#baton-chat form{display:flex;border-top:1px solid #e5e7eb}#baton-chat input{flex:1;min-width:0;border:0;padding:10px;font:inherit;border-radius:0 0 0 10px}' +
    '#baton-chat form button{border:0;background:#1f4e79;color:#fff;padding:0 14px;border-radius:0 0 10px 0;font:inherit;cursor:pointer}' +
    '@media (max-width:480px){#baton-chat{left:8px;right:8px;bottom:8px;width:auto;max-width:none}}</style>' +
    '<p class="bc-head">Chat with us</p><div id="baton-log" role="log" aria-live="polite" tabindex="0" aria-label="Messages"></div>' +
    '<div id="baton-status" role="status" aria-live="polite" hidden></div>' +
    '<div id="baton-choice" hidden><p id="baton-choice-note"></p>' +
    '<button type="button" class="bc-alt" data-talk="assistant">Chat with the assistant</button>' +
    '<button type="button" class="bc-alt" data-talk="human">Talk to a person</button></div>' +
    '<button type="button" class="bc-alt" id="baton-back" hidden>Talk to the assistant again</button>' +
    '<form><input name="text" autocomplete="off" placeholder="Write a message…" aria-label="Message">' +
    '<button type="submit">Send</button></form>';
  document.body.appendChild(root);
  var log = root.querySelector("#baton-log");
  var status = root.querySelector("#baton-status");
  var choice = root.querySelector("#baton-choice");
  var choiceNote = root.querySelector("#baton-choice-note");
  var back = root.querySelector("#baton-back");
  var form = root.querySelector("form");

  function line(className, text) {
    var div = document.createElement("div");
    div.className = "m " + className;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }

  function show(m) {
    if (m.id && seen[m.id]) return;
    if (m.id) { seen[m.id] = true; lastId = Math.max(lastId, m.id); }
    line(m.author, m.text);
    if (m.author !== "visitor") hideChoice();
    // A join is no message of the transcript: each one shown is kept with the message it
    // followed, so that a reload puts it back in its place instead of announcing it anew.
    ((state && state.joins) || []).forEach(function (j) {
      if (j.after === m.id) joined(j.name);
    });
  }

  function joined(name) { line("notice", (name || "Someone") + " joined the conversation"); }

  function save() {
    if (state) localStorage.setItem(key, JSON.stringify(state));
    else localStorage.removeItem(key);
  }

  function api(method, path, body, token) {
    var headers = { "Content-Type": "application/json" };
    token = token || (state && state.token);
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(base + path, { method: method, headers: headers, body: body && JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); });
  }

  // What the visitor sees of the conversation's state, on each change.
  function onState(s) {
    var before = current;
    current = s;
    var waiting = s.status === "open" && s.assignee.kind === "none";
    var human = s.status === "open" && s.assignee.kind === "user";
    if (before && s.status === "closed" && before.status !== "closed") {
      line("notice", "This conversation was closed. Write again to start a new one.");
    }
    var holder = human ? s.assignee.name || "" : null;
    if (human && state && state.holder !== holder) {
      joined(s.assignee.name);
      state.joins = (state.joins || []).concat([{ after: lastId, name: s.assignee.name }]);
    }
    if (state && state.holder !== holder) { state.holder = holder; save(); }
    // A handback needs no line of its own: its system message arrives as a message.
    if (waiting && s.queue_position) {
      status.textContent = "You are number " + s.queue_position + " in the queue";
      status.hidden = false;
    } else if (waiting) {
      status.textContent = "Waiting for a person";
      status.hidden = false;
    } else {
      status.hidden = true;
      status.textContent = "";
    }
    back.hidden = !(waiting || human);
    if (s.status !== "open" || s.assignee.kind !== "agent") hideChoice();
  }

  function hideChoice() { choice.hidden = true; }

  // `view`: the options of a new visitor, or the conversation JSON of a fresh one.
  function offerChoice(view) {
    if (!view.visitor_choice) return;
    if (view.status && (view.status !== "open" || view.assignee.kind !== "agent")) return;
    if (log.querySelector(".m.visitor, .m.agent, .m.user, .m.system")) return;
    choiceNote.textContent = view.humans_available === false
      ? "Nobody is available right now; you can leave a message."
      : "How would you like to chat?";
    choice.hidden = false;
  }

  function start() {
    if (state) return Promise.resolve(state);
    return api("POST", "/api/v1/chat/conversations", { visitor: {} }).then(adopt);
  }

  function adopt(c, details) {
    state = { id: c.conversation_id, token: c.visitor_token, visitor: details || {} };
    save();
    follow();
    return state;
  }

  // After staff closed the conversation: a new one, with the same visitor details, that
  // names the old one (proved by its token) so staff see them linked.
  function carryOn() {
    var old = state;
    var body = { visitor: old.visitor || {}, previous: { id: old.id, token: old.token } };
    return api("POST", "/api/v1/chat/conversations", body, old.token).then(function (c) {
      current = null;
      return adopt(c, old.visitor);
    });
  }

  function follow() {
    if (!state) return;
    if (stream) stream.abort();
    var mine = ++generation;
    var controller = window.AbortController ? new AbortController() : null;
    stream = controller;
    var headers = { Authorization: "Bearer " + state.token };
    // Always from the last message seen (0: the start): the stream then replays what was
    // stored before it connected, such as the reply to a first message sent while the
    // connection was still opening; `seen` drops what is already shown.
    headers["Last-Event-ID"] = String(lastId);
    fetch(base + "/api/v1/chat/conversations/" + state.id + "/events",
      { headers: headers, signal: controller ? controller.signal : undefined })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error("closed");
            if (mine !== generation) return;
            buffer += decoder.decode(chunk.value, { stream: true });
            var events = buffer.split("\n\n");
            buffer = events.pop();
            events.forEach(function (e) {
              var type = "message";
              var data = e.split("\n").filter(function (l) {
                if (l.indexOf("event:") === 0) type = l.slice(6).trim();
                return l.indexOf("data:") === 0;
              }).map(function (l) { return l.slice(5).trim(); }).join("\n");
              if (!data) return;
              if (type === "state") onState(JSON.parse(data));
              else if (type === "message") show(JSON.parse(data));
            });
            return pump();
          });
        }
        return pump();
      })
      .catch(function () { if (mine === generation) setTimeout(function () { if (mine === generation) follow(); }, 2000); });
  }

  function send(text) {
    var id = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
    var ready = state && current && current.status === "closed" ? carryOn() : start();
    return ready.then(function () {
      return api("POST", "/api/v1/chat/conversations/" + state.id + "/messages", { text: text, client_message_id: id });
    }).catch(function (e) {
      // Closed under us (the state event not yet arrived): carry on in a new one once.
      if (e && e.error && e.error.code === "conflict" && state) {
        return carryOn().then(function () {
          return api("POST", "/api/v1/chat/conversations/" + state.id + "/messages", { text: text, client_message_id: id });
        });
      }
      throw e;
    }).catch(function (e) {
      line("system", (e && e.error && e.error.message) || "The message could not be sent.");
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = form.text.value.trim();
    if (!text) return;
    form.text.value = "";
    hideChoice();
    send(text);
  });

  function choose(talkTo) {
    hideChoice();
    return start().then(function () {
      return api("POST", "/api/v1/chat/conversations/" + state.id + "/choice", { talk_to: talkTo });
    }).catch(function (e) {
      line("system", (e && e.error && e.error.message) || "That did not work; please try again.");
    });
  }

  choice.addEventListener("click", function (ev) {
    var talk = ev.target && ev.target.getAttribute && ev.target.getAttribute("data-talk");
    if (talk === "human") choose("human");
    else if (talk === "assistant") { hideChoice(); form.text.focus(); }
  });
  back.addEventListener("click", function () { back.hidden = true; choose("assistant"); });

  if (state) {
    api("GET", "/api/v1/chat/conversations/" + state.id + "/messages").then(function (r) {
      (state.joins || []).forEach(function (j) { if (!j.after) joined(j.name); });
      r.messages.forEach(show);
      follow();
      if (!r.messages.length) {
        return api("GET", "/api/v1/chat/conversations/" + state.id).then(offerChoice);
      }
    }).catch(function () { state = null; save(); });
  } else {
    // A fresh visitor: ask whether to offer the choice, without opening a conversation yet.
    fetch(base + "/api/v1/chat/options").then(function (r) { return r.ok ? r.json() : null; })
      .then(function (o) { if (o) offerChoice(o); }).catch(function () {});
  }
})();
