// Issue 8 (Reliability), hostile files: a seeded fuzz of every loader of untrusted bytes.
//
// Formats: a `.safetensors` state dict (model.loadStateDict(bytes)), a whole-model file (loadModel), a PyTorch
// state dict as JSON (model.loadStateDict(JSON.parse(text))), a Keras model.json + weights.bin (importKeras) and
// an ONNX file (importOnnx). Each run mutates the valid file FILES times per format, mixing byte-level mutations
// (bit flips, byte overwrites, truncation, insertion, deletion, duplicated ranges) with structure-aware ones that
// edit a field of the JSON header / manifest / architecture and re-serialise the file.
//
// The rule each load must obey:
// - it throws an RnnWasmError subclass (never TypeError, RangeError, SyntaxError...); or
// - it returns a model, and then (a) when the mutation cannot change the meaning (metadata, header padding), the
//   model's state dict is bit-identical to the one the valid file gives; (b) otherwise every weight is finite, has
//   the shape its architecture implies (loadStateDict is strict), and a forward pass runs and gives finite outputs
//   (unless some weight exceeds 1e6 in magnitude, when an overflow is legitimate: see runsFinite).
// - it returns within PER_FILE_MS, and WebAssembly memory never grows past MEMORY_SLACK over the start; every model
//   loaded is disposed, so the allocator's used bytes and blocks are back at their start value at the end.
// The state-dict JSON text itself is parsed by the caller (JSON.parse; the library takes objects): a mutated text that
// JSON.parse refuses is counted under the pseudo-code JSON_PARSE and not handed to the library.
// The per-format counts of outcomes (by error code), the time and the slowest file are logged. RNN_WASM_FUZZ_FILES
// and RNN_WASM_FUZZ_SEED change the number of files per format (default 10,000) and the seed (default 8).
//
// After the fuzz, table-driven hostile cases check each kind of damage the issue lists, with the exact error.
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRU, InvalidArgumentError, LSTM, Linear, RNN, Random, RecurrentLayer, RnnWasmError, SafetensorsError, SequenceModel,
  StateDictError, UnsupportedError, importKeras, importOnnx, init, loadModel, readSafetensors, saveModel,
  writeSafetensors, type Engine,
} from '../src/index.js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from '../src/io/onnx_pb.js';
import { fixturesDir } from './helpers.js';

const FILES = Number(process.env.RNN_WASM_FUZZ_FILES ?? 10_000);
const SEED = Number(process.env.RNN_WASM_FUZZ_SEED ?? 8);
const PER_FILE_MS = 2000;
const MEMORY_SLACK = 64 << 20;

let engine: Engine;
beforeAll(async () => {
  engine = await init({ simd: 'simd' });
});

// ---------------------------------------------------------------------------------------------------------------
// Mutators
// ---------------------------------------------------------------------------------------------------------------

class Rng {
  private readonly r: Random;
  constructor(seed: number) {
    this.r = new Random(seed);
  }
  int(n: number): number {
    return this.r.nextU32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r.nextU32() / 2 ** 32 < p;
  }
}

const INTERESTING_U64 = [0, 1, 2, 7, 8, 0x7f, 0xff, 0x7fff_ffff, 0xffff_ffff, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 63,
  1e8, 1e8 + 1, 99_999_999];

function setU64(bytes: Uint8Array, at: number, v: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v >= 2 ** 64) v = 2 ** 64 - 1;
  dv.setUint32(at, v % 2 ** 32 >>> 0, true);
  dv.setUint32(at + 4, Math.min(0xffff_ffff, Math.floor(v / 2 ** 32)) >>> 0, true);
}

/** A byte-level mutation of `src` (a fresh array), with a short description. */
function mutateBytes(rng: Rng, src: Uint8Array): { bytes: Uint8Array; what: string } {
  const n = src.length;
  switch (rng.int(7)) {
    case 0: {
      const out = src.slice();
      const k = 1 + rng.int(4);
      for (let i = 0; i < k; i++) out[rng.int(n)]! ^= 1 << rng.int(8);
      return { bytes: out, what: `flip ${k} bits` };
    }
    case 1: {
      const out = src.slice();
      const k = 1 + rng.int(8);
      const values = [0, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5c];
      for (let i = 0; i < k; i++) out[rng.int(n)] = rng.chance(0.5) ? rng.pick(values) : rng.int(256);
      return { bytes: out, what: `overwrite ${k} bytes` };
    }
    case 2: {
      const at = rng.int(n);
      return { bytes: src.slice(0, at), what: `truncate at ${at}` };
    }
    case 3: {
      const at = rng.int(n + 1);
      const ins = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
      const out = new Uint8Array(n + ins.length);
      out.set(src.subarray(0, at));
      out.set(ins, at);
      out.set(src.subarray(at), at + ins.length);
      return { bytes: out, what: `insert ${ins.length} at ${at}` };
    }
    case 4: {
      const at = rng.int(n);
      const len = 1 + rng.int(Math.min(64, n - at));
      const out = new Uint8Array(n - len);
      out.set(src.subarray(0, at));
      out.set(src.subarray(at + len), at);
      return { bytes: out, what: `delete ${len} at ${at}` };
    }
    case 5: {
      const at = rng.int(n);
      const len = 1 + rng.int(Math.min(64, n - at));
      const to = rng.int(n + 1);
      const chunk = src.slice(at, at + len);
      const out = new Uint8Array(n + len);
      out.set(src.subarray(0, to));
      out.set(chunk, to);
      out.set(src.subarray(to), to + len);
      return { bytes: out, what: `duplicate ${len} from ${at} to ${to}` };
    }
    default: {
      const out = src.slice();
      const at = rng.int(Math.max(1, n - 8));
      setU64(out, at, rng.pick(INTERESTING_U64));
      return { bytes: out, what: `u64 at ${at}` };
    }
  }
}

