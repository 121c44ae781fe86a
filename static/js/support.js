// 1:1 support: small live touches on pages that work without it.
// - The waiting page hears, as it happens, that a supporter has accepted (server-sent events
//   from chat/support/live.py: one quiet stream instead of a request every few seconds on a
//   slow or metered link) and moves to the conversation.
// - The supporters' queue says when someone starts waiting: on the page, in the tab's title,
//   and with a soft chime the supporter can switch off.
// Where there is no EventSource, both ask now and then instead, as they used to.
// - The conversation page (made live by chat.js) shows the end and the "Did this help?" form
//   when either side ends it, and gives live messages a Report link.
(function () {
  "use strict";

  var WAIT_EVERY = 5000;
  var QUEUE_EVERY = 10000;
  var gettext = window.kindredI18n ? window.kindredI18n.gettext : function (s, values) {
    return s.replace(/%\((\w+)\)s/g, function (whole, name) { return values && name in values ? String(values[name]) : whole; });
  };
  var ngettext = window.kindredI18n ? window.kindredI18n.ngettext
    : function (one, many, n) { return (n === 1 ? one : many).replace("%(num)s", n); };

  // Server-sent events named `name` from `url`, each handed to `heard` as JSON. When the
  // stream can't be had (no EventSource, or refused), `instead` is called once: polling.
  function listen(url, name, heard, instead) {
    if (!("EventSource" in window)) { instead(); return; }
    var source = new EventSource(url);
    var fellBack = false;
    source.addEventListener(name, function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (x) { return; }
      if (data.final) source.close(); // nothing more will change: don't reconnect
      heard(data);
    });
    source.onerror = function () {
      // A dropped link reconnects by itself (CONNECTING); a refusal closes it for good.
      if (source.readyState === EventSource.CLOSED && !fellBack) { fellBack = true; instead(); }
    };
  }
  function getJSON(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.timeout = 15000;
    xhr.onload = function () {
      if (xhr.status === 200) {
        try { done(JSON.parse(xhr.responseText)); return; } catch (e) { /* fall through */ }
      }
      done(null);
    };
    xhr.onerror = xhr.ontimeout = function () { done(null); };
    xhr.send();
  }

  function poll(every, check) {
    function tick() {
      if (document.visibilityState === "hidden" || navigator.onLine === false) {
        setTimeout(tick, every);
        return;
      }
      check(function (again) { if (again) setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  }

  function clock() { // in the words of every time on the page (kindred.js)
    var now = new Date();
    if (window.kindredClock) return window.kindredClock.words(now);
    return ("0" + now.getUTCHours()).slice(-2) + ":" + ("0" + now.getUTCMinutes()).slice(-2) + " UTC";
  }

  // ------------------------------------------------------------------ the waiting page
  var waiting = document.getElementById("support-waiting");
  if (waiting && waiting.dataset.status === "open") {
    var statusEl = document.getElementById("support-status");
    var moved = false;
    // Withdrawing (a form) moves the page itself: the stream's "cancelled", heard while that
    // answer is on its way, must not reload the page over it.
    document.addEventListener("submit", function () { moved = true; });
    var heardStatus = function (r) { // true: keep listening
      if (moved) return false;
      if (r.status === "accepted" || r.status === "ended") {
        moved = true;
        if (statusEl) statusEl.textContent = gettext("A supporter has accepted. Opening your conversation…");
        window.location.assign(r.url);
        return false;
      }
      if (r.status !== "open" || (r.timed_out && waiting.dataset.timedOut !== "yes")) {
        moved = true;
        window.location.reload(); // withdrawn elsewhere, or time to show other help
        return false;
      }
      if (statusEl) statusEl.lastChild.textContent = gettext(". Still waiting (checked at %(time)s).", { time: clock() });
      return true;
    };
    var request = waiting.dataset.request;
    listen("/support/requests/" + request + "/events", "status", heardStatus, function () {
      poll(WAIT_EVERY, function (again) {
        getJSON("/api/v1/support/requests/" + request, function (r) { again(!r || heardStatus(r)); });
      });
    });
  }

  // ------------------------------------------------------------------ the supporters' queue
  var queue = document.getElementById("support-queue");
  if (queue && queue.dataset.available === "yes") {
    var shown = [];
    var items = document.querySelectorAll("#support-requests > li");
    for (var i = 0; i < items.length; i++) shown.push(items[i].id.replace("request-", ""));
    var queueStatus = document.getElementById("support-queue-status");
    var title = document.title;
    var sound = soundChoice(queueStatus);
    var heardQueue = function (r) { // true: keep listening
      var ids = r.requests.map(function (x) { return String(x.id); });
      var arrived = ids.some(function (id) { return shown.indexOf(id) === -1; });
      if (ids.join(",") !== shown.join(",") && queueStatus) {
        queueStatus.textContent = "";
        var link = document.createElement("a");
        link.href = "/support/queue";
        link.textContent = r.count === 0 ? gettext("The queue has changed — refresh")
          : ngettext("%(num)s request is waiting now — show it", "%(num)s requests are waiting now — show them", r.count);
        queueStatus.appendChild(link);
      }
      // Seen from another tab, too: the count leads the tab's title while anyone waits.
      document.title = r.count > 0 && ids.join(",") !== shown.join(",") ? "(" + r.count + ") " + title : title;
      if (arrived && sound.on()) chime();
      return r.available;
    };
    listen("/support/queue/events", "queue", heardQueue, function () {
      poll(QUEUE_EVERY, function (again) {
        getJSON("/api/v1/support/queue", function (r) { again(!r || heardQueue(r)); });
      });
    });
  }

  // The supporter's switch for the chime (kept on this device); on unless they turned it off.
  function soundChoice(near) {
    var KEY = "kindred-queue-sound";
    var stored = null;
    try { stored = localStorage.getItem(KEY); } catch (e) { /* storage blocked: stays on */ }
    var on = stored !== "off";
    if (near && near.parentNode) {
      var label = document.createElement("label");
      label.className = "queue-sound";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.checked = on;
      box.addEventListener("change", function () {
        on = box.checked;
        try { localStorage.setItem(KEY, on ? "on" : "off"); } catch (e) { /* this visit only */ }
        if (on) chime(); // so they hear what it sounds like (and the browser allows sound)
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + gettext("Play a soft chime when someone starts waiting")));
      near.parentNode.insertBefore(label, near.nextSibling);
    }
    return { on: function () { return on; } };
  }

  // A short, soft two-note chime made in the browser: no sound file to download.
  var audio = null;
  function chime() {
    var Audio = window.AudioContext || window.webkitAudioContext;
    if (!Audio) return;
    try {
      audio = audio || new Audio();
      [523.25, 659.25].forEach(function (pitch, n) {
        var start = audio.currentTime + n * 0.18;
        var tone = audio.createOscillator();
        var level = audio.createGain();
        tone.frequency.value = pitch;
        level.gain.setValueAtTime(0.0001, start);
        level.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
        level.gain.exponentialRampToValueAtTime(0.0001, start + 0.4);
        tone.connect(level);
        level.connect(audio.destination);
        tone.start(start);
        tone.stop(start + 0.45);
      });
    } catch (e) { /* no sound: the page and the title still say it */ }
  }

  // ------------------------------------------------------------------ the conversation
  var chat = document.getElementById("chat");
  if (chat && chat.dataset.supportRole) {
    var ended = false;
    var showEnded = function () {
      var state = document.getElementById("chat-state");
      if (state) state.textContent = gettext("The conversation has ended");
      if (ended) return;
      ended = true;
      var box = document.getElementById("support-ended");
      if (box) box.hidden = false;
      ["chat-form", "support-end"].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) el.hidden = true;
      });
      var feedback = document.getElementById("support-feedback");
      if (feedback) {
        feedback.hidden = false;
        var first = feedback.querySelector("input[type=radio]");
        if (first) first.focus();
      }
    };
    chat.addEventListener("kindred:frame", function (event) {
      var f = event.detail || {};
      if (f.type === "support" && f.status === "ended") showEnded();
      // Back after it ended while we were away: nothing more can be sent (what waited is
      // kept on screen as not sent).
      if (f.type === "hello" && f.support && f.support.status !== "accepted") {
        chat.dispatchEvent(new CustomEvent("kindred:closed"));
      }
    });
    chat.addEventListener("kindred:gone", showEnded);
    // The connection is refused (chat.js can't tell why): if the conversation ended while we
    // were away, chat.js stops trying, and anything not sent stays on screen to copy.
    chat.addEventListener("kindred:lost", function () {
      getJSON("/api/v1/support/requests/" + chat.dataset.request, function (r) {
        if (r && r.status !== "accepted") chat.dispatchEvent(new CustomEvent("kindred:closed"));
      });
    });

    // Live messages get the Report link the server puts on the ones it renders.
    var list = document.getElementById("chat-messages");
    var me = chat.dataset.me;
    var addReport = function (li) {
      if (!li.classList || !li.classList.contains("chat-message") || !li.dataset.id) return;
      if (li.querySelector(".chat-report")) return;
      var author = li.querySelector(".author");
      if (!author || author.textContent === me) return;
      var a = document.createElement("a");
      a.className = "chat-report";
      a.href = "/report?kind=chat_message&id=" + encodeURIComponent(chat.dataset.room + ":" + li.dataset.id);
      // The same words as the server's link (templates/chat/_message.html); the id is a number.
      a.innerHTML = gettext('Report<span class="visually-hidden"> message %(id)s</span>', { id: Number(li.dataset.id) });
      li.appendChild(a);
    };
    if (list && "MutationObserver" in window) {
      new MutationObserver(function (changes) {
        changes.forEach(function (change) {
          for (var j = 0; j < change.addedNodes.length; j++) addReport(change.addedNodes[j]);
        });
      }).observe(list, { childList: true });
    }
  }
})();
