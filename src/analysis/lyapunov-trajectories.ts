/**
 * The Lyapunov certificate of a linearization, checked on the nonlinear net: V(s) = (s - s*)^T P (s - s*) with
 * A^T P A - P = -Q at a fixed point s*, evaluated along simulated trajectories of the real cell map.
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { Random } from '../nn/random.js';
import type { RecurrentLayer } from '../nn/recurrent.js';
import { toMatrix, type MatrixInput } from './linalg.js';
import { lyapunovCertificate, lyapunovValue } from './lyapunov.js';
import { cellMap, type CellMap } from './cell-map.js';

/** Options of {@link lyapunovAlongTrajectories}. */
export interface LyapunovTrajectoryOptions {
  /** The fixed point s* (state, length stateSize). */
  center: ArrayLike<number>;
  /** Constant input of the fixed point (default zeros). */
  input?: ArrayLike<number>;
  /** Q of the Lyapunov equation (default I). */
  Q?: MatrixInput;
  /** Number of trajectories (default 16). */
  trajectories?: number;
  /** Start distance from s*: starts are s* + radius * u with u uniform on the unit sphere (default 0.1). */
  radius?: number;
  /** Steps per trajectory (default 50). */
  steps?: number;
  /** Seed of the starts (default 1). */
  seed?: number;
}

/** What {@link lyapunovAlongTrajectories} returns. */
export interface LyapunovTrajectoryCheck {
  /** P solving A^T P A - P = -Q at s* (A the state Jacobian there). */
  P: number[][];
  /** P > 0 and so V certifies the linearization's stability. */
  certified: boolean;
  /** V(s_t) for each trajectory, t = 0..steps. */
  values: Float64Array[];
  /** Every step of every trajectory had V(s_{t+1}) < V(s_t) (or V already below 1e-300). */
  allDecreasing: boolean;
  /** Fraction of steps (over all trajectories) with V decreasing. */
  fractionDecreasing: number;
  /** Largest ratio V(s_{t+1}) / V(s_t) seen (below 1 when V decreases everywhere). */
  maxRatio: number;
  /** Largest V(s_steps) / V(s_0): how far the trajectories contracted. */
  finalRatio: number;
}

/**
 * Solves A^T P A - P = -Q at the fixed point s* of the cell map (A = ds_t/ds_{t-1} at s* and the constant
 * input), then runs the nonlinear map from starts s* + radius u and reports whether V(s) = (s - s*)^T P (s - s*)
 * decreased at every step. For a small radius a certified linearization implies decrease (the nonlinear terms
 * are O(|s - s*|^2)); far from s* the check shows where the quadratic certificate stops holding.
 */
export function lyapunovAlongTrajectories(model: RecurrentLayer | CellMap,
                                          options: LyapunovTrajectoryOptions): LyapunovTrajectoryCheck {
  const cell = 'jacobian' in model && 'step' in model && 'stateSize' in model ? model as CellMap : cellMap(model as RecurrentLayer);
  const n = cell.stateSize;
  if (!options || options.center == null || options.center.length !== n) {
    throw new ShapeError('options.center', `expected the fixed point as ${n} numbers (the state size), got ` +
      `${options?.center == null ? 'none' : options.center.length}`, [n]);
  }
  const center = Float64Array.from(options.center);
  const x = Float64Array.from(options.input ?? new Float64Array(cell.inputSize));
  if (x.length !== cell.inputSize) {
    throw new ShapeError('options.input', `expected ${cell.inputSize} numbers, got ${x.length}`, [cell.inputSize]);
  }
  const T = options.steps ?? 50, N = options.trajectories ?? 16, radius = options.radius ?? 0.1;
  for (const [k, v] of [['steps', T], ['trajectories', N]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`options.${k}`, `expected an integer >= 1, got ${v}`);
  }
  if (!(radius > 0) || !Number.isFinite(radius)) {
    throw new InvalidArgumentError('options.radius', `expected a positive finite number, got ${radius}`);
  }
  const { A } = cell.jacobian(center, x);
  const cert = lyapunovCertificate(A, options.Q === undefined ? {} : { Q: toMatrix('options.Q', options.Q, { rows: n, cols: n }) });
  const P = cert.P;
  const rng = new Random(options.seed ?? 1);
  const values: Float64Array[] = [];
  let dec = 0, total = 0, maxRatio = 0, finalRatio = 0;
  for (let k = 0; k < N; k++) {
    const u = Float64Array.from({ length: n }, () => rng.normal());
    const norm = Math.hypot(...u);
    let s = Float64Array.from(center, (c, i) => c + (radius * u[i]!) / norm);
    const v = new Float64Array(T + 1);
    v[0] = lyapunovValue(P, s, center);
    for (let t = 1; t <= T; t++) {
      s = Float64Array.from(cell.step(s, x));
      v[t] = lyapunovValue(P, s, center);
      const prev = v[t - 1]!;
      total++;
      if (v[t]! < prev || prev < 1e-300) dec++;
      if (prev >= 1e-300) maxRatio = Math.max(maxRatio, v[t]! / prev);
    }
    finalRatio = Math.max(finalRatio, v[T]! / v[0]!);
    values.push(v);
  }
  return { P, certified: cert.certified, values, allDecreasing: dec === total, fractionDecreasing: dec / total,
    maxRatio, finalRatio };
}
