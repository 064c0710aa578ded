// Experiment 14 against a Kalman filter and RTS smoother written here in plain loops for the 2-state oscillator
// (A = 0.95 R(0.3), C = [1, 0], Q = 0.1 I, R = 0.5, h_0 ~ N(0, P0) with P0 stationary), run on the first held-out
// sequence (compareFilterSmootherRnn simulates sequence i with seed seed * 1000003 + i; held-out ones follow the
// training ones). The covariances do not depend on the data, so the predicted MSEs are checked exactly too.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { oscillatorModel } from '../../src/classical/index.js';
import { filterVsSmoother } from '../../src/experiments/index.js';

beforeAll(async () => {
  await init({ simd: 'simd', force: true });
});

type M2 = number[][];
const mul = (X: M2, Y: M2): M2 => X.map((r) => [0, 1].map((j) => r[0]! * Y[0]![j]! + r[1]! * Y[1]![j]!));
const tr = (X: M2): M2 => [[X[0]![0]!, X[1]![0]!], [X[0]![1]!, X[1]![1]!]];
const add = (X: M2, Y: M2, s = 1): M2 => X.map((r, i) => r.map((v, j) => v + s * Y[i]![j]!));
const inv = (X: M2): M2 => {
  const d = X[0]![0]! * X[1]![1]! - X[0]![1]! * X[1]![0]!;
  return [[X[1]![1]! / d, -X[0]![1]! / d], [-X[1]![0]! / d, X[0]![0]! / d]];
};
const mv = (X: M2, v: number[]): number[] => X.map((r) => r[0]! * v[0]! + r[1]! * v[1]!);

function kalmanLoops(y: number[]): { mf: number[][]; ms: number[][]; trF: number; trS: number } {
  const a = 0.95, th = 0.3;
  const A = [[a * Math.cos(th), -a * Math.sin(th)], [a * Math.sin(th), a * Math.cos(th)]];
  const Q = [[0.1, 0], [0, 0.1]], R = 0.5;
  // Stationary P0 by iterating P <- A P A^T + Q to convergence (|eig A| = 0.95).
  let P: M2 = [[0, 0], [0, 0]];
  for (let k = 0; k < 5000; k++) P = add(mul(mul(A, P), tr(A)), Q);
  let m = [0, 0];
  const mf: number[][] = [], Pf: M2[] = [], mp: number[][] = [], Pp: M2[] = [];
  for (const yt of y) {
    const m1 = mv(A, m), P1 = add(mul(mul(A, P), tr(A)), Q);
    const S = P1[0]![0]! + R, K = [P1[0]![0]! / S, P1[1]![0]! / S];
    m = [m1[0]! + K[0]! * (yt - m1[0]!), m1[1]! + K[1]! * (yt - m1[0]!)];
    P = add(P1, [[K[0]! * K[0]! * S, K[0]! * K[1]! * S], [K[1]! * K[0]! * S, K[1]! * K[1]! * S]], -1);
    mp.push(m1); Pp.push(P1); mf.push(m); Pf.push(P);
  }
  const T = y.length, ms = mf.slice(), Ps = Pf.slice();
  for (let t = T - 2; t >= 0; t--) {
    const G = mul(mul(Pf[t]!, tr(A)), inv(Pp[t + 1]!));
    const dm = [ms[t + 1]![0]! - mp[t + 1]![0]!, ms[t + 1]![1]! - mp[t + 1]![1]!];
    ms[t] = add([mf[t]!], [mv(G, dm)])[0]!;
    Ps[t] = add(Pf[t]!, mul(mul(G, add(Ps[t + 1]!, Pp[t + 1]!, -1)), tr(G)));
  }
  const trace = (Xs: M2[]): number => Xs.reduce((s, X) => s + X[0]![0]! + X[1]![1]!, 0) / (2 * T);
  return { mf, ms, trF: trace(Pf), trS: trace(Ps) };
}

describe('experiment 14: filter versus smoother', () => {
  it('holds at the defaults: smoother < filter, bi-GRU < GRU, each GRU within 1.25x of its optimum', () => {
    const r = filterVsSmoother.run();
    const { mse } = r.data;
    console.log(`filter-vs-smoother (${(r.elapsedMs / 1000).toFixed(1)} s): ${r.verdict.summary}`);
    expect(r.verdict.holds).toBe(true);
    // The classical estimates of the first held-out sequence (sequence 256 of seed 1) against the plain loops.
    const sim = oscillatorModel().simulate(48, { seed: 1 * 1000003 + 256 });
    const ref = kalmanLoops(sim.outputs.map((o) => o[0]!));
    for (let t = 0; t < 48; t++) {
      expect(r.data.example.states[t]).toBeCloseTo(sim.states[t]![0]!, 12);
      expect(Math.abs(r.data.example.filter[t]! - ref.mf[t]![0]!)).toBeLessThan(1e-9);
      expect(Math.abs(r.data.example.smoother[t]! - ref.ms[t]![0]!)).toBeLessThan(1e-9);
    }
    expect(Math.abs(r.data.expectedMse.filter - ref.trF)).toBeLessThan(1e-9);
    expect(Math.abs(r.data.expectedMse.smoother - ref.trS)).toBeLessThan(1e-9);
    // The measured MSEs scatter around the predicted ones (128 x 48 steps; within 10 %).
    expect(Math.abs(mse.filter / ref.trF - 1)).toBeLessThan(0.1);
    expect(Math.abs(mse.smoother / ref.trS - 1)).toBeLessThan(0.1);
    expect(mse.smoother).toBeLessThan(0.7 * mse.filter);
    expect(mse.birnn).toBeLessThan(0.75 * mse.rnn);
    expect(mse.rnn / mse.filter).toBeLessThan(1.25);
    expect(mse.birnn / mse.smoother).toBeLessThan(1.25);
    expect(r.plots).toHaveLength(2);
  });

  it('breaks with factor 1: the trained GRUs do not beat the optimal filter and smoother', () => {
    const r = filterVsSmoother.run({ factor: 1 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.mse.rnn).toBeGreaterThan(r.data.mse.filter);
    expect(r.data.mse.birnn).toBeGreaterThan(r.data.mse.smoother);
  });
});
