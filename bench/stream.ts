/**
 * bench/stream: the cost of one streaming `session.step(x)` against the arithmetic alone, for LSTM, GRU and
 * RNN-tanh, hidden 128 and 256, batch 1 and 64, input 32, one layer. Target of the performance issue: for one
 * stream (B = 1) at hidden 128 the time beyond the arithmetic (crossing into WebAssembly, validating and copying x_t
 * and y_t) under 2 µs.
 *
 *  - kernel: the cell's `*_forward` export called directly with T=1 on preallocated buffers, with the arguments
 *    the session passes (the model's packed weights, the state updated in place, no lengths);
 *  - step: `session.step(x)` as users call it, x a Float32Array (B*inputSize), result a new Tensor;
 *  - step out: `session.step(x, { out })` writing into the caller's Float32Array (when the library has it);
 *  - views: `session.inputView().set(x)` once per step, then `session.advance()`; the result is read in place
 *    from `session.outputView()` (zero-copy API, when the library has it).
 * Every variant gets the same 16 inputs in turn (the kernel from 16 buffers in wasm memory): the activations take
 * data-dependent paths, so a kernel fed one constant input would be faster than the sessions for that alone.
 * Each variant runs in rounds of a fixed number of calls, the variants interleaved round by round (order rotated),
 * and the figures are medians over rounds of µs per call (min and max over rounds kept). overhead = the median
 * over rounds of (variant − kernel) in the same round.
 *
 * Flags: --cells LSTM,GRU,RNN, --hidden 128,256, --batch 1,64, --iters N (calls per variant and workload, default
 * 20000, fewer where one step is slow: see --budget), --budget <ms> (time per variant and workload, default 1000;
 * at least 500 calls),
 * --baseline <path/to/other/dist/index.js> also times `step()` of another build of the library in the same process
 * (A/B; its .wasm is taken from ../build/rnn-simd.wasm next to that dist). A filtered run does not write
 * bench/results/stream.json.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '../dist/index.js';
import type { Engine, RecurrentLayer } from '../dist/index.js';
import { arg, CELLS, cellsSel, listArg } from './workloads.js';
import { fmt, machine, randomData, ROOT, stats, table, writeJson, type Stats } from './util.js';
import { round } from './peak-lib.js';

const I = 32;
const TARGET_US = 2;
const hiddenSel = listArg('--hidden')?.map(Number);
const batchSel = listArg('--batch')?.map(Number);
const iters = Number(arg('--iters') ?? 20000);
const budget = Number(arg('--budget') ?? 1000);
const baselinePath = arg('--baseline');
const filtered = !!(cellsSel || hiddenSel || batchSel || arg('--iters') || arg('--budget') || baselinePath);
/** Rounds per workload (fewer when the calls are fewer): short rounds pair each variant with the kernel closely. */
const ROUNDS = 400;
const MIN_CALLS = 500;
const NX = 16;

/** What the bench needs of a library build (the current one or a --baseline one). */
interface Lib {
  init(o: { wasm: string; simd: 'simd' }): Promise<Engine>;
  LSTM: new (o: object) => RecurrentLayer;
  GRU: new (o: object) => RecurrentLayer;
  RNN: new (o: object) => RecurrentLayer;
}

// Duck-typed session: the optional APIs are probed so the bench also runs on an older build (--baseline).
interface AnySession {
  step(x: Float32Array, o?: { out: Float32Array }): unknown;
  inputView?(): Float32Array;
  outputView?(): Float32Array;
  advance?(): void;
  dispose(): void;
}

function makeModel(lib: Pick<Lib, 'LSTM' | 'GRU' | 'RNN'>, cell: string, H: number): RecurrentLayer {
  const o = { inputSize: I, hiddenSize: H, seed: 1234 };
  if (cell === 'LSTM') return new lib.LSTM(o);
  if (cell === 'GRU') return new lib.GRU(o);
  return new lib.RNN({ ...o, nonlinearity: 'tanh' });
}

