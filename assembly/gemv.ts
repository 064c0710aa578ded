// The batch-1 recurrent product y = W h, for a whole sequence of steps with the same W.
//
// Why a second layout: the panel layout (gemm.ts) is 16 columns wide, and with one row there is no second row to
// reuse its weight loads: V8's code for the single-row panel path (gemm.ts row16: two k sets, 12 + 4 columns, so
// that 8 accumulators cover the multiply-add latency) ran at 30-34 GFLOP/s with K = 256 and 22-25 with K = 512 on an
// AMD EPYC (Zen 4) whose relaxed peak is ~58, whether W sat in L1, L2 or L3 (bench/matvec): it is bound by its own
// instruction stream, the broadcast of h[k] shared by 4 weight loads only. Here a group is 7 column vectors (28
// columns) wide: per k, one broadcast of h[k] (a load: vbroadcastss) feeds 7 multiply-adds whose 7 weight loads are
// adjacent, 8 loads for 7 multiply-adds, and each column's sum ends in its accumulator's lane (no horizontal sums).
// V8 issues a loop body's loads first, so 7 accumulators + 1 broadcast + 7 loaded weights = 15 registers, all that
// V8 allocates on x64 (xmm15 is its scratch); 8 would spill. Each accumulator takes one multiply-add per k, and an
// iteration's 8 loads take 4 cycles at 2 loads a cycle: the 4-cycle latency is covered.
//
// The previous layout (6 columns, each accumulator holding one column's partial sums over 4 k, reduced across lanes
// at the end of each group) read 7 loads per 6 multiply-adds and spent about 8% of its instructions on the
// reductions; this one made the batch-1 forwards 1.00-1.03x faster at hidden 128, 1.04-1.08x at 256 and 1.02-1.07x
// at 512 in the relaxed build, 1.02-1.09x in the plain one (2026-12-05 Xeon, bench/forward-ab, paired).
//
// Layout D (packed from the panel layout by gemv_pack, once per call, or once per weight change when the caller
// keeps it: FWD_DOT_EXT / FWD_DOT_VALID below): the n = N / 4 column vectors (N a multiple of 4, as every panel
// width is) in groups, a7 of 7 vectors, then a6 of 6 (a6 < 7, the fewest that make n = 7 a7 + 6 a6), or, for the
// few small n that cannot be written so (n < 30), a7 of 7 and one last group of n mod 7; group by group, per k, the
// group's columns: D[group][k][4 v + i] = W[col 4 (v0 + v) + i, k] for the group's first vector v0. N * K floats.
// Summation order: per column, the seed (I0, or 0) then k = 0, 1, .., K - 1, one multiply-add each: the order of the
// panel path's two-row tiles (lstm.ts / gru.ts / rnn.ts step), so a batch-1 step computes each sum as those do.

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

