// Numbers as the page, the component, charts and exports show them, and a DOM helper. Text
// always goes in through textContent.
export const fmt = (v) => {
  if (v === null || v === undefined) return 'undefined';
  if (v === Infinity) return '∞ (lossless)';
  // Whole numbers with thin-space thousands; beyond 10^15 (BF16's largest is 3.39e38) in exponent form.
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return v.toLocaleString('en').replace(/,/g, '\u2009');
  return String(Number(v.toPrecision(6)));
};

export const hex = (code, bits) => `0x${code.toString(16).toUpperCase().padStart(Math.ceil(bits / 4), '0')}`;

/** A number inside a formula: a negative one in parentheses with a true minus sign, "(−2.16)". */
export const num = (v) => (typeof v === 'number' && v < 0 ? `(−${fmt(-v)})` : fmt(v));

/** A result after "=": a true minus sign, no parentheses ("−8.46667"). */
export const minus = (v) => (typeof v === 'number' && v < 0 ? `−${fmt(-v)}` : fmt(v));

/** A signed term of a sum: "+ 11" or "− 11". */
export const signed = (v) => (v < 0 ? `− ${fmt(-v)}` : `+ ${fmt(v)}`);

export const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'attrs') for (const [a, value] of Object.entries(v)) node.setAttribute(a, value);
    else node[k] = v;
  }
  node.append(...children);
  return node;
};
