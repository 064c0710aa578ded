/**
 * The baseline: RNN-tanh, LSTM and GRU forward in plain TypeScript over Float32Arrays, written the way a
 * competent JavaScript developer would write it without SIMD tricks: row-major matrix-vector loops with one
 * accumulator, Math.tanh and 1 / (1 + Math.exp(-x)). One layer, one direction, PyTorch's semantics and weight
 * layout (weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh; gates LSTM i,f,g,o and GRU r,z,n).
 */

export interface PlainWeights {
  weight_ih: Float32Array;
  weight_hh: Float32Array;
  bias_ih: Float32Array;
  bias_hh: Float32Array;
}

export interface PlainResult {
  /** (T, B, H). */
  output: Float32Array;
  /** (B, H). */
  hN: Float32Array;
  /** (B, H), LSTM only. */
  cN?: Float32Array;
}

export type PlainCell = 'RNN_TANH' | 'LSTM' | 'GRU';

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

/** x: (T, B, I) time-major. Initial states are zero. */
export function plainForward(cell: PlainCell, w: PlainWeights, x: Float32Array, T: number, B: number, I: number,
                             H: number): PlainResult {
  if (cell === 'LSTM') return lstm(w, x, T, B, I, H);
  if (cell === 'GRU') return gru(w, x, T, B, I, H);
  return rnnTanh(w, x, T, B, I, H);
}

function rnnTanh(w: PlainWeights, x: Float32Array, T: number, B: number, I: number, H: number): PlainResult {
  const output = new Float32Array(T * B * H);
  const h = new Float32Array(B * H);
  const gi = new Float32Array(H);
  const gh = new Float32Array(H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      matvec(gi, w.weight_ih, x, (t * B + b) * I, H, I, w.bias_ih);
      matvec(gh, w.weight_hh, h, b * H, H, H, w.bias_hh);
      const o = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const v = Math.tanh(gi[j]! + gh[j]!);
        h[b * H + j] = v;
        output[o + j] = v;
      }
    }
  }
  return { output, hN: h };
}

function lstm(w: PlainWeights, x: Float32Array, T: number, B: number, I: number, H: number): PlainResult {
  const output = new Float32Array(T * B * H);
  const h = new Float32Array(B * H);
  const c = new Float32Array(B * H);
  const gi = new Float32Array(4 * H);
  const gh = new Float32Array(4 * H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      matvec(gi, w.weight_ih, x, (t * B + b) * I, 4 * H, I, w.bias_ih);
      matvec(gh, w.weight_hh, h, b * H, 4 * H, H, w.bias_hh);
      const o = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gi[j]! + gh[j]!);
        const f = sigmoid(gi[H + j]! + gh[H + j]!);
        const g = Math.tanh(gi[2 * H + j]! + gh[2 * H + j]!);
        const og = sigmoid(gi[3 * H + j]! + gh[3 * H + j]!);
        const cc = f * c[b * H + j]! + i * g;
        c[b * H + j] = cc;
        const hh = og * Math.tanh(cc);
        h[b * H + j] = hh;
        output[o + j] = hh;
      }
    }
  }
  return { output, hN: h, cN: c };
}

function gru(w: PlainWeights, x: Float32Array, T: number, B: number, I: number, H: number): PlainResult {
  const output = new Float32Array(T * B * H);
  const h = new Float32Array(B * H);
  const gi = new Float32Array(3 * H);
  const gh = new Float32Array(3 * H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      matvec(gi, w.weight_ih, x, (t * B + b) * I, 3 * H, I, w.bias_ih);
      matvec(gh, w.weight_hh, h, b * H, 3 * H, H, w.bias_hh);
      const o = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gi[j]! + gh[j]!);
        const z = sigmoid(gi[H + j]! + gh[H + j]!);
        const n = Math.tanh(gi[2 * H + j]! + r * gh[2 * H + j]!);
        const hh = (1 - z) * n + z * h[b * H + j]!;
        h[b * H + j] = hh;
        output[o + j] = hh;
      }
    }
  }
  return { output, hN: h };
}
