/**
 * Controllability and observability of the linear system h_{t+1} = A h_t + B x_t, y_t = C h_t: Kalman matrices,
 * their numerical ranks and subspaces, and the discrete Gramians. float64 on {@link linalg}.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { type MatrixInput, Matrix, defaultRankTolerance, spectralRadius, svd, toMatrix } from './linalg.js';
import { solveDiscreteLyapunov } from './lyapunov.js';

/** Options of {@link controllability} and {@link observability}. */
export interface RankOptions {
  /**
   * Singular values <= tol count as zero. Default NumPy's `matrix_rank` tolerance sigma_max max(rows, cols) eps
   * (eps = 2^-52) of the Kalman matrix.
   */
  tol?: number;
}

/** Result of {@link controllability} / {@link observability}. */
export interface RankResult {
  /** The Kalman matrix (controllability n x nm, observability pn x n), as rows. */
  matrix: number[][];
  /** Its singular values, decreasing (min(rows, cols) of them). */
  singularValues: Float64Array;
  /** The rank tolerance used (see {@link RankOptions.tol}). */
  tolerance: number;
  /** Numerical rank: the number of singular values > tolerance. */
  rank: number;
  /** Dimension of the controllable (resp. observable) subspace; equals rank. */
  dimension: number;
  /** rank === n: the pair is controllable (resp. observable). */
  full: boolean;
  /**
   * n x k orthonormal basis, as rows (basis[i][c] is component i of basis vector c).
   * controllability: the controllable subspace range(K), k = rank (the first rank left singular vectors of K).
   * observability: the unobservable subspace null(O), k = n - rank (the right singular vectors of O for its
   * n - rank smallest singular values); empty rows (k = 0) when the pair is observable.
   */
  basis: number[][];
}

function checkSystemPair(A: MatrixInput, X: MatrixInput, xName: 'B' | 'C'): { A: Matrix; X: Matrix } {
  const M = toMatrix('A', A, { square: true });
  const n = M.rows;
  const Xm = xName === 'B' ? toMatrix('B', X, { rows: n }) : toMatrix('C', X, { cols: n });
  return { A: M, X: Xm };
}

function kalman(A: Matrix, B: Matrix): Matrix {
  const n = A.rows, m = B.columns;
  const K = new Matrix(n, n * m);
  let P = B.clone();
  for (let k = 0; k < n; k++) {
    if (k > 0) P = A.mmul(P);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) K.set(i, k * m + j, P.get(i, j));
  }
  return K;
}

/**
 * Controllability (Kalman) matrix K = [B, A B, A^2 B, ..., A^(n-1) B] (n x nm), powers by repeated
 * multiplication.
 * @param A n x n
 * @param B n x m
 * @throws {ShapeError} when A is not square or B does not have n rows
 * @throws {InvalidArgumentError} on a non-finite entry
 */
export function controllabilityMatrix(A: MatrixInput, B: MatrixInput): number[][] {
  const s = checkSystemPair(A, B, 'B');
  return kalman(s.A, s.X).to2DArray();
}

/**
 * Observability matrix O = [C; C A; C A^2; ...; C A^(n-1)] (pn x n), the transpose of the controllability matrix
 * of (A^T, C^T).
 * @param A n x n
 * @param C p x n
 * @throws {ShapeError} when A is not square or C does not have n columns
 * @throws {InvalidArgumentError} on a non-finite entry
 */
export function observabilityMatrix(A: MatrixInput, C: MatrixInput): number[][] {
  const s = checkSystemPair(A, C, 'C');
  return observability_(s.A, s.X).to2DArray();
}

function observability_(A: Matrix, C: Matrix): Matrix {
  const n = A.rows, p = C.rows;
  const O = new Matrix(p * n, n);
  let P = C.clone();
  for (let k = 0; k < n; k++) {
    if (k > 0) P = P.mmul(A);
    for (let i = 0; i < p; i++) for (let j = 0; j < n; j++) O.set(k * p + i, j, P.get(i, j));
  }
  return O;
}

function checkTol(options: RankOptions): number | undefined {
  const tol = options.tol;
  if (tol !== undefined && !(tol >= 0 && Number.isFinite(tol))) {
    throw new InvalidArgumentError('options.tol', `expected a finite number >= 0, got ${tol}`);
  }
  return tol;
}

/**
 * Controllability of (A, B): rank of K = [B, AB, ..., A^(n-1) B] from its SVD K = U S V^T, rank = #{sigma_i > tol},
 * and an orthonormal basis of the controllable subspace range(K) (the first `rank` columns of U).
 * @throws {ShapeError} when A is not square or B does not have n rows
 * @throws {InvalidArgumentError} on a non-finite entry or a bad `options.tol`
 */
export function controllability(A: MatrixInput, B: MatrixInput, options: RankOptions = {}): RankResult {
  const s = checkSystemPair(A, B, 'B');
  const tolOpt = checkTol(options);
  const K = kalman(s.A, s.X);
  const d = svd(K);
  const tol = tolOpt ?? defaultRankTolerance(K, d.s);
  const rank = countAbove(d.s, tol);
  const n = s.A.rows;
  return {
    matrix: K.to2DArray(), singularValues: d.s, tolerance: tol, rank, dimension: rank, full: rank === n,
    basis: columns(d.U, 0, rank),
  };
}

