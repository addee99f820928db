// "Reproduce it": a short PyTorch or ONNX Runtime program that gives the same scale, zero point
// and codes as the current result, ready to copy. Samples go in inline when there are few;
// otherwise the program says where the tensor goes.
import { fmt } from '../shared/format.js';

const INLINE = 32;

// Python's repr of a float32 value: the shortest decimal that reads back to the same double.
const py = (v) => (Number.isInteger(v) ? `${v}.0` : String(v));

function tensorLine(values, shape, lib) {
  const n = values.length;
  if (n > INLINE) {
    return lib === 'torch'
      ? `x = torch.load("tensor.pt").float()  # your ${n.toLocaleString('en')} values${shape ? `, shape ${JSON.stringify(shape)}` : ''}`
      : `x = np.load("tensor.npy").astype(np.float32)  # your ${n.toLocaleString('en')} values`;
  }
  const list = Array.from(values, py).join(', ');
  const reshape = shape ? `.reshape(${shape.join(', ')})` : '';
  return lib === 'torch' ? `x = torch.tensor([${list}], dtype=torch.float32)${reshape}` : `x = np.array([${list}], dtype=np.float32)${reshape}`;
}

function pytorch(r, o) {
  const dtype = o.dtype === 'uint8' ? 'torch.quint8' : 'torch.qint8';
  const channel = o.granularity === 'channel';
  const axis = channel ? (o.axis < 0 ? o.axis + o.shape.length : o.axis) : 0;
  const qscheme = `torch.per_${channel ? 'channel' : 'tensor'}_${o.mode === 'symmetric' ? 'symmetric' : 'affine'}`;
  const observer = channel ? `PerChannelMinMaxObserver(ch_axis=${axis}, ` : 'MinMaxObserver(';
  const lines = [
    'import torch',
    `from torch.ao.quantization.observer import ${channel ? 'PerChannelMinMaxObserver' : 'MinMaxObserver'}`,
    '',
    tensorLine(r.values, channel ? o.shape : null, 'torch'),
    `obs = ${observer}dtype=${dtype}, qscheme=${qscheme}${o.reduceRange ? ', reduce_range=True' : ''})`,
  ];
  if (o.range) lines.push(`obs(torch.tensor([${py(o.range.min)}, ${py(o.range.max)}]))  # the range you gave`);
  else lines.push('obs(x)');
  lines.push('scale, zero_point = obs.calculate_qparams()');
  if (channel) {
    lines.push(`x_hat = torch.fake_quantize_per_channel_affine(x, scale, zero_point.int(), ${axis}, obs.quant_min, obs.quant_max)`);
    lines.push(`codes = torch.round(x_hat / scale.reshape(${JSON.stringify(o.shape.map((d, i) => (i === axis ? -1 : 1)))})).int() + zero_point.reshape(${JSON.stringify(o.shape.map((d, i) => (i === axis ? -1 : 1)))})`);
    lines.push(`print(scale[:3], zero_point[:3])  # ${r.groups.slice(0, 3).map((g) => `${fmt(g.scale)}/${g.zeroPoint}`).join(', ')}`);
  } else {
    lines.push('x_hat = torch.fake_quantize_per_tensor_affine(x, scale.item(), zero_point.item(), obs.quant_min, obs.quant_max)');
    lines.push('codes = torch.round(x_hat / scale).int() + zero_point');
    lines.push(`print(scale.item(), zero_point.item())  # ${r.scale} ${r.zeroPoint}`);
  }
  lines.push(`print(codes${channel ? '.flatten()' : ''}[:8])  # ${Array.from(r.codes.slice(0, 8)).join(', ')}`);
  return lines.join('\n');
}

function onnx(r, o) {
  const np = { int8: 'np.int8', uint8: 'np.uint8', int4: 'np.int8', uint4: 'np.uint8', int16: 'np.int16', uint16: 'np.uint16' }[o.dtype];
  const elem = { int8: 'INT8', uint8: 'UINT8', int4: 'INT4', uint4: 'UINT4', int16: 'INT16', uint16: 'UINT16' }[o.dtype];
  const opset = o.dtype.endsWith('8') ? 13 : 21;
  const channel = o.granularity === 'channel';
  const axis = channel ? (o.axis < 0 ? o.axis + o.shape.length : o.axis) : null;
  const scales = channel ? r.groups.map((g) => g.scale) : [r.scale];
  const zps = channel ? r.groups.map((g) => g.zeroPoint) : [r.zeroPoint];
  const list = (v) => (channel ? `[${v.join(', ')}]` : String(v[0]));
  return [
    'import numpy as np',
    'import onnxruntime as ort',
    'from onnx import TensorProto, helper, numpy_helper',
    '',
    tensorLine(r.values, channel ? o.shape : null, 'numpy'),
    `# onnxruntime.quantization's MinMax calibration gives these for this tensor (${o.dtype}, ${o.mode === 'symmetric' ? 'symmetric' : 'asymmetric'}${o.reduceRange ? ', reduce_range' : ''}):`,
    `scale = np.array(${list(scales.map(py))}, dtype=np.float32)`,
    `zero_point = np.array(${list(zps)}, dtype=${np})`,
    'nodes = [',
    `    helper.make_node("QuantizeLinear", ["x", "scale", "zero_point"], ["q"]${channel ? `, axis=${axis}` : ''}),`,
    `    helper.make_node("DequantizeLinear", ["q", "scale", "zero_point"], ["x_hat"]${channel ? `, axis=${axis}` : ''}),`,
    ']',
    'graph = helper.make_graph(nodes, "quantize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],',
    `    [helper.make_tensor_value_info("q", TensorProto.${elem}, list(x.shape)), helper.make_tensor_value_info("x_hat", TensorProto.FLOAT, list(x.shape))],`,
    `    [numpy_helper.from_array(scale, "scale"), helper.make_tensor("zero_point", TensorProto.${elem}, zero_point.shape, zero_point.tolist())])`,
    `model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ${opset})])`,
    'q, x_hat = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})',
    `print(q.flatten()[:8])  # ${Array.from(r.codes.slice(0, 8)).join(', ')}`,
  ].join('\n');
}

/** { language, text, note } for a result computed with a runtime profile; null for the formulas. */
export function snippet(result, options) {
  if (options.profile === 'pytorch') {
    return { language: 'python', text: pytorch(result, options), note: 'PyTorch 1.13 or later: the observer and fake-quantize calls this profile follows.' };
  }
  if (options.profile === 'onnx') {
    return { language: 'python', text: onnx(result, options),
      note: `onnx and onnxruntime: a two-node model (QuantizeLinear, DequantizeLinear) with these parameters${options.dtype.endsWith('4') ? ' (4-bit types need opset 21 and onnxruntime 1.18 or later)' : options.dtype.endsWith('16') ? ' (16-bit types need opset 21)' : ''}.` };
  }
  return null;
}
