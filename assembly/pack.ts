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
