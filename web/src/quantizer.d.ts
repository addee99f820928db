// Types of the JS API (web/src/quantizer.js). A metric that is undefined for the data (SQNR of an
// all-zero signal, percentiles without per-sample outputs) is null.

export type Mode = 'symmetric' | 'asymmetric' | 'asymmetric-unsigned';
export type Rounding = 'half-even' | 'half-away' | 'half-up' | 'floor' | 'ceil' | 'toward-zero' | 'stochastic';
export type CalibrationMethod = 'minmax' | 'percentile' | 'mse' | 'entropy';
export type Granularity = 'tensor' | 'channel' | 'group';
export type Arithmetic = 'float64' | 'float32';
/** llama.cpp's block types (ggml's names in lower case); rows run along the last axis of `shape`. */
export type GgmlType = 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | 'q5_1' | 'q2_k' | 'q3_k' | 'q4_k' | 'q5_k' | 'q6_k' | 'iq4_nl' | 'iq4_xs'
  | 'tq1_0' | 'tq2_0';
export type FormatName = 'int' | 'fp16' | 'bf16' | 'fp8-e4m3' | 'fp8-e5m2' | 'fp6-e3m2' | 'fp6-e2m3' | 'fp4-e2m1' | 'custom' | 'mxfp8-e4m3'
  | 'mxfp8-e5m2' | 'mxfp6-e3m2' | 'mxfp6-e2m3' | 'mxfp4' | 'mxint8' | 'nvfp4' | 'nf4' | GgmlType;
/** 'ggml': llama.cpp's conventions; with it, format 'mxfp4' and 'nvfp4' are ggml's variants of them. */
export type Profile = 'formula' | 'pytorch' | 'onnx' | 'ggml';
export type QDtype = 'int8' | 'uint8' | 'int4' | 'uint4' | 'int16' | 'uint16';
/**
 * How an OCP MX block's E8M0 scale X = 2^k is rounded from the block's amax (emax: the element's
 * largest power of two; max: its largest value): 'floor' k = floor(log2 amax) − emax (OCP MX v1.0),
 * 'ceil' k = ceil(log2 amax) − emax, 'even' amax rounded to the element's mantissa width first,
 * 'rceil' k = ceil(log2(amax / max)) (NVIDIA's cvt.rp.satfinite.ue8m0x2; never saturates).
 */
export type MxScale = 'floor' | 'ceil' | 'even' | 'rceil';
export type Samples = Float64Array | Float32Array | ArrayLike<number>;

export interface CustomFormat {
  exponentBits: number;
  mantissaBits: number;
  bias: number;
  specials: 'ieee' | 'finite-nan' | 'none';
}

/** Every option is optional; the defaults are DEFAULT_OPTIONS. */
export interface Options {
  bits?: number;
  mode?: Mode;
  rounding?: Rounding;
  seed?: number;
  range?: { min: number; max: number } | null;
  calibration?: CalibrationMethod;
  percentile?: number;
  granularity?: Granularity;
  shape?: number[] | null;
  axis?: number;
  groupSize?: number | null;
  qmin?: number | null;
  qmax?: number | null;
  /**
   * A deployed model's parameters, used as given: one number for the tensor, or (granularity
   * 'channel' or 'group') a list with one per channel along `axis` or per group in sample order —
   * under profile 'onnx' ONNX Runtime's per-axis and blocked (opset 21 block_size) QuantizeLinear.
   * Lists are the whole core's, and analyze()'s (not a stream's or qz.layer()'s).
   */
  scale?: number | number[] | Float64Array | Float32Array | null;
  zeroPoint?: number | number[] | Int32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | null;
  arithmetic?: Arithmetic;
  perSample?: boolean;
  kernel?: 'auto' | 'simd' | 'scalar';
  chartBuckets?: number;
  histogramBins?: number;
  format?: FormatName;
  overflow?: 'saturate' | 'inf-nan';
  formatScale?: 'none' | 'amax';
  customFormat?: CustomFormat | null;
  profile?: Profile;
  dtype?: QDtype;
  reduceRange?: boolean;
  /**
   * ggml's types: one non-negative weight per column (the row length, the last axis of `shape`),
   * an imatrix's in_sum2 / counts. The types with an imatrix path quantize with it (llama-quantize's
   * --imatrix); every type reports the weighted metrics. Arrays of numbers are taken as float32.
   */
  importance?: Float32Array | Float64Array | number[] | null;
  /**
   * 'error' (the default): a NaN or ±Inf sample refuses the tensor. 'skip': they are counted
   * (AnalysisResult.nonFinite) and passed over; everything is measured over the finite values, and
   * the per-sample arrays hold code 0, x̂ NaN, error NaN and clipped 0 at a skipped sample. The
   * whole core only.
   */
  nonFinite?: 'error' | 'skip';
  /** The OCP MX formats (mxfp8-e4m3 … mxint8): how each block's E8M0 scale is rounded. The whole core only. */
  mxScale?: MxScale;
  /**
   * Profile 'onnx': whose parameters. 'quantize-linear': onnxruntime.quantization's MinMax
   * (compute_scale_zp, the zero point from the float64 scale) before QuantizeLinear;
   * 'dynamic-quantize-linear': the DynamicQuantizeLinear op's own (uint8, per tensor, asymmetric,
   * every step in float32). On near-ties of −min / scale their zero points differ by one.
   */
  onnxOp?: 'quantize-linear' | 'dynamic-quantize-linear';
}

