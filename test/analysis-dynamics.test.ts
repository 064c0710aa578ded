// Nonlinear dynamics analysis (src/analysis/{cell-map,dynamics,gradient-flow,signals}.ts) against torch/scipy
// fixtures from test/fixtures/gen_analysis_dynamics.py, closed forms, finite differences and the float32 engine.
//
// The fixture weights are multiples of 1/1024, exactly representable in float32, so a model built with
// loadStateDict holds exactly the fixture's numbers: cellMap(model) is compared with the fixtures directly at
// float64 tolerances (and checked to read the weights bit for bit), and so is a cell map built from the float64
// matrices.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError, UnsupportedError } from '../src/errors.js';
import { GRU, LSTM, RNN, init, type RecurrentLayer } from '../src/index.js';
import {
  biasSweep, cellAndInputs, cellMap, eulerAsRnn, expandJacobianPaths, fixedPoints, forgetGateTimeConstants,
  gradientFlow, gruCellMap, impulseResponse, jacobian, lstmCellMap, quantile, rnnCellMap, runCellMap,
  scalarGradient, snr, type CellMap,
} from '../src/analysis/dynamics-index.js';
import type { Matrix } from '../src/analysis/linalg.js';
import { fixturesDir, maxAbsDiff } from './helpers.js';

interface Tj { shape: number[]; data: number[] }
interface CellCase {
  name: string; mode: 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU'; resetAfter: boolean;
  inputSize: number; hiddenSize: number; projSize: number; stateSize: number;
  stateDict: Record<string, Tj>;
  points: { state: number[]; x: number[]; next: number[]; A: number[][]; B: number[][] }[];
  sequence: { state0: number[]; inputs: number[][]; states: number[][]; gradNorms: number[] };
  impulse: { steps: number; amplitude: number; inputIndex: number; states: number[][] };
  forget?: { f: number[][]; meanForget: number[]; tau: number[]; halfLife: number[]; fQuantiles: number[][]; tauQuantiles: number[][] };
}
interface FpNet {
  name: string; weightHh: number[][]; weightIh: number[][]; biasIh: number[]; biasHh: number[]; input: number[];
  fixedPoints: { state: number[]; residual: number; eigModuli: number[]; spectralRadius: number; stability: string }[];
}
const load = <X>(f: string): X => JSON.parse(readFileSync(`${fixturesDir}analysis/${f}`, 'utf8')) as X;
const cells = load<{ cases: CellCase[] }>('dynamics_cells.json').cases;
const fpNets = load<{ nets: FpNet[] }>('dynamics_fixed_points.json').nets;
const folds = load<{ weightHh: number[][]; weightIh: number[][]; biasIh: number[]; biasHh: number[];
  sweep: { which: 'ih'; index: number; from: number; to: number }; folds: { value: number; state: number[] }[] }>('dynamics_folds.json');
const scalar = load<{ x1: number; steps: number; tanh: number[]; relu: number[] }>('dynamics_scalar.json');

const worst: Record<string, number> = {};
function track(what: string, err: number): number {
  worst[what] = Math.max(worst[what] ?? 0, err);
  return err;
}
function matDiff(A: Matrix, rows: number[][]): number {
  expect([A.rows, A.columns]).toEqual([rows.length, rows[0]!.length]);
  return maxAbsDiff(A.to1DArray(), rows.flat());
}
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-300);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

