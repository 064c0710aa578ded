/**
 * Classical models (issue 6, "Classical bridges"): the linear Gaussian state-space model and its relatives.
 * @module
 */
export * from './state-space.js';

// --- linear RNN <-> state space <-> ARMAX / transfer function; least-squares fits (varma.ts, fit-linear.ts) ---
export {
  stateSpaceFromRnn, appendConstantInput, linearizedStateSpace, characteristicPolynomial, markovParameters,
  transferFunction, toArmax, simulateArmax, armaxPresample, simulateStateSpace,
} from './varma.js';
export type {
  Timing, LinearRnnWeights, StateSpaceFromRnnOptions, LinearizeOptions, LinearizedStateSpace,
  CharacteristicPolynomialOptions, TimingOptions, ComplexNumber, ComplexMatrix, TransferFunction, Armax,
  ArmaxPresample, NoiseSequences, SimulateArmaxOptions,
} from './varma.js';
export { fitStateSpaceLeastSquares, fitArx } from './fit-linear.js';
export type { StateSpaceData, StateSpaceFit, ArxOptions, ArxFit } from './fit-linear.js';

// --- Kalman filter, RTS smoother, maximum likelihood (EM), filter / smoother vs RNNs -----------------------------
export * from './kalman-index.js';

// --- hidden Markov models and their exact emulation by RNNs ------------------------------------------------------
export * from './hmm-index.js';
