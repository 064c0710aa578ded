/**
 * Signals through the recurrence: the signal-to-noise ratio a cell passes on, and the memory time constants of an
 * LSTM's forget gates. Float64 on the cell map (see {@link CellMap}); the WebAssembly engine is not used.
 * @module
 */
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import { Random } from '../nn/random.js';
import { RecurrentLayer } from '../nn/recurrent.js';
import { cellAndInputs, runCellMap, toSequence, type LayerSelection, type SequenceInput, type StateInput } from './cell-map.js';
import type { DynamicsTarget } from './dynamics.js';
import { toMatrix, type MatrixInput } from './linalg.js';

/** Options of {@link snr}. */
export interface SnrOptions extends LayerSelection {
  /** The clean input x_t: T x I (a flat array of T numbers when I = 1). */
  signal: SequenceInput;
  /** Standard deviation sigma of the white Gaussian noise added to every input entry at every step. */
  noiseStd: number;
  /** Seed of the noise (default 0; xoshiro128** with Box-Muller). */
  seed?: number;
  /** Read-out matrix C (rows x outputSize): the output is y_t = C h_t instead of h_t. */
  readout?: MatrixInput;
  /** Initial state of both runs (default zeros). */
  state0?: StateInput;
  /** Steps at the start left out of every power (a transient), default 0. */
  discard?: number;
}

/** Result of {@link snr}; powers are means of squares over the steps t > discard and all components. */
export interface SnrResult {
  /** P_x = mean x_t^2 of the clean input. */
  inputSignalPower: number;
  /** P_n = mean n_t^2 of the noise actually drawn. */
  inputNoisePower: number;
  /** 10 log10(P_x / P_n). */
  inputSnrDb: number;
  /** P_y = mean y_t^2 of the clean run's output (h_t, or C h_t with a readout). */
  signalPower: number;
  /** P_e = mean (y~_t - y_t)^2: the noise at the output is the noisy run's output minus the clean run's. */
  noisePower: number;
  /** 10 log10(P_y / P_e) (the state's SNR, or the readout's). */
  stateSnrDb: number;
  /** stateSnrDb - inputSnrDb: positive when the cell improves the SNR. */
  gainDb: number;
  /** P_y / P_x. */
  signalGain: number;
  /** P_e / P_n. */
  noiseGain: number;
  /** Steps that count (T - discard). */
  steps: number;
}

const db = (r: number): number => 10 * Math.log10(r);

/**
 * Runs the cell on the clean input x_t and on x_t + n_t (n_t white Gaussian, std noiseStd), from the same state;
 * the noise at the output is the difference of the two runs' outputs. For a linear scalar cell
 * h_t = a h_{t-1} + x_t driven by a sinusoid of angular frequency w, the gain tends to
 * (1 - a^2) / |1 - a e^{-jw}|^2 (signal gain |H(e^{jw})|^2, white-noise gain 1 / (1 - a^2)).
 */
export function snr(target: DynamicsTarget, options: SnrOptions): SnrResult {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected { signal, noiseStd }');
  const sigma = options.noiseStd;
  if (typeof sigma !== 'number' || !(sigma > 0) || !Number.isFinite(sigma)) {
    throw new InvalidArgumentError('options.noiseStd', `expected a positive finite number, got ${String(sigma)}`);
  }
  const inSize = target instanceof RecurrentLayer ? target.inputSize : (target as { inputSize: number }).inputSize;
  const clean = toSequence('options.signal', options.signal, inSize);
  const T = clean.length;
  const discard = options.discard ?? 0;
  if (!Number.isInteger(discard) || discard < 0 || discard >= T) {
    throw new InvalidArgumentError('options.discard', `expected an integer in [0, ${T - 1}], got ${String(discard)}`);
  }
  const rng = new Random(options.seed ?? 0);
  const noisy = clean.map((x) => Float64Array.from(x, (v) => v + sigma * rng.normal()));
  const a = cellAndInputs(target, clean, options), b = cellAndInputs(target, noisy, options);
  const map = a.map;
  const C = options.readout === undefined ? null : toMatrix('options.readout', options.readout, { cols: map.outputSize });
  const hc = runCellMap(map, a.inputs, options.state0).hidden;
  const hn = runCellMap(map, b.inputs, options.state0).hidden;
  const out = (h: Float64Array): Float64Array => {
    if (!C) return h;
    return Float64Array.from({ length: C.rows }, (_, r) => {
      let v = 0;
      for (let k = 0; k < h.length; k++) v += C.get(r, k) * h[k]!;
      return v;
    });
  };
  // For the reverse direction the runs are in the cell's (reversed) time order; the window is over model time.
  const rev = target instanceof RecurrentLayer && (options.direction ?? 0) === 1;
  let px = 0, pn = 0, py = 0, pe = 0, nx = 0, ny = 0;
  for (let t = discard; t < T; t++) {
    for (let i = 0; i < inSize; i++) {
      px += clean[t]![i]! ** 2; pn += (noisy[t]![i]! - clean[t]![i]!) ** 2; nx++;
    }
    const ct = rev ? T - 1 - t : t;
    const yc = out(hc[ct]!), yn = out(hn[ct]!);
    for (let r = 0; r < yc.length; r++) { py += yc[r]! ** 2; pe += (yn[r]! - yc[r]!) ** 2; ny++; }
  }
  px /= nx; pn /= nx; py /= ny; pe /= ny;
  const inputSnrDb = db(px / pn), stateSnrDb = db(py / pe);
  return {
    inputSignalPower: px, inputNoisePower: pn, inputSnrDb, signalPower: py, noisePower: pe, stateSnrDb,
    gainDb: stateSnrDb - inputSnrDb, signalGain: py / px, noiseGain: pe / pn, steps: T - discard,
  };
}