function buildModel(c: { mode: CellCase['mode']; inputSize: number; hiddenSize: number; projSize?: number; resetAfter?: boolean },
                    sd: Record<string, Tj>): RecurrentLayer {
  const o = { inputSize: c.inputSize, hiddenSize: c.hiddenSize, seed: 1 };
  const m = c.mode === 'LSTM' ? new LSTM({ ...o, projSize: c.projSize ?? 0 })
    : c.mode === 'GRU' ? new GRU({ ...o, resetAfter: c.resetAfter ?? true })
      : new RNN({ ...o, nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
  m.loadStateDict(sd);
  return m;
}
const rowsOf = (t: Tj): number[][] => Array.from({ length: t.shape[0]! }, (_, r) => t.data.slice(r * t.shape[1]!, (r + 1) * t.shape[1]!));

function mapFromMatrices(c: CellCase): CellMap {
  const sd = c.stateDict;
  const m = { weightIh: rowsOf(sd.weight_ih_l0!), weightHh: rowsOf(sd.weight_hh_l0!), biasIh: sd.bias_ih_l0!.data, biasHh: sd.bias_hh_l0!.data };
  if (c.mode === 'LSTM') return lstmCellMap({ ...m, ...(c.projSize ? { weightHr: rowsOf(sd.weight_hr_l0!) } : {}) });
  if (c.mode === 'GRU') return gruCellMap({ ...m, resetAfter: c.resetAfter });
  return rnnCellMap({ ...m, nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
}

/** Central differences of map.step in s and x. */
function fdJacobian(map: CellMap, s: ArrayLike<number>, x: ArrayLike<number>, h = 1e-6): { A: number[][]; B: number[][] } {
  const S = map.stateSize, I = map.inputSize;
  const A = Array.from({ length: S }, () => new Array<number>(S).fill(0));
  const B = Array.from({ length: S }, () => new Array<number>(I).fill(0));
  for (let k = 0; k < S; k++) {
    const p = Float64Array.from(s), m = Float64Array.from(s);
    p[k]! += h; m[k]! -= h;
    const fp = map.step(p, x), fm = map.step(m, x);
    for (let i = 0; i < S; i++) A[i]![k] = (fp[i]! - fm[i]!) / (2 * h);
  }
  for (let k = 0; k < I; k++) {
    const p = Float64Array.from(x), m = Float64Array.from(x);
    p[k]! += h; m[k]! -= h;
    const fp = map.step(s, p), fm = map.step(s, m);
    for (let i = 0; i < S; i++) B[i]![k] = (fp[i]! - fm[i]!) / (2 * h);
  }
  return { A, B };
}

beforeAll(async () => {
  await init({ threads: 1 });
});

it('has the fixture cases', () => {
  expect(cells.map((c) => c.name)).toEqual(['rnn_tanh', 'rnn_relu', 'lstm', 'lstm_proj', 'gru', 'gru_reset_before']);
  expect(fpNets.map((n) => n.name)).toEqual(['fp_2u', 'fp_3u', 'fp_4u', 'fp_rot']);
  expect(folds.folds.length).toBe(4);
});

describe('cell maps against torch (float64, autograd Jacobians)', () => {
  for (const c of cells) {
    describe(c.name, () => {
      let model: RecurrentLayer;
      let fromModel: CellMap;
      let fromMatrices: CellMap;
      beforeAll(() => {
        model = buildModel(c, c.stateDict);
        fromModel = cellMap(model);
        fromMatrices = mapFromMatrices(c);
      });

      it('cellMap(model) reads the float32 weights exactly (the fixture weights are float32 numbers)', () => {
        const p = fromModel.params;
        expect(maxAbsDiff(p.weightIh.to1DArray(), c.stateDict.weight_ih_l0!.data)).toBe(0);
        expect(maxAbsDiff(p.weightHh.to1DArray(), c.stateDict.weight_hh_l0!.data)).toBe(0);
        expect(maxAbsDiff(p.biasIh, c.stateDict.bias_ih_l0!.data)).toBe(0);
        expect(maxAbsDiff(p.biasHh, c.stateDict.bias_hh_l0!.data)).toBe(0);
        if (c.projSize) expect(maxAbsDiff(p.weightHr!.to1DArray(), c.stateDict.weight_hr_l0!.data)).toBe(0);
        expect(fromModel.mode).toBe(c.mode);
        expect(fromModel.stateSize).toBe(c.stateSize);
        expect(fromModel.resetAfter).toBe(c.resetAfter);
      });

      it('step and Jacobians match torch at 1e-12 / 1e-10', () => {
        for (const map of [fromModel, fromMatrices]) {
          for (const pt of c.points) {
            expect(track('step', maxAbsDiff(map.step(pt.state, pt.x), pt.next))).toBeLessThan(1e-12);
            const J = map.jacobian(pt.state, pt.x);
            expect(track('jacobian A', matDiff(J.A, pt.A))).toBeLessThan(1e-10);
            expect(track('jacobian B', matDiff(J.B, pt.B))).toBeLessThan(1e-10);
          }
        }
      });

      it('Jacobians match central finite differences (1e-7)', () => {
        for (const pt of c.points) {
          const J = fromModel.jacobian(pt.state, pt.x);
          const fd = fdJacobian(fromModel, pt.state, pt.x);
          expect(track('finite differences', matDiff(J.A, fd.A))).toBeLessThan(1e-7);
          expect(matDiff(J.B, fd.B)).toBeLessThan(1e-7);
        }
      });

      it('jacobian() convenience: blocks of A and B, from h and c', () => {
        const pt = c.points[0]!;
        const P = c.projSize || c.hiddenSize;
        const at = c.mode === 'LSTM' ? { h: pt.state.slice(0, P), c: pt.state.slice(P), x: pt.x } : { h: pt.state, x: pt.x };
        const J = jacobian(model, at);
        expect(matDiff(J.A, pt.A)).toBeLessThan(1e-10);
        expect(matDiff(J.hh, pt.A.slice(0, P).map((r) => r.slice(0, P)))).toBeLessThan(1e-10);
        expect(matDiff(J.hx, pt.B.slice(0, P))).toBeLessThan(1e-10);
      });

      it('a run, its gradient flow and its impulse response match torch', () => {
        const run = runCellMap(fromModel, c.sequence.inputs, c.sequence.state0);
        expect(track('run states', maxAbsDiff(run.states.flatMap((s) => [...s]), c.sequence.states.flat()))).toBeLessThan(1e-12);
        const gf = gradientFlow(fromModel, c.sequence.inputs, { state0: c.sequence.state0 });
        expect(track('gradient norms (rel)', relDiff(gf.norms, c.sequence.gradNorms))).toBeLessThan(1e-10);
        expect([...gf.lags]).toEqual(c.sequence.gradNorms.map((_, k) => c.sequence.gradNorms.length - k));
        const imp = impulseResponse(model, { steps: c.impulse.steps, amplitude: c.impulse.amplitude, inputIndex: c.impulse.inputIndex });
        expect(track('impulse', maxAbsDiff(imp.states.flatMap((s) => [...s]), c.impulse.states.flat()))).toBeLessThan(1e-12);
        const P = c.projSize || c.hiddenSize;
        expect(maxAbsDiff(imp.hidden.flatMap((s) => [...s]), c.impulse.states.flatMap((s) => s.slice(0, P)))).toBeLessThan(1e-12);
      });

      it('the float64 run agrees with model.forward (float32 engine) within 1e-5', () => {
        const { inputs, state0 } = c.sequence;
        const P = c.projSize || c.hiddenSize;
        const r = model.forward({ data: inputs.flat(), shape: [inputs.length, c.inputSize] }, {
          h0: { data: state0.slice(0, P), shape: [1, P] },
          ...(c.mode === 'LSTM' ? { c0: { data: state0.slice(P), shape: [1, c.hiddenSize] } } : {}),
        });
        const run = runCellMap(fromModel, inputs, state0);
        expect(track('vs engine', maxAbsDiff(r.output.data, run.hidden.flatMap((h) => [...h])))).toBeLessThan(1e-5);
        if (c.mode === 'LSTM') expect(maxAbsDiff(r.cN!.data, run.states[inputs.length - 1]!.slice(P))).toBeLessThan(1e-5);
      });

      if (c.forget) {
        it('forget-gate time constants match numpy', () => {
          const f = c.forget!;
          const tc = forgetGateTimeConstants(model, c.sequence.inputs, { state0: c.sequence.state0 });
          expect(maxAbsDiff(tc.forget.flatMap((v) => [...v]), f.f.flat())).toBeLessThan(1e-12);
          expect(track('forget (rel)', relDiff(tc.units.map((u) => u.meanForget), f.meanForget))).toBeLessThan(1e-12);
          expect(track('forget (rel)', relDiff(tc.units.map((u) => u.tau), f.tau))).toBeLessThan(1e-10);
          expect(relDiff(tc.units.map((u) => u.halfLife), f.halfLife)).toBeLessThan(1e-10);
          expect(relDiff(tc.units.flatMap((u) => u.fQuantiles), f.fQuantiles.flat())).toBeLessThan(1e-12);
          expect(track('forget (rel)', relDiff(tc.units.flatMap((u) => u.tauQuantiles), f.tauQuantiles.flat()))).toBeLessThan(1e-10);
          const h = tc.histogram;
          expect(h.counts.reduce((a, b) => a + b, 0) + h.infinite).toBe(c.hiddenSize);
          expect(h.edges[0]).toBe(Math.min(...f.tau));
          expect(h.edges[h.edges.length - 1]).toBe(Math.max(...f.tau));
          // dt scales every time constant.
          const tc2 = forgetGateTimeConstants(model, c.sequence.inputs, { state0: c.sequence.state0, dt: 0.01 });
          expect(relDiff(tc2.units.map((u) => u.tau), f.tau.map((t) => 0.01 * t))).toBeLessThan(1e-12);
        });
      }
    });
  }
});

describe('stacked and bidirectional models: the cell maps of every layer and direction reproduce forward()', () => {
  const cases: [string, () => RecurrentLayer][] = [
    ['LSTM 2 layers bidirectional', () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 3 })],
    ['LSTM projSize 2 layers bidirectional', () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2, numLayers: 2, bidirectional: true, seed: 5 })],
    ['GRU reset-before 2 layers bidirectional', () => new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, resetAfter: false, seed: 4 })],
    ['RNN relu 3 layers', () => new RNN({ inputSize: 2, hiddenSize: 5, numLayers: 3, nonlinearity: 'relu', seed: 6 })],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const m = make();
      const T = 7, I = m.inputSize, D = m.numDirections, P = m.outputSize;
      const xs = Array.from({ length: T }, (_, t) => Array.from({ length: I }, (_, i) => Math.sin(1.3 * t + 0.7 * i + 0.2)));
      const r = m.forward({ data: xs.flat(), shape: [T, I] });
      const top = m.numLayers - 1;
      for (let d = 0; d < D; d++) {
        const { map, inputs } = cellAndInputs(m, xs, { layer: top, direction: d });
        const h = runCellMap(map, inputs).hidden;
        if (d === 1) h.reverse();
        const got = h.flatMap((v) => [...v]);
        const want: number[] = [];
        for (let t = 0; t < T; t++) for (let k = 0; k < P; k++) want.push(r.output.data[t * D * P + d * P + k]!);
        expect(track('vs engine', maxAbsDiff(got, want))).toBeLessThan(1e-5);
      }
      m.dispose();
    });
  }
});

