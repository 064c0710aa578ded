/**
 * The Kalman filter and the Rauch-Tung-Striebel smoother for the linear Gaussian {@link StateSpace} model
 *
 *   h_t = A h_{t-1} + B x_t + w_t,   w_t ~ N(0, Q)
 *   y_t = C h_t + D x_t + v_t,       v_t ~ N(0, R),     h_0 ~ N(m0, P0),   t = 1..T.
 *
 * float64 in TypeScript. The per-step algebra runs on flat row-major Float64Arrays (the model's matrices are
 * small; ml-matrix's accessors would dominate a T = 2000 filter run inside an EM loop), with the innovation
 * covariance factored by Cholesky rather than inverted. Missing observations are NaN entries of y: a fully
 * missing row skips the measurement update (the filtered moments are the predicted ones); a partly missing row
 * updates with the observed entries only (the rows of C, D and the block of R that belong to them).
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { Matrix, flatRowMajor, symmetricEigen, type MatrixInput } from '../analysis/linalg.js';
import type { StateSpace } from './state-space.js';

/** A sequence of T rows of numbers: rows (`number[][]`, `Float64Array[]`) or a flat row-major `{ data, shape: [T, k] }`. */
export type SeriesInput = ArrayLike<ArrayLike<number>> | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

/** Options of {@link kalmanFilter}. */
export interface KalmanFilterOptions {
  /** x_1..x_T, T x m; required when the model has inputs (m > 0), rejected otherwise. */
  inputs?: SeriesInput;
}

/**
 * What {@link kalmanFilter} returns. Index t - 1 holds step t (t = 1..T). Matrices are rows of numbers.
 * Entries that belong to missing observations are NaN in `innovations` and `innovationCovs` (rows and columns),
 * and the matching columns of `gains` are zero.
 */
export interface KalmanFilterResult {
  /** Number of steps T. */
  steps: number;
  /** m_{t|t-1} = E[h_t | y_1..y_{t-1}] = A m_{t-1|t-1} + B x_t (m_{0|0} = m0). */
  predictedMeans: Float64Array[];
  /** P_{t|t-1} = A P_{t-1|t-1} A^T + Q (P_{0|0} = P0), symmetrized. */
  predictedCovs: number[][][];
  /** m_{t|t} = E[h_t | y_1..y_t] = m_{t|t-1} + K_t e_t. */
  filteredMeans: Float64Array[];
  /** P_{t|t} = Cov(h_t | y_1..y_t) = (I - K_t C) P_{t|t-1} (I - K_t C)^T + K_t R K_t^T (Joseph form), symmetrized. */
  filteredCovs: number[][][];
  /** K_t = P_{t|t-1} C^T S_t^{-1}, n x p. */
  gains: number[][][];
  /** e_t = y_t - C m_{t|t-1} - D x_t, p numbers. */
  innovations: Float64Array[];
  /** S_t = C P_{t|t-1} C^T + R, p x p. */
  innovationCovs: number[][][];
  /** sum_t log N(e_t; 0, S_t) = -1/2 sum_t (p_t log 2 pi + log det S_t + e_t^T S_t^{-1} e_t), p_t the observed count. */
  logLikelihood: number;
  /** Number of observed (non-NaN) entries of y. */
  observedCount: number;
}

/** Options of {@link rtsSmoother}. */
export interface RtsSmootherOptions {
  /** Compute the lag-one cross covariances (default true). */
  lagOne?: boolean;
}

/** What {@link rtsSmoother} returns; index t - 1 holds step t (t = 1..T). */
export interface RtsSmootherResult {
  /** m_{t|T} = E[h_t | y_1..y_T]. */
  smoothedMeans: Float64Array[];
  /** P_{t|T} = Cov(h_t | y_1..y_T). */
  smoothedCovs: number[][][];
  /** J_t = P_{t|t} A^T P_{t+1|t}^{-1}, for t = 0..T-1 (index t; J_0 uses P_{0|0} = P0). */
  gains: number[][][];
  /** P_{t,t-1|T} = Cov(h_t, h_{t-1} | y_1..y_T) = P_{t|T} J_{t-1}^T, t = 1..T (t = 1 pairs h_1 with h_0). Empty with `lagOne: false`. */
  lagOneCovs: number[][][];
  /** m_{0|T} = E[h_0 | y_1..y_T] = m0 + J_0 (m_{1|T} - m_{1|0}). */
  initialMean: Float64Array;
  /** P_{0|T} = P0 + J_0 (P_{1|T} - P_{1|0}) J_0^T. */
  initialCov: number[][];
}

