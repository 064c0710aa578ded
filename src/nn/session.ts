/**
 * Streaming sessions: B parallel streams advanced one time step per call, with the state kept in WebAssembly
 * memory between calls.
 * @module
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { WasmOwner } from '../runtime/owner.js';
import { checkFinite, checkPositiveInt, checkTensor, shapeStr, Tensor, type TensorLike } from '../tensor.js';
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

/** A stateful stream over a unidirectional model. Create with `model.createSession()`. */
export class Session extends WasmOwner {
  /** The model whose weights this session runs. */
  readonly model: RecurrentLayer;
  /** Number of parallel streams. */
  readonly batchSize: number;
  private readonly hPtr: number;
  private readonly cPtr: number;
  private readonly hLen: number;
  private readonly cLen: number;

  /** @internal use `model.createSession()`. */
  constructor(model: RecurrentLayer, options: SessionOptions) {
    super(model.engine, 'Session');
    this.model = model;
    this.batchSize = checkPositiveInt('options.batchSize', options.batchSize ?? 1, 1 << 20);
    const B = this.batchSize;
    this.hLen = model.numLayers * B * model.outputSize;
    this.cLen = model.mode === 'LSTM' ? model.numLayers * B * model.hiddenSize : 0;
    this.hPtr = this.allocBlock(this.hLen * FLOAT);
    this.cPtr = this.cLen ? this.allocBlock(this.cLen * FLOAT) : 0;
    this.reset();
  }

  /**
   * Advances every stream by one step. `x` is (B, inputSize), or (inputSize) when B = 1. Returns the top layer's
   * hidden state (B, H_out), or (H_out) for a 1-D input.
   */
  step(x: TensorLike | ArrayLike<number>): Tensor {
    this.assertAlive();
    const m = this.model;
    const B = this.batchSize;
    const I = m.inputSize;
    let data: ArrayLike<number>;
    let flat = false;
    if (isTensorLike(x)) {
      const t = checkTensor('x', x);
      if (t.shape.length === 1 && B === 1 && t.shape[0] === I) flat = true;
      else if (!(t.shape.length === 2 && t.shape[0] === B && t.shape[1] === I)) {
        throw new ShapeError('x', `expected shape ${shapeStr([B, I])}${B === 1 ? ` or [${I}]` : ''}, got ` +
          `${shapeStr(t.shape)}`, [B, I], t.shape);
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
    checkFinite('x', data);
    const { out } = m.stepInPlace(data, B, this.hPtr, this.cPtr);
    const H = m.outputSize;
    const y = this.engine.f32().slice(out / FLOAT, out / FLOAT + B * H);
    return new Tensor(y, flat ? [H] : [B, H]);
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

function isTensorLike(x: unknown): x is TensorLike {
  return x !== null && typeof x === 'object' && 'shape' in x && 'data' in x;
}
