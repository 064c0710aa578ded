/**
 * Learning-rate schedules as torch.optim.lr_scheduler: {@link StepLR} and {@link CosineAnnealingLR}.
 *
 * Like PyTorch's, a scheduler takes the optimizer's lr at construction as its base lr, sets epoch 0 at once, and
 * each `step()` (call it after `optimizer.step()`, usually once per epoch) moves to the next epoch and writes the
 * new lr into the optimizer. The lr is PyTorch's closed form of the epoch (`_get_closed_form_lr`), so it does not
 * drift and does not build on an lr set by hand between steps.
 *
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const sched = new CosineAnnealingLR(opt, { tMax: 100 });
 * for (let epoch = 0; epoch < 100; epoch++) { train(opt); sched.step(); }
 * ```
 * @module
 */
import { InvalidArgumentError, StateDictError } from '../errors.js';
import { describe } from '../tensor.js';

/** What a schedule drives: anything with a settable learning rate (every optimizer of this library). */
export interface LrTarget {
  lr: number;
}

/** A scheduler's state as plain data (PyTorch's `last_epoch`, `base_lrs`, `_last_lr`). */
export interface LRSchedulerStateDict {
  lastEpoch: number;
  baseLr: number;
  lastLr: number;
}

/** Base class of the schedules: epoch counting, `step()`, `getLastLr()`, state dicts. */
export abstract class LRScheduler {
  /** The optimizer whose lr this schedule sets. */
  readonly optimizer: LrTarget;
  /** The optimizer's lr when the schedule was created (PyTorch's `base_lrs[0]`). */
  baseLr: number;
  /** The current epoch (PyTorch's `last_epoch`): 0 after construction, +1 per {@link step}. */
  lastEpoch: number;
  private lastLr: number;

  protected constructor(optimizer: LrTarget) {
    if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.lr !== 'number') {
      throw new InvalidArgumentError('optimizer', `expected an optimizer with an lr, got ${describe(optimizer)}`);
    }
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
    this.lastEpoch = -1;
    this.lastLr = optimizer.lr;
  }

  /** The lr at an epoch (the closed form). */
  abstract lrAt(epoch: number): number;

  /** Moves to the next epoch and sets the optimizer's lr. */
  step(): void {
    this.lastEpoch++;
    const lr = this.lrAt(this.lastEpoch);
    this.optimizer.lr = lr;
    this.lastLr = lr;
  }

  /** The lr last set by this schedule, one entry per parameter group as PyTorch's `get_last_lr()` (one group here). */
  getLastLr(): number[] {
    return [this.lastLr];
  }

  /** The schedule's position, for saving. */
  stateDict(): LRSchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr, lastLr: this.lastLr };
  }

  /**
   * Restores a position saved by {@link stateDict}. Like PyTorch's, it does not touch the optimizer (whose own
   * state dict carries its lr).
   */
  loadStateDict(sd: LRSchedulerStateDict): void {
    if (sd === null || typeof sd !== 'object') throw new StateDictError('stateDict', `expected an object, got ${describe(sd)}`);
    if (!Number.isSafeInteger(sd.lastEpoch) || sd.lastEpoch < -1) {
      throw new StateDictError('lastEpoch', `expected an integer >= -1, got ${describe(sd.lastEpoch)}`);
    }
    for (const k of ['baseLr', 'lastLr'] as const) {
      if (typeof sd[k] !== 'number' || !Number.isFinite(sd[k]) || sd[k] < 0) {
        throw new StateDictError(k, `expected a finite number >= 0, got ${describe(sd[k])}`);
      }
    }
    this.lastEpoch = sd.lastEpoch;
    this.baseLr = sd.baseLr;
    this.lastLr = sd.lastLr;
  }
}

function checkOptions(options: unknown, what: string, required: string): Record<string, unknown> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', `expected an object with ${required}, got ${describe(options)}`);
  }
  const known = what === 'StepLR' ? ['stepSize', 'gamma'] : ['tMax', 'etaMin'];
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) {
      throw new InvalidArgumentError(`options.${k}`, `unknown ${what} option (known: ${known.join(', ')})`);
    }
  }
  return options as Record<string, unknown>;
}

/** Options of {@link StepLR}. */
export interface StepLROptions {
  /** Epochs between decays (a positive integer). */
  stepSize: number;
  /** Multiplicative decay (default 0.1). */
  gamma?: number;
}

/** Decays the lr by `gamma` every `stepSize` epochs: lr = baseLr * gamma^floor(epoch / stepSize) (torch StepLR). */
export class StepLR extends LRScheduler {
  /** Epochs between decays. */
  readonly stepSize: number;
  /** Decay factor. */
  readonly gamma: number;

  constructor(optimizer: LrTarget, options: StepLROptions) {
    super(optimizer);
    const o = checkOptions(options, 'StepLR', 'stepSize');
    const s = o.stepSize;
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1) {
      throw new InvalidArgumentError('options.stepSize', `expected a positive integer, got ${describe(s)}`);
    }
    const g = o.gamma ?? 0.1;
    if (typeof g !== 'number' || !Number.isFinite(g) || g < 0) {
      throw new InvalidArgumentError('options.gamma', `expected a finite number >= 0, got ${describe(g)}`);
    }
    this.stepSize = s;
    this.gamma = g;
    this.step();
  }

  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Epochs of the half cosine from baseLr down to etaMin (> 0). */
  tMax: number;
  /** The minimum lr (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing without restarts (torch CosineAnnealingLR):
 * lr = etaMin + (baseLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2. Past tMax the cosine continues (back up),
 * as PyTorch's.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Half period in epochs. */
  readonly tMax: number;
  /** Minimum lr. */
  readonly etaMin: number;

  constructor(optimizer: LrTarget, options: CosineAnnealingLROptions) {
    super(optimizer);
    const o = checkOptions(options, 'CosineAnnealingLR', 'tMax');
    const t = o.tMax;
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
      throw new InvalidArgumentError('options.tMax', `expected a positive number, got ${describe(t)}`);
    }
    const e = o.etaMin ?? 0;
    if (typeof e !== 'number' || !Number.isFinite(e) || e < 0) {
      throw new InvalidArgumentError('options.etaMin', `expected a finite number >= 0, got ${describe(e)}`);
    }
    this.tMax = t;
    this.etaMin = e;
    this.step();
  }

  lrAt(epoch: number): number {
    return this.etaMin + (this.baseLr - this.etaMin) * (1 + Math.cos(Math.PI * epoch / this.tMax)) / 2;
  }
}
