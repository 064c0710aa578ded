/**
 * One recurrent cell as a discrete-time dynamical system s_t = f(s_{t-1}, x_t), in float64, with its exact
 * Jacobians. A cell map is one layer and one direction of a model: for layer l > 0 its input x_t is the
 * previous layer's output at step t (both directions concatenated for a bidirectional model, see
 * {@link layerInputs}), and for direction 1 (`_reverse`) the map runs over the reversed sequence, as PyTorch's
 * reverse direction does.
 *
 * The state s is h for RNN and GRU (hiddenSize entries) and [h; c] for LSTM (outputSize + hiddenSize entries:
 * the hidden state first, then the cell state; outputSize = projSize when the LSTM has a projection, else
 * hiddenSize). The equations are PyTorch's (gate orders LSTM i, f, g, o and GRU r, z, n):
 *
 * - RNN: h' = phi(W_ih x + b_ih + W_hh h + b_hh), phi = tanh, relu (or the identity for {@link rnnCellMap}
 *   with `nonlinearity: 'identity'`, a linear RNN).
 * - LSTM: [i, f, g, o] = [sigma, sigma, tanh, sigma](W_ih x + b_ih + W_hh h + b_hh); c' = f * c + i * g;
 *   h' = o * tanh(c'), then h' = W_hr h' with a projection.
 * - GRU: r = sigma(W_ir x + b_ir + W_hr h + b_hr), z = sigma(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (reset after, PyTorch's) or
 *   n = tanh(W_in x + b_in + W_hn (r * h) + b_hn) (reset before), h' = (1 - z) * n + z * h.
 *
 * The derivative of relu at 0 is taken as 0, as PyTorch's autograd does.
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { RecurrentLayer, type CellMode } from '../nn/recurrent.js';
import { Matrix, toMatrix, type MatrixInput } from './linalg.js';

/** Cell kinds of a {@link CellMap}: the model modes plus a linear RNN (`'RNN_LINEAR'`, h' = W_ih x + b + W_hh h). */
export type CellMapMode = CellMode | 'RNN_LINEAR';

/** A state as the analysis functions accept it: the whole state vector s, or its parts h and (LSTM) c. */
export type StateInput = ArrayLike<number> | { readonly h: ArrayLike<number>; readonly c?: ArrayLike<number> };

/**
 * A sequence of T input vectors of size I: rows (`number[][]`, `Float64Array[]`), `{ data, shape: [T, I] }`
 * (row-major), or, when I = 1, a flat array of T numbers.
 */
export type SequenceInput =
  | ArrayLike<ArrayLike<number>>
  | ArrayLike<number>
  | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

/** The float64 parameters of one cell (PyTorch's shapes; absent biases are zeros). */
export interface CellParams {
  /** W_ih, (G*H, I) with G = 1 (RNN), 4 (LSTM), 3 (GRU). */
  readonly weightIh: Matrix;
  /** W_hh, (G*H, outputSize). */
  readonly weightHh: Matrix;
  /** b_ih, G*H entries. */
  readonly biasIh: Float64Array;
  /** b_hh, G*H entries. */
  readonly biasHh: Float64Array;
  /** W_hr, (projSize, H): the LSTM projection, when there is one. */
  readonly weightHr?: Matrix;
}

/** Gate values of one step (each H entries): LSTM i, f, g, o; GRU r, z, n. Empty for RNN. */
export interface CellGates {
  /** LSTM input gate sigma(.). */
  i?: Float64Array;
  /** LSTM forget gate sigma(.). */
  f?: Float64Array;
  /** LSTM cell candidate tanh(.). */
  g?: Float64Array;
  /** LSTM output gate sigma(.). */
  o?: Float64Array;
  /** GRU reset gate. */
  r?: Float64Array;
  /** GRU update gate. */
  z?: Float64Array;
  /** GRU candidate n. */
  n?: Float64Array;
}

