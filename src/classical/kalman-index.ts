/**
 * The Kalman filter, RTS smoother, EM fitting and the filter/smoother/RNN comparison (issue 6, "Classical
 * bridges"), re-exported for the package entry.
 * @module
 */
export { kalmanFilter, rtsSmoother } from './kalman.js';
export type {
  KalmanFilterOptions, KalmanFilterResult, RtsSmootherOptions, RtsSmootherResult, SeriesInput,
} from './kalman.js';
export { stateSpaceLogLikelihood, fitStateSpaceEm } from './fit-ml.js';
export type { EmParameter, FitStateSpaceEmOptions, FitStateSpaceEmResult } from './fit-ml.js';
export { compareFilterSmootherRnn, oscillatorModel } from './compare-rnn.js';
export type { FilterSmootherRnnComparison, FilterSmootherRnnOptions } from './compare-rnn.js';
