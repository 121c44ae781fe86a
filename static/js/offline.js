// The offline page: list the pages this device kept (the service worker's cache), newest first,
// each by its own title.
"use strict";
(function () {
  if (!window.caches) return;
  var list = document.getElementById("kept-list");
  caches.open("kindred-pages").then(function (cache) {
    return cache.keys().then(function (keys) {
      return Promise.all(keys.reverse().map(function (request) {
        return cache.match(request).then(function (response) { return response.text(); })
          .then(function (html) {
            var title = new DOMParser().parseFromString(html, "text/html").title;
            return { url: new URL(request.url), title: title.replace(/ · Kindred$/, "") };
          });
      }));
    });
  }).then(function (pages) {
    if (!list || !pages.length) return;
    pages.forEach(function (page) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = page.url.pathname + page.url.search;
      link.textContent = page.title || page.url.pathname;
      item.appendChild(link);
      list.appendChild(item);
    });
    document.getElementById("kept").hidden = false;
  });
})();
