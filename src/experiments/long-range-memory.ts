/**
 * Experiment 13, long-range memory: the adding problem (Hochreiter & Schmidhuber 1997) with a lag of T steps,
 * trained with the same budget on an LSTM and on a vanilla tanh RNN of the same size.
 * @module
 */
import { LSTM, RNN } from '../nn/recurrent.js';
import { Linear } from '../nn/linear.js';
import { Random } from '../nn/random.js';
import { SequenceModel } from '../nn/sequence-model.js';
import { Adam } from '../train/optimizers.js';
import { evaluate, fit } from '../train/fit.js';
import type { Dataset } from '../train/fit.js';
import type { RecurrentLayer } from '../nn/recurrent.js';
import { check, defineExperiment, fmt, range, toArray } from './types.js';

/** Results for one of the two nets. */
export interface LongRangeRun {
  /** Validation MSE after each epoch. */
  valLoss: number[];
  /** Final validation MSE. */
  valMse: number;
  /** ||dL/dh_t|| for t = 0..T-1, geometric mean over the first epoch's steps. */
  gradNorms: number[];
  /**
   * ||dL/dh_0|| / ||dL/dh_{T-1}|| (how much of the gradient reaches the start of the sequence), geometric mean over
   * the first epoch's steps.
   */
  earlyOverLate: number;
  /** The same fraction's geometric mean over each epoch's steps. */
  earlyByEpoch: number[];
}

/** Data of {@link longRangeMemory}. */
export interface LongRangeMemoryData {
  lstm: LongRangeRun;
  rnn: LongRangeRun;
  /** The mean predictor's MSE, Var(u_a + u_b) = 2/12 = 1/6. */
  meanPredictorMse: number;
}

/**
 * Adding-problem sequences of T steps of (value, marker): values uniform in [0, 1), one marker in each half; the
 * target is the sum of the two marked values, so the first one must be remembered for up to T steps.
 */
export function addingProblem(N: number, T: number, seed: number): Dataset {
  const r = new Random(seed);
  const x = new Float32Array(N * T * 2);
  const y = new Float32Array(N);
  const half = Math.floor(T / 2);
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) x[(n * T + t) * 2] = r.next();
    const a = r.int(half);
    const b = half + r.int(T - half);
    x[(n * T + a) * 2 + 1] = 1;
    x[(n * T + b) * 2 + 1] = 1;
    y[n] = x[(n * T + a) * 2]! + x[(n * T + b) * 2]!;
  }
  return { inputs: { data: x, shape: [N, T, 2] }, targets: { data: y, shape: [N, 1] } };
}

/**
 * Trains an LSTM (forget-gate bias raised at initialisation) and a tanh RNN of the same hidden size on the adding
 * problem with the same data, optimiser, clipping and seeds, and records the validation MSE per epoch and the
 * hidden-state gradient norms ||dL/dh_t|| (geometric means over each epoch's steps). Needs the engine (`await init()`).
 */