/** One step with its intermediate values. */
export interface CellStepDetail {
  /** The new state s' = f(s, x). */
  state: Float64Array;
  /** Its hidden part h'. */
  hidden: Float64Array;
  /** The gate values of this step (see {@link CellGates}). */
  gates: CellGates;
}

/** Jacobians of one step s' = f(s, x). */
export interface CellJacobian {
  /** A = ds'/ds, stateSize x stateSize. */
  A: Matrix;
  /** B = ds'/dx, stateSize x inputSize. */
  B: Matrix;
}

/** One recurrent cell (one layer, one direction) as the map s' = f(s, x); see the module documentation. */
export interface CellMap {
  /** Cell kind. */
  readonly mode: CellMapMode;
  /** Entries of the state s: outputSize (RNN, GRU) or outputSize + hiddenSize (LSTM, s = [h; c]). */
  readonly stateSize: number;
  /** Entries of the input x. */
  readonly inputSize: number;
  /** Units of the cell (H). */
  readonly hiddenSize: number;
  /** Entries of the hidden state h: projSize for a projected LSTM, else hiddenSize. */
  readonly outputSize: number;
  /** GRU: whether the reset gate multiplies W_hn h + b_hn (PyTorch) or h. True for the other modes. */
  readonly resetAfter: boolean;
  /** The float64 parameters the map computes with. */
  readonly params: CellParams;
  /** s' = f(s, x) (x defaults to zeros). */
  step(s: ArrayLike<number>, x?: ArrayLike<number>): Float64Array;
  /** s' = f(s, x) with the gate values of the step. */
  stepDetail(s: ArrayLike<number>, x?: ArrayLike<number>): CellStepDetail;
  /** The exact Jacobians ds'/ds and ds'/dx at (s, x). */
  jacobian(s: ArrayLike<number>, x?: ArrayLike<number>): CellJacobian;
  /** The hidden part h of a state (a copy). */
  hidden(s: ArrayLike<number>): Float64Array;
  /** The cell part c of an LSTM state (a copy); null for RNN and GRU. */
  cell(s: ArrayLike<number>): Float64Array | null;
  /** The state vector from a {@link StateInput} (zeros when undefined), checked. */
  state(s?: StateInput): Float64Array;
  /**
   * The same map with one bias entry replaced: b_ih[index] (which = 'ih') or b_hh[index] (which = 'hh') set to
   * `value`. `index` counts rows of the gate-stacked pre-activation (0..G*H-1).
   */
  withBias(which: 'ih' | 'hh', index: number, value: number): CellMap;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function checkVector(name: string, v: unknown, n: number): ArrayLike<number> {
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
    throw new InvalidArgumentError(name, `expected an array of ${n} numbers, got ${v === null ? 'null' : typeof v}`);
  }
  const a = v as ArrayLike<number>;
  if (a.length !== n) throw new ShapeError(name, `expected ${n} entries, got ${a.length}`, [n], [a.length]);
  for (let i = 0; i < n; i++) {
    if (typeof a[i] !== 'number' || !Number.isFinite(a[i])) {
      throw new InvalidArgumentError(name, `entry ${i} is ${String(a[i])}; expected finite numbers`);
    }
  }
  return a;
}

function toBias(name: string, b: ArrayLike<number> | undefined, n: number): Float64Array {
  return b === undefined ? new Float64Array(n) : Float64Array.from(checkVector(name, b, n));
}

/** Checks that `map` is a CellMap (duck-typed). */
export function isCellMap(map: unknown): map is CellMap {
  return typeof map === 'object' && map !== null && typeof (map as CellMap).step === 'function' &&
    typeof (map as CellMap).jacobian === 'function' && typeof (map as CellMap).stateSize === 'number';
}

class CellMapImpl implements CellMap {
  readonly stateSize: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly outputSize: number;
  private readonly G: number;
  private readonly wih: Float64Array;
  private readonly whh: Float64Array;
  private readonly whr: Float64Array | null;

