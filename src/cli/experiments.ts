/**
 * `rnn-wasm experiments`: runs one, several or all of the experiments (src/experiments/) and writes one
 * self-contained HTML page with their plots, verdicts and numbers.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { InvalidArgumentError, init } from '../index.js';
import { experiments, getExperiment, renderExperimentsHtml, resolveParams, type Experiment, type ExperimentResult, type ParamSpec } from '../experiments/index.js';
import { UsageError } from './args.js';

export const EXPERIMENTS_HELP = `Usage: rnn-wasm experiments [NAME ...] [--PARAM VALUE ...] [--out FILE] [--json FILE]
                            [--list] [--check]

Runs the experiments (every claim of the theory as a runnable, plotted, checked experiment; all of them without
NAME) and writes one self-contained HTML page with the plots, the verdicts and the numbers.
  NAME             experiment name(s), see --list
  --PARAM VALUE    a parameter of the one experiment named (e.g. rnn-wasm experiments memory-pulse --pulse 0.5);
                   --list shows each experiment's parameters, defaults and ranges
  --out FILE       the HTML page (default out/experiments.html)
  --json FILE      also write the results (data, plot specifications, verdicts) as JSON
  --list           list the experiments and their parameters, run nothing
  --check          exit with code 1 when a claim does not hold
  -h, --help       this help`;

function describeParam(name: string, p: ParamSpec): string {
  const range = p.kind === 'choice' ? `one of ${p.options.join(', ')}` : `${p.integer ? 'integer ' : ''}in [${p.min}, ${p.max}]`;
  return `      --${name} (default ${p.default}; ${range}): ${p.description}`;
}

/** The text of `--list`. */
export function listExperiments(): string {
  return experiments.map((e) => {
    const params = Object.entries(e.params).map(([k, p]) => describeParam(k, p));
    return [`${String(e.number).padStart(2)}. ${e.name}${e.usesEngine ? ' (trains a model)' : ''}`, `      ${e.claim}`, ...params].join('\n');
  }).join('\n');
}

const OWN = new Set(['out', 'json', 'list', 'check', 'help']);

interface Parsed { names: string[]; params: Record<string, string>; out: string; json?: string; list: boolean; check: boolean; help: boolean }

function parseExperimentArgs(argv: string[]): Parsed {
  const r: Parsed = { names: [], params: {}, out: 'out/experiments.html', list: false, check: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') { r.help = true; continue; }
    if (!a.startsWith('--')) {
      if (a.startsWith('-')) throw new UsageError(`unknown flag ${a} (see rnn-wasm experiments --help)`);
      r.names.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = a.slice(2, eq < 0 ? undefined : eq);
    if (key === 'list' || key === 'check') {
      if (eq >= 0) throw new UsageError(`flag --${key} takes no value`);
      r[key] = true;
      continue;
    }
    // The value is the next token even when it starts with '-' (negative numbers: --pulse -0.5).
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`flag --${key} needs a value (see rnn-wasm experiments --help)`);
    if (key === 'out') r.out = value;
    else if (key === 'json') r.json = value;
    else if (OWN.has(key)) throw new UsageError(`flag --${key} takes no value`);
    else r.params[key] = value;
  }
  return r;
}

/** Converts `--PARAM VALUE` strings to the experiment's parameter types, naming the flag on failure. */
function typedParams(e: Experiment, given: Record<string, string>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(given)) {
    const spec = e.params[k];
    if (!spec) {
      const known = Object.keys(e.params);
      throw new UsageError(`--${k}: '${e.name}' has no parameter '${k}'; expected ${known.length ? known.map((n) => `--${n}`).join(', ') : 'none'}`);
    }
    if (spec.kind === 'choice') { out[k] = v; continue; }
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${k}: expected a number in [${spec.min}, ${spec.max}], got '${v}'`);
    out[k] = n;
  }
  // Range and integer checks are the experiment's own; reported here as usage errors naming the flag.
  try {
    resolveParams(e.name, e.params, out);
  } catch (err) {
    if (err instanceof InvalidArgumentError && err.argument.startsWith('params.')) {
      throw new UsageError(`--${err.argument.slice(7)}${err.message.slice(err.argument.length)}`);
    }
    throw err;
  }
  return out;
}

/** Runs the named experiments (all when `names` is empty); `onResult` sees each result as it finishes. */
export async function runExperiments(names: readonly string[], params: Record<string, number | string> = {},
                                     onResult?: (r: ExperimentResult) => void): Promise<ExperimentResult[]> {
  const list = names.length ? names.map((n) => getExperiment(n)) : [...experiments];
  if (list.some((e) => e.usesEngine)) await init();
  const results: ExperimentResult[] = [];
  for (const e of list) {
    const r = e.run((list.length === 1 ? params : {}) as never);
    results.push(r);
    onResult?.(r);
  }
  return results;
}

export async function experimentsCommand(argv: string[]): Promise<number> {
  const a = parseExperimentArgs(argv);
  if (a.help) { console.log(EXPERIMENTS_HELP); return 0; }
  if (a.list) { console.log(listExperiments()); return 0; }
  for (const n of a.names) {
    if (!experiments.some((e) => e.name === n)) {
      throw new UsageError(`unknown experiment '${n}'; expected one of ${experiments.map((e) => e.name).join(', ')} (see --list)`);
    }
  }
  const hasParams = Object.keys(a.params).length > 0;
  if (hasParams && a.names.length !== 1) {
    throw new UsageError(`--${Object.keys(a.params)[0]}: parameters need exactly one experiment NAME, got ${a.names.length}`);
  }
  const params = hasParams ? typedParams(getExperiment(a.names[0]!), a.params) : {};
  const rel = (p: string): string => relative(process.cwd(), p) || '.';
  const results = await runExperiments(a.names, params, (r) => {
    console.log(`${String(r.number).padStart(2)}. ${r.name.padEnd(30)} ${r.verdict.holds ? 'holds        ' : 'DOES NOT HOLD'} ` +
      `${String(r.elapsedMs).padStart(6)} ms  ${r.verdict.summary}`);
  });
  const out = resolve(a.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, renderExperimentsHtml(results));
  if (a.json) {
    const json = resolve(a.json);
    await mkdir(dirname(json), { recursive: true });
    await writeFile(json, `${JSON.stringify(results, null, 1)}\n`);
    console.log(`wrote ${rel(json)}`);
  }
  const held = results.filter((r) => r.verdict.holds).length;
  console.log(`${held} of ${results.length} claims hold; wrote ${rel(out)}`);
  return a.check && held < results.length ? 1 : 0;
}
