/**
 * The one place that loads the WebAssembly module, detects features and owns the memory.
 *
 * `init()` works in Node (reads the `.wasm` next to the package), in browsers (a URL, a `Response` or bytes) and
 * in edge runtimes (a precompiled `WebAssembly.Module`, because some of them forbid compiling bytes). Everything
 * else in the library reaches the module through {@link getEngine}.
 * @module
 */
import { InitError, InvalidArgumentError, NotInitializedError, OutOfMemoryError } from '../errors.js';
import { Allocator, type AllocatorStats } from './allocator.js';
import type { KernelExports } from './kernels.js';
import { CTL_WORDS, ThreadPool, type KernelCall } from './threads.js';
import { nodeBuiltin } from './node-builtins.js';
import { WARM_FLOATS, warmKernels } from './warm-up.js';

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
  /**
   * Cap on the WebAssembly memory in bytes (default: the 4 GiB wasm32 limit). A model, session, optimizer state
   * or forward/training workspace that would take the heap beyond it is refused with {@link OutOfMemoryError}
   * (naming the bytes needed, the cap and the bytes in use) before anything is allocated; other models are
   * unaffected. {@link Engine.setMemoryCap} changes it later (with threads, not beyond the value given here:
   * a shared memory's maximum is fixed when it is made).
   */
  maxMemoryBytes?: number;
  /**
   * Re-initialise even if an engine exists (the old engine's models stay bound to it; its worker threads are
   * terminated, so it runs on one thread from then on).
   */
  force?: boolean;
  /**
   * Threads for forward inference (the calling thread included): a number >= 1, or `'auto'` (default):
   * `os.availableParallelism()` capped at 4 in Node (the environment variable `RNN_WASM_THREADS`, if set to a
   * positive integer, replaces that default), `navigator.hardwareConcurrency` capped at 4 where Web Workers over a
   * shared memory can run (a cross-origin-isolated page's worker), else one. With more than one thread, the engine
   * runs the shared-memory build of the kernels over a shared `WebAssembly.Memory` in this thread and in N-1
   * workers (Node `worker_threads`, unref'ed so they never keep the process alive; elsewhere Web Workers from a
   * Blob URL) and splits large batches across them. When the runtime cannot (no `SharedArrayBuffer`: a page
   * without COOP/COEP headers; `Atomics.wait` forbidden on this thread: a browser's main thread, so run the model
   * in a worker; no `Worker`), the engine runs on one thread and {@link Engine.threadingInfo} says why; nothing is
   * printed. Training, sessions and small calls always run on the calling thread.
   *
   * With `'auto'`, `init()` does not wait for the workers (starting a Node worker takes 30-100 ms, more than the
   * rest of a cold start): the engine runs on one thread until they are up, and {@link Engine.threadsReady}
   * resolves then. A number > 1 makes `init()` wait for them.
   */
  threads?: 'auto' | number;
  /**
   * The shared-memory build (`rnn-simd-mt.wasm` or `rnn-relaxed-mt.wasm`, matching `simd`), as for `wasm`.
   * Default: the one shipped in the package, unless `wasm` is given, in which case threads need this too.
   */
  wasmThreads?: WasmSource;
  /**
   * Warm the shared kernels up at init (default `true`): about 1.5 ms of small calls on zeros that make V8 compile
   * the weight packing, the GEMM and the batch-1 product with its optimising compiler in the background while the
   * caller builds and loads a model, so the first forward does not run them in baseline code (about 4 ms of a cold
   * start's first LSTM hidden-256 forward). `false` skips it; results are the same either way.
   */
  warmUp?: boolean;
}

/** How many threads an engine runs forward passes on, and why not more. */
export interface ThreadingInfo {
  /** Threads in use (the calling thread included); 1 when single-threaded. */
  threads: number;
  /** Why the engine runs on one thread (or fewer than asked), when it does. */
  reason?: string;
  /** Whether the engine's memory is a shared `WebAssembly.Memory` (the -mt build). */
  sharedMemory: boolean;
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
  private pool: ThreadPool | undefined;
  private reason: string | undefined;
  private readonly shared: boolean;
  private stopped = false;
  private starting = false;
  private readonly memoryLimit: number;

  /**
   * Resolves with {@link threadingInfo} once the worker threads are running, or have failed to start (then with
   * the reason); at once when the engine has none to start. Forward calls before that run on the calling thread.
   */
  threadsReady: Promise<ThreadingInfo> = Promise.resolve({ threads: 1, sharedMemory: false });

