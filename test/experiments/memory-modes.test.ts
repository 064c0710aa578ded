// Experiment 4 against an independent computation: the eigenvalues of W from its characteristic polynomial
// (trace, principal minors, determinant), right and left eigenvectors of the 3 x 3 matrix as cross products of
// rows / columns of W - lambda I, modal coordinates c_k = u_k.h / u_k.v_k, and the nets run with plain loops.
import { describe, expect, it } from 'vitest';
import { memoryModes } from '../../src/experiments/index.js';

type V3 = [number, number, number];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const mv = (W: number[][], h: number[]): number[] => W.map((r) => dot(r, h));

/** Unit right eigenvector v and left eigenvector u of W for the simple real eigenvalue lam. */
function eigvecs(W: number[][], lam: number): { v: number[]; u: number[] } {
  const M = W.map((r, i) => r.map((x, j) => x - (i === j ? lam : 0)));
  const v = cross(M[0] as V3, M[1] as V3);
  const u = cross([M[0]![0]!, M[1]![0]!, M[2]![0]!], [M[0]![1]!, M[1]![1]!, M[2]![1]!]);
  const nv = Math.hypot(...v);
  return { v: v.map((x) => x / nv), u };
}

/** Energy fractions of h in the modes given by (v_k, u_k). */
function modalFractions(h: number[], ev: { v: number[]; u: number[] }[]): number[] {
  const c = ev.map(({ v, u }) => dot(u, h) / dot(u, v));
  const tot = c.reduce((s, x) => s + x * x, 0);
  return c.map((x) => (x * x) / tot);
}

describe('experiment 4: memory modes', () => {
  it('holds at the defaults: linear modes follow lambda^t, tanh couples them', () => {
    const r = memoryModes.run();
    expect(r.verdict.holds).toBe(true);
    const { W } = r.data;
    // Characteristic polynomial of W: eigenvalues 1.1, 1, 0.8.
    const tr = W[0]![0]! + W[1]![1]! + W[2]![2]!;
    const minors = W[0]![0]! * W[1]![1]! - W[0]![1]! * W[1]![0]! + W[0]![0]! * W[2]![2]! - W[0]![2]! * W[2]![0]! +
      W[1]![1]! * W[2]![2]! - W[1]![2]! * W[2]![1]!;
    const det = dot(W[0]!, cross(W[1] as V3, W[2] as V3));
    expect(tr).toBeCloseTo(2.9, 12);
    expect(minors).toBeCloseTo(1.1 + 0.88 + 0.8, 12);
    expect(det).toBeCloseTo(0.88, 12);
    expect(r.data.lambda.map((l) => Number(l.toFixed(12)))).toEqual([1.1, 1, 0.8]);
    // W is not normal: its eigenvectors are not orthogonal.
    expect(r.data.eigenvectorCondition).toBeGreaterThan(2);
    // Linear: c_t = c_0 lambda^t, relative 1e-10.
    expect(r.data.linearClosedFormError).toBeLessThan(1e-10);
    const c0 = r.data.linearModal[0]!;
    expect(c0.map(Math.abs).map((x) => Number(x.toFixed(10)))).toEqual([1, 1, 1]); // h_0 = sum of unit v_k
    // Per mode the relative error grows like eps kappa(V) 1.1^t / 0.8^t for the decaying mode: 1e-8 is ample.
    for (const t of [5, 17, 30]) {
      for (let k = 0; k < 3; k++) expect(r.data.linearModal[t]![k]! / (c0[k]! * r.data.lambda[k]! ** t)).toBeCloseTo(1, 8);
    }
    // Independent modes and the two single-mode runs (mode 2, lambda = 1, amplitude 0.5) with plain loops.
    const ev = [1.1, 1, 0.8].map((l) => eigvecs(W, l));
    let hl = ev[1]!.v.map((x) => 0.5 * x), ht = hl.slice();
    let tanhLeakMax = 0, linLeakMax = 0;
    for (let t = 1; t <= 30; t++) {
      hl = mv(W, hl);
      ht = mv(W, ht).map(Math.tanh);
      const fl = modalFractions(hl, ev), ft = modalFractions(ht, ev);
      linLeakMax = Math.max(linLeakMax, fl[0]! + fl[2]!);
      tanhLeakMax = Math.max(tanhLeakMax, ft[0]! + ft[2]!);
      for (let k = 0; k < 3; k++) expect(r.data.tanhFractions[t]![k]!).toBeCloseTo(ft[k]!, 9);
      expect(r.data.tanhLeak[t]!).toBeCloseTo(ft[0]! + ft[2]!, 9);
    }
    expect(linLeakMax).toBeLessThan(1e-12);
    expect(Math.max(...r.data.linearLeak)).toBeLessThan(1e-12);
    expect(Math.max(...r.data.tanhLeak)).toBeCloseTo(tanhLeakMax, 9);
    expect(tanhLeakMax).toBeGreaterThan(0.5); // 0.63: most of the energy leaves the persistent mode
    expect(r.plots).toHaveLength(2);
  });

  it('breaks for a small amplitude: tanh is then nearly linear and the leak is cubic-small', () => {
    const r = memoryModes.run({ amplitude: 0.01 });
    expect(r.verdict.holds).toBe(false);
    const leak = Math.max(...r.data.tanhLeak);
    expect(leak).toBeGreaterThan(1e-7);
    expect(leak).toBeLessThan(1e-4); // 3.8e-6 measured
    expect(r.verdict.checks.filter((c) => !c.holds)).toHaveLength(1);
  });

  it('rejects parameters outside their range, naming them', () => {
    expect(() => memoryModes.run({ startMode: 4 })).toThrow(/params\.startMode.*\[1, 3\].*got 4/);
  });
});
