/**
 * Hidden Markov models, the classical discrete-state sequence model an RNN generalises, in float64 TypeScript:
 *
 *   s_1 ~ pi,   s_{t+1} | s_t ~ T[s_t, :],   o_t | s_t ~ E_{s_t}          t = 1..T
 *
 * with K hidden states, an initial distribution pi (K), a row-stochastic transition matrix T (K x K,
 * T[i, j] = P(s_{t+1} = j | s_t = i)) and emissions E_k that are either discrete (a K x M matrix, E[k, m] =
 * P(o_t = m | s_t = k)) or Gaussian (o_t | s_t = k ~ N(mu_k, Sigma_k) in R^d, with full K x d x d or diagonal
 * K x d covariances). b_k(o) denotes the emission probability (discrete) or density (Gaussian) of o in state k.
 *
 * Algorithms: the scaled forward algorithm ({@link forward}), forward-backward ({@link forwardBackward}),
 * Viterbi decoding in log space ({@link viterbi}) and Baum-Welch / EM ({@link baumWelch}) over one or several
 * sequences. States and symbols are 0-based.
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { Random } from '../nn/random.js';

/** Tolerance on the sum of a probability distribution (pi, a row of T, a row of a discrete E). */
export const HMM_DISTRIBUTION_TOLERANCE = 1e-9;

/**
 * What {@link HMM} is built from: `pi`, `transitions` and exactly one emission model, either `emissions`
 * (discrete) or `means` with `covariances` (full) or `variances` (diagonal).
 */
export interface HMMSpec {
  /** Initial distribution pi (K): pi[k] = P(s_1 = k). Non-negative, sums to 1 within 1e-9. */
  pi: ArrayLike<number>;
  /** Transition matrix T (K x K): T[i][j] = P(s_{t+1} = j | s_t = i); every row a distribution. */
  transitions: ArrayLike<ArrayLike<number>>;
  /** Discrete emissions E (K x M): E[k][m] = P(o_t = m | s_t = k); every row a distribution. */
  emissions?: ArrayLike<ArrayLike<number>>;
  /** Gaussian means mu (K x d). */
  means?: ArrayLike<ArrayLike<number>>;
  /** Full Gaussian covariances Sigma (K x d x d), symmetric positive definite. */
  covariances?: ArrayLike<ArrayLike<ArrayLike<number>>>;
  /** Diagonal Gaussian covariances (K x d): Sigma_k = diag(variances[k]), entries > 0. */
  variances?: ArrayLike<ArrayLike<number>>;
}

/** Discrete emissions: b_k(m) = probs[k][m]. */
export interface DiscreteEmission {
  readonly kind: 'discrete';
  /** Number of symbols M. */
  readonly M: number;
  /** K rows of M probabilities. */
  readonly probs: readonly Float64Array[];
}

/**
 * Gaussian emissions: b_k(o) = (2 pi)^{-d/2} det(Sigma_k)^{-1/2} exp(-(o - mu_k)^T Sigma_k^{-1} (o - mu_k) / 2).
 */
export interface GaussianEmission {
  readonly kind: 'gaussian';
  /** Observation dimension d. */
  readonly d: number;
  /** K means of d numbers. */
  readonly means: readonly Float64Array[];
  /** K covariances, each d rows of d (diagonal matrices when `diagonal`). */
  readonly covariances: readonly (readonly Float64Array[])[];
  /** True when built from `variances` (diagonal covariances); Baum-Welch then keeps them diagonal. */
  readonly diagonal: boolean;
  /** Lower Cholesky factors L_k (L_k L_k^T = Sigma_k), d rows of d. */
  readonly cholesky: readonly (readonly Float64Array[])[];
  /** log det Sigma_k = 2 sum_i log L_k[i][i]. */
  readonly logDet: Float64Array;
}

/** Discrete observations: T integer symbols in [0, M). */
export type DiscreteObservations = ArrayLike<number>;
/** Gaussian observations: T rows of d numbers (or, when d = 1, T numbers). */
export type GaussianObservations = ArrayLike<ArrayLike<number>> | ArrayLike<number>;
/** One observation sequence. */
export type HMMObservations = DiscreteObservations | GaussianObservations;

/** What {@link HMM.sample} returns. */
export interface HMMSample {
  /** s_1..s_T. */
  states: Int32Array;
  /** o_1..o_T: symbols (discrete) or T rows of d numbers (Gaussian). */
  observations: Int32Array | Float64Array[];
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return v != null && typeof v === 'object' && typeof (v as { length?: unknown }).length === 'number';
}

function vector(name: string, v: unknown, n: number | undefined): Float64Array {
  if (!isArrayLike(v) || (n !== undefined && v.length !== n)) {
    const got = isArrayLike(v) ? `${v.length} entries` : typeof v;
    throw new ShapeError(name, `expected ${n ?? 'an array of'} numbers, got ${got}`, n === undefined ? [-1] : [n],
      isArrayLike(v) ? [v.length] : undefined);
  }
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new InvalidArgumentError(name, `entry ${i} must be a finite number, got ${String(x)}`);
    }
    out[i] = x;
  }
  return out;
}

function matrix(name: string, m: unknown, rows: number | undefined, cols: number | undefined): Float64Array[] {
  if (!isArrayLike(m) || (rows !== undefined && m.length !== rows) || m.length === 0) {
    const got = isArrayLike(m) ? `${m.length} rows` : typeof m;
    throw new ShapeError(name, `expected ${rows ?? 'K >= 1'} rows of ${cols ?? 'equal length'}, got ${got}`,
      [rows ?? -1, cols ?? -1], isArrayLike(m) ? [m.length] : undefined);
  }
  const c = cols ?? (isArrayLike(m[0]) ? m[0].length : -1);
  const out: Float64Array[] = [];
  for (let i = 0; i < m.length; i++) {
    const r = m[i];
    if (!isArrayLike(r) || r.length !== c || c < 1) {
      throw new ShapeError(name, `expected ${m.length} rows of ${c} numbers; row ${i} has ` +
        `${isArrayLike(r) ? r.length : 'none'}`, [m.length, c], [m.length, isArrayLike(r) ? r.length : -1]);
    }
    out.push(vector(`${name}`, r, c));
  }
  return out;
}

