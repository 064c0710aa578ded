// Issue 8, "Memory": soaks (100,000 create/forward/dispose cycles, 10,000 training steps) keep the WebAssembly
// memory and the Node heap flat after warm-up; growth in the middle of a call (fit, a batched session step)
// leaves every live model bit-identical; the memory cap refuses a model before allocating anything.
import { beforeAll, expect, it } from 'vitest';
import {
  Adam, GRU, InvalidArgumentError, LSTM, Linear, OutOfMemoryError, RNN, Random, SequenceModel, fit, init, mseLoss,
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
// Measured within the synchronous loop's own job: nothing of a disposed model may stay reachable even until
// the job ends (a model once tracked its sessions with WeakRefs, which keep their targets alive that long:
// +74 MB of heap over 99,000 cycles, measured).
const heapMB = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const HEAP_BOUND_MB = 5;

it('100,000 create/forward/dispose cycles keep WebAssembly memory, live bytes and the Node heap flat', () => {
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
  const heap0 = heapMB();
  const t0 = performance.now();
  const N = 100_000;
  for (let i = 1000; i < N; i++) cycle(i);
  const seconds = (performance.now() - t0) / 1000;
  const end = engine.stats();
  const heap1 = heapMB();
  console.log(`soak: ${N} cycles in ${seconds.toFixed(1)} s (${(seconds * 1e6 / N).toFixed(0)} µs each); ` +
    `wasm memory ${warm.memoryBytes} -> ${end.memoryBytes} B, live ${base.usedBytes} -> ${end.usedBytes} B ` +
    `(${end.blocks} blocks), heap ${heap0.toFixed(2)} -> ${heap1.toFixed(2)} MB`);
  expect(end.memoryBytes).toBe(warm.memoryBytes);
  expect(end.topBytes).toBe(warm.topBytes);
  expect(end.usedBytes).toBe(base.usedBytes);
  expect(end.blocks).toBe(base.blocks);
  expect(heap1 - heap0).toBeLessThan(HEAP_BOUND_MB);
});

it('10,000 training steps keep WebAssembly memory, live bytes and the Node heap flat', () => {
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
  const heap0 = heapMB();
  const t0 = performance.now();
  while (steps < 10_000) steps += round();
  const seconds = (performance.now() - t0) / 1000;
  const end = engine.stats();
  const heap1 = heapMB();
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

// ---------------------------------------------------------------------------------------------------------------
// Growth in the middle of a call. memory.test.ts covers a forward after a big model grew the memory; here the
// growth happens inside fit() (its first training workspace) and between the steps of batched sessions, and
// forward, session steps, training steps and stateDict reads of models made before it are checked bit-identical.

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const stateBits = (sd: Record<string, Tensor>): Record<string, Buffer> =>
  Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, Buffer.from(Float32Array.from(t.data).buffer)]));

interface Live {
  m: RecurrentLayer;
  out: Buffer;
  sd: Record<string, Buffer>;
}

function liveModels(n: number, x: Float32Array): Live[] {
  const kinds = [
    (i: number) => new LSTM({ inputSize: 3, hiddenSize: 8 + i, seed: i }),
    (i: number) => new GRU({ inputSize: 3, hiddenSize: 5 + i, numLayers: 2, seed: i }),
    (i: number) => new RNN({ inputSize: 3, hiddenSize: 6 + i, bidirectional: true, seed: i }),
  ];
  return Array.from({ length: n }, (_, i) => {
    const m = kinds[i % 3]!(i);
    return { m, out: bits(m.forward({ data: x, shape: [4, 2, 3] }).output.data), sd: stateBits(m.stateDict()) };
  });
}

function expectUnchanged(live: Live[], x: Float32Array): void {
  for (const [i, l] of live.entries()) {
    expect(bits(l.m.forward({ data: x, shape: [4, 2, 3] }).output.data).equals(l.out), `model ${i} forward`).toBe(true);
    expect(stateBits(l.m.stateDict()), `model ${i} stateDict`).toEqual(l.sd);
  }
}

function fitRun(seed: number): { losses: number[]; sd: Record<string, Buffer> } {
  // A training workspace of ~3 MB (T = 200, B = 16, H = 64, saved activations and gradients).
  const N = 16, T = 200, I = 4;
  const model = new SequenceModel({
    rnn: new LSTM({ inputSize: I, hiddenSize: 64, batchFirst: true, seed }),
    head: new Linear({ inFeatures: 64, outFeatures: 1, seed: seed + 1 }),
  });
  const data = { inputs: { data: randn(N * T * I, seed + 2), shape: [N, T, I] }, targets: { data: randn(N * T, seed + 3), shape: [N, T, 1] } };
  const losses: number[] = [];
  fit(model, data, { epochs: 2, batchSize: 16, seed, onStepEnd: (s) => losses.push(s.loss) });
  const sd = stateBits(model.stateDict());
  model.dispose();
  return { losses, sd };
}

