// Issue 8, reliability against bad input: property-based tests (fast-check, fixed seeds so a failure replays in
// CI) of every public function and constructor that takes arrays or sizes. Each rejected call must throw a typed
// error (an RnnWasmError subclass) whose message names the argument and says the expected and the actual value,
// and must leave the object usable: after every rejection a good call on the same object is compared bit for bit
// with the same call on a fresh, identically seeded twin. Plus the policy for non-finite values inside training.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, AdamW, GRU, InvalidArgumentError, LSTM, Linear, NonFiniteError, OutOfMemoryError, RNN, Random,
  RecurrentLayer, RnnWasmError, SGD, SequenceModel, ShapeError, StateDictError, clipGradNorm, clipGradValue,
  crossEntropyLoss, evaluate, fit, gradNorm, init, lengthsMask, mseLoss, type Dataset,
} from '../src/index.js';

const SEED = 0x5eed8;
/** Inputs tried per property, logged at the end (and asserted, so a silently skipped property shows). */
const tried: Record<string, number> = {};

beforeAll(async () => {
  await init({ simd: 'simd', force: true });
});

afterAll(() => {
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  console.log(`reliability-input: ${total} inputs tried (seed ${SEED}): ${JSON.stringify(tried)}`);
});

/** Runs a property with the fixed seed and counts the inputs it tried. */
function check<T>(name: string, arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns = 150): void {
  tried[name] = 0;
  fc.assert(fc.property(arb, (v) => {
    tried[name]!++;
    body(v);
  }), { seed: SEED, numRuns });
  expect(tried[name]).toBeGreaterThanOrEqual(numRuns);
}

type ErrClass = abstract new (...a: never[]) => RnnWasmError;

/** A rejection as expected: type, the argument named (first in the message), and pieces that must appear. */
interface Rejection {
  type: ErrClass;
  arg: string;
  /** Strings the message must contain: the expected and the actual value. */
  says: string[];
}

/** Calls f, which must throw as `r` says. */
function expectRejected(f: () => unknown, r: Rejection): RnnWasmError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error(`expected ${r.type.name} naming ${r.arg}, but the call returned`);
  if (!(err instanceof RnnWasmError)) {
    throw new Error(`expected ${r.type.name} naming ${r.arg}, got untyped ${String(err)}`);
  }
  expect(err, err.message).toBeInstanceOf(r.type);
  expect(err.message.startsWith(r.arg) || err.message.includes(` ${r.arg}`), `${err.message} names ${r.arg}`).toBe(true);
  if ('argument' in err) expect((err as InvalidArgumentError).argument).toBe(r.arg);
  for (const s of r.says) expect(err.message, `message should say ${s}`).toContain(s);
  return err;
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const sameBits = (a: Float32Array, b: Float32Array): void => {
  expect(a.length).toBe(b.length);
  expect(bits(a)).toEqual(bits(b));
};
const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;
const randn = (n: number, seed: number): Float32Array => {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
};

/** Values a number-valued argument must refuse (with how a message prints them). */
const nonFinite = fc.constantFrom<number>(NaN, Infinity, -Infinity, 1e39, -4e38);
/** Not numbers at all, where a numeric array is expected (strings, null, BigInt...): as bad as NaN. */
const notNumbers = fc.constantFrom<unknown>('1', null, undefined, 1n, true, {});
const printed = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : typeof v === 'bigint' ? `${v}` : v === null ? 'null'
  : typeof v === 'object' ? '[object Object]' : String(v));

// ------------------------------------------------------------------------------------------------------------
// Recurrent layers: forward.

interface Pair {
  name: string;
  make: () => RecurrentLayer;
}
const PAIRS: Pair[] = [
  { name: 'RNN', make: () => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1 }) },
  { name: 'LSTM', make: () => new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 2, batchFirst: true, seed: 2 }) },
  { name: 'GRU', make: () => new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 3 }) },
];
const T = 4;
const B = 3;

function goodInput(m: RecurrentLayer): { data: Float32Array; shape: number[] } {
  return { data: randn(T * B * m.inputSize, 7), shape: m.batchFirst ? [B, T, m.inputSize] : [T, B, m.inputSize] };
}

/** A good forward on m equals the twin's, bit for bit (output, hN, cN), with h0, c0 and lengths. */
function expectUnharmed(m: RecurrentLayer, twin: RecurrentLayer): void {
  const x = goodInput(m);
  const opts = { lengths: [4, 2, 3] };
  const a = m.forward(x, opts);
  const b = twin.forward(x, opts);
  sameBits(a.output.data, b.output.data);
  sameBits(a.hN.data, b.hN.data);
  if (a.cN) sameBits(a.cN.data, b.cN!.data);
  expect(a.output.data.every(Number.isFinite)).toBe(true);
}

type Mutation =
  | { kind: 'lastDim'; I: number }
  | { kind: 'dataLen'; delta: number }
  | { kind: 'rank'; rank: number }
  | { kind: 'nonFinite'; at: number; v: unknown }
  | { kind: 'T0' }
  | { kind: 'B0' }
  | { kind: 'notTensor'; v: unknown }
  | { kind: 'badShape'; v: unknown }
  | { kind: 'h0Shape'; dim: number; delta: number }
  | { kind: 'h0NonFinite'; at: number; v: number }
  | { kind: 'c0Shape'; dim: number; delta: number }
  | { kind: 'lengthsValue'; at: number; v: number }
  | { kind: 'lengthsCount'; n: number }
  | { kind: 'options'; v: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('lastDim' as const), I: fc.integer({ min: 1, max: 9 }).filter((i) => i !== 3) }),
  fc.record({ kind: fc.constant('dataLen' as const), delta: fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0) }),
  fc.record({ kind: fc.constant('rank' as const), rank: fc.constantFrom(0, 1, 4, 5) }),
  fc.record({ kind: fc.constant('nonFinite' as const), at: fc.nat({ max: T * B * 3 - 1 }), v: fc.oneof(nonFinite, notNumbers) }),
  fc.constant({ kind: 'T0' as const }),
  fc.constant({ kind: 'B0' as const }),
  fc.record({ kind: fc.constant('notTensor' as const), v: fc.constantFrom(null, undefined, 3, 'x', [1, 2]) }),
  fc.record({ kind: fc.constant('badShape' as const), v: fc.constantFrom([-1, 3, 3], [1.5, 2, 3], 'abc', [NaN, 1, 3]) }),
  fc.record({ kind: fc.constant('h0Shape' as const), dim: fc.nat({ max: 2 }), delta: fc.constantFrom(-1, 1, 2) }),
  fc.record({ kind: fc.constant('h0NonFinite' as const), at: fc.nat({ max: 7 }), v: nonFinite }),
  fc.record({ kind: fc.constant('c0Shape' as const), dim: fc.nat({ max: 2 }), delta: fc.constantFrom(-1, 1) }),
  fc.record({ kind: fc.constant('lengthsValue' as const), at: fc.nat({ max: B - 1 }),
    v: fc.oneof(fc.integer({ min: T + 1, max: 1000 }), fc.constantFrom(0, -1, -7, 1.5, 2.25, NaN, Infinity)) }),
  fc.record({ kind: fc.constant('lengthsCount' as const), n: fc.constantFrom(0, 1, 2, 4, 9) }),
  fc.record({ kind: fc.constant('options' as const), v: fc.constantFrom(null, 5, 'fast', true) }),
);

