/* Group sessions: the live session's state (the time-zone picker is time-zones.js).
 *
 * chat.js runs the room's connection; it re-dispatches every frame on #chat as a
 * "kindred:frame" event. Here "session" frames update the state panel (status, floor, hands,
 * pinned message, slow mode, lock) without reloading, and then the viewer's own view is
 * fetched from /api/v1/sessions/{id}: their place (hand queue) and `parts`, the server's one
 * answer to which parts of the room they see now (chat/groups/session_view.py room_parts;
 * each part is an element with data-part). Facilitators' pages also load
 * sessions-facilitator.js (members never download it): it hears each state here as a
 * "kindred:session-state" event and each view with the panel as "kindred:session-panel" (both
 * on document), and hands back the view an action returned as "kindred:session-view", which is
 * rendered like a state frame.
 */
(function () {
  "use strict";

  var gettext = window.kindredI18n.gettext, ngettext = window.kindredI18n.ngettext; // kindred.js

  function byId(id) { return document.getElementById(id); }
  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }

  // ------------------------------------------------------------------ the live session
  var root = byId("chat");
  var controlsBox = byId("controls");
  var sessionId = (root && root.dataset.session) || (controlsBox && controlsBox.dataset.session);
  if (!window.CustomEvent || !sessionId) return;
  var role = root ? root.dataset.role : "facilitator";
  var you = root ? root.dataset.you : "";
  var csrfInput = document.querySelector('input[name="csrf_token"]');

  function show(id, on) { var e = byId(id); if (e) e.hidden = !on; }
  function text(id, value) { var e = byId(id); if (e) e.textContent = value; }
  function tell(name, detail) { document.dispatchEvent(new CustomEvent(name, { detail: detail })); }

  // Which parts of the room show: first as the page was rendered, then as the server says
  // after each change. "Here now" also waits until chat.js knows who is here.
  var parts = {};
  each("[data-part]", function (e) { if (e.id !== "chat-side") parts[e.dataset.part] = !e.hidden; });
  var rosterKnown = false;
  var status = root ? root.dataset.status : "";

  function over() { return status === "ended" || status === "cancelled"; }

  function applyParts() {
    each("[data-part]", function (e) {
      var on = !!parts[e.dataset.part];
      if (e.dataset.part === "here-now") on = on && rosterKnown;
      e.hidden = !on;
    });
  }

  // The session is over: everything that acts goes now, not after a round trip.
  function ending() {
    Object.keys(parts).forEach(function (name) { if (name !== "conversation") parts[name] = false; });
    parts.ended = true;
    var note = byId("session-ended-note");
    if (note && !note.textContent) {
      note.textContent = status === "cancelled"
        ? gettext("This session was cancelled.")
        : gettext("The session has ended. Thank you for being here. Its messages are being deleted.");
    }
    applyParts();
  }

  var STATUS = {
    scheduled: gettext("Scheduled"), live: gettext("Live now"),
    ended: gettext("Ended"), cancelled: gettext("Cancelled")
  };

  // As chat/models.py slow_mode_label words it (lower case), so a reload reads the same.
  function slowLabel(seconds) {
    if (seconds % 3600 === 0) return ngettext("one message every %(num)s hour", "one message every %(num)s hours", seconds / 3600);
    if (seconds % 60 === 0) return ngettext("one message every %(num)s minute", "one message every %(num)s minutes", seconds / 60);
    return ngettext("one message every %(num)s second", "one message every %(num)s seconds", seconds);
  }

  // `view`: the viewer's own view when it came with the state (a hello); else it is fetched.
  function render(state, view) {
    status = state.status;
    if (root) root.dataset.status = state.status;
    var badge = byId("session-status");
    if (badge) { badge.textContent = STATUS[state.status] || state.status; badge.dataset.status = state.status; }
    text("session-seats", gettext("%(taken)s of %(capacity)s seats taken", { taken: state.seats_taken, capacity: state.capacity }));
    var pinned = byId("session-pinned");
    if (pinned) {
      pinned.querySelector(".pinned-body").innerHTML = state.pinned_html; // sanitised by the server
      pinned.hidden = !state.pinned_html;
    }
    show("session-turns", state.turn_taking);
    text("session-floor", state.floor ? gettext("%(name)s has the floor.", { name: state.floor }) : gettext("Nobody has the floor yet."));
    text("session-hands", ngettext("%(num)s hand raised.", "%(num)s hands raised.", state.hands_count));
    var slow = byId("session-slow");
    if (slow) {
      slow.hidden = !state.slow_mode_seconds;
      slow.querySelector("span").textContent = slowLabel(state.slow_mode_seconds);
    }
    show("session-locked", state.locked);
    text("session-handover", state.handover || ""); // a co-facilitator took over (English: said to the whole room)
    show("session-handover", !!state.handover);
    if (over()) show("session-calendar", false);
    tell("kindred:session-state", state);
    if (over()) ending();
    if (view) seen(view); else refreshMine();
  }

  // Our own view: our place in the hand queue, the parts we see, and, for facilitators, the
  // lobby and the queue by name.
  var fetching = false, again = false;
  function refreshMine() {
    if (fetching) { again = true; return; }
    fetching = true;
    fetch("/api/v1/sessions/" + sessionId, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (view) { if (view) seen(view); })
      .catch(function () { /* the next state frame tries again */ })
      .then(function () { fetching = false; if (again) { again = false; refreshMine(); } });
  }

  function seen(view) {
    mine(view);
    if (view.panel) tell("kindred:session-panel", view);
  }

  function mine(view) {
    if (view.parts && root) {
      parts = view.parts;
      if (over()) ending(); else applyParts();
    }
    var me = view.you;
    if (!me || me.role !== "member") return;
    var place = byId("hand-place"), up = byId("hand-up"), button = byId("hand-button");
    if (!place) return;
    place.textContent = me.has_floor ? gettext("You have the floor. Go ahead.") :
      me.hand_place ? gettext("Your place in the queue: %(num)s.", { num: me.hand_place }) : "";
    up.value = me.hand_place ? "no" : "yes";
    button.textContent = me.hand_place ? gettext("Lower my hand") : gettext("Raise my hand");
  }

  // What a facilitator or a moderator did to us, said plainly (chat.js words every error as a
  // send refused, "Not sent. …"). A mute is shown by the room's own "muted" part, which goes
  // again when the mute is lifted; a removal, suspension or ban is for good. The server words
  // these in the language of whoever acted (English), so a removal is said here, in ours.
  var TOLD = { removed: true, suspended: true, banned: true };
  var REMOVED = gettext("A facilitator has removed you from this session. You can't rejoin it.");
  function told(f, kind) {
    var box = byId("chat-error");
    if (!box) return;
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = f.message;
    box.appendChild(p);
    box.className = "notice " + (kind || "notice-important");
    box.hidden = false;
  }

  // ------------------------------------------------------------------ frames
  if (root) root.addEventListener("kindred:frame", function (event) {
    var f = event.detail;
    if (f.type === "hello") {
      rosterKnown = !f.lobby;
      var me = f.session_you || {};
      if (f.session) render(f.session, f.session_parts && { session: f.session, you: me, parts: f.session_parts, panel: me.panel });
      else applyParts();
      return;
    }
    if (f.type === "session" && f.state) { render(f.state); return; }
    if (f.type === "error" && !f.client_id && (TOLD[f.code] || f.code === "session_muted")) {
      if (f.code === "removed") told({ message: REMOVED });
      else if (TOLD[f.code]) told(f); else show("chat-error", false);
      refreshMine();
    }
    applyParts(); // chat.js may have shown "Here now" again (presence)
  });
  // The connection is refused (chat.js can't tell why): if the session ended, or we were
  // removed, while we were away, say so, and chat.js stops trying, keeping anything unsent.
  if (root) root.addEventListener("kindred:lost", function () {
    fetch("/api/v1/sessions/" + sessionId, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (view) {
        if (!view || !view.session) return;
        var out = view.you && view.you.status === "removed";
        if (!out && view.session.status !== "ended" && view.session.status !== "cancelled") return;
        mine(view);
        render(view.session);
        root.dispatchEvent(new CustomEvent("kindred:closed"));
      })
      .catch(function () { /* offline: the next attempt asks again */ });
  });
  if (root) root.addEventListener("kindred:gone", function () {
    // Ended, or removed: nothing here can be used any more.
    ["composer", "hand", "hand-button", "here-now", "connection"].forEach(function (name) { parts[name] = false; });
    if (over()) ending(); else applyParts();
  });

  // The hand button works as a plain form too; with JS it needs no page load.
  var handForm = byId("hand-form");
  if (handForm && window.fetch && csrfInput) {
    handForm.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch("/api/v1/sessions/" + sessionId + "/hand", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfInput.value },
        body: JSON.stringify({ up: byId("hand-up").value === "yes" })
      }).then(function (r) { return r.json(); }).then(function (view) {
        if (view.error) { told(view.error, "notice-error"); return; }
        mine(view);
      }).catch(function () { handForm.submit(); });
    });
  }
  document.addEventListener("kindred:session-view", function (event) {
    if (!event.detail || !event.detail.session) return;
    mine(event.detail); // the view a facilitator's action returned: its parts at once
    render(event.detail.session);
  });
  // A live room's hello brings the view; without one (a facilitator's controls alone), ask.
  if (you && role && !(root && root.dataset.live === "yes")) refreshMine();
})();
