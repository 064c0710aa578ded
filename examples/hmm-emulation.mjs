// Hidden Markov models and RNNs, both ways (run `npm run build` first, then `node examples/hmm-emulation.mjs`).
//
// 1. Any HMM is exactly an RNN: a one-hot ReLU RNN with log-probability softmax heads samples it (same draws
//    as HMM.sample for the same seed), and a normalised multiplicative RNN h_t = normalize(W[o_t] h_{t-1}),
//    W[o] = diag(E[:, o]) T^T, computes the forward algorithm's filtering probabilities and likelihood.
// 2. The reverse: Baum-Welch and a GRU trained with `fit` on sequences from a known HMM, compared by held-out
//    log-likelihood per symbol against the true model and a unigram baseline.
import { init } from '../dist/index.js';
import { HMM, forward, hmmAsFilterRnn, runFilterRnn, hmmAsSamplingRnn, sampleSamplingRnn, compareHmmAndRnn } from '../dist/classical/index.js';

await init();
const t0 = performance.now();

const truth = new HMM({
  pi: [0.5, 0.3, 0.2],
  transitions: [[0.9, 0.07, 0.03], [0.05, 0.9, 0.05], [0.04, 0.06, 0.9]],
  emissions: [[0.7, 0.15, 0.1, 0.05], [0.05, 0.15, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]],
});

// --- exact emulation
const { observations: obs } = truth.sample(2000, 42);
const f = forward(truth, obs);
const filter = runFilterRnn(hmmAsFilterRnn(truth), obs);
const filterLog = runFilterRnn(hmmAsFilterRnn(truth), obs, { logSpace: true });
let maxErr = 0, maxErrLog = 0;
f.filtering.forEach((row, t) => row.forEach((v, k) => {
  maxErr = Math.max(maxErr, Math.abs(filter.filtering[t][k] - v));
  maxErrLog = Math.max(maxErrLog, Math.abs(filterLog.filtering[t][k] - v));
}));

const sampler = hmmAsSamplingRnn(truth);
let sameStates = 0, sameSymbols = 0, total = 0;
for (let seed = 0; seed < 20; seed++) {
  const a = truth.sample(500, seed), b = sampleSamplingRnn(sampler, 500, seed);
  for (let t = 0; t < 500; t++) {
    sameStates += a.states[t] === b.states[t] ? 1 : 0;
    sameSymbols += a.observations[t] === b.observations[t] ? 1 : 0;
    total++;
  }
}

const e = (x) => x.toExponential(2);
console.log('Exact emulation (T = 2000, K = 3 states, M = 4 symbols)');
console.log('  quantity                                        value');
console.log(`  max |filtering RNN - forward algorithm|         ${e(maxErr)}`);
console.log(`  max |log-space filtering RNN - forward|         ${e(maxErrLog)}`);
console.log(`  log-likelihood, HMM forward algorithm           ${f.logLikelihood.toFixed(9)}`);
console.log(`  log-likelihood, filter RNN (sum log normalizer) ${filter.logLikelihood.toFixed(9)}`);
console.log(`  |difference of the log-likelihoods|            ${e(Math.abs(filter.logLikelihood - f.logLikelihood))}`);
console.log(`  sampling agreement, states (sampling RNN)       ${sameStates}/${total}`);
console.log(`  sampling agreement, symbols (sampling RNN)      ${sameSymbols}/${total}`);

// --- the reverse: fit an HMM and a GRU to the same data
const r = compareHmmAndRnn({ hmm: truth, seed: 1, restarts: 2, baumWelchIterations: 150 });
const p = r.perSymbol;
console.log('');
console.log(`Held-out log-likelihood per symbol (${r.symbols} symbols; 300 training sequences of 40)`);
console.log('  model                         nats/symbol   vs true');
const row = (name, v) => console.log(`  ${name.padEnd(30)}${v.toFixed(4).padStart(10)}   ${(v - p.trueHmm).toFixed(4).padStart(7)}`);
row('true HMM', p.trueHmm);
row(`Baum-Welch HMM (${r.baumWelchIterations} it.)`, p.baumWelch);
row('GRU 16 + Linear (fit, 12 ep.)', p.rnn);
row('unigram', p.unigram);
console.log('');
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s (Baum-Welch ${r.seconds.baumWelch.toFixed(1)} s, GRU ${r.seconds.rnn.toFixed(1)} s)`);
