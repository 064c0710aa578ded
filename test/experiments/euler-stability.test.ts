// Experiment 7 against the closed form: Euler's y_N = (1 + dt lambda)^N and the exact y(N dt) = e^{lambda N dt},
// computed here with Math.pow / Math.exp (real lambda) and with complex arithmetic by polar form (complex lambda).
import { describe, expect, it } from 'vitest';
import { eulerStability } from '../../src/experiments/index.js';

/** |(1 + dt lambda)^N - e^{lambda N dt}|, by polar form. */
function closedFormError(re: number, im: number, dt: number, N: number): number {
  const sr = 1 + dt * re, si = dt * im;
  const mod = Math.hypot(sr, si) ** N, arg = Math.atan2(si, sr) * N;
  const em = Math.exp(re * N * dt), ea = im * N * dt;
  return Math.hypot(mod * Math.cos(arg) - em * Math.cos(ea), mod * Math.sin(arg) - em * Math.sin(ea));
}

describe('experiment 7: Euler stability', () => {
  it('holds at the defaults: lambda = -10, dt* = 0.2, bounded at 0.19 and exploding at 0.21', () => {
    const r = eulerStability.run();
    expect(r.verdict.holds).toBe(true);
    expect(r.data.dtStar).toBeCloseTo(0.2, 15);
    const { below, above } = r.data.probe;
    expect(below.dt).toBeCloseTo(0.19, 14);
    expect(above.dt).toBeCloseTo(0.21, 14);
    expect(below.amplification).toBeCloseTo(0.9, 14);
    expect(above.amplification).toBeCloseTo(1.1, 14);
    // N = ceil(10 / 0.19) = 53 and ceil(10 / 0.21) = 48: the error is |(1 + dt lambda)^N| up to e^{-100}.
    expect(below.errorAtT / 0.9 ** 53).toBeCloseTo(1, 10);
    expect(above.errorAtT / 1.1 ** 48).toBeCloseTo(1, 10);
    expect(above.errorAt2T / 1.1 ** 96).toBeCloseTo(1, 10);
    expect(above.errorAt2T).toBeGreaterThan(9000);
    expect(below.errorAt2T).toBeLessThan(1e-4);
    // The sweep against the closed form, and the measured boundary: the first grid point (i + 0.5) 0.002 above 0.2.
    for (let i = 0; i < r.data.dt.length; i += 17) {
      const d = r.data.dt[i]!;
      expect(r.data.dt[i]).toBeCloseTo((i + 0.5) * 0.002, 14);
      expect(r.data.amplification[i]).toBeCloseTo(Math.abs(1 - 10 * d), 13);
      const ref = closedFormError(-10, 0, d, Math.ceil(10 / d - 1e-9));
      const ref2 = closedFormError(-10, 0, d, 2 * Math.ceil(10 / d - 1e-9));
      expect(Math.abs(r.data.errorAt2T[i]! - ref2)).toBeLessThanOrEqual(1e-9 * ref2 + 1e-300);
      expect(Math.abs(r.data.errorAtT[i]! - ref)).toBeLessThanOrEqual(1e-9 * ref + 1e-300);
    }
    expect(r.data.measuredBoundary).toBeCloseTo(0.201, 12);
    expect(r.plots).toHaveLength(2);
  });

  it('holds for complex lambda = -1 + 3i, whose boundary dt* = 2 / 10 is on the disk |1 + dt lambda| = 1', () => {
    const r = eulerStability.run({ lambdaRe: -1, oscillation: 3, margin: 0.1 });
    expect(r.verdict.holds).toBe(true);
    expect(r.data.dtStar).toBeCloseTo(0.2, 15);
    // |1 + 0.18 (-1 + 3i)|^2 = 0.82^2 + 0.54^2 = 0.964; at 0.22: 0.78^2 + 0.66^2 = 1.044.
    expect(r.data.probe.below.amplification).toBeCloseTo(Math.sqrt(0.964), 13);
    expect(r.data.probe.above.amplification).toBeCloseTo(Math.sqrt(1.044), 13);
    const ref = closedFormError(-1, 3, 0.22, 2 * 455); // T = 100, N = ceil(100 / 0.22) = 455
    expect(r.data.probe.above.errorAt2T / ref).toBeCloseTo(1, 9);
    expect(Math.abs(r.data.measuredBoundary - 0.2)).toBeLessThanOrEqual(0.001 + 1e-12);
  });

  it('holds with a short run: lambda = -0.5, T = 5 time constants = 10 < 3 dt*', () => {
    const r = eulerStability.run({ lambdaRe: -0.5, timeConstants: 5 });
    expect(r.data.dtStar).toBe(4);
    expect(r.data.time).toBe(10);
    // dt = 4.2: N = 3, s = -1.1; the error is |s^N - e^{-0.5 N 4.2}| after 3 and 6 steps.
    expect(r.data.probe.above.errorAtT).toBeCloseTo(Math.abs((-1.1) ** 3 - Math.exp(-6.3)), 12);
    expect(r.data.probe.above.errorAt2T).toBeCloseTo(Math.abs(1.1 ** 6 - Math.exp(-12.6)), 12);
    expect(r.data.measuredBoundary).toBeCloseTo(4.02, 12);
    expect(r.verdict.holds).toBe(true);
  });

  it('margin 0.5: dt = 0.1 makes s = 0 (Euler is 0 after one step), dt = 0.3 makes s = -2', () => {
    const r = eulerStability.run({ margin: 0.5 });
    expect(r.verdict.holds).toBe(true);
    const { below, above } = r.data.probe;
    expect(below.amplification).toBeCloseTo(0, 14);
    // N = 100 steps of 0.1: the error is the exact solution e^{-100}; then e^{-200} after 200 steps.
    expect(below.errorAtT / Math.exp(-100)).toBeCloseTo(1, 9);
    expect(below.errorAt2T / Math.exp(-200)).toBeCloseTo(1, 9);
    // N = ceil(10 / 0.3) = 34: |(-2)^34 - e^{-102}| = 2^34, and 2^68 after twice the steps.
    expect(above.errorAtT / 2 ** 34).toBeCloseTo(1, 12);
    expect(above.errorAt2T / 2 ** 68).toBeCloseTo(1, 12);
  });

  it('rejects a growing ODE (Re lambda > 0 is out of range)', () => {
    expect(() => eulerStability.run({ lambdaRe: 1 })).toThrow(/params\.lambdaRe.*\[-50, -0\.5\].*got 1/);
  });
});
