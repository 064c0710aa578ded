/**
 * Experiment 7, Euler stability: explicit Euler on dy/dt = lambda y is the linear RNN y_{k+1} = (1 + dt lambda) y_k,
 * and its global error explodes exactly when that recurrent weight has modulus above 1.
 * @module
 */
import { eulerAsRnn } from '../analysis/gradient-flow.js';
import { check, defineExperiment, fmt, toArray } from './types.js';

/** Data of {@link eulerStability}. */
export interface EulerStabilityData {
  /** The boundary step dt* = -2 Re(lambda) / |lambda|^2, where |1 + dt lambda| = 1. */
  dtStar: number;
  /** lambda (Im lambda = oscillation |Re lambda|). */
  lambda: { re: number; im: number };
  /** The final time T = timeConstants / |Re lambda|. */
  time: number;
  /** The swept steps dt. */
  dt: number[];
  /** |1 + dt lambda| for every dt. */
  amplification: number[];
  /** Global error |y_N - y(N dt)| at the first step N with N dt >= T (N >= 1), for every dt. */
  errorAtT: number[];
  /** The same after 2N steps (time 2 N dt, about 2T): larger than errorAtT when the error grows with the steps. */
  errorAt2T: number[];
  /** The smallest swept dt whose error grows from T to 2T (NaN if none): the measured boundary. */
  measuredBoundary: number;
  /** Half the spacing of the dt grid: how closely the sweep can locate the boundary. */
  resolution: number;
  /** The probe steps (1 - margin) dt* and (1 + margin) dt*. */
  probe: { below: ProbeRun; above: ProbeRun };
}

/** One Euler run at a probe step. */
export interface ProbeRun {
  dt: number;
  amplification: number;
  /** Times k dt of the run over [0, 2T]. */
  t: number[];
  /** Re y_k of Euler. */
  euler: number[];
  /** Re y(k dt) of the exact solution. */
  exact: number[];
  errorAtT: number;
  errorAt2T: number;
}

/** N = ceil(time / dt) (at least 1): the first step at or after `time`. */
function stepsTo(time: number, dt: number): number {
  return Math.max(1, Math.ceil(time / dt - 1e-9));
}

/** |y_N - y(N dt)|, complex modulus. */
function errorAt(lambda: { re: number; im: number }, dt: number, N: number): number {
  const rnn = eulerAsRnn(lambda, dt);
  const y = rnn.simulate(1, N), x = rnn.exact(1, N);
  return Math.hypot(y.re[N]! - x.re[N]!, y.im[N]! - x.im[N]!);
}

/**
 * Sweeps the step dt of explicit Euler on dy/dt = lambda y (Re lambda < 0, y_0 = 1) and measures the global error
 * at time T and at 2T. The exact solution decays, so the error is essentially |1 + dt lambda|^N: it shrinks with
 * more steps when the amplification |1 + dt lambda| is below 1 and grows without bound when it is above, and the
 * switch happens at dt* = -2 Re(lambda) / |lambda|^2 (= -2 / lambda for real lambda), where the recurrent weight
 * crosses the unit circle.
 */
