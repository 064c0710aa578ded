/**
 * Hidden Markov models as recurrent networks, exactly, in float64 TypeScript, and the reverse comparison.
 *
 * 1. {@link hmmAsSamplingRnn}: a ReLU RNN whose hidden state is the one-hot current state, h_t = e_{s_t}, with
 *    softmax heads whose logits are log-probabilities, so softmax(W_T h_t + b_T) = T[s_t, :] and
 *    softmax(W_E h_t + b_E) = E[s_t, :]. Fed back its own sampled state it generates the HMM's distribution; with
 *    the same uniforms it draws the same samples as {@link HMM.sample}.
 * 2. {@link hmmAsFilterRnn}: a normalised second-order (multiplicative) RNN h_t = normalize(W[o_t] h_{t-1}) with
 *    W[o] = diag(E[:, o]) T^T, whose hidden state is the forward algorithm's filtering distribution
 *    P(s_t | o_1..t) and whose normalisers multiply to the likelihood.
 * 3. {@link compareHmmAndRnn}: fits an HMM (Baum-Welch) and a GRU (the engine, `fit` with cross-entropy) to
 *    sequences from a known HMM and compares held-out log-likelihoods per symbol.
 *
 * Both emulations use one extra hidden unit, the start unit (index K): h_0 = e_K stands for "before s_1", and
 * its outgoing weights carry pi, so that one uniform recurrence covers t = 1 as well.
 * @module
 */
import { InvalidArgumentError, ShapeError, UnsupportedError } from '../errors.js';
import { Random } from '../nn/random.js';
import { GRU } from '../nn/recurrent.js';
import { Linear } from '../nn/linear.js';
import { SequenceModel } from '../nn/sequence-model.js';
import { fit, type Dataset } from '../train/fit.js';
import { Adam } from '../train/optimizers.js';
import {
  HMM, baumWelch, drawCategorical, drawGaussian, forward, type DiscreteEmission, type HMMObservations, type HMMSample,
} from './hmm.js';

/**
 * The logit standing for probability 0. Any float64 probability p > 0 has log p >= log(4.9e-324) = -744.4, so
 * -1e4 is below every possible logit, and exp(-1e4 - max) underflows to exactly 0 in the softmax (max >= -log M
 * for a distribution over M outcomes): a zero probability comes out exactly 0. -Infinity cannot be used because a
 * one-hot matrix-vector product would form 0 * -Infinity = NaN.
 */
export const IMPOSSIBLE_LOGIT = -1e4;

/** y = W x + b: `weight` out rows of in, `bias` out. */
export interface LinearWeights {
  readonly weight: readonly Float64Array[];
  readonly bias: Float64Array;
}

/** y = W x + b in float64. */
function applyLinear(map: LinearWeights, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(map.weight.length);
  for (let i = 0; i < y.length; i++) {
    const w = map.weight[i]!;
    let v = map.bias[i]!;
    for (let j = 0; j < w.length; j++) v += w[j]! * x[j]!;
    y[i] = v;
  }
  return y;
}

/** softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z). */
function softmax(z: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]!);
  const p = Float64Array.from(z, (v) => Math.exp(v - m));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / s);
}

/** log softmax(z)_i = z_i - logsumexp(z). */
function logSoftmax(z: ArrayLike<number>): Float64Array {
  const l = logSumExp(z);
  return Float64Array.from(z, (v) => v - l);
}

/** logsumexp(z) = max z + log sum_i exp(z_i - max z); -Infinity when every z_i is -Infinity. */
function logSumExp(z: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]!);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i]! - m);
  return m + Math.log(s);
}

const logit = (p: number): number => (p > 0 ? Math.log(p) : IMPOSSIBLE_LOGIT);

function asHMM(hmm: HMM): HMM {
  if (!(hmm instanceof HMM)) throw new InvalidArgumentError('hmm', 'expected an HMM (new HMM({ pi, transitions, ... }))');
  return hmm;
}

// ------------------------------------------------------------------------------------------------ sampling RNN

