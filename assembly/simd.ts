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

/** dst[r, c] = (dst[r, c] if accumulate) + src[r, c] for r < rows, c < cols (strides in floats). */
export function add_rows(dst: usize, ldd: i32, src: usize, lds: i32, rows: i32, cols: i32, accumulate: i32): void {
  for (let r = 0; r < rows; r++) {
    const d = dst + (<usize>(r * ldd) << 2), s = src + (<usize>(r * lds) << 2);
    if (!accumulate) { copy_f32(d, s, cols); continue; }
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      v128.store(d + (<usize>c << 2), f32x4.add(v128.load(d + (<usize>c << 2)), v128.load(s + (<usize>c << 2))));
    }
    for (; c < cols; c++) {
      store<f32>(d + (<usize>c << 2), load<f32>(d + (<usize>c << 2)) + load<f32>(s + (<usize>c << 2)));
    }
  }
}

/** dst[c] = (dst[c] if accumulate) + sum_r src[r, c] for c < n (n a multiple of 4, 16-byte aligned rows). */
export function colsum_forward(dst: usize, src: usize, lds: i32, rows: i32, n: i32, accumulate: i32): void {
  for (let c = 0; c < n; c += 4) {
    let a = accumulate ? v128.load(dst + (<usize>c << 2)) : f32x4.splat(0);
    let p = src + (<usize>c << 2);
    const step = <usize>lds << 2;
    for (let r = 0; r < rows; r++) {
      a = f32x4.add(a, v128.load(p));
      p += step;
    }
    v128.store(dst + (<usize>c << 2), a);
  }
}
