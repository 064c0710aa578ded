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

import { madd } from './simd';

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

// Fast tanh and logistic for the recurrent cells' gate math (the exact-ish forms above stay for heads, tests and
// every other caller).
//
// Provenance: tanh is the 13/6-degree rational interpolant of Eigen's generic_fast_tanh_float (Eigen 3.3,
// Eigen/src/Core/MathFunctionsImpl.h, coefficients unchanged; onnxruntime's MLAS tanh uses the same ones), which
// Eigen states is "accurate up to a couple of ulp in the range [-9, 9], outside of which tanh(x) = +/-1". Here the
// input is clamped to [-10, 10] and the result to [-1, 1] (see below), so that tanh is exactly +-1 from 10 on.
// It needs no exp: clamp, x^2, two polynomials, one division. Both polynomials are evaluated here in Estrin's
// form (x^2, x^4, x^8 and independent pairs) instead of Horner's, so the dependent chain is about 6 multiply-adds
// and the division instead of the old tanh's exp chain (about 15 operations) plus division and branch select:
// the LSTM cell is two of these in a row (sigmoid/tanh of the gates, then tanh(c)), bound by that latency.
// The logistic function is sigmoid(x) = 0.5 + 0.5 tanh(x / 2) (an identity), with the same tanh: no exp either.
//
// Measured against the f64 references on the dense grids of assembly/__tests__/activations-fast.spec.ts (which
// asserts these bounds; see the table there):
//   vtanh_fast:    |error| <= 4e-7 absolute on [-20, 20] (measured 3.3e-7 plain SIMD, 2.6e-7 relaxed, largest
//                  near saturation); <= 6.5 ulp relative for |x| > 1e-3 (measured 5.5), <= 4.5 ulp below (3.8);
//                  |tanh| <= 1, exactly +-1 for |x| >= 10; odd, tanh(-0) = -0.
//   vsigmoid_fast: |error| <= 2e-7 absolute on [-20, 20] (measured 1.7e-7 plain, 1.6e-7 relaxed); in [0, 1];
//                  exactly 0 and 1 for |x| >= 20; sigmoid(0) = 0.5.
// Both are absolute bounds (a relative one does not hold for sigmoid's tiny values: sigmoid(-20) = 2e-9 comes
// out as 0), which is what the forward's tolerances against PyTorch (1e-5 absolute) are stated in.
const TF_CLAMP: f32 = 10.0;

/** tanh lane-wise, Eigen's rational form (see above). NaN propagates. */
// @ts-ignore: decorator
@inline export function vtanh_fast(x: v128): v128 {
  // pmin/pmax with x first keep a NaN in x.
  const xc = f32x4.pmax(f32x4.pmin(x, f32x4.splat(TF_CLAMP)), f32x4.splat(-TF_CLAMP));
  const x2 = f32x4.mul(xc, xc);
  const x4 = f32x4.mul(x2, x2);
  const x8 = f32x4.mul(x4, x4);
  // Numerator / x: a1 + a3 x^2 + a5 x^4 + a7 x^6 + a9 x^8 + a11 x^10 + a13 x^12.
  const e0 = madd(f32x4.splat(6.37261928875436e-04), x2, f32x4.splat(4.89352455891786e-03));
  const e1 = madd(f32x4.splat(5.12229709037114e-08), x2, f32x4.splat(1.48572235717979e-05));
  const e2 = madd(f32x4.splat(2.00018790482477e-13), x2, f32x4.splat(-8.60467152213735e-11));
  const e3 = madd(f32x4.splat(-2.76076847742355e-16), x4, e2);
  const p = madd(e3, x8, madd(e1, x4, e0));
  // Denominator: b0 + b2 x^2 + b4 x^4 + b6 x^6.
  const d0 = madd(f32x4.splat(2.26843463243900e-03), x2, f32x4.splat(4.89352518554385e-03));
  const d1 = madd(f32x4.splat(1.19825839466702e-06), x2, f32x4.splat(1.18534705686654e-04));
  const q = madd(d1, x4, d0);
  // Near 9 the interpolant overshoots 1 by an ulp or so (and Eigen 3.4's tighter clamp of 7.905 saturates at
  // 0.99999964, 3.6e-7 short of 1): clamping the result keeps |tanh| <= 1, so that sigmoid stays in [0, 1].
  const one = f32x4.splat(1.0);
  return f32x4.pmax(f32x4.pmin(f32x4.div(f32x4.mul(xc, p), q), one), f32x4.neg(one));
}

/** Logistic lane-wise as 0.5 + 0.5 tanh(x / 2) with vtanh_fast. NaN propagates. */
// @ts-ignore: decorator
@inline export function vsigmoid_fast(x: v128): v128 {
  const h = f32x4.splat(0.5);
  return madd(h, vtanh_fast(f32x4.mul(x, h)), h);
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
export function tanh_fast_f32(x: f32): f32 {
  return f32x4.extract_lane(vtanh_fast(f32x4.splat(x)), 0);
}
export function sigmoid_fast_f32(x: f32): f32 {
  return f32x4.extract_lane(vsigmoid_fast(f32x4.splat(x)), 0);
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
