/**
 * The analysis report: one call that opens up a model (spectra of its recurrent weights, fixed points and their
 * stability, the linearization's controllability, observability and frequency response, a Lyapunov certificate,
 * forget-gate time constants, the gradient-flow verdict), as a typed object, as text, and as a self-contained
 * HTML page with SVG plots. The `rnn-wasm analyze` command prints the text and writes the HTML.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { RecurrentLayer } from '../nn/recurrent.js';
import { SequenceModel } from '../nn/sequence-model.js';
import { Random } from '../nn/random.js';
import { Matrix, type ComplexArray } from './linalg.js';
import { spectrum, type SpectrumResult } from './spectra.js';
import { controllability, observability } from './control.js';
import { frequencyResponse, type FrequencyResponse } from './frequency.js';
import { lyapunovCertificate } from './lyapunov.js';
import { cellMap, type CellMap } from './cell-map.js';
import { fixedPoints, type FixedPoint } from './dynamics.js';
import { gradientFlow, type GradientFlow } from './gradient-flow.js';
import { forgetGateTimeConstants } from './signals.js';
import { escapeXml, linePlot, PALETTE, scatterPlot } from './svg.js';

/** Options of {@link analyzeModel}. */
export interface AnalyzeOptions {
  /** Layer to analyse (default 0). */
  layer?: number;
  /** Direction of a bidirectional layer (0 forward, 1 reverse; default 0). */
  direction?: number;
  /**
   * Input sequence (T x inputSize of the analysed layer) for the gradient flow and the forget gates. Default:
   * `steps` draws of a standard normal from `seed`.
   */
  input?: number[][];
  /** Length of the default input sequence (default 100). */
  steps?: number;
  /** Seed of the default input and of the fixed-point starts (default 1). */
  seed?: number;
  /** Newton starts for the fixed points (default 48). */
  fixedPointStarts?: number;
  /** Gradient threshold for the lag at which the gradient is called vanished (default 1e-3). */
  threshold?: number;
  /** Frequency grid points on [0, pi] (default 128). */
  frequencyPoints?: number;
}

/** Spectrum of one H x H block of W_hh (the whole matrix for a vanilla RNN, one gate's block otherwise). */
export interface BlockSpectrum {
  /** `W_hh` for a vanilla RNN, else `W_h<gate>` (LSTM gates i, f, g, o; GRU r, z, n). */
  name: string;
  /** Eigenvalues, singular values, spectral radius and norm, condition number of the block. */
  spectrum: SpectrumResult;
}

/** What {@link analyzeModel} returns. */
export interface AnalysisReport {
  /** The model's architecture and what was analysed. */
  model: {
    /** Cell mode ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'). */
    mode: string;
    /** The model's input size (of layer 0). */
    inputSize: number;
    /** Hidden size H. */
    hiddenSize: number;
    /** Stacked layers. */
    numLayers: number;
    /** 1 or 2. */
    numDirections: number;
    /** Analysed layer. */
    layer: number;
    /** Analysed direction. */
    direction: number;
    /** State size of the analysed map: H, or 2H for an LSTM (state (h, c)). */
    stateSize: number;
    /** What C reads: the model's linear head (top layer, one direction) or the hidden state h. */
    readout: 'head' | 'hidden';
  };
  /** Spectra of the recurrent weight blocks. */
  weights: BlockSpectrum[];
  /** Fixed points for zero input. */
  fixedPoints: FixedPoint[];
  /** The linearization at the first stable fixed point (else the first fixed point, else the origin). */
  linearization: {
    /** Where: `fixed point k` or `origin`. */
    at: string;
    /** The state s the cell map was linearized at. */
    state: Float64Array;
    /** Spectrum of the state Jacobian A = ds_t/ds_{t-1}. */
    spectrum: SpectrumResult;
    /**
     * Dimension of the controllable subspace of (A, B) (B = ds_t/dx_t) out of n, by the orthogonal staircase
     * (`controllability(A, B, { method: 'staircase' })`), with its Krylov-step deflation tolerance n ||A||_1 eps.
     * The staircase never forms [B, AB, ..., A^(n-1) B], whose SVD rank under-counts when the powers decay.
     */
    controllability: { rank: number; n: number; tolerance: number; method: 'staircase' };
    /** Dimension of the observable subspace of (A, C) (C the readout) out of n, by the staircase on (A^T, C^T). */
    observability: { rank: number; n: number; tolerance: number; method: 'staircase' };
    /**
     * V(s) = (s - s*)^T P (s - s*) with A^T P A - P = -I certifies local stability when P > 0. minEigenvalue is
     * P's smallest eigenvalue (null when P was not computed: spectral radius >= 1, or the solve failed).
     */
    lyapunov: { certified: boolean; minEigenvalue: number | null; reason: string };
    /** H(e^{jw}) from input 0 to the first outputs (at most 4). */
    frequency: FrequencyResponse;
  };
  /** LSTM only: forget-gate time constants over the input sequence. */
  timeConstants: { unit: number; meanForget: number; tau: number; halfLife: number }[] | null;
  /** ||prod_{t=k+1}^{T} ds_t/ds_{t-1}||_2 against the lag T - k over the input sequence, with the verdict. */
  gradientFlow: GradientFlow;
}

