// Small conveniences on top of pages that already work without JavaScript.
"use strict";

// What the scripts say, in the page's language. The page carries the translations its scripts
// need (<script id="kindred-texts">, from core/i18n.py's script_catalog); English needs none.
// gettext("Sent: %(what)s.", {what}) translates first, then fills the placeholders, as the
// server's gettext does. Other scripts use window.kindredI18n.
window.kindredI18n = (() => {
  let texts = {};
  try { texts = JSON.parse(document.getElementById("kindred-texts")?.textContent || "{}"); } catch {}
  const rtl = texts.__rtl__ === "1"; // the ar-XB pseudo-locale: English, right to left
  const fill = (text, values = {}) =>
    text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
  const shown = (text) => (rtl ? `\u202e${text}\u202c` : text);
  const gettext = (message, values) =>
    fill(shown(typeof texts[message] === "string" ? texts[message] : message), values);
  const ngettext = (singular, plural, n, values) => {
    const forms = Array.isArray(texts[singular]) ? texts[singular] : [singular, plural];
    return fill(shown(n === 1 ? forms[0] : forms[forms.length - 1]), { num: n, ...values });
  };
  return { gettext, ngettext };
})();
const gettext = window.kindredI18n.gettext;

// Times in core/clock.py's words, on the member's chosen clock (<html data-zone>) or the
// browser's; chat.js writes live ones with kindredClock.words(date).
window.kindredClock = (() => {
  let zone = document.documentElement.dataset.zone, format = null;
  try {
    zone = zone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    // Day and month names in the page's language, as the server writes them (core/clock.py);
    // the right-to-left pseudo-locale is English.
    const lang = document.documentElement.lang || "en";
    format = new Intl.DateTimeFormat(lang.startsWith("en") || lang === "ar-XB" ? "en-US" : lang, {
      timeZone: zone, weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  } catch { return null; } // no zones in this browser: the server's UTC words stay
  const parts = (date) => Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  const utc = zone === "UTC" || zone === "Etc/UTC";
  const words = (moment, dayOnly = false) => {
    const date = new Date(moment);
    if (isNaN(date)) return "";
    const p = parts(date);
    const day = `${p.weekday} ${p.day} ${p.month}${p.year === parts(new Date()).year ? "" : " " + p.year}`;
    return dayOnly ? day : `${day}, ${p.hour}:${p.minute}${utc ? " UTC" : ""}`;
  };
  // No clock chosen: the server wrote these in UTC.
  for (const time of document.querySelectorAll("time[data-local]")) {
    time.textContent = words(time.getAttribute("datetime"), time.dataset.local === "day") || time.textContent;
  }
  return { zone, words };
})();

document.addEventListener("click", (event) => {
  // Pseudonym suggestions are links that reload the form pre-filled; with JS, fill in place.
  const link = event.target.closest("a[data-fill]");
  if (!link) return;
  const input = document.getElementById(link.dataset.fill);
  if (!input) return;
  event.preventDefault();
  input.value = link.dataset.value;
  input.focus();
});

// Live preview: pages render a preview on the "Preview" button without JS; with JS, the
// preview follows the text as it is typed (debounced), through the same pipeline.
(() => {
  const area = document.querySelector("textarea[data-preview]");
  const target = area && document.getElementById(area.dataset.preview);
  const token = document.querySelector("input[name=csrf_token]");
  if (!area || !target || !token) return;
  let timer = 0;
  let controller = null;
  const render = async () => {
    if (!area.value.trim()) { target.replaceChildren(); return; }
    controller?.abort();
    controller = new AbortController();
    try {
      const response = await fetch("/api/v1/preview", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token.value },
        body: JSON.stringify({ body: area.value }),
        signal: controller.signal,
      });
      if (!response.ok) return;
      const result = await response.json();
      const heading = document.createElement("h2");
      heading.textContent = gettext("Preview");
      const body = document.createElement("div");
      body.className = "post-body";
      body.innerHTML = result.html; // sanitised by the server's pipeline
      const parts = [heading];
      if (result.reason) {
        const note = document.createElement("div");
        note.className = result.decision === "refuse" ? "notice notice-error" : "notice notice-important";
        const p = document.createElement("p");
        p.textContent = result.reason.message;
        note.append(p);
        parts.push(note);
      }
      parts.push(body);
      target.replaceChildren(...parts);
    } catch (error) {
      if (error.name !== "AbortError") target.replaceChildren();
    }
  };
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(render, 400);
  });
})();

