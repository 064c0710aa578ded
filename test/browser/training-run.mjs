// A short, fixed fit(): next-step prediction of fixed sequences by an LSTM + Linear head, 3 epochs of Adam. The
// same in Node (examples/worker-training.mjs in a worker_threads Worker) and in a browser Web Worker. Returns the
// loss of each epoch. `lib` is the library's module; init() must have been called.
import { fixed } from './lstm-case.mjs';

export function trainingRun(lib, epochs = 3) {
  const N = 16, T = 12;
  const xs = fixed(N * (T + 1), 7);
  const inputs = [], targets = [];
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) {
      inputs.push(xs[n * (T + 1) + t]);
      targets.push(xs[n * (T + 1) + t + 1]);
    }
  }
  const model = new lib.SequenceModel({
    rnn: new lib.LSTM({ inputSize: 1, hiddenSize: 8, batchFirst: true, seed: 3 }),
    head: new lib.Linear({ inFeatures: 8, outFeatures: 1, seed: 4 }),
  });
  const optimizer = new lib.Adam(model.parameters(), { lr: 0.01 });
  try {
    const h = lib.fit(model, { inputs: { data: inputs, shape: [N, T, 1] }, targets: { data: targets, shape: [N, T, 1] } },
      { epochs, batchSize: 8, seed: 5, optimizer });
    return h.epochs.map((e) => e.loss);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
