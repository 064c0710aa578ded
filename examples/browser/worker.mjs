// Module Web Worker of the demo page: trains an LSTM and a vanilla tanh RNN on the adding problem with the browser
// bundle (the .wasm is fetched from next to the bundle), posting { type: 'progress' } messages as it goes, then
// analyses both trained models with the analysis bundle and posts { type: 'analysis' }. Training here keeps the
// page's main thread free to draw.
import * as lib from '../../bundles/browser/rnn-wasm.mjs';
import { analyzeModel, cellMap, forgetGateTimeConstants, gradientFlow } from '../../bundles/browser/analysis.mjs';
import { CONFIG, adding, firstSequence, trainOne } from './task.mjs';

const complex = (ev) => Array.from(ev.re, (re, i) => ({ re, im: ev.im[i] }));

function analyse(kind, model, input) {
  const t0 = performance.now();
  const report = analyzeModel(model, { input, fixedPointStarts: 16, frequencyPoints: 96 });
  const cell = cellMap(model.rnn);
  const flow = gradientFlow(cell, input);
  const out = {
    model: kind,
    mode: report.model.mode,
    stateSize: report.model.stateSize,
    // One entry per block of W_hh: the whole matrix for the RNN, W_hi, W_hf, W_hg, W_ho for the LSTM.
    blocks: report.weights.map((b) => ({ name: b.name, spectralRadius: b.spectrum.spectralRadius,
      eigenvalues: complex(b.spectrum.eigenvalues) })),
    linearization: { at: report.linearization.at, spectralRadius: report.linearization.spectrum.spectralRadius },
    gradientFlow: { lags: Array.from(flow.lags), norms: Array.from(flow.norms), verdict: flow.verdict,
      slopePerStep: flow.slopePerStep },
    frequency: { omega: Array.from(report.linearization.frequency.omega),
      magnitudeDb: Array.from(report.linearization.frequency.magnitudeDb[0][0]) },
    timeConstants: null,
  };
  if (kind === 'lstm') {
    const fg = forgetGateTimeConstants(cell, input);
    out.timeConstants = fg.units.map((u, unit) => ({ unit, tau: u.tau, meanForget: u.meanForget }));
  }
  out.analysisSeconds = (performance.now() - t0) / 1000;
  return out;
}

self.onmessage = async (e) => {
  try {
    const cfg = { ...CONFIG, ...(e.data?.config ?? {}) };
    const engine = await lib.init({ simd: 'simd', threads: 1 });
    self.postMessage({ type: 'start', flavour: engine.flavour, config: cfg });
    const train = adding(lib, cfg.trainSize, cfg.T, 1);
    const val = adding(lib, cfg.valSize, cfg.T, 2);
    const input = firstSequence(val);
    const results = {};
    for (const kind of ['lstm', 'rnn']) {
      const t0 = performance.now();
      const model = trainOne(lib, kind, train, val, (p) => self.postMessage({ type: 'progress', ...p }), cfg);
      const seconds = (performance.now() - t0) / 1000;
      const finalLoss = lib.evaluate(model, val).loss;
      self.postMessage({ type: 'trained', model: kind, finalLoss, seconds });
      results[kind] = { finalLoss, seconds, ...analyse(kind, model, input) };
      model.dispose();
    }
    self.postMessage({ type: 'analysis', results });
  } catch (err) {
    self.postMessage({ type: 'error', error: String(err?.stack ?? err) });
  }
};