/**
 * The cell's kernel with T=1 on buffers of our own, with the arguments `runLayers` passes for one step of a
 * session (the model's packed weights; state read and written in place). Returns a loop of n calls.
 */
function directKernel(e: Engine, model: RecurrentLayer, B: number, xs: Float32Array[]): { run: (n: number) => void; free: () => void } {
  const k = e.k;
  const H = model.hiddenSize;
  const pb = (model as unknown as { paramBlock: number }).paramBlock;
  const P = (name: string): number => {
    const p = model.params.find((q) => q.name === name);
    return p ? pb + p.offset * 4 : 0;
  };
  const Wih = P('weight_ih_l0'), Whh = P('weight_hh_l0'), bih = P('bias_ih_l0'), bhh = P('bias_hh_l0');
  const blocks: number[] = [];
  const alloc = (bytes: number): number => {
    const p = e.alloc(Math.max(64, bytes));
    blocks.push(p);
    return p;
  };
  // The inputs the sessions get, in the same order (activations take data-dependent paths).
  const xp = xs.map(() => alloc(B * I * 4));
  const out = alloc(B * H * 4);
  const h = alloc(B * H * 4);
  const c = alloc(B * H * 4);
  const cell = model.mode;
  // As a session step: at one row, the dot-product path over a layout kept between steps (packed once below).
  const ext = e.constant('FWD_GEMV') | e.constant('FWD_DOT_EXT');
  const scratch = alloc(cell === 'LSTM' ? k.lstm_scratch_bytes(1, B, H, 0, ext)
    : cell === 'GRU' ? k.gru_scratch_bytes(1, B, H, ext) : k.rnn_scratch_bytes(1, B, H, ext));
  const dotBytes = cell === 'LSTM' ? k.lstm_dot_bytes(1, B, H, 0)
    : cell === 'GRU' ? k.gru_dot_bytes(1, B, H, 0) : k.rnn_dot_bytes(1, B, H);
  const dot = dotBytes ? alloc(dotBytes) : 0;
  const flags = dot ? ext | e.constant('FWD_DOT_VALID') : 0;
  const f = e.f32();
  xs.forEach((x, i) => f.set(x, xp[i]! / 4));
  f.fill(0, h / 4, h / 4 + B * H);
  f.fill(0, c / 4, c / 4 + B * H);
  const tanh = e.constant('ACT_TANH');
  let run: (n: number, fl?: number) => void;
  if (cell === 'LSTM') {
    run = (n, fl = flags) => {
      for (let i = 0; i < n; i++) {
        k.lstm_forward(out, H, h, c, xp[i & (NX - 1)]!, I, h, c, Wih, Whh, bih, bhh, 0, 0, scratch, dot, 1, B, I, H, 0,
          0, fl);
      }
    };
  } else if (cell === 'GRU') {
    run = (n, fl = flags) => {
      for (let i = 0; i < n; i++) {
        k.gru_forward(out, H, h, xp[i & (NX - 1)]!, I, h, Wih, Whh, bih, bhh, 0, scratch, dot, 1, B, I, H, 0, fl, 0);
      }
    };
  } else {
    run = (n, fl = flags) => {
      for (let i = 0; i < n; i++) {
        k.rnn_forward(out, H, h, xp[i & (NX - 1)]!, I, h, Wih, Whh, bih, bhh, 0, scratch, dot, 1, B, I, H, tanh, 0, fl);
      }
    };
  }
  if (dot) {
    run(1, ext); // packs the layout, as a session's first step does
    f.fill(0, h / 4, h / 4 + B * H);
    f.fill(0, c / 4, c / 4 + B * H);
  }
  return { run, free: () => blocks.forEach((b) => e.release(b)) };
}

interface Variant {
  name: string;
  run: (n: number) => void;
  times: number[];
}

let sink = 0;

