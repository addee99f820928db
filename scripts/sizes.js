// `npm run size` (also run by the build): what the page and the module cost to download, gzip -9,
// against the budgets: the wasm core + its JS glue ≤ 60 KB (counted here as the wasm + the whole
// worker, which bundles the glue with the API), and the page's first load ≤ 150 KB (the HTML, the
// CSS, the entry script and its static imports, the worker and the wasm the first calculation
// fetches; the PDF library loads only when a PDF is asked for). Prints a table; a budget exceeded
// is reported, and with --strict the exit status is 1.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/`;
const KB = 1024;
const BUDGET_CORE = 60 * KB, BUDGET_FIRST_LOAD = 150 * KB;

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const assets = readdirSync(`${dist}assets`);
const asset = (re) => assets.filter((a) => re.test(a)).map((a) => `assets/${a}`);

// The entry script and what it imports statically (Vite's chunks: `from "./x.js"` at top level).
const html = readFileSync(`${dist}index.html`, 'utf8');
const entry = html.match(/<script type="module"[^>]*src="\.\/([^"]+)"/)[1];
const css = [...html.matchAll(/<link rel="stylesheet"[^>]*href="\.\/([^"]+)"/g)].map((m) => m[1]);
const statics = new Set([entry]);
for (const file of statics) {
  const text = readFileSync(dist + file, 'utf8');
  for (const m of text.matchAll(/(?:^|[;}\n])\s*import\s*(?:[\w*{}\s,$]+from\s*)?["']\.\/([^"']+\.js)["']/g)) statics.add(`assets/${m[1]}`);
}

// The component's entry and its static imports.
function componentStatics() {
  const seen = new Set();
  const visit = (file) => {
    for (const m of readFileSync(dist + file, 'utf8').matchAll(/import\s*(?:[\w*{}\s,$]+from\s*)?["']\.\/(?:assets\/)?([^"']+\.js)["']/g)) {
      const f = `assets/${m[1]}`;
      if (!seen.has(f)) seen.add(f), visit(f);
    }
  };
  visit('quant-error-calculator.js');
  return seen;
}

const rows = [];
const row = (what, files) => {
  const bytes = files.reduce((a, f) => a + gz(dist + f), 0);
  rows.push({ what, files: files.map((f) => f.replace('assets/', '')).join(' + '), 'KB gzip': (bytes / KB).toFixed(1) });
  return bytes;
};
const worker = asset(/^worker-[\w-]+\.js$/);
const core = row('wasm core + worker (API and glue), SIMD', [...asset(/^quant-(?!scalar)[\w-]+\.wasm$/), ...worker]);
const scalar = row('wasm core + worker, scalar fallback', [...asset(/^quant-scalar-[\w-]+\.wasm$/), ...worker]);
const first = row('page, first load', ['index.html', ...css, ...statics, ...worker, ...asset(/^quant-(?!scalar)[\w-]+\.wasm$/)]);
row('component (one script), first widget', ['quant-error-calculator.js', ...[...componentStatics()], ...worker, ...asset(/^quant-(?!scalar)[\w-]+\.wasm$/)]);
row('PDF export, on demand', asset(/^(pdf|jspdf|html2canvas|purify|index\.es)[\w.-]*\.js$/));
console.table(rows);

const over = [];
if (core > BUDGET_CORE) over.push(`the wasm core + glue is ${(core / KB).toFixed(1)} KB, over its ${BUDGET_CORE / KB} KB budget`);
if (scalar > BUDGET_CORE) over.push(`the scalar core + glue is ${(scalar / KB).toFixed(1)} KB, over its ${BUDGET_CORE / KB} KB budget`);
if (first > BUDGET_FIRST_LOAD) over.push(`the page's first load is ${(first / KB).toFixed(1)} KB, over its ${BUDGET_FIRST_LOAD / KB} KB budget`);
if (over.length) {
  console.log(`Size budgets exceeded: ${over.join('; ')}.`);
  if (process.argv.includes('--strict')) process.exit(1);
} else {
  console.log('Size budgets met.');
}
