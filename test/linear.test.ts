// Linear: forward against a float64 loop, backward against the analytic gradient computed in float64.
import { beforeAll, expect, it } from 'vitest';
import { Linear, Random, init } from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

beforeAll(async () => {
  await init();
});

it.each([[3, 5, 7, true], [17, 33, 2, false], [1, 1, 1, true]] as const)(
  'in %i, out %i, rows %i, bias %s: forward and backward match float64 references', (I, O, N, bias) => {
    const r = new Random(I * 100 + O);
    const lin = new Linear({ inFeatures: I, outFeatures: O, bias, seed: 3 });
    const sd = lin.stateDict();
    const W = sd.weight!.data;
    const b = bias ? sd.bias!.data : new Float32Array(O);
    const x = Float32Array.from({ length: N * I }, () => r.normal());
    const y = lin.forward({ data: x, shape: [N, I] }, { train: true });
    expect(y.shape).toEqual([N, O]);
    const yRef = new Float64Array(N * O);
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
      let s = b[o]!;
      for (let i = 0; i < I; i++) s += W[o * I + i]! * x[n * I + i]!;
      yRef[n * O + o] = s;
    }
    expect(maxAbsDiff(y.data, yRef)).toBeLessThan(1e-5);
    const dy = Float32Array.from({ length: N * O }, () => r.normal());
    const dx = lin.backward({ data: dy, shape: [N, O] });
    const dW = new Float64Array(O * I);
    const db = new Float64Array(O);
    const dxRef = new Float64Array(N * I);
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
      db[o] += dy[n * O + o]!;
      for (let i = 0; i < I; i++) {
        dW[o * I + i] += dy[n * O + o]! * x[n * I + i]!;
        dxRef[n * I + i] += dy[n * O + o]! * W[o * I + i]!;
      }
    }
    const g = lin.gradients();
    expect(maxAbsDiff(g.weight!.data, dW)).toBeLessThan(1e-5);
    if (bias) expect(maxAbsDiff(g.bias!.data, db)).toBeLessThan(1e-5);
    else expect(g.bias).toBeUndefined();
    expect(maxAbsDiff(dx.data, dxRef)).toBeLessThan(1e-5);
    // Gradients accumulate until zeroGrad.
    lin.forward({ data: x, shape: [N, I] }, { train: true });
    lin.backward({ data: dy, shape: [N, O] });
    expect(maxAbsDiff(lin.gradients().weight!.data, dW.map((v) => 2 * v))).toBeLessThan(2e-5);
    lin.zeroGrad();
    expect(Math.max(...lin.gradients().weight!.data.map(Math.abs))).toBe(0);
    expect(() => lin.backward({ data: dy, shape: [N, O] })).toThrow(/forward\(x, \{ train: true \}\) first/);
    lin.dispose();
  });

it('round-trips its state dict and rejects wrong shapes', () => {
  const a = new Linear({ inFeatures: 4, outFeatures: 3, seed: 1 });
  const b = new Linear({ inFeatures: 4, outFeatures: 3, seed: 2 });
  b.loadStateDict(a.stateDict({ prefix: 'head.' }), { prefix: 'head.' });
  expect(maxAbsDiff(b.stateDict().weight!.data, a.stateDict().weight!.data)).toBe(0);
  expect(() => b.loadStateDict({ weight: { shape: [4, 3], data: new Float32Array(12) }, bias: [1, 2, 3] }))
    .toThrow(/weight: expected shape \[3, 4\], got \[4, 3\]/);
  expect(() => b.forward({ data: [1, 2, 3], shape: [1, 3] })).toThrow(/input: expected shape \[..., 4\]/);
  a.dispose();
  b.dispose();
});
