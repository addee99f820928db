// The npm package in a fresh project: `npm pack`, installed into a new temporary project with
// Vite and TypeScript from the registry, then (a) node imports createQuantizer and runs the seed
// example, (b) tsc checks a TypeScript file against the declarations (and that they reject a
// wrong option), (c) Vite bundles a page that uses the API and the web component, served with
// the strict CSP and opened in Chromium.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { startServer } from '../../scripts/serve.js';
import { createQuantizer } from '../../web/src/quantizer.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SEED = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
let dir, project, qz;
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600000 });

before(async () => {
  qz = await createQuantizer();
  dir = mkdtempSync(join(tmpdir(), 'quant-error-package-'));
  // The package as published (the build is in place: npm test builds first).
  const tarball = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], root).trim().split('\n').pop();
  project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', private: true, type: 'module' }));
  const vite = JSON.parse(readFileSync(join(root, 'node_modules/vite/package.json'), 'utf8')).version;
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(dir, tarball), `vite@${vite}`, 'typescript@5'], project);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('node: the package\'s createQuantizer runs the seed example', () => {
  writeFileSync(join(project, 'seed.mjs'), `import { createQuantizer } from 'quant-error-calculator';
const qz = await createQuantizer();
const r = qz.analyze(qz.parseValues('${SEED}'), { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 } });
console.log(JSON.stringify({ scale: r.scale, codes: Array.from(r.codes), sqnrDb: r.metrics.sqnrDb, simd: qz.simd }));
`);
  const got = JSON.parse(run('node', ['seed.mjs'], project));
  assert.equal(got.scale, 1.5 / 127);
  assert.deepEqual(got.codes, [-106, -78, -43, -8, 0, 12, 31, 67, 95, 124]);
  assert.equal(got.sqnrDb, qz.analyze(qz.parseValues(SEED), { bits: 8, range: { min: -1.5, max: 1.5 } }).metrics.sqnrDb);
  assert.equal(got.simd, true);
});

test('TypeScript: the declarations type a program, and reject an option that does not exist', () => {
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, target: 'es2022', module: 'es2022', moduleResolution: 'bundler', lib: ['es2022', 'dom'], noEmit: true, skipLibCheck: false },
    files: ['use.ts'],
  }));
  writeFileSync(join(project, 'use.ts'), `import { createQuantizer, QuantizerError, type AnalysisResult, type Options } from 'quant-error-calculator';
import type { QuantErrorCalculator } from 'quant-error-calculator/component';

const options: Options = { bits: 4, mode: 'asymmetric', calibration: 'mse', granularity: 'group', groupSize: 32 };
const qz = await createQuantizer({ simd: false });
const r: AnalysisResult = qz.analyze(new Float32Array(64), options);
const sqnr: number | null = r.metrics.sqnrDb;
const groups = r.groups?.map((g) => g.metrics.mse) ?? [];
const st = qz.stream({ format: 'nf4' });
while (!st.done) st.next();
const widget: QuantErrorCalculator = document.createElement('quant-error-calculator');
widget.addEventListener('result', (e) => console.log(e.detail.metrics.mse, sqnr, groups, widget.result));
try {
  qz.parseValues('1, x');
} catch (e) {
  if (e instanceof QuantizerError) console.log(e.field, e.index);
}
// @ts-expect-error: 'sideways' is not a mode
qz.analyze([1, 2], { mode: 'sideways' });
`);
  run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], project);
  // And a real mistake is reported.
  writeFileSync(join(project, 'use.ts'), `import { createQuantizer } from 'quant-error-calculator';
const qz = await createQuantizer();
qz.analyze([1, 2], { bitz: 4 });
`);
  assert.throws(() => run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], project), (e) => /bitz/.test(e.stdout));
});

test('Vite bundles a page with the API and the component; it runs under the strict CSP', async () => {
  const web = join(project, 'web');
  mkdirSync(web, { recursive: true });
  writeFileSync(join(web, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fresh</title><link rel="icon" href="data:,"><script type="module" src="./main.js"></script></head>
<body><quant-error-calculator id="w" bits="4" range="-1.5,1.5" view="results" values="${SEED}"></quant-error-calculator>
<p id="api"></p></body></html>
`);
  writeFileSync(join(web, 'main.js'), `import 'quant-error-calculator/component';
import { createQuantizer } from 'quant-error-calculator';
const qz = await createQuantizer();
document.getElementById('api').textContent = String(qz.analyze(qz.parseValues('${SEED}'), { bits: 4, range: { min: -1.5, max: 1.5 } }).metrics.mse);
`);
  writeFileSync(join(project, 'vite.config.js'), `export default { root: 'web', base: './', build: { outDir: '../dist', emptyOutDir: true, target: 'es2022' } };\n`);
  run('npx', ['--no-install', 'vite', 'build', '--logLevel', 'error'], project);
  const server = await startServer({ root: join(project, 'dist') });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.context().on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.getElementById('w').result && document.getElementById('api').textContent !== '', null, { timeout: 60000 });
    const widget = await page.evaluate(() => document.getElementById('w').result.metrics.mse);
    const api = Number(await page.locator('#api').textContent());
    const expected = qz.analyze(qz.parseValues(SEED), { bits: 4, range: { min: -1.5, max: 1.5 } }).metrics.mse;
    assert.equal(api, expected);
    assert.equal(widget, expected);
    assert.equal(await page.locator('#w >> [data-metric="mse"]').getAttribute('data-value'), String(expected));
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    server.close();
  }
});
