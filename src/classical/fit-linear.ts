/**
 * Least-squares fits of linear dynamical models: [A B] of a state-space model from observed states, and ARX
 * models y_t = sum_i A_i y_{t-i} + sum_j B_j x_{t-j} + c + e_t. Both are (conditional) Gaussian maximum-likelihood
 * estimates. Method: one Householder QR of the regressor matrix augmented with the responses, [Z Y] = Q R
 * (`linalg.householderRColumnMajor`); with R = [[R11, R12], [0, R22]], the coefficients solve R11 Theta = R12 by
 * back substitution and the residual sum of squares matrix is E^T E = R22^T R22 (no normal equations, no
 * cancellation). Backward stable: the coefficients carry the usual least-squares error,
 * ~ eps (cond(Z) + cond(Z)^2 ||E|| / (||Z|| ||Theta||)).
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { Matrix, householderRColumnMajor, solveComplex } from '../analysis/linalg.js';
import { StateSpace, type StateSpaceSpec } from './state-space.js';
import { readRows, type ComplexMatrix, type ComplexNumber } from './varma.js';

/** Least squares Y ~ Z Theta: Theta (k x q), E^T E (q x q), log det(E^T E). */
interface LsqResult { theta: Matrix; rss: Matrix; logDetRss: number }

/**
 * Solves min ||Y - Z Theta||_F for Z (N x k) and Y (N x q) given as rows, by QR of [Z Y].
 * @throws {InvalidArgumentError} naming `name` when a column of Z has a component orthogonal to the earlier
 *   columns below 1e-10 of its norm (collinear regressors, condition number beyond ~1e10)
 */
function leastSquares(name: string, Z: Float64Array[], Y: Float64Array[], k: number, q: number): LsqResult {
  const N = Z.length, K = k + q, rowsN = Math.max(N, K); // zero rows change neither Theta nor E^T E
  const t = new Float64Array(rowsN * K);
  const colNorm = new Float64Array(k);
  for (let i = 0; i < N; i++) {
    const z = Z[i]!, y = Y[i]!;
    for (let j = 0; j < k; j++) { t[j * rowsN + i] = z[j]!; colNorm[j]! += z[j]! * z[j]!; }
    for (let j = 0; j < q; j++) t[(k + j) * rowsN + i] = y[j]!;
  }
  const R = householderRColumnMajor(t, rowsN, K);
  for (let j = 0; j < k; j++) {
    const nz = Math.sqrt(colNorm[j]!);
    if (!(Math.abs(R.get(j, j)) > 1e-10 * nz)) {
      throw new InvalidArgumentError(name, `the regressors are collinear: regressor column ${j} is (numerically) a ` +
        `linear combination of the earlier ones (QR pivot ${Math.abs(R.get(j, j)).toExponential(2)}, column norm ` +
        `${nz.toExponential(2)}); use more varied data, fewer lags, or drop the intercept`);
    }
  }
  const theta = new Matrix(k, q);
  for (let c = 0; c < q; c++) {
    for (let i = k - 1; i >= 0; i--) {
      let s = R.get(i, k + c);
      for (let j = i + 1; j < k; j++) s -= R.get(i, j) * theta.get(j, c);
      theta.set(i, c, s / R.get(i, i));
    }
  }
  const rss = new Matrix(q, q);
  let logDetRss = 0;
  for (let i = 0; i < q; i++) {
    logDetRss += 2 * Math.log(Math.abs(R.get(k + i, k + i)));
    for (let j = i; j < q; j++) {
      let s = 0;
      for (let r = 0; r <= i; r++) s += R.get(k + r, k + i) * R.get(k + r, k + j);
      rss.set(i, j, s); rss.set(j, i, s);
    }
  }
  return { theta, rss, logDetRss };
}

/** Conditional Gaussian log-likelihood at the MLE: -N/2 (q log 2 pi + log det(E^T E / N) + q). */
function gaussianLogLik(N: number, q: number, logDetRss: number): number {
  return -0.5 * N * (q * Math.log(2 * Math.PI) + logDetRss - q * Math.log(N) + q);
}

function residualRows(Z: Float64Array[], Y: Float64Array[], theta: Matrix): Float64Array[] {
  const k = theta.rows, q = theta.columns, th = theta.to2DArray();
  return Y.map((y, i) => {
    const e = Float64Array.from(y), z = Z[i]!;
    for (let c = 0; c < q; c++) { let s = 0; for (let j = 0; j < k; j++) s += z[j]! * th[j]![c]!; e[c]! -= s; }
    return e;
  });
}

