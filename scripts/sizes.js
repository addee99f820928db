// `npm run size` (also run by the build): what the page and the modules cost to download, gzip -9,
// against the budgets. The page starts with the small first module (quant-core: the integer
// formula, calibrations, metrics, charts) and loads the whole core only when a float format, a
// runtime profile or a tensor file asks for it. Budgets: the first module's wasm + its JS glue
// (emscripten's, as the bundler emits it) ≤ 62 KB, for the SIMD and the scalar build (60 KB until
// the first module took the paste forms of Python, NumPy and PyTorch, 1.5 KB, and checked
// allocations with overflow-safe float32 sums, 1.3 KB: to be won back); the page's
// first load ≤ 155 KB (the HTML, the CSS, the entry script and its static imports, the worker, the
// first module's glue and wasm; the PDF library and the whole core load on demand; 150 KB until
// the layer view's form and llama.cpp's file tools joined it, 153 KB together: to be won back by
// loading the worker's GGUF compare, imatrix and recipe code and the layer form on demand). Prints a
// table; a budget exceeded is reported, and with --strict the exit status is 1.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/`;
const KB = 1024;
const BUDGET_CORE = 62 * KB, BUDGET_FIRST_LOAD = 155 * KB;

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

// The component's entry and its static imports (and re-exports).
function componentStatics() {
  const seen = new Set();
  const visit = (file) => {
    for (const m of readFileSync(dist + file, 'utf8').matchAll(/(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["']\.\/(?:assets\/)?([^"']+\.js)["']/g)) {
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
const one = (list, what) => {
  if (list.length !== 1) throw new Error(`expected one ${what} in dist/assets, found ${list.length}: ${list.join(', ')}`);
  return list[0];
};
const worker = one(asset(/^worker-[\w-]+\.js$/), 'worker');
// The glue chunks: what the worker imports on demand, one per module.
const glues = [...readFileSync(dist + worker, 'utf8').matchAll(/import\(\s*[`'"]\.\/(quant-[\w-]+\.js)[`'"]\s*\)/g)].map((m) => `assets/${m[1]}`);
const coreGlue = one(glues.filter((f) => f.startsWith('assets/quant-core-')), 'first-module glue chunk');
const fullGlue = one(glues.filter((f) => !f.startsWith('assets/quant-core-')), 'whole-core glue chunk');
const wasm = {
  core: one(asset(/^quant-core-(?!scalar-)[\w-]+\.wasm$/), 'quant-core wasm'),
  coreScalar: one(asset(/^quant-core-scalar-[\w-]+\.wasm$/), 'quant-core-scalar wasm'),
  full: one(asset(/^quant-(?!core-|scalar-)[\w-]+\.wasm$/), 'quant wasm'),
  fullScalar: one(asset(/^quant-scalar-[\w-]+\.wasm$/), 'quant-scalar wasm'),
};
const core = row('first module: wasm (SIMD) + glue', [wasm.core, coreGlue]);
const scalar = row('first module: wasm (scalar fallback) + glue', [wasm.coreScalar, coreGlue]);
row('worker (API, messages, files)', [worker]);
const first = row('page, first load', ['index.html', ...css, ...statics, worker, coreGlue, wasm.core]);
row('component (one script), first widget', ['quant-error-calculator.js', ...[...componentStatics()], worker, coreGlue, wasm.core]);
row('whole core, on demand: wasm (SIMD) + glue', [wasm.full, fullGlue]);
row('whole core, on demand: wasm (scalar) + glue', [wasm.fullScalar, fullGlue]);
row('PDF export, on demand', asset(/^(pdf|jspdf|html2canvas|purify|index\.es)[\w.-]*\.js$/));
console.table(rows);

const over = [];
if (core > BUDGET_CORE) over.push(`the first module's wasm + glue is ${(core / KB).toFixed(1)} KB, over its ${BUDGET_CORE / KB} KB budget`);
if (scalar > BUDGET_CORE) over.push(`its scalar build + glue is ${(scalar / KB).toFixed(1)} KB, over its ${BUDGET_CORE / KB} KB budget`);
if (first > BUDGET_FIRST_LOAD) over.push(`the page's first load is ${(first / KB).toFixed(1)} KB, over its ${BUDGET_FIRST_LOAD / KB} KB budget`);
if (over.length) {
  console.log(`Size budgets exceeded: ${over.join('; ')}.`);
  if (process.argv.includes('--strict')) process.exit(1);
} else {
  console.log('Size budgets met.');
}