/**
 * An Elman RNN with a ReLU, h_t = relu(W_ih x_t + W_hh h_{t-1} + b), hidden size K + 1, input the one-hot of the
 * state sampled from the transition head, and heads on h_t:
 *
 *   transition head:  logits W_T h + b_T,  W_T[:, k] = log T[k, :] (k < K),  W_T[:, K] = log pi,  b_T = 0
 *   discrete emission head:  logits W_E h + b_E,  W_E[:, k] = log E[k, :],  W_E[:, K] = 0,  b_E = 0
 *   Gaussian emission head:  mean W_mu h (W_mu[:, k] = mu_k) and lower Cholesky factor L = reshape(W_L h)
 *     (W_L[:, k] = vec(L_k), row-major), o = mean + L z
 *
 * W_ih = [I_K; 0] ((K + 1) x K), W_hh = 0, b = 0, h_0 = e_K (the start unit). Zero probabilities have the logit
 * {@link IMPOSSIBLE_LOGIT}. Field names follow PyTorch's nn.RNN(nonlinearity='relu') for one layer.
 */
export interface SamplingRnn {
  /** Number of HMM states K. */
  readonly K: number;
  /** K + 1 (unit K is the start unit). */
  readonly hiddenSize: number;
  /** K: the one-hot of the sampled state. */
  readonly inputSize: number;
  readonly nonlinearity: 'relu';
  /** weight_ih_l0: (K + 1) x K. */
  readonly weightIh: readonly Float64Array[];
  /** weight_hh_l0: (K + 1) x (K + 1), zero (the state is entirely carried by the fed-back sample). */
  readonly weightHh: readonly Float64Array[];
  /** bias_ih_l0 + bias_hh_l0: K + 1, zero. */
  readonly bias: Float64Array;
  /** h_0 = e_K. */
  readonly h0: Float64Array;
  /** K x (K + 1): logits of the next state. */
  readonly transitionHead: LinearWeights;
  /** Discrete: M x (K + 1) logits; Gaussian: d x (K + 1) mean and (d * d) x (K + 1) Cholesky factor. */
  readonly emissionHead:
    | { readonly kind: 'discrete'; readonly logits: LinearWeights }
    | { readonly kind: 'gaussian'; readonly d: number; readonly mean: LinearWeights; readonly cholesky: LinearWeights };
}

/**
 * The {@link SamplingRnn} of an HMM (see there for the weights). Exactness: with h = e_k the head logits are
 * exactly log T[k, :] (one-hot products add exact zeros), so the head's softmax equals T[k, :] up to the rounding
 * of exp(log p) and of the normalisation (about 1e-16), and zero probabilities come out exactly 0.
 */
export function hmmAsSamplingRnn(hmm: HMM): SamplingRnn {
  asHMM(hmm);
  const K = hmm.K, H = K + 1;
  const zeros = (r: number, c: number): Float64Array[] => Array.from({ length: r }, () => new Float64Array(c));
  const weightIh = zeros(H, K);
  for (let k = 0; k < K; k++) weightIh[k]![k] = 1;
  const WT = zeros(K, H);
  for (let j = 0; j < K; j++) {
    for (let k = 0; k < K; k++) WT[j]![k] = logit(hmm.transitions[k]![j]!);
    WT[j]![K] = logit(hmm.pi[j]!);
  }
  const e = hmm.emission;
  let emissionHead: SamplingRnn['emissionHead'];
  if (e.kind === 'discrete') {
    const WE = zeros(e.M, H);
    for (let m = 0; m < e.M; m++) for (let k = 0; k < K; k++) WE[m]![k] = logit(e.probs[k]![m]!);
    emissionHead = { kind: 'discrete', logits: { weight: WE, bias: new Float64Array(e.M) } };
  } else {
    const d = e.d;
    const Wm = zeros(d, H), WL = zeros(d * d, H);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < d; i++) {
        Wm[i]![k] = e.means[k]![i]!;
        for (let j = 0; j < d; j++) WL[i * d + j]![k] = e.cholesky[k]![i]![j]!;
      }
    }
    emissionHead = { kind: 'gaussian', d, mean: { weight: Wm, bias: new Float64Array(d) }, cholesky: { weight: WL, bias: new Float64Array(d * d) } };
  }
  const h0 = new Float64Array(H);
  h0[K] = 1;
  return {
    K, hiddenSize: H, inputSize: K, nonlinearity: 'relu', weightIh, weightHh: zeros(H, H), bias: new Float64Array(H), h0,
    transitionHead: { weight: WT, bias: new Float64Array(K) }, emissionHead,
  };
}

