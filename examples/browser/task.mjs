// The demo's toy task and training run, shared by the page's Web Worker (worker.mjs, with the browser bundle) and
// Node (with dist/). The adding problem (Hochreiter & Schmidhuber 1997): T steps of (value, marker), one marker in
// each half, target the sum of the two marked values. Predicting the mean scores MSE 1/6 ~ 0.167; solving it
// needs memory across up to T steps, which an LSTM keeps and a vanilla tanh RNN loses (its gradient vanishes).

export const CONFIG = {
  T: 30, hidden: 24, trainSize: 2048, valSize: 256, epochs: 12, batchSize: 32, lr: 0.01, clip: 1,
};

export function adding(lib, N, T, seed) {
  const r = new lib.Random(seed);
  const x = new Float32Array(N * T * 2);
  const y = new Float32Array(N);
  const half = T / 2;
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) x[(n * T + t) * 2] = r.next();
    const a = r.int(half);
    const b = half + r.int(half);
    x[(n * T + a) * 2 + 1] = 1;
    x[(n * T + b) * 2 + 1] = 1;
    y[n] = x[(n * T + a) * 2] + x[(n * T + b) * 2];
  }
  return { inputs: { data: x, shape: [N, T, 2] }, targets: { data: y, shape: [N, 1] } };
}

/** The first sequence of a data set as T rows of [value, marker] (the analysis' input sequence). */
export function firstSequence(data) {
  const [, T, I] = data.inputs.shape;
  return Array.from({ length: T }, (_, t) => Array.from(data.inputs.data.subarray(t * I, (t + 1) * I)));
}

export function makeModel(lib, kind, cfg = CONFIG) {
  const H = cfg.hidden;
  let rnn;
  if (kind === 'lstm') {
    rnn = new lib.LSTM({ inputSize: 2, hiddenSize: H, batchFirst: true, seed: 1 });
    // Forget-gate bias +1 at initialisation (Gers et al. 2000; Keras' unit_forget_bias).
    const sd = rnn.stateDict();
    const b = sd.bias_ih_l0.data;
    for (let i = H; i < 2 * H; i++) b[i] += 1;
    rnn.loadStateDict(sd);
  } else {
    rnn = new lib.RNN({ inputSize: 2, hiddenSize: H, batchFirst: true, seed: 1 });
  }
  return new lib.SequenceModel({ rnn, head: new lib.Linear({ inFeatures: H, outFeatures: 1, seed: 2 }), headInput: 'last' });
}

/**
 * Trains one model on the adding problem; onProgress({ model, epoch, step, loss, valLoss? }) after every
 * `every` optimizer steps and at every epoch's end. Returns the model (the caller disposes of it).
 */
export function trainOne(lib, kind, train, val, onProgress, cfg = CONFIG, every = 8) {
  const model = makeModel(lib, kind, cfg);
  const optimizer = new lib.Adam(model.parameters(), { lr: cfg.lr });
  const stepsPerEpoch = Math.ceil(cfg.trainSize / cfg.batchSize);
  let step = 0, acc = 0, n = 0;
  const initial = lib.evaluate(model, val).loss;
  onProgress({ model: kind, epoch: 0, step: 0, loss: initial, valLoss: initial });
  lib.fit(model, train, {
    epochs: cfg.epochs, batchSize: cfg.batchSize, seed: 3, clipGradNorm: cfg.clip, optimizer, validation: val,
    onStepEnd: (s) => {
      step++; acc += s.loss; n++;
      if (step % every === 0) {
        onProgress({ model: kind, epoch: step / stepsPerEpoch, step, loss: acc / n });
        acc = 0; n = 0;
      }
    },
    onEpochEnd: (e) => onProgress({ model: kind, epoch: e.epoch + 1, step, loss: e.loss, valLoss: e.valLoss }),
  });
  optimizer.dispose();
  return model;
}
