// Experiment 3 against an independent computation in plain loops: h* by fixed-point iteration of Math.tanh (a
// contraction here), P = sum_k (A^T)^k A^k (the series solution of A^T P A - P = -I), and V along trajectories
// from the same seeded starts (the library's Random, drawn as lyapunovAlongTrajectories draws them).
import { describe, expect, it } from 'vitest';
import { lyapunovDecrease } from '../../src/experiments/index.js';
import { Random } from '../../src/nn/random.js';

const matVec = (M: number[][], v: number[]): number[] => M.map((row) => row.reduce((s, m, j) => s + m * v[j]!, 0));
const quad = (P: number[][], d: number[]): number => d.reduce((s, di, i) => s + di * matVec(P, d)[i]!, 0);

describe('experiment 3: Lyapunov decrease', () => {
  it('holds at the defaults: P > 0, V decreases at every step, numbers match plain loops', () => {
    const r = lyapunovDecrease.run();
    expect(r.verdict.holds).toBe(true);
    const { W, b } = r.data;
    const n = W.length;
    expect(n).toBe(5);
    // h* by iteration.
    let h = new Array<number>(n).fill(0);
    for (let k = 0; k < 2000; k++) h = matVec(W, h).map((z, i) => Math.tanh(z + b[i]!));
    r.data.hStar.forEach((x, i) => expect(x).toBeCloseTo(h[i]!, 12));
    // A = diag(1 - h*^2) W and P = sum_k (A^T)^k A^k, summed until the terms vanish.
    const A = W.map((row, i) => row.map((w) => (1 - h[i]! ** 2) * w));
    const P = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
    let Ak = P.map((row) => row.slice()); // A^k
    for (let k = 1; k < 3000; k++) {
      Ak = A.map((row) => Ak[0]!.map((_, j) => row.reduce((s, a, l) => s + a * Ak[l]![j]!, 0)));
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) P[i]![j]! += Ak.reduce((s, row) => s + row[i]! * row[j]!, 0);
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(r.data.P[i]![j]!).toBeCloseTo(P[i]![j]!, 9);
    // P >= I (the series starts with I), so its smallest eigenvalue is at least 1.
    expect(r.data.pMinEigenvalue).toBeGreaterThanOrEqual(1 - 1e-12);
    // Spectral radius of A: rho = lim ||A^k||^(1/k); the experiment reports 0.7676 (< 0.8 = rho(W)).
    expect(r.data.jacobianRadius).toBeLessThan(0.8);
    expect(r.data.jacobianRadius).toBeGreaterThan(0.7);
    // Trajectories: starts h* + 0.5 u / |u|, u standard normal from Random(seed + 1).
    const rng = new Random(4);
    let worst = 0;
    for (let k = 0; k < 8; k++) {
      const u = Array.from({ length: n }, () => rng.normal());
      const nu = Math.hypot(...u);
      let s = h.map((c, i) => c + (0.5 * u[i]!) / nu);
      const v = [quad(P, s.map((x, i) => x - h[i]!))];
      for (let t = 1; t <= 40; t++) {
        s = matVec(W, s).map((z, i) => Math.tanh(z + b[i]!));
        v.push(quad(P, s.map((x, i) => x - h[i]!)));
        worst = Math.max(worst, v[t]! / v[t - 1]!);
      }
      for (let t = 0; t <= 40; t += 5) expect(r.data.values[k]![t]!).toBeCloseTo(v[t]!, 12 - Math.max(0, Math.ceil(-Math.log10(v[t]!))));
    }
    expect(r.data.maxRatio).toBeCloseTo(worst, 9);
    expect(worst).toBeLessThan(0.7);
    expect(r.data.countedSteps).toBe(320);
  });

  it('breaks above rho(W) = 1: the fixed point is unstable and P is indefinite', () => {
    const r = lyapunovDecrease.run({ radiusScale: 1.3 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.jacobianRadius).toBeGreaterThan(1);
    expect(r.data.pMinEigenvalue).toBeLessThan(0);
    // Indefinite P: some V_0 of the random starts is negative.
    expect(r.data.values.some((v) => v[0]! < 0)).toBe(true);
  });

  it('still holds just below 1 with a slower decrease', () => {
    const r = lyapunovDecrease.run({ radiusScale: 0.95 });
    expect(r.verdict.holds).toBe(true);
    expect(r.data.maxRatio).toBeGreaterThan(0.8);
    expect(r.data.maxRatio).toBeLessThan(1);
  });

  it('rejects parameters outside their range, naming them', () => {
    expect(() => lyapunovDecrease.run({ size: 0 })).toThrow(/params\.size.*\[1, 30\].*got 0/);
  });
});
