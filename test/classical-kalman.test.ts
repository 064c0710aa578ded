// Kalman filter, RTS smoother, EM fitting and the filter/smoother/RNN comparison (src/classical/{kalman,fit-ml,
// compare-rnn}.ts).
//
// Fixtures: test/fixtures/classical/kalman.json from gen_classical_kalman.py, an independent plain-NumPy
// implementation in the textbook form (explicit inverses, P = (I - K C) P, Shumway & Stoffer's lag-one
// recursion), itself checked against the dense joint Gaussian of (h_0..h_T, y_1..y_T) (scipy's
// multivariate_normal for the log-likelihood). Tolerance 1e-9 relative in the max norm per quantity and step
// (max |ours - ref| / max |ref| over one matrix or vector): the two implementations round differently, and the
// near-singular-R case (cond S ~ 1e7) is where they differ most; measured errors are printed at the end.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError, ShapeError, StateSpace, init, kalmanFilter, rtsSmoother, type StateSpaceSpec,
} from '../src/index.js';
import { fixturesDir } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const fx: any = JSON.parse(readFileSync(`${fixturesDir}classical/kalman.json`, 'utf8'));
const TOL = 1e-9;
const measured: Record<string, number> = {};

beforeAll(async () => {
  await init({ simd: 'simd', force: true });
});

afterAll(() => {
  const rows = Object.entries(measured).map(([k, v]) => `${k}: ${v.toExponential(2)}`);
  console.log(`classical-kalman: worst relative errors against the NumPy fixtures\n  ${rows.join('\n  ')}`);
});

const nanRows = (rows: (number | null)[][]): number[][] => rows.map((r) => r.map((v) => (v === null ? NaN : v)));

function specOf(c: any): StateSpaceSpec {
  const s: StateSpaceSpec = { A: c.A, C: c.C, Q: c.Q, R: c.R, m0: c.m0, P0: c.P0 };
  if (c.B) { s.B = c.B; s.D = c.D; }
  return s;
}

/** max |a - b| / max |b| over one vector or matrix (NaN/null entries must agree). */
function relErr(a: ArrayLike<number> | ArrayLike<ArrayLike<number>>, b: any): number {
  const fa = Array.from(a as ArrayLike<any>).flatMap((v: any) => (typeof v === 'number' ? [v] : Array.from(v as ArrayLike<number>)));
  const fb = (b as any[]).flat(2) as (number | null)[];
  expect(fa.length).toBe(fb.length);
  let num = 0, den = 0;
  fa.forEach((v, i) => {
    const r = fb[i];
    if (r === null) { expect(Number.isNaN(v)).toBe(true); return; }
    num = Math.max(num, Math.abs(v - r!));
    den = Math.max(den, Math.abs(r!));
  });
  return den === 0 ? num : num / den;
}

function track(name: string, err: number): void {
  measured[name] = Math.max(measured[name] ?? 0, err);
  expect(err, name).toBeLessThanOrEqual(TOL);
}

const cases: [string, any][] = fx.cases.map((c: any) => [c.name, c]);

describe('kalmanFilter and rtsSmoother against NumPy (standard form) fixtures', () => {
  it.each(cases)('%s', (name, c) => {
    const ss = new StateSpace(specOf(c));
    const y = nanRows(c.y);
    const f = kalmanFilter(ss, y, c.inputs ? { inputs: c.inputs } : {});
    const T = y.length;
    expect(f.steps).toBe(T);
    const perStep = ['predictedMeans', 'predictedCovs', 'filteredMeans', 'filteredCovs', 'gains', 'innovations', 'innovationCovs'] as const;
    for (const k of perStep) {
      for (let t = 0; t < T; t++) track(`${name} ${k}`, relErr((f as any)[k][t], c[k][t]));
    }
    track(`${name} logLikelihood`, Math.abs(f.logLikelihood - c.logLikelihood) / Math.abs(c.logLikelihood));
    track(`${name} logLikelihood (dense)`, Math.abs(f.logLikelihood - c.logLikelihoodDense) / Math.abs(c.logLikelihoodDense));
    const s = rtsSmoother(ss, f);
    for (let t = 0; t < T; t++) {
      track(`${name} smoothedMeans`, relErr(s.smoothedMeans[t]!, c.smoothedMeans[t]));
      track(`${name} smoothedCovs`, relErr(s.smoothedCovs[t]!, c.smoothedCovs[t]));
      track(`${name} smootherGains`, relErr(s.gains[t]!, c.smootherGains[t]));
      track(`${name} lagOneCovs`, relErr(s.lagOneCovs[t]!, c.lagOneCovs[t]));
    }
    track(`${name} initialMean`, relErr(s.initialMean, c.initialMean));
    track(`${name} initialCov`, relErr(s.initialCov, c.initialCov));
  });

  it('the smoother at the last step is the filter; a fully missing row leaves the prediction unchanged', () => {
    const c = fx.cases.find((k: any) => k.name === 'missing_2x2');
    const ss = new StateSpace(specOf(c));
    const f = kalmanFilter(ss, nanRows(c.y), { inputs: c.inputs });
    const s = rtsSmoother(ss, f);
    const T = f.steps;
    expect(Array.from(s.smoothedMeans[T - 1]!)).toEqual(Array.from(f.filteredMeans[T - 1]!));
    expect(Array.from(f.filteredMeans[4]!)).toEqual(Array.from(f.predictedMeans[4]!));
    expect(f.filteredCovs[4]).toEqual(f.predictedCovs[4]);
    expect(f.gains[4]!.flat().every((v) => v === 0)).toBe(true);
    expect(f.observedCount).toBe(2 * T - 9);
  });
});
