// Tensor files the tests write: a small GGUF and .safetensors files of float32 tensors.

// A GGUF v3 file: an F32 tensor (ne [3, 2]), an F16 one and a Q8_0 one (one block: d = 0.5,
// q = j − 16, so its values are Q8_0_VALUES).
export const Q8_0_VALUES = Array.from({ length: 32 }, (_, j) => (j - 16) * 0.5);
export function ggufBytes() {
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (t) => { u64(Buffer.byteLength(t)); parts.push(Buffer.from(t)); };
  parts.push(Buffer.from('GGUF'));
  u32(3); u64(3); u64(1);
  str('general.architecture'); u32(8); str('llama');
  str('blk.0.weight'); u32(2); u64(3); u64(2); u32(0); u64(0);
  str('blk.0.norm'); u32(1); u64(3); u32(1); u64(32);
  str('blk.0.q'); u32(1); u64(32); u32(8); u64(64);
  let head = Buffer.concat(parts);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
  const w = Buffer.from(Float32Array.from([1.5, -2, 0.25, 3, -0.5, 4]).buffer);
  const h = Buffer.from(Uint16Array.from([0x3c00, 0x4000, 0xbc00]).buffer);
  const q8 = Buffer.alloc(34);
  q8.writeUInt16LE(0x3800); // float16 0.5
  for (let j = 0; j < 32; j++) q8.writeInt8(j - 16, 2 + j);
  return Buffer.concat([head, w, Buffer.alloc(8), h, Buffer.alloc(26), q8]);
}

// A .safetensors file of float32 tensors (and `extra` entries of other dtypes with zero bytes).
export function safetensorsBytes(tensors, extra = {}) {
  const header = {};
  const parts = [];
  let at = 0;
  for (const [name, x] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: [x.length], data_offsets: [at, at + x.byteLength] };
    parts.push(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    at += x.byteLength;
  }
  for (const [name, { dtype, shape, bytes }] of Object.entries(extra)) {
    header[name] = { dtype, shape, data_offsets: [at, at + bytes] };
    parts.push(Buffer.alloc(bytes));
    at += bytes;
  }
  const text = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([length, text, ...parts]);
}
