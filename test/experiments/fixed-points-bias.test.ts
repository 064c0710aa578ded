// Experiment 2 against independent references: the fixed points of h = tanh(w h + b) found here by bisection on
// g(h) = tanh(w h + b) - h with Math.tanh, the fold's closed form b_f = w h_f - atanh(h_f), h_f = sqrt(1 - 1/w),
// lambda = w (1 - h*^2), and the perturbation's decay simulated with a plain Math.tanh loop.
import { describe, expect, it } from 'vitest';
import { fixedPointsBias, halfLifeCrossing } from '../../src/experiments/index.js';

/** Roots of tanh(w h + b) - h on [-1.5, 1.5] (offset): sign changes on a fine grid, refined by bisection. */
function roots(w: number, b: number): number[] {
  const g = (h: number): number => Math.tanh(w * h + b) - h;
  const out: number[] = [];
  // The grid is offset by an irrational fraction of a cell so that no grid point is a root (h = 0 at b = 0).
  const N = 30000, off = Math.SQRT1_2 / N;
  for (let i = 0; i < N; i++) {
    let lo = -1.5 + off + (3 * i) / N, hi = -1.5 + off + (3 * (i + 1)) / N;
    if (Math.sign(g(lo)) === Math.sign(g(hi))) continue;
    for (let k = 0; k < 200; k++) {
      const mid = (lo + hi) / 2;
      if (Math.sign(g(mid)) === Math.sign(g(lo))) lo = mid; else hi = mid;
    }
    out.push((lo + hi) / 2);
  }
  return out;
}

describe('experiment 2: fixed points and the bias knob', () => {
  it('holds at the defaults: 3 fixed points at b = 0, 1 at b = 1, folds at the closed form, half-life within 5%', () => {
    const r = fixedPointsBias.run();
    expect(r.verdict.holds).toBe(true);
    const d = r.data;
    // Fixed points at b = 0 against bisection: 0 and +-0.957504...
    const ref0 = roots(2, 0);
    expect(ref0).toHaveLength(3);
    expect(d.countAtZero).toBe(3);
    const at0 = d.points.filter((q) => q.b === 0).map((q) => q.h).sort((a, b) => a - b);
    at0.forEach((h, i) => expect(h).toBeCloseTo(ref0[i]!, 9));
    expect(ref0[2]).toBeCloseTo(0.9575040240, 9);
    expect(d.countAtEnd).toBe(1);
    expect(roots(2, 1)).toHaveLength(1);
    // Every swept count agrees with bisection (a few grid points).
    for (const k of [0, 30, 60, 100, 140, 170, 200]) expect(d.count[k]).toBe(roots(2, d.b[k]!).length);
    // Folds at +-(2 h_f - atanh(h_f)), h_f = sqrt(1/2): 0.532840...
    const bf = 2 * Math.SQRT1_2 - Math.atanh(Math.SQRT1_2);
    expect(bf).toBeCloseTo(0.5328400, 6); // sqrt(2) - asinh(1)
    expect(d.folds).toHaveLength(2);
    expect(d.folds[0]).toBeCloseTo(-bf, 6);
    expect(d.folds[1]).toBeCloseTo(bf, 6);
    expect(d.foldClosedForm).toBeCloseTo(bf, 12);
    // Half-life at b = -0.52: the stable point of the upper branch (the slowest one) by bisection.
    const hs = roots(2, -0.52);
    expect(hs).toHaveLength(3);
    const hStar = hs[2]!;
    expect(d.hStar).toBeCloseTo(hStar, 9);
    const lambda = 2 * (1 - hStar * hStar);
    expect(d.lambda).toBeCloseTo(lambda, 9);
    const predicted = Math.log(0.5) / Math.log(lambda);
    expect(d.predictedHalfLife).toBeCloseTo(predicted, 8);
    expect(predicted).toBeGreaterThan(3.3);
    expect(predicted).toBeLessThan(3.5);
    // The simulation, independently.
    let h = hStar + 1e-4;
    const dev = [1e-4];
    for (let t = 1; t <= 30; t++) { h = Math.tanh(2 * h - 0.52); dev.push(Math.abs(h - hStar)); }
    for (let t = 0; t <= 10; t++) expect(d.deviation[t]).toBeCloseTo(dev[t]!, 10);
    // The first step of the simulated deviation below half its start: between 3 and 4 (predicted 3.42).
    const first = dev.findIndex((e) => e <= dev[0]! / 2);
    expect(first).toBe(4);
    expect(d.measuredHalfLife).toBeGreaterThan(3);
    expect(d.measuredHalfLife).toBeLessThan(4);
    expect(Math.abs(d.measuredHalfLife - predicted) / predicted).toBeLessThan(0.05);
    expect(d.relativeError).toBeCloseTo(Math.abs(d.measuredHalfLife - predicted) / predicted, 12);
    expect(r.plots).toHaveLength(2);
  });

  it('halfLifeCrossing is exact on a geometric sequence', () => {
    const q = 0.8;
    const e = Array.from({ length: 20 }, (_, t) => 3 * q ** t);
    expect(halfLifeCrossing(e)).toBeCloseTo(Math.log(0.5) / Math.log(q), 12);
    expect(halfLifeCrossing([1, 0.9, 0.8])).toBeNaN();
  });

  it('breaks for a large perturbation: the nonlinear decay is faster than the linearisation predicts', () => {
    const r = fixedPointsBias.run({ perturbation: 0.3 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.relativeError).toBeGreaterThan(0.3);
    expect(r.verdict.checks.filter((c) => !c.holds).map((c) => c.name)).toEqual([
      'relative error of the simulated half-life against ln(0.5)/ln|lambda|',
    ]);
  });

  it('breaks for w < 1: a single fixed point for every b, no fold', () => {
    const r = fixedPointsBias.run({ weight: 0.8 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.count.every((c) => c === 1)).toBe(true);
    expect(r.data.folds).toHaveLength(0);
    expect(roots(0.8, 0)).toHaveLength(1);
  });

  it('rejects parameters outside their range, naming them', () => {
    expect(() => fixedPointsBias.run({ steps: 1 })).toThrow(/params\.steps.*\[2, 500\].*got 1/);
    expect(() => fixedPointsBias.run({ weight: 5 })).toThrow(/params\.weight/);
  });
});