/** The bad call of a mutation on m, and how it must be rejected. */
function badForward(m: RecurrentLayer, mu: Mutation, train: boolean): [() => unknown, Rejection] {
  const I = m.inputSize;
  const x = goodInput(m);
  const n = x.data.length;
  const D = m.numDirections * m.numLayers;
  const hShape = [D, B, m.outputSize];
  const cShape = [D, B, m.hiddenSize];
  const fwd = (input: unknown, o: object = {}) => () => m.forward(input as never, { ...o, train });
  const tb = (t: number, b: number, i: number): number[] => (m.batchFirst ? [b, t, i] : [t, b, i]);
  switch (mu.kind) {
    case 'lastDim': {
      const shape = tb(T, B, mu.I);
      return [fwd({ data: new Float32Array(T * B * mu.I), shape }), { type: ShapeError, arg: 'input',
        says: [`${I}]`, `got ${shapeStr(shape)}`] }];
    }
    case 'dataLen':
      return [fwd({ data: new Float32Array(n + mu.delta), shape: x.shape }), { type: ShapeError, arg: 'input',
        says: [`data length ${n + mu.delta}`, `(${n} elements)`] }];
    case 'rank': {
      const shape = mu.rank === 0 ? [] : mu.rank === 1 ? [n] : [...x.shape, ...Array<number>(mu.rank - 3).fill(1)];
      return [fwd({ data: x.data.slice(0, mu.rank === 0 ? 1 : n), shape }), { type: ShapeError, arg: 'input',
        says: ['expected 3 dimensions', `got ${shapeStr(shape)}`] }];
    }
    case 'nonFinite': {
      const data: unknown[] = Array.from(x.data);
      data[mu.at] = mu.v;
      return [fwd({ data, shape: x.shape }), { type: InvalidArgumentError, arg: 'input',
        says: [`element ${mu.at} is ${printed(mu.v)}`, 'finite'] }];
    }
    case 'T0': {
      const shape = tb(0, B, I);
      return [fwd({ data: [], shape }), { type: ShapeError, arg: 'input', says: ['at least 1', shapeStr(shape)] }];
    }
    case 'B0': {
      const shape = tb(T, 0, I);
      return [fwd({ data: [], shape }), { type: ShapeError, arg: 'input', says: ['at least 1', shapeStr(shape)] }];
    }
    case 'notTensor':
      return [fwd(mu.v), { type: InvalidArgumentError, arg: Array.isArray(mu.v) ? 'input.shape' : 'input',
        says: Array.isArray(mu.v) ? ['non-negative integers', 'undefined'] : ['expected a tensor', `${mu.v === 'x' ? '"x"' : String(mu.v)}`] }];
    case 'badShape':
      return [fwd({ data: x.data, shape: mu.v }), { type: InvalidArgumentError, arg: 'input.shape',
        says: ['non-negative integers', Array.isArray(mu.v) ? `${mu.v[0]}` : '"abc"'] }];
    case 'h0Shape': {
      const shape = hShape.slice();
      shape[mu.dim] = Math.max(0, shape[mu.dim]! + mu.delta);
      return [fwd(x, { h0: { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape } }),
        { type: ShapeError, arg: 'h0', says: [`expected shape ${shapeStr(hShape)}`, `got ${shapeStr(shape)}`] }];
    }
    case 'h0NonFinite': {
      const data = Array<number>(hShape.reduce((a, b) => a * b, 1)).fill(0.1);
      data[mu.at % data.length] = mu.v;
      return [fwd(x, { h0: { data, shape: hShape } }), { type: InvalidArgumentError, arg: 'h0',
        says: [`element ${mu.at % data.length} is ${printed(mu.v)}`, 'finite'] }];
    }
    case 'c0Shape': {
      if (m.mode !== 'LSTM') {
        return [fwd(x, { c0: { data: new Float32Array(cShape.reduce((a, b) => a * b, 1)), shape: cShape } }),
          { type: InvalidArgumentError, arg: 'c0', says: ['only LSTM', m.mode] }];
      }
      const shape = cShape.slice();
      shape[mu.dim] = Math.max(0, shape[mu.dim]! + mu.delta);
      return [fwd(x, { c0: { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape } }),
        { type: ShapeError, arg: 'c0', says: [`expected shape ${shapeStr(cShape)}`, `got ${shapeStr(shape)}`] }];
    }
    case 'lengthsValue': {
      const lengths = [T, T, T];
      lengths[mu.at] = mu.v;
      return [fwd(x, { lengths }), { type: InvalidArgumentError, arg: `lengths[${mu.at}]`,
        says: [`[1, ${T}]`, `got ${mu.v}`] }];
    }
    case 'lengthsCount':
      return [fwd(x, { lengths: Array<number>(mu.n).fill(1) }), { type: ShapeError, arg: 'lengths',
        says: [`expected ${B} entries`, `got ${mu.n}`] }];
    case 'options':
      return [() => m.forward(x, mu.v as never), { type: InvalidArgumentError, arg: 'options',
        says: ['expected', String(mu.v === 'fast' ? '"fast"' : mu.v)] }];
  }
}

