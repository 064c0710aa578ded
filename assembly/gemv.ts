// The batch-1 recurrent product y = W h as dot products, for a whole sequence of steps with the same W.
//
// Why a second layout: the panel layout (gemm.ts) broadcasts one h[k] across 16 columns and loads 4 weight vectors
// per k; with one row there is no second row to reuse those loads, and V8's code for the single-row panel path
// (gemm.ts row16: two k sets, 12 + 4 columns) ran at 30-34 GFLOP/s with K = 256 and 22-25 with K = 512 on an AMD
// EPYC (Zen 4) whose relaxed peak is ~58, whether W sat in L1, L2 or L3 (bench/matvec): it is bound by its own
// instruction stream, not by the memory. Here each accumulator holds one output column's partial sums over
// k = 4i..4i+3, so a loaded h vector feeds 6 columns and every weight load feeds one multiply-add that needs no
// broadcast: 6 accumulators + 1 h vector + 6 weight loads = 13 registers (V8 issues a loop body's loads first, so
// 7 columns sit at the 15-register edge and 8 spill), measured 38-43 GFLOP/s at K = 256 and 512 alike.
//
// Layout D (packed from the panel layout by gemv_pack, once per call, or once per weight change when the caller
// keeps it: FWD_DOT_EXT / FWD_DOT_VALID below): output columns c = p*NR + j in flat panel order, in groups of 6; per
// group, per block of 4 k, the 6 columns' 4 weights: D[g][kb][jj][i] = W[col 6g + jj, 4kb + i], zero for k >= K
// and for columns past N. Summation order: four interleaved partial sums per column, combined at the end; the
// results differ from the panel path's by rounding only (both well within the 1e-5 agreement with PyTorch).

import { madd } from './simd';

/**
 * Calls with at least this many steps at batch 1 take the dot-product path when they pack the layout themselves:
 * the packing costs about 4 batch-1 products and each product is 1.3-1.4x faster (more at K = 512), so it pays
 * off after a dozen steps. A call given a kept layout (FWD_DOT_EXT) takes the path at any T.
 */
export const GEMV_MIN_T: i32 = 16;

/** Forward flags (the `train` argument of the *_forward kernels): keep activations for backward. */
export const FWD_TRAIN: i32 = 1;
/** Forward flags: batch-1 calls of at least GEMV_MIN_T steps (any T with FWD_DOT_EXT) may use the dot-product path. */
export const FWD_GEMV: i32 = 2;
/**
 * Forward flags: the dot-product layout D lives in the caller's block (the kernels' `dot` argument, of
 * *_dot_bytes bytes) instead of the scratch, so that it can outlive the call; *_scratch_bytes leaves it out.
 */
export const FWD_DOT_EXT: i32 = 4;
/**
 * Forward flags (with FWD_DOT_EXT): `dot` already holds this W_hh in the layout, packed by an earlier call from
 * the same weights, so the call skips gemv_pack. The caller vouches for that (src/nn/recurrent.ts does only while
 * no raw parameter offsets were handed out); the path taken, and so every result, is the same either way.
 */
export const FWD_DOT_VALID: i32 = 8;
/**
 * Forward flags: the call's first step reads W_hh's column groups last to first (gemv_forward's `reverse`), and
 * its second first to last, and so on. The batch-1 steps alternate the order so that a W_hh larger than L2 starts
 * each step on what the previous one read last; a caller that runs one step per call (a streaming session) passes
 * this on every other call to keep alternating across calls. Results do not depend on it, bit for bit.
 */
export const FWD_ODD: i32 = 16;

/**
 * Largest D (floats) the path is taken for: 8 MiB, twice LSTM H512's W_hh. D is a second copy of W_hh in scratch,
 * and the gain shrinks as W_hh outgrows the caches (gemv_forward against gemm_forward with M = 1 at K = 512,
 * N = 4096, 8 MiB: 1.07-1.19x over four runs, against 1.3-1.4x at 1 MiB), so a larger model at batch 1 keeps its
 * memory rather than a second copy of W_hh for little.
 */
export const GEMV_MAX_FLOATS: i32 = 1 << 21;

// @ts-ignore: decorator
@inline function q4(n: i32): i32 { return (n + 3) & ~3; }

