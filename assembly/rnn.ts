// Elman RNN exactly as torch.nn.RNN defines it: h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
//
// One gate, so panels hold 16 consecutive hidden units (U = 16, NR = 16) for four accumulators per tile row.

import { madd } from './simd';
import { vact, vtanh_fast, ACT_TANH } from './activations';
import { gemm_forward, panel_forward } from './gemm';
import { chunkSteps, slotOf, loadState, storeState, holdInactive, storeOutput, isActive } from './seq';
import { ACT_RELU } from './activations';
import { pack_transpose } from './pack';
import { zero_f32 } from './simd';
import { recordNorm, addUpstream, prepareNext, weightGrads, weightGradScratch, inputGrad } from './bptt';
import {
  FWD_DOT_EXT, FWD_GEMV, FWD_ODD, FWD_TRAIN, gemvFits, useGemv, gemvFloats, gemv_pack, gemv_forward, repackDot,
  dotExternal,
} from './gemv';

export const RNN_U: i32 = 16;
export const RNN_NR: i32 = 16;

/** The cell's activation: tanh in the fast form the LSTM and GRU cells use (activations.ts), relu exact. */
// @ts-ignore: decorator
@inline function actCell(x: v128, act: i32): v128 {
  return act == ACT_TANH ? vtanh_fast(x) : vact(x, act);
}

/**
 * One time step for all B rows: gx (B, ld), the input projection, is overwritten with the pre-activations (only
 * where a row is left to panel_forward). Rows go two at a time through panel16's register tile (same loads, same
 * order of multiply-adds: bit for bit its sums), and the activation runs on the accumulators right after.
 */
function step(hn: usize, gx: usize, hp: usize, ld: i32, W: usize, K: i32, B: i32, nP: i32, act: i32): void {
  const row = <usize>ld << 2;
  for (let p = 0; p < nP; p++) {
    const off = <usize>(p * 16) << 2;
    const Wp = W + (<usize>(p * K * 16) << 2);
    let b = 0;
    for (; b + 2 <= B; b += 2) {
      const g0 = gx + <usize>b * row + off, g1 = g0 + row;
      const a0 = hp + <usize>b * row, a1 = a0 + row;
      let x0 = v128.load(g0), x1 = v128.load(g0, 16), x2 = v128.load(g0, 32), x3 = v128.load(g0, 48);
      let y0 = v128.load(g1), y1 = v128.load(g1, 16), y2 = v128.load(g1, 32), y3 = v128.load(g1, 48);
      let w = Wp;
      let pa = a0, pb = a1;
      const aEnd = a0 + (<usize>K << 2);
      while (pa < aEnd) {
        const s0 = v128.load32_splat(pa);
        const s1 = v128.load32_splat(pb);
        const w0 = v128.load(w, 0), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
        x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2); x3 = madd(s0, w3, x3);
        y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2); y3 = madd(s1, w3, y3);
        w += 64; pa += 4; pb += 4;
      }
      const h0 = hn + <usize>b * row + off, h1 = h0 + row;
      v128.store(h0, actCell(x0, act)); v128.store(h0, actCell(x1, act), 16);
      v128.store(h0, actCell(x2, act), 32); v128.store(h0, actCell(x3, act), 48);
      v128.store(h1, actCell(y0, act)); v128.store(h1, actCell(y1, act), 16);
      v128.store(h1, actCell(y2, act), 32); v128.store(h1, actCell(y3, act), 48);
    }
    if (b < B) {
      const g = gx + <usize>b * row + off, h = hn + <usize>b * row + off;
      panel_forward(g, row, g, row, 4, 0, 0, hp + <usize>b * row, row, Wp, 1, K, 16);
      v128.store(h, actCell(v128.load(g), act)); v128.store(h, actCell(v128.load(g, 16), act), 16);
      v128.store(h, actCell(v128.load(g, 32), act), 32); v128.store(h, actCell(v128.load(g, 48), act), 48);
    }
  }
}

/** step for batch 1 with W_hh in gemv.ts' dot layout D: the whole product first, then the activation. */
function stepGemv(hn: usize, gx: usize, hp: usize, D: usize, K: i32, Np: i32, act: i32, rev: i32): void {
  gemv_forward(gx, gx, hp, D, Np, K, rev);
  for (let o: usize = 0; o < (<usize>Np << 2); o += 16) v128.store(hn + o, actCell(v128.load(gx + o), act));
}

