// Finite-difference checks in float64 on a TypeScript reference for small sizes.
//
// For each configuration of the table below (every cell type including RNN relu, 1-2 layers, bidirectional,
// projSize, bias=False, batchFirst, padded batches with lengths, h0/c0, unbatched input), with random float32
// weights, inputs and initial states and random fixed upstream gradients gOut, ghN, gcN, the loss
//     L = sum(output * gOut) + sum(hN * ghN) + sum(cN * gcN)
// is evaluated by the float64 reference (test/reference.ts, itself checked against PyTorch to 1e-12 in
// test/reference.test.ts), and its central differences (eps 1e-6) for EVERY parameter entry, input entry and
// h0/c0 entry are compared with the engine's `backward` after `forward(x, { train: true })`. When a case omits
// h0/c0 the differences are taken at zero initial states, which the engine's dh0/dc0 must then match.
//
// Tolerance, per tensor: max |engine - fd| <= 1e-4 * max(1, ||fd||_2). The engine runs in float32 (its
// gradients carry relative errors of about 1e-6); the float64 central difference is exact to about 1e-9 here.
//
// ReLU cases have kinks: finite differences across a kink are meaningless, so their weights and inputs are
// re-drawn (deterministically) until no pre-activation at an active step lies within 1e-3 of 0.
//
// Both kernel builds (plain SIMD and relaxed SIMD) are checked against the same differences.
import { afterAll, describe, expect, it } from 'vitest';
import {
  GRU, InvalidArgumentError, LSTM, RNN, Random, ShapeError, init, type Engine, type RecurrentLayer, type TensorLike,
} from '../src/index.js';
import { referenceForward, referenceParamShapes, type RefConfig, type RefMode, type RefOutput } from './reference.js';

const EPS = 1e-6;
const REL_TOL = 1e-4;
const KINK_MARGIN = 1e-3;

interface Case {
  name: string;
  mode: RefMode;
  I: number;
  H: number;
  T: number;
  /** Batch size; ignored when unbatched (B = 1). */
  B: number;
  L?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  bias?: boolean;
  projSize?: number;
  /** GRU: false for the reset-before form (Keras reset_after=False, ONNX linear_before_reset=0). */
  resetAfter?: boolean;
  /** Pass h0 / c0 to forward (else the engine gets none and the differences are taken at zero states). */
  h0?: boolean;
  c0?: boolean;
  lengths?: number[];
  unbatched?: boolean;
  /** Which upstream gradients backward receives (default all). */
  upstream?: 'all' | 'output' | 'state';
  seed: number;
}

