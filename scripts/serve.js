// Serves the built page (dist/) on 127.0.0.1 (PORT, default 8080) with the headers a strict
// deployment uses: a Content-Security-Policy without eval or inline script ('wasm-unsafe-eval'
// is all the wasm needs). `node scripts/serve.js` runs it; tests import startServer().
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// frame-ancestors 'none': no other site frames the page (the component embeds as a script, not a
// frame). Every response carries the policy and nosniff, the errors too.
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const SECURITY = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' };
const TEXT = 'text/plain; charset=utf-8';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };

export function startServer({ root = fileURLToPath(new URL('../dist/', import.meta.url)), port = 0, host = '127.0.0.1' } = {}) {
  const base = root.endsWith(sep) ? root : root + sep;
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400, { 'content-type': TEXT, ...SECURITY }).end('Bad request\n');
      return;
    }
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    let size = -1;
    try {
      if (file.startsWith(base) && statSync(file).isFile()) size = statSync(file).size;
    } catch {}
    if (size < 0) {
      res.writeHead(404, { 'content-type': TEXT, ...SECURITY }).end('Not found\n');
      return;
    }
    // Hashed build assets never change: cached for good, so a worker restarted offline (a new
    // Calculate cancels the old one by replacing the worker) still finds its script and wasm.
    const immutable = /\/assets\/[^/]+-[A-Za-z0-9_-]{8}\.[a-z]+$/.test(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size, ...SECURITY,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const host = process.env.HOST ?? '127.0.0.1';
  const server = await startServer({ port: Number(process.env.PORT ?? 8080), host });
  console.log(`Quantization Error Calculator: http://${host}:${server.address().port}/  (Ctrl+C stops)`);
}
