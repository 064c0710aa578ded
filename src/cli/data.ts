/**
 * Data files of the command line, shared by `train` and `predict`.
 *
 * CSV: a header row, then one row per time step. `--sequence-column` groups rows into sequences (in order of first
 * appearance; without it the whole file is one sequence); `--time-column` orders the rows of a sequence (default:
 * row order). `--features` are the input columns (default: every column that is not the sequence, time or target
 * column), `--targets` the target columns. With `--head last` a sequence's target is its last row's targets.
 *
 * JSON lines (`.jsonl`, `.ndjson`): one sequence per line, `{"id"?: any, "input": [[x...], ...], "target"?: ...}`;
 * `input` is T rows of I numbers (or T numbers when I = 1); `target` is T rows of O numbers (or T numbers) for a
 * per-step head, or O numbers (or T rows, of which the last counts) for `--head last`.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Dataset } from '../index.js';
import { CliError, UsageError } from './args.js';

export type DataFormat = 'csv' | 'jsonl';
export type Head = 'sequence' | 'last';

/** How to read a data file. */
export interface DataOptions {
  /** Default: from the extension (.csv, else JSON lines). */
  format?: DataFormat;
  features?: string[];
  targets?: string[];
  sequenceColumn?: string;
  timeColumn?: string;
  head: Head;
  /** Targets must be present (training). */
  requireTargets: boolean;
  /** Name of the argument in messages (e.g. DATA, --validation). */
  argName: string;
}

/** N padded sequences, batch-major. */
export interface LoadedData {
  path: string;
  format: DataFormat;
  ids: string[];
  N: number;
  /** Longest sequence. */
  T: number;
  I: number;
  /** (N, T, I), zero-padded past each sequence's length. */
  inputs: Float32Array;
  lengths: number[];
  featureNames: string[];
  /** Features per target, 0 when there are no targets. */
  O: number;
  /** (N, T, O) for a per-step head, (N, O) for `last`. */
  targets?: Float32Array;
  targetNames: string[];
  head: Head;
}

/** The format of a file, from `--input-format` or the extension. */
export function formatOf(path: string, format?: DataFormat): DataFormat {
  if (format) return format;
  return /\.csv$/i.test(path) ? 'csv' : 'jsonl';
}

async function readText(path: string, argName: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CliError(`${argName}: cannot read ${path}` +
      (code === 'ENOENT' ? ': no such file (check the path)' : `: ${(e as Error).message}`));
  }
}