// Reactions and "this helped" on a thread. Without JS each press reloads the thread at the
// post (#p<id>, which takes focus). With JS the same form goes in the background and the
// button changes in place, keeping focus; #post-status says what happened. The thread page
// the server answers with is what the button is brought up to date from.
(() => {
  const status = document.getElementById("post-status");
  if (!status) return;
  const say = (words) => {
    status.textContent = "";
    setTimeout(() => { status.textContent = words; }, 50); // a new message, even if the same
  };
  const actionOf = (form) => new URL(form.getAttribute("action"), location.href).pathname;
  // A post's reactions are one form; each button names its reaction (kind=, or remove= once
  // chosen). Its twin is the same button in the page the server answered with.
  const showReaction = (page, form, button) => {
    const fresh = [...page.querySelectorAll("form")].find((other) => actionOf(other) === actionOf(form))
      ?.querySelector(`button[value="${button.value}"]`);
    if (!fresh) return false;
    button.className = fresh.className;
    button.name = fresh.name;
    button.setAttribute("aria-pressed", fresh.getAttribute("aria-pressed"));
    button.textContent = fresh.textContent;
    const name = button.textContent.split(" · ")[0];
    say(fresh.getAttribute("aria-pressed") === "true" ? `Sent “${name}”.` : `Took back “${name}”.`);
    return true;
  };

  const showHelped = (page, button) => {
    const head = document.querySelector(".page-head .meta");
    const freshHead = page.querySelector(".page-head .meta");
    if (head && freshHead) head.replaceWith(document.importNode(freshHead, true));
    const isBadge = (el) => el.classList.contains("badge-helped"); // in any language
    for (const post of document.querySelectorAll("li.post")) {
      const fresh = page.getElementById(post.id);
      if (!fresh) continue;
      post.classList.toggle("helped", fresh.classList.contains("helped"));
      [...post.querySelectorAll(".post-meta .badge-ok")].filter(isBadge).forEach((b) => b.remove());
      const badge = [...fresh.querySelectorAll(".post-meta .badge-ok")].find(isBadge);
      if (badge) post.querySelector(".post-meta")?.append(" ", document.importNode(badge, true));
    }
    button.textContent = gettext("Marked as what helped");
    button.setAttribute("aria-disabled", "true");
    say(gettext("Marked as the reply that helped. Its author will be told."));
    return true;
  };

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    const helped = /^\/p\/\d+\/helped$/.test(actionOf(form));
    if (!helped && !/^\/p\/\d+\/react$/.test(actionOf(form))) return;
    event.preventDefault();
    const button = event.submitter || form.querySelector("button");
    if (form.dataset.sending || button.getAttribute("aria-disabled") === "true") return;
    form.dataset.sending = "yes";
    const data = new FormData(form);
    if (button.name) data.append(button.name, button.value); // which reaction was pressed
    let response;
    try {
      response = await fetch(form.action, { method: "POST", body: new URLSearchParams(data) });
    } catch {
      delete form.dataset.sending;
      say(gettext("That didn't go through: the connection dropped. Please press it again."));
      return;
    }
    delete form.dataset.sending;
    if (!response.ok) { // the page way, which says what went wrong
      if (button.name) form.append(Object.assign(document.createElement("input"), { type: "hidden", name: button.name, value: button.value }));
      form.submit();
      return;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const shown = helped ? showHelped(page, button) : showReaction(page, form, button);
    if (!shown) location.assign(response.url); // the post changed under us: show the page
  });
})();

// The header's Menu is a <details>, so it opens without JS; with JS, Escape or a tap outside closes it.
{
  const menu = document.querySelector("details.menu");
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && menu?.open) { menu.open = false; menu.firstElementChild.focus(); }
  });
  document.addEventListener("click", (e) => { if (menu?.open && !menu.contains(e.target)) menu.open = false; });
}

// Reading offline (static/sw.js, served at /sw.js): pages a member has read stay readable when
// the link drops. When it has dropped, say so at the top of the page.
{
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js").catch(() => {}); // without it, pages work as before
  }
  const note = document.createElement("p");
  note.className = "notice notice-important offline-note";
  note.setAttribute("role", "status");
  note.textContent = gettext("You're offline. This is the copy saved on this device; replies and new threads you write wait here and go when you're back online.");
  const show = () => {
    if (navigator.onLine || document.getElementById("kept")) note.remove(); // not on the offline page
    else document.querySelector("main")?.prepend(note);
  };
  addEventListener("online", show);
  addEventListener("offline", show);
  show();
  // A form sent with no connection would leave the page for the browser's error page, and
  // the text with it. A reply or new thread (forms marked data-outbox) waits in the outbox
  // below instead; any other form keeps the member here, with their words, and says why.
  // (Chat queues its own messages and has already handled the event by now.)
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (navigator.onLine || event.defaultPrevented || form.method.toLowerCase() !== "post") return;
    event.preventDefault();
    if (event.submitter?.value !== "preview" && window.kindredOutbox?.add(form, event.submitter)) return;
    let told = form.querySelector(".offline-form-note");
    if (!told) {
      told = document.createElement("p");
      told.className = "notice notice-important offline-form-note";
      told.setAttribute("role", "alert");
      form.prepend(told);
    }
    told.textContent = gettext("You're offline, so this wasn't sent. Your words are still here: press it again when the connection is back.");
  });
}

// The outbox (static/js/outbox.js) is loaded only where it has work: a page with a reply or
// new-thread form, or any page while something waits in it (so it can be seen and sent).
{
  let waiting = false;
  try { waiting = (localStorage.getItem("kindred-outbox") || "[]") !== "[]"; } catch {}
  const src = document.documentElement.dataset.outbox;
  if (src && (waiting || document.querySelector("form[data-outbox]"))) {
    const script = document.createElement("script");
    script.src = src;
    document.head.append(script);
  }
}
