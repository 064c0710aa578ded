/**
 * Frequency response of the discrete-time linear system h_{t+1} = A h_t + B x_t, y_t = C h_t + D x_t on the unit
 * circle z = e^{j omega}. float64 on {@link linalg}.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import {
  type MatrixInput, Matrix, eigenvalues, flatRowMajor, hessenbergRowMajor, identity, norm1RowMajor, solveComplex, toMatrix,
} from './linalg.js';

/** A discrete-time state-space system (A n x n, B n x m, C p x n, D p x m; D defaults to 0). */
export interface StateSpaceSystem {
  A: MatrixInput;
  B: MatrixInput;
  C: MatrixInput;
  D?: MatrixInput;
}

/** Options of {@link frequencyResponse}. */
export interface FrequencyResponseOptions {
  /** Frequencies in radians per step (any finite values, any order). Not together with `points`. */
  omega?: ArrayLike<number>;
  /** Number of frequencies evenly spaced on [0, pi], both ends included (default 256; an integer >= 1). */
  points?: number;
  /**
   * 'hessenberg' (default): Laub's method. A is reduced once to upper Hessenberg form H = Q^T A Q (Householder,
   * O(n^3)), B' = Q^T B, C' = C Q; per frequency (e^{j omega} I - H) X = B' is solved by Gaussian elimination with
   * partial pivoting on the Hessenberg structure (adjacent-row interchanges only, O(n^2) per frequency plus
   * O(n^2 m) for the m right-hand sides), then H(e^{j omega}) = C' X + D.
   * 'direct': a dense complex LU of e^{j omega} I - A per frequency (through the real 2n x 2n form, O(n^3) each),
   * after an eigenvalue check for poles on the unit circle.
   */
  method?: 'hessenberg' | 'direct';
}

/** Result of {@link frequencyResponse}; arrays indexed [output i][input j], each over omega. */
export interface FrequencyResponse {
  /** The frequencies, radians per step. */
  omega: Float64Array;
  /** Number of outputs p. */
  outputs: number;
  /** Number of inputs m. */
  inputs: number;
  /** Re H_ij(e^{j omega}). */
  re: Float64Array[][];
  /** Im H_ij(e^{j omega}). */
  im: Float64Array[][];
  /** |H_ij|. */
  magnitude: Float64Array[][];
  /** 20 log10 |H_ij| (dB; -Infinity where H_ij = 0). */
  magnitudeDb: Float64Array[][];
  /**
   * arg H_ij in radians: atan2(Im, Re) in (-pi, pi] at omega[0], then unwrapped along the given order of omega as
   * `numpy.unwrap` does (a jump of more than pi between neighbours is corrected by the multiple of 2 pi that brings
   * it into [-pi, pi]). Meaningless where |H_ij| is near 0.
   */
  phase: Float64Array[][];
}

/**
 * H(e^{j omega}) = C (e^{j omega} I - A)^{-1} B + D for every omega. Default (`method: 'hessenberg'`), Laub's
 * method (IEEE TAC 26(2), 1981, "Efficient multivariable frequency response computations"): one orthogonal
 * reduction of A to Hessenberg form, then per frequency an O(n^2 m) Hessenberg solve; backward stable like the
 * dense solve. `method: 'direct'`: per frequency one complex LU solve of (e^{j omega} I - A) X = B (through the
 * real 2n x 2n form, `linalg.solveComplex`), then H = C X + D.
 * @throws {ShapeError} naming `system.A` (not square), `system.B` (not n rows), `system.C` (not n columns) or
 *   `system.D` (not p x m)
 * @throws {InvalidArgumentError} on a non-finite entry; naming `options.omega` / `options.points` when they are
 *   invalid (or both given), `options.method` when unknown; naming `system.A` when A has an eigenvalue on the
 *   unit circle at one of the omega, where H is infinite. 'direct' tests the eigenvalues
 *   (|e^{j omega} - lambda| <= 1e-10 max(1, |lambda|)); 'hessenberg' tests the pivots of the elimination, min |u_kk|
 *   <= 1e-10 (1 + ||A||_1) (|z| = 1: 1 + ||A||_1 bounds ||z I - A||_1; the pivots' product is det(z I - A) and the
 *   smallest pivot of the partially pivoted Hessenberg elimination is ~ sigma_min(z I - A) <= min_i |z - lambda_i|),
 *   and names the nearest eigenvalue in the message
 */
