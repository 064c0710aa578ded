/**
 * Frequency response of the discrete-time linear system h_{t+1} = A h_t + B x_t, y_t = C h_t + D x_t on the unit
 * circle z = e^{j omega}. float64 on {@link linalg}.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { type MatrixInput, Matrix, eigenvalues, identity, solveComplex, toMatrix } from './linalg.js';

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
 * H(e^{j omega}) = C (e^{j omega} I - A)^{-1} B + D for every omega: per frequency one complex LU solve of
 * (e^{j omega} I - A) X = B (through the real 2n x 2n form, `linalg.solveComplex`), then H = C X + D.
 * @throws {ShapeError} naming `system.A` (not square), `system.B` (not n rows), `system.C` (not n columns) or
 *   `system.D` (not p x m)
 * @throws {InvalidArgumentError} on a non-finite entry; naming `options.omega` / `options.points` when they are
 *   invalid (or both given); naming `system.A` when A has an eigenvalue on the unit circle at one of the omega
 *   (|e^{j omega} - lambda| <= 1e-10 max(1, |lambda|)), where H is infinite
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
  const W = omega.length;
  const ev = eigenvalues(A);
  const alloc = (): Float64Array[][] => Array.from({ length: p }, () => Array.from({ length: m }, () => new Float64Array(W)));
  const re = alloc(), im = alloc(), magnitude = alloc(), magnitudeDb = alloc(), phase = alloc();
  const I = identity(n), zeroB = new Matrix(n, m);
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
    const Hr = C.mmul(X.re).add(D), Hi = C.mmul(X.im);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < m; j++) {
        const a = Hr.get(i, j), b = Hi.get(i, j);
        if (!Number.isFinite(a) || !Number.isFinite(b)) {
          throw new InvalidArgumentError('system.A', `e^{j omega} I - A is singular at omega = ${omega[w]} (a pole on the unit circle)`);
        }
        const mag = Math.hypot(a, b);
        re[i]![j]![w] = a; im[i]![j]![w] = b;
        magnitude[i]![j]![w] = mag;
        magnitudeDb[i]![j]![w] = 20 * Math.log10(mag);
        phase[i]![j]![w] = Math.atan2(b, a);
      }
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < m; j++) unwrapInPlace(phase[i]![j]!);
  return { omega, outputs: p, inputs: m, re, im, magnitude, magnitudeDb, phase };
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
