/**
 * Worker threads over one shared `WebAssembly.Memory`: a pool of N-1 workers, each with its own instance of the
 * shared-memory build of the kernels, that run lists of kernel calls the main thread writes into a control block
 * of that memory. The main thread runs its own list meanwhile, then blocks in `Atomics.wait` until every worker
 * has finished, so a caller's synchronous API stays synchronous and no message is posted per call.
 *
 * Protocol, per worker (Int32 words of its control block): the main thread writes the calls (`CMDS`: function
 * index, argument count, arguments as i32), sets `STATUS` to 0, stores a new job number in `SEQ` and notifies it;
 * the worker, waiting on `SEQ`, runs the calls, writes `STATUS` (1 and a UTF-8 message at `MSG` if a call threw,
 * e.g. a trap), stores the job number in `DONE` and notifies it. `SEQ` = -1 asks the worker to leave its loop.
 * Workers never allocate: every pointer they see was handed out by the main thread's allocator.
 * @module
 */
import { WorkerError } from '../errors.js';

/** One kernel call: the export's name and its (integer) arguments. */
export interface KernelCall {
  fn: string;
  args: number[];
}

/** Words of one worker's control block. */
export const CTL_WORDS = 16384;
const SEQ = 0;
const DONE = 1;
const STATUS = 2;
const NCMD = 3;
const MSGLEN = 4;
const MSG = 16; // 240 words = 960 bytes of message
const MSG_BYTES = 960;
const CMDS = 256;

/** Exports a worker may call (the forward kernels and what tests use). */
export const WORKER_FUNCTIONS = ['lstm_forward', 'gru_forward', 'rnn_forward', 'copy_f32', 'zero_f32'] as const;

// The worker's program, as source so it needs no separate file (works from dist/, from bundles and from a Blob URL).
// The loop is shared; the preludes differ. Node evaluates an `eval: true` worker as a script or as a module
// depending on the parent's flags (--input-type=module): dynamic import() works in both.
const WORKER_LOOP = `
let inst;
try {
  inst = new WebAssembly.Instance(module, { env: { memory } });
} catch (e) {
  post({ error: String(e) });
  return;
}
const fns = names.map((n) => inst.exports[n]);
const I = new Int32Array(memory.buffer);
const U8 = new Uint8Array(memory.buffer);
const b = ctl >> 2;
const enc = new TextEncoder();
let last = 0;
post({ ready: true });
for (;;) {
  Atomics.wait(I, b + ${SEQ}, last);
  const s = Atomics.load(I, b + ${SEQ});
  if (s === last) continue;
  if (s < 0) break;
  last = s;
  try {
    const n = I[b + ${NCMD}];
    let p = b + ${CMDS};
    for (let c = 0; c < n; c++) {
      const f = fns[I[p]];
      const na = I[p + 1];
      const a = [];
      for (let j = 0; j < na; j++) a.push(I[p + 2 + j]);
      p += 2 + na;
      f(...a);
    }
    I[b + ${STATUS}] = 0;
  } catch (e) {
    const m = enc.encode(String(e && e.message || e)).subarray(0, ${MSG_BYTES});
    U8.set(m, ctl + ${MSG * 4});
    I[b + ${MSGLEN}] = m.length;
    I[b + ${STATUS}] = 1;
  }
  Atomics.store(I, b + ${DONE}, s);
  Atomics.notify(I, b + ${DONE});
}
`;
const WORKER_SOURCE = `
(async () => {
const { parentPort, workerData } = await import('node:worker_threads');
const { module, memory, ctl, names } = workerData;
const post = (m) => parentPort.postMessage(m);
${WORKER_LOOP}
})();
`;
// A Web Worker gets its data in the first message (a module and a shared memory are cloneable).
const WEB_WORKER_SOURCE = `
self.onmessage = (ev) => {
  self.onmessage = null;
  const { module, memory, ctl, names } = ev.data;
  const post = (m) => self.postMessage(m);
  (() => {
${WORKER_LOOP}
  })();
};
`;

