// Weight packing between PyTorch's layout and the kernels' panel layout (see gemm.ts).
//
// A PyTorch weight of G stacked gates, shape (G*H, K), row g*H + h, becomes nP = ceil(H/U) panels of
// NR = G*U columns (NR padded to 12 or 16 by the caller's choice of U), column g*U + u of panel p holding hidden
// unit p*U + u of gate g:
//   dst[(p*K + k)*NR + g*U + u] = src[(g*H + p*U + u)*K + k], zero when p*U + u >= H.
// A bias is the same with K = 1. Gradients use the same layout, so optimizers run on packed arrays and only
// import and export convert.

/** Packs src (G*H, K) into dst (nP panels of K x NR). dst must hold ceil(H/U)*K*NR floats. */
export function pack_forward(dst: usize, src: usize, G: i32, H: i32, K: i32, U: i32, NR: i32): void {
  const nP = (H + U - 1) / U;
  memory.fill(dst, 0, <usize>(nP * K * NR) << 2);
  for (let g = 0; g < G; g++) {
    for (let h = 0; h < H; h++) {
      const p = h / U, u = h - p * U;
      const srow = src + (<usize>((g * H + h) * K) << 2);
      const dcol = dst + (<usize>(p * K * NR + g * U + u) << 2);
      for (let k = 0; k < K; k++) {
        store<f32>(dcol + (<usize>(k * NR) << 2), load<f32>(srow + (<usize>k << 2)));
      }
    }
  }
}

/** The inverse of pack_forward: dst (G*H, K) from packed src. */
export function pack_backward(dst: usize, src: usize, G: i32, H: i32, K: i32, U: i32, NR: i32): void {
  for (let g = 0; g < G; g++) {
    for (let h = 0; h < H; h++) {
      const p = h / U, u = h - p * U;
      const drow = dst + (<usize>((g * H + h) * K) << 2);
      const scol = src + (<usize>(p * K * NR + g * U + u) << 2);
      for (let k = 0; k < K; k++) {
        store<f32>(drow + (<usize>k << 2), load<f32>(scol + (<usize>(k * NR) << 2)));
      }
    }
  }
}

/**
 * The transpose of a packed matrix as packed panels of 16: src holds M (Np x K, Np = nP*NR, column c = p*NR + j of
 * panel p being row c of M); dst receives panels of M^T for gemm_forward, ceil(K/16) panels of Np rows x 16:
 *   dst[(q*Np + c)*16 + kk] = M[c, q*16 + kk], zero for q*16 + kk >= K.
 * The backward pass multiplies gradients by W (not W^T) through it: dh_{t-1} = dA_t W_hh, dx = dA W_ih.
 */
export function pack_transpose(dst: usize, src: usize, K: i32, nP: i32, NR: i32): void {
  const Np = nP * NR;
  const nQ = (K + 15) >> 4;
  memory.fill(dst, 0, <usize>(nQ * Np * 16) << 2);
  for (let p = 0; p < nP; p++) {
    for (let k = 0; k < K; k++) {
      const q = k >> 4, kk = k & 15;
      const s = src + (<usize>((p * K + k) * NR) << 2);
      const d = dst + (<usize>((q * Np + p * NR) * 16 + kk) << 2);
      for (let j = 0; j < NR; j++) {
        store<f32>(d + (<usize>(j * 16) << 2), load<f32>(s + (<usize>j << 2)));
      }
    }
  }
}

/** dst (cols x rows, row stride ldd) = src^T for src (rows x cols, row stride lds). Strides in floats. */
export function transpose_f32(dst: usize, ldd: i32, src: usize, lds: i32, rows: i32, cols: i32): void {
  // 4 x 4 blocks through registers would be faster; this runs once per backward pass per weight, not per step.
  for (let r0 = 0; r0 < rows; r0 += 32) {
    const r1 = min(rows, r0 + 32);
    for (let c = 0; c < cols; c++) {
      const d = dst + (<usize>(c * ldd) << 2);
      for (let r = r0; r < r1; r++) {
        store<f32>(d + (<usize>r << 2), load<f32>(src + (<usize>(r * lds + c) << 2)));
      }
    }
  }
}
