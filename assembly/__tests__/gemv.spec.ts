// gemv.ts (the batch-1 dot-product path) against plain scalar loops.
//
// Table: panel widths NR 12 (GRU) and 16 (LSTM, RNN), nP in {1, 2, 3, 5, 11} panels (N = nP * NR output columns,
// n = N / 4 column vectors: 3, 6, 9, 15, 33 and 4, 8, 12, 20, 44, so the groups come as a tail only, sixes only,
// sevens and a tail, sevens and sixes, and both with more than one of each), K in {1, 2, 3, 4, 5, 17, 256, 515},
// with and without the seed I0, in place (C == I0) and not, and in both group orders.
//
// Checked exactly: the packed layout (per group, per k, the group's columns; the groups derived here by search:
// the fewest groups of 6 after as many of 7 as make n, else sevens and one short tail), that nothing past the N
// columns of C is written (sentinel NaNs), that the reverse order gives the same bits, and that each column is the
// sequential sum seed, + W[c,0] A[0], + W[c,1] A[1], ... with one multiply-add each (the panel path's order),
// computed here one lane at a time with the same madd. Error bound as gemm.spec.ts, against f64 from the same
// float32 inputs: each output is a sum of K + 1 terms; with s = sum of the terms' magnitudes,
// |computed - exact| <= max(1e-5, 2 (K + 1) 2^-24) * s.

import { gemv_pack, gemv_forward, gemvFloats } from '../gemv';
import { madd } from '../simd';
import { allocF32, fillBits, fillRandom, getF, getBits, setF, SENTINEL, seed, BUILD } from './util';

const NRS: StaticArray<i32> = [12, 16];
const NPS: StaticArray<i32> = [1, 2, 3, 5, 11];
const KS: StaticArray<i32> = [1, 2, 3, 4, 5, 17, 256, 515];

/** Widths of the groups of n vectors, in order (as the layout's comment in gemv.ts states them). */
function groupWidths(n: i32): i32[] {
  let six = -1;
  for (let b = 0; b < 7 && six < 0; b++) if (6 * b <= n && (n - 6 * b) % 7 == 0) six = b;
  const out: i32[] = [];
  if (six >= 0) {
    for (let i = 0; i < (n - 6 * six) / 7; i++) out.push(7);
    for (let i = 0; i < six; i++) out.push(6);
  } else {
    for (let i = 0; i < n / 7; i++) out.push(7);
    out.push(n % 7);
  }
  return out;
}