/**
 * An array nested 100,000 deep: JSON.parse builds it from text, but any recursive walk of it (JSON.stringify and
 * structuredClone included) overflows the stack. Mutated values hold the placeholder DEEP_MARK, which
 * {@link serialize} replaces by the deep array's text.
 */
const DEEP_TEXT = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const DEEP: unknown = JSON.parse(DEEP_TEXT);
const DEEP_MARK = '@@deep@@';

/** JSON.stringify, with every DEEP_MARK string replaced by the 100,000-deep array. */
function serialize(v: unknown, space?: number): string {
  const text = JSON.stringify(v, null, space) ?? 'null';
  return text.includes(DEEP_MARK) ? text.split(`"${DEEP_MARK}"`).join(DEEP_TEXT) : text;
}

/** A parsed copy of `v` with its DEEP_MARKs materialised. */
function materialize<T>(v: T): T {
  return JSON.parse(serialize(v)) as T;
}

/** Hostile JSON values for a field. */
function hostileValue(rng: Rng, original: unknown): unknown {
  const num = typeof original === 'number' ? original : 3;
  const arr = Array.isArray(original) ? original : [2, 3];
  return rng.pick<() => unknown>([
    () => null, () => undefined, () => true, () => 'x', () => String(num), () => {}, () => [], () => ({}),
    () => -1, () => 0, () => -0, () => 1.5, () => num + 1, () => num - 1, () => num * 2, () => 2 ** 31, () => 2 ** 32,
    () => 2 ** 53, () => 2 ** 53 + 2, () => 1e300, () => -1e300, () => 65_536, () => 65_537, () => 4096, () => 8192,
    () => [...arr].reverse(), () => [...arr, 1], () => arr.slice(1), () => arr.map(() => 2 ** 32),
    () => [2 ** 32, 2 ** 32], () => [-1, ...arr.slice(1)], () => [1.5, ...arr.slice(1)], () => arr.map(String),
    () => [null], () => [[1]], () => [0, 2 ** 53], () => [num], () => 'F16', () => 'F64', () => 'BF16', () => 'I32',
    () => 'float16', () => 'int32', () => 'uint8', () => 'float32', () => 'LSTM', () => 'GRU', () => 'RNN_RELU',
    () => 'sequence', () => 'last', () => DEEP_MARK,
  ])();
}

