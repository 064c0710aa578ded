/**
 * bench/peers: rnn-wasm against what users would otherwise pick, on the same weights, one thread each:
 * onnxruntime-web (wasm backend in Node), onnxruntime-node (native), PyTorch (a persistent python child,
 * bench/peers/torch_peer.py, where `python3 -c 'import torch'` works) and TensorFlow.js with its wasm backend.
 * Sections: forward over a sequence (bench/workloads.ts' 18 workloads), streaming (one `session.step()`), cold
 * start (fresh node processes, bench/peers/cold.mjs) and a training step (forward, backward, SGD). Every peer's
 * outputs are checked against ours first; then ours and the peer are timed alternately (rounds of a few runs of
 * each; the speed-up is the median over rounds of the peer's median / ours). Writes bench/results/peers.json
 * unless the run is filtered.
 *
 * Flags: --cells, --hidden, --batch (bench/workloads.ts' filters; they apply to every section), --peers
 * ort-web,ort-node,torch,tfjs, --no-forward, --no-stream, --no-cold, --no-train, --budget <ms> (time per
 * workload and peer, default 1000), --tfjs-max-step <ms> (tfjs training steps estimated longer are not timed,
 * default 6000). Run through bench/peers/run.js (`npm run bench:peers`), which installs the peers and bundles this.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import {
  exportOnnx, getEngine, GRU, init, SGD, writeSafetensors, type RecurrentLayer, type Tensor,
} from '../dist/index.js';
import { measurePeak, round, type Flavour, type PeakResult } from './peak-lib.js';
import { arg, batchSel, cellsSel, hiddenSel, I, listArg, makeModel, selectionFiltered, T, workloads }
  from './workloads.js';
import {
  fmt, machine, maxAbsDiff, randomData, relDiff, ROOT, stats, table, timing, writeJson, type Timing,
} from './util.js';

const FWD_TOL = 1e-5;
const TRAIN_TOL = 1e-4;
const LR = 0.01;
/** Sequence length of the tfjs training check and of its step estimate. */
const TS = 10;
const PEERS_DIR = path.join(ROOT, 'bench', 'peers');
const PYTHON = '/usr/bin/python3';
const ALL_PEERS = ['ort-web', 'ort-node', 'torch', 'tfjs'] as const;
type PeerName = (typeof ALL_PEERS)[number];
const peersSel = (listArg('--peers') ?? [...ALL_PEERS]) as PeerName[];
for (const p of peersSel) {
  if (!(ALL_PEERS as readonly string[]).includes(p)) {
    throw new Error(`--peers: unknown peer '${p}' (expected a comma-separated list of ${ALL_PEERS.join(', ')})`);
  }
}
const budget = Number(arg('--budget') ?? 1000);
const tfjsMaxStep = Number(arg('--tfjs-max-step') ?? 6000);
const has = (f: string): boolean => process.argv.includes(f);
const doForward = !has('--no-forward');
const doStream = !has('--no-stream');
const doCold = !has('--no-cold');
const doTrain = !has('--no-train');
// The library's default build (init's 'auto': relaxed SIMD where the runtime has it, which on node 20 means the
// V8 flag init turns on), as users get it; --flavour simd times the plain SIMD build instead.
const flavourArg = (arg('--flavour') ?? 'auto') as 'auto' | 'simd' | 'relaxed';
const filtered = selectionFiltered || !!listArg('--peers') || !doForward || !doStream || !doCold || !doTrain ||
  arg('--budget') !== undefined || flavourArg !== 'auto';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-peers-'));
const req = createRequire(path.join(PEERS_DIR, 'package.json'));

// ---------------------------------------------------------------------------------------------------------------
// Timing: ours and a peer alternately.

/** Runs something k times and returns the time of each run, ms. */
type Runner = (k: number) => Promise<number[]>;

/** A runner over a JS call (awaited when it returns a promise); `per` calls per timed run (time divided by it). */
function runner(f: () => unknown, per = 1): Runner {
  return async (k) => {
    const t: number[] = [];
    for (let i = 0; i < k; i++) {
      const t0 = performance.now();
      for (let j = 0; j < per; j++) {
        const r = f();
        if (r instanceof Promise) await r;
      }
      t.push((performance.now() - t0) / per);
    }
    return t;
  };
}

/**
 * Both sides' runs, and per round the peer's median over ours (its median is the speed-up: robust to the machine
 * changing speed between rounds, which moves both sides of a round alike but not the pooled medians).
 */
interface Pair { ours: number[]; peer: number[]; ratios: number[]; skipped?: string; estPeerMs?: number }

/** The speed-up of a pair: the median of its per-round ratios (the pooled medians' quotient when it has none). */
function speedup(pair: Pair): number {
  if (pair.ratios.length === 0) return stats(pair.peer).median / stats(pair.ours).median;
  return stats(pair.ratios).median;
}

/** A full garbage collection where node runs with --expose-gc (bench/peers/run.js passes it). */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Ours and the peer alternately: `rounds` rounds of a few of ours then a few of the peer's (the order swapped every
 * round), sized so the whole takes about `budgetMs`; each side's first run (an estimate) is not kept, except a slow
 * peer's. Up to 15 rounds, at least 3: this machine alternates between fast and slow spells of a few seconds, and
 * short rounds keep both sides of a round in the same spell; a block has 3 or more runs unless the peer is too
 * slow for that. A peer estimated above maxPeerMs per run is not timed.
 */
async function alternate(ours: Runner, peer: Runner, budgetMs = budget, maxPeerMs = Infinity): Promise<Pair> {
  const estO = Math.min(...(await ours(2)));
  const estP = (await peer(1))[0]!;
  if (estP > maxPeerMs) return { ours: await ours(Math.max(10, Math.ceil(budgetMs / 3 / estO))), peer: [],
    ratios: [], skipped: `est. ${(estP / 1000).toFixed(1)} s per run`, estPeerMs: estP };
  // A peer slower than a third of the budget per run (tfjs at batch 32): its estimate run (after the warm-up the
  // caller did) is kept as a timed run and two more rounds follow, 3 runs in all.
  const slow = 3 * estP > budgetMs;
  // Blocks of at least 3 runs where the budget allows: a block's first run follows the other side's and finds its
  // working set evicted from the caches, and the median of 3 or more is not that run.
  const rounds = slow ? 2 : Math.max(3, Math.min(15, Math.floor((0.6 * budgetMs) / (3 * estP))));
  const kp = Math.max(1, Math.min(50, Math.round((0.6 * budgetMs) / rounds / estP)));
  const ko = Math.max(3, Math.min(100, Math.round((0.4 * budgetMs) / rounds / estO)));
  const o: number[] = [];
  const p: number[] = slow ? [estP] : [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Each block starts from a collected heap, so neither side pays for a collection of the other's garbage
    // (PyTorch's is in its own process; tfjs's and onnxruntime-web's are in this one). A no-op without
    // node --expose-gc.
    let to: number[], tp: number[];
    if (r % 2 === 0) {
      collect(); to = await ours(ko);
      collect(); tp = await peer(kp);
    } else {
      collect(); tp = await peer(kp);
      collect(); to = await ours(ko);
    }
    o.push(...to);
    p.push(...tp);
    if (!slow) ratios.push(stats(tp).median / stats(to).median);
  }
  return { ours: o, peer: p, ratios, estPeerMs: estP };
}

// ---------------------------------------------------------------------------------------------------------------
// Peers.

