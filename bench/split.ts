/**
 * bench/split (run with `npm run bench -- --profile`, or `node bench/run.js --profile`): where the time of a
 * forward pass goes, at hidden 256 batch 32 (and batch 1), for each cell:
 *  - API: model.forward() as users call it (validation, copy in, kernel, copy out);
 *  - kernel: the cell's *_forward export called directly on buffers of our own, with the flags model.forward
 *    passes (batch 1: the dot-product path, its layout kept in a block of its own between calls);
 *  - repack (batch 1): the same kernel told to repack that layout on every call, as before the layout was kept,
 *    minus kernel: what keeping it saves per call;
 *  - gemm: gemm_forward alone, called exactly as the kernel calls it (input projection, time chunk by chunk);
 *  - steps = kernel - gemm (the recurrent steps with their fused gate math and state copies).
 * With --profile-loop <cell> it only runs that cell's B=32 forward for 3 s on a copy of the kernels built with a
 * name section (bench/.build/rnn-simd-named.wasm), for node --cpu-prof; profile-report.ts reads the profile.
 */
import fs from 'node:fs';
import path from 'node:path';
import { getEngine, GRU, init, LSTM, RNN, type Engine, type RecurrentLayer } from '../dist/index.js';
import { randomData, ROOT, stats, table } from './util.js';

const T = 100;
const I = 32;
const H = 256;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Geometry { G: number; U: number; NR: number; nP: number; Np: number; ldh: number }

function geometry(cell: string): Geometry {
  const G = cell === 'LSTM' ? 4 : cell === 'GRU' ? 3 : 1;
  const U = cell === 'RNN' ? 16 : 4;
  const NR = cell === 'GRU' ? 12 : 16;
  const nP = Math.ceil(H / U);
  const Np = nP * NR;
  return { G, U, NR, nP, Np, ldh: cell === 'RNN' ? Np : nP * 4 };
}

/**
 * Allocates, packs random weights and returns closures for the kernel (as model.forward calls it), the kernel
 * repacking the batch-1 layout every call, and its GEMM part.
 */
function kernels(e: Engine, cell: string, B: number): { kernel: () => void; repack: () => void; gemm: () => void;
  free: () => void } {
  const g = geometry(cell);
  const k = e.k;
  const blocks: number[] = [];
  const alloc = (floats: number): number => {
    const p = e.alloc(Math.max(64, floats * 4));
    blocks.push(p);
    return p;
  };
  const stage = alloc(g.G * H * Math.max(I, H));
  const packed = (K: number, seed: number): number => {
    const dst = alloc(g.nP * K * g.NR);
    e.f32().set(randomData(g.G * H * K, seed).map((v) => v * 0.06), stage / 4);
    k.pack_forward(dst, stage, g.G, H, K, g.U, g.NR);
    return dst;
  };
  const Wih = packed(I, 1), Whh = packed(H, 2), bih = packed(1, 3), bhh = packed(1, 4);
  const x = alloc(T * B * I);
  e.f32().set(randomData(T * B * I, 5), x / 4);
  const out = alloc(T * B * H);
  const hN = alloc(B * H);
  const cN = alloc(B * H);
  // model.forward's inference flags: the batch-1 path allowed, its layout in a block of its own (FWD_DOT_EXT).
  const ext = e.constant('FWD_GEMV') | e.constant('FWD_DOT_EXT');
  const scratchBytes = cell === 'LSTM' ? k.lstm_scratch_bytes(T, B, H, 0, ext)
    : cell === 'GRU' ? k.gru_scratch_bytes(T, B, H, ext) : k.rnn_scratch_bytes(T, B, H, ext);
  const scratch = alloc(scratchBytes / 4);
  const dotBytes = cell === 'LSTM' ? k.lstm_dot_bytes(T, B, H, 0)
    : cell === 'GRU' ? k.gru_dot_bytes(T, B, H, 0) : k.rnn_dot_bytes(T, B, H);
  const dot = dotBytes ? alloc(dotBytes / 4) : 0;
  const tanh = (k.ACT_TANH as WebAssembly.Global).value as number;
  const call = (flags: number): void => {
    if (cell === 'LSTM') {
      k.lstm_forward(out, H, hN, cN, x, I, 0, 0, Wih, Whh, bih, bhh, 0, 0, scratch, dot, T, B, I, H, 0, 0, flags);
    } else if (cell === 'GRU') {
      k.gru_forward(out, H, hN, x, I, 0, Wih, Whh, bih, bhh, 0, scratch, dot, T, B, I, H, 0, flags, 0);
    } else {
      k.rnn_forward(out, H, hN, x, I, 0, Wih, Whh, bih, bhh, 0, scratch, dot, T, B, I, H, tanh, 0, flags);
    }
  };
  call(ext); // packs the layout once, as a model's first batch-1 forward does
  const kernel = (): void => call(ext | e.constant('FWD_DOT_VALID'));
  const repack = (): void => call(ext);
  // Same chunking as seq.ts chunkSteps (CHUNK_FLOATS floats of input projection at once).
  const chunk = Math.min(T, Math.max(1, Math.floor(e.constant('CHUNK_FLOATS') / (B * g.Np))));
  const gemm = (): void => {
    for (let done = 0; done < T; done += chunk) {
      const n = Math.min(chunk, T - done);
      k.gemm_forward(scratch, g.Np, x + done * B * I * 4, I, Wih, bih, cell === 'GRU' ? 0 : bhh, n * B, I, g.nP,
        g.NR, 0);
    }
  };
  return { kernel, repack, gemm, free: () => blocks.forEach((b) => e.release(b)) };
}