  constructor(readonly mode: CellMapMode, readonly params: CellParams, readonly resetAfter: boolean) {
    this.G = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
    this.hiddenSize = params.weightIh.rows / this.G;
    this.inputSize = params.weightIh.columns;
    this.outputSize = params.weightHr ? params.weightHr.rows : this.hiddenSize;
    this.stateSize = this.outputSize + (mode === 'LSTM' ? this.hiddenSize : 0);
    this.wih = Float64Array.from(params.weightIh.to1DArray());
    this.whh = Float64Array.from(params.weightHh.to1DArray());
    this.whr = params.weightHr ? Float64Array.from(params.weightHr.to1DArray()) : null;
  }

  private input(x: ArrayLike<number> | undefined): ArrayLike<number> {
    return x === undefined ? new Float64Array(this.inputSize) : checkVector('x', x, this.inputSize);
  }

  /** Pre-activations W_ih x + b_ih and W_hh h + b_hh (kept apart for the GRU). */
  private pre(h: ArrayLike<number>, x: ArrayLike<number>): { gx: Float64Array; gh: Float64Array } {
    const R = this.G * this.hiddenSize, I = this.inputSize, P = this.outputSize;
    const gx = Float64Array.from(this.params.biasIh), gh = Float64Array.from(this.params.biasHh);
    for (let r = 0; r < R; r++) {
      let a = 0, b = 0;
      for (let k = 0; k < I; k++) a += this.wih[r * I + k]! * x[k]!;
      for (let k = 0; k < P; k++) b += this.whh[r * P + k]! * h[k]!;
      gx[r]! += a; gh[r]! += b;
    }
    return { gx, gh };
  }

  stepDetail(s: ArrayLike<number>, x?: ArrayLike<number>): CellStepDetail {
    const st = checkVector('state', s, this.stateSize);
    const xv = this.input(x);
    const H = this.hiddenSize, P = this.outputSize;
    const { gx, gh } = this.pre(st, xv);
    const out = new Float64Array(this.stateSize);
    const gates: CellGates = {};
    if (this.mode === 'LSTM') {
      const i = new Float64Array(H), f = new Float64Array(H), g = new Float64Array(H), o = new Float64Array(H);
      const raw = new Float64Array(H);
      for (let u = 0; u < H; u++) {
        i[u] = sigmoid(gx[u]! + gh[u]!);
        f[u] = sigmoid(gx[H + u]! + gh[H + u]!);
        g[u] = Math.tanh(gx[2 * H + u]! + gh[2 * H + u]!);
        o[u] = sigmoid(gx[3 * H + u]! + gh[3 * H + u]!);
        const c = f[u]! * st[P + u]! + i[u]! * g[u]!;
        out[P + u] = c;
        raw[u] = o[u]! * Math.tanh(c);
      }
      if (this.whr) {
        for (let p = 0; p < P; p++) {
          let a = 0;
          for (let u = 0; u < H; u++) a += this.whr[p * H + u]! * raw[u]!;
          out[p] = a;
        }
      } else out.set(raw, 0);
      Object.assign(gates, { i, f, g, o });
    } else if (this.mode === 'GRU') {
      const r = new Float64Array(H), z = new Float64Array(H), n = new Float64Array(H);
      for (let u = 0; u < H; u++) {
        r[u] = sigmoid(gx[u]! + gh[u]!);
        z[u] = sigmoid(gx[H + u]! + gh[H + u]!);
      }
      if (!this.resetAfter) {
        // gh holds W_hr h + b_hr and W_hz h + b_hz; the n rows need W_hn (r * h) + b_hn.
        for (let u = 0; u < H; u++) {
          let a = this.params.biasHh[2 * H + u]!;
          for (let k = 0; k < H; k++) a += this.whh[(2 * H + u) * H + k]! * r[k]! * st[k]!;
          n[u] = Math.tanh(gx[2 * H + u]! + a);
        }
      } else {
        for (let u = 0; u < H; u++) n[u] = Math.tanh(gx[2 * H + u]! + r[u]! * gh[2 * H + u]!);
      }
      for (let u = 0; u < H; u++) out[u] = (1 - z[u]!) * n[u]! + z[u]! * st[u]!;
      Object.assign(gates, { r, z, n });
    } else {
      for (let u = 0; u < H; u++) {
        const a = gx[u]! + gh[u]!;
        out[u] = this.mode === 'RNN_TANH' ? Math.tanh(a) : this.mode === 'RNN_RELU' ? Math.max(0, a) : a;
      }
    }
    return { state: out, hidden: out.slice(0, P), gates };
  }

