// Shared helpers for the kernel specs: aligned scratch buffers, a deterministic generator, float formatting.
//
// The kernels take raw byte addresses. Buffers come from heap.alloc (the TLSF allocator under the test runtime),
// which returns 16-byte aligned blocks; allocF32 checks that, so a change of runtime cannot silently hand the
// kernels misaligned memory.

/** n floats (at least one vector) of 16-byte aligned memory. Release with heap.free. */
export function allocF32(n: i32): usize {
  const bytes = <usize>max(n, 4) << 2;
  const p = heap.alloc((bytes + 15) & ~15);
  if (p & 15) {
    expect<usize>(p & 15).toBe(0, "heap.alloc returned a block that is not 16-byte aligned");
  }
  return p;
}

/** Fills n floats at p with the bit pattern `bits`. */
export function fillBits(p: usize, n: i32, bits: u32): void {
  for (let i = 0; i < n; i++) store<u32>(p + (<usize>i << 2), bits);
}

export function getF(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
export function setF(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}
export function getBits(p: usize, i: i32): u32 {
  return load<u32>(p + (<usize>i << 2));
}

/** A quiet NaN with a recognisable payload: marks memory that must not be read or must not be written. */
export const SENTINEL: u32 = 0x7fc0dead;

let rngState: u32 = 0x9e3779b9;

export function seed(s: u32): void {
  rngState = s != 0 ? s : 0x9e3779b9;
}

/** xorshift32. */
export function nextU32(): u32 {
  let x = rngState;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rngState = x;
  return x;
}

/** Uniform in [-1, 1), 24 random bits. */
export function randF(): f32 {
  return <f32>(<f64>(nextU32() >> 8) * (1.0 / 8388608.0) - 1.0);
}

/** Fills n floats at p with randF(). */
export function fillRandom(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) setF(p, i, randF());
}

/**
 * The spacing of f32 values at |r| (one unit in the last place of the f32 nearest r), floored at the subnormal
 * spacing 2^-149. r is an f64 reference value.
 */
export function ulpF32(r: f64): f64 {
  const a = Math.abs(r);
  if (a == 0) return Math.pow(2.0, -149);
  const e = <i32>((reinterpret<u64>(a) >> 52) & 0x7ff) - 1023; // floor(log2 a) for normal f64
  return Math.pow(2.0, <f64>(max(e, -126) - 23));
}

/** Which of the two test builds is running (see as-pect.config.js). */
export const BUILD: string = ASC_FEATURE_RELAXED_SIMD ? "[relaxed-simd build]" : "[simd build]";

/** Formats an f64 for log messages (AssemblyScript's toString is exact enough for reports). */
export function fmt(x: f64): string {
  return x.toString();
}
