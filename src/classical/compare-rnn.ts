/**
 * Filter versus smoother versus RNNs on data from a linear Gaussian state-space model: the Kalman filter is the
 * optimal causal estimator of h_t from y_1..y_t (minimum mean squared error among all functions of the past),
 * the RTS smoother the optimal non-causal one from y_1..y_T. A unidirectional RNN trained to regress h_t on
 * y_1..y_t can at best match the filter, a bidirectional one at best the smoother. {@link compareFilterSmootherRnn}
 * measures the four on the same held-out sequences. The RNNs run on the WebAssembly engine (`await init()`
 * first); everything else is float64.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { GRU, LSTM } from '../nn/recurrent.js';
import { Linear } from '../nn/linear.js';
import { SequenceModel } from '../nn/sequence-model.js';
import { Adam } from '../train/optimizers.js';
import { fit } from '../train/fit.js';
import { solveDiscreteLyapunov } from '../analysis/lyapunov.js';
import { StateSpace, type StateSpaceSpec } from './state-space.js';
import { filterCore, flatModel, smootherCore } from './kalman.js';

/** Options of {@link compareFilterSmootherRnn}. */
export interface FilterSmootherRnnOptions {
  /**
   * The data-generating model, without inputs. Default: a 2-state damped oscillator, A = 0.95 [[cos 0.3,
   * -sin 0.3], [sin 0.3, cos 0.3]], C = [1, 0], Q = 0.1 I, R = 0.5, m0 = 0 and P0 the stationary covariance
   * (A P0 A^T + Q = P0), so the sequences are stationary. Without a P0 in a given model, the stationary one is
   * used when A is stable.
   */
  model?: StateSpaceSpec;
  /** Steps per sequence T (default 64). */
  steps?: number;
  /** Training sequences (default 512). */
  trainSequences?: number;
  /** Held-out sequences on which the four MSEs are measured (default 128). */
  testSequences?: number;
  /** Hidden size of each RNN (default 24; the bidirectional one has this many per direction). */
  hiddenSize?: number;
  /** 'gru' (default) or 'lstm'. */
  cell?: 'gru' | 'lstm';
  /** Training epochs per RNN (default 30). */
  epochs?: number;
  /** Mini-batch size (default 32). */
  batchSize?: number;
  /** Adam learning rate (default 0.01). */
  lr?: number;
  /** Seeds the simulation, the initialisation and the shuffling (default 0). */
  seed?: number;
}

/** What {@link compareFilterSmootherRnn} returns. */
export interface FilterSmootherRnnComparison {
  /**
   * Mean squared error (1/(N T n)) sum |estimate_t - h_t|^2 over the held-out sequences, steps and state
   * components: Kalman filter m_{t|t}, RTS smoother m_{t|T}, the unidirectional and the bidirectional RNN.
   */
  mse: { filter: number; smoother: number; rnn: number; birnn: number };
  /**
   * The MSEs the Kalman moments predict, (1/(N T n)) sum tr P_{t|t} and sum tr P_{t|T}: the expected values of
   * `mse.filter` and `mse.smoother`.
   */
  expectedMse: { filter: number; smoother: number };
  /** Total log-likelihood of the held-out outputs under the true model. */
  logLikelihood: number;
  /** Final training MSE of each RNN (mean over the last epoch's steps). */
  trainLoss: { rnn: number; birnn: number };
  /** Wall time of each RNN's training, seconds. */
  trainSeconds: { rnn: number; birnn: number };
  /** The data-generating model. */
  model: StateSpace;
  /**
   * The first held-out sequence (T rows of n): the true states and the four estimates, for plotting the
   * estimators against each other.
   */
  example: { states: number[][]; filter: number[][]; smoother: number[][]; rnn: number[][]; birnn: number[][] };
}

function posInt(name: string, v: unknown, def: number): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1) throw new InvalidArgumentError(name, `expected an integer >= 1, got ${String(x)}`);
  return x;
}

/** The default oscillator of {@link FilterSmootherRnnOptions.model}. */
export function oscillatorModel(): StateSpace {
  const r = 0.95, th = 0.3;
  const A = [[r * Math.cos(th), -r * Math.sin(th)], [r * Math.sin(th), r * Math.cos(th)]];
  const Q = [[0.1, 0], [0, 0.1]];
  // A P A^T - P = -Q is solveDiscreteLyapunov(A^T, Q) (it solves M^T P M - P = -Q).
  const P0 = solveDiscreteLyapunov([[A[0]![0]!, A[1]![0]!], [A[0]![1]!, A[1]![1]!]], Q);
  return new StateSpace({ A, C: [[1, 0]], Q, R: [[0.5]], P0 });
}

/**
 * Simulates `trainSequences + testSequences` sequences of T steps from the model (sequence i with seed
 * seed * 1000003 + i), runs the Kalman filter and the RTS smoother with the true model on the held-out ones, trains
 * a unidirectional and a bidirectional RNN (`SequenceModel` of a GRU or LSTM with batchFirst and a per-step
 * `Linear` head to the n states, `fit` with the MSE loss, Adam, gradient norm clipped to 1) to map y_1..y_T to
 * h_1..h_T on the training ones, and reports the four held-out MSEs. Needs the engine (`await init()`).
 * @throws {InvalidArgumentError} naming `options.model` (a model with inputs), `options.cell` or the size option
 *   that is not a positive integer
 */
