/**
 * Experiment 1, memory pulse: one negative pulse into the scalar net h_t = phi(w h_{t-1} + x_t).
 * @module
 */
import { impulseResponse } from '../analysis/dynamics.js';
import { rnnCellMap } from '../analysis/cell-map.js';
import { check, defineExperiment, fmt, range, toArray } from './types.js';

/** Data of {@link memoryPulse}. */
export interface MemoryPulseData {
  /** Steps 1..T after the pulse (the pulse arrives at step 1). */
  t: number[];
  tanh: number[];
  relu: number[];
  /** The step at which |h| of tanh first falls below half its value at step 1 (NaN if never). */
  tanhHalfLifeStep: number;
}

/**
 * h_t = phi(w h_{t-1} + x_t) from h_0 = 0 with x_1 = pulse < 0 and x_t = 0 afterwards. ReLU clips the negative
 * pre-activation to 0 at once and stays there: the pulse is forgotten in one step. tanh is odd, so the state goes
 * negative and decays only as fast as |tanh'| allows (for w = 1 it decays like 1/sqrt(t), slower than any
 * exponential): a lasting negative memory.
 */
export const memoryPulse = defineExperiment({
  name: 'memory-pulse',
  number: 1,
  title: 'Memory of a negative pulse: ReLU versus tanh',
  claim: 'A single negative pulse into h_t = phi(h_{t-1} + x_t): ReLU forgets it at once, tanh keeps a decaying negative memory.',
  description: 'Both nets start at h_0 = 0 and receive x_1 = pulse, then zeros. The plot shows h_t for t = 1..T. ' +
    'ReLU maps the negative pre-activation to 0 and 0 is a fixed point, so every later state is exactly 0; tanh maps ' +
    'it to tanh(pulse) < 0 and then iterates h -> tanh(w h), which shrinks |h| only slowly when w is near 1.',
  params: {
    pulse: { kind: 'number', label: 'pulse x_1', description: 'Size of the input pulse at step 1 (negative for the claim).', default: -0.5, min: -3, max: 3, step: 0.05 },
    weight: { kind: 'number', label: 'recurrent weight w', description: 'The scalar recurrent weight (1 in the claim).', default: 1, min: 0, max: 1.5, step: 0.01 },
    steps: { kind: 'number', label: 'steps T', description: 'Steps simulated after the pulse.', default: 30, min: 2, max: 500, integer: true },
  },
  body(p) {
    const run = (nonlinearity: 'tanh' | 'relu'): number[] => {
      const map = rnnCellMap({ weightIh: [[1]], weightHh: [[p.weight]], nonlinearity });
      return impulseResponse(map, { steps: p.steps, amplitude: p.pulse }).hidden.map((h) => h[0]!);
    };
    const tanh = run('tanh'), relu = run('relu');
    const T = p.steps;
    const half = tanh.findIndex((h) => Math.abs(h) <= Math.abs(tanh[0]!) / 2);
    const data: MemoryPulseData = {
      t: range(T).map((i) => i + 1), tanh, relu, tanhHalfLifeStep: half < 0 ? NaN : half + 1,
    };
    const reluMax = Math.max(...relu.map(Math.abs));
    const checks = [
      check('max |h_t| of ReLU over t = 1..T (forgotten at once)', reluMax, '==', 0, 0),
      check('tanh h_T (still negative at the last step)', tanh[T - 1]!, '<', 0),
      check('tanh |h_T| / |h_1| (decays, below 1)', Math.abs(tanh[T - 1]!) / Math.abs(tanh[0]!), '<', 1),
    ];
    const summary = `ReLU: h_1 = ${fmt(relu[0]!)} and max |h_t| = ${fmt(reluMax)} over ${T} steps. ` +
      `tanh: h_1 = ${fmt(tanh[0]!)}, h_${T} = ${fmt(tanh[T - 1]!)}` +
      (Number.isNaN(data.tanhHalfLifeStep) ? ' (never halves in the run).' : `, halved by step ${data.tanhHalfLifeStep}.`);
    return {
      data, checks, summary,
      plots: [{
        type: 'line', title: `h_t after a pulse x_1 = ${fmt(p.pulse)} (w = ${fmt(p.weight)})`, xLabel: 'step t', yLabel: 'h_t',
        series: [{ name: 'tanh', x: data.t, y: toArray(tanh) }, { name: 'ReLU', x: data.t, y: toArray(relu) }],
        hLines: [{ y: 0, label: '0' }],
      }],
    };
  },
});