// ---------------------------------------------------------------------------------------------------------------
// Flat row-major kernels (internal; also used by fit-ml.ts).
// ---------------------------------------------------------------------------------------------------------------

/** The model's matrices, flat row-major. @internal */
export interface FlatModel {
  n: number; m: number; p: number;
  A: Float64Array; B: Float64Array; C: Float64Array; D: Float64Array; Q: Float64Array; R: Float64Array;
  m0: Float64Array; P0: Float64Array;
}

/** @internal */
export function flatModel(ss: StateSpace): FlatModel {
  return {
    n: ss.n, m: ss.m, p: ss.p,
    A: flatRowMajor(ss.A), B: flatRowMajor(ss.B), C: flatRowMajor(ss.C), D: flatRowMajor(ss.D),
    Q: flatRowMajor(ss.Q), R: flatRowMajor(ss.R), m0: Float64Array.from(ss.m0), P0: flatRowMajor(ss.P0),
  };
}

/** out (r x c) = a (r x k) b (k x c). */
function mul(a: Float64Array, b: Float64Array, r: number, k: number, c: number, out: Float64Array = new Float64Array(r * c)): Float64Array {
  out.fill(0);
  for (let i = 0; i < r; i++) {
    for (let l = 0; l < k; l++) {
      const v = a[i * k + l]!;
      if (v === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j]! += v * b[l * c + j]!;
    }
  }
  return out;
}

/** out (r x c) = a (r x k) b^T (b is c x k). */
function mulT(a: Float64Array, b: Float64Array, r: number, k: number, c: number, out: Float64Array = new Float64Array(r * c)): Float64Array {
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += a[i * k + l]! * b[j * k + l]!;
      out[i * c + j] = s;
    }
  }
  return out;
}

function symmetrize(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      a[i * n + j] = v; a[j * n + i] = v;
    }
  }
}

/** Lower Cholesky factor of a symmetric positive definite n x n (flat), or null (a pivot <= 0 or not finite). @internal */
export function choleskyFlat(s: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = s[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! ** 2;
    if (!(d > 0) || !Number.isFinite(d)) return null;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let v = s[i * n + j]!;
      for (let k = 0; k < j; k++) v -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = v / ljj;
    }
  }
  return L;
}

/** Solves L L^T X = B in place (B is n x c, flat). @internal */
export function cholSolveInPlace(L: Float64Array, n: number, b: Float64Array, c: number): void {
  for (let j = 0; j < c; j++) {
    for (let i = 0; i < n; i++) {
      let v = b[i * c + j]!;
      for (let k = 0; k < i; k++) v -= L[i * n + k]! * b[k * c + j]!;
      b[i * c + j] = v / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let v = b[i * c + j]!;
      for (let k = i + 1; k < n; k++) v -= L[k * n + i]! * b[k * c + j]!;
      b[i * c + j] = v / L[i * n + i]!;
    }
  }
}

