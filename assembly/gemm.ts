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
// Tiles are 2 rows x NR columns: 2*NR/4 accumulators plus NR/4 panel loads and 2 splats fit the 16 vector
// registers V8 uses on x64 without spilling. A single remaining row uses two accumulator sets (even and odd k)
// so the add latency does not bound the loop.

import { madd } from './simd';

// @ts-ignore: decorator
@inline function initAcc(C: usize, b1: usize, b2: usize, off: usize, accumulate: bool): v128 {
  let v = f32x4.splat(0);
  if (b1) v = f32x4.add(v, v128.load(b1 + off));
  if (b2) v = f32x4.add(v, v128.load(b2 + off));
  if (accumulate) v = f32x4.add(v, v128.load(C + off));
  return v;
}

function panel16(C: usize, ldc: usize, A: usize, lda: usize, P: usize, b1: usize, b2: usize,
                 M: i32, K: i32, acc: bool): void {
  let m = 0;
  for (; m + 2 <= M; m += 2) {
    const c0 = C + <usize>m * ldc;
    const c1 = c0 + ldc;
    const a0 = A + <usize>m * lda;
    const a1 = a0 + lda;
    let x0 = initAcc(c0, b1, b2, 0, acc), x1 = initAcc(c0, b1, b2, 16, acc);
    let x2 = initAcc(c0, b1, b2, 32, acc), x3 = initAcc(c0, b1, b2, 48, acc);
    let y0 = initAcc(c1, b1, b2, 0, acc), y1 = initAcc(c1, b1, b2, 16, acc);
    let y2 = initAcc(c1, b1, b2, 32, acc), y3 = initAcc(c1, b1, b2, 48, acc);
    let w = P;
    for (let k = 0; k < K; k++) {
      const s0 = v128.load32_splat(a0 + (<usize>k << 2));
      const s1 = v128.load32_splat(a1 + (<usize>k << 2));
      const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
      x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2); x3 = madd(s0, w3, x3);
      y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2); y3 = madd(s1, w3, y3);
      w += 64;
    }
    v128.store(c0, x0); v128.store(c0, x1, 16); v128.store(c0, x2, 32); v128.store(c0, x3, 48);
    v128.store(c1, y0); v128.store(c1, y1, 16); v128.store(c1, y2, 32); v128.store(c1, y3, 48);
  }
  if (m < M) {
    const c0 = C + <usize>m * ldc;
    const a0 = A + <usize>m * lda;
    let x0 = initAcc(c0, b1, b2, 0, acc), x1 = initAcc(c0, b1, b2, 16, acc);
    let x2 = initAcc(c0, b1, b2, 32, acc), x3 = initAcc(c0, b1, b2, 48, acc);
    let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0), y3 = f32x4.splat(0);
    let w = P;
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
    v128.store(c0, f32x4.add(x0, y0)); v128.store(c0, f32x4.add(x1, y1), 16);
    v128.store(c0, f32x4.add(x2, y2), 32); v128.store(c0, f32x4.add(x3, y3), 48);
  }
}