function defaultInput(T: number, I: number, seed: number): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: T }, () => Array.from({ length: I }, () => rng.normal()));
}

const GATES: Record<string, string[]> = { LSTM: ['i', 'f', 'g', 'o'], GRU: ['r', 'z', 'n'] };

/**
 * Analyses one layer and direction of a model (a recurrent layer, or a {@link SequenceModel} whose head then
 * serves as the readout C when the top layer is analysed).
 */
export function analyzeModel(model: RecurrentLayer | SequenceModel, options: AnalyzeOptions = {}): AnalysisReport {
  const seq = model instanceof SequenceModel ? model : null;
  const rnn = seq ? seq.rnn : (model as RecurrentLayer);
  const layer = options.layer ?? 0, direction = options.direction ?? 0;
  const seed = options.seed ?? 1;
  const cell: CellMap = cellMap(rnn, { layer, direction });
  const H = rnn.hiddenSize, n = cell.stateSize, I = cell.inputSize;

  const sd = rnn.stateDict();
  const whh = sd[`weight_hh_l${layer}${direction ? '_reverse' : ''}`]!;
  const gates = GATES[rnn.mode] ?? [''];
  const weights: BlockSpectrum[] = gates.map((g, k) => {
    const rows: number[][] = [];
    for (let i = 0; i < H; i++) rows.push(Array.from(whh.data.subarray((k * H + i) * H, (k * H + i + 1) * H)));
    return { name: g ? `W_h${g}` : 'W_hh', spectrum: spectrum(rows) };
  });

  const zero = new Float64Array(I);
  const fps = fixedPoints(cell, { input: zero, starts: options.fixedPointStarts ?? 48, seed });
  const k = fps.findIndex((f) => f.stability === 'stable');
  const at = k >= 0 ? k : fps.length > 0 ? 0 : -1;
  const s0 = at >= 0 ? Float64Array.from(fps[at]!.state) : new Float64Array(n);
  const { A, B } = cell.jacobian(s0, zero);

  // Readout: the head's weight on h when the head reads this layer's states, else h itself (for an LSTM the
  // state is (h, c) and C reads only h).
  const useHead = seq !== null && layer === rnn.numLayers - 1 && rnn.numDirections === 1;
  const head = useHead ? seq!.head.stateDict() : null;
  const p = useHead ? seq!.head.outFeatures : H;
  const C = new Matrix(p, n);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < H; j++) C.set(i, j, head ? head['weight']!.data[i * H + j]! : i === j ? 1 : 0);
  }
  const ctrb = controllability(A, B, { method: 'staircase' });
  const obsv = observability(A, C, { method: 'staircase' });
  const linSpec = spectrum(A);
  let lyap: AnalysisReport['linearization']['lyapunov'];
  if (linSpec.spectralRadius >= 1) {
    // A^T P A - P = -I has no positive definite solution then (V would have to decrease along a mode that
    // does not decay); the solve is skipped rather than reported as a numerical failure.
    lyap = { certified: false, minEigenvalue: null, reason: `spectral radius ${g4(linSpec.spectralRadius)} >= 1: ` +
      'no positive definite P exists' };
  } else {
    try {
      const c = lyapunovCertificate(A);
      lyap = { certified: c.certified, minEigenvalue: c.minEigenvalue,
        reason: c.certified ? 'P > 0' : 'P is not positive definite' };
    } catch (e) {
      lyap = { certified: false, minEigenvalue: null, reason: e instanceof Error ? e.message : String(e) };
    }
  }
  const outs = Math.min(4, p);
  const freq = frequencyResponse({ A, B: B.subMatrix(0, n - 1, 0, 0), C: C.subMatrix(0, outs - 1, 0, n - 1) },
    { points: options.frequencyPoints ?? 128, method: 'hessenberg' });

  const input = options.input ?? defaultInput(options.steps ?? 100, I, seed);
  if (input.length === 0 || input.some((r) => r.length !== I)) {
    throw new InvalidArgumentError('options.input', `expected T rows of ${I} numbers (the layer's input size)`);
  }
  const flow = gradientFlow(cell, input, { threshold: options.threshold ?? 1e-3 });
  let timeConstants: AnalysisReport['timeConstants'] = null;
  if (rnn.mode === 'LSTM') {
    const tc = forgetGateTimeConstants(cell, input);
    timeConstants = tc.units.map((u, unit) => ({ unit, meanForget: u.meanForget, tau: u.tau, halfLife: u.halfLife }));
  }
  return {
    model: {
      mode: rnn.mode, inputSize: rnn.inputSize, hiddenSize: H, numLayers: rnn.numLayers,
      numDirections: rnn.numDirections, layer, direction, stateSize: n, readout: useHead ? 'head' : 'hidden',
    },
    weights,
    fixedPoints: fps,
    linearization: {
      at: at >= 0 ? `fixed point ${at}` : 'origin',
      state: s0,
      spectrum: linSpec,
      controllability: { rank: ctrb.rank, n, tolerance: ctrb.tolerance, method: 'staircase' },
      observability: { rank: obsv.rank, n, tolerance: obsv.tolerance, method: 'staircase' },
      lyapunov: lyap,
      frequency: freq,
    },
    timeConstants,
    gradientFlow: flow,
  };
}

