// The demo page's script: the widgets, and a table filled from the ladder widgets' result events
// (what a host page can do with them).
import './src/component/element.js';
import { fmt } from './src/shared/format.js';

const rows = new Map();
for (const widget of document.querySelectorAll('quant-error-calculator.ladder')) {
  widget.addEventListener('result', ({ detail }) => {
    const m = detail.metrics;
    rows.set(detail.options.bits, [detail.options.bits, m.step, m.mse, m.uniformNoise, m.sqnrDb]);
    const body = document.querySelector('#ladder-table tbody');
    body.replaceChildren(...[...rows.keys()].sort((a, b) => b - a).map((bits) => {
      const tr = document.createElement('tr');
      tr.dataset.bits = String(bits);
      for (const v of rows.get(bits)) tr.append(Object.assign(document.createElement('td'), { textContent: fmt(v) }));
      return tr;
    }));
  });
}