function stepVariants(prefix: string, s: AnySession, xs: Float32Array[], outLen: number, withNew: boolean): Variant[] {
  const v: Variant[] = [{
    name: `${prefix}step`,
    run: (n) => {
      for (let i = 0; i < n; i++) {
        const y = s.step(xs[i & (NX - 1)]!) as { data: Float32Array };
        sink += y.data[0]!;
      }
    },
    times: [],
  }];
  if (!withNew) return v;
  const out = new Float32Array(outLen);
  if (s.step(xs[0]!, { out }) === out) {
    v.push({
      name: 'step out',
      run: (n) => {
        for (let i = 0; i < n; i++) s.step(xs[i & (NX - 1)]!, { out });
        sink += out[0]!;
      },
      times: [],
    });
  }
  if (typeof s.inputView === 'function' && typeof s.outputView === 'function' && typeof s.advance === 'function') {
    let xv = s.inputView();
    let yv = s.outputView();
    v.push({
      name: 'views',
      run: (n) => {
        if (xv.length === 0) { // re-taken after memory growth (not expected here: nothing allocates)
          xv = s.inputView!();
          yv = s.outputView!();
        }
        for (let i = 0; i < n; i++) {
          xv.set(xs[i & (NX - 1)]!);
          s.advance!();
          sink += yv[0]!;
        }
      },
      times: [],
    });
  }
  return v;
}

function summary(t: number[]): Stats {
  const s = stats(t);
  return { median: round(s.median, 4), min: round(s.min, 4), max: round(s.max, 4), runs: s.runs };
}