export declare const DEFAULT_OPTIONS: Readonly<Required<Options>>;
export declare const FORMATS: readonly FormatName[];
export declare const GGML_TYPES: readonly GgmlType[];
export declare const PROFILES: readonly Profile[];
export declare const MODES: readonly Mode[];
export declare const CALIBRATIONS: readonly CalibrationMethod[];
export declare const ROUNDING_RULES: readonly Rounding[];
export declare const MX_SCALES: readonly MxScale[];

/** Bad input: `field` names the option (or 'values', 'file', …), `index` the 0-based sample. */
export declare class QuantizerError extends Error {
  constructor(message: string, field: string, index?: number | null);
  readonly name: 'QuantizerError';
  field: string;
  index: number | null;
  /** compare(): the position of the configuration that failed. */
  config?: number;
}

export interface Metrics {
  /** The samples measured: all but the NaN and ±Inf skipped (nonFinite: 'skip'). */
  count: number;
  mse: number;
  rmse: number;
  mae: number;
  maxAbsError: number;
  maxAbsErrorIndex: number;
  meanError: number;
  errorStd: number;
  sqnrDb: number | null;
  psnrDb: number | null;
  clipCount: number;
  clipRate: number;
  step: number | null;
  uniformNoise: number | null;
  medianAbsError: number | null;
  p95AbsError: number | null;
  cosine: number | null;
  tieCount: number;
  codesUsed: number;
  codeEntropyBits: number | null;
  mseRounding: number;
  mseClipping: number;
  /** ggml's types only: Σw·e² / Σw and 10·log10(Σw·x² / Σw·e²) with the importance weights (null without). */
  weightedMse?: number | null;
  weightedSqnrDb?: number | null;
}

export interface CalibrationReport {
  method: CalibrationMethod | 'custom';
  rangeMin: number;
  rangeMax: number;
  percentile?: number;
  /** mse: the chosen range as a fraction of the min-max range. */
  rangeFactor?: number;
  exactCandidates?: number;
  /** entropy: the clipping threshold and its KL divergence. */
  threshold?: number;
  divergence?: number;
  curve?: { rangeFactor: Float64Array; estimatedMse: Float64Array } | { threshold: Float64Array; divergence: Float64Array };
}

export interface FormatInfo {
  name: string;
  label: string;
  bits: number | null;
  exponentBits: number | null;
  mantissaBits: number | null;
  bias: number | null;
  specials: string;
  max: number | null;
  minNormal: number | null;
  minSubnormal: number | null;
  nanCode: number | null;
  infCode: number | null;
  block: number | null;
  source: string;
  /** ggml's types: the block's bytes and bits per weight, values per sub-block scale, the codes' range. */
  blockBytes?: number;
  bitsPerWeight?: number;
  subBlock?: number;
  codeMin?: number;
  codeMax?: number;
  /** How a value is reconstructed ("x ≈ d·sc·q − dmin·m, …") and the block's fields in byte order. */
  equation?: string;
  layout?: string;
  /** The type llama-quantize falls back to for rows that are not a multiple of the block, or null. */
  fallback?: GgmlType | null;
  /** Whether importance weights change the blocks (the type has an imatrix path). */
  importance?: boolean;
  hasMin?: boolean;
}