  /**
   * Smallest estimated work of a forward call (floating-point operations, 2·T·B·gates·H·(I+H) summed over layers
   * and directions) that is split across threads. Below it the cost of waking the workers (tens of µs, see
   * bench/threads) is not worth it. Default 2^24 (about 0.6 ms of work on one core; waking a worker measured
   * 15-160 µs, the most when its core was idle in a VM); in Node the environment
   * variable `RNN_WASM_PARALLEL_MIN_FLOPS` replaces the default (0 splits every call: tests use it). Set it to
   * `Infinity` to keep every call on the calling thread.
   */
  parallelMinFlops = 1 << 24;

  /** @internal */
  constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory, flavour: SimdFlavour, features: Features,
              maxMemoryBytes?: number) {
    this.shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    this.k = instance.exports as unknown as KernelExports;
    this.memory = memory;
    this.flavour = flavour;
    this.features = features;
    this.allocator = new Allocator(memory, this.k.heap_base(), maxMemoryBytes);
    this.memoryLimit = this.shared ? sharedMaxPages(maxMemoryBytes) * 65536 : 65536 * 65536;
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.u8View = new Uint8Array(memory.buffer);
  }

  // Growth detaches the views of a non-shared memory (their length drops to 0); a shared memory keeps the old
  // views valid but short, and hands out a new, longer SharedArrayBuffer. Comparing lengths covers both.

  /** A Float32Array over the whole memory. Take it again after any call that may allocate (growth detaches). */
  f32(): Float32Array {
    if (this.u8View.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.f32View;
  }

  /** An Int32Array over the whole memory (same caveat as {@link f32}). */
  i32(): Int32Array {
    if (this.u8View.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.i32View;
  }

  /** A Uint8Array over the whole memory (same caveat as {@link f32}). */
  u8(): Uint8Array {
    if (this.u8View.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.u8View;
  }

  /** Threads of forward inference, the calling thread included (1 when single-threaded). */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** How many threads this engine uses and, when it uses one, why (see {@link InitOptions.threads}). */
  threadingInfo(): ThreadingInfo {
    const info: ThreadingInfo = { threads: this.threads, sharedMemory: this.shared };
    if (this.reason !== undefined) info.reason = this.reason;
    return info;
  }

  /**
   * Stops the worker threads; the engine keeps working on the calling thread (its models stay usable).
   * Idempotent. Workers never keep a Node process alive, so calling this is only needed to free them early.
   */
  terminateWorkers(): void {
    if (this.starting) {
      this.stopped = true; // the pool still starting is terminated when it arrives (see setThreading)
      this.reason = 'the worker threads were terminated (engine.terminateWorkers())';
    }
    if (!this.pool) return;
    this.pool.terminate();
    this.release(this.pool.ctl);
    this.pool = undefined;
    this.reason = 'the worker threads were terminated (engine.terminateWorkers())';
  }

  /** @internal Attaches a started pool, or records why there is none. */
  setThreading(pool: ThreadPool | undefined, reason: string | undefined, starting = false): void {
    this.starting = starting;
    if (this.stopped) {
      if (pool) {
        pool.terminate();
        this.release(pool.ctl);
      }
      return; // keeps the reason terminateWorkers gave
    }
    this.pool = pool;
    this.reason = reason;
  }

  /**
   * @internal Runs `lists[0]` here and `lists[i]` on worker i (kernel calls with integer arguments), returning
   * when all have finished. Throws {@link WorkerError} if a worker's call failed.
   */
  parallel(lists: KernelCall[][]): void {
    if (!this.pool) {
      for (const l of lists) for (const c of l) (this.k[c.fn as keyof KernelExports] as (...a: number[]) => void)(...c.args);
      return;
    }
    this.pool.run(this.k as unknown as Record<string, unknown>, lists);
  }

  /** @internal Whether a worker list of these calls fits the control block. */
  parallelFits(calls: KernelCall[]): boolean {
    return this.pool ? this.pool.fits(calls) : true;
  }

  private refresh(): void {
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
    this.u8View = new Uint8Array(this.memory.buffer);
  }

  /**
   * Allocates a block (byte offset, 64-byte aligned). Throws {@link OutOfMemoryError} (`what` names the
   * request in its message) when it would exceed the memory cap, before allocating or growing anything.
   */
  alloc(bytes: number, what?: string, replacing?: number): number {
    return this.allocator.alloc(bytes, what, replacing);
  }

  /**
   * Throws {@link OutOfMemoryError} unless blocks of these sizes, all live at once, fit under the memory cap;
   * allocates nothing. Constructors call it first, so a refused object leaves the allocator as it was.
   */
  checkAlloc(sizes: readonly number[], what: string): void {
    this.allocator.check(sizes, what);
  }

  /** The memory cap in bytes (see {@link InitOptions.maxMemoryBytes}). */
  get memoryCap(): number {
    return this.allocator.maxBytes;
  }

  /**
   * Sets the memory cap in bytes: later requests that would take the heap beyond it are refused (memory
   * already in use stays in use; WebAssembly memory never shrinks). With worker threads the memory is shared
   * and its maximum was fixed by init's `maxMemoryBytes`: a larger cap throws {@link InvalidArgumentError}.
   */
  setMemoryCap(bytes: number): void {
    if (!(Number.isFinite(bytes) && bytes > 0)) throw new InvalidArgumentError('bytes', `expected a positive number of bytes for the memory cap, got ${bytes}`);
    if (bytes > this.memoryLimit) {
      throw new InvalidArgumentError('bytes', `${bytes} bytes is above this memory's maximum of ${this.memoryLimit} bytes ` +
        '(a shared memory\'s maximum is set by init({ maxMemoryBytes }))');
    }
    this.allocator.maxBytes = bytes;
  }

  /** @internal Restores a block just freed (see {@link Allocator.reclaim}). */
  reclaim(ptr: number, size: number): void {
    this.allocator.reclaim(ptr, size);
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

/**
 * How many threads the current engine runs forward passes on and, when one, why (no engine yet: one thread,
 * reason `'not initialized'`). Never prints anything.
 */
export function threadingInfo(): ThreadingInfo {
  return current ? current.threadingInfo() : { threads: 1, reason: 'not initialized', sharedMemory: false };
}
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
      if (current && current !== e) current.terminateWorkers();
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
    const v8 = await nodeBuiltin('v8');
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
  if (options.warmUp !== undefined && typeof options.warmUp !== 'boolean') {
    throw new InitError(`options.warmUp: expected a boolean, got ${String(options.warmUp)}`);
  }
  const plan = await planThreads(options);
  let shared: { module: WebAssembly.Module; memory: WebAssembly.Memory } | undefined;
  let reason = plan.reason;
  if (plan.threads > 1) {
    try {
      const module = await compile(options.wasmThreads ?? defaultLocation(`${flavour}-mt`));
      const maxPages = sharedMaxPages(options.maxMemoryBytes);
      shared = { module, memory: new WebAssembly.Memory({ initial: 16, maximum: maxPages, shared: true }) };
    } catch (e) {
      reason = `the shared-memory build could not be loaded: ${String(e)}`;
    }
  }
  let module: WebAssembly.Module;
  try {
    module = shared ? shared.module : await compile(options.wasm ?? defaultLocation(flavour));
  } catch (e) {
    if (e instanceof InitError) throw e;
    throw new InitError(`could not load the WebAssembly module: ${String(e)}`, { cause: e });
  }
  const memory = shared ? shared.memory : new WebAssembly.Memory({ initial: 16 });
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
  const engine = new Engine(instance, memory, flavour, features, options.maxMemoryBytes);
  if (options.warmUp ?? true) {
    const ptr = engine.alloc(WARM_FLOATS * 4, 'kernel warm-up');
    try {
      warmKernels(engine.k, ptr);
    } finally {
      engine.release(ptr);
    }
  }
  // For test runs that want every call split (RNN_WASM_PARALLEL_MIN_FLOPS=0), Node only.
  const minFlops = isNode() ? process.env.RNN_WASM_PARALLEL_MIN_FLOPS : undefined;
  if (minFlops !== undefined && minFlops !== '' && Number(minFlops) >= 0) engine.parallelMinFlops = Number(minFlops);
  if (shared) {
    const n = plan.threads - 1;
    const ctl = engine.alloc(n * CTL_WORDS * 4);
    const start = async (): Promise<ThreadingInfo> => {
      try {
        const pool = isNode() ? await ThreadPool.startNode(shared.module, memory, ctl, n)
          : await ThreadPool.startWeb(shared.module, memory, ctl, n);
        engine.setThreading(pool, plan.reason);
      } catch (e) {
        engine.release(ctl);
        engine.setThreading(undefined, `the worker threads could not start: ${String(e)}`);
      }
      return engine.threadingInfo();
    };
    if (typeof options.threads === 'number') {
      await start();
      engine.threadsReady = Promise.resolve(engine.threadingInfo());
    } else {
      engine.setThreading(undefined, 'the worker threads are starting (engine.threadsReady resolves when they run)',
        true);
      engine.threadsReady = start();
    }
  } else {
    engine.setThreading(undefined, reason);
    engine.threadsReady = Promise.resolve(engine.threadingInfo());
  }
  return engine;
}

/** Decides how many threads to try and, when one, why. */
async function planThreads(options: InitOptions): Promise<{ threads: number; reason?: string }> {
  const t = options.threads ?? 'auto';
  if (t !== 'auto' && !(Number.isInteger(t) && t >= 1 && t <= 256)) {
    throw new InitError(`options.threads: expected 'auto' or an integer in [1, 256], got ${String(t)}`);
  }
  let want: number;
  if (t === 'auto') {
    if (!isNode()) {
      const hc = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
      if (!webWorkersUsable()) {
        return { threads: 1, reason: webThreadsUnavailable() ?? "threads: 'auto' found no way to start workers" };
      }
      if (!hc || hc <= 1) return { threads: 1, reason: "threads: 'auto' found one core" };
      return { threads: Math.min(4, hc) };
    }
    const env = process.env.RNN_WASM_THREADS;
    if (env !== undefined && env !== '' && options.threads === undefined) {
      const v = Number(env);
      if (!(Number.isInteger(v) && v >= 1 && v <= 256)) {
        throw new InitError(`RNN_WASM_THREADS: expected an integer in [1, 256], got ${env}`);
      }
      want = v;
    } else {
      const os = await nodeBuiltin('os');
      const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
      want = Math.min(4, cores);
      if (want <= 1) return { threads: 1, reason: "threads: 'auto' found one core" };
    }
  } else {
    want = t;
  }
  if (want === 1) return { threads: 1, reason: 'one thread requested' };
  if (typeof SharedArrayBuffer === 'undefined') {
    return { threads: 1, reason: 'SharedArrayBuffer is not available (browsers need cross-origin isolation: ' +
      'COOP/COEP headers)' };
  }
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return { threads: 1, reason: 'Atomics.wait is not allowed on this thread (a browser main thread); run the ' +
      'model in a Web Worker' };
  }
  if (!isNode() && !webWorkersUsable()) {
    return { threads: 1, reason: webThreadsUnavailable() ?? 'this runtime has no Web Workers' };
  }
  if (options.wasm !== undefined && options.wasmThreads === undefined) {
    return { threads: 1, reason: 'options.wasm was given without options.wasmThreads (the shared-memory build)' };
  }
  return { threads: want };
}

/** Why Web Workers over a shared memory cannot be used here, or undefined when they can. */
function webThreadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer === 'undefined') {
    return 'SharedArrayBuffer is not available (browsers need cross-origin isolation: COOP/COEP headers)';
  }
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return 'Atomics.wait is not allowed on this thread (a browser main thread); run the model in a Web Worker';
  }
  const g = globalThis as { Worker?: unknown; Blob?: unknown; URL?: { createObjectURL?: unknown } };
  if (typeof g.Worker !== 'function') return 'this runtime has no Web Workers (Worker is not defined here)';
  if (typeof g.Blob !== 'function' || typeof g.URL?.createObjectURL !== 'function') {
    return 'this runtime cannot start a worker from a Blob URL';
  }
  return undefined;
}

function webWorkersUsable(): boolean {
  return webThreadsUnavailable() === undefined;
}

/** Pages of the shared memory's maximum for a cap (its maximum must be declared when it is made). */
function sharedMaxPages(maxMemoryBytes: number | undefined): number {
  return maxMemoryBytes !== undefined ? Math.max(16, Math.min(65536, Math.ceil(maxMemoryBytes / 65536))) : 65536;
}

function defaultLocation(flavour: string): URL {
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
      // Synchronous read: a process's first asynchronous fs call starts libuv's thread pool (about 3 ms of a
      // cold start, measured), and the file is 40 KB.
      const fs = await nodeBuiltin('fs');
      const bytes = fs.readFileSync(url);
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
