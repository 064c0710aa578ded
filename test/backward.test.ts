// BPTT against PyTorch autograd (float64 fixtures from test/fixtures/gen_backward.py). Tolerance: for every
// gradient tensor, max |ours - torch| <= 1e-4 * max(1, ||torch||_2) (the engine is float32).
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, init, type RecurrentLayer } from '../src/index.js';
import { fixturesDir, maxAbsDiff, type BackwardFixture, type ForwardFixture, type T } from './helpers.js';

const dir = `${fixturesDir}backward/`;
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(dir + f, 'utf8')) as BackwardFixture);

function build(fx: ForwardFixture): RecurrentLayer {
  const o = fx.options;
  const common = { inputSize: o.inputSize, hiddenSize: o.hiddenSize, numLayers: o.numLayers,
    bidirectional: o.bidirectional, batchFirst: o.batchFirst, bias: o.bias, seed: 1 };
  if (fx.mode === 'LSTM') return new LSTM({ ...common, projSize: o.projSize });
  if (fx.mode === 'GRU') return new GRU(common);
  return new RNN({ ...common, nonlinearity: fx.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
}

function expectGrad(actual: { shape: readonly number[]; data: ArrayLike<number> }, expected: T, what: string): void {
  expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
  let norm = 0;
  for (const v of expected.data) norm += v * v;
  const d = maxAbsDiff(actual.data, expected.data);
  expect(d, `${what}: max |diff| ${d}, ||torch|| ${Math.sqrt(norm)}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.sqrt(norm)));
}

it('has gradient fixtures for every cell type, projection, padding and layout', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(30);
  const names = fixtures.map((f) => f.name);
  for (const n of ['lstm_proj_lengths_bi', 'gru_lengths_bi_noh0', 'rnn_relu_1l', 'lstm_batch_first', 'gru_unbatched']) {
    expect(names).toContain(n);
  }
});

for (const flavour of ['simd', 'relaxed'] as const) {
  describe(`backward matches PyTorch autograd (${flavour} build)`, () => {
    it('initialises', async () => {
      expect((await init({ simd: flavour, force: true })).flavour).toBe(flavour);
    });
    for (const fx of fixtures) {
      it(fx.name, () => {
        const m = build(fx);
        m.loadStateDict(fx.stateDict);
        const r = m.forward(fx.input, { h0: fx.h0, c0: fx.c0, lengths: fx.lengths, train: true });
        expect(maxAbsDiff(r.output.data, fx.output.data)).toBeLessThan(1e-5);
        const g = m.backward({ output: fx.gOutput, hN: fx.ghN, cN: fx.gcN });
        for (const [name, t] of Object.entries(fx.grads)) expectGrad(g.grads[name]!, t, name);
        expect(Object.keys(g.grads).sort()).toEqual(Object.keys(fx.grads).sort());
        expectGrad(g.dInput, fx.dInput, 'dInput');
        expectGrad(g.dh0, fx.dh0, 'dh0');
        if (fx.dc0) expectGrad(g.dc0!, fx.dc0, 'dc0');
        m.dispose();
      });
    }
  });
}

it('records ||dL/dh_t|| per step, equal to the dh0 of the remaining suffix plus the step\'s own upstream', async () => {
  await init({ simd: 'simd', force: true });
  const m = new GRU({ inputSize: 3, hiddenSize: 5, seed: 4 });
  const T = 6;
  const B = 2;
  const x = Float32Array.from({ length: T * B * 3 }, (_, i) => Math.sin(i * 1.7));
  const gOut = Float32Array.from({ length: T * B * 5 }, (_, i) => Math.cos(i * 0.9));
  const gh = Float32Array.from({ length: B * 5 }, (_, i) => 0.3 * i - 1);
  const r = m.forward({ data: x, shape: [T, B, 3] }, { train: true });
  const g = m.backward({ output: { data: gOut, shape: [T, B, 5] }, hN: { data: gh, shape: [1, B, 5] } },
    { recordGradNorms: true });
  expect(g.gradNorms!.shape).toEqual([1, T]);
  for (let t = 0; t < T; t++) {
    const own = gOut.subarray(t * B * 5, (t + 1) * B * 5);
    let total: Float32Array;
    if (t === T - 1) {
      total = own.map((v, i) => v + gh[i]!);
    } else {
      // dL/dh_t = dOut_t + d(loss of steps t+1..T-1)/dh_t = dOut_t + dh0 of the suffix started from h_t.
      const n = T - 1 - t;
      m.forward({ data: x.subarray((t + 1) * B * 3), shape: [n, B, 3] },
        { h0: { data: r.output.data.subarray(t * B * 5, (t + 1) * B * 5), shape: [1, B, 5] }, train: true });
      const s = m.backward({ output: { data: gOut.subarray((t + 1) * B * 5), shape: [n, B, 5] },
        hN: { data: gh, shape: [1, B, 5] } });
      total = own.map((v, i) => v + s.dh0.data[i]!);
    }
    const norm = Math.sqrt(total.reduce((a, v) => a + v * v, 0));
    expect(Math.abs(g.gradNorms!.data[t]! - norm)).toBeLessThan(1e-5 * Math.max(1, norm));
  }
  m.dispose();
});

describe('backward with inputGrad: false', () => {
  it('gives bit-identical parameter gradients and dh0, and an empty dInput', async () => {
    await init();
    for (const mk of [() => new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2, bidirectional: true, seed: 3 }),
      () => new GRU({ inputSize: 5, hiddenSize: 7, seed: 3 }), () => new RNN({ inputSize: 5, hiddenSize: 7, seed: 3 })]) {
      const a = mk(), b = mk();
      const x = { data: Float32Array.from({ length: 4 * 3 * 5 }, (_, i) => Math.sin(i)), shape: [4, 3, 5] };
      const fa = a.forward(x, { train: true });
      b.forward(x, { train: true });
      const up = { output: { data: fa.output.data.map((v, i) => v * Math.cos(i)), shape: [...fa.output.shape] } };
      const ra = a.backward(up);
      const rb = b.backward(up, { inputGrad: false });
      for (const k of Object.keys(ra.grads)) expect(rb.grads[k]!.data, k).toEqual(ra.grads[k]!.data);
      expect(rb.dh0.data).toEqual(ra.dh0.data);
      expect(ra.dInput.shape).toEqual([4, 3, 5]);
      expect(rb.dInput.shape).toEqual([0]);
      a.dispose();
      b.dispose();
    }
  });
});

// Batch 1 over at least GEMV_MIN_T steps: the training forward and the backward's dh·W_hh take the dot-product
// path of assembly/gemv.ts (the *_b1_t* fixtures above check it against PyTorch at small sizes). At H 130 and 256
// the gradients of one row must equal half those of two identical rows (the panels' tiles) to 1e-5 of each
// tensor's largest value, and dInput / dh0 must equal either row's.
describe('batch 1, dot-product path, gradients', () => {
  for (const flavour of ['simd', 'relaxed'] as const) {
    for (const [mode, H] of [['LSTM', 130], ['LSTM', 256], ['GRU', 256], ['RNN', 130], ['RNN', 256]] as const) {
      it(`${mode} H${H} (${flavour}): one row's gradients are half those of two identical rows`, async () => {
        await init({ simd: flavour, force: true });
        const I = 20, T = 24;
        const opts = { inputSize: I, hiddenSize: H, seed: 5 };
        const m = mode === 'GRU' ? new GRU(opts) : mode === 'RNN' ? new RNN(opts) : new LSTM(opts);
        const x = new Float32Array(T * I).map((_, i) => Math.sin(0.31 * i));
        const gy = new Float32Array(T * H).map((_, i) => Math.cos(0.17 * i));
        const dup = (a: Float32Array, n: number): Float32Array => {
          const o = new Float32Array(a.length * 2);
          for (let t = 0; t < a.length / n; t++) {
            for (let b = 0; b < 2; b++) o.set(a.subarray(t * n, (t + 1) * n), (t * 2 + b) * n);
          }
          return o;
        };
        m.forward({ data: x, shape: [T, 1, I] }, { train: true });
        const one = m.backward({ output: { data: gy, shape: [T, 1, H] } });
        m.zeroGrad(); // gradients accumulate across backward calls, as in PyTorch
        m.forward({ data: dup(x, I), shape: [T, 2, I] }, { train: true });
        const two = m.backward({ output: { data: dup(gy, H), shape: [T, 2, H] } });
        for (const [name, g1] of Object.entries(one.grads)) {
          const g2 = two.grads[name]!.data;
          let big = 0;
          let worst = 0;
          for (let i = 0; i < g1.data.length; i++) {
            big = Math.max(big, Math.abs(g1.data[i]!));
            worst = Math.max(worst, Math.abs(g1.data[i]! - g2[i]! / 2));
          }
          expect(big, name).toBeGreaterThan(1e-3);
          expect(worst, `${name}: max |one - two/2| ${worst}, max |one| ${big}`).toBeLessThanOrEqual(1e-5 * big);
        }
        let dx = 0;
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < I; j++) {
            for (let b = 0; b < 2; b++) {
              dx = Math.max(dx, Math.abs(one.dInput.data[t * I + j]! - two.dInput.data[(t * 2 + b) * I + j]!));
            }
          }
        }
        expect(dx).toBeLessThanOrEqual(1e-5);
        m.dispose();
      });
    }
  }
});
