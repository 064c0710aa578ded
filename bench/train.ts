/**
 * bench/train: ms per training step (zero the gradients, forward keeping activations, MSE loss gradient, backward,
 * Adam update) and GFLOP/s of LSTM, GRU and RNN-tanh over whole sequences, against the plain TypeScript
 * implementation of plain-train.ts timed in the same run. FLOPs = 3 * T * B * gates * 2 * H * (I + H) (backward
 * counted as twice the forward). Writes bench/results/train.json.
 *
 * Flags: --cells LSTM,GRU,RNN, --hidden 128,256,512, --batch 1,32, --no-plain, --plain-budget <ms> (time per
 * workload for the baseline), --ours-budget <ms>, --plain-max-step <ms> (baseline steps estimated longer than this
 * are not timed; default 20000). A filtered run prints its table but does not overwrite the results file.
 * --split: where the time of a step goes at hidden 256, batch 32 (phases of the step, and the backward pass's
 * weight-gradient GEMMs, bias sums and input-gradient GEMM timed alone). --profile-loop <cell>: only that cell's
 * H256 B32 steps for 3 s (for node --cpu-prof). --profile-report <dir>: summarises the .cpuprofile files there.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  Adam, getEngine, init, type Engine, type RecurrentLayer, type Tensor,
} from '../dist/index.js';
import type { PlainWeights } from './plain.js';
import {
  plainAdamStep, plainBackward, plainForwardTrain, plainTrainState, plainZeroGrad, type PlainTrainState,
} from './plain-train.js';
import { makeProbe, measurePeak, round } from './peak-lib.js';
import { arg, CELLS, cellsSel, I, makeModel, selectionFiltered, T, withPlain, workloads } from './workloads.js';
import {
  fmt, machine, mseGrad, randomData, relDiff, RESULTS, ROOT, stats, table, timing, writeJson,
} from './util.js';

const TS = 4; // warm-up (and, when the baseline is not timed, check) sequence length
const LR = 1e-3;
const TOL = 1e-4;
const NAMES = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'] as const;


const plainBudget = Number(arg('--plain-budget') ?? 2000);
const oursBudget = Number(arg('--ours-budget') ?? 1000);
const plainMaxStep = Number(arg('--plain-max-step') ?? 20000);
const filtered = selectionFiltered || arg('--plain-max-step') !== undefined;



interface Data {
  T: number;
  B: number;
  x: { data: Float32Array; shape: number[] };
  target: Float32Array;
  dOut: Float32Array;
  dOutShape: number[];
}

function data(Tn: number, B: number, H: number, seed: number): Data {
  return {
    T: Tn, B, x: { data: randomData(Tn * B * I, seed), shape: [Tn, B, I] },
    target: randomData(Tn * B * H, seed + 1).map((v) => 0.5 * v), dOut: new Float32Array(Tn * B * H),
    dOutShape: [Tn, B, H],
  };
}

/** One training step of ours, as a user writes it (the MSE loss and its gradient in WebAssembly: lossBackward). */
function oursStep(model: RecurrentLayer, opt: Adam, d: Data, collectGrads = false):
    { loss: number; grads: Record<string, Tensor>; dInput: Tensor } {
  opt.zeroGrad();
  model.forward(d.x, { train: true });
  const b = model.lossBackward({ data: d.target, shape: d.dOutShape }, { collectGrads });
  opt.step();
  return { loss: b.loss, grads: b.grads, dInput: b.dInput };
}

/** One training step of the baseline. */
function plainStep(s: PlainTrainState, d: Data): { loss: number; dX: Float32Array } {
  plainZeroGrad(s);
  const c = plainForwardTrain(s, d.x.data, d.T, d.B);
  const loss = mseGrad(c.output, d.target, d.dOut);
  const dX = plainBackward(s, c, d.dOut);
  plainAdamStep(s, LR);
  return { loss, dX };
}


interface Check {
  seq: number;
  loss: [number, number];
  /** Per tensor: max |ours - plain| / max |plain|. */
  grads: Record<string, number>;
  dInput: number;
  /** Weights after the Adam step, same measure. */
  weights: Record<string, number>;
  worst: number;
  ok: boolean;
}

