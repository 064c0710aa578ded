// Experiment 12 against the closed form: with i_t g_t = 0 after step 1 and f constant, c_t = c_1 f^{t-1} with
// c_1 = sigmoid(10) tanh(3) (h_0 = c_0 = 0), so ln c_t is exactly linear in t with slope ln f and tau = -dt / ln f.
import { describe, expect, it } from 'vitest';
import { lstmLeakyIntegrator } from '../../src/experiments/index.js';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

describe('experiment 12: LSTM as a leaky integrator', () => {
  it('holds at the defaults (f = 0.9, dt = 1): c_t = c_1 f^{t-1}, tau = 9.4912', () => {
    const r = lstmLeakyIntegrator.run();
    expect(r.verdict.holds).toBe(true);
    const c1 = sigmoid(10) * Math.tanh(3);
    expect(r.data.cell).toHaveLength(60);
    for (let t = 0; t < 60; t++) {
      expect(Math.abs(r.data.cell[t]! - c1 * 0.9 ** t) / (c1 * 0.9 ** t)).toBeLessThan(1e-12);
      expect(Math.abs(r.data.forget[t]! - 0.9)).toBeLessThan(1e-15);
    }
    expect(r.data.tauFormula).toBeCloseTo(-1 / Math.log(0.9), 12);
    expect(r.data.tauFormula).toBeCloseTo(9.491221581029903, 10);
    expect(Math.abs(r.data.tauMeasured - r.data.tauFormula) / r.data.tauFormula).toBeLessThan(1e-6);
    expect(Math.abs(r.data.tauLibrary - r.data.tauFormula) / r.data.tauFormula).toBeLessThan(1e-6);
    // The sweep: tau = -1 / ln f at each f.
    r.data.sweepF.forEach((f, i) => {
      expect(Math.abs(r.data.sweepTauMeasured[i]! * -Math.log(f) - 1)).toBeLessThan(1e-6);
    });
    // The time to 1/e of c_1 is tau: c_{1 + 9} / c_1 = 0.9^9 = 0.387 > 1/e > 0.9^10 = 0.349.
    expect(r.data.cell[9]! / c1).toBeGreaterThan(1 / Math.E);
    expect(r.data.cell[10]! / c1).toBeLessThan(1 / Math.E);
    expect(r.plots.map((p) => p.type)).toEqual(['line', 'scatter']);
  });

  it('tau scales with dt: dt = 0.5, f = 0.99 gives tau = -0.5 / ln 0.99 = 49.75', () => {
    const r = lstmLeakyIntegrator.run({ forget: 0.99, dt: 0.5, steps: 200 });
    expect(r.verdict.holds).toBe(true);
    expect(Math.abs(r.data.tauMeasured - 49.74958124) / 49.74958124).toBeLessThan(1e-6);
  });

  it('breaks when the forget gate depends on h (recurrent forget weight 3)', () => {
    const r = lstmLeakyIntegrator.run({ forgetRecurrentWeight: 3 });
    expect(r.verdict.holds).toBe(false);
    // f_t = sigmoid(logit 0.9 + 3 h_{t-1}) > 0.9 while h > 0: the cell decays more slowly than the formula says.
    expect(r.data.forget[5]!).toBeGreaterThan(0.95);
    expect(r.data.tauMeasured).toBeGreaterThan(1.1 * r.data.tauFormula);
  });
});