function checkDistribution(name: string, p: Float64Array, what: string): void {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! < 0) throw new InvalidArgumentError(name, `${what}: entry ${i} is negative (${p[i]})`);
    s += p[i]!;
  }
  if (Math.abs(s - 1) > HMM_DISTRIBUTION_TOLERANCE) {
    throw new InvalidArgumentError(name, `${what} must sum to 1 within ${HMM_DISTRIBUTION_TOLERANCE}, sums to ${s}`);
  }
}

/** Lower Cholesky factor of a symmetric positive definite matrix, or null when a pivot is not positive. */
function choleskyLower(S: readonly Float64Array[]): Float64Array[] | null {
  const d = S.length;
  const L = Array.from({ length: d }, () => new Float64Array(d));
  for (let j = 0; j < d; j++) {
    let v = S[j]![j]!;
    for (let k = 0; k < j; k++) v -= L[j]![k]! ** 2;
    if (!(v > 0)) return null;
    const ljj = Math.sqrt(v);
    L[j]![j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let w = S[i]![j]!;
      for (let k = 0; k < j; k++) w -= L[i]![k]! * L[j]![k]!;
      L[i]![j] = w / ljj;
    }
  }
  return L;
}

function gaussianEmission(name: string, means: Float64Array[], covs: Float64Array[][], diagonal: boolean): GaussianEmission {
  const d = means[0]!.length;
  const cholesky: Float64Array[][] = [];
  const logDet = new Float64Array(means.length);
  covs.forEach((S, k) => {
    let scale = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) scale = Math.max(scale, Math.abs(S[i]![j]!));
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) {
        if (Math.abs(S[i]![j]! - S[j]![i]!) > 1e-12 * scale) {
          throw new InvalidArgumentError(name, `state ${k}: expected a symmetric covariance; entries [${i}, ${j}] and ` +
            `[${j}, ${i}] differ`);
        }
      }
    }
    const L = choleskyLower(S);
    if (!L) throw new InvalidArgumentError(name, `state ${k}: expected a positive definite covariance (Cholesky failed)`);
    cholesky.push(L);
    let ld = 0;
    for (let i = 0; i < d; i++) ld += Math.log(L[i]![i]!);
    logDet[k] = 2 * ld;
  });
  return { kind: 'gaussian', d, means, covariances: covs, diagonal, cholesky, logDet };
}

/** Inverse-CDF draw from a distribution p with a uniform u in [0, 1): the first k with u < p_0 + ... + p_k. */
export function drawCategorical(p: ArrayLike<number>, u: number): number {
  let acc = 0;
  let last = 0;
  for (let k = 0; k < p.length; k++) {
    if (p[k]! > 0) last = k;
    acc += p[k]!;
    if (u < acc) return k;
  }
  return last; // u above a sum that rounded below 1: the last possible outcome
}

/**
 * A validated hidden Markov model (see the module comment for the equations). Immutable: the arrays are owned
 * copies of the spec's.
 */
export class HMM {
  /** Number of hidden states K. */
  readonly K: number;
  /** Initial distribution pi (K). */
  readonly pi: Float64Array;
  /** Transition matrix T: K rows of K, T[i][j] = P(s_{t+1} = j | s_t = i). */
  readonly transitions: readonly Float64Array[];
  /** The emission model. */
  readonly emission: DiscreteEmission | GaussianEmission;

  /**
   * @throws {ShapeError} naming `pi`, `transitions`, `emissions`, `means`, `covariances` or `variances` when a
   *   shape does not fit K (from pi), M or d
   * @throws {InvalidArgumentError} for non-finite entries, a distribution with a negative entry or a sum off 1 by
   *   more than 1e-9, a covariance that is not symmetric positive definite, or not exactly one emission model
   */
  constructor(spec: HMMSpec) {
    if (spec === null || typeof spec !== 'object') {
      throw new InvalidArgumentError('spec', 'expected { pi, transitions, emissions } or { pi, transitions, means, covariances | variances }');
    }
    if (!isArrayLike(spec.pi) || spec.pi.length < 1) {
      throw new ShapeError('pi', 'expected K >= 1 probabilities', [-1], isArrayLike(spec.pi) ? [spec.pi.length] : undefined);
    }
    const pi = vector('pi', spec.pi, undefined);
    const K = pi.length;
    checkDistribution('pi', pi, 'the initial distribution');
    const T = matrix('transitions', spec.transitions, K, K);
    T.forEach((r, i) => checkDistribution('transitions', r, `row ${i}`));
    const discrete = spec.emissions !== undefined;
    const gaussian = spec.means !== undefined;
    if (discrete === gaussian) {
      throw new InvalidArgumentError('spec', 'expected exactly one emission model: `emissions` (discrete, K x M) or ' +
        '`means` (K x d) with `covariances` (K x d x d) or `variances` (K x d)');
    }
    if (discrete) {
      if (spec.covariances !== undefined || spec.variances !== undefined) {
        throw new InvalidArgumentError('spec', 'covariances/variances given with discrete emissions');
      }
      const E = matrix('emissions', spec.emissions, K, undefined);
      E.forEach((r, k) => checkDistribution('emissions', r, `row ${k}`));
      this.emission = { kind: 'discrete', M: E[0]!.length, probs: E };
    } else {
      const mu = matrix('means', spec.means, K, undefined);
      const d = mu[0]!.length;
      if ((spec.covariances === undefined) === (spec.variances === undefined)) {
        throw new InvalidArgumentError('spec', 'Gaussian emissions need exactly one of `covariances` (K x d x d) or `variances` (K x d)');
      }
      let covs: Float64Array[][];
      if (spec.covariances !== undefined) {
        const c = spec.covariances;
        if (!isArrayLike(c) || c.length !== K) {
          throw new ShapeError('covariances', `expected ${K} matrices of ${d} x ${d}`, [K, d, d], isArrayLike(c) ? [c.length] : undefined);
        }
        covs = Array.from({ length: K }, (_, k) => matrix('covariances', c[k], d, d));
      } else {
        const v = matrix('variances', spec.variances, K, d);
        v.forEach((r, k) => r.forEach((x, i) => {
          if (!(x > 0)) throw new InvalidArgumentError('variances', `state ${k}, entry ${i}: expected a variance > 0, got ${x}`);
        }));
        covs = v.map((r) => Array.from({ length: d }, (_, i) => { const row = new Float64Array(d); row[i] = r[i]!; return row; }));
      }
      this.emission = gaussianEmission(spec.covariances !== undefined ? 'covariances' : 'variances', mu, covs, spec.covariances === undefined);
    }
    this.K = K;
    this.pi = pi;
    this.transitions = T;
  }

