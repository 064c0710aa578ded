/**
 * How gradients flow back through time: the norms of products of step Jacobians along a run, with a verdict
 * (vanishing / exploding / stable), and three toy models that make the mechanism explicit (a scalar linear
 * recurrence, the path expansion of a residual tanh recurrence, and explicit Euler as a linear RNN).
 * Float64 throughout.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { cellAndInputs, type LayerSelection, type SequenceInput, type StateInput } from './cell-map.js';
import type { DynamicsTarget } from './dynamics.js';
import { identity, matmulFast, spectralNorm, type Matrix } from './linalg.js';

/** Options of {@link gradientFlow}. */
export interface GradientFlowOptions extends LayerSelection {
  /** s_0 (default zeros). */
  state0?: StateInput;
  /** Norm below which the gradient counts as gone, for {@link GradientFlow.lagBelowThreshold} (default 1e-3). */
  threshold?: number;
  /**
   * Slope in decades per step beyond which the verdict is 'vanishing' (slope < -slopeTol) or 'exploding'
   * (slope > slopeTol); default 0.01.
   */
  slopeTol?: number;
}

/** Result of {@link gradientFlow}. */
export interface GradientFlow {
  /** T, the sequence length. */
  steps: number;
  /** norms[k] = ||J_T J_{T-1} ... J_{k+1}||_2 for k = 0..T-1, J_t = ds_t/ds_{t-1} at (s_{t-1}, x_t). */
  norms: Float64Array;
  /** lags[k] = T - k, the number of steps the gradient travels back. */
  lags: Int32Array;
  /** Least-squares slope of log10(norm) against lag (over the lags with norm > 0): decades per step. */
  slopePerStep: number;
  /** The same slope in natural log units (ln 10 times slopePerStep): the growth rate per step. */
  slopeLnPerStep: number;
  /** 'vanishing' when slopePerStep < -slopeTol (or every norm beyond lag 1 is 0), 'exploding' when > slopeTol, else 'stable'. */
  verdict: 'vanishing' | 'exploding' | 'stable';
  /** The smallest lag with norm < threshold, or null. */
  lagBelowThreshold: number | null;
  /** The states s_1..s_T of the run. */
  states: Float64Array[];
}

/**
 * The gradient flow along a run s_t = f(s_{t-1}, x_t), t = 1..T: for k = 0..T-1 the spectral norm
 * ||prod_{t=k+1}^{T} ds_t/ds_{t-1}||_2 = ||ds_T/ds_k||_2 (the product J_T ... J_{k+1} is accumulated from the
 * end; for an LSTM the Jacobians are jointly over s = [h; c], the true backward path). The verdict compares the
 * least-squares slope of log10 ||ds_T/ds_k|| versus the lag T - k with +-slopeTol decades per step.
 * For a model, the cell of options.layer / options.direction runs over that layer's input (see
 * {@link cellAndInputs}).
 */
