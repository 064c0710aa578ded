/**
 * Controllability and observability of the linear system h_{t+1} = A h_t + B x_t, y_t = C h_t: Kalman matrices,
 * their numerical ranks and subspaces, and the discrete Gramians. float64 on {@link linalg}.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import {
  type MatrixInput, Matrix, flatRowMajor, householderRColumnMajor, norm1RowMajor, spectralRadius, svd, svdRight,
  toMatrix,
} from './linalg.js';
import { solveDiscreteLyapunov } from './lyapunov.js';

/** Options of {@link controllability} and {@link observability}. */
export interface RankOptions {
  /**
   * Singular values <= tol count as zero. Default NumPy's `matrix_rank` tolerance sigma_max max(rows, cols) eps
   * (eps = 2^-52) of the Kalman matrix.
   */
  tol?: number;
}

/** How {@link controllability} / {@link observability} compute the rank. */
export type ControlMethod = 'kalman' | 'staircase';

/** Options of {@link controllability} and {@link observability}. */
export interface ControlOptions extends RankOptions {
  /**
   * 'kalman' (default): the SVD of the Kalman matrix (its rank with NumPy's `matrix_rank` tolerance; see
   * {@link RankResult}). 'staircase': the orthogonal staircase ({@link controllableSubspace},
   * {@link observableSubspace}), O(n^3) instead of O(n^3 m) / O(p n^3) and without forming the Kalman matrix;
   * `tol` then has the meaning of {@link SubspaceOptions.tol}.
   */
  method?: ControlMethod;
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
  /** 'kalman'. */
  method: 'kalman';
}

/** Result of {@link controllability} / {@link observability} with `method: 'staircase'`. */
export interface StaircaseRankResult {
  /** 'staircase'. */
  method: 'staircase';
  /** Dimension of the controllable (resp. observable) subspace found by the staircase. */
  rank: number;
  /** Equals rank. */
  dimension: number;
  /** rank === n. */
  full: boolean;
  /** The Krylov-step deflation tolerance (see {@link SubspaceResult.tolerance}). */
  tolerance: number;
  /**
   * n x k orthonormal basis, as rows: controllability the controllable subspace (k = rank), observability the
   * unobservable subspace (k = n - rank), as in {@link RankResult.basis}.
   */
  basis: number[][];
  /** Directions added per Krylov step (see {@link SubspaceResult.blockSizes}). */
  blockSizes: number[];
}

function checkSystemPair(A: MatrixInput, X: MatrixInput, xName: 'B' | 'C'): { A: Matrix; X: Matrix } {
  const M = toMatrix('A', A, { square: true });
  const n = M.rows;
  const Xm = xName === 'B' ? toMatrix('B', X, { rows: n }) : toMatrix('C', X, { cols: n });
  return { A: M, X: Xm };
}

/**
 * The stacked powers T = [X; X M; X M^2; ...; X M^(n-1)] (n p x n, p = rows of X) in column-major order
 * (t[j * N + k p + i] = (X M^k)(i, j), N = n p), from row-major M (n x n) and X (p x n): the observability matrix
 * for (M, X) = (A, C), the transposed controllability matrix K^T for (M, X) = (A^T, B^T).
 */
function stackedPowers(M: Float64Array, X: Float64Array, n: number, p: number): Float64Array {
  const N = n * p;
  const t = new Float64Array(N * n);
  let P = Float64Array.from(X), next = new Float64Array(p * n);
  for (let k = 0; k < n; k++) {
    if (k > 0) {
      next.fill(0);
      for (let i = 0; i < p; i++) {
        const oi = i * n;
        for (let l = 0; l < n; l++) {
          const x = P[oi + l]!;
          if (x === 0) continue;
          const ol = l * n;
          for (let j = 0; j < n; j++) next[oi + j]! += x * M[ol + j]!;
        }
      }
      [P, next] = [next, P];
    }
    for (let i = 0; i < p; i++) for (let j = 0; j < n; j++) t[j * N + k * p + i] = P[i * n + j]!;
  }
  return t;
}

