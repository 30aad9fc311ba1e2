// The service worker: a versioned precache of the app shell, so the app starts with no
// network. It never handles /api/ (sync answers must come from the server, never from a
// cache) and never touches IndexedDB: an update cannot lose the outbox.
//
// The server fills in SHELL_VERSION with a digest of the shell files, so any change to
// them makes this file differ and the browser installs the new version.

const SHELL_VERSION = "__SHELL_VERSION__";
const PREFIX = "gemba-shell-";
const CACHE = `${PREFIX}${SHELL_VERSION}`;
const SHELL = [
  "/app/",
  "/app/app.js",
  "/app/render.js",
  "/app/db.js",
  "/app/outbox.js",
  "/app/sync.js",
  "/app/records.js",
  "/app/photos.js",
  "/app/quota.js",
  "/app/swclient.js",
  "/app/screens/routes.js",
  "/app/screens/frame.js",
  "/app/screens/audits.js",
  "/app/screens/signin.js",
  "/app/screens/checklist.js",
  "/app/screens/raise.js",
  "/app/screens/newaudit.js",
  "/app/screens/area.js",
  "/app/screens/findings.js",
  "/app/screens/finding.js",
  "/app/screens/actions.js",
  "/app/screens/sync.js",
  "/app/screens/notifications.js",
  "/app/screens/documents.js",
  "/app/notifications.js",
  "/app/documents.js",
  "/app/views/dom.js",
  "/app/views/shell.js",
  "/app/views/signin.js",
  "/app/views/audits.js",
  "/app/views/checklist.js",
  "/app/views/photopicker.js",
  "/app/views/signature.js",
  "/app/views/annotate.js",
  "/app/views/finding.js",
  "/app/views/findings.js",
  "/app/views/search.js",
  "/app/views/newaudit.js",
  "/app/views/area.js",
  "/app/views/areascan.js",
  "/app/areacodes.js",
  "/app/views/actions.js",
  "/app/views/syncview.js",
  "/app/views/notifications.js",
  "/app/views/documents.js",
  "/app/styles.css",
  "/app/manifest.webmanifest",
  "/app/icons/icon.svg",
  "/app/icons/icon-192.png",
];

// The shell is public and fetched without cookies: the server answers every request with
// a session cookie, and an answer to a request sent before signing in that arrives after
// it would replace the new session with an anonymous one (the next sync got a 401).
const fetchShell = (url) => new Request(url, { cache: "reload", credentials: "omit" });

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL.map(fetchShell))));
  // The first install takes over at once; an update waits until the person reloads.
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/") || !url.pathname.startsWith("/app/")) return;
  // One look-up in this version's cache (not an open, then a match): a cold start asks
  // for index.html and a dozen modules at once.
  const path = request.mode === "navigate" ? "/app/" : url.pathname;
  event.respondWith(caches.match(path, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
});
