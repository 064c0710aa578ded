/**
 * The ABI of the WebAssembly module (assembly/index.ts), typed. Every pointer is a byte offset into the one
 * linear memory, every size a count of elements.
 * @module
 */

/** Exports of `build/rnn-*.wasm`. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  copy_f32(dst: number, src: number, n: number): void;
  uniform_fill(dst: number, n: number, lo: number, hi: number, state: number): void;
  zero_f32(dst: number, n: number): void;
  tanh_f32(x: number): number;
  sigmoid_f32(x: number): number;
  exp_f32(x: number): number;
  activation_forward(y: number, x: number, n: number, act: number): void;
  gemm_forward(
    C: number, ldc: number, A: number, lda: number, Bp: number, bias1: number, bias2: number,
    M: number, K: number, nPanels: number, NR: number, accumulate: number,
  ): void;
  pack_forward(dst: number, src: number, G: number, H: number, K: number, U: number, NR: number): void;
  pack_backward(dst: number, src: number, G: number, H: number, K: number, U: number, NR: number): void;
  /** W_hh's batch-1 dot-product layout (assembly/gemv.ts) from its panels. */
  gemv_pack(D: number, P: number, K: number, nP: number, NR: number): void;
  /** y = (I0) + W a with W in gemv_pack's layout, N output columns. */
  gemv_forward(C: number, I0: number, A: number, D: number, N: number, K: number, reverse: number): void;
  rnn_forward(
    out: number, ldo: number, hN: number, x: number, ldx: number, h0: number,
    Wih: number, Whh: number, bih: number, bhh: number, lengths: number, scratch: number, dot: number,
    T: number, B: number, I: number, H: number, act: number, reverse: number, train: number,
  ): void;
  rnn_scratch_bytes(T: number, B: number, H: number, train: number): number;
  /** Bytes of the batch-1 layout rnn_forward takes for T steps of B rows (0: the panel path), for `dot`. */
  rnn_dot_bytes(T: number, B: number, H: number): number;
  lstm_forward(
    out: number, ldo: number, hN: number, cN: number, x: number, ldx: number, h0: number, c0: number,
    Wih: number, Whh: number, bih: number, bhh: number, Whr: number, lengths: number, scratch: number,
    dot: number, T: number, B: number, I: number, H: number, P: number, reverse: number, train: number,
  ): void;
  lstm_scratch_bytes(T: number, B: number, H: number, P: number, train: number): number;
  /** Bytes of the batch-1 layout lstm_forward takes for T steps of B rows (0: the panel path), for `dot`. */
  lstm_dot_bytes(T: number, B: number, H: number, P: number): number;
  gru_forward(
    out: number, ldo: number, hN: number, x: number, ldx: number, h0: number,
    Wih: number, Whh: number, bih: number, bhh: number, lengths: number, scratch: number, dot: number,
    T: number, B: number, I: number, H: number, reverse: number, train: number, resetBefore: number,
  ): void;
  gru_scratch_bytes(T: number, B: number, H: number, train: number): number;
  /** Bytes of the batch-1 layout gru_forward takes for T steps of B rows (0: the panel path), for `dot`. */
  gru_dot_bytes(T: number, B: number, H: number, resetBefore: number): number;
  gemm_tn_forward(
    C: number, At: number, ldat: number, G: number, ldg: number, R: number, K: number, nPanels: number,
    NR: number, accumulate: number, work: number,
  ): void;
  /** dW_1 += G^T S_1, dW_2 += G^T S_2 (packed), b1 (+ b2) += column sums of G, one pass (assembly/gemm.ts). */
  gemm_tn_nat(
    C1: number, S1: number, lds1: number, K1: number, C2: number, S2: number, lds2: number, K2: number,
    b1: number, b2: number, G: number, ldg: number, R: number, nPanels: number, NR: number, work: number, rb: number,
  ): void;
  gemm_tn_nat_work_floats(K: number, rb: number): number;
  pack_transpose(dst: number, src: number, K: number, nP: number, NR: number): void;
  transpose_f32(dst: number, ldd: number, src: number, lds: number, rows: number, cols: number): void;
  add_rows(dst: number, ldd: number, src: number, lds: number, rows: number, cols: number, accumulate: number): void;
  colsum_forward(dst: number, dst2: number, src: number, lds: number, rows: number, n: number, accumulate: number): void;
  lstm_backward(
    dX: number, lddx: number, accDx: number, dh0: number, dc0: number,
    dWih: number, dWhh: number, dbih: number, dbhh: number, dWhr: number,
    dOut: number, ldo: number, dhN: number, dcN: number,
    x: number, ldx: number, Wih: number, Whh: number, Whr: number, lengths: number,
    scratch: number, bscratch: number, T: number, B: number, I: number, H: number, P: number, reverse: number,
    dhnorm: number,
  ): void;
  lstm_backward_scratch_bytes(T: number, B: number, I: number, H: number, P: number): number;
  gru_backward(
    dX: number, lddx: number, accDx: number, dh0: number,
    dWih: number, dWhh: number, dbih: number, dbhh: number,
    dOut: number, ldo: number, dhN: number,
    x: number, ldx: number, Wih: number, Whh: number, lengths: number,
    scratch: number, bscratch: number, T: number, B: number, I: number, H: number, reverse: number,
    dhnorm: number, resetBefore: number,
  ): void;
  gru_backward_scratch_bytes(T: number, B: number, I: number, H: number): number;
  rnn_backward(
    dX: number, lddx: number, accDx: number, dh0: number,
    dWih: number, dWhh: number, dbih: number, dbhh: number,
    dOut: number, ldo: number, dhN: number,
    x: number, ldx: number, Wih: number, Whh: number, lengths: number,
    scratch: number, bscratch: number, T: number, B: number, I: number, H: number, act: number, reverse: number,
    dhnorm: number,
  ): void;
  rnn_backward_scratch_bytes(T: number, B: number, I: number, H: number): number;
  sgd_update(param: number, grad: number, momentumBuf: number, n: number, lr: number, momentum: number,
    dampening: number, weightDecay: number, nesterov: number, firstStep: number): void;
  adam_update(param: number, grad: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, step: number, decoupled: number): void;
  clip_by_value(grad: number, n: number, clip: number): void;
  sum_squares(x: number, n: number): number;
  max_abs(x: number, n: number): number;
  scale(x: number, n: number, s: number): void;
  has_nonfinite(x: number, n: number): number;
  /** MSE gradient (scale * (pred - target), in f64, rounded once) into grad (may be target); returns the sum of squares. */
  mse_backward(grad: number, pred: number, target: number, n: number, scale: number): number;
  ACT_IDENTITY: WebAssembly.Global;
  ACT_TANH: WebAssembly.Global;
  /** Floats of input projection an inference pass keeps at once (seq.ts). */
  CHUNK_FLOATS: WebAssembly.Global;
  /** Forward flag (the `train` argument of the *_forward kernels): keep activations for backward. */
  FWD_TRAIN: WebAssembly.Global;
  /** Forward flag: batch-1 calls of at least GEMV_MIN_T steps may take the dot-product path (gemv.ts). */
  FWD_GEMV: WebAssembly.Global;
  /** Forward flag: the batch-1 layout is the caller's block `dot`, outside the scratch (gemv.ts). */
  FWD_DOT_EXT: WebAssembly.Global;
  /** Forward flag (with FWD_DOT_EXT): `dot` already holds this W_hh's layout; the call does not repack it. */
  FWD_DOT_VALID: WebAssembly.Global;
  /** Forward flag: the call's first step reads W_hh's batch-1 layout last to first (gemv.ts); same results. */
  FWD_ODD: WebAssembly.Global;
  /** Fewest steps of a batch-1 call that take the dot-product path. */
  GEMV_MIN_T: WebAssembly.Global;
  /** Largest dot-product layout (floats) that path is taken for; larger W_hh keep the panel path. */
  GEMV_MAX_FLOATS: WebAssembly.Global;
  /** Floats of work buffer gemm_tn_forward needs. */
  GEMM_TN_WORK_FLOATS: WebAssembly.Global;
  ACT_SIGMOID: WebAssembly.Global;
  ACT_RELU: WebAssembly.Global;
  RNN_U: WebAssembly.Global;
  RNN_NR: WebAssembly.Global;
  LSTM_U: WebAssembly.Global;
  LSTM_NR: WebAssembly.Global;
  PROJ_U: WebAssembly.Global;
  GRU_U: WebAssembly.Global;
  GRU_NR: WebAssembly.Global;
}
