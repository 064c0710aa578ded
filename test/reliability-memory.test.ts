// Issue 8, "Memory": soaks (100,000 create/forward/dispose cycles, 10,000 training steps) keep the WebAssembly
// memory and the Node heap flat after warm-up; growth in the middle of a call (fit, a batched session step)
// leaves every live model bit-identical; the memory cap refuses a model before allocating anything.
import { beforeAll, expect, it } from 'vitest';
import {
  Adam, GRU, LSTM, Linear, OutOfMemoryError, RNN, Random, SequenceModel, fit, init, mseLoss,
  type Engine, type RecurrentLayer, type Tensor,
} from '../src/index.js';

let engine: Engine;
beforeAll(async () => {
  engine = await init({ simd: 'simd', threads: 1, force: true });
});

function randn(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
  g();
  g();
};
// Measured in a later macrotask: a WeakRef (a model's handle on its sessions) keeps its target alive until the
// end of the current job, so a synchronous loop's sessions are collectable only after it returns.
const heapMB = async (): Promise<number> => {
  await new Promise((r) => setTimeout(r, 0));
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const HEAP_BOUND_MB = 5;

it('100,000 create/forward/dispose cycles keep WebAssembly memory, live bytes and the Node heap flat', async () => {
  const x = randn(6 * 2 * 3, 1);
  const xs = Array.from({ length: 6 }, (_, t) => x.subarray(0, (t + 1) * 2 * 3));
  const step = x.subarray(0, 6);
  const kinds: (() => RecurrentLayer)[] = [
    () => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 1 }),
    () => new GRU({ inputSize: 3, hiddenSize: 6, bidirectional: true, seed: 1 }),
    () => new RNN({ inputSize: 3, hiddenSize: 7, seed: 1 }),
    () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2, batchFirst: true, seed: 2 }),
  ];
  const cycle = (i: number): void => {
    if (i % 5 === 4) {
      // A SequenceModel with a head, forward and a session.
      const m = new SequenceModel({
        rnn: new GRU({ inputSize: 3, hiddenSize: 4, seed: i & 7 }),
        head: new Linear({ inFeatures: 4, outFeatures: 2, seed: 1 }),
      });
      m.forward({ data: xs[i % 6]!, shape: [1 + (i % 6), 2, 3] });
      m.dispose();
      return;
    }
    const m = kinds[i % 4]!();
    const T = 1 + (i % 6); // vary the work size too
    m.forward({ data: xs[T - 1]!, shape: m.batchFirst ? [2, T, 3] : [T, 2, 3] });
    if (i % 3 === 0 && !m.bidirectional) {
      const s = m.createSession({ batchSize: 2 });
      s.step(step);
      if (i % 2 === 0) s.dispose(); // otherwise freed by m.dispose()
    }
    m.dispose();
  };
  const base = engine.stats();
  for (let i = 0; i < 1000; i++) cycle(i);
  const warm = engine.stats();
  const heap0 = await heapMB();
  const t0 = performance.now();
  const N = 100_000;
  for (let i = 1000; i < N; i++) cycle(i);
  const seconds = (performance.now() - t0) / 1000;
  const end = engine.stats();
  const heap1 = await heapMB();
  console.log(`soak: ${N} cycles in ${seconds.toFixed(1)} s (${(seconds * 1e6 / N).toFixed(0)} µs each); ` +
    `wasm memory ${warm.memoryBytes} -> ${end.memoryBytes} B, live ${base.usedBytes} -> ${end.usedBytes} B ` +
    `(${end.blocks} blocks), heap ${heap0.toFixed(2)} -> ${heap1.toFixed(2)} MB`);
  expect(end.memoryBytes).toBe(warm.memoryBytes);
  expect(end.topBytes).toBe(warm.topBytes);
  expect(end.usedBytes).toBe(base.usedBytes);
  expect(end.blocks).toBe(base.blocks);
  expect(heap1 - heap0).toBeLessThan(HEAP_BOUND_MB);
});

it('10,000 training steps keep WebAssembly memory, live bytes and the Node heap flat', async () => {
  const N = 8, T = 5, I = 2, O = 1;
  const data = { inputs: { data: randn(N * T * I, 3), shape: [N, T, I] }, targets: { data: randn(N * T * O, 4), shape: [N, T, O] } };
  const model = new SequenceModel({
    rnn: new LSTM({ inputSize: I, hiddenSize: 6, batchFirst: true, seed: 5 }),
    head: new Linear({ inFeatures: 6, outFeatures: O, seed: 6 }),
  });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const manual = new SequenceModel({
    rnn: new GRU({ inputSize: I, hiddenSize: 4, seed: 7 }),
    head: new Linear({ inFeatures: 4, outFeatures: O, seed: 8 }),
  });
  const opt2 = new Adam(manual.parameters(), { lr: 1e-3 });
  const mx = { data: randn(T * 4 * I, 9), shape: [T, 4, I] };
  const my = randn(T * 4 * O, 10);
  // fit in epochs of 2 steps (batch 4 of 8 sequences) plus a manual forward/backward/step loop.
  const round = (): number => {
    const h = fit(model, data, { epochs: 4, batchSize: 4, optimizer: opt, seed: 1 });
    opt2.zeroGrad();
    const out = manual.forward(mx, { train: true });
    const l = mseLoss(out.data, my);
    manual.backward({ data: l.grad, shape: [...out.shape] });
    opt2.step();
    return h.steps + 1;
  };
  let steps = 0;
  for (let i = 0; i < 100; i++) steps += round();
  const warm = engine.stats();
  const heap0 = await heapMB();
  const t0 = performance.now();
  while (steps < 10_000) steps += round();
  const seconds = (performance.now() - t0) / 1000;
  const end = engine.stats();
  const heap1 = await heapMB();
  console.log(`training soak: ${steps} steps in ${seconds.toFixed(1)} s after warm-up; wasm memory ` +
    `${warm.memoryBytes} -> ${end.memoryBytes} B, live ${warm.usedBytes} -> ${end.usedBytes} B, ` +
    `heap ${heap0.toFixed(2)} -> ${heap1.toFixed(2)} MB`);
  expect(end.memoryBytes).toBe(warm.memoryBytes);
  expect(end.usedBytes).toBe(warm.usedBytes);
  expect(end.blocks).toBe(warm.blocks);
  expect(heap1 - heap0).toBeLessThan(HEAP_BOUND_MB);
  const before = engine.stats().usedBytes;
  opt.dispose();
  opt2.dispose();
  model.dispose();
  manual.dispose();
  expect(engine.stats().usedBytes).toBeLessThan(before);
});
