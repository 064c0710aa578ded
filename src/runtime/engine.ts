/**
 * The one place that loads the WebAssembly module, detects features and owns the memory.
 *
 * `init()` works in Node (reads the `.wasm` next to the package), in browsers (a URL, a `Response` or bytes) and
 * in edge runtimes (a precompiled `WebAssembly.Module`, because some of them forbid compiling bytes). Everything
 * else in the library reaches the module through {@link getEngine}.
 * @module
 */
import { InitError, NotInitializedError, OutOfMemoryError } from '../errors.js';
import { Allocator, type AllocatorStats } from './allocator.js';
import type { KernelExports } from './kernels.js';

/** Which build of the kernels to run. */
export type SimdFlavour = 'simd' | 'relaxed';

/** Where the module comes from. */
export type WasmSource =
  | string
  | URL
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module
  | Response
  | PromiseLike<Response>;

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * The module: a URL or path, its bytes, a `Response`, or a compiled `WebAssembly.Module` (required on edge
   * runtimes that forbid compiling bytes). Default: the `.wasm` shipped in the package, read from disk in Node
   * and fetched next to the package elsewhere. It must be the build matching `simd`.
   */
  wasm?: WasmSource;
  /**
   * `'auto'` (default) picks the relaxed-SIMD build when the runtime has relaxed SIMD, else the plain SIMD
   * build; `'simd'` or `'relaxed'` force one. The two agree within 1e-6 relative. Relaxed SIMD is standard and
   * on by default from Node 22 and Chrome 114; Node 20 has it behind `--experimental-wasm-relaxed-simd`, so on
   * Node `'auto'` and `'relaxed'` turn that V8 flag on (`v8.setFlagsFromString`, which only makes the relaxed
   * opcodes valid) when the runtime does not validate them yet. `'simd'` never touches V8 flags.
   */
  simd?: 'auto' | SimdFlavour;
  /** Cap on the WebAssembly memory in bytes (default: the 4 GiB wasm32 limit). */
  maxMemoryBytes?: number;
  /** Re-initialise even if an engine exists (the old engine's models stay bound to it). */
  force?: boolean;
}

/** Runtime features found by {@link init}. */
export interface Features {
  /** WebAssembly fixed-width SIMD (required). */
  simd: boolean;
  /** Relaxed SIMD (`f32x4.relaxed_madd`). */
  relaxedSimd: boolean;
  /** True when relaxed SIMD was made available by turning on Node 20's V8 flag (see {@link InitOptions.simd}). */
  relaxedSimdByFlag?: boolean;
}

// Smallest modules using one instruction of each feature (the same probes as the wasm-feature-detect package).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253,
  15, 253, 128, 2, 11,
]);

/** Detects SIMD and relaxed SIMD in the running engine. */
export function detectFeatures(): Features {
  const v = (b: Uint8Array<ArrayBuffer>): boolean => {
    try {
      return WebAssembly.validate(b);
    } catch {
      return false;
    }
  };
  return { simd: v(SIMD_PROBE), relaxedSimd: v(RELAXED_PROBE) };
}

/** A loaded module with its memory and allocator. Models keep a reference to the engine they were made on. */
export class Engine {
  /** The kernels. */
  readonly k: KernelExports;
  /** The linear memory shared by every model of this engine. */
  readonly memory: WebAssembly.Memory;
  /** Allocator of blocks in {@link memory}. */
  readonly allocator: Allocator;
  /** The build in use. */
  readonly flavour: SimdFlavour;
  /** Features detected at load time. */
  readonly features: Features;
  private f32View: Float32Array;
  private i32View: Int32Array;
  private u8View: Uint8Array;

  /** @internal */
  constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory, flavour: SimdFlavour, features: Features,
              maxMemoryBytes?: number) {
    this.k = instance.exports as unknown as KernelExports;
    this.memory = memory;
    this.flavour = flavour;
    this.features = features;
    this.allocator = new Allocator(memory, this.k.heap_base(), maxMemoryBytes);
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.u8View = new Uint8Array(memory.buffer);
  }

  /** A Float32Array over the whole memory. Take it again after any call that may allocate (growth detaches). */
  f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.refresh();
    return this.f32View;
  }

  /** An Int32Array over the whole memory (same caveat as {@link f32}). */
  i32(): Int32Array {
    if (this.i32View.buffer !== this.memory.buffer) this.refresh();
    return this.i32View;
  }

  /** A Uint8Array over the whole memory (same caveat as {@link f32}). */
  u8(): Uint8Array {
    if (this.u8View.buffer !== this.memory.buffer) this.refresh();
    return this.u8View;
  }

  private refresh(): void {
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
    this.u8View = new Uint8Array(this.memory.buffer);
  }

  /** Allocates a block (byte offset, 64-byte aligned). */
  alloc(bytes: number): number {
    return this.allocator.alloc(bytes);
  }

  /** Frees a block. */
  release(ptr: number): void {
    this.allocator.release(ptr);
  }

  /** Memory statistics. */
  stats(): AllocatorStats {
    return this.allocator.stats();
  }

  /** Reads a constant exported by the module (`LSTM_U`, `ACT_TANH`, ...). */
  constant(name: keyof KernelExports): number {
    return (this.k[name] as WebAssembly.Global).value as number;
  }
}

let current: Engine | undefined;
let pending: Promise<Engine> | undefined;