const g4 = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));

function eigLine(e: ComplexArray, max = 6): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(max, e.re.length); i++) {
    const im = e.im[i]!;
    parts.push(im === 0 ? g4(e.re[i]!) : `${g4(e.re[i]!)}${im < 0 ? '-' : '+'}${g4(Math.abs(im))}j`);
  }
  return parts.join(', ') + (e.re.length > max ? `, ... (${e.re.length})` : '');
}

/** The report as plain text (what `rnn-wasm analyze` prints). */
export function formatReport(r: AnalysisReport): string {
  const m = r.model, L: string[] = [];
  L.push(`${m.mode} input ${m.inputSize}, hidden ${m.hiddenSize}, ${m.numLayers} layer(s), ${m.numDirections} direction(s); ` +
    `analysing layer ${m.layer}, direction ${m.direction} (state size ${m.stateSize})`);
  L.push('', 'Recurrent weights:');
  for (const w of r.weights) {
    const s = w.spectrum;
    L.push(`  ${w.name.padEnd(5)} spectral radius ${g4(s.spectralRadius)}, norm ${g4(s.spectralNorm)}, ` +
      `condition ${g4(s.conditionNumber)}; eigenvalues ${eigLine(s.eigenvalues)}`);
  }
  L.push('', `Fixed points (zero input): ${r.fixedPoints.length}`);
  r.fixedPoints.slice(0, 10).forEach((f, i) => {
    const h = Array.from(f.hidden.slice(0, 4), g4).join(', ') + (f.hidden.length > 4 ? ', ...' : '');
    L.push(`  ${i}: ${f.stability.padEnd(8)} |lambda|max ${g4(f.spectralRadius)}, half-life ${g4(f.halfLife)} steps; h* = [${h}]`);
  });
  const lin = r.linearization;
  L.push('', `Linearization at the ${lin.at}: spectral radius ${g4(lin.spectrum.spectralRadius)}`);
  L.push(`  controllability rank ${lin.controllability.rank} of ${lin.controllability.n}, observability rank ` +
    `${lin.observability.rank} of ${lin.observability.n} (readout: ${m.readout}; orthogonal staircase, tolerance n*||A||_1*eps)`);
  const ly = lin.lyapunov;
  L.push(`  Lyapunov (A^T P A - P = -I): ${ly.certified ? 'certified' : 'not certified'}: ${ly.reason}` +
    (ly.minEigenvalue === null ? '' : ` (smallest eigenvalue of P ${g4(ly.minEigenvalue)})`));
  const fr = lin.frequency;
  const mag = fr.magnitude.map((row) => row[0]!);
  L.push(`  |H(e^jw)| from input 0: ` + mag.map((v, i) => `output ${i} ${g4(v[0]!)} at w=0, ${g4(v[v.length - 1]!)} at w=pi`).join('; '));
  if (r.timeConstants) {
    const taus = r.timeConstants.map((t) => t.tau).sort((a, b) => a - b);
    const q = (f: number): number => taus[Math.min(taus.length - 1, Math.floor(f * taus.length))]!;
    L.push('', `Forget-gate time constants (steps): median ${g4(q(0.5))}, 10% ${g4(q(0.1))}, 90% ${g4(q(0.9))}, max ${g4(taus[taus.length - 1]!)}`);
  }
  const gf = r.gradientFlow;
  L.push('', `Gradient flow over ${gf.norms.length} steps: ${gf.verdict} (slope ${g4(gf.slopePerStep)} decades per step` +
    `${gf.lagBelowThreshold === null ? '' : `, below the threshold after ${gf.lagBelowThreshold} steps`})`);
  return L.join('\n');
}

