/**
 * Experiment 12, the LSTM as a leaky integrator: with the forget gate held at a constant f and nothing written
 * after an initial charge, c_t = f c_{t-1}, so the cell state decays as e^{-t dt / tau} with tau = -dt / ln f.
 * @module
 */
import { lstmCellMap, runCellMap } from '../analysis/cell-map.js';
import { forgetGateTimeConstants } from '../analysis/signals.js';
import type { CellMap } from '../analysis/cell-map.js';
import { check, defineExperiment, fmt, range } from './types.js';

/** Data of {@link lstmLeakyIntegrator}. */
export interface LstmLeakyIntegratorData {
  /** Times t dt of steps 1..T. */
  time: number[];
  /** Cell state c_t, steps 1..T (charged at step 1). */
  cell: number[];
  /** The forget gate f_t at each step (constant when the recurrent forget weight is 0). */
  forget: number[];
  /** tau = -dt / ln f from the forget bias. */
  tauFormula: number;
  /** tau from the least-squares slope of ln c_t against t dt. */
  tauMeasured: number;
  /** tau of forgetGateTimeConstants (from the mean forget gate over the run). */
  tauLibrary: number;
  /** The sweep over f: forget values, measured tau and formula tau. */
  sweepF: number[];
  sweepTauMeasured: number[];
  sweepTauFormula: number[];
}

const logit = (p: number): number => Math.log(p / (1 - p));

/**
 * A one-unit LSTM (PyTorch gate order i, f, g, o). Input x_1 = 1 charges the cell (input gate sigmoid(20 x - 10)
 * ~ 1, candidate g = tanh(3 x)); x_t = 0 afterwards makes g = tanh(0) = 0 exactly, so nothing more is written.
 * The forget gate is sigmoid(logit(f) + w_hf h_{t-1}): exactly f when w_hf = 0.
 */
function cell(f: number, forgetRecurrentWeight: number): CellMap {
  return lstmCellMap({
    weightIh: [[20], [0], [3], [0]],
    weightHh: [[0], [forgetRecurrentWeight], [0], [0]],
    biasIh: [-10, logit(f), 0, 0],
  });
}

/** Least-squares slope of ln c against time, turned into tau = -1 / slope. */
function fitTau(time: number[], c: number[]): number {
  const n = time.length, ly = c.map(Math.log);
  const mt = time.reduce((a, b) => a + b, 0) / n, my = ly.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (time[i]! - mt) * (ly[i]! - my); sxx += (time[i]! - mt) ** 2; }
  return -sxx / sxy;
}

/**
 * Runs the charged cell for T steps, fits the decay time constant of c_t and compares it with -dt / ln f and with
 * the library's forgetGateTimeConstants; then sweeps f. A nonzero recurrent forget weight makes f depend on h,
 * breaking the constant-gate premise.
 */
