// The compare view: configurations as rows edited in place (kept in the URL), all run on the
// form's samples in their own worker. render(state) draws the rows, their problems and the results.
import { renderCompareChart } from '../charts/charts.js';
import { fieldId, MAX_ROWS, renderResults, renderRows, ROW_FIELDS } from './compare-rows.js';
import { fieldOfError } from './form-state.js';
import { $ } from './ui.js';

export function createCompareView({ onChange, onDuplicate, onRemove }) {
  const drawn = { rows: null, results: null, width: 0 };
  let freeChart = () => {};

  return {
    render({ compare: c }) {
      if (drawn.rows !== c.rows) {
        drawn.rows = c.rows;
        renderRows($('compare-configs').tBodies[0], c.rows, { change: onChange, duplicate: onDuplicate, remove: onRemove });
      }
      // Each row's problems: the editor's own, or the core's refusal of that configuration.
      const problems = new Map();
      if (c.problem && c.problem.row !== null) problems.set(fieldId(c.problem.row, c.problem.field), c.problem.message);
      c.results?.forEach((r, i) => {
        if (r.error && ROW_FIELDS.includes(fieldOfError(r.field)) && i < c.rows.length) problems.set(fieldId(i, fieldOfError(r.field)), r.error);
      });
      c.rows.forEach((_, i) => {
        for (const key of ROW_FIELDS) {
          const id = fieldId(i, key);
          const message = problems.get(id) ?? '';
          if (message) $(id).setAttribute('aria-invalid', 'true');
          else $(id).removeAttribute('aria-invalid');
          $(`${id}-error`).textContent = message;
        }
      });
      $('compare-add').disabled = c.rows.length >= MAX_ROWS;
      $('compare-run').disabled = c.rows.length === 0;
      $('compare-error').textContent = c.rows.length === 0 ? 'Add a configuration to compare.'
        : c.error ? `The comparison could not run: ${c.error}` : c.problem?.message ?? '';
      $('compare-progress').hidden = !(c.status === 'running' && c.slow);
      $('compare-progress-text').textContent = `${c.phase || 'Comparing'}…`;
      $('compare-results').hidden = !c.results;
      $('compare-csv').disabled = !c.results;
      const width = window.innerWidth;
      if (c.results && (drawn.results !== c.results || Math.abs(drawn.width - width) > 40)) {
        drawn.results = c.results;
        drawn.width = width;
        renderResults($('compare-table').tHead, $('compare-table').tBodies[0], c.results);
        freeChart();
        freeChart = renderCompareChart($('compare-chart'), c.results);
      }
    },
    resized() {
      drawn.width = 0;
    },
  };
}
