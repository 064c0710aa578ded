/**
 * `rnn-wasm train`: trains a recurrent model with a linear head on a CSV or JSON-lines data set and saves it.
 * @module
 */
import { parseArgs } from 'node:util';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Adam, GRU, LSTM, Linear, RNN, SequenceModel, evaluate, fit, init, saveModel } from '../index.js';
import { UsageError, choice, fmt, int, list, num, parse } from './args.js';
import { loadData, subset, toDataset, type DataFormat, type Head, type LoadedData } from './data.js';
import { Progress } from './progress.js';

export const DATA_FLAGS_HELP = `  --input-format F        csv or jsonl (default: from the extension, .csv is CSV, else JSON lines)
  --features a,b          CSV: input columns (default: all but the sequence, time and target columns)
  --targets y             CSV: target column(s)
  --sequence-column id    CSV: column grouping rows into sequences (default: the file is one sequence)
  --time-column t         CSV: column ordering the rows of a sequence (default: row order)`;

export const FORMATS_HELP = `Data formats:
  CSV          header row, one row per time step; rows with the same --sequence-column value form a sequence
               (ordered by --time-column or by row); sequences may differ in length (padded, masked).
               With --head last a sequence's target is its last row's target columns.
  JSON lines   one sequence per line: {"id": "a", "input": [[x1, x2], ...], "target": [[y], ...]}; input is T rows
               of I numbers (or T numbers), target T rows (per-step head) or O numbers (--head last).`;

export const TRAIN_HELP = `Usage: rnn-wasm train DATA [options]

Trains a recurrent network with a linear head (MSE loss, Adam) on DATA and saves it as an rnn-wasm model file
(architecture + weights, .safetensors; loads with loadModel or rnn-wasm predict).

Data:
${DATA_FLAGS_HELP}
  --validation FILE       validation data in the same format (evaluated after every epoch)
  --validation-split F    hold out this fraction of DATA's sequences as validation instead (default 0)
Model:
  --cell C                lstm, gru, rnn-tanh or rnn-relu (default lstm)
  --hidden N              hidden size (default 32)
  --layers N              stacked layers (default 1)
  --bidirectional         both directions
  --head H                sequence (a prediction per step, default) or last (one per sequence)
Training:
  --epochs N              passes over the data (default 20)
  --batch-size N          sequences per step (default 16)
  --lr X                  Adam learning rate (default 0.01)
  --clip X                clip the gradient 2-norm to X; 0 turns it off (default 1)
  --seed N                seed of the initialisation, shuffling and split (default 0)
  --out FILE              model file to write (default out/model.safetensors)
  -h, --help              this help

${FORMATS_HELP}

Example:
  rnn-wasm train series.csv --sequence-column id --time-column t --features x --targets y --cell gru --hidden 16`;

const CELLS = ['lstm', 'gru', 'rnn-tanh', 'rnn-relu'] as const;
type Cell = (typeof CELLS)[number];

/** Metadata the CLI stores in the model file so that predict reads the same columns. */
export const CLI_META = 'rnn-wasm.cli';
export interface CliMeta {
  features: string[];
  targets: string[];
  sequenceColumn?: string;
  timeColumn?: string;
}