/** Flat T x cols sequence; NaN allowed (missing) when `allowNaN`, infinities never. @internal */
export function flatSequence(name: string, v: SeriesInput, cols: number, rows: number | undefined, allowNaN: boolean): { data: Float64Array; T: number } {
  let T: number;
  let data: Float64Array;
  if (v !== null && typeof v === 'object' && 'data' in v && 'shape' in v && !(typeof (v as unknown as ArrayLike<unknown>).length === 'number')) {
    const s = v.shape;
    if (s.length !== 2 || s[1] !== cols || v.data.length !== s[0]! * s[1]!) {
      throw new ShapeError(name, `expected { data, shape: [T, ${cols}] } with T*${cols} entries, got shape [${Array.from(s).join(', ')}] ` +
        `with ${v.data.length} entries`, [rows ?? -1, cols], Array.from(s));
    }
    T = s[0]!;
    data = Float64Array.from(v.data, Number);
  } else if (v !== null && typeof v === 'object' && typeof (v as ArrayLike<unknown>).length === 'number') {
    const r = v as ArrayLike<ArrayLike<number>>;
    T = r.length;
    data = new Float64Array(T * cols);
    for (let t = 0; t < T; t++) {
      const row = r[t];
      if (row == null || typeof row !== 'object' || row.length !== cols) {
        throw new ShapeError(name, `expected T rows of ${cols} numbers; row ${t} has ` +
          `${row == null || typeof row !== 'object' ? 'none' : row.length}`, [rows ?? -1, cols]);
      }
      for (let j = 0; j < cols; j++) data[t * cols + j] = Number(row[j]);
    }
  } else {
    throw new InvalidArgumentError(name, `expected T rows of ${cols} numbers or { data, shape: [T, ${cols}] }, got ${v === null ? 'null' : typeof v}`);
  }
  if (rows !== undefined && T !== rows) {
    throw new ShapeError(name, `expected ${rows} rows (one per step), got ${T}`, [rows, cols], [T, cols]);
  }
  if (T === 0) throw new ShapeError(name, 'expected at least one step', [-1, cols], [0, cols]);
  for (let i = 0; i < data.length; i++) {
    const d = data[i]!;
    if (Number.isNaN(d) ? !allowNaN : !Number.isFinite(d)) {
      throw new InvalidArgumentError(name, `entry [${Math.floor(i / cols)}, ${i % cols}] is ${d}; expected finite numbers` +
        (allowNaN ? ' or NaN for a missing observation' : ''));
    }
  }
  return { data, T };
}

/** The inputs of a model run, flat T x m (empty for m = 0). @internal */
export function flatInputs(ss: { m: number }, inputs: SeriesInput | undefined, T: number, name = 'options.inputs'): Float64Array {
  if (ss.m === 0) {
    if (inputs !== undefined) throw new InvalidArgumentError(name, 'the model has no inputs (m = 0); omit them');
    return new Float64Array(0);
  }
  if (inputs === undefined) throw new InvalidArgumentError(name, `the model has ${ss.m} inputs: expected ${T} rows of ${ss.m} numbers`);
  return flatSequence(name, inputs, ss.m, T, false).data;
}

/** Flat filter output. @internal */
export interface FilterCore {
  T: number;
  mPred: Float64Array; PPred: Float64Array; mFilt: Float64Array; PFilt: Float64Array;
  K: Float64Array; e: Float64Array; S: Float64Array;
  logLikelihood: number; observedCount: number;
}

