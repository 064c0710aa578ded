/**
 * The training loop: mini-batches shuffled with a seed, forward, loss, backpropagation through time (full or
 * truncated), gradient clipping, an optimizer step, progress callbacks, validation, cancellation with an
 * `AbortSignal`, and a policy for non-finite values. Deterministic for a seed on the same build.
 * @module
 */
import { InvalidArgumentError, RnnWasmError, ShapeError } from '../errors.js';
import { SequenceModel, spreadTopState, topStateFeatures } from '../nn/sequence-model.js';
import { Random } from '../nn/random.js';
import { checkFinite, checkOptions, checkSeed, checkTensor, describe, shapeStr, type TensorLike } from '../tensor.js';
import { clipGradNorm, clipGradValue, gradNorm, hasNonfiniteGrad } from './clip.js';
import { crossEntropyLoss, lengthsMask, mseLoss, type LossResult } from './losses.js';
import { Adam, type Optimizer } from './optimizers.js';
import type { LRScheduler } from './schedules.js';
import { optimKernels } from './parameter.js';

/**
 * A data set of N sequences, batch-major whatever the model's `batchFirst`: inputs (N, T, I); targets
 * (N, T, O) or (N, T) class indices for a per-step head, (N, O) or (N) class indices for a head on the last state;
 * optional lengths (N) for padded sequences.
 */
export interface Dataset {
  inputs: TensorLike;
  targets: TensorLike;
  lengths?: ArrayLike<number>;
}

/** What `onStepEnd` receives. */
export interface StepInfo {
  epoch: number;
  /** Step within the epoch (0-based). */
  step: number;
  /** Steps since the start of `fit`. */
  globalStep: number;
  loss: number;
  /** Total 2-norm of the gradients before clipping. */
  gradNorm: number;
  lr: number;
  /** True when the step was skipped by the `nonFinite: 'skip'` policy. */
  skipped: boolean;
  /** With `recordGradNorms`: ||dL/dh_t|| per (layer*direction, t), flat (D*L*T). */
  hiddenGradNorms?: Float32Array;
}

/** What `onEpochEnd` receives, and one entry of the history. */
export interface EpochInfo {
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  valLoss?: number;
  /** Fraction of correct argmax predictions (cross-entropy only). */
  valAccuracy?: number;
  lr: number;
  seconds: number;
  skippedSteps: number;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /** Passes over the data. */
  epochs: number;
  /** Sequences per step (default 32; the last batch of an epoch may be smaller). */
  batchSize?: number;
  /** `'mse'` (default) or `'cross-entropy'` (softmax over the head's outputs, integer class targets). */
  loss?: 'mse' | 'cross-entropy';
  /** Default: Adam with lr 1e-3 over the model's parameters (disposed at the end). */
  optimizer?: Optimizer;
  /** Stepped once per epoch. */
  scheduler?: LRScheduler;
  /** Clip the total gradient 2-norm to this value. */
  clipGradNorm?: number;
  /** Clip every gradient entry to [-v, v]. */
  clipGradValue?: number;
  /** Evaluated after every epoch. */
  validation?: Dataset;
  /** Seed of the shuffling (default 0). */
  seed?: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /**
   * Truncated BPTT: backpropagate through windows of this many steps, carrying the state (not its gradient) from
   * one window to the next. Per-step heads and unidirectional models only. Default: full BPTT.
   */
  tbptt?: number;
  /** Record ||dL/dh_t|| for every step (full BPTT only); passed to `onStepEnd`. */
  recordGradNorms?: boolean;
  /**
   * A non-finite loss or gradient: `'throw'` (default) stops with an error naming the step, before any weight
   * changes; `'skip'` leaves the weights as they are and goes on. An update that would leave NaN or Infinity
   * in a weight (finite gradients, too large a learning rate) is undone the same way (the optimizer's own state,
   * such as Adam's moments and step count, keeps that step).
   */
  nonFinite?: 'throw' | 'skip';
  onStepEnd?: (info: StepInfo) => void;
  onEpochEnd?: (info: EpochInfo) => void;
  /** Aborting stops after the current step; the model keeps the weights of the last completed step. */
  signal?: AbortSignal;
}

/** Result of {@link fit}. */
export interface FitHistory {
  epochs: EpochInfo[];
  steps: number;
  /** `'aborted'` when the signal stopped it. */
  status: 'completed' | 'aborted';
}

