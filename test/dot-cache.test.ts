// The batch-1 layout of W_hh (the gemv path, assembly/gemv.ts) is kept per layer and direction between inference
// calls and reused only while it still holds the current weights: every way the weights change must show in the
// next forward. References are fresh models built from stateDict(), which never had a layout kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, GRU, LSTM, RNN, init, mseLoss, type Engine, type ForwardResult, type RecurrentLayer, type StateDictInput,
} from '../src/index.js';
import { expectBitEqual, expectIdentical, lcg as rnd } from './helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await init({ simd: 'simd', threads: 1, force: true });
});


interface Case {
  name: string;
  make: (seed: number) => RecurrentLayer;
  /** Layer-directions taking the batch-1 path (one kept layout each). */
  kept: number;
}
const I = 6;
const cases: Case[] = [
  { name: 'LSTM', make: (s) => new LSTM({ inputSize: I, hiddenSize: 24, seed: s }), kept: 1 },
  { name: 'LSTM projSize, 2 layers bidirectional',
    make: (s) => new LSTM({ inputSize: I, hiddenSize: 20, projSize: 7, numLayers: 2, bidirectional: true, seed: s }),
    kept: 4 },
  { name: 'GRU', make: (s) => new GRU({ inputSize: I, hiddenSize: 24, seed: s }), kept: 1 },
  { name: 'GRU 2 layers batchFirst',
    make: (s) => new GRU({ inputSize: I, hiddenSize: 16, numLayers: 2, batchFirst: true, seed: s }), kept: 2 },
  { name: 'RNN tanh bidirectional',
    make: (s) => new RNN({ inputSize: I, hiddenSize: 24, bidirectional: true, seed: s }), kept: 2 },
  { name: 'RNN relu', make: (s) => new RNN({ inputSize: I, hiddenSize: 24, nonlinearity: 'relu', seed: s }), kept: 1 },
];

const T = 20; // >= GEMV_MIN_T (16): batch-1 calls take the gemv path
function input(m: RecurrentLayer, seed: number, steps = T): { data: Float32Array; shape: number[] } {
  return { data: rnd(steps * I, seed), shape: m.batchFirst ? [1, steps, I] : [steps, 1, I] };
}
function states(m: RecurrentLayer): Parameters<RecurrentLayer['forward']>[1] {
  const L = m.numLayers * (m.bidirectional ? 2 : 1);
  const o: Parameters<RecurrentLayer['forward']>[1] = { h0: { data: rnd(L * m.outputSize, 5), shape: [L, 1, m.outputSize] } };
  if (m.mode === 'LSTM') o.c0 = { data: rnd(L * m.hiddenSize, 6), shape: [L, 1, m.hiddenSize] };
  return o;
}

/** The forward of a fresh model holding `m`'s current weights (no layout kept, packed from scratch). */
function fresh(c: Case, m: RecurrentLayer, seed: number, steps = T): ForwardResult {
  const f = c.make(99);
  try {
    f.loadStateDict(m.stateDict() as StateDictInput);
    return f.forward(input(f, seed, steps), states(f));
  } finally {
    f.dispose();
  }
}

function maxDiff(a: ForwardResult, b: ForwardResult): number {
  let d = 0;
  for (let i = 0; i < a.output.data.length; i++) d = Math.max(d, Math.abs(a.output.data[i]! - b.output.data[i]!));
  return d;
}

/** The packed weight_hh of layer 0, direction 0, as a view into the WebAssembly memory. */
function whhView(m: RecurrentLayer): Float32Array {
  const p = m.parameters().find((q) => q.name === 'weight_hh_l0');
  if (!p) throw new Error('no weight_hh_l0');
  return engine.f32().subarray(p.param / 4, p.param / 4 + p.length);
}

