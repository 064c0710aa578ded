// Hidden Markov models: forward / forward-backward / Viterbi / Baum-Welch against independent NumPy fixtures
// (test/fixtures/gen_classical_hmm.py, cross-checked there by brute-force path enumeration), the exact RNN
// emulations of src/classical/hmm-rnn.ts, an HMM-vs-GRU comparison, and the argument checks.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError, UnsupportedError, init } from '../src/index.js';
import { HMM, IMPOSSIBLE_LOGIT, baumWelch, compareHmmAndRnn, forward, forwardBackward, hmmAsFilterRnn, hmmAsSamplingRnn, nextSymbolDataset, runFilterRnn, sampleSamplingRnn, samplingRnnHeads, samplingRnnLogProbability, samplingRnnMarginalLogLikelihood, viterbi, type HMMObservations, type HMMSpec } from '../src/classical/index.js';

interface InferenceCase {
  name: string; model: HMMSpec; obs: HMMObservations; filtering: number[][]; logScales: number[]; logLikelihood: number;
  posteriors: number[][]; xi: number[][][]; viterbiPath: number[]; viterbiLogProbability: number; bruteForce: boolean;
}
interface BaumWelchCase {
  name: string; emission: 'discrete' | 'gaussian'; covariance?: 'full' | 'diagonal'; init: HMMSpec;
  sequences: HMMObservations[]; iterations: number; logLikelihoods: number[]; models: Record<string, unknown>[];
}
const load = <T>(f: string): T => JSON.parse(readFileSync(new URL(`./fixtures/classical/${f}`, import.meta.url), 'utf8')) as T;
const inference = load<{ cases: InferenceCase[] }>('hmm_inference.json').cases;
const bw = load<{ cases: BaumWelchCase[] }>('hmm_baum_welch.json').cases;

const REL = 1e-9;
/** max |a - b| / max(1, |b|) over nested arrays (same structure asserted). */
function relErr(a: unknown, b: unknown): number {
  if (typeof b === 'number') {
    expect(typeof a).toBe('number');
    return Math.abs((a as number) - b) / Math.max(1, Math.abs(b));
  }
  const x = Array.from(a as ArrayLike<unknown>), y = b as unknown[];
  expect(x.length).toBe(y.length);
  return x.reduce<number>((m, v, i) => Math.max(m, relErr(v, y[i])), 0);
}

describe('HMM inference against NumPy (1e-9 relative)', () => {
  it.each(inference.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const hmm = new HMM(c.model);
    const f = forward(hmm, c.obs);
    expect(relErr(f.filtering, c.filtering)).toBeLessThan(REL);
    expect(relErr(f.logScales, c.logScales)).toBeLessThan(REL);
    expect(relErr(f.logLikelihood, c.logLikelihood)).toBeLessThan(REL);
    const fb = forwardBackward(hmm, c.obs);
    expect(relErr(fb.posteriors, c.posteriors)).toBeLessThan(REL);
    expect(relErr(fb.xi, c.xi)).toBeLessThan(REL);
    expect(fb.logLikelihood).toBe(f.logLikelihood);
    const summed = forwardBackward(hmm, c.obs, { xi: 'sum' });
    expect(summed.xi).toEqual([]);
    const want = c.xi.reduce((acc, m) => acc.map((r, i) => r.map((v, j) => v + m[i]![j]!)));
    expect(relErr(summed.xiSum, want)).toBeLessThan(REL);
    const v = viterbi(hmm, c.obs);
    expect(Array.from(v.path)).toEqual(c.viterbiPath);
    expect(relErr(v.logProbability, c.viterbiLogProbability)).toBeLessThan(REL);
    expect(relErr(hmm.logJoint(v.path, c.obs), c.viterbiLogProbability)).toBeLessThan(REL);
  });

  it('the small cases were checked by brute-force enumeration in the generator', () => {
    expect(inference.filter((c) => c.bruteForce).map((c) => c.name)).toEqual(
      ['discrete_k2_m3', 'discrete_k3_m4_zero_transition', 'gaussian_k2_d1', 'gaussian_k3_d2_full']);
  });
});

