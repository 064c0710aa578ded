/**
 * Experiment 9, the RNN as a filter: a noisy sinusoid through a linear 2-state recurrence tuned to its frequency.
 * @module
 */
import { runCellMap, rnnCellMap } from '../analysis/cell-map.js';
import { frequencyResponse } from '../analysis/frequency.js';
import { snr } from '../analysis/signals.js';
import { Random } from '../nn/random.js';
import { check, defineExperiment, fmt, range, toArray } from './types.js';

/** Data of {@link rnnFilterSnr}. */
export interface RnnFilterSnrData {
  /** The recurrent matrix A = r [[cos w_f, -sin w_f], [sin w_f, cos w_f]] (poles r e^{+-i w_f}). */
  A: number[][];
  /** Input SNR in dB (clean sinusoid power over the drawn noise's power). */
  inputSnrDb: number;
  /** SNR of the read-out y_t = h_t[0] in dB (clean run's power over the noisy run's deviation from it). */
  stateSnrDb: number;
  /** stateSnrDb - inputSnrDb. */
  gainDb: number;
  /** Steady-state amplitude of y for the input sin(omega t) (least-squares fit of a sin + b cos after the transient). */
  measuredGain: number;
  /** |H(e^{i omega})| from the frequency response of (A, B, C). */
  predictedGain: number;
  /** |measuredGain - predictedGain| / predictedGain. */
  gainRelativeError: number;
  /** Steps left out as the transient (until r^k < 1e-12, at most half the run). */
  discard: number;
  /** The frequency grid and |H| on it, for the plot. */
  omegaGrid: number[];
  magnitude: number[];
  /** The first plotted steps after the transient: time, noisy input, clean input and y / |H|. */
  window: { t: number[]; noisy: number[]; clean: number[]; scaledOutput: number[] };
}

