/**
 * The linear Gaussian state-space model, the classical system a linear RNN is:
 *
 *   h_t = A h_{t-1} + B x_t + w_t,   w_t ~ N(0, Q)
 *   y_t = C h_t + D x_t + v_t,       v_t ~ N(0, R),     h_0 ~ N(m0, P0),   t = 1..T
 *
 * (h_0 is the state before the first input, as an RNN's initial state). float64, in TypeScript.
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { Random } from '../nn/random.js';
import { Matrix, toMatrix, type MatrixInput } from '../analysis/linalg.js';

/** What {@link StateSpace} is built from. Omitted matrices are zero (B, D, Q, R, m0) or the identity (P0). */
export interface StateSpaceSpec {
  /** State transition, n x n. */
  A: MatrixInput;
  /** Input matrix, n x m (default: no input, m = 0). */
  B?: MatrixInput;
  /** Observation matrix, p x n. */
  C: MatrixInput;
  /** Feedthrough, p x m (default zero). */
  D?: MatrixInput;
  /** Process noise covariance, n x n, symmetric positive semi-definite (default zero). */
  Q?: MatrixInput;
  /** Observation noise covariance, p x p, symmetric positive semi-definite (default zero). */
  R?: MatrixInput;
  /** Mean of h_0 (default zeros). */
  m0?: ArrayLike<number>;
  /** Covariance of h_0 (default the identity). */
  P0?: MatrixInput;
}

/** What {@link StateSpace.simulate} returns: T rows each. */
export interface Simulation {
  /** h_1..h_T. */
  states: Float64Array[];
  /** y_1..y_T. */
  outputs: Float64Array[];
}

function symmetricCheck(name: string, M: Matrix): void {
  const n = M.rows;
  let scale = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) scale = Math.max(scale, Math.abs(M.get(i, j)));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(M.get(i, j) - M.get(j, i)) > 1e-12 * Math.max(scale, 1e-300)) {
        throw new InvalidArgumentError(name, `expected a symmetric covariance; entries [${i}, ${j}] and [${j}, ${i}] differ`);
      }
    }
  }
}

/** Lower-triangular L with L L^T = S for a symmetric positive semi-definite S (zero columns where S is singular). */
function psdFactor(name: string, S: Matrix): Matrix {
  const n = S.rows;
  const L = new Matrix(n, n);
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(S.get(i, i)));
  const tol = 1e-12 * Math.max(scale, 1e-300);
  for (let j = 0; j < n; j++) {
    let d = S.get(j, j);
    for (let k = 0; k < j; k++) d -= L.get(j, k) ** 2;
    if (d < -tol) throw new InvalidArgumentError(name, 'expected a positive semi-definite covariance (Cholesky found a negative pivot)');
    const ljj = d > tol ? Math.sqrt(d) : 0;
    L.set(j, j, ljj);
    for (let i = j + 1; i < n; i++) {
      let v = S.get(i, j);
      for (let k = 0; k < j; k++) v -= L.get(i, k) * L.get(j, k);
      L.set(i, j, ljj > 0 ? v / ljj : 0);
    }
  }
  return L;
}

/** A validated linear Gaussian state-space model (see the module comment for the equations). */
export class StateSpace {
  /** State size. */
  readonly n: number;
  /** Input size (0 without inputs). */
  readonly m: number;
  /** Output size. */
  readonly p: number;
  /** n x n. */
  readonly A: Matrix;
  /** n x m. */
  readonly B: Matrix;
  /** p x n. */
  readonly C: Matrix;
  /** p x m. */
  readonly D: Matrix;
  /** n x n. */
  readonly Q: Matrix;
  /** p x p. */
  readonly R: Matrix;
  /** n. */
  readonly m0: Float64Array;
  /** n x n. */
  readonly P0: Matrix;