describe('Baum-Welch against NumPy, parameters after every iteration (1e-9 relative)', () => {
  it.each(bw.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const models: HMM[] = [];
    const r = baumWelch(c.sequences, {
      states: c.init.pi.length, emission: c.emission, covariance: c.covariance, init: c.init,
      iterations: c.iterations, tol: 0, onIteration: ({ hmm }) => models.push(hmm),
    });
    expect(r.iterations).toBe(c.iterations);
    expect(r.converged).toBe(false);
    expect(relErr(r.logLikelihoods, c.logLikelihoods)).toBeLessThan(REL);
    for (let k = 0; k < c.iterations; k++) {
      const got = models[k]!.toSpec() as unknown as Record<string, unknown>;
      for (const [key, want] of Object.entries(c.models[k]!)) expect(relErr(got[key], want), `${key} @ ${k + 1}`).toBeLessThan(REL);
    }
    expect(r.hmm).toBe(models[models.length - 1]);
    for (let k = 1; k < r.logLikelihoods.length; k++) {
      expect(r.logLikelihoods[k]!).toBeGreaterThanOrEqual(r.logLikelihoods[k - 1]! - 1e-9 * Math.abs(r.logLikelihoods[k - 1]!));
    }
  });
});

describe('Baum-Welch from a seeded initialisation', () => {
  const truth = new HMM({
    pi: [0.6, 0.4], transitions: [[0.9, 0.1], [0.2, 0.8]], emissions: [[0.8, 0.15, 0.05], [0.1, 0.3, 0.6]],
  });
  const seqs = Array.from({ length: 20 }, (_, n) => truth.sample(30, 100 + n).observations as Int32Array);

  it('log-likelihoods are non-decreasing (up to 1e-12 relative) and it converges', () => {
    const r = baumWelch(seqs, { states: 2, emission: 'discrete', seed: 3, iterations: 500, tol: 1e-8 });
    expect(r.converged).toBe(true);
    expect(r.logLikelihoods.length).toBe(r.iterations + 1);
    for (let k = 1; k < r.logLikelihoods.length; k++) {
      expect(r.logLikelihoods[k]! - r.logLikelihoods[k - 1]!).toBeGreaterThan(-1e-12 * Math.abs(r.logLikelihoods[k]!));
    }
    const last = r.logLikelihoods[r.logLikelihoods.length - 1]!;
    expect(last).toBeCloseTo(seqs.reduce((a, s) => a + forward(r.hmm, s).logLikelihood, 0), 9);
    // the fit is at least as likely on its training data as the model that generated it
    expect(last).toBeGreaterThan(seqs.reduce((a, s) => a + forward(truth, s).logLikelihood, 0));
  });

  it('one sequence given bare equals a list of one; Gaussian with a seeded init is monotone too', () => {
    const a = baumWelch(seqs[0]!, { states: 2, emission: 'discrete', symbols: 3, seed: 1, iterations: 5, tol: 0 });
    const b = baumWelch([seqs[0]!], { states: 2, emission: 'discrete', symbols: 3, seed: 1, iterations: 5, tol: 0 });
    expect(a.logLikelihoods).toEqual(b.logLikelihoods);
    const g = new HMM({ pi: [0.5, 0.5], transitions: [[0.95, 0.05], [0.1, 0.9]], means: [[-1], [2]], variances: [[0.3], [0.6]] });
    const gs = Array.from({ length: 4 }, (_, n) => g.sample(50, n).observations as Float64Array[]);
    const r = baumWelch(gs, { states: 2, emission: 'gaussian', covariance: 'diagonal', seed: 2, iterations: 60, tol: 1e-9 });
    for (let k = 1; k < r.logLikelihoods.length; k++) {
      expect(r.logLikelihoods[k]! - r.logLikelihoods[k - 1]!).toBeGreaterThan(-1e-12 * Math.abs(r.logLikelihoods[k]!));
    }
    const means = (r.hmm.emission as { means: Float64Array[] }).means.map((m) => m[0]!).sort((x, y) => x - y);
    expect(means[0]).toBeCloseTo(-1, 0);
    expect(means[1]).toBeCloseTo(2, 0);
  });
});

