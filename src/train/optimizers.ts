/**
 * Optimizers with PyTorch's update rules: {@link SGD} (torch.optim.SGD), {@link Adam} (torch.optim.Adam) and
 * {@link AdamW} (torch.optim.AdamW).
 *
 * Parameters and gradients stay in WebAssembly memory; one `step()` makes one SIMD kernel call per parameter
 * (`assembly/optim.ts`), in float32, with the operations of PyTorch's single-tensor implementation in the same
 * order. The optimizer state (momentum buffers, Adam's moments) is allocated in WebAssembly memory on the first
 * `step()` and owned by the optimizer: `dispose()` frees it, and never touches the parameters.
 *
 * ```ts
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * for (const batch of batches) {
 *   opt.zeroGrad();
 *   // forward, loss, backward: the layer accumulates gradients into its gradient block
 *   clipGradNorm(model.parameters(), 1.0);
 *   opt.step();
 * }
 * opt.dispose();
 * ```
 * @module
 */
import { InvalidArgumentError, StateDictError, UnsupportedError } from '../errors.js';
import { WasmOwner } from '../runtime/owner.js';
import { describe } from '../tensor.js';
import { assertUsable, checkParameters, optimKernels, type OptimKernels, type Parameter } from './parameter.js';

const FLOAT = 4;

/** Per-parameter state as saved by {@link Optimizer.stateDict} (PyTorch's names, camelCase). */
export interface ParamState {
  /** Number of updates applied to this parameter (Adam, AdamW). */
  step?: number;
  /** SGD's `momentum_buffer`. */
  momentumBuffer?: Float32Array;
  /** Adam's `exp_avg` (first moment). */
  expAvg?: Float32Array;
  /** Adam's `exp_avg_sq` (second moment). */
  expAvgSq?: Float32Array;
}

/**
 * An optimizer's state as plain data, shaped like PyTorch's `optimizer.state_dict()`: `state[i]` belongs to the
 * i-th parameter given to the constructor (null until its first step), and the single parameter group holds the
 * hyper-parameters. Arrays are copies the caller owns, in the parameters' packed layout (so a state dict fits the
 * same model configuration, not a PyTorch model). Use `Array.from` on them for JSON.
 */
export interface OptimizerStateDict<O extends object = Record<string, unknown>> {
  /** One entry per parameter, in constructor order; null where no state exists yet. */
  state: Array<ParamState | null>;
  /** One group: the hyper-parameters (with the current lr) and the parameter indices. */
  paramGroups: Array<Required<O> & { params: number[] }>;
}

/** State block of one parameter. */
interface Slot {
  /** Byte offset of the block (buffers follow each other, each rounded up to 16 bytes). */
  block: number;
  /** Updates applied (Adam's `step`; unused by SGD). */
  step: number;
}

/**
 * Validates a number option. The kernels compute in float32, so a finite double beyond the float32 range (an lr
 * of 1e39, which would reach them as Infinity and turn even the zero padding of the weights into NaN) is refused.
 */
function num(name: string, v: unknown, lo: number, hi = Infinity, loOpen = false, hiOpen = false): number {
  const ok = typeof v === 'number' && Number.isFinite(Math.fround(v)) && (loOpen ? v > lo : v >= lo) &&
    (hiOpen ? v < hi : v <= hi);
  if (!ok) {
    const range = `${loOpen ? '(' : '['}${lo}, ${hi === Infinity ? 'Infinity)' : `${hi}${hiOpen ? ')' : ']'}`}`;
    const beyond = typeof v === 'number' && Number.isFinite(v) && !Number.isFinite(Math.fround(v))
      ? ' (beyond the float32 range the kernels compute in)' : '';
    throw new InvalidArgumentError(name, `expected a finite number in ${range}, got ${describe(v)}${beyond}`);
  }
  return v as number;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new InvalidArgumentError(name, `expected true or false, got ${describe(v)}`);
  return v;
}

/** PyTorch options this library does not implement: accepted only when false. */
const UNSUPPORTED = ['amsgrad', 'maximize', 'foreach', 'capturable', 'differentiable', 'fused'];

