// Experiment 6 against independent references: (a) s^T by Math.pow; (b) W^k = [[a^k, k c a^(k-1)], [0, a^k]] in
// closed form and its 2-norm from the 2x2 singular value formula; (c) the trained RNN's Jacobian products
// recomputed here from the returned weights with plain loops (h_t = tanh(W_ih x_t + b + W_hh h_{t-1}),
// J_t = diag(1 - h_t^2) W_hh) and their spectral norms by power iteration on P^T P.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { vanishingExploding } from '../../src/experiments/index.js';

beforeAll(async () => {
  await init({ simd: 'simd', force: true });
});

/** Largest singular value of the 2x2 matrix [[p, q], [r, s]]. */
function norm2x2(p: number, q: number, r: number, s: number): number {
  const f = p * p + q * q + r * r + s * s, d = p * s - q * r;
  return Math.sqrt((f + Math.sqrt(Math.max(0, f * f - 4 * d * d))) / 2);
}

/** ||P||_2 of an H x H row-major matrix by power iteration on P^T P. */
function spectralNorm(P: Float64Array, H: number): number {
  let v = new Float64Array(H).fill(1 / Math.sqrt(H));
  let sigma = 0;
  for (let it = 0; it < 500; it++) {
    const u = new Float64Array(H), w = new Float64Array(H);
    for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) u[i]! += P[i * H + j]! * v[j]!;
    for (let j = 0; j < H; j++) for (let i = 0; i < H; i++) w[j]! += P[i * H + j]! * u[i]!;
    const n = Math.hypot(...w);
    sigma = Math.sqrt(n);
    v = w.map((x) => x / n);
  }
  return sigma;
}

/** ||dh_T/dh_{T-lag}||_2 for lag = 1..T, from the weights by plain loops. */
function jacobianNorms(w: { weightIh: number[]; weightHh: number[]; biasIh: number[]; biasHh: number[] }, x: number[]): number[] {
  const H = w.biasIh.length, T = x.length;
  let h = new Float64Array(H);
  const Js: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const next = new Float64Array(H);
    for (let i = 0; i < H; i++) {
      let a = w.weightIh[i]! * x[t]! + w.biasIh[i]! + w.biasHh[i]!;
      for (let j = 0; j < H; j++) a += w.weightHh[i * H + j]! * h[j]!;
      next[i] = Math.tanh(a);
    }
    const J = new Float64Array(H * H);
    for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) J[i * H + j] = (1 - next[i]! ** 2) * w.weightHh[i * H + j]!;
    Js.push(J);
    h = next;
  }
  const out: number[] = [];
  let P = Float64Array.from({ length: H * H }, (_, k) => (k % (H + 1) === 0 ? 1 : 0));
  for (let t = T - 1; t >= 0; t--) {
    const Q = new Float64Array(H * H);
    for (let i = 0; i < H; i++) for (let k = 0; k < H; k++) {
      const pik = P[i * H + k]!;
      for (let j = 0; j < H; j++) Q[i * H + j]! += pik * Js[t]![k * H + j]!;
    }
    P = Q;
    out.push(spectralNorm(P, H));
  }
  return out;
}

describe('experiment 6: vanishing and exploding gradients', () => {
  it('holds at the defaults, with every number against an independent reference', () => {
    const r = vanishingExploding.run();
    expect(r.verdict.holds).toBe(true);
    expect(r.plots).toHaveLength(3);
    // (a)
    const [below, one, above] = r.data.scalar.curves;
    for (let lag = 0; lag <= 50; lag += 7) {
      expect(below!.gradient[lag]! / 0.9 ** lag).toBeCloseTo(1, 12);
      expect(one!.gradient[lag]).toBe(1);
      expect(above!.gradient[lag]! / 1.1 ** lag).toBeCloseTo(1, 12);
    }
    expect(below!.gradient[50]).toBeCloseTo(0.005154, 6);
    expect(above!.gradient[50]).toBeCloseTo(117.39, 2);
    // (b): W^k = [[a^k, k c a^(k-1)], [0, a^k]]
    const tr = r.data.transient;
    expect(tr.spectralRadius).toBeCloseTo(0.9, 12);
    for (const k of [1, 5, 9, 10, 40, 100]) {
      const ref = norm2x2(0.9 ** k, k * 1.5 * 0.9 ** (k - 1), 0, 0.9 ** k);
      expect(tr.norms[k]! / ref).toBeCloseTo(1, 10);
    }
    expect(tr.spectralNorm).toBeCloseTo(norm2x2(0.9, 1.5, 0, 0.9), 12); // 1.922
    expect(tr.peakStep).toBe(9);
    expect(tr.peak).toBeCloseTo(norm2x2(0.9 ** 9, 9 * 1.5 * 0.9 ** 8, 0, 0.9 ** 9), 10);
    expect(tr.norms[100]).toBeLessThan(5e-3);
    // (c): training worked, and the Jacobian norms match a recomputation from the weights.
    const c = r.data.trained;
    expect(c.lossAfter).toBeLessThan(0.1 * c.lossBefore);
    expect(c.lossAfter).toBeLessThan(0.01); // below the mean predictor's 1/36
    const ref = jacobianNorms(c.weights, c.sequence);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(c.jacobianNorms[i]! - ref[i]!) / ref[i]!).toBeLessThan(1e-8);
    expect(c.lagRatio).toBeCloseTo(ref[19]! / ref[0]!, 10);
    expect(c.lagRatio).toBeLessThan(1e-2);
    expect(c.verdict).toBe('vanishing');
    // The gradient the engine recorded in training also falls from the last step to the first.
    expect(c.recordedNorms).toHaveLength(20);
    expect(c.recordedNorms[19]! / c.recordedNorms[0]!).toBeLessThan(0.1);
  });

  it('breaks for a normal matrix (c = 0): no transient growth, ||W^k|| = 0.9^k', () => {
    const r = vanishingExploding.run({ coupling: 0, epochs: 0 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.transient.peak).toBe(1);
    expect(r.data.transient.norms[10]! / 0.9 ** 10).toBeCloseTo(1, 12);
    expect(r.verdict.checks.filter((x) => !x.holds).map((x) => x.name)).toEqual([
      '(b) ||W||_2 (a single step can amplify)', '(b) max_k ||W^k||_2 (transient growth)',
    ]);
  });

  it('breaks when the recurrent weights start 3x larger: the trained gradient no longer vanishes over 20 steps', () => {
    const r = vanishingExploding.run({ recurrentScale: 3 });
    expect(r.verdict.holds).toBe(false);
    const c = r.data.trained;
    expect(c.lagRatio).toBeGreaterThan(0.1);
    const ref = jacobianNorms(c.weights, c.sequence);
    expect(c.lagRatio).toBeCloseTo(ref[19]! / ref[0]!, 8);
  });
});