function transposeRowMajor(a: Float64Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j]!;
  return t;
}

/** K = [B, AB, ..., A^(n-1) B] (n x nm) as a Matrix. */
function kalman(A: Matrix, B: Matrix): Matrix {
  const n = A.rows, m = B.columns, N = n * m;
  const t = stackedPowers(transposeRowMajor(flatRowMajor(A), n, n), transposeRowMajor(flatRowMajor(B), n, m), n, m);
  const K = new Matrix(n, N);
  for (let i = 0; i < n; i++) for (let c = 0; c < N; c++) K.set(i, c, t[i * N + c]!);
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
  const n = A.rows, p = C.rows, N = n * p;
  const t = stackedPowers(flatRowMajor(A), flatRowMajor(C), n, p);
  const O = new Matrix(N, n);
  for (let r = 0; r < N; r++) for (let j = 0; j < n; j++) O.set(r, j, t[j * N + r]!);
  return O;
}

function checkTol(options: RankOptions): number | undefined {
  const tol = options.tol;
  if (tol !== undefined && !(tol >= 0 && Number.isFinite(tol))) {
    throw new InvalidArgumentError('options.tol', `expected a finite number >= 0, got ${tol}`);
  }
  return tol;
}

function checkMethod(options: ControlOptions): ControlMethod {
  const m = options.method ?? 'kalman';
  if (m !== 'kalman' && m !== 'staircase') {
    throw new InvalidArgumentError('options.method', `expected 'kalman' or 'staircase', got ${String(m)}`);
  }
  return m;
}

/**
 * The Kalman-matrix rank from the stacked powers T (N x n, column-major; T = K^T for controllability, O for
 * observability): T is compressed to its n x n R factor by Householder QR (T^T T = R^T R: the same singular values
 * and right singular vectors), and only the SVD of R is taken, without left singular vectors. V holds the left
 * singular vectors of K (= right singular vectors of K^T), resp. the right singular vectors of O.
 */
function kalmanRank(t: Float64Array, N: number, n: number, tolOpt: number | undefined) {
  const R = householderRColumnMajor(t, N, n);
  const d = svdRight(R);
  const tol = tolOpt ?? (d.s[0] ?? 0) * Math.max(N, n) * Number.EPSILON;
  return { s: d.s, V: d.V, tol, rank: countAbove(d.s, tol) };
}

/**
 * Controllability of (A, B).
 *
 * `method: 'kalman'` (default): rank of K = [B, AB, ..., A^(n-1) B] from its singular values, rank =
 * #{sigma_i > tol}, and an orthonormal basis of the controllable subspace range(K) (its first `rank` left singular
 * vectors). K is built by repeated multiplication; its singular values and left singular vectors are those of the
 * n x n R factor of a Householder QR of K^T (the SVD of the n x nm matrix itself, and its nm x n right singular
 * vectors, are never formed).
 *
 * `method: 'staircase'`: the orthogonal staircase ({@link controllableSubspace}); K is not formed.
 * @throws {ShapeError} when A is not square or B does not have n rows
 * @throws {InvalidArgumentError} on a non-finite entry or a bad `options.tol` / `options.method`
 */