async function main(): Promise<void> {
  const lib = current as unknown as Lib;
  const engine = await lib.init({ wasm: path.join(ROOT, 'build', 'rnn-simd.wasm'), simd: 'simd' });
  let base: Lib | undefined;
  if (baselinePath) {
    const p = path.resolve(baselinePath);
    base = (await import(pathToFileURL(p).href)) as Lib;
    await base.init({ wasm: path.join(path.dirname(p), '..', 'build', 'rnn-simd.wasm'), simd: 'simd' });
  }
  console.log(`\n== bench/stream: one step of one session, input ${I}, one layer; wasm flavour '${engine.flavour}'; ` +
    `up to ${iters} calls per variant in up to ${ROUNDS} rounds ==`);
  const results: Record<string, unknown>[] = [];
  const rows: (string | number)[][] = [];
  const targets: { what: string; overheadUs: number; goal: number; ok: boolean }[] = [];
  for (const c of CELLS) {
    if (cellsSel && !cellsSel.includes(c.name)) continue;
    for (const H of [128, 256]) {
      if (hiddenSel && !hiddenSel.includes(H)) continue;
      for (const B of [1, 64]) {
        if (batchSel && !batchSel.includes(B)) continue;
        const label = `${c.name} H${H} B${B}`;
        const model = makeModel(lib, c.name, H);
        const s = model.createSession({ batchSize: B }) as unknown as AnySession;
        const xs = Array.from({ length: NX }, (_, i) => randomData(B * I, 100 + i));
        const kern = directKernel(engine, model, B, xs);
        const variants: Variant[] = [{ name: 'kernel', run: kern.run, times: [] },
          ...stepVariants('', s, xs, B * model.outputSize, true)];
        let bModel: RecurrentLayer | undefined;
        let bSession: AnySession | undefined;
        if (base) {
          bModel = makeModel(base, c.name, H);
          bSession = bModel.createSession({ batchSize: B }) as unknown as AnySession;
          variants.push(...stepVariants('baseline ', bSession, xs, B * model.outputSize, false));
        }
        // Warm-up (V8 tiers wasm and JS up on later calls), then the size of a round from the slowest variant.
        let est = 0;
        for (const v of variants) {
          v.run(200);
          const t0 = performance.now();
          v.run(50);
          est = Math.max(est, (performance.now() - t0) / 50);
        }
        const n = Math.max(MIN_CALLS, Math.min(iters, Math.floor(budget / est)));
        const perRound = Math.max(1, Math.round(n / ROUNDS));
        const rounds = Math.min(ROUNDS, Math.ceil(n / perRound));
        for (let r = 0; r < rounds; r++) {
          for (let j = 0; j < variants.length; j++) {
            const v = variants[(j + r) % variants.length]!;
            const t0 = performance.now();
            v.run(perRound);
            v.times.push(((performance.now() - t0) * 1000) / perRound);
          }
        }
        const kt = variants[0]!.times;
        const rec: Record<string, unknown> = { cell: c.name, hidden: H, batch: B, callsPerVariant: perRound * rounds,
          rounds, callsPerRound: perRound, unit: 'us per call' };
        const row: (string | number)[] = [label, fmt(stats(kt).median, 3)];
        const cols: Record<string, string> = {};
        for (const v of variants) {
          const key = v.name.replace(/ (\w)/g, (_m, ch: string) => ch.toUpperCase());
          const e: Record<string, unknown> = { ...summary(v.times) };
          if (v.name !== 'kernel') {
            e.overhead = summary(v.times.map((t, i) => t - kt[i]!));
            cols[v.name] = `${fmt(stats(v.times).median, 3)} (+${fmt((e.overhead as Stats).median, 3)})`;
          }
          rec[key] = e;
        }
        for (const name of ['step', 'step out', 'views', 'baseline step']) row.push(cols[name] ?? '-');
        rows.push(row);
        results.push(rec);
        // The target is for one stream (B = 1); at B = 64 the kernel takes 0.1-2 ms and varies by more than the
        // copies (8 KB in, 32-64 KB out) cost, so those overheads are reported, not judged.
        if (H === 128 && B === 1) {
          for (const name of ['step', 'step out', 'views']) {
            const e = rec[name.replace(/ (\w)/g, (_m, ch: string) => ch.toUpperCase())] as
              { overhead: Stats } | undefined;
            if (!e) continue;
            targets.push({ what: `${label} ${name}`, overheadUs: e.overhead.median, goal: TARGET_US,
              ok: e.overhead.median < TARGET_US });
          }
        }
        console.log(`  ${label}: kernel ${stats(kt).median.toFixed(3)} µs; ` +
          Object.entries(cols).map(([k, v]) => `${k} ${v}`).join('; '));
        kern.free();
        s.dispose();
        model.dispose();
        bSession?.dispose();
        bModel?.dispose();
      }
    }
  }
  if (!Number.isFinite(sink)) throw new Error('non-finite results');
  console.log();
  console.log(table(['workload', 'kernel µs', 'step µs (+overhead)', 'step out', 'views', 'baseline step'], rows));
  console.log('µs per call, medians over rounds; (+overhead) = median over rounds of (variant − kernel in the same ' +
    'round).\nkernel: the *_forward export with T=1 alone; step: session.step(x) → new Tensor; step out: ' +
    'step(x, { out }); views: inputView().set(x) + advance().');
  console.log(`\ntarget (one stream at hidden 128: time beyond the arithmetic < ${TARGET_US} µs)`);
  for (const t of targets) {
    console.log(`  ${t.ok ? 'ok  ' : 'MISS'} ${t.what}: overhead ${t.overheadUs.toFixed(3)} µs (goal < ${t.goal} µs)`);
  }
  const out = {
    ...machine(),
    runId: process.env.RNN_BENCH_RUN ?? null,
    flavour: engine.flavour,
    config: { I, layers: 1, maxRounds: ROUNDS, iters, budgetMs: budget, minCalls: MIN_CALLS,
      timing: 'variants interleaved round by round (order rotated); medians over rounds of µs per call; ' +
        'overhead: median over rounds of (variant - kernel) in the same round' },
    workloads: results,
    targets,
  };
  if (!filtered) {
    const file = writeJson('stream.json', out);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } else {
    console.log('(filtered run: results file not written)');
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