function peerVersion(name: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PEERS_DIR, 'node_modules', name, 'package.json'), 'utf8')) as
      { version: string }).version;
  } catch {
    return 'not installed';
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

async function importPeer(name: string): Promise<Any> {
  const m = (await import(pathToFileURL(req.resolve(name)).href)) as Any;
  return m.default && !m.InferenceSession && !m.layers ? m.default : m;
}

/** The PyTorch child process. */
class Torch {
  private readonly p: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  version = '';
  constructor() {
    // Debian's torch calls libblas.so.3: OpenBLAS when bench/peers/run.js --install found or unpacked it (see
    // there), else whatever the system has (the reference BLAS on a bare install; torch_peer reports which).
    const dirs = ['/usr/lib/x86_64-linux-gnu/openblas-pthread',
      path.join(PEERS_DIR, 'node_modules', '.openblas', 'usr', 'lib', 'x86_64-linux-gnu', 'openblas-pthread')]
      .filter((d) => fs.existsSync(path.join(d, 'libblas.so.3')));
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1',
      ...(dirs.length ? { LD_LIBRARY_PATH: [dirs[0], process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {}) };
    this.p = spawn(PYTHON, [path.join(PEERS_DIR, 'torch_peer.py')], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.p.stderr.on('data', (d: Buffer) => process.stderr.write(`[torch] ${d.toString()}`));
    readline.createInterface({ input: this.p.stdout }).on('line', (l) => this.waiting.shift()?.(l));
  }
  call(cmd: Record<string, unknown>): Promise<Any> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const a = JSON.parse(line) as { ok?: unknown; error?: string };
        if (a.error !== undefined) reject(new Error(`torch_peer ${String(cmd.cmd)}: ${a.error}`));
        else resolve(a.ok);
      });
      this.p.stdin.write(`${JSON.stringify(cmd)}\n`);
    });
  }
  close(): void {
    this.p.stdin.end();
  }
}

function torchAvailable(): boolean {
  return fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
}

let fileSeq = 0;
function writeF32(data: Float32Array): string {
  const f = path.join(tmp, `t${fileSeq++}.f32`);
  fs.writeFileSync(f, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return f;
}
function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Loads a model's current weights into the torch child under `name`. */
async function torchLoad(torch: Torch, name: string, cell: string, H: number, model: RecurrentLayer): Promise<void> {
  const sd = model.stateDict();
  const weights: Record<string, string> = {};
  for (const [k, v] of Object.entries(sd)) weights[k] = writeF32(v.data);
  await torch.call({ cmd: 'load', name, cell, input: I, hidden: H, weights });
}

async function torchTensor(torch: Torch, name: string, data: Float32Array, shape: number[], grad = false):
    Promise<void> {
  await torch.call({ cmd: 'tensor', name, file: writeF32(data), shape, grad });
}

/** (T, B, F) time-major to (B, T, F) batch-first, or back with swapped arguments. */
function swap01(a: Float32Array, d0: number, d1: number, F: number): Float32Array {
  const o = new Float32Array(a.length);
  for (let i = 0; i < d0; i++) for (let j = 0; j < d1; j++) {
    o.set(a.subarray((i * d1 + j) * F, (i * d1 + j + 1) * F), (j * d0 + i) * F);
  }
  return o;
}

/** Rows [blocks of H] of a (G*H, K) PyTorch weight reordered and transposed to Keras' (K, G*H). */
function kerasKernel(w: Float32Array, G: number, H: number, K: number, order: number[]): Float32Array {
  const o = new Float32Array(K * G * H);
  for (let g = 0; g < G; g++) {
    const src = order[g]!;
    for (let u = 0; u < H; u++) for (let k = 0; k < K; k++) o[k * G * H + g * H + u] = w[(src * H + u) * K + k]!;
  }
  return o;
}
function kerasBias(b: Float32Array, G: number, H: number, order: number[]): Float32Array {
  const o = new Float32Array(G * H);
  for (let g = 0; g < G; g++) o.set(b.subarray(order[g]! * H, (order[g]! + 1) * H), g * H);
  return o;
}

/**
 * The tf.layers equivalent of a one-layer model with our weights. LSTM: Keras i,f,c,o = PyTorch i,f,g,o, one bias
 * (b_ih + b_hh). GRU: tfjs has no reset_after=true, so this is the reset-before GRU (z,r,h; one bias), equal to
 * ours with resetAfter: false. RNN: SimpleRNN (tanh). `states`: outputs [sequence, h (, c)], else the sequence.
 */
function tfjsModel(tf: Any, cell: string, H: number, model: RecurrentLayer, states: boolean): Any {
  const sd = model.stateDict();
  const G = cell === 'LSTM' ? 4 : cell === 'GRU' ? 3 : 1;
  const order = cell === 'GRU' ? [1, 0, 2] : [...Array(G).keys()];
  const bsum = sd.bias_ih_l0!.data.map((v, i) => v + sd.bias_hh_l0!.data[i]!);
  // Weights are set below: skip tfjs' own initialisation (its orthogonal initialiser takes seconds at hidden 512).
  const opts = { units: H, returnSequences: true, returnState: states, kernelInitializer: 'zeros',
    recurrentInitializer: 'zeros', biasInitializer: 'zeros' };
  const layer = cell === 'LSTM' ? tf.layers.lstm({ ...opts, recurrentActivation: 'sigmoid' })
    : cell === 'GRU' ? tf.layers.gru({ ...opts, recurrentActivation: 'sigmoid', resetAfter: false })
      : tf.layers.simpleRNN({ ...opts, activation: 'tanh' });
  const input = tf.input({ shape: [null, I] });
  const out = layer.apply(input);
  const m = tf.model({ inputs: input, outputs: out });
  layer.setWeights([
    tf.tensor2d(kerasKernel(sd.weight_ih_l0!.data, G, H, I, order), [I, G * H]),
    tf.tensor2d(kerasKernel(sd.weight_hh_l0!.data, G, H, H, order), [H, G * H]),
    tf.tensor1d(kerasBias(bsum, G, H, order)),
  ]);
  return m;
}

/** Ours with resetAfter: false for the tfjs GRU comparisons (same seed and shape as makeModel). */
function oursFor(peer: PeerName, cell: string, H: number, base: RecurrentLayer): RecurrentLayer {
  return peer === 'tfjs' && cell === 'GRU' ? new GRU({ inputSize: I, hiddenSize: H, seed: 1234, resetAfter: false })
    : base;
}

interface PeerResult {
  check?: { maxAbsDiff: number; ok: boolean; note?: string };
  timing?: Timing;
  ours?: Timing;
  speedup?: number;
  skipped?: string;
  error?: string;
}

// ---------------------------------------------------------------------------------------------------------------

/** bench/assembly/peak.ts' chain12 and tile kernels of our flavour, for the batch-32 fraction of peak. */
interface PeakKernels {
  /** One call of about 20 ms of each (its result is the kernel's sum); the flops of one call. */
  chain: () => number; tile: () => number; chainFlops: number; tileFlops: number;
  /** bench/peak's name of the tile variant. */
  tileName: string;
}

interface Env {
  peakKernels?: PeakKernels;
  /**
   * steps x reading `bytes` once (bench/assembly/peak.ts' stream_read, stream_read_desc on odd steps), for the
   * batch-1 read floor.
   */
  readFloor?: (bytes: number, steps: number) => number;
  ortWeb?: Any;
  ortNode?: Any;
  tf?: Any;
  torch?: Torch;
  versions: Record<string, string>;
  notes: string[];
}

/** bench/peak's chain12 and the flavour's widest kernel tile, each calibrated to about 20 ms per call. */
async function peakKernels(flavour: string): Promise<PeakKernels | undefined> {
  const file = path.join(ROOT, 'bench', '.build', flavour === 'relaxed' ? 'peak-relaxed.wasm' : 'peak.wasm');
  if (!fs.existsSync(file)) return undefined;
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file));
  type F = (n: number, seed: number, p: number) => number;
  const ex = instance.exports as Record<string, F>;
  const tileName = flavour === 'relaxed' ? 'tile3x12' : 'tile2x16';
  let sink = 0;
  const make = (f: F, madds: number, step: number): [() => number, number] => {
    for (let i = 0; i < 10; i++) sink += f(20_480, 1, 1024); // past V8's tier-up
    const t0 = performance.now();
    sink += f(1_024_000, 1, 1024);
    const ms = Math.max(performance.now() - t0, 1e-3);
    const n = Math.max(step, Math.round((1_024_000 * 20) / ms / step) * step);
    if (!Number.isFinite(sink)) throw new Error('peak kernel returned a non-finite sum');
    return [() => f(n, 1, 1024), n * madds * 8];
  };
  const [chain, chainFlops] = make(ex.peak_chain!, 12, 1);
  const [tile, tileFlops] = make(ex[flavour === 'relaxed' ? 'peak_tile3x12' : 'peak_tile2x16']!,
    flavour === 'relaxed' ? 9 : 8, 256);
  return { chain, tile, chainFlops, tileFlops, tileName };
}

