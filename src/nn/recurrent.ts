/**
 * Recurrent layers with PyTorch's semantics: {@link RNN}, {@link LSTM} and {@link GRU}, multi-layer,
 * bidirectional, with optional projection (LSTM), initial states and padded batches.
 *
 * Memory: one parameter block per model holds every weight packed for the kernels; one work block holds the
 * input copy, the layer outputs, the states and the kernels' scratch, sized for the largest (T, B) seen and
 * reused. A forward pass copies the input in once, makes one WebAssembly call per layer and direction (never
 * one per time step), and copies the results out once.
 * @module
 */
import { InvalidArgumentError, OutOfMemoryError, ShapeError, StateDictError, UnsupportedError } from '../errors.js';
import { getEngine, type Engine } from '../runtime/engine.js';
import { WasmOwner } from '../runtime/owner.js';
import {
  checkFinite, checkOptions, checkPositiveInt, checkSeed, checkTensor, describe, shapeStr, Tensor, type TensorLike,
} from '../tensor.js';
import { fillUniform, Random } from './random.js';
import { normalizeStateDict, type StateDictInput } from '../io/state-dict.js';
import { Session, type SessionOptions } from './session.js';
import type { Parameter } from '../train/parameter.js';
import type { KernelCall } from '../runtime/threads.js';