  step(s: ArrayLike<number>, x?: ArrayLike<number>): Float64Array {
    return this.stepDetail(s, x).state;
  }

  jacobian(s: ArrayLike<number>, x?: ArrayLike<number>): CellJacobian {
    const st = checkVector('state', s, this.stateSize);
    const xv = this.input(x);
    const H = this.hiddenSize, P = this.outputSize, I = this.inputSize, S = this.stateSize;
    const { gx, gh } = this.pre(st, xv);
    const A: number[][] = Array.from({ length: S }, () => new Array<number>(S).fill(0));
    const B: number[][] = Array.from({ length: S }, () => new Array<number>(I).fill(0));
    const Wx = (r: number, k: number): number => this.wih[r * I + k]!;
    const Wh = (r: number, k: number): number => this.whh[r * P + k]!;
    if (this.mode === 'LSTM') {
      const raw = { h: [] as number[][], x: [] as number[][] };
      const rawC: number[] = [];
      for (let u = 0; u < H; u++) {
        const ai = gx[u]! + gh[u]!, af = gx[H + u]! + gh[H + u]!, ag = gx[2 * H + u]! + gh[2 * H + u]!,
          ao = gx[3 * H + u]! + gh[3 * H + u]!;
        const i = sigmoid(ai), f = sigmoid(af), g = Math.tanh(ag), o = sigmoid(ao);
        const cPrev = st[P + u]!;
        const c = f * cPrev + i * g, tc = Math.tanh(c);
        // dc'/dpre for the i, f, g rows and dh'/dpre for the o row; dh'/dc' = o (1 - tc^2).
        const dci = g * i * (1 - i), dcf = cPrev * f * (1 - f), dcg = i * (1 - g * g);
        const dho = tc * o * (1 - o), dhc = o * (1 - tc * tc);
        const rowH = new Array<number>(P), rowX = new Array<number>(I);
        for (let k = 0; k < P; k++) {
          const dc = dci * Wh(u, k) + dcf * Wh(H + u, k) + dcg * Wh(2 * H + u, k);
          A[P + u]![k] = dc;
          rowH[k] = dho * Wh(3 * H + u, k) + dhc * dc;
        }
        for (let k = 0; k < I; k++) {
          const dc = dci * Wx(u, k) + dcf * Wx(H + u, k) + dcg * Wx(2 * H + u, k);
          B[P + u]![k] = dc;
          rowX[k] = dho * Wx(3 * H + u, k) + dhc * dc;
        }
        A[P + u]![P + u] = f;
        raw.h.push(rowH); raw.x.push(rowX); rawC.push(dhc * f);
      }
      // h' = W_hr raw (or raw itself): rows 0..P-1 of A and B.
      for (let p = 0; p < P; p++) {
        for (let u = 0; u < H; u++) {
          const w = this.whr ? this.whr[p * H + u]! : (p === u ? 1 : 0);
          if (w === 0) continue;
          for (let k = 0; k < P; k++) A[p]![k]! += w * raw.h[u]![k]!;
          for (let k = 0; k < I; k++) B[p]![k]! += w * raw.x[u]![k]!;
          A[p]![P + u]! += w * rawC[u]!;
        }
      }
    } else if (this.mode === 'GRU') {
      const r = new Float64Array(H), z = new Float64Array(H), n = new Float64Array(H), hn = new Float64Array(H);
      for (let u = 0; u < H; u++) {
        r[u] = sigmoid(gx[u]! + gh[u]!);
        z[u] = sigmoid(gx[H + u]! + gh[H + u]!);
      }
      if (this.resetAfter) {
        for (let u = 0; u < H; u++) { hn[u] = gh[2 * H + u]!; n[u] = Math.tanh(gx[2 * H + u]! + r[u]! * hn[u]!); }
      } else {
        for (let u = 0; u < H; u++) {
          let a = this.params.biasHh[2 * H + u]!;
          for (let k = 0; k < H; k++) a += Wh(2 * H + u, k) * r[k]! * st[k]!;
          n[u] = Math.tanh(gx[2 * H + u]! + a);
        }
      }
      // dr/dsrc = diag(r(1-r)) W_r, dz/dsrc = diag(z(1-z)) W_z (src = h with W_hh, x with W_ih).
      const jac = (src: 'h' | 'x', out: number[][], K: number, W: (row: number, k: number) => number): void => {
        const dr: number[][] = [];
        for (let u = 0; u < H; u++) {
          const row = new Array<number>(K);
          for (let k = 0; k < K; k++) row[k] = r[u]! * (1 - r[u]!) * W(u, k);
          dr.push(row);
        }
        for (let u = 0; u < H; u++) {
          const dn1 = 1 - n[u]! * n[u]!, dzs = z[u]! * (1 - z[u]!);
          for (let k = 0; k < K; k++) {
            let dn: number;
            if (this.resetAfter) {
              dn = (src === 'x' ? W(2 * H + u, k) : r[u]! * W(2 * H + u, k)) + hn[u]! * dr[u]![k]!;
            } else {
              // d/dsrc [W_hn (r * h)] = W_hn diag(h) dr (+ W_hn diag(r) when src = h); W_in directly for x.
              let a = src === 'x' ? W(2 * H + u, k) : Wh(2 * H + u, k) * r[k]!;
              for (let m = 0; m < H; m++) a += Wh(2 * H + u, m) * st[m]! * dr[m]![k]!;
              dn = a;
            }
            dn *= dn1;
            const dz = dzs * W(H + u, k);
            out[u]![k] = (1 - z[u]!) * dn + (st[u]! - n[u]!) * dz + (src === 'h' && k === u ? z[u]! : 0);
          }
        }
      };
      jac('h', A, H, Wh);
      jac('x', B, I, Wx);
    } else {
      for (let u = 0; u < H; u++) {
        const a = gx[u]! + gh[u]!;
        const d = this.mode === 'RNN_TANH' ? 1 - Math.tanh(a) ** 2 : this.mode === 'RNN_RELU' ? (a > 0 ? 1 : 0) : 1;
        for (let k = 0; k < P; k++) A[u]![k] = d * Wh(u, k);
        for (let k = 0; k < I; k++) B[u]![k] = d * Wx(u, k);
      }
    }
    return { A: new Matrix(A), B: new Matrix(B) };
  }