/** One step h' = relu(W_ih x + W_hh h + b). */
export function samplingRnnStep(rnn: SamplingRnn, h: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  if (h.length !== rnn.hiddenSize) throw new ShapeError('h', `expected ${rnn.hiddenSize} numbers`, [rnn.hiddenSize], [h.length]);
  if (x.length !== rnn.inputSize) throw new ShapeError('x', `expected ${rnn.inputSize} numbers`, [rnn.inputSize], [x.length]);
  const a = applyLinear({ weight: rnn.weightIh, bias: rnn.bias }, x);
  const r = applyLinear({ weight: rnn.weightHh, bias: new Float64Array(rnn.hiddenSize) }, h);
  return a.map((v, i) => Math.max(0, v + r[i]!));
}

/** What the heads give on a hidden state. */
export interface SamplingRnnHeads {
  /** Logits of the next state (K). */
  transitionLogits: Float64Array;
  /** softmax of them: the distribution of the next state. */
  transition: Float64Array;
  /** Discrete: emission logits (M). */
  emissionLogits?: Float64Array;
  /** Discrete: softmax of them. */
  emission?: Float64Array;
  /** Gaussian: the mean (d). */
  mean?: Float64Array;
  /** Gaussian: the lower Cholesky factor (d rows of d). */
  cholesky?: Float64Array[];
}

/**
 * Evaluates both heads on h (K + 1 numbers): transition = softmax(W_T h + b_T); discrete emission =
 * softmax(W_E h + b_E); Gaussian mean = W_mu h + b_mu and L = reshape(W_L h + b_L, d x d).
 */
export function samplingRnnHeads(rnn: SamplingRnn, h: ArrayLike<number>): SamplingRnnHeads {
  if (h.length !== rnn.hiddenSize) throw new ShapeError('h', `expected ${rnn.hiddenSize} numbers`, [rnn.hiddenSize], [h.length]);
  const transitionLogits = applyLinear(rnn.transitionHead, h);
  const out: SamplingRnnHeads = { transitionLogits, transition: softmax(transitionLogits) };
  const e = rnn.emissionHead;
  if (e.kind === 'discrete') {
    out.emissionLogits = applyLinear(e.logits, h);
    out.emission = softmax(out.emissionLogits);
  } else {
    out.mean = applyLinear(e.mean, h);
    const flat = applyLinear(e.cholesky, h);
    out.cholesky = Array.from({ length: e.d }, (_, i) => flat.slice(i * e.d, (i + 1) * e.d));
  }
  return out;
}

const oneHot = (k: number, n: number): Float64Array => { const v = new Float64Array(n); v[k] = 1; return v; };

/**
 * Samples T steps from the RNN: from h_{t-1} draw s_t from the transition head (one uniform, inverse CDF), set
 * h_t = step(h_{t-1}, onehot(s_t)), draw o_t from the emission head at h_t (one uniform, or d normals for
 * o = mean + L z). With the same seed this consumes `new Random(seed)` exactly as {@link HMM.sample}, so the
 * samples are the same unless a uniform falls within rounding (~1e-16) of a cumulative-probability boundary.
 */
export function sampleSamplingRnn(rnn: SamplingRnn, T: number, seed = 0): HMMSample {
  if (!Number.isInteger(T) || T < 0) throw new InvalidArgumentError('T', `expected an integer >= 0, got ${T}`);
  const rng = new Random(seed);
  const states = new Int32Array(T);
  const discrete = rnn.emissionHead.kind === 'discrete';
  const symbols = new Int32Array(discrete ? T : 0);
  const rows: Float64Array[] = [];
  let h: Float64Array = rnn.h0;
  for (let t = 0; t < T; t++) {
    const s = drawCategorical(samplingRnnHeads(rnn, h).transition, rng.next());
    states[t] = s;
    h = samplingRnnStep(rnn, h, oneHot(s, rnn.K));
    const heads = samplingRnnHeads(rnn, h);
    if (discrete) {
      symbols[t] = drawCategorical(heads.emission!, rng.next());
    } else {
      rows.push(drawGaussian(heads.mean!, heads.cholesky!, rng));
    }
  }
  return { states, observations: discrete ? symbols : rows };
}

