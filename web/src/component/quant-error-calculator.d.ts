// Types of the web component (dist/quant-error-calculator.js, the package's ./component entry).
import type { Metrics, Options } from '../quantizer.js';

export interface QuantErrorResultDetail {
  options: Options & { values: string };
  scale: number | null;
  zeroPoint: number | null;
  qmin: number;
  qmax: number;
  rangeMin: number;
  rangeMax: number;
  metrics: Metrics;
}

/** The `result` event's detail of a view="layer" widget (through a linear layer, qz.layer()). */
export interface QuantErrorLayerDetail {
  view: 'layer';
  shape: { tokens: number; in: number; out: number };
  metrics: Metrics & { relativeFrobenius: number | null };
  /** Each part's SQNR alone (dB): X·ΔWᵀ, ΔX·Wᵀ, ΔX·ΔWᵀ. */
  parts: { weights: number | null; activations: number | null; interaction: number | null };
  accumulator: { type: 'int32' | 'int16' | 'float32' | 'double'; bound: number | null; maxAbs: number | null; int16Overflows: number | null;
    int32Overflows: number | null };
  /** Output channel 0's requantization (null without output codes). */
  requantization: { multiplier: number; shift: number; realMultiplier: number; scale: number; zeroPoint: number } | null;
}

/**
 * <quant-error-calculator>: attributes bits, mode, rounding, range ("min,max"), values (sample
 * text), format, calibration and view ("full", "results", "chart:<values|errors|transfer|
 * histogram|error-histogram>" or "layer"). view="layer" takes weights + weight-shape or out, in,
 * seed; activations (normal | heavy | outliers | relu | gelu, or values) + tokens or
 * activation-shape; weight-bits, activation-bits (or "float"), weight-granularity,
 * activation-granularity, accumulator, profile. Fires `result` (CustomEvent<QuantErrorResultDetail>,
 * or QuantErrorLayerDetail for view="layer").
 */
export declare class QuantErrorCalculator extends HTMLElement {
  /** The last calculation's result, or null (before the first, or after a bad attribute). */
  readonly result: (QuantErrorResultDetail & Record<string, unknown>) | null;
}

declare global {
  interface HTMLElementTagNameMap {
    'quant-error-calculator': QuantErrorCalculator;
  }
  interface HTMLElementEventMap {
    result: CustomEvent<QuantErrorResultDetail | QuantErrorLayerDetail>;
  }
}
