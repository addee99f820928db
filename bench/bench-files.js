// `npm run bench:files`: reading tensor files. Writes two 1 GiB .safetensors files to build/ (16
// float32 tensors of 16M values, read whole; 2 of 128M values, streamed by the page), then times
// the command line (wall time, MB/s and peak memory from /usr/bin/time) and the page's Open a
// tensor file report in headless Chromium (wall time, MB/s, and the browser's memory: the peak of
// all its processes' proportional set sizes over the page's baseline, sampled every 50 ms), beside the
// in-memory kernel's speed from the same run. A program, not a test.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { createQuantizer } from '../web/src/quantizer.js';
import { startServer } from '../scripts/serve.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TENSORS = 16, N = 1 << 24;
const path = `${root}build/bench-1gib.safetensors`;
const streamedPath = `${root}build/bench-1gib-streamed.safetensors`;
mkdirSync(`${root}build`, { recursive: true });

// `tensors` float32 tensors of `count` values each, seeded uniform values of growing spread.
function writeFile(file, tensors, count) {
  if (existsSync(file) && statSync(file).size === 8 + 1024 * 8 + tensors * count * 4) return;
  const header = {};
  for (let k = 0; k < tensors; k++) header[`layer.${k}.weight`] = { dtype: 'F32', shape: [4096, count / 4096], data_offsets: [k * count * 4, (k + 1) * count * 4] };
  let text = JSON.stringify(header);
  text += ' '.repeat(1024 * 8 - text.length);
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(text));
  const x = new Float32Array(N);
  let s = 1;
  for (let k = 0; k < tensors; k++) {
    for (let at = 0; at < count; at += N) {
      for (let i = 0; i < N; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        x[i] = (s / 2 ** 32 - 0.5) * (1 + k / 4);
      }
      writeSync(fd, Buffer.from(x.buffer));
    }
  }
  closeSync(fd);
}
writeFile(path, TENSORS, N);
writeFile(streamedPath, 2, N * 8);

// The processes by parent (Linux /proc).
function processTree() {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {}
  }
  return children;
}

// Memory of a process and its descendants, in MB: the proportional set size (shared pages
// counted once across the processes that share them).
function treeRss(pid) {
  const children = processTree();
  let kb = 0;
  const visit = (p) => {
    try {
      kb += Number(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8').match(/Pss:\s+(\d+)/)?.[1] ?? 0);
    } catch {}
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return kb / 1024;
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
// The browser: this program's child that runs Chromium.
const browserPid = (processTree().get(process.pid) ?? []).find((p) => /chrom/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')));
// The page with one worker and with its pool of two (?workers=N), rounds interleaved.
const pages = {};
for (const workers of [1, 2]) {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/?workers=${workers}`);
  await page.locator('[data-metric="mse"]').waitFor();
  await page.getByLabel('Mode', { exact: true }).selectOption('asymmetric');
  await page.getByLabel('Range', { exact: true }).selectOption('samples');
  pages[workers] = page;
}
for (const [file, what] of [[path, '16 tensors of 16M values, each read whole'], [streamedPath, '2 tensors of 128M values, streamed']]) {
  const seconds = { 1: [], 2: [] };
  const baseline = { 1: Infinity, 2: Infinity }, peak = { 1: 0, 2: 0 };
  for (let round = 0; round < 2; round++) {
    for (const workers of [1, 2]) {
      const page = pages[workers];
      const before = await page.locator('#report').getAttribute('data-render');
      baseline[workers] = Math.min(baseline[workers], treeRss(browserPid));
      const sampler = setInterval(() => {
        peak[workers] = Math.max(peak[workers], treeRss(browserPid));
      }, 50);
      const start = Date.now();
      await page.setInputFiles('#file-input', file);
      await page.waitForFunction((old) => (document.getElementById('report').dataset.render ?? null) !== old, before, { timeout: 600000, polling: 250 });
      seconds[workers].push((Date.now() - start) / 1000);
      clearInterval(sampler);
    }
  }
  const fileMb = statSync(file).size / 1e6;
  for (const workers of [1, 2]) {
    const best = Math.min(...seconds[workers]);
    rows.push({ row: `page, ${workers} worker${workers > 1 ? 's' : ''}: ${what}`, seconds: best.toFixed(2), 'MB/s': (fileMb / best).toFixed(0),
      'peak memory': `+${(peak[workers] - baseline[workers]).toFixed(0)} MB over the browser's ${baseline[workers].toFixed(0)} MB` });
  }
}
await browser.close();
server.close();

console.log(`\n${(bytes / 2 ** 30).toFixed(2)} GiB .safetensors files (float32), 8-bit asymmetric min-max; ${execFileSync('nproc').toString().trim()} cores\n`);
console.table(rows);
