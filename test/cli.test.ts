// The command line (dist/cli/main.js, built by npm test first): train on CSV and JSON lines, predict against
// model.forward in-process, analyze, bench, --help, and usage errors naming the flag (exit 2) or file (exit 1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceModel, init, loadModel } from '../src/index.js';

const MAIN = resolve(__dirname, '../dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-cli-'));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Losses of the per-epoch lines printed without a terminal. */
function losses(stdout: string): number[] {
  return [...stdout.matchAll(/epoch +\d+\/\d+: loss ([\d.e+-]+)/g)].map((m) => Number(m[1]));
}

// 12 sequences of 2 features; targets: a smoothed sum (per step), and the last step's value.
const csvLines = ['id,t,a,b,y'];
const jsonl: string[] = [];
for (let s = 0; s < 12; s++) {
  const T = 8 + (s % 3);
  let acc = 0;
  const x: number[][] = [];
  const y: number[][] = [];
  for (let t = 0; t < T; t++) {
    const a = Math.sin(0.7 * t + s);
    const b = Math.cos(0.3 * t * s);
    acc = 0.6 * acc + 0.4 * (a + b);
    x.push([a, b]);
    y.push([acc]);
    csvLines.push(`seq${s},${t},${a.toFixed(5)},${b.toFixed(5)},${acc.toFixed(5)}`);
  }
  jsonl.push(JSON.stringify({ id: `j${s}`, input: x, target: y }));
}
// Time column out of row order: reverse the rows (the header stays first).
const csvText = [csvLines[0], ...csvLines.slice(1).reverse()].join('\n');

beforeAll(async () => {
  await init();
  writeFileSync(join(dir, 'tiny.csv'), `${csvText}\n`);
  writeFileSync(join(dir, 'tiny.jsonl'), `${jsonl.join('\n')}\n`);
  writeFileSync(join(dir, 'bad.csv'), 'id,t,a\nq,0,1\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train', () => {
  it('trains a GRU on CSV with a sequence and time column, and the model file has that architecture', () => {
    const r = cli('train', 'tiny.csv', '--sequence-column', 'id', '--time-column', 't', '--features', 'a,b',
      '--targets', 'y', '--cell', 'gru', '--hidden', '8', '--layers', '2', '--epochs', '12', '--batch-size', '4',
      '--lr', '0.02', '--validation-split', '0.25', '--out', 'gru.safetensors');
    expect(r.code, r.stderr).toBe(0);
    const l = losses(r.stdout);
    expect(l).toHaveLength(12);
    expect(l[l.length - 1]!).toBeLessThan(l[0]!);
    expect(r.stdout).toMatch(/final loss/);
    const m = loadModel(readFileSync(join(dir, 'gru.safetensors'))) as SequenceModel;
    expect(m).toBeInstanceOf(SequenceModel);
    expect(m.rnn.mode).toBe('GRU');
    expect([m.rnn.inputSize, m.rnn.hiddenSize, m.rnn.numLayers, m.head.outFeatures]).toEqual([2, 8, 2, 1]);
    m.dispose();
  });

  it('trains a bidirectional LSTM on JSON lines with a head on the last state', () => {
    const r = cli('train', 'tiny.jsonl', '--cell', 'lstm', '--hidden', '6', '--bidirectional', '--head', 'last',
      '--epochs', '10', '--batch-size', '4', '--lr', '0.03', '--out', 'lstm.safetensors');
    expect(r.code, r.stderr).toBe(0);
    const l = losses(r.stdout);
    expect(l).toHaveLength(10);
    expect(l[l.length - 1]!).toBeLessThan(l[0]!);
    const m = loadModel(readFileSync(join(dir, 'lstm.safetensors'))) as SequenceModel;
    expect(m.rnn.mode).toBe('LSTM');
    expect(m.rnn.bidirectional).toBe(true);
    expect(m.headInput).toBe('last');
    expect([m.rnn.inputSize, m.rnn.hiddenSize, m.head.inFeatures]).toEqual([2, 6, 12]);
    m.dispose();
  });
});

describe('predict', () => {
  it('writes CSV outputs equal to model.forward per sequence (columns from the model file)', () => {
    const r = cli('predict', 'gru.safetensors', 'tiny.csv', '--out', 'pred.csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/MSE against the targets/);
    const rows = readFileSync(join(dir, 'pred.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('sequence,step,y');
    const m = loadModel(readFileSync(join(dir, 'gru.safetensors'))) as SequenceModel;
    let k = 1;
    // The rows were reversed, so sequences come in order of first appearance: seq11 first.
    for (let s = 11; s >= 0; s--) {
      const seq = JSON.parse(jsonl[s]!) as { input: number[][] };
      const T = seq.input.length;
      // The CSV holds the inputs rounded to 5 decimals.
      const x = Float32Array.from(seq.input.flat().map((v) => Number(v.toFixed(5))));
      const y = m.forward({ data: x, shape: [1, T, 2] });
      for (let t = 0; t < T; t++, k++) {
        const [id, step, v] = rows[k]!.split(',');
        expect([id, Number(step)]).toEqual([`seq${s}`, t]);
        expect(Math.abs(Number(v) - y.data[t]!)).toBeLessThan(1e-6);
      }
    }
    expect(k).toBe(rows.length);
    m.dispose();
  });

  it('writes JSON lines to stdout for a head on the last state', () => {
    const r = cli('predict', 'lstm.safetensors', 'tiny.jsonl', '--format', 'jsonl');
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; output: number[] });
    expect(out).toHaveLength(12);
    const m = loadModel(readFileSync(join(dir, 'lstm.safetensors'))) as SequenceModel;
    out.forEach((o, s) => {
      const seq = JSON.parse(jsonl[s]!) as { input: number[][] };
      const y = m.forward({ data: Float32Array.from(seq.input.flat()), shape: [1, seq.input.length, 2] });
      expect(o.id).toBe(`j${s}`);
      expect(o.output).toHaveLength(1);
      expect(Math.abs(o.output[0]! - y.data[0]!)).toBeLessThan(1e-6);
    });
    m.dispose();
  });
});

it('experiments runs one with parameters, writes the page and JSON, and --check fails a broken claim', () => {
  const r = cli('experiments', 'memory-pulse', '--pulse', '-0.25', '--steps', '12', '--out', 'exp/page.html', '--json', 'exp/r.json');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/ 1\. memory-pulse +holds /);
  const res = JSON.parse(readFileSync(join(dir, 'exp/r.json'), 'utf8')) as { params: Record<string, number>; data: { tanh: number[] } }[];
  expect(res[0]!.params).toEqual({ pulse: -0.25, weight: 1, steps: 12 });
  expect(res[0]!.data.tanh).toHaveLength(12);
  expect(res[0]!.data.tanh[0]).toBeCloseTo(Math.tanh(-0.25), 14);
  const html = readFileSync(join(dir, 'exp/page.html'), 'utf8');
  expect(html).toMatch(/<svg[^>]*>/);
  expect(html).toContain('Claim.');
  const broken = cli('experiments', 'memory-pulse', '--pulse', '0.5', '--check', '--out', 'exp/broken.html');
  expect(broken.code).toBe(1);
  expect(broken.stdout).toMatch(/memory-pulse +DOES NOT HOLD/);
  expect(broken.stdout).toMatch(/0 of 1 claims hold/);
});

it('experiments --list names every experiment with its parameters', () => {
  const r = cli('experiments', '--list');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/ 1\. memory-pulse/);
  expect(r.stdout).toMatch(/--pulse \(default -0\.5; in \[-3, 3\]\)/);
});

it('analyze prints the report and writes HTML', () => {
  const r = cli('analyze', 'gru.safetensors', '--steps', '20', '--html', 'report.html');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/GRU input 2, hidden 8/);
  expect(r.stdout).toMatch(/Fixed points/);
  expect(existsSync(join(dir, 'report.html'))).toBe(true);
});

