// GRU exactly as torch.nn.GRU defines it (gates r, z, n):
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h = n + z * (h - n)
// (ONNX's linear_before_reset = 1, Keras' reset_after = True.)
//
// Panels interleave r, z, n of 4 hidden units (U = 4, NR = 12). The input projection carries b_ih only: b_hn
// must stay inside the product that r multiplies, so the recurrent biases are added in the step.

import { madd } from './simd';
import { vsigmoid_fast, vtanh_fast } from './activations';
import { gemm_forward, panel_forward, panel_cols } from './gemm';
import { chunkSteps, slotOf, loadState, storeState, holdInactive, storeOutput, isActive } from './seq';
import { pack_transpose } from './pack';
import { zero_f32 } from './simd';
import { recordNorm, addUpstream, weightGrads, weightGradsSplit, weightGradScratch, inputGrad } from './bptt';
import {
  FWD_DOT_EXT, FWD_GEMV, FWD_ODD, FWD_TRAIN, gemvFits, useGemv, gemvFloats, gemv_pack, gemv_forward, repackDot,
  dotExternal,
} from './gemv';

export const GRU_U: i32 = 4;
export const GRU_NR: i32 = 12;

// @ts-ignore: decorator
@inline function cell(ar: v128, az: v128, an: v128, gxn: v128, hp: usize, hn: usize, gs: usize, ns: usize): void {
  const r = vsigmoid_fast(ar), z = vsigmoid_fast(az);
  const n = vtanh_fast(madd(r, an, gxn));
  const h = v128.load(hp);
  v128.store(hn, madd(z, f32x4.sub(h, n), n));
  if (gs) {
    v128.store(gs, r); v128.store(gs, z, 16); v128.store(gs, n, 32);
    v128.store(ns, an);
  }
}

/**
 * One time step for all B rows. Per panel the product goes to the tile tb (B rows of 12): r and z seeded with
 * the input projection and b_hh, n with b_hn alone (it is multiplied by r before gx_n joins it).
 */
function step(hn: usize, gs: usize, ns: usize, gx: usize, hp: usize, ldh: i32, W: usize, bhh: usize, K: i32,
              B: i32, nP: i32, tb: usize): void {
  const rowG = <usize>(nP * 12) << 2, rowH = <usize>ldh << 2;
  for (let p = 0; p < nP; p++) {
    const offG = <usize>(p * 12) << 2, offU = <usize>(p * 4) << 2;
    panel_forward(tb, 48, gx + offG, rowG, 2, bhh ? bhh + offG : 0, 0, hp, rowH, W + (<usize>(p * K * 12) << 2),
                  B, K, 12);
    for (let b = 0; b < B; b++) {
      const t = tb + <usize>b * 48, g = gx + <usize>b * rowG + offG, u = <usize>b * rowH + offU;
      cell(v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(g, 32), hp + u, hn + u, gs ? g : 0,
           ns ? ns + u : 0);
    }
  }
}

/**
 * step for B >= 3 in the relaxed build (where panel12 takes rows in 3-row tiles; kept apart from step, whose
 * batch-1 GEMV measured 4-13% slower with this code beside it). Rows in 3-row tiles go through panel12's 3 x 12
 * register tile written out here (same loads, same multiply-add order, taken for exactly the rows panel12 takes
 * them: bit for bit its sums), and the cell runs on the accumulators right after their product, so its dependent
 * chain overlaps the next tile's multiply-adds (GRU B32 forward 1.09-1.12x, bench/forward-ab). The other rows
 * (2-row tiles and an odd last one) go through panel_forward into tb as in step.
 */