/** Floats of D for N output columns (a multiple of 4) and K inputs. */
// @ts-ignore: decorator
@inline export function gemvFloats(N: i32, K: i32): i32 {
  return N * K;
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

/** Groups of 6 vectors among n (layout above): the fewest that make n = 7 a7 + 6 a6, or 0 when none do. */
// @ts-ignore: decorator
@inline function sixes(n: i32): i32 {
  const b = (7 - n % 7) % 7;
  return 6 * b > n ? 0 : b;
}

/** First column vector of group g of n vectors with a7 groups of 7 and a6 of 6; n past the last group. */
// @ts-ignore: decorator
@inline function groupStart(g: i32, a7: i32, a6: i32, n: i32): i32 {
  return g <= a7 ? g * 7 : g <= a7 + a6 ? a7 * 7 + (g - a7) * 6 : n;
}

/**
 * D (layout above) from nP packed panels of K rows x NR columns (P[p][k][j], gemm.ts' layout; NR a multiple of 4).
 * D holds gemvFloats(nP * NR, K) floats, 16-byte aligned, written in order (about twice as fast as scattering it
 * down the columns at hidden 512): per group, per k, the group's column vectors, each a 16-byte run of a panel row,
 * stepping into the next panel's row k where a panel ends.
 */
export function gemv_pack(D: usize, P: usize, K: i32, nP: i32, NR: i32): void {
  const n = (nP * NR) >> 2, a6 = sixes(n), a7 = (n - 6 * a6) / 7;
  const G = a7 + a6 + (n > 7 * a7 + 6 * a6 ? 1 : 0);
  const rowP = <usize>NR << 2, panelB = <usize>K * rowP;
  let d = D;
  for (let g = 0; g < G; g++) {
    const v0 = groupStart(g, a7, a6, n), w = groupStart(g + 1, a7, a6, n) - v0;
    const c0 = v0 << 2, j0 = c0 % NR;
    let row = P + <usize>(c0 / NR) * panelB + (<usize>j0 << 2);
    for (let k = 0; k < K; k++) {
      let src = row, j = j0;
      for (let v = 0; v < w; v++) {
        v128.store(d, v128.load(src));
        d += 16; src += 16; j += 4;
        if (j == NR) { j = 0; src += panelB - rowP; }
      }
      row += rowP;
    }
  }
}

// The groups' kernels: accumulators seeded from i0 (or 0), then one multiply-add per k, pointer-driven (V8 keeps a
// counter and the address arithmetic as separate instructions otherwise).
// @ts-ignore: decorator
@inline function group7(c: usize, i0: usize, A: usize, w: usize, K: i32): void {
  let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0;
  if (i0) {
    x0 = v128.load(i0); x1 = v128.load(i0, 16); x2 = v128.load(i0, 32); x3 = v128.load(i0, 48);
    x4 = v128.load(i0, 64); x5 = v128.load(i0, 80); x6 = v128.load(i0, 96);
  }
  const aEnd = A + (<usize>K << 2);
  for (let a = A; a < aEnd; a += 4) {
    const s = v128.load32_splat(a);
    x0 = madd(s, v128.load(w), x0); x1 = madd(s, v128.load(w, 16), x1); x2 = madd(s, v128.load(w, 32), x2);
    x3 = madd(s, v128.load(w, 48), x3); x4 = madd(s, v128.load(w, 64), x4); x5 = madd(s, v128.load(w, 80), x5);
    x6 = madd(s, v128.load(w, 96), x6);
    w += 112;
  }
  v128.store(c, x0); v128.store(c, x1, 16); v128.store(c, x2, 32); v128.store(c, x3, 48);
  v128.store(c, x4, 64); v128.store(c, x5, 80); v128.store(c, x6, 96);
}

// @ts-ignore: decorator
@inline function group6(c: usize, i0: usize, A: usize, w: usize, K: i32): void {
  let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
  if (i0) {
    x0 = v128.load(i0); x1 = v128.load(i0, 16); x2 = v128.load(i0, 32); x3 = v128.load(i0, 48);
    x4 = v128.load(i0, 64); x5 = v128.load(i0, 80);
  }
  const aEnd = A + (<usize>K << 2);
  for (let a = A; a < aEnd; a += 4) {
    const s = v128.load32_splat(a);
    x0 = madd(s, v128.load(w), x0); x1 = madd(s, v128.load(w, 16), x1); x2 = madd(s, v128.load(w, 32), x2);
    x3 = madd(s, v128.load(w, 48), x3); x4 = madd(s, v128.load(w, 64), x4); x5 = madd(s, v128.load(w, 80), x5);
    w += 96;
  }
  v128.store(c, x0); v128.store(c, x1, 16); v128.store(c, x2, 32); v128.store(c, x3, 48);
  v128.store(c, x4, 64); v128.store(c, x5, 80);
}

/** The last group of r < 7 vectors of a small n (layout above): one vector at a time, the same order per column. */
function groupTail(c: usize, i0: usize, A: usize, w: usize, K: i32, r: i32): void {
  const rowW = <usize>r << 4;
  for (let v = 0; v < r; v++) {
    const o = <usize>v << 4;
    let x = i0 ? v128.load(i0 + o) : f32x4.splat(0);
    let p = w + o;
    for (let k = 0; k < K; k++) {
      x = madd(v128.load32_splat(A + (<usize>k << 2)), v128.load(p), x);
      p += rowW;
    }
    v128.store(c + o, x);
  }
}

/**
 * y[c] = (I0[c] when I0 is non-zero) + sum_{k < K} W[c, k] A[k] for c < N, with W packed in D by gemv_pack(.., K,
 * nP, NR) (N = nP * NR). A holds K floats. C may equal I0; nothing past C's N floats is written.
 * reverse != 0 visits the column groups last to first (each column's sum is the same, bit for bit): a sequence
 * alternates it every step so that a step starts on the part of D the previous one read last, which a cache
 * smaller than D still holds (read in one direction only, a D larger than the cache evicts itself in full every
 * step, and every step reads all of it from the next level).
 */
export function gemv_forward(C: usize, I0: usize, A: usize, D: usize, N: i32, K: i32, reverse: i32): void {
  const n = N >> 2, a6 = sixes(n), a7 = (n - 6 * a6) / 7;
  const G = a7 + a6 + (n > 7 * a7 + 6 * a6 ? 1 : 0);
  const vecB = <usize>K << 4; // bytes of D per column vector
  const rev = reverse != 0;
  for (let gi = 0; gi < G; gi++) {
    const g = rev ? G - 1 - gi : gi;
    const v0 = groupStart(g, a7, a6, n);
    const off = <usize>v0 << 4, w = D + <usize>v0 * vecB, i0 = I0 ? I0 + off : 0;
    if (g < a7) group7(C + off, i0, A, w, K);
    else if (g < a7 + a6) group6(C + off, i0, A, w, K);
    else groupTail(C + off, i0, A, w, K, groupStart(g + 1, a7, a6, n) - v0);
  }
}