/** Mutates one field, chosen at random, anywhere inside `root` (in place); returns the path edited. */
function mutateJson(rng: Rng, root: unknown): string {
  // Collect containers and their keys.
  const slots: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number; path: string }> = [];
  const walk = (v: unknown, path: string, depth: number): void => {
    if (depth > 12 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length && i < 64; i++) {
        slots.push({ parent: v, key: i, path: `${path}[${i}]` });
        walk(v[i], `${path}[${i}]`, depth + 1);
      }
    } else {
      for (const k of Object.keys(v)) {
        slots.push({ parent: v as Record<string, unknown>, key: k, path: `${path}.${k}` });
        walk((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
      }
    }
  };
  walk(root, '', 0);
  if (slots.length === 0) return 'nothing';
  const s = rng.pick(slots);
  const p = s.parent as Record<string | number, unknown>;
  const op = rng.int(10);
  if (op === 0) {
    if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
    else delete p[s.key];
    return `delete ${s.path}`;
  }
  if (op === 1 && !Array.isArray(s.parent)) {
    p[`${String(s.key)}_extra`] = p[s.key];
    return `copy ${s.path} to a new key`;
  }
  if (op === 2 && !Array.isArray(s.parent)) {
    const v = p[s.key];
    delete p[s.key];
    p[`${String(s.key)}x`] = v;
    return `rename ${s.path}`;
  }
  p[s.key] = hostileValue(rng, p[s.key]);
  return `set ${s.path} = ${JSON.stringify(p[s.key])?.slice(0, 60) ?? 'undefined'}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Safetensors structure
// ---------------------------------------------------------------------------------------------------------------

function splitSafetensors(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  return { header, data: bytes.subarray(8 + n) };
}

function joinSafetensors(headerText: string, data: Uint8Array, pad = 0): Uint8Array {
  const json = new TextEncoder().encode(headerText + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  setU64(out, 0, json.length);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A structure-aware mutation of a safetensors file: `noop` when the tensors it describes cannot change. */
function mutateSafetensors(rng: Rng, src: Uint8Array, metaKey?: string): { bytes: Uint8Array; what: string;
  noop: boolean } {
  const { header, data } = splitSafetensors(src);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const op = rng.int(12);
  if (op === 0) {
    const meta = { ...(header.__metadata__ as Record<string, string> | undefined), [`k${rng.int(100)}`]: 'v' };
    return { bytes: joinSafetensors(serialize({ ...header, __metadata__: meta }), data, rng.int(9)),
      what: 'add a metadata string', noop: true };
  }
  if (op === 1) {
    return { bytes: joinSafetensors(serialize(header, rng.int(3)), data, rng.int(64)),
      what: 'reformat the header', noop: true };
  }
  if (op === 2) {
    // A duplicate key: the same tensor twice (JSON.parse would keep the last one).
    const name = rng.pick(names);
    const text = JSON.stringify(header);
    const dup = `${JSON.stringify(name)}:${JSON.stringify(header[name])},`;
    return { bytes: joinSafetensors(`{${dup}${text.slice(1)}`, data), what: `duplicate tensor ${name}`, noop: false };
  }
  if (op === 3) {
    // A duplicate key inside an entry.
    const name = rng.pick(names);
    const e = JSON.stringify(header[name]);
    const text = JSON.stringify({ ...header, [name]: '@@' }).replace('"@@"', `{"dtype":"F32",${e.slice(1)}`);
    return { bytes: joinSafetensors(text, data), what: `duplicate field in ${name}`, noop: false };
  }
  if (op === 4) {
    const meta = rng.pick<unknown>([1, 'x', [], { a: 1 }, { a: null }, { a: ['x'] }, null]);
    return { bytes: joinSafetensors(JSON.stringify({ ...header, __metadata__: meta }), data),
      what: `metadata ${JSON.stringify(meta)}`, noop: false };
  }
  if (op === 5) {
    // Swap two tensors' offsets (shapes then disagree, or the data moves).
    const a = header[rng.pick(names)] as Record<string, unknown>;
    const b = header[rng.pick(names)] as Record<string, unknown>;
    [a.data_offsets, b.data_offsets] = [b.data_offsets, a.data_offsets];
    return { bytes: joinSafetensors(JSON.stringify(header), data), what: 'swap offsets', noop: a === b };
  }
  if (op === 6) {
    // Data section shorter or longer than the header says.
    const d = rng.chance(0.5) ? data.subarray(0, rng.int(data.length)) : new Uint8Array([...data, ...new Uint8Array(1 +
      rng.int(64))]);
    return { bytes: joinSafetensors(JSON.stringify(header), d), what: `data of ${d.length} bytes`, noop: false };
  }
  if (op === 7 && metaKey !== undefined) {
    const meta = header.__metadata__ as Record<string, string>;
    const arch = JSON.parse(meta[metaKey]!) as unknown;
    const what = mutateJson(rng, arch);
    const text = serialize({ ...header, __metadata__: { ...meta, [metaKey]: serialize(arch) } });
    return { bytes: joinSafetensors(text, data), what: `architecture: ${what}`, noop: false };
  }
  const what = mutateJson(rng, header);
  return { bytes: joinSafetensors(serialize(header), data), what: `header: ${what}`, noop: false };
}

// ---------------------------------------------------------------------------------------------------------------
// ONNX structure
// ---------------------------------------------------------------------------------------------------------------

const HOSTILE_INT64 = [-1n, 0n, 1n, 2n, 3n, 7n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 62n, -(2n ** 63n), 100_000_000n,
  65_536n, 4096n];

/** Edits one field of the decoded model (an initializer's dims, type or data, a node's attribute or input...). */
function mutateOnnx(rng: Rng, src: Uint8Array): { bytes: Uint8Array; what: string } {
  const m = fromBinary(ModelProtoSchema, src);
  const g = m.graph!;
  let what: string;
  const op = rng.int(9);
  if (op < 4 && g.initializer.length > 0) {
    const t = rng.pick(g.initializer);
    const k = rng.int(5);
    if (k === 0 || op === 0) {
      const dims = [...t.dims];
      if (dims.length > 0 && rng.chance(0.7)) dims[rng.int(dims.length)] = rng.pick(HOSTILE_INT64);
      else if (rng.chance(0.5)) dims.push(rng.pick(HOSTILE_INT64));
      else dims.pop();
      t.dims = dims;
      what = `${t.name}.dims = [${dims.join(', ')}]`;
    } else if (k === 1) {
      t.dataType = rng.int(20);
      what = `${t.name}.dataType = ${t.dataType}`;
    } else if (k === 2) {
      t.rawData = t.rawData.subarray(0, rng.int(t.rawData.length + 1));
      what = `${t.name}.rawData truncated to ${t.rawData.length}`;
    } else if (k === 3) {
      t.floatData = Array.from({ length: rng.int(8) }, () => rng.pick([0, 1, NaN, Infinity, -3.4e38]));
      t.rawData = new Uint8Array(0);
      what = `${t.name}.floatData = [${t.floatData.join(', ')}]`;
    } else {
      const raw = t.rawData.slice();
      if (raw.length >= 4) new DataView(raw.buffer).setFloat32(4 * rng.int(raw.length >> 2), rng.pick([NaN, Infinity,
        -Infinity, 3e38]), true);
      t.rawData = raw;
      what = `${t.name}: a non-finite or large value`;
    }
  } else if (op < 7 && g.node.length > 0) {
    const n = rng.pick(g.node);
    const k = rng.int(5);
    if (k === 0 && n.attribute.length > 0) {
      const a = rng.pick(n.attribute);
      a.i = rng.pick(HOSTILE_INT64);
      what = `${n.opType} attribute ${a.name}.i = ${a.i}`;
    } else if (k === 1 && n.attribute.length > 0) {
      n.attribute.splice(rng.int(n.attribute.length), 1);
      what = `${n.opType}: an attribute removed`;
    } else if (k === 2 && n.input.length > 0) {
      const i = rng.int(n.input.length);
      n.input[i] = rng.pick(['', 'nope', ...g.initializer.map((t) => t.name), ...g.node.flatMap((x) => x.output)]);
      what = `${n.opType}.input[${i}] = ${n.input[i]}`;
    } else if (k === 3) {
      n.opType = rng.pick(['LSTM', 'GRU', 'RNN', 'Identity', 'Squeeze', 'Transpose', 'Gemm', 'MatMul', 'Add', 'Nope']);
      what = `a node's opType = ${n.opType}`;
    } else {
      g.node.splice(g.node.indexOf(n), 1);
      what = `node ${n.opType} removed`;
    }
  } else if (op === 7) {
    const v = rng.pick(HOSTILE_INT64);
    if (m.opsetImport[0]) m.opsetImport[0].version = v;
    what = `opset = ${v}`;
  } else {
    const list = rng.chance(0.5) ? g.input : g.output;
    if (list.length > 0) list.splice(rng.int(list.length), 1);
    what = 'a graph input or output removed';
  }
  return { bytes: toBinary(ModelProtoSchema, m), what };
}

// ---------------------------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------------------------

type Loaded = RecurrentLayer | SequenceModel | { model: RecurrentLayer | SequenceModel; dispose(): void };

interface Report {
  format: string;
  files: number;
  loaded: number;
  identical: number;
  rejected: Record<string, number>;
  ms: number;
  maxFileMs: number;
  /** The mutation of the slowest file. */
  slowest: string;
  failures: string[];
}

function flatState(m: RecurrentLayer | SequenceModel): Map<string, Float32Array> {
  const sd = m.stateDict();
  return new Map(Object.entries(sd).map(([k, t]) => [k, Float32Array.from(t.data)]));
}

