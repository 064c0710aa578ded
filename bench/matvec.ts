/**
 * bench/matvec: why batch 1 is slower per flop than batch 32. A batch-1 recurrent step is one matrix-vector
 * product per step with the packed W_hh (the library's gemm_forward with M = 1, as the kernels call it): every
 * weight is loaded once per multiply-add, so its speed is that of streaming the weights from wherever they sit.
 * This times it for weights in L1 (32 KiB), in L2 (1 MiB: LSTM H256's W_hh) and beyond (4 MiB: LSTM H512's),
 * and, on the same 1 MiB, the M = 32 product (batch 32: each weight load feeds 2 rows of a register tile, 16 rows
 * reuse a panel from L1). Each batch-1 case is timed twice: through the panels (gemm_forward with M = 1, the
 * path of a batch-1 step shorter than GEMV_MIN_T and of streaming sessions) and through the dot-product layout of
 * assembly/gemv.ts (gemv_forward, a batch-1 sequence of at least GEMV_MIN_T steps; its per-call repacking,
 * gemv_pack, is timed too), beside the read floor: the same bytes only read (bench/assembly/peak.ts' stream_read), the
 * least time a product of exact f32 weights can take. Rounds alternate the workloads (medians), so each case starts
 * with its data evicted by the previous one; GB/s counts the weight bytes read.
 *
 * Run after a build: `node bench/run.js --matvec-only` (or as part of `npm run bench`). Flags: --flavour
 * simd|relaxed (default: the engine's choice), --no-write. Writes bench/results/matvec.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { getEngine, init } from '../dist/index.js';
import { arg } from './workloads.js';
import { machine, ROOT, stats, table, writeJson } from './util.js';

const K = 256;

async function main(): Promise<void> {
  const flavour = arg('--flavour') as 'simd' | 'relaxed' | undefined;
  const e = await init({ simd: flavour ?? 'auto', threads: 1 });
  const k = e.k;
  const cases: { name: string; M: number; nP: number }[] = [
    { name: 'M=1, W in L1 (32 KiB)', M: 1, nP: 2 },
    { name: 'M=1, W in L2 (1 MiB, LSTM H256 W_hh)', M: 1, nP: 64 },
    { name: 'M=1, W past L2 (4 MiB, LSTM H512 W_hh)', M: 1, nP: 256 },
    { name: 'M=32, W 1 MiB (batch 32)', M: 32, nP: 64 },
  ];
  const blocks: number[] = [];
  // The read floor: bench/assembly/peak.ts' stream_read over the same bytes, in that module's own memory.
  const peakWasm = path.join(ROOT, 'bench', '.build', e.flavour === 'relaxed' ? 'peak-relaxed.wasm' : 'peak.wasm');
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(peakWasm));
  const px = instance.exports as { memory: WebAssembly.Memory; stream_read: (p: number, bytes: number) => number };
  const readBase = 65536;
  px.memory.grow(Math.ceil((readBase + Math.max(...cases.map((c) => c.nP * K * 64))) / 65536));
  new Float32Array(px.memory.buffer).fill(1e-3);
  let sink = 0;
  type Run = { c: { name: string; M: number; nP: number }; flops: number; reps: number; bytes: number; f: () => void;
    t: number[] };
  const runs: Run[] = [];
  for (const c of cases) {
    const A = e.alloc(c.M * K * 4), P = e.alloc(c.nP * K * 16 * 4), C = e.alloc(c.M * c.nP * 16 * 4);
    const D = e.alloc(c.nP * K * 16 * 4);
    blocks.push(A, P, C, D);
    const f = getEngine().f32();
    for (let i = 0; i < c.M * K; i++) f[A / 4 + i] = Math.sin(i);
    for (let i = 0; i < c.nP * K * 16; i++) f[P / 4 + i] = Math.cos(0.3 * i) * 0.1;
    const flops = 2 * c.M * K * c.nP * 16;
    const reps = Math.max(1, Math.round(4e6 / flops));
    const bytes = c.nP * K * 16 * 4;
    runs.push({ c, flops, reps, bytes, f: () => k.gemm_forward(C, c.nP * 16, A, K, P, 0, 0, c.M, K, c.nP, 16, 0),
      t: [] });
    if (c.M !== 1) continue;
    k.gemv_pack(D, P, K, c.nP, 16);
    runs.push({ c: { ...c, name: `${c.name}, dot layout` }, flops, reps, bytes,
      f: () => k.gemv_forward(C, 0, A, D, c.nP * 16, K, 0), t: [] });
    runs.push({ c: { ...c, name: `${c.name}, gemv_pack (per call)` }, flops: 0, reps, bytes,
      f: () => k.gemv_pack(D, P, K, c.nP, 16), t: [] });
    const readBytes = Math.floor(bytes / 96) * 96;
    runs.push({ c: { ...c, name: `${c.name}, read only (floor)` }, flops: 0, reps, bytes: readBytes,
      f: () => { sink += px.stream_read(readBase, readBytes); }, t: [] });
  }
  for (const r of runs) for (let i = 0; i < 3 * r.reps; i++) r.f();
  for (let round = 0; round < 40; round++) {
    for (const r of round % 2 ? runs : [...runs].reverse()) {
      const t0 = performance.now();
      for (let i = 0; i < r.reps; i++) r.f();
      r.t.push((performance.now() - t0) / r.reps);
    }
  }
  const rows = runs.map((r) => {
    const s = stats(r.t);
    return { name: r.c.name, M: r.c.M, weightBytes: r.bytes, usMedian: s.median * 1000, usMin: s.min * 1000,
      gflops: r.flops ? r.flops / s.median / 1e6 : null, gbps: r.bytes / s.median / 1e6 };
  });
  console.log(`\n== bench/matvec: the batch-1 recurrent product (panels: gemm_forward; dot layout: gemv_forward; K=${K}), ` +
    `${e.flavour} build, medians of 40 alternating rounds ==`);
  console.log(table(['workload', 'us (median)', 'GFLOP/s', 'weights GB/s'], rows.map((r) =>
    [r.name, r.usMedian.toFixed(2), r.gflops === null ? '-' : r.gflops.toFixed(1), r.gbps.toFixed(1)])));
  if (!Number.isFinite(sink)) throw new Error('stream_read returned a non-finite sum');
  for (const b of blocks) e.release(b);
  if (!process.argv.includes('--no-write')) {
    writeJson('matvec.json', { ...machine(), flavour: e.flavour, K, rows });
    console.log('wrote bench/results/matvec.json');
  }
}

await main();
