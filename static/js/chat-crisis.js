/* The crisis card in a chat room, a group session's room or a 1:1 conversation. chat.js
   loads this once it may be needed (the member starts to write, or a crisis notice comes),
   so joining a room never downloads it.

   - window.kindredCrisis(frame, answer) shows the card for a live `notice` frame: the same
     card the page shows after a plain form's send (templates/chat/_message.html
     crisis_panel, the forum's crisis card): the notice's words (true of the message: up,
     or waiting and first in the queue; none when it wasn't sent: `answer` is the refusal's
     code, and the notice by the box says why), the helplines, whose they are (#chat's
     data-country, the country's name as the page writes it; as templates/macros/crisis.html
     whose() words it) and someone to talk to here, then the stories of hope. It comes
     first, focused, whole.
   - Once read, "Back to the conversation" folds a card to its summary, "Helplines", which
     opens it again. Nothing folds it by itself. */
(function () {
  "use strict";

  var gettext = window.kindredI18n.gettext; // kindred.js
  var root = document.getElementById("chat");
  var box = document.getElementById("chat-crisis"); // the page's place for a live card
  // The names English says with "the" have a sentence each (templates/macros/crisis.html).
  var THE = {};
  THE[gettext("United Kingdom")] = gettext("Helplines for the United Kingdom.");
  THE[gettext("United States")] = gettext("Helplines for the United States.");
  THE[gettext("Netherlands")] = gettext("Helplines for the Netherlands.");
  THE[gettext("Philippines")] = gettext("Helplines for the Philippines.");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className || "";
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function link(className, href, text) {
    var a = el("a", className, text);
    a.href = href;
    return a;
  }

  function foldable(card) {
    var details = card.parentNode;
    if (details.tagName !== "DETAILS" || card.querySelector(".chat-crisis-back")) return;
    var back = el("button", "secondary chat-crisis-back", gettext("Back to the conversation"));
    back.type = "button";
    card.lastElementChild.appendChild(back);
    back.addEventListener("click", function () {
      details.open = false;
      var list = document.getElementById("chat-scroll");
      (list && list.offsetParent ? list : details.firstElementChild).focus({ preventScroll: true });
    });
    details.addEventListener("toggle", function () {
      // Folded, its content takes no room at all (a closed <details> may still lay it out).
      for (var n = details.firstElementChild.nextElementSibling; n; n = n.nextElementSibling) n.hidden = !details.open;
      if (details.open && card.isConnected && !card.contains(document.activeElement)) card.focus();
    });
  }

  window.kindredCrisis = function (f, answer) {
    var card = el("section", "crisis-panel crisis-card");
    card.setAttribute("aria-labelledby", "crisis-heading");
    card.tabIndex = -1;
    card.appendChild(el("h2", "crisis-card-heading", gettext("You're not alone"))).id = "crisis-heading";
    var body = card.appendChild(el("div", "crisis-card-body"));
    if (f.message && (!answer || answer === "held")) body.appendChild(el("p", "", f.message));
    var list = body.appendChild(el("ul", "helplines"));
    (f.resources || []).forEach(function (r) { // as templates/macros/crisis.html's helplines
      var item = list.appendChild(el("li"));
      var ways = el("span", "helpline-ways");
      item.appendChild(el("strong", "helpline-name", r.name));
      if (r.phone) ways.appendChild(link("helpline-call", "tel:" + r.phone.replace(/ /g, ""), gettext("Call %(phone)s", { phone: r.phone })));
      if (r.text) ways.appendChild(el("span", "helpline-text", r.text));
      if (/^https?:\/\//.test(r.url || "")) ways.appendChild(link("helpline-site", r.url, r.url.replace(/^https?:\/\/(www\.)?/, "")));
      if (ways.firstChild) item.appendChild(ways);
    });
    var country = root.dataset.country; // none: a page that doesn't say whose they are
    if (country !== undefined) {
      var whose = body.appendChild(el("p", "helplines-whose", (country ? THE[country] || gettext("Helplines for %(country)s.", { country: country })
        : gettext("We don't know your country, so these are international.")) + " "));
      whose.appendChild(link("", "/help#choose", country ? gettext("Somewhere else? Choose your country") : gettext("Choose your country")));
      // Not in a 1:1 conversation: they are talking to a peer supporter already.
      if (root.dataset.supporterLink !== "no") body.appendChild(el("p")).appendChild(link("button", "/support", gettext("Talk to a peer supporter here")));
    }
    var hope = el("p", "hope-link");
    hope.appendChild(link("", "/hope", gettext("Stories from members who came through")));
    // One card at a time: this one takes the place of the page's, or of an earlier one.
    var old = document.getElementById("crisis");
    if (old && !box.contains(old)) old.parentNode.remove();
    if (box.tagName !== "DETAILS") { // the page's empty place, made a card that folds
      var details = el("details", "chat-crisis");
      details.id = box.id;
      details.appendChild(el("summary", "", gettext("Helplines")));
      box.replaceWith(details);
      box = details;
    }
    while (box.lastChild !== box.firstChild) box.removeChild(box.lastChild); // its summary stays
    card.id = "crisis";
    box.appendChild(card);
    box.appendChild(hope);
    box.open = true;
    box.hidden = false;
    foldable(card);
    card.focus();
  };

  var shown = document.getElementById("crisis"); // the page's, after a plain form's send
  if (shown) foldable(shown);
})();
