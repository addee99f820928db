// The folders say which thread a file runs on (web/src/page, worker, shared): files outside page/
// never import page code, shared/ imports only shared/ (and the offline build's worker), and the
// worker never imports the page's or the charts' code (it has no DOM).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../web/src/', import.meta.url));
const imports = (folder) => readdirSync(join(SRC, folder)).filter((f) => f.endsWith('.js')).flatMap((f) =>
  [...readFileSync(join(SRC, folder, f), 'utf8').matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => ({ file: `${folder}/${f}`, from: m[1] })));

test('no file outside page/ imports page code', () => {
  for (const folder of ['shared', 'worker', 'charts', 'export', 'component']) {
    for (const { file, from } of imports(folder)) assert.doesNotMatch(from, /(^|\/)page\//, `${file} imports ${from}`);
  }
});

test('shared/ imports only shared/ (the offline spawner also the worker it inlines)', () => {
  for (const { file, from } of imports('shared')) {
    if (!from.startsWith('.')) continue;
    const ok = /^\.\/[\w-]+\.js$/.test(from) || (file === 'shared/spawn-inline.js' && from.startsWith('../worker/worker.js'));
    assert.ok(ok, `${file} imports ${from}`);
  }
});

test('the worker imports only its own folder, shared/ and the public API', () => {
  for (const { file, from } of imports('worker')) {
    assert.match(from, /^(\.\/[\w-]+\.js|\.\.\/shared\/[\w-]+\.js|\.\.\/quantizer\.js)$/, `${file} imports ${from}`);
  }
});
