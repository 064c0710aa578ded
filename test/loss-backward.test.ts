// RecurrentLayer.lossBackward (MSE computed in WebAssembly on the training forward's output, then BPTT) against
// PyTorch: F.mse_loss(output, target, reduction).backward() in float64 (test/fixtures/gen_loss_backward.py).
// Tolerances: loss within 1e-5 relative; every gradient max |ours - torch| <= 1e-4 * max(1, ||torch||_2), as
// test/backward.test.ts. Also: the same gradients bit for bit as backward() from mseLoss()'s gradient, a central
// finite difference of the loss, and the errors for bad targets and options.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  GRU, InvalidArgumentError, LSTM, RNN, ShapeError, init, mseLoss, type RecurrentLayer,
} from '../src/index.js';
import { fixturesDir, maxAbsDiff, type T } from './helpers.js';

interface Case {
  name: string;
  mode: 'LSTM' | 'GRU' | 'RNN';
  options: Record<string, unknown> & { inputSize: number; hiddenSize: number };
  reduction: 'mean' | 'sum';
  stateDict: Record<string, T>;
  input: T;
  target: T;
  loss: number;
  grads: Record<string, T>;
  dInput: T;
}

const cases = (JSON.parse(readFileSync(`${fixturesDir}loss/mse_backward.json`, 'utf8')) as { cases: Case[] }).cases;

function build(c: Case): RecurrentLayer {
  const o = { ...c.options, seed: 1 } as never;
  const m = c.mode === 'LSTM' ? new LSTM(o) : c.mode === 'GRU' ? new GRU(o) : new RNN(o);
  m.loadStateDict(c.stateDict);
  return m;
}

