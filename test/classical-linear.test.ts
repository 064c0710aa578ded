// Classical linear bridges (src/classical/varma.ts, fit-linear.ts) against NumPy / SciPy references written by
// test/fixtures/gen_classical_linear.py (exact Faddeev-LeVerrier fractions, np.poly, scipy.signal.ss2tf,
// np.linalg.lstsq; see test/fixtures/README.md), plus exact identities checked in TypeScript.
//
// Tolerances (relative in the max norm: max |ours - ref| / max |ref| over a whole array): 1e-12 against exact
// values (characteristic polynomials, numerators, Markov parameters), 1e-9 against SciPy's ss2tf and NumPy's
// lstsq and for the ARMAX <-> state-space equivalence, 1e-9 for evaluate() vs frequencyResponse. The statistical
// tests use fixed seeds and state their tolerance (about 4 standard errors). Measured errors are printed at the end.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  StateSpace, appendConstantInput, armaxPresample, characteristicPolynomial, fitArx, fitStateSpaceLeastSquares,
  linearizedStateSpace, markovParameters, simulateArmax, simulateStateSpace, stateSpaceFromRnn, toArmax, transferFunction,
} from '../src/classical/index.js';
import { cellMap, frequencyResponse, lstmCellMap, rnnCellMap, runCellMap } from '../src/analysis/index.js';
import { init } from '../src/runtime/engine.js';
import { GRU } from '../src/nn/recurrent.js';
import { Matrix } from '../src/analysis/linalg.js';
import { InvalidArgumentError, ShapeError } from '../src/errors.js';
import { Random } from '../src/nn/random.js';
import { fixturesDir } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const lin: any = JSON.parse(readFileSync(`${fixturesDir}classical/linear.json`, 'utf8'));
const fitFx: any = JSON.parse(readFileSync(`${fixturesDir}classical/linear_fit.json`, 'utf8'));
const cases = (section: any[]): [string, any][] => section.map((c) => [c.name as string, c]);

