// Linear memory is owned by the TypeScript runtime (src/runtime/), which hands out 64-byte aligned blocks above
// the module's static data. The kernels never allocate; this is the one fact they share with the allocator.

/** First byte free for the runtime's allocator (end of static data; the stub runtime has no heap of its own). */
export function heap_base(): usize {
  return __heap_base;
}
