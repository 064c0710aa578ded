/**
 * bench/peak: the machine's WebAssembly SIMD multiply-add peak on one core (f32x4 mul + add; and relaxed_madd
 * in a child process started with --experimental-wasm-relaxed-simd when this runtime lacks relaxed SIMD).
 * Writes bench/results/peak.json unless --no-write. --relaxed-child (internal): measure relaxed only, print JSON.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasRelaxedSimd, measurePeak, type PeakResult } from './peak-lib.js';
import { machine, ROOT, table, writeJson } from './util.js';

const BUILD = path.join(ROOT, 'bench', '.build');
const self = fileURLToPath(import.meta.url);

async function main(): Promise<void> {
  if (process.argv.includes('--relaxed-child')) {
    const r = await measurePeak(path.join(BUILD, 'peak-relaxed.wasm'), 'relaxed');
    process.stdout.write(JSON.stringify(r));
    return;
  }
  const simd = await measurePeak(path.join(BUILD, 'peak.wasm'), 'simd');
  let relaxed: PeakResult | null = null;
  let relaxedNote = '';
  if (hasRelaxedSimd()) {
    relaxed = await measurePeak(path.join(BUILD, 'peak-relaxed.wasm'), 'relaxed');
  } else {
    const child = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', self, '--relaxed-child'],
      { encoding: 'utf8' });
    if (child.status === 0) {
      relaxed = JSON.parse(child.stdout) as PeakResult;
      relaxedNote = 'measured in a child process started with --experimental-wasm-relaxed-simd';
    } else {
      relaxedNote = `not measured: ${child.stderr.trim().split('\n')[0] ?? 'child failed'}`;
    }
  }
  const rows = [simd, ...(relaxed ? [relaxed] : [])].flatMap((r) =>
    r.variants.map((v) => [
      `${r.flavour === 'simd' ? 'f32x4 mul+add' : 'relaxed_madd'} / ${v.name}`, v.msMin.toFixed(2),
      v.gflops.toFixed(1), v.gflopsMedian.toFixed(1),
      v.name === r.best ? '<- peak' : v.name === r.tile.best ? '<- tile ceiling' : v.probe ? '(probe)' : '',
    ]));
  console.log('\n== bench/peak: WebAssembly SIMD multiply-add peak, one core (8 flops per f32x4 multiply-add) ==');
  console.log(table(['kernel', 'ms (best)', 'GFLOP/s (best)', 'GFLOP/s (median)', ''], rows));
  console.log(`peak: ${simd.gflops.toFixed(1)} GFLOP/s (f32x4 mul+add)` +
    (relaxed ? `, ${relaxed.gflops.toFixed(1)} GFLOP/s (relaxed_madd)` : ''));
  const ceil = (r: PeakResult): string => `${r.tile.gflops.toFixed(1)} GFLOP/s (${r.tile.best}, ` +
    `${(100 * r.tile.fractionOfPeak).toFixed(0)}% of the peak)`;
  console.log(`tile ceiling (the kernels' register tiles alone, panel in L1): ${ceil(simd)} plain` +
    (relaxed ? `, ${ceil(relaxed)} relaxed` : ''));
  const record = {
    ...machine(),
    runId: process.env.RNN_BENCH_RUN ?? null,
    flopsPerMaddF32x4: 8,
    simd,
    relaxed,
    relaxedNote: relaxedNote || undefined,
  };
  if (process.argv.includes('--no-write')) {
    console.log('(results file not written)');
    return;
  }
  const file = writeJson('peak.json', record);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