  hidden(s: ArrayLike<number>): Float64Array {
    return Float64Array.from(checkVector('state', s, this.stateSize)).slice(0, this.outputSize);
  }

  cell(s: ArrayLike<number>): Float64Array | null {
    const st = Float64Array.from(checkVector('state', s, this.stateSize));
    return this.mode === 'LSTM' ? st.slice(this.outputSize) : null;
  }

  state(s?: StateInput): Float64Array {
    if (s === undefined) return new Float64Array(this.stateSize);
    if (typeof s === 'object' && s !== null && 'h' in s && !('length' in s)) {
      const out = new Float64Array(this.stateSize);
      out.set(checkVector('state.h', s.h, this.outputSize), 0);
      if (this.mode === 'LSTM') {
        if (s.c !== undefined) out.set(checkVector('state.c', s.c, this.hiddenSize), this.outputSize);
      } else if (s.c !== undefined) {
        throw new InvalidArgumentError('state.c', `only an LSTM has a cell state; this is ${this.mode}`);
      }
      return out;
    }
    return Float64Array.from(checkVector('state', s as ArrayLike<number>, this.stateSize));
  }

  withBias(which: 'ih' | 'hh', index: number, value: number): CellMap {
    if (which !== 'ih' && which !== 'hh') throw new InvalidArgumentError('which', `expected 'ih' or 'hh', got ${String(which)}`);
    const R = this.G * this.hiddenSize;
    if (!Number.isInteger(index) || index < 0 || index >= R) {
      throw new InvalidArgumentError('index', `expected an integer in [0, ${R - 1}] (a row of the ${R}-entry bias), got ${index}`);
    }
    if (!Number.isFinite(value)) throw new InvalidArgumentError('value', `expected a finite number, got ${value}`);
    const b = Float64Array.from(which === 'ih' ? this.params.biasIh : this.params.biasHh);
    b[index] = value;
    const params: CellParams = which === 'ih' ? { ...this.params, biasIh: b } : { ...this.params, biasHh: b };
    return new CellMapImpl(this.mode, params, this.resetAfter);
  }
}

