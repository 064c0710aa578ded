/**
 * The experiment framework: every experiment is a function with typed, range-checked parameters and defaults that
 * returns its data, data-only plot specifications (drawn as SVG by {@link renderExperimentsHtml} and with
 * Observable Plot on the demo page) and a verdict made of numeric checks, so "does the claim hold for these
 * parameters" is always answered with the measured numbers and the bound they were held to.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { ScatterPoint } from '../analysis/svg.js';

/** A numeric parameter (a slider on the demo page). */
export interface NumberParam {
  kind: 'number';
  /** Short label for a form or slider. */
  label: string;
  /** One sentence: what the parameter changes. */
  description: string;
  default: number;
  /** Inclusive lower bound. */
  min: number;
  /** Inclusive upper bound. */
  max: number;
  /** Slider step (default: 1 for integers, (max - min) / 100 otherwise). */
  step?: number;
  /** Whether only integers are accepted. */
  integer?: boolean;
}

/** A parameter chosen from a list (a select on the demo page). */
export interface ChoiceParam {
  kind: 'choice';
  label: string;
  description: string;
  default: string;
  options: readonly string[];
}

/** Any experiment parameter. */
export type ParamSpec = NumberParam | ChoiceParam;

/** An experiment's parameters by name. */
export type ParamSpecs = Record<string, ParamSpec>;

/** The values of a parameter set: numbers for number parameters, strings for choices. */
export type ParamValues<S extends ParamSpecs> = {
  [K in keyof S]: S[K] extends ChoiceParam ? string : number;
};

/** One series of a line plot. */
export interface PlotSeries {
  name: string;
  x: number[];
  y: number[];
  /** CSS colour (default: the palette in order). */
  color?: string;
  /** Dashed stroke (e.g. a prediction drawn against a measurement). */
  dashed?: boolean;
}

/** A line plot (y against x, one or more series). */
export interface LinePlotSpec {
  type: 'line';
  title: string;
  xLabel: string;
  yLabel: string;
  /** Draw y on a log10 axis (values <= 0 are gaps). */
  logY?: boolean;
  series: PlotSeries[];
  /** Dashed horizontal reference lines. */
  hLines?: { y: number; label: string }[];
}

/** A scatter plot (e.g. eigenvalues in the complex plane). */
export interface ScatterPlotSpec {
  type: 'scatter';
  title: string;
  xLabel: string;
  yLabel: string;
  points: ScatterPoint[];
  /** Draw the unit circle with equal axis scales. */
  unitCircle?: boolean;
  /** Legend entries. */
  legend?: { name: string; color: string; marker?: ScatterPoint['marker'] }[];
}

/** A data-only plot description: plain numbers and strings, JSON-serializable. */
export type PlotSpec = LinePlotSpec | ScatterPlotSpec;

/** A comparison operator of a check. */
export type CheckOp = '<' | '<=' | '>' | '>=' | '==';

/** One numeric check of a claim: `value op bound` (for '==', |value - bound| <= tolerance). */
export interface Check {
  /** What is measured, in words ("ReLU state 5 steps after the pulse"). */
  name: string;
  value: number;
  op: CheckOp;
  bound: number;
  /** Absolute tolerance for '=='. */
  tolerance?: number;
  /** Whether the check passed. */
  holds: boolean;
}

/** Whether the claim holds for the parameters used, with the numbers that decided it. */
export interface Verdict {
  /** All checks passed. */
  holds: boolean;
  /** One or two sentences with the decisive numbers. */
  summary: string;
  checks: Check[];
}

/** What {@link Experiment.run} returns. */
export interface ExperimentResult<D = unknown> {
  /** The experiment's registry name. */
  name: string;
  /** Its number in the list (issue 9's numbering). */
  number: number;
  title: string;
  /** The claim being tested. */
  claim: string;
  /** The parameters actually used (defaults filled in). */
  params: Record<string, number | string>;
  /** The experiment's data (plain numbers and arrays, JSON-serializable). */
  data: D;
  plots: PlotSpec[];
  verdict: Verdict;
  /** Wall-clock time of the run in milliseconds. */
  elapsedMs: number;
}

/** What an experiment's body returns; {@link defineExperiment} adds the rest. */
export interface ExperimentOutput<D> {
  data: D;
  plots: PlotSpec[];
  checks: Check[];
  /** Summary text; should quote the decisive numbers. */
  summary: string;
}