  /** `'discrete'` or `'gaussian'`. */
  get kind(): 'discrete' | 'gaussian' {
    return this.emission.kind;
  }

  /** The spec this model was built from (plain arrays; JSON-serialisable). */
  toSpec(): HMMSpec & { pi: number[]; transitions: number[][] } {
    const rows = (m: readonly Float64Array[]): number[][] => m.map((r) => Array.from(r));
    const base = { pi: Array.from(this.pi), transitions: rows(this.transitions) };
    const e = this.emission;
    if (e.kind === 'discrete') return { ...base, emissions: rows(e.probs) };
    if (e.diagonal) return { ...base, means: rows(e.means), variances: e.covariances.map((S) => S.map((r, i) => r[i]!)) };
    return { ...base, means: rows(e.means), covariances: e.covariances.map(rows) };
  }

  /**
   * Validates one observation sequence against the emission model: T >= 1 integer symbols in [0, M)
   * (discrete) or T rows of d finite numbers (Gaussian; T numbers when d = 1).
   * @returns symbols as Int32Array or rows as Float64Array[]
   * @throws {InvalidArgumentError} naming `name` for a symbol out of range or an empty sequence
   * @throws {ShapeError} naming `name` for a Gaussian row of the wrong length
   */
  checkObservations(obs: HMMObservations, name = 'obs'): Int32Array | Float64Array[] {
    if (!isArrayLike(obs) || obs.length < 1) {
      throw new InvalidArgumentError(name, 'expected a sequence of at least one observation');
    }
    const e = this.emission;
    if (e.kind === 'discrete') {
      const out = new Int32Array(obs.length);
      for (let t = 0; t < obs.length; t++) {
        const v = obs[t];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= e.M) {
          throw new InvalidArgumentError(name, `step ${t}: expected an integer symbol in [0, ${e.M}), got ${String(v)}`);
        }
        out[t] = v;
      }
      return out;
    }
    const rows: Float64Array[] = [];
    for (let t = 0; t < obs.length; t++) {
      const r = obs[t];
      if (typeof r === 'number' && e.d === 1) {
        rows.push(vector(name, [r], 1));
      } else if (!isArrayLike(r) || r.length !== e.d) {
        throw new ShapeError(name, `expected T rows of ${e.d} numbers; step ${t} has ${isArrayLike(r) ? r.length : typeof r}`,
          [obs.length, e.d], [obs.length, isArrayLike(r) ? r.length : -1]);
      } else {
        rows.push(vector(name, r, e.d));
      }
    }
    return rows;
  }

  /** log b_k(o) for one (validated) observation: log E[k][o] or the Gaussian log density; -Infinity for 0. */
  logEmissionAt(k: number, o: number | Float64Array): number {
    const e = this.emission;
    if (e.kind === 'discrete') return Math.log(e.probs[k]![o as number]!);
    const x = o as Float64Array;
    const L = e.cholesky[k]!, mu = e.means[k]!, d = e.d;
    // z = L^{-1} (x - mu); quad = |z|^2
    const z = new Float64Array(d);
    let quad = 0;
    for (let i = 0; i < d; i++) {
      let v = x[i]! - mu[i]!;
      for (let j = 0; j < i; j++) v -= L[i]![j]! * z[j]!;
      z[i] = v / L[i]![i]!;
      quad += z[i]! * z[i]!;
    }
    return -0.5 * (d * Math.log(2 * Math.PI) + e.logDet[k]! + quad);
  }

  /**
   * log b_k(o_t) for every step and state: T rows of K.
   * @throws as {@link checkObservations}
   */
  logEmission(obs: HMMObservations): Float64Array[] {
    const o = this.checkObservations(obs);
    return Array.from({ length: o.length }, (_, t) => {
      const r = new Float64Array(this.K);
      for (let k = 0; k < this.K; k++) r[k] = this.logEmissionAt(k, o[t]!);
      return r;
    });
  }

  /**
   * The joint log-probability of a state path and the observations:
   * log P(s, o) = log pi[s_1] + log b_{s_1}(o_1) + sum_{t=2..T} (log T[s_{t-1}][s_t] + log b_{s_t}(o_t)).
   * @throws {ShapeError} naming `states` when its length is not that of `obs`
   * @throws {InvalidArgumentError} naming `states` for a state out of [0, K)
   */
  logJoint(states: ArrayLike<number>, obs: HMMObservations): number {
    const o = this.checkObservations(obs);
    const s = this.checkStates(states, o.length);
    let lp = 0;
    for (let t = 0; t < o.length; t++) {
      lp += t === 0 ? Math.log(this.pi[s[0]!]!) : Math.log(this.transitions[s[t - 1]!]![s[t]!]!);
      lp += this.logEmissionAt(s[t]!, o[t]!);
    }
    return lp;
  }

  /** Validates a state path of length T. */
  checkStates(states: ArrayLike<number>, T: number, name = 'states'): Int32Array {
    if (!isArrayLike(states) || states.length !== T) {
      throw new ShapeError(name, `expected ${T} states (one per observation)`, [T], isArrayLike(states) ? [states.length] : undefined);
    }
    const s = new Int32Array(T);
    for (let t = 0; t < T; t++) {
      const v = states[t];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= this.K) {
        throw new InvalidArgumentError(name, `step ${t}: expected an integer state in [0, ${this.K}), got ${String(v)}`);
      }
      s[t] = v;
    }
    return s;
  }

  /**
   * Draws s_1..s_T and o_1..o_T with `new Random(seed)`. Per step t, in this order: one uniform u for the state
   * (inverse CDF, {@link drawCategorical}, of pi at t = 1 and of T[s_{t-1}, :] after), then the emission: one uniform
   * for a discrete symbol (inverse CDF of E[s_t, :]) or d standard normals z (Random.normal) for
   * o_t = mu_{s_t} + L_{s_t} z with L the lower Cholesky factor of Sigma_{s_t}.
   * @throws {InvalidArgumentError} naming `T` when it is not an integer >= 0
   */
  sample(T: number, seed = 0): HMMSample {
    if (!Number.isInteger(T) || T < 0) throw new InvalidArgumentError('T', `expected an integer >= 0, got ${T}`);
    const rng = new Random(seed);
    const states = new Int32Array(T);
    const e = this.emission;
    const symbols = new Int32Array(e.kind === 'discrete' ? T : 0);
    const rows: Float64Array[] = [];
    let s = 0;
    for (let t = 0; t < T; t++) {
      s = drawCategorical(t === 0 ? this.pi : this.transitions[s]!, rng.next());
      states[t] = s;
      if (e.kind === 'discrete') symbols[t] = drawCategorical(e.probs[s]!, rng.next());
      else rows.push(drawGaussian(e.means[s]!, e.cholesky[s]!, rng));
    }
    return { states, observations: e.kind === 'discrete' ? symbols : rows };
  }
}