function scaled(M: Matrix, f: number): Matrix {
  return M.clone().mul(f);
}

function checkBool(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(name, `expected a boolean, got ${String(v)}`);
  return v;
}

function width(name: string, rows: unknown): number {
  if (rows === null || typeof rows !== 'object' || typeof (rows as ArrayLike<unknown>).length !== 'number') {
    throw new InvalidArgumentError(name, `expected rows of numbers, got ${rows === null ? 'null' : typeof rows}`);
  }
  const r0 = (rows as ArrayLike<ArrayLike<number> | null>)[0];
  if (r0 == null || typeof r0.length !== 'number') throw new ShapeError(name, 'expected at least one row of numbers');
  return r0.length;
}

// ---------------------------------------------------------------------------------------------------------------
// state-space least squares
// ---------------------------------------------------------------------------------------------------------------

/** Data of {@link fitStateSpaceLeastSquares}. */
export interface StateSpaceData {
  /** h_0..h_T: T + 1 rows of n. */
  states: ArrayLike<ArrayLike<number>>;
  /** x_1..x_T: T rows of m (omit for m = 0). */
  inputs?: ArrayLike<ArrayLike<number>>;
  /** y_1..y_T: T rows of p, to fit C, D and R as well (optional). */
  outputs?: ArrayLike<ArrayLike<number>>;
  /** Also fit a constant b in h_t = A h_{t-1} + B x_t + b + w_t (default false). */
  intercept?: boolean;
  /** Fit D in y_t = C h_t + D x_t + v_t (default true when there are inputs; false fits y_t = C h_t + v_t). */
  feedthrough?: boolean;
}

/** What {@link fitStateSpaceLeastSquares} returns. */
export interface StateSpaceFit {
  /** Number of transitions T. */
  T: number;
  /** Estimated A (n x n). */
  A: Matrix;
  /** Estimated B (n x m). */
  B: Matrix;
  /** Estimated b (n; zeros without `intercept`). */
  b: Float64Array;
  /** ML estimate of Q: (1/T) sum_t w^_t w^_t^T. */
  Q: Matrix;
  /** Unbiased estimate: (1/(T - k)) sum_t w^_t w^_t^T, k = n + m (+ 1 with intercept) regressors. */
  QUnbiased: Matrix;
  /** w^_t = h_t - A^ h_{t-1} - B^ x_t - b^, t = 1..T. */
  residuals: Float64Array[];
  /** Conditional Gaussian log-likelihood of h_1..h_T given h_0 at the estimate: -T/2 (n log 2 pi + log det Q^ + n). */
  logLikelihood: number;
  /** Estimated C (p x n) when outputs were given. */
  C?: Matrix;
  /** Estimated D (p x m) when outputs were given (zeros with feedthrough: false). */
  D?: Matrix;
  /** ML estimate of R, (1/T) sum v^_t v^_t^T, when outputs were given. */
  R?: Matrix;
  /** Unbiased estimate of R (divided by T - n - m, or T - n without feedthrough). */
  RUnbiased?: Matrix;
  /** v^_t = y_t - C^ h_t - D^ x_t. */
  outputResiduals?: Float64Array[];
  /**
   * The fitted model as a StateSpace: A^, B^, Q^, and C^, D^, R^ (C = I, R = 0 without outputs). With
   * `intercept` the constant b^ is the last column of B (a constant input 1, see `appendConstantInput`).
   */
  system: StateSpace;
}