describe('recurrent layers', () => {
  it('forward: every bad input is refused with a typed error naming it, and the model computes as a fresh one', () => {
    const models = PAIRS.map((p) => ({ m: p.make(), twin: p.make() }));
    // A training forward first: a rejected call must not disturb a pending backward either.
    check('forward', fc.tuple(fc.nat({ max: PAIRS.length - 1 }), mutation, fc.boolean()), ([i, mu, train]) => {
      const { m, twin } = models[i]!;
      const [call, r] = badForward(m, mu, train);
      expectRejected(call, r);
      expectUnharmed(m, twin);
    }, 300);
    for (const { m, twin } of models) {
      m.dispose();
      twin.dispose();
    }
  });

  it('a rejected forward leaves a pending backward intact', () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 4, seed: 5 });
    const twin = new GRU({ inputSize: 3, hiddenSize: 4, seed: 5 });
    const x = { data: randn(T * B * 3, 1), shape: [T, B, 3] };
    const g = { data: randn(T * B * 4, 2), shape: [T, B, 4] };
    m.forward(x, { train: true });
    twin.forward(x, { train: true });
    expectRejected(() => m.forward({ data: [NaN, 0, 0], shape: [1, 1, 3] }, { train: true }),
      { type: InvalidArgumentError, arg: 'input', says: ['element 0 is NaN'] });
    expectRejected(() => m.backward(null as never), { type: InvalidArgumentError, arg: 'upstream', says: ['got null'] });
    expectRejected(() => m.backward({ output: { data: new Float32Array(5), shape: [5] } }),
      { type: ShapeError, arg: 'upstream.output', says: [`expected shape ${shapeStr([T, B, 4])}`, 'got [5]'] });
    const a = m.backward({ output: g });
    const b = twin.backward({ output: g });
    for (const k of Object.keys(a.grads)) sameBits(a.grads[k]!.data, b.grads[k]!.data);
    sameBits(a.dInput.data, b.dInput.data);
    m.dispose();
    twin.dispose();
  });

  it('constructors refuse bad sizes and options before allocating, naming the option', () => {
    const bad = fc.constantFrom<unknown>(0, -1, -64, 1.5, NaN, Infinity, -Infinity, 1e6, 2 ** 31, '4', true, [4]);
    const field = fc.constantFrom('inputSize', 'hiddenSize', 'numLayers', 'projSize', 'seed', 'bidirectional',
      'batchFirst', 'bias');
    const probe = new RNN({ inputSize: 2, hiddenSize: 3, seed: 9 });
    const probeTwin = new RNN({ inputSize: 2, hiddenSize: 3, seed: 9 });
    expectUnharmed2(probe, probeTwin); // the work blocks exist before counting
    const before = probe.engine.stats();
    check('constructors', fc.tuple(fc.constantFrom('RNN', 'LSTM', 'GRU'), field, bad), ([cls, f, v]) => {
      const opts: Record<string, unknown> = { inputSize: 3, hiddenSize: 8, [f]: v };
      const make = () => (cls === 'RNN' ? new RNN(opts as never) : cls === 'LSTM' ? new LSTM(opts as never)
        : new GRU(opts as never));
      const isBool = f === 'bidirectional' || f === 'batchFirst' || f === 'bias';
      if (isBool && typeof v === 'boolean') return; // a valid value
      if (f === 'seed' && typeof v === 'number' && Number.isFinite(v)) return; // any finite seed is valid
      if (f === 'projSize' && v === 0) return; // 0: no projection, valid for every cell
      if (f === 'projSize' && cls !== 'LSTM') {
        expectRejected(make, { type: InvalidArgumentError, arg: 'options.projSize', says: ['only supported by LSTM'] });
        return;
      }
      const shown = typeof v === 'string' ? `"${v}"` : Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
      if (f === 'projSize' && typeof v === 'number' && Number.isInteger(v) && v >= 8 && v <= 65536) {
        expectRejected(make, { type: InvalidArgumentError, arg: 'options.projSize', says: ['smaller than hiddenSize (8)', `${v}`] });
        return;
      }
      expectRejected(make, { type: InvalidArgumentError, arg: `options.${f}`, says: ['expected', shown] });
      expectUnharmed2(probe, probeTwin);
    }, 200);
    expect(probe.engine.stats().usedBytes).toBe(before.usedBytes); // nothing was allocated by a refused call
    probe.dispose();
    probeTwin.dispose();
  });

  it('absurd sizes within the option limits fail with OutOfMemoryError naming the sizes, and the engine goes on', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 4 });
    const twin = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 4 });
    const wide = new LSTM({ inputSize: 2, hiddenSize: 4096, seed: 1 });
    const used = m.engine.stats().usedBytes;
    const cases: Array<[() => unknown, string]> = [
      [() => new LSTM({ inputSize: 65536, hiddenSize: 65536 }), 'options.hiddenSize 65536'],
      [() => new GRU({ inputSize: 8, hiddenSize: 4096, numLayers: 1024 }), 'options.numLayers 1024'],
      [() => new RNN({ inputSize: 65536, hiddenSize: 16384, bidirectional: true }), 'options.hiddenSize 16384'],
      [() => new Linear({ inFeatures: 65536, outFeatures: 65536 }), 'options.inFeatures 65536'],
      [() => wide.createSession({ batchSize: 1 << 20 }), 'options.batchSize 1048576'],
    ];
    for (const [f, says] of cases) {
      expectRejected(f, { type: OutOfMemoryError, arg: says.split(' ')[0]!, says: [says, 'bytes'] });
      // A half-built object keeps nothing (work blocks of the forward passes below may grow once).
      expect(m.engine.stats().usedBytes).toBeLessThanOrEqual(used + 65536);
      expectUnharmed2(m, twin);
    }
    wide.dispose();
    m.dispose();
    twin.dispose();
  });

  it('loadStateDict: a wrongly shaped or non-finite tensor is refused naming it, and nothing is written', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 6 });
    const twin = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 6 });
    const donor = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 60 }).stateDict();
    const names = Object.keys(donor);
    const arb = fc.tuple(fc.nat({ max: names.length - 1 }), fc.oneof(
      fc.record({ kind: fc.constant('dim' as const), dim: fc.nat({ max: 1 }), delta: fc.constantFrom(-1, 1, 3) }),
      fc.record({ kind: fc.constant('rank' as const) }),
      fc.record({ kind: fc.constant('short' as const), delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0) }),
      fc.record({ kind: fc.constant('value' as const), at: fc.nat({ max: 11 }), v: nonFinite }),
    ));
    check('loadStateDict', arb, ([i, mu]) => {
      const name = names[i]!;
      const good = donor[name]!;
      const sd: Record<string, unknown> = { ...donor };
      let says: string[];
      if (mu.kind === 'dim' || mu.kind === 'rank') {
        const shape = mu.kind === 'rank' ? [...good.shape, 1] : good.shape.slice();
        if (mu.kind === 'dim') shape[Math.min(mu.dim, shape.length - 1)] = Math.max(1, shape[Math.min(mu.dim, shape.length - 1)]! + mu.delta);
        if (shapeStr(shape) === shapeStr(good.shape)) return;
        sd[name] = { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape };
        says = [`expected shape ${shapeStr(good.shape)}`, `got ${shapeStr(shape)}`];
      } else if (mu.kind === 'short') {
        const n = good.data.length + mu.delta;
        sd[name] = Array.from({ length: n }, () => 0.5);
        says = [`expected ${good.data.length} values`, `got ${n}`];
      } else {
        const data = Array.from(good.data);
        data[mu.at % data.length] = mu.v;
        sd[name] = { data, shape: good.shape };
        says = [`element ${mu.at % data.length} is ${printed(mu.v)}`, 'finite'];
      }
      const err = expectRejected(() => m.loadStateDict(sd as never), { type: StateDictError, arg: name, says });
      expect((err as StateDictError).tensor).toBe(name);
      expectUnharmed(m, twin);
    }, 150);
    m.dispose();
    twin.dispose();
  });
});