function gaussianLogDensity(x: ArrayLike<number>, mu: ArrayLike<number>, L: readonly ArrayLike<number>[]): number {
  const d = mu.length, z = new Float64Array(d);
  let quad = 0, logDet = 0;
  for (let i = 0; i < d; i++) {
    let v = x[i]! - mu[i]!;
    for (let j = 0; j < i; j++) v -= L[i]![j]! * z[j]!;
    z[i] = v / L[i]![i]!;
    quad += z[i]! * z[i]!;
    logDet += 2 * Math.log(L[i]![i]!);
  }
  return -0.5 * (d * Math.log(2 * Math.PI) + logDet + quad);
}

/**
 * The RNN's joint log-probability of a state path and observations, sum_t log softmax(transition head at
 * h_{t-1})[s_t] + log softmax(emission head at h_t)[o_t] (Gaussian: log N(o_t; mean, L L^T)), with
 * h_t = step(h_{t-1}, onehot(s_t)). Equals {@link HMM.logJoint} up to rounding; a step of probability 0
 * contributes about {@link IMPOSSIBLE_LOGIT} instead of -Infinity (so exp of the result is exactly 0).
 * @param hmm the HMM whose observations format (and validation) applies
 */
export function samplingRnnLogProbability(rnn: SamplingRnn, hmm: HMM, states: ArrayLike<number>, obs: HMMObservations): number {
  const o = asHMM(hmm).checkObservations(obs);
  if (hmm.K !== rnn.K) throw new InvalidArgumentError('hmm', `has ${hmm.K} states, the RNN ${rnn.K}`);
  const s = hmm.checkStates(states, o.length);
  let h: Float64Array = rnn.h0, lp = 0;
  for (let t = 0; t < o.length; t++) {
    lp += logSoftmax(samplingRnnHeads(rnn, h).transitionLogits)[s[t]!]!;
    h = samplingRnnStep(rnn, h, oneHot(s[t]!, rnn.K));
    const heads = samplingRnnHeads(rnn, h);
    lp += heads.emissionLogits ? logSoftmax(heads.emissionLogits)[o[t] as number]!
      : gaussianLogDensity(o[t] as Float64Array, heads.mean!, heads.cholesky!);
  }
  return lp;
}

/**
 * The marginal log-likelihood by the RNN, log sum over all K^T state paths of exp(path log-probability),
 * accumulated by depth-first enumeration with the RNN's state (a check for tiny cases; equals
 * {@link forward}'s log-likelihood up to rounding).
 * @throws {InvalidArgumentError} naming `obs` when K^T exceeds `maxPaths` (default 1e6)
 */
export function samplingRnnMarginalLogLikelihood(rnn: SamplingRnn, hmm: HMM, obs: HMMObservations, maxPaths = 1e6): number {
  const o = asHMM(hmm).checkObservations(obs);
  if (hmm.K !== rnn.K) throw new InvalidArgumentError('hmm', `has ${hmm.K} states, the RNN ${rnn.K}`);
  if (rnn.K ** o.length > maxPaths) {
    throw new InvalidArgumentError('obs', `${rnn.K}^${o.length} state paths exceed maxPaths = ${maxPaths}; use hmmAsFilterRnn`);
  }
  const terms: number[] = [];
  const rec = (t: number, h: Float64Array, lp: number): void => {
    if (t === o.length) { terms.push(lp); return; }
    const lt = logSoftmax(samplingRnnHeads(rnn, h).transitionLogits);
    for (let k = 0; k < rnn.K; k++) {
      const h2 = samplingRnnStep(rnn, h, oneHot(k, rnn.K));
      const heads = samplingRnnHeads(rnn, h2);
      const le = heads.emissionLogits ? logSoftmax(heads.emissionLogits)[o[t] as number]!
        : gaussianLogDensity(o[t] as Float64Array, heads.mean!, heads.cholesky!);
      rec(t + 1, h2, lp + lt[k]! + le);
    }
  };
  rec(0, rnn.h0, 0);
  return logSumExp(terms);
}