/**
 * Observability of (A, C): rank of O = [C; CA; ...; CA^(n-1)] from its SVD O = U S V^T, rank = #{sigma_i > tol},
 * and an orthonormal basis of the unobservable subspace null(O) (the last n - rank columns of V).
 * @throws {ShapeError} when A is not square or C does not have n columns
 * @throws {InvalidArgumentError} on a non-finite entry or a bad `options.tol`
 */
export function observability(A: MatrixInput, C: MatrixInput, options: RankOptions = {}): RankResult {
  const s = checkSystemPair(A, C, 'C');
  const tolOpt = checkTol(options);
  const O = observability_(s.A, s.X);
  const d = svd(O); // O is pn x n with pn >= n: V is n x n
  const tol = tolOpt ?? defaultRankTolerance(O, d.s);
  const rank = countAbove(d.s, tol);
  const n = s.A.rows;
  return {
    matrix: O.to2DArray(), singularValues: d.s, tolerance: tol, rank, dimension: rank, full: rank === n,
    basis: columns(d.V, rank, n),
  };
}

function countAbove(s: Float64Array, tol: number): number {
  let r = 0;
  for (const v of s) if (v > tol) r++;
  return r;
}

function columns(M: Matrix, from: number, to: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < M.rows; i++) {
    const row: number[] = [];
    for (let j = from; j < to; j++) row.push(M.get(i, j));
    out.push(row);
  }
  return out;
}

/** Options of {@link controllabilityGramian} / {@link observabilityGramian}. */
export interface GramianOptions {
  /**
   * Finite horizon N (an integer >= 1): the sum over k = 0..N-1. Omitted: the infinite-horizon Gramian, which
   * needs rho(A) < 1.
   */
  steps?: number;
}

function gramian(A: Matrix, BBt: Matrix, steps: number | undefined, step: (M: Matrix) => Matrix): Matrix {
  if (steps === undefined) {
    const rho = spectralRadius(A);
    if (!(rho < 1)) {
      throw new InvalidArgumentError('A', `the infinite-horizon Gramian needs a stable A (rho(A) < 1), got rho(A) = ` +
        `${rho}; pass options.steps for a finite horizon`);
    }
    return new Matrix(solveDiscreteLyapunov(A, BBt));
  }
  if (!Number.isInteger(steps) || steps < 1) {
    throw new InvalidArgumentError('options.steps', `expected an integer >= 1, got ${steps}`);
  }
  // W_N = sum_{k<N} M_k, M_0 = BBt, M_{k+1} = step(M_k) (A M A^T for W_c, A^T M A for W_o).
  let W = BBt.clone(), Mk = BBt.clone();
  for (let k = 1; k < steps; k++) {
    Mk = step(Mk);
    W = W.add(Mk);
  }
  return W.add(W.transpose()).mul(0.5);
}

/**
 * Controllability Gramian W_c = sum_{k>=0} A^k B B^T (A^T)^k, the solution of W = A W A^T + B B^T
 * ({@link solveDiscreteLyapunov} with A^T; needs rho(A) < 1), or with `steps` = N the finite sum over k < N
 * (any A). h^T W_c^{-1} h is the least input energy sum ||x_t||^2 that reaches h from 0.
 * @throws {ShapeError} when A is not square or B does not have n rows
 * @throws {InvalidArgumentError} naming `A` when rho(A) >= 1 without `steps`, `options.steps` when it is not an
 *   integer >= 1
 */
export function controllabilityGramian(A: MatrixInput, B: MatrixInput, options: GramianOptions = {}): number[][] {
  const s = checkSystemPair(A, B, 'B');
  const At = s.A.transpose();
  const BBt = s.X.mmul(s.X.transpose());
  return gramian(At, BBt, options.steps, (M) => s.A.mmul(M).mmul(At)).to2DArray();
}

/**
 * Observability Gramian W_o = sum_{k>=0} (A^T)^k C^T C A^k, the solution of W = A^T W A + C^T C
 * ({@link solveDiscreteLyapunov}; needs rho(A) < 1), or with `steps` = N the finite sum over k < N (any A).
 * h^T W_o h is the output energy sum ||y_t||^2 of the free response from h.
 * @throws {ShapeError} when A is not square or C does not have n columns
 * @throws {InvalidArgumentError} naming `A` when rho(A) >= 1 without `steps`, `options.steps` when it is not an
 *   integer >= 1
 */
export function observabilityGramian(A: MatrixInput, C: MatrixInput, options: GramianOptions = {}): number[][] {
  const s = checkSystemPair(A, C, 'C');
  const At = s.A.transpose();
  const CtC = s.X.transpose().mmul(s.X);
  return gramian(s.A, CtC, options.steps, (M) => At.mmul(M).mmul(s.A)).to2DArray();
}
