/**
 * Spectral analysis of a linear recurrence h_{t+1} = A h_t (e.g. the recurrent weight matrix of an RNN linearised
 * at a fixed point): eigenvalues and singular values, transient growth of ||A^k|| for stable non-normal matrices,
 * and the modal decomposition (decay rates, time constants, frequencies, modal coordinates of a state trajectory).
 * All float64 on {@link linalg}; nothing here touches the WebAssembly engine.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import {
  type ComplexArray, type MatrixInput, Matrix, defaultRankTolerance, eig, eigenvalues, frobeniusNorm,
  singularValues, solveComplex, toMatrix,
} from './linalg.js';

/** A complex number. */
export interface Complex {
  /** Real part. */
  re: number;
  /** Imaginary part. */
  im: number;
}

/** Result of {@link spectrum}. */
export interface SpectrumResult {
  /** Eigenvalues lambda_i of W, sorted by decreasing modulus as `linalg.eigenvalues` sorts them (a + jb before a - jb). */
  eigenvalues: ComplexArray;
  /** rho(W) = max_i |lambda_i|. */
  spectralRadius: number;
  /** Singular values sigma_1 >= ... >= sigma_n >= 0. */
  singularValues: Float64Array;
  /** ||W||_2 = sigma_1. */
  spectralNorm: number;
  /**
   * kappa_2(W) = sigma_1 / sigma_n; `Infinity` when W is numerically singular, i.e. sigma_n <= NumPy's
   * `matrix_rank` tolerance sigma_1 n eps (NumPy's `cond` would print a huge finite number there).
   */
  conditionNumber: number;
}

/**
 * Eigenvalues and singular values of a square matrix: rho(W) = max |lambda_i|, ||W||_2 = sigma_max,
 * kappa_2(W) = sigma_max / sigma_min.
 * @param W square real matrix (argument name `W` in errors)
 * @throws {ShapeError} when W is not square
 * @throws {InvalidArgumentError} when W has a non-finite entry
 */
export function spectrum(W: MatrixInput): SpectrumResult {
  const M = toMatrix('W', W, { square: true });
  const ev = eigenvalues(M);
  const s = singularValues(M);
  const smin = s[s.length - 1]!;
  return {
    eigenvalues: ev,
    spectralRadius: radiusOf(ev),
    singularValues: s,
    spectralNorm: s[0]!,
    conditionNumber: smin > defaultRankTolerance(M, s) ? s[0]! / smin : Infinity,
  };
}

function radiusOf(ev: ComplexArray): number {
  let r = 0;
  for (let i = 0; i < ev.re.length; i++) r = Math.max(r, Math.hypot(ev.re[i]!, ev.im[i]!));
  return r;
}

/** Options of {@link transientGrowth}. */
export interface TransientGrowthOptions {
  /** Largest power k computed (default 100): norms has maxSteps + 1 entries, k = 0..maxSteps. */
  maxSteps?: number;
}

/** Result of {@link transientGrowth}. */
export interface TransientGrowthResult {
  /** norms[k] = ||A^k||_2 for k = 0..maxSteps (norms[0] = 1), the worst-case amplification after k steps. */
  norms: Float64Array;
  /** max_k ||A^k||_2 over k = 0..maxSteps. */
  maxNorm: number;
  /** The first k where the maximum is reached (0 when no power grows beyond 1). */
  argmaxStep: number;
  /** rho(A); ||A^k||^(1/k) -> rho(A) as k grows, so rho < 1 means eventual decay whatever the hump. */
  spectralRadius: number;
  /**
   * ||A A^T - A^T A||_F / ||A||_F^2: 0 exactly for a normal matrix (whose norms are rho^k, no hump); dimensionless
   * and scale-invariant. 0 for A = 0.
   */
  nonNormality: number;
  /**
   * Henrici's relative departure from normality sqrt(max(0, ||A||_F^2 - sum_i |lambda_i|^2)) / ||A||_F (the
   * Frobenius norm of the strictly upper part of a Schur form, relative); 0 for a normal matrix and for A = 0.
   */
  henrici: number;
}

/**
 * Transient growth of h_{t+1} = A h_t: the norms ||A^k||_2 (largest singular value of the k-th power, powers
 * formed by repeated multiplication A^k = A A^(k-1)) for k = 0..maxSteps. A stable but non-normal A (rho < 1)
 * can amplify some states by max_k ||A^k|| >> 1 before they decay.
 * @param A square real matrix
 * @throws {ShapeError} when A is not square
 * @throws {InvalidArgumentError} when A has a non-finite entry or `options.maxSteps` is not an integer >= 0
 */
