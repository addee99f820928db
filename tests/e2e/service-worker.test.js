// The service worker's update path, on a copy of dist/ (the test changes its sw.js): a new build's
// service worker takes over, the page says so, and only the new version's cache is left.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { CSP, startServer } from '../../scripts/serve.js';

let dir, server, browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quant-error-sw-'));
  cpSync(fileURLToPath(new URL('../../dist/', import.meta.url)), dir, { recursive: true });
  server = await startServer({ root: dir });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
});
after(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a new version of the site replaces the offline copy, and the page says so', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.locator('#offline-status[data-ready="true"]').waitFor({ timeout: 60000 });
  const [first] = await page.evaluate(() => caches.keys());
  assert.match(first, /^quant-error-calculator-[0-9a-f]{12}$/);
  const cached = await page.evaluate(async (key) => (await (await caches.open(key)).keys()).map((r) => new URL(r.url).pathname), first);
  assert.ok(cached.some((p) => /\/assets\/quant-[\w-]+\.wasm$/.test(p)) && cached.some((p) => /\/assets\/worker-[\w-]+\.js$/.test(p)), 'the wasm and the worker are kept');
  // The offline copy keeps the server's headers: the page served from the cache has the same CSP
  // (frame-ancestors 'none' too) and nosniff.
  const headers = await page.evaluate(async (key) => {
    const r = await (await caches.open(key)).match('./');
    return [r.headers.get('content-security-policy'), r.headers.get('x-content-type-options')];
  }, first);
  assert.deepEqual(headers, [CSP, 'nosniff']);

  // A new build: another version of sw.js.
  const sw = join(dir, 'sw.js');
  writeFileSync(sw, readFileSync(sw, 'utf8').replace(/const VERSION = "[0-9a-f]+"/, 'const VERSION = "0123456789ab"'));
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.waitForFunction(() => /Offline copy updated/.test(document.getElementById('offline-status').textContent), null, { timeout: 60000 });
  assert.deepEqual(await page.evaluate(() => caches.keys()), ['quant-error-calculator-0123456789ab']);
  assert.deepEqual(problems, []);
  await page.close();
});
