/* Kindred's service worker: what a member has read stays readable when the link drops.
 *
 * - Static files under /static/ with a version (?v=) never change: from the cache first.
 * - Reading pages (home, communities, threads, the session schedule, helplines): from the
 *   network first, kept for offline when the server allows it (never a no-store answer);
 *   offline, the kept copy, marked as such, or the offline page.
 * - The offline page and the helplines (/help) are kept from the start.
 * - Nothing else is touched: forms, the API and chat go to the network as before.
 * - Same origin only; nothing is ever fetched from anywhere else.
 * Signing out wipes all of it (Clear-Site-Data: "storage" takes the caches and this worker).
 */
"use strict";

var VERSION = "{{VERSION}}";
var PAGES = "kindred-pages";
var STATIC = "kindred-static-" + VERSION;
var OFFLINE = "/offline";
var READING = /^\/($|c\/|t\/|sessions($|\/|\?)|help($|\?))/;
var KEEP_PAGES = 60; // the most recent pages read; older ones are let go

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC).then(function (cache) { return cache.addAll([OFFLINE]); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("kindred-static-") === 0 && n !== STATIC;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function storable(response) {
  var rule = response.headers.get("cache-control") || "";
  return response.ok && response.type === "basic" && rule.indexOf("no-store") === -1;
}

function fromCacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (storable(response)) {
        var copy = response.clone();
        caches.open(STATIC).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    return Promise.all(keys.slice(0, Math.max(0, keys.length - KEEP_PAGES)).map(function (k) {
      return cache.delete(k);
    }));
  });
}

function fromNetworkFirst(request) {
  return fetch(request).then(function (response) {
    if (storable(response)) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) {
        return cache.delete(request).then(function () { return cache.put(request, copy); })
          .then(function () { return trim(cache); });
      });
    }
    return response;
  }).catch(function () {
    // ignoreVary: a kept page is better than none, whatever the request it was kept for
    return caches.match(request, { ignoreVary: true }).then(function (kept) {
      return kept || caches.match(OFFLINE);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0 && url.searchParams.has("v")) {
    event.respondWith(fromCacheFirst(request));
  } else if (request.mode === "navigate" && READING.test(url.pathname)) {
    event.respondWith(fromNetworkFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () { return caches.match(OFFLINE); }));
  }
});