function step3(hn: usize, gs: usize, ns: usize, gx: usize, hp: usize, ldh: i32, W: usize, bhh: usize, K: i32,
              B: i32, nP: i32, tb: usize): void {
  const rowG = <usize>(nP * 12) << 2, rowH = <usize>ldh << 2;
  for (let p = 0; p < nP; p++) {
    const offG = <usize>(p * 12) << 2, offU = <usize>(p * 4) << 2;
    const Wp = W + (<usize>(p * K * 12) << 2);
    const bp = bhh ? bhh + offG : 0;
    let m = 0;
    const even = B & ~1;
    const two = (even % 3) == 0 ? 0 : (even % 3) == 1 ? 2 : 1;
    const zero = f32x4.splat(0);
    const q0 = bp ? f32x4.add(zero, v128.load(bp)) : zero, q1 = bp ? f32x4.add(zero, v128.load(bp, 16)) : zero;
    const q2 = bp ? f32x4.add(zero, v128.load(bp, 32)) : zero;
    for (; m + 3 <= even - 2 * two; m += 3) {
      const g0 = gx + <usize>m * rowG + offG, g1 = g0 + rowG, g2 = g1 + rowG;
      const a0 = hp + <usize>m * rowH, a1 = a0 + rowH, a2 = a1 + rowH;
      let x0 = f32x4.add(q0, v128.load(g0)), x1 = f32x4.add(q1, v128.load(g0, 16)), x2 = q2;
      let y0 = f32x4.add(q0, v128.load(g1)), y1 = f32x4.add(q1, v128.load(g1, 16)), y2 = q2;
      let z0 = f32x4.add(q0, v128.load(g2)), z1 = f32x4.add(q1, v128.load(g2, 16)), z2 = q2;
      let w = Wp;
      let pa = a0, pb = a1, pc = a2;
      const aEnd = a0 + (<usize>K << 2);
      while (pa < aEnd) {
        const s0 = v128.load32_splat(pa), s1 = v128.load32_splat(pb), s2 = v128.load32_splat(pc);
        const w0 = v128.load(w, 0), w1 = v128.load(w, 16), w2 = v128.load(w, 32);
        x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2);
        y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2);
        z0 = madd(s2, w0, z0); z1 = madd(s2, w1, z1); z2 = madd(s2, w2, z2);
        w += 48; pa += 4; pb += 4; pc += 4;
      }
      const u0 = <usize>m * rowH + offU, u1 = u0 + rowH, u2 = u1 + rowH;
      cell(x0, x1, x2, v128.load(g0, 32), hp + u0, hn + u0, gs ? g0 : 0, ns ? ns + u0 : 0);
      cell(y0, y1, y2, v128.load(g1, 32), hp + u1, hn + u1, gs ? g1 : 0, ns ? ns + u1 : 0);
      cell(z0, z1, z2, v128.load(g2, 32), hp + u2, hn + u2, gs ? g2 : 0, ns ? ns + u2 : 0);
    }
    if (m < B) {
      // The rest keep panel12's grouping: what is left after its 3-row tiles is 2-row tiles and the odd last row.
      panel_forward(tb, 48, gx + <usize>m * rowG + offG, rowG, 2, bp, 0, hp + <usize>m * rowH, rowH, Wp, B - m, K,
                    12);
      for (let b = m; b < B; b++) {
        const t = tb + <usize>(b - m) * 48, g = gx + <usize>b * rowG + offG, u = <usize>b * rowH + offU;
        cell(v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(g, 32), hp + u, hn + u, gs ? g : 0,
             ns ? ns + u : 0);
      }
    }
  }
}

