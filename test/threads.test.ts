// Multi-threaded forward inference: bit-for-bit equal to one thread, fallback reasons, worker errors, teardown.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  GRU, InitError, LSTM, RNN, WorkerError, init, threadingInfo, type Engine, type ForwardResult,
  type RecurrentLayer,
} from '../src/index.js';
import { expectIdentical, lcg as rnd } from './helpers.js';
import { splitBatch } from '../src/nn/recurrent.js';


interface Case {
  name: string;
  cell: 'LSTM' | 'GRU' | 'RNN' | 'RNN_RELU' | 'GRU_BEFORE' | 'LSTM_PROJ';
  B: number;
  T: number;
  H: number;
  L: number;
  bi: boolean;
  bf: boolean;
  states: boolean;
  lengths: boolean;
  unbatched?: boolean;
}

const I = 16;
const cases: Case[] = [];
for (const cell of ['LSTM', 'GRU', 'RNN'] as const) {
  for (const B of [3, 32, 33]) {
    cases.push({ name: `${cell} B${B} 2 layers bidirectional lengths h0`, cell, B, T: 23, H: 40, L: 2, bi: true,
      bf: false, states: true, lengths: true });
  }
  cases.push({ name: `${cell} B5 batchFirst`, cell, B: 5, T: 19, H: 24, L: 1, bi: false, bf: true, states: false,
    lengths: false });
  cases.push({ name: `${cell} B7 batchFirst bidirectional lengths h0`, cell, B: 7, T: 17, H: 20, L: 2, bi: true,
    bf: true, states: true, lengths: true });
}
cases.push({ name: 'RNN relu B9', cell: 'RNN_RELU', B: 9, T: 11, H: 33, L: 1, bi: false, bf: false, states: true,
  lengths: true });
cases.push({ name: 'GRU resetAfter=false B6', cell: 'GRU_BEFORE', B: 6, T: 13, H: 20, L: 2, bi: true, bf: false,
  states: true, lengths: true });
cases.push({ name: 'LSTM projSize B11', cell: 'LSTM_PROJ', B: 11, T: 15, H: 24, L: 2, bi: true, bf: false,
  states: true, lengths: true });
// Batches too small to split: a bidirectional layer runs its two directions on two threads.
for (const cell of ['LSTM', 'GRU', 'RNN', 'LSTM_PROJ'] as const) {
  for (const B of [1, 2]) {
    cases.push({ name: `${cell} B${B} bidirectional 3 layers (directions split)`, cell, B, T: 21, H: 28, L: 3, bi: true,
      bf: B === 2, states: true, lengths: true });
  }
  cases.push({ name: `${cell} unbatched bidirectional (directions split)`, cell, B: 1, T: 9, H: 12, L: 2, bi: true,
    bf: false, states: true, lengths: false, unbatched: true });
}
// Input-projection chunks shorter than T (B*Np > 2^20 / T): the odd last slice runs in time segments.
cases.push({ name: 'LSTM H256 B33 T37 (chunked)', cell: 'LSTM', B: 33, T: 37, H: 256, L: 1, bi: true, bf: false,
  states: true, lengths: true });
cases.push({ name: 'RNN H1024 B33 T37 (chunked)', cell: 'RNN', B: 33, T: 37, H: 1024, L: 1, bi: true, bf: false,
  states: true, lengths: false });

function make(c: Case): RecurrentLayer {
  const o = { inputSize: I, hiddenSize: c.H, numLayers: c.L, bidirectional: c.bi, batchFirst: c.bf, seed: 11 };
  switch (c.cell) {
    case 'LSTM': return new LSTM(o);
    case 'LSTM_PROJ': return new LSTM({ ...o, projSize: 7 });
    case 'GRU': return new GRU(o);
    case 'GRU_BEFORE': return new GRU({ ...o, resetAfter: false });
    case 'RNN': return new RNN(o);
    case 'RNN_RELU': return new RNN({ ...o, nonlinearity: 'relu' });
  }
}