/** A non-finite loss or gradient under the default policy. */
export class NonFiniteError extends RnnWasmError {
  /** The global step at which it happened. */
  readonly step: number;
  constructor(step: number, what: string) {
    super('NON_FINITE', `step ${step}: ${what} is not finite; the weights were left as they were after step ` +
      `${step - 1} (lower the learning rate, clip gradients, or pass nonFinite: 'skip')`);
    this.step = step;
  }
}

interface Checked {
  N: number;
  T: number;
  I: number;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Features per target entry (O), or 0 for class indices. */
  O: number;
  lengths?: ArrayLike<number>;
}

function checkDataset(name: string, d: Dataset, model: SequenceModel, ce: boolean): Checked {
  if (d === null || typeof d !== 'object') throw new InvalidArgumentError(name, 'expected { inputs, targets, lengths? }');
  const x = checkTensor(`${name}.inputs`, d.inputs);
  const I = model.rnn.inputSize;
  if (x.shape.length !== 3 || x.shape[2] !== I || x.shape[0]! < 1 || x.shape[1]! < 1) {
    throw new ShapeError(`${name}.inputs`, `expected (N, T, ${I}) with N, T >= 1, got ${shapeStr(x.shape)}`,
      [-1, -1, I], x.shape);
  }
  const [N, T] = x.shape as [number, number, number];
  checkFinite(`${name}.inputs`, x.data);
  const y = checkTensor(`${name}.targets`, d.targets);
  const O = model.head.outFeatures;
  const seq = model.headInput === 'sequence';
  const want = ce ? (seq ? [N, T] : [N]) : (seq ? [N, T, O] : [N, O]);
  if (y.shape.length !== want.length || y.shape.some((v, i) => v !== want[i])) {
    throw new ShapeError(`${name}.targets`, `expected ${shapeStr(want)} (${ce ? 'class indices' : 'values'} for a head on ` +
      `${seq ? 'every step' : 'the last state'}), got ${shapeStr(y.shape)}`, want, y.shape);
  }
  checkFinite(`${name}.targets`, y.data);
  if (d.lengths !== undefined) {
    if (d.lengths === null || typeof d.lengths !== 'object' || typeof d.lengths.length !== 'number') {
      throw new InvalidArgumentError(`${name}.lengths`, `expected ${N} integers, got ${describe(d.lengths)}`);
    }
    if (d.lengths.length !== N) {
      throw new ShapeError(`${name}.lengths`, `expected ${N} entries, got ${d.lengths.length}`, [N], [d.lengths.length]);
    }
    for (let i = 0; i < N; i++) {
      const v = d.lengths[i]!;
      if (!Number.isInteger(v) || v < 1 || v > T) {
        throw new InvalidArgumentError(`${name}.lengths[${i}]`, `expected an integer in [1, ${T}] (T = ${T}), got ${v}`);
      }
    }
  }
  return { N, T, I, x: x.data, y: y.data, O: ce ? 0 : O, lengths: d.lengths };
}

function checkModel(model: unknown): void {
  if (!(model instanceof SequenceModel)) {
    throw new InvalidArgumentError('model', `expected a SequenceModel, got ${describe(model)}`);
  }
}

/** Gathers sequences idx[...] into the model's layout for time steps [t0, t0 + n). */
function gather(src: ArrayLike<number>, idx: number[], T: number, F: number, t0: number, n: number,
                batchFirst: boolean): Float32Array {
  const B = idx.length;
  const out = new Float32Array(B * n * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < n; t++) {
      const s = (idx[b]! * T + t0 + t) * F;
      const d = (batchFirst ? b * n + t : t * B + b) * F;
      for (let f = 0; f < F; f++) out[d + f] = src[s + f]!;
    }
  }
  return out;
}

function lossOf(ce: boolean, pred: Float32Array, target: Float32Array, mask: Uint8Array | undefined): LossResult {
  return ce ? crossEntropyLoss(pred, target, { mask }) : mseLoss(pred, target, { mask });
}

/**
 * Evaluates the mean loss (and accuracy for cross-entropy) of a model on a data set, in batches, without
 * changing it.
 */
