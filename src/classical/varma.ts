/**
 * Bridges between linear RNNs, the linear Gaussian {@link StateSpace} model and its input-output forms:
 * characteristic polynomial, Markov parameters, transfer function and the ARMAX / VARMAX representation obtained
 * by eliminating the state with Cayley-Hamilton. float64, on `ml-matrix` through `analysis/linalg`.
 *
 * Timing. {@link StateSpace} (like an RNN) feeds x_t into the state of the same step:
 *
 *   h_t = A h_{t-1} + B x_t + w_t,   y_t = C h_t + D x_t + v_t                      ("rnn" timing)
 *
 * so its input-output map is y_t = (D + CB) x_t + sum_{k>=1} C A^k B x_{t-k} + noise, with transfer function
 * G(z) = z C (zI - A)^{-1} B + D = C A (zI - A)^{-1} B + (CB + D). The textbook (and SciPy `ss2tf`,
 * {@link frequencyResponse}) convention is h_{t+1} = A h_t + B x_t, y_t = C h_t + D x_t ("standard" timing), with
 * H(z) = C (zI - A)^{-1} B + D and impulse response D, CB, CAB, ... {@link markovParameters} and
 * {@link transferFunction} take `timing`: by default 'rnn' for a {@link StateSpace} (what its simulate realises)
 * and 'standard' for a bare { A, B, C, D } quadruple (its textbook meaning); 'rnn' is the standard computation on
 * the quadruple (A, B, CA, CB + D).
 * {@link toArmax} always describes {@link StateSpace.simulate} (rnn timing).
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { RecurrentLayer } from '../nn/recurrent.js';
import {
  Matrix, eigenvalues, hessenberg, identity, toMatrix, type MatrixInput,
} from '../analysis/linalg.js';
import { isCellMap, resolveCellMap, rnnCellMap, type CellMap, type LayerSelection, type StateInput } from '../analysis/cell-map.js';
import type { StateSpaceSystem } from '../analysis/frequency.js';
import { StateSpace, type Simulation, type StateSpaceSpec } from './state-space.js';

// ---------------------------------------------------------------------------------------------------------------
// helpers (not exported from the package index)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Checks `rows` is an array of `count` (when given) rows of `width` finite numbers and copies it.
 * @internal
 */
export function readRows(name: string, rows: unknown, width: number, count?: number): Float64Array[] {
  if (rows === null || typeof rows !== 'object' || typeof (rows as ArrayLike<unknown>).length !== 'number') {
    throw new InvalidArgumentError(name, `expected rows of ${width} numbers, got ${rows === null ? 'null' : typeof rows}`);
  }
  const a = rows as ArrayLike<unknown>;
  if (count !== undefined && a.length !== count) {
    throw new ShapeError(name, `expected ${count} rows of ${width} numbers, got ${a.length} rows`, [count, width], [a.length, -1]);
  }
  const out: Float64Array[] = [];
  for (let t = 0; t < a.length; t++) {
    const r = a[t] as ArrayLike<unknown> | null | undefined;
    if (r == null || typeof r !== 'object' || typeof r.length !== 'number' || r.length !== width) {
      const got = r == null || typeof r !== 'object' || typeof r.length !== 'number' ? 'none' : String(r.length);
      throw new ShapeError(name, `expected rows of ${width} numbers; row ${t} has ${got}`, [a.length, width]);
    }
    const v = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      const e = r[j];
      if (typeof e !== 'number' || !Number.isFinite(e)) {
        throw new InvalidArgumentError(name, `entry [${t}, ${j}] is ${String(e)}; expected finite numbers`);
      }
      v[j] = e;
    }
    out.push(v);
  }
  return out;
}

/** Inputs x_1..x_T as rows, or the step count T for a model without inputs (m = 0). */
function readInputs(name: string, inputs: ArrayLike<ArrayLike<number>> | number, m: number): Float64Array[] {
  if (typeof inputs === 'number') {
    if (!Number.isInteger(inputs) || inputs < 0) throw new InvalidArgumentError(name, `expected a step count >= 0, got ${inputs}`);
    if (m > 0) throw new InvalidArgumentError(name, `expected T rows of ${m} inputs (the model has inputs), got a number`);
    return Array.from({ length: inputs }, () => new Float64Array(0));
  }
  return readRows(name, inputs, m);
}

function checkVec(name: string, v: unknown, n: number): Float64Array {
  return readRows(name, [v], n)[0]!;
}

/** A p x q matrix from a MatrixInput, allowing q = 0 (toMatrix rejects empty matrices). */
function maybeEmpty(name: string, M: MatrixInput | undefined, rows: number, cols: number): Matrix {
  if (M === undefined || cols === 0 || rows === 0) return new Matrix(rows, cols);
  return toMatrix(name, M, { rows, cols });
}

/** A quadruple or a StateSpace, checked: A n x n, B n x m, C p x n, D p x m. */
interface Quadruple { A: Matrix; B: Matrix; C: Matrix; D: Matrix; n: number; m: number; p: number }

