// Kept for later: what a member writes offline (kindred.js loads this where it's needed).
"use strict";
{
const gettext = window.kindredI18n.gettext;

// The outbox: replies and new threads written offline wait on this device, each with its own
// submission id, and are sent once the link is back. The server posts an id's words once
// (forum/threads.py), so two tabs flushing together, or an answer lost on the way back,
// never make a second post. The member sees what waits, on every page, and can take any of
// it back into its form ("Don't send"). Signing out clears the device (Clear-Site-Data),
// so it asks first while anything waits.
window.kindredOutbox = (() => {
  const KEY = "kindred-outbox";
  const owner = document.body.dataset.member || "";
  const read = () => {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch { return null; }
  };
  const write = (items) => {
    try { localStorage.setItem(KEY, JSON.stringify(items)); return true; } catch { return false; }
  };
  const mine = () => (read() || []).filter((item) => item.owner === owner);
  const freshId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0")).join("");
  const textOf = (item) => item.fields.filter(([name]) => name === "body" || name === "title")
    .map(([, value]) => value).join(" — ");

  let panel = null;
  const render = () => {
    const items = mine();
    if (!items.length) { panel?.remove(); panel = null; return; }
    if (!panel) {
      panel = document.createElement("section");
      panel.className = "notice notice-important outbox";
      panel.setAttribute("aria-labelledby", "outbox-heading");
      const heading = document.createElement("h2");
      heading.id = "outbox-heading";
      heading.textContent = gettext("Waiting to send");
      const about = document.createElement("p");
      about.textContent = gettext("Kept on this device. It goes by itself, once, when you're back online.");
      panel.append(heading, about, document.createElement("ul"));
      document.querySelector("main")?.prepend(panel);
    }
    const list = panel.querySelector("ul");
    list.replaceChildren(...items.map((item) => {
      const row = document.createElement("li");
      const what = document.createElement("strong");
      what.textContent = item.label;
      const words = document.createElement("span");
      const text = textOf(item);
      words.textContent = ` “${text.length > 80 ? text.slice(0, 79) + "…" : text}”`;
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "secondary";
      cancel.textContent = gettext("Don't send");
      cancel.setAttribute("aria-label", gettext("Don't send “%(words)s”", { words: text.slice(0, 40) }));
      cancel.addEventListener("click", () => takeBack(item.id));
      row.append(what, words, " ");
      if (item.problem) {
        const open = document.createElement("a");
        open.href = item.page;
        open.textContent = gettext("Open it");
        row.append(item.problem + " ", open, " ");
      }
      row.append(cancel);
      return row;
    }));
  };

  const say = (text, href) => {
    const note = document.createElement("p");
    note.className = "notice outbox-sent";
    note.setAttribute("role", "status");
    note.textContent = text + " ";
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = gettext("See it");
      note.append(link);
    }
    document.querySelector("main")?.prepend(note);
  };

  const formFor = (item) => document.querySelector(`form[data-outbox][action^="${item.path}"]`);
  const putBack = (item) => {
    const form = formFor(item);
    if (!form) return false;
    for (const [name, value] of item.fields) {
      const field = form.elements.namedItem(name);
      if (field && field.type !== "hidden" && field.type !== "submit" && "value" in field) {
        if (field.type === "checkbox") field.checked = true; else field.value = value;
      }
    }
    form.querySelector("textarea")?.focus();
    return true;
  };
  // Taken back: into its form if it's on this page, else to the page that has the form.
  const takeBack = (id) => {
    const all = read() || [];
    const item = all.find((i) => i.id === id);
    if (!item) return;
    write(all.filter((i) => i.id !== id));
    if (!putBack(item)) {
      write([...(read() || []), { ...item, restore: true }]);
      location.assign(item.page);
      return;
    }
    render();
  };

  const add = (form, submitter) => {
    const data = new FormData(form);
    if (submitter?.name) data.set(submitter.name, submitter.value);
    data.set("submission_id", freshId()); // one id per waiting item, never shared
    const items = read();
    if (items === null) return false; // storage blocked: the words stay in the form
    const item = {
      id: data.get("submission_id"), owner, label: form.dataset.outbox || gettext("Your post"),
      // getAttribute: a form's `action` property is its button named "action", here.
      path: new URL(form.getAttribute("action") || location.href, location.href).pathname, page: location.pathname + location.search,
      fields: [...data.entries()].filter(([, v]) => typeof v === "string"), at: Date.now(),
    };
    if (!write([...items, item])) return false;
    form.reset();
    render();
    panel?.querySelector("h2")?.focus?.();
    return true;
  };

  let flushing = false;
  const flush = async () => {
    if (flushing || !navigator.onLine) return;
    flushing = true;
    try {
      for (const item of mine()) {
        if (item.problem || item.restore) continue;
        let response;
        try {
          response = await fetch(item.path, {
            method: "POST", credentials: "same-origin", body: new URLSearchParams(item.fields),
          });
        } catch { break; } // the link dropped again: try at the next "online"
        const rest = (read() || []).filter((i) => i.id !== item.id);
        // Posted means answered with the thread it went into. A session that ended while the
        // words waited is also a redirect (to sign in), and must keep them, not call them sent.
        const landed = response.ok && response.redirected && new URL(response.url).pathname.startsWith("/t/");
        if (landed) {
          write(rest);
          // Words that read as a crisis come back with the helplines: show them now.
          if (response.url.includes("notice=crisis")) { location.assign(response.url); return; }
          const sent = new URL(response.url);
          say(gettext("Sent: %(what)s.", { what: item.label }), sent.pathname + sent.search + sent.hash);
        } else {
          // Refused (the thread was locked, a rule, a signed-out session): keep the words and
          // let the member open the form, where the page says why.
          write([...rest, { ...item, problem: gettext("Couldn't be sent.") }]);
        }
        render();
      }
    } finally { flushing = false; }
  };

  // Back on a page whose form an item was taken back to (or that failed): words into the form.
  for (const item of mine()) {
    if ((item.restore || item.problem) && formFor(item) && location.pathname === new URL(item.page, location.href).pathname) {
      write((read() || []).filter((i) => i.id !== item.id));
      putBack(item);
    }
  }
  render();
  addEventListener("online", flush);
  addEventListener("storage", (e) => { if (e.key === KEY) render(); });
  flush();
  // Signing out clears this device, outbox too: say so while anything waits.
  document.addEventListener("submit", (event) => {
    if (event.target.getAttribute?.("action") !== "/logout" || !mine().length) return;
    if (!confirm(gettext("Something you wrote is still waiting to send. Signing out deletes it from this device. Sign out anyway?"))) event.preventDefault();
  }, true);
  return { add };
})();
}
