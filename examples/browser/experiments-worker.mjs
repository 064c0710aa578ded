// Module Web Worker of the experiments page (experiments.html): runs one experiment of the registry per message
// { id, name, params } and posts back { id, result } (an ExperimentResult: plain numbers, strings and arrays) or
// { id, error }. The engine (init() of the browser bundle, which fetches the .wasm from next to the bundle) is
// loaded once, the first time an experiment with usesEngine runs. Running here keeps the page responsive while
// training-based experiments take seconds; messages are handled one after the other.
import { init } from '../../bundles/browser/rnn-wasm.mjs';
import { getExperiment } from '../../bundles/browser/experiments.mjs';

let engine;

self.onmessage = async (e) => {
  const { id, name, params } = e.data;
  try {
    const experiment = getExperiment(name);
    if (experiment.usesEngine && !engine) {
      const t0 = performance.now();
      const en = await init({ threads: 1 });
      engine = { flavour: en.flavour, ms: performance.now() - t0 };
      self.postMessage({ id, type: 'engine', engine });
    }
    const result = experiment.run(params);
    self.postMessage({ id, type: 'result', result, engine: experiment.usesEngine ? engine : undefined });
  } catch (err) {
    const error = err && err.name && err.message ? `${err.name}: ${err.message}` : String(err);
    self.postMessage({ id, type: 'error', error, stack: String(err?.stack ?? '') });
  }
};
