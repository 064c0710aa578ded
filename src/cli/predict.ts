/**
 * `rnn-wasm predict`: runs a model file over a CSV or JSON-lines data set and writes the outputs.
 * @module
 */
import { parseArgs } from 'node:util';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RecurrentLayer, SequenceModel, init, loadModel, readSafetensors, type Tensor } from '../index.js';
import { CliError, UsageError, choice, fmt, int, list, parse } from './args.js';
import { formatOf, loadData, parseCsv, type DataFormat, type Head, type LoadedData } from './data.js';
import { CLI_META, DATA_FLAGS_HELP, FORMATS_HELP, type CliMeta } from './train.js';

export const PREDICT_HELP = `Usage: rnn-wasm predict MODEL DATA [options]

Runs MODEL (an rnn-wasm model file, as written by rnn-wasm train or saveModel) over the sequences of DATA and
writes its outputs: CSV with columns sequence, step (0-based, in time order; absent with a head on the last state)
and one column per output, or JSON lines {"id": ..., "output": [[...], ...]} (one row per step, or one list of
outputs with --head last). When DATA holds the targets (CSV: the model's target columns; JSON lines: "target"),
the MSE against them is printed on stderr.
${DATA_FLAGS_HELP}
                          (the CSV defaults are those the model was trained with, kept in the model file)
  --format F              csv or jsonl (default csv)
  --out FILE              write there (default: stdout)
  --batch-size N          sequences per forward call (default 64)
  -h, --help              this help

${FORMATS_HELP}

Example:
  rnn-wasm predict out/model.safetensors series.csv --format jsonl --out predictions.jsonl`;

/** Shortest decimal that reads back as the same float32. */
const f32 = (v: number): string => String(Number(v.toPrecision(9)));

/** The model's outputs for every sequence: rows[n] is (length_n, O) for a per-step head, (1, O) otherwise. */
export function predictAll(model: RecurrentLayer | SequenceModel, d: LoadedData, batchSize: number): number[][][] {
  const rnn = model instanceof SequenceModel ? model.rnn : model;
  const seqHead = !(model instanceof SequenceModel) || model.headInput === 'sequence';
  const bf = rnn.batchFirst;
  const { T, I } = d;
  const out: number[][][] = [];
  for (let s = 0; s < d.N; s += batchSize) {
    const B = Math.min(batchSize, d.N - s);
    const x = new Float32Array(B * T * I);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const src = ((s + b) * T + t) * I;
        x.set(d.inputs.subarray(src, src + I), (bf ? b * T + t : t * B + b) * I);
      }
    }
    const lengths = d.lengths.slice(s, s + B);
    const ragged = lengths.some((l) => l !== T);
    const shape = bf ? [B, T, I] : [T, B, I];
    const y: Tensor = model instanceof SequenceModel
      ? model.forward({ data: x, shape }, { lengths: ragged ? lengths : undefined })
      : model.forward({ data: x, shape }, { lengths: ragged ? lengths : undefined }).output;
    const O = y.shape[y.shape.length - 1]!;
    for (let b = 0; b < B; b++) {
      const rows: number[][] = [];
      if (seqHead) {
        for (let t = 0; t < lengths[b]!; t++) {
          const o = (bf ? b * T + t : t * B + b) * O;
          rows.push(Array.from(y.data.subarray(o, o + O)));
        }
      } else {
        rows.push(Array.from(y.data.subarray(b * O, (b + 1) * O)));
      }
      out.push(rows);
    }
  }
  return out;
}

/** MSE of the outputs against the data's targets. */
export function mseAgainst(d: LoadedData, outputs: number[][][]): number {
  let s = 0;
  let n = 0;
  outputs.forEach((rows, i) => {
    rows.forEach((r, t) => {
      const base = d.head === 'sequence' ? (i * d.T + t) * d.O : i * d.O;
      r.forEach((v, o) => {
        s += (v - d.targets![base + o]!) ** 2;
        n++;
      });
    });
  });
  return s / n;
}

