/**
 * Streaming sessions: B parallel streams advanced one time step per call, with the state kept in WebAssembly
 * memory between calls.
 * @module
 */
import { InvalidArgumentError, OutOfMemoryError, ShapeError } from '../errors.js';
import { WasmOwner } from '../runtime/owner.js';
import { checkFinite, checkPositiveInt, checkTensor, describe, shapeStr, Tensor, type TensorLike } from '../tensor.js';
import type { RecurrentLayer } from './recurrent.js';

/** Options of `createSession`. */
export interface SessionOptions {
  /** Number of parallel streams B (default 1). */
  batchSize?: number;
}

/** A session's state: `h` (numLayers, B, H_out) and, for LSTM, `c` (numLayers, B, hiddenSize). */
export interface SessionState {
  h: TensorLike;
  c?: TensorLike;
}

const FLOAT = 4;

/** Options of {@link Session.step}. */
export interface StepOptions {
  /**
   * Write the result into this Float32Array of B*H_out values (row-major (B, H_out)) and return it instead of a
   * new Tensor: a step then allocates nothing.
   */
  out?: Float32Array;
}

/** What {@link Session.step} takes: a tensor (B, inputSize) or (inputSize), or B*inputSize numbers. */
export type StepInput = TensorLike | ArrayLike<number>;

/** Below this many input values the finiteness check is a JavaScript loop, above it the module's SIMD scan. */
const JS_CHECK_MAX = 256;

/**
 * A stateful stream over a unidirectional model. Create with `model.createSession()`.
 *
 * A session owns its state and its step buffers (input, layer outputs, kernel scratch) in WebAssembly memory and
 * computes the kernel arguments of a step once, at creation: a step validates x, copies it in, makes one
 * WebAssembly call per layer and copies the result out. `step(x, { out })` skips the result's allocation;
 * {@link inputView} / {@link advance} / {@link outputView} skip the copies too.
 */
export class Session extends WasmOwner {
  /** The model whose weights this session runs. */
  readonly model: RecurrentLayer;
  /** Number of parallel streams. */
  readonly batchSize: number;
  private readonly hPtr: number;
  private readonly cPtr: number;
  private readonly hLen: number;
  private readonly cLen: number;
  private readonly xPtr: number;
  private readonly xLen: number;
  private readonly yPtr: number;
  private readonly yLen: number;
  private readonly plan: number[][];
  private readonly shape1: readonly number[];
  private readonly shape2: readonly number[];
  private xView: Float32Array;
  private yView: Float32Array;

  /** @internal use `model.createSession()`. */
  constructor(model: RecurrentLayer, options: SessionOptions) {
    super(model.engine, 'Session');
    this.model = model;
    this.batchSize = checkPositiveInt('options.batchSize', options.batchSize ?? 1, 1 << 20);
    const B = this.batchSize;
    const Hout = model.outputSize;
    this.hLen = model.numLayers * B * Hout;
    this.cLen = model.mode === 'LSTM' ? model.numLayers * B * model.hiddenSize : 0;
    // One block for the step: x, the layer outputs (two, alternating, when stacked) and the kernel scratch.
    this.xLen = B * model.inputSize;
    this.yLen = B * Hout;
    const xBytes = align(this.xLen * FLOAT);
    const oBytes = align(this.yLen * FLOAT);
    const nOut = model.numLayers > 1 ? 2 : 1;
    const workBytes = xBytes + nOut * oBytes + model.stepScratchBytes(B);
    let work: number;
    try {
      // Refused under the memory cap before anything is allocated.
      this.engine.checkAlloc(this.cLen ? [this.hLen * FLOAT, this.cLen * FLOAT, workBytes] : [this.hLen * FLOAT, workBytes],
        `Session (batchSize ${B})`);
      this.hPtr = this.allocBlock(this.hLen * FLOAT);
      this.cPtr = this.cLen ? this.allocBlock(this.cLen * FLOAT) : 0;
      work = this.allocBlock(workBytes);
    } catch (e) {
      this.dispose(); // frees what was allocated already
      if (!(e instanceof OutOfMemoryError)) throw e;
      throw new OutOfMemoryError(`options.batchSize ${B}: a session of ${model.describeArch()} needs more ` +
        `WebAssembly memory than can be allocated (${e.message})`, e);
    }
    this.xPtr = work;
    const outA = work + xBytes;
    const outB = nOut > 1 ? outA + oBytes : outA;
    this.yPtr = (model.numLayers - 1) % 2 ? outB : outA;
    this.plan = model.stepPlan(B, this.hPtr, this.cPtr, this.xPtr, outA, outB, outA + nOut * oBytes);
    this.shape1 = Object.freeze([Hout]);
    this.shape2 = Object.freeze([B, Hout]);
    const buf = this.engine.memory.buffer;
    this.xView = new Float32Array(buf, this.xPtr, this.xLen);
    this.yView = new Float32Array(buf, this.yPtr, this.yLen);
    this.reset();
  }

