/* The time-zone picker on the group-session list and schedule form (chat/groups/_time.html):
   a text box with a short list of common zones (a <datalist>, which needs no script). Here
   it starts on the browser's zone when the member hasn't chosen one, and the full list is
   fetched the first time someone starts choosing, so the pages stay small. Times on the
   member's clock are written by kindred.js, as on every page. */
(function () {
  "use strict";

  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }

  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }

  var zonesLoaded = false;
  function loadZones() {
    if (zonesLoaded || !window.fetch) return;
    zonesLoaded = true;
    fetch("/api/v1/time-zones", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { zonesLoaded = false; return; }
        each("datalist[data-zone-list]", function (list) {
          var have = {};
          Array.prototype.forEach.call(list.options, function (o) { have[o.value] = true; });
          var more = document.createDocumentFragment();
          body.zones.forEach(function (name) {
            if (have[name]) return;
            var o = document.createElement("option");
            o.value = name;
            more.appendChild(o);
          });
          list.appendChild(more);
        });
      })
      .catch(function () { zonesLoaded = false; });
  }
  each("input[data-zone-picker]", function (input) {
    if (zone && input.dataset.defaultZone === "yes") input.value = zone;
    input.addEventListener("focus", loadZones);
    input.addEventListener("input", loadZones);
  });
})();
