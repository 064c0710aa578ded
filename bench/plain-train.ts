/**
 * The training baseline of bench/train: one step of RNN-tanh, LSTM or GRU training in plain TypeScript over
 * Float32Arrays, written the way a competent JavaScript developer would write it without SIMD tricks. Forward as in
 * plain.ts (row-major matrix-vector loops with one accumulator, Math.tanh, 1 / (1 + Math.exp(-x))) keeping the
 * activations; backpropagation through time one time step and one batch row at a time (pre-activation gradients,
 * outer-product accumulation of the weight gradients, transposed matrix-vector products for dh_{t-1} and dx_t);
 * Adam with torch.optim.Adam's update. One layer, one direction, zero initial states, PyTorch's semantics and
 * weight layout (weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh; gates LSTM i,f,g,o and GRU r,z,n with
 * the reset gate applied to W_hn h + b_hn).
 */
import type { PlainCell, PlainWeights } from './plain.js';

/** Weights, their gradients and Adam's moments, all in PyTorch's layout. */
export interface PlainTrainState {
  cell: PlainCell;
  I: number;
  H: number;
  /** Rows of the weight matrices: gates * H. */
  GH: number;
  w: PlainWeights;
  g: PlainWeights;
  m: PlainWeights;
  v: PlainWeights;
  step: number;
}

/** What the forward pass keeps for the backward pass. */
export interface PlainCache {
  T: number;
  B: number;
  x: Float32Array;
  /** Hidden states h_0 .. h_T, (T + 1, B, H); the output is hs[1 ..]. */
  hs: Float32Array;
  /** LSTM cell states c_0 .. c_T, (T + 1, B, H). */
  cs?: Float32Array;
  /** Gate activations (T, B, G*H): LSTM i, f, g, o; GRU r, z, n; RNN h (unused). */
  gates: Float32Array;
  /** GRU: W_hn h_{t-1} + b_hn, (T, B, H). */
  ghn?: Float32Array;
  /** (T, B, H), a view of hs. */
  output: Float32Array;
}

const KEYS = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'] as const;

function gatesOf(cell: PlainCell): number {
  return cell === 'LSTM' ? 4 : cell === 'GRU' ? 3 : 1;
}

function zerosLike(w: PlainWeights): PlainWeights {
  return {
    weight_ih: new Float32Array(w.weight_ih.length), weight_hh: new Float32Array(w.weight_hh.length),
    bias_ih: new Float32Array(w.bias_ih.length), bias_hh: new Float32Array(w.bias_hh.length),
  };
}

/** A training state from (copies of) the given weights. */
export function plainTrainState(cell: PlainCell, w: PlainWeights, I: number, H: number): PlainTrainState {
  const copy: PlainWeights = {
    weight_ih: w.weight_ih.slice(), weight_hh: w.weight_hh.slice(), bias_ih: w.bias_ih.slice(),
    bias_hh: w.bias_hh.slice(),
  };
  return { cell, I, H, GH: gatesOf(cell) * H, w: copy, g: zerosLike(copy), m: zerosLike(copy), v: zerosLike(copy),
    step: 0 };
}

export function plainZeroGrad(s: PlainTrainState): void {
  for (const k of KEYS) s.g[k].fill(0);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** out[r] = bias[r] + W[r, :] . v[vo : vo + K] for r < rows. */
function matvec(out: Float32Array, W: Float32Array, v: Float32Array, vo: number, rows: number, K: number,
                bias: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    let s = bias[r]!;
    const wo = r * K;
    for (let k = 0; k < K; k++) s += W[wo + k]! * v[vo + k]!;
    out[r] = s;
  }
}

/** out[o + k] (+)= sum_r W[r, k] * d[r]: the transposed product, walking W row by row. */
function matvecT(out: Float32Array, o: number, W: Float32Array, d: Float32Array, rows: number, K: number,
                 accumulate: boolean): void {
  if (!accumulate) out.fill(0, o, o + K);
  for (let r = 0; r < rows; r++) {
    const dr = d[r]!;
    const wo = r * K;
    for (let k = 0; k < K; k++) out[o + k] = out[o + k]! + W[wo + k]! * dr;
  }
}

