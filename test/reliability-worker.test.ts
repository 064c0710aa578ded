// Issue 8, "Concurrency": training in a worker thread (examples/worker-training.mjs) can be aborted mid-epoch with
// an AbortSignal, leaving the model as it was after its last completed step (bit-identical to a main-thread run
// of exactly that many steps); a worker that dies or throws rejects the promise instead of hanging.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import * as lib from '../src/index.js';

const JOBS = new URL('./fixtures/worker/jobs.mjs', import.meta.url);
type Opts = { onProgress?: (p: unknown) => void; init?: unknown; signal?: AbortSignal };
type Run = (m: string | URL, e: string, a: unknown[], o?: Opts) => Promise<unknown>;
let runInWorker: Run;
let jobs: {
  makeRun: (l: typeof lib, seed: number) => { model: lib.SequenceModel; data: lib.Dataset; options: lib.FitOptions };
  plainState: (m: lib.SequenceModel) => Record<string, Float32Array>;
};

beforeAll(async () => {
  expect(existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url))), 'run `npm run build` first').toBe(true);
  runInWorker = (await import(new URL('../examples/worker-training.mjs', import.meta.url).href) as { runInWorker: Run }).runInWorker;
  jobs = await import(JOBS.href) as typeof jobs;
  await lib.init({ simd: 'simd', threads: 1, force: true });
});

/** The state after exactly `steps` steps on this thread (fit aborted from onStepEnd). */
function mainThreadState(steps: number, seed: number): Record<string, Float32Array> {
  const { model, data, options } = jobs.makeRun(lib, seed);
  const ac = new AbortController();
  const h = lib.fit(model, data, { ...options, epochs: 1000, signal: ac.signal,
    onStepEnd: (s) => { if (s.globalStep === steps) ac.abort(); } });
  expect(h.steps).toBe(steps);
  const st = jobs.plainState(model);
  model.dispose();
  return st;
}

it('aborting mid-epoch stops the worker\'s fit after the current step; the state equals that many steps here', async () => {
  const ac = new AbortController();
  const seen: number[] = [];
  const t0 = performance.now();
  const r = await runInWorker(JOBS, 'trainSteps', [200, 3], {
    init: { simd: 'simd', threads: 1 },
    signal: ac.signal,
    onProgress: (p) => {
      const step = (p as { step: number }).step;
      seen.push(step);
      if (step === 5) ac.abort(); // mid-epoch 0 (8 steps per epoch)
    },
  }) as { steps: number; status: string; state: Record<string, Float32Array> };
  const ms = performance.now() - t0;
  console.log(`worker abort: asked after step 5, the worker completed ${r.steps} steps (of 1600) in ${ms.toFixed(0)} ms`);
  expect(r.status).toBe('aborted');
  expect(r.steps).toBeGreaterThanOrEqual(5);
  expect(r.steps).toBeLessThan(1600);
  expect(seen.at(-1)).toBeLessThanOrEqual(r.steps);
  const want = mainThreadState(r.steps, 3);
  expect(Object.keys(r.state).sort()).toEqual(Object.keys(want).sort());
  for (const k of Object.keys(want)) expect(Buffer.from(r.state[k]!.buffer).equals(Buffer.from(want[k]!.buffer)), k).toBe(true);
});

it('a signal aborted before the start runs no step', async () => {
  const r = await runInWorker(JOBS, 'trainSteps', [2, 3], { init: { simd: 'simd', threads: 1 }, signal: AbortSignal.abort() }) as
    { steps: number; status: string; state: Record<string, Float32Array> };
  expect(r).toMatchObject({ steps: 0, status: 'aborted' });
  const { model } = jobs.makeRun(lib, 3);
  const want = jobs.plainState(model);
  model.dispose();
  for (const k of Object.keys(want)) expect(r.state[k]).toEqual(want[k]);
});

it('a worker that exits or throws rejects the promise with a clear error', async () => {
  await expect(runInWorker(JOBS, 'dies', [7])).rejects.toThrow(/the training worker exited \(code 7\) before returning a result/);
  await expect(runInWorker(JOBS, 'throws', [])).rejects.toThrow(/in the training worker: Error: job failed on purpose/);
  await expect(runInWorker(JOBS, 'missing', [])).rejects.toThrow(/has no exported function missing/);
});
