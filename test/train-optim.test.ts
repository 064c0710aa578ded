// Optimizers, gradient clipping and learning-rate schedules against PyTorch (float64) fixtures from
// test/fixtures/gen_optim.py, for both builds of the kernels.
//
// Tolerance: the engine updates in float32 from the same float32 inputs PyTorch ran in float64. Parameters and
// optimizer state are compared normwise per array: max_i |actual_i - expected_i| <= 1e-6 * max_i |expected_i|
// (observed: a few 1e-8). Scalar results computed in float64 (total norms, schedule lrs) are compared to 1e-12
// relative. Padding entries (param 0, grad 0) must stay exactly 0.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DisposedError, GRU, InvalidArgumentError, LSTM, RNN, StateDictError, UnsupportedError, WasmOwner, init, type Engine,
  type RecurrentLayer,
} from '../src/index.js';
import { clipGradNorm, clipGradValue, gradNorm, hasNonfiniteGrad } from '../src/train/clip.js';
import { Adam, AdamW, SGD, type AdamOptions, type Optimizer, type OptimizerStateDict } from '../src/train/optimizers.js';
import type { Parameter } from '../src/train/parameter.js';
import { CosineAnnealingLR, StepLR, type LRScheduler } from '../src/train/schedules.js';
import { lengthsMask, mseLoss } from '../src/train/losses.js';
import { fixturesDir, type T as Tens } from './helpers.js';

const REL = 1e-6;
const SCALAR_REL = 1e-12;

type Vec = number[];
interface OptimCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, unknown>;
  scheduler: null | { type: 'StepLR' | 'CosineAnnealingLR'; options: Record<string, number> };
  lrs: number[];
  params: Vec[][];
  state: Array<{ step?: number; momentumBuffer?: Vec; expAvg?: Vec; expAvgSq?: Vec }>;
}
const optimFx = JSON.parse(readFileSync(`${fixturesDir}optim/optimizers.json`, 'utf8')) as {
  params0: Vec[]; grads: Vec[][]; padding: number[][]; cases: OptimCase[];
};
const clipFx = JSON.parse(readFileSync(`${fixturesDir}optim/clip.json`, 'utf8')) as {
  grads: Vec[];
  norm: Array<{ maxNorm: number; normType: number | 'inf'; totalNorm: number; grads: Vec[] }>;
  value: Array<{ clipValue: number; grads: Vec[] }>;
};
const schedFx = JSON.parse(readFileSync(`${fixturesDir}optim/schedules.json`, 'utf8')) as {
  cases: Array<{ type: 'StepLR' | 'CosineAnnealingLR'; baseLr: number; options: Record<string, number>; lrs: number[] }>;
};

interface TrainCase {
  name: string; mode: 'LSTM' | 'GRU' | 'RNN';
  options: { inputSize: number; hiddenSize: number; numLayers?: number; bidirectional?: boolean };
  optimizer: 'SGD' | 'Adam' | 'AdamW'; optimizerOptions: Record<string, unknown>; clipMaxNorm: number | null;
  input: Tens; target: Tens; lengths: number[]; stateDict0: Record<string, Tens>; losses: number[]; norms: number[];
  stateDicts: Array<Record<string, number[]>>;
}
const trainFx = JSON.parse(readFileSync(`${fixturesDir}optim/train.json`, 'utf8')) as { cases: TrainCase[] };

/** Parameters with values and gradients in blocks this test owns. */
class TestParams extends WasmOwner {
  readonly list: Parameter[];
  constructor(engine: Engine, lengths: readonly number[]) {
    super(engine, 'test parameters');
    this.list = lengths.map((length, i) => ({
      name: `p${i}`, engine, length, owner: this,
      param: this.allocBlock(length * 4), grad: this.allocBlock(length * 4),
    }));
  }
  setParams(values: readonly Vec[]): void {
    values.forEach((v, i) => this.engine.f32().set(v, this.list[i]!.param / 4));
  }
  setGrads(values: readonly Vec[]): void {
    values.forEach((v, i) => this.engine.f32().set(v, this.list[i]!.grad / 4));
  }
  params(): Float32Array[] {
    return this.list.map((p) => this.engine.f32().slice(p.param / 4, p.param / 4 + p.length));
  }
  grads(): Float32Array[] {
    return this.list.map((p) => this.engine.f32().slice(p.grad / 4, p.grad / 4 + p.length));
  }
}