it('growth inside fit() and between batched session steps leaves every live model bit-identical', async () => {
  const e = await init({ simd: 'simd', threads: 1, force: true });
  const x = randn(4 * 2 * 3, 2);
  const live = liveModels(24, x);
  // Batched sessions, stepped before and after the growth, against a twin stepped with no growth in between.
  const lstm = live[0]!.m;
  const twin = new LSTM({ inputSize: 3, hiddenSize: 8, seed: 0 });
  const B = 32;
  const xs = Array.from({ length: 6 }, (_, t) => randn(B * 3, 100 + t));
  const ref = twin.createSession({ batchSize: B });
  const want = xs.map((xt) => bits(Float32Array.from(ref.step(xt).data)));
  const s = lstm.createSession({ batchSize: B });
  const view = s.outputView();
  for (let t = 0; t < 3; t++) expect(bits(Float32Array.from(s.step(xs[t]!).data)).equals(want[t]!)).toBe(true);
  // A training step of a model made before the growth, against its twin trained after.
  const mk = (): SequenceModel => new SequenceModel({
    rnn: new GRU({ inputSize: 3, hiddenSize: 7, seed: 9 }), head: new Linear({ inFeatures: 7, outFeatures: 2, seed: 10 }),
  });
  const trainStep = (m: SequenceModel, opt: Adam): void => {
    opt.zeroGrad();
    const out = m.forward({ data: x, shape: [4, 2, 3] }, { train: true });
    const l = mseLoss(out.data, randn(out.size, 11));
    m.backward({ data: l.grad, shape: [...out.shape] });
    opt.step();
  };
  const a = mk(), b = mk();
  const optA = new Adam(a.parameters(), { lr: 0.01 }), optB = new Adam(b.parameters(), { lr: 0.01 });
  trainStep(a, optA);
  const before = e.stats().memoryBytes;

  const grown = fitRun(1); // grows the memory inside fit's first step
  const mid = e.stats().memoryBytes;
  expect(mid).toBeGreaterThan(before);

  for (let t = 3; t < 6; t++) expect(bits(Float32Array.from(s.step(xs[t]!).data)).equals(want[t]!), `session step ${t}`).toBe(true);
  expect(view.length === 0 || bits(view).equals(want[5]!)).toBe(true); // an old view is detached, never stale
  expect(bits(s.outputView()).equals(want[5]!)).toBe(true);
  trainStep(b, optB);
  expect(stateBits(b.stateDict())).toEqual(stateBits(a.stateDict()));
  trainStep(a, optA);
  trainStep(b, optB);
  expect(stateBits(b.stateDict())).toEqual(stateBits(a.stateDict()));
  expectUnchanged(live, x);
  // The same fit with the memory grown beforehand (no growth inside): bit-identical.
  const pre = e.alloc(16 * 2 ** 20);
  e.release(pre);
  const grownFirst = e.stats().memoryBytes;
  const again = fitRun(1);
  expect(e.stats().memoryBytes).toBe(grownFirst);
  expect(again.losses).toEqual(grown.losses);
  expect(again.sd).toEqual(grown.sd);
  console.log(`growth: wasm memory ${before} -> ${mid} B inside fit(); ${live.length} live models, 1 session, ` +
    '2 trainers unchanged');
  for (const l of live) l.m.dispose();
  for (const o of [twin, a, b, optA, optB]) o.dispose();
});

// ---------------------------------------------------------------------------------------------------------------
// The memory cap: refused before anything is allocated, naming the sizes; other models unharmed.

function expectRefused(f: () => unknown, e: Engine, re: RegExp): OutOfMemoryError {
  const before = e.stats();
  let err: unknown;
  try {
    f();
  } catch (x) {
    err = x;
  }
  expect(err).toBeInstanceOf(OutOfMemoryError);
  const oom = err as OutOfMemoryError;
  expect(oom.message).toMatch(re);
  expect(oom.message).toContain(`cap is ${e.memoryCap} bytes`);
  expect(oom.message).toContain(`${before.usedBytes} bytes in use`);
  expect(oom.capBytes).toBe(e.memoryCap);
  expect(oom.usedBytes).toBe(before.usedBytes);
  expect(oom.requestedBytes).toBeGreaterThan(0);
  expect(e.stats(), 'allocator unchanged by the refusal').toEqual(before);
  return oom;
}

