// The edge bundle (bundles/edge/, `npm run build`) in workerd, through miniflare (which brings workerd from npm):
// test/browser/edge-worker.mjs imports the bundle and rnn-simd.wasm as a compiled WebAssembly.Module (a
// CompiledWasm module rule: workerd allows wasm bindings on env only in service-worker scripts), calls
// init({ wasm: thatModule }) and serves the fixed LSTM's forward pass on the request's JSON
// input; the result must match Node's (1e-6).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Miniflare } from 'miniflare';
import * as lib from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const edgeDir = path.join(root, 'bundles', 'edge');
const caseDir = path.join(root, 'test', 'browser');
const site = path.join(caseDir, '.build', 'edge');

type Tensor = { data: number[]; shape: number[] };
const lstmCase = await import(pathToFileURL(path.join(caseDir, 'lstm-case.mjs')).href) as {
  forwardOnly: (l: typeof lib, x?: Tensor) => Record<string, number[]>; fixed: (n: number, s: number) => number[];
  T: number; B: number; I: number;
};

let mf: Miniflare;

beforeAll(async () => {
  if (!fs.existsSync(path.join(edgeDir, 'rnn-wasm.mjs'))) {
    throw new Error('bundles/edge/rnn-wasm.mjs is missing: run `npm run build` (or `npm run build:bundles`)');
  }
  // The worker's modules side by side: its script, the edge bundle (entry and chunks), the shared case.
  fs.rmSync(site, { recursive: true, force: true });
  fs.mkdirSync(site, { recursive: true });
  for (const f of fs.readdirSync(edgeDir).filter((f) => f.endsWith('.mjs'))) fs.copyFileSync(path.join(edgeDir, f), path.join(site, f));
  fs.copyFileSync(path.join(edgeDir, 'rnn-simd.wasm'), path.join(site, 'rnn-simd.wasm'));
  for (const f of ['edge-worker.mjs', 'lstm-case.mjs']) fs.copyFileSync(path.join(caseDir, f), path.join(site, f));
  mf = new Miniflare({
    modules: true,
    scriptPath: path.join(site, 'edge-worker.mjs'),
    modulesRoot: site,
    modulesRules: [{ type: 'ESModule', include: ['**/*.mjs'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
    // Before 2025-05-05, so without FinalizationRegistry / WeakRef: the edge build's stand-ins are exercised.
    compatibilityDate: '2025-01-01',
  });
  await mf.ready;
  await lib.init({ simd: 'simd', threads: 1 });
});

afterAll(async () => {
  await mf?.dispose();
});

describe('edge bundle in workerd (miniflare)', () => {
  it('init({ wasm: compiledModule }) and a forward pass on the request input agree with Node', async () => {
    const x = { data: lstmCase.fixed(lstmCase.T * lstmCase.B * lstmCase.I, 42), shape: [lstmCase.T, lstmCase.B, lstmCase.I] };
    const res = await mf.dispatchFetch('http://localhost/forward', { method: 'POST', body: JSON.stringify(x) });
    const r = await res.json() as Record<string, unknown>;
    expect(r.error, 'the worker threw').toBeUndefined();
    expect(res.status).toBe(200);
    expect(r.flavour).toBe('simd');
    expect((r.threading as { threads: number }).threads).toBe(1);
    const want = lstmCase.forwardOnly(lib, x);
    for (const k of ['output', 'hN', 'cN']) {
      const g = r[k] as number[], w = want[k]!;
      expect(g).toHaveLength(w.length);
      let worst = 0;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!));
      expect(worst, `${k}: largest difference from Node`).toBeLessThanOrEqual(1e-6);
    }
  });

  it('init() without wasm says to pass a compiled module', async () => {
    const r = await (await mf.dispatchFetch('http://localhost/no-wasm')).json() as { error: string | null; initError: boolean };
    expect(r.initError).toBe(true);
    expect(r.error).toMatch(/pass init\(\{ wasm \}\) a compiled WebAssembly\.Module/);
  });
});