export function evaluate(model: SequenceModel, data: Dataset, options: { loss?: 'mse' | 'cross-entropy'; batchSize?: number } = {}):
  { loss: number; accuracy?: number } {
  checkModel(model);
  options = checkOptions('options', options, '{ loss?, batchSize? }');
  if (options.loss !== undefined && options.loss !== 'mse' && options.loss !== 'cross-entropy') {
    throw new InvalidArgumentError('options.loss', `expected 'mse' or 'cross-entropy', got ${describe(options.loss)}`);
  }
  const ce = options.loss === 'cross-entropy';
  const bs = options.batchSize ?? 64;
  if (!Number.isSafeInteger(bs) || bs < 1) {
    throw new InvalidArgumentError('options.batchSize', `expected an integer >= 1, got ${describe(bs)}`);
  }
  const d = checkDataset('data', data, model, ce);
  const bf = model.rnn.batchFirst;
  const seq = model.headInput === 'sequence';
  const C = model.head.outFeatures;
  let total = 0;
  let count = 0;
  let correct = 0;
  let seen = 0;
  for (let s = 0; s < d.N; s += bs) {
    const idx = Array.from({ length: Math.min(bs, d.N - s) }, (_, i) => s + i);
    const B = idx.length;
    const x = gather(d.x, idx, d.T, d.I, 0, d.T, bf);
    const lengths = d.lengths ? idx.map((i) => d.lengths![i]!) : undefined;
    const out = model.forward({ data: x, shape: bf ? [B, d.T, d.I] : [d.T, B, d.I] }, { lengths });
    const tgt = seq ? gather(d.y, idx, d.T, d.O || 1, 0, d.T, bf) : gather(d.y, idx, 1, d.O || 1, 0, 1, true);
    const mask = seq && lengths ? lengthsMask(lengths, d.T, B, bf) : undefined;
    const r = lossOf(ce, out.data, tgt, mask);
    const n = mask ? mask.reduce((a, v) => a + v, 0) : (seq ? d.T * B : B);
    total += r.loss * n;
    count += n;
    if (ce) {
      const rows = out.data.length / C;
      for (let r2 = 0; r2 < rows; r2++) {
        if (mask && !mask[r2]) continue;
        let best = 0;
        for (let c = 1; c < C; c++) if (out.data[r2 * C + c]! > out.data[r2 * C + best]!) best = c;
        if (best === tgt[r2]) correct++;
        seen++;
      }
    }
  }
  return ce ? { loss: total / count, accuracy: correct / seen } : { loss: total / count };
}

