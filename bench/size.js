// bench/size: what a user downloads. Sizes of build/*.wasm raw and gzipped, and of the library's main entry
// (dist/index.js, the "." export for browsers) bundled with esbuild as an application would (browser platform,
// minified, ESM, target es2022, nothing external but node: builtins), raw and gzipped; "whole engine" = the
// gzipped bundle + one gzipped .wasm (the larger build). Targets of the performance issue: the .wasm under 100 KB
// (raw), the whole engine under 150 KB gzipped. Also the bundle's bytes by part (from esbuild's metafile), so
// what weighs can be seen, and the bundle without the ONNX exports. Then the shipped builds of bundles/ (browser
// and edge; Node runs dist/ as is): each entry with the chunks it imports; "whole engine" is the browser
// build's rnn-wasm.mjs (with its chunks) + the gzipped .wasm. gzip is zlib level 9. Nothing is written but bench/results/size.json (--no-write: not
// even that). Run after `npm run build` (node bench/size.js, or node bench/run.js --size-only).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KB = 1024;
const WASM_GOAL = 100 * KB;
const ENGINE_GOAL = 150 * KB;
const gz = (b) => zlib.gzipSync(b, { level: 9 }).length;
const kb = (n) => `${(n / KB).toFixed(1)} KB`;

for (const f of ['build/rnn-simd.wasm', 'dist/index.js']) {
  if (!fs.existsSync(path.join(root, f))) {
    console.error(`${f} is missing: run \`npm run build\` first`);
    process.exit(1);
  }
}

const wasm = fs.readdirSync(path.join(root, 'build')).filter((f) => f.endsWith('.wasm')).sort().map((f) => {
  const b = fs.readFileSync(path.join(root, 'build', f));
  return { file: `build/${f}`, bytes: b.length, gzip: gz(b) };
});

const res = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['dist/index.js'],
  bundle: true,
  platform: 'browser',
  minify: true,
  format: 'esm',
  target: 'es2022',
  external: ['node:*'],
  write: false,
  metafile: true,
  outfile: 'bundle.js', // in memory only (write: false)
  logLevel: 'warning',
});
const js = res.outputFiles.find((o) => o.path.endsWith('.js')).contents;
const bundle = { entry: 'dist/index.js', bytes: js.length, gzip: gz(js) };

// The same without the ONNX exports: what the main bundle would be if ONNX lived behind its own entry point.
const indexSrc = fs.readFileSync(path.join(root, 'dist', 'index.js'), 'utf8');
const noOnnxSrc = indexSrc.split('\n').filter((l) => !l.includes("'./io/onnx.js'")).join('\n');
const res2 = await esbuild.build({
  absWorkingDir: root,
  stdin: { contents: noOnnxSrc, resolveDir: path.join(root, 'dist'), sourcefile: 'index-without-onnx.js' },
  bundle: true, platform: 'browser', minify: true, format: 'esm', target: 'es2022', external: ['node:*'],
  write: false, outfile: 'bundle-no-onnx.js', logLevel: 'warning',
});
const js2 = res2.outputFiles.find((o) => o.path.endsWith('.js')).contents;
const bundleNoOnnx = { entry: 'dist/index.js without its io/onnx.js exports', bytes: js2.length, gzip: gz(js2) };

// Minified bytes by part: the protobuf runtime, ONNX, Keras, training, the rest of the library.
const part = (p) => {
  if (p.includes('node_modules/')) return p.split('node_modules/')[1].split('/').slice(0, p.includes('@') ? 2 : 1).join('/');
  if (p.startsWith('dist/io/onnx')) return 'dist/io/onnx*.js (ONNX import/export + schema)';
  if (p.startsWith('dist/io/keras')) return 'dist/io/keras.js';
  if (p.startsWith('dist/train/')) return 'dist/train/ (losses, optimizers, fit)';
  if (p.startsWith('dist/io/')) return 'dist/io/ (safetensors, state dicts, model files)';
  if (p.startsWith('dist/nn/')) return 'dist/nn/ (layers, sessions)';
  if (p.startsWith('dist/runtime/')) return 'dist/runtime/ (loader, allocator)';
  return 'dist/ (other)';
};
const parts = {};
for (const o of Object.values(res.metafile.outputs)) {
  for (const [p, v] of Object.entries(o.inputs)) parts[part(p)] = (parts[part(p)] ?? 0) + v.bytesInOutput;
}
const byPart = Object.entries(parts).sort((a, b) => b[1] - a[1]).map(([name, bytes]) => ({ part: name, bytes }));