export function controllability(A: MatrixInput, B: MatrixInput, options?: RankOptions & { method?: 'kalman' }): RankResult;
export function controllability(A: MatrixInput, B: MatrixInput, options: RankOptions & { method: 'staircase' }): StaircaseRankResult;
export function controllability(A: MatrixInput, B: MatrixInput, options?: ControlOptions): RankResult | StaircaseRankResult;
export function controllability(A: MatrixInput, B: MatrixInput, options: ControlOptions = {}): RankResult | StaircaseRankResult {
  const s = checkSystemPair(A, B, 'B');
  const tolOpt = checkTol(options);
  const n = s.A.rows, m = s.X.columns, N = n * m;
  if (checkMethod(options) === 'staircase') {
    const r = staircase(flatRowMajor(s.A), columnsOf(s.X), n, tolOpt);
    return {
      method: 'staircase', rank: r.rank, dimension: r.rank, full: r.rank === n, tolerance: r.tolerance,
      basis: rowsOf(r.Q, n), blockSizes: r.blockSizes,
    };
  }
  const t = stackedPowers(transposeRowMajor(flatRowMajor(s.A), n, n), transposeRowMajor(flatRowMajor(s.X), n, m), n, m);
  const matrix: number[][] = [];
  for (let i = 0; i < n; i++) matrix.push(Array.from(t.subarray(i * N, (i + 1) * N)));
  const k = kalmanRank(t, N, n, tolOpt);
  return {
    matrix, singularValues: k.s, tolerance: k.tol, rank: k.rank, dimension: k.rank, full: k.rank === n,
    basis: columns(k.V, 0, k.rank), method: 'kalman',
  };
}

/**
 * Observability of (A, C).
 *
 * `method: 'kalman'` (default): rank of O = [C; CA; ...; CA^(n-1)] from its singular values, rank =
 * #{sigma_i > tol}, and an orthonormal basis of the unobservable subspace null(O) (the right singular vectors of
 * the n - rank smallest singular values). O is compressed to its n x n R factor by Householder QR first (same
 * singular values and right singular vectors); the pn x n left singular vectors are never formed.
 *
 * `method: 'staircase'`: the orthogonal staircase on (A^T, C^T) ({@link unobservableSubspace}); O is not formed.
 * @throws {ShapeError} when A is not square or C does not have n columns
 * @throws {InvalidArgumentError} on a non-finite entry or a bad `options.tol` / `options.method`
 */
