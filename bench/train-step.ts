/**
 * bench/train-step: the training target, one step (zeroGrad, forward train, MSE gradient, backward, Adam)
 * of LSTM, GRU and RNN-tanh at input 32, hidden 256, sequence 100, batch 32, timed for two builds of the kernels
 * loaded side by side in this process (two engines; a model keeps the engine it was made on), alternating old and
 * new every round (A B, B A, ...) so that the machine's noise hits both alike. Before timing, one step of each from
 * the same weights and data is compared (max |old - new| of output, hN, every gradient and dInput).
 * With --torch, PyTorch's step (bench/torch-train-step.py --serve: one thread, Adam, the input without
 * requires_grad) runs in a child process in the same rounds (old, new, torch in a rotating order), and the
 * ratios torch/ours (medians, and the median of each round's ratio) are printed and recorded.
 *
 * Run: `node bench/train-step.js [--old <dir>] [--new <dir>] [--flavour simd,relaxed] [--cells LSTM,GRU,RNN]
 * [--batch <n>] [--rounds <n>] [--torch] [--no-input-grad] [--no-write]`. Defaults: --batch 32, --old build/old (kernels built from the
 * commit before the change: see bench/README.md), --new build/, flavour simd, 12 rounds. Both builds run this
 * checkout's TypeScript (dist/); only the .wasm differs. --no-input-grad passes `inputGrad: false` to the new
 * side's backward only (the old side computes dInput, as before that option). Writes bench/results/train-step.json unless --no-write.
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import path from 'node:path';
import { Adam, GRU, init, LSTM, RNN, type RecurrentLayer } from '../dist/index.js';
import { arg, listArg } from './workloads.js';
import { fmt, machine, maxAbsDiff, mseGrad, randomData, ROOT, stats, writeJson } from './util.js';

const T = 100;
const I = 32;
const H = 256;
const B = Number(arg('--batch') ?? 32);
const LR = 1e-3;
const oldDir = arg('--old') ?? path.join(ROOT, 'build', 'old');
const newDir = arg('--new') ?? path.join(ROOT, 'build');
const flavours = (listArg('--flavour') ?? ['simd']) as ('simd' | 'relaxed')[];
const cells = listArg('--cells') ?? ['LSTM', 'GRU', 'RNN'];
const rounds = Number(arg('--rounds') ?? 12);
const write = !process.argv.includes('--no-write');
const withTorch = process.argv.includes('--torch');
const noInputGrad = process.argv.includes('--no-input-grad');
const GATES: Record<string, number> = { LSTM: 4, GRU: 3, RNN: 1 };

/** A PyTorch process serving one training step per request (bench/torch-train-step.py --serve). */
async function torchServer(): Promise<{ step: (cell: string) => Promise<number>; close: () => void } | undefined> {
  const p = spawn('/usr/bin/python3', [path.join(ROOT, 'bench', 'torch-train-step.py'), '--serve'],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string | undefined> => (await lines.next()).value as string | undefined;
  if ((await next()) !== 'ready') {
    console.log('PyTorch not timed (bench/torch-train-step.py --serve did not start)');
    return undefined;
  }
  return {
    step: async (cell) => { p.stdin!.write(`${cell}\n`); return Number(await next()); },
    close: () => { p.stdin!.end(); },
  };
}

interface Data { x: Float32Array; target: Float32Array; dOut: Float32Array }

function trainStep(m: RecurrentLayer, opt: Adam, d: Data, newApi: boolean): number {
  opt.zeroGrad();
  const r = m.forward({ data: d.x, shape: [T, B, I] }, { train: true });
  const loss = mseGrad(r.output.data, d.target, d.dOut);
  const o: Record<string, boolean> = { collectGrads: false };
  if (newApi && noInputGrad) o.inputGrad = false;
  m.backward({ output: { data: d.dOut, shape: [T, B, H] } }, o);
  opt.step();
  return loss;
}

/** One forward and one backward of each model from the same weights: the largest difference over everything. */
function compare(a: RecurrentLayer, b: RecurrentLayer, d: Data): Record<string, number> {
  const out: Record<string, number> = {};
  const fa = a.forward({ data: d.x, shape: [T, B, I] }, { train: true });
  const fb = b.forward({ data: d.x, shape: [T, B, I] }, { train: true });
  out.output = maxAbsDiff(fa.output.data, fb.output.data);
  out.hN = maxAbsDiff(fa.hN.data, fb.hN.data);
  const dOut = new Float32Array(T * B * H);
  mseGrad(fa.output.data, d.target, dOut);
  const ba = a.backward({ output: { data: dOut, shape: [T, B, H] } });
  const bb = b.backward({ output: { data: dOut, shape: [T, B, H] } });
  for (const k of Object.keys(ba.grads)) out[k] = maxAbsDiff(ba.grads[k]!.data, bb.grads[k]!.data);
  out.dInput = maxAbsDiff(ba.dInput.data, bb.dInput.data);
  return out;
}

const server = withTorch ? await torchServer() : undefined;
const results: Record<string, unknown>[] = [];
for (const flavour of flavours) {
  const file = `rnn-${flavour}.wasm`;
  const mk = (cell: string): RecurrentLayer => {
    const o = { inputSize: I, hiddenSize: H, seed: 1234 };
    return cell === 'LSTM' ? new LSTM(o) : cell === 'GRU' ? new GRU(o) : new RNN(o);
  };
  await init({ wasm: path.join(oldDir, file), simd: flavour, threads: 1, force: true });
  const olds = cells.map(mk);
  await init({ wasm: path.join(newDir, file), simd: flavour, threads: 1, force: true });
  const news = cells.map(mk);
  for (let c = 0; c < cells.length; c++) {
    const cell = cells[c]!, om = olds[c]!, nm = news[c]!;
    const d: Data = { x: randomData(T * B * I, 11), target: randomData(T * B * H, 12).map((v) => 0.5 * v),
      dOut: new Float32Array(T * B * H) };
    const diff = compare(om, nm, d);
    const worst = Math.max(...Object.values(diff));
    const optO = new Adam(om.parameters(), { lr: LR });
    const optN = new Adam(nm.parameters(), { lr: LR });
    for (let i = 0; i < 3; i++) { trainStep(om, optO, d, false); trainStep(nm, optN, d, true); }
    const a: number[] = [], b: number[] = [], paired: number[] = [], tt: number[] = [], tPaired: number[] = [];
    const time = (f: () => void): number => { const t0 = performance.now(); f(); return performance.now() - t0; };
    for (let i = 0; i < rounds; i++) {
      // Rotating order: old new torch, new torch old, torch old new, ...
      let to = 0, tn = 0, tp = 0;
      for (let j = 0; j < 3; j++) {
        const w = (i + j) % 3;
        if (w === 0) to = time(() => trainStep(om, optO, d, false));
        else if (w === 1) tn = time(() => trainStep(nm, optN, d, true));
        else if (server) tp = await server.step(cell);
      }
      a.push(to); b.push(tn); paired.push(to / tn);
      if (server) { tt.push(tp); tPaired.push(tp / tn); }
    }
    optO.dispose();
    optN.dispose();
    const so = stats(a), sn = stats(b), sp = stats(paired);
    const flops = 3 * T * B * GATES[cell]! * 2 * H * (I + H);
    const r = {
      cell, flavour, batch: B, hidden: H, input: I, seq: T, rounds, flops,
      old: { ...so, gflops: flops / so.median / 1e6 }, new: { ...sn, gflops: flops / sn.median / 1e6 },
      speedup: so.median / sn.median, pairedSpeedup: sp.median, maxAbsDiff: diff, worstDiff: worst,
      torch: server ? { ...stats(tt), gflops: flops / stats(tt).median / 1e6, vsTorchOld: stats(tt).median / so.median,
        vsTorchNew: stats(tt).median / sn.median, vsTorchNewPaired: stats(tPaired).median } : undefined,
    };
    results.push(r);
    console.log(`${cell} ${flavour} B${B} H${H}: train step ${fmt(so.median, 3)} -> ${fmt(sn.median, 3)} ms ` +
      `(${fmt(r.speedup, 3)}x, paired ${fmt(sp.median, 3)}x; ${fmt(r.old.gflops, 3)} -> ${fmt(r.new.gflops, 3)} ` +
      `GFLOP/s); max|old-new| ${worst.toExponential(2)} (${rounds} rounds)`);
    if (r.torch) {
      console.log(`  PyTorch ${fmt(r.torch.median, 3)} ms: old ${fmt(r.torch.vsTorchOld, 3)}x, new ` +
        `${fmt(r.torch.vsTorchNew, 3)}x PyTorch (paired ${fmt(r.torch.vsTorchNewPaired, 3)}x)`);
    }
  }
  for (const m of [...olds, ...news]) m.dispose();
}
server?.close();
if (write) {
  const f = writeJson('train-step.json', { machine: machine(), old: oldDir, new: newDir, noInputGrad,
    torch: server ? 'bench/torch-train-step.py --serve, same rounds' : undefined, results });
  console.log(`wrote ${f}`);
}