/** The Kalman filter on flat storage (see {@link kalmanFilter}). @internal */
export function filterCore(M: FlatModel, y: Float64Array, x: Float64Array, T: number, name = 'ss'): FilterCore {
  const { n, m, p, A, B, C, D, Q, R } = M;
  const nn = n * n;
  const mPred = new Float64Array(T * n), PPred = new Float64Array(T * nn), mFilt = new Float64Array(T * n);
  const PFilt = new Float64Array(T * nn), K = new Float64Array(T * n * p), e = new Float64Array(T * p).fill(NaN);
  const S = new Float64Array(T * p * p).fill(NaN);
  let mPrev = M.m0, PPrev = M.P0;
  let ll = 0, observedCount = 0;
  const LOG2PI = Math.log(2 * Math.PI);
  const AP = new Float64Array(nn);
  const obs = new Int32Array(p);
  for (let t = 0; t < T; t++) {
    // Prediction.
    const mp = mPred.subarray(t * n, (t + 1) * n), Pp = PPred.subarray(t * nn, (t + 1) * nn);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < n; j++) v += A[i * n + j]! * mPrev[j]!;
      for (let j = 0; j < m; j++) v += B[i * m + j]! * x[t * m + j]!;
      mp[i] = v;
    }
    mul(A, PPrev, n, n, n, AP);
    mulT(AP, A, n, n, n, Pp);
    for (let i = 0; i < nn; i++) Pp[i]! += Q[i]!;
    symmetrize(Pp, n);
    const mf = mFilt.subarray(t * n, (t + 1) * n), Pf = PFilt.subarray(t * nn, (t + 1) * nn);
    // Observed entries.
    let k = 0;
    for (let i = 0; i < p; i++) if (!Number.isNaN(y[t * p + i]!)) obs[k++] = i;
    if (k === 0) {
      mf.set(mp); Pf.set(Pp);
      mPrev = mf; PPrev = Pf;
      continue;
    }
    observedCount += k;
    const Co = new Float64Array(k * n), eo = new Float64Array(k), Ro = new Float64Array(k * k);
    for (let a = 0; a < k; a++) {
      const i = obs[a]!;
      for (let j = 0; j < n; j++) Co[a * n + j] = C[i * n + j]!;
      let v = y[t * p + i]!;
      for (let j = 0; j < n; j++) v -= C[i * n + j]! * mp[j]!;
      for (let j = 0; j < m; j++) v -= D[i * m + j]! * x[t * m + j]!;
      eo[a] = v;
      for (let b = 0; b < k; b++) Ro[a * k + b] = R[i * p + obs[b]!]!;
    }
    const CP = mul(Co, Pp, k, n, n); // C_o P (k x n)
    const So = mulT(CP, Co, k, n, k);
    for (let i = 0; i < k * k; i++) So[i]! += Ro[i]!;
    symmetrize(So, k);
    const L = choleskyFlat(So, k);
    if (!L) {
      throw new InvalidArgumentError(`${name}.R`, `the innovation covariance S_t = C P_{t|t-1} C^T + R at step ${t + 1} is not ` +
        'positive definite (R and the predicted state covariance are singular together in the observed directions)');
    }
    // X = S^{-1} C P (k x n), K = X^T (n x k).
    const X = CP.slice();
    cholSolveInPlace(L, k, X, n);
    const Ko = new Float64Array(n * k);
    for (let i = 0; i < n; i++) for (let a = 0; a < k; a++) Ko[i * k + a] = X[a * n + i]!;
    for (let i = 0; i < n; i++) {
      let v = mp[i]!;
      for (let a = 0; a < k; a++) v += Ko[i * k + a]! * eo[a]!;
      mf[i] = v;
    }
    // Joseph form.
    const IKC = mul(Ko, Co, n, k, n);
    for (let i = 0; i < nn; i++) IKC[i] = -IKC[i]!;
    for (let i = 0; i < n; i++) IKC[i * n + i]! += 1;
    const T1 = mul(IKC, Pp, n, n, n);
    mulT(T1, IKC, n, n, n, Pf);
    const KR = mul(Ko, Ro, n, k, k);
    const KRK = mulT(KR, Ko, n, k, n);
    for (let i = 0; i < nn; i++) Pf[i]! += KRK[i]!;
    symmetrize(Pf, n);
    // Log-likelihood: log det S = 2 sum log L_ii, e^T S^{-1} e = |L^{-1} e|^2.
    let logdet = 0, quad = 0;
    const z = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      logdet += 2 * Math.log(L[i * k + i]!);
      let v = eo[i]!;
      for (let j = 0; j < i; j++) v -= L[i * k + j]! * z[j]!;
      z[i] = v / L[i * k + i]!;
      quad += z[i]! ** 2;
    }
    ll -= 0.5 * (k * LOG2PI + logdet + quad);
    // Store in full p-sized form.
    for (let a = 0; a < k; a++) {
      const i = obs[a]!;
      e[t * p + i] = eo[a]!;
      for (let r = 0; r < n; r++) K[t * n * p + r * p + i] = Ko[r * k + a]!;
      for (let b = 0; b < k; b++) S[t * p * p + i * p + obs[b]!] = So[a * k + b]!;
    }
    mPrev = mf; PPrev = Pf;
  }
  return { T, mPred, PPred, mFilt, PFilt, K, e, S, logLikelihood: ll, observedCount };
}

/** Flat smoother output. @internal */
export interface SmootherCore {
  mS: Float64Array; PS: Float64Array; J: Float64Array; cross: Float64Array | null;
  m0S: Float64Array; P0S: Float64Array;
}

/**
 * X = P^{-1} Bm (P n x n symmetric PSD, Bm n x c): Cholesky, or for a singular P the Moore-Penrose pseudo-inverse
 * from linalg.symmetricEigen (eigenvalues below n eps lambda_max dropped).
 */