/** max |a - e| / max |e| (0 when both are all zero). */
function normwise(a: ArrayLike<number>, e: ArrayLike<number>): number {
  expect(a.length).toBe(e.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < e.length; i++) {
    const x = Math.abs(a[i]! - e[i]!);
    if (!(x <= d)) d = Number.isNaN(x) ? Infinity : x;
    m = Math.max(m, Math.abs(e[i]!));
  }
  return m === 0 ? d : d / m;
}

function expectNormwise(a: ArrayLike<number>, e: ArrayLike<number>, what: string, tol = REL): number {
  const r = normwise(a, e);
  expect(r, `${what}: normwise relative error ${r}`).toBeLessThanOrEqual(tol);
  return r;
}

function makeOptimizer(c: OptimCase, params: Parameter[]): Optimizer<object> {
  if (c.optimizer === 'SGD') return new SGD(params, c.options);
  const o = c.options as { betas?: [number, number] };
  if (c.optimizer === 'Adam') return new Adam(params, o);
  return new AdamW(params, o);
}

function makeScheduler(c: OptimCase, opt: Optimizer<object>): LRScheduler | undefined {
  if (!c.scheduler) return undefined;
  const o = c.scheduler.options;
  if (c.scheduler.type === 'StepLR') return new StepLR(opt, { stepSize: o.stepSize!, gamma: o.gamma });
  return new CosineAnnealingLR(opt, { tMax: o.tMax!, etaMin: o.etaMin });
}

const lengths = optimFx.params0.map((p) => p.length);
const finalBits = new Map<string, Map<string, Uint32Array[]>>();
const worst = { param: 0, state: 0 };

for (const flavour of ['simd', 'relaxed'] as const) {
  describe(`optimizers match PyTorch (${flavour} build)`, () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await init({ simd: flavour, force: true });
    });

    it('the fixture covers SGD (plain, momentum, Nesterov, dampening, weight decay), Adam, AdamW and schedules', () => {
      expect(optimFx.cases.map((c) => c.name)).toEqual(expect.arrayContaining([
        'sgd', 'sgd_momentum', 'sgd_nesterov', 'sgd_dampening', 'sgd_weight_decay', 'adam', 'adam_weight_decay',
        'adamw', 'sgd_momentum_steplr', 'adam_cosine']));
      expect(lengths).toEqual([13, 6]);
    });

    for (const c of optimFx.cases) {
      it(c.name, () => {
        const tp = new TestParams(engine, lengths);
        tp.setParams(optimFx.params0);
        tp.setGrads(optimFx.params0.map((p) => p.map(() => 7))); // zeroGrad must clear these
        const opt = makeOptimizer(c, tp.list);
        const sched = makeScheduler(c, opt);
        for (let k = 0; k < c.params.length; k++) {
          opt.zeroGrad();
          for (const g of tp.grads()) expect(g.every((v) => v === 0)).toBe(true);
          tp.setGrads(optimFx.grads[k]!);
          expect(opt.lr).toBeCloseTo(c.lrs[k]!, 15);
          opt.step();
          sched?.step();
          const got = tp.params();
          got.forEach((p, i) => {
            worst.param = Math.max(worst.param, expectNormwise(p, c.params[k]![i]!, `${c.name} step ${k} param ${i}`));
            for (const j of optimFx.padding[i]!) expect(Object.is(p[j], 0), `padding ${i}[${j}] stays +0`).toBe(true);
          });
          // the gradient is only read
          tp.grads().forEach((g, i) => expect(Array.from(g)).toEqual(optimFx.grads[k]![i]));
        }
        const sd = opt.stateDict();
        expect(sd.state.length).toBe(2);
        sd.state.forEach((s, i) => {
          const e = c.state[i]!;
          if (Object.keys(e).length === 0) {
            expect(s).toBeNull(); // stateless SGD allocates nothing
            return;
          }
          expect(s).not.toBeNull();
          expect(s!.step).toBe(e.step);
          for (const key of ['momentumBuffer', 'expAvg', 'expAvgSq'] as const) {
            expect(s![key] === undefined, `${key} present`).toBe(e[key] === undefined);
            if (e[key]) {
              worst.state = Math.max(worst.state, expectNormwise(s![key]!, e[key]!, `${c.name} ${key} ${i}`));
            }
          }
        });
        const bits = tp.params().map((p) => new Uint32Array(p.buffer.slice(0)));
        if (!finalBits.has(c.name)) finalBits.set(c.name, new Map());
        finalBits.get(c.name)!.set(flavour, bits);
        opt.dispose();
        tp.dispose();
      });
    }
  });
}