function checkKeys(what: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError('options', `expected an object of ${what} options, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (known.includes(k) || o[k] === undefined) continue;
    if (UNSUPPORTED.includes(k)) {
      if (o[k] === false || o[k] === null) continue;
      throw new UnsupportedError(`options.${k}: ${what} here does not support ${k}`);
    }
    throw new InvalidArgumentError(`options.${k}`, `unknown ${what} option (known: ${known.join(', ')})`);
  }
  return o;
}

/** The value, or the default when absent (undefined); null is not absent, and is rejected by validation. */
function opt<T>(v: unknown, d: T): unknown {
  return v === undefined ? d : v;
}

const align16 = (floats: number): number => Math.ceil(floats / 4) * 16;

/**
 * Base class of the optimizers: one parameter group, lazily allocated state in WebAssembly memory, a settable
 * learning rate (for schedules), `zeroGrad()`, `stateDict()` / `loadStateDict()`, and `dispose()`.
 */
export abstract class Optimizer<O extends object = Record<string, unknown>> extends WasmOwner {
  /** The parameters, in the order given to the constructor. */
  readonly params: readonly Parameter[];
  /** Number of state buffers per parameter (0: stateless). */
  protected abstract readonly buffersPerParam: number;
  /** Names of the buffers in {@link ParamState}, in block order. */
  protected abstract readonly bufferNames: ReadonlyArray<'momentumBuffer' | 'expAvg' | 'expAvgSq'>;
  /** @internal */ protected readonly kernels: OptimKernels;
  /** @internal */ protected readonly slots: Array<Slot | null>;
  private lrValue: number;

  protected constructor(params: Iterable<Parameter>, lr: number, what: string) {
    const list = checkParameters('params', params);
    super(list[0]!.engine, what);
    this.params = list;
    this.kernels = optimKernels(this.engine);
    this.slots = list.map(() => null);
    this.lrValue = num('options.lr', lr, 0);
  }

  /** The learning rate (PyTorch's `param_groups[0]['lr']`); schedules set it. Must be finite and >= 0. */
  get lr(): number {
    return this.lrValue;
  }

  set lr(v: number) {
    this.lrValue = num('lr', v, 0);
  }

  /** The hyper-parameters (with the current lr). */
  abstract get options(): Required<O>;

  /** Applies one update to every parameter from its current gradient (PyTorch's `optimizer.step()`). */
  step(): void {
    this.assertAlive();
    // The state of parameters never stepped is allocated on this step: refused under the memory cap before any
    // parameter changes, so a step is never half applied.
    const missing = this.slots.flatMap((s, i) =>
      s ? [] : [Math.max(1, this.buffersPerParam * align16(this.params[i]!.length))]);
    if (missing.length) this.engine.checkAlloc(missing, `${this.constructor.name} state`);
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!;
      assertUsable(p, `params[${i}]`);
      this.update(i, p);
    }
  }

  /** Sets every gradient to zero (PyTorch's `zero_grad(set_to_none=False)`). */
  zeroGrad(): void {
    this.assertAlive();
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!;
      assertUsable(p, `params[${i}]`);
      this.kernels.zero_f32(p.grad, p.length);
    }
  }

  /** One parameter's update. */
  protected abstract update(i: number, p: Parameter): void;

  /** Applies validated hyper-parameters from a state dict. */
  protected abstract setOptions(group: Record<string, unknown>): void;

  /** The state slot of parameter i, allocated (zero-filled) on first use. @internal */
  protected slot(i: number): { slot: Slot; fresh: boolean } {
    const s = this.slots[i];
    if (s) return { slot: s, fresh: false };
    const p = this.params[i]!;
    const block = this.allocBlock(Math.max(1, this.buffersPerParam * align16(p.length)));
    for (let b = 0; b < this.buffersPerParam; b++) this.kernels.zero_f32(block + b * align16(p.length), p.length);
    const slot = { block, step: 0 };
    this.slots[i] = slot;
    return { slot, fresh: true };
  }

  /** Byte offset of buffer b of a slot. @internal */
  protected buffer(slot: Slot, p: Parameter, b: number): number {
    return slot.block + b * align16(p.length);
  }

  /** The state as plain data (copies), like PyTorch's `state_dict()`. */
  stateDict(): OptimizerStateDict<O> {
    this.assertAlive();
    const f32 = this.engine.f32();
    const state = this.slots.map((s, i): ParamState | null => {
      if (!s) return null;
      const p = this.params[i]!;
      const e: ParamState = {};
      if (this.hasStep()) e.step = s.step;
      this.bufferNames.forEach((name, b) => {
        const off = this.buffer(s, p, b) / FLOAT;
        e[name] = f32.slice(off, off + p.length);
      });
      return e;
    });
    return { state, paramGroups: [{ ...this.options, params: this.params.map((_, i) => i) }] };
  }

  /**
   * Restores a state saved by {@link stateDict} (for the same parameters): hyper-parameters (lr included, as
   * PyTorch does) and per-parameter state. Everything is validated first; on error ({@link StateDictError}
   * naming the entry, or {@link InvalidArgumentError} for a hyper-parameter) the optimizer is unchanged.
   */
  loadStateDict(sd: OptimizerStateDict<O>): void {
    this.assertAlive();
    if (sd === null || typeof sd !== 'object') throw new StateDictError('stateDict', `expected an object, got ${describe(sd)}`);
    const groups = (sd as { paramGroups?: unknown }).paramGroups;
    if (!Array.isArray(groups) || groups.length !== 1 || groups[0] === null || typeof groups[0] !== 'object') {
      throw new StateDictError('paramGroups', `expected an array with one parameter group, got ${describe(groups)}`);
    }
    const group = groups[0] as Record<string, unknown>;
    const ids = group.params;
    if (!Array.isArray(ids) || ids.length !== this.params.length || ids.some((v, i) => v !== i)) {
      throw new StateDictError('paramGroups[0].params',
        `expected [0..${this.params.length - 1}] (${this.params.length} parameters), got ${describe(ids)}`);
    }
    const state = (sd as { state?: unknown }).state;
    if (!Array.isArray(state) || state.length !== this.params.length) {
      throw new StateDictError('state', `expected an array of ${this.params.length} entries, got ${describe(state)}`);
    }
    const entries: Array<ParamState | null> = state.map((e: unknown, i) => {
      if (e === null || e === undefined) return null;
      const p = this.params[i]!;
      if (typeof e !== 'object') throw new StateDictError(`state[${i}]`, `expected an object or null, got ${describe(e)}`);
      const o = e as Record<string, unknown>;
      const out: ParamState = {};
      if (this.hasStep()) {
        if (!Number.isSafeInteger(o.step) || (o.step as number) < 0) {
          throw new StateDictError(`state[${i}].step`, `expected a non-negative integer, got ${describe(o.step)}`);
        }
        out.step = o.step as number;
      }
      for (const name of this.bufferNames) {
        const a = o[name] as ArrayLike<number> | undefined;
        if (a === null || typeof a !== 'object' || typeof a.length !== 'number' || a.length !== p.length) {
          throw new StateDictError(`state[${i}].${name}`,
            `expected ${p.length} numbers (parameter ${describe(p.name)}), got ${describe(a)}`);
        }
        for (let j = 0; j < a.length; j++) {
          if (!Number.isFinite(a[j])) {
            throw new StateDictError(`state[${i}].${name}`, `element ${j} is ${a[j]}; expected finite numbers`);
          }
        }
        out[name] = a as Float32Array;
      }
      return out;
    });
    this.setOptions(group); // validates, then assigns
    for (let i = 0; i < this.params.length; i++) {
      const old = this.slots[i];
      if (old) this.releaseBlock(old.block);
      this.slots[i] = null;
      const e = entries[i];
      if (!e) continue;
      const { slot } = this.slot(i);
      slot.step = e.step ?? 0;
      const p = this.params[i]!;
      const f32 = this.engine.f32();
      this.bufferNames.forEach((name, b) => f32.set(e[name]!, this.buffer(slot, p, b) / FLOAT));
    }
  }

  /** True when the per-parameter state has a step count. */
  protected hasStep(): boolean {
    return false;
  }

  /** Validates and applies the lr of a parameter group. @internal */
  protected setLrFrom(group: Record<string, unknown>): number {
    return num('paramGroups[0].lr', group.lr, 0);
  }
}

/** Options of {@link SGD} (torch.optim.SGD's arguments). */
export interface SGDOptions {
  /** Learning rate (default 1e-3, as PyTorch >= 2.2). */
  lr?: number;
  /** Momentum factor (default 0: no momentum buffer). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient: g + weightDecay * param (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

const SGD_KEYS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'] as const;

/**
 * Stochastic gradient descent with momentum, exactly torch.optim.SGD:
 *
 * ```text
 * g = grad + weightDecay * param
 * buf = g on the first step, then buf = momentum * buf + (1 - dampening) * g      (momentum != 0)
 * g = nesterov ? g + momentum * buf : buf                                           (momentum != 0)
 * param = param - lr * g
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  /** Momentum factor. */
  readonly momentum: number;
  /** Momentum dampening. */
  readonly dampening: number;
  /** L2 penalty. */
  readonly weightDecay: number;
  /** Nesterov momentum. */
  readonly nesterov: boolean;
  protected readonly buffersPerParam: number;
  protected readonly bufferNames: ReadonlyArray<'momentumBuffer'>;

  /**
   * @param params the parameters to optimize (e.g. `model.parameters()`), all in one engine
   * @param options PyTorch's arguments in camelCase; invalid values throw {@link InvalidArgumentError} naming the
   *   option
   */
  constructor(params: Iterable<Parameter>, options: SGDOptions = {}) {
    const o = checkKeys('SGD', options, SGD_KEYS);
    super(params, opt(o.lr, 1e-3) as number, 'SGD optimizer');
    const v = SGD.validate(o, 'options');
    this.momentum = v.momentum;
    this.dampening = v.dampening;
    this.weightDecay = v.weightDecay;
    this.nesterov = v.nesterov;
    this.buffersPerParam = this.momentum !== 0 ? 1 : 0;
    this.bufferNames = this.momentum !== 0 ? ['momentumBuffer'] : [];
  }

  private static validate(o: Record<string, unknown>, at: string): Required<Omit<SGDOptions, 'lr'>> {
    const momentum = num(`${at}.momentum`, opt(o.momentum, 0), 0);
    const dampening = num(`${at}.dampening`, opt(o.dampening, 0), -Infinity);
    const weightDecay = num(`${at}.weightDecay`, opt(o.weightDecay, 0), 0);
    const nesterov = bool(`${at}.nesterov`, opt(o.nesterov, false));
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new InvalidArgumentError(`${at}.nesterov`,
        `Nesterov momentum requires momentum > 0 and dampening = 0, got momentum ${momentum}, dampening ${dampening}`);
    }
    return { momentum, dampening, weightDecay, nesterov };
  }

  get options(): Required<SGDOptions> {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay,
      nesterov: this.nesterov };
  }

  protected update(i: number, p: Parameter): void {
    let buf = 0;
    let first = 0;
    if (this.momentum !== 0) {
      // The buffer is created from the first gradient (PyTorch's `torch.clone(d_p)`), then updated.
      const { slot, fresh } = this.slot(i);
      buf = slot.block;
      first = fresh ? 1 : 0;
    }
    this.kernels.sgd_update(p.param, p.grad, buf, p.length, this.lr, this.momentum, this.dampening, this.weightDecay,
      this.nesterov ? 1 : 0, first);
  }

  protected setOptions(group: Record<string, unknown>): void {
    const lr = this.setLrFrom(group);
    const v = SGD.validate(group, 'paramGroups[0]');
    if ((v.momentum === 0) !== (this.momentum === 0)) {
      throw new StateDictError('paramGroups[0].momentum', 'cannot switch momentum on or off by loading a state dict ' +
        `(this optimizer has momentum ${this.momentum}, the state dict ${v.momentum})`);
    }
    this.lr = lr;
    (this as { momentum: number }).momentum = v.momentum;
    (this as { dampening: number }).dampening = v.dampening;
    (this as { weightDecay: number }).weightDecay = v.weightDecay;
    (this as { nesterov: boolean }).nesterov = v.nesterov;
  }
}

