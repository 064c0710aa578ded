// Packed, register-tiled SIMD matrix multiply.
//
// Weights W of shape (N, K) (PyTorch's layout, y = x W^T) are packed once into panels of NR output columns:
//   Bp[p][k][j] = W[col(p, j), k]       (panel p, row k, column j within the panel; zero where col is padding)
// so that the inner loop reads NR consecutive floats per k. NR is 16 (four f32x4) or 12 (three). The column map
// col(p, j) is chosen by the packer in TypeScript: recurrent cells interleave their gates inside a panel so that
// one tile holds every gate of the same hidden units, which is what lets the step kernels fuse the gate math
// with the product (see lstm.ts). Panels are visited in the outer loop and rows in the inner loop so a panel
// (K*NR floats) stays in L1 while the rows stream past it.
//
// Tiles are 2 rows x NR columns: 2*NR/4 accumulators plus NR/4 panel loads and 2 splats fit the 15 vector
// registers V8 allocates on x64 (xmm15 is its scratch) without spilling. A single remaining row uses two
// accumulator sets (alternate k) so the add latency does not bound the loop.

import { madd, zero_f32 } from './simd';

// @ts-ignore: decorator
@inline function bias(b1: usize, b2: usize, off: usize): v128 {
  let v = f32x4.splat(0);
  if (b1) v = f32x4.add(v, v128.load(b1 + off));
  if (b2) v = f32x4.add(v, v128.load(b2 + off));
  return v;
}

// @ts-ignore: decorator
@inline function seed(row: usize, off: usize, q: v128, has: bool): v128 {
  return has ? f32x4.add(q, v128.load(row + off)) : q;
}

/**
 * One panel: C[m, j] = bias1[j] + bias2[j] + (I0[m, j] for the first nI vectors of 4 columns) +
 * sum_k A[m, k] P[k, j] for m < M, j < NR. Strides ldc, ldi, lda are in bytes; C may equal I0 (in place);
 * nI must be 0 when I0 is 0; biases may be 0. This is the one register-tiled product every kernel runs.
 */
export function panel_forward(C: usize, ldc: usize, I0: usize, ldi: usize, nI: i32, b1: usize, b2: usize,
                              A: usize, lda: usize, P: usize, M: i32, K: i32, NR: i32): void {
  if (NR == 16) panel16(C, ldc, I0, ldi, nI, b1, b2, A, lda, P, M, K);
  else panel12(C, ldc, I0, ldi, nI, b1, b2, A, lda, P, M, K);
}

function panel16(C: usize, ldc: usize, I0: usize, ldi: usize, nI: i32, b1: usize, b2: usize,
                 A: usize, lda: usize, P: usize, M: i32, K: i32): void {
  const q0 = bias(b1, b2, 0), q1 = bias(b1, b2, 16), q2 = bias(b1, b2, 32), q3 = bias(b1, b2, 48);
  const l0 = nI > 0, l1 = nI > 1, l2 = nI > 2, l3 = nI > 3;
  let m = 0;
  for (; m + 2 <= M; m += 2) {
    const c0 = C + <usize>m * ldc, c1 = c0 + ldc;
    const i0 = I0 + <usize>m * ldi, i1 = i0 + ldi;
    const a0 = A + <usize>m * lda, a1 = a0 + lda;
    let x0 = seed(i0, 0, q0, l0), x1 = seed(i0, 16, q1, l1), x2 = seed(i0, 32, q2, l2), x3 = seed(i0, 48, q3, l3);
    let y0 = seed(i1, 0, q0, l0), y1 = seed(i1, 16, q1, l1), y2 = seed(i1, 32, q2, l2), y3 = seed(i1, 48, q3, l3);
    let w = P, pa = a0, pb = a1;
    const aEnd = a0 + (<usize>K << 2);
    while (pa < aEnd) {
      const s0 = v128.load32_splat(pa);
      const s1 = v128.load32_splat(pb);
      const w0 = v128.load(w, 0), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
      x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2); x3 = madd(s0, w3, x3);
      y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2); y3 = madd(s1, w3, y3);
      w += 64; pa += 4; pb += 4;
    }
    v128.store(c0, x0, 0); v128.store(c0, x1, 16); v128.store(c0, x2, 32); v128.store(c0, x3, 48);
    v128.store(c1, y0, 0); v128.store(c1, y1, 16); v128.store(c1, y2, 32); v128.store(c1, y3, 48);
  }
  if (m < M) row16(C + <usize>m * ldc, I0 + <usize>m * ldi, A + <usize>m * lda, P, q0, q1, q2, q3, l0, l1, l2, l3,
                   K);
}

/**
 * The last single row of a 16-wide panel (all of a batch-1 step). V8 issues every load of a loop body first, so
 * a 1 x 16 tile with two k sets (8 accumulators, 8 loads, 2 splats) spills an accumulator to the stack and its
 * add chain then waits on a store-to-load round trip each iteration: measured 18 GFLOP/s against 37 for two rows.
 * Columns 0-11 go in one pass with two k sets (6 + 6 + 2 = 14 registers), columns 12-15 in a second with four
 * (4 + 4 + 4): no spill, and each accumulator's add chain is at most a third of the loop's throughput time.
 */