describe('optimizers: builds, state, memory and validation', () => {
  let engine: Engine;
  let tp: TestParams;
  beforeAll(async () => {
    engine = await init({ simd: 'simd', force: true });
  });
  afterAll(() => tp?.dispose());

  it('both builds give bit-identical steps (the optimizer kernels use no fused multiply-add)', () => {
    for (const c of optimFx.cases) {
      const m = finalBits.get(c.name);
      expect(m?.size, c.name).toBe(2);
      expect(m!.get('relaxed'), c.name).toEqual(m!.get('simd'));
    }
    // eslint-disable-next-line no-console
    console.log(`optimizers: worst normwise error vs PyTorch float64: params ${worst.param.toExponential(2)}, ` +
      `state ${worst.state.toExponential(2)}`);
  });

  const roundTrip = (make: (ps: Parameter[]) => Optimizer<object>, name: string): void => {
    const a = new TestParams(engine, lengths);
    const b = new TestParams(engine, lengths);
    a.setParams(optimFx.params0);
    const oa = make(a.list);
    for (let k = 0; k < 2; k++) {
      a.setGrads(optimFx.grads[k]!);
      oa.step();
    }
    // through JSON, as a saved file would be
    const saved = JSON.parse(JSON.stringify(oa.stateDict(), (_k, v: unknown) =>
      v instanceof Float32Array ? Array.from(v) : v)) as OptimizerStateDict<object>;
    b.setParams(a.params().map((p) => Array.from(p)));
    const ob = make(b.list);
    ob.loadStateDict(saved);
    expect(ob.lr).toBe(oa.lr);
    for (let k = 2; k < 5; k++) {
      a.setGrads(optimFx.grads[k]!);
      b.setGrads(optimFx.grads[k]!);
      oa.step();
      ob.step();
    }
    expect(b.params(), name).toEqual(a.params());
    oa.dispose();
    ob.dispose();
    a.dispose();
    b.dispose();
  };

  it('stateDict / loadStateDict resume bit for bit (SGD momentum, Adam, AdamW)', () => {
    roundTrip((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }), 'SGD');
    roundTrip((ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.1 }), 'Adam');
    roundTrip((ps) => new AdamW(ps, { lr: 0.01 }), 'AdamW');
  });

  it('loadStateDict restores the hyper-parameters and the lr, and validates everything first', () => {
    tp = new TestParams(engine, lengths);
    tp.setParams(optimFx.params0);
    tp.setGrads(optimFx.grads[0]!);
    const src = new Adam(tp.list, { lr: 0.02, betas: [0.8, 0.95], eps: 1e-7, weightDecay: 0.01 });
    src.step();
    const sd = src.stateDict();
    expect(sd.paramGroups).toEqual([{ lr: 0.02, betas: [0.8, 0.95], eps: 1e-7, weightDecay: 0.01, params: [0, 1] }]);
    expect(sd.state[0]!.step).toBe(1);
    src.dispose();

    const opt = new Adam(tp.list);
    opt.loadStateDict(sd);
    expect(opt.options).toEqual({ lr: 0.02, betas: [0.8, 0.95], eps: 1e-7, weightDecay: 0.01 });
    const before = opt.stateDict();
    const bad = (mutate: (s: OptimizerStateDict<AdamOptions>) => void, err: new (...a: never[]) => Error,
                 arg: string): void => {
      const s = structuredClone(sd);
      mutate(s);
      let caught: unknown;
      try {
        opt.loadStateDict(s);
      } catch (e) {
        caught = e;
      }
      expect(caught, arg).toBeInstanceOf(err);
      expect((caught as Error).message).toContain(arg);
      expect(opt.stateDict(), `${arg}: unchanged after a failed load`).toEqual(before);
    };
    bad((s) => { s.state[1]!.expAvg = new Float32Array(5); }, StateDictError, 'state[1].expAvg');
    bad((s) => { delete s.state[0]!.expAvgSq; }, StateDictError, 'state[0].expAvgSq');
    bad((s) => { s.state[0]!.expAvg![3] = NaN; }, StateDictError, 'state[0].expAvg');
    bad((s) => { s.state[0]!.step = -1; }, StateDictError, 'state[0].step');
    bad((s) => { s.state.pop(); }, StateDictError, 'state');
    bad((s) => { s.paramGroups[0]!.params = [0]; }, StateDictError, 'paramGroups[0].params');
    bad((s) => { s.paramGroups[0]!.lr = -1; }, InvalidArgumentError, 'paramGroups[0].lr');
    bad((s) => { s.paramGroups[0]!.betas = [0.9, 1]; }, InvalidArgumentError, 'paramGroups[0].betas[1]');
    // a null entry clears that parameter's state
    const s = structuredClone(sd);
    s.state[1] = null;
    opt.loadStateDict(s);
    expect(opt.stateDict().state[1]).toBeNull();
    const sgd = new SGD(tp.list, { lr: 0.1 });
    expect(() => sgd.loadStateDict({ state: [null, null], paramGroups: [{ lr: 0.1, momentum: 0.9, dampening: 0,
      weightDecay: 0, nesterov: false, params: [0, 1] }] })).toThrow(StateDictError);
    sgd.dispose();
    opt.dispose();
  });

  it('allocates state lazily on the first step, frees it on dispose, and never frees the parameters', () => {
    const params = new TestParams(engine, [1000, 37]);
    const base = engine.stats();
    const sgd = new SGD(params.list, { lr: 0.1 });
    sgd.step();
    expect(engine.stats().blocks).toBe(base.blocks); // no momentum: no state at all
    sgd.dispose();
    const adam = new Adam(params.list);
    expect(engine.stats().blocks).toBe(base.blocks);
    adam.step();
    expect(engine.stats().blocks).toBe(base.blocks + 2);
    expect(engine.stats().usedBytes - base.usedBytes).toBeGreaterThanOrEqual(2 * 4 * (1000 + 37));
    adam.step();
    expect(engine.stats().blocks).toBe(base.blocks + 2);
    adam[Symbol.dispose]();
    expect(engine.stats().blocks).toBe(base.blocks);
    expect(engine.stats().usedBytes).toBe(base.usedBytes);
    adam.dispose(); // idempotent
    expect(() => adam.step()).toThrow(DisposedError);
    expect(() => adam.zeroGrad()).toThrow(DisposedError);
    expect(() => adam.stateDict()).toThrow(DisposedError);
    expect(params.params()[0]!.length).toBe(1000);
    params.dispose();
  });

  it('keeps working when the memory grows between steps', () => {
    const a = new TestParams(engine, lengths);
    const b = new TestParams(engine, lengths);
    a.setParams(optimFx.params0);
    b.setParams(optimFx.params0);
    const oa = new Adam(a.list, { lr: 0.01 });
    const ob = new Adam(b.list, { lr: 0.01 });
    const hog: number[] = [];
    for (let k = 0; k < 5; k++) {
      a.setGrads(optimFx.grads[k]!);
      b.setGrads(optimFx.grads[k]!);
      oa.step();
      hog.push(engine.alloc(8 << 20)); // forces growth; views are re-taken
      ob.step();
    }
    expect(b.params()).toEqual(a.params());
    for (const h of hog) engine.release(h);
    oa.dispose(); ob.dispose(); a.dispose(); b.dispose();
  });

  it('refuses parameters whose owner was disposed', () => {
    const p = new TestParams(engine, [8]);
    const opt = new SGD(p.list, { lr: 0.1 });
    p.dispose();
    expect(() => opt.step()).toThrow(/disposed/);
    expect(() => opt.zeroGrad()).toThrow(InvalidArgumentError);
    expect(() => new SGD(p.list)).toThrow(InvalidArgumentError);
    opt.dispose();
  });

  it('validates options, naming the option', () => {
    const p = new TestParams(engine, [8, 3]);
    const expectArg = (f: () => unknown, arg: string, type: new (...a: never[]) => Error = InvalidArgumentError): void => {
      let caught: unknown;
      try {
        (f() as { dispose?: () => void } | undefined)?.dispose?.();
      } catch (e) {
        caught = e;
      }
      expect(caught, arg).toBeInstanceOf(type);
      if (type === InvalidArgumentError) expect((caught as InvalidArgumentError).argument).toBe(arg);
    };
    for (const lr of [-1, NaN, Infinity, '0.1', null]) {
      expectArg(() => new SGD(p.list, { lr: lr as number }), 'options.lr');
      expectArg(() => new Adam(p.list, { lr: lr as number }), 'options.lr');
    }
    expectArg(() => new SGD(p.list, { momentum: -0.1 }), 'options.momentum');
    expectArg(() => new SGD(p.list, { weightDecay: -1 }), 'options.weightDecay');
    expectArg(() => new SGD(p.list, { dampening: NaN }), 'options.dampening');
    expectArg(() => new SGD(p.list, { nesterov: true }), 'options.nesterov');
    expectArg(() => new SGD(p.list, { nesterov: true, momentum: 0.9, dampening: 0.1 }), 'options.nesterov');
    expectArg(() => new SGD(p.list, { nesterov: 1 as unknown as boolean, momentum: 0.9 }), 'options.nesterov');
    expectArg(() => new SGD(p.list, { lr: 0.1, mommentum: 0.9 } as object), 'options.mommentum');
    expectArg(() => new Adam(p.list, { betas: [1, 0.999] }), 'options.betas[0]');
    expectArg(() => new Adam(p.list, { betas: [0.9, -0.1] }), 'options.betas[1]');
    expectArg(() => new Adam(p.list, { betas: [0.9] as unknown as [number, number] }), 'options.betas');
    expectArg(() => new Adam(p.list, { eps: -1e-8 }), 'options.eps');
    expectArg(() => new AdamW(p.list, { weightDecay: Infinity }), 'options.weightDecay');
    expectArg(() => new Adam(p.list, { amsgrad: true } as object), 'amsgrad', UnsupportedError);
    new Adam(p.list, { amsgrad: false, maximize: false } as object).dispose();
    expectArg(() => new SGD([], { lr: 0.1 }), 'params');
    expectArg(() => new SGD(null as unknown as Parameter[]), 'params');
    expectArg(() => new SGD([p.list[0]!, p.list[0]!]), 'params[1]');
    expectArg(() => new SGD([{ ...p.list[0]!, length: 1.5 }]), 'params[0].length');
    expectArg(() => new SGD([{ ...p.list[0]!, param: 2 }]), 'params[0].param');
    expectArg(() => new SGD([{ ...p.list[0]!, grad: p.list[0]!.param }]), 'params[0].grad');
    expectArg(() => new SGD([{ ...p.list[0]!, grad: 1e12 }]), 'params[0].grad');
    const opt = new SGD(p.list, { lr: 0.1 });
    expect(opt.options).toEqual({ lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false });
    opt.lr = 0.05;
    expect(opt.lr).toBe(0.05);
    expect(() => { opt.lr = NaN; }).toThrow(InvalidArgumentError);
    expect(() => { opt.lr = -0.1; }).toThrow(InvalidArgumentError);
    expect(opt.lr).toBe(0.05);
    opt.dispose();
    const defaults = new AdamW(p.list);
    expect(defaults.options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 });
    defaults.dispose();
    const adam = new Adam(p.list);
    expect(adam.options.weightDecay).toBe(0);
    adam.dispose();
    p.dispose();
  });
});