function panel12(C: usize, ldc: usize, A: usize, lda: usize, P: usize, b1: usize, b2: usize,
                 M: i32, K: i32, acc: bool): void {
  let m = 0;
  for (; m + 2 <= M; m += 2) {
    const c0 = C + <usize>m * ldc;
    const c1 = c0 + ldc;
    const a0 = A + <usize>m * lda;
    const a1 = a0 + lda;
    let x0 = initAcc(c0, b1, b2, 0, acc), x1 = initAcc(c0, b1, b2, 16, acc), x2 = initAcc(c0, b1, b2, 32, acc);
    let y0 = initAcc(c1, b1, b2, 0, acc), y1 = initAcc(c1, b1, b2, 16, acc), y2 = initAcc(c1, b1, b2, 32, acc);
    let w = P;
    for (let k = 0; k < K; k++) {
      const s0 = v128.load32_splat(a0 + (<usize>k << 2));
      const s1 = v128.load32_splat(a1 + (<usize>k << 2));
      const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32);
      x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2);
      y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2);
      w += 48;
    }
    v128.store(c0, x0); v128.store(c0, x1, 16); v128.store(c0, x2, 32);
    v128.store(c1, y0); v128.store(c1, y1, 16); v128.store(c1, y2, 32);
  }
  if (m < M) {
    const c0 = C + <usize>m * ldc;
    const a0 = A + <usize>m * lda;
    let x0 = initAcc(c0, b1, b2, 0, acc), x1 = initAcc(c0, b1, b2, 16, acc), x2 = initAcc(c0, b1, b2, 32, acc);
    let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0);
    let w = P;
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const s0 = v128.load32_splat(a0 + (<usize>k << 2));
      const s1 = v128.load32_splat(a0 + (<usize>k << 2), 4);
      x0 = madd(s0, v128.load(w), x0); x1 = madd(s0, v128.load(w, 16), x1); x2 = madd(s0, v128.load(w, 32), x2);
      y0 = madd(s1, v128.load(w, 48), y0); y1 = madd(s1, v128.load(w, 64), y1); y2 = madd(s1, v128.load(w, 80), y2);
      w += 96;
    }
    if (k < K) {
      const s0 = v128.load32_splat(a0 + (<usize>k << 2));
      x0 = madd(s0, v128.load(w), x0); x1 = madd(s0, v128.load(w, 16), x1); x2 = madd(s0, v128.load(w, 32), x2);
    }
    v128.store(c0, f32x4.add(x0, y0)); v128.store(c0, f32x4.add(x1, y1), 16); v128.store(c0, f32x4.add(x2, y2), 32);
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
  for (let p = 0; p < nPanels; p++) {
    const col = <usize>(p * NR) << 2;
    const b1 = bias1 ? bias1 + col : 0;
    const b2 = bias2 ? bias2 + col : 0;
    const P = Bp + <usize>p * panelBytes;
    if (NR == 16) panel16(C + col, ldcb, A, ldab, P, b1, b2, M, K, acc);
    else panel12(C + col, ldcb, A, ldab, P, b1, b2, M, K, acc);
  }
}

// Weight gradients: C[p][k][j] (+)= sum_r A[r, k] * G[r, p*NR + j], i.e. dW = G^T A written straight into the
// packed layout of W (optimizers then run on packed arrays). A arrives transposed (At, row k holds A[:, k]
// contiguous over r) so both operands stream; rows r are taken in blocks of RB so a block of a G panel
// (RB x NR floats, 16 KiB) stays in L1 while the k pairs go by.
const RB: i32 = 256;

function tn16(C: usize, At: usize, ldat: usize, G: usize, ldg: usize, r0: i32, rn: i32, K: i32, first: bool,
              acc: bool): void {
  const ldc = <usize>16 << 2;
  let k = 0;
  for (; k < K; k += 2) {
    const two = k + 1 < K;
    const c0 = C + <usize>k * ldc, c1 = c0 + ldc;
    const load = !first || acc;
    let x0 = load ? v128.load(c0) : f32x4.splat(0), x1 = load ? v128.load(c0, 16) : f32x4.splat(0);
    let x2 = load ? v128.load(c0, 32) : f32x4.splat(0), x3 = load ? v128.load(c0, 48) : f32x4.splat(0);
    let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0), y3 = f32x4.splat(0);
    if (two && load) {
      y0 = v128.load(c1); y1 = v128.load(c1, 16); y2 = v128.load(c1, 32); y3 = v128.load(c1, 48);
    }
    const a0 = At + <usize>k * ldat + (<usize>r0 << 2);
    const a1 = two ? a0 + ldat : a0;
    let g = G + <usize>r0 * ldg;
    for (let r = 0; r < rn; r++) {
      const s0 = v128.load32_splat(a0 + (<usize>r << 2));
      const s1 = v128.load32_splat(a1 + (<usize>r << 2));
      const w0 = v128.load(g), w1 = v128.load(g, 16), w2 = v128.load(g, 32), w3 = v128.load(g, 48);
      x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2); x3 = madd(s0, w3, x3);
      y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2); y3 = madd(s1, w3, y3);
      g += ldg;
    }
    v128.store(c0, x0); v128.store(c0, x1, 16); v128.store(c0, x2, 32); v128.store(c0, x3, 48);
    if (two) { v128.store(c1, y0); v128.store(c1, y1, 16); v128.store(c1, y2, 32); v128.store(c1, y3, 48); }
  }
}

