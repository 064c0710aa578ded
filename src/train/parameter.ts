/**
 * The contract between layers and optimizers: a {@link Parameter} is a float32 array of values and a float32
 * array of gradients of the same length, both in an engine's WebAssembly memory.
 *
 * A layer keeps its weights packed for the kernels (PyTorch's layout rearranged into panels, with zero padding);
 * its gradients live in a block of the same layout. Optimizers and gradient utilities are elementwise, so they
 * run on the packed arrays directly. Padding entries have value 0 and gradient 0, and every update rule here
 * keeps them 0 (weight decay multiplies the value).
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { Engine } from '../runtime/engine.js';
import { describe } from '../tensor.js';

/** A trainable float32 array and its gradient, both in WebAssembly memory. */
export interface Parameter {
  /** A name for messages and state dicts (a layer uses PyTorch's, e.g. `weight_ih_l0`). */
  readonly name: string;
  /** The engine whose memory holds {@link param} and {@link grad}. */
  readonly engine: Engine;
  /** Byte offset of the values (4-byte aligned; 16-byte aligned is faster). */
  readonly param: number;
  /** Byte offset of the gradients, same length as the values. */
  readonly grad: number;
  /** Number of floats (packed length, padding included). */
  readonly length: number;
  /**
   * The object owning the memory, when there is one: optimizers refuse to touch a parameter whose owner is
   * disposed (its memory may already belong to someone else).
   */
  readonly owner?: { readonly isDisposed: boolean };
}

/**
 * The kernels of `assembly/optim.ts`, typed (the part of the module's ABI this directory uses). Pointers are byte
 * offsets, sizes counts of floats.
 * @internal
 */
export interface OptimKernels {
  sgd_update(param: number, grad: number, momentumBuf: number, n: number, lr: number, momentum: number,
             dampening: number, weightDecay: number, nesterov: number, firstStep: number): void;
  adam_update(param: number, grad: number, m: number, v: number, n: number, lr: number, beta1: number,
              beta2: number, eps: number, weightDecay: number, step: number, decoupled: number): void;
  clip_by_value(grad: number, n: number, clip: number): void;
  sum_squares(x: number, n: number): number;
  max_abs(x: number, n: number): number;
  scale(x: number, n: number, s: number): void;
  has_nonfinite(x: number, n: number): number;
  zero_f32(dst: number, n: number): void;
  copy_f32(dst: number, src: number, n: number): void;
}

/** The optimizer kernels of an engine. @internal */
export function optimKernels(engine: Engine): OptimKernels {
  return engine.k as unknown as OptimKernels;
}

/**
 * Validates a list of parameters: a non-empty array (unless `allowEmpty`) of well-formed {@link Parameter}s, all
 * on one engine, none twice, none disposed. Returns a frozen copy.
 * @internal
 */
export function checkParameters(name: string, params: unknown, allowEmpty = false): readonly Parameter[] {
  let list: unknown[];
  if (Array.isArray(params)) list = params;
  else if (params !== null && typeof params === 'object' && Symbol.iterator in params) {
    list = [...(params as Iterable<unknown>)];
  } else {
    throw new InvalidArgumentError(name, `expected an array of parameters, got ${describe(params)}`);
  }
  if (list.length === 0 && !allowEmpty) throw new InvalidArgumentError(name, 'got an empty parameter list');
  const seen = new Set<number>();
  let engine: Engine | undefined;
  list.forEach((p, i) => {
    const where = `${name}[${i}]`;
    if (p === null || typeof p !== 'object') {
      throw new InvalidArgumentError(where, `expected a Parameter { name, engine, param, grad, length }, got ${describe(p)}`);
    }
    const q = p as Partial<Parameter>;
    if (q.engine === undefined || q.engine === null || typeof q.engine !== 'object' || !('memory' in q.engine)) {
      throw new InvalidArgumentError(`${where}.engine`, `expected an Engine, got ${describe(q.engine)}`);
    }
    if (engine === undefined) engine = q.engine;
    else if (q.engine !== engine) {
      throw new InvalidArgumentError(`${where}.engine`, 'every parameter must live in the same engine as the first');
    }
    if (!Number.isSafeInteger(q.length) || (q.length as number) < 0) {
      throw new InvalidArgumentError(`${where}.length`, `expected a non-negative integer, got ${describe(q.length)}`);
    }
    const bytes = q.engine.memory.buffer.byteLength;
    for (const key of ['param', 'grad'] as const) {
      const v = q[key];
      if (!Number.isSafeInteger(v) || (v as number) <= 0 || (v as number) % 4 !== 0 ||
          (v as number) + 4 * (q.length as number) > bytes) {
        throw new InvalidArgumentError(`${where}.${key}`,
          `expected a 4-byte aligned offset of ${q.length} floats inside the memory (${bytes} bytes), got ${describe(v)}`);
      }
    }
    if (q.param === q.grad && (q.length as number) > 0) {
      throw new InvalidArgumentError(`${where}.grad`, 'must not be the same memory as the values');
    }
    if (seen.has(q.param as number)) {
      throw new InvalidArgumentError(where, `parameter ${describe(q.name)} appears more than once`);
    }
    seen.add(q.param as number);
    assertUsable(p as Parameter, where);
  });
  return Object.freeze(list.slice() as Parameter[]);
}

/** Throws if a parameter's owner was disposed. @internal */
export function assertUsable(p: Parameter, where: string): void {
  if (p.owner?.isDisposed) {
    throw new InvalidArgumentError(where, `parameter ${describe(p.name)} belongs to a disposed object`);
  }
}