/** Ours and the baseline, one step each from the same weights (the model's initial ones): compare. */
function check(model: RecurrentLayer, opt: Adam, s: PlainTrainState, d: Data, plainTimes?: number[]): Check {
  const o = oursStep(model, opt, d, true);
  const t0 = performance.now();
  const p = plainStep(s, d);
  plainTimes?.push(performance.now() - t0);
  const sd = model.stateDict();
  const grads: Record<string, number> = {};
  const weights: Record<string, number> = {};
  for (const n of NAMES) {
    grads[n] = relDiff(o.grads[`${n}_l0`]!.data, s.g[n]);
    weights[n] = relDiff(sd[`${n}_l0`]!.data, s.w[n]);
  }
  const dInput = relDiff(o.dInput.data, p.dX);
  const all = [...Object.values(grads), ...Object.values(weights), dInput, Math.abs(o.loss - p.loss) / p.loss];
  const worst = all.some((v) => !(v <= Infinity)) ? NaN : Math.max(...all);
  return { seq: d.T, loss: [o.loss, p.loss], grads, dInput, weights, worst, ok: worst <= TOL };
}

/** The SIMD peak: bench/peak's figure when it ran in the same `bench/run.js` run, else measured here. */
async function peakFor(): Promise<{ gflops: number; source: string }> {
  const file = path.join(RESULTS, 'peak.json');
  const run = process.env.RNN_BENCH_RUN;
  if (run && fs.existsSync(file)) {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { runId?: string; simd?: { gflops: number } };
    if (p.runId === run && p.simd?.gflops) {
      return { gflops: p.simd.gflops, source: 'bench/results/peak.json (same run)' };
    }
  }
  const r = await measurePeak(path.join(ROOT, 'bench', '.build', 'peak.wasm'), 'simd');
  return { gflops: r.gflops, source: `measured in this process (${r.best})` };
}

