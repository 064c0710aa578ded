/**
 * Experiment 8, Jacobian paths: the gradient of the residual recurrence h_t = alpha h_{t-1} + beta tanh(h_{t-1})
 * expanded into its 2^T paths.
 * @module
 */
import { expandJacobianPaths } from '../analysis/gradient-flow.js';
import { check, defineExperiment, fmt, range, toArray } from './types.js';

/** Data of {@link jacobianPaths}. */
export interface JacobianPathsData {
  /** The states h_0..h_{T-1} the step derivatives are taken at. */
  states: number[];
  /** Number of terms of the expansion (2^T). */
  count: number;
  /** k = 0..T: the number of tanh-branch factors of a path. */
  k: number[];
  /** pathsByK[k]: how many of the terms take the tanh branch exactly k times (counted over the terms' indices). */
  pathsByK: number[];
  /** binomial[k] = C(T, k), the count the expansion should have. */
  binomial: number[];
  /** sumByK[k]: the sum of the terms with k tanh factors (the elementary symmetric sums). */
  sumByK: number[];
  /** Partial sums of sumByK over k = 0..j: they end at the full sum. */
  partialSums: number[];
  /** Sum of all 2^T terms. */
  sum: number;
  /** prod_t (alpha + beta (1 - tanh^2 h_{t-1})): dh_T/dh_0 by the chain rule. */
  product: number;
  /** |sum - product| / |product|. */
  relativeError: number;
  /** Sum of |terms| = prod_t (|alpha| + |beta tanh'|): the scale of the rounding error of the sum (equals |product| when no term is negative). */
  absoluteSum: number;
  /** |sum - product| / absoluteSum: the error relative to the scale rounding can reach (the checked number). */
  scaledError: number;
  /** The bound scaledError is held to: max(1e-12, 2^T eps), since summing n terms in order may lose (n - 1) eps of sum |terms|. */
  tolerance: number;
}

/** Number of set bits of a path index: the number of tanh-branch choices of that path. */
function popcount(m: number): number {
  let c = 0;
  for (let v = m; v; v &= v - 1) c++;
  return c;
}

/**
 * dh_T/dh_0 of h_t = alpha h_{t-1} + beta tanh(h_{t-1}) is a product of T factors (alpha + beta tanh'(h_{t-1}));
 * multiplying it out picks, at every step, either the linear branch (alpha) or the tanh branch, so the gradient is
 * a sum over 2^T paths. The experiment expands it with the library, counts the paths by the number k of tanh
 * choices (C(T, k) of each) and checks that the paths sum to the product of the step Jacobians.
 */
