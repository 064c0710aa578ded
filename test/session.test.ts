// Streaming sessions: stepping B streams one step at a time equals one forward pass over the whole sequence.
import { beforeAll, describe, expect, it } from 'vitest';
import { GRU, InvalidArgumentError, LSTM, RNN, Random, ShapeError, Tensor, init, type RecurrentLayer } from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

beforeAll(async () => {
  await init();
});

function randn(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

const models: Array<[string, () => RecurrentLayer]> = [
  ['LSTM 2 layers with projection', () => new LSTM({ inputSize: 5, hiddenSize: 9, numLayers: 2, projSize: 4, seed: 3 })],
  ['GRU 2 layers', () => new GRU({ inputSize: 5, hiddenSize: 7, numLayers: 2, seed: 4 })],
  ['RNN relu', () => new RNN({ inputSize: 5, hiddenSize: 17, nonlinearity: 'relu', seed: 5 })],
  ['LSTM 3 layers', () => new LSTM({ inputSize: 5, hiddenSize: 6, numLayers: 3, seed: 8 })],
  ['GRU reset before, 3 layers', () => new GRU({ inputSize: 5, hiddenSize: 9, numLayers: 3, resetAfter: false, seed: 10 })],
];

describe.each(models)('%s', (_name, make) => {
  it('step-by-step equals forward, getState equals hN/cN, setState resumes', () => {
    const m = make();
    const T = 7;
    const B = 3;
    const I = m.inputSize;
    const x = randn(T * B * I, 11);
    const full = m.forward({ data: x, shape: [T, B, I] });
    const s = m.createSession({ batchSize: B });
    const W = m.outputSize;
    let snapshot: ReturnType<typeof s.getState> | undefined;
    for (let t = 0; t < T; t++) {
      const y = s.step({ data: x.subarray(t * B * I, (t + 1) * B * I), shape: [B, I] });
      expect(y.shape).toEqual([B, W]);
      expect(maxAbsDiff(y.data, full.output.data.subarray(t * B * W, (t + 1) * B * W))).toBeLessThan(1e-6);
      if (t === 3) snapshot = s.getState();
    }
    const st = s.getState();
    expect(maxAbsDiff(st.h.data, full.hN.data)).toBeLessThan(1e-6);
    if (m.mode === 'LSTM') expect(maxAbsDiff(st.c!.data, full.cN!.data)).toBeLessThan(1e-6);
    else expect(st.c).toBeUndefined();

    // Resume from the snapshot in a second session sharing the weights: same outputs for steps 4..T-1.
    const s2 = m.createSession({ batchSize: B });
    s2.setState(snapshot!);
    for (let t = 4; t < T; t++) {
      const y = s2.step(x.subarray(t * B * I, (t + 1) * B * I));
      expect(maxAbsDiff(y.data, full.output.data.subarray(t * B * W, (t + 1) * B * W))).toBeLessThan(1e-6);
    }
    s2.reset();
    const y0 = s2.step(x.subarray(0, B * I));
    expect(maxAbsDiff(y0.data, full.output.data.subarray(0, B * W))).toBeLessThan(1e-6);
    m.dispose();
    expect(s.isDisposed).toBe(true);
    expect(() => s2.step(x.subarray(0, B * I))).toThrow(/disposed/);
  });
});

describe.each(models)('%s: allocation-free APIs', (_name, make) => {
  it('step(x, { out }) and inputView/advance/outputView equal forward step by step', () => {
    const m = make();
    const T = 6;
    const B = 2;
    const I = m.inputSize;
    const W = m.outputSize;
    const x = randn(T * B * I, 21);
    const full = m.forward({ data: x, shape: [T, B, I] });
    const a = m.createSession({ batchSize: B });
    const b = m.createSession({ batchSize: B });
    const out = new Float32Array(B * W);
    const xv = b.inputView();
    const yv = b.outputView();
    expect(xv).toBeInstanceOf(Float32Array);
    expect(xv.length).toBe(B * I);
    expect(yv.length).toBe(B * W);
    for (let t = 0; t < T; t++) {
      const xt = x.subarray(t * B * I, (t + 1) * B * I);
      const ref = full.output.data.subarray(t * B * W, (t + 1) * B * W);
      expect(a.step(xt, { out })).toBe(out);
      expect(maxAbsDiff(out, ref)).toBeLessThan(1e-6);
      xv.set(xt);
      expect(b.advance()).toBeUndefined();
      expect(maxAbsDiff(yv, ref)).toBeLessThan(1e-6);
    }
    expect(maxAbsDiff(a.getState().h.data, full.hN.data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(b.getState().h.data, full.hN.data)).toBeLessThan(1e-6);
    // step() writes its x into the input view and leaves its result in the output view too.
    const y = a.step(x.subarray(0, B * I));
    expect(maxAbsDiff(a.inputView(), x.subarray(0, B * I))).toBe(0);
    expect(maxAbsDiff(a.outputView(), y.data)).toBe(0);
    m.dispose();
    expect(() => b.advance()).toThrow(/disposed/);
    expect(() => b.inputView()).toThrow(/disposed/);
    expect(() => b.outputView()).toThrow(/disposed/);
    expect(() => a.step(x.subarray(0, B * I), { out })).toThrow(/disposed/);
  });
});

it('step takes a Tensor, a { data, shape } of any numeric array, and plain arrays alike', () => {
  const m = new GRU({ inputSize: 3, hiddenSize: 5, seed: 9 });
  const x = [0.25, -0.5, 1];
  const ys = [
    m.createSession().step(new Float32Array(x)),
    m.createSession().step(new Float64Array(x)),
    m.createSession().step(x),
    m.createSession().step({ data: x, shape: [3] }),
    m.createSession().step({ data: new Float32Array(x), shape: [1, 3] }),
    m.createSession().step(new Tensor(new Float32Array(x), [1, 3])),
    m.createSession().step(new Tensor(new Float32Array(x), [3])),
  ];
  const shapes = ys.map((y) => [...y.shape]);
  expect(shapes).toEqual([[5], [5], [5], [5], [1, 5], [1, 5], [5]]);
  for (const y of ys) expect(maxAbsDiff(y.data, ys[0]!.data)).toBe(0);
  m.dispose();
});

it('step(x, { out }) validates out', () => {
  const m = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 2 });
  const s = m.createSession({ batchSize: 2 });
  const x = [1, 2, 3, 4];
  expect(() => s.step(x, { out: new Float32Array(5) })).toThrow(/options\.out: expected 6 values \(B=2 x H_out=3\), got 5/);
  expect(() => s.step(x, { out: new Float32Array(7) })).toThrow(ShapeError);
  expect(() => s.step(x, { out: new Float64Array(6) as unknown as Float32Array })).toThrow(
    /options\.out: expected a Float32Array of 6 values, got Float64Array\(6\)/);
  expect(() => s.step(x, { out: [0, 0, 0, 0, 0, 0] as unknown as Float32Array })).toThrow(InvalidArgumentError);
  expect(() => s.step(x, null as unknown as { out: Float32Array })).toThrow(/options: expected/);
  // Rejected calls leave the state untouched; { } and { out: undefined } return a Tensor.
  expect(maxAbsDiff(s.getState().h.data, new Float32Array(6))).toBe(0);
  const y = s.step(x, {});
  expect(y.shape).toEqual([2, 3]);
  expect(s.step(x, { out: undefined }).shape).toEqual([2, 3]);
  m.dispose();
});

