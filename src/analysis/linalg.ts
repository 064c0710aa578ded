/**
 * Dense float64 linear algebra for the analysis and classical modules: input checking, products, and the
 * decompositions, which come from `ml-matrix` (a JAMA port: Householder Hessenberg reduction and the shifted QR
 * algorithm for eigenvalues, Golub-Kahan SVD). Everything here is float64 on small matrices (a hidden size of a
 * few hundred at most); the WebAssembly engine is not involved.
 * @module
 */
import {
  CholeskyDecomposition, EigenvalueDecomposition, LuDecomposition, Matrix, SingularValueDecomposition, solve as mlSolve,
} from 'ml-matrix';
import { InvalidArgumentError, ShapeError } from '../errors.js';

export { Matrix };

/**
 * A real matrix as the analysis functions accept it: rows of numbers (`number[][]`, `Float64Array[]`), a flat
 * row-major array with its shape (a {@link Tensor} or `{ data, shape: [rows, cols] }`), or an ml-matrix `Matrix`.
 */
export type MatrixInput =
  | Matrix
  | ArrayLike<ArrayLike<number>>
  | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

/** Complex numbers as two parallel arrays: z[i] = re[i] + j im[i]. */
export interface ComplexArray {
  /** Real parts. */
  re: Float64Array;
  /** Imaginary parts. */
  im: Float64Array;
}

/** Shape constraints for {@link toMatrix}. */
export interface MatrixShape {
  /** Required number of rows. */
  rows?: number;
  /** Required number of columns. */
  cols?: number;
  /** Rows must equal columns. */
  square?: boolean;
}

function isMatrixLikeObject(m: unknown): m is { data: ArrayLike<number>; shape: readonly number[] } {
  return typeof m === 'object' && m !== null && 'data' in m && 'shape' in m;
}

/**
 * Converts `m` to a fresh float64 `Matrix`, checking that it is rectangular, finite and of the asked shape.
 * @param name argument name used in error messages
 * @throws {ShapeError} when `m` is not a rectangular matrix of the asked shape
 * @throws {InvalidArgumentError} when an entry is not a finite number
 */
export function toMatrix(name: string, m: MatrixInput, shape: MatrixShape = {}): Matrix {
  let out: Matrix;
  if (Matrix.isMatrix(m)) {
    out = (m as Matrix).clone();
  } else if (isMatrixLikeObject(m)) {
    const s = m.shape;
    if (s.length !== 2 || m.data.length !== s[0]! * s[1]!) {
      throw new ShapeError(name, `expected a flat row-major matrix with shape [rows, cols] and rows*cols entries, ` +
        `got shape [${Array.from(s).join(', ')}] with ${m.data.length} entries`);
    }
    const [r, c] = [s[0]!, s[1]!];
    out = new Matrix(r, c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.set(i, j, Number(m.data[i * c + j]));
  } else if (m !== null && typeof m === 'object' && typeof (m as ArrayLike<unknown>).length === 'number') {
    const rows = m as ArrayLike<ArrayLike<number>>;
    const r = rows.length;
    const c = r > 0 && rows[0] != null && typeof rows[0].length === 'number' ? rows[0].length : -1;
    if (r === 0 || c <= 0) throw new ShapeError(name, `expected a non-empty matrix (rows of numbers), got ${r} rows`);
    out = new Matrix(r, c);
    for (let i = 0; i < r; i++) {
      const row = rows[i];
      if (row == null || typeof row.length !== 'number' || row.length !== c) {
        throw new ShapeError(name, `expected every row to have ${c} entries; row ${i} has ` +
          `${row == null || typeof row.length !== 'number' ? 'none' : row.length}`);
      }
      for (let j = 0; j < c; j++) out.set(i, j, Number(row[j]));
    }
  } else {
    throw new InvalidArgumentError(name, `expected a matrix (number[][], { data, shape: [rows, cols] } or Matrix), ` +
      `got ${m === null ? 'null' : typeof m}`);
  }
  const { rows, columns } = out;
  if (rows === 0 || columns === 0) throw new ShapeError(name, `expected a non-empty matrix, got ${rows}x${columns}`);
  if (shape.square && rows !== columns) {
    throw new ShapeError(name, `expected a square matrix, got ${rows}x${columns}`, [rows, rows], [rows, columns]);
  }
  if ((shape.rows !== undefined && rows !== shape.rows) || (shape.cols !== undefined && columns !== shape.cols)) {
    const er = shape.rows ?? rows, ec = shape.cols ?? columns;
    throw new ShapeError(name, `expected shape [${er}, ${ec}], got [${rows}, ${columns}]`, [er, ec], [rows, columns]);
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      if (!Number.isFinite(out.get(i, j))) {
        throw new InvalidArgumentError(name, `entry [${i}, ${j}] is ${out.get(i, j)}; expected finite numbers`);
      }
    }
  }
  return out;
}

