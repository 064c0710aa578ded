/**
 * The nonlinear-dynamics analysis modules: cell maps and their Jacobians, impulse responses, fixed points and
 * bias continuation, gradient flow, SNR and forget-gate time constants (all float64, on a model's weights).
 * @module
 */
export * from './cell-map.js';
export * from './dynamics.js';
export * from './gradient-flow.js';
export * from './signals.js';
