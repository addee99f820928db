// Tiny ONNX models written by hand for the tests: a minimal protobuf encoder (varints,
// length-delimited fields, packed repeated scalars) and the few messages a one-node graph needs
// (onnx/onnx.proto: ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto).

// ONNX Runtime's node binding, or why it does not load (a test then skips with that reason).
export let ort = null;
export let ortSkip = false;
try {
  const m = await import('onnxruntime-node');
  ort = m.default ?? m;
} catch (e) {
  ortSkip = `onnxruntime-node does not load here (${e.message.split('\n')[0]}); npm ci installs it from devDependencies`;
}

const TYPES = { float: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6 };

function varint(n) {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // negative int64: ten bytes, two's complement
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

const key = (field, wire) => varint((field << 3) | wire);
const bytes = (field, data) => [...key(field, 2), ...varint(data.length), ...data];
const text = (field, s) => bytes(field, [...new TextEncoder().encode(s)]);
const int = (field, n) => [...key(field, 0), ...varint(n)];

// A tensor's values as raw little-endian bytes of its ONNX type.
function raw(type, values) {
  const View = { float: Float32Array, uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, int32: Int32Array }[type];
  return [...new Uint8Array(View.from(values).buffer)];
}

function tensor(name, type, dims, values) {
  return [...dims.flatMap((d) => int(1, d)), ...int(2, TYPES[type]), ...text(8, name), ...bytes(9, raw(type, values))];
}

function valueInfo(name, type, dims) {
  const shape = dims.flatMap((d) => bytes(1, int(1, d)));
  const tensorType = [...int(1, TYPES[type]), ...bytes(2, shape)];
  return [...text(1, name), ...bytes(2, bytes(1, tensorType))];
}

function node(op, inputs, outputs, attributes = []) {
  return [...inputs.flatMap((s) => text(1, s)), ...outputs.flatMap((s) => text(2, s)), ...text(3, `${op}_${outputs[0]}`),
    ...text(4, op), ...attributes.flatMap((a) => bytes(5, a))];
}

/** An int attribute (AttributeProto type INT). */
export function intAttribute(name, value) {
  return [...text(1, name), ...int(3, value), ...int(20, 2)];
}

/**
 * A model as bytes: `nodes` [{ op, inputs, outputs, attributes }], `inputs` and `outputs`
 * [{ name, type, dims }], `initializers` [{ name, type, dims, values }].
 */
export function onnxModel({ nodes, inputs, outputs, initializers = [], opset = 13 }) {
  const graph = [
    ...nodes.flatMap((n) => bytes(1, node(n.op, n.inputs, n.outputs, n.attributes))),
    ...text(2, 'g'),
    ...initializers.flatMap((t) => bytes(5, tensor(t.name, t.type, t.dims, t.values))),
    ...inputs.flatMap((v) => bytes(11, valueInfo(v.name, v.type, v.dims))),
    ...outputs.flatMap((v) => bytes(12, valueInfo(v.name, v.type, v.dims))),
  ];
  const opsetId = [...text(1, ''), ...int(2, opset)];
  return Uint8Array.from([...int(1, 8), ...text(2, 'quant-error-calculator tests'), ...bytes(7, graph), ...bytes(8, opsetId)]);
}
