/**
 * A plain float64 TypeScript reference of torch.nn.RNN / LSTM / GRU forward passes, computed from a state dict
 * under PyTorch's names. Written for clarity, not speed: one scalar loop per formula, no packing, no SIMD. It
 * shares no code with the engine, so it can check the engine (forward and, through finite differences,
 * backward); test/reference.test.ts checks it against the PyTorch float64 fixtures to 1e-12.
 *
 * Semantics (PyTorch's):
 * - RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
 * - LSTM: gates i, f, g, o (rows [0,H), [H,2H), [2H,3H), [3H,4H) of the weights);
 *         c' = f*c + i*g, h' = o*tanh(c'), and with projSize P: h' = W_hr (o*tanh(c')), W_hh is (4H, P).
 * - GRU:  gates r, z, n; n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), h' = (1-z)*n + z*h.
 * - Layers: layer l > 0 reads the concatenated outputs [forward, reverse] of layer l-1. h0/hN/c0/cN index is
 *   layer*D + direction.
 * - lengths (padded batch, as PyTorch's packed sequences): at time t row b is active iff t < lengths[b]; an
 *   inactive row keeps its state and outputs 0. The reverse direction walks t = T-1 .. 0, so a row of length
 *   len starts at its own last element len-1 from h0. hN is each row's state after its last active step.
 * - Layouts: input (T, B, I), (B, T, I) with batchFirst, or unbatched (T, I) (batchFirst is then ignored);
 *   output (T, B, D*Hout) / (B, T, D*Hout) / (T, D*Hout); hN (D*L, B, Hout) or (D*L, Hout); cN with H.
 * @module
 */

export type RefMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** Constructor arguments, as torch.nn's (names as in this library). */
export interface RefConfig {
  mode: RefMode;
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  bias?: boolean;
  /** LSTM only; 0 = no projection. */
  projSize?: number;
  /** GRU only; false: n = tanh(W_in x + b_in + W_hn (r*h) + b_hn) (Keras reset_after=False). Default true. */
  resetAfter?: boolean;
}