function shuffled(n: number, seed: number): number[] {
  let s = (seed ^ 0x9e3779b9) >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function makeRnn(cell: Cell, o: { inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; seed: number }) {
  const base = { ...o, batchFirst: true };
  if (cell === 'lstm') return new LSTM(base);
  if (cell === 'gru') return new GRU(base);
  return new RNN({ ...base, nonlinearity: cell === 'rnn-relu' ? 'relu' : 'tanh' });
}

/** What a training run produced (for the start job). */
export interface TrainResult {
  outPath: string;
  firstLoss: number;
  finalLoss: number;
  valLoss?: number;
}

export async function trainCommand(argv: string[], result?: (r: TrainResult) => void): Promise<number> {
  const { values, positionals } = parse('train', () => parseArgs({ args: argv, strict: true, allowPositionals: true, options: {
    'input-format': { type: 'string' },
    features: { type: 'string' },
    targets: { type: 'string' },
    'sequence-column': { type: 'string' },
    'time-column': { type: 'string' },
    validation: { type: 'string' },
    'validation-split': { type: 'string', default: '0' },
    cell: { type: 'string', default: 'lstm' },
    hidden: { type: 'string', default: '32' },
    layers: { type: 'string', default: '1' },
    bidirectional: { type: 'boolean', default: false },
    head: { type: 'string', default: 'sequence' },
    epochs: { type: 'string', default: '20' },
    'batch-size': { type: 'string', default: '16' },
    lr: { type: 'string', default: '0.01' },
    clip: { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'out/model.safetensors' },
    help: { type: 'boolean', short: 'h' },
  } }));
  if (values.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`expected one DATA file, got ${positionals.length} arguments (see rnn-wasm train --help)`);
  }
  const format = values['input-format'] === undefined ? undefined
    : choice<DataFormat>('input-format', values['input-format'], ['csv', 'jsonl']);
  const cell = choice('cell', values.cell, CELLS);
  const head = choice<Head>('head', values.head, ['sequence', 'last']);
  const hidden = int('hidden', values.hidden, 1, 4096);
  const layers = int('layers', values.layers, 1, 64);
  const epochs = int('epochs', values.epochs, 0);
  const batchSize = int('batch-size', values['batch-size'], 1);
  const seed = int('seed', values.seed, 0, 2 ** 31 - 1);
  const lr = num('lr', values.lr, 'a positive number', (v) => v > 0);
  const clip = num('clip', values.clip, 'a number >= 0', (v) => v >= 0);
  const split = num('validation-split', values['validation-split'], 'a fraction in [0, 1)', (v) => v >= 0 && v < 1);
  if (split > 0 && values.validation) throw new UsageError('--validation-split: not with --validation (give one of them)');
  const dataOpts = {
    format, features: list(values.features), targets: list(values.targets), sequenceColumn: values['sequence-column'],
    timeColumn: values['time-column'], head, requireTargets: true,
  };

  await init();
  const all = await loadData(positionals[0]!, { ...dataOpts, argName: 'DATA' });
  let train: LoadedData = all;
  let validation: LoadedData | undefined;
  if (values.validation) {
    validation = await loadData(values.validation, { ...dataOpts, argName: '--validation' });
    if (validation.I !== all.I || validation.O !== all.O) {
      throw new UsageError(`--validation: ${values.validation} has ${validation.I} features and ${validation.O} targets, ` +
        `DATA ${all.I} and ${all.O}`);
    }
  } else if (split > 0) {
    const nVal = Math.floor(all.N * split);
    if (nVal < 1 || nVal >= all.N) {
      throw new UsageError(`--validation-split: ${split} of ${all.N} sequences leaves ${nVal} for validation and ` +
        `${all.N - nVal} for training; both need at least one`);
    }
    const idx = shuffled(all.N, seed);
    validation = subset(all, idx.slice(all.N - nVal).sort((a, b) => a - b));
    train = subset(all, idx.slice(0, all.N - nVal).sort((a, b) => a - b));
  }
  const rnn = makeRnn(cell, { inputSize: all.I, hiddenSize: hidden, numLayers: layers, bidirectional: values.bidirectional, seed });
  const model = new SequenceModel({
    rnn,
    head: new Linear({ inFeatures: rnn.numDirections * rnn.outputSize, outFeatures: all.O, seed: seed + 1 }),
    headInput: head,
  });
  try {
    const steps = Math.ceil(train.N / batchSize);
    console.log(`data: ${all.path} (${all.format}): ${train.N} training sequences` +
      (validation ? `, ${validation.N} validation` : '') + `, up to ${all.T} steps, ` +
      `${all.I} feature(s) [${all.featureNames.join(', ')}] -> ${all.O} target(s) [${all.targetNames.join(', ')}]`);
    console.log(`model: ${rnn.describeArch()} + Linear(${model.head.inFeatures}, ${all.O}) on ` +
      `${head === 'sequence' ? 'every step' : 'the last state'}, ${rnn.numParameters + model.head.inFeatures * all.O + all.O} parameters`);
    console.log(`training: ${epochs} epochs x ${steps} steps, batch ${batchSize}, Adam lr ${lr}` +
      (clip > 0 ? `, clip ${clip}` : '') + `, seed ${seed}`);
    const valSet = validation ? toDataset(validation) : undefined;
    const progress = new Progress(epochs, steps);
    const history = fit(model, toDataset(train), {
      epochs, batchSize, seed, clipGradNorm: clip > 0 ? clip : undefined, validation: valSet,
      optimizer: new Adam(model.parameters(), { lr }),
      onStepEnd: (s) => progress.step(s),
      onEpochEnd: (e) => progress.epoch(e, (e.epoch + 1) * steps),
    });
    const secs = progress.seconds();
    const first = history.epochs[0]?.loss ?? NaN;
    const last = history.epochs[history.epochs.length - 1]?.loss ?? NaN;
    const valLoss = valSet ? evaluate(model, valSet).loss : undefined;
    console.log(`trained ${history.steps} steps in ${secs.toFixed(2)} s (${(history.steps / Math.max(secs, 1e-9)).toFixed(0)} steps/s); ` +
      `loss ${fmt(first)} after the first epoch, final loss ${fmt(last)}` +
      (valLoss !== undefined ? `, validation MSE ${fmt(valLoss)}` : ''));
    const outPath = resolve(values.out);
    await mkdir(dirname(outPath), { recursive: true });
    const meta: CliMeta = { features: all.featureNames, targets: all.targetNames };
    if (all.format === 'csv') {
      if (dataOpts.sequenceColumn) meta.sequenceColumn = dataOpts.sequenceColumn;
      if (dataOpts.timeColumn) meta.timeColumn = dataOpts.timeColumn;
    }
    const bytes = saveModel(model, { trainedOn: all.path, [CLI_META]: JSON.stringify(meta) });
    await writeFile(outPath, bytes);
    console.log(`saved ${outPath} (${bytes.length} bytes)`);
    result?.({ outPath, firstLoss: first, finalLoss: last, valLoss });
  } finally {
    model.dispose();
  }
  return 0;
}
