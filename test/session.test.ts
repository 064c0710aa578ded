// Streaming sessions: stepping B streams one step at a time equals one forward pass over the whole sequence.
import { beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Random, init, type RecurrentLayer } from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

beforeAll(async () => {
  await init();
});

function randn(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

const models: Array<[string, () => RecurrentLayer]> = [
  ['LSTM 2 layers with projection', () => new LSTM({ inputSize: 5, hiddenSize: 9, numLayers: 2, projSize: 4, seed: 3 })],
  ['GRU 2 layers', () => new GRU({ inputSize: 5, hiddenSize: 7, numLayers: 2, seed: 4 })],
  ['RNN relu', () => new RNN({ inputSize: 5, hiddenSize: 17, nonlinearity: 'relu', seed: 5 })],
];

describe.each(models)('%s', (_name, make) => {
  it('step-by-step equals forward, getState equals hN/cN, setState resumes', () => {
    const m = make();
    const T = 7;
    const B = 3;
    const I = m.inputSize;
    const x = randn(T * B * I, 11);
    const full = m.forward({ data: x, shape: [T, B, I] });
    const s = m.createSession({ batchSize: B });
    const W = m.outputSize;
    let snapshot: ReturnType<typeof s.getState> | undefined;
    for (let t = 0; t < T; t++) {
      const y = s.step({ data: x.subarray(t * B * I, (t + 1) * B * I), shape: [B, I] });
      expect(y.shape).toEqual([B, W]);
      expect(maxAbsDiff(y.data, full.output.data.subarray(t * B * W, (t + 1) * B * W))).toBeLessThan(1e-6);
      if (t === 3) snapshot = s.getState();
    }
    const st = s.getState();
    expect(maxAbsDiff(st.h.data, full.hN.data)).toBeLessThan(1e-6);
    if (m.mode === 'LSTM') expect(maxAbsDiff(st.c!.data, full.cN!.data)).toBeLessThan(1e-6);
    else expect(st.c).toBeUndefined();

    // Resume from the snapshot in a second session sharing the weights: same outputs for steps 4..T-1.
    const s2 = m.createSession({ batchSize: B });
    s2.setState(snapshot!);
    for (let t = 4; t < T; t++) {
      const y = s2.step(x.subarray(t * B * I, (t + 1) * B * I));
      expect(maxAbsDiff(y.data, full.output.data.subarray(t * B * W, (t + 1) * B * W))).toBeLessThan(1e-6);
    }
    s2.reset();
    const y0 = s2.step(x.subarray(0, B * I));
    expect(maxAbsDiff(y0.data, full.output.data.subarray(0, B * W))).toBeLessThan(1e-6);
    m.dispose();
    expect(s.isDisposed).toBe(true);
    expect(() => s2.step(x.subarray(0, B * I))).toThrow(/disposed/);
  });
});

it('sessions of one model are independent', () => {
  const m = new LSTM({ inputSize: 2, hiddenSize: 6, seed: 1 });
  const a = m.createSession();
  const b = m.createSession();
  const x1 = [0.5, -1];
  const x2 = [2, 0.25];
  const ya1 = a.step(x1);
  b.step(x2);
  b.step(x2);
  const ya2 = a.step(x1);
  const ref = m.createSession();
  const r1 = ref.step(x1);
  const r2 = ref.step(x1);
  expect(ya1.shape).toEqual([6]);
  expect(maxAbsDiff(ya1.data, r1.data)).toBe(0);
  expect(maxAbsDiff(ya2.data, r2.data)).toBe(0);
  m.dispose();
});

it('a bidirectional model refuses to stream', () => {
  const m = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true });
  expect(() => m.createSession()).toThrow(/bidirectional/);
  m.dispose();
});

it('step validates its input', () => {
  const m = new RNN({ inputSize: 3, hiddenSize: 4 });
  const s = m.createSession({ batchSize: 2 });
  expect(() => s.step({ data: [1, 2, 3], shape: [1, 3] })).toThrow(/x: expected shape \[2, 3\]/);
  expect(() => s.step([1, 2, 3])).toThrow(/expected 6 values/);
  expect(() => s.step([1, 2, 3, 4, 5, NaN])).toThrow(/element 5 is NaN/);
  expect(() => s.setState({ h: { data: [1], shape: [1] } })).toThrow(/state.h: expected shape \[1, 2, 4\]/);
  m.dispose();
});
