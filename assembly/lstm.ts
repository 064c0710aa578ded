// LSTM exactly as torch.nn.LSTM defines it (gates i, f, g, o; optional projection h = W_hr (o * tanh(c))):
//   i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
//   g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
//   c' = f * c + i * g                              h' = o * tanh(c')   (then h' = W_hr h' with projSize)
//
// Panels interleave the four gates of 4 hidden units (U = 4, NR = 16), so the 4 accumulators of a tile row are
// exactly i, f, g, o of the same units and the cell update runs in registers right after the product: the step
// reads h_{t-1} and c_{t-1} once and writes h_t and c_t once. The input projection of a whole chunk of time steps
// (both biases folded in) is one GEMM before the steps, and it seeds the accumulators.

import { madd } from './simd';
import { vsigmoid_fast, vtanh_fast } from './activations';
import { gemm_forward, panel_forward } from './gemm';
import { chunkSteps, slotOf, loadState, storeState, holdInactive, storeOutput, isActive } from './seq';
import { pack_transpose } from './pack';
import { zero_f32 } from './simd';
import { recordNorm, addUpstream, prepareNext, weightGrad, weightGrads, weightGradScratch, inputGrad } from './bptt';
import {
  FWD_DOT_EXT, FWD_GEMV, FWD_ODD, FWD_TRAIN, gemvFits, useGemv, gemvFloats, gemv_pack, gemv_forward, repackDot,
  dotExternal,
} from './gemv';

export const LSTM_U: i32 = 4;
export const LSTM_NR: i32 = 16;
export const PROJ_U: i32 = 16;

// @ts-ignore: decorator
@inline function cell(a0: v128, a1: v128, a2: v128, a3: v128, cp: usize, cn: usize, rn: usize, gs: usize): void {
  const i = vsigmoid_fast(a0), f = vsigmoid_fast(a1), g = vtanh_fast(a2), o = vsigmoid_fast(a3);
  const c = madd(f, v128.load(cp), f32x4.mul(i, g));
  v128.store(cn, c);
  v128.store(rn, f32x4.mul(o, vtanh_fast(c)));
  if (gs) {
    v128.store(gs, i); v128.store(gs, f, 16); v128.store(gs, g, 32); v128.store(gs, o, 48);
  }
}

/**
 * One time step for all B rows. gx: the step's input projection (B, Np), overwritten with the pre-activations
 * only where a row is left to panel_forward. hp: h_{t-1} (B, ldh); cp/cn: c (B, Hp); rn: where o * tanh(c) goes
 * (B, ldr): h_t itself without projection. gs: where the activated gates go (training; equals gx) or 0.
 * Per panel (it stays in L1 while the rows stream past), rows go two at a time through the register tile of
 * gemm.ts' panel16 (same loads, same multiply-add order: bit for bit its sums), and the cell update of those two
 * rows runs on the accumulators right after their product. The gate math is a long dependent chain (two
 * activations in a row); here the out-of-order core overlaps it with the next tile's multiply-adds, where run as a
 * separate pass after the whole panel it was about 12% of the step (a --cpu-prof of LSTM H256 B32).
 */
function step(rn: usize, ldr: i32, cn: usize, gs: usize, gx: usize, hp: usize, ldh: i32, cp: usize, Hp: i32,
              W: usize, K: i32, B: i32, nP: i32): void {
  const rowG = <usize>(nP * 16) << 2, rowH = <usize>ldh << 2, rowC = <usize>Hp << 2, rowR = <usize>ldr << 2;
  for (let p = 0; p < nP; p++) {
    const offG = <usize>(p * 16) << 2, offU = <usize>(p * 4) << 2;
    const Wp = W + (<usize>(p * K * 16) << 2);
    let b = 0;
    for (; b + 2 <= B; b += 2) {
      const g0 = gx + <usize>b * rowG + offG, g1 = g0 + rowG;
      const a0 = hp + <usize>b * rowH, a1 = a0 + rowH;
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
      const c0 = <usize>b * rowC + offU, c1 = c0 + rowC, r0 = rn + <usize>b * rowR + offU;
      cell(x0, x1, x2, x3, cp + c0, cn + c0, r0, gs ? g0 : 0);
      cell(y0, y1, y2, y3, cp + c1, cn + c1, r0 + rowR, gs ? g1 : 0);
    }
    if (b < B) {
      // The last odd row (all of a batch-1 step): panel_forward's single-row path, then the cell from memory.
      const g = gx + <usize>b * rowG + offG, c = <usize>b * rowC + offU;
      panel_forward(g, rowG, g, rowG, 4, 0, 0, hp + <usize>b * rowH, rowH, Wp, 1, K, 16);
      cell(v128.load(g), v128.load(g, 16), v128.load(g, 32), v128.load(g, 48), cp + c, cn + c,
           rn + <usize>b * rowR + offU, gs ? g : 0);
    }
  }
}

