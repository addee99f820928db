// Reads tests/data/golden.json and compares an analyze() result with a case's expectations:
// codes, clip flags, zero point and code range exactly; reconstructions and errors bit for bit
// (the same IEEE operations in the same order); sums-based metrics to 1e-12 relative (the
// generator sums exactly with math.fsum, the core in double lanes), or 1e-6 for float32 samples
// in float32 arithmetic, whose terms the core sums in float32 blocks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const golden = JSON.parse(readFileSync(new URL('../data/golden.json', import.meta.url), 'utf8'));

const fromJson = (v) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);

export function samplesOf(c) {
  return c.float32 ? Float32Array.from(c.values) : Float64Array.from(c.values);
}

export function close(actual, expected, what, rel = 1e-12) {
  expected = fromJson(expected);
  if (expected === null || actual === null || !Number.isFinite(expected)) {
    assert.equal(actual, expected, what);
    return;
  }
  const tol = rel * Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);
}

// Exact equality element by element; -0 equals 0 (x̂ of a negative value rounded to code 0 is -0).
function sameNumbers(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

export function checkCase(c, r) {
  const e = c.expected;
  for (const key of ['zeroPoint', 'qmin', 'qmax']) assert.equal(r[key], e[key], `${c.name}: ${key}`);
  for (const key of ['scale', 'rangeMin', 'rangeMax']) close(r[key], e[key], `${c.name}: ${key}`, 1e-15);
  assert.deepEqual(Array.from(r.codes), e.codes, `${c.name}: codes`);
  assert.deepEqual(Array.from(r.clipped, Boolean), e.clipped, `${c.name}: clipped`);
  sameNumbers(r.dequantized, e.dequantized, `${c.name}: dequantized`);
  sameNumbers(r.errors, e.errors, `${c.name}: errors`);
  const rel = c.float32 && c.options.arithmetic === 'float32' ? 1e-6 : 1e-12;
  for (const [key, value] of Object.entries(e.metrics)) {
    assert.ok(key in r.metrics, `${c.name}: metric ${key} is missing`);
    close(r.metrics[key], value, `${c.name}: ${key}`, rel);
  }
  for (const [key, { value, tolerance }] of Object.entries(c.seedSays ?? {})) {
    const actual = key in r.metrics ? r.metrics[key] : r[key];
    assert.ok(Math.abs(actual - value) <= tolerance, `${c.name}: the seed says ${key} ≈ ${value}, got ${actual}`);
  }
}

/** Whether Debian's python3 can import torch (the reference generators' checks need it). */
export function hasTorch() {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
