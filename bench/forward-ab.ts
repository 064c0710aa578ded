/**
 * bench/forward-ab: forward inference of two builds of the kernels loaded side by side in one process (two
 * engines: a model keeps the engine it was made on), alternating old and new every round (A B, B A, ...) so that
 * the shared machine's noise hits both alike. Workloads: bench/forward's 18 (LSTM, GRU, RNN-tanh; hidden 128, 256,
 * 512; batch 1 and 32; input 32, sequence 100, one layer). Before timing, max |old - new| of output and hN (and cN)
 * is recorded. GFLOP/s counts T*B*gates*2*H*(I+H); the fraction of peak is of bench/results/peak.json's figure
 * for the flavour.
 *
 * Run: `node bench/forward-ab.js [--old <dir>] [--new <dir>] [--flavour simd,relaxed] [--cells LSTM] [--hidden 256]
 * [--batch 32] [--rounds <n>] [--no-write]`. Defaults: --old /tmp/fwd-old (a copy of build/*.wasm from before the
 * change), --new build/, both flavours. Writes bench/results/forward-ab.json unless --no-write or filtered.
 */
import fs from 'node:fs';
import path from 'node:path';
import { init, type RecurrentLayer } from '../dist/index.js';
import { arg, I, listArg, makeModel, selectionFiltered, T, workloads } from './workloads.js';
import { fmt, machine, maxAbsDiff, randomData, RESULTS, ROOT, stats, writeJson } from './util.js';

const oldDir = arg('--old') ?? '/tmp/fwd-old';
const newDir = arg('--new') ?? path.join(ROOT, 'build');
const flavours = (listArg('--flavour') ?? ['simd', 'relaxed']) as ('simd' | 'relaxed')[];
const roundsArg = arg('--rounds');
const write = !process.argv.includes('--no-write') && !selectionFiltered;
const peakFile = JSON.parse(fs.readFileSync(path.join(RESULTS, 'peak.json'), 'utf8')) as Record<string, unknown>;
const peak = { date: peakFile.date, simd: peakFile.simd, relaxed: peakFile.relaxed } as Record<string, unknown>;

function time(f: () => void, into: number[]): void {
  const t0 = performance.now();
  f();
  into.push(performance.now() - t0);
}

const results: Record<string, unknown>[] = [];
for (const flavour of flavours) {
  const file = `rnn-${flavour}.wasm`;
  const peakG = (peak[flavour] as { gflops: number }).gflops;
  for (const w of workloads()) {
    await init({ wasm: path.join(oldDir, file), simd: flavour, threads: 1, force: true });
    const a: RecurrentLayer = makeModel(w.c.name, w.H);
    await init({ wasm: path.join(newDir, file), simd: flavour, threads: 1, force: true });
    const b: RecurrentLayer = makeModel(w.c.name, w.H);
    const x = { data: randomData(T * w.B * I, 7 + w.B), shape: [T, w.B, I] as [number, number, number] };
    const short = { data: x.data.subarray(0, 4 * w.B * I), shape: [4, w.B, I] as [number, number, number] };
    const ra = a.forward(x), rb = b.forward(x);
    let diff = Math.max(maxAbsDiff(ra.output.data, rb.output.data), maxAbsDiff(ra.hN.data, rb.hN.data));
    if (ra.cN && rb.cN) diff = Math.max(diff, maxAbsDiff(ra.cN.data, rb.cN.data));
    for (let i = 0; i < 6; i++) { a.forward(short); b.forward(short); }
    for (let i = 0; i < 3; i++) { a.forward(x); b.forward(x); }
    const rounds = roundsArg ? Number(roundsArg) : w.B === 1 ? 40 : 16;
    const ta: number[] = [], tb: number[] = [];
    for (let i = 0; i < rounds; i++) {
      if (i & 1) { time(() => b.forward(x), tb); time(() => a.forward(x), ta); }
      else { time(() => a.forward(x), ta); time(() => b.forward(x), tb); }
    }
    a.dispose(); b.dispose();
    const so = stats(ta), sn = stats(tb);
    // Ratio of each back-to-back pair, then the median: drifts less than the ratio of medians under load.
    const paired = stats(ta.map((v, i) => v / tb[i]!)).median;
    const flops = T * w.B * w.c.gates * 2 * w.H * (I + w.H);
    const gf = (ms: number): number => flops / ms / 1e6;
    const r = {
      flavour, cell: w.c.name, hidden: w.H, batch: w.B,
      old: { ...so, gflops: gf(so.median), ofPeak: gf(so.median) / peakG },
      new: { ...sn, gflops: gf(sn.median), ofPeak: gf(sn.median) / peakG },
      speedup: so.median / sn.median, pairedSpeedup: paired, maxAbsDiff: diff, rounds,
    };
    results.push(r);
    console.log(`${flavour} ${w.label}: ${fmt(so.median, 3)} -> ${fmt(sn.median, 3)} ms (${fmt(r.speedup, 3)}x, paired ${fmt(paired, 3)}x); ` +
      `${fmt(r.old.gflops, 1)} -> ${fmt(r.new.gflops, 1)} GFLOP/s, ${fmt(100 * r.old.ofPeak, 1)}% -> ` +
      `${fmt(100 * r.new.ofPeak, 1)}% of peak ${peakG}; min ${fmt(so.min, 3)} -> ${fmt(sn.min, 3)} ms; ` +
      `max|old-new| ${diff.toExponential(2)}`);
  }
}
if (write) {
  const f = writeJson('forward-ab.json', { machine: machine(), old: oldDir, new: newDir, peak, results });
  console.log(`wrote ${f}`);
}