export function observability(A: MatrixInput, C: MatrixInput, options?: RankOptions & { method?: 'kalman' }): RankResult;
export function observability(A: MatrixInput, C: MatrixInput, options: RankOptions & { method: 'staircase' }): StaircaseRankResult;
export function observability(A: MatrixInput, C: MatrixInput, options?: ControlOptions): RankResult | StaircaseRankResult;
export function observability(A: MatrixInput, C: MatrixInput, options: ControlOptions = {}): RankResult | StaircaseRankResult {
  const s = checkSystemPair(A, C, 'C');
  const tolOpt = checkTol(options);
  const n = s.A.rows, p = s.X.rows, N = n * p;
  if (checkMethod(options) === 'staircase') {
    const r = staircase(transposeRowMajor(flatRowMajor(s.A), n, n), rowVectorsOf(s.X), n, tolOpt);
    return {
      method: 'staircase', rank: r.rank, dimension: r.rank, full: r.rank === n, tolerance: r.tolerance,
      basis: rowsOf(orthogonalComplement(r.Q, n), n), blockSizes: r.blockSizes,
    };
  }
  const t = stackedPowers(flatRowMajor(s.A), flatRowMajor(s.X), n, p);
  const matrix: number[][] = [];
  for (let r = 0; r < N; r++) {
    const row = new Array<number>(n);
    for (let j = 0; j < n; j++) row[j] = t[j * N + r]!;
    matrix.push(row);
  }
  const k = kalmanRank(t, N, n, tolOpt);
  return {
    matrix, singularValues: k.s, tolerance: k.tol, rank: k.rank, dimension: k.rank, full: k.rank === n,
    basis: columns(k.V, k.rank, n), method: 'kalman',
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

// ---------------------------------------------------------------------------------------------------------------
// Orthogonal staircase (block Arnoldi with re-orthogonalization and deflation)
// ---------------------------------------------------------------------------------------------------------------

/** Options of {@link controllableSubspace}, {@link observableSubspace} and {@link unobservableSubspace}. */
export interface SubspaceOptions {
  /**
   * Deflation threshold: at every Krylov step, directions of the orthogonalized block whose singular value is
   * <= tol are dropped (the same threshold for every step; its units are those of B at the first step and of A
   * afterwards, as in MATLAB's `ctrbf(A, B, C, tol)`). Default: see {@link SubspaceResult.tolerance} and
   * {@link SubspaceResult.firstBlockTolerance}.
   */
  tol?: number;
}

/** Result of {@link controllableSubspace} / {@link observableSubspace} / {@link unobservableSubspace}. */
export interface SubspaceResult {
  /**
   * Dimension of the controllable subspace of (A, B) (for the observable / unobservable subspace: of the
   * observable subspace, the controllability rank of (A^T, C^T)).
   */
  rank: number;
  /** Number of basis vectors returned: rank, or n - rank for {@link unobservableSubspace}. */
  dimension: number;
  /** n x dimension orthonormal basis, as rows (basis[i][c] is component i of basis vector c). */
  basis: number[][];
  /**
   * Tolerance of the Krylov steps k >= 1: the singular values of the block A Q_k (Q_k the n x m_k directions added
   * at the previous step, orthonormal), orthogonalized against the basis found so far, are kept when > tolerance.
   * Default n ||A||_1 eps (eps = 2^-52), MATLAB ctrbf's default: A Q_k has norm <= ||A||_2 and is computed and
   * orthogonalized with an error of a small multiple of sqrt(n) eps ||A||, so a component below n eps ||A||_1 is
   * indistinguishable from rounding. Invariant under orthogonal changes of coordinates up to the norm's
   * equivalence constant, and under scaling of B.
   */
  tolerance: number;
  /**
   * Tolerance of the first step (the rank of B itself, resp. C^T): singular values of B > this are kept. Default
   * max(n, m) sigma_max(B) eps, NumPy `matrix_rank`'s tolerance for B (relative, so that the rank does not depend
   * on the scaling of B). Equals `tol` when given.
   */
  firstBlockTolerance: number;
  /**
   * Directions added per Krylov step: m_1 = rank B >= m_2 >= ... > 0 (the staircase's block sizes, the
   * controllability indices' conjugate partition); they sum to rank. Empty when B = 0.
   */
  blockSizes: number[];
}

interface StaircaseOut { Q: Float64Array[]; rank: number; tolerance: number; firstBlockTolerance: number; blockSizes: number[] }

const dot = (x: Float64Array, y: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
};

/** w <- w - Q (Q^T w), classical Gram-Schmidt; `times` passes ("twice is enough", Kahan/Parlett). */
function orthogonalize(w: Float64Array, Q: Float64Array[], times = 2): void {
  const r = Q.length, n = w.length;
  const coef = new Float64Array(r);
  for (let pass = 0; pass < times; pass++) {
    for (let c = 0; c < r; c++) coef[c] = dot(Q[c]!, w);
    for (let c = 0; c < r; c++) {
      const q = Q[c]!, a = coef[c]!;
      if (a !== 0) for (let i = 0; i < n; i++) w[i]! -= a * q[i]!;
    }
  }
}

/**
 * Orthonormal basis Q (columns) of the controllable subspace of (A, B), A row-major n x n, B as its m columns:
 * Q_1 = the left singular vectors of B above the first-block tolerance; then per step W = A Q_k, W orthogonalized
 * twice against [Q_1 ... Q_k] (classical Gram-Schmidt), the SVD of the n x m_k block W = U S V^T, and Q_{k+1} = the
 * columns of U with sigma > tolerance, re-orthogonalized against the basis (a kept direction with sigma near the
 * tolerance inherits relative errors ~ eps ||A|| / sigma from W). Stops when a step adds nothing or the basis
 * has n vectors. O(n^2 m_k + n r m_k) per step, O(n^3) in all (r = basis size).
 */
function staircase(a: Float64Array, bcols: Float64Array[], n: number, tolOpt: number | undefined): StaircaseOut {
  const tolerance = tolOpt ?? n * norm1RowMajor(a, n) * Number.EPSILON;
  const Q: Float64Array[] = [];
  const blockSizes: number[] = [];
  let W = bcols.map((c) => Float64Array.from(c));
  let firstBlockTolerance = tolOpt ?? 0;
  for (let step = 0; W.length > 0 && Q.length < n; step++) {
    if (step > 0) for (const w of W) orthogonalize(w, Q);
    const k = W.length;
    const Wm = new Matrix(n, k);
    for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) Wm.set(i, c, W[c]![i]!);
    const d = svd(Wm);
    if (step === 0 && tolOpt === undefined) firstBlockTolerance = Math.max(n, k) * (d.s[0] ?? 0) * Number.EPSILON;
    const t = step === 0 ? firstBlockTolerance : tolerance;
    const added: Float64Array[] = [];
    for (let c = 0; c < d.s.length && Q.length < n; c++) {
      if (!(d.s[c]! > t)) break; // singular values decrease
      const u = new Float64Array(n);
      for (let i = 0; i < n; i++) u[i] = d.U.get(i, c);
      orthogonalize(u, Q);
      const nu = Math.sqrt(dot(u, u));
      if (!(nu > 0.5)) continue; // lost to rounding: u was (numerically) in span(Q) already
      for (let i = 0; i < n; i++) u[i]! /= nu;
      Q.push(u);
      added.push(u);
    }
    if (added.length === 0) break;
    blockSizes.push(added.length);
    W = added.map((q) => {
      const w = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const oi = i * n;
        let s = 0;
        for (let j = 0; j < n; j++) s += a[oi + j]! * q[j]!;
        w[i] = s;
      }
      return w;
    });
  }
  return { Q, rank: Q.length, tolerance, firstBlockTolerance, blockSizes };
}

