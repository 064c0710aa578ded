// Training runs for the determinism checks of test/reliability-numerics.test.ts, in plain JavaScript so that a
// fresh Node process can run them on dist/ (`trainOnce(await import('rnn-wasm'), spec)`) as well as vitest on
// src/. Datasets are (N, T, I) whatever the model's layout (fit's convention); targets (N, T, 2) for a per-step
// head, (N, 2) for a head on the last state; ragged lengths hold full rows, length-1 rows and everything between.
import { createHash } from 'node:crypto';

const I = 3;
const H = 12;
const T = 9;
const OUT = 2;

/** @type {import('./reliability-train.d.mts').TrainSpec[]} */
export const TRAIN_SPECS = [
  { name: 'LSTM 2 layers bidirectional, Adam, clip norm, shuffle, validation, lengths', cell: 'LSTM', L: 2, bi: true,
    bf: true, head: 'sequence', optimizer: 'adam', clipGradNorm: 0.5, shuffle: true, ragged: true, validation: true,
    epochs: 3 },
  { name: 'LSTM projSize 2 layers bidirectional, SGD momentum, clip value, last-state head, lengths', cell: 'LSTM_PROJ',
    L: 2, bi: true, bf: false, head: 'last', optimizer: 'sgd-momentum', clipGradValue: 0.05, shuffle: true,
    ragged: true, validation: true, epochs: 3 },
  { name: 'GRU 3 layers bidirectional, SGD momentum, clip norm, shuffle, validation, lengths', cell: 'GRU', L: 3,
    bi: true, bf: true, head: 'sequence', optimizer: 'sgd-momentum', clipGradNorm: 1, shuffle: true, ragged: true,
    validation: true, epochs: 3 },
  { name: 'GRU reset-before 2 layers, Adam, no shuffle, truncated BPTT', cell: 'GRU_BEFORE', L: 2, bi: false,
    bf: false, head: 'sequence', optimizer: 'adam', shuffle: false, ragged: false, validation: true, tbptt: 4,
    epochs: 2 },
  { name: 'RNN tanh 2 layers bidirectional, Adam, clip value, last-state head, lengths', cell: 'RNN_TANH', L: 2,
    bi: true, bf: false, head: 'last', optimizer: 'adam', clipGradValue: 0.1, shuffle: true, ragged: true,
    validation: true, epochs: 3 },
  { name: 'RNN relu 2 layers, SGD momentum, clip norm, shuffle, validation, lengths', cell: 'RNN_RELU', L: 2, bi: false,
    bf: true, head: 'sequence', optimizer: 'sgd-momentum', clipGradNorm: 0.5, shuffle: true, ragged: true,
    validation: true, epochs: 3 },
];

function layer(lib, s, seed) {
  const o = { inputSize: I, hiddenSize: H, numLayers: s.L, bidirectional: s.bi, batchFirst: s.bf, seed };
  switch (s.cell) {
    case 'LSTM': return new lib.LSTM(o);
    case 'LSTM_PROJ': return new lib.LSTM({ ...o, projSize: 5 });
    case 'GRU': return new lib.GRU(o);
    case 'GRU_BEFORE': return new lib.GRU({ ...o, resetAfter: false });
    case 'RNN_TANH': return new lib.RNN(o);
    case 'RNN_RELU': return new lib.RNN({ ...o, nonlinearity: 'relu' });
    default: throw new Error(`unknown cell ${s.cell}`);
  }
}

function data(lib, s, N, seed) {
  const r = new lib.Random(seed);
  const x = Float32Array.from({ length: N * T * I }, () => r.normal());
  const at = (n, t, w, k) => (n * T + t) * w + k;
  let targets;
  if (s.head === 'last') {
    targets = { shape: [N, OUT], data: Float32Array.from({ length: N * OUT }, () => r.uniform(-1, 1)) };
  } else {
    const y = new Float32Array(N * T * OUT);
    for (let n = 0; n < N; n++) {
      for (let t = 0; t < T; t++) {
        y[at(n, t, OUT, 0)] = Math.tanh(x[at(n, t, I, 0)] + (t > 0 ? x[at(n, t - 1, I, 1)] : 0));
        y[at(n, t, OUT, 1)] = 0.5 * x[at(n, t, I, 2)];
      }
    }
    targets = { shape: [N, T, OUT], data: y };
  }
  const d = { inputs: { shape: [N, T, I], data: x }, targets };
  if (s.ragged) d.lengths = Array.from({ length: N }, (_, n) => (n % 5 === 0 ? T : n % 5 === 1 ? 1 : 1 + r.int(T)));
  return d;
}

/** Fits a fresh model (fixed seeds everywhere) and returns its weights as raw bits and every recorded loss. */
export function trainOnce(lib, s) {
  const rnn = layer(lib, s, 101);
  const m = new lib.SequenceModel({
    rnn, head: new lib.Linear({ inFeatures: rnn.numDirections * rnn.outputSize, outFeatures: OUT, seed: 102 }),
    headInput: s.head,
  });
  try {
    const optimizer = s.optimizer === 'adam' ? new lib.Adam(m.parameters(), { lr: 0.01 })
      : new lib.SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    const run = { weights: {}, losses: [], gradNorms: [], epochs: [] };
    lib.fit(m, data(lib, s, 30, 7), {
      epochs: s.epochs, batchSize: 8, optimizer, seed: 13, shuffle: s.shuffle, clipGradNorm: s.clipGradNorm,
      clipGradValue: s.clipGradValue, tbptt: s.tbptt, validation: s.validation ? data(lib, s, 12, 8) : undefined,
      onStepEnd: (st) => { run.losses.push(st.loss); run.gradNorms.push(st.gradNorm); },
      onEpochEnd: (e) => run.epochs.push({ loss: e.loss, valLoss: e.valLoss, lr: e.lr, skippedSteps: e.skippedSteps }),
    });
    optimizer.dispose();
    for (const [n, t] of Object.entries(m.stateDict())) run.weights[n] = new Uint32Array(Float32Array.from(t.data).buffer);
    return run;
  } finally {
    m.dispose();
  }
}

/** SHA-256 over the weights' names and bits and the step losses' float64 bits. */
export function hashRun(r) {
  const h = createHash('sha256');
  for (const n of Object.keys(r.weights)) {
    h.update(n);
    h.update(new Uint8Array(r.weights[n].buffer));
  }
  h.update(new Uint8Array(Float64Array.from(r.losses).buffer));
  return h.digest('hex');
}