/** Options of {@link Adam} and {@link AdamW} (torch.optim.Adam's arguments). */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]); each in [0, 1). */
  betas?: readonly [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay rate (default 1e-2). */
  weightDecay?: number;
}

const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay'] as const;

/** Adam and AdamW share everything but the weight decay. */
abstract class AdamBase extends Optimizer<AdamOptions> {
  /** Moment decay rates [beta1, beta2]. */
  readonly betas: readonly [number, number];
  /** Denominator term. */
  readonly eps: number;
  /** Weight decay (L2 for Adam, decoupled for AdamW). */
  readonly weightDecay: number;
  protected readonly buffersPerParam: number;
  protected readonly bufferNames: ReadonlyArray<'expAvg' | 'expAvgSq'>;
  private readonly decoupled: number;

  protected constructor(params: Iterable<Parameter>, options: AdamOptions, decoupled: boolean, what: string) {
    const o = checkKeys(what, options, ADAM_KEYS);
    super(params, opt(o.lr, 1e-3) as number, `${what} optimizer`);
    this.buffersPerParam = 2;
    this.bufferNames = ['expAvg', 'expAvgSq'];
    const v = AdamBase.validate(o, 'options', decoupled ? 1e-2 : 0);
    this.betas = v.betas;
    this.eps = v.eps;
    this.weightDecay = v.weightDecay;
    this.decoupled = decoupled ? 1 : 0;
  }