function sameState(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, x] of a) {
    const y = b.get(k);
    if (!y || y.length !== x.length) return false;
    const xi = new Uint32Array(x.buffer);
    const yi = new Uint32Array(y.buffer);
    for (let i = 0; i < xi.length; i++) if (xi[i] !== yi[i]) return false;
  }
  return true;
}

/** Weights above this magnitude may legitimately overflow a forward pass (a ReLU RNN with weights of 1e38). */
const OVERFLOW_WEIGHT = 1e6;

/**
 * Rule (b): finite weights, and a forward pass that runs and gives finite values. When some weight exceeds
 * OVERFLOW_WEIGHT in magnitude the forward pass may instead overflow: non-finite outputs, or an RnnWasmError when
 * an overflowed hidden state reaches the next layer or the head, are then accepted (but never another exception).
 */
function runsFinite(m: RecurrentLayer | SequenceModel): string | undefined {
  let maxAbs = 0;
  for (const [k, v] of flatState(m)) {
    if (!v.every(Number.isFinite)) return `non-finite weight in ${k}`;
    for (const x of v) maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  const mayOverflow = maxAbs > OVERFLOW_WEIGHT;
  const rnn = m instanceof SequenceModel ? m.rnn : m;
  const T = 3;
  const B = 2;
  const x = Float32Array.from({ length: T * B * rnn.inputSize }, (_, i) => Math.sin(i));
  let out: { data: Float32Array };
  try {
    const y = m.forward({ data: x, shape: rnn.batchFirst ? [B, T, rnn.inputSize] : [T, B, rnn.inputSize] });
    out = 'output' in y ? y.output : y;
  } catch (e) {
    if (mayOverflow && e instanceof RnnWasmError) return undefined;
    throw e;
  }
  if (!mayOverflow && !out.data.every(Number.isFinite)) return 'non-finite output';
  return undefined;
}

function fuzz(format: string, seed: number, make: (rng: Rng, i: number) => { what: string; noop: boolean;
  load: () => Loaded; expected?: Map<string, Float32Array> }, expected: Map<string, Float32Array>,
  afterSuccess?: () => void): Report {
  const rng = new Rng(seed);
  const report: Report = { format, files: 0, loaded: 0, identical: 0, rejected: {}, ms: 0, maxFileMs: 0,
    slowest: '', failures: [] };
  const memory0 = engine.stats().memoryBytes;
  const t0 = performance.now();
  for (let i = 0; i < FILES; i++) {
    const c = make(rng, i);
    report.files++;
    const f0 = performance.now();
    let loaded: Loaded | undefined;
    try {
      loaded = c.load();
    } catch (e) {
      if (e instanceof RnnWasmError) {
        report.rejected[e.code] = (report.rejected[e.code] ?? 0) + 1;
        if (c.noop) report.failures.push(`#${i} ${c.what}: a meaning-preserving edit was rejected: ${e.message}`);
      } else {
        report.failures.push(`#${i} ${c.what}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
      }
    }
    if (loaded !== undefined) {
      try {
        report.loaded++;
        const model = 'model' in loaded ? loaded.model : loaded;
        const state = flatState(model);
        if (sameState(state, c.expected ?? expected)) report.identical++;
        else if (c.noop) report.failures.push(`#${i} ${c.what}: a meaning-preserving edit changed the weights`);
        else {
          const bad = runsFinite(model);
          if (bad) report.failures.push(`#${i} ${c.what}: loaded but ${bad}`);
        }
      } catch (e) {
        report.failures.push(`#${i} ${c.what}: loaded model failed: ${(e as Error)?.name}: ${(e as Error)?.message}`);
      } finally {
        loaded.dispose();
        afterSuccess?.();
      }
    }
    const dt = performance.now() - f0;
    if (dt > report.maxFileMs) {
      report.maxFileMs = dt;
      report.slowest = `#${i} ${c.what}`;
    }
    if (dt > PER_FILE_MS) report.failures.push(`#${i} ${c.what}: took ${dt.toFixed(0)} ms`);
    const mem = engine.stats().memoryBytes;
    if (mem > memory0 + MEMORY_SLACK) {
      report.failures.push(`#${i} ${c.what}: WebAssembly memory grew to ${mem} bytes (from ${memory0})`);
      break;
    }
    if (report.failures.length >= 20) break;
  }
  report.ms = performance.now() - t0;
  // eslint-disable-next-line no-console
  console.log(`[fuzz] ${format}: ${report.files} files in ${report.ms.toFixed(0)} ms (max ` +
    `${report.maxFileMs.toFixed(1)} ms/file: ${report.slowest.slice(0, 80)}); loaded ${report.loaded} ` +
    `(${report.identical} identical); rejected ${JSON.stringify(report.rejected)}`);
  return report;
}

function check(r: Report): void {
  expect(r.failures, r.failures.slice(0, 10).join('\n')).toEqual([]);
  expect(r.files).toBe(FILES);
}

/** Used bytes and blocks before a fuzz run, to check that nothing leaks. */
function leakCheck(fn: () => Report): void {
  const s0 = engine.stats();
  const r = fn();
  check(r);
  const s1 = engine.stats();
  expect(s1.usedBytes, 'WebAssembly bytes in use after the run').toBe(s0.usedBytes);
  expect(s1.blocks, 'blocks in use after the run').toBe(s0.blocks);
}

const TIMEOUT = 120_000;

/** A model loaded in place (loadStateDict), which the harness must not dispose. */
function keep(target: RecurrentLayer, load: () => void): Loaded {
  load();
  return { model: target, dispose: () => {} };
}

// ---------------------------------------------------------------------------------------------------------------
// The formats
// ---------------------------------------------------------------------------------------------------------------

it(`safetensors state dicts: ${FILES} mutated files`, () => leakCheck(() => {
  const target = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1 });
  const valid = writeSafetensors(target.stateDict(), { metadata: { format: 'pt' } });
  const expected = flatState(target);
  const r = fuzz('safetensors', SEED, (rng) => {
    const m = rng.chance(0.5) ? { ...mutateBytes(rng, valid), noop: false } : mutateSafetensors(rng, valid);
    return { ...m, load: () => keep(target, () => target.loadStateDict(m.bytes)) };
  }, expected, () => target.loadStateDict(valid));
  target.dispose();
  return r;
}), TIMEOUT);

