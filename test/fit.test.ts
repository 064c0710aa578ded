// The training loop: a sine-wave demonstration with a stated threshold, determinism for a seed, aborting, the
// non-finite policy, truncated BPTT, and argument checks.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, GRU, InvalidArgumentError, LSTM, Linear, NonFiniteError, RNN, Random, SGD, SequenceModel, ShapeError, evaluate, fit,
  type Dataset,
} from '../src/index.js';
import { init } from '../src/index.js';

beforeAll(async () => {
  await init({ simd: 'simd', force: true });
});

/** Next-step prediction of sines with random phase and frequency: inputs (N, T, 1), targets shifted by one. */
function sines(N: number, T: number, seed: number): Dataset {
  const r = new Random(seed);
  const x = new Float32Array(N * T);
  const y = new Float32Array(N * T);
  for (let n = 0; n < N; n++) {
    const ph = r.uniform(0, 2 * Math.PI);
    const w = r.uniform(0.15, 0.35);
    for (let t = 0; t < T; t++) {
      x[n * T + t] = Math.sin(ph + w * t);
      y[n * T + t] = Math.sin(ph + w * (t + 1));
    }
  }
  return { inputs: { data: x, shape: [N, T, 1] }, targets: { data: y, shape: [N, T, 1] } };
}

function sineModel(seed = 1): SequenceModel {
  return new SequenceModel({
    rnn: new LSTM({ inputSize: 1, hiddenSize: 16, batchFirst: true, seed }),
    head: new Linear({ inFeatures: 16, outFeatures: 1, seed: seed + 1 }),
  });
}

describe('sine-wave next-step prediction (demonstration)', () => {
  it.each([['full BPTT', undefined], ['truncated BPTT, k = 10', 10]] as const)(
    '%s: validation MSE falls below 0.01 within 15 epochs', (_n, tbptt) => {
      const m = sineModel();
      const val = sines(64, 40, 2);
      const before = evaluate(m, val).loss;
      const epochs: number[] = [];
      const h = fit(m, sines(256, 40, 1), {
        epochs: 15, batchSize: 32, validation: val, seed: 3, tbptt,
        optimizer: new Adam(m.parameters(), { lr: 0.01 }), onEpochEnd: (e) => epochs.push(e.valLoss!),
      });
      expect(h.status).toBe('completed');
      expect(h.steps).toBe(15 * 8);
      expect(before).toBeGreaterThan(0.1);
      expect(epochs[epochs.length - 1]).toBeLessThan(0.01);
      expect(evaluate(m, val).loss).toBeCloseTo(epochs[epochs.length - 1]!, 10);
      m.dispose();
    });
});