// -------------------------------------------------------------------------------------------------- filter RNN

/**
 * A normalised second-order RNN over K + 1 units (unit K the start unit) with one-hot inputs x_t = e_{o_t}:
 *
 *   u_t = sum_m x_t[m] W[m] h_{t-1},   n_t = sum_j u_t[j],   h_t = u_t / n_t,   h_0 = e_K,
 *   W[m] = diag(E'[:, m]) T'^T,   T' = [[T, 0], [pi^T, 0]],   E' = [E; 0],
 *
 * so h_t[:K] = P(s_t | o_1..t) (the forward algorithm's alpha_hat_t), h_t[K] = 0 for t >= 1,
 * n_t = p(o_t | o_1..t-1) (its scaling factor c_t) and sum_t log n_t = log p(o_1..T).
 */
export interface FilterRnn {
  /** Number of HMM states K. */
  readonly K: number;
  /** Number of symbols M (the input size). */
  readonly M: number;
  /** K + 1. */
  readonly hiddenSize: number;
  /** M gate matrices W[m], each (K + 1) x (K + 1): W[m][j][i] = E'[j][m] T'[i][j]. */
  readonly gates: readonly (readonly Float64Array[])[];
  /** h_0 = e_K. */
  readonly h0: Float64Array;
}

/**
 * The {@link FilterRnn} of an HMM with discrete emissions.
 * @throws {UnsupportedError} for Gaussian emissions (the gate would be the emission-density vector, not a
 *   one-hot input)
 */
export function hmmAsFilterRnn(hmm: HMM): FilterRnn {
  asHMM(hmm);
  if (hmm.emission.kind !== 'discrete') {
    throw new UnsupportedError('hmmAsFilterRnn: discrete emissions only (a Gaussian HMM has no finite one-hot input)');
  }
  const e = hmm.emission as DiscreteEmission;
  const K = hmm.K, H = K + 1;
  const Tp = (i: number, j: number): number => (j === K ? 0 : i === K ? hmm.pi[j]! : hmm.transitions[i]![j]!);
  const Ep = (j: number, m: number): number => (j === K ? 0 : e.probs[j]![m]!);
  const gates = Array.from({ length: e.M }, (_, m) => Array.from({ length: H }, (_, j) => Float64Array.from({ length: H }, (_, i) => Ep(j, m) * Tp(i, j))));
  const h0 = new Float64Array(H);
  h0[K] = 1;
  return { K, M: e.M, hiddenSize: H, gates, h0 };
}

/**
 * One step of the filter RNN: u = sum_m x[m] W[m] h, n = sum u, h' = u / n. `x` is a symbol index or an input
 * vector of M numbers (one-hot for the HMM; any weights give the bilinear form).
 * @returns h' (NaN when n = 0, an impossible observation) and n
 */
export function filterRnnStep(rnn: FilterRnn, h: ArrayLike<number>, x: number | ArrayLike<number>): { h: Float64Array; normalizer: number } {
  const H = rnn.hiddenSize;
  if (h.length !== H) throw new ShapeError('h', `expected ${H} numbers`, [H], [h.length]);
  const xv = typeof x === 'number' ? null : x;
  if (xv && xv.length !== rnn.M) throw new ShapeError('x', `expected ${rnn.M} numbers`, [rnn.M], [xv.length]);
  if (!xv && (!Number.isInteger(x) || (x as number) < 0 || (x as number) >= rnn.M)) {
    throw new InvalidArgumentError('x', `expected a symbol in [0, ${rnn.M}), got ${String(x)}`);
  }
  const u = new Float64Array(H);
  for (let m = 0; m < rnn.M; m++) {
    const g = xv ? xv[m]! : m === x ? 1 : 0;
    if (g === 0) continue;
    const W = rnn.gates[m]!;
    for (let j = 0; j < H; j++) {
      let v = 0;
      for (let i = 0; i < H; i++) v += W[j]![i]! * h[i]!;
      u[j]! += g * v;
    }
  }
  const n = u.reduce((a, b) => a + b, 0);
  return { h: n > 0 ? u.map((v) => v / n) : u.fill(NaN), normalizer: n };
}

