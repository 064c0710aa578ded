// Experiment 5 against an independent computation in plain loops: the Kalman matrix [B, AB, A^2 B, ...] and the
// N-step reachability map built column by column, their ranges by modified Gram-Schmidt (twice), the projection
// residuals of the targets, and y_t = C A^t h_0 iterated directly.
import { describe, expect, it } from 'vitest';
import { controllabilityObservability, leastSquaresResidual } from '../../src/experiments/index.js';
import { Matrix as M } from '../../src/analysis/linalg.js';

const mv = (A: number[][], h: number[]): number[] => A.map((r) => r.reduce((s, a, j) => s + a * h[j]!, 0));
const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** Orthonormal basis of span(cols) by Gram-Schmidt twice, dropping directions below tol (relative). */
function basisOf(cols: number[][], tol = 1e-10): number[][] {
  const Q: number[][] = [];
  const scale = Math.max(...cols.map((c) => Math.hypot(...c)));
  for (const c of cols) {
    const w = c.slice();
    for (let pass = 0; pass < 2; pass++) for (const q of Q) { const a = dot(q, w); for (let i = 0; i < w.length; i++) w[i]! -= a * q[i]!; }
    const nw = Math.hypot(...w);
    if (nw > tol * scale) Q.push(w.map((x) => x / nw));
  }
  return Q;
}

function residual(Q: number[][], y: number[]): number {
  const r = y.slice();
  for (const q of Q) { const a = dot(q, r); for (let i = 0; i < r.length; i++) r[i]! -= a * q[i]!; }
  return Math.hypot(...r);
}

describe('experiment 5: controllability and observability', () => {
  it('holds at the defaults: ranks 2 of 4, the unreachable target is missed by its distance, y = 0', () => {
    const r = controllabilityObservability.run();
    expect(r.verdict.holds).toBe(true);
    const d = r.data;
    const n = d.n;
    expect(n).toBe(4);
    const b = d.B.map((row) => row[0]!), c = d.C[0]!;
    // The rotation hides the structure: no entry of A, B or C is zero.
    expect(d.A.flat().every((x) => Math.abs(x) > 1e-6)).toBe(true);
    expect(b.every((x) => Math.abs(x) > 1e-6) && c.every((x) => Math.abs(x) > 1e-6)).toBe(true);
    // Kalman matrices, plain loops.
    const kc: number[][] = [b];
    for (let k = 1; k < n; k++) kc.push(mv(d.A, kc[k - 1]!));
    const At = d.A[0]!.map((_, j) => d.A.map((row) => row[j]!));
    const ko: number[][] = [c];
    for (let k = 1; k < n; k++) ko.push(mv(At, ko[k - 1]!)); // rows C A^k, as columns of O^T
    const Qc = basisOf(kc);
    expect(Qc).toHaveLength(2);
    expect(basisOf(ko)).toHaveLength(2);
    expect(d.controllabilityRank).toEqual({ kalman: 2, staircase: 2 });
    expect(d.observabilityRank).toEqual({ kalman: 2, staircase: 2 });
    // Distance of the random unit target from range(K).
    expect(Math.hypot(...d.unreachableTarget)).toBeCloseTo(1, 14);
    const dist = residual(Qc, d.unreachableTarget);
    expect(dist).toBeGreaterThan(0.1);
    expect(d.distanceFromControllable).toBeCloseTo(dist, 10);
    // Residuals per N: range(R_N) = span(b, Ab, ..., A^{N-1} b).
    for (let N = 1; N <= 8; N++) {
      const cols = [b];
      for (let k = 1; k < N; k++) cols.push(mv(d.A, cols[k - 1]!));
      const Q = basisOf(cols);
      expect(d.residualUnreachable[N - 1]).toBeCloseTo(residual(Q, d.unreachableTarget), 9);
      if (N >= 2) {
        expect(d.residualReachable[N - 1]).toBeLessThan(1e-12);
        expect(Math.abs(d.residualUnreachable[N - 1]! - dist)).toBeLessThan(1e-8);
      }
    }
    // N = 1 reaches only the line of b: both targets are missed then.
    expect(d.residualReachable[0]).toBeGreaterThan(1e-3);
    expect(d.residualUnreachable[0]).toBeGreaterThan(dist + 1e-3);
    // Outputs: C A^t h_0.
    let hu = d.unobservableState.slice(), hg = d.unreachableTarget.slice();
    expect(Math.hypot(...hu)).toBeCloseTo(1, 12);
    for (let t = 0; t <= 8; t++) {
      if (t > 0) { hu = mv(d.A, hu); hg = mv(d.A, hg); }
      expect(Math.abs(dot(c, hu))).toBeLessThan(1e-14);
      expect(d.outputUnobservable[t]).toBeLessThan(1e-14);
      expect(d.outputGeneric[t]).toBeCloseTo(Math.abs(dot(c, hg)), 12);
    }
    expect(Math.max(...d.outputGeneric)).toBeGreaterThan(0.1);
    expect(r.plots).toHaveLength(2);
  });

  it('leastSquaresResidual is the distance from the column space', () => {
    const A = new M([[1, 0], [0, 1], [0, 0]]);
    expect(leastSquaresResidual(A, [3, 4, 5])).toBeCloseTo(5, 14);
    expect(leastSquaresResidual(A, [3, 4, 0])).toBeLessThan(1e-15);
  });

  it('breaks with a leak into the hidden block: full ranks, every target reachable', () => {
    const r = controllabilityObservability.run({ leak: 0.3 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.controllabilityRank).toEqual({ kalman: 4, staircase: 4 });
    expect(r.data.observabilityRank).toEqual({ kalman: 4, staircase: 4 });
    expect(r.data.residualUnreachable[7]).toBeLessThan(1e-12);
    expect(r.data.distanceFromControllable).toBeLessThan(1e-12);
  });

  it('rejects parameters outside their range, naming them', () => {
    expect(() => controllabilityObservability.run({ hiddenDim: 0 })).toThrow(/params\.hiddenDim.*\[1, 6\].*got 0/);
  });
});
