// The experiments page of the demo (examples/browser/experiments.html) in Debian's Chromium, driven by
// playwright-core. It lists every experiment of the registry (rnn-wasm/experiments) with sliders built from the
// parameter specs and runs them in a module Web Worker with the browser bundle. This test checks that the page
// shows one panel per registered experiment (the count read from dist/experiments/index.js in Node), that
// memory-pulse holds at its defaults with one line per series, that moving its pulse slider to +0.5 re-runs it and
// flips the verdict with the same numbers as Node's run (1e-12), that every experiment without the engine gives
// Node's verdict and check values (1e-9) at its defaults (iterating the registry, so experiments added later are
// covered), that a bad parameter shows an error in the panel, and runs the first engine-based experiment, if any,
// comparing its verdict with Node's. Saves test-artifacts/demo-experiments.png. Needs /usr/bin/chromium and
// `npm run build`; without Chromium this test fails.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { root, startDemo, type Demo } from './demo-browser.js';

interface Check { name: string; value: number; holds: boolean }
interface Result { name: string; params: Record<string, number | string>; verdict: { holds: boolean; summary: string; checks: Check[] }; data: unknown }
interface Experiment {
  name: string; usesEngine: boolean;
  params: Record<string, { kind: string; default: number | string }>;
  run(p?: Record<string, number | string>): Result;
}
interface Lib { experiments: readonly Experiment[]; getExperiment(name: string): Experiment }

let demo: Demo | undefined;
let lib: Lib;

beforeAll(async () => {
  demo = await startDemo(['bundles/browser/rnn-wasm.mjs', 'bundles/browser/experiments.mjs',
    'bundles/browser/rnn-simd.wasm', 'dist/experiments/index.js']);
  lib = await import(pathToFileURL(path.join(root, 'dist', 'experiments', 'index.js')).href) as Lib;
});

afterAll(async () => {
  await demo?.close();
});

/** Waits until the panel of `name` is done or failed (optionally: with params matching `params`); its state. */
async function settled(page: Page, name: string, timeout: number, params?: Record<string, number | string>): Promise<string> {
  await page.waitForFunction(([n, p]) => {
    const el = document.querySelector(`section.experiment[data-name="${n}"]`) as HTMLElement | null;
    if (!el || (el.dataset.state !== 'done' && el.dataset.state !== 'error')) return false;
    if (!p) return true;
    const used = JSON.parse(el.dataset.params ?? '{}') as Record<string, unknown>;
    return Object.entries(p).every(([k, v]) => used[k] === v);
  }, [name, params] as const, { timeout });
  return page.evaluate((n) => (document.querySelector(`section.experiment[data-name="${n}"]`) as HTMLElement).dataset.state!, name);
}

/** The verdict shown in a panel: data-holds, the headline and each check's exact measured value (data-value). */
function shown(page: Page, name: string) {
  return page.evaluate((n) => {
    const el = document.querySelector(`section.experiment[data-name="${n}"]`) as HTMLElement;
    return {
      holds: el.dataset.holds, params: JSON.parse(el.dataset.params ?? '{}') as Record<string, number | string>,
      verdict: el.querySelector('.verdict')?.textContent ?? '', error: el.querySelector('.error')?.textContent ?? '',
      values: Array.from(el.querySelectorAll('table.checks td[data-value]')).map((td) => Number((td as HTMLElement).dataset.value)),
      checkHolds: Array.from(el.querySelectorAll('table.checks tbody tr')).map((tr) => (tr as HTMLElement).dataset.holds === 'true'),
      linePaths: Array.from(el.querySelectorAll('figure[data-type="line"]')).map((f) => f.querySelectorAll('g[aria-label="line"] path').length),
    };
  }, name);
}

function close(a: number, b: number, tol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= tol;
}

function expectSame(got: Awaited<ReturnType<typeof shown>>, node: Result, tol: number, what: string): void {
  expect(got.holds, `${what}: data-holds`).toBe(String(node.verdict.holds));
  expect(got.verdict.startsWith(node.verdict.holds ? 'Holds.' : 'Does not hold.'), `${what}: verdict text "${got.verdict}"`).toBe(true);
  expect(got.checkHolds, `${what}: each check holds`).toEqual(node.verdict.checks.map((c) => c.holds));
  expect(got.values.length, `${what}: number of checks`).toBe(node.verdict.checks.length);
  node.verdict.checks.forEach((c, i) => {
    expect(close(got.values[i]!, c.value, tol), `${what}: check "${c.name}" = ${got.values[i]} in the page, ${c.value} in Node`).toBe(true);
  });
}