/**
 * Least-squares estimate of h_t = A h_{t-1} + B x_t (+ b) + w_t from observed states: regresses h_t on
 * z_t = [h_{t-1}; x_t (; 1)], t = 1..T,
 *
 *   [A^ B^ b^] = argmin sum_t |h_t - A h_{t-1} - B x_t - b|^2,   Q^ = (1/T) sum_t w^_t w^_t^T,
 *
 * (QR of the augmented regressor matrix, see the module comment), plus Q^_unbiased = (1/(T - k)) sum w^ w^^T. Under
 * Gaussian w_t ~ N(0, Q), independent of the past, this least-squares estimate is the conditional (given h_0)
 * maximum-likelihood estimate: the log-likelihood -T/2 log det(2 pi Q) - 1/2 sum_t w_t^T Q^{-1} w_t is
 * minimised over [A B b] by equation-wise least squares for every Q (all equations share the regressors), and
 * then over Q by Q^ (the ML one, divided by T). With `outputs`, C and D (and R) are fitted the same way from
 * y_t on [h_t; x_t] (also the conditional MLE under Gaussian v_t). The states must be observed exactly (no
 * observation noise on h), else the estimate is biased (errors in variables).
 * @throws {ShapeError} naming `data.states` (fewer than 2 rows, ragged), `data.inputs` / `data.outputs` (not T rows)
 * @throws {InvalidArgumentError} for non-finite entries, too few transitions (T <= k) or collinear regressors,
 *   naming the data field
 */
export function fitStateSpaceLeastSquares(data: StateSpaceData): StateSpaceFit {
  if (data === null || typeof data !== 'object') throw new InvalidArgumentError('data', 'expected { states, inputs?, outputs? }');
  const n = width('data.states', data.states);
  const hs = readRows('data.states', data.states, n);
  const T = hs.length - 1;
  if (T < 1) throw new ShapeError('data.states', `expected T + 1 >= 2 rows h_0..h_T, got ${hs.length}`);
  const m = data.inputs !== undefined ? width('data.inputs', data.inputs) : 0;
  const xs = data.inputs !== undefined ? readRows('data.inputs', data.inputs, m, T) : Array.from({ length: T }, () => new Float64Array(0));
  const intercept = checkBool('data.intercept', data.intercept, false);
  const k = n + m + (intercept ? 1 : 0);
  if (T <= k) {
    throw new InvalidArgumentError('data.states', `expected more transitions than regressors: T = ${T}, regressors ` +
      `n + m${intercept ? ' + 1' : ''} = ${k}`);
  }
  const Z = Array.from({ length: T }, (_, t) => {
    const z = new Float64Array(k);
    z.set(hs[t]!, 0); z.set(xs[t]!, n);
    if (intercept) z[k - 1] = 1;
    return z;
  });
  const Y = hs.slice(1);
  const { theta, rss, logDetRss } = leastSquares('data.states', Z, Y, k, n);
  const A = new Matrix(n, n), B = new Matrix(n, m), b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) A.set(i, j, theta.get(j, i));
    for (let j = 0; j < m; j++) B.set(i, j, theta.get(n + j, i));
    if (intercept) b[i] = theta.get(k - 1, i);
  }
  const fit: StateSpaceFit = {
    T, A, B, b, Q: scaled(rss, 1 / T), QUnbiased: scaled(rss, 1 / (T - k)), residuals: residualRows(Z, Y, theta),
    logLikelihood: gaussianLogLik(T, n, logDetRss), system: undefined as unknown as StateSpace,
  };
  let C = Matrix.eye(n, n), D = new Matrix(n, m), Rm = new Matrix(n, n);
  if (data.outputs !== undefined) {
    const p = width('data.outputs', data.outputs);
    const ys = readRows('data.outputs', data.outputs, p, T);
    const feed = checkBool('data.feedthrough', data.feedthrough, m > 0) && m > 0;
    const ko = n + (feed ? m : 0);
    if (T <= ko) throw new InvalidArgumentError('data.outputs', `expected more steps than regressors: T = ${T}, regressors ${ko}`);
    const Zo = Array.from({ length: T }, (_, t) => {
      const z = new Float64Array(ko);
      z.set(hs[t + 1]!, 0);
      if (feed) z.set(xs[t]!, n);
      return z;
    });
    const o = leastSquares('data.outputs', Zo, ys, ko, p);
    C = new Matrix(p, n); D = new Matrix(p, m);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < n; j++) C.set(i, j, o.theta.get(j, i));
      if (feed) for (let j = 0; j < m; j++) D.set(i, j, o.theta.get(n + j, i));
    }
    Rm = scaled(o.rss, 1 / T);
    Object.assign(fit, { C, D, R: Rm, RUnbiased: scaled(o.rss, 1 / (T - ko)), outputResiduals: residualRows(Zo, ys, o.theta) });
  }
  const mm = m + (intercept ? 1 : 0);
  const spec: StateSpaceSpec = { A, C, Q: fit.Q, R: Rm };
  if (mm > 0) {
    const Bs = new Matrix(n, mm), Ds = new Matrix(C.rows, mm);
    for (let i = 0; i < n; i++) { for (let j = 0; j < m; j++) Bs.set(i, j, B.get(i, j)); if (intercept) Bs.set(i, m, b[i]!); }
    for (let i = 0; i < C.rows; i++) for (let j = 0; j < m; j++) Ds.set(i, j, D.get(i, j));
    spec.B = Bs; spec.D = Ds;
  }
  fit.system = new StateSpace(spec);
  return fit;
}

