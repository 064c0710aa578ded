// A module Web Worker importing the browser bundle: the fixed LSTM case, then a short fit() whose loss history it
// posts back (training in a worker keeps the page's main thread free). Here the .wasm is found by the bundle's
// default location (next to the bundle).
import * as lib from '/bundle/rnn-wasm.mjs';
import { lstmCase } from '/case/lstm-case.mjs';
import { trainingRun } from '/case/training-run.mjs';

self.onmessage = async (e) => {
  try {
    const engine = await lib.init({ simd: 'simd', threads: 1 });
    self.postMessage({ flavour: engine.flavour, ...lstmCase(lib), losses: trainingRun(lib, e.data.epochs) });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