const CASES: Case[] = [
  { name: 'rnn_tanh_1l', mode: 'RNN_TANH', I: 3, H: 4, T: 4, B: 2, seed: 11 },
  { name: 'rnn_tanh_2l_bi_lengths_h0', mode: 'RNN_TANH', I: 3, H: 5, T: 5, B: 3, L: 2, bidirectional: true,
    lengths: [5, 2, 4], h0: true, seed: 12 },
  { name: 'rnn_tanh_nobias_batch_first', mode: 'RNN_TANH', I: 3, H: 7, T: 4, B: 3, bias: false, batchFirst: true,
    seed: 13 },
  { name: 'rnn_relu_1l_h0', mode: 'RNN_RELU', I: 3, H: 5, T: 4, B: 2, h0: true, seed: 14 },
  { name: 'rnn_relu_2l_bi_lengths', mode: 'RNN_RELU', I: 3, H: 4, T: 4, B: 3, L: 2, bidirectional: true,
    lengths: [4, 1, 3], seed: 15 },
  { name: 'rnn_relu_nobias_batch_first', mode: 'RNN_RELU', I: 3, H: 6, T: 3, B: 2, bias: false, batchFirst: true,
    h0: true, seed: 16 },
  { name: 'lstm_1l', mode: 'LSTM', I: 3, H: 4, T: 4, B: 2, seed: 21 },
  { name: 'lstm_1l_b1_h7', mode: 'LSTM', I: 3, H: 7, T: 3, B: 1, seed: 22 },
  { name: 'lstm_2l_bi_h0c0', mode: 'LSTM', I: 3, H: 5, T: 4, B: 2, L: 2, bidirectional: true, h0: true, c0: true,
    seed: 23 },
  { name: 'lstm_nobias_batch_first', mode: 'LSTM', I: 3, H: 6, T: 3, B: 3, bias: false, batchFirst: true, c0: true,
    seed: 24 },
  { name: 'lstm_2l_bi_lengths_h0c0', mode: 'LSTM', I: 3, H: 5, T: 5, B: 3, L: 2, bidirectional: true,
    lengths: [2, 5, 4], h0: true, c0: true, seed: 25 },
  { name: 'lstm_proj_2l_bi_h0c0', mode: 'LSTM', I: 3, H: 6, T: 4, B: 2, L: 2, bidirectional: true, projSize: 3,
    h0: true, c0: true, seed: 26 },
  { name: 'lstm_proj_1l_lengths_batch_first', mode: 'LSTM', I: 3, H: 5, T: 5, B: 3, projSize: 2, batchFirst: true,
    lengths: [5, 3, 1], c0: true, seed: 27 },
  { name: 'lstm_proj_nobias_output_only', mode: 'LSTM', I: 3, H: 7, T: 3, B: 2, projSize: 4, bias: false,
    upstream: 'output', seed: 28 },
  { name: 'lstm_2l_bi_unbatched_h0c0', mode: 'LSTM', I: 3, H: 4, T: 5, B: 1, L: 2, bidirectional: true,
    unbatched: true, h0: true, c0: true, seed: 29 },
  { name: 'lstm_state_only', mode: 'LSTM', I: 3, H: 5, T: 4, B: 2, h0: true, upstream: 'state', seed: 30 },
  { name: 'gru_1l', mode: 'GRU', I: 3, H: 4, T: 4, B: 2, seed: 31 },
  { name: 'gru_2l_bi_h0', mode: 'GRU', I: 3, H: 5, T: 4, B: 2, L: 2, bidirectional: true, h0: true, seed: 32 },
  { name: 'gru_nobias_batch_first', mode: 'GRU', I: 3, H: 7, T: 3, B: 3, bias: false, batchFirst: true, seed: 33 },
  { name: 'gru_bi_lengths_h0', mode: 'GRU', I: 3, H: 6, T: 4, B: 3, bidirectional: true, lengths: [4, 1, 3],
    h0: true, seed: 34 },
  { name: 'gru_unbatched_batch_first_h0', mode: 'GRU', I: 3, H: 5, T: 4, B: 1, batchFirst: true, unbatched: true,
    h0: true, seed: 35 },
  { name: 'gru_2l_output_only', mode: 'GRU', I: 3, H: 4, T: 3, B: 2, L: 2, upstream: 'output', seed: 36 },
  { name: 'gru_reset_before_1l', mode: 'GRU', I: 3, H: 5, T: 4, B: 2, resetAfter: false, seed: 37 },
  { name: 'gru_reset_before_2l_bi_lengths_h0', mode: 'GRU', I: 3, H: 6, T: 4, B: 3, L: 2, bidirectional: true,
    lengths: [4, 1, 3], h0: true, resetAfter: false, seed: 38 },
  { name: 'gru_reset_before_nobias_h17', mode: 'GRU', I: 3, H: 17, T: 3, B: 1, bias: false, resetAfter: false,
    seed: 39 },
];

interface Tensor64 {
  shape: number[];
  data: Float64Array;
}

/** Everything a case needs, drawn once: float32-representable values held in float64. */
interface Problem {
  cfg: RefConfig;
  sd: Record<string, Tensor64>;
  x: Tensor64;
  h0: Tensor64;
  c0?: Tensor64;
  lengths?: number[];
  gOut?: Tensor64;
  ghN?: Tensor64;
  gcN?: Tensor64;
  /** Smallest |pre-activation| of an RNN cell at an active step. */
  minPre: number;
  attempts: number;
}

function cfgOf(c: Case): RefConfig {
  return {
    mode: c.mode, inputSize: c.I, hiddenSize: c.H, numLayers: c.L ?? 1, bidirectional: c.bidirectional ?? false,
    batchFirst: c.batchFirst ?? false, bias: c.bias ?? true, projSize: c.projSize ?? 0,
    ...(c.resetAfter === false ? { resetAfter: false } : {}),
  };
}

function draw(shape: number[], f: () => number): Tensor64 {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float64Array.from({ length: n }, () => Math.fround(f())) };
}

