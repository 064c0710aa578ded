/**
 * Experiment 2, fixed points and the bias knob: the fixed points of h = tanh(w h + b) followed across b, and the
 * memory half-life at a stable fixed point, predicted from the Jacobian and measured by simulation.
 * @module
 */
import { rnnCellMap } from '../analysis/cell-map.js';
import { biasSweep, fixedPoints, type FixedPoint } from '../analysis/dynamics.js';
import type { ScatterPoint } from '../analysis/svg.js';
import { check, defineExperiment, fmt, range } from './types.js';

/** Data of {@link fixedPointsBias}. */
export interface FixedPointsBiasData {
  /** The swept bias values b_k (symmetric around 0, b = 0 included). */
  b: number[];
  /** Number of fixed points found at each b_k. */
  count: number[];
  /** Every fixed point of the sweep: its bias, h* and whether it is stable. */
  points: { b: number; h: number; stable: boolean }[];
  /** Fold locations found by the sweep (bisection-refined estimates), in sweep order. */
  folds: number[];
  /** The closed-form fold location |b_f| = w h_f - atanh(h_f), h_f = sqrt(1 - 1/w) (NaN for w <= 1). */
  foldClosedForm: number;
  /** Number of fixed points at b = 0 and at the end of the sweep (b = bMax). */
  countAtZero: number;
  countAtEnd: number;
  /** The stable fixed point h* used for the half-life (at b = halfLifeBias). */
  hStar: number;
  /** The Jacobian's eigenvalue there (scalar net: w (1 - h*^2)). */
  lambda: number;
  /** ln(0.5) / ln|lambda| (library's FixedPoint.halfLife). */
  predictedHalfLife: number;
  /** Steps 0..T and the simulated deviation |h_t - h*| from h_0 = h* + perturbation. */
  t: number[];
  deviation: number[];
  /** The first (fractional) step at which the simulated deviation reaches half its start, by log interpolation. */
  measuredHalfLife: number;
  /** |measured - predicted| / predicted. */
  relativeError: number;
}

/**
 * The step (fractional) at which `e` first falls to e[0] / 2, interpolating ln e linearly between the integer
 * steps around the crossing; exact for a geometric sequence, so it measures the half-life without rounding it to
 * whole steps. NaN if the deviation never halves.
 */
export function halfLifeCrossing(e: readonly number[]): number {
  const target = Math.log(e[0]! / 2);
  for (let t = 1; t < e.length; t++) {
    const a = Math.log(e[t - 1]!), c = Math.log(e[t]!);
    if (c <= target) return t - 1 + (a - target) / (a - c);
  }
  return NaN;
}

/**
 * For w > 1 the scalar tanh net has three fixed points for |b| below the fold value (two stable, one unstable
 * between them) and one beyond it: the sweep over b in [-bMax, bMax] (library {@link biasSweep}) shows the folds
 * where a stable and the unstable branch meet and vanish. At a stable fixed point h* (at b = halfLifeBias, the one
 * with the slowest decay) a perturbation decays like lambda^t with lambda = w (1 - h*^2), so its half-life is
 * ln(0.5) / ln|lambda|; the simulation of the nonlinear net from h* + perturbation measures it.
 */