export const jacobianPaths = defineExperiment({
  name: 'jacobian-paths',
  number: 8,
  title: 'The gradient as a sum over 2^T paths',
  claim: 'The expansion of the gradient of h_t = alpha h_{t-1} + beta tanh(h_{t-1}) has 2^T terms summing to the product of Jacobians.',
  description: 'The recurrence runs T steps from h_0; each step contributes the factor alpha + beta (1 - tanh^2 h_{t-1}). ' +
    'Expanding the product gives one term per choice of branch at each step: 2^T terms, C(T, k) of them with k ' +
    'tanh factors. The first plot counts the terms by k against the binomial coefficients and shows the size of ' +
    'each group\'s sum; the second shows the partial sums over k reaching the product.',
  params: {
    alpha: { kind: 'number', label: 'alpha (linear branch)', description: 'Weight of the skip (linear) branch.', default: 0.5, min: -2, max: 2, step: 0.01 },
    beta: { kind: 'number', label: 'beta (tanh branch)', description: 'Weight of the tanh branch.', default: 0.8, min: -2, max: 2, step: 0.01 },
    h0: { kind: 'number', label: 'h_0', description: 'Initial state.', default: 1, min: -3, max: 3, step: 0.05 },
    steps: { kind: 'number', label: 'steps T', description: 'Number of steps (2^T terms; at most 20).', default: 10, min: 1, max: 20, integer: true },
  },
  body(p) {
    const T = p.steps;
    const states: number[] = [p.h0];
    for (let t = 1; t < T; t++) states.push(p.alpha * states[t - 1]! + p.beta * Math.tanh(states[t - 1]!));
    const e = expandJacobianPaths(p.alpha, p.beta, states);
    // Count the terms by their number of tanh factors from the terms array's indexing (bit t-1 = tanh at step t).
    const pathsByK = new Array<number>(T + 1).fill(0);
    for (let m = 0; m < e.terms.length; m++) pathsByK[popcount(m)]!++;
    const binomial: number[] = [1];
    for (let k = 1; k <= T; k++) binomial.push(binomial[k - 1]! * (T - k + 1) / k);
    const sumByK = toArray(e.byOrder);
    const partialSums: number[] = [];
    let acc = 0;
    for (const v of sumByK) { acc += v; partialSums.push(acc); }
    const relativeError = Math.abs(e.sum - e.product) / Math.abs(e.product);
    let absoluteSum = 0;
    for (const v of e.terms) absoluteSum += Math.abs(v);
    // With mixed signs the terms cancel and the sum loses digits in proportion to sum|terms| / |sum|, which is a
    // property of floating point, not of the identity; so the check is relative to sum |terms| (the same as
    // relative to |product| when alpha and beta tanh' are >= 0, as at the defaults).
    const scaledError = Math.abs(e.sum - e.product) / absoluteSum;
    // Recursive summation of n terms is accurate to (n - 1) eps sum |terms| (Higham, Accuracy and Stability, 4.2),
    // which exceeds 1e-12 from T = 13 on; the bound follows it there.
    const tolerance = Math.max(1e-12, e.count * Number.EPSILON);
    const countMismatch = Math.max(...pathsByK.map((c, k) => Math.abs(c - binomial[k]!)));
    const data: JacobianPathsData = {
      states, count: e.count, k: range(T + 1), pathsByK, binomial, sumByK, partialSums, sum: e.sum, product: e.product,
      relativeError, absoluteSum, scaledError, tolerance,
    };
    const checks = [
      check('number of terms minus 2^T', e.count - 2 ** T, '==', 0, 0),
      check('max_k |#terms with k tanh factors - C(T, k)|', countMismatch, '==', 0, 0),
      check('|sum of terms - product of Jacobians| / sum |terms|', scaledError, '<=', tolerance),
    ];
    const dominant = sumByK.reduce((best, v, k) => (Math.abs(v) > Math.abs(sumByK[best]!) ? k : best), 0);
    const summary = `T = ${T}: ${e.count} terms; their sum ${fmt(e.sum)} equals the product of Jacobians ` +
      `${fmt(e.product)} to a relative ${fmt(relativeError)} (${fmt(scaledError)} of sum |terms|). The largest group is k = ${dominant} tanh factors ` +
      `(${binomial[dominant]} paths, sum ${fmt(sumByK[dominant]!)}).`;
    return {
      data, checks, summary,
      plots: [
        {
          type: 'line', title: `Paths by number k of tanh factors (T = ${T})`, xLabel: 'k (tanh branches taken)', yLabel: 'count / |sum|',
          logY: true,
          series: [
            { name: 'terms with k tanh factors', x: data.k, y: pathsByK },
            { name: 'C(T, k)', x: data.k, y: binomial, dashed: true },
            { name: '|sum of those terms|', x: data.k, y: sumByK.map(Math.abs) },
          ],
        },
        {
          type: 'line', title: 'Partial sums over k reach the product of Jacobians', xLabel: 'k', yLabel: 'sum of groups 0..k',
          series: [{ name: 'partial sum', x: data.k, y: partialSums }],
          hLines: [{ y: e.product, label: `product ${fmt(e.product)}` }],
        },
      ],
    };
  },
});