describe('gradient clipping matches torch.nn.utils', () => {
  let engine: Engine;
  let tp: TestParams;
  beforeAll(async () => {
    engine = await init({ simd: 'simd', force: true });
    tp = new TestParams(engine, clipFx.grads.map((g) => g.length));
  });
  afterAll(() => tp.dispose());

  for (const c of clipFx.norm) {
    it(`clipGradNorm maxNorm=${c.maxNorm} normType=${c.normType}`, () => {
      const normType = c.normType === 'inf' ? Infinity : c.normType;
      tp.setGrads(clipFx.grads);
      expect(Math.abs(gradNorm(tp.list, normType) - c.totalNorm)).toBeLessThanOrEqual(SCALAR_REL * c.totalNorm);
      const total = clipGradNorm(tp.list, c.maxNorm, normType);
      expect(Math.abs(total - c.totalNorm)).toBeLessThanOrEqual(SCALAR_REL * c.totalNorm);
      tp.grads().forEach((g, i) => expectNormwise(g, c.grads[i]!, `clipped grad ${i}`));
      if (c.maxNorm > c.totalNorm) tp.grads().forEach((g, i) => expect(Array.from(g)).toEqual(clipFx.grads[i]));
    });
  }

  for (const c of clipFx.value) {
    it(`clipGradValue ${c.clipValue}`, () => {
      tp.setGrads(clipFx.grads);
      clipGradValue(tp.list, c.clipValue);
      tp.grads().forEach((g, i) => expect(Array.from(g)).toEqual(c.grads[i]));
    });
  }

  it('non-finite gradients: detected, NaN norm poisons the gradients as in PyTorch, or throws on request', () => {
    tp.setGrads(clipFx.grads);
    expect(hasNonfiniteGrad(tp.list)).toBe(false);
    const g = clipFx.grads.map((v) => v.slice());
    g[1]![4] = NaN;
    tp.setGrads(g);
    expect(hasNonfiniteGrad(tp.list)).toBe(true);
    expect(() => clipGradNorm(tp.list, 1, 2, { errorIfNonfinite: true })).toThrow(InvalidArgumentError);
    expect(tp.grads()[0]![0]).toBe(Math.fround(g[0]![0]!)); // untouched
    expect(Number.isNaN(gradNorm(tp.list, Infinity))).toBe(true);
    expect(Number.isNaN(clipGradNorm(tp.list, 1))).toBe(true);
    expect(tp.grads().every((a) => a.every((v) => Number.isNaN(v)))).toBe(true);
    g[1]![4] = Infinity;
    tp.setGrads(g);
    expect(gradNorm(tp.list)).toBe(Infinity);
    expect(gradNorm(tp.list, Infinity)).toBe(Infinity);
  });

  it('validates arguments and accepts an empty list', () => {
    expect(gradNorm([])).toBe(0);
    expect(clipGradNorm([], 1)).toBe(0);
    clipGradValue([], 1);
    for (const bad of [0, -1, NaN, '2']) {
      expect(() => gradNorm(tp.list, bad as number)).toThrow(InvalidArgumentError);
    }
    expect(() => clipGradNorm(tp.list, -1)).toThrow(/maxNorm/);
    expect(() => clipGradNorm(tp.list, NaN)).toThrow(/maxNorm/);
    expect(() => clipGradValue(tp.list, -0.5)).toThrow(/clipValue/);
    expect(() => clipGradValue([tp.list[0]!, tp.list[0]!], 1)).toThrow(InvalidArgumentError);
  });
});