export function frequencyResponse(system: StateSpaceSystem, options: FrequencyResponseOptions = {}): FrequencyResponse {
  if (system === null || typeof system !== 'object') {
    throw new InvalidArgumentError('system', `expected { A, B, C, D? }, got ${system === null ? 'null' : typeof system}`);
  }
  const A = toMatrix('system.A', system.A, { square: true });
  const n = A.rows;
  const B = toMatrix('system.B', system.B, { rows: n });
  const m = B.columns;
  const C = toMatrix('system.C', system.C, { cols: n });
  const p = C.rows;
  const D = system.D === undefined ? new Matrix(p, m) : toMatrix('system.D', system.D, { rows: p, cols: m });
  const omega = omegaGrid(options);
  const method = options.method ?? 'hessenberg';
  if (method !== 'hessenberg' && method !== 'direct') {
    throw new InvalidArgumentError('options.method', `expected 'hessenberg' or 'direct', got ${String(method)}`);
  }
  const W = omega.length;
  const alloc = (): Float64Array[][] => Array.from({ length: p }, () => Array.from({ length: m }, () => new Float64Array(W)));
  const re = alloc(), im = alloc(), magnitude = alloc(), magnitudeDb = alloc(), phase = alloc();
  const store = (w: number, Hr: Float64Array, Hi: Float64Array): void => {
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < m; j++) {
        const a = Hr[i * m + j]!, b = Hi[i * m + j]!;
        if (!Number.isFinite(a) || !Number.isFinite(b)) throw singularAt(A, omega[w]!);
        const mag = Math.hypot(a, b);
        re[i]![j]![w] = a; im[i]![j]![w] = b;
        magnitude[i]![j]![w] = mag;
        magnitudeDb[i]![j]![w] = 20 * Math.log10(mag);
        phase[i]![j]![w] = Math.atan2(b, a);
      }
    }
  };
  if (method === 'hessenberg') {
    hessenbergResponse(A, B, C, D, omega, store);
  } else {
    directResponse(A, B, C, D, omega, store);
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < m; j++) unwrapInPlace(phase[i]![j]!);
  return { omega, outputs: p, inputs: m, re, im, magnitude, magnitudeDb, phase };
}

/** The error for a (numerically) singular e^{j omega} I - A, naming A's eigenvalue nearest e^{j omega}. */
function singularAt(A: Matrix, omega: number): InvalidArgumentError {
  const c = Math.cos(omega), s = Math.sin(omega);
  const ev = eigenvalues(A);
  let best = -1, dist = Infinity;
  for (let k = 0; k < ev.re.length; k++) {
    const d = Math.hypot(c - ev.re[k]!, s - ev.im[k]!);
    if (d < dist) { dist = d; best = k; }
  }
  if (best >= 0) {
    const lr = ev.re[best]!, li = ev.im[best]!;
    const lam = `${lr}${li >= 0 ? '+' : '-'}${Math.abs(li)}j`;
    if (dist <= 1e-8 * Math.max(1, Math.hypot(lr, li))) {
      return new InvalidArgumentError('system.A', `has the eigenvalue ${lam} on the unit circle at omega = ${omega}: ` +
        'H(e^{j omega}) is infinite there');
    }
    return new InvalidArgumentError('system.A', `e^{j omega} I - A is singular to working precision at omega = ` +
      `${omega} (a pole on the unit circle, numerically; the nearest eigenvalue ${lam} is at ${dist.toExponential(2)})`);
  }
  return new InvalidArgumentError('system.A', `e^{j omega} I - A is singular at omega = ${omega} (a pole on the unit circle)`);
}

type Store = (w: number, Hr: Float64Array, Hi: Float64Array) => void;