function makeProblem(c: Case): Problem {
  const cfg = cfgOf(c);
  const D = cfg.bidirectional ? 2 : 1;
  const L = cfg.numLayers!;
  const Hout = cfg.projSize! > 0 ? cfg.projSize! : c.H;
  const B = c.unbatched ? 1 : c.B;
  const relu = c.mode === 'RNN_RELU';
  for (let attempt = 0; attempt < 100; attempt++) {
    const rng = new Random(c.seed * 1009 + attempt);
    // Weights: PyTorch's init range scaled up (1.2 for ReLU, which must not blow up) so gates leave their
    // linear region; biases get an extra offset. Values are float32 so engine and reference see the same numbers.
    const k = (relu ? 1.2 : 2) / Math.sqrt(c.H);
    const sd: Record<string, Tensor64> = {};
    for (const p of referenceParamShapes(cfg)) {
      const isBias = p.name.startsWith('bias');
      sd[p.name] = draw(p.shape, () => rng.uniform(-k, k) + (isBias ? 0.5 * rng.normal() : 0));
    }
    const xShape = c.unbatched ? [c.T, c.I] : cfg.batchFirst ? [B, c.T, c.I] : [c.T, B, c.I];
    const x = draw(xShape, () => rng.normal());
    const hShape = c.unbatched ? [D * L, Hout] : [D * L, B, Hout];
    const cShape = c.unbatched ? [D * L, c.H] : [D * L, B, c.H];
    const h0 = c.h0 ? draw(hShape, () => 0.5 * rng.normal()) : draw(hShape, () => 0);
    const c0 = c.mode !== 'LSTM' ? undefined : c.c0 ? draw(cShape, () => rng.normal()) : draw(cShape, () => 0);
    const up = c.upstream ?? 'all';
    const oShape = c.unbatched ? [c.T, D * Hout] : cfg.batchFirst ? [B, c.T, D * Hout] : [c.T, B, D * Hout];
    const gOut = up !== 'state' ? draw(oShape, () => rng.normal()) : undefined;
    const ghN = up !== 'output' ? draw(hShape, () => rng.normal()) : undefined;
    const gcN = up !== 'output' && c.mode === 'LSTM' ? draw(cShape, () => rng.normal()) : undefined;
    let minPre = Infinity;
    referenceForward(cfg, sd, x, {
      h0, c0, lengths: c.lengths, onPreActivation: (v) => { minPre = Math.min(minPre, Math.abs(v)); },
    });
    if (!relu || minPre > KINK_MARGIN) {
      return { cfg, sd, x, h0, c0, lengths: c.lengths, gOut, ghN, gcN, minPre, attempts: attempt + 1 };
    }
  }
  throw new Error(`${c.name}: no draw keeps every ReLU pre-activation ${KINK_MARGIN} away from 0`);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function runRef(p: Problem): RefOutput {
  return referenceForward(p.cfg, p.sd, p.x, { h0: p.h0, c0: p.c0, lengths: p.lengths });
}

function loss(p: Problem): number {
  const r = runRef(p);
  let s = 0;
  if (p.gOut) s += dot(r.output.data, p.gOut.data);
  if (p.ghN) s += dot(r.hN.data, p.ghN.data);
  if (p.gcN) s += dot(r.cN!.data, p.gcN.data);
  return s;
}

/** Central differences of the loss for every entry of `t` (perturbed in place and restored). */
function centralDiff(p: Problem, t: Float64Array): Float64Array {
  const g = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    t[i] = v + EPS;
    const lp = loss(p);
    t[i] = v - EPS;
    const lm = loss(p);
    t[i] = v;
    g[i] = (lp - lm) / (2 * EPS);
  }
  return g;
}

interface FdGrads {
  /** Parameter name (PyTorch's) and 'input', 'h0', 'c0' to gradient. */
  grads: Map<string, Tensor64>;
  ms: number;
}

function finiteDifferences(p: Problem): FdGrads {
  const t0 = performance.now();
  const grads = new Map<string, Tensor64>();
  for (const [name, t] of Object.entries(p.sd)) grads.set(name, { shape: t.shape, data: centralDiff(p, t.data) });
  grads.set('input', { shape: p.x.shape, data: centralDiff(p, p.x.data) });
  grads.set('h0', { shape: p.h0.shape, data: centralDiff(p, p.h0.data) });
  if (p.c0) grads.set('c0', { shape: p.c0.shape, data: centralDiff(p, p.c0.data) });
  return { grads, ms: performance.now() - t0 };
}

