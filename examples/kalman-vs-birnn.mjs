// Kalman filter vs RTS smoother vs a unidirectional and a bidirectional GRU, estimating the hidden state of a
// 2-state damped oscillator from one noisy observation (y_t = h_t[0] + v_t). The filter is the best causal
// estimator, the smoother the best non-causal one; the RNNs are trained on simulated (y, h) pairs and should land
// just above them. Then EM refits the model from a single long output sequence alone.
//
//   npm run build && node examples/kalman-vs-birnn.mjs
import { init } from '../dist/index.js';
import { compareFilterSmootherRnn, oscillatorModel, fitStateSpaceEm, stateSpaceLogLikelihood } from '../dist/classical/index.js';

await init();

const t0 = performance.now();
const r = compareFilterSmootherRnn({ steps: 64, trainSequences: 512, testSequences: 128, hiddenSize: 24, epochs: 20, seed: 1 });
const row = (name, v, note) => console.log(`| ${name.padEnd(26)} | ${v.toFixed(4)} | ${note.padEnd(55)} |`);
console.log('State estimation on 128 held-out sequences of 64 steps (MSE of h_t, mean over steps and both states):\n');
console.log(`| ${'estimator'.padEnd(26)} | MSE    | ${'note'.padEnd(55)} |`);
console.log(`|${'-'.repeat(28)}|--------|${'-'.repeat(57)}|`);
row('Kalman filter (causal)', r.mse.filter, `its covariances predict ${r.expectedMse.filter.toFixed(4)}`);
row('RTS smoother (non-causal)', r.mse.smoother, `its covariances predict ${r.expectedMse.smoother.toFixed(4)}`);
row('GRU, unidirectional', r.mse.rnn, `${(100 * (r.mse.rnn / r.mse.filter - 1)).toFixed(1)}% above the filter; trained in ${r.trainSeconds.rnn.toFixed(1)} s`);
row('GRU, bidirectional', r.mse.birnn, `${(100 * (r.mse.birnn / r.mse.smoother - 1)).toFixed(1)}% above the smoother; trained in ${r.trainSeconds.birnn.toFixed(1)} s`);
console.log(`\norder: smoother < filter: ${r.mse.smoother < r.mse.filter}; bidirectional < unidirectional: ${r.mse.birnn < r.mse.rnn}`);
console.log(`held-out log-likelihood under the true model: ${r.logLikelihood.toFixed(2)}`);

// EM on one long sequence of outputs only.
const ss = oscillatorModel();
const { outputs } = ss.simulate(2000, { seed: 42 });
const fitted = fitStateSpaceEm(outputs, { stateSize: 2, iterations: 100, tol: 1e-9 });
const llTrue = stateSpaceLogLikelihood(ss, outputs);
const lls = fitted.logLikelihoods;
const nonDecreasing = lls.every((v, i) => i === 0 || v - lls[i - 1] >= -1e-9 * Math.abs(v));
const eigs = (A) => {
  const a = A.get(0, 0), b = A.get(0, 1), c = A.get(1, 0), d = A.get(1, 1);
  const tr = a + d, det = a * d - b * c, disc = tr * tr / 4 - det;
  return disc < 0 ? `${(tr / 2).toFixed(4)} +- ${Math.sqrt(-disc).toFixed(4)}j (|l| = ${Math.sqrt(det).toFixed(4)})`
    : `${(tr / 2 + Math.sqrt(disc)).toFixed(4)}, ${(tr / 2 - Math.sqrt(disc)).toFixed(4)}`;
};
console.log(`\nEM on T = 2000 outputs (2 states, start 'pca'): ${fitted.iterations} iterations, converged ${fitted.converged}, ` +
  `log-likelihood ${lls[0].toFixed(2)} -> ${fitted.logLikelihood.toFixed(2)} (true model ${llTrue.toFixed(2)}), non-decreasing ${nonDecreasing}`);
console.log(`  eigenvalues of A: true ${eigs(ss.A)}, fitted ${eigs(fitted.model.A)}; R true ${ss.R.get(0, 0)}, fitted ${fitted.model.R.get(0, 0).toFixed(4)}`);
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s`);
