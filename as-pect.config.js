// as-pect configuration for the AssemblyScript kernel tests (assembly/__tests__/*.spec.ts).
//
// The compiler settings live in assembly/__tests__/asconfig.simd.json and asconfig.relaxed.json (chosen with
// `asp -a <file>`; `npm run test:as` runs both). They do not extend ./asconfig.json: the library build imports its
// memory and uses the stub runtime, while as-pect needs its own exported memory and a collecting runtime (its
// assertions allocate strings). The kernels never allocate, so they run unchanged on buffers the specs take from
// heap.alloc (16-byte aligned, checked in the specs).
import v8 from "node:v8";

// The relaxed-SIMD build needs this in node 20 (V8 11.3). It cannot go in NODE_OPTIONS, but setting it here,
// before as-pect compiles any module, works. Harmless for the plain SIMD build.
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

export default {
  /** Test entry points. */
  entries: ["assembly/__tests__/**/*.spec.ts"],
  /** Files added to every compilation (none). */
  include: ["assembly/__tests__/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    // The test modules export their own memory; `memory` (as-pect's) is offered but not imported.
    return instantiate(binary, createImports({ env: { memory } }));
  },
  // Coverage (@as-covers) is broken with assemblyscript 0.28: leave it off.
  outputBinary: false,
};