/** Floats of D for N output columns and K inputs. */
// @ts-ignore: decorator
@inline export function gemvFloats(N: i32, K: i32): i32 {
  return ((N + 5) / 6) * q4(K) * 6;
}

/** Whether a call of T steps of B rows with an N x K recurrent product takes the dot-product path. */
// @ts-ignore: decorator
@inline export function gemvFits(T: i32, B: i32, N: i32, K: i32): bool {
  return B == 1 && T >= GEMV_MIN_T && gemvFloats(N, K) <= GEMV_MAX_FLOATS;
}

/** Whether a forward call with these flags repacks D (the path is taken and D is not vouched for). */
// @ts-ignore: decorator
@inline export function repackDot(flags: i32): bool {
  return (flags & FWD_DOT_VALID) == 0;
}

/** Whether D is the caller's block (FWD_DOT_EXT) rather than part of the scratch. */
// @ts-ignore: decorator
@inline export function dotExternal(flags: i32): bool {
  return (flags & FWD_DOT_EXT) != 0;
}

/**
 * Whether a forward call with these flags takes the path: gemvFits, except that a call given a kept layout
 * (FWD_DOT_EXT) takes it for any T, a streaming step included. Its packing is then paid once per weight change,
 * not per call, so GEMV_MIN_T's amortisation no longer applies; the caller passes FWD_DOT_EXT to a short call
 * only when the layout will be reused (src/nn/recurrent.ts dotArg).
 */
// @ts-ignore: decorator
@inline export function useGemv(flags: i32, T: i32, B: i32, N: i32, K: i32): bool {
  return (flags & FWD_GEMV) != 0 && B == 1 && (T >= GEMV_MIN_T || dotExternal(flags)) &&
    gemvFloats(N, K) <= GEMV_MAX_FLOATS;
}

/**
 * D (layout above) from nP packed panels of K rows x NR columns (P[p][k][j], gemm.ts' layout). D holds
 * gemvFloats(nP * NR, K) floats, 16-byte aligned. D is written in order, a group at a time: per block of 4 rows
 * the group's 6 columns are a run of 4 and a run of 2 in the panel rows (either may lie in the next panel when
 * NR = 16), read as a vector and a 64-bit half per row and transposed in registers. Writing D sequentially runs at
 * about twice the speed of scattering it from the panels' order.
 */
