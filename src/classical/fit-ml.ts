/**
 * Maximum likelihood for the linear Gaussian {@link StateSpace} model with hidden states: the exact
 * log-likelihood (from the Kalman filter's innovations) and expectation-maximization (Shumway & Stoffer 1982,
 * "An approach to time series smoothing and forecasting using the EM algorithm"; Ghahramani & Hinton 1996,
 * "Parameter estimation for linear dynamical systems"), with inputs, missing rows and fixed parameters.
 * float64, on the flat kernels of kalman.ts; the M-step's small normal equations are solved with linalg.
 * @module
 */
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import { Random } from '../nn/random.js';
import { Matrix, solve, spectralRadius, svd, symmetricEigen } from '../analysis/linalg.js';
import { StateSpace, type StateSpaceSpec } from './state-space.js';
import {
  type FlatModel, type SeriesInput, choleskyFlat, filterCore, flatInputs, flatModel, flatSequence, smootherCore,
} from './kalman.js';

/**
 * log p(y_1..y_T | model) = sum_t log N(e_t; 0, S_t), the Kalman filter's innovation form of the Gaussian
 * likelihood (see {@link kalmanFilter}; NaN entries of y are missing and do not count).
 * @param y T rows of p numbers (NaN for missing)
 * @param inputs T rows of m numbers when the model has inputs
 * @throws {ShapeError} / {InvalidArgumentError} as {@link kalmanFilter} (naming `y`, `inputs`, `ss.R`)
 */
export function stateSpaceLogLikelihood(ss: StateSpace, y: SeriesInput, inputs?: SeriesInput): number {
  if (!(ss instanceof StateSpace)) throw new InvalidArgumentError('ss', 'expected a StateSpace');
  const { data, T } = flatSequence('y', y, ss.p, undefined, true);
  const x = flatInputs(ss, inputs, T, 'inputs');
  return filterCore(flatModel(ss), data, x, T).logLikelihood;
}

/** A parameter of the model that {@link fitStateSpaceEm} can keep at its initial value. */
export type EmParameter = 'A' | 'B' | 'C' | 'D' | 'Q' | 'R' | 'm0' | 'P0';

/** Options of {@link fitStateSpaceEm}. */
export interface FitStateSpaceEmOptions {
  /** State size n (an integer >= 1). */
  stateSize: number;
  /** x_1..x_T, T x m, for a model with inputs (B and D are then estimated). */
  inputs?: SeriesInput;
  /**
   * The starting model: a {@link StateSpaceSpec} (n x n A, p x n C, n x m B and p x m D with inputs), `'pca'`
   * (default; a subspace-identification start, see {@link fitStateSpaceEm}) or `'random'` (seeded; EM from a
   * random start can stop in a poor local maximum).
   */
  init?: StateSpaceSpec | 'pca' | 'random';
  /** Maximum number of EM iterations (M-steps), default 200. */
  iterations?: number;
  /** Stop when the log-likelihood rises by less than tol * |log-likelihood| in one iteration (default 1e-8). */
  tol?: number;
  /** Parameters kept at their initial values (e.g. `['D']` for no feedthrough, `['m0', 'P0']`). */
  fix?: readonly EmParameter[];
  /** Seed of the `'random'` initialisation (default 0). */
  seed?: number;
}

/** What {@link fitStateSpaceEm} returns. */
export interface FitStateSpaceEmResult {
  /** The fitted model (the last iterate). */
  model: StateSpace;
  /**
   * logLikelihoods[k] = log p(y | model after k M-steps), k = 0 the initial model; non-decreasing up to
   * rounding (EM's monotonicity).
   */
  logLikelihoods: number[];
  /** Number of M-steps performed. */
  iterations: number;
  /** True when the tolerance stopped it before `iterations`. */
  converged: boolean;
  /** The final model's log-likelihood (the last entry of `logLikelihoods`). */
  logLikelihood: number;
}

const PARAMS: readonly EmParameter[] = ['A', 'B', 'C', 'D', 'Q', 'R', 'm0', 'P0'];

