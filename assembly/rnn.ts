// Elman RNN exactly as torch.nn.RNN defines it: h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
//
// One gate, so panels hold 16 consecutive hidden units (U = 16, NR = 16) for four accumulators per tile row.

import { madd } from './simd';
import { vact } from './activations';
import { gemm_forward } from './gemm';
import { chunkSteps, slotOf, loadState, storeState, holdInactive, storeOutput, isActive } from './seq';
import { ACT_RELU } from './activations';
import { pack_transpose } from './pack';
import { colsum_forward, zero_f32 } from './simd';
import { recordNorm, addUpstream, prepareNext, weightGrad, inputGrad } from './bptt';

export const RNN_U: i32 = 16;
export const RNN_NR: i32 = 16;

function step(hn: usize, gx: usize, hp: usize, ld: i32, W: usize, K: i32, B: i32, nP: i32, act: i32): void {
  const row = <usize>ld << 2;
  for (let p = 0; p < nP; p++) {
    const Wp = W + (<usize>(p * K * 16) << 2);
    const off = <usize>(p * 16) << 2;
    let b = 0;
    for (; b + 2 <= B; b += 2) {
      const g0 = gx + <usize>b * row + off, g1 = g0 + row;
      const a0 = hp + <usize>b * row, a1 = a0 + row;
      let x0 = v128.load(g0), x1 = v128.load(g0, 16), x2 = v128.load(g0, 32), x3 = v128.load(g0, 48);
      let y0 = v128.load(g1), y1 = v128.load(g1, 16), y2 = v128.load(g1, 32), y3 = v128.load(g1, 48);
      let w = Wp;
      for (let k = 0; k < K; k++) {
        const s0 = v128.load32_splat(a0 + (<usize>k << 2));
        const s1 = v128.load32_splat(a1 + (<usize>k << 2));
        const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
        x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2); x3 = madd(s0, w3, x3);
        y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2); y3 = madd(s1, w3, y3);
        w += 64;
      }
      const h0 = hn + <usize>b * row + off, h1 = h0 + row;
      v128.store(h0, vact(x0, act)); v128.store(h0, vact(x1, act), 16);
      v128.store(h0, vact(x2, act), 32); v128.store(h0, vact(x3, act), 48);
      v128.store(h1, vact(y0, act)); v128.store(h1, vact(y1, act), 16);
      v128.store(h1, vact(y2, act), 32); v128.store(h1, vact(y3, act), 48);
    }
    if (b < B) {
      const g0 = gx + <usize>b * row + off;
      const a0 = hp + <usize>b * row;
      let x0 = v128.load(g0), x1 = v128.load(g0, 16), x2 = v128.load(g0, 32), x3 = v128.load(g0, 48);
      let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0), y3 = f32x4.splat(0);
      let w = Wp;
      let k = 0;
      for (; k + 2 <= K; k += 2) {
        const s0 = v128.load32_splat(a0 + (<usize>k << 2));
        const s1 = v128.load32_splat(a0 + (<usize>k << 2), 4);
        x0 = madd(s0, v128.load(w), x0); x1 = madd(s0, v128.load(w, 16), x1);
        x2 = madd(s0, v128.load(w, 32), x2); x3 = madd(s0, v128.load(w, 48), x3);
        y0 = madd(s1, v128.load(w, 64), y0); y1 = madd(s1, v128.load(w, 80), y1);
        y2 = madd(s1, v128.load(w, 96), y2); y3 = madd(s1, v128.load(w, 112), y3);
        w += 128;
      }
      if (k < K) {
        const s0 = v128.load32_splat(a0 + (<usize>k << 2));
        x0 = madd(s0, v128.load(w), x0); x1 = madd(s0, v128.load(w, 16), x1);
        x2 = madd(s0, v128.load(w, 32), x2); x3 = madd(s0, v128.load(w, 48), x3);
      }
      const h0 = hn + <usize>b * row + off;
      v128.store(h0, vact(f32x4.add(x0, y0), act)); v128.store(h0, vact(f32x4.add(x1, y1), act), 16);
      v128.store(h0, vact(f32x4.add(x2, y2), act), 32); v128.store(h0, vact(f32x4.add(x3, y3), act), 48);
    }
  }
}

// @ts-ignore: decorator
@inline function panels(H: i32): i32 { return (H + 15) >> 4; }

/** Bytes of scratch rnn_forward needs; train != 0 keeps every state for rnn_backward. */
export function rnn_scratch_bytes(T: i32, B: i32, H: i32, train: i32): usize {
  const Np = panels(H) * 16;
  const steps = train ? T : chunkSteps(T, B * Np);
  const slots = train ? T + 1 : 2;
  return (<usize>steps * B * Np + <usize>slots * B * Np) << 2;
}

/** One direction of one RNN layer over a whole sequence; act is ACT_TANH or ACT_RELU (activations.ts). */
export function rnn_forward(out: usize, ldo: i32, hN: usize, x: usize, ldx: i32, h0: usize,
                            Wih: usize, Whh: usize, bih: usize, bhh: usize, lengths: usize,
                            scratch: usize, T: i32, B: i32, I: i32, H: i32, act: i32, reverse: i32,
                            train: i32): void {
  const tr = train != 0;
  const rev = reverse != 0;
  const nP = panels(H), Np = nP * 16;
  const chunk = tr ? T : chunkSteps(T, B * Np);
  const gx = scratch;
  const hs = gx + (<usize>chunk * B * Np << 2);
  const hSlot = <usize>(B * Np) << 2;
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
      step(hn, gxBase + <usize>(t - t0) * rowG, hp, Np, Whh, H, B, nP, act);
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
  return (<usize>Np * Np + <usize>Iq * Np + <usize>2 * B * Np + <usize>max(H, I) * R + <usize>R * Iq) << 2;
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
  const dXt = At + (<usize>max(H, I) * R << 2);
  const rowG = <usize>(B * Np) << 2, rowO = <usize>(B * ldo) << 2;
  const relu = act == ACT_RELU;

  pack_transpose(WhhT, Whh, H, Np >> 4, 16);
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
    gemm_forward(nxt, Np, g, Np, WhhT, 0, 0, B, Np, Np >> 4, 16, 1);
    const sw = cur; cur = nxt; nxt = sw;
  }
  storeState(dh0, cur, Np, H, B);
  const hPrev = hs + (rev ? hSlot : 0);
  weightGrad(dWhh, hPrev, Np, H, gx, Np, R, Np >> 4, 16, At);
  weightGrad(dWih, x, ldx, I, gx, Np, R, Np >> 4, 16, At);
  if (dbih) colsum_forward(dbih, gx, Np, R, Np, 1);
  if (dbhh) colsum_forward(dbhh, gx, Np, R, Np, 1);
  inputGrad(dX, lddx, accDx, gx, Np, WihT, R, I, dXt);
}