/** mu + L z with z = d draws of rng.normal() (shared with the sampling RNN so both use the same numbers). */
export function drawGaussian(mu: ArrayLike<number>, L: readonly ArrayLike<number>[], rng: Random): Float64Array {
  const d = mu.length;
  const z = Float64Array.from({ length: d }, () => rng.normal());
  const o = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let v = mu[i]!;
    for (let j = 0; j <= i; j++) v += L[i]![j]! * z[j]!;
    o[i] = v;
  }
  return o;
}

function asHMM(hmm: HMM): HMM {
  if (!(hmm instanceof HMM)) throw new InvalidArgumentError('hmm', 'expected an HMM (new HMM({ pi, transitions, ... }))');
  return hmm;
}

/**
 * Emission likelihoods scaled per step, flat T x K: b[t K + k] = b_k(o_t) exp(-shift[t]) with shift[t] = 0 for
 * discrete emissions and max_k log b_k(o_t) for Gaussian ones (so densities never underflow).
 */
function scaledEmissions(hmm: HMM, o: Int32Array | Float64Array[]): Emissions {
  const T = o.length, K = hmm.K, e = hmm.emission;
  const shift = new Float64Array(T);
  const b = new Float64Array(T * K);
  if (e.kind === 'discrete') {
    const flatE = new Float64Array(K * e.M);
    for (let k = 0; k < K; k++) for (let m = 0; m < e.M; m++) flatE[m * K + k] = e.probs[k]![m]!;
    for (let t = 0; t < T; t++) {
      const off = (o[t] as number) * K;
      for (let k = 0; k < K; k++) b[t * K + k] = flatE[off + k]!;
    }
  } else {
    for (let t = 0; t < T; t++) {
      let m = -Infinity;
      for (let k = 0; k < K; k++) { const v = hmm.logEmissionAt(k, o[t] as Float64Array); b[t * K + k] = v; m = Math.max(m, v); }
      shift[t] = m;
      for (let k = 0; k < K; k++) b[t * K + k] = Math.exp(b[t * K + k]! - m);
    }
  }
  return { b, shift, T };
}

interface Emissions { b: Float64Array; shift: Float64Array; T: number }

interface Core {
  /** alpha_hat, flat T x K (NaN rows from an impossible step on). */
  alpha: Float64Array;
  /** log c_t including the shift. */
  logScales: Float64Array;
  logLikelihood: number;
  /** Backward pass (when asked): beta_hat and gamma flat T x K, xiSum flat K x K, xi flat (T-1) x K x K. */
  beta?: Float64Array;
  gamma?: Float64Array;
  xiSum?: Float64Array;
  xi?: Float64Array;
}

function flatTransitions(hmm: HMM): Float64Array {
  const K = hmm.K, P = new Float64Array(K * K);
  for (let i = 0; i < K; i++) P.set(hmm.transitions[i]!, i * K);
  return P;
}