it(`model files (saveModel/loadModel): ${FILES} mutated files`, () => leakCheck(() => {
  const src = new SequenceModel({ rnn: new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 2 }),
    head: new Linear({ inFeatures: 4, outFeatures: 2, seed: 3 }), headInput: 'last' });
  const valid = saveModel(src, { note: 'x' });
  const expected = flatState(src);
  src.dispose();
  const r = fuzz('model-file', SEED + 1, (rng) => {
    const m = rng.chance(0.4) ? { ...mutateBytes(rng, valid), noop: false }
      : mutateSafetensors(rng, valid, 'rnn-wasm.architecture');
    return { ...m, load: () => loadModel(m.bytes) };
  }, expected);
  return r;
}), TIMEOUT);

it(`state dict JSON: ${FILES} mutated files`, () => leakCheck(() => {
  const target = new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 4 });
  const sd = target.stateDict();
  const text = JSON.stringify(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, { shape: t.shape,
    data: Array.from(t.data) }])));
  const bytes = new TextEncoder().encode(text);
  const expected = flatState(target);
  const valid = JSON.parse(text) as Record<string, unknown>;
  const r = fuzz('state-dict-json', SEED + 2, (rng) => {
    if (rng.chance(0.3)) {
      const m = mutateBytes(rng, bytes);
      return { what: m.what, noop: false, load: () => {
        let obj: unknown;
        try {
          obj = JSON.parse(new TextDecoder().decode(m.bytes));
        } catch {
          throw new RnnWasmError('JSON_PARSE', 'not JSON (rejected by JSON.parse, before the library)');
        }
        return keep(target, () => target.loadStateDict(obj as Record<string, never>));
      } };
    }
    let obj = structuredClone(valid);
    let what = mutateJson(rng, obj);
    if (what.includes(DEEP_MARK)) obj = materialize(obj);
    if (rng.chance(0.3)) {
      // Values JSON cannot hold but a JSON-like object can.
      const t = obj[rng.pick(Object.keys(obj))] as { data?: unknown[] } | undefined;
      const v = rng.pick([NaN, Infinity, -Infinity, 1e39, -3.5e38, 2 ** -149]);
      if (t && Array.isArray(t.data) && t.data.length > 0) {
        t.data[rng.int(t.data.length)] = v;
        what += `; an element = ${v}`;
      }
    }
    return { what, noop: false, load: () => keep(target, () => target.loadStateDict(obj as Record<string, never>)) };
  }, expected, () => target.loadStateDict(valid as Record<string, never>));
  target.dispose();
  return r;
}), TIMEOUT);

it(`Keras model.json + weights.bin: ${FILES} mutated files`, () => leakCheck(() => {
  // Every fixture in turn: LSTM/GRU/SimpleRNN, stacked, bidirectional, quantized, with and without a head.
  const fixtures = readdirSync(`${fixturesDir}keras/`).filter((n) => !n.includes('.')).sort().map((name) => {
    const dir = `${fixturesDir}keras/${name}/`;
    const text = readFileSync(`${dir}model.json`, 'utf8');
    const json = JSON.parse(text) as Record<string, unknown>;
    const paths = (json.weightsManifest as Array<{ paths: string[] }>).flatMap((g) => g.paths);
    const parts = paths.map((f) => new Uint8Array(readFileSync(dir + f)));
    const bin = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      bin.set(p, o);
      o += p.length;
    }
    const ref = importKeras(text, [bin]);
    const expected = flatState(ref.model ?? ref.rnn);
    ref.dispose();
    return { name, text, json, parts, bin, expected, jsonBytes: new TextEncoder().encode(text) };
  });
  const r = fuzz('keras', SEED + 3, (rng, i) => {
    const fx = fixtures[i % fixtures.length]!;
    const op = rng.int(10);
    let modelJson: string | object = fx.text;
    let weights: Uint8Array | Uint8Array[] = [fx.bin];
    let what: string;
    if (op < 3) {
      const m = mutateBytes(rng, fx.jsonBytes);
      modelJson = new TextDecoder().decode(m.bytes);
      what = `model.json: ${m.what}`;
    } else if (op < 5) {
      const m = mutateBytes(rng, fx.bin);
      weights = rng.chance(0.5) ? [m.bytes] : m.bytes;
      what = `weights.bin: ${m.what}`;
    } else {
      const obj = structuredClone(fx.json);
      const manifest = obj.weightsManifest as unknown[];
      what = `model.json: ${mutateJson(rng, rng.chance(0.6) ? manifest : obj)}`;
      modelJson = rng.chance(0.5) ? materialize(obj) : serialize(obj);
      if (rng.chance(0.2)) weights = fx.parts;
    }
    return { what: `${fx.name}: ${what}`, noop: false, expected: fx.expected, load: () => {
      const k = importKeras(modelJson, weights);
      return { model: k.model ?? k.rnn, dispose: () => k.dispose() };
    } };
  }, fixtures[0]!.expected);
  return r;
}), TIMEOUT);

it(`ONNX: ${FILES} mutated files`, () => leakCheck(() => {
  // Every fixture in turn: what torch.onnx.export writes for LSTM/GRU/RNN stacks, heads, packed sequences.
  const fixtures = readdirSync(`${fixturesDir}onnx/`).filter((n) => n.endsWith('.onnx')).sort().map((name) => {
    const valid = new Uint8Array(readFileSync(`${fixturesDir}onnx/${name}`));
    const ref = importOnnx(valid);
    const expected = flatState(ref.model);
    ref.model.dispose();
    return { name, valid, expected };
  });
  const r = fuzz('onnx', SEED + 4, (rng, i) => {
    const fx = fixtures[i % fixtures.length]!;
    const m = rng.chance(0.5) ? mutateBytes(rng, fx.valid) : mutateOnnx(rng, fx.valid);
    return { what: `${fx.name}: ${m.what}`, noop: false, expected: fx.expected, load: () => {
      const o = importOnnx(m.bytes);
      return { model: o.model, dispose: () => o.model.dispose() };
    } };
  }, fixtures[0]!.expected);
  return r;
}), TIMEOUT);