async function bench(): Promise<void> {
  const engine = await init({ wasm: path.join(ROOT, 'build', 'rnn-simd.wasm'), simd: 'simd', threads: 1 });
  const peak = await peakFor();
  const probe = await makeProbe(path.join(ROOT, 'bench', '.build', 'peak.wasm'));
  console.log(`\n== bench/train: one step (zeroGrad, forward train, MSE gradient, backward, Adam) T=${T}, I=${I}, ` +
    `one layer; wasm flavour '${engine.flavour}'; peak ${peak.gflops.toFixed(1)} GFLOP/s ==`);

  const results: Record<string, unknown>[] = [];
  const rows: (string | number)[][] = [];
  let failures = 0;
  for (const { c, H, B, label } of workloads()) {
    const flops = 3 * T * B * c.gates * 2 * H * (I + H);
    const model = makeModel(c.name, H);
    const opt = new Adam(model.parameters(), { lr: LR });
    const sd = model.stateDict();
    const w: PlainWeights = {
      weight_ih: sd.weight_ih_l0!.data, weight_hh: sd.weight_hh_l0!.data,
      bias_ih: sd.bias_ih_l0!.data, bias_hh: sd.bias_hh_l0!.data,
    };
    const full = data(T, B, H, 7 + H + B);
    const short = data(TS, B, H, 7 + H + B);

    // 1. The baseline's warm-up: short steps on a throwaway copy of the weights (its loops get optimised on
    //    the spot); the last one estimates a full step, and steps estimated longer than plainMaxStep are not
    //    timed (the check then runs at T = TS).
    let plainEst = NaN;
    let plainTimed = withPlain;
    if (withPlain) {
      const scratch = plainTrainState(c.mode, w, I, H);
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now();
        plainStep(scratch, short);
        plainEst = ((performance.now() - t0) * T) / TS;
      }
      plainTimed = plainEst <= plainMaxStep;
    }

    // 2. Check: one step of each from the model's initial weights; gradients (collectGrads: true), dInput,
    //    the loss and the weights after the Adam step must agree within TOL relative to each tensor's max abs.
    //    A timed baseline's checked step counts as its first timed run.
    const tPlain: number[] = [];
    let chk: Check | undefined;
    if (withPlain) {
      chk = check(model, opt, plainTrainState(c.mode, w, I, H), plainTimed ? full : short,
        plainTimed ? tPlain : undefined);
      if (!chk.ok) {
        failures++;
        console.error(`CHECK FAILED ${label}: worst relative diff ${chk.worst} > ${TOL}; not timed ` +
          JSON.stringify(chk));
        results.push({ cell: c.name, hidden: H, batch: B, flops, check: chk });
        opt.dispose();
        model.dispose();
        continue;
      }
    }
    const plainState = plainTrainState(c.mode, w, I, H);

    // 3. Warm-up of ours: 6 short steps and 2 full untimed ones (V8 tiers wasm up on a later call, not inside
    //    a long one); sizes of the timed loops from the calls so far.
    for (let i = 0; i < 6; i++) oursStep(model, opt, short);
    let est = Infinity;
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      oursStep(model, opt, full);
      est = Math.min(est, performance.now() - t0);
    }
    const plainRuns = plainTimed ? Math.max(3, Math.min(10, Math.floor(plainBudget / tPlain[0]!))) : 0;
    const oursRuns = Math.max(10, Math.min(300, Math.ceil(oursBudget / est)));

    // 4. Time, interleaving the baseline's runs evenly among ours.
    const tOurs: number[] = [];
    const local: number[] = [];
    let sink = 0;
    for (let i = 0; i < oursRuns; i++) {
      let t0 = performance.now();
      sink += oursStep(model, opt, full).loss;
      tOurs.push(performance.now() - t0);
      local.push(probe());
      if (plainTimed && Math.floor(((i + 1) * plainRuns) / oursRuns) > tPlain.length) {
        t0 = performance.now();
        sink += plainStep(plainState, full).loss;
        tPlain.push(performance.now() - t0);
      }
    }
    if (!Number.isFinite(sink)) throw new Error('non-finite losses');
    opt.dispose();
    model.dispose();

    const o = timing(stats(tOurs), flops);
    const p = plainTimed ? timing(stats(tPlain), flops) : undefined;
    const fraction = o.gflops / peak.gflops;
    const localPeak = stats(local).median;
    const speedup = p ? p.median / o.median : NaN;
    results.push({
      cell: c.name, hidden: H, batch: B, flops,
      check: chk ? { ...chk, tolerance: TOL } : null,
      ours: { ...o, fractionOfPeak: round(fraction, 4), localPeakGflops: round(localPeak, 2),
        fractionOfLocalPeak: round(o.gflops / localPeak, 4) },
      plain: p ?? (withPlain ? { skipped: 'time', estimatedStepMs: Math.round(plainEst) } : null),
      speedup: p ? round(speedup, 2) : null,
    });
    const plainCell = p ? fmt(p.median, 3) : withPlain ? `skipped (time, est. ${(plainEst / 1000).toFixed(0)} s)`
      : '-';
    rows.push([label, fmt(o.median, 3), fmt(o.gflops, 2), `${(100 * fraction).toFixed(1)}%`,
      `${((100 * o.gflops) / localPeak).toFixed(1)}%`, plainCell, p ? fmt(p.gflops, 3) : '-',
      p ? `${speedup.toFixed(1)}x` : '-', `${o.runs}/${p?.runs ?? 0}`,
      chk ? `${chk.worst.toExponential(1)}${chk.seq !== T ? ` (T=${chk.seq})` : ''}` : '-']);
    console.log(`  ${label}: ${o.median.toFixed(3)} ms, ${o.gflops.toFixed(2)} GFLOP/s` +
      (p ? `; plain ${p.median.toFixed(1)} ms (${speedup.toFixed(1)}x)` : withPlain ? '; plain skipped (time)'
        : ''));
  }
  console.log();
  console.log(table(['workload', 'ms ours', 'GFLOP/s', '% peak', '% local', 'ms plain', 'GFLOP/s plain',
    'speed-up', 'runs', 'check'], rows));
  console.log('GFLOP/s counts 3 * T*B*gates*2*H*(I+H) per step; % peak: of bench/peak; % local: of a 1 ms peak probe ' +
    'after each timed step (median);\nruns: ours/plain; check: worst relative difference (gradients, dInput, loss, ' +
    'weights after Adam), at T=4 when the baseline is not timed.');

  const targets: { what: string; value: number; goal: number; ok: boolean }[] = [];
  for (const r of results as { cell: string; hidden: number; batch: number; speedup: number | null }[]) {
    if (r.hidden === 256 && r.batch === 32 && r.speedup !== null) {
      targets.push({ what: `${r.cell} H256 B32 training step speed-up vs plain`, value: r.speedup, goal: 20,
        ok: r.speedup >= 20 });
    }
  }
  if (targets.length) {
    console.log('\ntargets (hidden 256, batch 32: >= 20x plain)');
    for (const t of targets) console.log(`  ${t.ok ? 'ok  ' : 'MISS'} ${t.what}: ${t.value.toFixed(1)}x (goal 20x)`);
  }
  const out = {
    ...machine(),
    runId: process.env.RNN_BENCH_RUN ?? null,
    flavour: engine.flavour,
    peak,
    config: {
      T, I, layers: 1, bidirectional: false, loss: 'mean((output - target)^2), gradient computed in TypeScript',
      optimizer: `Adam lr ${LR}`, flops: '3*T*B*gates*2*H*(I+H)', tolerance: TOL,
      step: 'opt.zeroGrad(); forward(x, {train: true}); loss gradient; backward({output}, {collectGrads: false}); ' +
        'opt.step()',
      check: 'one step of each from the same initial weights: parameter gradients (collectGrads: true), dInput, ' +
        'loss and weights after Adam, max |diff| / max |plain| per tensor',
      timing: 'median; ours: >= 10 runs after 6 short (T=4) and 2 full untimed steps; baseline: 2 short warm-up ' +
        `steps, then its checked step counts as run 1, the rest (3 to 10 in all) interleaved with ours; not timed ` +
        `when a step is estimated above ${plainMaxStep} ms`,
    },
    workloads: results,
    targets,
  };
  if (!filtered) {
    const file = writeJson('train.json', out);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } else {
    console.log('(filtered run: results file not written)');
  }
  if (failures) process.exitCode = 1;
}