function m2(a: Float64Array, r: number, c: number): Matrix {
  const M = new Matrix(r, c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) M.set(i, j, a[i * c + j]!);
  return M;
}

/** Symmetric part, eigenvalues clipped below at floor * lambda_max (>= 0): a PSD covariance from rounding-level noise. */
function psdClip(a: Float64Array, n: number, floor: number): Float64Array {
  const M = m2(a, n, n);
  const sym = M.clone().add(M.transpose()).mul(0.5);
  const flat = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) flat[i * n + j] = sym.get(i, j);
  if (choleskyFlat(flat, n) && floor === 0) return flat;
  const { values, vectors } = symmetricEigen(sym);
  const lmax = Math.max(values[n - 1]!, 0);
  const out = new Float64Array(n * n);
  for (let q = 0; q < n; q++) {
    const lam = Math.max(values[q]!, floor * lmax);
    if (lam === 0) continue;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j]! += lam * vectors.get(i, q) * vectors.get(j, q);
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) { const v = 0.5 * (out[i * n + j]! + out[j * n + i]!); out[i * n + j] = v; out[j * n + i] = v; }
  return out;
}

function toStateSpace(M: FlatModel): StateSpace {
  const { n, m, p } = M;
  const spec: StateSpaceSpec = {
    A: { data: M.A, shape: [n, n] }, C: { data: M.C, shape: [p, n] }, Q: { data: M.Q, shape: [n, n] },
    R: { data: M.R, shape: [p, p] }, m0: M.m0, P0: { data: M.P0, shape: [n, n] },
  };
  if (m > 0) { spec.B = { data: M.B, shape: [n, m] }; spec.D = { data: M.D, shape: [p, m] }; }
  return new StateSpace(spec);
}

/**
 * Least squares for the coefficient G (rows x k) of target ~ G regressor, with some regressor blocks fixed:
 * G_F = (S_tz[:, F] - G_X S_zz[X, F]) S_zz[F, F]^{-1}, X the fixed columns. Szz k x k, Stz rows x k.
 */
function partialRegression(G: Float64Array, rows: number, k: number, Szz: Float64Array, Stz: Float64Array, free: boolean[]): void {
  const F: number[] = [], X: number[] = [];
  for (let j = 0; j < k; j++) (free[j] ? F : X).push(j);
  if (F.length === 0) return;
  const f = F.length;
  const SFF = new Matrix(f, f), RHS = new Matrix(f, rows);
  for (let a = 0; a < f; a++) {
    for (let b = 0; b < f; b++) SFF.set(a, b, Szz[F[a]! * k + F[b]!]!);
    for (let i = 0; i < rows; i++) {
      let v = Stz[i * k + F[a]!]!;
      for (const x of X) v -= G[i * k + x]! * Szz[x * k + F[a]!]!;
      RHS.set(a, i, v);
    }
  }
  const Xs = solve(SFF, RHS, 'y'); // f x rows
  for (let a = 0; a < f; a++) for (let i = 0; i < rows; i++) G[i * k + F[a]!] = Xs.get(a, i);
}

/** (1/N) (S_tt - G S_tz^T - S_tz G^T + G S_zz G^T), the residual covariance of the regression. */
function residualCov(G: Float64Array, rows: number, k: number, Stt: Float64Array, Stz: Float64Array, Szz: Float64Array, N: number): Float64Array {
  const GS = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) for (let l = 0; l < k; l++) { let v = 0; for (let j = 0; j < k; j++) v += G[i * k + j]! * Szz[j * k + l]!; GS[i * k + l] = v; }
  const out = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      let v = Stt[i * rows + j]!;
      for (let l = 0; l < k; l++) v += -G[i * k + l]! * Stz[j * k + l]! - Stz[i * k + l]! * G[j * k + l]! + GS[i * k + l]! * G[j * k + l]!;
      out[i * rows + j] = v / N;
    }
  }
  return out;
}