export async function predictCommand(argv: string[], result?: (r: { mse?: number; outPath?: string }) => void): Promise<number> {
  const { values, positionals } = parse('predict', () => parseArgs({ args: argv, strict: true, allowPositionals: true, options: {
    'input-format': { type: 'string' },
    features: { type: 'string' },
    targets: { type: 'string' },
    'sequence-column': { type: 'string' },
    'time-column': { type: 'string' },
    format: { type: 'string', default: 'csv' },
    out: { type: 'string' },
    'batch-size': { type: 'string', default: '64' },
    help: { type: 'boolean', short: 'h' },
  } }));
  if (values.help) {
    console.log(PREDICT_HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(`expected MODEL and DATA, got ${positionals.length} arguments (see rnn-wasm predict --help)`);
  }
  const [modelPath, dataPath] = positionals as [string, string];
  const outFormat = choice<DataFormat>('format', values.format, ['csv', 'jsonl']);
  const inFormat = values['input-format'] === undefined ? undefined
    : choice<DataFormat>('input-format', values['input-format'], ['csv', 'jsonl']);
  const batchSize = int('batch-size', values['batch-size'], 1);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelPath);
  } catch (e) {
    throw new CliError(`MODEL: cannot read ${modelPath}` +
      ((e as { code?: string }).code === 'ENOENT' ? ': no such file (check the path)' : `: ${(e as Error).message}`));
  }
  await init();
  const model = loadModel(bytes);
  try {
    let meta: Partial<CliMeta> = {};
    try {
      meta = JSON.parse(readSafetensors(bytes).metadata[CLI_META] ?? '{}') as CliMeta;
    } catch {
      meta = {};
    }
    const head: Head = model instanceof SequenceModel ? model.headInput : 'sequence';
    const format = formatOf(dataPath, inFormat);
    const csv = format === 'csv';
    let targets = list(values.targets);
    if (csv && targets === undefined && meta.targets?.length) {
      // The model's target columns, when the file has them all.
      const text = await readFile(dataPath, 'utf8').catch(() => '');
      const header = (parseCsv(text.slice(0, text.indexOf('\n') + 1 || undefined))[0] ?? []).map((h) => h.trim());
      if (meta.targets.every((t) => header.includes(t))) targets = meta.targets;
    }
    const d = await loadData(dataPath, {
      format: inFormat, head, requireTargets: false, argName: 'DATA',
      features: csv ? list(values.features) ?? meta.features : list(values.features),
      targets: csv ? targets : undefined,
      sequenceColumn: csv ? values['sequence-column'] ?? meta.sequenceColumn : values['sequence-column'],
      timeColumn: csv ? values['time-column'] ?? meta.timeColumn : values['time-column'],
    });
    const rnn = model instanceof SequenceModel ? model.rnn : model;
    if (d.I !== rnn.inputSize) {
      throw new UsageError(`--features: the model takes ${rnn.inputSize} input feature(s), ${d.path} gives ${d.I}` +
        (csv ? ` [${d.featureNames.join(', ')}]` : ''));
    }
    const outputs = predictAll(model, d, batchSize);
    const O = outputs[0]?.[0]?.length ?? 0;
    const names = meta.targets?.length === O ? meta.targets : Array.from({ length: O }, (_, i) => `y${i}`);
    const lines: string[] = [];
    if (outFormat === 'csv') {
      const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
      lines.push(['sequence', ...(head === 'sequence' ? ['step'] : []), ...names].map(q).join(','));
      outputs.forEach((rows, i) => {
        rows.forEach((r, t) => lines.push([q(d.ids[i]!), ...(head === 'sequence' ? [String(t)] : []), ...r.map(f32)].join(',')));
      });
    } else {
      outputs.forEach((rows, i) => {
        const out = head === 'sequence' ? `[${rows.map((r) => `[${r.map(f32).join(',')}]`).join(',')}]`
          : `[${rows[0]!.map(f32).join(',')}]`;
        lines.push(`{"id":${JSON.stringify(d.ids[i])},"output":${out}}`);
      });
    }
    const text = `${lines.join('\n')}\n`;
    let outPath: string | undefined;
    if (values.out) {
      outPath = resolve(values.out);
      await mkdir(dirname(outPath), { recursive: true });
      await writeFile(outPath, text);
    } else {
      process.stdout.write(text);
    }
    const mse = d.targets && d.O === O ? mseAgainst(d, outputs) : undefined;
    const steps = outputs.reduce((a, r) => a + r.length, 0);
    console.error(`predicted ${d.N} sequence(s), ${steps} output row(s) of ${O} with ${rnn.describeArch()}` +
      (mse !== undefined ? `; MSE against the targets ${fmt(mse)}` : '') + (outPath ? `; wrote ${outPath}` : ''));
    result?.({ mse, outPath });
  } finally {
    model.dispose();
  }
  return 0;
}