describe.each(cases)('kept batch-1 layout: $name', (c) => {
  it('is allocated once per layer-direction, reused bit for bit, and freed by dispose', () => {
    const m = c.make(1);
    // Batch 2 takes the panel path: no layout.
    const x2 = rnd(T * 2 * I, 4);
    const b2 = m.forward({ data: x2, shape: m.batchFirst ? [2, T, I] : [T, 2, I] });
    const before = engine.stats().blocks;
    const short = m.forward(input(m, 2, 8), states(m)); // shorter than GEMV_MIN_T: kept layouts serve it too
    expect(engine.stats().blocks - before).toBe(c.kept);
    expectIdentical(short, fresh(c, m, 2, 8), 'T=8 vs fresh model');
    const first = m.forward(input(m, 3), states(m));
    const again = m.forward(input(m, 3), states(m));
    expect(engine.stats().blocks - before).toBe(c.kept);
    expectIdentical(again, first, 'second call');
    expectIdentical(first, fresh(c, m, 3), 'vs fresh model');
    // The kept layout is untouched by a batch-2 call in between.
    expectIdentical(m.forward({ data: x2, shape: m.batchFirst ? [2, T, I] : [T, 2, I] }), b2, 'batch 2 again');
    expectIdentical(m.forward(input(m, 3), states(m)), first, 'after a batch-2 call');
    const used = engine.stats().blocks;
    m.dispose();
    expect(used - engine.stats().blocks).toBeGreaterThanOrEqual(c.kept + 1);
  });

  it('follows loadStateDict and resetParameters', () => {
    const m = c.make(1);
    const other = c.make(2);
    const a = m.forward(input(m, 3), states(m));
    m.loadStateDict(other.stateDict() as StateDictInput);
    const b = m.forward(input(m, 3), states(m));
    expectIdentical(b, other.forward(input(other, 3), states(other)), 'after loadStateDict');
    expect(maxDiff(a, b)).toBeGreaterThan(1e-3);
    m.resetParameters(7);
    const r = m.forward(input(m, 3), states(m));
    expectIdentical(r, fresh(c, m, 3), 'after resetParameters');
    expect(maxDiff(r, b)).toBeGreaterThan(1e-3);
    // A partial load (only weight_hh_l0) changes the layout's source too.
    const whh = other.stateDict()['weight_hh_l0']!;
    m.loadStateDict({ weight_hh_l0: { shape: [...whh.shape], data: whh.data.map((v) => v * 0.5) } }, { strict: false });
    const p = m.forward(input(m, 3), states(m));
    expectIdentical(p, fresh(c, m, 3), 'after a partial loadStateDict');
    expect(maxDiff(p, r)).toBeGreaterThan(1e-3);
    m.dispose();
    other.dispose();
  });

  it('is not trusted once parameters() handed out raw offsets', () => {
    const m = c.make(1);
    const a = m.forward(input(m, 3), states(m)); // a layout is kept from here
    const w = whhView(m);
    for (let i = 0; i < w.length; i += 3) w[i] = w[i]! * -1.5;
    const b = m.forward(input(m, 3), states(m));
    expectIdentical(b, fresh(c, m, 3), 'after a raw write');
    expect(maxDiff(a, b)).toBeGreaterThan(1e-3);
    // Later raw writes (as an optimizer makes) show too, with no call in between that tells the model.
    w.fill(0);
    const z = m.forward(input(m, 3), states(m));
    expectIdentical(z, fresh(c, m, 3), 'after a second raw write');
    expect(maxDiff(z, b)).toBeGreaterThan(1e-3);
    m.dispose();
  });
});

interface StreamCase {
  name: string;
  make: (seed: number) => RecurrentLayer;
  /** Layers whose steps take the batch-1 path (one kept layout each). */
  kept: number;
}
const streamCases: StreamCase[] = [
  { name: 'LSTM', make: (s) => new LSTM({ inputSize: I, hiddenSize: 24, seed: s }), kept: 1 },
  { name: 'LSTM projSize, 2 layers',
    make: (s) => new LSTM({ inputSize: I, hiddenSize: 20, projSize: 7, numLayers: 2, seed: s }), kept: 2 },
  { name: 'GRU 2 layers', make: (s) => new GRU({ inputSize: I, hiddenSize: 16, numLayers: 2, seed: s }), kept: 2 },
  { name: 'GRU reset-before (panel path)',
    make: (s) => new GRU({ inputSize: I, hiddenSize: 16, resetAfter: false, seed: s }), kept: 0 },
  { name: 'RNN relu', make: (s) => new RNN({ inputSize: I, hiddenSize: 24, nonlinearity: 'relu', seed: s }), kept: 1 },
];

/** T steps of a new session of m over input(m, seed), concatenated. */
function stream(m: RecurrentLayer, seed: number, steps = T): Float32Array {
  const x = rnd(steps * I, seed);
  const s = m.createSession();
  const out = new Float32Array(steps * m.outputSize);
  for (let t = 0; t < steps; t++) out.set(s.step(x.subarray(t * I, (t + 1) * I)).data, t * m.outputSize);
  s.dispose();
  return out;
}