function quadruple(name: string, sys: StateSpace | StateSpaceSystem): Quadruple {
  if (sys instanceof StateSpace) {
    return { A: sys.A, B: sys.B, C: sys.C, D: sys.D, n: sys.n, m: sys.m, p: sys.p };
  }
  if (sys === null || typeof sys !== 'object') {
    throw new InvalidArgumentError(name, `expected a StateSpace or { A, B, C, D? }, got ${sys === null ? 'null' : typeof sys}`);
  }
  const A = toMatrix(`${name}.A`, sys.A, { square: true });
  const n = A.rows;
  const B = toMatrix(`${name}.B`, sys.B, { rows: n });
  const C = toMatrix(`${name}.C`, sys.C, { cols: n });
  const D = maybeEmpty(`${name}.D`, sys.D, C.rows, B.columns);
  return { A, B, C, D, n, m: B.columns, p: C.rows };
}

/** Timing convention of {@link markovParameters} and {@link transferFunction} (see the module comment). */
export type Timing = 'standard' | 'rnn';

/** The default follows the argument's own meaning: a StateSpace simulates with rnn timing, a bare quadruple is textbook. */
function checkTiming(t: unknown, sys: unknown): Timing {
  const timing = t ?? (sys instanceof StateSpace ? 'rnn' : 'standard');
  if (timing !== 'standard' && timing !== 'rnn') {
    throw new InvalidArgumentError('options.timing', `expected 'standard' or 'rnn', got ${String(timing)}`);
  }
  return timing;
}

/** (A, B, C, D) for 'standard'; (A, B, CA, CB + D) for 'rnn'. */
function timed(q: Quadruple, timing: Timing): Quadruple {
  if (timing === 'standard') return q;
  return { ...q, C: q.C.mmul(q.A), D: q.D.clone().add(q.C.mmul(q.B)) };
}

// ---------------------------------------------------------------------------------------------------------------
// RNN -> state space
// ---------------------------------------------------------------------------------------------------------------

/** Plain weights of a linear RNN h_t = W_hh h_{t-1} + W_ih x_t + b_ih + b_hh (PyTorch's shapes). */
export interface LinearRnnWeights {
  /** W_hh, H x H. */
  weightHh: MatrixInput;
  /** W_ih, H x I. */
  weightIh: MatrixInput;
  /** b_ih, H entries (default zeros). */
  biasIh?: ArrayLike<number>;
  /** b_hh, H entries (default zeros). */
  biasHh?: ArrayLike<number>;
}

/** Options of {@link stateSpaceFromRnn}. */
export interface StateSpaceFromRnnOptions {
  /** Observation matrix, p x H (default the identity: y_t = h_t). */
  C?: MatrixInput;
  /** Feedthrough, p x I (or p x (I + 1) when the bias becomes an input; a p x I D gets a zero bias column). */
  D?: MatrixInput;
  /** Process noise covariance, H x H (default zero). */
  Q?: MatrixInput;
  /** Observation noise covariance, p x p (default zero). */
  R?: MatrixInput;
  /** Mean of h_0 (default zeros). */
  m0?: ArrayLike<number>;
  /** Covariance of h_0 (default the identity). */
  P0?: MatrixInput;
  /**
   * What to do with b = b_ih + b_hh: 'auto' (default) appends it as the last column of B, driven by a constant
   * input 1 (see {@link appendConstantInput}), when some entry of b is non-zero, and leaves B = W_ih otherwise;
   * 'input' always appends the column; 'reject' throws when b is non-zero.
   */
  bias?: 'auto' | 'input' | 'reject';
}

/**
 * The linear RNN h_t = W_hh h_{t-1} + W_ih x_t + b (b = b_ih + b_hh) as the state-space model
 *
 *   h_t = A h_{t-1} + B u_t + w_t,  y_t = C h_t + D u_t + v_t,  A = W_hh,  B = W_ih or [W_ih  b],
 *
 * where u_t = x_t, or u_t = [x_t; 1] when the bias is carried as a constant input (`options.bias`; the affine
 * term has no place in the linear StateSpace otherwise). Exact: with zero noise, `simulate` reproduces the RNN
 * (the hidden states from h_0) to rounding.
 * @param source a linear cell map (`rnnCellMap({ ..., nonlinearity: 'identity' })`, mode 'RNN_LINEAR') or plain weights
 * @throws {InvalidArgumentError} naming `source` for a cell map of another mode (use {@link linearizedStateSpace}),
 *   `options.bias` when it is unknown or 'reject' meets a non-zero bias, and the weight or option with a
 *   non-finite entry
 * @throws {ShapeError} naming the weight or option whose shape does not fit H and I
 */
