// The experiments page (experiments.html): one panel per experiment of the registry (rnn-wasm/experiments, the
// browser bundle), built from its metadata alone (number, title, claim, description, parameter specs), so
// experiments added to the registry appear without changes here. Number parameters get a range input with a live
// value label, choices a select. Runs go to experiments-worker.mjs (module Web Workers: one for the quick
// experiments, one for those that train with the engine, so a training run never delays a slider's re-run);
// quick experiments run at their defaults on load and again (debounced) when a slider moves, engine-based ones when
// Run is pressed. Results come back as plain data and are drawn with Observable Plot (dist/plot.mjs, built by
// build.mjs) from the plot specs, followed by the verdict and its checks.
//
// For tests: each panel is <section class="experiment" data-name data-state="idle|running|done|error"
// data-holds="true|false" data-params="{...}">, each check's measured cell has data-value (the exact number),
// <body data-ready="true"> once the panels exist, and window.__experiments = { results, errors, run(name, params) }
// (run resolves with the result or the error text, and shows either in the panel).
import * as Plot from './dist/plot.mjs';
import { experiments } from '../../bundles/browser/experiments.mjs';

const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const W = 520, H = 320, DEBOUNCE_MS = 250;
const $ = (sel, el = document) => el.querySelector(sel);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null) el.append(c);
  return el;
}

/** A number for display: 6 significant digits, exponent when tiny or huge (as the HTML report). */
function num(v) {
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e6 ? v.toExponential(3) : String(Number(v.toPrecision(6)));
}

// ---- plots ----------------------------------------------------------------------------------------------------

const svgNS = 'http://www.w3.org/2000/svg';
function swatch(color, { dashed = false, marker } = {}) {
  const s = document.createElementNS(svgNS, 'svg');
  s.setAttribute('width', '22'); s.setAttribute('height', '12');
  if (marker) {
    if (marker === 'cross') {
      s.innerHTML = `<path d="M7 2L15 10M15 2L7 10" stroke="${color}" stroke-width="2"/>`;
    } else {
      s.innerHTML = `<circle cx="11" cy="6" r="4" fill="${marker === 'ring' ? 'none' : color}" stroke="${color}" stroke-width="1.5"/>`;
    }
  } else {
    s.innerHTML = `<line x1="1" y1="6" x2="21" y2="6" stroke="${color}" stroke-width="2.5"${dashed ? ' stroke-dasharray="4 2"' : ''}/>`;
  }
  return s;
}
const legend = (entries) => h('div', { class: 'legend' },
  entries.map((e) => h('span', {}, swatch(e.color, e), e.name)));

/** 1e-6 style labels at exact powers of ten, none between them (the log axis' minor ticks). */
function powerOfTen(v) {
  const e = Math.log10(v);
  if (Math.abs(e - Math.round(e)) > 1e-9) return '';
  const k = Math.round(e);
  return k >= -2 && k <= 3 ? String(10 ** k >= 1 ? 10 ** k : Number((10 ** k).toFixed(-k))) : `1e${k}`;
}

function linePlot(spec) {
  const logY = !!spec.logY;
  const ok = (x, y) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const entries = [];
  const marks = [];
  const xs = [];
  spec.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    // Non-finite values (and y <= 0 on a log axis) are gaps, as in the SVG report.
    const rows = s.x.map((x, i) => (ok(x, s.y[i]) ? { x, y: s.y[i] } : { x: NaN, y: NaN }));
    for (const r of rows) if (Number.isFinite(r.x)) xs.push(r.x);
    marks.push(Plot.line(rows, { x: 'x', y: 'y', stroke: color, strokeWidth: 1.8,
      strokeDasharray: s.dashed ? '6 4' : undefined, title: () => s.name }));
    entries.push({ name: s.name, color, dashed: !!s.dashed });
  });
  const hLines = (spec.hLines ?? []).filter((l) => Number.isFinite(l.y) && (!logY || l.y > 0));
  if (hLines.length) {
    marks.push(Plot.ruleY(hLines, { y: 'y', stroke: '#999', strokeDasharray: '4 3' }));
    marks.push(Plot.text(hLines, { y: 'y', text: 'label', frameAnchor: 'left', textAnchor: 'start', dx: 4, dy: -7, fill: '#666' }));
  }
  const plot = Plot.plot({
    width: W, height: H, grid: true, marginLeft: 56,
    x: { label: spec.xLabel, ...(xs.length ? {} : { domain: [0, 1] }) },
    // Log ticks as powers of ten (Plot's default SI prefixes read '10z' or '0000001y' for tiny values).
    y: { label: spec.yLabel, ...(logY ? { type: 'log', tickFormat: powerOfTen } : {}) },
    marks,
  });
  return { plot, legend: legend(entries) };
}

