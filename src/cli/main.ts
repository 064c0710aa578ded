#!/usr/bin/env node
/**
 * `rnn-wasm` command line. Without arguments it runs the main job on the bundled default data: load a small
 * PyTorch-trained LSTM from a `.safetensors` file, run it over a bundled sequence, and print a summary of the
 * outputs, the time taken, and how far the results are from PyTorch's.
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Adam, InvalidArgumentError, LSTM, Linear, SequenceModel, evaluate, fit, init, loadModel, readSafetensors, saveModel, type Dataset,
  type RecurrentLayer } from '../index.js';
import { analyzeModel, formatReport, renderReportHtml } from '../analysis/report.js';

const HELP = `Usage: rnn-wasm [run] [--model FILE] [--sequence FILE] [--repeat N] [--train FILE] [--epochs N] [--out FILE]

Runs a PyTorch-trained recurrent model over a sequence and prints a summary; then trains a new LSTM on a data
set with a progress display, evaluates it and saves it as a model file.
  --model FILE      .safetensors with rnn.* (LSTM) and head.* (Linear) tensors
                    (default: the bundled examples/data/default-model.safetensors)
  --sequence FILE   JSON with input {shape [T, B, 1], data}, target, and optionally PyTorch's results
                    (default: examples/data/default-sequence.json)
  --repeat N        timed repetitions (default 50)
  --train FILE      JSON { train: {inputs, targets}, validation: {inputs, targets} }, batch-major (N, T, 1)
                    (default: examples/data/default-train.json)
  --epochs N        training epochs (default 40)
  --out FILE        where to save the trained model (default: out/rnn-wasm-model.safetensors)
  -h, --help        this help

rnn-wasm analyze [MODEL] ...   the model as a dynamical system (see rnn-wasm analyze --help)`;

interface Seq {
  input: { shape: number[]; data: number[] };
  target?: { shape: number[]; data: number[] };
  torchPrediction?: { shape: number[]; data: number[] };
  torchHN?: { shape: number[]; data: number[] };
}

function stats(a: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    min = Math.min(min, a[i]!);
    max = Math.max(max, a[i]!);
  }
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / a.length), min, max };
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const fmt = (x: number): string => (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(4));

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      sequence: { type: 'string' },
      repeat: { type: 'string', default: '50' },
      train: { type: 'string' },
      epochs: { type: 'string', default: '40' },
      out: { type: 'string', default: 'out/rnn-wasm-model.safetensors' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) {
    console.error(`--repeat: expected a positive integer, got ${values.repeat}`);
    return 2;
  }
  const dataDir = new URL('../../examples/data/', import.meta.url);
  const modelPath = values.model ?? fileURLToPath(new URL('default-model.safetensors', dataDir));
  const seqPath = values.sequence ?? fileURLToPath(new URL('default-sequence.json', dataDir));

  const t0 = performance.now();
  const engine = await init();
  const tInit = performance.now() - t0;
  const file = readSafetensors(await readFile(modelPath));
  const seq = JSON.parse(await readFile(seqPath, 'utf8')) as Seq;
  const wih = file.tensors.get('rnn.weight_ih_l0');
  const whh = file.tensors.get('rnn.weight_hh_l0');
  if (!wih || !whh) {
    console.error(`${modelPath}: expected tensors rnn.weight_ih_l0 and rnn.weight_hh_l0 (an LSTM under 'rnn.')`);
    return 1;
  }
  const hidden = whh.shape[1]!;
  const lstm = new LSTM({ inputSize: wih.shape[1]!, hiddenSize: hidden });
  lstm.loadStateDict(await readFile(modelPath), { prefix: 'rnn.', strict: true });
  const [T, B] = seq.input.shape as [number, number, number];

  const tFirst = performance.now();
  let r = lstm.forward(seq.input);
  const first = performance.now() - tFirst;
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const s = performance.now();
    r = lstm.forward(seq.input);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1]!;

  console.log(`rnn-wasm: engine ${engine.flavour} SIMD (relaxed SIMD available: ${engine.features.relaxedSimd}), ` +
    `init ${tInit.toFixed(1)} ms`);
  console.log(`model: ${lstm.describeArch()} from ${modelPath} (${lstm.numParameters} parameters)`);
  console.log(`sequence: T=${T}, B=${B} from ${seqPath}`);
  const st = stats(r.output.data);
  console.log(`output [${r.output.shape.join(', ')}]: mean ${fmt(st.mean)}, std ${fmt(st.std)}, ` +
    `min ${fmt(st.min)}, max ${fmt(st.max)}`);
  console.log(`time: first call ${first.toFixed(2)} ms, median of ${repeat} ${median.toFixed(3)} ms ` +
    `(${((T * B * 4 * 2 * hidden * (lstm.inputSize + hidden)) / (median * 1e6)).toFixed(2)} GFLOP/s)`);

  // Linear head y = W h + b, to compare predictions with the targets and with PyTorch.
  const hw = file.tensors.get('head.weight');
  const hb = file.tensors.get('head.bias');
  if (hw && hb && seq.target) {
    const pred = new Float32Array(T * B);
    for (let i = 0; i < T * B; i++) {
      let s = hb.data[0]!;
      for (let j = 0; j < hidden; j++) s += hw.data[j]! * r.output.data[i * hidden + j]!;
      pred[i] = s;
    }
    let mse = 0;
    for (let i = 0; i < T * B; i++) mse += (pred[i]! - seq.target.data[i]!) ** 2;
    console.log(`next-step prediction MSE: ${fmt(mse / (T * B))}`);
    if (seq.torchPrediction) {
      console.log(`max |ours - PyTorch|: prediction ${maxAbs(pred, seq.torchPrediction.data).toExponential(2)}` +
        (seq.torchHN ? `, hN ${maxAbs(r.hN.data, seq.torchHN.data).toExponential(2)}` : ''));
    }
  }
  lstm.dispose();

  // Training.
  const epochs = Number(values.epochs);
  if (!Number.isInteger(epochs) || epochs < 0) {
    console.error(`--epochs: expected a non-negative integer, got ${values.epochs}`);
    return 2;
  }
  const trainPath = values.train ?? fileURLToPath(new URL('default-train.json', dataDir));
  const sets = JSON.parse(await readFile(trainPath, 'utf8')) as { train: Dataset; validation?: Dataset };
  const model = new SequenceModel({
    rnn: new LSTM({ inputSize: 1, hiddenSize: 32, batchFirst: true, seed: 1 }),
    head: new Linear({ inFeatures: 32, outFeatures: 1, seed: 2 }),
  });
  const n = sets.train.inputs.shape[0]!;
  const bs = 16;
  const stepsPerEpoch = Math.ceil(n / bs);
  console.log(`\ntraining ${model.rnn.describeArch()} + Linear(32, 1) on ${trainPath}: ${n} sequences of ` +
    `${sets.train.inputs.shape[1]} steps, ${epochs} epochs, Adam lr 0.01, batch ${bs}`);
  const before = sets.validation ? evaluate(model, sets.validation).loss : NaN;
  const tty = process.stdout.isTTY === true;
  const tTrain = performance.now();
  const history = fit(model, sets.train, {
    epochs, batchSize: bs, validation: sets.validation, seed: 0, clipGradNorm: 1,
    optimizer: new Adam(model.parameters(), { lr: 0.01 }),
    onStepEnd: (s) => {
      if (!tty) return;
      const done = (s.step + 1) / stepsPerEpoch;
      const bar = '#'.repeat(Math.round(done * 20)).padEnd(20, '.');
      const rate = s.globalStep / ((performance.now() - tTrain) / 1000);
      process.stdout.write(`\r  epoch ${s.epoch + 1}/${epochs} [${bar}] loss ${s.loss.toFixed(4)} ` +
        `|grad| ${s.gradNorm.toFixed(3)} ${rate.toFixed(0)} steps/s`);
    },
    onEpochEnd: (e) => {
      const line = `  epoch ${String(e.epoch + 1).padStart(3)}/${epochs}: train loss ${e.loss.toFixed(5)}` +
        (e.valLoss !== undefined ? `, validation MSE ${e.valLoss.toFixed(5)}` : '') + ` (${e.seconds.toFixed(2)} s)`;
      if (tty) process.stdout.write(`\r${line.padEnd(90)}\n`);
      else console.log(line);
    },
  });
  const seconds = (performance.now() - tTrain) / 1000;
  console.log(`trained ${history.steps} steps in ${seconds.toFixed(2)} s (${(history.steps / seconds).toFixed(0)} steps/s)`);
  if (sets.validation) {
    const after = evaluate(model, sets.validation).loss;
    console.log(`validation MSE: ${fmt(before)} before training, ${fmt(after)} after`);
  }
  const outPath = resolve(values.out);
  await mkdir(dirname(outPath), { recursive: true });
  const bytes = saveModel(model, { trainedOn: trainPath });
  await writeFile(outPath, bytes);
  const reloaded = loadModel(bytes) as SequenceModel;
  const check = sets.validation ? evaluate(reloaded, sets.validation).loss : NaN;
  console.log(`saved ${outPath} (${bytes.length} bytes); reloaded model's validation MSE ${fmt(check)}`);
  reloaded.dispose();
  model.dispose();
  return 0;
}

const ANALYZE_HELP = `Usage: rnn-wasm analyze [MODEL] [--html FILE] [--json FILE] [--layer N] [--direction N]
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
  const bytes = await readFile(path);
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

async function analyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      html: { type: 'string' },
      json: { type: 'string' },
      layer: { type: 'string', default: '0' },
      direction: { type: 'string', default: '0' },
      input: { type: 'string' },
      steps: { type: 'string', default: '100' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(ANALYZE_HELP);
    return 0;
  }
  if (positionals.length > 1) {
    console.error(`analyze: expected at most one MODEL argument, got ${positionals.length}`);
    return 2;
  }
  const ints: Record<string, number> = {};
  for (const k of ['layer', 'direction', 'steps', 'seed'] as const) {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < (k === 'steps' ? 1 : 0)) {
      console.error(`--${k}: expected an integer >= ${k === 'steps' ? 1 : 0}, got ${values[k]}`);
      return 2;
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

const argv = process.argv.slice(2);
let command = run;
if (argv[0] === 'run') argv.shift();
else if (argv[0] === 'analyze') {
  argv.shift();
  command = analyze;
}
command(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    if (process.env.RNN_WASM_DEBUG) console.error(err);
    process.exitCode = 1;
  },
);
