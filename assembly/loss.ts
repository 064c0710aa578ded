// Losses on outputs already in WebAssembly memory, so a training step's loss gradient is neither a JavaScript loop
// nor a copy of the output out and of the gradient back in (at T=100, B=32, H=256 the loop alone was 5-7% of an
// RNN training step in a --cpu-prof).
//
// Numerics: the difference and the gradient are taken in f64 (f32 - f32 is exact in f64 unless the exponents
// differ by more than 29) and rounded once to f32, the same operations as src/train/losses.ts' mseLoss, so the
// gradient is bit for bit that function's. The sum of squares is accumulated in f64 in two lanes (even and odd
// pairs of floats), which differs from a sequential f64 sum only in the last bits.

/**
 * MSE gradient and sum of squared errors over n floats: grad[i] = f32(scale * (pred[i] - target[i])) with the
 * difference and the product in f64; returns sum_i (pred[i] - target[i])^2 in f64. grad may be target (in place:
 * each element is read before it is written). Byte addresses; no alignment assumed.
 */
export function mse_backward(grad: usize, pred: usize, target: usize, n: i32, scale: f64): f64 {
  const s = f64x2.splat(scale);
  let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(pred + o), t = v128.load(target + o);
    const dLo = f64x2.sub(f64x2.promote_low_f32x4(p), f64x2.promote_low_f32x4(t));
    const pHi = v128.shuffle<f32>(p, p, 2, 3, 0, 1), tHi = v128.shuffle<f32>(t, t, 2, 3, 0, 1);
    const dHi = f64x2.sub(f64x2.promote_low_f32x4(pHi), f64x2.promote_low_f32x4(tHi));
    acc0 = f64x2.add(acc0, f64x2.mul(dLo, dLo));
    acc1 = f64x2.add(acc1, f64x2.mul(dHi, dHi));
    const gLo = f32x4.demote_f64x2_zero(f64x2.mul(s, dLo)), gHi = f32x4.demote_f64x2_zero(f64x2.mul(s, dHi));
    v128.store(grad + o, v128.shuffle<f32>(gLo, gHi, 0, 1, 4, 5));
  }
  let sum = f64x2.extract_lane(acc0, 0) + f64x2.extract_lane(acc0, 1) +
    (f64x2.extract_lane(acc1, 0) + f64x2.extract_lane(acc1, 1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = <f64>load<f32>(pred + o) - <f64>load<f32>(target + o);
    sum += d * d;
    store<f32>(grad + o, <f32>(scale * d));
  }
  return sum;
}
