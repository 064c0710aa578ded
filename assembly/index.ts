// The ABI: this file only re-exports. Every export takes byte offsets into the one linear memory and sizes.
export { heap_base } from './arena';
export { copy_f32, zero_f32 } from './simd';
export { tanh_f32, sigmoid_f32, exp_f32, activation_forward, ACT_IDENTITY, ACT_TANH, ACT_SIGMOID, ACT_RELU }
  from './activations';
export { gemm_forward } from './gemm';
export { CHUNK_FLOATS } from './seq';
export {
  FWD_TRAIN, FWD_GEMV, FWD_DOT_EXT, FWD_DOT_VALID, FWD_ODD, GEMV_MIN_T, GEMV_MAX_FLOATS, gemv_pack, gemv_forward,
} from './gemv';
export { pack_forward, pack_backward } from './pack';
export { rnn_forward, rnn_scratch_bytes, rnn_dot_bytes, RNN_U, RNN_NR } from './rnn';
export { lstm_forward, lstm_scratch_bytes, lstm_dot_bytes, LSTM_U, LSTM_NR, PROJ_U } from './lstm';
export { gru_forward, gru_scratch_bytes, gru_dot_bytes, GRU_U, GRU_NR } from './gru';
export { gemm_tn_forward, GEMM_TN_WORK_FLOATS, gemm_tn_nat, gemm_tn_nat_work_floats } from './gemm';
export { pack_transpose, transpose_f32 } from './pack';
export { add_rows, colsum_forward } from './simd';
export { lstm_backward, lstm_backward_scratch_bytes } from './lstm';
export { gru_backward, gru_backward_scratch_bytes } from './gru';
export { rnn_backward, rnn_backward_scratch_bytes } from './rnn';
export * from './optim';
export { mse_backward } from './loss';
export { uniform_fill } from './random';