function core(hmm: HMM, em: Emissions, backward: boolean, keepXi: boolean): Core {
  const { b, shift, T } = em, K = hmm.K, P = flatTransitions(hmm), pi = hmm.pi;
  const alpha = new Float64Array(T * K);
  const c = new Float64Array(T);
  const logScales = new Float64Array(T);
  let dead = -1;
  for (let t = 0; t < T; t++) {
    const o = t * K;
    for (let j = 0; j < K; j++) {
      let pred = 0;
      if (t === 0) pred = pi[j]!;
      else for (let i = 0; i < K; i++) pred += alpha[o - K + i]! * P[i * K + j]!;
      alpha[o + j] = pred * b[o + j]!;
    }
    let s = 0;
    for (let j = 0; j < K; j++) s += alpha[o + j]!;
    if (!(s > 0)) { dead = t; break; }
    for (let j = 0; j < K; j++) alpha[o + j]! /= s;
    c[t] = s;
    logScales[t] = Math.log(s) + shift[t]!;
  }
  if (dead >= 0) {
    alpha.fill(NaN, dead * K);
    logScales[dead] = -Infinity;
    logScales.fill(NaN, dead + 1);
    if (backward) throw new InvalidArgumentError('obs', `step ${dead}: the observations have probability 0 under the model`);
    return { alpha, logScales, logLikelihood: -Infinity };
  }
  let ll = 0;
  for (let t = 0; t < T; t++) ll += logScales[t]!;
  if (!backward) return { alpha, logScales, logLikelihood: ll };
  const beta = new Float64Array(T * K);
  beta.fill(1, (T - 1) * K);
  const w = new Float64Array(K);
  const gamma = new Float64Array(T * K);
  const xiSum = new Float64Array(K * K);
  const xi = keepXi ? new Float64Array(Math.max(0, T - 1) * K * K) : undefined;
  for (let k = 0; k < K; k++) gamma[(T - 1) * K + k] = alpha[(T - 1) * K + k]!;
  for (let t = T - 2; t >= 0; t--) {
    const o = t * K, n = o + K, cn = c[t + 1]!;
    for (let j = 0; j < K; j++) w[j] = b[n + j]! * beta[n + j]!;
    for (let i = 0; i < K; i++) {
      let v = 0;
      const ai = alpha[o + i]!;
      for (let j = 0; j < K; j++) {
        const pw = P[i * K + j]! * w[j]!;
        v += pw;
        const x = (ai * pw) / cn;
        xiSum[i * K + j]! += x;
        if (xi) xi[t * K * K + i * K + j] = x;
      }
      beta[o + i] = v / cn;
      gamma[o + i] = ai * (v / cn);
    }
  }
  return { alpha, logScales, logLikelihood: ll, beta, gamma, xiSum, xi };
}

const rowsOf = (a: Float64Array, r: number, c: number): Float64Array[] => Array.from({ length: r }, (_, i) => a.slice(i * c, (i + 1) * c));

/** What {@link forward} returns. */
export interface HMMForwardResult {
  /** Filtering probabilities alpha_hat[t][k] = P(s_t = k | o_1..o_t): T rows of K, each summing to 1. */
  filtering: Float64Array[];
  /** log c_t = log p(o_t | o_1..o_{t-1}) (T); -Infinity at a step of probability 0 (NaN after it). */
  logScales: Float64Array;
  /** c_t = exp(log c_t) (may underflow for Gaussian densities; use logScales). */
  scales: Float64Array;
  /** log p(o_1..o_T) = sum_t log c_t; -Infinity when the sequence is impossible. */
  logLikelihood: number;
}

/**
 * The scaled forward algorithm:
 *
 *   a_1 = pi ∘ b(o_1),   a_t = (T^T alpha_hat_{t-1}) ∘ b(o_t),   c_t = sum_k a_t[k],   alpha_hat_t = a_t / c_t
 *
 * where b(o)[k] = b_k(o), so alpha_hat_t = P(s_t | o_1..t), c_t = p(o_t | o_1..t-1) and
 * log p(o_1..T) = sum_t log c_t. O(T K^2). When some c_t is 0 (an observation the model cannot produce), the
 * log-likelihood is -Infinity and the filtering rows from that step on are NaN.
 * @param hmm the model
 * @param obs one observation sequence (see {@link HMMObservations})
 * @throws {InvalidArgumentError} / {ShapeError} naming `obs` (see {@link HMM.checkObservations}) or `hmm`
 */
export function forward(hmm: HMM, obs: HMMObservations): HMMForwardResult {
  asHMM(hmm);
  const o = hmm.checkObservations(obs);
  const r = core(hmm, scaledEmissions(hmm, o), false, false);
  return { filtering: rowsOf(r.alpha, o.length, hmm.K), logScales: r.logScales, scales: r.logScales.map(Math.exp), logLikelihood: r.logLikelihood };
}

/** What {@link forwardBackward} returns. */
export interface HMMForwardBackwardResult extends HMMForwardResult {
  /** Posteriors gamma[t][k] = P(s_t = k | o_1..o_T): T rows of K. */
  posteriors: Float64Array[];
  /**
   * Pairwise posteriors xi[t][i][j] = P(s_t = i, s_{t+1} = j | o_1..o_T) for t = 0..T-2 (T-1 blocks of K x K);
   * empty with `{ xi: 'sum' }`.
   */
  xi: Float64Array[][];
  /** sum_t xi[t] (K x K): expected transition counts. */
  xiSum: Float64Array[];
  /** Scaled backward variables beta_hat[t][k] = p(o_{t+1..T} | s_t = k) / prod_{u > t} c_u (T rows of K). */
  backward: Float64Array[];
}

/**
 * Forward-backward with the forward algorithm's scaling:
 *
 *   beta_hat_T = 1,   beta_hat_t = T (b(o_{t+1}) ∘ beta_hat_{t+1}) / c_{t+1},
 *   gamma_t = alpha_hat_t ∘ beta_hat_t,
 *   xi_t[i][j] = alpha_hat_t[i] T[i][j] b_j(o_{t+1}) beta_hat_{t+1}[j] / c_{t+1}.
 *
 * @param options `xi: 'full'` (default) keeps the T-1 matrices, `'sum'` only their sum
 * @throws {InvalidArgumentError} naming `obs` when the sequence has probability 0 under the model, and as
 *   {@link forward}
 */
export function forwardBackward(hmm: HMM, obs: HMMObservations, options: { xi?: 'full' | 'sum' } = {}): HMMForwardBackwardResult {
  asHMM(hmm);
  const o = hmm.checkObservations(obs);
  const xiMode = options.xi ?? 'full';
  if (xiMode !== 'full' && xiMode !== 'sum') throw new InvalidArgumentError('options.xi', `expected 'full' or 'sum', got ${String(xiMode)}`);
  const T = o.length, K = hmm.K;
  const r = core(hmm, scaledEmissions(hmm, o), true, xiMode === 'full');
  return {
    filtering: rowsOf(r.alpha, T, K), logScales: r.logScales, scales: r.logScales.map(Math.exp), logLikelihood: r.logLikelihood,
    posteriors: rowsOf(r.gamma!, T, K), xiSum: rowsOf(r.xiSum!, K, K), backward: rowsOf(r.beta!, T, K),
    xi: r.xi ? Array.from({ length: T - 1 }, (_, t) => rowsOf(r.xi!.subarray(t * K * K, (t + 1) * K * K), K, K)) : [],
  };
}