describe('hmmAsSamplingRnn: exact emulation by a one-hot ReLU RNN with softmax heads', () => {
  const cases = inference.filter((c) => !c.name.endsWith('_long'));

  it.each(cases.map((c) => [c.name, c] as const))('%s: heads, samples, path and marginal log-likelihoods', (_n, c) => {
    const hmm = new HMM(c.model);
    const rnn = hmmAsSamplingRnn(hmm);
    expect(rnn.hiddenSize).toBe(hmm.K + 1);
    // heads: the start unit gives pi, state k gives T[k, :] and E[k, :]; zero probabilities exactly 0
    const start = samplingRnnHeads(rnn, rnn.h0);
    let maxHead = 0;
    start.transition.forEach((p, j) => { maxHead = Math.max(maxHead, Math.abs(p - hmm.pi[j]!)); if (hmm.pi[j] === 0) expect(p).toBe(0); });
    for (let k = 0; k < hmm.K; k++) {
      const h = new Float64Array(hmm.K + 1); h[k] = 1;
      const heads = samplingRnnHeads(rnn, h);
      heads.transition.forEach((p, j) => {
        maxHead = Math.max(maxHead, Math.abs(p - hmm.transitions[k]![j]!));
        if (hmm.transitions[k]![j] === 0) { expect(p).toBe(0); expect(heads.transitionLogits[j]).toBe(IMPOSSIBLE_LOGIT); }
      });
      if (hmm.emission.kind === 'discrete') {
        const E = hmm.emission.probs[k]!;
        heads.emission!.forEach((p, m) => { maxHead = Math.max(maxHead, Math.abs(p - E[m]!)); if (E[m] === 0) expect(p).toBe(0); });
      } else {
        expect(Array.from(heads.mean!)).toEqual(Array.from(hmm.emission.means[k]!));
      }
    }
    expect(maxHead).toBeLessThan(1e-15);
    // sampling with the same seed gives the same states and observations
    for (const seed of [0, 7]) {
      const a = hmm.sample(3000, seed), b = sampleSamplingRnn(rnn, 3000, seed);
      expect(Array.from(b.states)).toEqual(Array.from(a.states));
      expect(b.observations).toEqual(a.observations);
    }
    // path log-probability = the HMM's joint, on the Viterbi path and on a sampled path
    const v = viterbi(hmm, c.obs);
    expect(relErr(samplingRnnLogProbability(rnn, hmm, v.path, c.obs), c.viterbiLogProbability)).toBeLessThan(1e-12);
    const s = hmm.sample(c.obs.length, 3).states;
    const joint = hmm.logJoint(s, c.obs);
    if (Number.isFinite(joint)) expect(relErr(samplingRnnLogProbability(rnn, hmm, s, c.obs), joint)).toBeLessThan(1e-12);
    else expect(samplingRnnLogProbability(rnn, hmm, s, c.obs)).toBeLessThan(IMPOSSIBLE_LOGIT / 2);
    // marginal by summing the RNN's path probabilities over all K^T paths = the forward algorithm's
    expect(relErr(samplingRnnMarginalLogLikelihood(rnn, hmm, c.obs), c.logLikelihood)).toBeLessThan(1e-12);
  });
});