export const longRangeMemory = defineExperiment({
  name: 'long-range-memory',
  number: 13,
  title: 'Long-range memory: LSTM versus vanilla RNN',
  claim: 'Long-range memory: an LSTM learns a 50-step lag that a vanilla RNN of the same size cannot.',
  description: 'The adding problem: T steps of (value, marker), two markers, one in each half, and the target is ' +
    'the sum of the two marked values; predicting the mean scores 1/6. An LSTM and a tanh RNN of the same hidden ' +
    'size get the same budget (Adam, batch 32, gradient clipping at 1, fixed seeds). The second plot shows why the ' +
    'RNN fails: the gradient reaching the early steps, ||dL/dh_t||, has vanished.',
  usesEngine: true,
  params: {
    lag: { kind: 'number', label: 'lag T', description: 'Sequence length (the first marked value can be up to T - 1 steps back).', default: 50, min: 4, max: 200, integer: true },
    hidden: { kind: 'number', label: 'hidden size', description: 'Hidden units of both nets.', default: 32, min: 2, max: 128, integer: true },
    epochs: { kind: 'number', label: 'epochs', description: 'Training epochs of each net.', default: 16, min: 1, max: 100, integer: true },
    trainSequences: { kind: 'number', label: 'training sequences', description: 'Sequences per epoch.', default: 2048, min: 64, max: 16384, integer: true },
    lr: { kind: 'number', label: 'learning rate', description: 'Adam learning rate.', default: 0.005, min: 1e-4, max: 0.05, step: 1e-4 },
    forgetBias: { kind: 'number', label: 'LSTM forget bias', description: 'Added to the LSTM forget-gate bias at initialisation (Gers et al. 2000).', default: 1, min: -3, max: 5, step: 0.1 },
    seed: { kind: 'number', label: 'seed', description: 'Seeds the initialisation (the data and shuffling seeds follow it).', default: 1, min: 0, max: 1e6, integer: true },
  },
  body(p) {
    const T = p.lag, H = p.hidden;
    const train = addingProblem(p.trainSequences, T, p.seed);
    const val = addingProblem(512, T, p.seed + 1);
    const run = (rnn: RecurrentLayer): LongRangeRun => {
      const m = new SequenceModel({ rnn, head: new Linear({ inFeatures: H, outFeatures: 1, seed: p.seed + 1 }), headInput: 'last' });
      const optimizer = new Adam(m.parameters(), { lr: p.lr });
      try {
        // ||dL/dh_t|| of one batch is noisy (it depends on where that batch's markers sit): average logs over the
        // steps of an epoch. The first epoch shows the cause of failure (before training has moved the weights,
        // the RNN's gradient reaching the first steps is ~1e-15 of the last step's, the LSTM's ~1e-6); the RNN's
        // fraction grows later in training, so a single late step is not evidence either way.
        const firstLog = new Float64Array(T);
        let firstCount = 0;
        const perEpoch: { sum: number; count: number }[] = [];
        const hist = fit(m, train, {
          epochs: p.epochs, batchSize: 32, seed: p.seed + 2, clipGradNorm: 1, optimizer, validation: val,
          recordGradNorms: true, onStepEnd: (s) => {
            const n = s.hiddenGradNorms!;
            if (s.epoch === 0) {
              for (let t = 0; t < T; t++) firstLog[t] = firstLog[t]! + Math.log(n[t]!);
              firstCount++;
            }
            const e = (perEpoch[s.epoch] ??= { sum: 0, count: 0 });
            e.sum += Math.log(n[0]! / n[T - 1]!);
            e.count++;
          },
        });
        const gradNorms = Array.from(firstLog, (v) => Math.exp(v / firstCount));
        const earlyByEpoch = perEpoch.map((e) => Math.exp(e.sum / e.count));
        return {
          valLoss: hist.epochs.map((e) => e.valLoss!), valMse: evaluate(m, val).loss,
          gradNorms, earlyOverLate: earlyByEpoch[0]!, earlyByEpoch,
        };
      } finally {
        optimizer.dispose();
        m.dispose();
      }
    };
    const lstmLayer = new LSTM({ inputSize: 2, hiddenSize: H, batchFirst: true, seed: p.seed });
    // Forget-gate bias raised at initialisation (Jozefowicz et al. 2015; Keras' unit_forget_bias): the cell starts
    // out remembering, so the gradient reaches the first marker from the first step of training.
    const sd = lstmLayer.stateDict();
    const b = sd.bias_ih_l0!.data;
    for (let i = H; i < 2 * H; i++) b[i] = b[i]! + p.forgetBias;
    lstmLayer.loadStateDict(sd);
    const lstm = run(lstmLayer);
    const rnn = run(new RNN({ inputSize: 2, hiddenSize: H, batchFirst: true, seed: p.seed }));
    const data: LongRangeMemoryData = { lstm, rnn, meanPredictorMse: 1 / 6 };
    const checks = [
      check('LSTM validation MSE (mean predictor: 1/6)', lstm.valMse, '<', 0.05),
      check('RNN validation MSE (no better than ~the mean predictor)', rnn.valMse, '>', 0.1),
      check('RNN ||dL/dh_0|| / ||dL/dh_{T-1}||, first epoch (vanished)', rnn.earlyOverLate, '<', 1e-8),
      check('LSTM / RNN ratio of the first-epoch early-gradient fractions', lstm.earlyOverLate / rnn.earlyOverLate, '>', 1e3),
    ];
    const summary = `Adding problem, T = ${T}, hidden ${H}, ${p.epochs} epochs: LSTM validation MSE ${fmt(lstm.valMse)}, ` +
      `RNN ${fmt(rnn.valMse)} (mean predictor 0.1667). ||dL/dh_0|| / ||dL/dh_${T - 1}|| in the first epoch: LSTM ` +
      `${fmt(lstm.earlyOverLate)}, RNN ${fmt(rnn.earlyOverLate)}.`;
    const ep = range(p.epochs).map((e) => e + 1), ts = range(T);
    return {
      data, checks, summary,
      plots: [{
        type: 'line', title: `Validation MSE per epoch, adding problem T = ${T}`, xLabel: 'epoch', yLabel: 'validation MSE',
        series: [{ name: 'LSTM', x: ep, y: lstm.valLoss }, { name: 'tanh RNN', x: ep, y: rnn.valLoss }],
        hLines: [{ y: 1 / 6, label: 'mean predictor 1/6' }],
      }, {
        type: 'line', title: '||dL/dh_t|| in the first epoch (geometric mean)', xLabel: 'step t', yLabel: '||dL/dh_t||', logY: true,
        series: [{ name: 'LSTM', x: ts, y: lstm.gradNorms }, { name: 'tanh RNN', x: ts, y: rnn.gradNorms }],
      }, {
        type: 'line', title: 'Gradient reaching step 0: ||dL/dh_0|| / ||dL/dh_T-1|| per epoch', xLabel: 'epoch',
        yLabel: 'fraction (geometric mean)', logY: true,
        series: [{ name: 'LSTM', x: ep, y: lstm.earlyByEpoch }, { name: 'tanh RNN', x: ep, y: rnn.earlyByEpoch }],
      }],
    };
  },
});