/** What the pool needs of a worker (Node's `Worker` or the web's, adapted). */
interface PoolWorker {
  terminate(): void;
}

interface NodeWorker {
  on(ev: 'message', f: (m: { ready?: boolean; error?: string }) => void): void;
  off(ev: 'message', f: (m: { ready?: boolean; error?: string }) => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  on(ev: 'exit', f: (code: number) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

/** A pool of worker threads sharing the engine's memory. */
export class ThreadPool {
  private seq = 0;
  private alive = true;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly fnIndex = new Map<string, number>(WORKER_FUNCTIONS.map((n, i) => [n, i]));

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly workers: PoolWorker[],
    /** Byte offset of the control blocks (one of CTL_WORDS words per worker). */
    readonly ctl: number,
  ) {
    this.i32 = new Int32Array(memory.buffer);
    this.u8 = new Uint8Array(memory.buffer);
  }

  /**
   * Starts `n` Node worker threads (unref'ed: they never keep the process alive) and waits until each has
   * instantiated `module` over `memory`. `ctl` is a block of n * CTL_WORDS * 4 bytes of that memory.
   */
  static async startNode(module: WebAssembly.Module, memory: WebAssembly.Memory, ctl: number, n: number): Promise<ThreadPool> {
    // import(), not process.getBuiltinModule: resolving it takes a task, so a background start ('auto') builds its
    // workers after init() has resolved instead of inside it (init()'s median rose from 14.6 to 26.2 ms otherwise).
    const { Worker } = await import(/* webpackIgnore: true */ 'node:worker_threads');
    new Int32Array(memory.buffer, ctl, n * CTL_WORDS).fill(0);
    const workers: NodeWorker[] = [];
    try {
      const ready: Promise<void>[] = [];
      for (let w = 0; w < n; w++) {
        const worker = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module, memory, ctl: ctl + w * CTL_WORDS * 4, names: [...WORKER_FUNCTIONS] },
        }) as unknown as NodeWorker;
        worker.unref();
        workers.push(worker);
        ready.push(new Promise<void>((resolve, reject) => {
          const onMessage = (m: { ready?: boolean; error?: string }): void => {
            // A 'message' listener keeps the process alive even on an unref'ed worker: drop it once ready.
            worker.off('message', onMessage);
            if (m.ready) resolve();
            else reject(new Error(m.error ?? 'unexpected message'));
          };
          worker.on('message', onMessage);
          worker.on('error', reject);
          worker.on('exit', (code) => reject(new Error(`worker exited with code ${code} while starting`)));
        }));
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    }
    return new ThreadPool(memory, workers, ctl);
  }

