// The module's uniform_fill (weight initialisation) against the TypeScript generator it mirrors, bit for bit.
import { beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Random, getEngine, init } from '../src/index.js';
import { fillUniform } from '../src/nn/random.js';

beforeAll(async () => {
  await init({ simd: 'simd' });
});

describe('uniform_fill', () => {
  it('continues a Random stream exactly as Random.uniform would (values and final state)', () => {
    const e = getEngine();
    for (const [seed, n, lo, hi] of [[1, 1, -1, 1], [7, 1000, -0.0625, 0.0625], [123456789, 4097, 0, 3]] as const) {
      const a = new Random(seed), b = new Random(seed);
      a.next(); b.next(); // a stream already in use
      const want = Float32Array.from({ length: n }, () => a.uniform(lo, hi));
      const p = e.alloc(n * 4);
      fillUniform(e, b, p, n, lo, hi);
      const got = e.f32().slice(p / 4, p / 4 + n);
      e.release(p);
      expect(Array.from(new Uint32Array(got.buffer))).toEqual(Array.from(new Uint32Array(want.buffer)));
      expect(b.getState()).toEqual(a.getState());
      expect(b.next()).toBe(a.next());
    }
  });

  it('gives every recurrent layer the weights PyTorch-style uniform draws in parameter order would', () => {
    for (const [seed, make] of [
      [42, (sd: number) => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2,
        seed: sd })],
      [43, (sd: number) => new GRU({ inputSize: 4, hiddenSize: 7, seed: sd })],
      [44, (sd: number) => new RNN({ inputSize: 2, hiddenSize: 17, bias: false, seed: sd })],
    ] as const) {
      const m = make(seed);
      const rng = new Random(seed);
      const k = 1 / Math.sqrt(m.hiddenSize);
      const sd = m.stateDict();
      for (const [name, t] of Object.entries(sd)) {
        const want = Float32Array.from({ length: t.data.length }, () => rng.uniform(-k, k));
        expect(Array.from(t.data), name).toEqual(Array.from(want));
      }
      m.dispose();
    }
  });
});