/** Plain-matrix description of a cell, for {@link rnnCellMap}, {@link lstmCellMap} and {@link gruCellMap}. */
export interface CellMatrices {
  /** W_ih, (G*H, I). */
  weightIh: MatrixInput;
  /** W_hh, (G*H, H) (LSTM with projection: (4H, P)). */
  weightHh: MatrixInput;
  /** b_ih (G*H entries; default zeros). */
  biasIh?: ArrayLike<number>;
  /** b_hh (G*H entries; default zeros). */
  biasHh?: ArrayLike<number>;
}

function buildParams(G: number, m: CellMatrices, weightHr?: MatrixInput): CellParams {
  if (m === null || typeof m !== 'object') throw new InvalidArgumentError('matrices', 'expected { weightIh, weightHh, ... }');
  const wih = toMatrix('weightIh', m.weightIh);
  if (wih.rows % G !== 0) {
    throw new ShapeError('weightIh', `expected ${G}*H rows (gate-stacked), got ${wih.rows}`);
  }
  const H = wih.rows / G;
  let whr: Matrix | undefined;
  let P = H;
  if (weightHr !== undefined) {
    whr = toMatrix('weightHr', weightHr, { cols: H });
    P = whr.rows;
  }
  const whh = toMatrix('weightHh', m.weightHh, { rows: G * H, cols: P });
  return {
    weightIh: wih, weightHh: whh, biasIh: toBias('biasIh', m.biasIh, G * H), biasHh: toBias('biasHh', m.biasHh, G * H),
    ...(whr ? { weightHr: whr } : {}),
  };
}

/**
 * An Elman RNN cell h' = phi(W_ih x + b_ih + W_hh h + b_hh) from plain matrices.
 * @param m weights (W_ih (H, I), W_hh (H, H)), optional biases, and phi: 'tanh', 'relu' or 'identity' (linear RNN)
 * @throws {ShapeError} when the shapes do not agree
 */
export function rnnCellMap(m: CellMatrices & { nonlinearity: 'tanh' | 'relu' | 'identity' }): CellMap {
  const nl = m?.nonlinearity;
  if (nl !== 'tanh' && nl !== 'relu' && nl !== 'identity') {
    throw new InvalidArgumentError('nonlinearity', `expected 'tanh', 'relu' or 'identity', got ${String(nl)}`);
  }
  const mode: CellMapMode = nl === 'tanh' ? 'RNN_TANH' : nl === 'relu' ? 'RNN_RELU' : 'RNN_LINEAR';
  return new CellMapImpl(mode, buildParams(1, m), true);
}

/**
 * An LSTM cell (PyTorch's equations, gate rows i, f, g, o) from plain matrices; state s = [h; c].
 * @param m W_ih (4H, I), W_hh (4H, P), biases, and optionally the projection W_hr (P, H)
 */
export function lstmCellMap(m: CellMatrices & { weightHr?: MatrixInput }): CellMap {
  return new CellMapImpl('LSTM', buildParams(4, m, m?.weightHr), true);
}

/**
 * A GRU cell (gate rows r, z, n) from plain matrices.
 * @param m W_ih (3H, I), W_hh (3H, H), biases, and resetAfter (default true, PyTorch's form)
 */
