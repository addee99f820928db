// `npm run build:offline`: the calculator as one self-contained HTML file,
// dist-offline/quant-error-calculator.html, that works from file:// with the network off. Vite
// builds the page with vite.offline.config.js (one classic script: every import, the worker, the
// PDF library and both wasm builds inlined); this folds that script and the CSS into the HTML.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist-offline/`;
execFileSync('npx', ['--no-install', 'vite', 'build', '-c', 'vite.offline.config.js', '--logLevel', 'error'], { cwd: root, stdio: 'inherit' });

let html = readFileSync(`${out}index.html`, 'utf8');
const assets = readdirSync(`${out}assets`);
const text = (pattern) => assets.filter((a) => pattern.test(a)).map((a) => readFileSync(`${out}assets/${a}`, 'utf8')).join('\n');
const js = text(/\.js$/);
const css = text(/\.css$/);
// No external script or style is left: the page's own tags go, their contents come inline (a
// classic script at the end of the body, where the document it works on exists).
html = html.replace(/<script type="module"[^>]*><\/script>\s*/g, '').replace(/<link rel="(stylesheet|modulepreload)"[^>]*>\s*/g, '');
if (/<script[^>]+src=|<link[^>]+rel="stylesheet"/.test(html)) throw new Error('build-offline: an external script or style is left in the page');
html = html.replace('</head>', () => `<style>\n${css.replaceAll('</style', '<\\/style')}\n</style>\n</head>`);
html = html.replace('</body>', () => `<script>\n${js.replaceAll('</script', '<\\/script')}\n</script>\n</body>`);
const file = `${out}quant-error-calculator.html`;
writeFileSync(file, html);
rmSync(`${out}assets`, { recursive: true });
rmSync(`${out}index.html`);
console.log(`${file.replace(root, '')}: ${(statSync(file).size / 1e6).toFixed(1)} MB, self-contained (open it from disk: file://)`);