function freshStream(c: StreamCase, m: RecurrentLayer, seed: number): Float32Array {
  const f = c.make(99);
  try {
    f.loadStateDict(m.stateDict() as StateDictInput);
    return f.forward({ data: rnd(T * I, seed), shape: [T, 1, I] }).output.data;
  } finally {
    f.dispose();
  }
}


describe.each(streamCases)('kept batch-1 layout in streaming sessions: $name', (c) => {
  it('steps take it (one block per layer): a fresh model\'s steps bit for bit, its forward within 2e-6', () => {
    const m = c.make(1);
    const s = m.createSession();
    const before = engine.stats().blocks;
    s.step(rnd(I, 1));
    expect(engine.stats().blocks - before).toBe(c.kept);
    s.dispose();
    const steps = stream(m, 3);
    expectBitEqual(stream(m, 3), steps, 'a second session');
    // A fresh model's steps (its layout packed from the same weights) bit for bit; its sequence forward computes
    // the input projection for many steps at once, which rounds differently.
    const f = c.make(99);
    f.loadStateDict(m.stateDict() as StateDictInput);
    expectBitEqual(stream(f, 3), steps, 'a fresh model\'s steps');
    f.dispose();
    const seq = freshStream(c, m, 3);
    let err = 0;
    for (let i = 0; i < seq.length; i++) err = Math.max(err, Math.abs(seq[i]! - steps[i]!));
    expect(err).toBeLessThanOrEqual(2e-6);
    m.dispose();
  });

  it('follows loadStateDict and resetParameters between steps', () => {
    const m = c.make(1);
    const other = c.make(2);
    const s = m.createSession();
    const x = rnd(I, 8);
    s.step(x);
    m.loadStateDict(other.stateDict() as StateDictInput);
    s.reset();
    const o = other.createSession();
    expectBitEqual(s.step(x).data, o.step(x).data, 'first step after loadStateDict');
    m.resetParameters(5);
    s.reset();
    const f = c.make(5);
    const fs = f.createSession();
    expectBitEqual(s.step(x).data, fs.step(x).data, 'first step after resetParameters');
    for (const d of [s, o, fs]) d.dispose();
    for (const d of [m, other, f]) d.dispose();
  });

  it('is left once parameters() handed out raw offsets: raw writes show in the next steps', () => {
    const m = c.make(1);
    const before = stream(m, 3); // a layout kept from here
    const w = whhView(m);
    for (let i = 0; i < w.length; i += 2) w[i] = w[i]! * -2;
    const after = stream(m, 3);
    const want = freshStream(c, m, 3);
    // Ours now takes the panel path and the fresh model the dot-product path: the same sums in another order.
    let err = 0;
    let moved = 0;
    for (let i = 0; i < after.length; i++) {
      err = Math.max(err, Math.abs(after[i]! - want[i]!));
      moved = Math.max(moved, Math.abs(after[i]! - before[i]!));
    }
    expect(err).toBeLessThanOrEqual(2e-6);
    expect(moved).toBeGreaterThan(1e-3);
    w.fill(0);
    const zero = stream(m, 3);
    let err0 = 0;
    const want0 = freshStream(c, m, 3);
    for (let i = 0; i < zero.length; i++) err0 = Math.max(err0, Math.abs(zero[i]! - want0[i]!));
    expect(err0).toBeLessThanOrEqual(2e-6);
    m.dispose();
  });
});

