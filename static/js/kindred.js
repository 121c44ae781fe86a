// Small conveniences on top of pages that already work without JavaScript.
"use strict";

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
      heading.textContent = "Preview";
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

// Reading offline (static/sw.js, served at /sw.js): pages a member has read stay readable when
// the link drops. When it has dropped, say so at the top of the page.
{
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js").catch(() => {}); // without it, pages work as before
  }
  const note = document.createElement("p");
  note.className = "notice notice-important offline-note";
  note.setAttribute("role", "status");
  note.textContent = "You're offline. This is the copy saved on this device; replies and new posts need the connection.";
  const show = () => {
    if (navigator.onLine || document.getElementById("kept")) note.remove(); // not on the offline page
    else document.querySelector("main")?.prepend(note);
  };
  addEventListener("online", show);
  addEventListener("offline", show);
  show();
}