const measured = new Map<string, number>();
function record(what: string, err: number): number {
  measured.set(what, Math.max(measured.get(what) ?? 0, err));
  return err;
}
afterAll(() => {
  const lines = [...measured].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${k.padEnd(52)} ${v.toExponential(2)}`);
  console.log(`classical-linear: max measured errors (relative in the max norm unless noted)\n${lines.join('\n')}`);
});

const flat = (x: unknown): number[] => (Matrix.isMatrix(x) ? (x as Matrix).to1DArray()
  : Array.isArray(x) || ArrayBuffer.isView(x) ? Array.from(x as ArrayLike<unknown>).flatMap(flat) : [x as number]);
function relErr(a: unknown, b: unknown): number {
  const x = flat(a), y = flat(b);
  expect(x.length).toBe(y.length);
  let d = 0, m = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.abs(x[i]! - y[i]!);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    m = Math.max(m, Math.abs(y[i]!));
  }
  return m > 0 ? d / m : d;
}
function expectRel(what: string, a: unknown, b: unknown, tol: number): void {
  const e = record(what, relErr(a, b));
  expect(e, `${what}: relative error ${e}`).toBeLessThanOrEqual(tol);
}

/** The noises StateSpace.simulate drew, recovered from its states and outputs (h_0 given). */
function recoverNoise(ss: StateSpace, xs: number[][], sim: { states: Float64Array[]; outputs: Float64Array[] }, h0: number[]) {
  const w: number[][] = [], v: number[][] = [];
  let h = h0;
  for (let t = 0; t < xs.length; t++) {
    const ht = Array.from(sim.states[t]!), yt = Array.from(sim.outputs[t]!);
    w.push(ht.map((val, i) => val - ss.A.getRow(i).reduce((s, a, j) => s + a * h[j]!, 0) -
      ss.B.getRow(i).reduce((s, b, j) => s + b * xs[t]![j]!, 0)));
    v.push(yt.map((val, i) => val - ss.C.getRow(i).reduce((s, c, j) => s + c * ht[j]!, 0) -
      ss.D.getRow(i).reduce((s, d, j) => s + d * xs[t]![j]!, 0)));
    h = ht;
  }
  return { w, v };
}

function randomRows(rng: Random, T: number, m: number, scale = 1): number[][] {
  return Array.from({ length: T }, () => Array.from({ length: m }, () => scale * rng.normal()));
}

// -----------------------------------------------------------------------------------------------------------------
describe('characteristicPolynomial', () => {
  it.each(cases(lin.charpoly))('%s: both methods vs the exact coefficients and np.poly', (_name, c) => {
    const hess = characteristicPolynomial(c.A);
    const eig = characteristicPolynomial(c.A, { method: 'eigenvalues' });
    expectRel('charpoly hessenberg vs exact', hess, c.exact, 1e-12);
    expectRel('charpoly eigenvalues vs exact', eig, c.exact, 1e-12);
    expectRel('charpoly hessenberg vs np.poly', hess, c.poly, 1e-12);
    expect(hess[0]).toBe(1);
  });
});

describe('transferFunction and markovParameters', () => {
  it('defaults to the timing of the argument: rnn for a StateSpace (what simulate runs), standard for a quadruple', () => {
    const q = { A: [[0.5, 0.2], [-0.1, 0.3]], B: [[1], [0.5]], C: [[1, -1]], D: [[0.25]] };
    const ss = new StateSpace(q);
    // Impulse response of simulate from h_0 = 0 without noise: x_1 = 1, then zeros.
    const sim = ss.simulate([[1], [0], [0], [0]], { noise: false, h0: [0, 0] }).outputs.map((y) => y[0]!);
    const mkSs = markovParameters(ss, 4).map((G) => G.get(0, 0));
    for (let k = 0; k < 4; k++) expect(Math.abs(mkSs[k]! - sim[k]!)).toBeLessThan(1e-15);
    const mkQ = markovParameters(q, 2).map((G) => G.get(0, 0));
    expect(mkQ[0]).toBe(0.25); // D
    expect(Math.abs(mkQ[1]! - (1 * 1 + -1 * 0.5))).toBeLessThan(1e-15); // CB
    expect(transferFunction(ss).timing).toBe('rnn');
    expect(transferFunction(q).timing).toBe('standard');
  });

  it.each(cases(lin.ss2tf))('%s: den / num vs ss2tf and exact; Markov parameters; evaluate vs frequencyResponse', (_n, c) => {
    const sys = { A: c.A, B: c.B, C: c.C, D: c.D };
    const tf = transferFunction(sys);
    expectRel('tf den vs ss2tf', tf.den, c.den, 1e-9);
    expectRel('tf den vs exact', tf.den, c.exactDen, 1e-12);
    for (let j = 0; j < tf.m; j++) {
      const numJ = tf.num.map((row) => Array.from(row[j]!));
      expectRel('tf num vs ss2tf', numJ, c.num[j], 1e-9);
      expectRel('tf num vs exact', numJ, c.exactNum[j], 1e-12);
    }
    const mk = markovParameters(sys, 6);
    expect(mk).toHaveLength(6);
    expectRel('markov vs exact', mk.map((G) => G.to2DArray()), c.markov, 1e-12);
    // evaluate on and off the unit circle: standard timing vs frequencyResponse (C (zI - A)^{-1} B + D)
    const omega = [0, 0.3, 1.1, 2.5, Math.PI];
    const fr = frequencyResponse(sys, { omega });
    omega.forEach((w, k) => {
      const H = tf.evaluate({ re: Math.cos(w), im: Math.sin(w) });
      expectRel('evaluate vs frequencyResponse (re)', H.re, fr.re.map((r) => r.map((a) => a[k]!)), 1e-9);
      expectRel('evaluate vs frequencyResponse (im)', H.im, fr.im.map((r) => r.map((a) => a[k]!)), 1e-9);
    });
    // rnn timing: G(z) = z (H(z) - D) + D, impulse response D + CB, CAB, ...
    const tr = transferFunction(sys, { timing: 'rnn' });
    const D = new Matrix(c.D);
    for (const z of [{ re: 0.3, im: 1.2 }, { re: -1.5, im: 0.2 }, { re: 1, im: 0 }]) {
      const H = tf.evaluate(z), G = tr.evaluate(z);
      const expRe = H.re.map((r, i) => r.map((h, j) => z.re * (h - D.get(i, j)) - z.im * H.im[i]![j]! + D.get(i, j)));
      const expIm = H.im.map((r, i) => r.map((h, j) => z.re * h + z.im * (H.re[i]![j]! - D.get(i, j))));
      expectRel('rnn-timing evaluate vs z (H - D) + D', [G.re, G.im], [expRe, expIm], 1e-9);
    }
    const mr = markovParameters(sys, 5, { timing: 'rnn' });
    expectRel('rnn-timing markov', mr[0]!.to2DArray(), D.clone().add(new Matrix(c.markov[1])).to2DArray(), 1e-12);
    for (let k = 1; k < 5; k++) expectRel('rnn-timing markov', mr[k]!.to2DArray(), c.markov[k + 1], 1e-12);
  });

  it('rejects evaluation at a pole and bad arguments', () => {
    const tf = transferFunction({ A: [[0.5]], B: [[1]], C: [[1]] });
    expect(() => tf.evaluate({ re: 0.5, im: 0 })).toThrow(InvalidArgumentError);
    expect(() => tf.evaluate({ re: NaN, im: 0 })).toThrow(expect.objectContaining({ argument: 'z' }));
  });
});

// -----------------------------------------------------------------------------------------------------------------
const armaxSystems: [string, () => { ss: StateSpace; h0: number[]; T: number }][] = [
  ['rnn 3 states, 1 input, 2 outputs', () => {
    const c = lin.ss2tf.find((s: any) => s.name === 'rnn3x1x2');
    return { ss: new StateSpace({ A: c.A, B: c.B, C: c.C, D: c.D, Q: [[0.04, 0.01, 0], [0.01, 0.03, 0], [0, 0, 0.02]], R: [[0.01, 0], [0, 0.02]] }), h0: [0.5, -1, 0.3], T: 60 };
  }],
  ['resonant 5 states, 1 input, 2 outputs', () => {
    const c = lin.ss2tf.find((s: any) => s.name === 'resonant5');
    return { ss: new StateSpace({ A: c.A, B: c.B, C: c.C, Q: Matrix.eye(5, 5).mul(0.01), R: Matrix.eye(2, 2).mul(0.05) }), h0: [1, 0, -1, 0.5, 0.2], T: 80 };
  }],
  ['MIMO 4 states, 2 inputs, 3 outputs, D != 0', () => {
    const c = lin.ss2tf.find((s: any) => s.name === 'mimo4x2x3');
    return { ss: new StateSpace({ A: c.A, B: c.B, C: c.C, D: c.D, Q: Matrix.eye(4, 4).mul(0.02), R: Matrix.eye(3, 3).mul(0.01) }), h0: [0.1, 0.2, -0.3, 0.4], T: 50 };
  }],
  ['first order', () => ({ ss: new StateSpace({ A: [[0.8]], B: [[2]], C: [[0.5]], D: [[0.25]], Q: [[0.1]], R: [[0.05]] }), h0: [2], T: 30 })],
];

describe('toArmax / simulateArmax', () => {
  it.each(armaxSystems)('%s: ARMAX equals the state-space outputs on the same inputs and noises', (_n, make) => {
    const { ss, h0, T } = make();
    const rng = new Random(7);
    const xs = randomRows(rng, T, ss.m);
    const sim = ss.simulate(xs, { seed: 11, h0 });
    const noises = recoverNoise(ss, xs, sim, h0);
    // The deterministic recursion with these noises is StateSpace.simulate.
    const det = simulateStateSpace(ss, xs, noises, { h0 });
    expectRel('simulateStateSpace vs StateSpace.simulate', det.outputs, sim.outputs, 1e-12);
    expectRel('simulateStateSpace vs StateSpace.simulate', det.states, sim.states, 1e-12);
    const armax = toArmax(ss);
    expect(armax.a).toHaveLength(ss.n + 1);
    expect(armax.M).toHaveLength(ss.n + 1);
    expect(armax.N).toHaveLength(ss.n);
    // (a) t > n: the first n outputs given (the identity needs y_{t-n}, t - n >= 1).
    const yKnown = simulateArmax(armax, xs, noises, { knownOutputs: sim.outputs.slice(0, ss.n) });
    expectRel('ARMAX (known y_1..y_n) vs state space, t > n', yKnown.slice(ss.n), sim.outputs.slice(ss.n), 1e-9);
    // (b) from t = 1 with the presample w_0 = h_0, y_0 = C h_0.
    const yPre = simulateArmax(armax, xs, noises, { presample: armaxPresample(ss, h0) });
    expectRel('ARMAX (presample from h_0) vs state space, t >= 1', yPre, sim.outputs, 1e-9);
    // The zero presample is right only for h_0 = 0: here it is visibly wrong at t = 1 (so the checks are not vacuous).
    const yZero = simulateArmax(armax, xs, noises);
    expect(relErr(yZero.slice(0, 1), sim.outputs.slice(0, 1))).toBeGreaterThan(1e-3);
    const yZero0 = simulateArmax(armax, xs, noises);
    const sim0 = simulateStateSpace(ss, xs, noises, { h0: new Array(ss.n).fill(0) });
    expectRel('ARMAX (zero presample) vs state space from h_0 = 0', yZero0, sim0.outputs, 1e-9);
    // The exogenous matrices are the rnn-timing transfer-function numerators.
    const tf = transferFunction(ss, { timing: 'rnn' });
    expectRel('ARMAX M_j vs rnn-timing numerators', armax.M.map((M) => M.to2DArray()), tf.numMatrices.map((M) => M.to2DArray()), 1e-12);
  });

  it('noise autocovariance Gamma_k matches the sample autocovariance of e_t (T = 20000, seed 3, tol 0.05 max|Gamma_0|)', () => {
    const { ss } = armaxSystems[0]![1]();
    const T = 20000, n = ss.n;
    const xs = randomRows(new Random(5), T, ss.m);
    const sim = ss.simulate(xs, { seed: 3, h0: [0, 0, 0] });
    const ar = toArmax(ss);
    // e_t = sum_i a_i y_{t-i} - sum_j M_j x_{t-j}, t > n
    const e: number[][] = [];
    for (let t = n; t < T; t++) {
      const v = new Array(ss.p).fill(0);
      for (let i = 0; i <= n; i++) sim.outputs[t - i]!.forEach((y, r) => { v[r] += ar.a[i]! * y; });
      for (let j = 0; j <= n; j++) for (let r = 0; r < ss.p; r++) for (let c = 0; c < ss.m; c++) v[r] -= ar.M[j]!.get(r, c) * xs[t - j]![c]!;
      e.push(v);
    }
    const scale = Math.max(...ar.noiseAutocovariance[0]!.to1DArray().map(Math.abs));
    for (let k = 0; k <= n + 1; k++) {
      const S = new Matrix(ss.p, ss.p);
      for (let t = k; t < e.length; t++) for (let r = 0; r < ss.p; r++) for (let c = 0; c < ss.p; c++) S.set(r, c, S.get(r, c) + e[t]![r]! * e[t - k]![c]! / (e.length - k));
      const ref = k <= n ? ar.noiseAutocovariance[k]! : new Matrix(ss.p, ss.p);
      const err = Math.max(...S.clone().sub(ref).to1DArray().map(Math.abs)) / scale;
      record('noise autocovariance (statistical, / max|Gamma_0|)', err);
      expect(err, `lag ${k}`).toBeLessThan(0.05);
    }
  });
});

// -----------------------------------------------------------------------------------------------------------------
describe('stateSpaceFromRnn / linearizedStateSpace', () => {
  const W = { weightHh: [[0.5, 0.2, 0], [-0.3, 0.6, 0.1], [0, 0.25, -0.4]], weightIh: [[1, 0.3], [0.5, 0], [-0.2, 0.7]] };

  it.each([
    ['no bias (auto: B = W_ih)', {}, 2],
    ['bias as a constant input (auto)', { biasIh: [0.1, -0.2, 0.3], biasHh: [0.05, 0, -0.1] }, 3],
  ] as [string, object, number][])('%s reproduces the linear RNN', (_n, bias, m) => {
    const map = rnnCellMap({ ...W, ...bias, nonlinearity: 'identity' });
    const ss = stateSpaceFromRnn(map, { C: [[1, 0, 1], [0, 1, 0]] });
    expect(ss.m).toBe(m);
    expect(ss.A.to2DArray()).toEqual(W.weightHh);
    const xs = randomRows(new Random(2), 20, 2);
    const h0 = [0.3, -0.2, 0.1];
    const run = runCellMap(map, xs, h0);
    const sim = ss.simulate(m === 3 ? appendConstantInput(xs) : xs, { noise: false, h0 });
    expectRel('stateSpaceFromRnn vs runCellMap', sim.states, run.states, 1e-12);
    const plain = stateSpaceFromRnn({ ...W, ...bias });
    expect(plain.B.to2DArray()).toEqual(ss.B.to2DArray());
  });

  it("bias: 'input' always adds the column, a p x I D gets a zero bias column, 'reject' throws", () => {
    const ss = stateSpaceFromRnn(W, { bias: 'input', D: [[1, 2], [3, 4], [5, 6]] });
    expect(ss.m).toBe(3);
    expect(ss.D.to2DArray()).toEqual([[1, 2, 0], [3, 4, 0], [5, 6, 0]]);
    expect(ss.B.getColumn(2)).toEqual([0, 0, 0]);
    expect(() => stateSpaceFromRnn({ ...W, biasHh: [0, 1, 0] }, { bias: 'reject' }))
      .toThrow(expect.objectContaining({ name: 'InvalidArgumentError', argument: 'options.bias' }));
    expect(stateSpaceFromRnn(W, { bias: 'reject' }).m).toBe(2);
  });

  it('linearizedStateSpace: tanh RNN Jacobians vs central differences; drift; a linear cell gives W_hh, W_ih', () => {
    const map = rnnCellMap({ ...W, biasIh: [0.2, -0.1, 0], nonlinearity: 'tanh' });
    const s = [0.3, -0.5, 0.2], x = [0.4, -0.1];
    const lz = linearizedStateSpace(map, { state: s, x });
    const f = map.step(s, x);
    expectRel('linearized drift', lz.drift, Array.from(f, (v, i) => v - s[i]!), 0);
    const eps = 1e-6, fdA: number[][] = [[], [], []], fdB: number[][] = [[], [], []];
    for (let j = 0; j < 3; j++) {
      const sp = s.slice(), sm = s.slice(); sp[j]! += eps; sm[j]! -= eps;
      const d = map.step(sp, x).map((v, i) => (v - map.step(sm, x)[i]!) / (2 * eps));
      d.forEach((v, i) => { fdA[i]![j] = v; });
    }
    for (let j = 0; j < 2; j++) {
      const xp = x.slice(), xm = x.slice(); xp[j]! += eps; xm[j]! -= eps;
      const d = map.step(s, xp).map((v, i) => (v - map.step(s, xm)[i]!) / (2 * eps));
      d.forEach((v, i) => { fdB[i]![j] = v; });
    }
    expectRel('linearized A vs central differences', lz.system.A.to2DArray(), fdA, 1e-8);
    expectRel('linearized B vs central differences', lz.system.B.to2DArray(), fdB, 1e-8);
    const linear = linearizedStateSpace(rnnCellMap({ ...W, nonlinearity: 'identity' }), { state: s, x });
    expect(linear.system.A.to2DArray()).toEqual(W.weightHh);
    expect(linear.system.B.to2DArray()).toEqual(W.weightIh);
    const lstm = lstmCellMap({ weightIh: Matrix.ones(8, 1).mul(0.1), weightHh: Matrix.ones(8, 2).mul(0.05) });
    const ll = linearizedStateSpace(lstm);
    expect([ll.system.n, ll.system.p, ll.system.m]).toEqual([4, 2, 1]);
    expect(ll.system.C.to2DArray()).toEqual([[1, 0, 0, 0], [0, 1, 0, 0]]);
  });

  describe('from a model', () => {
    beforeAll(async () => { await init({ threads: 1 }); });
    it('a 2-layer GRU: layer 1 linearized equals the Jacobians of its cell map', () => {
      const gru = new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, seed: 4 });
      try {
        const s = [0.1, -0.2, 0.3], x = [0.5, -0.4, 0.2];
        const lz = linearizedStateSpace(gru, { layer: 1, state: s, x });
        const J = cellMap(gru, { layer: 1 }).jacobian(s, x);
        expect(lz.system.A.to2DArray()).toEqual(J.A.to2DArray());
        expect(lz.system.B.to2DArray()).toEqual(J.B.to2DArray());
        expect([lz.system.n, lz.system.m, lz.system.p]).toEqual([3, 3, 3]);
      } finally { gru.dispose(); }
    });
  });
});

// -----------------------------------------------------------------------------------------------------------------
describe('fitStateSpaceLeastSquares / fitArx vs np.linalg.lstsq', () => {
  it.each(cases(fitFx.statespace))('%s', (_n, c) => {
    const fit = fitStateSpaceLeastSquares({ states: c.states, inputs: c.inputs, outputs: c.outputs, intercept: c.intercept });
    const r = c.ref;
    expectRel('state-space LS A vs lstsq', fit.A.to2DArray(), r.A, 1e-9);
    if (c.inputs) expectRel('state-space LS B vs lstsq', fit.B.to2DArray(), r.B, 1e-9);
    expectRel('state-space LS b vs lstsq', fit.b, r.b, 1e-9);
    expectRel('state-space LS Q (ML) vs lstsq', fit.Q.to2DArray(), r.Q, 1e-9);
    expectRel('state-space LS Q (unbiased) vs lstsq', fit.QUnbiased.to2DArray(), r.QUnbiased, 1e-9);
    expectRel('state-space LS log-likelihood', fit.logLikelihood, r.logLikelihood, 1e-9);
    if (c.outputs) {
      expectRel('state-space LS C vs lstsq', fit.C!.to2DArray(), r.C, 1e-9);
      expectRel('state-space LS D vs lstsq', fit.D!.to2DArray(), r.D, 1e-9);
      expectRel('state-space LS R vs lstsq', [fit.R!.to2DArray(), fit.RUnbiased!.to2DArray()], [r.R, r.RUnbiased], 1e-9);
    }
    expect(fit.system.m).toBe((c.inputs?.[0]?.length ?? 0) + (c.intercept ? 1 : 0));
    expect(fit.residuals).toHaveLength(c.states.length - 1);
  });

  it.each(cases(fitFx.arx))('%s', (_n, c) => {
    const fit = fitArx(c.y, c.x, { na: c.na, nb: c.nb, inputDelay: c.inputDelay, intercept: c.intercept });
    expectRel('ARX theta vs lstsq', fit.theta.to2DArray(), c.ref.theta, 1e-9);
    expectRel('ARX sigma vs lstsq', [fit.sigma.to2DArray(), fit.sigmaUnbiased.to2DArray()], [c.ref.sigma, c.ref.sigmaUnbiased], 1e-9);
    expectRel('ARX log-likelihood', fit.logLikelihood, c.ref.logLikelihood, 1e-9);
    expect(fit.N).toBe(c.ref.N);
    // predict = y - residuals; simulate with the residuals as noise and the true start reproduces y
    const lag = Math.max(c.na, c.x ? c.nb : 0);
    const pred = fit.predict(c.y, c.x);
    expectRel('ARX predict + residual = y', pred.map((p, t) => p.map((v, i) => v + fit.residuals[t]![i]!)), c.y.slice(lag), 1e-12);
  });
});

describe('least squares is consistent (fixed seeds, stated tolerances)', () => {
  const truth = new StateSpace({
    A: [[0.7, 0.2, 0], [-0.2, 0.6, 0.1], [0.05, 0, 0.5]], B: [[1], [0.4], [-0.3]], C: [[1, 0, 0.5], [0, 1, -1]],
    Q: [[0.04, 0, 0], [0, 0.02, 0], [0, 0, 0.03]], R: [[0.01, 0], [0, 0.01]],
  });
  it('state-space [A B] and Q approach the truth as T grows (T = 200, 2000, 20000; error < 8 / sqrt(T) for [A B], Q within 5% at T = 20000)', () => {
    const errs: number[] = [];
    for (const T of [200, 2000, 20000]) {
      const xs = randomRows(new Random(100 + T), T, 1);
      const sim = truth.simulate(xs, { seed: T, h0: [0, 0, 0] });
      const fit = fitStateSpaceLeastSquares({ states: [[0, 0, 0], ...sim.states.map((h) => Array.from(h))], inputs: xs });
      const err = Math.max(relErr(fit.A.to2DArray(), truth.A.to2DArray()) * Math.max(...truth.A.to1DArray().map(Math.abs)),
        relErr(fit.B.to2DArray(), truth.B.to2DArray()) * 1);
      errs.push(err);
      record(`state-space LS max |[A B] - truth| (absolute), T = ${T}`, err);
      expect(err).toBeLessThan(8 / Math.sqrt(T));
      if (T === 20000) {
        expectRel('state-space LS Q vs truth (statistical), T = 20000', fit.Q.to2DArray(), truth.Q.to2DArray(), 0.05);
      }
    }
    expect(errs[2]!).toBeLessThan(errs[0]!);
  });

  it('fitArx on ARX data recovers A_i, B_j (T = 20000, error < 0.02) and the fitted H(z) matches the truth', () => {
    const A1 = [[0.5, 0.1], [-0.2, 0.4]], B0 = [[0.3], [0]], B1 = [[1], [0.5]];
    const T = 20000, rng = new Random(42);
    const xs = randomRows(rng, T, 1), ys: number[][] = [];
    for (let t = 0; t < T; t++) {
      const y = [0.1 * rng.normal(), 0.1 * rng.normal()];
      for (let r = 0; r < 2; r++) {
        y[r]! += B0[r]![0]! * xs[t]![0]!;
        if (t > 0) { y[r]! += A1[r]![0]! * ys[t - 1]![0]! + A1[r]![1]! * ys[t - 1]![1]! + B1[r]![0]! * xs[t - 1]![0]!; }
      }
      ys.push(y);
    }
    const fit = fitArx(ys, xs, { na: 1, nb: 1 });
    const err = Math.max(relErr(fit.A[0]!.to2DArray(), A1), relErr(fit.B[0]!.to2DArray(), B0) * 0.3, relErr(fit.B[1]!.to2DArray(), B1));
    record('ARX coefficients vs truth (statistical), T = 20000', err);
    expect(err).toBeLessThan(0.02);
    expectRel('ARX sigma vs truth (statistical), T = 20000', fit.sigma.to2DArray(), [[0.01, 0], [0, 0.01]], 0.05);
  });

  it('noise-free SISO data: ARX(n, n) recovers the rnn-timing transfer function exactly; simulate reproduces y', () => {
    const ss = new StateSpace({ A: [[0.5, 0.2, 0], [-0.3, 0.6, 0.1], [0, 0.25, -0.4]], B: [[1], [0.5], [-0.2]], C: [[1, 0, 0.5]] });
    const xs = randomRows(new Random(9), 300, 1);
    const ys = ss.simulate(xs, { noise: false, h0: [0, 0, 0] }).outputs.map((y) => Array.from(y));
    const fit = fitArx(ys, xs, { na: 3, nb: 3 });
    const tf = transferFunction(ss, { timing: 'rnn' });
    for (const w of [0, 0.5, 1.5, 3]) {
      const z = { re: Math.cos(w), im: Math.sin(w) };
      const a = fit.evaluate(z), b = tf.evaluate(z);
      expectRel('noise-free ARX H(z) vs rnn-timing transfer function', [a.re, a.im], [b.re, b.im], 1e-8);
    }
    const y2 = fit.simulate(xs);
    expectRel('ARX simulate (zero start) vs state space from h_0 = 0', y2, ys, 1e-8);
  });
});

// -----------------------------------------------------------------------------------------------------------------
describe('error paths name the argument', () => {
  const ss = new StateSpace({ A: [[0.5, 0], [0, 0.2]], B: [[1], [0]], C: [[1, 1]] });
  const armax = toArmax(ss);
  const table: [string, () => unknown, typeof ShapeError | typeof InvalidArgumentError, string][] = [
    ['characteristicPolynomial non-square', () => characteristicPolynomial([[1, 2]]), ShapeError, 'A'],
    ['characteristicPolynomial NaN', () => characteristicPolynomial([[1, NaN], [0, 1]]), InvalidArgumentError, 'A'],
    ['characteristicPolynomial method', () => characteristicPolynomial([[1]], { method: 'qr' as never }), InvalidArgumentError, 'options.method'],
    ['markovParameters k = 0', () => markovParameters(ss, 0), InvalidArgumentError, 'k'],
    ['markovParameters B rows', () => markovParameters({ A: [[1, 0], [0, 1]], B: [[1]], C: [[1, 0]] }, 2), ShapeError, 'sys.B'],
    ['transferFunction C cols', () => transferFunction({ A: [[1]], B: [[1]], C: [[1, 0]] }), ShapeError, 'sys.C'],
    ['transferFunction D shape', () => transferFunction({ A: [[1]], B: [[1]], C: [[1]], D: [[1, 2]] }), ShapeError, 'sys.D'],
    ['transferFunction Infinity', () => transferFunction({ A: [[Infinity]], B: [[1]], C: [[1]] }), InvalidArgumentError, 'sys.A'],
    ['transferFunction timing', () => transferFunction(ss, { timing: 'late' as never }), InvalidArgumentError, 'options.timing'],
    ['stateSpaceFromRnn nonlinear map', () => stateSpaceFromRnn(rnnCellMap({ weightIh: [[1]], weightHh: [[1]], nonlinearity: 'tanh' })), InvalidArgumentError, 'source'],
    ['stateSpaceFromRnn W_hh shape', () => stateSpaceFromRnn({ weightIh: [[1], [1]], weightHh: [[1, 2, 3], [4, 5, 6]] }), ShapeError, 'weightHh'],
    ['stateSpaceFromRnn C cols', () => stateSpaceFromRnn({ weightIh: [[1]], weightHh: [[1]] }, { C: [[1, 2]] }), ShapeError, 'options.C'],
    ['stateSpaceFromRnn D cols', () => stateSpaceFromRnn({ weightIh: [[1]], weightHh: [[1]] }, { D: [[1, 2, 3]] }), ShapeError, 'options.D'],
    ['stateSpaceFromRnn bias mode', () => stateSpaceFromRnn({ weightIh: [[1]], weightHh: [[1]] }, { bias: 'x' as never }), InvalidArgumentError, 'options.bias'],
    ['linearizedStateSpace x length', () => linearizedStateSpace(rnnCellMap({ weightIh: [[1]], weightHh: [[1]], nonlinearity: 'tanh' }), { x: [1, 2] }), ShapeError, 'x'],
    ['linearizedStateSpace state NaN', () => linearizedStateSpace(rnnCellMap({ weightIh: [[1]], weightHh: [[1]], nonlinearity: 'tanh' }), { state: [NaN] }), InvalidArgumentError, 'state'],
    ['simulateArmax inputs width', () => simulateArmax(armax, [[1, 2]]), ShapeError, 'inputs'],
    ['simulateArmax inputs NaN', () => simulateArmax(armax, [[NaN]]), InvalidArgumentError, 'inputs'],
    ['simulateArmax noise rows', () => simulateArmax(armax, [[1], [2]], { w: [[0, 0]] }), ShapeError, 'noises.w'],
    ['simulateArmax v width', () => simulateArmax(armax, [[1]], { v: [[0, 0]] }), ShapeError, 'noises.v'],
    ['simulateArmax presample rows', () => simulateArmax(armax, [[1]], {}, { presample: { y: [[0]] } }), ShapeError, 'options.presample.y'],
    ['simulateArmax knownOutputs too long', () => simulateArmax(armax, [[1]], {}, { knownOutputs: [[0], [0]] }), ShapeError, 'options.knownOutputs'],
    ['simulateArmax not an armax', () => simulateArmax({} as never, [[1]]), InvalidArgumentError, 'armax'],
    ['simulateStateSpace h0 length', () => simulateStateSpace(ss, [[1]], {}, { h0: [1] }), ShapeError, 'options.h0'],
    ['armaxPresample h0 Infinity', () => armaxPresample(ss, [Infinity, 0]), InvalidArgumentError, 'h0'],
    ['fitStateSpaceLeastSquares one row', () => fitStateSpaceLeastSquares({ states: [[1, 2]] }), ShapeError, 'data.states'],
    ['fitStateSpaceLeastSquares ragged', () => fitStateSpaceLeastSquares({ states: [[1, 2], [1]] }), ShapeError, 'data.states'],
    ['fitStateSpaceLeastSquares inputs rows', () => fitStateSpaceLeastSquares({ states: [[1], [2], [3], [4]], inputs: [[1], [2]] }), ShapeError, 'data.inputs'],
    ['fitStateSpaceLeastSquares NaN output', () => fitStateSpaceLeastSquares({ states: [[1], [2], [3], [5]], outputs: [[1], [NaN], [2]] }), InvalidArgumentError, 'data.outputs'],
    ['fitStateSpaceLeastSquares too short', () => fitStateSpaceLeastSquares({ states: [[1, 0], [2, 1], [3, 1]] }), InvalidArgumentError, 'data.states'],
    ['fitStateSpaceLeastSquares collinear', () => fitStateSpaceLeastSquares({ states: [[1], [2], [3], [4], [5]], inputs: [[2], [4], [6], [8]] }), InvalidArgumentError, 'data.states'],
    ['fitArx na negative', () => fitArx([[1], [2], [3]], null, { na: -1, nb: 0 }), InvalidArgumentError, 'options.na'],
    ['fitArx nb fractional', () => fitArx([[1], [2], [3]], [[1], [2], [3]], { na: 1, nb: 0.5 }), InvalidArgumentError, 'options.nb'],
    ['fitArx inputDelay', () => fitArx([[1], [2], [3]], [[1], [2], [3]], { na: 1, nb: 1, inputDelay: 2 as never }), InvalidArgumentError, 'options.inputDelay'],
    ['fitArx x rows', () => fitArx([[1], [2], [3]], [[1], [2]], { na: 1, nb: 1 }), ShapeError, 'x'],
    ['fitArx y NaN', () => fitArx([[1], [NaN], [3]], null, { na: 1, nb: 0 }), InvalidArgumentError, 'y'],
    ['fitArx too few equations', () => fitArx([[1], [2], [3]], [[1], [2], [3]], { na: 1, nb: 1 }), InvalidArgumentError, 'y'],
  ];
  it.each(table)('%s', (_n, fn, cls, argument) => {
    let err: unknown;
    try { fn(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(cls);
    expect((err as { argument: string }).argument).toBe(argument);
  });
});