export function compareFilterSmootherRnn(options: FilterSmootherRnnOptions = {}): FilterSmootherRnnComparison {
  const T = posInt('options.steps', options.steps, 64);
  const Ntr = posInt('options.trainSequences', options.trainSequences, 512);
  const Nte = posInt('options.testSequences', options.testSequences, 128);
  const H = posInt('options.hiddenSize', options.hiddenSize, 24);
  const epochs = posInt('options.epochs', options.epochs, 30);
  const batchSize = posInt('options.batchSize', options.batchSize, 32);
  const lr = options.lr ?? 0.01;
  if (!(lr > 0)) throw new InvalidArgumentError('options.lr', `expected a number > 0, got ${String(lr)}`);
  const cell = options.cell ?? 'gru';
  if (cell !== 'gru' && cell !== 'lstm') throw new InvalidArgumentError('options.cell', `expected 'gru' or 'lstm', got ${String(cell)}`);
  const seed = options.seed ?? 0;
  let ss: StateSpace;
  if (options.model === undefined) {
    ss = oscillatorModel();
  } else {
    const base = new StateSpace(options.model);
    if (base.m !== 0) throw new InvalidArgumentError('options.model', 'expected a model without inputs (B omitted)');
    if (options.model.P0 === undefined) {
      try {
        const At = base.A.transpose();
        ss = new StateSpace({ ...options.model, P0: solveDiscreteLyapunov(At, base.Q) });
      } catch {
        ss = base;
      }
    } else {
      ss = base;
    }
  }
  const { n, p } = ss;
  const N = Ntr + Nte;
  const ys = new Float32Array(N * T * p), hs = new Float32Array(N * T * n);
  const yTest: Float64Array[] = [], hTest: Float64Array[] = [];
  for (let i = 0; i < N; i++) {
    const sim = ss.simulate(T, { seed: seed * 1000003 + i });
    const y64 = new Float64Array(T * p), h64 = new Float64Array(T * n);
    for (let t = 0; t < T; t++) {
      y64.set(sim.outputs[t]!, t * p); h64.set(sim.states[t]!, t * n);
    }
    ys.set(y64, i * T * p); hs.set(h64, i * T * n);
    if (i >= Ntr) { yTest.push(y64); hTest.push(h64); }
  }
  // Kalman filter and smoother on the held-out sequences, with the true model.
  const M = flatModel(ss);
  let seF = 0, seS = 0, trF = 0, trS = 0, ll = 0;
  const rowsOf = (a: ArrayLike<number>): number[][] => Array.from({ length: T }, (_, t) => Array.from({ length: n }, (_, j) => a[t * n + j]!));
  const exampleOf = { states: [] as number[][], filter: [] as number[][], smoother: [] as number[][] };
  for (let i = 0; i < Nte; i++) {
    const F = filterCore(M, yTest[i]!, new Float64Array(0), T);
    const S = smootherCore(M, F, false);
    ll += F.logLikelihood;
    const h = hTest[i]!;
    if (i === 0) { exampleOf.states = rowsOf(h); exampleOf.filter = rowsOf(F.mFilt); exampleOf.smoother = rowsOf(S.mS); }
    for (let k = 0; k < T * n; k++) { seF += (F.mFilt[k]! - h[k]!) ** 2; seS += (S.mS[k]! - h[k]!) ** 2; }
    for (let t = 0; t < T; t++) for (let j = 0; j < n; j++) { trF += F.PFilt[t * n * n + j * n + j]!; trS += S.PS[t * n * n + j * n + j]!; }
  }
  const count = Nte * T * n;
  const train = { inputs: { data: ys.subarray(0, Ntr * T * p), shape: [Ntr, T, p] }, targets: { data: hs.subarray(0, Ntr * T * n), shape: [Ntr, T, n] } };
  const testX = { data: ys.subarray(Ntr * T * p), shape: [Nte, T, p] };
  const testH = hs.subarray(Ntr * T * n);
  const run = (bidirectional: boolean, s: number): { mse: number; loss: number; seconds: number; first: number[][] } => {
    const opts = { inputSize: p, hiddenSize: H, bidirectional, batchFirst: true, seed: s };
    const model = new SequenceModel({
      rnn: cell === 'gru' ? new GRU(opts) : new LSTM(opts),
      head: new Linear({ inFeatures: (bidirectional ? 2 : 1) * H, outFeatures: n, seed: s + 1 }),
    });
    const optimizer = new Adam(model.parameters(), { lr });
    try {
      const t0 = performance.now();
      const hist = fit(model, train, { epochs, batchSize, optimizer, clipGradNorm: 1, seed: s + 2 });
      const seconds = (performance.now() - t0) / 1000;
      const out = model.forward(testX).data;
      let se = 0;
      for (let k = 0; k < count; k++) se += (out[k]! - testH[k]!) ** 2;
      return { mse: se / count, loss: hist.epochs[hist.epochs.length - 1]!.loss, seconds, first: rowsOf(out) };
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  };
  const uni = run(false, seed * 7919 + 11);
  const bi = run(true, seed * 7919 + 23);
  return {
    mse: { filter: seF / count, smoother: seS / count, rnn: uni.mse, birnn: bi.mse },
    expectedMse: { filter: trF / count, smoother: trS / count },
    logLikelihood: ll,
    trainLoss: { rnn: uni.loss, birnn: bi.loss },
    trainSeconds: { rnn: uni.seconds, birnn: bi.seconds },
    model: ss,
    example: { ...exampleOf, rnn: uni.first, birnn: bi.first },
  };
}