/** Splits CSV text into rows of fields (quotes with "" escapes; \n or \r\n line ends). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c;
      i++;
      continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\n' || c === '\r') {
      row.push(field);
      field = '';
      if (!(row.length === 1 && row[0]!.trim() === '')) rows.push(row);
      row = [];
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c;
    i++;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    if (!(row.length === 1 && row[0]!.trim() === '')) rows.push(row);
  }
  return rows;
}

interface Seq { id: string; x: number[][]; y?: number[][] }

function toNumber(s: string, where: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) throw new CliError(`${where}: expected a number, got '${s}'`);
  return v;
}

function readCsvSeqs(text: string, path: string, o: DataOptions): { seqs: Seq[]; features: string[]; targets: string[] } {
  const rows = parseCsv(text);
  if (rows.length < 2) throw new CliError(`${o.argName}: ${path} needs a header row and at least one data row`);
  const header = rows[0]!.map((h) => h.trim());
  const col = (flag: string, name: string): number => {
    const j = header.indexOf(name);
    if (j < 0) {
      throw new UsageError(`${flag}: no column '${name}' in ${path} (its columns: ${header.join(', ')})`);
    }
    return j;
  };
  const sc = o.sequenceColumn !== undefined ? col('--sequence-column', o.sequenceColumn) : -1;
  const tc = o.timeColumn !== undefined ? col('--time-column', o.timeColumn) : -1;
  const targets = o.targets ?? [];
  if (o.requireTargets && targets.length === 0) {
    throw new UsageError(`--targets: name the target column(s) of ${path}, e.g. --targets ${header[header.length - 1]}`);
  }
  const tj = targets.map((t) => col('--targets', t));
  const features = o.features ?? header.filter((h, j) => j !== sc && j !== tc && !tj.includes(j));
  if (features.length === 0) throw new UsageError(`--features: no feature columns left in ${path}; name them with --features`);
  const fj = features.map((f) => col('--features', f));
  const groups = new Map<string, { t: number; r: number; x: number[]; y: number[] }[]>();
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length !== header.length) {
      throw new CliError(`${path}:${r + 1}: expected ${header.length} fields as in the header, got ${row.length}`);
    }
    const where = (j: number): string => `${path}:${r + 1}, column '${header[j]}'`;
    const id = sc >= 0 ? row[sc]!.trim() : '0';
    let g = groups.get(id);
    if (!g) groups.set(id, (g = []));
    g.push({
      t: tc >= 0 ? toNumber(row[tc]!, where(tc)) : r, r,
      x: fj.map((j) => toNumber(row[j]!, where(j))),
      y: tj.map((j) => toNumber(row[j]!, where(j))),
    });
  }
  const seqs: Seq[] = [];
  for (const [id, g] of groups) {
    if (tc >= 0) g.sort((a, b) => a.t - b.t || a.r - b.r);
    seqs.push({ id, x: g.map((s) => s.x), y: tj.length ? g.map((s) => s.y) : undefined });
  }
  return { seqs, features, targets };
}

function rowsOf(v: unknown, where: string): number[][] {
  if (!Array.isArray(v) || v.length === 0) throw new CliError(`${where}: expected a non-empty array`);
  const rows = v.map((r) => (Array.isArray(r) ? r : [r]));
  for (const r of rows) {
    for (const x of r) if (typeof x !== 'number' || !Number.isFinite(x)) throw new CliError(`${where}: expected finite numbers, got ${JSON.stringify(x)}`);
  }
  return rows as number[][];
}

function readJsonlSeqs(text: string, path: string, o: DataOptions): Seq[] {
  for (const flag of ['features', 'targets', 'sequenceColumn', 'timeColumn'] as const) {
    if (o[flag] !== undefined) {
      const name = `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new UsageError(`${name}: applies to CSV data; ${path} is read as JSON lines (pass --input-format csv if it is CSV)`);
    }
  }
  const seqs: Seq[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${path}:${i + 1}`;
    let j: { id?: unknown; input?: unknown; target?: unknown };
    try {
      j = JSON.parse(line) as typeof j;
    } catch (e) {
      throw new CliError(`${where}: not JSON (${(e as Error).message}); expected {"input": [[...], ...], "target": [[...], ...]}`);
    }
    if (j === null || typeof j !== 'object' || !('input' in j)) throw new CliError(`${where}: expected an object with "input"`);
    const x = rowsOf(j.input, `${where} "input"`);
    let y: number[][] | undefined;
    if (j.target !== undefined) {
      if (o.head === 'last' && Array.isArray(j.target) && j.target.every((v) => typeof v === 'number')) {
        y = [j.target as number[]];
        rowsOf(y, `${where} "target"`);
      } else {
        y = rowsOf(j.target, `${where} "target"`);
        if (o.head === 'sequence' && y.length !== x.length) {
          throw new CliError(`${where}: "target" has ${y.length} steps, "input" ${x.length} (a per-step head needs one per step)`);
        }
      }
    }
    seqs.push({ id: j.id === undefined ? String(seqs.length) : String(j.id), x, y });
  }
  return seqs;
}

/** Reads a data file into padded batch-major arrays. */
export async function loadData(path: string, o: DataOptions): Promise<LoadedData> {
  const format = formatOf(path, o.format);
  const text = await readText(path, o.argName);
  let seqs: Seq[];
  let featureNames: string[];
  let targetNames: string[];
  if (format === 'csv') {
    const r = readCsvSeqs(text, path, o);
    seqs = r.seqs;
    featureNames = r.features;
    targetNames = r.targets;
  } else {
    seqs = readJsonlSeqs(text, path, o);
    featureNames = [];
    targetNames = [];
  }
  if (seqs.length === 0) throw new CliError(`${o.argName}: ${path} holds no sequences`);
  const I = seqs[0]!.x[0]!.length;
  const hasY = seqs.some((s) => s.y !== undefined);
  if (o.requireTargets && !hasY) throw new CliError(`${o.argName}: ${path} has no targets ("target" on every line)`);
  const O = hasY ? seqs.find((s) => s.y)!.y![0]!.length : 0;
  for (const s of seqs) {
    for (const r of s.x) if (r.length !== I) throw new CliError(`${path}: sequence ${s.id} has a step of ${r.length} features, the first ${I}`);
    if (hasY) {
      if (!s.y) throw new CliError(`${path}: sequence ${s.id} has no target while others do`);
      for (const r of s.y) if (r.length !== O) throw new CliError(`${path}: sequence ${s.id} has a target of ${r.length} values, the first ${O}`);
    }
  }
  if (format === 'jsonl') {
    featureNames = Array.from({ length: I }, (_, i) => `x${i}`);
    targetNames = Array.from({ length: O }, (_, i) => `y${i}`);
  }
  const N = seqs.length;
  const T = Math.max(...seqs.map((s) => s.x.length));
  const inputs = new Float32Array(N * T * I);
  const lengths = seqs.map((s) => s.x.length);
  let targets: Float32Array | undefined;
  if (hasY) targets = new Float32Array(o.head === 'sequence' ? N * T * O : N * O);
  seqs.forEach((s, n) => {
    s.x.forEach((r, t) => inputs.set(r, (n * T + t) * I));
    if (targets && s.y) {
      if (o.head === 'sequence') s.y.forEach((r, t) => targets!.set(r, (n * T + t) * O));
      else targets.set(s.y[s.y.length - 1]!, n * O);
    }
  });
  return { path, format, ids: seqs.map((s) => s.id), N, T, I, inputs, lengths, featureNames, O, targets, targetNames,
    head: o.head };
}

/** The sequences at `idx`. */
export function subset(d: LoadedData, idx: number[]): LoadedData {
  const { T, I, O } = d;
  const inputs = new Float32Array(idx.length * T * I);
  const per = d.head === 'sequence' ? T * O : O;
  const targets = d.targets ? new Float32Array(idx.length * per) : undefined;
  idx.forEach((i, n) => {
    inputs.set(d.inputs.subarray(i * T * I, (i + 1) * T * I), n * T * I);
    if (targets) targets.set(d.targets!.subarray(i * per, (i + 1) * per), n * per);
  });
  return { ...d, ids: idx.map((i) => d.ids[i]!), N: idx.length, inputs, targets, lengths: idx.map((i) => d.lengths[i]!) };
}

/** As a {@link Dataset} for fit / evaluate (lengths only when the sequences differ in length). */
export function toDataset(d: LoadedData): Dataset {
  if (!d.targets) throw new CliError(`${d.path}: no targets`);
  const ragged = d.lengths.some((l) => l !== d.T);
  return {
    inputs: { data: d.inputs, shape: [d.N, d.T, d.I] },
    targets: { data: d.targets, shape: d.head === 'sequence' ? [d.N, d.T, d.O] : [d.N, d.O] },
    lengths: ragged ? d.lengths : undefined,
  };
}
