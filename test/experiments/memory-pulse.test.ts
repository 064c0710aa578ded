// Experiment 1 against the closed form: ReLU's state is exactly 0 after a negative pulse; tanh's is tanh iterated,
// computed here independently with Math.tanh.
import { describe, expect, it } from 'vitest';
import { memoryPulse } from '../../src/experiments/index.js';

describe('experiment 1: memory pulse', () => {
  it('holds at the defaults: ReLU forgets at once, tanh keeps a decaying negative memory', () => {
    const r = memoryPulse.run();
    expect(r.verdict.holds).toBe(true);
    expect(r.data.relu.every((h) => h === 0)).toBe(true);
    let h = 0;
    for (let t = 0; t < r.data.t.length; t++) {
      h = Math.tanh(h + (t === 0 ? -0.5 : 0));
      expect(r.data.tanh[t]).toBeCloseTo(h, 14);
    }
    expect(r.data.tanh[0]).toBeCloseTo(-0.46211715726, 10);
    // The tanh state is negative throughout and |h| decreases monotonically.
    for (let t = 1; t < r.data.tanh.length; t++) {
      expect(r.data.tanh[t]).toBeLessThan(0);
      expect(Math.abs(r.data.tanh[t]!)).toBeLessThan(Math.abs(r.data.tanh[t - 1]!));
    }
    expect(r.plots).toHaveLength(1);
  });

  it('breaks when the pulse is positive: ReLU then remembers it too', () => {
    const r = memoryPulse.run({ pulse: 0.5 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.relu[4]).toBeCloseTo(0.5, 14); // w = 1: h stays at 0.5
  });

  it('rejects parameters outside their range, naming them', () => {
    expect(() => memoryPulse.run({ steps: 0 })).toThrow(/params\.steps.*\[2, 500\].*got 0/);
    expect(() => memoryPulse.run({ nope: 1 } as never)).toThrow(/params\.nope.*pulse, weight, steps/);
  });
});
