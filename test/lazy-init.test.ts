// The constructor records its initialisation's seed and the first read of the weights draws it: every way of
// reading them must see exactly what an immediate draw (resetParameters with the same seed) gives, and a whole
// loadStateDict must skip the draw. Then loading from .safetensors bytes, whose tensors are read as views.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  GRU, LSTM, RNN, RecurrentLayer, StateDictError, getEngine, init, writeSafetensors, type StateDictInput,
  type Tensor,
} from '../src/index.js';
import { expectBitEqual, lcg as rnd } from './helpers.js';

beforeAll(async () => {
  await init({ simd: 'simd', threads: 1, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});


const I = 5;
const cases: { name: string; make: (seed: number) => RecurrentLayer }[] = [
  { name: 'LSTM', make: (s) => new LSTM({ inputSize: I, hiddenSize: 12, seed: s }) },
  { name: 'LSTM projSize, 2 layers bidirectional',
    make: (s) => new LSTM({ inputSize: I, hiddenSize: 10, projSize: 4, numLayers: 2, bidirectional: true, seed: s }) },
  { name: 'GRU', make: (s) => new GRU({ inputSize: I, hiddenSize: 12, seed: s }) },
  { name: 'RNN relu, no bias', make: (s) => new RNN({ inputSize: I, hiddenSize: 12, nonlinearity: 'relu', bias: false,
    seed: s }) },
];

/** A model whose weights were drawn at once from `seed`, through resetParameters. */
function eager(make: (seed: number) => RecurrentLayer, seed: number): RecurrentLayer {
  const m = make(seed + 1000);
  m.resetParameters(seed);
  return m;
}


function sameDicts(a: Record<string, Tensor>, b: Record<string, Tensor>, what: string): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) expectBitEqual(a[k]!.data, b[k]!.data, `${what} ${k}`);
}

const x = { data: rnd(7 * 2 * I, 3), shape: [7, 2, I] };

describe.each(cases)('deferred initialisation: $name', (c) => {
  it('every reader sees the draws resetParameters(seed) makes at once', () => {
    const ref = eager(c.make, 5);
    const want = ref.stateDict();
    const y = ref.forward(x).output.data;
    sameDicts(c.make(5).stateDict(), want, 'stateDict');
    expectBitEqual(c.make(5).forward(x).output.data, y, 'forward');
    expectBitEqual(c.make(5).forward(x, { train: true }).output.data, ref.forward(x, { train: true }).output.data,
      'training forward');
    const viaParams = c.make(5);
    const ps = viaParams.parameters();
    expect(ps.length).toBe(ref.parameters().length);
    sameDicts(viaParams.stateDict(), want, 'after parameters()');
    if (!c.make(5).bidirectional) {
      const s = c.make(5).createSession();
      const r = ref.createSession();
      expectBitEqual(s.step(x.data.subarray(0, I)).data, r.step(x.data.subarray(0, I)).data, 'session step');
    }
  });

  it('a whole loadStateDict skips the draw; a partial one draws the rest first', () => {
    const other = eager(c.make, 9).stateDict();
    const spy = vi.spyOn(RecurrentLayer.prototype, 'resetParameters');
    const m = c.make(5);
    m.loadStateDict(other as StateDictInput);
    m.forward(x);
    expect(spy).not.toHaveBeenCalled();
    sameDicts(m.stateDict(), other, 'whole load');
    // Partial: one tensor from `other`, the rest the seed's draws.
    const first = Object.keys(other)[0]!;
    const p = c.make(5);
    p.loadStateDict({ [first]: other[first]! } as StateDictInput, { strict: false });
    expect(spy).toHaveBeenCalledTimes(1);
    const want = eager(c.make, 5).stateDict();
    want[first] = other[first]!;
    sameDicts(p.stateDict(), want, 'partial load');
  });

  it('a refused load leaves the draw pending', () => {
    const m = c.make(5);
    const bad = { ...eager(c.make, 9).stateDict() } as Record<string, unknown>;
    const first = Object.keys(bad)[0]!;
    bad[first] = { shape: [1], data: [0] };
    expect(() => m.loadStateDict(bad as StateDictInput)).toThrow(StateDictError);
    sameDicts(m.stateDict(), eager(c.make, 5).stateDict(), 'after a refused load');
  });
});

it('models made without a seed still get different random weights', () => {
  const a = new LSTM({ inputSize: 3, hiddenSize: 4 });
  const b = new LSTM({ inputSize: 3, hiddenSize: 4 });
  let diff = 0;
  const da = a.stateDict()['weight_hh_l0']!.data;
  const db = b.stateDict()['weight_hh_l0']!.data;
  for (let i = 0; i < da.length; i++) diff = Math.max(diff, Math.abs(da[i]! - db[i]!));
  expect(diff).toBeGreaterThan(1e-3);
  for (const v of da) expect(Math.abs(v)).toBeLessThanOrEqual(0.5); // U(-1/sqrt(4), 1/sqrt(4))
  a.dispose();
  b.dispose();
});

describe('loadStateDict from .safetensors bytes (tensors read as views, copied once into the module)', () => {
  it('equals the load from a plain dict, copies the data and leaves the bytes as they were', () => {
    const src = eager(cases[1]!.make, 9);
    const sd = src.stateDict();
    const bytes = writeSafetensors(sd);
    const keep = bytes.slice();
    const m = cases[1]!.make(5);
    m.loadStateDict(bytes);
    sameDicts(m.stateDict(), sd, 'from bytes');
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(keep))).toBe(0);
    bytes.fill(0); // the model owns its copy
    sameDicts(m.stateDict(), sd, 'after the bytes were overwritten');
    // Unaligned data (the file at an odd offset of a larger buffer): copied, same result.
    const odd = new Uint8Array(keep.length + 1);
    odd.set(keep, 1);
    const u = cases[1]!.make(5);
    u.loadStateDict(odd.subarray(1));
    sameDicts(u.stateDict(), sd, 'from unaligned bytes');
    // A non-finite weight in the file is still refused, naming the tensor, and nothing is written.
    const whh = sd['weight_hh_l0']!;
    const bad = { ...sd, weight_hh_l0: { shape: [...whh.shape], data: whh.data.slice() } };
    bad.weight_hh_l0.data[3] = Number.NaN;
    expect(() => u.loadStateDict(writeSafetensors(bad))).toThrow(/weight_hh_l0: element 3 is NaN/);
    sameDicts(u.stateDict(), sd, 'after a refused load');
    for (const d of [src, m, u]) d.dispose();
  });

  it('reads bytes that live in the module\'s own memory before the stage can move them', () => {
    const make = (seed: number): RecurrentLayer => new LSTM({ inputSize: 32, hiddenSize: 256, seed });
    const src = eager(make, 9);
    const sd = src.stateDict();
    src.dispose();
    const file = writeSafetensors(sd);
    const e = getEngine();
    const m = make(5);
    const at = e.alloc(file.length);
    // Fill the memory to its end, so that the load's stage (about the file's size) makes it grow, which moves
    // (detaches) the buffer the bytes were handed in.
    const st = e.stats();
    const filler = e.alloc(Math.max(64, st.memoryBytes - st.topBytes - 64));
    try {
      new Uint8Array(e.memory.buffer, at, file.length).set(file);
      const before = e.memory.buffer;
      m.loadStateDict(new Uint8Array(e.memory.buffer, at, file.length));
      expect(e.memory.buffer).not.toBe(before);
      sameDicts(m.stateDict(), sd, 'from module memory');
    } finally {
      e.release(filler);
      e.release(at);
      m.dispose();
    }
  });
});
