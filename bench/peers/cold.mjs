// One cold start for bench/peers: a fresh node process from its start to the first LSTM hidden-256 batch-1 T=100
// result. Usage: node cold.mjs <ours|ort-web|ort-node> <module URL> <dir with model.onnx, model.safetensors, x.f32>.
// Prints JSON: imported, the end of each phase (ours: init, construct (new LSTM with its default
// initialisation), load (read the .safetensors file + loadStateDict); onnxruntime: session) and done, in ms since the process started (performance.timeOrigin), and hN.
import fs from 'node:fs';
import path from 'node:path';

const [which, url, dir] = process.argv.slice(2);
const T = 100;
const I = 32;
const H = 256;
const xb = fs.readFileSync(path.join(dir, 'x.f32'));
const x = new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
let imported;
let hN;
const phases = {};
if (which === 'ours') {
  const lib = await import(url);
  imported = performance.now();
  await lib.init();
  phases.init = performance.now();
  const model = new lib.LSTM({ inputSize: I, hiddenSize: H });
  phases.construct = performance.now();
  model.loadStateDict(fs.readFileSync(path.join(dir, 'model.safetensors')));
  phases.load = performance.now();
  hN = model.forward({ data: x, shape: [T, 1, I] }).hN.data;
} else {
  const m = await import(url);
  const ort = m.InferenceSession ? m : m.default;
  imported = performance.now();
  const opts = which === 'ort-web' ? { executionProviders: ['wasm'] }
    : { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };
  if (which === 'ort-web') ort.env.wasm.numThreads = 1;
  const s = await ort.InferenceSession.create(fs.readFileSync(path.join(dir, 'model.onnx')), opts);
  phases.session = performance.now();
  const r = await s.run({ input: new ort.Tensor('float32', x, [T, 1, I]) });
  hN = r.hN.data;
}
const done = performance.now();
process.stdout.write(`${JSON.stringify({ imported, ...phases, done, hN: Array.from(hN) })}\n`);
