// The calculator view: the form and the results, drawn from the page's state by render(state).
// Every field's value, visibility and enabled state is set here and nowhere else; the result
// sections are redrawn when the calculation they show changes (by identity), and only then.
import { renderCharts, renderExplore, renderExplorer, renderGroupChart } from '../charts/charts.js';
import { renderCards, renderVerdict } from '../shared/cards.js';
import { describeScheme } from '../shared/describe.js';
import { fmt, hex } from '../shared/format.js';
import { bitsForTarget, groupUnit } from '../shared/result.js';
import { bitFields, codeTable } from './code-table.js';
import { applies, FIELD_IDS, shownMode } from './form-state.js';
import { formulaLines, PAGE_ROWS, renderGroups, renderStochastic, renderTablePage, sampleOrder } from './results.js';
import { snippet } from './snippet.js';
import { $ } from './ui.js';

// The form's state and the settings of the calculation shown: the results are stale when these
// differ (the name is only a label).
export const sameSettings = (a, b) => Object.keys(FIELD_IDS).every((k) => k === 'name' || k === 'fileRange' || a[k] === b[k]);

const LINK_NOTES = {
  browser: 'These samples are too long for a shareable link even compressed: the link keeps the settings, and this browser keeps the samples.',
  none: 'These samples are too long for a shareable link or this browser\'s storage: the link keeps the settings only.',
};

