/**
 * Ownership of WebAssembly memory: every object that holds blocks derives from {@link WasmOwner}, which gives
 * `dispose()`, `[Symbol.dispose]` (for `using`), a clear error on use after dispose, and a
 * `FinalizationRegistry` safety net that frees the blocks of an owner the caller forgot to dispose.
 * @module
 */
import { DisposedError } from '../errors.js';
import type { Engine } from './engine.js';

// Runtimes without explicit resource management still get a well-known key for `using` polyfills.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('Symbol.dispose');

/**
 * The blocks of one owner; kept apart from the owner so the finalizer can free them after the owner is gone, and
 * so a parent can dispose its children (a model's sessions) without holding them: a parent keeps its children's
 * holdings, never the children, so a forgotten child can still be collected. (WeakRefs would do it too, but a
 * WeakRef keeps its target alive until the end of the current job: 3.4 KB of heap per session created in a
 * synchronous loop, measured, until it returns.)
 */
interface Holdings {
  engine: Engine;
  blocks: Set<number>;
  disposed: boolean;
  parent?: Holdings;
  children?: Set<Holdings>;
}

/** Marks `h` and its children disposed and frees their blocks. Idempotent. */
function freeHoldings(h: Holdings): void {
  h.disposed = true;
  if (h.children) for (const c of h.children) freeHoldings(c);
  h.children = undefined;
  for (const b of h.blocks) h.engine.release(b);
  h.blocks.clear();
  h.parent?.children?.delete(h);
  h.parent = undefined;
  registry.unregister(h); // a disposed owner needs no finalizer (the token is the holdings: see register)
}

const registry = new FinalizationRegistry<Holdings>(freeHoldings);

/** How an out-of-memory message names a reusable block (`'LSTM forward workspace'`). */
function workspaceName(what: string, key: string): string {
  return `${what} ${key === 'work' ? 'forward' : key === 'train' ? 'training' : key} workspace`;
}

/** Base class of objects owning WebAssembly memory. */
export abstract class WasmOwner {
  /** The engine whose memory this object lives in. */
  readonly engine: Engine;
  private readonly holdings: Holdings;
  private readonly what: string;

  protected constructor(engine: Engine, what: string) {
    this.engine = engine;
    this.what = what;
    this.holdings = { engine, blocks: new Set(), disposed: false };
    // The holdings are also the unregister token, so a parent disposing a child it does not hold can unregister it.
    registry.register(this, this.holdings, this.holdings);
  }

  /** True after {@link dispose} (of this object, or of the owner that {@link adopt}ed it). */
  get isDisposed(): boolean {
    return this.holdings.disposed;
  }

  /**
   * Makes `child` disposed with this owner: disposing this frees the child's blocks and makes it throw
   * {@link DisposedError} (its {@link onDispose} hook does not run then). The child stays collectable.
   */
  protected adopt(child: WasmOwner): void {
    const c = child.holdings;
    if (c.disposed) return;
    c.parent = this.holdings;
    (this.holdings.children ??= new Set()).add(c);
  }

  /** Allocates a block owned by this object. */
  protected allocBlock(bytes: number, what = this.what, replacing = 0): number {
    this.assertAlive();
    const p = this.engine.alloc(bytes, what, replacing);
    this.holdings.blocks.add(p);
    return p;
  }

  private readonly reusable = new Map<string, { ptr: number; bytes: number }>();

  /**
   * A block kept under `key` and reused across calls: reallocated (contents lost) only when more than its
   * current size is asked for, so work buffers grow to the largest call seen and no further.
   */
  protected reusableBlock(key: string, bytes: number): number {
    const cur = this.reusable.get(key);
    if (cur && cur.bytes >= bytes) return cur.ptr;
    if (cur) {
      // Freeing the old block first lets the new one reuse its bytes; if the new one is refused (memory cap),
      // the old block is taken back in place, contents intact, and the owner is as it was.
      const size = this.engine.allocator.sizeOf(cur.ptr);
      this.releaseBlock(cur.ptr);
      try {
        cur.ptr = this.allocBlock(bytes, workspaceName(this.what, key), size);
      } catch (e) {
        this.engine.reclaim(cur.ptr, size);
        this.holdings.blocks.add(cur.ptr);
        throw e;
      }
      cur.bytes = bytes;
      return cur.ptr;
    }
    const ptr = this.allocBlock(bytes, workspaceName(this.what, key));
    this.reusable.set(key, { ptr, bytes });
    return ptr;
  }

  /** Frees a block owned by this object. */
  protected releaseBlock(ptr: number): void {
    if (ptr === 0 || !this.holdings.blocks.has(ptr)) return;
    this.holdings.blocks.delete(ptr);
    this.engine.release(ptr);
  }

  /** Throws {@link DisposedError} after dispose. */
  protected assertAlive(): void {
    if (this.holdings.disposed) throw new DisposedError(this.what);
  }

  /** Hook for subclasses, run once before the blocks are freed. */
  protected onDispose(): void {}

  /** Frees the WebAssembly memory this object owns. Idempotent; any later use throws {@link DisposedError}. */
  dispose(): void {
    if (this.holdings.disposed) return;
    this.onDispose();
    freeHoldings(this.holdings);
  }

  /** Same as {@link dispose}, for `using` declarations. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
