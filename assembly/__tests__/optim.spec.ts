// Optimizer kernels (assembly/optim.ts) against scalar references.
//
// Two references per kernel:
//  - bit for bit: a plain scalar f32 loop written here from PyTorch's formulas, with the same f32 operations in
//    the same order as the kernel promises (its header comment). Every element must match exactly, whichever
//    lane or tail position it lands in: sizes n in {0, 1, 2, 3, 4, 5, 7, 8, 13, 33} (tail only, vector only,
//    vector + tail) at start offsets shifted by 0..3 floats (so 16-byte alignment is not assumed). Both builds use
//    no fused multiply-add here, so the same bits are required of the plain and the relaxed-SIMD build.
//  - in value: an f64 evaluation of the same formulas, iterated over several steps; |f32 - f64| must be at most
//    1e-6 * (1 + |value|). The worst observed is printed (about 1e-7 for these inputs in [-1, 1]).
// Also checked: the gradient is never written, nothing past n is written (sentinel NaNs), and entries whose
// param, grad and state are 0 (padding of the packed layout) stay exactly +0.

import { sgd_update, adam_update, clip_by_value, sum_squares, max_abs, scale, has_nonfinite } from '../optim';
import { allocF32, fillBits, fillRandom, getF, setF, getBits, SENTINEL, seed, fmt, BUILD } from './util';

const NS: StaticArray<i32> = [0, 1, 2, 3, 4, 5, 7, 8, 13, 33];
const MAXN: i32 = 33;
const PAD: i32 = 8;          // floats of room for the shift (0..3) and the sentinels past n
const VAL_TOL: f64 = 1e-6;

function at(base: usize, shift: i32): usize {
  return base + (<usize>shift << 2);
}

/** Marks the padding-like entries: every 5th element has param = grad = state = 0. */
function isPadding(i: i32): bool {
  return i % 5 == 4;
}

function checkSentinels(p: usize, n: i32, what: string): void {
  for (let i = n; i < n + 3; i++) {
    if (getBits(p, i) != SENTINEL) {
      expect<u32>(getBits(p, i)).toBe(SENTINEL, BUILD + " " + what + " written past n at " + i.toString());
    }
  }
}

/** Fresh arrays: random values in [-1, 1) with padding zeros, SENTINEL past n. */
function fillCase(p: usize, n: i32, zeroPadding: bool, positive: bool): void {
  fillBits(p, n + 3, SENTINEL);
  fillRandom(p, n);
  for (let i = 0; i < n; i++) {
    if (positive) setF(p, i, Mathf.abs(getF(p, i)));
    if (zeroPadding && isPadding(i)) setF(p, i, 0);
  }
}

let worstSgd: f64 = 0;
let worstAdam: f64 = 0;

// ---------------------------------------------------------------------------------------------------------------
// SGD