// -------------------------------------------------------------------------------------------------------------
// --split: where a step's time goes at hidden 256, batch 32.

interface Geometry { G: number; NR: number; nP: number; Np: number }

function geometry(cell: string, H: number): Geometry {
  const G = cell === 'LSTM' ? 4 : cell === 'GRU' ? 3 : 1;
  const U = cell === 'RNN' ? 16 : 4;
  const NR = cell === 'GRU' ? 12 : 16;
  const nP = Math.ceil(H / U);
  return { G, NR, nP, Np: nP * NR };
}

/**
 * The parts of the backward kernel that run once per pass after the recurrence, called alone on buffers of the
 * same shapes as the kernel uses (see weightGrad, inputGrad in assembly/bptt.ts).
 */
function backwardParts(e: Engine, cell: string, H: number, B: number):
    { wgrad: () => void; bias: () => void; dx: () => void; free: () => void } {
  const g = geometry(cell, H);
  const k = e.k;
  const R = T * B;
  const Iq = Math.ceil(I / 16) * 16;
  const blocks: number[] = [];
  const alloc = (floats: number, seed = 0): number => {
    const p = e.alloc(Math.max(64, floats * 4));
    blocks.push(p);
    if (seed) e.f32().set(randomData(floats, seed), p / 4);
    return p;
  };
  const dA = alloc(R * g.Np, 1); // the pre-activation gradients of every step
  const hs = alloc(R * H, 2); // states entering each step
  const x = alloc(R * I, 3);
  const At = alloc(k.gemm_tn_nat_work_floats(Math.max(H, I), 256));
  const dWhh = alloc(g.Np * H), dWih = alloc(g.Np * I), db = alloc(g.Np), db2 = alloc(g.Np);
  const WihT = alloc(Iq * g.Np, 4);
  const tmp = alloc(R * Iq), dX = alloc(R * I);
  return {
    wgrad: () => {
      // W_hh, W_ih and both biases in one pass over dA, as the LSTM and RNN kernels do (bptt.ts weightGrads).
      k.gemm_tn_nat(dWhh, hs, H, H, dWih, x, I, I, db, db2, dA, g.Np, R, g.nP, g.NR, At, 256);
    },
    bias: () => {
      // The bias sums are taken inside the weight-gradient pass (see wgrad).
    },
    dx: () => {
      k.gemm_forward(tmp, Iq, dA, g.Np, WihT, 0, 0, R, g.Np, Iq >> 4, 16, 0);
      k.add_rows(dX, I, tmp, Iq, R, I, 0);
    },
    free: () => blocks.forEach((b) => e.release(b)),
  };
}