export function stateSpaceFromRnn(source: CellMap | LinearRnnWeights, options: StateSpaceFromRnnOptions = {}): StateSpace {
  let map: CellMap;
  if (isCellMap(source)) {
    if (source.mode !== 'RNN_LINEAR') {
      throw new InvalidArgumentError('source', `expected a linear RNN cell map (mode 'RNN_LINEAR'), got mode ${source.mode}; ` +
        `use linearizedStateSpace for a nonlinear cell`);
    }
    map = source;
  } else if (source !== null && typeof source === 'object' && 'weightHh' in source && 'weightIh' in source) {
    map = rnnCellMap({ ...source, nonlinearity: 'identity' });
  } else {
    throw new InvalidArgumentError('source', 'expected a CellMap of mode RNN_LINEAR or { weightHh, weightIh, biasIh?, biasHh? }');
  }
  const biasMode = options.bias ?? 'auto';
  if (biasMode !== 'auto' && biasMode !== 'input' && biasMode !== 'reject') {
    throw new InvalidArgumentError('options.bias', `expected 'auto', 'input' or 'reject', got ${String(biasMode)}`);
  }
  const H = map.hiddenSize, I = map.inputSize;
  const b = Float64Array.from(map.params.biasIh, (v, i) => v + map.params.biasHh[i]!);
  const nonzero = b.some((v) => v !== 0);
  if (biasMode === 'reject' && nonzero) {
    throw new InvalidArgumentError('options.bias', `the RNN has a non-zero bias b_ih + b_hh (max |b| = ` +
      `${Math.max(...Array.from(b, Math.abs)).toExponential(3)}), which a linear state-space model cannot hold; ` +
      `use bias: 'input' to carry it as a constant input`);
  }
  const withBias = biasMode === 'input' || (biasMode === 'auto' && nonzero);
  const m = I + (withBias ? 1 : 0);
  const Bm = new Matrix(H, m);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < I; j++) Bm.set(i, j, map.params.weightIh.get(i, j));
    if (withBias) Bm.set(i, I, b[i]!);
  }
  const C = options.C !== undefined ? toMatrix('options.C', options.C, { cols: H }) : identity(H);
  const p = C.rows;
  let D: Matrix | undefined;
  if (options.D !== undefined) {
    const d0 = toMatrix('options.D', options.D, { rows: p });
    if (d0.columns === m) D = d0;
    else if (withBias && d0.columns === I) {
      D = new Matrix(p, m);
      for (let i = 0; i < p; i++) for (let j = 0; j < I; j++) D.set(i, j, d0.get(i, j));
    } else {
      throw new ShapeError('options.D', `expected shape [${p}, ${m}]${withBias ? ` (or [${p}, ${I}])` : ''}, got [${p}, ${d0.columns}]`, [p, m], [p, d0.columns]);
    }
  }
  const spec: StateSpaceSpec = { A: map.params.weightHh, B: Bm, C };
  if (D) spec.D = D;
  if (options.Q !== undefined) spec.Q = options.Q;
  if (options.R !== undefined) spec.R = options.R;
  if (options.m0 !== undefined) spec.m0 = options.m0;
  if (options.P0 !== undefined) spec.P0 = options.P0;
  return new StateSpace(spec);
}

/**
 * Rows [x_t; value] (the constant input that carries an RNN bias, see {@link stateSpaceFromRnn}).
 * @throws {InvalidArgumentError} for non-finite entries or rows that are not arrays
 */
export function appendConstantInput(inputs: ArrayLike<ArrayLike<number>>, value = 1): Float64Array[] {
  if (!Number.isFinite(value)) throw new InvalidArgumentError('value', `expected a finite number, got ${value}`);
  const w = inputs?.[0]?.length ?? 0;
  return readRows('inputs', inputs, w).map((r) => { const o = new Float64Array(w + 1); o.set(r); o[w] = value; return o; });
}

/** Options of {@link linearizedStateSpace}: the point and the observation/noise parts of the model. */
export interface LinearizeOptions extends LayerSelection {
  /** The state s* (or its parts h, c) to linearize at (default zeros). */
  state?: StateInput;
  /** The input x* (default zeros). */
  x?: ArrayLike<number>;
  /** Observation matrix, p x stateSize (default: the hidden part, [I 0] for an LSTM's s = [h; c], else I). */
  C?: MatrixInput;
  /** Feedthrough, p x inputSize (default zero). */
  D?: MatrixInput;
  /** Process noise covariance (default zero). */
  Q?: MatrixInput;
  /** Observation noise covariance (default zero). */
  R?: MatrixInput;
}

/** What {@link linearizedStateSpace} returns. */
export interface LinearizedStateSpace {
  /** The state-space model of the deviations (A = ds'/ds, B = ds'/dx at the point). */
  system: StateSpace;
  /** s*. */
  state: Float64Array;
  /** x*. */
  x: Float64Array;
  /** f(s*, x*), the next state from the point. */
  next: Float64Array;
  /** f(s*, x*) - s*: zero exactly at a fixed point. */
  drift: Float64Array;
}

/**
 * First-order model of a cell s_t = f(s_{t-1}, x_t) around (s*, x*):
 *
 *   s_t - s* = A (s_{t-1} - s*) + B (x_t - x*) + d + O(|ds|^2 + |dx|^2),  A = df/ds, B = df/dx,  d = f(s*, x*) - s*,
 *
 * returned as a StateSpace in the deviations (with C, D, Q, R from the options) plus the drift d, which is zero at
 * a fixed point (then the StateSpace is the exact linearization, e.g. for {@link toArmax}). The Jacobians are the
 * cell map's exact ones. For a linear RNN (mode 'RNN_LINEAR') A = W_hh and B = W_ih at every point.
 * @param target a model (with `options.layer` / `options.direction`) or a cell map
 * @throws {ShapeError} naming `state` / `x` / the option whose size does not fit the cell
 * @throws {InvalidArgumentError} for non-finite entries or a target that is neither a model nor a cell map
 */
