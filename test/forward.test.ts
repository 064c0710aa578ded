// Forward pass against PyTorch (float64) fixtures from test/fixtures/gen_forward.py. Tolerance 1e-5 absolute:
// the engine computes in float32.
import { beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, init, type RecurrentLayer } from '../src/index.js';
import { expectClose, loadForwardFixtures, type ForwardFixture } from './helpers.js';

const TOL = 1e-5;

export function build(fx: ForwardFixture): RecurrentLayer {
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

beforeAll(async () => {
  await init();
});

describe('forward matches PyTorch', () => {
  it('has the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
  });
  for (const fx of fixtures) {
    it(fx.name, () => {
      const m = build(fx);
      m.loadStateDict(fx.stateDict);
      const r = m.forward(fx.input, { h0: fx.h0, c0: fx.c0, lengths: fx.lengths });
      expectClose(r.output, fx.output, TOL, 'output');
      expectClose(r.hN, fx.hN, TOL, 'hN');
      if (fx.cN) expectClose(r.cN!, fx.cN, TOL, 'cN');
      else expect(r.cN).toBeUndefined();
      m.dispose();
    });
  }
});
