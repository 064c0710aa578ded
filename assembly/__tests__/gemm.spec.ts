// gemm_forward and pack_forward / pack_backward against plain scalar loops.
//
// Table: the three cell geometries (G gates, U units per panel, NR panel width)
//   G=1 U=16 NR=16 (RNN), G=4 U=4 NR=16 (LSTM), G=3 U=4 NR=12 (GRU)
// crossed with M (rows), K (inner size) in {1, 2, 3, 5, 16, 17, 33, 517} and H (hidden units) in
// {1, 3, 5, 16, 17, 33},
// each with bias1 and bias2 present or absent (4 combinations) and accumulate 0 and 1.
// Even sizes are in the table too: M even runs only the 2-row tile, M odd adds the single-row tail; K even and
// odd take the two ends of the single-row loops (columns 0-11 split k into two accumulator sets, columns 12-15
// of a 16-wide panel into four, so K = 1, 2, 3, 5, 17 also cover every K mod 4 tail; K = 517 crosses two of the
// single row's 256-row blocks and ends in an odd tail).
//
// Error bound: each output is a sum of T = K + 3 terms (K products, up to two biases, the accumulated C).
// With s = sum of the terms' magnitudes, |computed - exact| must be <= max(1e-5, 2 T 2^-24) * s. The worst-case
// rounding bound of a float32 sum of T terms is about T * 2^-24 * s (2.1e-6 * s for K = 33, 3.1e-5 * s for
// K = 517, with or without fused multiply-add), so the tolerance is above any rounding the kernel can do and a
// failure means a wrong term.
// The reference is computed in f64 from the same float32 inputs.
//
// Also checked exactly: the packed layout (dst[(p*K + k)*NR + g*U + u] = W[g*H + p*U + u, k], zeros in
// padding), pack_backward(pack_forward(W)) == W bit for bit, padding columns of C (h >= H) hold exactly the
// accumulated C or 0, and the kernel writes nothing outside the M x nPanels*NR block of C.

import { gemm_forward } from '../gemm';
import { pack_forward, pack_backward } from '../pack';
import { allocF32, fillBits, fillRandom, getF, setF, getBits, SENTINEL, seed, fmt, BUILD } from './util';

const REL_TOL: f64 = 1e-5;

/** The bound for sums of K + 3 terms (see above). */
function relTol(K: i32): f64 {
  return Math.max(REL_TOL, 2.0 * <f64>(K + 3) * Math.pow(2.0, -24));
}

const MS: StaticArray<i32> = [1, 2, 3, 5, 16, 17, 33];
const KS: StaticArray<i32> = [1, 2, 3, 5, 16, 17, 33, 517];
const HS: StaticArray<i32> = [1, 3, 5, 16, 17, 33];

/** Largest err / s seen by the last runGemm call, and how many outputs it compared. */
let worstRatio: f64 = 0;
let checked: i32 = 0;

function caseName(G: i32, U: i32, NR: i32, M: i32, K: i32, H: i32, mask: i32, acc: i32): string {
  return "G=" + G.toString() + " U=" + U.toString() + " NR=" + NR.toString() + " M=" + M.toString() +
    " K=" + K.toString() + " H=" + H.toString() + " bias1=" + (mask & 1).toString() +
    " bias2=" + ((mask >> 1) & 1).toString() + " accumulate=" + acc.toString();
}