export function linearizedStateSpace(target: RecurrentLayer | CellMap, options: LinearizeOptions = {}): LinearizedStateSpace {
  const map = resolveCellMap(target, options);
  const state = map.state(options.state);
  const x = options.x === undefined ? new Float64Array(map.inputSize) : checkVec('x', options.x, map.inputSize);
  const { A, B } = map.jacobian(state, x);
  const S = map.stateSize, P = map.outputSize;
  let C: Matrix;
  if (options.C !== undefined) C = toMatrix('options.C', options.C, { cols: S });
  else { C = new Matrix(P, S); for (let i = 0; i < P; i++) C.set(i, i, 1); }
  const spec: StateSpaceSpec = { A, B, C };
  if (options.D !== undefined) spec.D = toMatrix('options.D', options.D, { rows: C.rows, cols: map.inputSize });
  if (options.Q !== undefined) spec.Q = options.Q;
  if (options.R !== undefined) spec.R = options.R;
  const next = map.step(state, x);
  return { system: new StateSpace(spec), state, x, next, drift: next.map((v, i) => v - state[i]!) };
}

// ---------------------------------------------------------------------------------------------------------------
// characteristic polynomial, Markov parameters, transfer function
// ---------------------------------------------------------------------------------------------------------------

/** Options of {@link characteristicPolynomial}. */
export interface CharacteristicPolynomialOptions {
  /**
   * 'hessenberg' (default): La Budde's method. 'eigenvalues': the product of (z - lambda_i) over the eigenvalues
   * (NumPy's `np.poly`). See {@link characteristicPolynomial}.
   */
  method?: 'hessenberg' | 'eigenvalues';
}

/**
 * Coefficients [1, a_1, ..., a_n] of det(zI - A) = z^n + a_1 z^{n-1} + ... + a_n (descending powers, like
 * `np.poly`).
 *
 * Method 'hessenberg' (default), La Budde's: the orthogonal reduction H = Q^T A Q to upper Hessenberg form
 * (`linalg.hessenberg`, backward stable), then the recurrence over the leading principal submatrices H_k,
 *
 *   p_0 = 1,  p_k(z) = (z - h_kk) p_{k-1}(z) - sum_{i=1}^{k-1} h_{k-i,k} (h_{k,k-1} ... h_{k-i+1,k-i}) p_{k-i-1}(z),
 *
 * O(n^3) flops, no eigenvalues. Its forward error analysis (Rehman & Ipsen, 2011, "La Budde's method for computing
 * characteristic polynomials") bounds the error of a_k, roughly, by a small multiple of k eps times the
 * coefficients of the same recurrence run on |H| (entrywise absolute values): a_k is accurate relative to that
 * scale (measured here: <= 4e-16 relative to max_k |a_k| on the fixtures, n <= 8), but a coefficient much smaller
 * than its scale (cancellation) has fewer correct digits. Method 'eigenvalues' (np.poly's): multiplies out (z - lambda_i)
 * (real factors, and z^2 - 2 Re(lambda) z + |lambda|^2 for a complex pair); its errors are those of the
 * eigenvalues, so it is worse for defective or clustered eigenvalues (a Jordan block of size m perturbs them by
 * (eps ||A||)^(1/m), though the coefficients are still accurate to about eps ||A||^k because the perturbed
 * eigenvalues are exact for a nearby matrix).
 * @throws {ShapeError} naming `A` when it is not square
 * @throws {InvalidArgumentError} for non-finite entries or an unknown `options.method`
 */
export function characteristicPolynomial(A: MatrixInput, options: CharacteristicPolynomialOptions = {}): Float64Array {
  const M = toMatrix('A', A, { square: true });
  const method = options.method ?? 'hessenberg';
  if (method !== 'hessenberg' && method !== 'eigenvalues') {
    throw new InvalidArgumentError('options.method', `expected 'hessenberg' or 'eigenvalues', got ${String(method)}`);
  }
  const n = M.rows;
  if (method === 'eigenvalues') {
    const { re, im } = eigenvalues(M);
    let c = Float64Array.of(1);
    const mul = (f: number[]): void => {
      const o = new Float64Array(c.length + f.length - 1);
      for (let i = 0; i < c.length; i++) for (let j = 0; j < f.length; j++) o[i + j]! += c[i]! * f[j]!;
      c = o;
    };
    for (let i = 0; i < n; i++) {
      if (im[i] === 0) mul([1, -re[i]!]);
      else if (im[i]! > 0) mul([1, -2 * re[i]!, re[i]! * re[i]! + im[i]! * im[i]!]);
    }
    return c;
  }
  const H = n > 2 ? hessenberg(M).H.to2DArray() : M.to2DArray();
  const p: Float64Array[] = [Float64Array.of(1)];
  for (let k = 1; k <= n; k++) {
    const prev = p[k - 1]!, pk = new Float64Array(k + 1);
    const hkk = H[k - 1]![k - 1]!;
    for (let r = 0; r < k; r++) { pk[r]! += prev[r]!; pk[r + 1]! -= hkk * prev[r]!; }
    let prod = 1;
    for (let i = 1; i <= k - 1; i++) {
      prod *= H[k - i]![k - i - 1]!;
      if (prod === 0) break;
      const term = H[k - i - 1]![k - 1]! * prod;
      const q = p[k - i - 1]!; // degree k - i - 1, aligned with the low end of pk
      for (let r = 0; r < q.length; r++) pk[i + 1 + r]! -= term * q[r]!;
    }
    p.push(pk);
  }
  return p[n]!;
}