it('bench prints a table', () => {
  const r = cli('bench', '--cells', 'lstm,gru,rnn-tanh', '--hidden', '8', '--steps', '5', '--batch', '2', '--seconds', '0.02');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/cell +hidden +forward ms +GFLOP\/s +train step ms +GFLOP\/s/);
  expect(r.stdout.split('\n').filter((l) => /^(lstm|gru|rnn-tanh) +8 /.test(l))).toHaveLength(3);
});

it.each(['train', 'predict', 'analyze', 'bench', 'start', 'run', 'experiments'])('%s --help', (cmd) => {
  const r = cli(cmd, '--help');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`Usage: rnn-wasm .*${cmd === 'run' ? '' : cmd}`));
});

it('--help lists the commands', () => {
  const r = cli('--help');
  expect(r.code).toBe(0);
  for (const c of ['train', 'predict', 'analyze', 'bench', 'start', 'run', 'experiments']) expect(r.stdout).toContain(`  ${c}`);
});

it.each([
  ['an unknown flag', ['train', 'tiny.csv', '--targets', 'y', '--hiden', '8'], 2, /unknown flag --hiden/],
  ['a bad --cell', ['train', 'tiny.csv', '--targets', 'y', '--cell', 'lstn'], 2, /--cell: expected one of lstm, gru, rnn-tanh, rnn-relu, got 'lstn'/],
  ['a non-numeric --hidden', ['train', 'tiny.csv', '--targets', 'y', '--hidden', 'many'], 2, /--hidden: expected an integer/],
  ['a CSV without the named column', ['train', 'bad.csv', '--features', 'a,b', '--targets', 'y'], 2, /--targets: no column 'y' in bad\.csv \(its columns: id, t, a\)/],
  ['missing --targets', ['train', 'tiny.csv'], 2, /--targets: name the target column/],
  ['a missing data file', ['train', 'nope.csv', '--targets', 'y'], 1, /DATA: cannot read nope\.csv: no such file/],
  ['a missing model file', ['predict', 'nope.safetensors', 'tiny.jsonl'], 1, /MODEL: cannot read nope\.safetensors/],
  ['a bad --format', ['predict', 'gru.safetensors', 'tiny.csv', '--format', 'xml'], 2, /--format: expected one of csv, jsonl/],
  ['an unknown command', ['trian'], 2, /unknown command 'trian'/],
  ['a bad bench --hidden', ['bench', '--hidden', '8,x'], 2, /--hidden: expected an integer/],
  ['an unknown experiment', ['experiments', 'memory-puls'], 2, /unknown experiment 'memory-puls'; expected one of memory-pulse/],
  ['an experiment parameter out of range', ['experiments', 'memory-pulse', '--pulse', '9'], 2, /--pulse: expected a value in \[-3, 3\], got 9/],
  ['an unknown experiment parameter', ['experiments', 'memory-pulse', '--pulze', '1'], 2, /--pulze: 'memory-pulse' has no parameter 'pulze'; expected --pulse, --weight, --steps/],
  ['an experiment parameter without NAME', ['experiments', '--pulse', '1'], 2, /--pulse: parameters need exactly one experiment NAME, got 0/],
])('%s: exit code and a message naming it', (_, args, code, message) => {
  const r = cli(...(args as string[]));
  expect(r.code).toBe(code);
  expect(r.stderr).toMatch(message as RegExp);
});