export function gruCellMap(m: CellMatrices & { resetAfter?: boolean }): CellMap {
  const ra = m?.resetAfter ?? true;
  if (typeof ra !== 'boolean') throw new InvalidArgumentError('resetAfter', `expected a boolean, got ${String(ra)}`);
  return new CellMapImpl('GRU', buildParams(3, m), ra);
}

/** Which layer and direction of a model. */
export interface LayerSelection {
  /** Layer index, 0..numLayers-1 (default 0). */
  layer?: number;
  /** Direction, 0 (forward) or 1 (reverse, bidirectional models only); default 0. */
  direction?: number;
}

function checkSelection(model: RecurrentLayer, options: LayerSelection): { layer: number; direction: number } {
  const layer = options.layer ?? 0, direction = options.direction ?? 0;
  if (!Number.isInteger(layer) || layer < 0 || layer >= model.numLayers) {
    throw new InvalidArgumentError('options.layer', `expected an integer in [0, ${model.numLayers - 1}], got ${layer}`);
  }
  if (!Number.isInteger(direction) || direction < 0 || direction >= model.numDirections) {
    throw new InvalidArgumentError('options.direction',
      `expected an integer in [0, ${model.numDirections - 1}] (${model.numDirections} direction(s)), got ${direction}`);
  }
  return { layer, direction };
}

/**
 * The cell map of one layer and direction of a model, reading its (float32) weights into float64.
 * @throws {InvalidArgumentError} when `layer` or `direction` is out of range
 */