/** Options of {@link markovParameters} and {@link transferFunction}. */
export interface TimingOptions {
  /**
   * 'standard': h_{t+1} = A h_t + B x_t, y_t = C h_t + D x_t (SciPy's ss2tf). 'rnn': h_t = A h_{t-1} + B x_t, as
   * {@link StateSpace.simulate} runs. Default: 'rnn' for a StateSpace (what it simulates), 'standard' for a bare
   * { A, B, C, D } quadruple.
   */
  timing?: Timing;
}

/**
 * The first k Markov parameters (impulse response) of the system:
 *
 *   'standard': G_0 = D, G_j = C A^{j-1} B (j >= 1)   [D, CB, CAB, ..., C A^{k-2} B]
 *   'rnn':      G_0 = D + C B, G_j = C A^j B           (y_t = sum_j G_j x_{t-j} for StateSpace.simulate from h_0 = 0)
 *
 * each p x m, by repeated multiplication (C A^j is formed left to right).
 * @param sys a StateSpace or a quadruple { A, B, C, D? }
 * @param k how many (an integer >= 1)
 * @throws {InvalidArgumentError} naming `k` or `options.timing`; {@link ShapeError} naming `sys.A` ... `sys.D`
 */
export function markovParameters(sys: StateSpace | StateSpaceSystem, k: number, options: TimingOptions = {}): Matrix[] {
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError('k', `expected an integer >= 1, got ${k}`);
  const q = timed(quadruple('sys', sys), checkTiming(options.timing, sys));
  const out: Matrix[] = [q.D.clone()];
  let CA = q.C.clone();
  for (let j = 1; j < k; j++) {
    out.push(CA.mmul(q.B));
    if (j + 1 < k) CA = CA.mmul(q.A);
  }
  return out;
}

/** A complex number. */
export interface ComplexNumber {
  /** Real part. */
  re: number;
  /** Imaginary part. */
  im: number;
}

/** A complex p x m matrix, [i][j]. */
export interface ComplexMatrix {
  /** Real parts. */
  re: number[][];
  /** Imaginary parts. */
  im: number[][];
}

/** What {@link transferFunction} returns: H(z) = N(z) / den(z) entrywise, polynomials in descending powers of z. */
export interface TransferFunction {
  /** Timing the numerators belong to. */
  timing: Timing;
  /** State size n (degree of den). */
  n: number;
  /** Outputs. */
  p: number;
  /** Inputs. */
  m: number;
  /** det(zI - A): [1, a_1, ..., a_n] (see {@link characteristicPolynomial}). */
  den: Float64Array;
  /** num[i][j]: n + 1 coefficients of the numerator of H_ij, descending powers of z (SciPy's ss2tf num[i] for input j). */
  num: Float64Array[][];
  /** The numerator coefficient matrices N_k (p x m) with N(z) = sum_{k=0}^{n} N_k z^{n-k}. */
  numMatrices: Matrix[];
  /**
   * H(z) = N(z) / den(z) at a complex z (Horner's rule).
   * @throws {InvalidArgumentError} naming `z` when it is not finite or den(z) = 0 (a pole)
   */
  evaluate(z: ComplexNumber): ComplexMatrix;
}

/**
 * The transfer function over the common denominator det(zI - A):
 *
 *   H(z) = C (zI - A)^{-1} B + D = N(z) / det(zI - A),   N(z) = C adj(zI - A) B + D det(zI - A),
 *
 * ('standard' timing; 'rnn' is the same on (A, B, CA, CB + D): G(z) = z C (zI - A)^{-1} B + D). The adjugate is
 * expanded with the Faddeev-LeVerrier / resolvent identity adj(zI - A) = sum_{k=0}^{n-1} S_k z^{n-1-k},
 * S_0 = I, S_k = A S_{k-1} + a_k I, so
 *
 *   N_0 = D,  N_k = C S_{k-1} B + a_k D = sum_{i=0}^{k} a_i G_{k-i}   (k = 1..n; G_j the Markov parameters),
 *
 * with a_k from {@link characteristicPolynomial}. Exact in exact arithmetic; in floating point S_k grows like
 * ||A||^k, so the coefficients are accurate relative to sum_i |a_i| ||G_{k-i}||: good for small, well-scaled
 * systems (n up to ~20), not for high orders (use {@link frequencyResponse} to evaluate H there). The numerator
 * is not reduced: pole-zero cancellations (uncontrollable or unobservable modes) stay in N and den.
 * @throws {InvalidArgumentError} naming `options.timing`; {@link ShapeError} naming `sys.A` ... `sys.D`
 */