/**
 * Expectation-maximization for all of A, B, C, D, Q, R, m0, P0 (minus `fix`). Each iteration runs the Kalman
 * filter and RTS smoother under the current model (E-step), giving E[h_t], E[h_t h_t^T] = P_{t|T} + m_{t|T}
 * m_{t|T}^T and E[h_t h_{t-1}^T] = P_{t,t-1|T} + m_{t|T} m_{t-1|T}^T for t = 0..T, then maximizes the expected
 * complete-data log-likelihood in closed form (M-step), with z_t = [h_{t-1}; x_t] and u_t = [h_t; x_t]:
 *
 *   [A B] = (sum_t E[h_t z_t^T]) (sum_t E[z_t z_t^T])^{-1},     Q = 1/T sum_t E[(h_t - [A B] z_t)(...)^T]
 *   [C D] = (sum_t y_t E[u_t]^T) (sum_t E[u_t u_t^T])^{-1},      R = 1/T_o sum_t E[(y_t - [C D] u_t)(...)^T]
 *   m0 = m_{0|T},                                              P0 = P_{0|T} + (m_{0|T} - m0)(m_{0|T} - m0)^T
 *
 * (sums over t = 1..T; for C, D, R over the T_o rows of y that are observed). A fixed block enters the
 * regression of the free ones as a known term, G_F = (S_tz,F - G_X S_zz,XF) S_zz,FF^{-1}, which is still the
 * exact maximizer, so the likelihood never decreases. Covariances are symmetrized; rounding-level negative
 * eigenvalues are clipped to 0 (and R, Q to at least 1e-12 lambda_max).
 *
 * The model has no intercept: centre y (and x) first. States are identifiable only up to a similarity
 * transform h -> M h; compare fits by what is invariant (the transfer function C (zI - A)^{-1} B + D, the
 * Markov parameters C A^k B, the output spectral density, the likelihood).
 *
 * `init: 'pca'` (default): a subspace-identification start. With w = max(3, 2 ceil(n / p)), the stacked future
 * outputs f_t = [y_t; ..; y_{t+w-1}] are regressed on the past p_t = [y_{t-w}; ..; y_{t-1}; x_{t-w}; ..; x_{t-1}]
 * and the future inputs; the part predicted from the past is O s_t (O the extended observability matrix) up to
 * estimation error, free of the observation noise, and its top n principal components (right singular vectors)
 * give state estimates s_t. Then C, D by least squares of y_t on [s_t; x_t], A, B of s_t on [s_{t-1}; x_t] (A
 * scaled to spectral radius <= 0.99), Q and R the residual covariances (R at least 5% of each output's
 * variance), m0 = 0, P0 the sample covariance of s. Missing entries count as 0 there. (Starting from the
 * principal components of the outputs themselves instead left EM in a poor local maximum on a noisy
 * oscillator, 113 nats below the true model.) `'random'`: A = a seeded Gaussian matrix scaled to spectral
 * radius <= 0.9, C, B, D seeded Gaussian, Q = I, R = the sample covariance of y, m0 = 0, P0 = I.
 * @param y T rows of p numbers (NaN rows for missing steps; partly missing rows are not supported)
 * @throws {InvalidArgumentError} naming `options.stateSize`, `options.iterations`, `options.tol`, `options.fix`,
 *   `options.init`, `options.inputs` or `y` for invalid values (see {@link kalmanFilter} for y and inputs)
 * @throws {ShapeError} naming `y`, `options.inputs` or the `options.init` matrix whose shape is wrong
 * @throws {UnsupportedError} when a row of y is only partly missing
 */