function runGemm(G: i32, U: i32, NR: i32): void {
  worstRatio = 0;
  checked = 0;
  seed(<u32>(G * 1000 + U * 10 + NR));
  for (let mi = 0; mi < MS.length; mi++) {
    for (let ki = 0; ki < KS.length; ki++) {
      for (let hi = 0; hi < HS.length; hi++) {
        const M = MS[mi], K = KS[ki], H = HS[hi];
        const nP = (H + U - 1) / U;
        const N = nP * NR;           // C columns written by the kernel
        const ldc = N + 4;           // 4 spare floats per row keep rows 16-byte aligned and catch overruns
        const lda = K + 3;           // odd stride; the 3 spare floats are NaN and must never be read
        const W = allocF32(G * H * K);
        const Bp = allocF32(nP * K * NR);
        const b1 = allocF32(G * H), b2 = allocF32(G * H);
        const pb1 = allocF32(N), pb2 = allocF32(N);
        const A = allocF32(M * lda);
        const C0 = allocF32((M + 1) * ldc);
        const C = allocF32((M + 1) * ldc);
        fillRandom(W, G * H * K);
        fillRandom(b1, G * H);
        fillRandom(b2, G * H);
        fillBits(A, M * lda, SENTINEL);
        for (let m = 0; m < M; m++) fillRandom(A + (<usize>(m * lda) << 2), K);
        fillRandom(C0, (M + 1) * ldc);
        pack_forward(Bp, W, G, H, K, U, NR);
        pack_forward(pb1, b1, G, H, 1, U, NR);
        pack_forward(pb2, b2, G, H, 1, U, NR);

        for (let mask = 0; mask < 4; mask++) {
          for (let acc = 0; acc < 2; acc++) {
            // C starts as C0 when accumulating, else as NaN (which would leak into the result if read).
            for (let i = 0; i < (M + 1) * ldc; i++) {
              const inBlock = i < M * ldc && (i % ldc) < N;
              store<u32>(C + (<usize>i << 2), acc || !inBlock ? getBits(C0, i) : SENTINEL);
            }
            const useB1 = (mask & 1) != 0, useB2 = (mask & 2) != 0;
            gemm_forward(C, ldc, A, lda, Bp, useB1 ? pb1 : 0, useB2 ? pb2 : 0, M, K, nP, NR, acc);

            for (let m = 0; m < M; m++) {
              const crow = m * ldc;
              for (let p = 0; p < nP; p++) {
                for (let g = 0; g < G; g++) {
                  for (let u = 0; u < U; u++) {
                    const col = p * NR + g * U + u;
                    const h = p * U + u;
                    const got = <f64>getF(C, crow + col);
                    if (h >= H) {
                      // Padding unit: zero weights and biases, so exactly C0 (accumulate) or 0.
                      const want = acc ? <f64>getF(C0, crow + col) : 0.0;
                      if (got != want) {
                        expect<f64>(got).toBe(want, "padding column " + col.toString() + " row " + m.toString() +
                          " in " + caseName(G, U, NR, M, K, H, mask, acc));
                      }
                      continue;
                    }
                    const row = g * H + h;
                    let ref: f64 = 0, s: f64 = 0;
                    if (acc) { const c = <f64>getF(C0, crow + col); ref += c; s += Math.abs(c); }
                    if (useB1) { const b = <f64>getF(b1, row); ref += b; s += Math.abs(b); }
                    if (useB2) { const b = <f64>getF(b2, row); ref += b; s += Math.abs(b); }
                    for (let k = 0; k < K; k++) {
                      const t = <f64>getF(A, m * lda + k) * <f64>getF(W, row * K + k);
                      ref += t;
                      s += Math.abs(t);
                    }
                    const err = Math.abs(got - ref);
                    if (!(err <= relTol(K) * s)) {
                      expect<f64>(err).toBeLessThanOrEqual(relTol(K) * s, "C[" + m.toString() + ", " + col.toString() +
                        "] = " + fmt(got) + ", reference " + fmt(ref) + " in " + caseName(G, U, NR, M, K, H, mask, acc));
                    }
                    if (s > 0 && err / s > worstRatio) worstRatio = err / s;
                    checked++;
                  }
                }
              }
              // Columns G*U..NR of each panel (none for these geometries) and the row's spare floats.
              for (let p = 0; p < nP; p++) {
                for (let j = G * U; j < NR; j++) {
                  const want = acc ? <f64>getF(C0, crow + p * NR + j) : 0.0;
                  expect<f64>(<f64>getF(C, crow + p * NR + j)).toBe(want, "unused panel column");
                }
              }
              for (let j = N; j < ldc; j++) {
                if (getBits(C, crow + j) != getBits(C0, crow + j)) {
                  expect<u32>(getBits(C, crow + j)).toBe(getBits(C0, crow + j), "wrote past column nPanels*NR in " +
                    caseName(G, U, NR, M, K, H, mask, acc));
                }
              }
            }
            for (let j = 0; j < ldc; j++) {
              if (getBits(C, M * ldc + j) != getBits(C0, M * ldc + j)) {
                expect<u32>(getBits(C, M * ldc + j)).toBe(getBits(C0, M * ldc + j), "wrote row M in " +
                  caseName(G, U, NR, M, K, H, mask, acc));
              }
            }
          }
        }
        heap.free(C); heap.free(C0); heap.free(A); heap.free(pb2); heap.free(pb1);
        heap.free(b2); heap.free(b1); heap.free(Bp); heap.free(W);
      }
    }
  }
}

