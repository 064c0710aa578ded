#!/usr/bin/env node
/**
 * `rnn-wasm` command line. Without arguments it runs the main job on the bundled default data: load a small
 * PyTorch-trained LSTM from a `.safetensors` file, run it over a bundled sequence, and print a summary of the
 * outputs, the time taken, and how far the results are from PyTorch's.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LSTM, init, readSafetensors } from '../index.js';

const HELP = `Usage: rnn-wasm [run] [--model FILE] [--sequence FILE] [--repeat N]

Runs a recurrent model over a sequence and prints a summary.
  --model FILE      .safetensors with rnn.* (LSTM) and head.* (Linear) tensors
                    (default: the bundled examples/data/default-model.safetensors)
  --sequence FILE   JSON with input {shape [T, B, 1], data}, target, and optionally PyTorch's results
                    (default: examples/data/default-sequence.json)
  --repeat N        timed repetitions (default 50)
  -h, --help        this help`;

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
  return 0;
}

const argv = process.argv.slice(2);
if (argv[0] === 'run') argv.shift();
run(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    process.exitCode = 1;
  },
);