/** Kind of recurrent cell, in PyTorch's `mode` names. */
export type CellMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** Options shared by every recurrent layer (PyTorch's constructor arguments). */
export interface RecurrentOptions {
  /** Features per time step of the input (`input_size`). */
  inputSize: number;
  /** Features of the hidden state (`hidden_size`). */
  hiddenSize: number;
  /** Stacked layers (`num_layers`, default 1). */
  numLayers?: number;
  /** Run a second direction over the reversed sequence and concatenate (`bidirectional`, default false). */
  bidirectional?: boolean;
  /** Inputs and outputs are (B, T, F) instead of (T, B, F) (`batch_first`, default false). */
  batchFirst?: boolean;
  /** Use the biases b_ih and b_hh (`bias`, default true). */
  bias?: boolean;
  /** Seed of the initial weights (uniform in +-1/sqrt(hiddenSize), PyTorch's scheme). Default: random. */
  seed?: number;
}

/** Options of {@link RNN}. */
export interface RNNOptions extends RecurrentOptions {
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: 'tanh' | 'relu';
}

/** Options of {@link LSTM}. */
export interface LSTMOptions extends RecurrentOptions {
  /** Size of the projected hidden state (`proj_size`, default 0: no projection). Must be < hiddenSize. */
  projSize?: number;
}

/** Options of {@link GRU}. */
export interface GRUOptions extends RecurrentOptions {
  /**
   * `true` (default, PyTorch's only form): n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). `false`: the reset gate
   * applies before the product, n = tanh(W_in x + b_in + W_hn (r * h) + b_hn), as Keras' `reset_after=False`
   * and ONNX's `linear_before_reset=0`. Same parameters and names either way.
   */
  resetAfter?: boolean;
}

/** Optional arguments of `forward`. */
export interface ForwardOptions {
  /** Initial hidden state, (D*numLayers, B, H_out), or (D*numLayers, H_out) for unbatched input. Default zeros. */
  h0?: TensorLike;
  /** Initial cell state (LSTM only), (D*numLayers, B, hiddenSize), or (D*numLayers, hiddenSize) unbatched. */
  c0?: TensorLike;
  /**
   * Length of each sequence of a padded batch (B integers in [1, T]). Steps past a sequence's length are
   * ignored, its outputs there are zero, and its final state is the one at its own last step, as with
   * PyTorch's packed sequences.
   */
  lengths?: ArrayLike<number>;
  /** Keep the activations for {@link RecurrentLayer.backward} (training). Default false. */
  train?: boolean;
}

/** Result of `forward`, shaped exactly as PyTorch's. */
export interface ForwardResult {
  /** (T, B, D*H_out), or (B, T, D*H_out) with batchFirst, or (T, D*H_out) unbatched. */
  output: Tensor;
  /** Final hidden state of every layer and direction, (D*numLayers, B, H_out) or (D*numLayers, H_out). */
  hN: Tensor;
  /** Final cell state (LSTM only), (D*numLayers, B, hiddenSize) or (D*numLayers, hiddenSize). */
  cN?: Tensor;
}

/** A parameter in PyTorch's naming and shape, and where its packed copy lives. */
export interface ParamInfo {
  /** PyTorch's name, e.g. `weight_hh_l1_reverse`. */
  readonly name: string;
  /** PyTorch's shape. */
  readonly shape: readonly number[];
  /** @internal packing: gates, rows per gate, columns, units per panel, panel width. */
  readonly G: number;
  readonly H: number;
  readonly K: number;
  readonly U: number;
  readonly NR: number;
  /** @internal offset in floats within the parameter block. */
  readonly offset: number;
  /** @internal packed size in floats. */
  readonly packed: number;
}

interface LayerDir {
  wih: ParamInfo;
  whh: ParamInfo;
  bih?: ParamInfo;
  bhh?: ParamInfo;
  whr?: ParamInfo;
  inputSize: number;
}

interface ForwardArgs {
  x: TensorLike;
  /**
   * The input is a Float32Array whose finiteness is checked in WebAssembly once it is copied in (checkInput),
   * rather than element by element in JavaScript (2% of an RNN H256 B32 forward).
   */
  checkLater: boolean;
  T: number;
  B: number;
  batched: boolean;
  h0?: TensorLike;
  c0?: TensorLike;
  lengths?: Int32Array;
  hShape: number[];
  cShape: number[];
  oShape: number[];
}

interface TrainLayout {
  x: number;
  outs: number[];
  h0: number;
  c0: number;
  hN: number;
  cN: number;
  lengths: number;
  scratch: number[];
  bscratch: number;
  dTop: number;
  dBuf: [number, number];
  dX: number;
  dhN: number;
  dcN: number;
  dh0: number;
  dc0: number;
  norms: number;
}

/** Result of `backward`. */
export interface BackwardResult {
  /**
   * Accumulated gradients of every parameter, under PyTorch's names and shapes (empty with
   * `collectGrads: false`, which training loops use: the optimizers read the packed gradients in place).
   */
  grads: Record<string, Tensor>;
  /**
   * Gradient of the input, shaped as the input; with `inputGrad: false` not computed and an empty tensor
   * (shape [0]).
   */
  dInput: Tensor;
  /** Gradient of h0 (zeros given when h0 was omitted), shaped as hN. */
  dh0: Tensor;
  /** Gradient of c0 (LSTM), shaped as cN. */
  dc0?: Tensor;
  /**
   * With `recordGradNorms`: ||dL/dh_t||_2 (over the batch and the hidden units) for every layer and direction
   * and every time step t, shape (D*numLayers, T), time in input order. Shows vanishing or exploding gradients.
   */
  gradNorms?: Tensor;
}

/** Byte offsets of the buffers one forward pass (or one sub-batch of it) runs on. */
interface PassBuffers {
  x: number;
  out: [number, number];
  h0: number;
  c0: number;
  hN: number;
  cN: number;
  lengths: number;
  scratch: number;
}

interface WorkLayout extends PassBuffers {
  /** A second scratch area (the same as `scratch` unless ensureWork was asked for two). */
  scratch2: number;
  bytes: number;
}

const FLOAT = 4;

/** One sub-batch of a multi-threaded forward pass: rows b0 .. b0+B-1, with its own work area. */
interface Slice extends PassBuffers {
  b0: number;
  B: number;
  /** Time segments [t0, t0+n) per direction, in processing order, with their shifted lengths (0: none). */
  segs: { t0: number; n: number; lengths: number }[][];
}

/**
 * Sub-batch sizes for `S` threads: even sizes first, the odd remainder (if B is odd) last, so each row meets the
 * same code path of the kernels (2-row tiles, one odd tail row) as in the whole batch.
 */
export function splitBatch(B: number, S: number): number[] {
  const pairs = Math.floor(B / 2);
  const sizes: number[] = [];
  for (let s = 0; s < S; s++) sizes.push(2 * (Math.floor(pairs / S) + (s < pairs % S ? 1 : 0)));
  sizes[S - 1]! += B % 2;
  return sizes.filter((n) => n > 0);
}

function sub(data: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  return ArrayBuffer.isView(data) ? (data as Float32Array).subarray(from, to)
    : Array.prototype.slice.call(data, from, to) as number[];
}

function alignUp(n: number): number {
  return Math.ceil(n / 64) * 64;
}

/** Largest size accepted for inputSize / hiddenSize / numLayers: keeps every product far from 2^31 floats. */
const MAX_DIM = 1 << 16;

/**
 * Common machinery of the recurrent layers. Use {@link RNN}, {@link LSTM} or {@link GRU}.
 */
export abstract class RecurrentLayer extends WasmOwner {
  /** Cell kind. */
  readonly mode: CellMode;
  /** `input_size`. */
  readonly inputSize: number;
  /** `hidden_size`. */
  readonly hiddenSize: number;
  /** `num_layers`. */
  readonly numLayers: number;
  /** `bidirectional`. */
  readonly bidirectional: boolean;
  /** `batch_first`. */
  readonly batchFirst: boolean;
  /** `bias`. */
  readonly bias: boolean;
  /** `proj_size` (LSTM; 0 elsewhere). */
  readonly projSize: number;
  /** Number of directions, 1 or 2. */
  readonly numDirections: number;
  /** Size of the hidden state seen outside: projSize when set, else hiddenSize. */
  readonly outputSize: number;
  /** Parameters in PyTorch's order (the order of `state_dict()`). */
  readonly params: readonly ParamInfo[];

  /** @internal */ protected readonly layers: LayerDir[][];
  /**
   * The parameter block as written: {@link paramBlock} for everything that reads the weights. Only packParams
   * writes through this directly.
   */
  private paramBlockRaw = 0;
  /**
   * The seed of the initialisation not drawn yet. The constructor only records it: a model whose weights are then
   * loaded whole (the usual way to deploy one) never draws 300k uniforms it would overwrite (5-6 ms of a cold
   * start at hidden 256). The first read of the weights draws them, exactly as the constructor would have.
   */
  private pendingSeed: number | undefined;
  /** @internal */ protected readonly paramFloats: number;
  /** Bumped whenever this class writes the parameters (packParams): what a kept batch-1 layout is checked against. */
  private paramsVersion = 0;
  /**
   * Set for good once {@link parameters} has handed out raw offsets: anything may then write the weights without
   * this class knowing, so no kept batch-1 layout is trusted again and every batch-1 call repacks (as training does).
   */
  private rawParams = false;
  /** Per layer and direction (l * D + d): the block its batch-1 layout was last packed into, and from which version. */
  private readonly dots: ({ ptr: number; version: number } | undefined)[] = [];

  protected constructor(mode: CellMode, options: RecurrentOptions & { projSize?: number }, what: string) {
    super(getEngine(), what);
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('options', `expected an object with inputSize and hiddenSize, got ${describe(options)}`);
    }
    this.mode = mode;
    this.inputSize = checkPositiveInt('options.inputSize', options.inputSize, MAX_DIM);
    this.hiddenSize = checkPositiveInt('options.hiddenSize', options.hiddenSize, MAX_DIM);
    this.numLayers = checkPositiveInt('options.numLayers', options.numLayers ?? 1, 1024);
    this.bidirectional = checkBool('options.bidirectional', options.bidirectional ?? false);
    this.batchFirst = checkBool('options.batchFirst', options.batchFirst ?? false);
    this.bias = checkBool('options.bias', options.bias ?? true);
    const proj = options.projSize ?? 0;
    if (proj !== 0) {
      if (mode !== 'LSTM') throw new InvalidArgumentError('options.projSize', 'is only supported by LSTM');
      checkPositiveInt('options.projSize', proj, MAX_DIM);
      if (proj >= this.hiddenSize) {
        throw new InvalidArgumentError('options.projSize', `must be smaller than hiddenSize (${this.hiddenSize}), got ${proj}`);
      }
    }
    checkSeed('options.seed', options.seed);
    this.projSize = proj;
    this.numDirections = this.bidirectional ? 2 : 1;
    this.outputSize = proj > 0 ? proj : this.hiddenSize;

    const e = this.engine;
    const G = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
    const U = e.constant(mode === 'LSTM' ? 'LSTM_U' : mode === 'GRU' ? 'GRU_U' : 'RNN_U');
    const NR = e.constant(mode === 'LSTM' ? 'LSTM_NR' : mode === 'GRU' ? 'GRU_NR' : 'RNN_NR');
    const PU = e.constant('PROJ_U');
    const H = this.hiddenSize;
    const params: ParamInfo[] = [];
    const layers: LayerDir[][] = [];
    let offset = 0;
    const add = (name: string, shape: number[], g: number, h: number, k: number, u: number, nr: number): ParamInfo => {
      const packed = alignUp(Math.ceil(h / u) * k * nr * FLOAT) / FLOAT;
      const p: ParamInfo = { name, shape, G: g, H: h, K: k, U: u, NR: nr, offset, packed };
      offset += packed;
      params.push(p);
      return p;
    };
    for (let l = 0; l < this.numLayers; l++) {
      const dirs: LayerDir[] = [];
      const inSize = l === 0 ? this.inputSize : this.numDirections * this.outputSize;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const wih = add(`weight_ih${sfx}`, [G * H, inSize], G, H, inSize, U, NR);
        const whh = add(`weight_hh${sfx}`, [G * H, this.outputSize], G, H, this.outputSize, U, NR);
        const bih = this.bias ? add(`bias_ih${sfx}`, [G * H], G, H, 1, U, NR) : undefined;
        const bhh = this.bias ? add(`bias_hh${sfx}`, [G * H], G, H, 1, U, NR) : undefined;
        const whr = proj > 0 ? add(`weight_hr${sfx}`, [proj, H], 1, proj, H, PU, 16) : undefined;
        dirs.push({ wih, whh, bih, bhh, whr, inputSize: inSize });
      }
      layers.push(dirs);
    }
    this.params = params;
    this.layers = layers;
    this.paramFloats = offset;
    try {
      // Refused under the memory cap before anything is allocated: the parameters, the packing stage, the RNG state.
      const maxRaw = Math.max(...params.map((p) => p.shape.reduce((a, b) => a * b, 1)));
      e.checkAlloc([offset * FLOAT, maxRaw * FLOAT, 16], `${this.mode} parameters`);
      this.paramBlockRaw = this.allocBlock(offset * FLOAT);
      this.pendingSeed = options.seed ?? randomSeed();
    } catch (err) {
      this.dispose(); // nothing of a half-built layer stays allocated
      if (!(err instanceof OutOfMemoryError)) throw err;
      // Name the sizes that made the request, not only the byte count.
      throw new OutOfMemoryError(`options.hiddenSize ${H}, options.inputSize ${this.inputSize}, options.numLayers ` +
        `${this.numLayers}${proj ? `, options.projSize ${proj}` : ''}: the parameters need ${offset * FLOAT} bytes of ` +
        `WebAssembly memory, which cannot be allocated (${err.message})`, err);
    }
  }

  /**
   * Re-draws every parameter uniformly in [-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)] (PyTorch's
   * `reset_parameters`), from `seed` (default: a random seed). The distribution is PyTorch's; the random stream
   * is this library's own (see {@link Random}).
   */
  resetParameters(seed?: number): void {
    this.assertAlive();
    checkSeed('seed', seed);
    const rng = new Random(seed ?? randomSeed());
    const k = 1 / Math.sqrt(this.hiddenSize);
    // Drawn in the module (fillUniform): the same values as rng.uniform in order, without a cold JS loop.
    this.packParams((p, stage) => {
      fillUniform(this.engine, rng, stage, p.shape.reduce((a, b) => a * b, 1), -k, k);
      return true;
    });
    this.pendingSeed = undefined; // drawn (a pending draw that failed stays pending)
  }

  /** For each parameter: `fill` writes its PyTorch-layout values at `stage` (or returns false), then packs them. */
  private packParams(fill: (p: ParamInfo, stage: number) => boolean): void {
    const e = this.engine;
    let maxRaw = 0;
    for (const p of this.params) maxRaw = Math.max(maxRaw, p.shape.reduce((a, b) => a * b, 1));
    const stage = e.alloc(maxRaw * FLOAT);
    this.paramsVersion++; // before the first write: a layout packed from the old weights is stale even if this throws
    try {
      for (const p of this.params) {
        if (fill(p, stage)) e.k.pack_forward(this.paramBlockRaw + p.offset * FLOAT, stage, p.G, p.H, p.K, p.U, p.NR);
      }
    } finally {
      e.release(stage);
    }
  }

  /**
   * Loads weights given under PyTorch's names (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`, ...).
   *
   * `stateDict` is a plain object or Map of name to `{ shape, data }` or a bare numeric array, or the bytes of a
   * `.safetensors` file (F32, F64, F16, BF16). With `prefix` (e.g. `'rnn.'`) only names under it are read.
   * With `strict` (default) a missing or unexpected tensor under the prefix is an error. A wrongly shaped tensor
   * is always an error; the message names the tensor and the expected shape. Nothing is written unless every
   * tensor is valid.
   */
  loadStateDict(stateDict: StateDictInput, options: { prefix?: string; strict?: boolean } = {}): void {
    this.assertAlive();
    options = checkOptions('options', options, '{ prefix?, strict? }');
    const prefix = options.prefix ?? '';
    const strict = options.strict ?? true;
    // A .safetensors file's tensors may be views into its bytes (loadRaw copies them into the module first),
    // unless those bytes are the module's memory, which the stage's allocation may move.
    const e = this.engine;
    const own = ArrayBuffer.isView(stateDict) ? stateDict.buffer === e.memory.buffer : stateDict === e.memory.buffer;
    const entries = normalizeStateDict(stateDict, { shareBytes: !own });
    const raw: Record<string, ArrayLike<number>> = {};
    const names = new Map<string, string>(); // parameter -> the name it was given under
    const expected = new Map(this.params.map((p) => [prefix + p.name, p]));
    for (const [name, t] of entries) {
      if (!name.startsWith(prefix)) continue;
      const p = expected.get(name);
      if (!p) {
        if (strict) {
          throw new StateDictError(name, `unexpected tensor for ${this.describeArch()}; expected one of ` +
            `${[...expected.keys()].join(', ')}`);
        }
        continue;
      }
      const n = p.shape.reduce((a, b) => a * b, 1);
      if (t.shape) {
        if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
          throw new StateDictError(name, `expected shape ${shapeStr(p.shape)}, got ${shapeStr(t.shape)}`);
        }
      }
      if (t.data.length !== n) {
        throw new StateDictError(name, `expected ${n} values (shape ${shapeStr(p.shape)}), got ${t.data.length}`);
      }
      raw[p.name] = t.data;
      names.set(p.name, name);
    }
    if (strict) {
      for (const [name, p] of expected) {
        if (!raw[p.name]) {
          throw new StateDictError(name, `missing tensor of shape ${shapeStr(p.shape)} for ${this.describeArch()}`);
        }
      }
    }
    this.loadRaw(raw, names);
  }

  /**
   * @internal The packed parameters (every weight, views by offset), drawn from the seed first if the
   * constructor's initialisation is still pending.
   */
  protected get paramBlock(): number {
    this.drawPending();
    return this.paramBlockRaw;
  }

  /** Draws the constructor's initialisation if it is still pending (see pendingSeed). */
  private drawPending(): void {
    if (this.pendingSeed !== undefined) this.resetParameters(this.pendingSeed);
  }

  /**
   * Writes raw PyTorch-layout tensors (shapes already checked) into the parameter block. Each is copied once into
   * one stage in the module and scanned there, by the module's SIMD scan, for values that are not finite float32
   * (a cold JS loop over a hidden-256 LSTM's 300k weights took most of loadStateDict on a cold start; a finite
   * double beyond the float32 range is refused too); nothing is written unless every tensor passes. Then each is
   * packed from the stage. A load that leaves some tensors as they are draws a pending initialisation first; a
   * whole one makes it moot.
   */
  private loadRaw(raw: Record<string, ArrayLike<number>>, names: Map<string, string>): void {
    const e = this.engine;
    const slots: { p: ParamInfo; at: number; a: ArrayLike<number> }[] = [];
    let bytes = 0;
    for (const p of this.params) {
      const a = raw[p.name];
      if (!a) continue;
      slots.push({ p, at: bytes, a });
      bytes += alignUp(a.length * FLOAT);
    }
    const stage = e.alloc(Math.max(FLOAT, bytes));
    try {
      const f = e.f32(); // after the allocation, which may have grown the memory
      for (const s of slots) f.set(s.a, (stage + s.at) / FLOAT);
      for (const s of slots) {
        if (e.k.has_nonfinite(stage + s.at, s.a.length) === 0) continue;
        for (let i = 0; i < s.a.length; i++) {
          const v = f[(stage + s.at) / FLOAT + i]!;
          if (!Number.isFinite(v)) {
            const what = Number.isFinite(s.a[i]!) ? `${s.a[i]}, beyond the float32 range` : `${s.a[i]}`;
            throw new StateDictError(names.get(s.p.name) ?? s.p.name,
              `element ${i} is ${what}; weights must be finite`);
          }
        }
      }
      if (slots.length < this.params.length) this.drawPending();
      this.paramsVersion++; // before the first write, as packParams
      for (const { p, at } of slots) {
        e.k.pack_forward(this.paramBlockRaw + p.offset * FLOAT, stage + at, p.G, p.H, p.K, p.U, p.NR);
      }
      this.pendingSeed = undefined;
    } finally {
      e.release(stage);
    }
  }

  /** The parameters under PyTorch's names and shapes (copies), optionally under a prefix. */
  stateDict(options: { prefix?: string } = {}): Record<string, Tensor> {
    this.assertAlive();
    options = checkOptions('options', options, '{ prefix? }');
    return this.unpack(this.paramBlock, options.prefix ?? '');
  }

  /** Unpacks a block in the parameter layout (weights or gradients) into PyTorch-shaped tensors. */
  private unpack(block: number, prefix: string): Record<string, Tensor> {
    const e = this.engine;
    const out: Record<string, Tensor> = {};
    let maxRaw = 0;
    for (const p of this.params) maxRaw = Math.max(maxRaw, p.shape.reduce((a, b) => a * b, 1));
    const stage = e.alloc(maxRaw * FLOAT);
    try {
      for (const p of this.params) {
        const n = p.shape.reduce((a, b) => a * b, 1);
        e.k.pack_backward(stage, block + p.offset * FLOAT, p.G, p.H, p.K, p.U, p.NR);
        out[prefix + p.name] = new Tensor(e.f32().slice(stage / FLOAT, stage / FLOAT + n), p.shape);
      }
    } finally {
      e.release(stage);
    }
    return out;
  }

  /** Number of trainable scalars (as `sum(p.numel() for p in model.parameters())`). */
  get numParameters(): number {
    return this.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  }

  /** A one-line description, e.g. `LSTM(32, 64, num_layers=2, bidirectional=True)`. */
  describeArch(): string {
    const parts = [`${this.inputSize}`, `${this.hiddenSize}`];
    if (this.numLayers !== 1) parts.push(`num_layers=${this.numLayers}`);
    if (this.mode === 'RNN_RELU') parts.push("nonlinearity='relu'");
    if (!this.bias) parts.push('bias=False');
    if (this.batchFirst) parts.push('batch_first=True');
    if (this.bidirectional) parts.push('bidirectional=True');
    if (this.projSize) parts.push(`proj_size=${this.projSize}`);
    if (this.resetBefore) parts.push('reset_after=False');
    const name = this.mode.startsWith('RNN') ? 'RNN' : this.mode;
    return `${name}(${parts.join(', ')})`;
  }

  /**
   * Runs the layer over whole sequences, exactly as PyTorch's `forward`.
   *
   * Threads: with an engine on several threads (see `InitOptions.threads`), an inference call whose work reaches
   * `engine.parallelMinFlops` and whose batch has at least 3 rows is split into sub-batches, one per thread; the
   * call stays synchronous and the results are bit-for-bit those of one thread. Training (`train: true`), the
   * {@link backward} pass and streaming sessions always run on the calling thread.
   * @param input (T, B, inputSize), or (B, T, inputSize) with batchFirst, or unbatched (T, inputSize).
   */
  forward(input: TensorLike, options: ForwardOptions = {}): ForwardResult {
    this.assertAlive();
    const a = this.checkForward(input, checkOptions('options', options, '{ h0?, c0?, lengths?, train? }'));
    if (options.train) return this.forwardTrain(a);
    if (this.engine.threads > 1) {
      const r = this.forwardParallel(a);
      if (r) return r;
    }
    const lay = this.ensureWork(a.T, a.B, false);
    this.copyIn(a, lay.x, lay.h0, lay.c0, lay.lengths);
    const outPtr = this.runLayers((l) => lay.out[l % 2]!, () => lay.scratch, a.T, a.B, lay.x, a.h0 ? lay.h0 : 0,
      a.c0 ? lay.c0 : 0, lay.hN, lay.cN, a.lengths ? lay.lengths : 0, false);
    return this.copyOut(a, outPtr, lay.hN, lay.cN);
  }

  /**
   * Forward inference split across the engine's threads by sub-batches, or undefined when not worth it (one
   * row pair, work below `engine.parallelMinFlops`) or not possible. Each sub-batch is an independent problem
   * with its own input, outputs, states and scratch; the results are bit-for-bit those of one thread: rows keep
   * their kernel code path (see {@link splitBatch}), and the odd last sub-batch runs in time segments that
   * reproduce the whole batch's input-projection chunks (the one row of the kernels' GEMM whose summation order
   * differs is the odd tail row of a chunk).
   */
  private forwardParallel(a: ForwardArgs): ForwardResult | undefined {
    const e = this.engine;
    const { T, B } = a;
    if (!a.batched || B < 3) return this.forwardDirections(a);
    const D = this.numDirections;
    const L = this.numLayers;
    const Hout = this.outputSize;
    const H = this.hiddenSize;
    const I = this.inputSize;
    const W = D * Hout;
    if (this.forwardFlops(T, B) < e.parallelMinFlops) return undefined;
    const sizes = splitBatch(B, e.threads);
    if (sizes.length < 2) return this.forwardDirections(a);
    const cell = this.mode === 'LSTM' ? 'LSTM' : this.mode === 'GRU' ? 'GRU' : 'RNN';
    const Np = Math.ceil(H / e.constant(`${cell}_U`)) * e.constant(`${cell}_NR`);
    // The inference kernels project the input ⌊CHUNK_FLOATS / (B·Np)⌋ steps at a time (assembly/seq.ts).
    const chunkFloats = e.constant('CHUNK_FLOATS');
    const chunkOf = (b: number): number => Math.min(T, Math.max(1, Math.floor(chunkFloats / (b * Np))));
    const nB = chunkOf(B);
    const scratch = this.scratchBytes(T, sizes[0]!, false);

    // Layout: one area per slice, in the model's reusable work block.
    let off = 0;
    const place = (n: number): number => {
      const p = off;
      off += alignUp(n);
      return p;
    };
    let b0 = 0;
    const rel = sizes.map((Bs, s) => {
      const odd = s === sizes.length - 1 && Bs % 2 === 1 && chunkOf(Bs) !== nB;
      const segT: { t0: number; n: number }[][] = [];
      for (let d = 0; d < D; d++) {
        const list: { t0: number; n: number }[] = [];
        if (!odd) list.push({ t0: 0, n: T });
        else if (d === 0) for (let t0 = 0; t0 < T; t0 += nB) list.push({ t0, n: Math.min(nB, T - t0) });
        else for (let end = T; end > 0; end -= nB) list.push({ t0: Math.max(0, end - nB), n: end - Math.max(0, end - nB) });
        segT.push(list);
      }
      const nSeg = odd && a.lengths ? segT.reduce((n, l) => n + l.length, 0) : 0;
      const r = {
        b0, B: Bs, segT,
        x: place(T * Bs * I * FLOAT), out0: place(T * Bs * W * FLOAT), out1: place(L > 1 ? T * Bs * W * FLOAT : 0),
        h0: place(L * D * Bs * Hout * FLOAT), c0: place(L * D * Bs * H * FLOAT),
        hN: place(L * D * Bs * Hout * FLOAT), cN: place(L * D * Bs * H * FLOAT),
        lengths: place(Bs * 4), segLengths: place(nSeg * Bs * 4), scratch: place(s === 0 ? scratch : this.scratchBytes(T, Bs, false)),
      };
      b0 += Bs;
      return r;
    });
    // Kernel calls of every slice, checked against the workers' control blocks before anything is written.
    const lists: KernelCall[][] = rel.map(() => []);
    const build = (w: number): Slice[] => rel.map((r) => {
      let li = 0;
      const segs = r.segT.map((list) => list.map(({ t0, n }) => {
        let lengths = 0;
        if (a.lengths) lengths = list.length === 1 ? w + r.lengths : w + r.segLengths + (li++) * r.B * 4;
        return { t0, n, lengths };
      }));
      return {
        b0: r.b0, B: r.B, x: w + r.x, out: [w + r.out0, L > 1 ? w + r.out1 : w + r.out0], h0: w + r.h0, c0: w + r.c0,
        hN: w + r.hN, cN: w + r.cN, lengths: w + r.lengths, scratch: w + r.scratch, segs,
      };
    });
    // Pointers depend on the block's address, which is only known after allocating: plan with base 0 first.
    const plan = (sl: Slice[]): void => {
      for (let s = 0; s < sl.length; s++) {
        const q = sl[s]!;
        const calls = lists[s]!;
        calls.length = 0;
        const Bs = q.B;
        let input = q.x;
        for (let l = 0; l < L; l++) {
          const out = q.out[l % 2]!;
          const ldx = l === 0 ? I : W;
          for (let d = 0; d < D; d++) {
            const idx = l * D + d;
            const hNp = q.hN + idx * Bs * Hout * FLOAT;
            const cNp = q.cN + idx * Bs * H * FLOAT;
            const segs = q.segs[d]!;
            for (let g = 0; g < segs.length; g++) {
              const { t0, n, lengths } = segs[g]!;
              const h0p = g > 0 ? hNp : a.h0 ? q.h0 + idx * Bs * Hout * FLOAT : 0;
              const c0p = g > 0 ? cNp : a.c0 ? q.c0 + idx * Bs * H * FLOAT : 0;
              calls.push(this.forwardCall(l, d, out + t0 * Bs * W * FLOAT + d * Hout * FLOAT, hNp, cNp,
                input + t0 * Bs * ldx * FLOAT, h0p, c0p, lengths, q.scratch, n, Bs, false));
            }
          }
          input = out;
        }
      }
    };
    // The last slice (the odd one, maybe run in many time segments) goes to the calling thread, which has no
    // limit on its list; worker w runs slice w (L·D calls).
    const threadLists = (): KernelCall[][] => [lists[lists.length - 1]!, ...lists.slice(0, -1)];
    plan(build(0));
    for (let s = 0; s + 1 < lists.length; s++) if (!e.parallelFits(lists[s]!)) return undefined;
    const sl = build(this.reusableBlock('work', off));
    plan(sl);

    // Copy in, de-interleaving the batch into the slices.
    const f = e.f32();
    const xd = a.x.data;
    for (const q of sl) {
      const Bs = q.B;
      if (this.batchFirst) {
        for (let b = 0; b < Bs; b++) {
          for (let t = 0; t < T; t++) {
            const src = ((q.b0 + b) * T + t) * I;
            f.set(sub(xd, src, src + I), q.x / FLOAT + (t * Bs + b) * I);
          }
        }
      } else {
        for (let t = 0; t < T; t++) {
          const src = (t * B + q.b0) * I;
          f.set(sub(xd, src, src + Bs * I), q.x / FLOAT + t * Bs * I);
        }
      }
      this.checkInput(a, q.x, T * Bs * I);
      for (let idx = 0; idx < L * D; idx++) {
        if (a.h0) {
          const src = (idx * B + q.b0) * Hout;
          f.set(sub(a.h0.data, src, src + Bs * Hout), q.h0 / FLOAT + idx * Bs * Hout);
        }
        if (a.c0) {
          const src = (idx * B + q.b0) * H;
          f.set(sub(a.c0.data, src, src + Bs * H), q.c0 / FLOAT + idx * Bs * H);
        }
      }
      if (a.lengths) {
        const i32 = e.i32();
        const len = a.lengths.subarray(q.b0, q.b0 + Bs);
        i32.set(len, q.lengths / 4);
        for (const list of q.segs) {
          for (const g of list) {
            if (g.lengths === q.lengths) continue;
            for (let b = 0; b < Bs; b++) i32[g.lengths / 4 + b] = len[b]! - g.t0;
          }
        }
      }
    }

    e.parallel(threadLists());

    // Copy out, interleaving the slices back.
    const fo = e.f32();
    const output = new Float32Array(T * B * W);
    const hN = new Float32Array(L * D * B * Hout);
    const cN = this.mode === 'LSTM' ? new Float32Array(L * D * B * H) : undefined;
    for (const q of sl) {
      const Bs = q.B;
      const o = q.out[(L - 1) % 2]! / FLOAT;
      if (this.batchFirst) {
        for (let b = 0; b < Bs; b++) {
          for (let t = 0; t < T; t++) {
            const src = o + (t * Bs + b) * W;
            output.set(fo.subarray(src, src + W), ((q.b0 + b) * T + t) * W);
          }
        }
      } else {
        for (let t = 0; t < T; t++) {
          const src = o + t * Bs * W;
          output.set(fo.subarray(src, src + Bs * W), (t * B + q.b0) * W);
        }
      }
      for (let idx = 0; idx < L * D; idx++) {
        const hs = q.hN / FLOAT + idx * Bs * Hout;
        hN.set(fo.subarray(hs, hs + Bs * Hout), (idx * B + q.b0) * Hout);
        if (cN) {
          const cs = q.cN / FLOAT + idx * Bs * H;
          cN.set(fo.subarray(cs, cs + Bs * H), (idx * B + q.b0) * H);
        }
      }
    }
    const res: ForwardResult = { output: new Tensor(output, a.oShape), hN: new Tensor(hN, a.hShape) };
    if (cN) res.cN = new Tensor(cN, a.cShape);
    return res;
  }

  /**
   * The inference kernel call of layer l, direction d (pointers in bytes, 0 for none; `o` already offset to the
   * direction's columns). The input's leading dimension follows from the layer. gemv: see forwardFlags; when the
   * call takes the batch-1 path, its layout block is pushed to `packed` for {@link dotPacked} once it has run.
   */
  private forwardCall(l: number, d: number, o: number, hN: number, cN: number, x: number, h0: number, c0: number,
                      lengths: number, scratch: number, T: number, B: number, gemv: boolean,
                      packed?: { l: number; d: number; dot: number }[]): KernelCall {
    const ld = this.layers[l]![d]!;
    const W = this.numDirections * this.outputSize;
    const ldx = l === 0 ? this.inputSize : W;
    const H = this.hiddenSize;
    const pb = this.paramBlock;
    const P = (p?: ParamInfo): number => (p ? pb + p.offset * FLOAT : 0);
    const { dot, flags } = this.dotArg(l, d, T, B, gemv);
    if (dot) packed?.push({ l, d, dot });
    if (this.mode === 'LSTM') {
      return { fn: 'lstm_forward', args: [o, W, hN, cN, x, ldx, h0, c0, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh),
        P(ld.whr), lengths, scratch, dot, T, B, ld.inputSize, H, this.projSize, d, flags] };
    }
    if (this.mode === 'GRU') {
      return { fn: 'gru_forward', args: [o, W, hN, x, ldx, h0, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh), lengths,
        scratch, dot, T, B, ld.inputSize, H, d, flags, this.resetBefore ? 1 : 0] };
    }
    const act = this.mode === 'RNN_RELU' ? this.engine.constant('ACT_RELU') : this.engine.constant('ACT_TANH');
    return { fn: 'rnn_forward', args: [o, W, hN, x, ldx, h0, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh), lengths,
      scratch, dot, T, B, ld.inputSize, H, act, d, flags] };
  }

  /**
   * The `dot` block and forward flags of an inference call of layer l, direction d over T steps of B rows (gemv:
   * whether its flags allow the batch-1 path, see forwardFlags). At batch 1 W_hh's dot-product layout lives in a
   * block of this model's, kept between calls and freed with it, and the flags say whether that block still holds
   * the layout of the current weights, so that the call skips the repack (4-7% of a batch-1 forward at hidden 256,
   * where it reads the whole W_hh from beyond L1). Kept, the layout serves calls of any length, streaming steps
   * included; once {@link parameters} handed out raw offsets every call would repack, so calls shorter than
   * GEMV_MIN_T then keep the panel path, as before there was a kept layout. Whether the call repacks does not
   * change the path or any result. Call {@link dotPacked} once the call has run.
   */
  private dotArg(l: number, d: number, T: number, B: number, gemv: boolean): { dot: number; flags: number } {
    const flags = this.forwardFlags(false, gemv);
    if (!gemv || B !== 1 || (this.rawParams && T < this.engine.constant('GEMV_MIN_T'))) return { dot: 0, flags };
    const e = this.engine;
    const H = this.hiddenSize;
    const bytes = this.mode === 'LSTM' ? e.k.lstm_dot_bytes(T, B, H, this.projSize)
      : this.mode === 'GRU' ? e.k.gru_dot_bytes(T, B, H, this.resetBefore ? 1 : 0) : e.k.rnn_dot_bytes(T, B, H);
    if (bytes === 0) return { dot: 0, flags };
    const idx = l * this.numDirections + d;
    const dot = this.reusableBlock(`batch-1 layout ${idx}`, bytes);
    const kept = this.dots[idx];
    const valid = !this.rawParams && kept !== undefined && kept.ptr === dot && kept.version === this.paramsVersion;
    return { dot, flags: flags | e.constant('FWD_DOT_EXT') | (valid ? e.constant('FWD_DOT_VALID') : 0) };
  }

  /** Records that the call {@link dotArg} planned for layer l, direction d has run: `dot` holds the current layout. */
  private dotPacked(l: number, d: number, dot: number): void {
    if (!dot) return;
    const idx = l * this.numDirections + d;
    const kept = this.dots[idx];
    if (kept && kept.ptr === dot) kept.version = this.paramsVersion;
    else this.dots[idx] = { ptr: dot, version: this.paramsVersion };
  }

  /** Estimated floating-point operations of an inference forward over T steps of B rows. */
  private forwardFlops(T: number, B: number): number {
    const G = this.mode === 'LSTM' ? 4 : this.mode === 'GRU' ? 3 : 1;
    const H = this.hiddenSize;
    const Hout = this.outputSize;
    let flops = 0;
    for (let l = 0; l < this.numLayers; l++) {
      flops += this.numDirections * 2 * T * B *
        (G * H * (this.layers[l]![0]!.inputSize + Hout) + (this.projSize ? H * Hout : 0));
    }
    return flops;
  }

  /**
   * A bidirectional forward whose batch cannot be split (fewer than 3 rows): the two directions of each layer
   * run at the same time on two threads (the very calls of one thread, each with its own scratch), one dispatch
   * per layer, since a layer needs both directions of the one below. Undefined when not applicable.
   */
  private forwardDirections(a: ForwardArgs): ForwardResult | undefined {
    const e = this.engine;
    const { T, B } = a;
    if (!this.bidirectional || e.threads < 2 || this.forwardFlops(T, B) < e.parallelMinFlops) return undefined;
    const lay = this.ensureWork(T, B, false, 2);
    this.copyIn(a, lay.x, lay.h0, lay.c0, lay.lengths);
    const D = 2;
    const Hout = this.outputSize;
    const H = this.hiddenSize;
    let input = lay.x;
    let out = lay.out[0];
    for (let l = 0; l < this.numLayers; l++) {
      out = lay.out[l % 2]!;
      const lists: KernelCall[][] = [];
      const packed: { l: number; d: number; dot: number }[] = [];
      for (let d = 0; d < D; d++) {
        const idx = l * D + d;
        lists.push([this.forwardCall(l, d, out + d * Hout * FLOAT, lay.hN + idx * B * Hout * FLOAT,
          lay.cN + idx * B * H * FLOAT, input, a.h0 ? lay.h0 + idx * B * Hout * FLOAT : 0,
          a.c0 ? lay.c0 + idx * B * H * FLOAT : 0, a.lengths ? lay.lengths : 0, d === 0 ? lay.scratch : lay.scratch2,
          T, B, true, packed)]);
      }
      e.parallel(lists);
      for (const p of packed) this.dotPacked(p.l, p.d, p.dot);
      input = out;
    }
    return this.copyOut(a, out, lay.hN, lay.cN);
  }

  /** Validates forward's arguments (shapes, finiteness, lengths) once. */
  private checkForward(input: TensorLike, options: ForwardOptions): ForwardArgs {
    const x = checkTensor('input', input);
    const D = this.numDirections;
    const L = this.numLayers;
    const Hout = this.outputSize;
    const H = this.hiddenSize;
    const I = this.inputSize;
    let T: number;
    let B: number;
    let batched = true;
    if (x.shape.length === 2) {
      batched = false;
      T = x.shape[0]!;
      B = 1;
      if (x.shape[1] !== I) {
        throw new ShapeError('input', `expected unbatched shape [T, ${I}], got ${shapeStr(x.shape)}`, [-1, I], x.shape);
      }
    } else if (x.shape.length === 3) {
      T = this.batchFirst ? x.shape[1]! : x.shape[0]!;
      B = this.batchFirst ? x.shape[0]! : x.shape[1]!;
      if (x.shape[2] !== I) {
        const exp = this.batchFirst ? '[B, T, ' : '[T, B, ';
        throw new ShapeError('input', `expected shape ${exp}${I}], got ${shapeStr(x.shape)}`, [-1, -1, I], x.shape);
      }
    } else {
      throw new ShapeError('input', `expected 3 dimensions ${this.batchFirst ? '(B, T, I)' : '(T, B, I)'} or 2 ` +
        `(T, I), got ${shapeStr(x.shape)}`, undefined, x.shape);
    }
    if (T < 1) throw new ShapeError('input', `sequence length must be at least 1, got ${shapeStr(x.shape)}`);
    if (B < 1) throw new ShapeError('input', `batch size must be at least 1, got ${shapeStr(x.shape)}`);
    // Other array types stay checked here: copying them would turn a string into NaN but throw on a BigInt. So
    // does a training call's: forwardTrain drops the previous pass's activations before it copies the input in.
    const checkLater = x.data instanceof Float32Array && options.train !== true;
    if (!checkLater) checkFinite('input', x.data);
    const hShape = batched ? [D * L, B, Hout] : [D * L, Hout];
    const cShape = batched ? [D * L, B, H] : [D * L, H];
    const h0 = options.h0 === undefined ? undefined : checkState('h0', options.h0, hShape);
    let c0: TensorLike | undefined;
    if (options.c0 !== undefined) {
      if (this.mode !== 'LSTM') throw new InvalidArgumentError('c0', `only LSTM has a cell state; ${this.mode} takes h0 only`);
      c0 = checkState('c0', options.c0, cShape);
    }
    const lengths = options.lengths === undefined ? undefined : checkLengths(options.lengths, B, T);
    const oShape = !batched ? [T, D * Hout] : this.batchFirst ? [B, T, D * Hout] : [T, B, D * Hout];
    return { x, checkLater, T, B, batched, h0, c0, lengths, hShape, cShape, oShape };
  }

  /** Copies the input (time-major), initial states and lengths into wasm memory. */
  private copyIn(a: ForwardArgs, xPtr: number, h0Ptr: number, c0Ptr: number, lenPtr: number): void {
    const e = this.engine;
    const f = e.f32();
    const { T, B } = a;
    const I = this.inputSize;
    if (this.batchFirst && a.batched) {
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const src = (b * T + t) * I;
          const dst = xPtr / FLOAT + (t * B + b) * I;
          for (let i = 0; i < I; i++) f[dst + i] = a.x.data[src + i]!;
        }
      }
    } else {
      f.set(a.x.data, xPtr / FLOAT);
    }
    this.checkInput(a, xPtr, T * B * I);
    if (a.h0) f.set(a.h0.data, h0Ptr / FLOAT);
    if (a.c0) f.set(a.c0.data, c0Ptr / FLOAT);
    if (a.lengths) e.i32().set(a.lengths, lenPtr / 4);
  }

  /**
   * The deferred finiteness check of a Float32Array input (ForwardArgs.checkLater) over the n floats copied to
   * ptr: when one is not finite, checkFinite finds it in the caller's array and throws its error.
   */
  private checkInput(a: ForwardArgs, ptr: number, n: number): void {
    if (a.checkLater && this.engine.k.has_nonfinite(ptr, n) !== 0) checkFinite('input', a.x.data);
  }

  /** Copies a time-major (T, B, W) block out in the caller's layout. */
  private copySeqOut(a: ForwardArgs, ptr: number, W: number): Float32Array {
    const fo = this.engine.f32();
    const { T, B } = a;
    if (this.batchFirst && a.batched) {
      const out = new Float32Array(T * B * W);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const src = ptr / FLOAT + (t * B + b) * W;
          out.set(fo.subarray(src, src + W), (b * T + t) * W);
        }
      }
      return out;
    }
    return fo.slice(ptr / FLOAT, ptr / FLOAT + T * B * W);
  }

  private copyOut(a: ForwardArgs, outPtr: number, hNPtr: number, cNPtr: number): ForwardResult {
    const D = this.numDirections;
    const L = this.numLayers;
    const fo = this.engine.f32();
    const res: ForwardResult = {
      output: new Tensor(this.copySeqOut(a, outPtr, D * this.outputSize), a.oShape),
      hN: new Tensor(fo.slice(hNPtr / FLOAT, hNPtr / FLOAT + D * L * a.B * this.outputSize), a.hShape),
    };
    if (this.mode === 'LSTM') {
      res.cN = new Tensor(fo.slice(cNPtr / FLOAT, cNPtr / FLOAT + D * L * a.B * this.hiddenSize), a.cShape);
    }
    return res;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Training: forward keeping activations, backpropagation through time, gradients.

  private trainLay: TrainLayout | undefined;
  private trainArgs: ForwardArgs | undefined;
  private gradBlock = 0;

  private backwardScratchBytes(T: number, B: number, I: number): number {
    const k = this.engine.k;
    if (this.mode === 'LSTM') return k.lstm_backward_scratch_bytes(T, B, I, this.hiddenSize, this.projSize);
    if (this.mode === 'GRU') return k.gru_backward_scratch_bytes(T, B, I, this.hiddenSize);
    return k.rnn_backward_scratch_bytes(T, B, I, this.hiddenSize);
  }

  private ensureTrainWork(T: number, B: number): TrainLayout {
    const D = this.numDirections;
    const L = this.numLayers;
    const Hout = this.outputSize;
    const H = this.hiddenSize;
    const seq = T * B * D * Hout * FLOAT;
    const fwd = this.scratchBytes(T, B, true);
    let bwd = 0;
    for (let l = 0; l < L; l++) bwd = Math.max(bwd, this.backwardScratchBytes(T, B, this.layers[l]![0]!.inputSize));
    let off = 0;
    const place = (n: number): number => {
      const p = off;
      off += alignUp(n);
      return p;
    };
    const rel = {
      x: place(T * B * this.inputSize * FLOAT),
      outs: Array.from({ length: L }, () => place(seq)),
      h0: place(L * D * B * Hout * FLOAT), c0: place(L * D * B * H * FLOAT),
      hN: place(L * D * B * Hout * FLOAT), cN: place(L * D * B * H * FLOAT), lengths: place(B * 4),
      scratch: Array.from({ length: L * D }, () => place(fwd)),
      bscratch: place(bwd),
      dTop: place(seq), dBuf: [place(seq), place(L > 1 ? seq : 0)],
      dX: place(T * B * this.inputSize * FLOAT),
      dhN: place(L * D * B * Hout * FLOAT), dcN: place(L * D * B * H * FLOAT),
      dh0: place(L * D * B * Hout * FLOAT), dc0: place(L * D * B * H * FLOAT),
      norms: place(L * D * T * FLOAT),
    };
    const w = this.reusableBlock('train', off);
    return {
      x: w + rel.x, outs: rel.outs.map((o) => w + o), h0: w + rel.h0, c0: w + rel.c0, hN: w + rel.hN, cN: w + rel.cN,
      lengths: w + rel.lengths, scratch: rel.scratch.map((o) => w + o), bscratch: w + rel.bscratch, dTop: w + rel.dTop,
      dBuf: [w + rel.dBuf[0]!, w + rel.dBuf[1]!], dX: w + rel.dX, dhN: w + rel.dhN, dcN: w + rel.dcN,
      dh0: w + rel.dh0, dc0: w + rel.dc0, norms: w + rel.norms,
    };
  }

  private forwardTrain(a: ForwardArgs): ForwardResult {
    // Growing the work block frees the old one: a failed allocation must not leave the previous pass's
    // activations (now freed memory) for backward to read.
    this.trainArgs = undefined;
    this.trainLay = undefined;
    const lay = this.ensureTrainWork(a.T, a.B);
    this.copyIn(a, lay.x, lay.h0, lay.c0, lay.lengths);
    const D = this.numDirections;
    const outPtr = this.runLayers((l) => lay.outs[l]!, (l, d) => lay.scratch[l * D + d]!, a.T, a.B, lay.x,
      a.h0 ? lay.h0 : 0, a.c0 ? lay.c0 : 0, lay.hN, lay.cN, a.lengths ? lay.lengths : 0, true);
    this.trainLay = lay;
    this.trainArgs = a;
    return this.copyOut(a, outPtr, lay.hN, lay.cN);
  }

  /** The gradient block (same packed layout as the parameters), allocated and zeroed on first use. */
  protected ensureGrads(): number {
    if (!this.gradBlock) {
      this.gradBlock = this.allocBlock(this.paramFloats * FLOAT);
      this.engine.f32().fill(0, this.gradBlock / FLOAT, this.gradBlock / FLOAT + this.paramFloats);
    }
    return this.gradBlock;
  }

  /** Sets every accumulated parameter gradient to zero (PyTorch's `zero_grad(set_to_none=False)`). */
  zeroGrad(): void {
    this.assertAlive();
    if (this.gradBlock) this.engine.f32().fill(0, this.gradBlock / FLOAT, this.gradBlock / FLOAT + this.paramFloats);
  }

  /**
   * Backpropagation through time after `forward(input, { train: true })`. Upstream gradients have the shapes
   * of that forward's `output`, `hN` and `cN`; each may be omitted (zeros). Parameter gradients are accumulated
   * (added to what earlier calls left, as PyTorch's `.grad`; see {@link zeroGrad}) and returned under PyTorch's
   * names; the gradients of the input and of the initial states are returned too. The activations of the forward
   * pass are consumed: a second backward needs a new training forward. Runs on the calling thread only (training
   * is not multi-threaded). `inputGrad: false` (PyTorch's input without requires_grad) skips the gradient of the
   * input: the first layer's dX GEMM (4-6% of a batch-32 training step) and its copy out; fit() passes it.
   */
  backward(upstream: { output?: TensorLike; hN?: TensorLike; cN?: TensorLike } = {},
           options: { recordGradNorms?: boolean; collectGrads?: boolean; inputGrad?: boolean } = {}): BackwardResult {
    this.assertAlive();
    upstream = checkOptions('upstream', upstream, '{ output?, hN?, cN? }');
    options = checkOptions('options', options, '{ recordGradNorms?, collectGrads?, inputGrad? }');
    const a = this.trainArgs;
    const lay = this.trainLay;
    if (!a || !lay) {
      throw new InvalidArgumentError('backward', 'call forward(input, { train: true }) first; the activations of a ' +
        'training forward are used once');
    }
    const W = this.numDirections * this.outputSize;
    // A time-major Float32Array gradient is checked for NaN/Infinity by a SIMD scan after its copy into wasm memory
    // (the JavaScript loop took about 1 ms at T=100, B=32, H=256); anything else here.
    const fastOut = upstream.output !== undefined && upstream.output.data instanceof Float32Array &&
      !(this.batchFirst && a.batched);
    if (upstream.output !== undefined) checkState('upstream.output', upstream.output, a.oShape, !fastOut);
    if (upstream.hN !== undefined) checkState('upstream.hN', upstream.hN, a.hShape);
    if (upstream.cN !== undefined) {
      if (this.mode !== 'LSTM') throw new InvalidArgumentError('upstream.cN', `only LSTM has a cell state`);
      checkState('upstream.cN', upstream.cN, a.cShape);
    }
    const f = this.engine.f32();
    // Upstream gradients into wasm memory, time-major.
    if (upstream.output) {
      this.seqIn(a, upstream.output.data, lay.dTop, W);
      if (fastOut && this.engine.k.has_nonfinite(lay.dTop, upstream.output.data.length) !== 0) {
        checkFinite('upstream.output', upstream.output.data);
      }
    }
    if (upstream.hN) f.set(upstream.hN.data, lay.dhN / FLOAT);
    if (upstream.cN) f.set(upstream.cN.data, lay.dcN / FLOAT);
    return this.backprop(a, lay, upstream.output !== undefined, upstream.hN !== undefined, upstream.cN !== undefined,
      options);
  }

  /**
   * Mean squared error of the last training forward's output against `target` (shaped as that `output`), and
   * backpropagation from it, in one call: `loss = mean (output - target)^2` (or the sum with `reduction: 'sum'`),
   * exactly as `torch.nn.functional.mse_loss(output, target, reduction)` then `loss.backward()`, every element
   * counting (padded steps of a `lengths` batch included: their output is 0). The loss and its gradient are
   * computed in WebAssembly on the output where the forward left it, so the step needs no JavaScript loop over the
   * output and no copy of the gradient back in; the gradient is bit for bit {@link mseLoss}'s. Options and result
   * are `backward`'s, plus `loss`. Throws if `target` has another shape or a NaN/Infinity.
   */
  lossBackward(target: TensorLike,
               options: { loss?: 'mse'; reduction?: 'mean' | 'sum'; recordGradNorms?: boolean; collectGrads?: boolean;
                 inputGrad?: boolean } = {}): BackwardResult & { loss: number } {
    this.assertAlive();
    options = checkOptions('options', options, '{ loss?, reduction?, recordGradNorms?, collectGrads?, inputGrad? }');
    if (options.loss !== undefined && options.loss !== 'mse') {
      throw new InvalidArgumentError('options.loss', `expected 'mse', got ${describe(options.loss)}`);
    }
    const reduction = options.reduction ?? 'mean';
    if (reduction !== 'mean' && reduction !== 'sum') {
      throw new InvalidArgumentError('options.reduction', `expected 'mean' or 'sum', got ${describe(reduction)}`);
    }
    const a = this.trainArgs;
    const lay = this.trainLay;
    if (!a || !lay) {
      throw new InvalidArgumentError('lossBackward', 'call forward(input, { train: true }) first; the activations of ' +
        'a training forward are used once');
    }
    const fast = target !== null && typeof target === 'object' && target.data instanceof Float32Array &&
      !(this.batchFirst && a.batched);
    checkState('target', target, a.oShape, !fast);
    const W = this.numDirections * this.outputSize;
    const n = a.T * a.B * W;
    const k = this.engine.k;
    this.seqIn(a, target.data, lay.dTop, W);
    const sum = k.mse_backward(lay.dTop, lay.outs[this.numLayers - 1]!, lay.dTop, n,
      reduction === 'mean' ? 2 / n : 2);
    // A NaN or infinite target makes the f64 sum of squares non-finite (a finite output cannot: each square is
    // below 2^258), so the fast path needs no scan of its own (0.8% of an RNN H256 B32 step); the caller's array
    // is searched only then, for the error. dTop is scratch and the activations are untouched: a retry works.
    if (fast && !Number.isFinite(sum)) checkFinite('target', target.data);
    const res = this.backprop(a, lay, true, false, false, options);
    return { ...res, loss: reduction === 'mean' ? sum / n : sum };
  }

  /** A time-major (T, B, W) sequence into wasm memory at ptr from the user's layout (batch-first or not). */
  private seqIn(a: ForwardArgs, g: ArrayLike<number>, ptr: number, W: number): void {
    const f = this.engine.f32();
    const { T, B } = a;
    if (this.batchFirst && a.batched) {
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const src = (b * T + t) * W;
          const dst = ptr / FLOAT + (t * B + b) * W;
          for (let i = 0; i < W; i++) f[dst + i] = g[src + i]!;
        }
      }
    } else {
      f.set(g, ptr / FLOAT);
    }
  }

  /** The kernels of backpropagation through time, once the upstream gradients are in wasm memory. */
  private backprop(a: ForwardArgs, lay: TrainLayout, hasOut: boolean, hasHN: boolean, hasCN: boolean,
                   options: { recordGradNorms?: boolean; collectGrads?: boolean; inputGrad?: boolean }): BackwardResult {
    const wantDx = options.inputGrad !== false;
    const D = this.numDirections;
    const L = this.numLayers;
    const Hout = this.outputSize;
    const H = this.hiddenSize;
    const I = this.inputSize;
    const { T, B } = a;
    const W = D * Hout;
    const grads = this.ensureGrads();
    const e = this.engine;
    const k = e.k;
    const pb = this.paramBlock;
    const P = (p?: ParamInfo): number => (p ? pb + p.offset * FLOAT : 0);
    const G = (p?: ParamInfo): number => (p ? grads + p.offset * FLOAT : 0);
    const act = this.mode === 'RNN_RELU' ? e.constant('ACT_RELU') : e.constant('ACT_TANH');
    const lengths = a.lengths ? lay.lengths : 0;
    for (let l = L - 1; l >= 0; l--) {
      const dOut = l === L - 1 ? (hasOut ? lay.dTop : 0) : lay.dBuf[l % 2]!;
      const dX = l === 0 ? (wantDx ? lay.dX : 0) : lay.dBuf[(l - 1) % 2]!;
      const x = l === 0 ? lay.x : lay.outs[l - 1]!;
      const ldx = l === 0 ? I : W;
      for (let d = 0; d < D; d++) {
        const ld = this.layers[l]![d]!;
        const idx = l * D + d;
        const dOutP = dOut ? dOut + d * Hout * FLOAT : 0;
        const dhN = hasHN ? lay.dhN + idx * B * Hout * FLOAT : 0;
        const dh0 = lay.dh0 + idx * B * Hout * FLOAT;
        const scr = lay.scratch[idx]!;
        const norms = options.recordGradNorms ? lay.norms + idx * T * FLOAT : 0;
        if (this.mode === 'LSTM') {
          const dcN = hasCN ? lay.dcN + idx * B * H * FLOAT : 0;
          k.lstm_backward(dX, ldx, d, dh0, lay.dc0 + idx * B * H * FLOAT, G(ld.wih), G(ld.whh), G(ld.bih), G(ld.bhh),
            G(ld.whr), dOutP, W, dhN, dcN, x, ldx, P(ld.wih), P(ld.whh), P(ld.whr), lengths, scr, lay.bscratch, T, B,
            ld.inputSize, H, this.projSize, d, norms);
        } else if (this.mode === 'GRU') {
          k.gru_backward(dX, ldx, d, dh0, G(ld.wih), G(ld.whh), G(ld.bih), G(ld.bhh), dOutP, W, dhN, x, ldx,
            P(ld.wih), P(ld.whh), lengths, scr, lay.bscratch, T, B, ld.inputSize, H, d, norms,
            this.resetBefore ? 1 : 0);
        } else {
          k.rnn_backward(dX, ldx, d, dh0, G(ld.wih), G(ld.whh), G(ld.bih), G(ld.bhh), dOutP, W, dhN, x, ldx,
            P(ld.wih), P(ld.whh), lengths, scr, lay.bscratch, T, B, ld.inputSize, H, act, d, norms);
        }
      }
    }
    this.trainArgs = undefined;
    this.trainLay = undefined;
    // Unpacking the gradients allocates: take the memory view only afterwards.
    const gradTensors = options.collectGrads === false ? {} : this.gradients();
    const fo = e.f32();
    const iShape = !a.batched ? [T, I] : this.batchFirst ? [B, T, I] : [T, B, I];
    const res: BackwardResult = {
      grads: gradTensors,
      dInput: wantDx ? new Tensor(this.copySeqOut(a, lay.dX, I), iShape) : new Tensor(new Float32Array(0), [0]),
      dh0: new Tensor(fo.slice(lay.dh0 / FLOAT, lay.dh0 / FLOAT + D * L * B * Hout), a.hShape),
    };
    if (this.mode === 'LSTM') {
      res.dc0 = new Tensor(fo.slice(lay.dc0 / FLOAT, lay.dc0 / FLOAT + D * L * B * H), a.cShape);
    }
    if (options.recordGradNorms) {
      res.gradNorms = new Tensor(fo.slice(lay.norms / FLOAT, lay.norms / FLOAT + D * L * T), [D * L, T]);
    }
    return res;
  }

  /** The accumulated parameter gradients under PyTorch's names and shapes (copies). */
  gradients(options: { prefix?: string } = {}): Record<string, Tensor> {
    this.assertAlive();
    options = checkOptions('options', options, '{ prefix? }');
    return this.unpack(this.ensureGrads(), options.prefix ?? '');
  }

  /**
   * The parameters as the optimizers see them: byte offsets of each packed parameter and of its gradient in
   * WebAssembly memory. Padding inside the packed layout has zero weight and zero gradient.
   */
  parameters(): Parameter[] {
    this.assertAlive();
    const g = this.ensureGrads();
    this.rawParams = true;
    return this.params.map((p) => ({
      name: p.name, engine: this.engine, param: this.paramBlock + p.offset * FLOAT, grad: g + p.offset * FLOAT,
      length: p.packed, owner: this,
    }));
  }

  /** @internal GRU with the reset gate before the recurrent product (see GRUOptions.resetAfter). */
  protected get resetBefore(): boolean {
    return (this as { resetAfter?: boolean }).resetAfter === false;
  }

  /** Scratch bytes one kernel call needs. */
  private scratchBytes(T: number, B: number, train: boolean): number {
    const k = this.engine.k;
    // Inference keeps a batch-1 layout in a block of its own (dotArg), training in the scratch.
    const tr = this.forwardFlags(train, true) | (train ? 0 : this.engine.constant('FWD_DOT_EXT'));
    if (this.mode === 'LSTM') return k.lstm_scratch_bytes(T, B, this.hiddenSize, this.projSize, tr);
    if (this.mode === 'GRU') return k.gru_scratch_bytes(T, B, this.hiddenSize, tr);
    return k.rnn_scratch_bytes(T, B, this.hiddenSize, tr);
  }

  /**
   * The kernels' forward flags (assembly/gemv.ts): FWD_TRAIN for a training pass; FWD_GEMV lets a batch-1 call of
   * enough steps take the dot-product path. A batch split across threads leaves it out: its one-row sub-batch
   * must sum as the odd last row of the whole batch does on one thread (bit-for-bit results).
   */
  private forwardFlags(train: boolean, gemv: boolean): number {
    return (train ? this.engine.constant('FWD_TRAIN') : 0) | (gemv ? this.engine.constant('FWD_GEMV') : 0);
  }

  /** @internal Lays out (and grows when needed) the work block for T steps of B rows. */
  protected ensureWork(T: number, B: number, train: boolean, scratches = 1): WorkLayout {
    const D = this.numDirections;
    const L = this.numLayers;
    const Hout = this.outputSize;
    const H = this.hiddenSize;
    const sizes = {
      x: T * B * this.inputSize * FLOAT,
      out0: T * B * D * Hout * FLOAT,
      out1: L > 1 ? T * B * D * Hout * FLOAT : 0,
      h0: L * D * B * Hout * FLOAT,
      c0: L * D * B * H * FLOAT,
      hN: L * D * B * Hout * FLOAT,
      cN: L * D * B * H * FLOAT,
      lengths: B * 4,
      scratch: this.scratchBytes(T, B, train),
    };
    const scratchStride = alignUp(sizes.scratch);
    let off = 0;
    const place = (n: number): number => {
      const p = off;
      off += alignUp(n);
      return p;
    };
    const rel = {
      x: place(sizes.x), out0: place(sizes.out0), out1: place(sizes.out1), h0: place(sizes.h0), c0: place(sizes.c0),
      hN: place(sizes.hN), cN: place(sizes.cN), lengths: place(sizes.lengths),
      scratch: place(scratchStride * scratches),
    };
    const w = this.reusableBlock('work', off);
    return {
      x: w + rel.x, out: [w + rel.out0, L > 1 ? w + rel.out1 : w + rel.out0], h0: w + rel.h0, c0: w + rel.c0,
      hN: w + rel.hN, cN: w + rel.cN, lengths: w + rel.lengths, scratch: w + rel.scratch,
      scratch2: w + rel.scratch + (scratches > 1 ? scratchStride : 0), bytes: off,
    };
  }

  /**
   * @internal Runs every layer and direction. Pointers are byte offsets; h0/c0/lengths may be 0. Returns the
   * pointer of the last layer's output (T, B, D*H_out).
   */
  protected runLayers(outs: (l: number) => number, scratchOf: (l: number, d: number) => number, T: number,
                      B: number, x: number, h0: number, c0: number, hN: number, cN: number, lengths: number,
                      train: boolean): number {
    const k = this.engine.k;
    const D = this.numDirections;
    const Hout = this.outputSize;
    const H = this.hiddenSize;
    const W = D * Hout;
    const pb = this.paramBlock;
    const P = (p?: ParamInfo): number => (p ? pb + p.offset * FLOAT : 0);
    const act = this.mode === 'RNN_RELU' ? this.engine.constant('ACT_RELU') : this.engine.constant('ACT_TANH');
    let input = x;
    let out = outs(0);
    for (let l = 0; l < this.numLayers; l++) {
      out = outs(l);
      const ldx = l === 0 ? this.inputSize : W;
      for (let d = 0; d < D; d++) {
        const ld = this.layers[l]![d]!;
        const idx = l * D + d;
        const hNp = hN ? hN + idx * B * Hout * FLOAT : 0;
        const h0p = h0 ? h0 + idx * B * Hout * FLOAT : 0;
        const o = out + d * Hout * FLOAT;
        // Training repacks into its scratch on every call (the optimizers change the weights in between).
        const { dot, flags: tr } = train ? { dot: 0, flags: this.forwardFlags(true, true) }
          : this.dotArg(l, d, T, B, true);
        if (this.mode === 'LSTM') {
          const cNp = cN ? cN + idx * B * H * FLOAT : 0;
          const c0p = c0 ? c0 + idx * B * H * FLOAT : 0;
          k.lstm_forward(o, W, hNp, cNp, input, ldx, h0p, c0p, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh), P(ld.whr),
            lengths, scratchOf(l, d), dot, T, B, ld.inputSize, H, this.projSize, d, tr);
        } else if (this.mode === 'GRU') {
          k.gru_forward(o, W, hNp, input, ldx, h0p, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh), lengths,
            scratchOf(l, d), dot, T, B, ld.inputSize, H, d, tr, this.resetBefore ? 1 : 0);
        } else {
          k.rnn_forward(o, W, hNp, input, ldx, h0p, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh), lengths,
            scratchOf(l, d), dot, T, B, ld.inputSize, H, act, d, tr);
        }
        this.dotPacked(l, d, dot);
      }
      input = out;
    }
    return out;
  }

  /**
   * A stateful streaming session over this model for `batchSize` parallel streams: `step(x_t)` advances every
   * stream by one time step and keeps the state in WebAssembly memory. Sessions share this model's weights;
   * disposing the model disposes its sessions. Unidirectional models only (a reverse direction needs the
   * future).
   */
  createSession(options: SessionOptions = {}): Session {
    this.assertAlive();
    options = checkOptions('options', options, '{ batchSize? }');
    if (this.bidirectional) {
      throw new UnsupportedError('createSession: a bidirectional model cannot stream (its reverse direction reads ' +
        'the whole sequence); use forward()');
    }
    const s = new Session(this, options);
    this.adopt(s);
    return s;
  }

  /** @internal Scratch bytes of one streaming step of B rows (a session's own kernel scratch). */
  stepScratchBytes(B: number): number {
    return this.scratchBytes(1, B, false);
  }

  /**
   * @internal The kernel arguments of one streaming step of B rows, computed once per session: per layer, those
   * `runLayers` passes with T = 1, the state at hPtr/cPtr (layer-major) read and written in place, the input at
   * x, layer outputs alternating between outA and outB (the last layer's is the result), no lengths. The pointers
   * are the session's own blocks and this model's parameter block, which never moves. Run with {@link runStep}.
   */
  stepPlan(B: number, hPtr: number, cPtr: number, x: number, outA: number, outB: number,
           scratch: number): number[][] {
    const Hout = this.outputSize;
    const H = this.hiddenSize;
    const pb = this.paramBlock;
    const P = (p?: ParamInfo): number => (p ? pb + p.offset * FLOAT : 0);
    const act = this.mode === 'RNN_RELU' ? this.engine.constant('ACT_RELU') : this.engine.constant('ACT_TANH');
    const plan: number[][] = [];
    let input = x;
    for (let l = 0; l < this.numLayers; l++) {
      const ld = this.layers[l]![0]!;
      const o = l % 2 ? outB : outA;
      const ldx = l === 0 ? this.inputSize : Hout;
      const h = hPtr + l * B * Hout * FLOAT;
      if (this.mode === 'LSTM') {
        const c = cPtr + l * B * H * FLOAT;
        plan.push([o, Hout, h, c, input, ldx, h, c, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh), P(ld.whr), 0, scratch,
          0, 1, B, ld.inputSize, H, this.projSize, 0, 0]);
      } else if (this.mode === 'GRU') {
        plan.push([o, Hout, h, input, ldx, h, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh), 0, scratch, 0, 1, B,
          ld.inputSize, H, 0, 0, this.resetBefore ? 1 : 0]);
      } else {
        plan.push([o, Hout, h, input, ldx, h, P(ld.wih), P(ld.whh), P(ld.bih), P(ld.bhh), 0, scratch, 0, 1, B,
          ld.inputSize, H, act, 0, 0]);
      }
      input = o;
    }
    return plan;
  }

  /**
   * @internal One streaming step: the kernel calls of a {@link stepPlan}, one per layer, nothing allocated. A
   * one-row step takes the batch-1 dot-product path over this model's kept layout (see {@link dotArg}), packed by
   * the first step after a weight change, and the panel path once raw parameter offsets were handed out.
   */
  runStep(plan: readonly (readonly number[])[]): void {
    const k = this.engine.k;
    const lstm = this.mode === 'LSTM';
    const one = plan.length > 0 && plan[0]![lstm ? 17 : 14] === 1; // B
    // One step per call: alternate the order of the product's weight reads across calls, as a sequence does across
    // its steps (FWD_ODD, assembly/gemv.ts), so that a W_hh larger than L2 starts on what the last step read last.
    const odd = one && (this.stepParity ^= 1) === 0 ? (this.oddFlagValue ??= this.engine.constant('FWD_ODD')) : 0;
    for (let l = 0; l < plan.length; l++) {
      const a = plan[l]!;
      let dot = 0;
      let flags = 0;
      if (one) {
        const kept = this.rawParams ? undefined : this.dots[l];
        if (kept && kept.version === this.paramsVersion) {
          dot = kept.ptr;
          flags = this.keptFlags;
        } else {
          ({ dot, flags } = this.dotArg(l, 0, 1, 1, true));
        }
      }
      if (lstm) {
        k.lstm_forward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!,
          a[13]!, a[14]!, dot, a[16]!, a[17]!, a[18]!, a[19]!, a[20]!, a[21]!, flags | odd);
      } else if (this.mode === 'GRU') {
        k.gru_forward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, dot,
          a[13]!, a[14]!, a[15]!, a[16]!, a[17]!, flags | odd, a[19]!);
      } else {
        k.rnn_forward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, dot,
          a[13]!, a[14]!, a[15]!, a[16]!, a[17]!, a[18]!, flags | odd);
      }
      if (dot && flags !== this.keptFlags) this.dotPacked(l, 0, dot);
    }
  }

  /** Flags of a batch-1 inference call over a kept, valid layout. */
  private get keptFlags(): number {
    return (this.keptFlagsValue ??= this.engine.constant('FWD_GEMV') | this.engine.constant('FWD_DOT_EXT') |
      this.engine.constant('FWD_DOT_VALID'));
  }
  private keptFlagsValue: number | undefined;
  /** Flips on every one-row {@link runStep}; every other such call passes FWD_ODD. */
  private stepParity = 0;
  private oddFlagValue: number | undefined;
}