/** A row-major tensor. */
export interface RefTensor {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** A float64 result tensor. */
export interface RefResult {
  shape: number[];
  data: Float64Array;
}

export interface RefForwardOptions {
  h0?: RefTensor;
  c0?: RefTensor;
  lengths?: ArrayLike<number>;
  /**
   * Called with every pre-activation of an RNN cell at an active step (the argument of tanh / relu), e.g. to
   * check that no ReLU input sits near its kink.
   */
  onPreActivation?: (value: number) => void;
}

export interface RefOutput {
  output: RefResult;
  hN: RefResult;
  /** LSTM only. */
  cN?: RefResult;
}

function gatesOf(mode: RefMode): number {
  return mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** PyTorch's parameter names and shapes, in `state_dict()` order. */
export function referenceParamShapes(cfg: RefConfig): Array<{ name: string; shape: number[] }> {
  const L = cfg.numLayers ?? 1;
  const D = cfg.bidirectional ? 2 : 1;
  const H = cfg.hiddenSize;
  const P = cfg.projSize ?? 0;
  const Hout = P > 0 ? P : H;
  const G = gatesOf(cfg.mode);
  const bias = cfg.bias ?? true;
  const out: Array<{ name: string; shape: number[] }> = [];
  for (let l = 0; l < L; l++) {
    const inSize = l === 0 ? cfg.inputSize : D * Hout;
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      out.push({ name: `weight_ih${sfx}`, shape: [G * H, inSize] });
      out.push({ name: `weight_hh${sfx}`, shape: [G * H, Hout] });
      if (bias) {
        out.push({ name: `bias_ih${sfx}`, shape: [G * H] });
        out.push({ name: `bias_hh${sfx}`, shape: [G * H] });
      }
      if (P > 0) out.push({ name: `weight_hr${sfx}`, shape: [P, H] });
    }
  }
  return out;
}

function getParam(sd: Record<string, RefTensor>, name: string, shape: number[]): ArrayLike<number> {
  const t = sd[name];
  if (!t) throw new Error(`reference: state dict has no ${name}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n || t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
    throw new Error(`reference: ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return t.data;
}

/** y[r] = sum_k W[r, k] * v[k] for r in [r0, r0 + n), W row-major with K columns. */
function matvecRows(W: ArrayLike<number>, K: number, r0: number, n: number, v: ArrayLike<number>, vOff: number,
                    out: Float64Array): void {
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += W[(r0 + r) * K + k]! * v[vOff + k]!;
    out[r] = s;
  }
}

/** Runs torch.nn.{RNN,LSTM,GRU}(**cfg) with the weights of `sd` on `input`, in float64. */
export function referenceForward(cfg: RefConfig, sd: Record<string, RefTensor>, input: RefTensor,
                                 options: RefForwardOptions = {}): RefOutput {
  const mode = cfg.mode;
  const L = cfg.numLayers ?? 1;
  const D = cfg.bidirectional ? 2 : 1;
  const H = cfg.hiddenSize;
  const I = cfg.inputSize;
  const P = cfg.projSize ?? 0;
  if (P > 0 && mode !== 'LSTM') throw new Error('reference: projSize is LSTM only');
  const Hout = P > 0 ? P : H;
  const G = gatesOf(mode);
  const bias = cfg.bias ?? true;
  const batchFirst = cfg.batchFirst ?? false;

  // Input to time-major (T, B, I).
  const batched = input.shape.length === 3;
  if (!batched && input.shape.length !== 2) throw new Error('reference: input must be (T, B, I), (B, T, I) or (T, I)');
  const T = batched && batchFirst ? input.shape[1]! : input.shape[0]!;
  const B = batched ? (batchFirst ? input.shape[0]! : input.shape[1]!) : 1;
  if (input.shape[input.shape.length - 1] !== I) throw new Error('reference: input feature size mismatch');
  let x = new Float64Array(T * B * I);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < I; i++) {
        const src = batched && batchFirst ? (b * T + t) * I + i : (t * B + b) * I + i;
        x[(t * B + b) * I + i] = input.data[src]!;
      }
    }
  }

  const lengths = new Int32Array(B).fill(T);
  if (options.lengths) {
    if (options.lengths.length !== B) throw new Error('reference: lengths must have B entries');
    for (let b = 0; b < B; b++) {
      const v = options.lengths[b]!;
      if (!Number.isInteger(v) || v < 1 || v > T) throw new Error(`reference: bad length ${v}`);
      lengths[b] = v;
    }
  }
  if (options.h0 && options.h0.data.length !== D * L * B * Hout) throw new Error('reference: h0 size mismatch');
  if (options.c0 && options.c0.data.length !== D * L * B * H) throw new Error('reference: c0 size mismatch');
  if (options.c0 && mode !== 'LSTM') throw new Error('reference: c0 is LSTM only');

  const hN = new Float64Array(D * L * B * Hout);
  const cN = new Float64Array(D * L * B * H);
  let inSize = I;
  const W = D * Hout;
  for (let l = 0; l < L; l++) {
    const out = new Float64Array(T * B * W);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const wih = getParam(sd, `weight_ih${sfx}`, [G * H, inSize]);
      const whh = getParam(sd, `weight_hh${sfx}`, [G * H, Hout]);
      const bih = bias ? getParam(sd, `bias_ih${sfx}`, [G * H]) : new Float64Array(G * H);
      const bhh = bias ? getParam(sd, `bias_hh${sfx}`, [G * H]) : new Float64Array(G * H);
      const whr = P > 0 ? getParam(sd, `weight_hr${sfx}`, [P, H]) : undefined;
      const idx = l * D + d;
      // States of every row, (B, Hout) and (B, H).
      const h = new Float64Array(B * Hout);
      const c = new Float64Array(B * H);
      if (options.h0) for (let j = 0; j < B * Hout; j++) h[j] = options.h0.data[idx * B * Hout + j]!;
      if (options.c0) for (let j = 0; j < B * H; j++) c[j] = options.c0.data[idx * B * H + j]!;
      const gi = new Float64Array(G * H);
      const gh = new Float64Array(G * H);
      for (let s = 0; s < T; s++) {
        const t = d === 0 ? s : T - 1 - s;
        for (let b = 0; b < B; b++) {
          if (t >= lengths[b]!) continue; // inactive: state kept, output stays 0
          matvecRows(wih, inSize, 0, G * H, x, (t * B + b) * inSize, gi);
          matvecRows(whh, Hout, 0, G * H, h, b * Hout, gh);
          for (let r = 0; r < G * H; r++) {
            gi[r] = gi[r]! + bih[r]!;
            gh[r] = gh[r]! + bhh[r]!;
          }
          const hNew = new Float64Array(Hout);
          if (mode === 'RNN_TANH' || mode === 'RNN_RELU') {
            for (let j = 0; j < H; j++) {
              const a = gi[j]! + gh[j]!;
              options.onPreActivation?.(a);
              hNew[j] = mode === 'RNN_TANH' ? Math.tanh(a) : Math.max(0, a);
            }
          } else if (mode === 'GRU' && cfg.resetAfter === false) {
            // Reset before the product: the n rows of W_hh act on r*h.
            const rh = new Float64Array(H);
            for (let j = 0; j < H; j++) rh[j] = sigmoid(gi[j]! + gh[j]!) * h[b * Hout + j]!;
            const ghn = new Float64Array(H);
            matvecRows(whh, Hout, 2 * H, H, rh, 0, ghn);
            for (let j = 0; j < H; j++) {
              const z = sigmoid(gi[H + j]! + gh[H + j]!);
              const n = Math.tanh(gi[2 * H + j]! + ghn[j]! + bhh[2 * H + j]!);
              hNew[j] = (1 - z) * n + z * h[b * Hout + j]!;
            }
          } else if (mode === 'GRU') {
            for (let j = 0; j < H; j++) {
              const r = sigmoid(gi[j]! + gh[j]!);
              const z = sigmoid(gi[H + j]! + gh[H + j]!);
              const n = Math.tanh(gi[2 * H + j]! + r * gh[2 * H + j]!);
              hNew[j] = (1 - z) * n + z * h[b * Hout + j]!;
            }
          } else {
            const full = new Float64Array(H);
            for (let j = 0; j < H; j++) {
              const ig = sigmoid(gi[j]! + gh[j]!);
              const fg = sigmoid(gi[H + j]! + gh[H + j]!);
              const gg = Math.tanh(gi[2 * H + j]! + gh[2 * H + j]!);
              const og = sigmoid(gi[3 * H + j]! + gh[3 * H + j]!);
              const cNew = fg * c[b * H + j]! + ig * gg;
              c[b * H + j] = cNew;
              full[j] = og * Math.tanh(cNew);
            }
            if (whr) matvecRows(whr, H, 0, P, full, 0, hNew);
            else hNew.set(full);
          }
          h.set(hNew, b * Hout);
          out.set(hNew, (t * B + b) * W + d * Hout);
        }
      }
      hN.set(h, idx * B * Hout);
      cN.set(c, idx * B * H);
    }
    x = out;
    inSize = W;
  }

  // Output in the caller's layout.
  let output: RefResult;
  if (!batched) {
    output = { shape: [T, W], data: x };
  } else if (batchFirst) {
    const o = new Float64Array(T * B * W);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < W; j++) o[(b * T + t) * W + j] = x[(t * B + b) * W + j]!;
      }
    }
    output = { shape: [B, T, W], data: o };
  } else {
    output = { shape: [T, B, W], data: x };
  }
  const res: RefOutput = {
    output,
    hN: { shape: batched ? [D * L, B, Hout] : [D * L, Hout], data: hN },
  };
  if (mode === 'LSTM') res.cN = { shape: batched ? [D * L, B, H] : [D * L, H], data: cN };
  return res;
}