/** Same as expectUnharmed for any two identically made layers with inputSize I. */
function expectUnharmed2(m: RecurrentLayer, twin: RecurrentLayer): void {
  const x = { data: randn(2 * 2 * m.inputSize, 3), shape: [2, 2, m.inputSize] };
  const a = m.forward(x);
  const b = twin.forward(x);
  sameBits(a.output.data, b.output.data);
}

// ------------------------------------------------------------------------------------------------------------
// Streaming sessions.

describe('sessions', () => {
  it('step: every bad input is refused naming it, and the streams keep their state', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 8 });
    const s = m.createSession({ batchSize: 2 });
    const s2 = m.createSession({ batchSize: 2 });
    const xs = Array.from({ length: 3 }, (_, t) => randn(6, 30 + t));
    for (const x of xs) {
      s.step(x);
      s2.step(x);
    }
    type Bad = { kind: 'len'; n: number } | { kind: 'shape'; shape: number[] } | { kind: 'value'; at: number; v: number }
      | { kind: 'type'; v: unknown } | { kind: 'out'; n: number } | { kind: 'state'; dim: number }
      | { kind: 'stateValue'; v: number } | { kind: 'options'; v: unknown };
    const arb: fc.Arbitrary<Bad> = fc.oneof(
      fc.record({ kind: fc.constant('len' as const), n: fc.nat({ max: 20 }).filter((n) => n !== 6) }),
      fc.record({ kind: fc.constant('shape' as const), shape: fc.constantFrom<number[]>([3, 2], [1, 6], [6], [2, 3, 1], [2, 4]) }),
      fc.record({ kind: fc.constant('value' as const), at: fc.nat({ max: 5 }), v: nonFinite }),
      fc.record({ kind: fc.constant('type' as const), v: fc.constantFrom(null, 7, 'abc', undefined) }),
      fc.record({ kind: fc.constant('out' as const), n: fc.nat({ max: 12 }).filter((n) => n !== 8) }),
      fc.record({ kind: fc.constant('state' as const), dim: fc.nat({ max: 2 }) }),
      fc.record({ kind: fc.constant('stateValue' as const), v: nonFinite }),
      fc.record({ kind: fc.constant('options' as const), v: fc.constantFrom(null, 3, 'x') }),
    );
    let t = 0;
    check('session.step', arb, (b) => {
      let call: () => unknown;
      let r: Rejection;
      switch (b.kind) {
        case 'len':
          call = () => s.step(new Float32Array(b.n));
          r = { type: ShapeError, arg: 'x', says: ['expected 6 values', `got ${b.n}`] };
          break;
        case 'shape': {
          const n = b.shape.reduce((a, c) => a * c, 1);
          call = () => s.step({ data: new Float32Array(n), shape: b.shape });
          r = { type: ShapeError, arg: 'x', says: ['expected shape [2, 3]', `got ${shapeStr(b.shape)}`] };
          break;
        }
        case 'value': {
          const x = Array.from(xs[0]!);
          x[b.at] = b.v;
          call = () => s.step(x);
          r = { type: InvalidArgumentError, arg: 'x', says: [`element ${b.at} is ${printed(b.v)}`, 'finite'] };
          break;
        }
        case 'type':
          call = () => s.step(b.v as never);
          r = { type: InvalidArgumentError, arg: 'x', says: ['expected a tensor', 'numeric array'] };
          break;
        case 'out':
          call = () => s.step(xs[0]!, { out: new Float32Array(b.n) });
          r = { type: ShapeError, arg: 'options.out', says: ['expected 8 values', `got ${b.n}`] };
          break;
        case 'state': {
          const shape = [2, 2, 4];
          shape[b.dim] = 3;
          call = () => s.setState({ h: { data: new Float32Array(shape.reduce((a, c) => a * c, 1)), shape },
            c: s.getState().c! });
          r = { type: ShapeError, arg: 'state.h', says: ['expected shape [2, 2, 4]', `got ${shapeStr(shape)}`] };
          break;
        }
        case 'stateValue': {
          const st = s.getState();
          const c = Array.from(st.c!.data);
          c[5] = b.v;
          call = () => s.setState({ h: st.h, c: { data: c, shape: [...st.c!.shape] } });
          r = { type: InvalidArgumentError, arg: 'state.c', says: [`element 5 is ${printed(b.v)}`, 'finite'] };
          break;
        }
        case 'options':
          call = () => s.step(xs[0]!, b.v as never);
          r = { type: InvalidArgumentError, arg: 'options', says: ['expected { out? }'] };
          break;
      }
      expectRejected(call, r);
      // The state is the twin's, and the next good step gives the same output.
      const a = s.getState();
      const z = s2.getState();
      sameBits(a.h.data as Float32Array, z.h.data as Float32Array);
      sameBits(a.c!.data as Float32Array, z.c!.data as Float32Array);
      const x = xs[t++ % xs.length]!;
      sameBits(s.step(x).data, s2.step(x).data);
    }, 200);
    expectRejected(() => m.createSession({ batchSize: 0 }), { type: InvalidArgumentError, arg: 'options.batchSize', says: ['got 0'] });
    expectRejected(() => m.createSession(null as never), { type: InvalidArgumentError, arg: 'options', says: ['got null'] });
    expectRejected(() => m.createSession({ batchSize: 2.5 }), { type: InvalidArgumentError, arg: 'options.batchSize', says: ['got 2.5'] });
    sameBits(s.step(xs[0]!).data, s2.step(xs[0]!).data);
    m.dispose();
  });
});

// ------------------------------------------------------------------------------------------------------------
// Linear, SequenceModel.

