/* Live chat for a room page (templates/chat/room.html). Without this script the page still
   works: it shows the recent history and posts with a plain form.

   What it adds: messages arrive live; what you send goes into an outbox (kept in
   localStorage, one entry per open page so two tabs of a room never overwrite each other's)
   until the server echoes it back with its id, so nothing typed while offline is lost and a
   resend after a reconnect never duplicates (the server knows each client_id). Until the
   socket has opened once, Send is the plain form post. When the room ends with messages
   still waiting, they stay on screen as "not sent", their text there to copy.
   It reconnects with jittered exponential backoff, resuming with ?after=<last id seen>, and
   sends a ping every 25 s so a dead connection is noticed even when the network says
   nothing. On a slow link it asks for compressed frames. Yours say where they are (sending,
   waiting, held and why); a refusal gives the text back. The protocol is described in
   docs/protocol.md; see also chat-app.js. */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root || root.dataset.live !== "yes" || !("WebSocket" in window)) return;

  // What it says, in the page's language (kindred.js, loaded first on every page).
  var gettext = window.kindredI18n.gettext, ngettext = window.kindredI18n.ngettext;

  var slug = root.dataset.room;
  var list = document.getElementById("chat-messages");
  var stateEl = document.getElementById("chat-state");
  var errorBox = document.getElementById("chat-error");
  var form = document.getElementById("chat-form");
  var textarea = document.getElementById("chat-body");
  var hideMe = document.getElementById("chat-hide-me");
  var side = document.getElementById("chat-side");
  var membersEl = document.getElementById("chat-members");
  var older = document.getElementById("chat-older");
  var crisis = document.getElementById("chat-crisis");
  var scroller = document.getElementById("chat-scroll"); // none: the page itself scrolls
  var outboxKey = "kindred.chat.outbox." + slug; // + "." + this page's own id
  var hiddenKey = "kindred.chat.hidden";
  var store = storage();

  var CLAIM_EVERY = 10000; // an open page re-dates its outbox entry this often
  var ORPHANED = 30000; // an entry not re-dated for this long belongs to a page now closed
  var PING_EVERY = 25000;
  var PONG_WITHIN = 10000;
  var MAX_DELAY = 30000;
  var DEFLATE = "kindred.deflate"; // the subprotocol that asks for compressed frames
  var FLUSHED = [0, 0, 255, 255];
  // The server's text asks to try again; here the outbox does that by itself.
  var UNAVAILABLE = gettext("We couldn't save your message just now. It's kept here and will be sent by itself in a few seconds.");
  // The same for a sign-out (chat/events.py: one frame for every connection, in no language).
  var SIGNED_OUT = gettext("You've been signed out, so this chat has closed. Sign in again to go on.");
  var BADGES = { admin: gettext("Admin"), moderator: gettext("Moderator"), peer_supporter: gettext("Peer supporter") };

  var lastId = Number(root.dataset.lastId) || 0;
  var socket = null;
  var live = false;
  var everLive = false; // the socket opened at least once on this page
  var ended = false; // the room is closed to us for good: no reconnecting
  var attempts = 0;
  var inflateFailed = false;
  var retryTimer = null;
  var pingTimer = null;
  var pongTimer = null;
  var flushTimer = null;
  var members = [];
  var pageKey = outboxKey + "." + uuid();
  var outbox = [];
  var offline = null; // the state line's words while away

  // ------------------------------------------------------------------ small helpers

  // Storage may be blocked (a privacy setting): then even reading `localStorage` throws,
  // and the outbox lives in this page's memory only.
  function storage() {
    try {
      var s = window.localStorage;
      s.getItem(outboxKey);
      return s;
    } catch (e) {
      return null;
    }
  }

  function stored(key) {
    try { return store ? store.getItem(key) : null; } catch (e) { return null; }
  }

  // Each open page keeps its own entry, {at, items}, re-dated while it is open; another page's
  // entry is taken over only once that page has gone (closed or reloaded: `at` is 0, or old).
  // Two tabs of a room may then both send one message: the server keeps it once (client_id).
  function adopt() {
    if (!store) return [];
    var found = [];
    var now = Date.now();
    try {
      for (var i = store.length - 1; i >= 0; i--) {
        var key = store.key(i);
        var other = key.indexOf(outboxKey + ".") === 0 && key.length === pageKey.length;
        if (key === pageKey || (key !== outboxKey && !other)) continue;
        var entry = JSON.parse(store.getItem(key) || "null");
        if (Array.isArray(entry)) entry = { at: 0, items: entry }; // as older pages kept it
        if (!entry || (entry.at && now - entry.at < ORPHANED)) continue;
        found = found.concat(entry.items || []);
        store.removeItem(key);
      }
    } catch (e) { /* unreadable: left where it is */ }
    return found.filter(function (item) {
      if (!item || !item.client_id || typeof item.body !== "string") return false;
      if (outbox.some(function (mine) { return mine.client_id === item.client_id; })) return false;
      outbox.push(item);
      return true;
    });
  }

  function saveOutbox(at) {
    if (!store) return;
    try {
      if (outbox.length) store.setItem(pageKey, JSON.stringify({ at: at === undefined ? Date.now() : at, items: outbox }));
      else store.removeItem(pageKey);
    } catch (e) { /* full: what isn't kept stays on screen */ }
  }

  function waitingCount() {
    return outbox.filter(function (item) { return !item.unsent; }).length;
  }

  function uuid() {
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setState(text, kind) {
    stateEl.textContent = text;
    stateEl.dataset.state = kind;
    root.dataset.connection = kind;
  }

  // Away: also how many messages wait to be sent.
  function showOffline(text, kind) {
    offline = [text, kind || "offline"];
    var n = waitingCount();
    setState(text + (n ? " · " + ngettext("%(num)s message waiting to send", "%(num)s messages waiting to send", n) : ""), offline[1]);
  }

  // For pages built on a room (chat-app.js); false when one cancelled it.
  function fire(name, detail) {
    return root.dispatchEvent(new CustomEvent(name, { detail: detail, cancelable: true }));
  }

  // kind "later": nothing is lost, the message waits and goes by itself (a gentler notice,
  // which goes away once everything kept has been sent).
  function showError(text, kind) {
    errorBox.textContent = "";
    errorBox.appendChild(el("p", "", text));
    errorBox.className = "notice " + (kind === "later" ? "notice-important" : "notice-error");
    errorBox.dataset.kind = kind || "error";
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function nearBottom() {
    if (scroller) return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
  }

  function toBottom(li) {
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
    else li.scrollIntoView({ block: "end" });
  }

  // ------------------------------------------------------------------ rendering messages

  function messageItem(m) {
    var li = el("li", "chat-message");
    li.id = "m" + m.id;
    li.dataset.id = m.id;
    var meta = el("p", "chat-meta");
    meta.appendChild(el("span", "author", m.author.pseudonym));
    if (BADGES[m.author.badge]) {
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", "badge badge-ok chat-badge", BADGES[m.author.badge]));
    }
    meta.appendChild(document.createTextNode(" "));
    var words = window.kindredClock ? window.kindredClock.words(m.created_at) : ""; // the page's words
    var time = el("time", "", words || m.created_at.slice(0, 16).replace("T", " ") + " UTC");
    time.setAttribute("datetime", m.created_at);
    meta.appendChild(time);
    li.appendChild(meta);
    var body = el("div", "chat-body");
    body.innerHTML = m.html; // sanitised by the server's content pipeline
    li.appendChild(body);
    if (root.dataset.moderator === "yes" && form) li.appendChild(removeForm(m.id));
    return li;
  }

  function removeForm(id) {
    var f = el("form", "inline chat-remove");
    f.method = "post";
    f.action = "/chat/" + encodeURIComponent(slug) + "/messages/" + id + "/remove";
    var token = form.querySelector('input[name="csrf_token"]').cloneNode();
    var button = el("button", "link-button");
    button.type = "submit";
    // The same words as the page's own (templates/chat/_message.html); the id is a number.
    button.innerHTML = gettext('Remove<span class="visually-hidden"> message %(id)s</span>', { id: Number(id) });
    f.appendChild(token);
    f.appendChild(button);
    return f;
  }

  // `mine`: your own, back from the server. Others arriving while you read further up, or
  // are away, are told as unseen.
  function insertMessage(m, mine) {
    var stick = mine || (nearBottom() && document.visibilityState !== "hidden");
    var li = messageItem(m);
    var after = null;
    var items = list.querySelectorAll("li.chat-message[data-id]");
    for (var i = 0; i < items.length; i++) {
      if (Number(items[i].dataset.id) > m.id) { after = items[i]; break; }
    }
    var yours = list.querySelector("li.pending, li.held"); // yours stay last
    list.insertBefore(li, after || yours);
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    if (stick) toBottom(li);
    else if (m.id > lastId) fire("kindred:unseen", li);
  }

  function onMessage(m) {
    var mine = settle(m.client_id);
    if (document.getElementById("m" + m.id)) return; // already shown: never twice
    insertMessage(m, mine);
    if (m.id > lastId) lastId = m.id;
  }

  // One of yours not in the room yet: "pending" or "held".
  function ownItem(item, kind, state, note) {
    var li = el("li", "chat-message " + kind);
    li.id = kind + "-" + item.client_id;
    var meta = el("p", "chat-meta");
    meta.appendChild(el("span", "author", gettext("You")));
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(el("span", "chat-pending-state", state));
    li.appendChild(meta);
    li.appendChild(el("div", "chat-body chat-text", item.body));
    if (note) li.appendChild(el("p", "chat-note", note));
    var old = document.getElementById("pending-" + item.client_id) || document.getElementById(li.id);
    if (old) old.replaceWith(li);
    else list.appendChild(li);
    toBottom(li);
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    return li;
  }

  function pendingItem(item) {
    if (item.unsent) return unsentItem(item);
    ownItem(item, "pending", live ? gettext("Sending…") : gettext("Waiting for the connection…"));
  }

  // Not sent, and no box to give it back to (the room has ended, or you may no longer write
  // here): it stays on screen, and in this browser, with why, to copy until you let it go.
  function unsentItem(item) {
    var li = ownItem(item, "unsent", gettext("Not sent"), item.unsent);
    var text = li.querySelector(".chat-text");
    text.tabIndex = 0; // to select it from the keyboard too
    var copy = el("button", "secondary chat-copy", gettext("Copy the text"));
    copy.type = "button";
    copy.addEventListener("click", function () {
      var range = document.createRange();
      range.selectNodeContents(text);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      var done = function () { copy.textContent = gettext("Copied"); };
      if (navigator.clipboard) navigator.clipboard.writeText(item.body).then(done, function () {});
      else if (document.execCommand("copy")) done();
    });
    var forget = el("button", "link-button chat-forget", gettext("Remove"));
    forget.type = "button";
    forget.addEventListener("click", function () { settle(item.client_id); });
    li.appendChild(copy);
    li.appendChild(forget);
  }

  function markUnsent(item, why) {
    item.unsent = why || gettext("This room has closed, so your message couldn't be sent.");
    delete item.retryAt;
    saveOutbox();
    unsentItem(item);
  }

  function canWrite() {
    return !!(form && textarea && form.offsetParent !== null && !textarea.disabled);
  }

  // Not sent: back in the box (above anything written since) to edit and retry, or, with no
  // box on screen any more, kept in the list as not sent.
  function giveBack(item, why) {
    if (!canWrite()) return markUnsent(item, why);
    settle(item.client_id);
    textarea.value = item.body + (textarea.value.trim() ? "\n\n" + textarea.value : "");
    textarea.dispatchEvent(new Event("input"));
  }

  function pendingState(clientId, text) {
    var li = document.getElementById("pending-" + clientId);
    var span = li && li.querySelector(".chat-pending-state");
    if (span) span.textContent = text;
  }

  // The server has answered for this client_id: it leaves the outbox.
  function settle(clientId) {
    if (!clientId) return null;
    var found = null;
    outbox = outbox.filter(function (item) {
      if (item.client_id === clientId) { found = item; return false; }
      return true;
    });
    if (found) saveOutbox();
    ["pending-", "held-", "unsent-"].forEach(function (kind) { // a held one let through comes too
      var li = document.getElementById(kind + clientId);
      if (li) li.remove();
    });
    var waiting = outbox.some(function (item) { return item.retryAt; });
    if (found && found.kept && !waiting && errorBox.dataset.kind === "later") clearError();
    return found;
  }

  // ------------------------------------------------------------------ members here

  function renderMembers() {
    membersEl.textContent = "";
    var names = members.map(function (m) { return m.pseudonym; });
    var shown = names.filter(Boolean).sort(function (a, b) { return a.localeCompare(b); });
    shown.forEach(function (name) { membersEl.appendChild(el("li", "", name)); });
    var hidden = names.length - shown.length;
    if (hidden) membersEl.appendChild(el("li", "chat-anonymous", ngettext("a member", "%(num)s members", hidden)));
    side.hidden = false;
  }

  function onPresence(frame) {
    frame.left.forEach(function (gone) {
      for (var i = 0; i < members.length; i++) {
        if (members[i].pseudonym === gone.pseudonym) { members.splice(i, 1); break; }
      }
    });
    members = members.concat(frame.joined);
    renderMembers();
  }

  // ------------------------------------------------------------------ the crisis card

  // What the server answered each of yours with before its notice: "held", or a refusal's
  // code (one that is up has no answer but itself), for the card to say what is true.
  var answered = {};
  // The card's code (chat-crisis.js) comes once it may be needed: when the member starts to
  // write, or with a notice. Joining a room doesn't download it.
  var crisisCode = null;
  function crisisCard(f) {
    if (!crisisCode) {
      crisisCode = el("script");
      crisisCode.src = root.dataset.crisisScript; // its versioned address, cached for good
      document.head.appendChild(crisisCode);
    }
    var show = function () { window.kindredCrisis(f, answered[f.client_id]); };
    if (!f) return;
    if (window.kindredCrisis) return show();
    crisisCode.addEventListener("load", show);
    crisisCode.addEventListener("error", function () { // its words, and the way to the helplines
      var help = el("a", "", gettext("Helplines"));
      help.href = "/help";
      crisis.appendChild(el("p", "", (f.message || "") + " ")).appendChild(help);
      crisis.hidden = false;
    });
  }

  // ------------------------------------------------------------------ frames in

  var handlers = {
    hello: function (f) {
      live = true;
      everLive = true;
      attempts = 0;
      if (f.limits) {
        root.dataset.maxChars = f.limits.max_chars;
        root.dataset.maxFrameBytes = f.limits.max_frame_bytes;
      }
      members = f.members;
      renderMembers();
      startHeartbeat();
      if (f.lobby) { // a session's lobby: what is written waits until we're let in
        setState(gettext("In the lobby — waiting to be let in"), "lobby");
        return;
      }
      setState(gettext("Live"), "live");
      outbox.forEach(function (item) { if (!item.unsent) pendingState(item.client_id, gettext("Sending…")); });
      flush();
    },
    message: onMessage,
    presence: onPresence,
    updated: function (f) { // a moderator restored or edited a message: show it as it is now
      var li = document.getElementById("m" + f.message.id);
      if (li) li.replaceWith(messageItem(f.message));
      else insertMessage(f.message, false);
    },
    removed: function (f) {
      var li = document.getElementById("m" + f.id);
      if (li) li.remove();
    },
    error: function (f) {
      var item = f.client_id ? outbox.find(function (i) { return i.client_id === f.client_id; }) : null;
      // Not now, but kept: too fast, slow mode, or nothing can be saved for the moment
      // (the database is away or its disk is full). It is sent again after retry_after.
      var later = f.code === "rate_limited" || f.code === "slow_mode" || f.code === "unavailable";
      if (f.client_id && !later) answered[f.client_id] = f.code; // for the crisis card
      if (item && later && f.retry_after) {
        item.retryAt = Date.now() + f.retry_after * 1000;
        item.kept = true;
        saveOutbox();
        pendingState(item.client_id, gettext("Will send in %(seconds)s s", { seconds: f.retry_after }));
        showError(f.code === "unavailable" ? UNAVAILABLE : f.message, "later");
        scheduleFlush(f.retry_after * 1000);
        return;
      }
      if (item && f.code === "held") { // stored: it waits, shown to you alone
        settle(item.client_id);
        ownItem(item, "held", gettext("Waiting for a moderator"), f.message);
        return;
      }
      var message = f.code === "signed_out" ? SIGNED_OUT : f.message;
      if (item && !canWrite()) return giveBack(item, gettext("Not sent. %(why)s", { why: message }));
      if (item) giveBack(item);
      showError(f.code === "held" ? gettext("Waiting for a moderator. %(why)s", { why: message })
        : gettext("Not sent. %(why)s", { why: message }));
      if (f.code === "too_long") errorBox.dataset.kind = f.code; // the 1009 after it: said
    },
    notice: function (f) {
      if (f.code === "crisis") crisisCard(f);
    },
    history: function (f) {
      f.messages.forEach(function (m) { if (!document.getElementById("m" + m.id)) insertMessage(m, false); });
      if (older) {
        if (!f.more || !f.messages.length) older.parentNode.hidden = true;
        else older.dataset.before = f.messages[0].id;
      }
    },
    pong: function () {}
  };

  // ------------------------------------------------------------------ sending

  function sendItem(item) {
    socket.send(JSON.stringify({ type: "send", body: item.body, client_id: item.client_id }));
  }

  function flush() {
    if (!live) return;
    var now = Date.now();
    var wait = null;
    outbox.forEach(function (item) {
      if (item.unsent) return;
      if (!item.retryAt || item.retryAt <= now) {
        if (item.retryAt) pendingState(item.client_id, gettext("Sending…"));
        delete item.retryAt;
        sendItem(item);
      } else {
        wait = Math.min(wait === null ? Infinity : wait, item.retryAt - now);
      }
    });
    saveOutbox();
    if (wait !== null) scheduleFlush(wait);
  }

  function scheduleFlush(ms) {
    clearTimeout(flushTimer);
    flushTimer = setTimeout(flush, ms + 50);
  }

  function submit(event) {
    // Never connected on this page (the socket is blocked, or still on its way): the plain
    // form posts it, as without JavaScript. Once it has been live, what is written while
    // away waits in the outbox, on screen, until the connection is back.
    if (!everLive && navigator.onLine !== false) {
      if (event.type === "submit") return;
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
      return;
    }
    event.preventDefault();
    var text = textarea.value;
    if (!text.trim()) return;
    var item = { client_id: uuid(), body: text };
    if (!fire("kindred:sending", item)) return; // refused before sending (too long)
    clearError();
    outbox.push(item);
    saveOutbox();
    pendingItem(item);
    textarea.value = "";
    textarea.dispatchEvent(new Event("input"));
    textarea.focus();
    if (live) sendItem(item);
    else if (offline) showOffline(offline[0], offline[1]);
  }

  // ------------------------------------------------------------------ the connection

  function connect() {
    clearTimeout(retryTimer);
    if (ended) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + "/ws/rooms/" + encodeURIComponent(slug) + "?after=" + lastId;
    if (hideMe && hideMe.checked) url += "&presence=hidden";
    if (attempts) showOffline(gettext("Reconnecting…"), "connecting");
    else setState(gettext("Connecting…"), "connecting");
    var ws = slowLink() ? new WebSocket(url, [DEFLATE]) : new WebSocket(url);
    var unzip = null;
    socket = ws;
    ws.binaryType = "arraybuffer";
    ws.onmessage = function (event) {
      if (ws !== socket) return;
      clearTimeout(pongTimer); // any frame shows the connection is alive
      if (typeof event.data === "string") return receive(event.data);
      unzip = unzip || inflater(function (text) { if (ws === socket) receive(text); }, function () {
        inflateFailed = true; // this browser can't read them: plain frames from now on
        ws.close();
      });
      unzip.push(event.data);
    };
    ws.onclose = function (event) {
      var end = function () { if (ws === socket) lost(event.code); };
      if (unzip) unzip.then(end); else end(); // after the frames that came before the close
    };
  }

  function receive(text) {
    var frame;
    try { frame = JSON.parse(text); } catch (e) { return; }
    var handle = handlers[frame.type];
    if (handle) handle(frame);
    // Pages built on a room (a group session, a support conversation) listen for these.
    root.dispatchEvent(new CustomEvent("kindred:frame", { detail: frame }));
  }

  // On a slow link (the browser's own estimate, or its data saver) ask for compressed frames:
  // about half the bytes, for server CPU that fast links are better off without.
  function slowLink() {
    var link = navigator.connection;
    return !inflateFailed && !!window.DecompressionStream && !!link &&
      (link.saveData || /2g|3g/.test(link.effectiveType));
  }

  // Compressed frames (core/web/deflate.py): one raw-deflate stream for the socket's life,
  // each binary frame one newline-ended JSON frame less the four bytes that end every sync
  // flush. `then(fn)` runs fn once every frame received so far has been handled.
  function inflater(handle, failed) {
    var stream = new DecompressionStream("deflate-raw");
    var writer = stream.writable.getWriter();
    var reader = stream.readable.pipeThrough(new TextDecoderStream()).getReader();
    var rest = "", received = 0, handled = 0, waiting = null;
    function settle() { if (waiting && handled >= received) { var fn = waiting; waiting = null; fn(); } }
    (function read() {
      reader.read().then(function (chunk) {
        if (chunk.done) return;
        var lines = (rest + chunk.value).split("\n");
        rest = lines.pop();
        lines.forEach(function (line) { handled += 1; handle(line); });
        settle();
        read();
      }, function () { handled = received; failed(); settle(); });
    })();
    return {
      push: function (data) {
        var bytes = new Uint8Array(data.byteLength + 4);
        bytes.set(new Uint8Array(data));
        bytes.set(FLUSHED, data.byteLength);
        received += 1;
        writer.write(bytes).catch(function () { /* the reader says */ });
      },
      then: function (fn) { waiting = fn; settle(); }
    };
  }

  // Stop using the current socket now (a dead network may never report its end).
  function abandon() {
    var ws = socket;
    socket = null;
    if (ws) {
      try { ws.close(); } catch (e) { /* already closed */ }
      lost(1006);
    }
  }

  function lost(code) {
    socket = null;
    live = false;
    stopHeartbeat();
    if (code === 4003) return gone(); // removed, or the room has ended (chat/gates.py)
    if (code === 4000) { // our place in the room changed (let in from a lobby): back at once
      retryTimer = setTimeout(connect, 50);
      return;
    }
    outbox.forEach(function (item) { if (!item.unsent) pendingState(item.client_id, gettext("Waiting for the connection…")); });
    if (code === 1009 && errorBox.dataset.kind !== "too_long") showError(gettext("A message was too large to send. Shorten it and try again."));
    attempts += 1;
    // Full jitter: a room's clients don't all come back at the same moment after an outage.
    var cap = Math.min(MAX_DELAY, 1000 * Math.pow(2, attempts));
    var delay = code === 1013 ? 300 : 300 + Math.floor(Math.random() * cap);
    if (navigator.onLine === false) {
      showOffline(gettext("Offline — what you write will be sent when you're back"));
    } else if (code === 1012) { // the server is restarting (a deploy): back in a moment
      showOffline(gettext("Kindred is restarting — reconnecting in %(seconds)s s", { seconds: Math.ceil(delay / 1000) }));
    } else {
      showOffline(gettext("Connection lost — reconnecting in %(seconds)s s", { seconds: Math.ceil(delay / 1000) }));
    }
    retryTimer = setTimeout(connect, delay);
    // A room that ended while we were away refuses us before the socket opens, which looks
    // like any lost connection: the page may ask whether it is still open ("kindred:closed").
    fire("kindred:lost", { attempts: attempts });
  }

  // Don't come back. What still waits to be sent stays on screen as not sent, once the page
  // has hidden what no longer applies (the box among it).
  function gone() {
    ended = true;
    clearTimeout(retryTimer);
    stopHeartbeat();
    live = false;
    setState(gettext("Disconnected"), "ended");
    root.dispatchEvent(new CustomEvent("kindred:gone"));
    outbox.forEach(function (item) { if (!item.unsent) markUnsent(item); });
    if (textarea && textarea.value.trim() && !canWrite()) { // a draft, or one given back
      var draft = { client_id: uuid(), body: textarea.value };
      outbox.push(draft);
      markUnsent(draft, gettext("This room closed before this was sent."));
      textarea.value = "";
    }
  }
  root.addEventListener("kindred:closed", function () {
    var ws = socket;
    socket = null;
    if (ws) try { ws.close(); } catch (e) { /* already closed */ }
    gone();
  });

  function startHeartbeat() {
    stopHeartbeat();
    pingTimer = setInterval(function () {
      if (!socket || !live) return;
      socket.send('{"type":"ping"}');
      clearTimeout(pongTimer);
      pongTimer = setTimeout(abandon, PONG_WITHIN);
    }, PING_EVERY);
  }

  function stopHeartbeat() {
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
  }

  // ------------------------------------------------------------------ start

  window.addEventListener("offline", function () { if (socket) abandon(); });
  window.addEventListener("online", function () {
    if (!socket) { attempts = 0; connect(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !socket) connect();
  });

  if (form) {
    textarea.addEventListener("input", function () { crisisCard(); }, { once: true });
    form.addEventListener("submit", submit);
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
    });
    var hint = document.getElementById("chat-body-hint");
    if (hint) hint.appendChild(document.createTextNode(" " + gettext("Enter sends; Shift+Enter starts a new line.")));
  }
  if (hideMe) {
    hideMe.checked = stored(hiddenKey) === "yes";
    hideMe.closest("label").hidden = false;
    hideMe.addEventListener("change", function () {
      try { store.setItem(hiddenKey, hideMe.checked ? "yes" : "no"); } catch (e) { /* not remembered */ }
      abandon(); // reconnect to be listed the new way
      attempts = 0;
      clearTimeout(retryTimer);
      connect();
    });
  }
  if (older) {
    older.addEventListener("click", function (event) {
      if (!live) return; // the plain link still works
      event.preventDefault();
      socket.send(JSON.stringify({ type: "history", before: Number(older.dataset.before), limit: 50 }));
    });
  }
  // Our entry stays ours while the page is open; closed or reloaded, the next page takes it.
  function claim() {
    adopt().forEach(function (item) { pendingItem(item); if (live && !item.unsent) sendItem(item); });
    saveOutbox();
  }
  window.addEventListener("pagehide", function () { saveOutbox(0); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) saveOutbox(); });
  setInterval(claim, CLAIM_EVERY);
  adopt();
  saveOutbox();
  outbox.forEach(pendingItem);
  if (document.getElementById("crisis")) crisisCard(); // the page's, after a plain form's send
  connect();
})();
