/**
 * Experiment 11, HMM emulation: the normalised multiplicative RNN h_t = normalize(W[o_t] h_{t-1}),
 * W[o] = diag(E[:, o]) T^T, built from an HMM computes exactly the forward algorithm's filtering probabilities, and
 * the sum of the log normalisers is the log-likelihood.
 * @module
 */
import { HMM, forward, hmmAsFilterRnn, runFilterRnn } from '../classical/index.js';
import { check, defineExperiment, fmt, range } from './types.js';

/** Data of {@link hmmEmulation}. */
export interface HmmEmulationData {
  /** The sampled symbols o_1..o_T. */
  observations: number[];
  /** The sampled hidden states s_1..s_T. */
  states: number[];
  /** Forward algorithm P(s_t = k | o_1..o_t), T rows of K. */
  forwardFiltering: number[][];
  /** The filter RNN's h_t[:K], T rows of K. */
  rnnFiltering: number[][];
  /** max_t,k |RNN - forward|. */
  maxFilteringDifference: number;
  /** log p(o_1..o_T) from the forward algorithm and from the RNN (sum log n_t). */
  forwardLogLikelihood: number;
  rnnLogLikelihood: number;
}

// The 3-state, 4-symbol HMM of examples/hmm-emulation.mjs: sticky states, each with a preferred symbol.
const PI = [0.5, 0.3, 0.2];
const TRANS = [[0.9, 0.07, 0.03], [0.05, 0.9, 0.05], [0.04, 0.06, 0.9]];
const EMIS = [[0.7, 0.15, 0.1, 0.05], [0.05, 0.15, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]];

/**
 * Samples a sequence from a fixed HMM and runs the forward algorithm and the filter RNN (`hmmAsFilterRnn`, in
 * linear or log space) on it. `mismatch` builds the RNN from a different HMM (transitions mixed with the uniform
 * matrix), which shows the agreement is not a coincidence of any RNN of this shape.
 */
export const hmmEmulation = defineExperiment({
  name: 'hmm-emulation',
  number: 11,
  title: 'HMM emulation by an RNN',
  claim: 'HMM emulation: an RNN built from an HMM gives the same filtering probabilities and likelihoods.',
  description: 'A 3-state HMM with 4 symbols generates one sequence. The forward algorithm computes P(s_t | o_1..o_t) ' +
    'and log p(o_1..o_T); the RNN h_t = W[o_t] h_{t-1} / n_t with W[o] = diag(E[:, o]) T^T (one extra unit holds the ' +
    'start state, so pi needs no special case) computes the same filtering probabilities as h_t and the ' +
    'log-likelihood as sum_t log n_t. The plot shows the probability of state 1 from both, the RNN dashed.',
  params: {
    steps: { kind: 'number', label: 'steps T', description: 'Length of the sampled sequence.', default: 500, min: 1, max: 20000, integer: true },
    space: { kind: 'choice', label: 'RNN arithmetic', description: 'Run the RNN with products (linear) or with log-sum-exp (log).', default: 'linear', options: ['linear', 'log'] },
    mismatch: { kind: 'number', label: 'mismatch', description: 'Build the RNN from transitions (1 - m) T + m / K instead of T (0 for the claim).', default: 0, min: 0, max: 1, step: 0.01 },
    seed: { kind: 'number', label: 'seed', description: 'Seeds the sampled sequence.', default: 42, min: 0, max: 1e6, integer: true },
  },
  body(p) {
    const truth = new HMM({ pi: PI, transitions: TRANS, emissions: EMIS });
    const K = truth.K;
    const rnnSource = p.mismatch === 0 ? truth : new HMM({
      pi: PI, emissions: EMIS, transitions: TRANS.map((row) => row.map((v) => (1 - p.mismatch) * v + p.mismatch / K)),
    });
    const sample = truth.sample(p.steps, p.seed);
    const obs = sample.observations as Int32Array;
    const f = forward(truth, obs);
    const r = runFilterRnn(hmmAsFilterRnn(rnnSource), obs, { logSpace: p.space === 'log' });
    let maxDiff = 0;
    for (let t = 0; t < p.steps; t++) for (let k = 0; k < K; k++) maxDiff = Math.max(maxDiff, Math.abs(r.filtering[t]![k]! - f.filtering[t]![k]!));
    const llDiff = Math.abs(r.logLikelihood - f.logLikelihood);
    const data: HmmEmulationData = {
      observations: Array.from(obs), states: Array.from(sample.states),
      forwardFiltering: f.filtering.map((row) => Array.from(row)), rnnFiltering: r.filtering.map((row) => Array.from(row)),
      maxFilteringDifference: maxDiff, forwardLogLikelihood: f.logLikelihood, rnnLogLikelihood: r.logLikelihood,
    };
    const checks = [
      check('max |P_RNN(s_t = k) - P_forward(s_t = k)| over t and k', maxDiff, '<', 1e-12),
      check('|log-likelihood RNN - forward algorithm|', llDiff, '<', 1e-10),
    ];
    const summary = `Over T = ${p.steps} symbols (${p.space} arithmetic${p.mismatch ? `, RNN from transitions mixed ${fmt(p.mismatch)} with uniform` : ''}): ` +
      `max filtering difference ${fmt(maxDiff)}; log-likelihood ${fmt(f.logLikelihood)} (forward) vs ${fmt(r.logLikelihood)} ` +
      `(RNN), difference ${fmt(llDiff)}.`;
    // The first 200 steps at most, so the plot stays readable.
    const W = Math.min(p.steps, 200);
    const t = range(W).map((i) => i + 1);
    return {
      data, checks, summary,
      plots: [{
        type: 'line', title: `Filtering probabilities P(s_t = k | o_1..o_t), first ${W} steps`, xLabel: 'step t', yLabel: 'probability',
        series: range(K).flatMap((k) => [
          { name: `state ${k + 1}, forward algorithm`, x: t, y: data.forwardFiltering.slice(0, W).map((row) => row[k]!) },
          { name: `state ${k + 1}, filter RNN`, x: t, y: data.rnnFiltering.slice(0, W).map((row) => row[k]!), dashed: true },
        ]),
      }],
    };
  },
});