export function transferFunction(sys: StateSpace | StateSpaceSystem, options: TimingOptions = {}): TransferFunction {
  const timing = checkTiming(options.timing, sys);
  const q = timed(quadruple('sys', sys), timing);
  const { A, B, C, D, n, m, p } = q;
  const a = characteristicPolynomial(A);
  const N: Matrix[] = [D.clone()];
  let S = identity(n);
  for (let k = 1; k <= n; k++) {
    N.push(C.mmul(S).mmul(B).add(D.clone().mul(a[k]!)));
    if (k < n) { S = A.mmul(S); for (let i = 0; i < n; i++) S.set(i, i, S.get(i, i) + a[k]!); }
  }
  const num = Array.from({ length: p }, (_, i) => Array.from({ length: m }, (_, j) => Float64Array.from(N, (Nk) => Nk.get(i, j))));
  const evaluate = (z: ComplexNumber): ComplexMatrix => {
    if (z === null || typeof z !== 'object' || !Number.isFinite(z.re) || !Number.isFinite(z.im)) {
      throw new InvalidArgumentError('z', `expected { re, im } with finite numbers, got ${JSON.stringify(z)}`);
    }
    const horner = (c: ArrayLike<number>): [number, number] => {
      let r = 0, s = 0;
      for (let k = 0; k < c.length; k++) { const t = r * z.re - s * z.im + c[k]!; s = r * z.im + s * z.re; r = t; }
      return [r, s];
    };
    const [dr, di] = horner(a);
    const d2 = dr * dr + di * di;
    if (!(d2 > 0) || !Number.isFinite(d2)) {
      throw new InvalidArgumentError('z', `det(zI - A) = ${dr} + ${di}j at z = ${z.re} + ${z.im}j: a pole of H`);
    }
    const re: number[][] = [], im: number[][] = [];
    for (let i = 0; i < p; i++) {
      const ri: number[] = [], ii: number[] = [];
      for (let j = 0; j < m; j++) {
        const [nr, ni] = horner(num[i]![j]!);
        ri.push((nr * dr + ni * di) / d2); ii.push((ni * dr - nr * di) / d2);
      }
      re.push(ri); im.push(ii);
    }
    return { re, im };
  };
  return { timing, n, p, m, den: a, num, numMatrices: N, evaluate };
}

// ---------------------------------------------------------------------------------------------------------------
// ARMAX / VARMAX
// ---------------------------------------------------------------------------------------------------------------

/**
 * The ARMAX (VARMAX with scalar AR coefficients) form of a {@link StateSpace}; see {@link toArmax} for the
 * equation the fields enter.
 */
export interface Armax {
  /** State size of the source model = AR and MA order. */
  n: number;
  /** Outputs. */
  p: number;
  /** Inputs. */
  m: number;
  /** AR coefficients [1, a_1, ..., a_n]: the characteristic polynomial of A (the AR matrices are a_i I). */
  a: Float64Array;
  /** Exogenous matrices M_0..M_n (p x m). */
  M: Matrix[];
  /** Process-noise MA matrices N_0..N_{n-1} (p x n). */
  N: Matrix[];
  /**
   * Autocovariances Gamma_0..Gamma_n (p x p) of the composite noise e_t = sum_j N_j w_{t-j} + sum_j a_j v_{t-j}:
   * Gamma_k = Cov(e_t, e_{t-k}) = sum_{j=k}^{n-1} N_j Q N_{j-k}^T + (sum_{j=k}^{n} a_j a_{j-k}) R, Gamma_{-k} =
   * Gamma_k^T, zero for |k| > n (e is MA(n)).
   */
  noiseAutocovariance: Matrix[];
}

/**
 * Eliminates the state of h_t = A h_{t-1} + B x_t + w_t, y_t = C h_t + D x_t + v_t with Cayley-Hamilton:
 *
 *   y_t + sum_{i=1}^{n} a_i y_{t-i} = sum_{j=0}^{n} M_j x_{t-j} + sum_{j=0}^{n-1} N_j w_{t-j} + sum_{j=0}^{n} a_j v_{t-j},
 *
 *   N_j = sum_{i=0}^{j} a_i C A^{j-i}  (p x n, j = 0..n-1),   M_j = N_j B + a_j D  (j < n),   M_n = a_n D,
 *
 * a_0 = 1 and [1, a_1..a_n] the characteristic polynomial of A. Derivation: h_{t-i} = A^{n-i} h_{t-n} +
 * sum_{l=0}^{n-i-1} A^l (B x_{t-i-l} + w_{t-i-l}); so sum_{i=0}^{n} a_i y_{t-i} = C (sum_i a_i A^{n-i}) h_{t-n}
 * + sum_{j=0}^{n-1} (sum_{i=0}^{j} a_i C A^{j-i}) (B x_{t-j} + w_{t-j}) + sum_{j=0}^{n} a_j (D x_{t-j} + v_{t-j}),
 * with j = i + l, and the first term vanishes because sum_i a_i A^{n-i} = p(A) = 0. Process noise enters through
 * the C A^k terms (N_j), observation noise through a_j v_{t-j}. The identity holds for every t with t - n >= 1
 * (it needs y_{t-n}, i.e. t > n for outputs y_1..y_T); see {@link simulateArmax} and {@link armaxPresample} for
 * starting at t = 1. It describes StateSpace's timing (x_t enters h_t): in the standard timing
 * h_{t+1} = A h_t + B x_t the same derivation gives C A^{j-i-1} B (j - i >= 1) instead of C A^{j-i} B.
 * Equivalently M(z) = sum_j M_j z^{-j} = a(z^{-1}) G(z) with G the 'rnn' transfer function, and M_j are the
 * numerator matrices of `transferFunction(ss, { timing: 'rnn' })`. Not reduced: a non-minimal model gives a
 * non-minimal ARMAX (common factors in the AR and MA/X parts).
 * @param ss a StateSpace or its spec
 */
