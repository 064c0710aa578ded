/**
 * bench/analysis: the float64 linear analysis (src/analysis) at state sizes n = 64, 128, 256 (m = 8 inputs, p = n/2
 * outputs, 128 frequencies on [0, pi]): controllability and observability by the Kalman matrix vs the orthogonal
 * staircase, frequencyResponse by the dense 2n x 2n LU ('direct') vs Laub's Hessenberg method; then analyzeModel on
 * an LSTM with input 8 and hidden 128 (state n = 256, readout h: p = 128). Each method is checked against the other
 * before timing (ranks; max |H_h - H_d| / max |H_d|).
 *
 * Run: `node bench/analysis.js [--sizes 64,128,256] [--runs <n>] [--before <dist dir>] [--no-write]` (after
 * `npm run build`). --before also times analyzeModel from another build of the library (e.g. a copy of dist/ from
 * before the change, next to a build/ with the .wasm). Timings: the median of --runs (default 3) calls after one
 * untimed call, except that a call over 3 s is timed once. Writes bench/results/analysis.json unless --no-write.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { init, LSTM } from '../dist/index.js';
import { analyzeModel, controllability, frequencyResponse, observability, type FrequencyResponse } from '../dist/analysis/index.js';
import { Matrix } from '../dist/analysis/linalg.js';
import { arg, listArg } from './workloads.js';
import { fmt, machine, rng, stats, table, writeJson, type Stats } from './util.js';

const sizes = (listArg('--sizes') ?? ['64', '128', '256']).map(Number);
const runs = Number(arg('--runs') ?? 3);
const before = arg('--before');
const write = !process.argv.includes('--no-write');
const M_IN = 8, POINTS = 128;

function time(f: () => unknown): Stats {
  const t0 = performance.now();
  f();
  const first = performance.now() - t0;
  if (first > 3000) return stats([first]);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return stats(times);
}

/** Dense random A with spectral radius about 0.9 (entries uniform, scaled by 0.9 / sqrt(n / 3)), B, C uniform. */
function system(n: number, seed: number): { A: Matrix; B: Matrix; C: Matrix } {
  const r = rng(seed);
  const mat = (rows: number, cols: number, s: number): Matrix =>
    new Matrix(Array.from({ length: rows }, () => Array.from({ length: cols }, () => s * (2 * r() - 1))));
  return { A: mat(n, n, 0.9 / Math.sqrt(n / 3)), B: mat(n, M_IN, 1), C: mat(n / 2, n, 1) };
}

function maxRelDiff(a: FrequencyResponse, b: FrequencyResponse): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.outputs; i++) {
    for (let j = 0; j < a.inputs; j++) {
      for (let w = 0; w < a.omega.length; w++) {
        d = Math.max(d, Math.hypot(a.re[i]![j]![w]! - b.re[i]![j]![w]!, a.im[i]![j]![w]! - b.im[i]![j]![w]!));
        s = Math.max(s, b.magnitude[i]![j]![w]!);
      }
    }
  }
  return d / s;
}

await init();
const results: Record<string, unknown>[] = [];
const rows: (string | number)[][] = [];
for (const n of sizes) {
  const { A, B, C } = system(n, 1000 + n);
  const ck = controllability(A, B), cs = controllability(A, B, { method: 'staircase' });
  const ok = observability(A, C), os = observability(A, C, { method: 'staircase' });
  const hd = frequencyResponse({ A, B, C }, { points: POINTS, method: 'direct' });
  const hh = frequencyResponse({ A, B, C }, { points: POINTS, method: 'hessenberg' });
  const diff = maxRelDiff(hh, hd);
  const t = {
    ctrbKalman: time(() => controllability(A, B)),
    ctrbStaircase: time(() => controllability(A, B, { method: 'staircase' })),
    obsvKalman: time(() => observability(A, C)),
    obsvStaircase: time(() => observability(A, C, { method: 'staircase' })),
    freqDirect: time(() => frequencyResponse({ A, B, C }, { points: POINTS, method: 'direct' })),
    freqHessenberg: time(() => frequencyResponse({ A, B, C }, { points: POINTS, method: 'hessenberg' })),
  };
  const ms = (s: Stats): number => Math.round(s.median * 10) / 10;
  results.push({
    n, m: M_IN, p: n / 2, frequencies: POINTS,
    ranks: { ctrbKalman: ck.rank, ctrbStaircase: cs.rank, obsvKalman: ok.rank, obsvStaircase: os.rank },
    frequencyMaxRelDiff: diff,
    ms: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, ms(v)])),
    runs: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.runs])),
    ratio: {
      ctrb: t.ctrbKalman.median / t.ctrbStaircase.median,
      obsv: t.obsvKalman.median / t.obsvStaircase.median,
      freq: t.freqDirect.median / t.freqHessenberg.median,
    },
  });
  rows.push([n, `${ck.rank}/${cs.rank}`, fmt(t.ctrbKalman.median, 1), fmt(t.ctrbStaircase.median, 1),
    fmt(t.ctrbKalman.median / t.ctrbStaircase.median, 1), `${ok.rank}/${os.rank}`, fmt(t.obsvKalman.median, 1),
    fmt(t.obsvStaircase.median, 1), fmt(t.obsvKalman.median / t.obsvStaircase.median, 1), fmt(t.freqDirect.median, 1),
    fmt(t.freqHessenberg.median, 1), fmt(t.freqDirect.median / t.freqHessenberg.median, 1), diff.toExponential(1)]);
}
console.log(`bench/analysis: random A (rho ~0.9), m = ${M_IN}, p = n/2, ${POINTS} frequencies; ms (median)`);
console.log(table(['n', 'ctrb rank K/S', 'ctrb kalman', 'staircase', 'x', 'obsv rank K/S', 'obsv kalman', 'staircase', 'x',
  'freq direct', 'hessenberg', 'x', 'max rel diff'], rows));

// analyzeModel on an LSTM, input 8, hidden 128 (n = 256), readout h (p = 128), the CLI's defaults.
const H = 128;
const timeAnalyze = (lib: { LSTM: typeof LSTM; analyzeModel: typeof analyzeModel }) => {
  const lstm = new lib.LSTM({ inputSize: M_IN, hiddenSize: H });
  const t0 = performance.now();
  const r = lib.analyzeModel(lstm, {});
  const ms = performance.now() - t0;
  lstm.dispose();
  return { ms: Math.round(ms), controllability: r.linearization.controllability, observability: r.linearization.observability };
};
const now = timeAnalyze({ LSTM, analyzeModel });
console.log(`analyzeModel LSTM input ${M_IN} hidden ${H}: ${now.ms} ms; ctrb rank ${now.controllability.rank}, obsv rank ` +
  `${now.observability.rank} (${now.controllability.method ?? 'kalman'})`);
let old: ReturnType<typeof timeAnalyze> | null = null;
if (before) {
  const lib = await import(pathToFileURL(path.resolve(before, 'index.js')).href);
  await lib.init();
  old = timeAnalyze(lib);
  console.log(`analyzeModel from ${before}: ${old.ms} ms (x${fmt(old.ms / now.ms, 1)}); ctrb rank ${old.controllability.rank}, ` +
    `obsv rank ${old.observability.rank}`);
}
if (write) {
  const file = writeJson('analysis.json', {
    machine: machine(), runs, systems: results,
    analyzeModel: { model: `LSTM input ${M_IN} hidden ${H}`, stateSize: 2 * H, readout: 'hidden', ...now },
    analyzeModelBefore: old ? { dist: before, ...old } : null,
  });
  console.log(`wrote ${file}`);
}
