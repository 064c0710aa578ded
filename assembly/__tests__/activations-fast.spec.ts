// tanh_fast_f32 and sigmoid_fast_f32 (the recurrent cells' gate math, assembly/activations.ts: Eigen's rational
// tanh and sigmoid(x) = 0.5 + 0.5 tanh(x / 2)) against f64 references, as activations.spec.ts does for the
// exp-based forms: Math.tanh(x) and 1 / (1 + Math.exp(-x)) in f64 at the same float32 input.
//
// Inputs: 400001 evenly spaced float32 points on [-20, 20] (step 1e-4) plus special values; for tanh near 0 a
// log-spaced grid of 20001 points per sign on [1e-30, 1e-3].
//
// Measured maxima on these grids (both builds; they differ by the multiply-adds' rounding):
//                                      simd                    relaxed
//   tanh    abs error, [-20, 20]       3.30e-7 (x = -8.2137)               2.56e-7 (x = -7.0607)
//   tanh    ulp, 1e-3 < |x| <= 20      5.54 ulp (x = -8.2137)               4.31 ulp (x = -0.0582)
//   tanh    ulp, |x| <= 1e-3           3.78 ulp (x = 9.69e-4)               3.78 ulp (x = 9.69e-4)
//   sigmoid abs error, [-20, 20]       1.72e-7 (x = 7.4898)               1.61e-7 (x = 7.5219)
// (Eigen's comment claims "a couple of ulp" on [-9, 9] for its Horner evaluation; the largest errors here are
// close to saturation, where an ulp of the result is 6e-8.) The asserted bounds below are these maxima rounded up.

import { tanh_fast_f32, sigmoid_fast_f32 } from '../activations';
import { ulpF32, fmt, BUILD } from './util';

const TANH_FAST_ABS: f64 = 4.0e-7;      // [-20, 20] and the special values
const TANH_FAST_ULP: f64 = 6.5;         // 1e-3 < |x| <= 20
const TANH_FAST_ULP_SMALL: f64 = 4.5;   // 1e-30 <= |x| <= 1e-3
const SIGMOID_FAST_ABS: f64 = 2.0e-7;   // [-20, 20] and the special values

const GRID_N: i32 = 400001;

function gridX(i: i32): f32 {
  return <f32>(-20.0 + 40.0 * <f64>i / <f64>(GRID_N - 1));
}

const SPECIALS: StaticArray<f32> = [
  0.0, -0.0, 1e-30, -1e-30, 1e-3, -1e-3, 0.625, -0.625, 1.0, -1.0, 4.5, -4.5, 8.9999990, -8.9999990,
  9.0, -9.0, 9.0000010, -9.0000010, 18.0, -18.0, 20.0, -20.0, 88.3, -88.3, 100.0, -100.0,
  1.4e-45, -1.4e-45, 1.1754944e-38, -1.1754944e-38, 3.4028235e38, -3.4028235e38, Infinity, -Infinity,
];

function inputAt(i: i32): f32 {
  return i < GRID_N ? gridX(i) : SPECIALS[i - GRID_N];
}

function refTanh(x: f32): f64 { return Math.tanh(<f64>x); }
function refSigmoid(x: f32): f64 { return 1.0 / (1.0 + Math.exp(-<f64>x)); }