/** dW[r, k] += d[r] * v[vo + k]; db[r] += d[r]. */
function outer(dW: Float32Array, db: Float32Array, d: Float32Array, v: Float32Array, vo: number, rows: number,
               K: number): void {
  for (let r = 0; r < rows; r++) {
    const dr = d[r]!;
    db[r] = db[r]! + dr;
    const wo = r * K;
    for (let k = 0; k < K; k++) dW[wo + k] = dW[wo + k]! + dr * v[vo + k]!;
  }
}

/** Forward over x (T, B, I), time-major, keeping the activations. */
export function plainForwardTrain(s: PlainTrainState, x: Float32Array, T: number, B: number): PlainCache {
  const { I, H, GH, w } = s;
  const hs = new Float32Array((T + 1) * B * H);
  const gates = new Float32Array(T * B * GH);
  const gi = new Float32Array(GH);
  const gh = new Float32Array(GH);
  const cache: PlainCache = { T, B, x, hs, gates, output: hs.subarray(B * H) };
  const cs = s.cell === 'LSTM' ? (cache.cs = new Float32Array((T + 1) * B * H)) : undefined;
  const ghn = s.cell === 'GRU' ? (cache.ghn = new Float32Array(T * B * H)) : undefined;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const prev = (t * B + b) * H; // h_{t-1} (and c_{t-1}) of row b
      const next = prev + B * H; // h_t
      const go = (t * B + b) * GH;
      matvec(gi, w.weight_ih, x, (t * B + b) * I, GH, I, w.bias_ih);
      matvec(gh, w.weight_hh, hs, prev, GH, H, w.bias_hh);
      if (s.cell === 'LSTM') {
        for (let j = 0; j < H; j++) {
          const i = sigmoid(gi[j]! + gh[j]!);
          const f = sigmoid(gi[H + j]! + gh[H + j]!);
          const g = Math.tanh(gi[2 * H + j]! + gh[2 * H + j]!);
          const o = sigmoid(gi[3 * H + j]! + gh[3 * H + j]!);
          gates[go + j] = i;
          gates[go + H + j] = f;
          gates[go + 2 * H + j] = g;
          gates[go + 3 * H + j] = o;
          const c = f * cs![prev + j]! + i * g;
          cs![next + j] = c;
          hs[next + j] = o * Math.tanh(c);
        }
      } else if (s.cell === 'GRU') {
        const no = (t * B + b) * H;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(gi[j]! + gh[j]!);
          const z = sigmoid(gi[H + j]! + gh[H + j]!);
          const hn = gh[2 * H + j]!;
          const n = Math.tanh(gi[2 * H + j]! + r * hn);
          gates[go + j] = r;
          gates[go + H + j] = z;
          gates[go + 2 * H + j] = n;
          ghn![no + j] = hn;
          hs[next + j] = (1 - z) * n + z * hs[prev + j]!;
        }
      } else {
        for (let j = 0; j < H; j++) hs[next + j] = Math.tanh(gi[j]! + gh[j]!);
      }
    }
  }
  return cache;
}

/**
 * Backpropagation through time from dOut = dL/d(output) (T, B, H); dL/dhN = 0. Adds the parameter gradients to
 * s.g and returns dL/dx (T, B, I).
 */
