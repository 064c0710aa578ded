// A linear RNN as a state-space model and as an ARMAX (VARMAX) model: both forms driven by the same inputs and
// the same noise sequences give the same outputs. Then the characteristic polynomial (the AR part), the Markov
// parameters (impulse response) and a least-squares ARX fit that recovers the transfer function.
//
//   npm run build && node examples/varma-equivalence.mjs
import { Random } from '../dist/index.js';
import { rnnCellMap } from '../dist/analysis/index.js';
import { stateSpaceFromRnn, toArmax, simulateArmax, armaxPresample, simulateStateSpace, characteristicPolynomial, markovParameters, transferFunction, fitArx } from '../dist/classical/index.js';

const fmt = (v, d = 5) => (v >= 0 ? ' ' : '') + v.toFixed(d);
const vec = (v, d = 5) => `[${Array.from(v, (x) => fmt(x, d)).join(', ')}]`;

// 1. A 3-state linear RNN h_t = W_hh h_{t-1} + W_ih x_t (1 input), read out by C (2 outputs), with noise.
const map = rnnCellMap({
  weightHh: [[0.5, 0.2, 0.0], [-0.3, 0.6, 0.1], [0.0, 0.25, -0.4]],
  weightIh: [[1.0], [0.5], [-0.2]],
  nonlinearity: 'identity',
});
const qd = [0.04, 0.03, 0.02], rd = [0.01, 0.02];
const ss = stateSpaceFromRnn(map, {
  C: [[1, 0, 0.5], [0, 1, -1]],
  Q: [[qd[0], 0, 0], [0, qd[1], 0], [0, 0, qd[2]]],
  R: [[rd[0], 0], [0, rd[1]]],
});
console.log(`state-space model: n = ${ss.n} states, m = ${ss.m} input, p = ${ss.p} outputs`);

// 2. Same inputs and same noises for both forms.
const T = 12, rng = new Random(2024);
const x = Array.from({ length: T }, () => [rng.normal()]);
const w = Array.from({ length: T }, () => qd.map((q) => Math.sqrt(q) * rng.normal()));
const v = Array.from({ length: T }, () => rd.map((r) => Math.sqrt(r) * rng.normal()));
const h0 = [0.5, -1.0, 0.3];
const yss = simulateStateSpace(ss, x, { w, v }, { h0 }).outputs;
const armax = toArmax(ss);
// From t = 1: the presample (times 1-n..0) w_0 = h_0, y_0 = C h_0, zeros otherwise, encodes the initial state.
const yar = simulateArmax(armax, x, { w, v }, { presample: armaxPresample(ss, h0) });

console.log('\n  t   y (state space)          y (ARMAX)                max |difference|');
let maxDiff = 0;
for (let t = 0; t < T; t++) {
  const d = Math.max(...yss[t].map((a, i) => Math.abs(a - yar[t][i])));
  maxDiff = Math.max(maxDiff, d);
  console.log(`${String(t + 1).padStart(3)}   ${vec(yss[t])}   ${vec(yar[t])}   ${d.toExponential(1)}`);
}
console.log(`max |difference| over t = 1..${T}: ${maxDiff.toExponential(2)}`);

// 3. The ARMAX form: y_t + sum a_i y_{t-i} = sum M_j x_{t-j} + sum N_j w_{t-j} + sum a_j v_{t-j}.
const a = characteristicPolynomial(ss.A);
console.log(`\ncharacteristic polynomial det(zI - A) = [${Array.from(a, (c) => c.toPrecision(6)).join(', ')}]`);
console.log('ARMAX exogenous matrices M_j (2 x 1):', armax.M.map((M) => vec(M.getColumn(0), 4)).join(' '));
const g = markovParameters(ss, 6, { timing: 'rnn' });
console.log('Markov parameters of the RNN (y_t = sum_k G_k x_{t-k}), G_0..G_5:');
g.forEach((G, k) => console.log(`  G_${k} = ${vec(G.getColumn(0))}`));

// 4. ARX least squares on a long noisy record, one output at a time (scalar AR of order n fits each output's
//    row of the ARMAX form; the MA noise biases plain ARX a little, a higher order reduces that).
const N = 4000, rng2 = new Random(7);
const xl = Array.from({ length: N }, () => [rng2.normal()]);
const yl = ss.simulate(xl, { seed: 8 }).outputs;
const tf = transferFunction(ss, { timing: 'rnn' });
const fits = [0, 1].map((i) => fitArx(yl.map((y) => [y[i]]), xl, { na: 6, nb: 6 }));
console.log(`\nARX(6, 6) fits on T = ${N} noisy steps, |H_i(e^{jw})|: true vs fitted`);
console.log('  omega   |H_1| true  |H_1| ARX   |H_2| true  |H_2| ARX');
let maxAbsErr = 0, maxMag = 0;
for (const om of [0, 0.5, 1.5, 3.0]) {
  const z = { re: Math.cos(om), im: Math.sin(om) };
  const Ht = tf.evaluate(z);
  const row = [0, 1].map((i) => {
    const Hf = fits[i].evaluate(z);
    const mt = Math.hypot(Ht.re[i][0], Ht.im[i][0]), mf = Math.hypot(Hf.re[0][0], Hf.im[0][0]);
    maxAbsErr = Math.max(maxAbsErr, Math.hypot(Ht.re[i][0] - Hf.re[0][0], Ht.im[i][0] - Hf.im[0][0]));
    maxMag = Math.max(maxMag, mt);
    return `${mt.toFixed(4).padStart(10)}  ${mf.toFixed(4).padStart(10)}`;
  });
  console.log(`  ${om.toFixed(2)}  ${row.join('  ')}`);
}
console.log(`max |H_fit - H_true| / max |H_true| at these frequencies: ${(maxAbsErr / maxMag).toExponential(2)}`);
