// Every option's values with their labels, written once. The page's selects, the compare editor,
// the component and the API's lists (quantizer.js) are filled from these tables, and a test checks
// them against the core's own names (tests/js/choices.test.js).
//
// A row is { value, label, short }: `label` for a form's select, `short` where space is tight (a
// compare row, a widget's heading, a CSV); extra facts where a table needs them.
const table = (rows) => Object.freeze(rows.map(([value, label, extra = {}]) => Object.freeze({ value, label, short: label, ...extra })));

// group: 'integer' | 'float' (one value per code) | 'block' (a shared scale per block).
export const FORMATS = table([
  ['int', 'Integer (scale and zero point)', { short: 'Integer', group: 'integer'}],
  ['fp16', 'FP16 (IEEE half)', { short: 'FP16', group: 'float', bits: 16}],
  ['bf16', 'BF16 (bfloat16)', { short: 'BF16', group: 'float', bits: 16}],
  ['fp8-e4m3', 'FP8 E4M3 (E4M3FN)', { short: 'FP8 E4M3', group: 'float', bits: 8}],
  ['fp8-e5m2', 'FP8 E5M2', { group: 'float', bits: 8}],
  ['fp6-e3m2', 'FP6 E3M2', { group: 'float', bits: 6}],
  ['fp6-e2m3', 'FP6 E2M3', { group: 'float', bits: 6}],
  ['fp4-e2m1', 'FP4 E2M1', { group: 'float', bits: 4}],
  ['custom', 'Custom minifloat', { short: 'Custom minifloat', group: 'float'}],
  ['mxfp8-e4m3', 'MXFP8 E4M3 (blocks of 32)', { short: 'MXFP8 E4M3', group: 'block', block: 32}],
  ['mxfp8-e5m2', 'MXFP8 E5M2 (blocks of 32)', { short: 'MXFP8 E5M2', group: 'block', block: 32}],
  ['mxfp6-e3m2', 'MXFP6 E3M2 (blocks of 32)', { short: 'MXFP6 E3M2', group: 'block', block: 32}],
  ['mxfp6-e2m3', 'MXFP6 E2M3 (blocks of 32)', { short: 'MXFP6 E2M3', group: 'block', block: 32}],
  ['mxfp4', 'MXFP4 (blocks of 32)', { short: 'MXFP4', group: 'block', block: 32}],
  ['mxint8', 'MXINT8 (blocks of 32)', { short: 'MXINT8', group: 'block', block: 32}],
  ['nvfp4', 'NVFP4 (blocks of 16)', { short: 'NVFP4', group: 'block', block: 16}],
  ['nf4', 'NF4 (blocks of 64)', { short: 'NF4', group: 'block', block: 64}],
  // llama.cpp's block types, ggml's names in lower case, bit for bit as ggml quantizes them (rows
  // along the last axis of the shape); bpw: bits per weight, scales included.
  ['q8_0', 'Q8_0 (8.5 bits per weight)', { short: 'Q8_0', group: 'gguf', block: 32, bpw: 8.5, equation: 'd·q' }],
  ['q4_0', 'Q4_0 (4.5 bpw)', { short: 'Q4_0', group: 'gguf', block: 32, bpw: 4.5, equation: 'd·(q − 8)' }],
  ['q4_1', 'Q4_1 (5 bpw)', { short: 'Q4_1', group: 'gguf', block: 32, bpw: 5, equation: 'd·q + m' }],
  ['q5_0', 'Q5_0 (5.5 bpw)', { short: 'Q5_0', group: 'gguf', block: 32, bpw: 5.5, equation: 'd·(q − 16)' }],
  ['q5_1', 'Q5_1 (6 bpw)', { short: 'Q5_1', group: 'gguf', block: 32, bpw: 6, equation: 'd·q + m' }],
  ['q2_k', 'Q2_K (2.625 bpw)', { short: 'Q2_K', group: 'gguf', block: 256, bpw: 2.625, equation: 'd·sc·q − dmin·m' }],
  ['q3_k', 'Q3_K (3.4375 bpw)', { short: 'Q3_K', group: 'gguf', block: 256, bpw: 3.4375, equation: 'd·(sc − 32)·(q − 4)' }],
  ['q4_k', 'Q4_K (4.5 bpw)', { short: 'Q4_K', group: 'gguf', block: 256, bpw: 4.5, equation: 'd·sc·q − dmin·m' }],
  ['q5_k', 'Q5_K (5.5 bpw)', { short: 'Q5_K', group: 'gguf', block: 256, bpw: 5.5, equation: 'd·sc·q − dmin·m' }],
  ['q6_k', 'Q6_K (6.5625 bpw)', { short: 'Q6_K', group: 'gguf', block: 256, bpw: 6.5625, equation: 'd·sc·(q − 32)' }],
  ['iq4_nl', 'IQ4_NL (4.5 bpw)', { short: 'IQ4_NL', group: 'gguf', block: 32, bpw: 4.5, equation: 'd·v[q]' }],
  ['iq4_xs', 'IQ4_XS (4.25 bpw)', { short: 'IQ4_XS', group: 'gguf', block: 256, bpw: 4.25, equation: 'd·(sc − 32)·v[q]' }],
  ['tq1_0', 'TQ1_0 (1.6875 bpw, ternary)', { short: 'TQ1_0', group: 'gguf', block: 256, bpw: 1.6875, equation: 'd·t, t ∈ {−1, 0, 1}' }],
  ['tq2_0', 'TQ2_0 (2.0625 bpw, ternary)', { short: 'TQ2_0', group: 'gguf', block: 256, bpw: 2.0625, equation: 'd·t, t ∈ {−1, 0, 1}' }],
]);