describe("tanh_fast_f32", () => {
  it("absolute error on [-20, 20] and specials, ulp error for |x| > 1e-3, within [-1, 1]", () => {
    let maxAbs: f64 = 0, maxUlp: f64 = 0;
    let atAbs: f32 = 0, atUlp: f32 = 0;
    const n = GRID_N + SPECIALS.length;
    for (let i = 0; i < n; i++) {
      const x = inputAt(i);
      const y = tanh_fast_f32(x);
      const f = <f64>y, r = refTanh(x);
      const e = Math.abs(f - r);
      if (!(e <= TANH_FAST_ABS)) expect<f64>(e).toBeLessThanOrEqual(TANH_FAST_ABS, "abs error at x = " + fmt(<f64>x));
      if (!(Math.abs(f) <= 1.0)) expect<f64>(Math.abs(f)).toBeLessThanOrEqual(1.0, "|tanh| at x = " + fmt(<f64>x));
      if (e > maxAbs) { maxAbs = e; atAbs = x; }
      if (Math.abs(<f64>x) > 1e-3) {
        const u = e / ulpF32(r);
        if (!(u <= TANH_FAST_ULP)) expect<f64>(u).toBeLessThanOrEqual(TANH_FAST_ULP, "ulp error at x = " + fmt(<f64>x));
        if (u > maxUlp) { maxUlp = u; atUlp = x; }
      }
    }
    log<string>(BUILD + " tanh_fast max abs error " + fmt(maxAbs) + " at x = " + fmt(<f64>atAbs) + " (bound " +
      fmt(TANH_FAST_ABS) + "); max ulp error, |x| > 1e-3: " + fmt(maxUlp) + " at x = " + fmt(<f64>atUlp) +
      " (bound " + fmt(TANH_FAST_ULP) + ")");
  });

  it("relative error for 1e-30 <= |x| <= 1e-3 (log grid)", () => {
    let maxUlp: f64 = 0;
    let atUlp: f32 = 0;
    const n = 20001;
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < n; i++) {
        const mag = <f32>Math.pow(10.0, -30.0 + 27.0 * <f64>i / <f64>(n - 1));
        const x = s ? -mag : mag;
        const r = refTanh(x);
        const u = Math.abs(<f64>tanh_fast_f32(x) - r) / ulpF32(r);
        if (!(u <= TANH_FAST_ULP_SMALL)) {
          expect<f64>(u).toBeLessThanOrEqual(TANH_FAST_ULP_SMALL, "ulp error at x = " + fmt(<f64>x));
        }
        if (u > maxUlp) { maxUlp = u; atUlp = x; }
      }
    }
    log<string>(BUILD + " tanh_fast max ulp error, 1e-30 <= |x| <= 1e-3: " + fmt(maxUlp) + " at x = " +
      fmt(<f64>atUlp) + " (bound " + fmt(TANH_FAST_ULP_SMALL) + ")");
  });

  it("special values and odd symmetry", () => {
    expect<f32>(tanh_fast_f32(Infinity)).toBe(1.0, "tanh(+Inf)");
    expect<f32>(tanh_fast_f32(-Infinity)).toBe(-1.0, "tanh(-Inf)");
    expect<f32>(tanh_fast_f32(10.0)).toBe(1.0, "tanh(10)");
    expect<f32>(tanh_fast_f32(100)).toBe(1.0, "tanh(100)");
    expect<f32>(tanh_fast_f32(-100)).toBe(-1.0, "tanh(-100)");
    expect<bool>(isNaN(tanh_fast_f32(NaN))).toBe(true, "tanh(NaN) is NaN");
    expect<u32>(reinterpret<u32>(tanh_fast_f32(0.0))).toBe(0, "tanh(+0) is +0");
    expect<u32>(reinterpret<u32>(tanh_fast_f32(-0.0))).toBe(0x80000000, "tanh(-0) is -0");
    for (let i = 0; i < GRID_N; i++) {
      const x = gridX(i);
      if (reinterpret<u32>(tanh_fast_f32(-x)) != (reinterpret<u32>(tanh_fast_f32(x)) ^ 0x80000000) && x != 0) {
        expect<f32>(tanh_fast_f32(-x)).toBe(-tanh_fast_f32(x), "tanh(-x) = -tanh(x) at x = " + fmt(<f64>x));
      }
    }
  });
});

describe("sigmoid_fast_f32", () => {
  it("absolute error on [-20, 20] and specials, within [0, 1]", () => {
    let maxAbs: f64 = 0;
    let atAbs: f32 = 0;
    const n = GRID_N + SPECIALS.length;
    for (let i = 0; i < n; i++) {
      const x = inputAt(i);
      const f = <f64>sigmoid_fast_f32(x), r = refSigmoid(x);
      const e = Math.abs(f - r);
      if (!(e <= SIGMOID_FAST_ABS)) {
        expect<f64>(e).toBeLessThanOrEqual(SIGMOID_FAST_ABS, "abs error at x = " + fmt(<f64>x));
      }
      if (!(f >= 0.0 && f <= 1.0)) expect<f64>(f).toBeLessThanOrEqual(1.0, "sigmoid in [0, 1] at x = " + fmt(<f64>x));
      if (e > maxAbs) { maxAbs = e; atAbs = x; }
    }
    log<string>(BUILD + " sigmoid_fast max abs error " + fmt(maxAbs) + " at x = " + fmt(<f64>atAbs) + " (bound " +
      fmt(SIGMOID_FAST_ABS) + ")");
  });

  it("special values", () => {
    expect<f32>(sigmoid_fast_f32(Infinity)).toBe(1.0, "sigmoid(+Inf)");
    expect<f32>(sigmoid_fast_f32(-Infinity)).toBe(0.0, "sigmoid(-Inf)");
    expect<f32>(sigmoid_fast_f32(100)).toBe(1.0, "sigmoid(100)");
    expect<f32>(sigmoid_fast_f32(-100)).toBe(0.0, "sigmoid(-100)");
    expect<f32>(sigmoid_fast_f32(20)).toBe(1.0, "sigmoid(20)");
    expect<f32>(sigmoid_fast_f32(-20)).toBe(0.0, "sigmoid(-20)");
    expect<f32>(sigmoid_fast_f32(0)).toBe(0.5, "sigmoid(0)");
    expect<bool>(isNaN(sigmoid_fast_f32(NaN))).toBe(true, "sigmoid(NaN) is NaN");
  });
});