/**
 * An orthonormal basis (columns) of the orthogonal complement of span(Q), Q n x r with orthonormal columns: the
 * last n - r columns of the full orthogonal factor of a Householder QR of Q.
 */
function orthogonalComplement(Q: Float64Array[], n: number): Float64Array[] {
  const r = Q.length;
  const V = Q.map((q) => Float64Array.from(q)); // reflector vectors, v_k in V[k][k..n-1]
  const betas = new Float64Array(r);
  for (let k = 0; k < r; k++) {
    const x = V[k]!;
    let ss = 0;
    for (let i = k; i < n; i++) ss += x[i]! * x[i]!;
    const nx = Math.sqrt(ss), x0 = x[k]!;
    const alpha = x0 >= 0 ? -nx : nx;
    x[k] = x0 - alpha;
    const vtv = ss - x0 * x0 + x[k]! * x[k]!;
    const beta = vtv > 0 ? 2 / vtv : 0;
    betas[k] = beta;
    for (let c = k + 1; c < r; c++) {
      const y = V[c]!;
      let s = 0;
      for (let i = k; i < n; i++) s += x[i]! * y[i]!;
      s *= beta;
      for (let i = k; i < n; i++) y[i]! -= s * x[i]!;
    }
  }
  const out: Float64Array[] = [];
  for (let j = r; j < n; j++) {
    const e = new Float64Array(n);
    e[j] = 1;
    for (let k = r - 1; k >= 0; k--) { // H_1 ... H_r e_j
      const v = V[k]!;
      let s = 0;
      for (let i = k; i < n; i++) s += v[i]! * e[i]!;
      s *= betas[k]!;
      if (s !== 0) for (let i = k; i < n; i++) e[i]! -= s * v[i]!;
    }
    out.push(e);
  }
  return out;
}

function columnsOf(M: Matrix): Float64Array[] {
  return Array.from({ length: M.columns }, (_, j) => Float64Array.from(M.getColumn(j)));
}

function rowVectorsOf(M: Matrix): Float64Array[] {
  return Array.from({ length: M.rows }, (_, i) => Float64Array.from(M.getRow(i)));
}