/** Options of {@link forgetGateTimeConstants}. */
export interface ForgetGateOptions extends LayerSelection {
  /** Duration of one step (default 1): time constants are in the units of dt. */
  dt?: number;
  /** Initial state [h; c] (default zeros). */
  state0?: StateInput;
  /** Number of logarithmic bins of the histogram of tau (default 10). */
  bins?: number;
}

/** Time constants of one LSTM unit. */
export interface ForgetGateUnit {
  /** mean_t f_t. */
  meanForget: number;
  /** tau = -dt / ln(mean f): c decays as e^{-t / tau} when f stays at its mean (Infinity when mean f = 1). */
  tau: number;
  /** tau ln 2: the time for c to halve at the mean gate. */
  halfLife: number;
  /** Quantiles 0.1, 0.5, 0.9 of f_t over the steps (linear interpolation, numpy's default). */
  fQuantiles: [number, number, number];
  /** Quantiles 0.1, 0.5, 0.9 of the per-step tau_t = -dt / ln f_t. */
  tauQuantiles: [number, number, number];
}

/** Result of {@link forgetGateTimeConstants}. */
export interface ForgetGateTimeConstants {
  /** One entry per unit. */
  units: ForgetGateUnit[];
  /** The forget gate values f_t (T x H). */
  forget: Float64Array[];
  /** Histogram of the units' tau in logarithmic bins: edges (bins + 1, increasing) and counts. */
  histogram: { edges: Float64Array; counts: Int32Array; infinite: number };
}

/** Quantile with linear interpolation between order statistics (numpy's default): position p (n - 1). */
export function quantile(values: ArrayLike<number>, p: number): number {
  const v = Float64Array.from(values).sort();
  if (v.length === 0) throw new InvalidArgumentError('values', 'expected at least one value');
  const pos = p * (v.length - 1), lo = Math.floor(pos), hi = Math.min(v.length - 1, lo + 1);
  const w = pos - lo;
  if (v[hi] === Infinity) return w === 0 ? v[lo]! : Infinity;
  return v[lo]! + w * (v[hi]! - v[lo]!);
}

/**
 * The memory time constants of an LSTM's forget gates observed over a sequence: the cell state obeys
 * c_t = f_t c_{t-1} + i_t g_t, so with f held at its mean a unit forgets as (mean f)^t = e^{-t dt / tau},
 * tau = -dt / ln(mean f). Also the spread of f_t and of tau_t = -dt / ln f_t (quantiles) and a log-binned
 * histogram of the units' tau.
 * @throws {UnsupportedError} when the cell is not an LSTM
 */
export function forgetGateTimeConstants(lstm: DynamicsTarget, input: SequenceInput,
                                        options: ForgetGateOptions = {}): ForgetGateTimeConstants {
  const { map, inputs } = cellAndInputs(lstm, input, options);
  if (map.mode !== 'LSTM') throw new UnsupportedError(`forgetGateTimeConstants needs an LSTM cell, got ${map.mode}`);
  const dt = options.dt ?? 1;
  if (!(dt > 0) || !Number.isFinite(dt)) throw new InvalidArgumentError('options.dt', `expected a positive finite number, got ${dt}`);
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) throw new InvalidArgumentError('options.bins', `expected an integer >= 1, got ${bins}`);
  const run = runCellMap(map, inputs, options.state0);
  const forget = run.gates.map((g) => g.f!);
  const H = map.hiddenSize, T = forget.length;
  const tauOf = (f: number): number => -dt / Math.log(f);
  const units: ForgetGateUnit[] = [];
  for (let u = 0; u < H; u++) {
    const fs = Float64Array.from({ length: T }, (_, t) => forget[t]![u]!);
    let mean = 0;
    for (const f of fs) mean += f;
    mean /= T;
    const taus = fs.map(tauOf);
    const tau = tauOf(mean);
    units.push({
      meanForget: mean, tau, halfLife: tau * Math.LN2,
      fQuantiles: [quantile(fs, 0.1), quantile(fs, 0.5), quantile(fs, 0.9)],
      tauQuantiles: [quantile(taus, 0.1), quantile(taus, 0.5), quantile(taus, 0.9)],
    });
  }
  const finite = units.map((u) => u.tau).filter((t) => Number.isFinite(t) && t > 0);
  const infinite = H - finite.length;
  let edges: Float64Array, counts: Int32Array;
  if (finite.length === 0) {
    edges = new Float64Array(0); counts = new Int32Array(0);
  } else {
    const lo = Math.log10(Math.min(...finite)), hi = Math.log10(Math.max(...finite));
    const nb = hi > lo ? bins : 1;
    edges = Float64Array.from({ length: nb + 1 }, (_, k) => 10 ** (nb === 1 && hi === lo ? lo : lo + (hi - lo) * k / nb));
    edges[0] = Math.min(...finite); edges[nb] = Math.max(...finite);
    counts = new Int32Array(nb);
    for (const t of finite) {
      const k = hi > lo ? Math.min(nb - 1, Math.floor((Math.log10(t) - lo) / (hi - lo) * nb)) : 0;
      counts[k]!++;
    }
  }
  return { units, forget, histogram: { edges, counts, infinite } };
}