it('the memory cap refuses models, sessions, workspaces and optimizer state before allocating anything', async () => {
  const CAP = 2 * 2 ** 20;
  const e = await init({ simd: 'simd', threads: 1, force: true, maxMemoryBytes: CAP });
  expect(e.memoryCap).toBe(CAP);
  expect(e.stats().capBytes).toBe(CAP);
  const x = randn(4 * 2 * 3, 5);
  const live = liveModels(6, x);

  // A model whose parameters (4·512·(256+512) floats, 6.3 MB) exceed the cap.
  const big = expectRefused(() => new LSTM({ inputSize: 256, hiddenSize: 512 }), e, /^options\.hiddenSize 512, options\.inputSize 256, options\.numLayers 1: .*\(LSTM parameters: needs \d+ bytes \(3 blocks\)/);
  expect(big.requestedBytes).toBeGreaterThan(4 * 512 * 768 * 4);
  expectRefused(() => new Linear({ inFeatures: 1024, outFeatures: 1024 }), e, /^options\.inFeatures 1024, options\.outFeatures 1024: .*\(Linear parameters: needs/);
  const m = live[0]!.m;
  expectRefused(() => m.createSession({ batchSize: 50_000 }), e, /^options\.batchSize 50000: .*\(Session \(batchSize 50000\): needs/);
  // Forward and training workspaces of a long sequence (T = 6000, B = 8: outputs alone are 2.4 MB).
  const T = 6000;
  const long = { data: new Float32Array(T * 8 * 3).fill(0.5), shape: [T, 8, 3] };
  expectRefused(() => m.forward(long), e, /^LSTM forward workspace: needs \d+ bytes/);
  expectRefused(() => m.forward(long, { train: true }), e, /^LSTM training workspace: needs \d+ bytes/);
  expectUnchanged(live, x);

  // Optimizer state allocated on the first step: refused before any parameter changes.
  const sm = new SequenceModel({ rnn: new GRU({ inputSize: 3, hiddenSize: 32, seed: 1 }), head: new Linear({ inFeatures: 32, outFeatures: 1, seed: 2 }) });
  const out = sm.forward({ data: x, shape: [4, 2, 3] }, { train: true });
  sm.backward({ data: mseLoss(out.data, new Float32Array(out.size)).grad, shape: [...out.shape] });
  const opt = new Adam(sm.parameters(), { lr: 0.1 });
  const sd = stateBits(sm.stateDict());
  e.setMemoryCap(e.stats().topBytes + 4096); // room for less than Adam's two buffers per parameter
  expectRefused(() => opt.step(), e, /^Adam state: needs \d+ bytes \(\d+ blocks\)/);
  e.setMemoryCap(CAP); // (stateDict() itself needs a staging block)
  expect(stateBits(sm.stateDict()), 'no parameter changed').toEqual(sd);
  opt.step();
  expect(stateBits(sm.stateDict())).not.toEqual(sd);

  // Everything refused above works once there is room; the other models never changed.
  expect(() => e.setMemoryCap(0)).toThrow(InvalidArgumentError);
  expect(() => e.setMemoryCap(Number.NaN)).toThrow(/^bytes: expected a positive number of bytes for the memory cap, got NaN/);
  e.setMemoryCap(64 * 2 ** 20);
  const used = e.stats().usedBytes;
  m.forward(long);
  expectUnchanged(live, x);
  expect(e.stats().usedBytes).toBeGreaterThan(used); // the workspace grew to the long call
  const lstm = new LSTM({ inputSize: 256, hiddenSize: 512, seed: 1 });
  lstm.dispose();
  for (const l of live) l.m.dispose();
  opt.dispose();
  sm.dispose();
});

it('with worker threads (a shared memory, its maximum fixed at init) the cap can be lowered, not raised', async () => {
  const CAP = 4 * 2 ** 20;
  const e = await init({ simd: 'simd', threads: 2, force: true, maxMemoryBytes: CAP });
  try {
    expect(e.threadingInfo().sharedMemory).toBe(true);
    expect(e.memoryCap).toBe(CAP);
    expect(() => e.setMemoryCap(CAP + 65536)).toThrow(/above this memory's maximum of 4194304 bytes/);
    const m = new GRU({ inputSize: 8, hiddenSize: 64, seed: 1 });
    const x = { data: randn(50 * 8 * 8, 7), shape: [50, 8, 8] };
    const want = bits(m.forward(x).output.data);
    // The parameters alone would fit (2.9 MB, 1.6 MB), not with the packing stage (1.3 MB, 1 MB): still refused
    // before the parameter block is allocated.
    const stats0 = e.stats();
    expectRefused(() => new LSTM({ inputSize: 256, hiddenSize: 320 }), e, /^options\.hiddenSize 320, .*\(LSTM parameters: needs \d+ bytes \(3 blocks\)/);
    e.setMemoryCap(2 * 2 ** 20);
    expectRefused(() => new LSTM({ inputSize: 128, hiddenSize: 256 }), e, /^options\.hiddenSize 256, .*\(LSTM parameters: needs/);
    expect(e.stats().memoryBytes).toBe(stats0.memoryBytes); // nothing grew
    e.setMemoryCap(CAP);
    // Up to the shared memory's maximum: grows, and the first model is unharmed.
    const a = new LSTM({ inputSize: 64, hiddenSize: 256, seed: 2 });
    expect(bits(m.forward(x).output.data).equals(want)).toBe(true);
    a.dispose();
    m.dispose();
  } finally {
    e.terminateWorkers();
  }
});
