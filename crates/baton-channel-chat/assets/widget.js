// Baton web chat widget. Include with
//   <script src="https://your-baton/chat/widget.js" data-baton-url="https://your-baton"></script>
// It opens a conversation on first use, keeps its visitor token in localStorage, sends each
// message with a client_message_id (so a retry after a network error is never shown twice)
// and follows the conversation's server-sent events with fetch (EventSource cannot send
// the Authorization header).
(function () {
  "use strict";
  var script = document.currentScript;
  var base = (script && script.getAttribute("data-baton-url")) || "";
  var key = "baton-chat:" + base;
  var state = JSON.parse(localStorage.getItem(key) || "null");
  var seen = {};
  var lastId = 0;

  var root = document.createElement("div");
  root.id = "baton-chat";
  root.innerHTML =
    '<style>#baton-chat{position:fixed;right:16px;bottom:16px;width:320px;font:14px system-ui,sans-serif;' +
    'box-shadow:0 4px 24px rgba(0,0,0,.2);border-radius:10px;background:#fff;display:flex;flex-direction:column;max-height:480px}' +
    '#baton-chat header{background:#1f4e79;color:#fff;padding:10px 12px;border-radius:10px 10px 0 0;font-weight:600}' +
    '#baton-log{flex:1;overflow-y:auto;padding:8px 12px;min-height:200px}' +
    '#baton-log .m{margin:6px 0;padding:6px 9px;border-radius:8px;max-width:85%;white-space:pre-wrap}' +
    '#baton-log .visitor{background:#dbeafe;margin-left:auto}#baton-log .agent{background:#f1f5f9}' +
    '#baton-log .system{background:#fef3c7;font-style:italic}#baton-log .user{background:#dcfce7}' +
    '#baton-chat form{display:flex;border-top:1px solid #e5e7eb}#baton-chat input{flex:1;border:0;padding:10px;font:inherit}' +
    '#baton-chat button{border:0;background:#1f4e79;color:#fff;padding:0 14px;border-radius:0 0 10px 0}</style>' +
    '<header>Chat with us</header><div id="baton-log" aria-live="polite"></div>' +
    '<form><input name="text" autocomplete="off" placeholder="Write a message…" aria-label="Message">' +
    '<button type="submit">Send</button></form>';
  document.body.appendChild(root);
  var log = root.querySelector("#baton-log");
  var form = root.querySelector("form");

  function show(m) {
    if (m.id && seen[m.id]) return;
    if (m.id) { seen[m.id] = true; lastId = Math.max(lastId, m.id); }
    var div = document.createElement("div");
    div.className = "m " + m.author;
    div.textContent = m.text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }

  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state) headers.Authorization = "Bearer " + state.token;
    return fetch(base + path, { method: method, headers: headers, body: body && JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); });
  }

  function start() {
    if (state) return Promise.resolve(state);
    return api("POST", "/api/v1/chat/conversations", { visitor: {} }).then(function (c) {
      state = { id: c.conversation_id, token: c.visitor_token };
      localStorage.setItem(key, JSON.stringify(state));
      follow();
      return state;
    });
  }

  function follow() {
    if (!state) return;
    var headers = { Authorization: "Bearer " + state.token };
    // Always from the last message seen (0: the start): the stream then replays what was
    // stored before it connected, such as the reply to a first message sent while the
    // connection was still opening; `seen` drops what is already shown.
    headers["Last-Event-ID"] = String(lastId);
    fetch(base + "/api/v1/chat/conversations/" + state.id + "/events", { headers: headers })
      .then(function (r) {
        var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error("closed");
            buffer += decoder.decode(chunk.value, { stream: true });
            var events = buffer.split("\n\n");
            buffer = events.pop();
            events.forEach(function (e) {
              var data = e.split("\n").filter(function (l) { return l.indexOf("data:") === 0; })
                .map(function (l) { return l.slice(5).trim(); }).join("\n");
              if (data) show(JSON.parse(data));
            });
            return pump();
          });
        }
        return pump();
      })
      .catch(function () { setTimeout(follow, 2000); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = form.text.value.trim();
    if (!text) return;
    form.text.value = "";
    var id = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
    start().then(function () {
      return api("POST", "/api/v1/chat/conversations/" + state.id + "/messages", { text: text, client_message_id: id });
    }).catch(function (e) {
      show({ author: "system", text: (e && e.error && e.error.message) || "The message could not be sent." });
    });
  });

  if (state) {
    api("GET", "/api/v1/chat/conversations/" + state.id + "/messages").then(function (r) {
      r.messages.forEach(show);
      follow();
    }).catch(function () { localStorage.removeItem(key); state = null; });
  }
})();