// Keras' reset_after = False / ONNX's linear_before_reset = 0: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).
// The product for n needs r of every unit first, so the step runs in two passes over the panels: r and z (the
// first 8 columns of each panel) from h, then n (the last 4) from r * h, which goes to rh (kept per step in
// training for the weight gradient of W_hn). r and z overwrite their pre-activations in gx.
function stepResetBefore(hn: usize, train: bool, rh: usize, gx: usize, hp: usize, ldh: i32, W: usize, bhh: usize,
                         K: i32, B: i32, nP: i32): void {
  const Np = nP * 12;
  const rowG = <usize>Np << 2, rowH = <usize>ldh << 2;
  // Pass 1: a_{r,z} = gx_{r,z} + b_h{r,z} + W_h{r,z} h, the first 8 columns of each panel read in place, in gx.
  for (let p = 0; p < nP; p++) {
    const Wp = W + (<usize>(p * K * 12) << 2);
    const offG = <usize>(p * 12) << 2, offU = <usize>(p * 4) << 2;
    const g = gx + offG;
    panel_cols(g, rowG, g, rowG, true, bhh ? bhh + offG : 0, hp, rowH, Wp, 48, B, K, 2);
    for (let b = 0; b < B; b++) {
      const g0 = g + <usize>b * rowG;
      const r = vsigmoid_fast(v128.load(g0)), z = vsigmoid_fast(v128.load(g0, 16));
      v128.store(g0, r); v128.store(g0, z, 16);
      const u = <usize>b * rowH + offU;
      v128.store(rh + u, f32x4.mul(r, v128.load(hp + u)));
    }
  }
  // Pass 2: a_n = gx_n + b_hn + W_hn (r * h), the last 4 columns, in gx; n replaces it there. The relaxed build
  // takes two panels at a time from batch 2 (nPair: 8 accumulators where panel_cols' 4 columns have 6).
  let p = 0;
  if (ASC_FEATURE_RELAXED_SIMD && B >= 2) {
    for (; p + 2 <= nP; p += 2) {
      const Wp = W + (<usize>(p * K * 12) << 2), Wq = Wp + (<usize>(K * 12) << 2);
      const offG = <usize>(p * 12) << 2;
      const g = gx + offG;
      nPair(g + 32, g + 80, rowG, bhh ? bhh + offG + 32 : 0, bhh ? bhh + offG + 80 : 0, rh, rowH, Wp + 32, Wq + 32,
            B, K);
      nUpdate(hn, train, g, rowG, hp, rowH, <usize>(p * 4) << 2, B);
      nUpdate(hn, train, g + 48, rowG, hp, rowH, <usize>(p * 4 + 4) << 2, B);
    }
  }
  for (; p < nP; p++) {
    const Wp = W + (<usize>(p * K * 12) << 2);
    const offG = <usize>(p * 12) << 2;
    const g = gx + offG;
    panel_cols(g + 32, rowG, g + 32, rowG, true, bhh ? bhh + offG + 32 : 0, rh, rowH, Wp + 32, 48, B, K, 1);
    nUpdate(hn, train, g, rowG, hp, rowH, <usize>(p * 4) << 2, B);
  }
}

/** n = tanh(a_n) and h' = n + z (h - n) for one panel (g: its 12 columns of gx; offU: its 4 units' offset). */
// @ts-ignore: decorator
@inline function nUpdate(hn: usize, train: bool, g: usize, rowG: usize, hp: usize, rowH: usize, offU: usize,
                         B: i32): void {
  for (let b = 0; b < B; b++) {
    const g0 = g + <usize>b * rowG;
    const n = vtanh_fast(v128.load(g0, 32));
    const z = v128.load(g0, 16);
    const u = <usize>b * rowH + offU;
    const h = v128.load(hp + u);
    v128.store(hn + u, madd(z, f32x4.sub(h, n), n));
    if (train) v128.store(g0, n, 32);
  }
}

/**
 * panel_cols(C, ..., NV = 1) for two panels at once (relaxed build): C0[m] += b0 + sum_k A[m, k] P0[k*12] and the
 * same for C1, P1, b1 (C seeded from itself; P0, P1 the n columns of two 12-wide panels). Tiles of 4 rows x 2
 * panels (8 accumulators, 2 panel loads, 4 splats), each row summing its k in order from the same seed as cols4's
 * multi-row tiles; the last 1-3 rows go through panel_cols itself: bit for bit panel_cols' results.
 */