/** Rows of `m` as plain arrays (the form results are returned in). */
export function toRows(m: Matrix): number[][] {
  return m.to2DArray();
}

/** The n x n identity. */
export function identity(n: number): Matrix {
  return Matrix.eye(n, n);
}

/** A B (checked shapes). */
export function matmul(A: Matrix, B: Matrix): Matrix {
  if (A.columns !== B.rows) throw new ShapeError('B', `expected ${A.columns} rows to multiply a ${A.rows}x${A.columns} matrix, got ${B.rows}`);
  return A.mmul(B);
}

/**
 * Eigenvalues of a real square matrix, sorted by decreasing modulus (then by decreasing real part, then by
 * decreasing imaginary part, so a complex pair appears as a + jb before a - jb).
 * Accuracy: a simple eigenvalue to about eps ||A|| / (its condition number); a defective one of multiplicity m
 * only to about (eps ||A||)^(1/m), as for every backward-stable method (LAPACK's included).
 */
export function eigenvalues(A: Matrix): ComplexArray {
  const e = new EigenvalueDecomposition(A, { assumeSymmetric: false });
  return sortComplex(Float64Array.from(e.realEigenvalues), Float64Array.from(e.imaginaryEigenvalues)).values;
}

/** Eigen decomposition with (complex) eigenvectors: A v_i = lambda_i v_i, columns of `vectors`, unit 2-norm. */
export interface EigenDecomposition {
  /** Eigenvalues, sorted as {@link eigenvalues} sorts them. */
  values: ComplexArray;
  /** vectors.re[i][k] + j vectors.im[i][k] is component i of eigenvector k. */
  vectors: { re: number[][]; im: number[][] };
}

/**
 * Eigenvalues and eigenvectors of a real square matrix. ml-matrix returns real Schur-like vectors (for a pair
 * a +- jb, columns u and w with A(u + jw) = (a + jb)(u + jw)); they are turned into complex vectors here and
 * scaled to unit 2-norm. For a defective matrix the vectors of a repeated eigenvalue are (nearly) parallel.
 */
export function eig(A: Matrix): EigenDecomposition {
  const n = A.rows;
  const e = new EigenvalueDecomposition(A, { assumeSymmetric: false });
  const re = e.realEigenvalues, im = e.imaginaryEigenvalues;
  const V = e.eigenvectorMatrix;
  const vre: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const vim: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let k = 0; k < n; k++) {
    if (im[k] === 0) {
      for (let i = 0; i < n; i++) vre[i]![k] = V.get(i, k);
    } else if (im[k]! > 0) {
      for (let i = 0; i < n; i++) {
        vre[i]![k] = V.get(i, k); vim[i]![k] = V.get(i, k + 1);
        vre[i]![k + 1] = V.get(i, k); vim[i]![k + 1] = -V.get(i, k + 1);
      }
      k++;
    }
  }
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += vre[i]![k]! ** 2 + vim[i]![k]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < n; i++) { vre[i]![k]! *= inv; vim[i]![k]! *= inv; }
  }
  const { values, order } = sortComplex(Float64Array.from(re), Float64Array.from(im));
  return {
    values,
    vectors: {
      re: vre.map((row) => order.map((k) => row[k]!)),
      im: vim.map((row) => order.map((k) => row[k]!)),
    },
  };
}

function sortComplex(re: Float64Array, im: Float64Array): { values: ComplexArray; order: number[] } {
  const order = Array.from(re, (_, i) => i);
  const mod = (i: number): number => Math.hypot(re[i]!, im[i]!);
  // Ties in modulus within a relative 1e-12 count as equal so that rounding does not split a conjugate pair.
  order.sort((a, b) => {
    const ma = mod(a), mb = mod(b);
    if (Math.abs(ma - mb) > 1e-12 * Math.max(ma, mb, 1e-300)) return mb - ma;
    if (re[a] !== re[b]) return re[b]! - re[a]!;
    return im[b]! - im[a]!;
  });
  return {
    values: { re: Float64Array.from(order, (i) => re[i]!), im: Float64Array.from(order, (i) => im[i]!) },
    order,
  };
}

