/**
 * bench/threads: forward inference on 1 thread vs 2 threads, alternately in one process, on one engine (the
 * shared-memory build; 1 thread = splitting turned off with `engine.parallelMinFlops = Infinity`, which runs
 * the very same kernels on the calling thread). LSTM, GRU and RNN-tanh at batch 32, hidden 512 and 256,
 * sequence 100, input 32, one layer. Checks that both give bit-for-bit the same output, hN and cN, prints the
 * speed-up and the issue's target (>= 1.7x at B32 H512), measures the cost of one dispatch to the workers, and
 * writes bench/results/threads.json.
 *
 * Flags: --flavour simd|relaxed, --cells LSTM,GRU,RNN, --hidden 256,512, --budget <ms per workload and mode>.
 * A filtered run prints its table but does not overwrite the results file.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { init, type ForwardResult } from '../dist/index.js';
import type { Flavour } from './peak-lib.js';
import { arg, CELLS, I, listArg, makeModel, T } from './workloads.js';
import { fmt, machine, randomData, stats, table, writeJson } from './util.js';

const B = 32;
const flavour = (arg('--flavour') ?? 'simd') as Flavour;
const budget = Number(arg('--budget') ?? 2500);
const cellsSel = listArg('--cells')?.map((s) => s.toUpperCase());
const hiddenSel = listArg('--hidden')?.map(Number);
const filtered = !!(cellsSel || hiddenSel);
const GOAL = 1.7;

/**
 * CPU time (ms) of every thread of this process, from /proc/self/task/<tid>/stat (Linux; utime + stime in clock
 * ticks, taken as 100 Hz), or undefined elsewhere.
 */
function threadCpu(): Map<string, number> | undefined {
  try {
    const m = new Map<string, number>();
    for (const t of fs.readdirSync('/proc/self/task')) {
      const f = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const p = f.slice(f.lastIndexOf(')') + 2).split(' ');
      m.set(t, (Number(p[11]) + Number(p[12])) * 10);
    }
    return m;
  } catch {
    return undefined;
  }
}

/** Total CPU time between two snapshots, and that of the busiest thread. */
function cpuDelta(a: Map<string, number> | undefined, b: Map<string, number> | undefined):
  { total: number; busiest: number } {
  if (!a || !b) return { total: NaN, busiest: NaN };
  let total = 0;
  let busiest = 0;
  for (const [t, v] of b) {
    const d = v - (a.get(t) ?? 0);
    total += d;
    busiest = Math.max(busiest, d);
  }
  return { total, busiest };
}

function identical(a: ForwardResult, b: ForwardResult): boolean {
  for (const k of ['output', 'hN', 'cN'] as const) {
    const x = a[k]?.data;
    const y = b[k]?.data;
    if (!x || !y) {
      if (x !== y) return false;
      continue;
    }
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  }
  return true;
}