/** Trains a {@link SequenceModel} on a data set; see {@link FitOptions}. */
export function fit(model: SequenceModel, data: Dataset, options: FitOptions): FitHistory {
  checkModel(model);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected { epochs, ... }');
  // Everything that runs during training is checked first: a bad callback found after opt.step() would leave a
  // half-done step behind an untyped TypeError.
  const hasStep = (o: unknown): boolean => o !== null && typeof o === 'object' && typeof (o as { step?: unknown }).step === 'function';
  if (options.optimizer !== undefined && !hasStep(options.optimizer)) {
    throw new InvalidArgumentError('options.optimizer', `expected an Optimizer (SGD, Adam, AdamW), got ${describe(options.optimizer)}`);
  }
  if (options.scheduler !== undefined && !hasStep(options.scheduler)) {
    throw new InvalidArgumentError('options.scheduler', `expected an LRScheduler (StepLR, CosineAnnealingLR), got ${describe(options.scheduler)}`);
  }
  for (const k of ['onStepEnd', 'onEpochEnd'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') {
      throw new InvalidArgumentError(`options.${k}`, `expected a function, got ${describe(options[k])}`);
    }
  }
  const sig = options.signal as unknown;
  if (sig !== undefined && (sig === null || typeof sig !== 'object' || typeof (sig as AbortSignal).aborted !== 'boolean')) {
    throw new InvalidArgumentError('options.signal', `expected an AbortSignal, got ${describe(sig)}`);
  }
  const ce = (options.loss ?? 'mse') === 'cross-entropy';
  if (options.loss !== undefined && options.loss !== 'mse' && options.loss !== 'cross-entropy') {
    throw new InvalidArgumentError('options.loss', `expected 'mse' or 'cross-entropy', got ${String(options.loss)}`);
  }
  const epochs = options.epochs;
  if (!Number.isInteger(epochs) || epochs < 0) throw new InvalidArgumentError('options.epochs', `expected an integer >= 0, got ${epochs}`);
  const bs = options.batchSize ?? 32;
  if (!Number.isInteger(bs) || bs < 1) throw new InvalidArgumentError('options.batchSize', `expected an integer >= 1, got ${bs}`);
  for (const k of ['clipGradNorm', 'clipGradValue'] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new InvalidArgumentError(`options.${k}`, `expected a positive number, got ${v}`);
  }
  const k = options.tbptt;
  if (k !== undefined) {
    if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError('options.tbptt', `expected an integer >= 1, got ${k}`);
    if (model.headInput !== 'sequence' || model.rnn.bidirectional) {
      throw new InvalidArgumentError('options.tbptt', 'truncated BPTT needs a per-step head and a unidirectional model');
    }
  }
  const nonFinite = options.nonFinite ?? 'throw';
  if (nonFinite !== 'throw' && nonFinite !== 'skip') {
    throw new InvalidArgumentError('options.nonFinite', `expected 'throw' or 'skip', got ${describe(nonFinite)}`);
  }
  if (options.shuffle !== undefined && typeof options.shuffle !== 'boolean') {
    throw new InvalidArgumentError('options.shuffle', `expected a boolean, got ${describe(options.shuffle)}`);
  }
  checkSeed('options.seed', options.seed);
  const d = checkDataset('data', data, model, ce);
  if (options.validation) checkDataset('options.validation', options.validation, model, ce);
  const opt = options.optimizer ?? new Adam(model.parameters(), { lr: 1e-3 });
  const ownOpt = options.optimizer === undefined;
  const params = model.parameters();
  const rng = new Random(options.seed ?? 0);
  const bf = model.rnn.batchFirst;
  const seq = model.headInput === 'sequence';
  const history: FitHistory = { epochs: [], steps: 0, status: 'completed' };
  const order = Array.from({ length: d.N }, (_, i) => i);
  const offsets: number[] = [];
  let totalFloats = 0;
  for (const p of params) {
    offsets.push(totalFloats);
    totalFloats += p.length;
  }
  const engine = params[0]!.engine;
  const ok = optimKernels(engine);
  let backup = 0;
  try {
    backup = engine.alloc(Math.max(1, totalFloats) * 4);
    for (let epoch = 0; epoch < epochs; epoch++) {
      const t0 = Date.now();
      if (options.shuffle ?? true) {
        for (let i = d.N - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      let lossSum = 0;
      let steps = 0;
      let skipped = 0;
      for (let s = 0, step = 0; s < d.N; s += bs, step++) {
        if (options.signal?.aborted) {
          history.status = 'aborted';
          return history;
        }
        const idx = order.slice(s, s + bs);
        const B = idx.length;
        const lengths = d.lengths ? idx.map((i) => d.lengths![i]!) : undefined;
        const window = k ?? d.T;
        let stepLoss = 0;
        let weight = 0;
        let hiddenGradNorms: Float32Array | undefined;
        let state: { h0?: TensorLike; c0?: TensorLike } = {};
        let bad = false;
        model.zeroGrad();
        for (let w0 = 0; w0 < d.T; w0 += window) {
          const n = Math.min(window, d.T - w0);
          const x = gather(d.x, idx, d.T, d.I, w0, n, bf);
          const wl = lengths?.map((l) => Math.max(1, Math.min(n, l - w0)));
          const r = model.rnn.forward({ data: x, shape: bf ? [B, n, d.I] : [n, B, d.I] },
            { ...state, lengths: wl, train: true });
          if (k !== undefined) state = { h0: r.hN, c0: r.cN };
          // Head: on every step, or on the final state (full BPTT only: the window is the whole sequence).
          const feats = seq ? r.output : { data: topStateFeatures(model.rnn, r.hN.data, B), shape: [B, model.head.inFeatures] };
          const out = model.head.forward(feats, { train: true });
          const tgt = seq ? gather(d.y, idx, d.T, d.O || 1, w0, n, bf) : gather(d.y, idx, 1, d.O || 1, 0, 1, true);
          const mask = seq && lengths ? lengthsMask(lengths.map((l) => Math.max(0, Math.min(n, l - w0))), n, B, bf) : undefined;
          const count = mask ? mask.reduce((a, v) => a + v, 0) : (seq ? n * B : B);
          if (count === 0) {
            model.head.backward({ data: new Float32Array(out.size), shape: [...out.shape] });
            model.rnn.backward({}, { collectGrads: false, inputGrad: false });
            continue;
          }
          const lr = lossOf(ce, out.data, tgt, mask);
          if (!Number.isFinite(lr.loss) || !lr.grad.every(Number.isFinite)) {
            // Nothing is propagated from a non-finite loss; the next training forward replaces the activations.
            bad = true;
            break;
          }
          // Window losses are means; weight them by their element counts so the step's loss is the full mean.
          stepLoss += lr.loss * count;
          weight += count;
          const scaleW = count;
          const dOut = lr.grad.map((v) => v * scaleW);
          const dFeat = model.head.backward({ data: dOut, shape: [...out.shape] });
          if (!dFeat.data.every(Number.isFinite)) {
            bad = true;
            break;
          }
          const res = seq
            ? model.rnn.backward({ output: { data: dFeat.data, shape: [...r.output.shape] } }, { recordGradNorms: options.recordGradNorms && k === undefined, collectGrads: false, inputGrad: false })
            : model.rnn.backward({ hN: { data: spreadTopState(model.rnn, dFeat.data, B), shape: [...r.hN.shape] } }, { recordGradNorms: options.recordGradNorms, collectGrads: false, inputGrad: false });
          hiddenGradNorms = res.gradNorms?.data;
        }
        // Gradients were accumulated at count-weighted scale: bring them back to the mean over all elements.
        const loss = stepLoss / Math.max(weight, 1);
        for (const p of params) p.engine.k.scale(p.grad, p.length, 1 / Math.max(weight, 1));
        const gn = gradNorm(params);
        if (bad || !Number.isFinite(gn) || hasNonfiniteGrad(params)) {
          if (nonFinite === 'throw') {
            throw new NonFiniteError(history.steps + 1, bad ? 'the loss or its gradient' : 'the gradient');
          }
          skipped++;
          history.steps++;
          options.onStepEnd?.({ epoch, step, globalStep: history.steps, loss, gradNorm: gn, lr: opt.lr, skipped: true });
          continue;
        }
        if (options.clipGradNorm !== undefined) clipGradNorm(params, options.clipGradNorm);
        if (options.clipGradValue !== undefined) clipGradValue(params, options.clipGradValue);
        // The update itself may overflow (finite gradients, a huge learning rate): keep the weights of the last
        // good step and check them after the update, so no NaN or Infinity is ever left in them.
        for (let i = 0; i < params.length; i++) ok.copy_f32(backup + offsets[i]! * 4, params[i]!.param, params[i]!.length);
        opt.step();
        if (params.some((p) => ok.has_nonfinite(p.param, p.length) !== 0)) {
          for (let i = 0; i < params.length; i++) ok.copy_f32(params[i]!.param, backup + offsets[i]! * 4, params[i]!.length);
          if (nonFinite === 'throw') throw new NonFiniteError(history.steps + 1, 'the updated weights');
          skipped++;
          history.steps++;
          options.onStepEnd?.({ epoch, step, globalStep: history.steps, loss, gradNorm: gn, lr: opt.lr, skipped: true });
          continue;
        }
        lossSum += loss;
        steps++;
        history.steps++;
        options.onStepEnd?.({ epoch, step, globalStep: history.steps, loss, gradNorm: gn, lr: opt.lr, skipped: false,
          hiddenGradNorms });
      }
      const info: EpochInfo = { epoch, loss: steps ? lossSum / steps : NaN, lr: opt.lr, seconds: (Date.now() - t0) / 1000,
        skippedSteps: skipped };
      if (options.validation) {
        const ev = evaluate(model, options.validation, { loss: ce ? 'cross-entropy' : 'mse', batchSize: bs });
        info.valLoss = ev.loss;
        if (ev.accuracy !== undefined) info.valAccuracy = ev.accuracy;
      }
      options.scheduler?.step();
      history.epochs.push(info);
      options.onEpochEnd?.(info);
    }
    return history;
  } finally {
    if (backup) engine.release(backup);
    if (ownOpt) opt.dispose();
  }
}