/** Singular values of any real matrix, in decreasing order (min(rows, cols) of them). */
export function singularValues(A: Matrix): Float64Array {
  // ml-matrix's SVD wants rows >= cols for its economy form; the singular values of A and A^T are the same.
  const M = A.rows >= A.columns ? A : A.transpose();
  const s = new SingularValueDecomposition(M, { computeLeftSingularVectors: false, computeRightSingularVectors: false });
  return Float64Array.from(s.diagonal).sort().reverse();
}

/** Spectral norm ||A||_2 = sigma_max(A). */
export function spectralNorm(A: Matrix): number {
  return singularValues(A)[0]!;
}

/** Default rank tolerance, NumPy's `matrix_rank`: sigma_max * max(rows, cols) * eps (eps = 2^-52). */
export function defaultRankTolerance(A: Matrix, sigma: Float64Array = singularValues(A)): number {
  return (sigma[0] ?? 0) * Math.max(A.rows, A.columns) * Number.EPSILON;
}

/** Numerical rank: the number of singular values above `tol` (default {@link defaultRankTolerance}). */
export function rank(A: Matrix, tol?: number): number {
  const s = singularValues(A);
  const t = tol ?? defaultRankTolerance(A, s);
  let r = 0;
  for (const v of s) if (v > t) r++;
  return r;
}

/**
 * Solves A X = B for square non-singular A (LU with partial pivoting). Singular to working precision means an LU
 * pivot at or below n * eps times the largest one (a cheap test; an SVD per solve cost a Newton search on a
 * 256-state LSTM more than the rest of the analysis together).
 * @throws {InvalidArgumentError} when A is singular to working precision
 */
export function solve(A: Matrix, B: Matrix, name = 'A'): Matrix {
  if (A.rows !== A.columns) throw new ShapeError(name, `expected a square matrix, got ${A.rows}x${A.columns}`);
  if (B.rows !== A.rows) throw new ShapeError('B', `expected ${A.rows} rows, got ${B.rows}`);
  return solveLu(A, B, name, A.rows * Number.EPSILON);
}

/**
 * A B on plain Float64Array rows: ml-matrix's `mmul` reads every element through an accessor, about 5x slower
 * at n = 256. Same sums in the same order (k ascending) for every entry.
 */
export function matmulFast(A: Matrix, B: Matrix): Matrix {
  if (A.columns !== B.rows) throw new ShapeError('B', `expected ${A.columns} rows to multiply a ${A.rows}x${A.columns} matrix, got ${B.rows}`);
  const n = A.rows, K = A.columns, m = B.columns;
  const b: Float64Array[] = [];
  for (let k = 0; k < K; k++) b.push(Float64Array.from(B.getRow(k)));
  const out: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const a = A.getRow(i);
    const c = new Float64Array(m);
    for (let k = 0; k < K; k++) {
      const v = a[k]!;
      if (v === 0) continue;
      const bk = b[k]!;
      for (let j = 0; j < m; j++) c[j]! += v * bk[j]!;
    }
    out.push(c);
  }
  return new Matrix(out);
}

/**
 * Complex linear solve (A_re + j A_im)(X_re + j X_im) = (B_re + j B_im), through the real form
 * [[A_re, -A_im], [A_im, A_re]] [X_re; X_im] = [B_re; B_im] (twice the size, same conditioning).
 */
export function solveComplex(Are: Matrix, Aim: Matrix, Bre: Matrix, Bim: Matrix): { re: Matrix; im: Matrix } {
  const n = Are.rows, m = Bre.columns;
  const M = new Matrix(2 * n, 2 * n), R = new Matrix(2 * n, m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = Are.get(i, j), b = Aim.get(i, j);
      M.set(i, j, a); M.set(i, j + n, -b); M.set(i + n, j, b); M.set(i + n, j + n, a);
    }
    for (let j = 0; j < m; j++) { R.set(i, j, Bre.get(i, j)); R.set(i + n, j, Bim.get(i, j)); }
  }
  const X = mlSolve(M, R);
  return { re: X.subMatrix(0, n - 1, 0, m - 1), im: X.subMatrix(n, 2 * n - 1, 0, m - 1) };
}