function psdSolve(P: Float64Array, n: number, Bm: Float64Array, c: number, name: string, t: number): Float64Array {
  const L = choleskyFlat(P, n);
  const out = Bm.slice();
  if (L) { cholSolveInPlace(L, n, out, c); return out; }
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(P.subarray(i * n, (i + 1) * n)));
  const { values, vectors } = symmetricEigen(new Matrix(rows));
  const lmax = Math.max(...Array.from(values, Math.abs), 0);
  const tol = n * Number.EPSILON * lmax;
  if (values[0]! < -Math.max(tol, 1e-12 * lmax) || !(lmax > 0 || values.every((v) => v === 0))) {
    throw new InvalidArgumentError(name, `the predicted covariance P_{${t}|${t - 1}} is not positive semi-definite ` +
      `(smallest eigenvalue ${values[0]!.toExponential(3)})`);
  }
  out.fill(0);
  for (let q = 0; q < n; q++) {
    const lam = values[q]!;
    if (!(lam > tol)) continue;
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += vectors.get(i, q) * Bm[i * c + j]!;
      s /= lam;
      for (let i = 0; i < n; i++) out[i * c + j]! += vectors.get(i, q) * s;
    }
  }
  return out;
}

/** The RTS smoother on flat storage (see {@link rtsSmoother}). @internal */
export function smootherCore(M: FlatModel, F: Pick<FilterCore, 'T' | 'mPred' | 'PPred' | 'mFilt' | 'PFilt'>, lagOne: boolean,
  name = 'filterResult.predictedCovs'): SmootherCore {
  const { n, A } = M;
  const nn = n * n, T = F.T;
  const mS = new Float64Array(T * n), PS = new Float64Array(T * nn), J = new Float64Array(T * nn);
  PS.set(F.PFilt.subarray((T - 1) * nn, T * nn), (T - 1) * nn);
  mS.set(F.mFilt.subarray((T - 1) * n, T * n), (T - 1) * n);
  const dm = new Float64Array(n), dP = new Float64Array(nn), JdP = new Float64Array(nn);
  const m0S = new Float64Array(n), P0S = new Float64Array(nn);
  // J_t (t = 0..T-1, J_t between h_t and h_{t+1}; h_0 with P0): J_t^T = P_{t+1|t}^{-1} A P_{t|t}.
  for (let t = T - 1; t >= 0; t--) {
    const mf = t === 0 ? M.m0 : F.mFilt.subarray((t - 1) * n, t * n);
    const Pf = t === 0 ? M.P0 : F.PFilt.subarray((t - 1) * nn, t * nn);
    const mp = F.mPred.subarray(t * n, (t + 1) * n), Pp = F.PPred.subarray(t * nn, (t + 1) * nn);
    const APf = mul(A, Pf, n, n, n);
    const Jt = psdSolve(Pp, n, APf, n, name, t + 1); // J^T
    const Jm = J.subarray(t * nn, (t + 1) * nn);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Jm[i * n + j] = Jt[j * n + i]!;
    const msNext = mS.subarray(t * n, (t + 1) * n), PsNext = PS.subarray(t * nn, (t + 1) * nn);
    for (let i = 0; i < n; i++) dm[i] = msNext[i]! - mp[i]!;
    for (let i = 0; i < nn; i++) dP[i] = PsNext[i]! - Pp[i]!;
    const msOut = t === 0 ? m0S : mS.subarray((t - 1) * n, t * n);
    const PsOut = t === 0 ? P0S : PS.subarray((t - 1) * nn, t * nn);
    for (let i = 0; i < n; i++) {
      let v = mf[i]!;
      for (let j = 0; j < n; j++) v += Jm[i * n + j]! * dm[j]!;
      msOut[i] = v;
    }
    mul(Jm, dP, n, n, n, JdP);
    mulT(JdP, Jm, n, n, n, PsOut);
    for (let i = 0; i < nn; i++) PsOut[i]! += Pf[i]!;
    symmetrize(PsOut, n);
  }
  let cross: Float64Array | null = null;
  if (lagOne) {
    cross = new Float64Array(T * nn);
    for (let t = 0; t < T; t++) {
      mulT(PS.subarray(t * nn, (t + 1) * nn), J.subarray(t * nn, (t + 1) * nn), n, n, n, cross.subarray(t * nn, (t + 1) * nn));
    }
  }
  return { mS, PS, J, cross, m0S, P0S };
}