describe('Linear and SequenceModel', () => {
  it('Linear: bad sizes and inputs are refused naming them; the layer computes as a fresh one', () => {
    const l = new Linear({ inFeatures: 5, outFeatures: 3, seed: 2 });
    const twin = new Linear({ inFeatures: 5, outFeatures: 3, seed: 2 });
    const good = { data: randn(4 * 5, 4), shape: [4, 5] };
    type Bad = { kind: 'ctor'; f: 'inFeatures' | 'outFeatures' | 'seed' | 'bias'; v: unknown }
      | { kind: 'lastDim'; I: number } | { kind: 'len'; delta: number } | { kind: 'value'; at: number; v: number }
      | { kind: 'options'; v: unknown };
    const arb: fc.Arbitrary<Bad> = fc.oneof(
      fc.record({ kind: fc.constant('ctor' as const), f: fc.constantFrom('inFeatures', 'outFeatures', 'seed', 'bias'),
        v: fc.constantFrom<unknown>(0, -3, 2.5, NaN, Infinity, 1e6, 'x', null) }),
      fc.record({ kind: fc.constant('lastDim' as const), I: fc.integer({ min: 1, max: 9 }).filter((i) => i !== 5) }),
      fc.record({ kind: fc.constant('len' as const), delta: fc.integer({ min: -4, max: 4 }).filter((d) => d !== 0) }),
      fc.record({ kind: fc.constant('value' as const), at: fc.nat({ max: 19 }), v: nonFinite }),
      fc.record({ kind: fc.constant('options' as const), v: fc.constantFrom(null, 1, 'train') }),
    );
    check('Linear', arb, (b) => {
      switch (b.kind) {
        case 'ctor': {
          if (b.f === 'seed' && (b.v === null || (typeof b.v === 'number' && Number.isFinite(b.v)))) return;
          if (b.f === 'bias' && b.v === null) return; // null is "absent" for an optional flag
          const shown = typeof b.v === 'string' ? '"x"' : String(b.v);
          expectRejected(() => new Linear({ inFeatures: 5, outFeatures: 3, [b.f]: b.v } as never),
            { type: InvalidArgumentError, arg: `options.${b.f}`, says: ['expected', b.f === 'bias' && typeof b.v === 'string' ? 'x' : shown] });
          break;
        }
        case 'lastDim':
          expectRejected(() => l.forward({ data: new Float32Array(4 * b.I), shape: [4, b.I] }),
            { type: ShapeError, arg: 'input', says: ['[..., 5]', `got [4, ${b.I}]`] });
          break;
        case 'len':
          expectRejected(() => l.forward({ data: new Float32Array(20 + b.delta), shape: [4, 5] }),
            { type: ShapeError, arg: 'input', says: [`data length ${20 + b.delta}`, '(20 elements)'] });
          break;
        case 'value': {
          const d = Array.from(good.data);
          d[b.at] = b.v;
          expectRejected(() => l.forward({ data: d, shape: [4, 5] }),
            { type: InvalidArgumentError, arg: 'input', says: [`element ${b.at} is ${printed(b.v)}`] });
          break;
        }
        case 'options':
          expectRejected(() => l.forward(good, b.v as never), { type: InvalidArgumentError, arg: 'options', says: ['expected'] });
          break;
      }
      sameBits(l.forward(good).data, twin.forward(good).data);
    }, 150);
    l.dispose();
    twin.dispose();
  });

  it('SequenceModel: bad parts and inputs are refused naming them', () => {
    const mk = () => new SequenceModel({ rnn: new GRU({ inputSize: 2, hiddenSize: 4, seed: 1 }),
      head: new Linear({ inFeatures: 4, outFeatures: 2, seed: 2 }), headInput: 'last' });
    const m = mk();
    const twin = mk();
    const x = { data: randn(3 * 2 * 2, 5), shape: [3, 2, 2] };
    const head = new Linear({ inFeatures: 5, outFeatures: 1 });
    const donor = new SequenceModel({ rnn: new GRU({ inputSize: 2, hiddenSize: 4, seed: 10 }),
      head: new Linear({ inFeatures: 4, outFeatures: 2, seed: 20 }), headInput: 'last' });
    const other = donor.stateDict();
    donor.dispose();
    const cases: Array<[() => unknown, Rejection]> = [
      [() => new SequenceModel(undefined as never), { type: InvalidArgumentError, arg: 'options', says: ['{ rnn, head', 'undefined'] }],
      [() => new SequenceModel({ rnn: null as never, head }), { type: InvalidArgumentError, arg: 'options.rnn', says: ['RNN, LSTM or GRU', 'null'] }],
      [() => new SequenceModel({ rnn: m.rnn, head: {} as never }), { type: InvalidArgumentError, arg: 'options.head', says: ['a Linear', '[object Object]'] }],
      [() => new SequenceModel({ rnn: m.rnn, head }), { type: InvalidArgumentError, arg: 'options.head', says: ['must be 4', 'got 5'] }],
      [() => new SequenceModel({ rnn: m.rnn, head: m.head, headInput: 'first' as never }), { type: InvalidArgumentError, arg: 'options.headInput', says: ["'last'", 'first'] }],
      [() => m.forward({ data: [1, NaN], shape: [1, 1, 2] }), { type: InvalidArgumentError, arg: 'input', says: ['element 1 is NaN'] }],
      [() => m.forward(x, { lengths: [3, 4] }), { type: InvalidArgumentError, arg: 'lengths[1]', says: ['[1, 3]', 'got 4'] }],
      [() => m.forward(x, null as never), { type: InvalidArgumentError, arg: 'options', says: ['got null'] }],
      [() => m.backward({ data: [1], shape: [1] }), { type: InvalidArgumentError, arg: 'backward', says: ['train: true'] }],
      [() => m.rnn.stateDict(null as never), { type: InvalidArgumentError, arg: 'options', says: ['{ prefix? }', 'null'] }],
      [() => m.head.gradients(7 as never), { type: InvalidArgumentError, arg: 'options', says: ['{ prefix? }', '7'] }],
      // Every rnn tensor valid (other values), the head's weight misshaped: nothing is written, the rnn included.
      [() => m.loadStateDict({ ...other, 'head.weight': { data: new Float32Array(4), shape: [1, 4] } }),
        { type: StateDictError, arg: 'head.weight', says: ['expected shape [2, 4]', 'got [1, 4]'] }],
    ];
    for (const [f, r] of cases) {
      expectRejected(f, r);
      sameBits(m.forward(x).data, twin.forward(x).data);
    }
    head.dispose();
    m.dispose();
    twin.dispose();
  });
});

// ------------------------------------------------------------------------------------------------------------
// Losses, optimizers, clipping.