function tn12(C: usize, At: usize, ldat: usize, G: usize, ldg: usize, r0: i32, rn: i32, K: i32, first: bool,
              acc: bool): void {
  const ldc = <usize>12 << 2;
  let k = 0;
  for (; k < K; k += 2) {
    const two = k + 1 < K;
    const c0 = C + <usize>k * ldc, c1 = c0 + ldc;
    const load = !first || acc;
    let x0 = load ? v128.load(c0) : f32x4.splat(0), x1 = load ? v128.load(c0, 16) : f32x4.splat(0);
    let x2 = load ? v128.load(c0, 32) : f32x4.splat(0);
    let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0);
    if (two && load) { y0 = v128.load(c1); y1 = v128.load(c1, 16); y2 = v128.load(c1, 32); }
    const a0 = At + <usize>k * ldat + (<usize>r0 << 2);
    const a1 = two ? a0 + ldat : a0;
    let g = G + <usize>r0 * ldg;
    for (let r = 0; r < rn; r++) {
      const s0 = v128.load32_splat(a0 + (<usize>r << 2));
      const s1 = v128.load32_splat(a1 + (<usize>r << 2));
      const w0 = v128.load(g), w1 = v128.load(g, 16), w2 = v128.load(g, 32);
      x0 = madd(s0, w0, x0); x1 = madd(s0, w1, x1); x2 = madd(s0, w2, x2);
      y0 = madd(s1, w0, y0); y1 = madd(s1, w1, y1); y2 = madd(s1, w2, y2);
      g += ldg;
    }
    v128.store(c0, x0); v128.store(c0, x1, 16); v128.store(c0, x2, 32);
    if (two) { v128.store(c1, y0); v128.store(c1, y1, 16); v128.store(c1, y2, 32); }
  }
}

/**
 * C[p][k][j] = (C[p][k][j] if accumulate) + sum_{r < R} At[k, r] * G[r, p*NR + j], for p < nPanels, k < K,
 * j < NR: the gradient of a packed weight (nPanels panels of K x NR, as gemm_forward reads) from the gradient G
 * (R, ldg) of its outputs and its inputs given transposed, At (K, ldat). Strides in floats.
 */
export function gemm_tn_forward(C: usize, At: usize, ldat: i32, G: usize, ldg: i32, R: i32, K: i32, nPanels: i32,
                                NR: i32, accumulate: i32): void {
  const ldatb = <usize>ldat << 2, ldgb = <usize>ldg << 2;
  const panelBytes = <usize>K * <usize>NR << 2;
  for (let r0 = 0; r0 < R || r0 == 0; r0 += RB) {
    const rn = min(RB, R - r0);
    for (let p = 0; p < nPanels; p++) {
      const Cp = C + <usize>p * panelBytes;
      const Gp = G + (<usize>(p * NR) << 2);
      if (NR == 16) tn16(Cp, At, ldatb, Gp, ldgb, r0, rn, K, r0 == 0, accumulate != 0);
      else tn12(Cp, At, ldatb, Gp, ldgb, r0, rn, K, r0 == 0, accumulate != 0);
    }
    if (R == 0) break;
  }
}