function rowsOf(a: Float64Array, T: number, k: number): Float64Array[] {
  return Array.from({ length: T }, (_, t) => a.slice(t * k, (t + 1) * k));
}

function matsOf(a: Float64Array, T: number, r: number, c: number): number[][][] {
  return Array.from({ length: T }, (_, t) => Array.from({ length: r }, (_, i) => Array.from(a.subarray(t * r * c + i * c, t * r * c + (i + 1) * c))));
}

function checkModel(ss: StateSpace): void {
  if (ss === null || typeof ss !== 'object' || !(ss.A instanceof Matrix) || typeof ss.n !== 'number') {
    throw new InvalidArgumentError('ss', 'expected a StateSpace (new StateSpace({ A, C, ... }))');
  }
}

/**
 * The Kalman filter. From m_{0|0} = m0, P_{0|0} = P0, for t = 1..T:
 *
 *   m_{t|t-1} = A m_{t-1|t-1} + B x_t,               P_{t|t-1} = A P_{t-1|t-1} A^T + Q
 *   e_t = y_t - C m_{t|t-1} - D x_t,                 S_t = C P_{t|t-1} C^T + R = L_t L_t^T (Cholesky)
 *   K_t = P_{t|t-1} C^T S_t^{-1}                     (two triangular solves with L_t; no inverse is formed)
 *   m_{t|t} = m_{t|t-1} + K_t e_t,                   P_{t|t} = (I - K_t C) P_{t|t-1} (I - K_t C)^T + K_t R K_t^T
 *   log p(y_1..y_T) = sum_t -1/2 (p log 2 pi + 2 sum_i log (L_t)_ii + |L_t^{-1} e_t|^2)
 *
 * The Joseph form keeps P_{t|t} symmetric positive semi-definite under rounding (it is a sum of two such terms);
 * every covariance is also symmetrized, (P + P^T)/2.
 *
 * Missing observations: NaN entries of y. When all of y_t is NaN the update is skipped (m_{t|t} = m_{t|t-1},
 * P_{t|t} = P_{t|t-1}, K_t = 0, e_t and S_t NaN, no log-likelihood term). When only some are, the update uses
 * the observed entries o (C_o, D_o, R_oo), K_t has zero columns and e_t, S_t NaN entries for the others, and the
 * log-likelihood term is that of y_t,o (p replaced by |o|).
 * @param ss the model
 * @param y y_1..y_T: T rows of p numbers (or `{ data, shape: [T, p] }`), NaN for a missing entry
 * @throws {ShapeError} naming `y` (not T x p, or T = 0) or `options.inputs` (not T x m)
 * @throws {InvalidArgumentError} naming `y` or `options.inputs` for an infinite entry (or a NaN input);
 *   `options.inputs` when they are missing for a model with inputs or given for one without; `ss` when it is not
 *   a StateSpace; `ss.R` when some S_t is not positive definite (R singular where the predicted state is known
 *   exactly)
 */
export function kalmanFilter(ss: StateSpace, y: SeriesInput, options: KalmanFilterOptions = {}): KalmanFilterResult {
  checkModel(ss);
  const { data, T } = flatSequence('y', y, ss.p, undefined, true);
  const x = flatInputs(ss, options?.inputs, T);
  const M = flatModel(ss);
  const F = filterCore(M, data, x, T);
  return coreToResult(F, M);
}

function coreToResult(F: FilterCore, M: FlatModel): KalmanFilterResult {
  const { n, p } = M, T = F.T;
  return {
    steps: T,
    predictedMeans: rowsOf(F.mPred, T, n), predictedCovs: matsOf(F.PPred, T, n, n),
    filteredMeans: rowsOf(F.mFilt, T, n), filteredCovs: matsOf(F.PFilt, T, n, n),
    gains: matsOf(F.K, T, n, p), innovations: rowsOf(F.e, T, p), innovationCovs: matsOf(F.S, T, p, p),
    logLikelihood: F.logLikelihood, observedCount: F.observedCount,
  };
}

