// docs/screenshot.png, the README's picture: the built page (dist/, from scripts/setup.sh) in
// Debian's Chromium at 1280 px wide, the seed example calculated with the Calculate button, cut
// to the form and the first results. Run by hand after a change to the page's look:
//   node scripts/screenshot.js [out.png]
// The clip runs from the form to the bottom of the first results (verdict and cards), at most
// 2000 px tall, so the PNG stays small (about 160 KB).
import { chromium } from 'playwright-core';

import { startServer } from './serve.js';

const out = process.argv[2] ?? new URL('../docs/screenshot.png', import.meta.url).pathname;
const server = await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.locator('[data-metric="mse"]').waitFor();
  // A fresh calculation from the button, as a user makes it.
  await page.getByRole('button', { name: 'Calculate', exact: true }).click();
  await page.locator('#progress').waitFor({ state: 'hidden' });
  await page.locator('[data-metric="sqnrDb"]').waitFor();
  await page.evaluate(() => document.fonts.ready);
  const top = await page.locator('main').evaluate((el) => el.getBoundingClientRect().top + window.scrollY);
  // The first results: the verdict and the metric cards (whichever ends lower, form or cards).
  const bottom = await page.evaluate(() => {
    const ends = ['#form', '#verdict', '[data-metric]'].flatMap((s) => [...document.querySelectorAll(s)])
      .map((el) => el.getBoundingClientRect().bottom + window.scrollY);
    return Math.max(...ends);
  });
  const height = Math.min(2000, Math.ceil(bottom - Math.max(0, top - 16) + 24));
  await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: Math.max(0, top - 16), width: 1280, height } });
  console.log(`${out}: 1280 × ${height}`);
} finally {
  await browser.close();
  server.close();
}