describe('learning-rate schedules match torch.optim.lr_scheduler', () => {
  for (const c of schedFx.cases) {
    it(`${c.type} ${JSON.stringify(c.options)}`, () => {
      const target = { lr: c.baseLr };
      const s = c.type === 'StepLR'
        ? new StepLR(target, { stepSize: c.options.stepSize!, gamma: c.options.gamma })
        : new CosineAnnealingLR(target, { tMax: c.options.tMax!, etaMin: c.options.etaMin });
      const lrs = [s.getLastLr()[0]!];
      expect(target.lr).toBe(lrs[0]);
      for (let k = 1; k < c.lrs.length; k++) {
        s.step();
        expect(target.lr).toBe(s.getLastLr()[0]);
        lrs.push(target.lr);
      }
      lrs.forEach((v, k) => expect(Math.abs(v - c.lrs[k]!), `epoch ${k}`).toBeLessThanOrEqual(SCALAR_REL * c.lrs[k]! + 1e-18));
      expect(s.lastEpoch).toBe(c.lrs.length - 1);
    });
  }

  it('drives a real optimizer, resumes from a state dict, and validates options', async () => {
    const engine = await init({ simd: 'simd', force: true });
    const p = new TestParams(engine, [4]);
    const opt = new SGD(p.list, { lr: 0.1 });
    const s = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    for (let i = 0; i < 3; i++) s.step();
    expect(opt.lr).toBe(0.05);
    const saved = s.stateDict();
    expect(saved).toEqual({ lastEpoch: 3, baseLr: 0.1, lastLr: 0.05 });
    const s2 = new StepLR({ lr: 0.1 }, { stepSize: 2, gamma: 0.5 });
    s2.loadStateDict(saved);
    s.step();
    s2.step();
    expect(s2.getLastLr()).toEqual(s.getLastLr());
    expect(opt.lr).toBe(0.025);
    expect(() => s2.loadStateDict({ lastEpoch: 1.5, baseLr: 0.1, lastLr: 0.1 })).toThrow(StateDictError);
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(/options.stepSize/);
    expect(() => new StepLR(opt, { stepSize: 2, gamma: NaN })).toThrow(/options.gamma/);
    expect(() => new StepLR(opt, { stepSize: 2, step_size: 2 } as object as { stepSize: number })).toThrow(/step_size/);
    expect(() => new CosineAnnealingLR(opt, { tMax: 0 })).toThrow(/options.tMax/);
    expect(() => new CosineAnnealingLR(opt, { tMax: 5, etaMin: -1 })).toThrow(/options.etaMin/);
    expect(() => new CosineAnnealingLR({} as { lr: number }, { tMax: 5 })).toThrow(/optimizer/);
    opt.dispose();
    p.dispose();
  });
});

