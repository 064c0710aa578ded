/**
 * Experiments (issue 9): every claim of the theory this library implements, as a runnable function with typed
 * parameters that returns its data, plot specifications and a verdict with the measured numbers.
 * `rnn-wasm experiments` runs them and writes one HTML page; the demo page runs them live.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { Experiment, ExperimentResult } from './types.js';
// One import per experiment, in the list's order.
import { memoryPulse } from './memory-pulse.js';
import { fixedPointsBias } from './fixed-points-bias.js';
import { lyapunovDecrease } from './lyapunov-decrease.js';
import { memoryModes } from './memory-modes.js';
import { controllabilityObservability } from './controllability-observability.js';
import { vanishingExploding } from './vanishing-exploding.js';
import { eulerStability } from './euler-stability.js';
import { jacobianPaths } from './jacobian-paths.js';
import { rnnFilterSnr } from './rnn-filter-snr.js';
import { linearRnnVarma } from './linear-rnn-varma.js';
import { hmmEmulation } from './hmm-emulation.js';
import { lstmLeakyIntegrator } from './lstm-leaky-integrator.js';
import { longRangeMemory } from './long-range-memory.js';
import { filterVsSmoother } from './filter-vs-smoother.js';

export * from './types.js';
export { renderExperimentsHtml, renderPlotSvg } from './render.js';
// One export line per experiment, in the list's order.
export { memoryPulse } from './memory-pulse.js';
export type { MemoryPulseData } from './memory-pulse.js';
export { fixedPointsBias, halfLifeCrossing } from './fixed-points-bias.js';
export type { FixedPointsBiasData } from './fixed-points-bias.js';
export { lyapunovDecrease } from './lyapunov-decrease.js';
export type { LyapunovDecreaseData } from './lyapunov-decrease.js';
export { memoryModes } from './memory-modes.js';
export type { MemoryModesData } from './memory-modes.js';
export { controllabilityObservability, leastSquaresResidual } from './controllability-observability.js';
export type { ControllabilityObservabilityData } from './controllability-observability.js';
export { vanishingExploding } from './vanishing-exploding.js';
export type { VanishingExplodingData } from './vanishing-exploding.js';
export { eulerStability } from './euler-stability.js';
export type { EulerStabilityData, ProbeRun } from './euler-stability.js';
export { jacobianPaths } from './jacobian-paths.js';
export type { JacobianPathsData } from './jacobian-paths.js';
export { rnnFilterSnr } from './rnn-filter-snr.js';
export type { RnnFilterSnrData } from './rnn-filter-snr.js';
export { linearRnnVarma } from './linear-rnn-varma.js';
export type { LinearRnnVarmaData } from './linear-rnn-varma.js';
export { hmmEmulation } from './hmm-emulation.js';
export type { HmmEmulationData } from './hmm-emulation.js';
export { lstmLeakyIntegrator } from './lstm-leaky-integrator.js';
export type { LstmLeakyIntegratorData } from './lstm-leaky-integrator.js';
export { longRangeMemory } from './long-range-memory.js';
export type { LongRangeMemoryData, LongRangeRun } from './long-range-memory.js';
export { filterVsSmoother } from './filter-vs-smoother.js';
export type { FilterVsSmootherData } from './filter-vs-smoother.js';

/** Every experiment, in the list's order (issue 9's numbering). */
export const experiments: readonly Experiment[] = [
  memoryPulse,
  fixedPointsBias,
  lyapunovDecrease,
  memoryModes,
  controllabilityObservability,
  vanishingExploding,
  eulerStability,
  jacobianPaths,
  rnnFilterSnr,
  linearRnnVarma,
  hmmEmulation,
  lstmLeakyIntegrator,
  longRangeMemory,
  filterVsSmoother,
] as unknown as readonly Experiment[];

/** The experiment with this registry name. */
export function getExperiment(name: string): Experiment {
  const e = experiments.find((x) => x.name === name);
  if (!e) {
    throw new InvalidArgumentError('name', `unknown experiment '${String(name)}'; expected one of ${experiments.map((x) => x.name).join(', ')}`);
  }
  return e;
}

/** Runs one experiment by name with the given parameters (defaults for the rest). */
export function runExperiment(name: string, params: Record<string, number | string> = {}): ExperimentResult {
  return getExperiment(name).run(params as never);
}
