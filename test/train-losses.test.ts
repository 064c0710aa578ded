// Losses against PyTorch (float64) fixtures from test/fixtures/gen_optim.py.
//
// The fixtures' inputs are float32 values, passed here as Float32Array (what a model's output is). The loss is
// computed in float64 and must match PyTorch's to 1e-12 relative; the gradient is returned as float32 and must
// match elementwise to 1e-6 relative (float32 rounding alone is 6e-8), with exact zeros where PyTorch has zeros
// (masked, padded or ignored elements). Masked cases are compared with PyTorch's loss on the packed sequence.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError } from '../src/index.js';
import { crossEntropyLoss, lengthsMask, mseLoss, type Reduction } from '../src/train/losses.js';
import { fixturesDir } from './helpers.js';

const LOSS_REL = 1e-12;
const GRAD_REL = 1e-6;

type MaskSpec = { lengths: number[]; batchFirst: boolean } | number[] | undefined;
interface MseCase {
  name: string; pred: number[]; target: number[]; shape: number[]; reduction: Reduction; mask?: MaskSpec;
  loss: number; grad: number[];
}
interface CeCase {
  name: string; logits: number[]; targets: number[]; shape: number[]; reduction: Reduction; ignoreIndex?: number;
  labelSmoothing?: number; mask?: MaskSpec; loss: number; grad: number[];
}
const fx = JSON.parse(readFileSync(`${fixturesDir}optim/losses.json`, 'utf8')) as { mse: MseCase[]; crossEntropy: CeCase[] };

/** The mask for a fixture: from lengths over the (T, B) or (B, T) leading dimensions, or given elementwise. */
function maskOf(spec: MaskSpec, shape: number[]): Uint8Array | null {
  if (spec === undefined) return null;
  if (Array.isArray(spec)) return Uint8Array.from(spec);
  const [d0, d1] = shape as [number, number];
  return spec.batchFirst ? lengthsMask(spec.lengths, d1, d0, true) : lengthsMask(spec.lengths, d0, d1, false);
}

function expectLoss(got: number, want: number, what: string): void {
  expect(Math.abs(got - want), `${what}: loss ${got} vs ${want}`).toBeLessThanOrEqual(LOSS_REL * Math.abs(want));
}

function expectGrad(got: Float32Array, want: number[], what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (want[i] === 0) expect(got[i], `${what}: grad[${i}] is exactly 0`).toBe(0);
    else expect(Math.abs(got[i]! - want[i]!), `${what}: grad[${i}] ${got[i]} vs ${want[i]}`)
      .toBeLessThanOrEqual(GRAD_REL * Math.abs(want[i]!));
  }
}

describe('mseLoss matches torch.nn.functional.mse_loss', () => {
  it('the fixture covers mean, sum, lengths masks in both layouts and an elementwise mask', () => {
    expect(fx.mse.map((c) => c.name)).toEqual(expect.arrayContaining(
      ['mean', 'sum', 'lengths_mean', 'lengths_sum', 'lengths_batch_first', 'elementwise_mask']));
  });
  for (const c of fx.mse) {
    it(c.name, () => {
      const r = mseLoss(Float32Array.from(c.pred), Float32Array.from(c.target),
        { mask: maskOf(c.mask, c.shape), reduction: c.reduction });
      expectLoss(r.loss, c.loss, c.name);
      expectGrad(r.grad, c.grad, c.name);
      // float64 inputs give the same (the inputs are float32 values)
      expectLoss(mseLoss(c.pred, c.target, { mask: maskOf(c.mask, c.shape), reduction: c.reduction }).loss, c.loss, c.name);
    });
  }
});

describe('crossEntropyLoss matches torch.nn.functional.cross_entropy', () => {
  it('the fixture covers mean, sum, ignore_index, label smoothing, large logits and lengths masks', () => {
    expect(fx.crossEntropy.map((c) => c.name)).toEqual(expect.arrayContaining(['mean', 'sum', 'ignore_default',
      'ignore_custom', 'label_smoothing', 'large_logits', 'lengths_mean', 'lengths_sum', 'lengths_batch_first']));
  });
  for (const c of fx.crossEntropy) {
    it(c.name, () => {
      const r = crossEntropyLoss(Float32Array.from(c.logits), Int32Array.from(c.targets), {
        mask: maskOf(c.mask, c.shape), reduction: c.reduction, ignoreIndex: c.ignoreIndex,
        labelSmoothing: c.labelSmoothing,
      });
      expect(Number.isFinite(r.loss)).toBe(true);
      expectLoss(r.loss, c.loss, c.name);
      expectGrad(r.grad, c.grad, c.name);
    });
  }
});