  private static validate(o: Record<string, unknown>, at: string, wdDefault: number):
      { betas: readonly [number, number]; eps: number; weightDecay: number } {
    const b = opt(o.betas, [0.9, 0.999]);
    if (b === null || typeof b !== 'object' || (b as ArrayLike<unknown>).length !== 2) {
      throw new InvalidArgumentError(`${at}.betas`, `expected [beta1, beta2], got ${describe(b)}`);
    }
    const bb = b as ArrayLike<unknown>;
    const beta1 = num(`${at}.betas[0]`, bb[0], 0, 1, false, true);
    const beta2 = num(`${at}.betas[1]`, bb[1], 0, 1, false, true);
    const eps = num(`${at}.eps`, opt(o.eps, 1e-8), 0);
    const weightDecay = num(`${at}.weightDecay`, opt(o.weightDecay, wdDefault), 0);
    return { betas: Object.freeze([beta1, beta2] as const), eps, weightDecay };
  }

  get options(): Required<AdamOptions> {
    return { lr: this.lr, betas: [this.betas[0], this.betas[1]], eps: this.eps, weightDecay: this.weightDecay };
  }

  protected override hasStep(): boolean {
    return true;
  }

  protected update(i: number, p: Parameter): void {
    const { slot } = this.slot(i);
    slot.step++;
    const m = slot.block;
    const v = this.buffer(slot, p, 1);
    this.kernels.adam_update(p.param, p.grad, m, v, p.length, this.lr, this.betas[0], this.betas[1], this.eps,
      this.weightDecay, slot.step, this.decoupled);
  }

