/**
 * `rnn-wasm start` (what `npm start` runs): the main job through the command line's own commands on the bundled
 * data. Compares the bundled PyTorch-trained LSTM with PyTorch, converts the bundled data set to the CSV and
 * JSON-lines formats of `train` / `predict`, trains an LSTM on the CSV, evaluates it on the validation sequences
 * with `predict`, analyses it with `analyze` and writes the HTML report, then runs every experiment with
 * `experiments` and writes their page.
 * @module
 */
import { parseArgs } from 'node:util';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fmt, int, parse } from './args.js';
import { analyzeCommand } from './analyze.js';
import { experimentsCommand } from './experiments.js';
import { predictCommand } from './predict.js';
import { runCommand } from './run.js';
import { trainCommand, type TrainResult } from './train.js';

export const START_HELP = `Usage: rnn-wasm start [--out-dir DIR] [--epochs N]

The main job on the bundled data (what npm start runs), through the other commands:
  1. the bundled PyTorch-trained LSTM against PyTorch's own results (rnn-wasm run --compare-only)
  2. examples/data/default-train.json converted to DIR/data/*.csv and *.jsonl (the formats of train/predict)
  3. rnn-wasm train on the CSV, validation CSV evaluated every epoch -> DIR/model.safetensors
  4. rnn-wasm predict on the validation JSON lines -> DIR/predictions.csv, with its MSE
  5. rnn-wasm analyze of the trained model -> DIR/report.html
  6. rnn-wasm experiments: every claim of the theory run, plotted and checked -> DIR/experiments.html
  --out-dir DIR     where everything goes (default out)
  --epochs N        training epochs (default 40)
  -h, --help        this help`;

interface Split { inputs: { shape: number[]; data: number[] }; targets: { shape: number[]; data: number[] } }

function toCsv(s: Split): string {
  const [N, T, I] = s.inputs.shape as [number, number, number];
  const lines = ['sequence,t,x,y'];
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) lines.push(`s${n},${t},${s.inputs.data[(n * T + t) * I]},${s.targets.data[n * T + t]}`);
  }
  return `${lines.join('\n')}\n`;
}

function toJsonl(s: Split): string {
  const [N, T] = s.inputs.shape as [number, number, number];
  const lines: string[] = [];
  for (let n = 0; n < N; n++) {
    const x = Array.from({ length: T }, (_, t) => [s.inputs.data[n * T + t]]);
    const y = Array.from({ length: T }, (_, t) => [s.targets.data[n * T + t]]);
    lines.push(JSON.stringify({ id: `s${n}`, input: x, target: y }));
  }
  return `${lines.join('\n')}\n`;
}

export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parse('start', () => parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
    'out-dir': { type: 'string', default: 'out' },
    epochs: { type: 'string', default: '40' },
    help: { type: 'boolean', short: 'h' },
  } }));
  if (values.help) {
    console.log(START_HELP);
    return 0;
  }
  const epochs = int('epochs', values.epochs, 0);
  const t0 = performance.now();
  const dir = resolve(values['out-dir']);
  const rel = (p: string): string => relative(process.cwd(), p) || '.';
  const stage = (n: number, what: string, cmd?: string[]): void => {
    console.log(`\n== [${n}/6] ${what} (${((performance.now() - t0) / 1000).toFixed(1)} s) ==`);
    if (cmd) console.log(`$ rnn-wasm ${cmd.join(' ')}`);
  };
  const step = async (code: Promise<number>): Promise<void> => {
    const c = await code;
    if (c !== 0) throw new Error(`stage failed with exit code ${c}`);
  };

  stage(1, 'the bundled PyTorch-trained LSTM against PyTorch', ['run', '--compare-only']);
  await step(runCommand(['--compare-only', '--repeat', '20']));

  stage(2, 'the bundled data set in the CSV and JSON-lines formats');
  const src = fileURLToPath(new URL('../../examples/data/default-train.json', import.meta.url));
  const sets = JSON.parse(await readFile(src, 'utf8')) as { train: Split; validation: Split };
  const v = sets.validation;
  let persistence = 0;
  for (let i = 0; i < v.targets.data.length; i++) persistence += (v.targets.data[i]! - v.inputs.data[i]!) ** 2;
  persistence /= v.targets.data.length;
  const data = join(dir, 'data');
  await mkdir(data, { recursive: true });
  const files = {
    train: join(data, 'default-train.csv'), valCsv: join(data, 'default-validation.csv'),
    valJsonl: join(data, 'default-validation.jsonl'),
  };
  await writeFile(files.train, toCsv(sets.train));
  await writeFile(files.valCsv, toCsv(sets.validation));
  await writeFile(files.valJsonl, toJsonl(sets.validation));
  console.log(`${rel(src)}: ${sets.train.inputs.shape[0]} training and ${sets.validation.inputs.shape[0]} validation ` +
    `sequences of ${sets.train.inputs.shape[1]} steps (noisy two-tone signal, next-step prediction)`);
  for (const f of Object.values(files)) console.log(`  wrote ${rel(f)}`);

  const model = join(dir, 'model.safetensors');
  const trainArgs = ['train', rel(files.train), '--sequence-column', 'sequence', '--time-column', 't', '--features', 'x',
    '--targets', 'y', '--validation', rel(files.valCsv), '--cell', 'lstm', '--hidden', '32', '--epochs', String(epochs),
    '--batch-size', '16', '--lr', '0.01', '--clip', '1', '--seed', '1', '--out', rel(model)];
  stage(3, 'training', trainArgs);
  let trained: TrainResult | undefined;
  await step(trainCommand(trainArgs.slice(1), (r) => (trained = r)));

  const preds = join(dir, 'predictions.csv');
  const predictArgs = ['predict', rel(model), rel(files.valJsonl), '--format', 'csv', '--out', rel(preds)];
  stage(4, 'evaluation on the validation sequences', predictArgs);
  let mse: number | undefined;
  await step(predictCommand(predictArgs.slice(1), (r) => (mse = r.mse)));

  const report = join(dir, 'report.html');
  const analyzeArgs = ['analyze', rel(model), '--html', rel(report)];
  stage(5, 'analysis of the trained model', analyzeArgs);
  await step(analyzeCommand(analyzeArgs.slice(1)));

  const page = join(dir, 'experiments.html');
  const experimentsArgs = ['experiments', '--out', rel(page), '--check'];
  stage(6, 'the experiments: every claim of the theory, run and checked', experimentsArgs);
  await step(experimentsCommand(experimentsArgs.slice(1)));

  console.log(`\n== done in ${((performance.now() - t0) / 1000).toFixed(1)} s ==`);
  if (trained) {
    console.log(`training loss ${fmt(trained.firstLoss)} -> ${fmt(trained.finalLoss)}; validation MSE ` +
      `${mse !== undefined ? fmt(mse) : '-'} (repeating the current value as the prediction scores ${fmt(persistence)})`);
  }
  console.log(`model        ${rel(model)}\npredictions  ${rel(preds)}\nreport       ${rel(report)}\n` +
    `experiments  ${rel(page)}\n` +
    `data         ${rel(data)}/`);
  return 0;
}