/** Laub's method; see {@link FrequencyResponseOptions.method}. */
function hessenbergResponse(A: Matrix, B: Matrix, C: Matrix, D: Matrix, omega: Float64Array, store: Store): void {
  const n = A.rows, m = B.columns, p = C.rows;
  const a = flatRowMajor(A);
  const pivotTol = 1e-10 * (1 + norm1RowMajor(a, n));
  const { h, q } = hessenbergRowMajor(a, n);
  const b = flatRowMajor(B), c = flatRowMajor(C), d = flatRowMajor(D);
  // B' = Q^T B (n x m), C' = C Q (p x n), row-major.
  const bp = new Float64Array(n * m), cp = new Float64Array(p * n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      const qki = q[k * n + i]!;
      if (qki !== 0) for (let j = 0; j < m; j++) bp[i * m + j]! += qki * b[k * m + j]!;
    }
  }
  for (let i = 0; i < p; i++) {
    for (let k = 0; k < n; k++) {
      const cik = c[i * n + k]!;
      if (cik !== 0) for (let j = 0; j < n; j++) cp[i * n + j]! += cik * q[k * n + j]!;
    }
  }
  // Work arrays: M = z I - H (upper Hessenberg, row-major, re/im), X the right-hand sides (n x m, re/im).
  const mr = new Float64Array(n * n), mi = new Float64Array(n * n);
  const xr = new Float64Array(n * m), xi = new Float64Array(n * m);
  const Hr = new Float64Array(p * m), Hi = new Float64Array(p * m);
  for (let w = 0; w < omega.length; w++) {
    const zr = Math.cos(omega[w]!), zi = Math.sin(omega[w]!);
    for (let i = 0; i < n; i++) {
      const o = i * n;
      for (let j = i > 0 ? i - 1 : 0; j < n; j++) { mr[o + j] = -h[o + j]!; mi[o + j] = 0; }
      mr[o + i]! += zr; mi[o + i] = zi;
    }
    xr.set(bp); xi.fill(0);
    let minPivot = Infinity;
    // Elimination: at step k only row k+1 has a nonzero below the diagonal in column k.
    for (let k = 0; k < n - 1; k++) {
      const ok = k * n, o1 = ok + n;
      let pr = mr[ok + k]!, pi = mi[ok + k]!, sr = mr[o1 + k]!, si = mi[o1 + k]!;
      if (Math.abs(sr) + Math.abs(si) > Math.abs(pr) + Math.abs(pi)) {
        for (let j = k; j < n; j++) {
          let t = mr[ok + j]!; mr[ok + j] = mr[o1 + j]!; mr[o1 + j] = t;
          t = mi[ok + j]!; mi[ok + j] = mi[o1 + j]!; mi[o1 + j] = t;
        }
        for (let j = 0; j < m; j++) {
          let t = xr[k * m + j]!; xr[k * m + j] = xr[(k + 1) * m + j]!; xr[(k + 1) * m + j] = t;
          t = xi[k * m + j]!; xi[k * m + j] = xi[(k + 1) * m + j]!; xi[(k + 1) * m + j] = t;
        }
        [pr, sr] = [sr, pr]; [pi, si] = [si, pi];
      }
      const pm = Math.hypot(pr, pi);
      minPivot = Math.min(minPivot, pm);
      if (pm === 0) continue; // column k is zero on and below the diagonal: singular, reported below
      // l = s / p
      const den = pr * pr + pi * pi;
      const lr = (sr * pr + si * pi) / den, li = (si * pr - sr * pi) / den;
      mr[o1 + k] = 0; mi[o1 + k] = 0;
      if (lr === 0 && li === 0) continue;
      for (let j = k + 1; j < n; j++) {
        const ar = mr[ok + j]!, ai = mi[ok + j]!;
        mr[o1 + j]! -= lr * ar - li * ai;
        mi[o1 + j]! -= lr * ai + li * ar;
      }
      for (let j = 0; j < m; j++) {
        const ar = xr[k * m + j]!, ai = xi[k * m + j]!;
        xr[(k + 1) * m + j]! -= lr * ar - li * ai;
        xi[(k + 1) * m + j]! -= lr * ai + li * ar;
      }
    }
    minPivot = Math.min(minPivot, Math.hypot(mr[n * n - 1]!, mi[n * n - 1]!));
    if (!(minPivot > pivotTol)) throw singularAt(A, omega[w]!);
    // Back substitution, row by row (x_i = (b_i - sum_{j>i} u_ij x_j) / u_ii), the m columns together.
    for (let i = n - 1; i >= 0; i--) {
      const o = i * n, oi = i * m;
      for (let j = i + 1; j < n; j++) {
        const ur = mr[o + j]!, ui = mi[o + j]!;
        if (ur === 0 && ui === 0) continue;
        const oj = j * m;
        for (let c2 = 0; c2 < m; c2++) {
          const vr = xr[oj + c2]!, vi = xi[oj + c2]!;
          xr[oi + c2]! -= ur * vr - ui * vi;
          xi[oi + c2]! -= ur * vi + ui * vr;
        }
      }
      const ur = mr[o + i]!, ui = mi[o + i]!, den = ur * ur + ui * ui;
      for (let c2 = 0; c2 < m; c2++) {
        const vr = xr[oi + c2]!, vi = xi[oi + c2]!;
        xr[oi + c2] = (vr * ur + vi * ui) / den;
        xi[oi + c2] = (vi * ur - vr * ui) / den;
      }
    }
    // H = C' X + D
    for (let i = 0; i < p; i++) {
      const oi = i * m;
      for (let j = 0; j < m; j++) { Hr[oi + j] = d[oi + j]!; Hi[oi + j] = 0; }
      for (let k = 0; k < n; k++) {
        const cik = cp[i * n + k]!;
        if (cik === 0) continue;
        const ok = k * m;
        for (let j = 0; j < m; j++) { Hr[oi + j]! += cik * xr[ok + j]!; Hi[oi + j]! += cik * xi[ok + j]!; }
      }
    }
    store(w, Hr, Hi);
  }
}