export function gemv_pack(D: usize, P: usize, K: i32, nP: i32, NR: i32): void {
  const N = nP * NR, KB = q4(K) >> 2, G = (N + 5) / 6;
  const rowP = <usize>NR << 2, panelB = <usize>K * rowP;
  const z = f32x4.splat(0);
  let d = D;
  for (let g = 0; g < G; g++) {
    const c0 = g * 6, nc = min(6, N - c0);
    const p0 = c0 / NR, j0 = c0 % NR;
    // Runs: v = 4 columns starting at (pv, jv) into slots vs..vs+3, u = 2 columns at (pu, ju) into us, us+1.
    let pv = p0, jv = j0, vs = 0, pu = p0, ju = j0 + 4, us = 4;
    const hasV = nc >= 4, hasU = nc != 4;
    if (nc == 2) { ju = j0; us = 0; }
    else if (j0 + 6 > NR && nc == 6) {
      if (j0 + 4 <= NR) { pu = p0 + 1; ju = 0; } // 4 here, 2 in the next panel
      else { ju = j0; us = 0; pv = p0 + 1; jv = 0; vs = 2; } // 2 here, 4 in the next panel
    }
    let sv = P + <usize>pv * panelB + (<usize>jv << 2), su = P + <usize>pu * panelB + (<usize>ju << 2);
    if (nc < 6) for (let o: usize = 0; o < <usize>KB * 96; o += 16) v128.store(d + o, z);
    for (let kb = 0; kb < KB; kb++) {
      const k = kb << 2;
      const r1 = k + 1 < K, r2 = k + 2 < K, r3 = k + 3 < K;
      if (hasV) {
        const v0 = v128.load(sv);
        const v1 = r1 ? v128.load(sv + rowP) : z;
        const v2 = r2 ? v128.load(sv + 2 * rowP) : z;
        const v3 = r3 ? v128.load(sv + 3 * rowP) : z;
        const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
        const o = d + (<usize>vs << 4);
        v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(o, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
        v128.store(o, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
        v128.store(o, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
      }
      if (hasU) {
        const u0 = v128.load64_zero(su);
        const u1 = r1 ? v128.load64_zero(su + rowP) : z;
        const u2 = r2 ? v128.load64_zero(su + 2 * rowP) : z;
        const u3 = r3 ? v128.load64_zero(su + 3 * rowP) : z;
        const w01 = v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), w23 = v128.shuffle<f32>(u2, u3, 0, 1, 4, 5);
        const o = d + (<usize>us << 4);
        v128.store(o, v128.shuffle<f32>(w01, w23, 0, 2, 4, 6));
        v128.store(o, v128.shuffle<f32>(w01, w23, 1, 3, 5, 7), 16);
      }
      sv += rowP << 2; su += rowP << 2; d += 96;
    }
  }
}

/**
 * y[c] = (I0[c] when I0 is non-zero) + sum_{k < K} W[c, k] A[k] for c < N, with W packed in D by gemv_pack(.., K,
 * nP, NR) (N = nP * NR). A holds q4(K) floats, zero past K (the recurrent states' padding is). C may equal I0.
 * reverse != 0 visits the column groups last to first (each column's sum is the same, bit for bit): a sequence
 * alternates it every step so that a step starts on the part of D the previous one read last, which a cache
 * smaller than D still holds (read in one direction only, a D larger than the cache evicts itself in full every
 * step, and every step reads all of it from the next level).
 */
export function gemv_forward(C: usize, I0: usize, A: usize, D: usize, N: i32, K: i32, reverse: i32): void {
  const KB = q4(K) >> 2, G = (N + 5) / 6;
  const aEnd = A + (<usize>KB << 4);
  const groupB = <usize>KB * 96;
  const rev = reverse != 0;
  for (let gi = 0; gi < G; gi++) {
    const g = rev ? G - 1 - gi : gi;
    let w = D + <usize>g * groupB;
    let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
    // Pointer-driven (V8 keeps a counter and the address arithmetic as separate instructions otherwise).
    let a = A;
    while (a < aEnd) {
      const av = v128.load(a);
      x0 = madd(v128.load(w), av, x0); x1 = madd(v128.load(w, 16), av, x1);
      x2 = madd(v128.load(w, 32), av, x2); x3 = madd(v128.load(w, 48), av, x3);
      x4 = madd(v128.load(w, 64), av, x4); x5 = madd(v128.load(w, 80), av, x5);
      a += 16; w += 96;
    }
    // Lane sums: s0123 = [sum x0, sum x1, sum x2, sum x3], s45 lanes 0-1 = [sum x4, sum x5].
    const s01 = f32x4.add(v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), v128.shuffle<f32>(x0, x1, 2, 6, 3, 7));
    const s23 = f32x4.add(v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), v128.shuffle<f32>(x2, x3, 2, 6, 3, 7));
    let r = f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
    const s45 = f32x4.add(v128.shuffle<f32>(x4, x5, 0, 4, 1, 5), v128.shuffle<f32>(x4, x5, 2, 6, 3, 7));
    let r2 = f32x4.add(s45, v128.shuffle<f32>(s45, s45, 2, 3, 0, 1));
    const c = C + <usize>(g * 24);
    const n = N - g * 6;
    if (n >= 6) {
      if (I0) {
        const i = I0 + <usize>(g * 24);
        r = f32x4.add(r, v128.load(i));
        r2 = f32x4.add(r2, v128.load64_zero(i + 16));
      }
      v128.store(c, r);
      v128.store64_lane(c + 16, r2, 0);
    } else {
      // The last, partial group (N is a multiple of 4: 2 or 4 columns).
      const i = I0 + <usize>(g * 24);
      if (n == 4) {
        if (I0) r = f32x4.add(r, v128.load(i));
        v128.store(c, r);
      } else {
        if (I0) r = f32x4.add(r, v128.load64_zero(i));
        v128.store64_lane(c, r, 0);
      }
    }
  }
}