function median(f: () => void, runs: number): number {
  for (let i = 0; i < 3; i++) f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return stats(t).median;
}

/** Medians of a and b timed alternately (order swapped each round), and the median of b / a per round. */
function paired(a: () => void, b: () => void, runs: number): { a: number; b: number; ratio: number } {
  for (let i = 0; i < 3; i++) { a(); b(); }
  const ta: number[] = [], tb: number[] = [], r: number[] = [];
  const time = (f: () => void): number => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  };
  for (let i = 0; i < runs; i++) {
    const [x, y] = i % 2 ? [time(a), time(b)] : (() => { const v = time(b); return [time(a), v]; })();
    ta.push(x);
    tb.push(y);
    r.push(y / x);
  }
  return { a: stats(ta).median, b: stats(tb).median, ratio: stats(r).median };
}

function makeModel(cell: string, B: number): { model: RecurrentLayer; x: { data: Float32Array; shape: number[] } } {
  const o = { inputSize: I, hiddenSize: H, seed: 1 };
  const model = cell === 'LSTM' ? new LSTM(o) : cell === 'GRU' ? new GRU(o) : new RNN(o);
  return { model, x: { data: randomData(T * B * I, 9), shape: [T, B, I] } };
}

async function main(): Promise<void> {
  const loop = arg('--profile-loop');
  const named = path.join(ROOT, 'bench', '.build', 'rnn-simd-named.wasm');
  await init({ wasm: loop && fs.existsSync(named) ? named : path.join(ROOT, 'build', 'rnn-simd.wasm'),
    simd: 'simd' });
  if (loop) {
    // Only the B=32 forward of one cell, for the profiler (run under --cpu-prof; see profile-report.ts).
    const { model, x } = makeModel(loop, 32);
    const xs = { data: x.data.subarray(0, 4 * 32 * I), shape: [4, 32, I] };
    for (let i = 0; i < 6; i++) model.forward(xs);
    const t0 = performance.now();
    while (performance.now() - t0 < 3000) model.forward(x);
    model.dispose();
    return;
  }
  const e = getEngine();
  const rows: (string | number)[][] = [];
  for (const cell of ['LSTM', 'GRU', 'RNN']) {
    for (const B of [1, 32]) {
      const { model, x } = makeModel(cell, B);
      const xs = { data: x.data.subarray(0, 4 * B * I), shape: [4, B, I] };
      for (let i = 0; i < 6; i++) model.forward(xs);
      const runs = B === 1 ? 100 : 20;
      const api = median(() => model.forward(x), runs);
      const ks = kernels(e, cell, B);
      const pair = B === 1 ? paired(ks.kernel, ks.repack, runs) : undefined;
      const kernel = pair ? pair.a : median(ks.kernel, runs);
      const gemm = median(ks.gemm, runs);
      ks.free();
      model.dispose();
      const steps = kernel - gemm;
      const flopsGemm = T * B * geometry(cell).G * 2 * H * I;
      const flopsStep = T * B * geometry(cell).G * 2 * H * H;
      rows.push([`${cell} H${H} B${B}`, api.toFixed(3), kernel.toFixed(3),
        `${gemm.toFixed(3)} (${((100 * gemm) / kernel).toFixed(0)}%)`,
        `${steps.toFixed(3)} (${((100 * steps) / kernel).toFixed(0)}%)`,
        pair ? `${pair.b.toFixed(3)} (${pair.ratio.toFixed(3)}x)` : '-',
        (flopsGemm / gemm / 1e6).toFixed(1), (flopsStep / steps / 1e6).toFixed(1),
        (api - kernel).toFixed(3)]);
    }
  }
  console.log(`\n== bench/split: T=${T}, I=${I}, H=${H}; medians in ms ==`);
  console.log(table(['workload', 'api', 'kernel', 'gemm (input proj.)', 'steps', 'repacking (/ kernel)',
    'GFLOP/s gemm', 'GFLOP/s steps', 'api - kernel'], rows));
  console.log('api: model.forward(); kernel: the *_forward export alone, flags as model.forward passes them; gemm: ' +
    'gemm_forward alone as the kernel calls it;\nsteps = kernel - gemm; repacking: the batch-1 kernel repacking ' +
    "W_hh's dot-product layout every call, timed alternately with kernel\n(the median of the rounds' ratios); " +
    'GFLOP/s gemm counts T*B*G*2*H*I, steps T*B*G*2*H*H.');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