  /**
   * Advances every stream by one step. `x` is (B, inputSize), or (inputSize) when B = 1, as a tensor, or
   * B*inputSize numbers (any numeric array; a Float32Array is copied fastest). Returns the top layer's hidden
   * state (B, H_out), or (H_out) for a 1-D input, as a new Tensor; with `options.out` (a Float32Array of B*H_out
   * values) writes it there and returns `out` instead, allocating nothing. Inputs with NaN or Infinity (also
   * a finite double beyond the float32 range, which would reach the kernel as Infinity) are rejected before the
   * state changes.
   */
  step(x: StepInput): Tensor;
  step(x: StepInput, options: StepOptions & { out: Float32Array }): Float32Array;
  step(x: StepInput, options?: StepOptions): Tensor | Float32Array;
  step(x: StepInput, options?: StepOptions): Tensor | Float32Array {
    this.assertAlive();
    const out = options === undefined ? undefined : this.checkOut(options);
    const flat = this.writeInput(x);
    this.model.runStep(this.plan);
    const y = this.yView.length === 0 ? this.views().y : this.yView;
    if (out !== undefined) {
      out.set(y);
      return out;
    }
    return new Tensor(y.slice(), flat ? this.shape1 : this.shape2);
  }

  /**
   * Zero-copy input: a Float32Array of B*inputSize values, row-major (B, inputSize), over the session's input
   * buffer in WebAssembly memory. Write x_t into it, then call {@link advance}. {@link step} writes its `x`
   * here too. The view stays valid until the memory grows: any call that allocates WebAssembly memory (creating
   * a model or session, a `forward` or `backward` larger than before, `loadStateDict`, `stateDict`, ...) may
   * detach it, after which it has length 0 and writes go nowhere: take it again after such calls (checking
   * `view.length === 0` is enough; a shared memory, with worker threads, grows in place and keeps it valid).
   * Do not use it after `dispose()`.
   */
  inputView(): Float32Array {
    this.assertAlive();
    return this.views().x;
  }

  /**
   * Zero-copy output: a Float32Array of B*H_out values, row-major (B, H_out), over the buffer where every
   * {@link advance} or {@link step} leaves the top layer's output y_t (overwritten by the next one). Same
   * validity rules as {@link inputView}.
   */
  outputView(): Float32Array {
    this.assertAlive();
    return this.views().y;
  }

  /**
   * Advances every stream by one step reading x_t from {@link inputView} and leaving y_t in {@link outputView}:
   * no copy, no allocation. The input is checked for NaN and Infinity first (a rejected input leaves the state
   * unchanged).
   */
  advance(): void {
    this.assertAlive();
    this.checkInputFinite(undefined);
    this.model.runStep(this.plan);
  }

  /** Views over the step buffers, taken again when memory growth detached the cached ones. */
  private views(): { x: Float32Array; y: Float32Array } {
    if (this.xView.length === 0 || this.yView.length === 0) {
      const buf = this.engine.memory.buffer;
      this.xView = new Float32Array(buf, this.xPtr, this.xLen);
      this.yView = new Float32Array(buf, this.yPtr, this.yLen);
    }
    return { x: this.xView, y: this.yView };
  }

