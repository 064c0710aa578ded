// Forward pass against PyTorch (float64) fixtures from test/fixtures/gen_forward.py, for both builds of the
// kernels. Tolerance 1e-5 absolute: the engine computes in float32.
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, init, type Engine, type RecurrentLayer } from '../src/index.js';
import { expectClose, loadForwardFixtures, maxAbsDiff, type ForwardFixture } from './helpers.js';

const TOL = 1e-5;

function build(fx: ForwardFixture): RecurrentLayer {
  const o = fx.options;
  const common = {
    inputSize: o.inputSize, hiddenSize: o.hiddenSize, numLayers: o.numLayers, bidirectional: o.bidirectional,
    batchFirst: o.batchFirst, bias: o.bias, seed: 1,
  };
  if (fx.mode === 'LSTM') return new LSTM({ ...common, projSize: o.projSize });
  if (fx.mode === 'GRU') return new GRU(common);
  return new RNN({ ...common, nonlinearity: fx.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
}

const fixtures = loadForwardFixtures();
const results = new Map<string, Map<string, Float32Array>>();

it('has a fixture for every configuration the engine issue lists', () => {
  const names = fixtures.map((f) => f.name);
  for (const want of ['rnn_tanh_1l', 'rnn_relu_1l', 'lstm_1l', 'gru_1l', 'lstm_2l_bi', 'gru_2l_bi', 'rnn_tanh_2l_bi',
    'lstm_nobias', 'gru_nobias', 'rnn_tanh_nobias', 'lstm_proj', 'lstm_batch_first', 'gru_batch_first',
    'lstm_h0c0', 'gru_h0', 'rnn_relu_h0', 'lstm_lengths_bi', 'gru_lengths', 'rnn_tanh_lengths_bi',
    'lstm_unbatched']) {
    expect(names).toContain(want);
  }
});

for (const flavour of ['simd', 'relaxed'] as const) {
  describe(`forward matches PyTorch (${flavour} build)`, () => {
    let engine: Engine;
    it('initialises', async () => {
      engine = await init({ simd: flavour, force: true });
      expect(engine.flavour).toBe(flavour);
    });
    for (const fx of fixtures) {
      it(fx.name, () => {
        const m = build(fx);
        expect(m.engine).toBe(engine);
        m.loadStateDict(fx.stateDict);
        const r = m.forward(fx.input, { h0: fx.h0, c0: fx.c0, lengths: fx.lengths });
        expectClose(r.output, fx.output, TOL, 'output');
        expectClose(r.hN, fx.hN, TOL, 'hN');
        if (fx.cN) expectClose(r.cN!, fx.cN, TOL, 'cN');
        else expect(r.cN).toBeUndefined();
        if (!results.has(fx.name)) results.set(fx.name, new Map());
        results.get(fx.name)!.set(flavour, r.output.data);
        m.dispose();
      });
    }
    // assembly/gemv.ts sums each column seed-first, then k = 0, 1, ... with one multiply-add each, as the panel
    // path's two-row tiles do; with an even T the input projection's rows are paired too (its single-row tail sums
    // in another order), so a batch-1 sequence (the dot-product path) gives exactly the numbers it gets as row 0 of
    // a batch of two (the panel path). The GRU's and a projected LSTM's batch-1 steps order their sums otherwise.
    it('batch 1 (dot-product path) gives row 0 of a batch of two bit for bit: LSTM, RNN tanh/relu, even T', () => {
      const T = 24, I = 5;
      for (const make of [
        () => new LSTM({ inputSize: I, hiddenSize: 52, seed: 4 }),
        () => new RNN({ inputSize: I, hiddenSize: 40, seed: 5 }),
        () => new RNN({ inputSize: I, hiddenSize: 36, nonlinearity: 'relu', seed: 6 }),
      ]) {
        const m = make();
        const x1 = new Float32Array(T * I).map((_, i) => Math.sin(0.7 * i + 0.3));
        const x2 = new Float32Array(T * 2 * I);
        for (let t = 0; t < T; t++) {
          for (let i = 0; i < I; i++) {
            x2[(2 * t) * I + i] = x1[t * I + i]!;
            x2[(2 * t + 1) * I + i] = Math.cos(1.3 * (t * I + i));
          }
        }
        const a = m.forward({ data: x1, shape: [T, 1, I] });
        const b = m.forward({ data: x2, shape: [T, 2, I] });
        const H = m.outputSize;
        const row0 = new Float32Array(T * H);
        for (let t = 0; t < T; t++) row0.set(b.output.data.subarray(2 * t * H, 2 * t * H + H), t * H);
        let differ = 0;
        for (let i = 0; i < row0.length; i++) if (!Object.is(row0[i], a.output.data[i])) differ++;
        expect(differ, `${m.mode} H${m.hiddenSize}: ${differ} of ${row0.length} outputs differ`).toBe(0);
        expect(maxAbsDiff(a.output.data, row0)).toBe(0);
        m.dispose();
      }
    });
  });
}

it('the relaxed and plain SIMD builds agree within 1e-6', () => {
  let worst = 0;
  for (const [, byFlavour] of results) {
    const a = byFlavour.get('simd')!;
    const b = byFlavour.get('relaxed')!;
    worst = Math.max(worst, maxAbsDiff(a, b));
  }
  expect(results.size).toBe(fixtures.length);
  expect(worst).toBeLessThanOrEqual(1e-6);
});

// Batch 1 over at least GEMV_MIN_T steps takes the dot-product path of assembly/gemv.ts (W_hh repacked per call);
// the fixtures named *_b1_t* exist to cover it against PyTorch above. Here, at sizes the fixtures do not reach, the
// same sequence run as one row (dot-product path) and as two identical rows (the panels' register tiles) must agree
// to rounding: 1e-6 absolute over 40 steps (outputs are bounded by 1; the two paths sum in different orders).
describe('batch 1, dot-product path', () => {
  it('covers the *_b1_t* fixtures: their sequences are at least GEMV_MIN_T long', async () => {
    const e = await init({ force: true });
    const minT = e.constant('GEMV_MIN_T');
    expect(minT).toBeGreaterThan(1);
    const b1 = fixtures.filter((f) => /_b1_t|_unbatched_t/.test(f.name));
    expect(b1.length).toBeGreaterThanOrEqual(9);
    for (const f of b1) expect(f.input.shape[0]).toBeGreaterThanOrEqual(minT);
  });
  for (const flavour of ['simd', 'relaxed'] as const) {
    for (const [mode, H] of [['LSTM', 130], ['LSTM', 256], ['GRU', 130], ['GRU', 256], ['RNN', 130], ['RNN', 256],
      ['LSTM_PROJ', 130]] as const) {
      it(`${mode} H${H} (${flavour}): one row equals each of two identical rows to 1e-6`, async () => {
        await init({ simd: flavour, force: true });
        const I = 24, T = 40;
        const m = mode === 'GRU' ? new GRU({ inputSize: I, hiddenSize: H, seed: 3 })
          : mode === 'RNN' ? new RNN({ inputSize: I, hiddenSize: H, seed: 3 })
          : new LSTM({ inputSize: I, hiddenSize: H, seed: 3, projSize: mode === 'LSTM_PROJ' ? 61 : 0 });
        const x = new Float32Array(T * I).map((_, i) => Math.sin(0.37 * i));
        const x2 = new Float32Array(T * 2 * I);
        for (let t = 0; t < T; t++) for (let b = 0; b < 2; b++) x2.set(x.subarray(t * I, (t + 1) * I), (t * 2 + b) * I);
        const one = m.forward({ data: x, shape: [T, 1, I] });
        const two = m.forward({ data: x2, shape: [T, 2, I] });
        const W = m.outputSize;
        let worst = 0;
        let maxOut = 0;
        for (let t = 0; t < T; t++) {
          for (let b = 0; b < 2; b++) {
            for (let j = 0; j < W; j++) {
              const v = one.output.data[t * W + j]!;
              worst = Math.max(worst, Math.abs(v - two.output.data[(t * 2 + b) * W + j]!));
              maxOut = Math.max(maxOut, Math.abs(v));
            }
          }
        }
        expect(maxOut).toBeGreaterThan(0.05); // a live network, not a sum of zeros
        expect(worst).toBeLessThanOrEqual(1e-6);
        m.dispose();
      });
    }
  }
});