/** A runnable experiment. */
export interface Experiment<S extends ParamSpecs = ParamSpecs, D = unknown> {
  /** Registry name (kebab-case), used on the command line. */
  readonly name: string;
  readonly number: number;
  readonly title: string;
  readonly claim: string;
  /** What the experiment does, in a few sentences (shown on the page). */
  readonly description: string;
  readonly params: S;
  /** Whether the experiment runs the WebAssembly engine (needs `await init()` first). */
  readonly usesEngine: boolean;
  /** Runs it; missing parameters take their defaults, bad ones throw {@link InvalidArgumentError}. */
  run(params?: Partial<ParamValues<S>>): ExperimentResult<D>;
}

/** The definition passed to {@link defineExperiment}. */
export interface ExperimentDefinition<S extends ParamSpecs, D> {
  name: string;
  number: number;
  title: string;
  claim: string;
  description: string;
  params: S;
  usesEngine?: boolean;
  body(params: ParamValues<S>): ExperimentOutput<D>;
}

/** Builds a {@link Check}. */
export function check(name: string, value: number, op: CheckOp, bound: number, tolerance = 0): Check {
  let holds: boolean;
  switch (op) {
    case '<': holds = value < bound; break;
    case '<=': holds = value <= bound; break;
    case '>': holds = value > bound; break;
    case '>=': holds = value >= bound; break;
    case '==': holds = Math.abs(value - bound) <= tolerance; break;
  }
  // NaN never passes a check.
  if (Number.isNaN(value)) holds = false;
  return op === '==' ? { name, value, op, bound, tolerance, holds } : { name, value, op, bound, holds };
}

/**
 * Fills defaults into `given` and validates every value against `specs`; unknown names, values of the wrong type,
 * non-integers for integer parameters and values outside [min, max] throw an {@link InvalidArgumentError} naming
 * `params.<name>` with the expected range.
 */
export function resolveParams<S extends ParamSpecs>(experiment: string, specs: S, given: Record<string, unknown> = {}): ParamValues<S> {
  if (given === null || typeof given !== 'object') {
    throw new InvalidArgumentError('params', `expected an object of parameters for '${experiment}', got ${given === null ? 'null' : typeof given}`);
  }
  for (const k of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(specs, k)) {
      const known = Object.keys(specs);
      throw new InvalidArgumentError(`params.${k}`, `'${experiment}' has no parameter '${k}'; expected one of ` +
        (known.length ? known.join(', ') : '(none)'));
    }
  }
  const out: Record<string, number | string> = {};
  for (const [k, spec] of Object.entries(specs)) {
    const v = given[k];
    if (v === undefined) { out[k] = spec.default; continue; }
    const arg = `params.${k}`;
    if (spec.kind === 'choice') {
      if (typeof v !== 'string' || !spec.options.includes(v)) {
        throw new InvalidArgumentError(arg, `expected one of ${spec.options.join(', ')}, got ${JSON.stringify(v)}`);
      }
      out[k] = v;
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidArgumentError(arg, `expected a finite number in [${spec.min}, ${spec.max}], got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
    }
    if (spec.integer && !Number.isInteger(v)) throw new InvalidArgumentError(arg, `expected an integer in [${spec.min}, ${spec.max}], got ${v}`);
    if (v < spec.min || v > spec.max) throw new InvalidArgumentError(arg, `expected a value in [${spec.min}, ${spec.max}], got ${v}`);
    out[k] = v;
  }
  return out as ParamValues<S>;
}

/** Wraps an experiment body with parameter validation, timing and the verdict. */
export function defineExperiment<S extends ParamSpecs, D>(def: ExperimentDefinition<S, D>): Experiment<S, D> {
  return {
    name: def.name,
    number: def.number,
    title: def.title,
    claim: def.claim,
    description: def.description,
    params: def.params,
    usesEngine: def.usesEngine ?? false,
    run(params?: Partial<ParamValues<S>>): ExperimentResult<D> {
      const p = resolveParams(def.name, def.params, params as Record<string, unknown> | undefined);
      const t0 = Date.now();
      const out = def.body(p);
      const elapsedMs = Date.now() - t0;
      return {
        name: def.name, number: def.number, title: def.title, claim: def.claim,
        params: { ...p } as Record<string, number | string>,
        data: out.data, plots: out.plots,
        verdict: { holds: out.checks.length > 0 && out.checks.every((c) => c.holds), summary: out.summary, checks: out.checks },
        elapsedMs,
      };
    },
  };
}

/** `Array.from` for typed arrays into plain number arrays (plot specs are JSON). */
export function toArray(a: ArrayLike<number>): number[] {
  return Array.from(a, (v) => v);
}

/** 0, 1, ..., n - 1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Formats a number for a summary (4 significant digits, exponent when tiny or huge). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e5 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}
