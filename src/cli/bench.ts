/**
 * `rnn-wasm bench`: a quick in-process benchmark of forward and training steps.
 * FLOPs of a forward pass: T * B * gates * 2 * H * (I + H) (the matrix products; gates 4 LSTM, 3 GRU, 1 RNN);
 * a training step (forward with activations kept, backward through time, Adam) is counted as 3x that.
 * @module
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Adam, GRU, LSTM, RNN, init, type RecurrentLayer } from '../index.js';
import { UsageError, choice, int, list, num, parse } from './args.js';

export const BENCH_HELP = `Usage: rnn-wasm bench [options]

Times the forward pass and a training step (forward, backpropagation through time, Adam) of one-layer
recurrent networks in this process and prints ms per call and GFLOP/s. Forward FLOPs are
T * B * gates * 2 * H * (I + H) (gates: 4 LSTM, 3 GRU, 1 RNN); a training step counts as 3x the forward.
  --cells a,b       among lstm, gru, rnn-tanh, rnn-relu (default lstm,gru,rnn-tanh)
  --hidden a,b      hidden sizes (default 32,128)
  --input N         input features (default 16)
  --steps N         sequence length T (default 50)
  --batch N         batch size B (default 16)
  --seconds X       time budget per measurement (default 0.25)
  --threads N       engine threads (default 1; forward only uses more on large batches)
  -h, --help        this help

Example:
  rnn-wasm bench --cells lstm,gru --hidden 64,256 --batch 32`;

const CELLS = ['lstm', 'gru', 'rnn-tanh', 'rnn-relu'] as const;
const GATES = { lstm: 4, gru: 3, 'rnn-tanh': 1, 'rnn-relu': 1 } as const;

function make(cell: (typeof CELLS)[number], I: number, H: number): RecurrentLayer {
  const o = { inputSize: I, hiddenSize: H, seed: 1 };
  if (cell === 'lstm') return new LSTM(o);
  if (cell === 'gru') return new GRU(o);
  return new RNN({ ...o, nonlinearity: cell === 'rnn-relu' ? 'relu' : 'tanh' });
}

/** Median ms of `f` over as many calls as fit in `budget` seconds (at least 3, after 2 warm-up calls). */
function time(f: () => void, budget: number): number {
  f();
  f();
  const times: number[] = [];
  const end = performance.now() + budget * 1000;
  while (times.length < 3 || (performance.now() < end && times.length < 1000)) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parse('bench', () => parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
    cells: { type: 'string', default: 'lstm,gru,rnn-tanh' },
    hidden: { type: 'string', default: '32,128' },
    input: { type: 'string', default: '16' },
    steps: { type: 'string', default: '50' },
    batch: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '0.25' },
    threads: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h' },
  } }));
  if (values.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  const cells = (list(values.cells) ?? []).map((c) => choice('cells', c, CELLS));
  if (cells.length === 0) throw new UsageError('--cells: name at least one cell, e.g. --cells lstm');
  const hidden = (list(values.hidden) ?? []).map((h) => int('hidden', h, 1, 4096));
  if (hidden.length === 0) throw new UsageError('--hidden: give at least one size, e.g. --hidden 32');
  const I = int('input', values.input, 1, 4096);
  const T = int('steps', values.steps, 1, 100000);
  const B = int('batch', values.batch, 1, 4096);
  const budget = num('seconds', values.seconds, 'a positive number of seconds', (v) => v > 0);
  const threads = int('threads', values.threads, 1, 64);
  const engine = await init({ threads });
  console.log(`rnn-wasm bench: engine ${engine.flavour} SIMD, ${threads} thread(s); T=${T}, B=${B}, I=${I}, one layer\n`);
  const header = ['cell', 'hidden', 'forward ms', 'GFLOP/s', 'train step ms', 'GFLOP/s'];
  const rows: string[][] = [];
  const x = new Float32Array(T * B * I);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
  const input = { data: x, shape: [T, B, I] };
  for (const cell of cells) {
    for (const H of hidden) {
      const m = make(cell, I, H);
      const opt = new Adam(m.parameters(), { lr: 1e-4 });
      const ones = new Float32Array(T * B * H).fill(1e-3);
      try {
        const flops = T * B * GATES[cell] * 2 * H * (I + H);
        const fwd = time(() => m.forward(input), budget);
        const trn = time(() => {
          m.zeroGrad();
          m.forward(input, { train: true });
          m.backward({ output: { data: ones, shape: [T, B, H] } }, { collectGrads: false });
          opt.step();
        }, budget);
        rows.push([cell, String(H), fwd.toFixed(3), (flops / fwd / 1e6).toFixed(2), trn.toFixed(3),
          ((3 * flops) / trn / 1e6).toFixed(2)]);
        console.error(`  ${cell} H=${H} done`);
      } finally {
        opt.dispose();
        m.dispose();
      }
    }
  }
  const w = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (r: string[]): string => r.map((c, j) => (j < 1 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  ');
  console.log(line(header));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
  return 0;
}