export function gradientFlow(target: DynamicsTarget, input: SequenceInput, options: GradientFlowOptions = {}): GradientFlow {
  const { map, inputs } = cellAndInputs(target, input, options);
  const threshold = options.threshold ?? 1e-3;
  const slopeTol = options.slopeTol ?? 0.01;
  if (!(threshold > 0)) throw new InvalidArgumentError('options.threshold', `expected a positive number, got ${threshold}`);
  if (!(slopeTol >= 0)) throw new InvalidArgumentError('options.slopeTol', `expected a number >= 0, got ${slopeTol}`);
  const T = inputs.length;
  const Js: Matrix[] = [];
  const states: Float64Array[] = [];
  let s = map.state(options.state0);
  for (const x of inputs) {
    Js.push(map.jacobian(s, x).A);
    s = map.step(s, x);
    states.push(s);
  }
  const norms = new Float64Array(T), lags = new Int32Array(T);
  let P = identity(map.stateSize);
  for (let k = T - 1; k >= 0; k--) {
    P = matmulFast(P, Js[k]!);
    norms[k] = spectralNorm(P);
    lags[k] = T - k;
  }
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let k = 0; k < T; k++) {
    if (!(norms[k]! > 0)) continue;
    const xv = lags[k]!, yv = Math.log10(norms[k]!);
    n++; sx += xv; sy += yv; sxx += xv * xv; sxy += xv * yv;
  }
  const den = n * sxx - sx * sx;
  let slope = n >= 2 && den > 0 ? (n * sxy - sx * sy) / den : 0;
  const allZero = T > 1 && n <= 1 && norms.slice(0, T - 1).every((v) => v === 0);
  if (allZero) slope = -Infinity;
  const verdict = slope < -slopeTol ? 'vanishing' : slope > slopeTol ? 'exploding' : 'stable';
  let lagBelow: number | null = null;
  for (let k = T - 1; k >= 0; k--) if (norms[k]! < threshold) { lagBelow = lags[k]!; break; }
  return { steps: T, norms, lags, slopePerStep: slope, slopeLnPerStep: slope * Math.LN10, verdict, lagBelowThreshold: lagBelow, states };
}

/**
 * The scalar linear recurrence h_t = s h_{t-1}: dh_T/dh_k = s^(T-k), so the gradient norm is |s|^(T-k),
 * returned for k = 0..T (entry k; entry T is 1).
 */
export function scalarGradient(s: number, T: number): Float64Array {
  if (!Number.isFinite(s)) throw new InvalidArgumentError('s', `expected a finite number, got ${s}`);
  if (!Number.isInteger(T) || T < 0) throw new InvalidArgumentError('T', `expected an integer >= 0, got ${T}`);
  return Float64Array.from({ length: T + 1 }, (_, k) => Math.abs(s) ** (T - k));
}

/** Result of {@link expandJacobianPaths}. */
export interface JacobianPaths {
  /** Number of terms, 2^T. */
  count: number;
  /**
   * The terms: terms[m] = prod_{t=1}^{T} (bit t-1 of m ? beta (1 - tanh^2 h_{t-1}) : alpha), i.e. bit t-1 set
   * means the path goes through the tanh branch at step t.
   */
  terms: Float64Array;
  /** byOrder[j] = sum of the terms with j tanh choices (the elementary symmetric sums), j = 0..T. */
  byOrder: Float64Array;
  /** Sum of the terms (summed in index order). */
  sum: number;
  /** prod_t (alpha + beta (1 - tanh^2 h_{t-1})), computed directly. */
  product: number;
}

/**
 * For the residual recurrence h_t = alpha h_{t-1} + beta tanh(h_{t-1}), dh_T/dh_0 = prod_{t=1}^{T}
 * (alpha + beta (1 - tanh^2 h_{t-1})); expanding the product gives 2^T terms, one per path that takes the linear
 * (alpha) or the tanh branch at each step. `states` are h_0..h_{T-1}, so T = states.length.
 * @throws {InvalidArgumentError} when T > 20 (over a million terms) or a value is not finite
 */
export function expandJacobianPaths(alpha: number, beta: number, states: ArrayLike<number>): JacobianPaths {
  if (!Number.isFinite(alpha)) throw new InvalidArgumentError('alpha', `expected a finite number, got ${alpha}`);
  if (!Number.isFinite(beta)) throw new InvalidArgumentError('beta', `expected a finite number, got ${beta}`);
  const T = states?.length;
  if (typeof T !== 'number') throw new InvalidArgumentError('states', 'expected an array of h_0..h_{T-1}');
  if (T > 20) throw new InvalidArgumentError('states', `T = ${T} would expand into 2^${T} terms; at most T = 20 is supported`);
  const d = Float64Array.from({ length: T }, (_, t) => {
    const h = states[t]!;
    if (!Number.isFinite(h)) throw new InvalidArgumentError('states', `entry ${t} is ${h}; expected finite numbers`);
    return beta * (1 - Math.tanh(h) ** 2);
  });
  const count = 2 ** T;
  const terms = new Float64Array(count);
  const byOrder = new Float64Array(T + 1);
  let sum = 0;
  for (let m = 0; m < count; m++) {
    let p = 1, j = 0;
    for (let t = 0; t < T; t++) {
      if ((m >>> t) & 1) { p *= d[t]!; j++; } else p *= alpha;
    }
    terms[m] = p; byOrder[j]! += p; sum += p;
  }
  let product = 1;
  for (let t = 0; t < T; t++) product *= alpha + d[t]!;
  return { count, terms, byOrder, sum, product };
}