export const eulerStability = defineExperiment({
  name: 'euler-stability',
  number: 7,
  title: 'Explicit Euler as an RNN: the error explodes when |1 + dt lambda| > 1',
  claim: 'The ODE analogy: explicit Euler\'s global error explodes exactly when the amplification factor exceeds 1.',
  description: 'Euler\'s y_{k+1} = (1 + dt lambda) y_k is a linear RNN with recurrent weight 1 + dt lambda. The sweep ' +
    'measures the global error after the N steps that reach time T and after 2N steps, for steps dt up to twice the boundary dt* = -2 Re(lambda) / |lambda|^2: ' +
    'below dt* the error falls as the run gets longer, above it it grows. The second plot shows the runs at ' +
    '(1 - margin) dt* and (1 + margin) dt* against the exact solution.',
  params: {
    lambdaRe: { kind: 'number', label: 'Re lambda', description: 'Real part of the decay rate (negative: a decaying ODE).', default: -10, min: -50, max: -0.5, step: 0.1 },
    oscillation: { kind: 'number', label: 'Im lambda / |Re lambda|', description: 'Imaginary part relative to the decay rate; the boundary becomes the disk |1 + dt lambda| = 1.', default: 0, min: -3, max: 3, step: 0.05 },
    timeConstants: { kind: 'number', label: 'T |Re lambda|', description: 'Final time T in time constants 1/|Re lambda| (the error is measured at T and after twice the steps).', default: 100, min: 5, max: 300, step: 1 },
    margin: { kind: 'number', label: 'probe margin', description: 'The probes run at (1 -+ margin) dt*.', default: 0.05, min: 0.005, max: 0.5, step: 0.005 },
    points: { kind: 'number', label: 'sweep points', description: 'Number of steps dt swept on (0, 2 dt*].', default: 200, min: 20, max: 500, integer: true },
  },
  body(p) {
    // Im lambda relative to Re lambda keeps the run lengths bounded (N ~ T / dt* grows with |lambda|^2 / Re^2), and T
    // in time constants keeps the comparison asymptotic: a convergent scheme's error ~ t e^{Re lambda t} still rises
    // while t < 1 / |Re lambda|, which is not the instability the claim is about.
    const lambdaIm = p.oscillation * Math.abs(p.lambdaRe);
    const lambda = { re: p.lambdaRe, im: lambdaIm };
    const time = p.timeConstants / Math.abs(p.lambdaRe);
    const dtStar = -2 * p.lambdaRe / (p.lambdaRe ** 2 + lambdaIm ** 2);
    // A grid that does not contain dt* itself (offset by half a cell), so every point is strictly on one side.
    const h = 2 * dtStar / p.points;
    const dt = Array.from({ length: p.points }, (_, i) => (i + 0.5) * h);
    const amplification = dt.map((d) => eulerAsRnn(lambda, d).amplification);
    // Twice the steps rather than twice the time, so even a dt above T compares 1 step with 2.
    const errorAtT = dt.map((d) => errorAt(lambda, d, stepsTo(time, d)));
    const errorAt2T = dt.map((d) => errorAt(lambda, d, 2 * stepsTo(time, d)));
    const grows = dt.findIndex((_, i) => errorAt2T[i]! > errorAtT[i]!);
    const measuredBoundary = grows < 0 ? NaN : dt[grows]!;
    // Growth beyond the boundary must hold at every larger dt too, else "exactly when" fails.
    const firstGrowing = grows < 0 ? dt.length : grows;
    const monotoneSplit = dt.every((_, i) => (errorAt2T[i]! > errorAtT[i]!) === (i >= firstGrowing));
    const probeRun = (d: number): ProbeRun => {
      const rnn = eulerAsRnn(lambda, d);
      const n = stepsTo(time, d), N = 2 * n;
      const y = rnn.simulate(1, N), x = rnn.exact(1, N);
      return {
        dt: d, amplification: rnn.amplification, t: Array.from({ length: N + 1 }, (_, k) => k * d),
        euler: toArray(y.re), exact: toArray(x.re), errorAtT: errorAt(lambda, d, n), errorAt2T: errorAt(lambda, d, N),
      };
    };
    const below = probeRun((1 - p.margin) * dtStar), above = probeRun((1 + p.margin) * dtStar);
    const data: EulerStabilityData = {
      dtStar, lambda, time, dt, amplification, errorAtT, errorAt2T, measuredBoundary, resolution: h / 2, probe: { below, above },
    };
    const checks = [
      check(`|1 + dt lambda| at (1 - ${p.margin}) dt*`, below.amplification, '<', 1),
      check(`|1 + dt lambda| at (1 + ${p.margin}) dt*`, above.amplification, '>', 1),
      check(`error after 2N / after N steps, dt = (1 - ${p.margin}) dt* (decays)`, below.errorAt2T / below.errorAtT, '<', 1),
      check(`error after 2N / after N steps, dt = (1 + ${p.margin}) dt* (grows)`, above.errorAt2T / above.errorAtT, '>', 1),
      check('|measured boundary - dt*| (first swept dt whose error grows)', Math.abs(measuredBoundary - dtStar), '<=', h / 2 * (1 + 1e-9)),
      check('error grows from N to 2N steps exactly at the swept dt above the boundary (1 = yes)', monotoneSplit ? 1 : 0, '==', 1, 0),
    ];
    const summary = `dt* = ${fmt(dtStar)}. At dt = ${fmt(below.dt)} (|1 + dt lambda| = ${fmt(below.amplification)}) the ` +
      `error goes from ${fmt(below.errorAtT)} at T = ${fmt(time)} to ${fmt(below.errorAt2T)} after twice the steps; at dt = ${fmt(above.dt)} ` +
      `(|1 + dt lambda| = ${fmt(above.amplification)}) from ${fmt(above.errorAtT)} to ${fmt(above.errorAt2T)}. ` +
      `The sweep's error first grows at dt = ${fmt(measuredBoundary)}.`;
    const all = [...errorAtT, ...errorAt2T].filter((v) => v > 0);
    const lo = Math.min(...all), hi = Math.max(...all);
    return {
      data, checks, summary,
      plots: [
        {
          type: 'line', title: `Global error of explicit Euler against dt (lambda = ${fmt(p.lambdaRe)}${lambdaIm ? ` + ${fmt(lambdaIm)}i` : ''})`,
          xLabel: 'step dt', yLabel: '|y_N - y(N dt)|', logY: true,
          series: [
            { name: `error at T = ${fmt(time)} (N steps)`, x: dt, y: errorAtT },
            { name: 'error after twice the steps', x: dt, y: errorAt2T },
            { name: `dt* = ${fmt(dtStar)}`, x: [dtStar, dtStar], y: [lo, hi], dashed: true, color: '#888' },
          ],
          hLines: [{ y: 1, label: '|y_0| = 1' }],
        },
        {
          type: 'line', title: 'Euler runs on either side of dt* (real part)', xLabel: 'time t', yLabel: 'Re y',
          series: [
            { name: `Euler, dt = ${fmt(below.dt)}`, x: below.t, y: below.euler },
            { name: `Euler, dt = ${fmt(above.dt)}`, x: above.t, y: above.euler },
            { name: 'exact', x: below.t, y: below.exact, dashed: true },
          ],
        },
      ],
    };
  },
});
