/**
 * Discrete Lyapunov equations A^T P A - P = -Q and quadratic Lyapunov certificates V(h) = h^T P h for the linear
 * recurrence h_{t+1} = A h_t. float64 on {@link linalg}.
 *
 * Convention: SciPy's `scipy.linalg.solve_discrete_lyapunov(a, q)` solves a X a^H - X + q = 0, and Octave's
 * `dlyap(a, q)` solves a X a' - X + q = 0; the P here is their X with a = A^T.
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import {
  type MatrixInput, Matrix, cholesky, eigenvalues, identity, solve, solveLu, spectralRadius, symmetricEigen,
  toMatrix,
} from './linalg.js';

/** Largest n solved by the direct (Kronecker) method when `method` is `'auto'`. */
export const LYAPUNOV_DIRECT_MAX_N = 40;

/** Options of {@link solveDiscreteLyapunov}. */
export interface DiscreteLyapunovOptions {
  /**
   * `'direct'`: the Kronecker system (any A without lambda_i lambda_j = 1); `'doubling'`: Smith's doubling
   * iteration (needs rho(A) < 1); `'auto'` (default): direct for n <= {@link LYAPUNOV_DIRECT_MAX_N}, else doubling.
   */
  method?: 'auto' | 'direct' | 'doubling';
}

/** max |M - M^T| <= 64 eps max |M|: symmetric up to rounding. */
function isSymmetric(M: Matrix): boolean {
  const n = M.rows;
  let mx = 0, d = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      mx = Math.max(mx, Math.abs(M.get(i, j)));
      d = Math.max(d, Math.abs(M.get(i, j) - M.get(j, i)));
    }
  }
  return d <= 64 * Number.EPSILON * mx;
}

function symmetrize(M: Matrix): Matrix {
  return M.clone().add(M.transpose()).mul(0.5);
}

/**
 * Solves the discrete Lyapunov (Stein) equation A^T P A - P = -Q, i.e. P = sum_{k>=0} (A^T)^k Q A^k when
 * rho(A) < 1. A unique solution exists iff lambda_i lambda_j != 1 for all eigenvalue pairs of A (so an unstable A
 * is fine as long as no product is 1; P is then not the series and not positive definite).
 *
 * Methods:
 * - direct (n <= 40 by default): the Kronecker system (A^T kron A^T - I) vec(P) = -vec(Q), solved by LU with partial
 *   pivoting. The operator maps symmetric matrices to symmetric ones and antisymmetric to antisymmetric ones, so
 *   it is solved on the n(n+1)/2 unknowns p_ab, a <= b, for the symmetric part (Q + Q^T)/2 (the solution is then
 *   exactly symmetric), and, only when Q is not symmetric (max |Q - Q^T| > 64 eps max |Q|), once more on the
 *   n(n-1)/2 unknowns of the antisymmetric part (Q - Q^T)/2: the same n^2 unknowns as the full system at about a
 *   quarter of its cost. Before solving, the eigenvalues of A are checked: a pair with
 *   |lambda_i lambda_j - 1| <= 1e-8 max(1, |lambda_i lambda_j|) means the equation is singular (or too
 *   ill-conditioned to trust); so does an LU pivot below N eps times the largest pivot (N the number of
 *   unknowns). Cost O(n^6) flops: about a second at n = 40 (twice that for a non-symmetric Q).
 * - doubling (n > 40): Smith's iteration P_0 = Q, A_0 = A, P_{k+1} = P_k + A_k^T P_k A_k, A_{k+1} = A_k^2, so
 *   P_k = sum_{i < 2^k} (A^T)^i Q A^i. It stops once ||A_{k+1}||_F^2 <= eps: the neglected tail
 *   A_{k+1}^T P A_{k+1} is then at most eps ||P|| in 2-norm. Needs rho(A) < 1 (checked first); at most 100 steps.
 *
 * @param A square n x n real matrix
 * @param Q n x n real matrix (argument name `Q` in errors)
 * @returns P as rows
 * @throws {ShapeError} when A is not square or Q is not n x n
 * @throws {InvalidArgumentError} naming `A` when the equation is singular (lambda_i lambda_j = 1), when doubling is
 *   used with rho(A) >= 1, or when it does not converge; naming an entry that is not finite; naming
 *   `options.method` for an unknown method
 */