function median(f: () => void, runs: number): number {
  for (let i = 0; i < 3; i++) f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return stats(t).median;
}

async function split(): Promise<void> {
  const loop = arg('--profile-loop');
  const named = path.join(ROOT, 'bench', '.build', 'rnn-simd-named.wasm');
  await init({ wasm: loop && fs.existsSync(named) ? named : path.join(ROOT, 'build', 'rnn-simd.wasm'), simd: 'simd' });
  const H = 256;
  const B = 32;
  if (loop) {
    // Only training steps of one cell at H256 B32, for the profiler (run under --cpu-prof).
    const model = makeModel(loop.toUpperCase(), H);
    const opt = new Adam(model.parameters(), { lr: LR });
    const full = data(T, B, H, 11);
    const short = data(TS, B, H, 11);
    for (let i = 0; i < 6; i++) oursStep(model, opt, short);
    const t0 = performance.now();
    while (performance.now() - t0 < 4000) oursStep(model, opt, full);
    opt.dispose();
    model.dispose();
    return;
  }
  const e = getEngine();
  const runs = 15;
  const rows: (string | number)[][] = [];
  for (const c of CELLS.filter((x) => !cellsSel || cellsSel.includes(x.name))) {
    const model = makeModel(c.name, H);
    const opt = new Adam(model.parameters(), { lr: LR });
    const full = data(T, B, H, 11);
    const short = data(TS, B, H, 11);
    for (let i = 0; i < 6; i++) oursStep(model, opt, short);
    for (let i = 0; i < 2; i++) oursStep(model, opt, full);
    // Phases of the step as a user runs it, each timed inside the same step.
    const ph: number[][] = [[], [], [], [], [], []];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      opt.zeroGrad();
      const t1 = performance.now();
      const r = model.forward(full.x, { train: true });
      const t2 = performance.now();
      mseGrad(r.output.data, full.target, full.dOut);
      const t3 = performance.now();
      model.backward({ output: { data: full.dOut, shape: full.dOutShape } }, { collectGrads: false });
      const t4 = performance.now();
      opt.step();
      const t5 = performance.now();
      [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0].forEach((v, j) => ph[j]!.push(v));
    }
    const [zero, fwd, loss, bwd, adam, step] = ph.map((v) => stats(v).median) as [number, number, number, number,
      number, number];
    const inference = median(() => model.forward(full.x), runs);
    const parts = backwardParts(e, c.name, H, B);
    const wgrad = median(parts.wgrad, runs);
    const bias = median(parts.bias, runs);
    const dx = median(parts.dx, runs);
    parts.free();
    opt.dispose();
    model.dispose();
    const rest = bwd - wgrad - bias - dx;
    const G2 = T * B * c.gates * 2 * H;
    const pct = (v: number): string => `${v.toFixed(2)} (${((100 * v) / step).toFixed(0)}%)`;
    rows.push([`${c.name} H${H} B${B}`, step.toFixed(1), pct(zero), pct(fwd), pct(loss), pct(bwd), pct(wgrad),
      pct(bias), pct(dx), pct(rest), pct(adam), inference.toFixed(1),
      (((G2 * (I + H)) / fwd) / 1e6).toFixed(1), (((G2 * (I + H)) / wgrad) / 1e6).toFixed(1),
      (((G2 * H) / rest) / 1e6).toFixed(1)]);
  }
  console.log(`\n== bench/train --split: T=${T}, I=${I}, H=${H}, B=${B}; medians of ${runs} steps, ms (share of ` +
    'the step) ==');
  console.log(table(['workload', 'step', 'zeroGrad', 'forward train', 'loss grad', 'backward', '  wgrad GEMMs',
    '  bias sums', '  dX GEMM', '  recurrent+rest', 'Adam', 'fwd (inference)', 'GF/s fwd', 'GF/s wgrad',
    'GF/s rec.'], rows));
  console.log('Phases timed inside the same steps; wgrad GEMMs (gemm_tn_nat: W_hh, W_ih and the biases in one pass), bias ' +
    'sums (now inside the weight-gradient pass: 0) and dX GEMM\n(gemm_forward + add_rows) timed alone on buffers of the kernel\'s shapes; ' +
    'recurrent+rest = backward - those three (the per-step gate derivatives\nand dh W_hh products, plus the API\'s ' +
    'copies). GF/s rec. counts T*B*gates*2*H*H.');
}

