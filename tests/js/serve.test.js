// scripts/serve.js's headers on every kind of response: the page, an asset, a file that is not
// there and a request that cannot be read all carry the Content-Security-Policy (frame-ancestors
// 'none' among it: no other site frames the page) and nosniff. Served from a folder made here.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { CSP, startServer } from '../../scripts/serve.js';

let dir, server;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quant-error-serve-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'app.js'), 'export {};');
  server = await startServer({ root: dir });
});
after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

// The raw path is sent as written (fetch would normalise it).
const get = (path) => new Promise((resolve, reject) => {
  request({ host: '127.0.0.1', port: server.address().port, path }, (res) => {
    res.resume();
    res.on('end', () => resolve(res));
  }).on('error', reject).end();
});

test('every response carries the CSP with frame-ancestors \'none\' and nosniff, errors too', async () => {
  assert.match(CSP, /(^|; )frame-ancestors 'none'(;|$)/);
  assert.match(CSP, /(^|; )script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  for (const [path, status, type] of [['/', 200, /^text\/html/], ['/app.js', 200, /^text\/javascript/], ['/missing.js', 404, /^text\/plain; charset=utf-8$/],
    ['/%E0%A4%A', 400, /^text\/plain; charset=utf-8$/]]) {
    const res = await get(path);
    assert.equal(res.statusCode, status, path);
    assert.match(res.headers['content-type'], type, path);
    assert.equal(res.headers['content-security-policy'], CSP, `${path}: the CSP (404s had none)`);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', `${path}: nosniff`);
  }
});