  /**
   * @throws {ShapeError} naming the matrix whose shape does not fit A (n x n) and C (p x n)
   * @throws {InvalidArgumentError} for non-finite entries or a covariance that is not symmetric positive
   *   semi-definite
   */
  constructor(spec: StateSpaceSpec) {
    if (spec === null || typeof spec !== 'object') {
      throw new InvalidArgumentError('spec', 'expected { A, C } and optionally B, D, Q, R, m0, P0');
    }
    this.A = toMatrix('A', spec.A, { square: true });
    const n = this.A.rows;
    this.C = toMatrix('C', spec.C, { cols: n });
    const p = this.C.rows;
    if (spec.B !== undefined) this.B = toMatrix('B', spec.B, { rows: n });
    else this.B = new Matrix(n, 0);
    const m = this.B.columns;
    if (spec.D !== undefined) {
      if (m === 0) throw new InvalidArgumentError('D', 'given without B: a feedthrough needs inputs');
      this.D = toMatrix('D', spec.D, { rows: p, cols: m });
    } else {
      this.D = new Matrix(p, m);
    }
    this.Q = spec.Q !== undefined ? toMatrix('Q', spec.Q, { rows: n, cols: n }) : new Matrix(n, n);
    this.R = spec.R !== undefined ? toMatrix('R', spec.R, { rows: p, cols: p }) : new Matrix(p, p);
    this.P0 = spec.P0 !== undefined ? toMatrix('P0', spec.P0, { rows: n, cols: n }) : Matrix.eye(n, n);
    for (const [k, M] of [['Q', this.Q], ['R', this.R], ['P0', this.P0]] as const) {
      symmetricCheck(k, M);
      psdFactor(k, M);
    }
    if (spec.m0 !== undefined) {
      if (spec.m0 == null || typeof spec.m0.length !== 'number' || spec.m0.length !== n) {
        throw new ShapeError('m0', `expected ${n} numbers (the state size)`, [n]);
      }
      this.m0 = Float64Array.from(spec.m0);
      if (!this.m0.every(Number.isFinite)) throw new InvalidArgumentError('m0', 'expected finite numbers');
    } else {
      this.m0 = new Float64Array(n);
    }
    this.n = n;
    this.m = m;
    this.p = p;
  }

  /**
   * Runs the model over T steps: inputs x_1..x_T (T rows of m numbers; or the number T when m = 0). With
   * `noise` (default true) w_t, v_t and h_0 are drawn from their Gaussians with the seeded generator; without,
   * h_0 = m0 and the recursion is deterministic.
   */
  simulate(inputs: ArrayLike<ArrayLike<number>> | number, options: { seed?: number; noise?: boolean; h0?: ArrayLike<number> } = {}): Simulation {
    const { n, m, p } = this;
    const T = typeof inputs === 'number' ? inputs : inputs.length;
    if (typeof inputs === 'number') {
      if (!Number.isInteger(T) || T < 0) throw new InvalidArgumentError('inputs', `expected a step count >= 0, got ${inputs}`);
      if (m > 0) throw new InvalidArgumentError('inputs', `expected T rows of ${m} inputs (the model has inputs)`);
    } else {
      for (let t = 0; t < T; t++) {
        const r = inputs[t];
        if (r == null || r.length !== m) throw new ShapeError('inputs', `expected rows of ${m} numbers; row ${t} has ${r?.length ?? 'none'}`, [T, m]);
      }
    }
    const noise = options.noise ?? true;
    const rng = new Random(options.seed ?? 0);
    const Lq = noise ? psdFactor('Q', this.Q) : null, Lr = noise ? psdFactor('R', this.R) : null;
    const L0 = noise ? psdFactor('P0', this.P0) : null;
    const draw = (L: Matrix): Float64Array => {
      const k = L.rows, z = Float64Array.from({ length: k }, () => rng.normal()), out = new Float64Array(k);
      for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) out[i]! += L.get(i, j) * z[j]!;
      return out;
    };
    let h: Float64Array;
    if (options.h0 !== undefined) {
      if (options.h0.length !== n) throw new ShapeError('options.h0', `expected ${n} numbers`, [n]);
      h = Float64Array.from(options.h0);
    } else {
      h = Float64Array.from(this.m0);
      if (L0) { const e = draw(L0); for (let i = 0; i < n; i++) h[i]! += e[i]!; }
    }
    const states: Float64Array[] = [], outputs: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const x = typeof inputs === 'number' ? new Float64Array(0) : inputs[t]!;
      const next = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += this.A.get(i, j) * h[j]!;
        for (let j = 0; j < m; j++) v += this.B.get(i, j) * x[j]!;
        next[i] = v;
      }
      if (Lq) { const w = draw(Lq); for (let i = 0; i < n; i++) next[i]! += w[i]!; }
      h = next;
      const y = new Float64Array(p);
      for (let i = 0; i < p; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += this.C.get(i, j) * h[j]!;
        for (let j = 0; j < m; j++) v += this.D.get(i, j) * x[j]!;
        y[i] = v;
      }
      if (Lr) { const v = draw(Lr); for (let i = 0; i < p; i++) y[i]! += v[i]!; }
      states.push(h);
      outputs.push(y);
    }
    return { states, outputs };
  }
}
