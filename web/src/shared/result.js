// Reading a result: which channel, group or block quantized a sample, and the what-if studies.
/** The channel or group of sample i for a result's options (null per tensor). */
export function groupIndexer(options) {
  if (!options.granularity || options.granularity === 'tensor') return null;
  if (options.granularity === 'group') return (i) => Math.floor(i / options.groupSize);
  const shape = options.shape;
  const axis = options.axis < 0 ? options.axis + shape.length : options.axis;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = shape[axis];
  return (i) => Math.floor(i / inner) % channels;
}

/** The scale and zero point that quantized sample i (its channel's, group's or block's, or the tensor's). */
export function paramsOfSample(r) {
  if (r.format) {
    if (!r.blocks) return () => ({ scale: r.format.tensorScale, zeroPoint: 0, index: 0 });
    const b = r.format.block;
    return (i) => ({ scale: r.blocks.scale[Math.floor(i / b)], zeroPoint: 0, index: Math.floor(i / b) });
  }
  const g = r.groups ? groupIndexer(r.options) : null;
  return g ? (i) => r.groups[g(i)] : () => r;
}

/** "channel" or "group" for grouped results, else null. */
export const groupUnit = (r) => (r.groups ? (r.options.granularity === 'channel' ? 'channel' : 'group') : null);

/** The smallest bit depth whose SQNR reaches `target` dB, or null. */
export function bitsForTarget(sweep, target) {
  return sweep.find((s) => s.sqnrDb !== null && s.sqnrDb >= target) ?? null;
}