/** A complex number. */
export interface Complex {
  /** Real part. */
  re: number;
  /** Imaginary part. */
  im: number;
}

/** Result of {@link eulerAsRnn}. */
export interface EulerRnn {
  /** s = 1 + lambda dt, the recurrent weight of the equivalent linear RNN y_{k+1} = s y_k. */
  s: Complex;
  /** |s| = |1 + lambda dt|, the factor each step multiplies |y| by. */
  amplification: number;
  /** |s| < 1: the iteration decays (for Re lambda < 0 this is the absolute stability region |1 + lambda dt| < 1). */
  stable: boolean;
  /** y_0..y_steps of the iteration from y_0 (real and imaginary parts). */
  simulate(y0: number | Complex, steps: number): { re: Float64Array; im: Float64Array };
  /** The exact solution y0 e^{lambda k dt} at the same times, for comparison. */
  exact(y0: number | Complex, steps: number): { re: Float64Array; im: Float64Array };
}

/**
 * Explicit Euler on dy/dt = lambda y with step dt is the linear RNN y_{k+1} = (1 + lambda dt) y_k. For real
 * lambda < 0 it is stable iff 0 < dt < 2 / |lambda|; for purely imaginary lambda it is never stable (|s| > 1).
 */
export function eulerAsRnn(lambda: number | Complex, dt: number): EulerRnn {
  const l = typeof lambda === 'number' ? { re: lambda, im: 0 } : lambda;
  if (l === null || typeof l !== 'object' || !Number.isFinite(l.re) || !Number.isFinite(l.im)) {
    throw new InvalidArgumentError('lambda', 'expected a finite number or { re, im }');
  }
  if (!Number.isFinite(dt) || dt < 0) throw new InvalidArgumentError('dt', `expected a finite number >= 0, got ${dt}`);
  const s = { re: 1 + l.re * dt, im: l.im * dt };
  const amplification = Math.hypot(s.re, s.im);
  const asC = (y: number | Complex): Complex => (typeof y === 'number' ? { re: y, im: 0 } : y);
  const checkSteps = (n: number): void => {
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('steps', `expected an integer >= 0, got ${n}`);
  };
  return {
    s, amplification, stable: amplification < 1,
    simulate(y0, steps) {
      checkSteps(steps);
      const y = asC(y0);
      const re = new Float64Array(steps + 1), im = new Float64Array(steps + 1);
      re[0] = y.re; im[0] = y.im;
      for (let k = 1; k <= steps; k++) {
        re[k] = s.re * re[k - 1]! - s.im * im[k - 1]!;
        im[k] = s.re * im[k - 1]! + s.im * re[k - 1]!;
      }
      return { re, im };
    },
    exact(y0, steps) {
      checkSteps(steps);
      const y = asC(y0);
      const re = new Float64Array(steps + 1), im = new Float64Array(steps + 1);
      for (let k = 0; k <= steps; k++) {
        const m = Math.exp(l.re * k * dt), a = l.im * k * dt;
        const er = m * Math.cos(a), ei = m * Math.sin(a);
        re[k] = y.re * er - y.im * ei; im[k] = y.re * ei + y.im * er;
      }
      return { re, im };
    },
  };
}