/** step for batch 1 with W_hh in gemv.ts' dot layout D: the whole product first, then the cell per panel. */
function stepGemv(rn: usize, cn: usize, gs: usize, gx: usize, hp: usize, cp: usize, D: usize, K: i32,
                  nP: i32, rev: i32): void {
  gemv_forward(gx, gx, hp, D, nP * 16, K, rev);
  for (let p = 0; p < nP; p++) {
    const g = gx + (<usize>(p * 16) << 2), u = <usize>(p * 4) << 2;
    cell(v128.load(g), v128.load(g, 16), v128.load(g, 32), v128.load(g, 48), cp + u, cn + u, rn + u, gs ? g : 0);
  }
}

// Geometry, in floats. Kept here so the TypeScript side never re-derives the layout.
// @ts-ignore: decorator
@inline function panels(H: i32): i32 { return (H + 3) >> 2; }
// @ts-ignore: decorator
@inline function ldState(H: i32, P: i32): i32 { return P > 0 ? ((P + 15) >> 4) << 4 : panels(H) << 2; }

/**
 * Bytes of scratch lstm_forward needs with the same flags (gemv.ts: FWD_TRAIN keeps every step's gates and
 * states for lstm_backward; FWD_GEMV adds room for the batch-1 layout of W_hh).
 */
export function lstm_scratch_bytes(T: i32, B: i32, H: i32, P: i32, train: i32): usize {
  const tr = (train & FWD_TRAIN) != 0;
  const nP = panels(H), Np = nP * 16, Hp = nP * 4, ldh = ldState(H, P);
  const steps = tr ? T : chunkSteps(T, B * Np);
  const slots = tr ? T + 1 : 2;
  const rslots = P > 0 ? (tr ? T : 1) : 0;
  const dot = useGemv(train, T, B, Np, P > 0 ? P : H) && !dotExternal(train) ? <usize>gemvFloats(Np, P > 0 ? P : H) : 0;
  return (<usize>steps * B * Np + <usize>slots * B * (ldh + Hp) + <usize>rslots * B * Hp + dot) << 2;
}

/**
 * Bytes of the batch-1 layout of W_hh (gemv.ts) that lstm_forward with FWD_GEMV | FWD_DOT_EXT takes for T steps
 * of B rows (the same for every T), 0 when that call keeps the panel path (B > 1, or W_hh too large): the size
 * of the block to pass as `dot`.
 */
export function lstm_dot_bytes(T: i32, B: i32, H: i32, P: i32): usize {
  const Np = panels(H) * 16, K = P > 0 ? P : H;
  return useGemv(FWD_GEMV | FWD_DOT_EXT, T, B, Np, K) ? <usize>gemvFloats(Np, K) << 2 : 0;
}

/**
 * One direction of one LSTM layer over a whole sequence.
 * out (T, B, ldo) at this direction's column offset; hN (B, Hout) and cN (B, H) may be 0.
 * x (T, B, ldx); h0 (B, Hout) and c0 (B, H) may be 0 (zeros). Wih (packed, K = I), Whh (packed, K = Hout),
 * bih/bhh (packed) may be 0, Whr (packed projection, P > 0 only). lengths (i32[B]) may be 0. train: the forward
 * flags of gemv.ts (FWD_TRAIN, FWD_GEMV), as given to lstm_scratch_bytes.
 */
