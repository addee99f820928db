// Tensor files in the browser (or node): the header through the core's checked readers, then one
// tensor at a time as numbers in C order. Blobs are read slice by slice: the whole file is never
// copied, only the tensor being analysed.
import { GGML_TYPES, QuantizerError } from '../quantizer.js';

/** 'npy', 'safetensors' or 'gguf' from the file name, or null. */
export function tensorFileKind(name) {
  if (/\.npy$/i.test(name)) return 'npy';
  if (/\.safetensors$/i.test(name)) return 'safetensors';
  if (/\.gguf$/i.test(name)) return 'gguf';
  return null;
}

const bytesOf = async (blob, start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer());

const RAW_DTYPES = { float64: 8, float32: 4, float16: 2, bfloat16: 2, int8: 1, uint8: 1, int16: 2, int32: 4 };

/**
 * A raw binary file as one tensor: `dtype` (float64/32/16, bfloat16, int8/16/32, uint8),
 * `bigEndian`, and `shape` (null: one axis of every value the file holds).
 */
export function rawTensor(blob, name, { dtype, bigEndian = false, shape = null }) {
  const width = RAW_DTYPES[dtype];
  if (!width) throw new QuantizerError(`Unknown dtype "${dtype}" for a raw file`, 'rawDtype');
  if (blob.size % width !== 0) throw new QuantizerError(`${name}: ${blob.size} bytes is not a whole number of ${dtype} values (${width} bytes each)`, 'rawDtype');
  const count = blob.size / width;
  const dims = shape ?? [count];
  const want = dims.reduce((a, b) => a * b, 1);
  if (want !== count) throw new QuantizerError(`${name}: shape ${dims.join('×')} holds ${want} values, but the file holds ${count} ${dtype} values`, 'rawShape');
  const skipped = count === 0 ? `empty: shape [${dims.join(', ')}] holds no values` : ''; // as the core's readers list one
  return { name, dtype, fileDtype: dtype, bigEndian, fortranOrder: false, shape: dims, offset: 0, count, bytes: blob.size, skipped };
}

/**
 * The values of one column of a CSV or TSV text: the delimiter is a tab when the first line has
 * one, else a comma or a semicolon; a first row that is not all numbers is the header. `column`
 * is a header name or a 1-based number. Returns { name, columns, values }; a cell that is not a
 * number is an error naming its row.
 */
export function csvColumn(qz, text, column) {
  const lines = text.split(/\r\n|\n|\r/).filter((l) => l.trim() !== '');
  if (!lines.length) throw new QuantizerError('The file has no rows', 'csvColumn');
  const delimiter = lines[0].includes('\t') ? '\t' : lines[0].includes(';') && !lines[0].includes(',') ? ';' : ',';
  const split = (l) => l.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const first = split(lines[0]);
  const numeric = (c) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(c);
  const header = first.some((c) => !numeric(c)) ? first : null;
  const columns = header ?? first.map((_, i) => `column ${i + 1}`);
  let index = typeof column === 'number' ? column - 1 : columns.indexOf(column);
  if (column === undefined || column === null || column === '') index = 0;
  if (!(index >= 0 && index < columns.length)) {
    throw new QuantizerError(`No column "${column}": the file has ${columns.map((c) => `"${c}"`).join(', ')}`, 'csvColumn');
  }
  const rows = lines.slice(header ? 1 : 0);
  const cells = rows.map((l) => split(l)[index] ?? '');
  try {
    return { name: columns[index], columns, values: qz.parseValues(cells.join('\n')) };
  } catch (e) {
    const row = e.index !== null && e.index !== undefined ? e.index + (header ? 2 : 1) : null;
    throw new QuantizerError(row ? `Row ${row}, column "${columns[index]}": "${cells[e.index]}" is not a number` : e.message, 'csvColumn', e.index);
  }
}