export function solveDiscreteLyapunov(A: MatrixInput, Q: MatrixInput, options: DiscreteLyapunovOptions = {}): number[][] {
  const M = toMatrix('A', A, { square: true });
  const n = M.rows;
  const Qm = toMatrix('Q', Q, { rows: n, cols: n });
  const method = options.method ?? 'auto';
  if (method !== 'auto' && method !== 'direct' && method !== 'doubling') {
    throw new InvalidArgumentError('options.method', `expected 'auto', 'direct' or 'doubling', got ${String(method)}`);
  }
  const useDirect = method === 'direct' || (method === 'auto' && n <= LYAPUNOV_DIRECT_MAX_N);
  return (useDirect ? lyapunovDirect(M, Qm) : lyapunovDoubling(M, Qm)).to2DArray();
}

function checkEigenProducts(A: Matrix): void {
  const { re, im } = eigenvalues(A);
  const n = re.length;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const pr = re[i]! * re[j]! - im[i]! * im[j]!, pi = re[i]! * im[j]! + im[i]! * re[j]!;
      const dist = Math.hypot(pr - 1, pi);
      if (dist <= 1e-8 * Math.max(1, Math.hypot(pr, pi))) {
        const f = (k: number): string => `${re[k]!.toPrecision(6)}${im[k]! !== 0 ? `${im[k]! >= 0 ? '+' : '-'}${Math.abs(im[k]!).toPrecision(6)}j` : ''}`;
        throw new InvalidArgumentError('A', `the discrete Lyapunov equation A^T P A - P = -Q is singular: eigenvalues ` +
          `${f(i)} and ${f(j)} have lambda_i lambda_j = 1 (to within ${dist.toExponential(1)}), so P is not unique`);
      }
    }
  }
}

function solveChecked(K: Matrix, rhs: Matrix): Matrix {
  let X: Matrix;
  try {
    X = solveLu(K, rhs, 'A', K.rows * Number.EPSILON);
  } catch (e) {
    if (e instanceof InvalidArgumentError) {
      throw new InvalidArgumentError('A', `the discrete Lyapunov equation A^T P A - P = -Q is singular to working ` +
        `precision (some lambda_i lambda_j = 1): ${e.message}`);
    }
    throw e;
  }
  return X;
}

function lyapunovDirect(A: Matrix, Q: Matrix): Matrix {
  const n = A.rows;
  checkEigenProducts(A);
  const a = A.to2DArray();
  // The map P -> A^T P A - P sends symmetric matrices to symmetric ones and antisymmetric to antisymmetric, so the
  // symmetric part S = (Q + Q^T)/2 and the antisymmetric part K = (Q - Q^T)/2 are solved for separately.
  const P = solveSymmetricPart(a, n, Q, +1);
  if (!isSymmetric(Q)) P.add(solveSymmetricPart(a, n, Q, -1));
  return P;
}

/**
 * Solves A^T X A - X = -(Q + sign Q^T)/2 on the symmetric (sign = +1: unknowns x_ij, i <= j, x_ji = x_ij) or
 * antisymmetric (sign = -1: unknowns x_ij, i < j, x_ji = -x_ij, x_ii = 0) matrices.
 * Equation (i, j): sum_{k,l} A_ki x_kl A_lj - x_ij; the unknown x_kl (k < l) has coefficient
 * A_ki A_lj + sign A_li A_kj, the unknown x_kk (symmetric only) A_ki A_kj.
 */
function solveSymmetricPart(a: number[][], n: number, Q: Matrix, sign: 1 | -1): Matrix {
  const d = sign === 1 ? 0 : 1; // first off-diagonal kept
  const X = new Matrix(n, n);
  const N = sign === 1 ? (n * (n + 1)) / 2 : (n * (n - 1)) / 2;
  if (N === 0) return X;
  // row-major index of (i, j), j >= i + d, among the kept upper-triangular entries
  const rowStart = (i: number): number => i * n - (i * (i - 1)) / 2 - i * d;
  const idx = (i: number, j: number): number => rowStart(i) + (j - i - d);
  const rows = Array.from({ length: N }, () => new Float64Array(N)), rhs = new Matrix(N, 1);
  for (let i = 0; i < n; i++) {
    for (let j = i + d; j < n; j++) {
      const r = idx(i, j);
      const row = rows[r]!;
      for (let k = 0; k < n; k++) {
        const aki = a[k]![i]!, akj = a[k]![j]!;
        if (sign === 1) row[idx(k, k)]! += aki * akj;
        for (let l = k + 1; l < n; l++) row[idx(k, l)]! += aki * a[l]![j]! + sign * a[l]![i]! * akj;
      }
      row[r]! -= 1;
      rhs.set(r, 0, -(Q.get(i, j) + sign * Q.get(j, i)) / 2);
    }
  }
  const x = solveChecked(new Matrix(rows), rhs);
  for (let i = 0; i < n; i++) {
    for (let j = i + d; j < n; j++) { const v = x.get(idx(i, j), 0); X.set(i, j, v); X.set(j, i, sign * v); }
  }
  return X;
}