function row16(c0: usize, i0: usize, a0: usize, P: usize, q0: v128, q1: v128, q2: v128, q3: v128, l0: bool,
               l1: bool, l2: bool, l3: bool, K: i32): void {
  let x0 = seed(i0, 0, q0, l0), x1 = seed(i0, 16, q1, l1), x2 = seed(i0, 32, q2, l2);
  let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0);
  let z0 = seed(i0, 48, q3, l3), z1 = f32x4.splat(0), z2 = f32x4.splat(0), z3 = f32x4.splat(0);
  // Both passes over each block of ROW_KB rows before the next block: the second reads the last 16 bytes of the
  // 64-byte panel rows the first just brought into L1 (a whole 32 KiB panel at K = 512 would not stay there).
  // Blocks are a multiple of 4 rows, so every accumulator sums its k in the same order as without blocks.
  for (let k0 = 0; k0 < K; k0 += ROW_KB) {
    const kn = min(ROW_KB, K - k0);
    // Pointer-driven loops: V8 keeps a k counter and the address arithmetic as separate instructions otherwise.
    let w = P + (<usize>k0 << 6), a = a0 + (<usize>k0 << 2);
    const aEnd = a + (<usize>(kn & ~1) << 2);
    while (a < aEnd) {
      const s0 = v128.load32_splat(a), s1 = v128.load32_splat(a, 4);
      x0 = madd(s0, v128.load(w, 0), x0); x1 = madd(s0, v128.load(w, 16), x1); x2 = madd(s0, v128.load(w, 32), x2);
      y0 = madd(s1, v128.load(w, 64), y0); y1 = madd(s1, v128.load(w, 80), y1); y2 = madd(s1, v128.load(w, 96), y2);
      w += 128; a += 8;
    }
    if (kn & 1) {
      const s0 = v128.load32_splat(a);
      x0 = madd(s0, v128.load(w, 0), x0); x1 = madd(s0, v128.load(w, 16), x1); x2 = madd(s0, v128.load(w, 32), x2);
    }
    w = P + 48 + (<usize>k0 << 6);
    const ab = a0 + (<usize>k0 << 2);
    let k = 0;
    for (; k + 4 <= kn; k += 4) {
      const ka = <usize>k << 2;
      z0 = madd(v128.load32_splat(ab + ka), v128.load(w, 0), z0);
      z1 = madd(v128.load32_splat(ab + ka, 4), v128.load(w, 64), z1);
      z2 = madd(v128.load32_splat(ab + ka, 8), v128.load(w, 128), z2);
      z3 = madd(v128.load32_splat(ab + ka, 12), v128.load(w, 192), z3);
      w += 256;
    }
    for (; k < kn; k++) {
      z0 = madd(v128.load32_splat(ab + (<usize>k << 2)), v128.load(w), z0);
      w += 64;
    }
  }
  v128.store(c0, f32x4.add(x0, y0), 0); v128.store(c0, f32x4.add(x1, y1), 16); v128.store(c0, f32x4.add(x2, y2), 32);
  v128.store(c0, f32x4.add(f32x4.add(z0, z1), f32x4.add(z2, z3)), 48);
}

/** Rows of a single-row block (a multiple of 4): 256 rows of a 16-wide panel are 16 KiB. */
const ROW_KB: i32 = 256;

