/**
 * Dense row-major tensors as the API exchanges them.
 * @module
 */
import { InvalidArgumentError, ShapeError } from './errors.js';

/** A row-major float32 tensor returned by the library. The data is a copy the caller owns. */
export class Tensor {
  /** Row-major values. */
  readonly data: Float32Array;
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  constructor(data: Float32Array, shape: readonly number[]) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new ShapeError('data', `length ${data.length} does not match shape [${shape.join(', ')}] (${n})`);
    }
    this.data = data;
    // A frozen shape cannot change under us, so it is shared (a session's step returns one per call: no copy).
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
  }
  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }
  /** Nested plain arrays, handy for printing and JSON. */
  toArray(): unknown {
    const rec = (dim: number, off: number): unknown => {
      const n = this.shape[dim]!;
      if (dim === this.shape.length - 1) return Array.from(this.data.subarray(off, off + n));
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: n }, (_, i) => rec(dim + 1, off + i * stride));
    };
    return this.shape.length === 0 ? this.data[0] : rec(0, 0);
  }
}

/** Anything with row-major numbers and a shape: a {@link Tensor}, or `{ data, shape }` with any numeric array. */
export interface TensorLike {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** Numeric arrays the API accepts for flat data. */
export type NumericArray = Float32Array | Float64Array | ArrayLike<number>;

/** Validates a tensor-like argument: its shape is non-negative integers and its data length matches. */
export function checkTensor(name: string, t: unknown): TensorLike {
  if (t === null || typeof t !== 'object') {
    throw new InvalidArgumentError(name, `expected a tensor { data, shape }, got ${describe(t)}`);
  }
  const { data, shape } = t as Partial<TensorLike>;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidArgumentError(`${name}.shape`, `expected an array of non-negative integers, got ${describe(shape)}`);
  }
  if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
    throw new InvalidArgumentError(`${name}.data`, `expected a numeric array, got ${describe(data)}`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new ShapeError(name, `data length ${data.length} does not match shape [${shape.join(', ')}] (${n} elements)`,
      shape, [data.length]);
  }
  return t as TensorLike;
}

/**
 * Throws unless every value is finite as a float32 (NaN and Infinity are rejected at the API boundary, and so is
 * a finite double beyond the float32 range, which the kernels would read as Infinity).
 */
export function checkFinite(name: string, data: ArrayLike<number>): void {
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v - v !== 0) throw new InvalidArgumentError(name, `element ${i} is ${v}; inputs must be finite numbers`);
    }
    return;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) {
      const what = typeof v === 'number' && Number.isFinite(v) ? `${v}, beyond the float32 range (${Math.fround(v)} as a float32)` : `${describe(v)}`;
      throw new InvalidArgumentError(name, `element ${i} is ${what}; inputs must be finite numbers`);
    }
  }
}

/** Checks a positive integer option. */
export function checkPositiveInt(name: string, v: unknown, max = 1 << 24): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new InvalidArgumentError(name, `expected an integer in [1, ${max}], got ${describe(v)}`);
  }
  return v;
}

/** Checks an options argument: undefined gives `{}`, anything but a plain object is refused, naming `name`. */
export function checkOptions<T extends object>(name: string, v: T | undefined | null, what = 'an options object'): T {
  if (v === undefined) return {} as T;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidArgumentError(name, `expected ${what} or undefined, got ${describe(v)}`);
  }
  return v;
}

/** Checks a seed: a finite number (it is truncated to an integer), or undefined. */
export function checkSeed(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidArgumentError(name, `expected a finite number or undefined, got ${describe(v)}`);
  }
  return v;
}

/**
 * A short description of a value for error messages. Shallow on purpose: arrays nested more than 3 deep show as
 * `[...]`, so a hostile value (a JSON array nested 10^5 deep) cannot overflow the stack.
 */
export function describe(v: unknown, depth = 0): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    if (depth >= 3) return '[...]';
    return `[${v.slice(0, 8).map((x) => describe(x, depth + 1)).join(', ')}${v.length > 8 ? ', ...' : ''}]`;
  }
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'object') return Object.prototype.toString.call(v);
  return String(v);
}

/** `[a, b, c]` for messages. */
export function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}
