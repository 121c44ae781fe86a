// 1:1 support: small live touches on pages that work without it.
// - The waiting page asks every few seconds whether a supporter has accepted (a tiny JSON
//   answer, for slow and metered connections) and moves to the conversation when one has.
// - The supporters' queue says when new requests are waiting.
// - The conversation page (made live by chat.js) shows the end and the "Did this help?" form
//   when either side ends it, and gives live messages a Report link.
(function () {
  "use strict";

  var WAIT_EVERY = 5000;
  var QUEUE_EVERY = 10000;

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
    poll(WAIT_EVERY, function (again) {
      getJSON("/api/v1/support/requests/" + waiting.dataset.request, function (r) {
        if (!r) { again(true); return; }
        if (r.status === "accepted" || r.status === "ended") {
          if (statusEl) statusEl.textContent = "A supporter has accepted. Opening your conversation…";
          window.location.assign(r.url);
          return again(false);
        }
        if (r.status !== "open" || (r.timed_out && waiting.dataset.timedOut !== "yes")) {
          window.location.reload(); // withdrawn elsewhere, or time to show other help
          return again(false);
        }
        if (statusEl) statusEl.lastChild.textContent = ". Still waiting (checked at " + clock() + ").";
        again(true);
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
    poll(QUEUE_EVERY, function (again) {
      getJSON("/api/v1/support/queue", function (r) {
        if (!r) { again(true); return; }
        var ids = r.requests.map(function (x) { return String(x.id); });
        if (ids.join(",") !== shown.join(",") && queueStatus) {
          queueStatus.textContent = "";
          var link = document.createElement("a");
          link.href = "/support/queue";
          link.textContent = r.count === 1 ? "1 request is waiting now — show it"
            : r.count + " requests are waiting now — show them";
          if (r.count === 0) link.textContent = "The queue has changed — refresh";
          queueStatus.appendChild(link);
        }
        again(r.available);
      });
    });
  }

  // ------------------------------------------------------------------ the conversation
  var chat = document.getElementById("chat");
  if (chat && chat.dataset.supportRole) {
    var ended = false;
    var showEnded = function () {
      var state = document.getElementById("chat-state");
      if (state) state.textContent = "The conversation has ended";
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
      a.textContent = "Report";
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " message " + li.dataset.id;
      a.appendChild(hidden);
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