/** What {@link viterbi} returns. */
export interface ViterbiResult {
  /** The most likely state path s_1..s_T (ties broken towards the lower state index). */
  path: Int32Array;
  /** log P(path, o_1..o_T) = max over paths of the joint log-probability; -Infinity when all paths are impossible. */
  logProbability: number;
}

/**
 * Viterbi decoding in log space:
 *
 *   delta_1[k] = log pi[k] + log b_k(o_1),
 *   delta_t[j] = max_i (delta_{t-1}[i] + log T[i][j]) + log b_j(o_t),   psi_t[j] = argmax_i (...),
 *
 * then backtracking from argmax_k delta_T[k]. Zero probabilities are -Infinity and never chosen over a finite
 * alternative. O(T K^2).
 * @throws as {@link forward}
 */
export function viterbi(hmm: HMM, obs: HMMObservations): ViterbiResult {
  asHMM(hmm);
  const o = hmm.checkObservations(obs);
  const T = o.length, K = hmm.K;
  const logT = hmm.transitions.map((r) => r.map(Math.log));
  const psi: Int32Array[] = [];
  let delta = new Float64Array(K);
  for (let k = 0; k < K; k++) delta[k] = Math.log(hmm.pi[k]!) + hmm.logEmissionAt(k, o[0]!);
  for (let t = 1; t < T; t++) {
    const nd = new Float64Array(K);
    const arg = new Int32Array(K);
    for (let j = 0; j < K; j++) {
      let best = -Infinity, bi = 0;
      for (let i = 0; i < K; i++) {
        const v = delta[i]! + logT[i]![j]!;
        if (v > best) { best = v; bi = i; }
      }
      nd[j] = best + hmm.logEmissionAt(j, o[t]!);
      arg[j] = bi;
    }
    psi.push(arg);
    delta = nd;
  }
  let best = -Infinity, last = 0;
  for (let k = 0; k < K; k++) if (delta[k]! > best) { best = delta[k]!; last = k; }
  const path = new Int32Array(T);
  path[T - 1] = last;
  for (let t = T - 1; t >= 1; t--) path[t - 1] = psi[t - 1]![path[t]!]!;
  return { path, logProbability: best };
}

/** Options of {@link baumWelch}. */
export interface BaumWelchOptions {
  /** Number of hidden states K (checked against `init` when both are given). */
  states: number;
  /** The emission model to fit. */
  emission: 'discrete' | 'gaussian';
  /** Discrete: number of symbols M (default: 1 + the largest symbol in the data, or init's M). */
  symbols?: number;
  /** Gaussian: `'full'` (default, or init's kind) or `'diagonal'` covariances. */
  covariance?: 'full' | 'diagonal';
  /** Starting model. Without it, one is drawn with `seed` (see {@link baumWelch}). */
  init?: HMM | HMMSpec;
  /** Seed of the random initialisation (default 0). */
  seed?: number;
  /** Maximum number of EM iterations (M-steps), default 100. */
  iterations?: number;
  /**
   * Stop when an iteration improves the total log-likelihood by less than `tol` (absolute, default 1e-6; 0
   * stops only on a decrease, i.e. at rounding-level convergence).
   */
  tol?: number;
  /** Gaussian: added to the diagonal of every re-estimated covariance (default 0, the exact M-step). */
  covarianceFloor?: number;
  /** Called after every iteration with the re-estimated model and the log-likelihood of the model before it. */
  onIteration?: (info: { iteration: number; hmm: HMM; logLikelihood: number }) => void;
}

/** What {@link baumWelch} returns. */
export interface BaumWelchResult {
  /** The fitted model. */
  hmm: HMM;
  /**
   * Total log-likelihood (over all sequences) of the initial model and after each iteration: entry k is that of
   * the model after k M-steps, so the length is `iterations + 1`. Non-decreasing up to rounding (EM).
   */
  logLikelihoods: number[];
  /** Number of M-steps done. */
  iterations: number;
  /** True when it stopped on `tol` before the iteration limit. */
  converged: boolean;
}

function depth(v: unknown): number {
  let d = 0;
  while (isArrayLike(v) && typeof v !== 'string') {
    d++;
    if (v.length === 0) break;
    v = v[0];
  }
  return d;
}

/**
 * Baum-Welch (EM) over one or several independent sequences (each starting from pi). Per iteration, the E-step
 * runs {@link forwardBackward} on every sequence n; the M-step sets
 *
 *   pi[k] = (1/N) sum_n gamma^n_1[k],
 *   T[i][j] = sum_n sum_t xi^n_t[i][j] / sum_n sum_{t<T_n} gamma^n_t[i],
 *   discrete:  E[k][m] = sum_n sum_{t: o_t = m} gamma^n_t[k] / sum_n sum_t gamma^n_t[k],
 *   Gaussian:  mu_k = sum gamma_t[k] o_t / sum gamma_t[k],
 *              Sigma_k = sum gamma_t[k] (o_t - mu_k)(o_t - mu_k)^T / sum gamma_t[k] (+ covarianceFloor I)
 *              (diagonal: only the diagonal).
 *
 * A state whose expected count is exactly 0 keeps its previous row / emission. Zeros in the initial T, pi or E
 * stay zero. Without `init`, pi, the rows of T and (discrete) the rows of E are drawn proportional to
 * 0.5 + u (u uniform from `new Random(seed)`), and Gaussian means are K observations chosen by k-means++ seeding
 * (each next one with probability proportional to its squared distance to the nearest one chosen) with
 * covariances the pooled data covariance (diagonal when `covariance: 'diagonal'`).
 *
 * @param data one sequence (discrete: T symbols; Gaussian: T rows of d, or T numbers when d = 1) or an array of
 *   sequences (discrete: arrays of symbols; Gaussian: arrays of T x d rows, also for d = 1)
 * @throws {InvalidArgumentError} naming `options.*` for bad options, `data` for an empty data set, `init` for an
 *   init that does not match K / M / d / the emission kind, and `obs` (with the sequence index) for a bad
 *   observation or one of probability 0 under the current model
 */