export function toArmax(ss: StateSpace | StateSpaceSpec): Armax {
  const s = ss instanceof StateSpace ? ss : new StateSpace(ss);
  const { A, B, C, D, Q, R, n, m, p } = s;
  const a = characteristicPolynomial(A);
  const N: Matrix[] = [];
  // N_j = C S_j with S_0 = I, S_j = A S_{j-1} + a_j I, i.e. N_j = N_{j-1} A + a_j C.
  let Nj = C.clone();
  for (let j = 0; j < n; j++) {
    if (j > 0) Nj = Nj.mmul(A).add(C.clone().mul(a[j]!));
    N.push(Nj);
  }
  const M: Matrix[] = [];
  for (let j = 0; j <= n; j++) {
    const Mj = D.clone().mul(a[j]!);
    if (j < n && m > 0) Mj.add(N[j]!.mmul(B));
    M.push(Mj);
  }
  const noiseAutocovariance: Matrix[] = [];
  for (let k = 0; k <= n; k++) {
    const G = new Matrix(p, p);
    for (let j = k; j < n; j++) G.add(N[j]!.mmul(Q).mmul(N[j - k]!.transpose()));
    let c = 0;
    for (let j = k; j <= n; j++) c += a[j]! * a[j - k]!;
    G.add(R.clone().mul(c));
    noiseAutocovariance.push(G);
  }
  return { n, p, m, a, M, N, noiseAutocovariance };
}

/** Values before t = 1 for {@link simulateArmax}: each n rows, for times 1-n, ..., 0 (default zeros). */
export interface ArmaxPresample {
  /** y_{1-n}..y_0, rows of p. */
  y?: ArrayLike<ArrayLike<number>>;
  /** x_{1-n}..x_0, rows of m. */
  x?: ArrayLike<ArrayLike<number>>;
  /** w_{1-n}..w_0, rows of n. */
  w?: ArrayLike<ArrayLike<number>>;
  /** v_{1-n}..v_0, rows of p. */
  v?: ArrayLike<ArrayLike<number>>;
}

/** Noise sequences w_1..w_T (rows of n) and v_1..v_T (rows of p); an omitted one is zero. */
export interface NoiseSequences {
  /** Process noise w_1..w_T. */
  w?: ArrayLike<ArrayLike<number>>;
  /** Observation noise v_1..v_T. */
  v?: ArrayLike<ArrayLike<number>>;
}

/** Options of {@link simulateArmax}. */
export interface SimulateArmaxOptions {
  /** Values at times 1-n..0 that the lags reach for t <= n (default zeros; see {@link armaxPresample}). */
  presample?: ArmaxPresample;
  /**
   * y_1..y_k, known (k <= T rows of p): returned as given, the recursion produces y_{k+1}..y_T. With k >= n the
   * presample is never used (the lags of t > n stay inside 1..T).
   */
  knownOutputs?: ArrayLike<ArrayLike<number>>;
}

/**
 * Runs the ARMAX recursion of {@link toArmax},
 *
 *   y_t = -sum_{i=1}^{n} a_i y_{t-i} + sum_{j=0}^{n} M_j x_{t-j} + sum_{j=0}^{n-1} N_j w_{t-j} + sum_{j=0}^{n} a_j v_{t-j},
 *
 * for t = 1..T (or k+1..T after `knownOutputs`), lags reaching t - j <= 0 reading `presample`. Initial conditions:
 * with k = n known outputs (the state-space model's y_1..y_n) the result equals the state-space outputs for all t
 * (t > n by the ARMAX identity); from t = 1, `armaxPresample(ss, h0)` gives the presample that makes the result
 * equal the state-space model started at h_0 (the zero presample is right for h_0 = 0).
 * @param inputs x_1..x_T (T rows of m; or the number T when m = 0)
 * @param noises w_1..w_T, v_1..v_T (default zeros)
 * @returns y_1..y_T
 * @throws {ShapeError} naming `inputs`, `noises.w`, `noises.v`, `options.presample.*` or `options.knownOutputs`
 * @throws {InvalidArgumentError} for non-finite entries
 */