describe('the kernels\' dot argument (FWD_DOT_EXT, FWD_DOT_VALID)', () => {
  it('packs into dot, then reads it as given when told it is valid', () => {
    const H = 24;
    const m = new LSTM({ inputSize: I, hiddenSize: H, seed: 4 });
    const x = input(m, 3);
    const want = m.forward(x).output.data;
    const p = Object.fromEntries(m.parameters().map((q) => [q.name, q.param]));
    const k = engine.k;
    const ext = engine.constant('FWD_GEMV') | engine.constant('FWD_DOT_EXT');
    const dotBytes = k.lstm_dot_bytes(T, 1, H, 0);
    expect(dotBytes).toBeGreaterThan(0);
    expect(k.lstm_dot_bytes(T, 2, H, 0)).toBe(0); // batch 2: the panel path, no layout
    expect(k.lstm_dot_bytes(1, 1, H, 0)).toBe(dotBytes); // a kept layout serves every T, one step included
    expect(k.lstm_dot_bytes(T, 1, 1024, 0)).toBe(0); // W_hh beyond GEMV_MAX_FLOATS: the panel path
    // With the layout outside, the scratch is smaller by exactly its size.
    expect(k.lstm_scratch_bytes(T, 1, H, 0, engine.constant('FWD_GEMV')) - k.lstm_scratch_bytes(T, 1, H, 0, ext))
      .toBe(dotBytes);
    const xs = engine.alloc(T * I * 4), out = engine.alloc(T * H * 4), dot = engine.alloc(dotBytes);
    const scratch = engine.alloc(k.lstm_scratch_bytes(T, 1, H, 0, ext));
    try {
      engine.f32().set(x.data, xs / 4);
      const run = (flags: number): Float32Array => {
        k.lstm_forward(out, H, 0, 0, xs, I, 0, 0, p['weight_ih_l0']!, p['weight_hh_l0']!, p['bias_ih_l0']!,
          p['bias_hh_l0']!, 0, 0, scratch, dot, T, 1, I, H, 0, 0, flags);
        return engine.f32().slice(out / 4, out / 4 + T * H);
      };
      expect(Array.from(run(ext))).toEqual(Array.from(want));
      engine.f32().fill(0, dot / 4, (dot + dotBytes) / 4);
      const zeroed = run(ext | engine.constant('FWD_DOT_VALID'));
      // W_hh read as 0: the first step (h0 = 0) agrees, later ones do not.
      expect(Array.from(zeroed.subarray(0, H))).toEqual(Array.from(want.subarray(0, H)));
      let far = 0;
      for (let i = H; i < T * H; i++) far = Math.max(far, Math.abs(zeroed[i]! - want[i]!));
      expect(far).toBeGreaterThan(1e-3);
      expect(Array.from(run(ext))).toEqual(Array.from(want)); // not valid: repacked from W_hh
      // FWD_ODD starts the alternating read order on the other foot (the column groups last to first on even
      // steps): the same sums, bit for bit, at every step. (Sessions pass it on every other step; in the streaming
      // cases above, the fresh model's steps start on the other parity from the first model's and agree bit for bit.)
      const valid = ext | engine.constant('FWD_DOT_VALID');
      expect(Array.from(run(valid | engine.constant('FWD_ODD')))).toEqual(Array.from(want));
    } finally {
      for (const b of [xs, out, dot, scratch]) engine.release(b);
      m.dispose();
    }
  });
});

describe('kept batch-1 layout with training and threads', () => {
  it('an optimizer step shows in the next batch-1 forward', () => {
    const c = cases[0]!;
    const m = c.make(1);
    const x = input(m, 3);
    const before = m.forward(x, states(m));
    const opt = new Adam(m.parameters(), { lr: 0.05 });
    for (let s = 0; s < 3; s++) {
      opt.zeroGrad();
      const { output } = m.forward(x, { train: true });
      const { grad } = mseLoss(output.data, new Float32Array(output.data.length).fill(0.25));
      m.backward({ output: { data: grad, shape: output.shape } });
      opt.step();
      const after = m.forward(x, states(m));
      expectIdentical(after, fresh(c, m, 3), `after step ${s + 1}`);
      expect(maxDiff(after, before)).toBeGreaterThan(1e-4);
    }
    opt.dispose();
    m.dispose();
  });

  it('directions on two threads keep their own layouts', async () => {
    const e2 = await init({ simd: 'simd', threads: 2, force: true });
    try {
      const c = cases[1]!;
      const m = c.make(1);
      const a = m.forward(input(m, 3), states(m));
      expectIdentical(m.forward(input(m, 3), states(m)), a, 'second call');
      m.resetParameters(9);
      const r = m.forward(input(m, 3), states(m));
      expectIdentical(r, fresh(c, m, 3), 'after resetParameters');
      expect(maxDiff(a, r)).toBeGreaterThan(1e-3);
      m.dispose();
    } finally {
      e2.terminateWorkers();
      engine = await init({ simd: 'simd', threads: 1, force: true });
    }
  });
});

afterAll(() => {
  engine.terminateWorkers();
});