describe('hmmAsFilterRnn: the forward algorithm as a normalised multiplicative RNN', () => {
  const discrete = inference.filter((c) => c.model.emissions !== undefined);

  it.each(discrete.map((c) => [c.name, c] as const))('%s: filtering and log-likelihood to 1e-9 (also in log space)', (_n, c) => {
    const hmm = new HMM(c.model);
    const rnn = hmmAsFilterRnn(hmm);
    for (const logSpace of [false, true]) {
      const r = runFilterRnn(rnn, c.obs as number[], { logSpace });
      expect(relErr(r.filtering, c.filtering)).toBeLessThan(REL);
      expect(relErr(r.logNormalizers, c.logScales)).toBeLessThan(REL);
      expect(relErr(r.logLikelihood, c.logLikelihood)).toBeLessThan(REL);
      r.hidden.forEach((h) => expect(h[hmm.K]).toBe(0));
    }
  });

  it('no drift over 5000 steps: max |RNN - forward| stays at rounding level', () => {
    const hmm = new HMM(discrete[1]!.model);
    const obs = hmm.sample(5000, 9).observations as Int32Array;
    const f = forward(hmm, obs);
    const r = runFilterRnn(hmmAsFilterRnn(hmm), obs);
    let err = 0;
    r.filtering.forEach((row, t) => row.forEach((v, k) => { err = Math.max(err, Math.abs(v - f.filtering[t]![k]!)); }));
    expect(err).toBeLessThan(1e-12);
    expect(Math.abs(r.logLikelihood - f.logLikelihood)).toBeLessThan(1e-9 * Math.abs(f.logLikelihood));
  });

  it('an impossible observation: -Infinity everywhere, forwardBackward throws naming obs', () => {
    const hmm = new HMM({ pi: [1, 0], transitions: [[1, 0], [0, 1]], emissions: [[1, 0], [0, 1]] });
    const f = forward(hmm, [0, 1, 0]);
    expect(f.logLikelihood).toBe(-Infinity);
    expect(Array.from(f.filtering[0]!)).toEqual([1, 0]);
    expect(f.filtering[1]!.every(Number.isNaN)).toBe(true);
    expect(runFilterRnn(hmmAsFilterRnn(hmm), [0, 1, 0]).logLikelihood).toBe(-Infinity);
    expect(runFilterRnn(hmmAsFilterRnn(hmm), [0, 1, 0], { logSpace: true }).logLikelihood).toBe(-Infinity);
    expect(viterbi(hmm, [0, 1, 0]).logProbability).toBe(-Infinity);
    expect(() => forwardBackward(hmm, [0, 1])).toThrow(expect.objectContaining({ argument: 'obs' }));
    expect(() => hmmAsFilterRnn(new HMM(inference.find((c) => c.name === 'gaussian_k2_d1')!.model))).toThrow(UnsupportedError);
  });
});

describe('HMM vs a trained GRU on sequences from a known HMM (seed 1)', () => {
  beforeAll(async () => {
    await init({ simd: 'simd', force: true });
  });

  it('held-out log-likelihood per symbol: Baum-Welch within 0.01 nats of the true model, the GRU within 0.02, both far above unigram', () => {
    const truth = new HMM({
      pi: [0.5, 0.3, 0.2],
      transitions: [[0.9, 0.07, 0.03], [0.05, 0.9, 0.05], [0.04, 0.06, 0.9]],
      emissions: [[0.7, 0.15, 0.1, 0.05], [0.05, 0.15, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]],
    });
    const r = compareHmmAndRnn({ hmm: truth, seed: 1, restarts: 2, baumWelchIterations: 150 });
    const p = r.perSymbol;
    // measured: true -1.1547, Baum-Welch -1.1558, GRU -1.1609, unigram -1.3426 (nats per symbol, 8000 symbols)
    expect(r.symbols).toBe(200 * 40);
    expect(Math.abs(p.baumWelch - p.trueHmm)).toBeLessThan(0.01);
    expect(p.trueHmm - p.rnn).toBeLessThan(0.02);
    expect(p.rnn - p.trueHmm).toBeLessThan(0.01);
    expect(p.baumWelch - p.unigram).toBeGreaterThan(0.15);
    expect(p.rnn - p.unigram).toBeGreaterThan(0.15);
    expect(r.seconds.baumWelch + r.seconds.rnn).toBeLessThan(20);
  });

  it('nextSymbolDataset: a zero start input, then the one-hot of the previous symbol', () => {
    const d = nextSymbolDataset([Int32Array.from([2, 0, 1])], 3);
    expect(Array.from((d.inputs as { data: Float32Array }).data)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0]);
    expect(Array.from((d.targets as { data: Float32Array }).data)).toEqual([2, 0, 1]);
    expect(() => nextSymbolDataset([[0, 1], [0]], 3)).toThrow(expect.objectContaining({ argument: 'sequences' }));
  });
});

