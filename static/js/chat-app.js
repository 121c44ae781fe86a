/* The room, group-session room and 1:1 conversation pages as a messaging app (chat.css),
   on top of chat.js:
   - the rules open on your first visit here, then stay as you left them;
   - a character count that warns as the limit nears (GOV.UK's pattern: no maxlength, which
     would cut a long paste without a word), and the plain form refuses what is too long;
   - the messages scroll on their own, the newest in view while you're at the bottom;
   - a "New messages" line where the ones you haven't seen begin (when you come back, or
     while you read further up), and a button down to them.
   What it remembers stays in this browser (localStorage), never in a cookie. */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root) return;
  var slug = root.dataset.room;
  var form = document.getElementById("chat-form");
  var textarea = document.getElementById("chat-body");
  var list = document.getElementById("chat-messages");
  var scroller = document.getElementById("chat-scroll");
  var rules = document.getElementById("chat-rules");
  var NEAR = 0.75; // the count shows from three quarters of the limit

  function read(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  function write(key, value) {
    try { localStorage.setItem(key, value); } catch (e) { /* private mode: not remembered */ }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // What it says, in the page's language (kindred.js, loaded first on every page).
  var gettext = window.kindredI18n.gettext, ngettext = window.kindredI18n.ngettext;
  // Numbers as the page's language writes them ("4,000"; "4000" and "196.012" in Spanish);
  // English's, in English and in the right-to-left pseudo-locale.
  var lang = document.documentElement.lang || "en";
  var numbers = lang.indexOf("en") === 0 || lang === "ar-XB" ? "en-GB" : lang;
  function number(n) {
    try { return n.toLocaleString(numbers); } catch (e) { return n.toLocaleString("en-GB"); }
  }

  // ------------------------------------------------------------------ the rules

  // Opened by the page (a first visit), they close once you start to write. A session's
  // ground rules are open in its lobby only (the server's choice), and fold when you're let
  // in (below): you agreed to them to get there.
  var rulesByPage = false;
  if (rules && root.dataset.session) rulesByPage = rules.open && "lobby";
  else if (rules && slug) {
    var rulesKey = "kindred.chat.rules." + slug;
    var seen = read(rulesKey);
    if (seen === "open" || seen === "closed") rules.open = seen === "open";
    else {
      rules.open = true;
      write(rulesKey, "closed"); // seen now: closed next time, unless opened again
    }
    rulesByPage = rules.open && seen !== "open";
    // The member's own choice is kept (not "toggle": it also fires for the page's `open`).
    rules.querySelector("summary").addEventListener("click", function () {
      rulesByPage = false;
      write(rulesKey, rules.open ? "closed" : "open"); // what the click is about to make it
    });
  }

  // ------------------------------------------------------------------ the character count

  if (form && textarea) {
    var count = el("p", "chat-count");
    count.id = "chat-body-count";
    count.setAttribute("aria-hidden", "true");
    var spoken = el("p", "visually-hidden"); // read out once typing pauses
    spoken.setAttribute("aria-live", "polite");
    var timer = null;
    var row = textarea.parentNode === form ? textarea : textarea.parentNode;
    row.parentNode.insertBefore(count, row.nextSibling);
    count.parentNode.insertBefore(spoken, count.nextSibling);
    textarea.removeAttribute("maxlength");

    var limit = function () { return Number(root.dataset.maxChars) || 4000; };
    // Characters as the server counts them: code points (a line break is one).
    var length = function (text) { return text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, "_").length; };
    var words = function (n) {
      var left = limit() - n;
      return left >= 0
        ? ngettext("You have %(num)s character remaining", "You have %(num)s characters remaining", left, { num: number(left) })
        : ngettext("You have %(num)s character too many", "You have %(num)s characters too many", -left, { num: number(-left) });
    };
    var update = function () {
      var n = length(textarea.value);
      var near = n >= limit() * NEAR;
      count.textContent = words(n);
      count.hidden = !near;
      count.className = "chat-count" + (n > limit() ? " is-over" : n >= limit() * 0.9 ? " is-near" : "");
      if (n > limit()) textarea.setAttribute("aria-invalid", "true");
      else textarea.removeAttribute("aria-invalid");
      clearTimeout(timer);
      timer = setTimeout(function () { spoken.textContent = near ? words(n) : ""; }, 1000);
    };
    textarea.addEventListener("input", update);
    update();
    // On a touch screen Enter starts a new line, as in messaging apps, and Send sends
    // (there is no Shift key for a new line); chat.js's word on Enter is for keyboards.
    if (window.matchMedia && matchMedia("(pointer: coarse)").matches) {
      form.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.stopPropagation(); // before chat.js's, on the box
      }, true);
      var hint = document.getElementById("chat-body-hint");
      var enterHint = " " + gettext("Enter sends; Shift+Enter starts a new line."); // chat.js's
      if (hint && hint.lastChild && hint.lastChild.data === enterHint) hint.lastChild.remove();
    }

    // Why the server would refuse this as too long (docs/protocol.md, Limits), or "".
    var tooLong = function (text, framed) {
      var n = length(text);
      var kept = " " + gettext("Nothing was sent, and your text is still in the box.");
      if (n > limit()) {
        return ngettext(
          "Your message is %(length)s characters long and the limit is %(limit)s. Please shorten it by %(num)s character, then send it.",
          "Your message is %(length)s characters long and the limit is %(limit)s. Please shorten it by %(num)s characters, then send it.",
          n - limit(), { length: number(n), limit: number(limit()), num: number(n - limit()) }) + kept;
      }
      var frame = JSON.stringify({ type: "send", body: text, client_id: "00000000-0000-4000-8000-000000000000" });
      if (framed && new Blob([frame]).size > (Number(root.dataset.maxFrameBytes) || 16384)) {
        return gettext("Your message has characters that take a lot of room, so it is too large to send in one go. Please shorten it or send it in two parts.") + kept;
      }
      return "";
    };
    // Said beside the box before anything is sent, rather than after a round trip: when
    // chat.js is about to send a frame (it cancels), and by the plain form.
    var refuse = function (event, text, framed) {
      var why = tooLong(text, framed);
      if (!why) return;
      event.preventDefault();
      var box = document.getElementById("chat-error");
      box.textContent = "";
      box.appendChild(el("p", "", why));
      box.className = "notice notice-error";
      box.dataset.kind = "too_long";
      box.hidden = false;
      textarea.focus();
    };
    root.addEventListener("kindred:sending", function (event) { refuse(event, event.detail.body, true); });
    form.addEventListener("submit", function (event) {
      if (!event.defaultPrevented) refuse(event, textarea.value, false);
    });
  }
  root.addEventListener("kindred:sending", function (event) {
    if (event.defaultPrevented) return;
    if (rulesByPage) rules.open = rulesByPage = false; // read: the messages need the room
  });

  // ------------------------------------------------------------------ the messages' own scroll

  if (!scroller || root.dataset.live !== "yes" || !("WebSocket" in window)) return;

  var seenKey = "kindred.chat.seen." + slug;
  var seenId = Number(read(seenKey)) || 0; // the newest message this browser has shown here
  var unread = null; // the "New messages" line
  var pinned = true; // the list shows its end

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function toBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function newest() {
    var items = list.querySelectorAll("li[data-id]");
    return items.length ? Number(items[items.length - 1].dataset.id) : 0;
  }

  var jump = el("button", "chat-jump secondary");
  jump.type = "button";
  jump.hidden = true;
  scroller.parentNode.insertBefore(jump, scroller.nextSibling);

  // Everything shown is seen once the end of the list is on screen.
  function markSeen() {
    if (document.visibilityState === "hidden" || !nearBottom()) return;
    jump.hidden = true;
    var id = newest();
    if (id > seenId) write(seenKey, String(seenId = id));
  }

  // A message nobody has seen: the line goes before the first of those not seen yet.
  function markUnread(li) {
    var next = unread && unread.parentNode ? unread.nextElementSibling : null;
    if (!next || !next.dataset.id || Number(next.dataset.id) <= seenId) {
      unread = unread || el("li", "chat-unread", gettext("New messages"));
      list.insertBefore(unread, li);
    }
    var n = 0;
    for (var node = unread.nextElementSibling; node; node = node.nextElementSibling) {
      if (node.dataset.id) n++;
    }
    jump.textContent = "↓ " + ngettext("%(num)s new message", "%(num)s new messages", n, { num: number(n) });
    jump.hidden = false;
  }

  // To the line, when it is further down; else to the end.
  function showUnread() {
    var top = unread && unread.parentNode ? unread.getBoundingClientRect().top - scroller.getBoundingClientRect().top : 0;
    if (top > 0) scroller.scrollTop += top - 8;
    else toBottom();
    markSeen();
  }

  scroller.classList.add("is-live");
  jump.addEventListener("click", showUnread);
  var height = scroller.clientHeight; // as the list last settled
  scroller.addEventListener("scroll", function () {
    // Said before the list's new size is (a crisis card or a notice came as it scrolled):
    // not the member's scroll, and the observer below keeps the end in view.
    if (keep && scroller.clientHeight !== height) return;
    pinned = nearBottom();
    if (pinned) markSeen();
  }, { passive: true });
  // The list or what it holds changes size (who is here appears, the box grows, a notice
  // shows, a message gains its Report link): if it showed its end, it still does.
  var keep = null;
  if ("ResizeObserver" in window) {
    keep = new ResizeObserver(function () {
      height = scroller.clientHeight;
      if (pinned) toBottom();
    });
    keep.observe(scroller);
    keep.observe(scroller.firstElementChild);
  }
  document.addEventListener("visibilitychange", markSeen);
  root.addEventListener("kindred:unseen", function (event) { markUnread(event.detail); });
  root.addEventListener("kindred:sending", function (event) { // answering: all seen
    if (event.defaultPrevented) return;
    if (unread) unread.remove();
    pinned = true;
  });
  // A list longer than its place scrolls: then the keyboard can reach it too.
  root.addEventListener("kindred:frame", function (event) {
    var f = event.detail;
    if (f.type === "message") markSeen();
    if (f.type !== "hello" && f.type !== "presence") return;
    if (f.type === "hello" && rulesByPage === "lobby" && !f.lobby) rules.open = rulesByPage = false; // let in
    ["chat-members", "chat-side"].forEach(function (id) {
      var node = document.getElementById(id);
      if (!node) return;
      if (node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1) node.tabIndex = 0;
      else node.removeAttribute("tabindex");
    });
  });

  // Back in the room: the line above the first message not seen before.
  if (seenId && seenId < newest()) {
    var items = list.querySelectorAll("li[data-id]");
    for (var i = 0; i < items.length; i++) {
      if (Number(items[i].dataset.id) > seenId) { markUnread(items[i]); break; }
    }
  }
  if (unread) showUnread();
  else toBottom();
  markSeen();
})();