export function baumWelch(data: HMMObservations | HMMObservations[], options: BaumWelchOptions): BaumWelchResult {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected { states, emission, ... }');
  const K = options.states;
  if (!Number.isInteger(K) || K < 1) throw new InvalidArgumentError('options.states', `expected an integer >= 1, got ${String(K)}`);
  const kind = options.emission;
  if (kind !== 'discrete' && kind !== 'gaussian') {
    throw new InvalidArgumentError('options.emission', `expected 'discrete' or 'gaussian', got ${String(kind)}`);
  }
  const iterations = options.iterations ?? 100;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new InvalidArgumentError('options.iterations', `expected an integer >= 0, got ${String(iterations)}`);
  }
  const tol = options.tol ?? 1e-6;
  if (typeof tol !== 'number' || !(tol >= 0)) throw new InvalidArgumentError('options.tol', `expected a number >= 0, got ${String(tol)}`);
  const floor = options.covarianceFloor ?? 0;
  if (typeof floor !== 'number' || !(floor >= 0) || !Number.isFinite(floor)) {
    throw new InvalidArgumentError('options.covarianceFloor', `expected a finite number >= 0, got ${String(floor)}`);
  }
  if (!isArrayLike(data) || data.length === 0) throw new InvalidArgumentError('data', 'expected one or more observation sequences');
  const dd = depth(data);
  const multi = kind === 'discrete' ? dd >= 2 : dd >= 3;
  const seqs = (multi ? Array.from(data as ArrayLike<HMMObservations>) : [data as HMMObservations]);
  if (seqs.length === 0) throw new InvalidArgumentError('data', 'expected one or more observation sequences');

  let hmm: HMM;
  if (options.init !== undefined) {
    hmm = options.init instanceof HMM ? options.init : new HMM(options.init);
    if (hmm.K !== K) throw new InvalidArgumentError('init', `has ${hmm.K} states, options.states is ${K}`);
    if (hmm.kind !== kind) throw new InvalidArgumentError('init', `has ${hmm.kind} emissions, options.emission is '${kind}'`);
    if (kind === 'discrete' && options.symbols !== undefined && (hmm.emission as DiscreteEmission).M !== options.symbols) {
      throw new InvalidArgumentError('init', `has ${(hmm.emission as DiscreteEmission).M} symbols, options.symbols is ${options.symbols}`);
    }
  } else {
    hmm = randomInit(seqs, K, kind, options);
  }
  const covariance = options.covariance ?? (hmm.emission.kind === 'gaussian' && hmm.emission.diagonal ? 'diagonal' : 'full');
  if (covariance !== 'full' && covariance !== 'diagonal') {
    throw new InvalidArgumentError('options.covariance', `expected 'full' or 'diagonal', got ${String(covariance)}`);
  }
  const obs = seqs.map((s, n) => hmm.checkObservations(s, seqs.length > 1 ? `obs[${n}]` : 'obs'));

  const lls: number[] = [];
  let converged = false;
  let done = 0;
  for (;;) {
    const stats = obs.map((o, n) => {
      try {
        return { o, fb: core(hmm, scaledEmissions(hmm, o), true, false) };
      } catch (e) {
        if (e instanceof InvalidArgumentError && seqs.length > 1) {
          throw new InvalidArgumentError(`obs[${n}]`, e.message.replace(/^obs: /, ''));
        }
        throw e;
      }
    });
    const ll = stats.reduce((a, s) => a + s.fb.logLikelihood, 0);
    lls.push(ll);
    if (lls.length >= 2 && ll - lls[lls.length - 2]! < tol) { converged = true; break; }
    if (done >= iterations) break;
    hmm = mStep(hmm, stats, covariance, floor);
    done++;
    options.onIteration?.({ iteration: done, hmm, logLikelihood: ll });
  }
  return { hmm, logLikelihoods: lls, iterations: done, converged };
}

