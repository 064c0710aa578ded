// Pieces of backpropagation through time shared by rnn.ts, lstm.ts and gru.ts.
//
// The backward pass walks the steps in the reverse of the order the forward pass took them. Per step it turns
// dL/dh_t into the gradients of the cell's pre-activations dA_t (B, Np, the packed gate layout, written over the
// saved gates) and passes dh_{t-1} = dA_t W_hh back through a transposed packing of W_hh. Weight gradients are
// not accumulated per step: once all dA_t are known they are single GEMMs over all T*B rows,
// dW = dA^T [h_{t-1} or x_t], written straight into the packed layout of W (see gemm_tn_forward).

import { add_rows, copy_f32, zero_f32 } from './simd';
import { gemm_forward, gemm_tn_nat, gemm_tn_nat3, gemm_tn_nat_work_floats } from './gemm';
import { isActive } from './seq';

/** dh[b] += dOut[t, b, 0:n] for the rows active at t (an inactive row's output is a constant zero). */
export function addUpstream(dh: usize, ldh: i32, dOutT: usize, ldo: i32, n: i32, lengths: usize, t: i32,
                            B: i32): void {
  if (dOutT == 0) return;
  for (let b = 0; b < B; b++) {
    if (isActive(lengths, b, t)) {
      add_rows(dh + (<usize>(b * ldh) << 2), ldh, dOutT + (<usize>(b * ldo) << 2), ldo, 1, n, 1);
    }
  }
}

/**
 * Prepares dh_{t-1} before the recurrent product is accumulated into it: zero for active rows; an inactive row
 * held its state through t, so its gradient passes through unchanged (and its dA_t is zero).
 */
export function prepareNext(next: usize, cur: usize, ld: i32, lengths: usize, t: i32, B: i32): void {
  for (let b = 0; b < B; b++) {
    const n = next + (<usize>(b * ld) << 2);
    if (isActive(lengths, b, t)) zero_f32(n, ld);
    else copy_f32(n, cur + (<usize>(b * ld) << 2), ld);
  }
}

/** Rows per block of the weight-gradient GEMM: a 256 x 16 block of G (16 KiB) stays in L1 beside the streams. */
const WG_RB: i32 = 256;

/** Floats of the At scratch for inputs of at most K columns over R rows (gemm_tn_nat's work; R: not needed). */
// @ts-ignore: decorator
@inline export function weightGradScratch(K: i32, R: i32): usize {
  return <usize>gemm_tn_nat_work_floats(K, WG_RB);
}

/**
 * dW (packed, nP panels of K x NR) += G^T S, with S (R, lds) the K-column inputs of W and G (R, ldg). scratch
 * holds weightGradScratch(K, R) floats. gemm_tn_nat transposes S a block of rows at a time (4 x 4 in registers)
 * instead of the whole (K, R) transpose gemm_tn_forward takes, which was a scalar pass of 0.8-3 MiB per weight.
 */
export function weightGrad(dW: usize, S: usize, lds: i32, K: i32, G: usize, ldg: i32, R: i32, nP: i32, NR: i32,
                           scratch: usize): void {
  if (dW == 0) return;
  gemm_tn_nat(dW, S, lds, K, 0, 0, 0, 0, 0, 0, G, ldg, R, nP, NR, scratch, WG_RB);
}

/**
 * weightGrad for dWhh (inputs h, Kh columns) and dWih (inputs x, I columns) from the same G, and the bias
 * gradients db1 (+ db2 when non-zero: b_ih and b_hh get the same gradient) += the column sums of G (db1 may be 0:
 * no biases), in one pass over G instead of three. scratch holds weightGradScratch(max(Kh, I), R) floats.
 */
export function weightGrads(dWhh: usize, h: usize, ldh: i32, Kh: i32, dWih: usize, x: usize, ldx: i32, I: i32,
                            db1: usize, db2: usize, G: usize, ldg: i32, R: i32, nP: i32, NR: i32,
                            scratch: usize): void {
  gemm_tn_nat(dWhh, h, ldh, Kh, dWih, x, ldx, I, db1, db2, G, ldg, R, nP, NR, scratch, WG_RB);
}

/**
 * weightGrads for the reset-before GRU: dWhh's columns 0..7 of each 12-wide panel (r, z) from h, columns 8..11 (n)
 * from rh = r * h_{t-1} (both (R, ldh), Kh columns), with dWih and the biases, in one pass over G.
 */
export function weightGradsSplit(dWhh: usize, h: usize, rh: usize, ldh: i32, Kh: i32, dWih: usize, x: usize,
                                 ldx: i32, I: i32, db1: usize, db2: usize, G: usize, ldg: i32, R: i32, nP: i32,
                                 scratch: usize): void {
  gemm_tn_nat3(dWhh, h, ldh, Kh, rh, ldh, dWih, x, ldx, I, db1, db2, G, ldg, R, nP, 12, scratch, WG_RB);
}

/** dX (R, lddx; I columns) (+)= G WihT, with WihT the transposed packing of W_ih (gemm panels of 16). */
export function inputGrad(dX: usize, lddx: i32, accumulate: i32, G: usize, Np: i32, WihT: usize, R: i32, I: i32,
                          tmp: usize): void {
  if (dX == 0) return;
  const Iq = ((I + 15) >> 4) << 4;
  gemm_forward(tmp, Iq, G, Np, WihT, 0, 0, R, Np, Iq >> 4, 16, 0);
  add_rows(dX, lddx, tmp, Iq, R, I, accumulate);
}

/** out[t] = ||dh||_2 over the B rows' first n columns: the norm of dL/dh_t recorded per step (0 = not asked). */
export function recordNorm(out: usize, t: i32, dh: usize, ld: i32, n: i32, B: i32): void {
  if (out == 0) return;
  let s: f64 = 0;
  for (let b = 0; b < B; b++) {
    const row = dh + (<usize>(b * ld) << 2);
    for (let c = 0; c < n; c++) {
      const v = <f64>load<f32>(row + (<usize>c << 2));
      s += v * v;
    }
  }
  store<f32>(out + (<usize>t << 2), <f32>Math.sqrt(s));
}