/** A^k for an integer k >= 0 (repeated squaring). */
export function matrixPower(A: Matrix, k: number): Matrix {
  if (!Number.isInteger(k) || k < 0) throw new InvalidArgumentError('k', `expected an integer >= 0, got ${k}`);
  let result = identity(A.rows), base = A.clone(), e = k;
  while (e > 0) {
    if (e & 1) result = result.mmul(base);
    e = Math.floor(e / 2);
    if (e > 0) base = base.mmul(base);
  }
  return result;
}

/** A Float64Array (or number array) of length n as an n x 1 column. */
export function column(v: ArrayLike<number>): Matrix {
  return Matrix.columnVector(Array.from(v));
}

// ---------------------------------------------------------------------------------------------------------------
// Additions for the linear dynamical-system analysis (spectra, Lyapunov, control, frequency).
// ---------------------------------------------------------------------------------------------------------------

/** Thin singular value decomposition A = U diag(s) V^T, k = min(rows, cols). */
export interface Svd {
  /** rows x k, orthonormal columns (left singular vectors). */
  U: Matrix;
  /** The k singular values, decreasing. */
  s: Float64Array;
  /** cols x k, orthonormal columns (right singular vectors). */
  V: Matrix;
}

/**
 * Thin SVD A = U diag(s) V^T of any real matrix (ml-matrix's Golub-Kahan SVD; a wide matrix is decomposed through
 * its transpose, A^T = V diag(s) U^T). Singular values decrease; vectors are determined up to sign (and up to a
 * rotation within a repeated singular value).
 */
export function svd(A: Matrix): Svd {
  if (A.rows >= A.columns) {
    const d = new SingularValueDecomposition(A);
    return { U: d.leftSingularVectors, s: Float64Array.from(d.diagonal), V: d.rightSingularVectors };
  }
  const d = new SingularValueDecomposition(A.transpose());
  return { U: d.rightSingularVectors, s: Float64Array.from(d.diagonal), V: d.leftSingularVectors };
}

/** Eigen decomposition of a real symmetric matrix: A = Q diag(values) Q^T. */
export interface SymmetricEigen {
  /** Eigenvalues in increasing order. */
  values: Float64Array;
  /** Orthonormal eigenvectors, column k belonging to values[k]. */
  vectors: Matrix;
}

/**
 * Eigenvalues and orthonormal eigenvectors of the symmetric part (A + A^T)/2 of a square matrix (ml-matrix's
 * tridiagonal QL algorithm), eigenvalues increasing.
 */