  protected setOptions(group: Record<string, unknown>): void {
    const lr = this.setLrFrom(group);
    const v = AdamBase.validate(group, 'paramGroups[0]', this.weightDecay);
    this.lr = lr;
    (this as { betas: readonly [number, number] }).betas = v.betas;
    (this as { eps: number }).eps = v.eps;
    (this as { weightDecay: number }).weightDecay = v.weightDecay;
  }
}

/**
 * Adam, exactly torch.optim.Adam (amsgrad not supported). With bias corrections bc1 = 1 - beta1^t and
 * bc2 = 1 - beta2^t at step t:
 *
 * ```text
 * g = grad + weightDecay * param                  (L2 penalty folded into the gradient)
 * m = beta1 * m + (1 - beta1) * g
 * v = beta2 * v + (1 - beta2) * g * g
 * param = param - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
 * ```
 */
export class Adam extends AdamBase {
  /**
   * @param params the parameters to optimize, all in one engine
   * @param options `lr` (1e-3), `betas` ([0.9, 0.999]), `eps` (1e-8), `weightDecay` (0)
   */
  constructor(params: Iterable<Parameter>, options: AdamOptions = {}) {
    super(params, options, false, 'Adam');
  }
}

/**
 * AdamW, exactly torch.optim.AdamW (amsgrad not supported): Adam with decoupled weight decay, applied to the
 * parameter before the Adam update: `param = param * (1 - lr * weightDecay)`, then the Adam step on the plain
 * gradient.
 */
export class AdamW extends AdamBase {
  /**
   * @param params the parameters to optimize, all in one engine
   * @param options `lr` (1e-3), `betas` ([0.9, 0.999]), `eps` (1e-8), `weightDecay` (1e-2)
   */
  constructor(params: Iterable<Parameter>, options: AdamOptions = {}) {
    super(params, options, true, 'AdamW');
  }
}