function build(c: Case): RecurrentLayer {
  const common = {
    inputSize: c.I, hiddenSize: c.H, numLayers: c.L ?? 1, bidirectional: c.bidirectional ?? false,
    batchFirst: c.batchFirst ?? false, bias: c.bias ?? true, seed: 1,
  };
  if (c.mode === 'LSTM') return new LSTM({ ...common, projSize: c.projSize ?? 0 });
  if (c.mode === 'GRU') return new GRU({ ...common, resetAfter: c.resetAfter ?? true });
  return new RNN({ ...common, nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
}

const f32 = (t: Tensor64): TensorLike => ({ shape: t.shape, data: Float32Array.from(t.data) });

function sdF32(p: Problem): Record<string, TensorLike> {
  return Object.fromEntries(Object.entries(p.sd).map(([n, t]) => [n, f32(t)]));
}

function forwardOptions(c: Case, p: Problem, train: boolean) {
  return {
    h0: c.h0 ? f32(p.h0) : undefined, c0: c.c0 && p.c0 ? f32(p.c0) : undefined, lengths: p.lengths, train,
  };
}

function upstreamOf(p: Problem) {
  return {
    output: p.gOut ? f32(p.gOut) : undefined, hN: p.ghN ? f32(p.ghN) : undefined,
    cN: p.gcN ? f32(p.gcN) : undefined,
  };
}

function multiIndex(shape: readonly number[], flat: number): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]!);
    flat = Math.floor(flat / shape[d]!);
  }
  return `[${idx.join(', ')}]`;
}

interface TensorReport {
  tensor: string;
  maxErr: number;
  fdNorm: number;
  bound: number;
  worst: string;
}

function compare(name: string, engine: { shape: readonly number[]; data: ArrayLike<number> }, fd: Tensor64):
  TensorReport {
  expect([...engine.shape], `${name} shape`).toEqual(fd.shape);
  let maxErr = 0;
  let at = 0;
  let norm = 0;
  for (let i = 0; i < fd.data.length; i++) {
    const e = Math.abs(engine.data[i]! - fd.data[i]!);
    if (!(e <= maxErr)) {
      maxErr = Number.isNaN(e) ? Infinity : e;
      at = i;
    }
    norm += fd.data[i]! ** 2;
  }
  const fdNorm = Math.sqrt(norm);
  const worst = `${name}${multiIndex(fd.shape, at)}: engine ${engine.data[at]}, fd ${fd.data[at]}`;
  return { tensor: name, maxErr, fdNorm, bound: REL_TOL * Math.max(1, fdNorm), worst };
}

// Drawn problems and their finite differences, computed once and shared by both builds.
const problems = new Map<string, Problem>();
const fdCache = new Map<string, FdGrads>();
const problemOf = (c: Case): Problem => {
  if (!problems.has(c.name)) problems.set(c.name, makeProblem(c));
  return problems.get(c.name)!;
};
const fdOf = (c: Case): FdGrads => {
  if (!fdCache.has(c.name)) fdCache.set(c.name, finiteDifferences(problemOf(c)));
  return fdCache.get(c.name)!;
};
const summary: string[] = [];

afterAll(() => {
  if (summary.length) console.log(`gradcheck worst errors (bound = ${REL_TOL} * max(1, ||fd||)):\n${summary.join('\n')}`);
});