export function symmetricEigen(A: Matrix): SymmetricEigen {
  const S = A.clone().add(A.transpose()).mul(0.5);
  const e = new EigenvalueDecomposition(S, { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  const order = Array.from(vals, (_, i) => i).sort((a, b) => vals[a]! - vals[b]!);
  const V = e.eigenvectorMatrix;
  const Q = new Matrix(A.rows, A.rows);
  order.forEach((k, c) => { for (let i = 0; i < A.rows; i++) Q.set(i, c, V.get(i, k)); });
  return { values: Float64Array.from(order, (k) => vals[k]!), vectors: Q };
}

/** Spectral radius rho(A) = max_i |lambda_i(A)|. */
export function spectralRadius(A: Matrix): number {
  const { re, im } = eigenvalues(A);
  let r = 0;
  for (let i = 0; i < re.length; i++) r = Math.max(r, Math.hypot(re[i]!, im[i]!));
  return r;
}

/** Frobenius norm ||A||_F = sqrt(sum_ij a_ij^2). */
export function frobeniusNorm(A: Matrix): number {
  let s = 0;
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.columns; j++) s += A.get(i, j) ** 2;
  return Math.sqrt(s);
}

/**
 * Solves A X = B by LU with partial pivoting only (no SVD condition check, unlike {@link solve}: meant for large
 * structured systems where an SVD would dominate the cost).
 * @param pivotTol relative pivot threshold: the system counts as singular when min_k |u_kk| <= pivotTol max_k |u_kk|
 *   (default 0: only an exactly zero pivot)
 * @throws {InvalidArgumentError} naming `name` when the system is singular by that test or the result is not finite
 */
export function solveLu(A: Matrix, B: Matrix, name = 'A', pivotTol = 0): Matrix {
  const lu = new LuDecomposition(A);
  let mn = Infinity, mx = 0;
  const U = lu.upperTriangularMatrix;
  for (let k = 0; k < U.rows; k++) { const u = Math.abs(U.get(k, k)); mn = Math.min(mn, u); mx = Math.max(mx, u); }
  if (lu.isSingular() || !(mn > pivotTol * mx)) {
    throw new InvalidArgumentError(name, `the linear system is singular to working precision (smallest LU pivot ` +
      `${mn.toExponential(2)}, largest ${mx.toExponential(2)})`);
  }
  const X = lu.solve(B);
  for (let i = 0; i < X.rows; i++) {
    for (let j = 0; j < X.columns; j++) {
      if (!Number.isFinite(X.get(i, j))) throw new InvalidArgumentError(name, 'the linear system is singular to working precision (non-finite solution)');
    }
  }
  return X;
}

/**
 * Cholesky factor L (lower triangular, A = L L^T) of the symmetric part of A, or `null` when it is not positive
 * definite.
 */
export function cholesky(A: Matrix): Matrix | null {
  const S = A.clone().add(A.transpose()).mul(0.5);
  const c = new CholeskyDecomposition(S);
  return c.isPositiveDefinite() ? c.lowerTriangularMatrix : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Orthogonal reductions on Float64Array storage (control.ts staircase / Kalman QR, frequency.ts Laub's method).
// ml-matrix's get/set accessors dominate O(n^3) loops at n ~ 256; these kernels run on flat row- or column-major
// arrays instead. Appended as one block: nothing above is changed.
// ---------------------------------------------------------------------------------------------------------------

/** The entries of a Matrix, row-major, as a fresh Float64Array (a[i * cols + j] = M(i, j)). */
export function flatRowMajor(M: Matrix): Float64Array {
  const r = M.rows, c = M.columns, a = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const row = M.getRow(i);
    for (let j = 0; j < c; j++) a[i * c + j] = row[j]!;
  }
  return a;
}

/** A rows x cols Matrix from row-major entries. */
export function matrixFromRowMajor(a: ArrayLike<number>, rows: number, cols: number): Matrix {
  const M = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) M.set(i, j, a[i * cols + j]!);
  return M;
}

/** ||A||_1 = max_j sum_i |a_ij| of a row-major n x n array. */
export function norm1RowMajor(a: Float64Array, n: number): number {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[j]! += Math.abs(a[i * n + j]!);
  let m = 0;
  for (let j = 0; j < n; j++) m = Math.max(m, s[j]!);
  return m;
}

/** Upper Hessenberg form of a square matrix by an orthogonal similarity: H = Q^T A Q (see {@link hessenberg}). */
export interface HessenbergForm {
  /** Upper Hessenberg (h_ij = 0 exactly for i > j + 1). */
  H: Matrix;
  /** Orthogonal, A = Q H Q^T. */
  Q: Matrix;
}

/**
 * Householder reduction to upper Hessenberg form, on row-major storage: returns h (= Q^T A Q, upper Hessenberg,
 * exact zeros below the subdiagonal) and q (orthogonal, the product of the n - 2 reflectors), both row-major n x n.
 * Backward stable: Q H Q^T = A + E with ||E|| ~ n eps ||A||. About 10/3 n^3 flops for h and 4/3 n^3 for q.
 */
export function hessenbergRowMajor(a: ArrayLike<number>, n: number): { h: Float64Array; q: Float64Array } {
  const h = Float64Array.from(a as ArrayLike<number>);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const v = new Float64Array(n), w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // Reflector P = I - beta v v^T (v[k+1..n-1]) with P x = alpha e_{k+1} for x = h[k+1..n-1, k].
    let scale = 0;
    for (let i = k + 1; i < n; i++) scale = Math.max(scale, Math.abs(h[i * n + k]!));
    if (scale === 0) continue;
    let ss = 0;
    for (let i = k + 1; i < n; i++) { const x = h[i * n + k]! / scale; v[i] = x; ss += x * x; }
    const x0 = v[k + 1]!;
    const nx = Math.sqrt(ss);
    const alpha = x0 >= 0 ? -nx : nx; // in units of scale
    v[k + 1] = x0 - alpha;
    const vtv = ss - x0 * x0 + v[k + 1]! * v[k + 1]!;
    if (vtv === 0) continue;
    const beta = 2 / vtv;
    // Left: rows k+1..n-1, columns k..n-1: h <- h - beta v (v^T h).
    w.fill(0, k, n);
    for (let i = k + 1; i < n; i++) {
      const vi = v[i]!, off = i * n;
      for (let j = k; j < n; j++) w[j]! += vi * h[off + j]!;
    }
    for (let i = k + 1; i < n; i++) {
      const bvi = beta * v[i]!, off = i * n;
      for (let j = k + 1; j < n; j++) h[off + j]! -= bvi * w[j]!;
    }
    h[(k + 1) * n + k] = alpha * scale;
    for (let i = k + 2; i < n; i++) h[i * n + k] = 0;
    // Right: all rows, columns k+1..n-1: h <- h - beta (h v) v^T; likewise q <- q P.
    for (const m of [h, q]) {
      for (let i = 0; i < n; i++) {
        const off = i * n;
        let s = 0;
        for (let j = k + 1; j < n; j++) s += m[off + j]! * v[j]!;
        s *= beta;
        if (s !== 0) for (let j = k + 1; j < n; j++) m[off + j]! -= s * v[j]!;
      }
    }
  }
  return { h, q };
}