describe('losses, optimizers and clipping', () => {
  it('losses refuse mismatched lengths, non-finite targets, bad class indices and options, naming them', () => {
    type Bad = { kind: 'mseLen'; n: number; m: number } | { kind: 'mseTarget'; at: number; v: number }
      | { kind: 'mask'; n: number } | { kind: 'ceTarget'; at: number; v: number } | { kind: 'ceLen'; extra: number }
      | { kind: 'smooth'; v: number } | { kind: 'reduction'; v: unknown } | { kind: 'lengthsMask'; at: number; v: number };
    const arb: fc.Arbitrary<Bad> = fc.oneof(
      fc.record({ kind: fc.constant('mseLen' as const), n: fc.integer({ min: 1, max: 12 }), m: fc.integer({ min: 0, max: 12 }) })
        .filter((b) => b.n !== b.m),
      fc.record({ kind: fc.constant('mseTarget' as const), at: fc.nat({ max: 5 }), v: fc.constantFrom(NaN, Infinity, -Infinity) }),
      fc.record({ kind: fc.constant('mask' as const), n: fc.constantFrom(4, 5, 7, 8) }),
      fc.record({ kind: fc.constant('ceTarget' as const), at: fc.nat({ max: 3 }),
        v: fc.oneof(fc.integer({ min: 3, max: 50 }), fc.constantFrom(-1, 1.5, NaN, Infinity)) }),
      fc.record({ kind: fc.constant('ceLen' as const), extra: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('smooth' as const), v: fc.constantFrom(-0.1, 1.5, NaN, Infinity) }),
      fc.record({ kind: fc.constant('reduction' as const), v: fc.constantFrom('none', 'avg', 3) }),
      fc.record({ kind: fc.constant('lengthsMask' as const), at: fc.nat({ max: 2 }), v: fc.constantFrom(-1, 6, 1.5, NaN) }),
    );
    const pred = randn(6, 1);
    const logits = randn(12, 2);
    check('losses', arb, (b) => {
      switch (b.kind) {
        case 'mseLen':
          expectRejected(() => mseLoss(new Float32Array(b.n), new Float32Array(b.m)),
            { type: ShapeError, arg: 'target', says: [`length ${b.m}`, `(${b.n})`] });
          break;
        case 'mseTarget': {
          const t = Array.from(pred);
          t[b.at] = b.v;
          expectRejected(() => mseLoss(pred, t), { type: InvalidArgumentError, arg: `target[${b.at}]`, says: ['finite', String(b.v)] });
          break;
        }
        case 'mask':
          expectRejected(() => mseLoss(pred, pred, { mask: new Uint8Array(b.n) }),
            { type: ShapeError, arg: 'options.mask', says: [`length ${b.n}`, 'the 6 elements'] });
          break;
        case 'ceTarget': {
          const t = [0, 1, 2, 0];
          t[b.at] = b.v;
          expectRejected(() => crossEntropyLoss(logits, t),
            { type: InvalidArgumentError, arg: `targets[${b.at}]`, says: ['[0, 3)', `got ${b.v}`] });
          break;
        }
        case 'ceLen':
          expectRejected(() => crossEntropyLoss(randn(12 + b.extra, 3), [0, 1, 2, 0]),
            { type: ShapeError, arg: 'logits', says: [`length ${12 + b.extra}`, 'N = 4'] });
          break;
        case 'smooth':
          expectRejected(() => crossEntropyLoss(logits, [0, 1, 2, 0], { labelSmoothing: b.v }),
            { type: InvalidArgumentError, arg: 'options.labelSmoothing', says: ['[0, 1]', String(b.v)] });
          break;
        case 'reduction':
          expectRejected(() => mseLoss(pred, pred, { reduction: b.v as never }),
            { type: InvalidArgumentError, arg: 'options.reduction', says: ["'mean' or 'sum'", typeof b.v === 'string' ? `"${b.v}"` : '3'] });
          break;
        case 'lengthsMask': {
          const L = [5, 5, 5];
          L[b.at] = b.v;
          expectRejected(() => lengthsMask(L, 5, 3), { type: InvalidArgumentError, arg: `lengths[${b.at}]`, says: ['[0, 5]', String(b.v)] });
          break;
        }
      }
    }, 150);
  });

  it('optimizers refuse non-finite, negative or out-of-range hyper-parameters; a rejected lr leaves the lr', () => {
    const m = new RNN({ inputSize: 2, hiddenSize: 3, seed: 3 });
    const twin = new RNN({ inputSize: 2, hiddenSize: 3, seed: 3 });
    const x = { data: randn(2 * 2 * 2, 1), shape: [2, 2, 2] };
    const grad = () => {
      for (const r of [m, twin]) {
        r.zeroGrad();
        r.forward(x, { train: true });
        r.backward({ output: { data: new Float32Array(2 * 2 * 3).fill(1), shape: [2, 2, 3] } }, { collectGrads: false });
      }
    };
    const opts = [new Adam(m.parameters(), { lr: 0.01 }), new Adam(twin.parameters(), { lr: 0.01 })] as const;
    type Bad = { cls: 'SGD' | 'Adam' | 'AdamW'; f: string; v: unknown };
    const arb: fc.Arbitrary<Bad> = fc.oneof(
      fc.record({ cls: fc.constantFrom('SGD', 'Adam', 'AdamW' as const), f: fc.constant('lr'),
        v: fc.constantFrom<unknown>(NaN, Infinity, -Infinity, -0.1, '0.1', null, 1e39) }),
      fc.record({ cls: fc.constant('SGD' as const), f: fc.constantFrom('momentum', 'weightDecay'),
        v: fc.constantFrom<unknown>(NaN, Infinity, -1, 4e38) }),
      fc.record({ cls: fc.constantFrom('Adam', 'AdamW' as const), f: fc.constantFrom('betas[0]', 'betas[1]'),
        v: fc.constantFrom<unknown>(1, 1.5, -0.1, NaN, Infinity) }),
      fc.record({ cls: fc.constantFrom('Adam', 'AdamW' as const), f: fc.constantFrom('eps', 'weightDecay'),
        v: fc.constantFrom<unknown>(NaN, -1e-8, Infinity) }),
    );
    check('optimizers', arb, (b) => {
      const o: Record<string, unknown> = {};
      if (b.f.startsWith('betas')) o.betas = b.f === 'betas[0]' ? [b.v, 0.999] : [0.9, b.v];
      else o[b.f] = b.v;
      const Cls = b.cls === 'SGD' ? SGD : b.cls === 'Adam' ? Adam : AdamW;
      const shown = typeof b.v === 'string' ? `"${b.v}"` : String(b.v);
      expectRejected(() => new Cls(m.parameters(), o as never), { type: InvalidArgumentError, arg: `options.${b.f}`,
        says: ['expected a finite number', shown] });
      if (b.f === 'lr') {
        expectRejected(() => { opts[0].lr = b.v as number; }, { type: InvalidArgumentError, arg: 'lr', says: [shown] });
        expect(opts[0].lr).toBe(0.01);
      }
      grad();
      opts[0].step();
      opts[1].step();
      expectUnharmed2(m, twin);
    }, 120);
    opts[0].dispose();
    opts[1].dispose();
    m.dispose();
    twin.dispose();
  });

  it('clipping refuses bad norms and bounds, naming them, and leaves the gradients alone', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3, seed: 4 });
    m.forward({ data: randn(4, 1), shape: [2, 1, 2] }, { train: true });
    m.backward({ output: { data: new Float32Array(6).fill(1), shape: [2, 1, 3] } }, { collectGrads: false });
    const before = gradNorm(m.parameters());
    check('clipping', fc.tuple(fc.constantFrom('maxNorm', 'normType', 'clipValue'),
      fc.constantFrom<unknown>(NaN, -1, '1', null, -Infinity)), ([f, v]) => {
      if (f === 'normType' && v === null) return;
      const call = f === 'maxNorm' ? () => clipGradNorm(m.parameters(), v as number)
        : f === 'normType' ? () => clipGradNorm(m.parameters(), 1, v as number)
          : () => clipGradValue(m.parameters(), v as number);
      expectRejected(call, { type: InvalidArgumentError, arg: f, says: ['expected', typeof v === 'string' ? '"1"' : String(v)] });
      expect(gradNorm(m.parameters())).toBe(before);
    }, 60);
    expectRejected(() => clipGradNorm(null as never, 1), { type: InvalidArgumentError, arg: 'params', says: ['got null'] });
    m.dispose();
  });
});

