// Experiment 10 against independent plain-loop computations: the state-space recursion with the same draws, the
// ARX normal equations (Z^T Z) Theta = Z^T Y solved by Gaussian elimination, and the conditional Gaussian
// log-likelihood -N/2 (p log 2 pi + log det Sigma + p) of the residuals.
import { describe, expect, it } from 'vitest';
import { linearRnnVarma } from '../../src/experiments/index.js';
import { Random } from '../../src/index.js';

const A = [[0.5, 0.2, 0.0], [-0.3, 0.6, 0.1], [0.0, 0.25, -0.4]];
const B = [1.0, 0.5, -0.2];
const C = [[1, 0, 0.5], [0, 1, -1]];
const QD = [0.04, 0.03, 0.02], RD = [0.01, 0.02];

// The experiment draws, per step, x (1 normal), w (3), v (2): first the T equivalence steps, then the fit record.
function draws(rng: Random, T: number): { x: number[]; w: number[][]; v: number[][] } {
  const x: number[] = [], w: number[][] = [], v: number[][] = [];
  for (let t = 0; t < T; t++) {
    x.push(rng.normal());
    w.push(QD.map((q) => Math.sqrt(q) * rng.normal()));
    v.push(RD.map((r) => Math.sqrt(r) * rng.normal()));
  }
  return { x, w, v };
}

function simulate(d: { x: number[]; w: number[][]; v: number[][] }, h0: number[]): number[][] {
  let h = h0.slice();
  return d.x.map((x, t) => {
    h = [0, 1, 2].map((i) => A[i]![0]! * h[0]! + A[i]![1]! * h[1]! + A[i]![2]! * h[2]! + B[i]! * x + d.w[t]![i]!);
    return [0, 1].map((r) => C[r]![0]! * h[0]! + C[r]![1]! * h[1]! + C[r]![2]! * h[2]! + d.v[t]![r]!);
  });
}

function solve(M: number[][], rhs: number[][]): number[][] {
  const n = M.length, a = M.map((r, i) => [...r, ...rhs[i]!]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[piv]![c]!)) piv = r;
    [a[c], a[piv]] = [a[piv]!, a[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k < a[r]!.length; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((r, i) => r.slice(n).map((v) => v / a[i]![i]!));
}

describe('experiment 10: linear RNN = VARMA', () => {
  it('holds at the defaults: both forms give the state-space outputs; LS = normal equations = conditional MLE', () => {
    const r = linearRnnVarma.run();
    expect(r.verdict.holds).toBe(true);
    const rng = new Random(2024);
    const y = simulate(draws(rng, 60), [0.5, -1.0, 0.3]);
    for (let t = 0; t < 60; t++) for (let i = 0; i < 2; i++) {
      expect(Math.abs(r.data.stateSpace[t]![i]! - y[t]![i]!)).toBeLessThan(1e-12);
      expect(Math.abs(r.data.armax[t]![i]! - y[t]![i]!)).toBeLessThan(1e-10);
    }
    expect(r.data.maxOutputDifference).toBeLessThan(1e-10);

    // ARX(3, 3) on the 1000-step record from h_0 = 0: regressors [y_{t-1}; y_{t-2}; y_{t-3}; x_t; ...; x_{t-3}].
    const f = draws(rng, 1000);
    const yl = simulate(f, [0, 0, 0]);
    const Z: number[][] = [], Y: number[][] = [];
    for (let t = 3; t < 1000; t++) {
      Z.push([...yl[t - 1]!, ...yl[t - 2]!, ...yl[t - 3]!, f.x[t]!, f.x[t - 1]!, f.x[t - 2]!, f.x[t - 3]!]);
      Y.push(yl[t]!);
    }
    const k = 10, N = Z.length;
    const ZtZ = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => Z.reduce((s, z) => s + z[i]! * z[j]!, 0)));
    const ZtY = Array.from({ length: k }, (_, i) => [0, 1].map((c) => Z.reduce((s, z, n) => s + z[i]! * Y[n]![c]!, 0)));
    const theta = solve(ZtZ, ZtY);
    expect(r.data.theta).toHaveLength(k);
    for (let i = 0; i < k; i++) for (let c = 0; c < 2; c++) expect(Math.abs(r.data.theta[i]![c]! - theta[i]![c]!)).toBeLessThan(1e-10);
    // The conditional log-likelihood at the estimate, from the residual covariance.
    let s00 = 0, s01 = 0, s11 = 0;
    Z.forEach((z, n) => {
      const e = [0, 1].map((c) => Y[n]![c]! - z.reduce((s, zj, j) => s + zj * theta[j]![c]!, 0));
      s00 += e[0]! ** 2; s01 += e[0]! * e[1]!; s11 += e[1]! ** 2;
    });
    const ll = -N / 2 * (2 * Math.log(2 * Math.PI) + Math.log((s00 / N) * (s11 / N) - (s01 / N) ** 2) + 2);
    expect(Math.abs(r.data.fitLogLikelihood - ll)).toBeLessThan(1e-8 * Math.abs(ll));
    expect(Math.abs(r.data.logLikelihoodAtLs - ll)).toBeLessThan(1e-8 * Math.abs(ll));
    // The maximum: no perturbation gains, and the line peaks at s = 0 (the 21st point) with value 0.
    expect(r.data.maxPerturbationGain).toBeLessThan(0);
    const line = r.data.lineLogLikelihood;
    expect(line[20]).toBe(0);
    expect(Math.max(...line)).toBe(0);
    expect(line[0]).toBeLessThan(-1);
    expect(r.plots).toHaveLength(2);
  });

  it('breaks when the ARMAX recursion starts from zeros while h_0 != 0', () => {
    const r = linearRnnVarma.run({ presample: 'zeros' });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.maxOutputDifference).toBeGreaterThan(0.1);
    // The initial state's effect dies out (the RNN is stable): the last outputs agree again.
    const last = r.data.t.length - 1;
    expect(Math.abs(r.data.stateSpace[last]![0]! - r.data.armax[last]![0]!)).toBeLessThan(1e-6);
  });

  it('rejects parameters outside their range, naming them', () => {
    expect(() => linearRnnVarma.run({ na: 0 })).toThrow(/params\.na.*\[1, 8\].*got 0/);
    expect(() => linearRnnVarma.run({ presample: 'nope' })).toThrow(/params\.presample/);
  });
});
