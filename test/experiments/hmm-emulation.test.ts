// Experiment 11 against the scaled forward algorithm written here in plain loops (alpha_t = (T^T alpha_{t-1}) * E[:, o_t],
// normalised), run on the experiment's sampled symbols.
import { describe, expect, it } from 'vitest';
import { hmmEmulation } from '../../src/experiments/index.js';

const PI = [0.5, 0.3, 0.2];
const TR = [[0.9, 0.07, 0.03], [0.05, 0.9, 0.05], [0.04, 0.06, 0.9]];
const EM = [[0.7, 0.15, 0.1, 0.05], [0.05, 0.15, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]];

function forwardLoops(obs: number[]): { filtering: number[][]; ll: number } {
  const filtering: number[][] = [];
  let ll = 0, prev: number[] = [];
  obs.forEach((o, t) => {
    const a = [0, 1, 2].map((j) => (t === 0 ? PI[j]! : prev.reduce((s, pi, i) => s + pi * TR[i]![j]!, 0)) * EM[j]![o]!);
    const c = a[0]! + a[1]! + a[2]!;
    ll += Math.log(c);
    prev = a.map((v) => v / c);
    filtering.push(prev);
  });
  return { filtering, ll };
}

describe('experiment 11: HMM emulation', () => {
  for (const space of ['linear', 'log'] as const) {
    it(`holds at the defaults (${space} arithmetic): the RNN's filtering probabilities and likelihood are the forward algorithm's`, () => {
      const r = hmmEmulation.run({ space });
      expect(r.verdict.holds).toBe(true);
      expect(r.data.observations).toHaveLength(500);
      const ref = forwardLoops(r.data.observations);
      let maxDiff = 0;
      for (let t = 0; t < 500; t++) for (let k = 0; k < 3; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(r.data.rnnFiltering[t]![k]! - ref.filtering[t]![k]!));
      }
      expect(maxDiff).toBeLessThan(1e-12);
      expect(r.data.maxFilteringDifference).toBeLessThan(1e-12);
      expect(Math.abs(r.data.rnnLogLikelihood - ref.ll)).toBeLessThan(1e-10);
      expect(Math.abs(r.data.forwardLogLikelihood - ref.ll)).toBeLessThan(1e-10);
      // Sanity of the scale: 500 symbols of 4, sticky states, somewhere between log(1/4) and log(0.7) per symbol.
      expect(ref.ll / 500).toBeGreaterThan(Math.log(0.25));
      expect(ref.ll / 500).toBeLessThan(Math.log(0.7));
      expect(r.plots[0]!.type).toBe('line');
    });
  }

  it('breaks when the RNN is built from a different HMM (mismatch 0.3)', () => {
    const r = hmmEmulation.run({ mismatch: 0.3 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.maxFilteringDifference).toBeGreaterThan(0.05);
    // The true model explains its own data better than the mismatched one.
    expect(r.data.rnnLogLikelihood).toBeLessThan(r.data.forwardLogLikelihood - 1);
  });

  it('rejects parameters outside their range, naming them', () => {
    expect(() => hmmEmulation.run({ mismatch: 2 })).toThrow(/params\.mismatch.*\[0, 1\].*got 2/);
  });
});
