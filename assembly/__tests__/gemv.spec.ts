// gemv.ts (the batch-1 dot-product path) against plain scalar loops.
//
// Table: panel widths NR 12 (GRU) and 16 (LSTM, RNN), nP in {1, 2, 3, 5} panels (N = nP * NR output columns: N mod 6
// is 0, 2 or 4, so the last group of 6 is full or has 2 or 4 columns), K in {1, 2, 3, 4, 5, 17, 256, 515} (every K
// mod 4, so the packer's zero rows past K and the kernel's reads of the state's padding are covered), with and
// without the seed I0, in place (C == I0) and not.
//
// Checked exactly: the packed layout (D[g][kb][jj][i] = W[col 6g + jj, 4kb + i], 0 past K and past N), and that
// nothing past the N columns of C is written (sentinel NaNs). Error bound as gemm.spec.ts: each output is a sum of
// K + 1 terms; with s = sum of the terms' magnitudes, |computed - exact| <= max(1e-5, 2 (K + 1) 2^-24) * s, above
// any rounding of a float32 sum in any order (the kernel sums four interleaved partial sums), so a failure means a
// wrong term. The reference is f64 from the same float32 inputs.

import { gemv_pack, gemv_forward, gemvFloats } from '../gemv';
import { allocF32, fillBits, fillRandom, getF, getBits, setF, SENTINEL, seed, BUILD } from './util';

const NRS: StaticArray<i32> = [12, 16];
const NPS: StaticArray<i32> = [1, 2, 3, 5];
const KS: StaticArray<i32> = [1, 2, 3, 4, 5, 17, 256, 515];

// @ts-ignore: decorator
@inline function q4(n: i32): i32 { return (n + 3) & ~3; }

describe('gemv_pack / gemv_forward', () => {
  it('packs the dot-product layout exactly and matches the f64 product within the rounding bound', () => {
    seed(11);
    let cases = 0, revCases = 0;
    let worst: f64 = 0;
    for (let ri = 0; ri < NRS.length; ri++) {
      const NR = NRS[ri];
      for (let pi = 0; pi < NPS.length; pi++) {
        const nP = NPS[pi], N = nP * NR;
        for (let ki = 0; ki < KS.length; ki++) {
          const K = KS[ki];
          const P = allocF32(nP * K * NR), A = allocF32(q4(K)), D = allocF32(gemvFloats(N, K));
          const C = allocF32(N + 8), I0 = allocF32(N + 8), keep = allocF32(N + 8);
          fillRandom(P, nP * K * NR);
          fillRandom(A, K);
          for (let k = K; k < q4(K); k++) setF(A, k, 0); // a state's padding is zero
          fillBits(D, gemvFloats(N, K), SENTINEL);
          gemv_pack(D, P, K, nP, NR);
          // The layout, every float of D.
          const G = (N + 5) / 6, KB = q4(K) >> 2;
          for (let g = 0; g < G; g++) {
            for (let kb = 0; kb < KB; kb++) {
              for (let jj = 0; jj < 6; jj++) {
                for (let i = 0; i < 4; i++) {
                  const c = g * 6 + jj, k = kb * 4 + i;
                  const want: f32 = c < N && k < K ? getF(P, ((c / NR) * K + k) * NR + c % NR) : 0;
                  const got = getF(D, ((g * KB + kb) * 6 + jj) * 4 + i);
                  if (reinterpret<u32>(got) != reinterpret<u32>(want)) {
                    expect<f32>(got).toBe(want, BUILD + ' D N=' + N.toString() + ' K=' + K.toString() + ' c=' +
                      c.toString() + ' k=' + k.toString());
                  }
                }
              }
            }
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
              for (let k = 0; k < K; k++) {
                const t = <f64>getF(P, ((c / NR) * K + k) * NR + c % NR) * <f64>getF(A, k);
                ref += t;
                s += Math.abs(t);
              }
              const err = Math.abs(<f64>getF(out, c) - ref);
              const tol = Math.max(1e-5, 2.0 * <f64>(K + 1) * Math.pow(2.0, -24)) * s;
              if (s > 0 && err / s > worst) worst = err / s;
              if (!(err <= tol)) {
                expect<f64>(err).toBeLessThanOrEqual(tol, BUILD + ' y N=' + N.toString() + ' K=' + K.toString() +
                  ' c=' + c.toString() + ' mode=' + mode.toString());
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
            revCases++;
            heap.free(rv);
            cases++;
          }
          heap.free(P); heap.free(A); heap.free(D); heap.free(C); heap.free(I0); heap.free(keep);
        }
      }
    }
    expect<i32>(cases).toBe(NRS.length * NPS.length * KS.length * 3);
    expect<i32>(revCases).toBe(cases);
    // The bound is loose by design; the kernel's worst relative error is rounding-sized.
    expect<bool>(worst < 1e-6).toBe(true, BUILD + ' worst err/s ' + worst.toString());
  });
});