export const fixedPointsBias = defineExperiment({
  name: 'fixed-points-bias',
  number: 2,
  title: 'Fixed points and the bias knob',
  claim: 'The fixed points of a small tanh net move as the bias changes (a fold turns three into one); the memory ' +
    'half-life near a stable fixed point, predicted from the Jacobian, matches the simulated decay.',
  description: 'The scalar net h_t = tanh(w h_{t-1} + b). The library\'s bias sweep follows its fixed points across ' +
    'b in [-bMax, bMax] and finds the folds, which for w > 1 lie at b = +-(w h_f - atanh(h_f)), h_f = sqrt(1 - 1/w). ' +
    'Then, at b = halfLifeBias, the stable fixed point with the slowest decay is perturbed and the net is simulated: ' +
    'the step where the deviation has halved is compared with ln(0.5) / ln|lambda| from the Jacobian lambda = w (1 - h*^2).',
  params: {
    weight: { kind: 'number', label: 'recurrent weight w', description: 'The scalar recurrent weight (> 1 for three fixed points near b = 0).', default: 2, min: 0.2, max: 4, step: 0.05 },
    bMax: { kind: 'number', label: 'sweep half-width bMax', description: 'The bias is swept over [-bMax, bMax].', default: 1, min: 0.1, max: 3, step: 0.05 },
    halfLifeBias: { kind: 'number', label: 'bias for the half-life', description: 'The bias b at which the half-life is predicted and simulated.', default: -0.52, min: -3, max: 3, step: 0.01 },
    perturbation: { kind: 'number', label: 'perturbation', description: 'Initial deviation h_0 - h* (small: linear regime; large: nonlinear).', default: 1e-4, min: 1e-8, max: 1, step: 1e-4 },
    steps: { kind: 'number', label: 'steps T', description: 'Steps simulated after the perturbation.', default: 30, min: 2, max: 500, integer: true },
  },
  body(p) {
    const w = p.weight;
    const base = rnnCellMap({ weightIh: [[1]], weightHh: [[w]], nonlinearity: 'tanh' });
    // 201 values keep b = 0 on the grid (index 100) so the count there is read off the sweep itself.
    const K = 201;
    const values = range(K).map((k) => -p.bMax + (2 * p.bMax * k) / (K - 1));
    values[(K - 1) / 2] = 0;
    const sweep = biasSweep(base, { index: 0, values, startRange: 1.5 });
    const count = sweep.points.map((pts) => pts.length);
    const points = sweep.points.flatMap((pts, k) => pts.map((q) => ({ b: values[k]!, h: q.hidden[0]!, stable: q.stability === 'stable' })));
    const folds = sweep.bifurcations.filter((f) => f.type === 'fold' || f.type === 'branch-end').map((f) => f.estimate);
    const hf = w > 1 ? Math.sqrt(1 - 1 / w) : NaN;
    const foldClosedForm = w > 1 ? w * hf - Math.atanh(hf) : NaN;

    // The stable point with the slowest decay: near a fold it has the longest memory, so the half-life spans steps.
    const fps = fixedPoints(base.withBias('ih', 0, p.halfLifeBias), { startRange: 1.5 }).filter((q) => q.stability === 'stable');
    const fp: FixedPoint | undefined = fps.sort((a, c) => (c.slowestDecay ?? 0) - (a.slowestDecay ?? 0))[0];
    const hStar = fp ? fp.hidden[0]! : NaN;
    const lambda = fp ? fp.eigenvalues.re[0]! : NaN;
    const predictedHalfLife = fp ? fp.halfLife : NaN;
    const map = base.withBias('ih', 0, p.halfLifeBias);
    const deviation: number[] = [p.perturbation];
    let s: Float64Array = Float64Array.of(hStar + p.perturbation);
    for (let t = 1; t <= p.steps; t++) {
      s = map.step(s);
      deviation.push(Math.abs(s[0]! - hStar));
    }
    const measuredHalfLife = halfLifeCrossing(deviation);
    const relativeError = Math.abs(measuredHalfLife - predictedHalfLife) / predictedHalfLife;
    const countAtZero = count[(K - 1) / 2]!, countAtEnd = count[K - 1]!;
    const data: FixedPointsBiasData = {
      b: values, count, points, folds, foldClosedForm, countAtZero, countAtEnd, hStar, lambda, predictedHalfLife,
      t: range(p.steps + 1), deviation, measuredHalfLife, relativeError,
    };
    const tol = 0.05;
    const checks = [
      check('number of fixed points at b = 0', countAtZero, '==', 3, 0),
      check(`number of fixed points at b = bMax = ${fmt(p.bMax)}`, countAtEnd, '==', 1, 0),
      check('folds found by the sweep', folds.length, '>=', 1),
      check('relative error of the simulated half-life against ln(0.5)/ln|lambda|', relativeError, '<', tol),
    ];
    const summary = `w = ${fmt(w)}: ${countAtZero} fixed points at b = 0, ${countAtEnd} at b = ${fmt(p.bMax)}; ` +
      `folds at b = ${folds.map(fmt).join(', ') || 'none'} (closed form +-${fmt(foldClosedForm)}). ` +
      `At b = ${fmt(p.halfLifeBias)}, h* = ${fmt(hStar)}, lambda = ${fmt(lambda)}: predicted half-life ` +
      `${fmt(predictedHalfLife)} steps, simulated ${fmt(measuredHalfLife)} (relative error ${fmt(relativeError)}, bound ${tol}).`;
    const stableColor = '#1f77b4', unstableColor = '#d62728';
    const scatter: ScatterPoint[] = points.map((q) => ({
      x: q.b, y: q.h, color: q.stable ? stableColor : unstableColor, marker: q.stable ? 'dot' : 'ring',
    }));
    return {
      data, checks, summary,
      plots: [
        {
          type: 'scatter', title: `Fixed points of h = tanh(${fmt(w)} h + b) against b`, xLabel: 'bias b', yLabel: 'h*',
          points: scatter,
          legend: [{ name: 'stable', color: stableColor, marker: 'dot' }, { name: 'unstable', color: unstableColor, marker: 'ring' }],
        },
        {
          type: 'line', title: `Decay of a perturbation at h* = ${fmt(hStar)} (b = ${fmt(p.halfLifeBias)})`,
          xLabel: 'step t', yLabel: '|h_t - h*|', logY: true,
          series: [
            { name: 'simulated', x: data.t, y: deviation },
            { name: 'predicted perturbation * |lambda|^t', x: data.t, y: data.t.map((t) => p.perturbation * Math.abs(lambda) ** t), dashed: true },
          ],
        },
      ],
    };
  },
});