describe('fixed points of small tanh nets against scipy.optimize.root + numpy eigenvalues', () => {
  for (const net of fpNets) {
    it(net.name, () => {
      const n = net.weightHh.length, I = net.weightIh[0]!.length;
      const map = rnnCellMap({ weightHh: net.weightHh, weightIh: net.weightIh, biasIh: net.biasIh, biasHh: net.biasHh, nonlinearity: 'tanh' });
      const model = buildModel({ mode: 'RNN_TANH', inputSize: I, hiddenSize: n }, {
        weight_ih_l0: { shape: [n, I], data: net.weightIh.flat() }, weight_hh_l0: { shape: [n, n], data: net.weightHh.flat() },
        bias_ih_l0: { shape: [n], data: net.biasIh }, bias_hh_l0: { shape: [n], data: net.biasHh },
      });
      for (const target of [map, model]) {
        const fps = fixedPoints(target, { input: net.input, starts: 256, seed: 7 });
        expect(fps.length, `${net.name}: number of fixed points`).toBe(net.fixedPoints.length);
        for (let k = 0; k < fps.length; k++) {
          const got = fps[k]!, want = net.fixedPoints[k]!;
          expect(track('fixed point', maxAbsDiff(got.state, want.state))).toBeLessThan(1e-9);
          expect(got.residual).toBeLessThanOrEqual(1e-10);
          const mods = Array.from(got.eigenvalues.re, (re, i) => Math.hypot(re, got.eigenvalues.im[i]!));
          expect(track('eigenvalue moduli', maxAbsDiff(mods, want.eigModuli))).toBeLessThan(1e-9);
          expect(got.spectralRadius).toBeCloseTo(want.spectralRadius, 9);
          expect(got.stability).toBe(want.stability);
          const rho = want.spectralRadius;
          expect(got.halfLife).toBe(rho < 1 ? Math.log(0.5) / Math.log(got.spectralRadius) : Infinity);
        }
      }
      model.dispose();
    });
  }

  it('is deterministic for a seed, and finds the origin of a contracting net', () => {
    const net = fpNets[1]!;
    const map = rnnCellMap({ weightHh: net.weightHh, weightIh: net.weightIh, biasHh: net.biasHh, nonlinearity: 'tanh' });
    const a = fixedPoints(map, { input: net.input, seed: 3 }), b = fixedPoints(map, { input: net.input, seed: 3 });
    expect(a.map((p) => [...p.state])).toEqual(b.map((p) => [...p.state]));
    const small = rnnCellMap({ weightHh: [[0.5, 0.2], [-0.1, 0.4]], weightIh: [[1], [1]], nonlinearity: 'tanh' });
    const fp = fixedPoints(small, { starts: 8 });
    expect(fp.length).toBe(1);
    expect(maxAbs(fp[0]!.state)).toBe(0);
    expect(fp[0]!.stability).toBe('stable');
    // Linear map at the origin: eigenvalues of W_hh, (0.45 +- j sqrt(0.0175)), |lambda| = sqrt(0.22).
    expect(fp[0]!.spectralRadius).toBeCloseTo(Math.sqrt(0.22), 14);
    expect(fp[0]!.slowestDecay).toBeCloseTo(Math.sqrt(0.22), 14);
    expect(fp[0]!.halfLife).toBeCloseTo(Math.log(0.5) / Math.log(Math.sqrt(0.22)), 12);
  });

  it('classifies a marginal point (|lambda| = 1) and an LSTM fixed point', () => {
    const lin = rnnCellMap({ weightHh: [[1, 0], [0, 0.5]], weightIh: [[0], [0]], nonlinearity: 'identity' });
    const p = fixedPoints(lin, { starts: 1 });
    expect(p[0]!.stability).toBe('marginal');
    expect(p[0]!.halfLife).toBe(Infinity);
    expect(p[0]!.slowestDecay).toBe(0.5);
    const lstm = mapFromMatrices(cells[2]!);
    const fps = fixedPoints(lstm, { starts: 32 });
    expect(fps.length).toBeGreaterThan(0);
    for (const f of fps) {
      expect(maxAbsDiff(lstm.step(f.state), f.state)).toBeLessThanOrEqual(1e-10);
      expect(f.cell!.length).toBe(3);
    }
  });
});

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}

