// The demo page: starts worker.mjs (a module Web Worker that trains and analyses), draws the live loss curves
// with Observable Plot (bundled into dist/plot.mjs by build.mjs) and, at the end, the analysis. Key numbers go into
// [data-key] cells and <body data-done="true"> marks the end (test/demo.test.ts reads both); window.__demo holds
// the raw results.
import * as Plot from './dist/plot.mjs';

const COLORS = { domain: ['LSTM', 'RNN'], range: ['#1f77b4', '#d62728'] };
const NAME = { lstm: 'LSTM', rnn: 'RNN' };
const W = 500, Hh = 300;
const $ = (sel) => document.querySelector(sel);
const setKey = (k, v) => { const el = document.querySelector(`[data-key="${k}"]`); if (el) el.textContent = v; };
const fmt = (x, d = 4) => (Number.isFinite(x) ? (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(d)) : String(x));
const draw = (name, plot) => { const el = $(`[data-plot="${name}"]`); el.replaceChildren(plot); };

const steps = [];   // { model, epoch, loss }
const epochs = [];  // { model, epoch, valLoss }
let pending = false;
let cfg = { T: 30 };

function drawLoss() {
  pending = false;
  draw('loss', Plot.plot({
    width: W, height: Hh, grid: true, color: { ...COLORS, legend: true },
    x: { label: 'epoch' }, y: { type: 'log', label: 'MSE' },
    marks: [
      Plot.ruleY([1 / 6], { stroke: '#999', strokeDasharray: '4 3' }),
      Plot.line(steps, { x: 'epoch', y: 'loss', stroke: (d) => NAME[d.model], strokeWidth: 1, strokeOpacity: 0.5 }),
      Plot.line(epochs, { x: 'epoch', y: 'valLoss', stroke: (d) => NAME[d.model], strokeWidth: 2 }),
      Plot.dot(epochs, { x: 'epoch', y: 'valLoss', fill: (d) => NAME[d.model], r: 3 }),
    ],
  }));
}

const circle = Array.from({ length: 129 }, (_, i) => ({ re: Math.cos(i * Math.PI / 64), im: Math.sin(i * Math.PI / 64) }));
function eigenPlot(blocks, name) {
  const points = blocks.flatMap((b) => b.eigenvalues.map((e) => ({ ...e, block: b.name })));
  const lim = Math.max(1.1, ...points.map((p) => Math.hypot(p.re, p.im) * 1.05));
  draw(name, Plot.plot({
    width: W, height: W * 0.8, grid: true, aspectRatio: 1,
    x: { domain: [-lim, lim], label: 'Re λ' }, y: { domain: [-lim, lim], label: 'Im λ' },
    color: { legend: blocks.length > 1, type: 'ordinal', scheme: 'tableau10' },
    marks: [
      Plot.line(circle, { x: 're', y: 'im', stroke: '#888', strokeDasharray: '4 3' }),
      Plot.dot(points, { x: 're', y: 'im', fill: blocks.length > 1 ? 'block' : '#d62728', r: 3.5, tip: true }),
    ],
  }));
  return points.length;
}

