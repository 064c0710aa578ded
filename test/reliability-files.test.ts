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
//   the shape its architecture implies (loadStateDict is strict), and a forward pass runs and gives finite outputs.
// - it returns within PER_FILE_MS, and WebAssembly memory never grows past MEMORY_SLACK over the start; every model
//   loaded is disposed, so the allocator's used bytes and blocks are back at their start value at the end.
// The per-format counts of outcomes (by error code) and the time are logged.
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import {
  GRU, LSTM, Linear, RNN, Random, RecurrentLayer, RnnWasmError, SequenceModel, importKeras, importOnnx, init,
  loadModel, readSafetensors, saveModel, writeSafetensors, type Engine,
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
      for (let i = 0; i < k; i++) out[rng.int(n)] = rng.pick([0, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5c, rng.int(256)]);
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
    () => 'sequence', () => 'last',
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
  return `set ${s.path} = ${JSON.stringify(p[s.key]) ?? 'undefined'}`;
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
    return { bytes: joinSafetensors(JSON.stringify({ ...header, __metadata__: meta }), data, rng.int(9)),
      what: 'add a metadata string', noop: true };
  }
  if (op === 1) {
    return { bytes: joinSafetensors(JSON.stringify(header, null, rng.int(3)), data, rng.int(64)),
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
    const text = JSON.stringify({ ...header, __metadata__: { ...meta, [metaKey]: JSON.stringify(arch) ?? 'null' } });
    return { bytes: joinSafetensors(text, data), what: `architecture: ${what}`, noop: false };
  }
  const what = mutateJson(rng, header);
  return { bytes: joinSafetensors(JSON.stringify(header) ?? '', data), what: `header: ${what}`, noop: false };
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

/** Rule (b): finite weights, and a forward pass that runs and gives finite values. */
function runsFinite(m: RecurrentLayer | SequenceModel): string | undefined {
  for (const [k, v] of flatState(m)) if (!v.every(Number.isFinite)) return `non-finite weight in ${k}`;
  const rnn = m instanceof SequenceModel ? m.rnn : m;
  const T = 3;
  const B = 2;
  const x = Float32Array.from({ length: T * B * rnn.inputSize }, (_, i) => Math.sin(i));
  const y = m.forward({ data: x, shape: rnn.batchFirst ? [B, T, rnn.inputSize] : [T, B, rnn.inputSize] });
  const out = 'output' in y ? y.output : y;
  if (!out.data.every(Number.isFinite)) return 'non-finite output';
  return undefined;
}

function fuzz(format: string, seed: number, make: (rng: Rng, i: number) => { what: string; noop: boolean;
  load: () => Loaded }, expected: Map<string, Float32Array>,
  afterSuccess?: () => void): Report {
  const rng = new Rng(seed);
  const report: Report = { format, files: 0, loaded: 0, identical: 0, rejected: {}, ms: 0, maxFileMs: 0,
    failures: [] };
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
        if (sameState(state, expected)) report.identical++;
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
    report.maxFileMs = Math.max(report.maxFileMs, dt);
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
  console.log(`[fuzz] ${format}: ${report.files} files in ${report.ms.toFixed(0)} ms (max ${report.maxFileMs.toFixed(1)} ` +
    `ms/file); loaded ${report.loaded} (${report.identical} identical); rejected ${JSON.stringify(report.rejected)}`);
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
    const obj = structuredClone(valid);
    let what = mutateJson(rng, obj);
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
  const dir = `${fixturesDir}keras/lstm_seq_dense/`;
  const text = readFileSync(`${dir}model.json`, 'utf8');
  const json = JSON.parse(text) as Record<string, unknown>;
  const parts = ['group1-shard1of2.bin', 'group1-shard2of2.bin'].map((f) => new Uint8Array(readFileSync(dir + f)));
  const bin = new Uint8Array(parts[0]!.length + parts[1]!.length);
  bin.set(parts[0]!);
  bin.set(parts[1]!, parts[0]!.length);
  const ref = importKeras(text, [bin]);
  const expected = flatState(ref.model ?? ref.rnn);
  ref.dispose();
  const jsonBytes = new TextEncoder().encode(text);
  const r = fuzz('keras', SEED + 3, (rng) => {
    const op = rng.int(10);
    let modelJson: string | object = text;
    let weights: Uint8Array | Uint8Array[] = [bin];
    let what: string;
    if (op < 3) {
      const m = mutateBytes(rng, jsonBytes);
      modelJson = new TextDecoder().decode(m.bytes);
      what = `model.json: ${m.what}`;
    } else if (op < 5) {
      const m = mutateBytes(rng, bin);
      weights = rng.chance(0.5) ? [m.bytes] : m.bytes;
      what = `weights.bin: ${m.what}`;
    } else {
      const obj = structuredClone(json);
      const manifest = obj.weightsManifest as unknown[];
      what = `model.json: ${mutateJson(rng, rng.chance(0.6) ? manifest : obj)}`;
      modelJson = rng.chance(0.5) ? obj : JSON.stringify(obj);
      if (rng.chance(0.2)) weights = parts;
    }
    return { what, noop: false, load: () => {
      const k = importKeras(modelJson, weights);
      return { model: k.model ?? k.rnn, dispose: () => k.dispose() };
    } };
  }, expected);
  return r;
}), TIMEOUT);

it(`ONNX: ${FILES} mutated files`, () => leakCheck(() => {
  const valid = new Uint8Array(readFileSync(`${fixturesDir}onnx/lstm_2l_bi_head.onnx`));
  const ref = importOnnx(valid);
  const expected = flatState(ref.model);
  ref.model.dispose();
  const r = fuzz('onnx', SEED + 4, (rng) => {
    const m = rng.chance(0.5) ? mutateBytes(rng, valid) : mutateOnnx(rng, valid);
    return { what: m.what, noop: false, load: () => {
      const o = importOnnx(m.bytes);
      return { model: o.model, dispose: () => o.model.dispose() };
    } };
  }, expected);
  return r;
}), TIMEOUT);

it('the harness rejects what it should: a valid file loads identically, TypeErrors are caught', () => {
  const m = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
  const bytes = writeSafetensors(m.stateDict());
  const back = readSafetensors(bytes);
  expect([...back.tensors.keys()].sort()).toEqual(Object.keys(m.stateDict()).sort());
  m.dispose();
});