it('the harness rejects what it should: a valid file loads identically, TypeErrors are caught', () => {
  const m = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
  const bytes = writeSafetensors(m.stateDict());
  const back = readSafetensors(bytes);
  expect([...back.tensors.keys()].sort()).toEqual(Object.keys(m.stateDict()).sort());
  m.dispose();
});

// ---------------------------------------------------------------------------------------------------------------
// Targeted hostile cases (table-driven). Each must throw the given error class and code, with a message naming
// the field or tensor; the WebAssembly memory and the allocator's used bytes must be unchanged, the call quick, and
// a model that a failed load was applied to must keep its weights.
// ---------------------------------------------------------------------------------------------------------------

type ErrorClass = abstract new (...args: never[]) => RnnWasmError;

function expectRefused(load: () => unknown, cls: ErrorClass, code: string, message: RegExp): void {
  const before = engine.stats();
  const t0 = performance.now();
  let caught: unknown;
  try {
    const out = load() as { dispose?: () => void } | undefined;
    out?.dispose?.();
  } catch (e) {
    caught = e;
  }
  const ms = performance.now() - t0;
  expect(caught, 'the load must fail').toBeInstanceOf(cls);
  expect((caught as RnnWasmError).code).toBe(code);
  expect((caught as Error).message).toMatch(message);
  expect(ms).toBeLessThan(250);
  const after = engine.stats();
  expect(after.memoryBytes, 'WebAssembly memory').toBe(before.memoryBytes);
  expect(after.usedBytes, 'allocated bytes').toBe(before.usedBytes);
}