// The shipped builds (scripts/build-bundles.mjs): for each entry of bundles/browser and bundles/edge, the entry
// file plus the shared chunks it imports (what a page or worker loads), raw and gzipped file by file.
const builds = [];
for (const target of ['browser', 'edge']) {
  const dir = path.join(root, 'bundles', target);
  if (!fs.existsSync(path.join(dir, 'meta.json'))) {
    console.error(`bundles/${target} is missing: run \`npm run build\` (or \`npm run build:bundles\`) first`);
    process.exit(1);
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const rel = (f) => path.relative(root, path.resolve(root, f));
  const outputs = Object.fromEntries(Object.entries(meta.outputs).map(([f, o]) => [rel(f), o]));
  for (const entry of ['rnn-wasm', 'analysis', 'classical']) {
    const files = new Set();
    const visit = (f) => {
      if (files.has(f)) return;
      files.add(f);
      for (const i of outputs[f].imports) if (i.kind === 'import-statement') visit(rel(i.path));
    };
    visit(`bundles/${target}/${entry}.mjs`);
    let bytes = 0, gzip = 0;
    for (const f of files) {
      const b = fs.readFileSync(path.join(root, f));
      bytes += b.length;
      gzip += gz(b);
    }
    builds.push({ build: target, entry: `bundles/${target}/${entry}.mjs`, files: files.size, bytes, gzip });
  }
}

const biggest = wasm.reduce((a, b) => (b.gzip > a.gzip ? b : a));
const browserMain = builds.find((b) => b.entry === 'bundles/browser/rnn-wasm.mjs');
const engine = { bundle: browserMain.entry, bundleGzip: browserMain.gzip, wasm: biggest.file, wasmGzip: biggest.gzip,
  gzip: browserMain.gzip + biggest.gzip };
const maxWasm = Math.max(...wasm.map((w) => w.bytes));
const targets = [
  { what: '.wasm (raw, each build)', value: maxWasm, goal: WASM_GOAL, ok: maxWasm < WASM_GOAL },
  { what: 'whole engine (bundle + one .wasm, gzipped)', value: engine.gzip, goal: ENGINE_GOAL, ok: engine.gzip < ENGINE_GOAL },
];

console.log('\n== bench/size ==');
for (const w of wasm) console.log(`  ${w.file.padEnd(24)} ${kb(w.bytes).padStart(9)} raw  ${kb(w.gzip).padStart(9)} gzipped`);
console.log(`  ${'bundle of dist/index.js'.padEnd(24)} ${kb(bundle.bytes).padStart(9)} raw  ${kb(bundle.gzip).padStart(9)} gzipped` +
  '  (esbuild: browser, minified, esm, es2022)');
console.log(`  ${'... without ONNX exports'.padEnd(24)} ${kb(bundleNoOnnx.bytes).padStart(9)} raw  ${kb(bundleNoOnnx.gzip).padStart(9)} gzipped` +
  '  (what an rnn-wasm/onnx entry would take out of the main bundle)');
console.log('  shipped builds (entry + the chunks it imports):');
for (const b of builds) console.log(`    ${b.entry.padEnd(34)} ${kb(b.bytes).padStart(9)} raw  ${kb(b.gzip).padStart(9)} gzipped  (${b.files} files)`);
console.log(`  whole engine: ${kb(browserMain.gzip)} (${browserMain.entry}) + ${kb(biggest.gzip)} (${biggest.file}) = ${kb(engine.gzip)} gzipped`);
console.log('  bundle by part (minified bytes):');
for (const p of byPart) console.log(`    ${kb(p.bytes).padStart(9)}  ${(100 * p.bytes / bundle.bytes).toFixed(0).padStart(3)}%  ${p.part}`);
console.log('\ntargets (.wasm < 100 KB; whole engine < 150 KB gzipped)');
for (const t of targets) console.log(`  ${t.ok ? 'ok  ' : 'MISS'} ${t.what}: ${kb(t.value)} (goal < ${kb(t.goal)})`);

if (!process.argv.includes('--no-write')) {
  const out = {
    date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown',
    esbuild: esbuild.version, gzip: 'zlib level 9', unit: 'bytes (1 KB = 1024 bytes)',
    wasm, builds, bundle, bundleNoOnnx, byPart, engine, targets,
  };
  fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench', 'results', 'size.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results/size.json');
}
