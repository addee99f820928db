// Served over http(s), the page keeps itself for offline use (sw.js caches every file of the
// build) and says so once it has; a single-file copy opened from disk needs none of this.
// `say(text)` receives each status line.
export async function keepOffline(say) {
  if (!('serviceWorker' in navigator) || !/^https?:$/.test(location.protocol)) return;
  try {
    const registration = await navigator.serviceWorker.register('./sw.js');
    registration.addEventListener('updatefound', () => {
      // A new version while an older one is active: say so once it takes over.
      const next = registration.installing;
      const hadCopy = Boolean(registration.active);
      next?.addEventListener('statechange', () => {
        if (next.state === 'activated' && hadCopy) say('Works offline. Offline copy updated to this version.', true);
      });
    });
    await navigator.serviceWorker.ready;
    say('Works offline: this page and its files are saved in your browser, so it opens without a network next time.', true);
  } catch (e) {
    say(`This page could not be saved for offline use (${e.message}).`, false);
  }
}