export const FORMAT_GROUPS = Object.freeze({ integer: 'Integer', float: 'Floating point', block: 'Block formats (a scale per block)',
  gguf: 'llama.cpp types (GGUF)' });

export const MODES = table([
  ['symmetric', 'Symmetric signed', { short: 'symmetric', signed: true}],
  ['asymmetric', 'Asymmetric signed', { short: 'asymmetric', signed: true}],
  ['asymmetric-unsigned', 'Asymmetric unsigned', { short: 'unsigned', signed: false}],
]);

// `directed`: the rule always rounds one way, so its error has a bias of its own.
export const ROUNDINGS = table([
  ['half-even', 'Half to even', { short: 'half to even'}],
  ['half-away', 'Half away from zero', { short: 'half away from zero'}],
  ['half-up', 'Half up (toward +∞)', { short: 'half up'}],
  ['floor', 'Floor (toward −∞)', { short: 'floor', directed: true}],
  ['ceil', 'Ceiling (toward +∞)', { short: 'ceiling', directed: true}],
  ['toward-zero', 'Toward zero', { short: 'toward zero', directed: true}],
  ['stochastic', 'Stochastic (seeded)', { short: 'stochastic'}],
]);

export const CALIBRATIONS = table([
  ['minmax', 'Min-max'],
  ['percentile', 'Percentile'],
  ['mse', 'MSE-optimal'],
  ['entropy', 'Entropy (KL)'],
]);

// Where the range comes from: typed in, or chosen from the samples by a calibration.
export const RANGE_SOURCES = table([
  ['custom', 'Custom range'],
  ['samples', 'Derive from samples'],
]);

export const GRANULARITIES = table([
  ['tensor', 'Per tensor'],
  ['channel', 'Per channel'],
  ['group', 'Per group'],
]);

export const PROFILES = table([
  ['formula', 'Textbook formulas', { short: 'formulas'}],
  ['pytorch', 'PyTorch (torch.ao.quantization)', { short: 'PyTorch'}],
  ['onnx', 'ONNX Runtime (QuantizeLinear)', { short: 'ONNX Runtime'}],
  // ggml's own variants of the OCP formats MXFP4 and NVFP4 (with format 'mxfp4' or 'nvfp4'), not an integer profile.
  ['ggml', 'llama.cpp (ggml\'s MXFP4 and NVFP4)', { short: 'ggml', integer: false}],
]);

