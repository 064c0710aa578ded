/**
 * A fully connected layer y = x W^T + b, as `torch.nn.Linear`, run by the same packed GEMM as the recurrent
 * layers, with its backward pass for training.
 * @module
 */
import { InvalidArgumentError, OutOfMemoryError, ShapeError, StateDictError } from '../errors.js';
import { getEngine } from '../runtime/engine.js';
import { WasmOwner } from '../runtime/owner.js';
import {
  checkFinite, checkOptions, checkPositiveInt, checkSeed, checkTensor, describe, shapeStr, Tensor, type TensorLike,
} from '../tensor.js';
import { normalizeStateDict, type StateDictInput } from '../io/state-dict.js';
import type { Parameter } from '../train/parameter.js';
import { Random } from './random.js';

const FLOAT = 4;
const MAX_DIM = 1 << 16;
const q16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Input features (`in_features`). */
  inFeatures: number;
  /** Output features (`out_features`). */
  outFeatures: number;
  /** Use a bias (default true). */
  bias?: boolean;
  /** Seed of the initial weights (PyTorch's scheme: uniform in +-1/sqrt(inFeatures)). Default: random. */
  seed?: number;
}

/** `torch.nn.Linear` over rows: input (..., inFeatures) → output (..., outFeatures). */
export class Linear extends WasmOwner {
  /** `in_features`. */
  readonly inFeatures: number;
  /** `out_features`. */
  readonly outFeatures: number;
  /** Whether the layer has a bias. */
  readonly hasBias: boolean;
  private readonly outPad: number;
  private readonly wFloats: number;
  private readonly paramBlock: number;
  private gradBlock = 0;
  private saved: { rows: number; x: number } | undefined;

