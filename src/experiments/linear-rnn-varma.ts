/**
 * Experiment 10, linear RNN = VARMA: a linear RNN with noise is a state-space model, eliminating its state gives an
 * ARMAX (VARMA with inputs) recursion with the same outputs, and the least-squares ARX fit is the conditional
 * Gaussian maximum-likelihood estimate.
 * @module
 */
import { Random } from '../nn/random.js';
import { rnnCellMap } from '../analysis/cell-map.js';
import { armaxPresample, fitArx, simulateArmax, simulateStateSpace, stateSpaceFromRnn, toArmax } from '../classical/index.js';
import { check, defineExperiment, fmt, range } from './types.js';

/** Data of {@link linearRnnVarma}. */
export interface LinearRnnVarmaData {
  /** Steps 1..T of the equivalence run. */
  t: number[];
  /** Outputs y_t of the state-space (linear RNN) form, T rows of 2. */
  stateSpace: number[][];
  /** Outputs y_t of the ARMAX form on the same inputs and noises, T rows of 2. */
  armax: number[][];
  /** max_t,i |y_ss - y_armax|. */
  maxOutputDifference: number;
  /** The ARX coefficient matrix Theta (k x p, rows in fitArx's regressor order) of the least-squares fit. */
  theta: number[][];
  /** fitArx's reported conditional log-likelihood at its estimate. */
  fitLogLikelihood: number;
  /** The profile conditional Gaussian log-likelihood evaluated here at the LS estimate. */
  logLikelihoodAtLs: number;
  /** max over random perturbations of l(theta_LS + d) - l(theta_LS) (negative: the LS estimate is the maximum). */
  maxPerturbationGain: number;
  /** Step sizes s of the line theta_LS + s u (u a random unit direction) and l - l(theta_LS) along it. */
  lineS: number[];
  lineLogLikelihood: number[];
}

// The 3-state linear RNN of examples/varma-equivalence.mjs: stable (spectral radius < 1), one input, two outputs.
const W_HH = [[0.5, 0.2, 0.0], [-0.3, 0.6, 0.1], [0.0, 0.25, -0.4]];
const W_IH = [[1.0], [0.5], [-0.2]];
const C = [[1, 0, 0.5], [0, 1, -1]];
const QD = [0.04, 0.03, 0.02], RD = [0.01, 0.02];
const H0 = [0.5, -1.0, 0.3];

/**
 * The ARX regressor z_t = [y_{t-1}; ...; y_{t-na}; x_t; ...; x_{t-nb}] (fitArx's order, inputDelay 0, no
 * intercept), rebuilt here so the log-likelihood can be evaluated at any Theta, not only fitArx's.
 */
function regressor(y: Float64Array[], x: Float64Array[], t: number, na: number, nb: number): number[] {
  const z: number[] = [];
  for (let i = 1; i <= na; i++) z.push(...y[t - i]!);
  for (let j = 0; j <= nb; j++) z.push(...x[t - j]!);
  return z;
}

/**
 * Profile conditional Gaussian log-likelihood of Theta: with Sigma maximised out, Sigma(Theta) = (1/N) sum e e^T
 * and l = -N/2 (p log 2 pi + log det Sigma + p). Written out for p = 2 (the determinant of a 2 x 2 matrix).
 */
function profileLogLik(theta: number[][], y: Float64Array[], x: Float64Array[], na: number, nb: number): number {
  const lag = Math.max(na, nb);
  let s00 = 0, s01 = 0, s11 = 0, N = 0;
  for (let t = lag; t < y.length; t++) {
    const z = regressor(y, x, t, na, nb);
    const e = [0, 1].map((r) => y[t]![r]! - z.reduce((acc, zj, j) => acc + zj * theta[j]![r]!, 0));
    s00 += e[0]! * e[0]!; s01 += e[0]! * e[1]!; s11 += e[1]! * e[1]!; N++;
  }
  const det = (s00 / N) * (s11 / N) - (s01 / N) ** 2;
  return -N / 2 * (2 * Math.log(2 * Math.PI) + Math.log(det) + 2);
}

