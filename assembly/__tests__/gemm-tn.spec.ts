// gemm_tn_forward (weight gradients into the packed layout) and colsum_forward (bias gradients) against scalar
// loops in f64.
//
// Table: NR in {12, 16} crossed with R (rows summed over) in {0, 1, 2, 3, 17, 511, 512, 513, 1100} (the kernel
// takes rows in blocks of 512: one block, exactly one, one plus one row, several), K (rows of the packed weight)
// in {1, 2, 3, 5, 17} (the tile's 2-row loop and its single-row tail), nPanels in {1, 3}, accumulate 0 and 1.
// G has 4 spare floats per row (NaN: they must never be read); the work block starts as NaN (it must be written
// before it is read).
//
// Error bound: each output is a sum of T = R + 1 terms (R products and the accumulated C). With s the sum of the
// terms' magnitudes, the float32 rounding of any summation order is at most about T * 2^-24 * s, so
// |computed - exact| <= max(1e-6, 2 T 2^-24) * s: a failure means a wrong or missing term, not rounding.
//
// colsum_forward: the same rows and widths n in {4, 12, 44, 48, 52, 100} (blocks of 48 columns and the 4-column
// tail), with and without the second destination, accumulate 0 and 1; dst2 gets exactly what dst gets when both
// start from the same values.

import { gemm_tn_forward, GEMM_TN_WORK_FLOATS } from '../gemm';
import { colsum_forward } from '../simd';
import { allocF32, fillBits, fillRandom, getF, getBits, SENTINEL, seed, fmt, BUILD } from './util';

const RS: StaticArray<i32> = [0, 1, 2, 3, 17, 511, 512, 513, 1100];
const KS: StaticArray<i32> = [1, 2, 3, 5, 17];
const PS: StaticArray<i32> = [1, 3];
const NS: StaticArray<i32> = [4, 12, 44, 48, 52, 100];

let worstRatio: f64 = 0;
let checked: i32 = 0;

function tol(R: i32): f64 {
  return Math.max(1e-6, 2.0 * <f64>(R + 1) * Math.pow(2.0, -24));
}

function runTn(NR: i32): void {
  worstRatio = 0;
  checked = 0;
  seed(<u32>(NR * 7 + 1));
  const work = allocF32(GEMM_TN_WORK_FLOATS);
  for (let ri = 0; ri < RS.length; ri++) {
    for (let ki = 0; ki < KS.length; ki++) {
      for (let pi = 0; pi < PS.length; pi++) {
        const R = RS[ri], K = KS[ki], nP = PS[pi];
        const N = nP * NR, ldg = N + 4, ldat = R + 3;
        const At = allocF32(K * ldat), G = allocF32(R * ldg);
        const C0 = allocF32(nP * K * NR), C = allocF32(nP * K * NR);
        fillBits(At, K * ldat, SENTINEL);
        for (let k = 0; k < K; k++) fillRandom(At + (<usize>(k * ldat) << 2), R);
        fillBits(G, R * ldg, SENTINEL);
        for (let r = 0; r < R; r++) fillRandom(G + (<usize>(r * ldg) << 2), N);
        fillRandom(C0, nP * K * NR);
        for (let acc = 0; acc < 2; acc++) {
          for (let i = 0; i < nP * K * NR; i++) store<u32>(C + (<usize>i << 2), acc ? getBits(C0, i) : SENTINEL);
          fillBits(work, GEMM_TN_WORK_FLOATS, SENTINEL);
          gemm_tn_forward(C, At, ldat, G, ldg, R, K, nP, NR, acc, work);
          for (let p = 0; p < nP; p++) {
            for (let k = 0; k < K; k++) {
              for (let j = 0; j < NR; j++) {
                const i = (p * K + k) * NR + j;
                let ref: f64 = 0, s: f64 = 0;
                if (acc) { const c = <f64>getF(C0, i); ref += c; s += Math.abs(c); }
                for (let r = 0; r < R; r++) {
                  const t = <f64>getF(At, k * ldat + r) * <f64>getF(G, r * ldg + p * NR + j);
                  ref += t;
                  s += Math.abs(t);
                }
                const got = <f64>getF(C, i);
                const err = Math.abs(got - ref);
                if (!(err <= tol(R) * s)) {
                  expect<f64>(err).toBeLessThanOrEqual(tol(R) * s, "C[" + p.toString() + "][" + k.toString() + "][" +
                    j.toString() + "] = " + fmt(got) + ", reference " + fmt(ref) + " for NR=" + NR.toString() +
                    " R=" + R.toString() + " K=" + K.toString() + " nPanels=" + nP.toString() + " accumulate=" +
                    acc.toString());
                }
                if (s > 0 && err / s > worstRatio) worstRatio = err / s;
                checked++;
              }
            }
          }
        }
        heap.free(C); heap.free(C0); heap.free(G); heap.free(At);
      }
    }
  }
  heap.free(work);
}