// ------------------------------------------------------------------------------------------------------------
// fit and evaluate: options and data sets.

function seqModel(seed = 1): SequenceModel {
  return new SequenceModel({ rnn: new RNN({ inputSize: 2, hiddenSize: 4, batchFirst: true, seed }),
    head: new Linear({ inFeatures: 4, outFeatures: 1, seed: seed + 1 }) });
}
const N = 6;
const TT = 5;
function dataset(): Dataset {
  return { inputs: { data: randn(N * TT * 2, 11), shape: [N, TT, 2] },
    targets: { data: randn(N * TT, 12).map((v) => v * 0.5), shape: [N, TT, 1] } };
}
const weights = (m: SequenceModel): Float32Array[] => Object.values(m.stateDict()).map((t) => t.data);

describe('fit and evaluate', () => {
  it('refuse bad options and data sets naming them; the model keeps its weights', () => {
    const m = seqModel();
    const w0 = weights(m);
    const d = dataset();
    type Bad = { what: 'fit' | 'evaluate'; f: string; v: unknown } | { what: 'data'; f: string; v: unknown };
    const arb: fc.Arbitrary<Bad> = fc.oneof(
      fc.record({ what: fc.constant('fit' as const), f: fc.constantFrom('epochs', 'batchSize', 'tbptt'),
        v: fc.constantFrom<unknown>(-1, 1.5, NaN, Infinity, '2') }),
      fc.record({ what: fc.constant('fit' as const), f: fc.constantFrom('clipGradNorm', 'clipGradValue'),
        v: fc.constantFrom<unknown>(0, -1, NaN, Infinity) }),
      fc.record({ what: fc.constant('fit' as const), f: fc.constantFrom('nonFinite', 'loss'), v: fc.constantFrom<unknown>('ignore', 3, true) }),
      fc.record({ what: fc.constant('fit' as const), f: fc.constantFrom('seed'), v: fc.constantFrom<unknown>(NaN, Infinity, 'a') }),
      fc.record({ what: fc.constant('fit' as const), f: fc.constantFrom('shuffle'), v: fc.constantFrom<unknown>('no', 0, 1) }),
      fc.record({ what: fc.constant('fit' as const), f: fc.constantFrom('optimizer', 'scheduler', 'onStepEnd', 'onEpochEnd', 'signal'),
        v: fc.constantFrom<unknown>(null, 3, 'x', {}) }),
      fc.record({ what: fc.constant('evaluate' as const), f: fc.constantFrom('batchSize'), v: fc.constantFrom<unknown>(0, -2, 1.5, NaN, Infinity) }),
      fc.record({ what: fc.constant('evaluate' as const), f: fc.constantFrom('loss'), v: fc.constantFrom<unknown>('l1', 7) }),
      fc.record({ what: fc.constant('data' as const), f: fc.constantFrom('N0', 'T0', 'I', 'rank', 'targetsN', 'targetsT',
        'targetsO', 'lengthsCount', 'lengthsValue', 'inputValue', 'targetValue', 'validation', 'null', 'model'),
      v: fc.nat({ max: 1000 }) }),
    );
    check('fit/evaluate', arb, (b) => {
      let call: () => unknown;
      let r: Rejection;
      const shown = (v: unknown): string => (typeof v === 'string' ? `${v}` : String(v));
      if (b.what === 'fit') {
        call = () => fit(m, d, { epochs: 1, [b.f]: b.v } as never);
        r = { type: InvalidArgumentError, arg: `options.${b.f}`, says: ['expected', shown(b.v)] };
      } else if (b.what === 'evaluate') {
        call = () => evaluate(m, d, { [b.f]: b.v } as never);
        r = { type: InvalidArgumentError, arg: `options.${b.f}`, says: ['expected', shown(b.v)] };
      } else {
        const v = b.v as number;
        const x = d.inputs;
        const y = d.targets;
        const bad = (dd: unknown, rr: Rejection): void => {
          call = () => (v % 2 ? fit(m, dd as Dataset, { epochs: 1 }) : evaluate(m, dd as Dataset));
          r = rr;
        };
        switch (b.f) {
          case 'N0': bad({ inputs: { data: [], shape: [0, TT, 2] }, targets: { data: [], shape: [0, TT, 1] } },
            { type: ShapeError, arg: 'data.inputs', says: ['N, T >= 1', '[0, 5, 2]'] }); break;
          case 'T0': bad({ inputs: { data: [], shape: [N, 0, 2] }, targets: { data: [], shape: [N, 0, 1] } },
            { type: ShapeError, arg: 'data.inputs', says: ['N, T >= 1', '[6, 0, 2]'] }); break;
          case 'I': bad({ inputs: { data: new Float32Array(N * TT * 3), shape: [N, TT, 3] }, targets: y },
            { type: ShapeError, arg: 'data.inputs', says: ['(N, T, 2)', '[6, 5, 3]'] }); break;
          case 'rank': bad({ inputs: { data: x.data, shape: [N * TT, 2] }, targets: y },
            { type: ShapeError, arg: 'data.inputs', says: ['(N, T, 2)', '[30, 2]'] }); break;
          case 'targetsN': bad({ inputs: x, targets: { data: new Float32Array((N - 1) * TT), shape: [N - 1, TT, 1] } },
            { type: ShapeError, arg: 'data.targets', says: ['expected [6, 5, 1]', 'got [5, 5, 1]'] }); break;
          case 'targetsT': bad({ inputs: x, targets: { data: new Float32Array(N * (TT + 1)), shape: [N, TT + 1, 1] } },
            { type: ShapeError, arg: 'data.targets', says: ['expected [6, 5, 1]', 'got [6, 6, 1]'] }); break;
          case 'targetsO': bad({ inputs: x, targets: { data: new Float32Array(N * TT * 2), shape: [N, TT, 2] } },
            { type: ShapeError, arg: 'data.targets', says: ['expected [6, 5, 1]', 'got [6, 5, 2]'] }); break;
          case 'lengthsCount': bad({ ...d, lengths: Array<number>(v % 5).fill(1) },
            { type: ShapeError, arg: 'data.lengths', says: ['expected 6 entries', `got ${v % 5}`] }); break;
          case 'lengthsValue': {
            const L = Array<number>(N).fill(TT);
            const at = v % N;
            const val = [0, -1, TT + 1 + (v % 7), 2.5, NaN][v % 5]!;
            L[at] = val;
            bad({ ...d, lengths: L }, { type: InvalidArgumentError, arg: `data.lengths[${at}]`, says: [`[1, ${TT}]`, `got ${val}`] });
            break;
          }
          case 'inputValue':
          case 'targetValue': {
            const which = b.f === 'inputValue' ? 'inputs' : 'targets';
            const t = d[which];
            const vals = Array.from(t.data);
            const at = v % vals.length;
            const val = [NaN, Infinity, -Infinity, 1e39][v % 4]!;
            vals[at] = val;
            bad({ ...d, [which]: { data: vals, shape: t.shape } },
              { type: InvalidArgumentError, arg: `data.${which}`, says: [`element ${at} is ${printed(val)}`] });
            break;
          }
          case 'validation':
            call = () => fit(m, d, { epochs: 1, validation: { inputs: x, targets: { data: [1], shape: [1] } } });
            r = { type: ShapeError, arg: 'options.validation.targets', says: ['expected [6, 5, 1]', 'got [1]'] };
            break;
          case 'model':
            call = () => (v % 2 ? fit(null as never, d, { epochs: 1 }) : evaluate({} as never, d));
            r = { type: InvalidArgumentError, arg: 'model', says: ['expected a SequenceModel', v % 2 ? 'null' : '[object Object]'] };
            break;
          default:
            bad(null, { type: InvalidArgumentError, arg: 'data', says: ['expected { inputs, targets'] });
        }
      }
      expectRejected(call!, r!);
      weights(m).forEach((w, i) => sameBits(w, w0[i]!));
    }, 250);
    m.dispose();
  });
});