// ---------------------------------------------------------------------------------------------------------------
// ARX
// ---------------------------------------------------------------------------------------------------------------

/** Orders of {@link fitArx}. */
export interface ArxOptions {
  /** AR order na >= 0 (lags y_{t-1}..y_{t-na}). */
  na: number;
  /** Input order nb >= 0 (lags x_{t-d}..x_{t-nb}, d = inputDelay). */
  nb: number;
  /** First input lag d: 0 (default, x_t acts on y_t) or 1 (strictly causal). */
  inputDelay?: 0 | 1;
  /** Fit a constant c (default false). */
  intercept?: boolean;
}

/** What {@link fitArx} returns. */
export interface ArxFit {
  /** Orders and sizes. */
  na: number;
  nb: number;
  inputDelay: 0 | 1;
  p: number;
  m: number;
  /** A_1..A_na (p x p): A[i - 1] multiplies y_{t-i}. */
  A: Matrix[];
  /** B_0..B_nb (p x m): B[j] multiplies x_{t-j} (B[0] = 0 when inputDelay = 1). */
  B: Matrix[];
  /** c (p; zeros without intercept). */
  c: Float64Array;
  /**
   * The coefficient matrix Theta (k x p) of the regression y_t^T = z_t^T Theta, regressors in the order
   * z_t = [y_{t-1}; ...; y_{t-na}; x_{t-d}; ...; x_{t-nb}; 1 (intercept)].
   */
  theta: Matrix;
  /** Number of equations N = T - max(na, nb) (t = max(na, nb) + 1..T). */
  N: number;
  /** ML residual covariance (1/N) sum e^ e^^T. */
  sigma: Matrix;
  /** Unbiased: (1/(N - k)) sum e^ e^^T. */
  sigmaUnbiased: Matrix;
  /** Residuals e^_t for t = max(na, nb) + 1..T (N rows). */
  residuals: Float64Array[];
  /** Conditional (on the first max(na, nb) steps) Gaussian log-likelihood at the MLE: -N/2 (p log 2 pi + log det sigma + p). */
  logLikelihood: number;
  /**
   * One-step-ahead predictions y^_t = sum_i A_i y_{t-i} + sum_j B_j x_{t-j} + c for t = max(na, nb) + 1..T of
   * the given data (T rows of y and x), T - max(na, nb) rows.
   */
  predict(y: ArrayLike<ArrayLike<number>>, x?: ArrayLike<ArrayLike<number>>): Float64Array[];
  /**
   * Runs the fitted recursion y_t = sum_i A_i y_{t-i} + sum_j B_j x_{t-j} + c + e_t for t = 1..T (T = rows of x,
   * or `steps` when m = 0); values before t = 1 are zero unless `initial` gives y_{1-na}..y_0 (na rows) and
   * `initialInputs` x_{1-nb}..x_0 (nb rows); e_t from `noise` (T rows) or zero.
   */
  simulate(x: ArrayLike<ArrayLike<number>> | number, options?: {
    initial?: ArrayLike<ArrayLike<number>>; initialInputs?: ArrayLike<ArrayLike<number>>; noise?: ArrayLike<ArrayLike<number>>;
  }): Float64Array[];
  /**
   * The fitted transfer function H(z) = (I - sum_i A_i z^{-i})^{-1} (sum_j B_j z^{-j}) (p x m complex).
   * @throws {InvalidArgumentError} naming `z` when it is not finite or a pole (singular AR polynomial)
   */
  evaluate(z: ComplexNumber): ComplexMatrix;
}

function checkOrder(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InvalidArgumentError(name, `expected an integer >= 0, got ${String(v)}`);
  return v;
}