export function lstm_forward(out: usize, ldo: i32, hN: usize, cN: usize,
                             x: usize, ldx: i32, h0: usize, c0: usize,
                             Wih: usize, Whh: usize, bih: usize, bhh: usize, Whr: usize, lengths: usize,
                             scratch: usize, dot: usize, T: i32, B: i32, I: i32, H: i32, P: i32, reverse: i32,
                             train: i32): void {
  const tr = (train & FWD_TRAIN) != 0;
  const odd = (train & FWD_ODD) != 0 ? 1 : 0;
  const rev = reverse != 0;
  const nP = panels(H), Np = nP * 16, Hp = nP * 4;
  const ldh = ldState(H, P), Hout = P > 0 ? P : H, nPP = (P + 15) >> 4;
  const gv = useGemv(train, T, B, Np, Hout);
  const chunk = tr ? T : chunkSteps(T, B * Np);
  const slots = tr ? T + 1 : 2;
  const gx = scratch;
  const hs = gx + (<usize>chunk * B * Np << 2);
  const cs = hs + (<usize>slots * B * ldh << 2);
  const rs = cs + (<usize>slots * B * Hp << 2);
  const hSlot = <usize>(B * ldh) << 2, cSlot = <usize>(B * Hp) << 2, rSlot = <usize>(B * Hp) << 2;
  const rowX = <usize>(B * ldx) << 2, rowG = <usize>(B * Np) << 2, rowO = <usize>(B * ldo) << 2;
  const D = dotExternal(train) ? dot : rs + (<usize>(P > 0 ? (tr ? T : 1) : 0) * rSlot);
  if (gv && repackDot(train)) gemv_pack(D, Whh, Hout, nP, 16);

  const s0 = <usize>slotOf(0, tr, rev, T);
  loadState(hs + s0 * hSlot, ldh, h0, Hout, B);
  loadState(cs + s0 * cSlot, Hp, c0, H, B);
  let s = 0;
  for (let done = 0; done < T; done += chunk) {
    const n = min(chunk, T - done);
    const t0 = rev ? T - done - n : done;
    const gxBase = tr ? gx + <usize>t0 * rowG : gx;
    gemm_forward(gxBase, Np, x + <usize>t0 * rowX, ldx, Wih, bih, bhh, n * B, I, nP, 16, 0);
    for (let j = 0; j < n; j++) {
      const t = rev ? t0 + n - 1 - j : t0 + j;
      const g = gxBase + <usize>(t - t0) * rowG;
      const hp = hs + <usize>slotOf(s, tr, rev, T) * hSlot, hn = hs + <usize>slotOf(s + 1, tr, rev, T) * hSlot;
      const cp = cs + <usize>slotOf(s, tr, rev, T) * cSlot, cn = cs + <usize>slotOf(s + 1, tr, rev, T) * cSlot;
      if (P > 0) {
        const r = rs + (tr ? <usize>t * rSlot : 0); // by time, for lstm_backward
        if (gv) stepGemv(r, cn, tr ? g : 0, g, hp, cp, D, Hout, nP, (s + odd) & 1);
        else step(r, Hp, cn, tr ? g : 0, g, hp, ldh, cp, Hp, Whh, Hout, B, nP);
        gemm_forward(hn, ldh, r, Hp, Whr, 0, 0, B, H, nPP, 16, 0);
      } else if (gv) {
        stepGemv(hn, cn, tr ? g : 0, g, hp, cp, D, Hout, nP, (s + odd) & 1);
      } else {
        step(hn, ldh, cn, tr ? g : 0, g, hp, ldh, cp, Hp, Whh, Hout, B, nP);
      }
      holdInactive(hn, hp, ldh, lengths, t, B);
      holdInactive(cn, cp, Hp, lengths, t, B);
      storeOutput(out + <usize>t * rowO, ldo, hn, ldh, Hout, lengths, t, B);
      s++;
    }
  }
  storeState(hN, hs + <usize>slotOf(T, tr, rev, T) * hSlot, ldh, Hout, B);
  storeState(cN, cs + <usize>slotOf(T, tr, rev, T) * cSlot, Hp, H, B);
}

// Backward geometry: dh rows are as wide as the transposed W_hh produces (a multiple of 16).
// @ts-ignore: decorator
@inline function q16(n: i32): i32 { return ((n + 15) >> 4) << 4; }