function run(c: Case): ForwardResult {
  const m = make(c);
  const D = c.bi ? 2 : 1;
  const x = { data: rnd(c.T * c.B * I, 1 + c.B),
    shape: c.unbatched ? [c.T, I] : c.bf ? [c.B, c.T, I] : [c.T, c.B, I] };
  const opts: Parameters<RecurrentLayer['forward']>[1] = {};
  const sh = (n: number): number[] => (c.unbatched ? [c.L * D, n] : [c.L * D, c.B, n]);
  if (c.states) {
    opts.h0 = { data: rnd(c.L * D * c.B * m.outputSize, 2), shape: sh(m.outputSize) };
    if (m.mode === 'LSTM') opts.c0 = { data: rnd(c.L * D * c.B * c.H, 3), shape: sh(c.H) };
  }
  if (c.lengths) opts.lengths = Array.from({ length: c.B }, (_, b) => 1 + ((b * 7) % c.T));
  const r = m.forward(x, opts);
  m.dispose();
  return r;
}

describe('splitBatch', () => {
  it('gives even sizes first and the odd remainder last', () => {
    expect(splitBatch(32, 2)).toEqual([16, 16]);
    expect(splitBatch(33, 2)).toEqual([16, 17]);
    expect(splitBatch(3, 2)).toEqual([2, 1]);
    expect(splitBatch(2, 2)).toEqual([2]);
    expect(splitBatch(33, 3)).toEqual([12, 10, 11]);
    for (let B = 1; B < 40; B++) {
      for (let S = 1; S < 5; S++) {
        const s = splitBatch(B, S);
        expect(s.reduce((a, b) => a + b, 0)).toBe(B);
        s.slice(0, -1).forEach((n) => expect(n % 2).toBe(0));
      }
    }
  });
});

describe.each(['simd', 'relaxed'] as const)('threads, %s build', (flavour) => {
  it('forward on 2 and 3 threads is bit-for-bit the single-threaded forward', async () => {
    const one = await init({ simd: flavour, threads: 1, force: true });
    expect(one.threadingInfo()).toEqual({ threads: 1, reason: 'one thread requested', sharedMemory: false });
    const ref = cases.map(run);
    for (const n of [2, 3]) {
      const e = await init({ simd: flavour, threads: n, force: true });
      expect(e.threads).toBe(n);
      expect(threadingInfo()).toEqual({ threads: n, sharedMemory: true });
      e.parallelMinFlops = 0; // split every call, however small
      const before = e.stats().blocks;
      cases.forEach((c, i) => expectIdentical(run(c), ref[i]!, `${c.name}, ${n} threads`));
      expect(e.stats().blocks).toBe(before); // every model's blocks freed, nothing leaked by the split
      // And with splitting off, the shared build on one thread gives the same numbers.
      e.parallelMinFlops = Infinity;
      expectIdentical(run(cases[0]!), ref[0]!, 'shared build, split off');
    }
  });
});