function panel12(C: usize, ldc: usize, I0: usize, ldi: usize, nI: i32, b1: usize, b2: usize,
                 A: usize, lda: usize, P: usize, M: i32, K: i32): void {
  const q0 = bias(b1, b2, 0), q1 = bias(b1, b2, 16), q2 = bias(b1, b2, 32);
  const l0 = nI > 0, l1 = nI > 1, l2 = nI > 2;
  let m = 0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    // With fused multiply-adds no temporary is needed, so a 3 x 12 tile fits (9 accumulators, 3 panel loads,
    // 3 splats): 72 flops per 15 instructions against 48 per 11 for 2 x 12. Rows of 3-row and 2-row tiles sum in
    // the same order, and only the last row of an odd M takes the single-row path, as without them: a
    // sub-batch split (threads) still gives bit-identical rows. The even count before it is 3a + 2b, b <= 2.
    const even = M & ~1;
    const two = (even % 3) == 0 ? 0 : (even % 3) == 1 ? 2 : 1;
    for (; m + 3 <= even - 2 * two; m += 3) {
      const c0 = C + <usize>m * ldc, c1 = c0 + ldc, c2 = c1 + ldc;
      const i0 = I0 + <usize>m * ldi, i1 = i0 + ldi, i2 = i1 + ldi;
      const a0 = A + <usize>m * lda, a1 = a0 + lda, a2 = a1 + lda;
      let x0 = seed(i0, 0, q0, l0), x1 = seed(i0, 16, q1, l1), x2 = seed(i0, 32, q2, l2);
      let y0 = seed(i1, 0, q0, l0), y1 = seed(i1, 16, q1, l1), y2 = seed(i1, 32, q2, l2);
      let z0 = seed(i2, 0, q0, l0), z1 = seed(i2, 16, q1, l1), z2 = seed(i2, 32, q2, l2);
      let w = P;
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
      v128.store(c0, x0, 0); v128.store(c0, x1, 16); v128.store(c0, x2, 32);
      v128.store(c1, y0, 0); v128.store(c1, y1, 16); v128.store(c1, y2, 32);
      v128.store(c2, z0, 0); v128.store(c2, z1, 16); v128.store(c2, z2, 32);
    }
  }
  for (; m + 2 <= M; m += 2) {
    const c0 = C + <usize>m * ldc, c1 = c0 + ldc;
    const i0 = I0 + <usize>m * ldi, i1 = i0 + ldi;
    const a0 = A + <usize>m * lda, a1 = a0 + lda;
    let x0 = seed(i0, 0, q0, l0), x1 = seed(i0, 16, q1, l1), x2 = seed(i0, 32, q2, l2);
    let y0 = seed(i1, 0, q0, l0), y1 = seed(i1, 16, q1, l1), y2 = seed(i1, 32, q2, l2);
    let w = P;
    let pa = a0, pb = a1;
    const aEnd = a0 + (<usize>K << 2);
    while (pa < aEnd) {
      const s0 = v128.load32_splat(pa);
      const s1 = v128.load32_splat(pb);
      const w0 = v128.load(w, 0), w1 = v128.load(w, 16), w2 = v128.load(w, 32);
      x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2);
      y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2);
      w += 48; pa += 4; pb += 4;
    }
    v128.store(c0, x0, 0); v128.store(c0, x1, 16); v128.store(c0, x2, 32);
    v128.store(c1, y0, 0); v128.store(c1, y1, 16); v128.store(c1, y2, 32);
  }
  if (m < M) {
    const c0 = C + <usize>m * ldc, i0 = I0 + <usize>m * ldi, a0 = A + <usize>m * lda;
    let x0 = seed(i0, 0, q0, l0), x1 = seed(i0, 16, q1, l1), x2 = seed(i0, 32, q2, l2);
    let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0);
    let w = P;
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const s0 = v128.load32_splat(a0 + (<usize>k << 2));
      const s1 = v128.load32_splat(a0 + (<usize>k << 2), 4);
      x0 = madd(s0, v128.load(w, 0), x0); x1 = madd(s0, v128.load(w, 16), x1); x2 = madd(s0, v128.load(w, 32), x2);
      y0 = madd(s1, v128.load(w, 48), y0); y1 = madd(s1, v128.load(w, 64), y1); y2 = madd(s1, v128.load(w, 80), y2);
      w += 96;
    }
    if (k < K) {
      const s0 = v128.load32_splat(a0 + (<usize>k << 2));
      x0 = madd(s0, v128.load(w, 0), x0); x1 = madd(s0, v128.load(w, 16), x1); x2 = madd(s0, v128.load(w, 32), x2);
    }
    v128.store(c0, f32x4.add(x0, y0), 0); v128.store(c0, f32x4.add(x1, y1), 16); v128.store(c0, f32x4.add(x2, y2), 32);
  }
}

/**
 * C[m, p*NR + j] = (C[m, p*NR + j] if accumulate) + bias1[p*NR + j] + bias2[p*NR + j] + sum_k A[m, k] Bp[p, k, j]
 * for m < M, p < nPanels, j < NR. Strides ldc, lda are in floats; C's row must hold nPanels*NR floats and be
 * 16-byte aligned, as must Bp and the biases. bias1/bias2 may be 0 (absent). NR is 12 or 16.
 */
export function gemm_forward(C: usize, ldc: i32, A: usize, lda: i32, Bp: usize, bias1: usize, bias2: usize,
                             M: i32, K: i32, nPanels: i32, NR: i32, accumulate: i32): void {
  const ldcb = <usize>ldc << 2;
  const ldab = <usize>lda << 2;
  const panelBytes = <usize>K * <usize>NR << 2;
  const acc = accumulate != 0;
  const MB = gemmRowBlock(K, ldc);
  for (let m0 = 0; m0 < M; m0 += MB) {
    const mn = min(MB, M - m0);
    const Cm = C + <usize>m0 * ldcb, Am = A + <usize>m0 * ldab;
    for (let p = 0; p < nPanels; p++) {
      const col = <usize>(p * NR) << 2;
      const b1 = bias1 ? bias1 + col : 0;
      const b2 = bias2 ? bias2 + col : 0;
      const P = Bp + <usize>p * panelBytes;
      panel_forward(Cm + col, ldcb, acc ? Cm + col : 0, ldcb, acc ? NR >> 2 : 0, b1, b2, Am, ldab, P, mn, K, NR);
    }
  }
}

/** Bytes of A's rows gemm_forward keeps in L1 across all panels (with one K x 16 panel beside them). */
// @ts-ignore: decorator
@inline const ROW_BLOCK_BYTES: i32 = 16384;

