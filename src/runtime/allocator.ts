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
}

/** Allocates aligned blocks from a `WebAssembly.Memory`, growing it when needed. */
export class Allocator {
  private readonly free: Span[] = [];
  private readonly live = new Map<number, number>();
  private top: number;
  private used = 0;

  /**
   * @param memory the module's memory
   * @param base first usable byte (the module's `heap_base()`)
   * @param maxBytes cap on the memory size; a request beyond it throws {@link OutOfMemoryError} before growing
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxBytes: number = MAX_BYTES,
  ) {
    this.top = align(base);
  }

  /** Returns the byte offset of a new block of at least `bytes` bytes (64-byte aligned, contents undefined). */
  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new OutOfMemoryError(`cannot allocate ${bytes} bytes`);
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
    if (end > this.maxBytes) {
      throw new OutOfMemoryError(
        `WebAssembly memory cap reached: ${bytes} more bytes requested with ${this.used} in use ` +
          `(cap ${this.maxBytes} bytes)`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new OutOfMemoryError(`WebAssembly memory could not grow by ${pages} pages: ${String(e)}`);
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
    };
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
