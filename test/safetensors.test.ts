import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
  type SafetensorsErrorCode,
  type SafetensorsFile,
} from '../src/io/safetensors.js';

// ---------------------------------------------------------------------------
// helpers

const FIXTURES = fileURLToPath(new URL('./fixtures/safetensors/', import.meta.url));

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURES + name));
}

type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';
interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: JsonNumber[];
  f32_bits: number[];
  as_f32?: JsonNumber[];
}
interface ExpectedFile {
  metadata: Record<string, string>;
  tensors: Record<string, ExpectedTensor>;
}
const EXPECTED = JSON.parse(readFileSync(FIXTURES + 'expected.json', 'utf8')) as Record<string, ExpectedFile>;

function num(x: JsonNumber): number {
  if (x === 'NaN') return Number.NaN;
  if (x === 'Infinity') return Number.POSITIVE_INFINITY;
  if (x === '-Infinity') return Number.NEGATIVE_INFINITY;
  return x;
}

function bitsOf(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}

const enc = new TextEncoder();

/** A file from a raw header string (not padded) and a data section. */
function build(header: string | object, data: Uint8Array | number = 0): Uint8Array {
  const json = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

/** A file whose 8-byte prefix declares `length` (low word, high word) followed by `rest`. */
function withLength(low: number, high: number, rest: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(8 + rest.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, low, true);
  view.setUint32(4, high, true);
  out.set(rest, 8);
  return out;
}

function caught(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError, nothing was thrown');
}

/** Asserts the code, and that the message quotes the tensor name (and the extra fragments). */
function expectError(
  fn: () => unknown,
  code: SafetensorsErrorCode,
  tensor?: string,
  ...fragments: string[]
): SafetensorsError {
  const err = caught(fn);
  expect(err.code).toBe(code);
  expect(err.name).toBe('SafetensorsError');
  if (tensor !== undefined) {
    expect(err.message).toContain(JSON.stringify(tensor));
    expect(err.tensor).toBe(tensor);
  }
  for (const fragment of fragments) expect(err.message).toContain(fragment);
  return err;
}

const read = (bytes: Uint8Array, options?: Parameters<typeof readSafetensors>[1]): SafetensorsFile =>
  readSafetensors(bytes, options);

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function headerText(file: Uint8Array): string {
  const n = new DataView(file.buffer, file.byteOffset).getUint32(0, true);
  return new TextDecoder().decode(file.subarray(8, 8 + n));
}

afterEach(() => {
  vi.unstubAllGlobals();
});

// ---------------------------------------------------------------------------
// fixtures written by test/fixtures/gen_safetensors.py (numpy / torch)

describe('fixtures', () => {
  for (const fileName of ['mixed.safetensors', 'bf16.safetensors']) {
    describe(fileName, () => {
      const expected = EXPECTED[fileName]!;
      const bytes = fixture(fileName);
      const file = read(bytes);

      it('has the expected metadata and tensor names', () => {
        expect(file.metadata).toEqual(expected.metadata);
        expect([...file.tensors.keys()].sort()).toEqual(Object.keys(expected.tensors).sort());
      });

      it('is laid out as the reference writer does (8-byte aligned data start)', () => {
        const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
        expect(n % 8).toBe(0);
        expect(headerText(bytes).startsWith('{')).toBe(true);
      });

      for (const [name, exp] of Object.entries(expected.tensors)) {
        it(`decodes ${name} (${exp.dtype} ${JSON.stringify(exp.shape)}) exactly`, () => {
          const t = file.tensors.get(name)!;
          expect(t.dtype).toBe(exp.dtype);
          expect(t.shape).toEqual(exp.shape);
          expect(t.data).toBeInstanceOf(Float32Array);
          expect(t.data.length).toBe(exp.values.length);
          const bits = bitsOf(t.data);
          for (let i = 0; i < exp.values.length; i++) {
            const value = num(exp.values[i]!);
            const actual = t.data[i]!;
            if (exp.dtype === 'F64') {
              // Rounded to nearest: same as Math.fround and as numpy's astype(float32).
              expect(Object.is(actual, Math.fround(value)), `${name}[${i}]`).toBe(true);
              expect(Object.is(actual, num(exp.as_f32![i]!)), `${name}[${i}]`).toBe(true);
              if (!Number.isNaN(value)) expect(bits[i], `${name}[${i}]`).toBe(exp.f32_bits[i]);
            } else {
              // F32, F16 and BF16 widen exactly: same value, same bits (NaN payloads included).
              expect(Object.is(actual, value), `${name}[${i}]`).toBe(true);
              expect(bits[i], `${name}[${i}]`).toBe(exp.f32_bits[i]);
            }
          }
        });
      }
    });
  }

  it('mixed.safetensors lists tensors in data order (F64 first, then F32, then F16)', () => {
    const file = read(fixture('mixed.safetensors'));
    const dtypes = [...file.tensors.values()].map((t) => t.dtype);
    expect(dtypes.indexOf('F64')).toBe(0);
    expect(dtypes.lastIndexOf('F64')).toBeLessThan(dtypes.indexOf('F32'));
    expect(dtypes.lastIndexOf('F32')).toBeLessThan(dtypes.indexOf('F16'));
  });

  it('reads an ArrayBuffer and an unaligned Uint8Array view identically', () => {
    const bytes = fixture('mixed.safetensors');
    const reference = read(bytes);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const unaligned = shifted.subarray(3); // F64 and F16 data now misaligned
    const exact = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    for (const other of [read(unaligned), readSafetensors(exact)]) {
      expect([...other.tensors.keys()]).toEqual([...reference.tensors.keys()]);
      for (const [name, t] of reference.tensors) {
        const o = other.tensors.get(name)!;
        expect(o.shape).toEqual(t.shape);
        expect(bitsOf(o.data)).toEqual(bitsOf(t.data));
      }
    }
  });

  it('returns tensors that own their data (no aliasing of the input)', () => {
    const bytes = fixture('mixed.safetensors');
    const file = read(bytes);
    const before = bitsOf(file.tensors.get('lstm.bias_ih_l0')!.data);
    bytes.fill(0, 200);
    expect(bitsOf(file.tensors.get('lstm.bias_ih_l0')!.data)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------
// writer

describe('writeSafetensors', () => {
  it('round-trips Float32 data bit-exactly (NaN payloads, -0, subnormals, infinities)', () => {
    const random = rng(1);
    const bits = new Uint32Array(257);
    for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(random() * 2 ** 32);
    bits.set([0x7fc00000, 0x7f800001, 0xffbfffff, 0x80000000, 0x00000001, 0x7f800000, 0xff800000], 0);
    const a = new Float32Array(bits.buffer);
    const b = new Float32Array([1.5, -2.25, 3, 4, 5, 6]);
    const file = read(writeSafetensors({ a: { shape: [257], data: a }, 'b.weight': { shape: [2, 3], data: b } }));
    expect(bitsOf(file.tensors.get('a')!.data)).toEqual(Array.from(bits));
    expect(file.tensors.get('a')!.dtype).toBe('F32');
    expect(file.tensors.get('b.weight')!.shape).toEqual([2, 3]);
    expect(Array.from(file.tensors.get('b.weight')!.data)).toEqual(Array.from(b));
    expect(file.metadata).toEqual({});
  });

  it('writes from a subarray view (byteOffset != 0) correctly', () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const file = read(writeSafetensors({ x: { shape: [3], data: backing.subarray(1, 4) } }));
    expect(Array.from(file.tensors.get('x')!.data)).toEqual([1, 2, 3]);
  });

  it('rounds Float64 data to F32 by default, and stores it exactly with dtype F64', () => {
    const data = new Float64Array([0.1, 1 + 2 ** -24, 1e300, -1e-300, Math.PI, Number.NaN]);
    const f32 = read(writeSafetensors({ x: { shape: [6], data } })).tensors.get('x')!;
    expect(f32.dtype).toBe('F32');
    const f64bytes = writeSafetensors({ x: { shape: [2, 3], data } }, { dtype: 'F64' });
    const f64 = read(f64bytes).tensors.get('x')!;
    expect(f64.dtype).toBe('F64');
    expect(f64.shape).toEqual([2, 3]);
    for (let i = 0; i < data.length; i++) {
      expect(Object.is(f32.data[i], Math.fround(data[i]!))).toBe(true);
      expect(Object.is(f64.data[i], Math.fround(data[i]!))).toBe(true);
    }
    // The F64 payload itself is the input, bit for bit.
    const n = new DataView(f64bytes.buffer).getUint32(0, true);
    expect(new Float64Array(f64bytes.slice(8 + n).buffer)).toEqual(data);
  });

  it('widens Float32 data exactly with dtype F64', () => {
    const data = new Float32Array([0.1, -3.5, 1e-40]);
    const bytes = writeSafetensors({ x: { shape: [3], data } }, { dtype: 'F64' });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(Array.from(new Float64Array(bytes.slice(8 + n).buffer))).toEqual(Array.from(data));
    expect(bitsOf(read(bytes).tensors.get('x')!.data)).toEqual(bitsOf(data));
  });

  it('produces the reference writer bytes for a single F32 tensor', () => {
    // The reference implementation's serialisation test: "attn.0", shape [1,2,3], values 0..5.
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const out = writeSafetensors({ 'attn.0': { shape: [1, 2, 3], data } });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64);
    expect(Array.from(out)).toEqual([
      ...[64, 0, 0, 0, 0, 0, 0, 0],
      ...enc.encode(header),
      ...new Uint8Array(data.buffer),
    ]);
    // Shorter name: 7 spaces of padding bring the header to 72 bytes.
    const out2 = writeSafetensors({ attn0: { shape: [1, 1, 2, 3], data } });
    const header2 = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}' + ' '.repeat(7);
    expect(Array.from(out2)).toEqual([
      ...[72, 0, 0, 0, 0, 0, 0, 0],
      ...enc.encode(header2),
      ...new Uint8Array(data.buffer),
    ]);
  });

  it('produces the reference writer bytes for empty files, with and without metadata', () => {
    expect(Array.from(writeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...enc.encode('{}      ')]);
    const withMeta = writeSafetensors({}, { metadata: { framework: 'pt' } });
    expect(Array.from(withMeta)).toEqual([
      ...[40, 0, 0, 0, 0, 0, 0, 0],
      ...enc.encode('{"__metadata__":{"framework":"pt"}}     '),
    ]);
    expect(read(withMeta)).toEqual({ tensors: new Map(), metadata: { framework: 'pt' } });
  });

  it('is deterministic: tensors sorted by name whatever the input order or container', () => {
    const t = (v: number) => ({ shape: [1], data: new Float32Array([v]) });
    const names = ['b', '9', '10', 'a.z', 'a', '__proto__', 'é', '\u{1F600}', '\uFFFD', 'B'];
    const rec: Record<string, ReturnType<typeof t>> = {};
    names.forEach((name, i) => Object.defineProperty(rec, name, { value: t(i), enumerable: true }));
    const reversed = new Map([...names].reverse().map((name) => [name, rec[name]!] as const));
    const one = writeSafetensors(rec, { metadata: { z: '1', a: '2', '10': '3', '9': '4' } });
    const two = writeSafetensors(reversed, { metadata: { '9': '4', a: '2', z: '1', '10': '3' } });
    expect(Array.from(one)).toEqual(Array.from(two));
    // Code-point (UTF-8 byte) order, as the reference writer sorts; integer-like names are not reordered.
    const file = read(one);
    expect([...file.tensors.keys()]).toEqual(['10', '9', 'B', '__proto__', 'a', 'a.z', 'b', 'é', '\uFFFD', '\u{1F600}']);
    expect(file.tensors.get('__proto__')!.data[0]).toBe(5);
    expect(file.metadata).toEqual({ z: '1', a: '2', '10': '3', '9': '4' });
    expect(headerText(one).startsWith('{"__metadata__":{"10":"3","9":"4","a":"2","z":"1"},"10":')).toBe(true);
  });

  it('aligns the data section to 8 bytes and packs tensors contiguously', () => {
    for (let len = 1; len <= 12; len++) {
      const name = 'x'.repeat(len);
      const bytes = writeSafetensors(
        { [name]: { shape: [3], data: new Float64Array([1, 2, 3]) }, [name + 'y']: { shape: [0], data: new Float64Array(0) } },
        { dtype: 'F64' },
      );
      const n = new DataView(bytes.buffer).getUint32(0, true);
      expect((8 + n) % 8).toBe(0);
      expect(bytes.length).toBe(8 + n + 24);
      expect(headerText(bytes)).toMatch(/^\{.*\} *$/);
      expect(Array.from(read(bytes).tensors.get(name)!.data)).toEqual([1, 2, 3]);
    }
  });

  it('round-trips scalars, empty tensors and metadata with unusual characters', () => {
    const metadata = { 'quote"back\\slash': 'new\nline\u0000nul', unicode: 'é中\u{1F600}', '': '' };
    const bytes = writeSafetensors(
      new Map([
        ['scalar', { shape: [] as number[], data: new Float32Array([7]) }],
        ['empty', { shape: [0, 5], data: new Float32Array(0) }],
        ['with "quotes" and \\', { shape: [1, 1], data: new Float32Array([-1]) }],
      ]),
      { metadata },
    );
    const file = read(bytes);
    expect(file.metadata).toEqual(metadata);
    expect(file.tensors.get('scalar')).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([7]) });
    expect(file.tensors.get('empty')).toEqual({ dtype: 'F32', shape: [0, 5], data: new Float32Array(0) });
    expect(file.tensors.get('with "quotes" and \\')!.data[0]).toBe(-1);
  });

  it('handles many tensors quickly', () => {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (let i = 0; i < 5000; i++) tensors.set(`layer.${i}.weight`, { shape: [2], data: new Float32Array([i, -i]) });
    const file = read(writeSafetensors(tensors));
    expect(file.tensors.size).toBe(5000);
    expect(Array.from(file.tensors.get('layer.4321.weight')!.data)).toEqual([4321, -4321]);
  });

  describe('rejects', () => {
    const ok = { shape: [2], data: new Float32Array(2) };
    it('a shape that does not match the data length', () => {
      expectError(() => writeSafetensors({ w: { shape: [3], data: new Float32Array(2) } }), 'SAFETENSORS_SHAPE', 'w', '3', '2');
      expectError(() => writeSafetensors({ w: { shape: [2 ** 40, 2 ** 40], data: new Float32Array(2) } }), 'SAFETENSORS_SHAPE', 'w');
    });
    it('invalid shape entries', () => {
      for (const shape of [[-1], [1.5], ['2'], [Number.NaN], [2 ** 53]] as unknown as number[][]) {
        expectError(() => writeSafetensors({ w: { shape, data: new Float32Array(1) } }), 'SAFETENSORS_SHAPE', 'w', 'shape[0]');
      }
      expectError(() => writeSafetensors({ w: { shape: 2 as unknown as number[], data: new Float32Array(2) } }), 'SAFETENSORS_SHAPE', 'w');
    });
    it('data that is not a Float32Array or Float64Array', () => {
      const data = [1, 2] as unknown as Float32Array;
      expectError(() => writeSafetensors({ w: { shape: [2], data } }), 'SAFETENSORS_INPUT', 'w', 'Array');
      expectError(() => writeSafetensors({ w: { shape: [2], data: new Int32Array(2) as unknown as Float32Array } }), 'SAFETENSORS_INPUT', 'w', 'Int32Array');
      expectError(() => writeSafetensors({ w: null as unknown as typeof ok }), 'SAFETENSORS_INPUT', 'w');
    });
    it('the reserved name __metadata__ and ill-formed names', () => {
      expectError(() => writeSafetensors({ __metadata__: ok }), 'SAFETENSORS_INPUT', '__metadata__', 'reserved');
      expectError(() => writeSafetensors({ 'a\uD800': ok }), 'SAFETENSORS_INPUT', 'a\uD800', 'surrogate');
    });
    it('containers that are not a record or Map of string names', () => {
      expectError(() => writeSafetensors(null as unknown as Record<string, typeof ok>), 'SAFETENSORS_INPUT', undefined, 'null');
      const map = new Map([[1, ok]]) as unknown as Map<string, typeof ok>;
      expectError(() => writeSafetensors(map), 'SAFETENSORS_INPUT', undefined, 'number');
    });
    it('non-string metadata values and unknown dtypes', () => {
      const metadata = { version: 2 } as unknown as Record<string, string>;
      expectError(() => writeSafetensors({ w: ok }, { metadata }), 'SAFETENSORS_INPUT', undefined, '"version"', 'number');
      expectError(() => writeSafetensors({ w: ok }, { dtype: 'F16' as 'F32' }), 'SAFETENSORS_DTYPE', undefined, 'F16');
    });
  });
});

// ---------------------------------------------------------------------------
// reader validation: one test per rule

const F32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

describe('readSafetensors validation', () => {
  it('accepts a minimal hand-built file (sanity check of the helpers)', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    const file = read(build({ a: F32([2], 0, 8), b: F32([2], 8, 16) }, data));
    expect(Array.from(file.tensors.get('a')!.data)).toEqual([1, 2]);
    expect(Array.from(file.tensors.get('b')!.data)).toEqual([3, 4]);
    // Zero-length tensors may share an offset; the order of entries does not matter.
    const z = read(build({ b: F32([1], 0, 4), e2: F32([0], 4, 4), e1: F32([0, 2], 0, 0) }, 4));
    expect([...z.tensors.keys()]).toEqual(['e1', 'b', 'e2']);
  });

  it('rejects a buffer shorter than 8 bytes', () => {
    for (let n = 0; n < 8; n++) expectError(() => read(new Uint8Array(n)), 'SAFETENSORS_TRUNCATED', undefined, `${n} bytes`);
  });

  it('rejects a header length beyond the buffer', () => {
    expectError(() => read(withLength(3, 0, enc.encode('{}'))), 'SAFETENSORS_TRUNCATED', undefined, 'header length 3', '2 bytes');
    expectError(() => read(withLength(1000, 0)), 'SAFETENSORS_TRUNCATED', undefined, '1000');
  });

  it('rejects a header length beyond maxHeaderBytes (default 100 MB), before looking further', () => {
    expectError(() => read(withLength(100_000_001, 0)), 'SAFETENSORS_LIMIT', undefined, '100000001', '100000000');
    expectError(() => read(withLength(0xffffffff, 0xffffffff)), 'SAFETENSORS_LIMIT');
    expectError(() => read(withLength(0, 1)), 'SAFETENSORS_LIMIT', undefined, '4294967296');
    expectError(() => read(build('{}      '), { maxHeaderBytes: 7 }), 'SAFETENSORS_LIMIT', undefined, '8', '7');
    expect(read(build('{}      '), { maxHeaderBytes: 8 }).tensors.size).toBe(0);
    // With the limit lifted, an impossible length is still a truncation, not a crash.
    expectError(() => read(withLength(0xffffffff, 0xffffffff), { maxHeaderBytes: Infinity }), 'SAFETENSORS_TRUNCATED');
  });

  it('rejects a header that is not UTF-8', () => {
    for (const bad of [[0x7b, 0xff, 0x7d], [0x7b, 0xc3, 0x7d], [0x7b, 0xed, 0xa0, 0x80, 0x7d]]) {
      expectError(() => read(withLength(bad.length, 0, new Uint8Array(bad))), 'SAFETENSORS_HEADER', undefined, 'UTF-8');
    }
  });

  it('rejects a header that is not JSON', () => {
    for (const text of ['{', '{"a":}', '{"a":1,}', "{'a':1}", '{}x', '{"a":NaN}', '{}\u0000']) {
      expectError(() => read(build(text)), 'SAFETENSORS_HEADER', undefined, 'JSON');
    }
  });

  it('rejects a header that is not a JSON object or does not start with "{"', () => {
    for (const text of ['[]', '"{}"', 'null', '1', ' {}', '\n{}', '\uFEFF{}', '']) {
      expectError(() => read(build(text)), 'SAFETENSORS_HEADER', undefined, '{');
    }
  });

  it('rejects an entry that is not an object', () => {
    for (const value of ['5', 'null', '[]', '"F32"']) {
      expectError(() => read(build(`{"w.0":${value}}`)), 'SAFETENSORS_HEADER', 'w.0', 'expected an object');
    }
  });

  it('rejects an entry missing dtype, shape or data_offsets', () => {
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      const entry: Record<string, unknown> = F32([1], 0, 4);
      delete entry[field];
      expectError(() => read(build({ w: entry }, 4)), 'SAFETENSORS_HEADER', 'w', `"${field}"`);
    }
  });

  it('rejects fields of the wrong type', () => {
    expectError(() => read(build({ w: { dtype: 32, shape: [1], data_offsets: [0, 4] } }, 4)), 'SAFETENSORS_HEADER', 'w', 'dtype', 'number');
    expectError(() => read(build({ w: { dtype: 'F32', shape: 1, data_offsets: [0, 4] } }, 4)), 'SAFETENSORS_HEADER', 'w', 'shape', 'number');
    expectError(() => read(build({ w: { dtype: 'F32', shape: { 0: 1 }, data_offsets: [0, 4] } }, 4)), 'SAFETENSORS_HEADER', 'w', 'shape');
  });

  it('rejects unsupported and unknown dtypes', () => {
    for (const dtype of ['I64', 'I32', 'U8', 'BOOL', 'F8_E4M3']) {
      expectError(() => read(build({ w: { dtype, shape: [1], data_offsets: [0, 8] } }, 8)), 'SAFETENSORS_DTYPE', 'w', 'unsupported', dtype, 'F64, F32, F16, BF16');
    }
    for (const dtype of ['f32', 'float32', 'F17', '', 'toString', '__proto__']) {
      expectError(() => read(build({ w: { dtype, shape: [1], data_offsets: [0, 4] } }, 4)), 'SAFETENSORS_DTYPE', 'w', 'unknown');
    }
  });

  it('rejects shape entries that are not non-negative safe integers', () => {
    for (const dim of [-1, 1.5, '2', null, true, [1], 2 ** 53, 1e300]) {
      expectError(() => read(build({ w: { dtype: 'F32', shape: [1, dim], data_offsets: [0, 4] } }, 4)), 'SAFETENSORS_SHAPE', 'w', 'shape[1]');
    }
  });

  it('rejects a shape whose element count overflows, without computing it', () => {
    const huge = 2 ** 26;
    expectError(() => read(build({ w: { dtype: 'F32', shape: [huge, huge, huge], data_offsets: [0, 4] } }, 4)), 'SAFETENSORS_SHAPE', 'w', 'overflow');
    // 2^51 elements of 4 bytes do not fit a safe integer either.
    expectError(() => read(build({ w: { dtype: 'F32', shape: [2 ** 51], data_offsets: [0, 4] } }, 4)), 'SAFETENSORS_SHAPE', 'w', 'overflow');
    // A zero dimension before the huge ones makes the tensor empty, which is fine...
    expect(read(build({ w: { dtype: 'F32', shape: [0, 2 ** 52, 2 ** 52], data_offsets: [0, 0] } })).tensors.get('w')!.data.length).toBe(0);
    // ...but, as in the reference implementation, not after them.
    expectError(() => read(build({ w: { dtype: 'F32', shape: [2 ** 52, 2 ** 52, 0], data_offsets: [0, 0] } })), 'SAFETENSORS_SHAPE', 'w', 'overflow');
  });

  it('rejects data_offsets that are not two integers with begin <= end', () => {
    for (const offsets of [[0], [0, 4, 8], 'x', { 0: 0, 1: 4 }, [0.5, 4], [-4, 4], ['0', '4'], [0, 2 ** 53], null]) {
      expectError(() => read(build({ w: { dtype: 'F32', shape: [1], data_offsets: offsets } }, 4)), 'SAFETENSORS_OFFSETS', 'w', 'data_offsets');
    }
    expectError(() => read(build({ w: F32([0], 4, 0) }, 4)), 'SAFETENSORS_OFFSETS', 'w', 'end 0', 'begin 4');
  });

  it('rejects an end beyond the data section', () => {
    expectError(() => read(build({ w: F32([2], 0, 8) }, 4)), 'SAFETENSORS_TRUNCATED', 'w', 'end 8', '4 bytes');
    expectError(() => read(build({ w: F32([1], 2 ** 40, 2 ** 40 + 4) }, 4)), 'SAFETENSORS_TRUNCATED', 'w');
  });

  it('rejects a byte range whose length is not product(shape) * dtype size', () => {
    expectError(() => read(build({ w: F32([2, 2], 0, 12) }, 12)), 'SAFETENSORS_SHAPE', 'w', '16 bytes', 'span 12');
    expectError(() => read(build({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, 8)), 'SAFETENSORS_SHAPE', 'h', 'F16', '6 bytes');
    expectError(() => read(build({ s: F32([], 0, 0) }, 0)), 'SAFETENSORS_SHAPE', 's', '4 bytes');
  });

  it('rejects overlapping byte ranges, naming the tensor', () => {
    expectError(() => read(build({ a: F32([2], 0, 8), b: F32([2], 4, 12) }, 12)), 'SAFETENSORS_OFFSETS', 'b', 'overlap', '"a"');
    // Identical ranges (aliases) overlap too.
    expectError(() => read(build({ a: F32([2], 0, 8), b: F32([2], 0, 8) }, 8)), 'SAFETENSORS_OFFSETS', 'b', 'overlap');
    // Nested: the outer range starts first.
    expectError(() => read(build({ outer: F32([4], 0, 16), inner: F32([1], 4, 8) }, 16)), 'SAFETENSORS_OFFSETS', 'inner', 'overlap', '"outer"');
  });

  it('rejects holes between, before and after the tensors (as the reference implementation)', () => {
    expectError(() => read(build({ a: F32([1], 0, 4), b: F32([1], 8, 12) }, 12)), 'SAFETENSORS_OFFSETS', 'b', 'begin 8', 'expected 4', '"a"');
    expectError(() => read(build({ a: F32([1], 4, 8) }, 8)), 'SAFETENSORS_OFFSETS', 'a', 'expected 0');
    expectError(() => read(build({ a: F32([1], 0, 4) }, 5)), 'SAFETENSORS_OFFSETS', 'a', '5 bytes', 'ends at 4');
    expectError(() => read(build({}, 3)), 'SAFETENSORS_OFFSETS', undefined, 'no tensor');
  });

  it('rejects duplicate tensor names, which JSON.parse would silently merge', () => {
    const e = F32([1], 0, 4);
    const entry = JSON.stringify(e);
    expectError(() => read(build(`{"w":${entry},"w":${entry}}`, 4)), 'SAFETENSORS_DUPLICATE', 'w', 'more than once');
    // Equal after unescaping.
    expectError(() => read(build(`{"w\\u0031":${entry},"x":{"s":"w1"},"w1":${entry}}`, 4)), 'SAFETENSORS_DUPLICATE', 'w1');
    expectError(() => read(build(`{"__metadata__":{},"w":${entry},"__metadata__":{}}`, 4)), 'SAFETENSORS_DUPLICATE', undefined, '__metadata__');
    // Strings that are values, or keys of different objects, are not duplicates.
    const ok = read(build(`{"__metadata__":{"w":"w","dtype":"shape"},"w":${entry}}`, 4));
    expect(ok.metadata).toEqual({ w: 'w', dtype: 'shape' });
  });

  it('rejects duplicate keys inside an entry or in __metadata__', () => {
    expectError(
      () => read(build('{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,4],"dtype":"F32"}}', 4)),
      'SAFETENSORS_DUPLICATE', 'w', '"dtype"',
    );
    expectError(() => read(build('{"__metadata__":{"k":"1","k":"2"}}')), 'SAFETENSORS_DUPLICATE', undefined, '"k"');
  });

  it('rejects __metadata__ that is not an object of strings (null is accepted as absent)', () => {
    expectError(() => read(build({ __metadata__: { format: 'pt', version: 2 } })), 'SAFETENSORS_HEADER', undefined, '"version"', 'number');
    expectError(() => read(build({ __metadata__: { nested: { a: 'b' } } })), 'SAFETENSORS_HEADER', undefined, '"nested"', 'object');
    expectError(() => read(build({ __metadata__: ['pt'] })), 'SAFETENSORS_HEADER', undefined, '__metadata__', 'array');
    expectError(() => read(build({ __metadata__: 'pt' })), 'SAFETENSORS_HEADER', undefined, '__metadata__', 'string');
    expect(read(build('{"__metadata__":null}')).metadata).toEqual({});
  });

  it('keeps a "__proto__" metadata key or tensor name as ordinary data', () => {
    const file = read(build(`{"__metadata__":{"__proto__":"x"},"__proto__":${JSON.stringify(F32([1], 0, 4))}}`, 4));
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
    expect(Object.keys(file.metadata)).toEqual(['__proto__']);
    expect(file.metadata['__proto__']).toBe('x');
    expect(file.tensors.get('__proto__')!.shape).toEqual([1]);
  });

  it('rejects names with unpaired surrogates (not representable in UTF-8)', () => {
    expectError(() => read(build(`{"a\\ud800":${JSON.stringify(F32([1], 0, 4))}}`, 4)), 'SAFETENSORS_HEADER', 'a\uD800', 'surrogate');
  });

  it('enforces maxTotalBytes on the decoded Float32 data', () => {
    const bytes = build({ h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, 8);
    expectError(() => read(bytes, { maxTotalBytes: 15 }), 'SAFETENSORS_LIMIT', undefined, '16', '15');
    expect(read(bytes, { maxTotalBytes: 16 }).tensors.get('h')!.data.length).toBe(4);
  });

  it('rejects invalid arguments with SAFETENSORS_INPUT', () => {
    for (const input of [null, undefined, 'abc', [1, 2, 3], {}, 42]) {
      expectError(() => readSafetensors(input as unknown as Uint8Array), 'SAFETENSORS_INPUT');
    }
    const ok = build('{}      ');
    for (const options of [{ maxHeaderBytes: -1 }, { maxHeaderBytes: 'big' }, { maxTotalBytes: Number.NaN }, 5]) {
      expectError(() => readSafetensors(ok, options as never), 'SAFETENSORS_INPUT');
    }
  });

  it('validates everything before allocating any Float32Array', () => {
    let constructed = 0;
    const Real = Float32Array;
    vi.stubGlobal(
      'Float32Array',
      class extends Real {
        constructor(length: number) {
          super(length);
          constructed++;
        }
      },
    );
    // The first tensors are valid; the last one's error is found only by the final checks.
    const data = new Uint8Array(4 * 1000 + 1);
    const header = { a: F32([500], 0, 2000), b: F32([500], 2000, 4000) };
    expectError(() => read(build(header, data)), 'SAFETENSORS_OFFSETS', 'b');
    expectError(() => read(build(header, data.subarray(0, 4000)), { maxTotalBytes: 3999 }), 'SAFETENSORS_LIMIT');
    expect(constructed).toBe(0);
    read(build(header, data.subarray(0, 4000)));
    expect(constructed).toBe(2);
  });
});

// ---------------------------------------------------------------------------
// robustness: arbitrary input gives a result or a SafetensorsError, quickly

describe('robustness', () => {
  function readOrError(bytes: Uint8Array): void {
    try {
      read(bytes);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
    }
  }

  it('survives random mutations of a valid file', () => {
    const base = fixture('mixed.safetensors');
    const n = new DataView(base.buffer).getUint32(0, true);
    const random = rng(42);
    for (let iter = 0; iter < 3000; iter++) {
      const bytes = base.slice();
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        // Mostly in the prefix and header, where parsing happens.
        const pos = Math.floor(random() * (random() < 0.8 ? 8 + n : bytes.length));
        bytes[pos] = random() < 0.5 ? Math.floor(random() * 256) : '{}[]",:0123456789-eE. \\u'.charCodeAt(Math.floor(random() * 24));
      }
      const cut = random() < 0.1 ? Math.floor(random() * bytes.length) : bytes.length;
      readOrError(bytes.subarray(0, cut));
    }
  });

  it('survives random bytes and random small headers', () => {
    const random = rng(7);
    for (let iter = 0; iter < 2000; iter++) {
      const len = Math.floor(random() * 64);
      const bytes = new Uint8Array(len);
      for (let i = 0; i < len; i++) bytes[i] = Math.floor(random() * 256);
      if (len >= 8 && random() < 0.7) {
        new DataView(bytes.buffer).setUint32(0, Math.floor(random() * (len - 7)), true);
        new DataView(bytes.buffer).setUint32(4, 0, true);
        bytes[8] = 0x7b;
      }
      readOrError(bytes);
    }
  });

  it('handles deeply nested JSON without overflowing the stack', () => {
    const depth = 200_000;
    const text = `{"w":{"dtype":"F32","shape":${'['.repeat(depth)}${']'.repeat(depth)},"data_offsets":[0,4]}}`;
    const err = caught(() => read(build(text, 4)));
    expect(['SAFETENSORS_HEADER', 'SAFETENSORS_SHAPE']).toContain(err.code);
    const meta = `{"__metadata__":{"k":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
    expect(['SAFETENSORS_HEADER']).toContain(caught(() => read(build(meta))).code);
  });

  it('handles a large header of zero-size tensors in linear time', () => {
    const parts: string[] = [];
    for (let i = 0; i < 50_000; i++) parts.push(`"t${i}":{"dtype":"F16","shape":[0],"data_offsets":[0,0]}`);
    const start = performance.now();
    const file = read(build(`{${parts.join(',')}}`));
    expect(file.tensors.size).toBe(50_000);
    expect(performance.now() - start).toBeLessThan(5000);
  });
});
