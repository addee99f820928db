// The offline single-file build (npm run build:offline → dist-offline/): the calculator page as
// one classic script with every dynamic import inlined (the PDF library too), the worker inlined
// and started from a Blob URL, both wasm builds and every other asset inlined as data: URLs.
// scripts/build-offline.js then folds the script and the CSS into the HTML.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const web = (path) => fileURLToPath(new URL(`web/${path}`, import.meta.url));

// virtual:offline-wasm: both wasm builds as data: URLs, for spawn-inline.js.
const offlineWasm = {
  name: 'offline-wasm',
  resolveId: (id) => (id === 'virtual:offline-wasm' ? '\0offline-wasm' : null),
  load(id) {
    if (id !== '\0offline-wasm') return null;
    const data = (file) => JSON.stringify(`data:application/wasm;base64,${readFileSync(web(`src/wasm/${file}`)).toString('base64')}`);
    return `export const simd = ${data('quant.wasm')};\nexport const scalar = ${data('quant-scalar.wasm')};\n`;
  },
};

export default defineConfig({
  plugins: [offlineWasm],
  root: 'web',
  base: './',
  resolve: { alias: [{ find: /^\.\/spawn\.js$/, replacement: web('src/shared/spawn-inline.js') }] },
  build: {
    outDir: '../dist-offline',
    emptyOutDir: true,
    target: 'es2022',
    // Everything inline but the wasm, which spawn-inline.js inlines once for the worker (the
    // worker's own references to it stay files this build drops).
    assetsInlineLimit: (file) => !file.endsWith('.wasm'),
    cssCodeSplit: false,
    modulePreload: false,
    rollupOptions: {
      input: web('index.html'),
      output: { format: 'iife', inlineDynamicImports: true },
    },
  },
  worker: { format: 'iife' },
});
