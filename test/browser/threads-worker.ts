// Runs in a dedicated worker of a cross-origin-isolated page: 2 threads (nested Web Workers), checks that split and
// unsplit forwards are identical, that a trap is a WorkerError, and that the workers terminate.
import { init, LSTM, GRU, threadingInfo } from '../../src/index.js';
function rnd(n: number, seed: number): Float32Array { let a = seed >>> 0; const o = new Float32Array(n); for (let i = 0; i < n; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; o[i] = a / 2 ** 32 * 2 - 1; } return o; }
self.onmessage = async () => {
  try {
    const e = await init({ threads: 2, simd: 'simd', wasm: '/build/rnn-simd.wasm', wasmThreads: '/build/rnn-simd-mt.wasm' });
    const info = threadingInfo();
    const out: Record<string, unknown> = { info };
    let same = true;
    for (const [Cls, B, bi] of [[LSTM, 33, true], [GRU, 32, false], [LSTM, 1, true]] as const) {
      const m = new Cls({ inputSize: 16, hiddenSize: 64, numLayers: 2, bidirectional: bi, seed: 3 });
      const x = { data: rnd(20 * B * 16, B), shape: [20, B, 16] };
      e.parallelMinFlops = Infinity; const a = m.forward(x);
      e.parallelMinFlops = 0; const b = m.forward(x);
      for (let i = 0; i < a.output.data.length; i++) if (!Object.is(a.output.data[i], b.output.data[i])) same = false;
      for (let i = 0; i < a.hN.data.length; i++) if (!Object.is(a.hN.data[i], b.hN.data[i])) same = false;
      m.dispose();
    }
    out.identical = same;
    const p = e.alloc(64);
    try { e.parallel([[], [{ fn: 'zero_f32', args: [-64, 1 << 20] }]]); out.trap = 'no error'; } catch (err) { out.trap = `${(err as Error).name}: ${(err as Error).message}`; }
    e.release(p);
    e.terminateWorkers();
    out.after = e.threadingInfo();
    (self as unknown as Worker).postMessage(out);
  } catch (err) { (self as unknown as Worker).postMessage({ error: String(err) }); }
};