/**
 * Least-squares ARX fit (multi-output):
 *
 *   y_t = sum_{i=1}^{na} A_i y_{t-i} + sum_{j=d}^{nb} B_j x_{t-j} + c + e_t,   t = max(na, nb) + 1..T,
 *
 * regressing y_t on z_t = [y_{t-1}; ...; y_{t-na}; x_{t-d}; ...; x_{t-nb}; 1] (QR, see the module comment). Under
 * Gaussian white e_t ~ N(0, Sigma) this is the conditional maximum-likelihood estimate given the first
 * max(na, nb) observations, with Sigma^ = (1/N) sum e^ e^^T; `sigmaUnbiased` divides by N - k. Consistent for
 * ARX data; for ARMAX data (e.g. a state-space model with noise, see `toArmax`) the MA part of the noise biases
 * it unless na, nb grow with N.
 * @param y T rows of p outputs
 * @param x T rows of m inputs (omit, or null, for an AR model)
 * @throws {ShapeError} naming `y` / `x` for ragged rows or different lengths
 * @throws {InvalidArgumentError} naming `options.na`, `options.nb`, `options.inputDelay`, `options.intercept`
 *   when invalid, `y` when there are too few equations (N <= k) or the regressors are collinear
 */
export function fitArx(y: ArrayLike<ArrayLike<number>>, x: ArrayLike<ArrayLike<number>> | null | undefined,
                       options: ArxOptions): ArxFit {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected { na, nb }');
  const na = checkOrder('options.na', options.na);
  const hasX = x !== undefined && x !== null;
  const nb = checkOrder('options.nb', options.nb);
  const d = options.inputDelay ?? 0;
  if (d !== 0 && d !== 1) throw new InvalidArgumentError('options.inputDelay', `expected 0 or 1, got ${String(d)}`);
  const intercept = checkBool('options.intercept', options.intercept, false);
  const p = width('y', y);
  const ys = readRows('y', y, p);
  const T = ys.length;
  const m = hasX ? width('x', x) : 0;
  const xs = hasX ? readRows('x', x, m, T) : [];
  const nbEff = hasX ? nb : 0;
  const nx = hasX && nb >= d ? nb - d + 1 : 0;
  const lag = Math.max(na, nbEff);
  const k = na * p + nx * m + (intercept ? 1 : 0);
  const N = T - lag;
  if (k === 0) throw new InvalidArgumentError('options.na', 'expected at least one regressor (na > 0, an input lag, or intercept)');
  if (N <= k) throw new InvalidArgumentError('y', `expected more equations than regressors: T - max(na, nb) = ${N}, regressors ${k}`);
  const regressor = (yy: Float64Array[], xx: Float64Array[], t: number, yAt?: (s: number) => Float64Array, xAt?: (s: number) => Float64Array): Float64Array => {
    const z = new Float64Array(k);
    let o = 0;
    for (let i = 1; i <= na; i++) { z.set(yAt ? yAt(t - i) : yy[t - i]!, o); o += p; }
    for (let j = d; j < d + nx; j++) { z.set(xAt ? xAt(t - j) : xx[t - j]!, o); o += m; }
    if (intercept) z[o] = 1;
    return z;
  };
  const Z: Float64Array[] = [], Y: Float64Array[] = [];
  for (let t = lag; t < T; t++) { Z.push(regressor(ys, xs, t)); Y.push(ys[t]!); }
  const { theta, rss, logDetRss } = leastSquares('y', Z, Y, k, p);
  const A: Matrix[] = [], B: Matrix[] = [];
  for (let i = 0; i < na; i++) {
    const Ai = new Matrix(p, p);
    for (let r = 0; r < p; r++) for (let c = 0; c < p; c++) Ai.set(r, c, theta.get(i * p + c, r));
    A.push(Ai);
  }
  for (let j = 0; j <= (hasX ? nb : -1); j++) {
    const Bj = new Matrix(p, m);
    if (j >= d) for (let r = 0; r < p; r++) for (let c = 0; c < m; c++) Bj.set(r, c, theta.get(na * p + (j - d) * m + c, r));
    B.push(Bj);
  }
  const c = new Float64Array(p);
  if (intercept) for (let r = 0; r < p; r++) c[r] = theta.get(k - 1, r);
  const th = theta.to2DArray();
  const apply = (z: Float64Array): Float64Array => {
    const out = new Float64Array(p);
    for (let r = 0; r < p; r++) { let s = 0; for (let j = 0; j < k; j++) s += z[j]! * th[j]![r]!; out[r] = s; }
    return out;
  };
  const fit: ArxFit = {
    na, nb, inputDelay: d, p, m, A, B, c, theta, N,
    sigma: scaled(rss, 1 / N), sigmaUnbiased: scaled(rss, 1 / (N - k)), residuals: residualRows(Z, Y, theta),
    logLikelihood: gaussianLogLik(N, p, logDetRss),
    predict(yy, xx) {
      const yr = readRows('y', yy, p);
      const xr = m > 0 ? readRows('x', xx, m, yr.length) : [];
      const out: Float64Array[] = [];
      for (let t = lag; t < yr.length; t++) out.push(apply(regressor(yr, xr, t)));
      return out;
    },
    simulate(xx, opts = {}) {
      let xr: Float64Array[];
      if (typeof xx === 'number') {
        if (m > 0) throw new InvalidArgumentError('x', `expected T rows of ${m} inputs, got a number`);
        if (!Number.isInteger(xx) || xx < 0) throw new InvalidArgumentError('x', `expected a step count >= 0, got ${xx}`);
        xr = Array.from({ length: xx }, () => new Float64Array(0));
      } else xr = readRows('x', xx, m);
      const Ts = xr.length;
      const y0 = opts.initial !== undefined ? readRows('options.initial', opts.initial, p, na) : [];
      const x0 = opts.initialInputs !== undefined ? readRows('options.initialInputs', opts.initialInputs, m, nbEff) : [];
      const e = opts.noise !== undefined ? readRows('options.noise', opts.noise, p, Ts) : null;
      const out: Float64Array[] = [];
      const yAt = (s: number): Float64Array => (s >= 0 ? out[s]! : (y0.length ? y0[na + s]! : new Float64Array(p)));
      const xAt = (s: number): Float64Array => (s >= 0 ? xr[s]! : (x0.length ? x0[nbEff + s]! : new Float64Array(m)));
      for (let t = 0; t < Ts; t++) {
        const yt = apply(regressor(out, xr, t, yAt, xAt));
        if (e) for (let r = 0; r < p; r++) yt[r]! += e[t]![r]!;
        out.push(yt);
      }
      return out;
    },
    evaluate(z) {
      if (z === null || typeof z !== 'object' || !Number.isFinite(z.re) || !Number.isFinite(z.im)) {
        throw new InvalidArgumentError('z', `expected { re, im } with finite numbers, got ${JSON.stringify(z)}`);
      }
      const r2 = z.re * z.re + z.im * z.im;
      if (!(r2 > 0)) throw new InvalidArgumentError('z', 'z = 0 is a pole of every ARX transfer function with lags');
      // powers z^{-k} = (conj z / |z|^2)^k
      const ir = z.re / r2, ii = -z.im / r2;
      const K = Math.max(na, nb);
      const pw: [number, number][] = [[1, 0]];
      for (let q = 1; q <= K; q++) { const [a0, b0] = pw[q - 1]!; pw.push([a0 * ir - b0 * ii, a0 * ii + b0 * ir]); }
      const Pre = Matrix.eye(p, p), Pim = new Matrix(p, p);
      for (let i = 1; i <= na; i++) {
        const [cr, ci] = pw[i]!;
        for (let r = 0; r < p; r++) for (let s = 0; s < p; s++) {
          const v = A[i - 1]!.get(r, s);
          Pre.set(r, s, Pre.get(r, s) - v * cr); Pim.set(r, s, Pim.get(r, s) - v * ci);
        }
      }
      const Qre = new Matrix(p, m), Qim = new Matrix(p, m);
      for (let j = 0; j < B.length; j++) {
        const [cr, ci] = pw[j]!;
        for (let r = 0; r < p; r++) for (let s = 0; s < m; s++) {
          const v = B[j]!.get(r, s);
          Qre.set(r, s, Qre.get(r, s) + v * cr); Qim.set(r, s, Qim.get(r, s) + v * ci);
        }
      }
      if (m === 0) return { re: Array.from({ length: p }, () => []), im: Array.from({ length: p }, () => []) };
      const X = solveComplex(Pre, Pim, Qre, Qim);
      const re = X.re.to2DArray(), im = X.im.to2DArray();
      if (!re.flat().concat(im.flat()).every(Number.isFinite)) throw new InvalidArgumentError('z', 'the AR polynomial is singular at z (a pole)');
      return { re, im };
    },
  };
  return fit;
}