export const lstmLeakyIntegrator = defineExperiment({
  name: 'lstm-leaky-integrator',
  number: 12,
  title: 'The LSTM cell as a leaky integrator',
  claim: 'LSTM as a leaky integrator: the forget gate sets tau = -dt / ln(f); measured decay of the cell state matches.',
  description: 'One LSTM unit is charged at step 1 (input gate ~1), then receives zeros, for which the candidate ' +
    'g = tanh(w x) is exactly 0 so nothing more is written. With the forget gate held at f (its bias is logit f, its ' +
    'weights 0) the cell obeys c_t = f c_{t-1}: an exponential decay with tau = -dt / ln f. The decay constant is ' +
    'measured from the slope of ln c_t and compared with the formula and with forgetGateTimeConstants.',
  params: {
    forget: { kind: 'number', label: 'forget gate f', description: 'The constant forget gate value (sets the forget bias to logit f).', default: 0.9, min: 0.05, max: 0.999, step: 0.001 },
    dt: { kind: 'number', label: 'dt', description: 'Duration of one step (tau is in these units).', default: 1, min: 0.001, max: 100, step: 0.001 },
    steps: { kind: 'number', label: 'steps T', description: 'Steps simulated (the charge is at step 1).', default: 60, min: 3, max: 2000, integer: true },
    forgetRecurrentWeight: { kind: 'number', label: 'recurrent forget weight', description: 'w_hf: makes f depend on h (0 for the claim).', default: 0, min: -5, max: 5, step: 0.1 },
  },
  body(p) {
    const T = p.steps;
    const inputs = range(T).map((t) => [t === 0 ? 1 : 0]);
    const time = range(T).map((t) => (t + 1) * p.dt);
    const decay = (f: number): { c: number[]; f: number[]; map: CellMap } => {
      const map = cell(f, p.forgetRecurrentWeight);
      const run = runCellMap(map, inputs);
      // State s = [h; c]; the forget gate of step t is gates[t].f.
      return { c: run.states.map((s) => s[1]!), f: run.gates.map((g) => g.f![0]!), map };
    };
    const main = decay(p.forget);
    const tauFormula = -p.dt / Math.log(p.forget);
    // Steps 2..T: the pure decay (step 1 is the charge itself, which also involves the input gate).
    const tauMeasured = fitTau(time.slice(1), main.c.slice(1));
    const tauLibrary = forgetGateTimeConstants(main.map, inputs, { dt: p.dt }).units[0]!.tau;
    const sweepF = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98];
    const sweepTauMeasured = sweepF.map((f) => { const d = decay(f); return fitTau(time.slice(1), d.c.slice(1)); });
    const sweepTauFormula = sweepF.map((f) => -p.dt / Math.log(f));
    const data: LstmLeakyIntegratorData = {
      time, cell: main.c, forget: main.f, tauFormula, tauMeasured, tauLibrary, sweepF, sweepTauMeasured, sweepTauFormula,
    };
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
    const sweepErr = Math.max(...sweepF.map((_, i) => rel(sweepTauMeasured[i]!, sweepTauFormula[i]!)));
    const checks = [
      check('|tau measured - (-dt / ln f)| / tau (fit of ln c_t)', rel(tauMeasured, tauFormula), '<', 1e-6),
      check('|tau forgetGateTimeConstants - (-dt / ln f)| / tau', rel(tauLibrary, tauFormula), '<', 1e-6),
      check('max relative tau error over the sweep of f', sweepErr, '<', 1e-6),
    ];
    const summary = `f = ${fmt(p.forget)}, dt = ${fmt(p.dt)}: tau = -dt / ln f = ${fmt(tauFormula)}; measured from ln c_t ` +
      `${fmt(tauMeasured)} (relative error ${fmt(rel(tauMeasured, tauFormula))}); forgetGateTimeConstants ${fmt(tauLibrary)}. ` +
      `Over f = 0.5..0.98 the worst relative error is ${fmt(sweepErr)}.`;
    const c1 = main.c[0]!;
    const fine = range(60).map((i) => 0.5 + (0.985 - 0.5) * i / 59);
    return {
      data, checks, summary,
      plots: [{
        type: 'line', title: `Cell state after a charge, f = ${fmt(p.forget)}`, xLabel: 'time t dt', yLabel: 'c_t',
        series: [
          { name: 'c_t (LSTM)', x: time, y: main.c },
          { name: 'c_1 exp(-(t - dt) / tau)', x: time, y: time.map((t) => c1 * Math.exp(-(t - time[0]!) / tauFormula)), dashed: true },
        ],
        hLines: [{ y: c1 / Math.E, label: 'c_1 / e' }],
      }, {
        type: 'scatter', title: 'Time constant against the forget gate', xLabel: 'forget gate f', yLabel: 'tau',
        points: [
          ...fine.map((f) => ({ x: f, y: -p.dt / Math.log(f), color: '#999999', marker: 'cross' as const })),
          ...sweepF.map((f, i) => ({ x: f, y: sweepTauMeasured[i]!, label: `f = ${f}: tau = ${fmt(sweepTauMeasured[i]!)}` })),
        ],
        legend: [{ name: '-dt / ln f', color: '#999999', marker: 'cross' }, { name: 'measured', color: '#0072B2', marker: 'dot' }],
      }],
    };
  },
});