/** What {@link runFilterRnn} returns. */
export interface FilterRnnResult {
  /** h_t[:K] for t = 1..T: the filtering probabilities (T rows of K). */
  filtering: Float64Array[];
  /** The full hidden states h_1..h_T (T rows of K + 1). */
  hidden: Float64Array[];
  /** log n_t (T). */
  logNormalizers: Float64Array;
  /** sum_t log n_t. */
  logLikelihood: number;
}

/**
 * Runs the filter RNN over symbols o_1..o_T (fed as one-hot inputs). With `logSpace`, the same recurrence in
 * log space, an RNN step without products or nonlinearities other than log-sum-exp:
 *
 *   log u_t[j] = logsumexp_i (log W[o_t][j][i] + log h_{t-1}[i]),   log n_t = logsumexp_j log u_t[j],
 *   log h_t = log u_t - log n_t,
 *
 * with log 0 = -Infinity (the filtering rows are exp(log h_t)).
 * @throws {InvalidArgumentError} naming `obs` for a symbol out of [0, M) or an empty sequence
 */
export function runFilterRnn(rnn: FilterRnn, obs: ArrayLike<number>, options: { logSpace?: boolean } = {}): FilterRnnResult {
  if (obs == null || typeof obs.length !== 'number' || obs.length < 1) throw new InvalidArgumentError('obs', 'expected at least one symbol');
  const T = obs.length, K = rnn.K, H = rnn.hiddenSize;
  for (let t = 0; t < T; t++) {
    const v = obs[t]!;
    if (!Number.isInteger(v) || v < 0 || v >= rnn.M) throw new InvalidArgumentError('obs', `step ${t}: expected a symbol in [0, ${rnn.M}), got ${v}`);
  }
  const filtering: Float64Array[] = [], hidden: Float64Array[] = [];
  const logNormalizers = new Float64Array(T);
  if (options.logSpace) {
    const logW = rnn.gates.map((W) => W.map((r) => r.map(Math.log)));
    let lh = rnn.h0.map(Math.log);
    for (let t = 0; t < T; t++) {
      const W = logW[obs[t]!]!;
      const lu = Float64Array.from({ length: H }, (_, j) => logSumExp(Float64Array.from({ length: H }, (_, i) => W[j]![i]! + lh[i]!)));
      const ln = logSumExp(lu);
      logNormalizers[t] = ln;
      lh = lu.map((v) => (ln === -Infinity ? NaN : v - ln));
      const h = lh.map(Math.exp);
      hidden.push(h);
      filtering.push(h.slice(0, K));
    }
  } else {
    let h: Float64Array = rnn.h0;
    for (let t = 0; t < T; t++) {
      const r = filterRnnStep(rnn, h, oneHot(obs[t]!, rnn.M));
      h = r.h;
      logNormalizers[t] = Math.log(r.normalizer);
      hidden.push(h);
      filtering.push(h.slice(0, K));
    }
  }
  let ll = 0;
  for (let t = 0; t < T; t++) { ll += logNormalizers[t]!; if (ll === -Infinity) break; }
  return { filtering, hidden, logNormalizers, logLikelihood: ll };
}

// ----------------------------------------------------------------------------------- HMM vs RNN (the reverse)

/**
 * Next-symbol data for a per-step model: inputs (N, T, M) with x_1 = 0 (a start input) and x_t = onehot(o_{t-1})
 * for t >= 2, targets (N, T) = o_t, so step t predicts o_t from o_1..o_{t-1}. All sequences have length T.
 * @throws {InvalidArgumentError} naming `sequences` for unequal lengths or symbols out of [0, M)
 */