function nPair(C0: usize, C1: usize, ldc: usize, b0: usize, b1: usize, A: usize, lda: usize, P0: usize, P1: usize,
               M: i32, K: i32): void {
  const zero = f32x4.splat(0);
  const q0 = b0 ? f32x4.add(zero, v128.load(b0)) : zero, q1 = b1 ? f32x4.add(zero, v128.load(b1)) : zero;
  const even = M & ~1;
  let m = 0;
  for (; m + 4 <= even; m += 4) {
    const c0 = C0 + <usize>m * ldc, d0 = C1 + <usize>m * ldc;
    let a = A + <usize>m * lda;
    const a1 = lda, a2 = lda << 1, a3 = lda * 3;
    let x0 = f32x4.add(q0, v128.load(c0)), y0 = f32x4.add(q1, v128.load(d0));
    let x1 = f32x4.add(q0, v128.load(c0 + ldc)), y1 = f32x4.add(q1, v128.load(d0 + ldc));
    let x2 = f32x4.add(q0, v128.load(c0 + (ldc << 1))), y2 = f32x4.add(q1, v128.load(d0 + (ldc << 1)));
    let x3 = f32x4.add(q0, v128.load(c0 + ldc * 3)), y3 = f32x4.add(q1, v128.load(d0 + ldc * 3));
    let w = P0, v = P1;
    const aEnd = a + (<usize>K << 2);
    while (a < aEnd) {
      const w0 = v128.load(w), w1 = v128.load(v);
      const s0 = v128.load32_splat(a), s1 = v128.load32_splat(a + a1);
      x0 = madd(s0, w0, x0); y0 = madd(s0, w1, y0); x1 = madd(s1, w0, x1); y1 = madd(s1, w1, y1);
      const s2 = v128.load32_splat(a + a2), s3 = v128.load32_splat(a + a3);
      x2 = madd(s2, w0, x2); y2 = madd(s2, w1, y2); x3 = madd(s3, w0, x3); y3 = madd(s3, w1, y3);
      w += 48; v += 48; a += 4;
    }
    v128.store(c0, x0); v128.store(c0 + ldc, x1); v128.store(c0 + (ldc << 1), x2); v128.store(c0 + ldc * 3, x3);
    v128.store(d0, y0); v128.store(d0 + ldc, y1); v128.store(d0 + (ldc << 1), y2); v128.store(d0 + ldc * 3, y3);
  }
  if (m < M) {
    // The last 1-3 rows: panel_cols' own 2-row tile and single-row path, per panel.
    const n = M - m, am = A + <usize>m * lda;
    panel_cols(C0 + <usize>m * ldc, ldc, C0 + <usize>m * ldc, ldc, true, b0, am, lda, P0, 48, n, K, 1);
    panel_cols(C1 + <usize>m * ldc, ldc, C1 + <usize>m * ldc, ldc, true, b1, am, lda, P1, 48, n, K, 1);
  }
}

/**
 * step for batch 1 (reset after) with W_hh in gemv.ts' dot layout D: b_hh + W_hh h into the row tr (Np floats),
 * then the cell per panel with gx added to r and z (n: b_hn + W_hn h, which r multiplies).
 */
function stepGemv(hn: usize, gs: usize, ns: usize, gx: usize, hp: usize, D: usize, bhh: usize, K: i32, nP: i32,
                  tr: usize, rev: i32): void {
  gemv_forward(tr, bhh, hp, D, nP * 12, K, rev);
  for (let p = 0; p < nP; p++) {
    const o = <usize>(p * 12) << 2, u = <usize>(p * 4) << 2;
    const t = tr + o, g = gx + o;
    cell(f32x4.add(v128.load(g), v128.load(t)), f32x4.add(v128.load(g, 16), v128.load(t, 16)), v128.load(t, 32),
         v128.load(g, 32), hp + u, hn + u, gs ? g : 0, ns ? ns + u : 0);
  }
}

// @ts-ignore: decorator
@inline function panels(H: i32): i32 { return (H + 3) >> 2; }

/**
 * Bytes of scratch gru_forward needs with the same flags (gemv.ts): FWD_TRAIN keeps gates, W_hn h + b_hn and
 * states for gru_backward; FWD_GEMV adds room for the batch-1 layout of W_hh (reset after) and its product's row.
 */
export function gru_scratch_bytes(T: i32, B: i32, H: i32, train: i32): usize {
  const tr = (train & FWD_TRAIN) != 0;
  const nP = panels(H), Np = nP * 12, Hp = nP * 4;
  const steps = tr ? T : chunkSteps(T, B * Np);
  const slots = tr ? T + 1 : 2;
  const nslots = tr ? T : 1; // W_hn h + b_hn (reset after) or r * h (reset before) per step; one in inference
  // The product's row (Np) and, unless it is the caller's (FWD_DOT_EXT), D; resetBefore uses neither.
  const dot = useGemv(train, T, B, Np, H) ? <usize>(dotExternal(train) ? 0 : gemvFloats(Np, H)) + Np : 0;
  return (<usize>steps * B * Np + <usize>slots * B * Hp + <usize>nslots * B * Hp + <usize>B * 12 + dot) << 2;
}