function lyapunovDoubling(A: Matrix, Q: Matrix): Matrix {
  const rho = spectralRadius(A);
  if (!(rho < 1)) {
    throw new InvalidArgumentError('A', `the doubling iteration for A^T P A - P = -Q needs a stable A (rho(A) < 1), ` +
      `got rho(A) = ${rho}; use method 'direct' (n <= ${LYAPUNOV_DIRECT_MAX_N} is cheap) for an unstable A`);
  }
  const sym = isSymmetric(Q);
  let P = sym ? symmetrize(Q) : Q.clone();
  let Ak = A.clone();
  for (let k = 0; k < 100; k++) {
    P = P.add(Ak.transpose().mmul(P).mmul(Ak));
    if (sym) P = symmetrize(P);
    Ak = Ak.mmul(Ak);
    let f2 = 0;
    for (let i = 0; i < Ak.rows; i++) for (let j = 0; j < Ak.columns; j++) f2 += Ak.get(i, j) ** 2;
    if (!Number.isFinite(f2)) break;
    if (f2 <= Number.EPSILON) return P;
  }
  throw new InvalidArgumentError('A', `the doubling iteration did not converge (rho(A) = ${rho}, non-normal transient ` +
    `too large or rho too close to 1)`);
}

/** Options of {@link lyapunovCertificate}. */
export interface LyapunovCertificateOptions {
  /** Symmetric right-hand side Q of A^T P A - P = -Q (default the identity). */
  Q?: MatrixInput;
}

/** Result of {@link lyapunovCertificate}: a quadratic Lyapunov function V(h) = h^T P h for h_{t+1} = A h_t. */
export interface LyapunovCertificate {
  /** P solving A^T P A - P = -Q (symmetric), as rows. Use with {@link lyapunovValue}. */
  P: number[][];
  /** Smallest eigenvalue of P (symmetric eigen decomposition). */
  minEigenvalue: number;
  /** Largest eigenvalue of P. */
  maxEigenvalue: number;
  /** Smallest eigenvalue of Q (the guaranteed decrease V(h) - V(Ah) = h^T Q h). */
  qMinEigenvalue: number;
  /** P > 0: minEigenvalue > n eps max |eigenvalue of P| and a Cholesky factorisation succeeds. */
  positiveDefinite: boolean;
  /** rho(A). */
  spectralRadius: number;
  /**
   * Q > 0, P > 0 and rho(A) < 1: V is a strict Lyapunov function and A is certified stable (Lyapunov's theorem
   * says P > 0 with Q > 0 implies rho(A) < 1; the computed spectral radius is required to agree).
   */
  certified: boolean;
  /**
   * max_{h != 0} V(A h) / V(h) = lambda_max(L^{-1} A^T P A L^{-T}) with P = L L^T (Cholesky), i.e. the largest
   * generalized eigenvalue of (A^T P A, P); equals 1 - lambda_min(L^{-1} Q L^{-T}), < 1 iff Q > 0. NaN when P is
   * not positive definite.
   */
  decreaseFactor: number;
  /** sqrt(decreaseFactor) = ||A||_P, the induced norm of A in the norm ||h||_P = sqrt(h^T P h). NaN without P > 0. */
  contractionFactor: number;
}

/**
 * A quadratic Lyapunov certificate for h_{t+1} = A h_t: solves A^T P A - P = -Q ({@link solveDiscreteLyapunov}),
 * then checks P > 0 (symmetric eigenvalues) and computes the worst per-step decrease of V(h) = h^T P h.
 * @param A square real matrix
 * @throws {ShapeError} when A is not square or options.Q is not n x n
 * @throws {InvalidArgumentError} naming `options.Q` when Q is not symmetric, naming `A` when the equation is
 *   singular (see {@link solveDiscreteLyapunov})
 */
