// The page is built by Vite from web/ into dist/: ES modules, the worker as its own module, the
// wasm as an asset, no inline script (the served CSP forbids it).
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web',
  base: './',
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0 },
  worker: { format: 'es' },
});
