/**
 * The recurrence as a nonlinear dynamical system s_t = f(s_{t-1}, x_t) (see {@link CellMap}): impulse
 * responses, Jacobians, fixed points with their linear stability, and continuation of fixed points in a bias
 * entry with bifurcation detection. Everything is float64 on the cell map; the WebAssembly engine is not used.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { Random } from '../nn/random.js';
import type { RecurrentLayer } from '../nn/recurrent.js';
import { resolveCellMap, type CellMap, type LayerSelection, type StateInput } from './cell-map.js';
import { Matrix, eigenvalues, identity, solve, type ComplexArray } from './linalg.js';

/** A model (one layer and direction of it is analysed, see {@link LayerSelection}) or a cell map. */
export type DynamicsTarget = RecurrentLayer | CellMap;

function checkCount(name: string, v: number | undefined, def: number, min = 1): number {
  const n = v ?? def;
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(name, `expected an integer >= ${min}, got ${String(n)}`);
  return n;
}

function checkPositive(name: string, v: number | undefined, def: number): number {
  const n = v ?? def;
  if (typeof n !== 'number' || !(n > 0) || !Number.isFinite(n)) {
    throw new InvalidArgumentError(name, `expected a positive finite number, got ${String(n)}`);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// impulse response and Jacobian
// ---------------------------------------------------------------------------------------------------------------

/** Options of {@link impulseResponse}. */
export interface ImpulseOptions extends LayerSelection {
  /** Number of steps T (default 50). */
  steps?: number;
  /** Size a of the impulse (default 1). */
  amplitude?: number;
  /** Input component i that receives the impulse (default 0). */
  inputIndex?: number;
  /** Initial state s_0 (default zeros). */
  state0?: StateInput;
}

/** States of an impulse response. */
export interface ImpulseResponse {
  /** s_1..s_T. */
  states: Float64Array[];
  /** h_1..h_T. */
  hidden: Float64Array[];
}

/**
 * The response to an impulse: s_t = f(s_{t-1}, x_t) for t = 1..T with x_1 = a e_i and x_t = 0 for t > 1.
 * For the scalar net h_t = tanh(h_{t-1} + x_t) and x_1 = -0.5 it is -0.4621, -0.4319, ... (tanh iterated); with
 * relu it is 0, 0, ...
 * @throws {InvalidArgumentError} for a bad option (inputIndex out of range, steps not a positive integer)
 */
export function impulseResponse(target: DynamicsTarget, options: ImpulseOptions = {}): ImpulseResponse {
  const map = resolveCellMap(target, options);
  const steps = checkCount('options.steps', options.steps, 50);
  const amplitude = options.amplitude ?? 1;
  if (typeof amplitude !== 'number' || !Number.isFinite(amplitude)) {
    throw new InvalidArgumentError('options.amplitude', `expected a finite number, got ${String(amplitude)}`);
  }
  const i = options.inputIndex ?? 0;
  if (!Number.isInteger(i) || i < 0 || i >= map.inputSize) {
    throw new InvalidArgumentError('options.inputIndex', `expected an integer in [0, ${map.inputSize - 1}], got ${String(i)}`);
  }
  let s = map.state(options.state0);
  const zero = new Float64Array(map.inputSize);
  const x1 = new Float64Array(map.inputSize);
  x1[i] = amplitude;
  const out: ImpulseResponse = { states: [], hidden: [] };
  for (let t = 0; t < steps; t++) {
    s = map.step(s, t === 0 ? x1 : zero);
    out.states.push(s);
    out.hidden.push(map.hidden(s));
  }
  return out;
}

/** Where to evaluate {@link jacobian}: a state (or h and c) and an input. */
export interface JacobianAt extends LayerSelection {
  /** The state s_{t-1} (or its parts h, c). Default zeros. */
  state?: StateInput;
  /** h_{t-1}, when `state` is not given. */
  h?: ArrayLike<number>;
  /** c_{t-1} (LSTM), when `state` is not given. */
  c?: ArrayLike<number>;
  /** x_t (default zeros). */
  x?: ArrayLike<number>;
}

/** Jacobians of one step at a point. */
export interface StepJacobian {
  /** ds_t/ds_{t-1} (for LSTM jointly over s = [h; c]: stateSize x stateSize). */
  A: Matrix;
  /** ds_t/dx_t, stateSize x inputSize. */
  B: Matrix;
  /** dh_t/dh_{t-1} at fixed c_{t-1}: the top-left outputSize x outputSize block of A (A itself for RNN/GRU). */
  hh: Matrix;
  /** dh_t/dx_t: the first outputSize rows of B. */
  hx: Matrix;
  /** The state the Jacobians were evaluated at. */
  state: Float64Array;
}

/** The Jacobians of s_t = f(s_{t-1}, x_t) at (s_{t-1}, x_t), exact (see {@link CellMap.jacobian}). */
export function jacobian(target: DynamicsTarget, at: JacobianAt = {}): StepJacobian {
  const map = resolveCellMap(target, at);
  const state = map.state(at.state ?? (at.h !== undefined ? { h: at.h, ...(at.c !== undefined ? { c: at.c } : {}) } : undefined));
  const { A, B } = map.jacobian(state, at.x);
  const P = map.outputSize;
  return { A, B, hh: A.subMatrix(0, P - 1, 0, P - 1), hx: B.subMatrix(0, P - 1, 0, B.columns - 1), state };
}

// ---------------------------------------------------------------------------------------------------------------
// fixed points
// ---------------------------------------------------------------------------------------------------------------

/** Linear stability of a fixed point from the moduli of the Jacobian's eigenvalues (eps = 1e-9). */
export type Stability = 'stable' | 'unstable' | 'saddle' | 'marginal';

/** A fixed point s* = f(s*, x) with its linearisation. */
export interface FixedPoint {
  /** s*. */
  state: Float64Array;
  /** Its hidden part h*. */
  hidden: Float64Array;
  /** Its cell part c* (LSTM), else null. */
  cell: Float64Array | null;
  /** max_i |f(s*, x)_i - s*_i|. */
  residual: number;
  /** Eigenvalues of A = ds'/ds at s*, sorted by decreasing modulus. */
  eigenvalues: ComplexArray;
  /** rho = max |lambda|. */
  spectralRadius: number;
  /**
   * With n_out = #{|lambda| > 1 + 1e-9}, n_in = #{|lambda| < 1 - 1e-9}, n_on the rest: 'stable' when
   * n_out = n_on = 0; 'marginal' when n_out = 0 < n_on; 'unstable' when n_out > 0 = n_in; 'saddle' when
   * n_out > 0 and n_in > 0.
   */
  stability: Stability;
  /**
   * The modulus of the slowest decaying mode: max{|lambda| : |lambda| < 1 - 1e-9} (null when no mode decays).
   * Equals the spectral radius at a stable point.
   */
  slowestDecay: number | null;
  /**
   * Half-life in steps of the slowest mode, ln(0.5) / ln(rho): a perturbation along it halves in that many
   * steps. Infinity when rho >= 1 - 1e-9 (no decay), 0 when rho = 0.
   */
  halfLife: number;
  /** det(A - I) = prod (lambda_i - 1): changes sign where a real eigenvalue crosses +1 (a fold). */
  detAMinusI: number;
  /** det(A + I) = prod (lambda_i + 1): changes sign where a real eigenvalue crosses -1 (a flip). */
  detAPlusI: number;
}

/** Options of {@link fixedPoints}. */
export interface FixedPointOptions extends LayerSelection {
  /** The constant input x (default zeros). */
  input?: ArrayLike<number>;
  /** Number of starts: the origin and starts - 1 points uniform in [-startRange, startRange]^S (default 64). */
  starts?: number;
  /** Half-width of the box the random starts are drawn from (default 1; the cell part of an LSTM state too). */
  startRange?: number;
  /** Seed of the starts (default 0; xoshiro128**, the same everywhere). */
  seed?: number;
  /** Extra starts tried first (e.g. the points of a neighbouring parameter value). */
  seeds?: readonly StateInput[];
  /** Convergence: max_i |f(s, x)_i - s_i| <= tol (default 1e-10). */
  tol?: number;
  /** Newton iterations per start (default 100). */
  maxIter?: number;
  /** Two solutions closer than this (max-norm) are one fixed point (default 1e-6). */
  dedupTol?: number;
}

const EPS_UNIT = 1e-9;

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function residualOf(map: CellMap, s: Float64Array, x: Float64Array): Float64Array {
  const f = map.step(s, x);
  for (let i = 0; i < f.length; i++) f[i]! -= s[i]!;
  return f;
}

function norm2(v: ArrayLike<number>): number {
  let q = 0;
  for (let i = 0; i < v.length; i++) q += v[i]! * v[i]!;
  return Math.sqrt(q);
}

/**
 * Newton's method on F(s) = f(s, x) - s with J_F = A - I and a backtracking line search on ||F||_2 (halving
 * until ||F(s + t d)|| <= (1 - 1e-4 t) ||F(s)||); when A - I is singular to working precision the step is the
 * Levenberg-Marquardt one, (J^T J + mu I) d = -J^T F. Returns null when the search stalls or diverges.
 */
export function newtonFixedPoint(map: CellMap, start: ArrayLike<number>, x: Float64Array, tol = 1e-10,
                                 maxIter = 100): { state: Float64Array; residual: number; iterations: number } | null {
  const S = map.stateSize;
  let s = Float64Array.from(start);
  let F = residualOf(map, s, x);
  let nF = norm2(F);
  const I = identity(S);
  for (let it = 0; it <= maxIter; it++) {
    if (maxAbs(F) <= tol) return { state: s, residual: maxAbs(F), iterations: it };
    if (it === maxIter) break;
    const J = map.jacobian(s, x).A.sub(I);
    const rhs = Matrix.columnVector(Array.from(F, (v) => -v));
    let d: Matrix;
    try {
      d = solve(J, rhs);
    } catch {
      const Jt = J.transpose();
      const JtJ = Jt.mmul(J);
      const mu = 1e-8 * Math.max(1e-300, JtJ.max()) + 1e-14;
      try {
        d = solve(JtJ.add(I.clone().mul(mu)), Jt.mmul(rhs));
      } catch {
        return null;
      }
    }
    let t = 1, accepted = false;
    while (t > 1e-12) {
      const cand = new Float64Array(S);
      for (let i = 0; i < S; i++) cand[i] = s[i]! + t * d.get(i, 0);
      const Fc = residualOf(map, cand, x);
      const nc = norm2(Fc);
      if (Number.isFinite(nc) && nc <= (1 - 1e-4 * t) * nF) {
        s = cand; F = Fc; nF = nc; accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted || maxAbs(s) > 1e8) return maxAbs(F) <= tol ? { state: s, residual: maxAbs(F), iterations: it } : null;
  }
  return null;
}

/** The linearisation of `map` at a fixed point `s` (see {@link FixedPoint}). */
export function describeFixedPoint(map: CellMap, s: Float64Array, x: Float64Array, residual?: number): FixedPoint {
  const { A } = map.jacobian(s, x);
  const ev = eigenvalues(A);
  let rho = 0, slow: number | null = null, nOut = 0, nIn = 0;
  let dmRe = 1, dmIm = 0, dpRe = 1, dpIm = 0;
  for (let k = 0; k < ev.re.length; k++) {
    const re = ev.re[k]!, im = ev.im[k]!;
    const m = Math.hypot(re, im);
    rho = Math.max(rho, m);
    if (m > 1 + EPS_UNIT) nOut++;
    else if (m < 1 - EPS_UNIT) { nIn++; slow = slow === null ? m : Math.max(slow, m); }
    [dmRe, dmIm] = [dmRe * (re - 1) - dmIm * im, dmRe * im + dmIm * (re - 1)];
    [dpRe, dpIm] = [dpRe * (re + 1) - dpIm * im, dpRe * im + dpIm * (re + 1)];
  }
  const nOn = ev.re.length - nOut - nIn;
  const stability: Stability = nOut === 0 ? (nOn > 0 ? 'marginal' : 'stable') : nIn > 0 ? 'saddle' : 'unstable';
  const halfLife = rho === 0 ? 0 : rho < 1 - EPS_UNIT ? Math.log(0.5) / Math.log(rho) : Infinity;
  return {
    state: s, hidden: map.hidden(s), cell: map.cell(s),
    residual: residual ?? maxAbs(residualOf(map, s, x)),
    eigenvalues: ev, spectralRadius: rho, stability, slowestDecay: slow, halfLife, detAMinusI: dmRe, detAPlusI: dpRe,
  };
}

function compareStates(a: Float64Array, b: Float64Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function inputOf(map: CellMap, input: ArrayLike<number> | undefined): Float64Array {
  if (input === undefined) return new Float64Array(map.inputSize);
  // Checked by a step (ShapeError naming x) before any search.
  map.step(new Float64Array(map.stateSize), input);
  return Float64Array.from(input);
}

/**
 * The fixed points s* = f(s*, x) for a constant input x, found by {@link newtonFixedPoint} from the seeds, the
 * origin and `starts - 1` seeded random points, deduplicated (max-norm distance < dedupTol, keeping the smaller
 * residual), polished, and sorted lexicographically by state. Random starts can miss points with small basins:
 * raise `starts` for larger cells.
 */
export function fixedPoints(target: DynamicsTarget, options: FixedPointOptions = {}): FixedPoint[] {
  const map = resolveCellMap(target, options);
  const x = inputOf(map, options.input);
  const starts = checkCount('options.starts', options.starts, 64);
  const range = checkPositive('options.startRange', options.startRange, 1);
  const tol = checkPositive('options.tol', options.tol, 1e-10);
  const maxIter = checkCount('options.maxIter', options.maxIter, 100);
  const dedupTol = checkPositive('options.dedupTol', options.dedupTol, 1e-6);
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw new InvalidArgumentError('options.seed', `expected an integer, got ${seed}`);
  const S = map.stateSize;
  const rng = new Random(seed);
  const startList: Float64Array[] = (options.seeds ?? []).map((s) => map.state(s));
  startList.push(new Float64Array(S));
  for (let k = 1; k < starts; k++) startList.push(Float64Array.from({ length: S }, () => rng.uniform(-range, range)));
  const found: { state: Float64Array; residual: number }[] = [];
  for (const s0 of startList) {
    const r = newtonFixedPoint(map, s0, x, tol, maxIter);
    if (!r) continue;
    const same = found.find((f) => dist(f.state, r.state) < dedupTol);
    if (!same) found.push(r);
    else if (r.residual < same.residual) { same.state = r.state; same.residual = r.residual; }
  }
  found.sort((a, b) => compareStates(a.state, b.state));
  return found.map((f) => describeFixedPoint(map, f.state, x, f.residual));
}

// ---------------------------------------------------------------------------------------------------------------
// continuation in a bias entry
// ---------------------------------------------------------------------------------------------------------------

/** Options of {@link biasSweep}. */
export interface BiasSweepOptions extends FixedPointOptions {
  /** Row of the gate-stacked bias that is swept (0..G*H-1; for RNN the unit). */
  index: number;
  /** The values b_k the entry takes, in order (strictly monotonic). */
  values: ArrayLike<number>;
  /** Which bias holds the swept entry: b_ih (default) or b_hh. The other one keeps the model's values. */
  which?: 'ih' | 'hh';
  /** Fresh random starts at each value after the first (default 16; the previous points are always seeds). */
  freshStarts?: number;
  /** Refine each bifurcation by bisection on the parameter (default true). */
  refine?: boolean;
  /** Stop the bisection when the bracket is narrower than this (default 1e-10 times max(1, |b|)). */
  refineTol?: number;
  /** Largest max-norm jump between a branch's points at consecutive values (default Infinity). */
  linkTol?: number;
}

/** A branch: one fixed point followed across consecutive values of the swept bias. */
export interface Branch {
  /** Branch number (its index in `branches`). */
  id: number;
  /** Index into `values` of the first point. */
  start: number;
  /** Index into `values` of the last point. */
  end: number;
  /** The points, one per value from start to end. */
  points: FixedPoint[];
}

/**
 * A bifurcation between two consecutive values of the sweep:
 * - 'fold' (saddle-node): two branches with opposite signs of det(A - I) end (or appear) together;
 * - 'branch-end': a branch ends or appears alone (a fold whose partner was not found, or a lost branch);
 * - 'branch-point': det(A - I) changes sign along a branch (a real eigenvalue crosses +1 without the branch
 *   ending: transcritical or pitchfork);
 * - 'flip' (period doubling): det(A + I) changes sign along a branch (a real eigenvalue crosses -1);
 * - 'neimark-sacker': the number of eigenvalues outside the unit circle changes by a complex pair.
 */
export interface Bifurcation {
  /** Kind, see above. */
  type: 'fold' | 'branch-end' | 'branch-point' | 'flip' | 'neimark-sacker';
  /** Branches involved. */
  branches: number[];
  /** The two consecutive sweep values bracketing it, [b_k, b_{k+1}] in sweep order. */
  between: [number, number];
  /** Refined location: the midpoint of the final bisection bracket (the midpoint of `between` without refine). */
  estimate: number;
  /**
   * Error bound of `estimate`: the half-width of the final bracket; for a branch end plus 2 tol / |df/db| (Newton
   * accepts |f(s) - s| <= tol, so it still converges that far past a fold); for a fold found from two branches
   * the larger of their bounds plus half their disagreement.
   */
  tolerance: number;
  /** The fixed point at the refined location, on the first branch. */
  point?: FixedPoint;
}

/** Result of {@link biasSweep}. */
export interface BiasSweep {
  /** 'ih' or 'hh'. */
  which: 'ih' | 'hh';
  /** The swept row. */
  index: number;
  /** The values. */
  values: Float64Array;
  /** The fixed points at each value (sorted as {@link fixedPoints} sorts them). */
  points: FixedPoint[][];
  /** Branches through consecutive values. */
  branches: Branch[];
  /** Bifurcations in sweep order. */
  bifurcations: Bifurcation[];
}

function unstableCount(p: FixedPoint): number {
  let n = 0;
  for (let k = 0; k < p.eigenvalues.re.length; k++) if (Math.hypot(p.eigenvalues.re[k]!, p.eigenvalues.im[k]!) > 1) n++;
  return n;
}

/**
 * Continuation of fixed points in one bias entry: at each value b_k the fixed points of the map with that bias
 * (seeded with the points at b_{k-1} plus `freshStarts` random starts), linked into branches by greedy matching
 * of the closest pairs whose det(A - I) has the same sign (within `linkTol`), and the bifurcations between
 * consecutive values (see {@link Bifurcation}), each refined by bisection on b: for a branch end, the largest
 * parameter where Newton from the branch's last point still converges to a point with the branch's sign of
 * det(A - I) that is nearer to the branch than to every other branch; along a branch, a sign change of the
 * indicator (det(A - I), det(A + I), or the count of |lambda| > 1) of the point continued by Newton.
 * For h = tanh(w h + b) with w > 1 the folds are at b = +-(atanh(h_f) - w h_f), h_f = sqrt(1 - 1/w).
 */
export function biasSweep(target: DynamicsTarget, options: BiasSweepOptions): BiasSweep {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected { index, values }');
  const base = resolveCellMap(target, options);
  const which = options.which ?? 'ih';
  const values = Float64Array.from(options.values ?? []);
  if (values.length < 2) throw new InvalidArgumentError('options.values', `expected at least 2 values, got ${values.length}`);
  const dir = Math.sign(values[1]! - values[0]!);
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k]!)) throw new InvalidArgumentError('options.values', `entry ${k} is ${values[k]}`);
    if (k > 0 && (dir === 0 || Math.sign(values[k]! - values[k - 1]!) !== dir)) {
      throw new InvalidArgumentError('options.values', `expected strictly monotonic values; entry ${k} breaks it`);
    }
  }
  const mapAt = (v: number): CellMap => base.withBias(which, options.index, v);
  mapAt(values[0]!); // checks which / index
  const x = inputOf(base, options.input);
  const tol = checkPositive('options.tol', options.tol, 1e-10);
  const maxIter = checkCount('options.maxIter', options.maxIter, 100);
  const fresh = checkCount('options.freshStarts', options.freshStarts, 16, 0);
  const linkTol = options.linkTol ?? Infinity;
  const refine = options.refine ?? true;
  const fpOpts: FixedPointOptions = { ...options, layer: undefined, direction: undefined };

  const points: FixedPoint[][] = [];
  const branches: Branch[] = [];
  let live: Branch[] = [];
  const bifurcations: Bifurcation[] = [];
  for (let k = 0; k < values.length; k++) {
    const map = mapAt(values[k]!);
    const pts = k === 0
      ? fixedPoints(map, fpOpts)
      : fixedPoints(map, { ...fpOpts, starts: Math.max(1, fresh), seed: (options.seed ?? 0) + k,
        seeds: live.map((b) => b.points[b.points.length - 1]!.state) });
    points.push(pts);
    const next: Branch[] = [];
    const claimed = new Set<number>();
    if (k > 0) {
      const pairs: [number, number, number][] = [];
      live.forEach((b, bi) => {
        const tip = b.points[b.points.length - 1]!;
        pts.forEach((p, pi) => {
          const d = dist(tip.state, p.state);
          if (d <= linkTol && Math.sign(tip.detAMinusI) === Math.sign(p.detAMinusI)) pairs.push([d, bi, pi]);
        });
      });
      pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
      const done = new Set<number>();
      for (const [, bi, pi] of pairs) {
        if (done.has(bi) || claimed.has(pi)) continue;
        done.add(bi); claimed.add(pi);
        const b = live[bi]!;
        b.points.push(pts[pi]!); b.end = k;
        next.push(b);
      }
      // Bifurcations along continued branches.
      for (const b of next) {
        const p0 = b.points[b.points.length - 2]!, p1 = b.points[b.points.length - 1]!;
        const tests: [Bifurcation['type'], (p: FixedPoint) => number][] = [
          ['branch-point', (p) => Math.sign(p.detAMinusI)],
          ['flip', (p) => Math.sign(p.detAPlusI)],
        ];
        let flagged = false;
        for (const [type, ind] of tests) {
          if (ind(p0) !== ind(p1)) {
            bifurcations.push(refineAlong(type, b, ind, k));
            flagged = true;
          }
        }
        if (!flagged && unstableCount(p0) !== unstableCount(p1)) {
          bifurcations.push(refineAlong('neimark-sacker', b, unstableCount, k));
        }
      }
      // Branches that end between k-1 and k.
      const ended = live.filter((b) => !next.includes(b));
      pushEnds(ended, k - 1, k, true);
    }
    const born: Branch[] = [];
    pts.forEach((p, pi) => {
      if (claimed.has(pi)) return;
      const b: Branch = { id: branches.length, start: k, end: k, points: [p] };
      branches.push(b); next.push(b);
      if (k > 0) born.push(b);
    });
    if (born.length) pushEnds(born, k, k - 1, false);
    live = next;
  }
  bifurcations.sort((a, b) => dir * (a.estimate - b.estimate));
  return { which, index: options.index, values, points, branches, bifurcations };

  /** Follows branch b's point at value index `from` towards `to` by bisection; returns [last ok, first fail]. */
  function bisectEnd(b: Branch, from: number, to: number): { lo: number; hi: number; slack: number; point?: FixedPoint } {
    const tip = from === b.end ? b.points[b.points.length - 1]! : b.points[0]!;
    let lo = values[from]!, hi = values[to]!;
    let s = tip.state;
    let best: FixedPoint = tip;
    const sign = Math.sign(tip.detAMinusI);
    // Branches through both values (not the one ending or appearing with b) at b's value.
    const others = branches.filter((o) => o !== b && o.start <= Math.min(from, to) && o.end >= Math.max(from, to))
      .map((o) => o.points[from - o.start]!.state);
    const tolB = options.refineTol ?? 1e-10 * Math.max(1, Math.abs(lo));
    if (!refine) return { lo, hi, slack: 0 };
    for (let it = 0; it < 200 && Math.abs(hi - lo) > tolB; it++) {
      const mid = 0.5 * (lo + hi);
      const map = mapAt(mid);
      const r = newtonFixedPoint(map, s, x, tol, maxIter);
      let ok = false;
      if (r) {
        const p = describeFixedPoint(map, r.state, x, r.residual);
        const dOwn = dist(r.state, s);
        ok = Math.sign(p.detAMinusI) === sign && others.every((o) => dist(r.state, o) > dOwn);
        if (ok) { s = r.state; best = p; }
      }
      if (ok) lo = mid; else hi = mid;
    }
    // Newton accepts |F| <= tol, so it still "converges" up to about tol / |df/db| past a fold.
    const bv = 0.5 * (lo + hi), db = 1e-6 * Math.max(1, Math.abs(bv));
    const fp = mapAt(bv + db).step(best.state, x), fm = mapAt(bv - db).step(best.state, x);
    let dfdb = 0;
    for (let i = 0; i < fp.length; i++) dfdb = Math.max(dfdb, Math.abs(fp[i]! - fm[i]!) / (2 * db));
    return { lo, hi, point: best, slack: Math.min(Math.abs(values[to]! - values[from]!), 2 * tol / Math.max(dfdb, 1e-300)) };
  }

  function pushEnds(list: Branch[], from: number, to: number, ending: boolean): void {
    const refined = list.map((b) => ({ b, ...bisectEnd(b, from, to) }));
    const used = new Set<number>();
    const between: [number, number] = ending ? [values[from]!, values[to]!] : [values[to]!, values[from]!];
    for (let i = 0; i < refined.length; i++) {
      if (used.has(i)) continue;
      const a = refined[i]!;
      const estA = 0.5 * (a.lo + a.hi), tolA = 0.5 * Math.abs(a.hi - a.lo) + a.slack;
      let partner = -1, bestD = Infinity;
      for (let j = i + 1; j < refined.length; j++) {
        if (used.has(j)) continue;
        const c = refined[j]!;
        const sa = Math.sign(a.b.points[ending ? a.b.points.length - 1 : 0]!.detAMinusI);
        const sc = Math.sign(c.b.points[ending ? c.b.points.length - 1 : 0]!.detAMinusI);
        const d = Math.abs(0.5 * (c.lo + c.hi) - estA);
        if (sa !== sc && d < bestD) { bestD = d; partner = j; }
      }
      used.add(i);
      if (partner >= 0) {
        used.add(partner);
        const c = refined[partner]!;
        const estC = 0.5 * (c.lo + c.hi), tolC = 0.5 * Math.abs(c.hi - c.lo) + c.slack;
        bifurcations.push({
          type: 'fold', branches: [a.b.id, c.b.id], between, estimate: 0.5 * (estA + estC),
          tolerance: Math.max(tolA, tolC) + 0.5 * Math.abs(estA - estC), ...(a.point ? { point: a.point } : {}),
        });
      } else {
        bifurcations.push({ type: 'branch-end', branches: [a.b.id], between, estimate: estA, tolerance: tolA,
          ...(a.point ? { point: a.point } : {}) });
      }
    }
  }

  function refineAlong(type: Bifurcation['type'], b: Branch, ind: (p: FixedPoint) => number, k: number): Bifurcation {
    const p0 = b.points[b.points.length - 2]!;
    let lo = values[k - 1]!, hi = values[k]!;
    const v0 = ind(p0);
    let s = p0.state;
    let best: FixedPoint | undefined;
    const tolB = options.refineTol ?? 1e-10 * Math.max(1, Math.abs(lo));
    for (let it = 0; refine && it < 200 && Math.abs(hi - lo) > tolB; it++) {
      const mid = 0.5 * (lo + hi);
      const map = mapAt(mid);
      const r = newtonFixedPoint(map, s, x, tol, maxIter);
      if (!r) break;
      const p = describeFixedPoint(map, r.state, x, r.residual);
      if (ind(p) === v0) { lo = mid; s = r.state; } else { hi = mid; best = p; }
    }
    return { type, branches: [b.id], between: [values[k - 1]!, values[k]!], estimate: 0.5 * (lo + hi),
      tolerance: 0.5 * Math.abs(hi - lo), ...(best ? { point: best } : {}) };
  }
}
