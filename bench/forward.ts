/**
 * bench/forward: ms per call and GFLOP/s of LSTM, GRU and RNN-tanh forward over whole sequences, against the plain
 * TypeScript implementation of plain.ts timed in the same run, and as a fraction of the measured SIMD peak.
 * FLOPs = T * B * gates * 2 * H * (I + H). Writes bench/results/forward.json (forward-relaxed.json for the
 * relaxed-SIMD build).
 *
 * Flags: --flavour simd|relaxed (relaxed needs node --experimental-wasm-relaxed-simd), --cells LSTM,GRU,RNN,
 * --hidden 128,256,512, --batch 1,32, --no-plain, --plain-budget <ms> (time per workload for the baseline).
 * A filtered run prints its table but does not overwrite the results file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { init, type Tensor } from '../dist/index.js';
import { plainForward, type PlainWeights } from './plain.js';
import { hasRelaxedSimd, makeProbe, measurePeak, round, type Flavour } from './peak-lib.js';
import { arg, I, makeModel, selectionFiltered, T, withPlain, workloads } from './workloads.js';
import { fmt, machine, maxAbsDiff, randomData, RESULTS, ROOT, stats, table, timing, writeJson } from './util.js';

const TOL = 1e-4;


const flavour = (arg('--flavour') ?? 'simd') as Flavour;
const plainBudget = Number(arg('--plain-budget') ?? 4000);
const oursBudget = Number(arg('--ours-budget') ?? 1500);
const filtered = selectionFiltered;



async function peakFor(fl: Flavour): Promise<{ gflops: number; source: string }> {
  const file = path.join(RESULTS, 'peak.json');
  const run = process.env.RNN_BENCH_RUN;
  if (run && fs.existsSync(file)) {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      runId?: string; simd?: { gflops: number }; relaxed?: { gflops: number } | null;
    };
    const g = fl === 'simd' ? p.simd?.gflops : p.relaxed?.gflops;
    if (p.runId === run && g) return { gflops: g, source: 'bench/results/peak.json (same run)' };
  }
  const wasm = path.join(ROOT, 'bench', '.build', fl === 'simd' ? 'peak.wasm' : 'peak-relaxed.wasm');
  const r = await measurePeak(wasm, fl);
  return { gflops: r.gflops, source: `measured in this process (${r.best})` };
}

async function main(): Promise<void> {
  if (flavour === 'relaxed' && !hasRelaxedSimd()) {
    throw new Error('--flavour relaxed needs a runtime with relaxed SIMD (node --experimental-wasm-relaxed-simd)');
  }
  const wasmFile = path.join(ROOT, 'build', `rnn-${flavour}.wasm`);
  const engine = await init({ wasm: wasmFile, simd: flavour, threads: 1 });
  const peak = await peakFor(flavour);
  const probe = await makeProbe(path.join(ROOT, 'bench', '.build', flavour === 'simd' ? 'peak.wasm'
    : 'peak-relaxed.wasm'));
  console.log(`\n== bench/forward: T=${T}, I=${I}, one layer, unidirectional; wasm flavour '${engine.flavour}'; ` +
    `peak ${peak.gflops.toFixed(1)} GFLOP/s ==`);

  const results: Record<string, unknown>[] = [];
  const rows: (string | number)[][] = [];
  let failures = 0;
  for (const { c, H, B, label } of workloads()) {
    const flops = T * B * c.gates * 2 * H * (I + H);
    const model = makeModel(c.name, H);
    const sd = model.stateDict();
    const w: PlainWeights = {
      weight_ih: sd.weight_ih_l0!.data, weight_hh: sd.weight_hh_l0!.data,
      bias_ih: sd.bias_ih_l0!.data, bias_hh: sd.bias_hh_l0!.data,
    };
    const x = { data: randomData(T * B * I, 7 + H + B), shape: [T, B, I] };
    const xShort = { data: x.data.subarray(0, 4 * B * I), shape: [4, B, I] };

    // 1. Warm-up with short calls (V8 tiers wasm up on a later call, not inside a long one; the baseline's
    //    loops get optimised on the spot), then check that ours and plain agree on output, hN (and cN).
    for (let i = 0; i < 6; i++) model.forward(xShort);
    if (withPlain) for (let i = 0; i < 3; i++) plainForward(c.mode, w, xShort.data, 4, B, I, H);
    const ours = model.forward(x);
    let t0: number;
    let diff = NaN;
    const tPlain: number[] = [];
    if (withPlain) {
      t0 = performance.now();
      const ref = plainForward(c.mode, w, x.data, T, B, I, H);
      tPlain.push(performance.now() - t0); // warm by now: counts as the baseline's first timed run
      diff = Math.max(maxAbsDiff(ours.output.data, ref.output), maxAbsDiff(ours.hN.data, ref.hN),
        ref.cN ? maxAbsDiff((ours.cN as Tensor).data, ref.cN) : 0);
      if (!(diff <= TOL)) {
        failures++;
        console.error(`CHECK FAILED ${label}: max abs diff ${diff} > ${TOL}; not timed`);
        results.push({ cell: c.name, hidden: H, batch: B, flops, check: { maxAbsDiff: diff, ok: false } });
        model.dispose();
        continue;
      }
    }

    // 2. Two more full calls of ours, untimed; sizes of the timed loops from the calls so far.
    let est = Infinity;
    for (let i = 0; i < 2; i++) {
      t0 = performance.now();
      model.forward(x);
      est = Math.min(est, performance.now() - t0);
    }
    const plainRuns = withPlain ? Math.max(3, Math.min(10, Math.floor(plainBudget / tPlain[0]!))) : 0;
    const oursRuns = Math.max(10, Math.min(400, Math.ceil(oursBudget / est)));

    // 3. Time, interleaving the baseline's runs evenly among ours.
    const tOurs: number[] = [];
    const local: number[] = [];
    let sink = 0;
    for (let i = 0; i < oursRuns; i++) {
      t0 = performance.now();
      const r = model.forward(x);
      tOurs.push(performance.now() - t0);
      sink += r.hN.data[0]!;
      local.push(probe());
      if (withPlain && Math.floor(((i + 1) * plainRuns) / oursRuns) > tPlain.length) {
        t0 = performance.now();
        const p = plainForward(c.mode, w, x.data, T, B, I, H);
        tPlain.push(performance.now() - t0);
        sink += p.hN[0]!;
      }
    }
    if (!Number.isFinite(sink)) throw new Error('non-finite results');
    model.dispose();

    const o = timing(stats(tOurs), flops);
    const p = withPlain ? timing(stats(tPlain), flops) : undefined;
    const fraction = o.gflops / peak.gflops;
    const localPeak = stats(local).median;
    const fractionLocal = o.gflops / localPeak;
    const speedup = p ? p.median / o.median : NaN;
    results.push({
      cell: c.name, hidden: H, batch: B, flops,
      check: { maxAbsDiff: withPlain ? diff : null, tolerance: TOL, ok: withPlain ? true : null },
      ours: { ...o, fractionOfPeak: round(fraction, 4), localPeakGflops: round(localPeak, 2),
        fractionOfLocalPeak: round(fractionLocal, 4) },
      plain: p ?? null,
      speedup: p ? round(speedup, 2) : null,
    });
    rows.push([label, fmt(o.median, 3), fmt(o.gflops, 2), `${(100 * fraction).toFixed(1)}%`,
      `${(100 * fractionLocal).toFixed(1)}%`,
      p ? fmt(p.median, 3) : '-', p ? fmt(p.gflops, 2) : '-', p ? `${speedup.toFixed(1)}x` : '-',
      `${o.runs}/${p?.runs ?? 0}`, withPlain ? diff.toExponential(1) : '-']);
    console.log(`  ${label}: ${o.median.toFixed(3)} ms, ${o.gflops.toFixed(2)} GFLOP/s` +
      (p ? `; plain ${p.median.toFixed(2)} ms (${speedup.toFixed(1)}x)` : ''));
  }
  console.log();
  console.log(table(['workload', 'ms ours', 'GFLOP/s', '% peak', '% local', 'ms plain', 'GFLOP/s plain',
    'speed-up', 'runs', 'max|diff|'], rows));
  console.log(`% peak: of the ${peak.gflops.toFixed(1)} GFLOP/s of bench/peak; % local: of a 1 ms peak probe run after ` +
    'each timed call (median), which\ntracks slowdowns caused by other processes on the machine; runs: ours/plain.');

  // Targets of the engine issue.
  const targets: { what: string; value: number; goal: number; ok: boolean; local?: number }[] = [];
  for (const r of results as { cell: string; hidden: number; batch: number; speedup: number | null;
    ours?: { fractionOfPeak: number; fractionOfLocalPeak: number } }[]) {
    if (!r.ours) continue;
    if (r.hidden === 256 && r.speedup !== null) {
      const goal = r.batch === 1 ? 15 : 25;
      targets.push({ what: `${r.cell} H256 B${r.batch} speed-up vs plain`, value: r.speedup, goal,
        ok: r.speedup >= goal });
    }
    if (r.batch === 32) {
      targets.push({ what: `${r.cell} H${r.hidden} B32 fraction of peak`, value: r.ours.fractionOfPeak, goal: 0.6,
        ok: r.ours.fractionOfPeak >= 0.6, local: r.ours.fractionOfLocalPeak });
    }
  }
  if (targets.length) {
    console.log('\ntargets (hidden 256: >= 15x plain at B1, >= 25x at B32; B32: >= 60% of peak)');
    for (const t of targets) {
      const v = t.local !== undefined
        ? `${(100 * t.value).toFixed(1)}% (goal ${100 * t.goal}%; ${(100 * t.local).toFixed(1)}% of the local peak)`
        : `${t.value.toFixed(1)}x (goal ${t.goal}x)`;
      console.log(`  ${t.ok ? 'ok  ' : 'MISS'} ${t.what}: ${v}`);
    }
  }
  const out = {
    ...machine(),
    runId: process.env.RNN_BENCH_RUN ?? null,
    flavour: engine.flavour,
    peak,
    config: { T, I, layers: 1, bidirectional: false, flops: 'T*B*gates*2*H*(I+H)', tolerance: TOL,
      timing: 'median; ours: >= 10 runs after 6 short (T=4) and 3 full untimed calls; baseline: 3 short warm-up ' +
        'calls, then its checked call counts as run 1, the rest interleaved with ours' },
    workloads: results,
    targets,
  };
  if (!filtered) {
    const file = writeJson(flavour === 'simd' ? 'forward.json' : `forward-${flavour}.json`, out);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } else {
    console.log('(filtered run: results file not written)');
  }
  if (failures) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
