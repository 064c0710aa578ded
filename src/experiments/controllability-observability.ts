/**
 * Experiment 5, controllability and observability: a net whose input cannot reach part of the state and one whose
 * output cannot see part of it, with a failed attempt to steer to an unreachable state.
 * @module
 */
import {
  controllability, controllableSubspace, observability, unobservableSubspace,
} from '../analysis/control.js';
import { Matrix, defaultRankTolerance, svd } from '../analysis/linalg.js';
import { Random } from '../nn/random.js';
import { check, defineExperiment, fmt, range } from './types.js';

/** Data of {@link controllabilityObservability}. */
export interface ControllabilityObservabilityData {
  /** A = Q blkdiag(A_1, A_2) Q^T, B = Q [B_1; leak B_2], C = [C_1, leak C_2] Q^T (rows). */
  A: number[][];
  B: number[][];
  C: number[][];
  /** State size n = reachableDim + hiddenDim. */
  n: number;
  /** Controllability rank, Kalman (SVD of [B, AB, ...]) and staircase. */
  controllabilityRank: { kalman: number; staircase: number };
  /** Observability rank, Kalman and staircase. */
  observabilityRank: { kalman: number; staircase: number };
  /** Steps N = 1..maxSteps of the steering attempts. */
  N: number[];
  /** min_x |R_N x - target| for the reachable target Q [z; 0], per N. */
  residualReachable: number[];
  /** The same for the unreachable target (a seeded random unit vector), per N. */
  residualUnreachable: number[];
  /** The reachable target Q [z; 0], the random unit target, and the unobservable initial state (zeros if none). */
  reachableTarget: number[];
  unreachableTarget: number[];
  unobservableState: number[];
  /** Distance of the unreachable target from the controllable subspace (library staircase basis). */
  distanceFromControllable: number;
  /**
   * Steps 0..maxSteps and |y_t| = |C A^t h_0| from h_0 in the unobservable subspace (the first vector of the
   * library's basis; h_0 = 0 when the pair is observable) and from the random unit vector.
   */
  t: number[];
  outputUnobservable: number[];
  outputGeneric: number[];
}

/** Solves min_x |M x - y| through the SVD (minimum-norm solution) and returns the residual |M x - y|. */
export function leastSquaresResidual(M: Matrix, y: number[]): number {
  const d = svd(M);
  const tol = defaultRankTolerance(M, d.s);
  const r = y.slice();
  // y - U_r U_r^T y: the part of y outside range(M), which no input can produce.
  for (let c = 0; c < d.s.length; c++) {
    if (!(d.s[c]! > tol)) break;
    const u = d.U.getColumn(c);
    const a = u.reduce((s, x, i) => s + x * y[i]!, 0);
    for (let i = 0; i < r.length; i++) r[i]! -= a * u[i]!;
  }
  return Math.hypot(...r);
}

/**
 * (A, B) with A = Q blkdiag(A_1, A_2) Q^T and B = Q [B_1; 0] for a seeded random orthogonal Q: the input drives
 * only the first block, so the controllable subspace is Q's first `reachableDim` columns, hidden by the rotation
 * from a look at the entries. C = [C_1, 0] Q^T likewise cannot see the second block. The N-step reachability map
 * R_N = [A^{N-1} B, ..., A B, B] takes the inputs x_0..x_{N-1} to h_N from h_0 = 0; the minimum-norm least
 * squares input misses a target by exactly its distance from range(R_N), which for N >= n is the controllable
 * subspace. A nonzero `leak` couples the input and output into the second block and makes both pairs full rank.
 */
