// Vector activations (f32x4) with stated error.
//
// Provenance: exp, and tanh on |x| < 0.625, follow Cephes' single-precision expf and tanhf (S. L. Moshier,
// Cephes Math Library 2.2, coefficients unchanged). Cephes states a peak relative error of 1.2e-7 for expf
// and 2.9e-7 for tanhf on (-2, 2). Outside (-0.625, 0.625) tanh is 1 - 2 / (exp(2|x|) + 1) with the sign
// restored, which has no cancellation there because the result is at least 0.55.
// The logistic function is 1 / (1 + exp(-x)), whose relative error is that of exp plus two roundings.
//
// Measured against the exact functions in f64, over every float32 in range (a one-off scan) and over the dense
// grids of assembly/__tests__/activations.spec.ts, which assert these bounds:
//   tanh:    |error| <= 1e-7 absolute on [-20, 20] (measured 7.9e-8); <= 1.5 ulp relative for |x| > 1e-3
//            (measured 1.33 ulp); <= 0.75 ulp for |x| <= 1e-3 (measured 0.5); exactly +-1 for |x| >= 20; odd.
//   sigmoid: |error| <= 1e-7 absolute (measured 8.93e-8); exactly 0 below -88.3.
//   exp:     <= 1.25 ulp relative on [-87, 88] (measured 0.99 ulp with the polynomial in Horner's form; 0.97 on
//            the spec's grid in Estrin's form, below); clamped to [1.2e-38, 2.2e38] outside.
//
// Scalar tails use the same vector code on a splat so that a value never depends on its lane position.

// Clamp so that 2^n below stays a normal float: x*log2(e) in [-125.95, 127.39] -> n in [-126, 127].
// exp(-87.3) = 1.2e-38 and exp(88.3) = 2.2e38; beyond these, tanh and sigmoid are already exact in f32.
const EXP_LO: f32 = -87.3;
const EXP_HI: f32 = 88.3;
const LOG2E: f32 = 1.44269504088896341;
// ln 2 split in two (Cody-Waite) so that x - n*ln2 is exact for the first part.
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

/** e^x lane-wise (Cephes expf). NaN propagates. */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  // pmin/pmax with x first keep a NaN in x.
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  // Cephes' polynomial in Estrin's form (three independent pairs, then r^2 and r^4) rather than Horner's: the
  // dependent chain drops from 10 operations to 6, and the LSTM cell is bound by that latency, not by throughput.
  const r2 = f32x4.mul(r, r);
  const pa = f32x4.add(f32x4.mul(f32x4.splat(1.6666665459e-1), r), f32x4.splat(5.0000001201e-1));
  const pb = f32x4.add(f32x4.mul(f32x4.splat(8.3334519073e-3), r), f32x4.splat(4.1665795894e-2));
  const pc = f32x4.add(f32x4.mul(f32x4.splat(1.9875691500e-4), r), f32x4.splat(1.3981999507e-3));
  const p = f32x4.add(f32x4.add(f32x4.mul(pb, r2), pa), f32x4.mul(pc, f32x4.mul(r2, r2)));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  // 2^n built in the exponent field. n + 127 is an integer in [1, 254], so 2^23 + n + 127 is exact and its bits
  // are 0x4B000000 + n + 127; shifting left by 23 drops the 0x4B000000 (it leaves 32 bits) and leaves (n + 127)
  // in the exponent field. This replaces i32x4.trunc_sat_f32x4_s, which V8 lowers to about 7 instructions on x64
  // (NaN and saturation fix-ups), by one add. A NaN gives bits whose shift is 0, and y is NaN already.
  const e = i32x4.shl(f32x4.add(n, f32x4.splat(8388735.0)), 23);
  return f32x4.mul(y, e);
}

/** Logistic 1 / (1 + e^-x) lane-wise. */
// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1.0);
  const s = f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
  // exp's clamp would leave 4.5e-39 below x = -88.3; the exact value underflows to 0 there.
  return v128.andnot(s, f32x4.lt(x, f32x4.splat(-EXP_HI)));
}

/** tanh lane-wise. */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  // Small branch: Cephes tanhf polynomial, x + x^3 P(x^2).
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  // Large branch: 1 - 2 / (e^(2|x|) + 1), sign of x restored by a bit copy.
  const one = f32x4.splat(1.0);
  const e = vexp(f32x4.add(ax, ax));
  const big = f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(e, one)));
  // Both branches are computed on magnitudes' sign-free values and the sign of x is or-ed back in last, which
  // also keeps tanh(-0) = -0 (the polynomial alone gives -0 + +0 = +0).
  const signBit = v128.and(x, i32x4.splat(0x80000000));
  const useSmall = f32x4.lt(ax, f32x4.splat(0.625));
  return v128.or(v128.bitselect(small, big, useSmall), signBit);
}

/** max(x, 0) lane-wise; NaN propagates. */
// @ts-ignore: decorator
@inline export function vrelu(x: v128): v128 {
  // pmax(x, 0) = x < 0 ? 0 : x keeps NaN (the comparison is false).
  return f32x4.pmax(x, f32x4.splat(0.0));
}

// Exported scalar and array forms, used by tests and by heads.

export function tanh_f32(x: f32): f32 {
  return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0);
}
export function sigmoid_f32(x: f32): f32 {
  return f32x4.extract_lane(vsigmoid(f32x4.splat(x)), 0);
}
export function exp_f32(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

/** Activation codes shared with the TypeScript side. */
export const ACT_IDENTITY: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_SIGMOID: i32 = 2;
export const ACT_RELU: i32 = 3;

// @ts-ignore: decorator
@inline export function vact(x: v128, act: i32): v128 {
  if (act == ACT_TANH) return vtanh(x);
  if (act == ACT_RELU) return vrelu(x);
  if (act == ACT_SIGMOID) return vsigmoid(x);
  return x;
}

/** y[i] = act(x[i]) for n floats (in place allowed). */
export function activation_forward(y: usize, x: usize, n: i32, act: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(y + (<usize>i << 2), vact(v128.load(x + (<usize>i << 2)), act));
  }
  for (; i < n; i++) {
    const v = vact(f32x4.splat(load<f32>(x + (<usize>i << 2))), act);
    store<f32>(y + (<usize>i << 2), f32x4.extract_lane(v, 0));
  }
}