// ------------------------------------------------------------------------------------------------------------
// Non-finite values inside training.

describe('exploding training', () => {
  /** fit with a learning rate so large that the update overflows; snapshots after every good step. */
  function explode(nonFinite?: 'throw' | 'skip'): { m: SequenceModel; err: unknown; snaps: Float32Array[][];
    skipped: number[]; history?: ReturnType<typeof fit> } {
    const m = seqModel(3);
    const snaps: Float32Array[][] = [weights(m)];
    const skipped: number[] = [];
    let err: unknown;
    let history: ReturnType<typeof fit> | undefined;
    try {
      history = fit(m, dataset(), { epochs: 3, batchSize: 2, seed: 1, nonFinite,
        optimizer: new SGD(m.parameters(), { lr: 3e38 }),
        onStepEnd: (s) => {
          if (s.skipped) skipped.push(s.globalStep);
          else snaps.push(weights(m));
        } });
    } catch (e) {
      err = e;
    }
    return { m, err, snaps, skipped, history };
  }

  it("default policy: a NonFiniteError naming the step; the weights are those after the last good step", () => {
    const { m, err, snaps } = explode();
    expect(err).toBeInstanceOf(NonFiniteError);
    const step = (err as NonFiniteError).step;
    expect((err as Error).message).toMatch(new RegExp(`^step ${step}: .* is not finite; the weights were left as they were after step ${step - 1}`));
    // Step `step` failed; the steps before it completed: exactly step - 1 snapshots after the initial one.
    expect(snaps.length).toBe(step);
    const now = weights(m);
    now.forEach((w, i) => {
      expect(w.every(Number.isFinite)).toBe(true);
      sameBits(w, snaps[snaps.length - 1]![i]!);
    });
    m.dispose();
  });

  it("nonFinite: 'skip' goes on, reports the skipped steps, and never leaves NaN or Infinity in the weights", () => {
    const { m, err, skipped, history, snaps } = explode('skip');
    expect(err).toBeUndefined();
    expect(history!.status).toBe('completed');
    expect(history!.steps).toBe(9);
    const perEpoch = history!.epochs.map((e) => e.skippedSteps);
    expect(perEpoch.reduce((a, b) => a + b, 0)).toBe(skipped.length);
    expect(skipped.length).toBeGreaterThan(0);
    for (const w of weights(m)) expect(w.every(Number.isFinite)).toBe(true);
    for (const s of snaps) for (const w of s) expect(w.every(Number.isFinite)).toBe(true);
    m.dispose();
  });

  it('an update that overflows (finite gradients, huge lr) is undone, not written', () => {
    // Targets of 1e30: the loss (float64) and the gradients (~1e29, float32) are finite, but with lr 1e10 the
    // update w - lr * g overflows float32.
    const m = seqModel(3);
    const w0 = weights(m);
    const d = dataset();
    d.targets = { data: new Float32Array(N * TT).fill(1e30), shape: [N, TT, 1] };
    let err: unknown;
    let gn = 0;
    try {
      fit(m, d, { epochs: 1, batchSize: 6, optimizer: new SGD(m.parameters(), { lr: 1e10 }),
        onStepEnd: (s) => { gn = s.gradNorm; } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).step).toBe(1);
    expect((err as Error).message).toContain('the updated weights');
    expect(gn).toBe(0); // onStepEnd was not reached
    weights(m).forEach((w, i) => sameBits(w, w0[i]!));
    // The same with 'skip': the step is reported skipped and the weights are unchanged.
    const h = fit(m, d, { epochs: 2, batchSize: 6, nonFinite: 'skip', optimizer: new SGD(m.parameters(), { lr: 1e10 }) });
    expect(h.epochs.map((e) => e.skippedSteps)).toEqual([1, 1]);
    weights(m).forEach((w, i) => sameBits(w, w0[i]!));
    m.dispose();
  });
});
