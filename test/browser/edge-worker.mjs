// The edge test's worker (test/edge.test.ts runs it in workerd through miniflare). The .wasm is imported as a
// compiled WebAssembly.Module (a CompiledWasm module, as wrangler does for `import m from './x.wasm'`; workerd
// forbids compiling wasm from bytes, and allows wasm bindings on env only in service-worker scripts). POST /forward with the input
// tensor as JSON: the fixed LSTM's forward pass on it. GET /no-wasm: what init() without `wasm` says here.
import * as lib from './rnn-wasm.mjs';
import { forwardOnly } from './lstm-case.mjs';
import wasmModule from './rnn-simd.wasm';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/no-wasm') {
        try {
          await lib.init({ force: true });
          return Response.json({ error: null });
        } catch (e) {
          return Response.json({ error: e.message, initError: e instanceof lib.InitError });
        }
      }
      const engine = await lib.init({ wasm: wasmModule, simd: 'simd' });
      const x = await request.json();
      return Response.json({ flavour: engine.flavour, threading: engine.threadingInfo(), ...forwardOnly(lib, x) });
    } catch (e) {
      return Response.json({ error: String(e?.stack ?? e) }, { status: 500 });
    }
  },
};