/** Amplitude of the least-squares fit a sin(omega t) + b cos(omega t) to y_t over t = from..T-1. */
function sinusoidAmplitude(y: ArrayLike<number>, omega: number, from: number): number {
  // Normal equations of the 2-parameter fit; exact for a steady-state sinusoid whatever the window length.
  let ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
  for (let t = from; t < y.length; t++) {
    const s = Math.sin(omega * t), c = Math.cos(omega * t);
    ss += s * s; cc += c * c; sc += s * c; ys += y[t]! * s; yc += y[t]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
  return Math.hypot(a, b);
}

/**
 * A linear RNN h_t = A h_{t-1} + B x_t, y_t = h_t[0], whose A is a damped rotation by w_f (poles r e^{+-i w_f}): a
 * resonator. Driven by sin(omega t) plus white noise, it passes the sinusoid with gain |H(e^{i omega})| (largest
 * when w_f = omega) and the noise with the mean of |H|^2 over all frequencies, so the state's SNR beats the input's
 * by roughly |H(omega)|^2 / mean |H|^2. The SNRs come from the library's snr (clean and noisy runs, noise = their
 * difference, exact for a linear system), the predicted gain from frequencyResponse, the measured gain from a
 * least-squares sinusoid fit to the clean run.
 */
export const rnnFilterSnr = defineExperiment({
  name: 'rnn-filter-snr',
  number: 9,
  title: 'The RNN as a filter: a tuned linear recurrence raises the SNR',
  claim: 'A noisy sinusoid through a tuned linear recurrence: the hidden state\'s SNR beats the input\'s, and the gain matches the frequency response.',
  description: 'The input is sin(omega t) plus white Gaussian noise (seeded). The 2-state linear recurrence has poles ' +
    'r e^{+-i w_f}; with w_f = omega it resonates at the signal\'s frequency. The first plot shows the noisy input, ' +
    'the clean sinusoid and the read-out divided by |H(e^{i omega})|; the second |H| over frequency with the ' +
    'measured steady-state gain. Detuning w_f away from omega makes the filter pass less signal than noise.',
  params: {
    omega: { kind: 'number', label: 'signal frequency omega', description: 'Angular frequency of the sinusoid, radians per step.', default: 0.3, min: 0.05, max: 3, step: 0.01 },
    filterOmega: { kind: 'number', label: 'filter frequency w_f', description: 'Angle of the poles: the frequency the recurrence is tuned to.', default: 0.3, min: 0.05, max: 3, step: 0.01 },
    radius: { kind: 'number', label: 'pole radius r', description: 'Modulus of the poles: closer to 1 is a sharper resonance.', default: 0.95, min: 0, max: 0.99, step: 0.005 },
    noiseStd: { kind: 'number', label: 'noise std', description: 'Standard deviation of the white input noise.', default: 1, min: 0.01, max: 5, step: 0.01 },
    steps: { kind: 'number', label: 'steps', description: 'Length of the run.', default: 4000, min: 500, max: 20000, integer: true },
    seed: { kind: 'number', label: 'noise seed', description: 'Seed of the noise.', default: 1, min: 0, max: 1000, integer: true },
    marginDb: { kind: 'number', label: 'required SNR gain (dB)', description: 'The state\'s SNR must beat the input\'s by more than this.', default: 3, min: 0, max: 30, step: 0.5 },
  },
  body(p) {
    const r = p.radius, c = Math.cos(p.filterOmega), s = Math.sin(p.filterOmega);
    const A = [[r * c, -r * s], [r * s, r * c]];
    const B = [[1], [0]], C = [[1, 0]];
    const map = rnnCellMap({ weightIh: B, weightHh: A, nonlinearity: 'identity' });
    const T = p.steps;
    const clean = Array.from({ length: T }, (_, t) => Math.sin(p.omega * t));
    // The transient from h_0 = 0 decays like r^t; leave it out of every measurement.
    const discard = r === 0 ? 1 : Math.min(Math.floor(T / 2), Math.ceil(Math.log(1e-12) / Math.log(r)));
    const q = snr(map, { signal: clean, noiseStd: p.noiseStd, seed: p.seed, readout: C, discard });
    const y = runCellMap(map, clean).hidden.map((h) => h[0]!);
    const measuredGain = sinusoidAmplitude(y, p.omega, discard);
    // The RNN's y_t = C h_t with h_t = A h_{t-1} + B x_t has transfer function z C (zI - A)^{-1} B, the state-space
    // form's times z: on |z| = 1 the magnitudes agree, so frequencyResponse's |H| is the RNN's gain.
    const grid = Array.from({ length: 256 }, (_, i) => (i * Math.PI) / 255);
    const fr = frequencyResponse({ A, B, C }, { omega: [...grid, p.omega] });
    const mag = toArray(fr.magnitude[0]![0]!);
    const predictedGain = mag[grid.length]!;
    const gainRelativeError = Math.abs(measuredGain - predictedGain) / predictedGain;
    // The noisy input drawn as snr draws it (Random(seed).normal() per step), only for the plot.
    const rng = new Random(p.seed);
    const noisy = clean.map((v) => v + p.noiseStd * rng.normal());
    const W = Math.min(200, T - discard);
    const ts = range(W).map((i) => discard + i);
    const data: RnnFilterSnrData = {
      A, inputSnrDb: q.inputSnrDb, stateSnrDb: q.stateSnrDb, gainDb: q.gainDb, measuredGain, predictedGain,
      gainRelativeError, discard, omegaGrid: grid, magnitude: mag.slice(0, grid.length),
      window: { t: ts, noisy: ts.map((t) => noisy[t]!), clean: ts.map((t) => clean[t]!), scaledOutput: [] },
    };
    const yNoisy = runCellMap(map, noisy).hidden.map((h) => h[0]!);
    data.window.scaledOutput = ts.map((t) => yNoisy[t]! / predictedGain);
    const checks = [
      check('SNR gain of the state over the input (dB)', q.gainDb, '>', p.marginDb),
      check('|measured - predicted amplitude gain| / predicted', gainRelativeError, '<=', 1e-3),
    ];
    const summary = `Input SNR ${fmt(q.inputSnrDb)} dB, state SNR ${fmt(q.stateSnrDb)} dB: a gain of ${fmt(q.gainDb)} dB ` +
      `(required > ${fmt(p.marginDb)}). Steady-state amplitude gain at omega = ${fmt(p.omega)}: measured ` +
      `${fmt(measuredGain)}, |H(e^{i omega})| = ${fmt(predictedGain)} (relative difference ${fmt(gainRelativeError)}).`;
    return {
      data, checks, summary,
      plots: [
        {
          type: 'line', title: `Noisy input and the filtered state (scaled by 1/|H| = ${fmt(1 / predictedGain)})`,
          xLabel: 'step t', yLabel: 'value',
          series: [
            { name: 'noisy input x_t', x: ts, y: data.window.noisy, color: '#bbb' },
            { name: 'clean sin(omega t)', x: ts, y: data.window.clean, dashed: true },
            { name: 'y_t / |H(omega)|', x: ts, y: data.window.scaledOutput },
          ],
        },
        {
          type: 'line', title: `|H(e^{i w})| of the recurrence (poles ${fmt(r)} e^{+-i ${fmt(p.filterOmega)}})`,
          xLabel: 'frequency w (radians per step)', yLabel: '|H|', logY: true,
          series: [
            { name: '|H| (frequencyResponse)', x: grid, y: data.magnitude },
            { name: `signal omega = ${fmt(p.omega)}`, x: [p.omega, p.omega], y: [Math.min(...data.magnitude), Math.max(...data.magnitude)], dashed: true, color: '#888' },
          ],
          hLines: [{ y: measuredGain, label: `measured gain ${fmt(measuredGain)}` }],
        },
      ],
    };
  },
});