function mStep(hmm: HMM, stats: { o: Int32Array | Float64Array[]; fb: Core }[],
               covariance: 'full' | 'diagonal', floor: number): HMM {
  const K = hmm.K, N = stats.length;
  const pi = new Float64Array(K);
  const trans = Array.from({ length: K }, () => new Float64Array(K));
  const occ = new Float64Array(K);
  for (const { fb } of stats) {
    const g = fb.gamma!, x = fb.xiSum!;
    for (let k = 0; k < K; k++) pi[k]! += g[k]! / N;
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) trans[i]![j]! += x[i * K + j]!;
    for (let n = 0; n < g.length; n++) occ[n % K]! += g[n]!;
  }
  const normRow = (r: Float64Array, old: Float64Array): Float64Array => {
    let s = 0;
    for (const v of r) s += v;
    return s > 0 ? r.map((v) => v / s) : Float64Array.from(old);
  };
  const spec: HMMSpec = {
    pi: normRow(pi, hmm.pi),
    transitions: trans.map((r, i) => normRow(r, hmm.transitions[i]!)),
  };
  const e = hmm.emission;
  if (e.kind === 'discrete') {
    const E = Array.from({ length: K }, () => new Float64Array(e.M));
    for (const { o, fb } of stats) {
      const g = fb.gamma!;
      for (let t = 0; t < o.length; t++) for (let k = 0; k < K; k++) E[k]![(o as Int32Array)[t]!]! += g[t * K + k]!;
    }
    spec.emissions = E.map((r, k) => (occ[k]! > 0 ? r.map((v) => v / occ[k]!) : Float64Array.from(e.probs[k]!)));
  } else {
    const d = e.d;
    const means = Array.from({ length: K }, (_, k) => {
      if (!(occ[k]! > 0)) return Float64Array.from(e.means[k]!);
      const m = new Float64Array(d);
      for (const { o, fb } of stats) {
        const g = fb.gamma!;
        for (let t = 0; t < o.length; t++) { const x = (o as Float64Array[])[t]!; for (let i = 0; i < d; i++) m[i]! += g[t * K + k]! * x[i]!; }
      }
      return m.map((v) => v / occ[k]!);
    });
    const covs = Array.from({ length: K }, (_, k) => {
      if (!(occ[k]! > 0)) return e.covariances[k]!.map((r) => Float64Array.from(r));
      const S = Array.from({ length: d }, () => new Float64Array(d));
      const mu = means[k]!, diff = new Float64Array(d);
      for (const { o, fb } of stats) {
        const g = fb.gamma!;
        for (let t = 0; t < o.length; t++) {
          const x = (o as Float64Array[])[t]!, w = g[t * K + k]!;
          for (let i = 0; i < d; i++) diff[i] = x[i]! - mu[i]!;
          for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) S[i]![j]! += w * diff[i]! * diff[j]!;
        }
      }
      for (let i = 0; i < d; i++) {
        for (let j = 0; j <= i; j++) {
          const v = covariance === 'diagonal' && i !== j ? 0 : S[i]![j]! / occ[k]!;
          S[i]![j] = v;
          S[j]![i] = v;
        }
        S[i]![i]! += floor;
      }
      return S;
    });
    spec.means = means;
    if (covariance === 'diagonal') spec.variances = covs.map((S) => S.map((r, i) => r[i]!));
    else spec.covariances = covs;
  }
  try {
    return new HMM(spec);
  } catch (err) {
    if (err instanceof InvalidArgumentError && (err.argument === 'covariances' || err.argument === 'variances')) {
      throw new InvalidArgumentError('options.covarianceFloor', `a re-estimated covariance is singular (${err.message}); ` +
        'pass a covarianceFloor > 0 or fewer states');
    }
    throw err;
  }
}

function randomInit(seqs: HMMObservations[], K: number, kind: 'discrete' | 'gaussian', options: BaumWelchOptions): HMM {
  const rng = new Random(options.seed ?? 0);
  const dist = (n: number): Float64Array => {
    const r = Float64Array.from({ length: n }, () => 0.5 + rng.next());
    const s = r.reduce((a, b) => a + b, 0);
    return r.map((v) => v / s);
  };
  const pi = dist(K);
  const transitions = Array.from({ length: K }, () => dist(K));
  if (kind === 'discrete') {
    let M = options.symbols;
    if (M === undefined) {
      M = 0;
      seqs.forEach((s, n) => {
        if (!isArrayLike(s)) throw new InvalidArgumentError(seqs.length > 1 ? `obs[${n}]` : 'obs', 'expected an array of symbols');
        for (let t = 0; t < s.length; t++) {
          const v = s[t];
          if (typeof v === 'number' && Number.isInteger(v) && v >= 0) M = Math.max(M!, v + 1);
        }
      });
    }
    if (!Number.isInteger(M) || M < 1) throw new InvalidArgumentError('options.symbols', `expected an integer >= 1, got ${String(M)}`);
    return new HMM({ pi, transitions, emissions: Array.from({ length: K }, () => dist(M!)) });
  }
  // Gaussian: means from random observations, pooled covariance
  const rows: Float64Array[] = [];
  seqs.forEach((s, n) => {
    const name = seqs.length > 1 ? `obs[${n}]` : 'obs';
    if (!isArrayLike(s) || s.length < 1) throw new InvalidArgumentError(name, 'expected a sequence of at least one observation');
    for (let t = 0; t < s.length; t++) {
      const r = s[t];
      rows.push(typeof r === 'number' ? vector(name, [r], 1) : vector(name, r, isArrayLike(rows[0]) ? rows[0].length : undefined));
    }
  });
  const d = rows[0]!.length, n = rows.length;
  if (n < K) throw new InvalidArgumentError('data', `expected at least ${K} observations to initialise ${K} Gaussian states`);
  const mean = new Float64Array(d);
  rows.forEach((r) => r.forEach((v, i) => { mean[i]! += v / n; }));
  const S = Array.from({ length: d }, () => new Float64Array(d));
  rows.forEach((r) => { for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) S[i]![j]! += (r[i]! - mean[i]!) * (r[j]! - mean[j]!) / n; });
  const floor = options.covarianceFloor ?? 0;
  for (let i = 0; i < d; i++) S[i]![i]! += floor;
  // k-means++ seeding: the first mean a random observation, each next one drawn with probability proportional to
  // the squared distance to the nearest mean already chosen (uniformly when all distances are 0)
  const means: Float64Array[] = [Float64Array.from(rows[rng.int(n)]!)];
  const dist2 = new Float64Array(n).fill(Infinity);
  while (means.length < K) {
    const last = means[means.length - 1]!;
    let total = 0;
    for (let t = 0; t < n; t++) {
      let v = 0;
      for (let i = 0; i < d; i++) v += (rows[t]![i]! - last[i]!) ** 2;
      dist2[t] = Math.min(dist2[t]!, v);
      total += dist2[t]!;
    }
    let pick = rng.int(n);
    if (total > 0) {
      const u = rng.next() * total;
      let acc = 0;
      for (let t = 0; t < n; t++) { acc += dist2[t]!; if (u < acc) { pick = t; break; } }
    }
    means.push(Float64Array.from(rows[pick]!));
  }
  const diag = options.covariance === 'diagonal';
  try {
    return diag
      ? new HMM({ pi, transitions, means, variances: Array.from({ length: K }, () => S.map((r, i) => r[i]!)) })
      : new HMM({ pi, transitions, means, covariances: Array.from({ length: K }, () => S) });
  } catch (err) {
    if (err instanceof InvalidArgumentError && (err.argument === 'covariances' || err.argument === 'variances')) {
      throw new InvalidArgumentError('data', 'the pooled data covariance is singular; pass `init` or a covarianceFloor > 0');
    }
    throw err;
  }
}