export function nextSymbolDataset(sequences: readonly ArrayLike<number>[], M: number): Dataset {
  if (!Array.isArray(sequences) || sequences.length < 1) throw new InvalidArgumentError('sequences', 'expected at least one sequence');
  const N = sequences.length, T = sequences[0]!.length;
  const x = new Float32Array(N * T * M), y = new Float32Array(N * T);
  sequences.forEach((s, n) => {
    if (s.length !== T) throw new InvalidArgumentError('sequences', `sequence ${n} has length ${s.length}, expected ${T} (all equal)`);
    for (let t = 0; t < T; t++) {
      const o = s[t]!;
      if (!Number.isInteger(o) || o < 0 || o >= M) throw new InvalidArgumentError('sequences', `sequence ${n}, step ${t}: symbol ${o} not in [0, ${M})`);
      y[n * T + t] = o;
      if (t + 1 < T) x[(n * T + t + 1) * M + o] = 1;
    }
  });
  return { inputs: { data: x, shape: [N, T, M] }, targets: { data: y, shape: [N, T] } };
}

/**
 * Total held-out log-likelihood of a next-symbol model (engine {@link SequenceModel} with M logits per step) on
 * sequences: sum_n sum_t log softmax(logits_{n,t})[o_{n,t}], the log-softmax taken in float64 from the float32
 * logits, with the inputs of {@link nextSymbolDataset}.
 */
export function sequenceModelLogLikelihood(model: SequenceModel, sequences: readonly ArrayLike<number>[], M: number, batchSize = 64): number {
  let total = 0;
  for (let s = 0; s < sequences.length; s += batchSize) {
    const part = sequences.slice(s, s + batchSize);
    const d = nextSymbolDataset(part, M);
    const T = part[0]!.length, B = part.length;
    const inp = d.inputs as { data: Float32Array; shape: number[] };
    const shape = model.rnn.batchFirst ? [B, T, M] : [T, B, M];
    let data = inp.data;
    if (!model.rnn.batchFirst) {
      data = new Float32Array(B * T * M);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let m = 0; m < M; m++) data[(t * B + b) * M + m] = inp.data[(b * T + t) * M + m]!;
    }
    const out = model.forward({ data, shape }).data;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const off = (model.rnn.batchFirst ? b * T + t : t * B + b) * M;
        total += logSoftmax(out.subarray(off, off + M))[part[b]![t]!]!;
      }
    }
  }
  return total;
}

/** Options of {@link compareHmmAndRnn}. */
export interface CompareHmmAndRnnOptions {
  /** The true model (discrete emissions) the sequences are drawn from. */
  hmm: HMM;
  /** Training sequences (default 300). */
  trainSequences?: number;
  /** Held-out sequences (default 200). */
  testSequences?: number;
  /** Length of every sequence (default 40). */
  length?: number;
  /** Seed of the data (sequence n uses hmm.sample(length, seed * 1000003 + n)), the inits and the shuffling. */
  seed?: number;
  /** States of the fitted HMM (default the true K). */
  states?: number;
  /** Baum-Welch iteration limit (default 200) and tolerance (default 1e-6). */
  baumWelchIterations?: number;
  baumWelchTol?: number;
  /** Random restarts of Baum-Welch, the best training log-likelihood kept (default 3). */
  restarts?: number;
  /** GRU width (default 16), epochs (default 12), batch size (default 16), Adam learning rate (default 0.02). */
  hiddenSize?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
}

/** What {@link compareHmmAndRnn} returns: held-out log-likelihoods per symbol (nats, higher is better). */
export interface CompareHmmAndRnnResult {
  perSymbol: {
    /** The true HMM (the bound in expectation). */
    trueHmm: number;
    /** The Baum-Welch fit. */
    baumWelch: number;
    /** The trained GRU. */
    rnn: number;
    /** Symbol frequencies of the training data (add-one smoothing), ignoring the order. */
    unigram: number;
  };
  /** Held-out symbols counted. */
  symbols: number;
  /** The Baum-Welch model. */
  fitted: HMM;
  /** Iterations of the kept Baum-Welch run and whether it converged. */
  baumWelchIterations: number;
  converged: boolean;
  /** Training time of each, seconds. */
  seconds: { baumWelch: number; rnn: number };
}

