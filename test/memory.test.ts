// WebAssembly memory survives growth with live models, and the finalizer frees what a caller forgot to dispose.
// The soaks (100,000 create/forward/dispose cycles, 10,000 training steps) are in reliability-memory.test.ts.
import { beforeAll, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Random, init, type Engine, type RecurrentLayer } from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await init({ simd: 'simd', force: true });
});

function randn(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

it('memory growth during a call leaves every live model correct', () => {
  const x = randn(4 * 2 * 3, 2);
  const models: RecurrentLayer[] = [];
  const expected: Float32Array[] = [];
  for (let i = 0; i < 8; i++) {
    const m = new LSTM({ inputSize: 3, hiddenSize: 8 + i, seed: i });
    models.push(m);
    expected.push(m.forward({ data: x, shape: [4, 2, 3] }).output.data);
  }
  const before = engine.stats().memoryBytes;
  // A large model and a long sequence force the memory to grow several times.
  const big = new GRU({ inputSize: 64, hiddenSize: 512, numLayers: 2, seed: 3 });
  big.forward({ data: new Float32Array(300 * 4 * 64).fill(0.1), shape: [300, 4, 64] });
  expect(engine.stats().memoryBytes).toBeGreaterThan(before);
  for (let i = 0; i < models.length; i++) {
    expect(maxAbsDiff(models[i]!.forward({ data: x, shape: [4, 2, 3] }).output.data, expected[i]!)).toBe(0);
    models[i]!.dispose();
  }
  big.dispose();
});

it('the finalizer frees models that were never disposed', async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(gc, 'run with --expose-gc (vitest.config.ts sets it)').toBeTypeOf('function');
  const base = engine.stats().usedBytes;
  (() => {
    for (let i = 0; i < 50; i++) {
      const m = new LSTM({ inputSize: 4, hiddenSize: 16, seed: i });
      m.forward({ data: new Float32Array(4 * 3 * 4), shape: [4, 3, 4] });
    }
  })();
  expect(engine.stats().usedBytes).toBeGreaterThan(base);
  for (let i = 0; i < 20 && engine.stats().usedBytes > base; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(engine.stats().usedBytes).toBe(base);
});

it('the finalizer frees a forgotten session while its model lives on; disposing the model after is safe', async () => {
  const m = new LSTM({ inputSize: 3, hiddenSize: 8, seed: 1 });
  const base = engine.stats().usedBytes;
  (() => {
    for (let i = 0; i < 50; i++) m.createSession({ batchSize: 4 }).step(new Float32Array(12));
  })();
  expect(engine.stats().usedBytes).toBeGreaterThan(base);
  for (let i = 0; i < 20 && engine.stats().usedBytes > base; i++) {
    (globalThis as { gc?: () => void }).gc!();
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(engine.stats().usedBytes).toBe(base);
  const kept = m.createSession({ batchSize: 2 });
  m.dispose();
  expect(kept.isDisposed).toBe(true);
  expect(() => kept.step(new Float32Array(6))).toThrow(/disposed/);
  kept.dispose(); // idempotent
});
