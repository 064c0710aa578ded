/**
 * First-fit allocator over a WebAssembly memory, with coalescing of free neighbours.
 *
 * The kernels never allocate (assembly/arena.ts): every block of linear memory is handed out here. Blocks are
 * 64-byte aligned (a cache line; the kernels need 16 for v128). A model holds a few long-lived blocks
 * (parameters, scratch), so a sorted free list is fast enough and keeps fragmentation visible and testable.
 * @module
 */
import { OutOfMemoryError } from '../errors.js';

const PAGE = 65536;
const ALIGN = 64;
const MAX_BYTES = 65536 * PAGE; // wasm32 address space

interface Span {
  ptr: number;
  size: number;
}

/** Allocation statistics. */
export interface AllocatorStats {
  /** Bytes currently handed out. */
  usedBytes: number;
  /** Live blocks. */
  blocks: number;
  /** Current size of the WebAssembly memory in bytes. */
  memoryBytes: number;
  /** End of the highest block ever handed out (the high-water mark of the heap). */
  topBytes: number;
  /** The memory cap ({@link Allocator.maxBytes}): no block may end beyond it. */
  capBytes: number;
}

/** Allocates aligned blocks from a `WebAssembly.Memory`, growing it when needed. */
export class Allocator {
  private readonly free: Span[] = [];
  private readonly live = new Map<number, number>();
  private top: number;
  private used = 0;
  private cap: number;

  /**
   * @param memory the module's memory
   * @param base first usable byte (the module's `heap_base()`)
   * @param maxBytes cap on the memory size; a request beyond it throws {@link OutOfMemoryError} before growing
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    maxBytes: number = MAX_BYTES,
  ) {
    this.top = align(base);
    this.cap = Math.min(maxBytes, MAX_BYTES);
  }

  /** The cap in bytes: no block may end beyond it (memory below it that is already grown stays usable). */
  get maxBytes(): number {
    return this.cap;
  }

  set maxBytes(v: number) {
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`maxBytes: expected a positive number, got ${v}`);
    this.cap = Math.min(v, MAX_BYTES);
  }

  /**
   * Throws {@link OutOfMemoryError} unless blocks of these sizes, allocated in order (all live at once), would
   * fit under the cap; allocates nothing. `what` names the caller in the message (e.g. `'LSTM parameters'`).
   */
  check(sizes: readonly number[], what: string): void {
    const free = this.free.map((s) => ({ ...s }));
    let top = this.top;
    let total = 0;
    for (const bytes of sizes) {
      if (!Number.isFinite(bytes) || bytes < 0) throw new OutOfMemoryError(`${what}: cannot allocate ${bytes} bytes`);
      const size = Math.max(ALIGN, align(bytes));
      total += size;
      const s = free.find((f) => f.size >= size);
      if (s) {
        s.ptr += size;
        s.size -= size;
        continue;
      }
      top += size;
      if (top > this.cap) throw this.refusal(what, total, sizes.length);
    }
  }

  /** `replacing`: bytes of a block the caller freed for this request, still counted as in use in the message. */
  private refusal(what: string, bytes: number, blocks = 1, replacing = 0): OutOfMemoryError {
    const used = this.used + replacing;
    const live = this.live.size + (replacing ? 1 : 0);
    return new OutOfMemoryError(
      `${what}: needs ${bytes} bytes${blocks > 1 ? ` (${blocks} blocks)` : ''} but the WebAssembly memory cap is ` +
        `${this.cap} bytes, with ${used} bytes in use in ${live} blocks (heap top ${this.top}); ` +
        'dispose models or raise the cap (init({ maxMemoryBytes }) or engine.setMemoryCap())',
      { requestedBytes: bytes, capBytes: this.cap, usedBytes: used },
    );
  }

  /**
   * Returns the byte offset of a new block of at least `bytes` bytes (64-byte aligned, contents undefined).
   * Throws {@link OutOfMemoryError} before changing anything when it would end beyond the cap; `what` names the
   * request in the message, and `replacing` is the size of a block just freed to make room for this one (it is
   * reported as still in use).
   */
  alloc(bytes: number, what = 'allocation', replacing = 0): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new OutOfMemoryError(`${what}: cannot allocate ${bytes} bytes`);
    const size = Math.max(ALIGN, align(bytes));
    for (let i = 0; i < this.free.length; i++) {
      const s = this.free[i]!;
      if (s.size >= size) {
        const ptr = s.ptr;
        if (s.size === size) this.free.splice(i, 1);
        else {
          s.ptr += size;
          s.size -= size;
        }
        this.live.set(ptr, size);
        this.used += size;
        return ptr;
      }
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.cap) throw this.refusal(what, size, 1, replacing);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new OutOfMemoryError(`${what}: the WebAssembly memory could not grow by ${pages} pages to ${end} bytes ` +
          `(${this.used} bytes in use): ${String(e)}`, { requestedBytes: size, capBytes: this.cap, usedBytes: this.used });
      }
    }
    this.top = end;
    this.live.set(ptr, size);
    this.used += size;
    return ptr;
  }

  /** Frees a block returned by {@link alloc}. Freeing 0 is a no-op; freeing twice throws. */
  release(ptr: number): void {
    if (ptr === 0) return;
    const size = this.live.get(ptr);
    if (size === undefined) throw new RangeError(`release: ${ptr} is not a live block`);
    this.live.delete(ptr);
    this.used -= size;
    // Insert sorted, then merge with neighbours.
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid]!.ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, { ptr, size });
    let i = lo;
    if (i > 0 && this.free[i - 1]!.ptr + this.free[i - 1]!.size === ptr) {
      this.free[i - 1]!.size += size;
      this.free.splice(i, 1);
      i--;
    }
    const cur = this.free[i]!;
    const next = this.free[i + 1];
    if (next && cur.ptr + cur.size === next.ptr) {
      cur.size += next.size;
      this.free.splice(i + 1, 1);
    }
    // A free span at the top goes back to the untouched region.
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /**
   * Takes back exactly the block [ptr, ptr + size) just freed by {@link release} (size as {@link sizeOf} gave it),
   * with nothing allocated in between: a caller whose replacement block was refused restores the old one in
   * place, contents intact.
   */
  reclaim(ptr: number, size: number): void {
    if (ptr >= this.top) {
      if (ptr > this.top) this.free.push({ ptr: this.top, size: ptr - this.top });
      this.top = ptr + size;
    } else {
      const i = this.free.findIndex((f) => f.ptr <= ptr && ptr + size <= f.ptr + f.size);
      if (i < 0) throw new RangeError(`reclaim: [${ptr}, ${ptr + size}) is not free`);
      const f = this.free[i]!;
      const parts: Span[] = [];
      if (ptr > f.ptr) parts.push({ ptr: f.ptr, size: ptr - f.ptr });
      if (ptr + size < f.ptr + f.size) parts.push({ ptr: ptr + size, size: f.ptr + f.size - ptr - size });
      this.free.splice(i, 1, ...parts);
    }
    this.live.set(ptr, size);
    this.used += size;
  }

  /** Size of a live block in bytes. */
  sizeOf(ptr: number): number {
    return this.live.get(ptr) ?? 0;
  }

  /** Current statistics. */
  stats(): AllocatorStats {
    return {
      usedBytes: this.used,
      blocks: this.live.size,
      memoryBytes: this.memory.buffer.byteLength,
      topBytes: this.top,
      capBytes: this.cap,
    };
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