describe('fit', () => {
  const data = sines(40, 12, 5);

  it('is deterministic for a seed: bit-identical weights and losses', () => {
    const run = (): { w: Float32Array[]; losses: number[] } => {
      const m = sineModel(7);
      const losses: number[] = [];
      fit(m, data, { epochs: 3, batchSize: 8, seed: 11, optimizer: new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 }),
        onStepEnd: (s) => losses.push(s.loss) });
      const w = Object.values(m.stateDict()).map((t) => t.data);
      m.dispose();
      return { w, losses };
    };
    const a = run();
    const b = run();
    expect(b.losses).toEqual(a.losses);
    a.w.forEach((w, i) => expect(Array.from(b.w[i]!)).toEqual(Array.from(w)));
    const m = sineModel(7);
    const other: number[] = [];
    fit(m, data, { epochs: 1, batchSize: 8, seed: 12, onStepEnd: (s) => other.push(s.loss) });
    expect(other).not.toEqual(a.losses.slice(0, 5));
    m.dispose();
  });

  it('reports loss and gradient norm per step, and stops on abort keeping the last completed step', () => {
    const ctrl = new AbortController();
    const m = sineModel(3);
    const steps: Array<{ loss: number; gradNorm: number }> = [];
    const snap: Float32Array[][] = [];
    const h = fit(m, data, { epochs: 5, batchSize: 8, seed: 1, signal: ctrl.signal, onStepEnd: (s) => {
      steps.push(s);
      snap.push(Object.values(m.stateDict()).map((t) => t.data));
      if (s.globalStep === 7) ctrl.abort();
    } });
    expect(h.status).toBe('aborted');
    expect(h.steps).toBe(7);
    expect(steps.every((s) => Number.isFinite(s.loss) && s.gradNorm > 0)).toBe(true);
    const now = Object.values(m.stateDict()).map((t) => t.data);
    now.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(snap[6]![i]!)));
    m.dispose();
  });

  it('stops with a NonFiniteError naming the step, or skips it, never writing NaN into the weights', () => {
    const bad: Dataset = { inputs: { data: new Float32Array(2 * 3).fill(1), shape: [2, 3, 1] },
      targets: { data: new Float32Array(2 * 3).fill(3e38), shape: [2, 3, 1] } };
    const m = sineModel(2);
    const before = Object.values(m.stateDict()).map((t) => Array.from(t.data));
    let err: unknown;
    try {
      fit(m, bad, { epochs: 1, batchSize: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).step).toBe(1);
    expect(String(err)).toMatch(/step 1: the (loss or its gradient|gradient) is not finite/);
    // An exploding learning rate: the first step succeeds, a later one overflows; the weights stay finite.
    const m2 = sineModel(4);
    expect(() => fit(m2, data, { epochs: 3, batchSize: 8, optimizer: new SGD(m2.parameters(), { lr: 1e36 }) }))
      .toThrow(NonFiniteError);
    for (const t of Object.values(m2.stateDict())) expect(t.data.every(Number.isFinite)).toBe(true);
    m2.dispose();
    expect(() => fit(m, { ...bad, targets: { data: [NaN, 0, 0, 0, 0, 0], shape: [2, 3, 1] } }, { epochs: 1 }))
      .toThrow(/data.targets: element 0 is NaN/);
    const h = fit(m, bad, { epochs: 2, batchSize: 1, nonFinite: 'skip' });
    expect(h.epochs.map((e) => e.skippedSteps)).toEqual([2, 2]);
    Object.values(m.stateDict()).forEach((t, i) => expect(Array.from(t.data)).toEqual(before[i]));
    m.dispose();
  });

  it('records per-step hidden gradient norms on request', () => {
    const m = new SequenceModel({ rnn: new RNN({ inputSize: 1, hiddenSize: 8, batchFirst: true, seed: 1 }),
      head: new Linear({ inFeatures: 8, outFeatures: 1, seed: 1 }), headInput: 'last' });
    const d: Dataset = { inputs: { data: Float32Array.from({ length: 4 * 30 }, (_, i) => Math.sin(i)), shape: [4, 30, 1] },
      targets: { data: new Float32Array(4).fill(0.5), shape: [4, 1] } };
    let norms: Float32Array | undefined;
    fit(m, d, { epochs: 1, batchSize: 4, recordGradNorms: true, onStepEnd: (s) => { norms = s.hiddenGradNorms; } });
    expect(norms!.length).toBe(30);
    // The loss reads only the last state: the gradient reaching earlier steps of a contractive tanh RNN decays.
    expect(norms![29]!).toBeGreaterThan(0);
    expect(norms![0]!).toBeLessThan(norms![29]!);
    m.dispose();
  });

  it('classifies with cross-entropy on the last state and reports accuracy', () => {
    const r = new Random(4);
    const N = 64;
    const T = 6;
    const x = new Float32Array(N * T * 2);
    const y = new Float32Array(N);
    for (let n = 0; n < N; n++) {
      y[n] = r.int(3);
      for (let t = 0; t < T; t++) {
        x[(n * T + t) * 2] = y[n]! - 1 + 0.3 * r.normal();
        x[(n * T + t) * 2 + 1] = r.normal();
      }
    }
    const d: Dataset = { inputs: { data: x, shape: [N, T, 2] }, targets: { data: y, shape: [N] },
      lengths: Array.from({ length: N }, (_, i) => 2 + (i % 5)) };
    const m = new SequenceModel({ rnn: new GRU({ inputSize: 2, hiddenSize: 8, seed: 1 }),
      head: new Linear({ inFeatures: 8, outFeatures: 3, seed: 2 }), headInput: 'last' });
    const h = fit(m, d, { epochs: 30, batchSize: 16, loss: 'cross-entropy', validation: d, seed: 1,
      optimizer: new Adam(m.parameters(), { lr: 0.03 }) });
    expect(h.epochs[h.epochs.length - 1]!.valAccuracy!).toBeGreaterThan(0.9);
    m.dispose();
  });

  it('checks its arguments', () => {
    const m = sineModel();
    expect(() => fit(m, data, { epochs: -1 })).toThrow(/options.epochs/);
    expect(() => fit(m, data, { epochs: 1, batchSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => fit(m, { ...data, targets: { data: [1], shape: [1] } }, { epochs: 1 })).toThrow(ShapeError);
    expect(() => fit(m, { ...data, lengths: [1] }, { epochs: 1 })).toThrow(/data.lengths: expected 40 entries/);
    expect(() => fit(m, data, { epochs: 1, tbptt: 0 })).toThrow(/options.tbptt/);
    // @ts-expect-error wrong loss on purpose
    expect(() => fit(m, data, { epochs: 1, loss: 'l1' })).toThrow(/options.loss/);
    m.dispose();
  });
});
