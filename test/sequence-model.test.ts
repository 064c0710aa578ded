// SequenceModel (recurrent stack + Linear head): gradients against central differences of its own forward
// (float32, so eps 1e-2 on a smooth model and a 2e-3 tolerance relative to the gradient's norm), for both head
// inputs, with padding and a bidirectional stack.
import { beforeAll, expect, it } from 'vitest';
import { GRU, LSTM, Linear, Random, SequenceModel, init } from '../src/index.js';

beforeAll(async () => {
  await init();
});

it.each(['sequence', 'last'] as const)('head on %s: gradients match finite differences', (headInput) => {
  const rnn = headInput === 'last'
    ? new GRU({ inputSize: 3, hiddenSize: 5, bidirectional: true, numLayers: 2, seed: 1 })
    : new LSTM({ inputSize: 3, hiddenSize: 6, projSize: 4, seed: 2 });
  const model = new SequenceModel({ rnn, head: new Linear({ inFeatures: rnn.numDirections * rnn.outputSize, outFeatures: 2, seed: 3 }), headInput });
  const r = new Random(9);
  const T = 4;
  const B = 3;
  const x = { data: Float32Array.from({ length: T * B * 3 }, () => r.normal()), shape: [T, B, 3] };
  const lengths = [4, 2, 3];
  const y0 = model.forward(x, { lengths });
  expect(y0.shape).toEqual(headInput === 'last' ? [B, 2] : [T, B, 2]);
  const g = Float32Array.from({ length: y0.size }, () => r.normal());
  const loss = (): number => model.forward(x, { lengths }).data.reduce((a, v, i) => a + v * g[i]!, 0);
  model.zeroGrad();
  model.forward(x, { lengths, train: true });
  model.backward({ data: g, shape: [...y0.shape] });
  const analytic = { ...model.rnn.gradients({ prefix: 'rnn.' }), ...model.head.gradients({ prefix: 'head.' }) };
  const sd = model.stateDict();
  for (const [name, t] of Object.entries(sd)) {
    const idxs = [0, Math.floor(t.size / 2), t.size - 1];
    let norm = 0;
    for (const v of analytic[name]!.data) norm += v * v;
    for (const i of idxs) {
      const orig = t.data[i]!;
      const eps = 1e-2;
      const set = (v: number): void => {
        const d = t.data.slice();
        d[i] = v;
        model.loadStateDict({ ...sd, [name]: { shape: t.shape, data: d } });
      };
      set(orig + eps);
      const lp = loss();
      set(orig - eps);
      const lm = loss();
      set(orig);
      const fd = (lp - lm) / (2 * eps);
      expect(Math.abs(fd - analytic[name]!.data[i]!), `${name}[${i}]`).toBeLessThan(2e-3 * Math.max(1, Math.sqrt(norm)));
    }
  }
  expect(model.parameters().map((p) => p.name)).toContain('head.weight');
  model.dispose();
  expect(rnn.isDisposed).toBe(true);
});

it('a recurrence that overflows float32 is reported as such, not as a bad input', async () => {
  const { RNN } = await import('../src/index.js');
  const rnn = new RNN({ inputSize: 1, hiddenSize: 2, nonlinearity: 'relu', seed: 1 });
  const sd = rnn.stateDict();
  sd.weight_hh_l0!.data.fill(1e30); // h grows by 2e30 per step: Infinity by the second step
  sd.weight_ih_l0!.data.fill(1);
  sd.bias_ih_l0!.data.fill(1);
  rnn.loadStateDict(sd);
  const m = new SequenceModel({ rnn, head: new Linear({ inFeatures: 2, outFeatures: 1, seed: 1 }), headInput: 'last' });
  const x = { data: new Float32Array([1, 1, 1]), shape: [3, 1, 1] };
  expect(() => m.forward(x)).toThrow(/^the recurrent layer's output overflowed float32 \(element \d+ is (Infinity|NaN)/);
  try { m.forward(x); } catch (e) { expect((e as { code: string }).code).toBe('NON_FINITE'); }
  // A finite sequence still runs (one step: h = relu(1 + 1) = 2 per unit).
  const y = m.forward({ data: new Float32Array([1]), shape: [1, 1, 1] });
  expect(Number.isFinite(y.data[0]!)).toBe(true);
  m.dispose();
});