describe('threads: runtime behaviour', () => {
  it('splits only calls above parallelMinFlops', async () => {
    const e = await init({ simd: 'simd', threads: 2, force: true });
    e.parallelMinFlops = 1 << 24; // the default (RNN_WASM_PARALLEL_MIN_FLOPS may have changed it)
    const m = new LSTM({ inputSize: 8, hiddenSize: 16, seed: 1 });
    const x = { data: rnd(4 * 4 * 8, 1), shape: [4, 4, 8] };
    let calls = 0;
    const orig = e.parallel.bind(e);
    e.parallel = (lists) => {
      calls++;
      orig(lists);
    };
    m.forward(x); // 2*4*4*4*16*24 flops, far below the default threshold
    expect(calls).toBe(0);
    e.parallelMinFlops = 0;
    m.forward(x);
    expect(calls).toBe(1);
    m.forward({ data: rnd(4 * 8, 1), shape: [4, 8] }); // unbatched: one row, never split
    m.forward({ data: rnd(4 * 2 * 8, 1), shape: [4, 2, 8] }); // B = 2: one row pair, never split
    expect(calls).toBe(1);
    const bi = new GRU({ inputSize: 8, hiddenSize: 16, numLayers: 2, bidirectional: true, seed: 1 });
    bi.forward({ data: rnd(4 * 2 * 8, 1), shape: [4, 2, 8] }); // B = 2, bidirectional: directions, one call a layer
    expect(calls).toBe(3);
    bi.dispose();
    m.forward(x, { train: true }); // training stays on the calling thread
    expect(calls).toBe(3);
    m.dispose();
  });

  it('rejects a non-finite Float32Array input in any sub-batch, split by batch or by direction', async () => {
    const e = await init({ simd: 'simd', threads: 2, force: true });
    e.parallelMinFlops = 0;
    const cases: [string, RecurrentLayer, number[]][] = [
      ['batch split', new LSTM({ inputSize: 8, hiddenSize: 16, seed: 1 }), [6, 5, 8]],
      ['batch split, batchFirst', new GRU({ inputSize: 8, hiddenSize: 16, batchFirst: true, seed: 1 }), [5, 6, 8]],
      ['directions split', new RNN({ inputSize: 8, hiddenSize: 16, bidirectional: true, seed: 1 }), [6, 2, 8]],
    ];
    for (const [what, m, shape] of cases) {
      const n = shape.reduce((p, q) => p * q, 1);
      const x = { data: rnd(n, 5), shape };
      const good = m.forward(x).output.data;
      for (const at of [0, 9, n >> 1, n - 1]) { // rows of the first and the last sub-batch
        const data = x.data.slice();
        data[at] = NaN;
        expect(() => m.forward({ data, shape }), `${what} at ${at}`)
          .toThrow(new RegExp(`^input: element ${at} is NaN; inputs must be finite`));
      }
      const again = m.forward(x).output.data;
      expect(again.every((v, i) => Object.is(v, good[i])), what).toBe(true);
      m.dispose();
    }
  });

  it('runs the odd, time-segmented sub-batch on the calling thread (no limit on its list)', async () => {
    const e = await init({ simd: 'simd', threads: 2, force: true });
    e.parallelMinFlops = 0;
    const seen: number[][] = [];
    const orig = e.parallel.bind(e);
    e.parallel = (lists) => {
      seen.push(lists.map((l) => l.length));
      orig(lists);
    };
    const c = cases.find((k) => k.name.startsWith('LSTM H256 B33'))!;
    run(c);
    expect(seen.length).toBe(1);
    expect(seen[0]![1]).toBe(2); // worker: one call per direction
    expect(seen[0]![0]).toBeGreaterThan(2); // here: the odd slice, in the whole batch's input-projection chunks
  });

  it('reports why it runs on one thread, without printing', async () => {
    const log = console.log;
    const warn = console.warn;
    const err = console.error;
    const printed: unknown[] = [];
    console.log = console.warn = console.error = (...a: unknown[]) => printed.push(a);
    try {
      const wasm = fileURLToPath(new URL('../build/rnn-simd.wasm', import.meta.url));
      const e = await init({ wasm, simd: 'simd', threads: 2, force: true });
      expect(e.threadingInfo().threads).toBe(1);
      expect(e.threadingInfo().reason).toMatch(/options\.wasm was given without options\.wasmThreads/);
      const mt = fileURLToPath(new URL('../build/rnn-simd-mt.wasm', import.meta.url));
      const e2 = await init({ wasm, wasmThreads: mt, simd: 'simd', threads: 2, force: true });
      expect(e2.threadingInfo()).toEqual({ threads: 2, sharedMemory: true });
      const e3 = await init({ simd: 'simd', threads: 2, wasmThreads: '/nonexistent/rnn-mt.wasm', force: true });
      expect(e3.threads).toBe(1);
      expect(e3.threadingInfo().reason).toMatch(/shared-memory build could not be loaded/);
    } finally {
      console.log = log;
      console.warn = warn;
      console.error = err;
    }
    expect(printed).toEqual([]);
    await expect(init({ threads: 0, force: true })).rejects.toBeInstanceOf(InitError);
    await expect(init({ threads: 1.5, force: true })).rejects.toThrow(/options\.threads/);
  });

  it('turns a trap in a worker into a WorkerError and stays usable', async () => {
    const e: Engine = await init({ simd: 'simd', threads: 2, force: true });
    const c = cases[0]!;
    e.parallelMinFlops = 0;
    const ref = run(c);
    const p = e.alloc(64);
    expect(() => e.parallel([[], [{ fn: 'zero_f32', args: [-64, 1 << 20] }]])).toThrow(WorkerError);
    try {
      e.parallel([[{ fn: 'zero_f32', args: [p, 16] }], [{ fn: 'zero_f32', args: [-64, 1 << 20] }]]);
    } catch (err) {
      expect(err).toBeInstanceOf(WorkerError);
      expect((err as WorkerError).code).toBe('WORKER');
      expect((err as Error).message).toMatch(/worker 1: .*out of bounds/);
    }
    expect(() => e.parallel([[], [{ fn: 'lstm_backward', args: [] }]])).toThrow(/cannot run in a worker/);
    e.release(p);
    expect(e.threads).toBe(2);
    expectIdentical(run(c), ref, 'after a worker error');
  });

  it('terminates workers, and re-init terminates the old engine\'s', async () => {
    const a = await init({ simd: 'simd', threads: 2, force: true });
    expect(a.threads).toBe(2);
    const b = await init({ simd: 'simd', threads: 2, force: true });
    expect(a.threads).toBe(1);
    expect(a.threadingInfo().reason).toMatch(/terminated/);
    expect(b.threads).toBe(2);
    b.parallelMinFlops = 0;
    const c = cases[1]!;
    const ref = run(c);
    const blocks = b.stats().blocks;
    b.terminateWorkers();
    b.terminateWorkers();
    expect(b.threadingInfo()).toEqual({ threads: 1, sharedMemory: true,
      reason: 'the worker threads were terminated (engine.terminateWorkers())' });
    expect(b.stats().blocks).toBe(blocks - 1); // the control block
    expectIdentical(run(c), ref, 'after terminateWorkers');
  });

  it("with threads: 'auto', init does not wait for the workers; threadsReady resolves when they run", async () => {
    const prev = process.env.RNN_WASM_THREADS;
    process.env.RNN_WASM_THREADS = '2'; // 'auto' as on a 2-core machine, whatever this one has
    try {
      const e = await init({ simd: 'simd', force: true });
      expect(e.threads).toBe(1);
      expect(e.threadingInfo().reason).toMatch(/starting/);
      const c = cases[1]!;
      const ref = run(c); // usable at once, on the calling thread
      const info = await e.threadsReady;
      expect(info).toEqual({ threads: 2, sharedMemory: true });
      e.parallelMinFlops = 0;
      expectIdentical(run(c), ref, 'once the workers run');
      // Terminated while starting: the pool that arrives later is stopped and its control block freed.
      const f = await init({ simd: 'simd', force: true });
      const blocks = f.stats().blocks;
      f.terminateWorkers();
      expect(await f.threadsReady).toEqual({ threads: 1, sharedMemory: true,
        reason: 'the worker threads were terminated (engine.terminateWorkers())' });
      expect(f.stats().blocks).toBe(blocks - 1);
      // A number waits.
      const g = await init({ simd: 'simd', threads: 2, force: true });
      expect(g.threads).toBe(2);
      expect(await g.threadsReady).toEqual({ threads: 2, sharedMemory: true });
    } finally {
      if (prev === undefined) delete process.env.RNN_WASM_THREADS;
      else process.env.RNN_WASM_THREADS = prev;
    }
  });

  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  it.skipIf(!existsSync(dist))('lets a Node process exit while its workers are idle', () => {
    const script = `import { init, LSTM } from ${JSON.stringify(dist)};
      const e = await init({ threads: 2, simd: 'simd' });
      e.parallelMinFlops = 0;
      const m = new LSTM({ inputSize: 4, hiddenSize: 8 });
      m.forward({ data: new Float32Array(3 * 4 * 4), shape: [3, 4, 4] });
      console.log(e.threads);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('2');
  });
});