export function transientGrowth(A: MatrixInput, options: TransientGrowthOptions = {}): TransientGrowthResult {
  const M = toMatrix('A', A, { square: true });
  const maxSteps = options.maxSteps ?? 100;
  if (!Number.isInteger(maxSteps) || maxSteps < 0) {
    throw new InvalidArgumentError('options.maxSteps', `expected an integer >= 0, got ${maxSteps}`);
  }
  const n = M.rows;
  const norms = new Float64Array(maxSteps + 1);
  norms[0] = 1;
  let P = M.clone();
  let maxNorm = 1, argmaxStep = 0;
  for (let k = 1; k <= maxSteps; k++) {
    if (k > 1) P = M.mmul(P);
    const v = singularValues(P)[0]!;
    norms[k] = v;
    if (v > maxNorm) { maxNorm = v; argmaxStep = k; }
  }
  const ev = eigenvalues(M);
  const f2 = frobeniusNorm(M) ** 2;
  const comm = M.mmul(M.transpose()).sub(M.transpose().mmul(M));
  let sumLambda2 = 0;
  for (let i = 0; i < n; i++) sumLambda2 += ev.re[i]! ** 2 + ev.im[i]! ** 2;
  return {
    norms,
    maxNorm,
    argmaxStep,
    spectralRadius: radiusOf(ev),
    nonNormality: f2 > 0 ? frobeniusNorm(comm) / f2 : 0,
    henrici: f2 > 0 ? Math.sqrt(Math.max(0, f2 - sumLambda2)) / Math.sqrt(f2) : 0,
  };
}

/** One eigenmode lambda, v of A (A v = lambda v) and its time scales, in steps of the recurrence. */
export interface Mode {
  /** The eigenvalue lambda. */
  eigenvalue: Complex;
  /** |lambda|: the factor by which the mode's amplitude is multiplied each step. */
  modulus: number;
  /**
   * ln|lambda| per step (< 0 decays, > 0 grows; -Infinity for lambda = 0). Exactly 0 when | |lambda| - 1 | <=
   * `unitCircleTol`.
   */
  growthRate: number;
  /**
   * -1 / ln|lambda|: steps for the amplitude to shrink by e (positive for |lambda| < 1; negative for a growing mode,
   * whose amplitude then grows by e every |timeConstant| steps; 0 for lambda = 0; Infinity on the unit circle).
   */
  timeConstant: number;
  /**
   * ln(0.5) / ln|lambda|: steps for the amplitude to halve, for |lambda| < 1; 0 for lambda = 0; Infinity when
   * |lambda| >= 1 (within `unitCircleTol`), where the mode never halves.
   */
  halfLife: number;
  /** |arg lambda| / (2 pi): cycles per step, in [0, 0.5] (0.5 for a negative real lambda, period 2). */
  frequency: number;
  /** 1 / frequency steps per cycle; Infinity for a real positive lambda (no oscillation). */
  period: number;
  /**
   * Eigenvector v, unit 2-norm, with its phase fixed so that its first component of largest modulus (within a
   * relative 1e-10) is real and positive. vector.re[i] + j vector.im[i] is component i.
   */
  vector: { re: Float64Array; im: Float64Array };
}

/** Options of {@link modalDecomposition}. */
export interface ModalOptions {
  /**
   * A modulus with | |lambda| - 1 | <= unitCircleTol counts as on the unit circle (growthRate 0, timeConstant and
   * halfLife Infinity). Default 1e-12 (a rotation's computed eigenvalues are a few ulps off modulus 1).
   */
  unitCircleTol?: number;
}

/** Result of {@link modalDecomposition}. */
export interface ModalDecomposition {
  /** One mode per eigenvalue, in the order `linalg.eigenvalues` sorts them (decreasing modulus). */
  modes: Mode[];
  /**
   * kappa_2(V) of the eigenvector matrix V = [v_1 ... v_n] (unit columns): 1 for a normal A, huge or Infinity for a
   * defective (non-diagonalisable) A.
   */
  eigenvectorCondition: number;
  /**
   * True when kappa_2(V) > 1e8: A is defective or nearly so (a Jordan block), the eigenvectors do not form a usable
   * basis and modal coordinates lose more than half of the float64 digits. `warning` then says so.
   */
  defective: boolean;
  /** A human-readable warning when `defective`. */
  warning?: string;
  /**
   * Only with `states`: modal coordinates c_t = V^{-1} h_t, so h_t = sum_k c_t[k] v_k. re[t][k] + j im[t][k] is
   * the coefficient of mode k at time step t (row t of `states`). For a real h_t the coefficients of a conjugate
   * pair of modes are conjugate.
   */
  coefficients?: { re: number[][]; im: number[][] };
  /**
   * Only with `states`: ||V C^T - H^T||_F / ||H||_F (complex residual of the reconstruction h_t = V c_t, relative;
   * 0 when H = 0): about eps kappa(V) for a diagonalisable A.
   */
  reconstructionError?: number;
}