it('non-finite inputs are rejected before the state changes, through step and advance', () => {
  const m = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 6 });
  for (const B of [1, 100]) { // 300 inputs: the module's SIMD scan instead of the JavaScript loop
    const s = m.createSession({ batchSize: B });
    const good = randn(3 * B, 3);
    s.step(good);
    const before = s.getState();
    for (const [i, v] of [[0, NaN], [3 * B - 1, Infinity], [1, -Infinity]] as const) {
      const bad = Float32Array.from(good);
      bad[i] = v;
      expect(() => s.step(bad)).toThrow(new RegExp(`^x: element ${i} is ${v}; inputs must be finite`));
      const out = new Float32Array(4 * B);
      expect(() => s.step(bad, { out })).toThrow(InvalidArgumentError);
      s.inputView().set(bad);
      expect(() => s.advance()).toThrow(new RegExp(`^inputView\\(\\): element ${i} is ${v}`));
    }
    // A finite double that overflows float32 would reach the kernel as Infinity: rejected too.
    const big = Array.from(good);
    big[1] = 1e39;
    expect(() => s.step(big)).toThrow(/x: element 1 is 1e\+39, which is Infinity as a float32/);
    expect(() => s.step([...Array.from(good).slice(1), 1n] as unknown as number[])).toThrow(/x: expected numbers/);
    const after = s.getState();
    expect(maxAbsDiff(after.h.data, before.h.data)).toBe(0);
    expect(maxAbsDiff(after.c!.data, before.c!.data)).toBe(0);
  }
  m.dispose();
});

