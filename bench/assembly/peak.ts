// Compute peak of WebAssembly 128-bit SIMD on one core: f32x4 multiply-add with independent accumulators.
// Every f32x4 multiply + add counts 8 flops (4 lanes x 2); with relaxed SIMD one relaxed_madd counts 8 too.
//
// A product must not be loop-invariant, or the compilers (Binaryen, then V8's scheduler) hoist it out of the
// loop and only the adds remain; and no more than 16 vectors may be live, or V8 spills accumulators to the
// stack. The shapes (the bench reports the best of chain12 and load8 as the peak):
//  - peak_chain (chain12): acc_i = acc_i * m + c over 12 accumulators, registers only (12 + m + c = 14 XMM
//    registers). Each add waits for its multiply, so 12 chains must cover mul + add latency: peak_chain6 (6
//    chains) is the probe that shows whether 12 are enough (if chain12 is well under 2x chain6, it is bound by
//    throughput, which is what a peak should be).
//  - peak_load8 (load8): acc_i += load(p + 16 i) * s over 8 accumulators: the shape of a GEMM inner loop
//    (acc += panel * splat), re-reading the same 128 bytes (L1 only). 12 would not fit: V8 schedules all the
//    loads first and spills.
// And the tile ceiling, not candidates for the peak: the register tiles of assembly/gemm.ts (panel16's 2 x 16,
// panel12's relaxed 3 x 12) as loops of their own over an L1-resident panel, nothing else in them (no bias, no
// store, no gate math): what V8's code for the kernels' inner loop reaches on this machine, so a kernel's
// fraction of it says how much is lost around the loop and its fraction of the peak what the loop itself costs.

// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function hsum12(a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, a6: v128, a7: v128,
                        a8: v128, a9: v128, a10: v128, a11: v128): f32 {
  const t = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const u = f32x4.add(f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)), t);
  return f32x4.extract_lane(u, 0) + f32x4.extract_lane(u, 1) + f32x4.extract_lane(u, 2) + f32x4.extract_lane(u, 3);
}

/** n iterations of acc_i = acc_i * m + c over 12 accumulators; returns their sum so nothing is dead. */
export function peak_chain(n: i32, seed: f32, p: usize): f32 {
  // m and c come from memory: as constants V8 would rematerialise them inside the loop (extra instructions).
  v128.store(p, f32x4.splat(0.9999999));
  v128.store(p, f32x4.splat(seed * 1e-7), 16);
  const m = v128.load(p), c = v128.load(p, 16);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6);
  let a7 = f32x4.splat(seed + 7), a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9);
  let a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < n; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
    a8 = fma(a8, m, c); a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c);
  }
  return hsum12(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
}

/** n iterations of acc_i += load(p + 16 i) * s over 8 accumulators (8 loads + 8 accumulators + s fit). */
export function peak_load8(n: i32, seed: f32, p: usize): f32 {
  for (let i = 0; i < 32; i++) store<f32>(p + (<usize>i << 2), seed + <f32>i * 0.01);
  const s = f32x4.splat(1e-7);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  for (let i = 0; i < n; i++) {
    a0 = fma(v128.load(p), s, a0); a1 = fma(v128.load(p, 16), s, a1);
    a2 = fma(v128.load(p, 32), s, a2); a3 = fma(v128.load(p, 48), s, a3);
    a4 = fma(v128.load(p, 64), s, a4); a5 = fma(v128.load(p, 80), s, a5);
    a6 = fma(v128.load(p, 96), s, a6); a7 = fma(v128.load(p, 112), s, a7);
  }
  const t = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}

/** acc_i = acc_i * m + c over 6 accumulators (latency probe: half of peak_chain's if that one is latency-bound). */
export function peak_chain6(n: i32, seed: f32, p: usize): f32 {
  v128.store(p, f32x4.splat(0.9999999));
  v128.store(p, f32x4.splat(seed * 1e-7), 16);
  const m = v128.load(p), c = v128.load(p, 16);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5);
  for (let i = 0; i < n; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c);
  }
  const t = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(a4, a5));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}

/**
 * Reads [p, p + bytes) (bytes a multiple of 96) as 6 streams of 16-byte loads OR-ed into 6 accumulators: the read
 * bandwidth of wherever a working set of that size sits, i.e. the floor under any batch-1 product that streams its
 * f32 weights once per step (bench/matvec). OR has 1 cycle of latency, so the loads (2-3 per cycle), not the
 * chains, bound it in L1, and from L2 out it times the memory. 6 accumulators + 6 loads fit V8's 15 vector
 * registers (it issues a loop body's loads first). Returns lane 0 of the OR of everything, so nothing is dead.
 */
export function stream_read(p: usize, bytes: usize): f32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  const end = p + bytes;
  while (p < end) {
    a0 = v128.or(a0, v128.load(p)); a1 = v128.or(a1, v128.load(p, 16));
    a2 = v128.or(a2, v128.load(p, 32)); a3 = v128.or(a3, v128.load(p, 48));
    a4 = v128.or(a4, v128.load(p, 64)); a5 = v128.or(a5, v128.load(p, 80));
    p += 96;
  }
  const s = v128.or(v128.or(v128.or(a0, a1), v128.or(a2, a3)), v128.or(a4, a5));
  return f32x4.extract_lane(s, 0);
}

