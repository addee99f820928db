// The README and docs/*.md: every relative link and image points to a file that exists, every
// #anchor to a heading of its target (GitHub's heading ids), every repository path written in
// backticks in the prose exists, and the README stays a first stop of at most 150 lines.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const FILES = [join(ROOT, 'README.md'), ...readdirSync(DOCS).filter((f) => f.endsWith('.md')).sort().map((f) => join(DOCS, f))];

/** The file's lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(text) {
  const out = [];
  let fence = null;
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(```+|~~~+)/.exec(line);
    if (m) {
      if (fence === null) fence = m[1][0];
      else if (m[1][0] === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ line, number: i + 1 });
  });
  return out;
}

/** GitHub's id for a heading: lower case, punctuation dropped (not - or _), spaces to hyphens; repeats get -1, -2, … */
export function headingIds(text) {
  const ids = new Set();
  const seen = new Map();
  for (const { line } of proseLines(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const plain = m[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

/** Markdown links and images in the prose: [text](target) and ![alt](target). */
function links(text) {
  const out = [];
  for (const { line, number } of proseLines(text)) {
    const code = line.replace(/`[^`]*`/g, (s) => ' '.repeat(s.length)); // no links inside code spans
    for (const m of code.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ target: m[1], number });
  }
  return out;
}

const name = (file) => relative(ROOT, file);

test('every relative link in the README and docs/ reaches a file, and every anchor a heading', () => {
  const problems = [];
  let checked = 0;
  for (const file of FILES) {
    const text = readFileSync(file, 'utf8');
    for (const { target, number } of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: and the like
      checked++;
      const [path, anchor] = target.split('#');
      const dest = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(dest)) {
        problems.push(`${name(file)}:${number}: ${target}: no file ${name(dest)}`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!dest.endsWith('.md') || statSync(dest).isDirectory()) {
        problems.push(`${name(file)}:${number}: ${target}: an anchor into a file that is not Markdown`);
      } else if (!headingIds(readFileSync(dest, 'utf8')).has(decodeURIComponent(anchor))) {
        problems.push(`${name(file)}:${number}: ${target}: no heading #${anchor} in ${name(dest)}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 30, `only ${checked} relative links found: is the link pattern still right?`);
});

// Built or generated places the prose names: they exist only after a build or a run.
const BUILT = /^(dist|dist-offline|build|node_modules)\/|^web\/src\/wasm\//;

test('every repository path written in backticks in the prose of the README and docs/ exists', () => {
  const problems = [];
  let checked = 0;
  for (const file of FILES) {
    for (const { line, number } of proseLines(readFileSync(file, 'utf8'))) {
      for (const m of line.matchAll(/`([^`\s]+)`/g)) {
        const path = m[1].replace(/[.,:;]$/, '');
        if (!/^(src|web|tests|scripts|bench|docs)\/[\w./-]*$/.test(path) || BUILT.test(path)) continue;
        checked++;
        if (!existsSync(join(ROOT, path))) problems.push(`${name(file)}:${number}: \`${path}\` does not exist`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 10, `only ${checked} paths found: is the path pattern still right?`);
});

test('heading ids follow GitHub: punctuation dropped, spaces to hyphens, repeats numbered', () => {
  const ids = headingIds('# The JS API\n## One analysis: `analyze()`\n### Runtime profiles: PyTorch and ONNX Runtime, bit for bit\n'
    + '## Notes\n## Notes\n```\n# not a heading\n```\n## 30 seconds with the page\n');
  assert.deepEqual([...ids], ['the-js-api', 'one-analysis-analyze', 'runtime-profiles-pytorch-and-onnx-runtime-bit-for-bit', 'notes',
    'notes-1', '30-seconds-with-the-page']);
});

test('the README is a first stop: at most 150 lines, with the two commands', () => {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  assert.ok(lines <= 150, `README.md has ${lines} lines`);
  assert.match(text, /^npm start +# /m);
  assert.match(text, /^npm test +# /m);
});