/** Bytes of the batch-1 layout of W_hh that gru_forward with FWD_GEMV | FWD_DOT_EXT takes (as lstm_dot_bytes). */
export function gru_dot_bytes(T: i32, B: i32, H: i32, resetBefore: i32): usize {
  const Np = panels(H) * 12;
  return useGemv(FWD_GEMV | FWD_DOT_EXT, T, B, Np, H) && !resetBefore ? <usize>gemvFloats(Np, H) << 2 : 0;
}

/**
 * One direction of one GRU layer over a whole sequence; arguments as lstm_forward (no cell state). The batch-1
 * dot-product path (FWD_GEMV) is the reset-after form's only: the reset-before form's two products take
 * different vectors (h and r * h).
 */
export function gru_forward(out: usize, ldo: i32, hN: usize, x: usize, ldx: i32, h0: usize,
                            Wih: usize, Whh: usize, bih: usize, bhh: usize, lengths: usize,
                            scratch: usize, dot: usize, T: i32, B: i32, I: i32, H: i32, reverse: i32, train: i32,
                            resetBefore: i32): void {
  const tr = (train & FWD_TRAIN) != 0;
  const odd = (train & FWD_ODD) != 0 ? 1 : 0;
  const rev = reverse != 0;
  const nP = panels(H), Np = nP * 12, Hp = nP * 4;
  const chunk = tr ? T : chunkSteps(T, B * Np);
  const slots = tr ? T + 1 : 2;
  const gx = scratch;
  const hs = gx + (<usize>chunk * B * Np << 2);
  const ns = hs + (<usize>slots * B * Hp << 2);
  const tb = ns + (<usize>((tr ? T : 1) * B * Hp) << 2);
  const gv = useGemv(train, T, B, Np, H) && !resetBefore;
  const trow = tb + (<usize>(B * 12) << 2), D = dotExternal(train) ? dot : trow + (<usize>Np << 2);
  if (gv && repackDot(train)) gemv_pack(D, Whh, H, nP, 12);
  const hSlot = <usize>(B * Hp) << 2;
  const rowX = <usize>(B * ldx) << 2, rowG = <usize>(B * Np) << 2, rowO = <usize>(B * ldo) << 2;

  loadState(hs + <usize>slotOf(0, tr, rev, T) * hSlot, Hp, h0, H, B);
  let s = 0;
  for (let done = 0; done < T; done += chunk) {
    const n = min(chunk, T - done);
    const t0 = rev ? T - done - n : done;
    const gxBase = tr ? gx + <usize>t0 * rowG : gx;
    gemm_forward(gxBase, Np, x + <usize>t0 * rowX, ldx, Wih, bih, 0, n * B, I, nP, 12, 0);
    for (let j = 0; j < n; j++) {
      const t = rev ? t0 + n - 1 - j : t0 + j;
      const g = gxBase + <usize>(t - t0) * rowG;
      const hp = hs + <usize>slotOf(s, tr, rev, T) * hSlot, hn = hs + <usize>slotOf(s + 1, tr, rev, T) * hSlot;
      if (resetBefore) stepResetBefore(hn, tr, ns + (tr ? <usize>t * hSlot : 0), g, hp, Hp, Whh, bhh, H, B, nP);
      else if (gv) stepGemv(hn, tr ? g : 0, tr ? ns + <usize>t * hSlot : 0, g, hp, D, bhh, H, nP, trow, (s + odd) & 1);
      else if (ASC_FEATURE_RELAXED_SIMD && B >= 3) {
        step3(hn, tr ? g : 0, tr ? ns + <usize>t * hSlot : 0, g, hp, Hp, Whh, bhh, H, B, nP, tb);
      } else step(hn, tr ? g : 0, tr ? ns + <usize>t * hSlot : 0, g, hp, Hp, Whh, bhh, H, B, nP, tb);
      holdInactive(hn, hp, Hp, lengths, t, B);
      storeOutput(out + <usize>t * rowO, ldo, hn, Hp, H, lengths, t, B);
      s++;
    }
  }
  storeState(hN, hs + <usize>slotOf(T, tr, rev, T) * hSlot, Hp, H, B);
}

// @ts-ignore: decorator
@inline function q16(n: i32): i32 { return ((n + 15) >> 4) << 4; }