const circle = Array.from({ length: 129 }, (_, i) => ({ x: Math.cos(i * Math.PI / 64), y: Math.sin(i * Math.PI / 64) }));
function scatterPlot(spec) {
  const pts = spec.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = pts.map((p) => p.x), ys = pts.map((p) => p.y);
  if (spec.unitCircle) { xs.push(-1.1, 1.1); ys.push(-1.1, 1.1); }
  const pad = (v) => {
    let lo = Math.min(...v), hi = Math.max(...v);
    if (!Number.isFinite(lo)) { lo = -1; hi = 1; }
    if (hi - lo === 0) { lo -= 1; hi += 1; }
    const p = (hi - lo) * 0.08;
    return [lo - p, hi + p];
  };
  let xd = pad(xs), yd = pad(ys);
  const marks = [];
  if (spec.unitCircle) {
    // Equal axis scales: the same span on both axes and aspectRatio 1, so the unit circle is round.
    const span = Math.max(xd[1] - xd[0], yd[1] - yd[0]);
    const cx = (xd[0] + xd[1]) / 2, cy = (yd[0] + yd[1]) / 2;
    xd = [cx - span / 2, cx + span / 2]; yd = [cy - span / 2, cy + span / 2];
    marks.push(Plot.ruleX([0], { stroke: '#bbb' }), Plot.ruleY([0], { stroke: '#bbb' }));
    marks.push(Plot.line(circle, { x: 'x', y: 'y', stroke: '#444', strokeDasharray: '5 3' }));
  }
  // One dot mark per (colour, marker): constant colours, so no colour scale is involved.
  const groups = new Map();
  for (const p of pts) {
    const key = `${p.color ?? PALETTE[0]}|${p.marker ?? 'dot'}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(p);
  }
  for (const [key, g] of groups) {
    const [color, marker] = key.split('|');
    const style = marker === 'cross' ? { symbol: 'times', stroke: color, strokeWidth: 1.8, r: 4 }
      : marker === 'ring' ? { stroke: color, fill: 'none', strokeWidth: 1.5, r: 4 }
        : { fill: color, r: 3.5 };
    marks.push(Plot.dot(g, { x: 'x', y: 'y', ...style, title: (d) => d.label ?? `(${num(d.x)}, ${num(d.y)})` }));
  }
  const plot = Plot.plot({
    width: spec.unitCircle ? Math.round(W * 0.8) : W, grid: true, marginLeft: 56,
    ...(spec.unitCircle ? { aspectRatio: 1 } : { height: H }),
    x: { label: spec.xLabel, domain: xd }, y: { label: spec.yLabel, domain: yd },
    marks,
  });
  return { plot, legend: spec.legend?.length ? legend(spec.legend.map((l) => ({ ...l, marker: l.marker ?? 'dot' }))) : null };
}

function drawPlot(spec, i) {
  const { plot, legend: lg } = spec.type === 'line' ? linePlot(spec) : scatterPlot(spec);
  return h('figure', { 'data-plot': i, 'data-type': spec.type }, h('figcaption', {}, spec.title), lg, plot);
}

// ---- verdict --------------------------------------------------------------------------------------------------

function checksTable(checks) {
  return h('table', { class: 'checks' },
    h('thead', {}, h('tr', {}, h('th', {}, 'check'), h('th', {}, 'measured'), h('th', {}, 'required'), h('th', {}, ''))),
    h('tbody', {}, checks.map((c) => h('tr', { class: c.holds ? 'ok' : 'bad', 'data-holds': String(c.holds) },
      h('td', { class: 'l' }, c.name),
      h('td', { 'data-value': String(c.value) }, num(c.value)),
      h('td', {}, c.op === '==' ? `= ${num(c.bound)} ± ${num(c.tolerance ?? 0)}` : `${c.op} ${num(c.bound)}`),
      h('td', {}, c.holds ? 'holds' : 'fails')))));
}

// ---- panels ---------------------------------------------------------------------------------------------------

const workers = {};
const pending = new Map(); // id -> { resolve }
let nextId = 1;
function worker(kind) {
  if (!workers[kind]) {
    const w = new Worker(new URL('./experiments-worker.mjs', import.meta.url), { type: 'module' });
    w.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'engine') return;
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      p.resolve(m);
    };
    w.onerror = (e) => {
      // A worker that fails to load answers nothing: fail everything it still owes.
      const error = `the ${kind} worker failed: ${e.message ?? e}`;
      $('#error').textContent = error;
      for (const [id, p] of pending) if (p.kind === kind) { pending.delete(id); p.resolve({ id, type: 'error', error }); }
    };
    workers[kind] = w;
  }
  return workers[kind];
}

const panels = new Map(); // name -> panel state
window.__experiments = { results: {}, errors: {}, run: (name, params) => runPanel(panels.get(name), params) };

function runPanel(panel, override) {
  if (!panel) return Promise.reject(new Error('unknown experiment'));
  const { exp, el } = panel;
  const params = override ?? { ...panel.values };
  const id = nextId++;
  panel.latest = id;
  el.dataset.state = 'running';
  panel.status.textContent = exp.usesEngine ? 'running (training in the worker)…' : 'running…';
  panel.runButton.disabled = exp.usesEngine;
  const kind = exp.usesEngine ? 'engine' : 'quick';
  const t0 = performance.now();
  return new Promise((resolve) => {
    pending.set(id, { kind, resolve });
    worker(kind).postMessage({ id, name: exp.name, params });
  }).then((m) => {
    if (panel.latest !== id) return m.type === 'result' ? m.result : m.error; // superseded by a newer run
    panel.runButton.disabled = false;
    const wall = ((performance.now() - t0) / 1000).toFixed(2);
    if (m.type === 'error') {
      el.dataset.state = 'error';
      delete el.dataset.holds;
      panel.error.textContent = m.error;
      panel.output.replaceChildren();
      panel.status.textContent = 'error';
      window.__experiments.errors[exp.name] = m.error;
      delete window.__experiments.results[exp.name];
      return m.error;
    }
    showResult(panel, m.result, wall, m.engine);
    return m.result;
  });
}

function showResult(panel, r, wall, engine) {
  const { el } = panel;
  panel.error.textContent = '';
  const v = r.verdict;
  const plots = [];
  const failed = [];
  r.plots.forEach((p, i) => {
    try { plots.push(drawPlot(p, i)); } catch (err) { failed.push(`plot ${i + 1} (${p.title}): ${err.message ?? err}`); }
  });
  panel.output.replaceChildren(
    h('div', { class: 'plots' }, plots),
    h('p', { class: `verdict ${v.holds ? 'ok' : 'bad'}` }, v.holds ? 'Holds. ' : 'Does not hold. ',
      h('span', { class: 'summary' }, v.summary)),
    checksTable(v.checks),
  );
  if (failed.length) panel.error.textContent = failed.join('\n');
  el.dataset.params = JSON.stringify(r.params);
  el.dataset.holds = String(v.holds);
  el.dataset.state = failed.length ? 'error' : 'done';
  panel.status.textContent = `${r.elapsedMs} ms in the worker (${wall} s round trip)` +
    (engine ? `, engine ${engine.flavour}` : '');
  panel.tocMark.textContent = v.holds ? 'holds' : 'does not hold';
  panel.tocMark.className = v.holds ? 'ok' : 'bad';
  window.__experiments.results[r.name] = r;
  delete window.__experiments.errors[r.name];
  updateSummary();
}

function updateSummary() {
  const done = [...panels.values()].filter((p) => p.el.dataset.holds !== undefined);
  const held = done.filter((p) => p.el.dataset.holds === 'true').length;
  $('#summary').textContent = `${panels.size} experiments; ${done.length} run, ${held} of them hold with the parameters shown.`;
}

function paramControl(panel, key, spec) {
  const id = `p-${panel.exp.name}-${key}`;
  if (spec.kind === 'choice') {
    const sel = h('select', { id, name: key, 'data-param': key },
      spec.options.map((o) => h('option', { value: o, selected: o === spec.default }, o)));
    const out = h('output', { for: id }, spec.default);
    sel.addEventListener('change', () => { panel.values[key] = sel.value; out.textContent = sel.value; changed(panel); });
    panel.reset.push(() => { sel.value = spec.default; out.textContent = spec.default; });
    return [h('label', { for: id }, spec.label), sel, out, h('span', { class: 'help' }, spec.description)];
  }
  const step = spec.step ?? (spec.integer ? 1 : (spec.max - spec.min) / 100);
  const input = h('input', { id, name: key, type: 'range', min: spec.min, max: spec.max, step, value: spec.default,
    'data-param': key });
  const out = h('output', { for: id }, num(spec.default));
  // The slider snaps to its step grid; the value used is the default until the slider moves (a default off the
  // grid is still run exactly).
  input.addEventListener('input', () => {
    const v = Number(input.value);
    panel.values[key] = spec.integer ? Math.round(v) : v;
    out.textContent = num(panel.values[key]);
    changed(panel);
  });
  panel.reset.push(() => { input.value = String(spec.default); out.textContent = num(spec.default); });
  return [h('label', { for: id, title: key }, spec.label), input, out, h('span', { class: 'help' }, spec.description)];
}

function changed(panel) {
  if (panel.exp.usesEngine) {
    if (panel.el.dataset.state !== 'running') panel.status.textContent = 'parameters changed: press Run';
    return;
  }
  clearTimeout(panel.timer);
  panel.timer = setTimeout(() => runPanel(panel), DEBOUNCE_MS);
}

const defaults = (exp) => Object.fromEntries(Object.entries(exp.params).map(([k, s]) => [k, s.default]));

function buildPanel(exp) {
  const panel = { exp, values: defaults(exp), reset: [], latest: 0, timer: undefined };
  panel.status = h('span', { class: 'status' }, exp.usesEngine ? 'not run yet (trains a model: several seconds)' : '');
  panel.runButton = h('button', { type: 'button', class: 'run', onclick: () => runPanel(panel) }, 'Run');
  const resetButton = h('button', { type: 'button', class: 'reset', onclick: () => {
    panel.values = defaults(exp);
    for (const f of panel.reset) f();
    changed(panel);
  } }, 'Defaults');
  panel.error = h('p', { class: 'error' });
  panel.output = h('div', { class: 'result' });
  const specs = Object.entries(exp.params);
  panel.el = h('section', { class: 'experiment', id: exp.name, 'data-name': exp.name, 'data-state': 'idle',
    'data-uses-engine': String(exp.usesEngine) },
    h('h2', {}, `${exp.number}. ${exp.title}`, exp.usesEngine ? h('small', { title: 'runs the WebAssembly engine' }, ' (trains)') : null),
    h('p', { class: 'claim' }, h('b', {}, 'Claim. '), exp.claim),
    h('p', { class: 'description' }, exp.description),
    specs.length ? h('div', { class: 'params' }, specs.map(([k, s]) => paramControl(panel, k, s))) : h('p', {}, 'No parameters.'),
    h('div', { class: 'controls' }, panel.runButton, resetButton, panel.status),
    panel.error, panel.output);
  panel.tocMark = h('span', {}, exp.usesEngine ? 'not run' : '');
  $('#toc').append(h('li', {}, h('a', { href: `#${exp.name}` }, `${exp.number}. ${exp.title}`), ' ', panel.tocMark));
  $('#experiments').append(panel.el);
  panels.set(exp.name, panel);
  return panel;
}

try {
  for (const exp of experiments) buildPanel(exp);
  updateSummary();
  document.body.dataset.ready = 'true';
  for (const p of panels.values()) if (!p.exp.usesEngine) runPanel(p);
} catch (err) {
  $('#error').textContent = String(err?.stack ?? err);
  document.body.dataset.ready = 'error';
}