/** The tensors of a .npy or .safetensors Blob (throws a QuantizerError naming what is wrong). */
export async function indexTensorFile(qz, blob, name) {
  const kind = tensorFileKind(name);
  if (!kind) throw new QuantizerError(`${name}: not a .npy, .safetensors or .gguf file`, 'file');
  // The header's length is known after a few bytes (GGUF: after parsing; it asks for more).
  let have = Math.min(blob.size, kind === 'npy' ? 12 : kind === 'safetensors' ? 8 : 1 << 20);
  for (let tries = 0; tries < 16; tries++) {
    let r;
    try {
      r = qz.tensorHeader(kind, await bytesOf(blob, 0, have), blob.size);
    } catch (e) {
      if (!(e instanceof QuantizerError)) throw e; // a trapped instance: the worker replaces it
      throw new QuantizerError(`${name}: ${e.message}`, 'file');
    }
    if (r.tensors) {
      // A GGUF file's metadata (what llama-quantize's recipes read) rides along on the list.
      return Object.assign(r.tensors.map((t) => ({ ...t, name: t.name || name })), { metadata: r.metadata ?? null });
    }
    have = Math.min(blob.size, r.need);
  }
  throw new QuantizerError(`${name}: the header could not be read`, 'file');
}

let f16Table = null;

/**
 * Values [first, first + count) of a tensor, in the file's order (a part of a tensor to stream;
 * C order for C-ordered files), as readTensor converts them. For llama.cpp's block types in GGUF
 * files `first` and `count` are whole blocks (bytes / count is then a binary fraction, 0.5625 for
 * Q4_K, so the byte offsets are exact).
 */
export async function readTensorRange(qz, blob, t, first, count) {
  const width = t.bytes / t.count;
  return readTensor(qz, blob, { ...t, fortranOrder: false, offset: t.offset + first * width, count, bytes: count * width, shape: [count] });
}

/**
 * One tensor's values in C order: Float32Array where float32 holds them exactly (float32, float16,
 * bfloat16, 8- and 16-bit integers, and llama.cpp's block types as ggml dequantizes them),
 * Float64Array otherwise (float64, int32).
 */
export async function readTensor(qz, blob, t) {
  const bytes = await bytesOf(blob, t.offset, t.offset + t.bytes);
  if (bytes.length !== t.bytes) throw new QuantizerError(`Tensor "${t.name}": the file ends before its data`, 'file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const le = !t.bigEndian;
  const n = t.count;
  const hostLe = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  // The common cases need no loop: the file's bytes are the host's numbers (a fresh, aligned buffer).
  if (le === hostLe && bytes.byteOffset === 0) {
    if (t.dtype === 'float32') return orderOf(new Float32Array(bytes.buffer, 0, n), t);
    if (t.dtype === 'float64') return orderOf(new Float64Array(bytes.buffer, 0, n), t);
  }
  let out;
  switch (t.dtype) {
    case 'float64':
      out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, le);
      break;
    case 'float32':
      out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, le);
      break;
    case 'float16':
      f16Table ??= qz.describeFormat({ format: 'fp16' }).values;
      out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16Table[view.getUint16(i * 2, le)];
      break;
    case 'bfloat16': {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, le) << 16;
      out = new Float32Array(bits.buffer);
      break;
    }
    case 'int8': out = Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, n)); break;
    case 'uint8': out = Float32Array.from(bytes.subarray(0, n)); break;
    case 'int16':
      out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, le);
      break;
    case 'int32':
      out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, le);
      break;
    default:
      if (GGML_TYPES.includes(t.dtype) || t.dtype === 'mxfp4' || t.dtype === 'nvfp4') return qz.dequantizeGgml(t.dtype, bytes);
      throw new QuantizerError(`Tensor "${t.name}": ${t.skipped || `dtype ${t.fileDtype} is not read`}`, 'file');
  }
  return orderOf(out, t);
}

const orderOf = (values, t) => (t.fortranOrder ? cOrder(values, t.shape) : values);

// A Fortran-ordered tensor's values in C order.
function cOrder(f, shape) {
  const out = new f.constructor(f.length);
  const rank = shape.length;
  const index = new Array(rank).fill(0);
  for (let c = 0; c < out.length; c++) {
    let k = 0, stride = 1;
    for (let d = 0; d < rank; d++) {
      k += index[d] * stride;
      stride *= shape[d];
    }
    out[c] = f[k];
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
