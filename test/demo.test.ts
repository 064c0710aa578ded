// The demo page (examples/browser/) in Debian's Chromium, driven by playwright-core: it trains an LSTM and a
// vanilla tanh RNN on the 30-step adding problem in a module Web Worker (the browser bundle), draws the live loss
// curves and the analysis with Observable Plot; this test waits for <body data-done="true">, checks every plot
// rendered (with the number of marks where it is known), that the numbers in the page are sane and that the LSTM
// wins, and saves a screenshot to test-artifacts/demo.png. Needs /usr/bin/chromium and `npm run build` (the plot
// bundle, examples/browser/dist/plot.mjs, is built here when missing). Without Chromium this test fails.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { root, startDemo, type Demo } from './demo-browser.js';

const HIDDEN = 24;

let demo: Demo | undefined;

beforeAll(async () => {
  demo = await startDemo(['bundles/browser/rnn-wasm.mjs', 'bundles/browser/analysis.mjs', 'bundles/browser/rnn-simd.wasm']);
});

afterAll(async () => {
  await demo?.close();
});

it('the demo page trains both models in a Web Worker and draws the loss curves and the analysis', async () => {
  const { page, errors, failed } = await demo!.open('index.html');

  // The live loss curve is drawn while training runs.
  await page.waitForSelector('[data-plot="loss"] svg', { timeout: 15_000 });
  const done = await page.waitForFunction(() => document.body.dataset.done !== 'false', null, { timeout: 35_000 })
    .then(() => page.evaluate(() => document.body.dataset.done));
  const pageError = await page.evaluate(() => document.querySelector('#error')?.textContent ?? '');
  fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'test-artifacts', 'demo.png'), fullPage: true });
  expect(pageError, 'the page reported an error').toBe('');
  expect(done, 'data-done').toBe('true');
  expect(errors, 'page errors').toEqual([]);
  expect(failed, 'failed requests').toEqual([]);

  const plots = await page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('[data-plot]')).map((el) => [
    (el as HTMLElement).dataset.plot!,
    { svgs: el.querySelectorAll('svg').length, circles: el.querySelectorAll('g[aria-label="dot"] circle').length,
      paths: el.querySelectorAll('g[aria-label="line"] path').length },
  ])));
  for (const name of ['loss', 'gradient-flow', 'eigenvalues-rnn', 'eigenvalues-lstm', 'forget-gates', 'frequency']) {
    expect(plots[name], `[data-plot="${name}"]`).toBeDefined();
    expect(plots[name]!.svgs, `svg in [data-plot="${name}"]`).toBeGreaterThan(0);
  }
  expect(plots['eigenvalues-rnn']!.circles, 'RNN eigenvalue dots = hidden size').toBe(HIDDEN);
  expect(plots['eigenvalues-lstm']!.circles, 'LSTM eigenvalue dots = 4 gate blocks x hidden').toBe(4 * HIDDEN);
  expect(plots['eigenvalues-rnn']!.paths, 'unit circle').toBe(1);
  expect(plots['gradient-flow']!.paths, 'one gradient-flow line per model').toBe(2);
  expect(plots['frequency']!.paths, 'one frequency-response line per model').toBe(2);
  expect(plots['loss']!.circles, 'validation points: (epochs + 1) per model').toBe(2 * 13);
  expect(plots['forget-gates']!.circles, 'one time constant per LSTM unit (finite ones)').toBeGreaterThan(HIDDEN / 2);

  const keys = await page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('[data-key]'))
    .map((el) => [(el as HTMLElement).dataset.key!, el.textContent ?? ''])));
  const num = (k: string): number => {
    const v = Number(keys[k]);
    expect(Number.isFinite(v), `${k} = ${keys[k]} is a finite number`).toBe(true);
    return v;
  };
  await page.close();
  for (const m of ['lstm', 'rnn']) {
    expect(num(`${m}-final-loss`), `${m} loss decreased`).toBeLessThan(num(`${m}-initial-loss`));
    expect(num(`${m}-spectral-radius`)).toBeGreaterThan(0);
    expect(num(`${m}-linearization-radius`)).toBeGreaterThan(0);
  }
  expect(num('rnn-eigenvalues')).toBe(HIDDEN);
  expect(num('lstm-eigenvalues')).toBe(4 * HIDDEN);
  expect(num('lstm-tau-median')).toBeGreaterThan(0);
  // The point of the demo (fixed seeds): the LSTM solves the task, the tanh RNN stays near the mean predictor (1/6).
  expect(num('lstm-final-loss')).toBeLessThan(0.02);
  expect(num('rnn-final-loss')).toBeGreaterThan(0.1);
  expect(num('lstm-final-loss')).toBeLessThan(num('rnn-final-loss'));
  console.log('demo page numbers:', JSON.stringify(keys));
});
