// The page is built by Vite from web/ into dist/: ES modules, the worker as its own module, the
// wasm as an asset, no inline script (the served CSP forbids it). Three entries: the calculator
// (index.html), the demo documentation page (demo.html), and the web component as one stable
// file, dist/quant-error-calculator.js, that a documentation page loads with one script tag (its
// worker, wasm and shared chunks sit in dist/assets/, found relative to it).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const web = (path) => fileURLToPath(new URL(`web/${path}`, import.meta.url));

// dist/sw.js: the service worker (web/sw.js) with the list of every file the build wrote and a
// version that changes whenever one of them does.
function serviceWorker() {
  return {
    name: 'quant-error-service-worker',
    apply: 'build',
    enforce: 'post',
    generateBundle(_, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith('.map')).sort();
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      const source = readFileSync(web('sw.js'), 'utf8').replace("'__VERSION__'", JSON.stringify(version))
        .replace('__FILES__', JSON.stringify(files.map((f) => `./${f}`)));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  plugins: [serviceWorker()],
  root: 'web',
  base: './',
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    rollupOptions: {
      input: { index: web('index.html'), demo: web('demo.html'), 'quant-error-calculator': web('src/component/element.js') },
      // The component's entry keeps its signature (it exports the element class).
      preserveEntrySignatures: 'exports-only',
      output: { entryFileNames: (chunk) => (chunk.name === 'quant-error-calculator' ? '[name].js' : 'assets/[name]-[hash].js') },
    },
  },
  worker: { format: 'es' },
});
