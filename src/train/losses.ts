/**
 * Loss functions with their gradients, in plain TypeScript with float64 accumulation: {@link mseLoss}
 * (torch.nn.functional.mse_loss), {@link crossEntropyLoss} (torch.nn.functional.cross_entropy over class
 * indices), and {@link lengthsMask} to leave the padded steps of a padded batch out of a per-step loss.
 *
 * Each returns `{ loss, grad }`: the loss value and its gradient with respect to the prediction (same length,
 * float32), ready to be passed to a layer's backward pass as the gradient of its output.
 *
 * Masks: a mask has one entry per element, or one entry per row of `pred.length / mask.length` consecutive
 * elements (so a (T, B) mask from {@link lengthsMask} applies to a (T, B, F) output). Elements whose mask entry
 * is 0 (or false) do not count: they add nothing to the loss, get a zero gradient, and a `'mean'` divides by the
 * number of elements that do count, which is what PyTorch gives on the packed sequence or on `pred[mask]`.
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { describe } from '../tensor.js';

/** How per-element losses are combined: their mean over the elements that count, or their sum. */
export type Reduction = 'mean' | 'sum';

/** A mask: nonzero / true where an element (or row) counts. */
export type Mask = Uint8Array | ArrayLike<number | boolean>;

/** A loss value and its gradient with respect to the prediction. */
export interface LossResult {
  /** The reduced loss (float64). NaN for a `'mean'` over zero elements, as PyTorch. */
  loss: number;
  /** d loss / d prediction, one entry per prediction element; 0 where masked out or ignored. */
  grad: Float32Array;
}

/** Options of {@link mseLoss}. */
export interface MseLossOptions {
  /** Which elements count (see the module notes); null or absent: all. */
  mask?: Mask | null;
  /** `'mean'` (default) or `'sum'`. */
  reduction?: Reduction;
}

/** Options of {@link crossEntropyLoss}. */
export interface CrossEntropyLossOptions {
  /** Which rows (samples) count, one entry per target; null or absent: all. Masked-out targets are not checked. */
  mask?: Mask | null;
  /** `'mean'` (default, over the rows that count) or `'sum'`. */
  reduction?: Reduction;
  /** Rows whose target equals this value do not count (default -100, as PyTorch). */
  ignoreIndex?: number;
  /**
   * Label smoothing in [0, 1] (default 0): the target distribution is (1 - labelSmoothing) on the class plus
   * labelSmoothing / C on every class (PyTorch's `label_smoothing`).
   */
  labelSmoothing?: number;
}

function checkArray(name: string, a: unknown): ArrayLike<number> {
  if (a === null || typeof a !== 'object' || typeof (a as ArrayLike<number>).length !== 'number') {
    throw new InvalidArgumentError(name, `expected a numeric array, got ${describe(a)}`);
  }
  return a as ArrayLike<number>;
}

function checkReduction(r: unknown): Reduction {
  if (r === undefined) return 'mean';
  if (r !== 'mean' && r !== 'sum') {
    throw new InvalidArgumentError('options.reduction', `expected 'mean' or 'sum', got ${describe(r)}`);
  }
  return r;
}

/** Validates a mask against `n` elements; returns it and the elements per entry. */
function checkMask(mask: unknown, n: number, what: string): { mask: Mask | null; per: number } {
  if (mask === undefined || mask === null) return { mask: null, per: 1 };
  const m = checkArray('options.mask', mask) as Mask;
  if (m.length === 0 ? n !== 0 : n % m.length !== 0) {
    throw new ShapeError('options.mask', `length ${m.length} does not divide the ${n} elements of ${what}`, [-1],
      [m.length]);
  }
  return { mask: m, per: m.length === 0 ? 1 : n / m.length };
}

/**
 * Mean squared error, as torch.nn.functional.mse_loss(pred, target, reduction) on the elements that count:
 * loss = sum (pred - target)^2 (divided by their number for `'mean'`); grad = 2 (pred - target) (/ number).
 *
 * @param pred predictions (any shape, flat)
 * @param target targets, same length
 */
export function mseLoss(pred: ArrayLike<number>, target: ArrayLike<number>, options: MseLossOptions = {}): LossResult {
  checkArray('pred', pred);
  checkArray('target', target);
  if (pred.length !== target.length) {
    throw new ShapeError('target', `length ${target.length} does not match pred (${pred.length})`, [pred.length],
      [target.length]);
  }
  const reduction = checkReduction(options?.reduction);
  const { mask, per } = checkMask(options?.mask, pred.length, 'pred');
  const n = pred.length;
  // Targets are data: a NaN there is a bad input, not a diverging model (a non-finite pred propagates, so that a
  // training loop sees the loss go non-finite).
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(target[i])) {
      throw new InvalidArgumentError(`target[${i}]`, `expected a finite number, got ${describe(target[i])}`);
    }
  }
  let count = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (mask && !mask[Math.floor(i / per)]) continue;
    const d = pred[i]! - target[i]!;
    sum += d * d;
    count++;
  }
  const f = reduction === 'mean' ? 2 / count : 2;
  const grad = new Float32Array(n);
  if (count > 0) {
    for (let i = 0; i < n; i++) {
      if (mask && !mask[Math.floor(i / per)]) continue;
      grad[i] = f * (pred[i]! - target[i]!);
    }
  }
  return { loss: reduction === 'mean' ? sum / count : sum, grad };
}

