/* Hub's service worker: the shell from a cache, the pages from the network.

   Served at /sw.js by hub/pwa.py, which rewrites the HUB line below: `version` is
   a hash of everything under /static, so a changed stylesheet or script installs
   a new worker, and its activation deletes the old caches; `pageMaxAge` is the
   session's idle limit in seconds.

   - Static files (/static/...): cache first. Their URLs carry no version, so the
     cache itself is versioned, and a new version starts empty.
   - Page navigations: network first. When the network fails, the copy of the
     page kept from the last visit, if recent enough, else the /offline page.
   - /api/, /socket.io/ and anything but GET: never answered from a cache and
     never stored; the browser sends them as if there were no worker.

   Privacy on a shared office PC. A kept page shows one person's inbox, so:
   - only reading pages are kept (PAGE_PATHS: the inbox, notices, documents,
     channels, the home page), never admin, directory or sign-in pages, and only
     200 HTML responses that do not say `no-store`;
   - /offline is fetched without cookies, so the shell holds nobody's page;
   - every navigation to /auth/ (signing in, signing out with the 退出 form, the
     redirect to the sign-in page when a session has ended) deletes the kept
     pages, so the next person who signs in on the same browser cannot open the
     previous person's inbox offline;
   - a kept page older than the session's idle limit is never shown: by then
     the session it came from has ended (and expired copies are deleted the
     next time a page is stored). That is no longer than the browser's own HTTP
     cache keeps the same page. */
"use strict";

const HUB = {"version": "dev", "pageMaxAge": 1800};
const STATIC_CACHE = "hub-static-" + HUB.version;
const PAGE_CACHE = "hub-pages-" + HUB.version;
const OFFLINE_URL = "/offline";
const SHELL = [
  "/static/css/hub.css",
  "/static/js/hub.js",
  "/static/js/inbox.js",             // the start page's own script
  "/static/vendor/socket.io-4.8.1/socket.io.min.js",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/static/icons/maskable-512.png",
  "/static/manifest.webmanifest",
  OFFLINE_URL,
];
const PAGE_PATHS = [/^\/$/, /^\/inbox\//, /^\/notices\//, /^\/documents\//, /^\/channels\//];
const MAX_PAGES = 30;
const STORED_AT = "X-Hub-Stored-At";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    return cache.addAll(SHELL.map(function (url) { return new Request(url, {credentials: "omit"}); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil((async function () {
    const current = [STATIC_CACHE, PAGE_CACHE];
    for (const name of await caches.keys()) {
      if (name.startsWith("hub-") && !current.includes(name)) await caches.delete(name);
    }
    // The page request starts while the worker boots, instead of after it.
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/auth/")) {
    event.waitUntil(caches.delete(PAGE_CACHE));
    return;
  }
  if (request.method !== "GET" || url.pathname.startsWith("/api/") || url.pathname.startsWith("/socket.io/")) {
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(event));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirst(event));
  }
});

async function cacheFirst(event) {
  const cache = await caches.open(STATIC_CACHE);
  const kept = await cache.match(event.request, {ignoreVary: true});
  if (kept) return kept;
  const response = await fetch(event.request);
  if (response.status === 200 && response.type === "basic") {
    event.waitUntil(cache.put(event.request, response.clone()));
  }
  return response;
}

async function networkFirst(event) {
  let response;
  try {
    response = (await event.preloadResponse) || await fetch(event.request);
  } catch (error) {
    return (await keptPage(event.request)) || (await caches.match(OFFLINE_URL)) || Response.error();
  }
  if (isKeepable(event.request, response)) event.waitUntil(keepPage(event.request, response.clone()));
  return response;
}

function isKeepable(request, response) {
  const path = new URL(request.url).pathname;
  return response.status === 200 && response.type === "basic" && !response.redirected
    && (response.headers.get("Content-Type") || "").startsWith("text/html")
    && !/no-store/.test(response.headers.get("Cache-Control") || "")
    && PAGE_PATHS.some(function (pattern) { return pattern.test(path); });
}

async function keepPage(request, response) {
  const headers = new Headers(response.headers);
  headers.set(STORED_AT, String(Date.now()));
  const copy = new Response(await response.blob(), {status: 200, statusText: response.statusText, headers: headers});
  const cache = await caches.open(PAGE_CACHE);
  await cache.delete(request);        // re-added last: the keys stay oldest first
  await cache.put(request, copy);
  await dropOldPages(cache);
}

async function dropOldPages(cache) {
  const keys = await cache.keys();
  for (const [index, key] of keys.entries()) {
    const page = await cache.match(key);
    if (index < keys.length - MAX_PAGES || !isFresh(page)) await cache.delete(key);
  }
}

function isFresh(page) {
  return Boolean(page) && Date.now() - Number(page.headers.get(STORED_AT)) <= HUB.pageMaxAge * 1000;
}

async function keptPage(request) {
  const page = await caches.match(request, {cacheName: PAGE_CACHE, ignoreVary: true});
  return isFresh(page) ? page : undefined;
}
