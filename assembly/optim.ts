// Optimizer kernels: elementwise updates over (param, grad, state) float32 arrays in linear memory.
//
// Every pointer is a byte offset, every n a count of floats; arrays may have any length (a scalar tail handles
// n not a multiple of 4) and need no particular alignment (v128.load/store accept any address; 16-byte aligned
// blocks are merely faster). Outputs come first. Hyper-parameters arrive as f64 so constants derived from them
// (1 - dampening, bias corrections, lr / bias correction) are computed in f64 and rounded to f32 once.
//
// The formulas, operation for operation, are those of PyTorch 1.13's single-tensor torch.optim.SGD / Adam / AdamW
// (see the comments at each kernel). Unlike the recurrent kernels these use a separate multiply and add even in
// the relaxed-SIMD build (no `madd`): an update is bound by memory traffic, not arithmetic, so a fused
// multiply-add gains nothing, and this way both builds give bit-identical optimizer steps. The scalar tail
// performs the same f32 operations in the same order as the vector lanes, so the result of an element does not
// depend on its position.
//
// Zero entries stay zero: where param = 0, grad = 0 and the state is 0 (padding of the packed layout), every
// update below leaves all of them 0, because weight decay multiplies the param.

// @ts-ignore: decorator
@inline function f32at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function f32set(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

/**
 * One step of torch.optim.SGD on n elements, in place on `param` (and `momentumBuf`); `grad` is only read.
 *
 *   d = grad + weightDecay * param                   (when weightDecay != 0)
 *   buf = d                                          (momentum != 0, firstStep: the buffer is created)
 *   buf = momentum * buf + (1 - dampening) * d       (momentum != 0, later steps)
 *   d = nesterov ? d + momentum * buf : buf          (momentum != 0)
 *   param = param + (-lr) * d
 *
 * momentumBuf = 0 means no buffer (momentum must then be 0). nesterov and firstStep are 0 or 1.
 */
export function sgd_update(param: usize, grad: usize, momentumBuf: usize, n: i32, lr: f64, momentum: f64,
                           dampening: f64, weightDecay: f64, nesterov: i32, firstStep: i32): void {
  const useWd = weightDecay != 0;
  const useMom = momentum != 0 && momentumBuf != 0;
  const neg = <f32>(-lr);
  const wd = <f32>weightDecay;
  const mom = <f32>momentum;
  const damp = <f32>(1.0 - dampening);
  const negV = f32x4.splat(neg), wdV = f32x4.splat(wd), momV = f32x4.splat(mom), dampV = f32x4.splat(damp);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const p = v128.load(param + off);
    let d = v128.load(grad + off);
    if (useWd) d = f32x4.add(d, f32x4.mul(wdV, p));
    if (useMom) {
      let b: v128;
      if (firstStep) {
        b = d;
      } else {
        b = f32x4.add(f32x4.mul(momV, v128.load(momentumBuf + off)), f32x4.mul(dampV, d));
      }
      v128.store(momentumBuf + off, b);
      d = nesterov ? f32x4.add(d, f32x4.mul(momV, b)) : b;
    }
    v128.store(param + off, f32x4.add(p, f32x4.mul(negV, d)));
  }
  for (; i < n; i++) {
    const p = f32at(param, i);
    let d = f32at(grad, i);
    if (useWd) d = d + wd * p;
    if (useMom) {
      let b: f32;
      if (firstStep) {
        b = d;
      } else {
        b = mom * f32at(momentumBuf, i) + damp * d;
      }
      f32set(momentumBuf, i, b);
      d = nesterov ? d + mom * b : b;
    }
    f32set(param, i, p + neg * d);
  }
}

/**
 * One step of torch.optim.Adam (decoupled = 0) or torch.optim.AdamW (decoupled = 1) on n elements, in place on
 * `param`, `m` (exp_avg) and `v` (exp_avg_sq); `grad` is only read. `step` is the step number after this update
 * (1 on the first call). With bc1 = 1 - beta1^step, bc2 = 1 - beta2^step (in f64):
 *
 *   Adam:  g = grad + weightDecay * param            (L2 penalty folded into the gradient, when weightDecay != 0)
 *   AdamW: g = grad;  param = param * (1 - lr * weightDecay)     (decoupled decay, before the update)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * (g * g)
 *   denom = sqrt(v) / sqrt(bc2) + eps
 *   param = param + (-lr / bc1) * (m / denom)
 */
