// Builds the benchmarks (AssemblyScript peak kernels with asc, TypeScript with esbuild into bench/.build/) and
// runs them, each in a fresh node process: bench/peak, then bench/forward. Expects `npm run build` to have run
// (the `bench` npm script does it). Other arguments go to bench/forward (e.g. --cells LSTM --hidden 256; with npm:
// `npm run bench -- --cells LSTM`); a filtered run writes no results file.
// --relaxed also runs bench/forward on the relaxed-SIMD build (node --experimental-wasm-relaxed-simd).
// bench/train (a training step against plain-train.ts) runs after bench/forward and takes the same filters.
// --no-forward skips bench/forward and bench/train (peak only, or peak and --profile).
// --no-train skips bench/train (and its part of --profile); --train-only skips bench/forward (and its part).
// --profile also runs bench/split (input projection vs recurrent steps at H256) and a --cpu-prof of LSTM H256 B32,
// then bench/train --split (phases of a training step at H256 B32) and a --cpu-prof of LSTM H256 B32 training.
// bench/stream (one session.step() against its kernel alone), bench/cold-start (fresh node processes: import,
// init, first LSTM result) and bench/size (.wasm and bundle sizes) run last; --stream-only, --cold-start-only and
// --size-only run one of them alone (no peak), --no-stream, --no-cold-start, --no-size leave one out.
// bench/threads (forward on 1 vs 2 threads) runs after bench/train; --threads-only runs it alone (no peak);
// --no-threads skips it. bench/matvec (the batch-1 matrix-vector product by working set, relaxed build) runs right
// after bench/peak; --matvec-only runs it alone, --no-matvec skips it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import asc from 'assemblyscript/asc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const out = path.join(root, 'bench', '.build');
const args = process.argv.slice(2);
const flag = (f) => {
  const i = args.indexOf(f);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
};
const relaxed = flag('--relaxed');
const profile = flag('--profile');
const onlyPeak = flag('--no-forward');
const noTrain = flag('--no-train');
const trainOnly = flag('--train-only');
const streamOnly = flag('--stream-only');
const coldOnly = flag('--cold-start-only');
const sizeOnly = flag('--size-only');
const threadsOnly = flag('--threads-only');
const matvecOnly = flag('--matvec-only');
const noMatvec = flag('--no-matvec');
const noStream = flag('--no-stream');
const noCold = flag('--no-cold-start');
const noSize = flag('--no-size');
const noThreads = flag('--no-threads');
const only = streamOnly || coldOnly || sizeOnly || threadsOnly || matvecOnly;
if (noTrain && trainOnly) {
  console.error('--no-train and --train-only exclude each other');
  process.exit(1);
}

for (const f of ['build/rnn-simd.wasm', 'build/rnn-simd-mt.wasm', 'dist/index.js']) {
  if (!fs.existsSync(path.join(root, f))) {
    console.error(`${f} is missing: run \`npm run build\` first (or \`npm run bench\`)`);
    process.exit(1);
  }
}
fs.mkdirSync(out, { recursive: true });

// 1. Peak kernels. A bench-specific config: the root asconfig.json imports memory, which these kernels must not.
for (const target of only && !matvecOnly ? [] : ['simd', 'relaxed']) {
  const { error, stderr } = await asc.main(
    ['bench/assembly/peak.ts', '--config', 'bench/asconfig.json', '--target', target],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    console.error(`asc failed (${target}): ${error.message}\n${stderr.toString()}`);
    process.exit(1);
  }
}

// 2. TypeScript entry points. The library is bundled from dist/ (the code users get) and told where its .wasm is.
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['bench/peak.ts', 'bench/forward.ts', 'bench/split.ts', 'bench/profile-report.ts', 'bench/train.ts',
    'bench/stream.ts', 'bench/threads.ts', 'bench/matvec.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'es2022',
  outdir: 'bench/.build',
  sourcemap: true,
  logLevel: 'warning',
});

// 3. Run, one fresh process per benchmark.
const runId = `${Date.now()}-${process.pid}`;
const env = { ...process.env, RNN_BENCH_RUN: runId };
const node = (nodeArgs, script, scriptArgs = []) => {
  const r = spawnSync(process.execPath, [...nodeArgs, path.join(out, script), ...scriptArgs],
    { stdio: 'inherit', env, cwd: root });
  if (r.status !== 0) {
    console.error(`${script} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
};
const t0 = performance.now();
const runJs = (script, scriptArgs = []) => {
  const r = spawnSync(process.execPath, [path.join(root, 'bench', script), ...scriptArgs],
    { stdio: 'inherit', env, cwd: root });
  if (r.status !== 0) {
    console.error(`${script} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
};
if (only) {
  if (streamOnly) node([], 'stream.js', args);
  if (coldOnly) runJs('cold-start.js', args);
  if (sizeOnly) runJs('size.js', args);
  if (threadsOnly) node([], 'threads.js', args);
  if (matvecOnly) node(['--experimental-wasm-relaxed-simd'], 'matvec.js', ['--flavour', 'relaxed', ...args]);
  console.log(`\nbench done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(0);
}
// A filtered bench/forward run leaves the results files alone, bench/peak's included.
node([], 'peak.js', args.length ? ['--no-write'] : []);
if (!noMatvec) node(['--experimental-wasm-relaxed-simd'], 'matvec.js', ['--flavour', 'relaxed', ...(args.length ? ['--no-write'] : [])]);
if (!onlyPeak && !trainOnly) {
  node([], 'forward.js', args);
  if (relaxed) node(['--experimental-wasm-relaxed-simd'], 'forward.js', ['--flavour', 'relaxed', ...args]);
}
if (!onlyPeak && !noTrain) node([], 'train.js', args);
if (!onlyPeak && !trainOnly && !noThreads) node([], 'threads.js', args);
{
  if (profile) {
    // A copy of the kernels with a name section, so the profile names WebAssembly functions (same code section).
    const { error } = await asc.main(['assembly/index.ts', '--target', 'simd', '--debug',
      '-o', 'bench/.build/rnn-simd-named.wasm', '-t', 'bench/.build/rnn-simd-named.wat'],
      { stdout: process.stdout, stderr: process.stderr });
    if (error) {
      console.error(`asc failed (named kernels): ${error.message}`);
      process.exit(1);
    }
    if (!trainOnly) {
      node([], 'split.js');
      const dir = path.join(out, 'prof');
      fs.rmSync(dir, { recursive: true, force: true });
      node(['--cpu-prof', '--cpu-prof-dir', dir], 'split.js', ['--profile-loop', 'LSTM']);
      node([], 'profile-report.js', [dir]);
    }
    if (!noTrain) {
      node([], 'train.js', ['--split']);
      const dir = path.join(out, 'prof-train');
      fs.rmSync(dir, { recursive: true, force: true });
      node(['--cpu-prof', '--cpu-prof-dir', dir], 'train.js', ['--profile-loop', 'LSTM']);
      node([], 'train.js', ['--profile-report', dir]);
    }
  }
}
// --no-forward and --train-only keep their meaning (peak only; peak and bench/train only).
if (!onlyPeak && !trainOnly) {
  if (!noStream) node([], 'stream.js', args);
  // Like bench/peak, these write no results file in a filtered run.
  if (!noCold) runJs('cold-start.js', args.length ? ['--no-write'] : []);
  if (!noSize) runJs('size.js', args.length ? ['--no-write'] : []);
}
console.log(`\nbench done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
