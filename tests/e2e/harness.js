// What every browser test file needs: the built page served with the production CSP, Debian's
// Chromium, and pages that record every console error, page error and CSP report. A file calls
// browserSuite() once at its top; after its tests the suite fails if any page had a problem.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

import { startServer } from '../../scripts/serve.js';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/**
 * Starts the server and the browser before the file's tests and closes them after: returns
 * { browser, origin, problems, openPage }. openPage({ width, height, query, colorScheme, wait,
 * onRequest }) opens the page in a new context and, unless wait is false, waits for its first result.
 */
export function browserSuite() {
  const suite = { browser: null, origin: null, problems: [] };
  let server;
  before(async () => {
    server = await startServer();
    suite.origin = `http://127.0.0.1:${server.address().port}/`;
    suite.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await suite.browser?.close();
    server?.close();
    assert.deepEqual(suite.problems, [], 'no console error, page error or CSP violation in any test');
  });
  suite.openPage = async ({ width = 1280, height = 900, query = '', colorScheme = 'light', wait = true, onRequest = null } = {}) => {
    const context = await suite.browser.newContext({ viewport: { width, height }, acceptDownloads: true, colorScheme });
    if (onRequest) context.on('request', onRequest);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) suite.problems.push(m.text());
    });
    page.on('pageerror', (e) => suite.problems.push(e.message));
    page.on('request', (req) => {
      if (!req.url().startsWith(suite.origin) && !/^(data|blob):/.test(req.url())) suite.problems.push(`request left the origin: ${req.url()}`);
    });
    await page.goto(suite.origin + query);
    if (wait) await page.locator('[data-metric="mse"]').waitFor();
    return page;
  };
  return suite;
}

/** RFC 4180 rows: quoted fields may hold commas, doubled quotes and line breaks; lines end in CRLF. */
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') cell += text[i++];
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  assert.equal(cell + row.join(''), '', 'the text ends with CRLF');
  return rows;
}
