/* Group sessions: the facilitator's controls, loaded only on facilitators' pages (members on
 * slow links never download it; sessions.js does the rest of the live page).
 *
 * Every control is a plain form that works without JavaScript. Here the forms are sent with
 * fetch to the JSON API (/api/v1/sessions/{id}/{action}, X-CSRF-Token header) so the page
 * stays in place; errors go to the controls' alert region and nothing typed is lost. Every
 * control is then set from the session's state as sessions.js hears it ("kindred:session-state"
 * on document, from the room's "session" frames), and the lobby, hands and participants lists
 * from the facilitator's view ("kindred:session-panel"), so two facilitators on two screens
 * see the same buttons. The view an action returns goes back as "kindred:session-view".
 */
(function () {
  "use strict";

  var controlsBox = document.getElementById("controls");
  if (!controlsBox || !window.CustomEvent) return;
  var sessionId = controlsBox.dataset.session;
  // In the room on a phone the panel starts folded (one line above the messages), so the
  // message box stays on screen; it opens with a tap.
  // One fold open at a time there: the panel or the ground rules.
  var rules = document.querySelector(".session-room .rules");
  if (controlsBox.closest(".chat-app") && window.matchMedia && matchMedia("(max-width: 47.99rem)").matches) {
    controlsBox.open = false;
    controlsBox.addEventListener("toggle", function () { if (controlsBox.open && rules) rules.open = false; });
    if (rules) rules.addEventListener("toggle", function () { if (rules.open) controlsBox.open = false; });
  }
  var csrfInput = document.querySelector('input[name="csrf_token"]');
  var gettext = window.kindredI18n.gettext; // kindred.js

  function byId(id) { return document.getElementById(id); }
  function show(id, on) { var e = byId(id); if (e) e.hidden = !on; }
  function text(id, value) { var e = byId(id); if (e) e.textContent = value; }
  function tell(name, detail) { document.dispatchEvent(new CustomEvent(name, { detail: detail })); }

  // ---------------------------------------------------------------- the lists, by name
  // A button's words as the page says them, one text with the part only a screen reader
  // hears ('Let in<span class="visually-hidden"> %(name)s</span>', as in _controls.html):
  // never read as HTML, the name goes in as text.
  var HIDDEN = /^([\s\S]*)<span class="visually-hidden">([\s\S]*)<\/span>([\s\S]*)$/;
  function words(b, message, name) {
    function fill(s) { return s.split("%(name)s").join(name); }
    var parts = HIDDEN.exec(message);
    if (!parts) { b.textContent = fill(message); return; }
    b.appendChild(document.createTextNode(fill(parts[1])));
    var span = document.createElement("span");
    span.className = "visually-hidden"; span.textContent = fill(parts[2]);
    b.appendChild(span);
    if (parts[3]) b.appendChild(document.createTextNode(fill(parts[3])));
  }

  function actionForm(action, fields, message, name) {
    var f = document.createElement("form");
    f.method = "post";
    f.action = "/sessions/" + sessionId + "/" + action;
    f.className = "inline";
    var token = csrfInput.cloneNode();
    f.appendChild(token);
    Object.keys(fields).forEach(function (k) {
      var i = document.createElement("input");
      i.type = "hidden"; i.name = k; i.value = fields[k];
      f.appendChild(i);
    });
    var b = document.createElement("button");
    b.type = "submit"; b.className = "secondary";
    words(b, message, name || "");
    f.appendChild(b);
    return f;
  }

  function list(id, names, tag, build, empty) {
    var box = byId(id);
    if (!box) return;
    box.textContent = "";
    if (!names.length) {
      var p = document.createElement("p");
      p.className = "hint"; p.textContent = empty;
      box.appendChild(p);
      return;
    }
    var ul = document.createElement(tag);
    ul.className = "panel-list";
    names.forEach(function (item) { ul.appendChild(build(item)); });
    box.appendChild(ul);
  }

  function li(label) { var e = document.createElement("li"); e.appendChild(document.createTextNode(label + " ")); return e; }

  function panel(p, state) {
    var lobbyBox = byId("panel-lobby");
    list("panel-lobby", p.lobby, "ul", function (name) {
      var e = li(name);
      e.appendChild(actionForm("admit", { member: name }, gettext('Let in<span class="visually-hidden"> %(name)s</span>'), name));
      return e;
    }, gettext("Nobody is waiting."));
    if (lobbyBox && p.lobby.length) {
      lobbyBox.insertBefore(actionForm("admit-all", {}, gettext("Let everyone in (%(num)s)", { num: p.lobby.length })), lobbyBox.firstChild);
      lobbyBox.firstChild.querySelector("button").id = "admit-all";
      lobbyBox.firstChild.querySelector("button").className = "";
    }
    list("panel-hands", p.hands, "ol", function (name) {
      var e = li(name);
      if (state.turn_taking) e.appendChild(actionForm("floor", { member: name }, gettext('Give the floor<span class="visually-hidden"> to %(name)s</span>'), name));
      return e;
    }, gettext("No hands raised."));
    var people = p.participants.filter(function (x) { return x.status === "admitted"; });
    list("panel-people", people, "ul", function (x) {
      var e = li(x.muted ? gettext("%(name)s (muted)", { name: x.pseudonym }) : x.pseudonym);
      var mute = x.muted ? gettext('Unmute<span class="visually-hidden"> %(name)s</span>')
        : gettext('Mute<span class="visually-hidden"> %(name)s</span>');
      e.appendChild(actionForm("mute", { member: x.pseudonym, muted: x.muted ? "no" : "yes" }, mute, x.pseudonym));
      e.appendChild(actionForm("remove", { member: x.pseudonym }, gettext('Remove<span class="visually-hidden"> %(name)s</span>'), x.pseudonym));
      return e;
    }, gettext("Nobody has been let in yet."));
  }

  // ------------------------------------------------------------- facilitator controls
  // A field the facilitator is editing (its value differs from the last one the server had,
  // or it has focus) is left alone: nothing typed is lost when another change arrives.
  function syncField(el, value) {
    if (!el) return;
    value = String(value);
    var edited = el.value !== el.dataset.saved || document.activeElement === el;
    el.dataset.saved = value;
    if (!edited) el.value = value;
  }

  function toggle(name, on, offLabel, onLabel) {
    var value = byId(name + "-value"), button = byId(name === "lock" ? "lock-toggle" : name);
    if (value) value.value = on ? "no" : "yes";
    if (button) button.textContent = on ? offLabel : onLabel;
  }

  function controls(state) {
    if (!controlsBox) return;
    var over = state.status === "ended" || state.status === "cancelled";
    var focused = document.activeElement;
    show("controls-live", !over);
    show("start-form", state.status === "scheduled");
    show("cancel-form", state.status === "scheduled");
    show("end-form", state.status === "live");
    show("summary-form", state.status === "live" || state.status === "ended");
    toggle("lock", state.locked, gettext("Open to late joiners"), gettext("Close to late joiners"));
    toggle("turn-taking", state.turn_taking, gettext("Turn off turn-taking"), gettext("Turn on turn-taking"));
    show("floor-back", state.turn_taking && !!state.floor);
    text("floor-back-name", state.floor || "");
    syncField(byId("slow-mode"), state.slow_mode_seconds);
    // A button that just went away (Start, once started) hands focus on, not to nowhere.
    if (focused && controlsBox.contains(focused) && !focused.offsetParent) {
      var next = byId(state.status === "live" ? "end-session" : "controls-title");
      if (next && next.offsetParent) next.focus(); else byId("controls-title").focus();
    }
  }

  var SAVED = gettext("Saved.");
  var DONE = {
    start: gettext("The session has started."), end: gettext("The session has ended."),
    cancel: gettext("The session is cancelled."), lock: SAVED, "turn-taking": SAVED,
    pin: SAVED, "slow-mode": gettext("Slow mode is set."), summary: gettext("The summary is saved."),
    admit: gettext("Let in."), "admit-all": gettext("Everyone waiting is let in."), floor: SAVED,
    mute: SAVED, remove: gettext("Removed from the session.")
  };

  function problem(message) {
    var box = byId("controls-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  // POST one action to the JSON API; a stale CSRF token is renewed once from /api/v1/session.
  function post(action, data, renewed) {
    return fetch("/api/v1/sessions/" + sessionId + "/" + action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfInput.value },
      body: JSON.stringify(data)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.ok) return body;
        var code = body.error && body.error.code;
        if (code === "csrf_failed" && !renewed) {
          return fetch("/api/v1/session", { credentials: "same-origin" })
            .then(function (s) { return s.json(); })
            .then(function (s) {
              Array.prototype.forEach.call(document.querySelectorAll('input[name="csrf_token"]'),
                function (i) { i.value = s.csrf_token; });
              return post(action, data, true);
            });
        }
        var message = body.error && body.error.message;
        throw new Error(message || gettext("That didn't work. Please try again."));
      });
    });
  }

  if (controlsBox && csrfInput && window.fetch && window.JSON) {
    controlsBox.addEventListener("submit", function (event) {
      var f = event.target;
      var action = (f.getAttribute("action") || "").split("/").pop();
      if (!DONE.hasOwnProperty(action)) return; // anything unknown goes as a plain form
      event.preventDefault();
      var data = {};
      Array.prototype.forEach.call(f.elements, function (el) {
        if (el.name && el.name !== "csrf_token") data[el.name] = el.value;
      });
      var button = f.querySelector("button");
      if (button) button.disabled = true;
      problem("");
      text("controls-status", "");
      post(action, data).then(function (view) {
        if (action === "pin") byId("pin-text").dataset.saved = data.text;
        if (action === "slow-mode") byId("slow-mode").dataset.saved = data.seconds;
        if (view.session) tell("kindred:session-view", view);
        text("controls-status", DONE[action]);
      }).catch(function (err) {
        problem(err && err.name !== "TypeError" ? err.message :
          gettext("Kindred couldn't be reached. Check your connection and try again: nothing you typed is lost."));
      }).then(function () { if (button) button.disabled = false; });
    });
  }

  document.addEventListener("kindred:session-state", function (event) { controls(event.detail); });
  document.addEventListener("kindred:session-panel", function (event) {
    var view = event.detail;
    panel(view.panel, view.session);
    syncField(byId("pin-text"), view.panel.pinned_text || "");
  });
})();
