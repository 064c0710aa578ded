// SIMD helpers shared by every kernel family.
//
// One source builds twice (see asconfig.json): the plain SIMD build computes a*b+c as a rounded multiply then
// a rounded add; the relaxed build uses f32x4.relaxed_madd, which the engine may lower to a fused multiply-add
// (one rounding). The two builds therefore differ by at most one rounding per term, which is why the relaxed
// build is checked against the plain one to 1e-6 and not bit for bit.

/** a * b + c, lane-wise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Copies n floats from src to dst (byte addresses); regions must not overlap. */
export function copy_f32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  }
  for (; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
  }
}

/** Sets n floats at dst to zero. */
export function zero_f32(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n << 2);
}