export interface FormatCounts extends FormatInfo {
  tensorScale: number | null;
  overflowCount: number;
  underflowCount: number;
  subnormalCount: number;
  /**
   * The OCP MX formats and NVFP4: blocks whose largest element rounded past the element format's
   * largest value and was saturated (null for element formats, NF4 and llama.cpp's types).
   */
  saturatedBlocks?: number | null;
}

export interface GroupColumns {
  /** Samples in each channel or group. */
  count: number;
  /** Each one's finite values: count, less the NaN and ±Inf skipped (nonFinite: 'skip'). */
  finiteCount: Float64Array;
  scale: Float64Array;
  zeroPoint: Float64Array;
  rangeMin: Float64Array;
  rangeMax: Float64Array;
  sumSquaredError: Float64Array;
  sumSquaredSignal: Float64Array;
  clipCount: Float64Array;
  maxAbsError: Float64Array;
}

export interface Group {
  index: number;
  scale: number;
  zeroPoint: number;
  rangeMin: number;
  rangeMax: number;
  /** Over the channel's or group's finite values (null metrics when it has none). */
  metrics: { count: number; mse: number | null; sqnrDb: number | null; clipCount: number; clipRate: number | null; maxAbsError: number | null };
}

export interface Histogram {
  lo: number;
  hi: number;
  counts: Float64Array;
}

export interface Charts {
  buckets: { xMin: Float64Array; xMax: Float64Array; xhatMin: Float64Array; xhatMax: Float64Array; errMin: Float64Array; errMax: Float64Array };
  valueHistogram: Histogram;
  errorHistogram: Histogram;
}

export interface AnalysisResult {
  /** null per channel or group (see groups). */
  scale: number | null;
  zeroPoint: number | null;
  qmin: number;
  qmax: number;
  rangeMin: number;
  rangeMax: number;
  groupColumns: GroupColumns | null;
  readonly groups: Group[] | null;
  options: Required<Options>;
  /** Per-sample outputs (null with perSample: false). dequantized is a Float32Array in float32 arithmetic. */
  codes: Int32Array | null;
  dequantized: Float64Array | Float32Array | null;
  errors: Float64Array | null;
  clipped: Uint8Array | null;
  metrics: Metrics;
  /** The NaN, +Inf and −Inf samples skipped (nonFinite: 'skip'); zeros otherwise. */
  nonFinite: { nan: number; posInf: number; negInf: number };
  /**
   * Profile 'onnx' on a uint8 tensor (asymmetric, per tensor, no given parameters or range): the
   * parameters by ONNX Runtime's two paths, whichever onnxOp chose. quantizeLinear: the Python
   * tool's compute_scale_zp (float64 zero point); dynamicQuantizeLinear: the op's (float32).
   */
  onnx: { quantizeLinear: { scale: number; zeroPoint: number }; dynamicQuantizeLinear: { scale: number; zeroPoint: number } } | null;
  calibration: CalibrationReport;
  format: FormatCounts | null;
  /** Block formats: each block's scale and its code; ggml's types: GgmlBlocks. */
  blocks: { scale: Float64Array; code: Uint32Array } | GgmlBlocks | null;
  charts: Charts | null;
}

/** A note on sample text (Quantizer.inspectValues); `index` is 0-based. */
export interface ValueNote {
  /**
   * 'elided': the text held "..." where a print left values out (index: the values before it).
   * 'decimal-comma': "1,5 2,5", the commas may be decimal commas (index: the sample before it).
   */
  code: 'elided' | 'decimal-comma';
  index: number;
  message: string;
}