  /**
   * Starts `n` Web Workers from a Blob URL (browsers, Deno; needs cross-origin isolation for the shared memory, and
   * a calling thread that may block in `Atomics.wait`, i.e. itself a worker) and waits until each has
   * instantiated `module` over `memory`.
   */
  static async startWeb(module: WebAssembly.Module, memory: WebAssembly.Memory, ctl: number, n: number): Promise<ThreadPool> {
    new Int32Array(memory.buffer, ctl, n * CTL_WORDS).fill(0);
    const url = URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
    const workers: Worker[] = [];
    try {
      const ready: Promise<void>[] = [];
      for (let w = 0; w < n; w++) {
        const worker = new Worker(url);
        workers.push(worker);
        ready.push(new Promise<void>((resolve, reject) => {
          worker.onmessage = (ev: MessageEvent<{ ready?: boolean; error?: string }>) => {
            worker.onmessage = null;
            if (ev.data.ready) resolve();
            else reject(new Error(ev.data.error ?? 'unexpected message'));
          };
          worker.onerror = (ev) => reject(new Error(ev.message || 'worker failed to start'));
        }));
        worker.postMessage({ module, memory, ctl: ctl + w * CTL_WORDS * 4, names: [...WORKER_FUNCTIONS] });
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    } finally {
      URL.revokeObjectURL(url);
    }
    return new ThreadPool(memory, workers, ctl);
  }

  /** Number of threads, the calling one included (1 once terminated). */
  get threads(): number {
    return this.alive ? this.workers.length + 1 : 1;
  }

  /** Words of arguments a worker's list may hold. */
  static capacityWords(): number {
    return CTL_WORDS - CMDS;
  }

  /** True when `calls` fit in one worker's control block. */
  fits(calls: KernelCall[]): boolean {
    let words = 0;
    for (const c of calls) words += 2 + c.args.length;
    return words <= CTL_WORDS - CMDS;
  }

  /**
   * Runs `lists[0]` on the calling thread with `k` and `lists[w + 1]` on worker w, and returns when all are done.
   * A call that throws in a worker (a trap) surfaces here as {@link WorkerError} after every thread has stopped;
   * the pool stays usable.
   */
  run(k: Record<string, unknown>, lists: KernelCall[][]): void {
    if (!this.alive) throw new WorkerError('the worker threads were terminated');
    if (lists.length > this.workers.length + 1) throw new RangeError(`${lists.length} lists for ${this.threads} threads`);
    const I = this.i32;
    // Validate every list before waking any worker, so a bad list never leaves a worker running unawaited.
    for (const list of lists.slice(1)) {
      if (!this.fits(list)) throw new RangeError('too many kernel calls for one worker');
      for (const c of list) if (!this.fnIndex.has(c.fn)) throw new RangeError(`${c.fn} cannot run in a worker`);
    }
    const seq = ++this.seq;
    const used: number[] = [];
    for (let w = 0; w + 1 < lists.length; w++) {
      const list = lists[w + 1]!;
      if (list.length === 0) continue;
      const b = (this.ctl >> 2) + w * CTL_WORDS;
      let p = b + CMDS;
      for (const c of list) {
        const f = this.fnIndex.get(c.fn)!;
        I[p] = f;
        I[p + 1] = c.args.length;
        for (let j = 0; j < c.args.length; j++) I[p + 2 + j] = c.args[j]!;
        p += 2 + c.args.length;
      }
      I[b + NCMD] = list.length;
      I[b + STATUS] = 0;
      Atomics.store(I, b + SEQ, seq);
      Atomics.notify(I, b + SEQ);
      used.push(w);
    }
    let mainError: unknown;
    try {
      for (const c of lists[0] ?? []) (k[c.fn] as (...a: number[]) => void)(...c.args);
    } catch (e) {
      mainError = e;
    }
    let workerError: WorkerError | undefined;
    for (const w of used) {
      const b = (this.ctl >> 2) + w * CTL_WORDS;
      let v: number;
      while ((v = Atomics.load(I, b + DONE)) !== seq) Atomics.wait(I, b + DONE, v);
      if (I[b + STATUS] !== 0 && !workerError) {
        const len = I[b + MSGLEN]!;
        const msg = new TextDecoder().decode(this.u8.slice(this.ctl + w * CTL_WORDS * 4 + MSG * 4,
          this.ctl + w * CTL_WORDS * 4 + MSG * 4 + len));
        workerError = new WorkerError(`worker ${w + 1}: ${msg}`);
      }
    }
    if (mainError !== undefined) throw mainError;
    if (workerError) throw workerError;
  }

  /** Asks every worker to stop and terminates it. Idempotent. */
  terminate(): void {
    if (!this.alive) return;
    this.alive = false;
    const I = this.i32;
    for (let w = 0; w < this.workers.length; w++) {
      const b = (this.ctl >> 2) + w * CTL_WORDS;
      Atomics.store(I, b + SEQ, -1);
      Atomics.notify(I, b + SEQ);
    }
    for (const w of this.workers) void w.terminate();
  }


  /** @internal the memory the pool runs on. */
  get sharedMemory(): WebAssembly.Memory {
    return this.memory;
  }
}