it('the experiments page lists the registry, runs each experiment in a worker and matches Node', async () => {
  const t0 = Date.now();
  const { page, errors, failed } = await demo!.open('experiments.html');
  await page.waitForFunction(() => document.body.dataset.ready !== 'false', null, { timeout: 15_000 });
  expect(await page.evaluate(() => document.body.dataset.ready), 'data-ready').toBe('true');

  // One panel per registered experiment, in the registry's order, each with a control per parameter.
  const listed = await page.evaluate(() => Array.from(document.querySelectorAll('section.experiment')).map((el) => ({
    name: (el as HTMLElement).dataset.name!, controls: Array.from(el.querySelectorAll('[data-param]')).map((c) => (c as HTMLElement).dataset.param!),
    ranges: el.querySelectorAll('input[type="range"]').length, selects: el.querySelectorAll('select').length,
  })));
  expect(listed.length, 'panels = registry length').toBe(lib.experiments.length);
  expect(listed.map((p) => p.name)).toEqual(lib.experiments.map((e) => e.name));
  for (const [i, e] of lib.experiments.entries()) {
    const specs = Object.values(e.params);
    expect(listed[i]!.controls, `${e.name}: one control per parameter`).toEqual(Object.keys(e.params));
    expect(listed[i]!.ranges, `${e.name}: sliders`).toBe(specs.filter((s) => s.kind === 'number').length);
    expect(listed[i]!.selects, `${e.name}: selects`).toBe(specs.filter((s) => s.kind === 'choice').length);
  }

  // Memory pulse at its defaults (run on load): holds, with one line per series.
  const mp = lib.getExperiment('memory-pulse');
  expect(await settled(page, 'memory-pulse', 10_000)).toBe('done');
  const atDefaults = await shown(page, 'memory-pulse');
  const nodeDefaults = mp.run();
  expectSame(atDefaults, nodeDefaults, 1e-12, 'memory-pulse at defaults');
  expect(atDefaults.holds).toBe('true');
  expect(atDefaults.linePaths, 'a path per series').toEqual([2]);
  expect(atDefaults.params).toEqual(nodeDefaults.params);

  // The pulse slider to +0.5: the debounced re-run flips the verdict, with Node's numbers for the same parameters.
  await page.locator('#p-memory-pulse-pulse').fill('0.5');
  expect(await page.locator('section[data-name="memory-pulse"] output[for="p-memory-pulse-pulse"]').textContent()).toBe('0.5');
  expect(await settled(page, 'memory-pulse', 10_000, { pulse: 0.5 })).toBe('done');
  const flipped = await shown(page, 'memory-pulse');
  const nodeFlipped = mp.run({ pulse: 0.5 });
  expect(flipped.params).toEqual(nodeFlipped.params);
  expectSame(flipped, nodeFlipped, 1e-12, 'memory-pulse at pulse 0.5');
  expect(flipped.holds).toBe('false');
  expect(flipped.verdict.startsWith('Does not hold.')).toBe(true);
  // The full data came back unchanged through the worker.
  const pageData = await page.evaluate(() => (window as unknown as { __experiments: { results: Record<string, Result> } }).__experiments.results['memory-pulse']!.data);
  const nd = nodeFlipped.data as { tanh: number[]; relu: number[] };
  const pd = pageData as typeof nd;
  nd.tanh.forEach((v, i) => expect(Math.abs(pd.tanh[i]! - v)).toBeLessThanOrEqual(1e-12));
  nd.relu.forEach((v, i) => expect(Math.abs(pd.relu[i]! - v)).toBeLessThanOrEqual(1e-12));

  // Every experiment without the engine ran on load at its defaults: the same verdict as Node.
  for (const e of lib.experiments.filter((x) => !x.usesEngine && x.name !== 'memory-pulse')) {
    expect(await settled(page, e.name, 15_000), `${e.name} ran`).toBe('done');
    expectSame(await shown(page, e.name), e.run(), 1e-9, e.name);
  }

  // A bad parameter (through the page's run hook) is shown in the panel as an error.
  const bad = await page.evaluate(() => (window as unknown as { __experiments: { run: (n: string, p: unknown) => Promise<unknown> } })
    .__experiments.run('memory-pulse', { pulse: 99 }));
  expect(String(bad)).toMatch(/params\.pulse/);
  const errPanel = await shown(page, 'memory-pulse');
  expect(await page.evaluate(() => (document.querySelector('section[data-name="memory-pulse"]') as HTMLElement).dataset.state)).toBe('error');
  expect(errPanel.error).toMatch(/params\.pulse.*\[-3, 3\]/);
  expect(errPanel.holds).toBeUndefined();
  await page.locator('section[data-name="memory-pulse"] button.reset').click();
  expect(await settled(page, 'memory-pulse', 10_000, { pulse: -0.5 })).toBe('done');
  expect((await shown(page, 'memory-pulse')).holds).toBe('true');

  // The first engine-based experiment, if one is registered: Run, then compare the verdict with Node's.
  const engineExp = lib.experiments.find((e) => e.usesEngine);
  if (engineExp) {
    // Started in the page first, so the browser's run and Node's overlap.
    await page.locator(`section[data-name="${engineExp.name}"] button.run`).click();
    const { init } = await import(pathToFileURL(path.join(root, 'dist', 'index.js')).href) as { init: () => Promise<unknown> };
    await init();
    const nodeRun = engineExp.run();
    expect(await settled(page, engineExp.name, 40_000), `${engineExp.name} ran`).toBe('done');
    const got = await shown(page, engineExp.name);
    expect(got.holds, `${engineExp.name}: verdict in the page (${got.verdict}) vs Node (${nodeRun.verdict.summary})`)
      .toBe(String(nodeRun.verdict.holds));
  } else {
    console.log('demo-experiments: no experiment with usesEngine is registered yet; the engine path is not exercised');
  }

  fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'test-artifacts', 'demo-experiments.png'), fullPage: true });
  expect(await page.evaluate(() => document.querySelector('#error')?.textContent ?? ''), 'page error').toBe('');
  expect(errors, 'page errors').toEqual([]);
  expect(failed, 'failed requests').toEqual([]);
  await page.close();
  console.log(`demo-experiments: ${lib.experiments.length} experiments in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
