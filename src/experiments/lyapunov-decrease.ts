/**
 * Experiment 3, a quadratic Lyapunov function decreasing along the trajectories of a stable tanh net.
 * @module
 */
import { rnnCellMap } from '../analysis/cell-map.js';
import { fixedPoints } from '../analysis/dynamics.js';
import { Matrix, spectralRadius } from '../analysis/linalg.js';
import { lyapunovCertificate } from '../analysis/lyapunov.js';
import { lyapunovAlongTrajectories } from '../analysis/lyapunov-trajectories.js';
import { Random } from '../nn/random.js';
import { check, defineExperiment, fmt, range, toArray } from './types.js';

/** Data of {@link lyapunovDecrease}. */
export interface LyapunovDecreaseData {
  /** The recurrent matrix W (rows), scaled to spectral radius `radiusScale`. */
  W: number[][];
  /** The bias b. */
  b: number[];
  /** The fixed point h* = tanh(W h* + b) (Newton from the origin). */
  hStar: number[];
  /** Spectral radius of the Jacobian A = diag(1 - h*^2) W at h*. */
  jacobianRadius: number;
  /** P solving A^T P A - P = -I. */
  P: number[][];
  /** Smallest eigenvalue of P. */
  pMinEigenvalue: number;
  /** V(h_t) = (h_t - h*)^T P (h_t - h*), t = 0..T, one array per trajectory. */
  values: number[][];
  /** max over trajectories of V_{t+1} / V_t, for each step t = 0..T-1 (counted steps only, NaN when none). */
  maxRatioPerStep: number[];
  /**
   * The largest V_{t+1} / V_t over every counted step of every trajectory (a step counts while V_t > 1e-20 V_0,
   * above the rounding floor, and V_t > 0; NaN if none counts).
   */
  maxRatio: number;
  /** Number of counted steps over all trajectories. */
  countedSteps: number;
}

/**
 * A random tanh net h_t = tanh(W h_{t-1} + b) whose W is scaled to spectral radius `radiusScale`; at its fixed point
 * h* the Jacobian is A = diag(1 - h*^2) W, so rho(A) <= rho(W)-ish and the linearization is stable for a scale
 * below 1. The discrete Lyapunov equation A^T P A - P = -I then has a positive definite solution and
 * V(h) = (h - h*)^T P (h - h*) is evaluated along trajectories of the nonlinear net from seeded random starts at
 * distance `startRadius` (library {@link lyapunovAlongTrajectories}). Above a scale of about 1 the fixed point
 * loses stability, P is indefinite and V stops decreasing.
 */