/** n x k rows from k column vectors (an n x 0 result is n empty rows, as {@link RankResult.basis}). */
function rowsOf(cols: Float64Array[], n: number): number[][] {
  return Array.from({ length: n }, (_, i) => cols.map((c) => c[i]!));
}

/**
 * Controllable subspace of (A, B) by the orthogonal staircase (block Krylov / Arnoldi with re-orthogonalization
 * and deflation: the method of MATLAB's `ctrbf`, Rosenbrock's and Varga's staircase algorithm). In the basis
 * [Q, Q_perp] the pair takes the staircase form A~ = [[A_c, A_12], [0, A_u]], B~ = [B_c; 0]. Unlike the Kalman
 * matrix, no powers A^k B are formed, so a well-conditioned controllable subspace is not hidden by the geometric
 * growth or decay of the powers; O(n^3) flops at most, with n steps at most. See {@link SubspaceResult} for the
 * tolerances.
 * @throws {ShapeError} when A is not square or B does not have n rows
 * @throws {InvalidArgumentError} on a non-finite entry or a bad `options.tol`
 */
export function controllableSubspace(A: MatrixInput, B: MatrixInput, options: SubspaceOptions = {}): SubspaceResult {
  const s = checkSystemPair(A, B, 'B');
  const tolOpt = checkTol(options);
  const n = s.A.rows;
  const r = staircase(flatRowMajor(s.A), columnsOf(s.X), n, tolOpt);
  return {
    rank: r.rank, dimension: r.rank, basis: rowsOf(r.Q, n), tolerance: r.tolerance,
    firstBlockTolerance: r.firstBlockTolerance, blockSizes: r.blockSizes,
  };
}

/** The staircase of (A^T, C^T), shared by the observable and unobservable subspaces. */
function observabilityStaircase(A: MatrixInput, C: MatrixInput, options: SubspaceOptions) {
  const s = checkSystemPair(A, C, 'C');
  const tolOpt = checkTol(options);
  const n = s.A.rows;
  return { r: staircase(transposeRowMajor(flatRowMajor(s.A), n, n), rowVectorsOf(s.X), n, tolOpt), n };
}

/**
 * Observable subspace of (A, C): the controllable subspace of (A^T, C^T) by the orthogonal staircase
 * ({@link controllableSubspace}), the orthogonal complement of the unobservable subspace. rank = dimension.
 * @throws {ShapeError} when A is not square or C does not have n columns
 * @throws {InvalidArgumentError} on a non-finite entry or a bad `options.tol`
 */
export function observableSubspace(A: MatrixInput, C: MatrixInput, options: SubspaceOptions = {}): SubspaceResult {
  const { r, n } = observabilityStaircase(A, C, options);
  return {
    rank: r.rank, dimension: r.rank, basis: rowsOf(r.Q, n), tolerance: r.tolerance,
    firstBlockTolerance: r.firstBlockTolerance, blockSizes: r.blockSizes,
  };
}

/**
 * Unobservable subspace of (A, C): the orthogonal complement of {@link observableSubspace} (through a Householder
 * QR of its basis). rank is the observability rank (the observable dimension), dimension = n - rank; the basis is
 * n empty rows when the pair is observable.
 * @throws {ShapeError} when A is not square or C does not have n columns
 * @throws {InvalidArgumentError} on a non-finite entry or a bad `options.tol`
 */
export function unobservableSubspace(A: MatrixInput, C: MatrixInput, options: SubspaceOptions = {}): SubspaceResult {
  const { r, n } = observabilityStaircase(A, C, options);
  return {
    rank: r.rank, dimension: n - r.rank, basis: rowsOf(orthogonalComplement(r.Q, n), n), tolerance: r.tolerance,
    firstBlockTolerance: r.firstBlockTolerance, blockSizes: r.blockSizes,
  };
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