function runPack(G: i32, U: i32, NR: i32): void {
  seed(<u32>(G * 7 + U * 3 + NR));
  checked = 0;
  for (let ki = 0; ki < KS.length; ki++) {
    for (let hi = 0; hi < HS.length; hi++) {
      const K = KS[ki], H = HS[hi];
      const nP = (H + U - 1) / U;
      const n = G * H * K;
      const size = nP * K * NR;
      const W = allocF32(n);
      const P = allocF32(size + 4);
      const back = allocF32(n + 4);
      fillRandom(W, n);
      // A few values whose bits a conversion would change: -0, a NaN with payload, infinities, a subnormal.
      if (n > 1) store<u32>(W + 4, 0x80000000);
      if (n > 2) store<u32>(W + 8, 0x7fa12345);
      if (n > 3) setF(W, 3, -Infinity);
      if (n > 4) store<u32>(W + 16, 0x00000003);
      fillBits(P, size + 4, SENTINEL);
      pack_forward(P, W, G, H, K, U, NR);
      // Layout, checked entry by entry.
      for (let p = 0; p < nP; p++) {
        for (let k = 0; k < K; k++) {
          for (let j = 0; j < NR; j++) {
            const g = j / U, u = j % U, h = p * U + u;
            const got = getBits(P, (p * K + k) * NR + j);
            const want: u32 = g < G && h < H ? getBits(W, (g * H + h) * K + k) : 0;
            if (got != want) {
              expect<u32>(got).toBe(want, "packed[" + p.toString() + "][" + k.toString() + "][" + j.toString() +
                "] with G=" + G.toString() + " U=" + U.toString() + " NR=" + NR.toString() + " K=" + K.toString() +
                " H=" + H.toString());
            }
            checked++;
          }
        }
      }
      for (let i = size; i < size + 4; i++) expect<u32>(getBits(P, i)).toBe(SENTINEL, "pack_forward overran");
      // Round trip, bit for bit.
      fillBits(back, n + 4, SENTINEL);
      pack_backward(back, P, G, H, K, U, NR);
      for (let i = 0; i < n; i++) {
        if (getBits(back, i) != getBits(W, i)) {
          expect<u32>(getBits(back, i)).toBe(getBits(W, i), "round trip at " + i.toString() + " with G=" +
            G.toString() + " U=" + U.toString() + " NR=" + NR.toString() + " K=" + K.toString() + " H=" + H.toString());
        }
      }
      for (let i = n; i < n + 4; i++) expect<u32>(getBits(back, i)).toBe(SENTINEL, "pack_backward overran");
      heap.free(back); heap.free(P); heap.free(W);
    }
  }
}

function report(name: string): void {
  log<string>(name + ": " + checked.toString() + " outputs, max |error| / sum|terms| = " + fmt(worstRatio) +
    " (bound max(1e-5, 2 (K + 3) 2^-24)) " + BUILD);
}

describe("gemm_forward vs scalar triple loop", () => {
  it("G=1 U=16 NR=16", () => {
    runGemm(1, 16, 16);
    report("G=1 U=16 NR=16");
    expect<i32>(checked).toBeGreaterThan(0);
  });
  it("G=4 U=4 NR=16", () => {
    runGemm(4, 4, 16);
    report("G=4 U=4 NR=16");
    expect<i32>(checked).toBeGreaterThan(0);
  });
  it("G=3 U=4 NR=12", () => {
    runGemm(3, 4, 12);
    report("G=3 U=4 NR=12");
    expect<i32>(checked).toBeGreaterThan(0);
  });
});

describe("pack_forward layout and pack_backward round trip", () => {
  it("G=1 U=16 NR=16", () => {
    runPack(1, 16, 16);
    expect<i32>(checked).toBeGreaterThan(0);
  });
  it("G=4 U=4 NR=16", () => {
    runPack(4, 4, 16);
    expect<i32>(checked).toBeGreaterThan(0);
  });
  it("G=3 U=4 NR=12", () => {
    runPack(3, 4, 12);
    expect<i32>(checked).toBeGreaterThan(0);
  });
});
