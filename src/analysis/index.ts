/**
 * Analysis of recurrent nets as dynamical systems (float64, independent of the WebAssembly engine).
 * @module
 */

// ---- linear algebra core ---------------------------------------------------------------------------------------
export type { ComplexArray, MatrixInput } from './linalg.js';

// ---- linear analysis: spectra, transient growth, modes ----------------------------------------------------------
export { modalDecomposition, spectrum, transientGrowth } from './spectra.js';
export type {
  Complex, ModalDecomposition, ModalOptions, Mode, SpectrumResult, TransientGrowthOptions, TransientGrowthResult,
} from './spectra.js';

// ---- linear analysis: Lyapunov equations and certificates -------------------------------------------------------
export {
  LYAPUNOV_DIRECT_MAX_N, lyapunovCertificate, lyapunovFunction, lyapunovValue, solveDiscreteLyapunov,
} from './lyapunov.js';
export type { DiscreteLyapunovOptions, LyapunovCertificate, LyapunovCertificateOptions } from './lyapunov.js';

// ---- linear analysis: controllability, observability, Gramians --------------------------------------------------
export {
  controllability, controllabilityGramian, controllabilityMatrix, controllableSubspace, observability,
  observabilityGramian, observabilityMatrix, observableSubspace, unobservableSubspace,
} from './control.js';
export type {
  ControlMethod, ControlOptions, GramianOptions, RankOptions, RankResult, StaircaseRankResult, SubspaceOptions,
  SubspaceResult,
} from './control.js';

// ---- linear analysis: frequency response ------------------------------------------------------------------------
export { frequencyResponse } from './frequency.js';
export type { FrequencyResponse, FrequencyResponseOptions, StateSpaceSystem } from './frequency.js';

// ---- nonlinear analysis: cell maps, fixed points, gradient flow, signals ----------------------------------------
export * from './dynamics-index.js';

// ---- Lyapunov certificate checked on the nonlinear net ----------------------------------------------------------
export { lyapunovAlongTrajectories } from './lyapunov-trajectories.js';
export type { LyapunovTrajectoryCheck, LyapunovTrajectoryOptions } from './lyapunov-trajectories.js';

// ---- report (text, HTML with SVG plots) ---------------------------------------------------------------------------
export { analyzeModel, formatReport, renderReportHtml } from './report.js';
export type { AnalysisReport, AnalyzeOptions, BlockSpectrum } from './report.js';
export { linePlot, scatterPlot } from './svg.js';
export type { LineSeries, PlotOptions, ScatterPoint } from './svg.js';
