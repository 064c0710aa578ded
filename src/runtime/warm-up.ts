// Asking V8 to optimise the shared kernels at init, so that the first forward does not run them unoptimised.
//
// V8 (Node 20's 11.3, Chrome) compiles a wasm function on its first call with its baseline compiler, Liftoff,
// and re-compiles it with TurboFan in a background thread once the function has used up a tiering budget (spent
// at loop back-edges and returns); calls made after that compile finishes run the optimised code. There is no
// on-stack replacement, so a call that is already running stays in Liftoff code to its end. A model's first
// forward makes several long single calls (the input-projection GEMM over every time step, the W_hh repack for
// batch 1, and in `loadStateDict` one pack per weight) that therefore ran entirely in Liftoff code, 5-10x slower
// than TurboFan's: about 4 ms of a cold start's 11 ms first forward on the 2026-12-03 Xeon (bench/peers'
// cold.mjs). Exhausting those functions' budgets at init with small calls (about 1.5 ms) lets TurboFan compile
// them on another core while the caller builds and loads its model.

import type { KernelExports } from './kernels.js';

/** Floats of the scratch block the warm-up runs in: every call below stays inside it. */
const WARM_FLOATS = 16384;

/**
 * Calls per kernel, about 1.5x the fewest after which V8 had optimised code on the 2026-12-03 Xeon (node
 * 20.20.2), found with `%IsLiftoffFunction` for the exported kernels (pack_forward and has_nonfinite 16,
 * gemv_pack 24, gemv_forward 96-128 at these sizes) and, for gemm_forward, whose inner panel functions are not
 * exported, by timing: after 15 calls the next 100x32x1024 product took its optimised 0.3-0.4 ms, not 2.0 ms.
 * The margin covers a slightly different budget accounting in another V8; falling short only costs the gain.
 * Each kernel's calls take 0.2-0.4 ms: the budget is spent by executing baseline code, so fewer, larger calls
 * cost the same.
 */
const CALLS = { pack: 24, scan: 24, gemm: 24, gemvPack: 32, gemv: 160 } as const;

/**
 * Runs the shared kernels (weight packing, the non-finite scan, the GEMM, the batch-1 repack and product) on
 * zeros in a scratch block at `ptr` of at least {@link WARM_FLOATS} floats. Results are discarded; nothing
 * outside the block is touched.
 */
export function warmKernels(k: KernelExports, ptr: number): void {
  const S = ptr;                 // sources: 4096 floats of zeros
  const D = ptr + 4 * 4096;      // packed / dot layout: 8192 floats
  const C = ptr + 4 * 12288;     // outputs: 4096 floats
  k.zero_f32(ptr, WARM_FLOATS);
  // 4 gates x 16 units x 32 inputs: 4 panels of 32 x 16 = 2048 floats of D.
  for (let i = 0; i < CALLS.pack; i++) k.pack_forward(D, S, 4, 16, 32, 4, 16);
  for (let i = 0; i < CALLS.scan; i++) k.has_nonfinite(S, 4096);
  // C (8 x 64) = S (8 x 32) . D (4 panels of 32 x 16).
  for (let i = 0; i < CALLS.gemm; i++) k.gemm_forward(C, 64, S, 32, D, 0, 0, 8, 32, 4, 16, 0);
  // 2 panels of 32 x 16 from S into the dot layout at D (32 x 32 = 1024 floats), then its product.
  for (let i = 0; i < CALLS.gemvPack; i++) k.gemv_pack(D, S, 32, 2, 16);
  for (let i = 0; i < CALLS.gemv; i++) k.gemv_forward(C, 0, S, D, 32, 32, 0);
}

export { WARM_FLOATS };
