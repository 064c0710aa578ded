// API behaviour: initialisation sources, validation errors, state dicts, disposal.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DisposedError, GRU, InitError, InvalidArgumentError, LSTM, RNN, Random, ShapeError, StateDictError, UnsupportedError,
  init, writeSafetensors, type RecurrentLayer,
} from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

const wasmPath = fileURLToPath(new URL('../build/rnn-simd.wasm', import.meta.url));

beforeAll(async () => {
  await init({ simd: 'simd' });
});

function randn(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

describe('init', () => {
  it('throws NotInitializedError before init, and accepts bytes, a compiled module, a path and a URL', async () => {
    vi.resetModules();
    const fresh = await import('../src/index.js');
    expect(() => new fresh.LSTM({ inputSize: 1, hiddenSize: 1 })).toThrow(fresh.NotInitializedError);
    expect(() => new fresh.LSTM({ inputSize: 1, hiddenSize: 1 })).toThrow(/call `await init\(\)` first/);
    const bytes = readFileSync(wasmPath);
    const sources = [bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      new WebAssembly.Module(bytes), wasmPath, new URL(`file://${wasmPath}`)];
    const outs: Float32Array[] = [];
    for (const wasm of sources) {
      const e = await fresh.init({ wasm, simd: 'simd', force: true });
      expect(e.flavour).toBe('simd');
      const m = new fresh.GRU({ inputSize: 2, hiddenSize: 3, seed: 9 });
      outs.push(m.forward({ data: [1, 2, 3, 4], shape: [2, 1, 2] }).output.data);
      m.dispose();
    }
    for (const o of outs) expect(maxAbsDiff(o, outs[0]!)).toBe(0);
    vi.resetModules();
  });

  it('reports a typed error for a bad module or option', async () => {
    await expect(init({ wasm: new Uint8Array([0, 1, 2, 3]), force: true })).rejects.toBeInstanceOf(InitError);
    await expect(init({ wasm: '/nonexistent/rnn.wasm', force: true })).rejects.toThrow(/could not load/);
    // @ts-expect-error wrong option on purpose
    await expect(init({ simd: 'avx', force: true })).rejects.toThrow(/options.simd/);
    await init({ simd: 'simd', force: true });
  });

  it("on Node 20 without flags, 'auto' turns relaxed SIMD on and 'simd' leaves V8's flags alone", () => {
    // A fresh process without --experimental-wasm-relaxed-simd (vitest's workers have it).
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const probe = (simd: string): { flavour: string; byFlag: boolean; validates: boolean } => JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', `
        const m = await import(${JSON.stringify(dist)});
        const e = await m.init({ simd: ${JSON.stringify(simd)} });
        console.log(JSON.stringify({ flavour: e.flavour, byFlag: !!e.features.relaxedSimdByFlag,
          validates: m.detectFeatures().relaxedSimd }));`], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));
    const major = Number(process.versions.node.split('.')[0]);
    const auto = probe('auto');
    expect(auto.flavour).toBe('relaxed');
    expect(auto.validates).toBe(true);
    expect(auto.byFlag).toBe(major < 22);
    const plain = probe('simd');
    expect(plain.flavour).toBe('simd');
    expect(plain.byFlag).toBe(false);
    if (major < 22) expect(plain.validates).toBe(false);
  });
});

describe('validation', () => {
  it('rejects bad options with errors naming the option', () => {
    expect(() => new LSTM({ inputSize: 0, hiddenSize: 4 })).toThrow(/options.inputSize: expected an integer in \[1, 65536\], got 0/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 1.5 })).toThrow(InvalidArgumentError);
    // @ts-expect-error wrong type on purpose
    expect(() => new GRU({ inputSize: 2, hiddenSize: 'a' })).toThrow(/options.hiddenSize/);
    // @ts-expect-error wrong type on purpose
    expect(() => new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: 'sigmoid' })).toThrow(/options.nonlinearity/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, projSize: 3 })).toThrow(/projSize: must be smaller than hiddenSize \(3\)/);
    // @ts-expect-error projSize is LSTM only
    expect(() => new GRU({ inputSize: 2, hiddenSize: 3, projSize: 1 })).toThrow(/only supported by LSTM/);
    // @ts-expect-error wrong type on purpose
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: 1 })).toThrow(/options.bidirectional: expected a boolean/);
    // @ts-expect-error missing options on purpose
    expect(() => new LSTM()).toThrow(/options/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 1e6 })).toThrow(/options.hiddenSize/);
  });

  it('rejects bad inputs with typed errors and stays usable', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 2 });
    const x = { data: randn(2 * 2 * 3, 1), shape: [2, 2, 3] };
    const good = m.forward(x).output.data;
    const bad: Array<[() => unknown, RegExp, new (...a: never[]) => Error]> = [
      [() => m.forward({ data: randn(16, 1), shape: [2, 2, 4] }), /input: expected shape \[T, B, 3\], got \[2, 2, 4\]/, ShapeError],
      [() => m.forward({ data: randn(11, 1), shape: [2, 2, 3] }), /input: data length 11 does not match shape/, ShapeError],
      [() => m.forward({ data: randn(3, 1), shape: [3] }), /input: expected 3 dimensions/, ShapeError],
      [() => m.forward({ data: [], shape: [0, 2, 3] }), /sequence length must be at least 1/, ShapeError],
      [() => m.forward({ data: [], shape: [2, 0, 3] }), /batch size must be at least 1/, ShapeError],
      [() => m.forward({ data: [1, 2, NaN, 4, 5, 6], shape: [2, 1, 3] }), /input: element 2 is NaN/, InvalidArgumentError],
      [() => m.forward({ data: [1, 2, Infinity, 4, 5, 6], shape: [2, 1, 3] }), /element 2 is Infinity/, InvalidArgumentError],
      [() => m.forward(x, { h0: { data: new Float32Array(8), shape: [1, 2, 4] } }), /h0: expected shape \[2, 2, 4\], got \[1, 2, 4\]/, ShapeError],
      [() => m.forward(x, { c0: { data: new Float32Array(16), shape: [2, 2, 3] } as never }), /c0: /, ShapeError],
      [() => m.forward(x, { lengths: [1] }), /lengths: expected 2 entries/, ShapeError],
      [() => m.forward(x, { lengths: [1, 3] }), /lengths\[1\]: expected an integer in \[1, 2\] \(T = 2\), got 3/, InvalidArgumentError],
      [() => m.forward(x, { lengths: [0, 1] }), /lengths\[0\]: /, InvalidArgumentError],
      [() => m.forward(x, { lengths: [1.5, 1] }), /lengths\[0\]: /, InvalidArgumentError],
      [() => m.forward(null as never), /input: expected a tensor/, InvalidArgumentError],
    ];
    for (const [call, msg, type] of bad) {
      expect(call).toThrow(type);
      expect(call).toThrow(msg);
      expect(maxAbsDiff(m.forward(x).output.data, good)).toBe(0);
    }
    const g = new GRU({ inputSize: 3, hiddenSize: 4 });
    expect(() => g.forward(x, { c0: { data: new Float32Array(8), shape: [1, 2, 4] } })).toThrow(/c0: only LSTM has a cell state/);
    m.dispose();
    g.dispose();
  });

  // A Float32Array input is checked in WebAssembly after it is copied in (a plain array in JavaScript first): the
  // same errors, for every position, layout and value, and the model unchanged.
  it('rejects non-finite Float32Array inputs at any position, in every layout, and stays usable', () => {
    const T = 5, B = 3, I = 6;
    for (const [layout, opts, shape] of [['time-major', {}, [T, B, I]], ['batchFirst', { batchFirst: true }, [B, T, I]],
      ['unbatched', {}, [T, I]]] as const) {
      const m = new GRU({ inputSize: I, hiddenSize: 8, seed: 3, ...opts });
      const n = shape.reduce((p, q) => p * q, 1);
      const x = { data: randn(n, 4), shape: [...shape] };
      const good = m.forward(x).output.data;
      for (const at of [0, 1, 5, 17, n - 5, n - 1]) {
        for (const [v, text] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
          const data = x.data.slice();
          data[at] = v;
          const call = (): unknown => m.forward({ data, shape: [...shape] });
          expect(call, `${layout} at ${at}`).toThrow(InvalidArgumentError);
          expect(call, `${layout} at ${at}`).toThrow(new RegExp(`^input: element ${at} is ${text}; inputs must be finite`));
        }
      }
      expect(maxAbsDiff(m.forward(x).output.data, good)).toBe(0);
      m.dispose();
    }
  });
});

describe('state dict', () => {
  const make = (): RecurrentLayer => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, seed: 7 });

  it('refuses non-finite weights and doubles beyond float32, naming the tensor and element, writing nothing', () => {
    const m = make();
    const before = m.stateDict();
    for (const [bad, what] of [[Number.NaN, /element 7 is NaN/], [-Infinity, /element 7 is -Infinity/],
      [1e39, /element 7 is 1e\+39, beyond the float32 range/]] as const) {
      const sd: Record<string, { shape: number[]; data: Float64Array }> = {};
      for (const [k, t] of Object.entries(before)) sd[k] = { shape: t.shape, data: Float64Array.from(t.data) };
      sd.weight_hh_l1_reverse!.data[7] = bad;
      expect(() => m.loadStateDict(sd)).toThrow(StateDictError);
      expect(() => m.loadStateDict(sd)).toThrow(what);
      expect(() => m.loadStateDict(sd)).toThrow(/weight_hh_l1_reverse/);
      for (const [k, t] of Object.entries(m.stateDict())) expect(maxAbsDiff(t.data, before[k]!.data), k).toBe(0);
    }
    m.dispose();
  });

  it('lists PyTorch names and shapes in PyTorch order', () => {
    const m = make();
    const sd = m.stateDict();
    expect(Object.keys(sd).slice(0, 10)).toEqual([
      'weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_hr_l0',
      'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse', 'weight_hr_l0_reverse',
    ]);
    expect(sd.weight_ih_l0!.shape).toEqual([20, 3]);
    expect(sd.weight_hh_l0!.shape).toEqual([20, 2]);
    expect(sd.weight_hr_l0!.shape).toEqual([2, 5]);
    expect(sd.weight_ih_l1!.shape).toEqual([20, 4]);
    expect(m.numParameters).toBe(Object.values(sd).reduce((a, t) => a + t.size, 0));
    expect(m.describeArch()).toBe('LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)');
    m.dispose();
  });

  it('round-trips bit-exactly, with a prefix, as bare arrays and as .safetensors bytes', () => {
    const a = make();
    const sd = a.stateDict({ prefix: 'rnn.' });
    const x = { data: randn(4 * 2 * 3, 5), shape: [4, 2, 3] };
    const ya = a.forward(x).output.data;
    const b = make();
    b.resetParameters(99);
    expect(maxAbsDiff(b.forward(x).output.data, ya)).toBeGreaterThan(1e-3);
    b.loadStateDict({ ...sd, 'head.weight': { shape: [1, 4], data: [1, 2, 3, 4] } }, { prefix: 'rnn.' });
    expect(maxAbsDiff(b.forward(x).output.data, ya)).toBe(0);
    const back = b.stateDict({ prefix: 'rnn.' });
    for (const k of Object.keys(sd)) expect(maxAbsDiff(back[k]!.data, sd[k]!.data)).toBe(0);

    const bare = Object.fromEntries(Object.entries(a.stateDict()).map(([k, t]) => [k, Array.from(t.data)]));
    b.resetParameters(3);
    b.loadStateDict(bare);
    expect(maxAbsDiff(b.forward(x).output.data, ya)).toBe(0);

    const bytes = writeSafetensors(a.stateDict());
    b.resetParameters(4);
    b.loadStateDict(bytes);
    expect(maxAbsDiff(b.forward(x).output.data, ya)).toBe(0);
    a.dispose();
    b.dispose();
  });

  it('names the missing, unexpected or misshaped tensor and leaves the model unchanged', () => {
    const m = make();
    const x = { data: randn(2 * 1 * 3, 5), shape: [2, 1, 3] };
    const before = m.forward(x).output.data;
    const sd: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> = { ...m.stateDict() };
    const other = make();
    other.resetParameters(1);
    const changed: typeof sd = { ...other.stateDict() };

    const missing = { ...changed };
    delete missing.weight_hr_l1_reverse;
    expect(() => m.loadStateDict(missing)).toThrow(StateDictError);
    expect(() => m.loadStateDict(missing)).toThrow(/weight_hr_l1_reverse: missing tensor of shape \[2, 5\]/);
    expect(() => m.loadStateDict({ ...changed, weight_ih_l2: { shape: [20, 4], data: new Float32Array(80) } }))
      .toThrow(/weight_ih_l2: unexpected tensor/);
    expect(() => m.loadStateDict({ ...changed, weight_hh_l0: { shape: [2, 20], data: new Float32Array(40) } }))
      .toThrow(/weight_hh_l0: expected shape \[20, 2\], got \[2, 20\]/);
    expect(() => m.loadStateDict({ ...changed, bias_ih_l0: new Float32Array(19) })).toThrow(/bias_ih_l0: expected 20 values/);
    const nan = new Float32Array(20);
    nan[4] = NaN;
    expect(() => m.loadStateDict({ ...changed, bias_ih_l0: nan })).toThrow(/bias_ih_l0: element 4 is NaN/);
    expect(() => m.loadStateDict({ ...changed, bias_ih_l0: 'x' } as never)).toThrow(InvalidArgumentError);
    expect(maxAbsDiff(m.forward(x).output.data, before)).toBe(0);
    // strict: false ignores missing and unexpected names
    m.loadStateDict({ weight_ih_l0: changed.weight_ih_l0!, extra: [1] }, { strict: false });
    expect(maxAbsDiff(m.forward(x).output.data, before)).toBeGreaterThan(0);
    m.dispose();
    other.dispose();
  });

  it('reads F64 and F16 safetensors, and a PyTorch-written file under a prefix', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3, seed: 2 });
    const sd = m.stateDict();
    const f64 = writeSafetensors(sd, { dtype: 'F64' });
    const m2 = new GRU({ inputSize: 2, hiddenSize: 3, seed: 5 });
    m2.loadStateDict(f64);
    for (const [k, t] of Object.entries(m2.stateDict())) expect(maxAbsDiff(t.data, sd[k]!.data)).toBe(0);

    // F16: values k/64 are exact in half precision; the file is laid out by hand as the spec says.
    const names = Object.keys(sd).sort();
    const header: Record<string, unknown> = {};
    const halves: number[] = [];
    const want: Record<string, number[]> = {};
    for (const name of names) {
      const n = sd[name]!.size;
      const vals = Array.from({ length: n }, (_, i) => ((i * 7 + name.length) % 97 - 48) / 64);
      want[name] = vals;
      header[name] = { dtype: 'F16', shape: [...sd[name]!.shape], data_offsets: [halves.length * 2, (halves.length + n) * 2] };
      for (const v of vals) halves.push(toHalf(v));
    }
    let json = JSON.stringify(header);
    while ((json.length + 8) % 8) json += ' ';
    const bytes = new Uint8Array(8 + json.length + halves.length * 2);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, BigInt(json.length), true);
    bytes.set(new TextEncoder().encode(json), 8);
    halves.forEach((h, i) => dv.setUint16(8 + json.length + 2 * i, h, true));
    m2.loadStateDict(bytes);
    for (const [k, t] of Object.entries(m2.stateDict())) expect(Array.from(t.data)).toEqual(want[k]);

    // A file written in Python from a torch.nn.LSTM state dict, beside unrelated tensors (prefix 'lstm.').
    const fixture = readFileSync(fileURLToPath(new URL('./fixtures/safetensors/mixed.safetensors', import.meta.url)));
    const l = new LSTM({ inputSize: 3, hiddenSize: 4 });
    l.loadStateDict(fixture, { prefix: 'lstm.' });
    expect(l.stateDict().weight_hh_l0!.shape).toEqual([16, 4]);
    expect(() => l.loadStateDict(fixture)).toThrow(/unexpected tensor/);
    m.dispose();
    m2.dispose();
    l.dispose();
  });
});

/** IEEE half bits of a value exactly representable in half precision (test helper). */
function toHalf(v: number): number {
  if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  const e = Math.floor(Math.log2(a));
  if (e < -14) return sign | Math.round(a / 2 ** -24);
  const mant = Math.round((a / 2 ** e - 1) * 1024);
  return sign | ((e + 15) << 10) | mant;
}

describe('dispose', () => {
  it('frees memory, is idempotent, and use after dispose throws DisposedError', () => {
    const m = new LSTM({ inputSize: 4, hiddenSize: 8, seed: 1 });
    const used = m.engine.stats().usedBytes;
    m.forward({ data: randn(20, 1), shape: [5, 1, 4] });
    expect(m.engine.stats().usedBytes).toBeGreaterThan(used);
    m[Symbol.dispose]();
    m.dispose();
    expect(m.isDisposed).toBe(true);
    expect(() => m.forward({ data: randn(20, 1), shape: [5, 1, 4] })).toThrow(DisposedError);
    expect(() => m.stateDict()).toThrow(/LSTM was disposed/);
    expect(() => m.createSession()).toThrow(DisposedError);
  });

  it('UnsupportedError is typed', () => {
    const m = new LSTM({ inputSize: 1, hiddenSize: 2, bidirectional: true });
    expect(() => m.createSession()).toThrow(UnsupportedError);
    m.dispose();
  });
});