// -------------------------------------------------------------------------------------------------------------
// --profile-report <dir>: self time of the .cpuprofile files there, and by part of the step.

interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function report(dir: string): void {
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    const p = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const self = new Map<string, number>();
    const part = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < p.samples.length; i++) {
      const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
      const n = byId.get(p.samples[i]!)!;
      const name = n.callFrame.functionName || `(anonymous ${path.basename(n.callFrame.url)})`;
      total += dt;
      self.set(name, (self.get(name) ?? 0) + dt);
      const stack: string[] = [];
      for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
        stack.push(byId.get(id)!.callFrame.functionName);
      }
      const has = (re: RegExp): boolean => stack.some((s) => re.test(s));
      let what: string;
      if (has(/(lstm|gru|rnn)_forward$/)) {
        what = has(/gemm_forward$|panel16$|panel12$/) ? 'forward: input projection (gemm_forward)'
          : 'forward: recurrent steps';
      } else if (has(/(lstm|gru|rnn)_backward$/)) {
        if (has(/gemm_tn_forward$|gemm_tn_nat$|transposeBlock$|transpose_f32$|tn16$|tn12$/)) what = 'backward: weight-gradient GEMMs';
        else if (has(/colsum_forward$/)) what = 'backward: bias sums';
        else if (has(/gemm_forward$|panel16$|panel12$/)) what = 'backward: dh W_hh^T and dX GEMMs (gemm_forward)';
        else if (has(/pack_transpose$/)) what = 'backward: transposing W (pack_transpose)';
        else what = 'backward: gate derivatives and the rest';
      } else if (has(/adam_update$/)) what = 'Adam (adam_update)';
      else if (has(/^mseGrad$/)) what = 'loss gradient (TypeScript)';
      else if (has(/^\(garbage collector\)$/)) what = 'garbage collector';
      else if (has(/^\(idle\)$|^\(program\)$/)) what = '(idle / program)';
      else what = 'other (API: validation, copies, zeroGrad)';
      part.set(what, (part.get(what) ?? 0) + dt);
    }
    const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 16)
      .map(([name, ms]) => [name.slice(0, 60), ms.toFixed(0), `${((100 * ms) / total).toFixed(1)}%`]);
    console.log(`\n== cpu profile of training steps (${f}): self time by function (total ${total.toFixed(0)} ms) ==`);
    console.log(table(['function', 'ms', 'share'], rows));
    const prow = [...part.entries()].sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => [name, ms.toFixed(0), `${((100 * ms) / total).toFixed(1)}%`]);
    console.log('\nby part of the step (from the call stacks):');
    console.log(table(['part', 'ms', 'share'], prow));
  }
}

const main = process.argv.includes('--profile-report') ? async () => report(arg('--profile-report')!)
  : process.argv.includes('--split') || process.argv.includes('--profile-loop') ? split : bench;
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
