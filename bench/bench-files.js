// `npm run bench:files`: reading tensor files. Writes a 1 GiB .safetensors file (16 float32 tensors
// of 16M values) to build/, then times the command line (wall time, MB/s and peak memory from
// /usr/bin/time) and the page's Open a tensor file report in headless Chromium (wall time and
// MB/s), beside the in-memory kernel's speed from the same run. A program, not a test.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, statSync, writeSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { createQuantizer } from '../web/src/quantizer.js';
import { startServer } from '../scripts/serve.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TENSORS = 16, N = 1 << 24;
const path = `${root}build/bench-1gib.safetensors`;
mkdirSync(`${root}build`, { recursive: true });

if (!existsSync(path) || statSync(path).size !== 8 + 1024 * 8 + TENSORS * N * 4) {
  const header = {};
  for (let k = 0; k < TENSORS; k++) header[`layer.${k}.weight`] = { dtype: 'F32', shape: [4096, N / 4096], data_offsets: [k * N * 4, (k + 1) * N * 4] };
  let text = JSON.stringify(header);
  text += ' '.repeat(1024 * 8 - text.length);
  const fd = openSync(path, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(text));
  const x = new Float32Array(N);
  let s = 1;
  for (let k = 0; k < TENSORS; k++) {
    for (let i = 0; i < N; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      x[i] = (s / 2 ** 32 - 0.5) * (1 + k / 4);
    }
    writeSync(fd, Buffer.from(x.buffer));
  }
  closeSync(fd);
}
const bytes = statSync(path).size;
const mb = bytes / 1e6;

// The in-memory kernel on one tensor's worth of samples (the same options as below).
const qz = await createQuantizer();
const x = new Float32Array(N).map((_, i) => Math.sin(i));
const samples = qz.load(x);
samples.analyze({ perSample: false, calibration: 'minmax', mode: 'asymmetric' });
const t0 = performance.now();
for (let k = 0; k < 3; k++) samples.analyze({ perSample: false, calibration: 'minmax', mode: 'asymmetric' });
const kernelMs = (performance.now() - t0) / 3;
samples.delete();

const rows = [{ row: 'in-memory kernel (one 64 MB tensor)', 'seconds': (kernelMs / 1000).toFixed(3), 'MB/s': (N * 4 / 1e6 / (kernelMs / 1000)).toFixed(0), 'peak memory': '' }];

const cli = `${root}build/native/quant-error`;
if (existsSync(cli)) {
  // Drop nothing from the page cache on purpose: both readers see the file warm after the first run.
  spawnSync(cli, [path, '--mode', 'asymmetric', '--output', 'csv'], { stdio: 'ignore' });
  for (const threads of [1, 2]) {
    const r = spawnSync('/usr/bin/time', ['-v', cli, path, '--mode', 'asymmetric', '--output', 'csv', '--threads', String(threads)], { encoding: 'utf8' });
    const wall = r.stderr.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/);
    const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
    const rss = Number(r.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/)?.[1] ?? NaN) / 1024;
    rows.push({ row: `command line, ${threads} thread${threads > 1 ? 's' : ''}`, seconds: seconds.toFixed(2), 'MB/s': (mb / seconds).toFixed(0), 'peak memory': `${rss.toFixed(0)} MB` });
  }
}

const server = await startServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
await page.locator('[data-metric="mse"]').waitFor();
await page.getByLabel('Mode', { exact: true }).selectOption('asymmetric');
await page.getByLabel('Range', { exact: true }).selectOption('samples');
const pageSeconds = [];
for (let round = 0; round < 2; round++) {
  const before = await page.locator('#report').getAttribute('data-render');
  const start = Date.now();
  await page.setInputFiles('#file-input', path);
  await page.waitForFunction((old) => (document.getElementById('report').dataset.render ?? null) !== old, before, { timeout: 600000 });
  pageSeconds.push((Date.now() - start) / 1000);
}
const best = Math.min(...pageSeconds);
rows.push({ row: 'page (Open a tensor file)', seconds: best.toFixed(2), 'MB/s': (mb / best).toFixed(0), 'peak memory': 'one tensor (64 MB) + its float32 copy' });
await browser.close();
server.close();

console.log(`\n${(bytes / 2 ** 30).toFixed(2)} GiB .safetensors, ${TENSORS} float32 tensors of ${N.toLocaleString('en')} values, 8-bit asymmetric min-max; ${execFileSync('nproc').toString().trim()} cores\n`);
console.table(rows);
