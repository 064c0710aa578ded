// assembly/loss.ts' mse_backward against a scalar reference written here from PyTorch's formula
// (torch.nn.functional.mse_loss: grad = scale * (pred - target), loss = sum of squares): the gradient must be bit
// for bit the f64-then-round-once value (the same operations src/train/losses.ts' mseLoss does), for sizes with
// and without a tail, at start offsets shifted by 0..3 floats, in place (grad == target) and not; the sum of
// squares within 1e-14 relative of a sequential f64 sum. Nothing past n is written (sentinel NaNs).

import { mse_backward } from '../loss';
import { allocF32, fillBits, fillRandom, getF, getBits, SENTINEL, seed, BUILD } from './util';

const NS: StaticArray<i32> = [0, 1, 2, 3, 4, 5, 7, 8, 13, 33, 1000];
const MAXN: i32 = 1000;
const PAD: i32 = 8;

describe('mse_backward', () => {
  it('matches the f64 reference bit for bit, in place and not, at every alignment', () => {
    seed(7);
    const pred = allocF32(MAXN + PAD), target = allocF32(MAXN + PAD), grad = allocF32(MAXN + PAD),
      keep = allocF32(MAXN + PAD);
    let cases = 0;
    for (let ni = 0; ni < NS.length; ni++) {
      const n = NS[ni];
      for (let shift = 0; shift < 4; shift++) {
        for (let inPlace = 0; inPlace < 2; inPlace++) {
          const p = pred + (<usize>shift << 2), t = target + (<usize>shift << 2);
          const g = inPlace ? t : grad + (<usize>shift << 2);
          fillRandom(p, n);
          fillRandom(t, n);
          // Scale the targets so that differences span several binades.
          for (let i = 0; i < n; i++) store<f32>(t + (<usize>i << 2), load<f32>(t + (<usize>i << 2)) * <f32>(1 << (i % 7)));
          memory.copy(keep, t, <usize>n << 2);
          fillBits(g + (<usize>n << 2), 3, SENTINEL);
          const scale: f64 = n > 0 ? 2.0 / <f64>n : 2.0;
          const sum = mse_backward(g, p, t, n, scale);
          let ref: f64 = 0;
          for (let i = 0; i < n; i++) {
            const d = <f64>getF(p, i) - <f64>getF(keep, i);
            ref += d * d;
            const want = <f32>(scale * d);
            if (reinterpret<u32>(getF(g, i)) != reinterpret<u32>(want)) {
              expect<f32>(getF(g, i)).toBe(want, BUILD + ' grad[' + i.toString() + '] n=' + n.toString() +
                ' shift=' + shift.toString() + ' inPlace=' + inPlace.toString());
            }
          }
          const rel = Math.abs(sum - ref) / Math.max(ref, 1e-300);
          expect<bool>(n == 0 ? sum == 0 : rel <= 1e-14).toBe(true, BUILD + ' sum n=' + n.toString() + ' rel ' +
            rel.toString());
          for (let i = n; i < n + 3; i++) expect<u32>(getBits(g, i)).toBe(SENTINEL, BUILD + ' written past n');
          cases++;
        }
      }
    }
    expect<i32>(cases).toBe(NS.length * 8);
  });

  it('propagates NaN and Infinity of the prediction', () => {
    const p = allocF32(8), t = allocF32(8), g = allocF32(8);
    for (let i = 0; i < 8; i++) { store<f32>(p + (<usize>i << 2), 0.5); store<f32>(t + (<usize>i << 2), 0.25); }
    store<f32>(p + 8, NaN);
    store<f32>(p + 20, Infinity);
    const s = mse_backward(g, p, t, 8, 0.25);
    expect<bool>(isNaN(s)).toBe(true);
    expect<bool>(isNaN(getF(g, 2))).toBe(true);
    expect<f32>(getF(g, 5)).toBe(Infinity);
    expect<f32>(getF(g, 0)).toBe(<f32>0.0625);
  });
});