function expectGrad(actual: { shape: readonly number[]; data: ArrayLike<number> }, expected: T, what: string): void {
  expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
  let norm = 0;
  for (const v of expected.data) norm += v * v;
  const d = maxAbsDiff(actual.data, expected.data);
  expect(d, `${what}: max |diff| ${d}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.sqrt(norm)));
}

it('has fixtures for every cell, both reductions, batch-first, bidirectional, projection and unbatched input', () => {
  expect(cases.map((c) => c.name)).toEqual(['loss_rnn_tanh', 'loss_lstm_2l_bi_bf', 'loss_gru_sum', 'loss_lstm_proj',
    'loss_gru_unbatched', 'loss_rnn_relu_h17']);
});

for (const flavour of ['simd', 'relaxed'] as const) {
  describe(`lossBackward matches PyTorch mse_loss + backward (${flavour} build)`, () => {
    it('initialises', async () => {
      expect((await init({ simd: flavour, force: true })).flavour).toBe(flavour);
    });
    for (const c of cases) {
      it(c.name, () => {
        const m = build(c);
        m.forward(c.input, { train: true });
        const r = m.lossBackward(c.target, { reduction: c.reduction });
        expect(Math.abs(r.loss - c.loss) / c.loss, `loss ${r.loss} vs ${c.loss}`).toBeLessThan(1e-5);
        expect(Object.keys(r.grads).sort()).toEqual(Object.keys(c.grads).sort());
        for (const [name, t] of Object.entries(c.grads)) expectGrad(r.grads[name]!, t, name);
        expectGrad(r.dInput, c.dInput, 'dInput');

        // The same step through mseLoss (JavaScript) and backward(): identical gradients, bit for bit.
        m.zeroGrad();
        const f = m.forward(c.input, { train: true });
        const l = mseLoss(f.output.data, c.target.data, { reduction: c.reduction });
        const g = m.backward({ output: { data: l.grad, shape: [...f.output.shape] } });
        expect(Math.abs(l.loss - r.loss) / l.loss).toBeLessThan(1e-12);
        for (const name of Object.keys(c.grads)) {
          expect(maxAbsDiff(g.grads[name]!.data, r.grads[name]!.data), name).toBe(0);
        }
        expect(maxAbsDiff(g.dInput.data, r.dInput.data)).toBe(0);
        m.dispose();
      });
    }
  });
}

describe('lossBackward', () => {
  it('agrees with a central finite difference of the loss in a weight and an input entry', async () => {
    await init({ simd: 'simd', force: true });
    const m = new GRU({ inputSize: 3, hiddenSize: 4, seed: 3 });
    const T = 5;
    const B = 2;
    const x = Float32Array.from({ length: T * B * 3 }, (_, i) => Math.sin(1.3 * i));
    const y = Float32Array.from({ length: T * B * 4 }, (_, i) => 0.5 * Math.cos(0.7 * i));
    const input = { data: x, shape: [T, B, 3] };
    const target = { data: y, shape: [T, B, 4] };
    m.forward(input, { train: true });
    const r = m.lossBackward(target);
    const lossAt = (): number => mseLoss(m.forward(input).output.data, y).loss;
    const sd = m.stateDict();
    const eps = 1e-2;
    for (const [name, idx] of [['weight_hh_l0', 5], ['bias_ih_l0', 2], ['weight_ih_l0', 7]] as const) {
      const w = sd[name]!.data;
      const v = w[idx]!;
      w[idx] = v + eps; m.loadStateDict(sd); const lp = lossAt();
      w[idx] = v - eps; m.loadStateDict(sd); const lm = lossAt();
      w[idx] = v; m.loadStateDict(sd);
      const fd = (lp - lm) / (2 * eps);
      expect(Math.abs(fd - r.grads[name]!.data[idx]!), `${name}[${idx}]: fd ${fd}`).toBeLessThan(2e-4);
    }
    const xi = 4;
    const v = x[xi]!;
    x[xi] = v + eps; const lp = lossAt();
    x[xi] = v - eps; const lm = lossAt();
    x[xi] = v;
    expect(Math.abs((lp - lm) / (2 * eps) - r.dInput.data[xi]!)).toBeLessThan(2e-4);
    m.dispose();
  });

  it('names the argument and the expected shape on bad input, and consumes the activations once', async () => {
    await init({ simd: 'simd', force: true });
    const m = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const input = { data: new Float32Array(4 * 2 * 2).fill(0.1), shape: [4, 2, 2] };
    const good = { data: new Float32Array(4 * 2 * 3), shape: [4, 2, 3] };
    expect(() => m.lossBackward(good)).toThrow(/lossBackward.*forward\(input, \{ train: true \}\)/);
    m.forward(input, { train: true });
    expect(() => m.lossBackward({ data: new Float32Array(24), shape: [4, 3, 2] })).toThrow(ShapeError);
    expect(() => m.lossBackward({ data: new Float32Array(24), shape: [4, 3, 2] })).toThrow(/target.*\[4, 2, 3\]/);
    const nan = new Float32Array(24);
    nan[17] = NaN;
    expect(() => m.lossBackward({ data: nan, shape: [4, 2, 3] })).toThrow(/target: element 17 is NaN/);
    // Found from the loss's sum of squares (no scan of its own): infinities of either sign anywhere, while the
    // largest finite targets pass (their squares stay finite in the f64 sum).
    for (const [at, v] of [[0, Infinity], [23, -Infinity], [9, Infinity]] as const) {
      const bad = new Float32Array(24).fill(0.5);
      bad[at] = v;
      expect(() => m.lossBackward({ data: bad, shape: [4, 2, 3] })).toThrow(new RegExp(`target: element ${at} is ${v}`));
    }
    const huge = new Float32Array(24).fill(3.4e38);
    huge[5] = -3.4e38;
    const big = m.lossBackward({ data: huge, shape: [4, 2, 3] }, { reduction: 'sum', collectGrads: false });
    expect(big.loss).toBeGreaterThan(24 * 1.1e77);
    expect(Number.isFinite(big.loss)).toBe(true);
    m.forward(input, { train: true });
    expect(() => m.lossBackward(good, { reduction: 'none' as never })).toThrow(/options\.reduction/);
    expect(() => m.lossBackward(good, { loss: 'l1' as never })).toThrow(InvalidArgumentError);
    expect(() => m.lossBackward(good, 3 as never)).toThrow(/options: expected/);
    // The failed calls left the activations; a good one uses them, a second one has none.
    const r = m.lossBackward(good, { reduction: 'sum', inputGrad: false, collectGrads: false });
    expect(r.loss).toBeGreaterThan(0);
    expect(r.dInput.shape).toEqual([0]);
    expect(Object.keys(r.grads)).toEqual([]);
    expect(() => m.lossBackward(good)).toThrow(/train: true/);
    m.dispose();
    expect(() => m.lossBackward(good)).toThrow();
  });
});
