// Training in a Node worker thread, so that a long fit() does not block the main thread (an HTTP server, a UI
// loop). Training is synchronous and runs on the calling thread, so the way to keep the main thread free is
// to call it from a worker_threads Worker; this file is a small helper for that, and a demo:
//
//   node examples/worker-training.mjs      # after `npm run build`: trains in a worker while the main thread ticks
//
// Use:  import { runInWorker } from './worker-training.mjs';
//       const losses = await runInWorker(new URL('./my-job.mjs', import.meta.url), 'train', [args...],
//                                        { onProgress: (p) => console.log(p) });
// where my-job.mjs exports `train(lib, ...args, report, signal)`: `lib` is rnn-wasm (init() already called in the
// worker), `report(value)` posts a progress message to onProgress, and the return value (anything structured
// clone can copy: numbers, arrays, typed arrays, plain objects, e.g. a model's stateDict() or saveModel()
// bytes) resolves the promise. An exception in the job rejects it, and so does a worker that exits without a
// result (process.exit in the job, a crash). The worker exits when the job is done.
//
// Cancelling: runInWorker(..., { signal }) with an AbortSignal. fit() is synchronous in the worker, so a message
// cannot reach it mid-fit; instead the abort sets a flag in a SharedArrayBuffer, and the job's `signal` (pass it
// to fit) is aborted at the job's next report() call, which reads the flag. So call report() from fit's
// onStepEnd: fit then stops after the step in progress, the model keeps the weights of the last completed step,
// and the job returns normally (e.g. the model's state): the promise resolves with that, not a rejection.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const LIB = new URL('../dist/index.js', import.meta.url); // in an application: 'rnn-wasm'

/**
 * Runs `exportName` of the module at `moduleUrl` in a new worker thread; resolves with what it returns.
 * Options: `onProgress(value)` receives the job's report() values; `init` is passed to the worker's init();
 * `signal` (an AbortSignal) asks the job to stop (see the header: its signal aborts at its next report()).
 */
export function runInWorker(moduleUrl, exportName, args = [], { onProgress, init = { threads: 1 }, signal } = {}) {
  return new Promise((resolve, reject) => {
    const abortFlag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { rnnWasmJob: { module: String(moduleUrl), exportName, args, init, abortFlag } },
    });
    let settled = false;
    const onAbort = () => Atomics.store(abortFlag, 0, 1);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (f, v) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f(v);
    };
    worker.on('message', (m) => {
      if (m.progress !== undefined) { if (!settled) onProgress?.(m.progress); }
      else if ('result' in m) settle(resolve, m.result);
      else if (m.error) settle(reject, new Error(`in the training worker: ${m.error}`));
    });
    worker.on('error', (e) => settle(reject, e));
    worker.on('exit', (code) => settle(reject, new Error(`the training worker exited (code ${code}) before ` +
      `returning a result (process.exit in the job, or a crash)`)));
  });
}

// Not a top-level await: the job's module may be this file, whose import must not wait for itself.
if (!isMainThread && workerData?.rnnWasmJob) void (async (job) => {
  try {
    const lib = await import(LIB.href);
    await lib.init(job.init);
    const fn = (await import(job.module))[job.exportName];
    if (typeof fn !== 'function') throw new Error(`${job.module} has no exported function ${job.exportName}`);
    const controller = new AbortController();
    const report = (progress) => {
      if (!controller.signal.aborted && Atomics.load(job.abortFlag, 0) === 1) controller.abort();
      parentPort.postMessage({ progress });
    };
    if (Atomics.load(job.abortFlag, 0) === 1) controller.abort();
    const result = await fn(lib, ...job.args, report, controller.signal);
    parentPort.postMessage({ result });
  } catch (e) {
    parentPort.postMessage({ error: String(e?.stack ?? e) });
  }
})(workerData.rnnWasmJob);

/** The demo's job: next-step prediction of sines, an LSTM + Linear head; returns the loss of each epoch. */
export function demoTraining(lib, epochs, report) {
  const N = 64, T = 40, inputs = [], targets = [];
  for (let n = 0; n < N; n++) {
    const f = 0.1 + 0.2 * (n / N), ph = n;
    for (let t = 0; t < T; t++) { inputs.push(Math.sin(f * t + ph)); targets.push(Math.sin(f * (t + 1) + ph)); }
  }
  const model = new lib.SequenceModel({
    rnn: new lib.LSTM({ inputSize: 1, hiddenSize: 32, batchFirst: true, seed: 1 }),
    head: new lib.Linear({ inFeatures: 32, outFeatures: 1, seed: 2 }),
  });
  try {
    const h = lib.fit(model, { inputs: { data: inputs, shape: [N, T, 1] }, targets: { data: targets, shape: [N, T, 1] } },
      { epochs, batchSize: 16, onEpochEnd: (e) => report({ epoch: e.epoch, loss: e.loss }) });
    return h.epochs.map((e) => e.loss);
  } finally {
    model.dispose();
  }
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10); // the main thread stays free while the worker trains
  const losses = await runInWorker(import.meta.url, 'demoTraining', [30], {
    onProgress: (p) => { if (p.epoch % 10 === 9) console.log(`epoch ${p.epoch + 1}: loss ${p.loss.toFixed(5)}`); },
  });
  clearInterval(timer);
  console.log(`trained in a worker: loss ${losses[0].toFixed(4)} -> ${losses.at(-1).toFixed(4)}; ` +
    `the main thread ran ${ticks} timer ticks meanwhile`);
}