/** ggml's types: the blocks as ggml writes them, and what each holds (null where the type has no such field). */
export interface GgmlBlocks {
  type: GgmlType | 'mxfp4' | 'nvfp4';
  /** ggml's layout, row after row: what a GGUF file stores for this tensor. */
  bytes: Uint8Array;
  bitsPerWeight: number;
  blockSize: number;
  blockBytes: number;
  count: number;
  subBlockSize: number;
  /** Each block's d as stored (float16; MXFP4: 2^(e − 127)); null for NVFP4, whose scales are per sub-block. */
  scale: Float64Array | null;
  /** d's stored bits (float16, or MXFP4's E8M0 byte). */
  code: Uint32Array | null;
  /** dmin (K-quants) or m (q4_1, q5_1) of each block. */
  min: Float32Array | null;
  /** Per sub-block, where a block has several: d·sc (q3_k, iq4_xs: d·(sc − 32); nvfp4: its UE4M3 scale). */
  subScale: Float32Array | null;
  /** sc as stored: 4-bit (q2_k), 6-bit, int8 (q6_k), UE4M3 (nvfp4). */
  subScaleCode: Int32Array | null;
  subMin: Float32Array | null;
  subMinCode: Int32Array | null;
  /** Distinct codes in each block. */
  codesUsed: Uint16Array;
}

export type RecipeName = 'q4_k_m' | 'q5_k_m' | 'q6_k' | 'q8_0' | 'q4_0' | 'iq4_xs';
/** llama-quantize's presets recipeTypes follows. */
export declare const RECIPES: readonly RecipeName[];

/** What a GGUF header keeps of its metadata: general.architecture and the integers a recipe reads. */
export interface GgufMetadata {
  architecture: string;
  integers: Record<string, number>;
}

export interface ImatrixEntry {
  name: string;
  /** GGUF: the counts' length (experts); legacy: 1. */
  matrices: number;
  /** The smallest count (GGUF) or ncall (legacy). */
  calls: number;
  /** Per column, matrix after matrix: in_sum2 / counts (legacy: values / ncall), in float32; 1 where a matrix saw nothing. */
  importance: Float32Array;
}

export interface Imatrix {
  format: 'gguf' | 'dat';
  chunks: number | null;
  dataset: string;
  entries: ImatrixEntry[];
}

export interface TensorMatch {
  pairs: { original: number; quantized: number; error: string | null }[];
  onlyOriginal: string[];
  onlyQuantized: string[];
}

export interface ComparisonMetrics {
  count: number; mse: number; rmse: number; mae: number; maxAbsError: number; maxAbsErrorIndex: number; meanError: number; errorStd: number;
  sqnrDb: number | null; psnrDb: number | null; cosine: number | null; medianAbsError: number | null; p95AbsError: number | null;
  weightedMse: number | null; weightedSqnrDb: number | null;
}

export interface ComparisonResult {
  /** x̂ (the file's values as ggml dequantizes them) against x (the original's), e = x − x̂. */
  metrics: ComparisonMetrics;
  sumSquares: number;
  /** The original re-quantized with the file's type (and importance), compared block by block (or value by value for F32/F16/BF16). */
  requantized: { unit: 'blocks' | 'values'; compared: number; differing: number; firstDiffering: number | null; withImportance: boolean };
  /** "identical to llama.cpp's reference quantizer", or "N of M blocks differ". */
  verdict: string;
}

export interface TensorComparison {
  readonly rows: number;
  readonly rowValues: number;
  readonly originalRowBytes: number;
  readonly quantizedRowBytes: number;
  readonly done: boolean;
  readonly passes: number;
  add(original: Uint8Array, quantized: Uint8Array, rows: number): void;
  next(): void;
  finish(): ComparisonResult;
  delete(): void;
}

export interface CompareFilesOptions {
  imatrix?: Imatrix | null;
  onTensor?: (row: ComparedTensor, index: number, total: number) => void;
  /** Values per chunk (2^22). */
  chunkValues?: number;
}

export interface ComparedTensor extends Partial<ComparisonResult> {
  name: string; dtype: string; originalDtype: string; shape: number[]; count: number; bytes: number; bitsPerWeight: number | null;
  /** Why it was not compared (other shapes, a side not read, an imatrix of another length). */
  error: string | null;
}

export interface FileComparison {
  tensors: ComparedTensor[];
  onlyOriginal: string[];
  onlyQuantized: string[];
  /** Weighted by size: Σe² / Σn and Σx² / Σe² over the compared tensors. */
  summary: { tensors: number; compared: number; identical: number; values: number; bytes: number; bitsPerWeight: number | null; mse: number | null; sqnrDb: number | null };
}

