/**
 * `rnn-wasm analyze`: opens a model up as a dynamical system, prints the report and optionally writes HTML/JSON.
 * @module
 */
import { parseArgs } from 'node:util';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, LSTM, Linear, SequenceModel, init, loadModel, readSafetensors,
  type RecurrentLayer } from '../index.js';
import { analyzeModel, formatReport, renderReportHtml } from '../analysis/report.js';
import { CliError, UsageError, parse } from './args.js';

export const ANALYZE_HELP = `Usage: rnn-wasm analyze [MODEL] [--html FILE] [--json FILE] [--layer N] [--direction N]
                        [--input FILE] [--steps N] [--seed N]

Opens a model up as a dynamical system and prints a report: spectra of the recurrent weights, fixed points and
their stability, the linearization's controllability and observability ranks and frequency response, a Lyapunov
certificate, forget-gate time constants (LSTM) and the gradient-flow verdict.
  MODEL            an rnn-wasm model file (saveModel), or a .safetensors with rnn.* (LSTM) and head.* tensors
                   (default: the bundled examples/data/default-model.safetensors)
  --html FILE      also write a self-contained HTML report with SVG plots
  --json FILE      also write the report as JSON
  --layer N        layer to analyse (default 0)
  --direction N    0 forward, 1 reverse (default 0)
  --input FILE     JSON {shape: [T, I], data} input sequence for the gradient flow and forget gates
                   (default: --steps draws of a standard normal from --seed)
  --steps N        length of the default input (default 100)
  --seed N         seed of the default input and the fixed-point starts (default 1)
  -h, --help       this help`;

async function loadAny(path: string): Promise<RecurrentLayer | SequenceModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CliError(`MODEL: cannot read ${path}` +
      ((e as { code?: string }).code === 'ENOENT' ? ': no such file (check the path)' : `: ${(e as Error).message}`));
  }
  const file = readSafetensors(bytes);
  if (file.metadata['rnn-wasm.architecture'] !== undefined) return loadModel(bytes);
  const wih = file.tensors.get('rnn.weight_ih_l0');
  const whh = file.tensors.get('rnn.weight_hh_l0');
  const hw = file.tensors.get('head.weight');
  if (!wih || !whh) {
    throw new InvalidArgumentError('MODEL', `${path}: expected an rnn-wasm model file or tensors rnn.weight_ih_l0 and ` +
      'rnn.weight_hh_l0 (an LSTM under rnn.)');
  }
  const lstm = new LSTM({ inputSize: wih.shape[1]!, hiddenSize: whh.shape[1]! });
  lstm.loadStateDict(bytes, { prefix: 'rnn.', strict: !hw });
  if (!hw) return lstm;
  const head = new Linear({ inFeatures: hw.shape[1]!, outFeatures: hw.shape[0]!, bias: file.tensors.has('head.bias') });
  head.loadStateDict(bytes, { prefix: 'head.' });
  return new SequenceModel({ rnn: lstm, head });
}

export async function analyzeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('analyze', () => parseArgs({ args: argv, strict: true, allowPositionals: true, options: {
      html: { type: 'string' },
      json: { type: 'string' },
      layer: { type: 'string', default: '0' },
      direction: { type: 'string', default: '0' },
      input: { type: 'string' },
      steps: { type: 'string', default: '100' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
  } }));
  if (values.help) {
    console.log(ANALYZE_HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw new UsageError(`expected at most one MODEL argument, got ${positionals.length} (see rnn-wasm analyze --help)`);
  }
  const ints: Record<string, number> = {};
  for (const k of ['layer', 'direction', 'steps', 'seed'] as const) {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < (k === 'steps' ? 1 : 0)) {
      throw new UsageError(`--${k}: expected an integer >= ${k === 'steps' ? 1 : 0}, got '${values[k]}'`);
    }
    ints[k] = v;
  }
  const path = positionals[0] ?? fileURLToPath(new URL('../../examples/data/default-model.safetensors', import.meta.url));
  await init();
  const model = await loadAny(path);
  try {
    let input: number[][] | undefined;
    if (values.input) {
      const j = JSON.parse(await readFile(values.input, 'utf8')) as { shape?: number[]; data?: number[] };
      const [T, I] = j.shape ?? [];
      if (j.shape?.length !== 2 || !Array.isArray(j.data) || j.data.length !== T! * I!) {
        throw new InvalidArgumentError('--input', `${values.input}: expected {shape: [T, I], data: T*I numbers}`);
      }
      input = Array.from({ length: T! }, (_, t) => j.data!.slice(t * I!, (t + 1) * I!));
    }
    const t0 = performance.now();
    const report = analyzeModel(model, { layer: ints['layer'], direction: ints['direction'], input,
      steps: ints['steps'], seed: ints['seed'] });
    console.log(`rnn-wasm analyze ${path}\n`);
    console.log(formatReport(report));
    console.log(`\n(analysis took ${((performance.now() - t0) / 1000).toFixed(2)} s)`);
    if (values.html) {
      const out = resolve(values.html);
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, renderReportHtml(report, `rnn-wasm analysis of ${path.split('/').pop()}`));
      console.log(`wrote ${out}`);
    }
    if (values.json) {
      const out = resolve(values.json);
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, JSON.stringify(report, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v), 1));
      console.log(`wrote ${out}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}