function table(head: string[], rows: (string | number)[][]): string {
  const th = head.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(typeof c === 'number' ? g4(c) : c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

/** The report as a self-contained HTML page (inline CSS and SVG, no scripts, no external resources). */
export function renderReportHtml(r: AnalysisReport, title = 'rnn-wasm analysis'): string {
  const m = r.model;
  const eigPoints = r.weights.flatMap((w, k) => Array.from(w.spectrum.eigenvalues.re, (re, i) => ({
    x: re, y: w.spectrum.eigenvalues.im[i]!, color: PALETTE[k % PALETTE.length]!,
    label: `${w.name}: ${g4(re)} ${w.spectrum.eigenvalues.im[i]! < 0 ? '-' : '+'} ${g4(Math.abs(w.spectrum.eigenvalues.im[i]!))}j`,
  })));
  const lin = r.linearization;
  const jacPoints = Array.from(lin.spectrum.eigenvalues.re, (re, i) => ({
    x: re, y: lin.spectrum.eigenvalues.im[i]!, color: PALETTE[1]!, marker: 'ring' as const,
    label: `Jacobian: ${g4(re)} ${lin.spectrum.eigenvalues.im[i]! < 0 ? '-' : '+'} ${g4(Math.abs(lin.spectrum.eigenvalues.im[i]!))}j`,
  }));
  const gf = r.gradientFlow;
  const fr = lin.frequency;
  const fpPoints = r.fixedPoints.map((f, i) => ({
    x: f.hidden[0] ?? 0, y: f.hidden[1] ?? 0,
    color: f.stability === 'stable' ? PALETTE[2]! : f.stability === 'unstable' ? PALETTE[1]! : PALETTE[3]!,
    marker: f.stability === 'stable' ? ('dot' as const) : f.stability === 'unstable' ? ('cross' as const) : ('ring' as const),
    label: `fixed point ${i}: ${f.stability}, |lambda|max ${g4(f.spectralRadius)}`,
  }));
  const plots = [
    scatterPlot(eigPoints, { title: 'Eigenvalues of the recurrent weights', xLabel: 'Re', yLabel: 'Im', unitCircle: true,
      legend: r.weights.map((w, k) => ({ name: w.name, color: PALETTE[k % PALETTE.length]! })) }),
    scatterPlot(jacPoints, { title: `Eigenvalues of the Jacobian at the ${lin.at}`, xLabel: 'Re', yLabel: 'Im', unitCircle: true }),
    linePlot([{ name: '||prod dh_t/dh_{t-1}||', x: gf.lags, y: gf.norms }], {
      title: 'Gradient norm against lag', xLabel: 'lag T - k (steps)', yLabel: 'spectral norm', logY: true,
    }),
    linePlot(fr.magnitude.map((row, i) => ({ name: `output ${i}`, x: fr.omega, y: row[0]! })), {
      title: 'Frequency response |H(e^jw)| from input 0', xLabel: 'w (rad/step)', yLabel: '|H|', logY: true,
    }),
    scatterPlot(fpPoints, {
      title: 'Fixed points (h1, h2)', xLabel: 'h1', yLabel: m.hiddenSize > 1 ? 'h2' : '0',
      legend: [{ name: 'stable', color: PALETTE[2]!, marker: 'dot' }, { name: 'unstable', color: PALETTE[1]!, marker: 'cross' },
        { name: 'saddle / marginal', color: PALETTE[3]!, marker: 'ring' }],
    }),
  ];
  const weightsTable = table(['block', 'spectral radius', 'spectral norm', 'condition'],
    r.weights.map((w) => [w.name, w.spectrum.spectralRadius, w.spectrum.spectralNorm, w.spectrum.conditionNumber]));
  const fpTable = table(['#', 'stability', '|lambda|max', 'half-life (steps)', 'residual'],
    r.fixedPoints.map((f, i) => [String(i), f.stability, f.spectralRadius, f.halfLife, f.residual]));
  const tcTable = r.timeConstants
    ? table(['unit', 'mean f', 'tau (steps)', 'half-life (steps)'],
      r.timeConstants.map((t) => [String(t.unit), t.meanForget, t.tau, t.halfLife]))
    : '';
  const text = formatReport(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:sans-serif;max-width:1020px;margin:2em auto;color:#222}
.plots{display:flex;flex-wrap:wrap;gap:12px}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body>
<h1>${escapeXml(title)}</h1>
<p>${escapeXml(`${m.mode}, input ${m.inputSize}, hidden ${m.hiddenSize}, ${m.numLayers} layer(s), ${m.numDirections} direction(s); layer ${m.layer}, direction ${m.direction}.`)}</p>
<div class="plots">${plots.join('\n')}</div>
<h2>Recurrent weights</h2>${weightsTable}
<h2>Fixed points (zero input)</h2>${fpTable}
${tcTable ? `<h2>Forget-gate time constants</h2>${tcTable}` : ''}
<h2>Summary</h2><pre>${escapeXml(text)}</pre>
</body></html>
`;
}