describe('loss edge cases and validation', () => {
  it('a mean over nothing is NaN (as PyTorch) with a zero gradient', () => {
    const m = mseLoss([1, 2, 3], [0, 0, 0], { mask: [0, 0, 0] });
    expect(m.loss).toBeNaN();
    expect(Array.from(m.grad)).toEqual([0, 0, 0]);
    expect(mseLoss([1, 2], [0, 0], { mask: [false, false], reduction: 'sum' }).loss).toBe(0);
    const ce = crossEntropyLoss([1, 2, 3, 4], [-100, -100]);
    expect(ce.loss).toBeNaN();
    expect(Array.from(ce.grad)).toEqual([0, 0, 0, 0]);
    expect(crossEntropyLoss([1, 2], [-100], { reduction: 'sum' }).loss).toBe(0);
  });

  it('mseLoss: a mask entry per row covers the trailing features; default reduction is mean', () => {
    const pred = [1, 2, 3, 4, 5, 6];
    const target = [0, 0, 0, 0, 0, 0];
    const r = mseLoss(pred, target, { mask: [1, 0, 1] }); // rows of 2
    expect(r.loss).toBeCloseTo((1 + 4 + 25 + 36) / 4, 14);
    expect(Array.from(r.grad)).toEqual([0.5, 1, 0, 0, 2.5, 3]);
    expect(mseLoss(pred, target).loss).toBeCloseTo(91 / 6, 14);
  });

  it('crossEntropyLoss: huge logits stay finite, gradient rows sum to zero', () => {
    const r = crossEntropyLoss(new Float32Array([3e38, -3e38, 1e38, 0, 0, 0]), new Int32Array([1, 2]));
    expect(Number.isFinite(r.loss)).toBe(true);
    const a = Math.fround(3e38);
    expect(Math.abs(r.loss - (2 * a + Math.log(3)) / 2)).toBeLessThanOrEqual(1e-15 * a);
    for (let row = 0; row < 2; row++) {
      expect(Math.abs(r.grad[row * 3]! + r.grad[row * 3 + 1]! + r.grad[row * 3 + 2]!)).toBeLessThan(1e-7);
    }
  });

  it('lengthsMask lays out (T, B) and (B, T)', () => {
    expect(Array.from(lengthsMask([3, 1], 3, 2))).toEqual([1, 1, 1, 0, 1, 0]);
    expect(Array.from(lengthsMask([3, 1], 3, 2, true))).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(lengthsMask([0, 0], 2, 2))).toEqual([0, 0, 0, 0]);
    expect(lengthsMask([], 5, 0).length).toBe(0);
  });

  it('validates arguments, naming them', () => {
    const arg = (f: () => unknown, name: string, type: typeof InvalidArgumentError | typeof ShapeError = InvalidArgumentError): void => {
      let caught: unknown;
      try {
        f();
      } catch (e) {
        caught = e;
      }
      expect(caught, name).toBeInstanceOf(type);
      expect((caught as { argument: string }).argument).toBe(name);
    };
    arg(() => mseLoss([1, 2], [1]), 'target', ShapeError);
    arg(() => mseLoss(null as unknown as number[], [1]), 'pred');
    arg(() => mseLoss([1, 2], [1, 2], { reduction: 'none' as Reduction }), 'options.reduction');
    arg(() => mseLoss([1, 2, 3], [1, 2, 3], { mask: [1, 1] }), 'options.mask', ShapeError);
    arg(() => crossEntropyLoss([1, 2, 3], [0, 1]), 'logits', ShapeError);
    arg(() => crossEntropyLoss([1, 2, 3, 4], [0, 2]), 'targets[1]');
    arg(() => crossEntropyLoss([1, 2, 3, 4], [0, -1]), 'targets[1]');
    arg(() => crossEntropyLoss([1, 2, 3, 4], [0, 0.5]), 'targets[1]');
    arg(() => crossEntropyLoss([1, 2, 3, 4], [0, 1], { mask: [1, 1, 1, 1] }), 'options.mask', ShapeError);
    arg(() => crossEntropyLoss([1, 2, 3, 4], [0, 1], { labelSmoothing: 1.5 }), 'options.labelSmoothing');
    arg(() => crossEntropyLoss([1, 2, 3, 4], [0, 1], { ignoreIndex: 0.5 }), 'options.ignoreIndex');
    // masked-out targets are not checked (padded steps may hold anything)
    expect(crossEntropyLoss([1, 2, 3, 4], [0, 99], { mask: [1, 0] }).loss).toBeCloseTo(Math.log(1 + Math.E), 14);
    arg(() => lengthsMask([1, 2], 3, 3), 'lengths', ShapeError);
    arg(() => lengthsMask([1, 4], 3, 2), 'lengths[1]');
    arg(() => lengthsMask([1, 2], -1, 2), 'T');
  });
});
