/**
 * bench/gru-reset-before: the reset-before GRU (Keras reset_after=False, `new GRU({..., resetAfter: false})`, the
 * form bench/peers compares with tfjs) at input 32, hidden 256, sequence 100, batch 32 and 1: forward inference
 * and a training step (zeroGrad, forward train, MSE gradient, backward, SGD: bench/peers' step), timed for two
 * builds of the kernels loaded side by side in this process (two engines: a model keeps the engine it was made
 * on), alternating A and B every round so that the machine's noise hits both alike. Before timing, one step of
 * each from the same weights and data is compared (max |A - B| of output, hN, every gradient and dInput).
 *
 * Run: `node bench/gru-reset-before.js [--old <dir>] [--new <dir>] [--flavour simd,relaxed] [--batch 32,1]
 * [--rounds <n>] [--no-write]`. Defaults: --old /tmp/gru-before (a copy of build/*.wasm from before the change),
 * --new build/, both flavours, both batches. Writes bench/results/gru-reset-before.json unless --no-write.
 */
import path from 'node:path';
import { GRU, init, SGD, type RecurrentLayer } from '../dist/index.js';
import { arg, listArg } from './workloads.js';
import { fmt, machine, maxAbsDiff, mseGrad, randomData, ROOT, stats, writeJson } from './util.js';

const T = 100;
const I = 32;
const H = 256;
const LR = 1e-3;
const oldDir = arg('--old') ?? '/tmp/gru-before';
const newDir = arg('--new') ?? path.join(ROOT, 'build');
const flavours = (listArg('--flavour') ?? ['simd', 'relaxed']) as ('simd' | 'relaxed')[];
const batches = (listArg('--batch') ?? ['32', '1']).map(Number);
const roundsArg = arg('--rounds');
const write = !process.argv.includes('--no-write');

interface Data { x: Float32Array; target: Float32Array; dOut: Float32Array; B: number }

function data(B: number): Data {
  return { x: randomData(T * B * I, 11 + B), target: randomData(T * B * H, 12 + B).map((v) => 0.5 * v),
    dOut: new Float32Array(T * B * H), B };
}

function forward(m: RecurrentLayer, d: Data): void {
  m.forward({ data: d.x, shape: [T, d.B, I] });
}

function trainStep(m: RecurrentLayer, opt: SGD, d: Data): number {
  opt.zeroGrad();
  const r = m.forward({ data: d.x, shape: [T, d.B, I] }, { train: true });
  const loss = mseGrad(r.output.data, d.target, d.dOut);
  m.backward({ output: { data: d.dOut, shape: [T, d.B, H] } }, { collectGrads: false });
  opt.step();
  return loss;
}

/** One forward and one backward of each model from the same weights: the largest difference over everything. */
function compare(a: RecurrentLayer, b: RecurrentLayer, d: Data): Record<string, number> {
  const out: Record<string, number> = {};
  const fa = a.forward({ data: d.x, shape: [T, d.B, I] }, { train: true });
  const fb = b.forward({ data: d.x, shape: [T, d.B, I] }, { train: true });
  out.output = maxAbsDiff(fa.output.data, fb.output.data);
  out.hN = maxAbsDiff(fa.hN.data, fb.hN.data);
  const dOut = new Float32Array(T * d.B * H);
  mseGrad(fa.output.data, d.target, dOut);
  const ba = a.backward({ output: { data: dOut, shape: [T, d.B, H] } });
  const bb = b.backward({ output: { data: dOut, shape: [T, d.B, H] } });
  for (const k of Object.keys(ba.grads)) out[k] = maxAbsDiff(ba.grads[k]!.data, bb.grads[k]!.data);
  out.dInput = maxAbsDiff(ba.dInput.data, bb.dInput.data);
  return out;
}

/** Median ms of fnA and fnB, called alternately (A, B, B, A, ...) `rounds` times each. */
function alternate(fnA: () => void, fnB: () => void, rounds: number): { a: number[]; b: number[] } {
  const a: number[] = [];
  const b: number[] = [];
  const time = (f: () => void, into: number[]): void => {
    const t0 = performance.now();
    f();
    into.push(performance.now() - t0);
  };
  for (let i = 0; i < rounds; i++) {
    if (i & 1) { time(fnB, b); time(fnA, a); } else { time(fnA, a); time(fnB, b); }
  }
  return { a, b };
}

const results: Record<string, unknown>[] = [];
for (const flavour of flavours) {
  const file = `rnn-${flavour}.wasm`;
  await init({ wasm: path.join(oldDir, file), simd: flavour, threads: 1, force: true });
  const mk = (): RecurrentLayer => new GRU({ inputSize: I, hiddenSize: H, seed: 1234, resetAfter: false });
  const oldModel = mk();
  await init({ wasm: path.join(newDir, file), simd: flavour, threads: 1, force: true });
  const newModel = mk();
  for (const B of batches) {
    const d = data(B);
    const diff = compare(oldModel, newModel, d);
    const worst = Math.max(...Object.values(diff));
    const optO = new SGD(oldModel.parameters(), { lr: LR });
    const optN = new SGD(newModel.parameters(), { lr: LR });
    // Warm-up: V8 tiers wasm up on a later call, not inside a long one.
    for (let i = 0; i < 4; i++) { forward(oldModel, d); forward(newModel, d); }
    for (let i = 0; i < 3; i++) { trainStep(oldModel, optO, d); trainStep(newModel, optN, d); }
    const rounds = roundsArg ? Number(roundsArg) : B === 1 ? 60 : 20;
    const fw = alternate(() => forward(oldModel, d), () => forward(newModel, d), rounds);
    const tr = alternate(() => trainStep(oldModel, optO, d), () => trainStep(newModel, optN, d), rounds);
    optO.dispose();
    optN.dispose();
    const fo = stats(fw.a), fn = stats(fw.b), to = stats(tr.a), tn = stats(tr.b);
    const r = {
      flavour, batch: B, hidden: H, input: I, seq: T,
      forward: { old: fo, new: fn, speedup: fo.median / fn.median },
      train: { old: to, new: tn, speedup: to.median / tn.median },
      maxAbsDiff: diff, worstDiff: worst,
    };
    results.push(r);
    console.log(`${flavour} B${B} H${H}: forward ${fmt(fo.median, 3)} -> ${fmt(fn.median, 3)} ms ` +
      `(${fmt(r.forward.speedup, 3)}x); train step ${fmt(to.median, 3)} -> ${fmt(tn.median, 3)} ms ` +
      `(${fmt(r.train.speedup, 3)}x); max|old-new| ${worst.toExponential(2)} (${rounds} rounds)`);
  }
  oldModel.dispose();
  newModel.dispose();
}
if (write) {
  const f = writeJson('gru-reset-before.json', { machine: machine(), old: oldDir, new: newDir, results });
  console.log(`wrote ${f}`);
}
