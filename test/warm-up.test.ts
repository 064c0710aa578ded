// init() warms the shared kernels up (src/runtime/warm-up.ts): tiny calls on zeros in a scratch block that it
// frees again. What it must not do: leave a block allocated, write anywhere a model's results depend on, or accept
// an option it does not understand. (What it buys is measured by bench/cold-start, not here.)
import { describe, expect, it } from 'vitest';
import { GRU, InitError, LSTM, RNN, init, type RecurrentLayer } from '../src/index.js';
import { expectIdentical, lcg } from './helpers.js';

const I = 7;
const makers: { name: string; make: () => RecurrentLayer }[] = [
  { name: 'LSTM H40', make: () => new LSTM({ inputSize: I, hiddenSize: 40, seed: 3 }) },
  { name: 'GRU H33 2 layers', make: () => new GRU({ inputSize: I, hiddenSize: 33, numLayers: 2, seed: 4 }) },
  { name: 'RNN H20 bidirectional', make: () => new RNN({ inputSize: I, hiddenSize: 20, bidirectional: true, seed: 5 }) },
];

describe.each(['simd', 'relaxed'] as const)('kernel warm-up, %s build', (simd) => {
  it('frees its scratch block: a fresh engine holds the same blocks and bytes with and without it', async () => {
    const cold = await init({ simd, threads: 1, force: true, warmUp: false });
    const a = cold.stats();
    const warm = await init({ simd, threads: 1, force: true });
    const b = warm.stats();
    expect(b.usedBytes).toBe(a.usedBytes);
    expect(b.blocks).toBe(a.blocks);
    expect(b.topBytes).toBe(a.topBytes);
  });

  it.each(makers)('$name: forwards at batch 1 and 3 are bit-identical with and without it', async ({ make }) => {
    await init({ simd, threads: 1, force: true, warmUp: false });
    const ref = make();
    const dict = ref.stateDict();
    const x1 = lcg(20 * I, 11);
    const x3 = lcg(9 * 3 * I, 12);
    const r1 = ref.forward({ data: x1, shape: [20, 1, I] });
    const r3 = ref.forward({ data: x3, shape: [9, 3, I] });
    await init({ simd, threads: 1, force: true });
    const m = make();
    m.loadStateDict(dict);
    expectIdentical(m.forward({ data: x1, shape: [20, 1, I] }), r1, 'batch 1');
    expectIdentical(m.forward({ data: x3, shape: [9, 3, I] }), r3, 'batch 3');
    m.dispose();
    ref.dispose();
  });
});

describe('options.warmUp', () => {
  it.each([['yes'], [1], [null]])('%j is refused with an InitError naming the option', async (v) => {
    const p = init({ force: true, threads: 1, warmUp: v as unknown as boolean });
    await expect(p).rejects.toBeInstanceOf(InitError);
    await expect(p).rejects.toThrow(/options\.warmUp: expected a boolean/);
  });
});
