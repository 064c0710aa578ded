// Experiment 9 against closed forms: the resonator y_t = h_t[0], h_t = r R(w_f) h_{t-1} + (x_t, 0), has
// H(z) = z (z - r cos w_f) / (z^2 - 2 r cos w_f z + r^2) and impulse response r^k cos(k w_f); for white noise the
// output noise power is sigma^2 sum_k r^{2k} cos^2(k w_f), so the expected SNR gain is |H(e^{i omega})|^2 over
// that sum. Both are computed here with plain complex arithmetic and loops.
import { describe, expect, it } from 'vitest';
import { rnnFilterSnr } from '../../src/experiments/index.js';

function closedFormGain(r: number, wf: number, omega: number): number {
  const zr = Math.cos(omega), zi = Math.sin(omega), c = r * Math.cos(wf);
  // numerator z (z - c), denominator z^2 - 2 c z + r^2
  const ar = zr - c, ai = zi;
  const nr = zr * ar - zi * ai, ni = zr * ai + zi * ar;
  const dr = zr * zr - zi * zi - 2 * c * zr + r * r, di = 2 * zr * zi - 2 * c * zi;
  return Math.hypot(nr, ni) / Math.hypot(dr, di);
}

function expectedGainDb(r: number, wf: number, omega: number): number {
  let noise = 0;
  for (let k = 0; k < 20000; k++) noise += (r ** k * Math.cos(k * wf)) ** 2;
  return 10 * Math.log10(closedFormGain(r, wf, omega) ** 2 / noise);
}

/** The clean run by plain loops, and its amplitude at the last full period's peak region (max |y| over 2 periods). */
function simulatedAmplitude(r: number, wf: number, omega: number, T: number): number {
  let h0 = 0, h1 = 0, peak = 0;
  const c = r * Math.cos(wf), s = r * Math.sin(wf);
  const period = Math.ceil((2 * Math.PI) / omega);
  for (let t = 0; t < T; t++) {
    const x = Math.sin(omega * t);
    [h0, h1] = [c * h0 - s * h1 + x, s * h0 + c * h1];
    if (t >= T - 2 * period) peak = Math.max(peak, Math.abs(h0));
  }
  return peak;
}

describe('experiment 9: the RNN as a filter', () => {
  it('holds at the defaults: about 13 dB of SNR gain, and the gain is |H(e^{i 0.3})| = 10.35', () => {
    const r = rnnFilterSnr.run();
    expect(r.verdict.holds).toBe(true);
    const H = closedFormGain(0.95, 0.3, 0.3);
    expect(H).toBeCloseTo(10.35, 2);
    expect(Math.abs(r.data.predictedGain - H) / H).toBeLessThan(1e-12);
    expect(Math.abs(r.data.measuredGain - H) / H).toBeLessThan(1e-9);
    // A sampled peak underestimates the amplitude by at most 1 - cos(omega / 2).
    const peak = simulatedAmplitude(0.95, 0.3, 0.3, 4000);
    expect(peak).toBeLessThanOrEqual(H * (1 + 1e-9));
    expect(peak).toBeGreaterThanOrEqual(H * Math.cos(0.15));
    // SNR: input about -3 dB (signal power 1/2, noise power 1); the gain within 1.5 dB of the expectation.
    expect(r.data.inputSnrDb).toBeCloseTo(-3.01, 0);
    const expected = expectedGainDb(0.95, 0.3, 0.3);
    expect(expected).toBeGreaterThan(12);
    expect(Math.abs(r.data.gainDb - expected)).toBeLessThan(1.5);
    expect(r.data.discard).toBe(Math.ceil(Math.log(1e-12) / Math.log(0.95)));
    // The plotted |H| at w = 0 against the closed form.
    expect(r.data.magnitude[0]! / closedFormGain(0.95, 0.3, 0)).toBeCloseTo(1, 12);
    expect(r.plots).toHaveLength(2);
  });

  it('breaks when the filter is detuned (w_f = 1.5): the signal is attenuated and the SNR falls', () => {
    const r = rnnFilterSnr.run({ filterOmega: 1.5 });
    expect(r.verdict.holds).toBe(false);
    expect(r.data.gainDb).toBeLessThan(0);
    const expected = expectedGainDb(0.95, 1.5, 0.3);
    expect(Math.abs(r.data.gainDb - expected)).toBeLessThan(1.5);
    // The frequency-response part still holds: it is the gain at omega whatever the tuning.
    expect(r.data.gainRelativeError).toBeLessThan(1e-9);
    expect(r.data.measuredGain / closedFormGain(0.95, 1.5, 0.3)).toBeCloseTo(1, 9);
  });

  it('r = 0 is no filter at all: 0 dB gain and |H| = 1', () => {
    const r = rnnFilterSnr.run({ radius: 0 });
    expect(r.data.gainDb).toBeCloseTo(0, 12);
    expect(r.data.predictedGain).toBeCloseTo(1, 14);
    expect(r.verdict.holds).toBe(false);
  });
});