/**
 * Upper Hessenberg form H = Q^T A Q of a real square matrix by Householder reflections (an orthogonal similarity,
 * not an eigensolver): H has exact zeros below its subdiagonal, Q is orthogonal, and Q H Q^T reproduces A to about
 * n eps ||A||. The first step of Laub's frequency-response method ({@link frequencyResponse}).
 * @throws {ShapeError} when A is not square
 */
export function hessenberg(A: Matrix): HessenbergForm {
  if (A.rows !== A.columns) throw new ShapeError('A', `expected a square matrix, got ${A.rows}x${A.columns}`);
  const n = A.rows;
  const { h, q } = hessenbergRowMajor(flatRowMajor(A), n);
  return { H: matrixFromRowMajor(h, n, n), Q: matrixFromRowMajor(q, n, n) };
}

/**
 * R factor (n x n upper triangular, returned as a Matrix) of the Householder QR factorization T = Q R of a tall
 * N x n matrix (N >= n) given column-major (t[j * N + i] = T(i, j)); t is overwritten. Q is not formed.
 * T and R have the same singular values and right singular vectors (T^T T = R^T R). About 2 N n^2 flops.
 */
export function householderRColumnMajor(t: Float64Array, N: number, n: number): Matrix {
  const R = new Matrix(n, n);
  for (let k = 0; k < n; k++) {
    const ok = k * N;
    let scale = 0;
    for (let i = k; i < N; i++) scale = Math.max(scale, Math.abs(t[ok + i]!));
    if (scale === 0) {
      for (let c = k + 1; c < n; c++) R.set(k, c, t[c * N + k]!);
      continue;
    }
    let ss = 0;
    for (let i = k; i < N; i++) { const x = t[ok + i]! / scale; t[ok + i] = x; ss += x * x; }
    const x0 = t[ok + k]!;
    const nx = Math.sqrt(ss);
    const alpha = x0 >= 0 ? -nx : nx;
    t[ok + k] = x0 - alpha; // v = t[ok + k .. ok + N - 1], in units of scale
    const vtv = ss - x0 * x0 + t[ok + k]! * t[ok + k]!;
    R.set(k, k, alpha * scale);
    const beta = vtv > 0 ? 2 / vtv : 0;
    for (let c = k + 1; c < n; c++) {
      const oc = c * N;
      let s = 0;
      for (let i = k; i < N; i++) s += t[ok + i]! * t[oc + i]!;
      s *= beta;
      if (s !== 0) for (let i = k; i < N; i++) t[oc + i]! -= s * t[ok + i]!;
      R.set(k, c, t[oc + k]!);
    }
  }
  return R;
}

/**
 * Singular values (decreasing) and right singular vectors (columns of V, n x n) of a square or tall matrix,
 * without the left singular vectors (ml-matrix's Golub-Kahan SVD with computeLeftSingularVectors: false).
 */
export function svdRight(A: Matrix): { s: Float64Array; V: Matrix } {
  const d = new SingularValueDecomposition(A, { computeLeftSingularVectors: false });
  return { s: Float64Array.from(d.diagonal), V: d.rightSingularVectors };
}