describe('the issue example: h_t = phi(h_{t-1} + x_t), x_1 = -0.5', () => {
  const one = { weightHh: [[1]], weightIh: [[1]] };
  it('tanh: -0.462, -0.431, ... (tanh iterated, and torch)', () => {
    const imp = impulseResponse(rnnCellMap({ ...one, nonlinearity: 'tanh' }), { amplitude: scalar.x1, steps: scalar.steps });
    const h = imp.hidden.map((v) => v[0]!);
    const iter: number[] = [];
    let v = 0;
    for (let t = 0; t < scalar.steps; t++) { v = Math.tanh(v + (t === 0 ? -0.5 : 0)); iter.push(v); }
    expect(maxAbsDiff(h, iter)).toBeLessThan(1e-12);
    expect(track('scalar example', maxAbsDiff(h, scalar.tanh))).toBeLessThan(1e-12);
    // the issue's -0.462, -0.431... (truncated): tanh(-0.5) = -0.46212, tanh(-0.46212) = -0.43181
    expect(h[0]).toBeCloseTo(-0.46212, 5);
    expect(h[1]).toBeCloseTo(-0.43181, 5);
  });
  it('relu: 0, 0, ...', () => {
    const imp = impulseResponse(rnnCellMap({ ...one, nonlinearity: 'relu' }), { amplitude: -0.5, steps: scalar.steps });
    expect(imp.hidden.map((v) => v[0]!)).toEqual(scalar.relu);
    expect(scalar.relu.every((v) => v === 0)).toBe(true);
    // ... and +0.5 is held forever (W_hh = 1 is marginal).
    const pos = impulseResponse(rnnCellMap({ ...one, nonlinearity: 'relu' }), { amplitude: 0.5, steps: 5 });
    expect(pos.hidden.map((v) => v[0]!)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
  });
  it('through a model', async () => {
    const m = new RNN({ inputSize: 1, hiddenSize: 1, nonlinearity: 'tanh', bias: false });
    m.loadStateDict({ weight_ih_l0: { shape: [1, 1], data: [1] }, weight_hh_l0: { shape: [1, 1], data: [1] } });
    const imp = impulseResponse(m, { amplitude: -0.5, steps: scalar.steps });
    expect(maxAbsDiff(imp.hidden.map((v) => v[0]!), scalar.tanh)).toBeLessThan(1e-12);
    m.dispose();
  });
});

describe('bias sweep (continuation) and bifurcations', () => {
  const grid = (a: number, b: number, n: number): number[] => Array.from({ length: n }, (_, k) => a + (b - a) * k / (n - 1));
  it('folds of h = tanh(2h + b) at b = +-(atanh(h_f) - 2 h_f), h_f = sqrt(1/2)', () => {
    const w = 2, hf = Math.sqrt(1 - 1 / w), bf = Math.abs(Math.atanh(hf) - w * hf);
    const sw = biasSweep(rnnCellMap({ weightHh: [[w]], weightIh: [[1]], nonlinearity: 'tanh' }),
      { index: 0, values: grid(-1, 1, 41), starts: 16 });
    const f = sw.bifurcations.filter((b) => b.type === 'fold');
    expect(sw.bifurcations.length).toBe(2);
    expect(f.map((b) => b.between)).toEqual([[sw.values[9], sw.values[10]], [sw.values[30], sw.values[31]]]);
    for (const [b, want] of [[f[0]!, -bf], [f[1]!, bf]] as const) {
      const err = Math.abs(b.estimate - want);
      track('fold (closed form)', err);
      expect(err).toBeLessThanOrEqual(b.tolerance);
      expect(b.tolerance).toBeLessThan(1e-8);
      expect(Math.abs(Math.abs(b.point!.state[0]!) - hf)).toBeLessThan(1e-4);
    }
    // three fixed points strictly between the folds, one outside
    sw.values.forEach((v, k) => expect(sw.points[k]!.length).toBe(Math.abs(v) < bf ? 3 : 1));
    expect(sw.branches.length).toBe(3);
  });

  it('flip of h = tanh(-2h + b) where w (1 - h^2) = -1', () => {
    const w = -2, hc = Math.sqrt(1 + 1 / w), bc = Math.atanh(hc) - w * hc;
    const sw = biasSweep(rnnCellMap({ weightHh: [[w]], weightIh: [[1]], nonlinearity: 'tanh' }),
      { index: 0, values: grid(0, 3, 31), starts: 8 });
    expect(sw.bifurcations.map((b) => b.type)).toEqual(['flip']);
    const b = sw.bifurcations[0]!;
    expect(track('flip (closed form)', Math.abs(b.estimate - bc))).toBeLessThanOrEqual(b.tolerance + 1e-9);
    expect(sw.points[0]![0]!.stability).toBe('unstable');
    expect(sw.points[30]![0]!.stability).toBe('stable');
  });

  it('Neimark-Sacker of a rotation net: a complex pair on the unit circle at the estimate', () => {
    const th = 0.7, g = 1.4;
    const map = rnnCellMap({ weightHh: [[g * Math.cos(th), -g * Math.sin(th)], [g * Math.sin(th), g * Math.cos(th)]], weightIh: [[1], [0]], nonlinearity: 'tanh' });
    const sw = biasSweep(map, { index: 0, values: grid(0, 3, 31), starts: 8 });
    expect(sw.bifurcations.map((b) => b.type)).toEqual(['neimark-sacker']);
    const b = sw.bifurcations[0]!;
    const fp = fixedPoints(map.withBias('ih', 0, b.estimate), { starts: 4 });
    expect(fp.length).toBe(1);
    expect(Math.abs(fp[0]!.spectralRadius - 1)).toBeLessThan(1e-8);
    expect(Math.abs(fp[0]!.eigenvalues.im[0]!)).toBeGreaterThan(0.1);
  });

  it('folds of a 2-unit net match scipy (augmented system F = 0, det(J - I) = 0)', () => {
    const map = rnnCellMap({ weightHh: folds.weightHh, weightIh: folds.weightIh, biasIh: folds.biasIh, biasHh: folds.biasHh, nonlinearity: 'tanh' });
    const sw = biasSweep(map, { which: folds.sweep.which, index: folds.sweep.index, values: grid(folds.sweep.from, folds.sweep.to, 151), starts: 32 });
    const f = sw.bifurcations.filter((b) => b.type === 'fold');
    expect(sw.bifurcations.length).toBe(folds.folds.length);
    expect(f.length).toBe(folds.folds.length);
    for (let k = 0; k < f.length; k++) {
      const err = Math.abs(f[k]!.estimate - folds.folds[k]!.value);
      track('fold (scipy)', err);
      expect(err).toBeLessThanOrEqual(Math.max(f[k]!.tolerance, 1e-12));
      expect(f[k]!.tolerance).toBeLessThan(1e-8);
      expect(maxAbsDiff(f[k]!.point!.state, folds.folds[k]!.state)).toBeLessThan(1e-3);
    }
  });
});

describe('gradient flow', () => {
  it('linear scalar recurrence: norms |a|^lag, slope log10|a|, verdicts, lag below threshold', () => {
    for (const [a, verdict] of [[0.5, 'vanishing'], [-0.5, 'vanishing'], [1, 'stable'], [1.2, 'exploding']] as const) {
      const map = rnnCellMap({ weightHh: [[a]], weightIh: [[1]], nonlinearity: 'identity' });
      const T = 30;
      const gf = gradientFlow(map, Array.from({ length: T }, (_, t) => Math.cos(t)));
      const want = scalarGradient(a, T).slice(0, T);
      expect(relDiff(gf.norms, want)).toBeLessThan(1e-13);
      expect(gf.slopePerStep).toBeCloseTo(Math.log10(Math.abs(a)), 12);
      expect(gf.slopeLnPerStep).toBeCloseTo(Math.log(Math.abs(a)), 12);
      expect(gf.verdict).toBe(verdict);
      // 0.5^9 = 1.95e-3, 0.5^10 = 9.8e-4
      expect(gf.lagBelowThreshold).toBe(Math.abs(a) === 0.5 ? 10 : null);
    }
  });

  it('relu net with a dead unit: norms are 0 and the verdict is vanishing', () => {
    const map = rnnCellMap({ weightHh: [[1]], weightIh: [[1]], nonlinearity: 'relu' });
    const gf = gradientFlow(map, [-1, -1, -1, -1]);
    expect([...gf.norms]).toEqual([0, 0, 0, 0]);
    expect(gf.verdict).toBe('vanishing');
    expect(gf.lagBelowThreshold).toBe(1);
  });

  it('scalarGradient', () => {
    expect([...scalarGradient(-2, 3)]).toEqual([8, 4, 2, 1]);
    expect([...scalarGradient(0.5, 0)]).toEqual([1]);
  });

  it('expandJacobianPaths: 2^T terms summing to the product, which is dh_T/dh_0 of the recurrence', () => {
    const alpha = 0.9, beta = 0.7, T = 12;
    const step = (h: number): number => alpha * h + beta * Math.tanh(h);
    const states: number[] = [0.3];
    for (let t = 1; t < T; t++) states.push(step(states[t - 1]!));
    const e = expandJacobianPaths(alpha, beta, states);
    expect(e.count).toBe(2 ** T);
    expect(e.terms.length).toBe(2 ** T);
    expect(Math.abs(e.sum - e.product) / Math.abs(e.product)).toBeLessThan(1e-12);
    expect(Math.abs(e.byOrder.reduce((a, b) => a + b, 0) - e.product) / e.product).toBeLessThan(1e-12);
    expect(e.terms[0]).toBeCloseTo(alpha ** T, 15);
    expect(e.byOrder[0]).toBe(e.terms[0]);
    // d h_T / d h_0 by central differences through T steps
    const run = (h0: number): number => { let h = h0; for (let t = 0; t < T; t++) h = step(h); return h; };
    const fd = (run(0.3 + 1e-6) - run(0.3 - 1e-6)) / 2e-6;
    expect(Math.abs(fd - e.product) / e.product).toBeLessThan(1e-8);
    expect(expandJacobianPaths(alpha, beta, new Float64Array(20)).count).toBe(2 ** 20);
    expect(() => expandJacobianPaths(alpha, beta, new Float64Array(21))).toThrow(InvalidArgumentError);
  });

  it('eulerAsRnn: lambda = -1 is stable iff 0 < dt < 2', () => {
    for (const [dt, stable] of [[0, false], [1e-9, true], [0.5, true], [1.999999, true], [2, false], [2.000001, false], [3, false]] as const) {
      const e = eulerAsRnn(-1, dt);
      expect(e.stable, `dt = ${dt}`).toBe(stable);
      expect(e.amplification).toBe(Math.abs(1 - dt));
      expect(e.s).toEqual({ re: 1 - dt, im: 0 });
    }
    const e = eulerAsRnn({ re: 0, im: 1 }, 0.1);
    expect(e.stable).toBe(false);
    expect(e.amplification).toBeCloseTo(Math.sqrt(1.01), 15);
    const y = e.simulate(1, 10);
    expect(Math.hypot(y.re[10]!, y.im[10]!)).toBeCloseTo(1.01 ** 5, 12);
    // Euler converges to the exact solution at first order in dt
    const err = (dt: number): number => {
      const n = Math.round(1 / dt), r = eulerAsRnn(-1, dt);
      return Math.abs(r.simulate(1, n).re[n]! - r.exact(1, n).re[n]!);
    };
    expect(err(1e-3) / err(2e-3)).toBeCloseTo(0.5, 2);
    expect(Math.abs(eulerAsRnn(-1, 1e-3).exact(1, 1000).re[1000]! - Math.exp(-1))).toBeLessThan(1e-12);
  });
});

describe('signals', () => {
  it('SNR gain of h_t = a h_{t-1} + x_t for a sinusoid in white noise: (1 - a^2) / |1 - a e^{-jw}|^2', () => {
    const a = 0.8, w = 0.3, T = 100_000, discard = 200;
    const map = rnnCellMap({ weightHh: [[a]], weightIh: [[1]], nonlinearity: 'identity' });
    const signal = Float64Array.from({ length: T }, (_, t) => Math.sin(w * t));
    const r = snr(map, { signal, noiseStd: 0.5, seed: 11, discard });
    const H2 = 1 / (1 - 2 * a * Math.cos(w) + a * a);
    const gainDb = 10 * Math.log10((1 - a * a) * H2);
    // Noise power estimated from N_eff ~ T (1 - a^2) / (1 + a^2) samples: relative std ~ sqrt(2 / N_eff) ~ 1%
    // (0.04 dB); 0.2 dB is about 5 standard deviations. The signal part is deterministic (1e-3: transient,
    // partial period).
    track('snr gain dB', Math.abs(r.gainDb - gainDb));
    expect(Math.abs(r.gainDb - gainDb)).toBeLessThan(0.2);
    expect(Math.abs(r.signalGain - H2) / H2).toBeLessThan(1e-3);
    expect(Math.abs(r.noiseGain - 1 / (1 - a * a)) * (1 - a * a)).toBeLessThan(0.05);
    expect(Math.abs(r.inputNoisePower - 0.25) / 0.25).toBeLessThan(0.02);
    expect(r.inputSnrDb).toBeCloseTo(10 * Math.log10(r.inputSignalPower / r.inputNoisePower), 12);
    expect(r.steps).toBe(T - discard);
    // a readout scales signal and noise alike
    const r2 = snr(map, { signal, noiseStd: 0.5, seed: 11, discard, readout: [[3]] });
    expect(Math.abs(r2.stateSnrDb - r.stateSnrDb)).toBeLessThan(1e-9);
    expect(r2.signalPower / r.signalPower).toBeCloseTo(9, 10);
    // another seed, another noise
    expect(snr(map, { signal, noiseStd: 0.5, seed: 12, discard }).noisePower).not.toBe(r.noisePower);
  });

  it('SNR through a model and a readout of the hidden state', () => {
    const c = cells[2]!;
    const m = buildModel(c, c.stateDict);
    const sig = Array.from({ length: 400 }, (_, t) => [Math.sin(0.2 * t), Math.cos(0.05 * t)]);
    const r = snr(m, { signal: sig, noiseStd: 0.1, seed: 1, readout: [[1, 0, 0]] });
    expect(Number.isFinite(r.gainDb)).toBe(true);
    expect(r.inputSnrDb).toBeGreaterThan(15);
    expect(() => snr(m, { signal: sig, noiseStd: 0.1, readout: [[1, 0]] })).toThrow(ShapeError);
    m.dispose();
  });

  it('quantile follows numpy (linear)', () => {
    expect(quantile([1, 2, 3, 4], 0.1)).toBeCloseTo(1.3, 14);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
  });
});

describe('errors', () => {
  const c = cells[2]!;
  let m: RecurrentLayer;
  beforeAll(() => { m = buildModel(c, c.stateDict); });
  it('wrong state length, wrong input size, non-finite entries', () => {
    const map = cellMap(m);
    expect(() => map.step([0, 0, 0], [0, 0])).toThrow(ShapeError);
    try { map.step(new Float64Array(6), [0]); } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).argument).toBe('x');
      expect((e as ShapeError).expected).toEqual([2]);
    }
    expect(() => map.jacobian(new Float64Array(5))).toThrow(/state: expected 6 entries, got 5/);
    expect(() => map.step([0, 0, 0, 0, 0, NaN])).toThrow(InvalidArgumentError);
    expect(() => jacobian(m, { h: [0, 0] })).toThrow(ShapeError);
    expect(() => impulseResponse(m, { state0: [1, 2] })).toThrow(ShapeError);
    expect(() => impulseResponse(m, { inputIndex: 2 })).toThrow(InvalidArgumentError);
    expect(() => fixedPoints(m, { input: [1, 2, 3] })).toThrow(ShapeError);
    expect(() => gradientFlow(m, [[1, 2, 3]])).toThrow(ShapeError);
    expect(() => gradientFlow(m, { data: [1, 2, 3, 4], shape: [4, 1] })).toThrow(ShapeError);
    expect(() => gradientFlow(m, [1, 2, 3])).toThrow(/input size is 2/);
  });
  it('layer and direction out of range', () => {
    expect(() => cellMap(m, { layer: 1 })).toThrow(/options.layer: expected an integer in \[0, 0\], got 1/);
    expect(() => cellMap(m, { direction: 1 })).toThrow(InvalidArgumentError);
    expect(() => gradientFlow(m, [[1, 2]], { layer: -1 })).toThrow(InvalidArgumentError);
  });
  it('bad matrices and options', () => {
    expect(() => rnnCellMap({ weightHh: [[1, 2]], weightIh: [[1]], nonlinearity: 'tanh' })).toThrow(ShapeError);
    expect(() => lstmCellMap({ weightHh: [[1]], weightIh: [[1], [1], [1]] })).toThrow(/weightIh: expected 4\*H rows/);
    expect(() => rnnCellMap({ weightHh: [[1]], weightIh: [[1]], nonlinearity: 'sigmoid' as 'tanh' })).toThrow(InvalidArgumentError);
    const map = rnnCellMap({ weightHh: [[2]], weightIh: [[1]], nonlinearity: 'tanh' });
    expect(() => biasSweep(map, { index: 1, values: [0, 1] })).toThrow(/index: expected an integer in \[0, 0\]/);
    expect(() => biasSweep(map, { index: 0, values: [0, 1, 0.5] })).toThrow(/monotonic/);
    expect(() => forgetGateTimeConstants(map, [1, 2])).toThrow(UnsupportedError);
    expect(() => snr(map, { signal: [1, 2], noiseStd: 0 })).toThrow(InvalidArgumentError);
    expect(() => eulerAsRnn(-1, -0.1)).toThrow(InvalidArgumentError);
  });
});

it('reports the worst errors', () => {
  console.log('analysis-dynamics max errors:', JSON.stringify(worst, (_, v: number) => (typeof v === 'number' ? Number(v.toExponential(2)) : v)));
  expect(Object.keys(worst).length).toBeGreaterThan(10);
});