// @ts-ignore: decorator
@inline function panels(H: i32): i32 { return (H + 15) >> 4; }

/**
 * Bytes of scratch rnn_forward needs with the same flags (gemv.ts): FWD_TRAIN keeps every state for
 * rnn_backward; FWD_GEMV adds room for the batch-1 layout of W_hh.
 */
export function rnn_scratch_bytes(T: i32, B: i32, H: i32, train: i32): usize {
  const tr = (train & FWD_TRAIN) != 0;
  const Np = panels(H) * 16;
  const steps = tr ? T : chunkSteps(T, B * Np);
  const slots = tr ? T + 1 : 2;
  const dot = useGemv(train, T, B, Np, H) && !dotExternal(train) ? <usize>gemvFloats(Np, H) : 0;
  return (<usize>steps * B * Np + <usize>slots * B * Np + dot) << 2;
}

/** Bytes of the batch-1 layout of W_hh that rnn_forward with FWD_GEMV | FWD_DOT_EXT takes (as lstm_dot_bytes). */
export function rnn_dot_bytes(T: i32, B: i32, H: i32): usize {
  const Np = panels(H) * 16;
  return useGemv(FWD_GEMV | FWD_DOT_EXT, T, B, Np, H) ? <usize>gemvFloats(Np, H) << 2 : 0;
}

/**
 * One direction of one RNN layer over a whole sequence; act is ACT_TANH or ACT_RELU (activations.ts); train: the
 * forward flags of gemv.ts, as given to rnn_scratch_bytes.
 */
export function rnn_forward(out: usize, ldo: i32, hN: usize, x: usize, ldx: i32, h0: usize,
                            Wih: usize, Whh: usize, bih: usize, bhh: usize, lengths: usize,
                            scratch: usize, dot: usize, T: i32, B: i32, I: i32, H: i32, act: i32, reverse: i32,
                            train: i32): void {
  const tr = (train & FWD_TRAIN) != 0;
  const odd = (train & FWD_ODD) != 0 ? 1 : 0;
  const rev = reverse != 0;
  const nP = panels(H), Np = nP * 16;
  const chunk = tr ? T : chunkSteps(T, B * Np);
  const gx = scratch;
  const hs = gx + (<usize>chunk * B * Np << 2);
  const hSlot = <usize>(B * Np) << 2;
  const gv = useGemv(train, T, B, Np, H);
  const D = dotExternal(train) ? dot : hs + <usize>(tr ? T + 1 : 2) * hSlot;
  if (gv && repackDot(train)) gemv_pack(D, Whh, H, nP, 16);
  const rowX = <usize>(B * ldx) << 2, rowG = <usize>(B * Np) << 2, rowO = <usize>(B * ldo) << 2;

  loadState(hs + <usize>slotOf(0, tr, rev, T) * hSlot, Np, h0, H, B);
  let s = 0;
  for (let done = 0; done < T; done += chunk) {
    const n = min(chunk, T - done);
    const t0 = rev ? T - done - n : done;
    const gxBase = tr ? gx + <usize>t0 * rowG : gx;
    gemm_forward(gxBase, Np, x + <usize>t0 * rowX, ldx, Wih, bih, bhh, n * B, I, nP, 16, 0);
    for (let j = 0; j < n; j++) {
      const t = rev ? t0 + n - 1 - j : t0 + j;
      const hp = hs + <usize>slotOf(s, tr, rev, T) * hSlot, hn = hs + <usize>slotOf(s + 1, tr, rev, T) * hSlot;
      if (gv) stepGemv(hn, gxBase + <usize>(t - t0) * rowG, hp, D, H, Np, act, (s + odd) & 1);
      else step(hn, gxBase + <usize>(t - t0) * rowG, hp, Np, Whh, H, B, nP, act);
      holdInactive(hn, hp, Np, lengths, t, B);
      storeOutput(out + <usize>t * rowO, ldo, hn, Np, H, lengths, t, B);
      s++;
    }
  }
  storeState(hN, hs + <usize>slotOf(T, tr, rev, T) * hSlot, Np, H, B);
}

