// Pieces shared by the sequence drivers of every cell (rnn.ts, lstm.ts, gru.ts).
//
// Layout conventions (all strides in floats):
// - x: (T, B, ldx), time-major; row t*B + b. Layer 0 reads the user's input, later layers the previous output.
// - out: (T, B, ldo); a direction writes Hout columns starting at its own column offset (the caller offsets
//   the pointer), so a bidirectional layer fills [forward | reverse] exactly as PyTorch concatenates them.
// - State slots: inference ping-pongs two slots (the state after s steps is in slot s & 1). Training keeps all
//   T + 1 states in time order for the backward pass: forward, the state after time t is in slot t + 1 and h0 in
//   slot 0; reverse, the state after time t is in slot t and h0 in slot T. Either way the states entering times
//   0..T-1 are T consecutive slots (from slot 0 forward, slot 1 reverse), which lets the weight gradients be
//   single GEMMs over all time steps. Each slot is B rows of a padded width, and the padding columns stay zero
//   because padded weights and biases are zero.
// - lengths (i32[B], optional): at time t a row is active when t < lengths[b]. An inactive row keeps its state
//   and outputs zeros. Forward this freezes a finished sequence at its own last step; reverse it holds h0 until
//   the sequence's own last element is reached, which is how PyTorch runs packed sequences backwards.

import { copy_f32, zero_f32 } from './simd';

/**
 * Floats of input projection kept at once in inference: 64 Ki floats (256 KiB) bounds scratch for long inputs and
 * keeps the chunk in L2 between the GEMM that writes it and the steps that read it (4 MiB measured no faster).
 */
export const CHUNK_FLOATS: i32 = 1 << 16;

// @ts-ignore: decorator
@inline export function chunkSteps(T: i32, rowFloats: i32): i32 {
  let c = CHUNK_FLOATS / max(rowFloats, 1);
  if (c < 1) c = 1;
  return c < T ? c : T;
}

// @ts-ignore: decorator
@inline export function slotOf(s: i32, train: bool, reverse: bool, T: i32): i32 {
  return train ? (reverse ? T - s : s) : (s & 1);
}

// @ts-ignore: decorator
@inline export function isActive(lengths: usize, b: i32, t: i32): bool {
  return lengths == 0 || t < load<i32>(lengths + (<usize>b << 2));
}

/** Copies an initial state (B rows of n floats, row stride n) into a padded slot, or zeros it. */
export function loadState(slot: usize, ld: i32, src: usize, n: i32, B: i32): void {
  zero_f32(slot, B * ld);
  if (src == 0) return;
  for (let b = 0; b < B; b++) {
    copy_f32(slot + (<usize>(b * ld) << 2), src + (<usize>(b * n) << 2), n);
  }
}

/** Copies the final state out of a padded slot into B rows of n floats. */
export function storeState(dst: usize, slot: usize, ld: i32, n: i32, B: i32): void {
  if (dst == 0) return;
  for (let b = 0; b < B; b++) {
    copy_f32(dst + (<usize>(b * n) << 2), slot + (<usize>(b * ld) << 2), n);
  }
}

/** Rows inactive at time t keep their previous state: next[b] = prev[b]. */
export function holdInactive(next: usize, prev: usize, ld: i32, lengths: usize, t: i32, B: i32): void {
  if (lengths == 0) return;
  for (let b = 0; b < B; b++) {
    if (!isActive(lengths, b, t)) {
      copy_f32(next + (<usize>(b * ld) << 2), prev + (<usize>(b * ld) << 2), ld);
    }
  }
}

/**
 * out[t, b, 0:n] = state row b (or zeros where the row is inactive). When the slot's rows and out's are both n
 * wide and every row is active, the step's rows are one block: one memory.copy, which V8 runs as the C library's
 * memmove (for 32 KiB on x64 glibc's `rep movsb` path, whose fast-string stores may skip reading the destination
 * lines first; the vector loop's stores read each line of the output, which the step has not touched, before
 * writing it: the likely reason, not isolated further). Batch-32 forwards
 * (32 KiB of output per step at hidden 256): RNN 1.00-1.04x, LSTM and GRU 1.00-1.01x (bench/forward-ab, paired,
 * two runs, 2026-12-05 Xeon; the same bits). The copy's share is larger than its instructions: a build writing no
 * output ran RNN H256 B32 1.05x faster, one zero-filling it (memory.fill) 1.02x.
 */
export function storeOutput(outT: usize, ldo: i32, slot: usize, ld: i32, n: i32, lengths: usize, t: i32,
                            B: i32): void {
  if (lengths == 0 && ld == n && ldo == n) {
    memory.copy(outT, slot, <usize>(B * n) << 2);
    return;
  }
  for (let b = 0; b < B; b++) {
    const dst = outT + (<usize>(b * ldo) << 2);
    if (isActive(lengths, b, t)) copy_f32(dst, slot + (<usize>(b * ld) << 2), n);
    else zero_f32(dst, n);
  }
}