// End to end: a layer's parameters() (packed layout with padding) driven by the optimizers, with losses on a padded
// batch and clipping, against 3 PyTorch training steps. Errors compound through forward, backward and the update
// in float32, so the weights are compared normwise to 1e-5 per tensor.
describe('training a recurrent layer end to end matches PyTorch', () => {
  for (const flavour of ['simd', 'relaxed'] as const) {
    for (const c of trainFx.cases) {
      it(`${c.name} (${flavour} build)`, async () => {
        await init({ simd: flavour, force: true });
        const common = { ...c.options, seed: 1 };
        const model: RecurrentLayer = c.mode === 'LSTM' ? new LSTM(common) : c.mode === 'GRU' ? new GRU(common)
          : new RNN(common);
        model.loadStateDict(c.stateDict0);
        const params = model.parameters();
        const o = c.optimizerOptions as Record<string, never>;
        const opt = c.optimizer === 'SGD' ? new SGD(params, o) : c.optimizer === 'Adam' ? new Adam(params, o)
          : new AdamW(params, o);
        const [T, B] = c.input.shape as [number, number];
        const mask = lengthsMask(c.lengths, T, B);
        for (let step = 0; step < 3; step++) {
          opt.zeroGrad();
          const { output } = model.forward(c.input, { lengths: c.lengths, train: true });
          const { loss, grad } = mseLoss(output.data, c.target.data, { mask });
          expect(Math.abs(loss - c.losses[step]!), `loss at step ${step}`).toBeLessThanOrEqual(1e-5 * c.losses[step]!);
          model.backward({ output: { data: grad, shape: output.shape } });
          if (c.clipMaxNorm !== null) {
            const norm = clipGradNorm(params, c.clipMaxNorm);
            expect(Math.abs(norm - c.norms[step]!), `norm at step ${step}`).toBeLessThanOrEqual(1e-5 * c.norms[step]!);
          }
          opt.step();
          const sd = model.stateDict();
          for (const [k, want] of Object.entries(c.stateDicts[step]!)) {
            expectNormwise(sd[k]!.data, want, `${c.name} step ${step} ${k}`, 1e-5);
          }
        }
        opt.dispose();
        model.dispose();
      });
    }
  }
});