/** Bytes of C's rows a block spans at most (see gemmRowBlock). */
// @ts-ignore: decorator
@inline const C_BLOCK_BYTES: i32 = 98304;

/**
 * Rows of A per block of gemm_forward: every panel runs over one block before the next, so the block's rows stay
 * in L1 while each panel streams past them, and a panel pass touches at most C_BLOCK_BYTES of C. The C limit is
 * what pays: with K = 32 and C rows 1-4 KiB apart (the input projection over a 100-step batch-32 call, 3200 rows)
 * a pass over all rows touched one page of C per row, and blocks took it from 12 to 17 GFLOP/s (relaxed build,
 * 2026-12-03 Xeon); at K = 256 the A limit alone measured no change (0.99-1.01x), kept as the bound for long
 * rows. A multiple of 6, so that the 2-row tiles of 16-wide panels and the 3-row tiles of 12-wide ones pair the
 * same rows as without blocks and every sum is the same bit for bit.
 */
// @ts-ignore: decorator
@inline function gemmRowBlock(K: i32, ldc: i32): i32 {
  const rows = min(ROW_BLOCK_BYTES / (max(K, 1) << 2), C_BLOCK_BYTES / (max(ldc, 1) << 2));
  return max(6, rows / 6 * 6);
}

// Weight gradients: C[p][k][j] (+)= sum_r A[r, k] * G[r, p*NR + j], i.e. dW = G^T A written straight into the
// packed layout of W (optimizers then run on packed arrays). A arrives transposed (At, row k holds A[:, k]
// contiguous over r). Rows r go in blocks of RB: the block of a G panel (RB x NR) is first copied to a contiguous
// buffer, and then the product is exactly panel_forward's, with At's rows as the tile rows and the copied block
// as the panel: C_p (K x NR) = At[:, block] Gp (+ C_p). Reading G in place instead touches RB rows 4 KiB apart
// (one page each) for every pair of k; that kernel ran at 13 GFLOP/s, this one at 28-36 (R 3200, K 256, N 1024).
// RB = 512 (a 32 KiB block) measured best of 128, 256, 512 and 1024.
const RB: i32 = 512;

/** Floats of work buffer gemm_tn_forward needs (one RB x 16 block of G). */
export const GEMM_TN_WORK_FLOATS: i32 = RB * 16;

/**
 * C[p][k][j] = (C[p][k][j] if accumulate) + sum_{r < R} At[k, r] * G[r, p*NR + j], for p < nPanels, k < K,
 * j < NR: the gradient of a packed weight (nPanels panels of K x NR, as gemm_forward reads) from the gradient G
 * (R, ldg) of its outputs and its inputs given transposed, At (K, ldat). Strides in floats. work holds
 * GEMM_TN_WORK_FLOATS floats (16-byte aligned).
 */
export function gemm_tn_forward(C: usize, At: usize, ldat: i32, G: usize, ldg: i32, R: i32, K: i32, nPanels: i32,
                                NR: i32, accumulate: i32, work: usize): void {
  const ldatb = <usize>ldat << 2, ldgb = <usize>ldg << 2, rowP = <usize>NR << 2;
  const panelBytes = <usize>K * rowP;
  if (R == 0) {
    if (!accumulate) zero_f32(C, nPanels * K * NR);
    return;
  }
  for (let r0 = 0; r0 < R; r0 += RB) {
    const rn = min(RB, R - r0);
    const acc = accumulate != 0 || r0 > 0;
    for (let p = 0; p < nPanels; p++) {
      let src = G + <usize>r0 * ldgb + <usize>p * rowP, dst = work;
      for (let r = 0; r < rn; r++) {
        v128.store(dst, v128.load(src)); v128.store(dst, v128.load(src, 16), 16);
        v128.store(dst, v128.load(src, 32), 32);
        if (NR == 16) v128.store(dst, v128.load(src, 48), 48);
        src += ldgb; dst += rowP;
      }
      const Cp = C + <usize>p * panelBytes;
      panel_forward(Cp, rowP, acc ? Cp : 0, rowP, acc ? NR >> 2 : 0, 0, 0, At + (<usize>r0 << 2), ldatb, work, K, rn,
                    NR);
    }
  }
}

/**
 * A column subset of a panel: C[m, j] = bias1[j] + (I0[m, j] if seedI) + sum_k A[m, k] P[k, j] for m < M and
 * j < 4*NV (NV = 1 or 2: 4 or 8 columns), the panel's rows ldp bytes apart, so 8 or 4 columns of a 12-wide panel
 * are read in place (ldp = 48), or a contiguous block (ldp = 16*NV). Strides ldc, ldi, lda in bytes; C may equal
 * I0; bias1 may be 0. Every row of a multi-row tile sums its k in order, and only the last row of an odd M takes
 * the single-row path (k in interleaved sets, for the add latency): as in panel_forward, a row's result does not
 * depend on M or on the row's place in it as long as sub-batches are split at even sizes (the threads' split).
 */