export function lyapunovCertificate(A: MatrixInput, options: LyapunovCertificateOptions = {}): LyapunovCertificate {
  const M = toMatrix('A', A, { square: true });
  const n = M.rows;
  const Q = options.Q === undefined ? identity(n) : toMatrix('options.Q', options.Q, { rows: n, cols: n });
  if (!isSymmetric(Q)) throw new InvalidArgumentError('options.Q', 'expected a symmetric matrix (a Lyapunov certificate needs a symmetric P)');
  const P = new Matrix(solveDiscreteLyapunov(M, Q));
  const ep = symmetricEigen(P).values;
  const eq = symmetricEigen(Q).values;
  const minEigenvalue = ep[0]!, maxEigenvalue = ep[n - 1]!;
  const scale = Math.max(Math.abs(minEigenvalue), Math.abs(maxEigenvalue));
  const L = minEigenvalue > n * Number.EPSILON * scale ? cholesky(P) : null;
  const positiveDefinite = L !== null;
  const qScale = Math.max(Math.abs(eq[0]!), Math.abs(eq[n - 1]!));
  const qPositiveDefinite = eq[0]! > n * Number.EPSILON * qScale;
  const rho = spectralRadius(M);
  let decreaseFactor = NaN;
  if (L !== null) {
    // G = L^{-1} (A^T P A) L^{-T}
    const APA = M.transpose().mmul(P).mmul(M);
    const X = solve(L, APA, 'P');               // L^{-1} APA
    const G = solve(L, X.transpose(), 'P');     // L^{-1} (L^{-1} APA)^T = L^{-1} APA^T L^{-T}
    const g = symmetricEigen(G).values;
    decreaseFactor = g[n - 1]!;
  }
  return {
    P: P.to2DArray(),
    minEigenvalue,
    maxEigenvalue,
    qMinEigenvalue: eq[0]!,
    positiveDefinite,
    spectralRadius: rho,
    certified: positiveDefinite && qPositiveDefinite && rho < 1,
    decreaseFactor,
    contractionFactor: Math.sqrt(decreaseFactor),
  };
}

/**
 * V(h) = (h - c)^T P (h - c), the quadratic Lyapunov function of a certificate (c = `center`, default 0; for a net
 * linearised at a fixed point h*, c = h*).
 * @param P n x n matrix (e.g. {@link LyapunovCertificate.P})
 * @param h state of length n
 * @param center optional center c of length n
 * @throws {ShapeError} naming `P`, `h` or `center` on a size mismatch
 * @throws {InvalidArgumentError} on a non-finite entry
 */
export function lyapunovValue(P: MatrixInput, h: ArrayLike<number>, center?: ArrayLike<number>): number {
  return lyapunovFunction(P, center)(h);
}

/**
 * The function h -> (h - c)^T P (h - c) with P and c checked and copied once (for evaluating V along long
 * trajectories).
 * @throws {ShapeError} naming `P` or `center` on a size mismatch (and `h` when the returned function is called
 *   with a state of the wrong length)
 * @throws {InvalidArgumentError} on a non-finite entry of P, center or h
 */
export function lyapunovFunction(P: MatrixInput, center?: ArrayLike<number>): (h: ArrayLike<number>) => number {
  const Pm = toMatrix('P', P, { square: true });
  const n = Pm.rows;
  const p = Float64Array.from(Pm.to1DArray());
  const c = new Float64Array(n);
  if (center !== undefined) {
    checkVector('center', center, n);
    c.set(Array.from(center));
  }
  const d = new Float64Array(n);
  return (h: ArrayLike<number>): number => {
    checkVector('h', h, n);
    for (let i = 0; i < n; i++) d[i] = h[i]! - c[i]!;
    let v = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += p[i * n + j]! * d[j]!;
      v += d[i]! * s;
    }
    return v;
  };
}

function checkVector(name: string, v: ArrayLike<number>, n: number): void {
  if (v == null || typeof v.length !== 'number' || v.length !== n) {
    throw new ShapeError(name, `expected a vector of length ${n}, got ${v == null ? String(v) : `length ${v.length}`}`,
      [n], v == null || typeof v.length !== 'number' ? undefined : [v.length]);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(v[i])) throw new InvalidArgumentError(name, `entry ${i} is ${v[i]}; expected finite numbers`);
  }
}
