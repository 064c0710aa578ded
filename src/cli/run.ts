/**
 * `rnn-wasm run` (also with no arguments): the original default job on the bundled data. Loads a small
 * PyTorch-trained LSTM from a `.safetensors` file, runs it over a bundled sequence and prints a summary of the
 * outputs, the time taken and how far the results are from PyTorch's; then trains a new LSTM on the bundled data
 * set with a progress display, evaluates it and saves it.
 * @module
 */
import { parseArgs } from 'node:util';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Adam, LSTM, Linear, SequenceModel, evaluate, fit, init, loadModel, readSafetensors, saveModel,
  type Dataset } from '../index.js';
import { CliError, fmt, int, parse } from './args.js';
import { Progress } from './progress.js';

export const RUN_HELP = `Usage: rnn-wasm [run] [--model FILE] [--sequence FILE] [--repeat N] [--train FILE] [--epochs N] [--out FILE]

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
  --compare-only    only the PyTorch comparison, no training
  -h, --help        this help

Other commands: start, train, predict, analyze, bench (rnn-wasm --help lists them)`;

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


export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parse('run', () => parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
      model: { type: 'string' },
      sequence: { type: 'string' },
      repeat: { type: 'string', default: '50' },
      train: { type: 'string' },
      epochs: { type: 'string', default: '40' },
      out: { type: 'string', default: 'out/rnn-wasm-model.safetensors' },
      'compare-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
  } }));
  if (values.help) {
    console.log(RUN_HELP);
    return 0;
  }
  const repeat = int('repeat', values.repeat, 1);
  const epochs = int('epochs', values.epochs, 0);
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
    throw new CliError(`--model: ${modelPath}: expected tensors rnn.weight_ih_l0 and rnn.weight_hh_l0 (an LSTM under 'rnn.')`);
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
  if (values['compare-only']) return 0;

  // Training.
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
  const tTrain = performance.now();
  const progress = new Progress(epochs, stepsPerEpoch);
  const history = fit(model, sets.train, {
    epochs, batchSize: bs, validation: sets.validation, seed: 0, clipGradNorm: 1,
    optimizer: new Adam(model.parameters(), { lr: 0.01 }),
    onStepEnd: (s) => progress.step(s),
    onEpochEnd: (e) => progress.epoch(e, (e.epoch + 1) * stepsPerEpoch),
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