  private checkOut(options: StepOptions): Float32Array | undefined {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('options', `expected { out? }, got ${describe(options)}`);
    }
    const out = options.out;
    if (out === undefined) return undefined;
    if (!(out instanceof Float32Array)) {
      throw new InvalidArgumentError('options.out', `expected a Float32Array of ${this.yLen} values, got ${describe(out)}`);
    }
    if (out.length !== this.yLen) {
      const H = this.model.outputSize;
      throw new ShapeError('options.out', `expected ${this.yLen} values (B=${this.batchSize} x H_out=${H}), got ` +
        `${out.length}`, [this.batchSize, H], [out.length]);
    }
    return out;
  }

  /** Validates x, copies it into the input buffer and checks it is finite. Returns true for a 1-D result. */
  private writeInput(x: StepInput): boolean {
    const B = this.batchSize;
    const I = this.model.inputSize;
    let data: ArrayLike<number>;
    let flat: boolean;
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
      // The common case first: a typed array of B*inputSize values.
      const a = x as unknown as ArrayLike<number>;
      if (a.length !== B * I) {
        throw new ShapeError('x', `expected ${B * I} values (B=${B} x inputSize=${I}), got ${a.length}`, [B, I], [a.length]);
      }
      data = a;
      flat = B === 1;
    } else if (x instanceof Tensor || isTensorLike(x)) {
      // A Tensor's data length matches its shape by construction; anything else is checked in full.
      const t = x instanceof Tensor ? x : checkTensor('x', x);
      const s = t.shape;
      if (s.length === 1 && B === 1 && s[0] === I) flat = true;
      else if (s.length === 2 && s[0] === B && s[1] === I) flat = false;
      else {
        throw new ShapeError('x', `expected shape ${shapeStr([B, I])}${B === 1 ? ` or [${I}]` : ''}, got ` +
          `${shapeStr(s)}`, [B, I], s);
      }
      data = t.data;
    } else {
      if (x === null || typeof x !== 'object' || typeof (x as ArrayLike<number>).length !== 'number') {
        throw new InvalidArgumentError('x', 'expected a tensor { data, shape } or a numeric array of B*inputSize values');
      }
      if (x.length !== B * I) {
        throw new ShapeError('x', `expected ${B * I} values (B=${B} x inputSize=${I}), got ${x.length}`, [B, I], [x.length]);
      }
      data = x;
      flat = B === 1;
    }
    const xv = this.xView.length === 0 ? this.views().x : this.xView;
    try {
      xv.set(data);
    } catch (e) {
      // e.g. BigInt values, which a Float32Array refuses.
      throw new InvalidArgumentError('x', `expected numbers, got ${describe(data)} (${String(e)})`);
    }
    this.checkInputFinite(data);
    return flat;
  }

  /**
   * Rejects NaN and Infinity in the input buffer (after the copy, so the values checked are the float32 values
   * the kernel reads). `src`, when given, is the caller's array, for the message.
   */
  private checkInputFinite(src: ArrayLike<number> | undefined): void {
    const xv = this.xView.length === 0 ? this.views().x : this.xView;
    const n = xv.length;
    let bad = false;
    if (n <= JS_CHECK_MAX) {
      for (let i = 0; i < n; i++) {
        const v = xv[i]!;
        if (v - v !== 0) {
          bad = true;
          break;
        }
      }
    } else {
      bad = this.engine.k.has_nonfinite(this.xPtr, n) !== 0;
    }
    if (!bad) return;
    for (let i = 0; i < n; i++) {
      const v = xv[i]!;
      if (!Number.isFinite(v)) {
        const orig = src ? src[i]! : v;
        const what = Number.isFinite(orig) ? `${orig}, which is ${v} as a float32` : `${orig}`;
        throw new InvalidArgumentError(src ? 'x' : 'inputView()',
          `element ${i} is ${what}; inputs must be finite numbers`);
      }
    }
  }

  /** Sets every stream's state to zeros. */
  reset(): void {
    this.assertAlive();
    const f = this.engine.f32();
    f.fill(0, this.hPtr / FLOAT, this.hPtr / FLOAT + this.hLen);
    if (this.cPtr) f.fill(0, this.cPtr / FLOAT, this.cPtr / FLOAT + this.cLen);
  }

  /** A copy of the state. */
  getState(): { h: Tensor; c?: Tensor } {
    this.assertAlive();
    const m = this.model;
    const f = this.engine.f32();
    const h = new Tensor(f.slice(this.hPtr / FLOAT, this.hPtr / FLOAT + this.hLen),
      [m.numLayers, this.batchSize, m.outputSize]);
    if (!this.cPtr) return { h };
    const c = new Tensor(f.slice(this.cPtr / FLOAT, this.cPtr / FLOAT + this.cLen),
      [m.numLayers, this.batchSize, m.hiddenSize]);
    return { h, c };
  }

  /** Replaces the state (shapes as {@link getState}); `c` is required for LSTM. */
  setState(state: SessionState): void {
    this.assertAlive();
    const m = this.model;
    if (state === null || typeof state !== 'object') {
      throw new InvalidArgumentError('state', 'expected { h, c? }');
    }
    const hs = [m.numLayers, this.batchSize, m.outputSize];
    const h = checkTensor('state.h', state.h);
    if (h.shape.length !== 3 || h.shape.some((d, i) => d !== hs[i])) {
      throw new ShapeError('state.h', `expected shape ${shapeStr(hs)}, got ${shapeStr(h.shape)}`, hs, h.shape);
    }
    checkFinite('state.h', h.data);
    let c: TensorLike | undefined;
    if (this.cPtr) {
      if (!state.c) throw new InvalidArgumentError('state.c', 'an LSTM session needs the cell state c');
      const cs = [m.numLayers, this.batchSize, m.hiddenSize];
      c = checkTensor('state.c', state.c);
      if (c.shape.length !== 3 || c.shape.some((d, i) => d !== cs[i])) {
        throw new ShapeError('state.c', `expected shape ${shapeStr(cs)}, got ${shapeStr(c.shape)}`, cs, c.shape);
      }
      checkFinite('state.c', c.data);
    } else if (state.c !== undefined) {
      throw new InvalidArgumentError('state.c', `a ${m.mode} session has no cell state`);
    }
    const f = this.engine.f32();
    f.set(h.data, this.hPtr / FLOAT);
    if (c) f.set(c.data, this.cPtr / FLOAT);
  }
}

function align(n: number): number {
  return Math.ceil(n / 64) * 64;
}

function isTensorLike(x: unknown): x is TensorLike {
  return x !== null && typeof x === 'object' && 'shape' in x && 'data' in x;
}
