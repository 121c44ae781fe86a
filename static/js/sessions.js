/* Group sessions: times on the member's own clock, and the live session's state.
 *
 * chat.js runs the room's connection; it re-dispatches every frame on #chat as a
 * "kindred:frame" event. Here "session" frames update the state panel (status, floor, hands,
 * pinned message, slow mode, lock) without reloading; facilitators then fetch their panel
 * (lobby names, hand queue) from /api/v1/sessions/{id}, which only they may see.
 * Facilitators' pages also load sessions-facilitator.js (members never download it): it
 * hears each state here as a "kindred:session-state" event and each view with the panel as
 * "kindred:session-panel" (both on document), and hands back the view an action returned as
 * "kindred:session-view", which is rendered like a state frame.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ local times
  // Times rendered in UTC (no zone chosen) are shown on the browser's clock instead.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  var fmt = null;
  try {
    fmt = new Intl.DateTimeFormat(undefined, {
      weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit"
    });
  } catch (e) { fmt = null; }
  if (fmt) {
    Array.prototype.forEach.call(document.querySelectorAll("time[data-local='yes']"), function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = fmt.format(d) + (zone ? " (" + zone + ")" : "");
    });
  }
  // The schedule form starts on the browser's zone when the member hasn't chosen one.
  var zoneSelect = document.querySelector("select[data-default-zone='yes']");
  if (zoneSelect && zone && zoneSelect.value === "UTC") {
    Array.prototype.forEach.call(zoneSelect.options, function (o) {
      if (o.value === zone || o.text === zone) o.selected = true;
    });
  }

  // ------------------------------------------------------------------ the live session
  var root = document.getElementById("chat");
  var controlsBox = document.getElementById("controls");
  var sessionId = (root && root.dataset.session) || (controlsBox && controlsBox.dataset.session);
  if (!window.CustomEvent) return;
  if (!sessionId) return;
  var role = root ? root.dataset.role : "facilitator";
  var you = root ? root.dataset.you : "";
  var form = document.getElementById("chat-form");
  var lobbyNote = document.getElementById("session-lobby");
  var stateBox = document.getElementById("session-state");
  var csrfInput = document.querySelector('input[name="csrf_token"]');

  function byId(id) { return document.getElementById(id); }
  function show(id, on) { var e = byId(id); if (e) e.hidden = !on; }
  function text(id, value) { var e = byId(id); if (e) e.textContent = value; }
  function tell(name, detail) { document.dispatchEvent(new CustomEvent(name, { detail: detail })); }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  var STATUS = { scheduled: "Scheduled", live: "Live now", ended: "Ended", cancelled: "Cancelled" };

  function render(state) {
    var badge = byId("session-status");
    if (badge) { badge.textContent = STATUS[state.status] || state.status; badge.dataset.status = state.status; }
    text("session-seats", state.seats_taken + " of " + state.capacity + " seats taken");
    var pinned = byId("session-pinned");
    if (pinned) {
      pinned.querySelector(".pinned-body").innerHTML = state.pinned_html; // sanitised by the server
      pinned.hidden = !state.pinned_html;
    }
    show("session-turns", state.turn_taking);
    text("session-floor", state.floor ? state.floor + " has the floor." : "Nobody has the floor yet.");
    text("session-hands", plural(state.hands_count, "hand") + " raised.");
    var slow = byId("session-slow");
    if (slow) {
      slow.hidden = !state.slow_mode_seconds;
      slow.querySelector("span").textContent = "one message every " + state.slow_mode_seconds + " seconds";
    }
    show("session-locked", state.locked);
    tell("kindred:session-state", state);
    if (state.status === "ended" || state.status === "cancelled") ended(state.status);
    refreshMine();
  }

  function ended(status) {
    if (form) form.hidden = true;
    var hand = byId("hand-form");
    if (hand) hand.hidden = true;
    if (lobbyNote) lobbyNote.hidden = true;
    var note = byId("session-ended-note");
    if (!note && !stateBox) return;
    if (!note) {
      note = document.createElement("p");
      note.id = "session-ended-note";
      note.className = "notice notice-important";
      note.setAttribute("role", "status");
      stateBox.parentNode.insertBefore(note, stateBox);
    }
    note.textContent = status === "cancelled"
      ? "This session was cancelled."
      : "The session has ended. Thank you for being here. Its messages are being deleted.";
  }

  // Our own place (hand queue) and, for facilitators, the lobby and the queue by name.
  var fetching = false, again = false;
  function refreshMine() {
    if (fetching) { again = true; return; }
    fetching = true;
    fetch("/api/v1/sessions/" + sessionId, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (view) {
        if (view) { mine(view.you); if (view.panel) tell("kindred:session-panel", view); }
      })
      .catch(function () { /* the next state frame tries again */ })
      .then(function () { fetching = false; if (again) { again = false; refreshMine(); } });
  }

  function mine(me) {
    if (!me || me.role !== "member") return;
    var place = byId("hand-place"), up = byId("hand-up"), button = byId("hand-button");
    if (!place) return;
    place.textContent = me.has_floor ? "You have the floor." :
      me.hand_place ? "Your place in the queue: " + me.hand_place + "." : "";
    up.value = me.hand_place ? "no" : "yes";
    button.textContent = me.hand_place ? "Lower my hand" : "Raise my hand";
  }

  // ------------------------------------------------------------------ frames
  if (root) root.addEventListener("kindred:frame", function (event) {
    var f = event.detail;
    if (f.type === "hello") {
      if (lobbyNote) lobbyNote.hidden = !f.lobby; // let in: the lobby note goes
      if (f.session) render(f.session);
    } else if (f.type === "session" && f.state) {
      render(f.state);
    } else if (f.type === "error" && f.code === "removed") {
      if (form) form.hidden = true;
    }
  });
  if (root) root.addEventListener("kindred:gone", function () {
    if (form) form.hidden = true;
    var hand = byId("hand-form");
    if (hand) hand.hidden = true;
  });

  // The hand button works as a plain form too; with JS it needs no page load.
  var handForm = byId("hand-form");
  if (handForm && window.fetch) {
    handForm.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch("/api/v1/sessions/" + sessionId + "/hand", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfInput.value },
        body: JSON.stringify({ up: byId("hand-up").value === "yes" })
      }).then(function (r) { return r.json(); }).then(function (view) {
        if (view.error) { var box = byId("chat-error"); box.textContent = view.error.message; box.hidden = false; return; }
        mine(view.you);
      }).catch(function () { handForm.submit(); });
    });
  }
  document.addEventListener("kindred:session-view", function (event) {
    if (event.detail && event.detail.session) render(event.detail.session);
  });
  if (you && role) refreshMine();
})();