export function fitStateSpaceEm(y: SeriesInput, options: FitStateSpaceEmOptions): FitStateSpaceEmResult {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected { stateSize, ... }');
  const n = options.stateSize;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('options.stateSize', `expected an integer >= 1, got ${String(n)}`);
  const iterations = options.iterations ?? 200;
  if (!Number.isInteger(iterations) || iterations < 0) throw new InvalidArgumentError('options.iterations', `expected an integer >= 0, got ${String(iterations)}`);
  const tol = options.tol ?? 1e-8;
  if (!(tol >= 0)) throw new InvalidArgumentError('options.tol', `expected a number >= 0, got ${String(tol)}`);
  const fix = new Set<EmParameter>(options.fix ?? []);
  for (const f of fix) if (!PARAMS.includes(f)) throw new InvalidArgumentError('options.fix', `unknown parameter ${String(f)}; expected some of ${PARAMS.join(', ')}`);
  // p from y itself.
  const p = pOf(y);
  const { data: yd, T } = flatSequence('y', y, p, undefined, true);
  const observedRow = new Uint8Array(T);
  for (let t = 0; t < T; t++) {
    let k = 0;
    for (let i = 0; i < p; i++) if (!Number.isNaN(yd[t * p + i]!)) k++;
    if (k > 0 && k < p) throw new UnsupportedError(`y: row ${t} is only partly missing; EM here handles whole missing rows (NaN everywhere) only`);
    observedRow[t] = k === p ? 1 : 0;
  }
  const To = observedRow.reduce((a, v) => a + v, 0);
  if (To === 0) throw new InvalidArgumentError('y', 'every row is missing');
  let m = 0;
  let x: Float64Array = new Float64Array(0);
  if (options.inputs !== undefined) {
    const r = options.inputs as ArrayLike<ArrayLike<number>>;
    m = 'shape' in (options.inputs as object) ? (options.inputs as { shape: readonly number[] }).shape[1] ?? 0 : (r[0]?.length ?? 0);
    if (!(m >= 1)) throw new InvalidArgumentError('options.inputs', 'expected T rows of m >= 1 numbers');
    x = flatSequence('options.inputs', options.inputs, m, T, false).data;
  }
  const init = options.init ?? 'pca';
  let M: FlatModel;
  if (init === 'pca') M = pcaInit(yd, T, p, x, m, n);
  else if (init === 'random') M = randomInit(yd, T, p, m, n, options.seed ?? 0);
  else if (init !== null && typeof init === 'object') {
    const ss = new StateSpace(init);
    if (ss.n !== n) throw new InvalidArgumentError('options.init', `A is ${ss.n}x${ss.n}; expected the state size ${n}`);
    if (ss.p !== p) throw new InvalidArgumentError('options.init', `C has ${ss.p} rows; expected ${p} (the width of y)`);
    if (ss.m !== m) throw new InvalidArgumentError('options.init', `B has ${ss.m} columns; expected ${m} (the width of the inputs)`);
    M = flatModel(ss);
  } else {
    throw new InvalidArgumentError('options.init', `expected a StateSpaceSpec, 'pca' or 'random', got ${String(init)}`);
  }
  const lls: number[] = [];
  let converged = false, steps = 0;
  for (;;) {
    const F = filterCore(M, yd, x, T, 'options.init');
    const L = F.logLikelihood;
    lls.push(L);
    if (lls.length > 1 && L - lls[lls.length - 2]! <= tol * Math.abs(L)) { converged = true; break; }
    if (steps >= iterations) break;
    const S = smootherCore(M, F, true);
    M = mStep(M, S, yd, x, T, observedRow, To, fix);
    steps++;
  }
  return { model: toStateSpace(M), logLikelihoods: lls, iterations: steps, converged, logLikelihood: lls[lls.length - 1]! };
}

function pOf(y: SeriesInput): number {
  if (y !== null && typeof y === 'object' && 'shape' in y && !('length' in y)) {
    const s = (y as { shape: readonly number[] }).shape;
    return s[1] ?? 0;
  }
  const r = y as ArrayLike<ArrayLike<number>>;
  if (r == null || typeof r.length !== 'number' || r.length === 0 || r[0] == null || typeof r[0].length !== 'number' || r[0].length === 0) {
    throw new InvalidArgumentError('y', 'expected T >= 1 rows of p >= 1 numbers');
  }
  return r[0].length;
}