it('steps stay right after the memory grows; views are taken again', () => {
  const m = new RNN({ inputSize: 4, hiddenSize: 8, seed: 7 });
  const T = 3;
  const x = randn(T * 4, 5);
  const full = m.forward({ data: x, shape: [T, 4] });
  const s = m.createSession();
  const xv = s.inputView();
  xv.set(x.subarray(0, 4));
  s.advance();
  const before = m.engine.memory.buffer.byteLength;
  const big = new LSTM({ inputSize: 512, hiddenSize: 1024, seed: 1 }); // 4*1024*1536 floats: the memory grows
  expect(m.engine.memory.buffer.byteLength).toBeGreaterThan(before);
  if (m.engine.threadingInfo().sharedMemory) {
    // A shared memory grows in place: the old view still aliases the input buffer.
    expect(xv.length).toBe(4);
    expect(xv.buffer).not.toBe(m.engine.memory.buffer);
  } else {
    expect(xv.length).toBe(0); // detached, as documented
  }
  expect(maxAbsDiff(s.step(x.subarray(4, 8)).data, full.output.data.subarray(8, 16))).toBeLessThan(1e-6);
  big.dispose();
  const big2 = new GRU({ inputSize: 512, hiddenSize: 2048, seed: 1 }); // grows again
  s.inputView().set(x.subarray(8, 12));
  s.advance();
  expect(maxAbsDiff(s.outputView(), full.output.data.subarray(16, 24))).toBeLessThan(1e-6);
  big2.dispose();
  m.dispose();
});

it('sessions of one model are independent', () => {
  const m = new LSTM({ inputSize: 2, hiddenSize: 6, seed: 1 });
  const a = m.createSession();
  const b = m.createSession();
  const x1 = [0.5, -1];
  const x2 = [2, 0.25];
  const ya1 = a.step(x1);
  b.step(x2);
  b.step(x2);
  const ya2 = a.step(x1);
  const ref = m.createSession();
  const r1 = ref.step(x1);
  const r2 = ref.step(x1);
  expect(ya1.shape).toEqual([6]);
  expect(maxAbsDiff(ya1.data, r1.data)).toBe(0);
  expect(maxAbsDiff(ya2.data, r2.data)).toBe(0);
  m.dispose();
});

it('a bidirectional model refuses to stream', () => {
  const m = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true });
  expect(() => m.createSession()).toThrow(/bidirectional/);
  m.dispose();
});

it('step validates its input', () => {
  const m = new RNN({ inputSize: 3, hiddenSize: 4 });
  const s = m.createSession({ batchSize: 2 });
  expect(() => s.step({ data: [1, 2, 3], shape: [1, 3] })).toThrow(/x: expected shape \[2, 3\]/);
  expect(() => s.step([1, 2, 3])).toThrow(/expected 6 values/);
  expect(() => s.step([1, 2, 3, 4, 5, NaN])).toThrow(/element 5 is NaN/);
  expect(() => s.setState({ h: { data: [1], shape: [1] } })).toThrow(/state.h: expected shape \[1, 2, 4\]/);
  m.dispose();
});