describe('gemv_pack / gemv_forward', () => {
  it('packs the layout exactly, sums each column in order and matches the f64 product within the bound', () => {
    seed(11);
    let cases = 0, tails = 0, mixed = 0;
    let worst: f64 = 0;
    for (let ri = 0; ri < NRS.length; ri++) {
      const NR = NRS[ri];
      for (let pi = 0; pi < NPS.length; pi++) {
        const nP = NPS[pi], N = nP * NR, n = N >> 2;
        const widths = groupWidths(n);
        let sum = 0;
        for (let i = 0; i < widths.length; i++) sum += widths[i];
        expect<i32>(sum).toBe(n);
        if (widths[widths.length - 1] < 6) tails++;
        if (widths.includes(7) && widths.includes(6)) mixed++;
        for (let ki = 0; ki < KS.length; ki++) {
          const K = KS[ki];
          expect<i32>(gemvFloats(N, K)).toBe(N * K);
          const P = allocF32(nP * K * NR), A = allocF32(K), D = allocF32(N * K + 8);
          const C = allocF32(N + 8), I0 = allocF32(N + 8), keep = allocF32(N + 8);
          fillRandom(P, nP * K * NR);
          fillRandom(A, K);
          fillBits(D, N * K + 8, SENTINEL);
          gemv_pack(D, P, K, nP, NR);
          // The layout, every float of D, and nothing written after it.
          let at = 0, v0 = 0;
          for (let g = 0; g < widths.length; g++) {
            const w = widths[g];
            for (let k = 0; k < K; k++) {
              for (let j = 0; j < 4 * w; j++) {
                const c = 4 * v0 + j;
                const want = getF(P, ((c / NR) * K + k) * NR + c % NR);
                const got = getF(D, at++);
                if (reinterpret<u32>(got) != reinterpret<u32>(want)) {
                  expect<f32>(got).toBe(want, BUILD + ' D N=' + N.toString() + ' K=' + K.toString() + ' c=' +
                    c.toString() + ' k=' + k.toString());
                }
              }
            }
            v0 += w;
          }
          for (let i = N * K; i < N * K + 8; i++) {
            expect<u32>(getBits(D, i)).toBe(SENTINEL, BUILD + ' packed past D');
          }
          for (let mode = 0; mode < 3; mode++) { // 0: no seed, 1: seed I0 into C, 2: in place (C == I0)
            fillRandom(I0, N);
            memory.copy(keep, I0, <usize>N << 2);
            fillBits(C, N + 8, SENTINEL);
            fillBits(I0 + (<usize>N << 2), 8, SENTINEL);
            const out = mode == 2 ? I0 : C;
            gemv_forward(out, mode ? I0 : 0, A, D, N, K, 0);
            for (let c = 0; c < N; c++) {
              let ref: f64 = mode ? <f64>getF(keep, c) : 0;
              let s: f64 = Math.abs(ref);
              let seq = f32x4.splat(mode ? getF(keep, c) : 0);
              for (let k = 0; k < K; k++) {
                const wk = getF(P, ((c / NR) * K + k) * NR + c % NR);
                const t = <f64>wk * <f64>getF(A, k);
                ref += t;
                s += Math.abs(t);
                seq = madd(f32x4.splat(getF(A, k)), f32x4.splat(wk), seq);
              }
              const y = getF(out, c);
              const err = Math.abs(<f64>y - ref);
              const tol = Math.max(1e-5, 2.0 * <f64>(K + 1) * Math.pow(2.0, -24)) * s;
              if (s > 0 && err / s > worst) worst = err / s;
              if (!(err <= tol)) {
                expect<f64>(err).toBeLessThanOrEqual(tol, BUILD + ' y N=' + N.toString() + ' K=' + K.toString() +
                  ' c=' + c.toString() + ' mode=' + mode.toString());
              }
              const want = f32x4.extract_lane(seq, 0);
              if (reinterpret<u32>(y) != reinterpret<u32>(want)) {
                expect<f32>(y).toBe(want, BUILD + ' order N=' + N.toString() + ' K=' + K.toString() + ' c=' +
                  c.toString() + ' mode=' + mode.toString());
              }
            }
            for (let c = N; c < N + 8; c++) expect<u32>(getBits(out, c)).toBe(SENTINEL, BUILD + ' written past N');
            // The groups last to first (a sequence alternates the order every step): the same bits, the same
            // floats written.
            const rv = allocF32(N + 8);
            fillBits(rv, N + 8, SENTINEL);
            if (mode == 2) memory.copy(rv, keep, <usize>N << 2);
            gemv_forward(rv, mode == 2 ? rv : mode ? keep : 0, A, D, N, K, 1);
            for (let c = 0; c < N + 8; c++) {
              if (getBits(rv, c) != getBits(out, c)) {
                expect<u32>(getBits(rv, c)).toBe(getBits(out, c), BUILD + ' reverse N=' + N.toString() + ' K=' +
                  K.toString() + ' c=' + c.toString() + ' mode=' + mode.toString());
              }
            }
            heap.free(rv);
            cases++;
          }
          heap.free(P); heap.free(A); heap.free(D); heap.free(C); heap.free(I0); heap.free(keep);
        }
      }
    }
    expect<i32>(cases).toBe(NRS.length * NPS.length * KS.length * 3);
    expect<i32>(tails).toBe(5); // n = 3, 9, 15, 4, 8
    expect<i32>(mixed).toBe(3); // n = 33, 20, 44
    // The bound is loose by design; the kernel's worst relative error is rounding-sized.
    expect<bool>(worst < 1e-6).toBe(true, BUILD + ' worst err/s ' + worst.toString());
  });
});