function mStep(M: FlatModel, S: ReturnType<typeof smootherCore>, y: Float64Array, x: Float64Array, T: number,
  observedRow: Uint8Array, To: number, fix: Set<EmParameter>): FlatModel {
  const { n, m, p } = M;
  const nn = n * n;
  const mean = (t: number): Float64Array => (t === 0 ? S.m0S : S.mS.subarray((t - 1) * n, t * n)); // E h_t, t = 0..T
  const cov = (t: number): Float64Array => (t === 0 ? S.P0S : S.PS.subarray((t - 1) * nn, t * nn));
  // State equation: z = [h_{t-1}; x_t] (k = n + m), target h_t.
  const k = n + m;
  const Szz = new Float64Array(k * k), Shz = new Float64Array(n * k), Shh = new Float64Array(nn);
  const Suu = new Float64Array(k * k), Syu = new Float64Array(p * k), Syy = new Float64Array(p * p);
  const z = new Float64Array(k), u = new Float64Array(k);
  for (let t = 1; t <= T; t++) {
    const m1 = mean(t), m0 = mean(t - 1), P1 = cov(t), P0 = cov(t - 1), X = S.cross!.subarray((t - 1) * nn, t * nn);
    z.set(m0); u.set(m1);
    for (let j = 0; j < m; j++) { z[n + j] = x[(t - 1) * m + j]!; u[n + j] = z[n + j]!; }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        Szz[i * k + j]! += z[i]! * z[j]! + (i < n && j < n ? P0[i * n + j]! : 0);
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) Shz[i * k + j]! += m1[i]! * z[j]! + (j < n ? X[i * n + j]! : 0);
      for (let j = 0; j < n; j++) Shh[i * n + j]! += m1[i]! * m1[j]! + P1[i * n + j]!;
    }
    if (observedRow[t - 1]) {
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) Suu[i * k + j]! += u[i]! * u[j]! + (i < n && j < n ? P1[i * n + j]! : 0);
      for (let i = 0; i < p; i++) {
        const yi = y[(t - 1) * p + i]!;
        for (let j = 0; j < k; j++) Syu[i * k + j]! += yi * u[j]!;
        for (let j = 0; j < p; j++) Syy[i * p + j]! += yi * y[(t - 1) * p + j]!;
      }
    }
  }
  // [A B]
  const G = new Float64Array(n * k);
  for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) G[i * k + j] = M.A[i * n + j]!; for (let j = 0; j < m; j++) G[i * k + n + j] = M.B[i * m + j]!; }
  partialRegression(G, n, k, Szz, Shz, Array.from({ length: k }, (_, j) => (j < n ? !fix.has('A') : !fix.has('B'))));
  const H = new Float64Array(p * k);
  for (let i = 0; i < p; i++) { for (let j = 0; j < n; j++) H[i * k + j] = M.C[i * n + j]!; for (let j = 0; j < m; j++) H[i * k + n + j] = M.D[i * m + j]!; }
  partialRegression(H, p, k, Suu, Syu, Array.from({ length: k }, (_, j) => (j < n ? !fix.has('C') : !fix.has('D'))));
  const A = new Float64Array(nn), B = new Float64Array(n * m), C = new Float64Array(p * n), D = new Float64Array(p * m);
  for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) A[i * n + j] = G[i * k + j]!; for (let j = 0; j < m; j++) B[i * m + j] = G[i * k + n + j]!; }
  for (let i = 0; i < p; i++) { for (let j = 0; j < n; j++) C[i * n + j] = H[i * k + j]!; for (let j = 0; j < m; j++) D[i * m + j] = H[i * k + n + j]!; }
  const Q = fix.has('Q') ? M.Q : psdClip(residualCov(G, n, k, Shh, Shz, Szz, T), n, 1e-12);
  const R = fix.has('R') ? M.R : psdClip(residualCov(H, p, k, Syy, Syu, Suu, To), p, 1e-12);
  const m0 = fix.has('m0') ? M.m0 : S.m0S.slice();
  let P0 = M.P0;
  if (!fix.has('P0')) {
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = S.m0S[i]! - m0[i]!;
    const raw = new Float64Array(nn);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) raw[i * n + j] = S.P0S[i * n + j]! + d[i]! * d[j]!;
    P0 = psdClip(raw, n, 0);
  }
  return { n, m, p, A, B, C, D, Q, R, m0, P0 };
}

