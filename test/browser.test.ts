// The browser bundle (bundles/browser/, `npm run build`) in Debian's Chromium, driven by playwright-core: the fixed
// LSTM case of test/browser/lstm-case.mjs (forward, one training step) on the page's main thread and in a module
// Web Worker, against the same computation in Node (1e-6); and a short fit() in a Node worker_threads Worker
// (examples/worker-training.mjs) against the same run on this thread and in the Web Worker.
// Needs /usr/bin/chromium (apt-get install -y chromium; .ci/run installs it): without it this test fails.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as lib from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const bundleDir = path.join(root, 'bundles', 'browser');
const caseDir = path.join(root, 'test', 'browser');

type CaseResult = Record<string, number[] | number | string>;
const { lstmCase } = await import(pathToFileURL(path.join(caseDir, 'lstm-case.mjs')).href) as {
  lstmCase: (l: typeof lib) => CaseResult;
};
const { trainingRun } = await import(pathToFileURL(path.join(caseDir, 'training-run.mjs')).href) as {
  trainingRun: (l: typeof lib, epochs: number) => number[];
};
const { runInWorker } = await import(pathToFileURL(path.join(root, 'examples', 'worker-training.mjs')).href) as {
  runInWorker: (m: string | URL, e: string, a: unknown[], o?: { onProgress?: (p: unknown) => void }) => Promise<unknown>;
};

function expectClose(got: unknown, want: unknown, what: string): void {
  if (typeof want === 'number') {
    expect(typeof got, what).toBe('number');
    expect(Math.abs((got as number) - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-6);
    return;
  }
  const g = got as number[], w = want as number[];
  expect(Array.isArray(g), `${what} is an array`).toBe(true);
  expect(g.length, `${what}.length`).toBe(w.length);
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!));
  expect(worst, `${what}: largest difference`).toBeLessThanOrEqual(1e-6);
}

function compareCase(got: CaseResult, want: CaseResult, where: string): void {
  expect(got.error, `${where} threw`).toBeUndefined();
  for (const k of Object.keys(want)) expectClose(got[k], want[k], `${where} ${k}`);
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript',
  '.wasm': 'application/wasm', '.map': 'application/json' };

let server: http.Server;
let browser: Browser | undefined;
let port = 0;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's Chromium (apt-get install -y chromium; ` +
      '.ci/run installs it)');
  }
  if (!fs.existsSync(path.join(bundleDir, 'rnn-wasm.mjs'))) {
    throw new Error('bundles/browser/rnn-wasm.mjs is missing: run `npm run build` (or `npm run build:bundles`)');
  }
  server = http.createServer((req, res) => {
    const u = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    let file: string | undefined;
    if (u === '/') file = path.join(caseDir, 'browser-case.html');
    else if (u.startsWith('/bundle/')) file = path.join(bundleDir, path.basename(u));
    else if (u.startsWith('/case/')) file = path.join(caseDir, path.basename(u));
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await lib.init({ simd: 'simd', threads: 1 });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('browser bundle in Chromium', () => {
  it('forward and one training step agree with Node (main thread and a module Web Worker)', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    const r = await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result, null,
      { timeout: 20_000 }).then((h) => h.jsonValue()) as { main: CaseResult; worker: CaseResult; error?: string };
    await page.close();
    expect(errors, 'page errors').toEqual([]);
    expect(r.error, 'the page threw').toBeUndefined();
    const want = lstmCase(lib);
    expect(r.main.flavour).toBe('simd');
    compareCase(r.main, want, 'main thread');
    compareCase(r.worker, want, 'Web Worker');
    expectClose(r.worker.losses, trainingRun(lib, 3), 'Web Worker fit() losses');
  });
});

describe('training in a Node worker thread (examples/worker-training.mjs)', () => {
  it('returns the loss history of the same run as on this thread', async () => {
    const progress: unknown[] = [];
    const losses = await runInWorker(pathToFileURL(path.join(caseDir, 'training-run.mjs')), 'trainingRun', [3],
      { onProgress: (p) => progress.push(p) }) as number[];
    expect(losses).toHaveLength(3);
    expectClose(losses, trainingRun(lib, 3), 'worker_threads fit() losses');
    expect(losses[2]!).toBeLessThan(losses[0]!);
  });
});