/** Bytes of scratch lstm_backward needs besides the forward pass's training scratch. */
export function lstm_backward_scratch_bytes(T: i32, B: i32, I: i32, H: i32, P: i32): usize {
  const nP = panels(H), Np = nP * 16, Hp = nP * 4, Hout = P > 0 ? P : H;
  const Wd = q16(Hout), Iq = q16(I), Hq = q16(H), R = T * B;
  let n = <usize>Wd * Np + <usize>Iq * Np + <usize>2 * B * Wd + <usize>B * Hp +
    weightGradScratch(max(max(Hout, I), H), R) +
    <usize>R * Iq;
  if (P > 0) n += <usize>Hq * Wd + <usize>B * Hq + <usize>R * Wd;
  if (gemvFits(T, B, Wd, Np)) n += <usize>gemvFloats(Wd, Np); // W_hh^T in gemv.ts' layout
  return n << 2;
}

// @ts-ignore: decorator
@inline function dsig(dy: v128, y: v128): v128 {
  return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(f32x4.splat(1), y)));
}

/**
 * Backpropagation through time for one direction of one LSTM layer, after lstm_forward(..., train = 1) with the
 * same arguments and scratch. Upstream: dOut (T, B, ldo) at this direction's columns, dhN (B, Hout), dcN (B, H);
 * each may be 0. Produces (adding to what is there) the packed weight gradients dWih, dWhh, dWhr and the bias
 * gradients dbih, dbhh (may be 0 when there are no biases); writes (or adds, accDx) dX (T, B, lddx) and writes
 * dh0 (B, Hout), dc0 (B, H) when non-zero. The saved gates are overwritten with dA.
 */
