import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ForwardResult } from '../src/index.js';

export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface T {
  shape: number[];
  data: number[];
}

export interface ForwardFixture {
  name: string;
  mode: 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';
  options: {
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    bidirectional: boolean;
    batchFirst: boolean;
    bias: boolean;
    projSize: number;
    nonlinearity?: 'tanh' | 'relu';
  };
  stateDict: Record<string, T>;
  input: T;
  h0?: T;
  c0?: T;
  lengths?: number[];
  output: T;
  hN: T;
  cN?: T;
}

/** A backward/*.json fixture (test/fixtures/gen_backward.py): a forward fixture plus upstream gradients and the
 *  gradients of L = sum(output * gOutput) + sum(hN * ghN) [+ sum(cN * gcN)]. */
export interface BackwardFixture extends ForwardFixture {
  gOutput: T;
  ghN: T;
  gcN?: T;
  grads: Record<string, T>;
  dInput: T;
  dh0: T;
  dc0?: T;
}

export function loadForwardFixtures(): ForwardFixture[] {
  const dir = `${fixturesDir}forward/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(dir + f, 'utf8')) as ForwardFixture);
}

/** Largest absolute difference; fails on length mismatch or NaN. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function expectClose(actual: { shape: readonly number[]; data: ArrayLike<number> }, expected: T, tol: number,
                            what = ''): void {
  expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
  const d = maxAbsDiff(actual.data, expected.data);
  expect(d, `${what} max |diff| = ${d}`).toBeLessThanOrEqual(tol);
}

/** n values in [-1, 1) from a 32-bit LCG (Numerical Recipes' constants): cheap, seeded test data. */
export function lcg(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const o = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    o[i] = (a / 2 ** 32) * 2 - 1;
  }
  return o;
}

/** Asserts two arrays hold the same floats bit for bit (Object.is: -0 and NaN count), naming how many differ. */
export function expectBitEqual(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) diff++;
  expect(diff, `${what}: ${diff} of ${a.length} elements differ`).toBe(0);
}

/** Asserts two forward results (output, hN and cN when present) are the same, shapes and floats bit for bit. */
export function expectIdentical(a: ForwardResult, b: ForwardResult, what: string): void {
  for (const k of ['output', 'hN', 'cN'] as const) {
    const x = a[k];
    const y = b[k];
    expect(!!x, `${what} ${k}`).toBe(!!y);
    if (!x || !y) continue;
    expect([...x.shape], `${what} ${k} shape`).toEqual([...y.shape]);
    expectBitEqual(x.data, y.data, `${what} ${k}`);
  }
}