function flatMats(name: string, v: unknown, T: number, r: number, c: number): Float64Array {
  const out = new Float64Array(T * r * c);
  const rows = v as ArrayLike<unknown>;
  if (rows == null || typeof rows !== 'object' || rows.length !== T) {
    throw new ShapeError(name, `expected ${T} entries (one per step) of ${r}x${c}`, [T, r, c]);
  }
  for (let t = 0; t < T; t++) {
    const mt = rows[t] as MatrixInput;
    let M: Matrix;
    try {
      M = Matrix.isMatrix(mt) ? (mt as Matrix) : new Matrix(mt as number[][]);
    } catch {
      throw new ShapeError(name, `entry ${t}: expected a ${r}x${c} matrix`, [T, r, c]);
    }
    if (M.rows !== r || M.columns !== c) throw new ShapeError(name, `entry ${t}: expected ${r}x${c}, got ${M.rows}x${M.columns}`, [T, r, c]);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) {
        const val = M.get(i, j);
        if (!Number.isFinite(val)) throw new InvalidArgumentError(name, `entry ${t} [${i}, ${j}] is ${val}; expected finite numbers`);
        out[t * r * c + i * c + j] = val;
      }
    }
  }
  return out;
}

/**
 * The Rauch-Tung-Striebel smoother, from a {@link kalmanFilter} result. With m_{T|T}, P_{T|T} from the filter,
 * for t = T-1 down to 0 (step 0 is h_0, with m_{0|0} = m0, P_{0|0} = P0):
 *
 *   J_t = P_{t|t} A^T P_{t+1|t}^{-1}                 (Cholesky solve; Moore-Penrose for a singular P_{t+1|t})
 *   m_{t|T} = m_{t|t} + J_t (m_{t+1|T} - m_{t+1|t})
 *   P_{t|T} = P_{t|t} + J_t (P_{t+1|T} - P_{t+1|t}) J_t^T      (symmetrized)
 *
 * and the lag-one cross covariances that EM needs (de Jong 1989; equal to Shumway & Stoffer's backward recursion):
 *
 *   P_{t,t-1|T} = Cov(h_t, h_{t-1} | y_1..y_T) = P_{t|T} J_{t-1}^T,   t = 1..T.
 *
 * Missing observations need nothing here: the filter has already skipped their updates.
 * @param ss the model the filter ran with
 * @param filterResult what {@link kalmanFilter} returned for it
 * @throws {ShapeError} naming the `filterResult` field whose length or matrix shape does not fit the model
 * @throws {InvalidArgumentError} naming `filterResult.predictedCovs` when a predicted covariance is not positive
 *   semi-definite; `ss` when it is not a StateSpace
 */
export function rtsSmoother(ss: StateSpace, filterResult: KalmanFilterResult, options: RtsSmootherOptions = {}): RtsSmootherResult {
  checkModel(ss);
  if (filterResult === null || typeof filterResult !== 'object' || !Array.isArray(filterResult.filteredMeans)) {
    throw new InvalidArgumentError('filterResult', 'expected what kalmanFilter returned');
  }
  const M = flatModel(ss);
  const { n } = M;
  const T = filterResult.filteredMeans.length;
  if (T === 0) throw new ShapeError('filterResult.filteredMeans', 'expected at least one step');
  const vec = (name: string, v: ArrayLike<ArrayLike<number>>): Float64Array => flatSequence(`filterResult.${name}`, v, n, T, false).data;
  const F = {
    T,
    mPred: vec('predictedMeans', filterResult.predictedMeans),
    mFilt: vec('filteredMeans', filterResult.filteredMeans),
    PPred: flatMats('filterResult.predictedCovs', filterResult.predictedCovs, T, n, n),
    PFilt: flatMats('filterResult.filteredCovs', filterResult.filteredCovs, T, n, n),
  };
  const lagOne = options?.lagOne ?? true;
  const Sm = smootherCore(M, F, lagOne);
  return {
    smoothedMeans: rowsOf(Sm.mS, T, n), smoothedCovs: matsOf(Sm.PS, T, n, n), gains: matsOf(Sm.J, T, n, n),
    lagOneCovs: Sm.cross ? matsOf(Sm.cross, T, n, n) : [],
    initialMean: Sm.m0S, initialCov: matsOf(Sm.P0S, 1, n, n)[0]!,
  };
}
