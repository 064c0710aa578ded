/**
 * Experiment 14, filter versus smoother: on data from a linear Gaussian state-space model the Kalman filter is the
 * best causal estimator of the hidden state and the RTS smoother the best non-causal one; a unidirectional RNN
 * trained on (y, h) pairs lands near the filter, a bidirectional one near the smoother.
 * @module
 */
import { compareFilterSmootherRnn } from '../classical/index.js';
import { check, defineExperiment, fmt, range } from './types.js';

/** Data of {@link filterVsSmoother}. */
export interface FilterVsSmootherData {
  /** Held-out MSE of h_t (mean over sequences, steps and both state components). */
  mse: { filter: number; smoother: number; rnn: number; birnn: number };
  /** The MSEs the Kalman covariances predict for the filter and the smoother. */
  expectedMse: { filter: number; smoother: number };
  /** Training wall time of each RNN, seconds. */
  trainSeconds: { rnn: number; birnn: number };
  /** First state component h_t[0] of the first held-out sequence and its four estimates (T each). */
  example: { states: number[]; filter: number[]; smoother: number[]; rnn: number[]; birnn: number[] };
}

/**
 * Runs {@link compareFilterSmootherRnn} on the default damped oscillator (A = 0.95 R(0.3), y_t = h_t[0] + v_t) with
 * sizes small enough for an interactive run, and checks the orderings and that each RNN lands within `factor` of
 * its classical counterpart. Needs the engine (`await init()`).
 */
export const filterVsSmoother = defineExperiment({
  name: 'filter-vs-smoother',
  number: 14,
  title: 'Filter versus smoother, unidirectional versus bidirectional RNN',
  claim: 'Filter versus smoother: Kalman filter vs RTS smoother vs unidirectional vs bidirectional RNN on the same data.',
  description: 'A 2-state damped oscillator is observed through one noisy output. The Kalman filter estimates h_t ' +
    'from y_1..y_t, the RTS smoother from y_1..y_T (both with the true model); a unidirectional and a ' +
    'bidirectional GRU are trained on simulated (y, h) pairs. On held-out sequences the smoother beats the filter ' +
    'and the bidirectional GRU beats the unidirectional one, each GRU landing a little above its optimal ' +
    'classical counterpart.',
  usesEngine: true,
  params: {
    steps: { kind: 'number', label: 'steps T', description: 'Steps per sequence.', default: 48, min: 8, max: 256, integer: true },
    trainSequences: { kind: 'number', label: 'training sequences', description: 'Sequences the RNNs are trained on.', default: 256, min: 16, max: 4096, integer: true },
    testSequences: { kind: 'number', label: 'held-out sequences', description: 'Sequences the four MSEs are measured on.', default: 128, min: 8, max: 1024, integer: true },
    hiddenSize: { kind: 'number', label: 'hidden size', description: 'Hidden units of each GRU (per direction).', default: 16, min: 2, max: 64, integer: true },
    epochs: { kind: 'number', label: 'epochs', description: 'Training epochs of each GRU.', default: 20, min: 1, max: 100, integer: true },
    factor: { kind: 'number', label: 'allowed factor', description: 'Each GRU MSE must be below this factor times its classical counterpart.', default: 1.25, min: 1, max: 3, step: 0.01 },
    seed: { kind: 'number', label: 'seed', description: 'Seeds the simulation, initialisation and shuffling.', default: 1, min: 0, max: 1e6, integer: true },
  },
  body(p) {
    const r = compareFilterSmootherRnn({
      steps: p.steps, trainSequences: p.trainSequences, testSequences: p.testSequences,
      hiddenSize: p.hiddenSize, epochs: p.epochs, seed: p.seed,
    });
    const first = (rows: number[][]): number[] => rows.map((row) => row[0]!);
    const e = r.example;
    const data: FilterVsSmootherData = {
      mse: r.mse, expectedMse: r.expectedMse, trainSeconds: r.trainSeconds,
      example: { states: first(e.states), filter: first(e.filter), smoother: first(e.smoother), rnn: first(e.rnn), birnn: first(e.birnn) },
    };
    const m = r.mse;
    const checks = [
      check('smoother MSE / filter MSE', m.smoother / m.filter, '<', 1),
      check('bidirectional GRU MSE / unidirectional GRU MSE', m.birnn / m.rnn, '<', 1),
      check('unidirectional GRU MSE / filter MSE (>= 1 up to sampling noise: the filter is optimal)', m.rnn / m.filter, '<', p.factor),
      check('bidirectional GRU MSE / smoother MSE', m.birnn / m.smoother, '<', p.factor),
    ];
    const summary = `Held-out MSE of h_t: Kalman filter ${fmt(m.filter)}, RTS smoother ${fmt(m.smoother)}, ` +
      `unidirectional GRU ${fmt(m.rnn)} (${fmt(m.rnn / m.filter)} x the filter), bidirectional GRU ${fmt(m.birnn)} ` +
      `(${fmt(m.birnn / m.smoother)} x the smoother).`;
    const t = range(p.steps).map((i) => i + 1);
    const names = ['Kalman filter', 'RTS smoother', 'GRU', 'bidirectional GRU'];
    const values = [m.filter, m.smoother, m.rnn, m.birnn];
    return {
      data, checks, summary,
      plots: [{
        type: 'line', title: 'First held-out sequence: h_t[0] and its estimates', xLabel: 'step t', yLabel: 'h_t[0]',
        series: [
          { name: 'true state', x: t, y: data.example.states, color: '#000000' },
          { name: 'Kalman filter', x: t, y: data.example.filter },
          { name: 'RTS smoother', x: t, y: data.example.smoother },
          { name: 'GRU', x: t, y: data.example.rnn, dashed: true },
          { name: 'bidirectional GRU', x: t, y: data.example.birnn, dashed: true },
        ],
      }, {
        type: 'scatter', title: 'Held-out MSE of the four estimators', xLabel: 'estimator (1 filter, 2 smoother, 3 GRU, 4 bi-GRU)', yLabel: 'MSE',
        points: values.map((v, i) => ({ x: i + 1, y: v, label: `${names[i]}: ${fmt(v)}`, marker: i < 2 ? 'dot' as const : 'ring' as const })),
        legend: [{ name: 'classical (optimal)', color: '#0072B2', marker: 'dot' }, { name: 'GRU', color: '#0072B2', marker: 'ring' }],
      }],
    };
  },
});