/** Bytes of scratch gru_backward needs besides the forward pass's training scratch. */
export function gru_backward_scratch_bytes(T: i32, B: i32, I: i32, H: i32): usize {
  const Np = panels(H) * 12, Wd = q16(H), Iq = q16(I), R = T * B;
  const dot = gemvFits(T, B, Wd, Np) ? <usize>gemvFloats(Wd, Np) : 0; // W_hh^T in gemv.ts' layout (reset after)
  return (<usize>Wd * Np + <usize>Iq * Np + <usize>3 * B * Wd + <usize>R * Np + weightGradScratch(max(H, I), R) +
    <usize>R * Iq + <usize>B * Np + dot) << 2; // + the reset-before step's dan and [dar, daz] rows
}

// @ts-ignore: decorator
@inline function dsig(dy: v128, y: v128): v128 {
  return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(f32x4.splat(1), y)));
}

/**
 * Backpropagation through time for one direction of one GRU layer, after gru_forward(..., train = 1); arguments
 * as lstm_backward without cell state or projection. The recurrent pre-activation gradient (r, z and the
 * W_hn h + b_hn part of n) overwrites the saved gates; the input one (r, z and the whole n pre-activation)
 * differs in its n part and has its own buffer. Reset before: the input one is all there is (dAx; see
 * resetBeforeStep) and the saved gates are only read.
 */