export function panel_cols(C: usize, ldc: usize, I0: usize, ldi: usize, seedI: bool, b1: usize,
                           A: usize, lda: usize, P: usize, ldp: usize, M: i32, K: i32, NV: i32): void {
  // The stride of a 12-wide panel as a constant (immediate load offsets): the forward step's case.
  if (NV == 2) {
    if (ldp == 48) cols8(C, ldc, I0, ldi, seedI, b1, A, lda, P, 48, M, K);
    else cols8(C, ldc, I0, ldi, seedI, b1, A, lda, P, ldp, M, K);
  } else {
    if (ldp == 48) cols4(C, ldc, I0, ldi, seedI, b1, A, lda, P, 48, M, K);
    else cols4(C, ldc, I0, ldi, seedI, b1, A, lda, P, ldp, M, K);
  }
}

// 8 columns (two vectors). Tiles of 4 rows with fused multiply-adds (8 accumulators, 2 panel loads, 4 splats:
// 14 registers), 3 rows without (6 + 2 + 3, plus the product's temporary), then 2-row tiles.
// @ts-ignore: decorator
@inline function cols8(C: usize, ldc: usize, I0: usize, ldi: usize, l: bool, b1: usize,
               A: usize, lda: usize, P: usize, ldp: usize, M: i32, K: i32): void {
  const q0 = bias(b1, 0, 0), q1 = bias(b1, 0, 16);
  const even = M & ~1;
  let m = 0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    for (; m + 4 <= even; m += 4) {
      const c0 = C + <usize>m * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
      const i0 = I0 + <usize>m * ldi, i1 = i0 + ldi, i2 = i1 + ldi, i3 = i2 + ldi;
      let a0 = A + <usize>m * lda;
      const a1 = lda, a2 = lda << 1, a3 = lda * 3;
      let x0 = seed(i0, 0, q0, l), x1 = seed(i0, 16, q1, l), y0 = seed(i1, 0, q0, l), y1 = seed(i1, 16, q1, l);
      let z0 = seed(i2, 0, q0, l), z1 = seed(i2, 16, q1, l), u0 = seed(i3, 0, q0, l), u1 = seed(i3, 16, q1, l);
      let w = P;
      const aEnd = a0 + (<usize>K << 2);
      while (a0 < aEnd) {
        const w0 = v128.load(w), w1 = v128.load(w, 16);
        const s0 = v128.load32_splat(a0), s1 = v128.load32_splat(a0 + a1);
        x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1);
        const s2 = v128.load32_splat(a0 + a2), s3 = v128.load32_splat(a0 + a3);
        z0 = madd(s2, w0, z0); z1 = madd(s2, w1, z1); u0 = madd(s3, w0, u0); u1 = madd(s3, w1, u1);
        w += ldp; a0 += 4;
      }
      v128.store(c0, x0); v128.store(c0, x1, 16); v128.store(c1, y0); v128.store(c1, y1, 16);
      v128.store(c2, z0); v128.store(c2, z1, 16); v128.store(c3, u0); v128.store(c3, u1, 16);
    }
  } else {
    // The even count is 3a + 2b (b <= 2), so no 3-row tile leaves a single row before the odd last one.
    const two = (even % 3) == 0 ? 0 : (even % 3) == 1 ? 2 : 1;
    for (; m + 3 <= even - 2 * two; m += 3) {
      const c0 = C + <usize>m * ldc, c1 = c0 + ldc, c2 = c1 + ldc;
      const i0 = I0 + <usize>m * ldi, i1 = i0 + ldi, i2 = i1 + ldi;
      let a0 = A + <usize>m * lda;
      const a1 = lda, a2 = lda << 1;
      let x0 = seed(i0, 0, q0, l), x1 = seed(i0, 16, q1, l), y0 = seed(i1, 0, q0, l), y1 = seed(i1, 16, q1, l);
      let z0 = seed(i2, 0, q0, l), z1 = seed(i2, 16, q1, l);
      let w = P;
      const aEnd = a0 + (<usize>K << 2);
      while (a0 < aEnd) {
        const w0 = v128.load(w), w1 = v128.load(w, 16);
        const s0 = v128.load32_splat(a0), s1 = v128.load32_splat(a0 + a1), s2 = v128.load32_splat(a0 + a2);
        x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1);
        z0 = madd(s2, w0, z0); z1 = madd(s2, w1, z1);
        w += ldp; a0 += 4;
      }
      v128.store(c0, x0); v128.store(c0, x1, 16); v128.store(c1, y0); v128.store(c1, y1, 16);
      v128.store(c2, z0); v128.store(c2, z1, 16);
    }
  }
  for (; m + 2 <= even; m += 2) {
    const c0 = C + <usize>m * ldc, c1 = c0 + ldc;
    const i0 = I0 + <usize>m * ldi, i1 = i0 + ldi;
    let a0 = A + <usize>m * lda;
    const a1 = lda;
    let x0 = seed(i0, 0, q0, l), x1 = seed(i0, 16, q1, l), y0 = seed(i1, 0, q0, l), y1 = seed(i1, 16, q1, l);
    let w = P;
    const aEnd = a0 + (<usize>K << 2);
    while (a0 < aEnd) {
      const w0 = v128.load(w), w1 = v128.load(w, 16);
      const s0 = v128.load32_splat(a0), s1 = v128.load32_splat(a0 + a1);
      x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1);
      w += ldp; a0 += 4;
    }
    v128.store(c0, x0); v128.store(c0, x1, 16); v128.store(c1, y0); v128.store(c1, y1, 16);
  }
  if (m < M) {
    const c0 = C + <usize>m * ldc, i0 = I0 + <usize>m * ldi, a0 = A + <usize>m * lda;
    let x0 = seed(i0, 0, q0, l), x1 = seed(i0, 16, q1, l);
    let y0 = f32x4.splat(0), y1 = f32x4.splat(0);
    // Two k sets (4 accumulators, 2 splats, 4 loads).
    let w = P, a = a0;
    const aEnd = a0 + (<usize>(K & ~1) << 2);
    while (a < aEnd) {
      const s0 = v128.load32_splat(a), s1 = v128.load32_splat(a, 4);
      x0 = madd(s0, v128.load(w), x0); x1 = madd(s0, v128.load(w, 16), x1);
      y0 = madd(s1, v128.load(w + ldp), y0); y1 = madd(s1, v128.load(w + ldp, 16), y1);
      w += ldp << 1; a += 8;
    }
    if (K & 1) {
      const s0 = v128.load32_splat(a);
      x0 = madd(s0, v128.load(w), x0); x1 = madd(s0, v128.load(w, 16), x1);
    }
    v128.store(c0, f32x4.add(x0, y0));
    v128.store(c0, f32x4.add(x1, y1), 16);
  }
}

