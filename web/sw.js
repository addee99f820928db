// The service worker (registered by the page over http(s)): the page works offline after the
// first visit. The build fills in FILES (every file of dist/, hashed names) and VERSION (a hash
// of them): install caches them all, activate drops older versions' caches. Hashed files come
// from the cache first (they never change); pages from the network first, the cache when offline.
const VERSION = '__VERSION__';
const FILES = __FILES__;
const CACHE = `quant-error-calculator-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(['./', ...FILES])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith('quant-error-calculator-') && key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (event.request.mode === 'navigate' || url.pathname.endsWith('/') || url.pathname.endsWith('.html')) {
    event.respondWith((async () => {
      try {
        const response = await fetch(event.request);
        if (response.ok) (await caches.open(CACHE)).put(event.request, response.clone());
        return response;
      } catch (e) {
        const cached = (await caches.match(event.request, { ignoreSearch: true })) ?? (url.pathname.endsWith('/') ? await caches.match('./') : null);
        if (cached) return cached;
        throw e;
      }
    })());
    return;
  }
  event.respondWith(caches.match(event.request).then((cached) => cached ?? fetch(event.request)));
});