/**
 * Cross entropy over class indices, as torch.nn.functional.cross_entropy(logits, targets, ignore_index,
 * reduction, label_smoothing) with logits of shape (N, C): per row,
 * loss = logsumexp(logits) - logits[target] (log-softmax with the maximum subtracted, so large logits are safe);
 * grad = softmax(logits) - onehot(target), divided by the number of rows that count for `'mean'`.
 * Rows masked out or whose target is `ignoreIndex` do not count.
 *
 * @param logits (N, C) row-major; C is logits.length / N
 * @param targets N class indices in [0, C) (or ignoreIndex)
 */
export function crossEntropyLoss(logits: ArrayLike<number>, targets: ArrayLike<number>,
                                 options: CrossEntropyLossOptions = {}): LossResult {
  checkArray('logits', logits);
  checkArray('targets', targets);
  const N = targets.length;
  if (N === 0 ? logits.length !== 0 : logits.length % N !== 0 || logits.length === 0) {
    throw new ShapeError('logits', `length ${logits.length} is not N * C for N = ${N} targets (C >= 1)`, [N, -1],
      [logits.length]);
  }
  const C = N === 0 ? 0 : logits.length / N;
  const reduction = checkReduction(options?.reduction);
  const ignoreIndex = options?.ignoreIndex ?? -100;
  if (!Number.isSafeInteger(ignoreIndex)) {
    throw new InvalidArgumentError('options.ignoreIndex', `expected an integer, got ${describe(ignoreIndex)}`);
  }
  const eps = options?.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) {
    throw new InvalidArgumentError('options.labelSmoothing', `expected a number in [0, 1], got ${describe(eps)}`);
  }
  const { mask } = checkMask(options?.mask, N, 'targets');
  if (mask && mask.length !== N) {
    throw new ShapeError('options.mask', `expected one entry per target (${N}), got ${mask.length}`, [N], [mask.length]);
  }
  const counts = new Uint8Array(N);
  let count = 0;
  for (let r = 0; r < N; r++) {
    if (mask && !mask[r]) continue;
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    if (!Number.isInteger(t) || t < 0 || t >= C) {
      throw new InvalidArgumentError(`targets[${r}]`, `expected a class index in [0, ${C}) or ignoreIndex ` +
        `${ignoreIndex}, got ${describe(t)}`);
    }
    counts[r] = 1;
    count++;
  }
  const grad = new Float32Array(logits.length);
  const scale = reduction === 'mean' ? 1 / count : 1;
  let sum = 0;
  const p = new Float64Array(C);
  for (let r = 0; r < N; r++) {
    if (!counts[r]) continue;
    const o = r * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[o + c]!);
    let s = 0;
    for (let c = 0; c < C; c++) {
      p[c] = Math.exp(logits[o + c]! - m);
      s += p[c]!;
    }
    const lse = m + Math.log(s);
    const t = targets[r]!;
    let rowLoss = (1 - eps) * (lse - logits[o + t]!);
    if (eps > 0) {
      let smooth = 0;
      for (let c = 0; c < C; c++) smooth += lse - logits[o + c]!;
      rowLoss += eps * smooth / C;
    }
    sum += rowLoss;
    if (count > 0) {
      for (let c = 0; c < C; c++) {
        const target = (c === t ? 1 - eps : 0) + eps / C;
        grad[o + c] = scale * (p[c]! / s - target);
      }
    }
  }
  return { loss: reduction === 'mean' ? sum / count : sum, grad };
}

/**
 * A mask of the steps inside each sequence of a padded batch: entry (t, b) is 1 when t < lengths[b], else 0.
 * Shaped (T, B) row-major, or (B, T) with `batchFirst`, to match the layer's output; pass it as the `mask` of a
 * loss so that padded steps do not count.
 *
 * @param lengths B sequence lengths, integers in [0, T]
 * @param T padded length
 * @param B batch size
 * @param batchFirst (B, T) layout instead of (T, B)
 */
export function lengthsMask(lengths: ArrayLike<number>, T: number, B: number, batchFirst = false): Uint8Array {
  for (const [name, v] of [['T', T], ['B', B]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new InvalidArgumentError(name, `expected a non-negative integer, got ${describe(v)}`);
    }
  }
  checkArray('lengths', lengths);
  if (lengths.length !== B) {
    throw new ShapeError('lengths', `expected ${B} lengths (one per batch row), got ${lengths.length}`, [B],
      [lengths.length]);
  }
  const mask = new Uint8Array(T * B);
  for (let b = 0; b < B; b++) {
    const L = lengths[b]!;
    if (!Number.isSafeInteger(L) || L < 0 || L > T) {
      throw new InvalidArgumentError(`lengths[${b}]`, `expected an integer in [0, ${T}], got ${describe(L)}`);
    }
    for (let t = 0; t < L; t++) mask[batchFirst ? b * T + t : t * B + b] = 1;
  }
  return mask;
}