export function plainBackward(s: PlainTrainState, c: PlainCache, dOut: Float32Array): Float32Array {
  const { I, H, GH, w, g } = s;
  const { T, B, x, hs, gates } = c;
  const dX = new Float32Array(T * B * I);
  let dh = new Float32Array(B * H); // dL/dh_t, all rows
  let dhPrev = new Float32Array(B * H);
  const dc = new Float32Array(B * H); // LSTM: dL/dc_t, updated in place to dL/dc_{t-1}
  const da = new Float32Array(GH); // pre-activation gradients, input side
  const dah = new Float32Array(GH); // hidden side (differs from da for GRU's n gate)
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const hb = b * H;
      const prev = (t * B + b) * H;
      const next = prev + B * H;
      const go = (t * B + b) * GH;
      if (s.cell === 'LSTM') {
        const cs = c.cs!;
        for (let j = 0; j < H; j++) {
          const d = dh[hb + j]! + dOut[prev + j]!;
          const i = gates[go + j]!, f = gates[go + H + j]!, gg = gates[go + 2 * H + j]!, o = gates[go + 3 * H + j]!;
          const tc = Math.tanh(cs[next + j]!);
          const dcj = dc[hb + j]! + d * o * (1 - tc * tc);
          dc[hb + j] = dcj * f;
          da[j] = dcj * gg * i * (1 - i);
          da[H + j] = dcj * cs[prev + j]! * f * (1 - f);
          da[2 * H + j] = dcj * i * (1 - gg * gg);
          da[3 * H + j] = d * tc * o * (1 - o);
        }
        outer(g.weight_ih, g.bias_ih, da, x, (t * B + b) * I, GH, I);
        outer(g.weight_hh, g.bias_hh, da, hs, prev, GH, H);
        matvecT(dhPrev, hb, w.weight_hh, da, GH, H, false);
        matvecT(dX, (t * B + b) * I, w.weight_ih, da, GH, I, false);
      } else if (s.cell === 'GRU') {
        const ghn = c.ghn!;
        const no = (t * B + b) * H;
        for (let j = 0; j < H; j++) {
          const d = dh[hb + j]! + dOut[prev + j]!;
          const r = gates[go + j]!, z = gates[go + H + j]!, n = gates[go + 2 * H + j]!;
          const hp = hs[prev + j]!;
          const dan = d * (1 - z) * (1 - n * n);
          const dar = dan * ghn[no + j]! * r * (1 - r);
          const daz = d * (hp - n) * z * (1 - z);
          da[j] = dar;
          da[H + j] = daz;
          da[2 * H + j] = dan;
          dah[j] = dar;
          dah[H + j] = daz;
          dah[2 * H + j] = dan * r;
          dhPrev[hb + j] = d * z;
        }
        outer(g.weight_ih, g.bias_ih, da, x, (t * B + b) * I, GH, I);
        outer(g.weight_hh, g.bias_hh, dah, hs, prev, GH, H);
        matvecT(dhPrev, hb, w.weight_hh, dah, GH, H, true);
        matvecT(dX, (t * B + b) * I, w.weight_ih, da, GH, I, false);
      } else {
        for (let j = 0; j < H; j++) {
          const h = hs[next + j]!;
          da[j] = (dh[hb + j]! + dOut[prev + j]!) * (1 - h * h);
        }
        outer(g.weight_ih, g.bias_ih, da, x, (t * B + b) * I, H, I);
        outer(g.weight_hh, g.bias_hh, da, hs, prev, H, H);
        matvecT(dhPrev, hb, w.weight_hh, da, H, H, false);
        matvecT(dX, (t * B + b) * I, w.weight_ih, da, H, I, false);
      }
    }
    const sw = dh;
    dh = dhPrev;
    dhPrev = sw;
  }
  return dX;
}

/** torch.optim.Adam (no weight decay, no amsgrad), one step over every parameter. */
export function plainAdamStep(s: PlainTrainState, lr: number, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): void {
  s.step++;
  const bc1 = 1 - beta1 ** s.step;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** s.step);
  const stepSize = lr / bc1;
  for (const k of KEYS) {
    const p = s.w[k], gr = s.g[k], m = s.m[k], v = s.v[k];
    for (let i = 0; i < p.length; i++) {
      const gi = gr[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * gi;
      const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i]! - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
  }
}
