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