/**
 * Drives one linear RNN (as a state-space model with process and observation noise) and its ARMAX form with the
 * same inputs and noise draws and compares the outputs; then fits ARX(na, nb) by least squares to a long record
 * and checks that no perturbation of the estimate raises the conditional Gaussian log-likelihood.
 */
export const linearRnnVarma = defineExperiment({
  name: 'linear-rnn-varma',
  number: 10,
  title: 'Linear RNN = VARMA',
  claim: 'Linear RNN = VARMA: the same outputs from both forms; the least-squares fit equals the Gaussian MLE.',
  description: 'A 3-state linear RNN h_t = W_hh h_{t-1} + W_ih x_t + w_t with outputs y_t = C h_t + v_t is turned ' +
    'into its ARMAX form by Cayley-Hamilton (toArmax); both are driven by the same inputs and noise draws from h_0 ' +
    '(the ARMAX presample encodes h_0). Then ARX(na, nb) is fitted by least squares to a long record of (x, y) and ' +
    'the conditional Gaussian log-likelihood (covariance profiled out) is evaluated around the estimate: every ' +
    'random perturbation lowers it, so the LS estimate is the maximum-likelihood one.',
  params: {
    steps: { kind: 'number', label: 'steps T', description: 'Steps of the equivalence run.', default: 60, min: 4, max: 2000, integer: true },
    presample: { kind: 'choice', label: 'ARMAX start', description: "How the ARMAX recursion is started: from h_0 (armaxPresample) or with zeros (wrong unless h_0 = 0).", default: 'from h0', options: ['from h0', 'zeros'] },
    fitSteps: { kind: 'number', label: 'fit record length', description: 'Length of the record the ARX model is fitted to.', default: 1000, min: 50, max: 20000, integer: true },
    na: { kind: 'number', label: 'AR order na', description: 'Output lags of the ARX fit.', default: 3, min: 1, max: 8, integer: true },
    nb: { kind: 'number', label: 'input order nb', description: 'Input lags of the ARX fit.', default: 3, min: 0, max: 8, integer: true },
    perturbations: { kind: 'number', label: 'perturbations', description: 'Random perturbations of the LS estimate tried.', default: 200, min: 1, max: 5000, integer: true },
    seed: { kind: 'number', label: 'seed', description: 'Seeds the inputs and the noises.', default: 2024, min: 0, max: 1e6, integer: true },
  },
  body(p) {
    const map = rnnCellMap({ weightHh: W_HH, weightIh: W_IH, nonlinearity: 'identity' });
    const diag = (d: number[]): number[][] => d.map((v, i) => d.map((_, j) => (i === j ? v : 0)));
    const ss = stateSpaceFromRnn(map, { C, Q: diag(QD), R: diag(RD) });
    const rng = new Random(p.seed);
    const draw = (T: number): { x: number[][]; w: number[][]; v: number[][] } => {
      const x: number[][] = [], w: number[][] = [], v: number[][] = [];
      for (let t = 0; t < T; t++) {
        x.push([rng.normal()]);
        w.push(QD.map((q) => Math.sqrt(q) * rng.normal()));
        v.push(RD.map((r) => Math.sqrt(r) * rng.normal()));
      }
      return { x, w, v };
    };

    // 1. Same inputs and noises through both forms.
    const T = p.steps;
    const d = draw(T);
    const yss = simulateStateSpace(ss, d.x, { w: d.w, v: d.v }, { h0: H0 }).outputs;
    const yar = simulateArmax(toArmax(ss), d.x, { w: d.w, v: d.v },
      p.presample === 'from h0' ? { presample: armaxPresample(ss, H0) } : {});
    let maxDiff = 0;
    for (let t = 0; t < T; t++) for (let i = 0; i < 2; i++) maxDiff = Math.max(maxDiff, Math.abs(yss[t]![i]! - yar[t]![i]!));

    // 2. ARX least squares on a long record vs the conditional Gaussian likelihood.
    const f = draw(p.fitSteps);
    const yl = simulateStateSpace(ss, f.x, { w: f.w, v: f.v }).outputs;
    const xl = f.x.map((r) => Float64Array.from(r));
    const fit = fitArx(yl, xl, { na: p.na, nb: p.nb });
    const theta = fit.theta.to2DArray();
    const l0 = profileLogLik(theta, yl, xl, p.na, p.nb);
    const k = theta.length;
    // A random direction with entries of unit scale, normalised, then scaled to the estimate's size.
    const direction = (): number[][] => {
      const u = theta.map((row) => row.map(() => rng.normal()));
      const norm = Math.sqrt(u.flat().reduce((a, b) => a + b * b, 0));
      return u.map((row) => row.map((v) => v / norm));
    };
    const add = (u: number[][], s: number): number[][] => theta.map((row, j) => row.map((v, r) => v + s * u[j]![r]!));
    let maxGain = -Infinity;
    for (let q = 0; q < p.perturbations; q++) {
      // Step sizes from 1e-4 to 1e-1 on a log scale: small ones probe the gradient, large ones the global shape.
      const s = 10 ** (-4 + 3 * rng.next());
      maxGain = Math.max(maxGain, profileLogLik(add(direction(), s), yl, xl, p.na, p.nb) - l0);
    }
    const u = direction();
    const lineS = range(41).map((i) => -0.2 + 0.01 * i);
    const lineLogLikelihood = lineS.map((s) => profileLogLik(add(u, s), yl, xl, p.na, p.nb) - l0);

    const data: LinearRnnVarmaData = {
      t: range(T).map((i) => i + 1),
      stateSpace: yss.map((r) => Array.from(r)), armax: yar.map((r) => Array.from(r)),
      maxOutputDifference: maxDiff, theta, fitLogLikelihood: fit.logLikelihood, logLikelihoodAtLs: l0,
      maxPerturbationGain: maxGain, lineS, lineLogLikelihood,
    };
    const checks = [
      check('max |y_state-space - y_ARMAX| over t = 1..T and both outputs', maxDiff, '<', 1e-10),
      check('|l(theta_LS) here - fitArx logLikelihood| (the same likelihood)', Math.abs(l0 - fit.logLikelihood), '<', 1e-8 * Math.abs(l0)),
      check(`max gain l(theta_LS + d) - l(theta_LS) over ${p.perturbations} random perturbations`, maxGain, '<', 0),
    ];
    const summary = `Same inputs and noises: max |y_ss - y_ARMAX| = ${fmt(maxDiff)} over ${T} steps (start: ${p.presample}). ` +
      `ARX(${p.na}, ${p.nb}) by least squares on ${p.fitSteps} steps (${k} regressors per output): conditional log-likelihood ` +
      `${fmt(l0)}; the best of ${p.perturbations} random perturbations changes it by ${fmt(maxGain)} (never up).`;
    const out = (rows: number[][], i: number): number[] => rows.map((r) => r[i]!);
    return {
      data, checks, summary,
      plots: [{
        type: 'line', title: 'Outputs of the linear RNN (state space) and of its ARMAX form', xLabel: 'step t', yLabel: 'y_t',
        series: [
          { name: 'y_1 state space', x: data.t, y: out(data.stateSpace, 0) },
          { name: 'y_1 ARMAX', x: data.t, y: out(data.armax, 0), dashed: true },
          { name: 'y_2 state space', x: data.t, y: out(data.stateSpace, 1) },
          { name: 'y_2 ARMAX', x: data.t, y: out(data.armax, 1), dashed: true },
        ],
      }, {
        type: 'line', title: 'Conditional Gaussian log-likelihood along a random line through the LS estimate',
        xLabel: 's (theta = theta_LS + s u, |u| = 1)', yLabel: 'l(theta) - l(theta_LS)',
        series: [{ name: 'log-likelihood', x: lineS, y: lineLogLikelihood }],
        hLines: [{ y: 0, label: 'l(theta_LS)' }],
      }],
    };
  },
});