  /** Creates the layer with PyTorch's initialisation. Requires `await init()` first. */
  constructor(options: LinearOptions) {
    super(getEngine(), 'Linear');
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('options', 'expected { inFeatures, outFeatures }');
    }
    this.inFeatures = checkPositiveInt('options.inFeatures', options.inFeatures, MAX_DIM);
    this.outFeatures = checkPositiveInt('options.outFeatures', options.outFeatures, MAX_DIM);
    const b = options.bias ?? true;
    if (typeof b !== 'boolean') throw new InvalidArgumentError('options.bias', `expected a boolean, got ${describe(b)}`);
    this.hasBias = b;
    checkSeed('options.seed', options.seed);
    this.outPad = q16(this.outFeatures);
    this.wFloats = this.outPad * this.inFeatures;
    const bytes = (this.wFloats + this.outPad) * FLOAT;
    try {
      // Refused under the memory cap before anything is allocated: the parameters and the packing stage.
      this.engine.checkAlloc([bytes, this.outFeatures * this.inFeatures * FLOAT], 'Linear parameters');
      this.paramBlock = this.allocBlock(bytes);
      this.resetParameters(options.seed);
    } catch (e) {
      this.dispose();
      if (!(e instanceof OutOfMemoryError)) throw e;
      throw new OutOfMemoryError(`options.inFeatures ${this.inFeatures}, options.outFeatures ${this.outFeatures}: the ` +
        `parameters need ${bytes} bytes of WebAssembly memory, which cannot be allocated (${e.message})`, e);
    }
  }

  /** Re-draws weight and bias uniformly in +-1/sqrt(inFeatures) (PyTorch's `reset_parameters` bounds). */
  resetParameters(seed?: number): void {
    this.assertAlive();
    checkSeed('seed', seed);
    const rng = new Random(seed ?? Math.floor(Math.random() * 2 ** 31));
    const k = 1 / Math.sqrt(this.inFeatures);
    const w = Float32Array.from({ length: this.outFeatures * this.inFeatures }, () => rng.uniform(-k, k));
    const bias = Float32Array.from({ length: this.outFeatures }, () => (this.hasBias ? rng.uniform(-k, k) : 0));
    this.write(w, bias);
  }

  private write(w: ArrayLike<number>, bias: ArrayLike<number>): void {
    const e = this.engine;
    const stage = e.alloc(w.length * FLOAT);
    try {
      e.f32().set(w, stage / FLOAT);
      e.k.pack_forward(this.paramBlock, stage, 1, this.outFeatures, this.inFeatures, 16, 16);
      const f = e.f32();
      f.fill(0, (this.paramBlock / FLOAT) + this.wFloats, this.paramBlock / FLOAT + this.wFloats + this.outPad);
      f.set(bias, this.paramBlock / FLOAT + this.wFloats);
    } finally {
      e.release(stage);
    }
  }

  /** Loads `weight` (out, in) and `bias` (out) under PyTorch's names, optionally under a prefix. */
  loadStateDict(stateDict: StateDictInput, options: { prefix?: string; strict?: boolean } = {}): void {
    this.assertAlive();
    options = checkOptions('options', options, '{ prefix?, strict? }');
    const prefix = options.prefix ?? '';
    const strict = options.strict ?? true;
    const want: Record<string, number[]> = { weight: [this.outFeatures, this.inFeatures] };
    if (this.hasBias) want.bias = [this.outFeatures];
    const got: Record<string, ArrayLike<number>> = {};
    for (const [name, t] of normalizeStateDict(stateDict)) {
      if (!name.startsWith(prefix)) continue;
      const key = name.slice(prefix.length);
      const shape = want[key];
      if (!shape) {
        if (strict) throw new StateDictError(name, `unexpected tensor for Linear(${this.inFeatures}, ${this.outFeatures})`);
        continue;
      }
      if (t.shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
        throw new StateDictError(name, `expected shape ${shapeStr(shape)}, got ${shapeStr(t.shape)}`);
      }
      const n = shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== n) throw new StateDictError(name, `expected ${n} values, got ${t.data.length}`);
      checkFinite(name, t.data);
      got[key] = t.data;
    }
    for (const key of Object.keys(want)) {
      if (!got[key] && strict) throw new StateDictError(prefix + key, `missing tensor of shape ${shapeStr(want[key]!)}`);
    }
    const cur = this.stateDict();
    this.write(got.weight ?? cur.weight!.data, got.bias ?? (this.hasBias ? cur.bias!.data : new Float32Array(this.outFeatures)));
  }

  /** `weight` (out, in) and `bias` (out) as copies. */
  stateDict(options: { prefix?: string } = {}): Record<string, Tensor> {
    this.assertAlive();
    options = checkOptions('options', options, '{ prefix? }');
    return this.unpack(this.paramBlock, options.prefix ?? '');
  }

  private unpack(block: number, prefix: string): Record<string, Tensor> {
    const e = this.engine;
    const n = this.outFeatures * this.inFeatures;
    const stage = e.alloc(n * FLOAT);
    try {
      e.k.pack_backward(stage, block, 1, this.outFeatures, this.inFeatures, 16, 16);
      const f = e.f32();
      const out: Record<string, Tensor> = {
        [`${prefix}weight`]: new Tensor(f.slice(stage / FLOAT, stage / FLOAT + n), [this.outFeatures, this.inFeatures]),
      };
      if (this.hasBias) {
        const b0 = block / FLOAT + this.wFloats;
        out[`${prefix}bias`] = new Tensor(f.slice(b0, b0 + this.outFeatures), [this.outFeatures]);
      }
      return out;
    } finally {
      e.release(stage);
    }
  }

  private ensureWork(rows: number): { x: number; y: number; tmp: number; wt: number; tnWork: number } {
    const I = this.inFeatures;
    const sizes = [rows * I, rows * this.outPad, rows * Math.max(q16(I), this.outPad), q16(I) * this.outPad,
      this.engine.constant('GEMM_TN_WORK_FLOATS')];
    const bytes = sizes.reduce((a, n) => a + Math.ceil((n * FLOAT) / 64) * 64, 0);
    let off = this.reusableBlock('work', bytes);
    const ptrs = sizes.map((n) => {
      const p = off;
      off += Math.ceil((n * FLOAT) / 64) * 64;
      return p;
    });
    return { x: ptrs[0]!, y: ptrs[1]!, tmp: ptrs[2]!, wt: ptrs[3]!, tnWork: ptrs[4]! };
  }

  /** y = x W^T + b over the last dimension. With `train`, keeps x for {@link backward}. */
  forward(input: TensorLike, options: { train?: boolean } = {}): Tensor {
    this.assertAlive();
    options = checkOptions('options', options, '{ train? }');
    const x = checkTensor('input', input);
    if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== this.inFeatures) {
      throw new ShapeError('input', `expected shape [..., ${this.inFeatures}], got ${shapeStr(x.shape)}`,
        [-1, this.inFeatures], x.shape);
    }
    checkFinite('input', x.data);
    const rows = x.data.length / this.inFeatures;
    const w = this.ensureWork(rows);
    const e = this.engine;
    e.f32().set(x.data, w.x / FLOAT);
    e.k.gemm_forward(w.y, this.outPad, w.x, this.inFeatures, this.paramBlock,
      this.hasBias ? this.paramBlock + this.wFloats * FLOAT : 0, 0, rows, this.inFeatures, this.outPad / 16, 16, 0);
    this.saved = options.train ? { rows, x: w.x } : undefined;
    const O = this.outFeatures;
    const f = e.f32();
    const out = new Float32Array(rows * O);
    for (let r = 0; r < rows; r++) out.set(f.subarray(w.y / FLOAT + r * this.outPad, w.y / FLOAT + r * this.outPad + O), r * O);
    return new Tensor(out, [...x.shape.slice(0, -1), O]);
  }

  /** Sets the accumulated gradients to zero. */
  zeroGrad(): void {
    this.assertAlive();
    if (this.gradBlock) this.engine.f32().fill(0, this.gradBlock / FLOAT, this.gradBlock / FLOAT + this.wFloats + this.outPad);
  }

  private ensureGrads(): number {
    if (!this.gradBlock) {
      this.gradBlock = this.allocBlock((this.wFloats + this.outPad) * FLOAT);
      this.engine.f32().fill(0, this.gradBlock / FLOAT, this.gradBlock / FLOAT + this.wFloats + this.outPad);
    }
    return this.gradBlock;
  }

  /**
   * Backward after `forward(x, { train: true })`: accumulates dW += dY^T x and db += sum dY, returns dX.
   * `dOutput` has the forward output's shape.
   */
  backward(dOutput: TensorLike): Tensor {
    this.assertAlive();
    const s = this.saved;
    if (!s) throw new InvalidArgumentError('backward', 'call forward(x, { train: true }) first');
    const d = checkTensor('dOutput', dOutput);
    if (d.data.length !== s.rows * this.outFeatures) {
      throw new ShapeError('dOutput', `expected ${s.rows * this.outFeatures} values (rows x ${this.outFeatures}), got ` +
        `${d.data.length}`, [s.rows, this.outFeatures], d.shape);
    }
    const e = this.engine;
    const k = e.k;
    const g = this.ensureGrads();
    const w = this.ensureWork(s.rows);
    const I = this.inFeatures;
    const O = this.outFeatures;
    const f = e.f32();
    // dY padded to the panel width (padding columns zero) in the y buffer.
    for (let r = 0; r < s.rows; r++) {
      const base = w.y / FLOAT + r * this.outPad;
      f.fill(0, base + O, base + this.outPad);
      f.set(d.data instanceof Float32Array ? d.data.subarray(r * O, r * O + O) : Array.prototype.slice.call(d.data, r * O, r * O + O), base);
    }
    const nP = this.outPad / 16;
    k.transpose_f32(w.tmp, s.rows, s.x, I, s.rows, I);
    k.gemm_tn_forward(g, w.tmp, s.rows, w.y, this.outPad, s.rows, I, nP, 16, 1, w.tnWork);
    if (this.hasBias) k.colsum_forward(g + this.wFloats * FLOAT, 0, w.y, this.outPad, s.rows, this.outPad, 1);
    k.pack_transpose(w.wt, this.paramBlock, I, nP, 16);
    k.gemm_forward(w.tmp, q16(I), w.y, this.outPad, w.wt, 0, 0, s.rows, this.outPad, q16(I) / 16, 16, 0);
    const fo = e.f32();
    const dx = new Float32Array(s.rows * I);
    for (let r = 0; r < s.rows; r++) dx.set(fo.subarray(w.tmp / FLOAT + r * q16(I), w.tmp / FLOAT + r * q16(I) + I), r * I);
    this.saved = undefined;
    return new Tensor(dx, [...d.shape.slice(0, -1), I]);
  }

  /** Accumulated gradients under PyTorch's names. */
  gradients(options: { prefix?: string } = {}): Record<string, Tensor> {
    this.assertAlive();
    options = checkOptions('options', options, '{ prefix? }');
    return this.unpack(this.ensureGrads(), options.prefix ?? '');
  }

  /** Parameters as optimizers see them (see {@link Parameter}). */
  parameters(): Parameter[] {
    this.assertAlive();
    const g = this.ensureGrads();
    const ps: Parameter[] = [
      { name: 'weight', engine: this.engine, param: this.paramBlock, grad: g, length: this.wFloats, owner: this },
    ];
    if (this.hasBias) {
      ps.push({ name: 'bias', engine: this.engine, param: this.paramBlock + this.wFloats * FLOAT,
        grad: g + this.wFloats * FLOAT, length: this.outPad, owner: this });
    }
    return ps;
  }
}
