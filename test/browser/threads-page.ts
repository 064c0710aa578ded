// The page's main thread: init() must fall back (Atomics.wait is not allowed here) and say why; then start the worker.
import { init, threadingInfo } from '../../src/index.js';
(async () => {
  const e = await init({ threads: 2, simd: 'simd', wasm: '/build/rnn-simd.wasm', wasmThreads: '/build/rnn-simd-mt.wasm' });
  const mainInfo = threadingInfo();
  const w = new Worker('/worker.js', { type: 'module' });
  w.onmessage = (ev) => { (window as any).__result = { mainInfo, worker: ev.data }; };
  w.onerror = (ev) => { (window as any).__result = { mainInfo, error: ev.message }; };
  w.postMessage('go');
  void e;
})();