export const lyapunovDecrease = defineExperiment({
  name: 'lyapunov-decrease',
  number: 3,
  title: 'A quadratic Lyapunov function decreases along trajectories',
  claim: 'A quadratic Lyapunov function V(h) = (h - h*)^T P (h - h*), P from the discrete Lyapunov equation of the ' +
    'linearization, decreases along trajectories of a stable tanh net.',
  description: 'W is a seeded Gaussian matrix scaled to the given spectral radius and b a small seeded bias. The fixed ' +
    'point h* is found by Newton from the origin, P solves A^T P A - P = -I with A the Jacobian at h*, and V is ' +
    'evaluated along trajectories of the tanh net from random starts h* + r u (u uniform on the sphere). The claim ' +
    'holds when P > 0 and V_{t+1} < V_t at every step of every trajectory.',
  params: {
    radiusScale: { kind: 'number', label: 'spectral radius of W', description: 'W is scaled to this spectral radius (below 1: stable; above about 1 it breaks).', default: 0.8, min: 0.05, max: 2, step: 0.01 },
    size: { kind: 'number', label: 'units n', description: 'Number of hidden units.', default: 5, min: 1, max: 30, integer: true },
    startRadius: { kind: 'number', label: 'start radius r', description: 'Distance of the random starts from h*.', default: 0.5, min: 0.001, max: 5, step: 0.01 },
    trajectories: { kind: 'number', label: 'trajectories', description: 'Number of random starts.', default: 8, min: 1, max: 64, integer: true },
    steps: { kind: 'number', label: 'steps T', description: 'Steps per trajectory.', default: 40, min: 1, max: 500, integer: true },
    seed: { kind: 'number', label: 'seed', description: 'Seed of W, b and the starts.', default: 3, min: 0, max: 1000, integer: true },
  },
  body(p) {
    const n = p.size;
    const rng = new Random(p.seed);
    const G = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
    const rhoG = spectralRadius(new Matrix(G));
    const W = G.map((row) => row.map((v) => (v * p.radiusScale) / rhoG));
    // A small bias moves h* off the origin, so the Jacobian is diag(1 - h*^2) W rather than W itself.
    const b = Array.from({ length: n }, () => 0.2 * rng.normal());
    const map = rnnCellMap({ weightIh: Array.from({ length: n }, () => [0]), weightHh: W, biasHh: b, nonlinearity: 'tanh' });
    const fp = fixedPoints(map, { starts: 1 })[0]!;
    const hStar = toArray(fp.hidden);
    const cert = lyapunovCertificate(map.jacobian(fp.state).A);
    const run = lyapunovAlongTrajectories(map, {
      center: fp.state, radius: p.startRadius, trajectories: p.trajectories, steps: p.steps, seed: p.seed + 1,
    });
    const values = run.values.map(toArray);
    // A step counts while V_t > 1e-20 V_0, i.e. |h_t - h*| above ~1e-10 of the start: below that h_t - h* is
    // dominated by rounding (|h*| eps ~ 1e-17) and the ratio is noise around 1, not a property of the net.
    // With an indefinite P (unstable h*) V can be negative; those steps do not count either.
    const counted = (v: number[], t: number): boolean => v[t]! > 0 && v[t]! > 1e-20 * Math.abs(v[0]!);
    const maxRatioPerStep = range(p.steps).map((t) => {
      const r = values.filter((v) => counted(v, t)).map((v) => v[t + 1]! / v[t]!);
      return r.length ? Math.max(...r) : NaN;
    });
    const countedSteps = values.reduce((a, v) => a + range(p.steps).filter((t) => counted(v, t)).length, 0);
    // No counted step means nothing was shown: NaN, which fails the check rather than passing it vacuously.
    const maxRatio = countedSteps ? Math.max(...maxRatioPerStep.filter((r) => !Number.isNaN(r))) : NaN;
    const data: LyapunovDecreaseData = {
      W, b, hStar, jacobianRadius: fp.spectralRadius, P: run.P, pMinEigenvalue: cert.minEigenvalue, values,
      maxRatioPerStep, maxRatio, countedSteps,
    };
    const checks = [
      check('smallest eigenvalue of P (positive definite)', cert.minEigenvalue, '>', 0),
      check('max V_{t+1} / V_t over every step of every trajectory', maxRatio, '<', 1),
    ];
    const summary = `rho(W) = ${fmt(p.radiusScale)}, rho(A) at h* = ${fmt(fp.spectralRadius)}: P has smallest ` +
      `eigenvalue ${fmt(cert.minEigenvalue)}; over ${p.trajectories} trajectories of ${p.steps} steps from radius ` +
      `${fmt(p.startRadius)} the largest V_{t+1}/V_t over ${countedSteps} steps is ${fmt(maxRatio)} (` +
      `${maxRatio < 1 ? 'V decreases at every step' : 'V does not always decrease'}).` +
      (cert.minEigenvalue > 0 ? '' : ' P is indefinite: V is no Lyapunov function.');
    const t = range(p.steps + 1);
    return {
      data, checks, summary,
      plots: [
        {
          type: 'line', title: 'V(h_t) / V(h_0) along each trajectory', xLabel: 'step t', yLabel: 'V_t / V_0', logY: true,
          series: values.map((v, k) => ({ name: `start ${k + 1}`, x: t, y: v.map((x) => x / v[0]!) })),
        },
        {
          type: 'line', title: 'Largest one-step ratio V_{t+1} / V_t over the trajectories', xLabel: 'step t',
          yLabel: 'max V_{t+1} / V_t', series: [{ name: 'max ratio', x: range(p.steps), y: maxRatioPerStep }],
          hLines: [{ y: 1, label: 'no decrease' }],
        },
      ],
    };
  },
});