// 4 columns (one vector): tiles of 6 rows (6 accumulators, 1 panel load, 6 splats), then 2-row tiles.
// @ts-ignore: decorator
@inline function cols4(C: usize, ldc: usize, I0: usize, ldi: usize, l: bool, b1: usize,
               A: usize, lda: usize, P: usize, ldp: usize, M: i32, K: i32): void {
  const q0 = bias(b1, 0, 0);
  const even = M & ~1;
  let m = 0;
  for (; m + 6 <= even; m += 6) {
    const i0 = I0 + <usize>m * ldi;
    let a0 = A + <usize>m * lda;
    const a1 = lda, a2 = lda << 1, a3 = lda * 3, a4 = lda << 2, a5 = lda * 5;
    let x0 = seed(i0, 0, q0, l), x1 = seed(i0 + ldi, 0, q0, l), x2 = seed(i0 + (ldi << 1), 0, q0, l);
    let x3 = seed(i0 + ldi * 3, 0, q0, l), x4 = seed(i0 + (ldi << 2), 0, q0, l), x5 = seed(i0 + ldi * 5, 0, q0, l);
    let w = P;
    const aEnd = a0 + (<usize>K << 2);
    while (a0 < aEnd) {
      const w0 = v128.load(w);
      x0 = madd(v128.load32_splat(a0), w0, x0); x1 = madd(v128.load32_splat(a0 + a1), w0, x1);
      x2 = madd(v128.load32_splat(a0 + a2), w0, x2); x3 = madd(v128.load32_splat(a0 + a3), w0, x3);
      x4 = madd(v128.load32_splat(a0 + a4), w0, x4); x5 = madd(v128.load32_splat(a0 + a5), w0, x5);
      w += ldp; a0 += 4;
    }
    const c0 = C + <usize>m * ldc;
    v128.store(c0, x0); v128.store(c0 + ldc, x1); v128.store(c0 + (ldc << 1), x2);
    v128.store(c0 + ldc * 3, x3); v128.store(c0 + (ldc << 2), x4); v128.store(c0 + ldc * 5, x5);
  }
  for (; m + 2 <= even; m += 2) {
    const i0 = I0 + <usize>m * ldi;
    let a0 = A + <usize>m * lda;
    const a1 = lda;
    let x0 = seed(i0, 0, q0, l), x1 = seed(i0 + ldi, 0, q0, l);
    let w = P;
    const aEnd = a0 + (<usize>K << 2);
    while (a0 < aEnd) {
      const w0 = v128.load(w);
      x0 = madd(v128.load32_splat(a0), w0, x0); x1 = madd(v128.load32_splat(a0 + a1), w0, x1);
      w += ldp; a0 += 4;
    }
    const c0 = C + <usize>m * ldc;
    v128.store(c0, x0); v128.store(c0 + ldc, x1);
  }
  if (m < M) {
    const c0 = C + <usize>m * ldc, i0 = I0 + <usize>m * ldi, a0 = A + <usize>m * lda;
    let x0 = seed(i0, 0, q0, l), x1 = f32x4.splat(0), x2 = f32x4.splat(0), x3 = f32x4.splat(0);
    let w = P, a = a0;
    const aEnd = a0 + (<usize>(K & ~3) << 2);
    while (a < aEnd) {
      x0 = madd(v128.load32_splat(a), v128.load(w), x0);
      x1 = madd(v128.load32_splat(a, 4), v128.load(w + ldp), x1);
      x2 = madd(v128.load32_splat(a, 8), v128.load(w + (ldp << 1)), x2);
      x3 = madd(v128.load32_splat(a, 12), v128.load(w + ldp * 3), x3);
      w += ldp << 2; a += 16;
    }
    const aEnd2 = a0 + (<usize>K << 2);
    while (a < aEnd2) {
      x0 = madd(v128.load32_splat(a), v128.load(w), x0);
      w += ldp; a += 4;
    }
    v128.store(c0, f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)));
  }
}