/**
 * Draws training and held-out sequences from `hmm`, fits an HMM by Baum-Welch (best of `restarts` seeded
 * inits) and a `SequenceModel(GRU(M -> hiddenSize, batchFirst) + Linear(hiddenSize -> M))` by {@link fit} with
 * cross-entropy on {@link nextSymbolDataset} (Adam, gradient-norm clipping 1), and reports the held-out
 * log-likelihood per symbol of the true HMM, the fitted HMM, the GRU (sum of log softmax of each next symbol)
 * and a unigram baseline. Needs `await init()` (the GRU runs on the engine).
 * @throws {UnsupportedError} for a Gaussian HMM
 */
export function compareHmmAndRnn(options: CompareHmmAndRnnOptions): CompareHmmAndRnnResult {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected { hmm, ... }');
  const hmm = asHMM(options.hmm);
  if (hmm.emission.kind !== 'discrete') throw new UnsupportedError('compareHmmAndRnn: discrete emissions only');
  const M = hmm.emission.M;
  const int = (name: string, v: number | undefined, def: number, min = 1): number => {
    const x = v ?? def;
    if (!Number.isInteger(x) || x < min) throw new InvalidArgumentError(`options.${name}`, `expected an integer >= ${min}, got ${String(x)}`);
    return x;
  };
  const Ntr = int('trainSequences', options.trainSequences, 300), Nte = int('testSequences', options.testSequences, 200);
  const L = int('length', options.length, 40, 2), seed = options.seed ?? 0;
  const K = int('states', options.states, hmm.K), restarts = int('restarts', options.restarts, 3);
  const H = int('hiddenSize', options.hiddenSize, 16), epochs = int('epochs', options.epochs, 12, 0);
  const bs = int('batchSize', options.batchSize, 16), lr = options.lr ?? 0.02;
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) throw new InvalidArgumentError('options.lr', `expected a positive number, got ${String(lr)}`);
  const draw = (n: number): Int32Array => hmm.sample(L, seed * 1000003 + n).observations as Int32Array;
  const train = Array.from({ length: Ntr }, (_, n) => draw(n));
  const test = Array.from({ length: Nte }, (_, n) => draw(Ntr + n));
  const symbols = Nte * L;
  const total = (m: HMM, seqs: Int32Array[]): number => seqs.reduce((a, s) => a + forward(m, s).logLikelihood, 0);

  let t0 = performance.now();
  let best: ReturnType<typeof baumWelch> | undefined;
  for (let r = 0; r < restarts; r++) {
    const fitR = baumWelch(train, {
      states: K, emission: 'discrete', symbols: M, seed: seed * 7919 + r,
      iterations: options.baumWelchIterations ?? 200, tol: options.baumWelchTol ?? 1e-6,
    });
    if (!best || fitR.logLikelihoods[fitR.logLikelihoods.length - 1]! > best.logLikelihoods[best.logLikelihoods.length - 1]!) best = fitR;
  }
  const bwSeconds = (performance.now() - t0) / 1000;

  const counts = new Float64Array(M).fill(1);
  for (const s of train) for (const o of s) counts[o]! += 1;
  const cs = counts.reduce((a, b) => a + b, 0);
  let uni = 0;
  for (const s of test) for (const o of s) uni += Math.log(counts[o]! / cs);

  t0 = performance.now();
  const model = new SequenceModel({
    rnn: new GRU({ inputSize: M, hiddenSize: H, batchFirst: true, seed: seed + 1 }),
    head: new Linear({ inFeatures: H, outFeatures: M, seed: seed + 2 }),
  });
  let rnnLL: number;
  try {
    const opt = new Adam(model.parameters(), { lr });
    try {
      fit(model, nextSymbolDataset(train, M), { epochs, batchSize: bs, loss: 'cross-entropy', optimizer: opt, clipGradNorm: 1, seed });
    } finally {
      opt.dispose();
    }
    rnnLL = sequenceModelLogLikelihood(model, test, M);
  } finally {
    model.dispose();
  }
  const rnnSeconds = (performance.now() - t0) / 1000;
  return {
    perSymbol: { trueHmm: total(hmm, test) / symbols, baumWelch: total(best!.hmm, test) / symbols, rnn: rnnLL / symbols, unigram: uni / symbols },
    symbols, fitted: best!.hmm, baumWelchIterations: best!.iterations, converged: best!.converged,
    seconds: { baumWelch: bwSeconds, rnn: rnnSeconds },
  };
}