function sgdCase(n: i32, shift: i32, mom: f64, damp: f64, wd: f64, nesterov: i32): void {
  const lr: f64 = 0.1;
  const P = allocF32(MAXN + PAD), G = allocF32(MAXN + PAD), Bf = allocF32(MAXN + PAD);
  const rP = allocF32(MAXN + PAD), rB = allocF32(MAXN + PAD), G0 = allocF32(MAXN + PAD);
  const p = at(P, shift), g = at(G, shift), b = at(Bf, shift);
  const useMom = mom != 0;
  fillCase(p, n, true, false);
  fillCase(b, n, true, false);
  // f64 state of the reference
  const p64 = new StaticArray<f64>(MAXN), b64 = new StaticArray<f64>(MAXN);
  for (let i = 0; i < n; i++) { p64[i] = <f64>getF(p, i); setF(rP, i, getF(p, i)); }
  const nm = "sgd n=" + n.toString() + " shift=" + shift.toString() + " momentum=" + fmt(mom) +
    " dampening=" + fmt(damp) + " wd=" + fmt(wd) + " nesterov=" + nesterov.toString();
  for (let step = 0; step < 3; step++) {
    const first = step == 0 ? 1 : 0;
    fillCase(g, n, true, false);
    for (let i = 0; i < n; i++) setF(G0, i, getF(g, i));
    sgd_update(p, g, useMom ? b : 0, n, lr, mom, damp, wd, nesterov, first);
    // f32 reference, same operations in the same order
    const neg = <f32>(-lr), wdf = <f32>wd, mf = <f32>mom, df = <f32>(1.0 - damp);
    for (let i = 0; i < n; i++) {
      const pi = getF(rP, i);
      let d = getF(G0, i);
      if (wd != 0) d = d + wdf * pi;
      if (useMom) {
        let bi: f32 = first ? d : mf * getF(rB, i) + df * d;
        setF(rB, i, bi);
        d = nesterov ? d + mf * bi : bi;
      }
      setF(rP, i, pi + neg * d);
    }
    // f64 reference
    for (let i = 0; i < n; i++) {
      let d = <f64>getF(G0, i);
      if (wd != 0) d += wd * p64[i];
      if (useMom) {
        b64[i] = first ? d : mom * b64[i] + (1.0 - damp) * d;
        d = nesterov ? d + mom * b64[i] : b64[i];
      }
      p64[i] -= lr * d;
    }
    for (let i = 0; i < n; i++) {
      const what = nm + " step " + step.toString() + " i=" + i.toString();
      if (getBits(p, i) != getBits(rP, i)) {
        expect<f32>(getF(p, i)).toBe(getF(rP, i), BUILD + " param bits " + what);
      }
      if (useMom && getBits(b, i) != getBits(rB, i)) {
        expect<f32>(getF(b, i)).toBe(getF(rB, i), BUILD + " momentum buffer bits " + what);
      }
      if (getBits(g, i) != getBits(G0, i)) expect<f32>(getF(g, i)).toBe(getF(G0, i), BUILD + " grad written " + what);
      const err = Math.abs(<f64>getF(p, i) - p64[i]) / (1.0 + Math.abs(p64[i]));
      if (err > worstSgd) worstSgd = err;
      if (err > VAL_TOL) expect<f64>(err).toBeLessThanOrEqual(VAL_TOL, BUILD + " f64 reference " + what);
      if (isPadding(i) && (getBits(p, i) != 0 || (useMom && getBits(b, i) != 0))) {
        expect<u32>(getBits(p, i)).toBe(0, BUILD + " padding entry changed " + what);
      }
    }
    checkSentinels(p, n, nm + " param");
    checkSentinels(g, n, nm + " grad");
    if (useMom) checkSentinels(b, n, nm + " momentum buffer");
  }
  heap.free(P); heap.free(G); heap.free(Bf); heap.free(rP); heap.free(rB); heap.free(G0);
}