async function setup(flavour: string): Promise<Env> {
  const env: Env = { versions: {}, notes: [] };
  env.peakKernels = await peakKernels(flavour);
  const peakWasm = path.join(ROOT, 'bench', '.build', 'peak.wasm');
  if (fs.existsSync(peakWasm)) {
    // Its own memory: the largest W_hh of the workloads (LSTM H512, 4 MiB) after a 64 KiB page of the kernels'.
    const { instance } = await WebAssembly.instantiate(fs.readFileSync(peakWasm));
    type Read = (p: number, bytes: number) => number;
    const px = instance.exports as { memory: WebAssembly.Memory; stream_read: Read; stream_read_desc: Read };
    px.memory.grow(4 * 16 + 1);
    new Float32Array(px.memory.buffer).fill(1e-3);
    let sink = 0;
    // Ascending and descending on alternate steps, as the batch-1 forwards visit W_hh (assembly/gemv.ts).
    env.readFloor = (bytes, steps) => {
      for (let t = 0; t < steps; t++) sink += (t & 1 ? px.stream_read_desc : px.stream_read)(65536, bytes);
      return sink;
    };
  }
  for (const n of ['onnxruntime-web', 'onnxruntime-node', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']) {
    env.versions[n] = peerVersion(n);
  }
  if (peersSel.includes('ort-web')) {
    env.ortWeb = await importPeer('onnxruntime-web');
    env.ortWeb.env.wasm.numThreads = 1;
  }
  if (peersSel.includes('ort-node')) env.ortNode = await importPeer('onnxruntime-node');
  if (peersSel.includes('tfjs')) {
    const tf = await importPeer('@tensorflow/tfjs');
    const wasm = await importPeer('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    // One thread: the plain SIMD build (no worker pool).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') throw new Error('tfjs: the wasm backend did not load');
    env.versions.tfjsWasmSimd = String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    env.tf = tf;
  }
  if (peersSel.includes('torch')) {
    if (torchAvailable()) {
      env.torch = new Torch();
      const v = await env.torch.call({ cmd: 'init', threads: 1 });
      env.versions.torch = v.torch;
      env.versions.numpy = v.numpy;
      env.versions.torchBlas = v.blas;
    } else {
      env.versions.torch = 'not installed';
    }
  }
  return env;
}

function ortOptions(which: 'web' | 'node'): Record<string, unknown> {
  return which === 'web' ? { executionProviders: ['wasm'] }
    : { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };
}

// ---------------------------------------------------------------------------------------------------------------
// Forward over a sequence.

/**
 * The batch-1 read floor: T reads of W_hh's bytes (gates x H x H floats), the least memory traffic of any exact
 * f32 forward, which must stream every recurrent weight once per step; timed alternately with ours (not counting
 * the input projection or the gate math, so no forward can reach it). `oursOverFloor`: median over rounds of ours /
 * the floor; `goalMs`: the time 1.5x onnxruntime-web's median in this run asks of ours.
 */
interface ReadFloor { wHhBytes: number; ms: Timing; oursOverFloor: number; gbps: number; goalMs?: number }

/**
 * Batch 32: ours against bench/peak's kernels timed alternately with it (as the read floor), so both sides of a
 * round meet the same spell of this shared machine: the fraction is ours' GFLOP/s over the kernel's, the median
 * over rounds of their ratio.
 */
interface LocalPeak {
  peakGflops: number; fractionOfPeak: number; tile: string; tileGflops: number; fractionOfTile: number;
}

interface FwdRow {
  cell: string; hidden: number; batch: number; flops: number; ours: Timing; peers: Record<string, PeerResult>;
  floor?: ReadFloor;
  /** Batch 32: GFLOP/s over this run's SIMD peak and over its tile ceiling (see main). */
  fractionOfPeak?: number;
  fractionOfTile?: number;
  local?: LocalPeak;
}

async function forward(env: Env): Promise<FwdRow[]> {
  console.log(`\n== bench/peers forward: T=${T}, I=${I}, one layer, unidirectional; one thread each ==`);
  const rows: FwdRow[] = [];
  for (const { c, H, B, label } of workloads()) {
    const flops = T * B * c.gates * 2 * H * (I + H);
    const base = makeModel(c.name, H);
    const xd = randomData(T * B * I, 7 + H + B);
    const x = { data: xd, shape: [T, B, I] };
    const xShort = { data: xd.subarray(0, 4 * B * I), shape: [4, B, I] };
    const peers: Record<string, PeerResult> = {};
    const oursAll: number[] = [];
    const prepared = new Set<RecurrentLayer>();
    for (const peer of peersSel) {
      if (peer === 'torch' && !env.torch) {
        peers[peer] = { skipped: 'not installed' };
        continue;
      }
      const model = oursFor(peer, c.name, H, base);
      if (!prepared.has(model)) {
        for (let i = 0; i < 6; i++) model.forward(xShort);
        for (let i = 0; i < 3; i++) model.forward(x);
        prepared.add(model);
      }
      const ref = model.forward(x);
      const ours = runner(() => model.forward(x));
      const res: PeerResult = {};
      let run: Runner;
      let free = (): void => {};
      let got: { output: Float32Array; hN: Float32Array; cN?: Float32Array };
      let note: string | undefined;
      try {
        if (peer === 'ort-web' || peer === 'ort-node') {
          const ort = peer === 'ort-web' ? env.ortWeb : env.ortNode;
          const s = await ort.InferenceSession.create(exportOnnx(model), ortOptions(peer === 'ort-web' ? 'web' : 'node'));
          const feeds = { input: new ort.Tensor('float32', xd, [T, B, I]) };
          const r = await s.run(feeds);
          got = { output: r.output.data, hN: r.hN.data, cN: r.cN?.data };
          run = runner(() => s.run(feeds));
          free = () => void s.release();
        } else if (peer === 'torch') {
          const t = env.torch!;
          await torchLoad(t, 'fwd', c.name, H, model);
          await torchTensor(t, 'x', xd, [T, B, I]);
          const out = path.join(tmp, 'fwd_');
          await t.call({ cmd: 'forward', model: 'fwd', x: 'x', out });
          got = { output: readF32(`${out}output`), hN: readF32(`${out}hN`),
            cN: c.name === 'LSTM' ? readF32(`${out}cN`) : undefined };
          run = async (k) => (await t.call({ cmd: 'time_forward', model: 'fwd', x: 'x', runs: k })).times as number[];
        } else {
          const tf = env.tf;
          const m = tfjsModel(tf, c.name, H, model, true);
          const xb = tf.tensor3d(swap01(xd, T, B, I), [B, T, I]);
          const outs = m.predict(xb) as Any[];
          got = { output: swap01(outs[0].dataSync(), B, T, H), hN: outs[1].dataSync(),
            cN: c.name === 'LSTM' ? outs[2].dataSync() : undefined };
          tf.dispose(outs);
          run = runner(() => {
            const o = m.predict(xb) as Any[];
            for (const t of o) t.dataSync();
            tf.dispose(o);
          });
          free = () => { xb.dispose(); m.dispose(); };
          if (c.name === 'GRU') note = 'GRU reset_after=false on both sides (tfjs lacks reset_after=true)';
        }
        const diff = Math.max(maxAbsDiff(ref.output.data, got.output), maxAbsDiff(ref.hN.data, got.hN),
          ref.cN ? maxAbsDiff((ref.cN as Tensor).data, got.cN ?? new Float32Array(0)) : 0);
        res.check = { maxAbsDiff: diff, ok: diff <= FWD_TOL, ...(note ? { note } : {}) };
        if (!res.check.ok) {
          console.error(`CHECK FAILED ${label} vs ${peer}: max abs diff ${diff} > ${FWD_TOL}; not timed`);
        } else {
          await run(2); // the peer's warm-up
          const pair = await alternate(ours, run, peer === 'tfjs' ? 2 * budget : budget);
          res.timing = timing(stats(pair.peer), flops);
          res.ours = timing(stats(pair.ours), flops);
          res.speedup = round(speedup(pair), 3);
          if (model === base) oursAll.push(...pair.ours);
        }
      } catch (e) {
        res.error = String((e as Error).message ?? e);
        console.error(`${label} ${peer}: ${res.error}`);
      }
      free();
      peers[peer] = res;
    }
    for (const m of prepared) if (m !== base) m.dispose();
    if (!oursAll.length) {
      for (let i = 0; i < 6; i++) base.forward(xShort);
      oursAll.push(...(await runner(() => base.forward(x))(10)));
    }
    let floor: ReadFloor | undefined;
    if (B === 1 && env.readFloor) {
      const bytes = Math.floor((c.gates * H * H * 4) / 96) * 96;
      const pair = await alternate(runner(() => base.forward(x)), runner(() => env.readFloor!(bytes, T)));
      const web = peers['ort-web']?.timing;
      const ms = timing(stats(pair.peer), 0);
      floor = { wHhBytes: bytes, ms, oursOverFloor: round(1 / speedup(pair), 3),
        gbps: round((T * bytes) / ms.median / 1e6, 1), ...(web ? { goalMs: round(web.median / 1.5, 4) } : {}) };
    }
    let local: LocalPeak | undefined;
    const pk = env.peakKernels;
    if (B === 32 && pk) {
      const fwdRun = runner(() => base.forward(x));
      const pc = await alternate(fwdRun, runner(pk.chain));
      const pt = await alternate(fwdRun, runner(pk.tile));
      local = {
        peakGflops: round(pk.chainFlops / stats(pc.peer).median / 1e6, 2),
        fractionOfPeak: round((flops / pk.chainFlops) * speedup(pc), 4),
        tile: pk.tileName,
        tileGflops: round(pk.tileFlops / stats(pt.peer).median / 1e6, 2),
        fractionOfTile: round((flops / pk.tileFlops) * speedup(pt), 4),
      };
    }
    base.dispose();
    const row: FwdRow = { cell: c.name, hidden: H, batch: B, flops, ours: timing(stats(oursAll), flops), peers,
      ...(floor ? { floor } : {}), ...(local ? { local } : {}) };
    rows.push(row);
    console.log(`  ${label}: ours ${fmt(row.ours.median, 3)} ms; ` + peersSel.map((p) => {
      const r = peers[p]!;
      return `${p} ${r.timing ? `${fmt(r.timing.median, 3)} ms (${fmt(r.speedup!, 2)}x)` : r.skipped ?? 'failed'}`;
    }).join(', ') + (floor ? `; read floor ${fmt(floor.ms.median, 3)} ms (${floor.gbps} GB/s, ours at ` +
      `${fmt(floor.oursOverFloor, 2)}x it${floor.goalMs ? `; 1.5x onnxruntime-web asks ${fmt(floor.goalMs, 3)} ms` : ''})` : '') +
      (local ? `; alternating with the peak kernel ${(100 * local.fractionOfPeak).toFixed(0)}% of its ` +
        `${local.peakGflops.toFixed(1)} GFLOP/s, with the tile ${(100 * local.fractionOfTile).toFixed(0)}% of ` +
        `${local.tileGflops.toFixed(1)}` : ''));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming: one session.step().

interface StreamRow {
  hidden: number; batch: number; stepsPerRun: number; ours: Timing; kernel: Timing; kernelCheck: number;
  estimateFromT100: number; overheadUs: number; overheadPairs: { minUs: number; maxUs: number; runs: number };
  /** The same for `step(x, { out })`, which writes y_t into the caller's array and allocates nothing. */
  outUs: number; overheadOutUs: number; overheadOutPairs: { minUs: number; maxUs: number; runs: number };
  peers: Record<string, PeerResult>;
}

/** The LSTM kernel alone for one step on preallocated buffers, with the model's weights packed as the model does. */
function lstmKernelStep(model: RecurrentLayer, B: number): { step: () => void; h: () => Float32Array; setX: (x: Float32Array) => void; free: () => void } {
  const e = getEngine();
  const k = e.k;
  const H = model.hiddenSize;
  const G = 4;
  const U = 4;
  const NR = 16;
  const nP = Math.ceil(H / U);
  const blocks: number[] = [];
  const alloc = (floats: number): number => {
    const p = e.alloc(Math.max(64, floats * 4));
    blocks.push(p);
    return p;
  };
  const sd = model.stateDict();
  const stage = alloc(G * H * Math.max(I, H));
  const packed = (w: Float32Array, K: number): number => {
    const dst = alloc(nP * K * NR);
    e.f32().set(w, stage / 4);
    k.pack_forward(dst, stage, G, H, K, U, NR);
    return dst;
  };
  const Wih = packed(sd.weight_ih_l0!.data, I), Whh = packed(sd.weight_hh_l0!.data, H);
  const bih = packed(sd.bias_ih_l0!.data, 1), bhh = packed(sd.bias_hh_l0!.data, 1);
  const x = alloc(B * I);
  const out = alloc(B * H);
  const h = alloc(B * H);
  const c = alloc(B * H);
  e.f32().fill(0, h / 4, h / 4 + B * H);
  e.f32().fill(0, c / 4, c / 4 + B * H);
  // As a session step: at one row, the dot-product path over a layout kept between steps (packed once here).
  const ext = e.constant('FWD_GEMV') | e.constant('FWD_DOT_EXT');
  const scratch = alloc(k.lstm_scratch_bytes(1, B, H, 0, ext) / 4);
  const dotBytes = k.lstm_dot_bytes(1, B, H, 0);
  const dot = dotBytes ? alloc(dotBytes / 4) : 0;
  if (dot) {
    k.lstm_forward(out, H, h, c, x, I, h, c, Wih, Whh, bih, bhh, 0, 0, scratch, dot, 1, B, I, H, 0, 0, ext);
    e.f32().fill(0, h / 4, h / 4 + B * H);
    e.f32().fill(0, c / 4, c / 4 + B * H);
  }
  const flags = dot ? ext | e.constant('FWD_DOT_VALID') : 0;
  return {
    step: () => k.lstm_forward(out, H, h, c, x, I, h, c, Wih, Whh, bih, bhh, 0, 0, scratch, dot, 1, B, I, H, 0, 0,
      flags),
    h: () => e.f32().slice(h / 4, h / 4 + B * H),
    setX: (d) => e.f32().set(d, x / 4),
    free: () => blocks.forEach((b) => e.release(b)),
  };
}

async function streaming(env: Env): Promise<StreamRow[]> {
  const rows: StreamRow[] = [];
  if (cellsSel && !cellsSel.includes('LSTM')) return rows;
  console.log('\n== bench/peers streaming: one step of B streams (LSTM, input 32), state carried between calls ==');
  for (const H of [128, 256]) {
    if (hiddenSel && !hiddenSel.includes(H)) continue;
    for (const B of [1, 64]) {
      if (batchSel && !batchSel.includes(B)) continue;
      const model = makeModel('LSTM', H);
      const xd = randomData(B * I, 3 + H + B);
      const xt = { data: xd, shape: [B, I] };
      const session = model.createSession({ batchSize: B });
      // Check: 5 steps from zero states.
      const CHECK = 5;
      for (let i = 0; i < CHECK; i++) session.step(xt);
      const st = session.getState();
      const t1 = performance.now();
      for (let i = 0; i < 20; i++) session.step(xt);
      const N = Math.max(2, Math.min(100, Math.round((20 * 2) / (performance.now() - t1)))); // runs of ~2 ms
      const ours = runner(() => session.step(xt), N);
      for (let i = 0; i < 10; i++) await ours(1);
      const outBuf = new Float32Array(B * H);
      const oursOut = runner(() => session.step(xt, { out: outBuf }), N);
      for (let i = 0; i < 10; i++) await oursOut(1);
      // The arithmetic alone: the kernel for T=1 on preallocated buffers (checked against the session).
      const kern = lstmKernelStep(model, B);
      kern.setX(xd);
      for (let i = 0; i < CHECK; i++) kern.step();
      const kernelCheck = maxAbsDiff(kern.h(), st.h.data);
      const kRun = runner(kern.step, N);
      for (let i = 0; i < 20; i++) await kRun(1);
      // Per-step time of a T=100 forward at the same B.
      const x100 = { data: randomData(T * B * I, 5), shape: [T, B, I] };
      const fRun = runner(() => model.forward(x100));
      await fRun(5);
      const estimate = stats(await fRun(10)).median / T;
      // Overhead: adjacent runs of N steps and N kernel calls, 100 pairs; the median difference. The same,
      // interleaved, for step(x, { out }). Which side of a pair runs first alternates, so that neither always
      // follows the other's use of the caches (40 pairs in one order read 1.5-2.7 us from run to run on a noisy
      // machine where a probe of the same calls measured 0.4-0.7 us).
      const diffs: number[] = [];
      const diffsOut: number[] = [];
      const outTimes: number[] = [];
      const pair = async (a: Runner, b: Runner, first: boolean): Promise<[number, number]> => {
        if (first) {
          const ta = (await a(1))[0]!;
          return [ta, (await b(1))[0]!];
        }
        const tb = (await b(1))[0]!;
        return [(await a(1))[0]!, tb];
      };
      for (let i = 0; i < 100; i++) {
        const [s, k1] = await pair(ours, kRun, i % 2 === 0);
        diffs.push(s - k1);
        const [t, k2] = await pair(oursOut, kRun, i % 2 === 1);
        outTimes.push(t);
        diffsOut.push(t - k2);
      }
      const overhead = stats(diffs);
      const overheadOut = stats(diffsOut);
      const peers: Record<string, PeerResult> = {};
      const oursAll: number[] = [];
      const kAll: number[] = [];
      const kernelSide = async (k: number): Promise<number[]> => {
        kAll.push(...(await kRun(Math.max(1, k >> 1))));
        return ours(k);
      };
      for (const peer of peersSel) {
        if (peer === 'tfjs') continue;
        if (peer === 'torch' && !env.torch) {
          peers[peer] = { skipped: 'not installed' };
          continue;
        }
        const res: PeerResult = {};
        let run: Runner;
        let free = (): void => {};
        let got: { h: Float32Array; c: Float32Array };
        try {
          if (peer === 'torch') {
            const t = env.torch!;
            await torchLoad(t, 'stream', 'LSTM', H, model);
            await torchTensor(t, 'xs', xd, [1, B, I]);
            const out = path.join(tmp, 'steps_');
            await t.call({ cmd: 'steps', model: 'stream', x: 'xs', steps: CHECK, out });
            got = { h: readF32(`${out}h`), c: readF32(`${out}c`) };
            run = async (k) => (await t.call({ cmd: 'time_steps', model: 'stream', x: 'xs', steps: N, runs: k }))
              .times as number[];
          } else {
            const ort = peer === 'ort-web' ? env.ortWeb : env.ortNode;
            const s = await ort.InferenceSession.create(exportOnnx(model, { initialStates: true }),
              ortOptions(peer === 'ort-web' ? 'web' : 'node'));
            const input = new ort.Tensor('float32', xd, [1, B, I]);
            let h = new ort.Tensor('float32', new Float32Array(B * H), [1, B, H]);
            let c = new ort.Tensor('float32', new Float32Array(B * H), [1, B, H]);
            const step = async (): Promise<void> => {
              const r = await s.run({ input, h0: h, c0: c });
              h = r.hN;
              c = r.cN;
            };
            for (let i = 0; i < CHECK; i++) await step();
            got = { h: h.data, c: c.data };
            run = runner(step, N);
            free = () => void s.release();
          }
          const diff = Math.max(maxAbsDiff(st.h.data, got.h), maxAbsDiff(st.c!.data, got.c));
          res.check = { maxAbsDiff: diff, ok: diff <= FWD_TOL };
          if (!res.check.ok) {
            console.error(`CHECK FAILED stream H${H} B${B} vs ${peer}: ${diff}`);
          } else {
            await run(3);
            const pair = await alternate(kernelSide, run, budget);
            res.timing = timing(stats(pair.peer), 0);
            res.ours = timing(stats(pair.ours), 0);
            res.speedup = round(speedup(pair), 3);
            oursAll.push(...pair.ours);
          }
        } catch (e) {
          res.error = String((e as Error).message ?? e);
          console.error(`stream H${H} B${B} ${peer}: ${res.error}`);
        }
        free();
        peers[peer] = res;
      }
      if (!oursAll.length) oursAll.push(...(await kernelSide(20)));
      if (!kAll.length) kAll.push(...(await kRun(20)));
      kern.free();
      session.dispose();
      model.dispose();
      const o = timing(stats(oursAll), 0);
      const kt = timing(stats(kAll), 0);
      const row: StreamRow = {
        hidden: H, batch: B, stepsPerRun: N, ours: o, kernel: kt, kernelCheck,
        estimateFromT100: round(estimate, 5), overheadUs: round(1000 * overhead.median, 3),
        overheadPairs: { minUs: round(1000 * overhead.min, 3), maxUs: round(1000 * overhead.max, 3), runs: overhead.runs },
        outUs: round(1000 * stats(outTimes).median, 3), overheadOutUs: round(1000 * overheadOut.median, 3),
        overheadOutPairs: { minUs: round(1000 * overheadOut.min, 3), maxUs: round(1000 * overheadOut.max, 3),
          runs: overheadOut.runs },
        peers,
      };
      rows.push(row);
      console.log(`  LSTM H${H} B${B}: step ${fmt(1000 * o.median, 2)} us (kernel alone ${fmt(1000 * kt.median, 2)} us, ` +
        `T=100 forward / 100: ${fmt(1000 * estimate, 2)} us); ` + Object.entries(peers).map(([p, r]) =>
        `${p} ${r.timing ? `${fmt(1000 * r.timing.median, 2)} us (${fmt(r.speedup!, 2)}x)` : r.skipped ?? 'failed'}`)
        .join(', '));
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Cold start: fresh node processes (bench/peers/cold.mjs).

interface ColdResult {
  total: Stats2; afterImport: Stats2; wall: Stats2; check: number;
  /** Medians, ms: import (from process start), then each phase after it (init, construct, load, session, run). */
  phases: Record<string, number>;
}
type Stats2 = { median: number; min: number; max: number; runs: number };

async function cold(): Promise<Record<string, ColdResult>> {
  const out: Record<string, ColdResult> = {};
  if ((cellsSel && !cellsSel.includes('LSTM')) || (hiddenSel && !hiddenSel.includes(256)) ||
    (batchSel && !batchSel.includes(1))) return out;
  console.log('\n== bench/peers cold start: fresh node process to its first LSTM H256 B1 T=100 result ==');
  const H = 256;
  const model = makeModel('LSTM', H);
  const dir = fs.mkdtempSync(path.join(tmp, 'cold-'));
  fs.writeFileSync(path.join(dir, 'model.onnx'), exportOnnx(model));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(model.stateDict()));
  const xd = randomData(T * I, 99);
  fs.writeFileSync(path.join(dir, 'x.f32'), Buffer.from(xd.buffer));
  const ref = model.forward({ data: xd, shape: [T, 1, I] }).hN.data;
  model.dispose();
  const which = [['ours', pathToFileURL(path.join(ROOT, 'dist', 'index.js')).href]];
  if (peersSel.includes('ort-web')) which.push(['ort-web', pathToFileURL(req.resolve('onnxruntime-web')).href]);
  if (peersSel.includes('ort-node')) which.push(['ort-node', pathToFileURL(req.resolve('onnxruntime-node')).href]);
  const REPS = 5;
  const raw: Record<string, { total: number[]; after: number[]; wall: number[]; check: number;
    phases: Record<string, number[]> }> = {};
  for (let r = 0; r < REPS; r++) {
    for (const [name, url] of which) {
      const t0 = performance.now();
      const p = spawnSync(process.execPath, [path.join(PEERS_DIR, 'cold.mjs'), name!, url!, dir],
        { encoding: 'utf8' });
      const wall = performance.now() - t0;
      if (p.status !== 0) throw new Error(`cold start ${name} failed: ${p.stderr}`);
      const j = JSON.parse(p.stdout.trim().split('\n').pop()!) as { imported: number; done: number; hN: number[];
        init?: number; construct?: number; load?: number; session?: number };
      const e = (raw[name!] ??= { total: [], after: [], wall: [], check: 0, phases: {} });
      let prev = j.imported;
      for (const k of ['init', 'construct', 'load', 'session', 'done'] as const) {
        const v = j[k];
        if (v === undefined) continue;
        (e.phases[k === 'done' ? 'run' : k] ??= []).push(v - prev);
        prev = v;
      }
      (e.phases.import ??= []).push(j.imported);
      e.total.push(j.done);
      e.after.push(j.done - j.imported);
      e.wall.push(wall);
      e.check = Math.max(e.check, maxAbsDiff(ref, Float32Array.from(j.hN)));
    }
  }
  const rs = (v: number[]): Stats2 => {
    const s = stats(v);
    return { median: round(s.median, 2), min: round(s.min, 2), max: round(s.max, 2), runs: s.runs };
  };
  for (const [name, e] of Object.entries(raw)) {
    out[name] = { total: rs(e.total), afterImport: rs(e.after), wall: rs(e.wall), check: e.check,
      phases: Object.fromEntries(Object.entries(e.phases).map(([k, v]) => [k, round(stats(v).median, 2)])) };
    console.log(`  ${name}: ${fmt(out[name].total.median, 1)} ms from process start (after import ` +
      `${fmt(out[name].afterImport.median, 1)} ms; spawn to exit ${fmt(out[name].wall.median, 1)} ms); ` +
      `max|diff| of hN vs ours ${e.check.toExponential(1)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Training step: forward, backward, SGD.

const TRAIN_WORKLOADS: [string, number, number][] = [
  ['LSTM', 128, 1], ['LSTM', 256, 1], ['LSTM', 256, 32], ['GRU', 256, 1], ['GRU', 256, 32], ['RNN', 256, 1],
  ['RNN', 256, 32],
];

interface TrainRow {
  cell: string; hidden: number; batch: number; flops: number; ours: Timing;
  check?: { loss: [number, number]; weights: Record<string, number>; worst: number; ok: boolean };
  peers: Record<string, PeerResult & { loss?: [number, number] }>;
}

interface TrainData { x: Float32Array; target: Float32Array; dOut: Float32Array; T: number; B: number; H: number }

function trainData(Tn: number, B: number, H: number, seed: number): TrainData {
  return { x: randomData(Tn * B * I, seed), target: randomData(Tn * B * H, seed + 1).map((v) => 0.5 * v),
    dOut: new Float32Array(Tn * B * H), T: Tn, B, H };
}

/**
 * One training step of ours as bench/train.ts runs it, with SGD: the MSE loss and its gradient in WebAssembly
 * (lossBackward), as PyTorch's F.mse_loss and tfjs's meanSquaredError compute theirs in their own kernels.
 */
function oursStep(model: RecurrentLayer, opt: SGD, d: TrainData): number {
  opt.zeroGrad();
  model.forward({ data: d.x, shape: [d.T, d.B, I] }, { train: true });
  const { loss } = model.lossBackward({ data: d.target, shape: [d.T, d.B, d.H] }, { collectGrads: false });
  opt.step();
  return loss;
}

async function training(env: Env): Promise<TrainRow[]> {
  const rows: TrainRow[] = [];
  const list = TRAIN_WORKLOADS.filter(([c, H, B]) => (!cellsSel || cellsSel.includes(c)) &&
    (!hiddenSel || hiddenSel.includes(H)) && (!batchSel || batchSel.includes(B)));
  if (!list.length) return rows;
  console.log(`\n== bench/peers training step: forward, backward, SGD lr ${LR}, MSE on every output; T=${T}, I=${I} ==`);
  for (const [cell, H, B] of list) {
    const c = { LSTM: 4, GRU: 3, RNN: 1 }[cell]!;
    const flops = 3 * T * B * c * 2 * H * (I + H);
    const label = `${cell} H${H} B${B}`;
    const full = trainData(T, B, H, 7 + H + B);
    const short = trainData(4, B, H, 7 + H + B);
    const checkData = trainData(TS, B, H, 7 + H + B);
    const peers: TrainRow['peers'] = {};
    const oursAll: number[] = [];
    let check: TrainRow['check'];
    for (const peer of peersSel) {
      if (peer === 'ort-web' || peer === 'ort-node') continue;
      if (peer === 'torch' && !env.torch) {
        peers[peer] = { skipped: 'not installed' };
        continue;
      }
      const base = makeModel(cell, H);
      const model = oursFor(peer, cell, H, base);
      if (model !== base) base.dispose();
      const opt = new SGD(model.parameters(), { lr: LR });
      const res: PeerResult & { loss?: [number, number] } = {};
      let run: Runner;
      let free = (): void => {};
      let maxStep = Infinity;
      try {
        if (peer === 'torch') {
          const t = env.torch!;
          await torchLoad(t, 'train', cell, H, model);
          await torchTensor(t, 'tx', full.x, [T, B, I], true);
          await torchTensor(t, 'ty', full.target, [T, B, H]);
          const out = path.join(tmp, 'train_');
          const a = await t.call({ cmd: 'train', model: 'train', x: 'tx', target: 'ty', lr: LR, runs: 1, out });
          const lossO = oursStep(model, opt, full);
          const sd = model.stateDict();
          const weights: Record<string, number> = {};
          for (const [k, v] of Object.entries(sd)) weights[k] = relDiff(v.data, readF32(`${out}${k}`));
          const lossT = a.losses[0] as number;
          const worst = Math.max(...Object.values(weights), Math.abs(lossO - lossT) / Math.abs(lossT));
          check = { loss: [lossO, lossT], weights, worst, ok: worst <= TRAIN_TOL };
          res.check = { maxAbsDiff: worst, ok: check.ok };
          run = async (k) => (await t.call({ cmd: 'train', model: 'train', x: 'tx', target: 'ty', lr: LR, runs: k }))
            .times as number[];
        } else {
          const tf = env.tf;
          // tfjs steps take seconds at batch 32: check (first-step loss) and estimate on TS-step sequences,
          // so a step estimated above tfjsMaxStep never runs at full length.
          const m = tfjsModel(tf, cell, H, model, false);
          m.compile({ optimizer: tf.train.sgd(LR), loss: 'meanSquaredError' });
          const tens = (d: TrainData): Any[] => [tf.tensor3d(swap01(d.x, d.T, B, I), [B, d.T, I]),
            tf.tensor3d(swap01(d.target, d.T, B, H), [B, d.T, H])];
          const [xs, ys] = tens(checkData);
          const lossT = Number(await m.trainOnBatch(xs, ys));
          const lossO = oursStep(model, opt, checkData);
          res.loss = [lossO, lossT];
          const rel = Math.abs(lossO - lossT) / Math.abs(lossT);
          res.check = { maxAbsDiff: rel, ok: rel <= TRAIN_TOL, note: `first-step loss at T=${TS}, relative` +
            `${cell === 'GRU' ? '; GRU reset_after=false on both sides' : ''}` };
          const t1 = performance.now();
          await m.trainOnBatch(xs, ys);
          const est = ((performance.now() - t1) * T) / TS;
          const [xb, yb] = est <= tfjsMaxStep ? tens(full) : [xs, ys];
          run = est <= tfjsMaxStep ? runner(() => m.trainOnBatch(xb, yb)) : async () => [est];
          free = () => { tf.dispose([xs, ys, xb, yb]); m.dispose(); };
          maxStep = tfjsMaxStep;
        }
        if (!res.check.ok) {
          console.error(`CHECK FAILED training ${label} vs ${peer}: ${JSON.stringify(res.check)} ` +
            `${JSON.stringify(check ?? res.loss)}`);
        }
        if (res.check.ok) {
          for (let i = 0; i < 6; i++) oursStep(model, opt, short);
          for (let i = 0; i < 2; i++) oursStep(model, opt, full);
          const ours = runner(() => oursStep(model, opt, full));
          await run(peer === 'torch' ? 2 : 1); // the peer's warm-up
          const pair = await alternate(ours, run, peer === 'tfjs' ? 4 * budget : 2 * budget, maxStep);
          res.ours = timing(stats(pair.ours), flops);
          if (model === base) oursAll.push(...pair.ours);
          if (pair.skipped) {
            res.skipped = `not timed (${pair.skipped})`;
            res.speedup = round(pair.estPeerMs! / res.ours.median, 3);
          } else {
            res.timing = timing(stats(pair.peer), flops);
            res.speedup = round(speedup(pair), 3);
          }
        }
      } catch (e) {
        res.error = String((e as Error).message ?? e);
        console.error(`training ${label} ${peer}: ${res.error}`);
      }
      free();
      opt.dispose();
      model.dispose();
      peers[peer] = res;
    }
    if (!oursAll.length) {
      const model = makeModel(cell, H);
      const opt = new SGD(model.parameters(), { lr: LR });
      for (let i = 0; i < 6; i++) oursStep(model, opt, short);
      oursAll.push(...(await runner(() => oursStep(model, opt, full))(10)));
      opt.dispose();
      model.dispose();
    }
    const row: TrainRow = { cell, hidden: H, batch: B, flops, ours: timing(stats(oursAll), flops), check, peers };
    rows.push(row);
    console.log(`  ${label}: ours ${fmt(row.ours.median, 3)} ms; ` + Object.entries(peers).map(([p, r]) =>
      `${p} ${r.timing ? `${fmt(r.timing.median, 3)} ms (${fmt(r.speedup!, 2)}x)`
        : r.skipped ? `${r.skipped}${r.speedup ? ` (>= ~${fmt(r.speedup, 1)}x)` : ''}` : 'failed'}`).join(', ') +
      (check ? `; check vs torch ${check.worst.toExponential(1)}` : ''));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------

interface Target { what: string; value: number | null; goal: string; ok: boolean; note?: string }

function cellText(r: PeerResult | undefined, scale = 1, unit = ''): string {
  if (!r) return '-';
  if (r.timing) return `${fmt(scale * r.timing.median, 3)}${unit}${r.timing.gflops ? ` / ${fmt(r.timing.gflops, 1)}` : ''}`;
  if (r.skipped) return r.skipped;
  if (r.check && !r.check.ok) return 'CHECK FAILED';
  return r.error ? 'error' : '-';
}
/** The speed-up and, after "vs", our median in that pairing (ms, or us with scale 1000). */
function xText(r: PeerResult | undefined, scale = 1): string {
  if (r?.speedup === undefined) return '-';
  return `${r.speedup.toFixed(2)}x${r.timing ? '' : ' (est.)'}${r.ours ? ` vs ${fmt(scale * r.ours.median, 3)}` : ''}`;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const loadavgStart = os.loadavg().map((x) => round(x, 2));
  const engine = await init({ simd: flavourArg, threads: 1 }); // the targets are single-threaded
  const env = await setup(engine.flavour);
  console.log(`bench/peers: ours (wasm '${engine.flavour}') vs ${peersSel.map((p) => p === 'torch'
    ? `torch ${env.versions.torch}` : p === 'tfjs' ? `tfjs ${env.versions['@tensorflow/tfjs']} wasm`
      : `${p} ${env.versions[p === 'ort-web' ? 'onnxruntime-web' : 'onnxruntime-node']}`).join(', ')}`);
  if (env.versions.torchBlas) console.log(`PyTorch's BLAS: ${env.versions.torchBlas}`);
  const sections: Record<string, number> = {};
  const timed = async <R>(name: string, f: () => Promise<R>): Promise<R> => {
    const s = performance.now();
    const r = await f();
    sections[name] = round((performance.now() - s) / 1000, 1);
    return r;
  };
  // The batch-32 fraction of peak against bench/peak's kernels for our build's flavour, measured in this run just
  // before and just after the forward section (the fastest run of either): a peak taken minutes apart from the
  // forwards meets another spell of this shared machine.
  const peakFile = path.join(ROOT, 'bench', '.build', engine.flavour === 'relaxed' ? 'peak-relaxed.wasm' : 'peak.wasm');
  const peaks: PeakResult[] = [];
  const measurePeaks = async (): Promise<void> => {
    if (doForward && fs.existsSync(peakFile)) peaks.push(await measurePeak(peakFile, engine.flavour as Flavour));
  };
  await measurePeaks();
  const fwd = doForward ? await timed('forward', () => forward(env)) : [];
  await measurePeaks();
  const peak = peaks.length ? Math.max(...peaks.map((p) => p.gflops)) : 0;
  const tileCeiling = peaks.length ? Math.max(...peaks.map((p) => p.tile.gflops)) : 0;
  for (const r of fwd) {
    if (r.batch !== 32 || !peak) continue;
    r.fractionOfPeak = round(r.ours.gflops / peak, 4);
    r.fractionOfTile = round(r.ours.gflops / tileCeiling, 4);
  }
  const stream = doStream ? await timed('streaming', () => streaming(env)) : [];
  const coldRes = doCold ? await timed('cold', cold) : {};
  const train = doTrain ? await timed('training', () => training(env)) : [];
  env.torch?.close();

  const fwdPeers = peersSel;
  if (fwd.length) {
    console.log('\nforward (ms / GFLOP/s; x = median over rounds of peer / ours timed alternately with that peer, "vs" ' +
      'ours\' median in that pairing; the ours column pools every pairing)');
    console.log(table(['workload', 'ours', ...fwdPeers.flatMap((p) => [p, 'x']), 'max|diff|'], fwd.map((r) => [
      `${r.cell} H${r.hidden} B${r.batch}`, `${fmt(r.ours.median, 3)} / ${fmt(r.ours.gflops, 1)}`,
      ...fwdPeers.flatMap((p) => [cellText(r.peers[p]), xText(r.peers[p])]),
      Math.max(...Object.values(r.peers).map((p) => p.check?.maxAbsDiff ?? 0)).toExponential(1),
    ])));
  }
  const fp = fwd.filter((r) => r.fractionOfPeak !== undefined);
  if (fp.length) {
    console.log(`\nbatch 32, fraction of the ${engine.flavour} SIMD peak measured before and after the forwards ` +
      `(${peaks.map((p) => p.gflops.toFixed(1)).join(' and ')} GFLOP/s, the higher counts) and of the tile ceiling ` +
      `(the kernels' register tiles alone, panel in L1: ${peaks.map((p) => `${p.tile.gflops.toFixed(1)} ` +
      `(${p.tile.best})`).join(' and ')})`);
    console.log('and timed alternately with the peak kernel and with the tile (median over rounds of the ratio; judged)');
    const pc = (v: number | undefined): string => (v === undefined ? '-' : `${(100 * v).toFixed(0)}%`);
    console.log(table(['workload', 'ours GFLOP/s', 'of peak', 'of tile ceiling', 'alternating: peak GFLOP/s',
      'of it', 'tile GFLOP/s', 'of it'], fp.map((r) => [
      `${r.cell} H${r.hidden} B${r.batch}`, fmt(r.ours.gflops, 1), pc(r.fractionOfPeak), pc(r.fractionOfTile),
      r.local ? r.local.peakGflops.toFixed(1) : '-', pc(r.local?.fractionOfPeak),
      r.local ? r.local.tileGflops.toFixed(1) : '-', pc(r.local?.fractionOfTile)])));
  }
  const fl = fwd.filter((r) => r.floor);
  if (fl.length) {
    console.log('\nbatch-1 read floor (T reads of W_hh\'s bytes alone, timed alternately with ours; ours / floor: median ' +
      'over rounds; 1.5x onnxruntime-web: its median / 1.5)');
    console.log(table(['workload', 'W_hh bytes', 'floor ms', 'GB/s', 'ours / floor', '1.5x ort-web asks ms',
      'asks / floor'], fl.map((r) => [`${r.cell} H${r.hidden} B${r.batch}`, r.floor!.wHhBytes,
      fmt(r.floor!.ms.median, 3), fmt(r.floor!.gbps, 1), fmt(r.floor!.oursOverFloor, 2),
      r.floor!.goalMs ? fmt(r.floor!.goalMs, 3) : '-',
      r.floor!.goalMs ? fmt(r.floor!.goalMs / r.floor!.ms.median, 2) : '-'])));
  }
  if (stream.length) {
    const sp = peersSel.filter((p) => p !== 'tfjs');
    console.log('\nstreaming (us per step; kernel: lstm_forward for T=1 alone; overhead: median of step - kernel over ' +
      'adjacent run pairs; x = median over rounds of peer / ours, "vs" ours\' median in that pairing)');
    console.log(table(['workload', 'ours step', 'kernel', 'T=100 fwd/100', 'overhead', 'step out', 'overhead',
      ...sp.flatMap((p) => [p, 'x']), 'max|diff|'], stream.map((r) => [
      `LSTM H${r.hidden} B${r.batch}`, fmt(1000 * r.ours.median, 2), fmt(1000 * r.kernel.median, 2),
      fmt(1000 * r.estimateFromT100, 2), fmt(r.overheadUs, 2), fmt(r.outUs, 2), fmt(r.overheadOutUs, 2),
      ...sp.flatMap((p) => [cellText(r.peers[p], 1000), xText(r.peers[p], 1000)]),
      Math.max(r.kernelCheck, ...Object.values(r.peers).map((p) => p.check?.maxAbsDiff ?? 0)).toExponential(1),
    ])));
  }
  if (Object.keys(coldRes).length) {
    console.log('\ncold start (ms, medians of 5 fresh processes; total from process start, via performance.timeOrigin)');
    console.log(table(['implementation', 'total', 'after import', 'phases after import', 'spawn to exit', 'max|diff|'],
      Object.entries(coldRes).map(([n, r]) => [n, fmt(r.total.median, 1), fmt(r.afterImport.median, 1),
        Object.entries(r.phases).filter(([k]) => k !== 'import').map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', '),
        fmt(r.wall.median, 1), r.check.toExponential(1)])));
  }
  const tp = peersSel.filter((p) => p === 'torch' || p === 'tfjs');
  if (train.length) {
    console.log('\ntraining step (ms / GFLOP/s counting 3x the forward; x = median over rounds of peer / ours timed ' +
      'alternately, "vs" ours\' median in that pairing; the ours column pools the pairings with the same model)');
    console.log(table(['workload', 'ours', ...tp.flatMap((p) => [p, 'x']), 'check vs torch'], train.map((r) => [
      `${r.cell} H${r.hidden} B${r.batch}`, `${fmt(r.ours.median, 3)} / ${fmt(r.ours.gflops, 1)}`,
      ...tp.flatMap((p) => [cellText(r.peers[p]), xText(r.peers[p])]),
      r.check ? `${r.check.worst.toExponential(1)}${r.check.ok ? '' : ' FAILED'}` : '-',
    ])));
  }

  // Targets.
  const targets: Target[] = [];
  const sp = (r: PeerResult | undefined): number | null => r?.speedup ?? null;
  for (const r of fwd) {
    const l = `${r.cell} H${r.hidden} B${r.batch}`;
    const w = sp(r.peers['ort-web']);
    if (r.peers['ort-web']) targets.push({ what: `forward ${l} vs onnxruntime-web`, value: w, goal: '>= 1.5x', ok: w !== null && w >= 1.5 });
    const n = sp(r.peers['ort-node']);
    if (r.batch === 1 && r.peers['ort-node']) targets.push({ what: `forward ${l} vs onnxruntime-node`, value: n, goal: '>= 0.8x', ok: n !== null && n >= 0.8 });
    // Judged on the alternating measurement (same spell on both sides); the fraction of the run's fastest peak
    // (before/after the forwards) is in the text.
    if (r.local && r.hidden >= 256) {
      targets.push({ what: `forward ${l} fraction of the SIMD peak, timed alternately with it (peak ` +
        `${r.local.peakGflops.toFixed(1)} GFLOP/s there; ${(100 * r.local.fractionOfTile).toFixed(0)}% of the tile; ` +
        `${(100 * r.fractionOfPeak!).toFixed(0)}% of the run's fastest peak, ${peak.toFixed(1)})`,
      value: r.local.fractionOfPeak, goal: '>= 75%', ok: r.local.fractionOfPeak >= 0.75 });
    }
  }
  for (const r of train) {
    const l = `${r.cell} H${r.hidden} B${r.batch}`;
    const t = r.peers.torch;
    if (t && !t.skipped) {
      const v = sp(t);
      if (r.batch === 32 && r.hidden === 256) targets.push({ what: `training ${l} vs PyTorch`, value: v, goal: '>= 0.8x', ok: v !== null && v >= 0.8 });
      if (r.batch === 1) targets.push({ what: `training ${l} vs PyTorch`, value: v, goal: '>= 3x', ok: v !== null && v >= 3 });
    }
    const f = r.peers.tfjs;
    if (f) {
      const v = sp(f);
      targets.push({ what: `training ${l} vs tfjs wasm`, value: v, goal: '>= 20x', ok: v !== null && v >= 20,
        ...(f.skipped ? { note: `tfjs ${f.skipped}; ratio from its estimate` } : {}) });
    }
  }
  // The issue's target is one session at hidden 128; the other rows are reported in the table, not judged. The
  // target counts crossing into WebAssembly and copying x_t and y_t: step(x, { out }) is exactly that, so it is
  // judged; step(x) also allocates the returned Float32Array (V8's off-heap typed-array allocation, 2-3 us for
  // 512 bytes), reported beside it. bench/stream measures the same overhead per API in more rounds.
  for (const r of stream.filter((q) => q.hidden === 128 && q.batch === 1)) {
    targets.push({ what: `streaming LSTM H${r.hidden} B${r.batch} step(x, { out }) overhead (${fmt(r.outUs, 2)} us, ` +
      `kernel alone ${fmt(1000 * r.kernel.median, 2)} us; step(x) returning a new array ${fmt(1000 * r.ours.median, 2)} ` +
      `us, overhead ${fmt(r.overheadUs, 2)} us)`, value: r.overheadOutUs, goal: '< 2 us', ok: r.overheadOutUs < 2 });
  }
  if (coldRes.ours) {
    const v = coldRes.ours.afterImport.median;
    targets.push({ what: `cold start after import (total ${fmt(coldRes.ours.total.median, 1)} ms from process start)`,
      value: v, goal: '< 30 ms', ok: v < 30 });
  }
  if (targets.length) {
    console.log('\ntargets');
    for (const t of targets) {
      const v = t.value === null ? 'not measured' : t.goal.includes('%') ? `${(100 * t.value).toFixed(1)}%`
        : t.goal.includes('x') ? `${t.value.toFixed(2)}x`
        : `${fmt(t.value, 2)}${t.goal.includes('us') ? ' us' : ' ms'}`;
      console.log(`  ${t.ok ? 'ok  ' : 'MISS'} ${t.what}: ${v} (goal ${t.goal})${t.note ? `; ${t.note}` : ''}`);
    }
  }
  const out = {
    ...machine(),
    loadavgStart,
    flavour: engine.flavour,
    versions: env.versions,
    config: {
      T, I, layers: 1, bidirectional: false, flops: 'T*B*gates*2*H*(I+H) (training: 3x)', forwardTolerance: FWD_TOL,
      trainTolerance: TRAIN_TOL, optimizer: `SGD lr ${LR}`, budgetMs: budget, tfjsMaxStepMs: tfjsMaxStep,
      timing: 'medians; ours and each peer alternately in 3-5 rounds of a few runs each after warm-up; PyTorch times ' +
        'itself in its child process (perf_counter_ns around each call); streaming: per step, from runs of ' +
        'stepsPerRun steps (about 2 ms)',
      threads: 'one: onnxruntime-web numThreads 1, onnxruntime-node intra/inter-op 1, torch.set_num_threads(1), ' +
        'tfjs wasm without multithread support',
    },
    peak: peaks.length ? { flavour: engine.flavour, gflops: peak, tileGflops: tileCeiling,
      runs: peaks.map((p, i) => ({ when: i === 0 ? 'before forward' : 'after forward', gflops: p.gflops, best: p.best,
        tile: p.tile })) } : null,
    forward: fwd, streaming: stream, coldStart: coldRes, training: train, targets,
    durationS: round((performance.now() - t0) / 1000, 1), sectionsS: sections,
  };
  if (!filtered) console.log(`wrote ${path.relative(process.cwd(), writeJson('peers.json', out))}`);
  else console.log('(filtered run: results file not written)');
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`bench/peers done in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Object.entries(sections)
    .map(([k, v]) => `${k} ${v} s`).join(', ')})`);
}

main().catch((e: unknown) => {
  console.error(e);
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
});