// The runtimes' integer types; `profiles` says which runtime has each, `signed` decides the mode.
export const DTYPES = table([
  ['int8', 'int8 (qint8)', { signed: true, profiles: ['pytorch', 'onnx']}],
  ['uint8', 'uint8 (quint8)', { signed: false, profiles: ['pytorch', 'onnx']}],
  ['int4', 'int4 (ONNX)', { signed: true, profiles: ['onnx']}],
  ['uint4', 'uint4 (ONNX)', { signed: false, profiles: ['onnx']}],
  ['int16', 'int16 (ONNX)', { signed: true, profiles: ['onnx']}],
  ['uint16', 'uint16 (ONNX)', { signed: false, profiles: ['onnx']}],
]);

// Profile 'onnx': whose parameters (src/core/profiles.h).
export const ONNX_OPS = table([
  ['quantize-linear', 'QuantizeLinear, onnxruntime.quantization\'s MinMax (float64)', { short: 'QuantizeLinear' }],
  ['dynamic-quantize-linear', 'DynamicQuantizeLinear, the op\'s own (float32, uint8)', { short: 'DynamicQuantizeLinear' }],
]);

export const OVERFLOWS = table([
  ['saturate', 'Saturate to the largest value'],
  ['inf-nan', 'To Inf or NaN (where the format has them)'],
]);

export const FORMAT_SCALES = table([
  ['none', 'None (values as they are)'],
  ['amax', 'amax / format max (as FP8 deployments do)'],
]);

// How an OCP MX block's E8M0 scale 2^k is rounded from the block's amax (src/core/formats.h: MxScale).
export const MX_SCALES = table([
  ['floor', 'Floor: 2^(floor(log2 amax) − emax) (OCP MX v1.0)', { short: 'floor' }],
  ['ceil', 'Ceiling: 2^(ceil(log2 amax) − emax)', { short: 'ceil' }],
  ['even', 'Even: amax rounded to the element\'s mantissa first', { short: 'even' }],
  ['rceil', 'RCEIL: 2^ceil(log2(amax / max)) (NVIDIA cvt.rp.ue8m0x2)', { short: 'rceil' }],
]);

export const CUSTOM_SPECIALS = table([
  ['ieee', 'IEEE: top exponent is Inf/NaN'],
  ['finite-nan', 'One NaN per sign, no Inf (like E4M3FN)'],
  ['none', 'None: every code is a number'],
]);

// Through a layer (qz.layer): whose requantization, which accumulator, what a partial sum does past
// the type's range, the function between two layers, the output codes' type.
export const LAYER_PROFILES = table([
  ['formula', 'Textbook formula (round(acc·M) + z in double)', { short: 'formula' }],
  ['onnx', 'ONNX Runtime (QLinearMatMul, float requantization)', { short: 'ONNX Runtime' }],
  ['tflite', 'TensorFlow Lite / gemmlowp (fixed-point multiplier)', { short: 'TFLite' }],
]);

export const ACCUMULATORS = table([
  ['int32', 'int32 (integer codes)', { short: 'int32' }],
  ['int16', 'int16 (integer codes)', { short: 'int16' }],
  ['float32', 'float32 (dequantized, then a float32 GEMM)', { short: 'float32' }],
]);

export const ACCUMULATOR_OVERFLOWS = table([
  ['wrap', 'Wrap around (two\'s complement)', { short: 'wrap' }],
  ['saturate', 'Saturate each partial sum', { short: 'saturate' }],
]);

export const ACTIVATIONS = table([
  ['relu', 'ReLU'],
  ['gelu', 'GELU (erf)'],
  ['silu', 'SiLU (x·σ(x))'],
]);

export const OUTPUT_DTYPES = table([
  ['int8', 'int8 [−128, 127]'],
  ['uint8', 'uint8 [0, 255]'],
]);

export const values = (rows) => Object.freeze(rows.map((r) => r.value));
export const choice = (rows, value) => rows.find((r) => r.value === value) ?? null;
export const labelOf = (rows, value) => choice(rows, value)?.label ?? value;
export const shortOf = (rows, value) => choice(rows, value)?.short ?? value;
export const formatGroup = (format) => choice(FORMATS, format)?.group ?? null;