/** A seed for an initialisation given none, as PyTorch's default generator would give a fresh process. */
function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

function checkBool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new InvalidArgumentError(name, `expected a boolean, got ${describe(v)}`);
  return v;
}

function checkState(name: string, t: TensorLike, shape: number[], finite = true): TensorLike {
  const s = checkTensor(name, t);
  if (s.shape.length !== shape.length || s.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(name, `expected shape ${shapeStr(shape)}, got ${shapeStr(s.shape)}`, shape, s.shape);
  }
  if (finite) checkFinite(name, s.data);
  return s;
}

function checkLengths(lengths: ArrayLike<number>, B: number, T: number): Int32Array {
  if (lengths === null || typeof lengths !== 'object' || typeof lengths.length !== 'number') {
    throw new InvalidArgumentError('lengths', `expected ${B} integers, got ${describe(lengths)}`);
  }
  if (lengths.length !== B) {
    throw new ShapeError('lengths', `expected ${B} entries (one per sequence of the batch), got ${lengths.length}`,
      [B], [lengths.length]);
  }
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const v = lengths[b]!;
    if (!Number.isInteger(v) || v < 1 || v > T) {
      throw new InvalidArgumentError(`lengths[${b}]`, `expected an integer in [1, ${T}] (T = ${T}), got ${describe(v)}`);
    }
    out[b] = v;
  }
  return out;
}

