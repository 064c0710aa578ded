// Prints the README's performance tables (markdown) from a bench/peers result file: forward, the batch-32
// fraction of peak, the batch-1 read floor, training, streaming, cold start, and the targets missed.
// Usage: node bench/readme-tables.js [file] (default bench/results/peers.json). It only formats what the run recorded; it times nothing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = process.argv[2] ?? path.join(root, 'bench', 'results', 'peers.json');
const d = JSON.parse(fs.readFileSync(file, 'utf8'));

/** Significant figures as the README writes them: 3 below 10, fewer digits above. */
const ms = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const x = (p) => (p && !p.skipped && p.speedup != null ? `${p.speedup.toFixed(2)}x` : p?.skipped ? 'not timed' : '-');
const cell = (p) => (!p ? '-' : p.skipped ? (p.skipped === 'not installed' ? 'not installed' : `(${p.skipped})`)
  : `${ms(p.timing.median)} (${x(p)})`);
const label = (r) => `${r.cell ?? 'LSTM'} H${r.hidden} B${r.batch}`;
const row = (cells) => `| ${cells.join(' | ')} |`;

console.log(`run: ${d.date} (${d.durationS} s), ${d.cpu}, ${d.cores} cores, node ${d.node} (V8 ${d.v8}), ours ` +
  `${d.flavour}; ${Object.entries(d.versions).filter(([k]) => k !== 'torchBlas').map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`torch BLAS: ${d.versions.torchBlas ?? '-'}\n`);

const peers = ['ort-web', 'ort-node', 'torch', 'tfjs'];
console.log(row(['workload', 'ours ms (GFLOP/s)', 'onnxruntime-web', 'onnxruntime-node', 'PyTorch', 'tfjs wasm']));
console.log(row(['---', '---:', '---:', '---:', '---:', '---:']));
for (const r of d.forward) {
  console.log(row([label(r), `${ms(r.ours.median)} (${r.ours.gflops.toFixed(0)})`, ...peers.map((p) => cell(r.peers[p]))]));
}
const diffs = d.forward.flatMap((r) => Object.values(r.peers).map((p) => p.check?.maxAbsDiff ?? 0));
console.log(`\nforward max |diff| over every peer and workload: ${Math.max(...diffs).toExponential(1)}\n`);

const fp = d.forward.filter((r) => r.fractionOfPeak != null);
if (fp.length && d.peak) {
  console.log(`batch 32 vs the ${d.peak.flavour} peak of this run (${d.peak.runs.map((p) => `${p.gflops.toFixed(1)} ` +
    `${p.when}`).join(', ')}; the higher counts) and its tile ceiling (${d.peak.runs.map((p) =>
    `${p.tile.gflops.toFixed(1)} ${p.tile.best}`).join(', ')}):\n`);
  const pc = (v) => (v == null ? '-' : `${(100 * v).toFixed(0)}%`);
  console.log(row(['batch-32 workload', 'ours GFLOP/s', 'of peak', 'of tile ceiling', 'alternating: peak GFLOP/s',
    'of it', 'tile GFLOP/s', 'of it']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const r of fp) {
    console.log(row([label(r), r.ours.gflops.toFixed(1), pc(r.fractionOfPeak), pc(r.fractionOfTile),
      r.local ? r.local.peakGflops.toFixed(1) : '-', pc(r.local?.fractionOfPeak),
      r.local ? r.local.tileGflops.toFixed(1) : '-', pc(r.local?.fractionOfTile)]));
  }
  console.log('');
}

const fl = d.forward.filter((r) => r.floor);
if (fl.length) {
  console.log(row(['batch-1 workload', 'W_hh bytes', 'read floor ms (GB/s)', 'ours / floor',
    '1.5x onnxruntime-web asks ms', 'asks / floor']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:']));
  for (const r of fl) {
    const f = r.floor;
    console.log(row([label(r), `${(f.wHhBytes / 2 ** 20).toFixed(2)} MiB`, `${f.ms.median.toFixed(3)} (${f.gbps.toFixed(0)})`,
      `${f.oursOverFloor.toFixed(2)}x`, f.goalMs ? f.goalMs.toFixed(3) : '-',
      f.goalMs ? `${(f.goalMs / f.ms.median).toFixed(2)}x` : '-']));
  }
  console.log('');
}

if (d.training?.length) {
  console.log(row(['training step', 'ours ms (GFLOP/s)', 'PyTorch', 'tfjs wasm']));
  console.log(row(['---', '---:', '---:', '---:']));
  for (const r of d.training) {
    console.log(row([label(r), `${ms(r.ours.median)} (${r.ours.gflops.toFixed(0)})`, cell(r.peers.torch), cell(r.peers.tfjs)]));
  }
  const worst = Math.max(...d.training.map((r) => r.check?.worst ?? 0));
  console.log(`\ntraining check vs PyTorch, worst relative: ${worst.toExponential(1)}\n`);
}

if (d.streaming?.length) {
  const sp = ['ort-web', 'ort-node', 'torch'];
  console.log(row(['streaming, µs per step', 'ours step', 'overhead', 'step out', 'overhead', 'kernel alone',
    'onnxruntime-web', 'onnxruntime-node', 'PyTorch']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const r of d.streaming) {
    const us = (p) => (!p ? '-' : p.skipped ? p.skipped : `${(1000 * p.timing.median).toFixed(1)} (${x(p)})`);
    const out = r.outUs === undefined ? ['-', '-'] : [r.outUs.toFixed(1), r.overheadOutUs.toFixed(2)];
    console.log(row([`LSTM H${r.hidden} B${r.batch}`, (1000 * r.ours.median).toFixed(1), r.overheadUs.toFixed(2), ...out,
      (1000 * r.kernel.median).toFixed(1), ...sp.map((p) => us(r.peers[p]))]));
  }
  console.log('');
}

const c = d.coldStart ?? {};
if (c.ours) {
  const ph = c.ours.phases;
  console.log(`cold start: ours ${c.ours.afterImport.median.toFixed(1)} ms after import (init ${ph.init}, new ${ph.construct}, ` +
    `load ${ph.load}, first forward ${ph.run}; ${c.ours.total.median.toFixed(0)} ms from process start, import ` +
    `${ph.import.toFixed(0)})`);
  for (const n of ['ort-web', 'ort-node']) {
    if (c[n]) console.log(`  ${n} ${c[n].afterImport.median.toFixed(0)} ms after import (session ${c[n].phases.session})`);
  }
  console.log('');
}

const t = d.targets ?? [];
const miss = t.filter((q) => !q.ok);
console.log(`targets: ${t.length - miss.length} of ${t.length} met; missed:`);
const val = (q) => (q.value === null ? 'not measured' : q.goal.includes('%') ? `${(100 * q.value).toFixed(0)}%`
  : q.value.toFixed(2));
for (const q of miss) console.log(`  ${q.what}: ${val(q)} (goal ${q.goal})`);