for (const flavour of ['simd', 'relaxed'] as const) {
  describe(`backward matches float64 finite differences of the reference (${flavour} build)`, () => {
    let engine: Engine;
    it('initialises', async () => {
      engine = await init({ simd: flavour, force: true });
      expect(engine.flavour).toBe(flavour);
    });

    for (const c of CASES) {
      it(c.name, () => {
        const p = problemOf(c);
        const fd = fdOf(c);
        const m = build(c);
        try {
          expect(m.engine).toBe(engine);
          // The reference's parameter list is the engine's.
          expect(Object.entries(m.stateDict()).map(([name, t]) => ({ name, shape: [...t.shape] })))
            .toEqual(referenceParamShapes(p.cfg));
          m.loadStateDict(sdF32(p));
          m.zeroGrad();
          const y = m.forward(f32(p.x), forwardOptions(c, p, true));
          // The training forward agrees with the reference (sanity: the gradients below are of this function).
          const ref = runRef(p);
          const fwdErr = Math.max(maxAbs(y.output.data, ref.output.data), maxAbs(y.hN.data, ref.hN.data),
            ref.cN ? maxAbs(y.cN!.data, ref.cN.data) : 0);
          expect(fwdErr, 'training forward vs reference').toBeLessThanOrEqual(1e-5);
          const r = m.backward(upstreamOf(p));
          if (p.lengths) {
            // Padded steps: output exactly 0, and the input there gets exactly zero gradient.
            const W = y.output.shape[2]!;
            const T = c.T;
            const B = c.B;
            for (let b = 0; b < B; b++) {
              for (let t = p.lengths[b]!; t < T; t++) {
                const o = c.batchFirst ? (b * T + t) * W : (t * B + b) * W;
                const xi = c.batchFirst ? (b * T + t) * c.I : (t * B + b) * c.I;
                expect(Array.from(y.output.data.subarray(o, o + W)), `output[t=${t}, b=${b}]`).toEqual(Array(W).fill(0));
                expect(Array.from(r.dInput.data.subarray(xi, xi + c.I)).map(Math.abs), `dInput[t=${t}, b=${b}]`)
                  .toEqual(Array(c.I).fill(0));
              }
            }
          }
          const reports: TensorReport[] = [];
          expect(Object.keys(r.grads).sort()).toEqual(Object.keys(p.sd).sort());
          for (const name of Object.keys(p.sd)) reports.push(compare(name, r.grads[name]!, fd.grads.get(name)!));
          reports.push(compare('input', r.dInput, fd.grads.get('input')!));
          reports.push(compare('h0', r.dh0, fd.grads.get('h0')!));
          if (c.mode === 'LSTM') reports.push(compare('c0', r.dc0!, fd.grads.get('c0')!));
          else expect(r.dc0).toBeUndefined();
          const worst = reports.reduce((a, b) => (b.maxErr / b.bound > a.maxErr / a.bound ? b : a));
          const n = reports.reduce((a, b) => a + fd.grads.get(b.tensor)!.data.length, 0);
          summary.push(`  ${flavour} ${c.name}: ${n} entries, fd ${fd.ms.toFixed(0)} ms` +
            `${c.mode === 'RNN_RELU' ? `, min |pre-act| ${p.minPre.toExponential(2)} (draw ${p.attempts})` : ''}; ` +
            `worst ${worst.tensor} err ${worst.maxErr.toExponential(2)} (||fd|| ${worst.fdNorm.toExponential(2)}, ` +
            `err/bound ${(worst.maxErr / worst.bound).toFixed(3)})`);
          for (const rep of reports) {
            expect(rep.maxErr, `${c.name} ${rep.tensor}: max |engine - fd| = ${rep.maxErr} > ${rep.bound} ` +
              `(||fd|| = ${rep.fdNorm}); worst at ${rep.worst}`).toBeLessThanOrEqual(rep.bound);
          }
        } finally {
          m.dispose();
        }
      });
    }
  });
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// Accumulation, zeroGrad, single use of the activations, upstream validation.

const LIFECYCLE: Case[] = [
  { name: 'lstm_proj_bi_lengths', mode: 'LSTM', I: 3, H: 5, T: 4, B: 2, L: 2, bidirectional: true, projSize: 3,
    lengths: [4, 2], h0: true, c0: true, seed: 41 },
  { name: 'gru_2l_batch_first', mode: 'GRU', I: 3, H: 6, T: 3, B: 2, L: 2, batchFirst: true, h0: true, seed: 42 },
  { name: 'rnn_relu_bi', mode: 'RNN_RELU', I: 3, H: 4, T: 3, B: 2, bidirectional: true, seed: 43 },
];

function flatGrads(g: Record<string, { data: ArrayLike<number> }>): Float64Array {
  return Float64Array.from(Object.keys(g).sort().flatMap((k) => Array.from(g[k]!.data)));
}

describe('backward: accumulation, zeroGrad, single use, validation', () => {
  it('initialises', async () => {
    await init();
  });

  for (const c of LIFECYCLE) {
    it(`${c.name}: gradients accumulate across two backward calls and zeroGrad resets them`, () => {
      const p = problemOf(c);
      const m = build(c);
      try {
        m.loadStateDict(sdF32(p));
        m.zeroGrad();
        m.forward(f32(p.x), forwardOptions(c, p, true));
        const r1 = m.backward(upstreamOf(p));
        const g1 = flatGrads(r1.grads);
        expect(Math.max(...g1.map(Math.abs))).toBeGreaterThan(1e-3);
        m.forward(f32(p.x), forwardOptions(c, p, true));
        const r2 = m.backward(upstreamOf(p));
        const g2 = flatGrads(r2.grads);
        // Parameter gradients doubled; input and state gradients are per call, not accumulated.
        const scale = Math.max(1, ...g1.map(Math.abs));
        expect(maxAbs(g2, g1.map((v) => 2 * v)), 'second backward adds to the first').toBeLessThanOrEqual(1e-6 * scale);
        expect(maxAbs(r2.dInput.data, r1.dInput.data)).toBeLessThanOrEqual(1e-6);
        expect(maxAbs(r2.dh0.data, r1.dh0.data)).toBeLessThanOrEqual(1e-6);
        expect(maxAbs(flatGrads(m.gradients()), g2)).toBe(0);
        m.zeroGrad();
        expect(Math.max(...flatGrads(m.gradients()).map(Math.abs))).toBe(0);
        m.forward(f32(p.x), forwardOptions(c, p, true));
        const r3 = m.backward(upstreamOf(p));
        expect(maxAbs(flatGrads(r3.grads), g1), 'after zeroGrad the gradients start again from zero')
          .toBeLessThanOrEqual(1e-6 * scale);
      } finally {
        m.dispose();
      }
    });

    it(`${c.name}: backward needs a new training forward each time`, () => {
      const p = problemOf(c);
      const m = build(c);
      try {
        m.loadStateDict(sdF32(p));
        const up = upstreamOf(p);
        // Never trained: throws.
        expect(() => m.backward(up)).toThrow(InvalidArgumentError);
        // An inference forward does not keep activations.
        m.forward(f32(p.x), forwardOptions(c, p, false));
        expect(() => m.backward(up)).toThrow(InvalidArgumentError);
        m.forward(f32(p.x), forwardOptions(c, p, true));
        m.backward(up);
        // The activations were consumed.
        let err: unknown;
        try {
          m.backward(up);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
        expect((err as Error).message).toMatch(/train: true/);
        // ...and stay consumed after an inference forward.
        m.forward(f32(p.x), forwardOptions(c, p, false));
        expect(() => m.backward(up)).toThrow(InvalidArgumentError);
      } finally {
        m.dispose();
      }
    });

    it(`${c.name}: backward validates the shapes of the upstream gradients`, () => {
      const p = problemOf(c);
      const m = build(c);
      try {
        m.loadStateDict(sdF32(p));
        m.zeroGrad();
        m.forward(f32(p.x), forwardOptions(c, p, true));
        const up = upstreamOf(p);
        const bad = (t: TensorLike): TensorLike => {
          const shape = [...t.shape];
          shape[shape.length - 1]! += 1;
          return { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
        };
        const expectShapeError = (f: () => unknown, argument: string): void => {
          let err: unknown;
          try {
            f();
          } catch (e) {
            err = e;
          }
          expect(err, `${argument}`).toBeInstanceOf(ShapeError);
          expect((err as ShapeError).code).toBe('SHAPE_MISMATCH');
          expect((err as ShapeError).argument).toBe(argument);
          expect((err as Error).message).toContain(argument);
        };
        expectShapeError(() => m.backward({ ...up, output: bad(up.output!) }), 'upstream.output');
        // The time and batch dimensions are checked too, not just the element count.
        const o = up.output!;
        const swapped = { shape: [o.shape[1]!, o.shape[0]!, ...o.shape.slice(2)], data: o.data };
        expectShapeError(() => m.backward({ ...up, output: swapped }), 'upstream.output');
        expectShapeError(() => m.backward({ ...up, hN: bad(up.hN!) }), 'upstream.hN');
        if (c.mode === 'LSTM') {
          expectShapeError(() => m.backward({ ...up, cN: bad(up.cN!) }), 'upstream.cN');
        } else {
          const cN = { shape: up.hN!.shape, data: new Float32Array(up.hN!.data.length) };
          expect(() => m.backward({ ...up, cN })).toThrow(InvalidArgumentError);
        }
        expect(() => m.backward({ ...up, output: { shape: o.shape, data: new Float32Array(o.data.length).fill(NaN) } }))
          .toThrow(InvalidArgumentError);
        // A rejected call does not consume the activations: a valid backward still gives the right gradients.
        const r = m.backward(up);
        const fd = finiteDifferences(p);
        for (const name of Object.keys(p.sd)) {
          const rep = compare(name, r.grads[name]!, fd.grads.get(name)!);
          expect(rep.maxErr, rep.worst).toBeLessThanOrEqual(rep.bound);
        }
      } finally {
        m.dispose();
      }
    });
  }
});