/** An Elman RNN with tanh or ReLU, as `torch.nn.RNN`. */
export class RNN extends RecurrentLayer {
  /** `'tanh'` or `'relu'`. */
  readonly nonlinearity: 'tanh' | 'relu';
  /** Creates the layer with PyTorch's initialisation. Requires `await init()` first. */
  constructor(options: RNNOptions) {
    const nl = options?.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') {
      throw new InvalidArgumentError('options.nonlinearity', `expected 'tanh' or 'relu', got ${describe(nl)}`);
    }
    super(nl === 'relu' ? 'RNN_RELU' : 'RNN_TANH', options, 'RNN');
    this.nonlinearity = nl;
  }
}

/** A long short-term memory layer, as `torch.nn.LSTM` (with optional `projSize`). */
export class LSTM extends RecurrentLayer {
  /** Creates the layer with PyTorch's initialisation. Requires `await init()` first. */
  constructor(options: LSTMOptions) {
    super('LSTM', options, 'LSTM');
  }
  /** As {@link RecurrentLayer.forward}; `cN` is always present. */
  override forward(input: TensorLike, options: ForwardOptions = {}): Required<ForwardResult> {
    return super.forward(input, options) as Required<ForwardResult>;
  }
}

/** A gated recurrent unit layer, as `torch.nn.GRU` (and, with `resetAfter: false`, Keras' other form). */
export class GRU extends RecurrentLayer {
  /** Whether the reset gate multiplies W_hn h + b_hn (PyTorch) or h before the product. */
  readonly resetAfter: boolean;
  /** Creates the layer with PyTorch's initialisation. Requires `await init()` first. */
  constructor(options: GRUOptions) {
    const ra = options?.resetAfter ?? true;
    if (typeof ra !== 'boolean') {
      throw new InvalidArgumentError('options.resetAfter', `expected a boolean, got ${describe(ra)}`);
    }
    super('GRU', options, 'GRU');
    this.resetAfter = ra;
  }
}

/** Engine of a layer (for advanced use). */
export function engineOf(layer: RecurrentLayer): Engine {
  return layer.engine;
}