// Weight gradients with the inputs in their natural layout: dW = G^T S with S (R, lds), rows r in blocks of rb.
// Each block of S is transposed into work (K x rb, 4 x 4 blocks through registers) and each panel's block of G
// copied next to it, so that the product is panel_forward's with a panel of rb x NR floats kept in L1 while the
// transposed block (K rows of rb) streams from L2. Two weights that share G (W_hh with S = h_{t-1} and W_ih with
// S = x_t) and the column sums of G (the bias gradients) come out of the same pass over G, which is read once.
// gemm_tn_forward takes S transposed whole (a K x R buffer made by a scalar pass) and G in blocks of 512 rows.

// @ts-ignore: decorator
@inline function q4(n: i32): i32 { return (n + 3) & ~3; }

/**
 * Floats of work gemm_tn_nat needs for inputs of at most K columns and nPanels * NR <= 4 * q4(K) columns of G:
 * one rb x 16 block of G, the three transposed blocks of S (K x rb each) and the column sums.
 */
export function gemm_tn_nat_work_floats(K: i32, rb: i32): i32 {
  return rb * 16 + 3 * q4(K) * rb + 4 * q4(K) + 16;
}

/**
 * C1[p][k][j] += sum_{r < R} S1[r, k] * G[r, p*NR + j] for k < K1, and the same for C2, S2, K2 (C2 may be 0),
 * for p < nPanels, j < NR (the packed layout gemm_forward reads); b1[c] (and b2[c] when non-zero) += sum_r G[r, c]
 * for c < nPanels * NR when b1 is non-zero. S1 (R, lds1), S2 (R, lds2), G (R, ldg), strides in floats. rb (a
 * multiple of 4) rows per block; work holds gemm_tn_nat_work_floats(max(K1, K2), rb) floats (16-byte aligned). Each
 * element of C sums its r in order (as gemm_tn_forward does), and so does each bias column, from zero.
 */
export function gemm_tn_nat(C1: usize, S1: usize, lds1: i32, K1: i32, C2: usize, S2: usize, lds2: i32, K2: i32,
                            b1: usize, b2: usize, G: usize, ldg: i32, R: i32, nPanels: i32, NR: i32, work: usize,
                            rb: i32): void {
  gemm_tn_nat3(C1, S1, lds1, K1, 0, 0, C2, S2, lds2, K2, b1, b2, G, ldg, R, nPanels, NR, work, rb);
}

/**
 * gemm_tn_nat, and when S3 is non-zero (NR = 12, the reset-before GRU's W_hh): columns 8..11 of every panel of C1
 * from S3 (R, lds3; K1 columns) instead of S1, columns 0..7 from S1. The reset-before GRU's dW_h{r,z} (from
 * h_{t-1}) and dW_hn (from r * h_{t-1}) then come out of the same pass over G as dW_ih and the biases, with S
 * transposed a block at a time, where two whole scalar transposes and a pass per column group had been 2-3x the
 * time of the reset-after GRU's weight gradients.
 */
