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