export interface Recipe {
  recipe: string;
  facts: { architecture: string; layers: number; experts: number; gqa: number };
  tensors: { name: string; type: GgmlType | 'float16' | null; kept: string | null; note: string | null; error: string | null; bytes: number | null; bitsPerWeight: number | null }[];
  bytes: number;
  bitsPerWeight: number | null;
}

export interface TensorInfo {
  name: string;
  dtype: string;
  fileDtype: string;
  bigEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  offset: number;
  count: number;
  bytes: number;
  /** Why the tensor is not read (an unsupported type), or ''. */
  skipped: string;
  /** 8 · bytes / count: 32 for float32, 4.5 for Q4_K. */
  bitsPerWeight: number;
}

export interface StochasticSpread {
  mean: number;
  std: number;
}

export interface StochasticTrials {
  trials: { seed: number; meanError: number; mse: number; sqnrDb: number | null; maxAbsError: number }[];
  meanError: StochasticSpread;
  mse: StochasticSpread;
  sqnrDb: StochasticSpread;
  nearest: { meanError: number; mse: number; sqnrDb: number | null; maxAbsError: number };
}

/** A tensor analysed from chunks read in passes (Quantizer.stream). */
export interface TensorStream {
  /** One chunk of the current pass. */
  add(chunk: Float32Array | Float64Array): void;
  /** Ends the pass. */
  next(): void;
  readonly done: boolean;
  readonly pass: 'range' | 'calibration' | 'quantization' | 'done';
  readonly passes: number;
  /** After the last pass: the result as analyze() gives it with perSample: false. */
  finish(): AnalysisResult;
  delete(): void;
}

/** Samples copied into the wasm heap once for many analyses (Quantizer.load). */
export interface LoadedSamples {
  readonly length: number;
  readonly float32: boolean;
  analyze(options?: Options): AnalysisResult;
  compare(list: Options[]): AnalysisResult[];
  sweepBits(options?: Options, range?: { from?: number; to?: number }): { bits: number; metrics: Metrics }[];
  stochasticTrials(options?: Options, settings?: { trials?: number }): StochasticTrials;
  delete(): void;
}

// ---- Through a layer (qz.layer) ---------------------------------------------------------------

export type LayerProfile = 'formula' | 'onnx' | 'tflite';
export type AccumulatorName = 'int32' | 'int16' | 'float32';
export type ActivationName = 'relu' | 'gelu' | 'silu';

/** analyze()'s options for one side; activations also take granularity 'token'. */
export type LayerScheme = Omit<Options, 'granularity'> & { granularity?: Granularity | 'token' };

export interface LayerOutputOptions {
  scale?: number | null;
  zeroPoint?: number | null;
  dtype?: 'int8' | 'uint8';
}

/** The fields each layer of a chain has. */
export interface LayerFields {
  weightScheme?: LayerScheme | null;
  activationScheme?: LayerScheme | null;
  accumulator?: AccumulatorName | null;
  overflow?: 'wrap' | 'saturate';
  output?: 'auto' | LayerOutputOptions | null;
  profile?: LayerProfile;
}

export interface LayerOptions extends LayerFields {
  weights: Samples;
  weightShape: [number, number];
  activations: Samples;
  activationShape: [number, number];
  kernel?: 'auto' | 'simd' | 'scalar';
  maxDifferences?: number;
  next?: (LayerFields & { weights: Samples; weightShape: [number, number]; activation?: ActivationName }) | null;
}

export interface LayerMetrics {
  count: number;
  mse: number;
  rmse: number;
  mae: number;
  maxAbsError: number;
  /** t·out + o of the first output with the largest |e|. */
  maxAbsErrorIndex: number;
  meanError: number;
  errorStd: number;
  sqnrDb: number | null;
  psnrDb: number | null;
  cosine: number | null;
  clipCount: number;
  clipRate: number;
  relativeFrobenius?: number | null;
}

/** One part of Ŷ − Y: Σ part², its SQNR against ΣY², and the first-order prediction. */
export interface LayerPart {
  energy: number;
  sqnrDb: number | null;
  predicted: number;
  predictedSqnrDb: number | null;
}