export function gemm_tn_nat3(C1: usize, S1: usize, lds1: i32, K1: i32, S3: usize, lds3: i32,
                             C2: usize, S2: usize, lds2: i32, K2: i32,
                             b1: usize, b2: usize, G: usize, ldg: i32, R: i32, nPanels: i32, NR: i32, work: usize,
                             rb: i32): void {
  if (C1 == 0 && C2 == 0 && b1 == 0) return;
  const ldgb = <usize>ldg << 2, rowP = <usize>NR << 2, rbb = <usize>rb << 2;
  const At1 = work + (<usize>(rb * 16) << 2);
  const At2 = At1 + <usize>q4(max(K1, K2)) * rbb;
  const At3 = At2 + <usize>q4(max(K1, K2)) * rbb;
  const sums = At3 + <usize>q4(max(K1, K2)) * rbb;
  const N = nPanels * NR;
  const split = C1 != 0 && S3 != 0;
  if (b1) zero_f32(sums, N);
  for (let r0 = 0; r0 < R; r0 += rb) {
    const rn = min(rb, R - r0);
    if (C1) transposeBlock(At1, rbb, S1 + <usize>r0 * (<usize>lds1 << 2), <usize>lds1 << 2, rn, K1);
    if (split) transposeBlock(At3, rbb, S3 + <usize>r0 * (<usize>lds3 << 2), <usize>lds3 << 2, rn, K1);
    if (C2) transposeBlock(At2, rbb, S2 + <usize>r0 * (<usize>lds2 << 2), <usize>lds2 << 2, rn, K2);
    for (let p = 0; p < nPanels; p++) {
      let src = G + <usize>r0 * ldgb + <usize>p * rowP, dst = work;
      const end = work + <usize>rn * rowP;
      const sp = sums + <usize>p * rowP;
      if (NR == 16) {
        if (b1) {
          let s0 = v128.load(sp), s1 = v128.load(sp, 16), s2 = v128.load(sp, 32), s3 = v128.load(sp, 48);
          while (dst < end) {
            const g0 = v128.load(src), g1 = v128.load(src, 16), g2 = v128.load(src, 32), g3 = v128.load(src, 48);
            v128.store(dst, g0); v128.store(dst, g1, 16); v128.store(dst, g2, 32); v128.store(dst, g3, 48);
            s0 = f32x4.add(s0, g0); s1 = f32x4.add(s1, g1); s2 = f32x4.add(s2, g2); s3 = f32x4.add(s3, g3);
            src += ldgb; dst += 64;
          }
          v128.store(sp, s0); v128.store(sp, s1, 16); v128.store(sp, s2, 32); v128.store(sp, s3, 48);
        } else {
          while (dst < end) {
            v128.store(dst, v128.load(src)); v128.store(dst, v128.load(src, 16), 16);
            v128.store(dst, v128.load(src, 32), 32); v128.store(dst, v128.load(src, 48), 48);
            src += ldgb; dst += 64;
          }
        }
      } else {
        if (b1) {
          let s0 = v128.load(sp), s1 = v128.load(sp, 16), s2 = v128.load(sp, 32);
          while (dst < end) {
            const g0 = v128.load(src), g1 = v128.load(src, 16), g2 = v128.load(src, 32);
            v128.store(dst, g0); v128.store(dst, g1, 16); v128.store(dst, g2, 32);
            s0 = f32x4.add(s0, g0); s1 = f32x4.add(s1, g1); s2 = f32x4.add(s2, g2);
            src += ldgb; dst += 48;
          }
          v128.store(sp, s0); v128.store(sp, s1, 16); v128.store(sp, s2, 32);
        } else {
          while (dst < end) {
            v128.store(dst, v128.load(src)); v128.store(dst, v128.load(src, 16), 16);
            v128.store(dst, v128.load(src, 32), 32);
            src += ldgb; dst += 48;
          }
        }
      }
      if (split) {
        const Cp = C1 + <usize>p * (<usize>K1 * rowP);
        panel_cols(Cp, rowP, Cp, rowP, true, 0, At1, rbb, work, rowP, K1, rn, 2);
        panel_cols(Cp + 32, rowP, Cp + 32, rowP, true, 0, At3, rbb, work + 32, rowP, K1, rn, 1);
      } else if (C1) {
        const Cp = C1 + <usize>p * (<usize>K1 * rowP);
        panel_forward(Cp, rowP, Cp, rowP, NR >> 2, 0, 0, At1, rbb, work, K1, rn, NR);
      }
      if (C2) {
        const Cp = C2 + <usize>p * (<usize>K2 * rowP);
        panel_forward(Cp, rowP, Cp, rowP, NR >> 2, 0, 0, At2, rbb, work, K2, rn, NR);
      }
    }
  }
  if (b1) {
    for (let c = 0; c < N; c += 4) {
      const o = <usize>c << 2, v = v128.load(sums + o);
      v128.store(b1 + o, f32x4.add(v128.load(b1 + o), v));
      if (b2) v128.store(b2 + o, f32x4.add(v128.load(b2 + o), v));
    }
  }
}

/** dst[c, r] = src[r, c] for r < rows, c < cols; strides in bytes (dst's a multiple of 16). */
function transposeBlock(dst: usize, ldd: usize, src: usize, lds: usize, rows: i32, cols: i32): void {
  const r4 = rows & ~3, c4 = cols & ~3;
  for (let c = 0; c < c4; c += 4) {
    const d0 = dst + <usize>c * ldd, d1 = d0 + ldd, d2 = d1 + ldd, d3 = d2 + ldd;
    let s = src + (<usize>c << 2);
    for (let r = 0; r < r4; r += 4) {
      const a0 = v128.load(s), a1 = v128.load(s + lds), a2 = v128.load(s + 2 * lds), a3 = v128.load(s + 3 * lds);
      const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
      const o = <usize>r << 2;
      v128.store(d0 + o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(d1 + o, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(d2 + o, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(d3 + o, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
      s += lds << 2;
    }
  }
  // Edges: the last rows (rows % 4) of every column, then the last columns (cols % 4) of every row.
  for (let c = 0; c < c4; c++) {
    for (let r = r4; r < rows; r++) {
      store<f32>(dst + <usize>c * ldd + (<usize>r << 2), load<f32>(src + <usize>r * lds + (<usize>c << 2)));
    }
  }
  for (let c = c4; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      store<f32>(dst + <usize>c * ldd + (<usize>r << 2), load<f32>(src + <usize>r * lds + (<usize>c << 2)));
    }
  }
}