export function lstm_backward(dX: usize, lddx: i32, accDx: i32, dh0: usize, dc0: usize,
                              dWih: usize, dWhh: usize, dbih: usize, dbhh: usize, dWhr: usize,
                              dOut: usize, ldo: i32, dhN: usize, dcN: usize,
                              x: usize, ldx: i32, Wih: usize, Whh: usize, Whr: usize, lengths: usize,
                              scratch: usize, bscratch: usize, T: i32, B: i32, I: i32, H: i32, P: i32,
                              reverse: i32, dhnorm: usize): void {
  const rev = reverse != 0;
  const nP = panels(H), Np = nP * 16, Hp = nP * 4;
  const ldh = ldState(H, P), Hout = P > 0 ? P : H, nPP = (P + 15) >> 4;
  const Wd = q16(Hout), Iq = q16(I), Hq = q16(H), R = T * B;
  // Forward training scratch (see lstm_forward).
  const gx = scratch;
  const hs = gx + (<usize>T * B * Np << 2);
  const cs = hs + (<usize>(T + 1) * B * ldh << 2);
  const rs = cs + (<usize>(T + 1) * B * Hp << 2);
  const hSlot = <usize>(B * ldh) << 2, cSlot = <usize>(B * Hp) << 2;
  // Backward scratch.
  const WhhT = bscratch;
  const WihT = WhhT + (<usize>Wd * Np << 2);
  const dhA = WihT + (<usize>Iq * Np << 2);
  const dhB = dhA + (<usize>B * Wd << 2);
  const dc = dhB + (<usize>B * Wd << 2);
  const At = dc + (<usize>B * Hp << 2);
  const dXt = At + (weightGradScratch(max(max(Hout, I), H), R) << 2);
  const WhrT = dXt + (<usize>R * Iq << 2);
  const dr = WhrT + (<usize>Hq * Wd << 2);
  const dHall = dr + (<usize>B * Hq << 2);
  const DT = P > 0 ? dHall + (<usize>R * Wd << 2) : WhrT;
  const rowG = <usize>(B * Np) << 2, rowO = <usize>(B * ldo) << 2;
  // Batch 1 over enough steps: dh_{t-1} = dA W_hh as dot products (gemv.ts), as the forward does.
  const gv = gemvFits(T, B, Wd, Np);

  pack_transpose(WhhT, Whh, Hout, nP, 16);
  if (gv) gemv_pack(DT, WhhT, Np, Wd >> 4, 16);
  pack_transpose(WihT, Wih, I, nP, 16);
  if (P > 0) pack_transpose(WhrT, Whr, H, nPP, 16);
  loadState(dhA, Wd, dhN, Hout, B);
  zero_f32(dhB, B * Wd);
  loadState(dc, Hp, dcN, H, B);
  let cur = dhA, nxt = dhB;
  for (let j = T - 1; j >= 0; j--) {
    const t = rev ? T - 1 - j : j;
    addUpstream(cur, Wd, dOut ? dOut + <usize>t * rowO : 0, ldo, Hout, lengths, t, B);
    recordNorm(dhnorm, t, cur, Wd, Hout, B);
    // The gradient reaching o * tanh(c): through W_hr with a projection.
    let dR = cur, ldr = Wd;
    if (P > 0) {
      const dHt = dHall + (<usize>t * B * Wd << 2);
      for (let b = 0; b < B; b++) {
        const d = dHt + (<usize>(b * Wd) << 2);
        if (isActive(lengths, b, t)) memory.copy(d, cur + (<usize>(b * Wd) << 2), <usize>Wd << 2);
        else zero_f32(d, Wd);
      }
      gemm_forward(dr, Hq, cur, Wd, WhrT, 0, 0, B, Wd, Hq >> 4, 16, 0);
      dR = dr; ldr = Hq;
    }
    const g = gx + <usize>t * rowG;
    const cAfter = cs + <usize>(rev ? t : t + 1) * cSlot, cBefore = cs + <usize>(rev ? t + 1 : t) * cSlot;
    for (let b = 0; b < B; b++) {
      const gb = g + (<usize>(b * Np) << 2);
      if (!isActive(lengths, b, t)) { zero_f32(gb, Np); continue; }
      const ca = cAfter + (<usize>(b * Hp) << 2), cb = cBefore + (<usize>(b * Hp) << 2);
      const db = dc + (<usize>(b * Hp) << 2), rb = dR + (<usize>(b * ldr) << 2);
      for (let p = 0; p < nP; p++) {
        const gt = gb + (<usize>(p * 16) << 2), u = <usize>(p * 4) << 2;
        const i = v128.load(gt), f = v128.load(gt, 16), gg = v128.load(gt, 32), o = v128.load(gt, 48);
        const tc = vtanh_fast(v128.load(ca + u)); // the forward's tanh(c), recomputed
        const dy = v128.load(rb + u);
        const one = f32x4.splat(1);
        const dcv = madd(f32x4.mul(dy, o), f32x4.sub(one, f32x4.mul(tc, tc)), v128.load(db + u));
        v128.store(db + u, f32x4.mul(dcv, f));
        v128.store(gt, dsig(f32x4.mul(dcv, gg), i));
        v128.store(gt, dsig(f32x4.mul(dcv, v128.load(cb + u)), f), 16);
        v128.store(gt, f32x4.mul(f32x4.mul(dcv, i), f32x4.sub(one, f32x4.mul(gg, gg))), 32);
        v128.store(gt, dsig(f32x4.mul(dy, tc), o), 48);
      }
    }
    prepareNext(nxt, cur, Wd, lengths, t, B);
    if (gv) gemv_forward(nxt, nxt, g, DT, Wd, Np, j & 1);
    else gemm_forward(nxt, Wd, g, Np, WhhT, 0, 0, B, Np, Wd >> 4, 16, 1);
    const sw = cur; cur = nxt; nxt = sw;
  }
  storeState(dh0, cur, Wd, Hout, B);
  storeState(dc0, dc, Hp, H, B);
  // Weight gradients over all T*B rows at once; states entering times 0..T-1 are consecutive slots.
  const hPrev = hs + (rev ? hSlot : 0);
  weightGrads(dWhh, hPrev, ldh, Hout, dWih, x, ldx, I, dbih, dbhh, gx, Np, R, nP, 16, At);
  if (P > 0) weightGrad(dWhr, rs, Hp, H, dHall, Wd, R, nPP, 16, At);
  inputGrad(dX, lddx, accDx, gx, Np, WihT, R, I, dXt);
}
