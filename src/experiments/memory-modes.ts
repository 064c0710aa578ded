/**
 * Experiment 4, memory modes: a linear RNN's eigenmodes decay, persist or explode independently; with tanh they
 * couple.
 * @module
 */
import { rnnCellMap, runCellMap } from '../analysis/cell-map.js';
import { Matrix, solve } from '../analysis/linalg.js';
import { modalDecomposition } from '../analysis/spectra.js';
import { Random } from '../nn/random.js';
import { check, defineExperiment, fmt, range } from './types.js';

/** Data of {@link memoryModes}. */
export interface MemoryModesData {
  /** W = V diag(lambda) V^{-1} (rows). */
  W: number[][];
  /** The eigenvalues as the library's modal decomposition sorts them (decreasing modulus). */
  lambda: number[];
  /** kappa_2 of the unit eigenvector matrix (> 1: the modes are not orthogonal). */
  eigenvectorCondition: number;
  /** Steps 0..T. */
  t: number[];
  /** Linear net from h_0 = sum_k v_k: modal coordinates c_t[k] (real; rows t, columns k). */
  linearModal: number[][];
  /** max_{t,k} |c_t[k] - c_0[k] lambda_k^t| / max |c_0[k] lambda_k^t|. */
  linearClosedFormError: number;
  /** Index (in sorted order) of the mode the single-mode runs start in. */
  startMode: number;
  /** Energy fraction outside the start mode, sum_{j != k} c_j^2 / sum_j c_j^2, per step: linear net. */
  linearLeak: number[];
  /** The same for the tanh net from h_0 = amplitude v_k. */
  tanhLeak: number[];
  /** Energy fraction of each mode per step for the tanh net (rows t, columns modes). */
  tanhFractions: number[][];
}

/** Energy fractions c_j^2 / sum c^2 of real modal coordinates (zeros for a zero state). */
function fractions(c: number[]): number[] {
  const e = c.map((x) => x * x);
  const tot = e.reduce((a, x) => a + x, 0);
  return e.map((x) => (tot > 0 ? x / tot : 0));
}

/**
 * W = V diag(lambda_1, lambda_2, lambda_3) V^{-1} with a seeded non-orthogonal V. For h_{t+1} = W h_t the modal
 * coordinates c_t = V^{-1} h_t (library {@link modalDecomposition}) follow c_0 lambda^t exactly: each mode decays,
 * persists or grows on its own and a state started in one mode stays there. For h_{t+1} = tanh(W h_t) the
 * nonlinearity mixes the coordinates (tanh(V c) is not V tanh(c)), so energy started in one mode leaks into the
 * others, the more the larger the amplitude (the leak is cubic in it for small amplitudes).
 */
