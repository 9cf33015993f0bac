// grid-sw.js: the grid worker's service worker (scope /grid/). It keeps the
// app page, its styles and script, and the worker's last bundle, so the
// phone keeps working with no network. Network first: online, everything
// is fresh; offline, the last copy answers. Writes (POST) are never
// touched: the page queues them itself (IndexedDB) and sends them when the
// network is back.
const CACHE = 'shequ-grid-v1';
const SHELL = '/grid/';
const KEEP = [/^\/grid\/$/, /^\/static\//, /^\/api\/grid\/v1\/(bundle|households)$/, /^\/api\/grid\/v1\/rooms\/[^/]+\/visits$/];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const res = await fetch(SHELL, { credentials: 'same-origin' });
    if (res.ok) {
      const html = await res.clone().text();
      await cache.put(SHELL, res);
      // The page's own styles and scripts, as it names them.
      const assets = [...html.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
      await Promise.all(assets.map((a) => cache.add(a).catch(() => {})));
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) if (k !== CACHE) await caches.delete(k);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  const navigation = req.mode === 'navigate' && url.pathname.startsWith('/grid/');
  if (!navigation && !KEEP.some((re) => re.test(url.pathname))) return;
  const key = navigation ? SHELL : url.pathname;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      // Keep good answers only; a login page after a logout is not one.
      if (res.ok && !res.redirected) await cache.put(key, res.clone());
      return res;
    } catch (err) {
      const hit = await cache.match(key);
      if (hit) return hit;
      throw err;
    }
  })());
});