/** Bytes of scratch rnn_backward needs besides the forward pass's training scratch. */
export function rnn_backward_scratch_bytes(T: i32, B: i32, I: i32, H: i32): usize {
  const Np = panels(H) * 16, Iq = ((I + 15) >> 4) << 4, R = T * B;
  const dot = gemvFits(T, B, Np, Np) ? <usize>gemvFloats(Np, Np) : 0; // W_hh^T in gemv.ts' layout
  return (<usize>Np * Np + <usize>Iq * Np + <usize>2 * B * Np + weightGradScratch(max(H, I), R) +
    <usize>R * Iq + dot) << 2;
}

/**
 * Backpropagation through time for one direction of one RNN layer, after rnn_forward(..., train = 1); arguments
 * as gru_backward plus the activation. dA = dh * act'(h) needs only the saved states (1 - h^2 for tanh; h > 0
 * for ReLU, whose derivative at 0 PyTorch takes as 0).
 */
export function rnn_backward(dX: usize, lddx: i32, accDx: i32, dh0: usize,
                             dWih: usize, dWhh: usize, dbih: usize, dbhh: usize,
                             dOut: usize, ldo: i32, dhN: usize,
                             x: usize, ldx: i32, Wih: usize, Whh: usize, lengths: usize,
                             scratch: usize, bscratch: usize, T: i32, B: i32, I: i32, H: i32, act: i32,
                             reverse: i32, dhnorm: usize): void {
  const rev = reverse != 0;
  const Np = panels(H) * 16, Iq = ((I + 15) >> 4) << 4, R = T * B;
  const gx = scratch;
  const hs = gx + (<usize>T * B * Np << 2);
  const hSlot = <usize>(B * Np) << 2;
  const WhhT = bscratch;
  const WihT = WhhT + (<usize>Np * Np << 2);
  const dhA = WihT + (<usize>Iq * Np << 2);
  const dhB = dhA + (<usize>B * Np << 2);
  const At = dhB + (<usize>B * Np << 2);
  const dXt = At + (weightGradScratch(max(H, I), R) << 2);
  const DT = dXt + (<usize>R * Iq << 2);
  const rowG = <usize>(B * Np) << 2, rowO = <usize>(B * ldo) << 2;
  const relu = act == ACT_RELU;
  // Batch 1 over enough steps: dh_{t-1} += dA W_hh as dot products (gemv.ts), as the forward does.
  const gv = gemvFits(T, B, Np, Np);

  pack_transpose(WhhT, Whh, H, Np >> 4, 16);
  if (gv) gemv_pack(DT, WhhT, Np, Np >> 4, 16);
  pack_transpose(WihT, Wih, I, Np >> 4, 16);
  loadState(dhA, Np, dhN, H, B);
  zero_f32(dhB, B * Np);
  let cur = dhA, nxt = dhB;
  for (let j = T - 1; j >= 0; j--) {
    const t = rev ? T - 1 - j : j;
    addUpstream(cur, Np, dOut ? dOut + <usize>t * rowO : 0, ldo, H, lengths, t, B);
    recordNorm(dhnorm, t, cur, Np, H, B);
    const g = gx + <usize>t * rowG;
    const hAfter = hs + <usize>(rev ? t : t + 1) * hSlot;
    for (let b = 0; b < B; b++) {
      const gb = g + (<usize>(b * Np) << 2);
      if (!isActive(lengths, b, t)) { zero_f32(gb, Np); continue; }
      const hb = hAfter + (<usize>(b * Np) << 2), db = cur + (<usize>(b * Np) << 2);
      for (let c = 0; c < Np; c += 4) {
        const u = <usize>c << 2;
        const h = v128.load(hb + u), dh = v128.load(db + u);
        const d = relu
          ? v128.and(dh, f32x4.gt(h, f32x4.splat(0)))
          : f32x4.mul(dh, f32x4.sub(f32x4.splat(1), f32x4.mul(h, h)));
        v128.store(gb + u, d);
      }
    }
    prepareNext(nxt, cur, Np, lengths, t, B);
    if (gv) gemv_forward(nxt, nxt, g, DT, Np, Np, j & 1);
    else gemm_forward(nxt, Np, g, Np, WhhT, 0, 0, B, Np, Np >> 4, 16, 1);
    const sw = cur; cur = nxt; nxt = sw;
  }
  storeState(dh0, cur, Np, H, B);
  const hPrev = hs + (rev ? hSlot : 0);
  weightGrads(dWhh, hPrev, Np, H, dWih, x, ldx, I, dbih, dbhh, gx, Np, R, Np >> 4, 16, At);
  inputGrad(dX, lddx, accDx, gx, Np, WihT, R, I, dXt);
}
