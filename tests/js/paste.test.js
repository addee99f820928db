// What engineers paste (src/core/parse.h): Python, NumPy and PyTorch prints read as their values,
// with the notes inspectValues gives; hostile text refused with the field, the sample and the
// text; and after every refusal the same instance still computes the seed example exactly (the
// golden file). Both modules, the first (the page's) and the whole core.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';
import { checkCase, golden } from './golden.js';

const SEED_TEXT = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
const seedCase = golden.cases.find((c) => c.name === 'seed004-symmetric');

// [text, values, notes as [code, index]]
const ACCEPTED = [
  ['[0.1, 0.2]', [0.1, 0.2], []],
  ['[[1, 2], [3, 4]]', [1, 2, 3, 4], []],
  ['(0.1, 0.2)', [0.1, 0.2], []],
  ['tensor([0.1000, -0.2000])', [0.1, -0.2], []],
  ['tensor(0.5000)', [0.5], []],
  ['array([ 1.e-03, -0.e+00,  2.5e+00], dtype=float32)', [0.001, -0, 2.5], []],
  ['array([-0., 1.])', [-0, 1], []],
  ['tensor([1., 2.], dtype=torch.float16)', [1, 2], []],
  ['tensor([1., 2.], requires_grad=True)', [1, 2], []],
  ["tensor([[ 0.1000, -0.2000],\n        [ 0.3000,  0.4000]], device='cuda:0')", [0.1, -0.2, 0.3, 0.4], []],
  ['tensor([0.1, 0.2], grad_fn=<AddBackward0>)', [0.1, 0.2], []],
  ['tensor([], size=(0, 3))', [], []],
  ['tensor([0.1, 0.2], size=(2,), dtype=torch.quint8,\n       quantization_scheme=torch.per_tensor_affine, scale=0.1, zero_point=0)', [0.1, 0.2], []],
  ['Array([1., 2.], dtype=float32)', [1, 2], []],
  ['np.float32(0.5)', [0.5], []],
  ['[np.float32(0.5), np.float64(-1.25), np.int64(3)]', [0.5, -1.25, 3], []],
  ['−1.25, −0.92, 1e−3', [-1.25, -0.92, 0.001], []],
  ['tensor([0.1, 0.2, 0.3,  ..., 0.7, 0.8, 0.9])', [0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [['elided', 3]]],
  ['array([[1, 2, ..., 4],\n       ...,\n       [5, 6, ..., 8]])', [1, 2, 4, 5, 6, 8], [['elided', 2]]],
  ['[…, 1]', [1], [['elided', 0]]],
  ['1,5 2,5', [1, 5, 2, 5], [['decimal-comma', 0]]],
  ['3 0,1;0,25', [3, 0, 1, 0, 25], [['decimal-comma', 1]]],
  ['[1, ..., 9] 1,5 2', [1, 9, 1, 5, 2], [['elided', 1], ['decimal-comma', 2]]],
  ['[1,2,3]', [1, 2, 3], []],
  ['1,5', [1, 5], []],
  ['1.5,2.5 3', [1.5, 2.5, 3], []],
];

// [text, index, message]
const deep = '['.repeat(1e6);
const REFUSED = [
  ['[1, 2', 2, 'Sample 3: "]" is missing at the end of the text'],
  ['[1, 2]]', 2, 'Sample 3: "]" has no opening bracket'],
  ['1 2) 3', 2, 'Sample 3: ")" has no opening bracket'],
  ['tensor([1, 2)', 2, 'Sample 3: ")" where "]" was expected'],
  ['tensor(', 0, 'Sample 1: ")" is missing at the end of the text'],
  ['np.float32(', 0, 'Sample 1: ")" is missing at the end of the text'],
  ['tensor([1], dtype=)', 1, 'Sample 2: "dtype=" is not a keyword argument such as dtype=float32'],
  ['tensor([1], dtype=@@)', 1, 'Sample 2: "dtype=@@" is not a keyword argument such as dtype=float32'],
  ['array([1], dtype=float32!)', 1, 'Sample 2: "dtype=float32!" is not a keyword argument such as dtype=float32'],
  ["tensor([1], device='cuda:0)", 1, 'Sample 2: "device=\'cuda:0" is not a keyword argument such as dtype=float32'],
  ['dtype=float32', 0, 'Sample 1: "dtype=float32" is not a number'],
  ['foo(1)', 0, 'Sample 1: "foo(" is not a number'],
  ['[1, abc]', 1, 'Sample 2: "abc" is not a number'],
  ['tensor([1.0, nan])', 1, 'Sample 2: "nan" is not a finite number'],
  ['[1e999]', 0, 'Sample 1: "1e999" is outside the range of a double (about ±1.8e308)'],
  ['....', 0, 'Sample 1: "...." is not a number'],
  ['−−1', 0, 'Sample 1: "−−1" is not a number'],
  [deep, 0, 'Sample 1: "]" is missing at the end of the text'],
  [']'.repeat(1e6), 0, 'Sample 1: "]" has no opening bracket'],
  [`${deep}1${']'.repeat(999999)})`, 1, 'Sample 2: ")" where "]" was expected'],
];

function seedStillExact(qz) {
  const x = qz.parseValues(SEED_TEXT);
  assert.deepEqual(qz.inspectValues(SEED_TEXT).notes, []);
  for (const kernel of ['simd', 'scalar']) checkCase(seedCase, qz.analyze(x, { ...seedCase.options, kernel }));
}

for (const module of ['core', 'full']) {
  describe(`pasted text (${module === 'core' ? 'the first module' : 'the whole core'})`, () => {
    let qz;
    before(async () => {
      qz = await createQuantizer({ module });
    });

    test('what Python, NumPy and PyTorch print reads as its values, with notes', () => {
      for (const [text, values, notes] of ACCEPTED) {
        const r = qz.inspectValues(text);
        assert.ok(r.values instanceof Float64Array);
        assert.deepEqual(Array.from(r.values), values, text);
        values.forEach((v, i) => assert.ok(Object.is(r.values[i], v), `${text}: sample ${i} is ${v}, -0 kept`));
        assert.deepEqual(r.notes.map((n) => [n.code, n.index]), notes, text);
        for (const n of r.notes) assert.equal(typeof n.message, 'string');
        assert.deepEqual(Array.from(qz.parseValues(text)), values, 'parseValues reads the same values');
      }
    });

    test('the notes say what they mean', () => {
      const [elided] = qz.inspectValues('tensor([0.1, 0.2, 0.3,  ..., 0.7, 0.8, 0.9])').notes;
      assert.match(elided.message, /^"\.\.\." after sample 3 stands for values that were not printed: these are only part of the tensor/);
      assert.match(elided.message, /torch\.set_printoptions\(profile="full"\)/);
      assert.match(qz.inspectValues('[…, 2]').notes[0].message, /^"\.\.\." at the start stands for values/);
      const [comma] = qz.inspectValues('1,5 2,5').notes;
      assert.deepEqual(comma, { code: 'decimal-comma', index: 0, message: '"1,5" is read as two values, 1 and 5: if commas are decimal commas here, write 1.5' });
    });

    test('hostile text is refused precisely, and the seed example stays exact after each', () => {
      seedStillExact(qz);
      for (const [text, index, message] of REFUSED) {
        for (const read of [(t) => qz.parseValues(t), (t) => qz.inspectValues(t)]) {
          assert.throws(() => read(text), (e) => {
            assert.ok(e instanceof QuantizerError, String(e));
            assert.equal(e.field, 'values');
            assert.equal(e.index, index, text.slice(0, 40));
            assert.equal(e.message, message);
            return true;
          });
          seedStillExact(qz);
        }
      }
      assert.deepEqual(Array.from(qz.parseValues(`${deep}1, 2${']'.repeat(1e6)}`)), [1, 2], 'deep but balanced');
    });

    test('reading leaves nothing behind in the heap', () => {
      qz.parseValues(SEED_TEXT);
      const before = qz.heapInUse();
      for (const [text] of [...ACCEPTED, ...REFUSED.slice(0, 12)]) {
        try {
          qz.inspectValues(text);
        } catch {
          // refused: checked above
        }
      }
      qz.parseValues(SEED_TEXT);
      assert.equal(qz.heapInUse(), before);
    });
  });
}