export const memoryModes = defineExperiment({
  name: 'memory-modes',
  number: 4,
  title: 'Memory modes: decay, persist, explode, and couple under tanh',
  claim: 'A linear RNN\'s eigenmodes decay, persist or explode as |lambda| < 1, = 1, > 1; with tanh the modes couple ' +
    '(energy injected into one mode appears in others), measured by projecting the state on the eigenvectors.',
  description: 'The linear net starts at h_0 = v_1 + v_2 + v_3 (unit eigenvectors) and its modal coordinates are ' +
    'compared with lambda_k^t. Then the linear and the tanh net start at h_0 = amplitude v_k in a single mode and ' +
    'the energy fraction found in the other modes is tracked: 0 to rounding for the linear net, not for tanh.',
  params: {
    lambda1: { kind: 'number', label: 'lambda_1', description: 'First eigenvalue (decaying in the claim).', default: 0.8, min: 0.05, max: 1.3, step: 0.01 },
    lambda2: { kind: 'number', label: 'lambda_2', description: 'Second eigenvalue (persistent: 1).', default: 1, min: 0.05, max: 1.3, step: 0.01 },
    lambda3: { kind: 'number', label: 'lambda_3', description: 'Third eigenvalue (exploding in the claim).', default: 1.1, min: 0.05, max: 1.3, step: 0.01 },
    amplitude: { kind: 'number', label: 'amplitude', description: 'Size of the single-mode start (small: tanh is nearly linear).', default: 0.5, min: 1e-4, max: 3, step: 0.01 },
    startMode: { kind: 'number', label: 'start mode', description: 'Which mode (1 = largest |lambda|) the single-mode runs start in.', default: 2, min: 1, max: 3, integer: true },
    steps: { kind: 'number', label: 'steps T', description: 'Steps simulated.', default: 30, min: 2, max: 200, integer: true },
    seed: { kind: 'number', label: 'seed', description: 'Seed of the eigenvector matrix V.', default: 7, min: 0, max: 1000, integer: true },
  },
  body(p) {
    const n = 3, T = p.steps;
    const rng = new Random(p.seed);
    // V = I + 0.6 G: non-orthogonal but well conditioned for these seeds, so V^{-1} is accurate.
    const V = new Matrix(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0) + 0.6 * rng.normal())));
    const D = Matrix.diag([p.lambda1, p.lambda2, p.lambda3]);
    // W = V D V^{-1} = (V^{-T} (V D)^T)^T.
    const W = solve(V.transpose(), V.mmul(D).transpose()).transpose().to2DArray();
    const none = Array.from({ length: n }, () => [0]);
    const runOf = (nl: 'identity' | 'tanh', h0: ArrayLike<number>): number[][] => {
      const map = rnnCellMap({ weightIh: none, weightHh: W, nonlinearity: nl });
      const run = runCellMap(map, Array.from({ length: T }, () => [0]), h0);
      return [Array.from(h0), ...run.hidden.map((h) => Array.from(h))];
    };
    const modal0 = modalDecomposition(W);
    const lambda = modal0.modes.map((m) => m.eigenvalue.re);
    const vec = (k: number): number[] => Array.from(modal0.modes[k]!.vector.re);
    const coords = (states: number[][]): number[][] => modalDecomposition(W, states).coefficients!.re;

    // All modes at once: c_t[k] against c_0[k] lambda_k^t.
    const h0all = range(n).map((i) => range(n).reduce((s, k) => s + vec(k)[i]!, 0));
    const linearModal = coords(runOf('identity', h0all));
    let errMax = 0, scale = 0;
    for (let t = 0; t <= T; t++) for (let k = 0; k < n; k++) {
      const ref = linearModal[0]![k]! * lambda[k]! ** t;
      errMax = Math.max(errMax, Math.abs(linearModal[t]![k]! - ref));
      scale = Math.max(scale, Math.abs(ref));
    }
    const linearClosedFormError = errMax / scale;

    // One mode: the energy outside it, linear against tanh.
    const k0 = p.startMode - 1;
    const h0one = vec(k0).map((x) => p.amplitude * x);
    // Summed over the other modes rather than 1 - fraction[k0], which would round a tiny leak to 0 or eps.
    const leak = (c: number[]): number => fractions(c).reduce((a, f, j) => (j === k0 ? a : a + f), 0);
    const linearLeak = coords(runOf('identity', h0one)).map(leak);
    const tanhCoords = coords(runOf('tanh', h0one));
    const tanhFractions = tanhCoords.map(fractions);
    const tanhLeak = tanhCoords.map(leak);
    const linearLeakMax = Math.max(...linearLeak);
    const tanhLeakMax = Math.max(...tanhLeak);
    const data: MemoryModesData = {
      W, lambda, eigenvectorCondition: modal0.eigenvectorCondition, t: range(T + 1), linearModal,
      linearClosedFormError, startMode: p.startMode, linearLeak, tanhLeak, tanhFractions,
    };
    const checks = [
      check('linear net: max relative deviation of the modal coordinates from c_0 lambda^t', linearClosedFormError, '<', 1e-10),
      check('linear net: max energy fraction outside the start mode', linearLeakMax, '<', 1e-12),
      check('tanh net: max energy fraction outside the start mode', tanhLeakMax, '>', 1e-3),
    ];
    const summary = `Eigenvalues ${lambda.map(fmt).join(', ')} (kappa(V) = ${fmt(modal0.eigenvectorCondition)}): the linear ` +
      `modal coordinates follow lambda^t to a relative ${fmt(linearClosedFormError)}. Started in mode ${p.startMode} ` +
      `(lambda = ${fmt(lambda[k0]!)}, amplitude ${fmt(p.amplitude)}), the energy outside it reaches ` +
      `${fmt(linearLeakMax)} for the linear net and ${fmt(tanhLeakMax)} for tanh.`;
    return {
      data, checks, summary,
      plots: [
        {
          type: 'line', title: 'Linear net: |modal coordinate| against t (dashed: |c_0| |lambda|^t)', xLabel: 'step t',
          yLabel: '|c_t[k]|', logY: true,
          series: [
            ...range(n).map((k) => ({ name: `mode ${k + 1} (lambda ${fmt(lambda[k]!)})`, x: data.t, y: linearModal.map((c) => Math.abs(c[k]!)) })),
            ...range(n).map((k) => ({
              name: `closed form ${k + 1}`, x: data.t, dashed: true,
              y: data.t.map((t) => Math.abs(linearModal[0]![k]!) * Math.abs(lambda[k]!) ** t),
            })),
          ],
        },
        {
          type: 'line', title: `tanh net started in mode ${p.startMode}: energy fraction per mode`, xLabel: 'step t',
          yLabel: 'c_k^2 / sum c^2',
          series: range(n).map((k) => ({ name: `mode ${k + 1}`, x: data.t, y: tanhFractions.map((f) => f[k]!) })),
        },
      ],
    };
  },
});
