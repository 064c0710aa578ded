/**
 * Gradient clipping as torch.nn.utils: {@link clipGradNorm} (`clip_grad_norm_`), {@link clipGradValue}
 * (`clip_grad_value_`), plus {@link gradNorm} and {@link hasNonfiniteGrad}. They run in WebAssembly on the
 * gradients in place; padding entries of the packed layout are 0 and change nothing.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../tensor.js';
import { assertUsable, checkParameters, optimKernels, type Parameter } from './parameter.js';

function checkNormType(normType: unknown): number {
  if (typeof normType !== 'number' || !(normType > 0) || Number.isNaN(normType)) {
    throw new InvalidArgumentError('normType', `expected a positive number or Infinity, got ${describe(normType)}`);
  }
  return normType;
}

/**
 * The norm of all gradients taken together, as if concatenated into one vector (what
 * `clip_grad_norm_` returns). `normType` 2 (default) and `Infinity` run in WebAssembly (the 2-norm sums exact
 * squares in float64); any other p > 0 is computed in float64 TypeScript. NaN or Infinity in a gradient gives a
 * NaN or Infinity norm.
 */
export function gradNorm(params: Iterable<Parameter>, normType = 2): number {
  const list = checkParameters('params', params, true);
  const p = checkNormType(normType);
  if (list.length === 0) return 0;
  const k = optimKernels(list[0]!.engine);
  list.forEach((q, i) => assertUsable(q, `params[${i}]`));
  if (p === 2) {
    let s = 0;
    for (const q of list) s += k.sum_squares(q.grad, q.length);
    return Math.sqrt(s);
  }
  if (p === Infinity) {
    let m = 0;
    for (const q of list) {
      const v = k.max_abs(q.grad, q.length);
      if (Number.isNaN(v)) return NaN;
      if (v > m) m = v;
    }
    return m;
  }
  let s = 0;
  const f32 = list[0]!.engine.f32();
  for (const q of list) {
    const off = q.grad / 4;
    for (let i = 0; i < q.length; i++) s += Math.abs(f32[off + i]!) ** p;
  }
  return s ** (1 / p);
}

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** Throw instead of clipping when the total norm is NaN or infinite (PyTorch's `error_if_nonfinite`). */
  errorIfNonfinite?: boolean;
}

/**
 * Rescales all gradients together so that their total norm is at most `maxNorm`, as
 * torch.nn.utils.clip_grad_norm_: with `total = gradNorm(params, normType)`, every gradient is multiplied by
 * `maxNorm / (total + 1e-6)` when that is below 1. Returns the total norm before clipping.
 *
 * As in PyTorch, a NaN total norm makes every gradient NaN (and an infinite one multiplies them by 0) unless
 * `errorIfNonfinite` is set, which throws {@link InvalidArgumentError} and leaves the gradients alone.
 */
export function clipGradNorm(params: Iterable<Parameter>, maxNorm: number, normType = 2,
                             options: ClipGradNormOptions = {}): number {
  const list = checkParameters('params', params, true);
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) {
    throw new InvalidArgumentError('maxNorm', `expected a non-negative number, got ${describe(maxNorm)}`);
  }
  const total = gradNorm(list, normType);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new InvalidArgumentError('params', `the total norm of order ${normType} of the gradients is ${total}, ` +
      'so they cannot be clipped (errorIfNonfinite is set)');
  }
  const coef = maxNorm / (total + 1e-6);
  if (!(coef >= 1) && list.length > 0) {
    const k = optimKernels(list[0]!.engine);
    for (const q of list) k.scale(q.grad, q.length, coef);
  }
  return total;
}

/**
 * Clamps every gradient element to [-clipValue, clipValue] in place, as torch.nn.utils.clip_grad_value_
 * (NaN stays NaN).
 */
export function clipGradValue(params: Iterable<Parameter>, clipValue: number): void {
  const list = checkParameters('params', params, true);
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) {
    throw new InvalidArgumentError('clipValue', `expected a non-negative number, got ${describe(clipValue)}`);
  }
  if (list.length === 0) return;
  const k = optimKernels(list[0]!.engine);
  list.forEach((q, i) => assertUsable(q, `params[${i}]`));
  for (const q of list) k.clip_by_value(q.grad, q.length, clipValue);
}

/** True if any gradient element is NaN or infinite (a quick divergence check before `step()`). */
export function hasNonfiniteGrad(params: Iterable<Parameter>): boolean {
  const list = checkParameters('params', params, true);
  if (list.length === 0) return false;
  const k = optimKernels(list[0]!.engine);
  list.forEach((q, i) => assertUsable(q, `params[${i}]`));
  return list.some((q) => k.has_nonfinite(q.grad, q.length) !== 0);
}