export interface AccumulatorLimit {
  min: number;
  max: number;
  /** Outputs whose sum leaves the type: changed by wrap-around. */
  wrapped: number;
  /** Outputs changed by saturating each partial sum (null when not measured). */
  saturated: number | null;
  /** Outputs with some partial sum outside the type (null when not measured). */
  excursions: number | null;
  /** The output's SQNR against Y with this type's sums wrapped, and saturated (null when not measured). */
  wrapSqnrDb: number | null;
  saturateSqnrDb: number | null;
}

export interface AccumulatorReport {
  type: AccumulatorName | 'double';
  block: number | null;
  productMax: number | null;
  bound: number | null;
  dataBound: number | null;
  maxAbs: number | null;
  maxAbsIndex: number | null;
  int16: AccumulatorLimit | null;
  int32: AccumulatorLimit | null;
  sums: Float64Array | null;
  avx2Pairs: { saturated: number; sums: Float64Array } | null;
}

export type DifferenceReason = 'tie' | 'multiplier' | 'doubleRounding' | 'float32' | 'double';

export interface RequantDifference {
  token: number;
  channel: number;
  acc: number;
  value: number;
  exact: number;
  formula: number;
  onnx: number;
  tflite: number;
  qdq: number;
  reasons: DifferenceReason[];
}

export interface Requantization {
  profile: LayerProfile;
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
  derived: boolean;
  realMultiplier: Float64Array;
  multiplier: Int32Array;
  shift: Int32Array;
  onnxMultiplier: Float32Array;
  codes: Int32Array;
  paths: { exact: Int32Array; formula: Int32Array; onnx: Int32Array; tflite: Int32Array; qdq: Int32Array };
  metrics: LayerMetrics;
  clipped: number;
  differ: { formula: number; onnx: number; tflite: number; qdq: number };
  reasons: { tie: number; multiplier: number; doubleRounding: number; float32: number; double: number };
  differences: RequantDifference[];
}

export interface LayerResult {
  shape: { tokens: number; in: number; out: number };
  weights: AnalysisResult | null;
  activations: AnalysisResult | null;
  reference: Float64Array;
  quantized: Float64Array;
  metrics: LayerMetrics;
  perChannel: { sqnrDb: Float64Array };
  perToken: { sqnrDb: Float64Array };
  parts: {
    signal: number;
    weights: LayerPart;
    activations: LayerPart;
    interaction: LayerPart;
    simulated: LayerPart;
    accumulator: { energy: number };
  };
  accumulator: AccumulatorReport;
  requantization: Requantization | null;
  codes: Int32Array | null;
  differences: RequantDifference[] | null;
}

export interface ChainStep {
  energy: number;
  sqnrDb: number | null;
}

export interface LayerAnalysis extends LayerResult {
  options: object;
  next: { activation: ActivationName; layer: LayerResult; propagated: ChainStep; local: ChainStep; total: ChainStep } | null;
}

export declare const DEFAULT_LAYER_OPTIONS: Readonly<Record<string, unknown>>;
export declare const LAYER_PROFILES: readonly LayerProfile[];
export declare const ACCUMULATORS: readonly AccumulatorName[];
export declare const ACTIVATIONS: readonly ActivationName[];

