// Experiment 8 against an independent computation: the states and the product of the step derivatives
// alpha + beta (1 - tanh^2 h) with plain loops, and the elementary symmetric sums of the step factors by the
// textbook recurrence e_k <- e_k * alpha + e_{k-1} * d_t (no enumeration of paths).
import { describe, expect, it } from 'vitest';
import { jacobianPaths } from '../../src/experiments/index.js';

function reference(alpha: number, beta: number, h0: number, T: number): { product: number; e: number[] } {
  let h = h0, product = 1;
  let e = [1];
  for (let t = 0; t < T; t++) {
    const d = beta * (1 - Math.tanh(h) ** 2);
    product *= alpha + d;
    const next = new Array<number>(e.length + 1).fill(0);
    for (let k = 0; k < e.length; k++) { next[k]! += e[k]! * alpha; next[k + 1]! += e[k]! * d; }
    e = next;
    h = alpha * h + beta * Math.tanh(h);
  }
  return { product, e };
}

describe('experiment 8: Jacobian paths', () => {
  it('holds at the defaults: 2^10 terms, C(10, k) per k, summing to the product to 1e-12', () => {
    const r = jacobianPaths.run();
    expect(r.verdict.holds).toBe(true);
    expect(r.data.count).toBe(1024);
    expect(r.data.pathsByK).toEqual([1, 10, 45, 120, 210, 252, 210, 120, 45, 10, 1]);
    const ref = reference(0.5, 0.8, 1, 10);
    expect(Math.abs(r.data.product - ref.product) / Math.abs(ref.product)).toBeLessThan(1e-12);
    expect(Math.abs(r.data.sum - ref.product) / Math.abs(ref.product)).toBeLessThan(1e-12);
    for (let k = 0; k <= 10; k++) {
      expect(Math.abs(r.data.sumByK[k]! - ref.e[k]!)).toBeLessThanOrEqual(1e-12 * Math.abs(ref.product));
    }
    // k = 0 is the all-linear path alpha^T; the last partial sum is the whole sum.
    expect(r.data.sumByK[0]).toBeCloseTo(0.5 ** 10, 15);
    expect(r.data.partialSums[10]).toBeCloseTo(r.data.sum, 14);
    expect(r.data.relativeError).toBeLessThanOrEqual(1e-12);
    expect(r.data.tolerance).toBe(1e-12);
    expect(r.data.scaledError / r.data.relativeError).toBeCloseTo(1, 10); // all terms positive: sum |terms| = product
    expect(r.plots).toHaveLength(2);
  });

  it('holds at T = 20 (a million terms) and with negative weights', () => {
    for (const [alpha, beta, h0, T] of [[0.9, 0.3, -0.7, 20], [-0.6, 1.2, 2, 13]] as const) {
      const r = jacobianPaths.run({ alpha, beta, h0, steps: T });
      const ref = reference(alpha, beta, h0, T);
      expect(r.data.count).toBe(2 ** T);
      expect(r.data.pathsByK[Math.floor(T / 2)]).toBe(T === 20 ? 184756 : 1716);
      // Mixed signs cancel: the error is held relative to sum |terms| = prod (|alpha| + |d_t|), computed here.
      let absScale = 1, h = h0;
      for (let t = 0; t < T; t++) { absScale *= Math.abs(alpha) + Math.abs(beta * (1 - Math.tanh(h) ** 2)); h = alpha * h + beta * Math.tanh(h); }
      expect(r.data.absoluteSum / absScale).toBeCloseTo(1, 9); // a million terms summed in order: ~2e-12 rounding
      expect(Math.abs(r.data.sum - ref.product) / absScale).toBeLessThan(2 ** T * Number.EPSILON);
      expect(r.data.tolerance).toBe(Math.max(1e-12, 2 ** T * Number.EPSILON));
      expect(r.verdict.holds).toBe(true);
    }
  });

  it('with alpha = 0 only the all-tanh path survives', () => {
    const r = jacobianPaths.run({ alpha: 0 });
    expect(r.data.sumByK.slice(0, 10).every((v) => v === 0)).toBe(true);
    expect(r.data.sumByK[10]).toBeCloseTo(reference(0, 0.8, 1, 10).product, 14);
  });

  it('rejects T above 20', () => {
    expect(() => jacobianPaths.run({ steps: 21 })).toThrow(/params\.steps.*\[1, 20\].*got 21/);
  });
});