export function simulateArmax(armax: Armax, inputs: ArrayLike<ArrayLike<number>> | number, noises: NoiseSequences = {},
                              options: SimulateArmaxOptions = {}): Float64Array[] {
  if (armax === null || typeof armax !== 'object' || !(armax.a instanceof Float64Array) || !Array.isArray(armax.M)) {
    throw new InvalidArgumentError('armax', 'expected the result of toArmax');
  }
  const { n, p, m, a, M, N } = armax;
  const xs = readInputs('inputs', inputs, m);
  const T = xs.length;
  const ws = noises.w !== undefined ? readRows('noises.w', noises.w, n, T) : null;
  const vs = noises.v !== undefined ? readRows('noises.v', noises.v, p, T) : null;
  const pre = options.presample ?? {};
  const zeros = (w: number): Float64Array[] => Array.from({ length: n }, () => new Float64Array(w));
  const py = pre.y !== undefined ? readRows('options.presample.y', pre.y, p, n) : zeros(p);
  const px = pre.x !== undefined ? readRows('options.presample.x', pre.x, m, n) : zeros(m);
  const pw = pre.w !== undefined ? readRows('options.presample.w', pre.w, n, n) : zeros(n);
  const pv = pre.v !== undefined ? readRows('options.presample.v', pre.v, p, n) : zeros(p);
  const known = options.knownOutputs !== undefined ? readRows('options.knownOutputs', options.knownOutputs, p) : [];
  if (known.length > T) throw new ShapeError('options.knownOutputs', `expected at most T = ${T} rows, got ${known.length}`, [T, p]);
  const Mr = M.map((Mj) => Mj.to2DArray()), Nr = N.map((Nj) => Nj.to2DArray());
  const ys: Float64Array[] = [];
  // time s (1-based) -> row: s >= 1 the sequences, s <= 0 the presample (row s + n - 1).
  const at = (seq: Float64Array[] | null, presample: Float64Array[], s: number, w: number): Float64Array | null =>
    s >= 1 ? (seq ? seq[s - 1]! : null) : (s + n - 1 >= 0 ? presample[s + n - 1]! : new Float64Array(w));
  for (let t = 1; t <= T; t++) {
    if (t <= known.length) { ys.push(Float64Array.from(known[t - 1]!)); continue; }
    const y = new Float64Array(p);
    for (let i = 1; i <= n; i++) {
      const yl = t - i >= 1 ? ys[t - i - 1]! : at(null, py, t - i, p)!;
      for (let r = 0; r < p; r++) y[r]! -= a[i]! * yl[r]!;
    }
    for (let j = 0; j <= n; j++) {
      if (m > 0) {
        const xl = at(xs, px, t - j, m)!, Mj = Mr[j]!;
        for (let r = 0; r < p; r++) { let s = 0; for (let c = 0; c < m; c++) s += Mj[r]![c]! * xl[c]!; y[r]! += s; }
      }
      if (j < n) {
        const wl = at(ws, pw, t - j, n);
        if (wl) { const Nj = Nr[j]!; for (let r = 0; r < p; r++) { let s = 0; for (let c = 0; c < n; c++) s += Nj[r]![c]! * wl[c]!; y[r]! += s; } }
      }
      const vl = at(vs, pv, t - j, p);
      if (vl) for (let r = 0; r < p; r++) y[r]! += a[j]! * vl[r]!;
    }
    ys.push(y);
  }
  return ys;
}

/**
 * The presample that starts {@link simulateArmax} at t = 1 exactly on the state-space model from h_0: all zero
 * except w_0 = h_0 and y_0 = C h_0. Why: extend the model backwards by h_s = 0, x_s = w_s = v_s = 0 for s < 0 and
 * x_0 = v_0 = 0, w_0 = h_0; then h_0 = A h_{-1} + B x_0 + w_0 and y_s = C h_s + D x_s + v_s hold for all s <= 0,
 * so the extended sequences satisfy the state-space equations at every time and the ARMAX identity holds for
 * every t >= 1.
 * @param h0 the initial state (default ss.m0)
 */
export function armaxPresample(ss: StateSpace, h0?: ArrayLike<number>): Required<ArmaxPresample> {
  if (!(ss instanceof StateSpace)) throw new InvalidArgumentError('ss', 'expected a StateSpace');
  const { n, m, p } = ss;
  const h = h0 === undefined ? Float64Array.from(ss.m0) : checkVec('h0', h0, n);
  const rows = (w: number): Float64Array[] => Array.from({ length: n }, () => new Float64Array(w));
  const y = rows(p), w = rows(n);
  w[n - 1] = Float64Array.from(h);
  for (let i = 0; i < p; i++) { let s = 0; for (let j = 0; j < n; j++) s += ss.C.get(i, j) * h[j]!; y[n - 1]![i] = s; }
  return { y, x: rows(m), w, v: rows(p) };
}

/**
 * The state-space recursion with given noise sequences (deterministic; {@link StateSpace.simulate} draws them):
 * h_t = A h_{t-1} + B x_t + w_t, y_t = C h_t + D x_t + v_t, t = 1..T, from h_0 (default ss.m0).
 * @param inputs x_1..x_T (T rows of m; or the number T when m = 0)
 * @throws {ShapeError} naming `inputs`, `noises.w`, `noises.v` or `options.h0`
 */
export function simulateStateSpace(ss: StateSpace, inputs: ArrayLike<ArrayLike<number>> | number, noises: NoiseSequences = {},
                                   options: { h0?: ArrayLike<number> } = {}): Simulation {
  if (!(ss instanceof StateSpace)) throw new InvalidArgumentError('ss', 'expected a StateSpace');
  const { n, m, p } = ss;
  const xs = readInputs('inputs', inputs, m);
  const T = xs.length;
  const ws = noises.w !== undefined ? readRows('noises.w', noises.w, n, T) : null;
  const vs = noises.v !== undefined ? readRows('noises.v', noises.v, p, T) : null;
  let h = options.h0 !== undefined ? checkVec('options.h0', options.h0, n) : Float64Array.from(ss.m0);
  const A = ss.A.to2DArray(), B = ss.B.to2DArray(), C = ss.C.to2DArray(), D = ss.D.to2DArray();
  const states: Float64Array[] = [], outputs: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const x = xs[t]!, next = new Float64Array(n), y = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < n; j++) v += A[i]![j]! * h[j]!;
      for (let j = 0; j < m; j++) v += B[i]![j]! * x[j]!;
      next[i] = v + (ws ? ws[t]![i]! : 0);
    }
    h = next;
    for (let i = 0; i < p; i++) {
      let v = 0;
      for (let j = 0; j < n; j++) v += C[i]![j]! * h[j]!;
      for (let j = 0; j < m; j++) v += D[i]![j]! * x[j]!;
      y[i] = v + (vs ? vs[t]![i]! : 0);
    }
    states.push(h); outputs.push(y);
  }
  return { states, outputs };
}