function drawAnalysis(results) {
  const both = [results.lstm, results.rnn];
  for (const r of both) {
    const k = r.model;
    setKey(`${k}-final-loss`, fmt(r.finalLoss));
    setKey(`${k}-seconds`, r.seconds.toFixed(2));
    setKey(`${k}-spectral-radius`, fmt(Math.max(...r.blocks.map((b) => b.spectralRadius))));
    setKey(`${k}-linearization-radius`, fmt(r.linearization.spectralRadius));
    setKey(`${k}-gradient-verdict`, `${r.gradientFlow.verdict} (${r.gradientFlow.slopePerStep.toFixed(3)})`);
    setKey(`${k}-gradient-last`, fmt(r.gradientFlow.norms[0]));
  }
  setKey('rnn-eigenvalues', eigenPlot(results.rnn.blocks, 'eigenvalues-rnn'));
  setKey('lstm-eigenvalues', eigenPlot(results.lstm.blocks, 'eigenvalues-lstm'));

  const flow = both.flatMap((r) => r.gradientFlow.lags.map((lag, i) => ({ model: NAME[r.model], lag, norm: r.gradientFlow.norms[i] })))
    .filter((d) => d.norm > 0);
  draw('gradient-flow', Plot.plot({
    width: W, height: Hh, grid: true, color: { ...COLORS, legend: true },
    x: { label: 'lag (steps back)' }, y: { type: 'log', label: '||∏ J||₂' },
    marks: [Plot.line(flow, { x: 'lag', y: 'norm', stroke: 'model', strokeWidth: 2 }),
      Plot.dot(flow, { x: 'lag', y: 'norm', fill: 'model', r: 2 })],
  }));

  const taus = results.lstm.timeConstants.filter((u) => Number.isFinite(u.tau) && u.tau > 0);
  const sorted = taus.map((u) => u.tau).sort((a, b) => a - b);
  setKey('lstm-tau-median', sorted.length ? fmt(sorted[Math.floor(sorted.length / 2)], 2) : 'n/a');
  draw('forget-gates', Plot.plot({
    width: W, height: Hh, grid: true, x: { label: 'unit' }, y: { type: 'log', label: 'τ (steps)' },
    marks: [Plot.ruleY([cfg.T], { stroke: '#999', strokeDasharray: '4 3' }),
      Plot.dot(taus, { x: 'unit', y: 'tau', fill: '#1f77b4', r: 4, tip: true })],
  }));

  const freq = both.flatMap((r) => r.frequency.omega.map((w, i) => ({ model: NAME[r.model], omega: w, db: r.frequency.magnitudeDb[i] })))
    .filter((d) => Number.isFinite(d.db));
  draw('frequency', Plot.plot({
    width: W, height: Hh, grid: true, color: { ...COLORS, legend: true },
    x: { label: 'ω (rad / step)', domain: [0, Math.PI] }, y: { label: '|H| (dB)' },
    marks: [Plot.line(freq, { x: 'omega', y: 'db', stroke: 'model', strokeWidth: 2 })],
  }));
}

const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
window.__demo = { progress: steps, epochs, results: null };
worker.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'start') {
    cfg = m.config;
    $('#task').textContent = `${m.config.T}-step adding problem`;
    $('#status').textContent = `training the LSTM (${m.flavour})`;
  } else if (m.type === 'progress') {
    if (m.valLoss !== undefined) {
      epochs.push({ model: m.model, epoch: m.epoch, valLoss: m.valLoss });
      if (m.epoch === 0) setKey(`${m.model}-initial-loss`, fmt(m.valLoss));
    } else steps.push({ model: m.model, epoch: m.epoch, loss: m.loss });
    if (!pending) { pending = true; requestAnimationFrame(drawLoss); }
  } else if (m.type === 'trained') {
    setKey(`${m.model}-final-loss`, fmt(m.finalLoss));
    $('#status').textContent = m.model === 'lstm' ? 'training the RNN' : 'analysing';
  } else if (m.type === 'analysis') {
    drawLoss();
    drawAnalysis(m.results);
    window.__demo.results = m.results;
    $('#status').textContent = 'done';
    document.body.dataset.done = 'true';
    worker.terminate();
  } else if (m.type === 'error') {
    $('#error').textContent = m.error;
    $('#status').textContent = 'error';
    document.body.dataset.done = 'error';
    window.__demo.error = m.error;
  }
};
// Overrides of task.mjs' CONFIG from the query string, e.g. ?epochs=20&hidden=32.
const config = Object.fromEntries([...new URLSearchParams(location.search)].map(([k, v]) => [k, Number(v)]));
worker.postMessage({ config });
worker.onerror = (e) => {
  $('#error').textContent = String(e.message ?? e);
  document.body.dataset.done = 'error';
  window.__demo.error = String(e.message ?? e);
};