/** The engine made by {@link init}; throws {@link NotInitializedError} before. */
export function getEngine(): Engine {
  if (!current) throw new NotInitializedError();
  return current;
}

/** True once {@link init} has completed. */
export function isInitialized(): boolean {
  return current !== undefined;
}

/**
 * Loads and instantiates the WebAssembly module. Call once before creating models; later calls return the same
 * engine (unless `force`). Throws {@link InitError} when the runtime lacks WebAssembly SIMD or the module cannot
 * be loaded.
 */
export function init(options: InitOptions = {}): Promise<Engine> {
  if (current && !options.force) return Promise.resolve(current);
  if (pending && !options.force) return pending;
  const p = load(options).then(
    (e) => {
      current = e;
      pending = undefined;
      return e;
    },
    (err: unknown) => {
      pending = undefined;
      throw err;
    },
  );
  pending = p;
  return p;
}

/**
 * Node 20 validates relaxed SIMD only with `--experimental-wasm-relaxed-simd`. The flag only decides whether the
 * relaxed opcodes validate (V8 reads it when a module is compiled), so turning it on at run time before our
 * compile is safe; it is what the tests and benchmarks measured. Returns whether relaxed SIMD now validates.
 */
async function enableRelaxedSimdFlag(): Promise<boolean> {
  if (!isNode()) return false;
  try {
    const v8 = await import(/* webpackIgnore: true */ 'node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return detectFeatures().relaxedSimd;
}

async function load(options: InitOptions): Promise<Engine> {
  const features = detectFeatures();
  if (!features.simd) {
    throw new InitError('this JavaScript runtime has no WebAssembly SIMD (Node >= 16.4, Chrome >= 91, Firefox >= 89, '
      + 'Safari >= 16.4 have it)');
  }
  const want = options.simd ?? 'auto';
  if (want !== 'auto' && want !== 'simd' && want !== 'relaxed') {
    throw new InitError(`options.simd: expected 'auto', 'simd' or 'relaxed', got ${String(want)}`);
  }
  if (want !== 'simd' && !features.relaxedSimd && await enableRelaxedSimdFlag()) {
    features.relaxedSimd = true;
    features.relaxedSimdByFlag = true;
  }
  const flavour: SimdFlavour = want === 'auto' ? (features.relaxedSimd ? 'relaxed' : 'simd') : want;
  if (flavour === 'relaxed' && !features.relaxedSimd) {
    throw new InitError("options.simd is 'relaxed' but this runtime does not validate relaxed SIMD "
      + '(Node 20 needs --experimental-wasm-relaxed-simd)');
  }
  if (options.maxMemoryBytes !== undefined &&
      !(Number.isFinite(options.maxMemoryBytes) && options.maxMemoryBytes > 0)) {
    throw new InitError(`options.maxMemoryBytes: expected a positive number, got ${options.maxMemoryBytes}`);
  }
  let module: WebAssembly.Module;
  try {
    module = await compile(options.wasm ?? defaultLocation(flavour));
  } catch (e) {
    if (e instanceof InitError) throw e;
    throw new InitError(`could not load the WebAssembly module: ${String(e)}`, { cause: e });
  }
  const memory = new WebAssembly.Memory({ initial: 16 });
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (e) {
    throw new InitError(`could not instantiate the WebAssembly module: ${String(e)}`, { cause: e });
  }
  if (options.maxMemoryBytes !== undefined && options.maxMemoryBytes < memory.buffer.byteLength) {
    throw new OutOfMemoryError(`options.maxMemoryBytes ${options.maxMemoryBytes} is below the module's ` +
      `initial memory ${memory.buffer.byteLength}`);
  }
  return new Engine(instance, memory, flavour, features, options.maxMemoryBytes);
}

function defaultLocation(flavour: SimdFlavour): URL {
  // src/runtime/engine.ts and dist/runtime/engine.js both sit two levels below the package root.
  return new URL(`../../build/rnn-${flavour}.wasm`, import.meta.url);
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

async function compile(src: WasmSource): Promise<WebAssembly.Module> {
  if (src instanceof WebAssembly.Module) return src;
  if (src instanceof ArrayBuffer) return WebAssembly.compile(src);
  if (ArrayBuffer.isView(src)) {
    return WebAssembly.compile(new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice());
  }
  if (typeof src === 'string' || src instanceof URL) {
    const url = src instanceof URL ? src : toUrl(src);
    if (url.protocol === 'file:' || (url.protocol === '' && isNode())) {
      const fs = await import(/* webpackIgnore: true */ 'node:fs/promises');
      const bytes = await fs.readFile(url);
      return WebAssembly.compile(bytes);
    }
    return compileResponse(fetch(url));
  }
  return compileResponse(src);
}

function toUrl(s: string): URL {
  try {
    return new URL(s);
  } catch {
    if (isNode()) return new URL(`file://${s.startsWith('/') ? '' : `${process.cwd()}/`}${s}`);
    return new URL(s, (globalThis as { location?: { href: string } }).location?.href);
  }
}

async function compileResponse(r: Response | PromiseLike<Response>): Promise<WebAssembly.Module> {
  const res = await r;
  if (!res.ok) throw new InitError(`fetching the WebAssembly module failed: HTTP ${res.status} ${res.url}`);
  if (typeof WebAssembly.compileStreaming === 'function' &&
      res.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}