export interface Quantizer {
  /** Whether this build runs the wasm SIMD kernels. */
  readonly simd: boolean;
  /**
   * 'full': the whole core. 'first': the small first module (integer formats with every
   * calibration, granularity, rounding and arithmetic); float formats, runtime profiles, format
   * definitions, tensor headers and streams throw a QuantizerError that names the whole core.
   */
  readonly module: 'full' | 'first';
  /**
   * Sample text → the values, each exactly as typed; also what Python, NumPy and PyTorch print
   * ([…], tensor([…]), array([…], dtype=float32), np.float32(0.5), "−"). Throws naming the sample.
   */
  parseValues(text: string): Float64Array;
  /** The values as parseValues reads them, and notes on them (each code at most once). */
  inspectValues(text: string): { values: Float64Array; notes: ValueNote[] };
  analyze(values: Samples, options?: Options): AnalysisResult;
  compare(values: Samples, list: Options[]): AnalysisResult[];
  sweepBits(values: Samples, options?: Options, range?: { from?: number; to?: number }): { bits: number; metrics: Metrics }[];
  stochasticTrials(values: Samples, options?: Options, settings?: { trials?: number }): StochasticTrials;
  load(values: Samples): LoadedSamples;
  /** values: every code's value (ggml's types: what code codeMin + i stands for before the scale). */
  describeFormat(options?: Options): FormatInfo & { values: Float64Array | null };
  /** A GGUF file's result also carries `metadata` (what llama-quantize's recipes read). */
  tensorHeader(kind: 'npy' | 'safetensors' | 'gguf', bytes: Uint8Array, fileSize: number): { need: number } | { tensors: TensorInfo[]; metadata?: GgufMetadata };
  /** An imatrix file (imatrix.gguf or the legacy .dat): importance per column as llama-quantize divides it. Throws at 'imatrix'. */
  readImatrix(bytes: Uint8Array): Imatrix;
  /** One tensor's importance from an imatrix (null: no entry); an entry of another length throws at 'imatrix'. */
  importanceFor(imatrix: Imatrix | null, tensor: { name: string; shape: number[] }): Float32Array | null;
  /** Two files' tensors matched by name, in the quantized file's order. */
  matchTensors(original: TensorInfo[], quantized: TensorInfo[]): TensorMatch;
  /** One tensor pair fed as raw bytes in chunks of whole rows, pass after pass. */
  tensorComparison(original: TensorInfo, quantized: TensorInfo, options?: { importance?: Float32Array | null }): TensorComparison;
  /** tensorComparison over the whole tensors' bytes at once. */
  compareTensor(original: TensorInfo, quantized: TensorInfo, originalBytes: Uint8Array, quantizedBytes: Uint8Array,
    options?: { importance?: Float32Array | null }): ComparisonResult;
  /** A quantized file against its float original, tensor by tensor (Blobs, Files or bytes; never read whole). */
  compareFiles(original: Blob | Uint8Array, quantized: Blob | Uint8Array, options?: CompareFilesOptions): Promise<FileComparison>;
  /** llama-quantize's type for each tensor of a file under a recipe, with the sizes and bits per weight. */
  recipeTypes(recipe: RecipeName | Uppercase<RecipeName>, header: { tensors: TensorInfo[]; metadata?: GgufMetadata | null }, options?: { imatrix?: Imatrix | null }): Recipe;
  stream(options?: Options): TensorStream;
  /** ggml's dequantization of whole blocks of `type` (GGML_TYPES, or ggml's 'mxfp4' / 'nvfp4'), as a GGUF file stores them. */
  dequantizeGgml(type: GgmlType | 'mxfp4' | 'nvfp4', bytes: Uint8Array): Float32Array;
  /** Through a layer: Y = X·Wᵀ with each side quantized (docs/api.md, "Through a layer"). Whole core only. */
  layer(options: LayerOptions): LayerAnalysis;
  /** TFLite's QuantizeMultiplier: M ≈ multiplier · 2^(shift − 31). */
  quantizeMultiplier(real: number): { multiplier: number; shift: number };
  /** TFLite's MultiplyByQuantizedMultiplier of one int32 sum. */
  multiplyByQuantizedMultiplier(acc: number, m: { multiplier: number; shift: number }): number;
  heapInUse(): number;
}

/** Whether this engine runs WebAssembly SIMD (detected with WebAssembly.validate). */
export declare function simdSupported(): boolean;
/** The size-weighted summary of compareFiles' rows (for rows gathered one by one, as the page's worker sends them). */
export declare function compareSummary(rows: ComparedTensor[]): FileComparison['summary'];

/** Whether options need the whole core (a float or block format, llama.cpp's types, a runtime profile, importance weights, nonFinite: 'skip' or mxScale other than 'floor'). */
export declare function needsFullModule(options?: Options): boolean;

/**
 * The quantizer: the SIMD build where the engine has wasm SIMD, else the scalar build.
 * `simd: false` forces the scalar build; `module: 'first'` (or 'core', its earlier name) loads the small first module instead
 * of the whole core; `wasmBinary` supplies the chosen build's .wasm bytes, `wasmUrls` where each
 * build is fetched from (default: beside the module).
 */
export declare function createQuantizer(settings?: {
  wasmBinary?: ArrayBuffer | Uint8Array;
  simd?: boolean;
  module?: 'full' | 'first' | 'core';
  wasmUrls?: { simd?: string; scalar?: string; coreSimd?: string; coreScalar?: string };
}): Promise<Quantizer>;