describe("sgd_update", () => {
  it("matches the scalar f32 reference bit for bit and the f64 reference within 1e-6", () => {
    seed(11);
    worstSgd = 0;
    // (momentum, dampening, weightDecay, nesterov)
    const cfg: StaticArray<f64> = [
      0, 0, 0, 0,
      0, 0, 0.05, 0,
      0.9, 0, 0, 0,
      0.9, 0, 0.05, 1,
      0.9, 0.3, 0.05, 0,
      0.5, 0.5, 0, 0,
    ];
    for (let c = 0; c < cfg.length / 4; c++) {
      for (let ni = 0; ni < NS.length; ni++) {
        for (let shift = 0; shift < 4; shift++) {
          sgdCase(NS[ni], shift, cfg[4 * c], cfg[4 * c + 1], cfg[4 * c + 2], <i32>cfg[4 * c + 3]);
        }
      }
    }
    log<string>(BUILD + " sgd worst |f32 - f64| / (1 + |p|) = " + fmt(worstSgd));
  });

  it("momentumBuf = 0 leaves memory alone even with momentum set", () => {
    const P = allocF32(8), G = allocF32(8);
    for (let i = 0; i < 5; i++) { setF(P, i, 1); setF(G, i, 2); }
    sgd_update(P, G, 0, 5, 0.5, 0.9, 0, 0, 0, 1);
    for (let i = 0; i < 5; i++) expect<f32>(getF(P, i)).toBe(0);
    heap.free(P); heap.free(G);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Adam / AdamW

function adamCase(n: i32, shift: i32, wd: f64, decoupled: i32, beta1: f64, beta2: f64, eps: f64): void {
  const lr: f64 = 0.01;
  const P = allocF32(MAXN + PAD), G = allocF32(MAXN + PAD), M = allocF32(MAXN + PAD), V = allocF32(MAXN + PAD);
  const rP = allocF32(MAXN + PAD), rM = allocF32(MAXN + PAD), rV = allocF32(MAXN + PAD), G0 = allocF32(MAXN + PAD);
  const p = at(P, shift), g = at(G, shift), m = at(M, shift), v = at(V, shift);
  fillCase(p, n, true, false);
  fillBits(m, n + 3, SENTINEL);
  fillBits(v, n + 3, SENTINEL);
  for (let i = 0; i < n; i++) { setF(m, i, 0); setF(v, i, 0); setF(rM, i, 0); setF(rV, i, 0); }
  const p64 = new StaticArray<f64>(MAXN), m64 = new StaticArray<f64>(MAXN), v64 = new StaticArray<f64>(MAXN);
  for (let i = 0; i < n; i++) { p64[i] = <f64>getF(p, i); setF(rP, i, getF(p, i)); }
  const nm = "adam n=" + n.toString() + " shift=" + shift.toString() + " wd=" + fmt(wd) + " decoupled=" +
    decoupled.toString() + " betas=" + fmt(beta1) + "," + fmt(beta2) + " eps=" + fmt(eps);
  for (let step = 1; step <= 6; step++) {
    fillCase(g, n, true, false);
    for (let i = 0; i < n; i++) setF(G0, i, getF(g, i));
    adam_update(p, g, m, v, n, lr, beta1, beta2, eps, wd, <f64>step, decoupled);
    const bc1 = 1.0 - Math.pow(beta1, <f64>step);
    const bc2 = 1.0 - Math.pow(beta2, <f64>step);
    // f32 reference
    const wdf = <f32>wd, keep = <f32>(1.0 - lr * wd);
    const b1 = <f32>beta1, c1 = <f32>(1.0 - beta1), b2 = <f32>beta2, c2 = <f32>(1.0 - beta2);
    const bc2s = <f32>Math.sqrt(bc2), negStep = <f32>(-lr / bc1), e = <f32>eps;
    for (let i = 0; i < n; i++) {
      let pi = getF(rP, i);
      let gi = getF(G0, i);
      if (wd != 0 && !decoupled) gi = gi + wdf * pi;
      if (wd != 0 && decoupled) pi = pi * keep;
      const mi = b1 * getF(rM, i) + c1 * gi;
      const vi = b2 * getF(rV, i) + c2 * (gi * gi);
      setF(rM, i, mi);
      setF(rV, i, vi);
      const denom = Mathf.sqrt(vi) / bc2s + e;
      setF(rP, i, pi + negStep * (mi / denom));
    }
    // f64 reference (PyTorch's formulas)
    for (let i = 0; i < n; i++) {
      let gi = <f64>getF(G0, i);
      if (wd != 0 && !decoupled) gi += wd * p64[i];
      if (wd != 0 && decoupled) p64[i] *= 1.0 - lr * wd;
      m64[i] = beta1 * m64[i] + (1.0 - beta1) * gi;
      v64[i] = beta2 * v64[i] + (1.0 - beta2) * gi * gi;
      const denom = Math.sqrt(v64[i]) / Math.sqrt(bc2) + eps;
      p64[i] -= (lr / bc1) * m64[i] / denom;
    }
    for (let i = 0; i < n; i++) {
      const what = nm + " step " + step.toString() + " i=" + i.toString();
      if (getBits(p, i) != getBits(rP, i)) expect<f32>(getF(p, i)).toBe(getF(rP, i), BUILD + " param bits " + what);
      if (getBits(m, i) != getBits(rM, i)) expect<f32>(getF(m, i)).toBe(getF(rM, i), BUILD + " exp_avg bits " + what);
      if (getBits(v, i) != getBits(rV, i)) {
        expect<f32>(getF(v, i)).toBe(getF(rV, i), BUILD + " exp_avg_sq bits " + what);
      }
      if (getBits(g, i) != getBits(G0, i)) expect<f32>(getF(g, i)).toBe(getF(G0, i), BUILD + " grad written " + what);
      const err = Math.abs(<f64>getF(p, i) - p64[i]) / (1.0 + Math.abs(p64[i]));
      if (err > worstAdam) worstAdam = err;
      if (err > VAL_TOL) expect<f64>(err).toBeLessThanOrEqual(VAL_TOL, BUILD + " f64 reference " + what);
      if (isPadding(i) && (getBits(p, i) | getBits(m, i) | getBits(v, i)) != 0) {
        expect<u32>(getBits(p, i)).toBe(0, BUILD + " padding entry changed " + what);
      }
    }
    checkSentinels(p, n, nm + " param");
    checkSentinels(g, n, nm + " grad");
    checkSentinels(m, n, nm + " exp_avg");
    checkSentinels(v, n, nm + " exp_avg_sq");
  }
  heap.free(P); heap.free(G); heap.free(M); heap.free(V);
  heap.free(rP); heap.free(rM); heap.free(rV); heap.free(G0);
}

describe("adam_update", () => {
  it("Adam and AdamW match the scalar f32 reference bit for bit and the f64 reference within 1e-6", () => {
    seed(23);
    worstAdam = 0;
    // (weightDecay, decoupled, beta1, beta2, eps)
    const cfg: StaticArray<f64> = [
      0, 0, 0.9, 0.999, 1e-8,
      0.1, 0, 0.9, 0.999, 1e-8,
      0.1, 1, 0.9, 0.999, 1e-8,
      0, 1, 0.8, 0.99, 1e-6,
      0.01, 1, 0.5, 0.9, 0.1,
    ];
    for (let c = 0; c < cfg.length / 5; c++) {
      for (let ni = 0; ni < NS.length; ni++) {
        for (let shift = 0; shift < 4; shift++) {
          adamCase(NS[ni], shift, cfg[5 * c], <i32>cfg[5 * c + 1], cfg[5 * c + 2], cfg[5 * c + 3], cfg[5 * c + 4]);
        }
      }
    }
    log<string>(BUILD + " adam worst |f32 - f64| / (1 + |p|) = " + fmt(worstAdam));
  });

  it("the first step moves each param by lr * sign(grad) (bias correction)", () => {
    const P = allocF32(8), G = allocF32(8), M = allocF32(8), V = allocF32(8);
    for (let i = 0; i < 7; i++) {
      setF(P, i, 1); setF(G, i, i % 2 ? <f32>0.5 * <f32>i : <f32>-0.25 * <f32>i - 1); setF(M, i, 0); setF(V, i, 0);
    }
    adam_update(P, G, M, V, 7, 0.01, 0.9, 0.999, 0, 0, 1, 0);
    for (let i = 0; i < 7; i++) {
      const want: f64 = i % 2 ? 0.99 : 1.01;
      expect<f64>(Math.abs(<f64>getF(P, i) - want)).toBeLessThanOrEqual(2e-7);
    }
    heap.free(P); heap.free(G); heap.free(M); heap.free(V);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Gradient utilities

describe("clip_by_value", () => {
  it("clamps to [-clip, clip] bit for bit, keeps NaN, clips infinities", () => {
    seed(31);
    const X = allocF32(MAXN + PAD), R = allocF32(MAXN + PAD);
    for (let ni = 0; ni < NS.length; ni++) {
      for (let shift = 0; shift < 4; shift++) {
        const n = NS[ni];
        const x = at(X, shift);
        fillCase(x, n, false, false);
        if (n > 2) { setF(x, 0, Infinity); setF(x, 1, -Infinity); setF(x, 2, NaN); }
        for (let i = 0; i < n; i++) setF(R, i, getF(x, i));
        clip_by_value(x, n, 0.5);
        for (let i = 0; i < n; i++) {
          const r = getF(R, i);
          const want: f32 = isNaN(r) ? NaN : r > 0.5 ? 0.5 : r < -0.5 ? -0.5 : r;
          if (getBits(x, i) != reinterpret<u32>(want) && !(isNaN(want) && isNaN(getF(x, i)))) {
            expect<f32>(getF(x, i)).toBe(want, BUILD + " n=" + n.toString() + " i=" + i.toString());
          }
        }
        checkSentinels(x, n, "clip_by_value");
      }
    }
    heap.free(X); heap.free(R);
  });
});

describe("sum_squares and max_abs", () => {
  it("sum_squares equals the f64 sum of squares (within the f64 summation bound), max_abs the exact maximum", () => {
    seed(37);
    const X = allocF32(1100);
    const sizes: StaticArray<i32> = [0, 1, 2, 3, 4, 5, 7, 8, 13, 33, 1027];
    for (let si = 0; si < sizes.length; si++) {
      for (let shift = 0; shift < 4; shift++) {
        const n = sizes[si];
        const x = at(X, shift);
        fillBits(x, n + 3, SENTINEL);
        fillRandom(x, n);
        let s: f64 = 0;
        let mx: f32 = 0;
        for (let i = 0; i < n; i++) {
          const t = <f64>getF(x, i);
          s += t * t;
          mx = max<f32>(mx, Mathf.abs(getF(x, i)));
        }
        const got = sum_squares(x, n);
        // both sums are of exact non-negative terms: each is within n * 2^-53 * s of the exact value
        const bound = 2.0 * <f64>(n + 1) * Math.pow(2.0, -53) * s;
        expect<f64>(Math.abs(got - s)).toBeLessThanOrEqual(bound, BUILD + " sum_squares n=" + n.toString());
        expect<f32>(max_abs(x, n)).toBe(mx, BUILD + " max_abs n=" + n.toString());
      }
    }
    // non-finite inputs propagate
    for (let i = 0; i < 13; i++) setF(X, i, 1);
    setF(X, 9, Infinity);
    expect<f64>(sum_squares(X, 13)).toBe(Infinity);
    expect<f32>(max_abs(X, 13)).toBe(Infinity);
    setF(X, 2, NaN);
    expect<bool>(isNaN(sum_squares(X, 13))).toBe(true);
    expect<bool>(isNaN(max_abs(X, 13))).toBe(true);
    setF(X, 12, NaN); setF(X, 2, 1); setF(X, 9, 1); // NaN in the scalar tail
    expect<bool>(isNaN(sum_squares(X, 13))).toBe(true);
    expect<bool>(isNaN(max_abs(X, 13))).toBe(true);
    // squares beyond the f32 range are exact in f64
    setF(X, 0, 3e38); setF(X, 1, -3e38);
    expect<f64>(sum_squares(X, 2)).toBe(<f64><f32>3e38 * <f64><f32>3e38 * 2);
    heap.free(X);
  });
});

describe("scale", () => {
  it("multiplies bit for bit as scalar f32", () => {
    seed(41);
    const X = allocF32(MAXN + PAD), R = allocF32(MAXN + PAD);
    for (let ni = 0; ni < NS.length; ni++) {
      for (let shift = 0; shift < 4; shift++) {
        const n = NS[ni];
        const x = at(X, shift);
        fillCase(x, n, false, false);
        for (let i = 0; i < n; i++) setF(R, i, getF(x, i));
        scale(x, n, 0.3731);
        for (let i = 0; i < n; i++) {
          const want = getF(R, i) * <f32>0.3731;
          if (getBits(x, i) != reinterpret<u32>(want)) expect<f32>(getF(x, i)).toBe(want, BUILD + " scale");
        }
        checkSentinels(x, n, "scale");
      }
    }
    heap.free(X); heap.free(R);
  });
});

describe("has_nonfinite", () => {
  it("finds NaN and infinities at every position, and nothing in finite data or past n", () => {
    const X = allocF32(2100);
    const specials: StaticArray<u32> = [0x7fc00000, 0x7f800000, 0xff800000, 0xffc00001, 0x7f800001];
    const sizes: StaticArray<i32> = [0, 1, 3, 4, 5, 13, 33, 2051];
    for (let si = 0; si < sizes.length; si++) {
      const n = sizes[si];
      for (let i = 0; i < n; i++) setF(X, i, <f32>(i % 7) - 3.5);
      // finite extremes: largest float, smallest subnormal, -0
      if (n > 2) { setF(X, 0, 3.4028235e38); store<u32>(X + 4, 1); setF(X, 2, -0.0); }
      fillBits(X + (<usize>n << 2), 3, SENTINEL); // past n: never read
      expect<i32>(has_nonfinite(X, n)).toBe(0, BUILD + " finite n=" + n.toString());
      for (let pos = 0; pos < n; pos += n > 100 ? 97 : 1) {
        for (let k = 0; k < specials.length; k++) {
          const save = getBits(X, pos);
          store<u32>(X + (<usize>pos << 2), specials[k]);
          expect<i32>(has_nonfinite(X, n)).toBe(1, BUILD + " n=" + n.toString() + " pos=" + pos.toString());
          store<u32>(X + (<usize>pos << 2), save);
        }
      }
    }
    heap.free(X);
  });
});