export function adam_update(param: usize, grad: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64, beta2: f64,
                            eps: f64, weightDecay: f64, step: f64, decoupled: i32): void {
  const l2 = weightDecay != 0 && !decoupled;
  const decay = weightDecay != 0 && decoupled != 0;
  const wd = <f32>weightDecay;
  const keep = <f32>(1.0 - lr * weightDecay);
  const b1 = <f32>beta1, c1 = <f32>(1.0 - beta1);
  const b2 = <f32>beta2, c2 = <f32>(1.0 - beta2);
  const bc1 = 1.0 - Math.pow(beta1, step);
  const bc2s = <f32>Math.sqrt(1.0 - Math.pow(beta2, step));
  const negStep = <f32>(-lr / bc1);
  const e = <f32>eps;
  const wdV = f32x4.splat(wd), keepV = f32x4.splat(keep);
  const b1V = f32x4.splat(b1), c1V = f32x4.splat(c1), b2V = f32x4.splat(b2), c2V = f32x4.splat(c2);
  const bc2sV = f32x4.splat(bc2s), negStepV = f32x4.splat(negStep), eV = f32x4.splat(e);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    let p = v128.load(param + off);
    let g = v128.load(grad + off);
    if (l2) g = f32x4.add(g, f32x4.mul(wdV, p));
    if (decay) p = f32x4.mul(p, keepV);
    const mi = f32x4.add(f32x4.mul(b1V, v128.load(m + off)), f32x4.mul(c1V, g));
    const vi = f32x4.add(f32x4.mul(b2V, v128.load(v + off)), f32x4.mul(c2V, f32x4.mul(g, g)));
    v128.store(m + off, mi);
    v128.store(v + off, vi);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), bc2sV), eV);
    v128.store(param + off, f32x4.add(p, f32x4.mul(negStepV, f32x4.div(mi, denom))));
  }
  for (; i < n; i++) {
    let p = f32at(param, i);
    let g = f32at(grad, i);
    if (l2) g = g + wd * p;
    if (decay) p = p * keep;
    const mi = b1 * f32at(m, i) + c1 * g;
    const vi = b2 * f32at(v, i) + c2 * (g * g);
    f32set(m, i, mi);
    f32set(v, i, vi);
    const denom = sqrt<f32>(vi) / bc2s + e;
    f32set(param, i, p + negStep * (mi / denom));
  }
}

/** grad = min(max(grad, -clip), clip) on n elements (torch.nn.utils.clip_grad_value_; NaN stays NaN). */
export function clip_by_value(grad: usize, n: i32, clip: f32): void {
  const hi = f32x4.splat(clip), lo = f32x4.splat(-clip);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(grad + off, f32x4.min(f32x4.max(v128.load(grad + off), lo), hi));
  }
  for (; i < n; i++) f32set(grad, i, min<f32>(max<f32>(f32at(grad, i), -clip), clip));
}

/**
 * Sum of the squares of n floats, accumulated in f64 lanes. Each f32 is widened before squaring, so every square
 * is exact and the only rounding is that of the f64 sum (relative error below n * 2^-53). NaN or Infinity in the
 * input gives NaN or Infinity.
 */
export function sum_squares(x: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = v128.load(x + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(q);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(q, q, 2, 3, 0, 1));
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < n; i++) {
    const t = <f64>f32at(x, i);
    s += t * t;
  }
  return s;
}

/** Largest |x| over n floats (0 for n = 0; NaN if any element is NaN). For the infinity norm. */
export function max_abs(x: usize, n: i32): f32 {
  let a = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) a = f32x4.max(a, f32x4.abs(v128.load(x + (<usize>i << 2))));
  let r = max<f32>(max<f32>(f32x4.extract_lane(a, 0), f32x4.extract_lane(a, 1)),
    max<f32>(f32x4.extract_lane(a, 2), f32x4.extract_lane(a, 3)));
  for (; i < n; i++) r = max<f32>(r, abs<f32>(f32at(x, i)));
  return r;
}

/** x = x * s on n floats. */
export function scale(x: usize, n: i32, s: f32): void {
  const sV = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(x + off, f32x4.mul(v128.load(x + off), sV));
  }
  for (; i < n; i++) f32set(x, i, f32at(x, i) * s);
}

/** 1 if any of n floats is NaN or ±Infinity (exponent bits all ones), else 0. */
export function has_nonfinite(x: usize, n: i32): i32 {
  const EXP: u32 = 0x7f800000;
  const expV = i32x4.splat(EXP);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    bad = v128.or(bad, i32x4.eq(v128.and(v128.load(x + (<usize>i << 2)), expV), expV));
    // Stop early every 1024 floats once found (a diverged model usually has many).
    if ((i & 1023) == 0 && v128.any_true(bad)) return 1;
  }
  if (v128.any_true(bad)) return 1;
  for (; i < n; i++) {
    if ((load<u32>(x + (<usize>i << 2)) & EXP) == EXP) return 1;
  }
  return 0;
}
