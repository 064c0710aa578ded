// panel_cols (a column subset of a panel: 8 or 4 columns, panel rows ldp bytes apart) against a scalar f64 loop.
//
// Table: NV in {2 (8 columns), 1 (4 columns)} x ldp in {48 (columns of a 12-wide panel read in place, at column
// offsets 0 and 8 as the GRU's reset-before step reads them; 16-byte aligned starts), 16*NV (a contiguous
// block)} x M in {1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 32, 33} x K in {1, 2, 3, 4, 5, 17, 256, 259}, with the seed
// (I0, in place: C == I0) and the bias on and off. M covers every tile (4 and 3 rows for 8 columns, 6 for 4,
// the 2-row tiles after them) and the single odd last row; K covers each k-set tail of the single row.
// Error bound as gemm.spec.ts: |computed - exact| <= max(1e-5, 2 T 2^-24) * s, T = K + 2 terms, s the sum of
// their magnitudes; the reference is f64 from the same float32 inputs. Also checked: columns outside the
// 4*NV written ones and the rows after M keep their bits, and every row of M rows is bit-identical to the same
// row computed in a call on the even sub-batches a thread split makes (rows [0, 2j) and [2j, M)).

import { panel_cols } from '../gemm';
import { allocF32, fillBits, fillRandom, getF, getBits, seed, SENTINEL, BUILD } from './util';

const MS: StaticArray<i32> = [1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 32, 33];
const KS: StaticArray<i32> = [1, 2, 3, 4, 5, 17, 256, 259];

function tol(K: i32): f64 {
  return Math.max(1e-5, 2.0 * <f64>(K + 2) * Math.pow(2.0, -24));
}

let worstAll: f64 = 0;

function run(NV: i32, wide: bool, j0: i32): void {
  worstAll = 0;
  seed(<u32>(NV * 100 + (wide ? 10 : 0) + j0));
  const NC = NV * 4;
  const pw = wide ? 12 : NC;          // floats per panel row
  const ldp = <usize>pw << 2;
  const ldc = 12;                     // C rows as 12-wide tiles (the step's layout); columns j0 .. j0+NC written
  for (let mi = 0; mi < MS.length; mi++) {
    for (let ki = 0; ki < KS.length; ki++) {
      const M = MS[mi], K = KS[ki];
      const lda = K + 3;
      const A = allocF32(M * lda), P = allocF32(K * pw + 4), b = allocF32(NC);
      const C0 = allocF32((M + 1) * ldc), C = allocF32((M + 1) * ldc), Cs = allocF32((M + 1) * ldc);
      fillBits(A, M * lda, SENTINEL);
      for (let m = 0; m < M; m++) fillRandom(A + (<usize>(m * lda) << 2), K);
      fillRandom(P, K * pw);
      fillRandom(b, NC);
      fillRandom(C0, (M + 1) * ldc);
      const pOff: i32 = wide ? j0 : 0;
      const Pc = P + (<usize>pOff << 2);
      for (let mode = 0; mode < 4; mode++) {
        const useSeed = (mode & 1) != 0, useBias = (mode & 2) != 0;
        memory.copy(C, C0, <usize>((M + 1) * ldc) << 2);
        const c = C + (<usize>j0 << 2);
        panel_cols(c, ldc << 2, c, ldc << 2, useSeed, useBias ? b : 0, A, <usize>lda << 2, Pc, ldp, M, K, NV);
        const what = BUILD + " NV=" + NV.toString() + " ldp=" + ldp.toString() + " j0=" + j0.toString() + " M=" +
          M.toString() + " K=" + K.toString() + " seed=" + (useSeed ? "1" : "0") + " bias=" + (useBias ? "1" : "0");
        let unselected = 0, overM = 0, worst: f64 = 0, at = "";
        for (let m = 0; m < M; m++) {
          for (let j = 0; j < 12; j++) {
            const idx = m * ldc + j;
            if (j < j0 || j >= j0 + NC) {
              if (getBits(C, idx) != getBits(C0, idx)) unselected++;
              continue;
            }
            const jj = j - j0;
            let want: f64 = 0, s: f64 = 0;
            if (useSeed) { const v = <f64>getF(C0, idx); want += v; s += Math.abs(v); }
            if (useBias) { const v = <f64>getF(b, jj); want += v; s += Math.abs(v); }
            for (let k = 0; k < K; k++) {
              const v = <f64>getF(A, m * lda + k) * <f64>getF(Pc, k * pw + jj);
              want += v; s += Math.abs(v);
            }
            const r = Math.abs(<f64>getF(C, idx) - want) / (s + 1e-30);
            if (!(r <= worst)) { worst = r; at = "C[" + m.toString() + ", " + jj.toString() + "]"; }
          }
        }
        for (let j = 0; j < ldc; j++) if (getBits(C, M * ldc + j) != getBits(C0, M * ldc + j)) overM++;
        expect<f64>(worst).toBeLessThanOrEqual(tol(K), "worst at " + at + " " + what);
        expect<i32>(unselected).toBe(0, "wrote an unselected column: " + what);
        expect<i32>(overM).toBe(0, "wrote row M: " + what);
        if (worst > worstAll) worstAll = worst;
        // The split a thread pool makes: even sizes first, any odd row last.
        for (let split = 2; split < M; split += 2) {
          memory.copy(Cs, C0, <usize>((M + 1) * ldc) << 2);
          const cs = Cs + (<usize>j0 << 2), lc = <usize>ldc << 2, la = <usize>lda << 2;
          panel_cols(cs, lc, cs, lc, useSeed, useBias ? b : 0, A, la, Pc, ldp, split, K, NV);
          panel_cols(cs + <usize>split * lc, lc, cs + <usize>split * lc, lc, useSeed, useBias ? b : 0,
                     A + <usize>split * la, la, Pc, ldp, M - split, K, NV);
          let diff = 0;
          for (let i = 0; i < M * ldc; i++) if (getBits(Cs, i) != getBits(C, i)) diff++;
          expect<i32>(diff).toBe(0, "split at " + split.toString() + " is not bit-identical: " + what);
        }
      }
      heap.free(A); heap.free(P); heap.free(b); heap.free(C0); heap.free(C); heap.free(Cs);
    }
  }
  log<string>("panel_cols NV=" + NV.toString() + " ldp=" + ldp.toString() + ": max |error| / sum|terms| = " +
    worstAll.toString() + " " + BUILD);
}

describe("panel_cols", () => {
  test("8 columns of a 12-wide panel in place (ldp 48, columns 0-7)", () => { run(2, true, 0); });
  test("4 columns of a 12-wide panel in place (ldp 48, columns 8-11)", () => { run(1, true, 8); });
  test("8 columns, contiguous block (ldp 32)", () => { run(2, false, 0); });
  test("4 columns, contiguous block (ldp 16)", () => { run(1, false, 8); });
});
