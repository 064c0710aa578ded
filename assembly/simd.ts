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

/**
 * dst[c] = (dst[c] if accumulate) + sum_r src[r, c] for c < n (n a multiple of 4, 16-byte aligned rows), and the
 * same sum added into dst2 when it is non-zero (b_ih and b_hh get the same gradient: one pass). Columns go in
 * blocks of 48 held in 12 registers, so the matrix is read once per block rather than once per 4 columns.
 */
export function colsum_forward(dst: usize, dst2: usize, src: usize, lds: i32, rows: i32, n: i32,
                               accumulate: i32): void {
  const step = <usize>lds << 2;
  let c = 0;
  for (; c + 48 <= n; c += 48) {
    const o = <usize>c << 2;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    let a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    let p = src + o;
    for (let r = 0; r < rows; r++) {
      a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
      a4 = f32x4.add(a4, v128.load(p, 64)); a5 = f32x4.add(a5, v128.load(p, 80));
      a6 = f32x4.add(a6, v128.load(p, 96)); a7 = f32x4.add(a7, v128.load(p, 112));
      a8 = f32x4.add(a8, v128.load(p, 128)); a9 = f32x4.add(a9, v128.load(p, 144));
      a10 = f32x4.add(a10, v128.load(p, 160)); a11 = f32x4.add(a11, v128.load(p, 176));
      p += step;
    }
    const d = dst + o, d2 = dst2 ? dst2 + o : 0;
    addOut(d, d2, 0, a0, accumulate); addOut(d, d2, 16, a1, accumulate); addOut(d, d2, 32, a2, accumulate);
    addOut(d, d2, 48, a3, accumulate); addOut(d, d2, 64, a4, accumulate); addOut(d, d2, 80, a5, accumulate);
    addOut(d, d2, 96, a6, accumulate); addOut(d, d2, 112, a7, accumulate); addOut(d, d2, 128, a8, accumulate);
    addOut(d, d2, 144, a9, accumulate); addOut(d, d2, 160, a10, accumulate); addOut(d, d2, 176, a11, accumulate);
  }
  for (; c < n; c += 4) {
    const o = <usize>c << 2;
    colsum4(dst + o, dst2 ? dst2 + o : 0, src + o, step, rows, accumulate);
  }
}

// @ts-ignore: decorator
@inline function addOut(d: usize, d2: usize, off: usize, a: v128, accumulate: i32): void {
  v128.store(d + off, accumulate ? f32x4.add(v128.load(d + off), a) : a);
  if (d2) v128.store(d2 + off, accumulate ? f32x4.add(v128.load(d2 + off), a) : a);
}

function colsum4(d: usize, d2: usize, p: usize, step: usize, rows: i32, accumulate: i32): void {
  // Two chains so the add latency does not bound the loop.
  let a = f32x4.splat(0), b = f32x4.splat(0);
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    a = f32x4.add(a, v128.load(p));
    b = f32x4.add(b, v128.load(p + step));
    p += step << 1;
  }
  if (r < rows) a = f32x4.add(a, v128.load(p));
  addOut(d, d2, 0, f32x4.add(a, b), accumulate);
}