/** The dense method; see {@link FrequencyResponseOptions.method}. */
function directResponse(A: Matrix, B: Matrix, C: Matrix, D: Matrix, omega: Float64Array, store: Store): void {
  const n = A.rows, m = B.columns, p = C.rows;
  const W = omega.length;
  const ev = eigenvalues(A);
  const I = identity(n), zeroB = new Matrix(n, m);
  const Hr = new Float64Array(p * m), Hi = new Float64Array(p * m);
  for (let w = 0; w < W; w++) {
    const c = Math.cos(omega[w]!), s = Math.sin(omega[w]!);
    for (let k = 0; k < n; k++) {
      const lr = ev.re[k]!, li = ev.im[k]!;
      if (Math.hypot(c - lr, s - li) <= 1e-10 * Math.max(1, Math.hypot(lr, li))) {
        throw new InvalidArgumentError('system.A', `has the eigenvalue ${lr}${li >= 0 ? '+' : '-'}${Math.abs(li)}j on ` +
          `the unit circle at omega = ${omega[w]}: H(e^{j omega}) is infinite there`);
      }
    }
    let X: { re: Matrix; im: Matrix };
    try {
      X = solveComplex(I.clone().mul(c).sub(A), I.clone().mul(s), B, zeroB);
    } catch {
      throw new InvalidArgumentError('system.A', `e^{j omega} I - A is singular at omega = ${omega[w]} (a pole on the unit circle)`);
    }
    const Xr = C.mmul(X.re).add(D), Xi = C.mmul(X.im);
    for (let i = 0; i < p; i++) for (let j = 0; j < m; j++) { Hr[i * m + j] = Xr.get(i, j); Hi[i * m + j] = Xi.get(i, j); }
    store(w, Hr, Hi);
  }
}

function omegaGrid(options: FrequencyResponseOptions): Float64Array {
  if (options.omega !== undefined && options.points !== undefined) {
    throw new InvalidArgumentError('options', 'give either omega or points, not both');
  }
  if (options.omega !== undefined) {
    const o = options.omega;
    if (o == null || typeof o.length !== 'number' || o.length === 0) {
      throw new InvalidArgumentError('options.omega', 'expected a non-empty array of frequencies (radians per step)');
    }
    const out = Float64Array.from(Array.from(o, Number));
    out.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new InvalidArgumentError('options.omega', `entry ${i} is ${o[i]}; expected finite numbers`);
    });
    return out;
  }
  const points = options.points ?? 256;
  if (!Number.isInteger(points) || points < 1) {
    throw new InvalidArgumentError('options.points', `expected an integer >= 1, got ${points}`);
  }
  // numpy.linspace(0, pi, points): i * step, with the last point exactly pi.
  const out = new Float64Array(points);
  const step = points > 1 ? Math.PI / (points - 1) : 0;
  for (let i = 0; i < points; i++) out[i] = i * step;
  if (points > 1) out[points - 1] = Math.PI;
  return out;
}

/** numpy.unwrap(p) with discont = pi, period 2 pi, in place. */
function unwrapInPlace(p: Float64Array): void {
  const twoPi = 2 * Math.PI;
  let correction = 0;
  let prev = p[0]!;
  for (let k = 1; k < p.length; k++) {
    const raw = p[k]!;
    const dd = raw - prev;
    let ddmod = (dd + Math.PI) % twoPi; // numpy.mod: result takes the sign of the divisor
    if (ddmod < 0) ddmod += twoPi;
    ddmod -= Math.PI;
    if (ddmod === -Math.PI && dd > 0) ddmod = Math.PI;
    if (Math.abs(dd) >= Math.PI) correction += ddmod - dd;
    prev = raw;
    p[k] = raw + correction;
  }
}