describe('hostile .safetensors state dicts', () => {
  let target: LSTM;
  let valid: Uint8Array;
  let weights: Map<string, Float32Array>;
  beforeAll(() => {
    target = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    valid = writeSafetensors(target.stateDict());
    weights = flatState(target);
  });
  afterAll(() => target.dispose());
  const load = (bytes: Uint8Array) => () => target.loadStateDict(bytes);
  const header = (h: unknown, data = new Uint8Array(0)): Uint8Array => joinSafetensors(JSON.stringify(h), data);
  const f32 = (name: string, shape: number[], offsets: [number, number]) => ({ [name]: { dtype: 'F32', shape,
    data_offsets: offsets } });

  it('truncated at every byte is a SafetensorsError, and the model keeps its weights', () => {
    for (let n = 0; n < valid.length; n++) {
      expect(() => target.loadStateDict(valid.subarray(0, n)), `truncated to ${n}`).toThrow(SafetensorsError);
    }
    expect(sameState(flatState(target), weights)).toBe(true);
  });

  it.each<[string, () => Uint8Array, string, RegExp]>([
    ['a header length of 2^53', () => { const b = valid.slice(); setU64(b, 0, 2 ** 53); return b; },
      'SAFETENSORS_LIMIT', /header length 9007199254740992 exceeds maxHeaderBytes/],
    ['a header length of 2^64 - 1', () => { const b = valid.slice(); setU64(b, 0, 2 ** 64); return b; },
      'SAFETENSORS_LIMIT', /exceeds maxHeaderBytes/],
    ['a header length past the end', () => { const b = valid.slice(); setU64(b, 0, valid.length); return b; },
      'SAFETENSORS_TRUNCATED', /exceeds the \d+ bytes after the length prefix/],
    ['a huge declared tensor', () => header(f32('w', [2 ** 30], [0, 2 ** 32])), 'SAFETENSORS_TRUNCATED',
      /"w": data_offsets end 4294967296 is beyond the data section of 0 bytes/],
    ['a shape of 2^32 x 2^32', () => header(f32('w', [2 ** 32, 2 ** 32], [0, 0])), 'SAFETENSORS_SHAPE',
      /"w": element count of shape \[4294967296,4294967296\] overflows/],
    ['a negative dimension', () => header(f32('w', [-1, 4], [0, 0])), 'SAFETENSORS_SHAPE', /"w": shape\[0\]/],
    ['a fractional dimension', () => header(f32('w', [1.5], [0, 0])), 'SAFETENSORS_SHAPE', /"w": shape\[0\]/],
    ['reversed data_offsets', () => header(f32('w', [1], [4, 0]), new Uint8Array(4)), 'SAFETENSORS_OFFSETS',
      /"w": data_offsets end 0 is before begin 4/],
    ['data_offsets outside the buffer', () => header(f32('w', [1], [4, 8]), new Uint8Array(4)),
      'SAFETENSORS_TRUNCATED', /"w": data_offsets end 8 is beyond/],
    ['overlapping data_offsets', () => header({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [4, 12]) },
      new Uint8Array(12)), 'SAFETENSORS_OFFSETS', /"b": data_offsets \[4, 12\] overlap tensor "a"/],
    ['data_offsets not matching dtype x shape', () => header(f32('w', [3], [0, 8]), new Uint8Array(8)),
      'SAFETENSORS_SHAPE', /"w": shape \[3\] with dtype F32 needs 12 bytes/],
    ['an unknown dtype', () => header({ w: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      'SAFETENSORS_DTYPE', /"w": unknown dtype "F33"/],
    ['an integer dtype', () => header({ w: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      'SAFETENSORS_DTYPE', /"w": unsupported dtype "I32"/],
    ['a duplicate tensor name', () => joinSafetensors('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), 'SAFETENSORS_DUPLICATE',
      /tensor "w" appears more than once/],
    ['a non-UTF-8 header', () => { const b = valid.slice(); b[9] = 0xff; return b; }, 'SAFETENSORS_HEADER',
      /not valid UTF-8/],
    ['an invalid JSON header', () => joinSafetensors('{"w":', new Uint8Array(0)), 'SAFETENSORS_HEADER',
      /not valid JSON/],
    ['metadata of the wrong type', () => header({ __metadata__: { format: 1 } }), 'SAFETENSORS_HEADER',
      /__metadata__/],
    ['a missing tensor', () => writeSafetensors(Object.fromEntries(Object.entries(target.stateDict())
      .filter(([k]) => k !== 'bias_hh_l0'))), 'STATE_DICT', /bias_hh_l0: missing tensor of shape \[16\]/],
    ['an extra tensor', () => writeSafetensors({ ...target.stateDict(), extra: { shape: [1],
      data: new Float32Array(1) } }), 'STATE_DICT', /extra: unexpected tensor/],
    ['a wrongly shaped tensor', () => writeSafetensors({ ...target.stateDict(), bias_ih_l0: { shape: [4, 4],
      data: new Float32Array(16) } }), 'STATE_DICT', /bias_ih_l0: expected shape \[16\], got \[4, 4\]/],
    ['a NaN weight', () => writeSafetensors({ ...target.stateDict(), weight_hh_l0: { shape: [16, 4],
      data: new Float32Array(64).fill(NaN) } }), 'STATE_DICT',
      /weight_hh_l0: element 0 is NaN; weights must be finite/],
  ])('%s', (_n, make, code, message) => {
    const cls = code === 'STATE_DICT' ? StateDictError : SafetensorsError;
    expectRefused(load(make()), cls, code, message);
    expect(sameState(flatState(target), weights)).toBe(true);
  });
});

describe('hostile state dict JSON', () => {
  let target: GRU;
  let weights: Map<string, Float32Array>;
  let json: Record<string, { shape: number[]; data: unknown[] }>;
  beforeAll(() => {
    target = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    weights = flatState(target);
    json = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(target.stateDict()).map(([k, t]) =>
      [k, { shape: t.shape, data: Array.from(t.data) }])))) as typeof json;
  });
  afterAll(() => target.dispose());
  const edit = (f: (j: typeof json) => void) => () => {
    const j = structuredClone(json);
    f(j);
    return target.loadStateDict(j as never);
  };
  it.each<[string, (j: Record<string, { shape: unknown; data: unknown[] }>) => void, ErrorClass, string, RegExp]>([
    ['a wrong shape', (j) => { j.weight_ih_l0!.shape = [2, 9]; }, StateDictError, 'STATE_DICT',
      /weight_ih_l0: expected shape \[9, 2\], got \[2, 9\]/],
    ['too few values', (j) => { j.bias_ih_l0!.data.pop(); }, StateDictError, 'STATE_DICT',
      /bias_ih_l0: expected 9 values/],
    ['a string value', (j) => { j.bias_ih_l0!.data[0] = '1'; }, InvalidArgumentError, 'INVALID_ARGUMENT',
      /stateDict\['bias_ih_l0'\].data: expected a numeric array/],
    ['a null value', (j) => { j.bias_ih_l0!.data[3] = null; }, InvalidArgumentError, 'INVALID_ARGUMENT',
      /stateDict\['bias_ih_l0'\].data/],
    ['data that is an object', (j) => { (j.bias_ih_l0 as { data: unknown }).data = { length: 1e12 }; },
      InvalidArgumentError, 'INVALID_ARGUMENT', /stateDict\['bias_ih_l0'\].data/],
    ['a NaN value', (j) => { j.weight_hh_l0!.data[5] = NaN; }, StateDictError, 'STATE_DICT',
      /weight_hh_l0: element 5 is NaN; weights must be finite/],
    ['an infinite value', (j) => { j.weight_hh_l0!.data[0] = -Infinity; }, StateDictError, 'STATE_DICT',
      /weight_hh_l0: element 0 is -Infinity/],
    ['a value beyond float32', (j) => { j.weight_hh_l0!.data[0] = 1e39; }, StateDictError, 'STATE_DICT',
      /weight_hh_l0: element 0 is 1e\+39, beyond the float32 range/],
    ['a negative dimension', (j) => { j.bias_hh_l0!.shape = [-9]; }, InvalidArgumentError, 'INVALID_ARGUMENT',
      /stateDict\['bias_hh_l0'\].shape: expected non-negative integers/],
    ['a dimension of 2^32 x 2^32', (j) => { j.bias_hh_l0!.shape = [2 ** 32, 2 ** 32]; }, StateDictError,
      'STATE_DICT', /bias_hh_l0: expected shape \[9\], got \[4294967296, 4294967296\]/],
    ['a shape nested 100,000 deep', (j) => { j.bias_hh_l0!.shape = DEEP; }, InvalidArgumentError,
      'INVALID_ARGUMENT',
      /stateDict\['bias_hh_l0'\].shape: expected non-negative integers, got \[\[\[\[\.\.\.\]\]\]\]/],
    ['data nested 100,000 deep', (j) => { j.bias_hh_l0!.data = DEEP as unknown[]; }, InvalidArgumentError,
      'INVALID_ARGUMENT', /stateDict\['bias_hh_l0'\].data/],
    ['a missing key', (j) => { delete j.bias_hh_l0; }, StateDictError, 'STATE_DICT', /bias_hh_l0: missing tensor/],
    ['an extra key', (j) => { j.weight_ih_l1 = j.weight_ih_l0!; }, StateDictError, 'STATE_DICT',
      /weight_ih_l1: unexpected tensor/],
  ])('%s', (_n, f, cls, code, message) => {
    expectRefused(edit(f as never), cls, code, message);
    expect(sameState(flatState(target), weights)).toBe(true);
  });

  it('a Map with a name that is not a string', () => {
    const m = new Map<unknown, unknown>(Object.entries(structuredClone(json)));
    m.set(7, [1, 2]);
    expectRefused(() => target.loadStateDict(m as never), InvalidArgumentError, 'INVALID_ARGUMENT',
      /stateDict: tensor names must be strings, got 7/);
  });
});

describe('hostile Keras model.json + weights.bin', () => {
  const dir = `${fixturesDir}keras/lstm_seq_dense/`;
  const text = readFileSync(`${dir}model.json`, 'utf8');
  const parts = ['group1-shard1of2.bin', 'group1-shard2of2.bin'].map((f) => new Uint8Array(readFileSync(dir + f)));
  const bin = new Uint8Array([...parts[0]!, ...parts[1]!]);
  type J = Record<string, any>;
  const layer = (j: J, cls: string): J => (j.modelTopology.model_config.config.layers as J[])
    .find((l) => l.class_name === cls)!;
  const weightsOf = (j: J): J[] => j.weightsManifest[0].weights as J[];
  it.each<[string, (j: J) => void, Uint8Array | undefined, ErrorClass, string, RegExp]>([
    ['weights.bin shorter than the manifest', () => {}, bin.subarray(0, bin.length - 4), InvalidArgumentError,
      'INVALID_ARGUMENT', /weights: the weights manifest describes 1140 bytes .*got 1136/],
    ['weights.bin longer than the manifest', () => {}, new Uint8Array([...bin, 0]), InvalidArgumentError,
      'INVALID_ARGUMENT', /describes 1140 bytes .*got 1141/],
    ['a wrong dtype in the manifest', (j) => { weightsOf(j)[1]!.dtype = 'int32'; }, bin, StateDictError,
      'STATE_DICT', /dense\/bias: dtype "int32"/],
    ['a missing manifest entry', (j) => { weightsOf(j).splice(4, 1); }, bin.subarray(0, bin.length - 96),
      StateDictError, 'STATE_DICT', /lstm\/bias: missing weight of shape \[24\]/],
    ['a duplicate manifest entry', (j) => { weightsOf(j).push(weightsOf(j)[1]); }, new Uint8Array([...bin,
      ...new Uint8Array(12)]), StateDictError, 'STATE_DICT', /dense\/bias: appears twice/],
    ['a manifest shape of 2^32 x 2^32', (j) => { weightsOf(j)[1]!.shape = [2 ** 32, 2 ** 32]; }, bin,
      InvalidArgumentError, 'INVALID_ARGUMENT', /weights manifest describes/],
    ['a negative manifest shape', (j) => { weightsOf(j)[1]!.shape = [-3]; }, bin, StateDictError, 'STATE_DICT',
      /dense\/bias: manifest shape must be non-negative integers/],
    ['a manifest without weights', (j) => { j.weightsManifest = [{ paths: [] }]; }, bin, InvalidArgumentError,
      'INVALID_ARGUMENT', /weightsManifest\[0\]: expected \{ paths, weights \}/],
    ['absurd units', (j) => { layer(j, 'LSTM').config.units = 1e9; }, bin, InvalidArgumentError,
      'INVALID_ARGUMENT', /units: expected an integer in \[1, 65536\], got 1000000000/],
    ['units matching no weight', (j) => { layer(j, 'LSTM').config.units = 65536; }, bin, StateDictError,
      'STATE_DICT', /lstm/],
    ['units nested 100,000 deep', (j) => { layer(j, 'LSTM').config.units = DEEP_MARK; }, bin, InvalidArgumentError,
      'INVALID_ARGUMENT', /units: expected an integer in \[1, 65536\], got \[\[\[\[\.\.\.\]\]\]\]/],
    ['a topology nested 100,000 deep', (j) => { j.modelTopology = DEEP_MARK; }, bin, InvalidArgumentError,
      'INVALID_ARGUMENT', /modelTopology: expected the Keras model config/],
    ['fractional units', (j) => { layer(j, 'Dense').config.units = 2.5; }, bin, InvalidArgumentError,
      'INVALID_ARGUMENT', /units: expected an integer/],
    ['a NaN weight', () => {}, (() => { const b = bin.slice(); new DataView(b.buffer).setFloat32(4, NaN, true);
      return b; })(), StateDictError, 'STATE_DICT', /dense\/kernel: element 1 is NaN/],
    ['model.json that is not JSON', () => {}, bin, InvalidArgumentError, 'INVALID_ARGUMENT', /not valid JSON/],
  ])('%s', (name, f, weights, cls, code, message) => {
    const j = JSON.parse(text) as J;
    f(j);
    const json = name === 'model.json that is not JSON' ? text.slice(0, 100) : serialize(j);
    expectRefused(() => importKeras(json, [weights ?? bin]), cls, code, message);
  });
  it.each<[string, string, (j: J) => void, ErrorClass, string, RegExp]>([
    ['inbound node arguments nested 100,000 deep', 'gru_reset_after',
      (j) => { (j.modelTopology.model_config.config.layers as J[])[1]!.inbound_nodes[0].args = DEEP_MARK; },
      InvalidArgumentError, 'INVALID_ARGUMENT', /nested more than 64 deep/],
    ['a TimeDistributed class_name nested 100,000 deep', 'bilstm_stack2_td',
      (j) => { layer(j, 'TimeDistributed').config.layer.class_name = DEEP_MARK; }, UnsupportedError, 'UNSUPPORTED',
      /only TimeDistributed\(Dense\) is supported, got TimeDistributed\(\[\[\[\[\.\.\.\]\]\]\]\)/],
  ])('%s (%s)', (_n, fixture, f, cls, code, message) => {
    const d = `${fixturesDir}keras/${fixture}/`;
    const j = JSON.parse(readFileSync(`${d}model.json`, 'utf8')) as J;
    const w = (j.weightsManifest as Array<{ paths: string[] }>).flatMap((g) => g.paths)
      .map((p) => new Uint8Array(readFileSync(d + p)));
    f(j);
    expectRefused(() => importKeras(serialize(j), w), cls, code, message);
  });
});