/** Least squares W (rows x k) minimizing sum |target_t - W reg_t|^2 (ridge 1e-9 trace for safety). */
function lsq(target: Float64Array[], reg: Float64Array[], rows: number, k: number): Float64Array {
  const Szz = new Matrix(k, k), Stz = new Matrix(k, rows);
  for (let t = 0; t < reg.length; t++) {
    const r = reg[t]!, g = target[t]!;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) Szz.set(i, j, Szz.get(i, j) + r[i]! * r[j]!);
      for (let j = 0; j < rows; j++) Stz.set(i, j, Stz.get(i, j) + r[i]! * g[j]!);
    }
  }
  let tr = 0;
  for (let i = 0; i < k; i++) tr += Szz.get(i, i);
  for (let i = 0; i < k; i++) Szz.set(i, i, Szz.get(i, i) + 1e-9 * (tr / k + 1e-300));
  const W = solve(Szz, Stz, 'y');
  const out = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = W.get(j, i);
  return out;
}

function sampleCov(v: Float64Array[], d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (const r of v) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j]! += r[i]! * r[j]!;
  for (let i = 0; i < d * d; i++) out[i]! /= Math.max(v.length, 1);
  return out;
}

function residuals(target: Float64Array[], reg: Float64Array[], W: Float64Array, rows: number, k: number): Float64Array[] {
  return target.map((g, t) => {
    const r = reg[t]!, e = new Float64Array(rows);
    for (let i = 0; i < rows; i++) { let v = g[i]!; for (let j = 0; j < k; j++) v -= W[i * k + j]! * r[j]!; e[i] = v; }
    return e;
  });
}

function scaleToRadius(A: Float64Array, n: number, rho: number): void {
  const r = spectralRadius(m2(A, n, n));
  if (r > rho) for (let i = 0; i < n * n; i++) A[i]! *= rho / r;
}