async function main(): Promise<void> {
  const engine = await init({ simd: flavour, threads: 2 });
  const info = engine.threadingInfo();
  console.log(`\n== bench/threads: T=${T}, I=${I}, B=${B}, one layer; wasm flavour '${engine.flavour}' (shared ` +
    `memory: ${info.sharedMemory}); threads ${info.threads}${info.reason ? ` (${info.reason})` : ''}; load ` +
    `${os.loadavg().map((x) => x.toFixed(2)).join(' ')} ==`);
  if (engine.threads < 2) {
    console.log('no second thread: nothing to compare');
    if (!filtered) writeJson('threads.json', { ...machine(), threading: info, workloads: [] });
    return;
  }
  const defaultMinFlops = engine.parallelMinFlops;

  // 1. Dispatch: one tiny call on each thread, so the time is waking the worker and waiting for it.
  const p = engine.alloc(256);
  const tiny = [[{ fn: 'zero_f32', args: [p, 16] }], [{ fn: 'zero_f32', args: [p + 128, 16] }]];
  for (let i = 0; i < 200; i++) engine.parallel(tiny);
  const tDispatch: number[] = [];
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) engine.parallel(tiny);
    tDispatch.push(((performance.now() - t0) / 200) * 1000);
  }
  engine.release(p);
  const dispatch = stats(tDispatch);
  console.log(`dispatch (wake one worker, run two empty calls, wait): median ${dispatch.median.toFixed(1)} µs ` +
    `(min ${dispatch.min.toFixed(1)}, max ${dispatch.max.toFixed(1)}); split threshold ` +
    `${defaultMinFlops} flops`);

  // 2. Workloads.
  const results: Record<string, unknown>[] = [];
  const rows: (string | number)[][] = [];
  let failures = 0;
  for (const c of CELLS) {
    if (cellsSel && !cellsSel.includes(c.name)) continue;
    for (const H of [512, 256]) {
      if (hiddenSel && !hiddenSel.includes(H)) continue;
      const label = `${c.name} H${H} B${B}`;
      const model = makeModel(c.name, H);
      const x = { data: randomData(T * B * I, 7 + H + B), shape: [T, B, I] };
      const xShort = { data: x.data.subarray(0, 4 * B * I), shape: [4, B, I] };
      const one = (): void => { engine.parallelMinFlops = Infinity; };
      const two = (): void => { engine.parallelMinFlops = 0; };
      for (let i = 0; i < 6; i++) {
        one();
        model.forward(xShort);
        two();
        model.forward(xShort);
      }
      one();
      const r1 = model.forward(x);
      two();
      let t0 = performance.now();
      const r2 = model.forward(x);
      const est = performance.now() - t0;
      const same = identical(r1, r2);
      if (!same) {
        failures++;
        console.error(`CHECK FAILED ${label}: 1 and 2 threads differ`);
      }
      const runs = Math.max(8, Math.min(60, Math.ceil(budget / (2 * est))));
      const t1: number[] = [];
      const t2: number[] = [];
      const ratios: number[] = [];
      const cpu = { oneTotal: 0, twoTotal: 0, twoBusiest: 0 };
      let sink = 0;
      for (let i = 0; i < runs; i++) {
        // Alternate which mode goes first, so a drift in the machine's load hits both alike.
        const order = i % 2 ? [two, one] : [one, two];
        const tt: number[] = [];
        for (const mode of order) {
          mode();
          const c0 = threadCpu();
          t0 = performance.now();
          sink += model.forward(x).hN.data[0]!;
          tt.push(performance.now() - t0);
          const d = cpuDelta(c0, threadCpu());
          if (mode === one) cpu.oneTotal += d.total;
          else {
            cpu.twoTotal += d.total;
            cpu.twoBusiest += d.busiest;
          }
        }
        const a = i % 2 ? tt[1]! : tt[0]!;
        const b = i % 2 ? tt[0]! : tt[1]!;
        t1.push(a);
        t2.push(b);
        ratios.push(a / b);
      }
      if (!Number.isFinite(sink)) throw new Error('non-finite results');
      model.dispose();
      const s1 = stats(t1);
      const s2 = stats(t2);
      const sr = stats(ratios);
      const speedup = s1.median / s2.median;
      // What 2 free cores would give: one thread's CPU time over the busiest thread's in 2-thread runs (the
      // critical path), unaffected by how much of the second core other processes leave us.
      const cpuBound = cpu.oneTotal / cpu.twoBusiest;
      const cpuOverhead = cpu.twoTotal / cpu.oneTotal;
      const flops = T * B * c.gates * 2 * H * (I + H);
      results.push({ cell: c.name, hidden: H, batch: B, flops, identical: same, oneThread: s1, twoThreads: s2,
        speedup: Math.round(speedup * 100) / 100, pairedRatio: { ...sr, median: Math.round(sr.median * 100) / 100 },
        cpu: { ...cpu, criticalPathSpeedup: Math.round(cpuBound * 100) / 100,
          totalCpuRatio: Math.round(cpuOverhead * 100) / 100 } });
      rows.push([label, fmt(s1.median, 3), fmt(s2.median, 3), `${speedup.toFixed(2)}x`, `${sr.median.toFixed(2)}x`,
        `${sr.min.toFixed(2)}-${sr.max.toFixed(2)}`, Number.isFinite(cpuBound) ? `${cpuBound.toFixed(2)}x` : '-',
        Number.isFinite(cpuOverhead) ? cpuOverhead.toFixed(2) : '-', runs, same ? 'yes' : 'NO']);
      console.log(`  ${label}: 1 thread ${s1.median.toFixed(2)} ms, 2 threads ${s2.median.toFixed(2)} ms, ` +
        `${speedup.toFixed(2)}x`);
    }
  }
  engine.parallelMinFlops = defaultMinFlops;
  console.log();
  console.log(table(['workload', 'ms 1 thread', 'ms 2 threads', 'speed-up', 'paired', 'paired range', 'cpu path',
    'cpu total', 'runs', 'identical'], rows));
  console.log('speed-up: ratio of the medians; paired: median of the ratios of back-to-back runs (robust to load ' +
    'drift);\ncpu path: CPU time of 1 thread over that of the busiest thread with 2 (the speed-up 2 free cores ' +
    'give);\ncpu total: CPU time of all threads with 2 over 1 thread (1.00 = no work added by the split).\n' +
    'The machine may be shared: other processes on the second core cut the measured speed-up, not cpu path.');
  const targets = (results as { cell: string; hidden: number; speedup: number }[])
    .filter((r) => r.hidden === 512)
    .map((r) => ({ what: `${r.cell} H512 B32 speed-up on 2 threads`, value: r.speedup, goal: GOAL,
      ok: r.speedup >= GOAL, cpuPath: (r as { cpu?: { criticalPathSpeedup: number } }).cpu?.criticalPathSpeedup }));
  if (targets.length) {
    console.log(`\ntarget (2 threads at batch 32, hidden 512: >= ${GOAL}x one thread)`);
    for (const t of targets) {
      console.log(`  ${t.ok ? 'ok  ' : 'MISS'} ${t.what}: ${t.value.toFixed(2)}x (cpu path ` +
        `${t.cpuPath !== undefined && Number.isFinite(t.cpuPath) ? `${t.cpuPath.toFixed(2)}x` : '-'})`);
    }
  }
  const out = {
    ...machine(),
    runId: process.env.RNN_BENCH_RUN ?? null,
    flavour: engine.flavour,
    threading: info,
    config: { T, I, B, layers: 1, bidirectional: false, budgetMs: budget,
      timing: 'one engine (shared-memory build); 1 thread = parallelMinFlops Infinity, 2 threads = 0; 6 short ' +
        '(T=4) warm-up calls per mode, then runs alternating the mode order; medians' },
    dispatchMicroseconds: dispatch,
    parallelMinFlops: defaultMinFlops,
    workloads: results,
    targets,
  };
  if (!filtered) {
    const file = writeJson(flavour === 'simd' ? 'threads.json' : `threads-${flavour}.json`, out);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } else {
    console.log('(filtered run: results file not written)');
  }
  engine.terminateWorkers();
  if (failures) process.exitCode = 1;
}

await main();
