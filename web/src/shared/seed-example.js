// The seed document's example: ten activation values with an 8-bit symmetric scheme on the range
// −1.5 … 1.5, rounded half to even. The page's default, the component's default and the tests' anchor.
export const SEED_EXAMPLE = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
export const SEED_SETTINGS = Object.freeze({ bits: '8', mode: 'symmetric', rounding: 'half-even', rangeSource: 'custom', min: '-1.50', max: '1.50' });