export function gru_backward(dX: usize, lddx: i32, accDx: i32, dh0: usize,
                             dWih: usize, dWhh: usize, dbih: usize, dbhh: usize,
                             dOut: usize, ldo: i32, dhN: usize,
                             x: usize, ldx: i32, Wih: usize, Whh: usize, lengths: usize,
                             scratch: usize, bscratch: usize, T: i32, B: i32, I: i32, H: i32, reverse: i32,
                             dhnorm: usize, resetBefore: i32): void {
  const rev = reverse != 0;
  const nP = panels(H), Np = nP * 12, Hp = nP * 4;
  const Wd = q16(H), Iq = q16(I), R = T * B;
  const gx = scratch;
  const hs = gx + (<usize>T * B * Np << 2);
  const ns = hs + (<usize>(T + 1) * B * Hp << 2);
  const hSlot = <usize>(B * Hp) << 2;
  const WhhT = bscratch;
  const WihT = WhhT + (<usize>Wd * Np << 2);
  const dhA = WihT + (<usize>Iq * Np << 2);
  const dhB = dhA + (<usize>B * Wd << 2);
  const dAx = dhB + (<usize>B * Wd << 2);
  const At = dAx + (<usize>R * Np << 2);
  const dXt = At + (weightGradScratch(max(H, I), R) << 2);
  const drh = dXt + (<usize>R * Iq << 2);
  const dg = drh + (<usize>B * Wd << 2);
  const DT = dg + (<usize>B * Np << 2);
  const rowG = <usize>(B * Np) << 2, rowO = <usize>(B * ldo) << 2;
  // Batch 1 over enough steps (reset after): dh_{t-1} += dA W_hh as dot products (gemv.ts), as the forward does.
  const gv = gemvFits(T, B, Wd, Np) && !resetBefore;

  // Reset before: W_hn^T (Hp rows) and W_h{r,z}^T (2 Hp rows) in the space of W_hh^T, which they replace.
  const WrzT = WhhT + (<usize>Wd * Hp << 2);
  if (resetBefore) {
    pack_transpose_cols(WhhT, Whh, H, nP, 8, 4);
    pack_transpose_cols(WrzT, Whh, H, nP, 0, 8);
  } else {
    pack_transpose(WhhT, Whh, H, nP, 12);
    if (gv) gemv_pack(DT, WhhT, Np, Wd >> 4, 16);
  }
  pack_transpose(WihT, Wih, I, nP, 12);
  loadState(dhA, Wd, dhN, H, B);
  zero_f32(dhB, B * Wd);
  let cur = dhA, nxt = dhB;
  for (let j = T - 1; j >= 0; j--) {
    const t = rev ? T - 1 - j : j;
    addUpstream(cur, Wd, dOut ? dOut + <usize>t * rowO : 0, ldo, H, lengths, t, B);
    recordNorm(dhnorm, t, cur, Wd, H, B);
    const g = gx + <usize>t * rowG, gX = dAx + <usize>t * rowG;
    const hBefore = hs + <usize>(rev ? t + 1 : t) * hSlot;
    const nsT = ns + <usize>t * hSlot;
    if (resetBefore) {
      resetBeforeStep(nxt, cur, Wd, g, gX, hBefore, drh, dg, WhhT, WrzT, lengths, t, B, nP, Hp);
    } else {
      for (let b = 0; b < B; b++) {
        const gb = g + (<usize>(b * Np) << 2), xb = gX + (<usize>(b * Np) << 2);
        const dcur = cur + (<usize>(b * Wd) << 2), dnxt = nxt + (<usize>(b * Wd) << 2);
        if (!isActive(lengths, b, t)) {
          zero_f32(gb, Np); zero_f32(xb, Np);
          memory.copy(dnxt, dcur, <usize>Wd << 2);
          continue;
        }
        const hb = hBefore + (<usize>(b * Hp) << 2), nb = nsT + (<usize>(b * Hp) << 2);
        for (let p = 0; p < nP; p++) {
          const gt = gb + (<usize>(p * 12) << 2), xt = xb + (<usize>(p * 12) << 2), u = <usize>(p * 4) << 2;
          const r = v128.load(gt), z = v128.load(gt, 16), n = v128.load(gt, 32);
          const dh = v128.load(dcur + u);
          const one = f32x4.splat(1);
          const dz = f32x4.mul(dh, f32x4.sub(v128.load(hb + u), n));
          const dan = f32x4.mul(f32x4.mul(dh, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
          const dar = dsig(f32x4.mul(dan, v128.load(nb + u)), r);
          const daz = dsig(dz, z);
          v128.store(gt, dar); v128.store(gt, daz, 16); v128.store(gt, f32x4.mul(dan, r), 32);
          v128.store(xt, dar); v128.store(xt, daz, 16); v128.store(xt, dan, 32);
          v128.store(dnxt + u, f32x4.mul(dh, z));
        }
      }
      if (gv) gemv_forward(nxt, nxt, g, DT, Wd, Np, j & 1);
      else gemm_forward(nxt, Wd, g, Np, WhhT, 0, 0, B, Np, Wd >> 4, 16, 1);
    }
    const sw = cur; cur = nxt; nxt = sw;
  }
  storeState(dh0, cur, Wd, H, B);
  const hPrev = hs + (rev ? hSlot : 0);
  if (resetBefore) {
    // dW_h{r,z} += [dar, daz]^T h_{t-1} and dW_hn += dan^T (r * h_{t-1}) (8 and 4 columns a panel), dW_ih and both
    // biases (b_hn sits outside r: they share dAx), all in one pass over dAx.
    weightGradsSplit(dWhh, hPrev, ns, Hp, H, dWih, x, ldx, I, dbih, dbhh, dAx, Np, R, nP, At);
  } else {
    weightGrads(dWhh, hPrev, Hp, H, 0, 0, 0, 0, dbhh, 0, gx, Np, R, nP, 12, At);
    weightGrads(0, 0, 0, 0, dWih, x, ldx, I, dbih, 0, dAx, Np, R, nP, 12, At);
  }
  inputGrad(dX, lddx, accDx, dAx, Np, WihT, R, I, dXt);
}

/**
 * Columns j0 .. j0 + nj - 1 of each panel of a packed matrix (nP panels of K x NR, column j0 + j of panel p being
 * row p*nj + j of M, Nc = nP*nj rows), transposed into gemm panels of 16 as pack_transpose does:
 *   dst[(q*Nc + p*nj + j)*16 + kk] = src[(p*K + q*16 + kk)*NR + j0 + j], zero for q*16 + kk >= K.
 */
function pack_transpose_cols(dst: usize, src: usize, K: i32, nP: i32, j0: i32, nj: i32): void {
  const Nc = nP * nj;
  const nQ = (K + 15) >> 4;
  memory.fill(dst, 0, <usize>(nQ * Nc * 16) << 2);
  for (let p = 0; p < nP; p++) {
    for (let k = 0; k < K; k++) {
      const q = k >> 4, kk = k & 15;
      const s = src + (<usize>((p * K + k) * 12 + j0) << 2);
      const d = dst + (<usize>((q * Nc + p * nj) * 16 + kk) << 2);
      for (let j = 0; j < nj; j++) {
        store<f32>(d + (<usize>(j * 16) << 2), load<f32>(s + (<usize>j << 2)));
      }
    }
  }
}

/**
 * One backward step of the reset-before GRU. With rh = r * h_{t-1} and a_n = gx_n + W_hn rh + b_hn:
 * dz = dh (h - n), dan = dh (1 - z)(1 - n^2), d(rh) = dan W_hn, dr = d(rh) h, and
 * dh_{t-1} = dh z + d(rh) r + [dar, daz] W_h{r,z}. dAx gets [dar, daz, dan] (the input pre-activations and, since
 * b_hn sits outside r here, every bias, and with h_{t-1} and r * h_{t-1} all of dW_hh); the gates buffer is only
 * read. The two products run on transposed packings of W_hn alone (K = Hp) and of W_h{r,z} (K = 2 Hp), not on
 * all of W_hh^T with zero rows for 2/3 and 1/3 of K: the non-zero terms are summed in the same order as there.
 */
function resetBeforeStep(nxt: usize, cur: usize, Wd: i32, g: usize, gX: usize, hBefore: usize, drh: usize,
                         dg: usize, WnT: usize, WrzT: usize, lengths: usize, t: i32, B: i32, nP: i32, Hp: i32): void {
  const Np = nP * 12;
  const one = f32x4.splat(1);
  // dg holds dan (B x Hp, unit order) for the first product, then [dar, daz] (B x 2 Hp, by panel) for the second.
  for (let b = 0; b < B; b++) {
    const gb = g + (<usize>(b * Np) << 2), xb = gX + (<usize>(b * Np) << 2);
    const dcur = cur + (<usize>(b * Wd) << 2), dnxt = nxt + (<usize>(b * Wd) << 2);
    const danb = dg + (<usize>(b * Hp) << 2);
    if (!isActive(lengths, b, t)) { zero_f32(xb, Np); zero_f32(danb, Hp); continue; }
    const hb = hBefore + (<usize>(b * Hp) << 2);
    for (let p = 0; p < nP; p++) {
      const gt = gb + (<usize>(p * 12) << 2), xt = xb + (<usize>(p * 12) << 2), u = <usize>(p * 4) << 2;
      const r = v128.load(gt), z = v128.load(gt, 16), n = v128.load(gt, 32);
      const dh = v128.load(dcur + u);
      const dz = f32x4.mul(dh, f32x4.sub(v128.load(hb + u), n));
      const dan = f32x4.mul(f32x4.mul(dh, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      // r is kept in dAx until d(rh) is known.
      v128.store(xt, r); v128.store(xt, dsig(dz, z), 16); v128.store(xt, dan, 32);
      v128.store(danb + u, dan);
      v128.store(dnxt + u, f32x4.mul(dh, z));
    }
  }
  gemm_forward(drh, Wd, dg, Hp, WnT, 0, 0, B, Hp, Wd >> 4, 16, 0);
  const Hp2 = Hp * 2;
  for (let b = 0; b < B; b++) {
    const xb = gX + (<usize>(b * Np) << 2);
    const dcur = cur + (<usize>(b * Wd) << 2), dnxt = nxt + (<usize>(b * Wd) << 2);
    const drz = dg + (<usize>(b * Hp2) << 2);
    if (!isActive(lengths, b, t)) { memory.copy(dnxt, dcur, <usize>Wd << 2); zero_f32(drz, Hp2); continue; }
    const hb = hBefore + (<usize>(b * Hp) << 2), db = drh + (<usize>(b * Wd) << 2);
    for (let p = 0; p < nP; p++) {
      const xt = xb + (<usize>(p * 12) << 2), u = <usize>(p * 4) << 2, v = <usize>(p * 8) << 2;
      const r = v128.load(xt), daz = v128.load(xt, 16);
      const d = v128.load(db + u);
      const dar = dsig(f32x4.mul(d, v128.load(hb + u)), r);
      v128.store(xt, dar);
      v128.store(drz + v, dar); v128.store(drz + v, daz, 16);
      v128.store(dnxt + u, madd(d, r, v128.load(dnxt + u)));
    }
  }
  gemm_forward(nxt, Wd, dg, Hp2, WrzT, 0, 0, B, Hp2, Wd >> 4, 16, 1);
}