export function createCalculatorView({ engine }) {
  const drawn = { run: null, studies: undefined, page: -1, order: null, width: 0 };
  let free = { charts: () => {}, explore: () => {}, groups: () => {}, explorer: () => {} };
  const release = (key) => {
    free[key]();
    free[key] = () => {};
  };

  function renderForm(state) {
    const f = state.form;
    const shown = applies(f);
    for (const [key, id] of Object.entries(FIELD_IDS)) {
      const node = $(id);
      if (node.type === 'checkbox') node.checked = f[key] === 'true';
      else {
        const value = key === 'mode' ? shownMode(f) : f[key];
        if (node.value !== value) node.value = value;
      }
      const wrap = $(`${id}-field`);
      if (wrap) wrap.hidden = !shown[key];
      node.disabled = !shown[key];
      const problem = state.problems[key];
      if (problem) node.setAttribute('aria-invalid', 'true');
      else node.removeAttribute('aria-invalid');
      const error = $(`${id}-error`);
      if (error && error.textContent !== (problem ?? '')) error.textContent = problem ?? '';
    }
    // Under a runtime profile the integer type decides signed or unsigned: the mode is symmetric
    // or affine; PyTorch has no 4-bit types.
    const profile = f.format === 'int' && f.profile !== 'formula';
    for (const option of $('mode').options) option.disabled = profile && option.value === 'asymmetric-unsigned';
    for (const option of $('dtype').options) option.disabled = f.profile === 'pytorch' && option.value.endsWith('4');
    $('format-info').hidden = f.format === 'int';
    if (f.format === 'int') $('format-info').textContent = '';
    else if (state.formatInfo !== null) $('format-info').textContent = state.formatInfo;
    $('range-group').hidden = f.format !== 'int';
    $('granularity-group').hidden = !shown.granularity && !shown.shape;
    $('granularity-group').querySelector('legend').textContent = shown.granularity ? 'Granularity' : 'Rows';
    $('values-notes').textContent = state.valuesNotes.join(' ');
    $('values-notes').hidden = state.valuesNotes.length === 0;
    $('url-note').hidden = state.urlNotes.length === 0;
    $('url-note').textContent = state.urlNotes.join(' ');
    const running = state.calc.status === 'running';
    $('progress').hidden = !(running && state.calc.slow);
    $('progress-text').textContent = `${state.calc.phase || 'Calculating'}…`;
  }


  function renderResults(state) {
    const run = state.calc.run;
    $('results').hidden = !run;
    if (!run) {
      if (drawn.run) {
        for (const key of Object.keys(free)) release(key);
        drawn.run = null;
        drawn.studies = undefined;
      }
      return;
    }
    const r = run.result;
    const stale = !sameSettings(state.form, run.form) || Object.keys(state.problems).length > 0;
    $('results').classList.toggle('stale', stale);
    $('stale-note').hidden = !stale;
    $('stale-note').textContent = Object.keys(state.problems).length ? 'These results are from the last calculation: fix the marked field and press Calculate.'
      : 'Settings changed — press Calculate';
    const width = window.innerWidth;
    if (drawn.run !== run || Math.abs(drawn.width - width) > 40) {
      drawn.run = run;
      drawn.width = width;
      drawn.studies = undefined;
      drawn.page = -1;
      drawRun(run, state);
    }
    const order = state.sampleOrder;
    if (drawn.page !== state.samplePage || drawn.order !== order) {
      drawn.page = state.samplePage;
      drawn.order = order;
      const sorted = sampleOrder(r, order);
      renderTablePage($('samples-body'), $('page-status'), r, state.samplePage, sorted);
      const pages = Math.ceil(r.values.length / PAGE_ROWS);
      $('page-prev').disabled = state.samplePage === 0;
      $('page-next').disabled = state.samplePage >= pages - 1;
    }
    $('sample-order').value = order;
    $('link-status').hidden = state.linkKept === 'link';
    $('link-status').textContent = LINK_NOTES[state.linkKept] ?? '';
    renderStudies(state, run);
    $('target-sqnr').value === state.target || ($('target-sqnr').value = state.target);
    renderTarget(state);
  }

  function drawRun(run, state) {
    const { result: r, options } = run;
    $('results-title').textContent = `Results for ${run.name || 'the tensor'}`;
    $('results-settings').textContent = describeScheme(options);
    $('engine').textContent = r.simd ? 'Computed by the WebAssembly SIMD core.'
      : `Computed by the scalar WebAssembly core (${engine.simd === false ? 'chosen with ?wasm=scalar' : 'this browser has no WebAssembly SIMD'}): the same numbers, more slowly.`;
    const sample = state.sampled && state.sampled.values === run.form.values ? state.sampled : null;
    $('sample-note').hidden = !sample;
    $('sample-note').textContent = sample?.note ?? '';
    const nf = r.nonFinite;
    const bad = nf ? nf.nan + nf.posInf + nf.negInf : 0;
    $('nonfinite-note').hidden = !bad;
    if (bad) {
      $('nonfinite-note').textContent = `${fmt(bad)} of the samples are not finite (${fmt(nf.nan)} NaN, ${fmt(nf.posInf)} +Inf, ${fmt(nf.negInf)} −Inf): ` +
        'the metrics are over the finite values only.';
    }
    renderVerdict($('verdict'), r);
    renderCards($('metrics'), r);
    release('charts');
    free.charts = renderCharts($('charts'), r);
    release('groups');
    $('groups-section').hidden = !r.groups;
    if (r.groups) {
      const unit = groupUnit(r);
      $('groups-index-head').textContent = unit === 'channel' ? 'channel [c]' : 'group [g]';
      const order = renderGroups($('groups-summary'), $('groups-table').tBodies[0], r);
      free.groups = renderGroupChart($('groups-chart'), r, order);
    }
    renderFormatExplorer(r);
    const code = snippet(r, options);
    $('snippet-section').hidden = !code;
    if (code) {
      $('snippet').textContent = code.text;
      $('snippet-hint').textContent = code.note;
      $('copy-status').textContent = '';
    }
    const lines = formulaLines(r, options);
    for (const [key, text] of Object.entries(lines)) $(`formula-${key}`).textContent = text;
    $('formula-numbers').hidden = false;
  }

  // Formats of at most 8 bits (and NF4): every value, the samples on each, and a code's bit fields.
  function renderFormatExplorer(r) {
    release('explorer');
    $('explorer-section').hidden = !r.codeValues;
    if (!r.codeValues) return;
    const rows = codeTable(r);
    const f = r.format;
    const select = $('explorer-code');
    const label = (row) => `${f.name === 'nf4' ? row.code : hex(row.code, f.bits)} → ${Number.isNaN(row.value) ? 'NaN' : fmt(row.value)}${row.count ? ` (${fmt(row.count)} sample${row.count > 1 ? 's' : ''})` : ''}`;
    select.replaceChildren(...rows.map((row) => new Option(label(row), String(row.code))));
    const pick = (code) => {
      select.value = String(code);
      $('explorer-bits').textContent = bitFields(f, r.codeValues, code);
    };
    select.onchange = () => pick(Number(select.value));
    const busiest = rows.reduce((a, b) => (b.count > a.count ? b : a));
    pick(busiest.code);
    const finite = rows.filter((row) => Number.isFinite(row.value));
    $('explorer-summary').textContent = `${f.label} has ${rows.length} codes, ${finite.length} of them finite numbers; the samples (divided by ${r.blocks ? 'their block\'s scale' : 'the tensor scale'}) use ${rows.filter((row) => row.count > 0).length}. Click the chart or choose a code for its bit fields.`;
    free.explorer = renderExplorer($('explorer-chart'), rows, f.label, pick);
  }

  // The what-if studies of the calculation shown: until they arrive, the sections are emptied and
  // marked busy (never the previous data's numbers).
  function renderStudies(state, run) {
    const study = state.calc.studiesFor === run ? state.calc.studies : null;
    const busy = !study;
    $('studies').setAttribute('aria-busy', String(busy));
    $('studies-busy').hidden = !busy;
    if (drawn.studies === study) return;
    drawn.studies = study;
    release('explore');
    $('stochastic-section').hidden = true;
    $('explore').replaceChildren();
    if (!study) return;
    $('target-field').hidden = Boolean(study.skipped || study.formats);
    if (study.error || study.skipped) {
      $('explore').textContent = study.skipped ?? `The sweeps could not run: ${study.error}`;
      return;
    }
    free.explore = renderExplore($('explore'), study, run.result, run.options);
    if (study.stochastic) {
      renderStochastic($('stochastic-summary'), $('stochastic-table').tBodies[0], study.stochastic);
      $('stochastic-section').hidden = false;
    }
  }

  function renderTarget(state) {
    const run = state.calc.run;
    const study = state.calc.studiesFor === run ? state.calc.studies : null;
    const field = $('target-sqnr');
    const text = state.target.trim();
    const target = Number(text);
    const answer = $('target-answer');
    const bad = text === '' || !Number.isFinite(target);
    if (bad) field.setAttribute('aria-invalid', 'true');
    else field.removeAttribute('aria-invalid');
    $('target-sqnr-error').textContent = bad ? `Target SQNR must be a number of dB (got "${text}")` : '';
    let sentence = '';
    if (study?.bits && !bad) {
      const hit = bitsForTarget(study.bits, target);
      sentence = hit
        ? `The smallest bit depth that reaches ${target} dB with these settings is ${hit.bits} bits (${hit.sqnrDb === Infinity ? 'lossless' : `${hit.sqnrDb.toFixed(1)} dB`}).`
        : `No bit depth up to 16 reaches ${target} dB with these settings: change the range or the mode.`;
    }
    if (answer.textContent !== sentence) answer.textContent = sentence;
  }

  return {
    render(state) {
      renderForm(state);
      renderResults(state);
    },
    /** Redraw the charts at a new width. */
    resized() {
      drawn.width = 0;
    },
    /** The chart canvases and card texts, for the PDF. */
    exportParts() {
      return {
        metricRows: [...document.querySelectorAll('#metrics .card')].map((c) => [c.querySelector('dt').textContent, c.querySelector('dd').textContent]),
        chartCanvases: [...document.querySelectorAll('#charts figure')].map((f) => ({ title: f.querySelector('figcaption').textContent, canvas: f.querySelector('canvas') })),
      };
    },
  };
}