export const controllabilityObservability = defineExperiment({
  name: 'controllability-observability',
  number: 5,
  title: 'Unreachable and invisible state: controllability and observability',
  claim: 'A network whose input cannot reach part of the state, and one whose output cannot see part of it: the ' +
    'ranks show it, and steering to an unreachable state fails by exactly its distance from the controllable subspace.',
  description: 'A block-diagonal A rotated by a random orthogonal Q, one input acting on the first block only and ' +
    'one output reading the first block only. Ranks by the Kalman matrix and by the staircase; then, for N = 1..' +
    'maxSteps, the least-squares residual of steering from 0 to a reachable target (in the first block) and to a ' +
    'random target; and the output sequence from an initial state in the unobservable subspace.',
  params: {
    reachableDim: { kind: 'number', label: 'reachable dimension', description: 'Size of the block the input reaches and the output sees.', default: 2, min: 1, max: 6, integer: true },
    hiddenDim: { kind: 'number', label: 'hidden dimension', description: 'Size of the block the input cannot reach and the output cannot see.', default: 2, min: 1, max: 6, integer: true },
    leak: { kind: 'number', label: 'leak', description: 'Coupling of input and output into the hidden block (0 in the claim).', default: 0, min: 0, max: 1, step: 0.01 },
    maxSteps: { kind: 'number', label: 'max steps N', description: 'Longest steering horizon.', default: 8, min: 1, max: 40, integer: true },
    seed: { kind: 'number', label: 'seed', description: 'Seed of the blocks, Q and the targets.', default: 11, min: 0, max: 1000, integer: true },
  },
  body(p) {
    const r = p.reachableDim, q = p.hiddenDim, n = r + q;
    const rng = new Random(p.seed);
    const gauss = (rows: number, cols: number, s: number): Matrix =>
      new Matrix(Array.from({ length: rows }, () => Array.from({ length: cols }, () => s * rng.normal())));
    const Q = svd(gauss(n, n, 1)).U; // a random orthogonal matrix
    const blk = Matrix.zeros(n, n);
    blk.setSubMatrix(gauss(r, r, 0.6 / Math.sqrt(r)), 0, 0);
    blk.setSubMatrix(gauss(q, q, 0.6 / Math.sqrt(q)), r, r);
    const b = gauss(n, 1, 1), c = gauss(1, n, 1);
    for (let i = r; i < n; i++) { b.set(i, 0, p.leak * b.get(i, 0)); c.set(0, i, p.leak * c.get(0, i)); }
    const A = Q.mmul(blk).mmul(Q.transpose()), B = Q.mmul(b), C = c.mmul(Q.transpose());

    const ck = controllability(A, B), cs = controllability(A, B, { method: 'staircase' });
    const ok = observability(A, C), os = observability(A, C, { method: 'staircase' });

    const z = gauss(n, 1, 1);
    for (let i = r; i < n; i++) z.set(i, 0, 0);
    const reachable = Q.mmul(z).getColumn(0);
    const g = gauss(n, 1, 1).getColumn(0);
    const gn = Math.hypot(...g);
    const unreachable = g.map((x) => x / gn);
    const sub = controllableSubspace(A, B);
    let dist2 = 0;
    {
      const res = unreachable.slice();
      for (let k = 0; k < sub.dimension; k++) {
        const v = sub.basis.map((row) => row[k]!);
        const a = v.reduce((s, x, i) => s + x * unreachable[i]!, 0);
        for (let i = 0; i < n; i++) res[i]! -= a * v[i]!;
      }
      dist2 = res.reduce((s, x) => s + x * x, 0);
    }
    const distanceFromControllable = Math.sqrt(dist2);

    // R_N = [A^{N-1} B, ..., B], grown one column block per step.
    const N = range(p.maxSteps).map((k) => k + 1);
    const residualReachable: number[] = [], residualUnreachable: number[] = [];
    let R = B.clone();
    for (const steps of N) {
      if (steps > 1) R = new Matrix(A.mmul(R).to2DArray().map((row, i) => [...row, B.get(i, 0)]));
      residualReachable.push(leastSquaresResidual(R, reachable));
      residualUnreachable.push(leastSquaresResidual(R, unreachable));
    }

    const unobs = unobservableSubspace(A, C);
    const h0u = unobs.dimension > 0 ? unobs.basis.map((row) => row[0]!) : new Array<number>(n).fill(0);
    const outputs = (h0: number[]): number[] => {
      let h = Matrix.columnVector(h0);
      return range(p.maxSteps + 1).map((t) => {
        if (t > 0) h = A.mmul(h);
        return Math.abs(C.mmul(h).get(0, 0));
      });
    };
    const outputUnobservable = outputs(h0u), outputGeneric = outputs(unreachable);

    const data: ControllabilityObservabilityData = {
      A: A.to2DArray(), B: B.to2DArray(), C: C.to2DArray(), n,
      controllabilityRank: { kalman: ck.rank, staircase: cs.rank }, observabilityRank: { kalman: ok.rank, staircase: os.rank },
      N, residualReachable, residualUnreachable, reachableTarget: reachable, unreachableTarget: unreachable,
      unobservableState: h0u, distanceFromControllable,
      t: range(p.maxSteps + 1), outputUnobservable, outputGeneric,
    };
    const last = p.maxSteps - 1;
    const yMax = Math.max(...outputUnobservable);
    const checks = [
      check('controllability rank (Kalman)', ck.rank, '==', r, 0),
      check('controllability rank (staircase)', cs.rank, '==', r, 0),
      check('observability rank (Kalman)', ok.rank, '==', r, 0),
      check('observability rank (staircase)', os.rank, '==', r, 0),
      check('distance of the random target from the controllable subspace', distanceFromControllable, '>', 1e-3),
      check(`steering residual to the random target at N = ${p.maxSteps} minus that distance`, residualUnreachable[last]! - distanceFromControllable, '==', 0, 1e-8),
      check(`steering residual to the reachable target at N = ${p.maxSteps}`, residualReachable[last]!, '<', 1e-8),
      check('max |y_t| from an initial state in the unobservable subspace', yMax, '<', 1e-12),
    ];
    const summary = `n = ${n}: controllability rank ${ck.rank} (Kalman) / ${cs.rank} (staircase), observability rank ` +
      `${ok.rank} / ${os.rank}. After ${p.maxSteps} steps the reachable target is missed by ${fmt(residualReachable[last]!)}, ` +
      `the random target by ${fmt(residualUnreachable[last]!)} (its distance from the controllable subspace: ` +
      `${fmt(distanceFromControllable)}). From an unobservable initial state max |y_t| = ${fmt(yMax)}, from a random ` +
      `one ${fmt(Math.max(...outputGeneric))}.`;
    return {
      data, checks, summary,
      plots: [
        {
          type: 'line', title: 'Least-squares steering residual from h_0 = 0 in N steps', xLabel: 'steps N',
          yLabel: 'min |h_N - target|', logY: true,
          series: [
            { name: 'reachable target', x: N, y: residualReachable },
            { name: 'random target', x: N, y: residualUnreachable },
          ],
          hLines: [{ y: distanceFromControllable, label: 'distance from the controllable subspace' }],
        },
        {
          type: 'line', title: 'Output |y_t| = |C A^t h_0|', xLabel: 'step t', yLabel: '|y_t|', logY: true,
          series: [
            { name: 'h_0 unobservable', x: data.t, y: outputUnobservable },
            { name: 'h_0 random', x: data.t, y: outputGeneric },
          ],
        },
      ],
    };
  },
});