/**
 * stream_read's loads from the end of [p, p + bytes) down, 96 bytes at a time. The batch-1 forwards visit W_hh's
 * column groups last-to-first on every other step (assembly/gemv.ts), so that a W_hh larger than L2 starts each
 * step on what the previous one read last; the read floor alternates stream_read and this the same way, else it
 * would time a read order no forward uses and stop being a floor once W_hh is past L2.
 */
export function stream_read_desc(p: usize, bytes: usize): f32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let q = p + bytes;
  while (q > p) {
    q -= 96;
    a0 = v128.or(a0, v128.load(q)); a1 = v128.or(a1, v128.load(q, 16));
    a2 = v128.or(a2, v128.load(q, 32)); a3 = v128.or(a3, v128.load(q, 48));
    a4 = v128.or(a4, v128.load(q, 64)); a5 = v128.or(a5, v128.load(q, 80));
  }
  const s = v128.or(v128.or(v128.or(a0, a1), v128.or(a2, a3)), v128.or(a4, a5));
  return f32x4.extract_lane(s, 0);
}

// The tiles' operands: rows of A (1 KiB apart, as an H256 state) and a K x NR panel after them, in L1.
const TILE_K: i32 = 256;

// @ts-ignore: decorator
@inline function fillTile(p: usize, floats: i32, seed: f32): void {
  // Small values: 10^8 multiply-adds per accumulator stay far from overflow and from subnormals.
  for (let i = 0; i < floats; i++) store<f32>(p + (<usize>i << 2), 1e-3 + <f32>(i % 61) * 1e-5 + seed * 1e-6);
}

/** n multiply-add iterations of panel16's 2 x 16 tile (8 accumulators, 2 splats, 4 panel loads per k). */
export function peak_tile2x16(n: i32, seed: f32, p: usize): f32 {
  const a0 = p, a1 = p + 1024, P = p + 2048;
  fillTile(p, 512 + TILE_K * 16, seed);
  let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, y0 = x0, y1 = x0, y2 = x0, y3 = x0;
  for (let r = 0; r < n; r += TILE_K) {
    // The loop of panel16 (and of lstm.ts' step): A pointers stepped, the panel read in order.
    let w = P, pa = a0, pb = a1;
    const aEnd = a0 + (<usize>TILE_K << 2);
    while (pa < aEnd) {
      const s0 = v128.load32_splat(pa);
      const s1 = v128.load32_splat(pb);
      const w0 = v128.load(w, 0), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
      x0 = fma(s0, w0, x0); x1 = fma(s0, w1, x1); x2 = fma(s0, w2, x2); x3 = fma(s0, w3, x3);
      y0 = fma(s1, w0, y0); y1 = fma(s1, w1, y1); y2 = fma(s1, w2, y2); y3 = fma(s1, w3, y3);
      w += 64; pa += 4; pb += 4;
    }
  }
  const t = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(y0, y1), f32x4.add(y2, y3)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}

/**
 * n iterations of panel12's relaxed 3 x 12 tile (9 accumulators, 3 splats, 3 panel loads: 15 registers). Only
 * the relaxed build runs it in the kernels (mul + add needs a temporary, which would spill).
 */
export function peak_tile3x12(n: i32, seed: f32, p: usize): f32 {
  const a0 = p, a1 = p + 1024, a2 = p + 2048, P = p + 3072;
  fillTile(p, 768 + TILE_K * 12, seed);
  let x0 = f32x4.splat(0), x1 = x0, x2 = x0, y0 = x0, y1 = x0, y2 = x0, z0 = x0, z1 = x0, z2 = x0;
  for (let r = 0; r < n; r += TILE_K) {
    let w = P, pa = a0, pb = a1, pc = a2;
    const aEnd = a0 + (<usize>TILE_K << 2);
    while (pa < aEnd) {
      const s0 = v128.load32_splat(pa), s1 = v128.load32_splat(pb), s2 = v128.load32_splat(pc);
      const w0 = v128.load(w, 0), w1 = v128.load(w, 16), w2 = v128.load(w, 32);
      x0 = fma(s0, w0, x0); x1 = fma(s0, w1, x1); x2 = fma(s0, w2, x2);
      y0 = fma(s1, w0, y0); y1 = fma(s1, w1, y1); y2 = fma(s1, w2, y2);
      z0 = fma(s2, w0, z0); z1 = fma(s2, w1, z1); z2 = fma(s2, w2, z2);
      w += 48; pa += 4; pb += 4; pc += 4;
    }
  }
  const t = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, y0)), f32x4.add(f32x4.add(y1, y2), z0));
  const u = f32x4.add(t, f32x4.add(z1, z2));
  return f32x4.extract_lane(u, 0) + f32x4.extract_lane(u, 1) + f32x4.extract_lane(u, 2) + f32x4.extract_lane(u, 3);
}