export function cellMap(model: RecurrentLayer, options: LayerSelection = {}): CellMap {
  if (!(model instanceof RecurrentLayer)) {
    throw new InvalidArgumentError('model', 'expected an RNN, LSTM or GRU layer');
  }
  const { layer, direction } = checkSelection(model, options);
  const sd = model.stateDict();
  const sfx = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
  const mat = (name: string): Matrix => {
    const t = sd[name + sfx]!;
    return toMatrix(name + sfx, { data: t.data, shape: t.shape });
  };
  const vec = (name: string): Float64Array | undefined =>
    sd[name + sfx] ? Float64Array.from(sd[name + sfx]!.data) : undefined;
  const m = { weightIh: mat('weight_ih'), weightHh: mat('weight_hh'), biasIh: vec('bias_ih'), biasHh: vec('bias_hh') };
  if (model.mode === 'LSTM') return lstmCellMap({ ...m, ...(model.projSize ? { weightHr: mat('weight_hr') } : {}) });
  if (model.mode === 'GRU') return gruCellMap({ ...m, resetAfter: (model as { resetAfter?: boolean }).resetAfter !== false });
  return rnnCellMap({ ...m, nonlinearity: model.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
}

/**
 * A model or a cell map as the analysis functions accept it: a model is turned into the cell map of
 * `options.layer` / `options.direction` by {@link cellMap}.
 */
export function resolveCellMap(target: RecurrentLayer | CellMap, options: LayerSelection = {}): CellMap {
  if (target instanceof RecurrentLayer) return cellMap(target, options);
  if (isCellMap(target)) return target;
  throw new InvalidArgumentError('model', 'expected an RNN, LSTM or GRU layer or a CellMap');
}

/**
 * Reads a sequence input as T vectors of `inputSize` entries.
 * @throws {ShapeError} when a row does not have `inputSize` entries or the shape is not [T, inputSize]
 */
export function toSequence(name: string, input: SequenceInput, inputSize: number): Float64Array[] {
  if (input === null || typeof input !== 'object') {
    throw new InvalidArgumentError(name, `expected a (T, ${inputSize}) sequence, got ${input === null ? 'null' : typeof input}`);
  }
  if ('shape' in input && 'data' in input) {
    const s = input.shape;
    if (s.length !== 2 || s[1] !== inputSize || input.data.length !== s[0]! * s[1]!) {
      throw new ShapeError(name, `expected shape [T, ${inputSize}] with T*${inputSize} entries, got shape ` +
        `[${Array.from(s).join(', ')}] with ${input.data.length} entries`, [-1, inputSize], Array.from(s));
    }
    const T = s[0]!;
    const rows: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      rows.push(Float64Array.from(checkVector(`${name}[${t}]`, Array.prototype.slice.call(input.data, t * inputSize, (t + 1) * inputSize) as number[], inputSize)));
    }
    return rows;
  }
  const a = input as ArrayLike<unknown>;
  if (a.length === 0) throw new ShapeError(name, 'expected at least one step, got none');
  if (typeof a[0] === 'number') {
    if (inputSize !== 1) {
      throw new ShapeError(name, `a flat array of numbers is a sequence of scalars, but the input size is ${inputSize}; ` +
        `pass rows of ${inputSize} numbers`, [-1, inputSize], [a.length]);
    }
    const flat = checkVector(name, a as ArrayLike<number>, a.length);
    return Array.from({ length: a.length }, (_, t) => Float64Array.of(flat[t]!));
  }
  return Array.from({ length: a.length }, (_, t) =>
    Float64Array.from(checkVector(`${name}[${t}]`, a[t] as ArrayLike<number>, inputSize)));
}

/** States and hidden states of a run. */
export interface CellRun {
  /** s_1..s_T, the state after each step. */
  states: Float64Array[];
  /** h_1..h_T. */
  hidden: Float64Array[];
  /** The gate values of each step (LSTM, GRU). */
  gates: CellGates[];
}

/** Runs s_t = f(s_{t-1}, x_t) for t = 1..T from s_0 (default zeros). */
export function runCellMap(map: CellMap, inputs: SequenceInput, state0?: StateInput): CellRun {
  const xs = toSequence('input', inputs, map.inputSize);
  let s = map.state(state0);
  const out: CellRun = { states: [], hidden: [], gates: [] };
  for (const x of xs) {
    const d = map.stepDetail(s, x);
    s = d.state;
    out.states.push(d.state); out.hidden.push(d.hidden); out.gates.push(d.gates);
  }
  return out;
}

/**
 * The input sequence that layer `layer` of a model sees for the model input `input` (T, inputSize): the input
 * itself for layer 0, else the previous layer's outputs computed in float64 by the cell maps from zero initial
 * states, both directions concatenated [forward; reverse] for a bidirectional model (the reverse direction
 * runs over the reversed sequence and its outputs are put back in time order), as PyTorch stacks layers.
 */
export function layerInputs(model: RecurrentLayer, input: SequenceInput, layer: number): Float64Array[] {
  checkSelection(model, { layer });
  let xs = toSequence('input', input, model.inputSize);
  for (let l = 0; l < layer; l++) {
    const T = xs.length;
    const outs: Float64Array[][] = [];
    for (let d = 0; d < model.numDirections; d++) {
      const map = cellMap(model, { layer: l, direction: d });
      const seq = d === 1 ? xs.slice().reverse() : xs;
      const h = runCellMap(map, seq).hidden;
      outs.push(d === 1 ? h.reverse() : h);
    }
    const P = model.outputSize;
    xs = Array.from({ length: T }, (_, t) => {
      const v = new Float64Array(P * model.numDirections);
      for (let d = 0; d < outs.length; d++) v.set(outs[d]![t]!, d * P);
      return v;
    });
  }
  return xs;
}

/**
 * The cell map of `options.layer`/`options.direction` of a model (or the given cell map) with the input
 * sequence that cell sees, in the cell's own time order (reversed for direction 1).
 */
export function cellAndInputs(target: RecurrentLayer | CellMap, input: SequenceInput,
                              options: LayerSelection = {}): { map: CellMap; inputs: Float64Array[] } {
  if (target instanceof RecurrentLayer) {
    const { layer, direction } = checkSelection(target, options);
    const map = cellMap(target, { layer, direction });
    const xs = layerInputs(target, input, layer);
    return { map, inputs: direction === 1 ? xs.reverse() : xs };
  }
  const map = resolveCellMap(target);
  return { map, inputs: toSequence('input', input, map.inputSize) };
}