describe('argument checks', () => {
  const good = { pi: [0.6, 0.4], transitions: [[0.7, 0.3], [0.4, 0.6]], emissions: [[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]] };
  const throwsWith = (f: () => unknown, cls: typeof InvalidArgumentError | typeof ShapeError, argument: string): void => {
    let err: unknown;
    try { f(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(cls);
    expect((err as { argument: string }).argument).toBe(argument);
  };

  it.each([
    ['a transition row not summing to 1', { ...good, transitions: [[0.7, 0.2], [0.4, 0.6]] }, InvalidArgumentError, 'transitions'],
    ['a negative initial probability', { ...good, pi: [1.2, -0.2] }, InvalidArgumentError, 'pi'],
    ['an emission row summing to 1 + 2e-9', { ...good, emissions: [[0.5, 0.4, 0.1 + 2e-9], [0.1, 0.3, 0.6]] }, InvalidArgumentError, 'emissions'],
    ['transitions K x (K+1)', { ...good, transitions: [[0.7, 0.3, 0], [0.4, 0.6, 0]] }, ShapeError, 'transitions'],
    ['emissions with K+1 rows', { ...good, emissions: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }, ShapeError, 'emissions'],
    ['a non-finite entry', { ...good, pi: [NaN, 1] }, InvalidArgumentError, 'pi'],
    ['two emission models', { ...good, means: [[0], [1]], variances: [[1], [1]] }, InvalidArgumentError, 'spec'],
    ['covariances of the wrong size', { pi: good.pi, transitions: good.transitions, means: [[0, 0], [1, 1]], covariances: [[[1]], [[1]]] }, ShapeError, 'covariances'],
    ['a covariance that is not positive definite', { pi: good.pi, transitions: good.transitions, means: [[0, 0], [1, 1]], covariances: [[[1, 2], [2, 1]], [[1, 0], [0, 1]]] }, InvalidArgumentError, 'covariances'],
    ['a zero variance', { pi: good.pi, transitions: good.transitions, means: [[0], [1]], variances: [[1], [0]] }, InvalidArgumentError, 'variances'],
  ] as const)('HMM: %s', (_n, spec, cls, arg) => throwsWith(() => new HMM(spec as HMMSpec), cls, arg));

  it('distributions within 1e-9 of summing to 1 are accepted', () => {
    expect(new HMM({ ...good, pi: [0.6, 0.4 + 5e-10] }).K).toBe(2);
  });

  it('observations, states and options', () => {
    const hmm = new HMM(good);
    throwsWith(() => forward(hmm, [0, 3]), InvalidArgumentError, 'obs');
    throwsWith(() => viterbi(hmm, [0, 1.5]), InvalidArgumentError, 'obs');
    throwsWith(() => forwardBackward(hmm, []), InvalidArgumentError, 'obs');
    throwsWith(() => forwardBackward(hmm, [0, 1], { xi: 'none' as 'sum' }), InvalidArgumentError, 'options.xi');
    throwsWith(() => hmm.logJoint([0], [0, 1]), ShapeError, 'states');
    throwsWith(() => hmm.logJoint([0, 2], [0, 1]), InvalidArgumentError, 'states');
    throwsWith(() => hmm.sample(-1), InvalidArgumentError, 'T');
    const g = new HMM({ pi: [1, 0], transitions: [[0.5, 0.5], [0.5, 0.5]], means: [[0, 0], [1, 1]], variances: [[1, 1], [1, 1]] });
    throwsWith(() => forward(g, [[0, 0], [1, 1, 1]]), ShapeError, 'obs');
    throwsWith(() => baumWelch([[0, 1], [0, 5]], { states: 2, emission: 'discrete', init: good }), InvalidArgumentError, 'obs[1]');
    throwsWith(() => baumWelch([0, 1], { states: 0, emission: 'discrete' }), InvalidArgumentError, 'options.states');
    throwsWith(() => baumWelch([0, 1], { states: 2, emission: 'poisson' as 'discrete' }), InvalidArgumentError, 'options.emission');
    throwsWith(() => baumWelch([0, 1], { states: 3, emission: 'discrete', init: good }), InvalidArgumentError, 'init');
    throwsWith(() => baumWelch([0, 1], { states: 2, emission: 'gaussian', init: good }), InvalidArgumentError, 'init');
    throwsWith(() => baumWelch([0, 1], { states: 2, emission: 'discrete', tol: -1 }), InvalidArgumentError, 'options.tol');
    throwsWith(() => baumWelch([], { states: 2, emission: 'discrete' }), InvalidArgumentError, 'data');
    throwsWith(() => runFilterRnn(hmmAsFilterRnn(hmm), [0, 4]), InvalidArgumentError, 'obs');
    throwsWith(() => samplingRnnMarginalLogLikelihood(hmmAsSamplingRnn(hmm), hmm, new Array(30).fill(0)), InvalidArgumentError, 'obs');
    throwsWith(() => forward({} as HMM, [0]), InvalidArgumentError, 'hmm');
  });
});