function runColsum(): void {
  worstRatio = 0;
  checked = 0;
  seed(99);
  for (let ri = 0; ri < RS.length; ri++) {
    for (let ni = 0; ni < NS.length; ni++) {
      const R = RS[ri], n = NS[ni], lds = n + 4;
      const src = allocF32(R * lds), d0 = allocF32(n), d = allocF32(n), d2 = allocF32(n);
      fillBits(src, R * lds, SENTINEL);
      for (let r = 0; r < R; r++) fillRandom(src + (<usize>(r * lds) << 2), n);
      fillRandom(d0, n);
      for (let two = 0; two < 2; two++) {
        for (let acc = 0; acc < 2; acc++) {
          for (let i = 0; i < n; i++) {
            store<u32>(d + (<usize>i << 2), acc ? getBits(d0, i) : SENTINEL);
            store<u32>(d2 + (<usize>i << 2), acc ? getBits(d0, i) : SENTINEL);
          }
          colsum_forward(d, two ? d2 : 0, src, lds, R, n, acc);
          for (let c = 0; c < n; c++) {
            let ref: f64 = acc ? <f64>getF(d0, c) : 0, s: f64 = Math.abs(ref);
            for (let r = 0; r < R; r++) { const v = <f64>getF(src, r * lds + c); ref += v; s += Math.abs(v); }
            const err = Math.abs(<f64>getF(d, c) - ref);
            if (!(err <= tol(R) * s)) {
              expect<f64>(err).toBeLessThanOrEqual(tol(R) * s, "colsum column " + c.toString() + " R=" +
                R.toString() + " n=" + n.toString() + " accumulate=" + acc.toString());
            }
            if (two) {
              expect<u32>(getBits(d2, c)).toBe(getBits(d, c), "dst2 differs from dst at column " + c.toString());
            } else if (getBits(d2, c) != (acc ? getBits(d0, c) : SENTINEL)) {
              expect<u32>(getBits(d2, c)).toBe(acc ? getBits(d0, c) : SENTINEL, "dst2 written when absent");
            }
            if (s > 0 && err / s > worstRatio) worstRatio = err / s;
            checked++;
          }
        }
      }
      heap.free(d2); heap.free(d); heap.free(d0); heap.free(src);
    }
  }
}

describe("gemm_tn_forward " + BUILD, () => {
  test("NR=16 panels (LSTM, RNN) over row blocks", () => {
    runTn(16);
    expect<i32>(checked).toBeGreaterThan(0);
    log("NR=16: " + checked.toString() + " outputs, worst |err|/sum|terms| = " + fmt(worstRatio));
  });
  test("NR=12 panels (GRU) over row blocks", () => {
    runTn(12);
    expect<i32>(checked).toBeGreaterThan(0);
    log("NR=12: " + checked.toString() + " outputs, worst |err|/sum|terms| = " + fmt(worstRatio));
  });
});

describe("colsum_forward " + BUILD, () => {
  test("column sums with one or two destinations", () => {
    runColsum();
    expect<i32>(checked).toBeGreaterThan(0);
    log("colsum: " + checked.toString() + " outputs, worst |err|/sum|terms| = " + fmt(worstRatio));
  });
});
