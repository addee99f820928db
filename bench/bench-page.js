// `npm run bench:page`: the built page in headless Chromium, time from pressing Calculate to the
// results and all charts drawn, for 10k, 100k and 1M samples (parsing the text included).
// Median of repeats after one warm-up per size. A program, not a test: it prints and asserts nothing.
import { chromium } from 'playwright-core';

import { startServer } from '../scripts/serve.js';

const SIZES = [10000, 100000, 1000000];
const REPEATS = Math.max(3, Number(process.env.BENCH_REPEATS ?? 5));

const server = await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`http://127.0.0.1:${server.address().port}/`);
await page.locator('[data-metric="mse"]').waitFor();

// One Calculate, timed inside the page: click → results[data-render] changes (set last in render()).
const timeOnce = () => page.evaluate(async () => {
  const results = document.getElementById('results');
  const before = results.dataset.render;
  const t0 = performance.now();
  document.querySelector('#form button[type=submit]').click();
  await new Promise((resolve) => {
    const check = () => (results.dataset.render !== before ? resolve() : setTimeout(check, 1));
    check();
  });
  return performance.now() - t0;
});

const rows = [];
for (const n of SIZES) {
  await page.evaluate((count) => {
    let s = 12345;
    const parts = new Array(count);
    for (let i = 0; i < count; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      parts[i] = ((s / 2 ** 32 - 0.5) * 3).toFixed(5);
    }
    document.getElementById('values').value = parts.join(', ');
    document.getElementById('range').value = 'samples';
  }, n);
  await timeOnce(); // warm-up
  const ms = [];
  for (let r = 0; r < REPEATS; r++) ms.push(await timeOnce());
  ms.sort((a, b) => a - b);
  const text = await page.evaluate(() => document.getElementById('values').value.length);
  rows.push({ samples: n.toLocaleString('en'), 'text MB': (text / 1e6).toFixed(1), 'median ms': ms[Math.floor(ms.length / 2)].toFixed(0),
    'spread ms': `${ms[0].toFixed(0)}–${ms.at(-1).toFixed(0)}` });
}
console.log(`\nCalculate → results and 5 charts drawn, headless Chromium, median of ${REPEATS} after a warm-up\n`);
console.table(rows);
await browser.close();
server.close();
