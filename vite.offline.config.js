// The offline single-file build (npm run build:offline → dist-offline/): the calculator page as
// one classic script with every dynamic import inlined (the PDF library too), the worker inlined
// and started from a Blob URL, the wasm and every other asset inlined as data: URLs.
// scripts/build-offline.js then folds the script and the CSS into the HTML.
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const web = (path) => fileURLToPath(new URL(`web/${path}`, import.meta.url));

export default defineConfig({
  root: 'web',
  base: './',
  resolve: { alias: [{ find: /^\.\/spawn\.js$/, replacement: web('src/app/spawn-inline.js') }] },
  build: {
    outDir: '../dist-offline',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: () => true,
    cssCodeSplit: false,
    modulePreload: false,
    rollupOptions: {
      input: web('index.html'),
      output: { format: 'iife', inlineDynamicImports: true },
    },
  },
  worker: { format: 'iife' },
});
