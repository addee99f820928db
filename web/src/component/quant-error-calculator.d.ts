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

/**
 * <quant-error-calculator>: attributes bits, mode, rounding, range ("min,max"), values (sample
 * text), format, calibration and view ("full", "results" or "chart:<values|errors|transfer|
 * histogram|error-histogram>"). Fires `result` (CustomEvent<QuantErrorResultDetail>).
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
    result: CustomEvent<QuantErrorResultDetail>;
  }
}