function pcaInit(y: Float64Array, T: number, p: number, x: Float64Array, m: number, n: number): FlatModel {
  const w = Math.max(3, 2 * Math.ceil(n / p));
  // Rows t = w..T-w: past [y_{t-w}..y_{t-1}, x_{t-w}..x_{t-1}], future inputs [x_t..x_{t+w-1}], future outputs
  // [y_t..y_{t+w-1}] (0-based t). The part of the future predicted from the past is O s_t (O the extended
  // observability matrix) plus estimation error; its top n principal components are the state estimates.
  const N = T - 2 * w + 1;
  if (N < 4 * w * (p + m) + n + m + 2) throw new InvalidArgumentError('y', `too few steps (${T}) for a ${n}-state fit with 'pca' initialisation`);
  const val = (t: number, i: number): number => { const v = y[t * p + i]!; return Number.isNaN(v) ? 0 : v; };
  const kp = w * (p + m), kf = w * m, kr = kp + kf;
  const reg: Float64Array[] = [], fut: Float64Array[] = [];
  for (let r = 0; r < N; r++) {
    const t = r + w;
    const z = new Float64Array(kr), f = new Float64Array(w * p);
    for (let l = 0; l < w; l++) {
      for (let i = 0; i < p; i++) { z[l * p + i] = val(t - w + l, i); f[l * p + i] = val(t + l, i); }
      for (let j = 0; j < m; j++) { z[w * p + l * m + j] = x[(t - w + l) * m + j]!; z[kp + l * m + j] = x[(t + l) * m + j]!; }
    }
    reg.push(z); fut.push(f);
  }
  const W = lsq(fut, reg, w * p, kr);
  const Fh = new Matrix(N, w * p);
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < w * p; i++) { let v = 0; for (let j = 0; j < kp; j++) v += W[i * kr + j]! * reg[r]![j]!; Fh.set(r, i, v); }
  }
  const { V } = svd(Fh);
  const s: Float64Array[] = [];
  for (let r = 0; r < N; r++) {
    const st = new Float64Array(n);
    for (let q = 0; q < n; q++) { let v = 0; for (let j = 0; j < w * p; j++) v += Fh.get(r, j) * V.get(j, q); st[q] = v; }
    s.push(st);
  }
  const t0 = w;
  const k = n + m;
  const xt = (t: number): Float64Array => x.subarray(t * m, (t + 1) * m);
  // Observation: y_t ~ [C D] [s_t; x_t] over observed rows.
  const regO: Float64Array[] = [], tgtO: Float64Array[] = [];
  for (let r0 = 0; r0 < N; r0++) {
    const t = t0 + r0;
    if (Number.isNaN(y[t * p]!)) continue;
    const r = new Float64Array(k); r.set(s[r0]!); r.set(xt(t), n);
    regO.push(r); tgtO.push(y.slice(t * p, (t + 1) * p));
  }
  const H = lsq(tgtO, regO, p, k);
  const regS: Float64Array[] = [], tgtS: Float64Array[] = [];
  for (let r0 = 1; r0 < N; r0++) {
    const r = new Float64Array(k); r.set(s[r0 - 1]!); r.set(xt(t0 + r0), n);
    regS.push(r); tgtS.push(s[r0]!);
  }
  const G = lsq(tgtS, regS, n, k);
  const A = new Float64Array(n * n), B = new Float64Array(n * m), C = new Float64Array(p * n), D = new Float64Array(p * m);
  for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) A[i * n + j] = G[i * k + j]!; for (let j = 0; j < m; j++) B[i * m + j] = G[i * k + n + j]!; }
  for (let i = 0; i < p; i++) { for (let j = 0; j < n; j++) C[i * n + j] = H[i * k + j]!; for (let j = 0; j < m; j++) D[i * m + j] = H[i * k + n + j]!; }
  scaleToRadius(A, n, 0.99);
  const Qr = sampleCov(residuals(tgtS, regS, G, n, k), n);
  const Rr = sampleCov(residuals(tgtO, regO, H, p, k), p);
  const Yc = sampleCov(tgtO, p);
  for (let i = 0; i < p; i++) Rr[i * p + i] = Math.max(Rr[i * p + i]!, 0.05 * Yc[i * p + i]!, 1e-12);
  const Sc = sampleCov(s, n);
  let trS = 0;
  for (let i = 0; i < n; i++) trS += Sc[i * n + i]!;
  for (let i = 0; i < n; i++) { Qr[i * n + i]! += 1e-6 * trS / n + 1e-12; Sc[i * n + i]! += 1e-6 * trS / n + 1e-12; }
  return { n, m, p, A, B, C, D, Q: psdClip(Qr, n, 1e-9), R: psdClip(Rr, p, 1e-9), m0: new Float64Array(n), P0: psdClip(Sc, n, 1e-9) };
}

function randomInit(y: Float64Array, T: number, p: number, m: number, n: number, seed: number): FlatModel {
  const rng = new Random(seed);
  const g = (k: number, s: number): Float64Array => Float64Array.from({ length: k }, () => s * rng.normal());
  const A = g(n * n, 0.5 / Math.sqrt(n));
  scaleToRadius(A, n, 0.9);
  const rows: Float64Array[] = [];
  for (let t = 0; t < T; t++) if (!Number.isNaN(y[t * p]!)) rows.push(y.slice(t * p, (t + 1) * p));
  const R = sampleCov(rows, p);
  for (let i = 0; i < p; i++) R[i * p + i]! += 1e-9 * (R[i * p + i]! + 1);
  const Q = new Float64Array(n * n), P0 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) { Q[i * n + i] = 1; P0[i * n + i] = 1; }
  return { n, m, p, A, B: g(n * m, 1), C: g(p * n, 1 / Math.sqrt(n)), D: g(p * m, 0.1), Q, R: psdClip(R, p, 1e-9), m0: new Float64Array(n), P0 };
}
