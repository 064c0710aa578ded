/**
 * Typed errors. Every failure the library reports is an {@link RnnWasmError} with a stable `code`, so callers
 * can branch on the kind of failure without parsing messages. Messages name the argument, the expected value
 * and the actual value.
 * @module
 */

/** Stable error codes. */
export type ErrorCode =
  | 'NOT_INITIALIZED'
  | 'INIT_FAILED'
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'DISPOSED'
  | 'STATE_DICT'
  | 'OUT_OF_MEMORY'
  | 'UNSUPPORTED'
  | 'NON_FINITE'
  | 'ONNX'
  | 'WORKER';

/** Base class of every error thrown by rnn-wasm. */
export class RnnWasmError extends Error {
  /** Machine-readable kind of failure. */
  readonly code: ErrorCode | string;
  constructor(code: ErrorCode | string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A value of the wrong type or range (a size that is not a positive integer, an unknown option...). */
export class InvalidArgumentError extends RnnWasmError {
  /** The argument (or option path) that was rejected, e.g. `options.hiddenSize`. */
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('INVALID_ARGUMENT', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** A tensor whose shape or length does not match what the call needs. */
export class ShapeError extends RnnWasmError {
  /** The argument whose shape was wrong, e.g. `input` or `h0`. */
  readonly argument: string;
  /** The expected shape (with -1 where any size is accepted), when known. */
  readonly expected?: readonly number[];
  /** The actual shape. */
  readonly actual?: readonly number[];
  constructor(argument: string, message: string, expected?: readonly number[], actual?: readonly number[]) {
    super('SHAPE_MISMATCH', `${argument}: ${message}`);
    this.argument = argument;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Use of an object after its `dispose()`. */
export class DisposedError extends RnnWasmError {
  constructor(what: string) {
    super('DISPOSED', `${what} was disposed; create a new one`);
  }
}

/** The engine was used before `await init()`. */
export class NotInitializedError extends RnnWasmError {
  constructor() {
    super('NOT_INITIALIZED', 'the WebAssembly engine is not initialized: call `await init()` first');
  }
}

/** Loading the WebAssembly module failed (missing file, unsupported runtime, no SIMD). */
export class InitError extends RnnWasmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INIT_FAILED', message);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** A state dict with a missing, unexpected or wrongly shaped tensor. */
export class StateDictError extends RnnWasmError {
  /** The tensor name (with prefix) at fault. */
  readonly tensor: string;
  constructor(tensor: string, message: string) {
    super('STATE_DICT', `${tensor}: ${message}`);
    this.tensor = tensor;
  }
}

/** A WebAssembly memory request that cannot be satisfied (memory cap, 4 GiB address space). */
export class OutOfMemoryError extends RnnWasmError {
  /** Bytes the refused request needed (when known). */
  readonly requestedBytes?: number;
  /** The memory cap in force (when known). */
  readonly capBytes?: number;
  /** Bytes in use when it was refused (when known). */
  readonly usedBytes?: number;
  constructor(message: string, sizes: { requestedBytes?: number; capBytes?: number; usedBytes?: number } = {}) {
    super('OUT_OF_MEMORY', message);
    if (sizes.requestedBytes !== undefined) this.requestedBytes = sizes.requestedBytes;
    if (sizes.capBytes !== undefined) this.capBytes = sizes.capBytes;
    if (sizes.usedBytes !== undefined) this.usedBytes = sizes.usedBytes;
  }
}

/** A feature combination the library does not support (e.g. streaming a bidirectional model). */
export class UnsupportedError extends RnnWasmError {
  constructor(message: string) {
    super('UNSUPPORTED', message);
  }
}

/**
 * A kernel call failed in a worker thread (for example a WebAssembly trap) during a multi-threaded forward pass.
 * Every thread has stopped when it is thrown; the engine and its workers stay usable.
 */
export class WorkerError extends RnnWasmError {
  constructor(message: string) {
    super('WORKER', message);
  }
}
