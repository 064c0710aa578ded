// Validates the float64 TypeScript reference (test/reference.ts) independently of the engine: it must match every
// PyTorch float64 forward fixture (test/fixtures/forward/*.json) to 1e-12 absolute. The gradient checks
// (test/gradcheck.test.ts) take their finite differences on this reference, so it has to be right on its own.
import { describe, expect, it } from 'vitest';
import { expectClose, loadForwardFixtures } from './helpers.js';
import { referenceForward, referenceParamShapes } from './reference.js';

const TOL = 1e-12;
const fixtures = loadForwardFixtures();

it('there are forward fixtures to check against', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(30);
});

describe('the float64 reference matches PyTorch (float64) to 1e-12', () => {
  for (const fx of fixtures) {
    it(fx.name, () => {
      const cfg = { mode: fx.mode, ...fx.options };
      // The reference's parameter list is exactly the fixture's state dict (names, shapes, order).
      expect(referenceParamShapes(cfg)).toEqual(
        Object.entries(fx.stateDict).map(([name, t]) => ({ name, shape: t.shape })));
      const r = referenceForward(cfg, fx.stateDict, fx.input, { h0: fx.h0, c0: fx.c0, lengths: fx.lengths });
      expectClose(r.output, fx.output, TOL, 'output');
      expectClose(r.hN, fx.hN, TOL, 'hN');
      if (fx.cN) expectClose(r.cN!, fx.cN, TOL, 'cN');
      else expect(r.cN).toBeUndefined();
    });
  }
});
