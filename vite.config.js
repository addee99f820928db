// The page is built by Vite from web/ into dist/: ES modules, the worker as its own module, the
// wasm as an asset, no inline script (the served CSP forbids it). Three entries: the calculator
// (index.html), the demo documentation page (demo.html), and the web component as one stable
// file, dist/quant-error-calculator.js, that a documentation page loads with one script tag (its
// worker, wasm and shared chunks sit in dist/assets/, found relative to it).
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const web = (path) => fileURLToPath(new URL(`web/${path}`, import.meta.url));

export default defineConfig({
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