/**
 * Modal decomposition of h_{t+1} = A h_t = sum_k lambda_k^t c_0[k] v_k: eigenvalues lambda_k, eigenvectors v_k
 * and the time scales of every mode (modulus |lambda|, growth rate ln|lambda|, time constant -1/ln|lambda|, half
 * life ln(0.5)/ln|lambda|, frequency |arg lambda|/(2 pi) cycles per step, period). With `states` (rows = time
 * steps, columns = the n state components) it also returns the modal coordinates c_t = V^{-1} h_t.
 * @param A square real matrix
 * @param states optional T x n matrix of states h_t (argument name `states` in errors)
 * @throws {ShapeError} when A is not square or states does not have n columns
 * @throws {InvalidArgumentError} when an entry is not finite, or when `states` is given and V is singular to
 *   working precision (kappa_2(V) > 1 / (n eps): A is defective, there are no modal coordinates)
 */
export function modalDecomposition(A: MatrixInput, states?: MatrixInput, options: ModalOptions = {}): ModalDecomposition {
  const M = toMatrix('A', A, { square: true });
  const n = M.rows;
  const H = states === undefined ? undefined : toMatrix('states', states, { cols: n });
  const tol = options.unitCircleTol ?? 1e-12;
  if (!(tol >= 0)) throw new InvalidArgumentError('options.unitCircleTol', `expected a number >= 0, got ${tol}`);
  const { values, vectors } = eig(M);
  const Vre = new Matrix(vectors.re), Vim = new Matrix(vectors.im);
  const modes: Mode[] = [];
  for (let k = 0; k < n; k++) {
    // Phase convention: the first component of largest modulus becomes real positive.
    let mx = 0;
    for (let i = 0; i < n; i++) mx = Math.max(mx, Math.hypot(Vre.get(i, k), Vim.get(i, k)));
    let p = 0;
    while (Math.hypot(Vre.get(p, k), Vim.get(p, k)) < mx * (1 - 1e-10)) p++;
    const a = Vre.get(p, k) / mx, b = Vim.get(p, k) / mx; // multiply by conj(a + jb) = a - jb (unit modulus)
    for (let i = 0; i < n; i++) {
      const x = Vre.get(i, k), y = Vim.get(i, k);
      Vre.set(i, k, x * a + y * b); Vim.set(i, k, y * a - x * b);
    }
    Vim.set(p, k, 0);
    const re = values.re[k]!, im = values.im[k]!;
    modes.push(modeOf(re, im, tol, Float64Array.from(Vre.getColumn(k)), Float64Array.from(Vim.getColumn(k))));
  }
  // kappa_2 of a complex matrix from its real form [[Vre, -Vim], [Vim, Vre]] (same singular values, each twice).
  const R = new Matrix(2 * n, 2 * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    R.set(i, j, Vre.get(i, j)); R.set(i, j + n, -Vim.get(i, j)); R.set(i + n, j, Vim.get(i, j)); R.set(i + n, j + n, Vre.get(i, j));
  }
  const s = singularValues(R);
  const smin = s[s.length - 1]!;
  const eigenvectorCondition = smin > 0 ? s[0]! / smin : Infinity;
  const defective = !(eigenvectorCondition <= 1e8);
  const result: ModalDecomposition = { modes, eigenvectorCondition, defective };
  if (defective) {
    result.warning = `A is defective or nearly so: the eigenvector matrix has condition number ` +
      `${eigenvectorCondition.toExponential(2)} > 1e8, modal coordinates are unreliable`;
  }
  if (H !== undefined) {
    if (!(eigenvectorCondition <= 1 / (n * Number.EPSILON))) {
      throw new InvalidArgumentError('A', `is defective (eigenvector matrix singular to working precision, condition ` +
        `number ${eigenvectorCondition.toExponential(2)}): the eigenvectors are not a basis, there are no modal ` +
        `coordinates for states`);
    }
    const T = H.rows;
    const Ht = H.transpose();
    const c = solveComplex(Vre, Vim, Ht, new Matrix(n, T));
    // Residual of V C^T = H^T, complex.
    const rr = Vre.mmul(c.re).sub(Vim.mmul(c.im)).sub(Ht);
    const ri = Vre.mmul(c.im).add(Vim.mmul(c.re));
    const hn = frobeniusNorm(H);
    result.coefficients = { re: c.re.transpose().to2DArray(), im: c.im.transpose().to2DArray() };
    result.reconstructionError = hn > 0 ? Math.hypot(frobeniusNorm(rr), frobeniusNorm(ri)) / hn : 0;
  }
  return result;
}

function modeOf(re: number, im: number, tol: number, vre: Float64Array, vim: Float64Array): Mode {
  const modulus = Math.hypot(re, im);
  const onCircle = Math.abs(modulus - 1) <= tol;
  const growthRate = onCircle ? 0 : Math.log(modulus);
  const timeConstant = onCircle ? Infinity : modulus === 0 ? 0 : -1 / growthRate;
  const halfLife = onCircle || modulus > 1 ? Infinity : modulus === 0 ? 0 : Math.log(0.5) / growthRate;
  const frequency = Math.abs(Math.atan2(im, re)) / (2 * Math.PI);
  return {
    eigenvalue: { re, im },
    modulus,
    growthRate,
    timeConstant,
    halfLife,
    frequency,
    period: frequency > 0 ? 1 / frequency : Infinity,
    vector: { re: vre, im: vim },
  };
}
